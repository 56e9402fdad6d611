//! Rollout percentages, kept as the exact decimal the user wrote (R19).

use std::fmt;

/// A percentage from 0 to 100 with up to nine decimals, stored as an integer count of
/// 10⁻⁹ percent so that `round_half_up(p × N / 100)` is computed exactly.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percent {
    nanos: u64,
}

const SCALE: u64 = 1_000_000_000;

impl Percent {
    /// Parses a decimal such as `10`, `12.5` or `0.001`. Floats from TOML are given in
    /// Rust's shortest round-trip form, which is the decimal the user wrote.
    pub fn parse(text: &str) -> Result<Percent, String> {
        let bad = || format!("rollout percent {text} is not a number from 0 to 100");
        let (int, frac) = match text.split_once('.') {
            Some((i, f)) => (i, f),
            None => (text, ""),
        };
        if int.is_empty() && frac.is_empty()
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        if frac.len() > 9 {
            return Err(format!("rollout percent {text} has more than 9 decimals"));
        }
        let int: u64 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| bad())?
        };
        if int > 100 {
            return Err(bad());
        }
        let mut frac_nanos = 0u64;
        for (i, b) in frac.bytes().enumerate() {
            frac_nanos += u64::from(b - b'0') * 10u64.pow(8 - i as u32);
        }
        let nanos = int * SCALE + frac_nanos;
        if nanos > 100 * SCALE {
            return Err(bad());
        }
        Ok(Percent { nanos })
    }

    /// Converts a TOML float; see [`Percent::parse`].
    pub fn from_f64(value: f64) -> Result<Percent, String> {
        if !value.is_finite() || value < 0.0 {
            return Err(format!(
                "rollout percent {value} is not a number from 0 to 100"
            ));
        }
        Percent::parse(&format!("{value}"))
    }

    /// A whole percentage.
    pub fn whole(p: u8) -> Percent {
        assert!(p <= 100);
        Percent {
            nanos: u64::from(p) * SCALE,
        }
    }

    /// Whether `part × 100 > p × whole`, exactly (an R37 gate's failure threshold).
    pub fn exceeded_by(self, part: u64, whole: u64) -> bool {
        u128::from(part) * 100 * u128::from(SCALE) > u128::from(self.nanos) * u128::from(whole)
    }

    /// R19: `round_half_up(p × n / 100)`, exactly.
    pub fn count_of(self, n: usize) -> usize {
        let num = u128::from(self.nanos) * n as u128 * 2 + 100 * u128::from(SCALE);
        let den = 200 * u128::from(SCALE);
        (num / den) as usize
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let int = self.nanos / SCALE;
        let frac = self.nanos % SCALE;
        if frac == 0 {
            write!(f, "{int}")
        } else {
            let digits = format!("{frac:09}");
            write!(f, "{int}.{}", digits.trim_end_matches('0'))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r19_round_half_up_is_exact() {
        let p = |s: &str| Percent::parse(s).unwrap();
        assert_eq!(p("10").count_of(1000), 100);
        assert_eq!(p("12.5").count_of(4), 1); // 0.5 rounds up
        assert_eq!(p("12.5").count_of(12), 2); // 1.5 rounds up
        assert_eq!(p("10").count_of(5), 1); // 0.5
        assert_eq!(p("10").count_of(4), 0); // 0.4
        assert_eq!(p("0.3").count_of(500), 2); // 1.5
        assert_eq!(p("33.3").count_of(15), 5); // 4.995
        assert_eq!(p("0").count_of(1000), 0);
        assert_eq!(p("100").count_of(7), 7);
        assert_eq!(p("0.1").count_of(0), 0);
    }

    #[test]
    fn parses_and_displays() {
        for s in ["0", "10", "12.5", "0.001", "100", "99.999999999"] {
            assert_eq!(Percent::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(Percent::from_f64(12.5).unwrap().to_string(), "12.5");
        assert_eq!(Percent::from_f64(0.1).unwrap().to_string(), "0.1");
        for bad in ["-1", "100.5", "101", "abc", "", ".", "1e3"] {
            assert!(Percent::parse(bad).is_err(), "{bad}");
        }
        assert!(Percent::from_f64(f64::NAN).is_err());
        assert!(Percent::from_f64(-0.5).is_err());
    }
}
