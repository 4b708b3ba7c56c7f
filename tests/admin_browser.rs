//! The review page in a real browser: a message is held through SMTP, Debian's
//! chromium (driven by playwright-core from npm, `tests/browser/`) opens
//! every page headless in English and Chinese, at a desktop width and a
//! phone's (390 px: nothing wider than the screen; no English word in the
//! Chinese chrome), then clicks Release on the phone in Chinese, and the
//! message reaches the test upstream. Screenshots land in
//! `target/admin-screenshots/`.
//!
//! Needs node, /usr/bin/chromium and `npm ci` in tests/browser (`.ci/run`
//! does all three). Without them the test says so and passes, except under
//! `CI=true`, where it fails.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::relay_config as config;
use common::review::{held_body, held_id, send};
use common::upstream::{Opts, TestUpstream};
use sendwell::server;
use sendwell::store::DeliveryState;

const CUSTOMER: &str = "ben@buyer.example.com.au";

/// What is missing to run the browser, if anything.
fn missing(dir: &std::path::Path) -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node is not installed".into());
    }
    if !std::path::Path::new(&chromium).exists() {
        return Some(format!("{chromium} is missing (apt-get install chromium)"));
    }
    if !dir.join("node_modules/playwright-core").exists() {
        return Some("playwright-core is missing (npm ci in tests/browser)".into());
    }
    None
}

#[tokio::test]
async fn a_reviewer_releases_a_held_message_in_the_browser() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let browser_dir = root.join("tests/browser");
    if let Some(why) = missing(&browser_dir) {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("browser test cannot run under CI: {why}");
        }
        eprintln!("SKIPPED a_reviewer_releases_a_held_message_in_the_browser: {why}");
        return;
    }
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), &up);
    cfg.admin.sender_timezone = Some("Asia/Shanghai".into());
    cfg.schedule.enabled = true;
    let running = server::start(cfg).await.unwrap();
    let smtp = running.smtp_addrs[0];
    // Something in the queue, waiting for business hours in Germany.
    send(
        smtp,
        "lin@seller.example",
        "hans@buyer.example.de",
        "From: Lin Wei <lin@seller.example>\r\nTo: Hans Becker <hans@buyer.example.de>\r\n\
         Subject: Catalogue 2027\r\n\r\nSehr geehrter Herr Becker,\r\n\r\nanbei unser neuer Katalog.\r\n\r\n\
         Mit freundlichen Gruessen\r\nLin Wei\r\n",
    )
    .await;
    let id = held_id(
        &send(
            smtp,
            "lin@seller.example",
            CUSTOMER,
            &held_body(CUSTOMER, "browser"),
        )
        .await,
    );
    up.wait_for(1, Duration::from_secs(10)).await; // the hold notice

    let shots = root.join("target/admin-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let base = format!("http://{}", running.admin_addr.unwrap());
    let out = tokio::process::Command::new("node")
        .arg(browser_dir.join("release.mjs"))
        .arg(&base)
        .arg(id.0.to_string())
        .arg(&shots)
        .current_dir(&browser_dir)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(90), out)
        .await
        .expect("the browser finished within 90 s")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "browser: {stdout}\n{stderr}");

    // The click released it back in line: the page said when it goes, and
    // it goes in the customer's business hours (Sydney), or now with Send now.
    assert!(stdout.contains("已放行"), "{stdout}");
    let m = running.store.message(id).await.unwrap().unwrap();
    assert_ne!(m.deliveries[0].state, DeliveryState::Held);
    if m.deliveries[0].deliver_at > jiff::Timestamp::now() + jiff::SignedDuration::from_secs(60) {
        let r = common::http::request(
            running.admin_addr.unwrap(),
            "POST",
            &format!("/api/messages/{}/send-now", id.0),
            &[],
            "",
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    // (The German catalogue may go too, when it is business hours there.)
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < deadline
        && !up.messages().iter().any(|m| m.rcpt_to == [CUSTOMER])
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = up.messages();
    let now = running.store.message(id).await.unwrap().unwrap();
    assert!(
        got.iter().any(|m| m.rcpt_to == [CUSTOMER]),
        "the released message did not reach the upstream: {:?}, {:?}",
        now.deliveries,
        got.iter().map(|m| m.rcpt_to.clone()).collect::<Vec<_>>()
    );
    for f in [
        "en-desktop-overview.png",
        "zh-CN-phone-overview.png",
        "zh-CN-phone-queue.png",
        "en-phone-door.png",
        "released.png",
        "queue.png",
    ] {
        assert!(
            shots.join(f).metadata().unwrap().len() > 10_000,
            "{f} is empty"
        );
    }
    running.stop().await;
}
