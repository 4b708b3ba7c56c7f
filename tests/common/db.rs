//! Throwaway databases for store tests: SQLite always (a file in a temp
//! dir), PostgreSQL when `SENDWELL_TEST_POSTGRES_URL` is set (a database per
//! test, dropped afterwards, so tests run in parallel and re-run cleanly).
//! Without that variable the PostgreSQL half is skipped with a message,
//! unless `CI=true`, where a skip is a failure.

use sendwell::store::Store;
use sqlx::Connection;

pub const PG_ENV: &str = "SENDWELL_TEST_POSTGRES_URL";

/// A store under test and the URL it was opened with (to reopen it).
pub struct Db {
    pub store: Store,
    pub url: String,
    // Keeps the SQLite folder alive; drops (and removes) it after the test.
    _dir: Option<tempfile::TempDir>,
    pg: Option<PgGuard>,
}

impl Db {
    pub async fn sqlite() -> Db {
        let dir = tempfile::tempdir().expect("a temp dir for the test database");
        // A folder that does not exist yet: open must create it.
        let url = format!("sqlite://{}", dir.path().join("data/queue.db").display());
        let store = Store::open(&url, 8).await.expect("open the SQLite store");
        Db {
            store,
            url,
            _dir: Some(dir),
            pg: None,
        }
    }

    pub async fn postgres(test: &str) -> Option<Db> {
        let Ok(base) = std::env::var(PG_ENV) else {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!(
                    "{PG_ENV} must be set when CI=true: the PostgreSQL store tests may not be skipped"
                );
            }
            eprintln!("skipping PostgreSQL store tests: {PG_ENV} not set");
            return None;
        };
        let name = format!(
            "sendwell_t_{}_{}_{:08x}",
            test,
            std::process::id(),
            rand::random::<u32>()
        );
        let mut admin = sqlx::PgConnection::connect(&base)
            .await
            .expect("connect to the test PostgreSQL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut admin)
            .await
            .expect("create a database for the test");
        let _ = admin.close().await;
        let guard = PgGuard {
            base: base.clone(),
            name: name.clone(),
        };
        let url = with_database(&base, &name);
        let store = Store::open(&url, 8)
            .await
            .expect("open the PostgreSQL store");
        Some(Db {
            store,
            url,
            _dir: None,
            pg: Some(guard),
        })
    }

    pub async fn finish(self) {
        self.store.close().await;
        drop(self.pg);
    }
}

/// Drops the test's database, also when the test panicked.
pub struct PgGuard {
    base: String,
    name: String,
}

impl Drop for PgGuard {
    fn drop(&mut self) {
        let (base, name) = (self.base.clone(), self.name.clone());
        // Drop runs inside the test's runtime: use a fresh one on a thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&base).await.ok()?;
                let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&mut admin)
                    .await
                    .ok()?;
                admin.close().await.ok()
            })
        })
        .join();
    }
}

/// The same server URL with another database name.
pub fn with_database(base: &str, name: &str) -> String {
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (base, None),
    };
    let after_scheme = head.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = head[after_scheme..]
        .find('/')
        .map(|i| i + after_scheme)
        .unwrap_or(head.len());
    let mut url = format!("{}/{}", &head[..host_end], name);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}
