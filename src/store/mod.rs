//! The durable queue: one message row, one delivery row per recipient.
//!
//! Used through `sqlx`'s `Any` driver so the very same SQL serves the embedded
//! SQLite default and PostgreSQL (several gateway nodes sharing one queue);
//! the few differences (DDL types, row locking) live in [`Dialect`].
//! Knows nothing of policy or SMTP.
//!
//! Durability: [`Store::enqueue`] returns only after the transaction holding
//! the message and all its deliveries has committed (SQLite runs with
//! `synchronous=FULL`); concurrent enqueues are group-committed. Deliveries
//! are claimed with a lease (owner, expiry), never by in-memory ownership, so
//! a crashed worker's claims come back when the lease runs out.

use std::fmt;

use jiff::Timestamp;
use serde::Serialize;

use crate::schedule::Wait;

mod advice;
mod audit;
mod learned;
mod ledger;
mod limits;
mod nodes;
mod review;
mod routes;
mod schema;
mod sql;
mod suppression;
mod writer;

pub use advice::AdviceDue;
pub use audit::{AUDIT_PAGE, Pruned};
pub use learned::{Learned, SentMessage, WaitingCopy};
pub use ledger::{LedgerRow, Reserved, SlotId, SlotRequest};
pub use nodes::{Heartbeat, Node};
pub use review::{DayCounts, Decided, RecipientCopy};
pub use routes::RoutePause;
pub use schema::Dialect;
pub use sql::{Store, StoreStats};
pub use suppression::{
    Contact, ContactSource, NewSuppression, Suppression, SuppressionSource, normalize_address,
};

/// A message's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct MessageId(pub i64);

/// A delivery's (one recipient's copy's) row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct DeliveryId(pub i64);

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for DeliveryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where one recipient's copy stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Waiting for its `deliver_at`.
    Queued,
    /// Claimed by a courier (see `owner`, `lease_until`).
    Delivering,
    /// The upstream took it.
    Delivered,
    /// A temporary failure; tried again at `deliver_at`.
    Deferred,
    /// Failed for good; the sender was (or will be) told.
    Bounced,
    /// Waiting for a person to release or refuse it.
    Held,
    /// Refused by a reviewer.
    Rejected,
    /// Removed by an operator (`sendwell queue drop`).
    Dropped,
    /// A held copy the sender replaced by sending the message again.
    Superseded,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 9] = [
        DeliveryState::Queued,
        DeliveryState::Delivering,
        DeliveryState::Delivered,
        DeliveryState::Deferred,
        DeliveryState::Bounced,
        DeliveryState::Held,
        DeliveryState::Rejected,
        DeliveryState::Dropped,
        DeliveryState::Superseded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Queued => "queued",
            DeliveryState::Delivering => "delivering",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Deferred => "deferred",
            DeliveryState::Bounced => "bounced",
            DeliveryState::Held => "held",
            DeliveryState::Rejected => "rejected",
            DeliveryState::Dropped => "dropped",
            DeliveryState::Superseded => "superseded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        DeliveryState::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// No courier will touch it again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            DeliveryState::Delivered
                | DeliveryState::Bounced
                | DeliveryState::Rejected
                | DeliveryState::Dropped
                | DeliveryState::Superseded
        )
    }
}

impl fmt::Display for DeliveryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message to be stored, with one delivery per recipient.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Reverse path; empty for the null sender (DSNs we generate).
    pub mail_from: String,
    /// The canonical message (CRLF, submission headers added).
    pub data: Vec<u8>,
    pub received_at: Timestamp,
    /// Client address, HELO name and AUTH user, for the record.
    pub client: String,
    pub auth_user: Option<String>,
    /// `Message-ID:` and `Subject:` header values, for listings.
    pub message_id_header: Option<String>,
    pub subject: Option<String>,
    /// A short machine-readable note of why/how it was queued (JSON), e.g. the
    /// verdict; shown by `queue show` and `held show`.
    pub report: Option<String>,
    /// The route (upstream) its copies go through, chosen once when the
    /// message is accepted: `default` for `[upstream]`.
    pub route: String,
    pub deliveries: Vec<NewDelivery>,
}

#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub rcpt: String,
    pub deliver_at: Timestamp,
    /// `Queued` or `Held`.
    pub state: DeliveryState,
    /// Why a queued copy waits past now, if it does.
    pub wait: Option<Wait>,
}

/// A delivery a courier has claimed (state `delivering`, lease held).
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: DeliveryId,
    pub message_id: MessageId,
    pub rcpt: String,
    pub mail_from: String,
    /// Failed attempts so far.
    pub attempts: u32,
    /// When the message was received (the lifetime counts from here).
    pub received_at: Timestamp,
    /// When this copy was first due (the delay notice counts from here).
    pub first_due_at: Timestamp,
    /// Whether the sender was already told this copy is delayed.
    pub delay_notified: bool,
    /// The route it goes through (see [`NewMessage::route`]).
    pub route: String,
}

/// Which routes' copies a claim may take: all of them (nothing paused),
/// all but the paused ones, or one (the probe of a paused route).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteFilter {
    All,
    Except(Vec<String>),
    Only(String),
}

/// What happened to a claimed delivery; written with [`Store::finish`].
#[derive(Debug, Clone)]
pub enum Outcome {
    Delivered {
        id: DeliveryId,
        reply: String,
    },
    /// Temporary failure: try again at `retry_at`; attempts is incremented.
    Deferred {
        id: DeliveryId,
        reply: String,
        retry_at: Timestamp,
        delay_notified: bool,
    },
    /// Permanent failure (5xx, or expired).
    Bounced {
        id: DeliveryId,
        reply: String,
    },
}

/// A delivery as listings show it.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryRow {
    pub id: DeliveryId,
    pub message_id: MessageId,
    pub mail_from: String,
    pub rcpt: String,
    pub state: DeliveryState,
    pub deliver_at: Timestamp,
    /// Why a queued copy waits (the schedule's or the caps' reason);
    /// `None` once it is tried or made due by hand.
    pub wait: Option<Wait>,
    pub attempts: u32,
    pub last_reply: Option<String>,
    pub updated_at: Timestamp,
    pub subject: Option<String>,
    /// The route the copy goes through.
    pub route: String,
}

/// A message as `queue show` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct MessageRow {
    pub id: MessageId,
    pub mail_from: String,
    pub received_at: Timestamp,
    pub client: String,
    pub auth_user: Option<String>,
    pub message_id_header: Option<String>,
    pub subject: Option<String>,
    pub size: u64,
    pub report: Option<String>,
    pub deliveries: Vec<DeliveryRow>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot prepare the data directory {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("unsupported store url '{0}': use sqlite://PATH or postgres://…")]
    Url(String),
    #[error("no message {0}")]
    NoSuchMessage(MessageId),
    #[error("the store is shutting down")]
    Closed,
    /// The transaction holding this message failed at COMMIT; on PostgreSQL
    /// it may or may not have landed, so the client must be told to retry.
    #[error("the commit holding this message failed: {0}")]
    CommitFailed(String),
    #[error("corrupt row in the store: {0}")]
    Corrupt(String),
}

pub type Result<T> = std::result::Result<T, Error>;
