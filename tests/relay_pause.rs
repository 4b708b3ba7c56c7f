//! Issue 10: a provider's refusal of the *account* pauses the route and
//! keeps its mail. The courier end to end (real SQLite store, real
//! `SmtpUpstream`), with the test upstream answering as Google, Microsoft
//! 365 and NetEase do.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::courier::{Rig, WAIT, config, start};
use common::upstream::{Opts, Received, Rule, TestUpstream};
use sendwell::relay;
use sendwell::store::{DeliveryState, MessageId};

const GOOGLE_QUOTA: &str = "5.4.5 Daily user sending limit exceeded. For more information on Gmail\n5.4.5 sending limits go to\n5.4.5  https://support.google.com/a/answer/166852 - gsmtp";
const M365_QUOTA: &str = "5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message. 0.35250:0E000000, 1.36674:0A000000, 1.61250:00000000 [EndDiagnosticData]";

/// Waits until `cond` holds on the store, or fails with `what`.
async fn until<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !cond().await {
        assert!(start.elapsed() < WAIT, "waited {WAIT:?} for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn states(rig: &Rig, ids: &[MessageId]) -> Vec<DeliveryState> {
    let mut out = Vec::new();
    for id in ids {
        out.extend(rig.states(*id).await.into_iter().map(|(_, s, _)| s));
    }
    out
}

fn notices_to<'a>(got: &'a [Received], sender: &str) -> Vec<&'a Received> {
    got.iter()
        .filter(|m| m.mail_from.is_empty() && m.rcpt_to == [sender])
        .collect()
}

/// A quota refusal (as Google or Microsoft 365 write it, after DATA) pauses
/// the route: nothing bounces, each sender gets one notice, and once the
/// provider takes mail again the next probe resumes the route and every
/// copy goes exactly once.
async fn quota_pauses_then_everything_goes_once(text: &str, code: u16) {
    let up = TestUpstream::start(Opts {
        rules: vec![Rule::data("*", code, text)],
        ..Opts::default()
    })
    .await;
    let mut c = config(up.url());
    c.upstream.probe_interval = Duration::from_millis(500);
    let rig = start(c).await;
    let mut ids = Vec::new();
    for i in 0..10 {
        let from = if i % 2 == 0 {
            "li@shop.example"
        } else {
            "wang@shop.example"
        };
        ids.push(
            rig.enqueue(
                from,
                &[&format!("buyer{i}@example.org")],
                &format!("order-{i}"),
            )
            .await,
        );
    }
    until("the route to pause", || async {
        !rig.store.route_pauses().await.unwrap().is_empty()
    })
    .await;
    let pause = rig.store.route_pauses().await.unwrap().remove(0);
    assert_eq!(pause.kind, "quota");
    assert!(
        pause.reply.starts_with(&format!("{code} {}", &text[..5])),
        "the provider's reply, verbatim: {}",
        pause.reply
    );
    // A few probes meet the same refusal; nothing bounces meanwhile.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let s = states(&rig, &ids).await;
    assert!(
        !s.contains(&DeliveryState::Bounced),
        "nothing is bounced for an account's quota: {s:?}"
    );
    assert!(up.messages().is_empty(), "nothing went while paused");

    // The quota resets.
    up.set_rules(vec![]);
    let start = Instant::now();
    loop {
        let s = states(&rig, &ids).await;
        if s.iter().all(|s| *s == DeliveryState::Delivered) {
            break;
        }
        let p = rig.store.route_pauses().await.unwrap();
        assert!(
            start.elapsed() < WAIT,
            "not all delivered: {s:?}, {p:?}, upstream got {}",
            up.messages().len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(rig.store.route_pauses().await.unwrap().is_empty());
    let got = up.wait_for(12, WAIT).await;
    for i in 0..10 {
        let to = format!("buyer{i}@example.org");
        let copies = got.iter().filter(|m| m.rcpt_to == [to.as_str()]).count();
        assert_eq!(copies, 1, "{to} got its copy once");
    }
    for sender in ["li@shop.example", "wang@shop.example"] {
        let notices = notices_to(&got, sender);
        assert_eq!(notices.len(), 1, "{sender} gets one notice per pause");
        let text = notices[0].text();
        assert!(
            text.contains("of your messages wait: the mail account cannot send now"),
            "{text}"
        );
    }
    rig.stop().await;
}

#[tokio::test]
async fn google_daily_limit_pauses_the_route_and_bounces_nothing() {
    quota_pauses_then_everything_goes_once(GOOGLE_QUOTA, 550).await;
}

#[tokio::test]
async fn microsoft365_submission_quota_pauses_the_route_and_bounces_nothing() {
    quota_pauses_then_everything_goes_once(M365_QUOTA, 554).await;
}

/// A wrong password: at most one login while 20 messages wait (not one per
/// message); a reload with the right password delivers them within seconds,
/// nothing bounced.
#[tokio::test]
async fn wrong_password_logs_in_once_and_a_reload_delivers_everything() {
    let up = TestUpstream::start(Opts {
        auth: Some(("li@shop.example".into(), "right".into())),
        ..Opts::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "wrong\n").unwrap();
    let mut c = config(up.url());
    c.upstream.username = Some("li@shop.example".into());
    c.upstream.password_file = Some(pw.clone());
    c.upstream.connections = 4;
    let rig = start(c.clone()).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(
            rig.enqueue(
                "li@shop.example",
                &[&format!("buyer{i}@example.org")],
                &format!("order-{i}"),
            )
            .await,
        );
    }
    until("the route to pause", || async {
        !rig.store.route_pauses().await.unwrap().is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pause = rig.store.route_pauses().await.unwrap().remove(0);
    assert_eq!(pause.kind, "login", "{pause:?}");
    assert!(pause.reply.starts_with("535 5.7.8"), "{}", pause.reply);
    assert_eq!(
        up.auth_attempts(),
        1,
        "one login attempt for 20 waiting messages, not one per message"
    );
    assert!(!states(&rig, &ids).await.contains(&DeliveryState::Bounced));

    // The operator fixes the password and reloads.
    std::fs::write(&pw, "right\n").unwrap();
    let upstream = relay::build_upstreams(&c).expect("upstream");
    let fixed = Instant::now();
    rig.reconfigure.apply(Arc::new(c), upstream);
    loop {
        let s = states(&rig, &ids).await;
        if s.iter().all(|s| *s == DeliveryState::Delivered) {
            break;
        }
        assert!(fixed.elapsed() < WAIT, "not all delivered: {s:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        fixed.elapsed() < Duration::from_secs(5),
        "delivered {:?} after the reload",
        fixed.elapsed()
    );
    let got = up.wait_for(20, WAIT).await;
    for i in 0..20 {
        let to = format!("buyer{i}@example.org");
        assert_eq!(got.iter().filter(|m| m.rcpt_to == [to.as_str()]).count(), 1);
    }
    rig.stop().await;
}

/// An operator's `upstream resume` (here through the store, as the command
/// does) sends the waiting mail at once, before the next probe is due.
#[tokio::test]
async fn an_operator_resume_sends_at_once() {
    let up = TestUpstream::start(Opts {
        rules: vec![Rule::data("*", 550, "MI:STC 发件人当天内累计邮件数量超过限制").times(1)],
        ..Opts::default()
    })
    .await;
    let mut c = config(up.url());
    c.upstream.connections = 1;
    let rig = start(c).await;
    let id = rig
        .enqueue("li@shop.example", &["buyer@example.org"], "order-1")
        .await;
    until("the copy to wait, the route paused", || async {
        rig.states(id).await[0].1 == DeliveryState::Deferred
            && !rig.store.route_pauses().await.unwrap().is_empty()
    })
    .await;
    assert_eq!(
        rig.store
            .resume_routes(Some("default"), None, "cli:root", "an operator resumed it")
            .await
            .unwrap(),
        1
    );
    let s = rig.settled(id).await;
    assert_eq!(s[0].1, DeliveryState::Delivered);
    rig.stop().await;
}
