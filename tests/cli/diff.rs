//! R33: `otasim diff A B --at T` and `otasim diff A --variant KEY=VALUE --at T`.

use super::variants::variant_fixture;
use super::*;

/// The header `otasim diff --format csv` prints (R33).
pub const DIFF_HEADER: &str = "cohort,software_version,hardware_version,rule_a,target_a,rule_b,target_b,devices,example_device";

/// The header of `--devices-out`.
pub const DEVICES_HEADER: &str = "device_id,cohort,software_version,hardware_version,rule_a,release_a,target_a,rule_b,release_b,target_b";

/// Runs `otasim diff ARGS --format csv`.
pub fn diff(args: &[&str]) -> Output {
    let mut all = vec!["diff"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "csv"]);
    otasim(all)
}

/// Asserts exit status `code`, no panic, empty stderr, and returns stdout.
#[track_caller]
pub fn status_out(out: &Output, code: i32) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(stderr.is_empty(), "{stderr}");
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn r33_diff_of_a_scenario_with_itself_exits_0_with_no_rows() {
    let sc = Scenario::new("a.toml", &variant_fixture(""));
    let out = diff(&[sc.p(), sc.p(), "--at", "0"]);
    check_csv(&status_out(&out, 0), DIFF_HEADER);
    // The default variant spelled out is the same resolver.
    let out = diff(&[
        sc.p(),
        "--at",
        "0",
        "--variant",
        "precedence=delta,must_pass_through,full",
        "--variant",
        "override_fallback=false",
    ]);
    check_csv(&status_out(&out, 0), DIFF_HEADER);
    let out = otasim(["diff", sc.p(), sc.p(), "--at", "0", "--format", "table"]);
    assert_eq!(status_out(&out, 0), "no device differs (7 compared)\n");
}

#[test]
fn r33_a_one_device_change_exits_1_and_names_that_device() {
    let a = Scenario::new("a.toml", &variant_fixture(""));
    let text = a.text.replace(
        "id = \"above-mpt\"\nhardware_version = \"evt\"\nsoftware_version = \"1.5.0\"",
        "id = \"above-mpt\"\nhardware_version = \"evt\"\nsoftware_version = \"2.0.0\"",
    );
    assert_ne!(text, a.text, "test bug: the device was not changed");
    let b = Scenario::new("b.toml", &text);
    let out = diff(&[a.p(), b.p(), "--at", "0"]);
    check_csv(
        &status_out(&out, 1),
        &format!("{DIFF_HEADER}\ndefault,1.5.0,evt,full,2.0.0,none,,1,above-mpt"),
    );
    let out = otasim(["diff", a.p(), b.p(), "--at", "0", "--format", "table"]);
    assert_eq!(
        status_out(&out, 1),
        "1 of 7 devices differ, in 1 group (largest first)\n\
         cohort   software_version  hardware_version  rule_a  target_a  rule_b  target_b  devices  example_device\n\
         default  1.5.0             evt               full    2.0.0     none    -               1  above-mpt\n"
    );
}

/// The device ids of a `--devices-out` CSV (header checked).
fn device_ids(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(DEVICES_HEADER));
    lines
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect()
}

#[test]
fn r33_must_pass_through_before_delta_moves_only_devices_on_a_delta_from_with_an_mpt_above() {
    let sc = Scenario::new("a.toml", &variant_fixture(""));
    let devices = sc.dir.path().join("devices.csv");
    let out = diff(&[
        sc.p(),
        "--at",
        "0",
        "--variant",
        "precedence=must_pass_through,delta,full",
        "--devices-out",
        devices.to_str().unwrap(),
    ]);
    check_csv(
        &status_out(&out, 1),
        &format!("{DIFF_HEADER}\ndefault,1.0.0,evt,delta,2.0.0,must_pass_through,1.5.0,1,on-delta"),
    );
    // `no-delta-payload` is on the From version too, but the delta has no payload for
    // it; `above-mpt` and `below` have no delta from their version.
    assert_eq!(device_ids(&devices), ["on-delta"]);
    check_csv(
        &std::fs::read_to_string(&devices).unwrap(),
        &format!("{DEVICES_HEADER}\non-delta,default,1.0.0,evt,delta,1.0.0->2.0.0,2.0.0,must_pass_through,1.5.0,1.5.0"),
    );
}

#[test]
fn r33_override_fallback_changes_only_devices_whose_override_lacks_a_payload() {
    let sc = Scenario::new("a.toml", &variant_fixture(""));
    let devices = sc.dir.path().join("devices.csv");
    let out = diff(&[
        sc.p(),
        "--at",
        "0",
        "--variant",
        "override_fallback=true",
        "--devices-out",
        devices.to_str().unwrap(),
    ]);
    check_csv(
        &status_out(&out, 1),
        &format!(
            "{DIFF_HEADER}\ndefault,0.9.0,dvt,none,,must_pass_through,1.5.0,1,override-no-payload"
        ),
    );
    // `override-current` has no payload either, but is already on its override's version.
    assert_eq!(device_ids(&devices), ["override-no-payload"]);
}

#[test]
fn r33_a_variant_of_a_scenario_with_a_variant_starts_from_its_table() {
    // A already puts MPT first; `--variant` changes only what it names.
    let sc = Scenario::new(
        "a.toml",
        &variant_fixture("[resolver]\nprecedence = [\"must_pass_through\", \"delta\", \"full\"]\n"),
    );
    let out = diff(&[sc.p(), "--at", "0", "--variant", "override_fallback=true"]);
    check_csv(
        &status_out(&out, 1),
        &format!(
            "{DIFF_HEADER}\ndefault,0.9.0,dvt,none,,must_pass_through,1.5.0,1,override-no-payload"
        ),
    );
}

#[test]
fn r33_groups_count_devices_and_name_the_smallest_id_largest_group_first() {
    let mut text = variant_fixture("");
    for id in ["z-9", "b-10", "b-2", "B-1"] {
        text.push_str(&dev(id, "evt", "1.0.0"));
    }
    let sc = Scenario::new("a.toml", &text);
    let out = diff(&[
        sc.p(),
        "--at",
        "0",
        "--variant",
        "precedence=full,delta,must_pass_through",
    ]);
    // Byte order: "B-1" < "b-10" < "b-2" < "on-delta" < "z-9".
    check_csv(
        &status_out(&out, 1),
        &format!(
            "{DIFF_HEADER}
             default,1.0.0,evt,delta,2.0.0,full,2.0.0,5,B-1
             default,0.9.0,evt,must_pass_through,1.5.0,full,2.0.0,1,below
             default,1.0.0,dvt,must_pass_through,1.5.0,full,2.0.0,1,no-delta-payload"
        ),
    );
}

#[test]
fn r33_devices_in_only_one_scenario_are_absent_on_the_other() {
    let a = Scenario::new(
        "a.toml",
        &format!(
            "{}{}{}{}",
            full("2.0.0", "\"evt\" = 200"),
            activate("0", "2.0.0", "default"),
            dev("both", "evt", "1.0.0"),
            dev("only-a", "evt", "1.0.0"),
        ),
    );
    let b = Scenario::new(
        "b.toml",
        &format!(
            "{}{}{}{}",
            full("2.0.0", "\"evt\" = 200"),
            activate("0", "2.0.0", "default"),
            dev("both", "evt", "1.0.0"),
            dev_with("only-b", "evt", "2.0.0", "cohort = \"beta\""),
        )
        .replacen("", "[[cohorts]]\nname = \"beta\"\n", 1),
    );
    let out = diff(&[a.p(), b.p(), "--at", "0"]);
    check_csv(
        &status_out(&out, 1),
        &format!(
            "{DIFF_HEADER}
             beta,2.0.0,evt,absent,,none,,1,only-b
             default,1.0.0,evt,full,2.0.0,absent,,1,only-a"
        ),
    );
}

#[test]
fn r33_bad_variants_exit_2_with_a_whole_message() {
    let sc = Scenario::new("a.toml", &variant_fixture(""));
    let cases = [
        (
            "fallback=true",
            "error: --variant fallback=true: unknown key \"fallback\" (keys: precedence, override_fallback)\n",
        ),
        (
            "override_fallback=yes",
            "error: --variant override_fallback=yes: \"yes\" is not true or false\n",
        ),
        (
            "precedence=delta,full",
            "error: --variant precedence=delta,full: rule \"must_pass_through\" is missing (expected delta, must_pass_through and full, each once)\n",
        ),
        (
            "precedence=delta,full,delta",
            "error: --variant precedence=delta,full,delta: rule \"delta\" is listed twice\n",
        ),
        (
            "precedence=delta,full,mpt",
            "error: --variant precedence=delta,full,mpt: unknown rule \"mpt\" (expected delta, must_pass_through and full, each once)\n",
        ),
        (
            "precedence",
            "error: --variant precedence: \"precedence\" is not KEY=VALUE (keys: precedence, override_fallback)\n",
        ),
    ];
    for (setting, message) in cases {
        let out = diff(&[sc.p(), "--at", "0", "--variant", setting]);
        assert_eq!(out.status.code(), Some(2), "{setting}");
        assert!(out.stdout.is_empty(), "{setting}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), message);
    }
}

#[test]
fn r33_input_errors_exit_2() {
    let sc = Scenario::new("a.toml", &variant_fixture(""));
    let missing = sc.dir.path().join("missing.toml");
    let out = diff(&[sc.p(), missing.to_str().unwrap(), "--at", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: ") && stderr.contains("missing.toml: cannot read scenario"),
        "{stderr}"
    );
    let out = diff(&[sc.p(), sc.p(), "--at", "soon"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: --at: "));
    let out = diff(&[sc.p(), "--at", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: diff needs scenario B, --variant KEY=VALUE or --expected FILE\n"
    );
    let out = diff(&[sc.p(), sc.p(), "--at", "0", "--devices-out", "devices.txt"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: --devices-out: devices.txt must end in .csv or .parquet\n"
    );
    // Other commands keep exit status 1 for input errors.
    let out = otasim(["resolve", missing.to_str().unwrap(), "--at", "0"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn r33_devices_out_parquet_has_one_row_per_differing_device() {
    let sc = Scenario::new("a.toml", &variant_fixture(""));
    let devices = sc.dir.path().join("devices.parquet");
    let out = diff(&[
        sc.p(),
        "--at",
        "0",
        "--variant",
        "precedence=full,delta,must_pass_through",
        "--devices-out",
        devices.to_str().unwrap(),
    ]);
    status_out(&out, 1);
    use polars::prelude::{ParquetReader, SerReader};
    let df = ParquetReader::new(std::fs::File::open(&devices).unwrap())
        .finish()
        .unwrap();
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(names.join(","), DEVICES_HEADER);
    let ids: Vec<String> = df
        .column("device_id")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.unwrap().to_string())
        .collect();
    assert_eq!(ids, ["below", "no-delta-payload", "on-delta"]);
}

/// Three polling devices (every hour, always online, no failures); at 2h a delta from
/// 1.0.0, an MPT 1.5.0 and a full 2.0.0 are activated. As written, `d1` and `d2` take
/// the delta to 2.0.0 at once; with MPT first they pass through 1.5.0, one hour later.
fn polling_fixture() -> String {
    let mut s = String::from("duration = \"6h\"\n");
    s.push_str(&certain_behaviour("1h"));
    s.push_str(&mpt("1.5.0", "\"evt\" = 150"));
    s.push_str(&full("2.0.0", "\"evt\" = 200"));
    s.push_str(&delta("1.0.0", "2.0.0", "\"evt\" = 20"));
    s.push_str(&dev("d1", "evt", "1.0.0"));
    s.push_str(&dev("d2", "evt", "1.0.0"));
    s.push_str(&dev("d3", "evt", "2.0.0"));
    for r in ["1.5.0", "1.0.0->2.0.0", "2.0.0"] {
        s.push_str(&activate("2", r, "default"));
    }
    s
}

#[test]
fn r33_a_variant_of_a_polling_fleet_is_simulated_with_its_own_resolver() {
    let sc = Scenario::new("a.toml", &polling_fixture());
    // At 4h, A's devices already report 2.0.0 (no update), B's report 1.5.0 and are
    // offered 2.0.0: the states differ, so B was simulated under the variant.
    let out = diff(&[
        sc.p(),
        "--at",
        "4",
        "--variant",
        "precedence=must_pass_through,delta,full",
    ]);
    check_csv(
        &status_out(&out, 1),
        &format!("{DIFF_HEADER}\ndefault,2.0.0,evt,none,,full,2.0.0,2,d1"),
    );
}

#[test]
fn r33_over_time_names_the_first_differing_tick_and_the_divergence_per_tick() {
    let sc = Scenario::new("a.toml", &polling_fixture());
    let out = otasim([
        "diff",
        sc.p(),
        "--over-time",
        "--variant",
        "precedence=must_pass_through,delta,full",
        "--format",
        "table",
    ]);
    assert_eq!(
        status_out(&out, 1),
        "first difference at tick 2 (2h): device d1
tick  time  devices_a  devices_b  devices_differ  devices_elsewhere  divergence
   0  0s            3          3               0                  0  0.000000
   1  1h            3          3               0                  0  0.000000
   2  2h            3          3               2                  0  0.000000
   3  3h            3          3               2                  0  0.000000
   4  4h            3          3               2                  2  0.666667
   5  5h            3          3               0                  0  0.000000
   6  6h            3          3               0                  0  0.000000
"
    );
    // The same as a chart: both lines drawn, in PNG and SVG.
    let svg = sc.dir.path().join("divergence.svg");
    let out = otasim([
        "diff",
        sc.p(),
        "--over-time",
        "--variant",
        "precedence=must_pass_through,delta,full",
        "--format",
        "csv",
        "--chart",
        svg.to_str().unwrap(),
    ]);
    status_out(&out, 1);
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("How B diverges from A over time"));
    assert!(text.contains("answer or state differs"));
    assert!(text.contains("version distribution gap"));
    let png = sc.dir.path().join("divergence.png");
    let out = otasim([
        "diff",
        sc.p(),
        sc.p(),
        "--over-time",
        "--chart",
        png.to_str().unwrap(),
    ]);
    status_out(&out, 0);
    assert_eq!(&std::fs::read(&png).unwrap()[1..4], b"PNG");
    // --chart belongs to --over-time.
    let out = otasim(["diff", sc.p(), sc.p(), "--at", "0", "--chart", "x.png"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: --chart draws the divergence over time: it needs --over-time\n"
    );
    assert!(!std::path::Path::new("x.png").exists());

    let out = otasim(["diff", sc.p(), sc.p(), "--over-time", "--format", "csv"]);
    let text = status_out(&out, 0);
    assert!(text.starts_with(
        "tick,time,devices_a,devices_b,devices_differ,devices_elsewhere,divergence\n0,0s,3,3,0,0,0.000000\n"
    ));
    assert_eq!(text.lines().count(), 8);
}

#[test]
fn r33_a_fleet_table_both_sides_import_gives_each_side_its_own_answers() {
    // B numbers cohorts, hardware and releases otherwise than A (another cohort first,
    // releases in another order), and activates a delta: the table is read once, yet
    // each side must see it as a read of its own would.
    let table = "device_id,hardware_version,software_version,cohort\n\
                 d1,evt,1.0.0,beta\nd2,dvt,1.0.0,\nd3,evt,2.0.0,beta\nd4,evt,1.0.0,\n";
    let fleet = "\n[fleet]\nimport = \"fleet.csv\"\n";
    let mut a_text = String::from("[[cohorts]]\nname = \"beta\"\n");
    a_text.push_str(&full("1.0.0", "\"evt\" = 100, \"dvt\" = 100"));
    a_text.push_str(&full("2.0.0", "\"evt\" = 200, \"dvt\" = 200"));
    a_text.push_str(fleet);
    for (r, c) in [("2.0.0", "default"), ("2.0.0", "beta")] {
        a_text.push_str(&activate("0", r, c));
    }
    let mut b_text =
        String::from("[[cohorts]]\nname = \"alpha\"\n\n[[cohorts]]\nname = \"beta\"\n");
    b_text.push_str(&delta("1.0.0", "2.0.0", "\"evt\" = 20"));
    b_text.push_str(&full("2.0.0", "\"evt\" = 200, \"dvt\" = 200"));
    b_text.push_str(&full("1.0.0", "\"evt\" = 100, \"dvt\" = 100"));
    b_text.push_str(fleet.replace("fleet.csv", "FLEET").as_str());
    for (r, c) in [
        ("2.0.0", "default"),
        ("2.0.0", "beta"),
        ("1.0.0->2.0.0", "beta"),
    ] {
        b_text.push_str(&activate("0", r, c));
    }
    let a = Scenario::new("a.toml", &a_text);
    std::fs::write(a.dir.path().join("fleet.csv"), table).unwrap();
    std::fs::write(a.dir.path().join("copy.csv"), table).unwrap();
    let expected = format!("{DIFF_HEADER}\nbeta,1.0.0,evt,full,2.0.0,delta,2.0.0,1,d1");
    for import in ["fleet.csv", "copy.csv"] {
        let b = a.dir.path().join("b.toml");
        std::fs::write(&b, b_text.replace("FLEET", import)).unwrap();
        let out = diff(&[a.p(), b.to_str().unwrap(), "--at", "0"]);
        check_csv(&status_out(&out, 1), &expected);
    }
    // The same with the table given to both sides by --fleet, as Parquet.
    let parquet = a.dir.path().join("fleet.parquet");
    super::expected::write_parquet(&parquet, table);
    let out = otasim([
        "diff",
        a.p(),
        b_path(&a, &b_text).to_str().unwrap(),
        "--at",
        "0",
        "--fleet",
        parquet.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    check_csv(&status_out(&out, 1), &expected);
}

/// Writes B beside A, importing `fleet.csv` (which `--fleet` replaces).
fn b_path(a: &Scenario, b_text: &str) -> PathBuf {
    let b = a.dir.path().join("b.toml");
    std::fs::write(&b, b_text.replace("FLEET", "fleet.csv")).unwrap();
    b
}
