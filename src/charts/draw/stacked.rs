//! Stacked area charts (versions, egress).

use super::*;

pub(super) fn stacked<DB: DrawingBackend>(body: &Area<DB>, s: &StackedSeries) -> Res {
    let layers = fold_layers(&s.layers);
    let n = layers
        .iter()
        .map(|l| l.1.len())
        .max()
        .unwrap_or(0)
        .max(s.axis.ticks);
    let buckets = buckets(n);
    let x = TimeScale::new(&s.axis);
    let xs: Vec<f64> = buckets
        .iter()
        .map(|&(i, _)| i as f64 * s.axis.tick_seconds as f64 / x.unit_seconds)
        .collect();
    // tops[k][j]: the top of layer k at point j.
    let mut tops: Vec<Vec<f64>> = Vec::with_capacity(layers.len());
    for (_, values, _) in &layers {
        let thinned = thin(values, &buckets);
        let below = tops
            .last()
            .cloned()
            .unwrap_or_else(|| vec![0.0; buckets.len()]);
        tops.push(below.iter().zip(&thinned).map(|(b, v)| b + v).collect());
    }
    let y_max = tops
        .last()
        .map(|t| t.iter().copied().fold(0.0, f64::max))
        .unwrap_or(0.0);
    let frame = Frame {
        x,
        y: ValueTicks::new(y_max, s.y_unit),
        y_desc: s.y_desc.clone(),
    };

    let labels: Vec<&str> = layers.iter().map(|l| l.0.as_str()).collect();
    let (w, _) = body.dim_in_pixel();
    let (plot, side) = body.split_horizontally(w as i32 - legend_width(body, &labels)?);
    let mut chart = time_chart(&plot, &frame)?;
    for (k, (_, _, color)) in layers.iter().enumerate() {
        let zero = vec![0.0; xs.len()];
        let below = if k == 0 { &zero } else { &tops[k - 1] };
        let mut outline: Vec<(f64, f64)> =
            xs.iter().copied().zip(tops[k].iter().copied()).collect();
        outline.extend(xs.iter().copied().zip(below.iter().copied()).rev());
        chart
            .draw_series(std::iter::once(Polygon::new(outline, color.filled())))
            .map_err(err)?;
    }
    // A thin white edge on each layer's top keeps neighbouring layers apart.
    for top in tops.iter().take(tops.len().saturating_sub(1)) {
        let edge = xs.iter().copied().zip(top.iter().copied());
        chart
            .draw_series(LineSeries::new(edge, WHITE.mix(0.7).stroke_width(1)))
            .map_err(err)?;
    }
    // The legend lists layers top first, as they appear in the stack.
    let entries: Vec<Entry> = layers
        .iter()
        .rev()
        .map(|(label, _, color)| Entry {
            label: label.clone(),
            color: *color,
        })
        .collect();
    legend(&side, &entries, Swatch::Block)
}
