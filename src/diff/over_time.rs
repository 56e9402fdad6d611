//! `otasim diff A B --over-time`: both scenarios simulated tick by tick, and per tick how
//! many devices' answer or state differ and how far apart the version distributions are,
//! so a team sees how a change plays out rather than how it looks at one moment.

use std::collections::HashMap;

use crate::catalog::Catalog;
use crate::engine::Engine;
use crate::fleet::Fleet;
use crate::ids::DeviceIdx;
use crate::scenario::{Scenario, ScenarioError};

use super::{compare_scenarios, resolve_fleet, ScenarioSide};

/// One tick of the comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct TickRow {
    /// The tick (the state at it: its events applied, ticks before it simulated).
    pub tick: u64,
    /// Devices present in A.
    pub devices_a: u64,
    /// Devices present in B.
    pub devices_b: u64,
    /// Devices whose answer (rule, release) or state (presence, reported version)
    /// differs between A and B.
    pub devices_differ: u64,
    /// A's devices that would have to change version for A's version distribution to
    /// equal B's: the sum over versions of max(0, A's count - B's count).
    pub devices_elsewhere: u64,
    /// Total variation distance between the two version distributions (as shares of
    /// each side's present devices): 0 identical, 1 disjoint.
    pub divergence: f64,
}

/// What [`over_time`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct OverTime {
    /// One row per tick, 0 to the shorter duration.
    pub rows: Vec<TickRow>,
    /// The first tick at which something differs, with the smallest differing id there.
    pub first: Option<(u64, String)>,
}

/// Simulates `a` and `b` side by side for ticks 0 to the shorter of their durations.
pub fn over_time(a: &Scenario, b: &Scenario) -> Result<OverTime, ScenarioError> {
    let end = a.duration_ticks.min(b.duration_ticks);
    let mut ea = Engine::new(a, false);
    let mut eb = Engine::new(b, false);
    // Rows never move (arrivals and retirements keep them), so devices are matched once.
    let b_of = match_rows(&a.initial.fleet, &b.initial.fleet);
    let mut rows = Vec::new();
    let mut first = None;
    for tick in 0..=end {
        ea.advance_to(tick, |_| {}).map_err(|e| a.event_error(e))?;
        eb.advance_to(tick, |_| {}).map_err(|e| b.event_error(e))?;
        let (sa, sb) = (ea.state(), eb.state());
        let (row, example) =
            compare_tick(tick, &sa.catalog, &sa.fleet, &sb.catalog, &sb.fleet, &b_of);
        if first.is_none() {
            first = example.map(|id| (tick, id));
        }
        rows.push(row);
    }
    Ok(OverTime { rows, first })
}

/// For each row of `a`, the row of the same device in `b` (`u32::MAX`: none).
fn match_rows(a: &Fleet, b: &Fleet) -> Vec<u32> {
    if a.same_ids(b) {
        return (0..a.len() as u32).collect();
    }
    (0..a.len())
        .map(|i| {
            let id = a.id(DeviceIdx(i as u32));
            if i < b.len() && b.id(DeviceIdx(i as u32)) == id {
                return i as u32;
            }
            b.find(&id).map_or(u32::MAX, |d| d.0)
        })
        .collect()
}

/// Version ids of both catalogs as one numbering, by (software type name, text).
fn global_versions(a: &Catalog, b: &Catalog) -> (Vec<u32>, Vec<u32>, usize) {
    let mut ids: HashMap<(String, String), u32> = HashMap::new();
    let mut of = |c: &Catalog| -> Vec<u32> {
        (0..c.n_versions() as u32)
            .map(|v| {
                let v = crate::ids::VersionId(v);
                let key = (
                    c.software_type(c.version_software_type(v)).name.clone(),
                    c.version(v).to_string(),
                );
                let n = ids.len() as u32;
                *ids.entry(key).or_insert(n)
            })
            .collect()
    };
    let (ga, gb) = (of(a), of(b));
    (ga, gb, ids.len())
}

fn compare_tick(
    tick: u64,
    ca: &Catalog,
    fa: &Fleet,
    cb: &Catalog,
    fb: &Fleet,
    b_of: &[u32],
) -> (TickRow, Option<String>) {
    let (ga, gb, n) = global_versions(ca, cb);
    let mut count_a = vec![0u64; n];
    let mut count_b = vec![0u64; n];
    for i in fa.present() {
        count_a[ga[fa.version(i).index()] as usize] += 1;
    }
    for j in fb.present() {
        count_b[gb[fb.version(j).index()] as usize] += 1;
    }
    let (devices_a, devices_b) = (count_a.iter().sum::<u64>(), count_b.iter().sum::<u64>());
    let share = |k: u64, total: u64| {
        if total == 0 {
            0.0
        } else {
            k as f64 / total as f64
        }
    };
    let divergence = count_a
        .iter()
        .zip(&count_b)
        .map(|(&x, &y)| (share(x, devices_a) - share(y, devices_b)).abs())
        .sum::<f64>()
        / 2.0;
    let devices_elsewhere = count_a
        .iter()
        .zip(&count_b)
        .map(|(&x, &y)| x.saturating_sub(y))
        .sum();

    // Answers (and presence) through the R33 comparison; then reported versions.
    let (da, db) = (resolve_fleet(ca, fa), resolve_fleet(cb, fb));
    let found = compare_scenarios(
        &ScenarioSide {
            catalog: ca,
            fleet: fa,
            decisions: &da,
        },
        &ScenarioSide {
            catalog: cb,
            fleet: fb,
            decisions: &db,
        },
    );
    let mut differ_a = vec![false; fa.len()];
    let mut ids: Vec<std::borrow::Cow<'_, str>> = Vec::new();
    for d in &found.devices {
        match (d.a, d.b) {
            (Some(i), _) => {
                differ_a[i.index()] = true;
                ids.push(fa.id(i));
            }
            (None, Some(j)) => ids.push(fb.id(DeviceIdx(j))),
            _ => {}
        }
    }
    for i in fa.present() {
        let j = b_of[i.index()];
        if differ_a[i.index()] || j == u32::MAX || !fb.is_present(DeviceIdx(j)) {
            continue;
        }
        if ga[fa.version(i).index()] != gb[fb.version(DeviceIdx(j)).index()] {
            differ_a[i.index()] = true;
            ids.push(fa.id(i));
        }
    }
    let example = ids.iter().min_by(|x, y| x.as_bytes().cmp(y.as_bytes()));
    let row = TickRow {
        tick,
        devices_a,
        devices_b,
        devices_differ: ids.len() as u64,
        devices_elsewhere,
        divergence,
    };
    (row, example.map(|s| s.to_string()))
}
