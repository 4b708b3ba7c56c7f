//! The no-reply reminder (`[notices] remind_after`, seed 000 §6: "if a
//! mail got no answer for about a week, wait a few days and write again,
//! with a different subject and content"). After the watcher has read a
//! seller's mailbox, each message of theirs that opened a conversation, went
//! out, and got no reply from any of its recipients within `remind_after`
//! earns its sender one reminder. Only a watched mailbox can tell that no
//! reply came, so only its owner's mail is looked at.

use std::time::Duration;

use jiff::Timestamp;

use crate::config::Config;
use crate::message::MessageFacts;
use crate::message::notice::{self, Notice};
use crate::policy::Language;
use crate::schedule::Schedule;
use crate::store::{self, SentMessage, Store};

/// Messages older than `remind_after` plus this are not reminded of: turning
/// the reminder on must not bring up last month's mail.
const LOOK_BACK: Duration = Duration::from_secs(14 * 24 * 3600);

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reminded {
    pub sent: u32,
    pub answered: u32,
}

/// Reminds `owner` of their unanswered messages sent `after` ago or more.
pub async fn pass(
    store: &Store,
    config: &Config,
    schedule: &Schedule,
    owner: &str,
    after: Duration,
    now: Timestamp,
) -> store::Result<Reminded> {
    let mut out = Reminded::default();
    let due = sub(now, after);
    for m in store.unreminded(owner, sub(due, LOOK_BACK), due).await? {
        let data = store.message_data(m.message).await?;
        if MessageFacts::parse(&data).is_ok_and(|f| f.thread.is_reply()) {
            store.decide_reminder(m.message, "not_cold").await?;
            continue;
        }
        let mut answered = false;
        for rcpt in &m.rcpts {
            if let Some(l) = store.learned(rcpt).await?
                && l.last_reply_at.is_some_and(|at| at >= m.received_at)
            {
                answered = true;
                break;
            }
        }
        if answered {
            store.decide_reminder(m.message, "answered").await?;
            out.answered += 1;
            continue;
        }
        // Decided first: a crash after this loses one reminder rather than
        // sending two.
        if !store.decide_reminder(m.message, "sent").await? {
            continue;
        }
        let (title, body) = words(config.notices.language, &m, schedule);
        let route = config.route_for(None, owner);
        let raw = notice::build(&Notice {
            host: &config.server.hostname,
            from: config.own_sender_on(route),
            to: owner,
            subject: &title,
            body: &body,
            in_reply_to: None,
            now,
        });
        crate::notices::queue_notice(store, route, owner, raw, now).await?;
        out.sent += 1;
    }
    Ok(out)
}

/// The reminder's subject and text.
fn words(language: Language, m: &SentMessage, schedule: &Schedule) -> (String, String) {
    let subject = m.subject.clone().unwrap_or_default();
    let since = m
        .delivered_at
        .to_zoned(schedule.placer.default_zone().clone());
    let who = m.rcpts.join(", ");
    match language {
        Language::ZhCn => (
            format!("[sendwell] 尚未收到回复：{subject}"),
            format!(
                "您于 {} 发出的邮件《{subject}》至今没有收到 {who} 的回复。\n\n\
                 客户可能还在比较产品和价格。如果再次跟进，请换一个新主题，并加入新的内容\
                 （一个具体的问题、新的报价、样品或图片）：同样的邮件再发一遍，很少有人回复。\
                 也不要跟进得太频繁。\n\n这封邮件只提醒这一次（邮件 {}）。\n",
                since.strftime("%-m月%-d日 %H:%M"),
                m.message
            ),
        ),
        Language::En => (
            format!("[sendwell] No answer yet: {subject}"),
            format!(
                "No answer from {who} to \"{subject}\" since {}.\n\n\
                 They may still be comparing offers. If you write again, change the subject and add \
                 something new (a concrete question, a new price, a sample or a photo): the same mail \
                 sent again is seldom answered. Do not follow up too often either.\n\n\
                 This is the only reminder for this message (message {}).\n",
                since.strftime("%a %-d %b %H:%M"),
                m.message
            ),
        ),
    }
}

fn sub(t: Timestamp, d: Duration) -> Timestamp {
    let d = jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::MAX);
    t.checked_sub(d).unwrap_or(Timestamp::MIN)
}
