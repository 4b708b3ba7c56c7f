//! The judge inside the relay, end to end: a real SMTP client → sendwell →
//! the test upstream. What the writer sees (a 550 with a reason, a notice in
//! their inbox) and what the customer receives (a stripped read receipt).

mod common;

use std::path::Path;
use std::time::Duration;

use common::review::{queued_id, try_send as send};
use common::upstream::{Opts, Received, TestUpstream};
use sendwell::config::Config;
use sendwell::server;
use sendwell::store::DeliveryState;

fn config(dir: &Path, upstream: &TestUpstream) -> Config {
    common::relay_config(dir, upstream)
}

fn to_of(m: &Received) -> String {
    m.rcpt_to.join(",")
}

#[tokio::test]
async fn unfilled_template_is_held_and_the_sender_gets_a_notice() {
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let running = server::start(config(dir.path(), &up)).await.unwrap();
    let addr = running.smtp_addrs[0];
    let body = "From: Lin Wei <lin@seller.example>\r\nTo: ben@buyer.example.com.au\r\nSubject: Your order has shipped\r\n\
                Message-ID: <ship-1@seller.example>\r\n\r\nHi {{first_name}},\r\n\r\nyour parcel left our warehouse today. \
                Tracking: YT2611220001.\r\n\r\nBest regards,\r\nLin\r\n";
    let reply = send(
        addr,
        "lin@seller.example",
        &["ben@buyer.example.com.au"],
        body,
    )
    .await
    .unwrap();
    assert!(reply.contains("held for review"), "{reply}");
    let id = queued_id(&reply);

    // The notice reaches the sender, from the null sender, with the reason.
    let got = up.wait_for(1, Duration::from_secs(10)).await;
    let notice = &got[0];
    assert_eq!(notice.mail_from, "", "notices use the null sender");
    assert_eq!(to_of(notice), "lin@seller.example");
    let parsed = mail_parser::MessageParser::default()
        .parse(&notice.data)
        .unwrap();
    assert!(
        parsed.subject().unwrap().contains("Held for review"),
        "{:?}",
        parsed.subject()
    );
    let text = parsed.body_text(0).unwrap().to_string();
    assert!(
        text.contains("TEMPLATE_PLACEHOLDER") && text.contains("{{first_name}}"),
        "{text}"
    );
    assert!(
        text.contains(&format!("sendwell held release {}", id.0)),
        "{text}"
    );
    // The held copy was not sent to the customer.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        up.messages()
            .iter()
            .all(|m| to_of(m) != "ben@buyer.example.com.au")
    );
    let m = running.store.message(id).await.unwrap().unwrap();
    assert_eq!(m.deliveries[0].state, DeliveryState::Held);

    // A reviewer releases it: the customer gets it.
    running
        .store
        .release_held(id, jiff::Timestamp::now(), None)
        .await
        .unwrap();
    let got = up.wait_for(2, Duration::from_secs(10)).await;
    assert!(
        got.iter()
            .any(|m| to_of(m) == "ben@buyer.example.com.au" && m.text().contains("{{first_name}}"))
    );
    running.stop().await;
}

#[tokio::test]
async fn executable_attachment_is_refused_with_a_readable_reason() {
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let running = server::start(config(dir.path(), &up)).await.unwrap();
    let body = "From: lin@seller.example\r\nTo: hans@buyer.example.de\r\nSubject: Installer for your device\r\n\
                MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n\
                Content-Type: text/plain; charset=utf-8\r\n\r\nDear Mr Becker,\r\n\r\nplease run the attached updater \
                to fix the pairing problem you reported.\r\n\r\nKind regards,\r\nLin\r\n--b1\r\n\
                Content-Type: application/octet-stream; name=\"updater.exe\"\r\nContent-Disposition: attachment; \
                filename=\"updater.exe\"\r\nContent-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA//8AALgAAAA=\r\n--b1--\r\n";
    let err = send(
        running.smtp_addrs[0],
        "lin@seller.example",
        &["hans@buyer.example.de"],
        body,
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    match &err {
        mail_send::Error::UnexpectedReply(r) => {
            assert_eq!(r.code, 550, "{text}");
            assert!(
                r.message.contains("ATTACH_EXECUTABLE") && r.message.contains("updater.exe"),
                "{}",
                r.message
            );
            assert!(
                r.message.is_ascii() && r.message.len() <= 220,
                "one short ASCII line: {}",
                r.message
            );
        }
        other => panic!("expected a 550, got {other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        up.messages().is_empty(),
        "nothing refused reaches the upstream"
    );
    running.stop().await;
}

#[tokio::test]
async fn read_receipt_is_stripped_on_cold_mail_and_kept_on_a_reply() {
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let running = server::start(config(dir.path(), &up)).await.unwrap();
    let addr = running.smtp_addrs[0];
    let cold = "From: Lin Wei <lin@seller.example>\r\nTo: Hans Becker <hans@buyer.example.de>\r\n\
                Subject: LED panels for your showroom\r\nDisposition-Notification-To: lin@seller.example\r\n\
                Return-Receipt-To:\r\n lin@seller.example\r\n\r\nSehr geehrter Herr Becker,\r\n\r\nwir fertigen \
                LED-Panels fuer Ladengeschaefte. Darf ich Ihnen unseren Katalog schicken?\r\n\r\nMit freundlichen Gruessen\r\nLin Wei\r\n";
    send(addr, "lin@seller.example", &["hans@buyer.example.de"], cold)
        .await
        .unwrap();
    let reply = "From: Lin Wei <lin@seller.example>\r\nTo: Hans Becker <hans@buyer.example.de>\r\n\
                 Subject: Re: LED panels for your showroom\r\nIn-Reply-To: <hans-1@buyer.example.de>\r\n\
                 References: <hans-1@buyer.example.de>\r\nDisposition-Notification-To: lin@seller.example\r\n\r\n\
                 Sehr geehrter Herr Becker,\r\n\r\nvielen Dank fuer Ihre Antwort. Der Katalog folgt morgen.\r\n\r\n\
                 Mit freundlichen Gruessen\r\nLin Wei\r\n";
    send(
        addr,
        "lin@seller.example",
        &["hans@buyer.example.de"],
        reply,
    )
    .await
    .unwrap();
    let got = up.wait_for(2, Duration::from_secs(10)).await;
    let cold_got = got
        .iter()
        .find(|m| !m.text().contains("Subject: Re:"))
        .unwrap()
        .text();
    let reply_got = got
        .iter()
        .find(|m| m.text().contains("Subject: Re:"))
        .unwrap()
        .text();
    assert!(
        !cold_got.contains("Disposition-Notification-To"),
        "{cold_got}"
    );
    assert!(
        !cold_got.contains("Return-Receipt-To")
            && !cold_got.contains(" lin@seller.example\r\n\r\n"),
        "{cold_got}"
    );
    assert!(cold_got.contains("Subject: LED panels for your showroom\r\n"));
    assert!(
        reply_got.contains("Disposition-Notification-To: lin@seller.example\r\n"),
        "{reply_got}"
    );
    running.stop().await;
}

#[tokio::test]
async fn typo_domain_is_refused_at_rcpt_with_the_suggestion() {
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let running = server::start(config(dir.path(), &up)).await.unwrap();
    let err = send(
        running.smtp_addrs[0],
        "lin@seller.example",
        &["maria@gmial.com"],
        "Subject: hi\r\n\r\nhello\r\n",
    )
    .await
    .unwrap_err();
    match err {
        mail_send::Error::UnexpectedReply(r) => {
            assert_eq!(r.code, 550);
            assert!(r.message.contains("gmail.com"), "{}", r.message);
        }
        other => panic!("expected 550, got {other:?}"),
    }
    running.stop().await;
}

/// The reviewer's side, with the real binary against the running server's
/// queue: `held list` shows the message, `held show` the reasons and the text,
/// `held reject` refuses it and the sender is told.
// Multi-threaded: the CLI runs as a blocking child process while the
// in-process server keeps going on the other worker. On one thread the
// server would freeze mid-transaction and hold SQLite's write lock until
// the CLI gave up ("database is locked").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviewer_sees_the_report_and_refuses_with_a_notice() {
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &up);
    let cfg_path = dir.path().join("sendwell.toml");
    std::fs::write(
        &cfg_path,
        format!(
            "data_dir = {:?}\n[dns]\nchecks = false\n[schedule]\nenabled = false\n[caps]\nenabled = false\n[upstream]\nurl = \"{}\"\n",
            dir.path().display().to_string(),
            up.url()
        ),
    )
    .unwrap();
    let running = server::start(cfg).await.unwrap();
    let body = "From: Lin <lin@seller.example>\r\nTo: ben@buyer.example.com.au\r\nSubject: Special offer\r\n\r\n\
                Dear %FNAME%,\r\n\r\nour new power banks are in stock at a special price.\r\n\r\nLin\r\n";
    let reply = send(
        running.smtp_addrs[0],
        "lin@seller.example",
        &["ben@buyer.example.com.au"],
        body,
    )
    .await
    .unwrap();
    let id = queued_id(&reply).0.to_string();
    up.wait_for(1, Duration::from_secs(10)).await; // the hold notice

    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sendwell"))
            .args(args)
            .arg("--config")
            .arg(&cfg_path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let list = cli(&["held", "list"]);
    assert!(
        list.contains(&id)
            && list.contains("Special offer")
            && list.contains("ben@buyer.example.com.au"),
        "{list}"
    );
    let show = cli(&["held", "show", &id]);
    assert!(
        show.contains("TEMPLATE_PLACEHOLDER") && show.contains("%FNAME%"),
        "{show}"
    );
    assert!(
        show.contains("our new power banks are in stock"),
        "the reviewer sees the text: {show}"
    );
    let rejected = cli(&["held", "reject", &id, "--reason", "template not filled in"]);
    assert!(rejected.contains("refused"), "{rejected}");

    let got = up.wait_for(2, Duration::from_secs(10)).await;
    let notice = got
        .iter()
        .find(|m| m.text().contains("Subject: [sendwell] Not sent"))
        .expect("refusal notice");
    assert_eq!(notice.rcpt_to, ["lin@seller.example"]);
    let parsed = mail_parser::MessageParser::default()
        .parse(&notice.data)
        .unwrap();
    assert!(
        parsed
            .body_text(0)
            .unwrap()
            .contains("template not filled in")
    );
    let m = running
        .store
        .message(queued_id(&reply))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.deliveries[0].state, DeliveryState::Rejected);
    assert!(
        up.messages()
            .iter()
            .all(|m| to_of(m) != "ben@buyer.example.com.au"),
        "a refused copy is never sent"
    );
    running.stop().await;
}
