//! `otasim sweep`: parameter names, the Cartesian grid, `--part` slices and errors.

use super::runs::*;
use super::*;

/// A release whose installs fail with some probability, on a gated 1 → 10 → 100 % ramp.
const GATED: &str = r#"
seed = 5
tick = "1h"
duration = "2d"

[[releases]]
version = "1.0.0"
payloads = { "evt" = 1000 }

[[releases]]
version = "2.0.0"
payloads = { "evt" = 2000 }
install_failure_probability = 0.2

[behaviour]
poll_interval = "4h"
poll_jitter = "2h"

[fleet]
[[fleet.groups]]
name = "all"
count = 3000
hardware_version = "evt"
versions = { "1.0.0" = 1 }

[[events]]
at = 0
action = "activate"
release = "2.0.0"
cohort = "default"
ramp = [{ percent = 1, after = 0 }, { percent = 10, after = "8h" }, { percent = 100, after = "16h" }]
gate = { max_failure_percent = 10, min_attempts = 20, window = "12h", action = "abort" }
"#;

fn sweep(sc: &Scenario, out: &str, extra: &[&str]) -> std::process::Output {
    let dir = sc.dir.path().join(out);
    let mut args = vec![
        "sweep".to_string(),
        sc.p().to_string(),
        "--out".to_string(),
        dir.to_str().unwrap().to_string(),
        "-q".to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    otasim(&args)
}

const SETS: [&str; 4] = [
    "--set",
    "events[0].gate.max_failure_percent=5,30,100",
    "--set",
    "releases[2.0.0].install_failure_probability=0.2,0",
];

#[test]
fn sweep_runs_the_cartesian_grid_one_row_per_variant() {
    let sc = Scenario::new("sweep.toml", GATED);
    stdout_ok(&sweep(&sc, "all", &SETS));
    let t = Table::read(&sc.dir.path().join("all/sweep.csv"));
    assert_eq!(
        t.header,
        [
            "variant",
            "events[0].gate.max_failure_percent",
            "releases[2.0.0].install_failure_probability",
            "ticks_to_95_percent",
            "hours_to_95_percent",
            "blast_radius_devices",
            "blast_radius_failed",
            "gates_fired",
            "bytes_total",
            "peak_bytes_per_tick",
            "cost",
            "downloads_deferred",
            "at_final_version_percent"
        ]
    );
    assert_eq!(t.u64s("variant"), (0..6).collect::<Vec<u64>>());
    assert_eq!(
        t.strs("events[0].gate.max_failure_percent"),
        ["5.0", "5.0", "30.0", "30.0", "100.0", "100.0"]
    );
    assert_eq!(
        t.strs("releases[2.0.0].install_failure_probability"),
        ["0.2", "0.0", "0.2", "0.0", "0.2", "0.0"]
    );
    // 20 % failures trip a 5 % gate and not a 30 % or 100 % one; no failures trip none.
    assert_eq!(t.u64s("gates_fired"), [1, 0, 0, 0, 0, 0]);
    let failed = t.u64s("blast_radius_failed");
    assert_eq!(failed[1], 0);
    assert!(failed[0] < failed[2], "{failed:?}");
    assert!(sc.dir.path().join("all/sweep.parquet").is_file());
    let svg = std::fs::read_to_string(sc.dir.path().join("all/sweep-pareto.svg")).unwrap();
    // One dot per variant, and one in the legend.
    assert_eq!(svg.matches("<circle").count(), 6 + 1);
    let png = std::fs::read(sc.dir.path().join("all/sweep-pareto.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    // A second sweep into the same directory replaces the first, charts included.
    stdout_ok(&sweep(&sc, "all", &SETS));
}

#[test]
fn sweep_part_slices_together_equal_the_whole_sweep() {
    let sc = Scenario::new("sweep.toml", GATED);
    stdout_ok(&sweep(&sc, "all", &SETS));
    let whole = std::fs::read_to_string(sc.dir.path().join("all/sweep.csv")).unwrap();
    let mut lines: Vec<String> = Vec::new();
    for i in 1..=4 {
        let part = format!("{i}/4");
        let mut args = SETS.to_vec();
        args.extend(["--part", &part, "--threads", "1"]);
        stdout_ok(&sweep(&sc, "parts", &args));
        let text =
            std::fs::read_to_string(sc.dir.path().join(format!("parts/sweep-part-{i}-of-4.csv")))
                .unwrap();
        let mut it = text.lines();
        let header = it.next().unwrap().to_string();
        if lines.is_empty() {
            lines.push(header);
        } else {
            assert_eq!(lines[0], header);
        }
        lines.extend(it.map(String::from));
        assert!(sc
            .dir
            .path()
            .join(format!("parts/sweep-part-{i}-of-4.parquet"))
            .is_file());
    }
    assert_eq!(lines.join("\n"), whole.trim_end());
    // A part cannot know the frontier of the whole sweep: no chart.
    assert!(!sc.dir.path().join("parts/sweep-pareto.svg").exists());
    assert!(!sc.dir.path().join("parts/sweep-pareto.png").exists());
}

#[test]
fn sweep_unknown_parameter_names_are_errors() {
    let sc = Scenario::new("sweep.toml", GATED);
    for (set, message) in [
        (
            "events[0].gate.max_failure_pct=1,2",
            "error: --set events[0].gate.max_failure_pct: events[0].gate has no `max_failure_pct` (it has: max_failure_percent, min_attempts, window, action)\n",
        ),
        (
            "releases[3.0.0].install_failure_probability=0.1",
            "error: --set releases[3.0.0].install_failure_probability: releases has no element named \"3.0.0\"\n",
        ),
        (
            "events[7].gate.max_failure_percent=1",
            "error: --set events[7].gate.max_failure_percent: events has 1 elements, so no [7]\n",
        ),
    ] {
        let out = sweep(&sc, "bad", &["--set", set]);
        assert_eq!(out.status.code(), Some(1), "{set}");
        assert!(out.stdout.is_empty());
        assert_eq!(String::from_utf8_lossy(&out.stderr), message);
        assert!(!sc.dir.path().join("bad").exists());
    }
    let out = sweep(
        &sc,
        "bad",
        &[
            "--set",
            "events[0].gate.max_failure_percent=1",
            "--part",
            "3/2",
        ],
    );
    assert_input_error_is(
        &out,
        &sc,
        "error: --part 3/2: expected I/N with 1 <= I <= N, such as 2/8\n",
    );
}

#[test]
fn sweep_threads_are_bounded_like_run() {
    let sc = Scenario::new("sweep.toml", GATED);
    let out = sweep(
        &sc,
        "bad",
        &[
            "--set",
            "events[0].gate.max_failure_percent=1",
            "--threads",
            "100000",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: --threads 100000: too many worker threads (limit 256)\n"
    );
    assert!(!sc.dir.path().join("bad").exists());
}

#[test]
fn sweep_value_that_breaks_the_scenario_names_the_variant_and_line() {
    let sc = Scenario::new("sweep.toml", GATED);
    let out = sweep(
        &sc,
        "bad",
        &["--set", "events[0].gate.max_failure_percent=5,-1"],
    );
    let line = line_of(GATED, "gate =");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: variant 1 (events[0].gate.max_failure_percent=-1): {}:{line}: event 0 (activate): gate: max_failure_percent: -1 is not a percentage from 0 to 100\n",
            sc.p()
        )
    );
    assert!(!sc.dir.path().join("bad").exists());
}

#[test]
fn sweep_rows_identical_at_1_and_2_threads() {
    let sc = Scenario::new("sweep.toml", GATED);
    let mut one = SETS.to_vec();
    one.extend(["--threads", "1"]);
    let mut two = SETS.to_vec();
    two.extend(["--threads", "2"]);
    stdout_ok(&sweep(&sc, "t1", &one));
    stdout_ok(&sweep(&sc, "t2", &two));
    for f in ["sweep.csv", "sweep.parquet"] {
        assert!(
            std::fs::read(sc.dir.path().join("t1").join(f)).unwrap()
                == std::fs::read(sc.dir.path().join("t2").join(f)).unwrap(),
            "{f}"
        );
    }
}
