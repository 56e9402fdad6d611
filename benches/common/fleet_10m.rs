//! The 10M-device Parquet fleet of `import_parquet_10m` and its scenario, shared by the
//! benches that use it (`import`, `diff`). See `benches/import.rs` for the table.
#![allow(dead_code)]

use polars::prelude::{Categories, Column, DataFrame, DataType};

pub const N_DEVICES: usize = 10_000_000;
pub const N_CSV: usize = 1_000_000;
pub const COHORTS: [&str; 4] = ["default", "beta", "stable", "canary"];
pub const HARDWARE: [&str; 3] = ["evt", "dvt", "pvt"];
pub const N_VERSIONS: usize = 40;

pub fn version(i: usize) -> String {
    // Pre-releases among them, so that precedence is not string order.
    if i % 10 == 9 {
        format!("1.{}.0-rc.1", i / 10 + 1)
    } else {
        format!("0.{}.{}", i / 10, i % 10)
    }
}

/// The scenario the table is imported into: cohorts, one full release per version with
/// a payload for each hardware version, 60 delta releases into the four cohorts'
/// targets (100 releases in all), and their activations.
pub fn scenario_text() -> String {
    let mut text = String::from("seed = 1\n");
    for c in &COHORTS[1..] {
        text += &format!("[[cohorts]]\nname = \"{c}\"\n");
    }
    for v in 0..N_VERSIONS {
        text += &format!(
            "[[releases]]\nversion = \"{}\"\npayloads = {{ \"evt\" = 1000, \"dvt\" = 1100, \"pvt\" = 1200 }}\n",
            version(v)
        );
    }
    // Deltas from the older versions (below 0.3.0, no pre-releases) to each cohort's
    // target, each activated in that cohort.
    let targets = COHORTS
        .iter()
        .enumerate()
        .map(|(i, c)| (version(N_VERSIONS - 1 - i * 3), c));
    let froms: Vec<String> = (0..30).filter(|i| i % 10 != 9).map(version).collect();
    let deltas: Vec<(String, String, &&str)> = targets
        .clone()
        .flat_map(|(to, c)| froms.iter().map(move |from| (from.clone(), to.clone(), c)))
        .take(60)
        .collect();
    for (from, to, _) in &deltas {
        text += &format!(
            "[[releases]]\nfrom = \"{from}\"\nto = \"{to}\"\npayloads = {{ \"evt\" = 100, \"dvt\" = 110, \"pvt\" = 120 }}\n"
        );
    }
    for (to, c) in targets {
        text += &format!(
            "[[events]]\nat = 0\naction = \"activate\"\nrelease = \"{to}\"\ncohort = \"{c}\"\n"
        );
    }
    for (from, to, c) in &deltas {
        text += &format!(
            "[[events]]\nat = 0\naction = \"activate\"\nrelease = \"{from}->{to}\"\ncohort = \"{c}\"\n"
        );
    }
    text
}

/// A fleet table of `n` devices; text columns categorical when asked; ids in increasing
/// order, or scattered (`n` must then be coprime with 7919).
pub fn fleet_frame(n: usize, categorical: bool, sorted_ids: bool) -> DataFrame {
    let versions: Vec<String> = (0..N_VERSIONS).map(version).collect();
    // A cheap deterministic scatter, so that neighbouring rows differ.
    let pick = |i: usize, salt: usize, k: usize| (i.wrapping_mul(2_654_435_761) >> salt) % k;
    let text = |name: &str, cells: Vec<&str>| {
        let c = Column::new(name.into(), cells);
        if categorical {
            c.cast(&DataType::from_categories(Categories::global()))
                .unwrap()
        } else {
            c
        }
    };
    let ids: Vec<String> = (0..n)
        .map(|i| {
            let id = if sorted_ids { i } else { i * 7919 % n };
            format!("SN-{id:08}")
        })
        .collect();
    DataFrame::new_infer_height(vec![
        Column::new("device_id".into(), ids),
        text(
            "hardware_version",
            (0..n).map(|i| HARDWARE[pick(i, 3, 3)]).collect(),
        ),
        text(
            "software_version",
            (0..n)
                .map(|i| versions[pick(i, 7, N_VERSIONS)].as_str())
                .collect(),
        ),
        text("cohort", (0..n).map(|i| COHORTS[pick(i, 11, 4)]).collect()),
        Column::new(
            "last_seen".into(),
            (0..n as i64).map(|i| -(i % 720)).collect::<Vec<i64>>(),
        ),
    ])
    .unwrap()
}
