//! The store suite: every test runs against SQLite (a throwaway file) and,
//! when `SENDWELL_TEST_POSTGRES_URL` is set, against PostgreSQL (a throwaway
//! database per test, dropped afterwards, so tests run in parallel and
//! re-run cleanly). Without that variable the PostgreSQL half is skipped with
//! a message, unless `CI=true`, where a skip is a failure. The harness is
//! `common::db`.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use common::db::Db;
use jiff::{Timestamp, ToSpan};
use sendwell::audit::{Event, Kind};
use sendwell::store::{
    DeliveryId, DeliveryState, Dialect, Error, MessageId, NewDelivery, NewMessage, Outcome, Store,
    SuppressionSource,
};
use sqlx::Connection;

const LEASE: Duration = Duration::from_secs(60);

macro_rules! store_suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = super::Db::sqlite().await;
                    super::$name(&db).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(db) = super::Db::postgres(stringify!($name)).await else { return };
                    super::$name(&db).await;
                    db.finish().await;
                }
            )*
        }
    };
}

store_suite!(
    round_trip_enqueue_claim_finish,
    deferred_counts_attempts_and_comes_back_at_retry_time,
    expired_lease_returns_claim_to_another_owner,
    the_claim_reads_waiting_copies_in_order_past_many_others,
    concurrent_claimers_never_double_claim,
    group_commit_under_concurrent_enqueuers,
    bytes_round_trip_exactly,
    reopening_keeps_everything,
    held_release_reject_retry_drop,
    release_claims_gives_everything_back,
    release_all_claims_takes_back_a_dead_nodes_claims,
    closed_store_refuses_enqueue,
    committed_messages_survive_sigkill,
    a_message_is_journaled_once,
    an_action_is_never_without_its_record,
    finished_messages_go_after_keep_days,
    a_route_pause_is_kept_and_lifted,
    advice_waits_per_sender_until_taken,
);

fn t0() -> Timestamp {
    Timestamp::from_second(1_800_000_000).expect("a valid test time")
}

fn message(from: &str, rcpts: &[&str], at: Timestamp) -> NewMessage {
    let data = format!("From: {from}\r\nSubject: hello\r\n\r\nbody\r\n").into_bytes();
    NewMessage {
        mail_from: from.to_string(),
        data,
        received_at: at,
        client: "127.0.0.1:50000 client.example".into(),
        auth_user: Some("alice".into()),
        message_id_header: Some("<m1@example.com>".into()),
        subject: Some("hello".into()),
        report: Some(r#"{"verdict":"accept"}"#.into()),
        route: "default".into(),
        deliveries: rcpts
            .iter()
            .map(|r| NewDelivery {
                rcpt: r.to_string(),
                deliver_at: at,
                state: DeliveryState::Queued,
                wait: None,
            })
            .collect(),
    }
}

async fn count(store: &Store, state: DeliveryState) -> u64 {
    store
        .counts()
        .await
        .expect("counts")
        .into_iter()
        .find(|(s, _)| *s == state)
        .map(|(_, n)| n)
        .unwrap_or(0)
}

async fn state_of(store: &Store, msg: MessageId, id: DeliveryId) -> DeliveryState {
    let m = store
        .message(msg)
        .await
        .expect("read message")
        .expect("message exists");
    m.deliveries
        .iter()
        .find(|d| d.id == id)
        .expect("delivery exists")
        .state
}

/// Issue 14 §4: the messages waiting for a sender's advice digest, with the
/// subject and verdict the digest shows; noting twice keeps one; taken
/// ones are gone.
async fn advice_waits_per_sender_until_taken(db: &Db) {
    let s = &db.store;
    let t = t0();
    let (a, _) = s
        .enqueue(message("lin@shop.example", &["x@buyer.example"], t))
        .await
        .unwrap();
    let (b, _) = s
        .enqueue(message("wang@shop.example", &["y@buyer.example"], t))
        .await
        .unwrap();
    let later = t + jiff::SignedDuration::from_mins(5);
    s.note_advice(b, "wang@shop.example", "wang-route", t)
        .await
        .unwrap();
    s.note_advice(a, "lin@shop.example", "default", later)
        .await
        .unwrap();
    s.note_advice(a, "lin@shop.example", "default", later)
        .await
        .unwrap();
    let due = s.advice_due().await.unwrap();
    let got: Vec<_> = due
        .iter()
        .map(|d| {
            (
                d.message,
                d.mail_from.as_str(),
                d.route.as_str(),
                d.noted_at,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (a, "lin@shop.example", "default", later),
            (b, "wang@shop.example", "wang-route", t)
        ]
    );
    assert_eq!(due[0].subject.as_deref(), Some("hello"));
    assert_eq!(due[0].report.as_deref(), Some(r#"{"verdict":"accept"}"#));
    s.forget_advice(&[a]).await.unwrap();
    let left: Vec<_> = s
        .advice_due()
        .await
        .unwrap()
        .iter()
        .map(|d| d.message)
        .collect();
    assert_eq!(left, vec![b]);
}

async fn round_trip_enqueue_claim_finish(db: &Db) {
    let s = &db.store;
    let now = t0();
    let (mid, dids) = s
        .enqueue(message(
            "a@shop.example",
            &["x@buyer.example", "y@buyer.example"],
            now,
        ))
        .await
        .expect("enqueue");
    assert_eq!(dids.len(), 2);
    assert_eq!(s.next_due().await.expect("next_due"), Some(now));

    // Not due yet a millisecond before.
    let early = s
        .claim_due("w1", now - 1.millisecond(), LEASE, 10)
        .await
        .expect("claim");
    assert!(early.is_empty());

    let claimed = s.claim_due("w1", now, LEASE, 10).await.expect("claim");
    assert_eq!(claimed.iter().map(|c| c.id).collect::<Vec<_>>(), dids);
    let c = &claimed[0];
    assert_eq!(c.message_id, mid);
    assert_eq!(c.mail_from, "a@shop.example");
    assert_eq!(c.rcpt, "x@buyer.example");
    assert_eq!(c.attempts, 0);
    assert_eq!(c.received_at, now);
    assert_eq!(c.first_due_at, now);
    assert!(!c.delay_notified);
    assert_eq!(count(s, DeliveryState::Delivering).await, 2);
    // Claimed means nobody else gets them, and the next thing due is the lease end.
    assert!(
        s.claim_due("w2", now, LEASE, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    let lease_end = now + 60.seconds() + 1.millisecond();
    assert_eq!(s.next_due().await.expect("next_due"), Some(lease_end));

    assert_eq!(
        s.message_data(mid).await.expect("data"),
        message("a@shop.example", &[], now).data
    );

    let later = now + 2.seconds();
    s.finish(
        "w1",
        &[
            Outcome::Delivered {
                id: dids[0],
                reply: "250 2.0.0 ok".into(),
            },
            Outcome::Bounced {
                id: dids[1],
                reply: "550 5.1.1 no such user".into(),
            },
        ],
        later,
    )
    .await
    .expect("finish");
    let m = s.message(mid).await.expect("read").expect("exists");
    assert_eq!(m.mail_from, "a@shop.example");
    assert_eq!(m.auth_user.as_deref(), Some("alice"));
    assert_eq!(m.subject.as_deref(), Some("hello"));
    assert_eq!(m.message_id_header.as_deref(), Some("<m1@example.com>"));
    assert_eq!(m.report.as_deref(), Some(r#"{"verdict":"accept"}"#));
    assert_eq!(
        m.size,
        message("a@shop.example", &[], now).data.len() as u64
    );
    assert_eq!(m.deliveries[0].state, DeliveryState::Delivered);
    assert_eq!(m.deliveries[0].last_reply.as_deref(), Some("250 2.0.0 ok"));
    assert_eq!(m.deliveries[0].updated_at, later);
    assert_eq!(m.deliveries[1].state, DeliveryState::Bounced);
    assert_eq!(
        m.deliveries[1].last_reply.as_deref(),
        Some("550 5.1.1 no such user")
    );
    assert_eq!(s.next_due().await.expect("next_due"), None);
    assert!(
        s.claim_due("w1", later + 1.hour(), LEASE, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    assert!(matches!(
        s.message_data(MessageId(mid.0 + 1000)).await,
        Err(Error::NoSuchMessage(_))
    ));
    assert!(
        s.message(MessageId(mid.0 + 1000))
            .await
            .expect("read")
            .is_none()
    );
}

async fn deferred_counts_attempts_and_comes_back_at_retry_time(db: &Db) {
    let s = &db.store;
    let now = t0();
    let (mid, dids) = s
        .enqueue(message("a@shop.example", &["x@buyer.example"], now))
        .await
        .expect("enqueue");
    let id = dids[0];
    let retry_at = now + 5.minutes();
    for attempt in 1..=3u32 {
        let at = now + (i64::from(attempt) * 10).minutes();
        let claimed = s.claim_due("w1", at, LEASE, 10).await.expect("claim");
        assert_eq!(claimed.len(), 1, "attempt {attempt}");
        assert_eq!(claimed[0].attempts, attempt - 1);
        assert_eq!(claimed[0].delay_notified, attempt > 2);
        assert_eq!(
            claimed[0].first_due_at, now,
            "the delay counts from the first due time"
        );
        let retry = retry_at + (i64::from(attempt) * 10).minutes();
        s.finish(
            "w1",
            &[Outcome::Deferred {
                id,
                reply: format!("451 4.7.1 try later #{attempt}"),
                retry_at: retry,
                delay_notified: attempt >= 2,
            }],
            at,
        )
        .await
        .expect("finish");
        assert_eq!(state_of(s, mid, id).await, DeliveryState::Deferred);
        assert_eq!(s.next_due().await.expect("next_due"), Some(retry));
        assert!(
            s.claim_due("w1", retry - 1.millisecond(), LEASE, 10)
                .await
                .expect("claim")
                .is_empty()
        );
    }
    let row = &s
        .message(mid)
        .await
        .expect("read")
        .expect("exists")
        .deliveries[0];
    assert_eq!(row.attempts, 3);
    assert_eq!(row.last_reply.as_deref(), Some("451 4.7.1 try later #3"));
    assert_eq!(
        s.list(Some(DeliveryState::Deferred), 10)
            .await
            .expect("list")
            .len(),
        1
    );
    assert_eq!(
        s.list(Some(DeliveryState::Queued), 10)
            .await
            .expect("list")
            .len(),
        0
    );
}

async fn expired_lease_returns_claim_to_another_owner(db: &Db) {
    let s = &db.store;
    let now = t0();
    let (mid, dids) = s
        .enqueue(message("a@shop.example", &["x@buyer.example"], now))
        .await
        .expect("enqueue");
    let a = s.claim_due("crashed", now, LEASE, 10).await.expect("claim");
    assert_eq!(a.len(), 1);
    // Within the lease nobody else gets it; at exactly the lease end neither.
    assert!(
        s.claim_due("b", now + 30.seconds(), LEASE, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    assert!(
        s.claim_due("b", now + 60.seconds(), LEASE, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    let b = s
        .claim_due("b", now + 61.seconds(), LEASE, 10)
        .await
        .expect("claim");
    assert_eq!(b.iter().map(|c| c.id).collect::<Vec<_>>(), dids);
    // The old owner's late outcome is ignored...
    s.finish(
        "crashed",
        &[Outcome::Bounced {
            id: dids[0],
            reply: "550 late".into(),
        }],
        now + 62.seconds(),
    )
    .await
    .expect("finish");
    assert_eq!(state_of(s, mid, dids[0]).await, DeliveryState::Delivering);
    // ...the new owner's is recorded.
    s.finish(
        "b",
        &[Outcome::Delivered {
            id: dids[0],
            reply: "250 ok".into(),
        }],
        now + 63.seconds(),
    )
    .await
    .expect("finish");
    assert_eq!(state_of(s, mid, dids[0]).await, DeliveryState::Delivered);
}

async fn concurrent_claimers_never_double_claim(db: &Db) {
    const N: usize = 500;
    let now = t0();
    // Half the claimers use a second Store on the same database, as a second
    // node would.
    let other = Store::open(&db.url, 4).await.expect("open a second handle");
    let mut all = Vec::new();
    for chunk in 0..(N / 50) {
        let rcpts: Vec<String> = (0..50)
            .map(|i| format!("r{chunk}-{i}@buyer.example"))
            .collect();
        let rcpts: Vec<&str> = rcpts.iter().map(String::as_str).collect();
        let (_, ids) = db
            .store
            .enqueue(message("a@shop.example", &rcpts, now))
            .await
            .expect("enqueue");
        all.extend(ids);
    }
    let mut tasks = Vec::new();
    for w in 0..4 {
        let s = if w % 2 == 0 {
            db.store.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            let owner = format!("worker-{w}");
            let mut mine = Vec::new();
            loop {
                let got = s.claim_due(&owner, now, LEASE, 7).await.expect("claim");
                if got.is_empty() {
                    break;
                }
                let outcomes: Vec<Outcome> = got
                    .iter()
                    .map(|c| Outcome::Delivered {
                        id: c.id,
                        reply: owner.clone(),
                    })
                    .collect();
                s.finish(&owner, &outcomes, now).await.expect("finish");
                mine.extend(got.into_iter().map(|c| c.id));
            }
            mine
        }));
    }
    let mut seen: HashMap<DeliveryId, usize> = HashMap::new();
    for t in tasks {
        for id in t.await.expect("claimer task") {
            *seen.entry(id).or_default() += 1;
        }
    }
    other.close().await;
    assert_eq!(seen.len(), N, "every delivery claimed");
    assert!(
        seen.values().all(|n| *n == 1),
        "a delivery was claimed twice"
    );
    assert_eq!(
        all.iter().copied().collect::<HashSet<_>>(),
        seen.keys().copied().collect()
    );
    assert_eq!(count(&db.store, DeliveryState::Delivered).await, N as u64);
}

async fn group_commit_under_concurrent_enqueuers(db: &Db) {
    const TASKS: usize = 50;
    const EACH: usize = 4;
    let now = t0();
    let before = db.store.stats();
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let s = db.store.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for i in 0..EACH {
                let mut m = message(
                    &format!("s{t}@shop.example"),
                    &["x@buyer.example", "y@buyer.example"],
                    now,
                );
                m.data = format!("message {t}/{i}\r\n").into_bytes();
                let ids = s.enqueue(m).await.expect("enqueue");
                out.push((t, i, ids));
            }
            out
        }));
    }
    let mut message_ids = HashSet::new();
    let mut delivery_ids = HashSet::new();
    let mut stored = Vec::new();
    for task in tasks {
        for (t, i, (mid, dids)) in task.await.expect("enqueue task") {
            assert!(message_ids.insert(mid), "message id {mid} given twice");
            assert_eq!(dids.len(), 2);
            for d in dids {
                assert!(delivery_ids.insert(d), "delivery id {d} given twice");
            }
            stored.push((t, i, mid));
        }
    }
    assert_eq!(message_ids.len(), TASKS * EACH);
    for (t, i, mid) in stored {
        assert_eq!(
            db.store.message_data(mid).await.expect("data"),
            format!("message {t}/{i}\r\n").into_bytes()
        );
    }
    assert_eq!(
        count(&db.store, DeliveryState::Queued).await,
        (TASKS * EACH * 2) as u64
    );
    let after = db.store.stats();
    assert_eq!(after.messages - before.messages, (TASKS * EACH) as u64);
    assert!(after.commits > before.commits);
    eprintln!(
        "{:?}: {} messages in {} commits",
        db.store.dialect(),
        after.messages - before.messages,
        after.commits - before.commits
    );
}

async fn bytes_round_trip_exactly(db: &Db) {
    let now = t0();
    let all_bytes: Vec<u8> = (0..=255u8).cycle().take(256 * 4).collect();
    let mut big = Vec::with_capacity(5 * 1024 * 1024);
    let mut x: u32 = 0x9e37_79b9;
    while big.len() < 5 * 1024 * 1024 {
        // xorshift: 8-bit noise, NULs and CR/LF in odd places included.
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        big.extend_from_slice(&x.to_le_bytes());
    }
    let utf8 = "Sujet: Grüße, 你好, こんにちは, Привет\r\n\r\n本文\r\n"
        .as_bytes()
        .to_vec();
    // Bodies over a MiB are stored in parts: sizes at and around a part's
    // edge come back exactly too.
    let mib = 1024 * 1024;
    let edges: Vec<Vec<u8>> = [mib - 1, mib, mib + 1, 2 * mib]
        .into_iter()
        .map(|n| big[..n].to_vec())
        .collect();
    for data in [all_bytes, big, utf8, Vec::new()].into_iter().chain(edges) {
        let mut m = message("a@shop.example", &["x@buyer.example"], now);
        m.data = data.clone();
        let (mid, _) = db.store.enqueue(m).await.expect("enqueue");
        let back = db.store.message_data(mid).await.expect("data");
        assert_eq!(back.len(), data.len());
        assert!(back == data, "bytes changed on the way through the store");
        let row = db.store.message(mid).await.expect("read").expect("exists");
        assert_eq!(row.size, data.len() as u64);
    }
    // Text columns keep UTF-8 too.
    let mut m = message("ü@shop.example", &["用户@例子.测试"], now);
    m.subject = Some("Grüße 你好".into());
    let (mid, _) = db.store.enqueue(m).await.expect("enqueue");
    let row = db.store.message(mid).await.expect("read").expect("exists");
    assert_eq!(row.mail_from, "ü@shop.example");
    assert_eq!(row.deliveries[0].rcpt, "用户@例子.测试");
    assert_eq!(row.subject.as_deref(), Some("Grüße 你好"));
}

async fn reopening_keeps_everything(db: &Db) {
    let now = t0();
    let (mid, dids) = db
        .store
        .enqueue(message(
            "a@shop.example",
            &["x@buyer.example", "y@buyer.example"],
            now,
        ))
        .await
        .expect("enqueue");
    let claimed = db
        .store
        .claim_due("w1", now, LEASE, 1)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    // A second and third open run the migrations again: they must be no-ops.
    for _ in 0..2 {
        let again = Store::open(&db.url, 2).await.expect("reopen");
        let m = again
            .message(mid)
            .await
            .expect("read")
            .expect("the message survived");
        assert_eq!(m.deliveries.iter().map(|d| d.id).collect::<Vec<_>>(), dids);
        assert_eq!(m.deliveries[0].state, DeliveryState::Delivering);
        assert_eq!(m.deliveries[1].state, DeliveryState::Queued);
        assert_eq!(
            again.message_data(mid).await.expect("data"),
            message("a@shop.example", &[], now).data
        );
        again.close().await;
    }
    // Ids keep growing after a reopen.
    let fresh = Store::open(&db.url, 2).await.expect("reopen");
    let (mid2, _) = fresh
        .enqueue(message("b@shop.example", &["z@buyer.example"], now))
        .await
        .expect("enqueue");
    assert!(mid2 > mid);
    fresh.close().await;
    if db.store.dialect() == Dialect::Sqlite {
        // Durability across instances: close the original too, then read from a new one.
        db.store.close().await;
        let last = Store::open(&db.url, 1).await.expect("reopen");
        assert!(last.message(mid2).await.expect("read").is_some());
        last.close().await;
    }
}

/// Two couriers delivering copies of one message at once queue one journal
/// copy between them, with its record; the losers store nothing at all.
async fn a_message_is_journaled_once(db: &Db) {
    let s = &db.store;
    let now = t0();
    let (original, _) = s
        .enqueue(message("a@shop.example", &["x@buyer.example"], now))
        .await
        .expect("enqueue");
    let mut tries = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let s = s.clone();
        let mut copy = message("", &["archive@shop.example"], now);
        copy.auth_user = None;
        let event =
            Event::new(now, Kind::Journaled, "courier", serde_json::json!({})).about(original);
        tries.spawn(async move { s.enqueue_journal_copy(original, copy, vec![event]).await });
    }
    let mut queued = Vec::new();
    while let Some(r) = tries.join_next().await {
        if let Some(id) = r.unwrap().expect("no store error") {
            queued.push(id);
        }
    }
    assert_eq!(queued.len(), 1, "{queued:?}");
    let copy = s
        .message(queued[0])
        .await
        .unwrap()
        .expect("the copy is queued");
    assert_eq!(copy.deliveries[0].rcpt, "archive@shop.example");
    let head = s.audit_head().await.unwrap();
    assert_eq!(head.seq, 1, "one journaled record, not six");
    assert_eq!(
        s.enqueue_journal_copy(
            original,
            message("", &["archive@shop.example"], now),
            vec![]
        )
        .await
        .unwrap(),
        None,
        "later deliveries find it journaled"
    );
}

/// An operator's release and its audit record commit together: with the
/// log unwritable, the release fails and the message stays held, rather
/// than being sent with no record of who let it go.
async fn an_action_is_never_without_its_record(db: &Db) {
    let s = &db.store;
    let now = t0();
    let mut m = message("a@shop.example", &["x@buyer.example"], now);
    m.deliveries[0].state = DeliveryState::Held;
    let (mid, _) = s.enqueue(m).await.expect("enqueue");
    let record = || Event::new(now, Kind::Released, "admin:test", serde_json::json!({})).about(mid);
    let mut raw = sqlx::AnyConnection::connect(&db.url).await.unwrap();
    sqlx::query("ALTER TABLE audit_head RENAME TO audit_head_away")
        .execute(&mut raw)
        .await
        .unwrap();
    assert!(s.release_held(mid, now, Some(record())).await.is_err());
    assert_eq!(count(s, DeliveryState::Held).await, 1, "still held");
    assert!(
        s.suppress(
            "x@buyer.example",
            "r",
            SuppressionSource::Manual,
            now,
            Some(record())
        )
        .await
        .is_err()
    );
    assert!(s.suppression("x@buyer.example").await.unwrap().is_none());

    sqlx::query("ALTER TABLE audit_head_away RENAME TO audit_head")
        .execute(&mut raw)
        .await
        .unwrap();
    assert_eq!(s.release_held(mid, now, Some(record())).await.unwrap(), 1);
    let head = s.audit_head().await.unwrap();
    assert_eq!(head.seq, 1);
    let records = s.audit_records(0, 10).await.unwrap();
    assert_eq!(records[0].kind, "released");
    assert_eq!(records[0].fields_json()["copies"], 1, "{records:?}");
    let _ = raw.close().await;
}

/// Retention deletes a message once every copy is final and has been for
/// the whole period; a copy still waiting or held, or one finished lately,
/// keeps the whole message.
async fn finished_messages_go_after_keep_days(db: &Db) {
    let s = &db.store;
    let t = t0();
    let later = t + 10.minutes();
    // A large one: its body is stored in parts, which go with it.
    let mut big = message("a@shop.example", &["x@buyer.example", "y@buyer.example"], t);
    big.data = vec![b'x'; 3 * 1024 * 1024 + 5];
    let (all_done, _) = s.enqueue(big).await.unwrap();
    let (half_done, _) = s
        .enqueue(message(
            "a@shop.example",
            &["x@buyer.example", "y@buyer.example"],
            t,
        ))
        .await
        .unwrap();
    let mut held = message("a@shop.example", &["z@buyer.example"], t);
    held.deliveries[0].state = DeliveryState::Held;
    let (held, _) = s.enqueue(held).await.unwrap();
    let claims = s.claim_due("w1", t, LEASE, 10).await.unwrap();
    let outcomes: Vec<Outcome> = claims
        .iter()
        .map(|c| {
            if c.message_id == half_done && c.rcpt == "y@buyer.example" {
                Outcome::Deferred {
                    id: c.id,
                    reply: "451 4.7.1 later".into(),
                    retry_at: t + 720.hours(),
                    delay_notified: false,
                }
            } else {
                Outcome::Delivered {
                    id: c.id,
                    reply: "250 ok".into(),
                }
            }
        })
        .collect();
    s.finish("w1", &outcomes, later).await.unwrap();
    // Finished lately: nothing goes.
    assert_eq!(s.prune_finished(later, 100).await.unwrap(), 0);
    let before = later + 1.millisecond();
    assert_eq!(s.prune_finished(before, 100).await.unwrap(), 1);
    assert!(s.message(all_done).await.unwrap().is_none());
    assert!(
        s.message(half_done).await.unwrap().is_some(),
        "a copy waits"
    );
    assert!(s.message(held).await.unwrap().is_some(), "held mail stays");
    assert_eq!(count(s, DeliveryState::Delivered).await, 1, "half_done's x");
    assert_eq!(s.prune_finished(before, 100).await.unwrap(), 0);
}

async fn held_release_reject_retry_drop(db: &Db) {
    let s = &db.store;
    let now = t0();
    let mut m = message(
        "a@shop.example",
        &["x@buyer.example", "y@buyer.example", "z@buyer.example"],
        now,
    );
    m.deliveries[0].state = DeliveryState::Held;
    m.deliveries[1].state = DeliveryState::Held;
    let (mid, d) = s.enqueue(m).await.expect("enqueue");
    // Held copies are never claimed.
    let c = s
        .claim_due("w", now + 1.hour(), LEASE, 10)
        .await
        .expect("claim");
    assert_eq!(c.iter().map(|c| c.id).collect::<Vec<_>>(), vec![d[2]]);
    s.finish(
        "w",
        &[Outcome::Deferred {
            id: d[2],
            reply: "451".into(),
            retry_at: now + 24.hours(),
            delay_notified: false,
        }],
        now,
    )
    .await
    .expect("finish");

    let later = now + 2.hours();
    assert_eq!(s.release_held(mid, later, None).await.expect("release"), 2);
    assert_eq!(
        s.release_held(mid, later, None)
            .await
            .expect("release again"),
        0
    );
    let c = s.claim_due("w", later, LEASE, 10).await.expect("claim");
    assert_eq!(c.iter().map(|c| c.id).collect::<Vec<_>>(), vec![d[0], d[1]]);
    assert!(
        c.iter().all(|c| c.first_due_at == later),
        "the delay clock starts at release"
    );
    s.finish(
        "w",
        &[Outcome::Delivered {
            id: d[0],
            reply: "250".into(),
        }],
        later,
    )
    .await
    .expect("finish");

    // retry: the deferred copy becomes due now; the one in flight keeps its lease.
    assert_eq!(s.retry(mid, later, None).await.expect("retry"), 1);
    let c = s.claim_due("w2", later, LEASE, 10).await.expect("claim");
    assert_eq!(c.iter().map(|c| c.id).collect::<Vec<_>>(), vec![d[2]]);
    assert_eq!(c[0].attempts, 1, "retry keeps attempts");

    // drop: everything not final, in flight included; late outcomes are ignored.
    assert_eq!(s.drop_message(mid, later, None).await.expect("drop"), 2);
    s.finish(
        "w",
        &[Outcome::Delivered {
            id: d[1],
            reply: "250".into(),
        }],
        later,
    )
    .await
    .expect("finish");
    let row = s.message(mid).await.expect("read").expect("exists");
    let states: Vec<DeliveryState> = row.deliveries.iter().map(|d| d.state).collect();
    assert_eq!(
        states,
        vec![
            DeliveryState::Delivered,
            DeliveryState::Dropped,
            DeliveryState::Dropped
        ]
    );
    assert_eq!(
        s.drop_message(mid, later, None).await.expect("drop again"),
        0
    );

    // reject
    let mut m = message("a@shop.example", &["x@buyer.example"], now);
    m.deliveries[0].state = DeliveryState::Held;
    let (mid2, d2) = s.enqueue(m).await.expect("enqueue");
    assert_eq!(
        s.reject_held(mid2, "looks like spam", later, None)
            .await
            .expect("reject"),
        1
    );
    let row = s.message(mid2).await.expect("read").expect("exists");
    assert_eq!(row.deliveries[0].id, d2[0]);
    assert_eq!(row.deliveries[0].state, DeliveryState::Rejected);
    assert_eq!(
        row.deliveries[0].last_reply.as_deref(),
        Some("looks like spam")
    );

    let missing = MessageId(mid2.0 + 1000);
    assert!(matches!(
        s.retry(missing, later, None).await,
        Err(Error::NoSuchMessage(_))
    ));
    assert!(matches!(
        s.drop_message(missing, later, None).await,
        Err(Error::NoSuchMessage(_))
    ));
    assert!(matches!(
        s.release_held(missing, later, None).await,
        Err(Error::NoSuchMessage(_))
    ));

    let counts: HashMap<DeliveryState, u64> =
        s.counts().await.expect("counts").into_iter().collect();
    assert_eq!(counts.len(), DeliveryState::ALL.len());
    assert_eq!(counts[&DeliveryState::Delivered], 1);
    assert_eq!(counts[&DeliveryState::Dropped], 2);
    assert_eq!(counts[&DeliveryState::Rejected], 1);
    assert_eq!(counts[&DeliveryState::Held], 0);
    let listed = s.list(None, 100).await.expect("list");
    assert_eq!(listed.len(), 4);
    assert!(listed.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    assert_eq!(listed[0].subject.as_deref(), Some("hello"));
    assert_eq!(
        s.list(Some(DeliveryState::Dropped), 1)
            .await
            .expect("list")
            .len(),
        1
    );
}

async fn release_claims_gives_everything_back(db: &Db) {
    let s = &db.store;
    let now = t0();
    let (_, d) = s
        .enqueue(message(
            "a@shop.example",
            &["x@buyer.example", "y@buyer.example"],
            now,
        ))
        .await
        .expect("enqueue");
    let c = s.claim_due("w1", now, LEASE, 10).await.expect("claim");
    assert_eq!(c.len(), 2);
    s.finish(
        "w1",
        &[Outcome::Deferred {
            id: d[1],
            reply: "451".into(),
            retry_at: now,
            delay_notified: false,
        }],
        now,
    )
    .await
    .expect("finish");
    let c = s.claim_due("w1", now, LEASE, 10).await.expect("claim");
    assert_eq!(c.len(), 1);
    assert_eq!(
        s.release_claims("someone-else", now)
            .await
            .expect("release"),
        0
    );
    assert_eq!(s.release_claims("w1", now).await.expect("release"), 2);
    assert_eq!(count(s, DeliveryState::Queued).await, 1);
    assert_eq!(count(s, DeliveryState::Deferred).await, 1);
    let c = s.claim_due("w2", now, LEASE, 10).await.expect("claim");
    assert_eq!(c.len(), 2, "given-back claims are due at once");
}

async fn release_all_claims_takes_back_a_dead_nodes_claims(db: &Db) {
    let s = &db.store;
    let now = t0();
    s.enqueue(message(
        "a@shop.example",
        &["x@buyer.example", "y@buyer.example"],
        now,
    ))
    .await
    .expect("enqueue");
    assert_eq!(
        s.claim_due("dead-1", now, LEASE, 1)
            .await
            .expect("claim")
            .len(),
        1
    );
    assert_eq!(
        s.claim_due("dead-2", now, LEASE, 1)
            .await
            .expect("claim")
            .len(),
        1
    );
    assert!(
        s.claim_due("new", now, LEASE, 10)
            .await
            .expect("claim")
            .is_empty(),
        "leases still run"
    );
    assert_eq!(s.release_all_claims(now).await.expect("release"), 2);
    assert_eq!(
        s.claim_due("new", now, LEASE, 10)
            .await
            .expect("claim")
            .len(),
        2,
        "due again at once"
    );
}

async fn closed_store_refuses_enqueue(db: &Db) {
    let s = Store::open(&db.url, 2).await.expect("open");
    let now = t0();
    // Everything sent before close is committed; close waits for it.
    let mut pending = Vec::new();
    for i in 0..20 {
        let s = s.clone();
        pending.push(tokio::spawn(async move {
            s.enqueue(message(
                &format!("p{i}@shop.example"),
                &["x@buyer.example"],
                now,
            ))
            .await
        }));
    }
    let mut ok = 0;
    for p in pending {
        if p.await.expect("task").is_ok() {
            ok += 1;
        }
    }
    s.close().await;
    assert!(matches!(
        s.enqueue(message("a@shop.example", &["x@buyer.example"], now))
            .await,
        Err(Error::Closed)
    ));
    assert_eq!(ok, 20);
    assert_eq!(count(&db.store, DeliveryState::Queued).await, 20);
}

const CRASH_CHILD_ENV: &str = "SENDWELL_TEST_CRASH_CHILD_URL";
/// Committed messages the parent waits for before it kills the child.
const CRASH_AFTER: usize = 300;

/// The crash test: a child process (this test binary, running
/// `crash_child`) enqueues from several tasks and prints each id once
/// `enqueue` has returned, i.e. when the door would send `250`; it also claims
/// a few deliveries. The parent kills it with SIGKILL mid-stream. Every
/// printed message must be in the store, bytes intact, and the dead child's
/// claims must come back once their lease runs out.
async fn committed_messages_survive_sigkill(db: &Db) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut child = tokio::process::Command::new(exe)
        .args([
            "--ignored",
            "--exact",
            "crash_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CRASH_CHILD_ENV, &db.url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start the child");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let mut committed: Vec<(MessageId, String)> = Vec::new();
    let mut claimed: Vec<DeliveryId> = Vec::new();
    let mut killed = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    // Keep reading after the kill: lines the child wrote before it died
    // are still in the pipe, and each was printed only after its commit.
    while let Some(line) = tokio::time::timeout_at(deadline, lines.next_line())
        .await
        .expect("the child should commit messages in time")
        .expect("read the child's output")
    {
        let mut f = line.split(' ');
        match (f.next(), f.next(), f.next()) {
            (Some("committed"), Some(id), Some(body)) => {
                committed.push((MessageId(id.parse().expect("an id")), body.to_string()));
            }
            (Some("claimed"), Some(id), None) => {
                claimed.push(DeliveryId(id.parse().expect("an id")))
            }
            _ => {}
        }
        if !killed && committed.len() >= CRASH_AFTER {
            child.start_kill().expect("SIGKILL the child");
            killed = true;
        }
    }
    let status = child.wait().await.expect("reap the child");
    assert!(
        killed && !status.success(),
        "the child was killed mid-run: {status}"
    );
    assert!(
        !claimed.is_empty(),
        "the child claimed something before it died"
    );

    // A fresh handle, as the restarted server would open.
    let after = Store::open(&db.url, 2)
        .await
        .expect("reopen after the crash");
    for (id, body) in &committed {
        let data = after
            .message_data(*id)
            .await
            .unwrap_or_else(|e| panic!("message {id} got a 250 but is lost: {e}"));
        assert_eq!(data, crash_body(body), "message {id} changed");
    }
    let in_flight: HashSet<DeliveryId> = claimed.iter().copied().collect();
    // Within the dead child's lease its claims stay put...
    let early = after
        .claim_due("restarted", t0(), LEASE, 100_000)
        .await
        .expect("claim");
    assert!(early.iter().all(|c| !in_flight.contains(&c.id)));
    // ...afterwards they come back.
    let late = after
        .claim_due("restarted", t0() + 61.seconds(), LEASE, 100_000)
        .await
        .expect("claim");
    let back: HashSet<DeliveryId> = late.iter().map(|c| c.id).collect();
    assert!(
        in_flight.is_subset(&back),
        "a crashed worker's claims must come back"
    );
    eprintln!(
        "{:?}: {} messages acknowledged before SIGKILL, all present; {} claims returned",
        after.dialect(),
        committed.len(),
        in_flight.len()
    );
    after.close().await;
}

fn crash_body(tag: &str) -> Vec<u8> {
    format!("Subject: crash {tag}\r\n\r\n8-bit \u{e9}\u{4f60} {tag}\r\n").into_bytes()
}

/// The child half of `committed_messages_survive_sigkill` (does nothing
/// unless started by it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by committed_messages_survive_sigkill in a child process"]
async fn crash_child() {
    use std::io::Write;
    let Ok(url) = std::env::var(CRASH_CHILD_ENV) else {
        return;
    };
    let store = Store::open(&url, 4).await.expect("open in the child");
    let mut tasks = Vec::new();
    for t in 0..8 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            // Bounded so an orphaned child ends by itself.
            for i in 0..5_000 {
                let tag = format!("{t}-{i}");
                let mut m = message("a@shop.example", &["x@buyer.example"], t0());
                m.data = crash_body(&tag);
                let (id, _) = s.enqueue(m).await.expect("enqueue in the child");
                let claims = if i == 5 {
                    s.claim_due(&format!("child-{t}"), t0(), LEASE, 2)
                        .await
                        .expect("claim in the child")
                } else {
                    Vec::new()
                };
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "committed {id} {tag}");
                for c in claims {
                    let _ = writeln!(out, "claimed {}", c.id);
                }
                let _ = out.flush();
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

/// Throughput of the group-committed enqueue (run with
/// `cargo test --release --test store -- --ignored --nocapture`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check"]
async fn measure_enqueue_throughput() {
    const MESSAGES: usize = 5000;
    const TASKS: usize = 10;
    const SIZE: usize = 5 * 1024;
    let mut dbs = vec![Db::sqlite().await];
    if let Some(pg) = Db::postgres("measure").await {
        dbs.push(pg);
    }
    for db in dbs {
        let started = std::time::Instant::now();
        let mut tasks = Vec::new();
        for t in 0..TASKS {
            let s = db.store.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..MESSAGES / TASKS {
                    let mut m = message(&format!("s{t}@shop.example"), &["x@buyer.example"], t0());
                    m.data = vec![b'a' + (i % 26) as u8; SIZE];
                    s.enqueue(m).await.expect("enqueue");
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        let took = started.elapsed();
        let stats = db.store.stats();
        println!(
            "{:?}: {MESSAGES} messages of {SIZE} B from {TASKS} tasks in {:.2?}: {:.0} msg/s, {} commits ({:.1} messages per commit)",
            db.store.dialect(),
            took,
            MESSAGES as f64 / took.as_secs_f64(),
            stats.commits,
            stats.messages as f64 / stats.commits.max(1) as f64,
        );
        // The courier's side: claim a batch, read each message, finish the batch.
        let started = std::time::Instant::now();
        let mut done = 0;
        loop {
            let claimed = db
                .store
                .claim_due("bench", t0(), LEASE, 100)
                .await
                .expect("claim");
            if claimed.is_empty() {
                break;
            }
            for c in &claimed {
                db.store.message_data(c.message_id).await.expect("data");
            }
            let outcomes: Vec<Outcome> = claimed
                .iter()
                .map(|c| Outcome::Delivered {
                    id: c.id,
                    reply: "250 2.0.0 ok".into(),
                })
                .collect();
            db.store
                .finish("bench", &outcomes, t0())
                .await
                .expect("finish");
            done += claimed.len();
        }
        let took = started.elapsed();
        assert_eq!(done, MESSAGES);
        println!(
            "{:?}: claimed, read and finished {done} deliveries in batches of 100 in {:.2?}: {:.0}/s",
            db.store.dialect(),
            took,
            done as f64 / took.as_secs_f64()
        );
        db.finish().await;
    }
}

/// The retention round deletes finished messages only past `[store]
/// keep_days`, and never with `keep_days = 0`; it leaves the audit log alone
/// unless `[audit] retain_days` says otherwise.
#[tokio::test]
async fn retention_keeps_finished_messages_for_keep_days() {
    // The process's metrics recorder; no other test here runs retention.
    sendwell::metrics::handle();
    let db = Db::sqlite().await;
    let s = &db.store;
    let t = t0();
    let (id, _) = s
        .enqueue_audited(
            message("a@shop.example", &["x@buyer.example"], t),
            vec![Event::new(t, Kind::Received, "smtp", serde_json::json!({}))],
        )
        .await
        .unwrap();
    let claims = s.claim_due("w1", t, LEASE, 10).await.unwrap();
    let done = vec![Outcome::Delivered {
        id: claims[0].id,
        reply: "250 ok".into(),
    }];
    s.finish("w1", &done, t).await.unwrap();
    let mut config = sendwell::config::Config::default();
    let audit = sendwell::audit::Audit::new(s.clone(), &config.audit);
    let day = |n: i64| t + (24 * n).hours();

    config.store.keep_days = 0;
    let r = sendwell::retention::prune(s, &audit, &config, day(400)).await;
    assert_eq!(r.messages, 0, "keep_days = 0 keeps everything");
    config.store.keep_days = 30;
    let r = sendwell::retention::prune(s, &audit, &config, day(29)).await;
    assert_eq!(r.messages, 0, "within keep_days");
    assert!(s.message(id).await.unwrap().is_some());
    let r = sendwell::retention::prune(s, &audit, &config, day(31)).await;
    assert_eq!(r.messages, 1);
    assert!(s.message(id).await.unwrap().is_none());
    assert_eq!(r.audit_records, 0, "retain_days = 0 keeps the log");
    let metrics = sendwell::metrics::render(&[]);
    assert!(
        metrics.contains("sendwell_retention_removed_total{what=\"messages\"} 1\n"),
        "{metrics}"
    );
    let head = s.audit_head().await.unwrap();
    assert!(head.seq >= 2, "received and delivered are still on record");
    db.finish().await;
}

/// Issue 10: a paused route is durable (a restart does not forget it, so no
/// new login per waiting message), keeps when it began, and is lifted by
/// route or by kind; the waiting mail is counted per sender.
async fn a_route_pause_is_kept_and_lifted(db: &Db) {
    let s = &db.store;
    let now = t0();
    s.enqueue(message(
        "li@shop.example",
        &["a@x.example", "b@x.example"],
        now,
    ))
    .await
    .expect("enqueue");
    s.enqueue(message("", &["li@shop.example"], now))
        .await
        .expect("enqueue");
    assert_eq!(
        s.waiting_by_sender("default").await.unwrap(),
        vec![("li@shop.example".to_string(), 2)],
        "sendwell's own mail is not counted"
    );
    let until = now + 1.hour();
    assert!(
        s.pause_route("default", "login", "535 5.7.8 no", now, until, "node-1")
            .await
            .unwrap()
    );
    let later = now + 1.hour();
    assert!(
        !s.pause_route(
            "default",
            "login",
            "535 5.7.8 still no",
            later,
            later + 1.hour(),
            "node-1"
        )
        .await
        .unwrap()
    );
    let p = s.route_pauses().await.unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].since, p[0].until), (now, later + 1.hour()));
    assert_eq!(
        (p[0].reply.as_str(), p[0].probes),
        ("535 5.7.8 still no", 1)
    );
    assert_eq!(
        s.resume_routes(None, Some("quota"), "node-1", "probe")
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.resume_routes(Some("default"), Some("login"), "node-1", "reload")
            .await
            .unwrap(),
        1
    );
    assert!(s.route_pauses().await.unwrap().is_empty());
    s.pause_route("default", "quota", "550 5.4.5", now, until, "node-1")
        .await
        .unwrap();
    assert_eq!(
        s.resume_routes(None, None, "cli:wang", "an operator resumed it")
            .await
            .unwrap(),
        1
    );
    // The audit log: each new pause and each resume, once, with who and why
    // (a pause that was already on is not a new record).
    let log: Vec<(String, String, String)> = s
        .audit_records(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == "paused" || r.kind == "resumed")
        .map(|r| (r.kind.clone(), r.actor.clone(), r.fields.clone()))
        .collect();
    let kinds: Vec<(&str, &str)> = log
        .iter()
        .map(|(k, a, _)| (k.as_str(), a.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("paused", "node-1"),
            ("resumed", "node-1"),
            ("paused", "node-1"),
            ("resumed", "cli:wang")
        ]
    );
    assert!(log[0].2.contains("535 5.7.8 no"), "{}", log[0].2);
    assert!(log[3].2.contains("an operator resumed it"), "{}", log[3].2);
}

/// Issue 15 §4: with 40,000 finished copies, 40,000 waiting for later days
/// and a backlog of 5,000 due ones, the claim takes the oldest due copies
/// (an expired lease among them) in order, and its plan reads the index of
/// waiting copies (`deliveries_waiting`) in order instead of sorting every
/// due row.
async fn the_claim_reads_waiting_copies_in_order_past_many_others(db: &Db) {
    let s = &db.store;
    let now = t0();
    let (mid, _) = s
        .enqueue(message(
            "a@shop.example",
            &["first@buyer.example"],
            now + 24.hours(),
        ))
        .await
        .expect("enqueue");
    let pool = sqlx::AnyPool::connect(&db.url).await.expect("pool");
    let series = match s.dialect() {
        Dialect::Postgres => "generate_series(1::BIGINT, 85000) AS s(g)".to_string(),
        Dialect::Sqlite => "(WITH RECURSIVE c(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM c \
                            WHERE g < 85000) SELECT g FROM c)"
            .to_string(),
    };
    let now_ms = now.as_millisecond();
    // g <= 40000 finished, <= 80000 waiting for later, the rest due (the
    // oldest, g = 85000, five seconds before now).
    let sql = format!(
        "INSERT INTO deliveries (message_id, rcpt, state, deliver_at, first_due_at, updated_at, route) \
         SELECT {mid}, 'b' || g || '@buyer.example', \
                CASE WHEN g <= 40000 THEN 'delivered' ELSE 'queued' END, \
                CASE WHEN g <= 80000 THEN {now_ms} + 86400000 - g ELSE {now_ms} + 80000 - g END, \
                {now_ms}, {now_ms}, 'default' FROM {series}"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&pool)
        .await
        .expect("fill");
    // A copy whose courier let its lease run out two seconds ago, due
    // before all the others (six seconds ago).
    let lapsed = format!(
        "UPDATE deliveries SET state = 'delivering', owner = 'gone', lease_until = {}, \
         deliver_at = {} WHERE rcpt = 'b80001@buyer.example'",
        now_ms - 2000,
        now_ms - 6000
    );
    sqlx::query(sqlx::AssertSqlSafe(lapsed))
        .execute(&pool)
        .await
        .expect("lapse");
    sqlx::query("ANALYZE")
        .execute(&pool)
        .await
        .expect("analyze");
    let plan = s.explain_claim(now).await.expect("plan").join("\n");
    assert!(plan.contains("deliveries_waiting"), "{plan}");
    let claimed = s.claim_due("w1", now, LEASE, 3).await.expect("claim");
    let rcpts: Vec<&str> = claimed.iter().map(|c| c.rcpt.as_str()).collect();
    assert_eq!(
        rcpts,
        [
            "b80001@buyer.example",
            "b85000@buyer.example",
            "b84999@buyer.example"
        ]
    );
    pool.close().await;
}
