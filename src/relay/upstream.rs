//! Where the courier hands mail over: an SMTP smarthost (mail-send) or a
//! local outbox folder (the embedded default).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// One SMTP transaction to the upstream: one message, several recipients.
#[derive(Debug, Clone)]
pub struct OutboundMessage {
    /// Reverse path; empty for a DSN.
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// Canonical CRLF message bytes (not dot-stuffed, no final dot).
    pub data: Arc<[u8]>,
}

/// What the upstream said about one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RcptResult {
    /// Accepted; the upstream's final reply text.
    Delivered(String),
    /// 4xx or a network problem: try again later.
    Transient(String),
    /// 5xx: will never work.
    Permanent(String),
}

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Vec<RcptResult>> + Send + 'a>>;

/// A place mail can be handed to. `send` returns exactly one result per
/// recipient of `msg`, in order.
pub trait Upstream: Send + Sync + 'static {
    fn send<'a>(&'a self, msg: &'a OutboundMessage) -> SendFuture<'a>;
    /// A line for the start-up log, e.g. "SMTP smarthost smtp.example.com:587 (STARTTLS)".
    fn describe(&self) -> String;
}
