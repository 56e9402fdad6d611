//! Resolver variants (R32): documented changes of R12–R15 that a platform team may run
//! on its update server, selected by a scenario's `[resolver]` table or by
//! `otasim diff --variant KEY=VALUE`. The default is the rules as written.

use std::fmt;

use super::Rule;

/// The rules R13–R15 may be reordered among, by their contract names.
const ORDERABLE: [Rule; 3] = [Rule::Delta, Rule::MustPassThrough, Rule::Full];

/// Which variant of R12–R15 the resolver follows.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Variant {
    /// After R12, the order in which R13 (`delta`), R14 (`must_pass_through`) and R15
    /// (`full`) are tried; the first that gives a release wins.
    pub precedence: [Rule; 3],
    /// When true, a device whose override has no payload for its hardware version is
    /// resolved as if it had no override (a device already on its override's version
    /// still gets no update).
    pub override_fallback: bool,
}

impl Default for Variant {
    fn default() -> Variant {
        Variant::DEFAULT
    }
}

impl Variant {
    /// R12–R15 as written.
    pub const DEFAULT: Variant = Variant {
        precedence: ORDERABLE,
        override_fallback: false,
    };

    /// Whether this is the default (the rules as written).
    pub fn is_default(&self) -> bool {
        *self == Variant::DEFAULT
    }

    /// Parses a precedence: each of `delta`, `must_pass_through`, `full` exactly once.
    pub fn parse_precedence<S: AsRef<str>>(names: &[S]) -> Result<[Rule; 3], String> {
        let mut out: Vec<Rule> = Vec::with_capacity(3);
        for name in names {
            let name = name.as_ref();
            let rule = ORDERABLE
                .into_iter()
                .find(|r| r.name() == name)
                .ok_or_else(|| {
                    format!(
                        "unknown rule \"{name}\" (expected delta, must_pass_through and full, each once)"
                    )
                })?;
            if out.contains(&rule) {
                return Err(format!("rule \"{name}\" is listed twice"));
            }
            out.push(rule);
        }
        if let Some(missing) = ORDERABLE.into_iter().find(|r| !out.contains(r)) {
            return Err(format!(
                "rule \"{missing}\" is missing (expected delta, must_pass_through and full, each once)"
            ));
        }
        Ok([out[0], out[1], out[2]])
    }

    /// Parses a boolean the way `--variant override_fallback=…` writes it.
    pub fn parse_bool(value: &str) -> Result<bool, String> {
        match value {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!("\"{value}\" is not true or false")),
        }
    }

    /// Applies one `KEY=VALUE` setting (`--variant`): `precedence=a,b,c` or
    /// `override_fallback=true|false`.
    pub fn set(&mut self, setting: &str) -> Result<(), String> {
        let Some((key, value)) = setting.split_once('=') else {
            return Err(format!(
                "\"{setting}\" is not KEY=VALUE (keys: precedence, override_fallback)"
            ));
        };
        match key {
            "precedence" => {
                let names: Vec<&str> = value.split(',').map(str::trim).collect();
                self.precedence = Variant::parse_precedence(&names)?;
            }
            "override_fallback" => self.override_fallback = Variant::parse_bool(value)?,
            _ => {
                return Err(format!(
                    "unknown key \"{key}\" (keys: precedence, override_fallback)"
                ))
            }
        }
        Ok(())
    }
}

impl fmt::Display for Variant {
    /// `precedence = delta, must_pass_through, full; override_fallback = false`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c] = self.precedence;
        write!(
            f,
            "precedence = {a}, {b}, {c}; override_fallback = {}",
            self.override_fallback
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r32_default_is_the_rules_as_written() {
        let v = Variant::default();
        assert!(v.is_default());
        assert_eq!(
            v.to_string(),
            "precedence = delta, must_pass_through, full; override_fallback = false"
        );
    }

    #[test]
    fn r32_precedence_needs_each_rule_once() {
        assert_eq!(
            Variant::parse_precedence(&["full", "delta", "must_pass_through"]),
            Ok([Rule::Full, Rule::Delta, Rule::MustPassThrough])
        );
        assert_eq!(
            Variant::parse_precedence(&["full", "delta", "override"]),
            Err(
                "unknown rule \"override\" (expected delta, must_pass_through and full, each once)"
                    .into()
            )
        );
        assert_eq!(
            Variant::parse_precedence(&["full", "full", "delta"]),
            Err("rule \"full\" is listed twice".into())
        );
        assert_eq!(
            Variant::parse_precedence(&["full", "delta"]),
            Err("rule \"must_pass_through\" is missing (expected delta, must_pass_through and full, each once)".into())
        );
    }

    #[test]
    fn r32_settings_apply_one_key_each() {
        let mut v = Variant::default();
        v.set("precedence=must_pass_through,delta,full").unwrap();
        v.set("override_fallback=true").unwrap();
        assert_eq!(
            v,
            Variant {
                precedence: [Rule::MustPassThrough, Rule::Delta, Rule::Full],
                override_fallback: true
            }
        );
        assert_eq!(
            v.set("fallback=true"),
            Err("unknown key \"fallback\" (keys: precedence, override_fallback)".into())
        );
        assert_eq!(
            v.set("override_fallback=yes"),
            Err("\"yes\" is not true or false".into())
        );
        assert_eq!(
            v.set("precedence"),
            Err("\"precedence\" is not KEY=VALUE (keys: precedence, override_fallback)".into())
        );
    }
}
