//! `otasim plan-deltas`: which Delta releases into V are worth building (R27–R31).

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use clap::Args;

use otasim::catalog::Catalog;
use otasim::charts::knee::Knee;
use otasim::ids::{HardwareId, SoftwareTypeId, VersionId};
use otasim::plan::candidates::{candidates, classes, cycle_error, Classes};
use otasim::plan::evaluate::Model;
use otasim::plan::patch::{self, DeltaFormat, Images};
use otasim::plan::sizes::{read_sizes_table, Ratio, SizeEntry, SizeModels};
use otasim::plan::strategies::{greedy, optimal, top_n, Budget, Plan, Proof};
use otasim::plan::{find_target, Candidate, PlanError, SizeSource, Target};
use otasim::table_out::OutputDir;
use otasim::version::Version;

use crate::cli::args::{Format, ScenarioArgs};
use crate::cli::output::{Cell, RowWriter};

/// The plan columns, exactly as the contract names them (spec §10).
pub const COLUMNS: [&str; 7] = [
    "strategy",
    "from_version",
    "to_version",
    "stored_bytes",
    "devices",
    "fleet_bytes",
    "saved_bytes",
];

/// The `--candidates` columns, exactly as the contract names them.
pub const CANDIDATE_COLUMNS: [&str; 6] = [
    "from_version",
    "to_version",
    "hardware_version",
    "full_bytes",
    "delta_bytes",
    "devices",
];

/// `otasim plan-deltas`.
#[derive(Debug, Args)]
pub struct PlanDeltasArgs {
    #[command(flatten)]
    pub input: ScenarioArgs,
    /// The target version V: a Full release (R27).
    #[arg(long, value_name = "V")]
    pub to: String,
    /// The planning moment: a tick number or a duration.
    #[arg(
        long,
        value_name = "T",
        default_value = "0",
        allow_hyphen_values = true
    )]
    pub at: String,
    /// At most this many planned deltas (R31).
    #[arg(long, value_name = "K", default_value_t = 5)]
    pub budget: usize,
    /// At most this many stored bytes in a plan (R31).
    #[arg(long, value_name = "B")]
    pub max_stored_bytes: Option<u64>,
    /// Only these From versions (comma-separated).
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub from: Option<Vec<String>>,
    /// Explicit delta sizes: a CSV or Parquet table with columns from, to,
    /// hardware_version, bytes (R30; replaces the scenario's [[delta_sizes]] where both
    /// give one).
    #[arg(long, value_name = "FILE")]
    pub sizes: Option<PathBuf>,
    /// Compute delta sizes as real patches between DIR/<hardware_version>/<version>.bin
    /// images (zstd patch-from; sizes cached in DIR/.otasim-patch-sizes).
    #[arg(long, value_name = "DIR")]
    pub images: Option<PathBuf>,
    /// Delta size = round_half_up(R × V's Full payload size), for sizes no other
    /// model gives (R30).
    #[arg(long, value_name = "R", allow_hyphen_values = true)]
    pub delta_ratio: Option<String>,
    /// The patch format for --images and --write-patches: `zstd` (a zstd frame for
    /// `zstd -d --patch-from=FROM`) or `bsdiff` (BSDIFF40, for `bspatch`).
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = PatchFormat::Zstd)]
    pub delta_format: PatchFormat,
    /// V's software type, when several have a release named V.
    #[arg(long, value_name = "NAME")]
    pub software_type: Option<String>,
    /// Print the candidate table (one row per candidate and hardware version) instead.
    #[arg(long, conflicts_with = "evaluate")]
    pub candidates: bool,
    /// Prove the optimal plan by simulation: run the scenario twice over its whole
    /// duration, without and with the plan activated at T (R28), and compare bytes,
    /// egress cost, peak egress per tick and time until 95 % of devices are at their
    /// final version. Needs [behaviour]. On a terminal the plans come first; CSV and
    /// JSON give the comparison alone.
    #[arg(long)]
    pub evaluate: bool,
    /// Stop the optimal search after this many seconds; the plan is then labelled
    /// `best_found` with a proven bound on the gap (stderr).
    #[arg(long, value_name = "SECONDS")]
    pub time_limit: Option<f64>,
    /// Write the optimal plan's patches as OUT/<hardware_version>/<F>-to-<V>.zst
    /// (needs --images).
    #[arg(long, value_name = "OUT", requires = "images")]
    pub write_patches: Option<PathBuf>,
    /// Also draw the knee curve (bytes saved by each strategy for K = 0 … --budget) to
    /// FILE (.png or .svg).
    #[arg(long, value_name = "FILE")]
    pub chart: Option<PathBuf>,
    /// Output format [default: table on a terminal, csv otherwise].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// `--delta-format`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PatchFormat {
    /// A zstd frame made with the From image as prefix (`zstd --patch-from`).
    Zstd,
    /// BSDIFF40.
    Bsdiff,
}

/// Everything computed before output.
struct Problem {
    target: Target,
    classes: Classes,
    candidates: Vec<Candidate>,
}

/// Runs the command.
pub fn run(args: &PlanDeltasArgs, out: &mut impl Write) -> Result<()> {
    let mut scenario = crate::cli::load(&args.input)?;
    if args.evaluate && scenario.behaviour.is_none() {
        return Err(anyhow!(
            "--evaluate simulates the devices: {} has no [behaviour]",
            scenario.path.display()
        ));
    }
    // `--evaluate` simulates from the initial fleet again: keep it.
    let initial_fleet = args.evaluate.then(|| scenario.initial.fleet.clone());
    let (tick, state) = crate::cli::state_at(&mut scenario, &args.at)?;
    if let Some(fleet) = initial_fleet {
        scenario.initial.fleet = fleet;
    }
    let (catalog, fleet) = (&state.catalog, &state.fleet);
    let software_type = match &args.software_type {
        Some(name) => Some(crate::cli::for_flag(
            catalog.need_software_type(name),
            "--software-type",
        )?),
        None => None,
    };
    let target = find_target(catalog, &args.to, software_type)?;
    let classes = classes(catalog, fleet)?;
    let only = match &args.from {
        Some(list) => Some(from_versions(catalog, target.software_type, list)?),
        None => None,
    };
    let mut cands = candidates(catalog, &target, &classes, only.as_deref());
    if let Some(only) = &only {
        for &f in only {
            if !cands.iter().any(|c| c.from == f) {
                eprintln!(
                    "warning: --from {}: not a candidate (no present device reports or passes through it below {}, or a delta {}->{} exists)",
                    catalog.version(f),
                    catalog.version(target.version),
                    catalog.version(f),
                    catalog.version(target.version)
                );
            }
        }
    }

    // R30: the size models, in order.
    let mut explicit: Vec<SizeEntry> = Vec::new();
    if let Some(path) = &args.sizes {
        explicit = read_sizes_table(path, catalog, target.software_type)?;
    }
    explicit.extend(scenario.delta_sizes.iter().map(SizeEntry::from));
    let ratio = match &args.delta_ratio {
        Some(text) => Some(
            text.parse::<Ratio>()
                .map_err(|e| anyhow!("--delta-ratio: {e}"))?,
        ),
        None => None,
    };
    let images = match &args.images {
        Some(dir) => Some(Images::open(
            dir,
            match args.delta_format {
                PatchFormat::Zstd => DeltaFormat::Zstd,
                PatchFormat::Bsdiff => DeltaFormat::Bsdiff,
            },
        )?),
        None => None,
    };
    let v_text = catalog.version(target.version).to_string();
    let sizer = |pairs: &[(VersionId, HardwareId)]| -> Result<Vec<u64>, PlanError> {
        let images = images.as_ref().expect("only called with --images");
        let named: Vec<(String, String, String)> = pairs
            .iter()
            .map(|&(f, h)| {
                (
                    catalog.hardware_name(h).to_string(),
                    catalog.version(f).to_string(),
                    v_text.clone(),
                )
            })
            .collect();
        images.sizes(&named)
    };
    let models = SizeModels {
        explicit,
        images: images.as_ref().map(|_| &sizer as _),
        ratio,
    };
    models.fill(catalog, &target, &mut cands)?;
    if let Some(warning) = images.as_ref().and_then(Images::save) {
        eprintln!("warning: {warning}");
    }
    let problem = Problem {
        target,
        classes,
        candidates: cands,
    };
    let format = crate::cli::format_or_default(args.format);
    if args.candidates {
        return write_candidates(out, catalog, &problem, format);
    }

    let model = Model::build(
        catalog,
        &problem.target,
        &problem.candidates,
        &problem.classes.classes,
        &problem.classes.walks,
    )
    .map_err(|e| {
        cycle_error(
            catalog,
            fleet,
            &problem.classes.classes[e.0].0,
            Some(&format!("into {v_text}")),
        )
    })?;
    let budget = Budget {
        max_deltas: args.budget,
        max_stored: args.max_stored_bytes,
    };
    let stored: Vec<u64> = problem
        .candidates
        .iter()
        .map(Candidate::stored_bytes)
        .collect();
    let devices: Vec<u64> = problem.candidates.iter().map(|c| c.devices).collect();
    let deadline = match args.time_limit {
        Some(s) if !(s.is_finite() && s >= 0.0) => {
            return Err(anyhow!(
                "--time-limit: {s} is not a number of seconds (0 or more)"
            ))
        }
        Some(s) => Some(Instant::now() + Duration::from_secs_f64(s.min(1e9))),
        None => None,
    };
    let by_count = top_n(&model, &devices, &stored, budget);
    let by_gain = greedy(&model, &stored, budget);
    let (best, proof) = optimal(&model, &stored, budget, deadline, &[&by_count, &by_gain]);
    let optimal_name = match proof {
        Proof::Optimal => "optimal",
        Proof::Stopped { gap } => {
            eprintln!(
                "warning: --time-limit reached before the search finished: the plan labelled best_found saves {} bytes; no plan within the budget saves more than {} bytes (proven gap {gap} bytes)",
                best.saving,
                best.saving as u64 + gap
            );
            "best_found"
        }
    };
    let plans = [
        ("top_n", by_count),
        ("greedy", by_gain),
        (optimal_name, best),
    ];

    if let Some(path) = &args.chart {
        knee(&model, &devices, &stored, budget, deadline, &v_text)
            .write(path)
            .map_err(|e| anyhow!("--chart {}: {e}", path.display()))?;
    }

    // Patches first: a failure leaves no partial output on stdout.
    if let (Some(dir), Some(images)) = (&args.write_patches, &images) {
        write_patches(dir, images, catalog, &problem, &plans[2].1)?;
    }

    let evaluation = if args.evaluate {
        let members: Vec<&Candidate> = plans[2]
            .1
            .members
            .iter()
            .map(|&c| &problem.candidates[c])
            .collect();
        Some(otasim::plan::simulate::evaluate(
            &scenario,
            tick,
            &problem.target,
            &members,
        )?)
    } else {
        None
    };
    if let Some(e) = &evaluation {
        if format != Format::Table {
            return write_evaluation(out, format, e, scenario.tick_seconds);
        }
    }

    let mut writer = RowWriter::new(format, &COLUMNS, out)?;
    writer.row(vec![
        Cell::text("baseline"),
        Cell::Empty,
        Cell::Empty,
        Cell::Number(0),
        Cell::Number(0),
        Cell::Number(model.baseline),
        Cell::Number(0),
    ])?;
    for (name, plan) in &plans {
        let fleet_bytes = model.baseline - plan.saving as u64;
        let saved = plan.saving as u64;
        if plan.members.is_empty() {
            writer.row(vec![
                Cell::text(name),
                Cell::Empty,
                Cell::Empty,
                Cell::Number(0),
                Cell::Number(0),
                Cell::Number(fleet_bytes),
                Cell::Number(saved),
            ])?;
            continue;
        }
        let used = model.devices(&plan.mask(problem.candidates.len()));
        for &c in &plan.members {
            writer.row(vec![
                Cell::text(name),
                Cell::Text(
                    catalog
                        .version(problem.candidates[c].from)
                        .to_string()
                        .into(),
                ),
                Cell::Text(v_text.as_str().into()),
                Cell::Number(stored[c]),
                Cell::Number(used[c]),
                Cell::Number(fleet_bytes),
                Cell::Number(saved),
            ])?;
        }
    }
    writer.finish()?;
    if let Some(e) = &evaluation {
        writeln!(
            out,
            "\nsimulated from tick 0 to the end, without and with the {optimal_name} plan activated at tick {tick}:"
        )?;
        write_evaluation(out, format, e, scenario.tick_seconds)?;
    }
    Ok(())
}

/// The columns of the `--evaluate` comparison.
const EVALUATION_COLUMNS: [&str; 6] = [
    "run",
    "bytes",
    "cost",
    "peak_bytes_per_tick",
    "ticks_to_95_percent",
    "time_to_95_percent",
];

/// The `--evaluate` comparison: one row per run, then the difference (with minus
/// without, signed).
fn write_evaluation(
    out: &mut impl Write,
    format: Format,
    e: &otasim::plan::simulate::Evaluation,
    tick_seconds: u64,
) -> Result<()> {
    use otasim::scenario::time::format_duration;
    let when = |t: Option<u64>| t.map(|t| format_duration(t.saturating_mul(tick_seconds)));
    let mut writer = RowWriter::new(format, &EVALUATION_COLUMNS, out)?;
    for (name, f) in [("without_plan", &e.without), ("with_plan", &e.with)] {
        writer.row(vec![
            Cell::text(name),
            Cell::Number(f.bytes),
            Cell::Text(format!("{:.2}", f.cost).into()),
            Cell::Number(f.peak_bytes_per_tick),
            f.ticks_to_95_percent.map_or(Cell::Empty, Cell::Number),
            when(f.ticks_to_95_percent).map_or(Cell::Empty, |s| Cell::Text(s.into())),
        ])?;
    }
    let signed = |a: u64, b: u64| format!("{:+}", i128::from(b) - i128::from(a));
    let ticks = match (e.without.ticks_to_95_percent, e.with.ticks_to_95_percent) {
        (Some(a), Some(b)) => Some((a, b)),
        _ => None,
    };
    writer.row(vec![
        Cell::text("difference"),
        Cell::Text(signed(e.without.bytes, e.with.bytes).into()),
        Cell::Text(format!("{:+.2}", e.with.cost - e.without.cost).into()),
        Cell::Text(signed(e.without.peak_bytes_per_tick, e.with.peak_bytes_per_tick).into()),
        ticks.map_or(Cell::Empty, |(a, b)| Cell::Text(signed(a, b).into())),
        ticks.map_or(Cell::Empty, |(a, b)| {
            let d = format_duration(a.abs_diff(b).saturating_mul(tick_seconds));
            Cell::Text(
                if b < a {
                    format!("-{d}")
                } else {
                    format!("+{d}")
                }
                .into(),
            )
        }),
    ])?;
    writer.finish()?;
    Ok(())
}

/// The knee curve: each strategy's saving for K = 0 … the budget (same byte budget).
fn knee(
    model: &Model,
    devices: &[u64],
    stored: &[u64],
    budget: Budget,
    deadline: Option<Instant>,
    v: &str,
) -> Knee {
    let mut lines: Vec<(String, Vec<u64>)> = ["top_n", "greedy", "optimal"]
        .iter()
        .map(|s| (s.to_string(), Vec::new()))
        .collect();
    for k in 0..=budget.max_deltas.min(model.n_candidates) {
        let b = Budget {
            max_deltas: k,
            ..budget
        };
        let a = top_n(model, devices, stored, b);
        let g = greedy(model, stored, b);
        let (o, proof) = optimal(model, stored, b, deadline, &[&a, &g]);
        if matches!(proof, Proof::Stopped { .. }) {
            lines[2].0 = "best_found".to_string();
        }
        for (line, plan) in lines.iter_mut().zip([&a, &g, &o]) {
            line.1.push(plan.saving as u64);
        }
    }
    Knee {
        title: format!("Deltas into {v}: bytes saved by the number of deltas built"),
        lines,
    }
}

/// `--from A,B`: versions of the plan's software type (R1); one nobody reports is kept
/// as a version that cannot be a candidate.
fn from_versions(
    catalog: &Catalog,
    software_type: SoftwareTypeId,
    list: &[String],
) -> Result<Vec<VersionId>> {
    let t = catalog.software_type(software_type);
    let mut out = Vec::new();
    for text in list.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        Version::parse(text, t.allow_build_metadata, &t.name)
            .map_err(|e| anyhow!("--from: {e}"))?;
        match catalog.version_id(software_type, text) {
            Some(v) => out.push(v),
            None => eprintln!(
                "warning: --from {text}: no device reports or passes through this version, so it is not a candidate"
            ),
        }
    }
    Ok(out)
}

/// The candidate table: one row per (candidate, hardware version of V's payloads).
fn write_candidates(
    out: &mut impl Write,
    catalog: &Catalog,
    problem: &Problem,
    format: Format,
) -> Result<()> {
    let mut columns = CANDIDATE_COLUMNS.to_vec();
    if format == Format::Table {
        columns.push("note");
    }
    let v = catalog.version(problem.target.version).to_string();
    let mut writer = RowWriter::new(format, &columns, out)?;
    for c in &problem.candidates {
        let mut hw: Vec<_> = c.hardware.iter().collect();
        hw.sort_by(|a, b| {
            catalog
                .hardware_name(a.hardware)
                .cmp(catalog.hardware_name(b.hardware))
        });
        for h in hw {
            let mut cells = vec![
                Cell::Text(catalog.version(c.from).to_string().into()),
                Cell::Text(v.as_str().into()),
                Cell::text(catalog.hardware_name(h.hardware)),
                Cell::Number(h.full_bytes),
                h.delta_bytes.map_or(Cell::Empty, Cell::Number),
                Cell::Number(h.devices),
            ];
            if format == Format::Table {
                cells.push(match h.delta_bytes {
                    None => Cell::text("no size known: no payload for this hardware"),
                    Some(d) if d >= h.full_bytes => Cell::text("not smaller than the full payload"),
                    Some(_) => Cell::Empty,
                });
            }
            writer.row(cells)?;
        }
    }
    writer.finish()?;
    Ok(())
}

/// `--write-patches OUT`: every delta of the optimal plan, for every hardware version
/// whose size came from the images, as OUT/<hardware>/<F>-to-<V>.zst, all or nothing.
fn write_patches(
    dir: &std::path::Path,
    images: &Images,
    catalog: &Catalog,
    problem: &Problem,
    plan: &Plan,
) -> Result<()> {
    let v = catalog.version(problem.target.version).to_string();
    let mut out = OutputDir::create(dir)?;
    for &c in &plan.members {
        let cand = &problem.candidates[c];
        let from = catalog.version(cand.from).to_string();
        for h in &cand.hardware {
            let hw = catalog.hardware_name(h.hardware);
            if h.source != Some(SizeSource::Images) {
                eprintln!(
                    "warning: --write-patches: no patch written for {from}->{v} on \"{hw}\": its size came from {}",
                    match h.source {
                        Some(SizeSource::Explicit) => "an explicit size",
                        Some(SizeSource::Ratio) => "--delta-ratio",
                        _ => "no model",
                    }
                );
                continue;
            }
            let bytes = images.patch(hw, &from, &v)?;
            if Some(bytes.len() as u64) != h.delta_bytes {
                return Err(anyhow!(
                    "--write-patches: the patch {from}->{v} for \"{hw}\" has {} bytes, not the {} reported (a stale {} in the images directory? delete it)",
                    bytes.len(),
                    h.delta_bytes.unwrap_or(0),
                    patch::CACHE_FILE
                ));
            }
            out.write_bytes(
                format!("{hw}/{from}-to-{v}.{}", images.format().extension()),
                &bytes,
            )?;
        }
    }
    out.commit()?;
    Ok(())
}
