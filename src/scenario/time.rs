//! Times in scenario files and on the command line: tick numbers or duration strings.

/// Parses a duration string such as `36h`, `7d`, `90m`, `1d12h` or `1w` into seconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "\"{text}\" is not a duration (use a number of ticks, or parts like \"36h\", \"7d\", \"1d12h\" with units s, m, h, d, w)"
        )
    };
    let s = text.trim();
    if s.is_empty() {
        return Err(bad());
    }
    let mut total: u64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = match &rest[..unit_len] {
            "s" | "sec" => 1,
            "m" | "min" => 60,
            "h" => 3600,
            "d" => 86_400,
            "w" => 7 * 86_400,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total = number
            .checked_mul(unit)
            .and_then(|x| total.checked_add(x))
            .ok_or_else(bad)?;
    }
    Ok(total)
}

/// Converts a duration string to a whole number of ticks of `tick_seconds`.
pub fn duration_to_ticks(text: &str, tick_seconds: u64) -> Result<u64, String> {
    let seconds = parse_duration(text)?;
    if seconds % tick_seconds != 0 {
        return Err(format!(
            "\"{text}\" is not a whole number of ticks (one tick is {})",
            format_duration(tick_seconds)
        ));
    }
    Ok(seconds / tick_seconds)
}

/// A time given on the command line: a tick number or a duration string.
pub fn parse_time_arg(text: &str, tick_seconds: u64) -> Result<u64, String> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t
            .parse()
            .map_err(|_| format!("\"{text}\" is too large a tick number"));
    }
    duration_to_ticks(t, tick_seconds)
}

/// Renders seconds in the one canonical form every output uses (time labels, summaries,
/// messages): days, hours, minutes and seconds, largest first, zero parts left out, no
/// weeks (`0s`, `90s` → `1m30s`, `36h` → `1d12h`, `1w` → `7d`). It parses back to the same
/// seconds, and a label a user writes in days (`"3d"`, `"7d"`) comes back as written.
pub fn format_duration(seconds: u64) -> String {
    if seconds == 0 {
        return "0s".to_string();
    }
    let mut rest = seconds;
    let mut s = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if rest >= size {
            s.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("36h"), Ok(36 * 3600));
        assert_eq!(parse_duration("7d"), Ok(7 * 86_400));
        assert_eq!(parse_duration("1d12h"), Ok(36 * 3600));
        assert_eq!(parse_duration("90m"), Ok(5400));
        assert_eq!(parse_duration("2w"), Ok(14 * 86_400));
        for bad in ["", "h", "3x", "-1h", "1.5h", "36"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ticks() {
        assert_eq!(parse_time_arg("36", 3600), Ok(36));
        assert_eq!(parse_time_arg("36h", 3600), Ok(36));
        assert_eq!(parse_time_arg("3d", 86_400), Ok(3));
        assert!(parse_time_arg("30m", 3600).is_err());
        assert_eq!(format_duration(3600), "1h");
        assert_eq!(format_duration(5400), "1h30m");
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(36 * 3600), "1d12h");
        assert_eq!(format_duration(7 * 86_400), "7d");
        assert_eq!(format_duration(30 * 86_400), "30d");
        assert_eq!(format_duration(90), "1m30s");
        for s in [
            1,
            59,
            60,
            3599,
            3600,
            86_399,
            86_400,
            7 * 86_400 + 61,
            u64::MAX / 2,
        ] {
            assert_eq!(parse_duration(&format_duration(s)), Ok(s), "{s}");
        }
    }
}
