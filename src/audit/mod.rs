//! The audit log: what was decided about every message, and why, as an
//! append-only chain of records in the store, each carrying the hash of the
//! one before it.
//!
//! - [`chain`]: the records, their hashes and the verifying walk (pure).
//! - [`journal`]: the optional copy of every relayed message.
//! - here: the [`Audit`] handle the gateway, the courier, the CLI and the
//!   admin web record through, and verify / export / search / prune over
//!   the store.
//!
//! Appends ride on the store's group commit: the `received` and `verdict`
//! records of an accepted message are written in the very transaction that
//! queues it, delivery outcomes in the one that records them. Knows nothing
//! of SMTP.

pub mod chain;
pub mod journal;

use std::io::Write;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use chain::{Broken, Event, Head, Intact, Kind, Record};

use crate::store::{self, AUDIT_PAGE, MessageId, Pruned, Store};
use crate::submission::ClientInfo;

/// `[audit]` in sendwell.toml.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// Records older than this many days are pruned; 0 keeps every record.
    pub retain_days: u32,
    /// How often `serve` prunes (when `retain_days` is set).
    #[serde(with = "humantime_serde")]
    pub prune_interval: Duration,
    /// Record `sha256:<hex>` of each subject instead of the subject.
    pub redact_subjects: bool,
    /// A folder that receives a copy (`<message id>.eml`) of every relayed message.
    pub journal: Option<std::path::PathBuf>,
    /// An archive address that receives a copy of every relayed message,
    /// with its envelope in `X-Sendwell-Envelope-*` headers.
    pub journal_to: Option<String>,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            retain_days: 0,
            prune_interval: Duration::from_secs(3600),
            redact_subjects: false,
            journal: None,
            journal_to: None,
        }
    }
}

/// Records pruned per transaction: the chain's head is locked while they
/// go, and every append waits for it.
const PRUNE_BATCH: usize = 10_000;

/// Most records `audit search` looks at before narrowing down.
const SEARCH_SCAN_MAX: usize = 10_000;

/// Why an audit command could not finish.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("audit store: {0}")]
    Store(#[from] store::Error),
    #[error("cannot write the export: {0}")]
    Write(#[from] std::io::Error),
    #[error("cannot write the CSV export: {0}")]
    Csv(#[from] csv::Error),
}

/// How `audit export` writes records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// seq,at,kind,message,actor,fields,prev_hash,hash with a header row.
    Csv,
}

/// What `audit search` looks for; the given criteria must all match one
/// record, and every record about the messages found is shown.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub sender: Option<String>,
    pub rcpt: Option<String>,
    pub message_id: Option<String>,
}

/// The handle everything records through. Cheap to clone.
///
/// Operator actions (CLI and review page alike) are recorded by
/// [`crate::ops::record`].
#[derive(Clone)]
pub struct Audit {
    store: Store,
    redact_subjects: bool,
}

impl Audit {
    pub fn new(store: Store, config: &AuditConfig) -> Audit {
        Audit {
            store,
            redact_subjects: config.redact_subjects,
        }
    }

    /// Appends one event, durably (group-committed with the queue's writes).
    pub async fn record(&self, event: Event) -> Result<(), store::Error> {
        self.store.audit_append(vec![event]).await
    }

    /// The subject as the record keeps it: as is, or `sha256:<hex>` of it
    /// when `[audit] redact_subjects` is on (the same subject always gives
    /// the same value, so it can still be matched, but not read).
    pub fn subject(&self, subject: Option<&str>) -> serde_json::Value {
        match subject {
            None => serde_json::Value::Null,
            Some(s) if self.redact_subjects => serde_json::Value::String(format!(
                "sha256:{}",
                chain::hex(&Sha256::digest(s.as_bytes()))
            )),
            Some(s) => serde_json::Value::String(s.to_string()),
        }
    }

    /// The `received` event of a message: envelope, client, AUTH user,
    /// Message-ID, subject (redacted when configured) and size.
    #[allow(clippy::too_many_arguments)]
    pub fn received(
        &self,
        at: Timestamp,
        client: &ClientInfo,
        mail_from: &str,
        rcpts: &[&str],
        message_id: Option<&str>,
        subject: Option<&str>,
        size: usize,
    ) -> Event {
        Event::new(
            at,
            Kind::Received,
            "smtp",
            serde_json::json!({
                "mail_from": mail_from,
                "rcpts": rcpts,
                "auth_user": client.auth_user,
                "client": client.addr.to_string(),
                "helo": client.helo,
                "tls": client.tls,
                "message_id": message_id,
                "subject": self.subject(subject),
                "size": size,
            }),
        )
    }

    /// Walks the chain from the prune anchor to the head. `Ok(Err(_))`
    /// names the first bad record.
    pub async fn verify(&self) -> Result<Result<Intact, Broken>, store::Error> {
        let head = self.store.audit_head().await?;
        let mut v = chain::Verifier::new(head.clone());
        // From the very start: a record below the anchor is itself a fault.
        let mut after = i64::MIN;
        loop {
            let page = self.store.audit_records(after, AUDIT_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for r in page.iter().take_while(|r| r.seq <= head.seq) {
                if let Err(b) = v.feed(r) {
                    return Ok(Err(b));
                }
            }
            // Records appended after we read the head are the next run's.
            if after >= head.seq {
                break;
            }
        }
        Ok(v.finish())
    }

    /// Writes the records with `since <= at < until` to `out`.
    pub async fn export(
        &self,
        since: Timestamp,
        until: Timestamp,
        format: Format,
        out: &mut dyn Write,
    ) -> Result<u64, Error> {
        let mut csv = match format {
            Format::Csv => {
                let mut w = csv::Writer::from_writer(Vec::new());
                w.write_record([
                    "seq",
                    "at",
                    "kind",
                    "message",
                    "actor",
                    "fields",
                    "prev_hash",
                    "hash",
                ])?;
                Some(w)
            }
            Format::Jsonl => None,
        };
        let mut n = 0u64;
        let mut after = i64::MIN;
        loop {
            let page = self
                .store
                .audit_between(since, until, after, AUDIT_PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for r in &page {
                n += 1;
                match &mut csv {
                    Some(w) => {
                        w.write_record([
                            r.seq.to_string(),
                            r.at().to_string(),
                            r.kind.clone(),
                            r.message.map(|m| m.to_string()).unwrap_or_default(),
                            r.actor.clone(),
                            r.fields.clone(),
                            r.prev_hash.clone(),
                            r.hash.clone(),
                        ])?;
                    }
                    None => writeln!(out, "{}", r.to_json())?,
                }
            }
            if let Some(w) = csv.take() {
                out.write_all(&w.into_inner().map_err(|e| e.into_error())?)?;
                csv = Some(csv::Writer::from_writer(Vec::new()));
            }
        }
        if let Some(w) = csv {
            // The header alone, when nothing matched.
            out.write_all(&w.into_inner().map_err(|e| e.into_error())?)?;
        }
        out.flush()?;
        Ok(n)
    }

    /// Records matching `q`, and every record about the messages they are
    /// about, in chain order.
    pub async fn search(&self, q: &Search) -> Result<Vec<Record>, store::Error> {
        let Some(needle) = [&q.rcpt, &q.sender, &q.message_id]
            .into_iter()
            .flatten()
            .next()
        else {
            return Ok(Vec::new());
        };
        let candidates = self
            .store
            .audit_containing(&needle.to_lowercase(), SEARCH_SCAN_MAX)
            .await?;
        let mut hits: Vec<Record> = candidates
            .into_iter()
            .filter(|r| matches(&r.fields_json(), q))
            .collect();
        let mut ids: Vec<i64> = hits.iter().filter_map(|r| r.message).collect();
        ids.sort_unstable();
        ids.dedup();
        hits.extend(self.store.audit_of_messages(&ids).await?);
        hits.sort_by_key(|r| r.seq);
        hits.dedup_by_key(|r| r.seq);
        Ok(hits)
    }

    /// Removes the records older than `retain_days` before `now`; nothing
    /// when `retain_days` is 0.
    pub async fn prune(&self, retain_days: u32, now: Timestamp) -> Result<Pruned, store::Error> {
        if retain_days == 0 {
            return Ok(Pruned {
                removed: 0,
                through_seq: None,
            });
        }
        let before = crate::clock::before(now, crate::clock::days(retain_days));
        let mut total = Pruned {
            removed: 0,
            through_seq: None,
        };
        loop {
            let batch = self.store.audit_prune(before, now, PRUNE_BATCH).await?;
            total.removed += batch.removed;
            total.through_seq = batch.through_seq.or(total.through_seq);
            if batch.removed < PRUNE_BATCH as u64 {
                return Ok(total);
            }
        }
    }
}

/// Does one record's fields meet every given criterion?
fn matches(f: &serde_json::Value, q: &Search) -> bool {
    let text = |key: &str| f.get(key).and_then(|v| v.as_str());
    let same = |a: &str, b: &str| {
        a.trim_matches(['<', '>'])
            .eq_ignore_ascii_case(b.trim_matches(['<', '>']))
    };
    let sender_ok = q
        .sender
        .as_deref()
        .is_none_or(|s| text("mail_from").is_some_and(|m| same(m, s)));
    let rcpt_ok = q.rcpt.as_deref().is_none_or(|want| {
        text("rcpt").is_some_and(|r| same(r, want))
            || text("address").is_some_and(|r| same(r, want))
            || f.get("rcpts")
                .and_then(|v| v.as_array())
                .is_some_and(|a| a.iter().filter_map(|v| v.as_str()).any(|r| same(r, want)))
    });
    let mid_ok = q
        .message_id
        .as_deref()
        .is_none_or(|want| text("message_id").is_some_and(|m| same(m, want)));
    sender_ok && rcpt_ok && mid_ok
}

/// Records events about something that has already happened (a refusal, a
/// suppression, a journal copy, an operator's action), in order, in one
/// transaction: a failure to record cannot undo it, so it is logged loudly
/// rather than returned.
pub async fn record_done(store: &Store, events: Vec<Event>) {
    let what: Vec<(Kind, Option<MessageId>, String)> = events
        .iter()
        .map(|e| (e.kind, e.message, e.actor.clone()))
        .collect();
    if let Err(e) = store.audit_append(events).await {
        tracing::error!(error = %e, events = ?what, "cannot record events in the audit log");
    }
}
