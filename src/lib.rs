//! otasim: an exact OTA release resolver run over fleets of millions of devices.
//!
//! Data flows one way: files (`scenario`) → the validated [`model::Model`] (built of
//! `catalog`, `fleet`, `timeline`, `behaviour`, `policy`) → `engine` → `analytics`,
//! `diff`, `plan` → tables (`table_out`) and `charts`. Which module may use which is the
//! layer list in `tests/layers.rs` (ARCHITECTURE.md explains it). Nothing here prints or
//! parses command lines: that is the binary's job (`src/main.rs`, `src/cli/`).
//!
//! Rule numbers (R1 … R40) and sections ("spec §4") cite `docs/spec.md`, the behaviour
//! reference; `docs/semantics.md` records the decisions made where it is silent.
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::print_stdout, clippy::print_stderr))]

pub mod analytics;
pub mod behaviour;
mod bitmap;
pub mod catalog;
pub mod charts;
pub mod diff;
pub mod dir_lock;
pub mod engine;
pub mod fleet;
pub mod golden;
pub mod ids;
pub mod limits;
pub mod matrix;
pub mod model;
mod pages;
pub mod plan;
pub mod policy;
mod prefetch;
pub mod resolver;
pub mod rng;
mod row_runs;
pub mod scenario;
pub mod staging;
pub mod sweep;
pub mod table_out;
pub mod timeline;
pub mod version;
