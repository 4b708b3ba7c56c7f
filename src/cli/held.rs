//! `sendwell held …`: the review queue. Held copies wait until a person
//! releases them (they go on to the queue) or refuses them (the sender is
//! told why).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Subcommand;

use crate::config::Config;
use crate::message::MessageFacts;
use crate::ops;
use crate::policy::{self, Judge, RecipientFacts, SenderFacts};
use crate::store::{DeliveryState, MessageId, Store};

/// Most characters of a held message's text `held show` prints.
const SHOW_TEXT_MAX: usize = 4000;

#[derive(Debug, Subcommand)]
pub enum HeldCmd {
    /// Messages waiting for review.
    List {
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// The full report and the text of a held message.
    Show { id: i64 },
    /// Send a held message on (its held copies go to the queue, due now).
    Release { id: i64 },
    /// Refuse a held message; the sender gets a notice with the reason.
    Reject {
        id: i64,
        /// Why, in words for the sender.
        #[arg(long)]
        reason: Option<String>,
    },
}

pub async fn run(config: &Config, store: &Store, cmd: HeldCmd) -> Result<ExitCode> {
    let now = jiff::Timestamp::now();
    match cmd {
        HeldCmd::List { limit } => {
            let rows = store.list(Some(DeliveryState::Held), limit).await?;
            if rows.is_empty() {
                println!("nothing is held");
                return Ok(ExitCode::SUCCESS);
            }
            let mut by_msg: BTreeMap<MessageId, Vec<_>> = BTreeMap::new();
            for r in rows {
                by_msg.entry(r.message_id).or_default().push(r);
            }
            let table: Vec<Vec<String>> = by_msg
                .iter()
                .rev()
                .map(|(id, rows)| {
                    let first = &rows[0];
                    let rcpts: Vec<&str> = rows.iter().map(|r| r.rcpt.as_str()).collect();
                    vec![
                        id.to_string(),
                        first.updated_at.strftime("%Y-%m-%d %H:%M:%S").to_string(),
                        crate::display::clip(&first.mail_from, 28),
                        crate::display::clip(
                            first.subject.as_deref().unwrap_or("(no subject)"),
                            40,
                        ),
                        rcpts.join(", "),
                    ]
                })
                .collect();
            print!(
                "{}",
                crate::display::table(
                    &["MSG", "HELD SINCE (UTC)", "FROM", "SUBJECT", "RECIPIENTS"],
                    &table
                )
            );
        }
        HeldCmd::Show { id } => {
            let Some(m) = store.message(MessageId(id)).await? else {
                bail!("no message {id} (see `sendwell held list`)");
            };
            let data = store.message_data(m.id).await?;
            let facts = MessageFacts::parse(&data)?;
            // The report the server stored when it decided (caps included);
            // judged again only for messages stored without one.
            let report = match m.report.as_deref().map(serde_json::from_str) {
                Some(Ok(j)) => j,
                _ => {
                    let rcpts: Vec<RecipientFacts> = m
                        .deliveries
                        .iter()
                        .map(|d| RecipientFacts::from_address(&d.rcpt))
                        .collect();
                    let sender = SenderFacts {
                        mail_from: m.mail_from.clone(),
                        auth_user: m.auth_user.clone(),
                        allowed_from: None,
                        dmarc_will_fail: None,
                    };
                    let v =
                        Judge::new(&config.policy).evaluate(&facts, &sender, &rcpts, m.received_at);
                    policy::report::to_json(&v, config.notices.language)
                }
            };
            println!(
                "message {}  from <{}>  received {}",
                m.id, m.mail_from, m.received_at
            );
            for d in &m.deliveries {
                println!("  -> {}  {}", d.rcpt, d.state);
            }
            println!();
            print!(
                "{}",
                policy::report::render_report(
                    &report,
                    config.notices.language,
                    std::io::stdout().is_terminal()
                )
            );
            println!("\n--- text of the message ---");
            let text: String = facts.body_text.chars().take(SHOW_TEXT_MAX).collect();
            println!(
                "Subject: {}\n\n{text}",
                facts.subject.as_deref().unwrap_or("")
            );
            if facts.body_text.chars().count() > SHOW_TEXT_MAX {
                println!("[… cut at {SHOW_TEXT_MAX} characters]");
            }
            for a in &facts.attachments {
                println!(
                    "[attachment: {} ({} bytes)]",
                    a.filename.as_deref().unwrap_or("(no name)"),
                    a.size
                );
            }
        }
        HeldCmd::Release { id } => {
            let plans = ops::release(store, config, MessageId(id), &ops::cli_actor(), now)
                .await
                .map_err(hint)?;
            println!(
                "message {id}: released back in line; goes {}\n(`sendwell queue send-now {id}` sends at once)",
                ops::when_text(&plans)
            );
        }
        HeldCmd::Reject { id, reason } => {
            let r = ops::refuse(
                store,
                config,
                MessageId(id),
                reason.as_deref(),
                &ops::cli_actor(),
                now,
            )
            .await
            .map_err(hint)?;
            println!(
                "message {id}: {} cop{} refused{}",
                r.copies,
                if r.copies == 1 { "y" } else { "ies" },
                if r.sender_notified {
                    "; the sender is told"
                } else {
                    ""
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// An operator error with the command that lists what there is.
fn hint(e: ops::Error) -> anyhow::Error {
    match e {
        ops::Error::NoMessage(_) | ops::Error::NothingHeld(_) => {
            anyhow::anyhow!("{e} (see `sendwell held list`)")
        }
        e => e.into(),
    }
}
