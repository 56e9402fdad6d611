//! The binary's own modules: clap types ([`args`]), one file per command
//! ([`commands`]) and rendering ([`output`]). The library knows nothing of them.

pub mod args;
pub mod commands;
pub mod output;

use std::io::{IsTerminal, Write};

use anyhow::{anyhow, Result};

use otasim::catalog::did_you_mean;
use otasim::fleet::Fleet;
use otasim::ids::DeviceIdx;
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
        Command::Sweep(a) => commands::sweep::run(a, out),
        Command::Compare(a) => commands::compare::run(a, out),
    }
}

/// Loads and validates the scenario (its whole timeline), with `--fleet`/`--seed`.
pub fn load(input: &ScenarioArgs) -> Result<Scenario> {
    let options = LoadOptions {
        fleet: input.fleet.clone(),
        seed: input.seed,
        devices: input.devices,
    };
    // ScenarioError already renders as `file:line: message`.
    Ok(Scenario::load(&input.scenario, &options)?)
}

/// Parses `--at` and computes the state at that tick, taking the scenario's initial
/// fleet (commands query one state and have no other use for it).
pub fn state_at(scenario: &mut Scenario, at: &str) -> Result<(u64, State)> {
    let tick = scenario
        .parse_time(at)
        .map_err(|msg| anyhow!("--at: {msg}"))?;
    let state = scenario.take_state_at(tick)?;
    Ok((tick, state))
}

/// Finds a device by id, suggesting a close one when it is unknown.
pub fn find_device(fleet: &Fleet, id: &str) -> Result<DeviceIdx> {
    let d = fleet.find(id).ok_or_else(|| {
        let hint = did_you_mean(id, fleet.ids());
        anyhow!("unknown device \"{id}\"{hint}")
    })?;
    if !fleet.is_present(d) {
        return Err(anyhow!(
            "device \"{id}\" is not in the fleet at that moment (it has not arrived yet, or it has retired)"
        ));
    }
    Ok(d)
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
