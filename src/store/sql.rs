//! The SQL behind [`Store`]: one implementation over `sqlx::Any` for SQLite
//! and PostgreSQL.
//!
//! Queries stay in the common subset (`$N` placeholders, `RETURNING`, times
//! as i64 milliseconds, flags as 0/1 integers); the differences are in
//! [`Dialect`]. Enqueues go through the group-commit writer (`writer.rs`);
//! everything else runs on the pool directly. Knows nothing of SMTP, policy
//! or how a courier uses its claims.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use jiff::Timestamp;
use sqlx::AnyPool;
use sqlx::Row;
use sqlx::any::{AnyPoolOptions, AnyRow};
use tokio::sync::{mpsc, oneshot};

use super::schema::{self, Dialect};
use super::writer::{self, Cmd, Counters};
use super::*;
use crate::audit::chain::{Event, Kind};

/// Most deliveries one [`Store::claim_due`] call takes (bounds the `IN (…)`
/// list of the follow-up query well under both databases' parameter limits).
pub const MAX_CLAIM: usize = 1000;

/// How long a SQLite connection waits for another writer before giving up
/// with `SQLITE_BUSY`. Writers hold the lock for one commit (milliseconds);
/// this only runs out when something is badly wrong.
const SQLITE_BUSY_TIMEOUT_MS: u64 = 10_000;

/// A delivery is claimable when it is due, or when the courier that claimed
/// it let its lease run out (crashed or hung). `$3` is now.
const CLAIMABLE: &str = "((state IN ('queued', 'deferred') AND deliver_at <= $3) \
                         OR (state = 'delivering' AND lease_until < $3))";

/// The due half of [`CLAIMABLE`]. Written exactly as the partial index
/// `deliveries_waiting (deliver_at, id) WHERE state IN ('queued',
/// 'deferred')` is (SQLite uses a partial index only for the same terms):
/// the claim reads that index in order and stops after `$4` rows, so it
/// costs the same however many copies are finished, wait for later, or are
/// due behind the ones it takes.
const DUE: &str = "state IN ('queued', 'deferred') AND deliver_at <= $3";

/// The other half: copies whose courier let the lease run out (few: the
/// copies being sent right now).
const LAPSED: &str = "state = 'delivering' AND lease_until < $3";

/// The columns a claim returns.
const CLAIM_RETURNING: &str =
    "id, message_id, rcpt, attempts, first_due_at, delay_notified, deliver_at, route";

/// The claim statement; `routes`, when not empty, is one more condition on
/// the copies it may pick (see [`RouteFilter`]), on placeholders from `$5`.
///
/// The pick takes the oldest `$4` of each half apart and then the oldest
/// `$4` of both: with one `WHERE due OR lapsed`, both databases collect
/// every due row and sort them all, so a backlog (a morning's mail held for
/// business hours, a paused provider) made each claim slower the longer it
/// was (SQLite: 3 ms with 100 due copies, 31 ms with 10,000).
fn claim_sql(dialect: Dialect, routes: &str) -> String {
    let (claimable, also) = if routes.is_empty() {
        (CLAIMABLE.to_string(), String::new())
    } else {
        (
            format!("{CLAIMABLE} AND {routes}"),
            format!(" AND {routes}"),
        )
    };
    let lock = dialect.claim_lock();
    let half = |name: &str, index: &str, condition: &str| {
        format!(
            "SELECT id, deliver_at FROM (SELECT id, deliver_at FROM deliveries{index} \
             WHERE {condition}{also} ORDER BY deliver_at, id LIMIT $4{lock}) AS {name}"
        )
    };
    let pick = format!(
        "SELECT id FROM ({} UNION ALL {}) AS picked ORDER BY deliver_at, id LIMIT $4",
        half("due", dialect.waiting_index(), DUE),
        half("lapsed", "", LAPSED)
    );
    format!(
        "UPDATE deliveries SET state = 'delivering', owner = $1, lease_until = $2, updated_at = $3 \
         WHERE {target} {recheck} \
         RETURNING {CLAIM_RETURNING}",
        target = match dialect {
            Dialect::Sqlite => format!("id IN ({pick})"),
            // An array built once (an InitPlan): with `id IN (subquery)`
            // PostgreSQL may plan a join that runs the LIMITed, SKIP LOCKED
            // pick more than once and claims more rows than asked (seen
            // once the deliveries_owner index existed: 2 claimed for 1).
            Dialect::Postgres => format!("id = ANY(ARRAY({pick}))"),
        },
        recheck = match dialect {
            // SQLite runs the statement under its single write lock, so
            // nothing can change between pick and update; a recheck here
            // only makes the planner scan the due rows a second time
            // instead of updating by rowid.
            Dialect::Sqlite => String::new(),
            Dialect::Postgres => format!("AND {claimable}"),
        }
    )
}

/// The queue. Cheap to clone (a pool handle inside).
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    pool: AnyPool,
    dialect: Dialect,
    writer: mpsc::Sender<Cmd>,
    closed: AtomicBool,
    counters: Arc<Counters>,
    claim_sql: String,
}

/// What the group-commit writer has done since [`Store::open`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StoreStats {
    /// Enqueue transactions committed (each one fsync on SQLite).
    pub commits: u64,
    /// Messages those commits held.
    pub messages: u64,
    /// Batches that failed as a whole (their messages were retried singly or refused).
    pub failed_batches: u64,
}

impl Store {
    /// Connects (creating the SQLite file and its folder when needed) and
    /// brings the schema up to date.
    pub async fn open(url: &str, max_connections: u32) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let dialect = Dialect::from_url(url)?;
        let url = match dialect {
            Dialect::Sqlite => prepare_sqlite_url(url)?,
            Dialect::Postgres => url.to_string(),
        };
        let mut options = AnyPoolOptions::new().max_connections(max_connections.max(1));
        if dialect == Dialect::Sqlite {
            options = options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    // Per connection: these pragmas are not stored in the file
                    // (except WAL, which is cheap to restate). FULL makes each
                    // commit durable before `enqueue` returns, and a 250 waits
                    // for that.
                    let busy = format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}");
                    sqlx::query(sqlx::AssertSqlSafe(busy))
                        .execute(&mut *conn)
                        .await?;
                    for pragma in [
                        "PRAGMA journal_mode = WAL",
                        "PRAGMA synchronous = FULL",
                        "PRAGMA foreign_keys = ON",
                    ] {
                        sqlx::query(pragma).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            });
        }
        let pool = options.connect(&url).await?;
        schema::migrate(&pool, dialect).await?;

        let counters = Arc::new(Counters::default());
        let (tx, rx) = mpsc::channel(writer::QUEUE_DEPTH);
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let writers = match dialect {
            Dialect::Sqlite => 1,
            Dialect::Postgres => writer::POSTGRES_WRITERS.min(max_connections / 2).max(1),
        };
        for _ in 0..writers {
            tokio::spawn(writer::run(
                pool.clone(),
                dialect,
                rx.clone(),
                counters.clone(),
            ));
        }
        let claim_sql = claim_sql(dialect, "");
        Ok(Store {
            inner: Arc::new(Inner {
                pool,
                dialect,
                writer: tx,
                closed: AtomicBool::new(false),
                counters,
                claim_sql,
            }),
        })
    }

    /// The pool, for the store's other query files (ledger, suppression).
    pub(super) fn pool(&self) -> &AnyPool {
        &self.inner.pool
    }

    /// A transaction that will write (see [`Dialect::begin_write`]).
    pub(super) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(self
            .inner
            .pool
            .begin_with(self.inner.dialect.begin_write())
            .await?)
    }

    /// Which database this store talks to.
    pub fn dialect(&self) -> Dialect {
        self.inner.dialect
    }

    /// Group-commit counters since `open` (for measurements and metrics).
    pub fn stats(&self) -> StoreStats {
        let c = &self.inner.counters;
        StoreStats {
            commits: c.commits.load(Ordering::Relaxed),
            messages: c.messages.load(Ordering::Relaxed),
            failed_batches: c.failed_batches.load(Ordering::Relaxed),
        }
    }

    /// Stores a message and its deliveries; returns once durably committed.
    pub async fn enqueue(&self, msg: NewMessage) -> Result<(MessageId, Vec<DeliveryId>)> {
        self.enqueue_audited(msg, Vec::new()).await
    }

    /// Whether [`Store::close`] has begun.
    pub(super) fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Acquire)
    }

    /// The group-commit writer's inbox.
    pub(super) fn writer(&self) -> &mpsc::Sender<Cmd> {
        &self.inner.writer
    }

    /// Claims up to `limit` due deliveries (state queued/deferred with
    /// `deliver_at <= now`, or delivering with an expired lease) for `owner`
    /// until `now + lease`.
    pub async fn claim_due(
        &self,
        owner: &str,
        now: Timestamp,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<Claimed>> {
        self.claim_due_routes(owner, now, lease, limit, &RouteFilter::All)
            .await
    }

    /// [`Store::claim_due`], of the routes `routes` lets through. With
    /// [`RouteFilter::All`] (no route paused) it is the same statement.
    pub async fn claim_due_routes(
        &self,
        owner: &str,
        now: Timestamp,
        lease: Duration,
        limit: usize,
        routes: &RouteFilter,
    ) -> Result<Vec<Claimed>> {
        let limit = limit.min(MAX_CLAIM);
        if limit == 0 {
            return Ok(Vec::new());
        }
        let now_ms = now.as_millisecond();
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
        // One statement. On PostgreSQL the inner SELECT locks what it picks
        // (skipping rows another claimer holds) and the outer WHERE
        // re-checks, so a row another node took in between is left alone;
        // SQLite runs the whole statement under its one write lock.
        let (sql, names): (std::borrow::Cow<'_, str>, &[String]) = match routes {
            RouteFilter::All => (self.inner.claim_sql.as_str().into(), &[]),
            RouteFilter::Except(names) if names.is_empty() => {
                (self.inner.claim_sql.as_str().into(), &[])
            }
            RouteFilter::Except(names) => (
                claim_sql(
                    self.inner.dialect,
                    &format!("route NOT IN ({})", placeholders(5, names.len())),
                )
                .into(),
                names.as_slice(),
            ),
            RouteFilter::Only(name) => (
                claim_sql(self.inner.dialect, "route = $5").into(),
                std::slice::from_ref(name),
            ),
        };
        // Only placeholders are put into the text.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.into_owned()))
            .bind(owner)
            .bind(now_ms.saturating_add(lease_ms))
            .bind(now_ms)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX));
        for n in names {
            q = q.bind(n.as_str());
        }
        let rows = q.fetch_all(&self.inner.pool).await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        struct Picked {
            id: i64,
            message_id: i64,
            rcpt: String,
            attempts: i64,
            first_due_at: i64,
            delay_notified: i64,
            deliver_at: i64,
            route: String,
        }
        let mut picked = Vec::with_capacity(rows.len());
        for r in &rows {
            picked.push(Picked {
                id: r.try_get("id")?,
                message_id: r.try_get("message_id")?,
                rcpt: r.try_get("rcpt")?,
                attempts: r.try_get("attempts")?,
                first_due_at: r.try_get("first_due_at")?,
                delay_notified: r.try_get("delay_notified")?,
                deliver_at: r.try_get("deliver_at")?,
                route: r.try_get("route")?,
            });
        }
        // RETURNING has no defined order.
        picked.sort_by_key(|p| (p.deliver_at, p.id));

        let mut message_ids: Vec<i64> = picked.iter().map(|p| p.message_id).collect();
        message_ids.sort_unstable();
        message_ids.dedup();
        let sql = format!(
            "SELECT id, mail_from, received_at FROM messages WHERE id IN ({})",
            placeholders(1, message_ids.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in &message_ids {
            q = q.bind(*id);
        }
        let mut senders = std::collections::HashMap::with_capacity(message_ids.len());
        for r in q.fetch_all(&self.inner.pool).await? {
            let id: i64 = r.try_get("id")?;
            let mail_from: String = r.try_get("mail_from")?;
            let received_at: i64 = r.try_get("received_at")?;
            senders.insert(id, (mail_from, ts(received_at)?));
        }
        let mut out = Vec::with_capacity(picked.len());
        for p in picked {
            let (mail_from, received_at) =
                senders.get(&p.message_id).cloned().ok_or_else(|| {
                    Error::Corrupt(format!(
                        "delivery {} points at missing message {}",
                        p.id, p.message_id
                    ))
                })?;
            out.push(Claimed {
                id: DeliveryId(p.id),
                message_id: MessageId(p.message_id),
                rcpt: p.rcpt,
                mail_from,
                attempts: u32::try_from(p.attempts.max(0)).unwrap_or(u32::MAX),
                received_at,
                first_due_at: ts(p.first_due_at)?,
                delay_notified: p.delay_notified != 0,
                route: p.route,
            });
        }
        Ok(out)
    }

    /// The plan the database chooses for the claim at `now` (PostgreSQL's
    /// `EXPLAIN`, SQLite's `EXPLAIN QUERY PLAN`), one line per step: to check
    /// that claiming reads only due rows however many others there are.
    pub async fn explain_claim(&self, now: Timestamp) -> Result<Vec<String>> {
        let (sql, column) = match self.inner.dialect {
            Dialect::Sqlite => (
                format!("EXPLAIN QUERY PLAN {}", self.inner.claim_sql),
                "detail",
            ),
            Dialect::Postgres => (format!("EXPLAIN {}", self.inner.claim_sql), "QUERY PLAN"),
        };
        let now_ms = now.as_millisecond();
        // The statement's own text with placeholders bound: nothing runs.
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind("explain")
            .bind(now_ms)
            .bind(now_ms)
            .bind(i64::try_from(MAX_CLAIM).unwrap_or(i64::MAX))
            .fetch_all(&self.inner.pool)
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>(column)?))
            .collect()
    }

    /// The stored bytes of a message.
    pub async fn message_data(&self, id: MessageId) -> Result<Vec<u8>> {
        let row: Option<(Vec<u8>, i64)> =
            sqlx::query_as("SELECT data, size FROM messages WHERE id = $1")
                .bind(id.0)
                .fetch_optional(&self.inner.pool)
                .await?;
        let (data, size) = row.ok_or(Error::NoSuchMessage(id))?;
        let size = usize::try_from(size).unwrap_or(0);
        if data.len() >= size {
            return Ok(data);
        }
        // Stored in parts: read them one by one into one buffer, so only one
        // part at a time is held twice.
        let mut body = Vec::with_capacity(size);
        let mut seq: i64 = 0;
        while body.len() < size {
            let part: Option<Vec<u8>> = sqlx::query_scalar(
                "SELECT data FROM message_parts WHERE message_id = $1 AND seq = $2",
            )
            .bind(id.0)
            .bind(seq)
            .fetch_optional(&self.inner.pool)
            .await?;
            let Some(part) = part else {
                return Err(Error::Corrupt(format!(
                    "message {id}: part {seq} of its body is missing"
                )));
            };
            body.extend_from_slice(&part);
            seq += 1;
        }
        Ok(body)
    }

    /// Records outcomes of claimed deliveries in one transaction, with an
    /// audit record (actor: `owner`) for each one that landed. Outcomes for
    /// deliveries `owner` no longer holds (lease lost) are ignored.
    pub async fn finish(&self, owner: &str, outcomes: &[Outcome], now: Timestamp) -> Result<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let now_ms = now.as_millisecond();
        let mut tx = self
            .inner
            .pool
            .begin_with(self.inner.dialect.begin_write())
            .await?;
        let mut events = Vec::with_capacity(outcomes.len());
        for outcome in outcomes {
            let q = match outcome {
                Outcome::Delivered { id, reply } => final_update(DeliveryState::Delivered, *id, reply, now_ms, owner),
                Outcome::Bounced { id, reply } => final_update(DeliveryState::Bounced, *id, reply, now_ms, owner),
                Outcome::Deferred { id, reply, retry_at, delay_notified } => sqlx::query(
                    "UPDATE deliveries SET state = 'deferred', attempts = attempts + 1, deliver_at = $1, wait = NULL, \
                     delay_notified = $2, last_reply = $3, owner = NULL, lease_until = NULL, updated_at = $4 \
                     WHERE id = $5 AND owner = $6 AND state = 'delivering' \
                     RETURNING message_id, rcpt, attempts, route",
                )
                .bind(retry_at.as_millisecond())
                .bind(i64::from(*delay_notified))
                .bind(reply.as_str())
                .bind(now_ms)
                .bind(id.0)
                .bind(owner),
            };
            if let Some(row) = q.fetch_optional(&mut *tx).await? {
                events.push(outcome_event(outcome, &row, owner, now)?);
            }
        }
        super::audit::append(&mut tx, self.inner.dialect, &events).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Gives back every claim `owner` holds (clean shutdown).
    pub async fn release_claims(&self, owner: &str, now: Timestamp) -> Result<u64> {
        self.release(Some(owner), now).await
    }

    /// Gives back every claim, whoever holds it. Only right when no other
    /// process can hold claims: a node starting on its own SQLite file, whose
    /// claims can only be left over from a crash of its predecessor (which
    /// would otherwise wait out their leases).
    pub async fn release_all_claims(&self, now: Timestamp) -> Result<u64> {
        self.release(None, now).await
    }

    async fn release(&self, owner: Option<&str>, now: Timestamp) -> Result<u64> {
        let now = now.as_millisecond();
        let done = match owner {
            Some(owner) => {
                sqlx::query(
                    "UPDATE deliveries SET state = CASE WHEN attempts > 0 THEN 'deferred' ELSE 'queued' END, \
                     owner = NULL, lease_until = NULL, updated_at = $1 WHERE state = 'delivering' AND owner = $2",
                )
                .bind(now)
                .bind(owner)
                .execute(&self.inner.pool)
                .await?
            }
            None => {
                sqlx::query(
                    "UPDATE deliveries SET state = CASE WHEN attempts > 0 THEN 'deferred' ELSE 'queued' END, \
                     owner = NULL, lease_until = NULL, updated_at = $1 WHERE state = 'delivering'",
                )
                .bind(now)
                .execute(&self.inner.pool)
                .await?
            }
        };
        Ok(done.rows_affected())
    }

    /// The earliest `deliver_at` (or lease expiry) of anything claimable.
    pub async fn next_due(&self) -> Result<Option<Timestamp>> {
        // Three scalar subqueries so each is a single index probe.
        let row = sqlx::query(
            "SELECT (SELECT MIN(deliver_at) FROM deliveries WHERE state = 'queued') AS q, \
                    (SELECT MIN(deliver_at) FROM deliveries WHERE state = 'deferred') AS d, \
                    (SELECT MIN(lease_until) FROM deliveries WHERE state = 'delivering') AS l",
        )
        .fetch_one(&self.inner.pool)
        .await?;
        let q: Option<i64> = row.try_get("q")?;
        let d: Option<i64> = row.try_get("d")?;
        // Claimable once the lease is strictly in the past.
        let l: Option<i64> = row
            .try_get::<Option<i64>, _>("l")?
            .map(|l| l.saturating_add(1));
        [q, d, l].into_iter().flatten().min().map(ts).transpose()
    }

    /// Deliveries, newest first, optionally of one state.
    pub async fn list(
        &self,
        state: Option<DeliveryState>,
        limit: usize,
    ) -> Result<Vec<DeliveryRow>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = match state {
            Some(state) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{DELIVERY_ROW_SELECT} WHERE d.state = $1 ORDER BY d.id DESC LIMIT $2"
                )))
                .bind(state.as_str())
                .bind(limit)
                .fetch_all(&self.inner.pool)
                .await?
            }
            None => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{DELIVERY_ROW_SELECT} ORDER BY d.id DESC LIMIT $1"
                )))
                .bind(limit)
                .fetch_all(&self.inner.pool)
                .await?
            }
        };
        rows.iter().map(delivery_row).collect()
    }

    /// One message with its deliveries.
    pub async fn message(&self, id: MessageId) -> Result<Option<MessageRow>> {
        let Some(r) = sqlx::query(
            "SELECT id, mail_from, received_at, client, auth_user, message_id_header, subject, size, report \
             FROM messages WHERE id = $1",
        )
        .bind(id.0)
        .fetch_optional(&self.inner.pool)
        .await?
        else {
            return Ok(None);
        };
        let deliveries = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{DELIVERY_ROW_SELECT} WHERE d.message_id = $1 ORDER BY d.id"
        )))
        .bind(id.0)
        .fetch_all(&self.inner.pool)
        .await?
        .iter()
        .map(delivery_row)
        .collect::<Result<Vec<_>>>()?;
        Ok(Some(MessageRow {
            id: MessageId(r.try_get("id")?),
            mail_from: r.try_get("mail_from")?,
            received_at: ts(r.try_get("received_at")?)?,
            client: r.try_get("client")?,
            auth_user: r.try_get("auth_user")?,
            message_id_header: r.try_get("message_id_header")?,
            subject: subject(&r)?,
            size: u64::try_from(r.try_get::<i64, _>("size")?).unwrap_or(0),
            report: r.try_get("report")?,
            deliveries,
        }))
    }

    /// Makes every waiting delivery of a message (queued or deferred) due now
    /// (attempts kept). Held copies wait for a reviewer ([`Store::release_held`])
    /// and copies in flight keep their lease, so neither is touched.
    pub async fn retry(&self, id: MessageId, now: Timestamp, record: Option<Event>) -> Result<u64> {
        self.admin_update(
            id,
            "UPDATE deliveries SET deliver_at = $2, wait = NULL, updated_at = $2 \
             WHERE message_id = $1 AND state IN ('queued', 'deferred')",
            now,
            None,
            record,
        )
        .await
    }

    /// Marks every non-final delivery of a message dropped. A copy in flight
    /// is dropped too; its courier's later `finish` is then ignored.
    pub async fn drop_message(
        &self,
        id: MessageId,
        now: Timestamp,
        record: Option<Event>,
    ) -> Result<u64> {
        self.admin_update(
            id,
            "UPDATE deliveries SET state = 'dropped', owner = NULL, lease_until = NULL, updated_at = $2 \
             WHERE message_id = $1 AND state IN ('queued', 'deferred', 'delivering', 'held')",
            now,
            None,
            record,
        )
        .await
    }

    /// Every held delivery of a message goes on to the queue, due `now`
    /// (operators release through `ops::release`, which plans each time).
    pub async fn release_held(
        &self,
        id: MessageId,
        now: Timestamp,
        record: Option<Event>,
    ) -> Result<u64> {
        let m = self.message(id).await?.ok_or(Error::NoSuchMessage(id))?;
        let plans: Vec<(String, Timestamp, Option<Wait>)> = m
            .deliveries
            .into_iter()
            .filter(|d| d.state == DeliveryState::Held)
            .map(|d| (d.rcpt, now, None))
            .collect();
        self.release_held_at(id, &plans, now, record).await
    }

    /// Held deliveries of a message go on to the queue, each due at its
    /// planned time (`plans`: recipient, time and why it waits), in one
    /// transaction with the record. Returns how many copies were released.
    pub async fn release_held_at(
        &self,
        id: MessageId,
        plans: &[(String, Timestamp, Option<Wait>)],
        now: Timestamp,
        record: Option<Event>,
    ) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        must_exist(&mut tx, id).await?;
        let mut n = 0;
        for (rcpt, at, wait) in plans {
            n += sqlx::query(
                "UPDATE deliveries SET state = 'queued', deliver_at = $3, first_due_at = $3, updated_at = $4, \
                 wait = $5 WHERE message_id = $1 AND rcpt = $2 AND state = 'held'",
            )
            .bind(id.0)
            .bind(rcpt.as_str())
            .bind(at.as_millisecond())
            .bind(now.as_millisecond())
            .bind(wait.as_ref().map(Wait::code))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        self.commit_audited(tx, n > 0, record.map(|e| e.with("copies", n)))
            .await?;
        Ok(n)
    }

    /// Held deliveries of a message become rejected, with the reason as last reply.
    pub async fn reject_held(
        &self,
        id: MessageId,
        reason: &str,
        now: Timestamp,
        record: Option<Event>,
    ) -> Result<u64> {
        self.admin_update(
            id,
            "UPDATE deliveries SET state = 'rejected', last_reply = $3, updated_at = $2 \
             WHERE message_id = $1 AND state = 'held'",
            now,
            Some(reason),
            record,
        )
        .await
    }

    /// Withdraws held copies a resend replaces: copies still held, of other
    /// messages than `by`, from `mail_from` to one of `rcpts`, whose subject
    /// is `subject` (compared without case or surrounding space). They become
    /// `superseded`, with a `superseded` record naming the new message, in
    /// one transaction. Returns the withdrawn (message, recipient) pairs.
    pub async fn supersede_held(
        &self,
        mail_from: &str,
        rcpts: &[&str],
        subject: Option<&str>,
        by: &[MessageId],
        now: Timestamp,
    ) -> Result<Vec<(MessageId, String)>> {
        let Some(subject) = subject.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(Vec::new());
        };
        if rcpts.is_empty() || by.is_empty() {
            return Ok(Vec::new());
        }
        // Read first, outside a write transaction: nearly always nothing is
        // held for this sender, and the hot path must not take the write lock.
        let candidates = sqlx::query(
            "SELECT d.id FROM deliveries d JOIN messages m ON m.id = d.message_id \
             WHERE d.state = 'held' AND m.mail_from = $1 LIMIT 1",
        )
        .bind(mail_from)
        .fetch_optional(&self.inner.pool)
        .await?;
        if candidates.is_none() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "SELECT d.id, d.message_id, d.rcpt, m.subject FROM deliveries d \
             JOIN messages m ON m.id = d.message_id \
             WHERE d.state = 'held' AND m.mail_from = $1",
        )
        .bind(mail_from)
        .fetch_all(&mut *tx)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let message = MessageId(r.try_get("message_id")?);
            let rcpt: String = r.try_get("rcpt")?;
            let theirs: Option<String> = r.try_get("subject")?;
            let same_subject = theirs.is_some_and(|t| {
                crate::message::headers::decode(t.trim()).to_lowercase() == subject.to_lowercase()
            });
            if by.contains(&message)
                || !same_subject
                || !rcpts.iter().any(|x| x.eq_ignore_ascii_case(&rcpt))
            {
                continue;
            }
            let id: i64 = r.try_get("id")?;
            sqlx::query(
                "UPDATE deliveries SET state = 'superseded', last_reply = $2, updated_at = $3 \
                 WHERE id = $1 AND state = 'held'",
            )
            .bind(id)
            .bind(format!("superseded by message {} (sent again)", by[0]))
            .bind(now.as_millisecond())
            .execute(&mut *tx)
            .await?;
            out.push((message, rcpt));
        }
        let mut events = Vec::new();
        let mut messages: Vec<MessageId> = out.iter().map(|(m, _)| *m).collect();
        messages.dedup();
        for m in messages {
            let which: Vec<&str> = out
                .iter()
                .filter(|(x, _)| *x == m)
                .map(|(_, r)| r.as_str())
                .collect();
            events.push(
                Event::new(
                    now,
                    Kind::Superseded,
                    "sendwell",
                    serde_json::json!({"by": by[0].0, "rcpts": which}),
                )
                .about(m),
            );
        }
        if !events.is_empty() {
            super::audit::append(&mut tx, self.dialect(), &events).await?;
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Deletes up to `limit` messages whose every copy is final (delivered,
    /// bounced, rejected, dropped) and last changed before `before`, with
    /// their copies. Held and waiting mail is never touched. Returns how
    /// many messages went; call again until it returns less than `limit`.
    pub async fn prune_finished(&self, before: Timestamp, limit: usize) -> Result<u64> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut tx = self.begin_write().await?;
        // received_at narrows by index first: a message finishes after it
        // arrives, so one finished before `before` arrived before it too.
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT m.id FROM messages m WHERE m.received_at < $1 AND NOT EXISTS \
             (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND \
              (d.state NOT IN ('delivered', 'bounced', 'rejected', 'dropped', 'superseded') OR d.updated_at >= $1)) \
             ORDER BY m.id LIMIT $2",
        )
        .bind(before.as_millisecond())
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        if ids.is_empty() {
            return Ok(0);
        }
        let list = placeholders(1, ids.len());
        for table in [
            "deliveries WHERE message_id",
            "message_parts WHERE message_id",
            "advice_due WHERE message_id",
            "messages WHERE id",
        ] {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} IN ({list})"
            )));
            for id in &ids {
                q = q.bind(*id);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(ids.len() as u64)
    }

    /// How many deliveries are in each state (every state, zeros included,
    /// in [`DeliveryState::ALL`] order).
    pub async fn counts(&self) -> Result<Vec<(DeliveryState, u64)>> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state")
            .fetch_all(&self.inner.pool)
            .await?;
        let mut out: Vec<(DeliveryState, u64)> =
            DeliveryState::ALL.iter().map(|s| (*s, 0)).collect();
        for r in rows {
            let state: String = r.try_get("state")?;
            let n: i64 = r.try_get("n")?;
            let state = parse_state(&state)?;
            if let Some(slot) = out.iter_mut().find(|(s, _)| *s == state) {
                slot.1 = u64::try_from(n).unwrap_or(0);
            }
        }
        Ok(out)
    }

    /// Delivered copies of sendwell's own mail (notices, delivery reports,
    /// journal copies: the null envelope sender), which the overview counts
    /// apart from the sellers' mail.
    pub async fn own_mail_delivered(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM deliveries d JOIN messages m ON m.id = d.message_id \
             WHERE d.state = 'delivered' AND m.mail_from = ''",
        )
        .fetch_one(&self.inner.pool)
        .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Waits for pending writes and closes the pool.
    pub async fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        let (ack, done) = oneshot::channel();
        if self.inner.writer.send(Cmd::Close(ack)).await.is_ok() {
            // Everything sent before the Close is written (or refused) first.
            let _ = done.await;
        }
        self.inner.pool.close().await;
    }

    /// Runs one admin UPDATE (`$1` message id, `$2` now, `$3` optional text)
    /// in a transaction that first checks the message exists. The operator's
    /// `record`, when the update changed anything, is appended to the audit
    /// log in that same transaction (with `copies`): an action is never
    /// without its record, nor a record without its action.
    async fn admin_update(
        &self,
        id: MessageId,
        sql: &'static str,
        now: Timestamp,
        text: Option<&str>,
        record: Option<Event>,
    ) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        must_exist(&mut tx, id).await?;
        let mut q = sqlx::query(sql).bind(id.0).bind(now.as_millisecond());
        if let Some(text) = text {
            q = q.bind(text);
        }
        let n = q.execute(&mut *tx).await?.rows_affected();
        self.commit_audited(tx, n > 0, record.map(|e| e.with("copies", n)))
            .await?;
        Ok(n)
    }
}

/// `NoSuchMessage` unless the message is there (inside an operator's write).
async fn must_exist(tx: &mut sqlx::Transaction<'static, sqlx::Any>, id: MessageId) -> Result<()> {
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM messages WHERE id = $1")
        .bind(id.0)
        .fetch_optional(&mut **tx)
        .await?;
    exists.map(|_| ()).ok_or(Error::NoSuchMessage(id))
}

pub(super) const DELIVERY_ROW_SELECT: &str = "SELECT d.id, d.message_id, m.mail_from, d.rcpt, d.state, d.deliver_at, \
     d.wait, d.attempts, d.last_reply, d.updated_at, m.subject, d.route \
     FROM deliveries d JOIN messages m ON m.id = d.message_id";

pub(super) fn delivery_row(r: &AnyRow) -> Result<DeliveryRow> {
    Ok(DeliveryRow {
        id: DeliveryId(r.try_get("id")?),
        message_id: MessageId(r.try_get("message_id")?),
        mail_from: r.try_get("mail_from")?,
        rcpt: r.try_get("rcpt")?,
        state: parse_state(&r.try_get::<String, _>("state")?)?,
        deliver_at: ts(r.try_get("deliver_at")?)?,
        wait: r
            .try_get::<Option<String>, _>("wait")?
            .as_deref()
            .and_then(Wait::parse),
        attempts: u32::try_from(r.try_get::<i64, _>("attempts")?.max(0)).unwrap_or(u32::MAX),
        last_reply: r.try_get("last_reply")?,
        updated_at: ts(r.try_get("updated_at")?)?,
        subject: subject(r)?,
        route: r.try_get("route")?,
    })
}

fn final_update<'q>(
    state: DeliveryState,
    id: DeliveryId,
    reply: &'q str,
    now_ms: i64,
    owner: &'q str,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(
        "UPDATE deliveries SET state = $1, last_reply = $2, owner = NULL, lease_until = NULL, updated_at = $3 \
         WHERE id = $4 AND owner = $5 AND state = 'delivering' \
         RETURNING message_id, rcpt, attempts, route",
    )
    .bind(state.as_str())
    .bind(reply)
    .bind(now_ms)
    .bind(id.0)
    .bind(owner)
}

/// The audit record of an outcome that landed (`row`: the delivery's
/// message id, recipient and attempts after the update).
fn outcome_event(outcome: &Outcome, row: &AnyRow, owner: &str, now: Timestamp) -> Result<Event> {
    let message = MessageId(row.try_get("message_id")?);
    let rcpt: String = row.try_get("rcpt")?;
    let attempts: i64 = row.try_get("attempts")?;
    let route: String = row.try_get("route")?;
    let (kind, fields) = match outcome {
        Outcome::Delivered { reply, .. } => (
            Kind::Delivered,
            serde_json::json!({"rcpt": rcpt, "reply": reply}),
        ),
        Outcome::Bounced { reply, .. } => (
            Kind::Bounced,
            serde_json::json!({"rcpt": rcpt, "reply": reply}),
        ),
        Outcome::Deferred {
            reply, retry_at, ..
        } => (
            Kind::Deferred,
            serde_json::json!({
                "rcpt": rcpt,
                "reply": reply,
                "until": retry_at.to_string(),
                "attempts": attempts,
            }),
        ),
    };
    Ok(Event::new(now, kind, owner, fields)
        .with("route", route)
        .about(message))
}

pub(super) fn ts(ms: i64) -> Result<Timestamp> {
    Timestamp::from_millisecond(ms)
        .map_err(|e| Error::Corrupt(format!("time {ms} ms out of range: {e}")))
}

pub(super) fn parse_state(s: &str) -> Result<DeliveryState> {
    DeliveryState::parse(s).ok_or_else(|| Error::Corrupt(format!("unknown delivery state '{s}'")))
}

/// `$first, $first+1, …` for `n` parameters.
pub(super) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Creates the SQLite file's folder and asks for the file to be created
/// (`mode=rwc`) unless the URL says otherwise.
fn prepare_sqlite_url(url: &str) -> Result<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| Error::Url(url.into()))?;
    let (path, params) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    if path.is_empty() || path == ":memory:" {
        return Ok(url.to_string());
    }
    if let Some(dir) = std::path::Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.display().to_string(),
            source,
        })?;
    }
    Ok(match params {
        Some(q) if q.split('&').any(|kv| kv.starts_with("mode=")) => url.to_string(),
        Some(q) if !q.is_empty() => format!("sqlite://{path}?{q}&mode=rwc"),
        _ => format!("sqlite://{path}?mode=rwc"),
    })
}

/// The stored subject as the writer typed it: RFC 2047 words decoded (rows
/// stored before subjects were decoded on arrival read the same).
pub(super) fn subject(r: &AnyRow) -> Result<Option<String>> {
    let raw: Option<String> = r.try_get("subject")?;
    Ok(raw.map(|s| crate::message::headers::decode(&s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_create_mode() {
        let dir = tempfile::tempdir().expect("a temp dir for the test");
        let p = dir.path().join("a/b/q.db");
        let url = prepare_sqlite_url(&format!("sqlite://{}", p.display())).expect("a good url");
        assert_eq!(url, format!("sqlite://{}?mode=rwc", p.display()));
        assert!(dir.path().join("a/b").is_dir());
        let url =
            prepare_sqlite_url(&format!("sqlite:{}?mode=ro", p.display())).expect("a good url");
        assert!(url.ends_with("?mode=ro"));
        assert_eq!(placeholders(1, 3), "$1, $2, $3");
    }
}
