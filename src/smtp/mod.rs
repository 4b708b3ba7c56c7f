//! The door: an SMTP submission server. Speaks the wire protocol (commands
//! parsed by `smtp-proto`), TLS and AUTH; hands each finished transaction to
//! the [`Gateway`](crate::gateway::Gateway) and writes back the reply it gets.
//! Knows nothing of sqlx, storage or policy.
//!
//! Layout:
//! - [`session`]: the pure per-connection state machine (bytes in, replies
//!   and actions out); no sockets, no clocks, no `async`.
//! - `auth`: SASL PLAIN/LOGIN decoding and the argon2 user table.
//! - `tls`: certificate loading or first-start generation, the acceptor.
//! - `server`: [`Door`], the thin tokio loop around the session: accept,
//!   limits, timeouts, STARTTLS upgrade, shutdown.
//! - [`slots`]: who holds the connection slots and who gives one up (per
//!   address share, reserve for trusted and logged-in sessions); pure.
//! - `throttle`: [`Throttles`], AUTH failures per (client address, user)
//!   and per address, recipients per user (governor), kept apart from the
//!   config.

// Everything here reads bytes from strangers: no panicking shortcuts.
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod auth;
pub mod budget;
mod reply;
mod server;
pub mod session;
pub mod slots;
mod throttle;
mod tls;

/// Whether the configured TLS certificate and key load and match (for
/// `sendwell config check`).
pub fn check_tls(config: &crate::config::Config) -> Result<(), Error> {
    tls::acceptor(config).map(|_| ())
}

use std::path::PathBuf;

pub use reply::Reply;
pub use server::{Door, Port};
pub use throttle::{Locked, Throttles};

/// Why the door could not be set up. Failures inside a session never become
/// an `Error`: they become an SMTP reply.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read TLS material {path}: {source}")]
    ReadTls {
        path: PathBuf,
        source: rustls_pki_types::pem::Error,
    },
    #[error("cannot write TLS material {path}: {source}")]
    WriteTls {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("the certificate and key do not make a TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error("users[{index}] ('{name}'): password_hash is not an argon2 PHC string: {message}")]
    User {
        index: usize,
        name: String,
        message: String,
    },
}
