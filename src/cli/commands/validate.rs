//! `otasim validate`: loads a scenario (which checks its whole timeline) and summarises it.

use std::io::Write;

use anyhow::Result;

use otasim::catalog::ReleaseKind;
use otasim::scenario::time::format_duration;

use crate::cli::args::ValidateArgs;
use crate::cli::output::{tick_label, write_aligned, Align};

/// Runs the command.
pub fn run(args: &ValidateArgs, out: &mut impl Write) -> Result<()> {
    let scenario = crate::cli::load(&args.input)?;
    let catalog = &scenario.initial.catalog;
    let fleet = &scenario.initial.fleet;

    let names = |items: Vec<&str>| -> String {
        let n = items.len();
        if n == 0 {
            return "0".to_string();
        }
        let shown: Vec<&str> = items.into_iter().take(8).collect();
        let more = if n > shown.len() { ", …" } else { "" };
        format!("{n} ({}{more})", shown.join(", "))
    };
    let live: Vec<_> = catalog.releases().filter(|(_, r)| !r.deleted).collect();
    let n_full = live.iter().filter(|(_, r)| r.is_full()).count();
    let n_mpt = live
        .iter()
        .filter(|(_, r)| {
            matches!(
                r.kind,
                ReleaseKind::Full {
                    must_pass_through: true,
                    ..
                }
            )
        })
        .count();
    let n_delta = live.len() - n_full;
    let mpt = if n_mpt > 0 {
        format!(", {n_mpt} of them must-pass-through")
    } else {
        String::new()
    };
    let n_staged = fleet.columns().staged.count_ones();
    let n_override = fleet.overrides().count();
    let events = match (scenario.events.first(), scenario.events.last()) {
        (Some(first), Some(last)) if first.at == last.at => format!(
            "{}, all at {}",
            scenario.events.len(),
            tick_label(first.at, scenario.tick_seconds)
        ),
        (Some(first), Some(last)) => format!(
            "{}, at ticks {}..{} ({}..{})",
            scenario.events.len(),
            first.at,
            last.at,
            format_duration(first.at.saturating_mul(scenario.tick_seconds)),
            format_duration(last.at.saturating_mul(scenario.tick_seconds))
        ),
        _ => "0".to_string(),
    };
    let mut table: Vec<(&str, String)> = vec![
        (
            "software types",
            names(
                catalog
                    .software_types()
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect(),
            ),
        ),
        (
            "cohorts",
            names(catalog.cohorts().iter().map(|c| c.name.as_str()).collect()),
        ),
        (
            "releases",
            format!("{} ({n_full} full{mpt}, {n_delta} delta)", live.len()),
        ),
        (
            "hardware versions",
            names(
                catalog
                    .hardware_names()
                    .iter()
                    .map(String::as_str)
                    .collect(),
            ),
        ),
        (
            "devices",
            format!(
                "{} ({n_staged} staged, {n_override} with a release override){}",
                fleet.len(),
                match &args.input.fleet {
                    Some(path) => format!(", from {}", path.display()),
                    None => String::new(),
                }
            ),
        ),
    ];
    if !catalog.project_keys().is_empty() {
        table.push((
            "project keys",
            names(
                catalog
                    .project_keys()
                    .iter()
                    .map(|k| k.name.as_str())
                    .collect(),
            ),
        ));
    }
    if !catalog.users().is_empty() {
        table.push((
            "users",
            names(catalog.users().iter().map(|u| u.name.as_str()).collect()),
        ));
    }
    table.push(("events", events));
    let policies = &scenario.policies;
    if policies.any() {
        let a = &policies.activations;
        let windows = scenario.behaviour.as_ref().map_or(0, |b| {
            b.profiles
                .iter()
                .filter(|p| p.update_window.is_some())
                .count()
        });
        table.push((
            "policies",
            format!(
                "{} ramps, {} gates, {} download caps, byte cap {}, {} profiles with update windows",
                a.iter().filter(|p| !p.steps.is_empty()).count(),
                a.iter().filter(|p| p.gate.is_some()).count(),
                a.iter()
                    .filter(|p| p.max_downloads_per_tick.is_some())
                    .count(),
                policies
                    .max_bytes_per_tick
                    .map_or("none".to_string(), |b| format!("{b} bytes per tick")),
                windows
            ),
        ));
    }
    table.push((
        "duration",
        format!(
            "{} ({} ticks of {})",
            format_duration(
                scenario
                    .duration_ticks
                    .saturating_mul(scenario.tick_seconds)
            ),
            scenario.duration_ticks,
            format_duration(scenario.tick_seconds)
        ),
    ));
    table.push(("seed", scenario.seed.to_string()));
    table.push((
        "warnings",
        match scenario.warnings.len() {
            0 => "none".to_string(),
            n => format!("{n} (on stderr above)"),
        },
    ));

    writeln!(out, "{}: ok", scenario.path.display())?;
    let body: Vec<Vec<String>> = table
        .into_iter()
        .map(|(k, v)| vec![k.to_string(), v])
        .collect();
    // No header row: the first line of `write_aligned` is the header, so pass the first
    // row as it.
    write_aligned(out, "  ", &body[0], &body[1..], &[Align::Left, Align::Left])?;
    Ok(())
}
