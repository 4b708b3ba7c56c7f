//! Wiring for `sendwell serve`: opens the store, starts the courier and the
//! SMTP door, and stops them in that order's reverse. Tests start the very
//! same thing in-process with [`start`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::admin::Admin;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, UpstreamTarget};
use crate::gateway::Gateway;
use crate::relay::{self, Courier};
use crate::reload::Reloader;
use crate::shutdown::{self, Trigger};
use crate::smtp::{self, Door, Port, Throttles};
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
        "cannot listen on {addr} for the review page: {source} (set [admin] listen to another address, or enabled = false)"
    )]
    AdminBind {
        addr: SocketAddr,
        source: std::io::Error,
    },
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
    /// Where the submission listeners (`server.submission`) actually listen.
    pub submission_addrs: Vec<SocketAddr>,
    /// Where the implicit-TLS listeners (`server.smtps`) actually listen.
    pub smtps_addrs: Vec<SocketAddr>,
    /// Where the review page listens, when `[admin] enabled`.
    pub admin_addr: Option<SocketAddr>,
    pub store: Store,
    reloader: Arc<Reloader>,
    trigger: Trigger,
    doors: Vec<JoinHandle<()>>,
    courier: JoinHandle<()>,
    retention: JoinHandle<()>,
    advice: JoinHandle<()>,
    admin: Option<JoinHandle<()>>,
    inboxes: Vec<JoinHandle<()>>,
}

/// Starts everything the config asks for and returns once the listeners are
/// bound, so a caller (or a test) can connect at once.
/// Everything `serve` prepares before it binds a port or opens a
/// connection, checked without doing either: the data directory is
/// writable, the store URL is one sendwell speaks, the upstream's secrets
/// are there, the TLS certificate and key are readable and match, the
/// schedule and DNS settings build. Each problem names its key.
pub fn preflight(config: &Config) -> Vec<String> {
    let mut problems = Vec::new();
    let dir = &config.data_dir;
    let probe = dir.join(".sendwell-write-test");
    let writable = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&probe, b"ok"))
        .and_then(|()| std::fs::remove_file(&probe));
    if let Err(e) = writable {
        problems.push(format!(
            "data_dir: cannot write to {}: {}",
            dir.display(),
            crate::display::io_cause(&e)
        ));
    }
    let url = config.store_url();
    if !(url.starts_with("sqlite:")
        || url.starts_with("postgres://")
        || url.starts_with("postgresql://"))
    {
        problems.push(format!(
            "store.url: '{}' is not sqlite://PATH or postgres://USER@HOST/DB",
            redact_url(&url)
        ));
    }
    if let Err(e) = relay::build_upstreams(config) {
        problems.push(e.to_string());
    }
    match (&config.server.tls_cert, &config.server.tls_key) {
        (Some(cert), Some(key)) => {
            let mut readable = true;
            for (name, path) in [("server.tls_cert", cert), ("server.tls_key", key)] {
                if let Err(e) = std::fs::File::open(path) {
                    readable = false;
                    problems.push(format!(
                        "{name}: cannot read {}: {}",
                        path.display(),
                        crate::display::io_cause(&e)
                    ));
                }
            }
            if readable && let Err(e) = smtp::check_tls(config) {
                problems.push(format!("server.tls_cert / server.tls_key: {e}"));
            }
        }
        (Some(_), None) => problems.push("server.tls_key: set it beside server.tls_cert".into()),
        (None, Some(_)) => problems.push("server.tls_cert: set it beside server.tls_key".into()),
        (None, None) => {}
    }
    if let Err(e) = crate::schedule::Schedule::new(&config.schedule) {
        problems.push(format!("schedule: {e}"));
    }
    if config.dns.checks
        && let Err(e) = crate::recipient::RecipientChecker::new(&config.dns)
    {
        problems.push(e.to_string());
    }
    for (i, ib) in config.inbox.iter().enumerate() {
        if let Err(e) = ib.password(i) {
            problems.push(e);
        }
    }
    problems
}

pub async fn start(config: Config) -> Result<Running, Error> {
    start_with_clock(config, Arc::new(SystemClock)).await
}

pub async fn start_with_clock(mut config: Config, clock: Arc<dyn Clock>) -> Result<Running, Error> {
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
        match store.release_all_claims(clock.now()).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!("took back {n} deliveries claimed before an unclean stop"),
            Err(e) => {
                tracing::warn!(error = %e, "could not take back old claims; they return when their leases end")
            }
        }
    }
    let upstream = relay::build_upstreams(&config)?;
    match config.upstream_target() {
        Ok(UpstreamTarget::Outbox(dir)) => tracing::warn!(
            "no upstream configured: mail is NOT sent, it is written to {} as .eml files. \
             Set [upstream] url in sendwell.toml to relay through your mail provider.",
            dir.display()
        ),
        _ => tracing::info!("relaying through {}", upstream.describe()),
    }
    for r in &config.upstream.routes {
        tracing::info!(
            route = r.name.as_deref().unwrap_or(""),
            users = ?r.users,
            from = ?r.from,
            "route: mail of these logins or senders goes its own way"
        );
    }

    tracing::info!(
        judge = config.policy.enabled,
        dns_checks = config.dns.checks,
        business_hours = config.schedule.enabled,
        caps = config.caps.enabled,
        "stages (switch each in sendwell.toml)"
    );
    // What the file said, before the bound ports are filled in below: a
    // reload compares the next file with this.
    let as_written = config.clone();
    // The review page's address is known before the gateway writes links to it.
    let admin_listener = if config.admin.enabled {
        let addr = config.admin.listen;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| Error::AdminBind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| Error::AdminBind { addr, source })?;
        config.admin.listen = local;
        Some(listener)
    } else {
        None
    };
    let config = Arc::new(config);
    let (trigger, shutdown) = shutdown::channel();
    let wakeup = Arc::new(Notify::new());
    let gateway = Arc::new(Gateway::new(
        config.clone(),
        store.clone(),
        clock.clone(),
        wakeup.clone(),
    )?);

    let courier = Courier::new(
        config.clone(),
        store.clone(),
        upstream,
        clock.clone(),
        wakeup.clone(),
    );
    // The node's heartbeat: its row in the store, its claims renewed while
    // it lives, a dead node's claims taken over (see crate::cluster).
    let (heart, liveness) = crate::cluster::Heart::new();
    tokio::spawn(heart.run(
        config.cluster.clone(),
        config.relay.lease,
        store.clone(),
        clock.clone(),
        courier.owner(),
        config.server.hostname.clone(),
        wakeup.clone(),
        shutdown.clone(),
    ));
    let courier = courier.with_liveness(liveness);
    let reconfigure = courier.reconfigure();
    let courier = tokio::spawn(courier.run(shutdown.clone()));

    // Made once: a door rebuilt from a new config keeps these counts.
    // Counted in the store when nodes may share it (PostgreSQL).
    let throttles = Arc::new(Throttles::new(store.counting()));
    let housekeeping = tokio::spawn(
        throttles
            .clone()
            .housekeep(config.limits.housekeeping_interval, shutdown.clone()),
    );
    let door = Arc::new(ArcSwap::from_pointee(Door::new(
        config.clone(),
        gateway,
        throttles,
    )?));
    let reloader = Arc::new(Reloader::new(
        config.clone(),
        as_written,
        store.clone(),
        clock.clone(),
        wakeup.clone(),
        door.clone(),
        reconfigure,
    ));
    let retention = tokio::spawn(crate::retention::run(
        store.clone(),
        {
            let reloader = reloader.clone();
            move || reloader.config()
        },
        clock.clone(),
        shutdown.clone(),
    ));
    let advice = tokio::spawn(crate::advice::run(
        store.clone(),
        {
            let reloader = reloader.clone();
            move || reloader.config()
        },
        clock.clone(),
        wakeup.clone(),
        shutdown.clone(),
    ));
    let inboxes = crate::inbox::spawn_all(
        config.clone(),
        store.clone(),
        clock.clone(),
        wakeup.clone(),
        shutdown.clone(),
    );
    let admin_addr = admin_listener.as_ref().and_then(|l| l.local_addr().ok());
    let admin = admin_listener.map(|listener| {
        let admin = Admin::new(reloader.clone(), store.clone(), wakeup.clone());
        tracing::info!(
            "review page on {}",
            config.admin.base_url(&config.server.hostname)
        );
        tokio::spawn(admin.serve(listener, shutdown.clone()))
    });
    let mut doors = vec![housekeeping];
    let mut smtp_addrs = Vec::new();
    let mut submission_addrs = Vec::new();
    let mut smtps_addrs = Vec::new();
    let listeners = config
        .server
        .listen
        .iter()
        .map(|a| (a, Port::Smtp))
        .chain(
            config
                .server
                .submission
                .iter()
                .map(|a| (a, Port::Submission)),
        )
        .chain(config.server.smtps.iter().map(|a| (a, Port::Smtps)));
    for (addr, port) in listeners {
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
        match port {
            Port::Smtp => {
                tracing::info!("SMTP listening on {local}");
                smtp_addrs.push(local);
            }
            Port::Submission => {
                tracing::info!("SMTP submission (STARTTLS, then AUTH) listening on {local}");
                submission_addrs.push(local);
            }
            Port::Smtps => {
                tracing::info!(
                    "SMTP submission over implicit TLS (then AUTH) listening on {local}"
                );
                smtps_addrs.push(local);
            }
        }
        doors.push(tokio::spawn(Door::serve_current(
            door.clone(),
            listener,
            port,
            shutdown.clone(),
        )));
    }
    Ok(Running {
        smtp_addrs,
        submission_addrs,
        smtps_addrs,
        admin_addr,
        admin,
        store,
        reloader,
        trigger,
        doors,
        courier,
        retention,
        advice,
        inboxes,
    })
}

impl Running {
    /// Applies a new config to the running server (see [`crate::reload`]).
    pub fn reloader(&self) -> Arc<Reloader> {
        Arc::clone(&self.reloader)
    }

    /// Stops accepting mail, lets sessions and in-flight deliveries finish,
    /// then closes the store.
    pub async fn stop(self) {
        self.trigger.fire();
        for d in self.doors {
            let _ = d.await;
        }
        let _ = self.courier.await;
        if let Some(a) = self.admin {
            let _ = a.await;
        }
        let _ = self.retention.await;
        let _ = self.advice.await;
        for i in self.inboxes {
            let _ = i.await;
        }
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
