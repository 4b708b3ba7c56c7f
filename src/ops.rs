//! What an operator does to mail, in one place: release or refuse a held
//! message, send waiting copies now, drop a message, add or remove a
//! suppression. The CLI (`sendwell held …`, `queue …`, `suppress …`) and the
//! review page call the same functions, so a release from the web does
//! exactly what `sendwell held release` does.
//!
//! Each takes the `actor` who asked (`cli:<user>`, `admin:<who>`), logged
//! with the action; its audit record is built here and written by the store
//! in the action's own transaction. Callers that run
//! next to a courier wake it afterwards, so released mail leaves at once.

use jiff::Timestamp;
use serde_json::json;

use crate::audit::{Event, Kind};
use crate::config::Config;
use crate::message::headers::decoded_subject;
use crate::message::notice::{self, Notice};
use crate::notices::queue_notice;
use crate::policy::Language;
use crate::recipient::import::valid_address;
use crate::store::{self, DeliveryState, MessageId, Store, Suppression, SuppressionSource};

/// Reason given to the sender when a reviewer refuses without one.
pub const DEFAULT_REFUSAL_REASON: &str = "refused by a reviewer";

/// Reason recorded for a suppression added without one.
pub const DEFAULT_SUPPRESSION_REASON: &str = "added by an operator";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no message {0}")]
    NoMessage(MessageId),
    #[error("message {0} has no held copies")]
    NothingHeld(MessageId),
    #[error("'{0}' is not a valid address")]
    BadAddress(String),
    #[error("{0} is not suppressed")]
    NotSuppressed(String),
    #[error(transparent)]
    Store(store::Error),
}

impl From<store::Error> for Error {
    fn from(e: store::Error) -> Self {
        match e {
            store::Error::NoSuchMessage(id) => Error::NoMessage(id),
            e => Error::Store(e),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// A held message's copies go back in line, as if they had just arrived:
/// each gets the first time inside its recipient's business hours and
/// the caps (cold gap, daily limits), with a slot in the ledger. A
/// REPEAT_CONTENT hold is not applied again: a person decided it may go.
/// "Send now" ([`send_now`]) is the way to send at once. Returns each
/// released recipient with its time.
pub async fn release(
    store: &Store,
    config: &Config,
    id: MessageId,
    actor: &str,
    now: Timestamp,
) -> Result<Vec<(String, jiff::Zoned)>> {
    let (m, held) = held_copies(store, id).await?;
    if held.is_empty() {
        return Err(Error::NothingHeld(id));
    }
    let data = store.message_data(id).await?;
    let facts = crate::message::MessageFacts::parse(&data).ok();
    let schedule = crate::schedule::Schedule::new(&config.schedule)
        .map_err(|e| Error::Store(store::Error::Corrupt(format!("schedule: {e}"))))?;
    let mut people = Vec::with_capacity(held.len());
    for rcpt in &held {
        let contact = store.contact(rcpt).await?;
        let learned = store.learned(rcpt).await?;
        people.push(crate::gateway::recipient_of(
            &schedule,
            rcpt,
            contact.as_ref(),
            learned.as_ref(),
        ));
    }
    // Planned as the gateway plans a message that has just arrived; the
    // judge does not run again (a person decided).
    let mut a = crate::gateway::assess(&crate::gateway::assess::Input {
        facts: facts.as_ref(),
        sender: crate::policy::SenderFacts {
            mail_from: m.mail_from.clone(),
            ..Default::default()
        },
        people: &people,
        judge: None,
        schedule: &schedule,
        now,
    });
    let mut slots = Vec::new();
    if config.caps.enabled {
        let view = &a;
        let asks = view.caps_asks(
            &config.caps,
            crate::gateway::Assessment::content(facts.as_ref()),
        );
        let reqs: Vec<store::SlotRequest<'_>> = asks.iter().map(|ask| ask.request).collect();
        let reserved = store
            .reserve_slots(&reqs, now, |k, h| {
                view.caps_decision(&asks[k], &config.caps, &schedule, h)
            })
            .await?;
        let copies: Vec<usize> = asks.iter().map(|ask| ask.copy).collect();
        slots = reserved.iter().map(|r| r.slot).collect();
        // The caps' time only: a REPEAT_CONTENT hold is not applied again.
        for (i, r) in copies.into_iter().zip(&reserved) {
            a.caps_time(i, &r.decision);
        }
    }
    let plans: Vec<(String, Timestamp, Option<crate::schedule::Wait>)> = a
        .copies
        .iter()
        .map(|c| (c.rcpt.clone(), c.deliver_at, c.wait.clone()))
        .collect();
    let zoned: Vec<(String, jiff::Zoned)> = a
        .copies
        .iter()
        .map(|c| {
            (
                c.rcpt.clone(),
                c.deliver_at.to_zoned(c.placement.zone.clone()),
            )
        })
        .collect();
    let record = Event::new(
        now,
        Kind::Released,
        actor,
        json!({"deliver_at": plans.iter().map(|(r, t, _)| json!({"rcpt": r, "at": t.to_string()})).collect::<Vec<_>>()}),
    )
    .about(id);
    let n = match store.release_held_at(id, &plans, now, Some(record)).await {
        Ok(n) => n,
        Err(e) => {
            let _ = store.forget_slots(&slots).await;
            return Err(e.into());
        }
    };
    if n == 0 {
        let _ = store.forget_slots(&slots).await;
        return Err(Error::NothingHeld(id));
    }
    if let Err(e) = store.bind_slots(&slots, id).await {
        tracing::warn!(error = %e, message = %id, "cannot tie cap slots to the message");
    }
    tracing::info!(message = %id, copies = n, actor, "released");
    Ok(zoned)
}

/// "buyer@example.jp at Mon 2026-12-07 09:00 Asia/Tokyo, …": when released
/// copies go, in each recipient's time.
pub fn when_text(plans: &[(String, jiff::Zoned)]) -> String {
    plans
        .iter()
        .map(|(r, z)| {
            format!(
                "{r} at {} {}",
                z.strftime("%a %Y-%m-%d %H:%M"),
                z.time_zone().iana_name().unwrap_or("UTC")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What refusing a held message did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Refused {
    /// Copies refused.
    pub copies: u64,
    /// Their recipients.
    pub recipients: Vec<String>,
    /// Whether a notice to the sender was queued (never to the null sender).
    pub sender_notified: bool,
}

/// A held message's copies are refused; their cap slots are freed and the
/// sender gets a notice with `reason` (or [`DEFAULT_REFUSAL_REASON`]), in the
/// configured language.
pub async fn refuse(
    store: &Store,
    config: &Config,
    id: MessageId,
    reason: Option<&str>,
    actor: &str,
    now: Timestamp,
) -> Result<Refused> {
    let (m, held) = held_copies(store, id).await?;
    let reason = reason
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .unwrap_or(DEFAULT_REFUSAL_REASON);
    let sender_notified = !m.mail_from.is_empty();
    let fields = json!({"rcpts": held, "reason": reason, "sender_notified": sender_notified});
    let record = Event::new(now, Kind::Rejected, actor, fields).about(id);
    let n = store.reject_held(m.id, reason, now, Some(record)).await?;
    if n == 0 {
        return Err(Error::NothingHeld(id));
    }
    // Refused copies no longer count against the recipients' caps.
    for rcpt in &held {
        store.forget_message_slots(m.id, Some(rcpt)).await?;
    }
    if sender_notified {
        let data = store.message_data(m.id).await?;
        let subject = decoded_subject(&data).unwrap_or_default();
        let (title, body) = refusal_text(config.notices.language, &subject, &held, reason);
        let route = m
            .deliveries
            .first()
            .map_or(crate::relay::DEFAULT_ROUTE, |d| d.route.as_str());
        let raw = notice::build(&Notice {
            host: &config.server.hostname,
            from: config.own_sender_on(route),
            to: &m.mail_from,
            subject: &title,
            body: &body,
            in_reply_to: m.message_id_header.as_deref(),
            now,
        });
        queue_notice(store, route, &m.mail_from, raw, now).await?;
    }
    tracing::info!(message = %id, copies = n, actor, reason, "refused by a reviewer");
    Ok(Refused {
        copies: n,
        recipients: held,
        sender_notified,
    })
}

/// Every waiting copy of a message (queued or deferred) is due now, outside
/// business hours and caps. Held copies wait for [`release`]. Returns how many.
pub async fn send_now(store: &Store, id: MessageId, actor: &str, now: Timestamp) -> Result<u64> {
    let record = Event::new(now, Kind::Retried, actor, json!({})).about(id);
    let n = store.retry(id, now, Some(record)).await?;
    tracing::info!(message = %id, copies = n, actor, "sent now");
    Ok(n)
}

/// Gives up on every undelivered copy of a message (no bounce is sent) and
/// frees their cap slots. Returns how many.
pub async fn drop_message(
    store: &Store,
    id: MessageId,
    actor: &str,
    now: Timestamp,
) -> Result<u64> {
    let record = Event::new(now, Kind::Dropped, actor, json!({})).about(id);
    let n = store.drop_message(id, now, Some(record)).await?;
    // Dropped copies no longer count against the recipient's caps.
    store.forget_message_slots(id, None).await?;
    tracing::info!(message = %id, copies = n, actor, "dropped");
    Ok(n)
}

/// What adding a suppression found.
#[derive(Debug, Clone)]
pub enum Suppressed {
    Added,
    /// It was there already; the first entry is kept.
    Already(Suppression),
}

/// Puts an address on the suppression list by hand.
pub async fn suppress(
    store: &Store,
    address: &str,
    reason: Option<&str>,
    actor: &str,
    now: Timestamp,
) -> Result<Suppressed> {
    let address = address.trim();
    if !valid_address(address) {
        return Err(Error::BadAddress(address.to_string()));
    }
    let reason = reason
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .unwrap_or(DEFAULT_SUPPRESSION_REASON);
    let fields = json!({"address": address, "reason": reason, "source": "manual"});
    let record = Event::new(now, Kind::Suppressed, actor, fields);
    if store
        .suppress(
            address,
            reason,
            SuppressionSource::Manual,
            now,
            Some(record),
        )
        .await?
    {
        tracing::info!(address, actor, reason, "suppressed");
        return Ok(Suppressed::Added);
    }
    match store.suppression(address).await? {
        Some(s) => Ok(Suppressed::Already(s)),
        // Removed between the two statements: say it is there, as asked.
        None => Ok(Suppressed::Added),
    }
}

/// Takes an address off the suppression list.
pub async fn unsuppress(store: &Store, address: &str, actor: &str, now: Timestamp) -> Result<()> {
    let address = address.trim();
    let record = Event::new(now, Kind::Unsuppressed, actor, json!({"address": address}));
    if !store.unsuppress(address, Some(record)).await? {
        return Err(Error::NotSuppressed(address.to_string()));
    }
    tracing::info!(address, actor, "no longer suppressed");
    Ok(())
}

/// Who runs a command line: `cli:<login name>`, from `$USER` or `$LOGNAME`,
/// else the name of the process's user in `/etc/passwd`, else `cli:uid-N`
/// (cron jobs and containers often have no `$USER`).
pub fn cli_actor() -> String {
    let from_env = ["USER", "LOGNAME"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.trim().is_empty());
    if let Some(user) = from_env {
        return format!("cli:{user}");
    }
    match process_uid() {
        Some(uid) => {
            let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
            match user_of_uid(&passwd, uid) {
                Some(name) => format!("cli:{name}"),
                None => format!("cli:uid-{uid}"),
            }
        }
        None => "cli:uid-unknown".to_string(),
    }
}

/// This process's (effective) user id: the owner of `/proc/self`.
fn process_uid() -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

/// The name of user `uid` in a passwd file's text (`name:x:uid:…`).
fn user_of_uid(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut f = line.split(':');
        let name = f.next()?;
        let _password = f.next()?;
        (f.next()?.parse::<u32>().ok()? == uid && !name.is_empty()).then(|| name.to_string())
    })
}

fn refusal_text(lang: Language, subject: &str, rcpts: &[String], reason: &str) -> (String, String) {
    match lang {
        Language::En => (
            format!("[sendwell] Not sent: {subject}"),
            format!(
                "Your message \"{subject}\" was held for review, and a reviewer decided not to send it to: {}.\n\n\
                 Reason: {reason}\n\nNothing was sent to these recipients. You can write a corrected message and send it again.\n",
                rcpts.join(", ")
            ),
        ),
        Language::ZhCn => (
            format!("[sendwell] 邮件未发送：{subject}"),
            format!(
                "您的邮件《{subject}》曾被暂扣待审核，审核人决定不发送给：{}。\n\n原因：{reason}\n\n\
                 这些收件人没有收到任何内容。您可以修改后重新发送。\n",
                rcpts.join("、")
            ),
        ),
    }
}

/// A message and the recipients of its held copies.
async fn held_copies(store: &Store, id: MessageId) -> Result<(store::MessageRow, Vec<String>)> {
    let m = store.message(id).await?.ok_or(Error::NoMessage(id))?;
    let held = m
        .deliveries
        .iter()
        .filter(|d| d.state == DeliveryState::Held)
        .map(|d| d.rcpt.clone())
        .collect();
    Ok((m, held))
}

/// What is known about a buyer, in one place (`GET /api/contacts/ADDRESS`,
/// `sendwell contacts show ADDRESS --format json`): where they are and how
/// that is known, whether a conversation is under way, whether they are
/// away, whether they are suppressed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ContactCard {
    pub address: String,
    pub timezone: String,
    pub timezone_source: String,
    pub country: Option<String>,
    pub established: bool,
    pub last_reply_at: Option<Timestamp>,
    pub away_until: Option<Timestamp>,
    pub suppressed: Option<Suppression>,
}

/// Reads everything known about `address` (see [`ContactCard`]).
pub async fn contact_card(
    store: &Store,
    schedule: &crate::schedule::Schedule,
    address: &str,
    now: Timestamp,
) -> Result<ContactCard> {
    if !valid_address(address) {
        return Err(Error::BadAddress(address.to_string()));
    }
    let contact = store.contact(address).await?;
    let learned = store.learned(address).await?;
    let who = crate::gateway::recipient_of(schedule, address, contact.as_ref(), learned.as_ref());
    Ok(ContactCard {
        address: store::normalize_address(address),
        timezone: who.placement.zone_name().to_string(),
        timezone_source: who.placement.source.to_string(),
        country: who.placement.country.clone(),
        established: who.facts.established,
        last_reply_at: learned.as_ref().and_then(|l| l.last_reply_at),
        away_until: who.away_until.filter(|u| *u > now),
        suppressed: store.suppression(address).await?,
    })
}
