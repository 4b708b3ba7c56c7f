//! The orchestrator: the only place that knows the order of the stages.
//!
//! RCPT: address syntax → the judge's address rules → suppression list →
//! DNS. DATA: canonicalise → facts (parsed once) → who and where each
//! recipient is (contacts, placement) → [`assess`] (the judge, each copy's
//! time and the reply) → the caps, under the store's lock → submission
//! headers and per-recipient rewrites → store → `250`. Held and refused
//! copies get a notice to the sender. The door hands a [`Submission`] here
//! and writes back the [`Reply`] it gets; the stages do not call each other,
//! and every reply is worded in [`replies`].

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use tokio::sync::Notify;

use crate::audit::{Audit, Event, Kind};
use crate::clock::Clock;
use crate::config::Config;
use crate::message::MessageFacts;
use crate::message::headers::{self, decoded_subject, header_value};
use crate::message::notice::{self, Notice};
use crate::message::prepare::{self, Trace};
use crate::metrics;
use crate::notices::{self, hold_notice_text};
use crate::policy::{
    self, Advice, Decision, Judge, Language, RecipientFacts, RuleId, SenderFacts, Verdict,
};
use crate::recipient::{self, RecipientChecker};
use crate::schedule::Schedule;
use crate::smtp::Reply;
use crate::store::{DeliveryState, MessageId, NewDelivery, NewMessage, SlotId, SlotRequest, Store};
use crate::submission::{ClientInfo, Submission};

pub mod assess;
pub mod replies;

pub use assess::{Assessment, Recipient, assess, recipient_of};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("schedule: {0}")]
    Schedule(#[from] crate::schedule::Error),
    #[error("DNS: {0}")]
    Dns(#[from] recipient::dns::SetupError),
}

/// Messages above this size are parsed on the blocking pool, so one large
/// message does not stall the sessions sharing its worker thread.
const PARSE_INLINE_MAX: usize = 256 * 1024;

pub struct Gateway {
    config: Arc<Config>,
    store: Store,
    clock: Arc<dyn Clock>,
    /// Tells the courier there is new mail, so it need not wait for its poll.
    wakeup: Arc<Notify>,
    judge: Judge,
    schedule: Schedule,
    checker: RecipientChecker,
    audit: Audit,
}

impl Gateway {
    pub fn new(
        config: Arc<Config>,
        store: Store,
        clock: Arc<dyn Clock>,
        wakeup: Arc<Notify>,
    ) -> Result<Self, Error> {
        let judge = Judge::new(&config.policy);
        let schedule = Schedule::new(&config.schedule)?;
        let checker = if config.dns.checks {
            RecipientChecker::new(&config.dns)?
        } else {
            RecipientChecker::disabled()
        };
        let audit = Audit::new(store.clone(), &config.audit);
        Ok(Gateway {
            audit,
            config,
            store,
            clock,
            wakeup,
            judge,
            schedule,
            checker,
        })
    }

    /// Where each recipient is and when copies may go (for `check --at` and listings).
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The `allowed_from` list of the client's user; `None` when the client
    /// is not authenticated or the user may send as anyone.
    fn allowed_from(&self, client: &ClientInfo) -> Option<Vec<String>> {
        let user = client.auth_user.as_deref()?;
        self.config.user(user)?.allowed_from()
    }

    /// Judges the reverse path at MAIL time: an authenticated user may only
    /// use the addresses `allowed_from` grants (SENDER_NOT_ALLOWED, when that
    /// rule refuses). `Ok` means `250`; the header From is judged at DATA.
    pub fn check_mail(&self, client: &ClientInfo, from: &str) -> Result<Reply, Reply> {
        let ok = || Ok(replies::sender_ok());
        if from.is_empty()
            || self.judge.action_of(RuleId::SenderNotAllowed) != Some(policy::Action::Reject)
        {
            return ok();
        }
        let Some(list) = self.allowed_from(client) else {
            return ok();
        };
        if policy::sender::from_allowed(&list, from) {
            return ok();
        }
        let user = client.auth_user.as_deref().unwrap_or_default();
        tracing::info!(user, from, "sender refused: not an allowed address");
        Err(replies::sender_not_allowed(user, from, &list))
    }

    /// Judges one forward path at RCPT time. `Ok` means `250`. A permanent
    /// refusal is recorded in the audit log before it is answered.
    pub async fn check_rcpt(
        &self,
        client: &ClientInfo,
        from: &str,
        rcpt: &str,
    ) -> Result<Reply, Reply> {
        let answer = self.judge_rcpt(rcpt).await;
        if let Err(reply) = &answer
            && reply.code >= 500
        {
            let event = Event::new(
                self.clock.now(),
                Kind::Refused,
                "smtp",
                serde_json::json!({
                    "stage": "rcpt",
                    "mail_from": from,
                    "rcpt": rcpt,
                    "auth_user": client.auth_user,
                    "client": client.addr.to_string(),
                    "reply": reply.to_string(),
                }),
            );
            crate::audit::record_done(&self.store, vec![event]).await;
        }
        answer
    }

    async fn judge_rcpt(&self, rcpt: &str) -> Result<Reply, Reply> {
        if !recipient::address::is_valid(rcpt) {
            return Err(replies::bad_address(rcpt));
        }
        if let Some(reply) = rcpt_policy(&self.judge, self.config.policy.enabled, rcpt) {
            tracing::info!(rcpt, reply = %reply, "recipient refused");
            metrics::rcpt_refused("policy");
            return Err(reply);
        }
        match self.store.suppression(rcpt).await {
            Ok(Some(s)) => {
                tracing::info!(rcpt, "recipient refused: suppressed");
                metrics::rcpt_refused("suppressed");
                return Err(replies::suppressed(&s));
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "cannot read the suppression list");
                return Err(replies::local_problem());
            }
        }
        let dns = self.checker.check_address(rcpt).await;
        if let Some(reply) = replies::domain(&dns) {
            if reply.code >= 500 {
                metrics::rcpt_refused("dns");
            }
            return Err(reply);
        }
        Ok(replies::recipient_ok())
    }

    /// Takes a whole transaction after the final dot. A `250` is returned only
    /// once the message is durably stored.
    pub async fn submit(&self, mut sub: Submission) -> Reply {
        let now = self.clock.now();
        metrics::received();
        // One copy of the body at a time: the client's bytes become the
        // canonical message in place when they already are (the usual case).
        let data = prepare::canonical(std::mem::take(&mut sub.data));
        let allowed_from = self.allowed_from(&sub.client);
        // The From: check is a security boundary between colleagues: it runs
        // even with the judge off.
        let judged = self.config.policy.enabled || allowed_from.is_some();
        let (data, parsed) = self.parse(data, judged).await;
        let facts = match parsed {
            Ok(f) => f,
            Err(reply) => {
                return self
                    .refused(&sub, &data, None, reply, "unreadable", now)
                    .await;
            }
        };
        let people = match self.recipients(&sub.rcpt_to).await {
            Ok(p) => p,
            Err(reply) => return reply,
        };
        let mut a = assess(&assess::Input {
            facts: facts.as_ref(),
            sender: SenderFacts {
                mail_from: sub.mail_from.clone(),
                auth_user: sub.client.auth_user.clone(),
                allowed_from,
                dmarc_will_fail: None,
            },
            people: &people,
            judge: judged.then_some(&self.judge),
            schedule: &self.schedule,
            now,
        });
        metrics::rule_hits(a.rule_ids());
        if let Some(reply) = a.refusal.clone() {
            tracing::info!(from = %sub.mail_from, rules = ?a.rule_ids(), "message refused");
            let report = a.report_json(self.language());
            return self
                .refused(&sub, &data, report, reply, "policy", now)
                .await;
        }
        let slots = match self.reserve(&mut a, facts.as_ref()).await {
            Ok(s) => s,
            Err(reply) => return reply,
        };

        let trace = Trace {
            helo: &sub.client.helo,
            client_ip: sub.client.addr.ip(),
            by_host: &self.config.server.hostname,
            tls: sub.client.tls,
            authenticated: sub.client.auth_user.is_some(),
            single_rcpt: match sub.rcpt_to.as_slice() {
                [one] => Some(one.as_str()),
                _ => None,
            },
        };
        let mut data = prepare::add_submission_headers(data, &trace, now);
        let report_json = a.report_json(self.language());
        let report = report_json.as_ref().map(|j| j.to_string());

        // Copies that need different rewrites are stored as separate messages;
        // usually there is one group.
        let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, c) in a.copies.iter().enumerate() {
            groups
                .entry(format!("{:?}", c.rewrites))
                .or_default()
                .push(i);
        }
        let subject = facts
            .as_ref()
            .and_then(|f| f.subject.clone())
            .or_else(|| decoded_subject(&data));
        // The notices need only the header section; the body moves into the
        // store when one group needs no rewrite (the usual case).
        let head = headers::header_section(&data).to_vec();
        let single = groups.len() == 1;
        let mut ids = Vec::new();
        for group in groups.values() {
            let rewrites = &a.copies[group[0]].rewrites;
            let body = if single && rewrites.is_empty() {
                std::mem::take(&mut data)
            } else {
                policy::apply_rewrites(&data, rewrites)
            };
            let headers = headers::header_section(&body);
            let msg = NewMessage {
                mail_from: sub.mail_from.clone(),
                message_id_header: header_value(headers, "Message-ID"),
                subject: subject.clone(),
                received_at: now,
                client: sub.client.addr.to_string(),
                auth_user: sub.client.auth_user.clone(),
                report: report.clone(),
                route: self
                    .config
                    .route_for(sub.client.auth_user.as_deref(), &sub.mail_from)
                    .to_string(),
                deliveries: group
                    .iter()
                    .map(|&i| NewDelivery {
                        rcpt: a.copies[i].rcpt.clone(),
                        deliver_at: a.copies[i].deliver_at,
                        state: a.copies[i].state,
                        wait: a.copies[i].wait.clone(),
                    })
                    .collect(),
                data: body,
            };
            let mine: Vec<SlotId> = group.iter().filter_map(|&i| slots[i]).collect();
            let events = self.accepted_events(&sub, &msg, report_json.as_ref(), now);
            match self.store.enqueue_audited(msg, events).await {
                Ok((id, _)) => {
                    ids.push(id);
                    if let Err(e) = self.store.bind_slots(&mine, id).await {
                        tracing::warn!(error = %e, message = %id, "cannot tie cap slots to the message");
                    }
                }
                Err(e) => {
                    // Copies stored so far stay: the client will retry the whole
                    // message, and a duplicate beats a loss.
                    tracing::error!(error = %e, "could not store a message; the client will retry");
                    let unstored: Vec<SlotId> = slots.iter().flatten().copied().collect();
                    let _ = self.store.forget_slots(&unstored).await;
                    return replies::local_problem();
                }
            }
        }
        self.wakeup.notify_one();
        if a.is_reply {
            // We answer them: a conversation is under way.
            for c in &a.copies {
                if let Err(e) = self.store.mark_established(&c.rcpt, now).await {
                    tracing::warn!(error = %e, rcpt = %c.rcpt, "cannot mark the contact established");
                }
            }
        }
        let ids_text = ids
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let held = a.held();
        let refused = a.refused().len();
        tracing::info!(message = %ids_text, from = %sub.mail_from, rcpts = sub.rcpt_to.len(), held = held.len(), refused, "spooled");
        if !held.is_empty() {
            metrics::held();
        }
        metrics::deferred("schedule", a.waiting(60).count() as u64);
        let superseded = self
            .supersede(&sub.mail_from, subject.as_deref(), &a, &ids, now)
            .await;
        if let Some(v) = &a.verdict
            && (!held.is_empty() || refused > 0)
            && !(superseded && refused == 0)
        {
            self.notify_sender(&sub, v, &ids, &head, now).await;
        }
        if let Some(v) = &a.verdict
            && held.is_empty()
            && refused == 0
            && crate::advice::has_advice(v)
        {
            self.advise(
                &sub,
                &ids,
                subject.as_deref(),
                report_json.as_ref(),
                &head,
                now,
            )
            .await;
        }
        if let Some(after) = self.config.schedule.notify_deferred_after {
            self.notify_deferred(&sub, &a, &head, after, now).await;
        }
        let you = self.config.seller_zone(sub.client.auth_user.as_deref());
        a.reply(&ids_text, &you, sub.smtputf8)
    }

    /// A resend replaces what it fixes: copies of an earlier message from
    /// the same sender to the same recipient, on the same subject,
    /// that are still held are withdrawn and recorded as superseded. The
    /// seller fixed and sent again; telling them twice would be noise.
    /// Returns whether the new message replaced a held one that is itself
    /// held again (then the seller already has the first notice).
    async fn supersede(
        &self,
        mail_from: &str,
        subject: Option<&str>,
        a: &Assessment,
        ids: &[MessageId],
        now: Timestamp,
    ) -> bool {
        if mail_from.is_empty() || ids.is_empty() {
            return false;
        }
        let rcpts: Vec<&str> = a
            .copies
            .iter()
            .filter(|c| c.state != DeliveryState::Rejected)
            .map(|c| c.rcpt.as_str())
            .collect();
        match self
            .store
            .supersede_held(mail_from, &rcpts, subject, ids, now)
            .await
        {
            Ok(withdrawn) => {
                for (old, rcpt) in &withdrawn {
                    tracing::info!(message = %old, rcpt = %rcpt, by = %ids[0], "held copy superseded by a resend");
                }
                !withdrawn.is_empty() && !a.held().is_empty()
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot withdraw held copies a resend replaces");
                false
            }
        }
    }

    /// The caps: each copy that will go gets its slot in the ledger, under
    /// the store's lock so two messages cannot take the same last slot. A
    /// repeat of recent content holds that copy, and its slot is given back
    /// (only copies that go count as "sent"). Returns each copy's slot.
    async fn reserve(
        &self,
        a: &mut Assessment,
        facts: Option<&MessageFacts>,
    ) -> Result<Vec<Option<SlotId>>, Reply> {
        let mut slots = vec![None; a.copies.len()];
        if !self.config.caps.enabled {
            return Ok(slots);
        }
        let caps = &self.config.caps;
        let view = &*a;
        let asks = view.caps_asks(caps, Assessment::content(facts));
        let reqs: Vec<SlotRequest<'_>> = asks.iter().map(|ask| ask.request).collect();
        let reserved = self
            .store
            .reserve_slots(&reqs, self.clock.now(), |k, history| {
                view.caps_decision(&asks[k], caps, &self.schedule, history)
            })
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "cannot reserve delivery slots");
                replies::local_problem()
            })?;
        let live: Vec<usize> = asks.iter().map(|ask| ask.copy).collect();
        let mut freed = Vec::new();
        for (k, r) in reserved.into_iter().enumerate() {
            let i = live[k];
            if r.decision.repeat.is_some() {
                freed.push(r.slot);
            } else {
                slots[i] = Some(r.slot);
            }
            a.apply_caps(i, r.decision);
        }
        if !freed.is_empty()
            && let Err(e) = self.store.forget_slots(&freed).await
        {
            tracing::warn!(error = %e, "cannot give back the slots of held copies");
        }
        Ok(slots)
    }

    fn language(&self) -> Language {
        self.config.notices.language
    }

    /// The records written with an accepted message, in its transaction:
    /// received, the verdict with every hit and each copy's time, and which
    /// copies are held or refused.
    fn accepted_events(
        &self,
        sub: &Submission,
        msg: &NewMessage,
        report: Option<&serde_json::Value>,
        now: Timestamp,
    ) -> Vec<Event> {
        let rcpts: Vec<&str> = msg.deliveries.iter().map(|d| d.rcpt.as_str()).collect();
        let subject = msg.subject.as_deref();
        let mut events = vec![
            self.audit
                .received(
                    now,
                    &sub.client,
                    &msg.mail_from,
                    &rcpts,
                    msg.message_id_header.as_deref(),
                    subject,
                    msg.data.len(),
                )
                .with("route", msg.route.as_str()),
        ];
        if let Some(report) = report {
            events.push(Event::new(now, Kind::Verdict, "judge", report.clone()));
        }
        for (state, kind) in [
            (DeliveryState::Held, Kind::Held),
            (DeliveryState::Rejected, Kind::Refused),
        ] {
            let which: Vec<&str> = msg
                .deliveries
                .iter()
                .filter(|d| d.state == state)
                .map(|d| d.rcpt.as_str())
                .collect();
            if !which.is_empty() {
                events.push(Event::new(
                    now,
                    kind,
                    "judge",
                    serde_json::json!({"stage": "data", "rcpts": which}),
                ));
            }
        }
        events
    }

    /// Records a message the door refused by itself at the end of DATA (too
    /// large, a line too long), so the refusal is in the audit log and on
    /// the page's refusals like the judge's; gives the reply back.
    pub async fn door_refused(&self, sub: &Submission, reply: Reply) -> Reply {
        let reason = if reply.code == 552 {
            "too_large"
        } else {
            "long_line"
        };
        let now = self.clock.now();
        self.refused(sub, &sub.data, None, reply, reason, now).await
    }

    /// Counts and records a message refused at the end of DATA (received,
    /// the verdict when there is one, refused with the reply), then gives
    /// the reply back. Temporary answers are not refusals: neither counted
    /// nor recorded. `reason` labels the refusal in the metrics.
    async fn refused(
        &self,
        sub: &Submission,
        data: &[u8],
        report: Option<serde_json::Value>,
        reply: Reply,
        reason: &'static str,
        now: Timestamp,
    ) -> Reply {
        if reply.code < 500 {
            return reply;
        }
        metrics::refused(reason);
        let headers = headers::header_section(data);
        let rcpts: Vec<&str> = sub.rcpt_to.iter().map(String::as_str).collect();
        let mut events = vec![
            self.audit.received(
                now,
                &sub.client,
                &sub.mail_from,
                &rcpts,
                header_value(headers, "Message-ID").as_deref(),
                decoded_subject(data)
                    .or_else(|| header_value(headers, "Subject"))
                    .as_deref(),
                data.len(),
            ),
        ];
        if let Some(report) = report {
            events.push(Event::new(now, Kind::Verdict, "judge", report));
        }
        let actor = match reason {
            "too_large" | "long_line" => "door",
            _ => "judge",
        };
        events.push(Event::new(
            now,
            Kind::Refused,
            actor,
            serde_json::json!({
                "stage": "data",
                "mail_from": sub.mail_from,
                "auth_user": sub.client.auth_user,
                "rcpts": rcpts,
                "reply": reply.to_string(),
            }),
        ));
        crate::audit::record_done(&self.store, events).await;
        reply
    }

    /// Parses once. An unreadable message is refused clearly when the judge
    /// needs it (`judged`); without the judge it is relayed as it is.
    /// The message goes to the parser's thread and comes back, not copied.
    async fn parse(
        &self,
        data: Vec<u8>,
        judged: bool,
    ) -> (Vec<u8>, Result<Option<MessageFacts>, Reply>) {
        let (data, facts) = if data.len() <= PARSE_INLINE_MAX {
            let facts = MessageFacts::parse(&data);
            (data, facts)
        } else {
            match tokio::task::spawn_blocking(move || {
                let facts = MessageFacts::parse(&data);
                (data, facts)
            })
            .await
            {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "the parser task failed");
                    return (Vec::new(), Err(replies::local_problem()));
                }
            }
        };
        let facts = match facts {
            Ok(f) => Ok(Some(f)),
            Err(e) if judged => Err(replies::unreadable(&e.to_string())),
            Err(_) => Ok(None),
        };
        (data, facts)
    }

    /// Who and where each recipient is: the contacts file first, then the
    /// schedule's overrides, ccTLD and default.
    pub async fn recipients(&self, rcpts: &[String]) -> Result<Vec<Recipient>, Reply> {
        let mut out = Vec::with_capacity(rcpts.len());
        for rcpt in rcpts {
            let contact = self.store.contact(rcpt).await.map_err(|e| {
                tracing::error!(error = %e, "cannot read the contacts");
                replies::local_problem()
            })?;
            let learned = self.store.learned(rcpt).await.map_err(|e| {
                tracing::error!(error = %e, "cannot read what was learned of the recipients");
                replies::local_problem()
            })?;
            out.push(recipient_of(
                &self.schedule,
                rcpt,
                contact.as_ref(),
                learned.as_ref(),
            ));
        }
        Ok(out)
    }

    /// The judge (for `sendwell check`, which assesses as the server does).
    pub fn judge(&self) -> &Judge {
        &self.judge
    }

    /// Tells the sender, in the configured language, which copies are held or
    /// refused and why. Best effort: the message itself is already stored.
    async fn notify_sender(
        &self,
        sub: &Submission,
        v: &Verdict,
        ids: &[MessageId],
        data: &[u8],
        now: Timestamp,
    ) {
        if sub.mail_from.is_empty() {
            return;
        }
        let subject = decoded_subject(data).unwrap_or_default();
        let links: Vec<String> = ids
            .iter()
            .filter_map(|id| crate::admin::link::for_notice(&self.config, id.0, now))
            .collect();
        let (title, body) = hold_notice_text(v, &subject, ids, &links, self.language());
        let route = self
            .config
            .route_for(sub.client.auth_user.as_deref(), &sub.mail_from);
        self.notice_about(route, &sub.mail_from, data, &title, &body, now)
            .await;
    }

    /// A message went out with warnings below the hold line: its writer
    /// hears of them now (`[notices] advice = "each"`), in the day's digest
    /// (`"digest"`: noted for [`crate::advice::run`]), or not at all.
    async fn advise(
        &self,
        sub: &Submission,
        ids: &[MessageId],
        subject: Option<&str>,
        report: Option<&serde_json::Value>,
        data: &[u8],
        now: Timestamp,
    ) {
        let (Some(&id), Some(report)) = (ids.first(), report) else {
            return;
        };
        if sub.mail_from.is_empty() {
            return;
        }
        let route = self
            .config
            .route_for(sub.client.auth_user.as_deref(), &sub.mail_from);
        match self.config.notices.advice {
            Advice::Off => {}
            Advice::Each => {
                let item = crate::advice::Item {
                    id,
                    subject: subject.unwrap_or(""),
                    report,
                };
                let (title, body) = crate::advice::text(&[item], self.language());
                self.notice_about(route, &sub.mail_from, data, &title, &body, now)
                    .await;
            }
            Advice::Digest => {
                if let Err(e) = self.store.note_advice(id, &sub.mail_from, route, now).await {
                    tracing::warn!(error = %e, message = %id, "cannot note the message for the advice digest");
                }
            }
        }
    }

    /// Tells the sender which copies wait longer than `after`, and until when
    /// in the recipient's time (a long holiday, a weekend, a cap).
    async fn notify_deferred(
        &self,
        sub: &Submission,
        a: &Assessment,
        data: &[u8],
        after: std::time::Duration,
        now: Timestamp,
    ) {
        let late: Vec<String> = a
            .waiting(after.as_secs() as i64)
            .map(|c| {
                let local = c.deliver_at.to_zoned(c.placement.zone.clone());
                format!(
                    "{}: {} {}",
                    c.rcpt,
                    local.strftime("%a %Y-%m-%d %H:%M"),
                    c.placement.zone_name()
                )
            })
            .collect();
        if late.is_empty() || sub.mail_from.is_empty() {
            return;
        }
        let subject = decoded_subject(data).unwrap_or_default();
        let (title, body) = match self.language() {
            Language::En => (
                format!("[sendwell] Scheduled: {subject}"),
                format!(
                    "Your message \"{subject}\" is accepted and will reach the customer's inbox in their \
                     business hours (weekends, public holidays and polite pacing are kept):\n\n{}\n\n\
                     Nothing for you to do. An administrator can send it at once with `sendwell queue send-now`.\n",
                    late.join("\n")
                ),
            ),
            Language::ZhCn => (
                format!("[sendwell] 已安排发送：{subject}"),
                format!(
                    "您的邮件《{subject}》已被接收，将在客户的工作时间送达（避开周末、公共假日，并控制发送频率）：\n\n{}\n\n\
                     您无需做任何事。管理员可以用 `sendwell queue send-now` 立即发送。\n",
                    late.join("\n")
                ),
            ),
        };
        let route = self
            .config
            .route_for(sub.client.auth_user.as_deref(), &sub.mail_from);
        self.notice_about(route, &sub.mail_from, data, &title, &body, now)
            .await;
    }

    /// Writes `to` a notice about the message `data`, threaded under it,
    /// through the message's `route` (which may send as `to`).
    async fn notice_about(
        &self,
        route: &str,
        to: &str,
        data: &[u8],
        title: &str,
        body: &str,
        now: Timestamp,
    ) {
        let message_id = header_value(headers::header_section(data), "Message-ID");
        let raw = notice::build(&Notice {
            host: &self.config.server.hostname,
            from: self.config.own_sender_on(route),
            to,
            subject: title,
            body,
            in_reply_to: message_id.as_deref(),
            now,
        });
        self.send_notice(route, to, raw, now).await;
    }

    /// Queues a notice to the sender and wakes the courier.
    async fn send_notice(&self, route: &str, to: &str, raw: Vec<u8>, now: Timestamp) {
        match notices::queue_notice(&self.store, route, to, raw, now).await {
            Ok(()) => self.wakeup.notify_one(),
            Err(e) => tracing::error!(error = %e, to, "could not queue a notice to the sender"),
        }
    }
}

/// The judge's address rules at RCPT (no-reply, typo, disposable, …): the
/// refusal when they refuse this recipient. `sendwell check` asks the same.
pub fn rcpt_policy(judge: &Judge, enabled: bool, rcpt: &str) -> Option<Reply> {
    if !enabled {
        return None;
    }
    let v = judge.check_address(&RecipientFacts::from_address(rcpt));
    (v.action == Decision::Reject).then(|| replies::recipient_refused(&v, &[]))
}
