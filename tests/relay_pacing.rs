//! Issue 10 §4: a route is paced within its provider's limits instead of
//! being sent into refusals. The courier end to end (real store, real
//! `SmtpUpstream`) against a loopback upstream, with small limits; and the
//! daily budget in the store, kept across a restart and shared by nodes.

mod common;

use std::time::{Duration, Instant};

use common::courier::{WAIT, config, start};
use common::db::Db;
use common::upstream::{Opts, TestUpstream};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use sendwell::store::{DeliveryState, Store};

/// The next UTC midnight after now.
fn next_midnight() -> Timestamp {
    Timestamp::now()
        .to_zoned(TimeZone::UTC)
        .date()
        .tomorrow()
        .unwrap()
        .to_zoned(TimeZone::UTC)
        .unwrap()
        .timestamp()
}

/// A route with a daily budget of 3 recipients: 3 of 5 messages go, the
/// other 2 wait for the next UTC day (their `deliver_at`), unattempted and
/// not bounced; the store has counted the 3.
#[tokio::test]
async fn past_the_daily_budget_a_copy_waits_for_the_next_day() {
    let up = TestUpstream::start(Opts::default()).await;
    let mut c = config(up.url());
    c.upstream.per_day = Some(3);
    let rig = start(c).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            rig.enqueue("li@shop.example", &["hans@buyer.example"], &format!("q{i}"))
                .await,
        );
    }
    up.wait_for(3, WAIT).await;
    let start = Instant::now();
    let waiting = loop {
        let rows = rig
            .store
            .list(Some(DeliveryState::Deferred), 10)
            .await
            .unwrap();
        if rows.len() == 2 {
            break rows;
        }
        assert!(start.elapsed() < WAIT, "two copies should wait: {rows:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(up.messages().len(), 3, "no more than the budget is sent");
    let midnight = next_midnight();
    for d in &waiting {
        assert_eq!(d.deliver_at, midnight, "waits for the next day: {d:?}");
        let reply = d.last_reply.as_deref().unwrap_or_default();
        assert!(reply.contains("per_day"), "{reply}");
    }
    let today = Timestamp::now().to_zoned(TimeZone::UTC).date().to_string();
    assert_eq!(rig.store.budget_spent("default", &today).await.unwrap(), 3);
    let counts = rig.store.counts().await.unwrap();
    assert!(
        counts
            .iter()
            .all(|(s, n)| *s != DeliveryState::Bounced || *n == 0),
        "nothing bounced: {counts:?}"
    );
    rig.stop().await;
    up.stop().await;
}

/// `max_rcpts_per_message = 2`: one message to 5 recipients goes as three
/// transactions of 2, 2 and 1.
#[tokio::test]
async fn a_message_to_many_goes_in_transactions_of_the_route_limit() {
    let up = TestUpstream::start(Opts::default()).await;
    let mut c = config(up.url());
    c.upstream.max_rcpts_per_message = Some(2);
    let rig = start(c).await;
    let rcpts = [
        "a@buyer.example",
        "b@buyer.example",
        "c@buyer.example",
        "d@buyer.example",
        "e@buyer.example",
    ];
    let id = rig.enqueue("li@shop.example", &rcpts, "many").await;
    let states = rig.settled(id).await;
    assert!(
        states
            .iter()
            .all(|(_, s, _)| *s == DeliveryState::Delivered),
        "{states:?}"
    );
    let mut sizes: Vec<usize> = up.messages().iter().map(|m| m.rcpt_to.len()).collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [1, 2, 2]);
    rig.stop().await;
    up.stop().await;
}

/// `per_minute = 2`: of 4 messages, 2 go at once; the other 2 go back to
/// the queue, due when the minute allows, instead of being sent.
#[tokio::test]
async fn the_rate_per_minute_holds_the_rest_back() {
    let up = TestUpstream::start(Opts::default()).await;
    let mut c = config(up.url());
    c.upstream.per_minute = Some(2);
    let rig = start(c).await;
    let before = Timestamp::now();
    for i in 0..4 {
        rig.enqueue("li@shop.example", &["hans@buyer.example"], &format!("r{i}"))
            .await;
    }
    up.wait_for(2, WAIT).await;
    let start = Instant::now();
    let waiting = loop {
        let rows = rig
            .store
            .list(Some(DeliveryState::Deferred), 10)
            .await
            .unwrap();
        if rows.len() == 2 {
            break rows;
        }
        assert!(start.elapsed() < WAIT, "two copies should wait: {rows:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(up.messages().len(), 2);
    for d in &waiting {
        let due = d.deliver_at.duration_since(before);
        assert!(
            due > jiff::SignedDuration::from_secs(50) && due <= jiff::SignedDuration::from_secs(61),
            "due when the minute is over: {d:?}"
        );
    }
    rig.stop().await;
    up.stop().await;
}

/// The budget is in the store: reopening (a restart) keeps what was spent,
/// and two stores on one database (two nodes) share it, never granting more
/// than the limit between them.
async fn budget_is_durable_and_shared(db: Db) {
    let s = &db.store;
    assert!(s.spend_budget("li", "2026-12-04", 2, 3).await.unwrap());
    assert!(!s.spend_budget("li", "2026-12-04", 2, 3).await.unwrap());
    assert!(s.spend_budget("li", "2026-12-05", 3, 3).await.unwrap());
    let again = Store::open(&db.url, 4).await.unwrap();
    assert_eq!(again.budget_spent("li", "2026-12-04").await.unwrap(), 2);
    assert!(again.spend_budget("li", "2026-12-04", 1, 3).await.unwrap());
    assert!(!s.spend_budget("li", "2026-12-04", 1, 3).await.unwrap());

    // Two nodes racing for a budget of 10, one recipient at a time.
    let mut tasks = tokio::task::JoinSet::new();
    for store in [s.clone(), again.clone()] {
        tasks.spawn(async move {
            let mut got = 0;
            for _ in 0..10 {
                if store
                    .spend_budget("wang", "2026-12-04", 1, 10)
                    .await
                    .unwrap()
                {
                    got += 1;
                }
            }
            got
        });
    }
    let mut total = 0;
    while let Some(n) = tasks.join_next().await {
        total += n.unwrap();
    }
    assert_eq!(total, 10);
    assert_eq!(s.budget_spent("wang", "2026-12-04").await.unwrap(), 10);
}

#[tokio::test]
async fn sqlite_budget_is_durable_and_shared() {
    budget_is_durable_and_shared(Db::sqlite().await).await;
}

#[tokio::test]
async fn postgres_budget_is_durable_and_shared() {
    if let Some(db) = Db::postgres("budget").await {
        budget_is_durable_and_shared(db).await;
    }
}
