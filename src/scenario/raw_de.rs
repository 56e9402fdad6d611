//! Deserializers for the scenario file's two either-or values, [`RawTime`] and
//! [`RawNumber`]. serde's `untagged` would do the same with a message about its
//! internals ("data did not match any variant of untagged enum RawTime"); these say what
//! the value may be.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use super::raw::{RawNumber, RawTime};

/// What a time may be, for messages.
pub const TIME_EXPECTED: &str =
    "a time: a tick number (36) or a duration string (\"36h\", \"7d\", \"1d12h\")";

struct TimeVisitor;

impl Visitor<'_> for TimeVisitor {
    type Value = RawTime;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(TIME_EXPECTED)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawTime, E> {
        Ok(RawTime::Ticks(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawTime, E> {
        i64::try_from(v)
            .map(RawTime::Ticks)
            .map_err(|_| E::custom(format!("{v} is too large a tick number")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawTime, E> {
        Ok(RawTime::Text(v.to_string()))
    }
}

impl<'de> Deserialize<'de> for RawTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RawTime, D::Error> {
        d.deserialize_any(TimeVisitor)
    }
}

struct NumberVisitor;

impl Visitor<'_> for NumberVisitor {
    type Value = RawNumber;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number (an integer like 5, or a decimal like 0.5)")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawNumber, E> {
        Ok(RawNumber::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawNumber, E> {
        Ok(i64::try_from(v).map_or(RawNumber::Float(v as f64), RawNumber::Int))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawNumber, E> {
        Ok(RawNumber::Float(v))
    }
}

impl<'de> Deserialize<'de> for RawNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RawNumber, D::Error> {
        d.deserialize_any(NumberVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct T {
        #[allow(dead_code)]
        at: RawTime,
    }

    #[test]
    fn a_wrong_time_says_what_a_time_may_be() {
        let err = toml::from_str::<T>("at = 1.5").unwrap_err();
        assert_eq!(
            err.message(),
            "invalid type: floating point `1.5`, expected a time: a tick number (36) or a duration string (\"36h\", \"7d\", \"1d12h\")"
        );
        assert!(matches!(
            toml::from_str::<T>("at = 7").unwrap().at,
            RawTime::Ticks(7)
        ));
        assert!(matches!(
            toml::from_str::<T>("at = \"7d\"").unwrap().at,
            RawTime::Text(_)
        ));
    }
}
