//! TOML parse and type errors made readable: the `toml` crate's message, completed where
//! it says too little (an empty message for a control character), points at serde's
//! internals (a table implied by a dotted header), or could say more (a misspelt key
//! gets a "did you mean").

use std::ops::Range;

/// The message for a `toml` error at `span` of `text`.
pub fn message(raw: &str, text: &str, span: Option<Range<usize>>) -> String {
    let raw = raw.trim_end();
    if raw.is_empty() {
        return empty_message(text, span);
    }
    if raw.contains("expected a borrowed string") {
        return "a table given only by a dotted header or key (`[[fleet.groups]]`, `[[fleet.arrivals]]`, `behaviour.poll_interval = …`) needs its own header: add `[fleet]` or `[behaviour]` above it".to_string();
    }
    if let Some(hint) = unknown_field_hint(raw) {
        return format!("{raw}{hint}");
    }
    raw.to_string()
}

/// The parser gave no message: name the character it stopped at.
fn empty_message(text: &str, span: Option<Range<usize>>) -> String {
    let c = span
        .and_then(|s| text.get(s.start..))
        .and_then(|t| t.chars().next());
    match c {
        Some(c) if c.is_control() && c != '\n' && c != '\t' => format!(
            "control character U+{:04X} is not allowed in TOML (not even in a comment or a string; only tab is)",
            c as u32
        ),
        Some(c) => format!("invalid TOML at {c:?}"),
        None => "invalid TOML".to_string(),
    }
}

/// " (did you mean `x`?)" for serde's "unknown field `a`, expected one of `b`, `c`".
fn unknown_field_hint(raw: &str) -> Option<String> {
    let rest = raw.strip_prefix("unknown field `")?;
    let (name, rest) = rest.split_once('`')?;
    let expected = rest
        .strip_prefix(", expected one of ")
        .or_else(|| rest.strip_prefix(", expected "))?;
    let fields: Vec<&str> = expected.split(", ").map(|f| f.trim_matches('`')).collect();
    let best = fields
        .iter()
        .map(|f| (strsim::jaro_winkler(name, f), *f))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))?;
    Some(format!(" (did you mean `{}`?)", best.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_key_gets_a_suggestion() {
        assert_eq!(
            message(
                "unknown field `pol_interval`, expected one of `name`, `poll_interval`, `poll_jitter`\n",
                "",
                None
            ),
            "unknown field `pol_interval`, expected one of `name`, `poll_interval`, `poll_jitter` (did you mean `poll_interval`?)"
        );
        let far = "unknown field `zzz`, expected one of `name`, `poll_interval`";
        assert_eq!(message(far, "", None), far);
    }

    #[test]
    fn an_empty_message_names_the_character() {
        assert_eq!(
            message("", "# a\u{7}b", Some(3..4)),
            "control character U+0007 is not allowed in TOML (not even in a comment or a string; only tab is)"
        );
        assert_eq!(message("", "", None), "invalid TOML");
    }
}
