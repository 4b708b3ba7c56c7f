//! Live reload (`SIGHUP`, or the admin page's button): every part that is
//! built from the config — the gateway's judge, clock and DNS checker, the
//! door's TLS material and users, the courier's upstream — is built again
//! from the new config, and only when all of them built are they swapped in
//! together. A config that does not load or does not build is refused with
//! its reason and the running one stays. Sessions and delivery attempts under
//! way finish under the config they started with.
//!
//! A few settings are bound when the process starts (listening sockets, the
//! store, the data directory, the number of upstream connections, how often
//! idle throttle entries are swept). A reload
//! keeps their running values and says they need a restart.

use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::sync::{Mutex, Notify};

use crate::clock::Clock;
use crate::config::{Config, ConfigError};
use crate::gateway::{self, Gateway};
use crate::relay::{self, courier};
use crate::smtp::{self, Door};
use crate::store::Store;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "sendwell is running on its built-in defaults (no config file); there is nothing to reload"
    )]
    NoFile,
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Gateway(#[from] gateway::Error),
    #[error("SMTP: {0}")]
    Smtp(#[from] smtp::Error),
    #[error("upstream: {0}")]
    Relay(#[from] relay::Error),
}

/// What a reload did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Applied {
    /// The file read, if any.
    pub source: Option<PathBuf>,
    /// Settings that changed in the file but keep their running value until
    /// a restart, by key.
    pub restart_needed: Vec<&'static str>,
}

/// Owns the swappable parts of a running sendwell.
pub struct Reloader {
    current: ArcSwap<Config>,
    /// The last file as read, before start-up filled in bound ports (port 0
    /// made real): what the next file is compared with.
    as_written: ArcSwap<Config>,
    store: Store,
    clock: Arc<dyn Clock>,
    wakeup: Arc<Notify>,
    door: Arc<ArcSwap<Door>>,
    courier: courier::Reconfigure,
    /// One reload at a time: two racing reloads could otherwise swap in a
    /// door from one and a courier from the other.
    busy: Mutex<()>,
}

/// The settings bound at start, each with how to read it and how to put the
/// running value back into a new config.
type Pinned = (
    &'static str,
    fn(&Config) -> String,
    fn(&mut Config, &Config),
);

const PINNED: &[Pinned] = &[
    (
        "data_dir",
        |c| c.data_dir.display().to_string(),
        |n, o| n.data_dir = o.data_dir.clone(),
    ),
    (
        "store.url",
        |c| format!("{:?}", c.store.url),
        |n, o| n.store.url = o.store.url.clone(),
    ),
    (
        "store.max_connections",
        |c| c.store.max_connections.to_string(),
        |n, o| n.store.max_connections = o.store.max_connections,
    ),
    (
        "server.listen",
        |c| format!("{:?}", c.server.listen),
        |n, o| n.server.listen = o.server.listen.clone(),
    ),
    (
        "server.submission",
        |c| format!("{:?}", c.server.submission),
        |n, o| n.server.submission = o.server.submission.clone(),
    ),
    (
        "server.smtps",
        |c| format!("{:?}", c.server.smtps),
        |n, o| n.server.smtps = o.server.smtps.clone(),
    ),
    (
        "limits.housekeeping_interval",
        |c| format!("{:?}", c.limits.housekeeping_interval),
        |n, o| n.limits.housekeeping_interval = o.limits.housekeeping_interval,
    ),
    (
        "admin (all but token and reviewers)",
        |c| {
            let mut a = c.admin.clone();
            a.token = None;
            a.reviewers.clear();
            format!("{a:?}")
        },
        |n, o| {
            let token = n.admin.token.take();
            let reviewers = std::mem::take(&mut n.admin.reviewers);
            n.admin = o.admin.clone();
            n.admin.token = token;
            n.admin.reviewers = reviewers;
        },
    ),
    (
        "upstream.connections",
        |c| c.upstream.connections.to_string(),
        |n, o| n.upstream.connections = o.upstream.connections,
    ),
];

impl Reloader {
    pub(crate) fn new(
        config: Arc<Config>,
        as_written: Config,
        store: Store,
        clock: Arc<dyn Clock>,
        wakeup: Arc<Notify>,
        door: Arc<ArcSwap<Door>>,
        courier: courier::Reconfigure,
    ) -> Reloader {
        Reloader {
            current: ArcSwap::new(config),
            as_written: ArcSwap::from_pointee(as_written),
            store,
            clock,
            wakeup,
            door,
            courier,
            busy: Mutex::new(()),
        }
    }

    /// The config in force now.
    pub fn config(&self) -> Arc<Config> {
        self.current.load_full()
    }

    /// The clock everything runs on.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// The gateway in force now (what new SMTP sessions use).
    pub fn gateway(&self) -> Arc<Gateway> {
        self.door.load().gateway()
    }

    /// Reads the config file the running config came from again and applies it.
    pub async fn reload(&self) -> Result<Applied, Error> {
        let path = self.config().source.clone().ok_or(Error::NoFile)?;
        // Reading and parsing a small file: not worth the blocking pool.
        let (config, _) = Config::load(Some(&path))?;
        self.apply(config).await
    }

    /// Builds everything from `config` and swaps it in, or changes nothing.
    pub async fn apply(&self, mut config: Config) -> Result<Applied, Error> {
        let _one = self.busy.lock().await;
        let old = self.config();
        let written = self.as_written.load_full();
        let as_read = config.clone();
        let mut restart_needed = Vec::new();
        for (key, read, keep) in PINNED {
            if read(&config) != read(&written) {
                restart_needed.push(*key);
            }
            // The running value, whatever the file says.
            keep(&mut config, &old);
        }
        let source = config.source.clone().or_else(|| old.source.clone());
        config.source = source.clone();
        let config = Arc::new(config);

        let gateway = Arc::new(Gateway::new(
            config.clone(),
            self.store.clone(),
            self.clock.clone(),
            self.wakeup.clone(),
        )?);
        let door = self.door.load().rebuilt(config.clone(), gateway)?;
        let upstream = relay::build_upstreams(&config)?;

        self.door.store(Arc::new(door));
        self.courier.apply(config.clone(), upstream);
        self.current.store(config);
        self.as_written.store(Arc::new(as_read));
        for key in &restart_needed {
            tracing::warn!(
                key,
                "changed in the config file, but keeps its running value until a restart"
            );
        }
        tracing::info!(
            file = ?source,
            "config reloaded: new sessions and deliveries use it"
        );
        Ok(Applied {
            source,
            restart_needed,
        })
    }
}
