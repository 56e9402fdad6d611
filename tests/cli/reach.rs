//! What a planner reads first: time to reach (installed and reported) per version and
//! per release, devices at their final version, and egress as a rate and per day, on
//! small scenarios whose every figure is computed by hand.

use super::runs::*;
use super::*;

/// 20 devices on 1.0.0 that poll every tick (1 h): the first poll of an interval of one
/// tick is tick 0. 19 have no link limit (a download ends in the tick it starts); one,
/// on the `slow` profile, gets 3,600 B per tick, so its 36,000 B download runs ticks
/// 0..=9. A device reports what it installed at its next poll (R3): the tick after the
/// download ends.
fn reach_fleet(extra_events: &str) -> String {
    format!(
        r#"
tick = "1h"
duration = "14h"

[[cohorts]]
name = "late"

[[releases]]
version = "2.0.0"
payloads = {{ "evt" = 36_000 }}

[fleet]
devices = 20

[[fleet.groups]]
name = "fast"
share = 0.95
hardware_version = "evt"
versions = {{ "1.0.0" = 1 }}

[[fleet.groups]]
name = "slow"
share = 0.05
hardware_version = "evt"
versions = {{ "1.0.0" = 1 }}
profile = "slow"

[behaviour]
poll_interval = "1h"

[[profiles]]
name = "slow"
link_bytes_per_second = 1

[[events]]
at = 0
action = "activate"
release = "2.0.0"
cohort = "default"
{extra_events}
"#
    )
}

fn ticks(v: &serde_json::Value) -> Vec<Option<u64>> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|t| t.as_u64())
        .collect()
}

#[test]
fn time_to_installed_and_reported_per_version_and_release() {
    let sc = Scenario::new("reach.toml", &reach_fleet(""));
    let run = run_ok(&sc, "out", &[]);
    let s = run.summary();
    let reach = &s["reach"];
    assert_eq!(reach["percents"], serde_json::json!([50, 90, 95, 99]));
    let versions = reach["versions"].as_array().unwrap();
    // 1.0.0 is every device's final version until the release is activated at tick 0,
    // whose events come before the tick is recorded: only 2.0.0 is ever reachable.
    assert_eq!(versions.len(), 1, "{reach}");
    let v = &versions[0];
    assert_eq!(v["version"], "2.0.0");
    assert_eq!(v["release"], serde_json::Value::Null);
    assert_eq!(v["first_tick"], 0);
    // 19 of 20 (95 %) installed at tick 0, the 20th at tick 9.
    assert_eq!(
        ticks(&v["installed_at_tick"]),
        [Some(0), Some(0), Some(0), Some(9)]
    );
    // Each reports one poll (one tick) later.
    assert_eq!(
        ticks(&v["reported_at_tick"]),
        [Some(1), Some(1), Some(1), Some(10)]
    );
    assert_eq!(
        (v["can_get"].as_u64(), v["installed"].as_u64()),
        (Some(20), Some(20))
    );
    assert_eq!(v["reported"], 20);
    let releases = reach["releases"].as_array().unwrap();
    assert_eq!(releases.len(), 1);
    assert_eq!(releases[0]["release"], "2.0.0");
    assert_eq!(releases[0]["installed_at_tick"], v["installed_at_tick"]);

    // Every device is at its final version from tick 10, when the last one reports.
    let series = run.table("series");
    let at_final = series.u64s("at_final_version");
    assert_eq!(at_final[0], 0, "installed at tick 0 but not reported yet");
    assert_eq!(at_final[1], 19);
    assert_eq!(at_final[9], 19);
    assert_eq!(at_final[10], 20);
    assert_eq!(s["at_final_version_end"], 20);

    // The terminal gives the same, as durations from the first tick anyone could get it.
    let dir = sc.dir.path().join("terminal");
    let out = stdout_ok(&otasim([
        "run",
        sc.p(),
        "--out",
        dir.to_str().unwrap(),
        "--no-charts",
    ]));
    assert!(
        out.contains("2.0.0  from 0s: 0s (1h) / 0s (1h) / 0s (1h) / 9h (10h); 20 of 20 at the end"),
        "{out}"
    );
}

#[test]
fn reach_counts_only_devices_that_can_get_the_version() {
    // The release reaches the `late` cohort's devices only when it is activated there;
    // before that they cannot get 2.0.0 and do not count. Two `late` devices (moved at
    // tick 0), activated at tick 4: the version's 20 devices are 18 until tick 4.
    let events = r#"
[[events]]
at = 0
action = "move"
cohort = "late"
devices = ["fast-00", "fast-01"]

[[events]]
at = 4
action = "activate"
release = "2.0.0"
cohort = "late"
"#;
    let sc = Scenario::new("reach.toml", &reach_fleet(events));
    let run = run_ok(&sc, "out", &[]);
    let s = run.summary();
    let v = &s["reach"]["versions"][0];
    // Tick 0: 17 of 18 installed (94.4 %): 50 and 90 % reached, 95 % not. Tick 4: the
    // two `late` devices can get it and install it (19 of 20), tick 9 the slow one.
    assert_eq!(
        ticks(&v["installed_at_tick"]),
        [Some(0), Some(0), Some(4), Some(9)]
    );
    assert_eq!(
        ticks(&v["reported_at_tick"]),
        [Some(1), Some(1), Some(5), Some(10)]
    );
    // Per release: the default-cohort figures until tick 4, then both cohorts: the
    // same here; a release is also listed once.
    let rel = &s["reach"]["releases"][0];
    assert_eq!(rel["installed_at_tick"], v["installed_at_tick"]);
}

#[test]
fn egress_peak_rate_and_per_day() {
    let sc = Scenario::new("reach.toml", &reach_fleet(""));
    let run = run_ok(&sc, "out", &[]);
    let b = &run.summary()["bandwidth"];
    // Tick 0: 19 whole payloads and the slow device's first 3,600 B.
    let peak = 19 * 36_000 + 3_600;
    assert_eq!(b["peak_bytes_per_tick"], peak);
    assert_eq!(b["peak_tick"], 0);
    let gbit = b["peak_gbit_per_s"].as_f64().unwrap();
    let expected = peak as f64 * 8.0 / 3600.0 / 1e9;
    assert!((gbit - expected).abs() < 1e-15, "{gbit} vs {expected}");
    // 14 hourly ticks: all within day 0.
    assert_eq!(b["bytes_per_day"], serde_json::json!([20 * 36_000]));
    assert_eq!(b["peak_bytes_per_day"], 20 * 36_000);
}
