//! Input errors: malformed files, unknown keys, catalog validation (R4–R7) and unknown
//! references (R8). Each must exit non-zero without a panic, print nothing on stdout, and
//! say on stderr (starting with `error:`) what is wrong and where (file and line, or
//! event index). Every message is pinned whole ([`assert_input_error_is`]), so a change
//! of place or wording fails here and is reviewed, not only a missing word.

use super::*;

fn base() -> String {
    [
        full("1.0.0", "\"evt\" = 10"),
        full("2.0.0", "\"evt\" = 20"),
        dev("d1", "evt", "1.0.0"),
    ]
    .concat()
}

fn with(extra: &[String]) -> String {
    let mut t = base();
    for e in extra {
        t.push_str(e);
    }
    t
}

#[test]
fn malformed_toml_names_file_and_line() {
    let text = "seed = 1\n\n[[releases]]\nversion = \"1.0.0\npayloads = { \"evt\" = 1 }\n";
    let sc = Scenario::new("broken.toml", text);
    assert_input_error_is(
        &sc.validate(),
        &sc,
        "error: DIR/broken.toml:4: invalid basic string\n",
    );
    assert_input_error_is(
        &otasim(["matrix", sc.p(), "--at", "0", "--format", "csv"]),
        &sc,
        "error: DIR/broken.toml:4: invalid basic string\n",
    );
}

#[test]
fn malformed_toml_unclosed_table_header() {
    let text = [base(), "\n[[devices]\nid = \"x\"\n".to_string()].concat();
    let sc = Scenario::new("broken-header.toml", &text);
    assert_input_error_is(
        &sc.validate(),
        &sc,
        "error: DIR/broken-header.toml:15: invalid table header\nexpected `.`, `]]`\n",
    );
}

#[test]
fn wrong_value_type_is_an_input_error() {
    let text = [
        base(),
        "\n[[devices]]\nid = \"d2\"\nhardware_version = \"evt\"\nsoftware_version = 2\n"
            .to_string(),
    ]
    .concat();
    let sc = Scenario::new("wrong-type.toml", &text);
    assert_input_error_is(
        &sc.validate(),
        &sc,
        "error: DIR/wrong-type.toml:18: invalid type: integer `2`, expected a string\n",
    );
}

#[test]
fn unknown_key_names_the_key_and_line() {
    let text = [
        full("1.0.0", "\"evt\" = 10"),
        "colour = \"blue\"\n".to_string(),
        dev("d1", "evt", "1.0.0"),
    ]
    .concat();
    let sc = Scenario::new("unknown-key.toml", &text);
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/unknown-key.toml:5: unknown field `colour`, expected one of `version`, `from`, `to`, `must_pass_through`, `software_type`, `payloads`, `install_failure_probability`, `boot_failure_probability`\n");
}

#[test]
fn unknown_top_level_key_is_an_input_error() {
    let text = ["sede = 7\n".to_string(), base()].concat();
    let sc = Scenario::new("unknown-top.toml", &text);
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/unknown-top.toml:1: unknown field `sede`, expected one of `seed`, `tick`, `duration`, `snapshots`, `bandwidth`, `resolver`, `software_types`, `cohorts`, `project_keys`, `users`, `releases`, `devices`, `fleet`, `behaviour`, `profiles`, `events`, `delta_sizes` (did you mean `seed`?)\n");
}

#[test]
fn unknown_key_in_an_event_is_an_input_error() {
    let sc = Scenario::new(
        "unknown-event-key.toml",
        &with(&[event(
            "0",
            "activate",
            "release = \"2.0.0\"; cohort = \"default\"; rollout = 10",
        )]),
    );
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/unknown-event-key.toml:20: unknown field `rollout`, expected one of `at`, `action`, `release`, `cohort`, `rollout_percent`, `by`, `device`, `devices`, `hardware_version`, `software_version`, `staged`, `limit`, `order`, `disable_version_checking`, `protected`, `approval_team`, `project_key`, `ota_cohort_override`, `software_type`, `ramp`, `gate`, `max_downloads_per_tick` (did you mean `rollout_percent`?)\n");
}

#[test]
fn unknown_event_action_is_an_input_error() {
    let sc = Scenario::new(
        "unknown-action.toml",
        &with(&[event("0", "explode", "cohort = \"default\"")]),
    );
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/unknown-action.toml:17: event 0 (explode): unknown action \"explode\" (actions: activate, set_rollout, pull, delete_release, set_override, clear_override, stage, unstage, move, set_cohort, set_project_key, approve)\n");
}

#[test]
fn bad_event_time_is_an_input_error() {
    let sc = Scenario::new(
        "bad-time.toml",
        &with(&[activate("\"5x\"", "2.0.0", "default")]),
    );
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/bad-time.toml:16: event 0 (activate): at: \"5x\" is not a duration (use a number of ticks, or parts like \"36h\", \"7d\", \"1d12h\" with units s, m, h, d, w)\n");
}

#[test]
fn event_time_not_a_whole_number_of_ticks_is_an_input_error() {
    let sc = Scenario::new(
        "partial-tick.toml",
        &with(&[activate("\"90m\"", "2.0.0", "default")]),
    );
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/partial-tick.toml:16: event 0 (activate): at: \"90m\" is not a whole number of ticks (one tick is 1h)\n");
}

#[test]
fn missing_scenario_file_is_an_error() {
    let sc = Scenario::new("ok.toml", &base());
    let path = sc.dir.path().join("nope.toml");
    let out = otasim([
        "resolve",
        path.to_str().unwrap(),
        "--at",
        "0",
        "--format",
        "csv",
    ]);
    assert_input_error_is(
        &out,
        &sc,
        "error: DIR/nope.toml: cannot read scenario: No such file or directory (os error 2)\n",
    );
}

#[test]
fn bad_at_on_the_command_line_is_an_error() {
    let sc = Scenario::new("ok.toml", &base());
    for (at, message) in [("banana", "error: --at: \"banana\" is not a duration (use a number of ticks, or parts like \"36h\", \"7d\", \"1d12h\" with units s, m, h, d, w)\n"), ("90m", "error: --at: \"90m\" is not a whole number of ticks (one tick is 1h)\n"), ("-3", "error: --at: \"-3\" is not a duration (use a number of ticks, or parts like \"36h\", \"7d\", \"1d12h\" with units s, m, h, d, w)\n")] {
        let out = otasim(["resolve", sc.p(), "--at", at, "--format", "csv"]);
        assert_input_error_is(&out, &sc, message);
    }
}

#[test]
fn r4_duplicate_full_release_version() {
    let text = [base(), full("2.0.0", "\"evt\" = 99")].concat();
    let sc = Scenario::new("r4-full.toml", &text);
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r4-full.toml:15: release 2: full release 2.0.0 is defined twice for software type \"main\"\n");
}

#[test]
fn r4_duplicate_delta_pair() {
    let text = [
        base(),
        delta("1.0.0", "2.0.0", "\"evt\" = 1"),
        delta("1.0.0", "2.0.0", "\"evt\" = 2"),
    ]
    .concat();
    let sc = Scenario::new("r4-delta.toml", &text);
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r4-delta.toml:20: release 3: delta release 1.0.0->2.0.0 is defined twice for software type \"main\"\n");
}

#[test]
fn r4_same_version_in_two_software_types_is_fine() {
    let text = [
        "[[software_types]]\nname = \"main\"\n[[software_types]]\nname = \"modem\"\n".to_string(),
        full("2.0.0", "\"evt\" = 20"),
        "\n[[releases]]\nversion = \"2.0.0\"\nsoftware_type = \"modem\"\npayloads = { \"evt\" = 22 }\n".into(),
        // a Full release and a Delta release may share a To version
        delta("1.0.0", "2.0.0", "\"evt\" = 2"),
        dev("d1", "evt", "1.0.0"),
    ]
    .concat();
    let sc = Scenario::new("r4-ok.toml", &text);
    let out = sc.validate();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn r5_delta_downgrade_is_an_input_error() {
    let text = [base(), delta("2.0.0", "1.0.0", "\"evt\" = 1")].concat();
    let sc = Scenario::new("r5-down.toml", &text);
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r5-down.toml:15: release 2: delta release 2.0.0->1.0.0 must go to a greater version than it comes from (delta downgrades are not supported)\n");
}

#[test]
fn r5_delta_to_equal_from_is_an_input_error() {
    let text = [base(), delta("2.0.0", "2.0.0", "\"evt\" = 1")].concat();
    let sc = Scenario::new("r5-equal.toml", &text);
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r5-equal.toml:15: release 2: delta release 2.0.0->2.0.0 must go to a greater version than it comes from (delta downgrades are not supported)\n");
}

#[test]
fn r5_delta_pre_release_to_release_is_fine() {
    let text = [
        base(),
        delta("2.0.0-rc.1", "2.0.0", "\"evt\" = 1"),
        dev("d2", "evt", "2.0.0-rc.1"),
    ]
    .concat();
    let sc = Scenario::new("r5-ok.toml", &text);
    let out = sc.validate();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn r6_delete_with_unpulled_activations_names_the_cohorts() {
    let text = [
        "[[cohorts]]\nname = \"beta\"\n[[cohorts]]\nname = \"gamma\"\n".to_string(),
        base(),
        activate("0", "2.0.0", "default"),
        activate("0", "2.0.0", "beta"),
        activate("0", "2.0.0", "gamma"),
        event("1", "pull", "release = \"2.0.0\"; cohort = \"beta\""),
        event("2", "delete_release", "release = \"2.0.0\""),
    ]
    .concat();
    let sc = Scenario::new("r6.toml", &text);
    let out = sc.validate();
    assert_input_error_is(&out, &sc, "error: DIR/r6.toml:43: event 4 (delete_release): release 2.0.0 cannot be deleted: its activations are not pulled in cohort(s) \"default\", \"gamma\" (R6)\n");
}

#[test]
fn r6_delete_after_every_activation_is_pulled() {
    let text = [
        "[[cohorts]]\nname = \"beta\"\n".to_string(),
        base(),
        activate("0", "2.0.0", "default"),
        activate("0", "2.0.0", "beta"),
        event("1", "pull", "release = \"2.0.0\"; cohort = \"beta\""),
        event("1", "pull", "release = \"2.0.0\"; cohort = \"default\""),
        event("2", "delete_release", "release = \"2.0.0\""),
        dev_with("b1", "evt", "1.0.0", "cohort = \"beta\""),
    ]
    .concat();
    let sc = Scenario::new("r6-ok.toml", &text);
    check_resolve(
        &sc.resolve("0"),
        "
        d1,default,default,1.0.0,full,2.0.0,2.0.0,20
        b1,beta,beta,1.0.0,full,2.0.0,2.0.0,20
        ",
    );
    check_resolve(
        &sc.resolve("2"),
        "
        d1,default,default,1.0.0,none,,,
        b1,beta,beta,1.0.0,none,,,
        ",
    );
    // Using the deleted release afterwards is an unknown reference (R8).
    let text2 = [text, activate("3", "2.0.0", "beta")].concat();
    let sc2 = Scenario::new("r6-gone.toml", &text2);
    assert_input_error_is(&sc2.validate(), &sc2, "error: DIR/r6-gone.toml:52: event 5 (activate): unknown release \"2.0.0\" (it was deleted)\n");
}

#[test]
fn r6_delete_fails_while_a_device_holds_it_as_override() {
    let text = [
        base(),
        dev_with("o1", "evt", "2.0.0", "release_override = \"1.0.0\""),
        event("1", "delete_release", "release = \"1.0.0\""),
    ]
    .concat();
    let sc = Scenario::new("r6-override.toml", &text);
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r6-override.toml:21: event 0 (delete_release): release 1.0.0 cannot be deleted: 1 device(s) hold it as their release override\n");
}

#[test]
fn r7_override_to_a_delta_release_event() {
    let text = [
        base(),
        delta("1.0.0", "2.0.0", "\"evt\" = 5"),
        event(
            "0",
            "set_override",
            "device = \"d1\"; release = \"1.0.0->2.0.0\"",
        ),
    ]
    .concat();
    let sc = Scenario::new("r7-event.toml", &text);
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r7-event.toml:24: event 0 (set_override): release override 1.0.0->2.0.0 is a delta release; an override must name a full release\n");
}

#[test]
fn r7_override_to_a_delta_release_device_field() {
    let text = [
        base(),
        delta("1.0.0", "2.0.0", "\"evt\" = 5"),
        dev_with("o1", "evt", "1.0.0", "release_override = \"1.0.0->2.0.0\""),
    ]
    .concat();
    let sc = Scenario::new("r7-device.toml", &text);
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r7-device.toml:24: device \"o1\": release override 1.0.0->2.0.0 is a delta release; an override must name a full release\n");
}

#[test]
fn r7_override_to_a_release_of_another_software_type() {
    let text = [
        "[[software_types]]\nname = \"main\"\n[[software_types]]\nname = \"modem\"\n".to_string(),
        base(),
        "\n[[releases]]\nversion = \"5.0.0\"\nsoftware_type = \"modem\"\npayloads = { \"evt\" = 50 }\n".into(),
        event("0", "set_override", "device = \"d1\"; release = \"5.0.0\""),
    ]
    .concat();
    let sc = Scenario::new("r7-type.toml", &text);
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r7-type.toml:28: event 0 (set_override): unknown release \"5.0.0\" (did you mean \"2.0.0\"?)\n");
}

#[test]
fn r8_unknown_release_in_an_event() {
    let sc = Scenario::new(
        "r8-release.toml",
        &with(&[activate("0", "9.9.9", "default")]),
    );
    assert_input_error_is(
        &sc.validate(),
        &sc,
        "error: DIR/r8-release.toml:18: event 0 (activate): unknown release \"9.9.9\"\n",
    );
    let sc = Scenario::new(
        "r8-delta.toml",
        &with(&[activate("0", "1.0.0->2.0.0", "default")]),
    );
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r8-delta.toml:18: event 0 (activate): unknown release \"1.0.0->2.0.0\" (did you mean \"1.0.0\"?)\n");
}

#[test]
fn r8_unknown_cohort_in_an_event() {
    let sc = Scenario::new("r8-cohort.toml", &with(&[activate("0", "2.0.0", "ghost")]));
    assert_input_error_is(
        &sc.validate(),
        &sc,
        "error: DIR/r8-cohort.toml:19: event 0 (activate): unknown cohort \"ghost\"\n",
    );
    let sc = Scenario::new(
        "r8-move.toml",
        &with(&[event("0", "move", "devices = [\"d1\"]; cohort = \"ghost\"")]),
    );
    assert_input_error_is(
        &sc.validate(),
        &sc,
        "error: DIR/r8-move.toml:19: event 0 (move): unknown cohort \"ghost\"\n",
    );
}

#[test]
fn r8_unknown_device_in_an_event() {
    let sc = Scenario::new(
        "r8-device.toml",
        &with(&[
            activate_staged("0", "2.0.0", "default", "0"),
            event("1", "stage", "devices = [\"d1\", \"SN-404\"]"),
        ]),
    );
    assert_input_error_is(
        &sc.validate(),
        &sc,
        "error: DIR/r8-device.toml:25: event 1 (stage): unknown device \"SN-404\"\n",
    );
    let sc = Scenario::new(
        "r8-override.toml",
        &with(&[event(
            "0",
            "set_override",
            "device = \"SN-404\"; release = \"2.0.0\"",
        )]),
    );
    assert_input_error_is(
        &sc.validate(),
        &sc,
        "error: DIR/r8-override.toml:18: event 0 (set_override): unknown device \"SN-404\"\n",
    );
}

#[test]
fn r8_unknown_user_in_an_event() {
    let sc = Scenario::new(
        "r8-user.toml",
        &with(&[event(
            "0",
            "activate",
            "release = \"2.0.0\"; cohort = \"default\"; by = \"mallory\"",
        )]),
    );
    assert_input_error_is(
        &sc.validate(),
        &sc,
        "error: DIR/r8-user.toml:20: event 0 (activate): unknown user \"mallory\"\n",
    );
}

#[test]
fn r8_unknown_cohort_on_a_device() {
    let text = [base(), dev_with("d2", "evt", "1.0.0", "cohort = \"ghost\"")].concat();
    let sc = Scenario::new("r8-dev-cohort.toml", &text);
    assert_input_error_is(
        &sc.validate(),
        &sc,
        "error: DIR/r8-dev-cohort.toml:19: device \"d2\": unknown cohort \"ghost\"\n",
    );
}

#[test]
fn r8_unknown_project_key_on_a_device() {
    let text = [
        base(),
        dev_with("d2", "evt", "1.0.0", "project_key = \"nokey\""),
    ]
    .concat();
    let sc = Scenario::new("r8-dev-key.toml", &text);
    assert_input_error_is(
        &sc.validate(),
        &sc,
        "error: DIR/r8-dev-key.toml:19: device \"d2\": unknown project key \"nokey\"\n",
    );
}

#[test]
fn r8_unknown_cohort_in_a_project_key_override() {
    let text = [
        "[[project_keys]]\nname = \"k\"\nota_cohort_override = \"ghost\"\n".to_string(),
        base(),
    ]
    .concat();
    let sc = Scenario::new("r8-key.toml", &text);
    assert_input_error_is(
        &sc.validate(),
        &sc,
        "error: DIR/r8-key.toml:3: project key \"k\": unknown cohort \"ghost\"\n",
    );
}

#[test]
fn r8_unknown_software_type() {
    let text = [base(), "\n[[releases]]\nversion = \"3.0.0\"\nsoftware_type = \"nope\"\npayloads = { \"evt\" = 1 }\n".to_string()]
        .concat();
    let sc = Scenario::new("r8-type.toml", &text);
    assert_input_error_is(
        &sc.validate(),
        &sc,
        "error: DIR/r8-type.toml:17: release 2: unknown software type \"nope\"\n",
    );
    let text = [
        base(),
        dev_with("d2", "evt", "1.0.0", "software_type = \"nope\""),
    ]
    .concat();
    let sc = Scenario::new("r8-dev-type.toml", &text);
    assert_input_error_is(
        &sc.validate(),
        &sc,
        "error: DIR/r8-dev-type.toml:19: device \"d2\": unknown software type \"nope\"\n",
    );
}

#[test]
fn r8_unknown_override_release_on_a_device() {
    let text = [
        base(),
        dev_with("d2", "evt", "1.0.0", "release_override = \"7.7.7\""),
    ]
    .concat();
    let sc = Scenario::new("r8-dev-override.toml", &text);
    assert_input_error_is(
        &sc.validate(),
        &sc,
        "error: DIR/r8-dev-override.toml:19: device \"d2\": unknown release \"7.7.7\"\n",
    );
}

#[test]
fn errors_leave_no_partial_output_files() {
    // `run --out DIR` on an invalid scenario must leave no output files (spec §8).
    let sc = Scenario::new("bad-run.toml", &with(&[activate("0", "9.9.9", "default")]));
    let out_dir = sc.dir.path().join("out");
    let out = otasim(["run", sc.p(), "--out", out_dir.to_str().unwrap()]);
    assert_input_error_is(
        &out,
        &sc,
        "error: DIR/bad-run.toml:18: event 0 (activate): unknown release \"9.9.9\"\n",
    );
    let leftover = std::fs::read_dir(&out_dir).map(|d| d.count()).unwrap_or(0);
    assert_eq!(leftover, 0, "an input error must not leave output files");
}

#[test]
fn pull_needs_an_active_activation() {
    let sc = Scenario::new(
        "pull-nothing.toml",
        &with(&[event(
            "0",
            "pull",
            "release = \"2.0.0\"; cohort = \"default\"",
        )]),
    );
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/pull-nothing.toml:15: event 0 (pull): release 2.0.0 has no active activation in cohort \"default\"\n");
}

#[test]
fn events_of_the_same_tick_apply_in_file_order() {
    let text = with(&[
        activate("0", "1.0.0", "default"),
        // tick 5: pull then activate 2.0.0 -> active
        activate("3", "2.0.0", "default"),
        event("5", "pull", "release = \"2.0.0\"; cohort = \"default\""),
        activate("5", "2.0.0", "default"),
        // tick 7: (re-)activate then pull 2.0.0 -> pulled
        activate("7", "2.0.0", "default"),
        event("7", "pull", "release = \"2.0.0\"; cohort = \"default\""),
        dev("d0", "evt", "0.5.0"),
    ]);
    let sc = Scenario::new("same-tick.toml", &text);
    check_resolve(
        &sc.resolve("5"),
        "
        d1,default,default,1.0.0,full,2.0.0,2.0.0,20
        d0,default,default,0.5.0,full,2.0.0,2.0.0,20
        ",
    );
    check_resolve(
        &sc.resolve("7"),
        "
        d1,default,default,1.0.0,none,,,
        d0,default,default,0.5.0,full,1.0.0,1.0.0,10
        ",
    );
}

#[test]
fn fleet_table_errors_name_the_table_file_and_line() {
    let sc = Scenario::new("fleet-host.toml", &base());
    let fleet = sc.dir.path().join("bad-fleet.csv");
    std::fs::write(
        &fleet,
        "device_id,hardware_version,software_version\nX1,evt,1.0.0\nX2,evt,1.0\nX3,evt,1.0.0\n",
    )
    .unwrap();
    let out = otasim([
        "resolve",
        sc.p(),
        "--at",
        "0",
        "--format",
        "csv",
        "--fleet",
        fleet.to_str().unwrap(),
    ]);
    assert_input_error_is(&out, &sc, "error: DIR/bad-fleet.csv:3: device \"X2\": version \"1.0\" is not a valid SemVer 2.0 version (unexpected end of input while parsing minor version number)\n");
}

#[test]
fn r8_unknown_project_key_in_an_event() {
    let sc = Scenario::new(
        "r8-set-key.toml",
        &with(&[event(
            "0",
            "set_project_key",
            "project_key = \"nokey\"; ota_cohort_override = \"default\"",
        )]),
    );
    assert_input_error_is(
        &sc.validate(),
        &sc,
        "error: DIR/r8-set-key.toml:18: event 0 (set_project_key): unknown project key \"nokey\"\n",
    );
}

#[test]
fn payload_larger_than_the_engine_supports_is_an_input_error() {
    // 2^46 bytes: one more than a resumed download can carry (docs/semantics.md).
    let text = [base(), full("3.0.0", "\"evt\" = 70368744177664")].concat();
    let sc = Scenario::new("huge-payload.toml", &text);
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/huge-payload.toml:17: release 2: payload size for \"evt\" is more than the 70368744177663 bytes (64 TiB) otasim supports\n");
    let ok = [base(), full("3.0.0", "\"evt\" = 70368744177663")].concat();
    let sc = Scenario::new("largest-payload.toml", &ok);
    assert!(sc.validate().status.success());
}
