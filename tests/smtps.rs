//! Issue 10: the door speaks implicit TLS (`[server] smtps`, RFC 8314), as
//! Foxmail and the Chinese providers' guides expect ("SSL, port 465"), with
//! the rules of submission: AUTH before MAIL. Driven by Python's
//! `smtplib.SMTP_SSL` through the whole server to the test upstream.

mod common;

use std::process::Command;
use std::time::Duration;

use common::upstream::{Opts, TestUpstream};
use common::{cheap_hash, external, relay_config};
use sendwell::config::UserConfig;
use sendwell::server;

#[tokio::test]
async fn python_smtp_ssl_sends_through_the_implicit_tls_listener() {
    if !external("python3") {
        return;
    }
    common::install_crypto();
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut c = relay_config(dir.path(), &up);
    c.server.smtps = vec!["127.0.0.1:0".parse().unwrap()];
    c.server.trusted_networks = vec![];
    c.policy.enabled = false;
    c.users = vec![UserConfig {
        name: "anna".into(),
        password_hash: cheap_hash("secret"),
        ..UserConfig::default()
    }];
    let running = server::start(c).await.unwrap();
    let port = running.smtps_addrs[0].port();
    let script = format!(
        r#"
import smtplib, ssl
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP_SSL("127.0.0.1", {port}, context=ctx, timeout=20)
s.ehlo("foxmail.test")
assert "starttls" not in s.esmtp_features, s.esmtp_features
code, _ = s.mail("anna@shop.test")
assert code == 530, ("MAIL before AUTH", code)
s.rset()
s.login("anna", "secret")
s.sendmail("anna@shop.test", ["buyer@example.org"],
    "From: anna@shop.test\r\nTo: buyer@example.org\r\nSubject: Your order\r\n"
    "Message-ID: <smtps-1@shop.test>\r\nDate: Fri, 04 Dec 2026 10:00:00 +0000\r\n\r\n"
    "Thank you for your order.\r\n")
s.quit()
print("ok")
"#
    );
    let out =
        tokio::task::spawn_blocking(move || Command::new("python3").arg("-c").arg(script).output())
            .await
            .expect("join")
            .expect("python3 runs");
    assert!(
        out.status.success(),
        "smtplib failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let got = up.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got[0].rcpt_to, ["buyer@example.org"]);
    assert!(got[0].text().contains("Subject: Your order"));
    running.stop().await;
}
