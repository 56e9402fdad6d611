//! `otasim sweep`: the scenario run once per combination of parameter values, in
//! parallel, one row per variant (see `otasim::sweep` for how parameters are named).

use std::io::{IsTerminal, Write};

use anyhow::{anyhow, bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use toml_edit::DocumentMut;

use otasim::analytics::{self, SweepRow, Timing};
use otasim::engine::Engine;
use otasim::scenario::{LoadOptions, Scenario};
use otasim::sweep::{self, Param};
use otasim::table_out::OutputDir;

use crate::cli::args::{SweepArgs, TableFormat};

/// Runs `otasim sweep`.
pub fn run(args: &SweepArgs, out: &mut impl Write) -> Result<()> {
    let path = &args.input.scenario;
    // Every variant is loaded anew; a fleet table they share is read once.
    let options =
        crate::cli::load_options(&args.input, otasim::scenario::table::SharedTables::new());
    // The scenario as written must load: its errors are reported as by every command.
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read scenario", path.display()))?;
    Scenario::from_text(path, &text, &options)?;
    let doc: DocumentMut = text
        .parse()
        .map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let mut params: Vec<Param> = Vec::new();
    for s in &args.set {
        let p = sweep::parse_set(s).map_err(|m| anyhow!(m))?;
        if params.iter().any(|q| q.name == p.name) {
            bail!("--set {}: given twice", p.name);
        }
        // Every name must reach a value of the file (checked before anything runs).
        p.apply(&mut doc.clone(), 0).map_err(|m| anyhow!(m))?;
        params.push(p);
    }
    let total = sweep::count(&params);
    let range = match &args.part {
        None => 0..total,
        Some(part) => sweep::part(part, total).map_err(|m| anyhow!(m))?,
    };
    let (_, pool) = crate::cli::worker_pool(args.threads)?;
    let progress = if args.quiet || !std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(Some(range.len() as u64), ProgressDrawTarget::hidden())
    } else {
        let pb = ProgressBar::new(range.len() as u64);
        pb.set_style(
            ProgressStyle::with_template(
                "{spinner} sweeping [{bar:40}] variant {pos}/{len} {elapsed} eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        pb
    };
    let rows: Vec<SweepRow> = pool.install(|| {
        range
            .clone()
            .into_par_iter()
            .map(|i| {
                let row = run_variant(path, &doc, &params, i, &options);
                progress.inc(1);
                row
            })
            .collect::<Result<Vec<_>>>()
    })?;
    progress.finish_and_clear();

    let names: Vec<String> = params.iter().map(|p| p.name.clone()).collect();
    let all_values: Vec<Vec<String>> = params
        .iter()
        .map(|p| p.values.iter().map(|v| v.0.clone()).collect())
        .collect();
    let mut df = analytics::sweep_table(&names, &all_values, &rows)
        .context("cannot build the sweep table")?;
    let stem = match &args.part {
        None => "sweep".to_string(),
        Some(part) => {
            let (i, n) = part.split_once('/').expect("checked by sweep::part");
            format!("sweep-part-{}-of-{}", i.trim(), n.trim())
        }
    };
    let mut dir = OutputDir::create(&args.out)?;
    if args.format != TableFormat::Csv {
        dir.write_parquet(format!("{stem}.parquet"), &mut df)?;
    }
    if args.format != TableFormat::Parquet {
        dir.write_csv(format!("{stem}.csv"), &mut df)?;
    }
    // The Pareto chart needs every variant: a whole sweep only.
    if args.part.is_none() {
        let points: Vec<otasim::charts::ParetoPoint> = rows
            .iter()
            .filter_map(|r| {
                // `max_failure_percent=5`: the parameter's last key says what it is.
                let label = names
                    .iter()
                    .zip(&r.values)
                    .map(|(n, v)| format!("{}={v}", n.rsplit('.').next().unwrap_or(n)))
                    .collect::<Vec<_>>()
                    .join(", ");
                Some(otasim::charts::ParetoPoint {
                    label,
                    hours: r.hours_to_95_percent?,
                    devices: r.blast_radius_devices? as f64,
                })
            })
            .collect();
        if !points.is_empty() {
            let chart = otasim::charts::Pareto {
                title: format!("Blast radius against time to 95 %: {}", names.join(", ")),
                points,
            };
            dir.write_bytes("sweep-pareto.svg", chart.to_svg()?.as_bytes())?;
            dir.write_bytes("sweep-pareto.png", &chart.to_png()?)?;
        }
    }
    let target = dir.target().to_path_buf();
    dir.commit()?;
    if !args.quiet {
        print_rows(out, &names, &rows)?;
        writeln!(
            out,
            "{} of {} variants written to {}",
            rows.len(),
            total,
            target.join(stem).display()
        )?;
    }
    Ok(())
}

/// Runs variant `i` and returns its row.
fn run_variant(
    path: &std::path::Path,
    doc: &DocumentMut,
    params: &[Param],
    i: usize,
    options: &LoadOptions,
) -> Result<SweepRow> {
    let choice = sweep::variant(params, i);
    let values: Vec<String> = params
        .iter()
        .zip(&choice)
        .map(|(p, &k)| p.values[k].0.clone())
        .collect();
    let what = || {
        let set: Vec<String> = params
            .iter()
            .zip(&values)
            .map(|(p, v)| format!("{}={v}", p.name))
            .collect();
        format!("variant {i} ({})", set.join(", "))
    };
    let text = sweep::variant_text(doc, params, &choice).map_err(|m| anyhow!(m))?;
    let mut scenario =
        Scenario::from_text(path, &text, options).map_err(|e| anyhow!("{}: {e}", what()))?;
    let initial = scenario.take_initial();
    let scenario = scenario;
    let mut engine = Engine::with_state(&scenario, initial, true);
    engine
        .advance_to(scenario.duration_ticks, |_| {})
        .map_err(|e| anyhow!("{}: {}", what(), scenario.event_error(e)))?;
    let runtime = engine.policy().cloned();
    let (end, series) = engine.finish();
    let tables = analytics::tables(&scenario, &end, &series, &[], Timing::default())
        .context("cannot build the output tables")?;
    let s = &tables.summary;
    let policy = runtime.as_ref().map(|rt| {
        analytics::policy_summary(
            &scenario,
            &end,
            &series,
            rt,
            s.bandwidth.peak_bytes_per_tick,
        )
    });
    Ok(SweepRow {
        variant: i as u64,
        values,
        ticks_to_95_percent: policy.as_ref().and_then(|p| p.ticks_to_95_percent),
        hours_to_95_percent: policy.as_ref().and_then(|p| p.hours_to_95_percent),
        blast_radius_devices: policy
            .as_ref()
            .map(|p| p.releases.iter().map(|r| r.devices_attempted).sum()),
        blast_radius_failed: policy
            .as_ref()
            .map(|p| p.releases.iter().map(|r| r.devices_failed).sum()),
        gates_fired: policy.as_ref().map(|p| {
            p.releases
                .iter()
                .filter(|r| r.gate_fired_tick.is_some())
                .count() as u64
        }),
        bytes_total: s.bandwidth.bytes_total,
        peak_bytes_per_tick: s.bandwidth.peak_bytes_per_tick,
        cost: s.bandwidth.cost,
        downloads_deferred: policy.as_ref().map(|p| p.downloads_deferred),
        at_final_version_percent: s.at_final_version_percent,
    })
}

/// One line per variant on the terminal.
fn print_rows(out: &mut impl Write, names: &[String], rows: &[SweepRow]) -> Result<()> {
    let opt = |x: Option<u64>| x.map_or("-".to_string(), |v| v.to_string());
    for r in rows {
        let set: Vec<String> = names
            .iter()
            .zip(&r.values)
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        writeln!(
            out,
            "variant {:>4}  {}  95% at tick {}  blast radius {} devices ({} failed)  bytes {}  peak {}/tick  cost {:.2}",
            r.variant,
            set.join(" "),
            opt(r.ticks_to_95_percent),
            opt(r.blast_radius_devices),
            opt(r.blast_radius_failed),
            r.bytes_total,
            r.peak_bytes_per_tick,
            r.cost
        )?;
    }
    Ok(())
}
