//! Drawing, generic over plotters' backends (bitmap for PNG, SVG).

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontDesc;

use plotters::style::RGBColor as Rgb;

use super::palette;
use super::scale::{compact_count, group_thousands, TimeScale, ValueTicks};
use super::{font, Chart, Line, Lines, MatrixHeat, StackedSeries};

type Area<DB> = DrawingArea<DB, Shift>;
type Res = Result<(), String>;

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// At most this many points per series: more than the pixels across a plot, so nothing
/// visible is lost, and SVGs of long runs stay small.
const MAX_POINTS: usize = 1500;

/// Layers beyond this are folded into "other".
const MAX_LAYERS: usize = palette::CATEGORICAL.len() + 1;

pub(crate) fn chart<DB: DrawingBackend>(backend: DB, chart: &Chart) -> Res {
    font::ensure_registered();
    let root = backend.into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let body = header(&root, chart.title())?;
    match chart {
        Chart::Stacked(s) => stacked(&body, s)?,
        Chart::Lines(l) => lines(&body, l)?,
        Chart::Heat(m) => heat(&body, m)?,
    }
    root.present().map_err(err)
}

/// Draws the title and returns the area below it.
fn header<DB: DrawingBackend>(root: &Area<DB>, title: &str) -> Result<Area<DB>, String> {
    let (w, _) = root.dim_in_pixel();
    let (top, body) = root.split_vertically(60);
    let title = fit(&top, title, &font::bold(24.0), w as i32 - 56)?;
    text(
        &top,
        &title,
        (28, 32),
        font::bold(24.0),
        palette::INK,
        Pos::new(HPos::Left, VPos::Center),
    )?;
    Ok(body)
}

/// Draws `s` at `pos`; `pos` anchors the text as `anchor` says.
fn text<DB: DrawingBackend>(
    area: &Area<DB>,
    s: &str,
    pos: (i32, i32),
    font: FontDesc<'static>,
    color: Rgb,
    anchor: Pos,
) -> Res {
    let style = font.color(&color).pos(anchor);
    area.draw(&Text::new(s.to_owned(), pos, style)).map_err(err)
}

fn text_width<DB: DrawingBackend>(
    area: &Area<DB>,
    s: &str,
    font: &FontDesc<'static>,
) -> Result<i32, String> {
    let style = TextStyle::from(font.clone());
    Ok(area.estimate_text_size(s, &style).map_err(err)?.0 as i32)
}

/// `s`, shortened with an ellipsis if needed so that it is at most `max_w` pixels wide.
fn fit<DB: DrawingBackend>(
    area: &Area<DB>,
    s: &str,
    font: &FontDesc<'static>,
    max_w: i32,
) -> Result<String, String> {
    if text_width(area, s, font)? <= max_w {
        return Ok(s.to_owned());
    }
    let chars: Vec<char> = s.chars().collect();
    for keep in (0..chars.len()).rev() {
        let short: String = chars[..keep].iter().collect::<String>() + "…";
        if text_width(area, &short, font)? <= max_w {
            return Ok(short);
        }
    }
    Ok(String::new())
}

/// One legend entry: a label and its colour.
struct Entry {
    label: String,
    color: Rgb,
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum Swatch {
    Block,
    Line,
}

/// The legend, top-aligned in `area`.
fn legend<DB: DrawingBackend>(area: &Area<DB>, entries: &[Entry], swatch: Swatch) -> Res {
    let (w, h) = area.dim_in_pixel();
    let f = font::regular(15.0);
    let row = 28;
    let fits = ((h as i32 - 40) / row).max(1) as usize;
    let shown = if entries.len() > fits {
        fits - 1
    } else {
        entries.len()
    };
    for (i, e) in entries.iter().take(shown).enumerate() {
        let y = 28 + i as i32 * row;
        match swatch {
            Swatch::Block => area
                .draw(&Rectangle::new([(4, y - 8), (22, y + 8)], e.color.filled()))
                .map_err(err)?,
            Swatch::Line => area
                .draw(&PathElement::new(
                    vec![(0, y), (24, y)],
                    e.color.stroke_width(4),
                ))
                .map_err(err)?,
        }
        let label = fit(area, &e.label, &f, w as i32 - 44)?;
        text(
            area,
            &label,
            (32, y),
            f.clone(),
            palette::INK,
            Pos::new(HPos::Left, VPos::Center),
        )?;
    }
    if shown < entries.len() {
        let y = 28 + shown as i32 * row;
        let more = format!("+{} more", entries.len() - shown);
        text(
            area,
            &more,
            (32, y),
            font::regular(14.0),
            palette::MUTED_INK,
            Pos::new(HPos::Left, VPos::Center),
        )?;
    }
    Ok(())
}

/// Width of the legend panel: the widest label plus the swatch, within bounds.
fn legend_width<DB: DrawingBackend>(area: &Area<DB>, labels: &[&str]) -> Result<i32, String> {
    let f = font::regular(15.0);
    let mut widest = 0;
    for l in labels {
        widest = widest.max(text_width(area, l, &f)?);
    }
    Ok((widest + 56).clamp(140, 300))
}

/// Evenly sized buckets of at most [`MAX_POINTS`]: `(first index, length)`.
fn buckets(n: usize) -> Vec<(usize, usize)> {
    let size = n.div_ceil(MAX_POINTS).max(1);
    (0..n).step_by(size).map(|i| (i, size.min(n - i))).collect()
}

/// The mean of each bucket, so that stacked areas keep their totals when thinned.
fn thin(values: &[f64], buckets: &[(usize, usize)]) -> Vec<f64> {
    buckets
        .iter()
        .map(|&(i, len)| {
            let slice = values.get(i..(i + len).min(values.len())).unwrap_or(&[]);
            slice.iter().sum::<f64>() / len as f64
        })
        .collect()
}

/// Layers to draw: at most [`MAX_LAYERS`], the smallest (by peak) folded into "other".
fn fold_layers(layers: &[Line]) -> Vec<(String, Vec<f64>, Rgb)> {
    let peak = |s: &Line| s.values.iter().copied().fold(0.0, f64::max);
    let keep: Vec<bool> = if layers.len() <= MAX_LAYERS {
        vec![true; layers.len()]
    } else {
        let mut by_peak: Vec<usize> = (0..layers.len()).collect();
        by_peak.sort_by(|&a, &b| peak(&layers[b]).total_cmp(&peak(&layers[a])));
        let mut keep = vec![false; layers.len()];
        for &i in &by_peak[..MAX_LAYERS - 1] {
            keep[i] = true;
        }
        keep
    };
    let mut out = Vec::new();
    let mut other: Option<(usize, Vec<f64>)> = None;
    let mut next_color = 0;
    for (layer, kept) in layers.iter().zip(keep) {
        if kept {
            let color = match layer.colour {
                Some(slot) => palette::CATEGORICAL[slot % palette::CATEGORICAL.len()],
                None => palette::rule_color(&layer.label).unwrap_or_else(|| {
                    let c = palette::CATEGORICAL[next_color % palette::CATEGORICAL.len()];
                    next_color += 1;
                    c
                }),
            };
            out.push((layer.label.clone(), layer.values.clone(), color));
        } else {
            let (n, sum) = other.get_or_insert_with(|| (0, Vec::new()));
            *n += 1;
            if sum.len() < layer.values.len() {
                sum.resize(layer.values.len(), 0.0);
            }
            for (s, v) in sum.iter_mut().zip(&layer.values) {
                *s += v;
            }
        }
    }
    if let Some((n, sum)) = other {
        out.push((format!("other ({n})"), sum, palette::OTHER));
    }
    out
}

/// A linear axis from zero with exactly the given ticks (plotters picks its own otherwise).
pub(crate) struct TickAxis {
    max: f64,
    ticks: Vec<f64>,
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
struct Frame {
    x: TimeScale,
    y: ValueTicks,
    y_desc: String,
}

fn time_chart<'a, DB: DrawingBackend>(
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

fn stacked<DB: DrawingBackend>(body: &Area<DB>, s: &StackedSeries) -> Res {
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

fn lines<DB: DrawingBackend>(body: &Area<DB>, l: &Lines) -> Res {
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

/// A version matrix: rows = current version, columns = next version, one coloured cell per
/// (row, column) with its device count and rule.
fn heat<DB: DrawingBackend>(body: &Area<DB>, m: &MatrixHeat) -> Res {
    let (w, h) = body.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let centre = Pos::new(HPos::Center, VPos::Center);
    if m.rows.is_empty() || m.cols.is_empty() {
        return text(
            body,
            "No devices",
            (w / 2, h / 2),
            font::regular(20.0),
            palette::MUTED_INK,
            centre,
        );
    }
    let max = m.cells.iter().flatten().copied().max().unwrap_or(0);
    let label_font = font::regular(15.0);

    // Geometry: [axis name][row labels][grid][row totals] | [scale and rules].
    let side_w = 230;
    let mut row_label_w = 0;
    for r in &m.rows {
        row_label_w = row_label_w.max(text_width(body, r, &label_font)?);
    }
    let row_label_w = row_label_w.min(220);
    let left = 40 + row_label_w + 14;
    let totals_w = 96;
    let grid_w = (w - side_w - left - totals_w).max(40);
    let (n_rows, n_cols) = (m.rows.len() as i32, m.cols.len() as i32);
    let cell_w = (grid_w / n_cols).clamp(8, 170);

    // Column labels run across when they fit their column, else upwards (whole).
    let mut widest_col = 0;
    for c in &m.cols {
        widest_col = widest_col.max(text_width(body, c, &label_font)?);
    }
    let upright = widest_col <= cell_w - 8;
    let col_label_h = if upright {
        30
    } else {
        widest_col.min(220) + 18
    };
    let top = 48 + col_label_h;
    let grid_h = (h - top - 24).max(20);
    let cell_h = (grid_h / n_rows).clamp(8, 72);
    let (grid_w, grid_h) = (cell_w * n_cols, cell_h * n_rows);

    // Axis names.
    text(
        body,
        "Next version (the resolver's answer)",
        (left + grid_w / 2, 14),
        font::bold(16.0),
        palette::INK,
        centre,
    )?;
    let rotated = font::bold(16.0).transform(FontTransform::Rotate270);
    text(
        body,
        "Current version",
        (14, top + grid_h / 2),
        rotated,
        palette::INK,
        centre,
    )?;

    for (j, c) in m.cols.iter().enumerate() {
        let x = left + j as i32 * cell_w + cell_w / 2;
        if upright {
            text(
                body,
                c,
                (x, top - 16),
                label_font.clone(),
                palette::INK,
                centre,
            )?;
        } else {
            let label = fit(body, c, &label_font, col_label_h - 18)?;
            let up = label_font.clone().transform(FontTransform::Rotate270);
            let anchor = Pos::new(HPos::Left, VPos::Center);
            text(body, &label, (x, top - 8), up, palette::INK, anchor)?;
        }
    }
    text(
        body,
        "Total",
        (left + grid_w + 14, top - 16),
        font::bold(15.0),
        palette::MUTED_INK,
        Pos::new(HPos::Left, VPos::Center),
    )?;

    let count_size = (f64::from(cell_h) * 0.3).clamp(11.0, 17.0);
    let rule_size = (count_size * 0.8).max(10.0);
    let two_lines = f64::from(cell_h) >= count_size + rule_size + 14.0;
    for (i, row) in m.rows.iter().enumerate() {
        let y0 = top + i as i32 * cell_h;
        let cy = y0 + cell_h / 2;
        let label = fit(body, row, &label_font, row_label_w)?;
        text(
            body,
            &label,
            (left - 12, cy),
            label_font.clone(),
            palette::INK,
            Pos::new(HPos::Right, VPos::Center),
        )?;
        for j in 0..m.cols.len() {
            let x0 = left + j as i32 * cell_w;
            let count = m.cells[i][j];
            let bg = if count == 0 {
                palette::EMPTY_CELL
            } else {
                palette::heat_color(palette::log_position(count, max))
            };
            body.draw(&Rectangle::new(
                [(x0 + 1, y0 + 1), (x0 + cell_w - 1, y0 + cell_h - 1)],
                bg.filled(),
            ))
            .map_err(err)?;
            if count == 0 {
                continue;
            }
            let rule = m.cell_rules[i][j].as_deref();
            if let Some(c) = rule.and_then(palette::rule_color) {
                // The rule's colour as a bar on the cell's left edge.
                let bar = (cell_w / 14).clamp(3, 6);
                body.draw(&Rectangle::new(
                    [(x0 + 1, y0 + 1), (x0 + 1 + bar, y0 + cell_h - 1)],
                    c.filled(),
                ))
                .map_err(err)?;
            }
            let fg = palette::text_on(bg);
            let cx = x0 + cell_w / 2 + 2;
            let count_font = font::bold(count_size);
            let mut label = group_thousands(count);
            if text_width(body, &label, &count_font)? > cell_w - 14 {
                label = compact_count(count);
            }
            if text_width(body, &label, &count_font)? > cell_w - 10 {
                continue;
            }
            match rule.filter(|_| two_lines) {
                Some(rule) => {
                    let gap = (rule_size * 0.65) as i32;
                    text(body, &label, (cx, cy - gap), count_font, fg, centre)?;
                    let marker = fit(
                        body,
                        &palette::rule_marker(rule),
                        &font::regular(rule_size),
                        cell_w - 12,
                    )?;
                    text(
                        body,
                        &marker,
                        (cx, cy + (count_size * 0.6) as i32),
                        font::regular(rule_size),
                        fg,
                        centre,
                    )?;
                }
                None => text(body, &label, (cx, cy), count_font, fg, centre)?,
            }
        }
        let total: u64 = m.cells[i].iter().sum();
        text(
            body,
            &group_thousands(total),
            (left + grid_w + 14, cy),
            font::regular(15.0),
            palette::MUTED_INK,
            Pos::new(HPos::Left, VPos::Center),
        )?;
    }

    let (_, side) = body.split_horizontally(w - side_w);
    heat_key(&side, m, max, grid_h.max(200))
}

/// The colour scale (logarithmic, 1 to `max`) and the rule markers present in `m`.
fn heat_key<DB: DrawingBackend>(side: &Area<DB>, m: &MatrixHeat, max: u64, height: i32) -> Res {
    let left_pos = Pos::new(HPos::Left, VPos::Center);
    text(
        side,
        "Devices per cell",
        (0, 14),
        font::bold(15.0),
        palette::INK,
        left_pos,
    )?;
    let (bar_top, bar_h) = (40, (height / 2).clamp(100, 220));
    let bar_x = 4;
    for k in 0..bar_h {
        let t = 1.0 - f64::from(k) / f64::from(bar_h - 1);
        let c = palette::heat_color(t);
        // Two pixels tall, overlapping: no hairline seams where a viewer anti-aliases.
        side.draw(&Rectangle::new(
            [
                (bar_x, bar_top + k),
                (bar_x + 18, (bar_top + k + 2).min(bar_top + bar_h)),
            ],
            c.filled(),
        ))
        .map_err(err)?;
    }
    // Labels at 1, 10, 100, … and the maximum, skipping any that would collide.
    let y_of = |count: u64| {
        bar_top + ((1.0 - palette::log_position(count, max)) * f64::from(bar_h - 1)).round() as i32
    };
    let mut marks: Vec<u64> = std::iter::successors(Some(1u64), |p| p.checked_mul(10))
        .take_while(|&p| p < max)
        .collect();
    marks.push(max.max(1));
    let mut last_y = i32::MIN;
    for (idx, &mark) in marks.iter().enumerate().rev() {
        let y = y_of(mark);
        let is_max = idx == marks.len() - 1;
        if !is_max && (y - last_y).abs() < 18 {
            continue;
        }
        last_y = y;
        side.draw(&PathElement::new(
            vec![(bar_x + 18, y), (bar_x + 24, y)],
            palette::AXIS.stroke_width(1),
        ))
        .map_err(err)?;
        text(
            side,
            &group_thousands(mark),
            (bar_x + 30, y),
            font::regular(14.0),
            palette::MUTED_INK,
            left_pos,
        )?;
    }
    text(
        side,
        "log scale",
        (bar_x, bar_top + bar_h + 16),
        font::regular(13.0),
        palette::MUTED_INK,
        left_pos,
    )?;

    let mut rules: Vec<&str> = m
        .cell_rules
        .iter()
        .flatten()
        .flatten()
        .filter_map(|r| palette::canonical_rule(r))
        .collect();
    const ORDER: [&str; 5] = ["override", "delta", "must_pass_through", "full", "none"];
    rules.sort_by_key(|r| ORDER.iter().position(|o| o == r));
    rules.dedup();
    if rules.is_empty() {
        return Ok(());
    }
    let mut y = bar_top + bar_h + 52;
    text(
        side,
        "Rule (cell's left bar)",
        (0, y),
        font::bold(15.0),
        palette::INK,
        left_pos,
    )?;
    for r in rules {
        y += 26;
        let c = palette::rule_color(r).unwrap_or(palette::OTHER);
        side.draw(&Rectangle::new(
            [(bar_x, y - 9), (bar_x + 6, y + 9)],
            c.filled(),
        ))
        .map_err(err)?;
        let name = match r {
            "must_pass_through" => "MPT: must pass through",
            "none" => "none: no update",
            other => other,
        };
        text(
            side,
            name,
            (bar_x + 16, y),
            font::regular(14.0),
            palette::INK,
            left_pos,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_means() {
        let b = buckets(3000);
        assert_eq!(b.len(), 1500);
        assert_eq!(b[1], (2, 2));
        let v: Vec<f64> = (0..3000).map(|i| i as f64).collect();
        assert_eq!(thin(&v, &b)[0], 0.5);
        assert_eq!(buckets(10).len(), 10);
    }

    #[test]
    fn many_layers_fold_into_other() {
        let layers: Vec<Line> = (0..12)
            .map(|i| Line {
                label: format!("v{i}"),
                values: vec![i as f64; 3],
                colour: None,
            })
            .collect();
        let folded = fold_layers(&layers);
        assert_eq!(folded.len(), MAX_LAYERS);
        assert_eq!(folded.last().map(|l| l.0.as_str()), Some("other (5)"));
        // Smallest peaks fold: v0..v4 sum to 10.
        assert_eq!(folded.last().map(|l| l.1[0]), Some(10.0));
        assert_eq!(folded[0].0, "v5");
    }
}
