//! Differential check against a tiny reference resolver written here, straight from the
//! spec text (R9–R18, R23, R24): random catalogs, activations and fleets, with no random
//! staging (staged rollouts are created at 0 % and devices are then staged by id), so the
//! expected output is fully determined.

use std::collections::{BTreeMap, BTreeSet};

use super::*;

/// Versions in ascending SemVer precedence; the index is the precedence.
const POOL: &[&str] = &[
    "0.5.0",
    "0.9.0",
    "1.0.0",
    "1.1.0",
    "1.5.0",
    "2.0.0-rc.1",
    "2.0.0",
    "2.1.0",
    "3.0.0",
];
const HW: &[&str] = &["evt", "dvt", "proto"];
const COHORTS: &[&str] = &["default", "flat"]; // `flat` disables version checking (R17)

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Normal,
    Staged,
}

struct Release {
    /// Full: (version, version); Delta: (from, to). Indices into POOL.
    from: usize,
    to: usize,
    is_delta: bool,
    mpt: bool,
    /// Payload bytes per hardware index (evt, dvt); `proto` never has one.
    payloads: [Option<u64>; 2],
    /// Active mode per cohort index.
    active: [Option<Mode>; 2],
}

impl Release {
    fn name(&self) -> String {
        if self.is_delta {
            format!("{}->{}", POOL[self.from], POOL[self.to])
        } else {
            POOL[self.to].to_string()
        }
    }
}

struct Device {
    id: String,
    cohort: usize,
    key: bool,
    staged: bool,
    hw: usize,
    version: usize,
    override_: Option<usize>, // release index (a Full)
}

struct World {
    releases: Vec<Release>,
    devices: Vec<Device>,
    /// The OTA cohort override of project key `k`.
    key_override: Option<usize>,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Rule {
    None,
    Override,
    Delta,
    Mpt,
    Full,
}

impl Rule {
    fn name(self) -> &'static str {
        match self {
            Rule::None => "none",
            Rule::Override => "override",
            Rule::Delta => "delta",
            Rule::Mpt => "must_pass_through",
            Rule::Full => "full",
        }
    }
}

impl World {
    fn generate(rng: &mut Rng) -> World {
        let mut releases = Vec::new();
        let payloads = |rng: &mut Rng, n: usize| -> [Option<u64>; 2] {
            let pick = rng.below(3); // evt only, dvt only, both
            [
                (pick != 1).then_some(1000 * n as u64 + 1),
                (pick != 0).then_some(1000 * n as u64 + 2),
            ]
        };
        let active = |rng: &mut Rng| -> [Option<Mode>; 2] {
            let mut a = [None, None];
            for slot in &mut a {
                *slot = match rng.below(6) {
                    0 | 1 => None,
                    2 => Some(Mode::Staged),
                    _ => Some(Mode::Normal),
                };
            }
            a
        };
        for (v, _) in POOL.iter().enumerate().skip(1) {
            if rng.chance(55) {
                let n = releases.len();
                releases.push(Release {
                    from: v,
                    to: v,
                    is_delta: false,
                    mpt: rng.chance(30),
                    payloads: payloads(rng, n),
                    active: active(rng),
                });
            }
        }
        let mut pairs = BTreeSet::new();
        for _ in 0..rng.below(5) {
            let a = rng.below(POOL.len() - 1);
            let b = a + 1 + rng.below(POOL.len() - 1 - a);
            if pairs.insert((a, b)) {
                let n = releases.len();
                releases.push(Release {
                    from: a,
                    to: b,
                    is_delta: true,
                    mpt: false,
                    payloads: payloads(rng, n),
                    active: active(rng),
                });
            }
        }
        let fulls: Vec<usize> = (0..releases.len())
            .filter(|&i| !releases[i].is_delta)
            .collect();
        let key_override = match rng.below(3) {
            0 => None,
            c => Some(c - 1),
        };
        let devices = (0..6 + rng.below(14))
            .map(|i| Device {
                id: format!("X{i:02}"),
                cohort: rng.below(2),
                key: rng.chance(30),
                staged: rng.chance(40),
                hw: if rng.chance(10) { 2 } else { rng.below(2) },
                version: rng.below(POOL.len()),
                override_: (rng.chance(15) && !fulls.is_empty())
                    .then(|| fulls[rng.below(fulls.len())]),
            })
            .collect();
        World {
            releases,
            devices,
            key_override,
        }
    }

    fn effective_cohort(&self, d: &Device) -> usize {
        match (d.key, self.key_override) {
            (true, Some(c)) => c,
            _ => d.cohort,
        }
    }

    fn payload(&self, r: usize, hw: usize) -> Option<u64> {
        if hw < 2 {
            self.releases[r].payloads[hw]
        } else {
            None
        }
    }

    /// The resolver (R11–R18) for device `d` reporting `version`.
    fn resolve(&self, d: &Device, version: usize) -> (Rule, Option<usize>) {
        if let Some(o) = d.override_ {
            // R12
            if self.releases[o].to == version || self.payload(o, d.hw).is_none() {
                return (Rule::None, None);
            }
            return (Rule::Override, Some(o));
        }
        let eff = self.effective_cohort(d);
        let applicable: Vec<usize> = (0..self.releases.len())
            .filter(|&r| match self.releases[r].active[eff] {
                None => false,
                Some(Mode::Normal) => true,
                Some(Mode::Staged) => d.staged,
            })
            .filter(|&r| self.payload(r, d.hw).is_some())
            .collect();
        // R13
        if let Some(&r) = applicable
            .iter()
            .filter(|&&r| self.releases[r].is_delta && self.releases[r].from == version)
            .max_by_key(|&&r| self.releases[r].to)
        {
            return (Rule::Delta, Some(r));
        }
        let fulls = applicable
            .iter()
            .copied()
            .filter(|&r| !self.releases[r].is_delta);
        if eff == 1 {
            // R17
            return match fulls.max_by_key(|&r| self.releases[r].to) {
                Some(r) if self.releases[r].to != version => (Rule::Full, Some(r)),
                _ => (Rule::None, None),
            };
        }
        // R14
        if let Some(r) = fulls
            .clone()
            .filter(|&r| self.releases[r].mpt && self.releases[r].to > version)
            .min_by_key(|&r| self.releases[r].to)
        {
            return (Rule::Mpt, Some(r));
        }
        // R15
        match fulls
            .filter(|&r| self.releases[r].to > version)
            .max_by_key(|&r| self.releases[r].to)
        {
            Some(r) => (Rule::Full, Some(r)),
            None => (Rule::None, None),
        }
    }

    /// R24: the final version, or None for a cycle.
    fn final_version(&self, d: &Device) -> Option<usize> {
        let mut v = d.version;
        let mut seen = BTreeSet::new();
        loop {
            if !seen.insert(v) {
                return None;
            }
            match self.resolve(d, v) {
                (_, None) => return Some(v),
                (_, Some(r)) => v = self.releases[r].to,
            }
        }
    }

    fn toml(&self) -> String {
        let mut t = String::from(
            "seed = 1\n[[cohorts]]\nname = \"flat\"\ndisable_version_checking = true\n",
        );
        t.push_str("\n[[project_keys]]\nname = \"k\"\n");
        if let Some(c) = self.key_override {
            t.push_str(&format!("ota_cohort_override = \"{}\"\n", COHORTS[c]));
        }
        for r in &self.releases {
            let p: Vec<String> = (0..2)
                .filter_map(|h| r.payloads[h].map(|b| format!("\"{}\" = {b}", HW[h])))
                .collect();
            let p = p.join(", ");
            if r.is_delta {
                t.push_str(&delta(POOL[r.from], POOL[r.to], &p));
            } else if r.mpt {
                t.push_str(&mpt(POOL[r.to], &p));
            } else {
                t.push_str(&full(POOL[r.to], &p));
            }
        }
        for r in &self.releases {
            for (c, mode) in r.active.iter().enumerate() {
                match mode {
                    Some(Mode::Normal) => t.push_str(&activate("0", &r.name(), COHORTS[c])),
                    // Created at 0 %: the cohort's staged set is emptied (R19); devices are
                    // staged by id below.
                    Some(Mode::Staged) => {
                        t.push_str(&activate_staged("0", &r.name(), COHORTS[c], "0"))
                    }
                    None => {}
                }
            }
        }
        let staged: Vec<String> = self
            .devices
            .iter()
            .filter(|d| d.staged)
            .map(|d| format!("\"{}\"", d.id))
            .collect();
        if !staged.is_empty() {
            t.push_str(&event(
                "1",
                "stage",
                &format!("devices = [{}]", staged.join(", ")),
            ));
        }
        for d in &self.devices {
            let mut extra = format!("cohort = \"{}\"", COHORTS[d.cohort]);
            if d.key {
                extra.push_str("; project_key = \"k\"");
            }
            if let Some(o) = d.override_ {
                extra.push_str(&format!(
                    "; release_override = \"{}\"",
                    self.releases[o].name()
                ));
            }
            t.push_str(&dev_with(&d.id, HW[d.hw], POOL[d.version], &extra));
        }
        t
    }

    fn expected_resolve(&self) -> String {
        let mut rows = String::new();
        for d in &self.devices {
            let (rule, r) = self.resolve(d, d.version);
            let tail = match r {
                None => "none,,,".to_string(),
                Some(r) => format!(
                    "{},{},{},{}",
                    rule.name(),
                    self.releases[r].name(),
                    POOL[self.releases[r].to],
                    self.payload(r, d.hw).unwrap()
                ),
            };
            rows.push_str(&format!(
                "{},{},{},{},{tail}\n",
                d.id,
                COHORTS[d.cohort],
                COHORTS[self.effective_cohort(d)],
                POOL[d.version]
            ));
        }
        rows
    }

    /// Matrix rows keyed for sorting: (cohort, current, next, rule, final-or-cycle).
    fn expected_matrix(&self) -> Vec<String> {
        let mut cells: BTreeMap<(usize, usize, usize, Rule, Option<usize>), usize> =
            BTreeMap::new();
        for d in &self.devices {
            let (rule, r) = self.resolve(d, d.version);
            let next = r.map_or(d.version, |r| self.releases[r].to);
            *cells
                .entry((d.cohort, d.version, next, rule, self.final_version(d)))
                .or_default() += 1;
        }
        cells
            .into_iter()
            .map(|((c, cur, next, rule, fin), n)| {
                format!(
                    "{},{},{},{},{n},{}",
                    COHORTS[c],
                    POOL[cur],
                    POOL[next],
                    rule.name(),
                    fin.map_or("cycle", |f| POOL[f])
                )
            })
            .collect()
    }
}

fn rank(v: &str) -> usize {
    POOL.iter()
        .position(|p| *p == v)
        .unwrap_or_else(|| panic!("unexpected version {v:?}"))
}

fn rule_rank(r: &str) -> usize {
    ["none", "override", "delta", "must_pass_through", "full"]
        .iter()
        .position(|x| *x == r)
        .unwrap()
}

#[test]
fn differential_resolve_and_matrix_r9_to_r18_r23_r24() {
    // How often each rule (and a cycle) came up, so the generator is known to reach them.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for case in 0..120u64 {
        let mut rng = Rng(0xd1ff ^ (case * 0x1_0000_0001));
        let world = World::generate(&mut rng);
        let text = world.toml();
        let sc = Scenario::new(&format!("diff-{case:02}.toml"), &text);
        let got = otasim(["resolve", sc.p(), "--at", "1", "--format", "csv"]);
        let got = stdout_ok(&got);
        let want = format!("{RESOLVE_HEADER}\n{}", world.expected_resolve());
        if normalize(&got) != normalize(&want) {
            panic!("case {case}: resolve differs\n=== scenario ===\n{text}\n=== expected ===\n{want}\n=== got ===\n{got}");
        }

        let got = matrix_ok(&sc.path, "1");
        let mut lines = got.lines();
        assert_eq!(lines.next(), Some(MATRIX_HEADER), "case {case}");
        let got_rows: Vec<String> = lines
            .filter(|l| !l.trim().is_empty())
            .map(String::from)
            .collect();
        for r in &got_rows {
            let f: Vec<&str> = r.split(',').collect();
            *seen.entry(f[3].to_string()).or_default() += 1;
            if f[5] == "cycle" {
                *seen.entry("cycle".to_string()).or_default() += 1;
            }
        }
        let mut want_rows = world.expected_matrix();
        let mut sorted_got = got_rows.clone();
        sorted_got.sort();
        want_rows.sort();
        if sorted_got != want_rows {
            panic!(
                "case {case}: matrix rows differ\n=== scenario ===\n{text}\n=== expected (any order) ===\n{}\n=== got ===\n{}",
                want_rows.join("\n"),
                got_rows.join("\n")
            );
        }
        // Sorted by cohort, current, next (precedence), rule; the order of final versions
        // within one cell is left alone here ("cycle" has no documented place).
        let keys: Vec<(String, usize, usize, usize)> = got_rows
            .iter()
            .map(|r| {
                let f: Vec<&str> = r.split(',').collect();
                (f[0].to_string(), rank(f[1]), rank(f[2]), rule_rank(f[3]))
            })
            .collect();
        assert!(
            keys.windows(2).all(|w| w[0] <= w[1]),
            "case {case}: matrix not sorted\n{got}"
        );
    }
    for what in [
        "none",
        "override",
        "delta",
        "must_pass_through",
        "full",
        "cycle",
    ] {
        assert!(
            seen.get(what).copied().unwrap_or(0) >= 3,
            "generator too weak: {what} seen {seen:?}"
        );
    }
    eprintln!("differential coverage: {seen:?}");
}

fn normalize(s: &str) -> Vec<String> {
    s.lines()
        .map(|l| l.trim_end().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}
