//! R39 maintenance windows: downloads start only inside a daily window of local time.

/// A daily window of local time, `[start, end)` in seconds after local midnight; a
/// window whose end is before its start wraps past midnight (`22:00`–`04:00`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Window {
    /// Seconds after local midnight at which the window opens.
    pub start: u32,
    /// Seconds after local midnight at which it closes.
    pub end: u32,
    /// Local time minus UTC, in seconds.
    pub utc_offset: i32,
}

const DAY: i64 = 86_400;

impl Window {
    /// Whether a download may start in tick `t`: the tick's first instant, in local
    /// time, is inside the window (tick 0 starts at 00:00 UTC, R39).
    pub fn open_at(&self, t: u64, tick_seconds: u64) -> bool {
        let utc = (i128::from(t) * i128::from(tick_seconds)).rem_euclid(i128::from(DAY)) as i64;
        let local = (utc + i64::from(self.utc_offset)).rem_euclid(DAY) as u32;
        if self.start < self.end {
            (self.start..self.end).contains(&local)
        } else {
            local >= self.start || local < self.end
        }
    }
}

/// Parses a time of day `HH:MM` (`24:00` allowed as an end) into seconds.
pub fn parse_time_of_day(text: &str, is_end: bool) -> Result<u32, String> {
    let bad = || format!("\"{text}\" is not a time of day HH:MM (00:00 to 23:59)");
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 || !(h.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m > 59 || h > 24 || (h == 24 && !(is_end && m == 0)) {
        return Err(bad());
    }
    Ok(h * 3600 + m * 60)
}

/// Parses a UTC offset `+HH:MM` or `-HH:MM` (at most 14 hours) into seconds.
pub fn parse_utc_offset(text: &str) -> Result<i32, String> {
    let bad = || format!("\"{text}\" is not a UTC offset such as \"+01:00\" or \"-05:30\"");
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'+') => (1, &text[1..]),
        Some(b'-') => (-1, &text[1..]),
        _ => return Err(bad()),
    };
    let secs = parse_time_of_day(rest, false).map_err(|_| bad())?;
    if secs > 14 * 3600 {
        return Err(bad());
    }
    Ok(sign * secs as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r39_times_and_offsets_parse() {
        assert_eq!(parse_time_of_day("02:00", false), Ok(7200));
        assert_eq!(parse_time_of_day("24:00", true), Ok(86_400));
        for bad in ["24:00", "2:00", "02:60", "25:00", "0200", "ab:cd", ""] {
            assert!(parse_time_of_day(bad, false).is_err(), "{bad}");
        }
        assert_eq!(parse_utc_offset("+01:00"), Ok(3600));
        assert_eq!(parse_utc_offset("-05:30"), Ok(-19_800));
        for bad in ["01:00", "+1", "+15:00", "+01:00x"] {
            assert!(parse_utc_offset(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn r39_windows_open_in_local_time_and_wrap_midnight() {
        // 02:00-05:00 at UTC+01:00: open at 01:00..04:00 UTC.
        let w = Window {
            start: 7200,
            end: 18_000,
            utc_offset: 3600,
        };
        let open: Vec<u64> = (0..48).filter(|&t| w.open_at(t, 3600)).collect();
        assert_eq!(open, vec![1, 2, 3, 25, 26, 27]);
        let night = Window {
            start: 22 * 3600,
            end: 2 * 3600,
            utc_offset: 0,
        };
        let open: Vec<u64> = (0..24).filter(|&t| night.open_at(t, 3600)).collect();
        assert_eq!(open, vec![0, 1, 22, 23]);
    }
}
