//! The validated model a simulation runs on: the initial state, the timeline and the run
//! settings, with every reference an interned id. It knows nothing of files: `scenario`
//! builds it from a TOML file and places errors in that file; the engine and the queries
//! read it.

use crate::behaviour::Behaviour;
use crate::ids::DeviceIdx;
use crate::policy::Policies;
use crate::timeline::{Event, State};

/// What egress costs: `[bandwidth]` in a scenario.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Costs {
    /// Price of one GB (10⁹ bytes) leaving the CDN.
    pub price_per_gb: f64,
    /// Bytes on the wire per payload byte (transfer compression; 1 = none).
    pub compression_ratio: f64,
}

impl Default for Costs {
    fn default() -> Self {
        Costs {
            price_per_gb: 0.085,
            compression_ratio: 1.0,
        }
    }
}

/// A validated model. Invariant: its timeline applies to its initial state event by
/// event (the loader replays it, [`crate::timeline::check_timeline`], before handing
/// the model out). What the engine may still meet, it returns as a
/// [`crate::timeline::EventError`] for the loader to place in the file.
#[derive(Clone, Debug)]
pub struct Model {
    /// Drives every random choice (R22).
    pub seed: u64,
    /// Length of one tick in seconds.
    pub tick_seconds: u64,
    /// How many ticks `run` simulates.
    pub duration_ticks: u64,
    /// Catalog and fleet before any event.
    pub initial: State,
    /// Devices present in the initial fleet, kept apart so that a run can take the
    /// initial fleet ([`crate::scenario::Scenario::take_initial`]) instead of copying
    /// it and still report where it started.
    pub devices_start: u64,
    /// The timeline, sorted by tick (stable: file order within a tick).
    pub events: Vec<Event>,
    /// The device behaviour model; `None` for a static fleet (devices never poll).
    pub behaviour: Option<Behaviour>,
    /// Devices that arrive during the run: (tick, device), sorted. They are in the
    /// fleet from the start but absent until their tick.
    pub arrivals: Vec<(u64, DeviceIdx)>,
    /// Ticks at which `run` records the version matrix (sorted, unique).
    pub snapshots: Vec<u64>,
    /// Egress pricing.
    pub costs: Costs,
    /// Rollout policies (R35–R39).
    pub policies: Policies,
}
