//! Several gateway nodes on one PostgreSQL queue: each node's liveness row,
//! the heartbeat that renews its claims, and the takeover of a dead node's
//! claims. Also runs on SQLite (one node), where it costs one small write
//! per heartbeat and shows the node in `sendwell cluster status`.
//!
//! The promise: while a node lives, nobody else starts a copy it holds (its
//! heartbeat renews the lease of everything it holds, however long the
//! attempt takes); when its heartbeat has been silent for
//! `cluster.node_timeout`, a live node puts its claims back in line; a node
//! that could not renew for that long gives up what it was sending
//! ([`Liveness::lost`]) before anyone may take it over.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::clock::Clock;
use crate::shutdown::Shutdown;
use crate::store::{Node, Store};

/// `[cluster]`: how nodes sharing one queue notice each other's death.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// How often a node writes its heartbeat and renews its claims.
    #[serde(with = "humantime_serde")]
    pub heartbeat: Duration,
    /// A node silent this long is dead: its claims go to the others. A node
    /// that could not write its heartbeat this long (less one heartbeat)
    /// stops what it was sending.
    #[serde(with = "humantime_serde")]
    pub node_timeout: Duration,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            heartbeat: Duration::from_secs(5),
            node_timeout: Duration::from_secs(20),
        }
    }
}

impl ClusterConfig {
    /// Checks the rules the takeover depends on.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if self.heartbeat.is_zero() {
            return Err(("cluster.heartbeat".into(), "must be above zero".into()));
        }
        if self.node_timeout < self.heartbeat * 2 {
            return Err((
                "cluster.node_timeout".into(),
                format!(
                    "must be at least two heartbeats ({}), or a live node could be taken for dead",
                    humantime::format_duration(self.heartbeat * 2)
                ),
            ));
        }
        Ok(())
    }

    /// How long a node may fail to write its heartbeat before it gives up
    /// what it sends: one heartbeat before the others may take it over.
    pub fn give_up_after(&self) -> Duration {
        self.node_timeout.saturating_sub(self.heartbeat)
    }
}

/// How a node's row reads at `now`: `alive`, `late` (two heartbeats
/// missed: the others take its claims soon) or `dead` (past the timeout).
pub fn standing(config: &ClusterConfig, node: &Node, now: Timestamp) -> &'static str {
    let silent = now.duration_since(node.heartbeat_at).as_secs_f64();
    if silent >= config.node_timeout.as_secs_f64() {
        "dead"
    } else if silent >= config.heartbeat.as_secs_f64() * 2.0 {
        "late"
    } else {
        "alive"
    }
}

/// This node's standing, as its heartbeat last learnt it: a generation that
/// moves on each time the node loses its claims, and whether it may claim
/// now. Cheap to clone.
#[derive(Clone)]
pub struct Liveness {
    rx: watch::Receiver<Standing>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Standing {
    generation: u64,
    live: bool,
}

impl Liveness {
    /// A liveness that never changes (tests, tools without a heartbeat).
    pub fn always() -> Liveness {
        let (tx, rx) = watch::channel(Standing {
            generation: 0,
            live: true,
        });
        // Kept open for the life of the process: `lost` then never fires.
        std::mem::forget(tx);
        Liveness { rx }
    }

    /// Whether the node's row is written and its heartbeat current, so it
    /// may claim copies.
    pub fn is_live(&self) -> bool {
        self.rx.borrow().live
    }

    /// Resolves when this node has lost its claims (its heartbeat could not
    /// be written for too long, or another node took it for dead) after
    /// this call. An attempt under way stops: it is no longer ours.
    pub async fn lost(&self) {
        let mut rx = self.rx.clone();
        let start = rx.borrow_and_update().generation;
        if rx.wait_for(|s| s.generation != start).await.is_err() {
            // The heartbeat ended (shutdown): nothing was lost.
            std::future::pending::<()>().await;
        }
    }
}

/// The heartbeat of node `id`, until shutdown.
pub struct Heart {
    tx: watch::Sender<Standing>,
}

impl Heart {
    /// Not live until its row is written.
    pub fn new() -> (Heart, Liveness) {
        let (tx, rx) = watch::channel(Standing {
            generation: 0,
            live: false,
        });
        (Heart { tx }, Liveness { rx })
    }

    fn lose(&self) {
        self.tx.send_modify(|s| {
            s.generation += 1;
            s.live = false;
        });
    }

    /// Registers the node (giving back claims it still holds from before
    /// it lost them), then beats every `cluster.heartbeat`: renews
    /// the node's claims for `lease`, takes over those of dead nodes and
    /// wakes `wakeup` when it did. On shutdown the row is left for the
    /// courier to delete with [`Store::leave`] once its claims are given back.
    #[allow(clippy::too_many_arguments)]
    pub async fn run(
        self,
        config: ClusterConfig,
        lease: Duration,
        store: Store,
        clock: Arc<dyn Clock>,
        id: String,
        host: String,
        wakeup: Arc<tokio::sync::Notify>,
        mut shutdown: Shutdown,
    ) {
        let node = |now: Timestamp| Node {
            id: id.clone(),
            host: host.clone(),
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            started_at: now,
            heartbeat_at: now,
            claims: 0,
        };
        let mut registered = false;
        let mut last_ok = Instant::now();
        let mut gave_up = false;
        loop {
            // The courier deletes the row once its claims are given back;
            // a beat after that would write it again.
            if shutdown.is_fired() {
                return;
            }
            let now = clock.now();
            if !registered {
                match store.register_node(&node(now)).await {
                    Ok(()) => {
                        registered = true;
                        self.tx.send_modify(|s| s.live = true);
                        last_ok = Instant::now();
                        gave_up = false;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot write this node's row in the store")
                    }
                }
            } else {
                match store.heartbeat(&id, now, lease, config.node_timeout).await {
                    Ok(beat) if beat.alive => {
                        last_ok = Instant::now();
                        gave_up = false;
                        if beat.taken_over > 0 {
                            tracing::warn!(
                                copies = beat.taken_over,
                                "took over the claims of a node whose heartbeat stopped"
                            );
                            wakeup.notify_one();
                        }
                    }
                    Ok(_) => {
                        tracing::error!(
                            "another node took this one for dead (its heartbeat was late by more than \
                             cluster.node_timeout) and took its claims: stopping what it was sending"
                        );
                        self.lose();
                        registered = false;
                        continue;
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot write this node's heartbeat"),
                }
            }
            if !gave_up && last_ok.elapsed() >= config.give_up_after() {
                tracing::error!(
                    silent = %humantime::format_duration(last_ok.elapsed()),
                    "the store has not taken this node's heartbeat for too long: stopping what it \
                     was sending, as another node may take it over"
                );
                self.lose();
                // Written again (its leftover claims given back) once the
                // store answers.
                registered = false;
                gave_up = true;
            }
            tokio::select! {
                _ = shutdown.wait() => return,
                _ = tokio::time::sleep(config.heartbeat) => {}
            }
        }
    }
}
