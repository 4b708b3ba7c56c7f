//! The audit log's SQL: appending to the chain inside a write transaction,
//! reading it back in order, and retention.
//!
//! Every append locks the chain's head row first (`FOR UPDATE` on
//! PostgreSQL; SQLite's write lock serialises anyway), so appenders on
//! every node take turns and each record links to the one before it. The
//! head is locked last in a transaction (after the queue rows it records),
//! and only for the insert and the commit. Knows the chain only through
//! [`crate::audit::chain`]; what the events mean is the caller's business.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::schema::Dialect;
use super::writer::{Cmd, Job};
use super::{Error, MessageId, Result, Store};
use crate::audit::chain::{Event, Head, Kind, Record};

/// Most records one read returns (verify and export page through).
pub const AUDIT_PAGE: usize = 1000;

const RECORD_COLUMNS: &str = "seq, at, kind, message, actor, fields, prev_hash, hash";

/// Records per INSERT statement (8 parameters each; well under SQLite's and
/// PostgreSQL's parameter limits).
const INSERT_CHUNK: usize = 100;

/// Appends `events` to the chain within `tx`, after locking its head.
pub(super) async fn append(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    dialect: Dialect,
    events: &[Event],
) -> std::result::Result<(), sqlx::Error> {
    if events.is_empty() {
        return Ok(());
    }
    let head = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT seq, hash FROM audit_head WHERE id = 1{}",
        dialect.head_lock()
    )))
    .fetch_one(&mut **tx)
    .await?;
    let mut seq: i64 = head.try_get("seq")?;
    let mut prev: String = head.try_get("hash")?;
    let mut records = Vec::with_capacity(events.len());
    for e in events {
        seq += 1;
        let r = Record::link(seq, &prev, e);
        prev = r.hash.clone();
        records.push(r);
    }
    // One statement per chunk: each statement is a round trip to the
    // database (on SQLite, to its worker thread), and those, not the hashing,
    // are what the log costs on the accept path.
    for chunk in records.chunks(INSERT_CHUNK) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let b = i * 8;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO audit_log (seq, at, kind, message, actor, fields, prev_hash, hash) VALUES {}",
            values.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for r in chunk {
            q = q
                .bind(r.seq)
                .bind(r.at_ms)
                .bind(r.kind.as_str())
                .bind(r.message)
                .bind(r.actor.as_str())
                .bind(r.fields.as_str())
                .bind(r.prev_hash.as_str())
                .bind(r.hash.as_str());
        }
        q.execute(&mut **tx).await?;
    }
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(seq)
        .bind(prev.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// What retention removed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Pruned {
    /// Records removed.
    pub removed: u64,
    /// The last removed seq (the new anchor), when any were.
    pub through_seq: Option<i64>,
}

impl Store {
    /// Appends events to the audit chain, durably, group-committed with the
    /// enqueues (no fsync of its own).
    pub async fn audit_append(&self, events: Vec<Event>) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        self.send_job(None, events, None).await.map(|_| ())
    }

    /// Stores a message like [`Store::enqueue`], with audit events in the
    /// same transaction: a queued message never exists without its record.
    /// Events without a message id get the new message's.
    pub async fn enqueue_audited(
        &self,
        msg: super::NewMessage,
        events: Vec<Event>,
    ) -> Result<(MessageId, Vec<super::DeliveryId>)> {
        self.send_job(Some(msg), events, None)
            .await?
            .ok_or_else(|| Error::CommitFailed("no id returned".into()))
    }

    /// Queues `copy`, the journal copy of message `of`, with its events,
    /// unless a copy of `of` was queued before: a message whose recipients
    /// get it at different hours is journaled once. `None` when it was.
    pub async fn enqueue_journal_copy(
        &self,
        of: MessageId,
        copy: super::NewMessage,
        events: Vec<Event>,
    ) -> Result<Option<MessageId>> {
        let stored = self.send_job(Some(copy), events, Some(of)).await?;
        Ok(stored.map(|(id, _)| id))
    }

    async fn send_job(
        &self,
        msg: Option<super::NewMessage>,
        audit: Vec<Event>,
        journal_of: Option<MessageId>,
    ) -> Result<super::writer::Stored> {
        if self.is_closed() {
            return Err(Error::Closed);
        }
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.writer()
            .send(Cmd::Enqueue(Box::new(Job {
                msg,
                audit,
                journal_of,
                reply,
            })))
            .await
            .map_err(|_| Error::Closed)?;
        answer.await.map_err(|_| Error::Closed)?
    }

    /// Commits a write that did something (`changed`) or nothing, with
    /// `record` appended first when it did: an operator's action and its
    /// record land together or not at all. Returns `changed`.
    pub(super) async fn commit_audited(
        &self,
        mut tx: sqlx::Transaction<'static, sqlx::Any>,
        changed: bool,
        record: Option<Event>,
    ) -> Result<bool> {
        if let Some(event) = record
            && changed
        {
            append(&mut tx, self.dialect(), &[event]).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// The chain's head and prune anchor.
    pub async fn audit_head(&self) -> Result<Head> {
        let r =
            sqlx::query("SELECT seq, hash, anchor_seq, anchor_hash FROM audit_head WHERE id = 1")
                .fetch_one(self.pool())
                .await?;
        Ok(Head {
            seq: r.try_get("seq")?,
            hash: r.try_get("hash")?,
            anchor_seq: r.try_get("anchor_seq")?,
            anchor_hash: r.try_get("anchor_hash")?,
        })
    }

    /// Up to `limit` records with `seq > after`, in order.
    pub async fn audit_records(&self, after: i64, limit: usize) -> Result<Vec<Record>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RECORD_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"
        )))
        .bind(after)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record).collect()
    }

    /// Up to `limit` records with `seq > after` and `since <= at < until`, in order.
    pub async fn audit_between(
        &self,
        since: Timestamp,
        until: Timestamp,
        after: i64,
        limit: usize,
    ) -> Result<Vec<Record>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RECORD_COLUMNS} FROM audit_log WHERE seq > $1 AND at >= $2 AND at < $3 \
             ORDER BY seq LIMIT $4"
        )))
        .bind(after)
        .bind(since.as_millisecond())
        .bind(until.as_millisecond())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record).collect()
    }

    /// The newest refusals given at the door (RCPT or end of DATA): they
    /// have no queue message, so the audit log is their only trace.
    pub async fn audit_door_refusals(&self, limit: usize) -> Result<Vec<Record>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RECORD_COLUMNS} FROM audit_log WHERE kind = 'refused' AND message IS NULL \
             ORDER BY seq DESC LIMIT $1"
        )))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record).collect()
    }

    /// Records whose fields contain `needle` (a coarse pre-filter: the
    /// caller checks the fields properly), up to `limit`, in order.
    pub async fn audit_containing(&self, needle: &str, limit: usize) -> Result<Vec<Record>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RECORD_COLUMNS} FROM audit_log WHERE fields LIKE $1 ORDER BY seq LIMIT $2"
        )))
        .bind(format!("%{needle}%"))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record).collect()
    }

    /// Every record about queue messages `ids`, in order.
    pub async fn audit_of_messages(&self, ids: &[i64]) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let list = super::sql::placeholders(1, chunk.len());
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {RECORD_COLUMNS} FROM audit_log WHERE message IN ({list}) ORDER BY seq"
            )));
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(self.pool()).await? {
                out.push(record(&r)?);
            }
        }
        out.sort_by_key(|r| r.seq);
        out.dedup_by_key(|r| r.seq);
        Ok(out)
    }

    /// Retention: removes the oldest records from before `before`, at most
    /// `limit` of them, in one transaction that also moves the prune anchor
    /// to the last removed record and appends a `pruned` record naming it,
    /// so what is kept still verifies and the anchor is itself attested by
    /// the chain. The chain's head is locked meanwhile, so appenders wait:
    /// a bounded batch keeps that wait short (call again while it removes
    /// `limit`).
    pub async fn audit_prune(
        &self,
        before: Timestamp,
        now: Timestamp,
        limit: usize,
    ) -> Result<Pruned> {
        let dialect = self.dialect();
        let mut tx = self.pool().begin_with(dialect.begin_write()).await?;
        // The head first: the same lock order as every appender.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT seq FROM audit_head WHERE id = 1{}",
            dialect.head_lock()
        )))
        .fetch_one(&mut *tx)
        .await?;
        let last: Option<(i64, String)> = sqlx::query(
            "SELECT seq, hash FROM audit_log WHERE seq = (SELECT MAX(seq) FROM \
             (SELECT seq FROM audit_log WHERE at < $1 ORDER BY seq LIMIT $2) AS old)",
        )
        .bind(before.as_millisecond())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| Ok::<_, sqlx::Error>((r.try_get("seq")?, r.try_get("hash")?)))
        .transpose()?;
        let Some((through, hash)) = last else {
            tx.rollback().await?;
            return Ok(Pruned {
                removed: 0,
                through_seq: None,
            });
        };
        let removed = sqlx::query("DELETE FROM audit_log WHERE seq <= $1")
            .bind(through)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("UPDATE audit_head SET anchor_seq = $1, anchor_hash = $2 WHERE id = 1")
            .bind(through)
            .bind(hash.as_str())
            .execute(&mut *tx)
            .await?;
        let event = Event::new(
            now,
            Kind::Pruned,
            "retention",
            serde_json::json!({
                "through_seq": through,
                "hash": hash,
                "removed": removed,
                "before": before.to_string(),
            }),
        );
        append(&mut tx, dialect, &[event]).await?;
        tx.commit().await?;
        Ok(Pruned {
            removed,
            through_seq: Some(through),
        })
    }
}

fn record(r: &AnyRow) -> Result<Record> {
    Ok(Record {
        seq: r.try_get("seq")?,
        at_ms: r.try_get("at")?,
        kind: r.try_get("kind")?,
        message: r.try_get("message")?,
        actor: r.try_get("actor")?,
        fields: r.try_get("fields")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}
