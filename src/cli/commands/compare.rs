//! `otasim compare DIR_A DIR_B`: two runs side by side — headline figures and their
//! differences on the terminal, and one self-contained HTML page with their
//! convergence curves and egress overlaid.

use std::io::Write;
use std::path::Path;

use anyhow::{anyhow, Context, Result};

use otasim::charts::{Chart, Figure, Line, Lines, Report, TimeAxis, Unit};

use crate::cli::args::CompareArgs;

/// What a run directory holds that a comparison reads.
struct RunDir {
    name: String,
    summary: serde_json::Value,
    /// Per tick: share at the final version (%) if tracked, and bytes sent.
    at_final: Option<Vec<f64>>,
    bytes: Vec<f64>,
}

fn read_run(dir: &Path) -> Result<RunDir> {
    let summary_path = dir.join("summary.json");
    let text = std::fs::read_to_string(&summary_path).with_context(|| {
        format!(
            "{}: cannot read (is it an `otasim run` output directory?)",
            summary_path.display()
        )
    })?;
    let summary: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not JSON", summary_path.display()))?;
    let series_path = dir.join("series.csv");
    let mut reader = csv::Reader::from_path(&series_path).with_context(|| {
        format!(
            "{}: cannot read (run with --format csv or both)",
            series_path.display()
        )
    })?;
    let header = reader.headers()?.clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| anyhow!("{}: no column `{name}`", series_path.display()))
    };
    let (devices, at_final, bytes) = (
        col("devices")?,
        col("at_final_version")?,
        col("bytes_total")?,
    );
    let (mut conv, mut sent) = (Some(Vec::new()), Vec::new());
    for (row, record) in reader.records().enumerate() {
        let record =
            record.with_context(|| format!("{}: row {}", series_path.display(), row + 2))?;
        let num = |i: usize| -> Result<f64> {
            record[i].parse::<f64>().map_err(|_| {
                anyhow!(
                    "{}: row {}: `{}` is not a number",
                    series_path.display(),
                    row + 2,
                    &record[i]
                )
            })
        };
        sent.push(num(bytes)?);
        if record[at_final].is_empty() {
            conv = None;
        } else if let Some(c) = &mut conv {
            let d = num(devices)?;
            c.push(if d > 0.0 {
                num(at_final)? * 100.0 / d
            } else {
                0.0
            });
        }
    }
    Ok(RunDir {
        name: dir.display().to_string(),
        summary,
        at_final: conv,
        bytes: sent,
    })
}

/// The headline figures compared, with where they are in `summary.json`.
const FIGURES: [(&str, &[&str]); 9] = [
    ("devices at the end", &["devices_end"]),
    (
        "at final version at the end (%)",
        &["at_final_version_percent"],
    ),
    ("egress (bytes)", &["bandwidth", "bytes_total"]),
    (
        "peak egress per tick (bytes)",
        &["bandwidth", "peak_bytes_per_tick"],
    ),
    ("cost", &["bandwidth", "cost"]),
    (
        "hours to 50 % at final version",
        &["policy", "hours_to_50_percent"],
    ),
    (
        "hours to 95 % at final version",
        &["policy", "hours_to_95_percent"],
    ),
    (
        "hours to 99 % at final version",
        &["policy", "hours_to_99_percent"],
    ),
    ("polls deferred", &["policy", "downloads_deferred"]),
];

fn figure(summary: &serde_json::Value, path: &[&str]) -> Option<f64> {
    let mut v = summary;
    for k in path {
        v = v.get(k)?;
    }
    v.as_f64()
}

/// Installs that succeeded or failed, summed over rules.
fn installs(summary: &serde_json::Value, kind: &str) -> Option<f64> {
    Some(
        summary
            .get(kind)?
            .as_object()?
            .values()
            .filter_map(|v| v.as_f64())
            .sum(),
    )
}

fn show(x: Option<f64>) -> String {
    match x {
        None => "-".into(),
        Some(v) if v.fract() == 0.0 && v.abs() < 1e15 => {
            let digits = otasim::charts::group_thousands(v.abs() as u64);
            if v < 0.0 {
                format!("-{digits}")
            } else {
                digits
            }
        }
        Some(v) => format!("{v:.2}"),
    }
}

/// The rows of the comparison: name, A, B, B − A.
fn rows(a: &RunDir, b: &RunDir) -> Vec<[String; 4]> {
    let mut figures: Vec<(String, Option<f64>, Option<f64>)> = FIGURES
        .iter()
        .map(|(name, path)| {
            (
                name.to_string(),
                figure(&a.summary, path),
                figure(&b.summary, path),
            )
        })
        .collect();
    figures.insert(
        1,
        (
            "installs succeeded".into(),
            installs(&a.summary, "installs_succeeded"),
            installs(&b.summary, "installs_succeeded"),
        ),
    );
    figures.insert(
        2,
        (
            "installs failed".into(),
            installs(&a.summary, "installs_failed"),
            installs(&b.summary, "installs_failed"),
        ),
    );
    figures
        .into_iter()
        .filter(|(_, x, y)| x.is_some() || y.is_some())
        .map(|(name, x, y)| {
            let diff = match (x, y) {
                (Some(x), Some(y)) => show(Some(y - x)),
                _ => "-".into(),
            };
            [name, show(x), show(y), diff]
        })
        .collect()
}

/// `len` values: `v`, then its last value repeated (runs of different lengths share an
/// axis).
fn padded(v: &[f64], len: usize) -> Vec<f64> {
    let last = v.last().copied().unwrap_or(0.0);
    v.iter()
        .copied()
        .chain(std::iter::repeat(last))
        .take(len)
        .collect()
}

/// Runs `otasim compare`.
pub fn run(args: &CompareArgs, out: &mut impl Write) -> Result<()> {
    let a = read_run(&args.a)?;
    let b = read_run(&args.b)?;
    let tick_seconds = |r: &RunDir| r.summary.get("tick_seconds").and_then(|t| t.as_u64());
    let tick =
        tick_seconds(&a).ok_or_else(|| anyhow!("{}: summary.json has no tick_seconds", a.name))?;
    if tick_seconds(&b) != Some(tick) {
        return Err(anyhow!(
            "{} and {} have different tick lengths: they cannot share a time axis",
            a.name,
            b.name
        ));
    }
    let table = rows(&a, &b);
    let n = a.bytes.len().max(b.bytes.len());
    let axis = TimeAxis {
        tick_seconds: tick,
        ticks: n,
    };
    let mut figures = Vec::new();
    if let (Some(ca), Some(cb)) = (&a.at_final, &b.at_final) {
        figures.push(Figure {
            chart: Chart::Lines(Lines {
                title: "Devices at their final version".into(),
                y_desc: "Share of the fleet".into(),
                y_unit: Unit::Percent,
                axis,
                lines: vec![
                    Line {
                        label: "A".into(),
                        values: padded(ca, n),
                        colour: Some(0),
                    },
                    Line {
                        label: "B".into(),
                        values: padded(cb, n),
                        colour: Some(1),
                    },
                ],
            }),
            caption: format!("A: {}; B: {}", a.name, b.name),
        });
    }
    figures.push(Figure {
        chart: Chart::Lines(Lines {
            title: "Egress per tick".into(),
            y_desc: format!("Bytes sent per {} tick", axis.tick_length()),
            y_unit: Unit::Bytes,
            axis,
            lines: vec![
                Line {
                    label: "A".into(),
                    values: padded(&a.bytes, n),
                    colour: Some(0),
                },
                Line {
                    label: "B".into(),
                    values: padded(&b.bytes, n),
                    colour: Some(1),
                },
            ],
        }),
        caption: format!("A: {}; B: {}", a.name, b.name),
    });
    let report = Report {
        title: "otasim compare".into(),
        subtitle: format!("A: {}  B: {}", a.name, b.name),
        summary: table
            .iter()
            .map(|[name, x, y, d]| (name.clone(), format!("A {x}, B {y} (B − A: {d})")))
            .collect(),
        tables: Vec::new(),
        figures,
        matrices: Vec::new(),
    };
    let html = otasim::charts::render_report(&report)?;
    // Atomically: a temporary file beside the page, then a rename.
    let tmp = args.out.with_extension("html.tmp");
    std::fs::write(&tmp, html.as_bytes())
        .and_then(|()| std::fs::rename(&tmp, &args.out))
        .with_context(|| format!("cannot write {}", args.out.display()))?;

    let width = table.iter().map(|r| r[0].len()).max().unwrap_or(0);
    let w = |i: usize| table.iter().map(|r| r[i].len()).max().unwrap_or(0).max(1);
    writeln!(out, "A: {}\nB: {}", a.name, b.name)?;
    writeln!(
        out,
        "{:<width$}  {:>w1$}  {:>w2$}  {:>w3$}",
        "",
        "A",
        "B",
        "B - A",
        w1 = w(1),
        w2 = w(2),
        w3 = w(3)
    )?;
    for [name, x, y, d] in &table {
        writeln!(
            out,
            "{name:<width$}  {x:>w1$}  {y:>w2$}  {d:>w3$}",
            w1 = w(1),
            w2 = w(2),
            w3 = w(3)
        )?;
    }
    writeln!(out, "page: {}", args.out.display())?;
    Ok(())
}
