//! `sendwell check FILE.eml`: the very same judge and config as the server,
//! offline, for a writer or a script. Exit 0 when the check ran (whatever
//! the verdict), 1 with `--fail-on` at or above that verdict, 2 on bad input.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};

use crate::config::Config;
use crate::gateway::{self, Assessment, Recipient, assess, recipient_of, replies};
use crate::message::MessageFacts;
use crate::message::outlook::{self, NotMail};
use crate::message::prepare;
use crate::policy::{self, Decision, Judge, SenderFacts};
use crate::recipient::RecipientChecker;
use crate::schedule::Schedule;
use crate::store::Store;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The message to check (an .eml file as a mail program saves it; an
    /// Outlook .msg is recognised and refused with how to save an .eml).
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
    /// Judge as this authenticated user (their `allowed_from` applies).
    #[arg(long)]
    pub user: Option<String>,
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

/// Why a compound file cannot be checked, and how to get an `.eml`, in the
/// notices' language.
fn not_mail_text(kind: NotMail, lang: policy::Language, file: &str) -> String {
    use policy::Language::{En, ZhCn};
    match (kind, lang) {
        (NotMail::OutlookMsg, En) => format!(
            "{file} is an Outlook .msg file, not a saved mail (.eml), so sendwell cannot check it. \
             Save the message as .eml instead: in the new Outlook for Windows or Outlook on the web, \
             open it and choose … → Save as (or Download); in Outlook for Mac, drag it to the desktop; \
             in Thunderbird, File → Save As → File. Classic Outlook for Windows saves only .msg: \
             send the draft to your own address through sendwell, which judges it the same way."
        ),
        (NotMail::OutlookMsg, ZhCn) => format!(
            "{file} 是 Outlook 的 .msg 文件，不是存下来的邮件（.eml），sendwell 无法检查它。\
             请改存成 .eml：新版 Outlook for Windows 或网页版 Outlook：打开邮件，点 … → 另存为（或“下载”）；\
             Mac 版 Outlook：把邮件拖到桌面；Thunderbird：文件 → 另存为 → 文件。\
             经典版 Outlook for Windows 只能存成 .msg：可以通过 sendwell 把草稿发到您自己的地址，检查方式完全一样。"
        ),
        (NotMail::CompoundFile, En) => format!(
            "{file} is an Office compound file (such as an old .doc or .xls), not a saved mail (.eml), \
             so sendwell cannot check it. Save the mail itself as .eml from your mail program."
        ),
        (NotMail::CompoundFile, ZhCn) => format!(
            "{file} 是 Office 复合文件（例如旧版的 .doc 或 .xls），不是存下来的邮件（.eml），sendwell 无法检查它。\
             请在邮件程序里把邮件本身另存为 .eml。"
        ),
    }
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
    if let Some(kind) = outlook::not_mail(&raw) {
        bail!(
            "{}",
            not_mail_text(
                kind,
                config.notices.language,
                &args.file.display().to_string()
            )
        );
    }
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
        if !crate::recipient::address::is_valid(r) {
            bail!("--rcpt {r}: {}", replies::bad_address(r).text);
        }
    }
    let mail_from = args
        .from
        .clone()
        .or_else(|| facts.from.as_ref().map(|m| m.address.clone()))
        .unwrap_or_default();
    let allowed_from = match &args.user {
        Some(u) => config
            .user(u)
            .with_context(|| format!("--user {u}: no such user in [[users]]"))?
            .allowed_from(),
        None => None,
    };
    let schedule = Schedule::new(&config.schedule)?;
    let judge = Judge::new(&config.policy);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // The history (contacts, recent sends) comes from the queue's store
    // when it can be opened, as the server's would; else none.
    let store = rt.block_on(Store::open(&config.store_url(), 1));
    let (people, history_from) = match &store {
        Ok(store) => {
            let mut people = Vec::new();
            for r in &rcpts {
                let contact = rt.block_on(store.contact(r)).ok().flatten();
                let learned = rt.block_on(store.learned(r)).ok().flatten();
                people.push(recipient_of(
                    &schedule,
                    r,
                    contact.as_ref(),
                    learned.as_ref(),
                ));
            }
            (
                people,
                format!("the queue's store ({})", config.store_url()),
            )
        }
        Err(e) => (
            rcpts
                .iter()
                .map(|r| recipient_of(&schedule, r, None, None))
                .collect::<Vec<Recipient>>(),
            format!("none (cannot open the queue's store: {e})"),
        ),
    };
    let mut a = assess(&gateway::assess::Input {
        facts: Some(&facts),
        sender: SenderFacts {
            mail_from,
            auth_user: args.user.clone(),
            allowed_from: allowed_from.clone(),
            dmarc_will_fail: None,
        },
        people: &people,
        judge: (config.policy.enabled || allowed_from.is_some()).then_some(&judge),
        schedule: &schedule,
        now,
    });
    if a.refusal.is_none()
        && config.caps.enabled
        && let Ok(store) = &store
    {
        apply_caps(&rt, store, config, &schedule, &mut a, &facts)?;
    }
    // What the door would answer at RCPT, in its order: the judge's
    // address rules, the suppression list, DNS.
    let mut at_rcpt: Vec<(String, String)> = Vec::new();
    for r in &rcpts {
        if let Some(reply) = gateway::rcpt_policy(&judge, config.policy.enabled, r) {
            at_rcpt.push((r.clone(), reply.to_string()));
        } else if let Ok(store) = &store
            && let Ok(Some(s)) = rt.block_on(store.suppression(r))
        {
            at_rcpt.push((r.clone(), replies::suppressed(&s).to_string()));
        }
    }
    if !args.no_dns && config.dns.checks {
        for (r, reply) in rt.block_on(dns_refusals(config, &rcpts))? {
            if !at_rcpt.iter().any(|(a, _)| *a == r) {
                at_rcpt.push((r, reply));
            }
        }
    }
    let lang = config.notices.language;
    let reply = a.reply("ID", &config.seller_zone(args.user.as_deref()), false);
    match args.format {
        Format::Json => {
            let mut j = a.report_json(lang).unwrap_or_else(
                || serde_json::json!({"verdict": "accept", "hits": [], "recipients": []}),
            );
            j["reply"] = reply.to_string().into();
            j["history"] = history_from.clone().into();
            if let Some(list) = j.get_mut("recipients").and_then(|r| r.as_array_mut()) {
                for entry in list.iter_mut() {
                    let addr = entry["address"].as_str().unwrap_or_default().to_string();
                    if let Some((_, r)) =
                        at_rcpt.iter().find(|(a, _)| a.eq_ignore_ascii_case(&addr))
                    {
                        entry["verdict"] = "reject".into();
                        entry["rcpt_reply"] = r.clone().into();
                    }
                }
            }
            println!("{}", serde_json::to_string_pretty(&j)?);
        }
        Format::Text => {
            if let Some(v) = &a.verdict {
                let color = std::io::stdout().is_terminal();
                print!("{}", policy::report::render_text(v, lang, color));
                println!();
            } else {
                println!(
                    "The judge is off ([policy] enabled = false): the message is not judged.\n"
                );
            }
            for c in &a.copies {
                let local = c.deliver_at.to_zoned(c.placement.zone.clone());
                let when = match c.state {
                    crate::store::DeliveryState::Held => "held for review".to_string(),
                    crate::store::DeliveryState::Rejected => "refused".to_string(),
                    _ if c.deliver_at <= now => "at once".to_string(),
                    _ => "deferred to business hours".to_string(),
                };
                println!(
                    "{}: would go {} {} ({when}; zone from {})",
                    c.rcpt,
                    local.strftime("%a %Y-%m-%d %H:%M"),
                    c.placement.zone_name(),
                    c.placement.source
                );
            }
            for (r, reply) in &at_rcpt {
                println!("{r}: refused at RCPT: {reply}");
            }
            println!("\nThe server would answer: {reply}");
            println!("History (contacts, recent sends): {history_from}");
        }
    }
    let worst = if at_rcpt.is_empty() {
        a.decision()
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

/// The caps as the server would apply them now, from a snapshot of the
/// ledger (nothing is reserved).
fn apply_caps(
    rt: &tokio::runtime::Runtime,
    store: &Store,
    config: &Config,
    schedule: &Schedule,
    a: &mut Assessment,
    facts: &MessageFacts,
) -> Result<()> {
    let decisions = {
        let asks = a.caps_asks(&config.caps, Assessment::content(Some(facts)));
        let mut decisions = Vec::with_capacity(asks.len());
        for ask in &asks {
            let history = rt.block_on(store.caps_history(&ask.request))?;
            decisions.push((
                ask.copy,
                a.caps_decision(ask, &config.caps, schedule, &history),
            ));
        }
        decisions
    };
    for (i, d) in decisions {
        a.apply_caps(i, d);
    }
    Ok(())
}

fn parse_time(t: &str) -> Result<jiff::Timestamp> {
    t.parse::<jiff::Timestamp>()
        .or_else(|_| t.parse::<jiff::Zoned>().map(|z| z.timestamp()))
        .with_context(|| format!("--at '{t}' is not a time like 2026-12-24T18:00:00+01:00"))
}

/// Recipients whose domain DNS refuses (or cannot vouch for), with the reply
/// the server would give at RCPT.
async fn dns_refusals(config: &Config, rcpts: &[String]) -> Result<Vec<(String, String)>> {
    let checker = RecipientChecker::new(&config.dns)?;
    let mut out = Vec::new();
    for r in rcpts {
        if let Some(reply) = replies::domain(&checker.check_address(r).await) {
            out.push((r.clone(), reply.to_string()));
        }
    }
    Ok(out)
}
