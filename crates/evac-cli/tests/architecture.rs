//! The layering of ARCHITECTURE.md, checked from the manifests: which crates may (transitively,
//! through workspace crates) depend on which drivers and frameworks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each workspace crate with its direct dependencies (workspace crates and external crates).
fn manifests() -> BTreeMap<String, BTreeSet<String>> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut graph = BTreeMap::new();
    for entry in std::fs::read_dir(crates).unwrap() {
        let manifest = entry.unwrap().path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let doc: toml::Table = text.parse().unwrap();
        let name = doc["package"]["name"].as_str().unwrap().to_string();
        let deps = doc
            .get("dependencies")
            .and_then(|d| d.as_table())
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default();
        graph.insert(name, deps);
    }
    graph
}

/// Everything `name` depends on through workspace crates (normal dependencies only).
fn closure(graph: &BTreeMap<String, BTreeSet<String>>, name: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![name.to_string()];
    while let Some(current) = stack.pop() {
        for dep in graph.get(&current).into_iter().flatten() {
            if seen.insert(dep.clone()) && graph.contains_key(dep) {
                stack.push(dep.clone());
            }
        }
    }
    seen
}

#[test]
fn layers_depend_only_downwards() {
    let graph = manifests();
    assert!(
        graph.len() >= 11,
        "found the workspace crates: {:?}",
        graph.keys()
    );
    // The pure cores: no runtime, no database, no HTTP, nothing above them.
    const PURE: &[&str] = &[
        "tokio",
        "sqlx",
        "rusqlite",
        "axum",
        "evac-store",
        "evac-app",
    ];
    let forbidden: [(&str, &[&str]); 12] = [
        ("evac-model", PURE),
        // The pages know neither HTTP nor the domain: plain view models in, HTML out.
        (
            "evac-ui",
            &[
                "tokio",
                "sqlx",
                "rusqlite",
                "axum",
                "evac-model",
                "evac-store",
                "evac-app",
            ],
        ),
        ("evac-plan", PURE),
        ("evac-triage", PURE),
        ("evac-link", PURE),
        ("evac-geo", PURE),
        ("evac-demo", PURE),
        ("evac-exchange", PURE),
        ("evac-notify", PURE),
        (
            "evac-store",
            &["sqlx", "rusqlite", "axum", "tokio", "evac-app"],
        ),
        ("evac-store-sqlite", &["sqlx", "axum", "evac-app"]),
        ("evac-app", &["axum", "tower-http", "evac-web", "evac-cli"]),
    ];
    for (krate, banned) in forbidden {
        let deps = closure(&graph, krate);
        for b in banned {
            assert!(
                !deps.contains(*b),
                "{krate} must not depend on {b} (ARCHITECTURE.md invariants)"
            );
        }
    }
    // Only the web crate (and the binary wiring it) knows HTTP.
    for (krate, deps) in &graph {
        if krate != "evac-web" && krate != "evac-cli" {
            assert!(!deps.contains("axum"), "{krate} depends on axum directly");
        }
    }
}
