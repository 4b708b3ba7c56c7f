//! CSV files of recipients, read into store rows: the suppression list
//! (`address,reason`) and the contacts file
//! (`address,name,country,timezone,established`).
//!
//! A header row names the columns (any order, any case); `address` is
//! required, the others may be left out. Every bad row is reported with its
//! line number, never silently skipped: the caller decides whether the good
//! rows go in anyway. Knows nothing of SQL.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::io::Read;

use email_address::{EmailAddress, Options};
use jiff::Timestamp;

use crate::store::{Contact, ContactSource, NewSuppression, normalize_address};

/// Reason given to imported suppressions whose row has none.
pub const DEFAULT_IMPORT_REASON: &str = "imported from a suppression list";

/// Columns of a suppression file.
pub const SUPPRESSION_COLUMNS: &[&str] = &["address", "reason"];

/// Columns of a contacts file.
pub const CONTACT_COLUMNS: &[&str] = &["address", "name", "country", "timezone", "established"];

/// One row that could not be read; `line` counts from 1, the header is line 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The rows that could be read, and the ones that could not.
#[derive(Debug, Clone)]
pub struct Parsed<T> {
    pub rows: Vec<T>,
    pub errors: Vec<RowError>,
}

/// The file as a whole cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read the header row: {0}")]
    Header(csv::Error),
    #[error("the header has no 'address' column (expected columns: {expected})")]
    NoAddressColumn { expected: String },
    #[error("unknown column '{column}' in the header (expected columns: {expected})")]
    UnknownColumn { column: String, expected: String },
    #[error("column '{0}' appears twice in the header")]
    DuplicateColumn(String),
}

/// Reads a suppression file: `address,reason`.
pub fn parse_suppressions(input: impl Read) -> Result<Parsed<NewSuppression>, ImportError> {
    parse(input, SUPPRESSION_COLUMNS, |row| {
        let address = row.address()?;
        let reason = match row.get("reason") {
            Some(r) => r.to_string(),
            None => DEFAULT_IMPORT_REASON.to_string(),
        };
        Ok(NewSuppression { address, reason })
    })
}

/// Reads a contacts file: `address,name,country,timezone,established`.
/// `now` becomes each contact's `updated_at`.
pub fn parse_contacts(input: impl Read, now: Timestamp) -> Result<Parsed<Contact>, ImportError> {
    parse(input, CONTACT_COLUMNS, |row| {
        let address = row.address()?;
        let country = match row.get("country") {
            Some(c) if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) => {
                Some(c.to_ascii_uppercase())
            }
            Some(c) => {
                return Err(format!(
                    "country '{c}' is not a two-letter ISO 3166 code (like DE or JP)"
                ));
            }
            None => None,
        };
        let timezone = match row.get("timezone") {
            Some(tz) => match jiff::tz::TimeZone::get(tz) {
                Ok(_) => Some(tz.to_string()),
                Err(_) => {
                    return Err(format!(
                        "time zone '{tz}' is not an IANA zone name (like Europe/Berlin)"
                    ));
                }
            },
            None => None,
        };
        let established = match row.get("established").map(str::to_ascii_lowercase) {
            None => false,
            Some(v) => match v.as_str() {
                "1" | "true" | "yes" | "y" => true,
                "0" | "false" | "no" | "n" => false,
                _ => {
                    return Err(format!(
                        "established '{v}' is neither yes/true/1 nor no/false/0"
                    ));
                }
            },
        };
        Ok(Contact {
            address,
            name: row.get("name").map(str::to_string),
            country,
            timezone,
            established,
            source: ContactSource::Import,
            updated_at: now,
        })
    })
}

/// Whether `addr` is an address mail can go to (the same test as RCPT
/// syntax: a domain with a TLD, no display name).
pub fn valid_address(addr: &str) -> bool {
    !addr.is_empty()
        && addr.len() <= 254
        && EmailAddress::parse_with_options(
            addr,
            Options::default()
                .with_required_tld()
                .without_display_text(),
        )
        .is_ok()
}

/// One data row, with the header's column positions.
struct Row<'a> {
    record: &'a csv::StringRecord,
    columns: &'a HashMap<String, usize>,
}

impl Row<'_> {
    /// The trimmed value of a column; `None` when absent or empty.
    fn get(&self, column: &str) -> Option<&str> {
        let i = *self.columns.get(column)?;
        self.record.get(i).map(str::trim).filter(|v| !v.is_empty())
    }

    fn address(&self) -> Result<String, String> {
        let raw = self.get("address").ok_or("the address is empty")?;
        let bare = raw
            .strip_prefix('<')
            .and_then(|a| a.strip_suffix('>'))
            .unwrap_or(raw);
        if !valid_address(bare) {
            return Err(format!("'{raw}' is not a valid address"));
        }
        Ok(normalize_address(bare))
    }
}

fn parse<T>(
    input: impl Read,
    known: &[&str],
    read_row: impl Fn(&Row<'_>) -> Result<T, String>,
) -> Result<Parsed<T>, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .trim(csv::Trim::Headers)
        .from_reader(input);
    let expected = known.join(",");
    let mut columns = HashMap::new();
    for (i, name) in reader
        .headers()
        .map_err(ImportError::Header)?
        .iter()
        .enumerate()
    {
        // A spreadsheet's UTF-8 byte-order mark sticks to the first name.
        let name = name.trim_start_matches('\u{feff}').to_ascii_lowercase();
        if !known.contains(&name.as_str()) {
            return Err(ImportError::UnknownColumn {
                column: name,
                expected,
            });
        }
        if columns.insert(name.clone(), i).is_some() {
            return Err(ImportError::DuplicateColumn(name));
        }
    }
    if !columns.contains_key("address") {
        return Err(ImportError::NoAddressColumn { expected });
    }

    let mut out = Parsed {
        rows: Vec::new(),
        errors: Vec::new(),
    };
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map(|p| p.line()).unwrap_or(line);
                if record.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                let row = Row {
                    record: &record,
                    columns: &columns,
                };
                match read_row(&row) {
                    Ok(value) => {
                        let key = row.address().unwrap_or_default();
                        match seen.entry(key) {
                            Entry::Occupied(first) => out.errors.push(RowError {
                                line,
                                message: format!(
                                    "{} already appears on line {}",
                                    first.key(),
                                    first.get()
                                ),
                            }),
                            Entry::Vacant(slot) => {
                                slot.insert(line);
                                out.rows.push(value);
                            }
                        }
                    }
                    Err(message) => out.errors.push(RowError { line, message }),
                }
            }
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(line);
                let message = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!("{len} fields where the header has {expected_len}"),
                    csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_string(),
                    _ => e.to_string(),
                };
                out.errors.push(RowError { line, message });
                // An I/O error does not move the reader on: stop there.
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppressions_with_bad_rows_reported_by_line() {
        let csv = "address,reason\n\
                   Buyer@Example.DE,asked to stop\n\
                   not-an-address,x\n\
                   \n\
                   other@example.com,\n\
                   buyer@example.de,again\n\
                   a@b.example,too,many\n";
        let p = parse_suppressions(csv.as_bytes()).expect("a good header");
        assert_eq!(
            p.rows,
            vec![
                NewSuppression {
                    address: "buyer@example.de".into(),
                    reason: "asked to stop".into()
                },
                NewSuppression {
                    address: "other@example.com".into(),
                    reason: DEFAULT_IMPORT_REASON.into()
                },
            ]
        );
        let lines: Vec<u64> = p.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 6, 7], "{:?}", p.errors);
        assert!(p.errors[0].message.contains("not-an-address"));
        assert!(p.errors[1].message.contains("line 2"));
        assert!(p.errors[2].message.contains("3 fields"));
    }

    #[test]
    fn header_problems_stop_the_import() {
        assert!(matches!(
            parse_suppressions("adress,reason\nx@y.example,z\n".as_bytes()),
            Err(ImportError::UnknownColumn { .. })
        ));
        assert!(matches!(
            parse_suppressions("reason\nz\n".as_bytes()),
            Err(ImportError::NoAddressColumn { .. })
        ));
        // Only an address column, with a byte-order mark and odd case.
        let p = parse_suppressions("\u{feff}Address\nx@y.example\n".as_bytes()).expect("ok");
        assert_eq!(p.rows.len(), 1);
    }

    #[test]
    fn contacts_checked_field_by_field() {
        let now: Timestamp = "2026-11-22T10:00:00Z".parse().expect("a time");
        let csv = "address,name,country,timezone,established\n\
                   hans@example.de,Hans Müller,de,Europe/Berlin,yes\n\
                   \"suzuki@example.jp\",\"Suzuki, Ichiro\",JP,Asia/Tokyo,\n\
                   x@example.fr,X,France,Europe/Paris,no\n\
                   y@example.fr,Y,FR,Europe/Parris,no\n\
                   z@example.fr,Z,FR,Europe/Paris,maybe\n";
        let p = parse_contacts(csv.as_bytes(), now).expect("a good header");
        assert_eq!(p.rows.len(), 2);
        let hans = &p.rows[0];
        assert_eq!(hans.country.as_deref(), Some("DE"));
        assert_eq!(hans.timezone.as_deref(), Some("Europe/Berlin"));
        assert!(hans.established);
        assert_eq!(p.rows[1].name.as_deref(), Some("Suzuki, Ichiro"));
        assert!(!p.rows[1].established);
        let lines: Vec<u64> = p.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![4, 5, 6], "{:?}", p.errors);
        assert!(p.errors[1].message.contains("Europe/Parris"));
    }
}
