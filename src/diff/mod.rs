//! Which devices get a different answer (R33, R34): two scenarios (or one and a
//! variant of its resolver, R32) resolved at one moment, or one scenario and a table of
//! decisions recorded by another system.
//!
//! Devices are compared by their answer *codes* (a rule and a release id, or a row of
//! the recorded table's distinct answers), so that the per-device work is integer
//! comparisons; names are rendered once per group of differing devices, and per device
//! only when the caller asks for the device list.

pub mod expected;
pub mod over_time;

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;

use crate::catalog::Catalog;
use crate::fleet::Fleet;
use crate::ids::{DeviceIdx, ReleaseId};
use crate::resolver::fast::{DecisionTable, PackedDecision};
use crate::resolver::Rule;

pub use expected::{Expected, ExpectedError};

/// The rule name of a side where the device does not exist (R33).
pub const ABSENT: &str = "absent";

/// The answer code of a side where the device does not exist.
const ABSENT_CODE: u32 = u32::MAX;

/// One scenario's answers at one moment: its catalog, its fleet and the resolver's
/// decision for every fleet row.
pub struct ScenarioSide<'a> {
    /// The catalog at the moment (with its resolver variant, R32).
    pub catalog: &'a Catalog,
    /// The fleet at the moment; only present devices are compared.
    pub fleet: &'a Fleet,
    /// One decision per fleet row ([`resolve_fleet`]).
    pub decisions: &'a [PackedDecision],
}

/// The fast path over every row of `fleet` (proven equal to the reference resolver).
pub fn resolve_fleet(catalog: &Catalog, fleet: &Fleet) -> Vec<PackedDecision> {
    let mut out = vec![PackedDecision::NONE; fleet.len()];
    DecisionTable::new(catalog).resolve_all_packed(catalog, fleet, &mut out);
    out
}

/// A decision as a code: the rule in the top bits, the release id below.
#[inline]
fn code_of(p: PackedDecision) -> u32 {
    let rule = Rule::ALL
        .iter()
        .position(|&r| r == p.rule())
        .expect("a rule") as u32;
    (rule << 29) | p.release().map_or(0, |r| r.0)
}

fn decision_of(code: u32) -> (Rule, Option<ReleaseId>) {
    let rule = Rule::ALL[(code >> 29) as usize];
    let release = (rule != Rule::None).then_some(ReleaseId(code & ((1 << 29) - 1)));
    (rule, release)
}

/// One differing device: its row on each side (`None`: absent there) and its answer code
/// on each side.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// Its row in A's fleet, if present there.
    pub a: Option<DeviceIdx>,
    /// Its row in B's fleet, or in the recorded table, if present there.
    pub b: Option<u32>,
    code_a: u32,
    code_b: u32,
}

/// What a comparison found.
pub struct Differences {
    /// Devices present in either side.
    pub compared: u64,
    /// The devices whose answers differ, in A's fleet order then B's.
    pub devices: Vec<Difference>,
}

/// The other side of a comparison.
pub enum Other<'a> {
    /// Another scenario, or A under a resolver variant (R33).
    Scenario(ScenarioSide<'a>),
    /// Decisions recorded by another system (R34).
    Table(&'a Expected),
}

/// R33: every device present in A or B (matched by id) whose (rule, release, target
/// version) differ; a device present on one side only differs, `absent` on the other.
/// When both sides share one fleet (a variant of A at a moment the resolver did not
/// shape), rows are matched by index.
pub fn compare_scenarios(a: &ScenarioSide<'_>, b: &ScenarioSide<'_>) -> Differences {
    // B's release for each of A's, by software type and name (a release's name fixes
    // its target version); a live release wins over a deleted one of the same name.
    let key = |c: &Catalog, id: ReleaseId| {
        let r = c.release(id);
        (
            c.software_type(r.software_type).name.clone(),
            c.release_name(id),
        )
    };
    let mut by_name: HashMap<(String, String), ReleaseId> = HashMap::new();
    for (id, r) in b.catalog.releases() {
        let e = by_name.entry(key(b.catalog, id)).or_insert(id);
        if b.catalog.release(*e).deleted && !r.deleted {
            *e = id;
        }
    }
    let map_a: Vec<u32> = a
        .catalog
        .releases()
        .map(|(id, _)| {
            by_name
                .get(&key(a.catalog, id))
                .map_or(u32::MAX - 1, |r| r.0)
        })
        .collect();
    let same_catalog_ids = a.catalog.releases().count() == b.catalog.releases().count()
        && map_a.iter().enumerate().all(|(i, &r)| r == i as u32);
    let translate = |code: u32| -> u32 {
        if same_catalog_ids {
            return code;
        }
        match decision_of(code) {
            (_, None) => code,
            (_, Some(r)) => (code & !((1 << 29) - 1)) | (map_a[r.index()] & ((1 << 29) - 1)),
        }
    };
    let unmapped = |code: u32| -> bool {
        matches!(decision_of(code), (_, Some(r)) if !same_catalog_ids && map_a[r.index()] == u32::MAX - 1)
    };

    let present_a = a.fleet.present_flags();
    let present_b = b.fleet.present_flags();
    if std::ptr::eq(a.fleet, b.fleet) {
        // One fleet: row i is the same device on both sides.
        let devices: Vec<Difference> = (0..a.fleet.len())
            .into_par_iter()
            .with_min_len(1 << 14)
            .filter_map(|i| {
                if !present_a[i] {
                    return None;
                }
                let (ca, cb) = (code_of(a.decisions[i]), code_of(b.decisions[i]));
                (unmapped(ca) || translate(ca) != cb).then_some(Difference {
                    a: Some(DeviceIdx(i as u32)),
                    b: Some(i as u32),
                    code_a: ca,
                    code_b: cb,
                })
            })
            .collect();
        let compared = present_a.iter().filter(|&&p| p).count() as u64;
        return Differences { compared, devices };
    }

    // Two fleets: by id. Row i of A is row i of B when the ids agree (the same table),
    // else B's index finds it.
    let same = a.fleet.same_ids(b.fleet);
    let b_of = |i: usize| -> Option<usize> {
        if same {
            return Some(i);
        }
        let id = a.fleet.id(DeviceIdx(i as u32));
        if i < b.fleet.len() && b.fleet.id(DeviceIdx(i as u32)) == id {
            return Some(i);
        }
        b.fleet.find(&id).map(|d| d.index())
    };
    let per_a: Vec<(Option<Difference>, Option<usize>)> = (0..a.fleet.len())
        .into_par_iter()
        .with_min_len(1 << 12)
        .filter(|&i| present_a[i])
        .map(|i| {
            let j = b_of(i).filter(|&j| present_b[j]);
            let ca = code_of(a.decisions[i]);
            let cb = j.map_or(ABSENT_CODE, |j| code_of(b.decisions[j]));
            let differs = j.is_none() || unmapped(ca) || translate(ca) != cb;
            let d = differs.then_some(Difference {
                a: Some(DeviceIdx(i as u32)),
                b: j.map(|j| j as u32),
                code_a: ca,
                code_b: cb,
            });
            (d, j)
        })
        .collect();
    let mut matched = vec![false; b.fleet.len()];
    let mut devices = Vec::new();
    let mut compared = 0u64;
    for (d, j) in per_a {
        compared += 1;
        if let Some(j) = j {
            matched[j] = true;
        }
        devices.extend(d);
    }
    for j in 0..b.fleet.len() {
        if present_b[j] && !matched[j] {
            compared += 1;
            devices.push(Difference {
                a: None,
                b: Some(j as u32),
                code_a: ABSENT_CODE,
                code_b: code_of(b.decisions[j]),
            });
        }
    }
    Differences { compared, devices }
}

/// R34: every device present in A or in the table whose (rule, target version) differ.
pub fn compare_expected(a: &ScenarioSide<'_>, table: &Expected) -> Differences {
    // Target versions as text ids shared by both sides.
    let mut text_id: HashMap<String, u32> = HashMap::new();
    let mut intern = |s: String| -> u32 {
        let n = text_id.len() as u32;
        *text_id.entry(s).or_insert(n)
    };
    let target_a: Vec<u32> = a
        .catalog
        .releases()
        .map(|(_, r)| intern(a.catalog.version(r.target()).to_string()))
        .collect();
    let key_b: Vec<(Rule, u32)> = table
        .answers()
        .iter()
        .map(|(rule, target)| (*rule, target.clone().map_or(u32::MAX, &mut intern)))
        .collect();
    let key_a = |code: u32| -> (Rule, u32) {
        match decision_of(code) {
            (rule, None) => (rule, u32::MAX),
            (rule, Some(r)) => (rule, target_a[r.index()]),
        }
    };

    let present = a.fleet.present_flags();
    let row_of = table.rows_by_device(a.fleet);
    let mut matched = vec![false; table.len()];
    let mut devices = Vec::new();
    let mut compared = 0u64;
    for i in 0..a.fleet.len() {
        if !present[i] {
            continue;
        }
        compared += 1;
        let ca = code_of(a.decisions[i]);
        let row = row_of[i];
        if row == u32::MAX {
            devices.push(Difference {
                a: Some(DeviceIdx(i as u32)),
                b: None,
                code_a: ca,
                code_b: ABSENT_CODE,
            });
            continue;
        }
        matched[row as usize] = true;
        let cb = table.answer_of(row as usize);
        if key_a(ca) != key_b[cb as usize] {
            devices.push(Difference {
                a: Some(DeviceIdx(i as u32)),
                b: Some(row),
                code_a: ca,
                code_b: cb,
            });
        }
    }
    for (row, &m) in matched.iter().enumerate() {
        if !m {
            compared += 1;
            devices.push(Difference {
                a: None,
                b: Some(row as u32),
                code_a: ABSENT_CODE,
                code_b: table.answer_of(row),
            });
        }
    }
    Differences { compared, devices }
}

/// One group of differing devices, as `otasim diff` prints it (R33).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// Stored cohort (A's when the device is in A, else B's; empty when neither side
    /// is a scenario that has it).
    pub cohort: String,
    /// Reported software version (same side as the cohort).
    pub software_version: String,
    /// Hardware version (same side as the cohort).
    pub hardware_version: String,
    /// A's rule (`absent` when not in A).
    pub rule_a: String,
    /// A's target version (empty for `none` and `absent`).
    pub target_a: String,
    /// B's rule.
    pub rule_b: String,
    /// B's target version.
    pub target_b: String,
    /// How many devices.
    pub devices: u64,
    /// The smallest device id of the group, in byte order.
    pub example_device: String,
}

/// One differing device with both answers (`--devices-out`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceRow {
    /// The device id.
    pub device_id: String,
    /// As in [`Group`].
    pub cohort: String,
    /// As in [`Group`].
    pub software_version: String,
    /// As in [`Group`].
    pub hardware_version: String,
    /// A's rule.
    pub rule_a: String,
    /// A's release (empty for `none` and `absent`).
    pub release_a: String,
    /// A's target version.
    pub target_a: String,
    /// B's rule.
    pub rule_b: String,
    /// B's release (empty for `none`, `absent`, and for a recorded table, which has no
    /// release column).
    pub release_b: String,
    /// B's target version.
    pub target_b: String,
}

/// An answer as text: rule, release, target version.
type AnswerText = (String, String, String);

/// Renders answers and places of both sides.
struct Render<'a> {
    a: &'a ScenarioSide<'a>,
    b: &'a Other<'a>,
}

impl Render<'_> {
    fn scenario_answer(side: &ScenarioSide<'_>, code: u32) -> AnswerText {
        if code == ABSENT_CODE {
            return (ABSENT.into(), String::new(), String::new());
        }
        match decision_of(code) {
            (rule, None) => (rule.name().into(), String::new(), String::new()),
            (rule, Some(r)) => (
                rule.name().into(),
                side.catalog.release_name(r),
                side.catalog
                    .version(side.catalog.release(r).target())
                    .to_string(),
            ),
        }
    }

    fn answer_a(&self, code: u32) -> AnswerText {
        Render::scenario_answer(self.a, code)
    }

    fn answer_b(&self, code: u32) -> AnswerText {
        match self.b {
            Other::Scenario(b) => Render::scenario_answer(b, code),
            Other::Table(_) if code == ABSENT_CODE => (ABSENT.into(), String::new(), String::new()),
            Other::Table(t) => {
                let (rule, target) = &t.answers()[code as usize];
                (
                    rule.name().into(),
                    String::new(),
                    target.clone().unwrap_or_default(),
                )
            }
        }
    }

    /// (cohort, software version, hardware version) from the side that has the device.
    fn place(&self, d: &Difference) -> (String, String, String) {
        let of = |side: &ScenarioSide<'_>, i: DeviceIdx| {
            let r = side.fleet.report(i);
            (
                side.catalog.cohort(r.cohort).name.clone(),
                side.catalog.version(r.version).to_string(),
                side.catalog.hardware_name(r.hardware).to_string(),
            )
        };
        match (d.a, self.b, d.b) {
            (Some(i), _, _) => of(self.a, i),
            (None, Other::Scenario(b), Some(j)) => of(b, DeviceIdx(j)),
            _ => Default::default(),
        }
    }

    fn id(&self, d: &Difference) -> std::borrow::Cow<'_, str> {
        match (d.a, self.b, d.b) {
            (Some(i), _, _) => self.a.fleet.id(i),
            (None, Other::Scenario(b), Some(j)) => b.fleet.id(DeviceIdx(j)),
            (None, Other::Table(t), Some(j)) => t.id(j as usize, self.a.fleet),
            _ => std::borrow::Cow::Borrowed(""),
        }
    }

    /// The key that fixes a device's group before names are rendered.
    fn key(&self, d: &Difference) -> (u8, u64, u32, u32) {
        let place = |side: &ScenarioSide<'_>, i: DeviceIdx| {
            let r = side.fleet.report(i);
            (u64::from(r.cohort.0) << 48) | (u64::from(r.hardware.0) << 32) | u64::from(r.version.0)
        };
        let (which, place) = match (d.a, self.b, d.b) {
            (Some(i), _, _) => (0, place(self.a, i)),
            (None, Other::Scenario(b), Some(j)) => (1, place(b, DeviceIdx(j))),
            _ => (2, 0),
        };
        (which, place, d.code_a, d.code_b)
    }
}

/// The groups of R33's output, largest first, then by their columns in byte order
/// (cohort, software version, hardware version, rule_a, target_a, rule_b, target_b).
pub fn groups(a: &ScenarioSide<'_>, b: &Other<'_>, diff: &Differences) -> Vec<Group> {
    let render = Render { a, b };
    // By codes first (cheap per device), keeping each group's smallest id.
    // hashbrown's hasher: millions of differing devices may pass through here.
    let mut by_key: hashbrown::HashMap<(u8, u64, u32, u32), (u64, usize)> =
        hashbrown::HashMap::new();
    for (n, d) in diff.devices.iter().enumerate() {
        let e = by_key.entry(render.key(d)).or_insert((0, n));
        e.0 += 1;
        if render.id(d).as_bytes() < render.id(&diff.devices[e.1]).as_bytes() {
            e.1 = n;
        }
    }
    // Then by text: distinct codes may render alike (two scenarios' ids).
    let mut by_text: BTreeMap<[String; 7], (u64, String)> = BTreeMap::new();
    for (count, n) in by_key.into_values() {
        let d = &diff.devices[n];
        let (cohort, version, hardware) = render.place(d);
        let (rule_a, _, target_a) = render.answer_a(d.code_a);
        let (rule_b, _, target_b) = render.answer_b(d.code_b);
        let example = render.id(d).to_string();
        let e = by_text
            .entry([
                cohort, version, hardware, rule_a, target_a, rule_b, target_b,
            ])
            .or_insert((0, example.clone()));
        e.0 += count;
        if example.as_bytes() < e.1.as_bytes() {
            e.1 = example;
        }
    }
    let mut out: Vec<Group> = by_text
        .into_iter()
        .map(
            |([c, v, h, ra, ta, rb, tb], (devices, example_device))| Group {
                cohort: c,
                software_version: v,
                hardware_version: h,
                rule_a: ra,
                target_a: ta,
                rule_b: rb,
                target_b: tb,
                devices,
                example_device,
            },
        )
        .collect();
    // Stable: equal counts keep the text order of the map.
    out.sort_by_key(|g| std::cmp::Reverse(g.devices));
    out
}

/// Every differing device with both answers, sorted by device id in byte order.
pub fn device_rows(a: &ScenarioSide<'_>, b: &Other<'_>, diff: &Differences) -> Vec<DeviceRow> {
    let render = Render { a, b };
    let mut rows: Vec<DeviceRow> = diff
        .devices
        .iter()
        .map(|d| {
            let (cohort, software_version, hardware_version) = render.place(d);
            let (rule_a, release_a, target_a) = render.answer_a(d.code_a);
            let (rule_b, release_b, target_b) = render.answer_b(d.code_b);
            DeviceRow {
                device_id: render.id(d).to_string(),
                cohort,
                software_version,
                hardware_version,
                rule_a,
                release_a,
                target_a,
                rule_b,
                release_b,
                target_b,
            }
        })
        .collect();
    rows.sort_by(|x, y| x.device_id.as_bytes().cmp(y.device_id.as_bytes()));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{LoadOptions, Scenario};
    use std::path::Path;

    const RELEASES: [&str; 3] = [
        "[[releases]]\nversion = \"2.0.0\"\npayloads = { \"evt\" = 1 }\n",
        "[[releases]]\nfrom = \"1.0.0\"\nto = \"2.0.0\"\npayloads = { \"evt\" = 1 }\n",
        "[[software_types]]\nname = \"aux\"\n[[releases]]\nversion = \"2.0.0\"\nsoftware_type = \"aux\"\npayloads = { \"evt\" = 1 }\n",
    ];

    fn state(releases: &[usize], extra: &str) -> crate::timeline::State {
        let mut text = String::new();
        for &r in releases {
            text.push_str(RELEASES[r]);
        }
        text.push_str(extra);
        for (id, version, st) in [
            ("a", "1.0.0", "main"),
            ("b", "1.5.0", "main"),
            ("c", "1.0.0", "aux"),
        ] {
            text.push_str(&format!(
                "[[devices]]\nid = \"{id}\"\nhardware_version = \"evt\"\nsoftware_version = \"{version}\"\nsoftware_type = \"{st}\"\n"
            ));
        }
        for name in ["2.0.0", "1.0.0->2.0.0"] {
            text.push_str(&format!(
                "[[events]]\nat = 0\naction = \"activate\"\nrelease = \"{name}\"\ncohort = \"default\"\n"
            ));
        }
        text.push_str("[[events]]\nat = 0\naction = \"activate\"\nrelease = \"2.0.0\"\nsoftware_type = \"aux\"\ncohort = \"default\"\n");
        let mut s = Scenario::from_text(Path::new("s.toml"), &text, &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
        s.take_state_at(0).unwrap()
    }

    fn side<'a>(s: &'a crate::timeline::State, d: &'a [PackedDecision]) -> ScenarioSide<'a> {
        ScenarioSide {
            catalog: &s.catalog,
            fleet: &s.fleet,
            decisions: d,
        }
    }

    #[test]
    fn r33_releases_are_matched_by_software_type_and_name_not_by_id() {
        let a = state(&[0, 1, 2], "");
        let b = state(&[2, 1, 0], "");
        let (da, db) = (
            resolve_fleet(&a.catalog, &a.fleet),
            resolve_fleet(&b.catalog, &b.fleet),
        );
        let found = compare_scenarios(&side(&a, &da), &side(&b, &db));
        assert_eq!(found.compared, 3);
        assert!(found.devices.is_empty(), "{:?}", found.devices);

        // A new Delta in B moves device b only.
        let c = state(
            &[2, 1, 0],
            "[[releases]]\nfrom = \"1.5.0\"\nto = \"2.0.0\"\npayloads = { \"evt\" = 1 }\n[[events]]\nat = 0\naction = \"activate\"\nrelease = \"1.5.0->2.0.0\"\ncohort = \"default\"\n",
        );
        let dc = resolve_fleet(&c.catalog, &c.fleet);
        let other = Other::Scenario(side(&c, &dc));
        let found = compare_scenarios(&side(&a, &da), &side(&c, &dc));
        let groups = groups(&side(&a, &da), &other, &found);
        assert_eq!(groups.len(), 1);
        assert_eq!(
            (
                groups[0].rule_a.as_str(),
                groups[0].rule_b.as_str(),
                groups[0].example_device.as_str()
            ),
            ("full", "delta", "b")
        );
    }
}
