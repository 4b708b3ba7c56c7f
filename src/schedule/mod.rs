//! The clock: where each recipient is (zone, country) and when their copy
//! may go (business hours, weekends, public holidays, jitter).
//!
//! Pure: plain data and a `now` in, a decision out. The only IO is loading
//! the holiday and zone data at start-up ([`Calendar::load`]); the data files
//! are compiled in, so the binary needs nothing at run time. Knows nothing of
//! the store, the wire or the caps: the caller passes what it knows (contact,
//! learned zone, whether the message is a reply).
//!
//! ```ignore
//! let sched = Schedule::new(&config.schedule)?;            // once
//! let place = sched.place("buyer@firma.de", None, None);   // per recipient
//! let slot = sched.plan(now, &place, is_reply, &format!("{msg_id}/{rcpt}"));
//! ```

pub mod caps;
pub mod closures;
pub mod config;
pub mod holidays;
pub mod placement;
pub mod slot;
pub mod wait;

use std::path::PathBuf;

use jiff::Timestamp;

pub use config::{BusinessHours, ScheduleConfig, Window};
pub use holidays::{Calendar, Holiday};
pub use placement::{Known, Placement, PlacementSource, Placer};
pub use slot::{Slot, Why, next_slot, plan};
pub use wait::Wait;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{key}: {message}")]
    Config { key: String, message: String },
    #[error("holiday data {file}: {message}")]
    Data { file: String, message: String },
    #[error("reading {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no holiday data for country '{0}' (see `sendwell holidays --help`)")]
    UnknownCountry(String),
    #[error("holidays of {country} are known for {first}–{last}, not {year}")]
    YearNotCovered {
        country: String,
        year: i16,
        first: i16,
        last: i16,
    },
}

/// Everything the clock needs, built once from `[schedule]`.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub config: ScheduleConfig,
    pub calendar: Calendar,
    pub placer: Placer,
}

impl Schedule {
    /// Validates the config, loads the holidays (and `holidays_dir`) and
    /// resolves every zone name.
    pub fn new(cfg: &ScheduleConfig) -> Result<Schedule, Error> {
        cfg.validate()
            .map_err(|(key, message)| Error::Config { key, message })?;
        Ok(Schedule {
            config: cfg.clone(),
            calendar: Calendar::load(cfg)?,
            placer: Placer::new(cfg)?,
        })
    }

    /// See [`Placer::place`].
    pub fn place(
        &self,
        address: &str,
        contact: Option<&Known>,
        learned: Option<&Known>,
    ) -> Placement {
        self.placer.place(address, contact, learned)
    }

    /// See [`slot::plan`].
    pub fn plan(
        &self,
        now: Timestamp,
        placement: &Placement,
        is_reply: bool,
        jitter_key: &str,
    ) -> Slot {
        slot::plan(
            now,
            placement,
            &self.calendar,
            &self.config,
            is_reply,
            jitter_key,
        )
    }
}
