//! Helpers shared by the CLI tests: running the binary, writing scenarios into a temporary
//! directory, and comparing CSV output with a readable expected-vs-got report.

#![allow(dead_code)]

mod bundled;
mod commands;
mod compare;
mod diff;
mod differential;
mod engine;
mod errors;
mod expected;
mod fuzz;
mod golden;
mod governance;
mod matrix;
mod outputs;
mod plan_deltas;
mod policy;
mod reach;
mod reading;
mod readme;
mod reliability;
mod report_browser;
mod resolve;
mod robustness;
mod runs;
mod staging;
mod sweep;
mod variants;
mod versions;
mod warnings;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The header `otasim resolve --format csv` prints (spec §9).
pub const RESOLVE_HEADER: &str =
    "device_id,cohort,effective_cohort,software_version,rule,release,target_version,payload_bytes";

/// The header `otasim matrix --format csv` prints (spec §9).
pub const MATRIX_HEADER: &str = "cohort,current_version,next_version,rule,devices,final_version";

/// Path of the binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_otasim")
}

/// Runs `otasim` with `args` and returns its output (never panics on a failing status).
pub fn otasim<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(bin())
        .args(args)
        .output()
        .expect("failed to spawn otasim")
}

/// Like [`otasim`] with extra environment variables.
pub fn otasim_env(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(bin());
    cmd.args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("failed to spawn otasim")
}

/// A bundled scenario, `scenarios/NAME`.
pub fn bundled(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

/// All bundled scenario files.
pub fn all_bundled() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"))
            .expect("scenarios/ exists")
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
    v.sort();
    v
}

/// A scenario written into its own temporary directory. Keep it alive while it is used.
pub struct Scenario {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    pub text: String,
}

impl Scenario {
    /// Writes `text` to `<tmpdir>/<file_name>`.
    pub fn new(file_name: &str, text: &str) -> Scenario {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(file_name);
        std::fs::write(&path, text).expect("write scenario");
        Scenario {
            dir,
            path,
            text: text.to_string(),
        }
    }

    pub fn p(&self) -> &str {
        self.path.to_str().unwrap()
    }

    pub fn resolve(&self, at: &str) -> String {
        resolve_ok(&self.path, at)
    }

    pub fn matrix(&self, at: &str) -> String {
        matrix_ok(&self.path, at)
    }

    /// Runs `otasim validate` on it.
    pub fn validate(&self) -> Output {
        otasim(["validate", self.p()])
    }
}

/// One explicit device table.
pub fn dev(id: &str, hw: &str, ver: &str) -> String {
    format!(
        "\n[[devices]]\nid = \"{id}\"\nhardware_version = \"{hw}\"\nsoftware_version = \"{ver}\"\n"
    )
}

/// One explicit device table with extra `key = value` lines (e.g. `cohort = "beta"`).
pub fn dev_with(id: &str, hw: &str, ver: &str, extra: &str) -> String {
    let mut s = dev(id, hw, ver);
    for line in extra.split(';').map(str::trim).filter(|l| !l.is_empty()) {
        s.push_str(line);
        s.push('\n');
    }
    s
}

/// The run settings: `seed`, `tick` and `duration`.
pub fn settings(seed: u64, tick: &str, duration: &str) -> String {
    format!("seed = {seed}\ntick = \"{tick}\"\nduration = \"{duration}\"\n")
}

/// A `[behaviour]` table polling every `poll`, with `extra` lines after it.
pub fn behaviour(poll: &str, extra: &str) -> String {
    format!("\n[behaviour]\npoll_interval = \"{poll}\"\n{extra}\n")
}

/// A `[behaviour]` table without chance: every device polls every `poll`, is always
/// online, downloads at 1 MB/s and never fails, so tests can compute every tick by hand.
pub fn certain_behaviour(poll: &str) -> String {
    behaviour(
        poll,
        "online_probability = 1.0\nlink_bytes_per_second = 1000000\ndownload_failure_probability = 0.0\ninstall_failure_probability = 0.0",
    )
}

/// A `[fleet]` of one synthetic group `name`: `count` devices of hardware `hardware`,
/// all on `version`.
pub fn group_fleet(name: &str, count: u64, hardware: &str, version: &str) -> String {
    format!(
        "\n[fleet]\n[[fleet.groups]]\nname = \"{name}\"\ncount = {count}\nhardware_version = \"{hardware}\"\nversions = {{ \"{version}\" = 1 }}\n"
    )
}

/// A Full release table.
pub fn full(version: &str, payloads: &str) -> String {
    format!("\n[[releases]]\nversion = \"{version}\"\npayloads = {{ {payloads} }}\n")
}

/// A must-pass-through Full release table.
pub fn mpt(version: &str, payloads: &str) -> String {
    format!("\n[[releases]]\nversion = \"{version}\"\nmust_pass_through = true\npayloads = {{ {payloads} }}\n")
}

/// A Delta release table.
pub fn delta(from: &str, to: &str, payloads: &str) -> String {
    format!("\n[[releases]]\nfrom = \"{from}\"\nto = \"{to}\"\npayloads = {{ {payloads} }}\n")
}

/// An event table; `fields` are `key = value` lines separated by `;`.
pub fn event(at: &str, action: &str, fields: &str) -> String {
    let mut s = format!("\n[[events]]\nat = {at}\naction = \"{action}\"\n");
    for line in fields.split(';').map(str::trim).filter(|l| !l.is_empty()) {
        s.push_str(line);
        s.push('\n');
    }
    s
}

/// `activate` of `release` in `cohort`.
pub fn activate(at: &str, release: &str, cohort: &str) -> String {
    event(
        at,
        "activate",
        &format!("release = \"{release}\"; cohort = \"{cohort}\""),
    )
}

/// A staged-rollout `activate`.
pub fn activate_staged(at: &str, release: &str, cohort: &str, percent: &str) -> String {
    event(
        at,
        "activate",
        &format!("release = \"{release}\"; cohort = \"{cohort}\"; rollout_percent = {percent}"),
    )
}

fn describe(out: &Output) -> String {
    format!(
        "status: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Asserts a successful run without a panic and returns its stdout.
pub fn stdout_ok(out: &Output) -> String {
    assert!(out.status.success(), "otasim failed\n{}", describe(out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked"),
        "otasim panicked\n{}",
        describe(out)
    );
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

/// `otasim resolve PATH --at AT --format csv`, which must succeed.
pub fn resolve_ok(path: &Path, at: &str) -> String {
    stdout_ok(&otasim([
        OsStr::new("resolve"),
        path.as_os_str(),
        OsStr::new("--at"),
        OsStr::new(at),
        OsStr::new("--format"),
        OsStr::new("csv"),
    ]))
}

/// `otasim matrix PATH --at AT --format csv`, which must succeed.
pub fn matrix_ok(path: &Path, at: &str) -> String {
    stdout_ok(&otasim([
        OsStr::new("matrix"),
        path.as_os_str(),
        OsStr::new("--at"),
        OsStr::new(at),
        OsStr::new("--format"),
        OsStr::new("csv"),
    ]))
}

fn normalize_actual(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.lines().map(|l| l.trim_end().to_string()).collect();
    while v.last().is_some_and(|l| l.is_empty()) {
        v.pop();
    }
    v
}

fn normalize_expected(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// Compares CSV output line by line (expected may be indented; blank lines are ignored)
/// and panics with an expected-vs-got report on the first difference.
#[track_caller]
pub fn check_csv(actual: &str, expected: &str) {
    let got = normalize_actual(actual);
    let want = normalize_expected(expected);
    if got == want {
        return;
    }
    let mut report = String::new();
    let n = got.len().max(want.len());
    let mut shown = 0;
    for i in 0..n {
        let g = got.get(i).map(String::as_str);
        let w = want.get(i).map(String::as_str);
        if g != w {
            report.push_str(&format!(
                "  line {:>4}: expected {:<60} got {}\n",
                i + 1,
                w.map_or("<none>".to_string(), |s| format!("{s:?}")),
                g.map_or("<none>".to_string(), |s| format!("{s:?}")),
            ));
            shown += 1;
            if shown >= 25 {
                report.push_str("  ...\n");
                break;
            }
        }
    }
    let head = |v: &[String]| v.iter().take(40).cloned().collect::<Vec<_>>().join("\n");
    panic!(
        "CSV mismatch ({} expected lines, {} got)\n{}\n=== expected (first 40 lines) ===\n{}\n=== got (first 40 lines) ===\n{}\n",
        want.len(),
        got.len(),
        report,
        head(&want),
        head(&got)
    );
}

/// Checks resolve output: the header, then `rows`.
#[track_caller]
pub fn check_resolve(actual: &str, rows: &str) {
    check_csv(actual, &format!("{RESOLVE_HEADER}\n{rows}"));
}

/// Checks matrix output: the header, then `rows`.
#[track_caller]
pub fn check_matrix(actual: &str, rows: &str) {
    check_csv(actual, &format!("{MATRIX_HEADER}\n{rows}"));
}

/// Parses resolve CSV into rows of fields (header dropped, header checked).
pub fn resolve_rows(csv: &str) -> Vec<Vec<String>> {
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().map(str::trim_end),
        Some(RESOLVE_HEADER),
        "resolve header"
    );
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim_end().split(',').map(String::from).collect())
        .collect()
}

/// Device ids whose resolve row has `rule` and `target_version`.
pub fn ids_with(csv: &str, rule: &str, target: &str) -> Vec<String> {
    resolve_rows(csv)
        .into_iter()
        .filter(|r| r[4] == rule && r[6] == target)
        .map(|r| r[0].clone())
        .collect()
}

/// Number of resolve rows with `rule`.
pub fn count_rule(csv: &str, rule: &str) -> usize {
    resolve_rows(csv).iter().filter(|r| r[4] == rule).count()
}

/// 1-based line of the first line of `text` containing `needle`.
pub fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("test bug: {needle:?} not in scenario"))
        + 1
}

/// The whole stderr of an input error, with the scenario's directory written `DIR`,
/// once the checks every input error passes hold: non-zero exit (not a panic, not a
/// signal), nothing on stdout, `error:` first.
#[track_caller]
pub fn input_error(out: &Output, sc: &Scenario) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success(),
        "expected an input error\n{}",
        describe(out)
    );
    assert!(
        out.status.code().is_some(),
        "killed by a signal\n{}",
        describe(out)
    );
    assert_ne!(
        out.status.code(),
        Some(101),
        "exit code 101 is a panic\n{}",
        describe(out)
    );
    assert!(
        out.stdout.is_empty(),
        "no partial output on an input error\n{}",
        describe(out)
    );
    assert!(
        stderr.starts_with("error:"),
        "stderr must start with `error:`\n{}",
        describe(out)
    );
    let dir = sc.dir.path().to_str().expect("a UTF-8 temporary directory");
    stderr.replace(dir, "DIR")
}

/// Asserts an input error whose whole stderr is `expected` (the scenario's directory
/// written `DIR`): any change to the message, its place or its wording fails.
#[track_caller]
pub fn assert_input_error_is(out: &Output, sc: &Scenario, expected: &str) {
    assert_eq!(input_error(out, sc), expected, "the whole error message");
}

/// Asserts a command-line error (no scenario place): non-zero, `error:`, no panic.
#[track_caller]
pub fn assert_cli_error(out: &Output, names: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success(),
        "expected an error\n{}",
        describe(out)
    );
    assert!(
        out.status.code().is_some(),
        "killed by a signal\n{}",
        describe(out)
    );
    assert!(!stderr.contains("panicked"), "panicked\n{}", describe(out));
    assert!(
        stderr.starts_with("error:"),
        "stderr must start with `error:`\n{}",
        describe(out)
    );
    assert!(
        out.stdout.is_empty(),
        "no partial output on an error\n{}",
        describe(out)
    );
    for name in names {
        assert!(
            stderr.contains(name),
            "error must name {name:?}\n{}",
            describe(out)
        );
    }
}
