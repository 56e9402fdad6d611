//! `otasim plan-deltas` (R27–R31): hand-computed fleets, the CSV contract, errors.

use super::*;

/// The plan header (spec §10).
const PLAN_HEADER: &str =
    "strategy,from_version,to_version,stored_bytes,devices,fleet_bytes,saved_bytes";
/// The `--candidates` header.
const CANDIDATES_HEADER: &str =
    "from_version,to_version,hardware_version,full_bytes,delta_bytes,devices";

/// Full payloads of 1000 bytes; 1.5.0 is must-pass-through; 1.0.0, 1.5.0 and 2.0.0 are
/// active. Devices: 3 on 1.0.0, 2 on 1.2.0, 2 on 1.4.0, 1 on 1.5.0, all `evt`.
/// Without a plan everyone below 1.5.0 walks X -> 1.5.0 -> 2.0.0 (2000 bytes) and the
/// device on 1.5.0 walks to 2.0.0 (1000): 7 × 2000 + 1000 = 15000 bytes.
fn mpt_fleet(extra: &str) -> Scenario {
    let mut s = String::new();
    s += &full("1.0.0", "\"evt\" = 1000");
    s += &mpt("1.5.0", "\"evt\" = 1000");
    s += &full("2.0.0", "\"evt\" = 1000");
    for (i, v) in [
        "1.0.0", "1.0.0", "1.0.0", "1.2.0", "1.2.0", "1.4.0", "1.4.0", "1.5.0",
    ]
    .iter()
    .enumerate()
    {
        s += &dev(&format!("d{i}"), "evt", v);
    }
    s += extra;
    for r in ["1.0.0", "1.5.0", "2.0.0"] {
        s += &activate("0", r, "default");
    }
    Scenario::new("plan.toml", &s)
}

fn plan(sc: &Scenario, args: &[&str]) -> String {
    let mut all = vec!["plan-deltas", sc.p(), "--to", "2.0.0", "--format", "csv"];
    all.extend_from_slice(args);
    stdout_ok(&otasim(all))
}

#[track_caller]
fn check_plan(actual: &str, rows: &str) {
    check_csv(actual, &format!("{PLAN_HEADER}\n{rows}"));
}

#[test]
fn r31_optimal_beats_top_n_on_a_hand_computed_fleet() {
    // K = 1. A delta from 1.0.0 (most devices) saves 3 × (2000 − 100) = 5700; a delta
    // from the MPT version 1.5.0 serves everyone who passes through it:
    // 7 × (1000 − 100) + (1000 − 100) = 7200.
    let sc = mpt_fleet("");
    check_plan(
        &plan(&sc, &["--delta-ratio", "0.1", "--budget", "1"]),
        "baseline,,,0,0,15000,0
         top_n,1.0.0,2.0.0,100,3,9300,5700
         greedy,1.5.0,2.0.0,100,8,7800,7200
         optimal,1.5.0,2.0.0,100,8,7800,7200",
    );
}

#[test]
fn r29_a_delta_lets_devices_skip_a_must_pass_through_step() {
    // The delta 1.0.0 -> 2.0.0 replaces both steps (1.0.0 -> 1.5.0 -> 2.0.0), not only
    // the last: 3 × (2000 − 100) saved, not 3 × (1000 − 100).
    let sc = mpt_fleet("");
    check_plan(
        &plan(&sc, &["--delta-ratio", "0.1", "--from", "1.0.0"]),
        "baseline,,,0,0,15000,0
         top_n,1.0.0,2.0.0,100,3,9300,5700
         greedy,1.0.0,2.0.0,100,3,9300,5700
         optimal,1.0.0,2.0.0,100,3,9300,5700",
    );
}

#[test]
fn r29_two_candidates_serving_the_same_devices_do_not_add_up() {
    // Alone, 1.0.0 saves 5700 and 1.5.0 saves 7200; together 10200, not 12900: the
    // devices on 1.0.0 no longer pass through 1.5.0. top_n takes 1.0.0, then 1.4.0
    // (2 devices, the higher of the two tied versions): 5700 + 2 × 1900 = 9500.
    let sc = mpt_fleet("");
    check_plan(
        &plan(&sc, &["--delta-ratio", "0.1", "--budget", "2"]),
        "baseline,,,0,0,15000,0
         top_n,1.0.0,2.0.0,100,3,5500,9500
         top_n,1.4.0,2.0.0,100,2,5500,9500
         greedy,1.0.0,2.0.0,100,3,4800,10200
         greedy,1.5.0,2.0.0,100,5,4800,10200
         optimal,1.0.0,2.0.0,100,3,4800,10200
         optimal,1.5.0,2.0.0,100,5,4800,10200",
    );
}

#[test]
fn r31_a_delta_larger_than_the_full_payload_is_never_chosen() {
    // 1.5.0 -> 2.0.0 costs 1500 bytes, more than the 1000-byte Full payload it would
    // replace. The others (ratio 0.1) save 5700 (1.0.0) and 3800 (1.2.0, 1.4.0).
    // greedy breaks the 3800 tie by the higher F; optimal by the sorted From versions.
    let sizes = "\n[[delta_sizes]]\nfrom = \"1.5.0\"\nto = \"2.0.0\"\nhardware_version = \"evt\"\nbytes = 1500\n";
    let sc = mpt_fleet(sizes);
    check_plan(
        &plan(&sc, &["--delta-ratio", "0.1", "--budget", "3"]),
        "baseline,,,0,0,15000,0
         top_n,1.0.0,2.0.0,100,3,1700,13300
         top_n,1.2.0,2.0.0,100,2,1700,13300
         top_n,1.4.0,2.0.0,100,2,1700,13300
         greedy,1.0.0,2.0.0,100,3,1700,13300
         greedy,1.2.0,2.0.0,100,2,1700,13300
         greedy,1.4.0,2.0.0,100,2,1700,13300
         optimal,1.0.0,2.0.0,100,3,1700,13300
         optimal,1.2.0,2.0.0,100,2,1700,13300
         optimal,1.4.0,2.0.0,100,2,1700,13300",
    );
    check_plan(
        &plan(&sc, &["--delta-ratio", "0.1", "--budget", "2"]),
        "baseline,,,0,0,15000,0
         top_n,1.0.0,2.0.0,100,3,5500,9500
         top_n,1.4.0,2.0.0,100,2,5500,9500
         greedy,1.0.0,2.0.0,100,3,5500,9500
         greedy,1.4.0,2.0.0,100,2,5500,9500
         optimal,1.0.0,2.0.0,100,3,5500,9500
         optimal,1.2.0,2.0.0,100,2,5500,9500",
    );
    // The candidate table shows the size, and says so on a terminal-style table.
    let out = stdout_ok(&otasim([
        "plan-deltas",
        sc.p(),
        "--to",
        "2.0.0",
        "--delta-ratio",
        "0.1",
        "--candidates",
        "--format",
        "table",
    ]));
    let row = out.lines().find(|l| l.starts_with("1.5.0")).unwrap();
    assert!(
        row.contains("1500") && row.contains("not smaller than the full payload"),
        "{out}"
    );
}

#[test]
fn r31_the_byte_budget_limits_every_strategy() {
    // Deltas of 100 bytes, at most 150 stored bytes: one delta.
    let sc = mpt_fleet("");
    check_plan(
        &plan(&sc, &["--delta-ratio", "0.1", "--max-stored-bytes", "150"]),
        "baseline,,,0,0,15000,0
         top_n,1.0.0,2.0.0,100,3,9300,5700
         greedy,1.5.0,2.0.0,100,8,7800,7200
         optimal,1.5.0,2.0.0,100,8,7800,7200",
    );
    // Nothing fits: every plan is empty.
    check_plan(
        &plan(&sc, &["--delta-ratio", "0.1", "--max-stored-bytes", "99"]),
        "baseline,,,0,0,15000,0
         top_n,,,0,0,15000,0
         greedy,,,0,0,15000,0
         optimal,,,0,0,15000,0",
    );
}

#[test]
fn r31_optimal_uses_the_byte_budget_better_than_greedy() {
    // Sizes: 1.0.0 costs 500 (saves 3 × 1500 = 4500), 1.2.0 and 1.4.0 cost 300 each
    // (save 2 × 1700 = 3400 each), 1.5.0 costs 600 (saves 7 × 400 + 400 = 3200).
    // With 600 stored bytes, greedy and top_n take 1.0.0 and then nothing fits;
    // optimal takes 1.2.0 and 1.4.0 (6800).
    let mut sizes = String::new();
    for (f, b) in [
        ("1.0.0", 500),
        ("1.2.0", 300),
        ("1.4.0", 300),
        ("1.5.0", 600),
    ] {
        sizes += &format!("\n[[delta_sizes]]\nfrom = \"{f}\"\nto = \"2.0.0\"\nhardware_version = \"evt\"\nbytes = {b}\n");
    }
    let sc = mpt_fleet(&sizes);
    check_plan(
        &plan(&sc, &["--max-stored-bytes", "600"]),
        "baseline,,,0,0,15000,0
         top_n,1.0.0,2.0.0,500,3,10500,4500
         greedy,1.0.0,2.0.0,500,3,10500,4500
         optimal,1.2.0,2.0.0,300,2,8200,6800
         optimal,1.4.0,2.0.0,300,2,8200,6800",
    );
}

#[test]
fn r27_candidates_are_reported_and_passed_through_versions_without_a_delta() {
    // 1.5.0 is a candidate although one device reports it and the others pass through
    // it; 1.2.0 -> 2.0.0 exists, so 1.2.0 is not a candidate; `dvt` has no 2.0.0
    // payload, so it has no row; 3.0.0 is above V.
    let mut s = String::new();
    s += &full("1.0.0", "\"evt\" = 1000, \"dvt\" = 900");
    s += &mpt("1.5.0", "\"evt\" = 1000");
    s += &full("2.0.0", "\"evt\" = 1000, \"pvt\" = 1200");
    s += &full("3.0.0", "\"evt\" = 1000");
    s += &delta("1.2.0", "2.0.0", "\"evt\" = 10");
    s += &dev("a", "evt", "1.0.0");
    s += &dev("b", "dvt", "1.0.0");
    s += &dev("c", "evt", "1.2.0");
    s += &dev("d", "evt", "3.0.0");
    s += &dev("e", "pvt", "0.9.0");
    for r in ["1.5.0", "2.0.0"] {
        s += &activate("0", r, "default");
    }
    let sc = Scenario::new("cands.toml", &s);
    let out = stdout_ok(&otasim([
        "plan-deltas",
        sc.p(),
        "--to",
        "2.0.0",
        "--delta-ratio",
        "0.25",
        "--candidates",
        "--format",
        "csv",
    ]));
    check_csv(
        &out,
        &format!(
            "{CANDIDATES_HEADER}
             0.9.0,2.0.0,evt,1000,250,0
             0.9.0,2.0.0,pvt,1200,300,1
             1.0.0,2.0.0,evt,1000,250,1
             1.0.0,2.0.0,pvt,1200,300,0
             1.5.0,2.0.0,evt,1000,250,0
             1.5.0,2.0.0,pvt,1200,300,0"
        ),
    );
    // --from restricts the candidates.
    let out = stdout_ok(&otasim([
        "plan-deltas",
        sc.p(),
        "--to",
        "2.0.0",
        "--delta-ratio",
        "0.25",
        "--candidates",
        "--format",
        "csv",
        "--from",
        "1.5.0,0.9.0",
    ]));
    check_csv(
        &out,
        &format!(
            "{CANDIDATES_HEADER}
             0.9.0,2.0.0,evt,1000,250,0
             0.9.0,2.0.0,pvt,1200,300,1
             1.5.0,2.0.0,evt,1000,250,0
             1.5.0,2.0.0,pvt,1200,300,0"
        ),
    );
}

#[test]
fn r28_planned_deltas_follow_the_staged_rollout_of_v() {
    // V is a 50 % staged rollout in `default` (2 of 4 devices staged, R19): only those
    // walk to 2.0.0, and only they take the planned delta, activated the same way.
    let mut s = String::from("seed = 3\n");
    s += &full("1.0.0", "\"evt\" = 1000");
    s += &full("2.0.0", "\"evt\" = 1000");
    for i in 0..4 {
        s += &dev(&format!("d{i}"), "evt", "1.0.0");
    }
    s += &activate_staged("0", "2.0.0", "default", "50");
    let sc = Scenario::new("staged.toml", &s);
    check_plan(
        &plan(&sc, &["--delta-ratio", "0.1"]),
        "baseline,,,0,0,2000,0
         top_n,1.0.0,2.0.0,100,2,200,1800
         greedy,1.0.0,2.0.0,100,2,200,1800
         optimal,1.0.0,2.0.0,100,2,200,1800",
    );
}

#[test]
fn r29_a_walk_that_cycles_is_an_error_naming_the_device() {
    // In a cohort with version checking disabled (R17) a device on 1.0.0 takes the
    // delta to 2.0.0, then the highest active Full release, 1.0.0, again.
    let mut s = String::from("\n[[cohorts]]\nname = \"lab\"\ndisable_version_checking = true\n");
    s += &full("1.0.0", "\"evt\" = 1000");
    s += &full("2.0.0", "\"evt\" = 1000");
    s += &full("3.0.0", "\"evt\" = 1000");
    s += &delta("1.0.0", "2.0.0", "\"evt\" = 100");
    s += &dev_with("L-7", "evt", "1.0.0", "cohort = \"lab\"");
    s += &activate("0", "1.0.0", "lab");
    s += &activate("0", "1.0.0->2.0.0", "lab");
    s += &activate("0", "3.0.0", "default");
    let sc = Scenario::new("cycle.toml", &s);
    let out = otasim([
        "plan-deltas",
        sc.p(),
        "--to",
        "3.0.0",
        "--delta-ratio",
        "0.1",
        "--format",
        "csv",
    ]);
    assert_cli_error(&out, &[]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: device \"L-7\" (on 1.0.0) has an update walk that cycles, so its fleet bytes are undefined (R24, R29)\n"
    );
}

#[track_caller]
fn assert_error(out: &std::process::Output, message: &str) {
    assert_cli_error(out, &[]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("error: {message}\n")
    );
}

#[test]
fn r27_errors_name_the_flag_for_an_unknown_or_delta_target() {
    let sc = mpt_fleet(&delta("1.0.0", "2.0.0", "\"evt\" = 100"));
    let run = |to: &str| otasim(["plan-deltas", sc.p(), "--to", to, "--delta-ratio", "0.1"]);
    assert_error(&run("9.9.9"), "--to: unknown release \"9.9.9\"");
    assert_error(
        &run("1.0.0->2.0.0"),
        "--to: 1.0.0->2.0.0 is a delta release; the target of a plan must be a full release (R27)",
    );
}

#[test]
fn r30_no_size_model_is_an_input_error() {
    let sc = mpt_fleet("");
    assert_error(
        &otasim(["plan-deltas", sc.p(), "--to", "2.0.0"]),
        "no delta size model: give --delta-ratio R, --sizes FILE, --images DIR, or [[delta_sizes]] in the scenario (R30)",
    );
}

#[test]
fn r30_negative_sizes_are_input_errors_with_their_place() {
    let sizes = "\n[[delta_sizes]]\nfrom = \"1.0.0\"\nto = \"2.0.0\"\nhardware_version = \"evt\"\nbytes = -5\n";
    let sc = mpt_fleet(sizes);
    let out = otasim(["plan-deltas", sc.p(), "--to", "2.0.0"]);
    assert_input_error_is(
        &out,
        &sc,
        "error: DIR/plan.toml:59: delta_sizes 1: bytes -5 is negative\n",
    );

    let sc = mpt_fleet("");
    let table = sc.dir.path().join("sizes.csv");
    std::fs::write(
        &table,
        "from,to,hardware_version,bytes\n1.0.0,2.0.0,evt,7\n1.2.0,2.0.0,evt,-3\n",
    )
    .unwrap();
    let out = otasim([
        "plan-deltas",
        sc.p(),
        "--to",
        "2.0.0",
        "--sizes",
        table.to_str().unwrap(),
    ]);
    assert_error(
        &out,
        &format!("--sizes {}: row 2: bytes -3 is negative", table.display()),
    );
    assert_error(
        &otasim([
            "plan-deltas",
            sc.p(),
            "--to",
            "2.0.0",
            "--delta-ratio",
            "-0.5",
        ]),
        "--delta-ratio: -0.5 is negative",
    );
}

#[test]
fn r30_explicit_sizes_come_before_the_ratio() {
    // --sizes gives 1.0.0 -> 2.0.0 = 7 bytes; the ratio gives the others 100.
    let sc = mpt_fleet("");
    let table = sc.dir.path().join("sizes.csv");
    std::fs::write(
        &table,
        "from,to,hardware_version,bytes\n1.0.0,2.0.0,evt,7\n1.0.0,3.0.0,evt,1\n",
    )
    .unwrap();
    let out = stdout_ok(&otasim([
        "plan-deltas",
        sc.p(),
        "--to",
        "2.0.0",
        "--sizes",
        table.to_str().unwrap(),
        "--delta-ratio",
        "0.1",
        "--candidates",
        "--format",
        "csv",
    ]));
    check_csv(
        &out,
        &format!(
            "{CANDIDATES_HEADER}
             1.0.0,2.0.0,evt,1000,7,3
             1.2.0,2.0.0,evt,1000,100,2
             1.4.0,2.0.0,evt,1000,100,2
             1.5.0,2.0.0,evt,1000,100,1"
        ),
    );
    // Without the ratio, unknown sizes stay empty and such deltas have no payload.
    let out = stdout_ok(&otasim([
        "plan-deltas",
        sc.p(),
        "--to",
        "2.0.0",
        "--sizes",
        table.to_str().unwrap(),
        "--candidates",
        "--format",
        "csv",
    ]));
    check_csv(
        &out,
        &format!(
            "{CANDIDATES_HEADER}
             1.0.0,2.0.0,evt,1000,7,3
             1.2.0,2.0.0,evt,1000,,2
             1.4.0,2.0.0,evt,1000,,2
             1.5.0,2.0.0,evt,1000,,1"
        ),
    );
}

#[test]
fn r31_a_search_stopped_by_the_time_limit_is_not_labelled_optimal() {
    // With no time at all the search stops after its first node: the plan is the best
    // found so far (greedy's here: 1.5.0 first, then 1.0.0, 1.2.0, 1.4.0), labelled
    // best_found, with the proven bound on stderr.
    let sc = mpt_fleet("");
    let out = otasim([
        "plan-deltas",
        sc.p(),
        "--to",
        "2.0.0",
        "--delta-ratio",
        "0.1",
        "--format",
        "csv",
        "--time-limit",
        "0",
    ]);
    let csv = stdout_ok(&out);
    check_plan(
        &csv,
        "baseline,,,0,0,15000,0
         top_n,1.0.0,2.0.0,100,3,800,14200
         top_n,1.2.0,2.0.0,100,2,800,14200
         top_n,1.4.0,2.0.0,100,2,800,14200
         top_n,1.5.0,2.0.0,100,1,800,14200
         greedy,1.0.0,2.0.0,100,3,800,14200
         greedy,1.2.0,2.0.0,100,2,800,14200
         greedy,1.4.0,2.0.0,100,2,800,14200
         greedy,1.5.0,2.0.0,100,1,800,14200
         best_found,1.0.0,2.0.0,100,3,800,14200
         best_found,1.2.0,2.0.0,100,2,800,14200
         best_found,1.4.0,2.0.0,100,2,800,14200
         best_found,1.5.0,2.0.0,100,1,800,14200",
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "warning: --time-limit reached before the search finished: the plan labelled best_found saves 14200 bytes; no plan within the budget saves more than 14200 bytes (proven gap 0 bytes)\n"
    );
    // Without a limit the same plan is proven optimal.
    assert!(plan(&sc, &["--delta-ratio", "0.1"]).contains("\noptimal,1.5.0,2.0.0,100,1,800,14200"));
}

/// Pseudo-random bytes (xorshift), reproducible from `seed`.
fn noise(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Firmware-like images of successive versions: each is the previous one with a few
/// regions rewritten and some bytes appended.
fn write_images(dir: &std::path::Path) {
    let mut image = noise(1, 60_000);
    std::fs::create_dir_all(dir.join("evt")).unwrap();
    for (i, v) in ["1.0.0", "1.2.0", "1.4.0", "1.5.0", "2.0.0"]
        .iter()
        .enumerate()
    {
        let at = 5_000 * (i + 1);
        image[at..at + 300].copy_from_slice(&noise(10 + i as u64, 300));
        image.extend_from_slice(&noise(20 + i as u64, 700));
        std::fs::write(dir.join("evt").join(format!("{v}.bin")), &image).unwrap();
    }
}

#[test]
fn r30_images_give_real_patch_sizes_and_written_patches_apply_with_zstd() {
    let sc = mpt_fleet("");
    let images = sc.dir.path().join("images");
    write_images(&images);
    let out_dir = sc.dir.path().join("patches");
    let args = [
        "plan-deltas",
        sc.p(),
        "--to",
        "2.0.0",
        "--format",
        "csv",
        "--images",
        images.to_str().unwrap(),
        "--write-patches",
        out_dir.to_str().unwrap(),
    ];
    let first = stdout_ok(&otasim(args));
    assert!(
        images.join(".otasim-patch-sizes").is_file(),
        "the size cache is written"
    );
    let rows: Vec<Vec<&str>> = first
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .filter(|r: &Vec<&str>| r[0] == "optimal")
        .collect();
    assert!(!rows.is_empty() && !rows[0][1].is_empty(), "{first}");
    for r in &rows {
        let (from, stored) = (r[1], r[3].parse::<u64>().unwrap());
        let patch = out_dir.join("evt").join(format!("{from}-to-2.0.0.zst"));
        assert_eq!(std::fs::metadata(&patch).unwrap().len(), stored, "{first}");
        // Real patches of a 60 KB image with a few changed regions are small.
        assert!(stored < 6_000, "{first}");
        let applied = sc.dir.path().join(format!("{from}.applied"));
        let status = std::process::Command::new("/usr/bin/zstd")
            .arg("-d")
            .arg("-q")
            .arg("-f")
            .arg(format!(
                "--patch-from={}",
                images.join("evt").join(format!("{from}.bin")).display()
            ))
            .arg(&patch)
            .arg("-o")
            .arg(&applied)
            .status()
            .expect("the zstd command line tool");
        assert!(status.success());
        assert_eq!(
            std::fs::read(&applied).unwrap(),
            std::fs::read(images.join("evt").join("2.0.0.bin")).unwrap()
        );
    }
    // A second run reads the sizes from the cache and prints the same plan.
    let second = stdout_ok(&otasim(&args[..8]));
    assert_eq!(first, second);
}

#[test]
fn r30_a_missing_or_unreadable_image_is_an_error_naming_its_path() {
    let sc = mpt_fleet("");
    let images = sc.dir.path().join("images");
    write_images(&images);
    let missing = images.join("evt").join("1.2.0.bin");
    std::fs::remove_file(&missing).unwrap();
    let run = || {
        otasim([
            "plan-deltas",
            sc.p(),
            "--to",
            "2.0.0",
            "--format",
            "csv",
            "--images",
            images.to_str().unwrap(),
        ])
    };
    assert_error(
        &run(),
        &format!(
            "--images: missing image {} (hardware version \"evt\", version 1.2.0)",
            missing.display()
        ),
    );
    std::fs::create_dir(&missing).unwrap();
    let out = run();
    assert_cli_error(
        &out,
        &[&format!(
            "--images: cannot read image {}: ",
            missing.display()
        )],
    );
}

#[test]
fn r31_bundled_delta_planning_top_n_loses_to_the_mpt_delta() {
    let path = bundled("delta-planning.toml");
    let out = stdout_ok(&otasim([
        "plan-deltas",
        path.to_str().unwrap(),
        "--to",
        "3.3.0",
        "--budget",
        "3",
        "--format",
        "csv",
    ]));
    check_plan(
        &out,
        "baseline,,,0,0,4342680000000,0
         top_n,2.0.0,3.3.0,28560000,18000,2522456000000,1820224000000
         top_n,2.1.0,3.3.0,27540000,16000,2522456000000,1820224000000
         top_n,3.2.0,3.3.0,5100000,20000,2522456000000,1820224000000
         greedy,2.0.0,3.3.0,28560000,18000,2267024000000,2075656000000
         greedy,3.0.0,3.3.0,12240000,50000,2267024000000,2075656000000
         greedy,3.2.0,3.3.0,5100000,20000,2267024000000,2075656000000
         optimal,2.0.0,3.3.0,28560000,18000,2267024000000,2075656000000
         optimal,3.0.0,3.3.0,12240000,50000,2267024000000,2075656000000
         optimal,3.2.0,3.3.0,5100000,20000,2267024000000,2075656000000",
    );
}

#[test]
fn r31_chart_draws_the_knee_curve_of_every_strategy() {
    let sc = mpt_fleet("");
    let svg = sc.dir.path().join("knee.svg");
    let png = sc.dir.path().join("knee.png");
    for path in [&svg, &png] {
        let out = plan(
            &sc,
            &[
                "--delta-ratio",
                "0.1",
                "--budget",
                "2",
                "--chart",
                path.to_str().unwrap(),
            ],
        );
        assert!(out.starts_with(PLAN_HEADER), "{out}");
    }
    let text = std::fs::read_to_string(&svg).unwrap();
    for label in ["top_n", "greedy", "optimal", "deltas allowed (K)"] {
        assert!(text.contains(label), "{label} missing from the chart");
    }
    assert_eq!(&std::fs::read(&png).unwrap()[1..4], b"PNG");
}

#[test]
fn r30_bsdiff_patches_are_written_in_bsdiff40_and_apply() {
    use otasim::plan::patch::DeltaFormat;
    let sc = mpt_fleet("");
    let images = sc.dir.path().join("images");
    write_images(&images);
    let out_dir = sc.dir.path().join("patches");
    let csv = stdout_ok(&otasim([
        "plan-deltas",
        sc.p(),
        "--to",
        "2.0.0",
        "--format",
        "csv",
        "--images",
        images.to_str().unwrap(),
        "--delta-format",
        "bsdiff",
        "--write-patches",
        out_dir.to_str().unwrap(),
    ]));
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|r| r[0] == "optimal")
        .collect();
    assert!(!rows.is_empty() && !rows[0][1].is_empty(), "{csv}");
    for r in rows {
        let patch = std::fs::read(
            out_dir
                .join("evt")
                .join(format!("{}-to-2.0.0.bsdiff", r[1])),
        )
        .unwrap();
        assert_eq!(patch.len() as u64, r[3].parse::<u64>().unwrap());
        assert_eq!(&patch[..8], b"BSDIFF40");
        let from = std::fs::read(images.join("evt").join(format!("{}.bin", r[1]))).unwrap();
        let to = std::fs::read(images.join("evt").join("2.0.0.bin")).unwrap();
        assert_eq!(DeltaFormat::Bsdiff.apply(&from, &patch).unwrap(), to);
    }
}

#[test]
fn r30_sizes_table_may_be_parquet() {
    use polars::prelude::{Column, DataFrame};
    let sc = mpt_fleet("");
    let path = sc.dir.path().join("sizes.parquet");
    let mut df = DataFrame::new_infer_height(vec![
        Column::new("from".into(), ["1.0.0", "1.5.0"]),
        Column::new("to".into(), ["2.0.0", "2.0.0"]),
        Column::new("hardware_version".into(), ["evt", "evt"]),
        Column::new("bytes".into(), [7i64, 9]),
    ])
    .unwrap();
    otasim::table_out::write_parquet(&path, &mut df).unwrap();
    let out = stdout_ok(&otasim([
        "plan-deltas",
        sc.p(),
        "--to",
        "2.0.0",
        "--sizes",
        path.to_str().unwrap(),
        "--candidates",
        "--format",
        "csv",
    ]));
    check_csv(
        &out,
        &format!(
            "{CANDIDATES_HEADER}
             1.0.0,2.0.0,evt,1000,7,3
             1.2.0,2.0.0,evt,1000,,2
             1.4.0,2.0.0,evt,1000,,2
             1.5.0,2.0.0,evt,1000,9,1"
        ),
    );
}

/// `mpt_fleet` with devices that poll every tick, never fail and download at once: over
/// 12 hourly ticks every device completes its whole R24 walk, each step once.
fn polling_mpt_fleet() -> Scenario {
    let text = format!(
        "tick = \"1h\"\nduration = \"12h\"\n{}\n[behaviour]\npoll_interval = \"1h\"\n",
        mpt_fleet("").text
    );
    Scenario::new("plan.toml", &text)
}

#[test]
fn r29_evaluate_simulates_exactly_the_r29_bytes_and_saving_when_every_walk_completes() {
    let sc = polling_mpt_fleet();
    let plans = plan(&sc, &["--delta-ratio", "0.3", "--budget", "1"]);
    let rows: Vec<Vec<&str>> = plans
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let baseline: u64 = rows[0][5].parse().unwrap();
    let optimal = rows.iter().find(|r| r[0] == "optimal").unwrap();
    let (with_plan, saved): (u64, u64) = (optimal[5].parse().unwrap(), optimal[6].parse().unwrap());
    assert_eq!(baseline, 15_000, "7 walks of 2,000 bytes and one of 1,000");
    assert!(saved > 0, "{plans}");

    let out = plan(
        &sc,
        &["--delta-ratio", "0.3", "--budget", "1", "--evaluate"],
    );
    let rows: Vec<Vec<&str>> = out.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows[0],
        [
            "run",
            "bytes",
            "cost",
            "peak_bytes_per_tick",
            "ticks_to_95_percent",
            "time_to_95_percent"
        ]
    );
    assert_eq!(rows[1][0], "without_plan");
    assert_eq!(rows[1][1], baseline.to_string(), "{out}");
    assert_eq!(rows[2][0], "with_plan");
    assert_eq!(rows[2][1], with_plan.to_string(), "{out}");
    assert_eq!(rows[3][0], "difference");
    assert_eq!(rows[3][1], format!("-{saved}"), "{out}");
    // Every device ends at 2.0.0 in both runs; with the delta, walks have fewer steps.
    let ticks = |r: &[&str]| r[4].parse::<u64>().unwrap();
    assert!(ticks(&rows[2]) <= ticks(&rows[1]), "{out}");
}

#[test]
fn evaluate_needs_device_behaviour() {
    let sc = mpt_fleet("");
    let out = otasim([
        "plan-deltas",
        sc.p(),
        "--to",
        "2.0.0",
        "--delta-ratio",
        "0.3",
        "--evaluate",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: --evaluate simulates the devices: {} has no [behaviour]\n",
            sc.p()
        )
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn evaluate_on_a_terminal_shows_the_plans_then_the_comparison() {
    let sc = polling_mpt_fleet();
    let out = stdout_ok(&otasim([
        "plan-deltas",
        sc.p(),
        "--to",
        "2.0.0",
        "--delta-ratio",
        "0.3",
        "--budget",
        "1",
        "--evaluate",
        "--format",
        "table",
    ]));
    let plans_end = out.find("simulated from tick 0 to the end, without and with the optimal plan activated at tick 0:").expect(&out);
    assert!(out[..plans_end].contains("optimal"), "{out}");
    assert!(
        out[plans_end..].contains("without_plan") && out[plans_end..].contains("difference"),
        "{out}"
    );
}
