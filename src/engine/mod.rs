//! The simulation engine: the timeline's events and the devices' behaviour, tick by tick
//! (SPEC §8: the state at tick T is every event with `at <= T` applied and device
//! behaviour simulated for ticks `0..T`).
//!
//! Devices are only touched when they wake (poll): a calendar of per-tick buckets holds
//! every present device exactly once, so the cost of a run grows with the number of
//! polls, not with ticks × devices. A bucket is processed in parallel chunks whose
//! outputs are merged in chunk order, and every random draw is a pure function of
//! (seed, device, tick), so results are identical at any thread count (R22).

pub mod rng;

mod series;
mod step;

pub use series::{Counters, ReleaseTotals, Series, TickRecord};

use crate::behaviour::Behaviour;
use crate::ids::{ReleaseId, VersionId};
use crate::resolver::Rule;
use crate::scenario::{Scenario, ScenarioError};
use crate::timeline::State;

/// What a device carries to its next wake.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Carry {
    /// Nothing.
    Nothing,
    /// An installed version it reports at this poll (R3).
    Report(VersionId),
    /// Bytes of a release already fetched, to resume (byte-range requests).
    Partial(ReleaseId, u64),
}

/// One scheduled wake: a poll of `device`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Wake {
    /// The device.
    pub device: u32,
    /// The tick the device was last seen (polled while online), `i32::MIN` for never.
    /// Kept here rather than written to the fleet at every poll: that write was a
    /// cache miss per poll in the sequential merge. [`Engine::sync_last_seen`] copies it
    /// to the fleet when something reads it.
    pub seen: i32,
    /// What it carries.
    pub carry: Carry,
}

/// The calendar: one bucket of wakes per tick, grown on demand.
#[derive(Default)]
struct Schedule {
    buckets: Vec<Vec<Wake>>,
}

impl Schedule {
    fn push(&mut self, tick: u64, wake: Wake) {
        let t = tick as usize;
        if t >= self.buckets.len() {
            self.buckets.resize_with(t + 1, Vec::new);
        }
        self.buckets[t].push(wake);
    }

    fn take(&mut self, tick: u64) -> Vec<Wake> {
        self.buckets
            .get_mut(tick as usize)
            .map(std::mem::take)
            .unwrap_or_default()
    }

    fn len(&self) -> usize {
        self.buckets.iter().map(Vec::len).sum()
    }

    fn wakes(&self) -> impl Iterator<Item = &Wake> {
        self.buckets.iter().flatten()
    }
}

/// A fleet's packed last-seen tick as a wake carries it.
fn seen_of(fleet: &crate::fleet::Fleet, d: crate::ids::DeviceIdx) -> i32 {
    fleet
        .last_seen(d)
        .map_or(i32::MIN, |t| i32::try_from(t).unwrap_or(i32::MAX))
}

/// A simulation in progress over one scenario.
pub struct Engine<'s> {
    scenario: &'s Scenario,
    state: State,
    /// Events and arrivals of ticks `< begun` are applied.
    begun: u64,
    /// Ticks `< simulated` are simulated.
    simulated: u64,
    next_event: usize,
    next_arrival: usize,
    schedule: Schedule,
    decider: step::Decider,
    series: Series,
    record_series: bool,
}

impl<'s> Engine<'s> {
    /// An engine at the scenario's start (before tick 0's events). `record_series`
    /// keeps per-tick records (for `run`); state queries do not need them.
    pub fn new(scenario: &'s Scenario, record_series: bool) -> Engine<'s> {
        let state = scenario.initial.clone();
        let decider = step::Decider::new(&state.catalog);
        let series = Series::new(&state);
        let mut engine = Engine {
            scenario,
            state,
            begun: 0,
            simulated: 0,
            next_event: 0,
            next_arrival: 0,
            schedule: Schedule::default(),
            decider,
            series,
            record_series,
        };
        if let Some(b) = &scenario.behaviour {
            engine.schedule_first_polls(b);
        }
        engine
    }

    fn schedule_first_polls(&mut self, behaviour: &Behaviour) {
        let seed = self.scenario.seed;
        let fleet = &self.state.fleet;
        let mut wakes: Vec<(u64, Wake)> = fleet
            .present()
            .map(|d| {
                let p = &behaviour.profiles[fleet.profile(d) as usize];
                let t = rng::below(p.poll_interval, seed, d.0, 0, rng::Purpose::FirstPoll);
                (
                    t,
                    Wake {
                        device: d.0,
                        seen: seen_of(fleet, d),
                        carry: Carry::Nothing,
                    },
                )
            })
            .collect();
        wakes.sort_by_key(|&(t, w)| (t, w.device));
        for (t, w) in wakes {
            self.schedule.push(t, w);
        }
    }

    /// The current state (catalog and fleet).
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The per-tick records so far.
    pub fn series(&self) -> &Series {
        &self.series
    }

    /// The scenario being simulated.
    pub fn scenario(&self) -> &Scenario {
        self.scenario
    }

    /// Ticks simulated so far.
    pub fn simulated(&self) -> u64 {
        self.simulated
    }

    /// Wakes currently scheduled (one per present, polling device).
    pub fn scheduled(&self) -> usize {
        self.schedule.len()
    }

    /// Applies the events and arrivals of tick `t` (the next one not begun).
    fn begin(&mut self, t: u64) -> Result<(), ScenarioError> {
        debug_assert_eq!(t, self.begun);
        let scenario = self.scenario;
        let mut fleet_changed = false;
        while let Some(event) = scenario.events.get(self.next_event) {
            if event.at > t {
                break;
            }
            if matches!(event.action, crate::timeline::Action::Stage { .. }) {
                // Bulk staging may order devices by when they were last seen (R21).
                self.sync_last_seen();
            }
            self.state
                .apply(event, scenario.seed)
                .map_err(|e| scenario.event_error(e))?;
            fleet_changed |= event.changes_fleet();
            self.next_event += 1;
        }
        while let Some(&(at, d)) = scenario.arrivals.get(self.next_arrival) {
            if at > t {
                break;
            }
            self.state.fleet.set_present(d, true);
            self.series
                .arrive(&self.state.catalog, &self.state.fleet, d);
            self.series.counters_mut(t).arrived += 1;
            if scenario.behaviour.is_some() {
                self.schedule.push(
                    t,
                    Wake {
                        device: d.0,
                        seen: seen_of(&self.state.fleet, d),
                        carry: Carry::Nothing,
                    },
                );
            }
            self.next_arrival += 1;
        }
        if fleet_changed {
            self.series.recount(&self.state.catalog, &self.state.fleet);
        } else {
            self.series.catalog_changed(&self.state.catalog);
        }
        self.begun = t + 1;
        Ok(())
    }

    /// Simulates tick `t` (events of `t` already applied).
    fn simulate(&mut self, t: u64) {
        debug_assert_eq!(t + 1, self.begun);
        let mut counters = Counters::default();
        if let Some(behaviour) = &self.scenario.behaviour {
            let mut wakes = self.schedule.take(t);
            // Device order makes the column reads of a tick sweep memory forwards; a
            // bucket is a few runs already in that order, which a stable sort merges.
            wakes.sort_by_key(|w| w.device);
            if !wakes.is_empty() {
                self.decider.refresh(&self.state.catalog);
                let out = step::process(
                    &self.state,
                    &self.decider,
                    behaviour,
                    self.scenario.seed,
                    t,
                    &wakes,
                );
                step::merge(
                    out,
                    &mut self.state,
                    &mut self.schedule,
                    &mut self.series,
                    &mut counters,
                );
            }
        }
        if self.record_series {
            self.series.record(t, counters);
        }
        self.simulated = t + 1;
    }

    /// Advances to the state at tick `target`: every event with `at <= target` applied
    /// and ticks `0..target` simulated. `on_tick` is called after each simulated tick.
    pub fn advance_to(
        &mut self,
        target: u64,
        mut on_tick: impl FnMut(u64),
    ) -> Result<(), ScenarioError> {
        while self.simulated < target {
            let t = self.simulated;
            if self.begun == t {
                self.begin(t)?;
            }
            self.simulate(t);
            on_tick(t);
        }
        if self.begun == target {
            self.begin(target)?;
        }
        Ok(())
    }

    /// Copies every scheduled device's last-seen tick into the fleet.
    pub fn sync_last_seen(&mut self) {
        for w in self.schedule.wakes() {
            if w.seen != i32::MIN {
                self.state
                    .fleet
                    .set_last_seen(crate::ids::DeviceIdx(w.device), i64::from(w.seen));
            }
        }
    }

    /// Consumes the engine, returning its final state and series.
    pub fn finish(mut self) -> (State, Series) {
        self.sync_last_seen();
        (self.state, self.series)
    }
}

/// The state at tick `t` (SPEC §8), simulating device behaviour when the scenario has
/// any.
pub fn state_at(scenario: &Scenario, t: u64) -> Result<State, ScenarioError> {
    let mut engine = Engine::new(scenario, false);
    engine.advance_to(t, |_| {})?;
    Ok(engine.finish().0)
}

/// Rules that send a payload, in output order.
pub const UPDATE_RULES: [Rule; 4] = [
    Rule::Override,
    Rule::Delta,
    Rule::MustPassThrough,
    Rule::Full,
];
