//! Aligned text tables: text left, numbers right, by display width.

use super::*;

/// How a table column is aligned.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// Display width of a cell: one column per `char` (our cells hold no wide characters).
pub(super) fn width(s: &str) -> usize {
    s.chars().count()
}

/// Writes `header` and `rows` as columns two spaces apart, each line prefixed by
/// `indent`, with no trailing whitespace.
pub fn write_aligned(
    out: &mut impl Write,
    indent: &str,
    header: &[String],
    rows: &[Vec<String>],
    align: &[Align],
) -> io::Result<()> {
    let n = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(cell));
        }
    }
    let mut line = String::new();
    for row in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
        line.clear();
        line.push_str(indent);
        for (i, cell) in row.iter().enumerate().take(n) {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = widths[i] - width(cell);
            match align[i] {
                Align::Left => {
                    line.push_str(cell);
                    line.extend(std::iter::repeat_n(' ', pad));
                }
                Align::Right => {
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(cell);
                }
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}
