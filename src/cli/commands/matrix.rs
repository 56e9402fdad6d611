//! `otasim matrix`: the version matrix at a moment (R23, R24; spec §9).

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use anyhow::Result;

use otasim::catalog::Catalog;
use otasim::fleet::Fleet;
use otasim::ids::CohortId;
use otasim::matrix;
use otasim::resolver;
use otasim::scenario::table::{DeviceIds, SharedTables};

use crate::cli::args::{Format, MatrixArgs};
use crate::cli::output::{self, Cell, RowWriter};

/// The columns, exactly as the contract names them; `software_type` is appended when
/// the catalog has several software types.
pub const COLUMNS: [&str; 6] = [
    "cohort",
    "current_version",
    "next_version",
    "rule",
    "devices",
    "final_version",
];

/// Runs the command.
pub fn run(args: &MatrixArgs, out: &mut impl Write) -> Result<()> {
    // The matrix counts devices by class: a fleet table's ids stay unread unless the
    // scenario names a device (`DeviceIds::Unread`; `validate` checks them).
    let mut options = crate::cli::load_options(&args.input, SharedTables::default());
    options.device_ids = DeviceIds::Unread;
    let mut scenario = crate::cli::load_with(&args.input, &options)?;
    let (tick, state) = crate::cli::state_at(&mut scenario, &args.at)?;
    let (catalog, fleet) = (&state.catalog, &state.fleet);
    let only = match &args.cohort {
        Some(name) => Some(crate::cli::for_flag(catalog.need_cohort(name), "--cohort")?),
        None => None,
    };
    let rows = matrix::version_matrix(catalog, fleet, only);
    let format = crate::cli::format_or_default(args.format);

    if format == Format::Table {
        let cohorts: Vec<CohortId> = match only {
            Some(c) => vec![c],
            None => {
                let mut all: Vec<CohortId> = (0..catalog.cohorts().len())
                    .map(|i| CohortId(i as u16))
                    .collect();
                all.sort_by(|a, b| catalog.cohort(*a).name.cmp(&catalog.cohort(*b).name));
                all
            }
        };
        let title = format!(
            "version matrix of {} at {}",
            scenario.path.display(),
            output::tick_label(tick, scenario.tick_seconds)
        );
        output::write_matrix_grid(
            out,
            catalog,
            &rows,
            &cohorts,
            &key_notes(catalog, fleet),
            &title,
        )?;
        return Ok(());
    }

    let several_types = catalog.software_types().len() > 1;
    let mut columns = COLUMNS.to_vec();
    if several_types {
        columns.push("software_type");
    }
    let mut writer = RowWriter::new(format, &columns, out)?;
    for r in &rows {
        let mut cells = vec![
            Cell::text(&catalog.cohort(r.cohort).name),
            Cell::Text(catalog.version(r.current).to_string().into()),
            Cell::Text(catalog.version(r.next).to_string().into()),
            Cell::text(r.rule.name()),
            Cell::Number(r.devices),
            Cell::Text(output::final_text(catalog, r.final_version).into()),
        ];
        if several_types {
            cells.push(Cell::text(&catalog.software_type(r.software_type).name));
        }
        writer.row(cells)?;
    }
    writer.finish()?;
    Ok(())
}

/// R9: the matrix groups devices by their stored cohort, but a project key may send
/// their OTA decisions to another cohort; say so under the cohort's heading. Counted per
/// device class (the effective cohort depends on nothing else), not device by device.
fn key_notes(catalog: &Catalog, fleet: &Fleet) -> HashMap<CohortId, String> {
    let mut elsewhere: BTreeMap<CohortId, BTreeMap<CohortId, u64>> = BTreeMap::new();
    for (report, n) in matrix::count_reports(catalog, fleet, None) {
        let effective = resolver::effective_cohort(catalog, &report);
        if effective != report.cohort {
            *elsewhere
                .entry(report.cohort)
                .or_default()
                .entry(effective)
                .or_default() += n;
        }
    }
    elsewhere
        .into_iter()
        .map(|(cohort, to)| {
            let parts: Vec<String> = to
                .into_iter()
                .map(|(c, n)| {
                    let s = if n == 1 { "" } else { "s" };
                    format!(
                        "{n} device{s} {} their updates from cohort \"{}\"",
                        if n == 1 { "takes" } else { "take" },
                        catalog.cohort(c).name
                    )
                })
                .collect();
            let note = format!("project key override (R9): {}", parts.join(", "));
            (cohort, note)
        })
        .collect()
}
