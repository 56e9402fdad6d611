//! Drawing, generic over plotters' backends (bitmap for PNG, SVG): the page layout
//! (title, text fitting) here; legends, data reduction, the time axes and one file per
//! chart kind beside it.

mod axes;
mod heat;
mod legend;
mod lines;
mod reduce;
mod stacked;

use axes::*;
use heat::*;
use legend::*;
use lines::*;
use reduce::*;
use stacked::*;

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

pub(super) type Area<DB> = DrawingArea<DB, Shift>;
pub(super) type Res = Result<(), String>;

pub(super) fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

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
pub(super) fn header<DB: DrawingBackend>(root: &Area<DB>, title: &str) -> Result<Area<DB>, String> {
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
pub(super) fn text<DB: DrawingBackend>(
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

pub(super) fn text_width<DB: DrawingBackend>(
    area: &Area<DB>,
    s: &str,
    font: &FontDesc<'static>,
) -> Result<i32, String> {
    let style = TextStyle::from(font.clone());
    Ok(area.estimate_text_size(s, &style).map_err(err)?.0 as i32)
}

/// `s`, shortened with an ellipsis if needed so that it is at most `max_w` pixels wide.
pub(super) fn fit<DB: DrawingBackend>(
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
