//! What the judge knows besides the message: per-recipient facts (address,
//! domain, country, whether the contact is established) and sender facts
//! (who is authenticated, what they may send as, DMARC outlook).
//!
//! Plain data filled at the edges; the country table here is the built-in
//! ccTLD fallback (contacts and DNS come from the `recipient/` room later).

use serde::Serialize;

/// One recipient of the message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecipientFacts {
    /// Lower-cased address.
    pub address: String,
    /// Lower-cased domain part.
    pub domain: String,
    /// ISO 3166-1 alpha-2 code of the recipient's country, when known.
    pub country: Option<String>,
    /// Has written to us before, or is in the contacts file.
    pub established: bool,
}

impl RecipientFacts {
    /// Domain and a ccTLD country from the address alone; not established.
    pub fn from_address(addr: &str) -> RecipientFacts {
        let address = addr
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_lowercase();
        let domain = address
            .rsplit_once('@')
            .map(|(_, d)| d.trim_end_matches('.').to_string())
            .unwrap_or_default();
        let country = country_of_domain(&domain).map(str::to_string);
        RecipientFacts {
            address,
            domain,
            country,
            established: false,
        }
    }

    pub fn local_part(&self) -> &str {
        self.address
            .rsplit_once('@')
            .map(|(l, _)| l)
            .unwrap_or(&self.address)
    }

    pub fn country(&self) -> Option<&str> {
        self.country.as_deref()
    }
}

/// Who sends, as far as the door knows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SenderFacts {
    /// The envelope sender (`MAIL FROM`).
    pub mail_from: String,
    /// The authenticated user, if the client did AUTH.
    pub auth_user: Option<String>,
    /// The From addresses this user may use (`@domain` allows a whole
    /// domain); `None` when the gateway does not restrict.
    pub allowed_from: Option<Vec<String>>,
    /// Whether DMARC of the From domain will fail through our upstream, when
    /// someone has found out (DNS is not the judge's business).
    pub dmarc_will_fail: Option<bool>,
}

/// ccTLD → country. Generic TLDs (.com, .net, .io, .co …) have no country.
const CCTLDS: &[(&str, &str)] = &[
    ("de", "DE"),
    ("at", "AT"),
    ("ch", "CH"),
    ("li", "LI"),
    ("fr", "FR"),
    ("it", "IT"),
    ("es", "ES"),
    ("pt", "PT"),
    ("nl", "NL"),
    ("be", "BE"),
    ("lu", "LU"),
    ("dk", "DK"),
    ("se", "SE"),
    ("no", "NO"),
    ("fi", "FI"),
    ("is", "IS"),
    ("ie", "IE"),
    ("uk", "GB"),
    ("gb", "GB"),
    ("pl", "PL"),
    ("cz", "CZ"),
    ("sk", "SK"),
    ("hu", "HU"),
    ("ro", "RO"),
    ("bg", "BG"),
    ("gr", "GR"),
    ("hr", "HR"),
    ("si", "SI"),
    ("rs", "RS"),
    ("ru", "RU"),
    ("ua", "UA"),
    ("tr", "TR"),
    ("il", "IL"),
    ("sa", "SA"),
    ("ae", "AE"),
    ("qa", "QA"),
    ("kw", "KW"),
    ("bh", "BH"),
    ("om", "OM"),
    ("jo", "JO"),
    ("lb", "LB"),
    ("eg", "EG"),
    ("ir", "IR"),
    ("iq", "IQ"),
    ("ma", "MA"),
    ("dz", "DZ"),
    ("tn", "TN"),
    ("za", "ZA"),
    ("ng", "NG"),
    ("ke", "KE"),
    ("in", "IN"),
    ("pk", "PK"),
    ("bd", "BD"),
    ("lk", "LK"),
    ("th", "TH"),
    ("vn", "VN"),
    ("my", "MY"),
    ("sg", "SG"),
    ("id", "ID"),
    ("ph", "PH"),
    ("jp", "JP"),
    ("kr", "KR"),
    ("cn", "CN"),
    ("tw", "TW"),
    ("hk", "HK"),
    ("mo", "MO"),
    ("au", "AU"),
    ("nz", "NZ"),
    ("ca", "CA"),
    ("us", "US"),
    ("mx", "MX"),
    ("br", "BR"),
    ("ar", "AR"),
    ("cl", "CL"),
    ("pe", "PE"),
    ("ee", "EE"),
    ("lv", "LV"),
    ("lt", "LT"),
];

/// The country of a domain's ccTLD (`shop.example.co.uk` → GB).
pub fn country_of_domain(domain: &str) -> Option<&'static str> {
    let tld = domain
        .trim_end_matches('.')
        .rsplit('.')
        .next()?
        .to_ascii_lowercase();
    CCTLDS.iter().find(|(t, _)| *t == tld).map(|(_, c)| *c)
}

/// Countries where Chinese is what the reader reads.
pub fn reads_chinese(country: &str) -> bool {
    matches!(country, "CN" | "TW" | "HK" | "MO" | "SG")
}

/// Countries where German is the business language.
pub fn german_speaking(country: &str) -> bool {
    matches!(country, "DE" | "AT" | "CH" | "LI")
}

/// The Middle East, where red on a payment request reads as a threat.
pub fn middle_east(country: &str) -> bool {
    matches!(
        country,
        "SA" | "AE" | "QA" | "KW" | "BH" | "OM" | "JO" | "LB" | "EG" | "IR" | "IQ" | "YE" | "SY"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_from_cctld() {
        let r = RecipientFacts::from_address("Einkauf@Firma.DE");
        assert_eq!(
            (r.address.as_str(), r.domain.as_str(), r.country()),
            ("einkauf@firma.de", "firma.de", Some("DE"))
        );
        assert_eq!(
            RecipientFacts::from_address("a@shop.co.uk").country(),
            Some("GB")
        );
        assert_eq!(RecipientFacts::from_address("a@gmail.com").country(), None);
        assert_eq!(RecipientFacts::from_address("a@startup.io").country(), None);
        assert_eq!(
            RecipientFacts::from_address("a@x.com.sa").country(),
            Some("SA")
        );
        assert_eq!(RecipientFacts::from_address("a@x.co.jp").local_part(), "a");
        assert!(CCTLDS.len() >= 60);
    }
}
