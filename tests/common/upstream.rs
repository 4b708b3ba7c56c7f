//! `TestUpstream`: a small, scriptable SMTP smarthost for the integration
//! tests, built on `smtp-proto` (the same grammar the door uses) and tokio.
//! It stands where the company's smarthost stands in production, and every
//! end-to-end test points sendwell's `upstream.url` at it.
//!
//! What it does:
//! - listens on `127.0.0.1` (a free port, or a given one), plain SMTP by
//!   default; optionally offers STARTTLS or speaks implicit TLS (a fresh
//!   self-signed rcgen certificate, so the client needs `tls_verify = false`);
//! - optionally offers AUTH PLAIN and/or LOGIN and then requires it before MAIL;
//! - records every accepted transaction as a [`Received`]: envelope, the
//!   exact DATA bytes after dot-unstuffing (ending in the CRLF before the
//!   final dot), whether TLS was on, the AUTH user, the MAIL parameters, and
//!   which connection carried it;
//! - answers as scripted, per recipient, at RCPT or at DATA ([`Rule`]s,
//!   optionally only the first N times, or a [`Script`] closure), 250
//!   otherwise;
//! - can be stopped and started again on the same port (outage tests), keeping
//!   what it recorded; or made `silent` (accepts TCP, never says a word:
//!   timeout tests), or slow to answer the final dot (`data_delay`).
//!
//! Use from a test file:
//! ```ignore
//! mod common;
//! use common::upstream::{Opts, Rule, TestUpstream};
//!
//! let up = TestUpstream::start(Opts {
//!     rules: vec![Rule::rcpt("nobody@example.org", 550, "5.1.1 no such user")],
//!     ..Opts::default()
//! }).await;
//! config.upstream.url = Some(up.url());            // "smtp://127.0.0.1:PORT"
//! // … send mail through sendwell …
//! let got = up.wait_for(1, Duration::from_secs(10)).await;
//! assert_eq!(got[0].rcpt_to, ["buyer@example.org"]);
//! up.stop().await;  // outage
//! up.restart().await; // same port, same records
//! ```
//! Call `common::install_crypto()` first when TLS is involved.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use smtp_proto::request::receiver::{DataReceiver, RequestReceiver};
use smtp_proto::{
    AUTH_LOGIN, AUTH_PLAIN, AUTH_XOAUTH2, EXT_8BIT_MIME, EXT_AUTH, EXT_ENHANCED_STATUS_CODES,
    EXT_PIPELINING, EXT_SIZE, EXT_SMTP_UTF8, EXT_START_TLS, EhloResponse, MAIL_BODY_8BITMIME,
    MAIL_SMTPUTF8, Request,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

/// Where in the transaction a scripted answer is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Answer the RCPT TO of this recipient.
    Rcpt,
    /// Answer the final dot of a transaction that includes this recipient.
    Data,
}

/// A scripted answer. `text` should start with the enhanced status code,
/// e.g. `Rule::rcpt("a@example.org", 451, "4.7.1 greylisted")`.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The recipient it applies to (case-insensitive), or `*` for anyone.
    pub rcpt: String,
    pub stage: Stage,
    pub code: u16,
    pub text: String,
    /// Only the first N matches get this answer; then it is spent.
    pub times: Option<usize>,
}

impl Rule {
    pub fn rcpt(rcpt: &str, code: u16, text: &str) -> Rule {
        Rule {
            rcpt: rcpt.into(),
            stage: Stage::Rcpt,
            code,
            text: text.into(),
            times: None,
        }
    }

    pub fn data(rcpt: &str, code: u16, text: &str) -> Rule {
        Rule {
            rcpt: rcpt.into(),
            stage: Stage::Data,
            code,
            text: text.into(),
            times: None,
        }
    }

    /// Answer like this only `n` times (e.g. `451` once, then accept).
    pub fn times(mut self, n: usize) -> Rule {
        self.times = Some(n);
        self
    }
}

/// A scripted answer as a function of stage and recipient; `None` = 250.
/// Consulted after the [`Rule`]s.
pub type Script = Arc<dyn Fn(Stage, &str) -> Option<(u16, String)> + Send + Sync>;

#[derive(Clone)]
pub struct Opts {
    /// Offer STARTTLS on the plain port.
    pub starttls: bool,
    /// Speak TLS from the first byte (an `smtps://` upstream).
    pub implicit_tls: bool,
    /// Offer AUTH with these credentials, and require it.
    pub auth: Option<(String, String)>,
    /// Which mechanisms AUTH offers (`smtp_proto::AUTH_PLAIN | AUTH_LOGIN`
    /// by default; both are implemented).
    pub auth_mechanisms: u64,
    pub rules: Vec<Rule>,
    pub script: Option<Script>,
    /// Announce SMTPUTF8 / 8BITMIME in EHLO.
    pub smtputf8: bool,
    pub eight_bit: bool,
    /// Announce SIZE with this limit (0 = do not announce).
    pub size: usize,
    /// Accept connections but never send a byte.
    pub silent: bool,
    /// Wait this long before answering the final dot (a slow smarthost).
    pub data_delay: Duration,
    /// Refuse any MAIL FROM but this address, as Microsoft 365 refuses
    /// anything not sent as its login (`550 5.7.60`).
    pub only_sender: Option<String>,
    /// Offer AUTH XOAUTH2 and require it: the check says whether the
    /// (user, access token) pair is good now. A refusal is answered as
    /// Google does (a 334 with a base64 JSON error, then 535).
    pub xoauth2: Option<TokenCheck>,
}

/// Whether an XOAUTH2 login with (user, token) is accepted now.
pub type TokenCheck = Arc<dyn Fn(&str, &str) -> bool + Send + Sync>;

impl Default for Opts {
    fn default() -> Self {
        Opts {
            starttls: false,
            implicit_tls: false,
            auth: None,
            auth_mechanisms: AUTH_PLAIN | AUTH_LOGIN,
            rules: Vec::new(),
            script: None,
            smtputf8: true,
            eight_bit: true,
            size: 0,
            silent: false,
            data_delay: Duration::ZERO,
            only_sender: None,
            xoauth2: None,
        }
    }
}

/// One transaction the upstream accepted (250 after the final dot).
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// DATA after dot-unstuffing: the message, ending with its last CRLF.
    pub data: Vec<u8>,
    pub tls: bool,
    pub auth_user: Option<String>,
    /// Which connection (1, 2, …) carried it.
    pub connection: u64,
    /// MAIL FROM parameters seen.
    pub smtputf8: bool,
    pub body_8bitmime: bool,
    pub size_param: usize,
    /// Where the connection came from (a proxy's outgoing address, say).
    pub peer: SocketAddr,
}

impl Received {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

struct Shared {
    opts: Opts,
    /// Rules with how often each has been used.
    rules: Mutex<Vec<(Rule, usize)>>,
    received: Mutex<Vec<Received>>,
    connections: AtomicU64,
    /// AUTH commands seen (logins tried), right or wrong.
    auth_attempts: AtomicU64,
    acceptor: Option<TlsAcceptor>,
}

pub struct TestUpstream {
    port: u16,
    shared: Arc<Shared>,
    running: Mutex<Option<JoinHandle<()>>>,
}

impl TestUpstream {
    /// Starts on a free port of 127.0.0.1.
    pub async fn start(opts: Opts) -> TestUpstream {
        Self::start_on(0, opts).await
    }

    /// Starts on `port` (0 = any free one).
    pub async fn start_on(port: u16, opts: Opts) -> TestUpstream {
        let acceptor = (opts.starttls || opts.implicit_tls).then(tls_acceptor);
        let rules = opts.rules.iter().cloned().map(|r| (r, 0)).collect();
        let shared = Arc::new(Shared {
            opts,
            rules: Mutex::new(rules),
            received: Mutex::new(Vec::new()),
            connections: AtomicU64::new(0),
            auth_attempts: AtomicU64::new(0),
            acceptor,
        });
        let listener = bind(port).await;
        let port = listener
            .local_addr()
            .expect("bound listener has an address")
            .port();
        let up = TestUpstream {
            port,
            shared,
            running: Mutex::new(None),
        };
        up.serve(listener);
        up
    }

    /// A port that was free a moment ago, for an upstream that starts later.
    pub async fn free_port() -> u16 {
        let l = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        l.local_addr().expect("address").port()
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `upstream.url` that points sendwell here.
    pub fn url(&self) -> String {
        let scheme = if self.shared.opts.implicit_tls {
            "smtps"
        } else {
            "smtp"
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// Every accepted transaction so far, in order.
    pub fn messages(&self) -> Vec<Received> {
        self.shared
            .received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// How many TCP connections were accepted so far.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// How many logins (AUTH commands) were tried so far.
    pub fn auth_attempts(&self) -> u64 {
        self.shared.auth_attempts.load(Ordering::SeqCst)
    }

    /// Replaces the scripted answers (their use counts start again).
    pub fn set_rules(&self, rules: Vec<Rule>) {
        *self.shared.rules.lock().unwrap_or_else(|e| e.into_inner()) =
            rules.into_iter().map(|r| (r, 0)).collect();
    }

    /// Waits until at least `n` transactions were accepted; panics with what
    /// did arrive after `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            if start.elapsed() > timeout {
                let summary: Vec<String> = got
                    .iter()
                    .map(|m| format!("<{}> -> {:?}", m.mail_from, m.rcpt_to))
                    .collect();
                panic!(
                    "test upstream: waited {timeout:?} for {n} message(s), got {}: {summary:?}",
                    got.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Closes the listener and every open connection (an outage). The port is
    /// free again when this returns.
    pub async fn stop(&self) {
        let handle = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(h) = handle {
            h.abort();
            let _ = h.await;
        }
    }

    /// Listens again on the same port, keeping records and rules.
    pub async fn restart(&self) {
        self.stop().await;
        let listener = bind(self.port).await;
        self.serve(listener);
    }

    fn serve(&self, listener: TcpListener) {
        let shared = self.shared.clone();
        let handle = tokio::spawn(async move {
            // Owned by the accept task, so aborting it drops every session.
            let mut sessions = JoinSet::new();
            loop {
                let Ok((tcp, peer)) = listener.accept().await else {
                    continue;
                };
                while sessions.try_join_next().is_some() {}
                let id = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
                sessions.spawn(connection(shared.clone(), tcp, id, peer));
            }
        });
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
    }
}

impl Drop for TestUpstream {
    fn drop(&mut self) {
        if let Some(h) = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            h.abort();
        }
    }
}

/// Binds 127.0.0.1:port, retrying briefly: right after a stop the old
/// socket may take a moment to go.
async fn bind(port: u16) -> TcpListener {
    let mut tries = 0;
    loop {
        match TcpListener::bind(("127.0.0.1", port)).await {
            Ok(l) => return l,
            Err(e) if tries < 50 => {
                tries += 1;
                let _ = e;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("test upstream: cannot bind 127.0.0.1:{port}: {e}"),
        }
    }
}

fn tls_acceptor() -> TlsAcceptor {
    let ck =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("rcgen makes a self-signed certificate");
    let cert: CertificateDer<'static> = ck.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("aws-lc-rs supports the default protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .expect("the rcgen key matches its certificate");
    TlsAcceptor::from(Arc::new(config))
}

async fn connection(shared: Arc<Shared>, tcp: TcpStream, id: u64, peer: SocketAddr) {
    if shared.opts.silent {
        let _hold = tcp;
        std::future::pending::<()>().await;
        return;
    }
    let _ = tcp.set_nodelay(true);
    let acceptor = shared.acceptor.clone();
    if shared.opts.implicit_tls {
        let Some(acceptor) = acceptor else { return };
        let Ok(tls) = acceptor.accept(tcp).await else {
            return;
        };
        let _ = session(tls, &shared, id, true, peer).await;
        return;
    }
    // Some(stream): the client asked for STARTTLS.
    if let Ok(Some(tcp)) = session(tcp, &shared, id, false, peer).await {
        let Some(acceptor) = acceptor else { return };
        let Ok(tls) = acceptor.accept(tcp).await else {
            return;
        };
        let _ = session(tls, &shared, id, true, peer).await;
    }
}

#[derive(Default)]
struct Txn {
    mail_from: String,
    rcpt_to: Vec<String>,
    smtputf8: bool,
    body_8bitmime: bool,
    size: usize,
}

/// One SMTP session on `s`. Returns the stream when the client asked for
/// STARTTLS (the caller upgrades it and runs a fresh session over TLS).
async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    sh: &Shared,
    conn_id: u64,
    tls: bool,
    peer: SocketAddr,
) -> std::io::Result<Option<S>> {
    let requires_auth = sh.opts.auth.is_some() || sh.opts.xoauth2.is_some();
    // After STARTTLS the client speaks first (EHLO); no greeting.
    let greet = !tls || sh.opts.implicit_tls;
    if greet {
        s.write_all(b"220 test-upstream ESMTP ready\r\n").await?;
    }
    let mut buf: Vec<u8> = Vec::new();
    let mut rx = RequestReceiver::default();
    let mut txn: Option<Txn> = None;
    let mut auth_user: Option<String> = None;
    loop {
        let (parsed, consumed) = {
            let mut it = buf.iter();
            let r = rx.ingest(&mut it).map(|r| r.into_owned());
            (r, buf.len() - it.as_slice().len())
        };
        buf.drain(..consumed);
        let req = match parsed {
            Ok(r) => r,
            Err(smtp_proto::Error::NeedsMoreData { .. }) => {
                if !fill(&mut s, &mut buf).await? {
                    return Ok(None);
                }
                continue;
            }
            Err(e) => {
                reply(&mut s, 500, &format!("5.5.2 {e}")).await?;
                continue;
            }
        };
        match req {
            Request::Ehlo { .. } => {
                txn = None;
                let mut e = EhloResponse::new("test-upstream");
                e.capabilities = EXT_PIPELINING | EXT_ENHANCED_STATUS_CODES;
                if sh.opts.smtputf8 {
                    e.capabilities |= EXT_SMTP_UTF8;
                }
                if sh.opts.eight_bit {
                    e.capabilities |= EXT_8BIT_MIME;
                }
                if sh.opts.size > 0 {
                    e.capabilities |= EXT_SIZE;
                    e.size = sh.opts.size;
                }
                if sh.opts.starttls && !tls {
                    e.capabilities |= EXT_START_TLS;
                }
                if sh.opts.auth.is_some() {
                    e.capabilities |= EXT_AUTH;
                    e.auth_mechanisms = sh.opts.auth_mechanisms;
                }
                if sh.opts.xoauth2.is_some() {
                    e.capabilities |= EXT_AUTH;
                    e.auth_mechanisms |= AUTH_XOAUTH2;
                }
                let mut out = Vec::new();
                e.write(&mut out)?;
                s.write_all(&out).await?;
            }
            Request::Helo { .. } => reply(&mut s, 250, "test-upstream").await?,
            Request::StartTls if sh.opts.starttls && !tls => {
                reply(&mut s, 220, "2.0.0 ready to start TLS").await?;
                s.flush().await?;
                return Ok(Some(s));
            }
            Request::Auth {
                mechanism: AUTH_XOAUTH2,
                initial_response,
            } if sh.opts.xoauth2.is_some() => {
                sh.auth_attempts.fetch_add(1, Ordering::SeqCst);
                let raw = B64.decode(initial_response.trim()).unwrap_or_default();
                let raw = String::from_utf8_lossy(&raw).into_owned();
                // user=U ^A auth=Bearer T ^A ^A
                let mut user = None;
                let mut token = None;
                for part in raw.split('\x01') {
                    if let Some(u) = part.strip_prefix("user=") {
                        user = Some(u.to_string());
                    } else if let Some(t) = part.strip_prefix("auth=Bearer ") {
                        token = Some(t.to_string());
                    }
                }
                let check = sh.opts.xoauth2.as_ref().expect("guarded");
                match (user, token) {
                    (Some(u), Some(t)) if check(&u, &t) => {
                        auth_user = Some(u);
                        reply(&mut s, 235, "2.7.0 Accepted").await?;
                    }
                    _ => {
                        let err = B64.encode(
                            r#"{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}"#,
                        );
                        reply(&mut s, 334, &err).await?;
                        let _ = read_line(&mut s, &mut buf).await?;
                        reply(
                            &mut s,
                            535,
                            "5.7.8 Username and Password not accepted. For more information, go to https://support.google.com/mail/?p=BadCredentials - gsmtp",
                        )
                        .await?;
                    }
                }
            }
            Request::Auth {
                mechanism,
                initial_response,
            } if sh.opts.auth.is_some() => {
                sh.auth_attempts.fetch_add(1, Ordering::SeqCst);
                let creds = match mechanism {
                    AUTH_PLAIN => {
                        let resp = if initial_response.is_empty() {
                            reply(&mut s, 334, "").await?;
                            read_line(&mut s, &mut buf).await?
                        } else {
                            Some(initial_response)
                        };
                        resp.and_then(|r| B64.decode(r.trim()).ok())
                            .and_then(|raw| {
                                let parts: Vec<&[u8]> = raw.split(|&b| b == 0).collect();
                                match parts.as_slice() {
                                    [_, u, p] => Some((
                                        String::from_utf8_lossy(u).into_owned(),
                                        String::from_utf8_lossy(p).into_owned(),
                                    )),
                                    _ => None,
                                }
                            })
                    }
                    AUTH_LOGIN => {
                        let user = if initial_response.is_empty() {
                            reply(&mut s, 334, "VXNlcm5hbWU6").await?;
                            read_line(&mut s, &mut buf).await?
                        } else {
                            Some(initial_response)
                        };
                        reply(&mut s, 334, "UGFzc3dvcmQ6").await?;
                        let pass = read_line(&mut s, &mut buf).await?;
                        let dec = |v: Option<String>| {
                            v.and_then(|v| B64.decode(v.trim()).ok())
                                .map(|b| String::from_utf8_lossy(&b).into_owned())
                        };
                        dec(user).zip(dec(pass))
                    }
                    _ => {
                        reply(&mut s, 504, "5.5.4 mechanism not supported").await?;
                        continue;
                    }
                };
                let ok = matches!((&creds, &sh.opts.auth), (Some(c), Some(want)) if c == want);
                if ok {
                    auth_user = creds.map(|(u, _)| u);
                    reply(&mut s, 235, "2.7.0 authenticated").await?;
                } else {
                    reply(&mut s, 535, "5.7.8 authentication credentials invalid").await?;
                }
            }
            Request::Mail { from } => {
                if requires_auth && auth_user.is_none() {
                    reply(&mut s, 530, "5.7.0 authentication required").await?;
                    continue;
                }
                if let Some(only) = &sh.opts.only_sender
                    && !from.address.eq_ignore_ascii_case(only)
                {
                    let text =
                        "5.7.60 SMTP; Client does not have permissions to send as this sender";
                    reply(&mut s, 550, text).await?;
                    continue;
                }
                txn = Some(Txn {
                    mail_from: from.address,
                    rcpt_to: Vec::new(),
                    smtputf8: from.flags & MAIL_SMTPUTF8 != 0,
                    body_8bitmime: from.flags & MAIL_BODY_8BITMIME != 0,
                    size: from.size,
                });
                reply(&mut s, 250, "2.1.0 sender ok").await?;
            }
            Request::Rcpt { to } => {
                let Some(t) = txn.as_mut() else {
                    reply(&mut s, 503, "5.5.1 MAIL first").await?;
                    continue;
                };
                match scripted(sh, Stage::Rcpt, &to.address) {
                    Some((code, text)) => reply(&mut s, code, &text).await?,
                    None => {
                        t.rcpt_to.push(to.address);
                        reply(&mut s, 250, "2.1.5 recipient ok").await?;
                    }
                }
            }
            Request::Data => {
                let Some(t) = txn.take().filter(|t| !t.rcpt_to.is_empty()) else {
                    reply(&mut s, 554, "5.5.1 no valid recipients").await?;
                    continue;
                };
                reply(&mut s, 354, "end data with <CR><LF>.<CR><LF>").await?;
                let mut drx = DataReceiver::new();
                let mut body = Vec::new();
                loop {
                    let (done, consumed) = {
                        let mut it = buf.iter();
                        let done = drx.ingest(&mut it, &mut body);
                        (done, buf.len() - it.as_slice().len())
                    };
                    buf.drain(..consumed);
                    if done {
                        break;
                    }
                    if !fill(&mut s, &mut buf).await? {
                        return Ok(None);
                    }
                }
                if !sh.opts.data_delay.is_zero() {
                    tokio::time::sleep(sh.opts.data_delay).await;
                }
                let answer = t.rcpt_to.iter().find_map(|r| scripted(sh, Stage::Data, r));
                match answer {
                    Some((code, text)) => reply(&mut s, code, &text).await?,
                    None => {
                        let n = {
                            let mut got = sh.received.lock().unwrap_or_else(|e| e.into_inner());
                            got.push(Received {
                                mail_from: t.mail_from,
                                rcpt_to: t.rcpt_to,
                                data: body,
                                tls,
                                auth_user: auth_user.clone(),
                                connection: conn_id,
                                smtputf8: t.smtputf8,
                                body_8bitmime: t.body_8bitmime,
                                size_param: t.size,
                                peer,
                            });
                            got.len()
                        };
                        reply(&mut s, 250, &format!("2.0.0 ok: queued as T{n}")).await?;
                    }
                }
            }
            Request::Rset => {
                txn = None;
                reply(&mut s, 250, "2.0.0 reset").await?;
            }
            Request::Noop { .. } => reply(&mut s, 250, "2.0.0 ok").await?,
            Request::Quit => {
                reply(&mut s, 221, "2.0.0 bye").await?;
                let _ = s.shutdown().await;
                return Ok(None);
            }
            other => {
                reply(
                    &mut s,
                    502,
                    &format!("5.5.1 {} not implemented", other.name()),
                )
                .await?
            }
        }
    }
}

/// The scripted answer for this stage and recipient, if any.
fn scripted(sh: &Shared, stage: Stage, rcpt: &str) -> Option<(u16, String)> {
    {
        let mut rules = sh.rules.lock().unwrap_or_else(|e| e.into_inner());
        for (rule, used) in rules.iter_mut() {
            let matches =
                rule.stage == stage && (rule.rcpt == "*" || rule.rcpt.eq_ignore_ascii_case(rcpt));
            if matches && rule.times.is_none_or(|n| *used < n) {
                *used += 1;
                return Some((rule.code, rule.text.clone()));
            }
        }
    }
    sh.opts.script.as_ref().and_then(|f| f(stage, rcpt))
}

/// Writes `code text`; a `text` with line breaks becomes a multi-line
/// reply (`550-…` lines, then `550 …`), as providers send long ones.
async fn reply<S: AsyncWrite + Unpin>(s: &mut S, code: u16, text: &str) -> std::io::Result<()> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let sep = if i + 1 == lines.len() { ' ' } else { '-' };
        out.push_str(&format!("{code}{sep}{line}\r\n"));
    }
    if lines.is_empty() {
        out = format!("{code} \r\n");
    }
    s.write_all(out.as_bytes()).await?;
    s.flush().await
}

/// Reads more bytes into `buf`; false when the peer has closed.
async fn fill<S: AsyncRead + Unpin>(s: &mut S, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut chunk = [0u8; 16 * 1024];
    let n = s.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n > 0)
}

/// One raw line (an AUTH continuation), without its CRLF.
async fn read_line<S: AsyncRead + Unpin>(
    s: &mut S,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<String>> {
    loop {
        if let Some(pos) = buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buf.drain(..=pos).collect();
            let text = String::from_utf8_lossy(&line)
                .trim_end_matches(['\r', '\n'])
                .to_string();
            return Ok(Some(text));
        }
        if !fill(s, buf).await? {
            return Ok(None);
        }
    }
}
