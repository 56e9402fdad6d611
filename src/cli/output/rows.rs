//! One output row type and its writer: CSV, JSON or an aligned table, by format.

use super::*;

/// One value of an output row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell<'a> {
    /// A string (a JSON string, a left-aligned table cell).
    Text(Cow<'a, str>),
    /// A count or size (a JSON number, a right-aligned table cell).
    Number(u64),
    /// Nothing: an empty CSV field, JSON `null`, `-` in a table.
    Empty,
}

impl<'a> Cell<'a> {
    /// A borrowed string cell.
    pub fn text(s: &'a str) -> Cell<'a> {
        Cell::Text(Cow::Borrowed(s))
    }

    fn to_field(&self) -> Cow<'_, str> {
        match self {
            Cell::Text(s) => Cow::Borrowed(s.as_ref()),
            Cell::Number(n) => Cow::Owned(n.to_string()),
            Cell::Empty => Cow::Borrowed(""),
        }
    }

    fn to_json(&self) -> serde_json::Value {
        match self {
            Cell::Text(s) => serde_json::Value::String(s.to_string()),
            Cell::Number(n) => serde_json::Value::from(*n),
            Cell::Empty => serde_json::Value::Null,
        }
    }

    fn into_owned(self) -> Cell<'static> {
        match self {
            Cell::Text(s) => Cell::Text(Cow::Owned(s.into_owned())),
            Cell::Number(n) => Cell::Number(n),
            Cell::Empty => Cell::Empty,
        }
    }
}

/// Writes rows with fixed columns in one format. CSV and JSON stream row by row; a table
/// needs every row to size its columns, so it buffers until [`RowWriter::finish`].
pub struct RowWriter<'w, W: Write> {
    columns: Vec<&'static str>,
    sink: Sink<'w, W>,
}

pub(super) enum Sink<'w, W: Write> {
    Csv(Box<csv::Writer<&'w mut W>>),
    Json {
        out: &'w mut W,
        n_rows: usize,
    },
    Table {
        out: &'w mut W,
        rows: Vec<Vec<Cell<'static>>>,
    },
}

impl<'w, W: Write> RowWriter<'w, W> {
    /// Starts the output (a CSV header is written at once, even if no row follows).
    pub fn new(format: Format, columns: &[&'static str], out: &'w mut W) -> io::Result<Self> {
        let sink = match format {
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(columns).map_err(csv_to_io)?;
                Sink::Csv(Box::new(w))
            }
            Format::Json => Sink::Json { out, n_rows: 0 },
            Format::Table => Sink::Table {
                out,
                rows: Vec::new(),
            },
        };
        Ok(RowWriter {
            columns: columns.to_vec(),
            sink,
        })
    }

    /// Writes one row; it must have one cell per column.
    pub fn row(&mut self, cells: Vec<Cell<'_>>) -> io::Result<()> {
        debug_assert_eq!(cells.len(), self.columns.len());
        match &mut self.sink {
            Sink::Csv(w) => w
                .write_record(cells.iter().map(|c| c.to_field().into_owned()))
                .map_err(csv_to_io),
            Sink::Json { out, n_rows } => {
                // Keys in column order (serde_json's map would sort them).
                out.write_all(if *n_rows == 0 { b"[\n  {" } else { b",\n  {" })?;
                for (i, (key, value)) in self.columns.iter().zip(&cells).enumerate() {
                    if i > 0 {
                        out.write_all(b",")?;
                    }
                    serde_json::to_writer(&mut **out, key)?;
                    out.write_all(b":")?;
                    serde_json::to_writer(&mut **out, &value.to_json())?;
                }
                out.write_all(b"}")?;
                *n_rows += 1;
                Ok(())
            }
            Sink::Table { rows, .. } => {
                rows.push(cells.into_iter().map(Cell::into_owned).collect());
                Ok(())
            }
        }
    }

    /// Ends the output (closes the JSON array, renders the table).
    pub fn finish(self) -> io::Result<()> {
        match self.sink {
            Sink::Csv(mut w) => w.flush(),
            Sink::Json { out, n_rows } => {
                out.write_all(if n_rows == 0 { b"[]\n" } else { b"\n]\n" })
            }
            Sink::Table { out, rows } => {
                let header: Vec<String> = self.columns.iter().map(|c| c.to_string()).collect();
                let mut align = vec![Align::Left; self.columns.len()];
                // A column is numeric when every filled cell is a number.
                for (i, a) in align.iter_mut().enumerate() {
                    let mut filled = rows.iter().map(|r| &r[i]).filter(|c| **c != Cell::Empty);
                    if filled.clone().next().is_some()
                        && filled.all(|c| matches!(c, Cell::Number(_)))
                    {
                        *a = Align::Right;
                    }
                }
                let body: Vec<Vec<String>> = rows
                    .iter()
                    .map(|r| {
                        r.iter()
                            .map(|c| match c {
                                Cell::Empty => "-".to_string(),
                                c => c.to_field().into_owned(),
                            })
                            .collect()
                    })
                    .collect();
                write_aligned(out, "", &header, &body, &align)
            }
        }
    }
}

/// Keeps the `io::Error` inside a CSV error, so that a broken pipe stays recognisable.
pub(super) fn csv_to_io(err: csv::Error) -> io::Error {
    match err.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}
