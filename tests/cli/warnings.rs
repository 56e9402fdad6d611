//! Suspicious but valid input is said, never silent: a warning on stderr from every
//! command (`warning: FILE[:LINE]: …`), counted by `validate`, and an error with
//! `--deny-warnings` (docs/semantics.md, "Warnings").

use super::*;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `validate` and `matrix --at 0`: both succeed and print exactly `warnings`; with
/// `--deny-warnings` both fail with the count.
fn assert_warns(sc: &Scenario, warnings: &[String]) {
    let expected: String = warnings.iter().map(|w| format!("warning: {w}\n")).collect();
    let v = sc.validate();
    assert!(v.status.success(), "{}", stderr(&v));
    assert_eq!(stderr(&v), expected);
    let summary = String::from_utf8_lossy(&v.stdout).into_owned();
    assert!(
        summary.contains(&format!(
            "  warnings           {} (on stderr above)\n",
            warnings.len()
        )),
        "{summary}"
    );
    let m = otasim(["matrix", sc.p(), "--at", "0", "--format", "csv"]);
    assert!(m.status.success(), "{}", stderr(&m));
    assert_eq!(stderr(&m), expected);
    for cmd in ["validate", "matrix"] {
        let mut args = vec![cmd, sc.p(), "--deny-warnings"];
        if cmd == "matrix" {
            args.extend(["--at", "0"]);
        }
        let out = otasim(&args);
        assert_eq!(out.status.code(), Some(1), "{cmd}");
        let n = warnings.len();
        assert_eq!(
            stderr(&out),
            format!(
                "{expected}error: {n} warning{} and --deny-warnings\n",
                if n == 1 { "" } else { "s" }
            ),
            "{cmd}"
        );
        assert!(out.stdout.is_empty(), "{cmd}: no output with an error");
    }
}

#[test]
fn a_hardware_version_that_no_release_serves_is_a_warning_with_a_suggestion() {
    let text = [
        full("2.0.0", "\"evt\" = 20"),
        dev("a", "evtt", "1.0.0"),
        dev("b", "evtt", "1.0.0"),
        dev("c", "evt", "1.0.0"),
    ]
    .concat();
    let sc = Scenario::new("typo.toml", &text);
    assert_warns(
        &sc,
        &[format!(
            "{}: hardware version \"evtt\" (2 devices, e.g. \"a\") has no payload in any release: those devices can never get an update (did you mean \"evt\"?)",
            sc.p()
        )],
    );
}

#[test]
fn an_event_after_the_duration_is_a_warning_with_its_line() {
    let text = [
        "duration = \"1d\"\n".to_string(),
        full("2.0.0", "\"evt\" = 20"),
        dev("a", "evt", "1.0.0"),
        activate("\"2d\"", "2.0.0", "default"),
    ]
    .concat();
    let sc = Scenario::new("late.toml", &text);
    let line = line_of(&text, "[[events]]");
    assert_warns(
        &sc,
        &[format!(
            "{}:{line}: event 0 (activate) is at tick 48, after the end of the run (tick 24): `run` never applies it",
            sc.p()
        )],
    );
}

#[test]
fn version_shares_that_do_not_add_up_are_a_warning() {
    let text = [
        full("2.0.0", "\"evt\" = 20"),
        "\n[fleet]\n[[fleet.groups]]\ncount = 10\nhardware_version = \"evt\"\nversions = { \"1.0.0\" = 0.5, \"2.0.0\" = 0.3 }\n".to_string(),
    ]
    .concat();
    let sc = Scenario::new("shares.toml", &text);
    let line = line_of(&text, "versions = ");
    assert_warns(
        &sc,
        &[format!(
            "{}:{line}: fleet group 0: version shares add up to 0.8, not 1: they are rescaled to add up to 1",
            sc.p()
        )],
    );
    // Weights above 1 are weights, not shares: no warning.
    let weights = text.replace("0.5, \"2.0.0\" = 0.3", "3, \"2.0.0\" = 1");
    let sc = Scenario::new("weights.toml", &weights);
    assert_eq!(stderr(&sc.validate()), "");
}

#[test]
fn group_shares_that_do_not_add_up_to_the_declared_total_are_a_warning() {
    let text = [
        full("2.0.0", "\"evt\" = 20"),
        "\n[fleet]\ndevices = 1000\n[[fleet.groups]]\nshare = 0.6\nhardware_version = \"evt\"\nversions = { \"1.0.0\" = 1 }\n".to_string(),
    ]
    .concat();
    let sc = Scenario::new("groups.toml", &text);
    let line = line_of(&text, "devices = 1000");
    assert_warns(
        &sc,
        &[format!(
            "{}:{line}: fleet: the groups' shares add up to 0.6, not 1, so 600 of devices = 1000 are created",
            sc.p()
        )],
    );
}

#[test]
fn at_after_the_end_is_a_warning_when_devices_are_simulated() {
    let text = [
        "duration = \"1d\"\n".to_string(),
        full("2.0.0", "\"evt\" = 20"),
        "\n[behaviour]\npoll_interval = \"6h\"\n".to_string(),
        dev("a", "evt", "1.0.0"),
    ]
    .concat();
    let sc = Scenario::new("at.toml", &text);
    let out = otasim(["matrix", sc.p(), "--at", "2d", "--format", "csv"]);
    assert!(out.status.success());
    assert_eq!(
        stderr(&out),
        "warning: --at 2d is after the end of the scenario (1d): devices are simulated past the duration `run` covers\n"
    );
    let out = otasim(["matrix", sc.p(), "--at", "2d", "--deny-warnings"]);
    assert_eq!(out.status.code(), Some(1));
    let ok = otasim(["matrix", sc.p(), "--at", "1d", "--format", "csv"]);
    assert_eq!(stderr(&ok), "");
}
