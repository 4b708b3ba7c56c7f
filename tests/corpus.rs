//! Runs every message of `tests/corpus/` through the facts and the judge
//! with the default configuration and compares with the expectations beside
//! it (`NNN-name.json`, format in `tests/corpus/README.md`). A mismatch
//! writes `NNN-name.actual` (the verdict as JSON) beside the message; all
//! mismatches are listed before the test fails.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use sendwell::message::MessageFacts;
use sendwell::policy::{Decision, Judge, PolicyConfig, RecipientFacts, SenderFacts, Verdict};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    #[allow(dead_code)]
    description: String,
    rcpt: Option<Vec<String>>,
    #[serde(default)]
    auth_user: Option<String>,
    verdict: String,
    #[serde(default)]
    hits: Vec<String>,
    #[serde(default)]
    not_hits: Vec<String>,
    #[serde(default)]
    rcpt_verdicts: BTreeMap<String, String>,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("corpus")
}

fn fired(v: &Verdict) -> Vec<&'static str> {
    let mut ids: Vec<&'static str> = v.all_hits().map(|h| h.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Checks one message; returns what went wrong (empty when all is well).
fn check(eml: &Path, judge: &Judge) -> (Vec<String>, Option<Verdict>, Option<String>) {
    let json_path = eml.with_extension("json");
    let expect: Expect = match fs::read_to_string(&json_path)
        .map_err(|e| e.to_string())
        .and_then(|s| serde_json::from_str(&s).map_err(|e| e.to_string()))
    {
        Ok(e) => e,
        Err(e) => {
            return (
                vec![format!("cannot read {}: {e}", json_path.display())],
                None,
                None,
            );
        }
    };
    let raw = match fs::read(eml) {
        Ok(r) => r,
        Err(e) => return (vec![format!("cannot read: {e}")], None, None),
    };
    let facts = match MessageFacts::parse(&raw) {
        Ok(f) => f,
        Err(e) => return (vec![format!("no facts: {e}")], None, None),
    };
    let rcpts: Vec<RecipientFacts> = match &expect.rcpt {
        Some(list) => list
            .iter()
            .map(|a| RecipientFacts::from_address(a))
            .collect(),
        None => facts
            .visible_recipients()
            .map(|m| RecipientFacts::from_address(&m.address))
            .collect(),
    };
    let sender = SenderFacts {
        mail_from: facts
            .from
            .as_ref()
            .map(|m| m.address.clone())
            .unwrap_or_default(),
        auth_user: expect.auth_user.clone(),
        allowed_from: None,
        dmarc_will_fail: None,
    };
    let at = jiff::Timestamp::from_second(1_795_000_000).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let v = judge.evaluate(&facts, &sender, &rcpts, at);
    let mut problems = Vec::new();
    if v.action.as_str() != expect.verdict {
        problems.push(format!(
            "verdict {} (score {}), expected {}",
            v.action.as_str(),
            v.score,
            expect.verdict
        ));
    }
    for r in &v.recipients {
        let want = expect
            .rcpt_verdicts
            .get(&r.address)
            .unwrap_or(&expect.verdict);
        if r.action.as_str() != want {
            problems.push(format!(
                "recipient {}: {} (score {}), expected {want}",
                r.address,
                r.action.as_str(),
                r.score
            ));
        }
    }
    for a in expect.rcpt_verdicts.keys() {
        if !v.recipients.iter().any(|r| &r.address == a) {
            problems.push(format!("rcpt_verdicts names {a}, which is not a recipient"));
        }
    }
    let ids = fired(&v);
    for h in &expect.hits {
        if !ids.contains(&h.as_str()) {
            problems.push(format!("{h} did not fire"));
        }
    }
    for h in &expect.not_hits {
        if ids.contains(&h.as_str()) {
            let detail = v
                .all_hits()
                .find(|x| x.id.as_str() == h)
                .map(|x| x.detail.clone())
                .unwrap_or_default();
            problems.push(format!("{h} fired ({detail})"));
        }
    }
    (problems, Some(v), Some(expect.verdict))
}

#[test]
fn corpus() {
    let dir = corpus_dir();
    let mut emls: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    emls.sort();
    assert!(!emls.is_empty(), "no .eml files in {}", dir.display());

    let judge = Judge::new(&PolicyConfig::default());
    let mut failures = Vec::new();
    let mut accept_scored = Vec::new();
    let mut accepts = 0;
    for eml in &emls {
        let name = eml
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let actual_path = eml.with_extension("actual");
        let (problems, verdict, expected) = check(eml, &judge);
        if let (Some(v), Some(exp)) = (&verdict, &expected)
            && exp == "accept"
        {
            accepts += 1;
            if v.score > 0.0 {
                let why: Vec<String> = v
                    .hits
                    .iter()
                    .filter(|h| !h.advice)
                    .map(|h| format!("{} {}", h.id, h.score))
                    .collect();
                accept_scored.push(format!("  {name}: {} ({})", v.score, why.join(", ")));
            }
        }
        if problems.is_empty() {
            let _ = fs::remove_file(&actual_path);
            continue;
        }
        if let Some(v) = &verdict {
            let json = serde_json::to_string_pretty(v).unwrap_or_default();
            let _ = fs::write(&actual_path, json);
        }
        failures.push(format!("{name}:\n    {}", problems.join("\n    ")));
    }
    println!(
        "{} messages; {} of {accepts} accept-expected messages score above 0:",
        emls.len(),
        accept_scored.len()
    );
    for line in &accept_scored {
        println!("{line}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus messages differ (see NNN.actual):\n{}",
        failures.len(),
        emls.len(),
        failures.join("\n")
    );
    assert!(
        emls.iter().all(|e| e.with_extension("json").exists()),
        "every .eml needs its .json"
    );
    let _ = Decision::Accept;
}

/// Issue 12 §6: legitimate everyday mail unlike the seller corpus
/// (`tests/corpus/everyday/`, written by `make_everyday.py`): mailing-list
/// posts, newsletters, personal mail in twelve languages, code review
/// mail, webmail footers with undeclared charsets, PGP- and S/MIME-signed
/// mail, invitations, contact cards. Its false-hold count is 0: none of it
/// may be held or refused, for any recipient.
#[test]
fn everyday_mail_is_never_held() {
    let dir = corpus_dir().join("everyday");
    let mut emls: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    emls.sort();
    assert!(
        emls.len() >= 40,
        "only {} messages in {}",
        emls.len(),
        dir.display()
    );
    let judge = Judge::new(&PolicyConfig::default());
    let at = jiff::Timestamp::from_second(1_795_000_000).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let mut held = Vec::new();
    let mut scored = Vec::new();
    for eml in &emls {
        let name = eml
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let raw = fs::read(eml).unwrap_or_else(|e| panic!("{name}: {e}"));
        let facts = MessageFacts::parse(&raw).unwrap_or_else(|e| panic!("{name}: {e}"));
        let rcpts: Vec<RecipientFacts> = facts
            .visible_recipients()
            .map(|m| RecipientFacts::from_address(&m.address))
            .collect();
        let sender = SenderFacts {
            mail_from: facts
                .from
                .as_ref()
                .map(|m| m.address.clone())
                .unwrap_or_default(),
            ..SenderFacts::default()
        };
        let v = judge.evaluate(&facts, &sender, &rcpts, at);
        let why: Vec<String> = v
            .all_hits()
            .filter(|h| !h.advice)
            .map(|h| format!("{} {} ({})", h.id, h.score, h.detail))
            .collect();
        let worst = v
            .recipients
            .iter()
            .map(|r| r.action)
            .fold(v.action, Decision::max);
        if worst != Decision::Accept {
            held.push(format!("  {name}: {} — {}", worst.as_str(), why.join(", ")));
        } else if !why.is_empty() {
            scored.push(format!("  {name}: {}", why.join(", ")));
        }
    }
    println!(
        "{} everyday messages, {} held; scored but accepted:\n{}",
        emls.len(),
        held.len(),
        scored.join("\n")
    );
    assert!(
        held.is_empty(),
        "{} of {} legitimate everyday messages held or refused:\n{}",
        held.len(),
        emls.len(),
        held.join("\n")
    );
}
