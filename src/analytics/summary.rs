//! The headline figures of a run (`summary.json` and the terminal summary).

use serde::Serialize;

use crate::engine::{Counters, Reached, TickLog, REACH_PERCENTS, UPDATE_RULES};
use crate::scenario::Scenario;
use crate::timeline::State;

use super::Timing;

/// Bytes and money.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct BandwidthSummary {
    /// Payload bytes actually sent, retries and partial downloads included.
    pub bytes_total: u64,
    /// The same by rule (`delta`, `full`, …).
    pub bytes_by_rule: std::collections::BTreeMap<String, u64>,
    /// The largest egress of one tick.
    pub peak_bytes_per_tick: u64,
    /// That peak as a rate: bits per second over the tick, in Gbit/s (10⁹ bits).
    pub peak_gbit_per_s: f64,
    /// Egress per day (86,400 s from the start; a tick longer than a day counts in the
    /// day it starts).
    pub bytes_per_day: Vec<u64>,
    /// The largest of those.
    pub peak_bytes_per_day: u64,
    /// The tick of that peak.
    pub peak_tick: u64,
    /// The 95th percentile of egress per tick (nearest rank, over all ticks).
    pub p95_bytes_per_tick: u64,
    /// What would have been sent had every Delta download been its To version's Full
    /// payload (same fraction fetched).
    pub full_counterfactual_bytes: u64,
    /// `full_counterfactual_bytes - bytes_total`.
    pub delta_savings_bytes: u64,
    /// Savings as a percentage of the counterfactual.
    pub delta_savings_percent: f64,
    /// Bytes on the wire after transfer compression.
    pub wire_bytes: u64,
    /// Price of one GB (10⁹ bytes) of egress.
    pub price_per_gb: f64,
    /// Wire bytes per payload byte.
    pub compression_ratio: f64,
    /// `wire_bytes / 10⁹ × price_per_gb`.
    pub cost: f64,
    /// The cost the counterfactual would have had.
    pub full_counterfactual_cost: f64,
}

/// Everything a planner reads first.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Summary {
    /// The scenario file.
    pub scenario: String,
    /// Its seed (R22).
    pub seed: u64,
    /// Seconds per tick.
    pub tick_seconds: u64,
    /// Ticks simulated.
    pub ticks: u64,
    /// Devices present at the start.
    pub devices_start: u64,
    /// Devices present at the end.
    pub devices_end: u64,
    /// Devices that arrived.
    pub arrived: u64,
    /// Devices that retired.
    pub retired: u64,
    /// Polls that reached the platform.
    pub polls: u64,
    /// Polls missed (device offline).
    pub missed_polls: u64,
    /// Updates offered, by rule.
    pub offered: std::collections::BTreeMap<String, u64>,
    /// Downloads started, by rule.
    pub downloads_started: std::collections::BTreeMap<String, u64>,
    /// Downloads failed, by rule.
    pub downloads_failed: std::collections::BTreeMap<String, u64>,
    /// Installs that succeeded, by rule.
    pub installs_succeeded: std::collections::BTreeMap<String, u64>,
    /// Installs that failed, by rule.
    pub installs_failed: std::collections::BTreeMap<String, u64>,
    /// Devices at their final version (R24) at the end: the server offers them nothing
    /// under the catalog of that moment (an unstaged device counts), so this is not
    /// adoption; `reach` is. `None` when the fleet's classes were too many to track.
    pub at_final_version_end: Option<u64>,
    /// The same as a percentage of present devices.
    pub at_final_version_percent: Option<f64>,
    /// Time to reach per version and per release; absent when not tracked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reach: Option<ReachSummary>,
    /// Bandwidth and cost.
    pub bandwidth: BandwidthSummary,
    /// Wall-clock seconds of the simulation.
    pub wall_seconds: f64,
    /// Worker threads.
    pub threads: usize,
    /// Device-ticks simulated per second of wall time.
    pub device_ticks_per_second: f64,
    /// Polls simulated per second of wall time.
    pub polls_per_second: f64,
    /// Blast radius and reach, for scenarios with rollout policies (R35–R40); absent
    /// otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<super::PolicySummary>,
}

fn by_rule(
    pick: impl Fn(&Counters) -> [u64; 5],
    total: &Counters,
) -> std::collections::BTreeMap<String, u64> {
    let v = pick(total);
    UPDATE_RULES
        .iter()
        .map(|r| (r.name().to_string(), v[*r as usize]))
        .collect()
}

impl Summary {
    /// Computes the summary from a finished run.
    pub fn build(
        scenario: &Scenario,
        end: &State,
        series: &TickLog,
        bytes_total: &[u64],
        devices: &[u64],
        at_final: Option<&[u64]>,
        timing: Timing,
    ) -> Summary {
        let mut total = Counters::default();
        for r in series.ticks() {
            total.add(&r.counters);
        }
        let bytes_by_rule = series.bytes_by_rule();
        let sum: u64 = bytes_total.iter().sum();
        let (peak_tick, peak) = peak_of(bytes_total);
        let p95 = percentile(bytes_total, 95);
        let per_day = bytes_per_day(bytes_total, scenario.tick_seconds);
        let counterfactual: u64 = series
            .release_totals()
            .iter()
            .map(|t| t.full_equivalent_bytes)
            .sum();
        let savings = counterfactual.saturating_sub(sum);
        let costs = scenario.costs;
        let wire = (sum as f64 * costs.compression_ratio).round() as u64;
        let gb = |bytes: f64| bytes / 1e9 * costs.price_per_gb;
        let ticks = series.len() as u64;
        let device_ticks: u64 = devices.iter().sum();
        let per_second = |x: f64| {
            if timing.wall_seconds > 0.0 {
                x / timing.wall_seconds
            } else {
                0.0
            }
        };
        let devices_end = end.fleet.present().count() as u64;
        let at_final_end = at_final.and_then(|c| c.last().copied());
        Summary {
            scenario: scenario.path.display().to_string(),
            seed: scenario.seed,
            tick_seconds: scenario.tick_seconds,
            ticks,
            devices_start: scenario.devices_start,
            devices_end,
            arrived: total.arrived,
            retired: total.retired,
            polls: total.polls,
            missed_polls: total.missed_polls,
            offered: by_rule(|c| c.offered, &total),
            downloads_started: by_rule(|c| c.downloads_started, &total),
            downloads_failed: by_rule(|c| c.downloads_failed, &total),
            installs_succeeded: by_rule(|c| c.installs_succeeded, &total),
            installs_failed: by_rule(|c| c.installs_failed, &total),
            at_final_version_end: at_final_end,
            reach: series.reach().map(|r| ReachSummary::new(&end.catalog, r)),
            at_final_version_percent: at_final_end.map(|c| {
                if devices_end == 0 {
                    0.0
                } else {
                    c as f64 * 100.0 / devices_end as f64
                }
            }),
            bandwidth: BandwidthSummary {
                bytes_total: sum,
                bytes_by_rule: UPDATE_RULES
                    .iter()
                    .map(|r| {
                        (
                            r.name().to_string(),
                            bytes_by_rule[*r as usize].iter().sum(),
                        )
                    })
                    .collect(),
                peak_bytes_per_tick: peak,
                peak_gbit_per_s: peak as f64 * 8.0 / 1e9 / scenario.tick_seconds.max(1) as f64,
                peak_bytes_per_day: per_day.iter().copied().max().unwrap_or(0),
                bytes_per_day: per_day,
                peak_tick,
                p95_bytes_per_tick: p95,
                full_counterfactual_bytes: counterfactual,
                delta_savings_bytes: savings,
                delta_savings_percent: if counterfactual == 0 {
                    0.0
                } else {
                    savings as f64 * 100.0 / counterfactual as f64
                },
                wire_bytes: wire,
                price_per_gb: costs.price_per_gb,
                compression_ratio: costs.compression_ratio,
                cost: gb(wire as f64),
                full_counterfactual_cost: gb(counterfactual as f64 * costs.compression_ratio),
            },
            wall_seconds: timing.wall_seconds,
            threads: timing.threads,
            device_ticks_per_second: per_second(device_ticks as f64),
            polls_per_second: per_second(total.polls as f64),
            policy: None,
        }
    }
}

/// Time to reach (see `engine::reach`): how long until 50, 90, 95 and 99 % of the
/// present devices that can get a version (or a release's version, in the cohorts it
/// is activated in) had installed it and had reported it.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ReachSummary {
    /// The thresholds, in percent, in the order of every `*_at_tick` list.
    pub percents: Vec<u64>,
    /// Per version that some device could get at some tick, in catalog order.
    pub versions: Vec<ReachRow>,
    /// Per release that was activated at some tick, in catalog order.
    pub releases: Vec<ReachRow>,
}

/// One version's or release's reach.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ReachRow {
    /// The release's name (`null` on a version's row).
    pub release: Option<String>,
    /// The version (a release's To version).
    pub version: String,
    /// The first tick at which some present device could get it (for a release: some
    /// device in a cohort it was activated in).
    pub first_tick: u64,
    /// Present devices that could get it at the end.
    pub can_get: u64,
    /// Of those, devices that had installed it at the end.
    pub installed: u64,
    /// Of those, devices that had reported it at the end.
    pub reported: u64,
    /// Per percent: the first tick at which that share had installed it (`null`:
    /// never during the run).
    pub installed_at_tick: Vec<Option<u64>>,
    /// The same for reported.
    pub reported_at_tick: Vec<Option<u64>>,
}

impl ReachSummary {
    fn new(catalog: &crate::catalog::Catalog, reach: &crate::engine::Reach) -> ReachSummary {
        let row = |release: Option<String>, version: crate::ids::VersionId, r: &Reached| ReachRow {
            release,
            version: catalog.version(version).to_string(),
            first_tick: r.first_tick.unwrap_or(0),
            can_get: r.can_get,
            installed: r.installed,
            reported: r.reported,
            installed_at_tick: r.installed_at.to_vec(),
            reported_at_tick: r.reported_at.to_vec(),
        };
        ReachSummary {
            percents: REACH_PERCENTS.to_vec(),
            versions: reach
                .versions
                .iter()
                .enumerate()
                .filter(|(_, r)| r.first_tick.is_some())
                .map(|(v, r)| row(None, crate::ids::VersionId(v as u32), r))
                .collect(),
            releases: catalog
                .releases()
                .filter_map(|(id, release)| {
                    let r = reach.releases.get(id.index())?;
                    r.first_tick
                        .is_some()
                        .then(|| row(Some(catalog.release_name(id)), release.target(), r))
                })
                .collect(),
        }
    }
}

/// The largest value of a per-tick series and its tick, the first on a tie; (0, 0) for
/// an empty one.
pub(super) fn peak_of(per_tick: &[u64]) -> (u64, u64) {
    per_tick
        .iter()
        .enumerate()
        .max_by_key(|&(t, &b)| (b, std::cmp::Reverse(t)))
        .map_or((0, 0), |(t, &b)| (t as u64, b))
}

/// Bytes per day from bytes per tick.
fn bytes_per_day(per_tick: &[u64], tick_seconds: u64) -> Vec<u64> {
    let mut days: Vec<u64> = Vec::new();
    for (t, &b) in per_tick.iter().enumerate() {
        let day = (t as u64 * tick_seconds / 86_400) as usize;
        if days.len() <= day {
            days.resize(day + 1, 0);
        }
        days[day] += b;
    }
    days
}

/// Nearest-rank percentile of `values` (0 for none).
pub fn percentile(values: &[u64], p: u32) -> u64 {
    if values.is_empty() {
        return 0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = (p as usize * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::{bytes_per_day, percentile};

    #[test]
    fn egress_per_day() {
        // Hourly ticks: 30 ticks span day 0 (ticks 0..24) and day 1.
        let per_tick: Vec<u64> = (0..30).map(|_| 10).collect();
        assert_eq!(bytes_per_day(&per_tick, 3600), [240, 60]);
        // Two-day ticks: each lands in the day it starts.
        assert_eq!(bytes_per_day(&[5, 7], 172_800), [5, 0, 7]);
        assert!(bytes_per_day(&[], 60).is_empty());
    }

    #[test]
    fn nearest_rank() {
        assert_eq!(percentile(&[], 95), 0);
        assert_eq!(percentile(&[5], 95), 5);
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 95), 95);
        assert_eq!(percentile(&v, 100), 100);
    }
}
