//! Scenario files: a raw TOML mirror (`raw.rs`) lowered into a validated [`Scenario`]
//! whose references are interned ids (R8).

mod delta_sizes;
mod lower;
mod lower_policy;
mod raw;
mod raw_de;
mod raw_policy;
mod synth;
pub mod table;
pub mod time;
mod toml_error;
mod variant;
mod warnings;

use std::path::{Path, PathBuf};

pub use delta_sizes::DeltaSize;

pub use crate::model::{Costs, Model};
use crate::timeline::{self, State};

/// Reads a scenario file, at most [`crate::limits::MAX_SCENARIO_BYTES`] of it: a
/// device or a pipe that never ends (`/dev/zero`) is refused after that many bytes,
/// not read into memory.
fn read_bounded(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let limit = crate::limits::MAX_SCENARIO_BYTES;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read scenario: {e}"))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read scenario: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(crate::limits::over(
            "the scenario file is too large (put a big fleet in a fleet table)",
            format!("{limit} bytes"),
        ));
    }
    String::from_utf8(bytes)
        .map_err(|_| "cannot read scenario: stream did not contain valid UTF-8".to_string())
}

/// Options that replace parts of a scenario file from the command line.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// `--fleet PATH`: replaces the scenario's fleet with a CSV or Parquet table.
    pub fleet: Option<PathBuf>,
    /// `--seed`: replaces the scenario's seed.
    pub seed: Option<u64>,
    /// `--devices`: scales the synthetic fleet groups to this many devices.
    pub devices: Option<u64>,
    /// Fleet tables kept between loads: scenarios loaded with clones of one
    /// [`table::SharedTables::new`] read a table they share once (`diff A B`).
    pub tables: table::SharedTables,
    /// Whether a fleet table's ids may be left unread (`otasim matrix`); the scenario
    /// reads them anyway where anything in it names a device ([`table::DeviceIds`]).
    pub device_ids: table::DeviceIds,
}

/// An input error with its place: `file:line: message`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ScenarioError {
    /// The file at fault (the scenario, or a fleet table).
    pub file: PathBuf,
    /// The 1-based line (or table row) at fault, when known.
    pub line: Option<usize>,
    /// What is wrong, with the event index or item when there is one.
    pub message: String,
}

/// A scenario file loaded: the validated [`Model`] and what places things in the file
/// (its path, each event's line, the warnings) or only commands read (delta sizes).
/// It dereferences to its model, so `scenario.seed` reads the model's seed.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Where it was read from.
    pub path: PathBuf,
    /// What the engine and the queries run on.
    pub model: Model,
    /// The line of each event in the file (same order as `model.events`), for errors.
    pub event_lines: Vec<Option<usize>>,
    /// Suspicious but valid input, placed like errors (shares that do not add up, a
    /// hardware version no release serves, events after the end): the commands print
    /// them, `--deny-warnings` refuses them.
    pub warnings: Vec<ScenarioError>,
    /// `[[delta_sizes]]`: explicit sizes of Deltas that may be planned (R30).
    pub delta_sizes: Vec<DeltaSize>,
}

impl std::ops::Deref for Scenario {
    type Target = Model;
    fn deref(&self) -> &Model {
        &self.model
    }
}

impl std::ops::DerefMut for Scenario {
    fn deref_mut(&mut self) -> &mut Model {
        &mut self.model
    }
}

impl Scenario {
    /// Reads, parses and validates a scenario file, including every event of its
    /// timeline (so an error anywhere is reported before anything is computed).
    pub fn load(path: &Path, options: &LoadOptions) -> Result<Scenario, ScenarioError> {
        let text = read_bounded(path).map_err(|message| ScenarioError {
            file: path.to_path_buf(),
            line: None,
            message,
        })?;
        Scenario::from_text(path, &text, options)
    }

    /// Like [`Scenario::load`] on text already read; `path` names it in errors.
    pub fn from_text(
        path: &Path,
        text: &str,
        options: &LoadOptions,
    ) -> Result<Scenario, ScenarioError> {
        let raw: raw::RawScenario = toml::from_str(text).map_err(|e| {
            let src = lower::Source::new(path, text);
            ScenarioError {
                file: path.to_path_buf(),
                line: e.span().map(|s| src.line(s.start)),
                message: toml_error::message(e.message(), text, e.span()),
            }
        })?;
        let low = lower::lower(
            path,
            text,
            raw,
            options.fleet.as_deref(),
            options.devices,
            &options.tables,
            options.device_ids,
        )?;
        let mut scenario = Scenario {
            path: path.to_path_buf(),
            model: Model {
                seed: options.seed.unwrap_or(low.seed),
                tick_seconds: low.tick_seconds,
                duration_ticks: low.duration_ticks,
                devices_start: low.fleet.present().count() as u64,
                initial: State {
                    catalog: low.catalog,
                    fleet: low.fleet,
                },
                events: low.events,
                behaviour: low.behaviour,
                arrivals: low.arrivals,
                snapshots: low.snapshots,
                costs: low.costs,
                policies: low.policies,
            },
            event_lines: low.event_lines,
            warnings: low.warnings,
            delta_sizes: low.delta_sizes,
        };
        timeline::check_timeline(
            &scenario.initial.catalog,
            &scenario.initial.fleet,
            &scenario.events,
        )
        .map_err(|e| scenario.event_error(e))?;
        let more = warnings::check(&scenario);
        scenario.warnings.extend(more);
        Ok(scenario)
    }

    /// An event that failed to apply (at load, in a query or in the engine), placed at
    /// its line in the file.
    pub fn event_error(&self, e: timeline::EventError) -> ScenarioError {
        let line = self
            .events
            .iter()
            .position(|ev| ev.index == e.index)
            .and_then(|i| self.event_lines[i]);
        ScenarioError {
            file: self.path.clone(),
            line,
            message: e.to_string(),
        }
    }

    /// Parses a time given on the command line (`--at 36`, `--at 36h`) into ticks.
    pub fn parse_time(&self, text: &str) -> Result<u64, String> {
        time::parse_time_arg(text, self.tick_seconds)
    }

    /// The state at tick `t` (spec §8): see [`crate::engine::state_at`].
    pub fn state_at(&self, t: u64) -> Result<State, ScenarioError> {
        crate::engine::state_at(&self.model, t).map_err(|e| self.event_error(e))
    }

    /// As [`Scenario::state_at`], taking the initial fleet instead of copying it (a
    /// 10M-device fleet is hundreds of megabytes): afterwards `initial.fleet` is empty.
    pub fn take_state_at(&mut self, t: u64) -> Result<State, ScenarioError> {
        let initial = self.take_initial();
        crate::engine::state_from(&self.model, initial, t).map_err(|e| self.event_error(e))
    }

    /// The initial state, its fleet moved out rather than copied (for an engine that
    /// starts from it, `Engine::with_state`): afterwards `initial.fleet` is empty, and
    /// `devices_start` still says how many devices it had.
    pub fn take_initial(&mut self) -> State {
        State {
            catalog: self.model.initial.catalog.clone(),
            fleet: std::mem::take(&mut self.model.initial.fleet),
        }
    }
}
