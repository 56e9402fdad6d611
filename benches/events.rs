//! `events`: what a timeline of hundreds of events costs a simulation. Runs
//! `scenarios/bench-10m.toml` as it is and with at least 500 more events of every kind
//! (`common/events.rs`: staged ramps in every cohort, bulk stages with filters and
//! limits, moves of 100,000 devices, overrides, activations and pulls), in turn, and
//! prints each one's median time, their ratio (target: at most 1.1) and both against
//! the floor of touching every device every tick (one table lookup per device, the
//! best of 7 passes, measured in the same sitting).
//!
//! `cargo bench --bench events` runs 1M devices; `OTASIM_BENCH_DEVICES=10000000` the
//! full size, `OTASIM_BENCH_RUNS` the pairs (default 3). It also writes the scenario to
//! `target/bench-events-<devices>.toml`, to time as a whole process with
//! `otasim run target/bench-events-10000000.toml --out DIR`.

#[path = "common/events.rs"]
mod events;

use std::time::Instant;

use otasim::engine::Engine;
use otasim::scenario::Scenario;
use rayon::prelude::*;

use events::{event_heavy_text, load, plain_text};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Seconds for the whole simulation, outputs not written.
fn simulate(s: &Scenario) -> f64 {
    let start = Instant::now();
    let mut engine = Engine::new(s, true);
    engine.advance_to(s.duration_ticks, |_| {}).expect("runs");
    std::hint::black_box(engine.series().ticks().len());
    start.elapsed().as_secs_f64()
}

/// The floor: one decision-table lookup per device over `n` devices, best of 7 (the same
/// work as the floor tool the README quotes).
fn floor_pass_seconds(n: usize) -> f64 {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut rnd = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let version: Vec<u16> = (0..n).map(|_| (rnd() % 64) as u16).collect();
    let cohort: Vec<u8> = (0..n).map(|_| (rnd() % 8) as u8).collect();
    let hw: Vec<u8> = (0..n).map(|_| (rnd() % 4) as u8).collect();
    let staged: Vec<u8> = (0..n).map(|_| (rnd() % 2) as u8).collect();
    let table: Vec<u16> = (0..64 * 8 * 4 * 2)
        .map(|i: u32| (i as u16).wrapping_mul(7))
        .collect();
    let mut next = vec![0u16; n];
    let mut best = f64::MAX;
    for _ in 0..7 {
        let t = Instant::now();
        next.par_chunks_mut(1 << 16)
            .enumerate()
            .for_each(|(c, out)| {
                let base = c << 16;
                for (i, o) in out.iter_mut().enumerate() {
                    let d = base + i;
                    let k = ((((cohort[d] as usize) * 4 + hw[d] as usize) * 64
                        + version[d] as usize)
                        << 1)
                        | staged[d] as usize;
                    *o = table[k];
                }
            });
        best = best.min(t.elapsed().as_secs_f64());
    }
    std::hint::black_box(&next);
    best
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let devices = env_or("OTASIM_BENCH_DEVICES", 1_000_000);
    let runs = env_or("OTASIM_BENCH_RUNS", 3).max(1);
    let text = plain_text();
    let plain = load(&text, devices);
    let heavy_text = event_heavy_text(&text, &plain, devices);
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("target/bench-events-{devices}.toml"));
    std::fs::write(&out, &heavy_text).expect("write the scenario");
    let heavy = Scenario::from_text(&out, &heavy_text, &Default::default()).expect("loads");
    let count = |a: &str| heavy_text.matches(&format!("action = \"{a}\"")).count();
    eprintln!(
        "events: {} in bench-10m, {} with the event-heavy timeline: set_rollout {}, stage {} + unstage {}, move {}, set_override {}, clear_override {}, activate {}, pull {} (written to {})",
        plain.events.len(),
        heavy.events.len(),
        count("set_rollout"),
        count("stage"),
        count("unstage"),
        count("move"),
        count("set_override"),
        count("clear_override"),
        count("activate"),
        count("pull"),
        out.display()
    );
    let (mut a, mut b, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let p = simulate(&plain);
        let h = simulate(&heavy);
        eprintln!("  plain {p:.2} s, event-heavy {h:.2} s ({:.3})", h / p);
        a.push(p);
        b.push(h);
        ratios.push(h / p);
    }
    let floor = floor_pass_seconds(devices as usize) * plain.duration_ticks as f64;
    let (p, h) = (median(a), median(b));
    eprintln!(
        "events_{devices}: plain {p:.2} s, event-heavy {h:.2} s: ratio {:.3} (median of {runs} pairs; target ≤ 1.10); floor {floor:.2} s ({} ticks): plain {:.2}×, event-heavy {:.2}× the floor",
        median(ratios),
        plain.duration_ticks,
        p / floor,
        h / floor
    );
}
