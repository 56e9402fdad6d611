//! The charts and the HTML report of a run, from its series and snapshots.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::Catalog;
use crate::charts::{
    Chart, Figure, Line, Lines, MatrixHeat, Report, StackedSeries, TimeAxis, Unit,
};
use crate::engine::{TickLog, UPDATE_RULES};
use crate::ids::{CohortId, VersionId};
use crate::matrix::{Final, MatrixRow};
use crate::scenario::time::format_duration;
use crate::scenario::Scenario;

use super::{Snapshot, Summary};

/// Periodic snapshots (`--snapshot-every`) get heat maps up to this many maps in all,
/// evenly spaced, so a daily snapshot of a long run stays light. Requested snapshots
/// (the scenario's `snapshots` and the end) are always drawn, whatever their number.
const MAX_HEATS: usize = 12;

/// Which snapshots get a heat map: every requested one, then periodic ones evenly spaced
/// (first and last among them) while fewer than [`MAX_HEATS`] maps are picked. Returns
/// the indices and how many periodic snapshots were left out.
pub fn heat_map_picks(snapshots: &[Snapshot]) -> (BTreeSet<usize>, usize) {
    let mut picks: BTreeSet<usize> = (0..snapshots.len())
        .filter(|&i| snapshots[i].requested)
        .collect();
    let periodic: Vec<usize> = (0..snapshots.len())
        .filter(|&i| !snapshots[i].requested)
        .collect();
    let room = MAX_HEATS.saturating_sub(picks.len());
    if periodic.len() <= room {
        picks.extend(&periodic);
    } else if room == 1 {
        picks.insert(periodic[0]);
    } else if room > 1 {
        picks.extend((0..room).map(|k| periodic[k * (periodic.len() - 1) / (room - 1)]));
    }
    let left_out = snapshots.len() - picks.len();
    (picks, left_out)
}

/// Charts to write, by file stem, and the report.
pub struct Figures {
    /// `(stem, chart)`: written as `charts/<stem>.png` and `.svg`.
    pub charts: Vec<(String, Chart)>,
    /// `report.html`.
    pub report: Report,
    /// Says how many periodic snapshots were left without a heat map, if any.
    pub heat_note: Option<String>,
}

fn version_label(catalog: &Catalog, v: VersionId) -> String {
    let text = catalog.version(v).to_string();
    if catalog.software_types().len() > 1 {
        let st = catalog.version_software_type(v);
        format!("{} {text}", catalog.software_type(st).name)
    } else {
        text
    }
}

fn sorted_versions(catalog: &Catalog, set: BTreeSet<VersionId>) -> Vec<VersionId> {
    let mut v: Vec<VersionId> = set.into_iter().collect();
    v.sort_by(|a, b| {
        catalog
            .version_software_type(*a)
            .cmp(&catalog.version_software_type(*b))
            .then_with(|| catalog.version(*a).cmp_total(catalog.version(*b)))
    });
    v
}

/// A heat map of the matrix rows given (summed over cohorts if several).
pub fn heat<'a>(
    catalog: &Catalog,
    title: String,
    rows: impl Iterator<Item = &'a MatrixRow> + Clone,
) -> MatrixHeat {
    let current = sorted_versions(catalog, rows.clone().map(|r| r.current).collect());
    let next = sorted_versions(catalog, rows.clone().map(|r| r.next).collect());
    let mut cells = vec![vec![0u64; next.len()]; current.len()];
    let mut by_rule: BTreeMap<(usize, usize), BTreeMap<&'static str, u64>> = BTreeMap::new();
    let mut finals: Vec<BTreeSet<String>> = vec![BTreeSet::new(); current.len()];
    for r in rows {
        let i = current
            .iter()
            .position(|&v| v == r.current)
            .expect("row version listed");
        let j = next
            .iter()
            .position(|&v| v == r.next)
            .expect("next version listed");
        cells[i][j] += r.devices;
        *by_rule
            .entry((i, j))
            .or_default()
            .entry(r.rule.name())
            .or_default() += r.devices;
        finals[i].insert(match r.final_version {
            Final::Version(v) => catalog.version(v).to_string(),
            Final::Cycle => "cycle".to_string(),
        });
    }
    let mut cell_rules = vec![vec![None; next.len()]; current.len()];
    for ((i, j), rules) in by_rule {
        // A cell reached by several rules shows the one most of its devices took.
        cell_rules[i][j] = rules
            .into_iter()
            .max_by_key(|&(_, n)| n)
            .map(|(r, _)| r.to_string());
    }
    MatrixHeat {
        title,
        rows: current.iter().map(|&v| version_label(catalog, v)).collect(),
        cols: next.iter().map(|&v| version_label(catalog, v)).collect(),
        cells,
        cell_rules,
        row_final: finals
            .into_iter()
            .map(|f| f.into_iter().collect::<Vec<_>>().join(", "))
            .collect(),
    }
}

/// Builds the charts and the report.
pub fn figures(
    scenario: &Scenario,
    catalog: &Catalog,
    series: &TickLog,
    snapshots: &[Snapshot],
    summary: &Summary,
) -> Figures {
    let ticks = series.ticks();
    let axis = TimeAxis {
        tick_seconds: scenario.tick_seconds,
        ticks: ticks.len(),
    };
    let n = ticks.len();

    // Devices per version (all cohorts).
    let mut per_version: BTreeMap<VersionId, Vec<u64>> = BTreeMap::new();
    for (t, r) in ticks.iter().enumerate() {
        for &(_, v, c) in &r.versions {
            per_version.entry(v).or_insert_with(|| vec![0; n])[t] += c;
        }
    }
    let totals: Vec<u64> = (0..n)
        .map(|t| per_version.values().map(|v| v[t]).sum())
        .collect();
    // The versions the adoption chart follows: those a release started downloading.
    let totals_by_release = series.release_totals();
    let targets: BTreeSet<VersionId> = catalog
        .releases()
        .filter(|(id, _)| totals_by_release[id.index()].downloads_started > 0)
        .map(|(_, r)| r.target())
        .collect();
    // One colour slot per version, by precedence over every version either chart shows,
    // so a version has the same colour in the versions and the adoption charts.
    let slots: BTreeMap<VersionId, usize> = sorted_versions(
        catalog,
        per_version.keys().chain(&targets).copied().collect(),
    )
    .into_iter()
    .enumerate()
    .map(|(slot, v)| (v, slot))
    .collect();

    let versions = StackedSeries {
        title: "Fleet software versions over time".to_string(),
        y_desc: "Devices".to_string(),
        y_unit: Unit::Devices,
        axis,
        layers: sorted_versions(catalog, per_version.keys().copied().collect())
            .into_iter()
            .map(|v| {
                Line::from_counts(version_label(catalog, v), &per_version[&v]).in_colour(slots[&v])
            })
            .collect(),
    };

    let bytes = series.bytes_by_rule();
    let egress = StackedSeries {
        title: "Egress per tick by rule".to_string(),
        y_desc: format!("Bytes sent per {} tick", axis.tick_length()),
        y_unit: Unit::Bytes,
        axis,
        layers: UPDATE_RULES
            .iter()
            .filter(|r| bytes[**r as usize].iter().any(|&b| b > 0))
            .map(|r| Line::from_counts(r.name(), &bytes[*r as usize]))
            .collect(),
    };

    // Adoption: share of present devices on each version a release installs.
    let adoption = Lines {
        title: "Adoption of each release's version".to_string(),
        y_desc: "Share of the fleet".to_string(),
        y_unit: Unit::Percent,
        axis,
        lines: sorted_versions(catalog, targets)
            .into_iter()
            .map(|v| Line {
                label: version_label(catalog, v),
                values: (0..n)
                    .map(|t| {
                        let on = per_version.get(&v).map_or(0, |c| c[t]);
                        if totals[t] == 0 {
                            0.0
                        } else {
                            on as f64 * 100.0 / totals[t] as f64
                        }
                    })
                    .collect(),
                colour: Some(slots[&v]),
            })
            .collect(),
    };

    let when = |tick: u64| {
        if tick == 0 {
            "start".to_string()
        } else {
            format_duration(tick * scenario.tick_seconds)
        }
    };
    let mut charts = vec![
        ("versions".to_string(), Chart::Stacked(versions)),
        ("egress".to_string(), Chart::Stacked(egress)),
        ("adoption".to_string(), Chart::Lines(adoption)),
    ];
    let (picks, left_out) = heat_map_picks(snapshots);
    let heat_note = (left_out > 0).then(|| {
        format!(
            "{} of {} periodic snapshots have no heat map (at most {MAX_HEATS} maps, requested snapshots first); every snapshot is in the matrix table",
            left_out,
            snapshots.iter().filter(|s| !s.requested).count()
        )
    });
    for i in picks {
        let s = &snapshots[i];
        let title = format!("Version matrix, all cohorts, {}", when(s.tick));
        let h = heat(catalog, title, s.rows.iter().map(|d| &d.row));
        charts.push((format!("matrix-tick-{}", s.tick), Chart::Heat(h)));
    }

    let mut matrices = Vec::new();
    if let Some(last) = snapshots.last() {
        let cohorts: BTreeSet<CohortId> = last.rows.iter().map(|d| d.row.cohort).collect();
        let mut cohorts: Vec<CohortId> = cohorts.into_iter().collect();
        cohorts.sort_by(|a, b| catalog.cohort(*a).name.cmp(&catalog.cohort(*b).name));
        for c in cohorts {
            let title = format!("Cohort {}, {}", catalog.cohort(c).name, when(last.tick));
            matrices.push(heat(
                catalog,
                title,
                last.rows.iter().map(|d| &d.row).filter(|r| r.cohort == c),
            ));
        }
    }

    let b = &summary.bandwidth;
    let gb = super::report_tables::gb;
    let sum = |m: &BTreeMap<String, u64>| m.values().sum::<u64>();
    let n = crate::charts::group_thousands;
    let mut figs = Vec::new();
    for (stem, chart) in &charts {
        let caption = match stem.as_str() {
            "versions" => "Devices on each software version at the end of each tick.".to_string(),
            "egress" => "Payload bytes leaving the CDN per tick, by the resolver rule that sent them (retries and partial downloads included).".to_string(),
            "adoption" => "Share of present devices reporting each release's version.".to_string(),
            _ => "Devices by current version (rows) and the resolver's next version (columns).".to_string(),
        };
        figs.push(Figure {
            chart: chart.clone(),
            caption,
        });
    }
    let mut report = Report {
        title: format!("otasim run: {}", scenario.path.display()),
        subtitle: format!(
            "seed {}, {} ticks of {} ({}), {} threads",
            summary.seed,
            summary.ticks,
            format_duration(summary.tick_seconds),
            format_duration(summary.ticks * summary.tick_seconds),
            summary.threads
        ),
        summary: vec![
            (
                "Devices at start / end".into(),
                format!("{} / {}", n(summary.devices_start), n(summary.devices_end)),
            ),
            (
                "Arrived / retired".into(),
                format!("{} / {}", n(summary.arrived), n(summary.retired)),
            ),
            (
                "Polls (missed offline)".into(),
                format!("{} ({})", n(summary.polls), n(summary.missed_polls)),
            ),
            (
                "Installs succeeded / failed".into(),
                format!(
                    "{} / {}",
                    n(sum(&summary.installs_succeeded)),
                    n(sum(&summary.installs_failed))
                ),
            ),
            ("Downloads failed".into(), n(sum(&summary.downloads_failed))),
            (
                // Devices to which the server offers nothing at the end, which under a
                // staged rollout includes every unstaged device: not adoption.
                "Offered no update at the end (R24 final version now)".into(),
                match (
                    summary.at_final_version_end,
                    summary.at_final_version_percent,
                ) {
                    (Some(c), Some(p)) => format!("{} ({p:.1}%)", n(c)),
                    _ => "not tracked".into(),
                },
            ),
            ("Egress".into(), gb(b.bytes_total)),
            (
                "Peak egress per tick".into(),
                format!(
                    "{} (tick {}), {}",
                    gb(b.peak_bytes_per_tick),
                    n(b.peak_tick),
                    super::bit_rate(b.peak_bytes_per_tick, summary.tick_seconds)
                ),
            ),
            ("p95 egress per tick".into(), gb(b.p95_bytes_per_tick)),
            ("Peak egress per day".into(), gb(b.peak_bytes_per_day)),
            (
                "Had every update been Full".into(),
                gb(b.full_counterfactual_bytes),
            ),
            (
                "Saved by deltas".into(),
                format!(
                    "{} ({:.1}%)",
                    gb(b.delta_savings_bytes),
                    b.delta_savings_percent
                ),
            ),
            (
                "Cost".into(),
                format!(
                    "{:.2} at {}/GB (compression ratio {})",
                    b.cost, b.price_per_gb, b.compression_ratio
                ),
            ),
            ("Wall time".into(), format!("{:.2} s", summary.wall_seconds)),
        ],
        tables: [
            super::report_tables::reach_table(summary),
            super::report_tables::release_bandwidth_table(catalog, series, scenario.tick_seconds),
            super::report_tables::daily_egress_table(summary),
        ]
        .into_iter()
        .flatten()
        .collect(),
        figures: figs,
        matrices,
    };
    if let Some(note) = &heat_note {
        report
            .summary
            .push(("Heat maps".into(), format!("{note}.")));
    }
    if let Some(p) = &summary.policy {
        report.summary.extend(super::policy::report_rows(p));
    }
    Figures {
        charts,
        report,
        heat_note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snaps(requested: &[bool]) -> Vec<Snapshot> {
        requested
            .iter()
            .enumerate()
            .map(|(i, &requested)| Snapshot {
                tick: i as u64,
                requested,
                rows: Vec::new(),
            })
            .collect()
    }

    #[test]
    fn every_requested_snapshot_gets_a_heat_map_and_periodic_ones_fill_the_rest() {
        // 31 daily snapshots, of which days 3 and 7 and the end were requested.
        let mut flags = vec![false; 31];
        for i in [3, 7, 30] {
            flags[i] = true;
        }
        let (picks, left_out) = heat_map_picks(&snaps(&flags));
        assert_eq!(picks.len(), MAX_HEATS);
        assert!([3, 7, 30].iter().all(|i| picks.contains(i)), "{picks:?}");
        assert!(picks.contains(&0), "the first periodic snapshot is drawn");
        assert!(picks.contains(&29), "the last periodic snapshot is drawn");
        assert_eq!(left_out, 31 - MAX_HEATS);
    }

    #[test]
    fn few_snapshots_are_all_drawn() {
        let (picks, left_out) = heat_map_picks(&snaps(&[false, true, false, true]));
        assert_eq!(picks.into_iter().collect::<Vec<_>>(), [0, 1, 2, 3]);
        assert_eq!(left_out, 0);
    }

    #[test]
    fn requested_snapshots_beyond_the_budget_are_still_drawn() {
        let mut flags = vec![true; MAX_HEATS + 3];
        flags.extend([false; 5]);
        let (picks, left_out) = heat_map_picks(&snaps(&flags));
        assert_eq!(picks.len(), MAX_HEATS + 3);
        assert_eq!(left_out, 5);
    }
}
