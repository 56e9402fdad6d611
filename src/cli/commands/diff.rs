//! `otasim diff`: which devices get another answer (R33, R34). A against B, A against a
//! variant of its own resolver (R32), or A against decisions recorded elsewhere. Exit
//! status as `diff(1)`: 0 nothing differs, 1 something does, 2 an input error.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{anyhow, bail, Result};

use otasim::diff::{self, DeviceRow, Differences, Expected, Group, Other, ScenarioSide};
use otasim::resolver::fast::PackedDecision;
use otasim::scenario::table::SharedTables;
use otasim::scenario::{LoadOptions, Scenario};
use otasim::timeline::State;

use crate::cli::args::Format;
use crate::cli::diff_args::DiffArgs;
use crate::cli::output::{Cell, RowWriter};

/// The columns, exactly as R33 names them.
pub const COLUMNS: [&str; 9] = [
    "cohort",
    "software_version",
    "hardware_version",
    "rule_a",
    "target_a",
    "rule_b",
    "target_b",
    "devices",
    "example_device",
];

/// The columns of `--devices-out`.
pub const DEVICE_COLUMNS: [&str; 10] = [
    "device_id",
    "cohort",
    "software_version",
    "hardware_version",
    "rule_a",
    "release_a",
    "target_a",
    "rule_b",
    "release_b",
    "target_b",
];

/// How `--devices-out` is written.
#[derive(Copy, Clone)]
enum DevicesFormat {
    Csv,
    Parquet,
}

/// Runs the command; `Err(Differ)` when something differs.
pub fn run(args: &DiffArgs, out: &mut impl Write) -> Result<()> {
    let devices_format = match &args.devices_out {
        None => None,
        Some(path) => Some(devices_format(path)?),
    };
    if args.chart.is_some() && !args.over_time {
        bail!("--chart draws the divergence over time: it needs --over-time");
    }
    if args.other.is_none() && args.variant.is_empty() && args.expected.is_none() {
        bail!("diff needs scenario B, --variant KEY=VALUE or --expected FILE");
    }
    // A fleet table both sides import (or take with --fleet) is read once. Only a
    // scenario B reads one again: a variant shares A's fleet, a recorded table has none.
    let tables = if args.other.is_some() {
        SharedTables::new()
    } else {
        SharedTables::default()
    };
    let options = crate::cli::load_options(&args.input, tables);
    let mut a = crate::cli::load_with(&args.input, &options)?;
    if args.over_time {
        return over_time(args, a, &options, out);
    }
    let at = args
        .at
        .as_deref()
        .expect("clap requires --at without --over-time");
    let tick_a = parse_at(&a, at)?;

    // The states at T and the decisions of both sides.
    let (state_a, state_b, variant_shares_fleet);
    if let Some(path) = &args.other {
        let mut b = Scenario::load(path, &options)?;
        let tick_b = parse_at(&b, at)?;
        state_a = a.take_state_at(tick_a)?;
        state_b = Some(b.take_state_at(tick_b)?);
        variant_shares_fleet = false;
    } else if !args.variant.is_empty() {
        let variant = variant_of(&a, &args.variant)?;
        // The state at T depends on the resolver only through device behaviour: with a
        // static fleet, or at tick 0 (no device has polled yet), both sides share it.
        if a.behaviour.is_none() || tick_a == 0 {
            let state = a.take_state_at(tick_a)?;
            let mut catalog = state.catalog.clone();
            catalog.set_variant(variant);
            state_b = Some(State {
                catalog,
                fleet: otasim::fleet::Fleet::new(),
            });
            state_a = state;
            variant_shares_fleet = true;
        } else {
            let mut b = a.clone();
            b.initial.catalog.set_variant(variant);
            state_a = a.take_state_at(tick_a)?;
            state_b = Some(b.take_state_at(tick_a)?);
            variant_shares_fleet = false;
        }
    } else {
        state_a = a.take_state_at(tick_a)?;
        state_b = None;
        variant_shares_fleet = false;
    }

    let decisions_a = diff::resolve_fleet(&state_a.catalog, &state_a.fleet);
    let side_a = ScenarioSide {
        catalog: &state_a.catalog,
        fleet: &state_a.fleet,
        decisions: &decisions_a,
    };
    let expected;
    let decisions_b: Vec<PackedDecision>;
    let other = match &state_b {
        Some(b) => {
            let fleet = if variant_shares_fleet {
                &state_a.fleet
            } else {
                &b.fleet
            };
            decisions_b = diff::resolve_fleet(&b.catalog, fleet);
            Other::Scenario(ScenarioSide {
                catalog: &b.catalog,
                fleet,
                decisions: &decisions_b,
            })
        }
        None => {
            let path = args.expected.as_deref().expect("checked above");
            expected = Expected::read(path, &state_a.catalog, &state_a.fleet)?;
            Other::Table(&expected)
        }
    };
    let found = match &other {
        Other::Scenario(b) => diff::compare_scenarios(&side_a, b),
        Other::Table(t) => diff::compare_expected(&side_a, t),
    };
    let groups = diff::groups(&side_a, &other, &found);

    if let (Some(path), Some(format)) = (&args.devices_out, devices_format) {
        let rows = diff::device_rows(&side_a, &other, &found);
        write_devices(path, format, &rows)?;
    }

    let format = crate::cli::format_or_default(args.format);
    let summary = summary(&found, &groups);
    if format == Format::Table {
        writeln!(out, "{summary}")?;
        if !groups.is_empty() {
            write_groups(format, &groups, out)?;
        }
    } else {
        write_groups(format, &groups, out)?;
        if std::io::stderr().is_terminal() {
            eprintln!("{summary}");
        }
    }
    out.flush()?;
    if found.devices.is_empty() {
        Ok(())
    } else {
        Err(crate::cli::Differ.into())
    }
}

fn parse_at(scenario: &Scenario, at: &str) -> Result<u64> {
    scenario
        .parse_time(at)
        .map_err(|msg| anyhow!("--at: {msg}"))
}

fn devices_format(path: &Path) -> Result<DevicesFormat> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("csv") => Ok(DevicesFormat::Csv),
        Some("parquet" | "pq") => Ok(DevicesFormat::Parquet),
        _ => bail!(
            "--devices-out: {} must end in .csv or .parquet",
            path.display()
        ),
    }
}

/// "N of M devices differ, in G groups (largest first)".
fn summary(found: &Differences, groups: &[Group]) -> String {
    let n = found.devices.len();
    if n == 0 {
        return format!("no device differs ({} compared)", found.compared);
    }
    let plural = |k: usize, one: &str, many: &str| {
        if k == 1 {
            format!("{k} {one}")
        } else {
            format!("{k} {many}")
        }
    };
    format!(
        "{} of {} differ, in {} (largest first)",
        n,
        plural(found.compared as usize, "device", "devices"),
        plural(groups.len(), "group", "groups")
    )
}

fn write_groups(format: Format, groups: &[Group], out: &mut impl Write) -> Result<()> {
    let mut rows = RowWriter::new(format, &COLUMNS, out)?;
    for g in groups {
        let text = |s: &str| {
            if s.is_empty() {
                Cell::Empty
            } else {
                Cell::Text(s.to_string().into())
            }
        };
        rows.row(vec![
            text(&g.cohort),
            text(&g.software_version),
            text(&g.hardware_version),
            text(&g.rule_a),
            text(&g.target_a),
            text(&g.rule_b),
            text(&g.target_b),
            Cell::Number(g.devices),
            text(&g.example_device),
        ])?;
    }
    rows.finish()?;
    Ok(())
}

fn write_devices(path: &Path, format: DevicesFormat, rows: &[DeviceRow]) -> Result<()> {
    let columns: [Vec<&str>; 10] = [
        rows.iter().map(|r| r.device_id.as_str()).collect(),
        rows.iter().map(|r| r.cohort.as_str()).collect(),
        rows.iter().map(|r| r.software_version.as_str()).collect(),
        rows.iter().map(|r| r.hardware_version.as_str()).collect(),
        rows.iter().map(|r| r.rule_a.as_str()).collect(),
        rows.iter().map(|r| r.release_a.as_str()).collect(),
        rows.iter().map(|r| r.target_a.as_str()).collect(),
        rows.iter().map(|r| r.rule_b.as_str()).collect(),
        rows.iter().map(|r| r.release_b.as_str()).collect(),
        rows.iter().map(|r| r.target_b.as_str()).collect(),
    ];
    let result = match format {
        DevicesFormat::Csv => otasim::table_out::write_file(path, |w| {
            let mut csv = csv::Writer::from_writer(w);
            let io = |e: csv::Error| otasim::table_out::OutputError::Io {
                path: path.to_path_buf(),
                source: e.into(),
            };
            csv.write_record(DEVICE_COLUMNS).map_err(io)?;
            for i in 0..rows.len() {
                csv.write_record(columns.iter().map(|c| c[i])).map_err(io)?;
            }
            csv.flush().map_err(|e| otasim::table_out::OutputError::Io {
                path: path.to_path_buf(),
                source: e,
            })
        }),
        DevicesFormat::Parquet => {
            use polars::prelude::{Column, DataFrame};
            let cols: Vec<Column> = DEVICE_COLUMNS
                .iter()
                .zip(&columns)
                .map(|(name, values)| Column::new((*name).into(), values))
                .collect();
            let mut df =
                DataFrame::new(rows.len(), cols).map_err(|e| anyhow!("--devices-out: {e}"))?;
            otasim::table_out::write_parquet(path, &mut df)
        }
    };
    result.map_err(|e| anyhow!("--devices-out: {e}"))
}

/// A's `[resolver]` table changed by the `--variant` settings (R32).
fn variant_of(a: &Scenario, settings: &[String]) -> Result<otasim::resolver::Variant> {
    let mut variant = *a.initial.catalog.variant();
    for setting in settings {
        variant
            .set(setting)
            .map_err(|e| anyhow!("--variant {setting}: {e}"))?;
    }
    Ok(variant)
}

/// The columns of `--over-time`.
pub const OVER_TIME_COLUMNS: [&str; 7] = [
    "tick",
    "time",
    "devices_a",
    "devices_b",
    "devices_differ",
    "devices_elsewhere",
    "divergence",
];

/// The divergence per tick as a chart: devices whose answer or state differs (as a
/// share of A's present devices) and the version distributions' distance (total
/// variation: the share of devices that would have to change version), both in %.
fn over_time_chart(
    found: &diff::over_time::OverTime,
    tick_seconds: u64,
    path: &std::path::Path,
) -> Result<(), otasim::charts::ChartError> {
    use otasim::charts::{Chart, Line, Lines, TimeAxis, Unit};
    let share = |r: &diff::over_time::TickRow| {
        if r.devices_a == 0 {
            0.0
        } else {
            r.devices_differ as f64 * 100.0 / r.devices_a as f64
        }
    };
    let chart = Chart::Lines(Lines {
        title: "How B diverges from A over time".into(),
        y_desc: "Share".into(),
        y_unit: Unit::Percent,
        axis: TimeAxis {
            tick_seconds,
            ticks: found.rows.len(),
        },
        lines: vec![
            Line {
                label: "answer or state differs".into(),
                values: found.rows.iter().map(share).collect(),
                colour: Some(0),
            },
            Line {
                label: "version distribution gap".into(),
                values: found.rows.iter().map(|r| r.divergence * 100.0).collect(),
                colour: Some(1),
            },
        ],
    });
    chart.write(path)
}

/// `--over-time`: both sides simulated tick by tick.
fn over_time(
    args: &DiffArgs,
    a: Scenario,
    options: &LoadOptions,
    out: &mut impl Write,
) -> Result<()> {
    let b = match &args.other {
        Some(path) => Scenario::load(path, options)?,
        None if !args.variant.is_empty() => {
            let variant = variant_of(&a, &args.variant)?;
            let mut b = a.clone();
            b.initial.catalog.set_variant(variant);
            b
        }
        None => bail!("diff --over-time needs scenario B or --variant KEY=VALUE"),
    };
    let found = diff::over_time::over_time(&a, &b)?;
    if let Some(path) = &args.chart {
        // Drawn before anything is printed: a chart that cannot be written leaves no
        // partial output.
        over_time_chart(&found, a.tick_seconds, path)
            .map_err(|e| anyhow!("--chart {}: {e}", path.display()))?;
    }
    let format = crate::cli::format_or_default(args.format);
    let summary = match &found.first {
        None => format!("no device differs over {} ticks", found.rows.len()),
        Some((tick, id)) => format!(
            "first difference at {}: device {id}",
            crate::cli::output::tick_label(*tick, a.tick_seconds)
        ),
    };
    if format == Format::Table {
        writeln!(out, "{summary}")?;
    } else if std::io::stderr().is_terminal() {
        eprintln!("{summary}");
    }
    let mut rows = RowWriter::new(format, &OVER_TIME_COLUMNS, out)?;
    for r in &found.rows {
        rows.row(vec![
            Cell::Number(r.tick),
            Cell::Text(
                otasim::scenario::time::format_duration(r.tick.saturating_mul(a.tick_seconds))
                    .into(),
            ),
            Cell::Number(r.devices_a),
            Cell::Number(r.devices_b),
            Cell::Number(r.devices_differ),
            Cell::Number(r.devices_elsewhere),
            Cell::Text(format!("{:.6}", r.divergence).into()),
        ])?;
    }
    rows.finish()?;
    out.flush()?;
    if found.first.is_none() {
        Ok(())
    } else {
        Err(crate::cli::Differ.into())
    }
}
