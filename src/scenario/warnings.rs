//! Suspicious but valid input, found once the scenario is loaded: things that make a run
//! look fine while it answers another question than the one asked (docs/semantics.md,
//! "Warnings"). Each is placed like an error; commands print them on stderr, `validate`
//! counts them and `--deny-warnings` turns them into an error.

use rayon::prelude::*;

use crate::catalog::did_you_mean;
use crate::ids::{DeviceIdx, HardwareId};

use super::{Scenario, ScenarioError};

/// The warnings of a loaded scenario that need the whole model: hardware versions that no
/// release serves, payloads larger than the fleet's byte cap, and events after the end of
/// the run.
pub(crate) fn check(scenario: &Scenario) -> Vec<ScenarioError> {
    let mut out = Vec::new();
    let catalog = &scenario.initial.catalog;
    let fleet = &scenario.initial.fleet;
    let names = catalog.hardware_names();
    // Devices per hardware version (arrivals included: they will need updates too), and
    // the first device of each, to name one.
    // Counted chunk by chunk in parallel (a 10M-device fleet is loaded before every
    // command), the first device of each being the earliest chunk's.
    let hardware = fleet.columns().hardware;
    let per_hw: Vec<(u64, Option<DeviceIdx>)> = hardware
        .par_chunks(1 << 16)
        .enumerate()
        .map(|(k, chunk)| {
            let mut per_hw: Vec<(u64, Option<DeviceIdx>)> = vec![(0, None); names.len()];
            for (j, h) in chunk.iter().enumerate() {
                let slot = &mut per_hw[h.index()];
                slot.0 += 1;
                slot.1.get_or_insert(DeviceIdx((k * (1 << 16) + j) as u32));
            }
            per_hw
        })
        .reduce(
            || vec![(0, None); names.len()],
            |a, b| {
                a.into_iter()
                    .zip(b)
                    .map(|(a, b)| (a.0 + b.0, a.1.or(b.1)))
                    .collect()
            },
        );
    let served: Vec<bool> = (0..names.len())
        .map(|h| {
            catalog
                .releases()
                .any(|(_, r)| r.payload(HardwareId(h as u16)).is_some())
        })
        .collect();
    let served_names: Vec<&String> = names
        .iter()
        .zip(&served)
        .filter_map(|(n, &s)| s.then_some(n))
        .collect();
    for (h, &(count, first)) in per_hw.iter().enumerate() {
        let (Some(first), false) = (first, served[h]) else {
            continue;
        };
        out.push(ScenarioError {
            file: scenario.path.clone(),
            line: None,
            message: format!(
                "hardware version \"{}\" ({} device{}, e.g. \"{}\") has no payload in any release: those devices can never get an update{}",
                names[h],
                count,
                if count == 1 { "" } else { "s" },
                fleet.id(first),
                did_you_mean(&names[h], served_names.iter().map(|s| s.as_str())),
            ),
        });
    }
    // R38: a payload larger than the fleet's byte cap can never start downloading.
    if let Some(cap) = scenario.policies.max_bytes_per_tick {
        let largest = catalog
            .releases()
            .filter_map(|(_, r)| r.payloads.iter().map(|p| p.1).max())
            .max()
            .unwrap_or(0);
        if largest > cap {
            out.push(ScenarioError {
                file: scenario.path.clone(),
                line: None,
                message: format!(
                    "a payload of {largest} bytes is larger than [bandwidth] max_bytes_per_tick = {cap}: such downloads never start (R38)"
                ),
            });
        }
    }
    for (i, e) in scenario.events.iter().enumerate() {
        if e.at > scenario.duration_ticks {
            out.push(ScenarioError {
                file: scenario.path.clone(),
                line: scenario.event_lines.get(i).copied().flatten(),
                message: format!(
                    "event {} ({}) is at tick {}, after the end of the run (tick {}): `run` never applies it",
                    e.index,
                    e.action.name(),
                    e.at,
                    scenario.duration_ticks
                ),
            });
        }
    }
    out
}
