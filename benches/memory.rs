//! `memory`: peak memory per device of a whole `otasim run`. Runs
//! `otasim run scenarios/bench-10m.toml --devices N --no-charts -q` as a child process
//! and reads its peak resident set from the kernel (`wait4`'s `ru_maxrss`), then prints
//! it per device row (the starting devices and the arrivals, every row the fleet holds)
//! and per starting device. The target is 64 bytes per row at 100M devices.
//!
//! `cargo bench --bench memory` runs 1M devices (fixed costs weigh more there);
//! `OTASIM_BENCH_DEVICES=10000000` the full size, `98000000` the 100M-row run (the
//! device limit is 100M rows, arrivals included).

use std::process::Command;

fn main() {
    let devices: u64 = std::env::var("OTASIM_BENCH_DEVICES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let out = tempfile::tempdir().expect("a temporary directory");
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/bench-10m.toml");
    // Reaped by `wait4` below, which gives the peak RSS that `Child::wait` does not.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(env!("CARGO_BIN_EXE_otasim"))
        .args(["run", scenario, "--devices", &devices.to_string(), "--out"])
        .arg(out.path())
        .args(["--no-charts", "-q"])
        .spawn()
        .expect("otasim starts");
    let (status, peak) = wait_with_peak(child.id() as i32);
    assert_eq!(status, 0, "otasim run failed");
    let summary: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.path().join("summary.json")).expect("summary.json"),
    )
    .expect("summary.json is JSON");
    let start = summary["devices_start"].as_u64().expect("devices_start");
    let arrived = summary["arrived"].as_u64().expect("arrived");
    let rows = start + arrived;
    println!(
        "memory_{devices}: peak RSS {:.1} MB for {rows} device rows ({start} at the start, {arrived} arriving): {:.1} bytes per row, {:.1} per starting device (target: 64 per row at 100M)",
        peak as f64 / 1e6,
        peak as f64 / rows as f64,
        peak as f64 / start as f64,
    );
}

/// Waits for process `pid`; its exit code and peak resident set in bytes.
fn wait_with_peak(pid: i32) -> (i32, u64) {
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid, and wait4 writes only into the two
    // out-parameters it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4 failed");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    // Linux reports ru_maxrss in kilobytes.
    (code, usage.ru_maxrss as u64 * 1024)
}
