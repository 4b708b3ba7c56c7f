//! Public holidays and weekends by country: the committed data files under
//! `config/holidays/` (generated from python-holidays by
//! `config/holidays/generate.py`), compiled in, optionally replaced country by
//! country from a folder, then amended by `[schedule.countries.CC]`.
//!
//! Loading reads files; looking up is pure and cheap (a hash and a B-tree
//! probe). Knows nothing of zones, recipients or business hours.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::OnceLock;

use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize};

use super::Error;
use super::config::{Day, ScheduleConfig, is_country_code};

include!("embedded.rs");

/// One public holiday, as listed by `sendwell holidays CC --format json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    pub date: Date,
    pub name: String,
}

/// A set of weekdays, bit `n` for Monday + n.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Weekdays(u8);

impl Weekdays {
    /// Saturday and Sunday: the weekend of a country we know nothing about.
    pub const SAT_SUN: Weekdays = Weekdays(0b110_0000);

    pub fn from_days(days: &[Day]) -> Weekdays {
        Weekdays(days.iter().fold(0, |acc, d| acc | bit(d.0)))
    }

    pub fn contains(self, d: Weekday) -> bool {
        self.0 & bit(d) != 0
    }
}

fn bit(d: Weekday) -> u8 {
    1 << d.to_monday_zero_offset()
}

/// What one country's file says, after overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct CountryCalendar {
    /// English name ("Saudi Arabia").
    pub name: String,
    /// Where the data came from ("python-holidays 0.109", or an override file's word).
    pub source: String,
    /// Which holidays were taken ("national", or national plus those of most subdivisions).
    pub rule: String,
    /// First and last year the file covers; outside them only the weekend is known.
    pub years: (i16, i16),
    pub weekend: Weekdays,
    pub holidays: BTreeMap<Date, String>,
    /// Weekend days that are official working days (bridge-day swaps in CN, VN …).
    pub workdays: BTreeSet<Date>,
    /// From this year on the days are computed, not announced yet, and why
    /// that matters (CN's bridge days, LK's Poya days).
    pub estimated: Option<(i16, String)>,
}

/// The format of a `config/holidays/CC.toml` file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataFile {
    country: String,
    name: String,
    source: String,
    #[serde(default)]
    rule: String,
    years: [i16; 2],
    weekend: Vec<Day>,
    #[serde(default)]
    workdays: Vec<Date>,
    /// First year whose days are estimated (see `estimated`).
    #[serde(default)]
    estimated_from: Option<i16>,
    /// Why those years are estimates, for `sendwell holidays`.
    #[serde(default)]
    estimated: Option<String>,
    holidays: Vec<Holiday>,
}

fn parse_file(file: &str, text: &str) -> Result<CountryCalendar, Error> {
    let data = |message: String| Error::Data {
        file: file.to_string(),
        message,
    };
    let f: DataFile = toml::from_str(text).map_err(|e| data(e.to_string()))?;
    let expected = file
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(file)
        .trim_end_matches(".toml");
    if f.country != expected || !is_country_code(&f.country) {
        return Err(data(format!(
            "says country = \"{}\"; the file of a country is named CC.toml after its two-letter code",
            f.country
        )));
    }
    let mut holidays = BTreeMap::new();
    for h in f.holidays {
        // Two holidays on one day read as one closed day with both names.
        holidays
            .entry(h.date)
            .and_modify(|n: &mut String| {
                n.push_str("; ");
                n.push_str(&h.name);
            })
            .or_insert(h.name);
    }
    Ok(CountryCalendar {
        name: f.name,
        source: f.source,
        rule: f.rule,
        years: (f.years[0], f.years[1]),
        weekend: Weekdays::from_days(&f.weekend),
        holidays,
        workdays: f.workdays.into_iter().collect(),
        estimated: f
            .estimated_from
            .map(|y| (y, f.estimated.unwrap_or_default())),
    })
}

/// Holidays and weekends of every known country, loaded once at start-up.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    countries: HashMap<String, CountryCalendar>,
}

impl Calendar {
    /// The compiled-in data files, unchanged.
    pub fn embedded() -> Result<Calendar, Error> {
        let mut countries = HashMap::with_capacity(EMBEDDED.len());
        for (cc, text) in EMBEDDED {
            let file = format!("config/holidays/{cc}.toml");
            countries.insert((*cc).to_string(), parse_file(&file, text)?);
        }
        Ok(Calendar { countries })
    }

    /// The calendar a server runs with: the compiled-in files, those of
    /// `holidays_dir` in place of them (and for countries we do not ship), then
    /// `[schedule.countries.CC]` weekend and holiday amendments.
    pub fn load(cfg: &ScheduleConfig) -> Result<Calendar, Error> {
        let mut cal = Calendar::embedded()?;
        if let Some(dir) = &cfg.holidays_dir {
            cal.read_dir(dir)?;
        }
        // Closures first: a country's `not_holidays` may still lift a day.
        for closure in super::closures::in_force(&cfg.closures)? {
            for cc in &closure.countries {
                let Some(c) = cal.countries.get_mut(cc) else {
                    continue;
                };
                for d in closure.days(cc, c.years)? {
                    c.holidays.entry(d).or_insert_with(|| closure.name.clone());
                }
            }
        }
        for (cc, o) in &cfg.countries {
            let c = cal
                .countries
                .entry(cc.clone())
                .or_insert_with(|| CountryCalendar {
                    name: cc.clone(),
                    source: "configuration".into(),
                    rule: "configuration".into(),
                    years: (i16::MIN, i16::MAX),
                    weekend: Weekdays::SAT_SUN,
                    holidays: BTreeMap::new(),
                    workdays: BTreeSet::new(),
                    estimated: None,
                });
            if let Some(w) = &o.weekend {
                c.weekend = Weekdays::from_days(w);
            }
            for d in &o.not_holidays {
                c.holidays.remove(d);
            }
            for h in &o.extra_holidays {
                c.holidays.insert(h.date, h.name.clone());
            }
        }
        Ok(cal)
    }

    fn read_dir(&mut self, dir: &Path) -> Result<(), Error> {
        let io = |source| Error::Io {
            path: dir.to_path_buf(),
            source,
        };
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("toml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            let c = parse_file(&path.display().to_string(), &text)?;
            let cc = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            self.countries.insert(cc, c);
        }
        Ok(())
    }

    /// Countries with data, sorted.
    pub fn countries(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.countries.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    pub fn country(&self, cc: &str) -> Option<&CountryCalendar> {
        self.countries.get(cc)
    }

    /// The holiday's name if `date` is a public holiday in `cc`.
    pub fn holiday(&self, cc: Option<&str>, date: Date) -> Option<&str> {
        self.countries
            .get(cc?)?
            .holidays
            .get(&date)
            .map(String::as_str)
    }

    /// Whether `date` is a weekend day in `cc` (and not an official working
    /// day swapped onto the weekend). Unknown or no country: Saturday–Sunday.
    pub fn is_weekend(&self, cc: Option<&str>, date: Date) -> bool {
        match cc.and_then(|c| self.countries.get(c)) {
            Some(c) => c.weekend.contains(date.weekday()) && !c.workdays.contains(&date),
            None => Weekdays::SAT_SUN.contains(date.weekday()),
        }
    }

    /// The holidays of `cc`, of one year or all years, in date order.
    pub fn holidays(&self, cc: &str, year: Option<i16>) -> Result<Vec<Holiday>, Error> {
        let c = self
            .countries
            .get(&cc.to_ascii_uppercase())
            .ok_or_else(|| Error::UnknownCountry(cc.to_string()))?;
        if let Some(y) = year
            && !(c.years.0..=c.years.1).contains(&y)
        {
            return Err(Error::YearNotCovered {
                country: cc.to_ascii_uppercase(),
                year: y,
                first: c.years.0,
                last: c.years.1,
            });
        }
        Ok(c.holidays
            .iter()
            .filter(|(d, _)| year.is_none_or(|y| d.year() == y))
            .map(|(d, n)| Holiday {
                date: *d,
                name: n.clone(),
            })
            .collect())
    }
}

impl Calendar {
    /// When the days of `cc` in `year` are an estimate: the first estimated
    /// year and why.
    pub fn estimated(&self, cc: &str, year: i16) -> Option<(i16, &str)> {
        let c = self.countries.get(&cc.to_ascii_uppercase())?;
        match &c.estimated {
            Some((from, why)) if year >= *from => Some((*from, why)),
            _ => None,
        }
    }
}

/// The built-in holidays of `country` (`"DE"`, any case) in `year`, or of
/// every year we have when `None`: what `sendwell holidays CC [--year Y]`
/// prints when no `holidays_dir` is configured (else use [`Calendar::load`]
/// and [`Calendar::holidays`]).
pub fn list(country: &str, year: Option<i16>) -> Result<Vec<Holiday>, Error> {
    static BUILT_IN: OnceLock<Result<Calendar, String>> = OnceLock::new();
    let cal = BUILT_IN.get_or_init(|| Calendar::embedded().map_err(|e| e.to_string()));
    match cal {
        Ok(c) => c.holidays(country, year),
        Err(message) => Err(Error::Data {
            file: "config/holidays".into(),
            message: message.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn every_data_file_is_compiled_in_and_parses() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/holidays");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| {
                let p = e.unwrap().path();
                (p.extension()? == "toml").then(|| p.file_stem()?.to_str().map(str::to_string))?
            })
            .collect();
        on_disk.sort();
        let cal = Calendar::embedded().unwrap();
        assert_eq!(
            cal.countries(),
            on_disk,
            "regenerate src/schedule/embedded.rs"
        );
        assert!(cal.countries().len() >= 50);
    }

    /// Issue 12: Canada's mail goes to Toronto, and Ontario does not observe
    /// Remembrance Day (it does Boxing Day); a year outside the data is
    /// "not known", never "no holidays".
    #[test]
    fn regional_observance_and_years_with_data() {
        let cal = Calendar::embedded().unwrap();
        assert!(cal.holiday(Some("CA"), date(2026, 11, 11)).is_none());
        assert!(cal.holiday(Some("CA"), date(2026, 12, 26)).is_some());
        assert!(matches!(
            cal.holidays("LK", Some(2031)),
            Err(Error::YearNotCovered { last: 2030, .. })
        ));
    }

    /// Issue 12: closures are on by default, each switchable.
    #[test]
    fn closures_close_days_by_default() {
        let cal = Calendar::load(&ScheduleConfig::default()).unwrap();
        let jp = cal.holidays("JP", Some(2026)).unwrap();
        for d in [date(2026, 1, 2), date(2026, 12, 29), date(2026, 12, 30)] {
            assert!(jp.iter().any(|h| h.date == d), "JP {d}");
        }
        assert!(cal.holiday(Some("DE"), date(2026, 12, 24)).is_some());
        assert!(cal.holiday(Some("DE"), date(2026, 12, 31)).is_some());
        assert!(cal.holiday(Some("CN"), date(2026, 2, 23)).is_some());
        assert!(cal.holiday(Some("DE"), date(2026, 12, 28)).is_none());
        let cfg = ScheduleConfig {
            closures: BTreeMap::from([
                ("JP_NEW_YEAR".to_string(), false),
                ("CHRISTMAS_TO_NEW_YEAR".to_string(), true),
            ]),
            ..ScheduleConfig::default()
        };
        let cal = Calendar::load(&cfg).unwrap();
        assert!(cal.holiday(Some("JP"), date(2026, 12, 29)).is_none());
        assert!(cal.holiday(Some("DE"), date(2026, 12, 28)).is_some());
    }

    #[test]
    fn weekends_by_country() {
        let cal = Calendar::embedded().unwrap();
        let fri = date(2026, 11, 27);
        let sat = date(2026, 11, 28);
        let sun = date(2026, 11, 29);
        for (cc, f, sa, su) in [
            ("DE", false, true, true),
            ("SA", true, true, false),
            ("IL", true, true, false),
            ("AE", false, true, true), // Sat–Sun since 2022
            ("IR", true, false, false),
            ("EG", true, true, false),
            ("QA", true, true, false),
            ("KW", true, true, false),
            ("BH", true, true, false),
            ("OM", true, true, false),
            ("JO", true, true, false),
            ("HK", false, true, true),
        ] {
            assert_eq!(
                (
                    cal.is_weekend(Some(cc), fri),
                    cal.is_weekend(Some(cc), sat),
                    cal.is_weekend(Some(cc), sun)
                ),
                (f, sa, su),
                "{cc}"
            );
        }
        assert!(cal.is_weekend(None, sat) && !cal.is_weekend(None, fri));
        // China works some Saturdays to bridge a holiday.
        assert!(!cal.is_weekend(Some("CN"), date(2026, 2, 14)));
    }

    #[test]
    fn lunar_and_islamic_holidays_are_there() {
        let cal = Calendar::embedded().unwrap();
        assert!(cal.holiday(Some("CN"), date(2026, 2, 17)).is_some()); // Spring Festival
        assert!(cal.holiday(Some("KR"), date(2026, 2, 17)).is_some()); // Seollal
        assert!(cal.holiday(Some("VN"), date(2026, 2, 17)).is_some()); // Tết
        assert!(cal.holiday(Some("SG"), date(2026, 2, 17)).is_some());
        let eid = cal.holiday(Some("SA"), date(2026, 3, 20)).unwrap();
        assert!(eid.contains("Eid al-Fitr"), "{eid}");
        assert!(cal.holiday(Some("AE"), date(2026, 5, 27)).is_some()); // Eid al-Adha
        assert!(cal.holiday(Some("ID"), date(2026, 3, 21)).is_some()); // Lebaran
        assert!(cal.holiday(Some("BR"), date(2026, 2, 16)).is_some()); // Carnival
    }

    /// The gaps the cross-check with date-holidays found: Deepavali in MY,
    /// the Hindu and Buddhist days of BD, Sri Lanka after 2026, and years
    /// whose days are not announced yet said to be estimates.
    #[test]
    fn south_asian_feasts_and_estimated_years() {
        let cal = Calendar::embedded().unwrap();
        let deepavali = cal.holiday(Some("MY"), date(2026, 11, 8)).unwrap();
        assert!(deepavali.contains("Deepavali"), "{deepavali}");
        // A Sunday holiday is also given on the Monday in Malaysia.
        assert!(cal.holiday(Some("MY"), date(2026, 11, 9)).is_some());
        assert_eq!(
            cal.holiday(Some("MY"), date(2027, 10, 28)),
            Some("Deepavali")
        );
        for (d, name) in [
            (date(2026, 5, 1), "Buddha Purnima"),
            (date(2026, 9, 4), "Janmashtami"),
            (date(2026, 10, 20), "Durga Puja"),
        ] {
            let h = cal.holiday(Some("BD"), d).unwrap_or_default();
            assert!(h.contains(name), "BD {d}: {h:?}");
        }
        let lk = cal.holidays("LK", Some(2028)).unwrap();
        let poya = lk.iter().filter(|h| h.name.contains("Poya Day")).count();
        assert!((12..=14).contains(&poya), "{poya} Poya days in 2028");
        assert!(lk.iter().any(|h| h.date == date(2028, 2, 4)));
        assert!(cal.estimated("LK", 2026).is_none());
        assert_eq!(cal.estimated("lk", 2028).map(|e| e.0), Some(2027));
        assert_eq!(cal.estimated("CN", 2028).map(|e| e.0), Some(2027));
        assert!(cal.estimated("CN", 2026).is_none());
        assert!(cal.estimated("DE", 2030).is_none());
    }

    #[test]
    fn list_filters_by_year_and_knows_its_limits() {
        let de = list("de", Some(2026)).unwrap();
        assert_eq!(de.first().unwrap().date, date(2026, 1, 1));
        assert!(
            de.iter()
                .any(|h| h.date == date(2026, 12, 25) && h.name == "Christmas Day")
        );
        assert!(de.iter().all(|h| h.date.year() == 2026));
        let json = serde_json::to_string(&de[..1]).unwrap();
        assert_eq!(json, r#"[{"date":"2026-01-01","name":"New Year's Day"}]"#);
        assert!(matches!(list("XX", None), Err(Error::UnknownCountry(_))));
        assert!(matches!(
            list("DE", Some(2040)),
            Err(Error::YearNotCovered { .. })
        ));
    }

    #[test]
    fn config_amends_and_a_folder_replaces() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("DE.toml"),
            "country = \"DE\"\nname = \"Germany\"\nsource = \"ops\"\nyears = [2026, 2026]\n\
             weekend = [\"Sun\"]\nholidays = [{ date = \"2026-03-02\", name = \"Company day\" }]\n",
        )
        .unwrap();
        let cfg: ScheduleConfig = toml::from_str(&format!(
            "holidays_dir = {:?}\n[countries.DE]\n\
             extra_holidays = [{{ date = \"2026-12-24\", name = \"Christmas Eve\" }}]\n\
             not_holidays = [\"2026-03-02\"]\n[countries.XK]\nweekend = [\"Fri\"]\n",
            dir.path().display().to_string()
        ))
        .unwrap();
        let cal = Calendar::load(&cfg).unwrap();
        let de = cal.country("DE").unwrap();
        assert_eq!(de.source, "ops");
        assert!(cal.holiday(Some("DE"), date(2026, 3, 2)).is_none());
        assert_eq!(
            cal.holiday(Some("DE"), date(2026, 12, 24)),
            Some("Christmas Eve")
        );
        assert!(!cal.is_weekend(Some("DE"), date(2026, 11, 28)));
        assert!(cal.is_weekend(Some("XK"), date(2026, 11, 27)));

        std::fs::write(dir.path().join("FR.toml"), "country = \"DE\"\n").unwrap();
        let e = Calendar::load(&cfg).unwrap_err().to_string();
        assert!(e.contains("FR.toml"), "{e}");
    }
}
