//! R32: resolver variants selected by a scenario's `[resolver]` table.

use super::*;

/// A catalog where every variant changes a known set of devices (all active in
/// `default` at tick 0):
/// - `on-delta` (evt, 1.0.0): a delta from its version and an MPT above it;
/// - `no-delta-payload` (dvt, 1.0.0): the delta has no dvt payload, MPT decides anyway;
/// - `above-mpt` (evt, 1.5.0): only a full release above it;
/// - `below` (evt, 0.9.0): MPT by default, full when full comes first;
/// - `override-no-payload` (dvt, 0.9.0): override 1.2.0, which has no dvt payload;
/// - `override-ok` (evt, 0.9.0): override 1.2.0;
/// - `override-current` (dvt, 1.2.0): already on its override (no update either way).
pub fn variant_fixture(resolver: &str) -> String {
    let mut s = String::from(resolver);
    s.push_str(&full("1.0.0", "\"evt\" = 100, \"dvt\" = 100"));
    s.push_str(&full("1.2.0", "\"evt\" = 120"));
    s.push_str(&mpt("1.5.0", "\"evt\" = 150, \"dvt\" = 150"));
    s.push_str(&full("2.0.0", "\"evt\" = 200, \"dvt\" = 200"));
    s.push_str(&delta("1.0.0", "2.0.0", "\"evt\" = 20"));
    s.push_str(&dev("on-delta", "evt", "1.0.0"));
    s.push_str(&dev("no-delta-payload", "dvt", "1.0.0"));
    s.push_str(&dev("above-mpt", "evt", "1.5.0"));
    s.push_str(&dev("below", "evt", "0.9.0"));
    s.push_str(&dev_with(
        "override-no-payload",
        "dvt",
        "0.9.0",
        "release_override = \"1.2.0\"",
    ));
    s.push_str(&dev_with(
        "override-ok",
        "evt",
        "0.9.0",
        "release_override = \"1.2.0\"",
    ));
    s.push_str(&dev_with(
        "override-current",
        "dvt",
        "1.2.0",
        "release_override = \"1.2.0\"",
    ));
    for r in ["1.0.0", "1.2.0", "1.5.0", "2.0.0", "1.0.0->2.0.0"] {
        s.push_str(&activate("0", r, "default"));
    }
    s
}

#[test]
fn r32_default_precedence_is_the_rules_as_written() {
    let sc = Scenario::new("s.toml", &variant_fixture(""));
    check_resolve(
        &sc.resolve("0"),
        "on-delta,default,default,1.0.0,delta,1.0.0->2.0.0,2.0.0,20
         no-delta-payload,default,default,1.0.0,must_pass_through,1.5.0,1.5.0,150
         above-mpt,default,default,1.5.0,full,2.0.0,2.0.0,200
         below,default,default,0.9.0,must_pass_through,1.5.0,1.5.0,150
         override-no-payload,default,default,0.9.0,none,,,
         override-ok,default,default,0.9.0,override,1.2.0,1.2.0,120
         override-current,default,default,1.2.0,none,,,",
    );
}

#[test]
fn r32_precedence_and_fallback_change_the_known_devices() {
    let sc = Scenario::new(
        "s.toml",
        &variant_fixture(
            "[resolver]\nprecedence = [\"must_pass_through\", \"delta\", \"full\"]\noverride_fallback = true\n",
        ),
    );
    check_resolve(
        &sc.resolve("0"),
        "on-delta,default,default,1.0.0,must_pass_through,1.5.0,1.5.0,150
         no-delta-payload,default,default,1.0.0,must_pass_through,1.5.0,1.5.0,150
         above-mpt,default,default,1.5.0,full,2.0.0,2.0.0,200
         below,default,default,0.9.0,must_pass_through,1.5.0,1.5.0,150
         override-no-payload,default,default,0.9.0,must_pass_through,1.5.0,1.5.0,150
         override-ok,default,default,0.9.0,override,1.2.0,1.2.0,120
         override-current,default,default,1.2.0,none,,,",
    );
    let sc = Scenario::new(
        "s.toml",
        &variant_fixture("[resolver]\nprecedence = [\"full\", \"delta\", \"must_pass_through\"]\n"),
    );
    check_resolve(
        &sc.resolve("0"),
        "on-delta,default,default,1.0.0,full,2.0.0,2.0.0,200
         no-delta-payload,default,default,1.0.0,full,2.0.0,2.0.0,200
         above-mpt,default,default,1.5.0,full,2.0.0,2.0.0,200
         below,default,default,0.9.0,full,2.0.0,2.0.0,200
         override-no-payload,default,default,0.9.0,none,,,
         override-ok,default,default,0.9.0,override,1.2.0,1.2.0,120
         override-current,default,default,1.2.0,none,,,",
    );
}

#[test]
fn r32_matrix_follows_the_variant() {
    let sc = Scenario::new(
        "s.toml",
        &variant_fixture("[resolver]\nprecedence = [\"full\", \"delta\", \"must_pass_through\"]\n"),
    );
    check_matrix(
        &sc.matrix("0"),
        "default,0.9.0,0.9.0,none,1,0.9.0
         default,0.9.0,1.2.0,override,1,1.2.0
         default,0.9.0,2.0.0,full,1,2.0.0
         default,1.0.0,2.0.0,full,2,2.0.0
         default,1.2.0,1.2.0,none,1,1.2.0
         default,1.5.0,2.0.0,full,1,2.0.0",
    );
}

#[test]
fn r32_explain_names_the_variant_in_force() {
    let sc = Scenario::new("s.toml", &variant_fixture(""));
    let text = stdout_ok(&otasim([
        "explain",
        sc.p(),
        "--at",
        "0",
        "--device",
        "on-delta",
    ]));
    assert!(
        text.contains("resolver: the rules as written (precedence = delta, must_pass_through, full; override_fallback = false; no [resolver] variant, R32)"),
        "{text}"
    );
    assert!(
        text.contains("(precedence: delta R13, then must-pass-through R14, then full R15)"),
        "{text}"
    );

    let sc = Scenario::new(
        "s.toml",
        &variant_fixture(
            "[resolver]\nprecedence = [\"must_pass_through\", \"delta\", \"full\"]\noverride_fallback = true\n",
        ),
    );
    let text = stdout_ok(&otasim([
        "explain",
        sc.p(),
        "--at",
        "0",
        "--device",
        "on-delta",
    ]));
    assert!(
        text.contains("resolver variant (R32): precedence = must_pass_through, delta, full; override_fallback = true"),
        "{text}"
    );
    assert!(
        text.contains("(precedence: must-pass-through R14, then delta R13, then full R15)"),
        "{text}"
    );
    assert!(
        text.contains("decision: must_pass_through (R14): release 1.5.0"),
        "{text}"
    );
    let text = stdout_ok(&otasim([
        "explain",
        sc.p(),
        "--at",
        "0",
        "--device",
        "override-no-payload",
    ]));
    assert!(
        text.contains("resolved as if it had no override (R32 override_fallback)"),
        "{text}"
    );
    assert!(
        text.contains("decision: must_pass_through (R14): release 1.5.0"),
        "{text}"
    );
}

#[test]
fn r32_resolver_table_errors_name_the_line() {
    let cases = [
        (
            "[resolver]\nprecedence = [\"delta\", \"full\", \"must_pass_through\"]\nfallback = true\n",
            "s.toml:3: unknown field `fallback`, expected `precedence` or `override_fallback`",
        ),
        (
            "[resolver]\nprecedence = [\"delta\", \"ful\", \"must_pass_through\"]\n",
            "s.toml:2: resolver: precedence: unknown rule \"ful\" (expected delta, must_pass_through and full, each once)",
        ),
        (
            "[resolver]\nprecedence = [\"delta\", \"full\", \"delta\"]\n",
            "s.toml:2: resolver: precedence: rule \"delta\" is listed twice",
        ),
        (
            "[resolver]\nprecedence = [\"delta\", \"full\"]\n",
            "s.toml:2: resolver: precedence: rule \"must_pass_through\" is missing (expected delta, must_pass_through and full, each once)",
        ),
        (
            "[resolver]\n\noverride_fallback = \"yes\"\n",
            "s.toml:3: invalid type: string \"yes\", expected a boolean",
        ),
    ];
    for (table, message) in cases {
        let sc = Scenario::new("s.toml", &variant_fixture(table));
        let out = sc.validate();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(out.stdout.is_empty());
        let dir = format!("{}/", sc.dir.path().display());
        assert_eq!(stderr.replace(&dir, ""), format!("error: {message}\n"));
    }
}
