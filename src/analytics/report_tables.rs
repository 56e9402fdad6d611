//! The report's tables of figures: time to reach per version and release, bandwidth
//! per release, and egress per day.

use crate::catalog::{Catalog, ReleaseKind};
use crate::charts::{group_thousands as n, ReportTable};
use crate::engine::TickLog;
use crate::scenario::time::format_duration;

use super::{ReachRow, Summary};

/// Bytes as decimal gigabytes, as the report writes them.
pub(super) fn gb(bytes: u64) -> String {
    format!("{:.2} GB", bytes as f64 / 1e9)
}

/// `bytes` sent over `seconds` as a rate in the largest unit that keeps it at least 1
/// (decimal units, as network links are sold): `4.99 Mbit/s`, `1.20 Gbit/s`.
pub fn bit_rate(bytes: u64, seconds: u64) -> String {
    let bits = bytes as f64 * 8.0 / seconds.max(1) as f64;
    let (value, unit) = [(1e9, "Gbit/s"), (1e6, "Mbit/s"), (1e3, "kbit/s")]
        .into_iter()
        .find(|(scale, _)| bits >= *scale)
        .map_or((bits, "bit/s"), |(scale, unit)| (bits / scale, unit));
    format!("{value:.2} {unit}")
}

/// Time to reach: per version, then per release, the time from when the first device
/// could get it until each share had installed it, and (in brackets) reported it.
pub fn reach_table(summary: &Summary) -> Option<ReportTable> {
    let reach = summary.reach.as_ref()?;
    let tick = summary.tick_seconds;
    let after = |first: u64, t: Option<u64>| {
        t.map_or("not reached".to_string(), |t| {
            format_duration((t - first) * tick)
        })
    };
    let row = |name: String, r: &ReachRow| {
        let mut cells = vec![
            name,
            format_duration(r.first_tick * tick),
            format!("{} / {}", n(r.installed), n(r.can_get)),
        ];
        cells.extend(
            r.installed_at_tick
                .iter()
                .zip(&r.reported_at_tick)
                .map(|(&i, &p)| format!("{} ({})", after(r.first_tick, i), after(r.first_tick, p))),
        );
        cells
    };
    let mut header = vec![
        "Version or release".to_string(),
        "Could first get it".to_string(),
        "Installed at the end".to_string(),
    ];
    header.extend(reach.percents.iter().map(|p| format!("{p} %")));
    let rows: Vec<Vec<String>> = reach
        .versions
        .iter()
        .map(|r| row(r.version.clone(), r))
        .chain(reach.releases.iter().map(|r| {
            let name = r.release.as_deref().unwrap_or_default();
            row(format!("release {name}"), r)
        }))
        .collect();
    (!rows.is_empty()).then(|| ReportTable {
        title: "Time to reach".into(),
        note: "Time from when the first device could get the version (its final version under \
               the catalog of the moment) until that share of the present devices that can get \
               it had installed it, and in brackets had reported it (at their next poll). A \
               release counts the devices of the cohorts it is activated in."
            .into(),
        header,
        rows,
    })
}

/// Bandwidth per release: downloads, bytes, peak egress and what deltas saved.
pub fn release_bandwidth_table(
    catalog: &Catalog,
    series: &TickLog,
    tick_seconds: u64,
) -> Option<ReportTable> {
    let totals = series.release_totals();
    let per_tick = series.bytes_by_release();
    let rows: Vec<Vec<String>> = catalog
        .releases()
        .filter(|(id, _)| totals[id.index()].downloads_started > 0)
        .map(|(id, release)| {
            let t = totals[id.index()];
            let (peak_tick, peak) = super::summary::peak_of(&per_tick[id.index()]);
            let kind = match release.kind {
                ReleaseKind::Full {
                    must_pass_through: true,
                    ..
                } => "must pass through",
                ReleaseKind::Full { .. } => "full",
                ReleaseKind::Delta { .. } => "delta",
            };
            vec![
                catalog.release_name(id),
                kind.to_string(),
                n(t.downloads_started),
                n(t.installs_succeeded),
                gb(t.bytes),
                format!(
                    "{} at {}",
                    gb(peak),
                    format_duration(peak_tick * tick_seconds)
                ),
                bit_rate(peak, tick_seconds),
                gb(t.full_equivalent_bytes.saturating_sub(t.bytes)),
            ]
        })
        .collect();
    (!rows.is_empty()).then(|| ReportTable {
        title: "Bandwidth per release".into(),
        note: "Bytes sent per release, retries and partial downloads included; the peak is \
               its largest egress in one tick (and when), also as a rate."
            .into(),
        header: [
            "Release",
            "Kind",
            "Downloads",
            "Installs",
            "Egress",
            "Peak per tick",
            "Peak rate",
            "Saved against Full",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    })
}

/// Egress per day, with its cost.
pub fn daily_egress_table(summary: &Summary) -> Option<ReportTable> {
    let b = &summary.bandwidth;
    let rows: Vec<Vec<String>> = b
        .bytes_per_day
        .iter()
        .enumerate()
        .map(|(day, &bytes)| {
            let wire = bytes as f64 * b.compression_ratio;
            vec![
                format!("day {}", day + 1),
                gb(bytes),
                bit_rate(bytes, 86_400),
                format!("{:.2}", wire / 1e9 * b.price_per_gb),
            ]
        })
        .collect();
    (b.bytes_total > 0).then(|| ReportTable {
        title: "Egress per day".into(),
        note: "Payload bytes per day from the start of the run, the day's average rate, and \
               the day's cost."
            .into(),
        header: ["Day", "Egress", "Average rate", "Cost"]
            .map(String::from)
            .to_vec(),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::bit_rate;

    #[test]
    fn rates_take_the_unit_that_reads_best() {
        assert_eq!(bit_rate(2_250_000_000, 3600), "5.00 Mbit/s");
        assert_eq!(bit_rate(150_000_000_000, 1), "1200.00 Gbit/s");
        assert_eq!(bit_rate(125, 1), "1.00 kbit/s");
        assert_eq!(bit_rate(1, 8), "1.00 bit/s");
        assert_eq!(bit_rate(0, 0), "0.00 bit/s");
    }
}
