//! `[schedule]`: business hours, jitter, the default zone, and per-country
//! and per-recipient overrides.
//!
//! Schema and validation only: no file is read here and no time is taken.
//! An unknown key is a serde error (deny_unknown_fields); what serde cannot
//! see (an unknown zone name, a bad country code, overlapping windows) is a
//! `(key, message)` from [`ScheduleConfig::validate`], the key dotted like
//! `schedule.countries.US.timezone`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::holidays::Holiday;

/// The most jitter we accept: more than this is no longer "a few minutes"
/// and would push a copy out of a short window.
pub const MAX_JITTER: Duration = Duration::from_secs(2 * 3600);

/// Minutes in a day: a window may end at `24:00`.
const DAY_MINUTES: u16 = 24 * 60;

/// `[schedule]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    /// Defer copies into the recipient's business hours at all. Off: every
    /// copy is due at once (a plain relay; benchmarks).
    pub enabled: bool,
    /// The zone of a recipient about whom nothing else is known (no contact,
    /// override, learned zone or ccTLD): an IANA name.
    pub default_timezone: String,
    /// Windows on a working day, in the recipient's zone.
    pub business_hours: BusinessHours,
    /// A copy deferred to the start of a window leaves up to this much later,
    /// by a fixed hash of its key, so a batch does not leave at 09:00:00.
    #[serde(with = "humantime_serde")]
    pub jitter: Duration,
    /// Replies in a live conversation (the message has In-Reply-To) go at
    /// once, whatever the hour.
    pub reply_fast_path: bool,
    /// Tell the sender when a copy will wait longer than this (e.g. "12h");
    /// unset: no such notice.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub notify_deferred_after: Option<Duration>,
    /// A folder of `CC.toml` holiday files that replace the built-in ones
    /// country by country (same format as the committed `config/holidays/`).
    pub holidays_dir: Option<PathBuf>,
    /// `[schedule.closures]`: closures (business closed, no public holiday)
    /// switched on or off by ID, e.g. `JP_NEW_YEAR = false`; the rest keep
    /// their default (`config/closures.toml`).
    pub closures: BTreeMap<String, bool>,
    /// `[schedule.countries.CC]`: zone, weekend, hours and holidays of a country.
    pub countries: BTreeMap<String, CountryOverride>,
    /// `[schedule.addresses."buyer@example.de"]`: one recipient.
    pub addresses: BTreeMap<String, RecipientOverride>,
    /// `[schedule.domains."example.de"]`: every recipient at a domain (and its
    /// subdomains).
    pub domains: BTreeMap<String, RecipientOverride>,
    /// The seller's main markets (ISO 3166 alpha-2): a recipient about whom
    /// nothing tells a zone (a `gmail.com` or company `.com` address nobody
    /// has heard from) gets the hour that is business time in as many of
    /// them as possible, on a day that is a working day in all of them.
    /// Empty: `default_timezone` instead.
    pub markets: Vec<String>,
    /// An out-of-office reply that gives no return date: the buyer counts as
    /// away this long from their reply.
    #[serde(with = "humantime_serde")]
    pub away_default: Duration,
    /// Days added to the date an out-of-office reply gives ("until 14
    /// December"): their copies wait for the first business hour from then.
    pub away_margin_days: u8,
}

/// `[schedule] markets` when the file says nothing: where most of our
/// sellers' buyers are (the US, Germany, the UK).
pub const DEFAULT_MARKETS: [&str; 3] = ["US", "DE", "GB"];

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            enabled: true,
            default_timezone: "UTC".into(),
            business_hours: BusinessHours::default(),
            jitter: Duration::from_secs(15 * 60),
            reply_fast_path: true,
            notify_deferred_after: None,
            holidays_dir: None,
            closures: BTreeMap::new(),
            countries: BTreeMap::new(),
            addresses: BTreeMap::new(),
            domains: BTreeMap::new(),
            markets: DEFAULT_MARKETS.iter().map(|c| c.to_string()).collect(),
            away_default: Duration::from_secs(7 * 24 * 3600),
            away_margin_days: 1,
        }
    }
}

/// Business windows on a working day. Which days are working days is the
/// country's business (its weekend and holidays), not this table's: in Saudi
/// Arabia Sunday is a working day and gets `default` (or `sun`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusinessHours {
    /// Windows of every working day without a line of its own.
    pub default: Vec<Window>,
    pub mon: Option<Vec<Window>>,
    pub tue: Option<Vec<Window>>,
    pub wed: Option<Vec<Window>>,
    pub thu: Option<Vec<Window>>,
    pub fri: Option<Vec<Window>>,
    pub sat: Option<Vec<Window>>,
    pub sun: Option<Vec<Window>>,
}

impl Default for BusinessHours {
    fn default() -> Self {
        BusinessHours {
            default: vec![Window {
                start: 9 * 60,
                end: 17 * 60,
            }],
            mon: None,
            tue: None,
            wed: None,
            thu: None,
            fri: None,
            sat: None,
            sun: None,
        }
    }
}

impl BusinessHours {
    /// The windows of a working day falling on `day`, in time order.
    pub fn on(&self, day: Weekday) -> &[Window] {
        let own = match day {
            Weekday::Monday => &self.mon,
            Weekday::Tuesday => &self.tue,
            Weekday::Wednesday => &self.wed,
            Weekday::Thursday => &self.thu,
            Weekday::Friday => &self.fri,
            Weekday::Saturday => &self.sat,
            Weekday::Sunday => &self.sun,
        };
        own.as_deref().unwrap_or(&self.default)
    }

    fn check(&self, key: &str) -> Result<(), (String, String)> {
        let days = [
            ("default", Some(&self.default)),
            ("mon", self.mon.as_ref()),
            ("tue", self.tue.as_ref()),
            ("wed", self.wed.as_ref()),
            ("thu", self.thu.as_ref()),
            ("fri", self.fri.as_ref()),
            ("sat", self.sat.as_ref()),
            ("sun", self.sun.as_ref()),
        ];
        for (name, windows) in days {
            let Some(windows) = windows else { continue };
            for pair in windows.windows(2) {
                if let [a, b] = pair
                    && b.start < a.end
                {
                    return Err((
                        format!("{key}.{name}"),
                        format!("windows must be in time order and not overlap: {a} then {b}"),
                    ));
                }
            }
        }
        if Weekday::Monday
            .cycle_forward()
            .take(7)
            .all(|d| self.on(d).is_empty())
        {
            return Err((
                key.to_string(),
                "no window on any day: mail would never go (set [schedule] enabled = false to send at once)"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// A window of local civil time, `"09:00-17:00"`; the end is exclusive and
/// may be `24:00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct Window {
    /// Minutes after local midnight.
    pub start: u16,
    /// Minutes after local midnight, at most 24 × 60.
    pub end: u16,
}

impl Window {
    /// The start as a civil time.
    pub fn start_time(&self) -> Time {
        minutes_to_time(self.start)
    }

    /// The length in seconds.
    pub fn seconds(&self) -> i64 {
        i64::from(self.end - self.start) * 60
    }
}

/// `m` < 24 × 60 by construction of [`Window`].
pub(crate) fn minutes_to_time(m: u16) -> Time {
    let m = m.min(DAY_MINUTES - 1);
    Time::constant((m / 60) as i8, (m % 60) as i8, 0, 0)
}

impl TryFrom<String> for Window {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        let bad = || format!("'{s}' is not a window like \"09:00-17:00\"");
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let parse = |t: &str| -> Option<u16> {
            let (h, m) = t.trim().split_once(':')?;
            if h.is_empty() || h.len() > 2 || m.len() != 2 {
                return None;
            }
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
        };
        let (start, end) = (parse(a).ok_or_else(bad)?, parse(b).ok_or_else(bad)?);
        if start >= end {
            return Err(format!("'{s}': the window must end after it starts"));
        }
        Ok(Window { start, end })
    }
}

impl From<Window> for String {
    fn from(w: Window) -> String {
        w.to_string()
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start / 60,
            self.start % 60,
            self.end / 60,
            self.end % 60
        )
    }
}

/// A day of the week in config and data files: `"Fri"`, `"fri"`, `"friday"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct Day(pub Weekday);

impl Day {
    pub fn parse(s: &str) -> Option<Day> {
        let d = match s.to_ascii_lowercase().get(..3)? {
            "mon" => Weekday::Monday,
            "tue" => Weekday::Tuesday,
            "wed" => Weekday::Wednesday,
            "thu" => Weekday::Thursday,
            "fri" => Weekday::Friday,
            "sat" => Weekday::Saturday,
            "sun" => Weekday::Sunday,
            _ => return None,
        };
        Some(Day(d))
    }
}

impl TryFrom<String> for Day {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Day::parse(&s).ok_or_else(|| format!("'{s}' is not a day (Mon, Tue, … Sun)"))
    }
}

impl From<Day> for String {
    fn from(d: Day) -> String {
        let s = match d.0 {
            Weekday::Monday => "Mon",
            Weekday::Tuesday => "Tue",
            Weekday::Wednesday => "Wed",
            Weekday::Thursday => "Thu",
            Weekday::Friday => "Fri",
            Weekday::Saturday => "Sat",
            Weekday::Sunday => "Sun",
        };
        s.to_string()
    }
}

/// `[schedule.countries.CC]`: every key optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CountryOverride {
    /// The zone of recipients placed in this country by their ccTLD (e.g.
    /// `America/Chicago` instead of the most populous `America/New_York`).
    pub timezone: Option<String>,
    /// The weekend, replacing the data file's (`[]`: none).
    pub weekend: Option<Vec<Day>>,
    /// Business hours replacing `[schedule.business_hours]` for this country.
    pub business_hours: Option<BusinessHours>,
    /// Extra closed days: `[{ date = "2026-12-24", name = "Christmas Eve" }]`.
    pub extra_holidays: Vec<Holiday>,
    /// Days of the data file that are working days here after all.
    pub not_holidays: Vec<Date>,
}

/// `[schedule.addresses."…"]` / `[schedule.domains."…"]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecipientOverride {
    /// An IANA zone name.
    pub timezone: Option<String>,
    /// An ISO 3166 alpha-2 code (weekend and holidays).
    pub country: Option<String>,
    /// Business hours of this recipient.
    pub business_hours: Option<BusinessHours>,
}

fn check_zone(key: String, name: &str) -> Result<(), (String, String)> {
    match TimeZone::get(name) {
        Ok(_) => Ok(()),
        Err(_) => Err((
            key,
            format!("unknown time zone '{name}' (use an IANA name like Europe/Berlin)"),
        )),
    }
}

/// `DE`, not `de` or `DEU`: the key the holiday files and the ccTLD table use.
pub(crate) fn is_country_code(cc: &str) -> bool {
    cc.len() == 2 && cc.bytes().all(|b| b.is_ascii_uppercase())
}

fn check_country(key: String, cc: &str) -> Result<(), (String, String)> {
    if is_country_code(cc) {
        Ok(())
    } else {
        Err((
            key,
            format!("'{cc}' is not a country code (two capital letters, like DE)"),
        ))
    }
}

impl ScheduleConfig {
    /// Checks what serde cannot. The error is `(key, message)`.
    pub fn validate(&self) -> Result<(), (String, String)> {
        check_zone("schedule.default_timezone".into(), &self.default_timezone)?;
        if let Err(e) = super::closures::in_force(&self.closures) {
            return Err(match e {
                super::Error::Config { key, message } => (key, message),
                other => ("schedule.closures".into(), other.to_string()),
            });
        }
        if self.jitter > MAX_JITTER {
            return Err((
                "schedule.jitter".into(),
                format!(
                    "at most {} (a few minutes is the point), not {}",
                    humantime::format_duration(MAX_JITTER),
                    humantime::format_duration(self.jitter)
                ),
            ));
        }
        self.business_hours.check("schedule.business_hours")?;
        for (i, cc) in self.markets.iter().enumerate() {
            check_country(format!("schedule.markets[{i}]"), cc)?;
        }
        for (cc, o) in &self.countries {
            let key = format!("schedule.countries.{cc}");
            check_country(key.clone(), cc)?;
            if let Some(z) = &o.timezone {
                check_zone(format!("{key}.timezone"), z)?;
            }
            if let Some(h) = &o.business_hours {
                h.check(&format!("{key}.business_hours"))?;
            }
            if let Some(w) = &o.weekend
                && Weekday::Monday
                    .cycle_forward()
                    .take(7)
                    .all(|d| w.contains(&Day(d)))
            {
                return Err((
                    format!("{key}.weekend"),
                    "every day is weekend: mail would never go".into(),
                ));
            }
        }
        for (map, what) in [(&self.addresses, "addresses"), (&self.domains, "domains")] {
            for (k, o) in map {
                let key = format!("schedule.{what}.\"{k}\"");
                if (what == "addresses") != k.contains('@') {
                    let m = if what == "addresses" {
                        format!("'{k}' is not an address (put domains under [schedule.domains])")
                    } else {
                        format!(
                            "'{k}' is an address, not a domain (put it under [schedule.addresses])"
                        )
                    };
                    return Err((key, m));
                }
                if let Some(z) = &o.timezone {
                    check_zone(format!("{key}.timezone"), z)?;
                }
                if let Some(c) = &o.country {
                    check_country(format!("{key}.country"), c)?;
                }
                if let Some(h) = &o.business_hours {
                    h.check(&format!("{key}.business_hours"))?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<ScheduleConfig, String> {
        toml::from_str::<ScheduleConfig>(s).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_are_mon_fri_nine_to_five_with_fifteen_minutes_jitter() {
        let c = parse("").unwrap();
        assert_eq!(c, ScheduleConfig::default());
        assert!(c.validate().is_ok());
        assert_eq!(
            c.business_hours.on(Weekday::Monday),
            &[Window::try_from("09:00-17:00".to_string()).unwrap()]
        );
        assert_eq!(c.jitter, Duration::from_secs(900));
    }

    #[test]
    fn windows_and_days_parse() {
        let c = parse(
            r#"
            jitter = "5m"
            [business_hours]
            default = ["08:30-12:00", "13:00-24:00"]
            fri = ["09:00-12:00"]
            [countries.SA]
            timezone = "Asia/Riyadh"
            weekend = ["fri", "Sat"]
            extra_holidays = [{ date = "2026-09-23", name = "National Day" }]
            not_holidays = ["2026-02-22"]
            [addresses."a@b.de"]
            timezone = "Asia/Tokyo"
            "#,
        )
        .unwrap();
        assert!(c.validate().is_ok(), "{:?}", c.validate());
        assert_eq!(c.business_hours.on(Weekday::Monday)[1].end, 24 * 60);
        assert_eq!(c.business_hours.on(Weekday::Friday).len(), 1);
        assert_eq!(
            c.countries["SA"].weekend,
            Some(vec![Day(Weekday::Friday), Day(Weekday::Saturday)])
        );
    }

    #[test]
    fn bad_windows_and_keys_are_refused_by_serde() {
        for bad in [
            "[business_hours]\ndefault = [\"9-17\"]",
            "[business_hours]\ndefault = [\"17:00-09:00\"]",
            "[business_hours]\ndefault = [\"09:00-24:30\"]",
            "[business_hours]\nfriday = [\"09:00-12:00\"]",
            "[countries.DE]\nweekend = [\"Caturday\"]",
            "jiter = \"5m\"",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn validate_names_the_key() {
        let cases = [
            (
                "default_timezone = \"Europe/Berlinn\"",
                "schedule.default_timezone",
            ),
            (
                "[countries.US]\ntimezone = \"America/Chicgo\"",
                "schedule.countries.US.timezone",
            ),
            (
                "closures = { JP_NEWYEAR = false }",
                "schedule.closures.JP_NEWYEAR",
            ),
            (
                "[countries.us]\ntimezone = \"UTC\"",
                "schedule.countries.us",
            ),
            (
                "[domains.\"firma.de\"]\ntimezone = \"Mars/Olympus\"",
                "schedule.domains.\"firma.de\".timezone",
            ),
            (
                "[addresses.\"firma.de\"]\ntimezone = \"UTC\"",
                "schedule.addresses.\"firma.de\"",
            ),
            (
                "[addresses.\"a@firma.de\"]\ncountry = \"Germany\"",
                "schedule.addresses.\"a@firma.de\".country",
            ),
            (
                "[business_hours]\ndefault = [\"09:00-12:00\", \"11:00-17:00\"]",
                "schedule.business_hours.default",
            ),
            ("[business_hours]\ndefault = []", "schedule.business_hours"),
            ("jitter = \"3h\"", "schedule.jitter"),
            (
                "[countries.DE]\nweekend = [\"Mon\",\"Tue\",\"Wed\",\"Thu\",\"Fri\",\"Sat\",\"Sun\"]",
                "schedule.countries.DE.weekend",
            ),
        ];
        for (toml, key) in cases {
            let (k, m) = parse(toml).unwrap().validate().unwrap_err();
            assert_eq!(k, key, "{toml}: {m}");
        }
    }
}
