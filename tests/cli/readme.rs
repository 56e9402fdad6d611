//! README.md is true: every TOML example validates, every `otasim` command it shows runs
//! (and prints what README shows where it shows output), and the tables its polars
//! example reads hold what it filters on.

use std::path::{Path, PathBuf};

use super::*;

/// The repository root (where README.md and `scenarios/` are).
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README's fenced code blocks: (language, body, line of the opening fence).
fn blocks() -> Vec<(String, String, usize)> {
    let text = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let mut out = Vec::new();
    let mut open: Option<(String, String, usize)> = None;
    for (i, line) in text.lines().enumerate() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(lang)) => open = Some((lang.trim().to_string(), String::new(), i + 1)),
            (Some(_), Some(_)) => out.push(open.take().expect("open block")),
            (Some((_, body, _)), None) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "README.md has an unclosed code block");
    out
}

/// One `otasim` command line of README as arguments, with `--out DIR` sent to `tmp`
/// (README's examples write to `out/` in the clone; a test must not).
fn command_args(line: &str, tmp: &Path) -> Option<Vec<String>> {
    let line = line.trim();
    let rest = line
        .strip_prefix("cargo run --release -- ")
        .or_else(|| line.strip_prefix("otasim "))?;
    let mut args: Vec<String> = rest.split_whitespace().map(str::to_string).collect();
    for i in 0..args.len() {
        if args[i] == "--out" || args[i] == "--devices-out" || args[i] == "--write-patches" {
            if let Some(v) = args.get_mut(i + 1) {
                *v = tmp.join(v.trim_end_matches('/')).to_string_lossy().into_owned();
            }
        }
    }
    Some(args)
}

fn run_in_root(args: &[String]) -> std::process::Output {
    std::process::Command::new(bin())
        .args(args)
        .current_dir(root())
        .output()
        .expect("start otasim")
}

#[test]
fn readme_toml_examples_validate() {
    let fixtures = root().join("tests/data/readme");
    let mut checked = 0;
    for (lang, body, line) in blocks() {
        if lang != "toml" {
            continue;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        for entry in std::fs::read_dir(&fixtures).expect("tests/data/readme") {
            let entry = entry.expect("fixture");
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).expect("copy");
        }
        let path = dir.path().join("example.toml");
        std::fs::write(&path, &body).expect("write");
        let out = otasim(["validate", path.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "README.md:{line}: the TOML example does not validate:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        checked += 1;
    }
    assert!(checked >= 1, "README.md has no TOML example");
}

#[test]
fn readme_commands_run_and_print_what_readme_shows() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut ran = 0;
    for (lang, body, line) in blocks() {
        match lang.as_str() {
            // Commands to type: each otasim command must succeed.
            "sh" => {
                for cmd in body.lines() {
                    let Some(args) = command_args(cmd, tmp.path()) else {
                        continue;
                    };
                    let out = run_in_root(&args);
                    assert!(
                        out.status.success(),
                        "README.md:{line}: `{cmd}` failed:\n{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    ran += 1;
                }
            }
            // A transcript: `$ otasim …` then exactly what it prints. On a terminal the
            // default format is `table`, so the test asks for it when the line does not.
            "text" => {
                let mut lines = body.lines();
                let Some(first) = lines.next() else { continue };
                let Some(cmd) = first.strip_prefix("$ ") else {
                    continue;
                };
                let mut args = command_args(cmd, tmp.path())
                    .unwrap_or_else(|| panic!("README.md:{line}: not an otasim command: {cmd}"));
                if !args.iter().any(|a| a == "--format") {
                    args.extend(["--format".to_string(), "table".to_string()]);
                }
                let out = run_in_root(&args);
                let expected: String = lines.map(|l| format!("{l}\n")).collect();
                assert_eq!(
                    String::from_utf8_lossy(&out.stdout),
                    expected,
                    "README.md:{line}: `{cmd}` prints something else"
                );
                ran += 1;
            }
            _ => {}
        }
    }
    assert!(ran >= 2, "README.md shows fewer otasim commands than expected");
}

#[test]
fn readme_polars_example_filters_on_a_snapshot_the_bundled_run_writes() {
    let (_, body, line) = blocks()
        .into_iter()
        .find(|(lang, _, _)| lang == "python")
        .expect("README.md has a python example");
    let label = body
        .split("pl.col(\"time\") == \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("README.md:{line}: no filter on `time`"));
    let tmp = tempfile::tempdir().expect("tempdir");
    let out_dir = tmp.path().join("out");
    let out = run_in_root(&[
        "run".into(),
        "scenarios/rollout.toml".into(),
        "--out".into(),
        out_dir.to_string_lossy().into_owned(),
        "--no-charts".into(),
        "--format".into(),
        "csv".into(),
        "-q".into(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let matrix = std::fs::read_to_string(out_dir.join("matrix.csv")).expect("matrix.csv");
    let rows = matrix
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(1) == Some(label))
        .count();
    assert!(
        rows > 0,
        "README.md:{line}: the bundled run has no matrix rows at time \"{label}\""
    );
}
