//! `otasim run`: simulate the whole duration and write the outputs.

use std::io::{IsTerminal, Write};
use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use otasim::analytics::{self, Snapshot, Summary, Timing};
use otasim::engine::Engine;
use otasim::limits;
use otasim::matrix::detailed_matrix;
use otasim::scenario::time::format_duration;
use otasim::scenario::Scenario;
use otasim::table_out::OutputDir;

use crate::cli::args::{RunArgs, TableFormat};
use crate::cli::{interrupt, load};

/// The ticks at which to snapshot the matrix, each with whether it was requested: the
/// scenario's and the end are; those every `every` ticks are periodic.
fn snapshot_ticks(scenario: &Scenario, every: Option<u64>) -> Vec<(u64, bool)> {
    let end = scenario.duration_ticks;
    let mut ticks: Vec<(u64, bool)> = scenario
        .snapshots
        .iter()
        .filter(|&&t| t <= end)
        .map(|&t| (t, true))
        .collect();
    if let Some(k) = every.filter(|&k| k > 0) {
        ticks.extend((0..=end).step_by(k as usize).map(|t| (t, false)));
    }
    ticks.push((end, true));
    // Requested before periodic at the same tick, so the dedup keeps the requested one.
    ticks.sort_unstable_by_key(|&(t, requested)| (t, !requested));
    ticks.dedup_by_key(|&mut (t, _)| t);
    ticks
}

/// Runs `otasim run`.
pub fn run(args: &RunArgs, out: &mut impl Write) -> Result<()> {
    let (threads, pool) = crate::cli::worker_pool(args.threads)?;
    let mut scenario = load(&args.input)?;
    if let Some(golden) = args.check.as_deref().filter(|g| !g.is_dir()) {
        anyhow::bail!("--check {}: not a directory", golden.display());
    }
    let every = args
        .snapshot_every
        .as_deref()
        .map(|s| {
            scenario
                .parse_time(s)
                .map_err(|m| anyhow!("--snapshot-every: {m}"))
        })
        .transpose()?;
    let snapshots_at = snapshot_ticks(&scenario, every);
    if snapshots_at.len() > limits::MAX_SNAPSHOTS {
        return Err(anyhow!(limits::over(
            format!(
                "{} version-matrix snapshots (the scenario's `snapshots`, --snapshot-every and the end) are too many",
                snapshots_at.len()
            ),
            limits::MAX_SNAPSHOTS as u64
        )));
    }
    interrupt::install()?;
    // Before simulating: the lock (a concurrent run into the same --out fails now),
    // and a writable place for the outputs.
    let mut dir = OutputDir::create(&args.out)?;
    if scenario.behaviour.is_none() && !args.quiet {
        eprintln!(
            "warning: {} declares no [behaviour]: devices never poll, so only the timeline's events change the fleet",
            scenario.path.display()
        );
    }

    let progress = if args.quiet || !std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(Some(scenario.duration_ticks), ProgressDrawTarget::hidden())
    } else {
        let pb = ProgressBar::new(scenario.duration_ticks);
        pb.set_style(
            ProgressStyle::with_template(
                "{spinner} simulating [{bar:40}] tick {pos}/{len} ({percent}%) {elapsed} eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        pb
    };

    let started = Instant::now();
    // The engine starts from the initial fleet itself: a copy would hold a second
    // fleet (23 bytes a device) for the whole run.
    let initial = scenario.take_initial();
    let scenario = scenario;
    let (end, series, snapshots, runtime) = pool.install(|| -> Result<_> {
        let mut engine = Engine::with_state(&scenario, initial, true);
        let mut snapshots = Vec::new();
        for (tick, requested) in snapshots_at {
            // A tick at a time, so that Ctrl-C stops the run between two.
            while engine.simulated() < tick {
                interrupt::check()?;
                let next = engine.simulated() + 1;
                engine
                    .advance_to(next, |t| progress.set_position(t + 1))
                    .map_err(|e| scenario.event_error(e))?;
            }
            engine
                .advance_to(tick, |_| {})
                .map_err(|e| scenario.event_error(e))?;
            let state = engine.state();
            snapshots.push(Snapshot {
                tick,
                requested,
                rows: detailed_matrix(&state.catalog, &state.fleet, None),
            });
        }
        let runtime = engine.policy().cloned();
        let (state, series) = engine.finish();
        Ok((state, series, snapshots, runtime))
    })?;
    progress.finish_and_clear();
    let timing = Timing {
        wall_seconds: started.elapsed().as_secs_f64(),
        threads,
    };

    let mut tables = analytics::tables(&scenario, &end, &series, &snapshots, timing)
        .context("cannot build the output tables")?;
    // R40: the policy log, written by every run (no rows without policies), so scripts
    // can rely on the file.
    let mut policy =
        analytics::policy_table(&end.catalog, runtime.as_ref().map_or(&[], |rt| rt.log()))
            .context("cannot build the policy table")?;
    tables.summary.policy = runtime.as_ref().map(|rt| {
        analytics::policy_summary(
            &scenario,
            &end,
            &series,
            rt,
            tables.summary.bandwidth.peak_bytes_per_tick,
        )
    });
    let frames = [
        ("policy", &mut policy),
        ("matrix", &mut tables.matrix),
        ("series", &mut tables.series),
        ("versions", &mut tables.versions),
        ("bandwidth", &mut tables.bandwidth),
        ("egress", &mut tables.egress),
    ];
    for (name, df) in frames {
        interrupt::check()?;
        if args.format != TableFormat::Csv {
            dir.write_parquet(format!("{name}.parquet"), df)?;
        }
        if args.format != TableFormat::Parquet {
            dir.write_csv(format!("{name}.csv"), df)?;
        }
    }
    let json = serde_json::to_vec_pretty(&tables.summary).context("cannot encode summary")?;
    dir.write_bytes("summary.json", &json)?;
    if !args.no_charts {
        let figures = analytics::figures(
            &scenario,
            &end.catalog,
            &series,
            &snapshots,
            &tables.summary,
        );
        let rendered: Vec<_> = pool.install(|| {
            use rayon::prelude::*;
            figures
                .charts
                .par_iter()
                .map(|(stem, chart)| {
                    let size = chart.default_size();
                    Ok((stem, chart.to_png(size)?, chart.to_svg(size)?))
                })
                .collect::<Result<Vec<_>, otasim::charts::ChartError>>()
        })?;
        interrupt::check()?;
        for (stem, png, svg) in rendered {
            dir.write_bytes(format!("charts/{stem}.png"), &png)?;
            dir.write_bytes(format!("charts/{stem}.svg"), svg.as_bytes())?;
        }
        if let (Some(note), false) = (&figures.heat_note, args.quiet) {
            eprintln!("note: {note}");
        }
        let html = otasim::charts::render_report(&figures.report)?;
        dir.write_bytes("report.html", html.as_bytes())?;
    }
    let target = dir.target().to_path_buf();
    interrupt::check()?;
    dir.commit()?;

    if !args.quiet {
        print_summary(out, &tables.summary, &target)?;
    }
    // Golden run: the outputs are written either way; a difference is an error (exit 1).
    if let Some(golden) = &args.check {
        otasim::golden::check(&target, golden)?;
    }
    Ok(())
}

/// Bytes with a decimal unit.
fn bytes(n: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut x = n as f64;
    let mut u = 0;
    while x >= 1000.0 && u + 1 < units.len() {
        x /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{x:.2} {}", units[u])
    }
}

/// A count with thousands separators.
fn count(n: u64) -> String {
    otasim::charts::group_thousands(n)
}

/// The policy lines of the terminal summary: blast radius, reach, deferrals.
fn print_policy(out: &mut impl Write, p: &otasim::analytics::PolicySummary) -> Result<()> {
    for r in &p.releases {
        let what = match (&r.gate_action, r.gate_fired_tick) {
            (Some(a), Some(t)) => format!("{a} at tick {t}: "),
            _ => "no gate fired: ".to_string(),
        };
        writeln!(
            out,
            "policy     {} in {}: {what}{} devices tried it ({} failed; {} attempts, {} failed)",
            r.release,
            r.cohort,
            count(r.devices_attempted),
            count(r.devices_failed),
            count(r.attempts),
            count(r.failures)
        )?;
    }
    let h = |x: Option<f64>| x.map_or("never".to_string(), |h| format!("{h}h"));
    writeln!(
        out,
        "settled    50% of devices at their final version after {}, 95% after {}, 99% after {}",
        h(p.hours_to_50_percent),
        h(p.hours_to_95_percent),
        h(p.hours_to_99_percent)
    )?;
    if p.downloads_deferred > 0 {
        writeln!(
            out,
            "deferred   {} polls held back ({} by caps, {} by windows); caps held downloads back in {} ticks ({}h){}",
            count(p.downloads_deferred),
            count(p.deferred_by_cap),
            count(p.deferred_by_window),
            count(p.ticks_held_by_cap),
            p.hours_held_by_cap,
            p.last_tick_held_by_cap
                .map_or(String::new(), |t| format!(", last at tick {t}"))
        )?;
    }
    Ok(())
}

fn print_summary(out: &mut impl Write, s: &Summary, dir: &std::path::Path) -> Result<()> {
    let b = &s.bandwidth;
    let sum = |m: &std::collections::BTreeMap<String, u64>| m.values().sum::<u64>();
    writeln!(
        out,
        "simulated {} ticks of {} ({}) for {} devices ({} at the end: +{} arrived, -{} retired)",
        count(s.ticks),
        format_duration(s.tick_seconds),
        format_duration(s.ticks * s.tick_seconds),
        count(s.devices_start),
        count(s.devices_end),
        count(s.arrived),
        count(s.retired)
    )?;
    writeln!(
        out,
        "polls      {} ({} missed offline)",
        count(s.polls),
        count(s.missed_polls)
    )?;
    let rules = |m: &std::collections::BTreeMap<String, u64>| {
        ["delta", "full", "must_pass_through", "override"]
            .iter()
            .filter_map(|r| {
                m.get(*r)
                    .filter(|&&n| n > 0)
                    .map(|n| format!("{r} {}", count(*n)))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    writeln!(
        out,
        "updates    {} installed ({}); {} install failures; {} failed downloads",
        count(sum(&s.installs_succeeded)),
        rules(&s.installs_succeeded),
        count(sum(&s.installs_failed)),
        count(sum(&s.downloads_failed))
    )?;
    if let (Some(c), Some(p)) = (s.at_final_version_end, s.at_final_version_percent) {
        writeln!(
            out,
            "final      {} devices offered no update at the end ({p:.1}%: at their final version under that catalog)",
            count(c)
        )?;
    }
    if let Some(r) = &s.reach {
        print_reach(out, r, s.tick_seconds)?;
    }
    writeln!(
        out,
        "egress     {} sent (delta {}, full {}, mpt {}, override {}); peak {} per tick at tick {} ({}), p95 {}; peak day {}",
        bytes(b.bytes_total),
        bytes(b.bytes_by_rule.get("delta").copied().unwrap_or(0)),
        bytes(b.bytes_by_rule.get("full").copied().unwrap_or(0)),
        bytes(b.bytes_by_rule.get("must_pass_through").copied().unwrap_or(0)),
        bytes(b.bytes_by_rule.get("override").copied().unwrap_or(0)),
        bytes(b.peak_bytes_per_tick),
        b.peak_tick,
        otasim::analytics::bit_rate(b.peak_bytes_per_tick, s.tick_seconds),
        bytes(b.p95_bytes_per_tick),
        bytes(b.peak_bytes_per_day)
    )?;
    writeln!(
        out,
        "deltas     saved {} ({:.1}%) against all-full {}",
        bytes(b.delta_savings_bytes),
        b.delta_savings_percent,
        bytes(b.full_counterfactual_bytes)
    )?;
    writeln!(
        out,
        "cost       {:.2} at {}/GB (wire bytes {}; all-full would cost {:.2})",
        b.cost,
        b.price_per_gb,
        bytes(b.wire_bytes),
        b.full_counterfactual_cost
    )?;
    if let Some(p) = &s.policy {
        print_policy(out, p)?;
    }
    writeln!(
        out,
        "speed      {:.2} s wall on {} threads: {:.1} M device-ticks/s, {:.2} M polls/s",
        s.wall_seconds,
        s.threads,
        s.device_ticks_per_second / 1e6,
        s.polls_per_second / 1e6
    )?;
    writeln!(out, "outputs    {}", dir.display())?;
    Ok(())
}

/// The reach table: per version, and per release whose figures differ from its
/// version's (it is activated in only some cohorts), the time until each share of the
/// devices that can get it had installed it, and (in brackets) had reported it.
fn print_reach(
    out: &mut impl Write,
    r: &otasim::analytics::ReachSummary,
    tick_seconds: u64,
) -> Result<()> {
    let after = |first: u64, t: Option<u64>| {
        t.map_or("-".to_string(), |t| {
            format_duration((t - first) * tick_seconds)
        })
    };
    let pcts = r
        .percents
        .iter()
        .map(|p| format!("{p}%"))
        .collect::<Vec<_>>()
        .join(" / ");
    writeln!(
        out,
        "reach      time until {pcts} of the devices that can get it installed it (reported it), from when the first could"
    )?;
    let same = |a: &otasim::analytics::ReachRow, b: &otasim::analytics::ReachRow| {
        (a.can_get, &a.installed_at_tick, &a.reported_at_tick)
            == (b.can_get, &b.installed_at_tick, &b.reported_at_tick)
    };
    let rows: Vec<(String, &otasim::analytics::ReachRow)> = r
        .versions
        .iter()
        .map(|v| (v.version.clone(), v))
        .chain(r.releases.iter().filter_map(|rel| {
            let version = r.versions.iter().find(|v| v.version == rel.version)?;
            (!same(rel, version)).then(|| {
                let name = rel.release.as_deref().unwrap_or_default();
                (format!("release {name}"), rel)
            })
        }))
        .collect();
    let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (name, v) in rows {
        let cells = v
            .installed_at_tick
            .iter()
            .zip(&v.reported_at_tick)
            .map(|(&i, &r)| format!("{} ({})", after(v.first_tick, i), after(v.first_tick, r)))
            .collect::<Vec<_>>()
            .join(" / ");
        writeln!(
            out,
            "           {name:<width$}  from {}: {cells}; {} of {} at the end",
            format_duration(v.first_tick * tick_seconds),
            count(v.installed),
            count(v.can_get),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{bytes, count};

    #[test]
    fn human_numbers() {
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_500_000), "1.50 MB");
    }
}
