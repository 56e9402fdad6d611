//! The `[resolver]` table of a scenario (R32): which variant of R12–R15 the resolver
//! follows. Unknown keys are refused by serde (with their line); rule names are checked
//! here, each error naming its line.

use serde::Deserialize;
use toml::Spanned;

use super::lower::Source;
use super::raw::Str;
use super::ScenarioError;
use crate::resolver::Variant;

/// `[resolver]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawResolver {
    /// An order of `"delta"`, `"must_pass_through"`, `"full"`.
    pub precedence: Option<Spanned<Vec<Str>>>,
    /// Whether an override without a payload for the hardware falls back.
    pub override_fallback: Option<Spanned<bool>>,
}

/// Lowers `[resolver]` into a [`Variant`] (the default when the table is absent).
pub fn lower(
    src: &Source<'_>,
    raw: Option<&Spanned<RawResolver>>,
) -> Result<Variant, ScenarioError> {
    let mut variant = Variant::DEFAULT;
    let Some(raw) = raw else {
        return Ok(variant);
    };
    let raw = raw.get_ref();
    if let Some(p) = &raw.precedence {
        let names: Vec<&str> = p.get_ref().iter().map(|n| n.get_ref().as_str()).collect();
        variant.precedence = Variant::parse_precedence(&names).map_err(|e| {
            // Point at the offending name when there is one, else at the list.
            let span = p
                .get_ref()
                .iter()
                .find(|n| e.contains(&format!("\"{}\"", n.get_ref())))
                .map_or(p.span(), |n| n.span());
            src.error(span, format!("resolver: precedence: {e}"))
        })?;
    }
    if let Some(f) = &raw.override_fallback {
        variant.override_fallback = *f.get_ref();
    }
    Ok(variant)
}
