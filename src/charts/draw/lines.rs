//! Line charts (adoption, comparisons).

use super::*;

pub(super) fn lines<DB: DrawingBackend>(body: &Area<DB>, l: &Lines) -> Res {
    let n = l
        .lines
        .iter()
        .map(|s| s.values.len())
        .max()
        .unwrap_or(0)
        .max(l.axis.ticks);
    let buckets = buckets(n);
    let x = TimeScale::new(&l.axis);
    let xs: Vec<f64> = buckets
        .iter()
        .map(|&(i, _)| i as f64 * l.axis.tick_seconds as f64 / x.unit_seconds)
        .collect();
    let thinned: Vec<Vec<f64>> = l
        .lines
        .iter()
        .map(|s| {
            // A line stops where its data stops.
            let b: Vec<(usize, usize)> = buckets
                .iter()
                .copied()
                .filter(|&(i, _)| i < s.values.len())
                .collect();
            thin(&s.values, &b)
        })
        .collect();
    let y_max = thinned.iter().flatten().copied().fold(0.0, f64::max);
    let frame = Frame {
        x,
        y: ValueTicks::new(y_max, l.y_unit),
        y_desc: l.y_desc.clone(),
    };
    let labels: Vec<&str> = l.lines.iter().map(|s| s.label.as_str()).collect();
    let (w, _) = body.dim_in_pixel();
    let (plot, side) = body.split_horizontally(w as i32 - legend_width(body, &labels)?);
    let mut chart = time_chart(&plot, &frame)?;
    let mut entries = Vec::with_capacity(l.lines.len());
    for (i, (s, values)) in l.lines.iter().zip(&thinned).enumerate() {
        let color = match s.colour {
            Some(slot) => palette::CATEGORICAL[slot % palette::CATEGORICAL.len()],
            None => palette::rule_color(&s.label)
                .unwrap_or(palette::CATEGORICAL[i % palette::CATEGORICAL.len()]),
        };
        let points = xs.iter().copied().zip(values.iter().copied());
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(3)))
            .map_err(err)?;
        entries.push(Entry {
            label: s.label.clone(),
            color,
        });
    }
    legend(&side, &entries, Swatch::Line)
}
