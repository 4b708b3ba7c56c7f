//! The orchestrator: the only place that knows the order of the stages.
//!
//! RCPT: address syntax, then the judge's address rules. DATA: canonicalise
//! → facts (parsed once) → judge → submission headers → per-recipient
//! rewrites → store → `250`. Held and refused copies get a notice to the
//! sender. The door hands a [`Submission`] here and writes back the [`Reply`]
//! it gets; the stages do not call each other.

use std::collections::BTreeMap;
use std::sync::Arc;

use email_address::{EmailAddress, Options};
use jiff::Timestamp;
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::Config;
use crate::message::MessageFacts;
use crate::message::notice::{self, Notice};
use crate::message::prepare::{self, Trace};
use crate::policy::{
    self, Decision, Judge, Language, RecipientFacts, RecipientVerdict, Rewrite, SenderFacts,
    Verdict,
};
use crate::smtp::Reply;
use crate::store::{DeliveryState, MessageId, NewDelivery, NewMessage, Store};
use crate::submission::{ClientInfo, Submission};

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
}

/// What becomes of one recipient's copy.
struct Copy<'a> {
    rcpt: &'a str,
    state: DeliveryState,
    rewrites: &'a [Rewrite],
}

impl Gateway {
    pub fn new(
        config: Arc<Config>,
        store: Store,
        clock: Arc<dyn Clock>,
        wakeup: Arc<Notify>,
    ) -> Self {
        let judge = Judge::new(&config.policy);
        Gateway {
            config,
            store,
            clock,
            wakeup,
            judge,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Judges one forward path at RCPT time. `Ok` means `250`.
    pub async fn check_rcpt(&self, _client: &ClientInfo, rcpt: &str) -> Result<Reply, Reply> {
        check_rcpt_syntax(rcpt)?;
        if self.config.policy.enabled {
            let v = self
                .judge
                .check_address(&RecipientFacts::from_address(rcpt));
            if v.action == Decision::Reject {
                tracing::info!(rcpt, rules = ?v.hits.iter().map(|h| h.id).collect::<Vec<_>>(), "recipient refused");
                return Err(v.reply.unwrap_or_else(|| {
                    Reply::new(550, (5, 1, 1), "recipient refused by sending policy")
                }));
            }
        }
        Ok(Reply::ok("recipient ok"))
    }

    /// Takes a whole transaction after the final dot. A `250` is returned only
    /// once the message is durably stored.
    pub async fn submit(&self, sub: Submission) -> Reply {
        let now = self.clock.now();
        let data = prepare::canonicalize(&sub.data);
        let verdict = if self.config.policy.enabled {
            match self.judge_message(&data, &sub, now).await {
                Ok(v) => Some(v),
                Err(reply) => return reply,
            }
        } else {
            None
        };
        if let Some(v) = &verdict
            && v.action == Decision::Reject
        {
            tracing::info!(from = %sub.mail_from, score = v.score, rules = ?rule_ids(v), "message refused");
            return Reply::new(550, (5, 7, 1), v.smtp_summary());
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
        let copies = plan_copies(&sub.rcpt_to, verdict.as_ref());
        if copies.iter().all(|c| c.state == DeliveryState::Rejected) {
            let text = verdict
                .as_ref()
                .map(|v| policy::verdict::summary_of(v.score, &v.all_hits().collect::<Vec<_>>()))
                .unwrap_or_default();
            return Reply::new(550, (5, 7, 1), text);
        }
        let report = verdict
            .as_ref()
            .map(|v| policy::report::to_json(v, self.language()).to_string());

        // Copies that need different rewrites are stored as separate messages;
        // usually there is one group.
        let mut groups: BTreeMap<String, Vec<&Copy<'_>>> = BTreeMap::new();
        for c in &copies {
            groups
                .entry(format!("{:?}", c.rewrites))
                .or_default()
                .push(c);
        }
        let mut ids = Vec::new();
        for group in groups.values() {
            let body = policy::apply_rewrites(&data, group[0].rewrites);
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
                        deliver_at: now,
                        state: c.state,
                    })
                    .collect(),
                data: body,
            };
            match self.store.enqueue(msg).await {
                Ok((id, _)) => ids.push(id),
                Err(e) => {
                    // Copies stored so far stay: the client will retry the whole
                    // message, and a duplicate beats a loss.
                    tracing::error!(error = %e, "could not store a message; the client will retry");
                    return Reply::new(
                        451,
                        (4, 3, 0),
                        "temporary local problem, message not accepted; please try again",
                    );
                }
            }
        }
        self.wakeup.notify_one();
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
        let refused: Vec<&str> = copies
            .iter()
            .filter(|c| c.state == DeliveryState::Rejected)
            .map(|c| c.rcpt)
            .collect();
        tracing::info!(message = %ids_text, from = %sub.mail_from, rcpts = sub.rcpt_to.len(), held = held.len(), refused = refused.len(), "spooled");
        if let Some(v) = &verdict
            && (!held.is_empty() || !refused.is_empty())
        {
            self.notify_sender(&sub, v, &ids, &data, now).await;
        }
        if held.is_empty() {
            Reply::ok(format!("queued as {ids_text}"))
        } else if held.len() == copies.len() {
            Reply::ok(format!(
                "held for review as {ids_text}; a notice with the reasons is on its way to you"
            ))
        } else {
            Reply::ok(format!(
                "queued as {ids_text}; {} held for review, see the notice",
                held.join(", ")
            ))
        }
    }

    fn language(&self) -> Language {
        self.config.notices.language
    }

    /// Parses once and judges; an unreadable message is refused clearly.
    async fn judge_message(
        &self,
        data: &[u8],
        sub: &Submission,
        now: Timestamp,
    ) -> Result<Verdict, Reply> {
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
        let facts = facts
            .map_err(|e| Reply::new(550, (5, 6, 0), format!("message could not be read: {e}")))?;
        let sender = SenderFacts {
            mail_from: sub.mail_from.clone(),
            auth_user: sub.client.auth_user.clone(),
            allowed_from: None,
            dmarc_will_fail: None,
        };
        let rcpts: Vec<RecipientFacts> = sub
            .rcpt_to
            .iter()
            .map(|r| RecipientFacts::from_address(r))
            .collect();
        Ok(self.judge.evaluate(&facts, &sender, &rcpts, now))
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
        let headers = prepare::header_section(data);
        let subject = decoded_subject(data).unwrap_or_default();
        let (title, body) = hold_notice_text(v, &subject, ids, self.language());
        let message_id = header_value(headers, "Message-ID");
        let raw = notice::build(&Notice {
            host: &self.config.server.hostname,
            to: &sub.mail_from,
            subject: &title,
            body: &body,
            in_reply_to: message_id.as_deref(),
            now,
        });
        self.send_notice(&sub.mail_from, raw, now).await;
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
    let headers = prepare::header_section(&raw);
    let msg = NewMessage {
        mail_from: String::new(),
        message_id_header: header_value(headers, "Message-ID"),
        subject: header_value(headers, "Subject"),
        received_at: now,
        client: "sendwell".to_string(),
        auth_user: None,
        report: None,
        deliveries: vec![NewDelivery {
            rcpt: to.to_string(),
            deliver_at: now,
            state: DeliveryState::Queued,
        }],
        data: raw,
    };
    store.enqueue(msg).await.map(|_| ())
}

/// Each recipient's copy: held when the message or the recipient is held,
/// refused when the recipient alone is refused.
fn plan_copies<'a>(rcpts: &'a [String], verdict: Option<&'a Verdict>) -> Vec<Copy<'a>> {
    rcpts
        .iter()
        .map(|rcpt| {
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
                rewrites: rv.map(|r| r.rewrites.as_slice()).unwrap_or(&[]),
            }
        })
        .collect()
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

/// The title and body of the notice about held or refused copies.
pub fn hold_notice_text(
    v: &Verdict,
    subject: &str,
    ids: &[MessageId],
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
