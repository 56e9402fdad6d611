//! Versions: SemVer precedence (R1), build metadata (R2), installed version (R3).

use super::*;

#[test]
fn r1_semver_precedence_numeric_and_prerelease() {
    let text = [
        "seed = 1\n".to_string(),
        "[[cohorts]]\nname = \"a\"\n[[cohorts]]\nname = \"b\"\n[[cohorts]]\nname = \"c\"\n".into(),
        full("1.9.0", "\"evt\" = 190"),
        full("1.10.0", "\"evt\" = 1100"),
        full("2.0.0-rc.2", "\"evt\" = 202"),
        full("2.0.0-rc.10", "\"evt\" = 210"),
        full("2.0.0", "\"evt\" = 200"),
        // a: 1.10.0 > 1.9.0 (numeric, not string, comparison).
        activate("0", "1.9.0", "a"),
        activate("0", "1.10.0", "a"),
        // b: rc.10 > rc.2 (numeric pre-release identifiers).
        activate("0", "2.0.0-rc.2", "b"),
        activate("0", "2.0.0-rc.10", "b"),
        // c: a pre-release sorts before its release.
        activate("0", "2.0.0-rc.10", "c"),
        activate("0", "2.0.0", "c"),
        dev_with("a1", "evt", "1.9.0", "cohort = \"a\""),
        dev_with("a2", "evt", "1.10.0", "cohort = \"a\""),
        dev_with("b1", "evt", "2.0.0-rc.1", "cohort = \"b\""),
        dev_with("b2", "evt", "2.0.0-rc.10", "cohort = \"b\""),
        dev_with("c1", "evt", "2.0.0-rc.10", "cohort = \"c\""),
        dev_with("c2", "evt", "2.0.0", "cohort = \"c\""),
        dev_with("c3", "evt", "2.0.0-rc.2", "cohort = \"c\""),
    ]
    .concat();
    let sc = Scenario::new("r1.toml", &text);
    check_resolve(
        &sc.resolve("0"),
        "
        a1,a,a,1.9.0,full,1.10.0,1.10.0,1100
        a2,a,a,1.10.0,none,,,
        b1,b,b,2.0.0-rc.1,full,2.0.0-rc.10,2.0.0-rc.10,210
        b2,b,b,2.0.0-rc.10,none,,,
        c1,c,c,2.0.0-rc.10,full,2.0.0,2.0.0,200
        c2,c,c,2.0.0,none,,,
        c3,c,c,2.0.0-rc.2,full,2.0.0,2.0.0,200
        ",
    );
    // Rows sort by precedence, not by string: 1.9.0 < 1.10.0, rc.2 < rc.10 < release.
    check_matrix(
        &sc.matrix("0"),
        "
        a,1.9.0,1.10.0,full,1,1.10.0
        a,1.10.0,1.10.0,none,1,1.10.0
        b,2.0.0-rc.1,2.0.0-rc.10,full,1,2.0.0-rc.10
        b,2.0.0-rc.10,2.0.0-rc.10,none,1,2.0.0-rc.10
        c,2.0.0-rc.2,2.0.0,full,1,2.0.0
        c,2.0.0-rc.10,2.0.0,full,1,2.0.0
        c,2.0.0,2.0.0,none,1,2.0.0
        ",
    );
}

#[test]
fn r1_bad_release_version_is_an_input_error() {
    let text = [
        full("1.0.0", "\"evt\" = 1"),
        full("1.0", "\"evt\" = 2"),
        dev("d", "evt", "1.0.0"),
    ]
    .concat();
    let sc = Scenario::new("r1-release.toml", &text);
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r1-release.toml:7: release 1: version \"1.0\" is not a valid SemVer 2.0 version (unexpected end of input while parsing minor version number)\n");
    assert_input_error_is(&otasim(["resolve", sc.p(), "--at", "0", "--format", "csv"]), &sc, "error: DIR/r1-release.toml:7: release 1: version \"1.0\" is not a valid SemVer 2.0 version (unexpected end of input while parsing minor version number)\n");
}

#[test]
fn r1_bad_device_version_is_an_input_error() {
    let text = [
        full("1.0.0", "\"evt\" = 1"),
        dev("d1", "evt", "1.0.0"),
        dev("d2", "evt", "banana"),
    ]
    .concat();
    let sc = Scenario::new("r1-device.toml", &text);
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r1-device.toml:14: device \"d2\": version \"banana\" is not a valid SemVer 2.0 version (unexpected character 'b' while parsing major version number)\n");
}

#[test]
fn r1_bad_delta_version_is_an_input_error() {
    let text = [
        delta("1.0.0", "v2", "\"evt\" = 1"),
        dev("d1", "evt", "1.0.0"),
    ]
    .concat();
    let sc = Scenario::new("r1-delta.toml", &text);
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r1-delta.toml:4: release 0: version \"v2\" is not a valid SemVer 2.0 version (unexpected character 'v' while parsing major version number)\n");
}

#[test]
fn r2_build_metadata_rejected_by_default() {
    let text = [
        full("1.0.0", "\"evt\" = 1"),
        full("1.0.1+abcd", "\"evt\" = 2"),
        dev("d", "evt", "1.0.0"),
    ]
    .concat();
    let sc = Scenario::new("r2-release.toml", &text);
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r2-release.toml:7: release 1: version \"1.0.1+abcd\" has build metadata, which software type \"main\" does not allow (set allow_build_metadata = true)\n");

    let text = [full("1.0.0", "\"evt\" = 1"), dev("d", "evt", "1.0.0+ffff")].concat();
    let sc = Scenario::new("r2-device.toml", &text);
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r2-device.toml:9: device \"d\": version \"1.0.0+ffff\" has build metadata, which software type \"main\" does not allow (set allow_build_metadata = true)\n");
}

fn build_metadata_scenario() -> Scenario {
    let text = [
        "[[software_types]]\nname = \"main\"\nallow_build_metadata = true\n".to_string(),
        "[[cohorts]]\nname = \"flat\"\ndisable_version_checking = true\n".into(),
        full("0.9.0", "\"evt\" = 90"),
        full("1.0.0+a", "\"evt\" = 101"),
        full("1.0.0+b", "\"evt\" = 102"),
        delta("1.0.0+a", "1.1.0", "\"evt\" = 11"),
        activate("0", "0.9.0", "default"),
        activate("0", "1.0.0+a", "default"),
        activate("0", "1.0.0+b", "default"),
        activate("0", "1.0.0+a", "flat"),
        activate("0", "1.0.0+b", "flat"),
        // the Delta only at tick 5, in default
        activate("5", "1.0.0+a->1.1.0", "default"),
        dev("x", "evt", "1.0.0+a"),
        dev("y", "evt", "0.9.0"),
        dev("z", "evt", "1.0.0"),
        dev("w", "evt", "1.0.0+b"),
        dev_with("fa", "evt", "1.0.0+a", "cohort = \"flat\""),
        dev_with("fz", "evt", "1.0.0", "cohort = \"flat\""),
        dev_with("fy", "evt", "0.9.0", "cohort = \"flat\""),
    ]
    .concat();
    Scenario::new("r2-opt-in.toml", &text)
}

#[test]
fn r2_build_metadata_opt_in_distinct_releases_equal_precedence() {
    let sc = build_metadata_scenario();
    // x, z, w: 1.0.0+a, 1.0.0 and 1.0.0+b are equal in precedence, so neither release is
    // greater than the current version (R15). y: the two tie as the highest; the tie is
    // broken by SemVer's total order, +b > +a (semantics.md).
    // flat (R17): a device reporting one of the tied highest versions gets nothing; 1.0.0
    // (no metadata) is not exactly one of them, so it gets the highest, 1.0.0+b.
    check_resolve(
        &sc.resolve("0"),
        "
        x,default,default,1.0.0+a,none,,,
        y,default,default,0.9.0,full,1.0.0+b,1.0.0+b,102
        z,default,default,1.0.0,none,,,
        w,default,default,1.0.0+b,none,,,
        fa,flat,flat,1.0.0+a,none,,,
        fz,flat,flat,1.0.0,full,1.0.0+b,1.0.0+b,102
        fy,flat,flat,0.9.0,full,1.0.0+b,1.0.0+b,102
        ",
    );
}

#[test]
fn r2_delta_from_matches_build_metadata_exactly() {
    let sc = build_metadata_scenario();
    check_resolve(
        &sc.resolve("5"),
        "
        x,default,default,1.0.0+a,delta,1.0.0+a->1.1.0,1.1.0,11
        y,default,default,0.9.0,full,1.0.0+b,1.0.0+b,102
        z,default,default,1.0.0,none,,,
        w,default,default,1.0.0+b,none,,,
        fa,flat,flat,1.0.0+a,none,,,
        fz,flat,flat,1.0.0,full,1.0.0+b,1.0.0+b,102
        fy,flat,flat,0.9.0,full,1.0.0+b,1.0.0+b,102
        ",
    );
}

#[test]
fn r2_r4_same_build_metadata_twice_is_a_duplicate() {
    let text = [
        "[[software_types]]\nname = \"main\"\nallow_build_metadata = true\n".to_string(),
        full("1.0.0+a", "\"evt\" = 1"),
        full("1.0.0+a", "\"evt\" = 2"),
        dev("d", "evt", "1.0.0+a"),
    ]
    .concat();
    let sc = Scenario::new("r2-dup.toml", &text);
    let out = sc.validate();
    assert_input_error_is(&out, &sc, "error: DIR/r2-dup.toml:9: release 1: full release 1.0.0+a is defined twice for software type \"main\"\n");
}

#[test]
fn r3_device_reports_release_version_after_install() {
    // After a Delta the device reports its To version, so the chain of final versions
    // follows Delta 1.0.0->1.1.0, then Delta 1.1.0->1.3.0 (not Full 1.2.0).
    let text = [
        full("1.2.0", "\"evt\" = 120"),
        delta("1.0.0", "1.1.0", "\"evt\" = 11"),
        delta("1.1.0", "1.3.0", "\"evt\" = 13"),
        activate("0", "1.2.0", "default"),
        activate("0", "1.0.0->1.1.0", "default"),
        activate("0", "1.1.0->1.3.0", "default"),
        dev("a", "evt", "1.0.0"),
        dev("b", "evt", "0.5.0"),
    ]
    .concat();
    let sc = Scenario::new("r3.toml", &text);
    check_resolve(
        &sc.resolve("0"),
        "
        a,default,default,1.0.0,delta,1.0.0->1.1.0,1.1.0,11
        b,default,default,0.5.0,full,1.2.0,1.2.0,120
        ",
    );
    check_matrix(
        &sc.matrix("0"),
        "
        default,0.5.0,1.2.0,full,1,1.2.0
        default,1.0.0,1.1.0,delta,1,1.3.0
        ",
    );
}

#[test]
fn r2_build_metadata_opt_in_is_per_software_type() {
    let text = [
        "[[software_types]]\nname = \"main\"\n".to_string(),
        "[[software_types]]\nname = \"modem\"\nallow_build_metadata = true\n".into(),
        "\n[[releases]]\nversion = \"1.0.0+m\"\nsoftware_type = \"modem\"\npayloads = { \"evt\" = 1 }\n".into(),
        full("1.0.0+x", "\"evt\" = 2"),
        dev("d", "evt", "1.0.0"),
    ]
    .concat();
    let sc = Scenario::new("r2-per-type.toml", &text);
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r2-per-type.toml:13: release 1: version \"1.0.0+x\" has build metadata, which software type \"main\" does not allow (set allow_build_metadata = true)\n");
}

#[test]
fn r2_r12_override_same_version_is_exact_with_build_metadata() {
    // 1.0.0+b is another release than 1.0.0+a, though equal in precedence: the override
    // is given (R12 compares the exact version, semantics.md).
    let text = [
        "[[software_types]]\nname = \"main\"\nallow_build_metadata = true\n".to_string(),
        full("1.0.0+a", "\"evt\" = 101"),
        full("1.0.0+b", "\"evt\" = 102"),
        dev_with("ov", "evt", "1.0.0+a", "release_override = \"1.0.0+b\""),
        dev_with("same", "evt", "1.0.0+b", "release_override = \"1.0.0+b\""),
    ]
    .concat();
    let sc = Scenario::new("r2-override.toml", &text);
    check_resolve(
        &sc.resolve("0"),
        "
        ov,default,default,1.0.0+a,override,1.0.0+b,1.0.0+b,102
        same,default,default,1.0.0+b,none,,,
        ",
    );
}
