//! The Pareto chart of a sweep: each variant's blast radius against its time to reach
//! 95 % of the fleet, the variants no other beats on both drawn as the frontier and
//! labelled. Drawn with plotters like every other chart, as SVG and PNG.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::scale::ValueTicks;
use super::{font, palette, raster, ChartError, Unit};

/// One variant of a sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct ParetoPoint {
    /// The variant's label (its parameter values).
    pub label: String,
    /// Time to 95 % (x, hours).
    pub hours: f64,
    /// Blast radius (y, devices).
    pub devices: f64,
}

/// Indices of the points on the frontier (no other point is at most as large on both
/// axes and smaller on one), by increasing hours.
pub fn frontier(points: &[ParetoPoint]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..points.len())
        .filter(|&i| {
            let p = &points[i];
            !points.iter().any(|q| {
                q.hours <= p.hours
                    && q.devices <= p.devices
                    && (q.hours < p.hours || q.devices < p.devices)
            })
        })
        .collect();
    idx.sort_by(|&a, &b| points[a].hours.total_cmp(&points[b].hours).then(a.cmp(&b)));
    idx
}

/// A sweep's Pareto chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Pareto {
    /// The title, e.g. `Blast radius against time to 95 %: events[0].gate…`.
    pub title: String,
    /// One point per variant that has both figures.
    pub points: Vec<ParetoPoint>,
}

const SIZE: (u32, u32) = (1000, 600);

/// Frontier labels beyond this many would cover the chart: the rest are in the table.
const MAX_LABELS: usize = 12;

impl Pareto {
    /// The chart as SVG.
    pub fn to_svg(&self) -> Result<String, ChartError> {
        raster::svg_of(&self.title, SIZE, |root| self.draw(root))
    }

    /// The chart as PNG file bytes.
    pub fn to_png(&self) -> Result<Vec<u8>, ChartError> {
        raster::png_of(&self.title, SIZE, |root| self.draw(root))
    }

    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), String> {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        font::ensure_registered();
        root.fill(&WHITE).map_err(err)?;
        let x_max = self.points.iter().map(|p| p.hours).fold(0.0, f64::max);
        let y_max = self.points.iter().map(|p| p.devices).fold(0.0, f64::max);
        let xs = ValueTicks::new(x_max, Unit::Devices);
        let ys = ValueTicks::new(y_max, Unit::Devices);
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, font::bold(20.0).color(&palette::INK))
            .margin(24)
            .x_label_area_size(52)
            .y_label_area_size(90)
            .build_cartesian_2d(0f64..xs.max, 0f64..ys.max)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("hours until 95 % of the fleet is at its final version")
            .y_desc("blast radius (devices that tried a gated release)")
            .x_labels(xs.ticks.len())
            .x_label_formatter(&|x| xs.label(*x))
            .y_labels(ys.ticks.len())
            .y_label_formatter(&|y| ys.label(*y))
            .label_style(font::regular(13.0).color(&palette::MUTED_INK))
            .axis_desc_style(font::regular(14.0).color(&palette::INK))
            .light_line_style(TRANSPARENT)
            .bold_line_style(palette::GRID)
            .axis_style(palette::AXIS)
            .draw()
            .map_err(err)?;
        let front = frontier(&self.points);
        let others = palette::CATEGORICAL[0];
        let edge = palette::CATEGORICAL[1 % palette::CATEGORICAL.len()];
        chart
            .draw_series(
                self.points
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !front.contains(i))
                    .map(|(_, p)| Circle::new((p.hours, p.devices), 4, others.filled())),
            )
            .map_err(err)?
            .label("variant")
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, others.filled()));
        let path: Vec<(f64, f64)> = front
            .iter()
            .map(|&i| (self.points[i].hours, self.points[i].devices))
            .collect();
        chart
            .draw_series(LineSeries::new(path.clone(), edge.stroke_width(2)))
            .map_err(err)?
            .label("frontier: no other variant is faster and smaller")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], edge.stroke_width(2))
            });
        chart
            .draw_series(path.iter().map(|&p| Circle::new(p, 6, edge.filled())))
            .map_err(err)?;
        let label_style = font::regular(12.0).color(&palette::INK);
        chart
            .draw_series(front.iter().take(MAX_LABELS).map(|&i| {
                let p = &self.points[i];
                // Beside the dot, up and to the right, so a point at the origin keeps
                // its label clear of the axes.
                EmptyElement::at((p.hours, p.devices))
                    + Text::new(p.label.clone(), (9, -18), label_style.clone())
            }))
            .map_err(err)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font(font::regular(13.0).color(&palette::INK))
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

    fn p(hours: f64, devices: f64) -> ParetoPoint {
        ParetoPoint {
            label: format!("{hours}/{devices}"),
            hours,
            devices,
        }
    }

    #[test]
    fn frontier_keeps_the_undominated_points_by_hours() {
        let points = [
            p(10.0, 5.0),
            p(5.0, 10.0),
            p(10.0, 10.0),
            p(20.0, 1.0),
            p(5.0, 10.0),
        ];
        assert_eq!(frontier(&points), vec![1, 4, 0, 3]);
    }

    #[test]
    fn pareto_renders_as_svg_and_png_with_every_point() {
        let chart = Pareto {
            title: "Blast radius against time to 95 %: gate".into(),
            points: vec![p(10.0, 5.0), p(5.0, 10.0), p(10.0, 10.0), p(20.0, 1.0)],
        };
        let svg = chart.to_svg().unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        // One dot per point off the frontier, and per point on it, plus the legend's.
        assert_eq!(svg.matches("<circle").count(), 4 + 1);
        assert!(svg.contains("20/1") && svg.contains("frontier"));
        let png = chart.to_png().unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
}
