//! Paused routes: a route whose provider refused the *account* (daily
//! quota, login, blocked) keeps its mail queued and is paused here, durably,
//! so a restart does not log in once per waiting message, and
//! `sendwell upstream status` / `resume` (another process) see and steer it.

use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;

use super::sql::ts;
use super::{Result, Store};
use crate::audit::{Event, Kind};

/// One paused route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoutePause {
    pub route: String,
    /// `quota`, `login` or `blocked` (see `relay::replies::PauseKind`).
    pub kind: String,
    /// The provider's reply that paused it, verbatim.
    pub reply: String,
    pub since: Timestamp,
    /// When the next probe message may go.
    pub until: Timestamp,
    /// Probes sent since the pause began.
    pub probes: u32,
}

impl Store {
    /// Pauses `route` (or, when it already is, keeps `since`, takes the new
    /// reply and `until`, and counts a probe). True when the pause is new;
    /// a new pause is recorded in the audit log as done by `actor`.
    pub async fn pause_route(
        &self,
        route: &str,
        kind: &str,
        reply: &str,
        now: Timestamp,
        until: Timestamp,
        actor: &str,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE route_pauses SET kind = $1, reply = $2, until_at = $3, probes = probes + 1 \
             WHERE route = $4",
        )
        .bind(kind)
        .bind(reply)
        .bind(until.as_millisecond())
        .bind(route)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            sqlx::query(
                "INSERT INTO route_pauses (route, kind, reply, since, until_at, probes) \
                 VALUES ($1, $2, $3, $4, $5, 0)",
            )
            .bind(route)
            .bind(kind)
            .bind(reply)
            .bind(now.as_millisecond())
            .bind(until.as_millisecond())
            .execute(&mut *tx)
            .await?;
        }
        let record = Event::new(
            now,
            Kind::Paused,
            actor,
            serde_json::json!({
                "route": route,
                "reason": kind,
                "reply": reply,
                "until": until.to_string(),
            }),
        );
        self.commit_audited(tx, updated == 0, Some(record)).await
    }

    /// Every paused route, by name.
    pub async fn route_pauses(&self) -> Result<Vec<RoutePause>> {
        let rows = sqlx::query(
            "SELECT route, kind, reply, since, until_at, probes FROM route_pauses ORDER BY route",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RoutePause {
                    route: r.try_get("route")?,
                    kind: r.try_get("kind")?,
                    reply: r.try_get("reply")?,
                    since: ts(r.try_get("since")?)?,
                    until: ts(r.try_get("until_at")?)?,
                    probes: u32::try_from(r.try_get::<i64, _>("probes")?).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }

    /// Resumes `route` (every route when `None`; only pauses of `kind` when
    /// given), recording each in the audit log as done by `actor` for
    /// `why`. Returns how many were paused.
    pub async fn resume_routes(
        &self,
        route: Option<&str>,
        kind: Option<&str>,
        actor: &str,
        why: &str,
    ) -> Result<u64> {
        // Conditions written out: PostgreSQL cannot type `$1 IS NULL`.
        let mut sql = String::from("DELETE FROM route_pauses WHERE 1 = 1");
        let mut args = Vec::new();
        for (column, value) in [("route", route), ("kind", kind)] {
            if let Some(v) = value {
                args.push(v);
                sql.push_str(&format!(" AND {column} = ${}", args.len()));
            }
        }
        sql.push_str(" RETURNING route, kind");
        // Only fixed column names and placeholders are put into the text.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for a in args {
            q = q.bind(a);
        }
        let mut tx = self.begin_write().await?;
        let rows = q.fetch_all(&mut *tx).await?;
        let now = Timestamp::now();
        let mut events = Vec::with_capacity(rows.len());
        for r in &rows {
            let route: String = r.try_get("route")?;
            let kind: String = r.try_get("kind")?;
            events.push(Event::new(
                now,
                Kind::Resumed,
                actor,
                serde_json::json!({ "route": route, "reason": kind, "why": why }),
            ));
        }
        super::audit::append(&mut tx, self.dialect(), &events).await?;
        tx.commit().await?;
        Ok(rows.len() as u64)
    }

    /// Copies of `route` waiting to go (queued, deferred or being
    /// attempted), by envelope sender; sendwell's own mail (null sender) is
    /// left out.
    pub async fn waiting_by_sender(&self, route: &str) -> Result<Vec<(String, u64)>> {
        let rows = sqlx::query(
            "SELECT m.mail_from AS mail_from, COUNT(*) AS n \
             FROM deliveries d JOIN messages m ON m.id = d.message_id \
             WHERE d.state IN ('queued', 'deferred', 'delivering') AND m.mail_from <> '' \
             AND d.route = $1 \
             GROUP BY m.mail_from ORDER BY m.mail_from",
        )
        .bind(route)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let n: i64 = r.try_get("n")?;
                Ok((r.try_get("mail_from")?, u64::try_from(n).unwrap_or(0)))
            })
            .collect()
    }

    /// Copies waiting to go (queued, deferred or being attempted), by route.
    pub async fn waiting_by_route(&self) -> Result<Vec<(String, u64)>> {
        let rows = sqlx::query(
            "SELECT route, COUNT(*) AS n FROM deliveries \
             WHERE state IN ('queued', 'deferred', 'delivering') GROUP BY route ORDER BY route",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let n: i64 = r.try_get("n")?;
                Ok((r.try_get("route")?, u64::try_from(n).unwrap_or(0)))
            })
            .collect()
    }

    /// Takes `n` from `route`'s budget of `limit` for `day` (its UTC date,
    /// `YYYY-MM-DD`), all or nothing: true when the `n` fit. Atomic across
    /// nodes (one conditional UPSERT), durable across restarts.
    pub async fn spend_budget(&self, route: &str, day: &str, n: u64, limit: u64) -> Result<bool> {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        if n > limit {
            return Ok(false);
        }
        // One statement, one round trip: the day's row is made with the
        // first `n`, or grows by `n` only while that stays within `limit`
        // (no row comes back when it would not).
        let spent: Option<i64> = sqlx::query_scalar(
            "INSERT INTO route_budgets AS b (route, day, sent) VALUES ($1, $2, $3) \
             ON CONFLICT (route, day) DO UPDATE SET sent = b.sent + $3 \
             WHERE b.sent + $3 <= $4 \
             RETURNING sent",
        )
        .bind(route)
        .bind(day)
        .bind(n)
        .bind(limit)
        .fetch_optional(self.pool())
        .await?;
        Ok(spent.is_some())
    }

    /// What `route` has spent of its budget on `day`.
    pub async fn budget_spent(&self, route: &str, day: &str) -> Result<u64> {
        let sent: Option<i64> =
            sqlx::query_scalar("SELECT sent FROM route_budgets WHERE route = $1 AND day = $2")
                .bind(route)
                .bind(day)
                .fetch_optional(self.pool())
                .await?;
        Ok(u64::try_from(sent.unwrap_or(0)).unwrap_or(0))
    }
}
