//! The library's layers, lowest first, and a check that no module uses a module of a
//! higher layer: data flows one way (files → model → engine → analytics → tables and
//! charts), and each layer may use only its own layer and those below it. ARCHITECTURE.md
//! explains the list; this is the one place it is written down.
//!
//! The check reads `src/**/*.rs` (not the binary's `main.rs` and `cli/`, which sit on
//! top), takes every `crate::…` path outside comments and test code (a test may build
//! its fixtures with any module) and fails on a path to a higher layer, or on a module
//! of `src/lib.rs` that is in no layer.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Lowest first. A module may use modules of its own layer and of the layers before it.
const LAYERS: &[(&str, &[&str])] = &[
    // Know nothing of releases or devices: values, and files written atomically.
    (
        "leaves",
        &[
            "version",
            "ids",
            "dir_lock",
            "table_out",
            "prefetch",
            "pages",
            "row_runs",
            "bitmap",
        ],
    ),
    // The device store (ids only).
    ("fleet", &["fleet"]),
    // Releases, the resolver over a catalog and a fleet, and the limits on input
    // (the catalog keeps the resolver variant; limits suggest names as the catalog does).
    ("catalog", &["catalog", "resolver", "limits"]),
    // What changes a state over time, and the randomness that drives it.
    (
        "change",
        &["rng", "staging", "behaviour", "policy", "timeline"],
    ),
    // The validated model: initial state, timeline, run settings.
    ("model", &["model"]),
    // What runs on a model: queries and the tick loop.
    ("simulation", &["matrix", "engine"]),
    // Files → model: the scenario loader, which also places engine errors in its file.
    ("loader", &["scenario"]),
    // Drawing: figures, described by analytics in charts' terms.
    ("charts", &["charts"]),
    // Results of runs and queries.
    ("results", &["analytics", "diff", "plan", "sweep", "golden"]),
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&module))
}

/// Removes `//` comments (doc comments included), leaving line breaks.
fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            if trimmed.starts_with("//") {
                ""
            } else if let Some(i) = line.find(" // ") {
                &line[..i]
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The end (exclusive) of the item starting at `start`: through its `;` or through the
/// `}` closing its first `{`, whichever comes first. Braces in char literals are ignored;
/// braces in string literals come in pairs in this code base.
fn item_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' if i + 2 < bytes.len() && bytes[i + 2] == b'\'' => i += 2,
            b';' if depth == 0 => return i + 1,
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

/// The code outside `#[cfg(test)]` items, and the names of test-only submodule files
/// (`#[cfg(test)] mod tests;`).
fn non_test_code(text: &str) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut test_files = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..i]);
        let after = &rest[i + "#[cfg(test)]".len()..];
        let end = item_end(after, 0);
        let item = after[..end].trim();
        if let Some(name) = item.strip_prefix("mod ").and_then(|m| m.strip_suffix(';')) {
            test_files.push(name.trim().to_string());
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    (out, test_files)
}

/// The first segment of every `crate::` path: `crate::a::b` gives `a`, and
/// `crate::{a::b, c}` gives `a` and `c`.
fn crate_paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().next_back();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `$crate::` or an identifier ending in `crate`
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut start_of_entry = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => start_of_entry = true,
                    c if start_of_entry && (c.is_alphanumeric() || c == '_') => {
                        found.push(ident_at(&group[j..]));
                        start_of_entry = false;
                    }
                    _ => {}
                }
            }
        } else {
            found.push(ident_at(rest));
        }
    }
    found
}

fn ident_at(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The modules declared in `src/lib.rs`.
fn lib_modules(root: &Path) -> Vec<String> {
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    lib.lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l.strip_prefix("pub ").unwrap_or(l);
            let l = l.strip_prefix("pub(crate) ").unwrap_or(l);
            l.strip_prefix("mod ")?
                .strip_suffix(';')
                .map(str::to_string)
        })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Upward imports of the file `module_path` (relative to `src/`, with `/`) whose text
/// is `text`, as `file: module (layer) uses other (layer)`.
fn violations(module_path: &str, text: &str) -> Vec<String> {
    let module = module_path
        .split('/')
        .next()
        .unwrap()
        .trim_end_matches(".rs");
    let Some(own) = layer_of(module) else {
        return vec![format!("{module_path}: module `{module}` is in no layer")];
    };
    let (code, _) = non_test_code(&strip_comments(text));
    let used: BTreeSet<String> = crate_paths(&code).into_iter().collect();
    used.iter()
        .filter_map(|other| {
            let theirs = layer_of(other)?;
            (theirs > own).then(|| {
                format!(
                    "{module_path}: {module} ({}) uses {other} ({}), a higher layer",
                    LAYERS[own].0, LAYERS[theirs].0
                )
            })
        })
        .collect()
}

#[test]
fn no_module_uses_a_higher_layer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let mut missing: Vec<String> = lib_modules(root)
        .into_iter()
        .filter(|m| layer_of(m).is_none())
        .map(|m| format!("src/lib.rs: module `{m}` is in no layer"))
        .collect();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    // Files that only tests compile (`#[cfg(test)] mod tests;`).
    let mut test_only = BTreeSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let (_, names) = non_test_code(&strip_comments(&text));
        let dir = if file
            .file_name()
            .is_some_and(|n| n == "mod.rs" || n == "lib.rs")
        {
            file.parent().unwrap().to_path_buf()
        } else {
            file.with_extension("")
        };
        for name in names {
            test_only.insert(dir.join(format!("{name}.rs")));
            test_only.insert(dir.join(&name).join("mod.rs"));
        }
    }
    let mut found = Vec::new();
    for file in &files {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel == "lib.rs" || rel == "main.rs" || rel.starts_with("cli/") {
            continue;
        }
        if test_only.contains(file) {
            continue;
        }
        found.extend(violations(&rel, &std::fs::read_to_string(file).unwrap()));
    }
    missing.extend(found);
    assert!(missing.is_empty(), "\n{}\n", missing.join("\n"));
}

#[test]
fn the_check_sees_upward_imports_in_every_form() {
    let text = "//! Uses [`crate::analytics`] in a doc comment only.\n\
        use crate::ids::DeviceIdx;\n\
        use crate::{catalog::Catalog, scenario::Scenario};\n\
        fn f() { crate::engine::state_at(); }\n\
        #[cfg(test)]\n\
        mod tests {\n    use crate::charts::Chart;\n    fn g() { let _ = '{'; }\n}\n";
    assert_eq!(
        violations("timeline.rs", text),
        vec![
            "timeline.rs: timeline (change) uses engine (simulation), a higher layer",
            "timeline.rs: timeline (change) uses scenario (loader), a higher layer",
        ]
    );
    assert_eq!(
        violations("shiny.rs", "use crate::ids::DeviceIdx;"),
        vec!["shiny.rs: module `shiny` is in no layer"]
    );
}
