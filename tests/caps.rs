//! Frequency caps over the real ledger: every test runs against SQLite (a
//! throwaway file) and, when `SENDWELL_TEST_POSTGRES_URL` is set, against
//! PostgreSQL (a throwaway database per test, dropped afterwards). Without
//! that variable the PostgreSQL half is skipped with a message, unless
//! `CI=true`, where a skip is a failure. Times are fixed: the caps read the
//! planned times in the ledger, never the wall clock.

mod common;

use common::db::Db;
use jiff::{Timestamp, ToSpan};
use sendwell::policy::RuleId;
use sendwell::schedule::caps::{self, Candidate, CapDecision, CapsConfig, ContentHashes, SendKind};
use sendwell::store::{DeliveryState, NewDelivery, NewMessage, Reserved, SlotRequest, Store};

macro_rules! caps_suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = super::Db::sqlite().await;
                    let db = super::$name(db).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(db) = super::Db::postgres(stringify!($name)).await else { return };
                    let db = super::$name(db).await;
                    db.finish().await;
                }
            )*
        }
    };
}

caps_suite!(
    third_message_of_the_day_goes_the_next_day,
    second_cold_message_waits_three_days_a_reply_does_not,
    twenty_first_copy_to_one_domain_is_deferred,
    same_subject_within_two_weeks_is_held,
    concurrent_reservations_never_share_the_last_slot,
    a_restart_keeps_the_caps,
    forgotten_slots_are_free_again,
);

/// Monday 2 March 2026, 09:00 UTC.
fn t0() -> Timestamp {
    "2026-03-02T09:00:00Z".parse().expect("a fixed test time")
}

fn hours(h: i64) -> Timestamp {
    t0().checked_add(h.hours()).expect("a time in range")
}

/// Plans and records one copy the way the gateway will.
async fn send(
    store: &Store,
    cfg: &CapsConfig,
    rcpt: &str,
    at: Timestamp,
    kind: SendKind,
    subject: &str,
) -> Reserved {
    let domain = rcpt.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
    let content = ContentHashes::of(Some(subject), "");
    let (since, domain_since) = cfg.since(at, domain);
    let req = SlotRequest {
        rcpt,
        cold: kind.is_cold(),
        content,
        since,
        domain_since,
    };
    let cand = Candidate {
        domain,
        at,
        kind,
        content,
    };
    store
        .reserve_slot(&req, at, |h| caps::plan(cfg, h, &cand))
        .await
        .expect("reserve a slot")
}

fn rules(d: &CapDecision) -> Vec<RuleId> {
    d.hits.iter().map(|(r, _)| *r).collect()
}

async fn third_message_of_the_day_goes_the_next_day(db: Db) -> Db {
    let cfg = CapsConfig::default();
    let rcpt = "buyer@shop.example.de";
    let a = send(&db.store, &cfg, rcpt, t0(), SendKind::Warm, "Quote 1").await;
    let b = send(&db.store, &cfg, rcpt, hours(1), SendKind::Warm, "Samples").await;
    let c = send(&db.store, &cfg, rcpt, hours(2), SendKind::Warm, "Shipping").await;
    assert_eq!(a.decision, CapDecision::unchanged(t0()));
    assert_eq!(b.decision, CapDecision::unchanged(hours(1)));
    assert_eq!(c.decision.deliver_at, hours(24));
    assert_eq!(rules(&c.decision), vec![RuleId::CapDaily]);
    // Another buyer is not affected; the address is compared case-blind.
    let d = send(
        &db.store,
        &cfg,
        "other@shop.example.de",
        hours(2),
        SendKind::Warm,
        "x",
    )
    .await;
    assert_eq!(d.decision.deliver_at, hours(2));
    let e = send(
        &db.store,
        &cfg,
        "Buyer@Shop.Example.DE",
        hours(3),
        SendKind::Warm,
        "y",
    )
    .await;
    assert_eq!(e.decision.deliver_at, hours(25));
    let h = db
        .store
        .history(rcpt, t0())
        .await
        .expect("read the history");
    let at: Vec<Timestamp> = h.iter().map(|r| r.sent_at).collect();
    assert_eq!(at, vec![t0(), hours(1), hours(24), hours(25)]);
    db
}

async fn second_cold_message_waits_three_days_a_reply_does_not(db: Db) -> Db {
    let cfg = CapsConfig::default();
    let rcpt = "einkauf@firma.example.de";
    send(
        &db.store,
        &cfg,
        rcpt,
        t0(),
        SendKind::Cold,
        "Introducing our LED panels",
    )
    .await;
    let second = send(
        &db.store,
        &cfg,
        rcpt,
        hours(2),
        SendKind::Cold,
        "Our catalogue",
    )
    .await;
    assert_eq!(second.decision.deliver_at, hours(72));
    assert_eq!(rules(&second.decision), vec![RuleId::CapColdGap]);

    let rcpt = "sales@other.example.fr";
    send(
        &db.store,
        &cfg,
        rcpt,
        t0(),
        SendKind::Cold,
        "Introducing our LED panels",
    )
    .await;
    let reply = send(
        &db.store,
        &cfg,
        rcpt,
        hours(2),
        SendKind::Reply,
        "Re: Introducing our LED panels",
    )
    .await;
    assert_eq!(reply.decision, CapDecision::unchanged(hours(2)));
    db
}

async fn twenty_first_copy_to_one_domain_is_deferred(db: Db) -> Db {
    let cfg = CapsConfig::default();
    let minutes = |m: i64| t0().checked_add(m.minutes()).expect("a time in range");
    for i in 0..20 {
        let r = send(
            &db.store,
            &cfg,
            &format!("person{i}@bigcorp.example.com"),
            minutes(i),
            SendKind::Warm,
            "Order update",
        )
        .await;
        assert_eq!(r.decision.deliver_at, minutes(i), "copy {i}");
    }
    let r = send(
        &db.store,
        &cfg,
        "person20@BigCorp.example.com",
        minutes(30),
        SendKind::Warm,
        "Order update",
    )
    .await;
    assert_eq!(r.decision.deliver_at, hours(24));
    assert_eq!(rules(&r.decision), vec![RuleId::CapDomainDaily]);
    // Twenty-one buyers on a shared mailbox provider are not one company.
    for i in 0..21 {
        let r = send(
            &db.store,
            &cfg,
            &format!("buyer{i}@gmail.com"),
            minutes(i),
            SendKind::Warm,
            "Order update",
        )
        .await;
        assert_eq!(r.decision.deliver_at, minutes(i), "gmail copy {i}");
    }
    db
}

async fn same_subject_within_two_weeks_is_held(db: Db) -> Db {
    let cfg = CapsConfig::default();
    let rcpt = "buyer@shop.example.jp";
    let first = send(
        &db.store,
        &cfg,
        rcpt,
        t0(),
        SendKind::Warm,
        "New price list",
    )
    .await;
    assert_eq!(first.decision.repeat, None);
    let again = send(
        &db.store,
        &cfg,
        rcpt,
        hours(5 * 24),
        SendKind::Warm,
        "FW: new  PRICE list",
    )
    .await;
    let why = again.decision.repeat.expect("a repeat is held");
    assert!(why.contains("same subject"), "{why}");
    let other = send(
        &db.store,
        &cfg,
        rcpt,
        hours(6 * 24),
        SendKind::Warm,
        "Spring samples",
    )
    .await;
    assert_eq!(other.decision.repeat, None);
    db
}

async fn concurrent_reservations_never_share_the_last_slot(db: Db) -> Db {
    let cfg = CapsConfig::default();
    assert_eq!(cfg.daily, 2);
    let rcpt = "busy@buyer.example.nl";
    let mut tasks = Vec::new();
    for i in 0..10 {
        let store = db.store.clone();
        let cfg = cfg.clone();
        tasks.push(tokio::spawn(async move {
            send(
                &store,
                &cfg,
                rcpt,
                t0(),
                SendKind::Warm,
                &format!("Topic {i}"),
            )
            .await
        }));
    }
    let mut at = Vec::new();
    for t in tasks {
        at.push(t.await.expect("a reservation task").decision.deliver_at);
    }
    at.sort();
    let day = |d: i64| hours(24 * d);
    assert_eq!(
        at,
        vec![
            day(0),
            day(0),
            day(1),
            day(1),
            day(2),
            day(2),
            day(3),
            day(3),
            day(4),
            day(4)
        ]
    );
    // And so in the ledger: no three copies within any 24 h.
    let rows = db
        .store
        .history(rcpt, t0())
        .await
        .expect("read the history");
    assert_eq!(rows.len(), 10);
    for w in rows.windows(3) {
        let span = w[2].sent_at.as_millisecond() - w[0].sent_at.as_millisecond();
        assert!(span >= 24 * 3600 * 1000, "{w:?}");
    }
    db
}

async fn a_restart_keeps_the_caps(db: Db) -> Db {
    let cfg = CapsConfig::default();
    let rcpt = "buyer@shop.example.it";
    send(
        &db.store,
        &cfg,
        rcpt,
        t0(),
        SendKind::Cold,
        "Hello from Ningbo",
    )
    .await;
    send(
        &db.store,
        &cfg,
        rcpt,
        hours(1),
        SendKind::Warm,
        "Our catalogue",
    )
    .await;
    db.store.close().await;
    let mut db = db;
    db.store = Store::open(&db.url, 4).await.expect("reopen the store");
    let third = send(&db.store, &cfg, rcpt, hours(2), SendKind::Cold, "Samples").await;
    // The daily cap puts it at tomorrow 09:00; the cold gap then at day 3.
    assert_eq!(third.decision.deliver_at, hours(72));
    assert_eq!(
        rules(&third.decision),
        vec![RuleId::CapDaily, RuleId::CapColdGap]
    );
    db
}

async fn forgotten_slots_are_free_again(db: Db) -> Db {
    let cfg = CapsConfig::default();
    let rcpt = "buyer@shop.example.es";
    let a = send(&db.store, &cfg, rcpt, t0(), SendKind::Warm, "One").await;
    let b = send(&db.store, &cfg, rcpt, hours(1), SendKind::Warm, "Two").await;
    // b was stored as a real message, held for review, then refused.
    let (id, _) = db
        .store
        .enqueue(NewMessage {
            mail_from: "seller@factory.example.cn".into(),
            data: b"Subject: Two\r\n\r\nHello\r\n".to_vec(),
            received_at: t0(),
            client: "127.0.0.1".into(),
            auth_user: None,
            message_id_header: None,
            subject: Some("Two".into()),
            report: None,
            route: "default".into(),
            deliveries: vec![NewDelivery {
                rcpt: rcpt.into(),
                deliver_at: b.decision.deliver_at,
                state: DeliveryState::Held,
                wait: None,
            }],
        })
        .await
        .expect("enqueue");
    assert_eq!(db.store.bind_slots(&[b.slot], id).await.expect("bind"), 1);
    let c = send(&db.store, &cfg, rcpt, hours(2), SendKind::Warm, "Three").await;
    assert_eq!(c.decision.deliver_at, hours(24));
    db.store
        .reject_held(id, "not now", hours(2), None)
        .await
        .expect("reject");
    assert_eq!(
        db.store
            .forget_message_slots(id, Some("BUYER@shop.example.es"))
            .await
            .expect("forget"),
        1
    );
    // c's own slot is still there; forget it too (as if storing it failed).
    assert_eq!(db.store.forget_slots(&[c.slot]).await.expect("forget"), 1);
    let d = send(&db.store, &cfg, rcpt, hours(2), SendKind::Warm, "Three").await;
    assert_eq!(d.decision, CapDecision::unchanged(hours(2)));
    let rows = db.store.history(rcpt, t0()).await.expect("history");
    assert_eq!(
        rows.iter().map(|r| r.slot).collect::<Vec<_>>(),
        vec![a.slot, d.slot]
    );
    assert_eq!(db.store.prune_ledger(hours(1)).await.expect("prune"), 1);
    db
}

/// Cost of one reservation (one commit each), sequential and 8-way
/// concurrent over 50 recipients: `cargo test --release --test caps measure -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "a measurement, not a check"]
async fn measure() {
    let mut dbs = vec![("sqlite", Db::sqlite().await)];
    if let Some(pg) = Db::postgres("measure").await {
        dbs.push(("postgres", pg));
    }
    for (name, db) in dbs {
        let cfg = CapsConfig::default();
        let n = 400;
        let start = std::time::Instant::now();
        for i in 0..n {
            let rcpt = format!("r{}@d{}.example.com", i % 50, i % 7);
            send(
                &db.store,
                &cfg,
                &rcpt,
                t0(),
                SendKind::Warm,
                &format!("s{i}"),
            )
            .await;
        }
        let seq = start.elapsed();
        let start = std::time::Instant::now();
        let mut tasks = Vec::new();
        for w in 0..8 {
            let store = db.store.clone();
            let cfg = cfg.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..n / 8 {
                    let rcpt = format!("c{}@e{}.example.com", (i * 8 + w) % 50, w);
                    send(&store, &cfg, &rcpt, t0(), SendKind::Warm, &format!("s{i}")).await;
                }
            }));
        }
        for t in tasks {
            t.await.expect("a measuring task");
        }
        let conc = start.elapsed();
        println!(
            "{name}: {n} reservations sequential {:.2} ms each, 8-way concurrent {:.0}/s",
            seq.as_secs_f64() * 1000.0 / f64::from(n),
            f64::from(n) / conc.as_secs_f64()
        );
        db.finish().await;
    }
}
