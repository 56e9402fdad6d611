//! Lowering of the policy fields (R35–R39): ramps, gates and caps on `activate`
//! events, release health, the fleet-wide byte cap and update windows. Every error
//! names its place, like the rest of lowering.

use std::ops::Range;

use toml::Spanned;

use super::lower::{At, Lowerer};
use super::raw::{RawBandwidth, RawEvent, RawNumber, RawProfile, RawRelease, RawTime};
use super::raw_policy::{RawGate, RawProbability, RawRamp};
use super::ScenarioError;
use crate::behaviour::{FailureProbability, ReleaseHealth};
use crate::catalog::Percent;
use crate::ids::HardwareId;
use crate::policy::window::{parse_time_of_day, parse_utc_offset};
use crate::policy::{ActivationPolicy, Gate, GateAction, Step, Window};
use crate::timeline::{Action, Event};

/// Ramps longer than this are refused (an exponential ramp with a factor barely above
/// one would otherwise make a step per tick for years).
const MAX_STEPS: usize = 1000;

fn number(n: &RawNumber) -> f64 {
    match *n {
        RawNumber::Int(i) => i as f64,
        RawNumber::Float(f) => f,
    }
}

/// A percentage from a TOML number, rounded to the nine decimals [`Percent`] keeps.
fn percent_of(n: &RawNumber) -> Result<Percent, String> {
    match *n {
        RawNumber::Int(i) if i >= 0 => Percent::parse(&i.to_string()),
        RawNumber::Int(i) => Err(format!("{i} is not a percentage from 0 to 100")),
        RawNumber::Float(f) => Percent::from_f64(f),
    }
    .map_err(|m| m.replace("rollout percent", "percentage"))
}

/// A time (tick number or duration) without its span, in ticks.
fn ticks_of(lw: &Lowerer<'_>, t: &RawTime) -> Result<u64, String> {
    lw.time(&Spanned::new(0..0, t.clone()))
}

impl Lowerer<'_> {
    /// R36: a release's `install_failure_probability` and `boot_failure_probability`,
    /// each one number or a map from the release's payload hardware versions. Returns
    /// the health and the span of the first field given (a behaviour model is needed).
    pub fn release_health(
        &self,
        at: &At<'_, '_>,
        r: &RawRelease,
        payloads: &[(HardwareId, u64)],
    ) -> Result<(ReleaseHealth, Option<Range<usize>>), ScenarioError> {
        let one = |name: &str,
                   p: &Option<Spanned<RawProbability>>|
         -> Result<Option<FailureProbability>, ScenarioError> {
            let Some(p) = p else { return Ok(None) };
            let check = |v: f64, what: String| {
                if (0.0..=1.0).contains(&v) {
                    Ok(v)
                } else {
                    Err(at.err(
                        p.span(),
                        format!("{name}{what} must be a probability from 0 to 1, not {v}"),
                    ))
                }
            };
            Ok(Some(match p.get_ref() {
                RawProbability::One(n) => FailureProbability::All(check(number(n), String::new())?),
                RawProbability::PerHardware(map) => {
                    let mut v = Vec::new();
                    for (hw, n) in map {
                        let h = self
                            .catalog
                            .hardware_id(hw)
                            .filter(|h| payloads.iter().any(|(ph, _)| ph == h))
                            .ok_or_else(|| {
                                at.err(
                                    p.span(),
                                    format!(
                                        "{name}: hardware version \"{hw}\" has no payload in this release"
                                    ),
                                )
                            })?;
                        v.push((h, check(number(n), format!(" for \"{hw}\""))?));
                    }
                    FailureProbability::PerHardware(v)
                }
            }))
        };
        let health = ReleaseHealth {
            install_failure: one(
                "install_failure_probability",
                &r.install_failure_probability,
            )?,
            boot_failure: one("boot_failure_probability", &r.boot_failure_probability)?,
        };
        let span = r
            .install_failure_probability
            .as_ref()
            .or(r.boot_failure_probability.as_ref())
            .map(|p| p.span());
        Ok((health, span))
    }

    /// R38: `[bandwidth] max_bytes_per_tick`.
    pub fn max_bytes_per_tick(
        &self,
        b: Option<&Spanned<RawBandwidth>>,
    ) -> Result<Option<u64>, ScenarioError> {
        let Some(m) = b.and_then(|b| b.get_ref().max_bytes_per_tick.as_ref()) else {
            return Ok(None);
        };
        match u64::try_from(*m.get_ref()) {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(self.src.error(
                m.span(),
                format!(
                    "bandwidth: max_bytes_per_tick must be at least 1, not {} (a cap of zero would hold every download back)",
                    m.get_ref()
                ),
            )),
        }
    }

    /// R39: a profile's `update_window` and `utc_offset` (an offset alone applies to
    /// the window the profile inherits from `[behaviour]`).
    pub fn update_window(
        &self,
        at: &At<'_, '_>,
        inherited: Option<Window>,
        raw: &RawProfile,
    ) -> Result<Option<Window>, ScenarioError> {
        let mut w = inherited;
        if let Some(win) = &raw.update_window {
            let win = win.get_ref();
            let start = parse_time_of_day(win.start.get_ref(), false)
                .map_err(|m| at.err(win.start.span(), format!("update_window: start {m}")))?;
            let end = parse_time_of_day(win.end.get_ref(), true)
                .map_err(|m| at.err(win.end.span(), format!("update_window: end {m}")))?;
            if start == end % 86_400 {
                return Err(at.err(
                    win.start.span(),
                    "update_window: start and end are the same time (the window would be empty)",
                ));
            }
            w = Some(Window {
                start,
                end: end % 86_400,
                utc_offset: w.map_or(0, |w| w.utc_offset),
            });
        }
        if let Some(o) = &raw.utc_offset {
            let offset = parse_utc_offset(o.get_ref())
                .map_err(|m| at.err(o.span(), format!("utc_offset: {m}")))?;
            match &mut w {
                Some(w) => w.utc_offset = offset,
                None => {
                    return Err(at.err(
                        o.span(),
                        "utc_offset applies only to a profile with an update_window",
                    ))
                }
            }
        }
        Ok(w)
    }

    /// R35: the steps of an `activate` event's ramp at tick `tick`, absolute, checked.
    pub fn ramp(
        &self,
        at: &At<'_, '_>,
        ramp: &Spanned<RawRamp>,
        tick: u64,
    ) -> Result<Vec<Step>, ScenarioError> {
        let span = ramp.span();
        let err = |m: String| at.err(span.clone(), format!("ramp: {m}"));
        let mut steps: Vec<Step> = Vec::new();
        match ramp.get_ref() {
            RawRamp::Steps(raw) => {
                if raw.is_empty() {
                    return Err(err("has no steps".into()));
                }
                for (i, s) in raw.iter().enumerate() {
                    let percent =
                        percent_of(&s.percent).map_err(|m| err(format!("step {i}: {m}")))?;
                    let after = ticks_of(self, &s.after)
                        .map_err(|m| err(format!("step {i}: after: {m}")))?;
                    if let Some(prev) = steps.last() {
                        if tick + after <= prev.at {
                            return Err(err(format!(
                                "step {i}: after must be later than the previous step's"
                            )));
                        }
                        if percent < prev.percent {
                            return Err(err(format!(
                                "step {i} goes down from {}% to {percent}% (a ramp only grows; use set_rollout or pull to go back)",
                                prev.percent
                            )));
                        }
                    }
                    steps.push(Step {
                        at: tick + after,
                        percent,
                    });
                }
            }
            RawRamp::Exponential(e) => {
                let start = number(&e.start);
                let factor = number(&e.factor);
                let max = e.max.as_ref().map_or(100.0, number);
                if !(start > 0.0 && start <= 100.0) {
                    return Err(err(format!(
                        "start must be more than 0 and at most 100, not {start}"
                    )));
                }
                if !(factor > 1.0 && factor.is_finite()) {
                    return Err(err(format!(
                        "factor must be more than 1, not {factor} (a ramp only grows)"
                    )));
                }
                if !(max >= start && max <= 100.0) {
                    return Err(err(format!(
                        "max must be from start ({start}) to 100, not {max}"
                    )));
                }
                let every = ticks_of(self, &e.every).map_err(|m| err(format!("every: {m}")))?;
                if every == 0 {
                    return Err(err("every must be at least one tick".into()));
                }
                let mut p = start;
                for k in 0.. {
                    if k >= MAX_STEPS as u64 {
                        return Err(err(format!("has more than {MAX_STEPS} steps")));
                    }
                    let value = p.min(max);
                    let percent = Percent::parse(&format!("{value:.9}")).map_err(&err)?;
                    steps.push(Step {
                        at: tick + k * every,
                        percent,
                    });
                    if p >= max {
                        break;
                    }
                    p *= factor;
                }
            }
        }
        if steps.len() > MAX_STEPS {
            return Err(err(format!("has more than {MAX_STEPS} steps")));
        }
        Ok(steps)
    }

    /// R37: a gate.
    fn gate(&self, at: &At<'_, '_>, g: &Spanned<RawGate>) -> Result<Gate, ScenarioError> {
        let g = g.get_ref();
        let max_failure_percent = percent_of(g.max_failure_percent.get_ref()).map_err(|m| {
            at.err(
                g.max_failure_percent.span(),
                format!("gate: max_failure_percent: {m}"),
            )
        })?;
        let min_attempts = match &g.min_attempts {
            None => 1,
            Some(n) => u64::try_from(*n.get_ref())
                .map_err(|_| at.err(n.span(), "gate: min_attempts must not be negative"))?,
        };
        let window = match &g.window {
            None => None,
            Some(w) => {
                let t = self
                    .time(w)
                    .map_err(|m| at.err(w.span(), format!("gate: window: {m}")))?;
                if t == 0 {
                    return Err(at.err(w.span(), "gate: window must be at least one tick"));
                }
                Some(t)
            }
        };
        let action = match g.action.get_ref().as_str() {
            "pause" => GateAction::Pause,
            "abort" => GateAction::Abort,
            other => {
                return Err(at.err(
                    g.action.span(),
                    format!(
                        "gate: unknown action \"{other}\"{} (use pause or abort)",
                        crate::catalog::did_you_mean(other, ["pause", "abort"])
                    ),
                ))
            }
        };
        Ok(Gate {
            max_failure_percent,
            min_attempts,
            window,
            action,
        })
    }

    /// The policies of a lowered `activate` event, if it has any.
    pub fn activation_policy(
        &self,
        event: &Event,
        e: &RawEvent,
    ) -> Result<Option<ActivationPolicy>, ScenarioError> {
        let Action::Activate {
            release, cohort, ..
        } = event.action
        else {
            return Ok(None);
        };
        if e.ramp.is_none() && e.gate.is_none() && e.max_downloads_per_tick.is_none() {
            return Ok(None);
        }
        let at = At::new(&self.src, format!("event {} (activate)", event.index));
        let steps = match &e.ramp {
            None => Vec::new(),
            Some(r) => self.ramp(&at, r, event.at)?,
        };
        let gate = e.gate.as_ref().map(|g| self.gate(&at, g)).transpose()?;
        let max_downloads_per_tick = match &e.max_downloads_per_tick {
            None => None,
            Some(m) => match u64::try_from(*m.get_ref()) {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    return Err(at.err(
                        m.span(),
                        format!(
                            "max_downloads_per_tick must be at least 1, not {} (a cap of zero would hold every download back)",
                            m.get_ref()
                        ),
                    ))
                }
            },
        };
        Ok(Some(ActivationPolicy {
            event_index: event.index,
            release,
            cohort,
            steps,
            gate,
            max_downloads_per_tick,
        }))
    }
}
