//! The Pareto chart of a sweep: each variant's blast radius against its time to reach
//! 95 % of the fleet, the variants no other beats on both drawn as the frontier. A
//! plain SVG (a scatter of a few hundred points needs no plotting library).

use std::fmt::Write;

/// One variant of a sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct ParetoPoint {
    /// The variant's label (its parameter values).
    pub label: String,
    /// Time to 95 % (x, hours).
    pub hours: f64,
    /// Blast radius (y, devices).
    pub devices: f64,
}

/// Indices of the points on the frontier (no other point is at most as large on both
/// axes and smaller on one), by increasing hours.
pub fn frontier(points: &[ParetoPoint]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..points.len())
        .filter(|&i| {
            let p = &points[i];
            !points.iter().any(|q| {
                q.hours <= p.hours
                    && q.devices <= p.devices
                    && (q.hours < p.hours || q.devices < p.devices)
            })
        })
        .collect();
    idx.sort_by(|&a, &b| points[a].hours.total_cmp(&points[b].hours).then(a.cmp(&b)));
    idx
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A round axis maximum at or above `max`.
fn nice(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|&v| v >= max)
        .unwrap_or(10.0 * mag)
}

/// The chart as an SVG document, `title` on top.
pub fn pareto_svg(title: &str, points: &[ParetoPoint]) -> String {
    let (w, h) = (900.0, 560.0);
    let (left, right, top, bottom) = (90.0, 30.0, 60.0, 70.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let xmax = nice(points.iter().map(|p| p.hours).fold(0.0, f64::max));
    let ymax = nice(points.iter().map(|p| p.devices).fold(0.0, f64::max));
    let x = |v: f64| left + v / xmax * pw;
    let y = |v: f64| top + ph - v / ymax * ph;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="DejaVu Sans, sans-serif" font-size="13">
<rect width="100%" height="100%" fill="white"/>
<text x="{}" y="30" font-size="18" text-anchor="middle">{}</text>
"##,
        w / 2.0,
        escape(title)
    );
    for i in 0..=5 {
        let (vx, vy) = (xmax * i as f64 / 5.0, ymax * i as f64 / 5.0);
        let _ = writeln!(
            s,
            r##"<line x1="{left}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#e5e5e5"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            y(vy),
            left + pw,
            y(vy),
            left - 8.0,
            y(vy) + 4.0,
            crate::charts::group_thousands(vy.round() as u64)
        );
        let _ = writeln!(
            s,
            r##"<line x1="{:.1}" y1="{top}" x2="{:.1}" y2="{:.1}" stroke="#e5e5e5"/><text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            x(vx),
            x(vx),
            top + ph,
            x(vx),
            top + ph + 20.0,
            (vx * 10.0).round() / 10.0
        );
    }
    let _ = writeln!(
        s,
        r##"<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>
<text x="{:.1}" y="{:.1}" text-anchor="middle">hours until 95 % of the fleet is at its final version</text>
<text transform="translate(22 {:.1}) rotate(-90)" text-anchor="middle">blast radius (devices that tried a gated release)</text>"##,
        left + pw / 2.0,
        h - 20.0,
        top + ph / 2.0
    );
    let front = frontier(points);
    let path: Vec<String> = front
        .iter()
        .map(|&i| format!("{:.1},{:.1}", x(points[i].hours), y(points[i].devices)))
        .collect();
    if path.len() > 1 {
        let _ = writeln!(
            s,
            r##"<polyline points="{}" fill="none" stroke="#D55E00" stroke-width="2"/>"##,
            path.join(" ")
        );
    }
    for (i, p) in points.iter().enumerate() {
        let on = front.contains(&i);
        let _ = writeln!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="{}" fill="{}"><title>{}: {} h, {} devices</title></circle>"##,
            x(p.hours),
            y(p.devices),
            if on { 6 } else { 4 },
            if on { "#D55E00" } else { "#0072B2" },
            escape(&p.label),
            p.hours,
            p.devices
        );
        if on {
            let _ = writeln!(
                s,
                r##"<text x="{:.1}" y="{:.1}" font-size="11">{}</text>"##,
                x(p.hours) + 8.0,
                y(p.devices) - 8.0,
                escape(&p.label)
            );
        }
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(hours: f64, devices: f64) -> ParetoPoint {
        ParetoPoint {
            label: format!("{hours}/{devices}"),
            hours,
            devices,
        }
    }

    #[test]
    fn frontier_keeps_the_undominated_points_by_hours() {
        let points = [
            p(10.0, 5.0),
            p(5.0, 10.0),
            p(10.0, 10.0),
            p(20.0, 1.0),
            p(5.0, 10.0),
        ];
        assert_eq!(frontier(&points), vec![1, 4, 0, 3]);
        let svg = pareto_svg("t", &points);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<circle").count(), 5);
    }
}
