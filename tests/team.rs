//! The team gateway, as a team's mail programs meet it: Python's smtplib
//! (STARTTLS + AUTH PLAIN, as Thunderbird and Outlook do) against the whole
//! relay started with `server::start`, relaying to the test upstream.
//! Per-user allowed From addresses, the per-user sending rate, AUTH-failure
//! throttling per user and client address, and the 587 submission listener.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::upstream::{Opts, TestUpstream};
use common::{cheap_hash, external};
use sendwell::config::{Config, UserConfig};
use sendwell::server::{self, Running};

fn config(dir: &Path, upstream: &TestUpstream) -> Config {
    let mut c = common::relay_config(dir, upstream);
    c.server.submission = vec!["127.0.0.1:0".parse().unwrap()];
    c.users = vec![
        // A login that is an address: may send as itself only (the default).
        UserConfig {
            name: "li@shop.example".into(),
            password_hash: cheap_hash("li-secret"),
            ..UserConfig::default()
        },
        UserConfig {
            name: "wang@shop.example".into(),
            password_hash: cheap_hash("wang-secret"),
            allowed_from: Some(vec![
                "wang@shop.example".into(),
                "*@support.shop.example".into(),
            ]),
            ..UserConfig::default()
        },
    ];
    c
}

/// Helpers every script starts with: `login(port, user, password, src)`
/// connects from `src`, does STARTTLS and AUTH PLAIN and returns the session
/// and AUTH's reply; `out(name, code, text)` prints one result line.
const PRELUDE: &str = r#"
import smtplib, ssl, base64
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
def out(name, code, text):
    if isinstance(text, bytes):
        text = text.decode()
    print(name + "|" + str(code) + "|" + " ".join(text.split()))
def login(port, user, password, src="127.0.0.1"):
    s = smtplib.SMTP("127.0.0.1", port, timeout=20, source_address=(src, 0))
    s.ehlo("pc.shop.example")
    s.starttls(context=ctx)
    s.ehlo("pc.shop.example")
    token = base64.b64encode(("\0" + user + "\0" + password).encode()).decode()
    code, text = s.docmd("AUTH", "PLAIN " + token)
    return s, code, text
def message(header_from):
    return ("From: " + header_from + "\r\n"
        "To: Hans Becker <hans@buyer.example>\r\n"
        "Subject: Your quote 2026-117\r\n"
        "Message-ID: <q117." + header_from.split("<")[-1].strip(">") + "@shop.example>\r\n"
        "Date: Mon, 23 Nov 2026 10:00:00 +0800\r\n"
        "\r\n"
        "Dear Mr Becker,\r\n\r\n"
        "thank you for your enquiry. Our offer for 500 pieces is 3.20 EUR each,\r\n"
        "delivered within 14 days. Shall I reserve them for you?\r\n\r\n"
        "Best regards,\r\nLi Na\r\n").encode()
"#;

/// Runs `PRELUDE + body` and returns its result lines by name: (code, text).
async fn smtplib(body: String) -> HashMap<String, (u16, String)> {
    let script = format!("{PRELUDE}\n{body}");
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
            let mut parts = l.splitn(3, '|');
            let name = parts.next()?.to_string();
            let code = parts.next()?.parse().ok()?;
            Some((name, (code, parts.next().unwrap_or_default().to_string())))
        })
        .collect()
}

async fn start(up: &TestUpstream, dir: &Path, tweak: impl FnOnce(&mut Config)) -> Running {
    common::install_crypto();
    let mut c = config(dir, up);
    tweak(&mut c);
    server::start(c).await.expect("sendwell starts")
}

fn expect(r: &HashMap<String, (u16, String)>, name: &str, code: u16, contains: &[&str]) {
    let (got, text) = r
        .get(name)
        .unwrap_or_else(|| panic!("no result {name}: {r:?}"));
    assert_eq!(*got, code, "{name}: {text}");
    for c in contains {
        assert!(text.contains(c), "{name}: '{c}' not in '{text}'");
    }
}

/// Li may not use Wang's address, neither in MAIL FROM nor in the From:
/// header behind her own envelope; her own mail goes out. Wang may use the
/// support domain he is given.
#[tokio::test]
async fn a_colleagues_address_is_refused_and_ones_own_is_relayed() {
    if !external("python3") {
        return;
    }
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&up, dir.path(), |_| {}).await;
    let port = running.submission_addrs[0].port();
    let r = smtplib(format!(
        r#"
s, code, text = login({port}, "li@shop.example", "li-secret")
out("auth", code, text)
out("mail_colleague", *s.mail("wang@shop.example"))
s.rset()
out("mail_own", *s.mail("li@shop.example"))
out("rcpt", *s.rcpt("hans@buyer.example"))
out("data_colleague_header", *s.data(message("Wang Wei <wang@shop.example>")))
out("mail_own_again", *s.mail("li@shop.example"))
s.rcpt("hans@buyer.example")
out("data_own", *s.data(message("Li Na <li@shop.example>")))
s.quit()
s, code, text = login({port}, "wang@shop.example", "wang-secret")
out("wang_support", *s.mail("help@support.shop.example"))
s.rset()
out("wang_li", *s.mail("li@shop.example"))
s.quit()
"#
    ))
    .await;
    expect(&r, "auth", 235, &[]);
    expect(
        &r,
        "mail_colleague",
        553,
        &["5.7.1", "wang@shop.example", "allowed: li@shop.example"],
    );
    expect(&r, "mail_own", 250, &[]);
    expect(
        &r,
        "data_colleague_header",
        550,
        &["5.7.1", "wang@shop.example", "SENDER_NOT_ALLOWED"],
    );
    expect(&r, "data_own", 250, &["queued as"]);
    expect(&r, "wang_support", 250, &[]);
    expect(
        &r,
        "wang_li",
        553,
        &["wang@shop.example, *@support.shop.example"],
    );

    let got = up.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "only Li's own message goes out");
    assert_eq!(got[0].mail_from, "li@shop.example");
    assert!(got[0].text().contains("From: Li Na <li@shop.example>"));
    running.stop().await;
    up.stop().await;
}

/// Issue 11 §1: every way of naming a colleague in the identity fields
/// that a mail program would show, through the running server, is refused
/// with SENDER_NOT_ALLOWED at the end of DATA; the honest shapes go out.
/// Li may use li@shop.example only; Wang is a colleague.
#[tokio::test]
async fn forged_identity_fields_are_refused_and_honest_ones_relayed() {
    if !external("python3") {
        return;
    }
    const FORGED: &[(&str, &str)] = &[
        (
            "two_from_forged_first",
            "From: Wang Wei <wang@shop.example>\r\nFrom: Li Na <li@shop.example>",
        ),
        (
            "two_from_own_first",
            "From: Li Na <li@shop.example>\r\nFrom: Wang Wei <wang@shop.example>",
        ),
        (
            "two_from_case",
            "from: wang@shop.example\r\nFROM: li@shop.example",
        ),
        (
            "two_from_space_before_colon",
            "From : wang@shop.example\r\nFrom: li@shop.example",
        ),
        ("multi_address", "From: li@shop.example, wang@shop.example"),
        (
            "multi_address_colleague_first",
            "From: Wang Wei <wang@shop.example>, Li Na <li@shop.example>",
        ),
        (
            "multi_address_own_sender",
            "From: wang@shop.example, li@shop.example\r\nSender: li@shop.example",
        ),
        (
            "multi_address_foreign_sender",
            "From: li@shop.example, hans@partner.example\r\nSender: hans@partner.example",
        ),
        (
            "display_name",
            "From: \"li@shop.example\" <wang@shop.example>",
        ),
        ("comment", "From: wang@shop.example (li@shop.example)"),
        (
            "encoded_word",
            "From: =?utf-8?b?bGlAc2hvcC5leGFtcGxl?= <wang@shop.example>",
        ),
        ("case", "From: WANG@SHOP.EXAMPLE"),
        ("folding", "From: Li Na\r\n <wang@shop.example>"),
        ("group", "From: Sales: li@shop.example, wang@shop.example;"),
        ("group_of_one", "From: Sales: wang@shop.example;"),
        ("no_address", "From: Li Na"),
        (
            "sender_colleague",
            "From: li@shop.example\r\nSender: wang@shop.example",
        ),
        (
            "two_senders",
            "From: li@shop.example, hans@partner.example\r\nSender: li@shop.example\r\nSender: wang@shop.example",
        ),
        (
            "reply_to_colleague",
            "From: li@shop.example\r\nReply-To: Wang Wei <wang@shop.example>",
        ),
        (
            "reply_to_subdomain",
            "From: li@shop.example\r\nReply-To: boss@support.shop.example",
        ),
    ];
    const HONEST: &[(&str, &str)] = &[
        ("plain", "From: Li Na <li@shop.example>"),
        ("case_own", "From: LI@Shop.Example"),
        (
            "encoded_name",
            "From: =?utf-8?b?5p2O5aic?= <li@shop.example>",
        ),
        ("folded_own", "From: Li Na\r\n <li@shop.example>"),
        ("comment_own", "From: li@shop.example (Li Na, Sales)"),
        (
            "own_sender",
            "From: li@shop.example\r\nSender: li@shop.example",
        ),
        (
            "co_author_with_sender",
            "From: li@shop.example, hans@partner.example\r\nSender: li@shop.example",
        ),
        (
            "reply_to_elsewhere",
            "From: li@shop.example\r\nReply-To: orders@forwarder.example",
        ),
    ];
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&up, dir.path(), |_| {}).await;
    let port = running.submission_addrs[0].port();
    let cases: Vec<(&str, &str)> = FORGED.iter().chain(HONEST).copied().collect();
    let json = serde_json::to_string(&cases).unwrap();
    let r = smtplib(format!(
        r#"
import json
for name, headers in json.loads(r'''{json}'''):
    # One session each: the door hangs up on a client after many refusals.
    s, code, text = login({port}, "li@shop.example", "li-secret")
    body = (headers + "\r\nTo: hans@buyer.example\r\nSubject: Your quote 2026-117\r\n"
        "Message-ID: <q117." + name + "@shop.example>\r\n"
        "Date: Mon, 23 Nov 2026 10:00:00 +0800\r\n\r\n"
        "Dear Mr Becker,\r\n\r\nour offer for 500 pieces is 3.20 EUR each.\r\n\r\nBest regards,\r\nLi Na\r\n")
    s.mail("li@shop.example")
    s.rcpt("hans@buyer.example")
    try:
        out(name, *s.data(body.encode()))
    except smtplib.SMTPDataError as e:
        out(name, e.smtp_code, e.smtp_error)
    s.quit()
"#
    ))
    .await;
    for (name, _) in FORGED {
        expect(&r, name, 550, &["5.7.1", "SENDER_NOT_ALLOWED"]);
    }
    for (name, _) in HONEST {
        expect(&r, name, 250, &["queued as"]);
    }
    let got = up.wait_for(HONEST.len(), Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        up.messages().len(),
        HONEST.len(),
        "only the honest ones go out"
    );
    for m in &got {
        assert!(!m.text().to_lowercase().contains("wang@"), "{}", m.text());
    }
    running.stop().await;
    up.stop().await;
}

/// With the judge switched off, the From: header is still checked: which
/// address a colleague may use is not a matter of style.
#[tokio::test]
async fn the_from_header_is_checked_with_the_judge_off() {
    if !external("python3") {
        return;
    }
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&up, dir.path(), |c| c.policy.enabled = false).await;
    let port = running.submission_addrs[0].port();
    let r = smtplib(format!(
        r#"
s, code, text = login({port}, "li@shop.example", "li-secret")
s.mail("li@shop.example")
s.rcpt("hans@buyer.example")
out("colleague", *s.data(message("wang@shop.example")))
s.quit()
"#
    ))
    .await;
    expect(&r, "colleague", 550, &["SENDER_NOT_ALLOWED"]);
    running.stop().await;
    up.stop().await;
}

/// Over the user's rate, RCPT gets a 4xx naming the user and the wait; the
/// recipients accepted before it still go out.
#[tokio::test]
async fn the_sending_rate_trips_with_451() {
    if !external("python3") {
        return;
    }
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&up, dir.path(), |c| {
        c.users[0].rate = Some("3/hour".to_string().try_into().unwrap());
    })
    .await;
    let port = running.submission_addrs[0].port();
    let r = smtplib(format!(
        r#"
s, code, text = login({port}, "li@shop.example", "li-secret")
s.mail("li@shop.example")
for i in range(4):
    out("rcpt%d" % i, *s.rcpt("buyer%d@buyer.example" % i))
out("data", *s.data(message("li@shop.example")))
s.quit()
s, code, text = login({port}, "wang@shop.example", "wang-secret")
s.mail("wang@shop.example")
out("wang", *s.rcpt("buyer9@buyer.example"))
s.quit()
"#
    ))
    .await;
    for i in 0..3 {
        expect(&r, &format!("rcpt{i}"), 250, &[]);
    }
    expect(
        &r,
        "rcpt3",
        451,
        &[
            "4.7.1",
            "sending rate for li@shop.example exceeded",
            "try again in",
        ],
    );
    expect(&r, "data", 250, &[]);
    expect(&r, "wang", 250, &[]);
    let got = up.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got[0].rcpt_to.len(), 3);
    running.stop().await;
    up.stop().await;
}

/// Ten wrong passwords for Li from one address: five get 535, the rest 454
/// naming Li, without a password check, and then even Li's right password
/// is refused from there. Wang behind the same address (the office NAT)
/// logs in, and so does Li from another address. Guessing through many
/// names from one address trips the address's higher bar.
#[tokio::test]
async fn ten_wrong_passwords_lock_that_user_not_the_office() {
    if !external("python3") {
        return;
    }
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&up, dir.path(), |_| {}).await;
    let port = running.submission_addrs[0].port();
    let r = smtplib(format!(
        r#"
for i in range(10):
    s, code, text = login({port}, "li@shop.example", "guess%d" % i)
    out("wrong%d" % i, code, text)
    s.close()
s, code, text = login({port}, "li@shop.example", "li-secret")
out("right_same_address", code, text)
s.close()
s, code, text = login({port}, "wang@shop.example", "wang-secret")
out("colleague_same_address", code, text)
s.close()
s, code, text = login({port}, "li@shop.example", "li-secret", src="127.0.0.2")
out("right_other_address", code, text)
s.quit()
for i in range(21):
    s, code, text = login({port}, "user%d@shop.example" % i, "guess", src="127.0.0.3")
    s.close()
s, code, text = login({port}, "wang@shop.example", "wang-secret", src="127.0.0.3")
out("guessed_through_names", code, text)
s.close()
"#
    ))
    .await;
    for i in 0..5 {
        expect(&r, &format!("wrong{i}"), 535, &["5.7.8"]);
    }
    for i in 5..10 {
        expect(
            &r,
            &format!("wrong{i}"),
            454,
            &[
                "4.7.0",
                "too many failed logins for li@shop.example from 127.0.0.1",
            ],
        );
    }
    expect(
        &r,
        "right_same_address",
        454,
        &["li@shop.example", "try again in"],
    );
    expect(&r, "colleague_same_address", 235, &[]);
    expect(&r, "right_other_address", 235, &[]);
    expect(
        &r,
        "guessed_through_names",
        454,
        &["too many failed logins from 127.0.0.3"],
    );
    running.stop().await;
    up.stop().await;
}

/// On the submission port AUTH waits for STARTTLS and MAIL waits for AUTH,
/// even from the trusted networks; the port-25 style listener keeps letting
/// a trusted client send without logging in.
#[tokio::test]
async fn submission_wants_starttls_before_auth_and_auth_before_mail() {
    if !external("python3") {
        return;
    }
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&up, dir.path(), |_| {}).await;
    let sub = running.submission_addrs[0].port();
    let smtp = running.smtp_addrs[0].port();
    let r = smtplib(format!(
        r#"
token = base64.b64encode(b"\0li@shop.example\0li-secret").decode()
s = smtplib.SMTP("127.0.0.1", {sub}, timeout=20)
s.ehlo("pc.shop.example")
out("auth_offered_before_tls", 0, str("auth" in s.esmtp_features))
out("auth_before_tls", *s.docmd("AUTH", "PLAIN " + token))
out("mail_before_auth", *s.mail("li@shop.example"))
s.starttls(context=ctx)
s.ehlo("pc.shop.example")
out("auth_offered_after_tls", 0, s.esmtp_features.get("auth", ""))
out("mail_after_tls_before_auth", *s.mail("li@shop.example"))
out("auth_after_tls", *s.docmd("AUTH", "PLAIN " + token))
out("mail_after_auth", *s.mail("li@shop.example"))
s.quit()
s = smtplib.SMTP("127.0.0.1", {smtp}, timeout=20)
s.ehlo("pc.shop.example")
out("port25_trusted_mail", *s.mail("anyone@shop.example"))
s.quit()
"#
    ))
    .await;
    expect(&r, "auth_offered_before_tls", 0, &["False"]);
    expect(
        &r,
        "auth_before_tls",
        530,
        &["5.7.0 Must issue a STARTTLS command first"],
    );
    expect(&r, "mail_before_auth", 530, &["Authentication required"]);
    expect(&r, "auth_offered_after_tls", 0, &["PLAIN", "LOGIN"]);
    expect(&r, "mail_after_tls_before_auth", 530, &[]);
    expect(&r, "auth_after_tls", 235, &[]);
    expect(&r, "mail_after_auth", 250, &[]);
    expect(&r, "port25_trusted_mail", 250, &[]);
    running.stop().await;
    up.stop().await;
}

/// The sample team config parses with the real loader.
#[test]
fn the_sample_team_config_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/team.toml");
    let (c, _) = Config::load(Some(&path)).unwrap_or_else(|e| panic!("{e}"));
    assert!(!c.server.submission.is_empty());
    assert!(c.server.tls_cert.is_some());
    assert!(c.users.iter().all(|u| u.allowed_from().is_some()));
    assert!(c.upstream.url.is_some());
}

/// Issue 15 §6: the two-node example in `deploy/` is a config sendwell
/// accepts as it is, on the shared PostgreSQL queue, with the cluster's
/// heartbeat, and the compose file mounts it where the image reads it.
#[test]
fn the_deploy_example_loads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let (c, _) = Config::load(Some(&root.join("node.toml"))).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        c.store_url().starts_with("postgres://"),
        "{}",
        c.store_url()
    );
    assert!(c.cluster.node_timeout > c.cluster.heartbeat);
    let compose = std::fs::read_to_string(root.join("compose.yaml")).unwrap();
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).unwrap();
    assert!(compose.contains("./node.toml:/etc/sendwell/sendwell.toml"));
    assert!(dockerfile.contains("--config\", \"/etc/sendwell/sendwell.toml"));
    assert!(
        dockerfile.contains("FROM rust:1.95"),
        "the image builds with the project's toolchain"
    );
}
