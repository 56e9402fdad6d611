//! Which release a device gets (spec §4, R9–R18).
//!
//! [`reference`](mod@reference) is the plain resolver that reads like the spec, rule by rule, and
//! records why it decided what it did. Faster paths elsewhere are proven equal to it.

pub mod fast;
pub mod reference;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
mod trail;
pub mod variant;

pub use reference::{effective_cohort, resolve};
pub use trail::{NoTrail, Skip, Step, Trail};
pub use variant::Variant;

use std::fmt;
use std::str::FromStr;

use crate::ids::ReleaseId;

/// The rule that produced an answer; names are part of the output contract (spec §9).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// R18: no update.
    None,
    /// R12: the device's release override.
    Override,
    /// R13: a Delta release from the current version.
    Delta,
    /// R14: the lowest applicable must-pass-through release above the current version.
    MustPassThrough,
    /// R15 (or R17): a Full release.
    Full,
}

impl Rule {
    /// Every rule, in output sort order.
    pub const ALL: [Rule; 5] = [
        Rule::None,
        Rule::Override,
        Rule::Delta,
        Rule::MustPassThrough,
        Rule::Full,
    ];

    /// The contract name (`none`, `override`, `delta`, `must_pass_through`, `full`).
    pub fn name(self) -> &'static str {
        match self {
            Rule::None => "none",
            Rule::Override => "override",
            Rule::Delta => "delta",
            Rule::MustPassThrough => "must_pass_through",
            Rule::Full => "full",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Rule {
    type Err = String;
    fn from_str(s: &str) -> Result<Rule, String> {
        Rule::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| format!("unknown rule \"{s}\""))
    }
}

/// The resolver's answer for one device.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Decision {
    /// Which rule decided.
    pub rule: Rule,
    /// The release to install; `None` exactly when `rule` is [`Rule::None`].
    pub release: Option<ReleaseId>,
}

impl Decision {
    /// No update (R18).
    pub const NONE: Decision = Decision {
        rule: Rule::None,
        release: None,
    };

    /// An update to `release` by `rule`.
    pub fn update(rule: Rule, release: ReleaseId) -> Decision {
        debug_assert!(rule != Rule::None);
        Decision {
            rule,
            release: Some(release),
        }
    }
}
