//! The rooms keep their floors: the pure judge and clock know nothing of
//! SMTP, and nothing below the gateway reaches up into it. Read from the
//! source, so a new `use` that breaks the layering fails here with the file
//! and line, not in a review months later.

use std::path::Path;

/// `(file, line number, line)` of every line under `src/<room>` that names
/// one of `forbidden` (as `crate::X` or `super::…::X` paths would).
fn uses(room: &str, forbidden: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let start = root.join(room);
    if start.is_dir() {
        let mut stack = vec![start];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    files.push(p);
                }
            }
        }
    } else {
        files.push(root.join(format!("{room}.rs")));
    }
    let mut found = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for room in forbidden {
                if code.contains(&format!("crate::{room}::"))
                    || code.contains(&format!("crate::{room};"))
                    || code.contains(&format!("crate::{room}}}"))
                    || code.contains(&format!("crate::{{{room}"))
                {
                    found.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
                }
            }
        }
    }
    found
}

#[test]
fn the_judge_and_the_clock_know_nothing_of_smtp_sql_or_the_gateway() {
    for room in ["policy", "schedule"] {
        let bad = uses(
            room,
            &[
                "smtp", "gateway", "relay", "admin", "cli", "server", "ops", "store", "clock",
            ],
        );
        assert!(
            bad.is_empty(),
            "{room} reaches out of the pure core:\n{}",
            bad.join("\n")
        );
    }
}

#[test]
fn nothing_below_the_gateway_imports_it() {
    for room in [
        "policy",
        "schedule",
        "message",
        "recipient",
        "store",
        "audit",
        "relay",
        "metrics",
        "display",
        "notices",
        "clock",
        "retention",
        "advice",
    ] {
        let bad = uses(room, &["gateway", "smtp", "admin", "cli", "ops"]);
        assert!(
            bad.is_empty(),
            "{room} imports a room above it:\n{}",
            bad.join("\n")
        );
    }
}
