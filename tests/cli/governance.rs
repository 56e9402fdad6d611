//! Governance of activations: protected cohorts (R25) and approvals (R26).

use super::*;

const USERS: &str = r#"
[[users]]
name = "ann"
role = "project_manager"
teams = ["qa"]

[[users]]
name = "bob"
role = "project_manager"
teams = ["qa"]

[[users]]
name = "carl"
role = "member"
teams = ["qa"]

[[users]]
name = "dana"
role = "project_manager"
teams = ["ops"]

[[users]]
name = "ci"
role = "org_token"

[[users]]
name = "locked"
role = "org_token"
permit_protected = false

[[cohorts]]
name = "prod"
approval_team = "qa"

[[cohorts]]
name = "lab"
protected = false
approval_team = "qa"

[[cohorts]]
name = "open"
protected = false

[[cohorts]]
name = "guarded"
"#;

/// The users/cohorts above, releases 1.0.0 and 2.0.0, one device per cohort, and `events`.
fn gov(file: &str, events: &[String]) -> Scenario {
    let mut text = [
        "seed = 6\n".to_string(),
        USERS.to_string(),
        full("1.0.0", "\"evt\" = 100"),
        full("2.0.0", "\"evt\" = 200"),
    ]
    .concat();
    for c in ["prod", "lab", "open", "guarded"] {
        text.push_str(&dev_with(
            &format!("{c}-1"),
            "evt",
            "1.0.0",
            &format!("cohort = \"{c}\""),
        ));
    }
    for e in events {
        text.push_str(e);
    }
    Scenario::new(file, &text)
}

fn act_by(at: &str, cohort: &str, by: &str) -> String {
    event(
        at,
        "activate",
        &format!("release = \"2.0.0\"; cohort = \"{cohort}\"; by = \"{by}\""),
    )
}

fn approve_by(at: &str, cohort: &str, by: &str) -> String {
    event(
        at,
        "approve",
        &format!("release = \"2.0.0\"; cohort = \"{cohort}\"; by = \"{by}\""),
    )
}

/// Resolve rows for the four devices given the cohorts where 2.0.0 is active.
fn gov_expected(active: &[&str]) -> String {
    ["prod", "lab", "open", "guarded"]
        .iter()
        .map(|c| {
            if active.contains(c) {
                format!("{c}-1,{c},{c},1.0.0,full,2.0.0,2.0.0,200\n")
            } else {
                format!("{c}-1,{c},{c},1.0.0,none,,,\n")
            }
        })
        .collect()
}

#[test]
fn r25_member_may_not_activate_in_a_protected_cohort() {
    let sc = gov("r25-member.toml", &[act_by("0", "guarded", "carl")]);
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r25-member.toml:80: event 0 (activate): user \"carl\" may not change activations of protected cohort \"guarded\" (R25: only project managers or permitted org tokens may)\n");
    assert_input_error_is(&otasim(["resolve", sc.p(), "--at", "0", "--format", "csv"]), &sc, "error: DIR/r25-member.toml:80: event 0 (activate): user \"carl\" may not change activations of protected cohort \"guarded\" (R25: only project managers or permitted org tokens may)\n");
}

#[test]
fn r25_cohorts_are_protected_by_default() {
    // `default` is not declared at all, so it is protected.
    let mut sc_text = gov("x.toml", &[]).text;
    sc_text.push_str(&event(
        "0",
        "activate",
        "release = \"2.0.0\"; cohort = \"default\"; by = \"carl\"",
    ));
    let sc = Scenario::new("r25-default.toml", &sc_text);
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r25-default.toml:80: event 0 (activate): user \"carl\" may not change activations of protected cohort \"default\" (R25: only project managers or permitted org tokens may)\n");
}

#[test]
fn r25_member_may_not_change_or_pull_in_a_protected_cohort() {
    let sc = gov(
        "r25-rollout.toml",
        &[
            event(
                "0",
                "activate",
                "release = \"2.0.0\"; cohort = \"guarded\"; rollout_percent = 0",
            ),
            event(
                "1",
                "set_rollout",
                "release = \"2.0.0\"; cohort = \"guarded\"; rollout_percent = 100; by = \"carl\"",
            ),
        ],
    );
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r25-rollout.toml:87: event 1 (set_rollout): user \"carl\" may not change activations of protected cohort \"guarded\" (R25: only project managers or permitted org tokens may)\n");
    let sc = gov(
        "r25-pull.toml",
        &[
            activate("0", "2.0.0", "guarded"),
            event(
                "1",
                "pull",
                "release = \"2.0.0\"; cohort = \"guarded\"; by = \"carl\"",
            ),
        ],
    );
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r25-pull.toml:86: event 1 (pull): user \"carl\" may not change activations of protected cohort \"guarded\" (R25: only project managers or permitted org tokens may)\n");
}

#[test]
fn r25_org_token_may_unless_not_permitted() {
    let sc = gov("r25-token.toml", &[act_by("0", "guarded", "ci")]);
    check_resolve(&sc.resolve("0"), &gov_expected(&["guarded"]));
    let sc = gov("r25-locked.toml", &[act_by("0", "guarded", "locked")]);
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r25-locked.toml:80: event 0 (activate): user \"locked\" may not change activations of protected cohort \"guarded\" (R25: only project managers or permitted org tokens may)\n");
}

#[test]
fn r25_anyone_may_activate_in_an_unprotected_cohort() {
    let sc = gov(
        "r25-open.toml",
        &[act_by("0", "open", "carl"), act_by("0", "guarded", "dana")],
    );
    check_resolve(&sc.resolve("0"), &gov_expected(&["open", "guarded"]));
}

#[test]
fn r25_set_cohort_can_lift_protection() {
    let sc = gov(
        "r25-lift.toml",
        &[
            event("2", "set_cohort", "cohort = \"guarded\"; protected = false"),
            act_by("3", "guarded", "carl"),
        ],
    );
    check_resolve(&sc.resolve("3"), &gov_expected(&["guarded"]));
}

#[test]
fn r26_request_takes_effect_only_when_approved() {
    let sc = gov(
        "r26.toml",
        &[
            act_by("0", "prod", "ann"),
            act_by("0", "lab", "carl"),
            approve_by("4", "lab", "bob"),
            approve_by("8", "prod", "bob"),
        ],
    );
    check_resolve(&sc.resolve("0"), &gov_expected(&[]));
    check_resolve(&sc.resolve("3"), &gov_expected(&[]));
    check_resolve(&sc.resolve("4"), &gov_expected(&["lab"]));
    check_resolve(&sc.resolve("8"), &gov_expected(&["lab", "prod"]));
}

#[test]
fn r26_requester_may_not_approve() {
    let sc = gov(
        "r26-self.toml",
        &[act_by("0", "prod", "ann"), approve_by("1", "prod", "ann")],
    );
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r26-self.toml:87: event 1 (approve): user \"ann\" requested this activation and may not approve it (R26: the approver must be another member of team \"qa\")\n");
}

#[test]
fn r26_non_team_member_may_not_approve() {
    let sc = gov(
        "r26-team.toml",
        &[act_by("0", "prod", "ann"), approve_by("1", "prod", "dana")],
    );
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r26-team.toml:87: event 1 (approve): user \"dana\" is not a member of approval team \"qa\" (R26)\n");
}

#[test]
fn r26_in_a_protected_cohort_the_approver_must_be_a_project_manager() {
    let sc = gov(
        "r26-pm.toml",
        &[act_by("0", "prod", "ann"), approve_by("1", "prod", "carl")],
    );
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r26-pm.toml:87: event 1 (approve): user \"carl\" may not approve activations in protected cohort \"prod\" (R26: the approver must be a project manager)\n");
}

#[test]
fn r26_in_a_protected_cohort_the_requester_must_be_a_project_manager() {
    let sc = gov("r26-req.toml", &[act_by("0", "prod", "carl")]);
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r26-req.toml:80: event 0 (activate): user \"carl\" may not change activations of protected cohort \"prod\" (R25: only project managers or permitted org tokens may)\n");
}

#[test]
fn r26_approving_a_cancelled_request_is_an_error() {
    // `pull` cancels a pending request (semantics.md); nothing is left to approve.
    let sc = gov(
        "r26-cancel.toml",
        &[
            act_by("0", "prod", "ann"),
            event("2", "pull", "release = \"2.0.0\"; cohort = \"prod\""),
            approve_by("4", "prod", "bob"),
        ],
    );
    assert_input_error_is(&sc.validate(), &sc, "error: DIR/r26-cancel.toml:93: event 2 (approve): there is no pending activation request for release 2.0.0 in cohort \"prod\"\n");
}

#[test]
fn r26_staged_set_sized_at_approval() {
    // prod holds 4 devices when ann requests a 50 % rollout; 6 more join before bob
    // approves, so 50 % of 10 = 5 devices are staged (not 2). set_rollout is not subject
    // to approval.
    let mut text = [
        "seed = 12\n".to_string(),
        USERS.to_string(),
        full("2.0.0", "\"evt\" = 200"),
        event(
            "0",
            "activate",
            "release = \"2.0.0\"; cohort = \"prod\"; rollout_percent = 50; by = \"ann\"",
        ),
        event(
            "3",
            "move",
            &format!(
                "devices = [{}]; cohort = \"prod\"",
                (0..6)
                    .map(|i| format!("\"D{i}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        approve_by("5", "prod", "bob"),
        event(
            "6",
            "set_rollout",
            "release = \"2.0.0\"; cohort = \"prod\"; rollout_percent = 100; by = \"ann\"",
        ),
    ]
    .concat();
    for i in 0..4 {
        text.push_str(&dev_with(
            &format!("P{i}"),
            "evt",
            "1.0.0",
            "cohort = \"prod\"",
        ));
    }
    for i in 0..6 {
        text.push_str(&dev(&format!("D{i}"), "evt", "1.0.0"));
    }
    let sc = Scenario::new("r26-size.toml", &text);
    assert_eq!(count_rule(&sc.resolve("4"), "full"), 0);
    assert_eq!(count_rule(&sc.resolve("5"), "full"), 5);
    assert_eq!(count_rule(&sc.resolve("6"), "full"), 10);
}

#[test]
fn r26_approval_team_must_exist() {
    // A team exists when at least one user lists it (semantics.md).
    let text = [
        "[[users]]\nname = \"ann\"\nrole = \"project_manager\"\nteams = [\"qa\"]\n".to_string(),
        "[[cohorts]]\nname = \"prod\"\napproval_team = \"nobody\"\n".into(),
        full("2.0.0", "\"evt\" = 1"),
        dev("d", "evt", "1.0.0"),
    ]
    .concat();
    let sc = Scenario::new("r26-noteam.toml", &text);
    assert_input_error_is(
        &sc.validate(),
        &sc,
        "error: DIR/r26-noteam.toml:7: cohort \"prod\": unknown team \"nobody\"\n",
    );
}

#[test]
fn r26_a_new_request_replaces_the_pending_one() {
    let sc = gov(
        "r26-replace.toml",
        &[
            event(
                "0",
                "activate",
                "release = \"2.0.0\"; cohort = \"prod\"; rollout_percent = 0; by = \"ann\"",
            ),
            act_by("1", "prod", "ann"),
            approve_by("2", "prod", "bob"),
        ],
    );
    check_resolve(&sc.resolve("2"), &gov_expected(&["prod"]));
}

#[test]
fn r26_unnamed_requester_is_a_project_manager_and_any_other_member_may_approve() {
    let sc = gov(
        "r26-unnamed.toml",
        &[
            event("0", "activate", "release = \"2.0.0\"; cohort = \"prod\""),
            approve_by("1", "prod", "ann"),
        ],
    );
    check_resolve(&sc.resolve("0"), &gov_expected(&[]));
    check_resolve(&sc.resolve("1"), &gov_expected(&["prod"]));
}

#[test]
fn r6_delete_release_drops_pending_requests() {
    // A pending request is not an activation: the delete succeeds (semantics.md).
    let sc = gov(
        "r6-pending.toml",
        &[
            act_by("0", "prod", "ann"),
            event("1", "delete_release", "release = \"2.0.0\""),
        ],
    );
    let out = sc.validate();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    check_resolve(&sc.resolve("1"), &gov_expected(&[]));
}
