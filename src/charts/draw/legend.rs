//! Chart legends: an entry per line or layer, with its swatch.

use super::*;

/// One legend entry: a label and its colour.
pub(super) struct Entry {
    pub(super) label: String,
    pub(super) color: Rgb,
}

#[derive(Copy, Clone, PartialEq, Eq)]
pub(super) enum Swatch {
    Block,
    Line,
}

/// The legend, top-aligned in `area`.
pub(super) fn legend<DB: DrawingBackend>(
    area: &Area<DB>,
    entries: &[Entry],
    swatch: Swatch,
) -> Res {
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
pub(super) fn legend_width<DB: DrawingBackend>(
    area: &Area<DB>,
    labels: &[&str],
) -> Result<i32, String> {
    let f = font::regular(15.0);
    let mut widest = 0;
    for l in labels {
        widest = widest.max(text_width(area, l, &f)?);
    }
    Ok((widest + 56).clamp(140, 300))
}
