//! Output rendering: formats, alignment, the matrix grid.

use super::*;
use otasim::catalog::{Actor, Percent, Release, ReleaseKind, Rollout};
use otasim::fleet::{DeviceReport, Fleet, NewDevice};
use otasim::ids::{CohortId, SoftwareTypeId};
use otasim::matrix::version_matrix;

fn rows_as(format: Format, columns: &[&'static str], rows: Vec<Vec<Cell>>) -> String {
    let mut out = Vec::new();
    let mut w = RowWriter::new(format, columns, &mut out).unwrap();
    for r in rows {
        w.row(r).unwrap();
    }
    w.finish().unwrap();
    String::from_utf8(out).unwrap()
}

fn sample() -> Vec<Vec<Cell<'static>>> {
    vec![
        vec![Cell::text("SN-1"), Cell::text("full"), Cell::Number(1200)],
        vec![Cell::text("SN-22"), Cell::text("none"), Cell::Empty],
    ]
}

const COLS: [&str; 3] = ["device_id", "rule", "payload_bytes"];

#[test]
fn csv_has_header_and_empty_fields() {
    assert_eq!(
        rows_as(Format::Csv, &COLS, sample()),
        "device_id,rule,payload_bytes\nSN-1,full,1200\nSN-22,none,\n"
    );
    assert_eq!(
        rows_as(Format::Csv, &COLS, vec![]),
        "device_id,rule,payload_bytes\n"
    );
}

#[test]
fn json_numbers_and_nulls() {
    let text = rows_as(Format::Json, &COLS, sample());
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        value,
        serde_json::json!([
            {"device_id": "SN-1", "rule": "full", "payload_bytes": 1200},
            {"device_id": "SN-22", "rule": "none", "payload_bytes": null},
        ])
    );
    assert!(
        text.starts_with("[\n  {\"device_id\":\"SN-1\",\"rule\""),
        "column order: {text}"
    );
    assert_eq!(rows_as(Format::Json, &COLS, vec![]), "[]\n");
}

#[test]
fn table_aligns_text_left_and_numbers_right() {
    assert_eq!(
        rows_as(Format::Table, &COLS, sample()),
        "\
device_id  rule  payload_bytes
SN-1       full           1200
SN-22      none              -
"
    );
}

#[test]
fn csv_quotes_what_needs_quoting() {
    let rows = vec![vec![Cell::text("a,b"), Cell::text("x"), Cell::Number(1)]];
    assert_eq!(
        rows_as(Format::Csv, &COLS, rows),
        "device_id,rule,payload_bytes\n\"a,b\",x,1\n"
    );
}

#[test]
fn durations_for_people() {
    assert_eq!(tick_label(24, 3600), "tick 24 (1d)");
}

/// A tiny Figure 4: Full 2.0.0, Delta 2.0.0->2.1.0 and a staged Delta 2.1.0->2.2.0.
fn tiny() -> (Catalog, Fleet) {
    let mut catalog = Catalog::new();
    let main = SoftwareTypeId(0);
    let evt = catalog.intern_hardware("evt").unwrap();
    let mut v = |s: &str| catalog.intern_version(main, s).unwrap();
    let (v09, v20, v21, v22) = (v("0.9.0"), v("2.0.0"), v("2.1.0"), v("2.2.0"));
    let mut add = |kind| {
        catalog
            .add_release(Release {
                software_type: main,
                kind,
                payloads: vec![(evt, 100)],
                deleted: false,
            })
            .unwrap()
    };
    let full = add(ReleaseKind::Full {
        version: v20,
        must_pass_through: false,
    });
    let d1 = add(ReleaseKind::Delta { from: v20, to: v21 });
    let d2 = add(ReleaseKind::Delta { from: v21, to: v22 });
    let default = CohortId(0);
    for (r, rollout) in [
        (full, Rollout::Normal),
        (d1, Rollout::Normal),
        (d2, Rollout::Staged(Percent::whole(10))),
    ] {
        catalog
            .activate(r, default, rollout, Actor::Anonymous)
            .unwrap();
    }
    let mut fleet = Fleet::new();
    let mut push = |id: String, version, staged| {
        fleet
            .push(NewDevice {
                id,
                report: DeviceReport {
                    software_type: main,
                    version,
                    hardware: evt,
                    project_key: None,
                    cohort: default,
                    staged,
                    release_override: None,
                },
                last_seen: None,
            })
            .unwrap();
    };
    for i in 0..21 {
        push(format!("a{i}"), v09, false);
    }
    for i in 0..132 {
        push(format!("b{i}"), v20, false);
    }
    for i in 0..738 {
        push(format!("c{i}"), v21, i < 80);
    }
    (catalog, fleet)
}

#[test]
fn matrix_grid_of_figure_4() {
    let (catalog, fleet) = tiny();
    let rows = version_matrix(&catalog, &fleet, None);
    let mut out = Vec::new();
    write_matrix_grid(
        &mut out,
        &catalog,
        &rows,
        &[CohortId(0)],
        &HashMap::new(),
        "version matrix at tick 0 (0s)",
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    let grid: String = text.lines().take(8).map(|l| format!("{l}\n")).collect();
    assert_eq!(
        grid,
        "\
version matrix at tick 0 (0s)

cohort \"default\": 891 devices
  current \\ next  2.0.0  2.1.0  2.2.0  final
  0.9.0            21 F    ·      ·    2.1.0
  2.0.0             ·    132 Δ    ·    2.1.0
  2.1.0             ·    658     80 Δ  2.1.0 (658), 2.2.0 (80)
  final: 811 on 2.1.0, 80 on 2.2.0
"
    );
    assert!(text.contains("Δ delta (R13)"), "{text}");
}

#[test]
fn matrix_grid_names_cohorts_without_devices() {
    let (mut catalog, fleet) = tiny();
    let beta = catalog
        .define_cohort(otasim::catalog::Cohort {
            name: "beta".to_string(),
            disable_version_checking: false,
            protected: true,
            approval_team: None,
        })
        .unwrap();
    let rows = version_matrix(&catalog, &fleet, Some(beta));
    let mut out = Vec::new();
    write_matrix_grid(&mut out, &catalog, &rows, &[beta], &HashMap::new(), "t").unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.starts_with("t\n\nno devices in cohort \"beta\"\n"),
        "{text}"
    );
}
