//! Axis scales: "nice" tick positions, the time unit of an x axis, and how numbers read.

use super::{TimeAxis, Unit};

/// Ticks of a value axis that starts at zero.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ValueTicks {
    /// The top of the axis: a whole number of steps, at least the data's maximum.
    pub max: f64,
    /// Tick positions, `0, step, 2·step, …, max`.
    pub ticks: Vec<f64>,
    /// How each tick reads (same unit and precision for all).
    labels: Labeller,
}

impl ValueTicks {
    /// Ticks for data whose largest value is `data_max`, in `unit`.
    pub fn new(data_max: f64, unit: Unit) -> ValueTicks {
        if unit == Unit::Percent {
            // Shares always span the whole 0–100 % range so that charts compare at a glance.
            let ticks = (0..=5).map(|i| f64::from(i) * 20.0).collect();
            return ValueTicks {
                max: 100.0,
                ticks,
                labels: Labeller {
                    unit,
                    divisor: 1.0,
                    suffix: "%",
                    decimals: 0,
                },
            };
        }
        let data_max = if data_max.is_finite() && data_max > 0.0 {
            data_max
        } else {
            1.0
        };
        let mut step = nice_step(data_max / 5.0);
        if unit != Unit::Bytes || data_max >= 1.0 {
            // Devices and bytes are whole numbers: no tick between two integers.
            step = step.max(1.0);
        }
        let n = (data_max / step - 1e-9).ceil().max(1.0) as usize;
        let max = step * n as f64;
        let ticks = (0..=n).map(|i| step * i as f64).collect();
        let (divisor, suffix) = magnitude(max, unit);
        let decimals = decimals_for(step / divisor);
        ValueTicks {
            max,
            ticks,
            labels: Labeller {
                unit,
                divisor,
                suffix,
                decimals,
            },
        }
    }

    /// How tick value `v` reads, e.g. `1.5 GB`, `200k`, `40%`.
    pub fn label(&self, v: f64) -> String {
        self.labels.label(v)
    }
}

#[derive(Clone, Debug, PartialEq)]
struct Labeller {
    unit: Unit,
    divisor: f64,
    suffix: &'static str,
    decimals: usize,
}

impl Labeller {
    fn label(&self, v: f64) -> String {
        if v == 0.0 {
            return if self.unit == Unit::Percent {
                "0%".to_owned()
            } else {
                "0".to_owned()
            };
        }
        let x = v / self.divisor;
        let number = if self.divisor == 1.0 && self.decimals == 0 {
            group_thousands(x.round() as u64)
        } else {
            format!("{x:.*}", self.decimals)
        };
        match (self.unit, self.suffix) {
            (_, "") => number,
            (Unit::Bytes, s) => format!("{number} {s}"),
            (_, s) => format!("{number}{s}"),
        }
    }
}

/// The divisor and suffix that make `max` read best: decimal (SI) units.
fn magnitude(max: f64, unit: Unit) -> (f64, &'static str) {
    match unit {
        Unit::Percent => (1.0, "%"),
        Unit::Bytes => {
            const UNITS: [(f64, &str); 5] = [
                (1e12, "TB"),
                (1e9, "GB"),
                (1e6, "MB"),
                (1e3, "KB"),
                (1.0, "B"),
            ];
            UNITS
                .into_iter()
                .find(|&(d, _)| max >= d)
                .unwrap_or((1.0, "B"))
        }
        Unit::Devices => {
            // Below 10 000 the plain number (with separators) reads best.
            const UNITS: [(f64, &str); 3] = [(1e9, "B"), (1e6, "M"), (1e4, "k")];
            let (d, s) = UNITS
                .into_iter()
                .find(|&(d, _)| max >= d)
                .unwrap_or((1.0, ""));
            // 10k…999k reads in thousands.
            (if d == 1e4 { 1e3 } else { d }, s)
        }
    }
}

/// The fewest decimals (at most 3) that show multiples of `step` exactly.
fn decimals_for(step: f64) -> usize {
    (0..3)
        .find(|&d| {
            let scaled = step * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.abs().max(1.0)
        })
        .unwrap_or(3)
}

/// The "nice" number (1, 2, 2.5 or 5 times a power of ten) nearest above `raw`.
fn nice_step(raw: f64) -> f64 {
    let raw = raw.max(f64::MIN_POSITIVE);
    let pow = 10f64.powf(raw.log10().floor());
    let frac = raw / pow;
    let nice = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .find(|&n| frac <= n + 1e-9)
        .unwrap_or(10.0);
    nice * pow
}

/// `1234567` as `1,234,567`.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A device count in at most about five characters: `950`, `12.3k`, `4.1M`.
pub(crate) fn compact_count(n: u64) -> String {
    let x = n as f64;
    if n < 1_000 {
        n.to_string()
    } else if n < 1_000_000 {
        trim_decimals(x / 1e3, "k")
    } else if n < 1_000_000_000 {
        trim_decimals(x / 1e6, "M")
    } else {
        trim_decimals(x / 1e9, "B")
    }
}

fn trim_decimals(x: f64, suffix: &str) -> String {
    if x < 100.0 {
        format!("{x:.1}{suffix}").replace(".0", "")
    } else {
        format!("{x:.0}{suffix}")
    }
}

/// The x axis in the unit that suits its span: minutes, hours or days since the start.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TimeScale {
    /// Seconds per display unit.
    pub unit_seconds: f64,
    /// The unit's name, plural, for the axis description.
    pub unit_name: &'static str,
    /// The axis end, in display units.
    pub max: f64,
    /// Tick positions, in display units.
    pub ticks: Vec<f64>,
}

impl TimeScale {
    /// The scale for `axis`; sample `i` sits at `i × tick_seconds`.
    pub fn new(axis: &TimeAxis) -> TimeScale {
        let tick = axis.tick_seconds.max(1) as f64;
        let span = axis.ticks.saturating_sub(1).max(1) as f64 * tick;
        let (unit_seconds, unit_name, steps): (f64, &str, &[f64]) = if span <= 3.0 * 3600.0 {
            (60.0, "minutes", &[1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0])
        } else if span <= 72.0 * 3600.0 {
            (3600.0, "hours", &[1.0, 2.0, 3.0, 4.0, 6.0, 12.0, 24.0])
        } else {
            (
                86400.0,
                "days",
                &[1.0, 2.0, 5.0, 7.0, 14.0, 28.0, 56.0, 91.0, 182.0, 364.0],
            )
        };
        let max = span / unit_seconds;
        let step = steps
            .iter()
            .copied()
            .find(|&s| max / s <= 12.0)
            .unwrap_or_else(|| nice_step(max / 10.0));
        let n = (max / step + 1e-9).floor() as usize;
        let ticks = (0..=n).map(|i| step * i as f64).collect();
        TimeScale {
            unit_seconds,
            unit_name,
            max,
            ticks,
        }
    }

    /// How tick `x` (display units) reads: whole numbers, or one decimal when needed.
    pub fn label(&self, x: f64) -> String {
        if (x - x.round()).abs() < 1e-9 {
            format!("{x:.0}")
        } else {
            format!("{x:.1}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ticks_share_one_unit() {
        let t = ValueTicks::new(1.7e9, Unit::Bytes);
        assert_eq!(t.max, 2e9);
        let labels: Vec<String> = t.ticks.iter().map(|&v| t.label(v)).collect();
        assert_eq!(labels, ["0", "0.5 GB", "1.0 GB", "1.5 GB", "2.0 GB"]);
        let t = ValueTicks::new(700.0, Unit::Bytes);
        assert_eq!(t.label(200.0), "200 B");
        let t = ValueTicks::new(4.2e6, Unit::Bytes);
        assert_eq!(t.label(1e6), "1 MB");
    }

    #[test]
    fn device_ticks_are_whole_and_compact() {
        let t = ValueTicks::new(3.0, Unit::Devices);
        assert_eq!(t.ticks, [0.0, 1.0, 2.0, 3.0]);
        let t = ValueTicks::new(7_300.0, Unit::Devices);
        assert_eq!(t.label(2_000.0), "2,000");
        let t = ValueTicks::new(1.2e6, Unit::Devices);
        assert_eq!(t.label(250_000.0), "0.25M");
        let t = ValueTicks::new(0.0, Unit::Devices);
        assert_eq!(t.max, 1.0);
    }

    #[test]
    fn percent_axis_is_always_whole() {
        let t = ValueTicks::new(37.0, Unit::Percent);
        assert_eq!(t.max, 100.0);
        assert_eq!(t.label(40.0), "40%");
    }

    #[test]
    fn time_unit_follows_span() {
        let hours = TimeScale::new(&TimeAxis {
            tick_seconds: 3600,
            ticks: 49,
        });
        assert_eq!((hours.unit_name, hours.max), ("hours", 48.0));
        assert_eq!(hours.ticks.last(), Some(&48.0));
        let days = TimeScale::new(&TimeAxis {
            tick_seconds: 3600,
            ticks: 30 * 24 + 1,
        });
        assert_eq!((days.unit_name, days.max), ("days", 30.0));
        assert!(days.ticks.len() <= 13);
    }

    #[test]
    fn counts_read_compactly() {
        assert_eq!(group_thousands(1_234_567), "1,234,567");
        assert_eq!(compact_count(950), "950");
        assert_eq!(compact_count(12_345), "12.3k");
        assert_eq!(compact_count(4_000_000), "4M");
    }
}
