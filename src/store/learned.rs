//! What the inbox watcher learned from the sellers' mailboxes: per buyer,
//! the zone their own mail showed, their last reply and until when they are
//! away; per watched folder, the UID it was read up to; and the bounces that
//! came back later.
//!
//! Same SQL subset as `sql.rs`. Knows nothing of IMAP or of how a message
//! was read: the caller hands in what it learned.

use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::sql::ts;
use super::suppression::normalize_address;
use super::{DeliveryId, MessageId, Result, Store};
use crate::audit::Event;

/// What earlier mail taught about one buyer. `None` fields are unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Learned {
    pub address: String,
    /// IANA zone name learned from their own mail.
    pub timezone: Option<String>,
    /// How it was learned (`learned from their mail of 2026-12-01 (UTC−05:00)`).
    pub zone_source: Option<String>,
    /// ISO 3166 alpha-2, from a phone number in their signature.
    pub country: Option<String>,
    pub last_reply_at: Option<Timestamp>,
    /// The subject of that reply.
    pub reply_subject: Option<String>,
    /// They said they are away (out of office) until then.
    pub away_until: Option<Timestamp>,
    /// What the out-of-office reply said, shortened.
    pub away_note: Option<String>,
}

/// A copy still waiting for its time (queued, never tried).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingCopy {
    pub delivery: DeliveryId,
    pub message: MessageId,
    pub rcpt: String,
    pub mail_from: String,
    pub subject: Option<String>,
    pub received_at: Timestamp,
    pub deliver_at: Timestamp,
}

/// A message whose copies went out and whose reminder is not decided yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    pub message: MessageId,
    pub subject: Option<String>,
    pub received_at: Timestamp,
    /// When the last of its delivered copies went.
    pub delivered_at: Timestamp,
    /// The recipients whose copies were delivered.
    pub rcpts: Vec<String>,
}

impl Store {
    /// Messages from `sender` received since `since`, with every copy
    /// settled, at least one delivered at or before `delivered_by`, and no
    /// reminder decided yet (`[notices] remind_after`).
    pub async fn unreminded(
        &self,
        sender: &str,
        since: Timestamp,
        delivered_by: Timestamp,
    ) -> Result<Vec<SentMessage>> {
        let rows = sqlx::query(
            "SELECT m.id AS id, m.subject AS subject, m.received_at AS received_at,              d.rcpt AS rcpt, d.updated_at AS updated_at              FROM messages m JOIN deliveries d ON d.message_id = m.id              WHERE LOWER(m.mail_from) = $1 AND m.reminder IS NULL AND m.received_at >= $2              AND d.state = 'delivered'              AND NOT EXISTS (SELECT 1 FROM deliveries w WHERE w.message_id = m.id                  AND w.state IN ('queued', 'deferred', 'delivering', 'held'))              ORDER BY m.id, d.rcpt",
        )
        .bind(normalize_address(sender))
        .bind(since.as_millisecond())
        .fetch_all(self.pool())
        .await?;
        let mut out: Vec<SentMessage> = Vec::new();
        for r in &rows {
            let id = MessageId(r.try_get("id")?);
            let at = ts(r.try_get("updated_at")?)?;
            let rcpt: String = r.try_get("rcpt")?;
            match out.last_mut() {
                Some(m) if m.message == id => {
                    m.delivered_at = m.delivered_at.max(at);
                    m.rcpts.push(rcpt);
                }
                _ => out.push(SentMessage {
                    message: id,
                    subject: r.try_get("subject")?,
                    received_at: ts(r.try_get("received_at")?)?,
                    delivered_at: at,
                    rcpts: vec![rcpt],
                }),
            }
        }
        out.retain(|m| m.delivered_at <= delivered_by);
        Ok(out)
    }

    /// Records what became of message `id`'s reminder (`sent`, `answered`,
    /// `not_cold`); false when it was decided before (by another node).
    pub async fn decide_reminder(&self, id: MessageId, what: &str) -> Result<bool> {
        let done =
            sqlx::query("UPDATE messages SET reminder = $1 WHERE id = $2 AND reminder IS NULL")
                .bind(what)
                .bind(id.0)
                .execute(self.pool())
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// What was learned about an address, if anything.
    pub async fn learned(&self, address: &str) -> Result<Option<Learned>> {
        let row = sqlx::query(
            "SELECT address, timezone, zone_source, country, last_reply_at, reply_subject, \
             away_until, away_note FROM learned WHERE address = $1",
        )
        .bind(normalize_address(address))
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(learned_row).transpose()
    }

    /// Records the zone (and country) a buyer's own mail showed. A later
    /// mail replaces an earlier lesson: people move, and summer time ends.
    pub async fn learn_zone(
        &self,
        address: &str,
        timezone: &str,
        source: &str,
        country: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO learned (address, timezone, zone_source, country, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (address) DO UPDATE SET \
             timezone = excluded.timezone, zone_source = excluded.zone_source, \
             country = COALESCE(excluded.country, learned.country), updated_at = excluded.updated_at",
        )
        .bind(normalize_address(address))
        .bind(timezone)
        .bind(source)
        .bind(country)
        .bind(now.as_millisecond())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records a reply from a buyer (the latest one wins) and makes them
    /// established in the contacts.
    pub async fn learn_reply(
        &self,
        address: &str,
        at: Timestamp,
        subject: &str,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO learned (address, last_reply_at, reply_subject, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (address) DO UPDATE SET \
             last_reply_at = excluded.last_reply_at, reply_subject = excluded.reply_subject, \
             updated_at = excluded.updated_at \
             WHERE learned.last_reply_at IS NULL OR learned.last_reply_at < excluded.last_reply_at",
        )
        .bind(normalize_address(address))
        .bind(at.as_millisecond())
        .bind(subject)
        .bind(now.as_millisecond())
        .execute(self.pool())
        .await?;
        self.mark_established(address, now).await?;
        Ok(())
    }

    /// Records that a buyer is away until `until`.
    pub async fn learn_away(
        &self,
        address: &str,
        until: Timestamp,
        note: &str,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO learned (address, away_until, away_note, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (address) DO UPDATE SET \
             away_until = excluded.away_until, away_note = excluded.away_note, \
             updated_at = excluded.updated_at",
        )
        .bind(normalize_address(address))
        .bind(until.as_millisecond())
        .bind(note)
        .bind(now.as_millisecond())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records a bounce that arrived later in a mailbox.
    pub async fn record_late_bounce(
        &self,
        address: &str,
        permanent: bool,
        status: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO late_bounces (address, permanent, status, reason, seen_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(normalize_address(address))
        .bind(i64::from(permanent))
        .bind(status)
        .bind(reason)
        .bind(now.as_millisecond())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Where a watched folder was read up to: `(uidvalidity, last_uid)`.
    pub async fn inbox_position(&self, mailbox: &str, folder: &str) -> Result<Option<(u32, u32)>> {
        let row = sqlx::query(
            "SELECT uidvalidity, last_uid FROM inbox_state WHERE mailbox = $1 AND folder = $2",
        )
        .bind(mailbox)
        .bind(folder)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(None) };
        let v: i64 = r.try_get("uidvalidity")?;
        let u: i64 = r.try_get("last_uid")?;
        Ok(Some((
            u32::try_from(v).unwrap_or(0),
            u32::try_from(u).unwrap_or(0),
        )))
    }

    /// Stores where a watched folder was read up to.
    pub async fn set_inbox_position(
        &self,
        mailbox: &str,
        folder: &str,
        uidvalidity: u32,
        last_uid: u32,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO inbox_state (mailbox, folder, uidvalidity, last_uid, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (mailbox, folder) DO UPDATE SET \
             uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid, \
             updated_at = excluded.updated_at",
        )
        .bind(mailbox)
        .bind(folder)
        .bind(i64::from(uidvalidity))
        .bind(i64::from(last_uid))
        .bind(now.as_millisecond())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Copies to `address` still waiting for their time: queued and never
    /// tried, oldest first.
    pub async fn waiting_copies_to(&self, address: &str) -> Result<Vec<WaitingCopy>> {
        let rows = sqlx::query(
            "SELECT d.id, d.message_id, d.rcpt, d.deliver_at, m.mail_from, m.subject, m.received_at \
             FROM deliveries d JOIN messages m ON m.id = d.message_id \
             WHERE LOWER(d.rcpt) = $1 AND d.state = 'queued' AND d.attempts = 0 \
             ORDER BY d.id",
        )
        .bind(normalize_address(address))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(WaitingCopy {
                    delivery: DeliveryId(r.try_get("id")?),
                    message: MessageId(r.try_get("message_id")?),
                    rcpt: r.try_get("rcpt")?,
                    mail_from: r.try_get("mail_from")?,
                    subject: r.try_get("subject")?,
                    received_at: ts(r.try_get("received_at")?)?,
                    deliver_at: ts(r.try_get("deliver_at")?)?,
                })
            })
            .collect()
    }

    /// Moves a waiting copy to a later time, with `record` in the audit
    /// log; `false` when it no longer waits (sent or claimed meanwhile).
    pub async fn postpone_copy(
        &self,
        id: DeliveryId,
        until: Timestamp,
        now: Timestamp,
        record: Event,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE deliveries SET deliver_at = $1, updated_at = $2 \
             WHERE id = $3 AND state = 'queued' AND deliver_at < $1",
        )
        .bind(until.as_millisecond())
        .bind(now.as_millisecond())
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        self.commit_audited(tx, done.rows_affected() > 0, Some(record))
            .await
    }

    /// Holds a waiting copy for review (a follow-up the buyer answered
    /// before it went), with `record` in the audit log; `false` when it no
    /// longer waits.
    pub async fn hold_waiting_copy(
        &self,
        id: DeliveryId,
        now: Timestamp,
        record: Event,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE deliveries SET state = 'held', updated_at = $1 \
             WHERE id = $2 AND state = 'queued' AND attempts = 0",
        )
        .bind(now.as_millisecond())
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        self.commit_audited(tx, done.rows_affected() > 0, Some(record))
            .await
    }

    /// Whether sendwell ever queued mail to `address` (so mail from it is an
    /// answer, not a stranger's first letter).
    pub async fn wrote_to(&self, address: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM deliveries WHERE LOWER(rcpt) = $1 LIMIT 1) x",
        )
        .bind(normalize_address(address))
        .fetch_one(self.pool())
        .await?;
        Ok(n > 0)
    }
}

fn learned_row(r: &AnyRow) -> Result<Learned> {
    let opt_ts = |col: &str| -> Result<Option<Timestamp>> {
        r.try_get::<Option<i64>, _>(col)?.map(ts).transpose()
    };
    Ok(Learned {
        address: r.try_get("address")?,
        timezone: r.try_get("timezone")?,
        zone_source: r.try_get("zone_source")?,
        country: r.try_get("country")?,
        last_reply_at: opt_ts("last_reply_at")?,
        reply_subject: r.try_get("reply_subject")?,
        away_until: opt_ts("away_until")?,
        away_note: r.try_get("away_note")?,
    })
}
