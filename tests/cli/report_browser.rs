//! `report.html` of a real run as headless Chromium renders it: the planner's figures
//! (time to reach, bandwidth per release, egress per day and peak rates) are on the
//! page the browser built, and the screenshot is not blank.
//!
//! Ignored by plain `cargo test` (it needs `/usr/bin/chromium`); `.ci/run` installs
//! Chromium and runs it, and there it fails if the browser cannot run.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::*;

/// Runs Chromium headless on `page` with `args`, bounded in time; returns stdout.
fn chromium(page: &Path, profile: &Path, args: &[&str]) -> Vec<u8> {
    let exe = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(Path::new)
        .find(|p| p.exists())
        .expect("headless Chromium (/usr/bin/chromium) is needed: apt-get install chromium");
    let out = tempfile::NamedTempFile::new().expect("temp file");
    let mut child = Command::new(exe)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(out.reopen().expect("reopen"))
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(status.success(), "chromium exited with {status}");
    std::fs::read(out.path()).expect("chromium output")
}

#[test]
#[ignore = "needs headless Chromium; .ci/run runs it"]
fn run_report_shows_the_planner_figures_in_headless_chromium() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    stdout_ok(&otasim([
        "run",
        "scenarios/rollout.toml",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]));
    let page = std::fs::canonicalize(out.join("report.html")).expect("report written");
    let profile = tempfile::tempdir().expect("tempdir");

    // The DOM as the browser built it: every table and figure is there.
    let dom = String::from_utf8(chromium(&page, profile.path(), &["--dump-dom"])).unwrap();
    for needle in [
        "<h3>Time to reach</h3>",
        "<h3>Bandwidth per release</h3>",
        "<h3>Egress per day</h3>",
        "Peak egress per day",
        "Mbit/s",
        "release 2.0.0-&gt;2.1.0",
        "<th scope=\"row\">2.1.0</th>",
        "Offered no update at the end",
    ] {
        assert!(dom.contains(needle), "the rendered page lacks {needle:?}");
    }
    // Thousands separators in the figures.
    assert!(
        dom.contains("210,658 / 210,718"),
        "installed / can get, grouped"
    );

    // And the page is drawn: a full-page screenshot with ink on it.
    let shot = dir.path().join("report.png");
    chromium(
        &page,
        profile.path(),
        &[
            "--window-size=1280,2400",
            &format!("--screenshot={}", shot.display()),
        ],
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert_eq!(&png[1..4], b"PNG");
    // IHDR: width and height, big-endian, at bytes 16..24.
    let (w, h) = (
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        u32::from_be_bytes(png[20..24].try_into().unwrap()),
    );
    assert_eq!((w, h), (1280, 2400));
    assert!(
        png.len() > 100_000,
        "a screenshot of a whole report is not {} bytes",
        png.len()
    );
}
