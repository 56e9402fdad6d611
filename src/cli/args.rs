//! The command line as the user types it (clap derive types). Nothing here loads or
//! computes: `commands/<verb>.rs` turn these into work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Fleet OTA rollout simulator: an exact Memfault-style release resolver.
#[derive(Debug, Parser)]
#[command(name = "otasim", version, about, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Which release each device gets at a moment (one row per device).
    Resolve(ResolveArgs),
    /// The version matrix of every cohort (or one) at a moment (R23, R24).
    Matrix(MatrixArgs),
    /// Why one device gets what it gets: the resolver's reasons, rule by rule.
    Explain(ExplainArgs),
    /// Checks a scenario file, its fleet and its whole timeline, and summarises it.
    Validate(ValidateArgs),
    /// Simulates the whole duration and writes the outputs (tables, summary, charts).
    Run(RunArgs),
    /// Which devices get another answer: scenario A against B, a resolver variant of A,
    /// or decisions recorded by another system (R33, R34). Exit 0: none, 1: some, 2: error.
    Diff(super::diff_args::DiffArgs),
    /// Which Delta releases into a version are worth building (R27-R31).
    PlanDeltas(crate::cli::commands::plan_deltas::PlanDeltasArgs),
    /// Runs the scenario once per combination of parameter values and writes one row
    /// per variant (`sweep.parquet`, `sweep.csv`).
    Sweep(SweepArgs),
    /// Two runs side by side: headline figures and differences, and one HTML page with
    /// their convergence curves and egress overlaid.
    Compare(CompareArgs),
}

/// Where the scenario comes from, and what the command line replaces in it.
#[derive(Debug, Args)]
pub struct ScenarioArgs {
    /// The scenario file (TOML).
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,
    /// Replace the scenario's fleet with this CSV or Parquet table.
    #[arg(long, value_name = "PATH")]
    pub fleet: Option<PathBuf>,
    /// Replace the scenario's seed (R22).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Scale the scenario's synthetic fleet groups to this many devices in all.
    #[arg(long, value_name = "N")]
    pub devices: Option<u64>,
    /// Treat warnings (suspicious but valid input) as errors, e.g. in CI.
    #[arg(long)]
    pub deny_warnings: bool,
}

/// How rows are written.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned, for people (the default on a terminal).
    Table,
    /// Comma-separated with a header row (the default when piped).
    Csv,
    /// A JSON array of objects keyed like the CSV columns.
    Json,
}

/// `otasim resolve`.
#[derive(Debug, Args)]
pub struct ResolveArgs {
    #[command(flatten)]
    pub input: ScenarioArgs,
    /// The moment: a tick number (`36`) or a duration (`36h`, `1d12h`).
    #[arg(long, value_name = "T", allow_hyphen_values = true)]
    pub at: String,
    /// Only this device.
    #[arg(long, value_name = "ID")]
    pub device: Option<String>,
    /// Output format [default: table on a terminal, csv otherwise].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// `otasim matrix`.
#[derive(Debug, Args)]
pub struct MatrixArgs {
    #[command(flatten)]
    pub input: ScenarioArgs,
    /// The moment: a tick number (`36`) or a duration (`36h`, `1d12h`).
    #[arg(long, value_name = "T", allow_hyphen_values = true)]
    pub at: String,
    /// Only this cohort (devices are grouped by their stored cohort).
    #[arg(long, value_name = "COHORT")]
    pub cohort: Option<String>,
    /// Output format [default: table on a terminal, csv otherwise].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// `otasim explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub input: ScenarioArgs,
    /// The device to explain.
    #[arg(long, value_name = "ID")]
    pub device: String,
    /// The moment: a tick number (`36`) or a duration (`36h`, `1d12h`).
    #[arg(long, value_name = "T", allow_hyphen_values = true)]
    pub at: String,
}

/// `otasim validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub input: ScenarioArgs,
}

/// Which table formats `run` writes.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    /// Parquet and CSV.
    Both,
    /// Parquet only.
    Parquet,
    /// CSV only.
    Csv,
}

/// `otasim run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub input: ScenarioArgs,
    /// The output directory (created, or its files replaced).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Worker threads [default: all cores].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Also snapshot the version matrix every this often (`1d`, `12h`, or ticks).
    #[arg(long, value_name = "DURATION")]
    pub snapshot_every: Option<String>,
    /// Table formats to write.
    #[arg(long, value_enum, default_value_t = TableFormat::Both)]
    pub format: TableFormat,
    /// Skip the charts and the HTML report.
    #[arg(long)]
    pub no_charts: bool,
    /// No progress bar and no summary on the terminal.
    #[arg(long, short)]
    pub quiet: bool,
    /// Compare the outputs with a stored run directory (every table; summary.json except
    /// timings) and fail naming the first differing table, row and column.
    #[arg(long, value_name = "GOLDEN")]
    pub check: Option<PathBuf>,
}

/// `otasim compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The first run's output directory (A).
    #[arg(value_name = "DIR_A")]
    pub a: PathBuf,
    /// The second run's output directory (B).
    #[arg(value_name = "DIR_B")]
    pub b: PathBuf,
    /// The HTML page to write.
    #[arg(long, value_name = "FILE", default_value = "compare.html")]
    pub out: PathBuf,
}

/// `otasim sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub input: ScenarioArgs,
    /// A parameter of the scenario file and its values, `NAME=V1,V2,…`
    /// (`events[3].gate.max_failure_percent=1,5,10`); repeat for a grid.
    #[arg(long = "set", value_name = "NAME=V1,V2,…", required = true)]
    pub set: Vec<String>,
    /// The output directory (created, or its files replaced).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Run only slice I of N of the grid (1-based) and write `sweep-part-I-of-N.*`.
    #[arg(long, value_name = "I/N")]
    pub part: Option<String>,
    /// Worker threads [default: all cores].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Table formats to write.
    #[arg(long, value_enum, default_value_t = TableFormat::Both)]
    pub format: TableFormat,
    /// No progress bar and no table on the terminal.
    #[arg(long, short)]
    pub quiet: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_the_contract_invocations() {
        let cli = Cli::try_parse_from([
            "otasim", "resolve", "s.toml", "--at", "36h", "--format", "csv", "--fleet", "f.csv",
        ])
        .unwrap();
        let Command::Resolve(a) = cli.command else {
            panic!("not resolve")
        };
        assert_eq!(a.at, "36h");
        assert_eq!(a.format, Some(Format::Csv));
        assert_eq!(
            a.input.fleet.as_deref(),
            Some(std::path::Path::new("f.csv"))
        );

        let cli = Cli::try_parse_from(["otasim", "matrix", "s.toml", "--at", "0", "--seed", "9"])
            .unwrap();
        let Command::Matrix(a) = cli.command else {
            panic!("not matrix")
        };
        assert_eq!(a.input.seed, Some(9));
        assert_eq!(a.format, None);
    }

    #[test]
    fn at_is_required_where_the_contract_needs_it() {
        assert!(Cli::try_parse_from(["otasim", "resolve", "s.toml"]).is_err());
        assert!(Cli::try_parse_from(["otasim", "explain", "s.toml", "--at", "0"]).is_err());
        assert!(Cli::try_parse_from(["otasim", "validate", "s.toml"]).is_ok());
    }
}
