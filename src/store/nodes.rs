//! Gateway nodes sharing one queue (table `nodes`): who is alive, and the
//! claims that follow a node's life.
//!
//! Each node writes its row on every heartbeat and, in the same
//! transaction, renews the lease of every copy it holds, so an attempt
//! longer than `relay.lease` keeps its claim while the node lives. A node
//! whose row is older than the node timeout is dead: any live node gives
//! its claims back to the queue and deletes its row, so its mail goes out
//! within the node timeout instead of waiting out the full lease.
//! One round-trip per heartbeat, none per message.

use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;

use super::sql::ts;
use super::{Result, Store};

/// One node as its row says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    /// The name its claims carry (`host/pid/random`).
    pub id: String,
    pub host: String,
    pub pid: u32,
    /// The sendwell version it runs.
    pub version: String,
    pub started_at: Timestamp,
    pub heartbeat_at: Timestamp,
    /// Copies it holds right now (being attempted or waiting for a slot).
    pub claims: u64,
}

/// What one heartbeat found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    /// False when the node's row was gone: another node took it for dead
    /// and gave its claims away, so nothing it still sends is its own.
    pub alive: bool,
    /// Claims whose lease was renewed.
    pub renewed: u64,
    /// Claims of dead nodes put back in line.
    pub taken_over: u64,
}

impl Store {
    /// Writes the node's row (new, or after it lost its claims) and puts
    /// back in line whatever it still holds: attempts it gave up.
    pub async fn register_node(&self, node: &Node) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE deliveries SET state = CASE WHEN attempts > 0 THEN 'deferred' ELSE 'queued' END, \
             owner = NULL, lease_until = NULL, updated_at = $1 WHERE state = 'delivering' AND owner = $2",
        )
        .bind(node.heartbeat_at.as_millisecond())
        .bind(node.id.as_str())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM nodes WHERE id = $1")
            .bind(node.id.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO nodes (id, host, pid, version, started_at, heartbeat_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(node.id.as_str())
        .bind(node.host.as_str())
        .bind(i64::from(node.pid))
        .bind(node.version.as_str())
        .bind(node.started_at.as_millisecond())
        .bind(node.heartbeat_at.as_millisecond())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One heartbeat of node `id` at `now`, in one transaction: its row is
    /// touched, its claims' leases run until `now + lease`, and the claims
    /// of nodes silent for longer than `timeout` go back in line (their
    /// rows are deleted).
    pub async fn heartbeat(
        &self,
        id: &str,
        now: Timestamp,
        lease: Duration,
        timeout: Duration,
    ) -> Result<Heartbeat> {
        let now_ms = now.as_millisecond();
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
        let timeout_ms = i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX);
        let dead_before = now_ms.saturating_sub(timeout_ms);
        let mut tx = self.begin_write().await?;
        let alive = sqlx::query("UPDATE nodes SET heartbeat_at = $1 WHERE id = $2")
            .bind(now_ms)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        let renewed = if alive {
            sqlx::query(
                "UPDATE deliveries SET lease_until = $1 WHERE state = 'delivering' AND owner = $2",
            )
            .bind(now_ms.saturating_add(lease_ms))
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
        } else {
            0
        };
        // Back in line: claimable at once (the lease is over), attempts kept.
        let taken_over = sqlx::query(
            "UPDATE deliveries SET state = CASE WHEN attempts > 0 THEN 'deferred' ELSE 'queued' END, \
             owner = NULL, lease_until = NULL, updated_at = $1 \
             WHERE state = 'delivering' AND owner IN (SELECT id FROM nodes WHERE heartbeat_at < $2)",
        )
        .bind(now_ms)
        .bind(dead_before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("DELETE FROM nodes WHERE heartbeat_at < $1")
            .bind(dead_before)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Heartbeat {
            alive,
            renewed,
            taken_over,
        })
    }

    /// Deletes a node's row (clean shutdown, after its claims were given back).
    pub async fn leave(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM nodes WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Every node with a row, oldest first, with the claims each holds.
    pub async fn nodes(&self) -> Result<Vec<Node>> {
        let rows = sqlx::query(
            "SELECT n.id, n.host, n.pid, n.version, n.started_at, n.heartbeat_at, \
                    (SELECT COUNT(*) FROM deliveries d WHERE d.state = 'delivering' AND d.owner = n.id) AS claims \
             FROM nodes n ORDER BY n.started_at, n.id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Node {
                    id: r.try_get("id")?,
                    host: r.try_get("host")?,
                    pid: u32::try_from(r.try_get::<i64, _>("pid")?).unwrap_or(0),
                    version: r.try_get("version")?,
                    started_at: ts(r.try_get("started_at")?)?,
                    heartbeat_at: ts(r.try_get("heartbeat_at")?)?,
                    claims: u64::try_from(r.try_get::<i64, _>("claims")?).unwrap_or(0),
                })
            })
            .collect()
    }
}
