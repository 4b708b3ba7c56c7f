//! The courier end to end: a real SQLite store in a temp dir, the real
//! `SmtpUpstream`, and the test upstream as the smarthost.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::courier::{WAIT, config, start};
use common::upstream::{Opts, Received, Rule, TestUpstream};
use jiff::Timestamp;
use sendwell::clock::SystemClock;
use sendwell::relay::{self, Courier};
use sendwell::shutdown::{self};
use sendwell::store::{DeliveryState, NewDelivery, NewMessage, Store};
use tokio::sync::Notify;

fn reports(got: &[Received]) -> Vec<&Received> {
    got.iter().filter(|m| m.mail_from.is_empty()).collect()
}

#[tokio::test]
async fn delivers_one_transaction_per_message() {
    let up = TestUpstream::start(Opts::default()).await;
    let rig = start(config(up.url())).await;
    let id = rig
        .enqueue(
            "seller@shop.example",
            &["a@example.org", "b@example.org"],
            "order-1",
        )
        .await;
    let got = up.wait_for(1, WAIT).await;
    assert_eq!(
        got[0].rcpt_to,
        ["a@example.org", "b@example.org"],
        "both recipients in one transaction"
    );
    let stored = rig.store.message_data(id).await.unwrap();
    assert_eq!(
        got[0].data, stored,
        "the upstream receives the stored bytes exactly"
    );
    let s = rig.settled(id).await;
    assert!(
        s.iter().all(|(_, st, _)| *st == DeliveryState::Delivered),
        "{s:?}"
    );
    rig.stop().await;
}

#[tokio::test]
async fn wakeup_starts_delivery_without_waiting_for_the_poll() {
    let up = TestUpstream::start(Opts::default()).await;
    let mut c = config(up.url());
    c.relay.poll_interval = Duration::from_secs(30);
    let rig = start(c).await;
    tokio::time::sleep(Duration::from_millis(100)).await; // courier is idle now
    let t = Instant::now();
    rig.enqueue("seller@shop.example", &["a@example.org"], "prompt")
        .await;
    up.wait_for(1, Duration::from_secs(5)).await;
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "took {:?}",
        t.elapsed()
    );
    rig.stop().await;
}

#[tokio::test]
async fn temporary_failure_is_retried_then_delivered() {
    let up = TestUpstream::start(Opts {
        rules: vec![Rule::rcpt("grey@example.org", 451, "4.7.1 greylisted, try later").times(1)],
        ..Opts::default()
    })
    .await;
    let rig = start(config(up.url())).await;
    let id = rig
        .enqueue("seller@shop.example", &["grey@example.org"], "grey")
        .await;
    let s = rig.settled(id).await;
    assert_eq!(
        s,
        vec![("grey@example.org".to_string(), DeliveryState::Delivered, 1)]
    );
    let got = up.messages();
    assert_eq!(got.len(), 1, "delivered once, no report: {got:?}");
    rig.stop().await;
}

#[tokio::test]
async fn permanent_failures_bounce_once_per_message_to_the_sender() {
    let up = TestUpstream::start(Opts {
        rules: vec![
            Rule::rcpt("nobody@example.org", 550, "5.1.1 no such user"),
            Rule::rcpt("closed@example.org", 550, "5.2.1 mailbox disabled"),
        ],
        ..Opts::default()
    })
    .await;
    let rig = start(config(up.url())).await;
    let id = rig
        .enqueue(
            "seller@shop.example",
            &["nobody@example.org", "ok@example.org", "closed@example.org"],
            "bounce-me",
        )
        .await;
    let s = rig.settled(id).await;
    let st: Vec<DeliveryState> = s.iter().map(|x| x.1).collect();
    assert_eq!(
        st,
        [
            DeliveryState::Bounced,
            DeliveryState::Delivered,
            DeliveryState::Bounced
        ],
        "{s:?}"
    );

    let got = up.wait_for(2, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got_all = up.messages();
    assert_eq!(
        got_all.len(),
        2,
        "the message and exactly one report: {got:?}"
    );
    let r = reports(&got_all);
    assert_eq!(r.len(), 1);
    let dsn = r[0];
    assert_eq!(dsn.rcpt_to, ["seller@shop.example"]);
    let text = dsn.text();
    assert!(
        text.contains("Content-Type: multipart/report; report-type=delivery-status"),
        "{text}"
    );
    assert!(
        text.contains(
            "Final-Recipient: rfc822; nobody@example.org\r\nAction: failed\r\nStatus: 5.1.1"
        ),
        "{text}"
    );
    assert!(
        text.contains("Diagnostic-Code: smtp; 550 5.1.1 no such user"),
        "{text}"
    );
    assert!(
        text.contains("Final-Recipient: rfc822; closed@example.org"),
        "{text}"
    );
    assert!(
        !text.contains("Final-Recipient: rfc822; ok@example.org"),
        "{text}"
    );
    assert!(text.contains("Reporting-MTA: dns; relay.test"), "{text}");
    assert!(
        text.contains("Subject: bounce-me"),
        "original headers are returned: {text}"
    );
    rig.stop().await;
}

#[tokio::test]
async fn temporary_failures_past_the_lifetime_bounce() {
    let up = TestUpstream::start(Opts {
        rules: vec![Rule::rcpt(
            "down@example.org",
            451,
            "4.4.1 mailbox host not responding",
        )],
        ..Opts::default()
    })
    .await;
    let mut c = config(up.url());
    c.relay.max_lifetime = Duration::from_millis(600);
    let rig = start(c).await;
    let id = rig
        .enqueue("seller@shop.example", &["down@example.org"], "expire")
        .await;
    let s = rig.settled(id).await;
    assert_eq!(s[0].1, DeliveryState::Bounced, "{s:?}");
    assert!(s[0].2 >= 2, "it was retried before expiring: {s:?}");
    let m = rig.store.message(id).await.unwrap().unwrap();
    let reply = m.deliveries[0].last_reply.clone().unwrap_or_default();
    assert!(
        reply.contains("expired") && reply.contains("451 4.4.1"),
        "{reply}"
    );

    let got = up.wait_for(1, WAIT).await;
    let dsn = reports(&got)[0];
    assert_eq!(dsn.rcpt_to, ["seller@shop.example"]);
    let text = dsn.text();
    assert!(text.contains("Action: failed\r\nStatus: 4.4.7"), "{text}");
    assert!(
        text.contains("Diagnostic-Code: smtp; 451 4.4.1 mailbox host not responding"),
        "{text}"
    );
    rig.stop().await;
}

#[tokio::test]
async fn the_null_sender_is_never_bounced_or_warned() {
    let up = TestUpstream::start(Opts {
        rules: vec![
            Rule::rcpt("nobody@example.org", 550, "5.1.1 no such user"),
            Rule::rcpt("slow@example.org", 451, "4.7.1 later"),
        ],
        ..Opts::default()
    })
    .await;
    let mut c = config(up.url());
    c.relay.max_lifetime = Duration::from_millis(500);
    c.relay.delay_notice_after = Duration::from_millis(100);
    let rig = start(c).await;
    let id = rig
        .enqueue(
            "",
            &["nobody@example.org", "slow@example.org"],
            "report-of-a-report",
        )
        .await;
    let s = rig.settled(id).await;
    assert!(s.iter().all(|x| x.1 == DeliveryState::Bounced), "{s:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        up.messages().is_empty(),
        "nothing may be sent about a null-sender message: {:?}",
        up.messages()
    );
    let counts = rig.store.counts().await.unwrap();
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    assert_eq!(total, 2, "no report was queued: {counts:?}");
    rig.stop().await;
}

#[tokio::test]
async fn one_delay_warning_then_delivery() {
    let up = TestUpstream::start(Opts {
        rules: vec![Rule::rcpt("slow@example.org", 452, "4.2.2 mailbox full")],
        ..Opts::default()
    })
    .await;
    let mut c = config(up.url());
    c.relay.delay_notice_after = Duration::from_millis(200);
    let rig = start(c).await;
    let id = rig
        .enqueue("seller@shop.example", &["slow@example.org"], "late")
        .await;
    let got = up.wait_for(1, WAIT).await;
    let warn = reports(&got)[0];
    assert_eq!(warn.rcpt_to, ["seller@shop.example"]);
    let text = warn.text();
    assert!(text.contains("Action: delayed\r\nStatus: 4.2.2"), "{text}");
    assert!(text.contains("Will-Retry-Until:"), "{text}");

    // Keep failing for a while: still only one warning.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        reports(&up.messages()).len(),
        1,
        "the delay warning is sent once"
    );
    let s = rig.states(id).await;
    assert!(s[0].2 >= 3, "several retries happened meanwhile: {s:?}");

    up.set_rules(Vec::new());
    let s = rig.settled(id).await;
    assert_eq!(s[0].1, DeliveryState::Delivered);
    let all = up.messages();
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[1].rcpt_to, ["slow@example.org"]);
    rig.stop().await;
}

#[tokio::test]
async fn outage_then_recovery_delivers_everything_once() {
    let port = TestUpstream::free_port().await;
    let rig = start(config(format!("smtp://127.0.0.1:{port}"))).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let rcpts = [format!("r{i}a@example.org"), format!("r{i}b@example.org")];
        let rcpts: Vec<&str> = rcpts.iter().map(String::as_str).collect();
        ids.push(
            rig.enqueue("seller@shop.example", &rcpts, &format!("outage-{i}"))
                .await,
        );
    }
    // Upstream down: everything waits, deferred, nothing bounced.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for id in &ids {
        for (r, st, attempts) in rig.states(*id).await {
            assert!(!st.is_final(), "{r} is {st} during the outage");
            let _ = attempts;
        }
    }
    let up = TestUpstream::start_on(port, Opts::default()).await;
    let got = up.wait_for(20, WAIT).await;
    for id in &ids {
        let s = rig.settled(*id).await;
        assert!(
            s.iter()
                .all(|x| x.1 == DeliveryState::Delivered && x.2 >= 1),
            "{s:?}"
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got_all = up.messages();
    assert_eq!(got_all.len(), 20, "each message exactly once: {got:?}");
    let mut rcpts: Vec<String> = got_all.iter().flat_map(|m| m.rcpt_to.clone()).collect();
    rcpts.sort();
    rcpts.dedup();
    assert_eq!(rcpts.len(), 40, "every recipient once");
    assert!(
        reports(&got_all).is_empty(),
        "an outage shorter than the lifetime bounces nothing"
    );

    // And a second outage on the same port.
    up.stop().await;
    let id = rig
        .enqueue(
            "seller@shop.example",
            &["late@example.org"],
            "second-outage",
        )
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!rig.states(id).await[0].1.is_final());
    up.restart().await;
    rig.settled(id).await;
    assert_eq!(up.wait_for(21, WAIT).await.len(), 21);
    rig.stop().await;
}

#[tokio::test]
async fn shutdown_finishes_the_attempt_under_way_and_releases_the_rest() {
    // A silent upstream keeps the first attempt busy until the timeout.
    let up = TestUpstream::start(Opts {
        silent: true,
        ..Opts::default()
    })
    .await;
    let mut c = config(up.url());
    c.upstream.connections = 1;
    c.upstream.timeout = Duration::from_millis(700);
    let rig = start(c).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            rig.enqueue(
                "seller@shop.example",
                &[&format!("r{i}@example.org")],
                &format!("s{i}"),
            )
            .await,
        );
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t = Instant::now();
    let (store, _dir) = rig.stop().await;
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "shutdown took {:?}",
        t.elapsed()
    );
    let mut attempted = 0;
    for id in ids {
        let m = store.message(id).await.unwrap().unwrap();
        for d in m.deliveries {
            assert_ne!(
                d.state,
                DeliveryState::Delivering,
                "a claim was left behind: {d:?}"
            );
            assert!(!d.state.is_final(), "{d:?}");
            if d.attempts > 0 {
                attempted += 1;
                assert!(d.last_reply.unwrap_or_default().contains("timed out"));
            }
        }
    }
    assert_eq!(attempted, 1, "exactly the attempt under way was recorded");
}

/// Store → courier → upstream throughput. Run with
/// `cargo test --release --test relay_courier -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement, not a check"]
async fn courier_throughput() {
    for conns in [1usize, 4, 8] {
        let up = TestUpstream::start(Opts::default()).await;
        let mut c = config(up.url());
        c.upstream.connections = conns;
        // Queue everything first, then start the courier on a full queue.
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("queue.db").display());
        let store = Store::open(&url, 4).await.expect("open store");
        let n = 3000;
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..n {
            let store = store.clone();
            tasks.spawn(async move {
                let now = Timestamp::now();
                let data = format!("Subject: t{i}\r\n\r\n{}\r\n", "x".repeat(2000)).into_bytes();
                store
                    .enqueue(NewMessage {
                        mail_from: "seller@shop.example".into(),
                        data,
                        received_at: now,
                        client: "127.0.0.1:1".into(),
                        auth_user: None,
                        message_id_header: None,
                        subject: None,
                        report: None,
                        route: "default".into(),
                        deliveries: vec![NewDelivery {
                            rcpt: format!("r{i}@example.org"),
                            deliver_at: now,
                            state: DeliveryState::Queued,
                            wait: None,
                        }],
                    })
                    .await
                    .expect("enqueue")
            });
        }
        while tasks.join_next().await.is_some() {}
        let upstream = relay::build_upstreams(&c).expect("upstream");
        let (trigger, shutdown) = shutdown::channel();
        let courier = Courier::new(
            Arc::new(c),
            store.clone(),
            upstream,
            Arc::new(SystemClock),
            Arc::new(Notify::new()),
        );
        let t = Instant::now();
        let h = tokio::spawn(courier.run(shutdown));
        up.wait_for(n, Duration::from_secs(120)).await;
        let sent = t.elapsed().as_secs_f64();
        // Until the store says so, too.
        loop {
            let counts = store.counts().await.unwrap();
            let done = counts
                .iter()
                .find(|(s, _)| *s == DeliveryState::Delivered)
                .map_or(0, |x| x.1);
            if done == n as u64 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let recorded = t.elapsed().as_secs_f64();
        trigger.fire();
        h.await.unwrap();
        println!(
            "courier connections={conns}: {n} queued messages delivered in {sent:.2}s ({:.0} msg/s), all recorded in {recorded:.2}s ({:.0} msg/s)",
            n as f64 / sent,
            n as f64 / recorded
        );
    }
}

#[tokio::test]
async fn an_attempt_that_outlives_its_lease_is_not_started_twice() {
    let up = TestUpstream::start(Opts {
        data_delay: Duration::from_millis(900),
        ..Opts::default()
    })
    .await;
    let mut c = config(up.url());
    c.relay.lease = Duration::from_millis(200);
    let rig = start(c).await;
    let id = rig
        .enqueue("seller@shop.example", &["a@example.org"], "slow")
        .await;
    let s = rig.settled(id).await;
    assert_eq!(s[0].1, DeliveryState::Delivered, "{s:?}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        up.messages().len(),
        1,
        "sent twice while the first attempt ran"
    );
    rig.stop().await;
}

/// Issue 10: sendwell's own mail goes out as the route's login. Behind an
/// upstream that refuses any sender but its login (as Microsoft 365 does
/// with `550 5.7.60`), a hold notice and a bounce report reach the seller,
/// From the login, marked auto-submitted, the report still RFC 3464.
#[tokio::test]
async fn own_mail_reaches_the_seller_through_an_upstream_that_sends_only_as_its_login() {
    let login = "li@shop.example";
    let up = TestUpstream::start(Opts {
        auth: Some((login.into(), "secret".into())),
        only_sender: Some(login.into()),
        rules: vec![Rule::rcpt("nobody@example.org", 550, "5.1.1 no such user")],
        ..Opts::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "secret\n").unwrap();
    let mut c = config(up.url());
    c.upstream.username = Some(login.into());
    c.upstream.password_file = Some(pw);
    let rig = start(c.clone()).await;

    // A hold notice, built and queued as the gateway does.
    let now = Timestamp::now();
    let raw = sendwell::message::notice::build(&sendwell::message::notice::Notice {
        host: &c.server.hostname,
        from: c.own_sender(),
        to: login,
        subject: "Your message is held for review",
        body: "held",
        in_reply_to: None,
        now,
    });
    sendwell::notices::queue_notice(&rig.store, "default", login, raw, now)
        .await
        .unwrap();
    rig.wakeup.notify_one();
    // A message whose recipient does not exist: its bounce report.
    rig.enqueue(login, &["nobody@example.org"], "order-1").await;

    let got = up.wait_for(2, WAIT).await;
    assert!(
        got.iter().all(|m| m.mail_from == login),
        "own mail goes out as the login: {:?}",
        got.iter().map(|m| &m.mail_from).collect::<Vec<_>>()
    );
    let notice = got
        .iter()
        .find(|m| m.text().contains("held for review"))
        .expect("the hold notice arrived");
    let text = notice.text();
    assert!(text.contains("From: sendwell <li@shop.example>"), "{text}");
    assert!(text.contains("Auto-Submitted: auto-generated"), "{text}");
    let report = got
        .iter()
        .find(|m| m.text().contains("multipart/report"))
        .expect("the bounce report arrived");
    let text = report.text();
    assert!(
        text.contains("From: Mail Delivery System <li@shop.example>"),
        "{text}"
    );
    assert!(text.contains("report-type=delivery-status"), "{text}");
    assert!(
        text.contains("Final-Recipient: rfc822; nobody@example.org"),
        "{text}"
    );
    assert!(text.contains("Auto-Submitted: auto-replied"), "{text}");
    rig.stop().await;
}
