//! The IMAP loop, one task per `[[inbox]]` mailbox (async-imap over tokio,
//! TLS through tokio-rustls as on the SMTP side).
//!
//! Read-only by construction: folders are opened with EXAMINE (the server
//! itself refuses flag changes then) and messages fetched with
//! `BODY.PEEK[]`, which does not set `\Seen`. The UID read up to is stored
//! per folder with the folder's UIDVALIDITY, so a restart or a dropped
//! connection resumes where it stopped; a new UIDVALIDITY (the folder was
//! rebuilt) starts that folder again. A mailbox that cannot be reached is
//! tried again with a growing pause (1 s doubling to 5 min) and shown as
//! down in `/healthz` and `sendwell_inbox_up`.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use async_imap::{Client, Session};
use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use super::apply::Ears;
use super::config::{InboxAuth, InboxConfig};
use super::learn;
use crate::clock::Clock;
use crate::config::Config;
use crate::oauth::TokenSource;
use crate::schedule::Schedule;
use crate::shutdown::Shutdown;
use crate::store::Store;

/// The longest pause between two tries at a mailbox that is down.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// How long one connect, login or command may take before the connection
/// counts as dropped.
pub const IO_TIMEOUT: Duration = Duration::from_secs(60);
/// Messages fetched in one `UID FETCH`: bounds memory whatever the mailbox holds.
pub const FETCH_BATCH: u32 = 200;

/// A byte stream async-imap can run over: plain TCP or TLS, boxed so one
/// session type serves both (STARTTLS swaps one for the other).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Debug> Io for T {}
type Stream = Box<dyn Io>;

/// Starts one watcher per `[[inbox]]` entry.
pub fn spawn_all(
    config: Arc<Config>,
    store: Store,
    clock: Arc<dyn Clock>,
    wakeup: Arc<tokio::sync::Notify>,
    shutdown: Shutdown,
) -> Vec<JoinHandle<()>> {
    let schedule = match Schedule::new(&config.schedule) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            tracing::error!(error = %e, "inbox: cannot build the schedule; no mailbox is read");
            return Vec::new();
        }
    };
    config
        .inbox
        .iter()
        .enumerate()
        .map(|(i, ib)| {
            let w = Watcher {
                index: i,
                inbox: ib.clone(),
                config: config.clone(),
                store: store.clone(),
                schedule: schedule.clone(),
                clock: clock.clone(),
                wakeup: wakeup.clone(),
                tokens: token_source(i, ib),
            };
            tokio::spawn(w.run(shutdown.clone()))
        })
        .collect()
}

/// The token source of an `auth = "xoauth2"` mailbox; a setting that
/// cannot work is logged, and the watcher reports it on each try.
fn token_source(i: usize, inbox: &InboxConfig) -> Option<Arc<TokenSource>> {
    if inbox.auth != InboxAuth::Xoauth2 {
        return None;
    }
    match inbox
        .oauth_keys()
        .settings()
        .and_then(|s| TokenSource::new(s, IO_TIMEOUT))
    {
        Ok(t) => Some(Arc::new(t)),
        Err(e) => {
            tracing::error!(mailbox = %inbox.name(), "inbox[{i}]: {e}");
            None
        }
    }
}

struct Watcher {
    index: usize,
    inbox: InboxConfig,
    config: Arc<Config>,
    store: Store,
    schedule: Arc<Schedule>,
    clock: Arc<dyn Clock>,
    wakeup: Arc<tokio::sync::Notify>,
    /// `auth = "xoauth2"`: access tokens, kept across reconnections.
    tokens: Option<Arc<TokenSource>>,
}

#[derive(Debug, thiserror::Error)]
enum WatchError {
    #[error("{0}")]
    Setup(String),
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("TLS: {0}")]
    Tls(std::io::Error),
    #[error("the server offers no STARTTLS; set require_tls = false to log in without TLS")]
    NoStartTls,
    #[error("login refused: {0} (check username and password, or the OAuth settings)")]
    Login(async_imap::error::Error),
    #[error("IMAP: {0}")]
    Imap(#[from] async_imap::error::Error),
    #[error("store: {0}")]
    Store(#[from] crate::store::Error),
    #[error("no answer within {}s", IO_TIMEOUT.as_secs())]
    Timeout,
}

async fn timed<T, E>(f: impl std::future::Future<Output = Result<T, E>>) -> Result<T, WatchError>
where
    WatchError: From<E>,
{
    match tokio::time::timeout(IO_TIMEOUT, f).await {
        Ok(r) => r.map_err(WatchError::from),
        Err(_) => Err(WatchError::Timeout),
    }
}

/// What the watcher logs in with.
enum Secret {
    Password(String),
    /// An XOAUTH2 access token.
    Token(String),
}

/// SASL XOAUTH2 for async-imap: the first answer carries the token; a
/// second challenge is the server's error (base64 JSON), answered with an
/// empty line so it sends its final NO.
struct XOAuth2 {
    response: Option<String>,
}

impl async_imap::Authenticator for XOAuth2 {
    type Response = String;
    fn process(&mut self, _challenge: &[u8]) -> String {
        self.response.take().unwrap_or_default()
    }
}

async fn login(
    client: Client<Stream>,
    username: &str,
    secret: &Secret,
) -> Result<Session<Stream>, WatchError> {
    let attempt = async {
        match secret {
            Secret::Password(p) => client.login(username, p).await,
            Secret::Token(t) => {
                let response = Some(crate::oauth::xoauth2_response(username, t));
                client.authenticate("XOAUTH2", XOAuth2 { response }).await
            }
        }
    };
    match tokio::time::timeout(IO_TIMEOUT, attempt).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err((e, _))) => Err(WatchError::Login(e)),
        Err(_) => Err(WatchError::Timeout),
    }
}

impl Watcher {
    async fn run(self, mut shutdown: Shutdown) {
        let name = self.inbox.name();
        let mut backoff = Duration::from_secs(1);
        let mut read = 0u64;
        loop {
            let result = tokio::select! {
                r = self.session(&mut read, &mut backoff) => r,
                () = shutdown.wait() => break,
            };
            let Err(e) = result else { break };
            tracing::warn!(mailbox = %name, error = %e, "inbox: mailbox down, trying again in {}s", backoff.as_secs());
            super::set_health(&name, false, Some(e.to_string()), self.clock.now(), read);
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                () = shutdown.wait() => break,
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        super::forget_health(&name);
    }

    /// One connection: log in, read every folder up to date, then wait for
    /// news (IDLE or the poll interval) and read again, until it drops.
    async fn session(&self, read: &mut u64, backoff: &mut Duration) -> Result<(), WatchError> {
        let name = self.inbox.name();
        let mut session = self.connect().await?;
        let caps = timed(session.capabilities()).await?;
        let idle = caps.has_str("IDLE");
        super::set_health(&name, true, None, self.clock.now(), *read);
        *backoff = Duration::from_secs(1);
        tracing::info!(mailbox = %name, idle, "inbox: reading (read-only)");
        loop {
            for folder in &self.inbox.folders {
                *read += self.read_folder(&mut session, folder).await?;
            }
            super::set_health(&name, true, None, self.clock.now(), *read);
            self.remind().await;
            if idle {
                // IDLE on the first folder; the others are read when it wakes.
                let first = self.inbox.folders.first().map_or("INBOX", String::as_str);
                timed(session.examine(first)).await?;
                let mut handle = session.idle();
                timed(handle.init()).await?;
                let (wait, _stop) = handle.wait_with_timeout(self.inbox.poll_interval);
                wait.await?;
                session = timed(handle.done()).await?;
            } else {
                tokio::time::sleep(self.inbox.poll_interval).await;
                timed(session.noop()).await?;
            }
        }
    }

    async fn connect(&self) -> Result<Session<Stream>, WatchError> {
        let ep = self.inbox.endpoint().map_err(WatchError::Setup)?;
        let secret = self.secret().await?;
        let tcp = timed(TcpStream::connect((ep.host.as_str(), ep.port))).await?;
        let loopback = ep.host == "localhost"
            || ep
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        let stream: Stream = if ep.implicit_tls {
            Box::new(self.tls(tcp, &ep.host).await?)
        } else {
            let mut client = Client::new(Box::new(tcp) as Stream);
            timed(client.read_response())
                .await?
                .ok_or(WatchError::Timeout)?;
            let mut plain = client;
            match timed(plain.run_command_and_check_ok("STARTTLS", None)).await {
                Ok(()) => {
                    let inner = plain.into_inner();
                    Box::new(self.tls(inner, &ep.host).await?)
                }
                Err(_) if !self.inbox.require_tls || loopback => {
                    return self.login(plain, &secret).await;
                }
                Err(_) => return Err(WatchError::NoStartTls),
            }
        };
        let mut client = Client::new(stream);
        if ep.implicit_tls {
            timed(client.read_response())
                .await?
                .ok_or(WatchError::Timeout)?;
        }
        self.login(client, &secret).await
    }

    /// After reading: the owner's unanswered messages earn one reminder
    /// each (`[notices] remind_after`); their replies were read just now.
    async fn remind(&self) {
        let Some(after) = self.config.notices.remind_after else {
            return;
        };
        let owner = [
            self.inbox.user.as_deref(),
            Some(self.inbox.username.as_str()),
        ]
        .into_iter()
        .flatten()
        .find(|a| a.contains('@'));
        let Some(owner) = owner else {
            return;
        };
        let now = self.clock.now();
        match super::remind::pass(&self.store, &self.config, &self.schedule, owner, after, now)
            .await
        {
            Ok(done) if done.sent > 0 => {
                tracing::info!(mailbox = %self.inbox.name(), reminders = done.sent, "inbox: no-reply reminders queued");
                self.wakeup.notify_one();
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(mailbox = %self.inbox.name(), error = %e, "inbox: cannot look for unanswered mail")
            }
        }
    }

    /// The password, or a good access token.
    async fn secret(&self) -> Result<Secret, WatchError> {
        match self.inbox.auth {
            InboxAuth::Password => self
                .inbox
                .password(self.index)
                .map(Secret::Password)
                .map_err(WatchError::Setup),
            InboxAuth::Xoauth2 => {
                let tokens = self.tokens.as_ref().ok_or_else(|| {
                    WatchError::Setup(format!(
                        "inbox[{}]: the OAuth settings cannot work (see the log at start-up)",
                        self.index
                    ))
                })?;
                let token = tokens
                    .token()
                    .await
                    .map_err(|e| WatchError::Setup(e.to_string()))?;
                Ok(Secret::Token(token))
            }
        }
    }

    /// Logs in; a refused access token is forgotten, so the next try
    /// fetches a new one.
    async fn login(
        &self,
        client: Client<Stream>,
        secret: &Secret,
    ) -> Result<Session<Stream>, WatchError> {
        let result = login(client, &self.inbox.username, secret).await;
        if let (Err(WatchError::Login(_)), Secret::Token(t), Some(tokens)) =
            (&result, secret, &self.tokens)
        {
            tokens.refused(t).await;
        }
        result
    }

    async fn tls<S: AsyncRead + AsyncWrite + Unpin + Send + Debug + 'static>(
        &self,
        s: S,
        host: &str,
    ) -> Result<tokio_rustls::client::TlsStream<S>, WatchError> {
        let connector = crate::relay::tls_connector(self.inbox.tls_verify)
            .map_err(|e| WatchError::Setup(e.to_string()))?;
        let name = rustls_pki_types::ServerName::try_from(host.to_string())
            .map_err(|e| WatchError::Setup(format!("'{host}' is not a TLS server name: {e}")))?;
        tokio::time::timeout(IO_TIMEOUT, connector.connect(name, s))
            .await
            .map_err(|_| WatchError::Timeout)?
            .map_err(WatchError::Tls)
    }

    /// Reads the messages of `folder` past the stored UID. Returns how many.
    async fn read_folder(
        &self,
        session: &mut Session<Stream>,
        folder: &str,
    ) -> Result<u64, WatchError> {
        let name = self.inbox.name();
        let mailbox = timed(session.examine(folder)).await?;
        let validity = mailbox.uid_validity.unwrap_or(0);
        let mut last = match self.store.inbox_position(&name, folder).await? {
            Some((v, uid)) if v == validity => uid,
            Some(_) => {
                tracing::warn!(mailbox = %name, folder, "inbox: the folder was rebuilt (new UIDVALIDITY); reading it again");
                0
            }
            None => 0,
        };
        let mut count = 0u64;
        loop {
            let upper = last.saturating_add(FETCH_BATCH);
            let range = format!("{}:{upper}", last.saturating_add(1));
            let fetched: Vec<_> = {
                let stream = timed(session.uid_fetch(&range, "(UID BODY.PEEK[])")).await?;
                timed(stream.try_collect::<Vec<_>>()).await?
            };
            let mut batch: Vec<(u32, Vec<u8>)> = fetched
                .iter()
                .filter_map(|f| Some((f.uid?, f.body()?.to_vec())))
                .filter(|(uid, _)| *uid > last)
                .collect();
            batch.sort_by_key(|(uid, _)| *uid);
            drop(fetched);
            for (uid, raw) in batch {
                let lesson = tokio::task::spawn_blocking(move || learn::learn(&raw))
                    .await
                    .unwrap_or(learn::Lesson::Nothing);
                let kind = match &lesson {
                    learn::Lesson::Bounce(_) => "bounce",
                    learn::Lesson::AutoReply(_) => "auto_reply",
                    learn::Lesson::Reply(_) => "reply",
                    learn::Lesson::Nothing => "nothing",
                };
                let ears = Ears {
                    store: &self.store,
                    schedule: &self.schedule,
                    config: &self.config,
                    owner: self.inbox.user.as_deref(),
                };
                let now = self.clock.now();
                match ears.apply(lesson, now).await {
                    Ok(done) => {
                        if done.held > 0 {
                            self.wakeup.notify_one(); // the notice to the seller
                        }
                        tracing::debug!(mailbox = %name, folder, uid, kind, ?done, "inbox: learned");
                    }
                    Err(e) => return Err(WatchError::Store(e)),
                }
                metrics::counter!(crate::metrics::INBOX_READ, "lesson" => kind).increment(1);
                last = uid;
                count += 1;
                self.store
                    .set_inbox_position(&name, folder, validity, last, now)
                    .await?;
            }
            if upper >= mailbox.uid_next.unwrap_or(0).saturating_sub(1) || upper == u32::MAX {
                break;
            }
            last = last.max(upper);
        }
        Ok(count)
    }
}
