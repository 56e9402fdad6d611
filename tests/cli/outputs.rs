//! What `otasim run` writes: bandwidth and cost recomputed independently from the
//! scenario, matrix snapshots against `otasim matrix --at`, and atomic outputs (spec §8:
//! a run leaves complete files or none).

use std::collections::BTreeMap;

use super::runs::*;
use super::*;

/// 200 `evt` devices on 1.0.0 take the Full 2.0.0 (1,000,000 bytes) and 100 `dvt`
/// devices on 1.5.0 the Delta 1.5.0->2.0.0 (250,000 bytes; the Full for `dvt` is
/// 1,300,000), from tick 3, over a 100 B/s link: 360,000 bytes a tick, so a Full
/// download takes three ticks (360,000 + 360,000 + 280,000) and a Delta one.
fn two_payload_fleet() -> String {
    r#"
seed = 4
tick = "1h"
duration = "2d"

[[releases]]
version = "2.0.0"
payloads = { "evt" = 1_000_000, "dvt" = 1_300_000 }
[[releases]]
from = "1.5.0"
to = "2.0.0"
payloads = { "dvt" = 250_000 }

[behaviour]
poll_interval = "6h"
poll_jitter = "2h"
link_bytes_per_second = 100

[fleet]
[[fleet.groups]]
name = "e"
count = 200
hardware_version = "evt"
versions = { "1.0.0" = 1 }
[[fleet.groups]]
name = "d"
count = 100
hardware_version = "dvt"
versions = { "1.5.0" = 1 }

[[events]]
at = 3
action = "activate"
release = "2.0.0"
cohort = "default"
[[events]]
at = 3
action = "activate"
release = "1.5.0->2.0.0"
cohort = "default"
"#
    .to_string()
}

/// Nearest-rank percentile, written out independently of the implementation.
fn nearest_rank(values: &[u64], p: usize) -> u64 {
    let mut v = values.to_vec();
    v.sort_unstable();
    let rank = (p * v.len()).div_ceil(100).max(1);
    v[rank - 1]
}

#[test]
fn bandwidth_recomputed_from_downloads_and_payload_sizes() {
    let sc = Scenario::new("bandwidth.toml", &two_payload_fleet());
    let run = run_ok(&sc, "out", &[]);
    let series = run.table("series");
    let n = series.rows.len();
    assert_eq!(
        series.u64s("at_final_version")[n - 1],
        300,
        "every device updates"
    );

    let started_full = series.u64s("downloads_started_full");
    let started_delta = series.u64s("downloads_started_delta");
    assert_eq!(
        started_full.iter().sum::<u64>(),
        200,
        "one download per evt device"
    );
    assert_eq!(
        started_delta.iter().sum::<u64>(),
        100,
        "one download per dvt device"
    );
    assert!(started_full[..3]
        .iter()
        .chain(&started_delta[..3])
        .all(|&s| s == 0));

    // Bytes per tick, from the downloads started and the link rate alone.
    let chunk = [360_000u64, 360_000, 280_000];
    let mut full = vec![0u64; n];
    let mut completed_full = vec![0u64; n];
    for (s, &k) in started_full.iter().enumerate().filter(|(_, &k)| k > 0) {
        for (i, c) in chunk.iter().enumerate() {
            full[s + i] += k * c;
        }
        completed_full[s + 2] += k;
    }
    let delta: Vec<u64> = started_delta.iter().map(|k| k * 250_000).collect();
    assert_eq!(series.u64s("bytes_full"), full);
    assert_eq!(series.u64s("bytes_delta"), delta);
    assert_eq!(series.u64s("downloads_completed_full"), completed_full);
    assert_eq!(series.u64s("downloads_completed_delta"), started_delta);
    let total: Vec<u64> = (0..n).map(|t| full[t] + delta[t]).collect();
    assert_eq!(series.u64s("bytes_total"), total);
    assert_eq!(
        series.sum("bytes_must_pass_through") + series.sum("bytes_override"),
        0
    );

    // Totals: every completed download times its payload.
    let bytes_total = 200 * 1_000_000 + 100 * 250_000;
    assert_eq!(total.iter().sum::<u64>(), bytes_total);
    assert_eq!(run.summary_u64(&["bandwidth", "bytes_total"]), bytes_total);
    assert_eq!(
        run.summary_u64(&["bandwidth", "bytes_by_rule", "full"]),
        200_000_000
    );
    assert_eq!(
        run.summary_u64(&["bandwidth", "bytes_by_rule", "delta"]),
        25_000_000
    );
    // Had the Delta downloads been the dvt Full: 100 x 1,300,000.
    assert_eq!(
        run.summary_u64(&["bandwidth", "full_counterfactual_bytes"]),
        200_000_000 + 130_000_000
    );
    assert_eq!(
        run.summary_u64(&["bandwidth", "delta_savings_bytes"]),
        105_000_000
    );

    // Peak and p95 of the per-tick egress.
    let peak = *total.iter().max().unwrap();
    let peak_tick = total.iter().position(|&b| b == peak).unwrap() as u64;
    assert_eq!(run.summary_u64(&["bandwidth", "peak_bytes_per_tick"]), peak);
    assert_eq!(run.summary_u64(&["bandwidth", "peak_tick"]), peak_tick);
    assert_eq!(
        run.summary_u64(&["bandwidth", "p95_bytes_per_tick"]),
        nearest_rank(&total, 95)
    );

    // bandwidth.csv, one row per release.
    let bandwidth = run.table("bandwidth");
    assert_eq!(bandwidth.rows.len(), 2);
    for (release, kind, started, bytes, full_equivalent) in [
        ("2.0.0", "full", 200, 200_000_000u64, 200_000_000u64),
        ("1.5.0->2.0.0", "delta", 100, 25_000_000, 130_000_000),
    ] {
        let r = bandwidth.row_where("release", release);
        let row = |c: &str| bandwidth.get(r, c).to_string();
        assert_eq!(row("kind"), kind);
        assert_eq!(row("target_version"), "2.0.0");
        assert_eq!(row("software_type"), "main");
        for c in [
            "downloads_started",
            "downloads_completed",
            "installs_succeeded",
        ] {
            assert_eq!(row(c), started.to_string(), "{release}: {c}");
        }
        for c in ["downloads_failed", "installs_failed"] {
            assert_eq!(row(c), "0", "{release}: {c}");
        }
        assert_eq!(row("bytes"), bytes.to_string(), "{release}");
        assert_eq!(row("full_equivalent_bytes"), full_equivalent.to_string());
        assert_eq!(
            row("delta_savings_bytes"),
            (full_equivalent - bytes).to_string()
        );
    }

    // egress.csv: the same bytes per (tick, release), non-zero ticks only.
    let egress = run.table("egress");
    let mut by_release: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let ticks = egress.u64s("tick");
    let bytes = egress.u64s("bytes");
    for (i, release) in egress.strs("release").iter().enumerate() {
        assert!(bytes[i] > 0, "egress.csv lists a zero row");
        let v = by_release
            .entry(release.to_string())
            .or_insert_with(|| vec![0; n]);
        assert_eq!(v[ticks[i] as usize], 0, "duplicate egress row {i}");
        v[ticks[i] as usize] = bytes[i];
    }
    assert_eq!(by_release["2.0.0"], full);
    assert_eq!(by_release["1.5.0->2.0.0"], delta);
    for (release, v) in &by_release {
        let r = bandwidth.row_where("release", release);
        assert_eq!(
            v.iter().sum::<u64>().to_string(),
            bandwidth.get(r, "bytes"),
            "egress.csv sum of {release}"
        );
    }
}

/// 100 devices: 60 on 2.0.0 take the Delta to 2.1.0 (150,000 bytes), 40 on 1.0.0 the
/// Full 2.1.0 (1,200,000 bytes). No failures.
fn delta_fleet() -> String {
    r#"
seed = 6
tick = "1h"
duration = "1d"

[bandwidth]
price_per_gb = 0.12
compression_ratio = 0.8

[[releases]]
version = "2.1.0"
payloads = { "evt" = 1_200_000 }
[[releases]]
from = "2.0.0"
to = "2.1.0"
payloads = { "evt" = 150_000 }

[behaviour]
poll_interval = "6h"

[fleet]
[[fleet.groups]]
name = "recent"
count = 60
hardware_version = "evt"
versions = { "2.0.0" = 1 }
[[fleet.groups]]
name = "old"
count = 40
hardware_version = "evt"
versions = { "1.0.0" = 1 }

[[events]]
at = 0
action = "activate"
release = "2.1.0"
cohort = "default"
[[events]]
at = 0
action = "activate"
release = "2.0.0->2.1.0"
cohort = "default"
"#
    .to_string()
}

#[track_caller]
fn assert_close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
        "{what}: expected {want}, got {got}"
    );
}

#[test]
fn delta_savings_and_cost_on_a_hand_computed_fleet() {
    let sc = Scenario::new("delta-savings.toml", &delta_fleet());
    let run = run_ok(&sc, "out", &[]);
    assert_eq!(run.summary_u64(&["installs_succeeded", "delta"]), 60);
    assert_eq!(run.summary_u64(&["installs_succeeded", "full"]), 40);

    let bw = |k: &str| run.summary_u64(&["bandwidth", k]);
    // 60 x 150,000 + 40 x 1,200,000
    assert_eq!(bw("bytes_total"), 57_000_000);
    assert_eq!(
        run.summary_u64(&["bandwidth", "bytes_by_rule", "delta"]),
        9_000_000
    );
    assert_eq!(
        run.summary_u64(&["bandwidth", "bytes_by_rule", "full"]),
        48_000_000
    );
    // 100 x 1,200,000
    assert_eq!(bw("full_counterfactual_bytes"), 120_000_000);
    assert_eq!(bw("delta_savings_bytes"), 63_000_000);
    assert_close(
        run.summary_f64(&["bandwidth", "delta_savings_percent"]),
        52.5,
        "delta_savings_percent",
    );
    // 57,000,000 x 0.8 = 45,600,000 bytes on the wire; 0.0456 GB x 0.12 = 0.005472.
    assert_eq!(bw("wire_bytes"), 45_600_000);
    assert_close(
        run.summary_f64(&["bandwidth", "price_per_gb"]),
        0.12,
        "price_per_gb",
    );
    assert_close(
        run.summary_f64(&["bandwidth", "compression_ratio"]),
        0.8,
        "compression_ratio",
    );
    assert_close(run.summary_f64(&["bandwidth", "cost"]), 0.005472, "cost");
    // 120,000,000 x 0.8 = 96,000,000 bytes; 0.096 GB x 0.12 = 0.01152.
    assert_close(
        run.summary_f64(&["bandwidth", "full_counterfactual_cost"]),
        0.01152,
        "full_counterfactual_cost",
    );

    let bandwidth = run.table("bandwidth");
    let d = bandwidth.row_where("release", "2.0.0->2.1.0");
    assert_eq!(bandwidth.get(d, "bytes"), "9000000");
    assert_eq!(bandwidth.get(d, "full_equivalent_bytes"), "72000000");
    assert_eq!(bandwidth.get(d, "delta_savings_bytes"), "63000000");
    let f = bandwidth.row_where("release", "2.1.0");
    assert_eq!(bandwidth.get(f, "bytes"), "48000000");
    assert_eq!(bandwidth.get(f, "full_equivalent_bytes"), "48000000");
    assert_eq!(bandwidth.get(f, "delta_savings_bytes"), "0");
}

/// One device starts a 10-tick download at tick 0 (it polls every tick) in a run of 5.
fn cut_short() -> String {
    r#"
tick = "1s"
duration = "5s"

[[releases]]
version = "2.0.0"
payloads = { "evt" = 1_000_000 }

[behaviour]
poll_interval = 1
link_bytes_per_second = 100_000

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
    .to_string()
}

#[test]
fn download_under_way_at_the_end_is_counted_once_everywhere() {
    let sc = Scenario::new("cut-short.toml", &cut_short());
    let run = run_ok(&sc, "out", &[]);
    let series = run.table("series");
    assert_eq!(series.u64s("bytes_total"), [100_000; 5]);
    assert_eq!(run.summary_u64(&["bandwidth", "bytes_total"]), 500_000);
    // There is no Delta release at all: nothing can be saved by deltas.
    assert_eq!(
        run.summary_u64(&["bandwidth", "delta_savings_bytes"]),
        0,
        "delta savings without a Delta release"
    );
    assert_eq!(
        run.summary_u64(&["bandwidth", "full_counterfactual_bytes"]),
        run.summary_u64(&["bandwidth", "bytes_total"])
    );
    // bandwidth.csv agrees with egress.csv and with the summary.
    let bandwidth = run.table("bandwidth");
    let r = bandwidth.row_where("release", "2.0.0");
    assert_eq!(
        bandwidth.get(r, "bytes"),
        run.table("egress").sum("bytes").to_string(),
        "bandwidth.csv bytes against egress.csv"
    );
    assert_eq!(
        bandwidth.get(r, "installs_succeeded"),
        run.summary_u64(&["installs_succeeded", "full"]).to_string(),
        "bandwidth.csv installs against summary.json"
    );
    assert_eq!(
        bandwidth.get(r, "downloads_completed"),
        series.sum("downloads_completed_full").to_string(),
        "bandwidth.csv completed downloads against series.csv"
    );
}

/// A static fleet (no [behaviour]) whose matrix changes at every snapshot: MPT, staged
/// rollouts grown mid-run, a move between cohorts, a new release, a pull, and an event
/// at the last tick (which the end snapshot includes).
fn static_fleet() -> String {
    r#"
seed = 8
tick = "1h"
duration = "5d"
snapshots = ["0h", "1d", "3d"]

[[cohorts]]
name = "beta"

[[releases]]
version = "1.5.0"
must_pass_through = true
payloads = { "evt" = 900_000, "dvt" = 950_000 }
[[releases]]
version = "2.0.0"
payloads = { "evt" = 1_000_000, "dvt" = 1_100_000 }
[[releases]]
from = "1.5.0"
to = "2.0.0"
payloads = { "evt" = 100_000 }
[[releases]]
version = "3.0.0"
payloads = { "evt" = 1_200_000, "dvt" = 1_300_000 }

[fleet]
[[fleet.groups]]
name = "d"
count = 600
hardware_version = "evt"
versions = { "1.0.0" = 0.5, "1.5.0" = 0.3, "2.0.0" = 0.2 }
[[fleet.groups]]
name = "b"
count = 300
cohort = "beta"
hardware_version = "dvt"
versions = { "1.0.0" = 1 }

[[events]]
at = 0
action = "activate"
release = "1.5.0"
cohort = "default"
[[events]]
at = 0
action = "activate"
release = "2.0.0"
cohort = "beta"
[[events]]
at = "1d"
action = "activate"
release = "2.0.0"
cohort = "default"
rollout_percent = 10
[[events]]
at = "1d"
action = "activate"
release = "1.5.0->2.0.0"
cohort = "default"
rollout_percent = 10
[[events]]
at = "2d"
action = "set_rollout"
release = "2.0.0"
cohort = "default"
rollout_percent = 35
[[events]]
at = "3d"
action = "move"
devices = ["d-000", "d-001", "d-002", "d-003"]
cohort = "beta"
[[events]]
at = "4d"
action = "activate"
release = "3.0.0"
cohort = "beta"
[[events]]
at = "4d"
action = "pull"
release = "1.5.0"
cohort = "default"
[[events]]
at = "5d"
action = "set_rollout"
release = "2.0.0"
cohort = "default"
rollout_percent = 60
"#
    .to_string()
}

#[test]
fn snapshots_are_taken_at_exactly_the_asked_ticks_and_equal_matrix_at() {
    let sc = Scenario::new("snapshots.toml", &static_fleet());
    let run = run_ok(&sc, "out", &["--snapshot-every", "2d"]);
    let matrix = run.table("matrix");

    // ["0h", "1d", "3d"], every 2d (0, 48, 96) and the end (120).
    let mut ticks: Vec<u64> = matrix.u64s("tick");
    ticks.dedup();
    assert_eq!(ticks, [0, 24, 48, 72, 96, 120], "snapshot ticks, in order");
    let times: BTreeMap<u64, &str> = matrix
        .u64s("tick")
        .into_iter()
        .zip(matrix.strs("time"))
        .collect();
    let want_times: BTreeMap<u64, &str> = [
        (0, "0h"),
        (24, "1d"),
        (48, "2d"),
        (72, "3d"),
        (96, "4d"),
        (120, "5d"),
    ]
    .into();
    assert_eq!(times, want_times);
    assert!(matrix.strs("software_type").iter().all(|&s| s == "main"));

    let mut previous = None;
    for t in ticks {
        let snap = run_matrix_at(&matrix, t);
        assert_eq!(
            snap,
            cli_matrix_at(&sc, &t.to_string()),
            "snapshot at {t} against matrix --at {t}"
        );
        assert_eq!(snap.values().sum::<u64>(), 900, "tick {t}");
        assert_ne!(Some(&snap), previous.as_ref(), "the matrix changes at {t}");
        previous = Some(snap);
    }

    // The staged column (R19): 10% of default's 600 at 1d, 35% at 2d.
    let staged_at = |t: &str| -> u64 {
        matrix
            .rows_where("tick", t)
            .into_iter()
            .filter(|&i| matrix.get(i, "staged") == "true")
            .map(|i| matrix.get(i, "devices").parse::<u64>().unwrap())
            .sum()
    };
    assert_eq!(staged_at("0"), 0);
    assert_eq!(staged_at("24"), 60);
    assert_eq!(staged_at("48"), 210);
    // The release column names what each cell installs.
    for i in 0..matrix.rows.len() {
        let (rule, release) = (matrix.get(i, "rule"), matrix.get(i, "release"));
        assert_eq!(
            rule == "none",
            release.is_empty(),
            "row {i}: {rule} {release}"
        );
        if rule == "delta" {
            assert_eq!(release, "1.5.0->2.0.0", "row {i}");
        } else if !release.is_empty() {
            assert_eq!(release, matrix.get(i, "next_version"), "row {i}");
        }
    }
}

#[test]
fn snapshot_time_column_keeps_seconds() {
    let text = [
        "tick = \"10s\"\nduration = 12\nsnapshots = [1, 6, 9]\n".to_string(),
        full("2.0.0", "\"evt\" = 20"),
        dev("a", "evt", "1.0.0"),
    ]
    .concat();
    let sc = Scenario::new("seconds.toml", &text);
    let run = run_ok(&sc, "out", &[]);
    let matrix = run.table("matrix");
    let times: Vec<(u64, &str)> = matrix
        .u64s("tick")
        .into_iter()
        .zip(matrix.strs("time"))
        .collect();
    assert_eq!(times, [(1, "10s"), (6, "1m"), (9, "1m30s"), (12, "2m")]);
}

fn valid_run_scenario() -> String {
    [
        "duration = \"1d\"\n".to_string(),
        full("2.0.0", "\"evt\" = 20"),
        "\n[behaviour]\npoll_interval = \"6h\"\n".to_string(),
        activate("0", "2.0.0", "default"),
        dev("a", "evt", "1.0.0"),
        dev("b", "evt", "1.0.0"),
    ]
    .concat()
}

fn invalid_run_scenario() -> String {
    valid_run_scenario() + &activate("\"12h\"", "9.9.9", "default")
}

/// Entries of `dir`, sorted.
fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Every file a run writes with `--format both --no-charts` (see [`run_ok`]).
fn output_files() -> Vec<String> {
    let mut v: Vec<String> = TABLES
        .iter()
        .flat_map(|t| [format!("{t}.csv"), format!("{t}.parquet")])
        .chain(["summary.json".to_string()])
        .collect();
    v.sort();
    v
}

#[test]
fn input_error_leaves_no_output_directory() {
    let sc = Scenario::new("bad.toml", &invalid_run_scenario());
    let out_dir = sc.dir.path().join("out");
    let out = otasim(["run", sc.p(), "--out", out_dir.to_str().unwrap()]);
    assert_input_error_is(
        &out,
        &sc,
        "error: DIR/bad.toml:29: event 1 (activate): unknown release \"9.9.9\"\n",
    );
    assert!(!out_dir.exists(), "an input error must not create --out");
    // Nor any staging directory or temporary file next to it.
    assert_eq!(entries(sc.dir.path()), ["bad.toml"]);
}

/// A run replaces its output directory whole, so a directory holding files otasim did
/// not write is refused (issue 14) and kept as it is.
#[test]
fn run_into_an_existing_directory_with_unrelated_files_is_refused() {
    let sc = Scenario::new("ok.toml", &valid_run_scenario());
    let out_dir = sc.dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    std::fs::write(out_dir.join("notes.txt"), "keep me\n").unwrap();
    let out = otasim(["run", sc.p(), "--out", out_dir.to_str().unwrap()]);
    assert_input_error_is(&out, &sc, "error: cannot write DIR/out: it holds notes.txt, which otasim did not write; a run replaces the whole directory, so choose another --out\n");
    assert_eq!(
        std::fs::read_to_string(out_dir.join("notes.txt")).unwrap(),
        "keep me\n"
    );
    assert_eq!(entries(&out_dir), ["notes.txt"]);
    assert_eq!(
        entries(sc.dir.path()),
        ["ok.toml", "out"],
        "no leftovers next to --out"
    );
}

#[test]
fn failed_run_leaves_previous_outputs_untouched() {
    let sc = Scenario::new("rerun.toml", &valid_run_scenario());
    let out_dir = sc.dir.path().join("out");
    run_ok(&sc, "out", &[]);
    let before: Vec<(String, Vec<u8>)> = entries(&out_dir)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(out_dir.join(&f)).unwrap();
            (f, bytes)
        })
        .collect();
    assert_eq!(
        before.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>(),
        output_files()
    );
    std::fs::write(&sc.path, invalid_run_scenario()).unwrap();
    let out = otasim([
        "run",
        sc.p(),
        "--out",
        out_dir.to_str().unwrap(),
        "--no-charts",
    ]);
    assert!(!out.status.success(), "the second run must fail");
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error:"));
    let after: Vec<(String, Vec<u8>)> = entries(&out_dir)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(out_dir.join(&f)).unwrap();
            (f, bytes)
        })
        .collect();
    assert!(
        before == after,
        "a failed run changed the outputs of the previous one"
    );
    assert_eq!(entries(sc.dir.path()), ["out", "rerun.toml"]);
}

#[test]
fn out_path_that_is_a_file_is_an_error_and_the_file_survives() {
    let sc = Scenario::new("ok.toml", &valid_run_scenario());
    let target = sc.dir.path().join("taken");
    std::fs::write(&target, "not a directory\n").unwrap();
    let out = otasim(["run", sc.p(), "--out", target.to_str().unwrap()]);
    assert_input_error_is(
        &out,
        &sc,
        "error: cannot write DIR/taken: it exists and is not a directory\n",
    );
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "not a directory\n"
    );
    assert_eq!(entries(sc.dir.path()), ["ok.toml", "taken"]);
}

#[test]
fn format_csv_writes_only_csv_tables() {
    let sc = Scenario::new("csv-only.toml", &valid_run_scenario());
    let run = run_ok(&sc, "out", &["--format", "csv"]);
    let mut want: Vec<String> = TABLES
        .iter()
        .map(|t| format!("{t}.csv"))
        .chain(["summary.json".to_string()])
        .collect();
    want.sort();
    assert_eq!(entries(&run.dir), want);
}
