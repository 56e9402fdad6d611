//! The resolver, rule by rule (R9–R18), on small scenarios written into a tempdir.

use super::*;

#[test]
fn r9_effective_cohort_is_the_key_override() {
    let text = [
        "[[cohorts]]\nname = \"beta\"\n[[cohorts]]\nname = \"stable\"\n".to_string(),
        "[[project_keys]]\nname = \"recovery\"\nota_cohort_override = \"stable\"\n".into(),
        full("2.0.0", "\"evt\" = 20"),
        full("3.0.0", "\"evt\" = 30"),
        activate("0", "2.0.0", "stable"),
        activate("0", "3.0.0", "beta"),
        dev_with("b", "evt", "1.0.0", "cohort = \"beta\""),
        dev_with(
            "r",
            "evt",
            "1.0.0",
            "cohort = \"beta\"; project_key = \"recovery\"",
        ),
        dev_with(
            "s",
            "evt",
            "1.0.0",
            "cohort = \"stable\"; project_key = \"recovery\"",
        ),
        dev_with("d", "evt", "1.0.0", "project_key = \"recovery\""),
    ]
    .concat();
    let sc = Scenario::new("r9.toml", &text);
    check_resolve(
        &sc.resolve("0"),
        "
        b,beta,beta,1.0.0,full,3.0.0,3.0.0,30
        r,beta,stable,1.0.0,full,2.0.0,2.0.0,20
        s,stable,stable,1.0.0,full,2.0.0,2.0.0,20
        d,default,stable,1.0.0,full,2.0.0,2.0.0,20
        ",
    );
    // The matrix groups by the stored cohort (semantics.md).
    check_matrix(
        &sc.matrix("0"),
        "
        beta,1.0.0,2.0.0,full,1,2.0.0
        beta,1.0.0,3.0.0,full,1,3.0.0
        default,1.0.0,2.0.0,full,1,2.0.0
        stable,1.0.0,2.0.0,full,1,2.0.0
        ",
    );
}

#[test]
fn r10_staged_flag_is_per_stored_cohort_and_kept_under_override() {
    // `beta` has a 50 % staged rollout of 3.0.0 over its 4 devices: two are staged, and
    // they are b1 and r1 (marked staged), so nothing random happens. r1 reports
    // with the `recovery` key: it sees the staged rollout of 2.5.0 in `stable` too (R10),
    // r2 (not staged) does not.
    let text = [
        "[[cohorts]]\nname = \"beta\"\n[[cohorts]]\nname = \"stable\"\n".to_string(),
        "[[project_keys]]\nname = \"recovery\"\nota_cohort_override = \"stable\"\n".into(),
        full("2.0.0", "\"evt\" = 20"),
        full("2.5.0", "\"evt\" = 25"),
        full("3.0.0", "\"evt\" = 30"),
        activate("0", "2.0.0", "stable"),
        // stable has 2 devices; 50 % = 1 and s1 is already staged
        activate_staged("0", "2.5.0", "stable", "50"),
        // beta has 4 devices; 50 % = 2 = b1 and r1
        activate_staged("0", "3.0.0", "beta", "50"),
        dev_with("b1", "evt", "1.0.0", "cohort = \"beta\"; staged = true"),
        dev_with("b2", "evt", "1.0.0", "cohort = \"beta\""),
        dev_with(
            "r1",
            "evt",
            "1.0.0",
            "cohort = \"beta\"; project_key = \"recovery\"; staged = true",
        ),
        dev_with(
            "r2",
            "evt",
            "1.0.0",
            "cohort = \"beta\"; project_key = \"recovery\"",
        ),
        dev_with("s1", "evt", "1.0.0", "cohort = \"stable\"; staged = true"),
        dev_with("s2", "evt", "1.0.0", "cohort = \"stable\""),
        // tick 3: r1 moves to stable: its flag is cleared
        event("3", "move", "devices = [\"r1\"]; cohort = \"stable\""),
    ]
    .concat();
    let sc = Scenario::new("r10.toml", &text);
    check_resolve(
        &sc.resolve("0"),
        "
        b1,beta,beta,1.0.0,full,3.0.0,3.0.0,30
        b2,beta,beta,1.0.0,none,,,
        r1,beta,stable,1.0.0,full,2.5.0,2.5.0,25
        r2,beta,stable,1.0.0,full,2.0.0,2.0.0,20
        s1,stable,stable,1.0.0,full,2.5.0,2.5.0,25
        s2,stable,stable,1.0.0,full,2.0.0,2.0.0,20
        ",
    );
    check_resolve(
        &sc.resolve("3"),
        "
        b1,beta,beta,1.0.0,full,3.0.0,3.0.0,30
        b2,beta,beta,1.0.0,none,,,
        r1,stable,stable,1.0.0,full,2.0.0,2.0.0,20
        r2,beta,stable,1.0.0,full,2.0.0,2.0.0,20
        s1,stable,stable,1.0.0,full,2.5.0,2.5.0,25
        s2,stable,stable,1.0.0,full,2.0.0,2.0.0,20
        ",
    );
}

#[test]
fn r10_move_to_same_cohort_keeps_staged_flag() {
    let text = [
        full("2.0.0", "\"evt\" = 20"),
        activate_staged("0", "2.0.0", "default", "50"),
        dev_with("a", "evt", "1.0.0", "staged = true"),
        dev("b", "evt", "1.0.0"),
        event("1", "move", "devices = [\"a\"]; cohort = \"default\""),
    ]
    .concat();
    let sc = Scenario::new("r10-same.toml", &text);
    let expected = "
        a,default,default,1.0.0,full,2.0.0,2.0.0,20
        b,default,default,1.0.0,none,,,
    ";
    check_resolve(&sc.resolve("0"), expected);
    check_resolve(&sc.resolve("1"), expected);
}

#[test]
fn r11_applicability_software_type() {
    let text = [
        "[[software_types]]\nname = \"main\"\n[[software_types]]\nname = \"modem\"\n".to_string(),
        full("2.0.0", "\"evt\" = 20"),
        "\n[[releases]]\nversion = \"2.0.0\"\nsoftware_type = \"modem\"\npayloads = { \"evt\" = 220 }\n".into(),
        "\n[[releases]]\nversion = \"1.5.0\"\nsoftware_type = \"modem\"\npayloads = { \"evt\" = 215 }\n".into(),
        activate("0", "2.0.0", "default"),
        event("0", "activate", "release = \"1.5.0\"; cohort = \"default\"; software_type = \"modem\""),
        dev("a", "evt", "1.0.0"),
        dev_with("m", "evt", "1.0.0", "software_type = \"modem\""),
        dev_with("n", "evt", "1.5.0", "software_type = \"modem\""),
    ]
    .concat();
    let sc = Scenario::new("r11-type.toml", &text);
    // m: main's 2.0.0 is of another type, modem's 2.0.0 is not active.
    check_resolve(
        &sc.resolve("0"),
        "
        a,default,default,1.0.0,full,2.0.0,2.0.0,20
        m,default,default,1.0.0,full,1.5.0,1.5.0,215
        n,default,default,1.5.0,none,,,
        ",
    );
    // With two software types the matrix appends a software_type column and groups rows
    // by software type within a cohort (semantics.md).
    check_csv(
        &sc.matrix("0"),
        "
        cohort,current_version,next_version,rule,devices,final_version,software_type
        default,1.0.0,2.0.0,full,1,2.0.0,main
        default,1.0.0,1.5.0,full,1,1.5.0,modem
        default,1.5.0,1.5.0,none,1,1.5.0,modem
        ",
    );
}

#[test]
fn r11_applicability_needs_an_active_activation_in_the_effective_cohort() {
    let text = [
        "[[cohorts]]\nname = \"alpha\"\n[[cohorts]]\nname = \"beta\"\n".to_string(),
        full("2.0.0", "\"evt\" = 20"),
        full("3.0.0", "\"evt\" = 30"),
        full("4.0.0", "\"evt\" = 40"),
        activate("0", "2.0.0", "alpha"),
        activate("0", "3.0.0", "alpha"),
        activate("0", "3.0.0", "beta"),
        activate("0", "4.0.0", "beta"),
        event("5", "pull", "release = \"3.0.0\"; cohort = \"alpha\""),
        // re-activated after the pull (semantics.md: a pulled activation can be activated again)
        activate("8", "3.0.0", "alpha"),
        dev_with("a", "evt", "1.0.0", "cohort = \"alpha\""),
        dev_with("b", "evt", "1.0.0", "cohort = \"beta\""),
    ]
    .concat();
    let sc = Scenario::new("r11-active.toml", &text);
    check_resolve(
        &sc.resolve("0"),
        "
        a,alpha,alpha,1.0.0,full,3.0.0,3.0.0,30
        b,beta,beta,1.0.0,full,4.0.0,4.0.0,40
        ",
    );
    check_resolve(
        &sc.resolve("5"),
        "
        a,alpha,alpha,1.0.0,full,2.0.0,2.0.0,20
        b,beta,beta,1.0.0,full,4.0.0,4.0.0,40
        ",
    );
    check_resolve(
        &sc.resolve("8"),
        "
        a,alpha,alpha,1.0.0,full,3.0.0,3.0.0,30
        b,beta,beta,1.0.0,full,4.0.0,4.0.0,40
        ",
    );
}

#[test]
fn r11_applicability_staged_rollout_only_for_staged_devices() {
    // 4 devices, 50 % -> 2 staged, which are s1 and s2 (already marked): no randomness.
    let text = [
        full("1.5.0", "\"evt\" = 15"),
        full("2.0.0", "\"evt\" = 20"),
        activate("0", "1.5.0", "default"),
        activate_staged("0", "2.0.0", "default", "50"),
        dev_with("s1", "evt", "1.0.0", "staged = true"),
        dev("u1", "evt", "1.0.0"),
        dev_with("s2", "evt", "1.0.0", "staged = true"),
        dev("u2", "evt", "1.0.0"),
    ]
    .concat();
    let sc = Scenario::new("r11-staged.toml", &text);
    check_resolve(
        &sc.resolve("0"),
        "
        s1,default,default,1.0.0,full,2.0.0,2.0.0,20
        u1,default,default,1.0.0,full,1.5.0,1.5.0,15
        s2,default,default,1.0.0,full,2.0.0,2.0.0,20
        u2,default,default,1.0.0,full,1.5.0,1.5.0,15
        ",
    );
}

#[test]
fn r11_applicability_needs_a_payload_for_the_hardware() {
    let text = [
        mpt("1.2.0", "\"evt\" = 12"),
        full("1.5.0", "\"evt\" = 15, \"dvt\" = 1501"),
        full("2.0.0", "\"evt\" = 20"),
        delta("1.1.0", "1.4.0", "\"evt\" = 14"),
        activate("0", "1.2.0", "default"),
        activate("0", "1.5.0", "default"),
        activate("0", "2.0.0", "default"),
        activate("0", "1.1.0->1.4.0", "default"),
        dev("e1", "evt", "1.0.0"),
        dev("d1", "dvt", "1.0.0"),
        dev("d2", "dvt", "1.1.0"),
        dev("e2", "evt", "1.1.0"),
        dev("x1", "proto", "1.0.0"),
    ]
    .concat();
    let sc = Scenario::new("r11-payload.toml", &text);
    // d1: the MPT has no dvt payload, so it does not exist for d1; 2.0.0 neither.
    // d2: the Delta has no dvt payload. x1: no release has a proto payload.
    check_resolve(
        &sc.resolve("0"),
        "
        e1,default,default,1.0.0,must_pass_through,1.2.0,1.2.0,12
        d1,default,default,1.0.0,full,1.5.0,1.5.0,1501
        d2,default,default,1.1.0,full,1.5.0,1.5.0,1501
        e2,default,default,1.1.0,delta,1.1.0->1.4.0,1.4.0,14
        x1,default,default,1.0.0,none,,,
        ",
    );
}

#[test]
fn r12_override_ignores_activations_cohorts_and_mpt() {
    let text = [
        "[[cohorts]]\nname = \"beta\"\n".to_string(),
        full("1.0.0", "\"evt\" = 10"),
        mpt("1.5.0", "\"evt\" = 15, \"dvt\" = 151"),
        full("3.0.0", "\"evt\" = 30, \"dvt\" = 31"),
        delta("2.0.0", "2.5.0", "\"evt\" = 25"),
        activate("0", "1.5.0", "beta"),
        activate("0", "2.0.0->2.5.0", "beta"),
        // 3.0.0 is active nowhere; overrides do not care.
        dev_with(
            "up",
            "evt",
            "1.0.0",
            "cohort = \"beta\"; release_override = \"3.0.0\"",
        ),
        dev_with(
            "down",
            "evt",
            "2.0.0",
            "cohort = \"beta\"; release_override = \"1.0.0\"",
        ),
        // without its override nopay would get MPT 1.5.0; 1.0.0 has no dvt payload
        dev_with(
            "nopay",
            "dvt",
            "1.2.0",
            "cohort = \"beta\"; release_override = \"1.0.0\"",
        ),
        dev_with(
            "same",
            "dvt",
            "3.0.0",
            "cohort = \"beta\"; release_override = \"3.0.0\"",
        ),
        dev_with("plain", "evt", "2.0.0", "cohort = \"beta\""),
    ]
    .concat();
    let sc = Scenario::new("r12.toml", &text);
    check_resolve(
        &sc.resolve("0"),
        "
        up,beta,beta,1.0.0,override,3.0.0,3.0.0,30
        down,beta,beta,2.0.0,override,1.0.0,1.0.0,10
        nopay,beta,beta,1.2.0,none,,,
        same,beta,beta,3.0.0,none,,,
        plain,beta,beta,2.0.0,delta,2.0.0->2.5.0,2.5.0,25
        ",
    );
}

#[test]
fn r13_delta_wins_over_mpt_and_full() {
    let text = [
        delta("1.0.0", "1.1.0", "\"evt\" = 110, \"dvt\" = 111"),
        delta("1.0.0", "1.2.0", "\"evt\" = 120"),
        delta("1.0.0", "1.3.0", "\"evt\" = 130, \"dvt\" = 131"),
        delta("1.0.0", "4.0.0", "\"evt\" = 400, \"dvt\" = 401"),
        mpt("1.5.0", "\"evt\" = 150, \"dvt\" = 151"),
        full("3.0.0", "\"evt\" = 300, \"dvt\" = 301"),
        activate("0", "1.0.0->1.1.0", "default"),
        activate("0", "1.0.0->1.2.0", "default"),
        // staged rollout at 0 %: nobody is staged, so it applies to nobody
        activate_staged("0", "1.0.0->1.3.0", "default", "0"),
        // 1.0.0->4.0.0 exists but is never activated
        activate("0", "1.5.0", "default"),
        activate("0", "3.0.0", "default"),
        dev("e", "evt", "1.0.0"),
        dev("d", "dvt", "1.0.0"),
        dev("f", "evt", "1.1.0"),
    ]
    .concat();
    let sc = Scenario::new("r13.toml", &text);
    // e: highest To among the applicable deltas. d: the 1.2.0 delta has no dvt payload.
    // f: no delta from 1.1.0, so the MPT.
    check_resolve(
        &sc.resolve("0"),
        "
        e,default,default,1.0.0,delta,1.0.0->1.2.0,1.2.0,120
        d,default,default,1.0.0,delta,1.0.0->1.1.0,1.1.0,111
        f,default,default,1.1.0,must_pass_through,1.5.0,1.5.0,150
        ",
    );
}

#[test]
fn r13_delta_bypasses_mpt_and_chains_in_final_version() {
    let text = [
        delta("1.0.0", "2.0.0", "\"evt\" = 1"),
        mpt("1.5.0", "\"evt\" = 2"),
        full("2.5.0", "\"evt\" = 3"),
        activate("0", "1.0.0->2.0.0", "default"),
        activate("0", "1.5.0", "default"),
        activate("0", "2.5.0", "default"),
        dev("a", "evt", "1.0.0"),
        dev("b", "evt", "1.2.0"),
    ]
    .concat();
    let sc = Scenario::new("r13-bypass.toml", &text);
    check_matrix(
        &sc.matrix("0"),
        "
        default,1.0.0,2.0.0,delta,1,2.5.0
        default,1.2.0,1.5.0,must_pass_through,1,2.5.0
        ",
    );
}

#[test]
fn r14_lowest_mpt_greater_than_current() {
    let text = [
        mpt("1.0.0", "\"evt\" = 100"),
        mpt("2.0.0", "\"evt\" = 200"),
        mpt("3.0.0", "\"evt\" = 300"),
        full("4.0.0", "\"evt\" = 400"),
        activate("0", "1.0.0", "default"),
        activate("0", "2.0.0", "default"),
        activate("0", "3.0.0", "default"),
        activate("0", "4.0.0", "default"),
        dev("a", "evt", "0.1.0"),
        dev("b", "evt", "1.0.0"),
        dev("c", "evt", "2.5.0"),
        dev("d", "evt", "3.0.0"),
        dev("e", "evt", "5.0.0"),
    ]
    .concat();
    let sc = Scenario::new("r14.toml", &text);
    check_resolve(
        &sc.resolve("0"),
        "
        a,default,default,0.1.0,must_pass_through,1.0.0,1.0.0,100
        b,default,default,1.0.0,must_pass_through,2.0.0,2.0.0,200
        c,default,default,2.5.0,must_pass_through,3.0.0,3.0.0,300
        d,default,default,3.0.0,full,4.0.0,4.0.0,400
        e,default,default,5.0.0,none,,,
        ",
    );
    check_matrix(
        &sc.matrix("0"),
        "
        default,0.1.0,1.0.0,must_pass_through,1,4.0.0
        default,1.0.0,2.0.0,must_pass_through,1,4.0.0
        default,2.5.0,3.0.0,must_pass_through,1,4.0.0
        default,3.0.0,4.0.0,full,1,4.0.0
        default,5.0.0,5.0.0,none,1,5.0.0
        ",
    );
}

#[test]
fn r15_highest_full_greater_than_current() {
    let text = [
        full("1.5.0", "\"evt\" = 15"),
        full("2.0.0", "\"evt\" = 20"),
        full("2.5.0", "\"evt\" = 25"),
        full("3.0.0", "\"evt\" = 30"),
        activate("0", "2.0.0", "default"),
        activate("0", "2.5.0", "default"),
        activate("0", "1.5.0", "default"),
        // 3.0.0 is never activated
        dev("a", "evt", "1.0.0"),
        dev("b", "evt", "2.0.0"),
        dev("c", "evt", "2.5.0"),
        dev("d", "evt", "2.7.0"),
    ]
    .concat();
    let sc = Scenario::new("r15.toml", &text);
    check_resolve(
        &sc.resolve("0"),
        "
        a,default,default,1.0.0,full,2.5.0,2.5.0,25
        b,default,default,2.0.0,full,2.5.0,2.5.0,25
        c,default,default,2.5.0,none,,,
        d,default,default,2.7.0,none,,,
        ",
    );
}

#[test]
fn r16_pulling_the_newest_release_never_downgrades() {
    let text = [
        full("1.0.0", "\"evt\" = 10"),
        full("2.0.0", "\"evt\" = 20"),
        mpt("0.5.0", "\"evt\" = 5"),
        activate("0", "0.5.0", "default"),
        activate("0", "1.0.0", "default"),
        activate("0", "2.0.0", "default"),
        event("1", "pull", "release = \"2.0.0\"; cohort = \"default\""),
        dev("a", "evt", "2.0.0"),
        dev("b", "evt", "1.5.0"),
        dev("c", "evt", "0.1.0"),
    ]
    .concat();
    let sc = Scenario::new("r16.toml", &text);
    check_resolve(
        &sc.resolve("1"),
        "
        a,default,default,2.0.0,none,,,
        b,default,default,1.5.0,none,,,
        c,default,default,0.1.0,must_pass_through,0.5.0,0.5.0,5
        ",
    );
}

#[test]
fn r17_disabled_checking_skips_mpt_downgrades_and_keeps_delta() {
    let text = [
        "[[cohorts]]\nname = \"flat\"\ndisable_version_checking = true\n".to_string(),
        full("1.0.0", "\"evt\" = 10"),
        mpt("1.5.0", "\"evt\" = 15"),
        full("2.0.0", "\"evt\" = 20"),
        delta("2.5.0", "2.6.0", "\"evt\" = 26"),
        activate("0", "1.0.0", "flat"),
        activate("0", "1.5.0", "flat"),
        activate("0", "2.0.0", "flat"),
        activate("0", "2.5.0->2.6.0", "flat"),
        dev_with("a", "evt", "1.0.0", "cohort = \"flat\""),
        dev_with("b", "evt", "2.0.0", "cohort = \"flat\""),
        dev_with("c", "evt", "2.7.0", "cohort = \"flat\""),
        dev_with("d", "evt", "2.5.0", "cohort = \"flat\""),
        dev_with("e", "evt", "0.5.0", "cohort = \"flat\""),
    ]
    .concat();
    let sc = Scenario::new("r17.toml", &text);
    check_resolve(
        &sc.resolve("0"),
        "
        a,flat,flat,1.0.0,full,2.0.0,2.0.0,20
        b,flat,flat,2.0.0,none,,,
        c,flat,flat,2.7.0,full,2.0.0,2.0.0,20
        d,flat,flat,2.5.0,delta,2.5.0->2.6.0,2.6.0,26
        e,flat,flat,0.5.0,full,2.0.0,2.0.0,20
        ",
    );
    // d: 2.5.0 -> 2.6.0 (delta) -> 2.0.0 (R17 downgrade) -> stays.
    check_matrix(
        &sc.matrix("0"),
        "
        flat,0.5.0,2.0.0,full,1,2.0.0
        flat,1.0.0,2.0.0,full,1,2.0.0
        flat,2.0.0,2.0.0,none,1,2.0.0
        flat,2.5.0,2.6.0,delta,1,2.0.0
        flat,2.7.0,2.0.0,full,1,2.0.0
        ",
    );
}

#[test]
fn r17_mpt_release_is_a_full_release_when_checking_disabled() {
    // R14 is skipped; an MPT release is still a Full release, so R15 may return it.
    let text = [
        "[[cohorts]]\nname = \"flat\"\ndisable_version_checking = true\n".to_string(),
        mpt("1.5.0", "\"evt\" = 15"),
        activate("0", "1.5.0", "flat"),
        dev_with("a", "evt", "1.0.0", "cohort = \"flat\""),
        dev_with("b", "evt", "2.0.0", "cohort = \"flat\""),
        dev_with("c", "evt", "1.5.0", "cohort = \"flat\""),
    ]
    .concat();
    let sc = Scenario::new("r17-mpt.toml", &text);
    check_resolve(
        &sc.resolve("0"),
        "
        a,flat,flat,1.0.0,full,1.5.0,1.5.0,15
        b,flat,flat,2.0.0,full,1.5.0,1.5.0,15
        c,flat,flat,1.5.0,none,,,
        ",
    );
}

#[test]
fn r17_applies_to_the_effective_cohort() {
    // The device is stored in `default` (checking on) but reports with a key that
    // overrides to `flat` (checking off): it is downgraded.
    let text = [
        "[[cohorts]]\nname = \"flat\"\ndisable_version_checking = true\n".to_string(),
        "[[project_keys]]\nname = \"k\"\nota_cohort_override = \"flat\"\n".into(),
        full("1.0.0", "\"evt\" = 10"),
        activate("0", "1.0.0", "flat"),
        activate("0", "1.0.0", "default"),
        dev_with("a", "evt", "2.0.0", "project_key = \"k\""),
        dev("b", "evt", "2.0.0"),
    ]
    .concat();
    let sc = Scenario::new("r17-eff.toml", &text);
    check_resolve(
        &sc.resolve("0"),
        "
        a,default,flat,2.0.0,full,1.0.0,1.0.0,10
        b,default,default,2.0.0,none,,,
        ",
    );
}

#[test]
fn r18_nothing_applicable_is_none() {
    let text = [
        full("2.0.0", "\"evt\" = 20"),
        delta("1.0.0", "1.1.0", "\"evt\" = 11"),
        dev("a", "evt", "1.0.0"),
        dev("b", "evt", "3.0.0"),
    ]
    .concat();
    let sc = Scenario::new("r18.toml", &text);
    // Nothing is activated.
    check_resolve(
        &sc.resolve("0"),
        "
        a,default,default,1.0.0,none,,,
        b,default,default,3.0.0,none,,,
        ",
    );
    check_matrix(
        &sc.matrix("0"),
        "
        default,1.0.0,1.0.0,none,1,1.0.0
        default,3.0.0,3.0.0,none,1,3.0.0
        ",
    );
}

#[test]
fn r11_delta_of_another_software_type_is_not_applicable() {
    let text = [
        "[[software_types]]\nname = \"main\"\n[[software_types]]\nname = \"modem\"\n".to_string(),
        full("1.5.0", "\"evt\" = 15"),
        "\n[[releases]]\nfrom = \"1.0.0\"\nto = \"1.2.0\"\nsoftware_type = \"modem\"\npayloads = { \"evt\" = 12 }\n".into(),
        activate("0", "1.5.0", "default"),
        event("0", "activate", "release = \"1.0.0->1.2.0\"; cohort = \"default\"; software_type = \"modem\""),
        dev("a", "evt", "1.0.0"),
        dev_with("m", "evt", "1.0.0", "software_type = \"modem\""),
    ]
    .concat();
    let sc = Scenario::new("r11-type-delta.toml", &text);
    check_resolve(
        &sc.resolve("0"),
        "
        a,default,default,1.0.0,full,1.5.0,1.5.0,15
        m,default,default,1.0.0,delta,1.0.0->1.2.0,1.2.0,12
        ",
    );
}
