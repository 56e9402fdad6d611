//! R30: the size of each planned delta's payload per hardware version, from the first
//! model that knows it: explicit sizes (`[[delta_sizes]]`, `--sizes`), real patches
//! between images (`--images`, see [`super::patch`]), or a ratio of V's Full payload
//! (`--delta-ratio`).

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

use crate::catalog::Catalog;
use crate::ids::{HardwareId, SoftwareTypeId, VersionId};
use crate::scenario::DeltaSize;
use crate::version::Version;

use super::{Candidate, PlanError, SizeSource, Target};

/// One explicit size: (from, to, hardware version) → bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SizeEntry {
    /// The software type of both versions.
    pub software_type: SoftwareTypeId,
    /// From.
    pub from: Version,
    /// To.
    pub to: Version,
    /// The hardware version as written.
    pub hardware_version: String,
    /// The size.
    pub bytes: u64,
}

impl From<&DeltaSize> for SizeEntry {
    fn from(d: &DeltaSize) -> SizeEntry {
        SizeEntry {
            software_type: d.software_type,
            from: d.from.clone(),
            to: d.to.clone(),
            hardware_version: d.hardware_version.clone(),
            bytes: d.bytes,
        }
    }
}

/// The columns a `--sizes` table must have.
pub const SIZE_COLUMNS: [&str; 4] = ["from", "to", "hardware_version", "bytes"];

/// Reads a `--sizes` table (CSV, or Parquet by its `.parquet` extension) with the
/// columns `from, to, hardware_version, bytes` (and optionally `software_type`, else
/// `default_type`). Every error names the file and the row.
pub fn read_sizes_table(
    path: &Path,
    catalog: &Catalog,
    default_type: SoftwareTypeId,
) -> Result<Vec<SizeEntry>, PlanError> {
    let place = |row: Option<usize>, m: String| {
        let row = row.map(|r| format!(" row {r}:")).unwrap_or_default();
        PlanError(format!("--sizes {}:{row} {m}", path.display()))
    };
    let (header, rows) = read_cells(path).map_err(|m| place(None, m))?;
    let col = |name: &str| header.iter().position(|h| h == name);
    let mut pos = [0usize; 4];
    for (p, name) in pos.iter_mut().zip(SIZE_COLUMNS) {
        *p = col(name).ok_or_else(|| {
            place(
                None,
                format!(
                    "missing column \"{name}\" (the columns are {})",
                    SIZE_COLUMNS.join(", ")
                ),
            )
        })?;
    }
    let st_col = col("software_type");
    let mut out: Vec<SizeEntry> = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let n = i + 1;
        let st = match st_col.map(|c| row[c].as_str()).filter(|s| !s.is_empty()) {
            None => default_type,
            Some(name) => catalog
                .need_software_type(name)
                .map_err(|e| place(Some(n), e.to_string()))?,
        };
        let t = catalog.software_type(st);
        let version = |c: usize| {
            Version::parse(row[c].trim(), t.allow_build_metadata, &t.name)
                .map_err(|e| place(Some(n), e.to_string()))
        };
        let from = version(pos[0])?;
        let to = version(pos[1])?;
        let hardware_version = row[pos[2]].trim().to_string();
        if hardware_version.is_empty() {
            return Err(place(Some(n), "hardware_version is empty".into()));
        }
        let text = row[pos[3]].trim();
        let bytes: i64 = text
            .parse()
            .map_err(|_| place(Some(n), format!("bytes \"{text}\" is not a whole number")))?;
        let bytes = u64::try_from(bytes)
            .map_err(|_| place(Some(n), format!("bytes {bytes} is negative")))?;
        if out.iter().any(|e| {
            e.software_type == st
                && e.from == from
                && e.to == to
                && e.hardware_version == hardware_version
        }) {
            return Err(place(
                Some(n),
                format!("the size of {from}->{to} for hardware version \"{hardware_version}\" is given twice"),
            ));
        }
        out.push(SizeEntry {
            software_type: st,
            from,
            to,
            hardware_version,
            bytes,
        });
    }
    Ok(out)
}

type Cells = (Vec<String>, Vec<Vec<String>>);

/// A table's header and rows as text.
fn read_cells(path: &Path) -> Result<Cells, String> {
    let parquet = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    if parquet {
        return read_parquet_cells(path);
    }
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| format!("cannot read: {e}"))?;
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| format!("cannot read the header: {e}"))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| format!("row {}: {e}", i + 1))?;
        rows.push(rec.iter().map(str::to_string).collect());
    }
    Ok((header, rows))
}

fn read_parquet_cells(path: &Path) -> Result<Cells, String> {
    use polars::prelude::{AnyValue, ParquetReader, SerReader};
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let df = ParquetReader::new(file)
        .finish()
        .map_err(|e| format!("cannot read as Parquet: {e}"))?;
    let header: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let mut rows = vec![Vec::with_capacity(header.len()); df.height()];
    for column in df.columns() {
        let series = column.as_materialized_series();
        for (r, row) in rows.iter_mut().enumerate() {
            let v = series.get(r).map_err(|e| e.to_string())?;
            row.push(match v {
                AnyValue::Null => String::new(),
                AnyValue::String(s) => s.to_string(),
                AnyValue::StringOwned(s) => s.to_string(),
                other => other.to_string(),
            });
        }
    }
    Ok((header, rows))
}

/// `--delta-ratio R`: an exact decimal, so that round_half_up(R × size) is exact.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Ratio {
    num: u128,
    den: u128,
}

impl FromStr for Ratio {
    type Err = String;
    fn from_str(text: &str) -> Result<Ratio, String> {
        let t = text.trim();
        if t.starts_with('-') {
            return Err(format!("{t} is negative"));
        }
        let t = t.strip_prefix('+').unwrap_or(t);
        let (int, frac) = t.split_once('.').unwrap_or((t, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) || frac.len() > 18 {
            return Err(format!(
                "\"{text}\" is not a decimal number such as 0.2 (at most 18 decimals)"
            ));
        }
        let den = 10u128.pow(frac.len() as u32);
        let whole: u128 = if int.is_empty() {
            0
        } else {
            int.parse()
                .map_err(|_| format!("\"{text}\" is too large"))?
        };
        let frac: u128 = if frac.is_empty() {
            0
        } else {
            frac.parse().unwrap_or(0)
        };
        let num = whole
            .checked_mul(den)
            .and_then(|w| w.checked_add(frac))
            .filter(|&n| n <= 1_000_000 * den)
            .ok_or_else(|| format!("\"{text}\" is too large"))?;
        Ok(Ratio { num, den })
    }
}

impl Ratio {
    /// round_half_up(R × `size`) (R30).
    pub fn apply(&self, size: u64) -> u64 {
        let twice = 2 * self.num * u128::from(size);
        let rounded = (twice + self.den) / (2 * self.den);
        u64::try_from(rounded).unwrap_or(u64::MAX)
    }
}

/// The size models given, in R30's order.
pub struct SizeModels<'a> {
    /// Explicit sizes: `--sizes` rows first (they replace the scenario's), then the
    /// scenario's `[[delta_sizes]]`.
    pub explicit: Vec<SizeEntry>,
    /// Real patches: called once with every (From, hardware) pair no explicit size
    /// covers, returns their sizes in that order.
    pub images: Option<ImageSizer<'a>>,
    /// The ratio model.
    pub ratio: Option<Ratio>,
}

/// Computes patch sizes for (From version, hardware) pairs into V.
pub type ImageSizer<'a> = &'a dyn Fn(&[(VersionId, HardwareId)]) -> Result<Vec<u64>, PlanError>;

impl SizeModels<'_> {
    /// Whether any model is given (R30: none is an input error).
    pub fn any(&self) -> bool {
        !self.explicit.is_empty() || self.images.is_some() || self.ratio.is_some()
    }

    /// Fills every candidate's `delta_bytes` from the first model that knows it.
    pub fn fill(
        &self,
        catalog: &Catalog,
        target: &Target,
        candidates: &mut [Candidate],
    ) -> Result<(), PlanError> {
        if !self.any() {
            return Err(PlanError(
                "no delta size model: give --delta-ratio R, --sizes FILE, --images DIR, or [[delta_sizes]] in the scenario (R30)".into(),
            ));
        }
        let v = catalog.version(target.version);
        let mut explicit: HashMap<(&Version, &str), u64> = HashMap::new();
        for e in self.explicit.iter().rev() {
            if e.software_type == target.software_type && e.to == *v {
                explicit.insert((&e.from, e.hardware_version.as_str()), e.bytes);
            }
        }
        let mut missing: Vec<(usize, usize)> = Vec::new();
        for (ci, c) in candidates.iter_mut().enumerate() {
            let from = catalog.version(c.from);
            for (hi, h) in c.hardware.iter_mut().enumerate() {
                let name = catalog.hardware_name(h.hardware);
                h.delta_bytes = explicit.get(&(from, name)).copied();
                h.source = h.delta_bytes.map(|_| SizeSource::Explicit);
                if h.delta_bytes.is_none() {
                    missing.push((ci, hi));
                }
            }
        }
        if let Some(images) = self.images {
            let pairs: Vec<(VersionId, HardwareId)> = missing
                .iter()
                .map(|&(c, h)| (candidates[c].from, candidates[c].hardware[h].hardware))
                .collect();
            let sizes = images(&pairs)?;
            for (&(c, h), size) in missing.iter().zip(sizes) {
                candidates[c].hardware[h].delta_bytes = Some(size);
                candidates[c].hardware[h].source = Some(SizeSource::Images);
            }
            missing.clear();
        }
        if let Some(ratio) = self.ratio {
            for &(c, h) in &missing {
                let hw = &mut candidates[c].hardware[h];
                hw.delta_bytes = Some(ratio.apply(hw.full_bytes));
                hw.source = Some(SizeSource::Ratio);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r30_ratio_rounds_half_up_exactly() {
        let r: Ratio = "0.35".parse().unwrap();
        // 0.35 × 10 = 3.5 exactly (a float product would give 3.4999…).
        assert_eq!(r.apply(10), 4);
        assert_eq!(r.apply(0), 0);
        let r: Ratio = "0.1".parse().unwrap();
        assert_eq!(r.apply(15), 2);
        assert_eq!(r.apply(14), 1);
        let r: Ratio = "1".parse().unwrap();
        assert_eq!(r.apply(1_000_000), 1_000_000);
        let r: Ratio = ".5".parse().unwrap();
        assert_eq!(r.apply(3), 2);
        assert_eq!(r.apply(u64::MAX / 4), u64::MAX / 8 + 1);
    }

    #[test]
    fn r30_ratio_rejects_what_is_not_a_plain_decimal() {
        assert_eq!(
            "-0.1".parse::<Ratio>().unwrap_err(),
            "-0.1 is negative".to_string()
        );
        for bad in ["", ".", "abc", "1e-1", "0.1.2", "nan"] {
            assert!(bad.parse::<Ratio>().is_err(), "{bad}");
        }
    }
}
