//! Staging: staged counts (R19), one staged set per cohort (R20), manual and bulk staging
//! (R21) and reproducible randomness (R22). Which devices a random draw picks is the
//! implementation's business, so these tests assert counts and set relations, or make the
//! draw unnecessary by pre-staging exactly the target count.

use std::collections::BTreeSet;

use super::*;

/// `n` devices `{prefix}{i}` on `ver`, hardware evt, with extra lines.
fn devs(prefix: &str, n: usize, ver: &str, extra: &str) -> String {
    (0..n)
        .map(|i| dev_with(&format!("{prefix}{i:02}"), "evt", ver, extra))
        .collect()
}

fn set(v: Vec<String>) -> BTreeSet<String> {
    v.into_iter().collect()
}

#[test]
fn r19_staged_count_round_half_up() {
    let text = [
        "seed = 42\n".to_string(),
        full("2.0.0", "\"evt\" = 20"),
        activate_staged("0", "2.0.0", "default", "25"), // 2.5  -> 3
        event(
            "1",
            "set_rollout",
            "release = \"2.0.0\"; cohort = \"default\"; rollout_percent = 15",
        ), // 1.5 -> 2
        event(
            "2",
            "set_rollout",
            "release = \"2.0.0\"; cohort = \"default\"; rollout_percent = 5",
        ), // 0.5 -> 1
        event(
            "3",
            "set_rollout",
            "release = \"2.0.0\"; cohort = \"default\"; rollout_percent = 4.99",
        ), // 0.499 -> 0
        event(
            "4",
            "set_rollout",
            "release = \"2.0.0\"; cohort = \"default\"; rollout_percent = 100",
        ), // 10
        event(
            "5",
            "set_rollout",
            "release = \"2.0.0\"; cohort = \"default\"; rollout_percent = 14.5",
        ), // 1.45 -> 1
        event(
            "6",
            "set_rollout",
            "release = \"2.0.0\"; cohort = \"default\"; rollout_percent = 45",
        ), // 4.5 -> 5
        event(
            "7",
            "set_rollout",
            "release = \"2.0.0\"; cohort = \"default\"; rollout_percent = 70",
        ), // 7
        devs("D", 10, "1.0.0", ""),
    ]
    .concat();
    let sc = Scenario::new("r19.toml", &text);
    let expected = [3, 2, 1, 0, 10, 1, 5, 7];
    let mut staged = Vec::new();
    for (t, want) in expected.iter().enumerate() {
        let csv = sc.resolve(&t.to_string());
        let ids = set(ids_with(&csv, "full", "2.0.0"));
        assert_eq!(ids.len(), *want, "staged devices at tick {t}\n{csv}");
        assert_eq!(
            count_rule(&csv, "none"),
            10 - want,
            "unstaged devices at tick {t}\n{csv}"
        );
        staged.push(ids);
    }
    // Shrinking unstages some of the staged devices; growing keeps every staged device.
    assert!(
        staged[1].is_subset(&staged[0]),
        "shrink 3 -> 2 must keep a subset"
    );
    assert!(
        staged[2].is_subset(&staged[1]),
        "shrink 2 -> 1 must keep a subset"
    );
    assert!(staged[5].is_subset(&staged[4]));
    assert!(
        staged[5].is_subset(&staged[6]),
        "grow 1 -> 5 must keep the staged device"
    );
    assert!(
        staged[6].is_subset(&staged[7]),
        "grow 5 -> 7 must keep the staged devices"
    );
}

#[test]
fn r19_staged_count_is_exact_decimal() {
    // 58 % of 25 devices is exactly 14.5 -> 15. (In binary floating point,
    // 58 / 100 * 25 = 14.499999999999998 rounds to 14.)
    let text = [
        "seed = 4\n".to_string(),
        full("2.0.0", "\"evt\" = 20"),
        activate_staged("0", "2.0.0", "default", "58"),
        devs("D", 25, "1.0.0", ""),
    ]
    .concat();
    let sc = Scenario::new("r19-exact.toml", &text);
    assert_eq!(count_rule(&sc.resolve("0"), "full"), 15);
}

#[test]
fn r19_count_not_adjusted_when_devices_join() {
    let text = [
        "seed = 3\n[[cohorts]]\nname = \"beta\"\n".to_string(),
        full("2.0.0", "\"evt\" = 20"),
        activate_staged("0", "2.0.0", "beta", "30"), // 30 % of 10 = 3
        event(
            "1",
            "move",
            &format!(
                "devices = [{}]; cohort = \"beta\"",
                (0..10)
                    .map(|i| format!("\"D{i:02}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        event(
            "2",
            "set_rollout",
            "release = \"2.0.0\"; cohort = \"beta\"; rollout_percent = 30",
        ), // 30 % of 20 = 6
        devs("B", 10, "1.0.0", "cohort = \"beta\""),
        devs("D", 10, "1.0.0", ""),
    ]
    .concat();
    let sc = Scenario::new("r19-join.toml", &text);
    let t0 = sc.resolve("0");
    assert_eq!(count_rule(&t0, "full"), 3, "{t0}");
    let t1 = sc.resolve("1");
    assert_eq!(
        count_rule(&t1, "full"),
        3,
        "joining devices do not change the count\n{t1}"
    );
    assert_eq!(
        set(ids_with(&t0, "full", "2.0.0")),
        set(ids_with(&t1, "full", "2.0.0"))
    );
    let t2 = sc.resolve("2");
    assert_eq!(
        count_rule(&t2, "full"),
        6,
        "N is counted at the moment of the change\n{t2}"
    );
    assert!(set(ids_with(&t1, "full", "2.0.0")).is_subset(&set(ids_with(&t2, "full", "2.0.0"))));
    // Every row is in beta from tick 1 on.
    assert!(resolve_rows(&t2).iter().all(|r| r[1] == "beta"), "{t2}");
}

#[test]
fn r19_growing_keeps_devices_already_staged() {
    let text = [
        "seed = 8\n".to_string(),
        full("2.0.0", "\"evt\" = 20"),
        activate_staged("0", "2.0.0", "default", "50"),
        devs("A", 3, "1.0.0", ""),
        dev_with("S1", "evt", "1.0.0", "staged = true"),
        devs("B", 3, "1.0.0", ""),
        dev_with("S2", "evt", "1.0.0", "staged = true"),
        devs("C", 2, "1.0.0", ""),
    ]
    .concat();
    let sc = Scenario::new("r19-keep.toml", &text);
    let csv = sc.resolve("0");
    let ids = set(ids_with(&csv, "full", "2.0.0"));
    assert_eq!(ids.len(), 5, "{csv}");
    assert!(
        ids.contains("S1") && ids.contains("S2"),
        "pre-staged devices stay staged\n{csv}"
    );
}

#[test]
fn r20_one_staged_set_shared_by_all_staged_activations() {
    let text = [
        "seed = 5\n".to_string(),
        full("2.0.0", "\"evt\" = 20"),
        full("3.0.0", "\"evt\" = 30"),
        activate_staged("0", "2.0.0", "default", "100"), // all 10 staged
        activate_staged("1", "3.0.0", "default", "30"),  // the shared set shrinks to 3
        event(
            "2",
            "set_rollout",
            "release = \"2.0.0\"; cohort = \"default\"; rollout_percent = 50",
        ), // grows to 5
        devs("D", 10, "1.0.0", ""),
    ]
    .concat();
    let sc = Scenario::new("r20.toml", &text);
    let t0 = sc.resolve("0");
    assert_eq!(ids_with(&t0, "full", "2.0.0").len(), 10, "{t0}");
    // Had each activation its own set, the 7 devices outside 3.0.0's set would still get
    // 2.0.0. With one shared set they are unstaged for both releases.
    let t1 = sc.resolve("1");
    assert_eq!(ids_with(&t1, "full", "3.0.0").len(), 3, "{t1}");
    assert_eq!(ids_with(&t1, "full", "2.0.0").len(), 0, "{t1}");
    assert_eq!(count_rule(&t1, "none"), 7, "{t1}");
    let t2 = sc.resolve("2");
    assert_eq!(ids_with(&t2, "full", "3.0.0").len(), 5, "{t2}");
    assert_eq!(count_rule(&t2, "none"), 5, "{t2}");
    assert!(set(ids_with(&t1, "full", "3.0.0")).is_subset(&set(ids_with(&t2, "full", "3.0.0"))));
}

fn r21_scenario() -> Scenario {
    let stage = |at: &str, fields: &str| event(at, "stage", fields);
    let unstage = |at: &str, fields: &str| event(at, "unstage", fields);
    let text = [
        "seed = 21\n[[cohorts]]\nname = \"field\"\n[[cohorts]]\nname = \"other\"\n".to_string(),
        full("2.0.0", "\"evt\" = 20, \"dvt\" = 21"),
        activate_staged("0", "2.0.0", "field", "0"),
        stage("1", "cohort = \"field\"; order = \"last_seen_desc\"; limit = 2"),
        stage("2", "devices = [\"F1\"]"),
        unstage("3", "devices = [\"F2\"]"),
        stage(
            "4",
            "cohort = \"field\"; hardware_version = \"dvt\"; staged = false; limit = 1; order = \"last_seen_asc\"",
        ),
        unstage("5", "cohort = \"field\"; software_version = \"1.0.0\"; hardware_version = \"evt\""),
        stage("6", "cohort = \"field\"; staged = false; limit = 1"),
        dev_with("F1", "evt", "1.0.0", "cohort = \"field\"; last_seen = 1"),
        dev_with("F2", "evt", "1.0.0", "cohort = \"field\"; last_seen = 5"),
        dev_with("F3", "evt", "1.0.0", "cohort = \"field\"; last_seen = 3"),
        dev_with("F4", "dvt", "1.0.0", "cohort = \"field\""),
        dev_with("F5", "dvt", "1.0.0", "cohort = \"field\"; last_seen = 4"),
        dev_with("F6", "dvt", "1.0.0", "cohort = \"field\"; last_seen = 2"),
        // seen most recently of all, but not in `field`: bulk filters use the stored cohort
        dev_with("G1", "evt", "1.0.0", "cohort = \"other\"; last_seen = 10"),
    ]
    .concat();
    Scenario::new("r21.toml", &text)
}

fn r21_expected(staged: &[&str]) -> String {
    let hw = |id: &str| {
        if ["F4", "F5", "F6"].contains(&id) {
            "dvt"
        } else {
            "evt"
        }
    };
    let mut rows = String::new();
    for id in ["F1", "F2", "F3", "F4", "F5", "F6"] {
        let tail = if staged.contains(&id) {
            format!("full,2.0.0,2.0.0,{}", if hw(id) == "dvt" { 21 } else { 20 })
        } else {
            "none,,,".to_string()
        };
        rows.push_str(&format!("{id},field,field,1.0.0,{tail}\n"));
    }
    rows.push_str("G1,other,other,1.0.0,none,,,\n");
    rows
}

#[test]
fn r21_stage_by_id_and_in_bulk_with_filter_limit_and_order() {
    let sc = r21_scenario();
    let steps: [&[&str]; 7] = [
        &[],                 // 0 % rollout: nobody staged
        &["F2", "F5"],       // two most recently seen in field
        &["F1", "F2", "F5"], // + F1 by id
        &["F1", "F5"],       // - F2 by id
        &["F1", "F5", "F6"], // least recently seen unstaged dvt (F4, never seen, sorts last)
        &["F5", "F6"],       // unstage evt devices on 1.0.0
        &["F1", "F5", "F6"], // first unstaged in file order
    ];
    for (t, staged) in steps.iter().enumerate() {
        check_resolve(&sc.resolve(&t.to_string()), &r21_expected(staged));
    }
}

fn r22_text(seed: u64, extra: &str) -> String {
    [
        format!("seed = {seed}\n"),
        full("2.0.0", "\"evt\" = 20"),
        activate_staged("0", "2.0.0", "default", "50"),
        devs("D", 100, "1.0.0", ""),
        extra.to_string(),
    ]
    .concat()
}

#[test]
fn r22_same_scenario_and_seed_give_the_same_output() {
    let sc = Scenario::new("r22.toml", &r22_text(7, ""));
    let a = sc.resolve("0");
    let b = sc.resolve("0");
    assert_eq!(count_rule(&a, "full"), 50);
    check_csv(&b, &a);
}

#[test]
fn r22_thread_count_does_not_change_the_output() {
    let sc = Scenario::new("r22-threads.toml", &r22_text(7, ""));
    let args = ["resolve", sc.p(), "--at", "0", "--format", "csv"];
    let one = stdout_ok(&otasim_env(&args, &[("RAYON_NUM_THREADS", "1")]));
    let four = stdout_ok(&otasim_env(&args, &[("RAYON_NUM_THREADS", "4")]));
    check_csv(&four, &one);
}

#[test]
fn r22_different_seeds_may_differ() {
    let outs: Vec<BTreeSet<String>> = (7..12)
        .map(|seed| {
            let sc = Scenario::new("r22-seed.toml", &r22_text(seed, ""));
            set(ids_with(&sc.resolve("0"), "full", "2.0.0"))
        })
        .collect();
    assert!(outs.iter().all(|s| s.len() == 50));
    // Five independent draws of 50 of 100 devices being identical would mean the seed is
    // ignored.
    assert!(
        outs.windows(2).any(|w| w[0] != w[1]),
        "five seeds drew the same staged set"
    );
}

#[test]
fn r22_a_later_event_does_not_change_earlier_draws() {
    let base = Scenario::new("r22-base.toml", &r22_text(7, ""));
    let later = event(
        "5",
        "set_rollout",
        "release = \"2.0.0\"; cohort = \"default\"; rollout_percent = 80",
    );
    let extended = Scenario::new("r22-extended.toml", &r22_text(7, &later));
    check_csv(&extended.resolve("0"), &base.resolve("0"));
    assert_eq!(count_rule(&extended.resolve("5"), "full"), 80);
}

#[test]
fn r19_activate_again_replaces_the_mode() {
    // semantics.md: `activate` on an active activation replaces its mode (normal, or
    // staged with the new percentage, which resizes the staged set).
    let text = [
        "seed = 13\n".to_string(),
        full("2.0.0", "\"evt\" = 20"),
        activate_staged("0", "2.0.0", "default", "0"),
        activate("1", "2.0.0", "default"),
        activate_staged("2", "2.0.0", "default", "30"),
        devs("D", 10, "1.0.0", ""),
    ]
    .concat();
    let sc = Scenario::new("r19-mode.toml", &text);
    assert_eq!(count_rule(&sc.resolve("0"), "full"), 0);
    assert_eq!(count_rule(&sc.resolve("1"), "full"), 10);
    assert_eq!(count_rule(&sc.resolve("2"), "full"), 3);
}

#[test]
fn r19_rollout_percent_out_of_range_is_an_input_error() {
    for (file, p, message) in [("r19-150.toml", "150", "error: DIR/r19-150.toml:11: event 0 (activate): rollout percent 150 is not a number from 0 to 100\n"), ("r19-neg.toml", "-5", "error: DIR/r19-neg.toml:11: event 0 (activate): rollout percent -5 is not a number from 0 to 100\n")] {
        let text = [
            full("2.0.0", "\"evt\" = 20"),
            activate_staged("0", "2.0.0", "default", p),
            devs("D", 2, "1.0.0", ""),
        ]
        .concat();
        let sc = Scenario::new(file, &text);
        assert_input_error_is(&sc.validate(), &sc, message);
    }
}

#[test]
fn r19_set_rollout_needs_an_active_staged_rollout() {
    // semantics.md: set_rollout needs an active staged-rollout activation.
    let text = [
        full("2.0.0", "\"evt\" = 20"),
        activate("0", "2.0.0", "default"),
        event(
            "1",
            "set_rollout",
            "release = \"2.0.0\"; cohort = \"default\"; rollout_percent = 10",
        ),
        devs("D", 2, "1.0.0", ""),
    ]
    .concat();
    let sc = Scenario::new("r19-normal.toml", &text);
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r19-normal.toml:12: event 1 (set_rollout): release 2.0.0 is active in cohort \"default\" as a normal activation, not a staged rollout\n");
    let text = [
        full("2.0.0", "\"evt\" = 20"),
        event(
            "1",
            "set_rollout",
            "release = \"2.0.0\"; cohort = \"default\"; rollout_percent = 10",
        ),
        devs("D", 2, "1.0.0", ""),
    ]
    .concat();
    let sc = Scenario::new("r19-inactive.toml", &text);
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r19-inactive.toml:6: event 0 (set_rollout): release 2.0.0 has no active activation in cohort \"default\"\n");
}

#[test]
fn r21_bulk_random_order_stages_exactly_the_limit() {
    let text = [
        "seed = 17\n".to_string(),
        full("2.0.0", "\"evt\" = 20"),
        activate_staged("0", "2.0.0", "default", "0"),
        event(
            "1",
            "stage",
            "cohort = \"default\"; order = \"random\"; limit = 3",
        ),
        devs("D", 10, "1.0.0", ""),
    ]
    .concat();
    let sc = Scenario::new("r21-random.toml", &text);
    let a = sc.resolve("1");
    assert_eq!(count_rule(&a, "full"), 3, "{a}");
    check_csv(&sc.resolve("1"), &a); // R22
}

#[test]
fn r21_unknown_order_is_an_input_error() {
    let text = [
        full("2.0.0", "\"evt\" = 20"),
        event(
            "1",
            "stage",
            "cohort = \"default\"; order = \"sideways\"; limit = 3",
        ),
        devs("D", 2, "1.0.0", ""),
    ]
    .concat();
    let sc = Scenario::new("r21-order.toml", &text);
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r21-order.toml:10: event 0 (stage): unknown order \"sideways\" (orders: file, last_seen_desc, last_seen_asc, random)\n");
}

#[test]
fn r20_staged_sets_are_per_cohort() {
    let text = [
        "seed = 19\n[[cohorts]]\nname = \"beta\"\n".to_string(),
        full("2.0.0", "\"evt\" = 20"),
        activate_staged("0", "2.0.0", "default", "100"),
        activate_staged("1", "2.0.0", "beta", "0"),
        devs("D", 4, "1.0.0", ""),
        devs("B", 4, "1.0.0", "cohort = \"beta\"; staged = true"),
    ]
    .concat();
    let sc = Scenario::new("r20-cohorts.toml", &text);
    let t0 = sc.resolve("0");
    // beta's devices were marked staged and beta has no staged rollout yet: they see nothing.
    assert_eq!(
        ids_with(&t0, "full", "2.0.0"),
        ["D00", "D01", "D02", "D03"],
        "{t0}"
    );
    let t1 = sc.resolve("1");
    // beta's rollout at 0 % unstages beta's devices only; default's set is untouched.
    assert_eq!(
        ids_with(&t1, "full", "2.0.0"),
        ["D00", "D01", "D02", "D03"],
        "{t1}"
    );
}
