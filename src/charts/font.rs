//! The bundled font. PNG text is rasterised by plotters' `ab_glyph` backend from these
//! bytes, so charts render the same on a machine with no system fonts (no fontconfig, no
//! freetype). SVG text names the same family first and falls back to the viewer's sans-serif.
//!
//! DejaVu Sans 2.37, unmodified, from Debian's `fonts-dejavu-core`; licence (Bitstream Vera
//! licence, DejaVu changes public domain) in `assets/fonts/LICENSE-DejaVu.txt`.

use std::sync::{Once, OnceLock};

use ab_glyph::FontRef;
use plotters::style::{register_font, FontDesc, FontFamily, FontStyle};

/// The family name charts use. It is written verbatim into SVG `font-family` attributes, so
/// it doubles as a CSS font list.
pub(crate) const FAMILY: &str = "DejaVu Sans, Verdana, sans-serif";

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Registers the bundled faces with plotters (once per process).
pub(crate) fn ensure_registered() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Both files are checked in and parsed by the tests: failing here is a build defect.
        // "sans-serif" too: plotters falls back to it for any style this module leaves unset.
        for family in [FAMILY, "sans-serif"] {
            register_font(family, FontStyle::Normal, REGULAR)
                .unwrap_or_else(|_| panic!("bundled DejaVuSans.ttf does not parse"));
            register_font(family, FontStyle::Bold, BOLD)
                .unwrap_or_else(|_| panic!("bundled DejaVuSans-Bold.ttf does not parse"));
        }
    });
}

/// The bundled face itself, for the bitmap backend's own text layout.
pub(crate) fn face(bold: bool) -> &'static FontRef<'static> {
    static FACES: OnceLock<[FontRef<'static>; 2]> = OnceLock::new();
    let faces = FACES.get_or_init(|| {
        let parse = |bytes, name| {
            FontRef::try_from_slice(bytes)
                .unwrap_or_else(|_| panic!("bundled {name} does not parse"))
        };
        [
            parse(REGULAR, "DejaVuSans.ttf"),
            parse(BOLD, "DejaVuSans-Bold.ttf"),
        ]
    });
    &faces[usize::from(bold)]
}

/// plotters' font size per pixel of em: its SVG backend writes `font-size` as size / 1.24.
const PLOTTERS_SIZE_PER_EM: f64 = 1.24;

/// The regular face, `px` pixels to the em (as CSS `font-size`).
pub(crate) fn regular(px: f64) -> FontDesc<'static> {
    FontDesc::new(
        FontFamily::Name(FAMILY),
        px * PLOTTERS_SIZE_PER_EM,
        FontStyle::Normal,
    )
}

/// The bold face, `px` pixels to the em.
pub(crate) fn bold(px: f64) -> FontDesc<'static> {
    FontDesc::new(
        FontFamily::Name(FAMILY),
        px * PLOTTERS_SIZE_PER_EM,
        FontStyle::Bold,
    )
}
