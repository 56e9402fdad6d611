//! Version-matrix heat maps and their colour key.

use super::*;

/// A version matrix: rows = current version, columns = next version, one coloured cell per
/// (row, column) with its device count and rule.
pub(super) fn heat<DB: DrawingBackend>(body: &Area<DB>, m: &MatrixHeat) -> Res {
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
pub(super) fn heat_key<DB: DrawingBackend>(
    side: &Area<DB>,
    m: &MatrixHeat,
    max: u64,
    height: i32,
) -> Res {
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
