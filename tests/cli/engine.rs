//! The simulation engine seen through `otasim run`: reproducibility (R22), the internal
//! consistency of the per-tick series, staged rollouts at scale (R19), link rates and
//! resumed downloads, and the state at a tick of a scenario with device behaviour
//! (spec §8).
//!
//! The engine draws its randomness per (seed, device, tick), so most checks here are
//! identities that hold whatever the draws are; where the model is deterministic (a
//! single device, no failures, no jitter) the expected numbers are computed by hand.

use std::collections::BTreeMap;

use super::runs::*;
use super::*;

/// ~20K devices with everything random switched on: jitter, offline polls, download
/// failures with and without resume, install failures (profile and per release),
/// retirement, arrivals, staged rollouts started, grown and bulk-staged mid-run. Polls
/// every 2-3 hours, so thousands of devices wake per tick (several parallel chunks).
fn busy_fleet() -> String {
    r#"
seed = 2024
tick = "1h"
duration = "3d"

[[cohorts]]
name = "beta"
[[cohorts]]
name = "production"

[[releases]]
version = "1.9.0"
must_pass_through = true
payloads = { "evt" = 1_180_000, "dvt" = 1_220_000 }
[[releases]]
version = "2.0.0"
payloads = { "evt" = 1_200_000, "dvt" = 1_250_000 }
[[releases]]
version = "2.1.0"
payloads = { "evt" = 1_210_000, "dvt" = 1_260_000 }
install_failure_probability = 0.05
[[releases]]
from = "2.0.0"
to = "2.1.0"
payloads = { "evt" = 150_000, "dvt" = 160_000 }

[behaviour]
poll_interval = "2h"
poll_jitter = "1h"
online_probability = 0.8
link_bytes_per_second = 150
download_failure_probability = 0.1
resume_downloads = true
install_failure_probability = 0.01
retirement_rate_per_day = 0.01

[[profiles]]
name = "cellular"
poll_interval = "3h"
link_bytes_per_second = 50
download_failure_probability = 0.3
resume_downloads = false
online_probability = 0.6

[fleet]
[[fleet.groups]]
name = "beta"
count = 1_000
cohort = "beta"
hardware_version = "evt"
versions = { "2.0.0" = 1 }
[[fleet.groups]]
name = "prod-evt"
count = 12_000
cohort = "production"
hardware_version = "evt"
versions = { "1.8.0" = 0.2, "2.0.0" = 0.8 }
[[fleet.groups]]
name = "prod-dvt"
count = 7_000
cohort = "production"
hardware_version = "dvt"
profile = "cellular"
versions = { "1.8.0" = 0.3, "1.9.0" = 0.1, "2.0.0" = 0.6 }

[[fleet.arrivals]]
name = "factory"
per_day = 1_000
software_version = "2.0.0"
hardware_version = "evt"
cohort = "production"

[[events]]
at = 0
action = "activate"
release = "1.9.0"
cohort = "production"
[[events]]
at = 0
action = "activate"
release = "2.0.0"
cohort = "production"
[[events]]
at = 0
action = "activate"
release = "2.1.0"
cohort = "beta"
[[events]]
at = "6h"
action = "activate"
release = "2.0.0->2.1.0"
cohort = "beta"
[[events]]
at = "1d"
action = "activate"
release = "2.1.0"
cohort = "production"
rollout_percent = 10
[[events]]
at = "1d"
action = "activate"
release = "2.0.0->2.1.0"
cohort = "production"
rollout_percent = 10
[[events]]
at = "36h"
action = "set_rollout"
release = "2.1.0"
cohort = "production"
rollout_percent = 50.5
[[events]]
at = "2d"
action = "stage"
cohort = "production"
hardware_version = "dvt"
limit = 500
order = "random"
"#
    .to_string()
}

/// The sum of a by-rule object of `summary.json`.
fn summary_rule_sum(run: &RunOut, field: &str) -> u64 {
    RULES.iter().map(|r| run.summary_u64(&[field, r])).sum()
}

/// Asserts that two runs wrote byte-identical tables (CSV and Parquet) and the same
/// summary apart from its timing fields.
#[track_caller]
fn assert_same_outputs(a: &RunOut, b: &RunOut) {
    let list = |d: &std::path::Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(list(&a.dir), list(&b.dir), "the runs wrote different files");
    for name in TABLES {
        for ext in ["csv", "parquet"] {
            let file = format!("{name}.{ext}");
            let x = std::fs::read(a.dir.join(&file)).unwrap();
            let y = std::fs::read(b.dir.join(&file)).unwrap();
            if x != y {
                let first = x.iter().zip(&y).position(|(p, q)| p != q);
                panic!(
                    "{file} differs between {} and {} (sizes {} and {}, first difference at byte {first:?})",
                    a.dir.display(),
                    b.dir.display(),
                    x.len(),
                    y.len()
                );
            }
        }
    }
    assert_eq!(
        a.summary_without_timing(),
        b.summary_without_timing(),
        "summary.json differs beyond its timing fields"
    );
}

#[test]
fn r22_run_identical_across_thread_counts() {
    let sc = Scenario::new("r22-busy.toml", &busy_fleet());
    let one = run_ok(&sc, "threads-1", &["--threads", "1"]);
    let two = run_ok(&sc, "threads-2", &["--threads", "2"]);
    let again = run_ok(&sc, "threads-2-again", &["--threads", "2"]);

    // The scenario exercises every random part of the model, or the check is hollow.
    for (what, n) in [
        ("arrived", one.summary_u64(&["arrived"])),
        ("retired", one.summary_u64(&["retired"])),
        ("missed_polls", one.summary_u64(&["missed_polls"])),
        (
            "downloads_failed",
            summary_rule_sum(&one, "downloads_failed"),
        ),
        ("installs_failed", summary_rule_sum(&one, "installs_failed")),
        (
            "delta installs",
            one.summary_u64(&["installs_succeeded", "delta"]),
        ),
        (
            "must_pass_through installs",
            one.summary_u64(&["installs_succeeded", "must_pass_through"]),
        ),
        (
            "full installs",
            one.summary_u64(&["installs_succeeded", "full"]),
        ),
    ] {
        assert!(n > 0, "test scenario should produce some {what}");
    }
    assert_eq!(one.summary_u64(&["threads"]), 1);
    assert_eq!(two.summary_u64(&["threads"]), 2);

    assert_same_outputs(&one, &two);
    assert_same_outputs(&two, &again);
}

#[test]
fn r22_other_seed_changes_results_same_seed_does_not() {
    let sc = Scenario::new("r22-seed.toml", &busy_fleet());
    let file_seed = run_ok(&sc, "file-seed", &["--threads", "2"]);
    let same_seed = run_ok(&sc, "same-seed", &["--threads", "2", "--seed", "2024"]);
    let other_seed = run_ok(&sc, "other-seed", &["--threads", "2", "--seed", "2025"]);

    // The scenario's own seed given on the command line changes nothing.
    assert_same_outputs(&file_seed, &same_seed);

    // Another seed gives another simulation (and says so).
    assert_eq!(other_seed.summary_u64(&["seed"]), 2025);
    for name in ["series", "versions", "egress", "bandwidth"] {
        let a = std::fs::read(file_seed.dir.join(format!("{name}.csv"))).unwrap();
        let b = std::fs::read(other_seed.dir.join(format!("{name}.csv"))).unwrap();
        assert_ne!(a, b, "{name}.csv is the same under seeds 2024 and 2025");
    }
    // Only the draws differ: the fleet at the start and its arrivals are the same.
    for field in ["devices_start", "arrived", "ticks"] {
        assert_eq!(
            file_seed.summary_u64(&[field]),
            other_seed.summary_u64(&[field]),
            "{field}"
        );
    }
}

/// 100,000 devices over 4 days. Production (90,000 devices + 4,000 arrivals on 1.8.0
/// over the first two days) climbs 1.8.0 -> 1.9.0 (MPT) -> 2.0.0 (Delta from 1.9.0),
/// staged first; `legacy` (10,000 devices, no releases) is the only cohort that
/// retires. Everything settles well before the end, so no download or report is under
/// way when the run stops.
fn smoke_fleet() -> String {
    r#"
seed = 3
tick = "1h"
duration = "4d"

[[cohorts]]
name = "production"
[[cohorts]]
name = "legacy"

[[releases]]
version = "1.9.0"
must_pass_through = true
payloads = { "evt" = 1_180_000, "dvt" = 1_220_000 }
[[releases]]
version = "2.0.0"
payloads = { "evt" = 1_200_000, "dvt" = 1_250_000 }
[[releases]]
from = "1.9.0"
to = "2.0.0"
payloads = { "evt" = 150_000, "dvt" = 160_000 }

[behaviour]
poll_interval = "6h"
poll_jitter = "1h"
online_probability = 0.9
link_bytes_per_second = 200
download_failure_probability = 0.05
install_failure_probability = 0.01

[[profiles]]
name = "churn"
retirement_rate_per_day = 0.05

[fleet]
[[fleet.groups]]
name = "p-evt"
count = 60000
cohort = "production"
hardware_version = "evt"
versions = { "1.8.0" = 0.2, "1.9.0" = 0.5, "2.0.0" = 0.3 }
[[fleet.groups]]
name = "p-dvt"
count = 30000
cohort = "production"
hardware_version = "dvt"
versions = { "1.8.0" = 0.3, "1.9.0" = 0.7 }
[[fleet.groups]]
name = "old"
count = 10000
cohort = "legacy"
hardware_version = "evt"
profile = "churn"
versions = { "1.0.0" = 1 }

[[fleet.arrivals]]
name = "factory"
per_day = 2000
software_version = "1.8.0"
hardware_version = "evt"
cohort = "production"
end = "2d"

[[events]]
at = 0
action = "activate"
release = "1.9.0"
cohort = "production"
[[events]]
at = 0
action = "activate"
release = "1.9.0->2.0.0"
cohort = "production"
rollout_percent = 20
[[events]]
at = "12h"
action = "activate"
release = "2.0.0"
cohort = "production"
rollout_percent = 20
[[events]]
at = "1d"
action = "set_rollout"
release = "2.0.0"
cohort = "production"
rollout_percent = 100
"#
    .to_string()
}

#[test]
fn smoke_100k_devices_series_are_internally_consistent() {
    let sc = Scenario::new("smoke-100k.toml", &smoke_fleet());
    let run = run_ok(&sc, "out", &["--snapshot-every", "1d"]);
    let series = run.table("series");
    let versions = run.table("versions");
    let matrix = run.table("matrix");
    let n = series.rows.len();
    assert_eq!(n, 96, "4 days of 1h ticks");
    assert_eq!(series.u64s("tick"), (0..96).collect::<Vec<u64>>());
    assert_eq!(run.summary_u64(&["ticks"]), 96);

    // Devices: every tick's count follows from the previous one, arrivals and retirements.
    let devices = series.u64s("devices");
    let arrived = series.u64s("arrived");
    let retired = series.u64s("retired");
    let start = run.summary_u64(&["devices_start"]);
    assert_eq!(start, 100_000);
    let mut prev = start;
    for t in 0..n {
        assert_eq!(
            devices[t],
            prev + arrived[t] - retired[t],
            "tick {t}: devices = previous {prev} + arrived {} - retired {}",
            arrived[t],
            retired[t]
        );
        prev = devices[t];
    }
    let total_arrived: u64 = arrived.iter().sum();
    let total_retired: u64 = retired.iter().sum();
    assert_eq!(total_arrived, 4_000, "2,000 a day for two days");
    assert!(arrived[48..].iter().all(|&a| a == 0), "arrivals end at 2d");
    assert!(total_retired > 0, "the churn profile retires devices");
    assert_eq!(run.summary_u64(&["arrived"]), total_arrived);
    assert_eq!(run.summary_u64(&["retired"]), total_retired);
    assert_eq!(run.summary_u64(&["devices_end"]), devices[n - 1]);

    // versions.csv splits the same devices by cohort; only `legacy` retires and only
    // production receives arrivals.
    let mut cum_arrived = 0;
    let mut cum_retired = 0;
    for t in 0..n {
        cum_arrived += arrived[t];
        cum_retired += retired[t];
        let v = versions_at(&versions, t as u64);
        let cohort = |c: &str| -> u64 { v.iter().filter(|(k, _)| k.0 == c).map(|(_, n)| n).sum() };
        assert_eq!(
            v.values().sum::<u64>(),
            devices[t],
            "tick {t}: versions.csv total"
        );
        assert_eq!(cohort("production"), 90_000 + cum_arrived, "tick {t}");
        assert_eq!(cohort("legacy"), 10_000 - cum_retired, "tick {t}");
    }

    // Every device is at its final version at the end, so no download or version report
    // is still under way: the counters below are complete.
    let converged = series.u64s("at_final_version");
    assert_eq!(
        converged[n - 1],
        devices[n - 1],
        "test scenario should settle before the end"
    );
    assert_eq!(run.summary_u64(&["at_final_version_end"]), converged[n - 1]);

    // Downloads: each one started either completed or failed; each completed one was
    // installed or failed to install.
    for rule in RULES {
        let started = series.sum(&format!("downloads_started_{rule}"));
        let completed = series.sum(&format!("downloads_completed_{rule}"));
        let failed = series.sum(&format!("downloads_failed_{rule}"));
        let ok = series.sum(&format!("installs_succeeded_{rule}"));
        let bad = series.sum(&format!("installs_failed_{rule}"));
        assert_eq!(
            started,
            completed + failed,
            "{rule}: started = completed + failed"
        );
        assert_eq!(
            completed,
            ok + bad,
            "{rule}: completed = installed + install failures"
        );
        assert_eq!(
            started,
            series.sum(&format!("offered_{rule}")),
            "{rule}: offered"
        );
        assert_eq!(run.summary_u64(&["installs_succeeded", rule]), ok, "{rule}");
        assert_eq!(run.summary_u64(&["installs_failed", rule]), bad, "{rule}");
        assert_eq!(
            run.summary_u64(&["downloads_failed", rule]),
            failed,
            "{rule}"
        );
        assert_eq!(
            run.summary_u64(&["downloads_started", rule]),
            started,
            "{rule}"
        );
    }
    assert!(summary_rule_sum(&run, "downloads_failed") > 0);
    assert!(summary_rule_sum(&run, "installs_failed") > 0);
    assert_eq!(run.summary_u64(&["polls"]), series.sum("polls"));
    assert_eq!(
        run.summary_u64(&["missed_polls"]),
        series.sum("missed_polls")
    );

    // Installs against version changes. Production starts (state at tick 0, before any
    // poll) with 21,000 + tick 0's arrivals on 1.8.0, 51,000 on 1.9.0 and 18,000 on
    // 2.0.0 (exact group shares). 1.8.0 devices take the MPT 1.9.0 (R14), 1.9.0 devices
    // the Delta to 2.0.0 (R13): the Full 2.0.0 is never the answer.
    let at0 = run_matrix_at(&matrix, 0);
    let start_on = |v: &str| -> u64 {
        at0.iter()
            .filter(|(k, _)| k.0 == "production" && k.1 == v)
            .map(|(_, n)| n)
            .sum()
    };
    assert_eq!(start_on("1.8.0"), 21_000 + arrived[0]);
    assert_eq!(start_on("1.9.0"), 51_000);
    assert_eq!(start_on("2.0.0"), 18_000);
    let end = versions_at(&versions, (n - 1) as u64);
    let end_on = |v: &str| {
        end.get(&("production".into(), v.into()))
            .copied()
            .unwrap_or(0)
    };
    let mpt = series.sum("installs_succeeded_must_pass_through");
    let delta = series.sum("installs_succeeded_delta");
    assert_eq!(
        mpt,
        start_on("1.8.0") + (total_arrived - arrived[0]) - end_on("1.8.0"),
        "MPT installs = devices that left 1.8.0"
    );
    assert_eq!(
        delta,
        end_on("2.0.0") - start_on("2.0.0"),
        "Delta installs = devices that reached 2.0.0"
    );
    assert_eq!(series.sum("installs_succeeded_full"), 0);
    assert_eq!(series.sum("installs_succeeded_override"), 0);
    assert_eq!(
        series.sum("reports"),
        mpt + delta,
        "every successful install is reported once (R3)"
    );
    assert_eq!(
        end.keys().filter(|k| k.0 == "legacy").count(),
        1,
        "legacy devices never change version"
    );

    // Bytes: the series, the summary and the per-release table agree.
    let bytes_total = series.sum("bytes_total");
    let by_rule: u64 = RULES
        .iter()
        .map(|r| series.sum(&format!("bytes_{r}")))
        .sum();
    assert_eq!(bytes_total, by_rule);
    assert_eq!(run.summary_u64(&["bandwidth", "bytes_total"]), bytes_total);
    let bandwidth = run.table("bandwidth");
    assert_eq!(bandwidth.sum("bytes"), bytes_total);
    for (col, kind) in [
        ("downloads_started", "downloads_started"),
        ("downloads_completed", "downloads_completed"),
        ("downloads_failed", "downloads_failed"),
        ("installs_succeeded", "installs_succeeded"),
        ("installs_failed", "installs_failed"),
    ] {
        let from_series: u64 = per_tick_all_rules(&series, kind).iter().sum();
        assert_eq!(bandwidth.sum(col), from_series, "bandwidth.csv {col}");
    }

    // The profile's rates, within many standard deviations. Online: 0.9 of the polls.
    let polls = series.sum("polls") as f64;
    let missed = series.sum("missed_polls") as f64;
    let offline = missed / (polls + missed);
    assert!((offline - 0.1).abs() < 0.005, "offline share {offline}");
    // Downloads fail 5% of the time, installs 1%.
    let started: u64 = per_tick_all_rules(&series, "downloads_started")
        .iter()
        .sum();
    let failed: u64 = per_tick_all_rules(&series, "downloads_failed").iter().sum();
    let completed: u64 = per_tick_all_rules(&series, "downloads_completed")
        .iter()
        .sum();
    let bad: u64 = per_tick_all_rules(&series, "installs_failed").iter().sum();
    let rate = failed as f64 / started as f64;
    assert!((rate - 0.05).abs() < 0.01, "download failure rate {rate}");
    let rate = bad as f64 / completed as f64;
    assert!((rate - 0.01).abs() < 0.004, "install failure rate {rate}");
    // Retirement: 5% a day, drawn at each of ~16 polls 6 h apart: about 18.5% of the
    // 10,000 legacy devices (standard deviation ~40).
    assert!(
        (1_620..=2_090).contains(&total_retired),
        "{total_retired} legacy devices retired"
    );

    // Snapshots (state at T) against the series (end of tick T - 1) where tick T has no
    // events and no arrivals: same devices, and the converged ones are the `none` rows.
    for t in [48u64, 72, 96] {
        let snap = run_matrix_at(&matrix, t);
        let total: u64 = snap.values().sum();
        let none: u64 = snap
            .iter()
            .filter(|(k, _)| k.3 == "none")
            .map(|(_, n)| n)
            .sum();
        assert_eq!(total, devices[t as usize - 1], "snapshot at {t}: devices");
        assert_eq!(
            none,
            converged[t as usize - 1],
            "snapshot at {t}: converged"
        );
    }
}

/// 1,000,005 devices in one cohort; a 10% staged rollout of a Full release at 2h.
/// round_half_up(10 × 1,000,005 / 100) = round_half_up(100,000.5) = 100,001.
fn million_fleet() -> String {
    r#"
seed = 11
tick = "1h"
duration = "30h"
snapshots = ["2h"]

[[cohorts]]
name = "production"

[[releases]]
version = "2.0.0"
payloads = { "evt" = 1_000_000 }

[behaviour]
poll_interval = "6h"
online_probability = 1
download_failure_probability = 0
install_failure_probability = 0

[fleet]
[[fleet.groups]]
name = "p"
count = 1_000_005
cohort = "production"
hardware_version = "evt"
versions = { "1.0.0" = 1 }

[[events]]
at = "2h"
action = "activate"
release = "2.0.0"
cohort = "production"
rollout_percent = 10
"#
    .to_string()
}

#[test]
fn r19_staged_rollout_over_a_million_devices() {
    let sc = Scenario::new("r19-million.toml", &million_fleet());
    let run = run_ok(&sc, "out", &[]);
    let staged = 100_001u64;
    let others = 1_000_005 - staged;

    // At the activation tick (before anyone polls it): exactly the staged devices get it.
    let matrix = run.table("matrix");
    let mut at2: BTreeMap<(String, String, String, String), u64> = BTreeMap::new();
    for i in matrix.rows_where("tick", "2") {
        let key = (
            matrix.get(i, "staged").to_string(),
            matrix.get(i, "current_version").to_string(),
            matrix.get(i, "next_version").to_string(),
            matrix.get(i, "rule").to_string(),
        );
        *at2.entry(key).or_insert(0) += matrix.get(i, "devices").parse::<u64>().unwrap();
    }
    let key = |s: &str, c: &str, n: &str, r: &str| -> (String, String, String, String) {
        (s.into(), c.into(), n.into(), r.into())
    };
    let expected: BTreeMap<_, _> = [
        (key("true", "1.0.0", "2.0.0", "full"), staged),
        (key("false", "1.0.0", "1.0.0", "none"), others),
    ]
    .into();
    assert_eq!(at2, expected, "matrix at the activation tick");

    // After 28 hours of 6-hour polls, always online, no failures: every staged device
    // downloaded and installed it exactly once, and no other device did.
    let series = run.table("series");
    let started = series.u64s("downloads_started_full");
    assert!(started[..2].iter().all(|&s| s == 0), "nothing before 2h");
    assert_eq!(started.iter().sum::<u64>(), staged);
    let installed = series.sum("installs_succeeded_full");
    assert!(
        installed <= staged,
        "{installed} installs > {staged} staged"
    );
    assert_eq!(installed, staged);
    let versions = run.table("versions");
    let end = versions_at(&versions, 29);
    let expected: BTreeMap<(String, String), u64> = [
        (("production".into(), "1.0.0".into()), others),
        (("production".into(), "2.0.0".into()), staged),
    ]
    .into();
    assert_eq!(end, expected, "versions at the last tick");
    assert_eq!(
        run.summary_u64(&["bandwidth", "bytes_total"]),
        staged * 1_000_000
    );
}

#[test]
fn poll_jitter_keeps_every_interval_within_its_bounds() {
    // One device, 6 h +- 2 h between wakes, online half of the time, for 30 days.
    let text = [
        "seed = 12\nduration = \"30d\"\n".to_string(),
        "\n[behaviour]\npoll_interval = \"6h\"\npoll_jitter = \"2h\"\nonline_probability = 0.5\n"
            .to_string(),
        dev("solo", "evt", "1.0.0"),
    ]
    .concat();
    let sc = Scenario::new("jitter.toml", &text);
    let run = run_ok(&sc, "out", &[]);
    let series = run.table("series");
    let polls = series.u64s("polls");
    let missed = series.u64s("missed_polls");
    let wakes: Vec<usize> = (0..polls.len())
        .filter(|&t| polls[t] + missed[t] > 0)
        .collect();
    assert!(wakes.iter().all(|&t| polls[t] + missed[t] == 1));
    assert!(wakes[0] < 6, "the first wake falls in the first interval");
    let gaps: Vec<usize> = wakes.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.iter().all(|g| (4..=8).contains(g)),
        "intervals outside 6h +- 2h: {gaps:?}"
    );
    // ~120 intervals drawn from 4..=8: every length shows up.
    for g in 4..=8 {
        assert!(gaps.contains(&g), "no interval of {g} ticks in {gaps:?}");
    }
    // Offline wakes are missed polls, not skipped wakes: both kinds occur.
    let (p, m) = (polls.iter().sum::<u64>(), missed.iter().sum::<u64>());
    assert!(p > 30 && m > 30, "{p} polls, {m} missed");
}

#[test]
fn release_install_failure_probability_overrides_the_profile() {
    // In the busy fleet, installs of the Full 2.1.0 fail 5% of the time (its own
    // install_failure_probability); every other release, the Delta to 2.1.0 included
    // (a release of its own), uses the profile's 1%.
    let sc = Scenario::new("bad-release.toml", &busy_fleet());
    let run = run_ok(&sc, "out", &[]);
    let bandwidth = run.table("bandwidth");
    let rate = |release: &str| {
        let r = bandwidth.row_where("release", release);
        let failed: f64 = bandwidth.get(r, "installs_failed").parse().unwrap();
        let completed: f64 = bandwidth.get(r, "downloads_completed").parse().unwrap();
        assert!(
            completed > 1_000.0,
            "{release}: {completed} completed downloads"
        );
        failed / completed
    };
    let bad = rate("2.1.0");
    // ~1,100 installs of 2.1.0: a standard deviation of ~0.0065.
    assert!(
        (bad - 0.05).abs() < 0.025,
        "2.1.0 install failure rate {bad}"
    );
    for release in ["1.9.0", "2.0.0", "2.0.0->2.1.0"] {
        let r = rate(release);
        assert!(
            (r - 0.01).abs() < 0.006,
            "{release} install failure rate {r}"
        );
    }
}

/// One device on a 100,000 B/s link with 1-second ticks, polling every 30 s (no
/// jitter), offered a Full release of `payload` bytes from tick 0.
fn one_device_link(payload: u64, extra_behaviour: &str, duration: &str) -> String {
    format!(
        r#"
tick = "1s"
duration = "{duration}"

[[releases]]
version = "2.0.0"
payloads = {{ "evt" = {payload} }}

[behaviour]
poll_interval = "30s"
link_bytes_per_second = 100_000
{extra_behaviour}

[[devices]]
id = "solo"
hardware_version = "evt"
software_version = "1.0.0"

[[events]]
at = 0
action = "activate"
release = "2.0.0"
cohort = "default"
"#
    )
}

/// The first tick with a poll that reached the platform.
fn first_poll(series: &Table) -> usize {
    series
        .u64s("polls")
        .iter()
        .position(|&p| p > 0)
        .expect("the device polls")
}

#[track_caller]
fn check_single_download(payload: u64) {
    let sc = Scenario::new("link.toml", &one_device_link(payload, "", "2m"));
    let run = run_ok(&sc, "out", &[]);
    let series = run.table("series");
    assert_eq!(series.rows.len(), 120);
    let t0 = first_poll(&series);
    assert!(t0 < 30, "the first poll falls within the first interval");

    // Bytes: 100,000 per tick from the poll, the remainder in the last tick.
    let ticks = payload.div_ceil(100_000) as usize;
    let end = t0 + ticks - 1;
    let mut expected = vec![0u64; 120];
    for (k, b) in expected[t0..=end].iter_mut().enumerate() {
        *b = if k + 1 < ticks {
            100_000
        } else {
            payload - 100_000 * (ticks as u64 - 1)
        };
    }
    assert_eq!(
        series.u64s("bytes_full"),
        expected,
        "bytes per tick (poll at {t0})"
    );
    assert_eq!(series.u64s("bytes_total"), expected);

    // The download completes (and installs) in its last tick; the device reports the
    // new version (R3) at its next poll, 30 ticks after the download ended.
    let at = |t: usize| {
        let mut v = vec![0u64; 120];
        v[t] = 1;
        v
    };
    assert_eq!(series.u64s("downloads_started_full"), at(t0));
    assert_eq!(series.u64s("downloads_completed_full"), at(end));
    assert_eq!(series.u64s("installs_succeeded_full"), at(end));
    let report = end + 30;
    assert_eq!(series.u64s("reports"), at(report));
    let mut polls = vec![0u64; 120];
    let mut p = t0;
    polls[p] = 1;
    p = report;
    while p < 120 {
        polls[p] = 1;
        p += 30;
    }
    assert_eq!(
        series.u64s("polls"),
        polls,
        "polls: {t0}, then every 30 s after the download"
    );
    let versions = run.table("versions");
    for t in 0..120u64 {
        let v = versions_at(&versions, t);
        let want = if t < report as u64 { "1.0.0" } else { "2.0.0" };
        let expected = BTreeMap::from([(("default".to_string(), want.to_string()), 1)]);
        assert_eq!(v, expected, "tick {t}");
    }
    assert_eq!(run.summary_u64(&["bandwidth", "bytes_total"]), payload);
    assert_eq!(
        run.summary_u64(&["bandwidth", "peak_bytes_per_tick"]),
        100_000
    );
    assert_eq!(run.summary_u64(&["bandwidth", "peak_tick"]), t0 as u64);
}

#[test]
fn link_rate_spreads_a_download_over_whole_ticks() {
    check_single_download(1_000_000);
}

#[test]
fn link_rate_sends_the_remainder_in_the_last_tick() {
    check_single_download(1_050_000);
}

/// One download attempt as the series shows it.
#[derive(Debug)]
struct Attempt {
    start: usize,
    end: usize,
    bytes: u64,
    completed: bool,
}

/// Splits the series of a single device into its download attempts, checking that each
/// sends 100,000 bytes a tick but in its last tick, and that nothing is sent between
/// attempts.
#[track_caller]
fn attempts(series: &Table) -> Vec<Attempt> {
    let started = series.u64s("downloads_started_full");
    let completed = series.u64s("downloads_completed_full");
    let failed = series.u64s("downloads_failed_full");
    let bytes = series.u64s("bytes_full");
    let mut out = Vec::new();
    let mut t = 0;
    while t < bytes.len() {
        if started[t] == 0 {
            assert_eq!(bytes[t], 0, "tick {t}: bytes outside a download");
            assert_eq!(
                completed[t] + failed[t],
                0,
                "tick {t}: an end without a start"
            );
            t += 1;
            continue;
        }
        assert_eq!(started[t], 1, "tick {t}");
        let start = t;
        while completed[t] + failed[t] == 0 {
            assert_eq!(
                bytes[t], 100_000,
                "tick {t}: a download under way uses the whole link"
            );
            t += 1;
            assert_eq!(started.get(t), Some(&0), "tick {t}: overlapping downloads");
        }
        assert_eq!(completed[t] + failed[t], 1, "tick {t}");
        assert!(bytes[t] <= 100_000, "tick {t}: {} bytes > link", bytes[t]);
        out.push(Attempt {
            start,
            end: t,
            bytes: bytes[start..=t].iter().sum(),
            completed: completed[t] == 1,
        });
        t += 1;
    }
    out
}

/// Seed 2 is one where the device's downloads fail several times before one completes
/// (checked below, so that a change of the generator shows up as such).
const FAILING_SEED: &str = "2";

#[test]
fn resumed_downloads_fetch_every_byte_once() {
    let behaviour = "download_failure_probability = 0.6\nresume_downloads = true";
    let sc = Scenario::new("resume.toml", &one_device_link(1_000_000, behaviour, "10m"));
    let run = run_ok(&sc, "out", &["--seed", FAILING_SEED]);
    let series = run.table("series");
    let tries = attempts(&series);
    let failures = tries.iter().filter(|a| !a.completed).count();
    assert!(
        failures >= 2,
        "precondition: seed {FAILING_SEED} should fail at least twice: {tries:?}"
    );
    let last = tries.last().unwrap();
    assert!(last.completed, "the download finally completes: {tries:?}");
    assert_eq!(tries.iter().filter(|a| a.completed).count(), 1);
    // The device retries at its next poll, 30 s after an attempt ends.
    for w in tries.windows(2) {
        assert_eq!(w[1].start, w[0].end + 30, "{tries:?}");
    }
    // With byte-range resume, the completing attempt fetches only what is missing: the
    // device downloads the payload exactly once in all.
    let partial: u64 = tries[..tries.len() - 1].iter().map(|a| a.bytes).sum();
    assert!(partial > 0, "{tries:?}");
    assert_eq!(last.bytes, 1_000_000 - partial, "{tries:?}");
    assert_eq!(series.sum("bytes_total"), 1_000_000);
    assert_eq!(run.summary_u64(&["bandwidth", "bytes_total"]), 1_000_000);
    assert_eq!(series.sum("installs_succeeded_full"), 1);
    assert_eq!(series.sum("downloads_failed_full"), failures as u64);
    let bandwidth = run.table("bandwidth");
    let row = bandwidth.row_where("release", "2.0.0");
    assert_eq!(bandwidth.get(row, "bytes"), "1000000");
    assert_eq!(bandwidth.get(row, "downloads_completed"), "1");
    assert_eq!(bandwidth.get(row, "downloads_failed"), failures.to_string());
}

#[test]
fn without_resume_a_failed_download_starts_over() {
    let behaviour = "download_failure_probability = 0.6\nresume_downloads = false";
    let sc = Scenario::new(
        "no-resume.toml",
        &one_device_link(1_000_000, behaviour, "10m"),
    );
    let run = run_ok(&sc, "out", &["--seed", FAILING_SEED]);
    let series = run.table("series");
    let tries = attempts(&series);
    let failed: Vec<&Attempt> = tries.iter().filter(|a| !a.completed).collect();
    assert!(
        !failed.is_empty() && failed.iter().any(|a| a.bytes > 0),
        "precondition: seed {FAILING_SEED} should fail part-way: {tries:?}"
    );
    let last = tries.last().unwrap();
    assert!(last.completed, "{tries:?}");
    // The completing attempt fetches the whole payload again: ten full ticks.
    assert_eq!(last.bytes, 1_000_000, "{tries:?}");
    assert_eq!(last.end - last.start, 9, "{tries:?}");
    // Each failed attempt stopped short of the payload.
    for a in &failed {
        assert!(a.bytes < 1_000_000, "{a:?}");
    }
    let partial: u64 = failed.iter().map(|a| a.bytes).sum();
    assert_eq!(series.sum("bytes_total"), 1_000_000 + partial);
    assert_eq!(
        run.summary_u64(&["bandwidth", "bytes_total"]),
        1_000_000 + partial
    );
}

/// 300 devices retrying failed downloads (and re-downloading after failed installs) on a
/// link where a payload takes three ticks.
fn retrying_fleet(resume: bool) -> String {
    format!(
        r#"
seed = 5
tick = "1h"
duration = "4d"

[[releases]]
version = "2.0.0"
payloads = {{ "evt" = 1_000_000 }}

[behaviour]
poll_interval = "2h"
poll_jitter = "1h"
online_probability = 0.8
link_bytes_per_second = 100
download_failure_probability = 0.4
install_failure_probability = 0.1
resume_downloads = {resume}

[fleet]
[[fleet.groups]]
count = 300
hardware_version = "evt"
versions = {{ "1.0.0" = 1 }}

[[events]]
at = "1h"
action = "activate"
release = "2.0.0"
cohort = "default"
"#
    )
}

#[test]
fn resume_makes_bytes_exactly_completed_downloads_times_payload() {
    for resume in [true, false] {
        let sc = Scenario::new("retrying.toml", &retrying_fleet(resume));
        let run = run_ok(&sc, "out", &[]);
        let series = run.table("series");
        let n = series.rows.len();
        assert_eq!(
            series.u64s("at_final_version")[n - 1],
            300,
            "resume = {resume}: test scenario should settle before the end"
        );
        let completed = series.sum("downloads_completed_full");
        let failed = series.sum("downloads_failed_full");
        let installs_failed = series.sum("installs_failed_full");
        assert_eq!(series.sum("installs_succeeded_full"), 300);
        assert!(failed > 0 && installs_failed > 0, "resume = {resume}");
        // A failed install discards the payload: the next attempt is a whole download.
        assert_eq!(completed, 300 + installs_failed, "resume = {resume}");
        let bytes = series.sum("bytes_total");
        if resume {
            assert_eq!(
                bytes,
                completed * 1_000_000,
                "resume: no byte is fetched twice"
            );
        } else {
            assert!(
                bytes > completed * 1_000_000 && bytes < (completed + failed) * 1_000_000,
                "no resume: {bytes} bytes for {completed} completed and {failed} failed downloads"
            );
        }
    }
}

/// 2,000 devices with behaviour but neither arrivals nor retirement, so that every
/// device the run simulates exists from the start to the end.
fn settled_fleet() -> String {
    r#"
seed = 9
tick = "1h"
duration = "3d"

[[cohorts]]
name = "beta"

[[releases]]
version = "1.5.0"
must_pass_through = true
payloads = { "evt" = 900_000 }
[[releases]]
version = "2.0.0"
payloads = { "evt" = 1_000_000 }
[[releases]]
from = "1.5.0"
to = "2.0.0"
payloads = { "evt" = 100_000 }

[behaviour]
poll_interval = "8h"
poll_jitter = "2h"
online_probability = 0.85
link_bytes_per_second = 100
download_failure_probability = 0.1
install_failure_probability = 0.05

[fleet]
[[fleet.groups]]
name = "b"
count = 400
cohort = "beta"
hardware_version = "evt"
versions = { "1.0.0" = 0.5, "1.5.0" = 0.5 }
[[fleet.groups]]
name = "d"
count = 1600
hardware_version = "evt"
versions = { "1.0.0" = 0.7, "1.5.0" = 0.2, "2.0.0" = 0.1 }

[[events]]
at = 0
action = "activate"
release = "1.5.0"
cohort = "beta"
[[events]]
at = 0
action = "activate"
release = "2.0.0"
cohort = "beta"
[[events]]
at = 0
action = "activate"
release = "1.5.0->2.0.0"
cohort = "beta"
[[events]]
at = "1d"
action = "activate"
release = "1.5.0"
cohort = "default"
rollout_percent = 30
[[events]]
at = "1d"
action = "activate"
release = "1.5.0->2.0.0"
cohort = "default"
"#
    .to_string()
}

#[test]
fn state_at_t_with_behaviour_reflects_installs_so_far() {
    let sc = Scenario::new("state-at.toml", &settled_fleet());
    let run = run_ok(&sc, "out", &["--snapshot-every", "10h"]);
    let versions = run.table("versions");
    let matrix = run.table("matrix");

    // At 0 no device has polled: resolve shows the fleet as declared.
    let initial = resolve_rows(&sc.resolve("0"));
    assert_eq!(initial.len(), 2_000);
    let mut counts: BTreeMap<(String, String), u64> = BTreeMap::new();
    for r in &initial {
        *counts.entry((r[1].clone(), r[3].clone())).or_insert(0) += 1;
    }
    let declared: BTreeMap<(String, String), u64> = [
        (("beta".into(), "1.0.0".into()), 200),
        (("beta".into(), "1.5.0".into()), 200),
        (("default".into(), "1.0.0".into()), 1120),
        (("default".into(), "1.5.0".into()), 320),
        (("default".into(), "2.0.0".into()), 160),
    ]
    .into();
    assert_eq!(counts, declared, "resolve --at 0");

    // At T the state has ticks 0..T simulated: resolve's versions are versions.csv at
    // tick T - 1, and the matrix is the run's snapshot at T.
    let mut moved_somewhere = false;
    for t in [10u64, 30, 50, 70] {
        let rows = resolve_rows(&sc.resolve(&t.to_string()));
        let mut counts: BTreeMap<(String, String), u64> = BTreeMap::new();
        for r in &rows {
            *counts.entry((r[1].clone(), r[3].clone())).or_insert(0) += 1;
        }
        assert_eq!(
            counts,
            versions_at(&versions, t - 1),
            "resolve --at {t} against versions.csv at tick {}",
            t - 1
        );
        moved_somewhere |= counts != declared;
        assert_eq!(
            cli_matrix_at(&sc, &t.to_string()),
            run_matrix_at(&matrix, t),
            "matrix --at {t} against the run's snapshot at {t}"
        );
    }
    assert!(
        moved_somewhere,
        "devices should have installed updates by 70h"
    );
}

/// Arrivals start at 1d; the first devices retire quickly.
fn coming_and_going() -> String {
    [
        "seed = 1\nduration = \"3d\"\n".to_string(),
        full("2.0.0", "\"evt\" = 1000"),
        "\n[behaviour]\npoll_interval = \"6h\"\nretirement_rate_per_day = 0.5\n".to_string(),
        dev("a", "evt", "1.0.0"),
        dev("b", "evt", "1.0.0"),
        dev("c", "evt", "1.0.0"),
        "\n[fleet]\n[[fleet.arrivals]]\nname = \"new\"\nper_day = 4\nstart = \"1d\"\nsoftware_version = \"1.0.0\"\nhardware_version = \"evt\"\n".to_string(),
        activate("\"12h\"", "2.0.0", "default"),
    ]
    .concat()
}

#[test]
fn resolve_at_t_lists_only_devices_present_at_t() {
    let sc = Scenario::new("coming-and-going.toml", &coming_and_going());
    for at in ["0", "1d", "2d", "3d"] {
        let present: u64 = cli_matrix_at(&sc, at).values().sum();
        let rows = resolve_rows(&sc.resolve(at));
        let ids: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(
            rows.len() as u64,
            present,
            "resolve --at {at} lists {ids:?}, but matrix --at {at} counts {present} devices"
        );
    }
    // At 0 nothing has arrived: only a, b and c exist.
    let rows = resolve_rows(&sc.resolve("0"));
    let ids: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
}

#[path = "../../benches/common/events.rs"]
mod heavy;

/// The `events` benchmark's timeline (hundreds of staged ramps, bulk stages with
/// filters, limits and every order, moves, overrides, activations and pulls) at 8,000
/// devices. The binary under test is a debug build, which checks every update it makes
/// after events (hot words, counts per cell and class) against a rebuild from the
/// fleet, so this runs those checks through every kind of event and every mix of them
/// in a tick; and the outputs are the same at 1 and 2 threads (R22).
#[test]
fn r22_event_heavy_timeline_updates_exactly_at_any_thread_count() {
    let devices = 8_000;
    let plain_text = heavy::plain_text();
    let plain = heavy::load(&plain_text, devices);
    // Arrivals scaled with the fleet (the benchmark's 20,000 a day are for 10M).
    let text = heavy::event_heavy_text(&plain_text, &plain, devices)
        .replace("per_day = 20_000", "per_day = 16");
    assert!(
        text.matches("[[events]]").count() >= 3_000,
        "the heavy timeline"
    );
    let sc = Scenario::new("event-heavy.toml", &text);
    // Both at once: a debug build's catalog checks make each run about half a minute.
    let (one, two) = std::thread::scope(|s| {
        let one = s.spawn(|| run_ok(&sc, "threads-1", &["--threads", "1"]));
        let two = run_ok(&sc, "threads-2", &["--threads", "2"]);
        (one.join().expect("the 1-thread run"), two)
    });
    assert!(one.summary_u64(&["polls"]) > 0);
    assert_same_outputs(&one, &two);
}
