//! [`Door`]: the thin tokio loop around [`Session`]. Accepts connections,
//! enforces the connection limits, reads bytes into the session, writes its
//! replies, runs the actions it asks for (gateway calls, argon2, the TLS
//! upgrade), applies the command and DATA timeouts, and stops politely on
//! shutdown. All SMTP rules live in the session; nothing here parses SMTP.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, timeout, timeout_at};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::auth::Users;
use super::session::{self, Action, AuthOutcome, Session, SessionConfig};
use super::slots::{Refusal, SlotId, SlotLimits, Slots};
use super::throttle::{AuthLimits, Throttles};
use super::{Error, Reply, budget, tls};
use crate::config::Config;
use crate::gateway::Gateway;
use crate::shutdown::Shutdown;
use crate::submission::ClientInfo;

/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 16 * 1024;

/// How long a refused connection (over a limit) gets to take its 421.
const REFUSAL_WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// The SMTP submission server.
pub struct Door {
    config: Arc<Config>,
    gateway: Arc<Gateway>,
    tls: TlsAcceptor,
    users: Arc<Users>,
    slots: SharedSlots,
    throttles: Arc<Throttles>,
    /// What DATA transfers in progress may hold together.
    budget: Arc<budget::DataBudget>,
}

/// What a listener is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    /// Port-25 style (`server.listen`): the trusted networks may relay
    /// without AUTH, and may AUTH without TLS.
    Smtp,
    /// Submission, RFC 6409 (`server.submission`, port 587): STARTTLS before
    /// AUTH, and AUTH before MAIL, for everyone.
    Submission,
    /// Submission over implicit TLS, RFC 8314 (`server.smtps`, port 465):
    /// the TLS handshake comes first, then the rules of [`Port::Submission`].
    Smtps,
}

/// The connection slots; a session that must give its slot up is told
/// through its `Notify`.
type SharedSlots = Arc<Mutex<Slots<Arc<Notify>>>>;

/// Gives its slot back when the connection ends, however it ends.
struct SlotGuard {
    slots: SharedSlots,
    id: SlotId,
}

impl SlotGuard {
    fn logged_in(&self) {
        self.slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .logged_in(self.id);
    }
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        self.slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .release(self.id);
    }
}

impl Door {
    /// Loads TLS material (server.tls_cert/tls_key) or generates a self-signed
    /// cert + key on first start into `config.tls_dir()` (kept and reused next
    /// start; key file mode 0600), and reads users. `throttles` is made once
    /// per process and outlives a door rebuilt from a new config.
    pub fn new(
        config: Arc<Config>,
        gateway: Arc<Gateway>,
        throttles: Arc<Throttles>,
    ) -> Result<Door, Error> {
        let tls = tls::acceptor(&config)?;
        let users = Arc::new(Users::new(&config.users)?);
        for u in &config.users {
            if u.allowed_from().is_none() {
                tracing::info!(user = %u.name, "user may send as any From address (set allowed_from to restrict)");
            }
        }
        let budget = budget::DataBudget::new(config.limits.data_memory);
        Ok(Door {
            config,
            gateway,
            tls,
            users,
            slots: Arc::default(),
            throttles,
            budget,
        })
    }

    /// The gateway this door hands transactions to.
    pub fn gateway(&self) -> Arc<Gateway> {
        Arc::clone(&self.gateway)
    }

    /// The same door under a new config (live reload): TLS material and users
    /// are read again, while the connection counts and throttles carry over,
    /// so a reload cannot be used to slip past the limits.
    pub fn rebuilt(&self, config: Arc<Config>, gateway: Arc<Gateway>) -> Result<Door, Error> {
        let fresh = Door::new(config, gateway, Arc::clone(&self.throttles))?;
        Ok(Door {
            slots: Arc::clone(&self.slots),
            budget: Arc::clone(&self.budget),
            ..fresh
        })
    }

    /// Accept loop of a port-25 style listener over a door that never changes.
    pub async fn serve(self: Arc<Self>, listener: TcpListener, shutdown: Shutdown) {
        Door::serve_current(Arc::new(ArcSwap::new(self)), listener, Port::Smtp, shutdown).await
    }

    /// Accept loop. Each connection is served by the door current when it
    /// was accepted, to its end: a reload never changes the rules under a
    /// session in progress. On shutdown: stop accepting, let sessions finish
    /// (bounded wait, then close with 421), return when all sessions ended.
    pub async fn serve_current(
        current: Arc<ArcSwap<Door>>,
        listener: TcpListener,
        port: Port,
        mut shutdown: Shutdown,
    ) {
        let (close_now, close_rx) = watch::channel(false);
        let mut sessions = JoinSet::new();
        loop {
            tokio::select! {
                _ = shutdown.wait() => break,
                Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let door = current.load_full();
                        let shutdown = shutdown.clone();
                        let close_rx = close_rx.clone();
                        sessions.spawn(async move { door.connection(stream, peer, port, shutdown, close_rx).await });
                    }
                    Err(e) => {
                        // Out of file descriptors and the like: wait a little
                        // instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
            }
        }
        drop(listener);
        let grace = current.load().config.server.shutdown_grace;
        tracing::info!(sessions = sessions.len(), grace = ?grace, "door closing: no new connections");
        let drain = async { while sessions.join_next().await.is_some() {} };
        if timeout(grace, drain).await.is_err() {
            let _ = close_now.send(true);
            while sessions.join_next().await.is_some() {}
        }
    }

    /// A slot for a client, or the refusal to write; sessions that gave
    /// their slot up for it are told to close.
    fn take_slot(&self, ip: IpAddr, trusted: bool) -> Result<(SlotGuard, Arc<Notify>), Refusal> {
        let server = &self.config.server;
        let limits = SlotLimits {
            total: server.max_connections,
            per_ip: server.max_connections_per_ip,
            reserve: server.reserved_connections,
        };
        let notify = Arc::new(Notify::new());
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let (id, closers) = slots.admit(ip, trusted, limits, Arc::clone(&notify))?;
        drop(slots);
        for c in closers {
            // notify_one keeps a permit if the session is not waiting yet.
            c.notify_one();
        }
        let guard = SlotGuard {
            slots: Arc::clone(&self.slots),
            id,
        };
        Ok((guard, notify))
    }

    async fn connection(
        self: Arc<Self>,
        stream: TcpStream,
        peer: SocketAddr,
        port: Port,
        shutdown: Shutdown,
        close_now: watch::Receiver<bool>,
    ) {
        let trusted = self.config.server.is_trusted(peer.ip());
        let (slot, make_room) = match self.take_slot(peer.ip(), trusted) {
            Ok(s) => s,
            Err(refusal) => {
                self.refuse(stream, peer, refusal).await;
                return;
            }
        };
        let _ = stream.set_nodelay(true);
        let server = &self.config.server;
        let io = if port == Port::Smtps {
            match timeout(server.command_timeout, self.tls.accept(stream)).await {
                Ok(Ok(tls)) => Io::Tls(Box::new(tls)),
                Ok(Err(e)) => {
                    tracing::debug!(client = %peer, error = %e, "implicit TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(client = %peer, "implicit TLS handshake timed out");
                    return;
                }
            }
        } else {
            Io::Plain(stream)
        };
        let cfg = SessionConfig {
            hostname: server.hostname.clone(),
            max_message_size: usize::try_from(server.max_message_size).unwrap_or(usize::MAX),
            max_recipients: server.max_recipients,
            max_errors: server.max_errors,
            submission: matches!(port, Port::Submission | Port::Smtps),
        };
        let client = ClientInfo {
            addr: peer,
            helo: String::new(),
            auth_user: None,
            tls: matches!(io, Io::Tls(_)),
            trusted,
        };
        let session = Session::new(cfg, client);
        let mut conn = Connection {
            door: &self,
            io: Some(io),
            session,
            shutdown,
            close_now,
            stopping: false,
            slot,
            make_room,
            share: self.budget.share(),
        };
        if let Err(e) = conn.run().await {
            tracing::debug!(client = %peer, error = %e, "session ended");
        }
    }

    /// Writes the 421 for a connection that gets no slot.
    async fn refuse(&self, mut stream: TcpStream, peer: SocketAddr, refusal: Refusal) {
        let hostname = &self.config.server.hostname;
        let r = match refusal {
            Refusal::PerAddress => {
                tracing::info!(client = %peer, "connection refused: too many connections from this address");
                session::too_many_connections(hostname, Some(peer.ip()))
            }
            Refusal::Full => {
                tracing::warn!(client = %peer, "connection refused: every slot is held by trusted or logged-in sessions");
                session::too_many_connections(hostname, None)
            }
        };
        let _ = timeout(REFUSAL_WRITE_TIMEOUT, async {
            let _ = stream.write_all(&r.to_wire()).await;
            let _ = stream.shutdown().await;
        })
        .await;
    }
}

impl Door {
    /// Checks a password unless this login or the client address is locked;
    /// a failure counts towards both.
    async fn authenticate(
        &self,
        client: SocketAddr,
        user: String,
        password: String,
    ) -> AuthOutcome {
        let limits = AuthLimits {
            per_user: self.config.limits.auth_failures,
            per_address: self.config.limits.auth_failures_per_address,
        };
        let ip = client.ip();
        if let Some(locked) = self.throttles.auth_blocked(ip, &user, limits).await {
            tracing::warn!(%client, user = %user.escape_default(), ?locked, "AUTH refused: too many failures");
            return AuthOutcome::Throttled(locked);
        }
        if self.users.verify(user.clone(), password).await {
            return AuthOutcome::Success;
        }
        tracing::warn!(%client, user = %user.escape_default(), "AUTH failed");
        match self.throttles.auth_failed(ip, &user, limits).await {
            Some(locked) => {
                tracing::warn!(%client, user = %user.escape_default(), ?locked, "AUTH locked: too many failures");
                AuthOutcome::Throttled(locked)
            }
            None => AuthOutcome::Failed,
        }
    }

    /// Counts one recipient against the authenticated user's sending rate;
    /// `451 4.7.1` when over it (mail clients retry a 4xx later).
    async fn rate_check(&self, client: &ClientInfo) -> Result<(), Reply> {
        let Some(user) = client.auth_user.as_deref() else {
            return Ok(());
        };
        let limit = self.config.user_rate(user);
        self.throttles.send_one(user, limit).await.map_err(|secs| {
            tracing::info!(user, %limit, retry_secs = secs, "sending rate exceeded");
            session::rate_exceeded(user, limit, secs)
        })
    }
}

enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Io {
    async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Io::Plain(s) => s.read(buf).await,
            Io::Tls(s) => s.read(buf).await,
        }
    }

    async fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Io::Plain(s) => s.write_all(bytes).await,
            Io::Tls(s) => {
                s.write_all(bytes).await?;
                s.flush().await
            }
        }
    }

    async fn shutdown(&mut self) {
        let _ = match self {
            Io::Plain(s) => s.shutdown().await,
            Io::Tls(s) => s.shutdown().await,
        };
    }
}

/// Why a session ended early (for the debug log only; the client already
/// got its reply or is gone).
#[derive(Debug, thiserror::Error)]
enum SessionEnd {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("write timed out")]
    WriteTimeout,
    #[error("TLS handshake failed: {0}")]
    Handshake(std::io::Error),
    #[error("client closed the connection")]
    Eof,
}

struct Connection<'a> {
    door: &'a Door,
    io: Option<Io>,
    session: Session,
    shutdown: Shutdown,
    close_now: watch::Receiver<bool>,
    /// Shutdown has fired: close as soon as no transaction is open.
    stopping: bool,
    slot: SlotGuard,
    /// Fires when this session, not logged in, must give its slot up.
    make_room: Arc<Notify>,
    /// This session's part of the DATA memory budget.
    share: budget::Share,
}

impl Connection<'_> {
    async fn run(&mut self) -> Result<(), SessionEnd> {
        let mut out: Vec<u8> = Vec::new();
        let mut buf = vec![0u8; READ_CHUNK];
        let mut data_deadline: Option<Instant> = None;
        let server = &self.door.config.server;
        // Overall deadlines, not moved by each byte read: one for the
        // command line being read, one from the greeting to the first MAIL.
        let mut line_deadline: Option<Instant> = None;
        let mut setup_deadline = Some(Instant::now() + server.setup_timeout);
        let mut logged_in = false;
        loop {
            while let Some(action) = self.session.poll() {
                line_deadline = None;
                match action {
                    Action::Reply(r) => out.extend_from_slice(&r.to_wire()),
                    Action::CheckMail { client, from } => {
                        let answer = self.door.gateway.check_mail(&client, &from);
                        self.session.mail_done(answer);
                    }
                    Action::CheckRcpt { client, from, rcpt } => {
                        let answer = match self.door.rate_check(&client).await {
                            Ok(()) => {
                                let gateway = self.door.gateway();
                                guarded("RCPT", async move {
                                    gateway.check_rcpt(&client, &from, &rcpt).await
                                })
                                .await
                                .unwrap_or_else(Err)
                            }
                            Err(r) => Err(r),
                        };
                        self.session.rcpt_done(answer);
                    }
                    Action::Verify { user, password } => {
                        let outcome = self
                            .door
                            .authenticate(self.session.client().addr, user, password.0)
                            .await;
                        self.session.auth_done(outcome);
                    }
                    Action::Submit(sub) => {
                        // The body stays in the budget until it is stored.
                        if !self.share.resize(sub.data.capacity()) {
                            self.session.submit_done(super::session::no_room_reply());
                            continue;
                        }
                        // Let the client see earlier replies while the store commits.
                        self.write(&mut out).await?;
                        let gateway = self.door.gateway();
                        let answer = guarded("DATA", async move { gateway.submit(sub).await })
                            .await
                            .unwrap_or_else(|reply| reply);
                        self.session.submit_done(answer);
                        self.share.resize(0);
                    }
                    Action::Refused { sub, reply } => {
                        let gateway = self.door.gateway();
                        let answer = gateway.door_refused(&sub, reply).await;
                        self.session.submit_done(answer);
                    }
                    Action::StartTls => {
                        self.write(&mut out).await?;
                        let Some(Io::Plain(tcp)) = self.io.take() else {
                            return Ok(());
                        };
                        // Anything the client pipelined after STARTTLS is
                        // still unread in the kernel: rustls reads it as a
                        // handshake and fails, which is what we want.
                        let tls = timeout(server.command_timeout, self.door.tls.accept(tcp))
                            .await
                            .map_err(|_| SessionEnd::WriteTimeout)?
                            .map_err(SessionEnd::Handshake)?;
                        self.io = Some(Io::Tls(Box::new(tls)));
                        self.session.tls_done();
                    }
                    Action::Close => {
                        self.write(&mut out).await?;
                        if let Some(io) = self.io.as_mut() {
                            io.shutdown().await;
                        }
                        return Ok(());
                    }
                }
            }
            if self.stopping && !self.session.in_transaction() {
                self.session.shutting_down();
                continue;
            }
            self.write(&mut out).await?;

            if !logged_in && self.session.client().auth_user.is_some() {
                logged_in = true;
                self.slot.logged_in();
            }
            if self.session.in_transaction() {
                setup_deadline = None;
            }
            let deadline = if self.session.in_data() {
                *data_deadline.get_or_insert_with(|| Instant::now() + server.data_timeout)
            } else {
                data_deadline = None;
                let line =
                    *line_deadline.get_or_insert_with(|| Instant::now() + server.command_timeout);
                setup_deadline.map_or(line, |s| s.min(line))
            };
            let Some(io) = self.io.as_mut() else {
                return Ok(());
            };
            tokio::select! {
                read = timeout_at(deadline, io.read(&mut buf)) => match read {
                    Err(_) => self.session.timed_out(),
                    Ok(Ok(0)) => return Err(SessionEnd::Eof),
                    Ok(Ok(n)) => {
                        self.session.push(buf.get(..n).unwrap_or_default());
                        if self.session.in_data() && !self.share.resize(self.session.body_bytes()) {
                            self.session.no_room();
                            self.share.resize(self.session.body_bytes());
                        }
                    }
                    Ok(Err(e)) => return Err(e.into()),
                },
                _ = self.shutdown.wait(), if !self.stopping => {
                    self.stopping = true;
                }
                _ = self.close_now.wait_for(|now| *now) => self.session.shutting_down(),
                // Only a session that held its slot as a stranger is told;
                // if it logged in since, the slot is gone all the same.
                _ = self.make_room.notified() => self.session.make_room(),
            }
        }
    }

    async fn write(&mut self, out: &mut Vec<u8>) -> Result<(), SessionEnd> {
        if out.is_empty() {
            return Ok(());
        }
        let Some(io) = self.io.as_mut() else {
            return Ok(());
        };
        timeout(self.door.config.server.command_timeout, io.write_all(out))
            .await
            .map_err(|_| SessionEnd::WriteTimeout)??;
        out.clear();
        Ok(())
    }
}

/// Runs one gateway call as its own task, so a bug that panics inside it
/// costs this transaction a `451 4.3.0` (the client keeps the message and
/// tries again later) and a log line naming the stage, never a silent drop.
async fn guarded<T: Send + 'static>(
    stage: &'static str,
    call: impl std::future::Future<Output = T> + Send + 'static,
) -> Result<T, Reply> {
    tokio::spawn(call).await.map_err(|e| {
        tracing::error!(stage, error = %e, "a bug stopped this transaction; the client was told to try again");
        crate::gateway::replies::local_problem()
    })
}
