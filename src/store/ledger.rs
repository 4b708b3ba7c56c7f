//! The send ledger (table `sends`): every recipient's copy planned, so the
//! frequency caps survive restarts and hold across gateway nodes.
//!
//! [`Store::reserve_slots`] reads a recipient's (and its domain's) history
//! and records the new copy in ONE transaction, serialised per recipient
//! domain, so two messages to one recipient arriving at once cannot both take
//! the last slot: SQLite's `BEGIN IMMEDIATE` serialises every writer;
//! PostgreSQL takes `pg_advisory_xact_lock` on each recipient domain touched
//! (in a fixed order, so two batches never deadlock), which also serialises
//! CAP_DOMAIN_DAILY between different recipients of one company.
//! The caps themselves are a closure ([`crate::schedule::caps`] decides);
//! this file knows only the rows and their transaction.

use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::sql::placeholders;
use super::{Dialect, Error, MessageId, Result, Store};
use crate::schedule::caps::{CapDecision, ContentHashes, History, PastSend, fnv1a64};

/// Most ids in one `IN (…)` list (well under both databases' parameter limits).
const MAX_IDS_PER_STATEMENT: usize = 500;

/// A ledger row's id: one planned copy's slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SlotId(pub i64);

/// One copy to plan and record.
#[derive(Debug, Clone, Copy)]
pub struct SlotRequest<'a> {
    /// The recipient address (compared lower-cased).
    pub rcpt: &'a str,
    pub cold: bool,
    pub content: ContentHashes,
    /// Read the recipient's rows planned at or after this time.
    pub since: Timestamp,
    /// Read the domain's rows planned at or after this time; `None`: the
    /// domain is not capped, do not read them.
    pub domain_since: Option<Timestamp>,
}

/// A recorded copy and what the caps decided for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reserved {
    pub slot: SlotId,
    pub decision: CapDecision,
}

/// A ledger row as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerRow {
    pub slot: SlotId,
    pub rcpt: String,
    pub message_id: Option<MessageId>,
    /// The planned delivery time.
    pub sent_at: Timestamp,
    pub cold: bool,
    pub content: ContentHashes,
}

impl Store {
    /// Plans and records one copy per request, in one transaction (one
    /// commit for a whole message's recipients). `plan(i, history)` gets the
    /// ledger as it stands for request `i`, including the copies recorded
    /// for the earlier requests of this call; its `deliver_at` is stored.
    /// A REPEAT_CONTENT copy is recorded too: it is held, and a held copy
    /// keeps its slot until [`Store::forget_slots`] frees it.
    pub async fn reserve_slots<F>(
        &self,
        reqs: &[SlotRequest<'_>],
        now: Timestamp,
        mut plan: F,
    ) -> Result<Vec<Reserved>>
    where
        F: FnMut(usize, &History) -> CapDecision,
    {
        if reqs.is_empty() {
            return Ok(Vec::new());
        }
        let now = now.as_millisecond();
        let keys: Vec<(String, String)> = reqs.iter().map(|r| rcpt_key(r.rcpt)).collect();
        let mut tx = self.begin_write().await?;
        if self.dialect() == Dialect::Postgres {
            let mut locks: Vec<i64> = keys.iter().map(|(_, d)| lock_key(d)).collect();
            locks.sort_unstable();
            locks.dedup();
            for key in locks {
                // In FROM, so the row has an int column and not a `void` one,
                // which the Any driver cannot decode.
                sqlx::query("SELECT 1 AS locked FROM pg_advisory_xact_lock($1)")
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let mut out = Vec::with_capacity(reqs.len());
        for (i, (req, (rcpt, domain))) in reqs.iter().zip(&keys).enumerate() {
            let history = read_history(&mut tx, rcpt, domain, req).await?;
            let decision = plan(i, &history);
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO sends (rcpt, rcpt_domain, sent_at, cold, subject_hash, body_hash, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(rcpt.as_str())
            .bind(domain.as_str())
            .bind(decision.deliver_at.as_millisecond())
            .bind(i64::from(req.cold))
            .bind(req.content.subject.map(to_sql))
            .bind(req.content.body.map(to_sql))
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            out.push(Reserved {
                slot: SlotId(id),
                decision,
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    /// The ledger as it stands for one request, without reserving anything
    /// (`sendwell check`: what the caps would say now).
    pub async fn caps_history(&self, req: &SlotRequest<'_>) -> Result<History> {
        let (rcpt, domain) = rcpt_key(req.rcpt);
        let mut conn = self.pool().acquire().await?;
        read_history(&mut conn, &rcpt, &domain, req).await
    }

    /// [`Store::reserve_slots`] for a single copy.
    pub async fn reserve_slot(
        &self,
        req: &SlotRequest<'_>,
        now: Timestamp,
        plan: impl FnOnce(&History) -> CapDecision,
    ) -> Result<Reserved> {
        let mut plan = Some(plan);
        let mut out = self
            .reserve_slots(std::slice::from_ref(req), now, |_, h| match plan.take() {
                Some(p) => p(h),
                // reserve_slots calls the closure once per request, and
                // there is one request.
                None => CapDecision::unchanged(req.since),
            })
            .await?;
        out.pop()
            .ok_or_else(|| Error::Corrupt("a reservation returned no slot".into()))
    }

    /// Ties reserved slots to the message they were stored as (so refusing
    /// or dropping it can free them). Returns how many rows changed.
    pub async fn bind_slots(&self, slots: &[SlotId], message: MessageId) -> Result<u64> {
        let mut done = 0;
        for chunk in slots.chunks(MAX_IDS_PER_STATEMENT) {
            let sql = format!(
                "UPDATE sends SET message_id = $1 WHERE id IN ({})",
                placeholders(2, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(message.0);
            for s in chunk {
                q = q.bind(s.0);
            }
            done += q.execute(self.pool()).await?.rows_affected();
        }
        Ok(done)
    }

    /// Frees slots whose copies will not go after all (storing the message
    /// failed, or the copy was refused). Returns how many rows went.
    pub async fn forget_slots(&self, slots: &[SlotId]) -> Result<u64> {
        let mut done = 0;
        for chunk in slots.chunks(MAX_IDS_PER_STATEMENT) {
            let sql = format!(
                "DELETE FROM sends WHERE id IN ({})",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for s in chunk {
                q = q.bind(s.0);
            }
            done += q.execute(self.pool()).await?.rows_affected();
        }
        Ok(done)
    }

    /// Frees the slots of a message's copies (all of them, or one
    /// recipient's): for a held copy that a reviewer refused, or a message an
    /// operator dropped. Returns how many rows went.
    pub async fn forget_message_slots(
        &self,
        message: MessageId,
        rcpt: Option<&str>,
    ) -> Result<u64> {
        let done = match rcpt {
            Some(rcpt) => {
                sqlx::query("DELETE FROM sends WHERE message_id = $1 AND rcpt = $2")
                    .bind(message.0)
                    .bind(rcpt_key(rcpt).0)
                    .execute(self.pool())
                    .await?
            }
            None => {
                sqlx::query("DELETE FROM sends WHERE message_id = $1")
                    .bind(message.0)
                    .execute(self.pool())
                    .await?
            }
        };
        Ok(done.rows_affected())
    }

    /// A recipient's copies planned at or after `since`, oldest first (reports).
    pub async fn history(&self, rcpt: &str, since: Timestamp) -> Result<Vec<LedgerRow>> {
        sqlx::query(
            "SELECT id, rcpt, message_id, sent_at, cold, subject_hash, body_hash \
             FROM sends WHERE rcpt = $1 AND sent_at >= $2 ORDER BY sent_at, id",
        )
        .bind(rcpt_key(rcpt).0)
        .bind(since.as_millisecond())
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(ledger_row)
        .collect()
    }

    /// Deletes rows planned before `before` (housekeeping: the caps never
    /// look further back than their longest window). Returns how many went.
    pub async fn prune_ledger(&self, before: Timestamp) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM sends WHERE sent_at < $1")
            .bind(before.as_millisecond())
            .execute(self.pool())
            .await?
            .rows_affected())
    }
}

/// The address lower-cased and its domain (after the last `@`).
fn rcpt_key(rcpt: &str) -> (String, String) {
    let rcpt = rcpt.trim().to_lowercase();
    let domain = rcpt
        .rsplit_once('@')
        .map(|(_, d)| d.to_string())
        .unwrap_or_default();
    (rcpt, domain)
}

/// The advisory lock for one recipient domain. A collision between two
/// domains only serialises them needlessly.
fn lock_key(domain: &str) -> i64 {
    to_sql(fnv1a64(format!("sendwell.sends:{domain}").as_bytes()))
}

/// Hashes are u64; the databases store signed 64-bit integers.
fn to_sql(h: u64) -> i64 {
    i64::from_be_bytes(h.to_be_bytes())
}

fn from_sql(h: i64) -> u64 {
    u64::from_be_bytes(h.to_be_bytes())
}

fn ledger_row(r: &AnyRow) -> Result<LedgerRow> {
    Ok(LedgerRow {
        slot: SlotId(r.try_get("id")?),
        rcpt: r.try_get("rcpt")?,
        message_id: r.try_get::<Option<i64>, _>("message_id")?.map(MessageId),
        sent_at: ts(r.try_get("sent_at")?)?,
        cold: r.try_get::<i64, _>("cold")? != 0,
        content: ContentHashes {
            subject: r.try_get::<Option<i64>, _>("subject_hash")?.map(from_sql),
            body: r.try_get::<Option<i64>, _>("body_hash")?.map(from_sql),
        },
    })
}

fn ts(ms: i64) -> Result<Timestamp> {
    Timestamp::from_millisecond(ms)
        .map_err(|e| Error::Corrupt(format!("ledger time {ms} ms out of range: {e}")))
}

/// A recipient's (and, when capped, their domain's) recent ledger rows.
async fn read_history(
    conn: &mut sqlx::AnyConnection,
    rcpt: &str,
    domain: &str,
    req: &SlotRequest<'_>,
) -> Result<History> {
    let rows = sqlx::query(
        "SELECT id, rcpt, message_id, sent_at, cold, subject_hash, body_hash \
         FROM sends WHERE rcpt = $1 AND sent_at >= $2 ORDER BY sent_at, id",
    )
    .bind(rcpt)
    .bind(req.since.as_millisecond())
    .fetch_all(&mut *conn)
    .await?;
    let mut history = History::default();
    for r in &rows {
        let row = ledger_row(r)?;
        history.rcpt.push(PastSend {
            at: row.sent_at,
            cold: row.cold,
            content: row.content,
        });
    }
    if let Some(since) = req.domain_since {
        let times: Vec<i64> = sqlx::query_scalar(
            "SELECT sent_at FROM sends WHERE rcpt_domain = $1 AND sent_at >= $2",
        )
        .bind(domain)
        .bind(since.as_millisecond())
        .fetch_all(&mut *conn)
        .await?;
        history.domain = times.into_iter().map(ts).collect::<Result<_>>()?;
    }
    Ok(history)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_hashes() {
        assert_eq!(
            rcpt_key(" Hans@Buyer.Example.DE "),
            ("hans@buyer.example.de".into(), "buyer.example.de".into())
        );
        for h in [0, 1, u64::MAX, 1 << 63] {
            assert_eq!(from_sql(to_sql(h)), h);
        }
        assert_ne!(lock_key("a.de"), lock_key("b.de"));
    }
}
