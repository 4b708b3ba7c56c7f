//! The judge's answer: a decision for the message and for each recipient,
//! the hits behind it (each with an explanation and a fix in English and
//! Simplified Chinese), and the rewrites a recipient's copy needs.
//!
//! Data and small helpers only; how it is shown lives in [`super::report`].

use serde::Serialize;

use super::config::Language;
use super::rules::RuleId;

/// Longest one-line SMTP refusal text we produce.
pub const MAX_SMTP_SUMMARY: usize = 200;

/// What happens to the message (or one recipient's copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    #[default]
    Accept,
    Hold,
    Reject,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Accept => "accept",
            Decision::Hold => "hold",
            Decision::Reject => "reject",
        }
    }
}

/// A sentence in both languages of the notices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Text {
    pub en: String,
    pub zh: String,
}

impl Text {
    pub fn new(en: impl Into<String>, zh: impl Into<String>) -> Text {
        Text {
            en: en.into(),
            zh: zh.into(),
        }
    }

    pub fn get(&self, lang: Language) -> &str {
        match lang {
            Language::En => &self.en,
            Language::ZhCn => &self.zh,
        }
    }
}

/// What a rule reports when it fires, before the configuration weighs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub id: RuleId,
    /// Multiples of the rule's weight (2 for "two or more '!'", n for n phrases).
    pub units: f64,
    /// The offending thing itself: a phrase, a file name, a header.
    pub detail: String,
    pub explanation: Text,
    pub fix: Text,
    /// A change to the recipient's copy (READ_RECEIPT_COLD).
    pub rewrite: Option<Rewrite>,
    /// Why this refuses a recipient in the rule's own words (RCPT_*).
    pub refusal: Option<Refusal>,
}

impl Finding {
    pub fn new(id: RuleId, detail: impl Into<String>, explanation: Text, fix: Text) -> Finding {
        Finding {
            id,
            units: 1.0,
            detail: detail.into(),
            explanation,
            fix,
            rewrite: None,
            refusal: None,
        }
    }

    pub fn units(mut self, units: f64) -> Finding {
        self.units = units;
        self
    }

    pub fn rewrite(mut self, r: Rewrite) -> Finding {
        self.rewrite = Some(r);
        self
    }

    pub fn refusal(mut self, r: Refusal) -> Finding {
        self.refusal = Some(r);
        self
    }
}

/// A fired rule, weighed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub id: RuleId,
    /// Points added to the score.
    pub score: f64,
    /// A decision the rule forces whatever the score.
    pub action: Option<Decision>,
    /// Advice only: shown, never counted towards hold or refuse.
    pub advice: bool,
    pub detail: String,
    pub explanation: Text,
    pub fix: Text,
}

/// A recipient refused for a reason that has its own words (the gateway's
/// replies module words them for the mail program).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// RCPT_NO_REPLY: nobody reads mail sent there.
    NoReply,
    /// RCPT_TYPO: the domain is a known misspelling of `suggestion`'s.
    Typo { domain: String, suggestion: String },
}

/// A change to one recipient's copy before it is queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Rewrite {
    /// Remove these header fields (all occurrences, with folded lines).
    StripHeaders(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecipientVerdict {
    pub address: String,
    pub action: Decision,
    /// The message score plus this recipient's own hits.
    pub score: f64,
    /// This recipient's own hits (the message's are in [`Verdict::hits`]).
    pub hits: Vec<Hit>,
    pub rewrites: Vec<Rewrite>,
    /// The rule's own words for refusing this recipient when `action` is
    /// `Reject` (else the reply names the score and reasons).
    #[serde(skip)]
    pub refusal: Option<Refusal>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The message-level decision: `Reject` refuses at the end of DATA.
    pub action: Decision,
    /// Sum of the message hits' scores.
    pub score: f64,
    pub hits: Vec<Hit>,
    pub recipients: Vec<RecipientVerdict>,
}

impl Verdict {
    /// The worst decision over the message and every recipient.
    pub fn overall(&self) -> Decision {
        self.recipients
            .iter()
            .map(|r| r.action)
            .fold(self.action, Decision::max)
    }

    /// Every hit, message and recipient level (a recipient hit once per ID).
    pub fn all_hits(&self) -> impl Iterator<Item = &Hit> {
        self.hits
            .iter()
            .chain(self.recipients.iter().flat_map(|r| r.hits.iter()))
    }
}

/// 7 → "7", 7.5 → "7.5".
/// `"a", "b"`: the offending phrases as a finding's explanation quotes them.
pub fn quoted_list(items: &[String]) -> String {
    items
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn fmt_score(s: f64) -> String {
    crate::display::score_text(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overall_is_worst() {
        let mut v = Verdict {
            action: Decision::Accept,
            score: 0.0,
            hits: vec![],
            recipients: vec![],
        };
        assert_eq!(v.overall(), Decision::Accept);
        v.recipients.push(RecipientVerdict {
            address: "a@b.de".into(),
            action: Decision::Hold,
            score: 6.0,
            hits: vec![],
            rewrites: vec![],
            refusal: None,
        });
        assert_eq!(v.overall(), Decision::Hold);
        assert_eq!(fmt_score(7.0), "7");
        assert_eq!(fmt_score(7.25), "7.3");
    }
}
