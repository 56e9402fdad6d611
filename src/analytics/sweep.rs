//! The `sweep` table: one row per variant, its parameter values and headline figures.

use polars::prelude::{DataFrame, PolarsResult};

use super::col;

/// The headline figures of one variant of a sweep.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SweepRow {
    /// The variant's index in the whole grid.
    pub variant: u64,
    /// Its value of each parameter, as given.
    pub values: Vec<String>,
    /// First tick at which 95 % of the devices were at their final version (needs
    /// policies).
    pub ticks_to_95_percent: Option<u64>,
    /// The same in hours.
    pub hours_to_95_percent: Option<f64>,
    /// Devices that attempted a release of an activation with a policy, up to the
    /// tick its gate fired (or over the run), summed over those activations.
    pub blast_radius_devices: Option<u64>,
    /// Devices among them with a failed install.
    pub blast_radius_failed: Option<u64>,
    /// Gates that fired.
    pub gates_fired: Option<u64>,
    /// Payload bytes sent.
    pub bytes_total: u64,
    /// The largest egress of one tick.
    pub peak_bytes_per_tick: u64,
    /// Egress cost.
    pub cost: f64,
    /// Polls held back by caps or windows.
    pub downloads_deferred: Option<u64>,
    /// Devices at their final version at the end, as a percentage.
    pub at_final_version_percent: Option<f64>,
}

/// `sweep`: columns `variant`, one per parameter (named as given to `--set`; numbers
/// when every value of the parameter is one, else text), then `ticks_to_95_percent,
/// hours_to_95_percent, blast_radius_devices, blast_radius_failed, gates_fired,
/// bytes_total, peak_bytes_per_tick, cost, downloads_deferred, at_final_version_percent`.
/// `all_values` are every value of each parameter (the whole grid, so that every part
/// of a sweep has the same column types).
pub fn sweep_table(
    names: &[String],
    all_values: &[Vec<String>],
    rows: &[SweepRow],
) -> PolarsResult<DataFrame> {
    let mut cols = vec![col(
        "variant",
        rows.iter().map(|r| r.variant).collect::<Vec<u64>>(),
    )];
    for (i, name) in names.iter().enumerate() {
        let numeric = all_values[i].iter().all(|v| v.parse::<f64>().is_ok());
        if numeric {
            cols.push(col(
                name,
                rows.iter()
                    .map(|r| r.values[i].parse::<f64>().expect("checked"))
                    .collect::<Vec<f64>>(),
            ));
        } else {
            cols.push(col(
                name,
                rows.iter()
                    .map(|r| r.values[i].trim_matches('"').to_string())
                    .collect::<Vec<String>>(),
            ));
        }
    }
    cols.push(col(
        "ticks_to_95_percent",
        rows.iter()
            .map(|r| r.ticks_to_95_percent)
            .collect::<Vec<_>>(),
    ));
    cols.push(col(
        "hours_to_95_percent",
        rows.iter()
            .map(|r| r.hours_to_95_percent)
            .collect::<Vec<_>>(),
    ));
    cols.push(col(
        "blast_radius_devices",
        rows.iter()
            .map(|r| r.blast_radius_devices)
            .collect::<Vec<_>>(),
    ));
    cols.push(col(
        "blast_radius_failed",
        rows.iter()
            .map(|r| r.blast_radius_failed)
            .collect::<Vec<_>>(),
    ));
    cols.push(col(
        "gates_fired",
        rows.iter().map(|r| r.gates_fired).collect::<Vec<_>>(),
    ));
    cols.push(col(
        "bytes_total",
        rows.iter().map(|r| r.bytes_total).collect::<Vec<_>>(),
    ));
    cols.push(col(
        "peak_bytes_per_tick",
        rows.iter()
            .map(|r| r.peak_bytes_per_tick)
            .collect::<Vec<_>>(),
    ));
    cols.push(col("cost", rows.iter().map(|r| r.cost).collect::<Vec<_>>()));
    cols.push(col(
        "downloads_deferred",
        rows.iter()
            .map(|r| r.downloads_deferred)
            .collect::<Vec<_>>(),
    ));
    cols.push(col(
        "at_final_version_percent",
        rows.iter()
            .map(|r| r.at_final_version_percent)
            .collect::<Vec<_>>(),
    ));
    DataFrame::new_infer_height(cols)
}
