//! Parsing of the cells that are not names: `staged` and `last_seen` as text, and ticks
//! as the fleet keeps them. The one place these rules live (every reader uses them).

use super::place::{Check, FirstError};
use crate::fleet::NEVER_SEEN;

pub(super) fn parse_staged(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "" | "false" | "0" | "no" => Ok(false),
        "true" | "1" | "yes" => Ok(true),
        other => Err(format!("staged \"{other}\" is not true or false")),
    }
}

pub(super) fn parse_last_seen(text: &str) -> Result<Option<i64>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<i64>()
        .map(Some)
        .map_err(|_| format!("last_seen \"{text}\" is not a tick number"))
}

/// A tick as the fleet keeps it (an `i32`, [`NEVER_SEEN`] for none: what
/// [`Fleet::push`] accepts), or an error noted for `row`.
#[inline]
pub(super) fn tick(row: usize, t: Option<i64>, errors: &mut FirstError) -> i32 {
    let Some(t) = t else { return NEVER_SEEN };
    match i32::try_from(t) {
        Ok(t) if t != NEVER_SEEN => t,
        _ => {
            errors.note(row, Check::LastSeenRange, || {
                format!("last_seen {t} is out of range")
            });
            NEVER_SEEN
        }
    }
}
