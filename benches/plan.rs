//! `plan_deltas_10m`: delta planning (R27–R31) over a 10M-device fleet with 40 candidate
//! From versions, the ratio size model and K = 10. The fleet is loaded once; each sample
//! counts the device classes, walks them, finds the candidates, prices them and runs the
//! three strategies (what `otasim plan-deltas` does after loading).
//!
//! The scenario is generated (`plan_scenario`) and also written to
//! `target/plan-bench.toml`, so the whole process can be timed too:
//! `otasim plan-deltas target/plan-bench.toml --to 2.0.0 --delta-ratio 0.15 --budget 10`.
//!
//! `patch_40x1mb`: 40 patches between successive 1 MB images (each version rewrites a
//! few regions of the previous one and appends a little), computed in parallel as
//! `--images` does; prints the bytes per patch.
//!
//! Run with `cargo bench --bench plan`.

use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};

use otasim::plan::candidates::{candidates, classes};
use otasim::plan::evaluate::Model;
use otasim::plan::sizes::{Ratio, SizeModels};
use otasim::plan::strategies::{greedy, optimal, top_n, Budget};
use otasim::plan::{find_target, Candidate};
use otasim::scenario::{LoadOptions, Scenario};

/// 40 versions 1.0.0 … 1.39.0 on 3 hardware versions in 4 cohorts, MPT at 1.10.0,
/// 1.20.0 and 1.30.0, target 2.0.0 (normal in two cohorts, staged 50 % and 10 % in the
/// others).
pub fn plan_scenario(devices: u64) -> String {
    let hw = [
        ("evt", 2_000_000u64),
        ("dvt", 2_080_000),
        ("pvt", 2_160_000),
    ];
    let mut s = String::from("seed = 2026\n");
    for c in ["alpha", "beta", "stable", "fleet"] {
        s += &format!("\n[[cohorts]]\nname = \"{c}\"\n");
    }
    let payloads = |scale: u64| {
        hw.iter()
            .map(|(h, b)| format!("\"{h}\" = {}", b + scale * 10_000))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for m in [10, 20, 30] {
        s += &format!(
            "\n[[releases]]\nversion = \"1.{m}.0\"\nmust_pass_through = true\npayloads = {{ {} }}\n",
            payloads(m)
        );
    }
    s += &format!(
        "\n[[releases]]\nversion = \"2.0.0\"\npayloads = {{ {} }}\n",
        payloads(40)
    );
    s += &format!("\n[fleet]\ndevices = {devices}\n");
    let weights: Vec<String> = (0..40)
        .map(|v| format!("\"1.{v}.0\" = {}", 1 + (v * 7) % 13))
        .collect();
    for (c, cs) in [
        ("alpha", 0.05),
        ("beta", 0.15),
        ("stable", 0.3),
        ("fleet", 0.5),
    ] {
        for ((h, _), hs) in hw.iter().zip([0.5, 0.3, 0.2]) {
            s += &format!(
                "\n[[fleet.groups]]\nname = \"{c}-{h}\"\nshare = {}\ncohort = \"{c}\"\nhardware_version = \"{h}\"\nversions = {{ {} }}\n",
                cs * hs,
                weights.join(", ")
            );
        }
    }
    for c in ["alpha", "beta", "stable", "fleet"] {
        for m in [10, 20, 30] {
            s += &format!(
                "\n[[events]]\nat = 0\naction = \"activate\"\nrelease = \"1.{m}.0\"\ncohort = \"{c}\"\n"
            );
        }
        let rollout = match c {
            "stable" => "\nrollout_percent = 50",
            "fleet" => "\nrollout_percent = 10",
            _ => "",
        };
        s += &format!(
            "\n[[events]]\nat = 0\naction = \"activate\"\nrelease = \"2.0.0\"\ncohort = \"{c}\"{rollout}\n"
        );
    }
    s
}

fn bench(c: &mut Criterion) {
    let text = plan_scenario(10_000_000);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/plan-bench.toml");
    std::fs::write(&path, &text).expect("write target/plan-bench.toml");
    let mut scenario =
        Scenario::from_text(&path, &text, &LoadOptions::default()).expect("the scenario loads");
    let state = scenario.take_state_at(0).expect("state at 0");
    let (catalog, fleet) = (&state.catalog, &state.fleet);
    let plan = || {
        let target = find_target(catalog, "2.0.0", None).expect("target");
        let cl = classes(catalog, fleet).expect("no cycle");
        let mut cands = candidates(catalog, &target, &cl, None);
        let models = SizeModels {
            explicit: Vec::new(),
            images: None,
            ratio: Some("0.15".parse::<Ratio>().expect("ratio")),
        };
        models.fill(catalog, &target, &mut cands).expect("sizes");
        let model = Model::build(catalog, &target, &cands, &cl.classes, &cl.walks).expect("model");
        let stored: Vec<u64> = cands.iter().map(Candidate::stored_bytes).collect();
        let devices: Vec<u64> = cands.iter().map(|c| c.devices).collect();
        let budget = Budget {
            max_deltas: 10,
            max_stored: None,
        };
        let a = top_n(&model, &devices, &stored, budget);
        let b = greedy(&model, &stored, budget);
        let (best, _) = optimal(&model, &stored, budget, None, &[&a, &b]);
        (cands.len(), best.saving)
    };
    let (n, saving) = plan();
    eprintln!(
        "plan_deltas_10m: {} devices, {n} candidates, optimal saves {saving} bytes",
        fleet.len()
    );
    let mut g = c.benchmark_group("plan_deltas_10m");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    g.bench_function("plan", |b| b.iter(plan));
    g.finish();
}

/// Pseudo-random bytes (xorshift), reproducible from `seed`.
fn noise(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn bench_patches(c: &mut Criterion) {
    use rayon::prelude::*;
    // Half noise, half a repetitive "code" pattern, so images compress like firmware.
    let mut image: Vec<u8> = noise(1, 500_000);
    image.extend((0..524_288u32).map(|i| (i % 251) as u8 ^ (i / 4096) as u8));
    let mut images = vec![image.clone()];
    for v in 1..=40u64 {
        for r in 0..8u64 {
            let at = ((v * 7919 + r * 104_729) % (image.len() as u64 - 2_000)) as usize;
            image[at..at + 1_000].copy_from_slice(&noise(v * 100 + r, 1_000));
        }
        image.extend_from_slice(&noise(v + 10_000, 2_000));
        images.push(image.clone());
    }
    let patch_all = || -> Vec<usize> {
        (0..40)
            .into_par_iter()
            .map(|i| {
                otasim::plan::patch::make(&images[i], &images[40])
                    .expect("patch")
                    .len()
            })
            .collect()
    };
    let sizes = patch_all();
    let mean = sizes.iter().sum::<usize>() / sizes.len();
    eprintln!(
        "patch_40x1mb: 40 patches into a {} byte image: {} to {} bytes, mean {mean}",
        images[40].len(),
        sizes.iter().min().unwrap(),
        sizes.iter().max().unwrap()
    );
    let mut g = c.benchmark_group("patch_40x1mb");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .measurement_time(Duration::from_secs(30));
    g.bench_function("make", |b| b.iter(patch_all));
    g.finish();
}

criterion_group!(benches, bench, bench_patches);
criterion_main!(benches);
