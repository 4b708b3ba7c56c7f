//! The Prometheus metrics: their names (documented in the README), the small
//! functions the gateway and the courier call to count, and the recorder the
//! `/metrics` route renders.
//!
//! The `metrics` facade is process-wide: counting before the recorder is
//! installed (or with the review page off) costs nothing and records nothing.
//! The recorder is installed once per process ([`handle`]), so several
//! servers in one test process share it; tests compare before and after.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::store::DeliveryState;

/// Messages that reached the end of DATA.
pub const RECEIVED: &str = "sendwell_messages_received_total";
/// Messages refused at the end of DATA, by `reason` (`policy`, `unreadable`,
/// `recipients`: every recipient refused).
pub const REFUSED: &str = "sendwell_messages_refused_total";
/// Recipients refused at RCPT, by `reason` (`policy`, `suppressed`, `dns`).
pub const RCPT_REFUSED: &str = "sendwell_recipients_refused_total";
/// Messages with at least one copy held for review.
pub const HELD: &str = "sendwell_messages_held_total";
/// Copies deferred, by `reason`: `schedule` (business hours, caps) at
/// acceptance, `upstream` (a temporary failure) at delivery.
pub const DEFERRED: &str = "sendwell_copies_deferred_total";
/// Copies the upstream took.
pub const DELIVERED: &str = "sendwell_copies_delivered_total";
/// Copies bounced, by `reason` class (`address`, `mailbox`, `mail_system`,
/// `network`, `protocol`, `content`, `policy`, `expired`, `other`).
pub const BOUNCED: &str = "sendwell_copies_bounced_total";
/// Hits of each `rule` in accepted, held or refused messages.
pub const RULE_HITS: &str = "sendwell_rule_hits_total";
/// Seconds one hand-over to the upstream took (one message, its recipients).
pub const UPSTREAM_SECONDS: &str = "sendwell_upstream_seconds";
/// Copies in the store in each `state` (read at scrape time).
pub const QUEUE_DEPTH: &str = "sendwell_queue_depth";
/// Relayed messages journaled, by `to`: `folder` or `address`.
pub const JOURNALED: &str = "sendwell_journal_copies_total";
/// What retention removed, by `what`: `audit_records`, `messages` (finished,
/// past `[store] keep_days`), `ledger_rows` (the caps' record).
pub const RETENTION_REMOVED: &str = "sendwell_retention_removed_total";

/// 1 while a watched `mailbox` answers, 0 while it is down (retried with backoff).
pub const INBOX_UP: &str = "sendwell_inbox_up";
/// Messages the inbox watcher read, by `lesson`: `reply`, `auto_reply`,
/// `bounce`, `nothing`.
pub const INBOX_READ: &str = "sendwell_inbox_messages_total";

/// 1 while a `route` is paused (its provider refused the account), else 0.
pub const UPSTREAM_PAUSED: &str = "sendwell_upstream_paused";

/// Histogram buckets of [`UPSTREAM_SECONDS`]: a local relay answers in
/// milliseconds, a far smarthost in seconds, a stuck one at the timeout.
const UPSTREAM_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed on first use.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(UPSTREAM_SECONDS.into()), &UPSTREAM_BUCKETS)
            // The matcher is a literal full name and the buckets are not
            // empty, the only two ways this can fail.
            .expect("literal buckets")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder was installed first; /metrics stays empty");
        }
        handle
    })
}

/// The text `/metrics` answers, with the queue depth as of now.
pub fn render(counts: &[(DeliveryState, u64)]) -> String {
    let h = handle();
    for (state, n) in counts {
        gauge!(QUEUE_DEPTH, "state" => state.as_str()).set(*n as f64);
    }
    h.run_upkeep();
    h.render()
}

pub fn received() {
    counter!(RECEIVED).increment(1);
}

pub fn refused(reason: &'static str) {
    counter!(REFUSED, "reason" => reason).increment(1);
}

pub fn rcpt_refused(reason: &'static str) {
    counter!(RCPT_REFUSED, "reason" => reason).increment(1);
}

pub fn held() {
    counter!(HELD).increment(1);
}

pub fn deferred(reason: &'static str, copies: u64) {
    if copies > 0 {
        counter!(DEFERRED, "reason" => reason).increment(copies);
    }
}

pub fn rule_hits<'a>(rules: impl IntoIterator<Item = &'a str>) {
    for rule in rules {
        counter!(RULE_HITS, "rule" => rule.to_string()).increment(1);
    }
}

pub fn delivered() {
    counter!(DELIVERED).increment(1);
}

pub fn bounced(reply: &str, expired: bool) {
    counter!(BOUNCED, "reason" => bounce_class(reply, expired)).increment(1);
}

pub fn journaled(to: &'static str) {
    counter!(JOURNALED, "to" => to).increment(1);
}

pub fn retention_removed(what: &'static str, n: u64) {
    if n > 0 {
        counter!(RETENTION_REMOVED, "what" => what).increment(n);
    }
}

pub fn upstream_paused(route: &str, paused: bool) {
    gauge!(UPSTREAM_PAUSED, "route" => route.to_string()).set(if paused { 1.0 } else { 0.0 });
}

pub fn upstream_latency(took: Duration) {
    histogram!(UPSTREAM_SECONDS).record(took.as_secs_f64());
}

/// The class of a permanent failure, by the subject digit of its enhanced
/// status code (RFC 3463 §3: `5.1.1` is an addressing problem).
pub fn bounce_class(reply: &str, expired: bool) -> &'static str {
    if expired {
        return "expired";
    }
    let subject = reply.split_whitespace().find_map(|w| {
        let mut parts = w.split('.');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("5" | "4"), Some(s), Some(d))
                if !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()) =>
            {
                s.parse::<u8>().ok()
            }
            _ => None,
        }
    });
    match subject {
        Some(1) => "address",
        Some(2) => "mailbox",
        Some(3) => "mail_system",
        Some(4) => "network",
        Some(5) => "protocol",
        Some(6) => "content",
        Some(7) => "policy",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::bounce_class;

    #[test]
    fn bounce_classes_follow_the_enhanced_code() {
        assert_eq!(bounce_class("550 5.1.1 no such user", false), "address");
        assert_eq!(bounce_class("552 5.2.2 mailbox full", false), "mailbox");
        assert_eq!(bounce_class("554 5.7.1 spam", false), "policy");
        assert_eq!(bounce_class("550 rejected", false), "other");
        assert_eq!(bounce_class("451 4.4.1 down", true), "expired");
    }
}
