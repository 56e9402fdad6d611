//! The bundled scenarios in `scenarios/`: each one's exact version matrix (and, where it is
//! small, its exact resolve output) at the ticks its leading comment describes.

use super::*;

const FIG3_MATRIX: &str = "
    default,0.9.0,2.0.0,full,21,2.1.0
    default,1.1.0,2.0.0,full,36,2.1.0
    default,2.0.0,2.1.0,delta,132,2.1.0
    default,2.1.0,2.1.0,none,738,2.1.0
";

/// Resolve rows of the Figure 3 fleet: SN-0001.. in groups of 21/36/132/738.
/// `staged_delta` lists the 1-based device numbers that get Delta 2.1.0->2.2.0.
fn figure_fleet_resolve(staged_delta: impl Fn(usize) -> bool) -> String {
    let mut rows = String::new();
    let mut n = 0;
    for (ver, count) in [("0.9.0", 21), ("1.1.0", 36), ("2.0.0", 132), ("2.1.0", 738)] {
        for _ in 0..count {
            n += 1;
            let tail = match ver {
                "0.9.0" | "1.1.0" => "full,2.0.0,2.0.0,2000000".to_string(),
                "2.0.0" => "delta,2.0.0->2.1.0,2.1.0,150000".to_string(),
                _ if staged_delta(n) => "delta,2.1.0->2.2.0,2.2.0,160000".to_string(),
                _ => "none,,,".to_string(),
            };
            rows.push_str(&format!("SN-{n:04},default,default,{ver},{tail}\n"));
        }
    }
    rows
}

#[test]
fn bundled_scenarios_validate() {
    let files = all_bundled();
    for name in [
        "figure-3.toml",
        "figure-4.toml",
        "mpt-chain.toml",
        "downgrade.toml",
        "override.toml",
        "project-key-override.toml",
        "approvals.toml",
    ] {
        assert!(
            files.contains(&bundled(name)),
            "scenarios/{name} is missing"
        );
    }
    for f in files {
        let out = otasim([OsStr::new("validate"), f.as_os_str()]);
        assert!(
            out.status.success(),
            "validate {} failed\n{}",
            f.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    }
}

#[test]
fn figure_3_matrix_r13_r15_r18_r24() {
    check_matrix(&matrix_ok(&bundled("figure-3.toml"), "0"), FIG3_MATRIX);
}

#[test]
fn figure_3_resolve_every_device() {
    check_resolve(
        &resolve_ok(&bundled("figure-3.toml"), "0"),
        &figure_fleet_resolve(|_| false),
    );
}

#[test]
fn figure_4_tick_0_is_figure_3() {
    check_matrix(&matrix_ok(&bundled("figure-4.toml"), "0"), FIG3_MATRIX);
    // 23 ticks later nothing has happened yet.
    check_matrix(&matrix_ok(&bundled("figure-4.toml"), "23"), FIG3_MATRIX);
}

#[test]
fn figure_4_matrix_r19_staged_rollout_counts_whole_cohort() {
    // round_half_up(8.63 * 927 / 100) = 80 = the devices already marked staged; had the
    // implementation counted only the 738 devices on 2.1.0 it would stage 64.
    let expected = "
        default,0.9.0,2.0.0,full,21,2.1.0
        default,1.1.0,2.0.0,full,36,2.1.0
        default,2.0.0,2.1.0,delta,132,2.1.0
        default,2.1.0,2.1.0,none,658,2.1.0
        default,2.1.0,2.2.0,delta,80,2.2.0
    ";
    for at in ["24", "24h", "1d", "47"] {
        check_matrix(&matrix_ok(&bundled("figure-4.toml"), at), expected);
    }
}

#[test]
fn figure_4_resolve_r11_only_staged_devices_get_the_staged_delta() {
    // SN-0190..SN-0269 are the 80 devices marked staged.
    let rows = figure_fleet_resolve(|n| (190..=269).contains(&n));
    check_resolve(&resolve_ok(&bundled("figure-4.toml"), "24"), &rows);
}

#[test]
fn figure_4_r19_grow_to_100_then_shrink_to_0() {
    check_matrix(
        &matrix_ok(&bundled("figure-4.toml"), "48"),
        "
        default,0.9.0,2.0.0,full,21,2.2.0
        default,1.1.0,2.0.0,full,36,2.2.0
        default,2.0.0,2.1.0,delta,132,2.2.0
        default,2.1.0,2.2.0,delta,738,2.2.0
        ",
    );
    check_matrix(&matrix_ok(&bundled("figure-4.toml"), "72"), FIG3_MATRIX);
    check_matrix(&matrix_ok(&bundled("figure-4.toml"), "3d"), FIG3_MATRIX);
}

const MPT_AT_0: &str = "
    default,0.8.0,1.5.0,must_pass_through,2,3.0.0
    default,0.9.0,2.0.0,delta,3,3.0.0
    default,1.0.0,1.5.0,must_pass_through,4,3.0.0
    default,1.0.0,2.0.0,must_pass_through,1,3.0.0
    default,1.5.0,2.0.0,must_pass_through,5,3.0.0
    default,1.7.0,2.0.0,must_pass_through,2,3.0.0
    default,2.0.0,3.0.0,full,6,3.0.0
    default,2.5.0,3.0.0,full,1,3.0.0
    default,3.0.0-rc.1,3.0.0,full,1,3.0.0
    default,3.0.0,3.0.0,none,7,3.0.0
";

#[test]
fn mpt_chain_matrix_r14_lowest_mpt_above_current() {
    check_matrix(&matrix_ok(&bundled("mpt-chain.toml"), "0"), MPT_AT_0);
    check_matrix(&matrix_ok(&bundled("mpt-chain.toml"), "9"), MPT_AT_0);
}

#[test]
fn mpt_chain_matrix_after_pull_r14() {
    check_matrix(
        &matrix_ok(&bundled("mpt-chain.toml"), "10"),
        "
        default,0.8.0,1.5.0,must_pass_through,2,3.0.0
        default,0.9.0,2.0.0,delta,3,3.0.0
        default,1.0.0,1.5.0,must_pass_through,4,3.0.0
        default,1.0.0,3.0.0,full,1,3.0.0
        default,1.5.0,3.0.0,full,5,3.0.0
        default,1.7.0,3.0.0,full,2,3.0.0
        default,2.0.0,3.0.0,full,6,3.0.0
        default,2.5.0,3.0.0,full,1,3.0.0
        default,3.0.0-rc.1,3.0.0,full,1,3.0.0
        default,3.0.0,3.0.0,none,7,3.0.0
        ",
    );
}

#[test]
fn mpt_chain_matrix_after_new_mpt_r14() {
    check_matrix(
        &matrix_ok(&bundled("mpt-chain.toml"), "20"),
        "
        default,0.8.0,1.5.0,must_pass_through,2,3.0.0
        default,0.9.0,2.0.0,delta,3,3.0.0
        default,1.0.0,1.5.0,must_pass_through,4,3.0.0
        default,1.0.0,2.2.0,must_pass_through,1,3.0.0
        default,1.5.0,2.2.0,must_pass_through,5,3.0.0
        default,1.7.0,2.2.0,must_pass_through,2,3.0.0
        default,2.0.0,2.2.0,must_pass_through,6,3.0.0
        default,2.5.0,3.0.0,full,1,3.0.0
        default,3.0.0-rc.1,3.0.0,full,1,3.0.0
        default,3.0.0,3.0.0,none,7,3.0.0
        ",
    );
}

#[test]
fn mpt_chain_resolve_r14() {
    // (software version, hardware, count, rule/release/target/bytes)
    let groups = [
        ("0.8.0", 2, "must_pass_through,1.5.0,1.5.0,1500"),
        ("0.9.0", 3, "delta,0.9.0->2.0.0,2.0.0,900"),
        ("1.0.0", 4, "must_pass_through,1.5.0,1.5.0,1500"),
        ("1.0.0", 1, "must_pass_through,2.0.0,2.0.0,2001"),
        ("1.5.0", 5, "must_pass_through,2.0.0,2.0.0,2000"),
        ("1.7.0", 2, "must_pass_through,2.0.0,2.0.0,2000"),
        ("2.0.0", 6, "full,3.0.0,3.0.0,3000"),
        ("2.5.0", 1, "full,3.0.0,3.0.0,3000"),
        ("3.0.0-rc.1", 1, "full,3.0.0,3.0.0,3000"),
        ("3.0.0", 7, "none,,,"),
    ];
    let mut rows = String::new();
    let mut n = 0;
    for (ver, count, tail) in groups {
        for _ in 0..count {
            n += 1;
            rows.push_str(&format!("M-{n:02},default,default,{ver},{tail}\n"));
        }
    }
    check_resolve(&resolve_ok(&bundled("mpt-chain.toml"), "0"), &rows);
}

#[test]
fn downgrade_matrix_r16_r17() {
    let p = bundled("downgrade.toml");
    check_matrix(
        &matrix_ok(&p, "0"),
        "
        default,1.0.0,1.0.1,full,2,1.0.1
        default,1.0.1,1.0.1,none,6,1.0.1
        ",
    );
    // R16: pulling 1.0.1 does not hand 1.0.0 to the devices above it.
    check_matrix(
        &matrix_ok(&p, "10"),
        "
        default,1.0.0,1.0.0,none,2,1.0.0
        default,1.0.1,1.0.1,none,6,1.0.1
        ",
    );
    check_matrix(
        &matrix_ok(&p, "20"),
        "
        default,1.0.0,1.0.0,none,1,1.0.0
        default,1.0.1,1.0.1,none,2,1.0.1
        rollback,1.0.0,1.0.0,none,1,1.0.0
        rollback,1.0.1,1.0.1,none,4,1.0.1
        ",
    );
    check_matrix(
        &matrix_ok(&p, "30"),
        "
        default,1.0.0,1.0.0,none,1,1.0.0
        default,1.0.1,1.0.1,none,2,1.0.1
        rollback,1.0.0,1.0.0,none,1,1.0.0
        rollback,1.0.1,1.0.0,full,4,1.0.0
        ",
    );
}

#[test]
fn r17_downgrade_resolve_after_disabling_version_checking() {
    check_resolve(
        &resolve_ok(&bundled("downgrade.toml"), "30"),
        "
        D-1,rollback,rollback,1.0.1,full,1.0.0,1.0.0,500000
        D-2,rollback,rollback,1.0.1,full,1.0.0,1.0.0,500000
        D-3,rollback,rollback,1.0.1,full,1.0.0,1.0.0,500000
        D-4,rollback,rollback,1.0.1,full,1.0.0,1.0.0,500000
        D-5,default,default,1.0.1,none,,,
        D-6,default,default,1.0.1,none,,,
        D-7,rollback,rollback,1.0.0,none,,,
        D-8,default,default,1.0.0,none,,,
        ",
    );
}

#[test]
fn r16_pull_never_downgrades_resolve() {
    check_resolve(
        &resolve_ok(&bundled("downgrade.toml"), "10"),
        "
        D-1,default,default,1.0.1,none,,,
        D-2,default,default,1.0.1,none,,,
        D-3,default,default,1.0.1,none,,,
        D-4,default,default,1.0.1,none,,,
        D-5,default,default,1.0.1,none,,,
        D-6,default,default,1.0.1,none,,,
        D-7,default,default,1.0.0,none,,,
        D-8,default,default,1.0.0,none,,,
        ",
    );
}

#[test]
fn override_matrix_r12_r23_overrides_reflected_exactly() {
    let p = bundled("override.toml");
    check_matrix(
        &matrix_ok(&p, "0"),
        "
        default,1.0.0,1.0.0,none,1,1.0.0
        default,1.0.0,1.5.0,must_pass_through,1,2.1.0
        default,1.0.0,2.0.0,override,1,2.0.0
        default,1.2.0,1.2.0,none,1,1.2.0
        default,2.0.0,1.0.0,override,1,1.0.0
        default,2.0.0,2.1.0,delta,3,2.1.0
        ",
    );
    check_matrix(
        &matrix_ok(&p, "5"),
        "
        default,1.0.0,1.2.0,override,1,1.2.0
        default,1.0.0,1.5.0,must_pass_through,1,2.0.0
        default,1.0.0,2.0.0,override,1,2.0.0
        default,1.2.0,1.2.0,none,1,1.2.0
        default,2.0.0,1.0.0,override,1,1.0.0
        default,2.0.0,2.1.0,delta,3,2.1.0
        ",
    );
}

#[test]
fn r12_override_alone_decides() {
    let p = bundled("override.toml");
    check_resolve(
        &resolve_ok(&p, "0"),
        "
        O-1,default,default,2.0.0,override,1.0.0,1.0.0,100000
        O-2,default,default,1.0.0,override,2.0.0,2.0.0,200000
        O-3,default,default,1.0.0,none,,,
        O-4,default,default,1.2.0,none,,,
        N-1,default,default,1.0.0,must_pass_through,1.5.0,1.5.0,150000
        N-2,default,default,2.0.0,delta,2.0.0->2.1.0,2.1.0,21000
        N-3,default,default,2.0.0,delta,2.0.0->2.1.0,2.1.0,21000
        N-4,default,default,2.0.0,delta,2.0.0->2.1.0,2.1.0,21000
        ",
    );
}

#[test]
fn r12_set_and_clear_override_events() {
    let p = bundled("override.toml");
    check_resolve(
        &resolve_ok(&p, "5"),
        "
        O-1,default,default,2.0.0,override,1.0.0,1.0.0,100000
        O-2,default,default,1.0.0,override,2.0.0,2.0.0,200000
        O-3,default,default,1.0.0,must_pass_through,1.5.0,1.5.0,150001
        O-4,default,default,1.2.0,none,,,
        N-1,default,default,1.0.0,override,1.2.0,1.2.0,120000
        N-2,default,default,2.0.0,delta,2.0.0->2.1.0,2.1.0,21000
        N-3,default,default,2.0.0,delta,2.0.0->2.1.0,2.1.0,21000
        N-4,default,default,2.0.0,delta,2.0.0->2.1.0,2.1.0,21000
        ",
    );
}

#[test]
fn project_key_override_matrix_r9_groups_by_stored_cohort() {
    let p = bundled("project-key-override.toml");
    check_matrix(
        &matrix_ok(&p, "0"),
        "
        beta,1.0.0,2.0.0,full,1,2.0.0
        beta,1.0.0,2.5.0,full,1,2.5.0
        beta,1.0.0,3.0.0,full,2,3.0.0
        stable,1.0.0,2.0.0,full,3,2.0.0
        stable,1.0.0,2.5.0,full,1,2.5.0
        ",
    );
    check_matrix(
        &matrix_ok(&p, "10"),
        "
        beta,1.0.0,2.0.0,full,1,2.0.0
        beta,1.0.0,3.0.0,full,2,3.0.0
        stable,1.0.0,2.0.0,full,4,2.0.0
        stable,1.0.0,2.5.0,full,1,2.5.0
        ",
    );
    check_matrix(
        &matrix_ok(&p, "20"),
        "
        beta,1.0.0,3.0.0,full,3,3.0.0
        stable,1.0.0,2.0.0,full,3,2.0.0
        stable,1.0.0,2.5.0,full,1,2.5.0
        stable,1.0.0,3.0.0,full,1,3.0.0
        ",
    );
}

/// The terminal grid says under a cohort's heading how many of its devices take their
/// updates from another cohort through a project key: devices, not device classes (the
/// two keyed beta devices here are alike in everything).
#[test]
fn r9_matrix_grid_notes_devices_deciding_in_another_cohort() {
    let text = [
        "[[cohorts]]\nname = \"beta\"\n".to_string(),
        "[[cohorts]]\nname = \"stable\"\n".to_string(),
        "[[project_keys]]\nname = \"k\"\nota_cohort_override = \"stable\"\n".to_string(),
        full("1.0.0", "\"evt\" = 10"),
        dev_with(
            "a",
            "evt",
            "1.0.0",
            "cohort = \"beta\"; project_key = \"k\"",
        ),
        dev_with(
            "b",
            "evt",
            "1.0.0",
            "cohort = \"beta\"; project_key = \"k\"",
        ),
        dev_with("c", "evt", "1.0.0", "cohort = \"beta\""),
        dev_with("d", "evt", "1.0.0", "cohort = \"stable\""),
    ]
    .concat();
    let sc = Scenario::new("r9-grid.toml", &text);
    let out = stdout_ok(&otasim([
        "matrix",
        sc.path.to_str().unwrap(),
        "--at",
        "0",
        "--format",
        "table",
    ]));
    let beta = out
        .split("\ncohort \"stable\":")
        .next()
        .expect("the beta section comes first");
    assert!(
        beta.contains(
            "project key override (R9): 2 devices take their updates from cohort \"stable\""
        ),
        "{out}"
    );
    assert_eq!(out.matches("project key override (R9)").count(), 1, "{out}");
}

#[test]
fn r9_r10_project_key_override_resolve() {
    let p = bundled("project-key-override.toml");
    check_resolve(
        &resolve_ok(&p, "0"),
        "
        B-1,beta,beta,1.0.0,full,3.0.0,3.0.0,30000
        B-2,beta,stable,1.0.0,full,2.5.0,2.5.0,25000
        B-3,beta,stable,1.0.0,full,2.0.0,2.0.0,20000
        B-4,beta,beta,1.0.0,full,3.0.0,3.0.0,30000
        S-1,stable,stable,1.0.0,full,2.5.0,2.5.0,25000
        S-2,stable,stable,1.0.0,full,2.0.0,2.0.0,20000
        S-3,stable,stable,1.0.0,full,2.0.0,2.0.0,20000
        S-4,stable,stable,1.0.0,full,2.0.0,2.0.0,20000
        ",
    );
}

#[test]
fn r10_move_clears_staged_flag() {
    let p = bundled("project-key-override.toml");
    check_resolve(
        &resolve_ok(&p, "10"),
        "
        B-1,beta,beta,1.0.0,full,3.0.0,3.0.0,30000
        B-2,stable,stable,1.0.0,full,2.0.0,2.0.0,20000
        B-3,beta,stable,1.0.0,full,2.0.0,2.0.0,20000
        B-4,beta,beta,1.0.0,full,3.0.0,3.0.0,30000
        S-1,stable,stable,1.0.0,full,2.5.0,2.5.0,25000
        S-2,stable,stable,1.0.0,full,2.0.0,2.0.0,20000
        S-3,stable,stable,1.0.0,full,2.0.0,2.0.0,20000
        S-4,stable,stable,1.0.0,full,2.0.0,2.0.0,20000
        ",
    );
}

#[test]
fn r9_set_project_key_changes_effective_cohort() {
    let p = bundled("project-key-override.toml");
    check_resolve(
        &resolve_ok(&p, "20"),
        "
        B-1,beta,beta,1.0.0,full,3.0.0,3.0.0,30000
        B-2,stable,beta,1.0.0,full,3.0.0,3.0.0,30000
        B-3,beta,beta,1.0.0,full,3.0.0,3.0.0,30000
        B-4,beta,beta,1.0.0,full,3.0.0,3.0.0,30000
        S-1,stable,stable,1.0.0,full,2.5.0,2.5.0,25000
        S-2,stable,stable,1.0.0,full,2.0.0,2.0.0,20000
        S-3,stable,stable,1.0.0,full,2.0.0,2.0.0,20000
        S-4,stable,stable,1.0.0,full,2.0.0,2.0.0,20000
        ",
    );
}

#[test]
fn approvals_matrix_r25_r26() {
    let p = bundled("approvals.toml");
    check_matrix(
        &matrix_ok(&p, "0"),
        "
        dev,1.0.0,2.0.0,full,2,2.0.0
        lab,1.0.0,1.0.0,none,3,1.0.0
        prod,1.0.0,1.0.0,none,4,1.0.0
        ",
    );
    check_matrix(
        &matrix_ok(&p, "6"),
        "
        dev,1.0.0,2.0.0,full,2,2.0.0
        lab,1.0.0,2.0.0,full,3,2.0.0
        prod,1.0.0,1.0.0,none,4,1.0.0
        ",
    );
    check_matrix(
        &matrix_ok(&p, "11"),
        "
        dev,1.0.0,2.0.0,full,2,2.0.0
        lab,1.0.0,2.0.0,full,3,2.0.0
        prod,1.0.0,1.0.0,none,4,1.0.0
        ",
    );
    check_matrix(
        &matrix_ok(&p, "12"),
        "
        dev,1.0.0,2.0.0,full,2,2.0.0
        lab,1.0.0,2.0.0,full,3,2.0.0
        prod,1.0.0,2.0.0,full,4,2.0.0
        ",
    );
}

#[test]
fn r26_pending_request_has_no_effect_until_approved() {
    check_resolve(
        &resolve_ok(&bundled("approvals.toml"), "0"),
        "
        P-1,prod,prod,1.0.0,none,,,
        P-2,prod,prod,1.0.0,none,,,
        P-3,prod,prod,1.0.0,none,,,
        P-4,prod,prod,1.0.0,none,,,
        L-1,lab,lab,1.0.0,none,,,
        L-2,lab,lab,1.0.0,none,,,
        L-3,lab,lab,1.0.0,none,,,
        V-1,dev,dev,1.0.0,full,2.0.0,2.0.0,200
        V-2,dev,dev,1.0.0,full,2.0.0,2.0.0,200
        ",
    );
}

#[test]
fn fleet_import_matrix_from_a_csv_table_r12_r19() {
    // scenarios/fleet-import.toml imports scenarios/fleet-import.csv (every optional
    // column used); its comments explain each row.
    check_matrix(
        &matrix_ok(&bundled("fleet-import.toml"), "0"),
        "
        beta,1.0.0,1.1.0,must_pass_through,3,2.1.0
        beta,2.0.0,2.1.0,delta,4,2.1.0
        beta,2.0.0,2.1.0,full,1,2.1.0
        beta,2.1.0,2.1.0,none,2,2.1.0
        default,1.0.0,1.0.0,none,3,1.0.0
        default,2.0.0,2.0.0,none,1,2.0.0
        default,2.1.0,1.0.0,override,1,1.0.0
        stable,1.0.0,1.1.0,must_pass_through,4,2.0.0
        stable,2.0.0,2.0.0,none,10,2.0.0
        stable,2.0.0,2.1.0,delta,1,2.1.0
        stable,2.0.0,2.1.0,full,5,2.1.0
        ",
    );
}
