//! `run_*`: whole simulations of `scenarios/bench-10m.toml` (4 cohorts, 3 hardware
//! versions, 40 versions, 100 releases, staged rollouts, daily polls with jitter, link
//! rates, failures, retirement, arrivals), scaled down so that criterion can sample them:
//! `run_100k_90d` and `run_1m_7d`. The full 10M × 90-day run is timed as a whole process
//! (see README's performance table): `otasim run scenarios/bench-10m.toml --out DIR`.
//!
//! Reported as polls per second (criterion's elements/s) and hot bytes per device.
//!
//! Run with `cargo bench --bench run`.

use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};

use otasim::engine::Engine;
use otasim::scenario::{LoadOptions, Scenario};

fn scenario(devices: u64, days: u64) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/bench-10m.toml");
    let text = std::fs::read_to_string(&path).expect("bench scenario");
    let text = text.replace("duration = \"90d\"", &format!("duration = \"{days}d\""));
    Scenario::from_text(
        &path,
        &text,
        &LoadOptions {
            devices: Some(devices),
            ..LoadOptions::default()
        },
    )
    .expect("bench scenario loads")
}

fn polls(s: &Scenario) -> u64 {
    let mut engine = Engine::new(s, true);
    engine.advance_to(s.duration_ticks, |_| {}).expect("runs");
    engine
        .series()
        .ticks()
        .iter()
        .map(|t| t.counters.polls)
        .sum()
}

fn bench(c: &mut Criterion) {
    for (name, devices, days) in [("run_100k_90d", 100_000, 90), ("run_1m_7d", 1_000_000, 7)] {
        let s = scenario(devices, days);
        let n_polls = polls(&s);
        eprintln!(
            "{name}: {} devices, {} ticks, {n_polls} polls; hot state {} bytes per device",
            s.initial.fleet.len(),
            s.duration_ticks,
            otasim::engine::HOT_BYTES_PER_DEVICE
        );
        let mut g = c.benchmark_group(name);
        g.sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .measurement_time(Duration::from_secs(30))
            .throughput(Throughput::Elements(n_polls));
        g.bench_function("simulate", |b| b.iter(|| polls(&s)));
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
