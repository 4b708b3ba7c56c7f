//! `[policy]` and `[notices]`: thresholds, and per rule `enabled`, `weight`,
//! `action` and parameters. An unknown rule ID or key is an error naming the
//! rule, so a typo never silently turns a rule back to its default.
//!
//! Schema and validation only; the judge reads it through [`super::Judge::new`].

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use super::rules::{Action, RuleId, Scope};

/// `[policy]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Judge messages at all. Off: every message is accepted, except that a
    /// user may still not send as someone else (SENDER_NOT_ALLOWED).
    pub enabled: bool,
    /// A message scoring at least this is held for review.
    pub hold_at: f64,
    /// A message scoring at least this is refused (`550 5.7.1`).
    pub reject_at: f64,
    /// `[policy.rules.RULE_ID]` tables overriding a rule's defaults.
    #[serde(deserialize_with = "de_rules")]
    pub rules: BTreeMap<String, RuleConfig>,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            enabled: true,
            hold_at: 6.0,
            reject_at: 12.0,
            rules: BTreeMap::new(),
        }
    }
}

/// `[policy.rules.RULE_ID]`: every key is optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// `false` switches the rule off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Points added to the score when the rule fires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// `score`, `hold`, `reject` (and `strip` for READ_RECEIPT_COLD).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    /// More phrases to look for (SUBJECT_SPAM_PHRASE, BODY_SPAM_PHRASE,
    /// GENERIC_GREETING), lower case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phrases: Option<Vec<String>>,
    /// More domains (FREEMAIL_SENDER, LINK_SHORTENER, RCPT_DISPOSABLE; for
    /// RCPT_TYPO entries `typo=correct`, e.g. `"gmal.com=gmail.com"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domains: Option<Vec<String>>,
    /// More file extensions, without the dot (ATTACH_EXECUTABLE, ATTACH_ARCHIVE).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Vec<String>>,
    /// Most phrase hits counted (SUBJECT_SPAM_PHRASE: 3, BODY_SPAM_PHRASE: 4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_hits: Option<u32>,
    /// SUBJECT_TOO_LONG: longest subject without a hit (78).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_chars: Option<u32>,
    /// WRONG_LANGUAGE: Han characters that make a passage (20).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_chars: Option<u32>,
    /// BODY_IMAGE_ONLY (20), BODY_ATTACHMENT_ONLY (10): fewer words fire;
    /// WALL_OF_TEXT: more words in a first-contact message fire (400).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_words: Option<u32>,
    /// WALL_OF_TEXT: longest paragraph without a hit (150 words).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_paragraph_words: Option<u32>,
    /// LINK_HEAVY: most links without a hit (8).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_links: Option<u32>,
    /// VISIBLE_RECIPIENTS (5 external To/Cc addresses), BULK_NO_UNSUBSCRIBE
    /// (20 envelope recipients): more fire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_recipients: Option<u32>,
    /// ATTACH_LARGE: total attachment size in MB without a hit (10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_mb: Option<f64>,
}

impl RuleConfig {
    /// The parameter keys set in this table.
    fn params_set(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        let mut add = |set: bool, k: &'static str| {
            if set {
                v.push(k);
            }
        };
        add(self.phrases.is_some(), "phrases");
        add(self.domains.is_some(), "domains");
        add(self.extensions.is_some(), "extensions");
        add(self.max_hits.is_some(), "max_hits");
        add(self.max_chars.is_some(), "max_chars");
        add(self.min_chars.is_some(), "min_chars");
        add(self.max_words.is_some(), "max_words");
        add(self.max_paragraph_words.is_some(), "max_paragraph_words");
        add(self.max_links.is_some(), "max_links");
        add(self.max_recipients.is_some(), "max_recipients");
        add(self.max_mb.is_some(), "max_mb");
        v
    }
}

fn de_rules<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, RuleConfig>, D::Error> {
    let raw = BTreeMap::<String, toml::Value>::deserialize(d)?;
    let mut out = BTreeMap::new();
    for (id, value) in raw {
        if RuleId::parse(&id).is_none() {
            return Err(serde::de::Error::custom(unknown_rule_message(&id)));
        }
        let rule: RuleConfig = value.try_into().map_err(|e: toml::de::Error| {
            serde::de::Error::custom(format!("[policy.rules.{id}]: {}", e.message().trim()))
        })?;
        out.insert(id, rule);
    }
    Ok(out)
}

pub(crate) fn unknown_rule_message(id: &str) -> String {
    let upper = id.to_uppercase().replace('-', "_");
    let closest = RuleId::ALL
        .iter()
        .map(|r| (edit_distance(&upper, r.as_str()), r))
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d);
    let hint = closest
        .map(|(_, r)| format!(" (did you mean {r}?)"))
        .unwrap_or_default();
    format!(
        "unknown rule '{id}'{hint}; the README lists every rule ID under \"Rule codes\", and `sendwell explain ID` tells what one checks"
    )
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            if let Some(c) = cur.get_mut(j + 1) {
                *c = sub.min(del).min(ins);
            }
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

impl PolicyConfig {
    /// Checks what serde cannot. The error is `(key, message)`, the key
    /// dotted like `policy.rules.LINK_HEAVY.max_links`.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |k: String, m: String| Err((k, m));
        if !(self.hold_at.is_finite() && self.hold_at > 0.0) {
            return bad(
                "policy.hold_at".into(),
                format!("must be a positive number, not {}", self.hold_at),
            );
        }
        if !(self.reject_at.is_finite() && self.reject_at >= self.hold_at) {
            return bad(
                "policy.reject_at".into(),
                format!(
                    "must be at least hold_at ({}), not {}",
                    self.hold_at, self.reject_at
                ),
            );
        }
        for (id, rule) in &self.rules {
            let key = format!("policy.rules.{id}");
            let Some(rid) = RuleId::parse(id) else {
                return bad(key, unknown_rule_message(id));
            };
            let spec = rid.spec();
            if let Some(w) = rule.weight
                && !(w.is_finite() && w >= 0.0)
            {
                return bad(
                    format!("{key}.weight"),
                    format!("{id}: weight must be 0 or more, not {w}"),
                );
            }
            if let Some(a) = rule.action
                && !spec.allowed_actions().contains(&a)
            {
                {
                    let allowed: Vec<&str> =
                        spec.allowed_actions().iter().map(|a| a.as_str()).collect();
                    return bad(
                        format!("{key}.action"),
                        format!(
                            "{id}: action '{}' is not possible here (use one of: {})",
                            a.as_str(),
                            allowed.join(", ")
                        ),
                    );
                }
            }
            for p in rule.params_set() {
                if !spec.params.contains(&p) {
                    let takes = if spec.params.is_empty() {
                        "none".to_string()
                    } else {
                        spec.params.join(", ")
                    };
                    return bad(
                        format!("{key}.{p}"),
                        format!("{id} has no parameter '{p}' (it takes: {takes})"),
                    );
                }
            }
            if spec.scope == Scope::Elsewhere
                && (rule.weight.is_some() || !rule.params_set().is_empty())
            {
                // Known IDs decided outside the judge only take enabled/action here.
                return bad(
                    key,
                    format!(
                        "{id} is not decided by the message judge; only 'enabled' and 'action' apply here"
                    ),
                );
            }
            if rule.max_mb.is_some_and(|m| !(m.is_finite() && m > 0.0)) {
                return bad(
                    format!("{key}.max_mb"),
                    format!("{id}: max_mb must be a positive number"),
                );
            }
            if rid == RuleId::RcptTypo
                && let Some(d) = rule.domains.iter().flatten().find(|d| !d.contains('='))
            {
                return bad(
                    format!("{key}.domains"),
                    format!("{id}: '{d}' should be written typo=correct, e.g. gmal.com=gmail.com"),
                );
            }
        }
        Ok(())
    }

    /// The table for one rule, if configured.
    pub fn rule(&self, id: RuleId) -> Option<&RuleConfig> {
        self.rules.get(id.as_str())
    }
}

/// The language of sender notices and reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub enum Language {
    #[default]
    #[serde(rename = "en")]
    En,
    #[serde(rename = "zh-CN")]
    ZhCn,
}

/// `[notices]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoticesConfig {
    /// `"en"` or `"zh-CN"`: the language of sender notices and reports.
    pub language: Language,
    /// The address sendwell's own mail (notices, delivery reports) is sent
    /// as, envelope and `From:`; it must be one the upstream lets its login
    /// send as. Unset: the upstream login when it is an address, else
    /// `postmaster@<server.hostname>` with an empty envelope sender.
    pub from: Option<String>,
    /// The route (`[[upstream.routes]]` name, or `default`) sendwell's own
    /// mail to a seller takes while the seller's own route is paused.
    /// Unset: `default` (the `[upstream]` route).
    pub route: Option<String>,
    /// Remind a seller once when a message that opened a conversation got
    /// no reply from any recipient for this long (read from their
    /// `[[inbox]]`). Unset: no reminders.
    #[serde(with = "humantime_serde")]
    pub remind_after: Option<std::time::Duration>,
    /// What the writer hears of warnings below the hold line (the message
    /// went out): `"digest"` (one mail a day listing those messages with
    /// their fixes), `"each"` (a notice per message) or `"off"`.
    pub advice: Advice,
}

/// `[notices] advice`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Advice {
    Off,
    #[default]
    Digest,
    Each,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Wrap {
        #[serde(default)]
        policy: PolicyConfig,
        #[serde(default)]
        notices: NoticesConfig,
    }

    fn parse(s: &str) -> Result<Wrap, String> {
        toml::from_str::<Wrap>(s).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_overrides() {
        let w = parse("").unwrap();
        assert_eq!(w.policy, PolicyConfig::default());
        assert_eq!(w.notices.language, Language::En);
        let w = parse(
            "[notices]\nlanguage = \"zh-CN\"\n[policy]\nhold_at = 5\n[policy.rules.LINK_HEAVY]\nmax_links = 20\nweight = 2\n[policy.rules.SUBJECT_EMOJI]\nenabled = false\n",
        )
        .unwrap();
        assert_eq!(w.notices.language, Language::ZhCn);
        assert_eq!(w.policy.hold_at, 5.0);
        assert_eq!(
            w.policy.rule(RuleId::LinkHeavy).unwrap().max_links,
            Some(20)
        );
        assert!(w.policy.validate().is_ok());
    }

    #[test]
    fn unknown_rule_and_key_name_the_rule() {
        let e = parse("[policy.rules.SUBJECT_EMOJIS]\nweight = 1\n").unwrap_err();
        assert!(
            e.contains("SUBJECT_EMOJIS") && e.contains("did you mean SUBJECT_EMOJI"),
            "{e}"
        );
        let e = parse("[policy.rules.LINK_HEAVY]\nwieght = 1\n").unwrap_err();
        assert!(e.contains("LINK_HEAVY") && e.contains("wieght"), "{e}");
    }

    #[test]
    fn validate_catches_misplaced_params_and_actions() {
        let mut p = PolicyConfig::default();
        p.rules.insert(
            "SUBJECT_MISSING".into(),
            RuleConfig {
                max_links: Some(3),
                ..Default::default()
            },
        );
        let (k, m) = p.validate().unwrap_err();
        assert_eq!(k, "policy.rules.SUBJECT_MISSING.max_links");
        assert!(m.contains("SUBJECT_MISSING"));
        let mut p = PolicyConfig::default();
        p.rules.insert(
            "LINK_HEAVY".into(),
            RuleConfig {
                action: Some(Action::Strip),
                ..Default::default()
            },
        );
        assert!(p.validate().unwrap_err().1.contains("strip"));
        let mut p = PolicyConfig::default();
        p.rules.insert("NOPE".into(), RuleConfig::default());
        assert_eq!(p.validate().unwrap_err().0, "policy.rules.NOPE");
        let p = PolicyConfig {
            reject_at: 3.0,
            ..Default::default()
        };
        assert_eq!(p.validate().unwrap_err().0, "policy.reject_at");
    }
}
