//! The version matrix (R23) and final versions (R24).

use super::*;

#[test]
fn r23_matrix_counts_devices_by_current_and_next_version() {
    let text = [
        "[[cohorts]]\nname = \"empty\"\n".to_string(),
        full("2.0.0", "\"evt\" = 20"),
        activate("0", "2.0.0", "default"),
        activate("0", "2.0.0", "empty"),
        dev("a", "evt", "1.0.0"),
        dev("b", "evt", "2.0.0"),
        dev("c", "evt", "1.0.0"),
        dev("d", "evt", "1.5.0"),
        dev("e", "evt", "1.0.0"),
        dev("f", "evt", "2.0.0"),
    ]
    .concat();
    let sc = Scenario::new("r23.toml", &text);
    // One row per non-empty cell; the cohort without devices has none.
    check_matrix(
        &sc.matrix("0"),
        "
        default,1.0.0,2.0.0,full,3,2.0.0
        default,1.5.0,2.0.0,full,1,2.0.0
        default,2.0.0,2.0.0,none,2,2.0.0
        ",
    );
}

#[test]
fn r23_one_row_per_final_version_within_a_cell() {
    // evt and dvt devices take the same first step, but only evt has the Delta onwards.
    let text = [
        full("2.0.0", "\"evt\" = 20, \"dvt\" = 21"),
        delta("2.0.0", "2.1.0", "\"evt\" = 5"),
        activate("0", "2.0.0", "default"),
        activate("0", "2.0.0->2.1.0", "default"),
        dev("e1", "evt", "1.0.0"),
        dev("d1", "dvt", "1.0.0"),
        dev("e2", "evt", "1.0.0"),
        dev("d2", "dvt", "2.0.0"),
    ]
    .concat();
    let sc = Scenario::new("r23-final.toml", &text);
    check_matrix(
        &sc.matrix("0"),
        "
        default,1.0.0,2.0.0,full,1,2.0.0
        default,1.0.0,2.0.0,full,2,2.1.0
        default,2.0.0,2.0.0,none,1,2.0.0
        ",
    );
}

#[test]
fn r23_rows_sorted_by_cohort_versions_then_rule() {
    // Three devices on 1.0.0 all go to 2.0.0, by three different rules; sort order of
    // rules is none, override, delta, must_pass_through, full.
    let text = [
        "[[cohorts]]\nname = \"aaa\"\n[[cohorts]]\nname = \"zzz\"\ndisable_version_checking = true\n".to_string(),
        mpt("2.0.0", "\"evt\" = 20, \"dvt\" = 21"),
        delta("1.0.0", "2.0.0", "\"evt\" = 5"),
        activate("0", "2.0.0", "default"),
        activate("0", "1.0.0->2.0.0", "default"),
        activate("0", "2.0.0", "zzz"),
        activate("0", "2.0.0", "aaa"),
        dev_with("z1", "evt", "1.0.0", "cohort = \"zzz\""),
        dev("m1", "dvt", "1.0.0"),
        dev("d1", "evt", "1.0.0"),
        dev_with("o1", "dvt", "1.0.0", "release_override = \"2.0.0\""),
        dev_with("a1", "dvt", "0.9.0", "cohort = \"aaa\""),
        dev("n1", "evt", "3.0.0"),
    ]
    .concat();
    let sc = Scenario::new("r23-sort.toml", &text);
    // zzz: version checking disabled, so the MPT is returned by R15 under rule `full`.
    check_matrix(
        &sc.matrix("0"),
        "
        aaa,0.9.0,2.0.0,must_pass_through,1,2.0.0
        default,1.0.0,2.0.0,override,1,2.0.0
        default,1.0.0,2.0.0,delta,1,2.0.0
        default,1.0.0,2.0.0,must_pass_through,1,2.0.0
        default,3.0.0,3.0.0,none,1,3.0.0
        zzz,1.0.0,2.0.0,full,1,2.0.0
        ",
    );
}

#[test]
fn r24_final_version_follows_the_chain() {
    let text = [
        mpt("1.0.0", "\"evt\" = 10"),
        full("2.0.0", "\"evt\" = 20"),
        delta("2.0.0", "2.1.0", "\"evt\" = 21"),
        delta("2.1.0", "2.2.0", "\"evt\" = 22"),
        activate("0", "1.0.0", "default"),
        activate("0", "2.0.0", "default"),
        activate("0", "2.0.0->2.1.0", "default"),
        activate("0", "2.1.0->2.2.0", "default"),
        dev("a", "evt", "0.1.0"),
        dev("b", "evt", "2.1.0"),
        dev("c", "evt", "2.2.0"),
    ]
    .concat();
    let sc = Scenario::new("r24.toml", &text);
    check_matrix(
        &sc.matrix("0"),
        "
        default,0.1.0,1.0.0,must_pass_through,1,2.2.0
        default,2.1.0,2.2.0,delta,1,2.2.0
        default,2.2.0,2.2.0,none,1,2.2.0
        ",
    );
}

#[test]
fn r24_cycle_is_reported_not_looped() {
    // With version checking disabled, 1.0.0 -> Delta 1.1.0 -> Full 1.0.0 (R17) -> ...
    let text = [
        "[[cohorts]]\nname = \"loop\"\ndisable_version_checking = true\n".to_string(),
        full("1.0.0", "\"evt\" = 10"),
        delta("1.0.0", "1.1.0", "\"evt\" = 11"),
        activate("0", "1.0.0", "loop"),
        activate("0", "1.0.0->1.1.0", "loop"),
        activate("0", "1.0.0", "default"),
        activate("0", "1.0.0->1.1.0", "default"),
        dev_with("l1", "evt", "1.0.0", "cohort = \"loop\""),
        dev_with("l2", "evt", "1.1.0", "cohort = \"loop\""),
        dev_with("l3", "evt", "0.5.0", "cohort = \"loop\""),
        dev_with("l4", "evt", "1.0.0", "cohort = \"loop\""),
        dev("d1", "evt", "0.5.0"),
    ]
    .concat();
    let sc = Scenario::new("r24-cycle.toml", &text);
    check_matrix(
        &sc.matrix("0"),
        "
        default,0.5.0,1.0.0,full,1,1.1.0
        loop,0.5.0,1.0.0,full,1,cycle
        loop,1.0.0,1.1.0,delta,2,cycle
        loop,1.1.0,1.0.0,full,1,cycle
        ",
    );
    check_resolve(
        &sc.resolve("0"),
        "
        l1,loop,loop,1.0.0,delta,1.0.0->1.1.0,1.1.0,11
        l2,loop,loop,1.1.0,full,1.0.0,1.0.0,10
        l3,loop,loop,0.5.0,full,1.0.0,1.0.0,10
        l4,loop,loop,1.0.0,delta,1.0.0->1.1.0,1.1.0,11
        d1,default,default,0.5.0,full,1.0.0,1.0.0,10
        ",
    );
}

/// `matrix` leaves an imported Parquet table's ids unread where nothing names a device
/// (docs/semantics.md, "What `matrix` reads"): the same matrix, and the same warning
/// naming a device, as `validate` reading them; a repeated id goes unreported there,
/// while `validate` reports it; and a scenario whose event names a device reads the
/// ids, so that an unknown one is the error it is in every command.
#[test]
fn r23_matrix_of_an_imported_table_reads_ids_only_where_a_device_is_named() {
    let base = [
        full("2.0.0", "\"evt\" = 20"),
        activate("0", "2.0.0", "default"),
        "\n[fleet]\nimport = \"fleet.parquet\"\n".to_string(),
    ]
    .concat();
    let table = |sc: &Scenario, ids: [&str; 3]| {
        let rows = format!(
            "device_id,hardware_version,software_version\n{},evt,1.0.0\n{},evt,1.0.0\n{},xyz,1.0.0",
            ids[0], ids[1], ids[2]
        );
        super::expected::write_parquet(&sc.dir.path().join("fleet.parquet"), &rows);
    };
    let warning = "warning: DIR/import.toml: hardware version \"xyz\" (1 device, e.g. \"c\") has no payload in any release: those devices can never get an update\n";
    let sc = Scenario::new("import.toml", &base);
    table(&sc, ["a", "b", "c"]);
    let out = otasim(["matrix", sc.p(), "--at", "0", "--format", "csv"]);
    let dir = sc.dir.path().to_str().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).replace(dir, "DIR"),
        warning
    );
    check_matrix(
        &stdout_ok(&out),
        "
        default,1.0.0,1.0.0,none,1,1.0.0
        default,1.0.0,2.0.0,full,2,2.0.0
        ",
    );
    let validated = sc.validate();
    assert!(String::from_utf8_lossy(&validated.stderr)
        .replace(dir, "DIR")
        .contains(warning));

    table(&sc, ["a", "a", "c"]);
    check_matrix(
        &sc.matrix("0"),
        "
        default,1.0.0,1.0.0,none,1,1.0.0
        default,1.0.0,2.0.0,full,2,2.0.0
        ",
    );
    assert_input_error_is(
        &sc.validate(),
        &sc,
        "error: DIR/fleet.parquet: row 2: device \"a\" is defined twice\n",
    );

    // An event names device "b": the ids are read, and "b" is found.
    let named = Scenario::new(
        "import.toml",
        &[
            base.clone(),
            event("0", "set_override", "device = \"b\"; release = \"2.0.0\""),
        ]
        .concat(),
    );
    table(&named, ["a", "b", "c"]);
    check_matrix(
        &named.matrix("0"),
        "
        default,1.0.0,1.0.0,none,1,1.0.0
        default,1.0.0,2.0.0,override,1,2.0.0
        default,1.0.0,2.0.0,full,1,2.0.0
        ",
    );
    let unknown = Scenario::new(
        "import.toml",
        &[
            base,
            event("0", "set_override", "device = \"zz\"; release = \"2.0.0\""),
        ]
        .concat(),
    );
    table(&unknown, ["a", "b", "c"]);
    let out = otasim(["matrix", unknown.p(), "--at", "0", "--format", "csv"]);
    assert_input_error_is(
        &out,
        &unknown,
        "error: DIR/import.toml:18: event 1 (set_override): unknown device \"zz\"\n",
    );
}
