//! `sendwell contacts …`: the people we know. A contacts file (CSV
//! `address,name,country,timezone,established`) tells sendwell a
//! recipient's name, country and time zone, and whether they are an
//! established contact (not cold).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;

use crate::config::Config;
use crate::recipient::import::parse_contacts;
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum ContactsCmd {
    /// Add or update contacts from a CSV file with the header
    /// `address,name,country,timezone,established` (columns may be left out,
    /// except address). Empty fields keep what is known; an established
    /// contact stays established.
    Import {
        file: PathBuf,
        /// Import the good rows even when some rows are bad (they are listed).
        #[arg(long)]
        skip_bad: bool,
    },
    /// What is known about an address: zone and how it is known, whether a
    /// conversation is under way, away, suppressed.
    Show {
        address: String,
        #[arg(long, value_enum, default_value_t = super::check::Format::Text)]
        format: super::check::Format,
        /// Same as `--format json`.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(_config: &Config, store: &Store, cmd: ContactsCmd) -> Result<ExitCode> {
    match cmd {
        ContactsCmd::Import { file, skip_bad } => {
            let input = std::fs::File::open(&file)
                .with_context(|| format!("cannot open {}", file.display()))?;
            let parsed = parse_contacts(std::io::BufReader::new(input), jiff::Timestamp::now())
                .with_context(|| format!("{}", file.display()))?;
            if !super::suppress::report_bad_rows(&file, &parsed.errors, skip_bad) {
                return Ok(ExitCode::FAILURE);
            }
            let n = store.import_contacts(&parsed.rows).await?;
            println!("{}: {n} contact(s) imported", file.display());
        }
        ContactsCmd::Show {
            address,
            format,
            json,
        } => {
            let schedule = crate::schedule::Schedule::new(&_config.schedule)?;
            let card = crate::ops::contact_card(store, &schedule, &address, jiff::Timestamp::now())
                .await?;
            if json || matches!(format, super::check::Format::Json) {
                println!("{}", serde_json::to_string(&card)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!("time zone:   {} ({})", card.timezone, card.timezone_source);
            if let Some(t) = card.last_reply_at {
                println!("last reply:  {}", t.strftime("%Y-%m-%d %H:%M UTC"));
            }
            if let Some(t) = card.away_until {
                println!("away until:  {}", t.strftime("%Y-%m-%d %H:%M UTC"));
            }
            if let Some(s) = &card.suppressed {
                println!(
                    "suppressed:  since {}: {}",
                    s.created_at.strftime("%Y-%m-%d"),
                    s.reason
                );
            }
            let Some(c) = store.contact(&address).await? else {
                println!("nothing is known about {address}");
                return Ok(ExitCode::from(1));
            };
            if json {
                println!("{}", serde_json::to_string(&c)?);
            } else {
                let unknown = || "-".to_string();
                println!("address:     {}", c.address);
                println!("name:        {}", c.name.clone().unwrap_or_else(unknown));
                println!("country:     {}", c.country.clone().unwrap_or_else(unknown));
                println!(
                    "time zone:   {}",
                    c.timezone.clone().unwrap_or_else(unknown)
                );
                println!(
                    "established: {}",
                    if c.established { "yes" } else { "no (cold)" }
                );
                println!(
                    "source:      {} (updated {})",
                    c.source,
                    c.updated_at.strftime("%Y-%m-%d %H:%M UTC")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
