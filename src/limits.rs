//! Hard limits on what an input may ask for. Each is far above any real scenario and
//! within what the machine otasim is built for (a few cores, tens of GB) can honour, so
//! that a number typed by mistake (`poll_interval = "999999999999w"`, `--devices
//! 18446744073709551615`) is an `error:` at load, naming where it was written and the
//! limit, instead of an allocation that aborts the process or a run that never ends.
//! `validate` loads exactly as the other commands do, so it rejects what `run` could not
//! do. docs/semantics.md ("Limits") lists them for users.

/// Devices in a scenario: explicit, imported, synthetic and arriving ones together.
/// A synthetic device costs about 85 bytes at the peak of a run (fleet columns, hot
/// word, calendar entry, series; its id is computed, not stored) and an imported one
/// about 40 more for its stored id and index, so this fleet fits a 24 GB machine.
pub const MAX_DEVICES: u64 = 100_000_000;

/// Ticks a scenario may simulate (`duration`, `--at` with a behaviour model) and the
/// largest time that sizes work (`poll_interval`, `poll_jitter`, arrival `start` and
/// `end`). One million hourly ticks is 114 years; per-tick series are kept for every
/// tick of a run.
pub const MAX_TICKS: u64 = 1_000_000;

/// Seconds in one tick (`tick`): 52 weeks. A tick is a clock step, not a horizon, and
/// this keeps every product of ticks and seconds far inside 64 bits.
pub const MAX_TICK_SECONDS: u64 = 52 * 7 * 86_400;

/// Worker threads for `run --threads`: more than any machine otasim targets, and few
/// enough that starting them is instant.
pub const MAX_THREADS: usize = 256;

/// Bytes of a scenario file. Explicit `[[devices]]` take about 150 bytes each, so this
/// holds about 400,000 of them; bigger fleets belong in a fleet table.
pub const MAX_SCENARIO_BYTES: u64 = 64 << 20;

/// Version-matrix snapshots in one run (the scenario's `snapshots`, `--snapshot-every`
/// and the end); each one walks the whole fleet.
pub const MAX_SNAPSHOTS: usize = 10_000;

/// Longest id (in bytes) for which an unknown device gets a "did you mean" suggestion.
/// Longer ones cannot be a typo of a real id worth suggesting, and comparing them costs
/// time proportional to their length for every candidate.
pub const MAX_SUGGEST_ID_BYTES: usize = 256;

/// Candidates compared for a "did you mean" suggestion of a device id: beyond this the
/// suggestion is skipped, so an unknown id costs no pass over a 10M-device fleet.
pub const MAX_SUGGEST_CANDIDATES: usize = 100_000;

/// `what` (a value as written) is over `limit`: the message every limit check uses.
pub fn over(what: impl std::fmt::Display, limit: impl std::fmt::Display) -> String {
    format!("{what} (limit {limit})")
}

/// Checks a count of devices against [`MAX_DEVICES`].
pub fn check_devices(what: &str, n: u64) -> Result<(), String> {
    if n > MAX_DEVICES {
        return Err(over(
            format!("{what}: {n} devices is too many"),
            MAX_DEVICES,
        ));
    }
    Ok(())
}

/// Checks a number of ticks against [`MAX_TICKS`].
pub fn check_ticks(what: &str, ticks: u64) -> Result<(), String> {
    if ticks > MAX_TICKS {
        return Err(over(
            format!("{what}: {ticks} ticks is longer than otasim simulates"),
            MAX_TICKS,
        ));
    }
    Ok(())
}

/// A "did you mean" hint for an unknown device id, computed only when bounded by
/// [`MAX_SUGGEST_ID_BYTES`] and [`MAX_SUGGEST_CANDIDATES`] (else empty).
/// `count` is how many ids `ids` yields.
pub fn suggest_device(
    id: &str,
    count: usize,
    ids: impl IntoIterator<Item = impl AsRef<str>>,
) -> String {
    if id.len() > MAX_SUGGEST_ID_BYTES || count > MAX_SUGGEST_CANDIDATES {
        return String::new();
    }
    // Synthetic ids are computed (`fleet/ids.rs`): at most the bounded candidates.
    let ids: Vec<String> = ids.into_iter().map(|i| i.as_ref().to_string()).collect();
    crate::catalog::did_you_mean(id, ids.iter().map(String::as_str))
}

/// An id quoted for a message: whole, or its first 64 characters and its length when
/// it is longer than [`MAX_SUGGEST_ID_BYTES`] (a 10 KB id is not worth echoing).
pub fn quote_id(id: &str) -> String {
    if id.len() <= MAX_SUGGEST_ID_BYTES {
        return format!("\"{id}\"");
    }
    let head: String = id.chars().take(64).collect();
    format!("\"{head}…\" ({} bytes)", id.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_name_themselves() {
        assert_eq!(check_devices("x", MAX_DEVICES), Ok(()));
        assert_eq!(
            check_devices("fleet: devices", MAX_DEVICES + 1).unwrap_err(),
            "fleet: devices: 100000001 devices is too many (limit 100000000)"
        );
        assert_eq!(
            check_ticks("duration", MAX_TICKS + 1).unwrap_err(),
            "duration: 1000001 ticks is longer than otasim simulates (limit 1000000)"
        );
    }

    #[test]
    fn suggestions_are_bounded() {
        let ids = ["SN-1", "XY-9"];
        assert_eq!(suggest_device("SN-3", 2, ids), " (did you mean \"SN-1\"?)");
        let long = "S".repeat(MAX_SUGGEST_ID_BYTES + 1);
        assert_eq!(suggest_device(&long, 2, ids), "");
    }
}
