//! What is kept, and for how long: the audit log (`[audit] retain_days`),
//! finished messages (`[store] keep_days`) and the caps ledger (as far back
//! as the caps look, a day more). One task prunes all three every
//! `[audit] prune_interval`, reading the settings again each round, so a
//! live reload that changes them takes effect at the next round.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use crate::audit::Audit;
use crate::clock::{Clock, before, days};
use crate::config::Config;
use crate::shutdown::Shutdown;
use crate::store::Pruned;
use crate::store::Store;

/// Messages deleted per transaction: short transactions leave the queue
/// free for the door and the courier in between.
const PRUNE_BATCH: usize = 500;

/// What one round removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Removed {
    pub audit_records: u64,
    pub messages: u64,
    pub ledger_rows: u64,
}

/// Prunes at once what the settings let go, as of `now`. A part that fails
/// is logged and the others still run.
pub async fn prune(store: &Store, audit: &Audit, config: &Config, now: Timestamp) -> Removed {
    let mut removed = Removed::default();
    match audit.prune(config.audit.retain_days, now).await {
        Ok(Pruned {
            removed: n,
            through_seq: Some(through),
        }) => {
            removed.audit_records = n;
            tracing::info!(removed = n, through, "audit records past retention pruned");
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot prune the audit log"),
    }
    if config.store.keep_days > 0 {
        let cutoff = before(now, days(config.store.keep_days));
        loop {
            match store.prune_finished(cutoff, PRUNE_BATCH).await {
                Ok(n) => {
                    removed.messages += n;
                    if n < PRUNE_BATCH as u64 {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot delete finished messages");
                    break;
                }
            }
        }
        if removed.messages > 0 {
            tracing::info!(
                messages = removed.messages,
                keep_days = config.store.keep_days,
                "finished messages past keep_days deleted"
            );
        }
    }
    let caps = &config.caps;
    let looked_at = caps.cold_gap.max(caps.repeat_window).max(days(1));
    let cutoff = before(now, looked_at.saturating_add(days(1)));
    match store.prune_ledger(cutoff).await {
        Ok(n) => removed.ledger_rows = n,
        Err(e) => tracing::warn!(error = %e, "cannot prune the caps ledger"),
    }
    use crate::metrics::retention_removed;
    retention_removed("audit_records", removed.audit_records);
    retention_removed("messages", removed.messages);
    retention_removed("ledger_rows", removed.ledger_rows);
    removed
}

/// Runs [`prune`] every `[audit] prune_interval` until shutdown, with the
/// configuration `current` gives at each round.
pub async fn run(
    store: Store,
    current: impl Fn() -> Arc<Config>,
    clock: Arc<dyn Clock>,
    mut shutdown: Shutdown,
) {
    loop {
        let config = current();
        let audit = Audit::new(store.clone(), &config.audit);
        prune(&store, &audit, &config, clock.now()).await;
        tokio::select! {
            _ = shutdown.wait() => return,
            _ = tokio::time::sleep(config.audit.prune_interval.max(Duration::from_secs(1))) => {}
        }
    }
}
