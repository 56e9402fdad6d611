//! The event-heavy timeline of `benches/events.rs`: `scenarios/bench-10m.toml` plus at
//! least 500 events of every kind a planner's timeline has (staged ramps in every
//! cohort, bulk stages and unstages with filters and limits, moves, two of them of
//! 100,000 devices, overrides set and cleared, activations and pulls), spread over the
//! 90 days. Ids are taken from the fleet loaded at the benchmark's scale, since
//! synthetic ids are padded to their group's size.
#![allow(dead_code)]

use std::path::Path;

use otasim::ids::DeviceIdx;
use otasim::scenario::{LoadOptions, Scenario};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const TICKS: u64 = 90 * 24;
const COHORTS: [&str; 4] = ["alpha", "beta", "stable", "fleet"];
const HARDWARE: [&str; 3] = ["evt", "dvt", "pvt"];
/// Events of each kind.
pub const PER_KIND: usize = 500;

/// `scenarios/bench-10m.toml`'s text.
pub fn plain_text() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/bench-10m.toml");
    std::fs::read_to_string(path).expect("bench-10m.toml")
}

/// `bench-10m.toml` loaded at `devices`.
pub fn load(text: &str, devices: u64) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/bench-10m.toml");
    Scenario::from_text(
        &path,
        text,
        &LoadOptions {
            devices: Some(devices),
            ..LoadOptions::default()
        },
    )
    .expect("bench scenario loads")
}

/// Devices in each of the two big moves: 100,000 from 1M devices up (the benchmark's
/// scales), a hundredth of the fleet below (the tests' small scales).
pub fn big_move(devices: u64) -> usize {
    if devices >= 1_000_000 {
        100_000
    } else {
        devices as usize / 100
    }
}

/// `bench-10m.toml` (`plain_text`, loaded as `plain`) at `plain`'s scale, with the
/// event-heavy timeline appended; `devices` is the scale `plain` was loaded at.
pub fn event_heavy_text(plain_text: &str, plain: &Scenario, devices: u64) -> String {
    let fleet = &plain.initial.fleet;
    let catalog = &plain.initial.catalog;
    let present: Vec<DeviceIdx> = (0..fleet.len() as u32)
        .map(DeviceIdx)
        .filter(|&d| fleet.is_present(d))
        .collect();
    let in_cohort = |d: DeviceIdx, name: &str| catalog.cohort(fleet.cohort(d)).name == name;
    let pool: Vec<DeviceIdx> = present
        .iter()
        .copied()
        .filter(|&d| in_cohort(d, "stable") || in_cohort(d, "fleet"))
        .collect();
    let big: Vec<String> = present
        .iter()
        .copied()
        .filter(|&d| in_cohort(d, "fleet") && catalog.hardware_name(fleet.hardware(d)) == "evt")
        .take(big_move(devices))
        .map(|d| format!("\"{}\"", fleet.id(d)))
        .collect();
    assert_eq!(big.len(), big_move(devices), "enough fleet-evt devices");

    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let some_device =
        |rng: &mut ChaCha8Rng| fleet.id(pool[rng.gen_range(0..pool.len())]).into_owned();
    // (tick, order of creation, text), sorted before writing.
    let mut events: Vec<(u64, usize, String)> = Vec::new();
    let mut push = |t: u64, text: String| {
        let n = events.len();
        events.push((t, n, text));
    };

    // Staged ramps: a staged rollout of an old release in every cohort (every device is
    // above it, so it changes no answer by itself), resized 125 times per cohort by a
    // random walk between 1 % and 60 %. It shares each cohort's one staged set (R20)
    // with bench-10m's own staged rollouts.
    for cohort in COHORTS {
        push(0, format!("action = \"activate\"\nrelease = \"1.5.0\"\ncohort = \"{cohort}\"\nrollout_percent = 1"));
        let mut percent: f64 = 1.0;
        let mut ticks: Vec<u64> = (0..PER_KIND / 4).map(|_| rng.gen_range(1..TICKS)).collect();
        ticks.sort_unstable();
        for t in ticks {
            percent = (percent + rng.gen_range(-4.0..5.0)).clamp(1.0, 60.0);
            let p = (percent * 10.0).round() / 10.0;
            push(t, format!("action = \"set_rollout\"\nrelease = \"1.5.0\"\ncohort = \"{cohort}\"\nrollout_percent = {p}"));
        }
    }

    // Bulk stages and unstages: a cohort, mostly a hardware version, a limit, an order.
    for k in 0..PER_KIND {
        let t = rng.gen_range(1..TICKS);
        let stage = k % 2 == 0;
        let mut text = format!(
            "action = \"{}\"\ncohort = \"{}\"\nstaged = {}\nlimit = {}",
            if stage { "stage" } else { "unstage" },
            COHORTS[rng.gen_range(0..4)],
            !stage,
            rng.gen_range(100..5_000)
        );
        if rng.gen_bool(0.7) {
            text += &format!("\nhardware_version = \"{}\"", HARDWARE[rng.gen_range(0..3)]);
        }
        let order = ["random", "file", "last_seen_desc", "random"][rng.gen_range(0..4)];
        text += &format!("\norder = \"{order}\"");
        push(t, text);
    }

    // Moves: 100,000 fleet-evt devices (`big_move`) to stable on day 20 and back on day
    // 60, and 498 moves of 20 devices to a random cohort.
    for (day, cohort) in [(20, "stable"), (60, "fleet")] {
        push(
            day * 24,
            format!(
                "action = \"move\"\ncohort = \"{cohort}\"\ndevices = [{}]",
                big.join(", ")
            ),
        );
    }
    for _ in 0..PER_KIND - 2 {
        let t = rng.gen_range(1..TICKS);
        let devices: Vec<String> = (0..20)
            .map(|_| format!("\"{}\"", some_device(&mut rng)))
            .collect();
        let cohort = COHORTS[rng.gen_range(0..4)];
        push(
            t,
            format!(
                "action = \"move\"\ncohort = \"{cohort}\"\ndevices = [{}]",
                devices.join(", ")
            ),
        );
    }

    // Overrides: 500 devices given the release the fleet is moving to, cleared one to
    // ten days later.
    let mut named = std::collections::BTreeSet::new();
    while named.len() < PER_KIND {
        named.insert(some_device(&mut rng));
    }
    for device in named {
        let t = rng.gen_range(1..TICKS - 240);
        push(
            t,
            format!("action = \"set_override\"\ndevice = \"{device}\"\nrelease = \"1.36.0\""),
        );
        push(
            t + rng.gen_range(24..240),
            format!("action = \"clear_override\"\ndevice = \"{device}\""),
        );
    }

    // Activations and pulls: per cohort, an old release (below every device) activated
    // and pulled a few hours later, 125 times, one at a time.
    for cohort in COHORTS {
        let mut t = 1;
        for k in 0..PER_KIND / 4 {
            let release = format!("1.{}.0", 1 + k % 4);
            push(
                t,
                format!("action = \"activate\"\nrelease = \"{release}\"\ncohort = \"{cohort}\""),
            );
            let pulled = t + rng.gen_range(1..8);
            push(
                pulled,
                format!("action = \"pull\"\nrelease = \"{release}\"\ncohort = \"{cohort}\""),
            );
            t = pulled + rng.gen_range(1..8);
        }
        assert!(t < TICKS, "the activations fit in 90 days");
    }

    events.sort_by_key(|(t, n, _)| (*t, *n));
    let mut out = format!(
        "# Event-heavy benchmark (benches/events.rs): scenarios/bench-10m.toml at {} devices\n\
         # plus 500 or more events of every kind. Generated; do not edit.\n",
        devices
    );
    out += &plain_text.replace("devices = 10_000_000", &format!("devices = {devices}"));
    for (t, _, text) in events {
        out += &format!("\n[[events]]\nat = \"{t}h\"\n{text}\n");
    }
    out
}
