//! `sendwell cluster status`: the gateway nodes sharing this queue, read
//! from their heartbeat rows in the store.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use jiff::Timestamp;
use serde_json::json;

use super::check::Format;
use crate::config::Config;
use crate::display;
use crate::store::{Node, Store};

#[derive(Debug, Subcommand)]
pub enum ClusterCmd {
    /// Each node: host, process, version, last heartbeat, claims held, and
    /// whether it counts as alive.
    Status {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

pub async fn run(config: &Config, store: &Store, cmd: ClusterCmd) -> Result<ExitCode> {
    match cmd {
        ClusterCmd::Status { format } => status(config, store, format).await,
    }
}

fn standing(config: &Config, node: &Node, now: Timestamp) -> &'static str {
    crate::cluster::standing(&config.cluster, node, now)
}

async fn status(config: &Config, store: &Store, format: Format) -> Result<ExitCode> {
    let nodes = store.nodes().await?;
    let now = Timestamp::now();
    match format {
        Format::Json => {
            let rows: Vec<_> = nodes
                .iter()
                .map(|n| {
                    json!({
                        "id": n.id,
                        "host": n.host,
                        "pid": n.pid,
                        "version": n.version,
                        "started_at": n.started_at.to_string(),
                        "heartbeat_at": n.heartbeat_at.to_string(),
                        "heartbeat_age_ms": now.duration_since(n.heartbeat_at).as_millis_f64().round() as i64,
                        "claims": n.claims,
                        "state": standing(config, n, now),
                    })
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({
                    "node_timeout_ms": config.cluster.node_timeout.as_millis() as u64,
                    "nodes": rows,
                }))?
            );
        }
        Format::Text => {
            if nodes.is_empty() {
                println!("no node is running on this store");
                return Ok(ExitCode::SUCCESS);
            }
            let rows: Vec<Vec<String>> = nodes
                .iter()
                .map(|n| {
                    vec![
                        n.id.clone(),
                        n.version.clone(),
                        n.started_at.to_string(),
                        format!(
                            "{:.1}s ago",
                            now.duration_since(n.heartbeat_at).as_secs_f64()
                        ),
                        n.claims.to_string(),
                        standing(config, n, now).to_string(),
                    ]
                })
                .collect();
            print!(
                "{}",
                display::table(
                    &["NODE", "VERSION", "STARTED", "HEARTBEAT", "CLAIMS", "STATE"],
                    &rows
                )
            );
            println!(
                "a node silent for {} is dead: its claims go to the others",
                humantime::format_duration(config.cluster.node_timeout)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
