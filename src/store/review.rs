//! What the review page reads: recent decisions, the copies waiting to go,
//! and counts per day for the chart. Read-only; the page's actions go
//! through `crate::ops`.

use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;

use super::sql::{DELIVERY_ROW_SELECT, delivery_row, parse_state, subject, ts};
use super::*;

/// One day's millisecond count.
const DAY_MS: i64 = 86_400_000;

/// A judged message and where its copies stand.
#[derive(Debug, Clone, Serialize)]
pub struct Decided {
    pub id: MessageId,
    pub mail_from: String,
    pub received_at: Timestamp,
    pub subject: Option<String>,
    /// The verdict JSON the gateway stored (see `sendwell check --format json`).
    pub report: Option<String>,
    pub copies: Vec<RecipientCopy>,
}

/// One recipient's copy, in a [`Decided`].
#[derive(Debug, Clone, Serialize)]
pub struct RecipientCopy {
    pub rcpt: String,
    pub state: DeliveryState,
}

/// Counts of one day (in the zone the caller shifted by).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DayCounts {
    /// Messages accepted with every copy queued (or not judged).
    pub accepted: u64,
    /// Messages with copies held for review.
    pub held: u64,
    /// Copies the upstream took.
    pub delivered: u64,
    /// Copies that failed for good.
    pub bounced: u64,
    /// Copies a reviewer refused.
    pub refused: u64,
    /// Refusals the mail program was shown (550 at RCPT or at the end of
    /// DATA): never queued, so counted from the audit log.
    pub refused_at_door: u64,
}

impl Store {
    /// Messages from senders (not our own notices and reports), newest first.
    pub async fn recent_decisions(&self, limit: usize) -> Result<Vec<Decided>> {
        let rows = sqlx::query(
            "SELECT m.id, m.mail_from, m.received_at, m.subject, m.report, d.rcpt, d.state \
             FROM messages m JOIN deliveries d ON d.message_id = m.id \
             WHERE m.id IN (SELECT id FROM messages WHERE mail_from <> '' ORDER BY id DESC LIMIT $1) \
             ORDER BY m.id DESC, d.id",
        )
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await?;
        let mut out: Vec<Decided> = Vec::new();
        for r in rows {
            let id = MessageId(r.try_get("id")?);
            let copy = RecipientCopy {
                rcpt: r.try_get("rcpt")?,
                state: parse_state(&r.try_get::<String, _>("state")?)?,
            };
            match out.last_mut() {
                Some(last) if last.id == id => last.copies.push(copy),
                _ => out.push(Decided {
                    id,
                    mail_from: r.try_get("mail_from")?,
                    received_at: ts(r.try_get("received_at")?)?,
                    subject: subject(&r)?,
                    report: r.try_get("report")?,
                    copies: vec![copy],
                }),
            }
        }
        Ok(out)
    }

    /// Copies still to go (queued, deferred, being delivered), soonest first.
    pub async fn waiting(&self, limit: usize) -> Result<Vec<DeliveryRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{DELIVERY_ROW_SELECT} WHERE d.state IN ('queued', 'deferred', 'delivering') \
             ORDER BY d.deliver_at, d.id LIMIT $1"
        )))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(delivery_row).collect()
    }

    /// Decisions and delivery outcomes per day from `since` on, oldest first,
    /// one entry per day (empty days included). Days are counted in a zone
    /// `offset_seconds` east of UTC. Each entry is (first instant of the day
    /// as a date string `YYYY-MM-DD`, counts).
    pub async fn daily(
        &self,
        since: Timestamp,
        until: Timestamp,
        offset_seconds: i32,
    ) -> Result<Vec<(String, DayCounts)>> {
        let offset = i64::from(offset_seconds) * 1000;
        let first = (since.as_millisecond() + offset).div_euclid(DAY_MS);
        let last = (until.as_millisecond() + offset).div_euclid(DAY_MS);
        let n = usize::try_from(last - first + 1).unwrap_or(0).min(366);
        let mut days = vec![DayCounts::default(); n];
        let slot = |day: i64| usize::try_from(day - first).ok();
        // The verdict is the first field of the stored report JSON.
        let arrivals = self
            .per_day(
                "SELECT (received_at + $2) / 86400000 AS day, SUBSTR(report, 1, 20) AS key, COUNT(*) AS n \
                 FROM messages WHERE received_at >= $1 AND mail_from <> '' GROUP BY 1, 2",
                since,
                offset,
            )
            .await?;
        for (day, head, n) in arrivals {
            if let Some(d) = slot(day).and_then(|i| days.get_mut(i)) {
                if head.is_some_and(|h| h.starts_with("{\"verdict\":\"hold\"")) {
                    d.held += n;
                } else {
                    d.accepted += n;
                }
            }
        }
        let outcomes = self
            .per_day(
                // The sellers' mail only, as the arrivals and the overview's
                // cards: sendwell's own notices and reports are counted apart.
                "SELECT (d.updated_at + $2) / 86400000 AS day, d.state AS key, COUNT(*) AS n \
                 FROM deliveries d JOIN messages m ON m.id = d.message_id \
                 WHERE d.updated_at >= $1 AND d.state IN ('delivered', 'bounced', 'rejected') \
                 AND m.mail_from <> '' GROUP BY 1, 2",
                since,
                offset,
            )
            .await?;
        for (day, state, n) in outcomes {
            let state = parse_state(state.as_deref().unwrap_or(""))?;
            if let Some(d) = slot(day).and_then(|i| days.get_mut(i)) {
                match state {
                    DeliveryState::Delivered => d.delivered += n,
                    DeliveryState::Bounced => d.bounced += n,
                    _ => d.refused += n,
                }
            }
        }
        let door = self
            .per_day(
                "SELECT (at + $2) / 86400000 AS day, kind AS key, COUNT(*) AS n FROM audit_log \
                 WHERE at >= $1 AND kind = 'refused' AND message IS NULL GROUP BY 1, 2",
                since,
                offset,
            )
            .await?;
        for (day, _, n) in door {
            if let Some(d) = slot(day).and_then(|i| days.get_mut(i)) {
                d.refused_at_door += n;
            }
        }
        Ok(days
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let ms = (first + i as i64) * DAY_MS;
                let date = Timestamp::from_millisecond(ms)
                    .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
                    .unwrap_or_default();
                (date, c)
            })
            .collect())
    }

    /// Rows `(day, key, n)` of a count per day: `sql` selects `day`, `key`
    /// and `n`, with `$1` the first instant and `$2` the zone's offset (ms).
    async fn per_day(
        &self,
        sql: &'static str,
        since: Timestamp,
        offset: i64,
    ) -> Result<Vec<(i64, Option<String>, u64)>> {
        let rows = sqlx::query(sql)
            .bind(since.as_millisecond())
            .bind(offset)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                let n = u64::try_from(r.try_get::<i64, _>("n")?).unwrap_or(0);
                Ok((r.try_get("day")?, r.try_get("key")?, n))
            })
            .collect()
    }
}
