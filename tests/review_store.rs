//! What the review page reads from the store (recent decisions, waiting
//! copies, counts per day), on SQLite and on PostgreSQL alike.

mod common;

use common::db::Db;
use jiff::{Timestamp, ToSpan};
use sendwell::audit::{Event, Kind};
use sendwell::store::{DeliveryState, MessageId, NewDelivery, NewMessage, Store};

fn msg(
    from: &str,
    at: Timestamp,
    verdict: Option<&str>,
    rcpts: &[(&str, DeliveryState)],
) -> NewMessage {
    NewMessage {
        mail_from: from.into(),
        data: b"Subject: hi\r\n\r\nhello\r\n".to_vec(),
        received_at: at,
        client: "127.0.0.1:1".into(),
        auth_user: None,
        message_id_header: None,
        subject: Some("hi".into()),
        report: verdict.map(|v| {
            format!("{{\"verdict\":\"{v}\",\"score\":1.0,\"hits\":[],\"recipients\":[]}}")
        }),
        route: "default".into(),
        deliveries: rcpts
            .iter()
            .map(|(r, s)| NewDelivery {
                rcpt: r.to_string(),
                deliver_at: at.checked_add(1.hour()).unwrap(),
                state: *s,
                wait: None,
            })
            .collect(),
    }
}

async fn check(store: &Store) {
    let now: Timestamp = "2026-11-20T12:00:00Z".parse().unwrap();
    let yesterday = now.checked_sub(24.hours()).unwrap();
    store
        .enqueue(msg(
            "a@seller.example",
            yesterday,
            Some("accept"),
            &[("x@b.example", DeliveryState::Queued)],
        ))
        .await
        .unwrap();
    store
        .enqueue(msg(
            "a@seller.example",
            now,
            Some("hold"),
            &[
                ("y@b.example", DeliveryState::Held),
                ("z@b.example", DeliveryState::Held),
            ],
        ))
        .await
        .unwrap();
    // Our own notices (null sender) are not decisions.
    store
        .enqueue(msg(
            "",
            now,
            None,
            &[("a@seller.example", DeliveryState::Queued)],
        ))
        .await
        .unwrap();

    let d = store.recent_decisions(10).await.unwrap();
    assert_eq!(d.len(), 2, "{d:?}");
    assert_eq!(d[0].copies.len(), 2, "copies of one message stay together");
    assert!(d[0].report.as_deref().unwrap().contains("hold"));

    let w = store.waiting(10).await.unwrap();
    assert_eq!(w.len(), 2, "queued copies, held ones excluded");
    assert!(w[0].deliver_at <= w[1].deliver_at, "soonest first");

    let days = store
        .daily(yesterday.checked_sub(24.hours()).unwrap(), now, 8 * 3600)
        .await
        .unwrap();
    assert_eq!(days.len(), 3);
    assert_eq!(days[0].0, "2026-11-18");
    assert_eq!((days[1].1.accepted, days[1].1.held), (1, 0), "{days:?}");
    assert_eq!((days[2].1.accepted, days[2].1.held), (0, 1), "{days:?}");
    assert_eq!(days[2].1.refused_at_door, 0);

    // Refusals at the door were never queued: the chart counts them from
    // the audit log (records without a message), on the day they happened.
    let refused = |at, message: Option<i64>| {
        let mut e = Event::new(
            at,
            Kind::Refused,
            "smtp",
            serde_json::json!({"stage": "data"}),
        );
        e.message = message.map(MessageId);
        e
    };
    store
        .audit_append(vec![
            refused(now, None),
            refused(now, None),
            refused(yesterday, None),
            refused(now, Some(1)),
            Event::new(now, Kind::Held, "smtp", serde_json::json!({})),
        ])
        .await
        .unwrap();
    let days = store
        .daily(yesterday.checked_sub(24.hours()).unwrap(), now, 8 * 3600)
        .await
        .unwrap();
    let door: Vec<u64> = days.iter().map(|d| d.1.refused_at_door).collect();
    assert_eq!(door, [0, 1, 2], "{days:?}");
}

#[tokio::test]
async fn review_reads_on_sqlite() {
    let db = Db::sqlite().await;
    check(&db.store).await;
    db.finish().await;
}

#[tokio::test]
async fn review_reads_on_postgres() {
    let Some(db) = Db::postgres("review_reads").await else {
        return;
    };
    check(&db.store).await;
    db.finish().await;
}
