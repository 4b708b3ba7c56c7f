//! Limits several nodes share (tables `limit_cells`, `limit_windows`): the
//! store answers [`Shared`] on PostgreSQL, where every node asks the same
//! rows; on SQLite (one node) limits are counted in memory and these tables
//! stay empty. Each question is one statement, one round trip: an UPSERT
//! doing the GCRA or window arithmetic in SQL under the row's lock, with
//! the database's clock, so concurrent nodes take turns on a key and never
//! both get its last cell. Knows nothing of who is counted or why.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use sqlx::Row;

use super::{Dialect, Store};
use crate::config::Rate;
use crate::lockout::{Answer, Counting, Shared};

/// The database's clock in milliseconds, the same for the whole statement.
const NOW_MS: &str = "(EXTRACT(EPOCH FROM statement_timestamp()) * 1000)::BIGINT";

/// One GCRA cell: $1 key, $2 the emission interval (ms), $3 the tolerance
/// (interval × burst), $4 whether a refusal locks the key. A new key takes
/// its first cell. Returns whether the cell was taken and, when not, the
/// wait until the next.
fn take_sql() -> String {
    let now = NOW_MS;
    let next = format!("GREATEST(c.tat, {now}) + $2");
    format!(
        "INSERT INTO limit_cells AS c (key, tat, ok, locked_until) \
         VALUES ($1, {now} + $2, TRUE, NULL) \
         ON CONFLICT (key) DO UPDATE SET \
           ok = {next} - {now} <= $3, \
           tat = CASE WHEN {next} - {now} <= $3 THEN {next} ELSE c.tat END, \
           locked_until = CASE WHEN $4 AND {next} - {now} > $3 THEN {next} - $3 \
                          ELSE c.locked_until END \
         RETURNING ok, GREATEST(tat, {now}) + $2 - $3 - {now} AS wait_ms"
    )
}

/// How long a key stays locked, if it is: $1 key.
fn locked_sql() -> String {
    let now = NOW_MS;
    format!(
        "SELECT locked_until - {now} AS wait_ms FROM limit_cells \
         WHERE key = $1 AND locked_until > {now}"
    )
}

/// One sliding window: $1 key, $2 its length (ms), $3 how many fit.
/// Instants older than the window are dropped as the row is written.
fn window_sql() -> String {
    let now = NOW_MS;
    let fresh = format!("ARRAY(SELECT s FROM unnest(w.sent) s WHERE s > {now} - $2 ORDER BY s)");
    format!(
        "INSERT INTO limit_windows AS w (key, sent, ok) VALUES ($1, ARRAY[{now}], TRUE) \
         ON CONFLICT (key) DO UPDATE SET \
           ok = cardinality({fresh}) < $3, \
           sent = {fresh} || CASE WHEN cardinality({fresh}) < $3 THEN ARRAY[{now}] \
                  ELSE ARRAY[]::BIGINT[] END \
         RETURNING ok, COALESCE((SELECT min(s) FROM unnest(sent) s), {now}) + $2 - {now} AS wait_ms"
    )
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Reads `ok` and `wait_ms` of a RETURNING row.
static TAKE_SQL: LazyLock<String> = LazyLock::new(take_sql);
static LOCKED_SQL: LazyLock<String> = LazyLock::new(locked_sql);
static WINDOW_SQL: LazyLock<String> = LazyLock::new(window_sql);

fn answer(row: &sqlx::any::AnyRow) -> Result<Option<Duration>, sqlx::Error> {
    let ok: bool = row.try_get("ok")?;
    let wait: i64 = row.try_get("wait_ms")?;
    Ok((!ok).then(|| Duration::from_millis(u64::try_from(wait).unwrap_or(0).max(1))))
}

impl Store {
    /// Where this store's node counts its limits: shared here on
    /// PostgreSQL (nodes may share it), in memory with SQLite.
    pub fn counting(&self) -> Counting {
        match self.dialect() {
            Dialect::Sqlite => Counting::Here,
            Dialect::Postgres => Counting::Shared(Arc::new(self.clone())),
        }
    }
}

impl Shared for Store {
    fn take<'a>(&'a self, key: &'a str, rate: Rate, lock: bool) -> Answer<'a> {
        Box::pin(async move {
            let burst = i64::from(rate.count.max(1));
            let interval = (ms(rate.per) / burst).max(1);
            let row = sqlx::query(sqlx::AssertSqlSafe(TAKE_SQL.as_str()))
                .bind(key)
                .bind(interval)
                .bind(interval.saturating_mul(burst))
                .bind(lock)
                .fetch_one(self.pool())
                .await?;
            Ok(answer(&row)?)
        })
    }

    fn locked<'a>(&'a self, key: &'a str) -> Answer<'a> {
        Box::pin(async move {
            let wait: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(LOCKED_SQL.as_str()))
                .bind(key)
                .fetch_optional(self.pool())
                .await?;
            Ok(wait.map(|w| Duration::from_millis(u64::try_from(w).unwrap_or(0).max(1))))
        })
    }

    fn window<'a>(&'a self, key: &'a str, rate: Rate) -> Answer<'a> {
        Box::pin(async move {
            let row = sqlx::query(sqlx::AssertSqlSafe(WINDOW_SQL.as_str()))
                .bind(key)
                .bind(ms(rate.per).max(1))
                .bind(i64::from(rate.count))
                .fetch_one(self.pool())
                .await?;
            Ok(answer(&row)?)
        })
    }

    fn tidy(&self) -> Pin<Box<dyn Future<Output = u64> + Send + '_>> {
        Box::pin(async move {
            let now = NOW_MS;
            let cells = format!(
                "DELETE FROM limit_cells WHERE tat < {now} \
                 AND (locked_until IS NULL OR locked_until < {now})"
            );
            // A window nobody used for a day is empty whatever its length.
            let windows = format!(
                "DELETE FROM limit_windows WHERE \
                 COALESCE((SELECT max(s) FROM unnest(sent) s), 0) < {now} - 86400000"
            );
            let mut forgotten = 0;
            for sql in [cells, windows] {
                match sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(self.pool())
                    .await
                {
                    Ok(r) => forgotten += r.rows_affected(),
                    Err(e) => tracing::warn!(error = %e, "shared limits not tidied"),
                }
            }
            forgotten
        })
    }
}
