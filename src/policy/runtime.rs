//! Policies while a run is under way: ramp steps applied at their ticks, installs
//! counted per activation, gates evaluated at the end of each tick, and the policy
//! log (R35, R37, R40). Everything here runs in the engine's sequential part, in a
//! fixed order, so it is the same at any thread count (R22).

use std::collections::HashMap;

use super::{ActivationPolicy, GateAction, Policies};
use crate::catalog::{Actor, Effect, Percent, Rollout};
use crate::ids::{CohortId, ReleaseId};
use crate::timeline::{Action, Event, State};

/// What a policy did (R40 `action`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum LogAction {
    /// A ramp step set the rollout percentage.
    RampStep,
    /// A gate paused the ramp.
    Pause,
    /// A gate pulled the activation.
    Abort,
}

impl LogAction {
    /// The name in `policy.csv`.
    pub fn name(self) -> &'static str {
        match self {
            LogAction::RampStep => "ramp_step",
            LogAction::Pause => "pause",
            LogAction::Abort => "abort",
        }
    }
}

/// One row of the policy log (R40).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LogRow {
    /// The tick of the action: a step's tick, or the tick at whose end a gate fired.
    pub tick: u64,
    /// The activation's cohort.
    pub cohort: CohortId,
    /// The activation's release.
    pub release: ReleaseId,
    /// What happened.
    pub action: LogAction,
    /// The rollout percentage set by a step, or in force when a gate fired (empty for a
    /// normal activation).
    pub percent: Option<Percent>,
    /// A gate's attempts in its window when it fired.
    pub attempts: Option<u64>,
    /// A gate's failures in its window when it fired.
    pub failures: Option<u64>,
}

/// Where one activation policy stands.
#[derive(Clone, Debug, Default)]
struct Live {
    /// Its `activate` event has applied.
    started: bool,
    /// Its ramp is over: the activation was pulled or replaced.
    ended: bool,
    /// A pause gate fired: no more steps.
    paused: bool,
    /// The tick at whose end its gate fired.
    fired: Option<u64>,
    next_step: usize,
    /// The activation's tick.
    at: u64,
    /// Installs of the release in the cohort by the tick they end (index `tick - at`):
    /// attempts, failures.
    counts: Vec<[u64; 2]>,
    /// Per device (grown on demand): the tick of its first install attempt and of its
    /// first failure, `u32::MAX` for none (the blast radius counts devices, not
    /// attempts).
    first_attempt: Vec<u32>,
    first_failure: Vec<u32>,
}

/// The figures of one activation policy after a run (blast radius).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The release.
    pub release: ReleaseId,
    /// The cohort.
    pub cohort: CohortId,
    /// The tick at whose end the gate fired, if it did.
    pub fired: Option<u64>,
    /// What the gate does (when there is one).
    pub action: Option<LogAction>,
    /// Install attempts (successful plus failed) ending up to and including the tick
    /// the gate fired, or over the whole run if it did not.
    pub attempts_before_gate: u64,
    /// Failed installs among them.
    pub failures_before_gate: u64,
    /// Install attempts over the whole run, in-flight downloads that ended after the
    /// gate included.
    pub attempts: u64,
    /// Failed installs over the whole run.
    pub failures: u64,
    /// Devices that attempted the install up to the tick the gate fired (or over the
    /// run): the blast radius.
    pub devices_before_gate: u64,
    /// Devices among them with a failed install by then.
    pub devices_failed_before_gate: u64,
}

/// The policies of one run in progress.
#[derive(Clone, Debug)]
pub struct Runtime {
    model: Vec<ActivationPolicy>,
    live: Vec<Live>,
    /// `activate` event index -> policy.
    by_event: HashMap<usize, usize>,
    /// (release, cohort) -> the policy of the activation in force, for counting
    /// installs and for caps.
    current: HashMap<(ReleaseId, CohortId), usize>,
    /// Gates that fired with `abort` at the end of the last tick.
    pending_aborts: Vec<usize>,
    /// Activations a gate pulled and no event activated again since.
    aborted: Vec<(ReleaseId, CohortId)>,
    log: Vec<LogRow>,
    max_bytes_per_tick: Option<u64>,
    /// Per device (grown on demand): the last tick its reported version changed or it
    /// arrived (the reach figures: when devices reached their final version).
    last_change: Vec<u32>,
}

impl Runtime {
    /// A runtime for `policies`, before tick 0.
    pub fn new(policies: &Policies) -> Runtime {
        Runtime {
            model: policies.activations.clone(),
            live: vec![Live::default(); policies.activations.len()],
            by_event: policies
                .activations
                .iter()
                .enumerate()
                .map(|(i, a)| (a.event_index, i))
                .collect(),
            current: HashMap::new(),
            pending_aborts: Vec::new(),
            aborted: Vec::new(),
            log: Vec::new(),
            max_bytes_per_tick: policies.max_bytes_per_tick,
            last_change: Vec::new(),
        }
    }

    /// The policy log so far.
    pub fn log(&self) -> &[LogRow] {
        &self.log
    }

    /// The fleet-wide byte cap (R38).
    pub fn max_bytes_per_tick(&self) -> Option<u64> {
        self.max_bytes_per_tick
    }

    /// The policy in force for `release` in `cohort`, if any.
    #[inline]
    pub fn current(&self, release: ReleaseId, cohort: CohortId) -> Option<usize> {
        if self.current.is_empty() {
            return None;
        }
        self.current.get(&(release, cohort)).copied()
    }

    /// The R38 download cap of policy `p`.
    #[inline]
    pub fn cap(&self, p: usize) -> Option<u64> {
        self.model[p].max_downloads_per_tick
    }

    /// Start of tick `t`, before its events: gates that fired with `abort` at the end of
    /// the last tick pull their activations (R37: effect from the next tick).
    pub fn before_events(&mut self, state: &mut State) {
        for p in std::mem::take(&mut self.pending_aborts) {
            let m = &self.model[p];
            if state.catalog.activation(m.release, m.cohort).is_some() {
                // A pull changes no device; it cannot fail for an active activation
                // acting as a project manager.
                let _ = state.catalog.pull(m.release, m.cohort, Actor::Anonymous);
            }
            self.aborted.push((m.release, m.cohort));
            self.live[p].ended = true;
        }
    }

    /// Whether a file event that failed to apply failed because a gate pulled its
    /// activation: a `set_rollout` or `pull` of an activation a gate aborted (and no
    /// event activated again) is skipped, as the planner's later steps would be.
    pub fn explains_failure(&self, event: &Event) -> bool {
        match event.action {
            Action::SetRollout {
                release, cohort, ..
            }
            | Action::Pull { release, cohort } => self.aborted.contains(&(release, cohort)),
            _ => false,
        }
    }

    /// After a file event applied: an `activate` with a policy starts it (its first
    /// step at the activation's tick is the activation itself); any other `activate`
    /// or a `pull` of the same release and cohort ends the policy in force.
    pub fn event_applied(&mut self, event: &Event, state: &State) {
        let (release, cohort) = match event.action {
            Action::Activate {
                release, cohort, ..
            }
            | Action::Pull { release, cohort } => (release, cohort),
            _ => return,
        };
        if matches!(event.action, Action::Activate { .. }) {
            self.aborted.retain(|&a| a != (release, cohort));
        }
        if let Some(old) = self.current.remove(&(release, cohort)) {
            self.live[old].ended = true;
        }
        if !matches!(event.action, Action::Activate { .. }) {
            return;
        }
        let Some(&p) = self.by_event.get(&event.index) else {
            return;
        };
        self.current.insert((release, cohort), p);
        let live = &mut self.live[p];
        live.started = true;
        live.at = event.at;
        let m = &self.model[p];
        if let (Some(first), Some(Rollout::Staged(_))) =
            (m.steps.first(), state.catalog.activation(release, cohort))
        {
            if first.at == event.at {
                live.next_step = 1;
                self.log.push(LogRow {
                    tick: event.at,
                    cohort,
                    release,
                    action: LogAction::RampStep,
                    percent: Some(first.percent),
                    attempts: None,
                    failures: None,
                });
            }
        }
    }

    /// After tick `t`'s events: the ramp steps due. Returns whether a staged set
    /// changed. A step due while its activation waits for approval (R26) waits too
    /// (only the latest due step applies once it is active); a ramp whose activation
    /// is gone ends.
    pub fn apply_steps(&mut self, t: u64, state: &mut State, seed: u64) -> bool {
        let mut changed = false;
        for p in 0..self.model.len() {
            let live = &mut self.live[p];
            let m = &self.model[p];
            if !live.started || live.ended || live.paused || live.next_step >= m.steps.len() {
                continue;
            }
            let due = m.steps[live.next_step..]
                .iter()
                .take_while(|s| s.at <= t)
                .count();
            if due == 0 {
                continue;
            }
            match state.catalog.activation(m.release, m.cohort) {
                Some(Rollout::Staged(_)) => {}
                None if state
                    .catalog
                    .pending_requests()
                    .any(|(r, c, _)| r == m.release && c == m.cohort) =>
                {
                    continue
                }
                _ => {
                    live.ended = true;
                    continue;
                }
            }
            let k = live.next_step + due - 1;
            let step = m.steps[k];
            live.next_step = k + 1;
            let effect =
                state
                    .catalog
                    .set_rollout(m.release, m.cohort, step.percent, Actor::Anonymous);
            if let Ok(Effect::ResizeStaged { cohort, percent }) = effect {
                let mut rng = crate::rng::ramp_step_rng(seed, m.event_index, k);
                crate::staging::resize_staged(&mut state.fleet, cohort, percent, &mut rng);
                changed = true;
            }
            self.log.push(LogRow {
                tick: t,
                cohort: m.cohort,
                release: m.release,
                action: LogAction::RampStep,
                percent: Some(step.percent),
                attempts: None,
                failures: None,
            });
        }
        changed
    }

    /// An install of `release` in `cohort` (its effective cohort) ending at tick `end`;
    /// counted for the policy in force, if any.
    #[inline]
    pub fn record_install(
        &mut self,
        release: ReleaseId,
        cohort: CohortId,
        end: u64,
        failed: bool,
        device: u32,
    ) {
        let Some(p) = self.current(release, cohort) else {
            return;
        };
        let live = &mut self.live[p];
        let d = device as usize;
        if live.first_attempt.len() <= d {
            live.first_attempt.resize(d + 1, u32::MAX);
            live.first_failure.resize(d + 1, u32::MAX);
        }
        let tick = u32::try_from(end).unwrap_or(u32::MAX - 1);
        live.first_attempt[d] = live.first_attempt[d].min(tick);
        if failed {
            live.first_failure[d] = live.first_failure[d].min(tick);
        }
        let i = end.saturating_sub(live.at) as usize;
        if live.counts.len() <= i {
            live.counts.resize(i + 1, [0, 0]);
        }
        live.counts[i][0] += 1;
        live.counts[i][1] += u64::from(failed);
    }

    /// Device `d` reported a new version, or arrived, in tick `t`.
    #[inline]
    pub fn version_changed(&mut self, d: crate::ids::DeviceIdx, t: u64) {
        let i = d.index();
        if self.last_change.len() <= i {
            self.last_change.resize(i + 1, 0);
        }
        self.last_change[i] = u32::try_from(t).unwrap_or(u32::MAX);
    }

    /// Per percentage: the first tick at which at least that share of the devices
    /// present at the end of the run (`state`) were at their final version: the version
    /// they end on, if the resolver offers them nothing more then (R24); a device still
    /// offered an update at the end never got there. `None` if never (an empty fleet
    /// reaches everything at tick 0).
    pub fn reach(&self, state: &State, percents: &[u64]) -> Vec<Option<u64>> {
        let fleet = &state.fleet;
        let present: Vec<usize> = (0..fleet.len())
            .filter(|&i| fleet.is_present(crate::ids::DeviceIdx(i as u32)))
            .collect();
        let n = present.len() as u64;
        let mut ticks: Vec<u32> = {
            use rayon::prelude::*;
            present
                .par_iter()
                .filter(|&&i| {
                    let report = fleet.report(crate::ids::DeviceIdx(i as u32));
                    crate::resolver::resolve(&state.catalog, &report, &mut crate::resolver::NoTrail)
                        .release
                        .is_none()
                })
                .map(|&i| self.last_change.get(i).copied().unwrap_or(0))
                .collect()
        };
        ticks.sort_unstable();
        percents
            .iter()
            .map(|&p| {
                let need = (p * n).div_ceil(100);
                if need == 0 {
                    Some(0)
                } else {
                    ticks.get(need as usize - 1).map(|&t| u64::from(t))
                }
            })
            .collect()
    }

    /// End of tick `t`: every gate of an active activation counts the installs that
    /// ended in its window and fires once if failures exceed its threshold (R37).
    pub fn end_of_tick(&mut self, t: u64, state: &State) {
        for p in 0..self.model.len() {
            let m = &self.model[p];
            let live = &mut self.live[p];
            let Some(gate) = m.gate else { continue };
            if !live.started || live.ended || live.fired.is_some() || t < live.at {
                continue;
            }
            let Some(rollout) = state.catalog.activation(m.release, m.cohort) else {
                continue;
            };
            let last = (t - live.at) as usize;
            let first = match gate.window {
                Some(w) => (last + 1).saturating_sub(w as usize),
                None => 0,
            };
            let (mut attempts, mut failures) = (0, 0);
            for c in live.counts.iter().take(last + 1).skip(first) {
                attempts += c[0];
                failures += c[1];
            }
            if !gate.fires(attempts, failures) {
                continue;
            }
            live.fired = Some(t);
            let action = match gate.action {
                GateAction::Pause => {
                    live.paused = true;
                    LogAction::Pause
                }
                GateAction::Abort => {
                    self.pending_aborts.push(p);
                    LogAction::Abort
                }
            };
            self.log.push(LogRow {
                tick: t,
                cohort: m.cohort,
                release: m.release,
                action,
                percent: match rollout {
                    Rollout::Staged(p) => Some(p),
                    Rollout::Normal => None,
                },
                attempts: Some(attempts),
                failures: Some(failures),
            });
        }
    }

    /// Per activation policy that started: its blast radius (installs before its gate
    /// fired, or over the run). `end` is the run's length: installs ending later are
    /// not counted.
    pub fn outcomes(&self, end: u64) -> Vec<Outcome> {
        self.model
            .iter()
            .zip(&self.live)
            .filter(|(_, l)| l.started)
            .map(|(m, l)| {
                let upto = |last: u64| {
                    let n = (last + 1).saturating_sub(l.at) as usize;
                    l.counts
                        .iter()
                        .take(n)
                        .fold([0, 0], |a, c| [a[0] + c[0], a[1] + c[1]])
                };
                let all = upto(end.saturating_sub(1));
                let before = l.fired.map_or(all, upto);
                let limit = l.fired.unwrap_or(end.saturating_sub(1));
                let by = |v: &[u32]| v.iter().filter(|&&t| u64::from(t) <= limit).count() as u64;
                Outcome {
                    release: m.release,
                    cohort: m.cohort,
                    fired: l.fired,
                    action: m.gate.map(|g| match g.action {
                        GateAction::Pause => LogAction::Pause,
                        GateAction::Abort => LogAction::Abort,
                    }),
                    attempts_before_gate: before[0],
                    failures_before_gate: before[1],
                    attempts: all[0],
                    failures: all[1],
                    devices_before_gate: by(&l.first_attempt),
                    devices_failed_before_gate: by(&l.first_failure),
                }
            })
            .collect()
    }
}
