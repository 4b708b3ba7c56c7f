//! `sendwell check FILE.eml`: the very same judge and config as the server,
//! offline, for a writer or a script. Exit 0 when the check ran (whatever
//! the verdict), 1 with `--fail-on` at or above that verdict, 2 on bad input.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};

use crate::config::Config;
use crate::gateway::{Recipient, annotate_plan, recipient_of};
use crate::message::MessageFacts;
use crate::message::prepare;
use crate::policy::{self, Decision, Judge, RecipientFacts, SenderFacts};
use crate::recipient::{DomainVerdict, RecipientChecker};
use crate::schedule::Schedule;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The message to check (an .eml file as a mail program saves it).
    pub file: PathBuf,
    /// A recipient to judge for (repeatable); default: the message's To and Cc.
    #[arg(long = "rcpt")]
    pub rcpts: Vec<String>,
    /// The envelope sender; default: the message's From.
    #[arg(long)]
    pub from: Option<String>,
    /// Judge as if sent at this time (RFC 3339, e.g. 2026-12-24T18:00:00+01:00); default: now.
    #[arg(long)]
    pub at: Option<String>,
    /// Skip checks that need DNS (the recipient-domain checks).
    #[arg(long)]
    pub no_dns: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit 1 when the verdict is at least this (for scripts and CI).
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FailOn {
    Hold,
    Reject,
}

pub fn run(config: &Config, args: CheckArgs) -> Result<ExitCode> {
    let raw = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let now = match &args.at {
        Some(t) => parse_time(t)?,
        None => jiff::Timestamp::now(),
    };
    let data = prepare::canonicalize(&raw);
    let facts = MessageFacts::parse(&data)
        .with_context(|| format!("{} is not a readable message", args.file.display()))?;
    let rcpts: Vec<String> = if args.rcpts.is_empty() {
        facts
            .to
            .iter()
            .chain(&facts.cc)
            .map(|m| m.address.clone())
            .collect()
    } else {
        args.rcpts.clone()
    };
    if rcpts.is_empty() {
        bail!("the message has no To or Cc; name the recipients with --rcpt ADDRESS");
    }
    for r in &rcpts {
        crate::gateway::check_rcpt_syntax(r)
            .map_err(|reply| anyhow::anyhow!("--rcpt {r}: {}", reply.text))?;
    }
    let mail_from = args
        .from
        .clone()
        .or_else(|| facts.from.as_ref().map(|m| m.address.clone()))
        .unwrap_or_default();
    let sender = SenderFacts {
        mail_from,
        auth_user: None,
        allowed_from: None,
        dmarc_will_fail: None,
    };
    let schedule = Schedule::new(&config.schedule)?;
    let people: Vec<Recipient> = rcpts
        .iter()
        .map(|r| recipient_of(&schedule, r, None))
        .collect();
    let recipients: Vec<RecipientFacts> = people.iter().map(|p| p.facts.clone()).collect();
    let verdict = Judge::new(&config.policy).evaluate(&facts, &sender, &recipients, now);
    let is_reply = facts.thread.is_reply();
    let key = facts.subject.clone().unwrap_or_default();
    let plans: Vec<jiff::Timestamp> = people
        .iter()
        .zip(&rcpts)
        .map(|(p, r)| {
            schedule
                .plan(now, &p.placement, is_reply, &format!("{key}/{r}"))
                .at
        })
        .collect();
    let dns = if args.no_dns || !config.dns.checks {
        Vec::new()
    } else {
        dns_refusals(config, &rcpts)?
    };
    let lang = config.notices.language;
    match args.format {
        Format::Json => {
            let mut j = policy::report::to_json(&verdict, lang);
            annotate_plan(
                &mut j,
                rcpts
                    .iter()
                    .zip(&plans)
                    .zip(&people)
                    .map(|((r, at), p)| (r.as_str(), *at, &p.placement)),
            );
            if let Some(list) = j.get_mut("recipients").and_then(|r| r.as_array_mut()) {
                for (entry, rcpt) in list.iter_mut().zip(&rcpts) {
                    if let Some((_, reply)) = dns.iter().find(|(a, _)| a == rcpt) {
                        entry["verdict"] = "reject".into();
                        if let Some(hits) = entry["hits"].as_array_mut() {
                            hits.push(serde_json::json!({
                                "id": "RCPT_DNS", "score": 0.0,
                                "explanation": format!("{rcpt}: {reply}"),
                                "fix": "Check the address with the customer."
                            }));
                        }
                    }
                }
            }
            println!("{}", serde_json::to_string_pretty(&j)?);
        }
        Format::Text => {
            print!(
                "{}",
                policy::report::render_text(&verdict, lang, std::io::stdout().is_terminal())
            );
            println!();
            for ((p, at), r) in people.iter().zip(&plans).zip(&rcpts) {
                let local = at.to_zoned(p.placement.zone.clone());
                let when = if *at <= now {
                    "at once"
                } else {
                    "deferred to business hours"
                };
                println!(
                    "{r}: would go {} {} ({when}; zone from {})",
                    local.strftime("%a %Y-%m-%d %H:%M"),
                    p.placement.zone_name(),
                    p.placement.source
                );
            }
            for (r, reply) in &dns {
                println!("{r}: refused at RCPT: {reply}");
            }
        }
    }
    let worst = if dns.is_empty() {
        verdict.overall()
    } else {
        Decision::Reject
    };
    let failed = match args.fail_on {
        Some(FailOn::Hold) => worst >= Decision::Hold,
        Some(FailOn::Reject) => worst >= Decision::Reject,
        None => false,
    };
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn parse_time(t: &str) -> Result<jiff::Timestamp> {
    t.parse::<jiff::Timestamp>()
        .or_else(|_| t.parse::<jiff::Zoned>().map(|z| z.timestamp()))
        .with_context(|| format!("--at '{t}' is not a time like 2026-12-24T18:00:00+01:00"))
}

/// Recipients whose domain DNS refuses (or cannot vouch for), with the reply
/// the server would give at RCPT.
fn dns_refusals(config: &Config, rcpts: &[String]) -> Result<Vec<(String, String)>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let checker = RecipientChecker::new(&config.dns)?;
        let mut out = Vec::new();
        for r in rcpts {
            match checker.check_address(r).await {
                DomainVerdict::Refuse { reply, .. } | DomainVerdict::TryLater { reply, .. } => {
                    out.push((r.clone(), reply.to_string()))
                }
                _ => {}
            }
        }
        Ok(out)
    })
}
