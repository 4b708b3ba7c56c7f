//! A courier under test: the real `Courier` over a real SQLite store in a
//! temp dir, sending through whatever upstream the config names (usually the
//! `TestUpstream`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use sendwell::clock::SystemClock;
use sendwell::config::Config;
use sendwell::relay::courier::Reconfigure;
use sendwell::relay::{self, Courier};
use sendwell::shutdown::{self, Trigger};
use sendwell::store::{DeliveryState, MessageId, NewDelivery, NewMessage, Store};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// How long a courier test waits for anything.
pub const WAIT: Duration = Duration::from_secs(10);

/// A courier config for quick tests, sending to `upstream_url`: retries
/// after 100 ms, polls every 50 ms, two connections, a 30 s lease.
pub fn config(upstream_url: String) -> Config {
    super::install_crypto();
    let mut c = Config::default();
    c.server.hostname = "relay.test".into();
    c.upstream.url = Some(upstream_url);
    c.upstream.timeout = Duration::from_secs(2);
    c.upstream.connections = 2;
    c.relay.retry_schedule = vec![Duration::from_millis(100)];
    c.relay.poll_interval = Duration::from_millis(50);
    c.relay.lease = Duration::from_secs(30);
    c
}

pub struct Rig {
    pub store: Store,
    /// Hands the running courier a new config and upstream (a reload).
    pub reconfigure: Reconfigure,
    pub wakeup: Arc<Notify>,
    trigger: Trigger,
    courier: JoinHandle<()>,
    _dir: tempfile::TempDir,
}

/// A courier over a fresh SQLite store in a temp dir, running until [`Rig::stop`].
pub async fn start(c: Config) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("queue.db").display());
    let store = Store::open(&url, 4).await.expect("open store");
    let upstream = relay::build_upstreams(&c).expect("upstream");
    let wakeup = Arc::new(Notify::new());
    let (trigger, shutdown) = shutdown::channel();
    let courier = Courier::new(
        Arc::new(c),
        store.clone(),
        upstream,
        Arc::new(SystemClock),
        wakeup.clone(),
    );
    let reconfigure = courier.reconfigure();
    let courier = tokio::spawn(courier.run(shutdown));
    Rig {
        store,
        reconfigure,
        wakeup,
        trigger,
        courier,
        _dir: dir,
    }
}

impl Rig {
    pub async fn enqueue(&self, from: &str, rcpts: &[&str], subject: &str) -> MessageId {
        let now = Timestamp::now();
        let data = format!(
            "From: <{from}>\r\nTo: <{}>\r\nSubject: {subject}\r\nMessage-ID: <{subject}@shop.example>\r\n\r\nHello.\r\n.dot line\r\n",
            rcpts.join(">, <")
        );
        let msg = NewMessage {
            mail_from: from.into(),
            data: data.into_bytes(),
            received_at: now,
            client: "127.0.0.1:1".into(),
            auth_user: None,
            message_id_header: None,
            subject: Some(subject.into()),
            report: None,
            route: "default".into(),
            deliveries: rcpts
                .iter()
                .map(|r| NewDelivery {
                    rcpt: r.to_string(),
                    deliver_at: now,
                    state: DeliveryState::Queued,
                    wait: None,
                })
                .collect(),
        };
        let (id, _) = self.store.enqueue(msg).await.expect("enqueue");
        self.wakeup.notify_one();
        id
    }

    pub async fn states(&self, id: MessageId) -> Vec<(String, DeliveryState, u32)> {
        let m = self
            .store
            .message(id)
            .await
            .unwrap()
            .expect("message exists");
        m.deliveries
            .into_iter()
            .map(|d| (d.rcpt, d.state, d.attempts))
            .collect()
    }

    /// Waits until no delivery of `id` is in a non-final state.
    pub async fn settled(&self, id: MessageId) -> Vec<(String, DeliveryState, u32)> {
        self.settled_within(id, WAIT).await
    }

    /// [`Rig::settled`] with its own limit.
    pub async fn settled_within(
        &self,
        id: MessageId,
        limit: Duration,
    ) -> Vec<(String, DeliveryState, u32)> {
        let start = Instant::now();
        loop {
            let s = self.states(id).await;
            if s.iter().all(|(_, st, _)| st.is_final()) {
                return s;
            }
            assert!(start.elapsed() < limit, "message {id} never settled: {s:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the courier; the store (and its folder) stay usable.
    pub async fn stop(self) -> (Store, tempfile::TempDir) {
        self.trigger.fire();
        tokio::time::timeout(WAIT, self.courier)
            .await
            .expect("courier stops")
            .expect("courier did not panic");
        (self.store, self._dir)
    }
}
