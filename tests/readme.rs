//! The READMEs say what the program does: the Chinese one keeps the English
//! one's sections, every rule code is listed for the seller, and the tables
//! of SMTP replies show exactly what the server sends (issue 14 §5, §6).

use std::path::Path;

use sendwell::policy::RuleId;
use sendwell::smtp::Reply;

fn read(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The lines outside fenced code blocks (a `#` in a shell block is no heading).
fn prose(text: &str) -> Vec<&str> {
    let mut fenced = false;
    text.lines()
        .filter(|l| {
            if l.starts_with("```") {
                fenced = !fenced;
                return false;
            }
            !fenced
        })
        .collect()
}

/// `(level, title)` of every heading.
fn headings(text: &str) -> Vec<(usize, String)> {
    prose(text)
        .into_iter()
        .filter_map(|l| {
            let level = l.chars().take_while(|&c| c == '#').count();
            let title = l.get(level..)?.strip_prefix(' ')?;
            (level > 0).then(|| (level, title.trim().to_string()))
        })
        .collect()
}

/// The anchor GitHub gives a heading: lower case, spaces become `-`,
/// punctuation (ASCII or full-width) goes, letters of any script stay.
fn anchor(title: &str) -> String {
    title
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

/// Every `](#anchor)` link in the text.
fn local_links(text: &str) -> Vec<String> {
    text.split("](#")
        .skip(1)
        .filter_map(|rest| rest.split(')').next().map(str::to_string))
        .collect()
}

#[test]
fn the_chinese_readme_has_the_english_sections_in_the_same_order() {
    let en = headings(&read("README.md"));
    let zh = headings(&read("README.zh-CN.md"));
    assert!(en.len() > 20, "the English README has its sections: {en:?}");
    let levels = |h: &[(usize, String)]| h.iter().map(|(l, _)| *l).collect::<Vec<_>>();
    assert_eq!(
        levels(&en),
        levels(&zh),
        "README.zh-CN.md must have the same # / ## / ### headings in the same order as README.md\n\
         English: {en:#?}\nChinese: {zh:#?}"
    );
    // Section by section: each English anchor has its Chinese counterpart, no
    // two sections share an anchor, and a translated heading is translated.
    let mut seen = std::collections::HashSet::new();
    for ((_, e), (_, z)) in en.iter().zip(&zh).skip(1) {
        let (ea, za) = (anchor(e), anchor(z));
        assert!(seen.insert(za.clone()), "two Chinese sections are #{za}");
        assert!(
            ea == za || z.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "section '{e}' is '{z}' in README.zh-CN.md: not translated"
        );
    }
}

#[test]
fn links_inside_each_readme_lead_to_its_own_sections() {
    for name in ["README.md", "README.zh-CN.md"] {
        let text = read(name);
        let anchors: Vec<String> = headings(&text).iter().map(|(_, t)| anchor(t)).collect();
        for link in local_links(&text) {
            assert!(
                anchors.contains(&link),
                "{name} links to #{link}, which is no heading of it"
            );
        }
    }
}

#[test]
fn each_readme_links_the_other_at_the_top() {
    let top = |name: &str| read(name).lines().take(5).collect::<Vec<_>>().join("\n");
    assert!(top("README.md").contains("](README.zh-CN.md)"));
    assert!(top("README.zh-CN.md").contains("](README.md)"));
}

#[test]
fn the_chinese_readme_lists_every_rule_code() {
    let zh = read("README.zh-CN.md");
    let missing: Vec<&str> = RuleId::ALL
        .iter()
        .map(|id| id.as_str())
        .filter(|id| !zh.contains(&format!("| `{id}` |")))
        .collect();
    assert!(
        missing.is_empty(),
        "README.zh-CN.md's list of codes lacks {missing:?}"
    );
}

/// The first cell of every table row that starts with a reply code, e.g.
/// `550 5.7.1 Refused by sending policy (score …): …`.
fn documented_replies(text: &str) -> Vec<String> {
    prose(text)
        .into_iter()
        .filter_map(|l| {
            let cell = l.strip_prefix("| `")?.split("` |").next()?;
            let code = cell.get(..3)?;
            code.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| cell.to_string())
        })
        .collect()
}

/// A documented reply matches a real one when they are equal but for the
/// parts written `…` (an address, a number, a reason), each standing for
/// any text.
fn matches(pattern: &str, reply: &str) -> bool {
    let mut parts = pattern.split('…');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = reply.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

fn server_replies() -> Vec<String> {
    sendwell::smtp::session::catalogue()
        .into_iter()
        .chain(sendwell::gateway::replies::catalogue())
        .map(|r: Reply| r.to_string())
        .collect()
}

#[test]
fn the_reply_tables_show_what_the_server_sends() {
    let server = server_replies();
    assert!(server.len() > 30, "{server:#?}");
    for name in ["README.md", "README.zh-CN.md"] {
        let documented = documented_replies(&read(name));
        assert!(documented.len() > 25, "{name}: {documented:#?}");
        for d in &documented {
            assert!(
                server.iter().any(|s| matches(d, s)),
                "{name} documents `{d}`, which the server never sends; it sends:\n{}",
                server.join("\n")
            );
        }
        for s in &server {
            assert!(
                documented.iter().any(|d| matches(d, s)),
                "the server sends `{s}`, which {name}'s reply tables do not show"
            );
        }
    }
}

#[test]
fn the_matcher_is_strict_outside_the_ellipses() {
    assert!(matches(
        "535 5.7.8 authentication credentials invalid",
        "535 5.7.8 authentication credentials invalid"
    ));
    assert!(!matches(
        "535 5.7.8 Authentication failed",
        "535 5.7.8 authentication credentials invalid"
    ));
    assert!(matches(
        "421 4.4.2 … timeout, closing connection",
        "421 4.4.2 gw.example timeout, closing connection"
    ));
    assert!(!matches(
        "451 4.3.0 temporary local problem",
        "451 4.3.0 temporary local problem; please try again"
    ));
    assert!(matches("553 5.6.7 a …b…", "553 5.6.7 a xbx"));
    assert!(!matches("553 5.6.7 a …b…c", "553 5.6.7 a xbx"));
}
