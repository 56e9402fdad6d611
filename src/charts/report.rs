//! `report.html`: one self-contained file (inline CSS and SVG, no external reference) that
//! opens offline in any browser.
//!
//! The page is also well-formed XML (every element closed, only XML's own entities), so a
//! plain XML parser can check it.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use super::palette;
use super::scale::group_thousands;
use super::{write_atomically, Chart, ChartError, MatrixHeat};

/// A chart in the report, with a caption that tells the reader what to look for.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// The chart, drawn at its [`Chart::default_size`].
    pub chart: Chart,
    /// Text under the chart; may be empty.
    pub caption: String,
}

/// What `report.html` shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The page's heading, e.g. `otasim run: rollout.toml`.
    pub title: String,
    /// A line under the heading (scenario, seed, duration); may be empty.
    pub subtitle: String,
    /// Key figures of the run, shown as a two-column table in this order.
    pub summary: Vec<(String, String)>,
    /// Tables of figures (time to reach, bandwidth per release, egress per day), in
    /// order, between the summary and the charts.
    pub tables: Vec<ReportTable>,
    /// Charts, in order.
    pub figures: Vec<Figure>,
    /// The final version matrix of each cohort; each matrix's title heads its table.
    pub matrices: Vec<MatrixHeat>,
}

/// A table in the report: text cells, the first column a row heading, the others
/// right-aligned (they hold figures).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReportTable {
    /// Its heading; also the anchor's text.
    pub title: String,
    /// A sentence under the heading that says how to read it; may be empty.
    pub note: String,
    /// Column headings.
    pub header: Vec<String>,
    /// Rows, each as long as `header`.
    pub rows: Vec<Vec<String>>,
}

/// Writes the report to `path` atomically (a temporary file beside it, then a rename).
pub fn write_report(path: &Path, report: &Report) -> io::Result<()> {
    let html = render_report(report).map_err(|e| match e {
        ChartError::Io(e) => e,
        other => io::Error::other(other),
    })?;
    write_atomically(path, html.as_bytes())
}

/// The report as an HTML document.
pub fn render_report(report: &Report) -> Result<String, ChartError> {
    let mut h = String::with_capacity(256 * 1024);
    let title = escape(&report.title);
    // `write!` into a String cannot fail; the results are ignored throughout.
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n\
         <meta name=\"generator\" content=\"otasim {}\"/>\n<title>{title}</title>\n\
         <style>{CSS}</style>\n</head>\n<body>\n<main>\n<header>\n<h1>{title}</h1>\n",
        env!("CARGO_PKG_VERSION")
    );
    if !report.subtitle.is_empty() {
        let _ = writeln!(h, "<p class=\"subtitle\">{}</p>", escape(&report.subtitle));
    }
    h.push_str("<nav>");
    let mut sections = Vec::new();
    if !report.summary.is_empty() {
        sections.push(("summary", "Summary"));
    }
    if !report.tables.is_empty() {
        sections.push(("figures", "Figures"));
    }
    if !report.figures.is_empty() {
        sections.push(("charts", "Charts"));
    }
    if !report.matrices.is_empty() {
        sections.push(("matrices", "Final version matrices"));
    }
    for (i, (id, name)) in sections.iter().enumerate() {
        if i > 0 {
            h.push_str(" · ");
        }
        let _ = write!(h, "<a href=\"#{id}\">{name}</a>");
    }
    h.push_str("</nav>\n</header>\n");

    if !report.summary.is_empty() {
        h.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n<table class=\"kv\">\n<tbody>\n");
        for (k, v) in &report.summary {
            let _ = writeln!(
                h,
                "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
                escape(k),
                escape(v)
            );
        }
        h.push_str("</tbody>\n</table>\n</section>\n");
    }

    if !report.tables.is_empty() {
        h.push_str("<section id=\"figures\">\n<h2>Figures</h2>\n");
        for t in &report.tables {
            figure_table(&mut h, t);
        }
        h.push_str("</section>\n");
    }

    if !report.figures.is_empty() {
        h.push_str("<section id=\"charts\">\n<h2>Charts</h2>\n");
        for f in &report.figures {
            let size = f.chart.default_size();
            let svg = f.chart.to_svg(size)?;
            h.push_str("<figure>\n");
            h.push_str(&inline_svg(&svg, f.chart.title(), size.width));
            if !f.caption.is_empty() {
                let _ = writeln!(h, "<figcaption>{}</figcaption>", escape(&f.caption));
            }
            h.push_str("</figure>\n");
        }
        h.push_str("</section>\n");
    }

    if !report.matrices.is_empty() {
        h.push_str("<section id=\"matrices\">\n<h2>Final version matrices</h2>\n");
        h.push_str(
            "<p class=\"note\">Rows: the version devices report now. Columns: the version the \
             resolver sends them to next (the diagonal is “no update”). Each cell counts devices \
             and names the rule that decided; its left edge has the rule's colour.</p>\n",
        );
        h.push_str("<p class=\"rules\">");
        for r in ["override", "delta", "must_pass_through", "full", "none"] {
            let _ = write!(
                h,
                "<span class=\"chip\" style=\"{}\">{}</span> ",
                rule_bar(r),
                r
            );
        }
        h.push_str("</p>\n");
        for m in &report.matrices {
            matrix_table(&mut h, m)?;
        }
        h.push_str("</section>\n");
    }
    let _ = write!(
        h,
        "<footer>Generated by otasim {}. This file is self-contained and works offline.</footer>\n\
         </main>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
    Ok(h)
}

/// plotters' SVG document as an element inside HTML: no XML declaration, no namespace
/// attribute (HTML puts `<svg>` in the SVG namespace itself, and the page names no URL),
/// scaled to the page's width by CSS but never beyond its own `width`, so that text keeps
/// one size across charts.
fn inline_svg(svg: &str, title: &str, width: u32) -> String {
    let start = svg.find("<svg").unwrap_or(0);
    let svg = &svg[start..];
    let svg = svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1);
    let label = format!(
        "<svg role=\"img\" aria-label=\"{}\" style=\"max-width: {width}px\"",
        escape(title)
    );
    svg.replacen("<svg", &label, 1)
}

fn figure_table(h: &mut String, t: &ReportTable) {
    let _ = writeln!(h, "<h3>{}</h3>", escape(&t.title));
    if !t.note.is_empty() {
        let _ = writeln!(h, "<p class=\"note\">{}</p>", escape(&t.note));
    }
    h.push_str("<div class=\"scroll\">\n<table class=\"figures\">\n<thead>\n<tr>");
    for c in &t.header {
        let _ = write!(h, "<th scope=\"col\">{}</th>", escape(c));
    }
    h.push_str("</tr>\n</thead>\n<tbody>\n");
    for row in &t.rows {
        h.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            if i == 0 {
                let _ = write!(h, "<th scope=\"row\">{}</th>", escape(c));
            } else {
                let _ = write!(h, "<td>{}</td>", escape(c));
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n</div>\n");
}

fn rule_bar(rule: &str) -> String {
    let c = palette::rule_color(rule).unwrap_or(palette::OTHER);
    format!("box-shadow: inset 5px 0 0 {}", palette::hex(c))
}

fn matrix_table(h: &mut String, m: &MatrixHeat) -> Result<(), ChartError> {
    if let Some(problem) = super::check_matrix(m) {
        return Err(ChartError::Data {
            title: m.title.clone(),
            problem,
        });
    }
    let _ = writeln!(h, "<h3>{}</h3>", escape(&m.title));
    if m.rows.is_empty() {
        h.push_str("<p class=\"note\">No devices.</p>\n");
        return Ok(());
    }
    let max = m.cells.iter().flatten().copied().max().unwrap_or(0);
    h.push_str("<div class=\"scroll\">\n<table class=\"matrix\">\n<thead>\n<tr><th class=\"corner\">current ↓ · next →</th>");
    for c in &m.cols {
        let _ = write!(h, "<th scope=\"col\">{}</th>", escape(c));
    }
    h.push_str("<th scope=\"col\" class=\"total\">Total</th>");
    if !m.row_final.is_empty() {
        h.push_str("<th scope=\"col\" class=\"final\">Final version</th>");
    }
    h.push_str("</tr>\n</thead>\n<tbody>\n");
    for (i, row) in m.rows.iter().enumerate() {
        let _ = write!(h, "<tr><th scope=\"row\">{}</th>", escape(row));
        for j in 0..m.cols.len() {
            let n = m.cells[i][j];
            if n == 0 {
                h.push_str("<td class=\"empty\"></td>");
                continue;
            }
            let bg = palette::heat_color(palette::log_position(n, max));
            let mut style = format!(
                "background: {}; color: {}",
                palette::hex(bg),
                palette::hex(palette::text_on(bg))
            );
            let rule = m.cell_rules[i][j].as_deref();
            if let Some(r) = rule {
                style.push_str("; ");
                style.push_str(&rule_bar(r));
            }
            let _ = write!(
                h,
                "<td style=\"{style}\"><span class=\"n\">{}</span>",
                group_thousands(n)
            );
            if let Some(r) = rule {
                let _ = write!(
                    h,
                    "<span class=\"rule\">{}</span>",
                    escape(&palette::rule_marker(r))
                );
            }
            h.push_str("</td>");
        }
        let total: u64 = m.cells[i].iter().sum();
        let _ = write!(h, "<td class=\"total\">{}</td>", group_thousands(total));
        if let Some(f) = m.row_final.get(i) {
            let _ = write!(h, "<td class=\"final\">{}</td>", escape(f));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n</div>\n");
    Ok(())
}

/// Text as HTML (and XML) character data or attribute value.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page's style. No `&` or `<` here: the page must stay well-formed XML.
const CSS: &str = r#"
:root { color-scheme: light; --ink: #222; --muted: #555; --line: #ddd; --bg: #fafafa; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.5 "DejaVu Sans", Verdana, system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 1280px; margin: 0 auto; padding: 24px 32px 48px; }
header { border-bottom: 2px solid var(--ink); margin-bottom: 24px; padding-bottom: 12px; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 36px 0 12px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 17px; margin: 24px 0 8px; }
.subtitle { color: var(--muted); margin: 0 0 8px; }
nav { font-size: 14px; }
nav a { color: #0072b2; text-decoration: none; }
nav a:hover { text-decoration: underline; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; background: #fff; }
.kv th, .kv td { padding: 6px 16px; border-bottom: 1px solid var(--line); text-align: left; }
.kv th { font-weight: normal; color: var(--muted); }
.kv td { font-weight: bold; text-align: right; }
.kv tr:nth-child(even) { background: #f6f6f6; }
.figures th, .figures td { padding: 5px 12px; border-bottom: 1px solid var(--line); white-space: nowrap; }
.figures thead th { text-align: right; color: var(--muted); font-weight: normal; }
.figures thead th:first-child, .figures tbody th { text-align: left; }
.figures td { text-align: right; }
.figures tr:nth-child(even) { background: #f6f6f6; }
figure { margin: 0 0 28px; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
figure svg { display: block; width: 100%; height: auto; margin: 0 auto; }
figcaption { color: var(--muted); font-size: 14px; padding: 4px 12px 6px; }
.note { color: var(--muted); max-width: 80ch; }
.rules { margin: 8px 0 4px; }
.chip { display: inline-block; padding: 2px 10px 2px 14px; margin: 0 6px 4px 0; background: #fff;
  border: 1px solid var(--line); border-radius: 3px; font-size: 13px; }
.scroll { overflow-x: auto; }
.matrix th, .matrix td { border: 1px solid #fff; padding: 6px 10px; text-align: center; min-width: 84px; }
.matrix thead th { background: #eee; font-weight: bold; }
.matrix tbody th { background: #eee; text-align: right; white-space: nowrap; }
.matrix .corner { color: var(--muted); font-weight: normal; font-size: 13px; }
.matrix td.empty { background: #f3f3f3; }
.matrix .n { display: block; font-weight: bold; }
.matrix .rule { display: block; font-size: 12px; opacity: 0.85; }
.matrix td.total { background: #fff; color: var(--muted); text-align: right; }
.matrix td.final { background: #fff; font-weight: bold; }
footer { margin-top: 40px; color: var(--muted); font-size: 13px; }
@media print { body { background: #fff; } figure { break-inside: avoid; } }
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }

    #[test]
    fn css_keeps_the_page_well_formed() {
        assert!(!CSS.contains('&') && !CSS.contains('<'));
    }
}
