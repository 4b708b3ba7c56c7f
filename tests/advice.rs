//! Issue 14 §4: advice below the hold line reaches the writer. Two messages
//! go out with warnings (a score under `hold_at`) and one without, through
//! the real SMTP door to the test upstream; `[notices] advice` decides what
//! the seller hears: one digest a day listing both (`digest`), a notice
//! each (`each`), or nothing (`off`). The clock is settable, so "a day
//! later" is a step, not a wait.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::review::{send, text_of};
use common::upstream::{Opts, Received, TestUpstream};
use jiff::{SignedDuration, Timestamp};
use sendwell::clock::FixedClock;
use sendwell::policy::{Advice, Language};
use sendwell::server;

const SELLER: &str = "lin@seller.example";
const WAIT: Duration = Duration::from_secs(10);

fn message(to: &str, subject: &str) -> String {
    format!(
        "From: Lin Wei <{SELLER}>\r\nTo: {to}\r\nSubject: {subject}\r\n\
         Message-ID: <{}@seller.example>\r\n\r\nHi Ben,\r\n\r\nyour order 4471 left our warehouse today; \
         tracking number YT2611220001.\r\n\r\nBest regards,\r\nLin\r\n",
        subject.len()
    )
}

/// Starts sendwell with `advice`, sends the three messages, waits for the
/// customers to get them; then lets `later` pass on the clock. Returns the
/// mail to the seller: what came before the step, and all of it after.
async fn run(advice: Advice, lang: Language, later: SignedDuration) -> (Vec<String>, Vec<String>) {
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::relay_config(dir.path(), &up);
    cfg.notices.advice = advice;
    cfg.notices.language = lang;
    cfg.limits.housekeeping_interval = Duration::from_millis(100);
    let start: Timestamp = "2026-12-01T09:00:00Z".parse().unwrap();
    let clock = Arc::new(FixedClock::new(start));
    let running = server::start_with_clock(cfg, clock.clone()).await.unwrap();
    let smtp = running.smtp_addrs[0];
    for (to, subject) in [
        ("ben@buyer.example.com.au", "Your order 4471 shipped!!!"),
        ("kim@buyer.example.com.au", "FREE GIFT for your order 4471"),
        ("amy@buyer.example.com.au", "Your order 4471 shipped"),
    ] {
        let reply = send(smtp, SELLER, to, &message(to, subject)).await;
        assert!(reply.contains("queued"), "{reply}");
    }
    let customers = |all: &[Received]| all.iter().filter(|m| m.rcpt_to != [SELLER]).count();
    let deadline = std::time::Instant::now() + WAIT;
    while customers(&up.messages()) < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the customers got their mail"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let to_seller = |all: Vec<Received>| -> Vec<String> {
        all.iter()
            .filter(|m| m.rcpt_to == [SELLER])
            .map(|m| text_of(&m.data) + "\n--subject: " + &subject_of(&m.data))
            .collect()
    };
    // Time for a notice sent at once to arrive, and for the digest task to
    // look twice.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let before = to_seller(up.messages());
    clock.advance(later);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let after = to_seller(up.messages());
    running.stop().await;
    (before, after)
}

fn subject_of(data: &[u8]) -> String {
    mail_parser::MessageParser::default()
        .parse(data)
        .and_then(|m| m.subject().map(str::to_string))
        .unwrap_or_default()
}

#[tokio::test]
async fn digest_lists_both_messages_with_their_fixes_once_a_day() {
    let (before, after) = run(Advice::Digest, Language::En, SignedDuration::from_hours(25)).await;
    assert!(
        before.is_empty(),
        "nothing before the day is over: {before:?}"
    );
    assert_eq!(after.len(), 1, "one digest: {after:?}");
    let digest = &after[0];
    assert!(digest.contains("Advice on 2 messages"), "{digest}");
    assert!(
        digest.contains("\"Your order 4471 shipped!!!\" to ben@buyer.example.com.au"),
        "{digest}"
    );
    assert!(digest.contains("SUBJECT_EXCLAMATION"), "{digest}");
    assert!(
        digest.contains("Fix: Remove the exclamation marks"),
        "{digest}"
    );
    assert!(
        digest.contains("\"FREE GIFT for your order 4471\" to kim@"),
        "{digest}"
    );
    assert!(digest.contains("SUBJECT_SPAM_PHRASE"), "{digest}");
    assert!(
        !digest.contains("\"Your order 4471 shipped\" to amy@"),
        "the message without warnings is not listed: {digest}"
    );
}

#[tokio::test]
async fn digest_waits_for_the_day_to_pass() {
    let (before, after) = run(Advice::Digest, Language::En, SignedDuration::from_hours(20)).await;
    assert!(
        before.is_empty() && after.is_empty(),
        "{before:?} {after:?}"
    );
}

#[tokio::test]
async fn each_sends_one_notice_per_message_in_the_notices_language() {
    let (before, after) = run(Advice::Each, Language::ZhCn, SignedDuration::from_hours(25)).await;
    assert_eq!(before.len(), 2, "one notice each, at once: {before:?}");
    assert_eq!(after.len(), 2, "and no digest later: {after:?}");
    let about = |s: &str| {
        before
            .iter()
            .filter(|n| n.contains(s))
            .cloned()
            .collect::<Vec<_>>()
    };
    let shout = about("《Your order 4471 shipped!!!》");
    assert_eq!(shout.len(), 1, "{before:?}");
    assert!(shout[0].contains("SUBJECT_EXCLAMATION"), "{}", shout[0]);
    assert!(shout[0].contains("修改建议"), "{}", shout[0]);
    assert!(shout[0].contains("已发送，附改进建议"), "{}", shout[0]);
    assert!(!shout[0].contains("FREE GIFT"), "{}", shout[0]);
    assert_eq!(about("《FREE GIFT for your order 4471》").len(), 1);
}

#[tokio::test]
async fn off_tells_no_one() {
    let (before, after) = run(Advice::Off, Language::En, SignedDuration::from_hours(25)).await;
    assert!(
        before.is_empty() && after.is_empty(),
        "{before:?} {after:?}"
    );
}
