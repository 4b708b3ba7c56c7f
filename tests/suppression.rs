//! The suppression list and the contacts: the store methods on SQLite and
//! (when `SENDWELL_TEST_POSTGRES_URL` is set) PostgreSQL, the CSV imports,
//! the RCPT refusal, and the courier feeding the list from hard bounces of
//! a real SMTP upstream.

mod common;

use std::time::Duration;

use common::db::Db;
use common::upstream::{Opts, Rule, TestUpstream};
use jiff::{Timestamp, ToSpan};
use sendwell::config::Config;
use sendwell::gateway::replies::suppressed as suppressed_reply;
use sendwell::recipient::import::{parse_contacts, parse_suppressions};
use sendwell::store::{Contact, ContactSource, DeliveryState, Store, SuppressionSource};

macro_rules! store_suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = super::Db::sqlite().await;
                    super::$name(&db).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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
    suppress_lookup_refuse_unsuppress,
    suppression_import_keeps_first_entries,
    contacts_upsert_import_and_established,
);

/// `n` days as a span a `Timestamp` can take (24-hour days).
fn t_days(n: i64) -> jiff::Span {
    (n * 24).hours()
}

fn t0() -> Timestamp {
    "2026-11-20T08:30:00Z".parse().expect("a test time")
}

async fn suppress_lookup_refuse_unsuppress(db: &Db) {
    let s = &db.store;
    assert!(s.suppression("buyer@example.de").await.unwrap().is_none());
    assert!(s.suppression("buyer@example.de").await.unwrap().is_none());

    let added = s
        .suppress(
            "<Buyer@Example.DE>",
            "asked us to stop writing",
            SuppressionSource::Manual,
            t0(),
            None,
        )
        .await
        .unwrap();
    assert!(added);
    // Any spelling of the address finds it.
    for spelling in ["buyer@example.de", "BUYER@example.de", "Buyer@EXAMPLE.de"] {
        let got = s.suppression(spelling).await.unwrap().expect(spelling);
        assert_eq!(got.address, "buyer@example.de");
        assert_eq!(got.reason, "asked us to stop writing");
        assert_eq!(got.source, SuppressionSource::Manual);
        assert_eq!(got.created_at, t0());
    }
    let reply = suppressed_reply(
        &s.suppression("Buyer@example.de")
            .await
            .unwrap()
            .expect("suppressed"),
    );
    assert_eq!(reply.code, 550);
    assert_eq!(
        String::from_utf8(reply.to_wire()).unwrap(),
        "550 5.1.1 <buyer@example.de> is suppressed since 2026-11-20: asked us to stop writing [RCPT_SUPPRESSED]\r\n"
    );

    // A second entry for the same address keeps the first date and reason.
    let again = s
        .suppress(
            "buyer@example.de",
            "550 5.1.1 no such user",
            SuppressionSource::Bounce,
            t0() + t_days(2),
            None,
        )
        .await
        .unwrap();
    assert!(!again);
    let kept = s.suppression("buyer@example.de").await.unwrap().unwrap();
    assert_eq!(
        (kept.reason.as_str(), kept.created_at),
        ("asked us to stop writing", t0())
    );

    // IDN: the Unicode and the ASCII spelling of a domain are one address.
    s.suppress(
        "käufer@müller.de",
        "x",
        SuppressionSource::Manual,
        t0() + 1.hour(),
        None,
    )
    .await
    .unwrap();
    assert!(
        s.suppression("Käufer@xn--mller-kva.de")
            .await
            .unwrap()
            .is_some()
    );

    let list = s.list_suppressions(10).await.unwrap();
    let addrs: Vec<&str> = list.iter().map(|x| x.address.as_str()).collect();
    assert_eq!(addrs, ["käufer@xn--mller-kva.de", "buyer@example.de"]);
    assert_eq!(s.list_suppressions(1).await.unwrap().len(), 1);

    assert!(s.unsuppress("BUYER@example.de", None).await.unwrap());
    assert!(!s.unsuppress("buyer@example.de", None).await.unwrap());
    assert!(s.suppression("buyer@example.de").await.unwrap().is_none());
}

async fn suppression_import_keeps_first_entries(db: &Db) {
    let s = &db.store;
    s.suppress(
        "old@example.com",
        "hard bounce last year",
        SuppressionSource::Bounce,
        t0(),
        None,
    )
    .await
    .unwrap();
    let csv = "address,reason\n\
               new1@example.com,unsubscribed by phone\n\
               OLD@example.com,listed again\n\
               broken address,x\n\
               new2@example.co.uk,\n";
    let parsed = parse_suppressions(csv.as_bytes()).unwrap();
    assert_eq!(parsed.rows.len(), 3);
    assert_eq!(parsed.errors.len(), 1);
    assert_eq!(parsed.errors[0].line, 4, "{:?}", parsed.errors);
    let added = s
        .import_suppressions(
            &parsed.rows,
            SuppressionSource::Import,
            t0() + t_days(1),
            None,
        )
        .await
        .unwrap();
    assert_eq!(added, 2, "the known address is not counted again");
    let old = s.suppression("old@example.com").await.unwrap().unwrap();
    assert_eq!(old.reason, "hard bounce last year");
    assert_eq!(old.source, SuppressionSource::Bounce);
    let new1 = s.suppression("new1@example.com").await.unwrap().unwrap();
    assert_eq!(new1.source, SuppressionSource::Import);
    assert_eq!(new1.created_at, t0() + t_days(1));
    let new2 = s.suppression("new2@example.co.uk").await.unwrap().unwrap();
    assert_eq!(
        suppressed_reply(&new2).text,
        "<new2@example.co.uk> is suppressed since 2026-11-21: imported from a suppression list [RCPT_SUPPRESSED]"
    );
    assert!(s.suppression("broken address").await.unwrap().is_none());
}

async fn contacts_upsert_import_and_established(db: &Db) {
    let s = &db.store;
    assert!(s.contact("hans@example.de").await.unwrap().is_none());

    // A reply to a stranger makes them a known, established contact.
    assert!(s.mark_established("Hans@Example.de", t0()).await.unwrap());
    assert!(
        !s.mark_established("hans@example.de", t0() + 1.hour())
            .await
            .unwrap(),
        "already established"
    );
    let hans = s.contact("hans@example.de").await.unwrap().unwrap();
    assert!(hans.established);
    assert_eq!(hans.source, ContactSource::Reply);
    assert_eq!(hans.updated_at, t0());
    assert_eq!(hans.name, None);

    // A contacts file fills in what we did not know, and cannot make an
    // established contact cold again.
    let csv = "address,name,country,timezone,established\n\
               hans@example.de,Hans Müller,de,Europe/Berlin,no\n\
               suzuki@example.jp,\"Suzuki, Ichiro\",JP,Asia/Tokyo,yes\n\
               li@example.cn,Li Wei,CN,Asia/Shanghi,no\n";
    let parsed = parse_contacts(csv.as_bytes(), t0() + t_days(1)).unwrap();
    assert_eq!(parsed.errors.len(), 1);
    assert_eq!(parsed.errors[0].line, 4);
    assert!(parsed.errors[0].message.contains("Asia/Shanghi"));
    assert_eq!(s.import_contacts(&parsed.rows).await.unwrap(), 2);
    let hans = s.contact("HANS@example.de").await.unwrap().unwrap();
    assert_eq!(
        hans,
        Contact {
            address: "hans@example.de".into(),
            name: Some("Hans Müller".into()),
            country: Some("DE".into()),
            timezone: Some("Europe/Berlin".into()),
            established: true,
            source: ContactSource::Import,
            updated_at: t0() + t_days(1),
        }
    );
    let suzuki = s.contact("suzuki@example.jp").await.unwrap().unwrap();
    assert_eq!(suzuki.name.as_deref(), Some("Suzuki, Ichiro"));
    assert!(suzuki.established);
    assert!(s.contact("li@example.cn").await.unwrap().is_none());

    // Upsert: unknown (None) fields keep what is stored.
    s.upsert_contact(&Contact {
        address: "suzuki@example.jp".into(),
        name: None,
        country: None,
        timezone: Some("Asia/Tokyo".into()),
        established: false,
        source: ContactSource::Manual,
        updated_at: t0() + t_days(2),
    })
    .await
    .unwrap();
    let suzuki = s.contact("suzuki@example.jp").await.unwrap().unwrap();
    assert_eq!(suzuki.name.as_deref(), Some("Suzuki, Ichiro"));
    assert_eq!(suzuki.country.as_deref(), Some("JP"));
    assert!(suzuki.established);
    assert_eq!(suzuki.source, ContactSource::Manual);

    // A new contact from a file, not established.
    s.upsert_contact(&Contact {
        address: "new@example.fr".into(),
        name: Some("Claire".into()),
        country: Some("FR".into()),
        timezone: None,
        established: false,
        source: ContactSource::Import,
        updated_at: t0(),
    })
    .await
    .unwrap();
    assert!(
        !s.contact("new@example.fr")
            .await
            .unwrap()
            .unwrap()
            .established
    );
}

/// The courier suppresses a recipient the upstream says does not exist,
/// and only that one: a full mailbox or a policy refusal says nothing about
/// whether the address is real.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_bounces_feed_the_suppression_list() {
    common::install_crypto();
    let up = TestUpstream::start(Opts {
        rules: vec![
            Rule::rcpt("gone@example.org", 550, "5.1.1 no such user here"),
            Rule::rcpt("disabled@example.org", 550, "5.2.1 account disabled"),
            Rule::rcpt("full@example.org", 552, "5.2.2 mailbox full"),
            Rule::rcpt("policy@example.org", 550, "5.7.1 message refused by policy"),
        ],
        ..Opts::default()
    })
    .await;
    let mut config = Config::default();
    config.server.hostname = "relay.test".into();
    config.upstream.url = Some(up.url());
    config.upstream.timeout = Duration::from_secs(5);
    config.relay.poll_interval = Duration::from_millis(50);
    let rig = common::courier::start(config).await;
    let rcpts = [
        "gone@example.org",
        "disabled@example.org",
        "full@example.org",
        "policy@example.org",
        "fine@example.org",
    ];
    let id = rig.enqueue("seller@shop.example", &rcpts, "quote").await;
    let states: Vec<(String, DeliveryState)> = rig
        .settled_within(id, Duration::from_secs(15))
        .await
        .into_iter()
        .map(|(rcpt, state, _)| (rcpt, state))
        .collect();
    let (store, _dir) = rig.stop().await;

    for (rcpt, state) in &states {
        let want = if rcpt == "fine@example.org" {
            DeliveryState::Delivered
        } else {
            DeliveryState::Bounced
        };
        assert_eq!(*state, want, "{rcpt}");
    }
    let gone = store
        .suppression("gone@example.org")
        .await
        .unwrap()
        .expect("the unknown user is suppressed");
    assert_eq!(gone.source, SuppressionSource::Bounce);
    assert!(
        gone.reason.contains("550 5.1.1") && gone.reason.contains("no such user"),
        "{}",
        gone.reason
    );
    let reply = suppressed_reply(
        &store
            .suppression("Gone@example.org")
            .await
            .unwrap()
            .expect("refused at RCPT next time"),
    );
    assert!(
        reply
            .text
            .starts_with("<gone@example.org> is suppressed since ")
            && reply.text.ends_with("no such user here [RCPT_SUPPRESSED]"),
        "{}",
        reply.text
    );
    assert!(
        store
            .suppression("disabled@example.org")
            .await
            .unwrap()
            .is_some()
    );
    for kept in ["full@example.org", "policy@example.org", "fine@example.org"] {
        assert!(
            store.suppression(kept).await.unwrap().is_none(),
            "{kept} must not be suppressed"
        );
    }
    up.stop().await;
    store.close().await;
}

/// A queue made before the suppression tables existed (schema version 1)
/// gets them when a new sendwell opens it, and keeps its messages.
#[tokio::test]
async fn migration_adds_tables_to_an_existing_queue() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("old.db");
    let url = format!("sqlite://{}", path.display());
    let mut conn = sqlx::SqliteConnection::connect(&format!("{url}?mode=rwc"))
        .await
        .expect("create an old-style database");
    for stmt in include_str!("../migrations/sqlite/0001_queue.sql").split(';') {
        let body: String = stmt
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n");
        if !body.trim().is_empty() {
            sqlx::query(sqlx::AssertSqlSafe(body))
                .execute(&mut conn)
                .await
                .expect("version 1 DDL");
        }
    }
    for stmt in [
        "CREATE TABLE schema_version (version BIGINT NOT NULL)",
        "INSERT INTO schema_version (version) VALUES (1)",
        "INSERT INTO messages (mail_from, data, received_at, client, size) \
         VALUES ('seller@shop.example', x'41', 0, 'old', 1)",
    ] {
        sqlx::query(stmt).execute(&mut conn).await.expect(stmt);
    }
    conn.close().await.expect("close");

    let store = Store::open(&url, 2).await.expect("open and migrate");
    let old = store
        .message(sendwell::store::MessageId(1))
        .await
        .unwrap()
        .expect("the old message is still there");
    assert_eq!(old.mail_from, "seller@shop.example");
    assert!(
        store
            .suppress("x@example.com", "r", SuppressionSource::Manual, t0(), None)
            .await
            .unwrap()
    );
    assert!(store.mark_established("x@example.com", t0()).await.unwrap());
    store.close().await;
}
