//! One module per subcommand; each has `run(args, out)`.

pub mod compare;
pub mod diff;
pub mod explain;
pub mod matrix;
pub mod plan_deltas;
pub mod resolve;
pub mod run;
pub mod sweep;
pub mod validate;
