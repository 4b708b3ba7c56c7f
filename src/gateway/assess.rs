//! The one decision about a message: [`assess`] takes the parsed message,
//! the envelope, what is known of each recipient, the judge, the schedule
//! and the time, and returns the verdict, each copy's plan and the reply.
//! Pure: no SMTP, no SQL, no clock. The server, `sendwell check`, the judge
//! benchmark and the fuzz target call it; the caps, which need the ledger's
//! history, are folded in by [`Assessment::apply_caps`] (the server reads
//! the history under the store's lock, `check` reads a snapshot).

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::replies;
use crate::message::MessageFacts;
use crate::policy::{
    self, Decision, Hit, Judge, Language, RecipientFacts, RecipientVerdict, Rewrite, RuleId,
    SenderFacts, Text, Verdict,
};
use crate::schedule::caps::{
    Candidate, CapDecision, CapsConfig, ContentHashes, History, SendKind, plan_with_window,
};
use crate::schedule::{Known, Placement, Schedule, Wait};
use crate::smtp::Reply;
use crate::store::{Contact, DeliveryState, Learned, SlotRequest};

/// Who a recipient is and where: what the stages after RCPT need.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub address: String,
    pub facts: RecipientFacts,
    pub placement: Placement,
    /// They said they are out of the office until then (learned from an
    /// automatic reply): no copy goes before.
    pub away_until: Option<Timestamp>,
}

/// Who and where one recipient is, from what is known of them: their
/// contacts-file row and what the inbox learned from their mail.
pub fn recipient_of(
    schedule: &Schedule,
    rcpt: &str,
    contact: Option<&Contact>,
    learned: Option<&Learned>,
) -> Recipient {
    let known = contact.map(|c| Known {
        timezone: c.timezone.clone(),
        country: c.country.clone(),
        note: None,
    });
    let taught = learned.map(|l| Known {
        timezone: l.timezone.clone(),
        country: l.country.clone(),
        note: l.zone_source.clone(),
    });
    let placement = schedule.place(rcpt, known.as_ref(), taught.as_ref());
    let mut facts = RecipientFacts::from_address(rcpt);
    if placement.country.is_some() {
        facts.country = placement.country.clone();
    }
    facts.established = contact.is_some_and(|c| c.established)
        || learned.is_some_and(|l| l.last_reply_at.is_some());
    Recipient {
        address: rcpt.to_string(),
        facts,
        placement,
        away_until: learned.and_then(|l| l.away_until),
    }
}

/// Why a waiting copy's time is what it is, when that is news to the
/// sender: the buyer is away, or their zone was learned or guessed.
fn copy_note(c: &Copy) -> String {
    use crate::schedule::PlacementSource;
    if let Some(until) = c.away_until {
        let local = until.to_zoned(c.placement.zone.clone());
        return format!(" (away until {})", local.strftime("%a %d %b"));
    }
    match &c.placement.source {
        PlacementSource::Learned(Some(how)) => format!(" (zone {how})"),
        PlacementSource::Markets(_) => format!(" ({})", c.placement.source),
        _ => String::new(),
    }
}

/// Everything the decision depends on.
pub struct Input<'a> {
    /// The parsed message; `None` when it could not be read and the judge
    /// is not needed (it is relayed as it is).
    pub facts: Option<&'a MessageFacts>,
    pub sender: SenderFacts,
    pub people: &'a [Recipient],
    /// The judge, when it runs: `[policy] enabled`, or an `allowed_from`
    /// list to enforce (a security boundary, on even with the judge off).
    /// `None`: the copies are only planned (a release puts them in line).
    pub judge: Option<&'a Judge>,
    pub schedule: &'a Schedule,
    pub now: Timestamp,
}

/// What becomes of one recipient's copy.
#[derive(Debug, Clone)]
pub struct Copy {
    pub rcpt: String,
    pub state: DeliveryState,
    pub rewrites: Vec<Rewrite>,
    pub deliver_at: Timestamp,
    /// Why the copy waits past now, if it does (stored with the delivery).
    pub wait: Option<Wait>,
    pub placement: Placement,
    pub kind: SendKind,
    /// Waits because the recipient is out of the office until then.
    pub away_until: Option<Timestamp>,
}

/// The whole decision about a message.
#[derive(Debug, Clone)]
pub struct Assessment {
    pub verdict: Option<Verdict>,
    pub copies: Vec<Copy>,
    /// Set when the message is refused at the end of DATA: the reply.
    pub refusal: Option<Reply>,
    /// The schedule's jitter key and whether the message answers one.
    pub is_reply: bool,
    key: String,
    now: Timestamp,
}

pub fn assess(input: &Input<'_>) -> Assessment {
    let now = input.now;
    let verdict = match (input.facts, input.judge) {
        (Some(facts), Some(judge)) => {
            let rcpts: Vec<RecipientFacts> = input.people.iter().map(|p| p.facts.clone()).collect();
            Some(judge.evaluate(facts, &input.sender, &rcpts, now))
        }
        _ => None,
    };
    let is_reply = input.facts.is_some_and(|f| f.thread.is_reply());
    let key = input
        .facts
        .and_then(|f| f.subject.clone())
        .unwrap_or_default();
    let copies: Vec<Copy> = input
        .people
        .iter()
        .map(|person| {
            let rv: Option<&RecipientVerdict> = verdict.as_ref().and_then(|v| {
                v.recipients
                    .iter()
                    .find(|r| r.address.eq_ignore_ascii_case(&person.address))
            });
            let message_hold = verdict.as_ref().is_some_and(|v| v.action == Decision::Hold);
            let state = match rv.map(|r| r.action) {
                Some(Decision::Reject) => DeliveryState::Rejected,
                Some(Decision::Hold) => DeliveryState::Held,
                _ if message_hold => DeliveryState::Held,
                _ => DeliveryState::Queued,
            };
            let slot = input.schedule.plan_away(
                now,
                &person.placement,
                is_reply,
                &format!("{key}/{}", person.address),
                person.away_until,
            );
            Copy {
                rcpt: person.address.clone(),
                state,
                rewrites: rv.map(|r| r.rewrites.clone()).unwrap_or_default(),
                deliver_at: slot.at,
                wait: Wait::from_slot(&slot.why),
                placement: person.placement.clone(),
                away_until: person.away_until.filter(|u| *u > now),
                kind: match (is_reply, person.facts.established) {
                    (true, _) => SendKind::Reply,
                    (false, true) => SendKind::Warm,
                    (false, false) => SendKind::Cold,
                },
            }
        })
        .collect();
    let refusal = match &verdict {
        Some(v) if v.action == Decision::Reject => Some(message_refusal(v)),
        Some(v) if copies.iter().all(|c| c.state == DeliveryState::Rejected) => {
            Some(every_recipient_refused(v))
        }
        _ => None,
    };
    Assessment {
        verdict,
        copies,
        refusal,
        is_reply,
        key,
        now,
    }
}

impl Assessment {
    /// What the caps must look up for each copy that will go (not held,
    /// not refused): the server reserves these in the ledger, `check` reads
    /// them, a release reserves them for the copies it puts back in line.
    pub fn caps_asks(&self, caps: &CapsConfig, content: ContentHashes) -> Vec<CapsAsk<'_>> {
        self.copies
            .iter()
            .enumerate()
            .filter(|(_, c)| c.state == DeliveryState::Queued)
            .map(|(i, c)| {
                let domain = c
                    .rcpt
                    .rsplit_once('@')
                    .map_or(c.rcpt.as_str(), |(_, d)| d)
                    .to_ascii_lowercase();
                let (since, domain_since) = caps.since(c.deliver_at, &domain);
                CapsAsk {
                    copy: i,
                    request: SlotRequest {
                        rcpt: &c.rcpt,
                        cold: c.kind == SendKind::Cold,
                        content,
                        since,
                        domain_since,
                    },
                    domain,
                }
            })
            .collect()
    }

    /// What the caps decide for one copy from its ledger history: the first
    /// time that satisfies both the caps and the recipient's window.
    pub fn caps_decision(
        &self,
        ask: &CapsAsk<'_>,
        caps: &CapsConfig,
        schedule: &Schedule,
        history: &History,
    ) -> CapDecision {
        let c = &self.copies[ask.copy];
        let candidate = Candidate {
            domain: &ask.domain,
            at: c.deliver_at,
            kind: c.kind,
            content: ask.request.content,
        };
        plan_with_window(caps, history, &candidate, |t| {
            self.window(schedule, ask.copy, t)
        })
    }

    /// The first time `>= t` inside copy `i`'s recipient's window.
    fn window(&self, schedule: &Schedule, i: usize, t: Timestamp) -> Timestamp {
        let c = &self.copies[i];
        schedule
            .plan(
                t,
                &c.placement,
                self.is_reply,
                &format!("{}/{}", self.key, c.rcpt),
            )
            .at
    }

    /// What the caps decided for copy `i`: its time, and a hold when the
    /// content repeats what this recipient got recently (REPEAT_CONTENT, a
    /// recipient-level hold every surface shows).
    pub fn apply_caps(&mut self, i: usize, d: CapDecision) {
        self.caps_time(i, &d);
        let c = &mut self.copies[i];
        let Some(reason) = d.repeat else { return };
        c.state = DeliveryState::Held;
        if let Some(v) = self.verdict.as_mut()
            && let Some(rv) = v
                .recipients
                .iter_mut()
                .find(|rv| rv.address.eq_ignore_ascii_case(&c.rcpt))
        {
            rv.action = rv.action.max(Decision::Hold);
            rv.hits.push(repeat_hit(&reason));
        }
    }

    /// The caps' time for copy `i`, and their reason when they moved it
    /// (the first cap that fired speaks for the wait), without the
    /// REPEAT_CONTENT hold (a release applies only this).
    pub fn caps_time(&mut self, i: usize, d: &CapDecision) {
        let c = &mut self.copies[i];
        if d.deliver_at > c.deliver_at
            && let Some(w) = d.hits.first().and_then(|(rule, _)| Wait::from_cap(*rule))
        {
            c.wait = Some(w);
        }
        c.deliver_at = d.deliver_at;
    }

    /// The content hashes the caps compare for REPEAT_CONTENT.
    pub fn content(facts: Option<&MessageFacts>) -> ContentHashes {
        facts.map(ContentHashes::of_facts).unwrap_or_default()
    }

    pub fn held(&self) -> Vec<&str> {
        self.in_state(DeliveryState::Held)
    }

    pub fn refused(&self) -> Vec<&str> {
        self.in_state(DeliveryState::Rejected)
    }

    fn in_state(&self, state: DeliveryState) -> Vec<&str> {
        self.copies
            .iter()
            .filter(|c| c.state == state)
            .map(|c| c.rcpt.as_str())
            .collect()
    }

    /// The worst decision over the message and every copy, as every
    /// surface names it (a copy held by the caps counts).
    pub fn decision(&self) -> Decision {
        let v = self
            .verdict
            .as_ref()
            .map(Verdict::overall)
            .unwrap_or(Decision::Accept);
        if self.refusal.is_some() {
            Decision::Reject
        } else if !self.held().is_empty() {
            v.max(Decision::Hold)
        } else {
            v
        }
    }

    /// The reply the mail program sees; `ids` names the stored messages,
    /// `you` is the seller's zone (each waiting copy's time is given in the
    /// recipient's zone and in theirs), `utf8` whether the client announced
    /// SMTPUTF8 (else the line stays ASCII).
    pub fn reply(&self, ids: &str, you: &TimeZone, utf8: bool) -> Reply {
        if let Some(r) = &self.refusal {
            return r.clone();
        }
        replies::accepted(
            ids,
            &self.plan_text(you, utf8),
            &self.held(),
            self.copies.len(),
        )
    }

    /// The verdict as JSON (the `check --format json` and audit shape),
    /// each recipient with its copy's time and zone.
    pub fn report_json(&self, lang: Language) -> Option<serde_json::Value> {
        let v = self.verdict.as_ref()?;
        let mut j = policy::report::to_json(v, lang);
        j["verdict"] = serde_json::Value::String(decision_word(self.decision()).into());
        if let Some(rcpts) = j.get_mut("recipients").and_then(|r| r.as_array_mut()) {
            for r in rcpts {
                let addr = r
                    .get("address")
                    .and_then(|a| a.as_str())
                    .unwrap_or_default()
                    .to_string();
                if let Some(c) = self
                    .copies
                    .iter()
                    .find(|c| c.rcpt.eq_ignore_ascii_case(&addr))
                {
                    r["deliver_at"] = serde_json::Value::String(c.deliver_at.to_string());
                    r["timezone"] = c.placement.zone_name().into();
                    r["timezone_source"] = c.placement.source.to_string().into();
                    if let Some(w) = &c.wait {
                        r["wait"] = w.code().into();
                        r["wait_reason"] = w.text().get(lang).into();
                    }
                    if c.state == DeliveryState::Held {
                        r["verdict"] = "hold".into();
                    }
                }
            }
        }
        if let Some(reply) = &self.refusal {
            j["reply"] = reply.to_string().into();
        }
        Some(j)
    }

    /// "; hans@firma.de: Mon 7 Dec 09:07 Europe/Berlin (your time 16:07) -
    /// weekend" for copies that wait (the first few; the rest counted).
    fn plan_text(&self, you: &TimeZone, utf8: bool) -> String {
        const SHOWN: usize = 3;
        let waiting: Vec<String> = self
            .waiting(60)
            .map(|c| {
                let line = replies::waiting_copy(
                    &c.rcpt,
                    &c.deliver_at.to_zoned(c.placement.zone.clone()),
                    &c.deliver_at.to_zoned(you.clone()),
                    c.wait.as_ref(),
                    utf8,
                );
                format!("{line}{}", copy_note(c))
            })
            .collect();
        match waiting.len() {
            0 => String::new(),
            n if n <= SHOWN => format!("; {}", waiting.join("; ")),
            n => format!(
                "; {}; and {} more later",
                waiting[..SHOWN].join("; "),
                n - SHOWN
            ),
        }
    }

    /// Queued copies that wait longer than `secs` seconds.
    pub fn waiting(&self, secs: i64) -> impl Iterator<Item = &Copy> {
        self.copies.iter().filter(move |c| {
            c.state == DeliveryState::Queued
                && c.deliver_at.duration_since(self.now).as_secs() > secs
        })
    }

    pub fn rule_ids(&self) -> Vec<&'static str> {
        self.verdict
            .as_ref()
            .map(|v| v.all_hits().map(|h| h.id.as_str()).collect())
            .unwrap_or_default()
    }
}

/// One copy's question to the ledger (see [`Assessment::caps_asks`]).
pub struct CapsAsk<'a> {
    /// Which copy of [`Assessment::copies`].
    pub copy: usize,
    /// Its recipient's domain, lower-cased (the domain caps count by it).
    pub domain: String,
    pub request: SlotRequest<'a>,
}

/// `accept`, `hold`, `reject`: the words of the JSON report.
pub fn decision_word(d: Decision) -> &'static str {
    match d {
        Decision::Accept => "accept",
        Decision::Hold => "hold",
        Decision::Reject => "reject",
    }
}

/// The refusal at the end of DATA when the message itself is refused: the
/// message score and hits decided.
fn message_refusal(v: &Verdict) -> Reply {
    let mut hits: Vec<&Hit> = v.hits.iter().collect();
    if hits.iter().all(|h| h.advice) {
        hits = v.all_hits().collect();
    }
    replies::refused_by_policy(v.score, &hits)
}

/// The refusal when every recipient is refused on their own: the one whose
/// score is highest speaks for all (its score decided, its reasons count).
fn every_recipient_refused(v: &Verdict) -> Reply {
    v.recipients
        .iter()
        .filter(|r| r.action == Decision::Reject)
        .max_by(|a, b| {
            a.score
                .partial_cmp(&b.score)
                .unwrap_or(std::cmp::Ordering::Equal)
        })
        .map(|r| replies::recipient_refused(r, &v.hits))
        .unwrap_or_else(|| message_refusal(v))
}

/// The hit a REPEAT_CONTENT hold carries in reports and notices.
fn repeat_hit(reason: &str) -> Hit {
    Hit {
        id: RuleId::RepeatContent,
        score: 0.0,
        action: Some(Decision::Hold),
        advice: false,
        detail: reason.to_string(),
        explanation: Text::new(
            format!(
                "You sent this customer the same subject or text recently ({reason}). Repeating a mail word for word reads as spam and annoys."
            ),
            format!(
                "最近已经给这位客户发过相同的标题或正文（{reason}）。一字不改地重复发送会被当成垃圾邮件，也会让客户反感。"
            ),
        ),
        fix: Text::new(
            "Write a new subject and say something new (an update, a question, an offer), or wait longer before following up.",
            "换一个新标题，写点新内容（进展、问题或优惠），或者隔久一点再跟进。",
        ),
    }
}
