//! The time charts' frame: a linear value axis with exactly the given ticks, the time
//! axis, mesh and axis descriptions.

use super::*;

/// A linear axis from zero with exactly the given ticks (plotters picks its own otherwise).
pub(crate) struct TickAxis {
    pub(super) max: f64,
    pub(super) ticks: Vec<f64>,
}

impl Ranged for TickAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let share = if self.max > 0.0 {
            value / self.max
        } else {
            0.0
        };
        limit.0 + (f64::from(limit.1 - limit.0) * share).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        // Only bold grid lines: light ones would add nothing but noise.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        0.0..self.max
    }
}

/// A time chart's frame: mesh, ticks and axis descriptions.
pub(super) struct Frame {
    pub(super) x: TimeScale,
    pub(super) y: ValueTicks,
    pub(super) y_desc: String,
}

pub(super) fn time_chart<'a, DB: DrawingBackend>(
    plot: &'a Area<DB>,
    frame: &Frame,
) -> Result<ChartContext<'a, DB, Cartesian2d<TickAxis, TickAxis>>, String> {
    let label_font = font::regular(15.0);
    let mut widest = 0;
    for &v in &frame.y.ticks {
        widest = widest.max(text_width(plot, &frame.y.label(v), &label_font)?);
    }
    let x_range = TickAxis {
        max: frame.x.max,
        ticks: frame.x.ticks.clone(),
    };
    let y_range = TickAxis {
        max: frame.y.max,
        ticks: frame.y.ticks.clone(),
    };
    let mut chart = ChartBuilder::on(plot)
        .margin_top(10)
        .margin_bottom(8)
        .margin_left(12)
        .margin_right(20)
        .x_label_area_size(58)
        .y_label_area_size(widest + 52)
        .build_cartesian_2d(x_range, y_range)
        .map_err(err)?;
    let x_desc = format!("Time since start ({})", frame.x.unit_name);
    chart
        .configure_mesh()
        .x_labels(frame.x.ticks.len() + 1)
        .y_labels(frame.y.ticks.len() + 1)
        .x_label_formatter(&|x| frame.x.label(*x))
        .y_label_formatter(&|y| frame.y.label(*y))
        .x_desc(x_desc)
        .y_desc(frame.y_desc.as_str())
        .label_style(label_font.color(&palette::MUTED_INK))
        .axis_desc_style(font::regular(16.0).color(&palette::INK))
        .bold_line_style(palette::GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(palette::AXIS)
        .x_label_offset(0)
        .draw()
        .map_err(err)?;
    Ok(chart)
}
