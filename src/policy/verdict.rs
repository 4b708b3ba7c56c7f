//! The judge's answer: a decision for the message and for each recipient,
//! the hits behind it (each with an explanation and a fix in English and
//! Simplified Chinese), and the rewrites a recipient's copy needs.
//!
//! Data and small helpers only; how it is shown lives in [`super::report`].

use serde::Serialize;

use super::config::Language;
use super::rules::RuleId;
use crate::smtp::Reply;

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
    /// The SMTP answer when this refuses a recipient (RCPT_*).
    pub reply: Option<Reply>,
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
            reply: None,
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

    pub fn reply(mut self, r: Reply) -> Finding {
        self.reply = Some(r);
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
    /// The refusal for this recipient when `action` is `Reject`.
    #[serde(skip)]
    pub reply: Option<Reply>,
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

    /// One short ASCII line naming the top reasons, for `550 5.7.1` at the
    /// end of DATA (a mail client shows it to the writer).
    pub fn smtp_summary(&self) -> String {
        let mut hits: Vec<&Hit> = self.hits.iter().collect();
        if hits.iter().all(|h| h.advice) {
            hits = self.all_hits().collect();
        }
        summary_of(self.score, &hits)
    }
}

/// The one-line refusal for a score and its hits: fixed actions first, then
/// by score, as many as fit in [`MAX_SMTP_SUMMARY`].
pub fn summary_of(score: f64, hits: &[&Hit]) -> String {
    let mut hits: Vec<&Hit> = hits.iter().copied().filter(|h| !h.advice).collect();
    hits.sort_by(|a, b| {
        b.action.cmp(&a.action).then(
            b.score
                .partial_cmp(&a.score)
                .unwrap_or(std::cmp::Ordering::Equal),
        )
    });
    let mut out = format!("Refused by sending policy (score {})", fmt_score(score));
    let mut first = true;
    for h in hits {
        let mut reason = h.id.spec().summary.to_string();
        let detail = ascii_detail(&h.detail);
        if !detail.is_empty() {
            reason = format!("{reason} '{detail}'");
        }
        let piece = format!("{}{reason} [{}]", if first { ": " } else { "; " }, h.id);
        if out.len() + piece.len() > MAX_SMTP_SUMMARY {
            break;
        }
        out.push_str(&piece);
        first = false;
    }
    out
}

/// A detail fit for an SMTP line: ASCII, short, no quotes.
fn ascii_detail(d: &str) -> String {
    if !d.is_ascii() || d.len() > 40 {
        return String::new();
    }
    d.chars()
        .filter(|c| !c.is_control() && *c != '\'')
        .collect()
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
    let r = (s * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(id: RuleId, score: f64, action: Option<Decision>, detail: &str) -> Hit {
        Hit {
            id,
            score,
            action,
            advice: false,
            detail: detail.into(),
            explanation: Text::default(),
            fix: Text::default(),
        }
    }

    #[test]
    fn summary_is_short_ascii_and_puts_fixed_actions_first() {
        let v = Verdict {
            action: Decision::Reject,
            score: 13.5,
            hits: vec![
                hit(RuleId::SubjectEmoji, 2.0, None, "🎉"),
                hit(
                    RuleId::AttachExecutable,
                    10.0,
                    Some(Decision::Reject),
                    "setup.exe",
                ),
                hit(RuleId::SubjectExclamation, 1.5, None, "!!!"),
            ],
            recipients: vec![],
        };
        let s = v.smtp_summary();
        assert!(s.is_ascii() && s.len() <= MAX_SMTP_SUMMARY, "{s}");
        assert!(s.starts_with("Refused by sending policy (score 13.5): executable attachment 'setup.exe' [ATTACH_EXECUTABLE]"), "{s}");
        assert!(s.contains("[SUBJECT_EMOJI]"));
    }

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
            reply: None,
        });
        assert_eq!(v.overall(), Decision::Hold);
        assert_eq!(fmt_score(7.0), "7");
        assert_eq!(fmt_score(7.25), "7.3");
    }
}
