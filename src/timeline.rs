//! Timeline events and the state they produce (spec §8: the state at tick T is every
//! event with `at <= T` applied in file order).

use std::collections::HashMap;

use crate::catalog::{Actor, Catalog, CatalogError, Effect, Percent, Rollout};
use crate::fleet::Fleet;
use crate::ids::{CohortId, DeviceIdx, ProjectKeyId, ReleaseId, TeamId, UserId};
use crate::rng::event_rng;
use crate::staging::{self, Selection};

impl Event {
    /// Whether applying it can change devices (cohort, staged flag, override), so that
    /// counts kept per device class must be recomputed.
    pub fn changes_fleet(&self) -> bool {
        matches!(
            self.action,
            Action::Move { .. }
                | Action::Stage { .. }
                | Action::SetOverride { .. }
                | Action::ClearOverride { .. }
                | Action::Activate {
                    rollout: Rollout::Staged(_),
                    ..
                }
                | Action::SetRollout { .. }
                | Action::Approve { .. }
        )
    }

    /// Whether applying it reads when devices were last seen: a bulk stage or unstage
    /// taking the most or least recently seen first (R21).
    pub fn reads_last_seen(&self) -> bool {
        matches!(
            &self.action,
            Action::Stage {
                selection: crate::staging::Selection::Filter(f),
                ..
            } if matches!(f.order, crate::staging::Order::LastSeenDesc | crate::staging::Order::LastSeenAsc)
        )
    }
}

/// One validated event: references are interned ids, checked when loaded (R8).
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// The tick it applies at.
    pub at: u64,
    /// Its position in the scenario's event list (0-based), for errors and randomness.
    pub index: usize,
    /// Who acts (R25).
    pub by: Actor,
    /// What it does.
    pub action: Action,
}

/// What an event does (spec §9).
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// `activate`.
    Activate {
        /// Release.
        release: ReleaseId,
        /// Cohort.
        cohort: CohortId,
        /// Normal or staged.
        rollout: Rollout,
    },
    /// `set_rollout`.
    SetRollout {
        /// Release.
        release: ReleaseId,
        /// Cohort.
        cohort: CohortId,
        /// New percentage.
        percent: Percent,
    },
    /// `pull`.
    Pull {
        /// Release.
        release: ReleaseId,
        /// Cohort.
        cohort: CohortId,
    },
    /// `delete_release`.
    DeleteRelease {
        /// Release.
        release: ReleaseId,
    },
    /// `set_override`.
    SetOverride {
        /// Device.
        device: DeviceIdx,
        /// A Full release (R7).
        release: ReleaseId,
    },
    /// `clear_override`.
    ClearOverride {
        /// Device.
        device: DeviceIdx,
    },
    /// `stage` (true) or `unstage` (false).
    Stage {
        /// Which devices.
        selection: Selection,
        /// Stage or unstage.
        staged: bool,
    },
    /// `move`.
    Move {
        /// Devices.
        devices: Vec<DeviceIdx>,
        /// Target cohort.
        cohort: CohortId,
    },
    /// `set_cohort`.
    SetCohort {
        /// Cohort.
        cohort: CohortId,
        /// R17 switch.
        disable_version_checking: Option<bool>,
        /// R25 switch.
        protected: Option<bool>,
        /// R26 team; `Some(None)` clears it.
        approval_team: Option<Option<TeamId>>,
    },
    /// `set_project_key`.
    SetProjectKey {
        /// Key.
        key: ProjectKeyId,
        /// New override, or none.
        ota_cohort_override: Option<CohortId>,
    },
    /// `approve`.
    Approve {
        /// Release.
        release: ReleaseId,
        /// Cohort.
        cohort: CohortId,
        /// Approver.
        by: UserId,
    },
}

impl Action {
    /// The action's name in scenario files.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Activate { .. } => "activate",
            Action::SetRollout { .. } => "set_rollout",
            Action::Pull { .. } => "pull",
            Action::DeleteRelease { .. } => "delete_release",
            Action::SetOverride { .. } => "set_override",
            Action::ClearOverride { .. } => "clear_override",
            Action::Stage { staged: true, .. } => "stage",
            Action::Stage { staged: false, .. } => "unstage",
            Action::Move { .. } => "move",
            Action::SetCohort { .. } => "set_cohort",
            Action::SetProjectKey { .. } => "set_project_key",
            Action::Approve { .. } => "approve",
        }
    }
}

/// An event that could not be applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("event {index} ({action}): {source}")]
pub struct EventError {
    /// The event's index.
    pub index: usize,
    /// The event's action name.
    pub action: &'static str,
    /// What is wrong.
    #[source]
    pub source: CatalogError,
}

/// The catalog half of an event: validates and changes the catalog and says what the
/// fleet must do. `holders` counts the devices overriding to a release (R6 check).
fn catalog_step(
    catalog: &mut Catalog,
    fleet: &Fleet,
    event: &Event,
    holders: impl Fn(ReleaseId) -> usize,
) -> Result<Effect, CatalogError> {
    match &event.action {
        &Action::Activate {
            release,
            cohort,
            rollout,
        } => catalog.activate(release, cohort, rollout, event.by),
        &Action::SetRollout {
            release,
            cohort,
            percent,
        } => catalog.set_rollout(release, cohort, percent, event.by),
        &Action::Pull { release, cohort } => catalog.pull(release, cohort, event.by),
        &Action::DeleteRelease { release } => catalog.delete_release(release, holders(release)),
        &Action::SetOverride { device, release } => {
            catalog.check_override(release, fleet.software_type(device))?;
            Ok(Effect::SetOverride {
                device,
                release: Some(release),
            })
        }
        &Action::ClearOverride { device } => Ok(Effect::SetOverride {
            device,
            release: None,
        }),
        &Action::SetCohort {
            cohort,
            disable_version_checking,
            protected,
            approval_team,
        } => Ok(catalog.set_cohort(cohort, disable_version_checking, protected, approval_team)),
        &Action::SetProjectKey {
            key,
            ota_cohort_override,
        } => Ok(catalog.set_project_key(key, ota_cohort_override)),
        &Action::Approve {
            release,
            cohort,
            by,
        } => catalog.approve(release, cohort, by),
        Action::Stage { .. } | Action::Move { .. } => Ok(Effect::None),
    }
}

/// Catalog and fleet at one moment.
#[derive(Clone, Debug)]
pub struct State {
    /// The catalog.
    pub catalog: Catalog,
    /// The devices.
    pub fleet: Fleet,
}

impl State {
    /// Applies one event; on error nothing has changed.
    pub fn apply(&mut self, event: &Event, seed: u64) -> Result<(), EventError> {
        let fleet = &self.fleet;
        let effect = catalog_step(&mut self.catalog, fleet, event, |r| {
            fleet.override_holders(r)
        })
        .map_err(|source| EventError {
            index: event.index,
            action: event.action.name(),
            source,
        })?;
        let mut rng = event_rng(seed, event.index);
        match effect {
            Effect::None => {}
            Effect::ResizeStaged { cohort, percent } => {
                staging::resize_staged(&mut self.fleet, cohort, percent, &mut rng);
            }
            Effect::SetOverride { device, release } => {
                self.fleet.set_release_override(device, release);
            }
        }
        match &event.action {
            Action::Stage { selection, staged } => {
                staging::set_staged(&mut self.fleet, selection, *staged, &mut rng);
            }
            Action::Move { devices, cohort } => {
                for &d in devices {
                    self.fleet.move_to(d, *cohort);
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Checks that every event of a timeline applies, without touching devices: the catalog
/// is replayed alone and release overrides are tracked sparsely. This lets a scenario
/// with millions of devices be validated in full before anything is computed.
pub fn check_timeline(
    catalog: &Catalog,
    fleet: &Fleet,
    events: &[Event],
) -> Result<(), EventError> {
    let mut catalog = catalog.clone();
    let mut counts: HashMap<ReleaseId, usize> = HashMap::new();
    for (_, r) in fleet.overrides() {
        *counts.entry(r).or_default() += 1;
    }
    let mut changed: HashMap<DeviceIdx, Option<ReleaseId>> = HashMap::new();
    for event in events {
        let effect = catalog_step(&mut catalog, fleet, event, |r| {
            counts.get(&r).copied().unwrap_or(0)
        })
        .map_err(|source| EventError {
            index: event.index,
            action: event.action.name(),
            source,
        })?;
        if let Effect::SetOverride { device, release } = effect {
            let old = changed
                .get(&device)
                .copied()
                .unwrap_or_else(|| fleet.release_override(device));
            if let Some(o) = old {
                *counts.entry(o).or_default() -= 1;
            }
            if let Some(n) = release {
                *counts.entry(n).or_default() += 1;
            }
            changed.insert(device, release);
        }
    }
    Ok(())
}
