//! A bitmap backend with better text and lines than plotters' own.
//!
//! plotters 0.3.7 rasterises text glyph by glyph at whole-pixel offsets (uneven letter
//! spacing) with a baseline that sits too high, and draws wide lines as unsmoothed polygons
//! (ragged curves). [`Crisp`] wraps the bitmap backend and replaces those two operations:
//! text is laid out with sub-pixel advances and kerning from the bundled font and anchored
//! like the SVG backend anchors it; paths are drawn with anti-aliased edges. Everything else
//! goes to the wrapped backend unchanged.

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
use plotters::backend::{BitMapBackend, DrawingBackend};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontStyle,
};

use super::font;

/// A drawing of `size` pixels as SVG text: `draw` fills the whole area; its error
/// becomes a [`super::ChartError::Draw`] naming `title`.
pub(crate) fn svg_of(
    title: &str,
    size: (u32, u32),
    draw: impl for<'a> FnOnce(
        plotters::drawing::DrawingArea<plotters::backend::SVGBackend<'a>, plotters::coord::Shift>,
    ) -> Result<(), String>,
) -> Result<String, super::ChartError> {
    let mut out = String::new();
    {
        let backend = plotters::backend::SVGBackend::with_string(&mut out, size);
        draw(plotters::drawing::IntoDrawingArea::into_drawing_area(
            backend,
        ))
        .map_err(|message| super::ChartError::Draw {
            title: title.to_owned(),
            message,
        })?;
    }
    Ok(out)
}

/// The same drawing as PNG file bytes, drawn by [`Crisp`].
pub(crate) fn png_of(
    title: &str,
    size: (u32, u32),
    draw: impl for<'a> FnOnce(
        plotters::drawing::DrawingArea<Crisp<'a>, plotters::coord::Shift>,
    ) -> Result<(), String>,
) -> Result<Vec<u8>, super::ChartError> {
    let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let backend = Crisp::with_buffer(&mut rgb, size);
        draw(plotters::drawing::IntoDrawingArea::into_drawing_area(
            backend,
        ))
        .map_err(|message| super::ChartError::Draw {
            title: title.to_owned(),
            message,
        })?;
    }
    Ok(encode_png(&rgb, size)?)
}

/// PNG file bytes of an 8-bit RGB image of `size` pixels.
pub(crate) fn encode_png(rgb: &[u8], size: (u32, u32)) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, size.0, size.1);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(rgb)?;
        writer.finish()?;
    }
    Ok(out)
}

/// The bitmap backend with anti-aliased paths and properly spaced text.
pub(crate) struct Crisp<'a> {
    inner: BitMapBackend<'a>,
}

impl<'a> Crisp<'a> {
    /// Draws into `rgb` (8-bit RGB, row-major) of `size` pixels.
    pub fn with_buffer(rgb: &'a mut [u8], size: (u32, u32)) -> Crisp<'a> {
        Crisp {
            inner: BitMapBackend::with_buffer(rgb, size),
        }
    }
}

type Error<'a> = DrawingErrorKind<<BitMapBackend<'a> as DrawingBackend>::ErrorType>;

impl<'a> DrawingBackend for Crisp<'a> {
    type ErrorType = <BitMapBackend<'a> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), Error<'a>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), Error<'a>> {
        self.inner.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), Error<'a>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), Error<'a>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), Error<'a>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), Error<'a>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), Error<'a>> {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), Error<'a>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    /// A polyline `stroke_width` wide, each pixel covered by the share of it within half the
    /// width of the nearest segment (so joints are round and nothing is blended twice).
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), Error<'a>> {
        let color = style.color();
        let points: Vec<BackendCoord> = path.into_iter().collect();
        if color.alpha == 0.0 || points.len() < 2 {
            return Ok(());
        }
        let half = f64::from(style.stroke_width().max(1)) / 2.0;
        let reach = half.ceil() as i32 + 1;
        let (w, h) = self.get_size();
        let (w, h) = (w as i32, h as i32);
        let clamp_x = |x: i32| x.clamp(0, w - 1);
        let clamp_y = |y: i32| y.clamp(0, h - 1);
        let x0 = clamp_x(points.iter().map(|p| p.0).min().unwrap_or(0) - reach);
        let x1 = clamp_x(points.iter().map(|p| p.0).max().unwrap_or(0) + reach);
        let y0 = clamp_y(points.iter().map(|p| p.1).min().unwrap_or(0) - reach);
        let y1 = clamp_y(points.iter().map(|p| p.1).max().unwrap_or(0) + reach);
        let bw = (x1 - x0 + 1) as usize;
        let mut coverage = vec![0f32; bw * (y1 - y0 + 1) as usize];
        for seg in points.windows(2) {
            let (a, b) = (seg[0], seg[1]);
            let (ax, ay, bx, by) = (
                f64::from(a.0),
                f64::from(a.1),
                f64::from(b.0),
                f64::from(b.1),
            );
            let (dx, dy) = (bx - ax, by - ay);
            let len2 = dx * dx + dy * dy;
            for y in clamp_y(a.1.min(b.1) - reach)..=clamp_y(a.1.max(b.1) + reach) {
                for x in clamp_x(a.0.min(b.0) - reach)..=clamp_x(a.0.max(b.0) + reach) {
                    let (px, py) = (f64::from(x), f64::from(y));
                    let t = if len2 > 0.0 {
                        (((px - ax) * dx + (py - ay) * dy) / len2).clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    let (qx, qy) = (ax + t * dx - px, ay + t * dy - py);
                    let c = (half + 0.5 - (qx * qx + qy * qy).sqrt()).clamp(0.0, 1.0) as f32;
                    let cell = &mut coverage[(y - y0) as usize * bw + (x - x0) as usize];
                    *cell = cell.max(c);
                }
            }
        }
        for (i, &c) in coverage.iter().enumerate() {
            if c > 0.0 {
                let (x, y) = (x0 + (i % bw) as i32, y0 + (i / bw) as i32);
                let alpha = color.alpha * f64::from(c);
                self.inner.draw_pixel(
                    (x, y),
                    BackendColor {
                        alpha,
                        rgb: color.rgb,
                    },
                )?;
            }
        }
        Ok(())
    }

    /// Text in the bundled font at the same em size as the SVG backend writes
    /// (`size / 1.24`), anchored as the SVG backend anchors it.
    fn draw_text<T: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &T,
        pos: BackendCoord,
    ) -> Result<(), Error<'a>> {
        let color = style.color();
        if color.alpha == 0.0 || text.is_empty() {
            return Ok(());
        }
        let face = font::face(matches!(style.style(), FontStyle::Bold));
        let em = (style.size() / 1.24) as f32; // see font::PLOTTERS_SIZE_PER_EM
        let scale =
            PxScale::from(em * face.height_unscaled() / face.units_per_em().unwrap_or(2048.0));
        let scaled = face.as_scaled(scale);
        let width = advance(&scaled, text);
        let left = match style.anchor().h_pos {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        // Baseline below the anchor: cap tops at the anchor (top), caps centred on it
        // (centre), descenders resting on it (bottom).
        let baseline = match style.anchor().v_pos {
            VPos::Top => 0.76 * em,
            VPos::Center => 0.36 * em,
            VPos::Bottom => -0.24 * em,
        };
        let transform = style.transform();
        let mut x = left;
        let mut prev = None;
        for ch in text.chars() {
            let id = scaled.glyph_id(ch);
            if let Some(p) = prev {
                x += scaled.kern(p, id);
            }
            prev = Some(id);
            let glyph = id.with_scale_and_position(scale, point(x, baseline));
            x += scaled.h_advance(id);
            let Some(outline) = face.outline_glyph(glyph) else {
                continue;
            };
            let bounds = outline.px_bounds();
            let (bx, by) = (bounds.min.x as i32, bounds.min.y as i32);
            let mut pixels = Vec::new();
            outline.draw(|gx, gy, c| {
                if c > 0.0 {
                    pixels.push((bx + gx as i32, by + gy as i32, c));
                }
            });
            for (gx, gy, c) in pixels {
                let (tx, ty) = transform.transform(gx, gy);
                let alpha = color.alpha * f64::from(c.min(1.0));
                self.inner.draw_pixel(
                    (pos.0 + tx, pos.1 + ty),
                    BackendColor {
                        alpha,
                        rgb: color.rgb,
                    },
                )?;
            }
        }
        Ok(())
    }
}

/// The width of `text` laid out with kerning.
fn advance(scaled: &ab_glyph::PxScaleFont<&FontRef<'static>>, text: &str) -> f32 {
    let mut width = 0.0;
    let mut prev = None;
    for ch in text.chars() {
        let id = scaled.glyph_id(ch);
        if let Some(p) = prev {
            width += scaled.kern(p, id);
        }
        width += scaled.h_advance(id);
        prev = Some(id);
    }
    width
}
