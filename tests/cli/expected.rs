//! R34: `otasim diff A --expected FILE --at T`, decisions recorded by another system.

use super::diff::{diff, status_out, DIFF_HEADER};
use super::variants::variant_fixture;
use super::*;

/// What the exact resolver answers for [`variant_fixture`] at tick 0, as a recorded table.
const MATCHING: &str = "device_id,rule,target_version
on-delta,delta,2.0.0
no-delta-payload,must_pass_through,1.5.0
above-mpt,full,2.0.0
below,must_pass_through,1.5.0
override-no-payload,none,
override-ok,override,1.2.0
override-current,none,
";

fn with_table(name: &str, table: &str) -> (Scenario, PathBuf) {
    let sc = Scenario::new("a.toml", &variant_fixture(""));
    let path = sc.dir.path().join(name);
    std::fs::write(&path, table).unwrap();
    (sc, path)
}

#[test]
fn r34_a_table_that_matches_exits_0() {
    let (sc, table) = with_table("expected.csv", MATCHING);
    let out = diff(&[sc.p(), "--expected", table.to_str().unwrap(), "--at", "0"]);
    check_csv(&status_out(&out, 0), DIFF_HEADER);
    // Column order is free.
    let reordered: String = MATCHING
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!("{},{},{}\n", f[2], f[0], f[1])
        })
        .collect();
    let (sc, table) = with_table("expected.csv", &reordered);
    let out = diff(&[sc.p(), "--expected", table.to_str().unwrap(), "--at", "0"]);
    check_csv(&status_out(&out, 0), DIFF_HEADER);
}

#[test]
fn r34_differences_in_rule_target_and_presence() {
    let table = MATCHING
        .replace("above-mpt,full,2.0.0", "above-mpt,full,2.1.0")
        .replace("below,must_pass_through,1.5.0", "below,full,1.5.0")
        .replace("override-current,none,\n", "ghost,none,\n");
    let (sc, path) = with_table("expected.csv", &table);
    let out = diff(&[sc.p(), "--expected", path.to_str().unwrap(), "--at", "0"]);
    check_csv(
        &status_out(&out, 1),
        &format!(
            "{DIFF_HEADER}
             ,,,absent,,none,,1,ghost
             default,0.9.0,evt,must_pass_through,1.5.0,full,1.5.0,1,below
             default,1.2.0,dvt,none,,absent,,1,override-current
             default,1.5.0,evt,full,2.0.0,full,2.1.0,1,above-mpt"
        ),
    );
}

/// Writes the CSV text `table` (header and rows) as a Parquet file, empty cells null.
pub(super) fn write_parquet(path: &Path, table: &str) {
    use polars::prelude::{Column, DataFrame, ParquetWriter};
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let columns = header
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let values: Vec<Option<&str>> = rows
                .iter()
                .map(|r| Some(r[i]).filter(|s| !s.is_empty()))
                .collect();
            Column::new((*name).into(), values)
        })
        .collect();
    let mut df = DataFrame::new(rows.len(), columns).unwrap();
    ParquetWriter::new(std::fs::File::create(path).unwrap())
        .finish(&mut df)
        .unwrap();
}

#[test]
fn r34_a_parquet_table_is_read_too() {
    let (sc, _) = with_table("unused.csv", "");
    let path = sc.dir.path().join("expected.parquet");
    write_parquet(&path, MATCHING);
    let out = diff(&[sc.p(), "--expected", path.to_str().unwrap(), "--at", "0"]);
    check_csv(&status_out(&out, 0), DIFF_HEADER);

    write_parquet(
        &path,
        &MATCHING.replace("above-mpt,full,2.0.0", "above-mpt,newest,2.0.0"),
    );
    let out = diff(&[sc.p(), "--expected", path.to_str().unwrap(), "--at", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: {}: row 3: unknown rule \"newest\" (expected none, override, delta, must_pass_through, full)\n",
            path.display()
        )
    );
}

#[test]
fn r34_bad_tables_exit_2_naming_the_file_and_row() {
    let cases = [
        (
            MATCHING.replace("device_id,rule,target_version", "device_id,rule,target_version,note"),
            ":1: unknown column \"note\" (expected device_id, rule, target_version)",
        ),
        (
            MATCHING.replace("device_id,rule,target_version", "device_id,rule,target"),
            ":1: unknown column \"target\" (expected device_id, rule, target_version)",
        ),
        (
            "device_id,rule\non-delta,delta\n".to_string(),
            ":1: missing column \"target_version\" (expected device_id, rule, target_version)",
        ),
        (
            MATCHING.replace("below,must_pass_through", "below,mpt"),
            ":5: row 4: unknown rule \"mpt\" (expected none, override, delta, must_pass_through, full)",
        ),
        (
            MATCHING.replace("above-mpt,full,2.0.0", "above-mpt,full,2.0"),
            ":4: row 3: target_version: version \"2.0\" is not a valid SemVer 2.0 version (unexpected end of input while parsing minor version number)",
        ),
        (
            MATCHING.replace("override-current,none,", "on-delta,none,"),
            ":8: row 7: device \"on-delta\" is repeated (first at row 1)",
        ),
        (
            MATCHING.replace("override-current,none,", "override-current,none,1.2.0"),
            ":8: row 7: rule none with target_version \"1.2.0\" (it must be empty for none)",
        ),
        (
            MATCHING.replace("above-mpt,full,2.0.0", "above-mpt,full,"),
            ":4: row 3: rule full needs a target_version",
        ),
        (
            MATCHING.replace("above-mpt,full,2.0.0", ",full,2.0.0"),
            ":4: row 3: empty device_id",
        ),
    ];
    for (table, message) in cases {
        let (sc, path) = with_table("expected.csv", &table);
        let out = diff(&[sc.p(), "--expected", path.to_str().unwrap(), "--at", "0"]);
        assert_eq!(out.status.code(), Some(2), "{message}");
        assert!(out.stdout.is_empty(), "{message}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!("error: {}{message}\n", path.display())
        );
        // The same table as Parquet: the same message, at the row without a line.
        if !table.starts_with("device_id,rule,target_version\n") {
            continue; // a header error: the header cases above have no Parquet twin
        }
        let parquet = sc.dir.path().join("expected.parquet");
        write_parquet(&parquet, &table);
        let out = diff(&[sc.p(), "--expected", parquet.to_str().unwrap(), "--at", "0"]);
        assert_eq!(out.status.code(), Some(2), "{message}");
        let without_line = message
            .split_once(": ")
            .expect("a line, then the message")
            .1;
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!("error: {}: {without_line}\n", parquet.display())
        );
    }
}

#[test]
fn r34_devices_out_has_both_answers_and_no_release_for_the_table() {
    let table = MATCHING.replace("above-mpt,full,2.0.0", "above-mpt,none,");
    let (sc, path) = with_table("expected.csv", &table);
    let devices = sc.dir.path().join("devices.csv");
    let out = otasim([
        "diff",
        sc.p(),
        "--expected",
        path.to_str().unwrap(),
        "--at",
        "0",
        "--format",
        "json",
        "--devices-out",
        devices.to_str().unwrap(),
    ]);
    assert_eq!(
        status_out(&out, 1),
        "[\n  {\"cohort\":\"default\",\"software_version\":\"1.5.0\",\"hardware_version\":\"evt\",\"rule_a\":\"full\",\"target_a\":\"2.0.0\",\"rule_b\":\"none\",\"target_b\":null,\"devices\":1,\"example_device\":\"above-mpt\"}\n]\n"
    );
    check_csv(
        &std::fs::read_to_string(&devices).unwrap(),
        &format!(
            "{}\nabove-mpt,default,1.5.0,evt,full,2.0.0,2.0.0,none,,",
            super::diff::DEVICES_HEADER
        ),
    );
}
