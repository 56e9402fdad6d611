//! Charts of a run and the HTML report, for release planners.
//!
//! This module knows nothing of the engine: it draws plain data (the structs below) that the
//! caller fills from a run. Four kinds of figure cover a rollout:
//!
//! - the fleet's software-version distribution over time, a [`StackedSeries`] in
//!   [`Unit::Devices`], one layer per version;
//! - egress per tick split by resolver rule, a [`StackedSeries`] in [`Unit::Bytes`] whose
//!   layers are named after rules (`delta`, `full`, `must_pass_through`, `override`) so
//!   that each rule keeps one colour everywhere;
//! - adoption curves, [`Lines`] in [`Unit::Percent`] (values 0–100), one line per release;
//! - the version matrix of a cohort at one moment, a [`MatrixHeat`].
//!
//! Each renders as PNG ([`Chart::to_png`]) or SVG ([`Chart::to_svg`]); [`write_report`]
//! puts a summary table, the charts (inline SVG) and the final matrices into one
//! self-contained HTML file. Files are written atomically (temporary file, then rename).
//!
//! Colours are colour-blind safe: Okabe–Ito for categories, a single-hue ramp for counts.
//! PNG text uses a bundled DejaVu Sans, so no system font is needed.

use std::io;
use std::path::Path;

mod draw;
mod font;
pub mod knee;
mod palette;
mod pareto;
mod raster;
mod report;
mod scale;
#[cfg(test)]
mod tests;

pub use pareto::{frontier, Pareto, ParetoPoint};
/// Whether a chart written to `path` is SVG (a `.svg` name, any case) rather than PNG.
pub(crate) fn wants_svg(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"))
}

pub use report::{render_report, write_report, Figure, Report, ReportTable};
pub use scale::group_thousands;

/// The x axis of a time chart. Sample `i` of every series is drawn at `i × tick_seconds`
/// since the start; the axis reads in minutes, hours or days, whichever suits its span.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TimeAxis {
    /// Length of one tick in seconds.
    pub tick_seconds: u64,
    /// Number of samples on the axis.
    pub ticks: usize,
}

impl TimeAxis {
    /// The length of one tick in the canonical duration form (`1h`, `15m`, `1d`), e.g. for
    /// an axis description such as `Bytes sent per 1h tick`.
    pub fn tick_length(&self) -> String {
        crate::scenario::time::format_duration(self.tick_seconds)
    }
}

/// What the y values count, which decides how the axis reads.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Unit {
    /// Devices: `800`, `12k`, `1.5M`.
    Devices,
    /// Bytes in decimal units: `B`, `KB`, `MB`, `GB`, `TB` (1 KB = 1000 B).
    Bytes,
    /// A share from 0 to 100; the axis always spans 0–100 %.
    Percent,
}

/// One labelled series of per-tick values.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// Legend label: a version, a rule name or a release.
    pub label: String,
    /// One value per tick.
    pub values: Vec<f64>,
    /// A colour slot in the categorical palette that the caller keeps for this category
    /// (a version) in every chart, so a version has one colour throughout a report. `None`:
    /// the rule's colour for a rule label, else the next free slot by position.
    pub colour: Option<usize>,
}

impl Line {
    /// A series from counts (devices, bytes).
    pub fn from_counts(label: impl Into<String>, counts: &[u64]) -> Line {
        Line {
            label: label.into(),
            values: counts.iter().map(|&c| c as f64).collect(),
            colour: None,
        }
    }

    /// The same series, drawn in colour slot `slot` in every chart.
    pub fn in_colour(self, slot: usize) -> Line {
        Line {
            colour: Some(slot),
            ..self
        }
    }
}

/// Layers stacked on one another over time (an area chart), bottom layer first.
///
/// At most eight layers are drawn: beyond that, the layers with the smallest peaks are
/// folded into one grey "other" layer. A layer labelled with a rule name gets that rule's
/// colour.
#[derive(Clone, Debug, PartialEq)]
pub struct StackedSeries {
    /// The chart's title.
    pub title: String,
    /// What the y axis shows, e.g. `Devices` or `Egress per tick (1 h)`.
    pub y_desc: String,
    /// The unit of the values.
    pub y_unit: Unit,
    /// The x axis.
    pub axis: TimeAxis,
    /// The layers, bottom first.
    pub layers: Vec<Line>,
}

/// Independent lines over time, e.g. adoption curves (share of the fleet on each release's
/// version, [`Unit::Percent`] with values 0–100).
#[derive(Clone, Debug, PartialEq)]
pub struct Lines {
    /// The chart's title.
    pub title: String,
    /// What the y axis shows, e.g. `Share of fleet`.
    pub y_desc: String,
    /// The unit of the values.
    pub y_unit: Unit,
    /// The x axis.
    pub axis: TimeAxis,
    /// The lines, in legend order.
    pub lines: Vec<Line>,
}

/// A version matrix (R23) at one moment: devices by (current version, next version) and the
/// rule that decided each cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatrixHeat {
    /// The title, e.g. `Version matrix, cohort beta, day 30`; in the report, the heading.
    pub title: String,
    /// Current versions, one per row, in version order.
    pub rows: Vec<String>,
    /// Next versions (the resolver's answer), one per column, in version order.
    pub cols: Vec<String>,
    /// `cells[row][col]`: devices on `rows[row]` whose next version is `cols[col]`.
    pub cells: Vec<Vec<u64>>,
    /// `cell_rules[row][col]`: the rule name (`none`, `override`, `delta`,
    /// `must_pass_through`, `full`) of a non-empty cell; `None` for an empty cell.
    pub cell_rules: Vec<Vec<Option<String>>>,
    /// Each row's final version (R24, `cycle` for a cycle), shown in the report's table;
    /// empty if not known.
    pub row_final: Vec<String>,
}

/// Any figure this module draws.
#[derive(Clone, Debug, PartialEq)]
pub enum Chart {
    /// A stacked area chart.
    Stacked(StackedSeries),
    /// A line chart.
    Lines(Lines),
    /// A version-matrix heat map.
    Heat(MatrixHeat),
}

/// Pixel size of a chart (PNG pixels, SVG user units).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Size {
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

impl Size {
    /// The size of time charts: 1200 × 600.
    pub const WIDE: Size = Size {
        width: 1200,
        height: 600,
    };
}

/// Why a chart could not be drawn or written.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// The data does not fit together (e.g. a matrix row of the wrong length).
    #[error("chart `{title}`: {problem}")]
    Data {
        /// The chart's title.
        title: String,
        /// What is wrong.
        problem: String,
    },
    /// Drawing failed (plotters' error, as text).
    #[error("drawing chart `{title}`: {message}")]
    Draw {
        /// The chart's title.
        title: String,
        /// plotters' message.
        message: String,
    },
    /// PNG encoding failed.
    #[error("encoding PNG: {0}")]
    Png(#[from] png::EncodingError),
    /// Writing the file failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl Chart {
    /// The chart's title.
    pub fn title(&self) -> &str {
        match self {
            Chart::Stacked(s) => &s.title,
            Chart::Lines(l) => &l.title,
            Chart::Heat(m) => &m.title,
        }
    }

    /// A size that suits the chart: [`Size::WIDE`] for time charts; for a heat map, room
    /// for its rows and columns (at least 900 × 420).
    pub fn default_size(&self) -> Size {
        match self {
            Chart::Stacked(_) | Chart::Lines(_) => Size::WIDE,
            Chart::Heat(m) => {
                // Column labels longer than a 96-pixel column stand upright (about 9 pixels
                // per character): make room for them.
                let longest = m.cols.iter().map(|c| c.chars().count()).max().unwrap_or(0) as u32;
                let upright = if longest * 9 > 88 {
                    (longest * 9).min(220)
                } else {
                    0
                };
                Size {
                    width: (420 + 96 * m.cols.len() as u32).clamp(900, 2400),
                    height: (200 + 52 * m.rows.len() as u32 + upright).clamp(420, 2400),
                }
            }
        }
    }

    /// The chart as an SVG document.
    pub fn to_svg(&self, size: Size) -> Result<String, ChartError> {
        self.check()?;
        let mut out = String::new();
        {
            let backend =
                plotters::backend::SVGBackend::with_string(&mut out, (size.width, size.height));
            draw::chart(backend, self).map_err(|message| self.draw_error(message))?;
        }
        Ok(out)
    }

    /// The chart as PNG file bytes (8-bit RGB).
    pub fn to_png(&self, size: Size) -> Result<Vec<u8>, ChartError> {
        self.check()?;
        let (w, h) = (size.width, size.height);
        let mut rgb = vec![0u8; w as usize * h as usize * 3];
        {
            let backend = raster::Crisp::with_buffer(&mut rgb, (w, h));
            draw::chart(backend, self).map_err(|message| self.draw_error(message))?;
        }
        Ok(raster::encode_png(&rgb, (w, h))?)
    }

    /// Writes the chart as a PNG file at `path`, atomically.
    pub fn write_png(&self, path: &Path, size: Size) -> Result<(), ChartError> {
        let bytes = self.to_png(size)?;
        Ok(write_atomically(path, &bytes)?)
    }

    /// Writes the chart at its default size to `path`, SVG for a `.svg` name, PNG
    /// otherwise, atomically.
    pub fn write(&self, path: &Path) -> Result<(), ChartError> {
        let size = self.default_size();
        if wants_svg(path) {
            self.write_svg(path, size)
        } else {
            self.write_png(path, size)
        }
    }

    /// Writes the chart as an SVG file at `path`, atomically.
    pub fn write_svg(&self, path: &Path, size: Size) -> Result<(), ChartError> {
        let svg = self.to_svg(size)?;
        Ok(write_atomically(path, svg.as_bytes())?)
    }

    fn draw_error(&self, message: String) -> ChartError {
        ChartError::Draw {
            title: self.title().to_owned(),
            message,
        }
    }

    /// Checks that the data fits together, so drawing never indexes out of bounds.
    fn check(&self) -> Result<(), ChartError> {
        let problem = match self {
            Chart::Stacked(StackedSeries { layers: s, .. })
            | Chart::Lines(Lines { lines: s, .. }) => s.iter().find_map(|s| {
                s.values
                    .iter()
                    .any(|v| !v.is_finite())
                    .then(|| format!("series `{}` has a value that is not finite", s.label))
            }),
            Chart::Heat(m) => check_matrix(m),
        };
        match problem {
            None => Ok(()),
            Some(problem) => Err(ChartError::Data {
                title: self.title().to_owned(),
                problem,
            }),
        }
    }
}

fn check_matrix(m: &MatrixHeat) -> Option<String> {
    if m.cells.len() != m.rows.len() || m.cell_rules.len() != m.rows.len() {
        return Some(format!(
            "{} rows but {} rows of cells and {} rows of rules",
            m.rows.len(),
            m.cells.len(),
            m.cell_rules.len()
        ));
    }
    if let Some(i) = (0..m.rows.len())
        .find(|&i| m.cells[i].len() != m.cols.len() || m.cell_rules[i].len() != m.cols.len())
    {
        return Some(format!(
            "row `{}` does not have one cell and one rule per column ({} columns)",
            m.rows[i],
            m.cols.len()
        ));
    }
    if !m.row_final.is_empty() && m.row_final.len() != m.rows.len() {
        return Some(format!(
            "{} final versions for {} rows",
            m.row_final.len(),
            m.rows.len()
        ));
    }
    None
}

/// Writes `bytes` to `path` atomically: see [`crate::table_out::write_bytes`].
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    crate::table_out::write_bytes(path, bytes)
}
