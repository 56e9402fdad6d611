//! Random catalogs, fleets and catalog changes, for property tests that compare a
//! resolver (or anything built on one) with [`super::reference`].
//!
//! Compiled for this crate's own tests and, for other crates or integration tests, with
//! the `testkit` feature. Everything is built through the public catalog API, so every
//! world is one that loading a scenario could produce, and everything is drawn from a
//! seeded ChaCha stream, so a failing seed reproduces.
//!
//! The worlds are small on purpose (a handful of cohorts, hardware versions, project
//! keys and releases over a pool of a dozen versions): small pools make collisions
//! likely, and collisions are where the rules interact (a Delta from the current
//! version, MPT and Full candidates at one version, build metadata ties, a key that
//! overrides the cohort into one with version checking disabled, …).

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::catalog::{
    Actor, Catalog, Cohort, Percent, ProjectKey, Release, ReleaseKind, Role, Rollout, User,
    DEFAULT_COHORT, DEFAULT_SOFTWARE_TYPE,
};
use crate::fleet::{DeviceReport, Fleet, NewDevice};
use crate::ids::{
    CohortId, HardwareId, ProjectKeyId, ReleaseId, SoftwareTypeId, UserId, VersionId,
};
use crate::resolver::Variant;

/// Versions every software type draws from: pre-releases sort before their release (R1).
pub const VERSION_POOL: [&str; 12] = [
    "0.9.0",
    "1.0.0-alpha",
    "1.0.0-rc.1",
    "1.0.0",
    "1.0.1",
    "1.1.0-beta.2",
    "1.1.0",
    "2.0.0-rc.1",
    "2.0.0",
    "2.0.1",
    "2.10.0",
    "10.0.0",
];

/// Extra versions for software types that allow build metadata: equal in precedence to
/// a pool version but distinct (R2).
pub const BUILD_METADATA_POOL: [&str; 5] =
    ["1.0.0+b1", "1.0.0+b2", "1.1.0+exp.1", "2.0.0+a", "2.0.0+z"];

/// A catalog with a fleet whose devices use its ids.
#[derive(Debug)]
pub struct World {
    /// The catalog, after random activations, pulls, deletions and settings changes.
    pub catalog: Catalog,
    /// Random devices of that catalog.
    pub fleet: Fleet,
}

/// The seeded random stream the other functions draw from.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// A random world of `n_devices` devices, reproducible from `seed`.
pub fn random_world(seed: u64, n_devices: usize) -> World {
    let mut rng = rng(seed);
    let catalog = random_catalog(&mut rng);
    let fleet = random_fleet(&mut rng, &catalog, n_devices);
    World { catalog, fleet }
}

/// The interned versions of one software type, by id.
pub fn versions_of(catalog: &Catalog, software_type: SoftwareTypeId) -> Vec<VersionId> {
    (0..catalog.n_versions() as u32)
        .map(VersionId)
        .filter(|&v| catalog.version_software_type(v) == software_type)
        .collect()
}

/// The live Full releases of one software type: what a release override may name (R7).
pub fn override_candidates(catalog: &Catalog, software_type: SoftwareTypeId) -> Vec<ReleaseId> {
    catalog
        .releases()
        .filter(|(_, r)| !r.deleted && r.is_full() && r.software_type == software_type)
        .map(|(id, _)| id)
        .collect()
}

/// A random catalog: one or two software types (random R2 opt-in), one to five cohorts
/// (random R17 setting, some requiring approval, R26), up to three project keys (some
/// with an OTA cohort override, R9), one to three hardware versions, a random subset of
/// the version pools interned in random order (so version ids do not follow precedence),
/// up to 24 Full (some MPT) and Delta releases with random payload subsets, each
/// activated (normal or staged, R11 c) in about half the cohorts, then up to 12 random
/// changes: more activations, approvals, rollouts, pulls, deletions, settings.
pub fn random_catalog(rng: &mut impl Rng) -> Catalog {
    let mut catalog = Catalog::new();
    catalog
        .define_software_type(DEFAULT_SOFTWARE_TYPE, rng.gen_bool(0.3))
        .expect("main exists");
    if rng.gen_bool(0.3) {
        catalog
            .define_software_type("aux-fw", rng.gen_bool(0.5))
            .expect("a new software type");
    }

    let team = catalog.intern_team("qa").expect("a team");
    catalog
        .define_user(User {
            name: "approver".to_string(),
            role: Role::ProjectManager,
            teams: vec![team],
        })
        .expect("a user");
    catalog
        .define_cohort(Cohort {
            name: DEFAULT_COHORT.to_string(),
            disable_version_checking: rng.gen_bool(0.2),
            protected: rng.gen_bool(0.5),
            approval_team: None,
        })
        .expect("default exists");
    for i in 1..rng.gen_range(1..=5) {
        catalog
            .define_cohort(Cohort {
                name: format!("cohort-{i}"),
                disable_version_checking: rng.gen_bool(0.25),
                protected: rng.gen_bool(0.5),
                approval_team: rng.gen_bool(0.2).then_some(team),
            })
            .expect("a new cohort");
    }
    for i in 0..rng.gen_range(0..=3) {
        let ota_cohort_override = rng.gen_bool(0.6).then(|| random_cohort(rng, &catalog));
        catalog
            .define_project_key(ProjectKey {
                name: format!("key-{i}"),
                ota_cohort_override,
            })
            .expect("a new project key");
    }
    for i in 0..rng.gen_range(1..=3) {
        catalog
            .intern_hardware(&format!("hw-{i}"))
            .expect("a hardware version");
    }

    for t in 0..catalog.software_types().len() {
        let st = SoftwareTypeId(t as u16);
        let metadata = catalog.software_type(st).allow_build_metadata;
        let mut pool: Vec<&str> = VERSION_POOL.to_vec();
        if metadata {
            pool.extend(BUILD_METADATA_POOL);
        }
        pool.shuffle(rng);
        let n = rng.gen_range(1..=pool.len());
        for text in &pool[..n] {
            catalog.intern_version(st, text).expect("a pool version");
        }
    }

    for _ in 0..rng.gen_range(0..=24) {
        add_random_release(rng, &mut catalog);
    }
    // Most releases are active somewhere, or most devices would get no update.
    let releases: Vec<ReleaseId> = catalog.releases().map(|(id, _)| id).collect();
    for release in releases {
        for c in 0..catalog.cohorts().len() {
            if rng.gen_bool(0.6) {
                activate(rng, &mut catalog, release, CohortId(c as u16));
            }
        }
    }
    for _ in 0..rng.gen_range(0..=12) {
        random_change(rng, &mut catalog, &Fleet::new());
    }
    catalog.set_variant(random_variant(rng));
    catalog
}

/// A random resolver variant (R32): the default half of the time, else a random
/// precedence and fallback setting.
pub fn random_variant(rng: &mut impl Rng) -> Variant {
    if rng.gen_bool(0.5) {
        return Variant::DEFAULT;
    }
    let mut precedence = Variant::DEFAULT.precedence;
    precedence.shuffle(rng);
    Variant {
        precedence,
        override_fallback: rng.gen_bool(0.5),
    }
}

/// A random report of `catalog`: a software type, one of its versions, a hardware
/// version, a cohort, sometimes a project key, a random staged flag and sometimes a
/// release override to a live Full release of its software type (R7).
pub fn random_report(rng: &mut impl Rng, catalog: &Catalog) -> DeviceReport {
    let software_type = SoftwareTypeId(rng.gen_range(0..catalog.software_types().len()) as u16);
    let version = *versions_of(catalog, software_type)
        .choose(rng)
        .expect("every software type has versions");
    let hardware = HardwareId(rng.gen_range(0..catalog.hardware_names().len()) as u16);
    let n_keys = catalog.project_keys().len();
    let project_key =
        (n_keys > 0 && rng.gen_bool(0.3)).then(|| ProjectKeyId(rng.gen_range(0..n_keys) as u16));
    let release_override = if rng.gen_bool(0.1) {
        override_candidates(catalog, software_type)
            .choose(rng)
            .copied()
    } else {
        None
    };
    DeviceReport {
        software_type,
        version,
        hardware,
        project_key,
        cohort: random_cohort(rng, catalog),
        staged: rng.gen_bool(0.5),
        release_override,
    }
}

/// A fleet of `n_devices` random reports, named `dev-0`, `dev-1`, …
pub fn random_fleet(rng: &mut impl Rng, catalog: &Catalog, n_devices: usize) -> Fleet {
    let mut fleet = Fleet::new();
    for i in 0..n_devices {
        fleet
            .push(NewDevice {
                id: format!("dev-{i}"),
                report: random_report(rng, catalog),
                last_seen: None,
            })
            .expect("distinct ids");
    }
    fleet
}

/// Applies one random change of the kinds a timeline makes (add a release, activate,
/// approve, set a rollout, pull, delete a release, change a cohort's R17 setting or a
/// project key's override) and returns its name, or `None` when the drawn change was not
/// possible (the catalog then is unchanged). `fleet` supplies override holders (R6).
pub fn random_change(
    rng: &mut impl Rng,
    catalog: &mut Catalog,
    fleet: &Fleet,
) -> Option<&'static str> {
    let releases: Vec<ReleaseId> = catalog
        .releases()
        .filter(|(_, r)| !r.deleted)
        .map(|(id, _)| id)
        .collect();
    let active: Vec<(ReleaseId, CohortId, Rollout)> = catalog.activations().collect();
    match rng.gen_range(0..11) {
        10 => {
            let variant = random_variant(rng);
            (variant != *catalog.variant()).then(|| {
                catalog.set_variant(variant);
                "set_variant"
            })
        }
        0 => add_random_release(rng, catalog).then_some("add_release"),
        1..=3 => {
            let &release = releases.choose(rng)?;
            let cohort = random_cohort(rng, catalog);
            Some(activate(rng, catalog, release, cohort))
        }
        4 => {
            let staged: Vec<(ReleaseId, CohortId)> = active
                .iter()
                .filter(|(_, _, r)| matches!(r, Rollout::Staged(_)))
                .map(|&(release, cohort, _)| (release, cohort))
                .collect();
            let &(release, cohort) = staged.choose(rng)?;
            catalog
                .set_rollout(release, cohort, random_percent(rng), Actor::Anonymous)
                .ok()
                .map(|_| "set_rollout")
        }
        5 | 6 => {
            let &(release, cohort, _) = active.choose(rng)?;
            catalog
                .pull(release, cohort, Actor::Anonymous)
                .ok()
                .map(|_| "pull")
        }
        7 => {
            let &release = releases.choose(rng)?;
            catalog
                .delete_release(release, fleet.override_holders(release))
                .ok()
                .map(|_| "delete_release")
        }
        8 => {
            let cohort = random_cohort(rng, catalog);
            catalog.set_cohort(cohort, Some(rng.gen_bool(0.5)), None, None);
            Some("set_cohort")
        }
        _ => {
            let n_keys = catalog.project_keys().len();
            if n_keys == 0 {
                return None;
            }
            let key = ProjectKeyId(rng.gen_range(0..n_keys) as u16);
            let over = rng.gen_bool(0.6).then(|| random_cohort(rng, catalog));
            catalog.set_project_key(key, over);
            Some("set_project_key")
        }
    }
}

/// Activates `release` in `cohort`, normal or staged; where the cohort requires approval
/// (R26), the request is approved most of the time. Returns what happened.
fn activate(
    rng: &mut impl Rng,
    catalog: &mut Catalog,
    release: ReleaseId,
    cohort: CohortId,
) -> &'static str {
    let rollout = random_rollout(rng);
    catalog
        .activate(release, cohort, rollout, Actor::Anonymous)
        .expect("an unnamed project manager may activate a live release");
    if catalog.cohort(cohort).approval_team.is_none() {
        return "activate";
    }
    if !rng.gen_bool(0.7) {
        return "request";
    }
    // The approver is a project manager of the team, and not the requester (R26).
    catalog
        .approve(release, cohort, UserId(0))
        .expect("the approver may approve");
    "approve"
}

/// Adds a random Full (sometimes MPT) or Delta release with a random payload subset;
/// false when the catalog rejects it (R4 duplicates, R5 delta downgrades).
fn add_random_release(rng: &mut impl Rng, catalog: &mut Catalog) -> bool {
    let software_type = SoftwareTypeId(rng.gen_range(0..catalog.software_types().len()) as u16);
    let versions = versions_of(catalog, software_type);
    let (Some(&a), Some(&b)) = (versions.choose(rng), versions.choose(rng)) else {
        return false;
    };
    let kind = if rng.gen_bool(0.6) {
        ReleaseKind::Full {
            version: a,
            must_pass_through: rng.gen_bool(0.25),
        }
    } else {
        // Upwards, so that R5 rejects only equal versions and build-metadata twins.
        let (from, to) = if catalog.version(a).cmp_total(catalog.version(b)).is_gt() {
            (b, a)
        } else {
            (a, b)
        };
        ReleaseKind::Delta { from, to }
    };
    let mut payloads = Vec::new();
    for h in 0..catalog.hardware_names().len() {
        if rng.gen_bool(0.75) {
            payloads.push((HardwareId(h as u16), rng.gen_range(1..5_000_000)));
        }
    }
    catalog
        .add_release(Release {
            software_type,
            kind,
            payloads,
            deleted: false,
        })
        .is_ok()
}

fn random_cohort(rng: &mut impl Rng, catalog: &Catalog) -> CohortId {
    CohortId(rng.gen_range(0..catalog.cohorts().len()) as u16)
}

fn random_rollout(rng: &mut impl Rng) -> Rollout {
    if rng.gen_bool(0.6) {
        Rollout::Normal
    } else {
        Rollout::Staged(random_percent(rng))
    }
}

fn random_percent(rng: &mut impl Rng) -> Percent {
    if rng.gen_bool(0.2) {
        Percent::parse("12.5").expect("a valid percent")
    } else {
        Percent::whole(rng.gen_range(0..=100))
    }
}
