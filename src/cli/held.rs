//! `sendwell held …`: the review queue. Held copies wait until a person
//! releases them (they go on to the queue) or refuses them (the sender is
//! told why).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Subcommand;

use crate::config::Config;
use crate::gateway::{decoded_subject, queue_notice};
use crate::message::MessageFacts;
use crate::message::notice::{self, Notice};
use crate::policy::{self, Judge, Language, RecipientFacts, SenderFacts};
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
            println!(
                "{:>6}  {:<20} {:<28} {:<40} recipients",
                "msg", "held since (UTC)", "from", "subject"
            );
            for (id, rows) in by_msg.iter().rev() {
                let first = &rows[0];
                let rcpts: Vec<&str> = rows.iter().map(|r| r.rcpt.as_str()).collect();
                println!(
                    "{:>6}  {:<20} {:<28} {:<40} {}",
                    id,
                    first.updated_at.strftime("%Y-%m-%d %H:%M:%S"),
                    super::clip(&first.mail_from, 28),
                    super::clip(first.subject.as_deref().unwrap_or("(no subject)"), 40),
                    rcpts.join(", ")
                );
            }
        }
        HeldCmd::Show { id } => {
            let Some(m) = store.message(MessageId(id)).await? else {
                bail!("no message {id} (see `sendwell held list`)");
            };
            let data = store.message_data(m.id).await?;
            let facts = MessageFacts::parse(&data)?;
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
            let verdict =
                Judge::new(&config.policy).evaluate(&facts, &sender, &rcpts, m.received_at);
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
                policy::report::render_text(
                    &verdict,
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
            let n = store.release_held(MessageId(id), now).await?;
            if n == 0 {
                bail!("message {id} has no held copies (see `sendwell held list`)");
            }
            println!(
                "message {id}: {n} cop{} released to the queue",
                if n == 1 { "y" } else { "ies" }
            );
        }
        HeldCmd::Reject { id, reason } => {
            let Some(m) = store.message(MessageId(id)).await? else {
                bail!("no message {id} (see `sendwell held list`)");
            };
            let held: Vec<String> = m
                .deliveries
                .iter()
                .filter(|d| d.state == DeliveryState::Held)
                .map(|d| d.rcpt.clone())
                .collect();
            let reason = reason.unwrap_or_else(|| "refused by a reviewer".to_string());
            let n = store.reject_held(m.id, &reason, now).await?;
            // Refused copies no longer count against the recipients' caps.
            for rcpt in &held {
                store.forget_message_slots(m.id, Some(rcpt)).await?;
            }
            if n == 0 {
                bail!("message {id} has no held copies (see `sendwell held list`)");
            }
            if !m.mail_from.is_empty() {
                let data = store.message_data(m.id).await?;
                let subject = decoded_subject(&data).unwrap_or_default();
                let (title, body) = refusal_text(config.notices.language, &subject, &held, &reason);
                let raw = notice::build(&Notice {
                    host: &config.server.hostname,
                    to: &m.mail_from,
                    subject: &title,
                    body: &body,
                    in_reply_to: m.message_id_header.as_deref(),
                    now,
                });
                queue_notice(store, &m.mail_from, raw, now).await?;
            }
            println!(
                "message {id}: {n} cop{} refused; the sender is told",
                if n == 1 { "y" } else { "ies" }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn refusal_text(lang: Language, subject: &str, rcpts: &[String], reason: &str) -> (String, String) {
    match lang {
        Language::En => (
            format!("[sendwell] Not sent: {subject}"),
            format!(
                "Your message \"{subject}\" was held for review, and a reviewer decided not to send it to: {}.\n\n\
                 Reason: {reason}\n\nNothing was sent to these recipients. You can write a corrected message and send it again.\n",
                rcpts.join(", ")
            ),
        ),
        Language::ZhCn => (
            format!("[sendwell] 邮件未发送：{subject}"),
            format!(
                "您的邮件《{subject}》曾被暂扣待审核，审核人决定不发送给：{}。\n\n原因：{reason}\n\n\
                 这些收件人没有收到任何内容。您可以修改后重新发送。\n",
                rcpts.join("、")
            ),
        ),
    }
}
