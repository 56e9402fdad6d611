//! The device behaviour model: how often devices poll, whether they are online, how fast
//! they download, how often downloads and installs fail, and when they retire.

use crate::engine::rng::Odds;

/// One behaviour profile (a `[behaviour]` or `[[profiles]]` table).
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    /// Its name; the `[behaviour]` table is `default`.
    pub name: String,
    /// Ticks between polls (at least 1).
    pub poll_interval: u64,
    /// Each interval is drawn uniformly from `poll_interval ± poll_jitter` ticks.
    pub poll_jitter: u64,
    /// Probability that a device is online at a poll; offline polls are missed.
    pub online_probability: f64,
    /// Bytes a device downloads per tick; 0 means unlimited (a download finishes in the
    /// tick it starts).
    pub link_bytes_per_tick: u64,
    /// Probability that a download attempt fails part-way.
    pub download_failure_probability: f64,
    /// After a failed download, resume from the bytes fetched (byte-range requests) or
    /// restart from zero.
    pub resume_downloads: bool,
    /// Probability that installing a downloaded payload fails (a release may override).
    pub install_failure_probability: f64,
    /// Probability that a device retires during one day.
    pub retirement_per_day: f64,
}

impl Profile {
    /// The profile used when a scenario declares `[behaviour]` without fields.
    pub fn standard(tick_seconds: u64) -> Profile {
        let day = (86_400 / tick_seconds).max(1);
        Profile {
            name: "default".to_string(),
            poll_interval: day,
            poll_jitter: 0,
            online_probability: 1.0,
            link_bytes_per_tick: 0,
            download_failure_probability: 0.0,
            resume_downloads: true,
            install_failure_probability: 0.0,
            retirement_per_day: 0.0,
        }
    }
}

/// Every profile of a scenario plus per-release install failure probabilities.
#[derive(Clone, Debug, PartialEq)]
pub struct Behaviour {
    /// Profiles by index; index 0 is the default profile.
    pub profiles: Vec<Profile>,
    /// Per release (by release id): an install failure probability that replaces the
    /// profile's, to model a bad release.
    pub release_install_failure: Vec<Option<f64>>,
    /// Seconds per tick (to turn daily rates into per-tick ones).
    pub tick_seconds: u64,
    /// Per profile: its probabilities as integer odds, one comparison per draw, and
    /// the daily retirement rate compounded over one poll interval (computed once here:
    /// `powf` per poll would dominate a tick).
    odds: Vec<ProfileOdds>,
    /// Per release: `release_install_failure` as odds.
    release_install_odds: Vec<Option<Odds>>,
}

/// A profile's per-poll probabilities as [`Odds`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ProfileOdds {
    /// Retiring between two polls.
    pub retire: Odds,
    /// Being online at a poll.
    pub online: Odds,
    /// A download attempt failing.
    pub download_failure: Odds,
    /// An install failing (unless the release overrides it).
    pub install_failure: Odds,
}

impl Behaviour {
    /// A behaviour model from its profiles (index 0 is the default).
    pub fn new(
        profiles: Vec<Profile>,
        release_install_failure: Vec<Option<f64>>,
        tick_seconds: u64,
    ) -> Behaviour {
        let retire_per_poll = profiles
            .iter()
            .map(|p| {
                let days = (p.poll_interval * tick_seconds) as f64 / 86_400.0;
                1.0 - (1.0 - p.retirement_per_day).powf(days)
            })
            .collect::<Vec<f64>>();
        let odds = profiles
            .iter()
            .zip(&retire_per_poll)
            .map(|(p, &retire)| ProfileOdds {
                retire: Odds::new(retire),
                online: Odds::new(p.online_probability),
                download_failure: Odds::new(p.download_failure_probability),
                install_failure: Odds::new(p.install_failure_probability),
            })
            .collect();
        let release_install_odds = release_install_failure
            .iter()
            .map(|p| p.map(Odds::new))
            .collect();
        Behaviour {
            profiles,
            release_install_failure,
            tick_seconds,
            odds,
            release_install_odds,
        }
    }

    /// Profile `p`'s probabilities as odds.
    #[inline]
    pub fn odds(&self, p: u8) -> &ProfileOdds {
        &self.odds[p as usize]
    }

    /// The odds that installing `release` fails on a device of profile `p`.
    #[inline]
    pub fn install_failure_odds(&self, p: u8, release: crate::ids::ReleaseId) -> Odds {
        self.release_install_odds
            .get(release.index())
            .copied()
            .flatten()
            .unwrap_or(self.odds[p as usize].install_failure)
    }

    /// Finds a profile by name.
    pub fn profile_id(&self, name: &str) -> Option<u8> {
        self.profiles
            .iter()
            .position(|p| p.name == name)
            .map(|i| i as u8)
    }
}
