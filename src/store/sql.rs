//! The SQL behind [`Store`]: one implementation over `sqlx::Any` for SQLite
//! and PostgreSQL. (Skeleton: the store helper fills this in.)

use std::time::Duration;

use jiff::Timestamp;

use super::*;

/// The queue. Cheap to clone (a pool handle inside).
#[derive(Clone)]
pub struct Store {}

impl Store {
    /// Connects (creating the SQLite file and its folder when needed) and
    /// brings the schema up to date.
    pub async fn open(_url: &str, _max_connections: u32) -> Result<Store> {
        todo!()
    }

    /// Stores a message and its deliveries; returns once durably committed.
    pub async fn enqueue(&self, _msg: NewMessage) -> Result<(MessageId, Vec<DeliveryId>)> {
        todo!()
    }

    /// Claims up to `limit` due deliveries (state queued/deferred with
    /// `deliver_at <= now`, or delivering with an expired lease) for `owner`
    /// until `now + lease`.
    pub async fn claim_due(
        &self,
        _owner: &str,
        _now: Timestamp,
        _lease: Duration,
        _limit: usize,
    ) -> Result<Vec<Claimed>> {
        todo!()
    }

    /// The stored bytes of a message.
    pub async fn message_data(&self, _id: MessageId) -> Result<Vec<u8>> {
        todo!()
    }

    /// Records outcomes of claimed deliveries in one transaction. Outcomes for
    /// deliveries `owner` no longer holds (lease lost) are ignored.
    pub async fn finish(&self, _owner: &str, _outcomes: &[Outcome], _now: Timestamp) -> Result<()> {
        todo!()
    }

    /// Gives back every claim `owner` holds (clean shutdown).
    pub async fn release_claims(&self, _owner: &str) -> Result<u64> {
        todo!()
    }

    /// The earliest `deliver_at` (or lease expiry) of anything claimable.
    pub async fn next_due(&self) -> Result<Option<Timestamp>> {
        todo!()
    }

    /// Deliveries, newest first, optionally of one state.
    pub async fn list(
        &self,
        _state: Option<DeliveryState>,
        _limit: usize,
    ) -> Result<Vec<DeliveryRow>> {
        todo!()
    }

    /// One message with its deliveries.
    pub async fn message(&self, _id: MessageId) -> Result<Option<MessageRow>> {
        todo!()
    }

    /// Makes every non-final delivery of a message due now (attempts kept).
    pub async fn retry(&self, _id: MessageId, _now: Timestamp) -> Result<u64> {
        todo!()
    }

    /// Marks every non-final delivery of a message dropped.
    pub async fn drop_message(&self, _id: MessageId, _now: Timestamp) -> Result<u64> {
        todo!()
    }

    /// Held deliveries of a message go on to the queue, due now.
    pub async fn release_held(&self, _id: MessageId, _now: Timestamp) -> Result<u64> {
        todo!()
    }

    /// Held deliveries of a message become rejected, with the reason as last reply.
    pub async fn reject_held(&self, _id: MessageId, _reason: &str, _now: Timestamp) -> Result<u64> {
        todo!()
    }

    /// How many deliveries are in each state.
    pub async fn counts(&self) -> Result<Vec<(DeliveryState, u64)>> {
        todo!()
    }

    /// Waits for pending writes and closes the pool.
    pub async fn close(&self) {
        todo!()
    }
}
