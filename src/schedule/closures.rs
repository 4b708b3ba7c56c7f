//! Closures: periods when businesses are closed though not by law (Japan's
//! New Year, the Spring Festival week, 24 and 31 December in German-speaking
//! and Nordic offices). Data in `config/closures.toml`, compiled in; each is
//! on or off by default and switched with `[schedule.closures] ID = bool`.
//!
//! Pure: turns the data into closed dates for a country's covered years.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Deserialize;

use super::Error;

const DATA: &str = include_str!("../../config/closures.toml");
const FILE: &str = "config/closures.toml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataFile {
    closure: Vec<Closure>,
}

/// One closure of `config/closures.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Closure {
    pub id: String,
    pub name: String,
    #[serde(default = "on")]
    pub on: bool,
    pub countries: Vec<String>,
    /// Yearly ranges, "MM-DD" to "MM-DD" (may cross the new year).
    #[serde(default)]
    pub periods: Vec<[String; 2]>,
    /// Ranges of given years.
    #[serde(default)]
    pub dates: Vec<[Date; 2]>,
}

fn on() -> bool {
    true
}

/// Every closure of the data file.
pub fn all() -> Result<Vec<Closure>, Error> {
    let f: DataFile = toml::from_str(DATA).map_err(|e| Error::Data {
        file: FILE.into(),
        message: e.to_string(),
    })?;
    Ok(f.closure)
}

/// The closures in force: the defaults, switched by `[schedule.closures]`.
/// An unknown ID is an error naming the key and the known IDs.
pub fn in_force(switches: &BTreeMap<String, bool>) -> Result<Vec<Closure>, Error> {
    let all = all()?;
    for id in switches.keys() {
        if !all.iter().any(|c| &c.id == id) {
            let known: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
            return Err(Error::Config {
                key: format!("schedule.closures.{id}"),
                message: format!("no such closure (known: {})", known.join(", ")),
            });
        }
    }
    Ok(all
        .into_iter()
        .filter(|c| switches.get(&c.id).copied().unwrap_or(c.on))
        .collect())
}

fn month_day(s: &str) -> Option<(i8, i8)> {
    let (m, d) = s.split_once('-')?;
    Some((m.parse().ok()?, d.parse().ok()?))
}

impl Closure {
    /// The closed days of this closure in `cc` within `years` (inclusive).
    pub fn days(&self, cc: &str, years: (i16, i16)) -> Result<Vec<Date>, Error> {
        let mut out = Vec::new();
        if !self.countries.iter().any(|c| c == cc) {
            return Ok(out);
        }
        let bad = |what: &str| Error::Data {
            file: FILE.into(),
            message: format!("closure {}: {what}", self.id),
        };
        let mut push_range = |from: Date, to: Date| {
            let mut d = from;
            while d <= to {
                if (years.0..=years.1).contains(&d.year()) {
                    out.push(d);
                }
                match d.tomorrow() {
                    Ok(n) => d = n,
                    Err(_) => break,
                }
            }
        };
        for [from, to] in &self.dates {
            push_range(*from, *to);
        }
        for [from, to] in &self.periods {
            let (Some((fm, fd)), Some((tm, td))) = (month_day(from), month_day(to)) else {
                return Err(bad(&format!(
                    "write periods as \"MM-DD\", not {from:?}/{to:?}"
                )));
            };
            // A range crossing the new year starts in the year before.
            let cross = (tm, td) < (fm, fd);
            for y in years.0.saturating_sub(1)..=years.1 {
                let start = Date::new(y, fm, fd).map_err(|e| bad(&e.to_string()))?;
                let end_year = if cross { y + 1 } else { y };
                let end = Date::new(end_year, tm, td).map_err(|e| bad(&e.to_string()))?;
                push_range(start, end);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn data_parses_and_every_closure_names_known_countries() {
        let all = all().unwrap();
        assert!(all.len() >= 4);
        for c in &all {
            assert!(!c.countries.is_empty(), "{}", c.id);
            assert!(!c.periods.is_empty() || !c.dates.is_empty(), "{}", c.id);
            c.days("JP", (2025, 2030)).unwrap();
        }
    }

    #[test]
    fn japan_new_year_crosses_the_year() {
        let jp = all()
            .unwrap()
            .into_iter()
            .find(|c| c.id == "JP_NEW_YEAR")
            .unwrap();
        let days = jp.days("JP", (2026, 2026)).unwrap();
        assert_eq!(
            days,
            [
                date(2026, 1, 1),
                date(2026, 1, 2),
                date(2026, 1, 3),
                date(2026, 12, 29),
                date(2026, 12, 30),
                date(2026, 12, 31)
            ]
        );
        assert!(jp.days("DE", (2026, 2026)).unwrap().is_empty());
    }

    #[test]
    fn switches_and_unknown_ids() {
        let on: Vec<String> = in_force(&BTreeMap::new())
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert!(on.contains(&"JP_NEW_YEAR".to_string()));
        assert!(!on.contains(&"CHRISTMAS_TO_NEW_YEAR".to_string()));
        let sw = BTreeMap::from([
            ("JP_NEW_YEAR".to_string(), false),
            ("CHRISTMAS_TO_NEW_YEAR".to_string(), true),
        ]);
        let on: Vec<String> = in_force(&sw).unwrap().into_iter().map(|c| c.id).collect();
        assert!(!on.contains(&"JP_NEW_YEAR".to_string()));
        assert!(on.contains(&"CHRISTMAS_TO_NEW_YEAR".to_string()));
        let e = in_force(&BTreeMap::from([("JP_NEWYEAR".to_string(), false)])).unwrap_err();
        assert!(
            e.to_string().contains("schedule.closures.JP_NEWYEAR"),
            "{e}"
        );
    }
}
