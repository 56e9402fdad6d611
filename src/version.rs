//! Software versions and their ordering (spec R1, R2).
//!
//! A [`Version`] keeps the exact string a device or release named, because equality in the
//! resolver is exact (build metadata included), while ordering uses SemVer precedence,
//! under which `1.0.0+a` and `1.0.0+b` are neither greater nor smaller than each other.

use std::cmp::Ordering;
use std::fmt;

/// A parsed software version of one software type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Version {
    semver: semver::Version,
}

/// Why a version string was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// Not a SemVer 2.0 version at all (R1).
    #[error("version \"{text}\" is not a valid SemVer 2.0 version ({reason})")]
    Invalid {
        /// The rejected string.
        text: String,
        /// What the parser said.
        reason: String,
    },
    /// Build metadata used by a software type that did not opt in (R2).
    #[error(
        "version \"{text}\" has build metadata, which software type \"{software_type}\" does not allow (set allow_build_metadata = true)"
    )]
    BuildMetadata {
        /// The rejected string.
        text: String,
        /// The software type that forbids it.
        software_type: String,
    },
}

impl Version {
    /// Parses `text` under SemVer 2.0; `allow_build_metadata` is the software type's
    /// opt-in (R2), `software_type` only names it in the error.
    pub fn parse(
        text: &str,
        allow_build_metadata: bool,
        software_type: &str,
    ) -> Result<Version, VersionError> {
        let semver = semver::Version::parse(text).map_err(|e| VersionError::Invalid {
            text: text.to_string(),
            reason: e.to_string(),
        })?;
        if !semver.build.is_empty() && !allow_build_metadata {
            return Err(VersionError::BuildMetadata {
                text: text.to_string(),
                software_type: software_type.to_string(),
            });
        }
        Ok(Version { semver })
    }

    /// SemVer precedence (R1): build metadata is ignored, so two versions that differ only
    /// in it compare `Equal` here although they are different versions (R2).
    pub fn cmp_precedence(&self, other: &Version) -> Ordering {
        self.semver.cmp_precedence(&other.semver)
    }

    /// `self > other` in precedence: what "greater than the current version" means in
    /// R14–R16.
    pub fn is_greater_than(&self, other: &Version) -> bool {
        self.cmp_precedence(other) == Ordering::Greater
    }

    /// A total order that refines precedence (build metadata breaks ties as SemVer orders
    /// it). Used only to make tie-breaks and output order deterministic.
    pub fn cmp_total(&self, other: &Version) -> Ordering {
        self.cmp_precedence(other)
            .then_with(|| self.semver.build.cmp(&other.semver.build))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.semver.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s, true, "main").unwrap()
    }

    #[test]
    fn r1_prerelease_sorts_before_release() {
        assert!(v("2.0.0").is_greater_than(&v("2.0.0-rc.1")));
        assert!(v("2.0.0-rc.2").is_greater_than(&v("2.0.0-rc.1")));
        assert!(v("2.0.0-rc.10").is_greater_than(&v("2.0.0-rc.2")));
        assert!(v("1.10.0").is_greater_than(&v("1.9.0")));
    }

    #[test]
    fn r1_invalid_versions_are_rejected_with_the_string() {
        for bad in ["1.0", "v1.0.0", "01.0.0", "", "1.0.0-", "abc"] {
            let err = Version::parse(bad, false, "main").unwrap_err();
            assert!(err.to_string().contains(&format!("\"{bad}\"")), "{err}");
        }
    }

    #[test]
    fn r2_build_metadata_needs_opt_in() {
        let err = Version::parse("1.0.0+abcd", false, "main").unwrap_err();
        assert!(matches!(err, VersionError::BuildMetadata { .. }));
        assert!(Version::parse("1.0.0+abcd", true, "main").is_ok());
    }

    #[test]
    fn r2_build_metadata_is_distinct_but_equal_in_precedence() {
        let (a, b) = (v("1.0.0+a"), v("1.0.0+b"));
        assert_ne!(a, b);
        assert_eq!(a.cmp_precedence(&b), Ordering::Equal);
        assert!(!a.is_greater_than(&b) && !b.is_greater_than(&a));
        assert_eq!(a.cmp_total(&b), Ordering::Less);
    }

    #[test]
    fn display_round_trips_the_original_text() {
        for s in ["1.2.3", "2.0.0-rc.1", "1.0.0+build.5"] {
            assert_eq!(v(s).to_string(), s);
        }
    }
}
