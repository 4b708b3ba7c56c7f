//! Issue 10 §3: routes. A team gateway in front of per-person mailboxes:
//! each person's mail goes through their own upstream under their own
//! login (as Microsoft 365 and NetEase require), chosen by their sendwell
//! login or their envelope sender; the rest takes `[upstream]`. The whole
//! relay (`server::start`), Python's smtplib as the team's mail programs,
//! and one loopback test upstream per route, each accepting only its login.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::upstream::{Opts, Received, Rule, TestUpstream};
use common::{cheap_hash, external};
use sendwell::config::{Config, UpstreamConfig, UserConfig};
use sendwell::server;

const WAIT: Duration = Duration::from_secs(10);
const GOOGLE_QUOTA: &str = "5.4.5 Daily user sending limit exceeded. For more information on Gmail\n5.4.5 sending limits go to\n5.4.5  https://support.google.com/a/answer/166852 - gsmtp";

/// An upstream that takes mail only from `login`, after AUTH as `login`
/// (Microsoft 365: `535 5.7.3` for another login, `550 5.7.60` for another
/// sender).
async fn mailbox(login: &str, rules: Vec<Rule>) -> TestUpstream {
    TestUpstream::start(Opts {
        auth: Some((login.into(), format!("{login}-pw"))),
        only_sender: Some(login.into()),
        rules,
        ..Opts::default()
    })
    .await
}

/// A route to `up` under `login`, whose password is in a file in `dir`.
fn route(dir: &Path, name: &str, up: &TestUpstream, login: &str) -> UpstreamConfig {
    let pw = dir.join(format!("{name}.pw"));
    std::fs::write(&pw, format!("{login}-pw\n")).unwrap();
    UpstreamConfig {
        name: Some(name.into()),
        url: Some(up.url()),
        username: Some(login.into()),
        password_file: Some(pw),
        timeout: Duration::from_secs(2),
        connections: 2,
        ..UpstreamConfig::default()
    }
}

fn user(name: &str, allowed_from: Option<Vec<&str>>) -> UserConfig {
    UserConfig {
        name: name.into(),
        password_hash: cheap_hash(&format!("{name}-secret")),
        allowed_from: allowed_from.map(|l| l.into_iter().map(String::from).collect()),
        ..UserConfig::default()
    }
}

/// The team: Li's mail goes by her login (route `li`), mail from the
/// support domain by its sender (route `support`, whoever sends it), the
/// rest through the office's shared account (`[upstream]`).
fn config(dir: &Path, office: &TestUpstream, li: &TestUpstream, support: &TestUpstream) -> Config {
    common::install_crypto();
    let mut c = common::relay_config(dir, office);
    c.server.submission = vec!["127.0.0.1:0".parse().unwrap()];
    c.users = vec![
        user("li@shop.example", None),
        user(
            "wang@shop.example",
            Some(vec!["wang@shop.example", "*@support.shop.example"]),
        ),
    ];
    let mut li_route = route(dir, "li", li, "li@shop.example");
    li_route.users = vec!["li@shop.example".into()];
    li_route.probe_interval = Duration::from_secs(3600);
    let mut support_route = route(dir, "support", support, "help@support.shop.example");
    support_route.from = vec!["*@support.shop.example".into()];
    c.upstream.routes = vec![li_route, support_route];
    c
}

/// Sends one message per (login, envelope sender) through the submission
/// port with STARTTLS and AUTH PLAIN, as Thunderbird does; returns each
/// final reply by sender.
async fn send(port: u16, mails: &[(&str, &str)]) -> HashMap<String, (u16, String)> {
    let mut script = String::from(
        r#"
import smtplib, ssl, base64
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
def send(port, user, sender):
    s = smtplib.SMTP("127.0.0.1", port, timeout=20)
    s.ehlo("pc.shop.example")
    s.starttls(context=ctx)
    s.ehlo("pc.shop.example")
    s.login(user, user + "-secret")
    msg = ("From: <" + sender + ">\r\nTo: <hans@buyer.example>\r\n"
        "Subject: Quote for " + sender + "\r\n"
        "Message-ID: <q." + sender + ">\r\nDate: Mon, 23 Nov 2026 10:00:00 +0800\r\n\r\n"
        "Dear Mr Becker,\r\n\r\nour offer for 500 pieces is 3.20 EUR each.\r\n").encode()
    s.mail(sender)
    s.rcpt("hans@buyer.example")
    code, text = s.data(msg)
    print(sender + "|" + str(code) + "|" + " ".join(text.decode().split()))
    s.quit()
"#,
    );
    for (user, sender) in mails {
        script.push_str(&format!("send({port}, {user:?}, {sender:?})\n"));
    }
    let out =
        tokio::task::spawn_blocking(move || Command::new("python3").arg("-c").arg(script).output())
            .await
            .expect("join")
            .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "smtplib script failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .filter_map(|l| {
            let mut p = l.splitn(3, '|');
            let sender = p.next()?.to_string();
            let code = p.next()?.parse().ok()?;
            Some((sender, (code, p.next().unwrap_or_default().to_string())))
        })
        .collect()
}

fn senders(got: &[Received]) -> Vec<(String, Option<String>)> {
    let mut v: Vec<_> = got
        .iter()
        .map(|m| (m.mail_from.clone(), m.auth_user.clone()))
        .collect();
    v.sort();
    v
}

/// Two routes with two logins: each sender's mail reaches its own upstream
/// under its own login; the rest goes through `[upstream]`. `queue show`'s
/// data and the audit records name the route.
#[tokio::test]
async fn each_senders_mail_reaches_its_own_upstream_under_its_own_login() {
    if !external("python3") {
        return;
    }
    let office = TestUpstream::start(Opts::default()).await;
    let li = mailbox("li@shop.example", Vec::new()).await;
    let support = mailbox("help@support.shop.example", Vec::new()).await;
    let dir = tempfile::tempdir().unwrap();
    let running = server::start(config(dir.path(), &office, &li, &support))
        .await
        .expect("sendwell starts");
    let port = running.submission_addrs[0].port();

    let r = send(
        port,
        &[
            ("li@shop.example", "li@shop.example"),
            ("wang@shop.example", "help@support.shop.example"),
            ("wang@shop.example", "wang@shop.example"),
        ],
    )
    .await;
    for (sender, (code, text)) in &r {
        assert_eq!(*code, 250, "{sender}: {text}");
    }
    assert_eq!(r.len(), 3, "{r:?}");

    let got = li.wait_for(1, WAIT).await;
    assert_eq!(
        senders(&got),
        [("li@shop.example".into(), Some("li@shop.example".into()))],
        "Li's mail goes through her own mailbox under her login"
    );
    let got = support.wait_for(1, WAIT).await;
    assert_eq!(
        senders(&got),
        [(
            "help@support.shop.example".into(),
            Some("help@support.shop.example".into())
        )],
        "mail from the support address goes through the support mailbox, whoever sends it"
    );
    let got = office.wait_for(1, WAIT).await;
    assert_eq!(
        senders(&got),
        [("wang@shop.example".into(), None)],
        "the rest takes [upstream]"
    );
    // Nothing went anywhere twice or the wrong way.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(li.messages().len(), 1);
    assert_eq!(support.messages().len(), 1);
    assert_eq!(office.messages().len(), 1);

    // The store and the audit trail name each copy's route.
    let rows = running.store.list(None, 10).await.expect("list deliveries");
    let mut routes: Vec<(String, String)> = rows
        .iter()
        .map(|d| (d.mail_from.clone(), d.route.clone()))
        .collect();
    routes.sort();
    assert_eq!(
        routes,
        [
            ("help@support.shop.example".into(), "support".into()),
            ("li@shop.example".into(), "li".into()),
            ("wang@shop.example".into(), "default".into()),
        ]
    );
    running.stop().await;
    for up in [&office, &li, &support] {
        up.stop().await;
    }
}

/// A quota refusal pauses only the route that met it: Li's mailbox is out
/// of its daily quota, her mail waits (nothing bounced), the support
/// mailbox goes on sending, and the pause notice reaches Li by the default
/// route instead of waiting behind her own paused one.
#[tokio::test]
async fn a_paused_route_keeps_its_mail_while_the_others_send() {
    if !external("python3") {
        return;
    }
    let office = TestUpstream::start(Opts::default()).await;
    let li = mailbox("li@shop.example", vec![Rule::data("*", 550, GOOGLE_QUOTA)]).await;
    let support = mailbox("help@support.shop.example", Vec::new()).await;
    let dir = tempfile::tempdir().unwrap();
    let running = server::start(config(dir.path(), &office, &li, &support))
        .await
        .expect("sendwell starts");
    let port = running.submission_addrs[0].port();

    let r = send(
        port,
        &[
            ("li@shop.example", "li@shop.example"),
            ("wang@shop.example", "help@support.shop.example"),
        ],
    )
    .await;
    assert_eq!(r.len(), 2, "{r:?}");

    support.wait_for(1, WAIT).await;
    // Li's notice goes by [upstream]: her own route is the paused one.
    let got = office.wait_for(1, WAIT).await;
    let notice = &got[0];
    assert_eq!(notice.rcpt_to, ["li@shop.example"]);
    assert!(notice.text().contains("messages wait"), "{}", notice.text());
    let pauses = running.store.route_pauses().await.unwrap();
    assert_eq!(
        pauses.iter().map(|p| p.route.as_str()).collect::<Vec<_>>(),
        ["li"],
        "only Li's route is paused"
    );
    let rows = running.store.list(None, 10).await.unwrap();
    let li_copy = rows
        .iter()
        .find(|d| d.mail_from == "li@shop.example")
        .expect("Li's copy is kept");
    assert_eq!(li_copy.route, "li");
    assert!(
        !li_copy.state.is_final(),
        "Li's copy waits, not bounced: {:?}",
        li_copy.state
    );
    assert!(li.messages().is_empty());
    running.stop().await;
    for up in [&office, &li, &support] {
        up.stop().await;
    }
}
