//! What a planner reads of a run: time labels as written, a heat map for every requested
//! snapshot, and one colour per version across the charts.

use std::collections::BTreeMap;

use super::runs::*;
use super::*;

/// 300 devices on 1.0.0 that take 2.0.0 (a Full) from tick 0 and 2.1.0 from day 2,
/// polling every 12 hours, over `days` days with the given `snapshots`.
fn small_rollout(days: u32, snapshots: &str) -> String {
    format!(
        r#"
seed = 3
tick = "1h"
duration = "{days}d"
snapshots = [{snapshots}]

[[releases]]
version = "2.0.0"
payloads = {{ "evt" = 1_000 }}
[[releases]]
version = "2.1.0"
payloads = {{ "evt" = 1_000 }}

[behaviour]
poll_interval = "12h"
poll_jitter = "1h"

[fleet]
[[fleet.groups]]
name = "e"
count = 300
hardware_version = "evt"
versions = {{ "1.0.0" = 1 }}

[[events]]
at = 0
action = "activate"
release = "2.0.0"
cohort = "default"
[[events]]
at = "2d"
action = "activate"
release = "2.1.0"
cohort = "default"
"#
    )
}

/// Every `time` label of matrix.csv, by tick.
fn time_labels(run: &RunOut) -> BTreeMap<u64, String> {
    let m = run.table("matrix");
    m.u64s("tick")
        .into_iter()
        .zip(m.strs("time").into_iter().map(str::to_string))
        .collect()
}

#[test]
fn snapshot_labels_read_as_written_in_days_hours_minutes() {
    let sc = Scenario::new("labels.toml", &small_rollout(9, r#""7d", "1d12h", "36""#));
    let run = run_ok(&sc, "out", &["--snapshot-every", "1d"]);
    let labels = time_labels(&run);
    let expected: BTreeMap<u64, String> = [
        (0, "0h"),
        (24, "1d"),
        (36, "1d12h"),
        (48, "2d"),
        (72, "3d"),
        (96, "4d"),
        (120, "5d"),
        (144, "6d"),
        (168, "7d"),
        (192, "8d"),
        (216, "9d"),
    ]
    .into_iter()
    .map(|(t, l)| (t, l.to_string()))
    .collect();
    assert_eq!(labels, expected);
}

/// The SVG legend of a chart: each label with the colour of its swatch.
fn legend(svg: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut swatch = None;
    let mut lines = svg.lines();
    while let Some(line) = lines.next() {
        let colour_of = |attr: &str| {
            line.split(&format!("{attr}=\"#"))
                .nth(1)
                .map(|rest| rest[..6].to_string())
        };
        if line.starts_with("<rect") && line.contains("width=\"18\"") {
            swatch = colour_of("fill");
        } else if line.starts_with("<polyline") && line.contains("stroke-width=\"4\"") {
            swatch = colour_of("stroke");
        } else if line.starts_with("<text") {
            let label = lines.next().unwrap_or("").trim().to_string();
            if let Some(c) = swatch.take() {
                out.insert(label, c);
            }
        }
    }
    out
}

#[test]
fn a_version_has_one_colour_in_every_chart() {
    let sc = Scenario::new("colours.toml", &small_rollout(4, ""));
    let dir = sc.dir.path().join("out");
    stdout_ok(&otasim([
        "run",
        sc.p(),
        "--out",
        dir.to_str().unwrap(),
        "-q",
    ]));
    let read =
        |name: &str| std::fs::read_to_string(dir.join("charts").join(name)).expect("chart written");
    let versions = legend(&read("versions.svg"));
    let adoption = legend(&read("adoption.svg"));
    for v in ["2.0.0", "2.1.0"] {
        assert!(
            versions.contains_key(v),
            "versions chart legend: {versions:?}"
        );
        assert_eq!(
            versions.get(v),
            adoption.get(v),
            "{v}: versions {versions:?}, adoption {adoption:?}"
        );
    }
    assert_ne!(versions["2.0.0"], versions["2.1.0"]);
}

#[test]
fn every_requested_snapshot_gets_a_heat_map_and_thinning_is_said() {
    let sc = Scenario::new("heat.toml", &small_rollout(30, r#""3d", "7d""#));
    let dir = sc.dir.path().join("out");
    let out = otasim([
        "run",
        sc.p(),
        "--out",
        dir.to_str().unwrap(),
        "--snapshot-every",
        "1d",
        "--format",
        "csv",
    ]);
    stdout_ok(&out);
    let mut maps: Vec<u64> = std::fs::read_dir(dir.join("charts"))
        .expect("charts")
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().to_string();
            name.strip_prefix("matrix-tick-")?
                .strip_suffix(".svg")?
                .parse()
                .ok()
        })
        .collect();
    maps.sort_unstable();
    assert_eq!(maps.len(), 12, "{maps:?}");
    for requested in [72, 168, 720] {
        assert!(maps.contains(&requested), "tick {requested}: {maps:?}");
    }
    // 31 daily snapshots, 3 of them requested (3d, 7d, the end): 28 periodic, 9 drawn.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "note: 19 of 28 periodic snapshots have no heat map (at most 12 maps, requested snapshots first); every snapshot is in the matrix table\n"
        ),
        "{stderr}"
    );
    let report = std::fs::read_to_string(dir.join("report.html")).expect("report");
    assert!(report.contains("19 of 28 periodic snapshots have no heat map"));
}

#[test]
fn r20_explain_says_what_share_a_staged_rollout_reaches_and_which_activation_sized_it() {
    let devices: String = (0..10)
        .map(|i| dev(&format!("d{i}"), "evt", "2.0.0"))
        .collect();
    let text = format!(
        "{}{}{}{}{}{}",
        full("2.0.0", r#""evt" = 100"#),
        delta("2.0.0", "2.1.0", r#""evt" = 10"#),
        full("3.0.0", r#""evt" = 100"#),
        devices,
        activate_staged("0", "2.0.0->2.1.0", "default", "10"),
        activate_staged("0", "3.0.0", "default", "50"),
    );
    let sc = Scenario::new("shared-set.toml", &text);
    let out = stdout_ok(&otasim(["explain", sc.p(), "--device", "d0", "--at", "0"]));
    assert!(
        out.contains("  active there: 2.0.0->2.1.0 (staged rollout 10 %), 3.0.0 (staged rollout 50 %)\n  staged rollouts there all reach the cohort's one staged set (R20): 5 of 10 devices (50.0 %) now, last sized by the 50 % rollout of 3.0.0 (R19)\n"),
        "{out}"
    );
}

#[test]
fn synthetic_ids_follow_the_documented_pattern_and_explain_accepts_them_unpadded() {
    let sc = Scenario::new("ids.toml", &small_rollout(1, ""));
    let resolve = sc.resolve("0");
    let ids: Vec<String> = resolve_rows(&resolve)
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    let expected: Vec<String> = (0..300).map(|j| format!("e-{j:03}")).collect();
    assert_eq!(ids, expected);
    for asked in ["e-007", "e-7", "e-07"] {
        let out = stdout_ok(&otasim(["explain", sc.p(), "--device", asked, "--at", "0"]));
        assert!(out.contains("e-007"), "{asked}: {out}");
    }
    let out = otasim(["explain", sc.p(), "--device", "e-300", "--at", "0"]);
    assert!(!out.status.success());
}
