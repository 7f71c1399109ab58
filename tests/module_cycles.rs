//! No two sibling modules import each other, directly or round a circle, in any folder of the
//! core or the Worker: a module owns its types, and the modules acting on a record
//! depend on the module that holds it, never the other way round.
//!
//! Each folder's modules are its files and subfolders; an edge is a `super::x` from a module's
//! own file (or its folder's `mod.rs`), a `super::super::x` from deeper in it, or a path through
//! the crate (`crate::job::x`, `use crate::{x, ...}`). Comments and test modules are left out.
//! A child reaching its parent (`super::Job` of the job's own `impl` blocks) is Rust's module
//! tree, not a circle between siblings, and is not counted.
//!
//! Left out, with the circle it still holds: the `studio` crate's top level (`src/*.rs` and its
//! folders as modules: brief, routing, plan, memory, job and api refer to one another's types).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The crates' source roots; every folder below them is checked, and the Worker's root too
const ROOTS: [&str; 2] = ["src", "actors/src"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The code of a file without its test module and its line comments
fn code(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first segments of the names after every `prefix` in `code`: `prefix::x` gives `x`,
/// `prefix::{x, y::z}` gives `x` and `y`
fn names_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let needle = format!("{prefix}::");
    let mut from = 0;
    while let Some(found) = code[from..].find(&needle) {
        let at = from + found;
        from = at + needle.len();
        let rest = &code[from..];
        // Part of a longer path (`x::super::`), or a deeper one (`super::super::` read for
        // `super::`): that prefix's business, not this one's.
        if code[..at].ends_with("::") || rest.starts_with(&needle) {
            from += if rest.starts_with(&needle) {
                needle.len()
            } else {
                0
            };
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let first = item.trim().split("::").next().unwrap_or_default();
                if !first.is_empty() {
                    out.insert(first.to_owned());
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.insert(name);
        }
    }
    out
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The modules of a folder and whom each imports among its siblings
fn graph(folder: &Path, crate_path: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut modules: BTreeMap<String, Vec<(PathBuf, bool)>> = BTreeMap::new();
    for entry in fs::read_dir(folder).into_iter().flatten().flatten() {
        let path = entry.path();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        if path.is_dir() {
            let files: Vec<(PathBuf, bool)> = rust_files(&path)
                .into_iter()
                .map(|f| {
                    let own = f == path.join("mod.rs");
                    (f, own)
                })
                .collect();
            // A module may be `x.rs` beside `x/` (its submodules): both are the module.
            modules.entry(name).or_default().extend(files);
        } else if path.extension().is_some_and(|e| e == "rs")
            && !["mod", "lib", "main"].contains(&name.as_str())
        {
            modules.entry(name).or_default().push((path, true));
        }
    }
    let through_crate = if crate_path.is_empty() {
        "crate".to_owned()
    } else {
        format!("crate::{crate_path}")
    };
    let mut edges = BTreeMap::new();
    for (name, files) in &modules {
        let mut to = BTreeSet::new();
        for (file, own) in files {
            let code = code(file);
            to.extend(names_after(&code, &through_crate));
            // From the module's own file `super::` is the folder; from deeper, `super::super::`.
            if *own {
                to.extend(names_after(&code, "super"));
            } else {
                to.extend(names_after(&code, "super::super"));
            }
        }
        to.retain(|m| m != name && modules.contains_key(m));
        edges.insert(name.clone(), to);
    }
    edges
}

/// The strongly connected components with more than one module (Tarjan)
fn circles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            for w in self.edges.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low.get_mut(v).unwrap();
                    *lv = (*lv).min(lw);
                } else if self.stack.contains(&w) {
                    let iw = self.index[w];
                    let lv = self.low.get_mut(v).unwrap();
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    component.push(w.to_owned());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.found
}

/// Every folder below `root` (not `root` itself), with its path in the crate
fn folders(root: &Path, crate_path: &str, out: &mut Vec<(PathBuf, String)>) {
    let mut dirs: Vec<PathBuf> = fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let path = if crate_path.is_empty() {
            name
        } else {
            format!("{crate_path}::{name}")
        };
        out.push((dir.clone(), path.clone()));
        folders(&dir, &path, out);
    }
}

#[test]
fn sibling_modules_form_no_circle() {
    let mut checked = vec![(root().join("actors/src"), String::new())];
    for src in ROOTS {
        folders(&root().join(src), "", &mut checked);
    }
    assert!(checked.len() > 15, "only {} folders found", checked.len());
    let mut found = Vec::new();
    for (dir, crate_path) in &checked {
        let edges = graph(dir, crate_path);
        for circle in circles(&edges) {
            let shown = dir.strip_prefix(root()).unwrap_or(dir);
            found.push(format!("{}: {}", shown.display(), circle.join(" <-> ")));
        }
    }
    assert!(found.is_empty(), "import circles:\n{}", found.join("\n"));
}

#[test]
fn the_check_sees_a_circle() {
    // The reader itself: two modules importing each other, once by `super::` and once by a
    // grouped `use crate::x::{..}`, make one circle; a third that only imports is outside it.
    let edges = BTreeMap::from([
        ("a".to_owned(), names_after("use super::b::B;", "super")),
        (
            "b".to_owned(),
            names_after("use crate::x::{a::A, c};", "crate::x"),
        ),
        ("c".to_owned(), BTreeSet::new()),
        (
            "d".to_owned(),
            names_after("use super::{a, c::C};", "super"),
        ),
    ]);
    assert_eq!(circles(&edges), vec![vec!["a".to_owned(), "b".to_owned()]]);
    // A deeper prefix is not read as the shallower one.
    assert!(names_after("super::super::z", "super").is_empty());
    // And the job's own folder holds the circle this guards against if `state` imports back.
    let job = graph(&root().join("src/job"), "job");
    assert!(job["notify"].contains("state") && job["effect"].contains("state"));
}
