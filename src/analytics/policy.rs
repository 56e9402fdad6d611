//! The policy log as a table (R40): one row per ramp step, pause or abort.

use polars::prelude::{DataFrame, PolarsResult};

use super::col;
use crate::catalog::Catalog;
use crate::policy::LogRow;

/// `policy`: columns `tick, cohort, release, action, percent, attempts, failures`;
/// `percent` is the rollout percentage a step set or in force when a gate fired,
/// `attempts`/`failures` a gate's counts when it fired (empty otherwise).
pub fn policy_table(catalog: &Catalog, log: &[LogRow]) -> PolarsResult<DataFrame> {
    let percent = |r: &LogRow| {
        r.percent.map(|p| {
            p.to_string()
                .parse::<f64>()
                .expect("a percentage is a decimal")
        })
    };
    DataFrame::new_infer_height(vec![
        col("tick", log.iter().map(|r| r.tick).collect::<Vec<u64>>()),
        col(
            "cohort",
            log.iter()
                .map(|r| catalog.cohort(r.cohort).name.clone())
                .collect::<Vec<String>>(),
        ),
        col(
            "release",
            log.iter()
                .map(|r| catalog.release_name(r.release))
                .collect::<Vec<String>>(),
        ),
        col(
            "action",
            log.iter().map(|r| r.action.name()).collect::<Vec<&str>>(),
        ),
        col(
            "percent",
            log.iter().map(percent).collect::<Vec<Option<f64>>>(),
        ),
        col(
            "attempts",
            log.iter().map(|r| r.attempts).collect::<Vec<Option<u64>>>(),
        ),
        col(
            "failures",
            log.iter().map(|r| r.failures).collect::<Vec<Option<u64>>>(),
        ),
    ])
}
