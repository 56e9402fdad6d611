//! `otasim explain`: an OTA console's "inspect details" for one device. What it reports, its
//! effective cohort and why, then the resolver's trail as sentences that cite the rules.

use std::fmt::Write as _;
use std::io::Write;

use anyhow::Result;

use otasim::catalog::{Catalog, ReleaseKind, Rollout};
use otasim::fleet::{DeviceReport, Fleet};
use otasim::ids::{CohortId, DeviceIdx, ReleaseId};
use otasim::matrix::{self, Final};
use otasim::resolver::{self, Decision, NoTrail, Rule, Skip, Step};

use crate::cli::args::ExplainArgs;
use crate::cli::output::{tick_label, write_aligned, Align};

/// What a staged rollout in `cohort` reaches: its one staged set (R20), shared by every
/// staged activation there, so a "10 %" rollout sees the set a later 50 % one grew.
fn staged_set_line(catalog: &Catalog, fleet: &Fleet, cohort: CohortId) -> String {
    let (mut n, mut staged) = (0u64, 0u64);
    for d in fleet.members(cohort) {
        n += 1;
        staged += u64::from(fleet.staged(d));
    }
    let share = if n == 0 {
        0.0
    } else {
        staged as f64 * 100.0 / n as f64
    };
    let sized = match catalog.staged_set_sized_by(cohort) {
        Some((r, p)) => format!(
            ", last sized by the {p} % rollout of {} (R19)",
            catalog.release_name(r)
        ),
        None => String::new(),
    };
    format!(
        "staged rollouts there all reach the cohort's one staged set (R20): {staged} of {n} devices ({share:.1} %) now{sized}"
    )
}

/// Runs the command.
pub fn run(args: &ExplainArgs, out: &mut impl Write) -> Result<()> {
    let mut scenario = crate::cli::load(&args.input)?;
    let (tick, state) = crate::cli::state_at(&mut scenario, &args.at)?;
    let device = crate::cli::for_flag(
        crate::cli::find_device(&state.fleet, &args.device),
        "--device",
    )?;
    let when = tick_label(tick, scenario.tick_seconds);
    let text = explain(&state.catalog, &state.fleet, device, &when);
    out.write_all(text.as_bytes())?;
    Ok(())
}

/// The whole explanation, as text.
pub fn explain(catalog: &Catalog, fleet: &Fleet, device: DeviceIdx, when: &str) -> String {
    let report = fleet.report(device);
    let mut trail: Vec<Step> = Vec::new();
    let decision = resolver::resolve(catalog, &report, &mut trail);
    let effective = resolver::effective_cohort(catalog, &report);
    let e = Explainer {
        catalog,
        report,
        decision,
    };
    let mut s = String::new();

    // What the device reports (spec §4).
    let _ = writeln!(s, "device {} at {when}", fleet.id(device));
    let _ = writeln!(s);
    let _ = writeln!(s, "what it reports");
    let stored = &catalog.cohort(report.cohort).name;
    let key = match report.project_key {
        None => "none".to_string(),
        Some(k) => {
            let key = catalog.project_key(k);
            match key.ota_cohort_override {
                Some(c) => format!(
                    "\"{}\" (overrides the OTA cohort to \"{}\")",
                    key.name,
                    catalog.cohort(c).name
                ),
                None => format!("\"{}\" (no OTA cohort override)", key.name),
            }
        }
    };
    let last_seen = match fleet.last_seen(device) {
        Some(t) => format!("tick {t}"),
        None => "never".to_string(),
    };
    let facts: Vec<Vec<String>> = vec![
        vec![
            "software type".into(),
            format!("\"{}\"", catalog.software_type(report.software_type).name),
        ],
        vec!["software version".into(), e.version(report.version)],
        vec![
            "hardware version".into(),
            format!("\"{}\"", catalog.hardware_name(report.hardware)),
        ],
        vec!["project key".into(), key],
        vec!["cohort".into(), format!("\"{stored}\"")],
        vec![
            "staged".into(),
            format!(
                "{} (in its cohort \"{stored}\", R10)",
                if report.staged { "yes" } else { "no" }
            ),
        ],
        vec![
            "release override".into(),
            report
                .release_override
                .map_or("none".to_string(), |r| catalog.release_name(r)),
        ],
        vec!["last seen".into(), last_seen],
    ];
    let mut buf = Vec::new();
    let _ = write_aligned(&mut buf, "  ", &facts[0], &facts[1..], &[Align::Left; 2]);
    s.push_str(&String::from_utf8_lossy(&buf));

    // R9, R10, R17: the cohort the decision uses.
    let _ = writeln!(s);
    let c = catalog.cohort(effective);
    let why = match trail.iter().find_map(|st| match st {
        Step::EffectiveCohort { via_key, .. } => *via_key,
        _ => None,
    }) {
        Some(k) => format!(
            "project key \"{}\" overrides the OTA cohort (R9); the device stays in \"{stored}\", and its staged flag from there is kept (R10)",
            catalog.project_key(k).name
        ),
        None => "the device's own cohort (R9)".to_string(),
    };
    let _ = writeln!(s, "effective cohort \"{}\": {why}", c.name);
    if c.disable_version_checking {
        let _ = writeln!(
            s,
            "  version checking is disabled in \"{}\": no must-pass-through step, and the highest full release wins even if it is lower (R17)",
            c.name
        );
    }
    let active: Vec<String> = catalog
        .activations()
        .filter(|&(r, cohort, _)| {
            cohort == effective && catalog.release(r).software_type == report.software_type
        })
        .map(|(r, _, rollout)| {
            format!("{} ({})", catalog.release_name(r), Explainer::mode(rollout))
        })
        .collect();
    let _ = writeln!(
        s,
        "  active there: {}",
        if active.is_empty() {
            "nothing".to_string()
        } else {
            active.join(", ")
        }
    );
    let any_staged = catalog.activations().any(|(r, cohort, rollout)| {
        cohort == effective
            && catalog.release(r).software_type == report.software_type
            && matches!(rollout, Rollout::Staged(_))
    });
    if any_staged {
        let _ = writeln!(s, "  {}", staged_set_line(catalog, fleet, effective));
    }
    let pending: Vec<String> = catalog
        .pending_requests()
        .filter(|&(r, cohort, _)| {
            cohort == effective && catalog.release(r).software_type == report.software_type
        })
        .map(|(r, _, _)| catalog.release_name(r))
        .collect();
    if !pending.is_empty() {
        let _ = writeln!(
            s,
            "  awaiting approval there (not active yet, R26): {}",
            pending.join(", ")
        );
    }

    // R32: the variant of R12–R15 in force.
    let variant = catalog.variant();
    if variant.is_default() {
        let _ = writeln!(
            s,
            "resolver: the rules as written ({variant}; no [resolver] variant, R32)"
        );
    } else {
        let _ = writeln!(s, "resolver variant (R32): {variant}");
    }

    // The resolver's trail, one line per release it looked at.
    let _ = writeln!(s);
    let lines = e.trail_lines(&trail, effective);
    let fell_back = trail.contains(&Step::OverrideFallback);
    if report.release_override.is_some() && !fell_back {
        let _ = writeln!(
            s,
            "the release override alone decides: activations, cohorts, must-pass-through and delta releases are ignored, and downgrades are allowed (R12)"
        );
    } else {
        let precedence: Vec<&str> = catalog
            .variant()
            .precedence
            .iter()
            .map(|rule| match rule {
                Rule::Delta => "delta R13",
                Rule::MustPassThrough => "must-pass-through R14",
                _ => "full R15",
            })
            .collect();
        let _ = writeln!(
            s,
            "releases of software type \"{}\" (precedence: {}, then {}, then {})",
            catalog.software_type(report.software_type).name,
            precedence[0],
            precedence[1],
            precedence[2]
        );
    }
    if lines.is_empty() {
        let _ = writeln!(s, "  (no releases)");
    } else {
        let mut buf = Vec::new();
        let header = lines[0].clone();
        let _ = write_aligned(&mut buf, "  ", &header, &lines[1..], &[Align::Left; 3]);
        s.push_str(&String::from_utf8_lossy(&buf));
    }

    // The decision and where the device ends up.
    let _ = writeln!(s);
    let _ = writeln!(s, "decision: {}", e.decision_text(&trail));
    let _ = writeln!(s, "final version: {}", e.final_text());
    s
}

struct Explainer<'a> {
    catalog: &'a Catalog,
    report: DeviceReport,
    decision: Decision,
}

impl Explainer<'_> {
    fn version(&self, v: otasim::ids::VersionId) -> String {
        self.catalog.version(v).to_string()
    }

    fn current(&self) -> String {
        self.version(self.report.version)
    }

    fn kind(&self, r: ReleaseId) -> &'static str {
        match self.catalog.release(r).kind {
            ReleaseKind::Full {
                must_pass_through: true,
                ..
            } => "full, must-pass-through",
            ReleaseKind::Full { .. } => "full",
            ReleaseKind::Delta { .. } => "delta",
        }
    }

    fn mode(rollout: Rollout) -> String {
        match rollout {
            Rollout::Normal => "normal".to_string(),
            Rollout::Staged(p) => format!("staged rollout {p} %"),
        }
    }

    /// The rule a decided update cites: R17 stands in for R15 when version checking is
    /// disabled in the effective cohort.
    fn cite(&self, rule: Rule) -> &'static str {
        match rule {
            Rule::None => "R18",
            Rule::Override => "R12",
            Rule::Delta => "R13",
            Rule::MustPassThrough => "R14",
            Rule::Full => {
                let cohort = resolver::effective_cohort(self.catalog, &self.report);
                if self.catalog.cohort(cohort).disable_version_checking {
                    "R17"
                } else {
                    "R15"
                }
            }
        }
    }

    fn trail_lines(&self, trail: &[Step], effective: otasim::ids::CohortId) -> Vec<Vec<String>> {
        let mut lines = vec![vec![
            "release".to_string(),
            "kind".to_string(),
            "outcome".to_string(),
        ]];
        let mut mentioned: Vec<ReleaseId> = Vec::new();
        for step in trail {
            let (id, text) = match *step {
                // Only a chosen override gets a line of its own; otherwise the step
                // after it says why it was not used.
                Step::OverrideConsidered(id) if self.decision.release == Some(id) => (
                    id,
                    "the device's release override: chosen (R12)".to_string(),
                ),
                Step::OverrideConsidered(_) => continue,
                Step::Skipped(id, why) => (id, self.skip_text(id, why, effective)),
                Step::Candidate(id) => (id, self.candidate_text(id)),
                Step::EffectiveCohort { .. }
                | Step::VersionCheckingDisabled
                | Step::OverrideFallback
                | Step::Decided(_) => continue,
            };
            mentioned.push(id);
            lines.push(vec![
                self.catalog.release_name(id),
                self.kind(id).to_string(),
                text,
            ]);
        }
        if self.report.release_override.is_none() {
            // Releases the resolver never had to name: applicable, but another answer came
            // first (only under R17, which looks at the highest Full release alone).
            for (id, r) in self.catalog.releases() {
                if r.deleted
                    || r.software_type != self.report.software_type
                    || mentioned.contains(&id)
                {
                    continue;
                }
                let text = if r.is_full() {
                    "applicable, but not the highest applicable full release (R17)"
                } else {
                    "applicable, not chosen"
                };
                lines.push(vec![
                    self.catalog.release_name(id),
                    self.kind(id).to_string(),
                    text.to_string(),
                ]);
            }
        }
        if lines.len() == 1 {
            lines.clear();
        }
        lines
    }

    fn skip_text(&self, id: ReleaseId, why: Skip, effective: otasim::ids::CohortId) -> String {
        let c = self.catalog;
        let cohort = &c.cohort(effective).name;
        let release = c.release(id);
        match why {
            Skip::NotActive => {
                let pending = c
                    .pending_requests()
                    .any(|(r, co, _)| r == id && co == effective);
                if pending {
                    format!("skipped: not active in cohort \"{cohort}\", its activation awaits approval (R11b, R26)")
                } else {
                    format!("skipped: not active in cohort \"{cohort}\" (R11b)")
                }
            }
            Skip::StagedOnly => {
                let p = match c.activation(id, effective) {
                    Some(Rollout::Staged(p)) => format!(" of {p} %"),
                    _ => String::new(),
                };
                format!("skipped: staged rollout{p} in cohort \"{cohort}\" and the device is not staged (R11c)")
            }
            Skip::NoPayload => format!(
                "skipped: no payload for hardware version \"{}\" (R11d; it serves {})",
                c.hardware_name(self.report.hardware),
                self.served(id)
            ),
            Skip::DeltaFromOther => match release.kind {
                ReleaseKind::Delta { from, .. } => format!(
                    "skipped: a delta from {}, but the device reports {} (R13)",
                    self.version(from),
                    self.current()
                ),
                _ => "skipped: not from the current version (R13)".to_string(),
            },
            Skip::NotGreater => format!(
                "skipped: not greater than the current version {} (R16)",
                self.current()
            ),
            Skip::AlreadyOnHighest => format!(
                "the highest applicable full release, and the device already reports {}: no update (R17)",
                self.version(release.target())
            ),
            Skip::LostTo(other) => format!("candidate, lost to {}", c.release_name(other)),
            Skip::Outranked if !c.variant().is_default() => format!(
                "applicable, but rule {} comes first in the resolver's precedence (R32)",
                self.decision.rule
            ),
            Skip::Outranked => match self.decision.rule {
                Rule::Delta => "applicable, but a delta release from the current version comes first (R13)".to_string(),
                Rule::MustPassThrough => {
                    "applicable, but a must-pass-through release comes first (R14 before R15)".to_string()
                }
                rule => format!("applicable, but rule {rule} decided first"),
            },
            Skip::OverrideIsCurrent => format!(
                "the device's release override, but it already reports {}: no update (R12)",
                self.version(release.target())
            ),
            Skip::OverrideNoPayload if c.variant().override_fallback => format!(
                "the device's release override, but it has no payload for hardware version \"{}\" (it serves {}): resolved as if it had no override (R32 override_fallback)",
                c.hardware_name(self.report.hardware),
                self.served(id)
            ),
            Skip::OverrideNoPayload => format!(
                "the device's release override, but it has no payload for hardware version \"{}\" (it serves {}): no update, and no fallback to other releases (R12)",
                c.hardware_name(self.report.hardware),
                self.served(id)
            ),
        }
    }

    fn served(&self, id: ReleaseId) -> String {
        let names: Vec<String> = self
            .catalog
            .release(id)
            .payloads
            .iter()
            .map(|&(h, _)| format!("\"{}\"", self.catalog.hardware_name(h)))
            .collect();
        if names.is_empty() {
            "no hardware".to_string()
        } else {
            names.join(", ")
        }
    }

    fn candidate_text(&self, id: ReleaseId) -> String {
        let Some(winner) = self.decision.release else {
            return "candidate".to_string();
        };
        let rule = self.decision.rule;
        if winner == id {
            return format!("candidate: chosen ({})", self.cite(rule));
        }
        let how = match rule {
            Rule::Delta => "R13 picks the highest To version",
            Rule::MustPassThrough => "R14 picks the lowest",
            Rule::Full => "R15 picks the highest",
            Rule::Override | Rule::None => "",
        };
        let name = self.catalog.release_name(winner);
        if how.is_empty() {
            format!("candidate, lost to {name}")
        } else {
            format!("candidate, lost to {name} ({how})")
        }
    }

    fn decision_text(&self, trail: &[Step]) -> String {
        let c = self.catalog;
        match self.decision.release {
            Some(id) => {
                let r = c.release(id);
                let payload = match r.payload(self.report.hardware) {
                    Some(bytes) => format!("payload {bytes} bytes"),
                    None => "no payload".to_string(),
                };
                format!(
                    "{} ({}): release {}, target version {}, {payload} for hardware version \"{}\"",
                    self.decision.rule,
                    self.cite(self.decision.rule),
                    c.release_name(id),
                    self.version(r.target()),
                    c.hardware_name(self.report.hardware)
                )
            }
            None => {
                let because = trail.iter().rev().find_map(|st| match st {
                    Step::Skipped(_, Skip::OverrideIsCurrent | Skip::OverrideNoPayload) => {
                        Some("R12")
                    }
                    Step::Skipped(_, Skip::AlreadyOnHighest) => Some("R17"),
                    // R32: the override fell back and nothing after it decided.
                    Step::OverrideFallback => Some("R18"),
                    _ => None,
                });
                format!(
                    "none ({}): no update, the device stays on {}",
                    because.unwrap_or("R18"),
                    self.current()
                )
            }
        }
    }

    /// R24, with the path that leads there.
    fn final_text(&self) -> String {
        let fin = matrix::final_version(self.catalog, &self.report);
        let path = self.path();
        let route = format!("{} -> {}", self.current(), path.join(" -> "));
        match fin {
            Final::Version(v) if path.is_empty() => {
                format!("{} (R24: it is already there)", self.version(v))
            }
            Final::Version(v) => format!("{} (R24: {route})", self.version(v)),
            Final::Cycle => format!("cycle (R24: {route} -> …, it would never settle)"),
        }
    }

    /// The versions the device passes through if every update installs, as
    /// `2.0.0 [full]`; stops at the first version seen twice (a cycle).
    fn path(&self) -> Vec<String> {
        let mut report = self.report;
        let mut seen = vec![report.version];
        let mut steps = Vec::new();
        loop {
            let Decision { rule, release } = resolver::resolve(self.catalog, &report, &mut NoTrail);
            let Some(id) = release else { break };
            let next = self.catalog.release(id).target();
            steps.push(format!("{} [{rule}]", self.version(next)));
            if seen.contains(&next) {
                break;
            }
            seen.push(next);
            report.version = next;
        }
        steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use otasim::catalog::{Actor, Percent, Release};
    use otasim::fleet::NewDevice;
    use otasim::ids::{CohortId, SoftwareTypeId};

    /// Full 1.0.0; MPT 1.5.0 and 2.0.0; Full 3.0.0; Delta 3.0.0->3.1.0 as a 10 % staged
    /// rollout. One device on 1.0.0 and one on 3.0.0, neither staged.
    fn fixture() -> (Catalog, Fleet) {
        let mut catalog = Catalog::new();
        let main = SoftwareTypeId(0);
        let evt = catalog.intern_hardware("evt").unwrap();
        let v: Vec<_> = ["1.0.0", "1.5.0", "2.0.0", "3.0.0", "3.1.0"]
            .iter()
            .map(|s| catalog.intern_version(main, s).unwrap())
            .collect();
        let full = |version, must_pass_through| ReleaseKind::Full {
            version,
            must_pass_through,
        };
        let kinds = [
            (full(v[0], false), Rollout::Normal),
            (full(v[1], true), Rollout::Normal),
            (full(v[2], true), Rollout::Normal),
            (full(v[3], false), Rollout::Normal),
            (
                ReleaseKind::Delta {
                    from: v[3],
                    to: v[4],
                },
                Rollout::Staged(Percent::whole(10)),
            ),
        ];
        for (kind, rollout) in kinds {
            let id = catalog
                .add_release(Release {
                    software_type: main,
                    kind,
                    payloads: vec![(evt, 42)],
                    deleted: false,
                })
                .unwrap();
            catalog
                .activate(id, CohortId(0), rollout, Actor::Anonymous)
                .unwrap();
        }
        let mut fleet = Fleet::new();
        for (id, version) in [("old", v[0]), ("new", v[3])] {
            fleet
                .push(NewDevice {
                    id: id.to_string(),
                    report: DeviceReport {
                        software_type: main,
                        version,
                        hardware: evt,
                        project_key: None,
                        cohort: CohortId(0),
                        staged: false,
                        release_override: None,
                    },
                    last_seen: None,
                })
                .unwrap();
        }
        (catalog, fleet)
    }

    fn check(device: &str, expected: &[&str]) {
        let (catalog, fleet) = fixture();
        let text = explain(&catalog, &fleet, fleet.find(device).unwrap(), "tick 0 (0s)");
        for line in expected {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
    }

    #[test]
    fn mpt_candidates_cite_r14_and_the_path_to_the_end() {
        check(
            "old",
            &[
                "1.5.0         full, must-pass-through  candidate: chosen (R14)",
                "candidate, lost to 1.5.0 (R14 picks the lowest)",
                "3.0.0         full                     applicable, but a must-pass-through release comes first (R14 before R15)",
                "decision: must_pass_through (R14): release 1.5.0, target version 1.5.0, payload 42 bytes",
                "final version: 3.0.0 (R24: 1.0.0 -> 1.5.0 [must_pass_through] -> 2.0.0 [must_pass_through] -> 3.0.0 [full])",
            ],
        );
    }

    #[test]
    fn staged_rollout_skips_an_unstaged_device() {
        check(
            "new",
            &[
                "skipped: staged rollout of 10 % in cohort \"default\" and the device is not staged (R11c)",
                "skipped: not greater than the current version 3.0.0 (R16)",
                "decision: none (R18): no update, the device stays on 3.0.0",
                "final version: 3.0.0 (R24: it is already there)",
            ],
        );
    }
}
