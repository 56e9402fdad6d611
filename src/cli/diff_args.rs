//! The command line of `otasim diff` (R33, R34), apart from the other commands' types.

use std::path::PathBuf;

use clap::Args;

use super::args::{Format, ScenarioArgs};

/// `otasim diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Scenario A (with `--fleet`, `--seed`, `--devices`, which apply to B too).
    #[command(flatten)]
    pub input: ScenarioArgs,
    /// Scenario B (or use `--variant` or `--expected` instead).
    #[arg(value_name = "B", conflicts_with_all = ["variant", "expected"])]
    pub other: Option<PathBuf>,
    /// The moment: a tick number (`36`) or a duration (`36h`, `1d12h`).
    #[arg(
        long,
        value_name = "T",
        allow_hyphen_values = true,
        required_unless_present = "over_time"
    )]
    pub at: Option<String>,
    /// Simulate both sides over the whole (shorter) duration: per tick, the devices whose
    /// answer or state differ and the divergence of the version distributions.
    #[arg(long, conflicts_with_all = ["at", "expected", "devices_out"])]
    pub over_time: bool,
    /// B is A with its `[resolver]` table changed (R32): `precedence=a,b,c` or
    /// `override_fallback=true|false`. Repeatable.
    #[arg(long, value_name = "KEY=VALUE", conflicts_with = "expected")]
    pub variant: Vec<String>,
    /// B is a table of decisions recorded by another system (CSV or Parquet; columns
    /// device_id, rule, target_version).
    #[arg(long, value_name = "FILE")]
    pub expected: Option<PathBuf>,
    /// With --over-time, also draw the divergence per tick to FILE (.png or .svg): the
    /// share of devices whose answer or state differs, and the distance between the
    /// version distributions.
    #[arg(long, value_name = "FILE")]
    pub chart: Option<PathBuf>,
    /// Output format [default: table on a terminal, csv otherwise].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
    /// Also write one row per differing device with both answers (CSV or Parquet, by
    /// extension).
    #[arg(long, value_name = "FILE")]
    pub devices_out: Option<PathBuf>,
}
