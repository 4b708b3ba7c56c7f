//! sendwell: an outbound SMTP relay for sellers who write to customers abroad.
//!
//! A message walks through the crate in one direction; the modules are the
//! rooms it passes, in that order (see `ARCHITECTURE` in the README):
//!
//! - [`smtp`]: the door. Speaks the wire protocol (commands parsed by
//!   `smtp-proto`), TLS and AUTH; knows nothing of policy or storage.
//! - [`gateway`]: the one place that knows the order of the stages; turns
//!   their outcomes into SMTP replies.
//! - [`message`]: parse once, canonicalise, add the submission headers.
//! - [`policy`]: the judge (pure).
//! - [`recipient`]: facts about recipients from outside (DNS, the
//!   suppression list, contacts), asked at RCPT time.
//! - [`store`]: the durable queue (SQLite embedded, PostgreSQL for several nodes).
//! - [`relay`]: the courier: claims due deliveries, sends them upstream,
//!   retries, bounces.
//! - [`audit`]: the hash-chained record of every event, verify, export.
//! - [`retention`]: how long the audit log, finished messages and the caps
//!   ledger are kept.
//! - [`advice`]: warnings below the hold line told to the writer, at once
//!   or in a daily digest (`[notices] advice`).
//! - [`admin`]: the review page, its JSON API, `/metrics` and `/healthz`.
//! - [`ops`]: what an operator does to mail (release, refuse, send now…),
//!   shared by the CLI and the review page.
//! - [`cluster`]: several nodes on one PostgreSQL queue (heartbeat,
//!   takeover of a dead node's claims).
//! - [`config`], [`cli`]: the schema and the commands.
//! - [`oauth`]: XOAUTH2 access tokens from a provider's token endpoint,
//!   for the courier's and the inbox's logins.
//! - [`lockout`]: smooth rate limits and lock-outs (governor), for AUTH and
//!   the review page's `/login`.

pub mod admin;
pub mod advice;
pub mod audit;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod display;
pub mod gateway;
pub mod inbox;
pub mod lockout;
pub mod message;
pub mod metrics;
pub mod notices;
pub mod oauth;
pub mod ops;
pub mod policy;
pub mod recipient;
pub mod relay;
pub mod reload;
pub mod retention;
pub mod schedule;
pub mod server;
pub mod shutdown;
pub mod smtp;
pub mod store;
pub mod submission;
