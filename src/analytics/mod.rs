//! What a run leaves behind, as tables a planner loads into a notebook: version-matrix
//! snapshots, per-tick series, devices per version, bandwidth per release, and a summary.
//!
//! Tables are polars `DataFrame`s; writing them is `table_out`'s job, drawing them is
//! `charts`'.

mod figures;
mod policy;
mod report_tables;
mod summary;
mod sweep;

pub use figures::{figures, heat, Figures};
pub use policy::{policy_summary, policy_table, BlastRadius, PolicySummary};
pub use report_tables::bit_rate;
pub use summary::{BandwidthSummary, ReachRow, ReachSummary, Summary};
pub use sweep::{sweep_table, SweepRow};

use polars::prelude::{Column, DataFrame, NamedFrom, PolarsResult, Series as PlSeries};

use crate::catalog::{Catalog, ReleaseKind};
use crate::engine::{TickLog, UPDATE_RULES};
use crate::matrix::{DetailedRow, Final};
use crate::scenario::time::format_duration;
use crate::scenario::Scenario;
use crate::timeline::State;

/// The version matrix of every cohort at one tick (spec §6), split by staged flag and
/// release.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// The tick (the state at that tick, spec §8).
    pub tick: u64,
    /// Asked for by name (the scenario's `snapshots`, or the end of the run) rather than
    /// produced by `--snapshot-every`: its heat map is always drawn.
    pub requested: bool,
    /// The rows.
    pub rows: Vec<DetailedRow>,
}

/// How the run went, measured by the caller.
#[derive(Copy, Clone, Debug, Default)]
pub struct Timing {
    /// Wall-clock seconds of the simulation.
    pub wall_seconds: f64,
    /// Worker threads used.
    pub threads: usize,
}

/// Every table of a run.
pub struct RunTables {
    /// `matrix`: one row per (snapshot, cohort, current, next, rule, final, staged,
    /// release).
    pub matrix: DataFrame,
    /// `series`: one row per tick.
    pub series: DataFrame,
    /// `versions`: devices per (tick, cohort, version), non-zero only.
    pub versions: DataFrame,
    /// `bandwidth`: one row per release that sent bytes.
    pub bandwidth: DataFrame,
    /// `egress`: bytes per (tick, release), non-zero only.
    pub egress: DataFrame,
    /// The headline figures.
    pub summary: Summary,
}

fn col<T, P: ?Sized>(name: &str, values: T) -> Column
where
    PlSeries: NamedFrom<T, P>,
{
    Column::from(<PlSeries as NamedFrom<T, P>>::new(name.into(), values))
}

/// A version's text, or `cycle`.
fn final_text(catalog: &Catalog, f: Final) -> String {
    match f {
        Final::Version(v) => catalog.version(v).to_string(),
        Final::Cycle => "cycle".to_string(),
    }
}

/// A tick as a duration since the start (`36h`, `2d`); zero in the tick's own unit
/// (`0h` for hourly ticks, `0s` for 10-second ticks).
pub fn time_label(tick: u64, tick_seconds: u64) -> String {
    if tick == 0 {
        let unit = format_duration(tick_seconds);
        format!("0{}", unit.trim_start_matches(|c: char| c.is_ascii_digit()))
    } else {
        format_duration(tick * tick_seconds)
    }
}

/// The long matrix table across snapshots.
pub fn matrix_table(
    catalog: &Catalog,
    tick_seconds: u64,
    snapshots: &[Snapshot],
) -> PolarsResult<DataFrame> {
    let mut tick = Vec::new();
    let mut time = Vec::new();
    let mut cohort = Vec::new();
    let mut software_type = Vec::new();
    let mut current = Vec::new();
    let mut next = Vec::new();
    let mut rule = Vec::new();
    let mut release: Vec<Option<String>> = Vec::new();
    let mut staged = Vec::new();
    let mut devices = Vec::new();
    let mut final_version = Vec::new();
    for s in snapshots {
        for d in &s.rows {
            let r = &d.row;
            tick.push(s.tick);
            time.push(time_label(s.tick, tick_seconds));
            cohort.push(catalog.cohort(r.cohort).name.clone());
            software_type.push(catalog.software_type(r.software_type).name.clone());
            current.push(catalog.version(r.current).to_string());
            next.push(catalog.version(r.next).to_string());
            rule.push(r.rule.name());
            release.push(d.release.map(|id| catalog.release_name(id)));
            staged.push(d.staged);
            devices.push(r.devices);
            final_version.push(final_text(catalog, r.final_version));
        }
    }
    DataFrame::new_infer_height(vec![
        col("tick", tick),
        col("time", time),
        col("cohort", cohort),
        col("software_type", software_type),
        col("current_version", current),
        col("next_version", next),
        col("rule", rule),
        col("release", release),
        col("staged", staged),
        col("devices", devices),
        col("final_version", final_version),
    ])
}

/// Builds every table of a finished run.
pub fn tables(
    scenario: &Scenario,
    end: &State,
    series: &TickLog,
    snapshots: &[Snapshot],
    timing: Timing,
) -> PolarsResult<RunTables> {
    let catalog = &end.catalog;
    let ticks = series.ticks();
    let n = ticks.len();
    let hours: Vec<f64> = (0..n)
        .map(|t| (t as u64 * scenario.tick_seconds) as f64 / 3600.0)
        .collect();
    let bytes_by_rule = series.bytes_by_rule();
    let bytes_total: Vec<u64> = (0..n)
        .map(|t| bytes_by_rule.iter().map(|b| b[t]).sum())
        .collect();
    let devices: Vec<u64> = ticks
        .iter()
        .map(|r| r.versions.iter().map(|c| c.2).sum())
        .collect();

    let mut cols = vec![
        col("tick", (0..n as u64).collect::<Vec<u64>>()),
        col("hours", hours),
        col("devices", devices.clone()),
        col(
            "polls",
            ticks.iter().map(|r| r.counters.polls).collect::<Vec<_>>(),
        ),
        col(
            "missed_polls",
            ticks
                .iter()
                .map(|r| r.counters.missed_polls)
                .collect::<Vec<_>>(),
        ),
        col(
            "reports",
            ticks.iter().map(|r| r.counters.reports).collect::<Vec<_>>(),
        ),
    ];
    type Pick = fn(&crate::engine::Counters) -> &[u64; 5];
    let kinds: [(&str, Pick); 6] = [
        ("offered", |c| &c.offered),
        ("downloads_started", |c| &c.downloads_started),
        ("downloads_completed", |c| &c.downloads_completed),
        ("downloads_failed", |c| &c.downloads_failed),
        ("installs_succeeded", |c| &c.installs_succeeded),
        ("installs_failed", |c| &c.installs_failed),
    ];
    for (kind, pick) in kinds {
        for rule in UPDATE_RULES {
            let v: Vec<u64> = ticks
                .iter()
                .map(|r| pick(&r.counters)[rule as usize])
                .collect();
            cols.push(col(&format!("{kind}_{}", rule.name()), v));
        }
    }
    for rule in UPDATE_RULES {
        cols.push(col(
            &format!("bytes_{}", rule.name()),
            bytes_by_rule[rule as usize].clone(),
        ));
    }
    cols.push(col("bytes_total", bytes_total.clone()));
    // Devices the server offers nothing at that tick (at their R24 final version under
    // that tick's catalog): not adoption, which `versions` and the summary's reach give.
    let at_final: Option<Vec<u64>> = series
        .at_final()
        .map(|c| c.iter().map(|per| per.iter().sum()).collect());
    cols.push(col(
        "at_final_version",
        at_final
            .clone()
            .map(|v| v.into_iter().map(Some).collect::<Vec<_>>())
            .unwrap_or_else(|| vec![None; n]),
    ));
    cols.push(col(
        "arrived",
        ticks.iter().map(|r| r.counters.arrived).collect::<Vec<_>>(),
    ));
    cols.push(col(
        "retired",
        ticks.iter().map(|r| r.counters.retired).collect::<Vec<_>>(),
    ));
    // R40: every run has it (zero without caps or windows), so scripts can rely on it.
    cols.push(col(
        "downloads_deferred",
        ticks
            .iter()
            .map(|r| r.counters.downloads_deferred)
            .collect::<Vec<_>>(),
    ));
    let series_df = DataFrame::new_infer_height(cols)?;

    // Devices per (tick, cohort, version).
    let (mut vt, mut vc, mut vs, mut vv, mut vd) = (vec![], vec![], vec![], vec![], vec![]);
    for (t, r) in ticks.iter().enumerate() {
        for &(cohort, version, count) in &r.versions {
            vt.push(t as u64);
            vc.push(catalog.cohort(cohort).name.clone());
            vs.push(
                catalog
                    .software_type(catalog.version_software_type(version))
                    .name
                    .clone(),
            );
            vv.push(catalog.version(version).to_string());
            vd.push(count);
        }
    }
    let versions = DataFrame::new_infer_height(vec![
        col("tick", vt),
        col("cohort", vc),
        col("software_type", vs),
        col("version", vv),
        col("devices", vd),
    ])?;

    // Per release.
    let totals = series.release_totals();
    let by_release = series.bytes_by_release();
    let (mut name, mut kind, mut st, mut target) = (vec![], vec![], vec![], vec![]);
    let mut fields: [Vec<u64>; 8] = Default::default();
    let (mut et, mut er, mut eb) = (vec![], vec![], vec![]);
    for (id, release) in catalog.releases() {
        let tot = totals[id.index()];
        if tot.downloads_started == 0 {
            continue;
        }
        name.push(catalog.release_name(id));
        kind.push(match release.kind {
            ReleaseKind::Full {
                must_pass_through: true,
                ..
            } => "must_pass_through",
            ReleaseKind::Full { .. } => "full",
            ReleaseKind::Delta { .. } => "delta",
        });
        st.push(catalog.software_type(release.software_type).name.clone());
        target.push(catalog.version(release.target()).to_string());
        let vals = [
            tot.downloads_started,
            tot.downloads_completed,
            tot.downloads_failed,
            tot.installs_succeeded,
            tot.installs_failed,
            tot.bytes,
            tot.full_equivalent_bytes,
            tot.full_equivalent_bytes.saturating_sub(tot.bytes),
        ];
        for (f, v) in fields.iter_mut().zip(vals) {
            f.push(v);
        }
        for (t, &b) in by_release[id.index()].iter().enumerate() {
            if b > 0 {
                et.push(t as u64);
                er.push(catalog.release_name(id));
                eb.push(b);
            }
        }
    }
    let names = [
        "downloads_started",
        "downloads_completed",
        "downloads_failed",
        "installs_succeeded",
        "installs_failed",
        "bytes",
        "full_equivalent_bytes",
        "delta_savings_bytes",
    ];
    let mut bcols = vec![
        col("release", name),
        col("kind", kind),
        col("software_type", st),
        col("target_version", target),
    ];
    for (n, f) in names.iter().zip(fields) {
        bcols.push(col(n, f));
    }
    let bandwidth = DataFrame::new_infer_height(bcols)?;
    let egress =
        DataFrame::new_infer_height(vec![col("tick", et), col("release", er), col("bytes", eb)])?;

    let summary = Summary::build(
        scenario,
        end,
        series,
        &bytes_total,
        &devices,
        at_final.as_deref(),
        timing,
    );
    Ok(RunTables {
        matrix: matrix_table(catalog, scenario.tick_seconds, snapshots)?,
        series: series_df,
        versions,
        bandwidth,
        egress,
        summary,
    })
}
