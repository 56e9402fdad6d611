//! `otasim resolve`: which release each device gets at a moment (spec §9).

use std::collections::HashMap;
use std::io::Write;

use anyhow::Result;

use otasim::fleet::DeviceReport;
use otasim::ids::DeviceIdx;
use otasim::resolver::{self, Decision, NoTrail};

use crate::cli::args::ResolveArgs;
use crate::cli::output::{Cell, RowWriter};

/// The columns, exactly as the contract names them.
pub const COLUMNS: [&str; 8] = [
    "device_id",
    "cohort",
    "effective_cohort",
    "software_version",
    "rule",
    "release",
    "target_version",
    "payload_bytes",
];

/// Runs the command.
pub fn run(args: &ResolveArgs, out: &mut impl Write) -> Result<()> {
    let mut scenario = crate::cli::load(&args.input)?;
    let (_, state) = crate::cli::state_at(&mut scenario, &args.at)?;
    let (catalog, fleet) = (&state.catalog, &state.fleet);
    let only = match &args.device {
        Some(id) => Some(crate::cli::for_flag(
            crate::cli::find_device(fleet, id),
            "--device",
        )?),
        None => None,
    };
    let format = crate::cli::format_or_default(args.format);

    // Names are rendered once, not once per device.
    let versions: Vec<String> = (0..catalog.n_versions())
        .map(|i| {
            catalog
                .version(otasim::ids::VersionId(i as u32))
                .to_string()
        })
        .collect();
    let release_names: Vec<String> = catalog
        .releases()
        .map(|(id, _)| catalog.release_name(id))
        .collect();
    // A fleet holds few distinct reports, so answers are memoised by report.
    let mut answers: HashMap<DeviceReport, Decision> = HashMap::new();

    let mut rows = RowWriter::new(format, &COLUMNS, out)?;
    let devices: Box<dyn Iterator<Item = DeviceIdx>> = match only {
        Some(d) => Box::new(std::iter::once(d)),
        // Devices that have not arrived yet, or have retired, are not in the fleet now.
        None => Box::new(fleet.present()),
    };
    for d in devices {
        let report = fleet.report(d);
        let decision = *answers
            .entry(report)
            .or_insert_with(|| resolver::resolve(catalog, &report, &mut NoTrail));
        let effective = resolver::effective_cohort(catalog, &report);
        let (release, target, payload) = match decision.release {
            Some(id) => {
                let r = catalog.release(id);
                (
                    Cell::text(&release_names[id.index()]),
                    Cell::text(&versions[r.target().index()]),
                    r.payload(report.hardware).map_or(Cell::Empty, Cell::Number),
                )
            }
            None => (Cell::Empty, Cell::Empty, Cell::Empty),
        };
        rows.row(vec![
            Cell::Text(fleet.id(d)),
            Cell::text(&catalog.cohort(report.cohort).name),
            Cell::text(&catalog.cohort(effective).name),
            Cell::text(&versions[report.version.index()]),
            Cell::text(decision.rule.name()),
            release,
            target,
            payload,
        ])?;
    }
    rows.finish()?;
    Ok(())
}
