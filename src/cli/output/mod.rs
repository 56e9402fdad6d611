//! Rendering rows for people (aligned tables, the version-matrix grid) and for programs
//! (CSV, JSON). Everything here writes to a `Write` and returns `io::Result`, so that a
//! closed pipe reaches `main` as an `io::Error` of kind `BrokenPipe`.
//!
//! `rows.rs` is one row type and writer for every format, `align.rs` the aligned text
//! table, `grid.rs` the version-matrix grid and the labels it shares.

mod align;
mod grid;
mod rows;
#[cfg(test)]
mod tests;

pub use align::*;
pub use grid::*;
pub use rows::*;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

use otasim::catalog::Catalog;
use otasim::ids::{CohortId, SoftwareTypeId, VersionId};
use otasim::matrix::{Final, MatrixRow};
use otasim::resolver::Rule;
use otasim::scenario::time::format_duration;

use super::args::Format;
