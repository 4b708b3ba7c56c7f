//! Wiring for `sendwell serve`: opens the store, starts the courier and the
//! SMTP door, and stops them in that order's reverse. Tests start the very
//! same thing in-process with [`start`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, UpstreamTarget};
use crate::gateway::Gateway;
use crate::relay::{self, Courier};
use crate::shutdown::{self, Trigger};
use crate::smtp::{self, Door};
use crate::store::{self, Store};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the queue at {url}: {source}")]
    Store { url: String, source: store::Error },
    #[error("upstream: {0}")]
    Relay(#[from] relay::Error),
    #[error("SMTP: {0}")]
    Smtp(#[from] smtp::Error),
    #[error("{0}")]
    Gateway(#[from] crate::gateway::Error),
    #[error(
        "cannot listen on {addr}: {source} (is another sendwell or mail server running there?)"
    )]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A running sendwell: its SMTP addresses and the handle to stop it.
pub struct Running {
    /// Where the SMTP door actually listens (port 0 in the config resolved).
    pub smtp_addrs: Vec<SocketAddr>,
    pub store: Store,
    trigger: Trigger,
    doors: Vec<JoinHandle<()>>,
    courier: JoinHandle<()>,
}

/// Starts everything the config asks for and returns once the listeners are
/// bound, so a caller (or a test) can connect at once.
pub async fn start(config: Config) -> Result<Running, Error> {
    start_with_clock(config, Arc::new(SystemClock)).await
}

pub async fn start_with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<Running, Error> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| Error::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;
    let url = config.store_url();
    let store = Store::open(&url, config.store.max_connections)
        .await
        .map_err(|source| Error::Store {
            url: redact_url(&url),
            source,
        })?;
    if store.dialect() == store::Dialect::Sqlite {
        // One node per SQLite file: claims still held can only be a crashed
        // predecessor's, and need not wait for their leases to run out.
        match store.release_all_claims().await {
            Ok(0) => {}
            Ok(n) => tracing::warn!("took back {n} deliveries claimed before an unclean stop"),
            Err(e) => {
                tracing::warn!(error = %e, "could not take back old claims; they return when their leases end")
            }
        }
    }
    let upstream = relay::build_upstream(&config)?;
    match config.upstream_target() {
        Ok(UpstreamTarget::Outbox(dir)) => tracing::warn!(
            "no upstream configured: mail is NOT sent, it is written to {} as .eml files. \
             Set [upstream] url in sendwell.toml to relay through your mail provider.",
            dir.display()
        ),
        _ => tracing::info!("relaying through {}", upstream.describe()),
    }

    tracing::info!(
        judge = config.policy.enabled,
        dns_checks = config.dns.checks,
        business_hours = config.schedule.enabled,
        caps = config.caps.enabled,
        "stages (switch each in sendwell.toml)"
    );
    let config = Arc::new(config);
    let (trigger, shutdown) = shutdown::channel();
    let wakeup = Arc::new(Notify::new());
    let gateway = Arc::new(Gateway::new(
        config.clone(),
        store.clone(),
        clock.clone(),
        wakeup.clone(),
    )?);

    let courier = Courier::new(config.clone(), store.clone(), upstream, clock, wakeup);
    let courier = tokio::spawn(courier.run(shutdown.clone()));

    let door = Arc::new(Door::new(config.clone(), gateway)?);
    let mut doors = Vec::new();
    let mut smtp_addrs = Vec::new();
    for addr in &config.server.listen {
        let listener = match TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(source) => {
                trigger.fire();
                return Err(Error::Bind {
                    addr: *addr,
                    source,
                });
            }
        };
        let local = listener.local_addr().map_err(|source| Error::Bind {
            addr: *addr,
            source,
        })?;
        tracing::info!("SMTP listening on {local}");
        smtp_addrs.push(local);
        doors.push(tokio::spawn(door.clone().serve(listener, shutdown.clone())));
    }
    Ok(Running {
        smtp_addrs,
        store,
        trigger,
        doors,
        courier,
    })
}

impl Running {
    /// Stops accepting mail, lets sessions and in-flight deliveries finish,
    /// then closes the store.
    pub async fn stop(self) {
        self.trigger.fire();
        for d in self.doors {
            let _ = d.await;
        }
        let _ = self.courier.await;
        self.store.close().await;
        tracing::info!("stopped");
    }
}

/// A store URL fit for a log line: no password.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_password() {
        assert_eq!(
            super::redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact_url("sqlite://./x.db"), "sqlite://./x.db");
    }
}
