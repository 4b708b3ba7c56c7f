//! The ears: sendwell reads the sellers' own mailboxes (read-only, over
//! IMAP) and learns from what buyers send back: who replied (and from which
//! time zone), who is out of the office until when, which addresses bounced
//! after the fact.
//!
//! - [`config`]: the `[[inbox]]` entries.
//! - [`learn`]: one message → a [`learn::Lesson`] (pure).
//! - [`apply`]: a lesson → the store (learned facts, moved or held copies,
//!   suppressions, notices).
//! - [`remind`]: one reminder per unanswered message (`[notices] remind_after`).
//! - [`watch`]: the IMAP loop per mailbox (EXAMINE, `UID FETCH BODY.PEEK[]`,
//!   IDLE or polling, resume from the last UID, backoff when down).
//!
//! Knows nothing of the SMTP door.

pub mod apply;
pub mod config;
pub mod learn;
pub mod remind;
pub mod watch;

use std::collections::BTreeMap;
use std::sync::{LazyLock, Mutex};

use jiff::Timestamp;
use serde::Serialize;

pub use config::InboxConfig;
pub use watch::spawn_all;

/// How one watched mailbox is doing, for `/healthz` and the metric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MailboxHealth {
    pub mailbox: String,
    pub up: bool,
    /// The last error, while down.
    pub error: Option<String>,
    /// Since when it is up or down.
    pub since: Timestamp,
    /// Messages read since start.
    pub read: u64,
}

/// Every watched mailbox's health, by name. Process-wide like the metrics
/// recorder: a test process running several servers sees them all, each
/// under its own mailbox name.
static HEALTH: LazyLock<Mutex<BTreeMap<String, MailboxHealth>>> =
    LazyLock::new(|| Mutex::new(BTreeMap::new()));

/// The health of every watched mailbox.
pub fn health() -> Vec<MailboxHealth> {
    HEALTH
        .lock()
        .map(|h| h.values().cloned().collect())
        .unwrap_or_default()
}

fn set_health(mailbox: &str, up: bool, error: Option<String>, now: Timestamp, read: u64) {
    metrics::gauge!(crate::metrics::INBOX_UP, "mailbox" => mailbox.to_string()).set(if up {
        1.0
    } else {
        0.0
    });
    if let Ok(mut h) = HEALTH.lock() {
        let since = h
            .get(mailbox)
            .filter(|old| old.up == up)
            .map_or(now, |old| old.since);
        h.insert(
            mailbox.to_string(),
            MailboxHealth {
                mailbox: mailbox.to_string(),
                up,
                error,
                since,
                read,
            },
        );
    }
}

fn forget_health(mailbox: &str) {
    if let Ok(mut h) = HEALTH.lock() {
        h.remove(mailbox);
    }
}
