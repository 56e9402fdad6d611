//! Issue 14, reliability under hostile input: limits checked at load (with the place and
//! the limit), messages that say what is wrong, damaged Parquet tables, and output
//! directories that never mix. Huge values are checked at load, never run.

use super::*;

/// A one-device scenario with `head` before it.
fn scenario(head: &str) -> Scenario {
    let text = format!(
        "{head}\n{}{}",
        full("1.0.0", "\"evt\" = 10"),
        dev("SN-1", "evt", "1.0.0")
    );
    Scenario::new("x.toml", &text)
}

/// Exit 1 and exactly `message` (after `error: `) on stderr, nothing on stdout.
#[track_caller]
fn assert_message(out: &Output, message: &str) {
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("error: {message}\n")
    );
}

/// `validate` and `run` (whose output dir must not appear) both refuse `sc`.
#[track_caller]
fn refused_at_load(sc: &Scenario, message: &str) {
    assert_message(&sc.validate(), &format!("{}{message}", sc.p()));
    let out_dir = sc.dir.path().join("out");
    let run = otasim(["run", sc.p(), "--out", out_dir.to_str().unwrap(), "-q"]);
    assert_message(&run, &format!("{}{message}", sc.p()));
    assert!(!out_dir.exists());
}

#[test]
fn limit_poll_interval_is_checked_at_load() {
    let sc = scenario("[behaviour]\npoll_interval = \"999999999999w\"");
    refused_at_load(
        &sc,
        ":2: behaviour: poll_interval: 167999999999832 ticks is longer than otasim simulates (limit 1000000)",
    );
    let sc = scenario("[behaviour]\npoll_interval = \"99999999d\"");
    refused_at_load(
        &sc,
        ":2: behaviour: poll_interval: 2399999976 ticks is longer than otasim simulates (limit 1000000)",
    );
}

#[test]
fn limit_poll_jitter_is_checked_at_load() {
    let sc = scenario("[behaviour]\npoll_jitter = \"99999999d\"");
    refused_at_load(
        &sc,
        ":2: behaviour: poll_jitter: 2399999976 ticks is longer than otasim simulates (limit 1000000)",
    );
}

#[test]
fn limit_duration_and_tick() {
    let sc = scenario("duration = \"99999999d\"");
    refused_at_load(
        &sc,
        ":1: duration: 2399999976 ticks is longer than otasim simulates (limit 1000000)",
    );
    let sc = scenario("tick = \"99999999w\"");
    refused_at_load(&sc, ":1: tick: \"99999999w\" is too long (limit 364d)");
}

#[test]
fn limit_fleet_devices() {
    let sc = scenario(
        "[fleet]\ndevices = 4294967295\n[[fleet.groups]]\nshare = 1\nhardware_version = \"evt\"\nversions = { \"1.0.0\" = 1 }",
    );
    refused_at_load(
        &sc,
        ":2: fleet: devices: 4294967295 devices is too many (limit 100000000)",
    );
    let sc = scenario(
        "[fleet]\n[[fleet.groups]]\ncount = 4294967295\nhardware_version = \"evt\"\nversions = { \"1.0.0\" = 1 }",
    );
    refused_at_load(
        &sc,
        ":2: fleet groups: 4294967295 devices is too many (limit 100000000)",
    );
}

#[test]
fn limit_devices_flag() {
    let sc = scenario(
        "[fleet]\ndevices = 10\n[[fleet.groups]]\nshare = 1\nhardware_version = \"evt\"\nversions = { \"1.0.0\" = 1 }",
    );
    let out = otasim(["validate", sc.p(), "--devices", "18446744073709551615"]);
    assert_message(
        &out,
        &format!(
            "{}: --devices 18446744073709551615: 18446744073709551615 devices is too many (limit 100000000)",
            sc.p()
        ),
    );
}

#[test]
fn limit_arrivals_per_day_times_duration() {
    let arrivals = "[[fleet.arrivals]]\nper_day = 1_000_000_000_000\nsoftware_version = \"1.0.0\"\nhardware_version = \"evt\"";
    refused_at_load(
        &scenario(arrivals),
        ":2: fleet arrivals 0: 30000000000000 arriving devices make the fleet too large (limit 100000000)",
    );
    let long = "duration = \"99999999d\"\n[[fleet.arrivals]]\nper_day = 400\nsoftware_version = \"1.0.0\"\nhardware_version = \"evt\"";
    refused_at_load(
        &scenario(long),
        ":1: duration: 2399999976 ticks is longer than otasim simulates (limit 1000000)",
    );
    let end = "[[fleet.arrivals]]\nper_day = 0\nend = \"99999999d\"\nsoftware_version = \"1.0.0\"\nhardware_version = \"evt\"";
    refused_at_load(
        &scenario(end),
        ":3: fleet arrivals 0: end: 2399999976 ticks is longer than otasim simulates (limit 1000000)",
    );
}

#[test]
fn limit_at_with_behaviour_is_checked_before_simulating() {
    let sc = scenario("[behaviour]");
    let out = otasim(["matrix", sc.p(), "--at", "18446744073709551615"]);
    assert_message(
        &out,
        "--at: 18446744073709551615 ticks is longer than otasim simulates (limit 1000000)",
    );
    // Without behaviour nothing is simulated: any tick is a moment of the timeline.
    let sc = scenario("");
    let out = otasim([
        "matrix",
        sc.p(),
        "--at",
        "18446744073709551615",
        "--format",
        "csv",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn limit_threads() {
    let sc = scenario("");
    let out_dir = sc.dir.path().join("out");
    let out = otasim([
        "run",
        sc.p(),
        "--out",
        out_dir.to_str().unwrap(),
        "--threads",
        "100000",
    ]);
    assert_message(
        &out,
        "--threads 100000: too many worker threads (limit 256)",
    );
    assert!(!out_dir.exists());
}

#[test]
fn limit_snapshots() {
    let sc = scenario("duration = 20000");
    let out_dir = sc.dir.path().join("out");
    let out = otasim([
        "run",
        sc.p(),
        "--out",
        out_dir.to_str().unwrap(),
        "--snapshot-every",
        "1",
    ]);
    assert_message(
        &out,
        "20001 version-matrix snapshots (the scenario's `snapshots`, --snapshot-every and the end) are too many (limit 10000)",
    );
}

#[cfg(unix)]
#[test]
fn limit_scenario_file_size_reading_dev_zero() {
    let out = otasim(["matrix", "/dev/zero", "--at", "0"]);
    assert_message(
        &out,
        "/dev/zero: the scenario file is too large (put a big fleet in a fleet table) (limit 67108864 bytes)",
    );
}

#[test]
fn unknown_long_device_id_gets_no_suggestion_and_a_short_message() {
    let sc = scenario("");
    let id = "S".repeat(10_000);
    let started = std::time::Instant::now();
    let out = otasim(["resolve", sc.p(), "--at", "0", "--device", &id]);
    assert!(started.elapsed().as_secs() < 10);
    assert_message(
        &out,
        &format!(
            "--device: unknown device \"{}…\" (10000 bytes)",
            "S".repeat(64)
        ),
    );
    let out = otasim(["resolve", sc.p(), "--at", "0", "--device", "SN-2"]);
    assert_message(
        &out,
        "--device: unknown device \"SN-2\" (did you mean \"SN-1\"?)",
    );
}

// Messages.

#[test]
fn control_character_in_a_comment_is_named() {
    let sc = scenario("# a bell \u{7} in a comment");
    assert_message(
        &sc.validate(),
        &format!(
            "{}:1: control character U+0007 is not allowed in TOML (not even in a comment or a string; only tab is)",
            sc.p()
        ),
    );
}

#[test]
fn fleet_tables_without_a_fleet_header_are_accepted() {
    let sc = scenario(
        "[[fleet.arrivals]]\nper_day = 24\nsoftware_version = \"1.0.0\"\nhardware_version = \"evt\"\n[[fleet.groups]]\ncount = 3\nhardware_version = \"evt\"\nversions = { \"1.0.0\" = 1 }",
    );
    let out = sc.validate();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout_ok(&out);
    assert!(text.contains("devices            724 "), "{text}");
}

#[test]
fn a_wrong_time_says_what_a_time_may_be() {
    let sc = scenario("duration = 1.5");
    assert_message(
        &sc.validate(),
        &format!(
            "{}:1: invalid type: floating point `1.5`, expected a time: a tick number (36) or a duration string (\"36h\", \"7d\", \"1d12h\")",
            sc.p()
        ),
    );
    let sc = scenario("[bandwidth]\nprice_per_gb = \"cheap\"");
    assert_message(
        &sc.validate(),
        &format!(
            "{}:2: invalid type: string \"cheap\", expected a number (an integer like 5, or a decimal like 0.5)",
            sc.p()
        ),
    );
}

#[test]
fn a_misspelt_key_gets_did_you_mean() {
    let sc = scenario("[behaviour]\npol_interval = \"1d\"");
    assert_message(
        &sc.validate(),
        &format!(
            "{}:2: unknown field `pol_interval`, expected one of `name`, `poll_interval`, `poll_jitter`, `online_probability`, `link_bytes_per_second`, `download_failure_probability`, `resume_downloads`, `install_failure_probability`, `retirement_rate_per_day`, `update_window`, `utc_offset` (did you mean `poll_interval`?)",
            sc.p()
        ),
    );
}

#[test]
fn usage_errors_exit_2_and_input_errors_exit_1() {
    let out = otasim(["resolve", "x.toml"]);
    assert_eq!(out.status.code(), Some(2), "clap: --at is missing");
    let out = otasim(["run", "x.toml", "--out", "o", "--threads", "many"]);
    assert_eq!(out.status.code(), Some(2));
    let sc = scenario("seed = -1");
    assert_eq!(sc.validate().status.code(), Some(1));
}

// Damaged Parquet fleet tables.

/// A Parquet fleet table of `rows` devices as polars writes it, in one of a few layouts
/// (codec, row groups).
fn parquet_fleet(rows: usize, layout: usize) -> Vec<u8> {
    use polars::prelude::*;
    let ids: Vec<String> = (0..rows).map(|i| format!("D-{i:05}")).collect();
    let versions: Vec<&str> = (0..rows)
        .map(|i| if i % 3 == 0 { "1.0.0" } else { "2.0.0" })
        .collect();
    let mut df = DataFrame::new_infer_height(vec![
        Column::new("device_id".into(), ids),
        Column::new("hardware_version".into(), vec!["evt"; rows]),
        Column::new("software_version".into(), versions),
        Column::new(
            "last_seen".into(),
            (0..rows as i64).map(|i| -i).collect::<Vec<i64>>(),
        ),
        Column::new(
            "staged".into(),
            (0..rows).map(|i| i % 2 == 0).collect::<Vec<bool>>(),
        ),
    ])
    .unwrap();
    let compression = match layout % 3 {
        0 => ParquetCompression::Uncompressed,
        1 => ParquetCompression::Snappy,
        _ => ParquetCompression::Zstd(None),
    };
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes)
        .with_compression(compression)
        .with_row_group_size(Some(if layout % 2 == 0 { rows } else { rows / 3 }))
        .finish(&mut df)
        .unwrap();
    bytes
}

/// The scenario the damaged tables are loaded into.
fn parquet_scenario() -> Scenario {
    Scenario::new(
        "s.toml",
        &format!(
            "{}{}",
            full("1.0.0", "\"evt\" = 10"),
            full("2.0.0", "\"evt\" = 10")
        ),
    )
}

/// A run of the binary on a damaged file: exit 0 or 1, never a panic (101) or an abort
/// (134, or a signal), and on an error only `error: …` on stderr.
#[track_caller]
fn assert_no_crash(out: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{what}: status {:?}\n{stderr}",
        out.status
    );
    if out.status.code() == Some(1) {
        assert!(stderr.starts_with("error: "), "{what}: {stderr}");
        assert_eq!(
            stderr.lines().count(),
            1,
            "{what}: only the error\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    }
}

/// Issue 14: byte-flipped Parquet fleets (deterministic positions and masks, biased to
/// the footer, which holds the numbers a reader trusts) never crash the process.
#[test]
fn damaged_parquet_never_crashes() {
    let sc = parquet_scenario();
    let table = sc.dir.path().join("fleet.parquet");
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut errors, mut damaged) = (0, 0);
    for case in 0..120 {
        let mut bytes = parquet_fleet(300, case % 6);
        let len = bytes.len();
        let flips = 1 + next() as usize % 4;
        for _ in 0..flips {
            let r = next() as usize;
            // Half the flips in the last 400 bytes (footer), half anywhere.
            let at = if r % 2 == 0 {
                len - 1 - (r >> 8) % 400.min(len)
            } else {
                (r >> 8) % len
            };
            bytes[at] ^= [0xff, 0x80, 0x01, 0x7f, 0x40][(r >> 4) % 5];
        }
        std::fs::write(&table, &bytes).unwrap();
        let out = otasim(["validate", sc.p(), "--fleet", table.to_str().unwrap()]);
        assert_no_crash(&out, &format!("case {case}"));
        errors += usize::from(out.status.code() == Some(1));
        damaged +=
            usize::from(String::from_utf8_lossy(&out.stderr).contains(": damaged Parquet file ("));
    }
    assert!(errors > 0, "some damage is detected");
    // Some of these cases panic inside polars' Parquet layer (slice ranges from damaged
    // lengths): caught at the boundary, reported on one line with no panic message.
    assert!(damaged > 0, "the boundary is exercised");
}

/// A table cut in half (its footer gone) is an input error too.
#[test]
fn truncated_parquet_is_an_input_error() {
    let sc = parquet_scenario();
    let table = sc.dir.path().join("fleet.parquet");
    let bytes = parquet_fleet(300, 1);
    std::fs::write(&table, &bytes[..bytes.len() / 2]).unwrap();
    let out = otasim(["validate", sc.p(), "--fleet", table.to_str().unwrap()]);
    assert_no_crash(&out, "truncated");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn parquet_unsigned_last_seen_from_2_pow_63_is_out_of_range() {
    use polars::prelude::*;
    let sc = parquet_scenario();
    let table = sc.dir.path().join("fleet.parquet");
    let mut df = DataFrame::new_infer_height(vec![
        Column::new("device_id".into(), &["a", "b"]),
        Column::new("hardware_version".into(), &["evt", "evt"]),
        Column::new("software_version".into(), &["1.0.0", "1.0.0"]),
        Column::new("last_seen".into(), &[5u64, 1 << 63]),
    ])
    .unwrap();
    ParquetWriter::new(std::fs::File::create(&table).unwrap())
        .finish(&mut df)
        .unwrap();
    let out = otasim(["validate", sc.p(), "--fleet", table.to_str().unwrap()]);
    assert_message(
        &out,
        &format!(
            "{}: row 2: device \"b\": last_seen 9223372036854775808 is out of range",
            table.display()
        ),
    );
}

// Output directories that never mix.

/// Entries of `dir`, sorted (hidden ones included).
fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A small run scenario (fast) in its own directory.
fn run_scenario() -> Scenario {
    Scenario::new(
        "r.toml",
        &[
            "duration = \"1d\"\n".to_string(),
            full("2.0.0", "\"evt\" = 20"),
            "\n[behaviour]\npoll_interval = \"6h\"\n".to_string(),
            activate("0", "2.0.0", "default"),
            dev("a", "evt", "1.0.0"),
        ]
        .concat(),
    )
}

fn run_into(sc: &Scenario, out: &std::path::Path, extra: &[&str]) -> Output {
    let mut args = vec!["run", sc.p(), "--out", out.to_str().unwrap(), "-q"];
    args.extend_from_slice(extra);
    otasim(args)
}

#[test]
fn rerun_with_fewer_outputs_leaves_none_of_the_old_ones() {
    let sc = run_scenario();
    let out = sc.dir.path().join("out");
    assert!(run_into(&sc, &out, &[]).status.success());
    assert!(listing(&out).contains(&"charts".to_string()));
    assert!(listing(&out).contains(&"report.html".to_string()));
    let r = run_into(&sc, &out, &["--no-charts", "--format", "csv"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(
        listing(&out),
        [
            "bandwidth.csv",
            "egress.csv",
            "matrix.csv",
            "policy.csv",
            "series.csv",
            "summary.json",
            "versions.csv"
        ]
    );
    assert_eq!(
        listing(sc.dir.path()),
        ["out", "r.toml"],
        "nothing left beside"
    );
}

#[test]
fn a_directory_with_files_otasim_did_not_write_is_refused_before_simulating() {
    let sc = run_scenario();
    let out = sc.dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let r = run_into(&sc, &out, &[]);
    assert_message(
        &r,
        &format!(
            "cannot write {}: it holds notes.txt, which otasim did not write; a run replaces the whole directory, so choose another --out",
            out.display()
        ),
    );
    assert_eq!(listing(&out), ["notes.txt"]);
    assert_eq!(listing(sc.dir.path()), ["out", "r.toml"]);
}

#[test]
fn an_unwritable_output_place_is_reported_before_simulating() {
    let sc = run_scenario();
    let out = sc.dir.path().join("missing").join("out");
    let r = run_into(&sc, &out, &[]);
    assert_message(
        &r,
        &format!(
            "cannot write {}: No such file or directory (os error 2)",
            out.display()
        ),
    );
}

/// A run that takes a few seconds in a debug build (the bundled 200K-device rollout).
#[cfg(unix)]
fn slow_run(out: &std::path::Path) -> std::process::Child {
    Command::new(bin())
        .args(["run", bundled("rollout.toml").to_str().unwrap(), "--out"])
        .arg(out)
        .args(["-q", "--no-charts"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `path` exists (the run took its lock), at most 60 s.
#[cfg(unix)]
fn wait_for(path: &std::path::Path) {
    let start = std::time::Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed().as_secs() < 60,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[cfg(unix)]
#[test]
fn a_second_concurrent_run_into_one_out_fails_clearly() {
    let sc = run_scenario();
    let out = sc.dir.path().join("out");
    let mut first = slow_run(&out);
    wait_for(&sc.dir.path().join(".out.lock"));
    let second = run_into(&sc, &out, &[]);
    assert_message(
        &second,
        &format!(
            "cannot write {}: another otasim run is writing it (it holds the lock {})",
            out.display(),
            sc.dir.path().join(".out.lock").display()
        ),
    );
    let status = first.wait().unwrap();
    assert!(status.success());
    assert!(out.join("summary.json").exists(), "the first run's outputs");
    assert_eq!(listing(sc.dir.path()), ["out", "r.toml"]);
}

#[cfg(unix)]
#[test]
fn sigint_stops_the_run_cleans_up_and_exits_130() {
    let sc = run_scenario();
    let out = sc.dir.path().join("out");
    assert!(run_into(&sc, &out, &["--no-charts"]).status.success());
    let before: Vec<(String, Vec<u8>)> = listing(&out)
        .into_iter()
        .map(|f| (f.clone(), std::fs::read(out.join(&f)).unwrap()))
        .collect();
    let child = slow_run(&out);
    // The lock appears once the scenario is loaded, before the simulation starts.
    wait_for(&sc.dir.path().join(".out.lock"));
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let done = child.wait_with_output().unwrap();
    assert_eq!(done.status.code(), Some(130));
    assert_eq!(
        String::from_utf8_lossy(&done.stderr),
        "error: interrupted (nothing was written)\n"
    );
    let after: Vec<(String, Vec<u8>)> = listing(&out)
        .into_iter()
        .map(|f| (f.clone(), std::fs::read(out.join(&f)).unwrap()))
        .collect();
    assert!(before == after, "the previous outputs are untouched");
    assert_eq!(
        listing(sc.dir.path()),
        ["out", "r.toml"],
        "no staging, no lock"
    );
}

/// SIGKILL at several moments of a rerun: the directory is always the old run or the
/// new one, whole, and the next run removes what the killed one left.
#[cfg(unix)]
#[test]
fn sigkill_never_leaves_a_mix_and_the_next_run_cleans_up() {
    let sc = run_scenario();
    let out = sc.dir.path().join("out");
    assert!(run_into(&sc, &out, &["--format", "csv"]).status.success());
    let old = listing(&out);
    for delay_ms in [0u64, 150, 400, 900, 1600, 3000] {
        let mut child = slow_run(&out);
        wait_for(&sc.dir.path().join(".out.lock"));
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        child.kill().unwrap();
        child.wait().unwrap();
        let now = listing(&out);
        let new_set = [
            "bandwidth.csv",
            "bandwidth.parquet",
            "egress.csv",
            "egress.parquet",
            "matrix.csv",
            "matrix.parquet",
            "policy.csv",
            "policy.parquet",
            "series.csv",
            "series.parquet",
            "summary.json",
            "versions.csv",
            "versions.parquet",
        ];
        assert!(
            now == old || now == new_set,
            "after {delay_ms} ms: a mix {now:?}"
        );
    }
    assert!(run_into(&sc, &out, &["--no-charts"]).status.success());
    assert_eq!(
        listing(sc.dir.path()),
        ["out", "r.toml"],
        "stale staging removed"
    );
}

#[test]
fn limit_snapshots_in_the_file_is_checked_by_validate() {
    let times: Vec<String> = (0..=10_000).map(|t| t.to_string()).collect();
    let sc = scenario(&format!(
        "duration = 20000\nsnapshots = [{}]",
        times.join(", ")
    ));
    refused_at_load(&sc, ":2: snapshots: 10001 times are too many (limit 10000)");
}

#[test]
fn an_event_naming_a_10_kb_device_id_gets_a_short_message() {
    let id = "S".repeat(10_000);
    let sc = Scenario::new(
        "x.toml",
        &format!(
            "{}{}{}",
            full("1.0.0", "\"evt\" = 10"),
            dev("SN-1", "evt", "1.0.0"),
            event("0", "clear_override", &format!("device = \"{id}\""))
        ),
    );
    let line = line_of(&sc.text, "device = \"SSS");
    assert_message(
        &sc.validate(),
        &format!(
            "{}:{line}: event 0 (clear_override): unknown device \"{}…\" (10000 bytes)",
            sc.p(),
            "S".repeat(64)
        ),
    );
}
