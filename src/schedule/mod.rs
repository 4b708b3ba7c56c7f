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
pub use slot::{Slot, Why, next_slot, plan, plan_away};
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

    /// See [`slot::plan_away`].
    pub fn plan_away(
        &self,
        now: Timestamp,
        placement: &Placement,
        is_reply: bool,
        jitter_key: &str,
        away_until: Option<Timestamp>,
    ) -> Slot {
        slot::plan_away(
            now,
            placement,
            &self.calendar,
            &self.config,
            is_reply,
            jitter_key,
            away_until,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// Issue 13: an unknown `.com` buyer on a Thursday at 02:00 UTC goes in
    /// the afternoon of Europe and the morning of New York, not 09:00 UTC.
    #[test]
    fn markets_guess_for_an_unknown_buyer() {
        let s = Schedule::new(&ScheduleConfig::default()).unwrap();
        let p = s.place("buyer@acme-trading.com", None, None);
        assert_eq!(p.source.to_string(), "guessed from markets US, DE, GB");
        // Thursday 3 December 2026, 02:00 UTC.
        let slot = s.plan(at("2026-12-03T02:00:00Z"), &p, false, "k");
        let hour = slot.at.to_zoned(jiff::tz::TimeZone::UTC).hour();
        assert!((13..17).contains(&hour), "{slot:?}");
        // Summer: New York is UTC−4, the overlap moves an hour earlier.
        let slot = s.plan(at("2026-07-02T02:00:00Z"), &p, false, "k");
        let hour = slot.at.to_zoned(jiff::tz::TimeZone::UTC).hour();
        assert!((13..17).contains(&hour), "{slot:?}");
        // Inside the overlap: at once.
        let now = at("2026-12-03T14:30:00Z");
        assert_eq!(s.plan(now, &p, false, "k").at, now);
        // Friday evening → Monday's overlap.
        let slot = s.plan(at("2026-12-04T20:00:00Z"), &p, false, "k");
        let z = slot.at.to_zoned(jiff::tz::TimeZone::UTC);
        assert_eq!(z.weekday(), jiff::civil::Weekday::Monday, "{slot:?}");
        assert!((14..16).contains(&z.hour()), "{slot:?}");
        // A ccTLD still wins over the guess.
        assert_eq!(
            s.place("x@firma.de", None, None).zone_name(),
            "Europe/Berlin"
        );
        // No markets: the default zone, as before.
        let cfg = ScheduleConfig {
            markets: Vec::new(),
            ..ScheduleConfig::default()
        };
        let s = Schedule::new(&cfg).unwrap();
        assert_eq!(
            s.place("buyer@acme-trading.com", None, None)
                .source
                .to_string(),
            "default"
        );
    }

    #[test]
    fn away_moves_the_copy_past_the_return() {
        let s = Schedule::new(&ScheduleConfig::default()).unwrap();
        let p = s.place("hans@firma.de", None, None);
        let until = at("2026-12-14T23:00:00Z"); // 15 Dec 00:00 in Berlin
        let slot = s.plan_away(at("2026-12-03T10:00:00Z"), &p, false, "k", Some(until));
        let z = slot.at.to_zoned(p.zone.clone());
        assert_eq!((z.month(), z.day(), z.hour()), (12, 15, 9), "{slot:?}");
        assert_eq!(slot.why, Why::Away(until));
        // Back already: the usual plan.
        let now = at("2026-12-16T10:00:00Z");
        assert_eq!(s.plan_away(now, &p, false, "k", Some(until)).at, now);
    }
}
