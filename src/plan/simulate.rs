//! Proof by simulation (`plan-deltas --evaluate`): the scenario simulated twice from
//! tick 0, once as written and once with the plan's deltas activated at the planning
//! time T (R28, in the catalog of that moment), and the figures a planner weighs
//! compared side by side.
//!
//! Both runs share every random draw (they are pure functions of seed, device and tick),
//! so up to T they are identical and any difference after is the plan's doing.

use crate::engine::{Engine, TickLog};
use crate::scenario::{Scenario, ScenarioError};

use super::{planned_catalog, Candidate, Target};

/// The headline figures of one simulated run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunFigures {
    /// Payload bytes sent, retries and partial downloads included.
    pub bytes: u64,
    /// Egress cost: bytes × compression ratio / 10⁹ × price per GB.
    pub cost: f64,
    /// The largest egress of one tick.
    pub peak_bytes_per_tick: u64,
    /// The first tick at the end of which at least 95 % of the present devices were at
    /// their final version (R24: offered nothing more); `None` if never, or if the
    /// fleet's classes were too many to track.
    pub ticks_to_95_percent: Option<u64>,
}

/// Without and with the plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// The scenario as written.
    pub without: RunFigures,
    /// With the plan activated at T.
    pub with: RunFigures,
}

/// Simulates `scenario` over its whole duration without and with `plan` (deltas into
/// `target`) activated at tick `at`.
pub fn evaluate(
    scenario: &Scenario,
    at: u64,
    target: &Target,
    plan: &[&Candidate],
) -> Result<Evaluation, ScenarioError> {
    let end = scenario.duration_ticks;
    let mut without = Engine::new(scenario, true);
    without
        .advance_to(end, |_| {})
        .map_err(|e| scenario.event_error(e))?;
    let (_, series) = without.finish();
    let without = figures(scenario, &series);

    let mut with = Engine::new(scenario, true);
    with.advance_to(at.min(end), |_| {})
        .map_err(|e| scenario.event_error(e))?;
    let (planned, _) = planned_catalog(&with.state().catalog, target, plan);
    with.extend_catalog(planned);
    with.advance_to(end, |_| {})
        .map_err(|e| scenario.event_error(e))?;
    let (_, series) = with.finish();
    Ok(Evaluation {
        without,
        with: figures(scenario, &series),
    })
}

fn figures(scenario: &Scenario, series: &TickLog) -> RunFigures {
    let per_rule = series.bytes_by_rule();
    let per_tick: Vec<u64> = (0..series.len())
        .map(|t| per_rule.iter().map(|b| b[t]).sum())
        .collect();
    let bytes: u64 = per_tick.iter().sum();
    let costs = scenario.costs;
    let ticks_to_95_percent = series.at_final().and_then(|at_final| {
        let ticks = series.ticks();
        (0..series.len()).find_map(|t| {
            let present: u64 = ticks[t].versions.iter().map(|c| c.2).sum();
            let settled: u64 = at_final[t].iter().sum();
            (u128::from(settled) * 100 >= 95 * u128::from(present)).then_some(t as u64)
        })
    });
    RunFigures {
        bytes,
        cost: bytes as f64 * costs.compression_ratio / 1e9 * costs.price_per_gb,
        peak_bytes_per_tick: per_tick.iter().copied().max().unwrap_or(0),
        ticks_to_95_percent,
    }
}
