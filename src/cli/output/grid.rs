//! The version-matrix grid for people (R23, R24): one block per cohort, current
//! versions down, next versions across, and the labels it shares with other output.

use super::*;

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

pub(super) fn group_heading(
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

pub(super) fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

pub(super) fn write_group(
    out: &mut impl Write,
    catalog: &Catalog,
    group: &[&MatrixRow],
) -> io::Result<()> {
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

pub(super) fn add_count(counts: &mut Vec<(Final, u64)>, fin: Final, n: u64) {
    match counts.iter_mut().find(|(f, _)| *f == fin) {
        Some((_, c)) => *c += n,
        None => counts.push((fin, n)),
    }
}

pub(super) fn sort_finals(catalog: &Catalog, finals: &mut [(Final, u64)]) {
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
