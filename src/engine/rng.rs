//! Per-device randomness as a pure function of (seed, device, tick, purpose).
//!
//! A counter-based generator rather than a stream: whichever thread simulates a device,
//! and in whatever order, it draws the same numbers (R22), and no generator state is
//! stored per device. The mixer is SplitMix64's finaliser applied to a combination of
//! the inputs, which is plenty for simulation (not for cryptography).

/// What a draw is for; distinct purposes give independent numbers.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    /// The phase of a device's first poll.
    FirstPoll = 1,
    /// Poll interval jitter.
    Jitter = 2,
    /// Whether the device is online at a poll.
    Online = 3,
    /// Whether a download attempt fails, and where.
    DownloadFails = 4,
    /// Where a failing download stops.
    DownloadFailPoint = 5,
    /// Whether an install fails.
    InstallFails = 6,
    /// Whether the device retires.
    Retires = 7,
}

#[inline]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A uniformly distributed `u64` for (seed, device, tick, purpose).
#[inline]
pub fn draw(seed: u64, device: u32, tick: u64, purpose: Purpose) -> u64 {
    let a = mix(seed ^ 0x9e37_79b9_7f4a_7c15);
    let b = mix(a ^ (u64::from(device) << 8) ^ purpose as u64);
    mix(b ^ tick.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// A uniform float in `[0, 1)`.
#[inline]
pub fn unit(seed: u64, device: u32, tick: u64, purpose: Purpose) -> f64 {
    (draw(seed, device, tick, purpose) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// True with probability `p`.
#[inline]
pub fn chance(p: f64, seed: u64, device: u32, tick: u64, purpose: Purpose) -> bool {
    p > 0.0 && (p >= 1.0 || unit(seed, device, tick, purpose) < p)
}

/// A uniform integer in `0..n` (`n > 0`), without modulo bias worth mentioning for the
/// small ranges used here (Lemire's multiply-shift).
#[inline]
pub fn below(n: u64, seed: u64, device: u32, tick: u64, purpose: Purpose) -> u64 {
    ((u128::from(draw(seed, device, tick, purpose)) * u128::from(n)) >> 64) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r22_pure_function_of_inputs() {
        assert_eq!(
            draw(1, 2, 3, Purpose::Online),
            draw(1, 2, 3, Purpose::Online)
        );
        assert_ne!(
            draw(1, 2, 3, Purpose::Online),
            draw(1, 2, 3, Purpose::Jitter)
        );
        assert_ne!(
            draw(1, 2, 3, Purpose::Online),
            draw(1, 2, 4, Purpose::Online)
        );
        assert_ne!(
            draw(1, 2, 3, Purpose::Online),
            draw(1, 3, 3, Purpose::Online)
        );
        assert_ne!(
            draw(1, 2, 3, Purpose::Online),
            draw(2, 2, 3, Purpose::Online)
        );
    }

    #[test]
    fn roughly_uniform() {
        let n = 100_000u32;
        let hits = (0..n)
            .filter(|&d| chance(0.3, 7, d, 11, Purpose::Online))
            .count() as f64;
        assert!((hits / f64::from(n) - 0.3).abs() < 0.01, "{hits}");
        let mut buckets = [0u32; 10];
        for d in 0..n {
            buckets[below(10, 7, d, 0, Purpose::FirstPoll) as usize] += 1;
        }
        assert!(
            buckets.iter().all(|&b| (9_000..11_000).contains(&b)),
            "{buckets:?}"
        );
    }
}
