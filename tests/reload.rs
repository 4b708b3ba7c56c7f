//! Live reload, as a mail admin uses it: edit `sendwell.toml`, send `SIGHUP`
//! (or press the admin page's button), and new mail follows the new file at
//! once; a broken file is refused with its reason and mail keeps flowing
//! under the running config.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::upstream::{Opts, TestUpstream};
use mail_send::SmtpClientBuilder;
use mail_send::smtp::message::Message;
use sendwell::config::Config;
use sendwell::reload;
use sendwell::server;

const WAIT: Duration = Duration::from_secs(15);

fn config_text(dir: &Path, listen: &str, upstream: &TestUpstream, max_size: u64) -> String {
    format!(
        "data_dir = {:?}\n\
         [server]\nlisten = [\"{listen}\"]\nmax_message_size = {max_size}\n\
         [dns]\nchecks = false\n[schedule]\nenabled = false\n[caps]\nenabled = false\n\
         [upstream]\nurl = \"{}\"\n\
         [relay]\nretry_schedule = [\"200ms\"]\npoll_interval = \"100ms\"\n\
         [admin]\nlisten = \"127.0.0.1:0\"\n",
        dir.join("data").display().to_string(),
        upstream.url()
    )
}

async fn send(port: u16, subject: &str, body_len: usize) -> Result<(), mail_send::Error> {
    let mut client = SmtpClientBuilder::new("127.0.0.1".to_string(), port)
        .unwrap()
        .helo_host("pc.seller.example")
        .connect_plain()
        .await?;
    let body = format!(
        "From: Lin Wei <lin@seller.example>\r\nTo: hans@buyer.example.de\r\nSubject: {subject}\r\n\
         Message-ID: <{}@seller.example>\r\n\r\nDear Hans,\r\n\r\n{}\r\n\r\nRegards,\r\nLin Wei",
        subject.replace(' ', "-"),
        // Lines of 30 characters: a line over 998 is refused on its own.
        "Your order ships on Monday.\r\n".repeat(body_len / 29 + 1)
    );
    client
        .send(
            Message::empty()
                .from("lin@seller.example")
                .to("hans@buyer.example.de")
                .body(body.into_bytes()),
        )
        .await?;
    let _ = client.quit().await;
    Ok(())
}

async fn wait_subject(up: &TestUpstream, subject: &str) {
    let start = Instant::now();
    loop {
        if up.messages().iter().any(|m| m.text().contains(subject)) {
            return;
        }
        assert!(
            start.elapsed() < WAIT,
            "'{subject}' did not reach {}",
            up.url()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn two_upstreams() -> (TestUpstream, TestUpstream) {
    (
        TestUpstream::start(Opts::default()).await,
        TestUpstream::start(Opts::default()).await,
    )
}

/// sendwell started in process from a config file relaying to `upstream`, as
/// `serve --config` does, so a reload has a file to read again.
async fn start_from_file(
    upstream: &TestUpstream,
) -> (tempfile::TempDir, std::path::PathBuf, server::Running) {
    common::install_crypto();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sendwell.toml");
    std::fs::write(
        &file,
        config_text(dir.path(), "127.0.0.1:0", upstream, 10_000_000),
    )
    .unwrap();
    let (config, _) = Config::load(Some(&file)).unwrap();
    let running = server::start(config).await.unwrap();
    (dir, file, running)
}

#[tokio::test]
async fn reload_switches_upstream_and_limits_and_keeps_running_config_on_a_bad_file() {
    let (a, b) = two_upstreams().await;
    let (dir, file, running) = start_from_file(&a).await;
    let port = running.smtp_addrs[0].port();
    let reloader = running.reloader();

    send(port, "before reload", 20_000).await.unwrap();
    wait_subject(&a, "before reload").await;

    // New upstream, a smaller size limit, and a new listen address, which
    // needs a restart and so keeps the port in use.
    std::fs::write(&file, config_text(dir.path(), "127.0.0.1:1", &b, 10_000)).unwrap();
    let applied = reloader.reload().await.expect("a good file reloads");
    assert_eq!(applied.restart_needed, vec!["server.listen"]);
    assert_eq!(reloader.config().server.max_message_size, 10_000);

    send(port, "after reload", 100).await.unwrap();
    wait_subject(&b, "after reload").await;
    let too_big = send(port, "too big now", 20_000).await;
    assert!(
        too_big.is_err(),
        "a 20 KB message must be refused under the new 10 KB limit"
    );
    assert!(
        !a.messages()
            .iter()
            .any(|m| m.text().contains("after reload")),
        "the old upstream got mail after the reload"
    );

    // A typo: refused with the file, line and key; nothing changes.
    std::fs::write(
        &file,
        format!(
            "{}\n[policy]\nenabeld = true\n",
            config_text(dir.path(), "127.0.0.1:0", &a, 10_000_000)
        ),
    )
    .unwrap();
    let err = reloader.reload().await.expect_err("a bad file is refused");
    assert!(matches!(err, reload::Error::Config(_)), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("sendwell.toml") && text.contains("enabeld"),
        "the reason names the file and the key: {text}"
    );
    assert_eq!(reloader.config().server.max_message_size, 10_000);
    send(port, "still flowing", 100).await.unwrap();
    wait_subject(&b, "still flowing").await;

    // A file that parses but cannot be built (a certificate that is not
    // there) is refused too.
    let with_cert = config_text(dir.path(), "127.0.0.1:0", &a, 10_000_000).replace(
        "[dns]",
        "tls_cert = \"missing.pem\"\ntls_key = \"missing.key\"\n[dns]",
    );
    std::fs::write(&file, with_cert).unwrap();
    let err = reloader
        .reload()
        .await
        .expect_err("a missing certificate is refused");
    assert!(err.to_string().contains("missing.pem"), "{err}");
    send(port, "still on b", 100).await.unwrap();
    wait_subject(&b, "still on b").await;

    running.stop().await;
}

/// The binary: `kill -HUP` applies the edited file; a broken file is logged
/// as not reloaded and the process keeps serving.
#[tokio::test]
async fn sighup_reloads_the_file_and_survives_a_broken_one() {
    let a = TestUpstream::start(Opts::default()).await;
    let b = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let port = TestUpstream::free_port().await;
    let listen = format!("127.0.0.1:{port}");
    let file = dir.path().join("sendwell.toml");
    std::fs::write(&file, config_text(dir.path(), &listen, &a, 10_000_000)).unwrap();
    let log = dir.path().join("sendwell.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sendwell"))
        .args(["serve", "--config"])
        .arg(&file)
        .env("SENDWELL_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start sendwell");
    let start = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(start.elapsed() < Duration::from_secs(30), "no listener");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let hup = || {
        let ok = Command::new("kill")
            .args(["-HUP", &child.id().to_string()])
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill -HUP failed");
    };
    let wait_log = |needle: &str| {
        let needle = needle.to_string();
        let log = log.clone();
        async move {
            let start = Instant::now();
            loop {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                if text.contains(&needle) {
                    return text;
                }
                assert!(start.elapsed() < WAIT, "log never said '{needle}':\n{text}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };

    send(port, "first", 100).await.unwrap();
    wait_subject(&a, "first").await;

    std::fs::write(&file, config_text(dir.path(), &listen, &b, 10_000_000)).unwrap();
    hup();
    wait_log("config reloaded").await;
    send(port, "second", 100).await.unwrap();
    wait_subject(&b, "second").await;

    std::fs::write(&file, "[server\nlisten = oops\n").unwrap();
    hup();
    let text = wait_log("config NOT reloaded").await;
    assert!(
        text.contains("sendwell.toml:1"),
        "names file and line:\n{text}"
    );
    send(port, "third", 100).await.unwrap();
    wait_subject(&b, "third").await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "sendwell exited after a bad reload"
    );

    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

/// The review page's reload action does what SIGHUP does, and answers with
/// the reason when the file is bad.
#[tokio::test]
async fn the_admin_api_reloads_and_reports_a_bad_file() {
    let (a, b) = two_upstreams().await;
    let (dir, file, running) = start_from_file(&a).await;
    let port = running.smtp_addrs[0].port();
    let admin = running.admin_addr.expect("the review page is on");

    std::fs::write(
        &file,
        config_text(dir.path(), "127.0.0.1:0", &b, 10_000_000),
    )
    .unwrap();
    let r = common::http::request(admin, "POST", "/api/reload", &[], "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["reloaded"], true);
    assert_eq!(r.json()["restart_needed"], serde_json::json!([]));
    send(port, "via the page", 100).await.unwrap();
    wait_subject(&b, "via the page").await;

    std::fs::write(&file, "[relay]\nretry_schedule = []\n").unwrap();
    let r = common::http::request(admin, "POST", "/api/reload", &[], "").await;
    assert_eq!(r.status, 400, "{}", r.body);
    let why = r.json()["error"].as_str().unwrap_or_default().to_string();
    assert!(why.contains("retry_schedule"), "the reason is given: {why}");
    send(port, "unchanged", 100).await.unwrap();
    wait_subject(&b, "unchanged").await;
    running.stop().await;
}

/// STARTTLS on `port`, checking the certificate served against the one in
/// `data_dir/tls/cert.pem` (as the only root) for `hostname`: a real TLS
/// client's check of name and dates. Returns the handshake's error, if any.
async fn starttls_as(port: u16, data_dir: &Path, hostname: &str) -> Result<(), String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, ServerName};
    use std::sync::Arc;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(data_dir.join("tls").join("cert.pem")).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let client = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let mut lines = BufReader::new(&mut stream);
    let mut reply = String::new();
    lines.read_line(&mut reply).await.unwrap();
    stream
        .write_all(b"EHLO pc.seller.example\r\n")
        .await
        .unwrap();
    let mut lines = BufReader::new(&mut stream);
    loop {
        reply.clear();
        lines.read_line(&mut reply).await.unwrap();
        if reply.as_bytes().get(3) == Some(&b' ') {
            break;
        }
    }
    stream.write_all(b"STARTTLS\r\n").await.unwrap();
    let mut ready = [0u8; 64];
    let n = tokio::io::AsyncReadExt::read(&mut stream, &mut ready)
        .await
        .unwrap();
    assert!(ready[..n].starts_with(b"220 "), "{:?}", &ready[..n]);
    let name = ServerName::try_from(hostname.to_string()).unwrap();
    tokio_rustls::TlsConnector::from(Arc::new(client))
        .connect(name, stream)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Issue 14 §7: the generated certificate names `server.hostname`, so a
/// mail program that checks it against that name accepts it; a new host
/// name in the file gets a new certificate on reload.
#[tokio::test]
async fn the_generated_certificate_follows_the_host_name_on_reload() {
    let up = TestUpstream::start(Opts::default()).await;
    common::install_crypto();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sendwell.toml");
    let text = |host: &str| {
        config_text(dir.path(), "127.0.0.1:0", &up, 10_000_000)
            .replace("[server]\n", &format!("[server]\nhostname = \"{host}\"\n"))
    };
    std::fs::write(&file, text("gw-one.shop.example")).unwrap();
    let (config, _) = Config::load(Some(&file)).unwrap();
    let running = server::start(config).await.unwrap();
    let port = running.smtp_addrs[0].port();
    let data = dir.path().join("data");

    starttls_as(port, &data, "gw-one.shop.example")
        .await
        .expect("the certificate names the host");
    assert!(
        starttls_as(port, &data, "elsewhere.example").await.is_err(),
        "a name the certificate does not carry is refused by the client"
    );

    std::fs::write(&file, text("gw-two.shop.example")).unwrap();
    running.reloader().reload().await.expect("reloads");
    starttls_as(port, &data, "gw-two.shop.example")
        .await
        .expect("after the reload, a certificate for the new name");
    assert!(
        starttls_as(port, &data, "gw-one.shop.example")
            .await
            .is_err(),
        "the old name is gone"
    );
    running.stop().await;
}
