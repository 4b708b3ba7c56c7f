//! The two SQL dialects the store speaks and the embedded migration runner.
//!
//! Everything that differs between SQLite and PostgreSQL lives here (DDL
//! column types, how a write transaction starts, row locking in the claim);
//! the queries in `sql.rs` stay in the common subset with `$N` placeholders.
//! Migrations are compiled into the binary, so it needs no files at run time.
//! Knows nothing of messages or deliveries beyond their DDL.

use sqlx::AnyPool;

use super::{Error, Result};

/// Which database is behind the `Any` pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// The schema's history, oldest first; version N is the N-th entry. Append
/// only: a shipped migration is never edited.
const SQLITE_MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_queue.sql"),
    include_str!("../../migrations/sqlite/0002_suppression_contacts.sql"),
    include_str!("../../migrations/sqlite/0003_ledger.sql"),
    include_str!("../../migrations/sqlite/0004_audit.sql"),
    include_str!("../../migrations/sqlite/0005_review_indexes.sql"),
    include_str!("../../migrations/sqlite/0006_journal_address.sql"),
    include_str!("../../migrations/sqlite/0007_route_pauses.sql"),
    include_str!("../../migrations/sqlite/0008_message_parts.sql"),
    include_str!("../../migrations/sqlite/0009_route_budgets.sql"),
    include_str!("../../migrations/sqlite/0010_nodes.sql"),
    include_str!("../../migrations/sqlite/0011_delivery_wait.sql"),
    include_str!("../../migrations/sqlite/0012_inbox.sql"),
    include_str!("../../migrations/sqlite/0013_reminder.sql"),
    include_str!("../../migrations/sqlite/0014_advice.sql"),
    include_str!("../../migrations/sqlite/0015_shared_limits.sql"),
    include_str!("../../migrations/sqlite/0016_claim_index.sql"),
];
const POSTGRES_MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/postgres/0001_queue.sql"),
    include_str!("../../migrations/postgres/0002_suppression_contacts.sql"),
    include_str!("../../migrations/postgres/0003_ledger.sql"),
    include_str!("../../migrations/postgres/0004_audit.sql"),
    include_str!("../../migrations/postgres/0005_review_indexes.sql"),
    include_str!("../../migrations/postgres/0006_journal_address.sql"),
    include_str!("../../migrations/postgres/0007_route_pauses.sql"),
    include_str!("../../migrations/postgres/0008_message_parts.sql"),
    include_str!("../../migrations/postgres/0009_route_budgets.sql"),
    include_str!("../../migrations/postgres/0010_nodes.sql"),
    include_str!("../../migrations/postgres/0011_delivery_wait.sql"),
    include_str!("../../migrations/postgres/0012_inbox.sql"),
    include_str!("../../migrations/postgres/0013_reminder.sql"),
    include_str!("../../migrations/postgres/0014_advice.sql"),
    include_str!("../../migrations/postgres/0015_shared_limits.sql"),
    include_str!("../../migrations/postgres/0016_claim_index.sql"),
];

impl Dialect {
    /// Tells the dialect from a store URL.
    pub fn from_url(url: &str) -> Result<Dialect> {
        if url.starts_with("sqlite:") {
            Ok(Dialect::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Dialect::Postgres)
        } else {
            Err(Error::Url(url.to_string()))
        }
    }

    /// The statement opening a transaction that will write. SQLite takes the
    /// write lock up front (`IMMEDIATE`) so a transaction never has to
    /// upgrade a read lock, which can fail with `SQLITE_BUSY` regardless of
    /// the busy timeout.
    pub(super) fn begin_write(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        }
    }

    /// Appended to the SELECT of the audit chain's head row: on PostgreSQL
    /// the row lock makes appenders on every node take turns, so each
    /// record links to the one before it. SQLite's write lock already does.
    pub(super) fn head_lock(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }

    /// Appended to the claim's inner SELECT: on PostgreSQL concurrent
    /// claimers (other nodes) skip rows another claimer has locked instead of
    /// queueing behind it. SQLite serialises writers, so it needs nothing.
    pub(super) fn claim_lock(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// Named after `FROM deliveries` in the due half of the claim. SQLite's
    /// planner, left to itself, takes `deliveries_due (state, deliver_at)`
    /// and sorts every due row (a backlog of 10,000 made a claim 5 times
    /// slower); PostgreSQL picks the ordered partial index by itself.
    pub(super) fn waiting_index(self) -> &'static str {
        match self {
            Dialect::Sqlite => " INDEXED BY deliveries_waiting",
            Dialect::Postgres => "",
        }
    }

    fn migrations(self) -> &'static [&'static str] {
        match self {
            Dialect::Sqlite => SQLITE_MIGRATIONS,
            Dialect::Postgres => POSTGRES_MIGRATIONS,
        }
    }
}

/// Splits a migration file into statements: comment lines go first (so a
/// semicolon in a comment is harmless), then a split on `;`. The files keep
/// semicolons out of string literals, so that split is exact.
pub(super) fn statements(sql: &str) -> impl Iterator<Item = String> {
    let code: Vec<&str> = sql
        .lines()
        .filter(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with("--")
        })
        .collect();
    code.join("\n")
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect::<Vec<_>>()
        .into_iter()
}

/// Brings the schema up to date. Safe to run at every start and from several
/// nodes at once: on PostgreSQL the version table is locked for the duration,
/// on SQLite the immediate transaction serialises runners.
pub(super) async fn migrate(pool: &AnyPool, dialect: Dialect) -> Result<()> {
    // Up to date (the usual case, and every CLI command beside a running
    // server): a plain read, so opening the store never waits for the
    // server's write lock.
    let current: std::result::Result<Option<i64>, _> =
        sqlx::query_scalar("SELECT MAX(version) FROM schema_version")
            .fetch_one(pool)
            .await;
    if let Ok(Some(v)) = current
        && usize::try_from(v).is_ok_and(|v| v >= dialect.migrations().len())
    {
        return Ok(());
    }
    // A lost race between two nodes creating the version table on a fresh
    // PostgreSQL database shows up as a unique violation; the second try sees
    // the table.
    match migrate_once(pool, dialect).await {
        Ok(()) => Ok(()),
        Err(_) if dialect == Dialect::Postgres => migrate_once(pool, dialect).await,
        Err(e) => Err(e),
    }
}

async fn migrate_once(pool: &AnyPool, dialect: Dialect) -> Result<()> {
    let mut tx = pool.begin_with(dialect.begin_write()).await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
        .execute(&mut *tx)
        .await?;
    if dialect == Dialect::Postgres {
        sqlx::query("LOCK TABLE schema_version IN EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
    }
    let current: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_version")
        .fetch_one(&mut *tx)
        .await?;
    let current = current.unwrap_or(0);
    for (index, sql) in dialect.migrations().iter().enumerate() {
        let version = i64::try_from(index).unwrap_or(i64::MAX).saturating_add(1);
        if version <= current {
            continue;
        }
        for stmt in statements(sql) {
            sqlx::query(sqlx::AssertSqlSafe(stmt))
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("INSERT INTO schema_version (version) VALUES ($1)")
            .bind(version)
            .execute(&mut *tx)
            .await?;
        tracing::info!(version, ?dialect, "store schema migrated");
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_split_into_statements() {
        for d in [Dialect::Sqlite, Dialect::Postgres] {
            for m in d.migrations() {
                let stmts: Vec<String> = statements(m).collect();
                assert!(!stmts.is_empty(), "{d:?}: {m}");
                assert!(
                    stmts
                        .iter()
                        .all(|s| ["CREATE ", "INSERT INTO ", "ALTER TABLE "]
                            .iter()
                            .any(|k| s.starts_with(k))),
                    "{d:?}: {stmts:?}"
                );
            }
        }
        assert_eq!(SQLITE_MIGRATIONS.len(), POSTGRES_MIGRATIONS.len());
        let with_comment =
            "-- a note; with a semicolon\nCREATE TABLE t (x INT);\n\nCREATE INDEX i ON t (x);\n";
        assert_eq!(
            statements(with_comment).collect::<Vec<_>>(),
            vec!["CREATE TABLE t (x INT)", "CREATE INDEX i ON t (x)"]
        );
    }

    #[test]
    fn dialect_from_url() {
        assert_eq!(
            Dialect::from_url("sqlite://./x.db").ok(),
            Some(Dialect::Sqlite)
        );
        assert_eq!(
            Dialect::from_url("postgres://u@h/db").ok(),
            Some(Dialect::Postgres)
        );
        assert!(Dialect::from_url("mysql://u@h/db").is_err());
    }
}
