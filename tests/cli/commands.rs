//! The command line: times (`--at`, `tick`), `--fleet`, `[fleet] import`, `run`, and
//! behaviour on a closed pipe.

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;

use super::*;

fn timed() -> Scenario {
    let text = [
        full("2.0.0", "\"evt\" = 20"),
        full("3.0.0", "\"evt\" = 30"),
        activate("\"1d12h\"", "2.0.0", "default"),
        activate("40", "3.0.0", "default"),
        dev("a", "evt", "1.0.0"),
    ]
    .concat();
    Scenario::new("timed.toml", &text)
}

#[test]
fn at_accepts_tick_numbers_and_durations() {
    let sc = timed();
    let none = "a,default,default,1.0.0,none,,,";
    let two = "a,default,default,1.0.0,full,2.0.0,2.0.0,20";
    let three = "a,default,default,1.0.0,full,3.0.0,3.0.0,30";
    for (at, row) in [
        ("0", none),
        ("35", none),
        ("35h", none),
        ("36", two),
        ("36h", two),
        ("1d12h", two),
        ("39", two),
        ("40", three),
        ("40h", three),
        ("2d", three),
    ] {
        check_resolve(&sc.resolve(at), row);
    }
}

#[test]
fn tick_length_sets_what_a_tick_number_means() {
    let text = [
        "tick = \"30m\"\n".to_string(),
        full("2.0.0", "\"evt\" = 20"),
        full("3.0.0", "\"evt\" = 30"),
        activate("\"1h\"", "2.0.0", "default"), // tick 2
        activate("3", "3.0.0", "default"),      // 90 minutes
        dev("a", "evt", "1.0.0"),
    ]
    .concat();
    let sc = Scenario::new("half-hour.toml", &text);
    let none = "a,default,default,1.0.0,none,,,";
    let two = "a,default,default,1.0.0,full,2.0.0,2.0.0,20";
    let three = "a,default,default,1.0.0,full,3.0.0,3.0.0,30";
    for (at, row) in [
        ("1", none),
        ("30m", none),
        ("2", two),
        ("1h", two),
        ("3", three),
        ("90m", three),
    ] {
        check_resolve(&sc.resolve(at), row);
    }
    // 45 minutes is not a whole number of 30-minute ticks.
    let out = otasim(["resolve", sc.p(), "--at", "45m", "--format", "csv"]);
    assert_input_error_is(
        &out,
        &sc,
        "error: --at: \"45m\" is not a whole number of ticks (one tick is 30m)\n",
    );
}

#[test]
fn fleet_flag_replaces_the_scenario_fleet() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = dir.path().join("fleet.csv");
    std::fs::write(
        &fleet,
        "device_id,hardware_version,software_version\nX1,evt,0.9.0\nX2,evt,2.0.0\nX3,evt,2.1.0\nX4,evt,1.0.0\n",
    )
    .unwrap();
    let out = otasim([
        OsStr::new("resolve"),
        bundled("figure-3.toml").as_os_str(),
        OsStr::new("--at"),
        OsStr::new("0"),
        OsStr::new("--format"),
        OsStr::new("csv"),
        OsStr::new("--fleet"),
        fleet.as_os_str(),
    ]);
    check_resolve(
        &stdout_ok(&out),
        "
        X1,default,default,0.9.0,full,2.0.0,2.0.0,2000000
        X2,default,default,2.0.0,delta,2.0.0->2.1.0,2.1.0,150000
        X3,default,default,2.1.0,none,,,
        X4,default,default,1.0.0,full,2.0.0,2.0.0,2000000
        ",
    );
}

#[test]
fn fleet_import_is_relative_to_the_scenario_with_optional_columns() {
    let text = [
        "[[cohorts]]\nname = \"beta\"\n[fleet]\nimport = \"devices.csv\"\n".to_string(),
        full("1.0.0", "\"evt\" = 10"),
        full("2.0.0", "\"evt\" = 20"),
        activate("0", "2.0.0", "beta"),
        // default stores 3 devices: round_half_up(67 * 3 / 100) = 2 = I2 and I4, already staged
        activate_staged("0", "1.0.0", "default", "67"),
    ]
    .concat();
    let sc = Scenario::new("imported.toml", &text);
    std::fs::write(
        sc.dir.path().join("devices.csv"),
        "device_id,hardware_version,software_version,cohort,staged\n\
         I1,evt,0.5.0,beta,false\n\
         I2,evt,0.5.0,default,true\n\
         I3,evt,0.5.0,default,false\n\
         I4,evt,0.5.0,default,true\n",
    )
    .unwrap();
    check_resolve(
        &sc.resolve("0"),
        "
        I1,beta,beta,0.5.0,full,2.0.0,2.0.0,20
        I2,default,default,0.5.0,full,1.0.0,1.0.0,10
        I3,default,default,0.5.0,none,,,
        I4,default,default,0.5.0,full,1.0.0,1.0.0,10
        ",
    );
}

#[test]
fn run_writes_outputs() {
    let text = [
        "duration = \"2d\"\nseed = 1\n".to_string(),
        full("2.0.0", "\"evt\" = 20"),
        activate("0", "2.0.0", "default"),
        dev("a", "evt", "1.0.0"),
    ]
    .concat();
    let sc = Scenario::new("run.toml", &text);
    let out_dir = sc.dir.path().join("out");
    let out = otasim(["run", sc.p(), "--out", out_dir.to_str().unwrap()]);
    stdout_ok(&out);
    let n = std::fs::read_dir(&out_dir).map(|d| d.count()).unwrap_or(0);
    assert!(n > 0, "run --out wrote nothing");
}

#[test]
fn broken_pipe_is_not_an_error() {
    // Enough rows (~300 KB) to overflow a pipe buffer after the reader goes away.
    let mut text = [
        full("2.0.0", "\"evt\" = 20"),
        activate("0", "2.0.0", "default"),
    ]
    .concat();
    for i in 0..5000 {
        text.push_str(&dev(&format!("SN-{i:05}"), "evt", "1.0.0"));
    }
    let sc = Scenario::new("pipe.toml", &text);
    let mut child = std::process::Command::new(bin())
        .args(["resolve", sc.p(), "--at", "0", "--format", "csv"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn otasim");
    let mut first = String::new();
    {
        let stdout = child.stdout.take().unwrap();
        let mut reader = BufReader::new(stdout);
        reader.read_line(&mut first).unwrap();
        // `reader` (and the pipe) is dropped here, like `| head -1`.
    }
    assert_eq!(first.trim_end(), RESOLVE_HEADER);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(
        !stderr.contains("error:"),
        "a closed pipe is not an error\n{stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "panicked on a closed pipe\n{stderr}"
    );
    assert_ne!(
        status.code(),
        Some(101),
        "panicked on a closed pipe\n{stderr}"
    );
}
