//! Lowering: the raw file into the validated model. Every check that can fail on input
//! lives here or in the catalog, and every error names its place (R8).

use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use super::raw::{RawEvent, RawNumber, RawScenario, RawTime, Str};
use super::time::parse_time_arg;
use super::ScenarioError;
use crate::catalog::{
    Actor, Catalog, CatalogError, Cohort, Percent, ProjectKey, Release, ReleaseKind, Role, Rollout,
    User,
};
use crate::fleet::{DeviceReport, Fleet, NewDevice};
use crate::ids::{CohortId, DeviceIdx, ReleaseId, SoftwareTypeId};
use crate::staging::{Filter, Order, Selection};
use crate::timeline::{Action, Event};

/// Maps byte offsets of one file to 1-based line numbers.
pub struct Source<'a> {
    path: &'a Path,
    line_starts: Vec<usize>,
}

impl<'a> Source<'a> {
    pub fn new(path: &'a Path, text: &str) -> Source<'a> {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Source { path, line_starts }
    }

    pub fn line(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset)
    }

    pub fn error(&self, span: Range<usize>, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: self.path.to_path_buf(),
            line: Some(self.line(span.start)),
            message: message.into(),
        }
    }
}

/// What lowering produces before the fleet is possibly replaced.
pub struct Lowered {
    pub seed: u64,
    pub tick_seconds: u64,
    pub duration_ticks: u64,
    pub catalog: Catalog,
    pub fleet: Fleet,
    pub events: Vec<Event>,
    pub event_lines: Vec<Option<usize>>,
    pub behaviour: Option<crate::behaviour::Behaviour>,
    pub arrivals: Vec<(u64, DeviceIdx)>,
    pub snapshots: Vec<u64>,
    pub costs: crate::model::Costs,
    pub warnings: Vec<ScenarioError>,
    pub delta_sizes: Vec<super::DeltaSize>,
    pub policies: crate::policy::Policies,
}

pub struct Lowerer<'a> {
    pub src: Source<'a>,
    pub catalog: Catalog,
    tick_seconds: u64,
    /// Suspicious but valid input, placed like errors (docs/semantics.md, "Warnings").
    pub warnings: Vec<ScenarioError>,
}

impl Lowerer<'_> {
    pub fn tick_seconds(&self) -> u64 {
        self.tick_seconds
    }
}

/// A place and a prefix for messages (`release 3: `, `event 7 (activate): `).
pub struct At<'s, 'a> {
    src: &'s Source<'a>,
    pub what: String,
}

impl<'s, 'a> At<'s, 'a> {
    pub fn new(src: &'s Source<'a>, what: impl Into<String>) -> At<'s, 'a> {
        At {
            src,
            what: what.into(),
        }
    }
    pub fn err(&self, span: Range<usize>, message: impl std::fmt::Display) -> ScenarioError {
        self.src.error(span, format!("{}: {message}", self.what))
    }
    pub fn cat<T>(
        &self,
        span: Range<usize>,
        r: Result<T, CatalogError>,
    ) -> Result<T, ScenarioError> {
        r.map_err(|e| self.err(span, e))
    }
}

/// A release's health (R36) and where its first failure probability was written, if
/// one was.
pub type InstallFailure = (crate::behaviour::ReleaseHealth, Option<Range<usize>>);

/// The fields `stage` and `unstage` take: ids, or a bulk filter (R21).
const BULK_FIELDS: &[&str] = &[
    "devices",
    "cohort",
    "hardware_version",
    "software_version",
    "staged",
    "limit",
    "order",
    "by",
];

const DEFAULT_DURATION_SECONDS: u64 = 30 * 86_400;

/// Lowers a parsed file. `fleet_table` replaces the file's fleet (`--fleet`); without
/// it the fleet is the explicit devices plus the `[fleet] import` table, if any.
pub fn lower(
    path: &Path,
    text: &str,
    raw: RawScenario,
    fleet_table: Option<&Path>,
    scale_to: Option<u64>,
    tables: &super::table::SharedTables,
    device_ids: super::table::DeviceIds,
) -> Result<Lowered, ScenarioError> {
    let src = Source::new(path, text);
    let at_top = |span: Range<usize>, m: String| src.error(span, m);

    let seed = match &raw.seed {
        None => 0,
        Some(s) => u64::try_from(*s.get_ref())
            .map_err(|_| at_top(s.span(), "seed must be a non-negative integer".into()))?,
    };
    let tick_seconds = match &raw.tick {
        None => 3600,
        Some(t) => {
            let secs = super::time::parse_duration(t.get_ref())
                .map_err(|e| at_top(t.span(), format!("tick: {e}")))?;
            if secs == 0 {
                return Err(at_top(t.span(), "tick: must be longer than zero".into()));
            }
            if secs > crate::limits::MAX_TICK_SECONDS {
                return Err(at_top(
                    t.span(),
                    crate::limits::over(
                        format!("tick: \"{}\" is too long", t.get_ref()),
                        super::time::format_duration(crate::limits::MAX_TICK_SECONDS),
                    ),
                ));
            }
            secs
        }
    };
    let mut lw = Lowerer {
        src,
        catalog: Catalog::new(),
        tick_seconds,
        warnings: Vec::new(),
    };
    let duration_ticks = match &raw.duration {
        None => DEFAULT_DURATION_SECONDS.div_ceil(tick_seconds),
        Some(d) => lw
            .time(d)
            .map_err(|e| lw.src.error(d.span(), format!("duration: {e}")))?,
    };
    crate::limits::check_ticks("duration", duration_ticks).map_err(|m| {
        let span = raw.duration.as_ref().map_or(0..0, |d| d.span());
        lw.src.error(span, m)
    })?;
    let mut snapshots = Vec::new();
    for t in raw.snapshots.iter().flatten() {
        snapshots.push(
            lw.time(t)
                .map_err(|e| lw.src.error(t.span(), format!("snapshots: {e}")))?,
        );
    }
    snapshots.sort_unstable();
    snapshots.dedup();
    if snapshots.len() > crate::limits::MAX_SNAPSHOTS {
        let span = raw
            .snapshots
            .iter()
            .flatten()
            .next()
            .map_or(0..0, |t| t.span());
        return Err(lw.src.error(
            span,
            crate::limits::over(
                format!("snapshots: {} times are too many", snapshots.len()),
                crate::limits::MAX_SNAPSHOTS,
            ),
        ));
    }
    let mut costs = crate::model::Costs::default();
    if let Some(b) = &raw.bandwidth {
        let b = b.get_ref();
        let num = |n: &Spanned<RawNumber>| match *n.get_ref() {
            RawNumber::Int(i) => i as f64,
            RawNumber::Float(f) => f,
        };
        if let Some(p) = &b.price_per_gb {
            costs.price_per_gb = num(p);
            if !(costs.price_per_gb >= 0.0 && costs.price_per_gb.is_finite()) {
                return Err(lw
                    .src
                    .error(p.span(), "bandwidth: price_per_gb must not be negative"));
            }
        }
        if let Some(c) = &b.compression_ratio {
            costs.compression_ratio = num(c);
            if !(costs.compression_ratio > 0.0 && costs.compression_ratio <= 1.0) {
                return Err(lw.src.error(
                    c.span(),
                    "bandwidth: compression_ratio must be more than 0 and at most 1 (bytes on the wire per payload byte)",
                ));
            }
        }
    }
    let variant = super::variant::lower(&lw.src, raw.resolver.as_ref())?;
    lw.catalog.set_variant(variant);
    lw.software_types(&raw)?;
    lw.users(&raw)?;
    lw.cohorts(&raw)?;
    lw.project_keys(&raw)?;
    let install_failure = lw.releases(&raw)?;
    let delta_sizes = super::delta_sizes::lower(&lw, &raw.delta_sizes)?;
    let behaviour = lw.behaviour(raw.behaviour.as_ref(), &raw.profiles, &install_failure)?;
    let mut fleet = Fleet::new();
    let mut batch = super::synth::Batch::default();
    let raw_fleet = raw.fleet.as_ref();
    let no_groups: &[_] = &[];
    let groups = raw_fleet.map_or(no_groups, |f| &f.groups[..]);
    if let Some(n) = scale_to {
        crate::limits::check_devices(&format!("--devices {n}"), n).map_err(|message| {
            ScenarioError {
                file: path.to_path_buf(),
                line: None,
                message,
            }
        })?;
    }
    if let (Some(n), true) = (scale_to, groups.is_empty()) {
        return Err(ScenarioError {
            file: path.to_path_buf(),
            line: None,
            message: format!(
                "--devices {n}: the scenario has no synthetic [[fleet.groups]] to scale"
            ),
        });
    }
    // A table's ids may stay unread only where the fleet is that one table and nothing
    // names a device: no explicit devices or synthetic groups beside it (whose ids are
    // checked against its), no arrivals (likewise), no event with `device(s)`.
    let alone = match fleet_table {
        Some(_) => true,
        None => raw.devices.is_empty() && groups.is_empty(),
    };
    let device_ids = match device_ids {
        super::table::DeviceIds::Unread
            if alone
                && raw_fleet.is_none_or(|f| f.arrivals.is_empty())
                && raw.events.iter().all(|e| {
                    let e = e.get_ref();
                    e.device.is_none() && e.devices.is_none()
                }) =>
        {
            super::table::DeviceIds::Unread
        }
        _ => super::table::DeviceIds::Read,
    };
    match fleet_table {
        Some(table) => {
            super::table::read_fleet_table(table, &mut lw.catalog, &mut fleet, tables, device_ids)?
        }
        None => {
            for (i, d) in raw.devices.iter().enumerate() {
                lw.device(&mut fleet, i, d, behaviour.as_ref())?;
            }
            if let Some(import) = raw.fleet.as_ref().and_then(|f| f.import.as_ref()) {
                let table = path
                    .parent()
                    .unwrap_or(Path::new("."))
                    .join(import.get_ref());
                if !table.is_file() {
                    return Err(lw.src.error(
                        import.span(),
                        format!("fleet import: no such file {}", table.display()),
                    ));
                }
                super::table::read_fleet_table(
                    &table,
                    &mut lw.catalog,
                    &mut fleet,
                    tables,
                    device_ids,
                )?;
            }
            lw.groups(
                &mut batch,
                groups,
                raw_fleet.and_then(|f| f.devices.as_ref()),
                scale_to,
                seed,
                behaviour.as_ref(),
            )?;
        }
    }
    let arrivals = match raw_fleet {
        Some(f) => lw.arrivals(
            &fleet,
            &mut batch,
            &f.arrivals,
            duration_ticks,
            behaviour.as_ref(),
        )?,
        None => Vec::new(),
    };
    let devices = (fleet.len() + batch.len()) as u64;
    crate::limits::check_devices("fleet", devices).map_err(|message| ScenarioError {
        file: path.to_path_buf(),
        line: None,
        message,
    })?;
    batch.flush(&mut fleet, &lw.src)?;
    // Events come last: they name devices, and hardware versions that only releases
    // and devices define (R8).
    let mut events = Vec::with_capacity(raw.events.len());
    let mut policies = crate::policy::Policies {
        max_bytes_per_tick: lw.max_bytes_per_tick(raw.bandwidth.as_ref())?,
        windows: behaviour.as_ref().is_some_and(|b| b.has_windows()),
        ..Default::default()
    };
    for (i, e) in raw.events.iter().enumerate() {
        let event = lw.event(&fleet, i, e)?;
        policies
            .activations
            .extend(lw.activation_policy(&event, e.get_ref())?);
        events.push((event, lw.src.line(e.span().start)));
    }
    // Same-tick events apply in file order: a stable sort keeps it.
    events.sort_by_key(|(e, _)| e.at);
    let (events, lines): (Vec<Event>, Vec<usize>) = events.into_iter().unzip();
    Ok(Lowered {
        seed,
        tick_seconds,
        duration_ticks,
        catalog: lw.catalog,
        fleet,
        events,
        event_lines: lines.into_iter().map(Some).collect(),
        behaviour,
        arrivals,
        snapshots,
        costs,
        warnings: lw.warnings,
        delta_sizes,
        policies,
    })
}

impl<'a> Lowerer<'a> {
    pub fn time(&self, t: &Spanned<RawTime>) -> Result<u64, String> {
        match t.get_ref() {
            RawTime::Ticks(n) => {
                u64::try_from(*n).map_err(|_| format!("{n} is not a tick number (it is negative)"))
            }
            RawTime::Text(s) => parse_time_arg(s, self.tick_seconds),
        }
    }

    fn software_types(&mut self, raw: &RawScenario) -> Result<(), ScenarioError> {
        for (i, t) in raw.software_types.iter().enumerate() {
            let t = t.get_ref();
            let name = t.name.get_ref();
            let at = At::new(&self.src, format!("software type {i}"));
            if name.trim().is_empty() {
                return Err(at.err(t.name.span(), "name is empty"));
            }
            if i > 0
                && raw.software_types[..i]
                    .iter()
                    .any(|o| o.get_ref().name.get_ref() == name)
            {
                return Err(at.err(
                    t.name.span(),
                    format!("software type \"{name}\" is defined twice"),
                ));
            }
            let r = self
                .catalog
                .define_software_type(name, t.allow_build_metadata);
            at.cat(t.name.span(), r)?;
        }
        Ok(())
    }

    fn users(&mut self, raw: &RawScenario) -> Result<(), ScenarioError> {
        for (i, u) in raw.users.iter().enumerate() {
            let u = u.get_ref();
            let at = At {
                src: &self.src,
                what: format!("user \"{}\"", u.name.get_ref()),
            };
            let role = match u.role.as_ref().map(|r| r.get_ref().as_str()) {
                None | Some("member") => Role::Member,
                Some("project_manager") => Role::ProjectManager,
                Some("org_token") => Role::OrgToken {
                    permit_protected: u.permit_protected.as_ref().is_none_or(|p| *p.get_ref()),
                },
                Some(other) => {
                    return Err(at.err(
                        u.role.as_ref().unwrap().span(),
                        format!(
                            "unknown role \"{other}\" (use member, project_manager or org_token){}",
                            crate::catalog::did_you_mean(
                                other,
                                ["member", "project_manager", "org_token"]
                            )
                        ),
                    ))
                }
            };
            if let (Some(p), false) = (&u.permit_protected, matches!(role, Role::OrgToken { .. })) {
                return Err(at.err(
                    p.span(),
                    "permit_protected applies only to role \"org_token\"",
                ));
            }
            let _ = i;
            let mut teams = Vec::new();
            for t in &u.teams {
                let r = self.catalog.intern_team(t.get_ref());
                let id = At {
                    src: &self.src,
                    what: at.what.clone(),
                }
                .cat(t.span(), r)?;
                teams.push(id);
            }
            let r = self.catalog.define_user(User {
                name: u.name.get_ref().clone(),
                role,
                teams,
            });
            At {
                src: &self.src,
                what: at.what.clone(),
            }
            .cat(u.name.span(), r)?;
        }
        Ok(())
    }

    fn cohorts(&mut self, raw: &RawScenario) -> Result<(), ScenarioError> {
        // Names first, so that nothing depends on declaration order.
        for c in &raw.cohorts {
            let c = c.get_ref();
            let name = c.name.get_ref();
            let at = At::new(&self.src, format!("cohort \"{name}\""));
            if name.trim().is_empty() {
                return Err(at.err(c.name.span(), "name is empty"));
            }
            let approval_team = match &c.approval_team {
                None => None,
                Some(t) => Some(at.cat(t.span(), self.catalog.need_team(t.get_ref()))?),
            };
            let r = self.catalog.define_cohort(Cohort {
                name: name.clone(),
                disable_version_checking: c.disable_version_checking,
                protected: c.protected.unwrap_or(true),
                approval_team,
            });
            // `default` may be configured once; a second time is a duplicate.
            let dup = name == crate::catalog::DEFAULT_COHORT
                && raw
                    .cohorts
                    .iter()
                    .filter(|o| o.get_ref().name.get_ref() == name)
                    .count()
                    > 1;
            if dup {
                return Err(at.err(c.name.span(), "cohort \"default\" is defined twice"));
            }
            At::new(&self.src, format!("cohort \"{name}\"")).cat(c.name.span(), r)?;
        }
        Ok(())
    }

    fn project_keys(&mut self, raw: &RawScenario) -> Result<(), ScenarioError> {
        for k in &raw.project_keys {
            let k = k.get_ref();
            let at = At::new(&self.src, format!("project key \"{}\"", k.name.get_ref()));
            let ota = match &k.ota_cohort_override {
                None => None,
                Some(c) => Some(at.cat(c.span(), self.catalog.need_cohort(c.get_ref()))?),
            };
            let r = self.catalog.define_project_key(ProjectKey {
                name: k.name.get_ref().clone(),
                ota_cohort_override: ota,
            });
            At::new(&self.src, format!("project key \"{}\"", k.name.get_ref()))
                .cat(k.name.span(), r)?;
        }
        Ok(())
    }

    pub fn software_type_of(
        &self,
        what: &str,
        st: Option<&Str>,
    ) -> Result<SoftwareTypeId, ScenarioError> {
        match st {
            None => Ok(SoftwareTypeId(0)),
            Some(s) => {
                At::new(&self.src, what).cat(s.span(), self.catalog.need_software_type(s.get_ref()))
            }
        }
    }

    /// Adds the releases; returns each one's install failure probability, if set.
    fn releases(&mut self, raw: &RawScenario) -> Result<Vec<InstallFailure>, ScenarioError> {
        let mut install_failure = Vec::new();
        for (i, r) in raw.releases.iter().enumerate() {
            let span = r.span();
            let r = r.get_ref();
            let what = format!("release {i}");
            let st = self.software_type_of(&what, r.software_type.as_ref())?;
            let kind = match (&r.version, &r.from, &r.to) {
                (Some(v), None, None) => {
                    let version = self.version(&what, st, v)?;
                    ReleaseKind::Full {
                        version,
                        must_pass_through: r.must_pass_through.as_ref().is_some_and(|m| *m.get_ref()),
                    }
                }
                (None, Some(f), Some(t)) => {
                    if let Some(m) = &r.must_pass_through {
                        return Err(At::new(&self.src, what).err(
                            m.span(),
                            "must_pass_through applies only to full releases (a delta release has `from` and `to`)",
                        ));
                    }
                    let from = self.version(&what, st, f)?;
                    let to = self.version(&what, st, t)?;
                    ReleaseKind::Delta { from, to }
                }
                _ => {
                    return Err(At::new(&self.src, what).err(
                        span,
                        "a release needs either `version` (a full release) or both `from` and `to` (a delta release)",
                    ))
                }
            };
            let mut payloads = Vec::new();
            for (hw, size) in &r.payloads {
                if hw.trim().is_empty() {
                    return Err(At::new(&self.src, what.clone())
                        .err(size.span(), "payload hardware version is empty"));
                }
                let bytes = u64::try_from(*size.get_ref()).map_err(|_| {
                    At::new(&self.src, what.clone()).err(
                        size.span(),
                        format!("payload size for \"{hw}\" must not be negative"),
                    )
                })?;
                // Checked here too (add_release checks it again) to place it at the size.
                At::new(&self.src, what.clone())
                    .cat(size.span(), crate::catalog::check_payload(hw, bytes))?;
                let h = self.catalog.intern_hardware(hw);
                let h = At::new(&self.src, what.clone()).cat(size.span(), h)?;
                payloads.push((h, bytes));
            }
            let added = self.catalog.add_release(Release {
                software_type: st,
                kind,
                payloads,
                deleted: false,
            });
            let at = At::new(&self.src, what);
            let id = at.cat(span, added)?;
            let payloads = self.catalog.release(id).payloads.clone();
            install_failure.push(self.release_health(&at, r, &payloads)?);
        }
        Ok(install_failure)
    }

    fn version(
        &mut self,
        what: &str,
        st: SoftwareTypeId,
        v: &Str,
    ) -> Result<crate::ids::VersionId, ScenarioError> {
        let r = self.catalog.intern_version(st, v.get_ref());
        At::new(&self.src, what.to_string()).cat(v.span(), r)
    }

    fn device(
        &mut self,
        fleet: &mut Fleet,
        i: usize,
        d: &Spanned<super::raw::RawDevice>,
        behaviour: Option<&crate::behaviour::Behaviour>,
    ) -> Result<(), ScenarioError> {
        let span = d.span();
        let d = d.get_ref();
        let what = format!("device \"{}\"", d.id.get_ref());
        let _ = i;
        if d.id.get_ref().is_empty() {
            return Err(At::new(&self.src, what).err(d.id.span(), "device id is empty"));
        }
        let st = self.software_type_of(&what, d.software_type.as_ref())?;
        let version = self.version(&what, st, &d.software_version)?;
        let hw = self.catalog.intern_hardware(d.hardware_version.get_ref());
        let hardware = At::new(&self.src, what.clone()).cat(d.hardware_version.span(), hw)?;
        let cohort = match &d.cohort {
            None => CohortId(0),
            Some(c) => At::new(&self.src, what.clone())
                .cat(c.span(), self.catalog.need_cohort(c.get_ref()))?,
        };
        let project_key = match &d.project_key {
            None => None,
            Some(k) => Some(
                At::new(&self.src, what.clone())
                    .cat(k.span(), self.catalog.need_project_key(k.get_ref()))?,
            ),
        };
        let release_override = match &d.release_override {
            None => None,
            Some(o) => {
                let at = At::new(&self.src, what.clone());
                let id = at.cat(o.span(), self.catalog.find_release(st, o.get_ref()))?;
                at.cat(o.span(), self.catalog.check_override(id, st))?;
                Some(id)
            }
        };
        let last_seen = match &d.last_seen {
            None => None,
            Some(t) => Some(match t.get_ref() {
                RawTime::Ticks(n) => *n,
                RawTime::Text(_) => self.time(t).map_err(|e| {
                    At::new(&self.src, what.clone()).err(t.span(), format!("last_seen: {e}"))
                })? as i64,
            }),
        };
        let idx = fleet
            .push(NewDevice {
                id: d.id.get_ref().clone(),
                report: DeviceReport {
                    software_type: st,
                    version,
                    hardware,
                    project_key,
                    cohort,
                    staged: d.staged.unwrap_or(false),
                    release_override,
                },
                last_seen,
            })
            .map_err(|e| At::new(&self.src, what.clone()).err(span, e))?;
        let at = At::new(&self.src, what);
        let profile = self.profile_ref(&at, behaviour, d.profile.as_ref())?;
        fleet.set_profile(idx, profile);
        Ok(())
    }

    /// Lowers one event. Fields a given action does not take are errors, so a typo'd or
    /// misplaced field is never silently ignored.
    pub fn event(
        &self,
        fleet: &Fleet,
        index: usize,
        e: &Spanned<RawEvent>,
    ) -> Result<Event, ScenarioError> {
        let span = e.span();
        let e = e.get_ref();
        let action_name = e.action.get_ref().as_str();
        let at = At::new(&self.src, format!("event {index} ({action_name})"));
        let tick = self
            .time(&e.at)
            .map_err(|m| at.err(e.at.span(), format!("at: {m}")))?;

        const ACTIONS: [(&str, &[&str], &[&str]); 13] = [
            (
                "activate",
                &["release", "cohort"],
                &[
                    "rollout_percent",
                    "by",
                    "software_type",
                    "ramp",
                    "gate",
                    "max_downloads_per_tick",
                ],
            ),
            (
                "set_rollout",
                &["release", "cohort", "rollout_percent"],
                &["by", "software_type"],
            ),
            ("pull", &["release", "cohort"], &["by", "software_type"]),
            ("delete_release", &["release"], &["by", "software_type"]),
            ("set_override", &["device", "release"], &["by"]),
            ("clear_override", &["device"], &["by"]),
            ("stage", &[], BULK_FIELDS),
            ("unstage", &[], BULK_FIELDS),
            ("move", &["devices", "cohort"], &["by"]),
            (
                "set_cohort",
                &["cohort"],
                &[
                    "disable_version_checking",
                    "protected",
                    "approval_team",
                    "by",
                ],
            ),
            (
                "set_project_key",
                &["project_key"],
                &["ota_cohort_override", "by"],
            ),
            ("approve", &["release", "cohort", "by"], &["software_type"]),
            ("", &[], &[]),
        ];
        let Some(&(_, required, optional)) = ACTIONS
            .iter()
            .find(|(n, _, _)| !n.is_empty() && *n == action_name)
        else {
            let names: Vec<&str> = ACTIONS
                .iter()
                .map(|a| a.0)
                .filter(|n| !n.is_empty())
                .collect();
            return Err(at.err(
                e.action.span(),
                format!(
                    "unknown action \"{action_name}\"{} (actions: {})",
                    crate::catalog::did_you_mean(action_name, names.iter().copied()),
                    names.join(", ")
                ),
            ));
        };
        let present = e.present_fields();
        for (name, fspan) in &present {
            if !required.contains(name) && !optional.contains(name) {
                return Err(at.err(
                    fspan.clone(),
                    format!("field `{name}` does not apply to action `{action_name}`"),
                ));
            }
        }
        for name in required {
            if !present.iter().any(|(n, _)| n == name) {
                return Err(at.err(
                    span.clone(),
                    format!("action `{action_name}` needs `{name}`"),
                ));
            }
        }

        let st = self.software_type_of(&at.what, e.software_type.as_ref())?;
        let release = |r: &Option<Str>, st: SoftwareTypeId| -> Result<ReleaseId, ScenarioError> {
            let r = r.as_ref().expect("required field checked above");
            at.cat(r.span(), self.catalog.find_release(st, r.get_ref()))
        };
        let cohort = |c: &Option<Str>| -> Result<CohortId, ScenarioError> {
            let c = c.as_ref().expect("required field checked above");
            at.cat(c.span(), self.catalog.need_cohort(c.get_ref()))
        };
        let device = |d: &Str| -> Result<DeviceIdx, ScenarioError> {
            fleet.find(d.get_ref()).ok_or_else(|| {
                at.err(
                    d.span(),
                    format!(
                        "unknown device {}{}",
                        crate::limits::quote_id(d.get_ref()),
                        crate::limits::suggest_device(d.get_ref(), fleet.len(), fleet.ids())
                    ),
                )
            })
        };
        let devices = |ds: &Spanned<Vec<Str>>| -> Result<Vec<DeviceIdx>, ScenarioError> {
            if ds.get_ref().is_empty() {
                return Err(at.err(ds.span(), "`devices` is empty"));
            }
            ds.get_ref().iter().map(device).collect()
        };
        let percent = |p: &Spanned<RawNumber>| -> Result<Percent, ScenarioError> {
            let r = match p.get_ref() {
                RawNumber::Int(n) if *n >= 0 => Percent::parse(&n.to_string()),
                RawNumber::Int(n) => {
                    Err(format!("rollout percent {n} is not a number from 0 to 100"))
                }
                RawNumber::Float(f) => Percent::from_f64(*f),
            };
            r.map_err(|m| at.err(p.span(), m))
        };
        let by = match &e.by {
            None => Actor::Anonymous,
            Some(u) => Actor::User(at.cat(u.span(), self.catalog.need_user(u.get_ref()))?),
        };

        let action = match action_name {
            "activate" => Action::Activate {
                release: release(&e.release, st)?,
                cohort: cohort(&e.cohort)?,
                rollout: match (&e.rollout_percent, &e.ramp) {
                    (Some(p), Some(_)) => {
                        return Err(at.err(
                            p.span(),
                            "give either rollout_percent or a ramp, not both (a ramp's first step is the activation's percentage)",
                        ))
                    }
                    (Some(p), None) => Rollout::Staged(percent(p)?),
                    // R35: a ramp activates a staged rollout at its first step's
                    // percentage when that step is at the activation, else at 0 %.
                    (None, Some(r)) => {
                        let steps = self.ramp(&at, r, tick)?;
                        Rollout::Staged(
                            steps
                                .first()
                                .filter(|s| s.at == tick)
                                .map_or(Percent::whole(0), |s| s.percent),
                        )
                    }
                    (None, None) => Rollout::Normal,
                },
            },
            "set_rollout" => Action::SetRollout {
                release: release(&e.release, st)?,
                cohort: cohort(&e.cohort)?,
                percent: percent(e.rollout_percent.as_ref().expect("required"))?,
            },
            "pull" => Action::Pull {
                release: release(&e.release, st)?,
                cohort: cohort(&e.cohort)?,
            },
            "delete_release" => Action::DeleteRelease {
                release: release(&e.release, st)?,
            },
            "set_override" => {
                let d = device(e.device.as_ref().expect("required"))?;
                let dst = fleet.software_type(d);
                let r = release(&e.release, dst)?;
                at.cat(
                    e.release.as_ref().unwrap().span(),
                    self.catalog.check_override(r, dst),
                )?;
                Action::SetOverride {
                    device: d,
                    release: r,
                }
            }
            "clear_override" => Action::ClearOverride {
                device: device(e.device.as_ref().expect("required"))?,
            },
            "stage" | "unstage" => {
                let selection = match (&e.devices, &e.cohort) {
                    (Some(ds), None) => {
                        for (name, fspan) in &present {
                            if *name != "devices" && *name != "by" {
                                return Err(at.err(
                                    fspan.clone(),
                                    format!("field `{name}` is a bulk filter and cannot be combined with `devices`"),
                                ));
                            }
                        }
                        Selection::Ids(devices(ds)?)
                    }
                    (None, Some(_)) => Selection::Filter(self.filter(&at, e)?),
                    (Some(ds), Some(_)) => return Err(at.err(
                        ds.span(),
                        "give either `devices` (by id) or a bulk filter with `cohort`, not both",
                    )),
                    (None, None) => {
                        return Err(at.err(
                            span,
                            format!(
                            "action `{action_name}` needs `devices` or a bulk filter with `cohort`"
                        ),
                        ))
                    }
                };
                Action::Stage {
                    selection,
                    staged: action_name == "stage",
                }
            }
            "move" => Action::Move {
                devices: devices(e.devices.as_ref().expect("required"))?,
                cohort: cohort(&e.cohort)?,
            },
            "set_cohort" => {
                if e.disable_version_checking.is_none()
                    && e.protected.is_none()
                    && e.approval_team.is_none()
                {
                    return Err(at.err(
                        span,
                        "set_cohort changes nothing: give disable_version_checking, protected or approval_team",
                    ));
                }
                let approval_team = match &e.approval_team {
                    None => None,
                    Some(t) if t.get_ref().is_empty() => Some(None),
                    Some(t) => Some(Some(at.cat(t.span(), self.catalog.need_team(t.get_ref()))?)),
                };
                Action::SetCohort {
                    cohort: cohort(&e.cohort)?,
                    disable_version_checking: e
                        .disable_version_checking
                        .as_ref()
                        .map(|b| *b.get_ref()),
                    protected: e.protected.as_ref().map(|b| *b.get_ref()),
                    approval_team,
                }
            }
            "set_project_key" => {
                let k = e.project_key.as_ref().expect("required");
                let key = at.cat(k.span(), self.catalog.need_project_key(k.get_ref()))?;
                let ota_cohort_override = match &e.ota_cohort_override {
                    None => None,
                    Some(c) if c.get_ref().is_empty() => None,
                    Some(c) => Some(at.cat(c.span(), self.catalog.need_cohort(c.get_ref()))?),
                };
                Action::SetProjectKey {
                    key,
                    ota_cohort_override,
                }
            }
            "approve" => {
                let Actor::User(user) = by else {
                    unreachable!("`by` is required for approve")
                };
                Action::Approve {
                    release: release(&e.release, st)?,
                    cohort: cohort(&e.cohort)?,
                    by: user,
                }
            }
            _ => unreachable!("action names checked above"),
        };
        Ok(Event {
            at: tick,
            index,
            by,
            action,
        })
    }

    fn filter(&self, at: &At<'_, '_>, e: &RawEvent) -> Result<Filter, ScenarioError> {
        let c = e.cohort.as_ref().expect("checked by caller");
        let cohort = at.cat(c.span(), self.catalog.need_cohort(c.get_ref()))?;
        let hardware = match &e.hardware_version {
            None => None,
            Some(h) => Some(at.cat(h.span(), self.catalog.need_hardware(h.get_ref()))?),
        };
        let versions = match &e.software_version {
            None => None,
            Some(v) => {
                // A version string may exist in several software types: match them all.
                let ids: Vec<_> = (0..self.catalog.software_types().len())
                    .filter_map(|t| {
                        self.catalog
                            .version_id(SoftwareTypeId(t as u16), v.get_ref())
                    })
                    .collect();
                if ids.is_empty() {
                    if let Err(err) = crate::version::Version::parse(v.get_ref(), true, "any") {
                        return Err(at.err(v.span(), err));
                    }
                }
                Some(ids)
            }
        };
        let limit = match &e.limit {
            None => None,
            Some(l) => Some(
                usize::try_from(*l.get_ref())
                    .map_err(|_| at.err(l.span(), "limit must not be negative"))?,
            ),
        };
        let order = match &e.order {
            None => Order::File,
            Some(o) => Order::parse(o.get_ref()).ok_or_else(|| {
                let names: Vec<&str> = Order::NAMES.iter().map(|n| n.0).collect();
                at.err(
                    o.span(),
                    format!(
                        "unknown order \"{}\"{} (orders: {})",
                        o.get_ref(),
                        crate::catalog::did_you_mean(o.get_ref(), names.iter().copied()),
                        names.join(", ")
                    ),
                )
            })?,
        };
        Ok(Filter {
            cohort,
            hardware,
            versions,
            staged: e.staged.as_ref().map(|s| *s.get_ref()),
            limit,
            order,
        })
    }
}
