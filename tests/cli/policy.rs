//! Rollout policies (R35–R40) through the real binary: ramps, release health with
//! rollback, gates, rate limits, update windows and the policy log.

use super::runs::*;
use super::*;

/// A fleet of `devices` devices on 1.0.0 (hardware `evt`, or `dvt` for a share of
/// them) polling every `poll` with behaviour `extra`, releases `releases` and events
/// `events` appended.
fn fleet(devices: u64, poll: &str, extra: &str, releases: &str, events: &str) -> String {
    [
        settings(11, "1h", "3d"),
        full("1.0.0", "\"evt\" = 1000, \"dvt\" = 1000"),
        releases.to_string(),
        behaviour(poll, extra),
        group_fleet("evt", devices, "evt", "1.0.0"),
        events.to_string(),
    ]
    .concat()
}

/// Release 2.0.0 (payloads for `evt` and `dvt`) with `extra` lines in its table.
fn release_2(extra: &str) -> String {
    format!(
        "{}{extra}\n",
        full("2.0.0", "\"evt\" = 1000, \"dvt\" = 1000")
    )
}

fn activate_with(fields: &str) -> String {
    event(
        "0",
        "activate",
        &format!("release = \"2.0.0\"; cohort = \"default\"; {fields}"),
    )
}

/// The input error `otasim validate` prints for `sc`: exit 1, nothing on stdout.
fn validate_error(sc: &Scenario) -> String {
    let out = sc.validate();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stdout.is_empty());
    String::from_utf8(out.stderr).unwrap()
}

fn full_rows(csv: &str) -> usize {
    count_rule(csv, "full")
}

#[test]
fn r35_step_ramp_resizes_the_staged_set_at_each_step() {
    // No behaviour: only the ramp changes who is offered 2.0.0 (R19 counts).
    let text = [
        "tick = \"1h\"\nduration = \"1d\"\n".to_string(),
        full("1.0.0", "\"evt\" = 1"),
        release_2(""),
        group_fleet("all", 1000, "evt", "1.0.0"),
        event(
            "2",
            "activate",
            "release = \"2.0.0\"; cohort = \"default\"; ramp = [{ percent = 1, after = 0 }, { percent = 10, after = \"3h\" }, { percent = 25.5, after = 5 }]",
        ),
    ]
    .concat();
    let sc = Scenario::new("r35-steps.toml", &text);
    assert_eq!(full_rows(&sc.resolve("1")), 0);
    assert_eq!(full_rows(&sc.resolve("2")), 10);
    assert_eq!(full_rows(&sc.resolve("4")), 10);
    assert_eq!(full_rows(&sc.resolve("5")), 100);
    assert_eq!(full_rows(&sc.resolve("7")), 255);
    assert_eq!(full_rows(&sc.resolve("20")), 255);
    let run = run_ok(&sc, "out", &[]);
    check_csv(
        &std::fs::read_to_string(run.dir.join("policy.csv")).unwrap(),
        "tick,cohort,release,action,percent,attempts,failures
         2,default,2.0.0,ramp_step,1.0,,
         5,default,2.0.0,ramp_step,10.0,,
         7,default,2.0.0,ramp_step,25.5,,",
    );
}

#[test]
fn r35_exponential_ramp_multiplies_up_to_its_max() {
    let sc = Scenario::new(
        "r35-exp.toml",
        &fleet(
            200,
            "1h",
            "",
            &release_2(""),
            &activate_with("ramp = { start = 1, factor = 3, every = \"6h\", max = 50 }"),
        ),
    );
    let run = run_ok(&sc, "out", &[]);
    let log = run.table("policy");
    assert_eq!(log.u64s("tick"), vec![0, 6, 12, 18, 24]);
    assert_eq!(
        log.strs("percent"),
        vec!["1.0", "3.0", "9.0", "27.0", "50.0"]
    );
    assert!(log.strs("action").iter().all(|a| *a == "ramp_step"));
    // Every device polls hourly without failures: the staged set is what installed.
    let versions = run.table("versions");
    let last = versions.rows_where("tick", "71");
    let on_2: u64 = last
        .iter()
        .filter(|&&i| versions.get(i, "version") == "2.0.0")
        .map(|&i| versions.get(i, "devices").parse::<u64>().unwrap())
        .sum();
    assert_eq!(on_2, 100);
}

#[test]
fn r35_ramp_that_goes_down_is_an_error_with_its_place() {
    let text = fleet(
        10,
        "1h",
        "",
        &release_2(""),
        &activate_with("ramp = [{ percent = 10, after = 0 }, { percent = 5, after = \"1d\" }]"),
    );
    let sc = Scenario::new("r35-down.toml", &text);
    let line = line_of(&text, "ramp = [");
    assert_eq!(
        validate_error(&sc),
        format!(
            "error: {}:{line}: event 0 (activate): ramp: step 1 goes down from 10% to 5% (a ramp only grows; use set_rollout or pull to go back)\n",
            sc.p()
        )
    );
}

#[test]
fn r35_bad_ramps_are_errors() {
    for (ramp, message) in [
        (
            "ramp = { start = 1, factor = 1, every = \"1h\" }",
            "ramp: factor must be more than 1, not 1 (a ramp only grows)",
        ),
        (
            "ramp = { start = 0, factor = 2, every = \"1h\" }",
            "ramp: start must be more than 0 and at most 100, not 0",
        ),
        ("ramp = []", "ramp: has no steps"),
        (
            "ramp = [{ percent = 1, after = 5 }, { percent = 2, after = 5 }]",
            "ramp: step 1: after must be later than the previous step's",
        ),
        (
            "ramp = [{ percent = 1, after = 0 }]\nrollout_percent = 5",
            "give either rollout_percent or a ramp, not both (a ramp's first step is the activation's percentage)",
        ),
    ] {
        let text = fleet(10, "1h", "", &release_2(""), &activate_with(ramp));
        let sc = Scenario::new("r35-bad.toml", &text);
        let line = if ramp.contains("rollout_percent") {
            line_of(&text, "rollout_percent")
        } else {
            line_of(&text, "ramp =")
        };
        assert_eq!(
            validate_error(&sc),
            format!("error: {}:{line}: event 0 (activate): {message}\n", sc.p()),
            "{ramp}"
        );
    }
}

#[test]
fn r36_boot_failures_roll_back_and_count_as_failed_installs() {
    let sc = Scenario::new(
        "r36-boot.toml",
        &fleet(
            300,
            "2h",
            "",
            &release_2("boot_failure_probability = 1"),
            &activate("0", "2.0.0", "default"),
        ),
    );
    let run = run_ok(&sc, "out", &[]);
    let series = run.table("series");
    assert_eq!(series.sum("installs_succeeded_full"), 0);
    let failed = series.sum("installs_failed_full");
    assert_eq!(failed, series.sum("downloads_completed_full"));
    assert!(failed >= 300, "every device tried at least once: {failed}");
    // Rolled back: every device still reports 1.0.0.
    let versions = run.table("versions");
    for i in versions.rows_where("tick", "71") {
        assert_eq!(versions.get(i, "version"), "1.0.0");
    }
}

#[test]
fn r36_failure_probabilities_per_hardware_version() {
    let text = fleet(
        100,
        "2h",
        "",
        &release_2("install_failure_probability = { \"evt\" = 1.0 }\nboot_failure_probability = { \"dvt\" = 0.0 }"),
        &activate("0", "2.0.0", "default"),
    )
    .replace(
        "[fleet]",
        "[fleet]\n[[fleet.groups]]\nname = \"dvt\"\ncount = 50\nhardware_version = \"dvt\"\nversions = { \"1.0.0\" = 1 }\n",
    );
    let sc = Scenario::new("r36-hw.toml", &text);
    let run = run_ok(&sc, "out", &[]);
    let versions = run.table("versions");
    let mut at_end = std::collections::BTreeMap::new();
    for i in versions.rows_where("tick", "71") {
        at_end.insert(
            versions.get(i, "version").to_string(),
            versions.get(i, "devices").parse::<u64>().unwrap(),
        );
    }
    // evt installs always fail; dvt ones never do.
    assert_eq!(at_end.get("2.0.0"), Some(&50));
    assert_eq!(at_end.get("1.0.0"), Some(&100));
}

#[test]
fn r36_per_hardware_probability_must_name_a_payload() {
    let text = fleet(
        10,
        "2h",
        "",
        &release_2("boot_failure_probability = { \"pvt\" = 0.5 }"),
        "",
    );
    let sc = Scenario::new("r36-bad.toml", &text);
    let line = line_of(&text, "boot_failure_probability");
    assert_eq!(
        validate_error(&sc),
        format!(
            "error: {}:{line}: release 1: boot_failure_probability: hardware version \"pvt\" has no payload in this release\n",
            sc.p()
        )
    );
}

/// Installs of 2.0.0 always fail; the activation has `gate`.
fn failing_release(gate: &str) -> String {
    fleet(
        2000,
        "6h",
        "poll_jitter = \"3h\"",
        &release_2("install_failure_probability = 1"),
        &activate_with(&format!("gate = {gate}")),
    )
}

#[test]
fn r37_gate_with_100_percent_threshold_never_fires() {
    let sc = Scenario::new(
        "r37-never.toml",
        &failing_release("{ max_failure_percent = 100, min_attempts = 1, action = \"abort\" }"),
    );
    let run = run_ok(&sc, "out", &[]);
    assert!(run.table("policy").rows.is_empty());
    let series = run.table("series");
    // Still offered at the end: the activation was never pulled.
    assert!(series.u64s("offered_full").last().copied().unwrap() > 0);
}

#[test]
fn r37_always_failing_release_is_aborted_when_min_attempts_is_reached() {
    let sc = Scenario::new(
        "r37-abort.toml",
        &failing_release(
            "{ max_failure_percent = 5, min_attempts = 150, window = \"3d\", action = \"abort\" }",
        ),
    );
    let run = run_ok(&sc, "out", &[]);
    let series = run.table("series");
    let failed = series.u64s("installs_failed_full");
    let mut sum = 0;
    let first = failed
        .iter()
        .position(|&f| {
            sum += f;
            sum >= 150
        })
        .expect("enough attempts");
    let log = run.table("policy");
    assert_eq!(log.rows.len(), 1);
    assert_eq!(log.get(0, "action"), "abort");
    assert_eq!(log.get(0, "tick"), first.to_string());
    // The log's counts are the series' installs up to that tick.
    assert_eq!(log.get(0, "attempts"), sum.to_string());
    assert_eq!(log.get(0, "failures"), sum.to_string());
    assert_eq!(log.get(0, "percent"), "");
    // Blast radius: every device that tried failed; retries make attempts >= devices.
    let summary = run.summary();
    let blast = |k: &str| summary["policy"]["releases"][0][k].as_u64().unwrap();
    assert_eq!(blast("gate_fired_tick"), first as u64);
    assert_eq!(blast("attempts"), sum);
    assert_eq!(blast("failures"), sum);
    assert_eq!(blast("devices_attempted"), blast("devices_failed"));
    assert!(blast("devices_attempted") > 0 && blast("devices_attempted") <= sum);
    // From the next tick the activation is pulled: nothing is offered any more.
    let offered = series.u64s("offered_full");
    assert!(offered[first] > 0);
    assert!(offered[first + 1..].iter().all(|&o| o == 0), "{offered:?}");
}

#[test]
fn r37_pause_holds_the_staged_count() {
    let text = fleet(
        1000,
        "2h",
        "",
        &release_2("install_failure_probability = 1"),
        &activate_with(
            "ramp = [{ percent = 10, after = 0 }, { percent = 50, after = \"1d\" }]\ngate = { max_failure_percent = 50, min_attempts = 20, window = \"12h\", action = \"pause\" }",
        ),
    );
    let sc = Scenario::new("r37-pause.toml", &text);
    let run = run_ok(&sc, "out", &[]);
    let log = run.table("policy");
    assert_eq!(log.strs("action"), vec!["ramp_step", "pause"]);
    assert_eq!(log.get(1, "percent"), "10.0");
    let fired: u64 = log.get(1, "tick").parse().unwrap();
    assert!(fired < 24, "the gate fires before the second step");
    // The staged set stays at 10 %: those devices keep failing and being offered.
    assert_eq!(full_rows(&sc.resolve("30")), 100);
    assert_eq!(full_rows(&sc.resolve("72")), 100);
}

#[test]
fn r37_bad_gates_are_errors() {
    let text = failing_release("{ max_failure_percent = 5, action = \"stop\" }");
    let sc = Scenario::new("r37-bad.toml", &text);
    let line = line_of(&text, "gate =");
    assert_eq!(
        validate_error(&sc),
        format!(
            "error: {}:{line}: event 0 (activate): gate: unknown action \"stop\" (use pause or abort)\n",
            sc.p()
        )
    );
    let text = failing_release("{ max_failure_percent = 5, window = 0, action = \"pause\" }");
    let sc = Scenario::new("r37-bad.toml", &text);
    assert_eq!(
        validate_error(&sc),
        format!(
            "error: {}:{line}: event 0 (activate): gate: window must be at least one tick\n",
            sc.p()
        )
    );
}

#[test]
fn r38_downloads_per_tick_never_exceed_the_cap_and_the_rest_is_deferred() {
    // Every device polls every tick and nothing fails: at tick t the devices still on
    // 1.0.0 are offered 2.0.0; at most 7 start, the rest are deferred.
    let sc = Scenario::new(
        "r38-cap.toml",
        &fleet(
            100,
            "1h",
            "",
            &release_2(""),
            &activate_with("max_downloads_per_tick = 7"),
        ),
    );
    let run = run_ok(&sc, "out", &[]);
    let series = run.table("series");
    let started = series.u64s("downloads_started_full");
    let deferred = series.u64s("downloads_deferred");
    let installed = series.u64s("installs_succeeded_full");
    let mut done = 0;
    for t in 0..started.len() {
        assert!(started[t] <= 7, "tick {t}: {}", started[t]);
        assert_eq!(started[t] + deferred[t], 100 - done, "tick {t}");
        done += installed[t];
    }
    assert_eq!(done, 100);
    assert!(deferred.iter().sum::<u64>() > 0);
    // Reach: 7 installs a tick from tick 0, each reported at the next poll; the 50th
    // device installs in tick 7, the 95th in tick 13, the 99th in tick 14.
    for (p, tick) in [("50", 8), ("95", 14), ("99", 15)] {
        assert_eq!(
            run.summary_u64(&["policy", &format!("ticks_to_{p}_percent")]),
            tick
        );
    }
    assert_eq!(
        run.summary_u64(&["policy", "deferred_by_cap"]),
        deferred.iter().sum::<u64>()
    );
    assert_eq!(run.summary_u64(&["policy", "ticks_held_by_cap"]), 14);
    assert!(run.stdout.is_empty());
}

#[test]
fn r38_fleet_byte_cap_limits_bytes_started_per_tick() {
    let text = fleet(
        100,
        "1h",
        "",
        &release_2(""),
        &activate("0", "2.0.0", "default"),
    )
    .replace(
        "[behaviour]",
        "[bandwidth]\nmax_bytes_per_tick = 3500\n\n[behaviour]",
    );
    let sc = Scenario::new("r38-bytes.toml", &text);
    let run = run_ok(&sc, "out", &[]);
    let series = run.table("series");
    let bytes = series.u64s("bytes_total");
    assert!(bytes.iter().all(|&b| b <= 3500), "{bytes:?}");
    assert_eq!(series.u64s("downloads_started_full")[0], 3);
    assert_eq!(series.sum("installs_succeeded_full"), 100);
    assert!(series.sum("downloads_deferred") > 0);
}

#[test]
fn r38_caps_of_zero_are_errors() {
    let text = fleet(
        10,
        "1h",
        "",
        &release_2(""),
        &activate_with("max_downloads_per_tick = 0"),
    );
    let sc = Scenario::new("r38-zero.toml", &text);
    let line = line_of(&text, "max_downloads_per_tick");
    assert_eq!(
        validate_error(&sc),
        format!(
            "error: {}:{line}: event 0 (activate): max_downloads_per_tick must be at least 1, not 0 (a cap of zero would hold every download back)\n",
            sc.p()
        )
    );
    let text = fleet(10, "1h", "", &release_2(""), "").replace(
        "[behaviour]",
        "[bandwidth]\nmax_bytes_per_tick = 0\n\n[behaviour]",
    );
    let sc = Scenario::new("r38-zero.toml", &text);
    let line = line_of(&text, "max_bytes_per_tick");
    assert_eq!(
        validate_error(&sc),
        format!(
            "error: {}:{line}: bandwidth: max_bytes_per_tick must be at least 1, not 0 (a cap of zero would hold every download back)\n",
            sc.p()
        )
    );
}

#[test]
fn r39_no_download_starts_outside_the_window() {
    // 02:00-05:00 at UTC+01:00 is 01:00-04:00 UTC: ticks 1, 2, 3 of each day.
    let sc = Scenario::new(
        "r39-window.toml",
        &fleet(
            500,
            "1h",
            "poll_jitter = 0\nupdate_window = { start = \"02:00\", end = \"05:00\" }\nutc_offset = \"+01:00\"",
            &release_2(""),
            &activate_with("max_downloads_per_tick = 100"),
        ),
    );
    let run = run_ok(&sc, "out", &[]);
    let series = run.table("series");
    let started = series.u64s("downloads_started_full");
    for (t, &n) in started.iter().enumerate() {
        if ![1, 2, 3].contains(&(t % 24)) {
            assert_eq!(n, 0, "tick {t}");
        }
    }
    assert_eq!(started[1], 100);
    assert!(series.u64s("downloads_deferred")[0] == 500);
    assert_eq!(series.sum("installs_succeeded_full"), 500);
}

#[test]
fn r39_bad_window_times_are_errors() {
    for (fields, needle, message) in [
        (
            "update_window = { start = \"25:00\", end = \"05:00\" }",
            "update_window",
            "behaviour: update_window: start \"25:00\" is not a time of day HH:MM (00:00 to 23:59)",
        ),
        (
            "update_window = { start = \"02:00\", end = \"02:00\" }",
            "update_window",
            "behaviour: update_window: start and end are the same time (the window would be empty)",
        ),
        (
            "update_window = { start = \"02:00\", end = \"05:00\" }\nutc_offset = \"1h\"",
            "utc_offset",
            "behaviour: utc_offset: \"1h\" is not a UTC offset such as \"+01:00\" or \"-05:30\"",
        ),
        (
            "utc_offset = \"+02:00\"",
            "utc_offset",
            "behaviour: utc_offset applies only to a profile with an update_window",
        ),
    ] {
        let text = fleet(10, "1h", fields, &release_2(""), "");
        let sc = Scenario::new("r39-bad.toml", &text);
        let line = line_of(&text, needle);
        assert_eq!(
            validate_error(&sc),
            format!("error: {}:{line}: {message}\n", sc.p()),
            "{fields}"
        );
    }
}

/// Every policy at once over more than one engine block (65,536 devices).
fn all_policies() -> String {
    let text = fleet(
        70_000,
        "4h",
        "poll_jitter = \"2h\"\nonline_probability = 0.9\nupdate_window = { start = \"22:00\", end = \"06:00\" }\nutc_offset = \"-05:00\"",
        &release_2("install_failure_probability = 0.02\nboot_failure_probability = { \"evt\" = 0.01 }"),
        &activate_with(
            "ramp = { start = 1, factor = 2, every = \"6h\" }\ngate = { max_failure_percent = 2.5, min_attempts = 1000, window = \"12h\", action = \"pause\" }\nmax_downloads_per_tick = 900",
        ),
    );
    text.replace(
        "[behaviour]",
        "[bandwidth]\nmax_bytes_per_tick = 700000\n\n[behaviour]",
    )
}

#[test]
fn r40_policy_outputs_identical_at_1_and_2_threads() {
    let sc = Scenario::new("r40-threads.toml", &all_policies());
    let one = run_ok(&sc, "t1", &["--threads", "1"]);
    let two = run_ok(&sc, "t2", &["--threads", "2"]);
    for file in [
        "policy.csv",
        "policy.parquet",
        "series.csv",
        "series.parquet",
        "versions.csv",
        "egress.csv",
    ] {
        assert!(
            std::fs::read(one.dir.join(file)).unwrap()
                == std::fs::read(two.dir.join(file)).unwrap(),
            "{file} differs between 1 and 2 threads"
        );
    }
    assert_eq!(one.summary_without_timing(), two.summary_without_timing());
    let series = one.table("series");
    assert!(series.sum("downloads_deferred") > 0);
    assert!(series.sum("installs_failed_full") > 0);
    // Ramp steps, then the gate pauses the ramp once failures pass 2.5 %.
    let actions = one.table("policy");
    let actions = actions.strs("action");
    assert_eq!(actions.last(), Some(&"pause"), "{actions:?}");
    assert!(actions.len() >= 3, "{actions:?}");
}

#[test]
fn r40_policy_log_and_deferred_column_in_every_run() {
    let plain = Scenario::new(
        "r40-plain.toml",
        &fleet(
            10,
            "1h",
            "",
            &release_2(""),
            &activate("0", "2.0.0", "default"),
        ),
    );
    let run = run_ok(&plain, "out", &[]);
    // Without policies: the log has its columns and no row; nothing is deferred.
    assert_eq!(
        std::fs::read_to_string(run.dir.join("policy.csv")).expect("policy.csv"),
        "tick,cohort,release,action,percent,attempts,failures\n"
    );
    assert!(run.dir.join("policy.parquet").exists());
    let series = run.table("series");
    assert!(series.header.contains(&"downloads_deferred".to_string()));
    assert_eq!(series.sum("downloads_deferred"), 0);
    let capped = Scenario::new(
        "r40-capped.toml",
        &fleet(
            10,
            "1h",
            "",
            &release_2(""),
            &activate_with("max_downloads_per_tick = 3"),
        ),
    );
    let run = run_ok(&capped, "out", &[]);
    assert_eq!(run.table("series").sum("downloads_deferred"), 7 + 4 + 1);
    // No ramp or gate: the log is empty but written.
    check_csv(
        &std::fs::read_to_string(run.dir.join("policy.csv")).unwrap(),
        "tick,cohort,release,action,percent,attempts,failures",
    );
    assert!(run.dir.join("policy.parquet").is_file());
}

#[test]
fn r37_bundled_bad_release_is_aborted_by_its_gate() {
    let sc = Scenario::new(
        "copy.toml",
        &std::fs::read_to_string(bundled("policy-bad-release.toml")).unwrap(),
    );
    let run = run_ok(&sc, "out", &["--devices", "20000"]);
    let log = run.table("policy");
    let actions = log.strs("action");
    assert_eq!(actions.last(), Some(&"abort"), "{actions:?}");
    let summary = run.summary();
    let radius = summary["policy"]["releases"][0]["devices_attempted"]
        .as_u64()
        .unwrap();
    // Caught on the first step: fewer devices tried it than the 5 % step would stage.
    assert!(radius > 0 && radius < 1000, "{radius}");
}

#[test]
fn r37_blast_radius_in_the_report_and_the_terminal_summary() {
    let sc = Scenario::new(
        "r37-report.toml",
        &fleet(
            40,
            "1h",
            "",
            &release_2("install_failure_probability = 1"),
            &activate_with(
                "gate = { max_failure_percent = 10, min_attempts = 5, action = \"abort\" }",
            ),
        ),
    );
    let dir = sc.dir.path().join("out");
    let out = otasim(["run", sc.p(), "--out", dir.to_str().unwrap()]);
    let stdout = stdout_ok(&out);
    assert!(
        stdout.contains("policy     2.0.0 in default: abort at tick 0: 40 devices tried it (40 failed; 40 attempts, 40 failed)\n"),
        "{stdout}"
    );
    assert!(stdout.contains("settled    50% of devices at their final version after 0h"));
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("Blast radius of 2.0.0 in default"));
    assert!(html.contains("abort at tick 0: 40 devices tried it, 40 failed"));
}

#[test]
fn r38_a_payload_larger_than_the_byte_cap_is_warned_about() {
    let text = fleet(
        5,
        "1h",
        "",
        &release_2(""),
        &activate("0", "2.0.0", "default"),
    )
    .replace(
        "[behaviour]",
        "[bandwidth]\nmax_bytes_per_tick = 999\n\n[behaviour]",
    );
    let sc = Scenario::new("r38-warn.toml", &text);
    let dir = sc.dir.path().join("out");
    let out = otasim(["run", sc.p(), "--out", dir.to_str().unwrap(), "--no-charts"]);
    stdout_ok(&out);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "warning: {}: a payload of 1000 bytes is larger than [bandwidth] max_bytes_per_tick = 999: such downloads never start (R38)\n",
            sc.p()
        )
    );
    assert_eq!(
        run_ok(&sc, "q", &[])
            .table("series")
            .sum("downloads_started_full"),
        0
    );
    // A scenario warning like the others: `validate` counts it, CI can refuse it.
    let v = sc.validate();
    assert!(
        String::from_utf8_lossy(&v.stdout).contains("  warnings           1 (on stderr above)\n")
    );
    let denied = otasim(["validate", sc.p(), "--deny-warnings"]);
    assert_eq!(denied.status.code(), Some(1));
}

#[test]
fn r35_r39_validate_summarises_the_policies() {
    let out = otasim([
        OsStr::new("validate"),
        bundled("policy-cdn-cap.toml").as_os_str(),
    ]);
    let stdout = stdout_ok(&out);
    assert!(
        stdout.contains("  policies           1 ramps, 0 gates, 1 download caps, byte cap 2000000000 bytes per tick, 2 profiles with update windows\n"),
        "{stdout}"
    );
}
