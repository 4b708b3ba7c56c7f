//! `sendwell suppress …`: the suppression list. Suppressed addresses are
//! refused at RCPT with the date and reason; hard bounces add themselves,
//! an operator adds, removes, lists and imports (CSV `address,reason`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use serde_json::json;

use crate::audit::{Event, Kind};
use crate::recipient::import::parse_suppressions;
use crate::store::{Store, SuppressionSource};

/// Bad rows printed by an import before the rest are only counted.
const MAX_ERRORS_SHOWN: usize = 50;

#[derive(Debug, Subcommand)]
pub enum SuppressCmd {
    /// Refuse mail to an address from now on.
    Add {
        address: String,
        /// Why, shown in the refusal (e.g. "asked us to stop writing").
        #[arg(long)]
        reason: Option<String>,
    },
    /// Allow mail to an address again.
    Remove { address: String },
    /// Suppressed addresses, newest first.
    List {
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Is an address suppressed? Prints the RCPT refusal it would get.
    Show { address: String },
    /// Add the addresses of a CSV file with the header `address,reason`.
    /// Addresses already suppressed keep their entry.
    Import {
        file: PathBuf,
        /// Import the good rows even when some rows are bad (they are listed).
        #[arg(long)]
        skip_bad: bool,
    },
}

pub async fn run(store: &Store, cmd: SuppressCmd) -> Result<ExitCode> {
    let now = jiff::Timestamp::now();
    let actor = crate::ops::cli_actor();
    match cmd {
        SuppressCmd::Add { address, reason } => {
            match crate::ops::suppress(store, &address, reason.as_deref(), &actor, now).await? {
                crate::ops::Suppressed::Added => println!("{address}: suppressed"),
                crate::ops::Suppressed::Already(s) => println!(
                    "{address}: already suppressed since {} ({}): {}",
                    s.created_at.strftime("%Y-%m-%d"),
                    s.source,
                    s.reason
                ),
            }
        }
        SuppressCmd::Remove { address } => {
            match crate::ops::unsuppress(store, &address, &actor, now).await {
                Err(e @ crate::ops::Error::NotSuppressed(_)) => {
                    bail!("{e} (see `sendwell suppress list`)")
                }
                r => r?,
            }
            println!("{address}: no longer suppressed");
        }
        SuppressCmd::List { limit, json } => {
            let rows = store.list_suppressions(limit).await?;
            if json {
                for r in &rows {
                    println!("{}", serde_json::to_string(r)?);
                }
            } else if rows.is_empty() {
                println!("no address is suppressed");
            } else {
                println!("{:<40} {:<10} {:<8} reason", "address", "since", "source");
                for r in &rows {
                    println!(
                        "{:<40} {:<10} {:<8} {}",
                        crate::display::clip(&r.address, 40),
                        r.created_at.strftime("%Y-%m-%d"),
                        r.source,
                        crate::display::clip(&r.reason, 80)
                    );
                }
            }
        }
        SuppressCmd::Show { address } => match store.suppression(&address).await? {
            Some(s) => println!("{}", crate::gateway::replies::suppressed(&s)),
            None => {
                println!("{address} is not suppressed");
                return Ok(ExitCode::from(1));
            }
        },
        SuppressCmd::Import { file, skip_bad } => {
            let input = std::fs::File::open(&file)
                .with_context(|| format!("cannot open {}", file.display()))?;
            let parsed = parse_suppressions(std::io::BufReader::new(input))
                .with_context(|| format!("{}", file.display()))?;
            if !report_bad_rows(&file, &parsed.errors, skip_bad) {
                return Ok(ExitCode::FAILURE);
            }
            let fields = json!({
                "source": "import",
                "file": file.display().to_string(),
                "read": parsed.rows.len(),
                "addresses": parsed.rows.iter().map(|r| r.address.as_str()).collect::<Vec<_>>(),
            });
            let record = Event::new(now, Kind::Suppressed, &actor, fields);
            let added = store
                .import_suppressions(&parsed.rows, SuppressionSource::Import, now, Some(record))
                .await?;
            println!(
                "{}: {} address(es) read, {added} newly suppressed, {} already were",
                file.display(),
                parsed.rows.len(),
                (parsed.rows.len() as u64).saturating_sub(added)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the bad rows of an import. Returns whether the import goes on:
/// always without bad rows, with them only when told to skip them.
pub(super) fn report_bad_rows(
    file: &std::path::Path,
    errors: &[crate::recipient::import::RowError],
    skip_bad: bool,
) -> bool {
    if errors.is_empty() {
        return true;
    }
    for e in errors.iter().take(MAX_ERRORS_SHOWN) {
        eprintln!("{}: {e}", file.display());
    }
    if errors.len() > MAX_ERRORS_SHOWN {
        eprintln!(
            "{}: … and {} more bad rows",
            file.display(),
            errors.len() - MAX_ERRORS_SHOWN
        );
    }
    if skip_bad {
        eprintln!("{}: skipping {} bad row(s)", file.display(), errors.len());
        true
    } else {
        eprintln!(
            "{}: nothing imported; fix the rows above or pass --skip-bad",
            file.display()
        );
        false
    }
}
