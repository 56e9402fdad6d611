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

/// Splits a command line as a POSIX shell would for README's examples: words, and
/// single-quoted words kept whole.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word: Option<String> = None;
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                word.get_or_insert_with(String::new);
            }
            c if c.is_whitespace() && !quoted => out.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    out.extend(word);
    out
}

/// README's commands as typed: lines ending in `\` continue on the next one.
fn commands(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in body.lines() {
        match line.trim_end().strip_suffix('\\') {
            Some(head) => cur.push_str(head),
            None => {
                cur.push_str(line);
                out.push(std::mem::take(&mut cur));
            }
        }
    }
    out
}

/// An `otasim` command line of README as arguments (`cargo run --release --` too),
/// without its trailing `# comment`.
fn command_args(line: &str) -> Option<Vec<String>> {
    let line = line.split(" #").next().unwrap_or(line).trim();
    let rest = line
        .strip_prefix("cargo run --release -- ")
        .or_else(|| line.strip_prefix("otasim "))?;
    Some(words(rest))
}

/// A directory in which README's relative paths work as in a clone (`scenarios/` is
/// the repository's) and its outputs (`out/`) land outside the clone.
fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(root().join("scenarios"), dir.path().join("scenarios"))
        .expect("link scenarios");
    dir
}

fn run_in(dir: &Path, args: &[String]) -> std::process::Output {
    std::process::Command::new(bin())
        .args(args)
        .current_dir(dir)
        .output()
        .expect("start otasim")
}

/// Whether `shown` lines appear in `actual` in order; a line `…` stands for any lines.
fn shows(actual: &str, shown: &[&str]) -> bool {
    if !shown.contains(&"…") {
        return actual.lines().collect::<Vec<_>>() == shown;
    }
    let mut lines = actual.lines();
    shown
        .iter()
        .filter(|l| **l != "…")
        .all(|want| lines.any(|l| l == *want))
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
    // One working directory for the whole README, so a later example may read what an
    // earlier one wrote (`out/`), as a reader following along would.
    let dir = workdir();
    let mut ran = 0;
    for (lang, body, line) in blocks() {
        match lang.as_str() {
            // Commands to type: each otasim command must succeed.
            "sh" => {
                for cmd in commands(&body) {
                    let Some(args) = command_args(&cmd) else {
                        continue;
                    };
                    let out = run_in(dir.path(), &args);
                    // `diff` exits 1 when answers differ, as diff(1) does (R33).
                    let differs = args[0] == "diff" && out.status.code() == Some(1);
                    assert!(
                        out.status.success() || differs,
                        "README.md:{line}: `{cmd}` failed:\n{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    ran += 1;
                }
            }
            // A transcript: `$ command` lines, each followed by what it prints (`…`
            // elides lines). On a terminal the default format is `table`, so the test
            // asks for it when the line does not. `$ cat FILE` shows a file.
            "text" => {
                let cmds = commands(&body);
                let mut i = 0;
                while i < cmds.len() {
                    let Some(cmd) = cmds[i].strip_prefix("$ ") else {
                        i += 1;
                        continue;
                    };
                    let mut j = i + 1;
                    while j < cmds.len() && !cmds[j].starts_with("$ ") {
                        j += 1;
                    }
                    let shown: Vec<&str> = cmds[i + 1..j].iter().map(String::as_str).collect();
                    let actual = if let Some(file) = cmd.strip_prefix("cat ") {
                        std::fs::read_to_string(dir.path().join(file.trim()))
                            .unwrap_or_else(|e| panic!("README.md:{line}: {cmd}: {e}"))
                    } else {
                        let mut args = command_args(cmd).unwrap_or_else(|| {
                            panic!("README.md:{line}: not an otasim command: {cmd}")
                        });
                        let tabular = ["matrix", "resolve", "plan-deltas", "diff"];
                        if !args.iter().any(|a| a == "--format")
                            && tabular.contains(&args[0].as_str())
                        {
                            args.extend(["--format".to_string(), "table".to_string()]);
                        }
                        let out = run_in(dir.path(), &args);
                        assert!(
                            out.status.success(),
                            "README.md:{line}: `{cmd}` failed:\n{}",
                            String::from_utf8_lossy(&out.stderr)
                        );
                        ran += 1;
                        String::from_utf8_lossy(&out.stdout).into_owned()
                    };
                    assert!(
                        shows(&actual, &shown),
                        "README.md:{line}: `{cmd}` prints something else:\n{actual}"
                    );
                    i = j;
                }
            }
            _ => {}
        }
    }
    assert!(
        ran >= 2,
        "README.md shows fewer otasim commands than expected"
    );
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
    let dir = workdir();
    let out_dir = dir.path().join("out");
    let out = run_in(
        dir.path(),
        &[
            "run".into(),
            "scenarios/rollout.toml".into(),
            "--out".into(),
            out_dir.to_string_lossy().into_owned(),
            "--no-charts".into(),
            "--format".into(),
            "csv".into(),
            "-q".into(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
