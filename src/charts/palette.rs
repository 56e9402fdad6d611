//! Colour-blind-safe colours: Okabe–Ito for categories, a single-hue ramp for counts.

use plotters::style::RGBColor;

/// Okabe & Ito (2008), without black, ordered so that neighbours in a stack contrast.
pub(crate) const CATEGORICAL: [RGBColor; 7] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0xF0, 0xE4, 0x42), // yellow
];

/// The colour of the layer that folds the smallest categories together.
pub(crate) const OTHER: RGBColor = RGBColor(0xBB, 0xBB, 0xBB);

/// Text, axes and grid.
pub(crate) const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
pub(crate) const MUTED_INK: RGBColor = RGBColor(0x55, 0x55, 0x55);
pub(crate) const AXIS: RGBColor = RGBColor(0x88, 0x88, 0x88);
pub(crate) const GRID: RGBColor = RGBColor(0xE4, 0xE4, 0xE4);
pub(crate) const EMPTY_CELL: RGBColor = RGBColor(0xF6, 0xF6, 0xF6);

/// The colour of a resolver rule (`none, override, delta, must_pass_through, full`), the
/// same in every chart and in the report; `None` for a label that names no rule.
pub(crate) fn rule_color(label: &str) -> Option<RGBColor> {
    Some(match canonical_rule(label)? {
        "delta" => RGBColor(0x00, 0x9E, 0x73), // bluish green
        "full" => RGBColor(0x00, 0x72, 0xB2),  // blue
        "must_pass_through" => RGBColor(0xE6, 0x9F, 0x00), // orange
        "override" => RGBColor(0xD5, 0x5E, 0x00), // vermillion
        _ => RGBColor(0x99, 0x99, 0x99),       // none: grey
    })
}

/// The rule name `label` stands for, accepting the display spellings too.
pub(crate) fn canonical_rule(label: &str) -> Option<&'static str> {
    let l = label.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    Some(match l.as_str() {
        "none" | "no_update" => "none",
        "override" => "override",
        "delta" => "delta",
        "must_pass_through" | "mpt" => "must_pass_through",
        "full" => "full",
        _ => return None,
    })
}

/// The short marker a heat-map cell shows for a rule.
pub(crate) fn rule_marker(label: &str) -> String {
    match canonical_rule(label) {
        Some("must_pass_through") => "MPT".to_owned(),
        Some(r) => r.to_owned(),
        None => label.to_owned(),
    }
}

/// A single-hue slate ramp, light to dark. One hue keeps the order of counts readable for
/// every kind of colour vision (only lightness changes), and stays clear of the saturated
/// rule colours that mark cells.
const SLATE: [RGBColor; 8] = [
    RGBColor(0xE3, 0xEA, 0xF2),
    RGBColor(0xC9, 0xD5, 0xE3),
    RGBColor(0xAB, 0xBD, 0xD1),
    RGBColor(0x8D, 0xA2, 0xBC),
    RGBColor(0x6F, 0x86, 0xA4),
    RGBColor(0x55, 0x6B, 0x89),
    RGBColor(0x3D, 0x50, 0x6B),
    RGBColor(0x27, 0x36, 0x4C),
];

/// Where `count` falls on a logarithmic scale from 1 to `max` (0.0 ..= 1.0). Counts span
/// orders of magnitude (a stuck handful next to the bulk of the fleet), which a linear
/// scale would hide.
pub(crate) fn log_position(count: u64, max: u64) -> f64 {
    if count == 0 || max <= 1 {
        return if count == 0 { 0.0 } else { 1.0 };
    }
    ((count as f64).ln() / (max as f64).ln()).clamp(0.0, 1.0)
}

/// The heat colour at position `t` (0.0 ..= 1.0); its lightest is still clearly darker
/// than an empty cell.
pub(crate) fn heat_color(t: f64) -> RGBColor {
    let x = t.clamp(0.0, 1.0) * (SLATE.len() - 1) as f64;
    let i = (x.floor() as usize).min(SLATE.len() - 2);
    let f = x - i as f64;
    let (a, b) = (SLATE[i], SLATE[i + 1]);
    let mix = |p: u8, q: u8| (f64::from(p) + (f64::from(q) - f64::from(p)) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Dark or white text, whichever reads on `bg` (WCAG relative luminance).
pub(crate) fn text_on(bg: RGBColor) -> RGBColor {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * lin(bg.0) + 0.7152 * lin(bg.1) + 0.0722 * lin(bg.2);
    // Contrast against white (1.05 / (l + 0.05)) beats contrast against INK above this.
    if l > 0.2 {
        INK
    } else {
        RGBColor(0xFF, 0xFF, 0xFF)
    }
}

/// `#rrggbb`, for CSS.
pub(crate) fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_have_fixed_colours() {
        assert_eq!(rule_color("MPT"), rule_color("must_pass_through"));
        assert_eq!(
            rule_color("Must-pass-through"),
            rule_color("must_pass_through")
        );
        assert!(rule_color("2.0.0").is_none());
        assert_eq!(rule_marker("must_pass_through"), "MPT");
    }

    #[test]
    fn heat_scale_is_monotonic_and_readable() {
        assert_eq!(log_position(0, 100), 0.0);
        assert_eq!(log_position(100, 100), 1.0);
        assert!(log_position(10, 100) < log_position(50, 100));
        assert_eq!(hex(heat_color(0.0)), "#e3eaf2");
        assert_eq!(hex(heat_color(1.0)), "#27364c");
        assert_eq!(text_on(heat_color(0.0)), INK);
        assert_eq!(text_on(heat_color(1.0)), RGBColor(0xFF, 0xFF, 0xFF));
    }
}
