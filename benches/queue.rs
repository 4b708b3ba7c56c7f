//! The hot table stays small (issue 15 §4): enqueue and claim with 10^3,
//! 10^5 and 10^6 rows already in `deliveries` (half finished, half waiting
//! for a later day), on SQLite and on PostgreSQL, and the claim's plan at
//! each size. Rows are filled with one `INSERT … SELECT` (generate_series,
//! a recursive CTE on SQLite), not through the API.
//!
//! Plain harness: `cargo bench --bench queue` (release), or
//! `cargo test --bench queue` for a debug build. PostgreSQL is measured when
//! `SENDWELL_TEST_POSTGRES_URL` is set (a database per size, dropped
//! afterwards), skipped with a message otherwise.
//!
//! Environment: `SENDWELL_BENCH_SIZES` (default `1000,100000,1000000`);
//! `SENDWELL_BENCH_BLOAT=N` instead measures PostgreSQL's bloat after N
//! deliveries through the API (dead rows, table size before and after
//! vacuum).

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use sendwell::store::{DeliveryState, NewDelivery, NewMessage, Outcome, Store};
use sqlx::{AnyPool, Connection, Row};

const PG_ENV: &str = "SENDWELL_TEST_POSTGRES_URL";
/// Messages enqueued, then claimed, at each size.
const MEASURED: usize = 2000;
/// Copies one claim asks for (what the courier asks when it has room).
const CLAIM_BATCH: usize = 20;
/// Concurrent enqueuers (SMTP sessions at once).
const ENQUEUERS: usize = 16;
const LEASE: Duration = Duration::from_secs(300);

fn message(i: usize, now: Timestamp) -> NewMessage {
    NewMessage {
        mail_from: "li@shop.example".into(),
        data: format!("Subject: order {i}\r\n\r\nYour parcel left our warehouse today.\r\n")
            .into_bytes(),
        received_at: now,
        client: "127.0.0.1".into(),
        auth_user: None,
        message_id_header: None,
        subject: Some(format!("order {i}")),
        report: None,
        route: "default".into(),
        deliveries: vec![NewDelivery {
            rcpt: format!("buyer{i}@buyer.example"),
            deliver_at: now,
            state: DeliveryState::Queued,
            wait: None,
        }],
    }
}

/// A database to measure in, dropped afterwards (PostgreSQL) or in a temp
/// folder (SQLite).
struct Db {
    url: String,
    pg: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl Db {
    fn sqlite() -> Db {
        let dir = tempfile::tempdir().expect("a temp dir");
        Db {
            url: format!("sqlite://{}", dir.path().join("queue.db").display()),
            pg: None,
            _dir: Some(dir),
        }
    }

    async fn postgres(base: &str, tag: &str) -> Db {
        let name = format!("sendwell_bench_{tag}_{}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(base).await.expect("connect");
        let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut admin)
            .await
            .expect("drop");
        let sql = format!("CREATE DATABASE \"{name}\"");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut admin)
            .await
            .expect("create");
        let _ = admin.close().await;
        let url = match base.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("{PG_ENV} has no database part"),
        };
        Db {
            url,
            pg: Some((base.to_string(), name)),
            _dir: None,
        }
    }

    async fn drop_pg(&self) {
        if let Some((base, name)) = &self.pg {
            let mut admin = sqlx::PgConnection::connect(base).await.expect("connect");
            let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut admin)
                .await;
        }
    }
}

/// `n` copies of one message: half delivered (finished over the last
/// days), the rest waiting for later days (queued, deferred, held), as a
/// long-running queue holds them.
async fn fill(pool: &AnyPool, postgres: bool, n: usize, now: Timestamp) {
    let now = now.as_millisecond();
    let data = if postgres { "'\\x41'::bytea" } else { "X'41'" };
    let sql = format!(
        "INSERT INTO messages (mail_from, data, received_at, client, size) \
         VALUES ('li@shop.example', {data}, {now}, '127.0.0.1', 1)"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(pool)
        .await
        .expect("the message");
    let series = if postgres {
        format!("generate_series(1::BIGINT, {n}) AS s(g)")
    } else {
        format!(
            "(WITH RECURSIVE c(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM c WHERE g < {n}) \
             SELECT g FROM c)"
        )
    };
    let day = 86_400_000;
    let sql = format!(
        "INSERT INTO deliveries (message_id, rcpt, state, deliver_at, first_due_at, attempts, \
                                 updated_at, route) \
         SELECT (SELECT MIN(id) FROM messages), 'buyer' || g || '@buyer.example', \
                CASE WHEN g % 10 < 5 THEN 'delivered' WHEN g % 10 < 8 THEN 'queued' \
                     WHEN g % 10 = 8 THEN 'deferred' ELSE 'held' END, \
                CASE WHEN g % 10 < 5 THEN {now} - (g % 7) * {day} - g \
                     ELSE {now} + (1 + g % 30) * {day} + g END, \
                {now} - (g % 7) * {day}, \
                CASE WHEN g % 10 = 8 THEN 1 ELSE 0 END, {now} - (g % 7) * {day}, 'default' \
         FROM {series}"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(pool)
        .await
        .expect("the copies");
    sqlx::query("ANALYZE").execute(pool).await.expect("analyze");
}

struct Measured {
    enqueue_us: f64,
    claim_us: f64,
    idle_claim_us: f64,
    backlog: i64,
    backlog_claim_us: f64,
}

/// Claims made from a backlog (the copies held for business hours, all
/// due at 09:00, or a provider that was paused).
const BACKLOG_CLAIMS: u32 = 100;

async fn measure(store: &Store, pool: &AnyPool) -> Measured {
    // The idle poll: nothing due, however many rows wait or are done.
    let start = Instant::now();
    for _ in 0..200 {
        let got = store
            .claim_due("bench", Timestamp::now(), LEASE, CLAIM_BATCH)
            .await
            .expect("claim");
        assert!(got.is_empty());
    }
    let idle_claim_us = start.elapsed().as_secs_f64() * 1e6 / 200.0;

    let now = Timestamp::now();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for k in 0..ENQUEUERS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in (k..MEASURED).step_by(ENQUEUERS) {
                store.enqueue(message(i, now)).await.expect("enqueue");
            }
        }));
    }
    for t in tasks {
        t.await.expect("join");
    }
    let enqueue_us = start.elapsed().as_secs_f64() * 1e6 / MEASURED as f64;

    let start = Instant::now();
    let mut claims = 0;
    let mut claimed = 0;
    loop {
        let got = store
            .claim_due("bench", Timestamp::now(), LEASE, CLAIM_BATCH)
            .await
            .expect("claim");
        if got.is_empty() {
            break;
        }
        claims += 1;
        claimed += got.len();
    }
    assert_eq!(claimed, MEASURED, "every enqueued copy is claimed once");
    let claim_us = start.elapsed().as_secs_f64() * 1e6 / f64::from(claims);

    // A backlog: a third of the queued copies (a tenth of all) become due.
    let now = Timestamp::now().as_millisecond();
    let sql = format!(
        "UPDATE deliveries SET deliver_at = {now} - id WHERE state = 'queued' AND id % 3 = 0"
    );
    let backlog = sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(pool)
        .await
        .expect("backlog")
        .rows_affected();
    sqlx::query("ANALYZE").execute(pool).await.expect("analyze");
    let start = Instant::now();
    let mut claims = 0;
    while claims < BACKLOG_CLAIMS {
        let got = store
            .claim_due("bench", Timestamp::now(), LEASE, CLAIM_BATCH)
            .await
            .expect("claim");
        if got.is_empty() {
            break;
        }
        claims += 1;
    }
    let backlog_claim_us = start.elapsed().as_secs_f64() * 1e6 / f64::from(claims.max(1));
    Measured {
        enqueue_us,
        claim_us,
        idle_claim_us,
        backlog: i64::try_from(backlog).unwrap_or(i64::MAX),
        backlog_claim_us,
    }
}

async fn one_size(db: &Db, postgres: bool, n: usize, plans: bool) -> Measured {
    let store = Store::open(&db.url, 8).await.expect("open");
    let pool = AnyPool::connect(&db.url)
        .await
        .expect("a pool to fill with");
    let start = Instant::now();
    fill(&pool, postgres, n, Timestamp::now()).await;
    eprintln!(
        "  filled {n} rows in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    if plans {
        for line in store.explain_claim(Timestamp::now()).await.expect("plan") {
            eprintln!("    plan: {line}");
        }
    }
    let m = measure(&store, &pool).await;
    pool.close().await;
    store.close().await;
    m
}

async fn sizes(base: Option<&str>, postgres: bool, list: &[usize]) {
    let name = if postgres { "PostgreSQL" } else { "SQLite" };
    let mut rows = Vec::new();
    for &n in list {
        eprintln!("{name}, {n} rows:");
        let db = match base {
            Some(b) => Db::postgres(b, &n.to_string()).await,
            None => Db::sqlite(),
        };
        let m = one_size(&db, postgres, n, true).await;
        db.drop_pg().await;
        rows.push((n, m));
    }
    println!(
        "\n{name}: {MEASURED} messages enqueued by {ENQUEUERS} at once, then claimed {CLAIM_BATCH} at a time"
    );
    println!(
        "| rows in deliveries | enqueue (µs/message) | claim (µs/claim of {CLAIM_BATCH}) | idle claim, nothing due (µs) | claim from a backlog (µs, backlog) |"
    );
    println!("|---|---|---|---|---|");
    for (n, m) in rows {
        println!(
            "| {n} | {:.0} | {:.0} | {:.0} | {:.0} ({}) |",
            m.enqueue_us, m.claim_us, m.idle_claim_us, m.backlog_claim_us, m.backlog
        );
    }
}

/// `n` messages of one recipient enqueued by [`ENQUEUERS`] at once, then
/// claimed 100 at a time and recorded as delivered.
async fn deliver_through_api(store: &Arc<Store>, n: usize) {
    let now = Timestamp::now();
    let mut tasks = Vec::new();
    for k in 0..ENQUEUERS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in (k..n).step_by(ENQUEUERS) {
                store.enqueue(message(i, now)).await.expect("enqueue");
            }
        }));
    }
    for t in tasks {
        t.await.expect("join");
    }
    let mut done = 0;
    loop {
        let got = store
            .claim_due("bench", Timestamp::now(), LEASE, 100)
            .await
            .expect("claim");
        if got.is_empty() {
            break;
        }
        let outcomes: Vec<Outcome> = got
            .iter()
            .map(|c| Outcome::Delivered {
                id: c.id,
                reply: "250 2.0.0 OK".into(),
            })
            .collect();
        store
            .finish("bench", &outcomes, Timestamp::now())
            .await
            .expect("finish");
        done += outcomes.len();
    }
    assert_eq!(done, n);
}

/// PostgreSQL after `n` deliveries through the API (enqueue, claim,
/// delivered): dead rows and sizes, then after a vacuum; and once more, to
/// see whether the space a vacuum freed is used again.
async fn bloat(base: &str, n: usize) {
    let db = Db::postgres(base, "bloat").await;
    let store = Store::open(&db.url, 8).await.expect("open");
    let pool = AnyPool::connect(&db.url).await.expect("pool");
    let stats = |label: &'static str| {
        let pool = pool.clone();
        async move {
            // The statistics collector reports with a small delay.
            tokio::time::sleep(Duration::from_secs(1)).await;
            let r = sqlx::query(
                "SELECT n_live_tup, n_dead_tup, pg_total_relation_size('deliveries') AS total, \
                        pg_relation_size('deliveries') AS heap, \
                        COALESCE(to_char(last_autovacuum, 'HH24:MI:SS'), '-') AS autovacuum, \
                        autovacuum_count \
                 FROM pg_stat_user_tables WHERE relname = 'deliveries'",
            )
            .fetch_one(&pool)
            .await
            .expect("stats");
            println!(
                "| {label} | {} | {} | {:.1} | {:.1} | {} ({}) |",
                r.get::<i64, _>("n_live_tup"),
                r.get::<i64, _>("n_dead_tup"),
                r.get::<i64, _>("heap") as f64 / 1048576.0,
                r.get::<i64, _>("total") as f64 / 1048576.0,
                r.get::<String, _>("autovacuum"),
                r.get::<i64, _>("autovacuum_count"),
            );
        }
    };
    println!("\nPostgreSQL, {n} deliveries through the API (enqueue, claim, delivered), twice");
    println!(
        "| when | live rows | dead rows | heap (MiB) | with indexes (MiB) | last autovacuum (count) |"
    );
    println!("|---|---|---|---|---|---|");
    let store = Arc::new(store);
    let autovacuum: String = sqlx::query_scalar("SHOW autovacuum")
        .fetch_one(&pool)
        .await
        .expect("autovacuum setting");
    for round in 1..=2 {
        let start = Instant::now();
        deliver_through_api(&store, n).await;
        eprintln!("round {round}: {:.1} s", start.elapsed().as_secs_f64());
        stats(if round == 1 {
            "1st: delivered"
        } else {
            "2nd: delivered"
        })
        .await;
        if round == 1 && autovacuum == "on" {
            // Autovacuum's default naptime is a minute: give it two.
            let start = Instant::now();
            loop {
                let count: i64 = sqlx::query_scalar(
                    "SELECT autovacuum_count FROM pg_stat_user_tables WHERE relname = 'deliveries'",
                )
                .fetch_one(&pool)
                .await
                .expect("count");
                if count > 0 || start.elapsed() > Duration::from_secs(120) {
                    break;
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            stats("1st: after autovacuum (or 2 min)").await;
        } else if round == 1 {
            println!(
                "| (autovacuum is off on this server: VACUUM by hand, as it would) | | | | | |"
            );
        }
        sqlx::query("VACUUM deliveries")
            .execute(&pool)
            .await
            .expect("vacuum");
        stats(if round == 1 {
            "1st: after VACUUM"
        } else {
            "2nd: after VACUUM"
        })
        .await;
    }
    pool.close().await;
    store.close().await;
    db.drop_pg().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let pg = std::env::var(PG_ENV).ok();
    if let Ok(n) = std::env::var("SENDWELL_BENCH_BLOAT") {
        let n: usize = n.parse().expect("SENDWELL_BENCH_BLOAT is a number");
        match &pg {
            Some(base) => bloat(base, n).await,
            None => eprintln!("SKIPPED: bloat needs PostgreSQL ({PG_ENV} not set)"),
        }
        return;
    }
    let list: Vec<usize> = std::env::var("SENDWELL_BENCH_SIZES")
        .unwrap_or_else(|_| "1000,100000,1000000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("SENDWELL_BENCH_SIZES: numbers"))
        .collect();
    sizes(None, false, &list).await;
    match &pg {
        Some(base) => sizes(Some(base), true, &list).await,
        None => eprintln!("SKIPPED: PostgreSQL ({PG_ENV} not set)"),
    }
}
