//! The device behaviour model: how often devices poll, whether they are online, how fast
//! they download, how often downloads and installs fail, and when they retire.

use crate::ids::{HardwareId, ReleaseId};
use crate::rng::Odds;

/// A release's failure probability (R36): one for every hardware version, or one per
/// hardware version (a hardware version not listed uses the default: the profile's
/// install failure probability, or no boot failure).
#[derive(Clone, Debug, PartialEq)]
pub enum FailureProbability {
    /// The same for every hardware version.
    All(f64),
    /// Per hardware version.
    PerHardware(Vec<(HardwareId, f64)>),
}

/// A release's health (R36): what replaces the profile's install failure
/// probability, and how often an install fails to boot and rolls back.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReleaseHealth {
    /// `install_failure_probability`.
    pub install_failure: Option<FailureProbability>,
    /// `boot_failure_probability`.
    pub boot_failure: Option<FailureProbability>,
}

/// A [`FailureProbability`] as odds, per hardware id.
#[derive(Clone, Debug, PartialEq)]
enum OddsBy {
    Unset,
    All(Odds),
    PerHardware(Vec<Option<Odds>>),
}

impl OddsBy {
    fn of(p: Option<&FailureProbability>) -> OddsBy {
        match p {
            None => OddsBy::Unset,
            Some(FailureProbability::All(p)) => OddsBy::All(Odds::new(*p)),
            Some(FailureProbability::PerHardware(v)) => {
                let n = v.iter().map(|(h, _)| h.index() + 1).max().unwrap_or(0);
                let mut out = vec![None; n];
                for &(h, p) in v {
                    out[h.index()] = Some(Odds::new(p));
                }
                OddsBy::PerHardware(out)
            }
        }
    }

    #[inline]
    fn get(&self, hardware: HardwareId) -> Option<Odds> {
        match self {
            OddsBy::Unset => None,
            OddsBy::All(o) => Some(*o),
            OddsBy::PerHardware(v) => v.get(hardware.index()).copied().flatten(),
        }
    }
}

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
    /// R39: downloads start only inside this daily window of local time.
    pub update_window: Option<crate::policy::Window>,
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
            update_window: None,
        }
    }
}

/// Every profile of a scenario plus per-release failure probabilities.
#[derive(Clone, Debug, PartialEq)]
pub struct Behaviour {
    /// Profiles by index; index 0 is the default profile.
    pub profiles: Vec<Profile>,
    /// Per release (by release id): failure probabilities that model a bad release
    /// (R36).
    pub release_health: Vec<ReleaseHealth>,
    /// Seconds per tick (to turn daily rates into per-tick ones).
    pub tick_seconds: u64,
    /// Per profile: its probabilities as integer odds, one comparison per draw, and
    /// the daily retirement rate compounded over one poll interval (computed once here:
    /// `powf` per poll would dominate a tick).
    odds: Vec<ProfileOdds>,
    /// Per release: `release_health` as odds (install, boot).
    release_odds: Vec<(OddsBy, OddsBy)>,
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
        release_health: Vec<ReleaseHealth>,
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
        let release_odds = release_health
            .iter()
            .map(|h| {
                (
                    OddsBy::of(h.install_failure.as_ref()),
                    OddsBy::of(h.boot_failure.as_ref()),
                )
            })
            .collect();
        Behaviour {
            profiles,
            release_health,
            tick_seconds,
            odds,
            release_odds,
        }
    }

    /// Profile `p`'s probabilities as odds.
    #[inline]
    pub fn odds(&self, p: u8) -> &ProfileOdds {
        &self.odds[p as usize]
    }

    /// The odds that installing `release` fails on a device of profile `p` and
    /// hardware version `hardware`.
    #[inline]
    pub fn install_failure_odds(&self, p: u8, release: ReleaseId, hardware: HardwareId) -> Odds {
        self.release_odds
            .get(release.index())
            .and_then(|o| o.0.get(hardware))
            .unwrap_or(self.odds[p as usize].install_failure)
    }

    /// The odds that `release`, installed on hardware version `hardware`, fails to boot
    /// and rolls back (R36).
    #[inline]
    pub fn boot_failure_odds(&self, release: ReleaseId, hardware: HardwareId) -> Odds {
        self.release_odds
            .get(release.index())
            .and_then(|o| o.1.get(hardware))
            .unwrap_or(Odds::new(0.0))
    }

    /// Whether some profile has an R39 update window.
    pub fn has_windows(&self) -> bool {
        self.profiles.iter().any(|p| p.update_window.is_some())
    }

    /// Finds a profile by name.
    pub fn profile_id(&self, name: &str) -> Option<u8> {
        self.profiles
            .iter()
            .position(|p| p.name == name)
            .map(|i| i as u8)
    }
}
