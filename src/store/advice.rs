//! The messages that went out with warnings below the hold line and wait
//! for their sender's daily digest (`[notices] advice = "digest"`): noted
//! when the gateway stores the message, taken when the digest is queued.
//!
//! Same SQL subset as `sql.rs`. Knows nothing of what a warning is or how
//! the digest reads: it keeps message ids per sender.

use jiff::Timestamp;
use sqlx::Row;

use super::sql::ts;
use super::{MessageId, Result, Store};

/// A message waiting for its sender's digest, with what the digest shows.
#[derive(Debug, Clone, PartialEq)]
pub struct AdviceDue {
    pub message: MessageId,
    /// The sender (envelope) the digest goes to.
    pub mail_from: String,
    /// The message's route: the digest goes back the same way.
    pub route: String,
    /// When it was noted (the message was received then).
    pub noted_at: Timestamp,
    pub subject: Option<String>,
    /// The stored verdict (`sendwell check --format json`), when the
    /// message is still in the store.
    pub report: Option<String>,
}

impl Store {
    /// Notes that `message` from `mail_from` went out with warnings.
    pub async fn note_advice(
        &self,
        message: MessageId,
        mail_from: &str,
        route: &str,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO advice_due (message_id, mail_from, route, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(message.0)
        .bind(mail_from)
        .bind(route)
        .bind(now.as_millisecond())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Every message waiting for a digest, by sender, oldest first.
    pub async fn advice_due(&self) -> Result<Vec<AdviceDue>> {
        let rows = sqlx::query(
            "SELECT a.message_id, a.mail_from, a.route, a.created_at, m.subject, m.report \
             FROM advice_due a LEFT JOIN messages m ON m.id = a.message_id \
             ORDER BY a.mail_from, a.created_at, a.message_id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AdviceDue {
                    message: MessageId(r.try_get("message_id")?),
                    mail_from: r.try_get("mail_from")?,
                    route: r.try_get("route")?,
                    noted_at: ts(r.try_get("created_at")?)?,
                    subject: r.try_get("subject")?,
                    report: r.try_get("report")?,
                })
            })
            .collect()
    }

    /// Takes these messages off the list (their digest is queued, or
    /// digests are off).
    pub async fn forget_advice(&self, messages: &[MessageId]) -> Result<()> {
        for m in messages {
            sqlx::query("DELETE FROM advice_due WHERE message_id = $1")
                .bind(m.0)
                .execute(self.pool())
                .await?;
        }
        Ok(())
    }
}
