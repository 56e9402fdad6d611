//! The knee curve of delta planning (`plan-deltas --chart`): the saving of each strategy's
//! plan against the number of deltas allowed, K = 0, 1, …, so a planner sees where one
//! more delta stops paying.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::scale::ValueTicks;
use super::{font, palette, raster, write_atomically, ChartError, Unit};

/// Savings per budget, one line per strategy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Knee {
    /// The title, e.g. `Deltas into 3.3.0: bytes saved by budget`.
    pub title: String,
    /// (strategy, saving in bytes for K = 0, 1, …).
    pub lines: Vec<(String, Vec<u64>)>,
}

const SIZE: (u32, u32) = (1000, 560);

impl Knee {
    /// The chart as SVG.
    pub fn to_svg(&self) -> Result<String, ChartError> {
        raster::svg_of(&self.title, SIZE, |root| self.draw(root))
    }

    /// The chart as PNG file bytes.
    pub fn to_png(&self) -> Result<Vec<u8>, ChartError> {
        raster::png_of(&self.title, SIZE, |root| self.draw(root))
    }

    /// Writes the chart to `path`, SVG for a `.svg` name, PNG otherwise, atomically.
    pub fn write(&self, path: &Path) -> Result<(), ChartError> {
        let bytes = if super::wants_svg(path) {
            self.to_svg()?.into_bytes()
        } else {
            self.to_png()?
        };
        Ok(write_atomically(path, &bytes)?)
    }

    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), String> {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        font::ensure_registered();
        root.fill(&WHITE).map_err(err)?;
        let k_max = self
            .lines
            .iter()
            .map(|(_, v)| v.len().saturating_sub(1))
            .max()
            .unwrap_or(0)
            .max(1);
        let y_max = self
            .lines
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .max()
            .unwrap_or(0) as f64;
        let ticks = ValueTicks::new(y_max, Unit::Bytes);
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, font::bold(22.0).color(&palette::INK))
            .margin(24)
            .x_label_area_size(48)
            .y_label_area_size(90)
            .build_cartesian_2d(0f64..k_max as f64, 0f64..ticks.max)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("deltas allowed (K)")
            .y_desc("bytes saved")
            .x_labels(k_max.min(20) + 1)
            .x_label_formatter(&|x| format!("{}", x.round() as i64))
            .y_labels(ticks.ticks.len())
            .y_label_formatter(&|y| ticks.label(*y))
            .label_style(font::regular(13.0).color(&palette::MUTED_INK))
            .axis_desc_style(font::regular(14.0).color(&palette::INK))
            .light_line_style(TRANSPARENT)
            .bold_line_style(palette::GRID)
            .axis_style(palette::AXIS)
            .draw()
            .map_err(err)?;
        for (i, (label, values)) in self.lines.iter().enumerate() {
            let color = palette::CATEGORICAL[i % palette::CATEGORICAL.len()];
            let points: Vec<(f64, f64)> = values
                .iter()
                .enumerate()
                .map(|(k, &v)| (k as f64, v as f64))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(3)))
                .map_err(err)?
                .label(label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
                });
            chart
                .draw_series(
                    points
                        .into_iter()
                        .map(|p| Circle::new(p, 4, color.filled())),
                )
                .map_err(err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font(font::regular(14.0).color(&palette::INK))
            .background_style(WHITE.mix(0.9))
            .border_style(palette::AXIS)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knee_renders_as_svg_and_png() {
        let knee = Knee {
            title: "Deltas into 2.0.0: bytes saved by budget".into(),
            lines: vec![
                ("top_n".into(), vec![0, 5_700, 9_500, 13_300]),
                ("optimal".into(), vec![0, 7_200, 10_200, 13_300]),
            ],
        };
        let svg = knee.to_svg().unwrap();
        assert!(svg.contains("optimal") && svg.contains("deltas allowed (K)"));
        let png = knee.to_png().unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
}
