//! The door: an SMTP submission server. Speaks the wire protocol (commands
//! parsed by `smtp-proto`), TLS and AUTH; hands each finished transaction to
//! the [`Gateway`](crate::gateway::Gateway). Knows nothing of sqlx or policy.

mod reply;

pub use reply::Reply;
