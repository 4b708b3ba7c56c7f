//! End to end through the whole relay, as a user runs it: a real SMTP client
//! → sendwell (`server::start`, the same wiring as `sendwell serve`) → the
//! test upstream. Also the binary itself: SIGKILL in the middle of a run
//! loses nothing that got a 250.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::upstream::{Opts, TestUpstream};
use mail_send::SmtpClientBuilder;
use mail_send::smtp::message::Message;
use sendwell::config::Config;
use sendwell::server;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

fn config(dir: &Path, upstream: &TestUpstream) -> Config {
    common::relay_config(dir, upstream)
}

/// A message with its own Message-ID and Date, an 8-bit UTF-8 body, a line
/// that starts with a dot and one with trailing spaces: everything a relay
/// could get wrong.
const MESSAGE: &[u8] = "From: Lin Wei <lin@seller.example>\r\n\
To: Hans Becker <hans@buyer.example.de>\r\n\
Subject: Ihr Angebot / quote 2026-117\r\n\
Message-ID: <quote-117@seller.example>\r\n\
Date: Sun, 22 Nov 2026 10:00:00 +0800\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: 8bit\r\n\
\r\n\
Sehr geehrter Herr Becker,\r\n\
\r\n\
anbei unser Angebot: 500 Stück à 3,20 € — Lieferung in 14 Tagen.\r\n\
.a line that starts with a dot\r\n\
trailing spaces   \r\n\
\r\n\
Mit freundlichen Grüßen\r\n\
Lin Wei / 深圳市示例贸易有限公司\r\n"
    .as_bytes();

#[tokio::test]
async fn relayed_bytes_are_what_the_client_sent_plus_received() {
    common::install_crypto();
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let running = server::start(config(dir.path(), &up)).await.unwrap();
    let addr = running.smtp_addrs[0];

    let mut client = SmtpClientBuilder::new(addr.ip().to_string(), addr.port())
        .unwrap()
        .helo_host("pc.seller.example")
        .connect_plain()
        .await
        .unwrap();
    client
        .send(
            Message::empty()
                .from("lin@seller.example")
                .to("hans@buyer.example.de")
                .to("anna@buyer.example.de")
                // mail-send adds a CRLF before the final dot itself.
                .body(&MESSAGE[..MESSAGE.len() - 2]),
        )
        .await
        .unwrap();

    let got = up.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "one transaction carries both recipients");
    let m = &got[0];
    assert_eq!(m.mail_from, "lin@seller.example");
    let mut rcpts = m.rcpt_to.clone();
    rcpts.sort();
    assert_eq!(rcpts, ["anna@buyer.example.de", "hans@buyer.example.de"]);
    // Our Received: header first, then the client's bytes exactly.
    let text = m.text();
    assert!(
        text.starts_with("Received: from pc.seller.example ([127.0.0.1])"),
        "{text}"
    );
    let body_at = m
        .data
        .windows(MESSAGE.len())
        .position(|w| w == MESSAGE)
        .expect("original bytes intact");
    assert_eq!(
        body_at + MESSAGE.len(),
        m.data.len(),
        "nothing after the message"
    );
    let added = String::from_utf8(m.data[..body_at].to_vec()).unwrap();
    assert!(
        !added.contains("Message-ID") && !added.contains("\r\nDate:"),
        "only Received is added: {added}"
    );
    running.stop().await;
    up.stop().await;
}

#[tokio::test]
async fn missing_message_id_and_date_are_added() {
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let running = server::start(config(dir.path(), &up)).await.unwrap();
    let addr = running.smtp_addrs[0];
    let mut client = SmtpClientBuilder::new(addr.ip().to_string(), addr.port())
        .unwrap()
        .connect_plain()
        .await
        .unwrap();
    let body = b"From: lin@seller.example\r\nTo: hans@buyer.example.de\r\nSubject: hello\r\n\r\nHello Hans\r\n";
    client
        .send(
            Message::empty()
                .from("lin@seller.example")
                .to("hans@buyer.example.de")
                .body(&body[..body.len() - 2]),
        )
        .await
        .unwrap();
    let got = up.wait_for(1, Duration::from_secs(10)).await;
    let text = got[0].text();
    assert_eq!(text.matches("\r\nMessage-ID: <").count(), 1, "{text}");
    assert_eq!(text.matches("\r\nDate: ").count(), 1, "{text}");
    assert!(got[0].data.ends_with(body));
    running.stop().await;
}

/// Reads one (possibly multi-line) SMTP reply; returns its last line.
async fn reply(r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> String {
    loop {
        let mut line = String::new();
        r.read_line(&mut line).await.unwrap();
        assert!(!line.is_empty(), "server hung up");
        if line.as_bytes().get(3) != Some(&b'-') {
            return line;
        }
    }
}

/// The SMTP smuggling sequences SEC Consult published (2023): a client hides a
/// second message behind a line ending the relay reads differently from the
/// upstream. Through sendwell, each must stay one message, end to end.
#[tokio::test]
async fn smuggling_sequences_stay_one_message_at_the_upstream() {
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let running = server::start(config(dir.path(), &up)).await.unwrap();
    let addr = running.smtp_addrs[0];
    let sequences: [&[u8]; 9] = [
        b"\n.\n",
        b"\n.\r\n",
        b"\r\n.\n",
        b"\r.\r\n",
        b"\r\n.\r",
        b"\r\n\x00.\r\n",
        b"\r.\r",
        b"\n.\r",
        b"\r\n.\r\r\n",
    ];
    for (i, seq) in sequences.iter().enumerate() {
        let stream = TcpStream::connect(addr).await.unwrap();
        let (r, mut w) = stream.into_split();
        let mut r = BufReader::new(r);
        assert!(reply(&mut r).await.starts_with("220"));
        for cmd in [
            "EHLO attacker.example\r\n",
            "MAIL FROM:<lin@seller.example>\r\n",
            "RCPT TO:<hans@buyer.example.de>\r\n",
            "DATA\r\n",
        ] {
            w.write_all(cmd.as_bytes()).await.unwrap();
            let line = reply(&mut r).await;
            assert!(
                line.starts_with('2') || line.starts_with('3'),
                "{cmd}: {line}"
            );
        }
        let mut data =
            format!("From: lin@seller.example\r\nSubject: case {i}\r\n\r\nfirst message")
                .into_bytes();
        data.extend_from_slice(seq);
        data.extend_from_slice(
            b"MAIL FROM:<ceo@victim.example>\r\nRCPT TO:<hans@buyer.example.de>\r\nDATA\r\nSubject: smuggled\r\n\r\nsmuggled\r\n.\r\n",
        );
        w.write_all(&data).await.unwrap();
        // The smuggled "commands" above are still DATA, so the server is waiting
        // for the real end of data.
        w.write_all(b"\r\n.\r\nQUIT\r\n").await.unwrap();
        let end = reply(&mut r).await;
        assert!(end.starts_with("250"), "case {i}: {end}");
    }
    let got = up.wait_for(sequences.len(), Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got_all = up.messages();
    assert_eq!(
        got_all.len(),
        sequences.len(),
        "exactly one upstream message per client message: {:?}",
        got.len()
    );
    for m in &got_all {
        assert_eq!(m.mail_from, "lin@seller.example");
        assert_eq!(m.rcpt_to, ["hans@buyer.example.de"]);
        let text = m.text();
        assert!(
            text.contains("smuggled"),
            "the smuggled text stays inside the one message"
        );
        // Every line ending that reaches the upstream is CRLF, and no line is a lone dot.
        let bare = m.data.windows(2).enumerate().any(|(j, w)| {
            (w[0] == b'\r' && w[1] != b'\n')
                || (w[1] == b'\n' && w[0] != b'\r')
                || (j == 0 && w[0] == b'\n')
        });
        assert!(!bare, "bare CR or LF reached the upstream: {text:?}");
        assert!(!m.data.contains(&0), "NUL reached the upstream");
    }
    running.stop().await;
}

// ---------------------------------------------------------------- the binary

fn spawn_sendwell(config: &Path, log: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_sendwell"))
        .args(["serve", "--config"])
        .arg(config)
        .env("SENDWELL_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("start sendwell")
}

async fn wait_listening(port: u16, timeout: Duration) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(
            start.elapsed() < timeout,
            "sendwell did not listen on {port}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// With N messages accepted and the server killed (SIGKILL) while more are
/// arriving and others are being delivered, a restart delivers every message
/// that got a 250. Duplicates are allowed (at-least-once); losses are not.
#[tokio::test]
async fn sigkill_mid_run_loses_nothing_that_got_250() {
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let port = TestUpstream::free_port().await;
    let cfg_path = dir.path().join("sendwell.toml");
    std::fs::write(
        &cfg_path,
        format!(
            "data_dir = {:?}\n[server]\nlisten = [\"127.0.0.1:{port}\"]\n[dns]\nchecks = false\n[schedule]\nenabled = false\n[caps]\nenabled = false\n[upstream]\nurl = \"{}\"\n[relay]\nretry_schedule = [\"200ms\"]\npoll_interval = \"100ms\"\n[admin]\nlisten = \"127.0.0.1:0\"\n",
            dir.path().join("data").display().to_string(),
            up.url()
        ),
    )
    .unwrap();
    let log = dir.path().join("sendwell.log");
    let mut child = spawn_sendwell(&cfg_path, &log);
    wait_listening(port, Duration::from_secs(30)).await;

    // Four clients send as fast as they can; the server is killed part way.
    let accepted = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut clients = Vec::new();
    for c in 0..4 {
        let accepted = accepted.clone();
        clients.push(tokio::spawn(async move {
            let Ok(mut client) = SmtpClientBuilder::new("127.0.0.1".to_string(), port).unwrap().connect_plain().await else {
                return;
            };
            for i in 0..10_000 {
                let token = format!("crash-{c}-{i}");
                let body = format!("From: lin@seller.example\r\nSubject: {token}\r\nMessage-ID: <{token}@seller.example>\r\n\r\nbody {token}\r\n");
                match client
                    .send(Message::empty().from("lin@seller.example").to("hans@buyer.example.de").body(body.into_bytes()))
                    .await
                {
                    Ok(_) => accepted.lock().unwrap().push(token),
                    Err(_) => return,
                }
            }
        }));
    }
    // Let some be delivered and some be in flight, then pull the plug.
    let start = Instant::now();
    while accepted.lock().unwrap().len() < 150 && start.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    for c in clients {
        let _ = c.await;
    }
    let accepted = accepted.lock().unwrap().clone();
    assert!(
        accepted.len() >= 150,
        "only {} accepted before the kill",
        accepted.len()
    );
    let before = up.messages().len();

    let mut child = spawn_sendwell(&cfg_path, &log);
    let deadline = Instant::now() + Duration::from_secs(60);
    let missing = loop {
        let delivered: std::collections::HashSet<String> = up
            .messages()
            .iter()
            .filter_map(|m| {
                m.text()
                    .lines()
                    .find_map(|l| l.strip_prefix("Subject: ").map(str::to_string))
            })
            .collect();
        let missing: Vec<&String> = accepted
            .iter()
            .filter(|t| !delivered.contains(*t))
            .collect();
        if missing.is_empty() || Instant::now() > deadline {
            break missing.len();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let _ = child.kill();
    child.wait().unwrap();
    assert_eq!(
        missing,
        0,
        "{missing} of {} accepted messages never reached the upstream ({before} had before the kill); log:\n{}",
        accepted.len(),
        std::fs::read_to_string(&log).unwrap_or_default()
    );
}

/// `sendwell serve` with no upstream writes each message to the outbox and says
/// so at start-up.
#[tokio::test]
async fn binary_without_upstream_writes_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let port = TestUpstream::free_port().await;
    let cfg_path = dir.path().join("sendwell.toml");
    let data = dir.path().join("data");
    std::fs::write(
        &cfg_path,
        format!(
            "data_dir = {:?}\n[server]\nlisten = [\"127.0.0.1:{port}\"]\n[dns]\nchecks = false\n[schedule]\nenabled = false\n[admin]\nlisten = \"127.0.0.1:0\"\n",
            data.display().to_string()
        ),
    )
    .unwrap();
    let log = dir.path().join("sendwell.log");
    let mut child = spawn_sendwell(&cfg_path, &log);
    wait_listening(port, Duration::from_secs(30)).await;
    let mut client = SmtpClientBuilder::new("127.0.0.1".to_string(), port)
        .unwrap()
        .connect_plain()
        .await
        .unwrap();
    client
        .send(
            Message::empty()
                .from("lin@seller.example")
                .to("hans@buyer.example.de")
                .body(&b"Subject: outbox\r\n\r\nhi\r\n"[..]),
        )
        .await
        .unwrap();
    let outbox = data.join("outbox");
    let start = Instant::now();
    let file = loop {
        let found = std::fs::read_dir(&outbox).ok().and_then(|d| {
            d.filter_map(Result::ok)
                .find(|e| e.path().extension().is_some_and(|x| x == "eml"))
        });
        if let Some(f) = found {
            break f.path();
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "no .eml in the outbox"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains("Subject: outbox\r\n\r\nhi\r\n"), "{text}");
    let _ = child.kill();
    child.wait().unwrap();
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("no upstream configured"), "{log}");
}
