//! `otasim compare DIR_A DIR_B`: headline figures side by side and the HTML page.

use super::runs::*;
use super::*;

/// 100 devices offered 2.0.0, whose every install fails, under a gate that aborts at
/// `threshold` % failures.
fn scenario(threshold: u32) -> String {
    [
        settings(3, "1h", "1d"),
        full("1.0.0", "\"evt\" = 1000"),
        full("2.0.0", "\"evt\" = 1000"),
        "install_failure_probability = 1\n".to_string(),
        behaviour("2h", ""),
        group_fleet("all", 100, "evt", "1.0.0"),
        event(
            "0",
            "activate",
            &format!("release = \"2.0.0\"; cohort = \"default\"; gate = {{ max_failure_percent = {threshold}, min_attempts = 10, action = \"abort\" }}"),
        ),
    ]
    .concat()
}

#[test]
fn compare_two_runs_side_by_side() {
    let a = Scenario::new("a.toml", &scenario(5));
    let b = Scenario::new("b.toml", &scenario(100));
    let ra = run_ok(&a, "out", &[]);
    let rb = run_ok(&b, "out", &[]);
    let page = a.dir.path().join("cmp.html");
    let out = otasim([
        "compare",
        ra.dir.to_str().unwrap(),
        rb.dir.to_str().unwrap(),
        "--out",
        page.to_str().unwrap(),
    ]);
    let stdout = stdout_ok(&out);
    let failed_a = ra.summary_u64(&["installs_failed", "full"]);
    let failed_b = rb.summary_u64(&["installs_failed", "full"]);
    assert!(failed_a < failed_b);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("installs failed"))
        .unwrap();
    let fields: Vec<&str> = line.split_whitespace().collect();
    let n = |s: &str| s.replace(',', "").parse::<u64>().unwrap();
    assert_eq!(
        fields[2..].iter().map(|s| n(s)).collect::<Vec<_>>(),
        [failed_a, failed_b, failed_b - failed_a]
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("Devices at their final version"));
    assert!(html.contains("Egress per tick"));
    assert!(html.matches("<svg").count() >= 2);
}

#[test]
fn compare_needs_run_directories() {
    let a = Scenario::new("a.toml", &scenario(5));
    let ra = run_ok(&a, "out", &[]);
    let missing = a.dir.path().join("nothing");
    let out = otasim([
        "compare",
        ra.dir.to_str().unwrap(),
        missing.to_str().unwrap(),
        "--out",
        a.dir.path().join("c.html").to_str().unwrap(),
    ]);
    assert_input_error_is(&out, &a, "error: DIR/nothing/summary.json: cannot read (is it an `otasim run` output directory?): No such file or directory (os error 2)\n");
    assert!(!a.dir.path().join("c.html").exists());
}
