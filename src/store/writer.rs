//! Group commit for [`Store::enqueue`](super::Store::enqueue).
//!
//! Every enqueue goes over one channel to one writer task, which takes all
//! that is pending (up to a bound), inserts it in one transaction, commits,
//! and only then answers each caller. With `synchronous=FULL` a commit costs
//! an fsync or two; sharing it between everyone who arrived during the
//! previous commit is what lets the queue keep up with many clients. Knows
//! nothing of the courier side of the queue.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::AnyPool;
use tokio::sync::{Mutex, mpsc, oneshot};

use super::schema::Dialect;
use super::{DeliveryId, Error, MessageId, NewMessage, Result};
use crate::audit::chain::Event;
use crate::schedule::Wait;

/// Most messages in one group commit: bounds how long the first caller of a
/// batch waits behind the others.
pub(super) const MAX_BATCH_MESSAGES: usize = 256;
/// Most message bytes in one group commit (a batch is one transaction held in
/// the database's memory and journal).
pub(super) const MAX_BATCH_BYTES: usize = 64 * 1024 * 1024;
/// Bodies larger than this are stored in parts of this size (table
/// `message_parts`). Binding a value makes the driver and the database each
/// hold whole copies of it; in parts, those copies are one part long, and a
/// 25 MB message no longer costs four times its size while it is stored or
/// read back for delivery.
pub(super) const PART_SIZE: usize = 1024 * 1024;
/// Enqueues waiting for the writer before callers are made to wait to send.
pub(super) const QUEUE_DEPTH: usize = 4 * MAX_BATCH_MESSAGES;

/// What one job stored: the message's ids, or nothing for an audit-only job.
pub(super) type Stored = Option<(MessageId, Vec<DeliveryId>)>;
pub(super) type Answer = Result<Stored>;

/// A message to store and/or audit events to append, in the same
/// transaction (events without a message id get the new message's).
pub(super) struct Job {
    pub msg: Option<NewMessage>,
    pub audit: Vec<Event>,
    /// Store the message (and its events) only if this message has not been
    /// journaled yet, and mark it journaled: the journal copy of it.
    pub journal_of: Option<MessageId>,
    pub reply: oneshot::Sender<Answer>,
}

impl Job {
    fn bytes(&self) -> usize {
        self.msg.as_ref().map_or(0, |m| m.data.len())
    }
}

pub(super) enum Cmd {
    Enqueue(Box<Job>),
    /// Write everything sent before this, refuse what comes after, then ack.
    Close(oneshot::Sender<()>),
}

/// What the writer has done so far (for measurements and metrics).
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub commits: AtomicU64,
    pub messages: AtomicU64,
    pub failed_batches: AtomicU64,
}

/// Why a transaction did not commit. The difference matters: a failure
/// before COMMIT rolled everything back, so the batch may be retried; a
/// failed COMMIT on PostgreSQL may or may not have landed, so it must not.
enum WriteError {
    BeforeCommit(sqlx::Error),
    Commit(sqlx::Error),
}

/// Writer tasks on PostgreSQL: its commits run in parallel across
/// connections (and the server group-commits them itself), so a few writers
/// take turns collecting batches. SQLite serialises writers: one is enough.
pub(super) const POSTGRES_WRITERS: u32 = 4;

pub(super) type SharedReceiver = Arc<Mutex<mpsc::Receiver<Cmd>>>;

/// One writer: collects a batch (holding the receiver so writers never split
/// a caller's order around a `Close`), writes it, answers, repeats.
pub(super) async fn run(
    pool: AnyPool,
    dialect: Dialect,
    rx: SharedReceiver,
    counters: Arc<Counters>,
) {
    let mut carry: Option<Job> = None;
    loop {
        let (batch, closing) = {
            let mut rx = rx.lock().await;
            let first = match carry.take() {
                Some(job) => job,
                None => match rx.recv().await {
                    Some(Cmd::Enqueue(job)) => *job,
                    Some(Cmd::Close(ack)) => return refuse_rest(&mut rx, ack),
                    None => return,
                },
            };
            // Callers answered by the previous commit are runnable now and
            // about to send again; letting them run first costs microseconds
            // and lets one fsync cover them too, instead of splitting the
            // callers into two alternating half-batches.
            tokio::task::yield_now().await;
            let mut bytes = first.bytes();
            let mut batch = vec![first];
            let mut closing = None;
            while batch.len() < MAX_BATCH_MESSAGES {
                match rx.try_recv() {
                    Ok(Cmd::Enqueue(job)) => {
                        let job = *job;
                        if bytes.saturating_add(job.bytes()) > MAX_BATCH_BYTES {
                            carry = Some(job);
                            break;
                        }
                        bytes += job.bytes();
                        batch.push(job);
                    }
                    Ok(Cmd::Close(ack)) => {
                        // Closed now, not after the commit: another writer may
                        // be waiting in `recv` and must wake up to `None`.
                        rx.close();
                        closing = Some(ack);
                        break;
                    }
                    Err(_) => break,
                }
            }
            (batch, closing)
        };
        commit_batch(&pool, dialect, batch, &counters).await;
        if let Some(ack) = closing {
            return refuse_rest(&mut *rx.lock().await, ack);
        }
    }
}

/// After a `Close`: nothing more is accepted; whatever slipped in is refused.
fn refuse_rest(rx: &mut mpsc::Receiver<Cmd>, ack: oneshot::Sender<()>) {
    rx.close();
    while let Ok(cmd) = rx.try_recv() {
        match cmd {
            Cmd::Enqueue(job) => {
                let _ = job.reply.send(Err(Error::Closed));
            }
            Cmd::Close(other) => {
                let _ = other.send(());
            }
        }
    }
    let _ = ack.send(());
}

async fn commit_batch(pool: &AnyPool, dialect: Dialect, batch: Vec<Job>, counters: &Counters) {
    let jobs: Vec<&Job> = batch.iter().collect();
    match write(pool, dialect, &jobs).await {
        Ok(ids) => {
            counters.commits.fetch_add(1, Ordering::Relaxed);
            let stored = batch.iter().filter(|j| j.msg.is_some()).count();
            counters
                .messages
                .fetch_add(stored as u64, Ordering::Relaxed);
            for (job, ids) in batch.into_iter().zip(ids) {
                // A caller that gave up (client gone) simply never sees its id.
                let _ = job.reply.send(Ok(ids));
            }
        }
        Err(WriteError::Commit(e)) => {
            counters.failed_batches.fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, messages = batch.len(), "group commit failed");
            let reason = e.to_string();
            for job in batch {
                let _ = job.reply.send(Err(Error::CommitFailed(reason.clone())));
            }
        }
        Err(WriteError::BeforeCommit(e)) if batch.len() > 1 => {
            // Nothing landed. One bad message must not cost the others their
            // 250: write each alone so each gets its own answer.
            counters.failed_batches.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(error = %e, messages = batch.len(), "group commit failed; writing the batch one by one");
            for job in batch {
                let answer = match write(pool, dialect, &[&job]).await {
                    Ok(mut ids) => {
                        counters.commits.fetch_add(1, Ordering::Relaxed);
                        if job.msg.is_some() {
                            counters.messages.fetch_add(1, Ordering::Relaxed);
                        }
                        ids.pop()
                            .ok_or_else(|| Error::CommitFailed("no id returned".into()))
                    }
                    Err(WriteError::BeforeCommit(e)) => Err(Error::Db(e)),
                    Err(WriteError::Commit(e)) => Err(Error::CommitFailed(e.to_string())),
                };
                let _ = job.reply.send(answer);
            }
        }
        Err(WriteError::BeforeCommit(e)) => {
            counters.failed_batches.fetch_add(1, Ordering::Relaxed);
            if let Some(job) = batch.into_iter().next() {
                let _ = job.reply.send(Err(Error::Db(e)));
            }
        }
    }
}

/// Inserts the messages and their deliveries in one transaction, then the
/// audit events of the whole batch (the chain's head is locked last, and
/// once); the ids come back in the order of `jobs` once the commit has
/// returned.
async fn write(
    pool: &AnyPool,
    dialect: Dialect,
    jobs: &[&Job],
) -> std::result::Result<Vec<Stored>, WriteError> {
    let mut tx = pool
        .begin_with(dialect.begin_write())
        .await
        .map_err(WriteError::BeforeCommit)?;
    let mut out = Vec::with_capacity(jobs.len());
    let mut events = Vec::new();
    for job in jobs {
        if let (Some(of), Some(msg)) = (job.journal_of, &job.msg)
            && !mark_journaled(&mut tx, of, msg.received_at)
                .await
                .map_err(WriteError::BeforeCommit)?
        {
            // Another copy of it went already: neither message nor events.
            out.push(None);
            continue;
        }
        let ids = match &job.msg {
            Some(msg) => Some(
                insert(&mut tx, msg)
                    .await
                    .map_err(WriteError::BeforeCommit)?,
            ),
            None => None,
        };
        for e in &job.audit {
            let mut e = e.clone();
            if let (None, Some((id, _))) = (e.message, &ids) {
                e.message = Some(*id);
            }
            events.push(e);
        }
        out.push(ids);
    }
    super::audit::append(&mut tx, dialect, &events)
        .await
        .map_err(WriteError::BeforeCommit)?;
    tx.commit().await.map_err(WriteError::Commit)?;
    Ok(out)
}

/// Marks message `of` journaled at `at`; false when it was already.
async fn mark_journaled(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    of: MessageId,
    at: jiff::Timestamp,
) -> std::result::Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE messages SET journaled_at = $1 WHERE id = $2 AND journaled_at IS NULL")
            .bind(at.as_millisecond())
            .bind(of.0)
            .execute(&mut **tx)
            .await?;
    Ok(done.rows_affected() == 1)
}

async fn insert(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    msg: &NewMessage,
) -> std::result::Result<(MessageId, Vec<DeliveryId>), sqlx::Error> {
    let received_at = msg.received_at.as_millisecond();
    let size = i64::try_from(msg.data.len()).unwrap_or(i64::MAX);
    // A large body goes in parts (see `PART_SIZE`); the row keeps it inline
    // otherwise, so the usual small message costs one INSERT as before.
    let inline: &[u8] = if msg.data.len() > PART_SIZE {
        &[]
    } else {
        &msg.data
    };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO messages \
         (mail_from, data, received_at, client, auth_user, message_id_header, subject, size, report) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(msg.mail_from.as_str())
    .bind(inline)
    .bind(received_at)
    .bind(msg.client.as_str())
    .bind(msg.auth_user.as_deref())
    .bind(msg.message_id_header.as_deref())
    .bind(msg.subject.as_deref())
    .bind(size)
    .bind(msg.report.as_deref())
    .fetch_one(&mut **tx)
    .await?;
    if inline.len() < msg.data.len() {
        for (seq, part) in msg.data.chunks(PART_SIZE).enumerate() {
            sqlx::query("INSERT INTO message_parts (message_id, seq, data) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(i64::try_from(seq).unwrap_or(i64::MAX))
                .bind(part)
                .execute(&mut **tx)
                .await?;
        }
    }
    let mut deliveries = Vec::with_capacity(msg.deliveries.len());
    for d in &msg.deliveries {
        let did: i64 = sqlx::query_scalar(
            "INSERT INTO deliveries \
             (message_id, rcpt, state, deliver_at, first_due_at, attempts, delay_notified, updated_at, route, wait) \
             VALUES ($1, $2, $3, $4, $4, 0, 0, $5, $6, $7) RETURNING id",
        )
        .bind(id)
        .bind(d.rcpt.as_str())
        .bind(d.state.as_str())
        .bind(d.deliver_at.as_millisecond())
        .bind(received_at)
        .bind(msg.route.as_str())
        .bind(d.wait.as_ref().map(Wait::code))
        .fetch_one(&mut **tx)
        .await?;
        deliveries.push(DeliveryId(did));
    }
    Ok((MessageId(id), deliveries))
}
