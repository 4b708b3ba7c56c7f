//! Facts about recipients that outlive any one message: the suppression
//! list (addresses we must not write to again) and the contacts (people we
//! know: name, country, time zone, whether a conversation is under way).
//!
//! Addresses are keys in their normal form ([`normalize_address`]), so
//! `Buyer@Müller.DE` and `buyer@xn--mller-kva.de` are one row. Same SQL
//! subset as `sql.rs` (`$N` placeholders, `ON CONFLICT`, times as i64
//! milliseconds, flags as 0/1). Knows nothing of CSV files, DNS or SMTP
//! replies: callers hand in rows and read rows.

use std::fmt;

use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::sql::ts;
use super::{Error, Result, Store};
use crate::audit::chain::Event;

/// Why an address is on the suppression list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SuppressionSource {
    /// The upstream refused it for good ("no such user" and kin).
    Bounce,
    /// An operator added it (`sendwell suppress add`).
    Manual,
    /// It came from a CSV file (`sendwell suppress import`).
    Import,
}

impl SuppressionSource {
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressionSource::Bounce => "bounce",
            SuppressionSource::Manual => "manual",
            SuppressionSource::Import => "import",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            SuppressionSource::Bounce,
            SuppressionSource::Manual,
            SuppressionSource::Import,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

impl fmt::Display for SuppressionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One suppressed address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    /// Normal form (see [`normalize_address`]).
    pub address: String,
    pub reason: String,
    pub source: SuppressionSource,
    pub created_at: Timestamp,
}

/// A row to import into the suppression list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSuppression {
    pub address: String,
    pub reason: String,
}

/// Where what we know about a contact came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContactSource {
    /// A contacts file (`sendwell contacts import`).
    Import,
    /// We learned it from mail: a reply went to this address.
    Reply,
    /// Set by an operator or by code on an operator's behalf.
    Manual,
}

impl ContactSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ContactSource::Import => "import",
            ContactSource::Reply => "reply",
            ContactSource::Manual => "manual",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ContactSource::Import,
            ContactSource::Reply,
            ContactSource::Manual,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

impl fmt::Display for ContactSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A person we know. `None` fields are unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    /// Normal form (see [`normalize_address`]); normalised again on write.
    pub address: String,
    pub name: Option<String>,
    /// ISO 3166-1 alpha-2, upper case (`DE`).
    pub country: Option<String>,
    /// IANA zone name (`Europe/Berlin`).
    pub timezone: Option<String>,
    /// Not a cold recipient: they are in our contacts as such, or a
    /// conversation with them is under way.
    pub established: bool,
    pub source: ContactSource,
    pub updated_at: Timestamp,
}

/// The key an address is stored under: surrounding `<>` and blanks removed,
/// local part lower-cased (every mailbox provider that matters treats it
/// case-blind, and a suppression that misses on case is worthless), domain
/// in lower-case ASCII (IDNA), so the Unicode and the punycode spelling of a
/// domain meet.
pub fn normalize_address(addr: &str) -> String {
    let a = addr.trim();
    let a = a.strip_prefix('<').unwrap_or(a);
    let a = a.strip_suffix('>').unwrap_or(a);
    match a.rsplit_once('@') {
        Some((local, domain)) => {
            let domain = idna::domain_to_ascii(domain).unwrap_or_else(|_| domain.to_lowercase());
            format!("{}@{domain}", local.to_lowercase())
        }
        None => a.to_lowercase(),
    }
}

impl Store {
    /// Puts an address on the suppression list. Returns `false` when it was
    /// already there: the first entry (its date and reason) is kept, so a
    /// later bounce does not hide why and since when it is suppressed.
    /// `record`, when given and the address was added, goes to the audit log
    /// in the same transaction.
    pub async fn suppress(
        &self,
        address: &str,
        reason: &str,
        source: SuppressionSource,
        now: Timestamp,
        record: Option<Event>,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(INSERT_SUPPRESSION)
            .bind(normalize_address(address))
            .bind(reason)
            .bind(source.as_str())
            .bind(now.as_millisecond())
            .execute(&mut *tx)
            .await?;
        self.commit_audited(tx, done.rows_affected() > 0, record)
            .await
    }

    /// Takes an address off the suppression list; `false` when it was not on
    /// it. `record` as for [`Store::suppress`].
    pub async fn unsuppress(&self, address: &str, record: Option<Event>) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM suppressions WHERE address = $1")
            .bind(normalize_address(address))
            .execute(&mut *tx)
            .await?;
        self.commit_audited(tx, done.rows_affected() > 0, record)
            .await
    }

    /// The suppression entry for an address, if any (one primary-key probe:
    /// cheap enough for every RCPT).
    pub async fn suppression(&self, address: &str) -> Result<Option<Suppression>> {
        let row = sqlx::query(
            "SELECT address, reason, source, created_at FROM suppressions WHERE address = $1",
        )
        .bind(normalize_address(address))
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(suppression_row).transpose()
    }

    /// Suppressed addresses, newest first.
    pub async fn list_suppressions(&self, limit: usize) -> Result<Vec<Suppression>> {
        let rows = sqlx::query(
            "SELECT address, reason, source, created_at FROM suppressions \
             ORDER BY created_at DESC, address LIMIT $1",
        )
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(suppression_row).collect()
    }

    /// Adds many addresses in one transaction (all or none). Addresses
    /// already suppressed keep their entry. Returns how many were new.
    /// `record` goes to the audit log in that transaction, with `added`.
    pub async fn import_suppressions(
        &self,
        rows: &[NewSuppression],
        source: SuppressionSource,
        now: Timestamp,
        record: Option<Event>,
    ) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let mut added = 0;
        for r in rows {
            let done = sqlx::query(INSERT_SUPPRESSION)
                .bind(normalize_address(&r.address))
                .bind(r.reason.as_str())
                .bind(source.as_str())
                .bind(now.as_millisecond())
                .execute(&mut *tx)
                .await?;
            added += done.rows_affected();
        }
        let record = record.map(|e| e.with("added", added));
        self.commit_audited(tx, true, record).await?;
        Ok(added)
    }

    /// Writes a contact. Fields that are `None` keep what is stored, and
    /// `established` never goes back to false: once a conversation happened,
    /// a contacts file that does not mention it must not make the person
    /// cold again.
    pub async fn upsert_contact(&self, contact: &Contact) -> Result<()> {
        upsert_contact_query(contact).execute(self.pool()).await?;
        Ok(())
    }

    /// What we know about an address, if anything.
    pub async fn contact(&self, address: &str) -> Result<Option<Contact>> {
        let row = sqlx::query(
            "SELECT address, name, country, timezone, established, source, updated_at \
             FROM contacts WHERE address = $1",
        )
        .bind(normalize_address(address))
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(contact_row).transpose()
    }

    /// Records that a conversation with this address is under way (we sent
    /// it a reply). Creates the contact when unknown. Returns `true` when
    /// the address was not established before.
    pub async fn mark_established(&self, address: &str, now: Timestamp) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO contacts (address, established, source, updated_at) VALUES ($1, 1, $2, $3) \
             ON CONFLICT (address) DO UPDATE SET established = 1, updated_at = excluded.updated_at \
             WHERE contacts.established = 0",
        )
        .bind(normalize_address(address))
        .bind(ContactSource::Reply.as_str())
        .bind(now.as_millisecond())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Writes many contacts in one transaction (all or none), each as
    /// [`Store::upsert_contact`] does. Returns how many rows were written.
    pub async fn import_contacts(&self, contacts: &[Contact]) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let mut n = 0;
        for c in contacts {
            n += upsert_contact_query(c)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(n)
    }
}

const INSERT_SUPPRESSION: &str = "INSERT INTO suppressions (address, reason, source, created_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (address) DO NOTHING";

fn upsert_contact_query(c: &Contact) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(
        "INSERT INTO contacts (address, name, country, timezone, established, source, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (address) DO UPDATE SET \
           name = COALESCE(excluded.name, contacts.name), \
           country = COALESCE(excluded.country, contacts.country), \
           timezone = COALESCE(excluded.timezone, contacts.timezone), \
           established = CASE WHEN contacts.established <> 0 THEN 1 ELSE excluded.established END, \
           source = excluded.source, \
           updated_at = excluded.updated_at",
    )
    .bind(normalize_address(&c.address))
    .bind(c.name.clone())
    .bind(c.country.clone())
    .bind(c.timezone.clone())
    .bind(i64::from(c.established))
    .bind(c.source.as_str())
    .bind(c.updated_at.as_millisecond())
}

fn suppression_row(r: &AnyRow) -> Result<Suppression> {
    let source: String = r.try_get("source")?;
    Ok(Suppression {
        address: r.try_get("address")?,
        reason: r.try_get("reason")?,
        source: SuppressionSource::parse(&source)
            .ok_or_else(|| Error::Corrupt(format!("unknown suppression source '{source}'")))?,
        created_at: ts(r.try_get("created_at")?)?,
    })
}

fn contact_row(r: &AnyRow) -> Result<Contact> {
    let source: String = r.try_get("source")?;
    Ok(Contact {
        address: r.try_get("address")?,
        name: r.try_get("name")?,
        country: r.try_get("country")?,
        timezone: r.try_get("timezone")?,
        established: r.try_get::<i64, _>("established")? != 0,
        source: ContactSource::parse(&source)
            .ok_or_else(|| Error::Corrupt(format!("unknown contact source '{source}'")))?,
        updated_at: ts(r.try_get("updated_at")?)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_meet_in_one_normal_form() {
        assert_eq!(
            normalize_address(" <Buyer@Example.DE> "),
            "buyer@example.de"
        );
        assert_eq!(
            normalize_address("Käufer@Müller.de"),
            "käufer@xn--mller-kva.de"
        );
        assert_eq!(
            normalize_address("käufer@xn--mller-kva.de"),
            "käufer@xn--mller-kva.de"
        );
    }

    #[test]
    fn sources_round_trip() {
        for s in [
            SuppressionSource::Bounce,
            SuppressionSource::Manual,
            SuppressionSource::Import,
        ] {
            assert_eq!(SuppressionSource::parse(s.as_str()), Some(s));
        }
        for s in [
            ContactSource::Import,
            ContactSource::Reply,
            ContactSource::Manual,
        ] {
            assert_eq!(ContactSource::parse(s.as_str()), Some(s));
        }
    }
}
