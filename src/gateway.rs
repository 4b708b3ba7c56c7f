//! The orchestrator: the only place that knows the order of the stages.
//!
//! RCPT: address syntax → the judge's address rules → suppression list →
//! DNS. DATA: canonicalise → facts (parsed once) → who and where each
//! recipient is (contacts, placement) → judge → submission headers → when
//! each copy may go (business hours, caps) → per-recipient rewrites → store
//! → `250`. Held and refused copies get a notice to the sender. The door
//! hands a [`Submission`] here and writes back the [`Reply`] it gets; the
//! stages do not call each other.

use std::collections::BTreeMap;
use std::sync::Arc;

use email_address::{EmailAddress, Options};
use jiff::Timestamp;
use tokio::sync::Notify;

use crate::admin::metrics;
use crate::audit::{Audit, Event, Kind};
use crate::clock::Clock;
use crate::config::Config;
use crate::message::MessageFacts;
use crate::message::notice::{self, Notice};
use crate::message::prepare::{self, Trace};
use crate::policy::{
    self, Decision, Hit, Judge, Language, RecipientFacts, RecipientVerdict, Rewrite, RuleId,
    SenderFacts, Text, Verdict,
};
use crate::recipient::{self, RecipientChecker};
use crate::schedule::caps::{self, Candidate, ContentHashes, SendKind};
use crate::schedule::{Known, Placement, Schedule};
use crate::smtp::Reply;
use crate::store::{DeliveryState, MessageId, NewDelivery, NewMessage, SlotId, SlotRequest, Store};
use crate::submission::{ClientInfo, Submission};

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

/// Who a recipient is and where: what the stages after RCPT need.
pub struct Recipient {
    pub facts: RecipientFacts,
    pub placement: Placement,
}

/// What becomes of one recipient's copy.
struct Copy<'a> {
    rcpt: &'a str,
    state: DeliveryState,
    rewrites: Vec<Rewrite>,
    deliver_at: Timestamp,
    slot: Option<SlotId>,
    placement: &'a Placement,
    established: bool,
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
        let ok = || Ok(Reply::new(250, (2, 1, 0), "sender ok"));
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
        Err(Reply::new(
            553,
            (5, 7, 1),
            format!(
                "{user} may not send as <{}>; allowed: {} [{}]",
                from.escape_default(),
                list.join(", "),
                RuleId::SenderNotAllowed
            ),
        ))
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
        check_rcpt_syntax(rcpt)?;
        if self.config.policy.enabled {
            let v = self
                .judge
                .check_address(&RecipientFacts::from_address(rcpt));
            if v.action == Decision::Reject {
                tracing::info!(rcpt, rules = ?v.hits.iter().map(|h| h.id).collect::<Vec<_>>(), "recipient refused");
                metrics::rcpt_refused("policy");
                return Err(v.reply.unwrap_or_else(|| {
                    Reply::new(550, (5, 1, 1), "recipient refused by sending policy")
                }));
            }
        }
        match recipient::suppression_reply(&self.store, rcpt).await {
            Ok(Some(reply)) => {
                tracing::info!(rcpt, "recipient refused: suppressed");
                metrics::rcpt_refused("suppressed");
                return Err(reply);
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "cannot read the suppression list");
                return Err(Reply::new(
                    451,
                    (4, 3, 0),
                    "temporary local problem; please try again",
                ));
            }
        }
        let dns = self.checker.check_address(rcpt).await.into_result();
        if dns.as_ref().is_err_and(|r| r.code >= 500) {
            metrics::rcpt_refused("dns");
        }
        dns?;
        Ok(Reply::ok("recipient ok"))
    }

    /// Takes a whole transaction after the final dot. A `250` is returned only
    /// once the message is durably stored.
    pub async fn submit(&self, sub: Submission) -> Reply {
        let now = self.clock.now();
        metrics::received();
        let data = prepare::canonicalize(&sub.data);
        let allowed_from = self.allowed_from(&sub.client);
        // The From: check is a security boundary between colleagues: it runs
        // even with the judge off.
        let judged = self.config.policy.enabled || allowed_from.is_some();
        let facts = match self.parse(&data, judged).await {
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
        let mut verdict = match (&facts, judged) {
            (Some(facts), true) => Some(self.judge(facts, &sub, allowed_from, &people, now)),
            _ => None,
        };
        if let Some(v) = &verdict {
            metrics::rule_hits(rule_ids(v));
        }
        if let Some(v) = &verdict
            && v.action == Decision::Reject
        {
            tracing::info!(from = %sub.mail_from, score = v.score, rules = ?rule_ids(v), "message refused");
            let reply = Reply::new(550, (5, 7, 1), v.smtp_summary());
            return self
                .refused(&sub, &data, Some(v), reply, "policy", now)
                .await;
        }

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
        let data = prepare::add_submission_headers(&data, &trace, now);
        let mut copies = plan_copies(&sub.rcpt_to, &people, verdict.as_ref(), now);
        if copies.iter().all(|c| c.state == DeliveryState::Rejected) {
            let text = verdict
                .as_ref()
                .map(|v| policy::verdict::summary_of(v.score, &v.all_hits().collect::<Vec<_>>()))
                .unwrap_or_default();
            let reply = Reply::new(550, (5, 7, 1), text);
            return self
                .refused(&sub, &data, verdict.as_ref(), reply, "recipients", now)
                .await;
        }
        if let Err(reply) = self
            .schedule_copies(&mut copies, facts.as_ref(), verdict.as_mut(), now)
            .await
        {
            return reply;
        }
        let report_json = verdict.as_ref().map(|v| {
            let mut j = policy::report::to_json(v, self.language());
            annotate_plan(
                &mut j,
                copies.iter().map(|c| (c.rcpt, c.deliver_at, c.placement)),
            );
            j
        });
        let report = report_json.as_ref().map(|j| j.to_string());

        // Copies that need different rewrites are stored as separate messages;
        // usually there is one group.
        let mut groups: BTreeMap<String, Vec<&Copy<'_>>> = BTreeMap::new();
        for c in &copies {
            groups
                .entry(format!("{:?}", c.rewrites))
                .or_default()
                .push(c);
        }
        let subject = facts.as_ref().and_then(|f| f.subject.as_deref());
        let mut ids = Vec::new();
        for group in groups.values() {
            let body = policy::apply_rewrites(&data, &group[0].rewrites);
            let headers = prepare::header_section(&body);
            let msg = NewMessage {
                mail_from: sub.mail_from.clone(),
                message_id_header: header_value(headers, "Message-ID"),
                subject: header_value(headers, "Subject"),
                received_at: now,
                client: sub.client.addr.to_string(),
                auth_user: sub.client.auth_user.clone(),
                report: report.clone(),
                deliveries: group
                    .iter()
                    .map(|c| NewDelivery {
                        rcpt: c.rcpt.to_string(),
                        deliver_at: c.deliver_at,
                        state: c.state,
                    })
                    .collect(),
                data: body,
            };
            let slots: Vec<SlotId> = group.iter().filter_map(|c| c.slot).collect();
            let events = self.accepted_events(&sub, &msg, subject, report_json.as_ref(), now);
            match self.store.enqueue_audited(msg, events).await {
                Ok((id, _)) => {
                    ids.push(id);
                    if let Err(e) = self.store.bind_slots(&slots, id).await {
                        tracing::warn!(error = %e, message = %id, "cannot tie cap slots to the message");
                    }
                }
                Err(e) => {
                    // Copies stored so far stay: the client will retry the whole
                    // message, and a duplicate beats a loss.
                    tracing::error!(error = %e, "could not store a message; the client will retry");
                    let unstored: Vec<SlotId> = copies.iter().filter_map(|c| c.slot).collect();
                    let _ = self.store.forget_slots(&unstored).await;
                    return Reply::new(
                        451,
                        (4, 3, 0),
                        "temporary local problem, message not accepted; please try again",
                    );
                }
            }
        }
        self.wakeup.notify_one();
        if facts.as_ref().is_some_and(|f| f.thread.is_reply()) {
            // We answer them: a conversation is under way.
            for c in &copies {
                if let Err(e) = self.store.mark_established(c.rcpt, now).await {
                    tracing::warn!(error = %e, rcpt = c.rcpt, "cannot mark the contact established");
                }
            }
        }
        let ids_text = ids
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let held: Vec<&str> = copies
            .iter()
            .filter(|c| c.state == DeliveryState::Held)
            .map(|c| c.rcpt)
            .collect();
        let refused = copies
            .iter()
            .filter(|c| c.state == DeliveryState::Rejected)
            .count();
        tracing::info!(message = %ids_text, from = %sub.mail_from, rcpts = sub.rcpt_to.len(), held = held.len(), refused, "spooled");
        if !held.is_empty() {
            metrics::held();
        }
        metrics::deferred("schedule", later_count(&copies, now));
        if let Some(v) = &verdict
            && (!held.is_empty() || refused > 0)
        {
            self.notify_sender(&sub, v, &ids, &data, now).await;
        }
        if let Some(after) = self.config.schedule.notify_deferred_after {
            self.notify_deferred(&sub, &copies, &data, after, now).await;
        }
        let plan = plan_text(&copies, now);
        if held.is_empty() {
            Reply::ok(format!("queued as {ids_text}{plan}"))
        } else if held.len() == copies.len() {
            Reply::ok(format!(
                "held for review as {ids_text}; a notice with the reasons is on its way to you"
            ))
        } else {
            Reply::ok(format!(
                "queued as {ids_text}{plan}; {} held for review, see the notice",
                held.join(", ")
            ))
        }
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
        subject: Option<&str>,
        report: Option<&serde_json::Value>,
        now: Timestamp,
    ) -> Vec<Event> {
        let rcpts: Vec<&str> = msg.deliveries.iter().map(|d| d.rcpt.as_str()).collect();
        let subject = subject.or(msg.subject.as_deref());
        let mut events = vec![self.audit.received(
            now,
            &sub.client,
            &msg.mail_from,
            &rcpts,
            msg.message_id_header.as_deref(),
            subject,
            msg.data.len(),
        )];
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

    /// Counts and records a message refused at the end of DATA (received,
    /// the verdict when there is one, refused with the reply), then gives
    /// the reply back. Temporary answers are not refusals: neither counted
    /// nor recorded. `reason` labels the refusal in the metrics.
    async fn refused(
        &self,
        sub: &Submission,
        data: &[u8],
        verdict: Option<&Verdict>,
        reply: Reply,
        reason: &'static str,
        now: Timestamp,
    ) -> Reply {
        if reply.code < 500 {
            return reply;
        }
        metrics::refused(reason);
        let headers = prepare::header_section(data);
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
        if let Some(v) = verdict {
            let report = policy::report::to_json(v, self.language());
            events.push(Event::new(now, Kind::Verdict, "judge", report));
        }
        events.push(Event::new(
            now,
            Kind::Refused,
            "judge",
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
    async fn parse(&self, data: &[u8], judged: bool) -> Result<Option<MessageFacts>, Reply> {
        let facts = if data.len() <= PARSE_INLINE_MAX {
            MessageFacts::parse(data)
        } else {
            let data = data.to_vec();
            match tokio::task::spawn_blocking(move || MessageFacts::parse(&data)).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "the parser task failed");
                    return Err(Reply::new(
                        451,
                        (4, 3, 0),
                        "temporary local problem; please try again",
                    ));
                }
            }
        };
        match facts {
            Ok(f) => Ok(Some(f)),
            Err(e) if judged => Err(Reply::new(
                550,
                (5, 6, 0),
                format!("message could not be read: {e}"),
            )),
            Err(_) => Ok(None),
        }
    }

    /// Who and where each recipient is: the contacts file first, then the
    /// schedule's overrides, ccTLD and default.
    pub async fn recipients(&self, rcpts: &[String]) -> Result<Vec<Recipient>, Reply> {
        let mut out = Vec::with_capacity(rcpts.len());
        for rcpt in rcpts {
            let contact = self.store.contact(rcpt).await.map_err(|e| {
                tracing::error!(error = %e, "cannot read the contacts");
                Reply::new(451, (4, 3, 0), "temporary local problem; please try again")
            })?;
            out.push(recipient_of(&self.schedule, rcpt, contact.as_ref()));
        }
        Ok(out)
    }

    fn judge(
        &self,
        facts: &MessageFacts,
        sub: &Submission,
        allowed_from: Option<Vec<String>>,
        people: &[Recipient],
        now: Timestamp,
    ) -> Verdict {
        let sender = SenderFacts {
            mail_from: sub.mail_from.clone(),
            auth_user: sub.client.auth_user.clone(),
            allowed_from,
            dmarc_will_fail: None,
        };
        let rcpts: Vec<RecipientFacts> = people.iter().map(|p| p.facts.clone()).collect();
        self.judge.evaluate(facts, &sender, &rcpts, now)
    }

    /// When each copy may go: the recipient's business hours, then the
    /// frequency caps (reserved in the store, so two messages arriving at once
    /// cannot take the same last slot). A repeat of recent content holds
    /// that copy.
    async fn schedule_copies(
        &self,
        copies: &mut [Copy<'_>],
        facts: Option<&MessageFacts>,
        verdict: Option<&mut Verdict>,
        now: Timestamp,
    ) -> Result<(), Reply> {
        let is_reply = facts.is_some_and(|f| f.thread.is_reply());
        let key = facts.and_then(|f| f.subject.clone()).unwrap_or_default();
        for c in copies.iter_mut() {
            c.deliver_at = self
                .schedule
                .plan(now, c.placement, is_reply, &format!("{key}/{}", c.rcpt))
                .at;
        }
        if !self.config.caps.enabled {
            return Ok(());
        }
        let content = facts.map(ContentHashes::of_facts).unwrap_or_default();
        let live: Vec<usize> = (0..copies.len())
            .filter(|&i| copies[i].state != DeliveryState::Rejected)
            .collect();
        let domains: Vec<String> = live
            .iter()
            .map(|&i| domain_of(copies[i].rcpt).to_ascii_lowercase())
            .collect();
        let kinds: Vec<SendKind> = live
            .iter()
            .map(|&i| match (is_reply, copies[i].placement_established()) {
                (true, _) => SendKind::Reply,
                (false, true) => SendKind::Warm,
                (false, false) => SendKind::Cold,
            })
            .collect();
        let reqs: Vec<SlotRequest<'_>> = live
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                let (since, domain_since) =
                    self.config.caps.since(copies[i].deliver_at, &domains[k]);
                SlotRequest {
                    rcpt: copies[i].rcpt,
                    cold: kinds[k] == SendKind::Cold,
                    content,
                    since,
                    domain_since,
                }
            })
            .collect();
        let caps_cfg = &self.config.caps;
        let reserved = self
            .store
            .reserve_slots(&reqs, |k, history| {
                let c = &copies[live[k]];
                let candidate = Candidate {
                    domain: &domains[k],
                    at: c.deliver_at,
                    kind: kinds[k],
                    content,
                };
                caps::plan_with_window(caps_cfg, history, &candidate, |t| {
                    self.schedule
                        .plan(t, c.placement, is_reply, &format!("{key}/{}", c.rcpt))
                        .at
                })
            })
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "cannot reserve delivery slots");
                Reply::new(451, (4, 3, 0), "temporary local problem; please try again")
            })?;
        let mut verdict = verdict;
        for (k, r) in reserved.into_iter().enumerate() {
            let c = &mut copies[live[k]];
            c.deliver_at = r.decision.deliver_at;
            c.slot = Some(r.slot);
            if let Some(reason) = r.decision.repeat {
                c.state = DeliveryState::Held;
                if let Some(v) = verdict.as_deref_mut()
                    && let Some(rv) = v
                        .recipients
                        .iter_mut()
                        .find(|rv| rv.address.eq_ignore_ascii_case(c.rcpt))
                {
                    rv.action = rv.action.max(Decision::Hold);
                    rv.hits.push(repeat_hit(&reason));
                }
            }
        }
        Ok(())
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
        self.notice_about(&sub.mail_from, data, &title, &body, now)
            .await;
    }

    /// Tells the sender which copies wait longer than `after`, and until when
    /// in the recipient's time (a long holiday, a weekend, a cap).
    async fn notify_deferred(
        &self,
        sub: &Submission,
        copies: &[Copy<'_>],
        data: &[u8],
        after: std::time::Duration,
        now: Timestamp,
    ) {
        let late: Vec<String> = copies
            .iter()
            .filter(|c| c.state == DeliveryState::Queued)
            .filter(|c| c.deliver_at.duration_since(now).as_secs() > after.as_secs() as i64)
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
        self.notice_about(&sub.mail_from, data, &title, &body, now)
            .await;
    }

    /// Writes `to` a notice about the message `data`, threaded under it.
    async fn notice_about(&self, to: &str, data: &[u8], title: &str, body: &str, now: Timestamp) {
        let message_id = header_value(prepare::header_section(data), "Message-ID");
        let raw = notice::build(&Notice {
            host: &self.config.server.hostname,
            from: self.config.own_sender(),
            to,
            subject: title,
            body,
            in_reply_to: message_id.as_deref(),
            now,
        });
        self.send_notice(to, raw, now).await;
    }

    /// Queues a notice to the sender and wakes the courier.
    async fn send_notice(&self, to: &str, raw: Vec<u8>, now: Timestamp) {
        match queue_notice(&self.store, to, raw, now).await {
            Ok(()) => self.wakeup.notify_one(),
            Err(e) => tracing::error!(error = %e, to, "could not queue a notice to the sender"),
        }
    }
}

/// Queues a notice (built by [`notice::build`]) to `to`, with the null
/// envelope sender so it can never bounce back.
pub async fn queue_notice(
    store: &Store,
    to: &str,
    raw: Vec<u8>,
    now: Timestamp,
) -> crate::store::Result<()> {
    let (msg, received) = own_mail(to, raw, now, "sendwell".to_string(), None);
    let received = received
        .with("notice", true)
        .with("message_id", msg.message_id_header.clone());
    store.enqueue_audited(msg, vec![received]).await.map(|_| ())
}

/// Mail sendwell writes itself (a notice, a journal copy) as a message to
/// queue: to `to`, due now, from the null envelope sender so it can never
/// bounce back; and its `received` record. What sendwell sends is in the
/// record too, but without its subject, which quotes the sender's (and that
/// may be redacted).
pub fn own_mail(
    to: &str,
    raw: Vec<u8>,
    now: Timestamp,
    client: String,
    report: Option<String>,
) -> (NewMessage, Event) {
    let headers = prepare::header_section(&raw);
    let msg = NewMessage {
        mail_from: String::new(),
        message_id_header: header_value(headers, "Message-ID"),
        subject: header_value(headers, "Subject"),
        received_at: now,
        client,
        auth_user: None,
        report,
        deliveries: vec![NewDelivery {
            rcpt: to.to_string(),
            deliver_at: now,
            state: DeliveryState::Queued,
        }],
        data: raw,
    };
    let received = Event::new(
        now,
        Kind::Received,
        "sendwell",
        serde_json::json!({"mail_from": "", "rcpts": [to], "size": msg.data.len()}),
    );
    (msg, received)
}

/// Each recipient's copy: held when the message or the recipient is held,
/// refused when the recipient alone is refused; due now until scheduled.
fn plan_copies<'a>(
    rcpts: &'a [String],
    people: &'a [Recipient],
    verdict: Option<&Verdict>,
    now: Timestamp,
) -> Vec<Copy<'a>> {
    rcpts
        .iter()
        .zip(people)
        .map(|(rcpt, person)| {
            let rv: Option<&RecipientVerdict> = verdict.and_then(|v| {
                v.recipients
                    .iter()
                    .find(|r| r.address.eq_ignore_ascii_case(rcpt))
            });
            let message_hold = verdict.is_some_and(|v| v.action == Decision::Hold);
            let state = match rv.map(|r| r.action) {
                Some(Decision::Reject) => DeliveryState::Rejected,
                Some(Decision::Hold) => DeliveryState::Held,
                _ if message_hold => DeliveryState::Held,
                _ => DeliveryState::Queued,
            };
            Copy {
                rcpt,
                state,
                rewrites: rv.map(|r| r.rewrites.clone()).unwrap_or_default(),
                deliver_at: now,
                slot: None,
                placement: &person.placement,
                established: person.facts.established,
            }
        })
        .collect()
}

impl Copy<'_> {
    fn placement_established(&self) -> bool {
        self.established
    }
}

/// Who and where one recipient is, from what is known of them.
pub fn recipient_of(
    schedule: &Schedule,
    rcpt: &str,
    contact: Option<&crate::store::Contact>,
) -> Recipient {
    let known = contact.map(|c| Known {
        timezone: c.timezone.clone(),
        country: c.country.clone(),
    });
    let placement = schedule.place(rcpt, known.as_ref(), None);
    let mut facts = RecipientFacts::from_address(rcpt);
    if placement.country.is_some() {
        facts.country = placement.country.clone();
    }
    facts.established = contact.is_some_and(|c| c.established);
    Recipient { facts, placement }
}

fn domain_of(rcpt: &str) -> &str {
    rcpt.rsplit_once('@').map(|(_, d)| d).unwrap_or(rcpt)
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

/// Fills `deliver_at`, `timezone` and `timezone_source` of each recipient in
/// a JSON verdict (see the README's `sendwell check` format).
pub fn annotate_plan<'a>(
    json: &mut serde_json::Value,
    plan: impl Iterator<Item = (&'a str, Timestamp, &'a Placement)>,
) {
    let plan: Vec<_> = plan.collect();
    if let Some(rcpts) = json.get_mut("recipients").and_then(|r| r.as_array_mut()) {
        for r in rcpts {
            let addr = r
                .get("address")
                .and_then(|a| a.as_str())
                .unwrap_or_default()
                .to_string();
            if let Some((_, at, place)) =
                plan.iter().find(|(a, _, _)| a.eq_ignore_ascii_case(&addr))
            {
                r["deliver_at"] = serde_json::Value::String(at.to_string());
                r["timezone"] = serde_json::Value::String(place.zone_name().to_string());
                r["timezone_source"] = serde_json::Value::String(place.source.to_string());
            }
        }
    }
}

/// "; buyer@example.de at Mon 09:07 Europe/Berlin" for copies that wait.
fn plan_text(copies: &[Copy<'_>], now: Timestamp) -> String {
    const SHOWN: usize = 3;
    let waiting: Vec<String> = copies
        .iter()
        .filter(|c| {
            c.state == DeliveryState::Queued && c.deliver_at.duration_since(now).as_secs() > 60
        })
        .map(|c| {
            let local = c.deliver_at.to_zoned(c.placement.zone.clone());
            format!(
                "{} at {} {}",
                c.rcpt,
                local.strftime("%a %H:%M"),
                c.placement.zone_name()
            )
        })
        .collect();
    match waiting.len() {
        0 => String::new(),
        n if n <= SHOWN => format!("; {}", waiting.join(", ")),
        n => format!(
            "; {} and {} more later",
            waiting[..SHOWN].join(", "),
            n - SHOWN
        ),
    }
}

/// Copies that wait past a minute: deferred by business hours or caps.
fn later_count(copies: &[Copy<'_>], now: Timestamp) -> u64 {
    copies
        .iter()
        .filter(|c| {
            c.state == DeliveryState::Queued && c.deliver_at.duration_since(now).as_secs() > 60
        })
        .count() as u64
}

fn rule_ids(v: &Verdict) -> Vec<&'static str> {
    v.all_hits().map(|h| h.id.as_str()).collect()
}

/// The subject as the writer typed it (RFC 2047 decoded), for notices.
pub fn decoded_subject(data: &[u8]) -> Option<String> {
    let headers = prepare::header_section(data);
    mail_parser::MessageParser::new()
        .parse_headers(headers)
        .and_then(|m| m.subject().map(str::to_string))
}

/// The title and body of the notice about held or refused copies; `links`
/// are the review page's addresses of the messages (none when it is off).
pub fn hold_notice_text(
    v: &Verdict,
    subject: &str,
    ids: &[MessageId],
    links: &[String],
    lang: Language,
) -> (String, String) {
    let report = policy::report::render_text(v, lang, false);
    let id_list = ids
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let held: Vec<&str> = v
        .recipients
        .iter()
        .filter(|r| {
            r.action == Decision::Hold
                || (v.action == Decision::Hold && r.action != Decision::Reject)
        })
        .map(|r| r.address.as_str())
        .collect();
    let refused: Vec<&str> = v
        .recipients
        .iter()
        .filter(|r| r.action == Decision::Reject)
        .map(|r| r.address.as_str())
        .collect();
    match lang {
        Language::En => {
            let mut body =
                format!("sendwell looked at your message \"{subject}\" before sending it.\n\n");
            if !held.is_empty() {
                body.push_str(&format!(
                    "It is HELD for review and has not been sent to: {}.\n",
                    held.join(", ")
                ));
            }
            if !refused.is_empty() {
                body.push_str(&format!(
                    "It will NOT be sent to: {}.\n",
                    refused.join(", ")
                ));
            }
            body.push_str(&format!(
                "\n{report}\nWhat now: fix what is listed above and send the message again; \
                 or, if it is fine as it is, ask your mail administrator to release it \
                 (`sendwell held release {id_list}`). A reviewer can also refuse it \
                 (`sendwell held reject {id_list}`), and you will be told.\n"
            ));
            if !links.is_empty() {
                body.push_str(&format!(
                    "\nReview it at: {}\n",
                    links.join("\n               ")
                ));
            }
            (format!("[sendwell] Held for review: {subject}"), body)
        }
        Language::ZhCn => {
            let mut body = format!("sendwell 在发送前检查了您的邮件《{subject}》。\n\n");
            if !held.is_empty() {
                body.push_str(&format!(
                    "该邮件已被暂扣待审核，尚未发送给：{}。\n",
                    held.join("、")
                ));
            }
            if !refused.is_empty() {
                body.push_str(&format!("该邮件不会发送给：{}。\n", refused.join("、")));
            }
            body.push_str(&format!(
                "\n{report}\n下一步：请按上面的建议修改后重新发送；如果您确认邮件没有问题，\
                 请联系邮件管理员放行（`sendwell held release {id_list}`）。审核人也可以拒发\
                 （`sendwell held reject {id_list}`），届时您会收到通知。\n"
            ));
            if !links.is_empty() {
                body.push_str(&format!("\n审核页面：{}\n", links.join("\n          ")));
            }
            (format!("[sendwell] 邮件已暂扣待审核：{subject}"), body)
        }
    }
}

/// `553 5.1.3` for anything that is not a deliverable address.
pub fn check_rcpt_syntax(rcpt: &str) -> Result<(), Reply> {
    let bad = || {
        Reply::new(
            553,
            (5, 1, 3),
            format!("<{}> is not a valid address", rcpt.escape_default()),
        )
    };
    if rcpt.is_empty() || rcpt.len() > 254 {
        return Err(bad());
    }
    let opts = Options::default()
        .with_required_tld()
        .without_display_text();
    EmailAddress::parse_with_options(rcpt, opts).map_err(|_| bad())?;
    Ok(())
}

/// The unfolded value of the first header `name`, for listings (raw, not
/// RFC 2047-decoded; the judge decodes properly).
pub fn header_value(headers: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(headers);
    let mut lines = text.split("\r\n").peekable();
    while let Some(line) = lines.next() {
        if line.len() > name.len()
            && line[..name.len()].eq_ignore_ascii_case(name)
            && line.as_bytes()[name.len()] == b':'
        {
            let mut value = line[name.len() + 1..].trim().to_string();
            while let Some(next) = lines.peek() {
                if next.starts_with([' ', '\t']) {
                    value.push(' ');
                    value.push_str(next.trim());
                    lines.next();
                } else {
                    break;
                }
            }
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rcpt_syntax() {
        assert!(check_rcpt_syntax("buyer@example.de").is_ok());
        assert!(check_rcpt_syntax("käufer@müller.de").is_ok());
        for bad in ["", "nobody", "a@b", "a@@b.de", "Hans <h@x.de>"] {
            assert_eq!(check_rcpt_syntax(bad).unwrap_err().code, 553, "{bad}");
        }
    }

    #[test]
    fn header_value_unfolds() {
        let h = b"From: a@b\r\nSubject: one\r\n two\r\nX: y\r\n";
        assert_eq!(header_value(h, "subject").as_deref(), Some("one two"));
        assert_eq!(header_value(h, "To"), None);
    }
}
