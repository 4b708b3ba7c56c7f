//! The courier: claims due deliveries from the store, sends them through the
//! [`Upstream`], retries temporary failures with backoff and bounces
//! permanent ones to the envelope sender (RFC 3464). Knows nothing of policy.
//!
//! - [`upstream`]: the [`Upstream`] seam and what crosses it.
//! - [`smtp`]: [`SmtpUpstream`], the smarthost (mail-send), with a small
//!   connection pool and one result per recipient.
//! - [`outbox`]: [`OutboxUpstream`], a folder of `.eml` files (the embedded
//!   default when no upstream is configured).
//! - [`replies`]: what a provider's refusal means (retry, pause the
//!   route, bounce), from built-in and configured reply rules.
//! - [`pause_notice`]: the one notice per pause and sender.
//! - [`dsn`]: the RFC 3464 reports we send back to senders.
//! - [`courier`]: the loop that ties the store to the upstream.

pub mod courier;
pub mod dsn;
pub mod outbox;
pub mod pause_notice;
pub mod replies;
pub mod smtp;
pub mod upstream;

use std::path::PathBuf;
use std::sync::Arc;

pub use courier::{Courier, DEFAULT_ROUTE};
pub use outbox::OutboxUpstream;
pub use smtp::SmtpUpstream;
pub(crate) use smtp::tls_connector;
pub use upstream::{OutboundMessage, RcptResult, Upstream};

use crate::config::{Config, UpstreamTarget};

/// Why an upstream could not be set up. Raised at start-up, so each variant
/// names the config key to look at.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("upstream.url: {0}")]
    Url(String),
    #[error("upstream.password_env: the environment variable {name} is not set (or not UTF-8)")]
    PasswordEnv { name: String },
    #[error("upstream.password_file: cannot read {path}: {source}")]
    PasswordFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("upstream.password_file: {path} is empty")]
    PasswordFileEmpty { path: PathBuf },
    #[error(
        "upstream.username is set but neither upstream.password_env nor upstream.password_file is"
    )]
    NoPassword,
    #[error("upstream TLS: {0}")]
    Tls(String),
    #[error("outbox folder {path}: {source}")]
    Outbox {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The upstream `config.upstream_target()` names: an SMTP smarthost or the
/// outbox folder.
pub fn build_upstream(config: &Config) -> Result<Arc<dyn Upstream>, Error> {
    match config.upstream_target().map_err(Error::Url)? {
        UpstreamTarget::Smtp {
            host,
            port,
            implicit_tls,
        } => {
            let helo = config
                .upstream
                .helo_name
                .clone()
                .unwrap_or_else(|| config.server.hostname.clone());
            Ok(Arc::new(SmtpUpstream::new(
                &config.upstream,
                host,
                port,
                implicit_tls,
                helo,
            )?))
        }
        UpstreamTarget::Outbox(dir) => Ok(Arc::new(OutboxUpstream::new(dir)?)),
    }
}
