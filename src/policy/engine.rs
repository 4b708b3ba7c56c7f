//! The engine: runs every enabled rule over the facts, weighs the findings
//! with the configuration, sums the message score, and decides for the
//! message and for each recipient.
//!
//! Pure: no IO, no clock (`now` is a plain value), no async.

use jiff::Timestamp;

use super::config::PolicyConfig;
use super::inputs::{RecipientFacts, SenderFacts};
use super::rules::{Action, RuleId, Scope};
use super::subject::PhraseSet;
use super::verdict::{Decision, Finding, Hit, RecipientVerdict, Refusal, Rewrite, Verdict};
use super::{attachments, body, etiquette, recipient, sender, subject, words};
use crate::message::MessageFacts;

/// Rule parameters, defaults merged with `[policy.rules.ID]`.
#[derive(Debug, Clone)]
pub struct Params {
    pub subject_phrases: PhraseSet,
    pub subject_max_hits: u32,
    pub subject_max_chars: usize,
    pub body_phrases: PhraseSet,
    pub body_max_hits: u32,
    pub greeting_phrases: Vec<String>,
    pub image_only_words: usize,
    pub attachment_only_words: usize,
    pub max_links: usize,
    pub paragraph_words: usize,
    pub cold_words: usize,
    pub min_chinese: usize,
    pub max_visible: usize,
    pub bulk_recipients: usize,
    pub freemail: Vec<String>,
    pub shorteners: Vec<String>,
    pub disposable: Vec<String>,
    /// (typo, correct) domain pairs.
    pub typos: Vec<(String, String)>,
    pub executable_ext: Vec<String>,
    pub archive_ext: Vec<String>,
    pub max_attachment_bytes: u64,
}

impl Params {
    pub fn new(cfg: &PolicyConfig) -> Params {
        let r = |id: RuleId| cfg.rule(id).cloned().unwrap_or_default();
        let extend = |base: &[&str], extra: Option<Vec<String>>| -> Vec<String> {
            let mut v: Vec<String> = base.iter().map(|s| s.to_string()).collect();
            v.extend(
                extra
                    .unwrap_or_default()
                    .into_iter()
                    .map(|s| s.trim().to_lowercase())
                    .filter(|s| !s.is_empty()),
            );
            v
        };
        let num = |v: Option<u32>, d: usize| v.map(|n| n as usize).unwrap_or(d);
        let wall = r(RuleId::WallOfText);
        let mut typos: Vec<(String, String)> = recipient::TYPO_DOMAINS
            .iter()
            .map(|(t, c)| (t.to_string(), c.to_string()))
            .collect();
        for entry in r(RuleId::RcptTypo).domains.unwrap_or_default() {
            if let Some((t, c)) = entry.split_once('=') {
                typos.push((t.trim().to_lowercase(), c.trim().to_lowercase()));
            }
        }
        Params {
            subject_phrases: PhraseSet::new(extend(
                subject::SPAM_PHRASES,
                r(RuleId::SubjectSpamPhrase).phrases,
            )),
            subject_max_hits: r(RuleId::SubjectSpamPhrase).max_hits.unwrap_or(3),
            subject_max_chars: num(r(RuleId::SubjectTooLong).max_chars, 78),
            body_phrases: PhraseSet::new(extend(
                &words::WORDS
                    .spam_phrases
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>(),
                r(RuleId::BodySpamPhrase).phrases,
            )),
            body_max_hits: r(RuleId::BodySpamPhrase).max_hits.unwrap_or(4),
            greeting_phrases: {
                let builtin: Vec<&str> =
                    words::WORDS.greetings.iter().map(String::as_str).collect();
                let mut all = extend(&builtin, r(RuleId::GenericGreeting).phrases);
                for g in &mut all {
                    *g = words::fold(g);
                }
                all
            },
            image_only_words: num(r(RuleId::BodyImageOnly).max_words, 20),
            attachment_only_words: num(r(RuleId::BodyAttachmentOnly).max_words, 10),
            max_links: num(r(RuleId::LinkHeavy).max_links, 8),
            paragraph_words: num(wall.max_paragraph_words, 150),
            cold_words: num(wall.max_words, 400),
            min_chinese: num(r(RuleId::WrongLanguage).min_chars, 20),
            max_visible: num(r(RuleId::VisibleRecipients).max_recipients, 5),
            bulk_recipients: num(r(RuleId::BulkNoUnsubscribe).max_recipients, 20),
            freemail: extend(sender::FREEMAIL_DOMAINS, r(RuleId::FreemailSender).domains),
            shorteners: extend(body::SHORTENERS, r(RuleId::LinkShortener).domains),
            disposable: extend(
                recipient::DISPOSABLE_DOMAINS,
                r(RuleId::RcptDisposable).domains,
            ),
            typos,
            executable_ext: extend(
                attachments::EXECUTABLE_EXTENSIONS,
                r(RuleId::AttachExecutable).extensions,
            ),
            archive_ext: extend(
                attachments::ARCHIVE_EXTENSIONS,
                r(RuleId::AttachArchive).extensions,
            ),
            max_attachment_bytes: (r(RuleId::AttachLarge).max_mb.unwrap_or(10.0) * 1024.0 * 1024.0)
                as u64,
        }
    }
}

/// Everything a rule may look at for one message.
pub struct Ctx<'a> {
    pub facts: &'a MessageFacts,
    pub sender: &'a SenderFacts,
    /// Envelope recipients of this message.
    pub recipient_count: usize,
    pub params: &'a Params,
}

impl<'a> Ctx<'a> {
    pub fn new(
        facts: &'a MessageFacts,
        sender: &'a SenderFacts,
        recipient_count: usize,
        params: &'a Params,
    ) -> Self {
        Ctx {
            facts,
            sender,
            recipient_count,
            params,
        }
    }

    /// A first contact for this recipient: not a reply, not an established contact.
    /// The first non-empty line the writer wrote: the greeting, if any.
    pub fn greeting_line(&self) -> Option<&'a str> {
        self.facts
            .own_text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
    }

    pub fn is_cold(&self, r: &RecipientFacts) -> bool {
        !self.facts.thread.is_reply() && !r.established
    }
}

type MessageRule = fn(&Ctx<'_>) -> Option<Finding>;
type RecipientRule = fn(&Ctx<'_>, &RecipientFacts) -> Option<Finding>;
type AddressRule = fn(&RecipientFacts, &Params) -> Option<Finding>;

const MESSAGE_RULES: &[(RuleId, MessageRule)] = &[
    (RuleId::SubjectMissing, subject::missing),
    (RuleId::SubjectExclamation, subject::exclamation),
    (RuleId::SubjectEmoji, subject::emoji),
    (RuleId::SubjectSymbols, subject::symbols),
    (RuleId::SubjectAllCaps, subject::all_caps),
    (RuleId::SubjectSpamPhrase, subject::spam_phrase),
    (RuleId::SubjectTooLong, subject::too_long),
    (RuleId::BodyEmpty, body::empty),
    (RuleId::BodyImageOnly, body::image_only),
    (RuleId::BodyAttachmentOnly, body::attachment_only),
    (RuleId::TemplatePlaceholder, body::template_placeholder),
    (RuleId::GenericGreeting, body::generic_greeting),
    (RuleId::HtmlOnly, body::html_only),
    (RuleId::LinkMismatch, body::link_mismatch),
    (RuleId::LinkShortener, body::link_shortener),
    (RuleId::LinkHeavy, body::link_heavy),
    (RuleId::BodySpamPhrase, body::spam_phrase),
    (RuleId::Mojibake, body::mojibake),
    (RuleId::WallOfText, body::wall_of_text),
    (RuleId::VisibleRecipients, body::visible_recipients),
    (RuleId::BulkNoUnsubscribe, body::bulk_no_unsubscribe),
    (RuleId::AttachExecutable, attachments::executable),
    (RuleId::AttachLarge, attachments::large),
    (RuleId::AttachArchive, attachments::archive),
    (RuleId::FreemailSender, sender::freemail),
    (RuleId::SenderNotAllowed, sender::not_allowed),
    (RuleId::DmarcWillFail, sender::dmarc_will_fail),
];

const RECIPIENT_RULES: &[(RuleId, RecipientRule)] = &[
    (RuleId::WrongLanguage, recipient::wrong_language),
    (RuleId::AttachOnCold, attachments::on_cold),
    (RuleId::ReadReceiptCold, sender::read_receipt_cold),
    (RuleId::EtiquetteDeFormal, etiquette::de_formal),
    (RuleId::EtiquetteJpHonorific, etiquette::jp_honorific),
    (RuleId::EtiquetteRedPayment, etiquette::red_payment),
];

const ADDRESS_RULES: &[(RuleId, AddressRule)] = &[
    (RuleId::RcptNoReply, recipient::no_reply),
    (RuleId::RcptTypo, recipient::typo),
    (RuleId::RcptDisposable, recipient::disposable),
];

#[derive(Debug, Clone, Copy)]
struct Resolved {
    enabled: bool,
    weight: f64,
    action: Action,
    scope: Scope,
}

/// The judge, built once from the configuration and shared.
#[derive(Debug, Clone)]
pub struct Judge {
    enabled: bool,
    hold_at: f64,
    reject_at: f64,
    rules: Vec<(RuleId, Resolved)>,
    params: Params,
}

impl Judge {
    /// Builds the judge; `cfg` should have passed [`PolicyConfig::validate`]
    /// (unknown IDs in an unvalidated config are ignored).
    pub fn new(cfg: &PolicyConfig) -> Judge {
        let rules = RuleId::ALL
            .iter()
            .map(|&id| {
                let spec = id.spec();
                let c = cfg.rule(id);
                let resolved = Resolved {
                    enabled: c.and_then(|c| c.enabled).unwrap_or(true),
                    weight: c.and_then(|c| c.weight).unwrap_or(spec.weight),
                    action: c.and_then(|c| c.action).unwrap_or(spec.action),
                    scope: spec.scope,
                };
                (id, resolved)
            })
            .collect();
        Judge {
            enabled: cfg.enabled,
            hold_at: cfg.hold_at,
            reject_at: cfg.reject_at,
            rules,
            params: Params::new(cfg),
        }
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    fn resolved(&self, id: RuleId) -> Resolved {
        self.rules
            .iter()
            .find(|(r, _)| *r == id)
            .map(|(_, r)| *r)
            .unwrap_or(Resolved {
                enabled: false,
                weight: 0.0,
                action: Action::Score,
                scope: Scope::Elsewhere,
            })
    }

    /// The configured action of a rule that will run, `None` when it is off.
    pub fn action_of(&self, id: RuleId) -> Option<Action> {
        self.active(id).then(|| self.resolved(id).action)
    }

    fn active(&self, id: RuleId) -> bool {
        self.resolved(id).enabled && (self.enabled || id == RuleId::SenderNotAllowed)
    }

    fn weigh(&self, f: Finding) -> (Hit, Option<Rewrite>, Option<Refusal>) {
        let r = self.resolved(f.id);
        let action = match r.action {
            Action::Score | Action::Strip => None,
            Action::Hold => Some(Decision::Hold),
            Action::Reject => Some(Decision::Reject),
        };
        let rewrite = if r.action == Action::Strip {
            f.rewrite
        } else {
            None
        };
        let hit = Hit {
            id: f.id,
            score: r.weight * f.units,
            action,
            advice: r.scope == Scope::Advice,
            detail: f.detail,
            explanation: f.explanation,
            fix: f.fix,
        };
        (hit, rewrite, f.refusal)
    }

    fn threshold(&self, score: f64) -> Decision {
        if score >= self.reject_at {
            Decision::Reject
        } else if score >= self.hold_at {
            Decision::Hold
        } else {
            Decision::Accept
        }
    }

    /// Judges one message for its recipients. `now` is when it is judged
    /// (no rule of this room depends on it yet; the schedule rules will).
    pub fn evaluate(
        &self,
        facts: &MessageFacts,
        sender: &SenderFacts,
        recipients: &[RecipientFacts],
        _now: Timestamp,
    ) -> Verdict {
        let ctx = Ctx::new(facts, sender, recipients.len(), &self.params);
        let mut hits = Vec::new();
        for (id, rule) in MESSAGE_RULES {
            if self.active(*id)
                && let Some(f) = rule(&ctx)
            {
                hits.push(self.weigh(f).0);
            }
        }
        let score: f64 = hits
            .iter()
            .filter(|h| !h.advice)
            .map(|h| h.score)
            .sum::<f64>()
            + 0.0;
        let action = hits
            .iter()
            .filter_map(|h| h.action)
            .fold(self.threshold(score), Decision::max);

        let recipients = recipients
            .iter()
            .map(|r| {
                let mut findings: Vec<Finding> = Vec::new();
                for (id, rule) in ADDRESS_RULES {
                    if self.active(*id) {
                        findings.extend(rule(r, &self.params));
                    }
                }
                for (id, rule) in RECIPIENT_RULES {
                    if self.active(*id) {
                        findings.extend(rule(&ctx, r));
                    }
                }
                self.decide_recipient(r, score, action, findings)
            })
            .collect();
        Verdict {
            action,
            score,
            hits,
            recipients,
        }
    }

    /// Judges an address alone, at RCPT time (RCPT_NO_REPLY, RCPT_TYPO,
    /// RCPT_DISPOSABLE). A `Reject` carries the reply for the RCPT command.
    pub fn check_address(&self, r: &RecipientFacts) -> RecipientVerdict {
        let findings: Vec<Finding> = ADDRESS_RULES
            .iter()
            .filter(|(id, _)| self.active(*id))
            .filter_map(|(_, rule)| rule(r, &self.params))
            .collect();
        self.decide_recipient(r, 0.0, Decision::Accept, findings)
    }

    fn decide_recipient(
        &self,
        r: &RecipientFacts,
        message_score: f64,
        message_action: Decision,
        findings: Vec<Finding>,
    ) -> RecipientVerdict {
        let mut hits = Vec::new();
        let mut rewrites = Vec::new();
        let mut refusals = Vec::new();
        for f in findings {
            let (hit, rewrite, refusal) = self.weigh(f);
            if let (Some(Decision::Reject), Some(refusal)) = (hit.action, refusal) {
                refusals.push(refusal);
            }
            rewrites.extend(rewrite);
            hits.push(hit);
        }
        // `+ 0.0`: an empty float sum is -0.0, which must never be shown.
        let score = message_score
            + hits
                .iter()
                .filter(|h| !h.advice)
                .map(|h| h.score)
                .sum::<f64>()
            + 0.0;
        let action = hits
            .iter()
            .filter(|h| !h.advice)
            .filter_map(|h| h.action)
            .fold(message_action.max(self.threshold(score)), Decision::max);
        let refusal = refusals
            .into_iter()
            .next()
            .filter(|_| action == Decision::Reject);
        RecipientVerdict {
            address: r.address.clone(),
            action,
            score,
            hits,
            rewrites,
            refusal,
        }
    }
}
