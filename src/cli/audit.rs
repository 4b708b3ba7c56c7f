//! `sendwell audit …`: prove the log intact, export it, search it, prune it.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use jiff::Timestamp;

use crate::audit::{Audit, Format, Search};
use crate::config::Config;
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Walk the hash chain; exit 1 naming the first bad record.
    Verify,
    /// Records in a time range (RFC 3339 times or YYYY-MM-DD dates, UTC).
    Export {
        /// From this time on (default: the first record).
        #[arg(long)]
        since: Option<String>,
        /// Before this time (a date means the start of that day; default: now and later).
        #[arg(long)]
        until: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Jsonl)]
        format: Format,
    },
    /// The history of messages by envelope sender, recipient or Message-ID.
    Search {
        #[arg(long)]
        sender: Option<String>,
        #[arg(long)]
        rcpt: Option<String>,
        #[arg(long = "message-id")]
        message_id: Option<String>,
    },
    /// Remove records older than `[audit] retain_days` now (serve does this hourly).
    Prune,
}

pub async fn run(config: &Config, store: &Store, cmd: AuditCmd) -> Result<ExitCode> {
    let audit = Audit::new(store.clone(), &config.audit);
    match cmd {
        AuditCmd::Verify => match audit.verify().await? {
            Ok(ok) => {
                match (ok.first, ok.last) {
                    (Some(a), Some(b)) => {
                        println!("{} records intact from seq {a} to {b}", ok.records)
                    }
                    _ => println!("0 records: the audit log is empty"),
                }
                if ok.anchor_seq > 0 {
                    println!(
                        "records up to seq {} were pruned by retention",
                        ok.anchor_seq
                    );
                }
                println!("head hash {}", ok.head_hash);
                Ok(ExitCode::SUCCESS)
            }
            Err(broken) => {
                println!("audit log BROKEN: {broken}");
                Ok(ExitCode::FAILURE)
            }
        },
        AuditCmd::Export {
            since,
            until,
            format,
        } => {
            let since = match since {
                Some(s) => parse_time(&s).with_context(|| format!("--since '{s}'"))?,
                None => Timestamp::MIN,
            };
            let until = match until {
                Some(s) => parse_time(&s).with_context(|| format!("--until '{s}'"))?,
                None => Timestamp::MAX,
            };
            let mut out = std::io::stdout().lock();
            audit.export(since, until, format, &mut out).await?;
            Ok(ExitCode::SUCCESS)
        }
        AuditCmd::Search {
            sender,
            rcpt,
            message_id,
        } => {
            if sender.is_none() && rcpt.is_none() && message_id.is_none() {
                bail!("say what to look for: --sender, --rcpt or --message-id");
            }
            let found = audit
                .search(&Search {
                    sender,
                    rcpt,
                    message_id,
                })
                .await?;
            if found.is_empty() {
                eprintln!("no record matches");
                return Ok(ExitCode::FAILURE);
            }
            for r in &found {
                println!("{}", r.to_json());
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCmd::Prune => {
            if config.audit.retain_days == 0 {
                println!("[audit] retain_days is 0 (keep forever): nothing pruned");
                return Ok(ExitCode::SUCCESS);
            }
            let p = audit
                .prune(config.audit.retain_days, Timestamp::now())
                .await?;
            match p.through_seq {
                Some(through) => println!(
                    "{} record(s) older than {} days pruned, up to seq {through}",
                    p.removed, config.audit.retain_days
                ),
                None => println!("no record is older than {} days", config.audit.retain_days),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// An RFC 3339 time, or a date (its midnight, UTC).
fn parse_time(s: &str) -> Result<Timestamp> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    let date: jiff::civil::Date = s
        .parse()
        .context("expected an RFC 3339 time (2026-11-20T09:00:00Z) or a date (2026-11-20)")?;
    Ok(date.to_zoned(jiff::tz::TimeZone::UTC)?.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_dates() {
        assert_eq!(
            parse_time("2026-11-20").unwrap(),
            "2026-11-20T00:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(
            parse_time("2026-11-20T09:30:00+01:00").unwrap(),
            "2026-11-20T08:30:00Z".parse::<Timestamp>().unwrap()
        );
        assert!(parse_time("yesterday").is_err());
    }
}
