//! `[[delta_sizes]]`: explicit sizes of Delta releases that do not exist yet, for delta
//! planning (R30). They are checked here, when the scenario loads, so a bad entry is an
//! error with its line whatever command reads the file.

use toml::Spanned;

use super::lower::{At, Lowerer};
use super::raw::RawDeltaSize;
use super::ScenarioError;
use crate::ids::SoftwareTypeId;
use crate::version::Version;

/// The size of one planned Delta's payload for one hardware version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeltaSize {
    /// The software type of both versions.
    pub software_type: SoftwareTypeId,
    /// The From version (parsed: matched by exact equality, R2).
    pub from: Version,
    /// The To version.
    pub to: Version,
    /// The hardware version, as written (it need not be one the catalog knows).
    pub hardware_version: String,
    /// The payload size in bytes.
    pub bytes: u64,
    /// The 1-based line of the entry.
    pub line: usize,
}

/// Checks and converts the entries: versions parse under their software type (R1, R2),
/// sizes are not negative, no (from, to, hardware version) is given twice.
pub(super) fn lower(
    lw: &Lowerer<'_>,
    raw: &[Spanned<RawDeltaSize>],
) -> Result<Vec<DeltaSize>, ScenarioError> {
    let mut out: Vec<DeltaSize> = Vec::with_capacity(raw.len());
    for (i, entry) in raw.iter().enumerate() {
        let what = format!("delta_sizes {}", i + 1);
        let at = At::new(&lw.src, what.clone());
        let e = entry.get_ref();
        let st = lw.software_type_of(&what, e.software_type.as_ref())?;
        let t = lw.catalog.software_type(st);
        let parse = |s: &Str| {
            Version::parse(s.get_ref(), t.allow_build_metadata, &t.name)
                .map_err(|err| at.err(s.span(), err))
        };
        let from = parse(&e.from)?;
        let to = parse(&e.to)?;
        if !to.is_greater_than(&from) {
            return Err(at.err(
                e.to.span(),
                format!(
                    "to \"{}\" must be greater than from \"{}\" (delta downgrades are not supported)",
                    e.to.get_ref(),
                    e.from.get_ref()
                ),
            ));
        }
        let bytes = u64::try_from(*e.bytes.get_ref()).map_err(|_| {
            at.err(
                e.bytes.span(),
                format!("bytes {} is negative", e.bytes.get_ref()),
            )
        })?;
        let hardware_version = e.hardware_version.get_ref().clone();
        if out.iter().any(|d| {
            d.software_type == st
                && d.from == from
                && d.to == to
                && d.hardware_version == hardware_version
        }) {
            return Err(at.err(
                entry.span(),
                format!(
                    "the size of {}->{} for hardware version \"{hardware_version}\" is given twice",
                    e.from.get_ref(),
                    e.to.get_ref()
                ),
            ));
        }
        out.push(DeltaSize {
            software_type: st,
            from,
            to,
            hardware_version,
            bytes,
            line: lw.src.line(entry.span().start),
        });
    }
    Ok(out)
}

type Str = super::raw::Str;
