//! The door over real loopback sockets: mail-send, Python's smtplib and
//! swaks as clients (STARTTLS + AUTH as Outlook and Thunderbird do), the
//! open-relay refusal from an untrusted source address, the limits (each
//! answered with a code, never a dropped socket), STARTTLS injection and
//! shutdown.

mod common;

use common::{cheap_hash, external};
use std::net::{IpAddr, SocketAddr};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use mail_send::SmtpClientBuilder;
use mail_send::smtp::message::Parameters;
use sendwell::clock::SystemClock;
use sendwell::config::{Config, UserConfig};
use sendwell::gateway::Gateway;
use sendwell::shutdown::{self, Trigger};
use sendwell::smtp::Door;
use sendwell::store::{MessageId, Store};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::timeout;

/// No test waits longer than this for one reply.
const REPLY_WAIT: Duration = Duration::from_secs(20);

fn install_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

fn base_config(dir: &std::path::Path) -> Config {
    let mut c = Config {
        data_dir: dir.to_path_buf(),
        ..Config::default()
    };
    c.server.hostname = "door.test".into();
    c.users = vec![UserConfig {
        name: "anna".into(),
        password_hash: cheap_hash("secret"),
        ..UserConfig::default()
    }];
    // No test asks the system resolver.
    c.dns.checks = false;
    c
}

async fn test_store(dir: &std::path::Path) -> Store {
    let url = format!("sqlite://{}", dir.join("queue.db").display());
    Store::open(&url, 4).await.expect("open the SQLite store")
}

struct Server {
    addr: SocketAddr,
    store: Store,
    trigger: Trigger,
    handle: JoinHandle<()>,
    _dir: tempfile::TempDir,
}

async fn start(tweak: impl FnOnce(&mut Config)) -> Server {
    install_provider();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = base_config(dir.path());
    tweak(&mut config);
    let config = Arc::new(config);
    let store = test_store(dir.path()).await;
    let gateway = Arc::new(
        Gateway::new(
            Arc::clone(&config),
            store.clone(),
            Arc::new(SystemClock),
            Arc::new(tokio::sync::Notify::new()),
        )
        .expect("gateway"),
    );
    let throttles = Arc::new(sendwell::smtp::Throttles::new(store.counting()));
    let door = Arc::new(Door::new(config, gateway, throttles).expect("door"));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (trigger, shutdown) = shutdown::channel();
    let handle = tokio::spawn(door.serve(listener, shutdown));
    Server {
        addr,
        store: store.clone(),
        trigger,
        handle,
        _dir: dir,
    }
}

/// A bare-bones client speaking lines, for what real clients will not do.
struct Raw {
    r: BufReader<OwnedReadHalf>,
    w: OwnedWriteHalf,
}

impl Raw {
    async fn connect(addr: SocketAddr) -> Raw {
        Raw::wrap(TcpStream::connect(addr).await.expect("connect"))
    }

    async fn connect_from(local: IpAddr, addr: SocketAddr) -> Raw {
        let socket = TcpSocket::new_v4().expect("socket");
        socket.bind(SocketAddr::new(local, 0)).expect("bind local");
        Raw::wrap(socket.connect(addr).await.expect("connect"))
    }

    fn wrap(s: TcpStream) -> Raw {
        let (r, w) = s.into_split();
        Raw {
            r: BufReader::new(r),
            w,
        }
    }

    /// One whole reply (all its lines), or "" when the server closed.
    async fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            let n = timeout(REPLY_WAIT, self.r.read_line(&mut line))
                .await
                .expect("reply in time")
                .expect("read");
            if n == 0 {
                return all;
            }
            all.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return all;
            }
        }
    }

    async fn send(&mut self, s: &str) {
        self.w.write_all(s.as_bytes()).await.expect("write");
    }

    async fn cmd(&mut self, s: &str) -> String {
        self.send(s).await;
        self.reply().await
    }

    /// True when the server closed the connection (EOF).
    async fn closed(&mut self) -> bool {
        let mut line = String::new();
        matches!(
            timeout(REPLY_WAIT, self.r.read_line(&mut line)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    }
}

#[tokio::test]
async fn mail_send_does_starttls_and_auth() {
    let srv = start(|c| c.server.trusted_networks = vec![]).await;
    let mut client = SmtpClientBuilder::new("127.0.0.1", srv.addr.port())
        .expect("builder")
        .implicit_tls(false)
        .allow_invalid_certs()
        .helo_host("client.test")
        .credentials(("anna", "secret"))
        .timeout(REPLY_WAIT)
        .connect()
        .await
        .expect("STARTTLS + AUTH PLAIN");
    client
        .mail_from("seller@shop.test", &Parameters::new())
        .await
        .expect("MAIL accepted after AUTH");
    client
        .rcpt_to("buyer@example.de", &Parameters::new())
        .await
        .expect("RCPT accepted");
    client.rset().await.expect("RSET");
    client.quit().await.expect("QUIT");

    let wrong = SmtpClientBuilder::new("127.0.0.1", srv.addr.port())
        .expect("builder")
        .implicit_tls(false)
        .allow_invalid_certs()
        .credentials(("anna", "guess"))
        .timeout(REPLY_WAIT)
        .connect()
        .await;
    let err = wrong
        .err()
        .expect("a wrong password is refused")
        .to_string();
    assert!(err.contains("535"), "{err}");
}

/// Issue check: `trusted_networks = ["127.0.0.1/32"]`, a client bound to
/// 127.0.0.2 cannot relay without AUTH; 127.0.0.1 can.
#[tokio::test]
async fn not_an_open_relay() {
    let srv =
        start(|c| c.server.trusted_networks = vec!["127.0.0.1/32".parse().expect("net")]).await;
    let mut outsider = Raw::connect_from("127.0.0.2".parse().expect("ip"), srv.addr).await;
    assert!(
        outsider
            .reply()
            .await
            .starts_with("220 door.test ESMTP sendwell")
    );
    let ehlo = outsider.cmd("EHLO outsider.test\r\n").await;
    assert!(
        ehlo.contains("250-STARTTLS") && !ehlo.contains("AUTH"),
        "{ehlo}"
    );
    assert_eq!(
        outsider.cmd("MAIL FROM:<spam@spam.test>\r\n").await,
        "530 5.7.0 Authentication required\r\n"
    );
    assert!(
        outsider
            .cmd("RCPT TO:<victim@example.de>\r\n")
            .await
            .starts_with("503 5.5.1")
    );
    assert!(
        outsider
            .cmd("AUTH PLAIN AGFubmEAc2VjcmV0\r\n")
            .await
            .starts_with("538 5.7.11")
    );
    assert!(outsider.cmd("QUIT\r\n").await.starts_with("221"));

    let mut local = Raw::connect_from("127.0.0.1".parse().expect("ip"), srv.addr).await;
    local.reply().await;
    local.cmd("EHLO local.test\r\n").await;
    assert_eq!(
        local.cmd("MAIL FROM:<seller@shop.test>\r\n").await,
        "250 2.1.0 sender ok\r\n"
    );
    assert_eq!(
        local.cmd("RCPT TO:<buyer@example.de>\r\n").await,
        "250 2.0.0 recipient ok\r\n"
    );
}

/// Python's smtplib: STARTTLS, then AUTH LOGIN without an initial response
/// (as Outlook does), then MAIL and RCPT.
#[tokio::test]
async fn python_smtplib_starttls_auth_login() {
    if !external("python3") {
        return;
    }
    let srv = start(|c| c.server.trusted_networks = vec![]).await;
    let script = format!(
        r#"
import smtplib, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP("127.0.0.1", {port}, timeout=20)
s.ehlo("outlook.test")
code, _ = s.mail("seller@shop.test")
assert code == 530, code
s.rset()
s.starttls(context=ctx)
s.ehlo("outlook.test")
assert "LOGIN" in s.esmtp_features.get("auth", ""), s.esmtp_features
s.user, s.password = "anna", "secret"
code, _ = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
assert code == 235, code
code, _ = s.mail("seller@shop.test")
assert code == 250, code
code, _ = s.rcpt("buyer@example.de")
assert code == 250, code
s.quit()
print("ok")
"#,
        port = srv.addr.port()
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
}

/// swaks: STARTTLS + AUTH PLAIN, as Thunderbird does, up to RCPT.
#[tokio::test]
async fn swaks_starttls_auth_plain() {
    if !external("swaks") {
        return;
    }
    let srv = start(|c| c.server.trusted_networks = vec![]).await;
    let server = format!("127.0.0.1:{}", srv.addr.port());
    let out = tokio::task::spawn_blocking(move || {
        Command::new("swaks")
            .args([
                "--server",
                &server,
                "--tls",
                "--auth",
                "PLAIN",
                "--auth-user",
                "anna",
                "--auth-password",
                "secret",
            ])
            .args([
                "--from",
                "seller@shop.test",
                "--to",
                "buyer@example.de",
                "--helo",
                "thunderbird.test",
            ])
            .args(["--quit-after", "RCPT", "--timeout", "20"])
            .output()
    })
    .await
    .expect("join")
    .expect("swaks runs");
    let transcript = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "swaks failed: {transcript}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(transcript.contains("235 2.7.0"), "{transcript}");
    assert!(
        transcript.contains("250 2.0.0 recipient ok"),
        "{transcript}"
    );
}

#[tokio::test]
async fn connection_limits_answer_421() {
    let srv = start(|c| {
        c.server.trusted_networks = vec!["127.0.0.1/32".parse().expect("net")];
        c.server.max_connections_per_ip = 1;
    })
    .await;
    let stranger: IpAddr = "127.0.0.2".parse().expect("ip");
    let mut first = Raw::connect_from(stranger, srv.addr).await;
    assert!(first.reply().await.starts_with("220"));
    let mut second = Raw::connect_from(stranger, srv.addr).await;
    assert_eq!(
        second.reply().await,
        "421 4.7.0 door.test too many connections from 127.0.0.2, try again later\r\n"
    );
    assert!(second.closed().await);
    // The slot comes back when the first one leaves.
    first.cmd("QUIT\r\n").await;
    assert!(first.closed().await);
    let mut third = Raw::connect_from(stranger, srv.addr).await;
    assert!(third.reply().await.starts_with("220"));

    let srv = start(|c| {
        c.server.max_connections = 1;
        c.server.reserved_connections = 0;
    })
    .await;
    let mut a = Raw::connect_from("127.0.0.1".parse().expect("ip"), srv.addr).await;
    assert!(a.reply().await.starts_with("220"));
    let mut b = Raw::connect_from("127.0.0.3".parse().expect("ip"), srv.addr).await;
    assert_eq!(
        b.reply().await,
        "421 4.7.0 door.test too many connections, try again later\r\n"
    );
}

#[tokio::test]
async fn command_and_data_timeouts_answer_421() {
    let srv = start(|c| {
        c.server.command_timeout = Duration::from_millis(300);
        c.server.data_timeout = Duration::from_millis(600);
    })
    .await;
    let mut idle = Raw::connect(srv.addr).await;
    idle.reply().await;
    assert_eq!(
        idle.reply().await,
        "421 4.4.2 door.test timeout, closing connection\r\n"
    );
    assert!(idle.closed().await);

    // DATA has its own, whole-transfer deadline: trickling does not extend it.
    let mut slow = Raw::connect(srv.addr).await;
    slow.reply().await;
    slow.cmd("EHLO x.test\r\n").await;
    slow.cmd("MAIL FROM:<a@shop.test>\r\n").await;
    slow.cmd("RCPT TO:<b@example.de>\r\n").await;
    assert!(slow.cmd("DATA\r\n").await.starts_with("354"));
    for _ in 0..4 {
        slow.send("line\r\n").await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(slow.reply().await.starts_with("421 4.4.2"));
}

#[tokio::test]
async fn long_lines_and_big_bodies_get_answers_not_hangups() {
    let srv = start(|c| c.server.max_message_size = 1000).await;
    let mut c = Raw::connect(srv.addr).await;
    c.reply().await;
    c.cmd("EHLO x.test\r\n").await;
    let long = format!("NOOP {}\r\n", "a".repeat(10_000));
    assert_eq!(c.cmd(&long).await, "500 5.5.2 line too long\r\n");
    assert_eq!(c.cmd("NOOP\r\n").await, "250 2.0.0 OK\r\n");
    assert!(
        c.cmd("MAIL FROM:<a@shop.test> SIZE=5000\r\n")
            .await
            .starts_with("552 5.3.4")
    );
    c.cmd("MAIL FROM:<a@shop.test>\r\n").await;
    c.cmd("RCPT TO:<b@example.de>\r\n").await;
    assert!(c.cmd("DATA\r\n").await.starts_with("354"));
    let body = "0123456789\r\n".repeat(1000);
    assert!(
        c.cmd(&format!("{body}.\r\n"))
            .await
            .starts_with("552 5.3.4")
    );
    assert_eq!(c.cmd("NOOP\r\n").await, "250 2.0.0 OK\r\n");
}

fn tls_connector(dir: &std::path::Path) -> tokio_rustls::TlsConnector {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(dir.join("tls").join("cert.pem")).expect("cert") {
        roots.add(cert.expect("pem")).expect("root");
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// Commands pipelined in clear text behind STARTTLS must not be run as if
/// they came over TLS; and the generated certificate is valid for localhost.
#[tokio::test]
async fn starttls_injection_over_the_wire() {
    let srv = start(|c| c.server.trusted_networks = vec![]).await;
    let mut stream = TcpStream::connect(srv.addr).await.expect("connect");
    let mut r = BufReader::new(&mut stream);
    let mut line = String::new();
    r.read_line(&mut line).await.expect("greeting");
    stream.write_all(b"EHLO x.test\r\n").await.expect("write");
    let mut r = BufReader::new(&mut stream);
    loop {
        let mut line = String::new();
        r.read_line(&mut line).await.expect("ehlo");
        if line.as_bytes().get(3) == Some(&b' ') {
            break;
        }
    }
    stream
        .write_all(b"STARTTLS\r\nRSET\r\n")
        .await
        .expect("write");
    let mut ready = [0u8; 32];
    let n = tokio::io::AsyncReadExt::read(&mut stream, &mut ready)
        .await
        .expect("220");
    assert_eq!(&ready[..n], b"220 2.0.0 ready to start TLS\r\n");
    let name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
    let tls = tls_connector(srv._dir.path())
        .connect(name, stream)
        .await
        .expect("TLS with the generated cert");
    let (rd, mut wr) = tokio::io::split(tls);
    let mut rd = BufReader::new(rd);
    wr.write_all(b"NOOP\r\n").await.expect("write");
    let mut first = String::new();
    timeout(REPLY_WAIT, rd.read_line(&mut first))
        .await
        .expect("in time")
        .expect("read");
    // Only one reply: to the NOOP sent over TLS, none for the injected RSET.
    assert_eq!(first, "250 2.0.0 OK\r\n");
}

#[tokio::test]
async fn shutdown_lets_transactions_finish_then_421() {
    let srv = start(|c| c.server.shutdown_grace = Duration::from_millis(800)).await;
    let mut idle = Raw::connect(srv.addr).await;
    idle.reply().await;
    idle.cmd("EHLO idle.test\r\n").await;
    let mut busy = Raw::connect(srv.addr).await;
    busy.reply().await;
    busy.cmd("EHLO busy.test\r\n").await;
    busy.cmd("MAIL FROM:<a@shop.test>\r\n").await;
    srv.trigger.fire();
    // Idle sessions are told at once; new connections are not taken.
    assert!(idle.reply().await.starts_with("421 4.3.2"));
    // A session inside a transaction may go on…
    assert_eq!(
        busy.cmd("RCPT TO:<b@example.de>\r\n").await,
        "250 2.0.0 recipient ok\r\n"
    );
    // …until the grace runs out.
    assert!(busy.reply().await.starts_with("421 4.3.2"));
    timeout(REPLY_WAIT, srv.handle)
        .await
        .expect("serve returns")
        .expect("no panic");
    assert!(TcpStream::connect(srv.addr).await.is_err());
}

/// The id in the gateway's `250 2.0.0 queued as N[; when each copy goes]`.
fn queued_id(reply: &str) -> MessageId {
    let n = reply.split("queued as ").nth(1).and_then(|rest| {
        rest.split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
    });
    MessageId(n.unwrap_or_else(|| panic!("no message id in {reply:?}")))
}

async fn stored(store: &Store, id: MessageId) -> Vec<u8> {
    store
        .message_data(id)
        .await
        .expect("the message row exists")
}

async fn message_count(store: &Store) -> usize {
    let rows = store.list(None, 1000).await.expect("list");
    let ids: std::collections::BTreeSet<MessageId> = rows.iter().map(|d| d.message_id).collect();
    ids.len()
}

/// End to end through the gateway: what mail-send sends after STARTTLS +
/// AUTH is in the store byte for byte (8-bit and UTF-8 included), after our
/// submission headers, with one delivery per recipient.
#[tokio::test]
async fn mail_send_message_lands_in_the_store_byte_for_byte() {
    let srv = start(|c| c.server.trusted_networks = vec![]).await;
    let mut client = SmtpClientBuilder::new("127.0.0.1", srv.addr.port())
        .expect("builder")
        .implicit_tls(false)
        .allow_invalid_certs()
        .helo_host("client.test")
        .credentials(("anna", "secret"))
        .timeout(REPLY_WAIT)
        .connect()
        .await
        .expect("STARTTLS + AUTH");
    let message = "From: Anna <seller@shop.test>\r\nTo: buyer@example.de\r\nSubject: Grüße\r\nMessage-ID: <1@shop.test>\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGuten Tag, Ihre Bestellung ist unterwegs.\r\n.leading dot\r\n..two dots\r\nTschüß";
    let mut params = Parameters::new();
    params.add("BODY=8BITMIME");
    client
        .mail_from("seller@shop.test", &params)
        .await
        .expect("MAIL");
    client
        .rcpt_to("buyer@example.de", &Parameters::new())
        .await
        .expect("RCPT 1");
    client
        .rcpt_to("other@example.fr", &Parameters::new())
        .await
        .expect("RCPT 2");
    let reply = client
        .data(message.as_bytes())
        .await
        .expect("DATA accepted");
    assert_eq!(reply.code, 250, "{reply:?}");
    let id = queued_id(&reply.message);
    let data = stored(&srv.store, id).await;
    // mail-send always ends with CRLF "." CRLF, so the last line gains its CRLF.
    let expected = format!("{message}\r\n");
    assert!(
        data.ends_with(expected.as_bytes()),
        "stored:\n{}",
        String::from_utf8_lossy(&data)
    );
    assert!(
        data.starts_with(b"Received: "),
        "{}",
        String::from_utf8_lossy(&data)
    );
    let row = srv.store.message(id).await.expect("query").expect("row");
    assert_eq!(row.mail_from, "seller@shop.test");
    assert_eq!(row.auth_user.as_deref(), Some("anna"));
    assert_eq!(row.deliveries.len(), 2);
    client.quit().await.expect("QUIT");
}

/// Issue item 4 at the door: each smuggling sequence sent over the socket
/// gives one stored message that holds the "second message" as text.
#[tokio::test]
async fn smuggling_over_the_wire_stores_one_message() {
    // The same subject to the same buyer eight times would be held as a repeat.
    let srv = start(|c| c.caps.enabled = false).await;
    let sequences = [
        "\n.\n",
        "\n.\r\n",
        "\r\n.\n",
        "\r.\r\n",
        "\r\n.\r",
        "\r.\r",
        "\r\n\x00.\r\n",
        "\r\n.\r\r\n",
    ];
    for (i, seq) in sequences.iter().enumerate() {
        let mut c = Raw::connect(srv.addr).await;
        c.reply().await;
        c.cmd("EHLO x.test\r\n").await;
        c.cmd("MAIL FROM:<seller@shop.test>\r\n").await;
        c.cmd("RCPT TO:<buyer@example.de>\r\n").await;
        assert!(c.cmd("DATA\r\n").await.starts_with("354"));
        let smuggled = "MAIL FROM:<ceo@victim.test>\r\nRCPT TO:<buyer@example.de>\r\nDATA\r\nSubject: smuggled\r\n\r\nsend money\r\n";
        let reply = c
            .cmd(&format!(
                "Subject: one\r\n\r\nfirst{seq}{smuggled}\r\n.\r\n"
            ))
            .await;
        assert!(reply.starts_with("250 2.0.0 queued as"), "{seq:?}: {reply}");
        let data =
            String::from_utf8_lossy(&stored(&srv.store, queued_id(&reply)).await).into_owned();
        assert!(data.contains("send money"), "{seq:?}: {data:?}");
        assert_eq!(
            c.cmd("QUIT\r\n").await,
            "221 2.0.0 door.test closing connection\r\n",
            "{seq:?}"
        );
        assert_eq!(
            message_count(&srv.store).await,
            i + 1,
            "{seq:?} made a second message"
        );
    }
}

/// Real clients all the way to the store: swaks (AUTH PLAIN) and smtplib
/// (AUTH LOGIN) each leave one message.
#[tokio::test]
async fn swaks_and_smtplib_messages_are_stored() {
    let srv = start(|c| c.server.trusted_networks = vec![]).await;
    if external("swaks") {
        let server = format!("127.0.0.1:{}", srv.addr.port());
        let out = tokio::task::spawn_blocking(move || {
            Command::new("swaks")
                .args([
                    "--server",
                    &server,
                    "--tls",
                    "--auth",
                    "PLAIN",
                    "--auth-user",
                    "anna",
                    "--auth-password",
                    "secret",
                ])
                .args([
                    "--from",
                    "seller@shop.test",
                    "--to",
                    "buyer@example.de",
                    "--helo",
                    "thunderbird.test",
                ])
                .args([
                    "--header",
                    "Subject: from swaks",
                    "--body",
                    "Hallo aus swaks",
                    "--timeout",
                    "20",
                ])
                .output()
        })
        .await
        .expect("join")
        .expect("swaks runs");
        let transcript = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "swaks failed: {transcript}");
        assert!(transcript.contains("250 2.0.0 queued as"), "{transcript}");
        assert_eq!(message_count(&srv.store).await, 1);
    }
    if external("python3") {
        let script = format!(
            r#"
import smtplib, ssl
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP("127.0.0.1", {port}, timeout=20)
s.starttls(context=ctx)
s.ehlo("outlook.test")
s.user, s.password = "anna", "secret"
code, _ = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
assert code == 235, code
s.sendmail("seller@shop.test", ["buyer@example.de"], b"Subject: from smtplib\r\n\r\nHallo aus Python\r\n")
s.quit()
"#,
            port = srv.addr.port()
        );
        let before = message_count(&srv.store).await;
        let out = tokio::task::spawn_blocking(move || {
            Command::new("python3").arg("-c").arg(script).output()
        })
        .await
        .expect("join")
        .expect("python3 runs");
        assert!(
            out.status.success(),
            "smtplib failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(message_count(&srv.store).await, before + 1);
    }
}

/// The open-files limit of this process, from /proc (Linux); `None` elsewhere.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Sends one message as `from_ip`, with a login or without; the final
/// reply. Any failure is a test failure: these are the clients that must
/// get through.
async fn send_one(addr: SocketAddr, from_ip: &str, login: Option<(&str, &str)>) -> u16 {
    let mut b = SmtpClientBuilder::new("127.0.0.1", addr.port())
        .expect("builder")
        .implicit_tls(false)
        .allow_invalid_certs()
        .helo_host("office.test")
        .local_ip(from_ip.parse().expect("ip"))
        .timeout(REPLY_WAIT);
    if let Some(l) = login {
        b = b.credentials(l);
    }
    let mut client = b.connect().await.expect("connects, greeted, logged in");
    let message = format!(
        "From: seller@shop.test\r\nTo: buyer@example.de\r\nSubject: Order 7\r\nMessage-ID: <{from_ip}.7@shop.test>\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\n\r\nYour order ships today.\r\n"
    );
    client
        .mail_from("seller@shop.test", &Parameters::new())
        .await
        .expect("MAIL");
    client
        .rcpt_to("buyer@example.de", &Parameters::new())
        .await
        .expect("RCPT");
    let reply = client.data(message.as_bytes()).await.expect("DATA");
    let _ = client.quit().await;
    reply.code
}

/// Issue 11 §2: idle and one-byte-per-second connections from one address,
/// then from twenty, cannot lock the office out: the trusted mail program
/// on 127.0.0.1 and a logged-in client elsewhere still get their mail
/// stored within seconds. One address is refused at its share (421 naming
/// it) long before the door is full; from twenty, the oldest strangers are
/// closed to make room. With the default limits (500 slots, 50 per address,
/// 50 reserved) and 1,000 connections, or a tenth of both when this
/// process may not open that many files.
#[tokio::test]
async fn idle_strangers_cannot_lock_the_office_out() {
    let big = open_files_limit().is_none_or(|n| n >= 2600);
    let (conns, total, per_ip, reserve) = if big {
        (1000, 500, 50, 50)
    } else {
        eprintln!("open-files limit below 2600: 200 connections against 100 slots");
        (200, 100, 10, 10)
    };
    for addresses in [1u8, 20] {
        let srv = start(|c| {
            c.server.trusted_networks = vec!["127.0.0.1/32".parse().expect("net")];
            c.server.max_connections = total;
            c.server.max_connections_per_ip = per_ip;
            c.server.reserved_connections = reserve;
        })
        .await;
        let mut readers = Vec::new();
        let mut writers = Vec::new();
        for i in 0..conns {
            let ip = IpAddr::from([127, 0, 0, 2 + (i % usize::from(addresses)) as u8]);
            let socket = TcpSocket::new_v4().expect("socket");
            socket.bind(SocketAddr::new(ip, 0)).expect("bind local");
            let (r, w) = socket
                .connect(srv.addr)
                .await
                .expect("connect")
                .into_split();
            readers.push(BufReader::new(r));
            writers.push(w);
        }
        // Every other stranger sends one byte a second and never a whole line.
        let trickle = tokio::spawn(async move {
            loop {
                for w in writers.iter_mut().step_by(2) {
                    let _ = w.try_write(b"E");
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        let started = tokio::time::Instant::now();
        let (trusted, logged_in) = tokio::join!(
            send_one(srv.addr, "127.0.0.1", None),
            send_one(srv.addr, "127.0.0.99", Some(("anna", "secret"))),
        );
        let took = started.elapsed();
        assert_eq!((trusted, logged_in), (250, 250), "{addresses} address(es)");
        assert!(took < Duration::from_secs(10), "took {took:?}");
        // Both stored (the judge may hold one of two look-alike messages
        // for review and write its sender a notice: not this test's business).
        let rows = srv.store.list(None, 1000).await.expect("list");
        let sent = rows.iter().filter(|r| r.mail_from == "seller@shop.test");
        assert_eq!(sent.count(), 2);

        // What the strangers saw: a greeting, then perhaps a 421 to make
        // room; or a 421 at once.
        let mut seen = tokio::task::JoinSet::new();
        for mut r in readers {
            seen.spawn(async move {
                let mut first = String::new();
                let _ = timeout(REPLY_WAIT, r.read_line(&mut first)).await;
                let mut next = String::new();
                if first.starts_with("220") {
                    let _ = timeout(Duration::from_millis(200), r.read_line(&mut next)).await;
                }
                (first, next)
            });
        }
        let (mut greeted, mut refused_share, mut closed_for_room) = (0, 0, 0);
        while let Some(Ok((first, next))) = seen.join_next().await {
            if first.starts_with("220") {
                greeted += 1;
                if next.contains("busy: closing a connection that has not logged in") {
                    closed_for_room += 1;
                }
            } else if first.starts_with("421 4.7.0 door.test too many connections from 127.0.0.") {
                refused_share += 1;
            }
        }
        trickle.abort();
        eprintln!(
            "{addresses} address(es): {greeted} greeted, {closed_for_room} closed to make room, {refused_share} refused at their share, in {took:?}"
        );
        if addresses == 1 {
            assert_eq!(greeted, per_ip);
            assert_eq!(refused_share, conns - per_ip);
        } else {
            assert_eq!(refused_share, 0);
            assert_eq!(greeted, conns);
            // Room was made for the strangers beyond their share of slots,
            // and for the logged-in client.
            assert!(closed_for_room > conns - total, "{closed_for_room}");
        }
        srv.trigger.fire();
    }
}

/// A client that keeps the line busy with a byte at a time, or with
/// harmless commands, is still cut at the overall deadlines.
#[tokio::test]
async fn trickling_does_not_extend_the_deadlines() {
    let srv = start(|c| {
        c.server.command_timeout = Duration::from_millis(500);
        c.server.setup_timeout = Duration::from_millis(1500);
    })
    .await;
    let mut slow = Raw::connect(srv.addr).await;
    slow.reply().await;
    let started = tokio::time::Instant::now();
    let reply = loop {
        slow.send("N").await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Ok(r) = timeout(Duration::from_millis(1), slow.reply()).await {
            break r;
        }
    };
    assert_eq!(reply, "421 4.4.2 door.test timeout, closing connection\r\n");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    let mut busy = Raw::connect(srv.addr).await;
    busy.reply().await;
    let started = tokio::time::Instant::now();
    let reply = loop {
        let r = busy.cmd("NOOP\r\n").await;
        if !r.starts_with("250") {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(reply, "421 4.4.2 door.test timeout, closing connection\r\n");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1400) && took < Duration::from_secs(3),
        "{took:?}"
    );
}

/// Issue 11 §4: a line over 998 characters (RFC 5322 §2.1.1) is refused at
/// the end of DATA with its number, in the header or the body, 1 MB or one
/// character too many; 998 characters go through, and the session goes on.
#[tokio::test]
async fn lines_over_998_characters_are_refused_with_their_number() {
    let srv = start(|_| {}).await;
    let mut c = Raw::connect(srv.addr).await;
    c.reply().await;
    c.cmd("EHLO x.test\r\n").await;
    let head = "From: seller@shop.test\r\nTo: buyer@example.de\r\nSubject: Catalogue\r\n";
    let cases = [
        (
            format!("{head}\r\nHello,\r\n{}\r\nBye\r\n", "x".repeat(1_000_000)),
            Some(6),
        ),
        (
            format!("{head}\r\nHello,\r\n{}\r\n", "y".repeat(999)),
            Some(6),
        ),
        (
            format!("{head}X-Long: {}\r\n\r\nHi\r\n", "z".repeat(992)),
            Some(4),
        ),
        (
            format!("{head}\r\nHello,\n{}\r\n", "w".repeat(999)),
            Some(6),
        ),
        (format!("{head}\r\nHello,\r\n{}\r\n", "v".repeat(998)), None),
    ];
    for (i, (message, refused)) in cases.iter().enumerate() {
        c.cmd("MAIL FROM:<seller@shop.test>\r\n").await;
        c.cmd("RCPT TO:<buyer@example.de>\r\n").await;
        assert!(c.cmd("DATA\r\n").await.starts_with("354"));
        let reply = c.cmd(&format!("{message}.\r\n")).await;
        match refused {
            Some(n) => assert_eq!(
                reply,
                format!(
                    "550 5.6.0 line {n} is longer than 998 characters; break it or send that text as an attachment\r\n"
                ),
                "case {i}"
            ),
            None => assert!(reply.starts_with("250"), "case {i}: {reply}"),
        }
    }
    assert_eq!(c.cmd("NOOP\r\n").await, "250 2.0.0 OK\r\n");
    assert_eq!(message_count(&srv.store).await, 1);
    // Each refusal is in the audit log, as the door's, with its reply: the
    // page's refusals and a compliance export show it like the judge's.
    let refusals = srv.store.audit_door_refusals(10).await.unwrap();
    let long: Vec<_> = refusals
        .iter()
        .filter(|r| r.actor == "door" && r.fields.contains("550 5.6.0 line"))
        .collect();
    assert_eq!(long.len(), 4, "{refusals:?}");
    assert!(long.iter().all(|r| r.fields.contains("seller@shop.test")));
}
