//! Parameter sweeps: the scenario file with some of its values replaced, for every
//! combination of the values given (`otasim sweep SCENARIO --set NAME=V1,V2,…`).
//!
//! A parameter is named by its path in the scenario file, so whatever a scenario can
//! say can be swept, and the file stays the one source of truth:
//!
//! - keys are joined with dots: `bandwidth.max_bytes_per_tick`, `behaviour.poll_interval`;
//! - an element of an array is chosen by its 0-based index, `events[3]`, or, for arrays
//!   of tables, by its `name`, its `version`, or `FROM->TO` for a Delta release:
//!   `releases[2.1.0]`, `profiles[cellular]`, `fleet.groups[prod]`;
//! - inline tables and arrays are walked the same way: `events[3].gate.max_failure_percent`,
//!   `events[0].ramp.factor`, `events[0].ramp[1].percent`.
//!
//! The value must be written in the scenario (the sweep replaces values, it does not
//! add them), so a misspelt name is an error, not an ignored setting. Values are TOML
//! (`0.05`, `100`, `true`, `"2h"`); anything that is not TOML is taken as a string, so
//! `2h` is `"2h"`. Edits keep the rest of the file as written, so an error in a variant
//! names the same line as in the scenario.

use std::fmt;

use toml_edit::{DocumentMut, Item, Table, Value};

/// One `--set NAME=V1,V2,…`.
#[derive(Clone, Debug)]
pub struct Param {
    /// The path, as given.
    pub name: String,
    /// Its parsed segments.
    path: Vec<Segment>,
    /// The values, as given (text) and as TOML.
    pub values: Vec<(String, Value)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Key(String),
    Select(String),
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Segment::Key(k) => write!(f, ".{k}"),
            Segment::Select(s) => write!(f, "[{s}]"),
        }
    }
}

/// Parses `NAME=V1,V2,…`.
pub fn parse_set(text: &str) -> Result<Param, String> {
    let (name, values) = text
        .split_once('=')
        .ok_or_else(|| format!("--set {text}: expected NAME=V1,V2,…"))?;
    let name = name.trim();
    let path = parse_path(name).map_err(|m| format!("--set {name}: {m}"))?;
    let values: Vec<(String, Value)> = values
        .split(',')
        .map(str::trim)
        .map(|v| {
            let value = v
                .parse::<Value>()
                .unwrap_or_else(|_| Value::from(v.to_string()));
            (v.to_string(), value)
        })
        .collect();
    if values.iter().any(|(v, _)| v.is_empty()) {
        return Err(format!("--set {name}: a value is empty"));
    }
    Ok(Param {
        name: name.to_string(),
        path,
        values,
    })
}

fn parse_path(name: &str) -> Result<Vec<Segment>, String> {
    let mut out = Vec::new();
    let mut rest = name;
    let key_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    loop {
        let end = rest.find(|c: char| !key_char(c)).unwrap_or(rest.len());
        if end == 0 {
            return Err("expected a key such as `events[3].gate.max_failure_percent`".into());
        }
        out.push(Segment::Key(rest[..end].to_string()));
        rest = &rest[end..];
        while let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']').ok_or("a `[` is not closed")?;
            if close == 0 {
                return Err("empty `[]`".into());
            }
            out.push(Segment::Select(r[..close].to_string()));
            rest = &r[close + 1..];
        }
        if rest.is_empty() {
            return Ok(out);
        }
        rest = rest
            .strip_prefix('.')
            .ok_or_else(|| format!("unexpected `{rest}`"))?;
    }
}

/// A place in the document being walked.
enum Node<'a> {
    Item(&'a mut Item),
    Table(&'a mut Table),
    Value(&'a mut Value),
}

/// The keys of a table-like node, for error messages.
fn keys(node: &Node<'_>) -> String {
    let names: Vec<String> = match node {
        Node::Item(i) => i
            .as_table_like()
            .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
            .unwrap_or_default(),
        Node::Table(t) => t.iter().map(|(k, _)| k.to_string()).collect(),
        Node::Value(v) => v
            .as_inline_table()
            .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
            .unwrap_or_default(),
    };
    if names.is_empty() {
        "it is not a table".into()
    } else {
        format!("it has: {}", names.join(", "))
    }
}

/// Whether a table-like element is the one `sel` names (by name, version or FROM->TO).
fn matches(get: impl Fn(&str) -> Option<String>, sel: &str) -> bool {
    get("name").as_deref() == Some(sel)
        || get("version").as_deref() == Some(sel)
        || matches!((get("from"), get("to")), (Some(f), Some(t)) if format!("{f}->{t}") == sel)
}

fn child<'a>(node: Node<'a>, key: &str, at: &str) -> Result<Node<'a>, String> {
    let missing = |n: &Node<'_>| format!("{at} has no `{key}` ({})", keys(n));
    match node {
        Node::Item(item) => {
            if item.as_table_like().is_some_and(|t| t.contains_key(key)) {
                Ok(Node::Item(
                    item.as_table_like_mut()
                        .and_then(|t| t.get_mut(key))
                        .expect("checked"),
                ))
            } else {
                Err(missing(&Node::Item(item)))
            }
        }
        Node::Table(t) => {
            if t.contains_key(key) {
                Ok(Node::Item(t.get_mut(key).expect("checked")))
            } else {
                Err(missing(&Node::Table(t)))
            }
        }
        Node::Value(v) => {
            if v.as_inline_table().is_some_and(|t| t.contains_key(key)) {
                Ok(Node::Value(
                    v.as_inline_table_mut()
                        .and_then(|t| t.get_mut(key))
                        .expect("checked"),
                ))
            } else {
                Err(missing(&Node::Value(v)))
            }
        }
    }
}

fn select<'a>(node: Node<'a>, sel: &str, at: &str) -> Result<Node<'a>, String> {
    let index = sel.parse::<usize>().ok();
    let str_of = |v: &Value| v.as_str().map(String::from);
    match node {
        Node::Item(Item::ArrayOfTables(a)) => {
            let n = a.len();
            let i = match index {
                Some(i) => i,
                None => a
                    .iter()
                    .position(|t| {
                        matches(
                            |k| t.get(k).and_then(|i| i.as_value()).and_then(str_of),
                            sel,
                        )
                    })
                    .ok_or_else(|| format!("{at} has no element named \"{sel}\""))?,
            };
            a.get_mut(i)
                .map(Node::Table)
                .ok_or_else(|| format!("{at} has {n} elements, so no [{sel}]"))
        }
        Node::Item(Item::Value(v)) | Node::Value(v) => {
            let Some(a) = v.as_array_mut() else {
                return Err(format!("{at} is not an array"));
            };
            let n = a.len();
            let i = match index {
                Some(i) => i,
                None => a
                    .iter()
                    .position(|e| {
                        e.as_inline_table()
                            .is_some_and(|t| matches(|k| t.get(k).and_then(str_of), sel))
                    })
                    .ok_or_else(|| format!("{at} has no element named \"{sel}\""))?,
            };
            a.get_mut(i)
                .map(Node::Value)
                .ok_or_else(|| format!("{at} has {n} elements, so no [{sel}]"))
        }
        _ => Err(format!("{at} is not an array")),
    }
}

impl Param {
    /// Replaces this parameter's value in `doc` with its value number `k`.
    pub fn apply(&self, doc: &mut DocumentMut, k: usize) -> Result<(), String> {
        self.replace(doc, k)
            .map_err(|m| format!("--set {}: {m}", self.name))
    }

    fn replace(&self, doc: &mut DocumentMut, k: usize) -> Result<(), String> {
        let mut node = Node::Table(doc.as_table_mut());
        let mut at = String::from("the scenario");
        let mut so_far = String::new();
        for seg in &self.path {
            node = match seg {
                Segment::Key(key) => child(node, key, &at)?,
                Segment::Select(sel) => select(node, sel, &at)?,
            };
            so_far.push_str(&seg.to_string());
            at = so_far.trim_start_matches('.').to_string();
        }
        let new = self.values[k].1.clone();
        match node {
            Node::Item(item @ Item::Value(_)) => {
                let decor = item.as_value().map(|v| v.decor().clone());
                let mut new = new;
                if let Some(d) = decor {
                    *new.decor_mut() = d;
                }
                *item = Item::Value(new);
                Ok(())
            }
            Node::Value(v) => {
                let decor = v.decor().clone();
                *v = new;
                *v.decor_mut() = decor;
                Ok(())
            }
            _ => Err(format!("{at} is a table, not a value")),
        }
    }
}

/// The variants of a sweep: the Cartesian product of the parameters' values, the last
/// parameter varying fastest. Variant `i`'s choice of value per parameter.
pub fn variant(params: &[Param], mut i: usize) -> Vec<usize> {
    let mut choice = vec![0; params.len()];
    for (p, c) in params.iter().zip(choice.iter_mut()).rev() {
        *c = i % p.values.len();
        i /= p.values.len();
    }
    choice
}

/// The number of variants (the product of the value counts).
pub fn count(params: &[Param]) -> usize {
    params.iter().map(|p| p.values.len()).product()
}

/// `--part I/N` (1-based I): the variants `[⌊(I−1)·V/N⌋, ⌊I·V/N⌋)` of `V`, so the parts
/// 1..=N are contiguous, disjoint and together the whole sweep.
pub fn part(text: &str, variants: usize) -> Result<std::ops::Range<usize>, String> {
    let bad = || format!("--part {text}: expected I/N with 1 <= I <= N, such as 2/8");
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i == 0 || i > n {
        return Err(bad());
    }
    Ok((i - 1) * variants / n..i * variants / n)
}

/// The scenario text of variant `choice`.
pub fn variant_text(
    doc: &DocumentMut,
    params: &[Param],
    choice: &[usize],
) -> Result<String, String> {
    let mut doc = doc.clone();
    for (p, &k) in params.iter().zip(choice) {
        p.apply(&mut doc, k)?;
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"seed = 1
[bandwidth]
max_bytes_per_tick = 1000 # cap

[[releases]]
version = "2.1.0"
install_failure_probability = 0.1

[[releases]]
from = "2.0.0"
to = "2.1.0"

[[events]]
at = 0
action = "activate"
ramp = [{ percent = 1, after = 0 }, { percent = 10, after = "1d" }]
gate = { max_failure_percent = 5, action = "abort" }
"#;

    fn set(doc: &mut DocumentMut, s: &str) -> Result<(), String> {
        parse_set(s)?.apply(doc, 0)
    }

    #[test]
    fn names_reach_every_kind_of_value() {
        let mut doc: DocumentMut = TEXT.parse().unwrap();
        set(&mut doc, "bandwidth.max_bytes_per_tick=2000").unwrap();
        set(&mut doc, "releases[2.1.0].install_failure_probability=0.5").unwrap();
        set(&mut doc, "events[0].gate.max_failure_percent=2.5").unwrap();
        set(&mut doc, "events[0].ramp[1].after=2d").unwrap();
        set(&mut doc, "seed=9").unwrap();
        let text = doc.to_string();
        assert!(text.contains("max_bytes_per_tick = 2000 # cap"), "{text}");
        assert!(text.contains("install_failure_probability = 0.5"));
        assert!(text.contains("max_failure_percent = 2.5"));
        assert!(text.contains("after = \"2d\""));
        assert!(text.starts_with("seed = 9\n"));
        // Lines do not move.
        assert_eq!(text.lines().count(), TEXT.lines().count());
    }

    #[test]
    fn unknown_names_are_errors() {
        let mut doc: DocumentMut = TEXT.parse().unwrap();
        assert_eq!(
            set(&mut doc, "events[0].gate.max_failure_pct=1"),
            Err("--set events[0].gate.max_failure_pct: events[0].gate has no `max_failure_pct` (it has: max_failure_percent, action)".into())
        );
        assert_eq!(
            set(&mut doc, "events[4].gate.max_failure_percent=1"),
            Err(
                "--set events[4].gate.max_failure_percent: events has 1 elements, so no [4]".into()
            )
        );
        assert_eq!(
            set(&mut doc, "releases[9.9.9].install_failure_probability=1"),
            Err("--set releases[9.9.9].install_failure_probability: releases has no element named \"9.9.9\"".into())
        );
        assert_eq!(
            set(&mut doc, "releases[2.0.0->2.1.0].install_failure_probability=1"),
            Err("--set releases[2.0.0->2.1.0].install_failure_probability: releases[2.0.0->2.1.0] has no `install_failure_probability` (it has: from, to)".into())
        );
        assert_eq!(
            set(&mut doc, "bandwidth=1"),
            Err("--set bandwidth: bandwidth is a table, not a value".into())
        );
        assert!(parse_set("x.=1").is_err());
        assert!(parse_set("x").is_err());
    }

    #[test]
    fn grid_and_parts() {
        let params = vec![parse_set("a=1,2").unwrap(), parse_set("b=x,y,z").unwrap()];
        assert_eq!(count(&params), 6);
        let all: Vec<Vec<usize>> = (0..6).map(|i| variant(&params, i)).collect();
        assert_eq!(all[0], vec![0, 0]);
        assert_eq!(all[1], vec![0, 1]);
        assert_eq!(all[5], vec![1, 2]);
        for n in 1..=8 {
            let mut covered = Vec::new();
            for i in 1..=n {
                covered.extend(part(&format!("{i}/{n}"), 6).unwrap());
            }
            assert_eq!(covered, (0..6).collect::<Vec<_>>(), "n = {n}");
        }
        assert!(part("0/2", 6).is_err());
        assert!(part("3/2", 6).is_err());
        assert!(part("1", 6).is_err());
    }
}
