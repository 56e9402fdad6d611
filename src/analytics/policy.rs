//! The policy log as a table (R40), and the policy figures of `summary.json`: blast
//! radius per activation and reach.

use polars::prelude::{DataFrame, PolarsResult};
use serde::Serialize;

use super::col;
use crate::catalog::Catalog;
use crate::engine::TickLog;
use crate::policy::{LogRow, Runtime};
use crate::scenario::Scenario;
use crate::timeline::State;

/// `policy`: columns `tick, cohort, release, action, percent, attempts, failures`;
/// `percent` is the rollout percentage a step set or in force when a gate fired,
/// `attempts`/`failures` a gate's counts when it fired (empty otherwise).
pub fn policy_table(catalog: &Catalog, log: &[LogRow]) -> PolarsResult<DataFrame> {
    let percent = |r: &LogRow| {
        r.percent.map(|p| {
            p.to_string()
                .parse::<f64>()
                .expect("a percentage is a decimal")
        })
    };
    DataFrame::new_infer_height(vec![
        col("tick", log.iter().map(|r| r.tick).collect::<Vec<u64>>()),
        col(
            "cohort",
            log.iter()
                .map(|r| catalog.cohort(r.cohort).name.clone())
                .collect::<Vec<String>>(),
        ),
        col(
            "release",
            log.iter()
                .map(|r| catalog.release_name(r.release))
                .collect::<Vec<String>>(),
        ),
        col(
            "action",
            log.iter().map(|r| r.action.name()).collect::<Vec<&str>>(),
        ),
        col(
            "percent",
            log.iter().map(percent).collect::<Vec<Option<f64>>>(),
        ),
        col(
            "attempts",
            log.iter().map(|r| r.attempts).collect::<Vec<Option<u64>>>(),
        ),
        col(
            "failures",
            log.iter().map(|r| r.failures).collect::<Vec<Option<u64>>>(),
        ),
    ])
}

/// One activation policy's blast radius (`summary.json` `policy.releases`).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct BlastRadius {
    /// The release.
    pub release: String,
    /// The cohort of the activation.
    pub cohort: String,
    /// The tick at whose end its gate fired (`null`: it did not).
    pub gate_fired_tick: Option<u64>,
    /// `pause` or `abort` when the gate fired.
    pub gate_action: Option<String>,
    /// Devices that attempted the install up to the gate's tick (over the whole run if
    /// it did not fire).
    pub devices_attempted: u64,
    /// Devices among them with a failed install by then.
    pub devices_failed: u64,
    /// Install attempts (retries included) up to the gate's tick.
    pub attempts: u64,
    /// Failed install attempts up to the gate's tick.
    pub failures: u64,
    /// Install attempts over the whole run (downloads under way when the gate fired
    /// included).
    pub attempts_total: u64,
    /// Failed install attempts over the whole run.
    pub failures_total: u64,
}

/// Policy figures of a run (`summary.json` `policy`, present only for scenarios with
/// policies).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct PolicySummary {
    /// Per activation with a policy, in file order.
    pub releases: Vec<BlastRadius>,
    /// The first tick at which 50 % of the devices present at the end were at their
    /// final version: the version they end the run on, if the resolver offers them
    /// nothing more at the end (R24). A device is on a version from the tick it reports
    /// it; devices that never change count from tick 0, arrivals from their arrival; a
    /// device still offered an update at the end never counts (`null`: never).
    pub ticks_to_50_percent: Option<u64>,
    /// The same for 95 %.
    pub ticks_to_95_percent: Option<u64>,
    /// The same for 99 %.
    pub ticks_to_99_percent: Option<u64>,
    /// `ticks_to_50_percent` in hours.
    pub hours_to_50_percent: Option<f64>,
    /// `ticks_to_95_percent` in hours.
    pub hours_to_95_percent: Option<f64>,
    /// `ticks_to_99_percent` in hours.
    pub hours_to_99_percent: Option<f64>,
    /// The largest egress of one tick.
    pub peak_bytes_per_tick: u64,
    /// Polls held back by a cap or a window (R38, R39).
    pub downloads_deferred: u64,
    /// Those held back by a cap (R38).
    pub deferred_by_cap: u64,
    /// Those held back by a window (R39).
    pub deferred_by_window: u64,
    /// Ticks in which a cap held at least one download back.
    pub ticks_held_by_cap: u64,
    /// The same in hours.
    pub hours_held_by_cap: f64,
    /// The last tick in which a cap held a download back.
    pub last_tick_held_by_cap: Option<u64>,
}

/// The policy figures of a finished run: blast radius per activation policy and reach.
pub fn policy_summary(
    scenario: &Scenario,
    end: &State,
    series: &TickLog,
    runtime: &Runtime,
    peak_bytes_per_tick: u64,
) -> PolicySummary {
    let catalog = &end.catalog;
    let ticks = series.ticks();
    let n = ticks.len() as u64;
    let hours = |t: Option<u64>| t.map(|t| (t * scenario.tick_seconds) as f64 / 3600.0);
    let releases = runtime
        .outcomes(n)
        .iter()
        .map(|o| BlastRadius {
            release: catalog.release_name(o.release),
            cohort: catalog.cohort(o.cohort).name.clone(),
            gate_fired_tick: o.fired,
            gate_action: o.fired.and(o.action).map(|a| a.name().to_string()),
            devices_attempted: o.devices_before_gate,
            devices_failed: o.devices_failed_before_gate,
            attempts: o.attempts_before_gate,
            failures: o.failures_before_gate,
            attempts_total: o.attempts,
            failures_total: o.failures,
        })
        .collect();
    let reach = runtime.reach(end, &[50, 95, 99]);
    let deferred: u64 = ticks.iter().map(|r| r.counters.downloads_deferred).sum();
    let by_cap: u64 = ticks.iter().map(|r| r.counters.deferred_by_cap).sum();
    let held: Vec<u64> = (0..n)
        .filter(|&t| ticks[t as usize].counters.deferred_by_cap > 0)
        .collect();
    PolicySummary {
        releases,
        ticks_to_50_percent: reach[0],
        ticks_to_95_percent: reach[1],
        ticks_to_99_percent: reach[2],
        hours_to_50_percent: hours(reach[0]),
        hours_to_95_percent: hours(reach[1]),
        hours_to_99_percent: hours(reach[2]),
        peak_bytes_per_tick,
        downloads_deferred: deferred,
        deferred_by_cap: by_cap,
        deferred_by_window: deferred - by_cap,
        ticks_held_by_cap: held.len() as u64,
        hours_held_by_cap: (held.len() as u64 * scenario.tick_seconds) as f64 / 3600.0,
        last_tick_held_by_cap: held.last().copied(),
    }
}

/// The policy rows of the report's summary table: blast radius per activation policy,
/// reach and deferrals.
pub(crate) fn report_rows(p: &PolicySummary) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = p
        .releases
        .iter()
        .map(|r| {
            let gate = match (&r.gate_action, r.gate_fired_tick) {
                (Some(a), Some(t)) => format!("{a} at tick {t}"),
                _ => "no gate fired".to_string(),
            };
            (
                format!("Blast radius of {} in {}", r.release, r.cohort),
                format!(
                    "{gate}: {} devices tried it, {} failed",
                    r.devices_attempted, r.devices_failed
                ),
            )
        })
        .collect();
    let h = |x: Option<f64>| x.map_or("never".to_string(), |h| format!("{h} h"));
    rows.push((
        "Fleet at its final version: 50 / 95 / 99 %".into(),
        format!(
            "{} / {} / {}",
            h(p.hours_to_50_percent),
            h(p.hours_to_95_percent),
            h(p.hours_to_99_percent)
        ),
    ));
    rows.push((
        "Polls deferred (caps / windows)".into(),
        format!(
            "{} ({} / {})",
            p.downloads_deferred, p.deferred_by_cap, p.deferred_by_window
        ),
    ));
    rows.push((
        "Caps held downloads back".into(),
        format!("{} ticks ({} h)", p.ticks_held_by_cap, p.hours_held_by_cap),
    ));
    rows
}
