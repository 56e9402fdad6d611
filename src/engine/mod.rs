//! The simulation engine: the timeline's events and the devices' behaviour, tick by tick
//! (spec §8: the state at tick T is every event with `at <= T` applied and device
//! behaviour simulated for ticks `0..T`).
//!
//! Devices are only touched when they wake (poll): a calendar of per-tick buckets holds
//! every present device exactly once, so the cost of a run grows with the number of
//! polls, not with ticks × devices. Devices are split into blocks, each with its own
//! calendar and hot words, and a tick processes its blocks in parallel; what touches
//! shared totals is applied in block order afterwards. Every random draw is a pure
//! function of (seed, device, tick), so results are identical at any thread count (R22).

mod calendar;
mod hot;
mod reach;
mod step;
mod tick_log;

pub use reach::{Reach, Reached, REACH_PERCENTS};
pub use tick_log::{Counters, ReleaseTotals, TickLog, TickRecord};

use calendar::{Block, Carry, Wake, BLOCK};
use hot::Hot;

use crate::behaviour::Behaviour;
use crate::fleet::{Changes, DeviceReport};
use crate::ids::DeviceIdx;
use crate::model::Model;
use crate::resolver::Rule;
use crate::rng;
use crate::timeline::{Event, EventError, State};

/// Bytes of state the engine touches per poll of a device: its hot word and its
/// calendar entry (the fleet's columns are read only for devices with a project key or
/// an override, and written only when a device installs or retires).
pub const HOT_BYTES_PER_DEVICE: usize = std::mem::size_of::<Hot>() + std::mem::size_of::<Wake>();

/// A device's report before the changes: in its word, or in the log when the word is
/// cold (`None` if in neither).
fn old_report(
    catalog: &crate::catalog::Catalog,
    h: Hot,
    changes: &Changes,
    i: u32,
) -> Option<DeviceReport> {
    if h.is_cold() {
        changes.keyed_before(i)
    } else {
        Some(h.plain_report(catalog))
    }
}

/// The filter and direction of a stage or unstage of the most recently seen devices
/// with a limit (R21), the selections [`Engine::recently_seen`] answers.
fn recent_first(event: &Event) -> Option<(&crate::staging::Filter, bool)> {
    use crate::staging::{Order, Selection};
    match &event.action {
        crate::timeline::Action::Stage {
            selection: Selection::Filter(f),
            staged,
        } if f.order == Order::LastSeenDesc && f.limit.is_some() => Some((f, *staged)),
        _ => None,
    }
}

/// Writes the last-seen tick of each of a block's `wakes` (of devices seen at all) into
/// the block's slice of the fleet's column.
fn copy_ticks<'w>(ticks: &mut [i32], runs: impl Iterator<Item = &'w [Wake]>) {
    calendar::each_wake(runs, |w| {
        if w.seen != i32::MIN {
            ticks[w.off()] = w.seen;
        }
    });
}

/// Per block, `(tick, row)` of the devices seen at or after `floor` that `test`
/// keeps: every device seen since then pushed its wake since the calendar's mark of
/// `floor`, a wake that carries its last-seen tick (its later wakes carry the same
/// tick or a later one); `None` if a block keeps no mark that old.
fn seen_since(
    calendar: &[Block],
    floor: u64,
    test: &crate::staging::RowTest<'_>,
) -> Option<crate::staging::SeenParts> {
    use rayon::prelude::*;
    calendar
        .par_iter()
        .enumerate()
        .with_max_len(1)
        .map(|(b, block)| seen_in_block(block, b * BLOCK, floor, test))
        .collect()
}

/// [`seen_since`] of one block, whose first row is `base`, in the order the wakes
/// were pushed.
fn seen_in_block(
    block: &Block,
    base: usize,
    floor: u64,
    test: &crate::staging::RowTest<'_>,
) -> Option<Vec<(i32, u32)>> {
    let runs = block.pushed_since(floor)?;
    let mut part: Vec<(i32, u32)> = Vec::new();
    if !test.may_pass_in(base..base + BLOCK) {
        // No member of the filter's cohort here: a selection in a small cohort reads
        // the few blocks that hold its members.
        return Some(part);
    }
    let floor = i64::try_from(floor).unwrap_or(i64::MAX);
    // The test's reads of a row (the cohort's bits, the hardware column) were two
    // fifths of a look's time, a miss each: fetched a few wakes ahead, they overlap.
    calendar::each_wake_ahead(
        runs,
        |w| test.prefetch(base + w.off()),
        |w| {
            let row = base + w.off();
            if i64::from(w.seen) >= floor && test.passes(row) {
                part.push((w.seen, row as u32));
            }
        },
    );
    Some(part)
}

/// The rows, in fleet order, of the first `limit` devices (every one, if fewer) that
/// `test` keeps among those seen at or after `latest`, the last tick any device can
/// have been seen: [`seen_since`] of `latest` read in fleet order, a few blocks at a
/// time in parallel, and stopped once `limit` are found. A selection of a few thousand
/// devices of a large cohort then reads the wakes of a few blocks, not every wake of
/// the last tick. `None` if a block read keeps no mark that old. The blocks read at a
/// time depend on the threads; the rows returned do not.
fn seen_last_first(
    calendar: &[Block],
    latest: u64,
    test: &crate::staging::RowTest<'_>,
    limit: usize,
) -> Option<Vec<u32>> {
    use rayon::prelude::*;
    let batch = 2 * rayon::current_num_threads();
    let mut rows: Vec<u32> = Vec::new();
    for (n, blocks) in calendar.chunks(batch).enumerate() {
        let parts: Vec<Option<Vec<u32>>> = blocks
            .par_iter()
            .enumerate()
            .with_max_len(1)
            .map(|(j, block)| {
                let base = (n * batch + j) * BLOCK;
                let part = seen_in_block(block, base, latest, test)?;
                debug_assert!(part.iter().all(|&(t, _)| i64::from(t) == latest as i64));
                Some(in_row_order(&part, base))
            })
            .collect();
        for part in parts {
            rows.extend(part?);
        }
        if rows.len() >= limit {
            rows.truncate(limit);
            break;
        }
    }
    Some(rows)
}

/// The rows of `part`, a block's matches (each row once, in the order their wakes were
/// pushed), in increasing order: marked in a bitmap of the block's rows and read back,
/// a pass of a few thousand words, where sorting them cost more than the blocks that
/// stopping at the limit leaves unread.
fn in_row_order(part: &[(i32, u32)], base: usize) -> Vec<u32> {
    let mut marks = vec![0u64; BLOCK / 64];
    for &(_, row) in part {
        let off = row as usize - base;
        marks[off / 64] |= 1 << (off % 64);
    }
    let mut rows = Vec::with_capacity(part.len());
    rows.extend(crate::bitmap::ones_in(&marks, 0..BLOCK).map(|off| (base + off) as u32));
    debug_assert_eq!(rows.len(), part.len(), "each row once");
    rows
}

/// A fleet's packed last-seen tick as a wake carries it.
fn seen_of(fleet: &crate::fleet::Fleet, d: DeviceIdx) -> i32 {
    fleet
        .last_seen(d)
        .map_or(i32::MIN, |t| i32::try_from(t).unwrap_or(i32::MAX))
}

/// Blocks for a fleet of `devices`.
fn n_blocks(devices: usize) -> usize {
    devices.div_ceil(BLOCK)
}

/// The block of device `d` and its offset in it.
fn block_of(d: DeviceIdx) -> (usize, usize) {
    (d.index() / BLOCK, d.index() % BLOCK)
}

/// A simulation in progress over one model.
pub struct Engine<'s> {
    model: &'s Model,
    state: State,
    /// Events and arrivals of ticks `< begun` are applied.
    begun: u64,
    /// Ticks `< simulated` are simulated.
    simulated: u64,
    next_event: usize,
    next_arrival: usize,
    /// One poll calendar per block of devices.
    calendar: Vec<Block>,
    /// Per device: what a poll reads, packed (see [`hot`]); rebuilt from the fleet
    /// whenever events change it.
    hot: Vec<Hot>,
    /// Per block: what its last tick produced for the sequential part (buffers reused).
    outs: Vec<step::BlockOut>,
    decider: step::Decider,
    series: TickLog,
    record_series: bool,
    /// Rollout policies in progress (R35–R39); `None` when the model has none.
    policy: Option<crate::policy::Runtime>,
    /// Whether blocks fold their outputs before the merge ([`step::Tick::fold`]);
    /// always, but for the test that compares the two.
    fold: bool,
    /// Whether the calendars mark where their buckets end, for the timeline's
    /// selections of the most recently seen devices ([`Engine::recently_seen`]).
    marked: bool,
    /// The ticks of those selections, in order: a tick is marked only when one of
    /// them looks back at it (at most [`calendar::MARKS`] - 1 ticks later), the marks
    /// a selection reads being those of the ticks just before it.
    recent_ticks: Vec<u64>,
    /// The latest tick a device of the starting fleet was last seen at (from its
    /// table), if any: such a device's wake was pushed before tick 0's mark, so
    /// [`Engine::recently_seen`] leaves floors at or before this tick to the full copy.
    seen_at_start: Option<i64>,
    /// Selections [`Engine::recently_seen`] answered, and those it left to the copy of
    /// every wake (for the test that checks both happen).
    #[cfg(test)]
    recent_answers: (usize, usize),
    /// The furthest back a selection answered from the wakes looked (in ticks).
    #[cfg(test)]
    recent_looks: u64,
}

impl<'s> Engine<'s> {
    /// An engine at the model's start (before tick 0's events). `record_series`
    /// keeps per-tick records (for `run`); state queries do not need them.
    pub fn new(model: &'s Model, record_series: bool) -> Engine<'s> {
        Engine::with_state(model, model.initial.clone(), record_series)
    }

    /// As [`Engine::new`], from `state`: the model's initial state, moved in by a
    /// caller that no longer needs it rather than copied.
    pub fn with_state(model: &'s Model, state: State, record_series: bool) -> Engine<'s> {
        let decider = step::Decider::new(&state.catalog);
        let mut series = TickLog::new(&state);
        if !record_series {
            // Nothing reads the reach of a run that records no ticks; tracking it
            // would only pile up landed installs that no recorded tick consumes.
            series.without_reach();
        }
        let ring = calendar::ring_size(model.behaviour.as_ref());
        let calendar = (0..n_blocks(state.fleet.len()))
            .map(|_| Block::new(ring))
            .collect();
        let hot = hot::build(&state.fleet);
        let outs = (0..n_blocks(state.fleet.len()))
            .map(|_| step::BlockOut::default())
            .collect();
        let mut engine = Engine {
            model,
            state,
            begun: 0,
            simulated: 0,
            next_event: 0,
            next_arrival: 0,
            calendar,
            hot,
            outs,
            decider,
            series,
            record_series,
            policy: model
                .policies
                .any()
                .then(|| crate::policy::Runtime::new(&model.policies)),
            fold: true,
            marked: model.events.iter().any(|e| recent_first(e).is_some()),
            recent_ticks: model
                .events
                .iter()
                .filter(|e| recent_first(e).is_some())
                .map(|e| e.at)
                .collect(),
            seen_at_start: None,
            #[cfg(test)]
            recent_answers: (0, 0),
            #[cfg(test)]
            recent_looks: 0,
        };
        if let Some(b) = &model.behaviour {
            engine.schedule_first_polls(b);
        }
        if engine.marked {
            use rayon::prelude::*;
            let fleet = &engine.state.fleet;
            engine.seen_at_start = (0..fleet.len() as u32)
                .into_par_iter()
                .filter_map(|i| fleet.last_seen(DeviceIdx(i)))
                .max();
            // Tick 0's mark; each later tick's is made by the tick before it (`step`).
            for block in &mut engine.calendar {
                block.mark(0);
            }
        }
        engine
    }

    fn schedule_first_polls(&mut self, behaviour: &Behaviour) {
        use rayon::prelude::*;
        let seed = self.model.seed;
        let fleet = &self.state.fleet;
        self.calendar
            .par_iter_mut()
            .enumerate()
            .for_each(|(b, block)| {
                let base = b * BLOCK;
                for i in base..(base + BLOCK).min(fleet.len()) {
                    let d = DeviceIdx(i as u32);
                    if !fleet.is_present(d) {
                        continue;
                    }
                    let p = &behaviour.profiles[fleet.profile(d) as usize];
                    let t = rng::below(p.poll_interval, seed, d.0, 0, rng::Purpose::FirstPoll);
                    block.push(t, i - base, seen_of(fleet, d), Carry::Nothing);
                }
            });
    }

    /// The current state (catalog and fleet).
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The per-tick records so far.
    pub fn series(&self) -> &TickLog {
        &self.series
    }

    /// The model being simulated.
    pub fn model(&self) -> &Model {
        self.model
    }

    /// The rollout policies in progress, if the model has any (R40 log).
    pub fn policy(&self) -> Option<&crate::policy::Runtime> {
        self.policy.as_ref()
    }

    /// Ticks simulated so far.
    pub fn simulated(&self) -> u64 {
        self.simulated
    }

    /// Wakes currently scheduled (one per present, polling device).
    pub fn scheduled(&self) -> usize {
        self.calendar.iter().map(|b| b.wakes().count()).sum()
    }

    /// Applies the events and arrivals of tick `t` (the next one not begun).
    fn begin(&mut self, t: u64) -> Result<(), EventError> {
        debug_assert_eq!(t, self.begun);
        let model = self.model;
        let mut fleet_changed = false;
        self.state.fleet.log_changes();
        if let Some(rt) = &mut self.policy {
            rt.before_events(&mut self.state);
        }
        while let Some(event) = model.events.get(self.next_event) {
            if event.at > t {
                break;
            }
            let picked = self.recently_seen(event, t);
            #[cfg(test)]
            if recent_first(event).is_some() {
                let (answered, copied) = &mut self.recent_answers;
                *if picked.is_some() { answered } else { copied } += 1;
            }
            if picked.is_none() && event.reads_last_seen() {
                // Bulk staging may order devices by when they were last seen (R21):
                // bring the fleet's column up to date from the calendar (a pass over
                // every wake), only for the events that read it.
                self.sync_last_seen();
            }
            match self
                .state
                .apply(picked.as_ref().unwrap_or(event), model.seed)
            {
                Ok(()) => {}
                // An event on an activation a gate pulled is skipped (R37).
                Err(_)
                    if self
                        .policy
                        .as_ref()
                        .is_some_and(|p| p.explains_failure(event)) => {}
                Err(e) => return Err(e),
            }
            if let Some(rt) = &mut self.policy {
                rt.event_applied(event, &self.state);
            }
            fleet_changed |= event.changes_fleet();
            self.next_event += 1;
        }
        if let Some(rt) = &mut self.policy {
            // R35: ramp steps due now, after the tick's events.
            fleet_changed |= rt.apply_steps(t, &mut self.state, model.seed);
        }
        let changes = self.state.fleet.take_changes();
        self.series.catalog_changed(&self.state.catalog);
        if fleet_changed || changes.as_ref().is_some_and(|c| !c.devices.is_empty()) {
            self.fleet_changed(changes);
        }
        while let Some(&(at, d)) = model.arrivals.get(self.next_arrival) {
            if at > t {
                break;
            }
            self.state.fleet.set_present(d, true);
            self.hot[d.index()] = Hot::of(&self.state.fleet, d);
            self.series
                .arrive(&self.state.catalog, &self.state.fleet, d);
            self.series.counters_mut(t).arrived += 1;
            if let Some(rt) = &mut self.policy {
                rt.version_changed(d, t);
            }
            if model.behaviour.is_some() {
                let (b, off) = block_of(d);
                self.calendar[b].push(t, off, seen_of(&self.state.fleet, d), Carry::Nothing);
            }
            self.next_arrival += 1;
        }
        self.begun = t + 1;
        Ok(())
    }

    /// Brings the hot words and the series up to date after events changed the fleet:
    /// for just the devices the fleet logged when it can (a device's old report is in
    /// its hot word, or in the log when the word is cold), else by rebuilding and
    /// recounting everything.
    fn fleet_changed(&mut self, changes: Option<Changes>) {
        use rayon::prelude::*;
        let Some(mut changes) = changes.filter(|_| self.state.fleet.len() == self.hot.len()) else {
            return self.rebuild();
        };
        // Devices a setter other than `set_staged` changed: their words are rebuilt from
        // the fleet one by one, which needs their old reports.
        let others = std::mem::take(&mut changes.others);
        let (fleet, catalog, hot) = (&self.state.fleet, &self.state.catalog, &self.hot);
        let known = others.par_iter().with_min_len(1 << 12).all(|&i| {
            let (h, d) = (hot[i as usize], DeviceIdx(i));
            // Presence and profile are not the events' to change; a word cold for ids
            // too large to pack has its old report nowhere.
            h.present() == fleet.is_present(d)
                && h.profile() == fleet.profile(d)
                && old_report(catalog, h, &changes, i).is_some()
        });
        if !known {
            return self.rebuild();
        }
        // The rest changed only their staged flags: the words that are not cold take
        // the flips at once; of the cold ones, those cold for ids too large to pack have
        // their old reports nowhere, and then everything is rebuilt (the series too,
        // whatever the flips already moved).
        let flipped_only = if others.is_empty() {
            std::mem::take(&mut changes.devices)
        } else {
            crate::bitmap::without(&changes.devices, &others)
        };
        let mut cold = self.staged_flips(&flipped_only);
        let (catalog, hot) = (&self.state.catalog, &self.hot);
        if cold
            .iter()
            .any(|&i| old_report(catalog, hot[i as usize], &changes, i).is_none())
        {
            return self.rebuild();
        }
        cold.extend(others);
        let (fleet, catalog) = (&self.state.fleet, &self.state.catalog);
        let columns = fleet.columns();
        for i in cold {
            let d = DeviceIdx(i);
            let h = &mut self.hot[d.index()];
            let new = columns.report(d.index());
            if h.present() {
                let old = old_report(catalog, *h, &changes, i).expect("checked above");
                if old != new {
                    self.series.change_report(catalog, &old, &new);
                }
            }
            *h = Hot::of_report(&new, h.present(), h.profile());
        }
        #[cfg(debug_assertions)]
        {
            // Debug builds (the tests) check the incremental update against the full one.
            debug_assert!(self.hot == hot::build(fleet), "hot words out of date");
            let mut fresh = self.series.clone();
            fresh.recount(catalog, fleet);
            debug_assert!(
                fresh.same_counts(&self.series),
                "incremental counts differ from a recount"
            );
        }
    }

    /// Rebuilds the hot words from the fleet, grows the calendar to its blocks and
    /// recounts the series: what an update after events falls back to when it cannot
    /// tell devices' old reports.
    fn rebuild(&mut self) {
        let fleet = &self.state.fleet;
        self.hot = hot::build(fleet);
        let ring = calendar::ring_size(self.model.behaviour.as_ref());
        self.calendar
            .resize_with(n_blocks(fleet.len()), || Block::new(ring));
        self.outs
            .resize_with(n_blocks(fleet.len()), step::BlockOut::default);
        self.series.recount(&self.state.catalog, fleet);
    }

    /// Brings the words of `devices` (a sparse bitmap of rows), whose only change is
    /// their staged flag, and the series' counts up to date, and returns those whose
    /// words are cold (their reports are the fleet's, to be updated one by one). A ramp
    /// step flips 100,000s of flags, so the words are read and written in parallel, the
    /// fleet's flags read a bitmap word at a time (the rest of the report is in the
    /// word), and the series moves devices per class, counted per run, not one at a
    /// time.
    fn staged_flips(&mut self, devices: &[(u32, u64)]) -> Vec<u32> {
        use rayon::prelude::*;
        const RUN: usize = 1 << 11;
        const AHEAD: usize = 48;
        let (fleet, catalog) = (&self.state.fleet, &self.state.catalog);
        // Each run of bitmap words with the hot words of its rows.
        let parts =
            crate::row_runs::runs_by(devices, &mut self.hot, RUN, |&(w, _)| (w as usize + 1) * 64);
        // Flips counted per old report, keyed by the word's report bits (a u64 hashed,
        // not a report built per device).
        let results: Vec<(hashbrown::HashMap<u64, u64>, Vec<u32>)> = parts
            .into_par_iter()
            .with_max_len(1)
            .map(|(run, words, base)| {
                let mut flipped: hashbrown::HashMap<u64, u64> = Default::default();
                // A few dozen distinct reports flip in a ramp step: counted first in a
                // small table indexed by the key's hash, the map touched only when a
                // slot changes hands (and at the end).
                let mut recent = [(0u64, 0u64); 64];
                let mut cold = Vec::new();
                // The hot word of the row `AHEAD` rows on is fetched early, so that
                // the misses overlap: a word's flips leave gaps the CPU's own
                // prefetcher does not cross. (The flags are read a word of 64 rows
                // at a time, in order.)
                let mut ahead = crate::bitmap::ones_of(run).skip(AHEAD);
                for &(w, mut bits) in run {
                    let now = fleet.staged_word(w as usize);
                    while bits != 0 {
                        if let Some(a) = ahead.next() {
                            crate::prefetch::prefetch(
                                words.as_ptr().wrapping_add(a as usize - base),
                            );
                        }
                        let b = bits.trailing_zeros();
                        bits &= bits - 1;
                        let i = w * 64 + b;
                        let h = &mut words[i as usize - base];
                        if h.is_cold() {
                            cold.push(i);
                            continue;
                        }
                        let staged = now >> b & 1 != 0;
                        if h.staged() != staged {
                            if h.present() {
                                let key = h.report_key();
                                let slot = &mut recent
                                    [(key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as usize];
                                if slot.0 != key || slot.1 == 0 {
                                    if slot.1 > 0 {
                                        *flipped.entry(slot.0).or_default() += slot.1;
                                    }
                                    *slot = (key, 0);
                                }
                                slot.1 += 1;
                            }
                            h.set_staged(staged);
                        }
                    }
                }
                for (key, n) in recent {
                    if n > 0 {
                        *flipped.entry(key).or_default() += n;
                    }
                }
                (flipped, cold)
            })
            .collect();
        let mut cold = Vec::new();
        for (flipped, c) in results {
            for (key, n) in flipped {
                let old = Hot::report_of_key(key, catalog);
                let new = DeviceReport {
                    staged: !old.staged,
                    ..old
                };
                self.series.change_reports(catalog, &old, &new, n);
            }
            cold.extend(c);
        }
        cold
    }

    /// Simulates tick `t` (events of `t` already applied).
    fn simulate(&mut self, t: u64) {
        debug_assert_eq!(t + 1, self.begun);
        let mut counters = Counters::default();
        if let Some(behaviour) = &self.model.behaviour {
            self.decider.refresh(&self.state.catalog);
            let policy_tick = self.policy.as_ref().map(|runtime| step::PolicyTick {
                open: behaviour
                    .profiles
                    .iter()
                    .map(|p| {
                        p.update_window
                            .is_none_or(|w| w.open_at(t, self.model.tick_seconds))
                    })
                    .collect(),
                caps: self.model.policies.has_caps(),
                runtime,
            });
            let mark = self.marked && self.looked_back_at(t + 1);
            let (columns, versions) = self.state.fleet.split_versions();
            let tick = step::Tick {
                catalog: &self.state.catalog,
                columns,
                decider: &self.decider,
                behaviour,
                rng: rng::Stream::new(self.model.seed),
                t,
                fold: self.fold && policy_tick.is_none(),
                mark,
                policy: policy_tick.as_ref(),
            };
            step::process(
                &tick,
                &mut self.calendar,
                &mut self.hot,
                versions,
                &mut self.outs,
            );
            step::admit(&tick, &mut self.calendar, &mut self.outs);
            drop(policy_tick);
            step::merge(
                &mut self.outs,
                &mut self.state,
                &mut self.series,
                &mut counters,
                self.policy.as_mut(),
                t,
            );
        }
        if let Some(rt) = &mut self.policy {
            // R37: gates look back from the end of the tick.
            rt.end_of_tick(t, &self.state);
        }
        if self.record_series {
            self.series.record(t, counters, &self.state.catalog);
        }
        self.simulated = t + 1;
    }

    /// Advances to the state at tick `target`: every event with `at <= target` applied
    /// and ticks `0..target` simulated. `on_tick` is called after each simulated tick.
    pub fn advance_to(
        &mut self,
        target: u64,
        mut on_tick: impl FnMut(u64),
    ) -> Result<(), EventError> {
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

    /// Replaces the catalog, between ticks, with one that only adds releases and
    /// activations to the current one (delta planning's what-if, R28: planned deltas
    /// activated at T). Versions, cohorts and devices are unchanged, so the fleet, the
    /// calendar and the hot words stay valid; the series grows room for the new releases.
    pub fn extend_catalog(&mut self, catalog: crate::catalog::Catalog) {
        debug_assert_eq!(catalog.n_versions(), self.state.catalog.n_versions());
        debug_assert!(catalog.releases().count() >= self.state.catalog.releases().count());
        self.series.releases_added(catalog.releases().count());
        self.state.catalog = catalog;
        self.series.catalog_changed(&self.state.catalog);
    }

    /// A stage or unstage of the `limit` most recently seen devices (R21), answered
    /// without the copy of every wake's last-seen tick ([`Engine::sync_last_seen`],
    /// memory-bound: a selection every day of a 10M-device run copied about 10M wakes
    /// each time): from the wakes pushed since the last tick, or the last few, which
    /// hold every device seen since then with its tick ([`seen_since`]), and
    /// [`staging::recently_seen`](crate::staging::recently_seen) tells whether those
    /// settle the answer. Returned as the same event naming the devices it picks;
    /// `None` (then the full copy runs) when the calendars keep no marks, the event is
    /// another kind, or the last [`calendar::MARKS`] ticks do not settle it.
    fn recently_seen(&mut self, event: &Event, t: u64) -> Option<Event> {
        use crate::staging::{Recent, Selection};
        use crate::timeline::Action;
        if !self.marked {
            return None;
        }
        let (filter, staged) = recent_first(event)?;
        let limit = filter.limit?;
        let mut back = 1;
        loop {
            let floor = t.checked_sub(back)?;
            if self.seen_at_start.is_some_and(|s| floor as i64 <= s) {
                return None;
            }
            let calendar = &self.calendar;
            let fleet = &mut self.state.fleet;
            // A first look at the last tick alone reads the blocks in order and stops at
            // the limit; a look further back reads every wake pushed since its floor.
            let found = if back == 1 {
                crate::staging::recently_seen_last(fleet, filter, |test, limit| {
                    seen_last_first(calendar, floor, test, limit)
                })
            } else {
                crate::staging::recently_seen(fleet, filter, |test| {
                    seen_since(calendar, floor, test)
                })
            };
            match found {
                Recent::Picked(devices) => {
                    #[cfg(test)]
                    {
                        self.recent_looks = self.recent_looks.max(back);
                    }
                    return Some(Event {
                        action: Action::Stage {
                            selection: Selection::Ids(devices),
                            staged,
                        },
                        ..event.clone()
                    });
                }
                Recent::Short(n) => {
                    // Further back, far enough to hold `limit` matches at the rate of
                    // the ticks looked at (and a tenth more), at most as far as the
                    // marks go: each look reads every wake pushed since its floor.
                    let furthest = calendar::MARKS as u64 - 1;
                    if back >= furthest {
                        return None;
                    }
                    let enough = (limit as u64 * back * 11 / 10)
                        .checked_div(n as u64)
                        .map_or(furthest, |ticks| ticks + 1);
                    back = enough.clamp(back + 1, furthest);
                }
                Recent::Unknown => return None,
            }
        }
    }

    /// Whether a selection of the most recently seen devices may look back at tick
    /// `m` (a floor of [`Engine::recently_seen`]): one at a tick in `m + 1 ..= m +
    /// MARKS - 1`. Marking only those ticks keeps every floor a selection asks for
    /// marked, so its answer and the wakes it reads are the same as with a mark at
    /// every tick, and a timeline's other ticks do not copy their rings' ends.
    fn looked_back_at(&self, m: u64) -> bool {
        let next = self.recent_ticks.partition_point(|&at| at <= m);
        self.recent_ticks
            .get(next)
            .is_some_and(|&at| at - m < calendar::MARKS as u64)
    }

    /// Copies every scheduled device's last-seen tick into the fleet: from the wakes
    /// pushed since the last copy, as the others' ticks are in the fleet already (only
    /// a poll sets a device's tick, and it pushes the device's next wake).
    pub fn sync_last_seen(&mut self) {
        use rayon::prelude::*;
        // Block b's wakes are devices b × BLOCK + offset: the column cut at the same
        // places gives each block its own slice.
        let ticks = self.state.fleet.last_seen_ticks_mut();
        ticks
            .par_chunks_mut(BLOCK)
            .zip(self.calendar.par_iter_mut())
            // A block a task, as in a tick (`step::process`).
            .with_max_len(1)
            .for_each(|(ticks, block)| {
                copy_ticks(ticks, block.unsynced());
                // Debug builds (the tests) check the copy against one from every wake.
                debug_assert!(
                    block
                        .wakes()
                        .all(|w| w.seen == i32::MIN || ticks[w.off()] == w.seen),
                    "last-seen ticks out of date"
                );
            });
    }

    /// Consumes the engine, returning its final state and series.
    pub fn finish(mut self) -> (State, TickLog) {
        self.sync_last_seen();
        (self.state, self.series)
    }
}

/// The state at tick `t` (spec §8), simulating device behaviour when the model has
/// any.
pub fn state_at(model: &Model, t: u64) -> Result<State, EventError> {
    state_from(model, model.initial.clone(), t)
}

/// The state at tick `t` from `initial`, the model's initial state (moved or copied).
pub fn state_from(model: &Model, initial: State, t: u64) -> Result<State, EventError> {
    if model.behaviour.is_none() && !model.policies.has_ramps() {
        return apply_until(model, initial, t);
    }
    let mut engine = Engine::with_state(model, initial, false);
    engine.advance_to(t, |_| {})?;
    Ok(engine.finish().0)
}

/// Without device behaviour a tick only applies its events, then its arrivals, as
/// [`Engine::advance_to`] does; this does the same without the engine's per-device
/// state (hot words, calendars, counts), which for a query on a 10M-device fleet cost
/// more than the query.
fn apply_until(model: &Model, mut state: State, t: u64) -> Result<State, EventError> {
    let events = model.events.iter().take_while(|e| e.at <= t);
    let mut arrivals = model
        .arrivals
        .iter()
        .take_while(|&&(at, _)| at <= t)
        .peekable();
    for event in events {
        while let Some(&(_, d)) = arrivals.next_if(|&&(at, _)| at < event.at) {
            state.fleet.set_present(d, true);
        }
        state.apply(event, model.seed)?;
    }
    for &(_, d) in arrivals {
        state.fleet.set_present(d, true);
    }
    Ok(state)
}

/// Rules that send a payload, in output order.
pub const UPDATE_RULES: [Rule; 4] = [
    Rule::Override,
    Rule::Delta,
    Rule::MustPassThrough,
    Rule::Full,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{LoadOptions, Scenario};

    /// A scenario without behaviour: groups, arrivals, and events (a staged rollout,
    /// bulk staging, a move) at ticks where devices also arrive.
    const NO_BEHAVIOUR: &str = r#"
seed = 5
tick = "1h"
duration = "2d"

[[cohorts]]
name = "beta"

[[releases]]
version = "1.0.0"
payloads = { "evt" = 10 }

[[releases]]
version = "2.0.0"
payloads = { "evt" = 20 }

[fleet]
devices = 3_000

[[fleet.groups]]
name = "main"
share = 1
hardware_version = "evt"
versions = { "1.0.0" = 1 }

[[fleet.arrivals]]
name = "factory"
per_day = 1_200
software_version = "1.0.0"
hardware_version = "evt"

[[events]]
at = "3h"
action = "activate"
release = "2.0.0"
cohort = "default"
rollout_percent = 10

[[events]]
at = "5h"
action = "stage"
cohort = "default"
software_version = "1.0.0"
limit = 700
order = "random"

[[events]]
at = "5h"
action = "set_rollout"
release = "2.0.0"
cohort = "default"
rollout_percent = 40
"#;

    /// Blocks fold their reports and downloads before the merge: the series are
    /// those of merging them one by one, on a run with failed, resumed and
    /// completed downloads, failed installs, retirements and arrivals over two blocks.
    #[test]
    fn folded_block_outputs_record_what_unfolded_ones_do() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/rollout.toml");
        let options = LoadOptions {
            devices: Some(70_000),
            ..LoadOptions::default()
        };
        let sc = Scenario::load(&path, &options).unwrap();
        let run = |fold: bool| {
            let mut engine = Engine::new(&sc, true);
            engine.fold = fold;
            engine.advance_to(240, |_| {}).unwrap();
            let series = engine.finish().1;
            let totals = series.release_totals();
            assert!(totals
                .iter()
                .any(|r| r.downloads_failed > 0 && r.installs_failed > 0));
            (
                series.ticks(),
                series.bytes_by_rule(),
                series.bytes_by_release(),
                totals,
                series.at_final().map(<[Vec<u64>]>::to_vec),
                format!("{:?}", series.reach()),
            )
        };
        assert!(sc.initial.fleet.len() > BLOCK);
        assert!(run(true) == run(false));
    }

    /// R21: selections of the most recently seen devices with a limit pick the same
    /// devices from the ticks of the last few ticks' wakes as from every wake's, in
    /// small and large cohorts, for small limits and limits too large for a short look
    /// back, among staged and unstaged devices, with and without a hardware filter.
    #[test]
    fn r21_recently_seen_selections_pick_what_the_copy_of_every_wake_picks() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/rollout.toml");
        // Half the polls missed: many wakes pushed in the last ticks carry an older
        // last-seen tick, which must not count as seen since.
        let mut text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("online_probability = 0.9", "online_probability = 0.5");
        assert!(text.contains("online_probability = 0.5"));
        let cohorts = ["beta", "production", "default"];
        for k in 0..60u64 {
            let limit = [1, 40, 300, 2_000, 9_000][(k % 5) as usize];
            let cohort = cohorts[(k % 3) as usize];
            let stage = k % 4 != 3;
            let hardware = if k % 2 == 0 {
                "hardware_version = \"evt\"\n"
            } else {
                ""
            };
            text += &format!(
                "\n[[events]]\nat = \"{}h\"\naction = \"{}\"\ncohort = \"{cohort}\"\nstaged = {}\n{hardware}limit = {limit}\norder = \"last_seen_desc\"\n",
                3 + k * 11,
                if stage { "stage" } else { "unstage" },
                !stage,
            );
        }
        let options = LoadOptions {
            devices: Some(30_000),
            ..LoadOptions::default()
        };
        let sc = Scenario::from_text(&path, &text, &options).unwrap();
        // Also with a fleet table's last-seen ticks inside the run (tick 20): those
        // devices are the most recently seen until then, with no wake pushed since.
        for seen_ahead in [false, true] {
            let mut start = sc.initial.clone();
            if seen_ahead {
                for i in (0..start.fleet.len() as u32).step_by(7) {
                    start.fleet.set_last_seen(DeviceIdx(i), 20);
                }
            }
            let run = |marked: bool| {
                let mut engine = Engine::with_state(&sc, start.clone(), true);
                assert!(engine.marked, "the timeline has selections to answer");
                engine.marked = marked;
                engine.advance_to(700, |_| {}).unwrap();
                let answers = (engine.recent_answers, engine.recent_looks);
                let (state, series) = engine.finish();
                let staged: Vec<bool> = (0..state.fleet.len() as u32)
                    .map(|i| state.fleet.staged(DeviceIdx(i)))
                    .collect();
                (answers, staged, series.ticks())
            };
            let ((answers, looks), staged, ticks) = run(true);
            let ((all_copied, _), staged_copied, ticks_copied) = run(false);
            assert!(
                answers.0 > 10 && answers.1 > 0,
                "both ways taken: {answers:?}"
            );
            // Some answers needed a second look, several ticks back.
            assert!(looks >= 3, "furthest look: {looks} ticks");
            assert_eq!(all_copied, (0, 60));
            assert!(
                staged == staged_copied,
                "the same devices staged ({seen_ahead})"
            );
            assert!(ticks == ticks_copied, "the same simulation ({seen_ahead})");
        }
    }

    /// R21: the first look of a selection by last seen, which reads the blocks in order
    /// and stops at the limit (`seen_last_first`), tells what the look at every wake
    /// pushed since the last tick tells (`seen_since`): the same devices picked, or the
    /// same number short, over several blocks, for limits met in the first block, in a
    /// later one, or never, with the wakes of missed polls carrying older ticks.
    #[test]
    fn r21_a_first_look_in_fleet_order_tells_what_a_look_at_every_wake_tells() {
        use crate::ids::CohortId;
        use crate::staging::{recently_seen, recently_seen_last, Filter, Order, Recent};
        use rand::{Rng, SeedableRng};
        let n = 3 * BLOCK + 700;
        let mut fleet = crate::staging::tests::fleet(n, 3);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for i in 0..n as u32 {
            if rng.gen_bool(0.4) {
                fleet.set_staged(DeviceIdx(i), true);
            }
        }
        // Cohort 2 only in the last two blocks, the short one included.
        for i in (0..2 * BLOCK as u32).filter(|i| i % 3 == 2) {
            fleet.move_to(DeviceIdx(i), CohortId(0));
        }
        let mut calendar: Vec<Block> = (0..n_blocks(n)).map(|_| Block::new(32)).collect();
        // A device has one wake at a time: each pushes one here, at a random tick.
        let mut devices: Vec<usize> = (0..n).collect();
        rand::seq::SliceRandom::shuffle(&mut devices[..], &mut rng);
        for (t, some) in devices.chunks(25_000).take(6).enumerate() {
            let t = t as u64;
            for block in &mut calendar {
                block.mark(t);
            }
            for &d in some {
                // A missed poll pushes a wake that carries an older tick.
                let seen = if rng.gen_bool(0.8) {
                    t
                } else {
                    t.saturating_sub(3)
                };
                let (b, off) = block_of(DeviceIdx(d as u32));
                let at = t + 1 + rng.gen_range(0..20);
                calendar[b].push(at, off, seen as i32, Carry::Nothing);
            }
        }
        let latest = 5;
        let (mut picked, mut short) = (0, 0);
        for cohort in 0..3 {
            for staged in [Some(false), Some(true), None] {
                for hardware in [None, Some(crate::ids::HardwareId(1))] {
                    for limit in [1, 50, 3_000, 9_000, 20_000, 100_000] {
                        let filter = Filter {
                            cohort: CohortId(cohort),
                            hardware,
                            versions: None,
                            staged,
                            limit: Some(limit),
                            order: Order::LastSeenDesc,
                        };
                        let first = recently_seen_last(&mut fleet, &filter, |test, limit| {
                            seen_last_first(&calendar, latest, test, limit)
                        });
                        let every = recently_seen(&mut fleet, &filter, |test| {
                            seen_since(&calendar, latest, test)
                        });
                        let what = format!("{filter:?}");
                        match (first, every) {
                            (Recent::Picked(a), Recent::Picked(b)) => {
                                assert_eq!(a, b, "{what}");
                                picked += 1;
                            }
                            (Recent::Short(a), Recent::Short(b)) => {
                                assert_eq!(a, b, "{what}");
                                short += 1;
                            }
                            (a, b) => panic!("{what}: {a:?} against {b:?}"),
                        }
                    }
                }
            }
        }
        assert!(picked > 30 && short > 10, "both answers: {picked}, {short}");
        // Before the oldest mark kept, neither look can tell.
        for block in &mut calendar {
            for t in 6..6 + calendar::MARKS as u64 {
                block.mark(t);
            }
        }
        let filter = Filter {
            cohort: CohortId(0),
            hardware: None,
            versions: None,
            staged: None,
            limit: Some(10),
            order: Order::LastSeenDesc,
        };
        let first = recently_seen_last(&mut fleet, &filter, |test, limit| {
            seen_last_first(&calendar, latest, test, limit)
        });
        assert!(matches!(first, Recent::Unknown), "{first:?}");
    }

    #[test]
    fn without_behaviour_events_and_arrivals_apply_as_the_engine_does() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no-behaviour.toml");
        std::fs::write(&path, NO_BEHAVIOUR).unwrap();
        let sc = Scenario::load(&path, &LoadOptions::default()).unwrap();
        assert!(sc.behaviour.is_none() && !sc.arrivals.is_empty());
        for t in [0, 3, 4, 5, 6, 20, 48] {
            let quick = apply_until(&sc, sc.initial.clone(), t).unwrap();
            let mut engine = Engine::with_state(&sc, sc.initial.clone(), false);
            engine.advance_to(t, |_| {}).unwrap();
            let slow = engine.finish().0;
            let devices = |s: &State| -> Vec<_> {
                (0..s.fleet.len() as u32)
                    .map(|i| {
                        let d = DeviceIdx(i);
                        (s.fleet.is_present(d), s.fleet.report(d))
                    })
                    .collect()
            };
            assert_eq!(devices(&quick), devices(&slow), "tick {t}");
            assert_eq!(
                crate::matrix::version_matrix(&quick.catalog, &quick.fleet, None),
                crate::matrix::version_matrix(&slow.catalog, &slow.fleet, None),
                "tick {t}"
            );
        }
    }
}
