//! Golden runs: `otasim run S --out DIR --check GOLDEN`, and the bundled scenarios'
//! stored outputs under `tests/golden/`, so that an unintended change of behaviour
//! cannot land silently.
//!
//! To regenerate the stored outputs on purpose (after a deliberate change of
//! behaviour), run `UPDATE_GOLDEN=1 cargo test --test tests golden` and commit
//! `tests/golden/`.

use super::*;

/// The small bundled scenarios whose outputs are stored (CSV only, no charts).
const GOLDEN: [&str; 5] = [
    "approvals",
    "downgrade",
    "mpt-chain",
    "override",
    "project-key-override",
];

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `otasim run scenarios/NAME.toml --out OUT --format csv --no-charts -q [extra]`, run
/// from the repository root so that summary.json names the scenario by a relative path.
fn run_bundled(name: &str, out: &Path, extra: &[&str]) -> Output {
    let scenario = format!("scenarios/{name}.toml");
    let mut args = vec![
        "run",
        scenario.as_str(),
        "--out",
        out.to_str().unwrap(),
        "--format",
        "csv",
        "--no-charts",
        "-q",
    ];
    args.extend_from_slice(extra);
    Command::new(bin())
        .current_dir(manifest_dir())
        .args(&args)
        .output()
        .expect("failed to spawn otasim")
}

#[test]
fn golden_bundled_scenarios_match_their_stored_runs() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    for name in GOLDEN {
        let golden = manifest_dir().join("tests/golden").join(name);
        if update {
            let _ = std::fs::remove_dir_all(&golden);
            std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
            stdout_ok(&run_bundled(name, &golden, &[]));
            continue;
        }
        let tmp = tempfile::tempdir().unwrap();
        let out = run_bundled(
            name,
            &tmp.path().join("out"),
            &["--check", golden.to_str().unwrap()],
        );
        assert!(
            out.status.success(),
            "{name} differs from its golden run (if the change is intended, regenerate with UPDATE_GOLDEN=1 cargo test --test tests golden):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn golden_check_names_the_first_differing_table_row_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let golden = manifest_dir().join("tests/golden/override");
    // Another seed changes summary.json's seed first: the tables of this static
    // scenario do not depend on it.
    let out = run_bundled(
        "override",
        &tmp.path().join("a"),
        &["--seed", "5", "--check", golden.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: --check {}: summary.json differs at \"seed\": golden 1, now 5\n",
            golden.display()
        )
    );
    // Another scenario's run differs in its first table.
    let out = run_bundled(
        "downgrade",
        &tmp.path().join("b"),
        &["--check", golden.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "error: --check {}: table \"matrix\" differs at row 1, column ",
            golden.display()
        )),
        "{stderr}"
    );
    // The outputs are written either way.
    assert!(tmp.path().join("b/matrix.csv").is_file());
    let out = run_bundled(
        "override",
        &tmp.path().join("c"),
        &["--check", "no-such-dir"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: --check no-such-dir: not a directory\n"
    );
}
