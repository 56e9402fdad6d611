//! Rendering rows for people (aligned tables, the version-matrix grid) and for programs
//! (CSV, JSON). Everything here writes to a `Write` and returns `io::Result`, so that a
//! closed pipe reaches `main` as an `io::Error` of kind `BrokenPipe`.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

use otasim::catalog::Catalog;
use otasim::ids::{CohortId, SoftwareTypeId, VersionId};
use otasim::matrix::{Final, MatrixRow};
use otasim::resolver::Rule;
use otasim::scenario::time::format_duration;

use super::args::Format;

/// One value of an output row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell<'a> {
    /// A string (a JSON string, a left-aligned table cell).
    Text(Cow<'a, str>),
    /// A count or size (a JSON number, a right-aligned table cell).
    Number(u64),
    /// Nothing: an empty CSV field, JSON `null`, `-` in a table.
    Empty,
}

impl<'a> Cell<'a> {
    /// A borrowed string cell.
    pub fn text(s: &'a str) -> Cell<'a> {
        Cell::Text(Cow::Borrowed(s))
    }

    fn to_field(&self) -> Cow<'_, str> {
        match self {
            Cell::Text(s) => Cow::Borrowed(s.as_ref()),
            Cell::Number(n) => Cow::Owned(n.to_string()),
            Cell::Empty => Cow::Borrowed(""),
        }
    }

    fn to_json(&self) -> serde_json::Value {
        match self {
            Cell::Text(s) => serde_json::Value::String(s.to_string()),
            Cell::Number(n) => serde_json::Value::from(*n),
            Cell::Empty => serde_json::Value::Null,
        }
    }

    fn into_owned(self) -> Cell<'static> {
        match self {
            Cell::Text(s) => Cell::Text(Cow::Owned(s.into_owned())),
            Cell::Number(n) => Cell::Number(n),
            Cell::Empty => Cell::Empty,
        }
    }
}

/// Writes rows with fixed columns in one format. CSV and JSON stream row by row; a table
/// needs every row to size its columns, so it buffers until [`RowWriter::finish`].
pub struct RowWriter<'w, W: Write> {
    columns: Vec<&'static str>,
    sink: Sink<'w, W>,
}

enum Sink<'w, W: Write> {
    Csv(Box<csv::Writer<&'w mut W>>),
    Json {
        out: &'w mut W,
        n_rows: usize,
    },
    Table {
        out: &'w mut W,
        rows: Vec<Vec<Cell<'static>>>,
    },
}

impl<'w, W: Write> RowWriter<'w, W> {
    /// Starts the output (a CSV header is written at once, even if no row follows).
    pub fn new(format: Format, columns: &[&'static str], out: &'w mut W) -> io::Result<Self> {
        let sink = match format {
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(columns).map_err(csv_to_io)?;
                Sink::Csv(Box::new(w))
            }
            Format::Json => Sink::Json { out, n_rows: 0 },
            Format::Table => Sink::Table {
                out,
                rows: Vec::new(),
            },
        };
        Ok(RowWriter {
            columns: columns.to_vec(),
            sink,
        })
    }

    /// Writes one row; it must have one cell per column.
    pub fn row(&mut self, cells: Vec<Cell<'_>>) -> io::Result<()> {
        debug_assert_eq!(cells.len(), self.columns.len());
        match &mut self.sink {
            Sink::Csv(w) => w
                .write_record(cells.iter().map(|c| c.to_field().into_owned()))
                .map_err(csv_to_io),
            Sink::Json { out, n_rows } => {
                // Keys in column order (serde_json's map would sort them).
                out.write_all(if *n_rows == 0 { b"[\n  {" } else { b",\n  {" })?;
                for (i, (key, value)) in self.columns.iter().zip(&cells).enumerate() {
                    if i > 0 {
                        out.write_all(b",")?;
                    }
                    serde_json::to_writer(&mut **out, key)?;
                    out.write_all(b":")?;
                    serde_json::to_writer(&mut **out, &value.to_json())?;
                }
                out.write_all(b"}")?;
                *n_rows += 1;
                Ok(())
            }
            Sink::Table { rows, .. } => {
                rows.push(cells.into_iter().map(Cell::into_owned).collect());
                Ok(())
            }
        }
    }

    /// Ends the output (closes the JSON array, renders the table).
    pub fn finish(self) -> io::Result<()> {
        match self.sink {
            Sink::Csv(mut w) => w.flush(),
            Sink::Json { out, n_rows } => {
                out.write_all(if n_rows == 0 { b"[]\n" } else { b"\n]\n" })
            }
            Sink::Table { out, rows } => {
                let header: Vec<String> = self.columns.iter().map(|c| c.to_string()).collect();
                let mut align = vec![Align::Left; self.columns.len()];
                // A column is numeric when every filled cell is a number.
                for (i, a) in align.iter_mut().enumerate() {
                    let mut filled = rows.iter().map(|r| &r[i]).filter(|c| **c != Cell::Empty);
                    if filled.clone().next().is_some()
                        && filled.all(|c| matches!(c, Cell::Number(_)))
                    {
                        *a = Align::Right;
                    }
                }
                let body: Vec<Vec<String>> = rows
                    .iter()
                    .map(|r| {
                        r.iter()
                            .map(|c| match c {
                                Cell::Empty => "-".to_string(),
                                c => c.to_field().into_owned(),
                            })
                            .collect()
                    })
                    .collect();
                write_aligned(out, "", &header, &body, &align)
            }
        }
    }
}

/// Keeps the `io::Error` inside a CSV error, so that a broken pipe stays recognisable.
fn csv_to_io(err: csv::Error) -> io::Error {
    match err.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// How a table column is aligned.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// Display width of a cell: one column per `char` (our cells hold no wide characters).
fn width(s: &str) -> usize {
    s.chars().count()
}

/// Writes `header` and `rows` as columns two spaces apart, each line prefixed by
/// `indent`, with no trailing whitespace.
pub fn write_aligned(
    out: &mut impl Write,
    indent: &str,
    header: &[String],
    rows: &[Vec<String>],
    align: &[Align],
) -> io::Result<()> {
    let n = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(cell));
        }
    }
    let mut line = String::new();
    for row in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
        line.clear();
        line.push_str(indent);
        for (i, cell) in row.iter().enumerate().take(n) {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = widths[i] - width(cell);
            match align[i] {
                Align::Left => {
                    line.push_str(cell);
                    line.extend(std::iter::repeat_n(' ', pad));
                }
                Align::Right => {
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(cell);
                }
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// The short marker of a rule in a matrix cell.
pub fn rule_marker(rule: Rule) -> &'static str {
    match rule {
        Rule::None => "",
        Rule::Override => "O",
        Rule::Delta => "Δ",
        Rule::MustPassThrough => "M",
        Rule::Full => "F",
    }
}

/// The legend under a matrix grid.
pub const MATRIX_LEGEND: [&str; 4] = [
    "rows: current version; columns: next version (after the very next update)",
    "cells: device count and rule: Δ delta (R13), M must-pass-through (R14), F full (R15/R17),",
    "       O release override (R12); a plain count stays where it is (no update, R18)",
    "final: where the row's devices end up if nothing changes (R24); cycle: they never settle",
];

/// The text of a final version.
pub fn final_text(catalog: &Catalog, fin: Final) -> String {
    match fin {
        Final::Version(v) => catalog.version(v).to_string(),
        Final::Cycle => "cycle".to_string(),
    }
}

/// Writes the version matrix as one grid per cohort (and software type), like the
/// version-matrix view of hosted OTA consoles. `cohorts` lists the cohorts to show, in order; `rows`
/// come from `matrix::version_matrix`; `notes` adds a line under a cohort's heading.
pub fn write_matrix_grid(
    out: &mut impl Write,
    catalog: &Catalog,
    rows: &[MatrixRow],
    cohorts: &[CohortId],
    notes: &HashMap<CohortId, String>,
    title: &str,
) -> io::Result<()> {
    let several_types = catalog.software_types().len() > 1;
    writeln!(out, "{title}")?;
    let mut empty: Vec<&str> = Vec::new();
    for &cohort in cohorts {
        // Rows are sorted by cohort, then software type.
        let mut types: Vec<SoftwareTypeId> = rows
            .iter()
            .filter(|r| r.cohort == cohort)
            .map(|r| r.software_type)
            .collect();
        types.dedup();
        if types.is_empty() {
            empty.push(&catalog.cohort(cohort).name);
            continue;
        }
        for software_type in types {
            let group: Vec<&MatrixRow> = rows
                .iter()
                .filter(|r| r.cohort == cohort && r.software_type == software_type)
                .collect();
            writeln!(out)?;
            let heading = group_heading(
                catalog,
                cohort,
                several_types.then_some(software_type),
                &group,
            );
            writeln!(out, "{heading}")?;
            if let Some(note) = notes.get(&cohort) {
                writeln!(out, "  {note}")?;
            }
            write_group(out, catalog, &group)?;
        }
    }
    if !empty.is_empty() {
        writeln!(out)?;
        let names: Vec<String> = empty.iter().map(|n| format!("\"{n}\"")).collect();
        let what = if names.len() == 1 {
            "cohort"
        } else {
            "cohorts"
        };
        writeln!(out, "no devices in {what} {}", names.join(", "))?;
    }
    if rows.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    for line in MATRIX_LEGEND {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn group_heading(
    catalog: &Catalog,
    cohort: CohortId,
    software_type: Option<SoftwareTypeId>,
    group: &[&MatrixRow],
) -> String {
    let c = catalog.cohort(cohort);
    let n: u64 = group.iter().map(|r| r.devices).sum();
    let mut s = format!("cohort \"{}\": {n} device{}", c.name, plural(n));
    if let Some(t) = software_type {
        s.push_str(&format!(
            " of software type \"{}\"",
            catalog.software_type(t).name
        ));
    }
    if c.disable_version_checking {
        s.push_str(" (version checking disabled, R17)");
    }
    s
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn write_group(out: &mut impl Write, catalog: &Catalog, group: &[&MatrixRow]) -> io::Result<()> {
    let cmp = |a: &VersionId, b: &VersionId| catalog.version(*a).cmp_total(catalog.version(*b));
    let mut currents: Vec<VersionId> = group.iter().map(|r| r.current).collect();
    currents.sort_by(cmp);
    currents.dedup();
    let mut nexts: Vec<VersionId> = group.iter().map(|r| r.next).collect();
    nexts.sort_by(cmp);
    nexts.dedup();

    // (current, next) -> devices per rule, in rule order.
    let mut cells: BTreeMap<(usize, usize), BTreeMap<Rule, u64>> = BTreeMap::new();
    // current -> devices per final version, in the rows' order (precedence, cycle last).
    let mut finals: BTreeMap<usize, Vec<(Final, u64)>> = BTreeMap::new();
    let mut ends: Vec<(Final, u64)> = Vec::new();
    for r in group {
        let ci = currents.iter().position(|&v| v == r.current).unwrap_or(0);
        let ni = nexts.iter().position(|&v| v == r.next).unwrap_or(0);
        *cells
            .entry((ci, ni))
            .or_default()
            .entry(r.rule)
            .or_default() += r.devices;
        add_count(finals.entry(ci).or_default(), r.final_version, r.devices);
        add_count(&mut ends, r.final_version, r.devices);
    }
    sort_finals(catalog, &mut ends);

    let mut header = vec!["current \\ next".to_string()];
    header.extend(nexts.iter().map(|&v| catalog.version(v).to_string()));
    header.push("final".to_string());
    let mut align = vec![Align::Left];
    align.extend(std::iter::repeat_n(Align::Right, nexts.len()));
    align.push(Align::Left);

    let mut body = Vec::with_capacity(currents.len());
    for (ci, &current) in currents.iter().enumerate() {
        let mut line = vec![catalog.version(current).to_string()];
        for ni in 0..nexts.len() {
            line.push(match cells.get(&(ci, ni)) {
                None => "·  ".to_string(),
                Some(by_rule) => by_rule
                    .iter()
                    .map(|(&rule, &n)| match rule_marker(rule) {
                        "" => format!("{n}  "),
                        m => format!("{n} {m}"),
                    })
                    .collect::<Vec<_>>()
                    .join(" + "),
            });
        }
        let mut row_finals = finals.remove(&ci).unwrap_or_default();
        sort_finals(catalog, &mut row_finals);
        // With several finals in one row, say how many devices end where.
        let text: Vec<String> = match row_finals.as_slice() {
            [(f, _)] => vec![final_text(catalog, *f)],
            many => many
                .iter()
                .map(|&(f, n)| format!("{} ({n})", final_text(catalog, f)))
                .collect(),
        };
        line.push(text.join(", "));
        body.push(line);
    }
    write_aligned(out, "  ", &header, &body, &align)?;

    let ends_on = |f: Final, n: u64| match f {
        Final::Version(_) => format!("{n} on {}", final_text(catalog, f)),
        Final::Cycle => format!("{n} in a cycle"),
    };
    let summary = match ends.as_slice() {
        [(Final::Cycle, 1)] => "the device is in a cycle (it never settles)".to_string(),
        [(Final::Cycle, n)] => format!("all {n} are in a cycle (they never settle)"),
        [(f, 1)] => format!("the device ends on {}", final_text(catalog, *f)),
        [(f, n)] => format!("all {n} end on {}", final_text(catalog, *f)),
        _ => ends
            .iter()
            .map(|&(f, n)| ends_on(f, n))
            .collect::<Vec<_>>()
            .join(", "),
    };
    writeln!(out, "  final: {summary}")
}

fn add_count(counts: &mut Vec<(Final, u64)>, fin: Final, n: u64) {
    match counts.iter_mut().find(|(f, _)| *f == fin) {
        Some((_, c)) => *c += n,
        None => counts.push((fin, n)),
    }
}

fn sort_finals(catalog: &Catalog, finals: &mut [(Final, u64)]) {
    finals.sort_by(|a, b| match (a.0, b.0) {
        (Final::Version(x), Final::Version(y)) => catalog.version(x).cmp_total(catalog.version(y)),
        (Final::Version(_), Final::Cycle) => std::cmp::Ordering::Less,
        (Final::Cycle, Final::Version(_)) => std::cmp::Ordering::Greater,
        (Final::Cycle, Final::Cycle) => std::cmp::Ordering::Equal,
    });
}

/// `tick 24 (24h)`: a moment for people.
pub fn tick_label(tick: u64, tick_seconds: u64) -> String {
    format!(
        "tick {tick} ({})",
        format_duration(tick.saturating_mul(tick_seconds))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use otasim::catalog::{Actor, Percent, Release, ReleaseKind, Rollout};
    use otasim::fleet::{DeviceReport, Fleet, NewDevice};
    use otasim::ids::{CohortId, SoftwareTypeId};
    use otasim::matrix::version_matrix;

    fn rows_as(format: Format, columns: &[&'static str], rows: Vec<Vec<Cell>>) -> String {
        let mut out = Vec::new();
        let mut w = RowWriter::new(format, columns, &mut out).unwrap();
        for r in rows {
            w.row(r).unwrap();
        }
        w.finish().unwrap();
        String::from_utf8(out).unwrap()
    }

    fn sample() -> Vec<Vec<Cell<'static>>> {
        vec![
            vec![Cell::text("SN-1"), Cell::text("full"), Cell::Number(1200)],
            vec![Cell::text("SN-22"), Cell::text("none"), Cell::Empty],
        ]
    }

    const COLS: [&str; 3] = ["device_id", "rule", "payload_bytes"];

    #[test]
    fn csv_has_header_and_empty_fields() {
        assert_eq!(
            rows_as(Format::Csv, &COLS, sample()),
            "device_id,rule,payload_bytes\nSN-1,full,1200\nSN-22,none,\n"
        );
        assert_eq!(
            rows_as(Format::Csv, &COLS, vec![]),
            "device_id,rule,payload_bytes\n"
        );
    }

    #[test]
    fn json_numbers_and_nulls() {
        let text = rows_as(Format::Json, &COLS, sample());
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value,
            serde_json::json!([
                {"device_id": "SN-1", "rule": "full", "payload_bytes": 1200},
                {"device_id": "SN-22", "rule": "none", "payload_bytes": null},
            ])
        );
        assert!(
            text.starts_with("[\n  {\"device_id\":\"SN-1\",\"rule\""),
            "column order: {text}"
        );
        assert_eq!(rows_as(Format::Json, &COLS, vec![]), "[]\n");
    }

    #[test]
    fn table_aligns_text_left_and_numbers_right() {
        assert_eq!(
            rows_as(Format::Table, &COLS, sample()),
            "\
device_id  rule  payload_bytes
SN-1       full           1200
SN-22      none              -
"
        );
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let rows = vec![vec![Cell::text("a,b"), Cell::text("x"), Cell::Number(1)]];
        assert_eq!(
            rows_as(Format::Csv, &COLS, rows),
            "device_id,rule,payload_bytes\n\"a,b\",x,1\n"
        );
    }

    #[test]
    fn durations_for_people() {
        assert_eq!(tick_label(24, 3600), "tick 24 (1d)");
    }

    /// A tiny Figure 4: Full 2.0.0, Delta 2.0.0->2.1.0 and a staged Delta 2.1.0->2.2.0.
    fn tiny() -> (Catalog, Fleet) {
        let mut catalog = Catalog::new();
        let main = SoftwareTypeId(0);
        let evt = catalog.intern_hardware("evt").unwrap();
        let mut v = |s: &str| catalog.intern_version(main, s).unwrap();
        let (v09, v20, v21, v22) = (v("0.9.0"), v("2.0.0"), v("2.1.0"), v("2.2.0"));
        let mut add = |kind| {
            catalog
                .add_release(Release {
                    software_type: main,
                    kind,
                    payloads: vec![(evt, 100)],
                    deleted: false,
                })
                .unwrap()
        };
        let full = add(ReleaseKind::Full {
            version: v20,
            must_pass_through: false,
        });
        let d1 = add(ReleaseKind::Delta { from: v20, to: v21 });
        let d2 = add(ReleaseKind::Delta { from: v21, to: v22 });
        let default = CohortId(0);
        for (r, rollout) in [
            (full, Rollout::Normal),
            (d1, Rollout::Normal),
            (d2, Rollout::Staged(Percent::whole(10))),
        ] {
            catalog
                .activate(r, default, rollout, Actor::Anonymous)
                .unwrap();
        }
        let mut fleet = Fleet::new();
        let mut push = |id: String, version, staged| {
            fleet
                .push(NewDevice {
                    id,
                    report: DeviceReport {
                        software_type: main,
                        version,
                        hardware: evt,
                        project_key: None,
                        cohort: default,
                        staged,
                        release_override: None,
                    },
                    last_seen: None,
                })
                .unwrap();
        };
        for i in 0..21 {
            push(format!("a{i}"), v09, false);
        }
        for i in 0..132 {
            push(format!("b{i}"), v20, false);
        }
        for i in 0..738 {
            push(format!("c{i}"), v21, i < 80);
        }
        (catalog, fleet)
    }

    #[test]
    fn matrix_grid_of_figure_4() {
        let (catalog, fleet) = tiny();
        let rows = version_matrix(&catalog, &fleet, None);
        let mut out = Vec::new();
        write_matrix_grid(
            &mut out,
            &catalog,
            &rows,
            &[CohortId(0)],
            &HashMap::new(),
            "version matrix at tick 0 (0s)",
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let grid: String = text.lines().take(8).map(|l| format!("{l}\n")).collect();
        assert_eq!(
            grid,
            "\
version matrix at tick 0 (0s)

cohort \"default\": 891 devices
  current \\ next  2.0.0  2.1.0  2.2.0  final
  0.9.0            21 F    ·      ·    2.1.0
  2.0.0             ·    132 Δ    ·    2.1.0
  2.1.0             ·    658     80 Δ  2.1.0 (658), 2.2.0 (80)
  final: 811 on 2.1.0, 80 on 2.2.0
"
        );
        assert!(text.contains("Δ delta (R13)"), "{text}");
    }

    #[test]
    fn matrix_grid_names_cohorts_without_devices() {
        let (mut catalog, fleet) = tiny();
        let beta = catalog
            .define_cohort(otasim::catalog::Cohort {
                name: "beta".to_string(),
                disable_version_checking: false,
                protected: true,
                approval_team: None,
            })
            .unwrap();
        let rows = version_matrix(&catalog, &fleet, Some(beta));
        let mut out = Vec::new();
        write_matrix_grid(&mut out, &catalog, &rows, &[beta], &HashMap::new(), "t").unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("t\n\nno devices in cohort \"beta\"\n"),
            "{text}"
        );
    }
}
