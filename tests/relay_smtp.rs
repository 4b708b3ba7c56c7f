//! `SmtpUpstream` and `OutboxUpstream` against real sockets and files: the
//! test upstream plays the smarthost.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::upstream::{Opts, Rule, TestUpstream};
use sendwell::config::Config;
use sendwell::relay::{self, OutboundMessage, RcptResult, Upstream};

fn msg(from: &str, to: &[&str], data: &[u8]) -> OutboundMessage {
    OutboundMessage {
        mail_from: from.to_string(),
        rcpt_to: to.iter().map(|s| s.to_string()).collect(),
        data: Arc::from(data),
    }
}

const PLAIN: &[u8] =
    b"From: seller@shop.example\r\nTo: buyer@example.org\r\nSubject: Your order\r\n\r\nThanks!\r\n";

fn config_for(up: &TestUpstream) -> Config {
    common::install_crypto();
    let mut c = Config::default();
    c.upstream.url = Some(up.url());
    c.upstream.tls_verify = false;
    c.upstream.timeout = Duration::from_secs(5);
    c
}

fn upstream(c: &Config) -> Arc<dyn Upstream> {
    relay::build_upstreams(c)
        .expect("upstream builds")
        .get(relay::DEFAULT_ROUTE)
        .clone()
}

fn delivered(r: &[RcptResult]) -> bool {
    r.iter().all(|r| matches!(r, RcptResult::Delivered(_)))
}

#[tokio::test]
async fn plain_smtp_delivers_byte_exact() {
    let up = TestUpstream::start(Opts::default()).await;
    let u = upstream(&config_for(&up));
    let r = u
        .send(&msg("seller@shop.example", &["buyer@example.org"], PLAIN))
        .await;
    assert!(delivered(&r), "{r:?}");
    let got = up.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got[0].mail_from, "seller@shop.example");
    assert_eq!(got[0].rcpt_to, ["buyer@example.org"]);
    assert_eq!(
        got[0].data, PLAIN,
        "the upstream must receive exactly our bytes (no extra CRLF)"
    );
    assert!(!got[0].tls);
    assert!(!got[0].body_8bitmime && !got[0].smtputf8);
    assert!(u.describe().contains("127.0.0.1"));
}

#[tokio::test]
async fn dots_at_line_starts_survive_and_cannot_end_data() {
    let up = TestUpstream::start(Opts::default()).await;
    let u = upstream(&config_for(&up));
    let data: &[u8] =
        b"Subject: dots\r\n\r\n.leading dot\r\n.\r\n..two\r\nlast line no dot.\r\n\r\n";
    let r = u
        .send(&msg("a@shop.example", &["b@example.org"], data))
        .await;
    assert!(delivered(&r), "{r:?}");
    let got = up.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].data, data);
}

#[tokio::test]
async fn bare_line_ends_with_a_dot_cannot_smuggle_a_second_message() {
    let up = TestUpstream::start(Opts::default()).await;
    let u = upstream(&config_for(&up));
    // Non-canonical input (the gateway canonicalises first; this is the
    // second lock): every SEC Consult end-of-data variant, each followed by
    // a would-be second transaction.
    let smuggle = "MAIL FROM:<evil@attacker.example>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n";
    for sep in ["\n.\n", "\n.\r\n", "\r\n.\n", "\r.\r\n", "\r\n.\r", "\r.\r"] {
        let data = format!("Subject: real\r\n\r\nhello{sep}{smuggle}.\r\nQUIT\r\n");
        let r = u
            .send(&msg("a@shop.example", &["b@example.org"], data.as_bytes()))
            .await;
        assert!(delivered(&r), "{sep:?}: {r:?}");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let got = up.messages();
    assert_eq!(got.len(), 6, "one message in, one message out");
    assert!(
        got.iter()
            .all(|m| m.mail_from == "a@shop.example" && m.rcpt_to == ["b@example.org"])
    );
}

#[tokio::test]
async fn eight_bit_utf8_body_and_headers_announce_their_params() {
    let up = TestUpstream::start(Opts::default()).await;
    let u = upstream(&config_for(&up));
    let data = "Subject: Bestellung Nr. 42 – Größe\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße aus Köln, 您好\r\n".as_bytes();
    let r = u
        .send(&msg("a@shop.example", &["b@example.org"], data))
        .await;
    assert!(delivered(&r), "{r:?}");
    let got = up.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got[0].data, data);
    assert!(
        got[0].body_8bitmime,
        "8-bit body must be sent with BODY=8BITMIME"
    );
    assert!(got[0].smtputf8, "UTF-8 headers must be sent with SMTPUTF8");
}

#[tokio::test]
async fn utf8_address_without_smtputf8_is_refused_for_good() {
    let up = TestUpstream::start(Opts {
        smtputf8: false,
        ..Opts::default()
    })
    .await;
    let u = upstream(&config_for(&up));
    let r = u
        .send(&msg("a@shop.example", &["käufer@example.org"], PLAIN))
        .await;
    assert!(
        matches!(&r[..], [RcptResult::Permanent(t)] if t.contains("SMTPUTF8")),
        "{r:?}"
    );
    assert!(up.messages().is_empty());
}

#[tokio::test]
async fn starttls_when_offered() {
    let up = TestUpstream::start(Opts {
        starttls: true,
        ..Opts::default()
    })
    .await;
    let u = upstream(&config_for(&up));
    let r = u
        .send(&msg("a@shop.example", &["b@example.org"], PLAIN))
        .await;
    assert!(delivered(&r), "{r:?}");
    let got = up.wait_for(1, Duration::from_secs(5)).await;
    assert!(
        got[0].tls,
        "STARTTLS was offered, so the transaction must run over TLS"
    );
    assert_eq!(got[0].data, PLAIN);
}

#[tokio::test]
async fn require_tls_refuses_a_plain_upstream() {
    let up = TestUpstream::start(Opts::default()).await;
    let mut c = config_for(&up);
    c.upstream.require_tls = true;
    let u = upstream(&c);
    let r = u
        .send(&msg(
            "a@shop.example",
            &["b@example.org", "c@example.org"],
            PLAIN,
        ))
        .await;
    assert_eq!(r.len(), 2);
    assert!(
        r.iter()
            .all(|x| matches!(x, RcptResult::Transient(t) if t.contains("STARTTLS"))),
        "{r:?}"
    );
    assert!(up.messages().is_empty());
}

#[tokio::test]
async fn implicit_tls() {
    let up = TestUpstream::start(Opts {
        implicit_tls: true,
        ..Opts::default()
    })
    .await;
    let c = config_for(&up);
    assert!(
        c.upstream
            .url
            .as_deref()
            .unwrap_or("")
            .starts_with("smtps://")
    );
    let u = upstream(&c);
    let r = u
        .send(&msg("a@shop.example", &["b@example.org"], PLAIN))
        .await;
    assert!(delivered(&r), "{r:?}");
    assert!(up.wait_for(1, Duration::from_secs(5)).await[0].tls);
}

#[tokio::test]
async fn verified_tls_rejects_a_self_signed_upstream() {
    let up = TestUpstream::start(Opts {
        implicit_tls: true,
        ..Opts::default()
    })
    .await;
    let mut c = config_for(&up);
    c.upstream.tls_verify = true;
    let u = upstream(&c);
    let r = u
        .send(&msg("a@shop.example", &["b@example.org"], PLAIN))
        .await;
    assert!(matches!(&r[..], [RcptResult::Transient(_)]), "{r:?}");
    assert!(up.messages().is_empty());
}

#[tokio::test]
async fn auth_with_password_file_over_starttls() {
    let up = TestUpstream::start(Opts {
        starttls: true,
        auth: Some(("relay-user".into(), "pa55 word".into())),
        ..Opts::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("password");
    std::fs::write(&pw, "pa55 word\n").unwrap();
    let mut c = config_for(&up);
    c.upstream.username = Some("relay-user".into());
    c.upstream.password_file = Some(pw.clone());
    let u = upstream(&c);
    assert!(
        u.describe().contains("AUTH as relay-user"),
        "{}",
        u.describe()
    );
    let r = u
        .send(&msg("a@shop.example", &["b@example.org"], PLAIN))
        .await;
    assert!(delivered(&r), "{r:?}");
    let got = up.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got[0].auth_user.as_deref(), Some("relay-user"));
    assert!(got[0].tls);

    // A wrong password is a configuration problem: mail waits, it does not bounce.
    std::fs::write(&pw, "wrong\n").unwrap();
    let u = upstream(&c);
    let r = u
        .send(&msg("a@shop.example", &["b@example.org"], PLAIN))
        .await;
    assert!(
        matches!(&r[..], [RcptResult::Transient(t)] if t.contains("535")),
        "{r:?}"
    );
}

#[tokio::test]
async fn auth_login_over_implicit_tls() {
    let up = TestUpstream::start(Opts {
        implicit_tls: true,
        auth: Some(("outlook-style".into(), "s3cret".into())),
        auth_mechanisms: smtp_proto::AUTH_LOGIN,
        ..Opts::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("password");
    std::fs::write(&pw, "s3cret").unwrap();
    let mut c = config_for(&up);
    c.upstream.username = Some("outlook-style".into());
    c.upstream.password_file = Some(pw);
    let r = upstream(&c)
        .send(&msg("a@shop.example", &["b@example.org"], PLAIN))
        .await;
    assert!(delivered(&r), "{r:?}");
    let got = up.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got[0].auth_user.as_deref(), Some("outlook-style"));
}

#[tokio::test]
async fn missing_password_is_a_startup_error_naming_the_key() {
    let mut c = Config::default();
    c.upstream.url = Some("smtp://127.0.0.1:1".into());
    c.upstream.username = Some("u".into());
    let err = relay::build_upstreams(&c)
        .err()
        .expect("no password configured")
        .to_string();
    assert!(
        err.contains("upstream.password_env") && err.contains("upstream.password_file"),
        "{err}"
    );
    c.upstream.password_env = Some("SENDWELL_TEST_SURELY_UNSET_VARIABLE".into());
    let err = relay::build_upstreams(&c)
        .err()
        .expect("variable not set")
        .to_string();
    assert!(err.contains("SENDWELL_TEST_SURELY_UNSET_VARIABLE"), "{err}");
}

#[tokio::test]
async fn one_result_per_recipient() {
    let up = TestUpstream::start(Opts {
        rules: vec![
            Rule::rcpt("greylisted@example.org", 451, "4.7.1 try again later"),
            Rule::rcpt("nobody@example.org", 550, "5.1.1 no such user"),
        ],
        ..Opts::default()
    })
    .await;
    let u = upstream(&config_for(&up));
    let rcpts = [
        "ok1@example.org",
        "greylisted@example.org",
        "nobody@example.org",
        "ok2@example.org",
    ];
    let r = u.send(&msg("a@shop.example", &rcpts, PLAIN)).await;
    assert_eq!(r.len(), 4);
    assert!(matches!(&r[0], RcptResult::Delivered(_)), "{r:?}");
    assert_eq!(
        r[1],
        RcptResult::Transient("451 4.7.1 try again later".into())
    );
    assert_eq!(r[2], RcptResult::Permanent("550 5.1.1 no such user".into()));
    assert!(matches!(&r[3], RcptResult::Delivered(_)), "{r:?}");
    let got = up.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got[0].rcpt_to, ["ok1@example.org", "ok2@example.org"]);

    // The connection is still good for the next message (RSET after failures).
    let r = u
        .send(&msg("a@shop.example", &["nobody@example.org"], PLAIN))
        .await;
    assert!(matches!(&r[..], [RcptResult::Permanent(_)]));
    let r = u
        .send(&msg("a@shop.example", &["ok3@example.org"], PLAIN))
        .await;
    assert!(delivered(&r), "{r:?}");
    assert_eq!(up.connections(), 1);
}

#[tokio::test]
async fn a_refusal_at_data_applies_to_every_accepted_recipient() {
    let up = TestUpstream::start(Opts {
        rules: vec![
            Rule::data("spamtrap@example.org", 554, "5.7.1 message refused"),
            Rule::data("slow@example.org", 452, "4.3.1 insufficient storage"),
        ],
        ..Opts::default()
    })
    .await;
    let u = upstream(&config_for(&up));
    let r = u
        .send(&msg(
            "a@shop.example",
            &["x@example.org", "spamtrap@example.org"],
            PLAIN,
        ))
        .await;
    assert_eq!(
        r,
        vec![RcptResult::Permanent("554 5.7.1 message refused".into()); 2]
    );
    let r = u
        .send(&msg("a@shop.example", &["slow@example.org"], PLAIN))
        .await;
    assert_eq!(
        r,
        vec![RcptResult::Transient(
            "452 4.3.1 insufficient storage".into()
        )]
    );
    assert!(up.messages().is_empty());
}

/// Issue 10: `451 4.7.650` was stored as `4.7.255`; a provider's code and
/// text (also a multi-line one) reach the store as the provider wrote them.
#[tokio::test]
async fn provider_replies_are_kept_verbatim() {
    let up = TestUpstream::start(Opts {
        rules: vec![
            Rule::data(
                "ms@example.org",
                451,
                "4.7.650 The mail server [203.0.113.7] has been temporarily rate limited due to IP reputation.",
            ),
            Rule::data(
                "google@example.org",
                550,
                "5.4.5 Daily user sending limit exceeded. For more information on Gmail\n5.4.5 sending limits go to\n5.4.5  https://support.google.com/a/answer/166852 - gsmtp",
            ),
            Rule::rcpt("netease@example.org", 550, "MI:STC 发件人当天内累计邮件数量超过限制"),
        ],
        ..Opts::default()
    })
    .await;
    let u = upstream(&config_for(&up));
    let r = u
        .send(&msg("a@shop.example", &["ms@example.org"], PLAIN))
        .await;
    assert_eq!(
        r,
        vec![RcptResult::Transient(
            "451 4.7.650 The mail server [203.0.113.7] has been temporarily rate limited due to IP reputation.".into()
        )]
    );
    let r = u
        .send(&msg("a@shop.example", &["google@example.org"], PLAIN))
        .await;
    assert_eq!(
        r,
        vec![RcptResult::Permanent(
            "550 5.4.5 Daily user sending limit exceeded. For more information on Gmail sending limits go to https://support.google.com/a/answer/166852 - gsmtp".into()
        )]
    );
    let r = u
        .send(&msg("a@shop.example", &["netease@example.org"], PLAIN))
        .await;
    assert_eq!(
        r,
        vec![RcptResult::Permanent(
            "550 MI:STC 发件人当天内累计邮件数量超过限制".into()
        )]
    );
}

#[tokio::test]
async fn connections_are_reused() {
    let up = TestUpstream::start(Opts::default()).await;
    let u = upstream(&config_for(&up));
    for i in 0..5 {
        let r = u
            .send(&msg(
                "a@shop.example",
                &[&format!("b{i}@example.org")],
                PLAIN,
            ))
            .await;
        assert!(delivered(&r), "{r:?}");
    }
    let got = up.wait_for(5, Duration::from_secs(5)).await;
    assert_eq!(
        up.connections(),
        1,
        "five messages in a row should share one connection"
    );
    assert!(got.iter().all(|m| m.connection == 1));
}

#[tokio::test]
async fn concurrent_sends_stay_within_the_connection_limit() {
    let up = TestUpstream::start(Opts::default()).await;
    let mut c = config_for(&up);
    c.upstream.connections = 3;
    let u = upstream(&c);
    let mut tasks = Vec::new();
    for i in 0..30 {
        let u = u.clone();
        tasks.push(tokio::spawn(async move {
            u.send(&msg(
                "a@shop.example",
                &[&format!("b{i}@example.org")],
                PLAIN,
            ))
            .await
        }));
    }
    for t in tasks {
        let r = t.await.unwrap();
        assert!(delivered(&r), "{r:?}");
    }
    up.wait_for(30, Duration::from_secs(5)).await;
    assert!(
        up.connections() <= 3,
        "opened {} connections, limit 3",
        up.connections()
    );
}

#[tokio::test]
async fn a_silent_upstream_times_out_quickly() {
    let up = TestUpstream::start(Opts {
        silent: true,
        ..Opts::default()
    })
    .await;
    let mut c = config_for(&up);
    c.upstream.timeout = Duration::from_millis(300);
    let u = upstream(&c);
    let start = Instant::now();
    let r = u
        .send(&msg(
            "a@shop.example",
            &["b@example.org", "c@example.org"],
            PLAIN,
        ))
        .await;
    let took = start.elapsed();
    assert!(
        r.iter()
            .all(|x| matches!(x, RcptResult::Transient(t) if t.contains("timed out"))),
        "{r:?}"
    );
    assert!(
        took < Duration::from_secs(3),
        "took {took:?} with a 300 ms timeout"
    );
}

#[tokio::test]
async fn an_upstream_that_is_down_is_a_temporary_failure() {
    let port = TestUpstream::free_port().await;
    let mut c = Config::default();
    c.upstream.url = Some(format!("smtp://127.0.0.1:{port}"));
    c.upstream.timeout = Duration::from_secs(2);
    let u = upstream(&c);
    let r = u
        .send(&msg("a@shop.example", &["b@example.org"], PLAIN))
        .await;
    assert!(matches!(&r[..], [RcptResult::Transient(_)]), "{r:?}");
}

#[tokio::test]
async fn a_restarted_upstream_gets_fresh_connections() {
    let up = TestUpstream::start(Opts::default()).await;
    let u = upstream(&config_for(&up));
    assert!(delivered(
        &u.send(&msg("a@shop.example", &["b@example.org"], PLAIN))
            .await
    ));
    up.stop().await;
    up.restart().await;
    // The pooled connection died with the old server; the next send must
    // notice and reconnect instead of failing.
    let r = u
        .send(&msg("a@shop.example", &["c@example.org"], PLAIN))
        .await;
    assert!(delivered(&r), "{r:?}");
    assert_eq!(up.wait_for(2, Duration::from_secs(5)).await.len(), 2);
}

#[tokio::test]
async fn outbox_writes_one_durable_file_per_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("outbox");
    let mut c = Config::default();
    c.upstream.url = Some(format!("outbox:{}", out.display()));
    let u = upstream(&c);
    assert!(u.describe().contains("OUTBOX"), "{}", u.describe());
    let r = u
        .send(&msg(
            "seller@shop.example",
            &["a@example.org", "b@example.org"],
            PLAIN,
        ))
        .await;
    assert!(delivered(&r), "{r:?}");
    let r = u.send(&msg("", &["seller@shop.example"], PLAIN)).await;
    assert!(delivered(&r), "{r:?}");
    let mut files: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(
        files
            .iter()
            .all(|f| f.extension().is_some_and(|e| e == "eml")),
        "no temp files left: {files:?}"
    );
    let first = std::fs::read(&files[0]).unwrap();
    let mut want = b"X-Sendwell-Envelope-From: <seller@shop.example>\r\nX-Sendwell-Envelope-To: <a@example.org>\r\nX-Sendwell-Envelope-To: <b@example.org>\r\n".to_vec();
    want.extend_from_slice(PLAIN);
    assert_eq!(first, want);
    let second = String::from_utf8(std::fs::read(&files[1]).unwrap()).unwrap();
    assert!(
        second.starts_with("X-Sendwell-Envelope-From: <>\r\n"),
        "{second}"
    );
}

/// Throughput through `SmtpUpstream` to the test upstream. Run with
/// `cargo test --release --test relay_smtp -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement, not a check"]
async fn throughput() {
    let body = {
        let mut b = PLAIN.to_vec();
        b.extend(
            std::iter::repeat_n(b'x', 70)
                .chain(*b"\r\n")
                .cycle()
                .take(4 * 1024),
        );
        b.extend_from_slice(b"\r\n");
        b
    };
    for &conns in &[1usize, 4, 8] {
        for tls in [false, true] {
            let up = TestUpstream::start(Opts {
                starttls: tls,
                ..Opts::default()
            })
            .await;
            let mut c = config_for(&up);
            c.upstream.connections = conns;
            let u = upstream(&c);
            let n = 4000;
            let start = Instant::now();
            let mut tasks = tokio::task::JoinSet::new();
            for i in 0..n {
                let u = u.clone();
                let m = msg("a@shop.example", &[&format!("b{i}@example.org")], &body);
                tasks.spawn(async move { u.send(&m).await });
            }
            while let Some(r) = tasks.join_next().await {
                assert!(delivered(&r.unwrap()));
            }
            let secs = start.elapsed().as_secs_f64();
            println!(
                "connections={conns} starttls={tls}: {n} messages of {} bytes in {secs:.2}s = {:.0} msg/s ({} connections opened)",
                body.len(),
                n as f64 / secs,
                up.connections()
            );
        }
    }
}
