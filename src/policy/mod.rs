//! Rollout policies (R35–R40): what OTA services automate on top of hand-written
//! activations — ramps, health gates, rate limits and maintenance windows — as a
//! validated model. The engine runs them through [`runtime::Runtime`], acting through
//! the same catalog changes as events (R19 resizes, pulls), so every other rule holds.

pub mod runtime;
pub mod window;

pub use runtime::{LogAction, LogRow, Runtime};
pub use window::Window;

use crate::catalog::Percent;
use crate::ids::{CohortId, ReleaseId};

/// What a gate does when it fires (R37).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum GateAction {
    /// Stops the ramp at its current step.
    Pause,
    /// Pulls the activation.
    Abort,
}

/// A health gate on an activation (R37).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Gate {
    /// The gate fires when failures × 100 > this × attempts.
    pub max_failure_percent: Percent,
    /// Attempts needed in the window before the gate may fire.
    pub min_attempts: u64,
    /// Ticks counted back from the end of the current tick; `None`: every tick since
    /// the activation.
    pub window: Option<u64>,
    /// Pause or abort.
    pub action: GateAction,
}

impl Gate {
    /// R37: whether `failures` out of `attempts` fire the gate.
    pub fn fires(&self, attempts: u64, failures: u64) -> bool {
        attempts >= self.min_attempts && self.max_failure_percent.exceeded_by(failures, attempts)
    }
}

/// One ramp step (R35): a `set_rollout` to `percent` at tick `at`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The absolute tick of the step.
    pub at: u64,
    /// The rollout percentage it sets.
    pub percent: Percent,
}

/// The policies attached to one `activate` event.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivationPolicy {
    /// The `activate` event's index in the file (its random stream and its place).
    pub event_index: usize,
    /// The release activated.
    pub release: ReleaseId,
    /// The cohort it is activated in.
    pub cohort: CohortId,
    /// R35 steps, in order, ticks strictly increasing and percentages never
    /// decreasing. The first step at the activation's own tick is the activation's
    /// percentage. Empty without a ramp.
    pub steps: Vec<Step>,
    /// R37 gate.
    pub gate: Option<Gate>,
    /// R38 cap on downloads of this release in this cohort starting in one tick.
    pub max_downloads_per_tick: Option<u64>,
}

/// Every policy of a scenario.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Policies {
    /// Per `activate` event with a ramp, a gate or a cap, in file order.
    pub activations: Vec<ActivationPolicy>,
    /// R38 `[bandwidth] max_bytes_per_tick`: payload bytes of downloads starting in
    /// one tick, fleet-wide.
    pub max_bytes_per_tick: Option<u64>,
    /// Whether any behaviour profile has an R39 update window.
    pub windows: bool,
}

impl Policies {
    /// Whether the scenario declares any policy (R35, R37–R39); without one the engine
    /// runs exactly as it did before policies existed, and `series` has no
    /// `downloads_deferred` column.
    pub fn any(&self) -> bool {
        !self.activations.is_empty() || self.max_bytes_per_tick.is_some() || self.windows
    }

    /// Whether some activation has a ramp (its steps change the fleet over time, so a
    /// state query must run the engine even without device behaviour).
    pub fn has_ramps(&self) -> bool {
        self.activations.iter().any(|a| !a.steps.is_empty())
    }

    /// Whether some poll may be held back by a cap (R38), so that downloads must be
    /// admitted in a second, sequential pass.
    pub fn has_caps(&self) -> bool {
        self.max_bytes_per_tick.is_some()
            || self
                .activations
                .iter()
                .any(|a| a.max_downloads_per_tick.is_some())
    }
}
