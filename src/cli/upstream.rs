//! `sendwell upstream status|resume`: the routes to the provider, paused
//! or sending, read from and steered through the store (the running server
//! sees a resume within its poll interval).

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use serde_json::json;

use super::check::Format;
use crate::config::Config;
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum UpstreamCmd {
    /// Each route: sending or paused (since, until, the provider's reply), and the copies waiting.
    Status {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Resume a paused route at once (every route when ROUTE is left out).
    Resume { route: Option<String> },
}

pub async fn run(config: &Config, store: &Store, cmd: UpstreamCmd) -> Result<ExitCode> {
    match cmd {
        UpstreamCmd::Status { format } => status(config, store, format).await,
        UpstreamCmd::Resume { route } => {
            let names = config.route_names();
            if let Some(r) = &route
                && !names.contains(&r.as_str())
            {
                eprintln!("error: no route named '{r}' (routes: {})", names.join(", "));
                return Ok(ExitCode::FAILURE);
            }
            let n = store
                .resume_routes(
                    route.as_deref(),
                    None,
                    &crate::ops::cli_actor(),
                    "an operator resumed it",
                )
                .await?;
            if n == 0 {
                println!("nothing to resume: no route is paused");
            } else {
                println!(
                    "resumed {}: the waiting mail goes now",
                    route.as_deref().unwrap_or("every paused route")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn status(config: &Config, store: &Store, format: Format) -> Result<ExitCode> {
    let pauses = store.route_pauses().await?;
    let waiting = store.waiting_by_route().await?;
    let mut rows = Vec::new();
    for name in config.route_names() {
        let route = config.route(name).unwrap_or(&config.upstream);
        let mut target = route.url.as_deref().unwrap_or("outbox").to_string();
        let login = route.username.as_deref().map(|u| match route.auth {
            crate::config::UpstreamAuth::Xoauth2 => format!("XOAUTH2 as {u}"),
            crate::config::UpstreamAuth::Password => format!("password as {u}"),
        });
        if let Some(l) = &login {
            target.push_str(&format!(", {l}"));
        }
        if let Some(p) = &route.proxy {
            target.push_str(&format!(", via {p}"));
        }
        let pause = pauses.iter().find(|p| p.route == name);
        let waiting = waiting
            .iter()
            .find(|(r, _)| r == name)
            .map_or(0, |(_, n)| *n);
        match format {
            Format::Json => rows.push(json!({
                "route": name,
                "upstream": route.url.as_deref().unwrap_or("outbox"),
                "login": login,
                "proxy": route.proxy,
                "users": route.users,
                "from": route.from,
                "state": if pause.is_some() { "paused" } else { "sending" },
                "reason": pause.map(|p| p.kind.as_str()),
                "paused_since": pause.map(|p| p.since.to_string()),
                "paused_until": pause.map(|p| p.until.to_string()),
                "reply": pause.map(|p| p.reply.as_str()),
                "probes": pause.map(|p| p.probes),
                "waiting": waiting,
            })),
            Format::Text => match pause {
                None => println!("{name} ({target}): sending; {waiting} copies waiting"),
                Some(p) => {
                    println!(
                        "{name} ({target}): PAUSED ({}) since {}; next probe at {}; {waiting} copies waiting",
                        p.kind, p.since, p.until
                    );
                    println!("  the provider said: {}", p.reply);
                    println!("  resume now: sendwell upstream resume {name}");
                }
            },
        }
    }
    if matches!(format, Format::Json) {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "routes": rows }))?
        );
    }
    Ok(ExitCode::SUCCESS)
}
