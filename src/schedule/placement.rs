//! Where a recipient is: their time zone and country, and how we know.
//!
//! First hit wins (RULES.md, "Timing"): the contacts file → an operator
//! override for the address → one for the domain (or a parent domain) →
//! what was learned about the address → the country of the domain's ccTLD
//! (zone from `config/zones.toml`, or `[schedule.countries.CC] timezone`) →
//! `[schedule] default_timezone`. Pure: the caller looks the contact and the
//! learned facts up and passes them in.

use std::collections::HashMap;
use std::fmt;

use jiff::tz::TimeZone;
use serde::Deserialize;

use super::Error;
use super::config::{BusinessHours, RecipientOverride, ScheduleConfig, is_country_code};
use crate::policy::inputs::country_of_domain;

/// Country → zone, compiled in.
const ZONES_TOML: &str = include_str!("../../config/zones.toml");

/// What the caller knows about one recipient from elsewhere (a contacts-file
/// row, or what was learned from earlier mail). Either half may be missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Known {
    /// An IANA zone name; an unknown name is ignored (the next source decides).
    pub timezone: Option<String>,
    /// ISO 3166 alpha-2.
    pub country: Option<String>,
    /// How it was learned, shown as the source (`learned from their mail of
    /// 2026-12-01 (UTC−05:00)`); `None`: plain "learned".
    pub note: Option<String>,
}

/// How the zone was chosen: shown in reports and the queue listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlacementSource {
    Contact,
    AddressOverride,
    DomainOverride,
    /// Learned from their mail; the text says how.
    Learned(Option<String>),
    /// The ccTLD, without its dot (`"de"`).
    CcTld(String),
    /// Nothing known: the hour that suits most of `[schedule] markets`.
    Markets(Vec<String>),
    Default,
}

impl fmt::Display for PlacementSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlacementSource::Contact => f.write_str("contacts file"),
            PlacementSource::AddressOverride | PlacementSource::DomainOverride => {
                f.write_str("override")
            }
            PlacementSource::Learned(None) => f.write_str("learned"),
            PlacementSource::Learned(Some(how)) => f.write_str(how),
            PlacementSource::CcTld(tld) => write!(f, "ccTLD .{tld}"),
            PlacementSource::Markets(m) => write!(f, "guessed from markets {}", m.join(", ")),
            PlacementSource::Default => f.write_str("default"),
        }
    }
}

/// A recipient's zone and country.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub zone: TimeZone,
    /// Decides weekend and holidays; `None`: Saturday–Sunday, no holidays.
    pub country: Option<String>,
    pub source: PlacementSource,
    /// Business hours configured for this very address or domain.
    pub business_hours: Option<BusinessHours>,
    /// With [`PlacementSource::Markets`]: each market's country and zone;
    /// the plan picks the hour most of them are at work.
    pub markets: Vec<(String, TimeZone)>,
}

impl Placement {
    /// The IANA name (`"Europe/Berlin"`).
    pub fn zone_name(&self) -> &str {
        self.zone.iana_name().unwrap_or("UTC")
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ZonesFile {
    zones: HashMap<String, String>,
}

/// Resolved overrides and the country → zone table, built once from the
/// config so that placing a recipient parses nothing.
#[derive(Debug, Clone)]
pub struct Placer {
    default_zone: TimeZone,
    country_zones: HashMap<String, TimeZone>,
    addresses: HashMap<String, Resolved>,
    domains: HashMap<String, Resolved>,
    markets: Vec<(String, TimeZone)>,
}

#[derive(Debug, Clone)]
struct Resolved {
    zone: Option<TimeZone>,
    country: Option<String>,
    business_hours: Option<BusinessHours>,
}

fn zone(key: &str, name: &str) -> Result<TimeZone, Error> {
    TimeZone::get(name).map_err(|_| Error::Config {
        key: key.to_string(),
        message: format!("unknown time zone '{name}' (use an IANA name like Europe/Berlin)"),
    })
}

impl Placer {
    /// Resolves every zone name once. Unknown names are config errors naming
    /// the key (run [`ScheduleConfig::validate`] first for the full check).
    pub fn new(cfg: &ScheduleConfig) -> Result<Placer, Error> {
        let table: ZonesFile = toml::from_str(ZONES_TOML).map_err(|e| Error::Data {
            file: "config/zones.toml".into(),
            message: e.to_string(),
        })?;
        let mut country_zones = HashMap::with_capacity(table.zones.len());
        for (cc, name) in &table.zones {
            country_zones.insert(cc.clone(), zone(&format!("config/zones.toml {cc}"), name)?);
        }
        for (cc, o) in &cfg.countries {
            if let Some(name) = &o.timezone {
                let key = format!("schedule.countries.{cc}.timezone");
                country_zones.insert(cc.clone(), zone(&key, name)?);
            }
        }
        let resolve = |what: &str, map: &std::collections::BTreeMap<String, RecipientOverride>| {
            map.iter()
                .map(|(k, o)| {
                    let zone = match &o.timezone {
                        Some(n) => Some(zone(&format!("schedule.{what}.\"{k}\".timezone"), n)?),
                        None => None,
                    };
                    let r = Resolved {
                        zone,
                        country: o.country.clone(),
                        business_hours: o.business_hours.clone(),
                    };
                    Ok((k.to_ascii_lowercase(), r))
                })
                .collect::<Result<HashMap<_, _>, Error>>()
        };
        let mut markets = Vec::with_capacity(cfg.markets.len());
        for (i, cc) in cfg.markets.iter().enumerate() {
            let cc = cc.to_ascii_uppercase();
            let tz = country_zones
                .get(&cc)
                .cloned()
                .ok_or_else(|| Error::Config {
                    key: format!("schedule.markets[{i}]"),
                    message: format!(
                        "no zone known for '{cc}' (add [schedule.countries.{cc}] timezone)"
                    ),
                })?;
            markets.push((cc, tz));
        }
        Ok(Placer {
            markets,
            default_zone: zone("schedule.default_timezone", &cfg.default_timezone)?,
            country_zones,
            addresses: resolve("addresses", &cfg.addresses)?,
            domains: resolve("domains", &cfg.domains)?,
        })
    }

    /// `[schedule] default_timezone`, resolved.
    pub fn default_zone(&self) -> &TimeZone {
        &self.default_zone
    }

    /// The zone we assume for a country (`None`: not in the table).
    pub fn country_zone(&self, cc: &str) -> Option<&TimeZone> {
        self.country_zones.get(cc)
    }

    /// Places `address`. `contact` is its contacts-file row, `learned` what
    /// earlier mail taught; either may be `None`.
    pub fn place(
        &self,
        address: &str,
        contact: Option<&Known>,
        learned: Option<&Known>,
    ) -> Placement {
        let address = address.trim().to_ascii_lowercase();
        let domain = address.rsplit_once('@').map_or("", |(_, d)| d);
        let domain = domain.trim_end_matches('.');
        let tld_country = country_of_domain(domain);

        let known = |k: Option<&Known>| {
            let k = k?;
            let zone = k.timezone.as_deref().and_then(|n| TimeZone::get(n).ok());
            let country = k
                .country
                .as_deref()
                .map(str::to_ascii_uppercase)
                .filter(|c| is_country_code(c));
            (zone.is_some() || country.is_some()).then_some(Resolved {
                zone,
                country,
                business_hours: None,
            })
        };
        let by_domain = || {
            // example.de, then de: a subdomain inherits its parent's override.
            let mut d = domain;
            loop {
                if let Some(r) = self.domains.get(d) {
                    return Some(r.clone());
                }
                d = d.split_once('.')?.1;
            }
        };
        let hit = known(contact)
            .map(|r| (r, PlacementSource::Contact))
            .or_else(|| {
                self.addresses
                    .get(&address)
                    .map(|r| (r.clone(), PlacementSource::AddressOverride))
            })
            .or_else(|| by_domain().map(|r| (r, PlacementSource::DomainOverride)))
            .or_else(|| {
                known(learned).map(|r| {
                    let note = learned.and_then(|l| l.note.clone());
                    (r, PlacementSource::Learned(note))
                })
            });

        if let Some((r, source)) = hit {
            // Fill the missing half: a zone alone keeps the ccTLD's country
            // (for holidays); a country alone takes its zone from the table.
            let country = r.country.or_else(|| tld_country.map(str::to_string));
            let zone = r
                .zone
                .or_else(|| {
                    country
                        .as_deref()
                        .and_then(|c| self.country_zone(c).cloned())
                })
                .unwrap_or_else(|| self.default_zone.clone());
            return Placement {
                zone,
                country,
                source,
                business_hours: r.business_hours,
                markets: Vec::new(),
            };
        }
        if let Some(cc) = tld_country {
            let tld = domain.rsplit('.').next().unwrap_or_default().to_string();
            return Placement {
                zone: self
                    .country_zone(cc)
                    .cloned()
                    .unwrap_or_else(|| self.default_zone.clone()),
                country: Some(cc.to_string()),
                source: PlacementSource::CcTld(tld),
                business_hours: None,
                markets: Vec::new(),
            };
        }
        if !self.markets.is_empty() {
            return Placement {
                zone: TimeZone::UTC,
                country: None,
                source: PlacementSource::Markets(
                    self.markets.iter().map(|(cc, _)| cc.clone()).collect(),
                ),
                business_hours: None,
                markets: self.markets.clone(),
            };
        }
        Placement {
            zone: self.default_zone.clone(),
            country: None,
            source: PlacementSource::Default,
            business_hours: None,
            markets: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_zone_in_the_table_exists_and_every_cctld_country_has_one() {
        let p = Placer::new(&ScheduleConfig::default()).unwrap();
        for cc in super::super::holidays::Calendar::embedded()
            .unwrap()
            .countries()
        {
            assert!(p.country_zone(cc).is_some(), "no zone for {cc}");
        }
        assert_eq!(
            p.country_zone("US").and_then(|z| z.iana_name()),
            Some("America/New_York")
        );
    }

    /// Address, contact, learned → zone, country, source.
    type Case<'a> = (
        &'a str,
        Option<&'a Known>,
        Option<&'a Known>,
        &'a str,
        Option<&'a str>,
        &'a str,
    );

    #[test]
    fn first_hit_wins() {
        let cfg: ScheduleConfig = toml::from_str(
            r#"
            default_timezone = "Asia/Shanghai"
            markets = []
            [countries.US]
            timezone = "America/Chicago"
            [addresses."boss@firma.de"]
            timezone = "America/New_York"
            [domains."firma.de"]
            country = "AT"
            "#,
        )
        .unwrap();
        let p = Placer::new(&cfg).unwrap();
        let contact = Known {
            timezone: Some("Asia/Tokyo".into()),
            country: None,
            note: None,
        };
        let learned = Known {
            timezone: None,
            country: Some("fr".into()),
            note: None,
        };
        let cases: [Case; 8] = [
            (
                "a@firma.de",
                Some(&contact),
                None,
                "Asia/Tokyo",
                Some("DE"),
                "contacts file",
            ),
            (
                "Boss@Firma.DE",
                None,
                Some(&learned),
                "America/New_York",
                Some("DE"),
                "override",
            ),
            (
                "x@sales.firma.de",
                None,
                Some(&learned),
                "Europe/Vienna",
                Some("AT"),
                "override",
            ),
            (
                "x@shop.com",
                None,
                Some(&learned),
                "Europe/Paris",
                Some("FR"),
                "learned",
            ),
            (
                "x@shop.us",
                None,
                None,
                "America/Chicago",
                Some("US"),
                "ccTLD .us",
            ),
            (
                "x@shop.co.jp",
                None,
                None,
                "Asia/Tokyo",
                Some("JP"),
                "ccTLD .jp",
            ),
            ("x@shop.com", None, None, "Asia/Shanghai", None, "default"),
            (
                "x@shop.com",
                Some(&Known {
                    timezone: Some("Nowhere/Land".into()),
                    country: None,
                    note: None,
                }),
                None,
                "Asia/Shanghai",
                None,
                "default",
            ),
        ];
        for (addr, c, l, zone, country, source) in cases {
            let pl = p.place(addr, c, l);
            assert_eq!(
                (
                    pl.zone_name(),
                    pl.country.as_deref(),
                    pl.source.to_string().as_str()
                ),
                (zone, country, source),
                "{addr}"
            );
        }
    }

    #[test]
    fn an_unknown_zone_is_a_config_error_naming_the_key() {
        let cfg: ScheduleConfig =
            toml::from_str("[domains.\"x.de\"]\ntimezone = \"Europe/Berlim\"").unwrap();
        let e = Placer::new(&cfg).unwrap_err().to_string();
        assert!(
            e.contains("schedule.domains.\"x.de\".timezone") && e.contains("Berlim"),
            "{e}"
        );
    }
}
