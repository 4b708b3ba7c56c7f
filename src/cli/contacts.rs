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
    /// What is known about an address.
    Show {
        address: String,
        /// Print JSON instead of text.
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
        ContactsCmd::Show { address, json } => {
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
