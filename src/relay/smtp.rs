//! [`SmtpUpstream`]: hands mail to the company's smarthost over SMTP
//! (mail-send as the client), with one result per recipient and a small pool
//! of live connections. Knows nothing of the store or of retries: it reports
//! what the upstream said, the courier decides what that means.
//!
//! Why not `SmtpClient::send`: it stops at the first refused RCPT, and it
//! neither negotiates SMTPUTF8/8BITMIME nor keeps a body byte-exact, so the
//! transaction is driven here with the low-level calls (MAIL, RCPT per
//! recipient, DATA written by [`write_data`]).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mail_send::smtp::AssertReply;
use mail_send::smtp::message::Parameters;
use mail_send::{Credentials, SmtpClient};
use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use smtp_proto::{
    AUTH_XOAUTH2, EXT_8BIT_MIME, EXT_AUTH, EXT_SIZE, EXT_SMTP_UTF8, EXT_START_TLS, EhloResponse,
    Response,
};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_rustls::TlsConnector;

use super::Error;
use super::proxy::Proxy;
use super::upstream::{OutboundMessage, RcptResult, SendFuture, Upstream};
use crate::config::{UpstreamAuth, UpstreamConfig};
use crate::oauth::{TokenError, TokenSource};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

/// A pooled connection idle longer than this is probed with NOOP before use:
/// smarthosts drop idle clients (Postfix after 300 s, some much sooner).
const IDLE_PROBE_AFTER: Duration = Duration::from_secs(10);

/// A pooled connection idle longer than this is closed instead of reused.
const IDLE_MAX: Duration = Duration::from_secs(60);

/// After a refused login, new connections are not tried for this long:
/// sends in that time take the same refusal (the courier pauses the route
/// meanwhile, so this only covers the sends already under way).
const LOGIN_COOLDOWN: Duration = Duration::from_secs(10);

/// The slowest transfer rate we accept for DATA before calling it a timeout:
/// the timeout for the body is `upstream.timeout` plus the size at this rate,
/// so a 25 MB message on a slow link is not cut off by a per-command timeout.
const MIN_DATA_RATE_BYTES_PER_SEC: u64 = 32 * 1024;

/// Longest reply text we keep (the store and DSNs carry it; a hostile
/// upstream must not fill them).
const MAX_REPLY_TEXT: usize = 512;

/// Any byte stream the client can run over: plain TCP or TLS.
trait IoStream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> IoStream for T {}

type Client = SmtpClient<Box<dyn IoStream>>;

/// The bytes of the last reply, as the upstream sent them. smtp-proto
/// keeps each part of an enhanced status code in a `u8`, so `4.7.650`
/// would come back as `4.7.255`; providers' codes are stored verbatim from
/// these bytes instead (see [`verbatim`]).
#[derive(Clone, Default)]
struct Heard(Arc<Mutex<Vec<u8>>>);

impl Heard {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The reply `r` as the upstream wrote it, when the bytes heard are that
    /// reply; else as smtp-proto parsed it.
    fn text(&self, r: &Response<String>) -> String {
        let raw = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        verbatim(&raw, r.code).unwrap_or_else(|| reply_text(r))
    }
}

/// Records what is read into a [`Heard`]; a write (our next command)
/// starts a new reply.
struct Tap<S> {
    inner: S,
    heard: Heard,
}

impl<S: AsyncRead + Unpin> AsyncRead for Tap<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Some(new) = buf.filled().get(before..)
            && !new.is_empty()
        {
            let mut heard = self.heard.0.lock().unwrap_or_else(|e| e.into_inner());
            let room = MAX_HEARD.saturating_sub(heard.len());
            heard.extend_from_slice(new.get(..room.min(new.len())).unwrap_or_default());
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tap<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.heard.take();
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Most bytes of one reply kept for [`verbatim`]; a longer reply falls
/// back to smtp-proto's reading of it.
const MAX_HEARD: usize = 8 * 1024;

/// What the upstream offered in its (last) EHLO answer.
#[derive(Debug, Clone, Copy, Default)]
struct Caps {
    smtputf8: bool,
    eight_bit: bool,
    /// SIZE limit; 0 = none announced.
    size: usize,
}

impl Caps {
    fn from_ehlo(e: &EhloResponse<String>) -> Self {
        Caps {
            smtputf8: e.has_capability(EXT_SMTP_UTF8),
            eight_bit: e.has_capability(EXT_8BIT_MIME),
            size: if e.has_capability(EXT_SIZE) {
                e.size
            } else {
                0
            },
        }
    }
}

struct Conn {
    client: Client,
    caps: Caps,
    idle_since: Instant,
    heard: Heard,
}

/// An SMTP smarthost: `smtp://` (STARTTLS when offered, required when
/// `upstream.require_tls`) or `smtps://` (implicit TLS).
pub struct SmtpUpstream {
    host: String,
    port: u16,
    implicit_tls: bool,
    require_tls: bool,
    auth: Login,
    /// `proxy`: the connection goes through this proxy (SOCKS5 or CONNECT).
    proxy: Option<Proxy>,
    helo: String,
    timeout: Duration,
    tls: TlsConnector,
    tls_verify: bool,
    /// Live connections not in use, most recently used last.
    idle: Mutex<Vec<Conn>>,
    /// One permit per connection we may hold open (`upstream.connections`).
    slots: Semaphore,
    /// Held while a new connection logs in, with the last refused login and
    /// when it was refused: sends that waited for a login under way take its
    /// refusal instead of each trying the password again (providers lock
    /// an account after a burst of failed logins).
    login: tokio::sync::Mutex<Option<(Instant, String)>>,
}

/// How we log in to the upstream.
enum Login {
    None,
    /// AUTH PLAIN/LOGIN (mail-send picks from what EHLO offers).
    Password(Credentials<String>),
    /// AUTH XOAUTH2 as `user` with an access token from `tokens`.
    XOAuth2 {
        user: String,
        tokens: Arc<TokenSource>,
    },
}

impl Login {
    fn user(&self) -> Option<&str> {
        match self {
            Login::None => None,
            Login::Password(Credentials::Plain { username, .. }) => Some(username),
            Login::Password(_) => None,
            Login::XOAuth2 { user, .. } => Some(user),
        }
    }
}

/// Why no connection could be made.
#[derive(Debug)]
enum ConnectError {
    /// The upstream refused our login; its reply, verbatim.
    Auth(String),
    Smtp(mail_send::Error),
}

impl From<mail_send::Error> for ConnectError {
    fn from(e: mail_send::Error) -> Self {
        ConnectError::Smtp(e)
    }
}

impl From<std::io::Error> for ConnectError {
    fn from(e: std::io::Error) -> Self {
        ConnectError::Smtp(e.into())
    }
}

impl ConnectError {
    /// As the store and reports show it. A refused login keeps the
    /// provider's reply first, so reply rules (`^535`) read it as such.
    fn text(&self) -> String {
        match self {
            ConnectError::Auth(reply) => format!("{reply} (upstream refused our AUTH)"),
            ConnectError::Smtp(e) => describe_error(e),
        }
    }
}

/// How one transaction ended for the connection that carried it.
enum Next {
    /// The connection is in a clean state and may be reused.
    Keep,
    /// The connection is broken (network error, timeout): close it.
    Drop,
}

impl SmtpUpstream {
    /// Reads the password (env var or file) now, so a mistake shows at start-up.
    pub fn new(
        cfg: &UpstreamConfig,
        host: String,
        port: u16,
        implicit_tls: bool,
        helo: String,
    ) -> Result<SmtpUpstream, Error> {
        let login = match (&cfg.username, cfg.auth) {
            (None, _) => Login::None,
            (Some(user), UpstreamAuth::Password) => {
                Login::Password(Credentials::new(user.clone(), read_password(cfg)?))
            }
            (Some(user), UpstreamAuth::Xoauth2) => Login::XOAuth2 {
                user: user.clone(),
                tokens: Arc::new(token_source(cfg)?),
            },
        };
        let proxy = match &cfg.proxy {
            None => None,
            Some(url) => {
                let mut p = Proxy::parse(url).map_err(Error::Proxy)?;
                if let Some(user) = &cfg.proxy_username {
                    let pass = crate::config::read_secret(
                        "proxy_password",
                        cfg.proxy_password_env.as_deref(),
                        cfg.proxy_password_file.as_deref(),
                    )
                    .map_err(Error::Key)?;
                    p.credentials = Some((user.clone(), pass));
                }
                Some(p)
            }
        };
        let tls = tls_connector(cfg.tls_verify)?;
        Ok(SmtpUpstream {
            host,
            port,
            implicit_tls,
            require_tls: cfg.require_tls,
            auth: login,
            proxy,
            helo,
            timeout: cfg.timeout,
            tls,
            tls_verify: cfg.tls_verify,
            idle: Mutex::new(Vec::new()),
            slots: Semaphore::new(cfg.connections.max(1)),
            login: tokio::sync::Mutex::new(None),
        })
    }

    /// Connection establishment: TCP, TLS (implicit or STARTTLS), EHLO, AUTH.
    async fn connect(&self) -> Result<Conn, ConnectError> {
        let addr = format!("{}:{}", bracket_v6(&self.host), self.port);
        let tcp = match &self.proxy {
            Some(proxy) => proxy.connect(&self.host, self.port, self.timeout).await?,
            None => tokio::time::timeout(self.timeout, TcpStream::connect(addr.as_str()))
                .await
                .map_err(|_| mail_send::Error::Timeout)??,
        };
        // Nagle would hold each small command back waiting for an ACK.
        let _ = tcp.set_nodelay(true);
        let mut plain = SmtpClient {
            stream: tcp,
            timeout: self.timeout,
        };
        let heard = Heard::default();
        let tap = |inner: Box<dyn IoStream>| -> Box<dyn IoStream> {
            Box::new(Tap {
                inner,
                heard: heard.clone(),
            })
        };
        let mut client: Client = if self.implicit_tls {
            let tls = plain.into_tls(&self.tls, &self.host).await?;
            SmtpClient {
                stream: tap(Box::new(tls.stream)),
                timeout: self.timeout,
            }
        } else {
            read_greeting(&mut plain).await?;
            let ehlo = plain.ehlo(&self.helo).await?;
            if ehlo.has_capability(EXT_START_TLS) {
                let tls = plain.start_tls(&self.tls, &self.host).await?;
                SmtpClient {
                    stream: tap(Box::new(tls.stream)),
                    timeout: self.timeout,
                }
            } else if self.require_tls {
                return Err(mail_send::Error::MissingStartTls.into());
            } else if !matches!(self.auth, Login::None) && !is_loopback(&self.host) {
                // The password would cross the network in the clear.
                return Err(mail_send::Error::Io(std::io::Error::other(
                    "refusing to send the upstream password without TLS (no STARTTLS offered)",
                ))
                .into());
            } else {
                SmtpClient {
                    stream: tap(Box::new(plain.stream)),
                    timeout: self.timeout,
                }
            }
        };
        if self.implicit_tls {
            read_greeting(&mut client).await?;
        }
        let ehlo = client.ehlo(&self.helo).await?;
        match &self.auth {
            Login::None => {}
            Login::Password(credentials) => {
                if !ehlo.has_capability(EXT_AUTH) {
                    return Err(mail_send::Error::UnsupportedAuthMechanism.into());
                }
                match client.authenticate(credentials, &ehlo).await {
                    Ok(_) => {}
                    Err(mail_send::Error::AuthenticationFailed(r)) => {
                        return Err(ConnectError::Auth(heard.text(&r)));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Login::XOAuth2 { user, tokens } => {
                if !ehlo.has_capability(EXT_AUTH) || ehlo.auth_mechanisms & AUTH_XOAUTH2 == 0 {
                    return Err(ConnectError::Smtp(mail_send::Error::Io(
                        std::io::Error::other(
                            "the upstream does not offer AUTH XOAUTH2 (auth = \"xoauth2\" needs it)",
                        ),
                    )));
                }
                xoauth2(&mut client, &heard, user, tokens).await?;
            }
        }
        Ok(Conn {
            client,
            caps: Caps::from_ehlo(&ehlo),
            idle_since: Instant::now(),
            heard,
        })
    }

    /// A pooled connection that still answers, or `None`.
    async fn pooled(&self) -> Option<Conn> {
        loop {
            let conn = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop()?;
            let idle = conn.idle_since.elapsed();
            if idle > IDLE_MAX {
                continue; // dropping closes it; the server has likely given up on it
            }
            if idle <= IDLE_PROBE_AFTER {
                return Some(conn);
            }
            let mut conn = conn;
            if conn.client.noop().await.is_ok() {
                return Some(conn);
            }
        }
    }

    fn put_back(&self, mut conn: Conn) {
        conn.idle_since = Instant::now();
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.push(conn);
    }

    async fn send_message(&self, msg: &OutboundMessage) -> Vec<RcptResult> {
        if msg.rcpt_to.is_empty() {
            return Vec::new();
        }
        // The semaphore lives as long as self and is never closed.
        let Ok(_permit) = self.slots.acquire().await else {
            return all(
                msg,
                RcptResult::Transient("upstream client is shutting down".into()),
            );
        };
        // A reused connection may have been closed by the server while idle; a
        // network error on its MAIL FROM means nothing was accepted, so one
        // more try on a fresh connection is safe.
        if let Some(mut conn) = self.pooled().await {
            match self.transaction(&mut conn, msg).await {
                Attempt::Done(results, Next::Keep) => {
                    self.put_back(conn);
                    return results;
                }
                Attempt::Done(results, Next::Drop) => return results,
                Attempt::StaleConnection(e) => {
                    tracing::debug!(error = %e, "pooled upstream connection was stale; reconnecting");
                }
            }
        }
        let asked = Instant::now();
        let mut login = self.login.lock().await;
        if let Some((at, text)) = login.as_ref()
            && (*at >= asked || at.elapsed() < LOGIN_COOLDOWN)
        {
            return all(msg, RcptResult::Transient(text.clone()));
        }
        let connected = self.connect().await;
        let mut conn = match connected {
            Ok(c) => c,
            Err(e) => {
                let text = e.text();
                if matches!(e, ConnectError::Auth(_)) {
                    *login = Some((Instant::now(), text.clone()));
                }
                tracing::warn!(upstream = %self.describe(), error = %text, "cannot connect to the upstream");
                return all(msg, RcptResult::Transient(text));
            }
        };
        drop(login);
        match self.transaction(&mut conn, msg).await {
            Attempt::Done(results, Next::Keep) => {
                self.put_back(conn);
                results
            }
            Attempt::Done(results, Next::Drop) => results,
            Attempt::StaleConnection(e) => all(msg, RcptResult::Transient(describe_error(&e))),
        }
    }

    /// One MAIL/RCPT…/DATA transaction on `conn`.
    async fn transaction(&self, conn: &mut Conn, msg: &OutboundMessage) -> Attempt {
        let body = strip_final_crlf(&msg.data);
        let mut params = Parameters::new();
        let envelope_utf8 = !msg.mail_from.is_ascii() || msg.rcpt_to.iter().any(|r| !r.is_ascii());
        let header_utf8 = !crate::message::headers::header_section(&msg.data).is_ascii();
        if envelope_utf8 && !conn.caps.smtputf8 {
            // RFC 6531 §3.2: such a message cannot go to a server without
            // SMTPUTF8; it would have to be downgraded, which we do not do.
            return Attempt::Done(
                all(msg, RcptResult::Permanent("553 5.6.7 the upstream does not offer SMTPUTF8, which non-ASCII addresses need".into())),
                Next::Keep,
            );
        }
        if conn.caps.smtputf8 && (envelope_utf8 || header_utf8) {
            params.add("SMTPUTF8");
        }
        if conn.caps.eight_bit && msg.data.iter().any(|&b| b >= 0x80) {
            params.add(("BODY", "8BITMIME"));
        }
        if conn.caps.size > 0 {
            if msg.data.len() > conn.caps.size {
                let text = format!(
                    "552 5.3.4 message of {} bytes is larger than the upstream's limit of {} bytes",
                    msg.data.len(),
                    conn.caps.size
                );
                return Attempt::Done(all(msg, RcptResult::Permanent(text)), Next::Keep);
            }
            params.add(("SIZE".to_string(), msg.data.len().to_string()));
        }

        match conn.client.mail_from(&msg.mail_from, &params).await {
            Ok(()) => {}
            // 421: the server is closing this channel (often an idle
            // timeout it announced while the connection sat in the pool).
            Err(mail_send::Error::UnexpectedReply(r)) if r.code == 421 => {
                return Attempt::StaleConnection(mail_send::Error::UnexpectedReply(r));
            }
            Err(mail_send::Error::UnexpectedReply(r)) => {
                let result = classify(&r, conn.heard.text(&r));
                let next = rset(&mut conn.client).await;
                return Attempt::Done(all(msg, result), next);
            }
            Err(e) => return Attempt::StaleConnection(e),
        }

        let mut results: Vec<Option<RcptResult>> = vec![None; msg.rcpt_to.len()];
        let mut accepted = 0usize;
        for (i, rcpt) in msg.rcpt_to.iter().enumerate() {
            match conn.client.rcpt_to(rcpt, &Parameters::new()).await {
                Ok(()) => accepted += 1,
                Err(mail_send::Error::UnexpectedReply(r)) => {
                    if let Some(slot) = results.get_mut(i) {
                        *slot = Some(classify(&r, conn.heard.text(&r)));
                    }
                }
                Err(e) => {
                    let text = describe_error(&e);
                    return Attempt::Done(fill(results, RcptResult::Transient(text)), Next::Drop);
                }
            }
        }
        if accepted == 0 {
            let next = rset(&mut conn.client).await;
            return Attempt::Done(
                fill(results, RcptResult::Transient("no reply to RCPT".into())),
                next,
            );
        }

        let data_timeout =
            self.timeout + Duration::from_secs(body.len() as u64 / MIN_DATA_RATE_BYTES_PER_SEC);
        match send_data(&mut conn.client, body, data_timeout).await {
            Ok(r) => Attempt::Done(
                fill(results, RcptResult::Delivered(conn.heard.text(&r))),
                Next::Keep,
            ),
            Err(mail_send::Error::UnexpectedReply(r)) => {
                let result = classify(&r, conn.heard.text(&r));
                let next = rset(&mut conn.client).await;
                Attempt::Done(fill(results, result), next)
            }
            Err(e) => {
                // The body may or may not have arrived; SMTP cannot tell us
                // (RFC 1047). Retrying risks a duplicate, never a loss.
                Attempt::Done(
                    fill(results, RcptResult::Transient(describe_error(&e))),
                    Next::Drop,
                )
            }
        }
    }
}

enum Attempt {
    Done(Vec<RcptResult>, Next),
    /// A network error (or 421) before anything was accepted: the
    /// connection is unusable and nothing happened to the message.
    StaleConnection(mail_send::Error),
}

impl Upstream for SmtpUpstream {
    fn send<'a>(&'a self, msg: &'a OutboundMessage) -> SendFuture<'a> {
        Box::pin(self.send_message(msg))
    }

    fn describe(&self) -> String {
        let security = match (self.implicit_tls, self.require_tls) {
            (true, _) => "implicit TLS",
            (false, true) => "STARTTLS required",
            (false, false) => "STARTTLS when offered",
        };
        let verify = if self.tls_verify {
            ""
        } else {
            ", certificate NOT verified"
        };
        let auth = match (&self.auth, self.auth.user()) {
            (Login::XOAuth2 { tokens, .. }, Some(user)) => {
                format!(
                    ", AUTH XOAUTH2 as {user}, tokens from {}",
                    tokens.endpoint()
                )
            }
            (_, Some(user)) => format!(", AUTH as {user}"),
            _ => String::new(),
        };
        let via = match &self.proxy {
            Some(p) => format!(" via {}", p.describe()),
            None => String::new(),
        };
        format!(
            "SMTP smarthost {}:{}{via} ({security}{verify}{auth})",
            self.host, self.port
        )
    }
}

/// `results` with every still-open slot set to `rest`.
fn fill(results: Vec<Option<RcptResult>>, rest: RcptResult) -> Vec<RcptResult> {
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| rest.clone()))
        .collect()
}

fn all(msg: &OutboundMessage, result: RcptResult) -> Vec<RcptResult> {
    vec![result; msg.rcpt_to.len()]
}

/// RSET after a failed transaction so the connection can carry the next one.
async fn rset(client: &mut Client) -> Next {
    match client.rset().await {
        Ok(()) => Next::Keep,
        Err(_) => Next::Drop,
    }
}

async fn read_greeting<T: AsyncRead + AsyncWrite + Unpin>(
    client: &mut SmtpClient<T>,
) -> Result<(), mail_send::Error> {
    let timeout = client.timeout;
    tokio::time::timeout(timeout, client.read())
        .await
        .map_err(|_| mail_send::Error::Timeout)??
        .assert_positive_completion()
}

/// DATA with our own transparency procedure (RFC 5321 §4.5.2): byte-exact
/// body, dot-stuffed also on the very first line (mail-send's
/// `write_message` does not stuff a dot at offset 0), written in one go.
async fn send_data(
    client: &mut Client,
    body: &[u8],
    timeout: Duration,
) -> Result<Response<String>, mail_send::Error> {
    client.cmd(b"DATA\r\n").await?.assert_code(354)?;
    let wire = dot_stuff(body);
    tokio::time::timeout(timeout, async {
        client.stream.write_all(&wire).await?;
        client.stream.flush().await?;
        client.read().await
    })
    .await
    .map_err(|_| mail_send::Error::Timeout)??
    .into_positive_completion()
}

/// `body` (without its final CRLF) dot-stuffed and terminated with
/// `CRLF . CRLF`. A dot after any CR or LF is doubled, not only after CRLF,
/// so that no receiver that honours bare line ends can see an end of data
/// (SMTP smuggling); canonical bodies contain no bare CR or LF anyway.
pub fn dot_stuff(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + body.len() / 64 + 5);
    let mut at_line_start = true;
    for &b in body {
        if b == b'.' && at_line_start {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n' || b == b'\r';
    }
    out.extend_from_slice(b"\r\n.\r\n");
    out
}

/// Our data ends in CRLF; the DATA terminator supplies that CRLF itself.
fn strip_final_crlf(data: &[u8]) -> &[u8] {
    data.strip_suffix(b"\r\n").unwrap_or(data)
}

/// 4xx → try again, 5xx → never; anything else (a 2xx/3xx where it makes no
/// sense) is treated as temporary. What a refusal *means* (pause the route,
/// say) is the courier's reading of `text` (see `relay::replies`).
fn classify(r: &Response<String>, text: String) -> RcptResult {
    match r.code {
        500..=599 => RcptResult::Permanent(text),
        _ => RcptResult::Transient(text),
    }
}

/// The last reply in `raw` (the bytes of one reply, possibly several
/// lines) as one line: `"451 4.7.650 The mail server … rate limited"`, its
/// code and enhanced code as written, the repeated prefixes of continuation
/// lines dropped. `None` when `raw` is not a reply with `code`.
fn verbatim(raw: &[u8], code: u16) -> Option<String> {
    let raw = std::str::from_utf8(raw).ok()?;
    let prefix = code.to_string();
    let mut esc: Option<&str> = None;
    let mut parts: Vec<&str> = Vec::new();
    for line in raw.split("\r\n").filter(|l| !l.is_empty()) {
        let rest = line.strip_prefix(prefix.as_str())?;
        let rest = rest
            .strip_prefix('-')
            .or_else(|| rest.strip_prefix(' '))
            .unwrap_or(rest);
        let (first, tail) = rest.split_once(' ').unwrap_or((rest, ""));
        let is_esc = first.split('.').count() == 3
            && first
                .split('.')
                .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()));
        let text = if is_esc && esc.is_none_or(|e| e == first) {
            esc = Some(first);
            tail
        } else {
            rest
        };
        parts.push(text.trim());
    }
    if parts.is_empty() {
        return None;
    }
    let msg: String = parts
        .join(" ")
        .chars()
        .filter(|ch| !ch.is_control())
        .collect();
    let mut text = match esc {
        Some(e) => format!("{code} {e} {msg}"),
        None => format!("{code} {msg}"),
    };
    text.truncate(text.trim_end().len());
    truncate(&mut text, MAX_REPLY_TEXT);
    Some(text)
}

/// "550 5.1.1 No such user", on one line, bounded.
pub(crate) fn reply_text(r: &Response<String>) -> String {
    let [a, b, c] = r.esc;
    let msg: String = r
        .message
        .replace(['\r', '\n'], " ")
        .chars()
        .filter(|ch| !ch.is_control())
        .collect();
    let mut text = if a > 0 {
        format!("{} {a}.{b}.{c} {msg}", r.code)
    } else {
        format!("{} {msg}", r.code)
    };
    truncate(&mut text, MAX_REPLY_TEXT);
    text
}

fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

/// A non-reply failure as the store and DSNs show it.
fn describe_error(e: &mail_send::Error) -> String {
    let mut text = match e {
        mail_send::Error::UnexpectedReply(r) => reply_text(r),
        mail_send::Error::AuthenticationFailed(r) => {
            format!("{} (upstream refused our AUTH)", reply_text(r))
        }
        mail_send::Error::Timeout => "timed out talking to the upstream".to_string(),
        mail_send::Error::UnparseableReply => {
            "the upstream closed the connection or sent an unreadable reply".to_string()
        }
        mail_send::Error::MissingStartTls => {
            "the upstream does not offer STARTTLS and upstream.require_tls is set".to_string()
        }
        mail_send::Error::UnsupportedAuthMechanism => {
            "the upstream offers no AUTH mechanism we support (PLAIN, LOGIN, CRAM-MD5)".to_string()
        }
        other => format!("upstream connection failed: {other}"),
    };
    truncate(&mut text, MAX_REPLY_TEXT);
    text
}

/// Whether `host` names this machine, where a password in the clear
/// never leaves the box.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `::1` → `[::1]` for a `host:port` string.
fn bracket_v6(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// AUTH XOAUTH2 with the current token; a refused token is forgotten and
/// a new one tried once (it may have been revoked or expired early). The
/// provider's refusal is kept verbatim, so the reply rules read it as a
/// login failure and pause the route.
async fn xoauth2(
    client: &mut Client,
    heard: &Heard,
    user: &str,
    tokens: &TokenSource,
) -> Result<(), ConnectError> {
    let mut refused = None;
    for _ in 0..2 {
        let token = tokens.token().await.map_err(|e| match e {
            // A person must sign in again: pause the route like a refused login.
            TokenError::Refused(_) => ConnectError::Auth(e.to_string()),
            TokenError::Unavailable(_) => {
                ConnectError::Smtp(mail_send::Error::Io(std::io::Error::other(e.to_string())))
            }
        })?;
        let response = B64.encode(crate::oauth::xoauth2_response(user, &token));
        let mut reply = client.cmd(format!("AUTH XOAUTH2 {response}\r\n")).await?;
        if reply.code() == 334 {
            // Google first sends its error as a base64 JSON challenge; the
            // client answers with an empty line to get the final reply.
            let detail = B64
                .decode(reply.message().trim())
                .ok()
                .map(|b| String::from_utf8_lossy(&b).into_owned());
            reply = client.cmd(b"\r\n").await?;
            if let Some(d) = detail {
                tracing::debug!(detail = %d, "upstream explained the XOAUTH2 refusal");
            }
        }
        if reply.code() == 235 {
            return Ok(());
        }
        let text = heard.text(&reply);
        if reply.code() / 100 == 4 {
            // "454 4.7.0 Too many login attempts": not the token's fault.
            return Err(ConnectError::Auth(text));
        }
        tokens.refused(&token).await;
        refused = Some(text);
    }
    Err(ConnectError::Auth(refused.unwrap_or_default()))
}

/// The token source of an `auth = "xoauth2"` route; secrets are read now.
fn token_source(cfg: &UpstreamConfig) -> Result<TokenSource, Error> {
    let settings = cfg.oauth_keys().settings().map_err(Error::Key)?;
    TokenSource::new(settings, cfg.timeout).map_err(|m| Error::Key(format!("oauth_token_url: {m}")))
}

fn read_password(cfg: &UpstreamConfig) -> Result<String, Error> {
    if cfg.password_env.is_none() && cfg.password_file.is_none() {
        return Err(Error::NoPassword);
    }
    crate::config::read_secret(
        "password",
        cfg.password_env.as_deref(),
        cfg.password_file.as_deref(),
    )
    .map_err(Error::Key)
}

/// The TLS client: the platform's trust store when `verify`, else a verifier
/// that accepts any certificate (still checking the handshake signatures, so
/// the session keys belong to whoever holds that certificate's key).
pub(crate) fn tls_connector(verify: bool) -> Result<TlsConnector, Error> {
    if verify {
        // mail-send's builder uses rustls-platform-verifier with the
        // process-level provider, which is aws-lc-rs (the only one compiled in).
        return mail_send::smtp::tls::build_tls_connector(false).map_err(Error::Tls);
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// `upstream.tls_verify = false`: for a test smarthost with a self-signed
/// certificate.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_stuffing_covers_first_line_and_bare_line_ends() {
        assert_eq!(dot_stuff(b".a\r\n.b\r\nc."), b"..a\r\n..b\r\nc.\r\n.\r\n");
        assert_eq!(dot_stuff(b"x\n.\ny"), b"x\n..\ny\r\n.\r\n");
        assert_eq!(dot_stuff(b"x\r.\r\ny"), b"x\r..\r\ny\r\n.\r\n");
        assert_eq!(dot_stuff(b""), b"\r\n.\r\n");
    }

    #[test]
    fn final_crlf_is_supplied_by_the_terminator() {
        let body = strip_final_crlf(b"Subject: x\r\n\r\nline\r\n");
        assert_eq!(dot_stuff(body), b"Subject: x\r\n\r\nline\r\n.\r\n");
        // A body that ends in an empty line keeps it.
        let body = strip_final_crlf(b"a\r\n\r\n");
        assert_eq!(dot_stuff(body), b"a\r\n\r\n.\r\n");
    }

    #[test]
    fn replies_are_classified_by_class() {
        let r = |code, esc: [u8; 3]| Response {
            code,
            esc,
            message: "text\nmore".to_string(),
        };
        let c = |r: Response<String>| {
            let text = reply_text(&r);
            classify(&r, text)
        };
        assert_eq!(
            c(r(451, [4, 7, 1])),
            RcptResult::Transient("451 4.7.1 text more".into())
        );
        assert_eq!(
            c(r(550, [5, 1, 1])),
            RcptResult::Permanent("550 5.1.1 text more".into())
        );
        assert_eq!(
            c(r(554, [0, 0, 0])),
            RcptResult::Permanent("554 text more".into())
        );
    }

    #[test]
    fn replies_are_kept_verbatim() {
        let one = |raw: &str, code| verbatim(raw.as_bytes(), code);
        // smtp-proto reads this as 4.7.255.
        assert_eq!(
            one("451 4.7.650 The mail server [203.0.113.7] has been temporarily rate limited due to IP reputation.\r\n", 451).as_deref(),
            Some("451 4.7.650 The mail server [203.0.113.7] has been temporarily rate limited due to IP reputation.")
        );
        assert_eq!(
            one("550-5.4.5 Daily user sending limit exceeded. For more information on Gmail\r\n550-5.4.5 sending limits go to\r\n550 5.4.5  https://support.google.com/a/answer/166852 - gsmtp\r\n", 550).as_deref(),
            Some("550 5.4.5 Daily user sending limit exceeded. For more information on Gmail sending limits go to https://support.google.com/a/answer/166852 - gsmtp")
        );
        assert_eq!(
            one("554 DT:SPM 163 smtp7\r\n", 554).as_deref(),
            Some("554 DT:SPM 163 smtp7")
        );
        assert_eq!(one("535 Error\r\n", 535).as_deref(), Some("535 Error"));
        assert_eq!(one("250 OK\r\n", 550), None, "not the reply in question");
        assert_eq!(one("", 550), None);
    }

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("127.0.0.1") && is_loopback("::1") && is_loopback("LOCALHOST"));
        assert!(!is_loopback("smtp.example.com") && !is_loopback("10.0.0.1"));
    }
}
