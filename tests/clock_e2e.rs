//! The clock and the recipient checks inside the relay, end to end, with a
//! settable clock: a real SMTP client → sendwell → the test upstream, and a
//! real DNS server on loopback for the RCPT checks.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::dns::Dns;
use common::upstream::{Opts, TestUpstream};
use jiff::{SignedDuration, Timestamp};
use mail_send::SmtpClientBuilder;
use mail_send::smtp::message::Message;
use sendwell::clock::FixedClock;
use sendwell::config::Config;
use sendwell::schedule::Wait;
use sendwell::server;

fn config(dir: &Path, upstream: &TestUpstream) -> Config {
    // The clock and the caps are what these tests are about.
    let mut c = common::relay_config(dir, upstream);
    c.schedule.enabled = true;
    c.caps.enabled = true;
    c
}

async fn send(
    addr: std::net::SocketAddr,
    to: &str,
    subject: &str,
    extra: &str,
) -> Result<String, mail_send::Error> {
    let mut client = SmtpClientBuilder::new(addr.ip().to_string(), addr.port())
        .unwrap()
        .connect_plain()
        .await?;
    let body = format!(
        "From: Lin <lin@seller.example>\r\nTo: {to}\r\nSubject: {subject}\r\n{extra}\r\n\
         Dear Mr Becker,\r\n\r\nplease find our updated offer for {subject} below; prices hold until the end of the month.\r\n\r\n\
         Kind regards,\r\nLin"
    );
    client
        .send(
            Message::empty()
                .from("lin@seller.example")
                .to(to)
                .body(body.into_bytes()),
        )
        .await
        .map(|r| r.message)
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// Friday 17:30 in Berlin: the copy waits for Monday morning, the 250 says so,
/// and the courier does not send it before then.
#[tokio::test]
async fn after_hours_mail_waits_for_the_recipients_morning() {
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(at("2026-11-27T16:30:00Z"))); // Fri 17:30 CET
    let mut cfg = config(dir.path(), &up);
    cfg.admin.sender_timezone = Some("Asia/Shanghai".into());
    let running = server::start_with_clock(cfg, clock.clone()).await.unwrap();
    let reply = send(
        running.smtp_addrs[0],
        "hans@buyer.example.de",
        "LED panels",
        "",
    )
    .await
    .unwrap();
    // The date, both times and the reason, on one ASCII line.
    assert!(
        reply.contains("hans@buyer.example.de: Mon 30 Nov 09:")
            && reply.contains(" Europe/Berlin (your time 16:")
            && reply.ends_with(") - weekend")
            && reply.is_ascii(),
        "{reply}"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        up.messages().is_empty(),
        "nothing goes out on Friday evening"
    );

    let rows = running.store.list(None, 10).await.unwrap();
    let due = rows[0].deliver_at;
    let local = due.to_zoned(jiff::tz::TimeZone::get("Europe/Berlin").unwrap());
    assert_eq!(local.date(), jiff::civil::date(2026, 11, 30), "Monday");
    assert!(
        (9..=9).contains(&local.hour()) && local.minute() <= 15,
        "09:00-09:15, got {local}"
    );
    assert_eq!(rows[0].wait, Some(Wait::Weekend), "the reason is stored");
    // `queue list` shows both times and the same reason.
    let toml = format!(
        "data_dir = {:?}\n[admin]\nsender_timezone = \"Asia/Shanghai\"\n",
        dir.path().display().to_string()
    );
    std::fs::write(dir.path().join("cli.toml"), toml).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sendwell"))
        .args(["--config", "cli.toml", "queue", "list"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(
        list.contains("WHY IT WAITS")
            && list.contains("Mon 30 Nov 09:")
            && list.contains("Europe/Berlin")
            && list.contains("Mon 30 Nov 16:")
            && list.contains("weekend"),
        "{list}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    clock.set(at("2026-11-30T08:20:00Z")); // Mon 09:20 CET
    let got = up.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got[0].rcpt_to, ["hans@buyer.example.de"]);
    running.stop().await;
}

/// A reply at 23:00 recipient time goes at once (the reply fast path).
#[tokio::test]
async fn a_reply_late_at_night_goes_at_once() {
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(at("2026-11-25T22:00:00Z"))); // Wed 23:00 CET
    let running = server::start_with_clock(config(dir.path(), &up), clock)
        .await
        .unwrap();
    let reply = send(
        running.smtp_addrs[0],
        "hans@buyer.example.de",
        "Re: LED panels",
        "In-Reply-To: <h1@buyer.example.de>\r\nReferences: <h1@buyer.example.de>\r\n",
    )
    .await
    .unwrap();
    assert!(!reply.contains(" at "), "no deferral: {reply}");
    up.wait_for(1, Duration::from_secs(10)).await;
    running.stop().await;
}

/// The third message of the day to one buyer waits for the next day, and the
/// cap survives a restart of the server.
#[tokio::test]
async fn daily_cap_defers_the_third_mail_and_survives_a_restart() {
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let now = at("2026-11-24T09:00:00Z"); // Tue 10:00 CET
    let clock = Arc::new(FixedClock::new(now));
    let mut cfg = config(dir.path(), &up);
    cfg.caps.cold_gap = std::time::Duration::ZERO; // this test is about the daily cap
    let running = server::start_with_clock(cfg.clone(), clock.clone())
        .await
        .unwrap();
    let addr = running.smtp_addrs[0];
    for subject in ["Quote 1", "Quote 2"] {
        let r = send(addr, "hans@buyer.example.de", subject, "")
            .await
            .unwrap();
        assert!(!r.contains(" at "), "{subject} goes now: {r}");
    }
    running.stop().await;

    let running = server::start_with_clock(cfg, clock.clone()).await.unwrap();
    let r = send(
        running.smtp_addrs[0],
        "hans@buyer.example.de",
        "Quote 3",
        "",
    )
    .await
    .unwrap();
    assert!(
        r.contains("hans@buyer.example.de: Wed 25 Nov")
            && r.ends_with(" - daily cap for this person"),
        "the third waits for the next day: {r}"
    );
    let rows = running.store.list(None, 10).await.unwrap();
    let third = rows.iter().map(|r| r.deliver_at).max().unwrap();
    assert!(
        third >= now.saturating_add(SignedDuration::from_hours(24)).unwrap(),
        "{third}"
    );
    running.stop().await;
}

/// RCPT checks against a real DNS server on loopback: a domain that does not
/// exist and one with a null MX are refused, a live one accepted.
#[tokio::test]
async fn rcpt_dns_checks_through_the_server() {
    let dns = Dns::start().await;
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), &up);
    cfg.dns.checks = true;
    cfg.dns.servers = vec![dns.addr];
    cfg.schedule.enabled = false;
    let running = server::start(cfg).await.unwrap();
    let addr = running.smtp_addrs[0];
    for (rcpt, esc) in [
        ("anna@nosuch.test", [5, 1, 2]),
        ("anna@nullmx.test", [5, 1, 10]),
    ] {
        match send(addr, rcpt, "Quote", "").await {
            Err(mail_send::Error::UnexpectedReply(r)) => {
                assert_eq!((r.code, r.esc), (550, esc), "{rcpt}: {r:?}");
            }
            other => panic!("{rcpt}: expected a refusal, got {other:?}"),
        }
    }
    send(addr, "anna@withmx.test", "Quote", "").await.unwrap();
    up.wait_for(1, Duration::from_secs(10)).await;
    running.stop().await;
    dns.stop().await;
}

/// With `notify_deferred_after`, a copy that waits over Christmas tells its
/// sender when it will go.
#[tokio::test]
async fn long_deferral_tells_the_sender() {
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(at("2026-12-24T17:00:00Z"))); // Thu 24 Dec, 18:00 Berlin
    let mut cfg = config(dir.path(), &up);
    cfg.schedule.notify_deferred_after = Some(Duration::from_secs(12 * 3600));
    let running = server::start_with_clock(cfg, clock).await.unwrap();
    let reply = send(
        running.smtp_addrs[0],
        "hans@buyer.example.de",
        "LED panels",
        "",
    )
    .await
    .unwrap();
    assert!(
        reply.contains(": Mon 28 Dec 09:") && reply.contains(" - holiday: "),
        "after Christmas (25th, 26th) and the weekend: {reply}"
    );
    let got = up.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got[0].rcpt_to, ["lin@seller.example"]);
    let parsed = mail_parser::MessageParser::default()
        .parse(&got[0].data)
        .unwrap();
    assert!(parsed.subject().unwrap().contains("Scheduled"));
    let text = parsed.body_text(0).unwrap().to_string();
    assert!(
        text.contains("hans@buyer.example.de: Mon 2026-12-28 09:"),
        "{text}"
    );
    running.stop().await;
}
