//! Issue 13, the ears, end to end: a private Dovecot on loopback holds the
//! seller's mailbox, messages go in with IMAP APPEND, and the running relay
//! (real SMTP client in, test upstream out, settable clock) learns from
//! them: a buyer's zone from their reply, out-of-office dates in three
//! languages, a late bounce, a follow-up held after a reply. The mailbox's
//! flags stay as they were; a restart and an IMAP outage are survived.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::imap::{self, Dovecot};
use common::upstream::{Opts, TestUpstream};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use mail_send::SmtpClientBuilder;
use mail_send::smtp::message::Message;
use sendwell::clock::FixedClock;
use sendwell::config::Config;
use sendwell::server::{self, Running};

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn config(dir: &Path, up: &TestUpstream, dovecot: &Dovecot) -> Config {
    let mut c = common::relay_config(dir, up);
    c.schedule.enabled = true;
    std::fs::create_dir_all(dir).unwrap();
    let pw = dir.join("imap-password");
    std::fs::write(&pw, format!("{}\n", imap::PASSWORD)).unwrap();
    let entry = format!(
        "url = \"{}\"\nusername = \"{}\"\npassword_file = \"{}\"\nuser = \"lin@seller.example\"\npoll_interval = \"1s\"\n",
        dovecot.url(),
        imap::USER,
        pw.display()
    );
    c.inbox = vec![toml::from_str(&entry).unwrap()];
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
        "From: Lin <lin@seller.example>\r\nTo: {to}\r\nSubject: {subject}\r\n\
         Message-ID: <{}.{}@seller.example>\r\n{extra}\r\n\
         Dear buyer,\r\n\r\nplease find our updated offer for {subject} below; prices hold until the end of the month.\r\n\r\n\
         Kind regards,\r\nLin",
        subject.len(),
        to.replace('@', ".")
    );
    let mut message = Message::empty().from("lin@seller.example");
    for rcpt in to.split(", ") {
        message = message.to(rcpt);
    }
    client
        .send(message.body(body.into_bytes()))
        .await
        .map(|r| r.message)
}

async fn api(running: &Running, path: &str) -> serde_json::Value {
    common::http::get(running.admin_addr.unwrap(), path, &[])
        .await
        .json()
}

/// Waits until `check` holds, polling; panics with `what` after 20 s.
async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}

async fn deliver_at(running: &Running, rcpt: &str) -> Timestamp {
    let rows = running.store.list(None, 100).await.unwrap();
    rows.iter()
        .filter(|r| r.rcpt == rcpt)
        .map(|r| r.deliver_at)
        .max()
        .unwrap_or_else(|| panic!("no copy to {rcpt}"))
}

/// A delivery report (RFC 3464) for gone@shop.example: no such user.
const GONE_DSN: &str = "From: Mail Delivery System <MAILER-DAEMON@mx.shop.example>\n\
    To: lin@seller.example\nSubject: Undelivered Mail Returned to Sender\n\
    Date: Sat, 05 Dec 2026 13:05:00 +0000\nMIME-Version: 1.0\n\
    Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\n\n\
    --b1\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n\
    --b1\nContent-Type: message/delivery-status\n\n\
    Reporting-MTA: dns; mx.shop.example\n\n\
    Final-Recipient: rfc822; gone@shop.example\nAction: failed\nStatus: 5.1.1\n\
    Diagnostic-Code: smtp; 550 5.1.1 <gone@shop.example>: Recipient address rejected: User unknown\n\n\
    --b1--\n";

fn reply_from(from: &str, to: &str, subject: &str, date: &str, body: &str) -> String {
    format!(
        "From: Buyer <{from}>\nTo: {to}\nSubject: {subject}\nDate: {date}\n\
         Message-ID: <{}@buyer.example>\nIn-Reply-To: <x@seller.example>\n\
         Content-Type: text/plain; charset=utf-8\n\n{body}\n",
        from.replace('@', ".")
    )
}

/// A gmail.com buyer's reply (Date −0500) teaches New York: their next copy
/// goes in New York business hours, and the API and the 250 say how it
/// is known. The buyer replied after a cold follow-up was queued: that
/// follow-up is held and the seller's notice names the reply.
#[tokio::test]
async fn a_reply_teaches_the_zone_and_holds_the_follow_up() {
    if !imap::available() {
        return;
    }
    common::install_crypto();
    let tmp = tempfile::tempdir().unwrap();
    let mut dovecot = Dovecot::start(&tmp.path().join("imap")).await;
    let up = TestUpstream::start(Opts::default()).await;
    let data = tmp.path().join("data");
    // Thursday 3 December 2026, 02:00 UTC: Wednesday evening in New York.
    let clock = Arc::new(FixedClock::new(at("2026-12-03T02:00:00Z")));
    let running = server::start_with_clock(config(&data, &up, &dovecot), clock.clone())
        .await
        .unwrap();

    // Nobody knows anna yet: the markets guess.
    let r = send(
        running.smtp_addrs[0],
        "anna@gmail.com",
        "Quote for 500 power banks",
        "",
    )
    .await
    .unwrap();
    assert!(r.contains("guessed from markets US, DE, GB"), "{r}");
    // And a follow-up to ben, queued for business hours.
    send(running.smtp_addrs[0], "ben@gmail.com", "Checking in", "")
        .await
        .unwrap();
    // A message already read by the seller, and one not.
    dovecot
        .append(
            "INBOX",
            Some("(\\Seen)"),
            "From: Lin <lin@seller.example>\nTo: x@y.example\nSubject: my own\nDate: Tue, 01 Dec 2026 10:00:00 +0800\n\nmine\n",
        )
        .await;
    let flags_before = dovecot.flags("INBOX").await;

    clock.set(at("2026-12-03T03:00:00Z"));
    // Anna answers an older mail, from New York (−0500), with a US phone.
    dovecot
        .append(
            "INBOX",
            None,
            &reply_from(
                "anna@gmail.com",
                "lin@seller.example",
                "Re: Quote for 500 power banks",
                "Tue, 01 Dec 2026 10:02:00 -0500",
                "Yes, please send the sample.\n\nAnna\nAcme Purchasing\n+1 212 555 0199",
            ),
        )
        .await;
    // Ben answers after the follow-up was queued.
    dovecot
        .append(
            "INBOX",
            None,
            &reply_from(
                "ben@gmail.com",
                "lin@seller.example",
                "Re: Quote",
                "Wed, 02 Dec 2026 21:40:00 -0500",
                "Thanks, we will order next week.",
            ),
        )
        .await;

    until("anna's zone learned", || async {
        api(&running, "/api/contacts/anna@gmail.com").await["timezone"] == "America/New_York"
    })
    .await;
    let card = api(&running, "/api/contacts/anna@gmail.com").await;
    assert_eq!(
        card["timezone_source"], "learned from their mail of 2026-12-01 (UTC−05:00)",
        "{card}"
    );
    assert_eq!(card["country"], "US", "{card}");
    assert_eq!(card["established"], true, "{card}");
    assert!(
        card["last_reply_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-12-01T15:02"),
        "{card}"
    );
    assert_eq!(card["suppressed"], serde_json::Value::Null);

    // Her next copy: New York business hours, and the 250 says why.
    let r = send(
        running.smtp_addrs[0],
        "anna@gmail.com",
        "Sample shipping",
        "",
    )
    .await
    .unwrap();
    assert!(
        r.contains("America/New_York") && r.contains("learned from their mail of 2026-12-01"),
        "{r}"
    );
    let rows = running.store.list(None, 100).await.unwrap();
    let newest = rows
        .iter()
        .filter(|r| r.rcpt == "anna@gmail.com")
        .max_by_key(|r| r.message_id)
        .unwrap();
    let local = newest
        .deliver_at
        .to_zoned(TimeZone::get("America/New_York").unwrap());
    assert!((9..17).contains(&local.hour()), "{local}");
    // The review page says how her zone is known, in both languages.
    let page = common::http::get(
        running.admin_addr.unwrap(),
        &format!("/held/{}", newest.message_id.0),
        &[("Accept-Language", "en")],
    )
    .await;
    assert!(
        page.body
            .contains("zone learned from their mail of 2026-12-01"),
        "{}",
        page.body
    );
    let page = common::http::get(
        running.admin_addr.unwrap(),
        &format!("/held/{}", newest.message_id.0),
        &[("Accept-Language", "zh-CN")],
    )
    .await;
    assert!(
        page.body.contains("时区来自对方 2026-12-01 的来信"),
        "{}",
        page.body
    );

    // Ben's follow-up is held, and Lin hears why.
    until("ben's follow-up held", || async {
        let rows = running.store.list(None, 100).await.unwrap();
        rows.iter()
            .any(|r| r.rcpt == "ben@gmail.com" && r.state == sendwell::store::DeliveryState::Held)
    })
    .await;
    let got = up.wait_for(1, Duration::from_secs(10)).await;
    let notice = got
        .iter()
        .find(|m| m.rcpt_to == ["lin@seller.example"])
        .expect("a notice to the seller");
    let parsed = mail_parser::MessageParser::default()
        .parse(&notice.data)
        .unwrap();
    let text = format!(
        "{}\n{}",
        parsed.subject().unwrap_or_default(),
        parsed.body_text(0).unwrap_or_default()
    );
    assert!(
        text.contains("ben@gmail.com replied")
            && text.contains("Re: Quote")
            && text.contains("Checking in"),
        "{text}"
    );

    // The audit log says who held it and why.
    let records = running.store.audit_records(0, 10_000).await.unwrap();
    assert!(
        records.iter().any(|r| r.kind == "held"
            && r.actor == "inbox"
            && r.fields.contains("ben@gmail.com replied")),
        "the held follow-up is in the audit log"
    );

    // Read-only: every message keeps its flags.
    let flags_after = dovecot.flags("INBOX").await;
    assert_eq!(&flags_after[..flags_before.len()], &flags_before[..]);
    assert!(
        flags_after.iter().skip(1).all(|(_, f)| f.is_empty()),
        "{flags_after:?}"
    );

    // A restart does not read the mailbox from the start again.
    running.stop().await;
    let running = server::start_with_clock(config(&data, &up, &dovecot), clock.clone())
        .await
        .unwrap();
    dovecot
        .append(
            "INBOX",
            None,
            &reply_from(
                "anna@gmail.com",
                "lin@seller.example",
                "Re: Sample shipping",
                "Thu, 03 Dec 2026 09:00:00 -0800",
                "Moved to our LA office.",
            ),
        )
        .await;
    let port = dovecot.port.to_string();
    let mine = || {
        sendwell::inbox::health()
            .into_iter()
            .find(|h| h.mailbox.contains(&port))
            .unwrap()
    };
    until("the new mail read after the restart", || async {
        api(&running, "/api/contacts/anna@gmail.com").await["timezone"] == "America/Los_Angeles"
            && mine().read > 0
    })
    .await;
    let mine = mine();
    assert_eq!(
        mine.read, 1,
        "only the new message is read after a restart: {mine:?}"
    );

    // The IMAP server goes away: /healthz says so; it comes back: read again.
    dovecot.stop().await;
    until("the mailbox shown down", || async {
        let h = common::http::get(running.admin_addr.unwrap(), "/healthz", &[]).await;
        h.body.contains(": down since")
    })
    .await;
    dovecot.restart().await;
    dovecot
        .append(
            "INBOX",
            None,
            &reply_from(
                "anna@gmail.com",
                "lin@seller.example",
                "Re: Sample shipping",
                "Fri, 04 Dec 2026 09:00:00 -0500",
                "Back in New York.",
            ),
        )
        .await;
    until("read again after the outage", || async {
        api(&running, "/api/contacts/anna@gmail.com").await["timezone"] == "America/New_York"
    })
    .await;
    running.stop().await;
}

/// Out-of-office replies in English, German and Japanese move each buyer's
/// waiting copy to 15 December, in their business hours; a DSN for gone@
/// puts it on the suppression list and the next RCPT is refused.
#[tokio::test]
async fn out_of_office_and_late_bounces() {
    if !imap::available() {
        return;
    }
    common::install_crypto();
    let tmp = tempfile::tempdir().unwrap();
    let dovecot = Dovecot::start(&tmp.path().join("imap")).await;
    let up = TestUpstream::start(Opts::default()).await;
    // Saturday 5 December 2026: every copy waits for Monday.
    let clock = Arc::new(FixedClock::new(at("2026-12-05T12:00:00Z")));
    let running = server::start_with_clock(
        config(&tmp.path().join("data"), &up, &dovecot),
        clock.clone(),
    )
    .await
    .unwrap();
    let buyers = [
        (
            "jane@shop.co.uk",
            "Europe/London",
            "Automatic reply: Offer",
            "I am out of the office until 14 December 2026 with limited access to email.",
        ),
        (
            "hans@firma.de",
            "Europe/Berlin",
            "Abwesenheitsnotiz: Angebot",
            "Vielen Dank für Ihre Nachricht. Ich bin bis zum 14. Dezember 2026 nicht im Büro.",
        ),
        (
            "taro@shop.co.jp",
            "Asia/Tokyo",
            "自動応答: Offer",
            "お問い合わせありがとうございます。2026年12月14日まで不在にしております。",
        ),
    ];
    for (to, _, _, _) in buyers {
        send(running.smtp_addrs[0], to, "Offer", "").await.unwrap();
    }
    for (from, _, subject, body) in buyers {
        let raw = format!(
            "From: <{from}>\nTo: lin@seller.example\nSubject: {subject}\nAuto-Submitted: auto-replied\n\
             Date: Sat, 05 Dec 2026 13:00:00 +0000\nContent-Type: text/plain; charset=utf-8\n\n{body}\n"
        );
        dovecot.append("INBOX", None, &raw).await;
    }
    for (to, zone, _, _) in buyers {
        until(&format!("{to}'s copy moved"), || async {
            let local = deliver_at(&running, to)
                .await
                .to_zoned(TimeZone::get(zone).unwrap());
            (local.month(), local.day()) == (12, 15)
        })
        .await;
        let local = deliver_at(&running, to)
            .await
            .to_zoned(TimeZone::get(zone).unwrap());
        assert!((9..17).contains(&local.hour()), "{to}: {local}");
        let card = api(&running, &format!("/api/contacts/{to}")).await;
        assert!(card["away_until"].is_string(), "{card}");
        let id = running
            .store
            .list(None, 100)
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.rcpt == to)
            .unwrap()
            .message_id;
        let page = common::http::get(
            running.admin_addr.unwrap(),
            &format!("/held/{}", id.0),
            &[("Accept-Language", "en")],
        )
        .await;
        assert!(page.body.contains("away until"), "{}", page.body);
        // An automatic reply is not a reply.
        assert_eq!(card["last_reply_at"], serde_json::Value::Null, "{card}");
    }
    let records = running.store.audit_records(0, 10_000).await.unwrap();
    assert_eq!(
        records
            .iter()
            .filter(|r| r.kind == "postponed" && r.actor == "inbox")
            .count(),
        3,
        "each moved copy is in the audit log"
    );
    // New mail to an away buyer is planned the same way, and the 250 says so.
    let r = send(running.smtp_addrs[0], "hans@firma.de", "Second offer", "")
        .await
        .unwrap();
    assert!(r.contains("away until"), "{r}");
    // `sendwell check` on a draft to him says the same, from the same store.
    let data = tmp.path().join("data");
    let conf = tmp.path().join("check.toml");
    std::fs::write(
        &conf,
        format!(
            "data_dir = \"{}\"\n[dns]\nchecks = false\n[caps]\nenabled = false\n",
            data.display()
        ),
    )
    .unwrap();
    let draft = tmp.path().join("draft.eml");
    std::fs::write(
        &draft,
        "From: Lin <lin@seller.example>\r\nTo: hans@firma.de\r\nSubject: Third offer\r\n\r\n\
         Dear Hans,\r\n\r\nplease find our offer for the LED panels below.\r\n\r\nKind regards,\r\nLin\r\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sendwell"))
        .arg("--config")
        .arg(&conf)
        .args(["check", "--at", "2026-12-05T12:00:00Z"])
        .arg(&draft)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("away until"),
        "check says what the server says: {said}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A delivery report for gone@, in the mailbox later.
    dovecot.append("INBOX", None, GONE_DSN).await;
    until("gone@ suppressed", || async {
        api(&running, "/api/contacts/gone@shop.example").await["suppressed"].is_object()
    })
    .await;
    let err = send(running.smtp_addrs[0], "gone@shop.example", "Offer", "")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("550") && err.contains("5.1.1") && err.contains("suppressed"),
        "{err}"
    );
    running.stop().await;
}

/// Peak resident memory of this process so far (Linux), in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The measurement of issue 13: learning from 10,000 messages in a mailbox
/// (replies from 2,000 buyers sendwell wrote to, out-of-office replies,
/// strangers). `cargo test --release --test inbox -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "a measurement: run by hand"]
async fn learning_from_10000_messages() {
    if !imap::available() {
        return;
    }
    common::install_crypto();
    let tmp = tempfile::tempdir().unwrap();
    let dovecot = Dovecot::start(&tmp.path().join("imap")).await;
    let up = TestUpstream::start(Opts::default()).await;
    let data = tmp.path().join("data");
    let n = 10_000usize;
    let t = std::time::Instant::now();
    dovecot
        .append_many(
            "INBOX",
            (0..n).map(|i| {
                let from = format!("buyer{}@gmail.com", i % 2000);
                match i % 10 {
                    0 => format!(
                        "From: <{from}>\nSubject: Automatic reply: Offer\nAuto-Submitted: auto-replied\n\
                         Date: Thu, 03 Dec 2026 10:00:00 +0100\n\nI am out of the office until 14 December 2026.\n"
                    ),
                    _ => reply_from(
                        &from,
                        "lin@seller.example",
                        "Re: Offer",
                        "Wed, 02 Dec 2026 10:02:00 -0500",
                        &format!("Thanks for offer {i}.\n\n> quoted text\n\nAnna\n+1 212 555 0199"),
                    ),
                }
            }),
        )
        .await;
    println!("appended {n} messages in {:?}", t.elapsed());
    // sendwell wrote to the buyers before: one queued copy each.
    let clock = Arc::new(FixedClock::new(at("2026-12-05T12:00:00Z")));
    let mut cfg = config(&data, &up, &dovecot);
    let inbox = std::mem::take(&mut cfg.inbox);
    let running = server::start_with_clock(cfg.clone(), clock.clone())
        .await
        .unwrap();
    let mut sent = 0;
    for batch in 0..20 {
        let addr = running.smtp_addrs[0];
        let mut client = SmtpClientBuilder::new(addr.ip().to_string(), addr.port())
            .unwrap()
            .connect_plain()
            .await
            .unwrap();
        let mut m = Message::empty().from("lin@seller.example");
        for i in 0..100 {
            m = m.to(format!("buyer{}@gmail.com", batch * 100 + i));
        }
        let body = "From: Lin <lin@seller.example>\r\nTo: buyers\r\nSubject: Offer\r\n\r\nDear buyer,\r\n\r\nour offer.\r\n";
        if client.send(m.body(body.as_bytes().to_vec())).await.is_ok() {
            sent += 100;
        }
    }
    running.stop().await;
    println!("{sent} copies queued");
    cfg.inbox = inbox;
    let rss_before = peak_rss_kib();
    let t = std::time::Instant::now();
    let running = server::start_with_clock(cfg, clock.clone()).await.unwrap();
    let port = dovecot.port.to_string();
    while sendwell::inbox::health()
        .into_iter()
        .find(|h| h.mailbox.contains(&port))
        .is_none_or(|h| (h.read as usize) < n)
    {
        assert!(t.elapsed() < Duration::from_secs(1200), "too slow");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "learned from {n} messages in {:?}; peak RSS {} KiB before, {} KiB after",
        t.elapsed(),
        rss_before,
        peak_rss_kib()
    );
    running.stop().await;
}

/// A mailbox that takes only OAuth (as Microsoft 365 and Google do): the
/// watcher logs in with XOAUTH2, using an access token from the token
/// endpoint, which Dovecot checks at the provider's introspection endpoint;
/// it reads what is there (a late bounce).
#[tokio::test]
async fn an_oauth_mailbox_is_read_with_xoauth2() {
    if !imap::available() {
        return;
    }
    common::install_crypto();
    let tmp = tempfile::tempdir().unwrap();
    let issuer =
        common::oauth::Issuer::for_owner("refresh-1", Duration::from_secs(3600), imap::USER);
    let token_url = common::oauth::token_endpoint(issuer.clone()).await;
    let introspect = token_url.replace("/token", "/introspect");
    let dovecot = Dovecot::start_oauth(&tmp.path().join("imap"), &introspect).await;
    let up = TestUpstream::start(Opts::default()).await;
    let mut c = config(&tmp.path().join("data"), &up, &dovecot);
    let refresh = tmp.path().join("refresh-token");
    std::fs::write(&refresh, "refresh-1\n").unwrap();
    let secret = tmp.path().join("client-secret");
    std::fs::write(&secret, format!("{}\n", common::oauth::CLIENT_SECRET)).unwrap();
    let entry = format!(
        "url = \"{}\"\nusername = \"{}\"\nauth = \"xoauth2\"\noauth_token_url = \"{token_url}\"\n\
         oauth_client_id = \"{}\"\noauth_client_secret_file = \"{}\"\noauth_refresh_token_file = \"{}\"\n\
         user = \"lin@seller.example\"\npoll_interval = \"1s\"\n",
        dovecot.url(),
        imap::USER,
        common::oauth::CLIENT_ID,
        secret.display(),
        refresh.display()
    );
    c.inbox = vec![toml::from_str(&entry).unwrap()];
    let running = server::start(c).await.unwrap();
    dovecot.append("INBOX", None, GONE_DSN).await;
    until("the bounce read through an XOAUTH2 login", || async {
        api(&running, "/api/contacts/gone@shop.example").await["suppressed"].is_object()
    })
    .await;
    assert_eq!(issuer.requests(), 1, "one token for the watcher");
    running.stop().await;
}

/// `[notices] remind_after = "7days"` (seed 000 §6): a message that opened
/// a conversation and got no answer from any recipient in a week earns its
/// sender one reminder; one that was answered, or that answered a thread,
/// earns none; and a reminder is sent once, not on every pass.
#[tokio::test]
async fn an_unanswered_first_mail_earns_one_reminder() {
    if !imap::available() {
        return;
    }
    common::install_crypto();
    let tmp = tempfile::tempdir().unwrap();
    let dovecot = Dovecot::start(&tmp.path().join("imap")).await;
    let up = TestUpstream::start(Opts::default()).await;
    // Tuesday 1 December 2026.
    let clock = Arc::new(FixedClock::new(at("2026-12-01T10:00:00Z")));
    let mut c = config(&tmp.path().join("data"), &up, &dovecot);
    c.schedule.enabled = false; // everything goes at once
    c.notices.remind_after = Some(Duration::from_secs(7 * 24 * 3600));
    let running = server::start_with_clock(c, clock.clone()).await.unwrap();
    let addr = running.smtp_addrs[0];
    send(
        addr,
        "hans@firma.de, anna@shop.example",
        "Quote for 500 power banks",
        "",
    )
    .await
    .unwrap();
    send(addr, "carl@example.com", "Offer for cables", "")
        .await
        .unwrap();
    send(
        addr,
        "dora@example.net",
        "Re: your question",
        "In-Reply-To: <q1@example.net>\r\nReferences: <q1@example.net>\r\n",
    )
    .await
    .unwrap();
    up.wait_for(3, Duration::from_secs(10)).await;

    // Carl answers two days later.
    clock.set(at("2026-12-03T09:00:00Z"));
    dovecot
        .append(
            "INBOX",
            None,
            &reply_from(
                "carl@example.com",
                "lin@seller.example",
                "Re: Offer for cables",
                "Thu, 03 Dec 2026 09:00:00 +0100",
                "Please send 200 pieces.\n\nCarl",
            ),
        )
        .await;
    until("carl's reply read", || async {
        api(&running, "/api/contacts/carl@example.com").await["last_reply_at"].is_string()
    })
    .await;
    // Nothing is due before a week has passed.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(up.messages().len(), 3, "no reminder before a week");

    // Wednesday 9 December: a week and a day.
    clock.set(at("2026-12-09T10:00:00Z"));
    let reminders = || {
        up.messages()
            .into_iter()
            .filter(|m| m.rcpt_to == ["lin@seller.example"])
            .collect::<Vec<_>>()
    };
    until("the reminder", || async { !reminders().is_empty() }).await;
    // Two more passes of the watcher (poll_interval 1s): still one.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let got = reminders();
    assert_eq!(got.len(), 1, "one reminder, for the unanswered quote only");
    let text = got[0].text();
    assert!(
        text.contains("No answer yet: Quote for 500 power banks"),
        "{text}"
    );
    assert!(text.contains("Auto-Submitted: auto-generated"), "{text}");
    running.stop().await;
}
