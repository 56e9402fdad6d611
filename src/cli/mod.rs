//! The binary's own modules: clap types ([`args`]), one file per command
//! ([`commands`]) and rendering ([`output`]). The library knows nothing of them.

pub mod args;
pub mod commands;
pub mod diff_args;
pub mod huge_pages;
pub mod interrupt;
pub mod output;

use std::io::{IsTerminal, Write};

use anyhow::{anyhow, Context, Result};

use otasim::fleet::Fleet;
use otasim::ids::DeviceIdx;
use otasim::scenario::table::SharedTables;
use otasim::scenario::{LoadOptions, Scenario};
use otasim::timeline::State;

use args::{Command, Format, ScenarioArgs};

/// Runs one parsed command, writing its output to `out`.
pub fn dispatch(command: &Command, out: &mut impl Write) -> Result<()> {
    match command {
        Command::Resolve(a) => commands::resolve::run(a, out),
        Command::Matrix(a) => commands::matrix::run(a, out),
        Command::Explain(a) => commands::explain::run(a, out),
        Command::Validate(a) => commands::validate::run(a, out),
        Command::Run(a) => commands::run::run(a, out),
        Command::Diff(a) => commands::diff::run(a, out),
        Command::PlanDeltas(a) => commands::plan_deltas::run(a, out),
        Command::Sweep(a) => commands::sweep::run(a, out),
        Command::Compare(a) => commands::compare::run(a, out),
    }
}

/// The exit status of an error: `diff` exits 2 on an input error, as `diff(1)` does,
/// because its 1 means "they differ" (R33); every other command exits 1.
pub fn error_status(command: &Command) -> u8 {
    match command {
        Command::Diff(_) => 2,
        _ => 1,
    }
}

/// Returned by `diff` when something differs (after its output is flushed): `main`
/// exits 1 without a message.
#[derive(Debug)]
pub struct Differ;

impl std::fmt::Display for Differ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the answers differ")
    }
}

impl std::error::Error for Differ {}

/// Loads and validates the scenario (its whole timeline), with `--fleet`/`--seed`.
pub fn load(input: &ScenarioArgs) -> Result<Scenario> {
    load_with(input, &load_options(input, SharedTables::default()))
}

/// The load options the scenario flags give (`--fleet`, `--seed`, `--devices`), keeping
/// the fleet tables read in `tables` (for commands that load several scenarios).
pub fn load_options(input: &ScenarioArgs, tables: SharedTables) -> LoadOptions {
    LoadOptions {
        fleet: input.fleet.clone(),
        seed: input.seed,
        devices: input.devices,
        tables,
        device_ids: otasim::scenario::table::DeviceIds::Read,
    }
}

/// [`load`] with `options` (from [`load_options`]).
pub fn load_with(input: &ScenarioArgs, options: &LoadOptions) -> Result<Scenario> {
    // ScenarioError already renders as `file:line: message`.
    let scenario = Scenario::load(&input.scenario, options)?;
    if input.deny_warnings {
        DENY_WARNINGS.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    report_warnings(&scenario.warnings)?;
    Ok(scenario)
}

/// `--deny-warnings` of the scenario this process loaded: one command, one setting, also
/// for the warnings its flags raise later (`--at` past the end).
static DENY_WARNINGS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Prints each warning on stderr (`warning: file:line: message`); with
/// `--deny-warnings`, any warning makes the command fail before it computes anything.
pub fn report_warnings(warnings: &[impl std::fmt::Display]) -> Result<()> {
    for w in warnings {
        eprintln!("warning: {w}");
    }
    if DENY_WARNINGS.load(std::sync::atomic::Ordering::Relaxed) && !warnings.is_empty() {
        return Err(anyhow!(
            "{} warning{} and --deny-warnings",
            warnings.len(),
            if warnings.len() == 1 { "" } else { "s" }
        ));
    }
    Ok(())
}

/// Parses `--at` and computes the state at that tick, taking the scenario's initial
/// fleet (commands query one state and have no other use for it).
pub fn state_at(scenario: &mut Scenario, at: &str) -> Result<(u64, State)> {
    let tick = scenario
        .parse_time(at)
        .map_err(|msg| anyhow!("--at: {msg}"))?;
    if scenario.behaviour.is_some() {
        // Devices are simulated tick by tick up to `--at`.
        otasim::limits::check_ticks("--at", tick).map_err(|m| anyhow!(m))?;
    }
    if tick > scenario.duration_ticks && scenario.behaviour.is_some() {
        report_warnings(&[format!(
            "--at {at} is after the end of the scenario ({}): devices are simulated past the duration `run` covers",
            otasim::scenario::time::format_duration(
                scenario.duration_ticks.saturating_mul(scenario.tick_seconds)
            )
        )])?;
    }
    let state = scenario.take_state_at(tick)?;
    Ok((tick, state))
}

/// The worker threads of a command that takes `--threads` (all cores by default), refused
/// beyond [`otasim::limits::MAX_THREADS`] before anything starts. Returns the count too,
/// for the summary.
pub fn worker_pool(threads: Option<usize>) -> Result<(usize, rayon::ThreadPool)> {
    if let Some(n) = threads.filter(|&n| n > otasim::limits::MAX_THREADS) {
        return Err(anyhow!(otasim::limits::over(
            format!("--threads {n}: too many worker threads"),
            otasim::limits::MAX_THREADS as u64
        )));
    }
    let threads = threads.unwrap_or_else(rayon::current_num_threads).max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start worker threads")?;
    Ok((threads, pool))
}

/// Finds a device by id, suggesting a close one when it is unknown.
pub fn find_device(fleet: &Fleet, id: &str) -> Result<DeviceIdx> {
    let d = find_id(fleet, id).ok_or_else(|| {
        let hint = otasim::limits::suggest_device(id, fleet.len(), fleet.ids());
        anyhow!("unknown device {}{hint}", otasim::limits::quote_id(id))
    })?;
    if !fleet.is_present(d) {
        return Err(anyhow!(
            "device \"{id}\" is not in the fleet at that moment (it has not arrived yet, or it has retired)"
        ));
    }
    Ok(d)
}

/// A device by id, or a synthetic device by its number written without the zero padding
/// its group gives it (`prod-7` finds `prod-0007`): synthetic ids are `<group>-<index>`
/// padded to the width of the group's largest index (docs/semantics.md), and a person
/// who reads "device 7 of group prod" should not need to know that width.
fn find_id(fleet: &Fleet, id: &str) -> Option<DeviceIdx> {
    if let Some(d) = fleet.find(id) {
        return Some(d);
    }
    let (group, number) = id.rsplit_once('-')?;
    if number.is_empty() || number.len() >= 20 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    (number.len() + 1..=20).find_map(|width| fleet.find(&format!("{group}-{number:0>width$}")))
}

/// The format asked for, or the default: a table for a person at a terminal, CSV for a
/// pipe or a file.
pub fn format_or_default(format: Option<Format>) -> Format {
    format.unwrap_or_else(|| {
        if std::io::stdout().is_terminal() {
            Format::Table
        } else {
            Format::Csv
        }
    })
}

/// Prefixes an error about a flag's value with the flag (`--cohort: unknown cohort …`).
pub fn for_flag<T, E: std::fmt::Display>(
    result: std::result::Result<T, E>,
    flag: &'static str,
) -> Result<T> {
    result.map_err(|e| anyhow!("{flag}: {e}"))
}
