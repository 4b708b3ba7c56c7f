//! Advice below the hold line reaches the writer (`[notices] advice`): a
//! message that went out although the judge found something to improve
//! (a score under `hold_at`, advice-only rules) is told to its sender,
//! either at once (`each`: one notice per message, written by the gateway
//! with [`text`]) or in one digest a day (`digest`, the default: the
//! gateway notes the message in the store, and [`run`] sends each sender,
//! once a day, the list of their messages with each one's fixes). `off`
//! tells no one.
//!
//! A digest goes back the way the seller's mail went (the route of their
//! latest message, sending as that route's login), in the notices'
//! language. Knows nothing of SMTP or of the judge's rules: it reads the
//! verdict the gateway stored with each message.

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::Config;
use crate::message::notice::{self, Notice};
use crate::policy::{Advice, Language, Verdict, report};
use crate::shutdown::Shutdown;
use crate::store::{AdviceDue, MessageId, Store};

/// A sender hears at most once in this long: their digest goes when the
/// oldest message in it is this old.
pub const DIGEST_EVERY: SignedDuration = SignedDuration::from_hours(24);

/// Whether the writer of a message that went out with this verdict has
/// something to hear (any hit, advice included).
pub fn has_advice(v: &Verdict) -> bool {
    v.all_hits().next().is_some()
}

/// One message in an advice notice.
pub struct Item<'a> {
    pub id: MessageId,
    pub subject: &'a str,
    /// The stored verdict (`sendwell check --format json`).
    pub report: &'a Value,
}

/// The title and body of the advice notice about `items` (one for `each`,
/// the day's messages for a digest), in `lang`.
pub fn text(items: &[Item<'_>], lang: Language) -> (String, String) {
    let mut list = String::new();
    for it in items {
        let to: Vec<&str> = it.report["recipients"]
            .as_array()
            .map(|rs| rs.iter().filter_map(|r| r["address"].as_str()).collect())
            .unwrap_or_default();
        let head = match lang {
            Language::En => format!(
                "\"{}\" to {} (message {})",
                it.subject,
                to.join(", "),
                it.id
            ),
            Language::ZhCn => format!(
                "《{}》，发给 {}（邮件编号 {}）",
                it.subject,
                to.join("、"),
                it.id
            ),
        };
        list.push_str(&format!(
            "\n* {head}\n{}",
            report::render_hits(it.report, lang)
        ));
    }
    let one = items.len() == 1;
    let subject = items.first().map(|i| i.subject).unwrap_or_default();
    match lang {
        Language::En => (
            if one {
                format!("[sendwell] Sent, with advice: {subject}")
            } else {
                format!("[sendwell] Advice on {} messages you sent", items.len())
            },
            format!(
                "{} went out, but sendwell found something a customer or their mail filter may \
                 hold against {}. Nothing to do for {}; next time, these fixes help:\n{list}\n\
                 (Your administrator chooses how you hear of this: [notices] advice = \"digest\", \"each\" or \"off\".)\n",
                if one {
                    "Your message"
                } else {
                    "These messages of yours"
                },
                if one { "it" } else { "them" },
                if one { "this one" } else { "these" },
            ),
        ),
        Language::ZhCn => (
            if one {
                format!("[sendwell] 已发送，附改进建议：{subject}")
            } else {
                format!("[sendwell] 您发出的 {} 封邮件的改进建议", items.len())
            },
            format!(
                "{}已经发出，但 sendwell 发现了一些可能让客户或对方的邮件过滤器不满意的地方。\
                 这次无需处理；下次按下面的建议修改会更好：\n{list}\n\
                 （如何收到这类建议由管理员决定：[notices] advice = \"digest\"、\"each\" 或 \"off\"。）\n",
                if one { "您的邮件" } else { "以下邮件" },
            ),
        ),
    }
}

/// Queues each digest that is due at `now` and takes its messages off the
/// list; returns how many were queued. With digests off, the list is
/// emptied (those messages will not be told).
pub async fn send_digests(
    store: &Store,
    config: &Config,
    now: Timestamp,
) -> crate::store::Result<usize> {
    let due = store.advice_due().await?;
    if config.notices.advice != Advice::Digest {
        let ids: Vec<MessageId> = due.iter().map(|d| d.message).collect();
        store.forget_advice(&ids).await?;
        return Ok(0);
    }
    let mut sent = 0;
    for group in due.chunk_by(|a, b| a.mail_from == b.mail_from) {
        let Some(oldest) = group.first() else {
            continue;
        };
        if now.duration_since(oldest.noted_at) < DIGEST_EVERY {
            continue;
        }
        let ids: Vec<MessageId> = group.iter().map(|d| d.message).collect();
        // Messages pruned since (or stored without a verdict) are left out.
        let reports: Vec<(&AdviceDue, Value)> = group
            .iter()
            .filter_map(|d| Some((d, serde_json::from_str(d.report.as_deref()?).ok()?)))
            .collect();
        let items: Vec<Item<'_>> = reports
            .iter()
            .map(|(d, j)| Item {
                id: d.message,
                subject: d.subject.as_deref().unwrap_or(""),
                report: j,
            })
            .collect();
        if !items.is_empty() {
            let latest = group.last().unwrap_or(oldest);
            let (title, body) = text(&items, config.notices.language);
            let raw = notice::build(&Notice {
                host: &config.server.hostname,
                from: config.own_sender_on(&latest.route),
                to: &oldest.mail_from,
                subject: &title,
                body: &body,
                in_reply_to: None,
                now,
            });
            crate::notices::queue_notice(store, &latest.route, &oldest.mail_from, raw, now).await?;
            tracing::info!(to = %oldest.mail_from, messages = items.len(), "advice digest queued");
            sent += 1;
        }
        store.forget_advice(&ids).await?;
    }
    Ok(sent)
}

/// Looks for due digests every `[limits] housekeeping_interval` until
/// shutdown, with the configuration `current` gives at each round; wakes
/// the courier when it queued one.
pub async fn run(
    store: Store,
    current: impl Fn() -> Arc<Config>,
    clock: Arc<dyn Clock>,
    wakeup: Arc<Notify>,
    mut shutdown: Shutdown,
) {
    loop {
        let config = current();
        match send_digests(&store, &config, clock.now()).await {
            Ok(0) => {}
            Ok(_) => wakeup.notify_one(),
            Err(e) => tracing::warn!(error = %e, "cannot send the advice digests"),
        }
        tokio::select! {
            _ = shutdown.wait() => return,
            _ = tokio::time::sleep(config.limits.housekeeping_interval.max(Duration::from_millis(50))) => {}
        }
    }
}
