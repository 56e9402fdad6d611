//! Behaviour profiles and synthetic fleets (`[behaviour]`, `[[profiles]]`,
//! `[[fleet.groups]]`, `[[fleet.arrivals]]`).

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use toml::Spanned;

use super::lower::{At, Lowerer};
use super::raw::{RawArrival, RawGroup, RawNumber, RawProfile, RawTime, Str};
use super::ScenarioError;
use crate::behaviour::{Behaviour, Profile};
use crate::fleet::{DeviceColumns, Digits, Fleet, Synthetic};
use crate::ids::{CohortId, DeviceIdx, SoftwareTypeId};

fn number(n: &RawNumber) -> f64 {
    match *n {
        RawNumber::Int(i) => i as f64,
        RawNumber::Float(f) => f,
    }
}

fn probability(at: &At<'_, '_>, name: &str, p: &Spanned<RawNumber>) -> Result<f64, ScenarioError> {
    let v = number(p.get_ref());
    if !(0.0..=1.0).contains(&v) {
        return Err(at.err(
            p.span(),
            format!("{name} must be a probability from 0 to 1, not {v}"),
        ));
    }
    Ok(v)
}

impl Lowerer<'_> {
    fn ticks(
        &self,
        at: &At<'_, '_>,
        name: &str,
        t: &Spanned<RawTime>,
    ) -> Result<u64, ScenarioError> {
        self.time(t)
            .map_err(|m| at.err(t.span(), format!("{name}: {m}")))
    }

    fn profile(
        &self,
        at: &At<'_, '_>,
        base: &Profile,
        raw: &RawProfile,
    ) -> Result<Profile, ScenarioError> {
        let mut p = base.clone();
        if let Some(t) = &raw.poll_interval {
            p.poll_interval = self.ticks(at, "poll_interval", t)?;
            crate::limits::check_ticks("poll_interval", p.poll_interval)
                .map_err(|m| at.err(t.span(), m))?;
            if p.poll_interval == 0 {
                return Err(at.err(t.span(), "poll_interval must be at least one tick"));
            }
        }
        if let Some(t) = &raw.poll_jitter {
            p.poll_jitter = self.ticks(at, "poll_jitter", t)?;
            crate::limits::check_ticks("poll_jitter", p.poll_jitter)
                .map_err(|m| at.err(t.span(), m))?;
        }
        if let Some(v) = &raw.online_probability {
            p.online_probability = probability(at, "online_probability", v)?;
        }
        if let Some(v) = &raw.link_bytes_per_second {
            let rate = number(v.get_ref());
            if !(rate >= 0.0 && rate.is_finite()) {
                return Err(at.err(v.span(), "link_bytes_per_second must not be negative"));
            }
            p.link_bytes_per_tick = (rate * self.tick_seconds() as f64).round() as u64;
            if rate > 0.0 && p.link_bytes_per_tick == 0 {
                p.link_bytes_per_tick = 1;
            }
        }
        if let Some(v) = &raw.download_failure_probability {
            p.download_failure_probability = probability(at, "download_failure_probability", v)?;
        }
        if let Some(v) = raw.resume_downloads {
            p.resume_downloads = v;
        }
        if let Some(v) = &raw.install_failure_probability {
            p.install_failure_probability = probability(at, "install_failure_probability", v)?;
        }
        if let Some(v) = &raw.retirement_rate_per_day {
            p.retirement_per_day = probability(at, "retirement_rate_per_day", v)?;
        }
        p.update_window = self.update_window(at, p.update_window, raw)?;
        Ok(p)
    }

    /// Lowers `[behaviour]` and `[[profiles]]`; `None` when neither is declared (a
    /// static fleet: devices never poll).
    pub fn behaviour(
        &self,
        default: Option<&Spanned<RawProfile>>,
        profiles: &[Spanned<RawProfile>],
        releases: &[super::lower::InstallFailure],
    ) -> Result<Option<Behaviour>, ScenarioError> {
        if default.is_none() && profiles.is_empty() {
            if let Some(span) = releases.iter().find_map(|(_, s)| s.as_ref()) {
                return Err(self.src.error(
                    span.clone(),
                    "install_failure_probability and boot_failure_probability need a device behaviour model: add a [behaviour] table",
                ));
            }
            return Ok(None);
        }
        let standard = Profile::standard(self.tick_seconds());
        let base = match default {
            None => standard,
            Some(d) => {
                let at = At::new(&self.src, "behaviour");
                if let Some(n) = &d.get_ref().name {
                    return Err(at.err(
                        n.span(),
                        "[behaviour] is the default profile and takes no name",
                    ));
                }
                self.profile(&at, &standard, d.get_ref())?
            }
        };
        let mut all = vec![base.clone()];
        for (i, p) in profiles.iter().enumerate() {
            let at = At::new(&self.src, format!("profile {i}"));
            let Some(name) = &p.get_ref().name else {
                return Err(at.err(p.span(), "a profile needs a `name`"));
            };
            let at = At::new(&self.src, format!("profile \"{}\"", name.get_ref()));
            if all.iter().any(|q| &q.name == name.get_ref()) {
                return Err(at.err(
                    name.span(),
                    format!(
                        "profile \"{}\" is defined twice (\"default\" is the [behaviour] table)",
                        name.get_ref()
                    ),
                ));
            }
            if all.len() >= 255 {
                return Err(at.err(name.span(), "too many profiles (at most 254)"));
            }
            let mut q = self.profile(&at, &base, p.get_ref())?;
            q.name = name.get_ref().clone();
            all.push(q);
        }
        Ok(Some(Behaviour::new(
            all,
            releases.iter().map(|(h, _)| h.clone()).collect(),
            self.tick_seconds(),
        )))
    }

    /// Resolves a `profile = "name"` reference (R8).
    pub fn profile_ref(
        &self,
        at: &At<'_, '_>,
        behaviour: Option<&Behaviour>,
        name: Option<&Str>,
    ) -> Result<u8, ScenarioError> {
        let Some(name) = name else { return Ok(0) };
        let Some(b) = behaviour else {
            return Err(at.err(
                name.span(),
                "profile given but the scenario declares no [behaviour]",
            ));
        };
        b.profile_id(name.get_ref()).ok_or_else(|| {
            at.err(
                name.span(),
                format!(
                    "unknown profile \"{}\"{}",
                    name.get_ref(),
                    crate::catalog::did_you_mean(
                        name.get_ref(),
                        b.profiles.iter().map(|p| p.name.as_str())
                    )
                ),
            )
        })
    }

    /// Common fields of a group or an arrival stream.
    #[allow(clippy::too_many_arguments)]
    fn template(
        &mut self,
        what: &str,
        software_type: Option<&Str>,
        cohort: Option<&Str>,
        project_key: Option<&Str>,
        hardware: &Str,
    ) -> Result<
        (
            SoftwareTypeId,
            CohortId,
            Option<crate::ids::ProjectKeyId>,
            crate::ids::HardwareId,
        ),
        ScenarioError,
    > {
        let at = At::new(&self.src, what);
        let st = match software_type {
            None => SoftwareTypeId(0),
            Some(s) => at.cat(s.span(), self.catalog.need_software_type(s.get_ref()))?,
        };
        let cohort = match cohort {
            None => CohortId(0),
            Some(c) => at.cat(c.span(), self.catalog.need_cohort(c.get_ref()))?,
        };
        let key = match project_key {
            None => None,
            Some(k) => Some(at.cat(k.span(), self.catalog.need_project_key(k.get_ref()))?),
        };
        let hw = self.catalog.intern_hardware(hardware.get_ref());
        let hw = at.cat(hardware.span(), hw)?;
        Ok((st, cohort, key, hw))
    }

    /// Adds the synthetic groups to `fleet`. `total` is `--devices` (or `[fleet] devices`).
    #[allow(clippy::too_many_arguments)]
    pub fn groups(
        &mut self,
        batch: &mut Batch,
        groups: &[Spanned<RawGroup>],
        declared_total: Option<&Spanned<i64>>,
        scale_to: Option<u64>,
        seed: u64,
        behaviour: Option<&Behaviour>,
    ) -> Result<(), ScenarioError> {
        if groups.is_empty() {
            return Ok(());
        }
        let total = match declared_total {
            None => None,
            Some(t) => Some(
                u64::try_from(*t.get_ref())
                    .map_err(|_| "fleet: devices must not be negative".to_string())
                    .and_then(|n| {
                        crate::limits::check_devices("fleet: devices", n)?;
                        Ok(n)
                    })
                    .map_err(|m| self.src.error(t.span(), m))?,
            ),
        };
        // Sizes before scaling: counts as given, shares of the declared total.
        let mut sizes = Vec::with_capacity(groups.len());
        for (i, g) in groups.iter().enumerate() {
            let gr = g.get_ref();
            let at = At::new(&self.src, format!("fleet group {i}"));
            let size = match (&gr.count, &gr.share) {
                (Some(c), None) => u64::try_from(*c.get_ref())
                    .map_err(|_| at.err(c.span(), "count must not be negative"))?
                    as f64,
                (None, Some(s)) => {
                    let share = number(s.get_ref());
                    if !(0.0..=1.0).contains(&share) {
                        return Err(at.err(s.span(), "share must be from 0 to 1"));
                    }
                    match total.or(scale_to) {
                        Some(t) => share * t as f64,
                        None => {
                            return Err(at.err(
                                s.span(),
                                "a group given by share needs a total: set `devices` in [fleet] (or pass --devices)",
                            ))
                        }
                    }
                }
                _ => {
                    return Err(at.err(
                        g.span(),
                        "a fleet group needs exactly one of `count` or `share`",
                    ))
                }
            };
            sizes.push(size);
        }
        let target = scale_to
            .map(|n| n as f64)
            .unwrap_or_else(|| sizes.iter().sum());
        let sum: f64 = sizes.iter().sum();
        let shares: Vec<f64> = groups
            .iter()
            .filter_map(|g| g.get_ref().share.as_ref().map(|s| number(s.get_ref())))
            .collect();
        let share_sum: f64 = shares.iter().sum();
        if let (Some(t), false, true) = (
            total.filter(|_| scale_to.is_none()),
            shares.is_empty(),
            (share_sum - 1.0).abs() > 1e-9,
        ) {
            let span = declared_total.map_or(groups[0].span(), |d| d.span());
            self.warnings.push(self.src.error(
                span,
                format!(
                    "fleet: the groups' shares add up to {share_sum}, not 1, so {} of devices = {t} are created",
                    (share_sum * t as f64).round()
                ),
            ));
        }
        let weights: Vec<f64> = if sum > 0.0 {
            sizes.iter().map(|s| s / sum).collect()
        } else {
            sizes.clone()
        };
        if target > crate::limits::MAX_DEVICES as f64 {
            let span = declared_total.map_or_else(|| groups[0].span(), |t| t.span());
            return Err(self.src.error(
                span,
                crate::limits::over(
                    format!("fleet groups: {target:.0} devices is too many"),
                    crate::limits::MAX_DEVICES,
                ),
            ));
        }
        let counts = largest_remainder(&weights, target.round() as u64);
        for (i, (g, &n)) in groups.iter().zip(&counts).enumerate() {
            let gr = g.get_ref();
            let what = format!("fleet group {i}");
            let (st, cohort, key, hw) = self.template(
                &what,
                gr.software_type.as_ref(),
                gr.cohort.as_ref(),
                gr.project_key.as_ref(),
                &gr.hardware_version,
            )?;
            let at = At::new(&self.src, what);
            let profile = self.profile_ref(&at, behaviour, gr.profile.as_ref())?;
            if gr.versions.get_ref().is_empty() {
                return Err(at.err(
                    gr.versions.span(),
                    "versions is empty: give at least one version with a weight",
                ));
            }
            let mut versions = Vec::new();
            let mut vweights = Vec::new();
            for (text, w) in gr.versions.get_ref() {
                let v = self.catalog.intern_version(st, text);
                versions.push(at.cat(w.span(), v)?);
                let w = number(w.get_ref());
                if !(w >= 0.0 && w.is_finite()) {
                    return Err(at.err(
                        gr.versions.span(),
                        format!("weight of \"{text}\" must not be negative"),
                    ));
                }
                vweights.push(w);
            }
            let wsum: f64 = vweights.iter().sum();
            if wsum <= 0.0 {
                return Err(at.err(gr.versions.span(), "version weights add up to zero"));
            }
            // Weights written as shares (none above 1) that do not add up to 1 are most
            // likely a slip: they are rescaled, and said so.
            if vweights.iter().all(|&w| w <= 1.0) && (wsum - 1.0).abs() > 1e-9 {
                self.warnings.push(at.err(
                    gr.versions.span(),
                    format!(
                        "version shares add up to {wsum}, not 1: they are rescaled to add up to 1"
                    ),
                ));
            }
            let vweights: Vec<f64> = vweights.iter().map(|w| w / wsum).collect();
            let vcounts = largest_remainder(&vweights, n);
            let mut assigned: Vec<u32> = Vec::with_capacity(n as usize);
            for (k, &c) in vcounts.iter().enumerate() {
                assigned.extend(std::iter::repeat_n(k as u32, c as usize));
            }
            // A seeded shuffle so that versions are spread through the group's ids (bulk
            // actions in file order see a realistic mix), reproducibly (R22).
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(1 << 40 | i as u64);
            assigned.shuffle(&mut rng);
            let name = gr
                .name
                .as_ref()
                .map_or_else(|| format!("g{i}"), |n| n.get_ref().clone());
            let width = n.saturating_sub(1).to_string().len();
            batch.add(
                Synthetic {
                    prefix: format!("{name}-"),
                    digits: Digits::Padded(width as u8),
                    count: n as u32,
                },
                &Template {
                    software_type: st,
                    hardware: hw,
                    cohort,
                    project_key: key,
                    profile,
                    present: true,
                },
                assigned.iter().map(|&k| versions[k as usize]),
                g.span(),
            );
        }
        Ok(())
    }

    /// Adds arriving devices (absent until their tick) and returns (tick, device) pairs
    /// sorted by tick.
    pub fn arrivals(
        &mut self,
        fleet: &Fleet,
        batch: &mut Batch,
        arrivals: &[Spanned<RawArrival>],
        duration_ticks: u64,
        behaviour: Option<&Behaviour>,
    ) -> Result<Vec<(u64, DeviceIdx)>, ScenarioError> {
        let mut out = Vec::new();
        for (i, a) in arrivals.iter().enumerate() {
            let ar = a.get_ref();
            let what = format!("fleet arrivals {i}");
            let (st, cohort, key, hw) = self.template(
                &what,
                ar.software_type.as_ref(),
                ar.cohort.as_ref(),
                ar.project_key.as_ref(),
                &ar.hardware_version,
            )?;
            let at = At::new(&self.src, what);
            let profile = self.profile_ref(&at, behaviour, ar.profile.as_ref())?;
            let version = self
                .catalog
                .intern_version(st, ar.software_version.get_ref());
            let version = at.cat(ar.software_version.span(), version)?;
            let per_day = number(ar.per_day.get_ref());
            if !(per_day >= 0.0 && per_day.is_finite()) {
                return Err(at.err(ar.per_day.span(), "per_day must not be negative"));
            }
            let bounded = |name: &str, t: &Spanned<RawTime>| -> Result<u64, ScenarioError> {
                let ticks = self.ticks(&at, name, t)?;
                crate::limits::check_ticks(name, ticks).map_err(|m| at.err(t.span(), m))?;
                Ok(ticks)
            };
            let start = match &ar.start {
                None => 0,
                Some(t) => bounded("start", t)?,
            };
            let end = match &ar.end {
                None => duration_ticks,
                Some(t) => bounded("end", t)?,
            };
            let per_tick = per_day * self.tick_seconds() as f64 / 86_400.0;
            // Counted before any is made: the stream and everything before it.
            let due = (per_tick * end.saturating_sub(start) as f64).floor();
            let before = (fleet.len() + batch.len()) as f64;
            if due + before > crate::limits::MAX_DEVICES as f64 {
                return Err(at.err(
                    ar.per_day.span(),
                    crate::limits::over(
                        format!("{due:.0} arriving devices make the fleet too large"),
                        crate::limits::MAX_DEVICES,
                    ),
                ));
            }
            let name = ar
                .name
                .as_ref()
                .map_or_else(|| format!("new{i}"), |n| n.get_ref().clone());
            let mut ticks: Vec<u64> = Vec::new();
            for t in start..end {
                // Cumulative rounding keeps the long-run rate exact without drift.
                let due = (per_tick * (t - start + 1) as f64).floor() as usize;
                ticks.resize(due.max(ticks.len()), t);
            }
            let first = fleet.len() + batch.len();
            batch.add(
                Synthetic {
                    prefix: format!("{name}-"),
                    digits: Digits::Plain,
                    count: ticks.len() as u32,
                },
                &Template {
                    software_type: st,
                    hardware: hw,
                    cohort,
                    project_key: key,
                    profile,
                    present: false,
                },
                std::iter::repeat_n(version, ticks.len()),
                a.span(),
            );
            out.extend(
                ticks
                    .iter()
                    .enumerate()
                    .map(|(j, &t)| (t, DeviceIdx((first + j) as u32))),
            );
        }
        out.sort_by_key(|&(t, d)| (t, d));
        Ok(out)
    }
}

/// What the devices of one group or arrival stream share.
pub struct Template {
    software_type: SoftwareTypeId,
    hardware: crate::ids::HardwareId,
    cohort: CohortId,
    project_key: Option<crate::ids::ProjectKeyId>,
    profile: u8,
    present: bool,
}

/// Synthetic devices gathered from every group and arrival stream, added to the fleet in
/// one bulk load. Their ids are ranges (`<name>-<index>`), which the fleet computes
/// rather than stores.
#[derive(Default)]
pub struct Batch {
    ranges: Vec<Synthetic>,
    rows: usize,
    columns: DeviceColumns,
    keys: Vec<Option<crate::ids::ProjectKeyId>>,
    profiles: Vec<u8>,
    present: Vec<bool>,
    /// (first row, span of the group) for error messages.
    spans: Vec<(usize, std::ops::Range<usize>)>,
}

impl Batch {
    /// Devices gathered so far.
    pub fn len(&self) -> usize {
        self.rows
    }

    fn add(
        &mut self,
        ids: Synthetic,
        t: &Template,
        versions: impl ExactSizeIterator<Item = crate::ids::VersionId>,
        span: std::ops::Range<usize>,
    ) {
        let n = versions.len();
        debug_assert_eq!(n, ids.count as usize);
        self.spans.push((self.len(), span));
        self.rows += n;
        self.ranges.push(ids);
        let c = &mut self.columns;
        c.version.extend(versions);
        c.software_type.resize(c.version.len(), t.software_type);
        c.hardware.resize(c.version.len(), t.hardware);
        c.cohort.resize(c.version.len(), t.cohort);
        self.keys.resize(c.version.len(), t.project_key);
        self.profiles.resize(c.version.len(), t.profile);
        self.present.resize(c.version.len(), t.present);
    }

    /// Adds every gathered device to `fleet`; a duplicate id names its group's line.
    pub fn flush(
        mut self,
        fleet: &mut Fleet,
        src: &super::lower::Source<'_>,
    ) -> Result<(), ScenarioError> {
        let n = self.len();
        if n == 0 {
            return Ok(());
        }
        let first = fleet.len();
        if self.keys.iter().any(Option::is_some) {
            self.columns.project_key = Some(std::mem::take(&mut self.keys));
        }
        let ranges = std::mem::take(&mut self.ranges);
        if let Err(e) = fleet.push_synthetic(ranges, std::mem::take(&mut self.columns)) {
            let span = self
                .spans
                .iter()
                .rev()
                .find(|(start, _)| *start <= e.row)
                .map_or(0..0, |(_, s)| s.clone());
            return Err(src.error(span, e.message));
        }
        for (j, (&profile, &present)) in self.profiles.iter().zip(&self.present).enumerate() {
            let d = DeviceIdx((first + j) as u32);
            fleet.set_profile(d, profile);
            if !present {
                fleet.set_present(d, false);
            }
        }
        Ok(())
    }
}

/// Splits `total` into integer parts proportional to `weights` (summing to 1), exactly:
/// floors first, then the largest remainders get one more (ties to the earlier part).
pub fn largest_remainder(weights: &[f64], total: u64) -> Vec<u64> {
    let raw: Vec<f64> = weights.iter().map(|w| w * total as f64).collect();
    let mut parts: Vec<u64> = raw.iter().map(|r| r.floor() as u64).collect();
    let assigned: u64 = parts.iter().sum();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let ra = raw[a] - raw[a].floor();
        let rb = raw[b] - raw[b].floor();
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for &i in order
        .iter()
        .cycle()
        .take(total.saturating_sub(assigned) as usize)
    {
        parts[i] += 1;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::largest_remainder;

    #[test]
    fn largest_remainder_is_exact() {
        assert_eq!(largest_remainder(&[0.5, 0.5], 3), [2, 1]);
        assert_eq!(largest_remainder(&[0.7, 0.2, 0.1], 10), [7, 2, 1]);
        assert_eq!(
            largest_remainder(&[1.0 / 3.0; 3], 100).iter().sum::<u64>(),
            100
        );
        assert_eq!(largest_remainder(&[0.25; 4], 0), [0, 0, 0, 0]);
    }
}
