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
pub mod providers;
pub mod proxy;
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

use std::collections::BTreeMap;

use crate::config::{Config, UpstreamConfig, UpstreamTarget, upstream_target};

/// Why an upstream could not be set up. Raised at start-up, so each variant
/// names the config key to look at.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("upstream.url: {0}")]
    Url(String),
    #[error(
        "upstream.username is set but neither upstream.password_env nor upstream.password_file is"
    )]
    NoPassword,
    /// A key of the route that cannot work (a secret that cannot be read,
    /// an OAuth setting): the message starts with the key's name.
    #[error("upstream.{0}")]
    Key(String),
    #[error("upstream.proxy: {0}")]
    Proxy(String),
    #[error("upstream TLS: {0}")]
    Tls(String),
    #[error("outbox folder {path}: {source}")]
    Outbox {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A problem of an `[[upstream.routes]]` entry; the key named is that
    /// entry's.
    #[error("[[upstream.routes]] name = \"{route}\": {source}")]
    Route { route: String, source: Box<Error> },
}

/// Each route's upstream by route name (`default` is `[upstream]`).
#[derive(Clone)]
pub struct Upstreams {
    by_route: BTreeMap<String, Arc<dyn Upstream>>,
}

impl Upstreams {
    /// Only the `default` route, going to `upstream` (tests, tools).
    pub fn single(upstream: Arc<dyn Upstream>) -> Upstreams {
        Upstreams {
            by_route: BTreeMap::from([(DEFAULT_ROUTE.to_string(), upstream)]),
        }
    }

    /// Adds (or replaces) route `name`.
    pub fn with(mut self, name: &str, upstream: Arc<dyn Upstream>) -> Upstreams {
        self.by_route.insert(name.to_string(), upstream);
        self
    }

    /// The upstream of `route`; a route no longer configured (its copies
    /// were accepted before a reload removed it) goes by `default`.
    pub fn get(&self, route: &str) -> &Arc<dyn Upstream> {
        self.by_route
            .get(route)
            .or_else(|| self.by_route.get(DEFAULT_ROUTE))
            .or_else(|| self.by_route.values().next())
            .expect("Upstreams always holds the default route")
    }

    /// Each route and its upstream, `default` among them.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Arc<dyn Upstream>)> {
        self.by_route.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// A line per route for the start-up log.
    pub fn describe(&self) -> String {
        self.iter()
            .map(|(name, u)| format!("{name}: {}", u.describe()))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The upstream of every route: `[upstream]` as `default`, then each
/// `[[upstream.routes]]` by its name.
pub fn build_upstreams(config: &Config) -> Result<Upstreams, Error> {
    let mut all = Upstreams::single(build_upstream(config, &config.upstream)?);
    for r in &config.upstream.routes {
        let name = r.name.clone().unwrap_or_default();
        let u = build_upstream(config, r).map_err(|e| Error::Route {
            route: name.clone(),
            source: Box::new(e),
        })?;
        all = all.with(&name, u);
    }
    Ok(all)
}

/// The upstream `route` names: an SMTP smarthost or the outbox folder.
fn build_upstream(config: &Config, route: &UpstreamConfig) -> Result<Arc<dyn Upstream>, Error> {
    match upstream_target(route, &config.data_dir).map_err(Error::Url)? {
        UpstreamTarget::Smtp {
            host,
            port,
            implicit_tls,
        } => {
            let helo = route
                .helo_name
                .clone()
                .unwrap_or_else(|| config.server.hostname.clone());
            Ok(Arc::new(SmtpUpstream::new(
                route,
                host,
                port,
                implicit_tls,
                helo,
            )?))
        }
        UpstreamTarget::Outbox(dir) => Ok(Arc::new(OutboxUpstream::new(dir)?)),
    }
}
