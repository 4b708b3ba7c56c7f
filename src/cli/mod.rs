//! The `sendwell` commands: parse arguments, load the config, call the
//! library, print for a person. Thin on purpose (like ripgrep's core): the
//! work lives in the library. `anyhow` is used here and in `main.rs` only.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};

mod audit;
mod check;
mod cluster;
mod contacts;
mod held;
mod suppress;
mod upstream;
mod user;

use crate::config::Config;
use crate::policy::{Language, RuleId};
use crate::store::{DeliveryState, MessageId, Store};

#[derive(Debug, Parser)]
#[command(
    name = "sendwell",
    version,
    about = "An outbound SMTP relay that sends sellers' mail in good form, at a good hour, with a record of why."
)]
pub struct Cli {
    /// The config file (default: ./sendwell.toml when present, else built-in defaults).
    #[arg(long, short = 'c', global = true, env = "SENDWELL_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the relay: the SMTP door, the queue and the courier.
    Serve,
    /// Look at and steer the delivery queue.
    #[command(subcommand)]
    Queue(QueueCmd),
    /// Validate a config file.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// The accounts that may AUTH ([[users]] in the config file): add, list, passwd, remove.
    #[command(subcommand)]
    User(user::UserCmd),
    /// Review held messages: list, show, release, reject.
    #[command(subcommand)]
    Held(held::HeldCmd),
    /// Judge a saved message (.eml) with the server's own rules, offline.
    Check(check::CheckArgs),
    /// Explain a rule (the code in brackets in a refusal, e.g. RCPT_TYPO):
    /// what it checks, why buyers mind, how to fix it.
    Explain {
        /// The rule ID, e.g. TEMPLATE_PLACEHOLDER (case and brackets do not matter).
        rule: String,
        /// The language (default: `[notices] language` of the config).
        #[arg(long, value_enum)]
        lang: Option<LangArg>,
    },
    /// The suppression list: addresses refused at RCPT (add, remove, list, show, import).
    #[command(subcommand)]
    Suppress(suppress::SuppressCmd),
    /// The people we know: import a contacts file, show one contact.
    #[command(subcommand)]
    Contacts(contacts::ContactsCmd),
    /// The routes to the mail provider: status (sending or paused), resume.
    #[command(subcommand)]
    Upstream(upstream::UpstreamCmd),
    /// The gateway nodes sharing this queue: heartbeat, claims held, version.
    #[command(subcommand)]
    Cluster(cluster::ClusterCmd),
    /// The tamper-evident audit log: verify, export, search, prune.
    #[command(subcommand)]
    Audit(audit::AuditCmd),
    /// The public holidays sendwell keeps mail away from, for one country.
    Holidays {
        /// ISO country code, e.g. DE, JP, SA.
        country: String,
        /// Only this year (data covers 2025-2030).
        #[arg(long)]
        year: Option<i16>,
        #[arg(long, value_enum, default_value_t = check::Format::Text)]
        format: check::Format,
    },
}

#[derive(Debug, Subcommand)]
pub enum QueueCmd {
    /// Deliveries, newest first.
    List(ListArgs),
    /// One message and its deliveries.
    Show { id: i64 },
    /// Try every undelivered copy of a message again now.
    Retry { id: i64 },
    /// Send the waiting copies of a message now, outside business hours or caps.
    SendNow { id: i64 },
    /// Give up on every undelivered copy of a message (no bounce is sent).
    Drop { id: i64 },
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only deliveries in this state (queued, delivering, delivered, deferred, bounced, held, rejected, dropped, superseded).
    #[arg(long)]
    pub state: Option<String>,
    /// Most rows shown.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Print JSON lines instead of a table (the same as `--format json`).
    #[arg(long)]
    pub json: bool,
    /// `text` (a table) or `json` (one JSON object per line).
    #[arg(long, value_enum)]
    pub format: Option<check::Format>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Check a config file (default: the --config file or ./sendwell.toml); exit 1 on errors.
    Check { file: Option<PathBuf> },
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Serve => {
            let config = load(&cli.config)?;
            runtime()?.block_on(serve(config))
        }
        Command::Queue(cmd) => {
            let config = load(&cli.config)?;
            runtime()?.block_on(queue(config, cmd))
        }
        Command::Config(ConfigCmd::Check { file }) => {
            let file = file.or(cli.config);
            match Config::load(file.as_deref()) {
                Ok((config, Some(path))) => {
                    let problems = crate::server::preflight(&config);
                    if problems.is_empty() {
                        println!("{}: ok", path.display());
                        return Ok(ExitCode::SUCCESS);
                    }
                    for p in &problems {
                        eprintln!("error: {}: {p}", path.display());
                    }
                    Ok(ExitCode::FAILURE)
                }
                Ok((_, None)) => {
                    println!(
                        "no {} here: sendwell runs on its built-in defaults",
                        Config::DEFAULT_PATH
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::User(cmd) => user::run(cli.config.as_deref(), cmd),
        Command::Explain { rule, lang } => {
            let config = load(&cli.config)?;
            let lang = lang.map_or(config.notices.language, Language::from);
            let wanted = rule
                .trim()
                .trim_matches(['[', ']'])
                .to_uppercase()
                .replace('-', "_");
            let Some(id) = RuleId::parse(&wanted) else {
                bail!("{}", crate::policy::config::unknown_rule_message(&rule));
            };
            let text = crate::policy::explain::render(id, &config.policy, lang)
                .with_context(|| format!("no explanation of {id}"))?;
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Held(cmd) => {
            let config = load(&cli.config)?;
            runtime()?.block_on(async {
                let store = open_store(&config).await?;
                let code = held::run(&config, &store, cmd).await;
                store.close().await;
                code
            })
        }
        Command::Suppress(cmd) => {
            let config = load(&cli.config)?;
            runtime()?.block_on(async {
                let store = open_store(&config).await?;
                let code = suppress::run(&store, cmd).await;
                store.close().await;
                code
            })
        }
        Command::Contacts(cmd) => {
            let config = load(&cli.config)?;
            runtime()?.block_on(async {
                let store = open_store(&config).await?;
                let code = contacts::run(&config, &store, cmd).await;
                store.close().await;
                code
            })
        }
        Command::Upstream(cmd) => {
            let config = load(&cli.config)?;
            runtime()?.block_on(async {
                let store = open_store(&config).await?;
                let code = upstream::run(&config, &store, cmd).await;
                store.close().await;
                code
            })
        }
        Command::Cluster(cmd) => {
            let config = load(&cli.config)?;
            runtime()?.block_on(async {
                let store = open_store(&config).await?;
                let code = cluster::run(&config, &store, cmd).await;
                store.close().await;
                code
            })
        }
        Command::Audit(cmd) => {
            let config = load(&cli.config)?;
            runtime()?.block_on(async {
                let store = open_store(&config).await?;
                let code = audit::run(&config, &store, cmd).await;
                store.close().await;
                code
            })
        }
        Command::Check(args) => {
            let config = load(&cli.config)?;
            check::run(&config, args)
        }
        Command::Holidays {
            country,
            year,
            format,
        } => {
            let config = load(&cli.config)?;
            holidays(&config, &country, year, format)
        }
    }
}

/// `--lang`: the two languages sendwell speaks.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LangArg {
    #[value(name = "en")]
    En,
    #[value(name = "zh-CN", alias = "zh")]
    ZhCn,
}

impl From<LangArg> for Language {
    fn from(l: LangArg) -> Language {
        match l {
            LangArg::En => Language::En,
            LangArg::ZhCn => Language::ZhCn,
        }
    }
}

fn load(path: &Option<PathBuf>) -> Result<Config> {
    let (config, from) = Config::load(path.as_deref())?;
    match from {
        Some(p) => tracing::debug!("config from {}", p.display()),
        None => tracing::debug!("no config file: built-in defaults"),
    }
    Ok(config)
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

async fn serve(config: Config) -> Result<ExitCode> {
    use tokio::signal::unix::{SignalKind, signal};
    // Before the listeners open: a SIGHUP sent as soon as the port answers
    // must reload, not kill (its default action).
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut hup = signal(SignalKind::hangup()).context("cannot listen for SIGHUP")?;
    let running = crate::server::start(config).await?;
    let reloader = running.reloader();
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => { tracing::info!("interrupted: stopping"); break }
            _ = term.recv() => { tracing::info!("SIGTERM: stopping"); break }
            _ = hup.recv() => match reloader.reload().await {
                Ok(_) => {}
                Err(e) => tracing::error!("SIGHUP: config NOT reloaded, the running one stays: {e}"),
            },
        }
    }
    running.stop().await;
    Ok(ExitCode::SUCCESS)
}

async fn open_store(config: &Config) -> Result<Store> {
    let url = config.store_url();
    Store::open(&url, 2)
        .await
        .with_context(|| format!("cannot open the queue ({})", config.store_url()))
}

async fn queue(config: Config, cmd: QueueCmd) -> Result<ExitCode> {
    let store = open_store(&config).await?;
    let now = jiff::Timestamp::now();
    match cmd {
        QueueCmd::List(args) => {
            let state = match &args.state {
                Some(s) => Some(DeliveryState::parse(s).with_context(|| {
                    let all: Vec<_> = DeliveryState::ALL.iter().map(|s| s.as_str()).collect();
                    format!("unknown state '{s}' (expected one of {})", all.join(", "))
                })?),
                None => None,
            };
            let rows = store.list(state, args.limit).await?;
            if args.json || matches!(args.format, Some(check::Format::Json)) {
                for r in &rows {
                    println!("{}", serde_json::to_string(r)?);
                }
            } else if rows.is_empty() {
                println!("the queue is empty");
            } else {
                let schedule = crate::schedule::Schedule::new(&config.schedule)?;
                let here = config.seller_zone(None);
                let mut table = Vec::new();
                for r in &rows {
                    let contact = store.contact(&r.rcpt).await.ok().flatten();
                    let learned = store.learned(&r.rcpt).await.ok().flatten();
                    let who = crate::gateway::recipient_of(
                        &schedule,
                        &r.rcpt,
                        contact.as_ref(),
                        learned.as_ref(),
                    );
                    let theirs = r.deliver_at.to_zoned(who.placement.zone.clone());
                    let yours = r.deliver_at.to_zoned(here.clone());
                    table.push(vec![
                        r.message_id.to_string(),
                        r.id.to_string(),
                        r.state.to_string(),
                        format!(
                            "{} {}",
                            theirs.strftime("%a %d %b %H:%M"),
                            who.placement.zone_name()
                        ),
                        yours.strftime("%a %d %b %H:%M").to_string(),
                        r.wait
                            .as_ref()
                            .filter(|_| r.state == DeliveryState::Queued)
                            .map(|w| w.text().get(config.notices.language).to_string())
                            .unwrap_or_default(),
                        r.attempts.to_string(),
                        crate::display::clip(&r.mail_from, 26),
                        crate::display::clip(&r.rcpt, 26),
                        crate::display::clip(r.subject.as_deref().unwrap_or(""), 30),
                        r.last_reply
                            .as_deref()
                            .map(|s| crate::display::clip(s, 60))
                            .unwrap_or_default(),
                    ]);
                }
                print!(
                    "{}",
                    crate::display::table(
                        &[
                            "MSG",
                            "DLV",
                            "STATE",
                            "DELIVER AT (RECIPIENT'S TIME)",
                            "(YOUR TIME)",
                            "WHY IT WAITS",
                            "TRY",
                            "FROM",
                            "TO",
                            "SUBJECT",
                            "LAST REPLY"
                        ],
                        &table
                    )
                );
            }
        }
        QueueCmd::Show { id } => {
            let Some(m) = store.message(MessageId(id)).await? else {
                bail!("no message {id} in the queue (see `sendwell queue list`)");
            };
            println!(
                "message {}  received {}  from {}  ({} bytes)",
                m.id, m.received_at, m.client, m.size
            );
            println!("  envelope from: <{}>", m.mail_from);
            if let Some(u) = &m.auth_user {
                println!("  authenticated as: {u}");
            }
            if let Some(s) = &m.subject {
                println!("  subject: {s}");
            }
            if let Some(s) = &m.message_id_header {
                println!("  message-id: {s}");
            }
            if let Some(r) = &m.report {
                println!("  report: {r}");
            }
            for d in &m.deliveries {
                println!(
                    "  -> {}  {}  deliver at {}  attempts {}  route {}{}",
                    d.rcpt,
                    d.state,
                    d.deliver_at,
                    d.attempts,
                    d.route,
                    d.last_reply
                        .as_deref()
                        .map(|r| format!("  last reply: {r}"))
                        .unwrap_or_default()
                );
            }
        }
        QueueCmd::Retry { id } | QueueCmd::SendNow { id } => {
            let n =
                crate::ops::send_now(&store, MessageId(id), &crate::ops::cli_actor(), now).await?;
            println!(
                "message {id}: {n} cop{} due now",
                if n == 1 { "y" } else { "ies" }
            );
        }
        QueueCmd::Drop { id } => {
            let n = crate::ops::drop_message(&store, MessageId(id), &crate::ops::cli_actor(), now)
                .await?;
            println!(
                "message {id}: {n} cop{} dropped",
                if n == 1 { "y" } else { "ies" }
            );
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

fn holidays(
    config: &Config,
    country: &str,
    year: Option<i16>,
    format: check::Format,
) -> Result<ExitCode> {
    let calendar = crate::schedule::Calendar::load(&config.schedule)?;
    let days = calendar.holidays(country, year)?;
    // Years not announced yet: say so once, above the list (on stderr with
    // --format json, so the JSON stays a list).
    let mut years: Vec<i16> = days.iter().map(|d| d.date.year()).collect();
    years.dedup();
    if let Some((from, why)) = years.iter().find_map(|y| calendar.estimated(country, *y)) {
        let note = format!(
            "note: the days of {} from {from} on are estimated: {why}.",
            country.to_ascii_uppercase()
        );
        match format {
            check::Format::Json => eprintln!("{note}"),
            check::Format::Text => println!("{note}\n"),
        }
    }
    match format {
        check::Format::Json => println!("{}", serde_json::to_string_pretty(&days)?),
        check::Format::Text => {
            for d in &days {
                println!("{}  {}  {}", d.date, d.date.strftime("%a"), d.name);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
