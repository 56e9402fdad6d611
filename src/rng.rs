//! Every random draw of a simulation, in one place: per-device draws are a pure
//! function of (seed, device, tick, purpose), per-event streams of (seed, event index).
//! Nothing else feeds them, so results do not depend on threads or order (R22).
//!
//! Per device:
//! A counter-based generator rather than a stream: whichever thread simulates a device,
//! and in whatever order, it draws the same numbers (R22), and no generator state is
//! stored per device. The mixer is SplitMix64's finaliser applied to a combination of
//! the inputs, which is plenty for simulation (not for cryptography).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The per-event random stream (staging's random order, R21): (seed, event index) and
/// nothing else, so results do not depend on threads or on later events (R22).
pub fn event_rng(seed: u64, index: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(1 + index as u64);
    rng
}

/// The random stream of ramp step `step` of the rollout policy of event `index` (R35's
/// resizes): apart from every event's stream, which [`event_rng`] numbers `1 + index`.
pub fn ramp_step_rng(seed: u64, index: usize, step: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream((1 << 63) | ((index as u64) << 20) | step as u64);
    rng
}

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
    /// Whether an installed release fails to boot (R36).
    BootFails = 8,
    /// A poll's place in line when downloads are capped (R38).
    Admit = 9,
}

#[inline]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The draws of one run: the seed's share of the mixing is done once, not per draw.
#[derive(Copy, Clone, Debug)]
pub struct Stream {
    seed_mix: u64,
}

impl Stream {
    /// The stream of `seed`.
    pub fn new(seed: u64) -> Stream {
        Stream {
            seed_mix: mix(seed ^ 0x9e37_79b9_7f4a_7c15),
        }
    }

    /// A uniformly distributed `u64` for (device, tick, purpose).
    #[inline]
    pub fn draw(self, device: u32, tick: u64, purpose: Purpose) -> u64 {
        let b = mix(self.seed_mix ^ (u64::from(device) << 8) ^ purpose as u64);
        mix(b ^ tick.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    /// True with the probability `odds` stand for.
    #[inline]
    pub fn hits(self, odds: Odds, device: u32, tick: u64, purpose: Purpose) -> bool {
        odds.0 > 0 && (self.draw(device, tick, purpose) >> 11) < odds.0
    }

    /// A uniform integer in `0..n` (`n > 0`), as [`below`].
    #[inline]
    pub fn below(self, n: u64, device: u32, tick: u64, purpose: Purpose) -> u64 {
        ((u128::from(self.draw(device, tick, purpose)) * u128::from(n)) >> 64) as u64
    }
}

/// A probability as an integer threshold on a draw's top 53 bits, so that a
/// per-poll chance is one integer comparison. [`Stream::hits`] with `Odds::new(p)` is
/// exactly [`chance`] with `p`: a draw's top 53 bits `n` give `unit = n / 2^53`
/// exactly, and for an integer `n`, `n / 2^53 < p` holds iff `n < ceil(p * 2^53)`,
/// a product that scaling by a power of two keeps exact.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Odds(u64);

impl Odds {
    /// The odds of probability `p` (at most 0 or NaN: never; at least 1: always).
    pub fn new(p: f64) -> Odds {
        const SCALE: f64 = (1u64 << 53) as f64;
        if p.is_nan() || p <= 0.0 {
            Odds(0)
        } else if p >= 1.0 {
            Odds(1 << 53)
        } else {
            Odds((p * SCALE).ceil() as u64)
        }
    }
}

/// A uniformly distributed `u64` for (seed, device, tick, purpose).
#[inline]
pub fn draw(seed: u64, device: u32, tick: u64, purpose: Purpose) -> u64 {
    Stream::new(seed).draw(device, tick, purpose)
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
    Stream::new(seed).below(n, device, tick, purpose)
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
    fn odds_hit_exactly_when_chance_does() {
        let mut probabilities = vec![
            0.0,
            -1.0,
            f64::NAN,
            1.0,
            2.0,
            0.5,
            0.92,
            1e-300,
            f64::MIN_POSITIVE,
            1.0 - f64::EPSILON,
        ];
        // Probabilities that land exactly on, and next to, a draw's value.
        for d in 0..200u32 {
            let n = draw(3, d, 9, Purpose::Online) >> 11;
            let p = n as f64 / (1u64 << 53) as f64;
            probabilities.extend([p, f64::from_bits(p.to_bits() + 1), p * 0.999_999]);
        }
        for d in 0..2_000u32 {
            probabilities.push(unit(11, d, 1, Purpose::Jitter));
        }
        let stream = Stream::new(3);
        for &p in &probabilities {
            let odds = Odds::new(p);
            for d in 0..200u32 {
                assert_eq!(
                    stream.hits(odds, d, 9, Purpose::Online),
                    chance(p, 3, d, 9, Purpose::Online),
                    "p = {p:e}, device {d}"
                );
            }
        }
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
