//! The catalog: software types, cohorts, project keys, users, releases and activations
//! (spec §1, §3, §7), with every mutation checked before it changes anything.
//!
//! The catalog knows nothing of files or devices: loading fills it through the builder
//! methods here, and the timeline changes it through its mutations ([`Catalog::activate`],
//! [`Catalog::pull`], …), which return what the fleet has to do (an [`Effect`]) instead
//! of touching devices itself.

mod activation;
mod percent;

pub use activation::{Actor, Effect, Rollout};
pub use percent::Percent;

use std::collections::{BTreeMap, HashMap};

use crate::ids::{
    CohortId, HardwareId, ProjectKeyId, ReleaseId, SoftwareTypeId, TeamId, UserId, VersionId,
};
use crate::version::{Version, VersionError};

/// A named stream of software with its own versions.
#[derive(Clone, Debug)]
pub struct SoftwareType {
    /// Its name, e.g. `main`.
    pub name: String,
    /// R2: whether versions may carry SemVer build metadata.
    pub allow_build_metadata: bool,
}

/// A named group of devices.
#[derive(Clone, Debug)]
pub struct Cohort {
    /// Its name; `default` always exists.
    pub name: String,
    /// R17.
    pub disable_version_checking: bool,
    /// R25: only project managers (or permitted org tokens) may change activations.
    pub protected: bool,
    /// R26: activations need approval by a member of this team.
    pub approval_team: Option<TeamId>,
}

/// The key a device reports with.
#[derive(Clone, Debug)]
pub struct ProjectKey {
    /// Its name.
    pub name: String,
    /// R9: the cohort used for OTA decisions of devices reporting with this key.
    pub ota_cohort_override: Option<CohortId>,
}

/// What a user may do (R25, R26).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// An ordinary member: cannot change activations of protected cohorts.
    Member,
    /// A project manager.
    ProjectManager,
    /// An organization auth token; `permit_protected` says whether it may change
    /// activations of protected cohorts.
    OrgToken {
        /// Whether it may change activations of protected cohorts.
        permit_protected: bool,
    },
}

/// A person or token that acts in events.
#[derive(Clone, Debug)]
pub struct User {
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Teams it belongs to.
    pub teams: Vec<TeamId>,
}

/// What a release installs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReleaseKind {
    /// A Full release of `version`, optionally must-pass-through.
    Full {
        /// The version a device reports after installing it (R3).
        version: VersionId,
        /// Must-pass-through (R14).
        must_pass_through: bool,
    },
    /// A Delta release from exactly one version to exactly one other (R5: `to > from`).
    Delta {
        /// The version the device must report.
        from: VersionId,
        /// The version it reports after installing (R3).
        to: VersionId,
    },
}

/// A Full or Delta release with its payloads.
#[derive(Clone, Debug)]
pub struct Release {
    /// Its software type.
    pub software_type: SoftwareTypeId,
    /// Full or Delta.
    pub kind: ReleaseKind,
    /// One payload size in bytes per hardware version, sorted by hardware id.
    pub payloads: Vec<(HardwareId, u64)>,
    /// Set by `delete_release` (R6); a deleted release no longer exists for references.
    pub deleted: bool,
}

impl Release {
    /// The version a device reports after installing this release (R3).
    pub fn target(&self) -> VersionId {
        match self.kind {
            ReleaseKind::Full { version, .. } => version,
            ReleaseKind::Delta { to, .. } => to,
        }
    }

    /// The payload size for `hardware`, if the release serves it (R11 d).
    pub fn payload(&self, hardware: HardwareId) -> Option<u64> {
        self.payloads
            .binary_search_by_key(&hardware, |&(h, _)| h)
            .ok()
            .map(|i| self.payloads[i].1)
    }

    /// Whether this is a Full release.
    pub fn is_full(&self) -> bool {
        matches!(self.kind, ReleaseKind::Full { .. })
    }
}

/// An error in the catalog or in a change to it. Messages name things by name; the
/// caller adds where (file, line, event index).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// A reference to something that does not exist (R8).
    #[error("unknown {kind} \"{name}\"{hint}")]
    Unknown {
        /// What kind of thing: cohort, release, …
        kind: &'static str,
        /// The name used.
        name: String,
        /// ` (did you mean "x"?)` or empty.
        hint: String,
    },
    /// Two definitions of one thing.
    #[error("{kind} \"{name}\" is defined twice")]
    Duplicate {
        /// What kind of thing.
        kind: &'static str,
        /// Its name.
        name: String,
    },
    /// A bad version (R1, R2).
    #[error(transparent)]
    Version(#[from] VersionError),
    /// Anything else, already phrased.
    #[error("{0}")]
    Invalid(String),
}

/// The largest payload a release may carry, in bytes (64 TiB - 1): far beyond any
/// firmware image, and far enough below `u64::MAX` that byte totals, 64-bit sums over
/// downloads, do not overflow in any run that fits in memory.
pub const MAX_PAYLOAD: u64 = (1 << 46) - 1;

/// Refuses a payload above [`MAX_PAYLOAD`] for the hardware version named `hardware`.
pub fn check_payload(hardware: &str, bytes: u64) -> Result<(), CatalogError> {
    if bytes > MAX_PAYLOAD {
        return Err(CatalogError::Invalid(format!(
            "payload size for \"{hardware}\" is more than the {MAX_PAYLOAD} bytes ({} TiB) otasim supports",
            (MAX_PAYLOAD + 1) >> 40
        )));
    }
    Ok(())
}

/// Suggests the closest of `candidates` to `name`, for error messages.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let best = candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((_, c)) => format!(" (did you mean \"{c}\"?)"),
        None => String::new(),
    }
}

/// How many recent revisions [`Catalog::cohorts_changed_since`] can tell about.
const JOURNAL: usize = 64;

/// All catalog state at one moment.
#[derive(Clone, Debug)]
pub struct Catalog {
    software_types: Vec<SoftwareType>,
    cohorts: Vec<Cohort>,
    project_keys: Vec<ProjectKey>,
    hardware: Vec<String>,
    teams: Vec<String>,
    users: Vec<User>,
    versions: Vec<(SoftwareTypeId, Version)>,
    version_index: HashMap<(SoftwareTypeId, String), VersionId>,
    releases: Vec<Release>,
    /// Active activations by (release, cohort); at most one each.
    active: BTreeMap<(ReleaseId, CohortId), Rollout>,
    /// Pending activation requests by (release, cohort) (R26).
    requests: BTreeMap<(ReleaseId, CohortId), (Rollout, Actor)>,
    /// The staged activation that last sized each cohort's one staged set (R19, R20), so
    /// `explain` can say why a "10 %" rollout reaches the share it reaches.
    staged_sized_by: BTreeMap<CohortId, (ReleaseId, Percent)>,
    /// Bumped by every change that can alter a resolver answer, so that derived tables
    /// (the fast path) know when to rebuild.
    revision: u64,
    /// The cohort each recent revision changed (`None`: more than one cohort's
    /// answers), newest last, at most [`JOURNAL`] of them: what lets derived tables be
    /// refreshed for the cohorts an event changed instead of rebuilt
    /// ([`Catalog::cohorts_changed_since`]).
    journal: std::collections::VecDeque<(u64, Option<CohortId>)>,
    /// The resolver variant in force (R32).
    variant: crate::resolver::Variant,
}

/// The name of the software type that always exists.
pub const DEFAULT_SOFTWARE_TYPE: &str = "main";
/// The name of the cohort that always exists.
pub const DEFAULT_COHORT: &str = "default";

impl Default for Catalog {
    fn default() -> Self {
        Catalog::new()
    }
}

impl Catalog {
    /// A catalog with the software type `main` and the cohort `default` (protected, R25).
    pub fn new() -> Catalog {
        Catalog {
            software_types: vec![SoftwareType {
                name: DEFAULT_SOFTWARE_TYPE.to_string(),
                allow_build_metadata: false,
            }],
            cohorts: vec![Cohort {
                name: DEFAULT_COHORT.to_string(),
                disable_version_checking: false,
                protected: true,
                approval_team: None,
            }],
            project_keys: Vec::new(),
            hardware: Vec::new(),
            teams: Vec::new(),
            users: Vec::new(),
            versions: Vec::new(),
            version_index: HashMap::new(),
            releases: Vec::new(),
            active: BTreeMap::new(),
            staged_sized_by: BTreeMap::new(),
            requests: BTreeMap::new(),
            revision: 0,
            journal: std::collections::VecDeque::new(),
            variant: crate::resolver::Variant::DEFAULT,
        }
    }

    // ---- building (used while loading a scenario) ----

    /// Defines or redefines a software type; redefining `main` sets its options.
    pub fn define_software_type(
        &mut self,
        name: &str,
        allow_build_metadata: bool,
    ) -> Result<SoftwareTypeId, CatalogError> {
        if let Some(id) = self.software_type_id(name) {
            if self.versions.iter().any(|(t, _)| *t == id) {
                return Err(CatalogError::Invalid(format!(
                    "software type \"{name}\" is defined after versions of it were used"
                )));
            }
            self.software_types[id.index()].allow_build_metadata = allow_build_metadata;
            return Ok(id);
        }
        let id = SoftwareTypeId(checked_u16(self.software_types.len(), "software types")?);
        self.software_types.push(SoftwareType {
            name: name.to_string(),
            allow_build_metadata,
        });
        Ok(id)
    }

    /// Adds a cohort, or sets the options of `default`.
    pub fn define_cohort(&mut self, cohort: Cohort) -> Result<CohortId, CatalogError> {
        if let Some(id) = self.cohort_id(&cohort.name) {
            if id.0 == 0 {
                self.cohorts[0] = cohort;
                return Ok(id);
            }
            return Err(CatalogError::Duplicate {
                kind: "cohort",
                name: cohort.name,
            });
        }
        let id = CohortId(checked_u16(self.cohorts.len(), "cohorts")?);
        self.cohorts.push(cohort);
        Ok(id)
    }

    /// Adds a project key.
    pub fn define_project_key(&mut self, key: ProjectKey) -> Result<ProjectKeyId, CatalogError> {
        if self.project_key_id(&key.name).is_some() {
            return Err(CatalogError::Duplicate {
                kind: "project key",
                name: key.name,
            });
        }
        let id = ProjectKeyId(checked_u16(self.project_keys.len(), "project keys")?);
        self.project_keys.push(key);
        Ok(id)
    }

    /// Interns a team name (teams exist because users list them).
    pub fn intern_team(&mut self, name: &str) -> Result<TeamId, CatalogError> {
        if let Some(i) = self.teams.iter().position(|t| t == name) {
            return Ok(TeamId(i as u16));
        }
        let id = TeamId(checked_u16(self.teams.len(), "teams")?);
        self.teams.push(name.to_string());
        Ok(id)
    }

    /// Adds a user.
    pub fn define_user(&mut self, user: User) -> Result<UserId, CatalogError> {
        if self.user_id(&user.name).is_some() {
            return Err(CatalogError::Duplicate {
                kind: "user",
                name: user.name,
            });
        }
        let id = UserId(checked_u16(self.users.len(), "users")?);
        self.users.push(user);
        Ok(id)
    }

    /// Interns a hardware version string.
    pub fn intern_hardware(&mut self, name: &str) -> Result<HardwareId, CatalogError> {
        if let Some(id) = self.hardware_id(name) {
            return Ok(id);
        }
        let id = HardwareId(checked_u16(self.hardware.len(), "hardware versions")?);
        self.hardware.push(name.to_string());
        Ok(id)
    }

    /// Parses and interns a version of `software_type` (R1, R2).
    pub fn intern_version(
        &mut self,
        software_type: SoftwareTypeId,
        text: &str,
    ) -> Result<VersionId, CatalogError> {
        if let Some(&id) = self.version_index.get(&(software_type, text.to_string())) {
            return Ok(id);
        }
        let st = &self.software_types[software_type.index()];
        let version = Version::parse(text, st.allow_build_metadata, &st.name)?;
        let id = VersionId(self.versions.len() as u32);
        self.versions.push((software_type, version));
        self.version_index
            .insert((software_type, text.to_string()), id);
        Ok(id)
    }

    /// Adds a release, enforcing R4 (no duplicates), R5 (Delta `to > from`) and
    /// [`MAX_PAYLOAD`].
    pub fn add_release(&mut self, release: Release) -> Result<ReleaseId, CatalogError> {
        for &(h, bytes) in &release.payloads {
            check_payload(self.hardware_name(h), bytes)?;
        }
        if let ReleaseKind::Delta { from, to } = release.kind {
            if !self.version(to).is_greater_than(self.version(from)) {
                return Err(CatalogError::Invalid(format!(
                    "delta release {} must go to a greater version than it comes from (delta downgrades are not supported)",
                    self.kind_name(&release.kind)
                )));
            }
        }
        if self.releases.iter().any(|r| {
            !r.deleted
                && r.software_type == release.software_type
                && r.kind_key() == release.kind_key()
        }) {
            let what = if release.is_full() { "full" } else { "delta" };
            return Err(CatalogError::Invalid(format!(
                "{what} release {} is defined twice for software type \"{}\"",
                self.kind_name(&release.kind),
                self.software_types[release.software_type.index()].name
            )));
        }
        let mut release = release;
        release.payloads.sort_unstable_by_key(|&(h, _)| h);
        let id = ReleaseId(self.releases.len() as u32);
        self.releases.push(release);
        self.bump(None);
        Ok(id)
    }

    // ---- lookups ----

    /// The id of a software type by name.
    pub fn software_type_id(&self, name: &str) -> Option<SoftwareTypeId> {
        position(&self.software_types, |t| t.name == name).map(|i| SoftwareTypeId(i as u16))
    }
    /// The id of a cohort by name.
    pub fn cohort_id(&self, name: &str) -> Option<CohortId> {
        position(&self.cohorts, |c| c.name == name).map(|i| CohortId(i as u16))
    }
    /// The id of a project key by name.
    pub fn project_key_id(&self, name: &str) -> Option<ProjectKeyId> {
        position(&self.project_keys, |k| k.name == name).map(|i| ProjectKeyId(i as u16))
    }
    /// The id of a user by name.
    pub fn user_id(&self, name: &str) -> Option<UserId> {
        position(&self.users, |u| u.name == name).map(|i| UserId(i as u16))
    }
    /// The id of a team by name.
    pub fn team_id(&self, name: &str) -> Option<TeamId> {
        position(&self.teams, |t| t == name).map(|i| TeamId(i as u16))
    }
    /// The id of a hardware version by name.
    pub fn hardware_id(&self, name: &str) -> Option<HardwareId> {
        position(&self.hardware, |h| h == name).map(|i| HardwareId(i as u16))
    }
    /// The id of an already interned version.
    pub fn version_id(&self, software_type: SoftwareTypeId, text: &str) -> Option<VersionId> {
        self.version_index
            .get(&(software_type, text.to_string()))
            .copied()
    }

    /// A software type.
    pub fn software_type(&self, id: SoftwareTypeId) -> &SoftwareType {
        &self.software_types[id.index()]
    }
    /// A cohort.
    pub fn cohort(&self, id: CohortId) -> &Cohort {
        &self.cohorts[id.index()]
    }
    /// A project key.
    pub fn project_key(&self, id: ProjectKeyId) -> &ProjectKey {
        &self.project_keys[id.index()]
    }
    /// A user.
    pub fn user(&self, id: UserId) -> &User {
        &self.users[id.index()]
    }
    /// A team's name.
    pub fn team_name(&self, id: TeamId) -> &str {
        &self.teams[id.index()]
    }
    /// A hardware version's name.
    pub fn hardware_name(&self, id: HardwareId) -> &str {
        &self.hardware[id.index()]
    }
    /// A version.
    pub fn version(&self, id: VersionId) -> &Version {
        &self.versions[id.index()].1
    }
    /// The software type a version belongs to.
    pub fn version_software_type(&self, id: VersionId) -> SoftwareTypeId {
        self.versions[id.index()].0
    }
    /// A release (deleted ones included: check [`Release::deleted`]).
    pub fn release(&self, id: ReleaseId) -> &Release {
        &self.releases[id.index()]
    }

    /// All software types, by id.
    pub fn software_types(&self) -> &[SoftwareType] {
        &self.software_types
    }
    /// All cohorts, by id.
    pub fn cohorts(&self) -> &[Cohort] {
        &self.cohorts
    }
    /// All project keys, by id.
    pub fn project_keys(&self) -> &[ProjectKey] {
        &self.project_keys
    }
    /// All hardware version names, by id.
    pub fn hardware_names(&self) -> &[String] {
        &self.hardware
    }
    /// All users, by id.
    pub fn users(&self) -> &[User] {
        &self.users
    }
    /// All teams, by id.
    pub fn teams(&self) -> &[String] {
        &self.teams
    }
    /// Number of interned versions (ids are `0..n`).
    pub fn n_versions(&self) -> usize {
        self.versions.len()
    }
    /// All releases with their ids, deleted ones included.
    pub fn releases(&self) -> impl Iterator<Item = (ReleaseId, &Release)> {
        self.releases
            .iter()
            .enumerate()
            .map(|(i, r)| (ReleaseId(i as u32), r))
    }
    /// The active activation of `release` in `cohort`, if any (R11 b).
    pub fn activation(&self, release: ReleaseId, cohort: CohortId) -> Option<Rollout> {
        self.active.get(&(release, cohort)).copied()
    }
    /// All active activations.
    pub fn activations(&self) -> impl Iterator<Item = (ReleaseId, CohortId, Rollout)> + '_ {
        self.active.iter().map(|(&(r, c), &ro)| (r, c, ro))
    }
    /// Pending activation requests (R26).
    pub fn pending_requests(&self) -> impl Iterator<Item = (ReleaseId, CohortId, Rollout)> + '_ {
        self.requests.iter().map(|(&(r, c), &(ro, _))| (r, c, ro))
    }
    /// Changes whenever a resolver answer may change.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// A new revision that changed the answers in `cohort` only (`None`: possibly in
    /// every cohort).
    pub(crate) fn bump(&mut self, cohort: Option<CohortId>) {
        self.revision += 1;
        if self.journal.len() == JOURNAL {
            self.journal.pop_front();
        }
        self.journal.push_back((self.revision, cohort));
    }

    /// The cohorts whose answers may have changed since revision `since` (each change
    /// once per revision, so possibly repeated), or `None` if a change since then may
    /// have changed answers in every cohort or is too old to be known. A resolver
    /// answer for a device depends on its effective cohort's activations and settings
    /// and on what is global (releases, project keys, the variant); the journal marks
    /// the first kind by cohort and the second as `None`.
    pub fn cohorts_changed_since(&self, since: u64) -> Option<Vec<CohortId>> {
        if since == self.revision {
            return Some(Vec::new());
        }
        let &(kept_from, _) = self.journal.front()?;
        if since > self.revision || kept_from > since + 1 {
            return None;
        }
        self.journal
            .iter()
            .filter(|&&(r, _)| r > since)
            .map(|&(_, c)| c)
            .collect()
    }

    /// The resolver variant in force (R32).
    pub fn variant(&self) -> &crate::resolver::Variant {
        &self.variant
    }

    /// Selects the resolver variant (R32); derived tables see a new revision.
    pub fn set_variant(&mut self, variant: crate::resolver::Variant) {
        if variant != self.variant {
            self.variant = variant;
            self.bump(None);
        }
    }

    /// The release's name as events and outputs spell it: `2.0.0` or `2.0.0->2.1.0`.
    pub fn release_name(&self, id: ReleaseId) -> String {
        self.kind_name(&self.releases[id.index()].kind)
    }

    fn kind_name(&self, kind: &ReleaseKind) -> String {
        match *kind {
            ReleaseKind::Full { version, .. } => self.version(version).to_string(),
            ReleaseKind::Delta { from, to } => {
                format!("{}->{}", self.version(from), self.version(to))
            }
        }
    }

    /// Finds a live (not deleted) release by the name events use (R8).
    pub fn find_release(
        &self,
        software_type: SoftwareTypeId,
        name: &str,
    ) -> Result<ReleaseId, CatalogError> {
        let name = name.trim();
        let found = self.releases().find(|(id, r)| {
            !r.deleted && r.software_type == software_type && self.release_name(*id) == name
        });
        if let Some((id, _)) = found {
            return Ok(id);
        }
        // Accept spaces around the arrow.
        if let Some((from, to)) = name.split_once("->") {
            let compact = format!("{}->{}", from.trim(), to.trim());
            if compact != name {
                return self.find_release(software_type, &compact);
            }
        }
        let names: Vec<String> = self
            .releases()
            .filter(|(_, r)| !r.deleted && r.software_type == software_type)
            .map(|(id, _)| self.release_name(id))
            .collect();
        let deleted = self.releases().any(|(id, r)| {
            r.deleted && r.software_type == software_type && self.release_name(id) == name
        });
        let mut hint = did_you_mean(name, names.iter().map(String::as_str));
        if deleted {
            hint = " (it was deleted)".to_string();
        }
        let kind = if software_type.0 == 0 {
            "release"
        } else {
            "release of this software type"
        };
        Err(CatalogError::Unknown {
            kind,
            name: name.to_string(),
            hint,
        })
    }

    /// Looks a cohort up by name, with a suggestion on failure (R8).
    pub fn need_cohort(&self, name: &str) -> Result<CohortId, CatalogError> {
        self.cohort_id(name).ok_or_else(|| CatalogError::Unknown {
            kind: "cohort",
            name: name.to_string(),
            hint: did_you_mean(name, self.cohorts.iter().map(|c| c.name.as_str())),
        })
    }
    /// Looks a project key up by name (R8).
    pub fn need_project_key(&self, name: &str) -> Result<ProjectKeyId, CatalogError> {
        self.project_key_id(name)
            .ok_or_else(|| CatalogError::Unknown {
                kind: "project key",
                name: name.to_string(),
                hint: did_you_mean(name, self.project_keys.iter().map(|c| c.name.as_str())),
            })
    }
    /// Looks a software type up by name (R8).
    pub fn need_software_type(&self, name: &str) -> Result<SoftwareTypeId, CatalogError> {
        self.software_type_id(name)
            .ok_or_else(|| CatalogError::Unknown {
                kind: "software type",
                name: name.to_string(),
                hint: did_you_mean(name, self.software_types.iter().map(|c| c.name.as_str())),
            })
    }
    /// Looks a user up by name (R8).
    pub fn need_user(&self, name: &str) -> Result<UserId, CatalogError> {
        self.user_id(name).ok_or_else(|| CatalogError::Unknown {
            kind: "user",
            name: name.to_string(),
            hint: did_you_mean(name, self.users.iter().map(|c| c.name.as_str())),
        })
    }
    /// Looks a team up by name (R8).
    pub fn need_team(&self, name: &str) -> Result<TeamId, CatalogError> {
        self.team_id(name).ok_or_else(|| CatalogError::Unknown {
            kind: "team",
            name: name.to_string(),
            hint: did_you_mean(name, self.teams.iter().map(String::as_str)),
        })
    }
    /// Looks a hardware version up by name (R8).
    pub fn need_hardware(&self, name: &str) -> Result<HardwareId, CatalogError> {
        self.hardware_id(name).ok_or_else(|| CatalogError::Unknown {
            kind: "hardware version",
            name: name.to_string(),
            hint: did_you_mean(name, self.hardware.iter().map(String::as_str)),
        })
    }

    /// R7: a release override must name a live Full release of the device's software type.
    pub fn check_override(
        &self,
        release: ReleaseId,
        software_type: SoftwareTypeId,
    ) -> Result<(), CatalogError> {
        let r = self.release(release);
        if r.deleted {
            return Err(CatalogError::Invalid(format!(
                "release override {} names a deleted release",
                self.release_name(release)
            )));
        }
        if !r.is_full() {
            return Err(CatalogError::Invalid(format!(
                "release override {} is a delta release; an override must name a full release",
                self.release_name(release)
            )));
        }
        if r.software_type != software_type {
            return Err(CatalogError::Invalid(format!(
                "release override {} is of software type \"{}\", not the device's \"{}\"",
                self.release_name(release),
                self.software_type(r.software_type).name,
                self.software_type(software_type).name
            )));
        }
        Ok(())
    }
}

impl Release {
    fn kind_key(&self) -> (u8, VersionId, VersionId) {
        match self.kind {
            ReleaseKind::Full { version, .. } => (0, version, version),
            ReleaseKind::Delta { from, to } => (1, from, to),
        }
    }
}

fn position<T>(items: &[T], pred: impl Fn(&T) -> bool) -> Option<usize> {
    items.iter().position(pred)
}

fn checked_u16(len: usize, what: &str) -> Result<u16, CatalogError> {
    u16::try_from(len)
        .ok()
        .filter(|&n| n < u16::MAX)
        .ok_or_else(|| CatalogError::Invalid(format!("too many {what} (at most 65534)")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_above_the_limit_are_refused_whole_message() {
        assert_eq!(check_payload("evt", MAX_PAYLOAD), Ok(()));
        assert_eq!(
            check_payload("evt", MAX_PAYLOAD + 1).unwrap_err().to_string(),
            "payload size for \"evt\" is more than the 70368744177663 bytes (64 TiB) otasim supports"
        );
    }
}

#[cfg(test)]
mod journal_tests {
    use super::*;

    #[test]
    fn the_journal_names_the_cohorts_changed_and_forgets_what_is_too_old() {
        let mut c = Catalog::new();
        let start = c.revision();
        assert_eq!(c.cohorts_changed_since(start), Some(vec![]));
        c.bump(Some(CohortId(0)));
        c.bump(Some(CohortId(0)));
        assert_eq!(
            c.cohorts_changed_since(start),
            Some(vec![CohortId(0), CohortId(0)])
        );
        c.bump(None);
        assert_eq!(c.cohorts_changed_since(start), None, "a global change");
        let after = c.revision();
        for _ in 0..JOURNAL {
            c.bump(Some(CohortId(0)));
        }
        assert_eq!(
            c.cohorts_changed_since(after).map(|v| v.len()),
            Some(JOURNAL)
        );
        c.bump(Some(CohortId(0)));
        assert_eq!(
            c.cohorts_changed_since(after),
            None,
            "older than the journal"
        );
        assert_eq!(c.cohorts_changed_since(c.revision() + 1), None);
    }
}
