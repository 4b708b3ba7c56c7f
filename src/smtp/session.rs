//! The per-connection SMTP state machine, pure: bytes go in through
//! [`Session::push`], [`Action`]s come out of [`Session::poll`], and the
//! answers to the actions that need the outside world (RCPT check, password
//! check, submission, TLS upgrade) come back through the `*_done` methods.
//!
//! The grammar is smtp-proto's: `RequestReceiver` for command lines,
//! `DataReceiver` for DATA (dot-unstuffing; only `CRLF.CRLF` ends it),
//! `LineReceiver` for SASL continuation lines. This module adds the sequence
//! rules, the limits and the replies. It knows nothing of sockets, clocks,
//! storage or policy, so tests and the fuzzer drive it without a network.

use std::collections::VecDeque;
use std::net::IpAddr;

use smtp_proto::request::receiver::{
    DataReceiver, DummyDataReceiver, LineReceiver, MAX_LINE_LENGTH, RequestReceiver,
};
use smtp_proto::{AUTH_LOGIN, AUTH_PLAIN, MAIL_BODY_BINARYMIME, MAIL_SMTPUTF8, Request};

use super::auth::{decode_login_field, decode_plain};
use super::reply::Reply;
use super::throttle::Locked;
use crate::submission::{ClientInfo, Submission};

/// Longest command line we take, CRLF included. smtp-proto's receiver
/// buffers up to this much; RFC 5321 §4.5.3.1.4 asks for at least 512, and
/// AUTH initial responses and SMTPUTF8 addresses need more.
pub const MAX_LINE_LEN: usize = MAX_LINE_LENGTH;

/// What the session limits come from (the `[server]` section, narrowed).
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Our name in the greeting and in EHLO.
    pub hostname: String,
    /// Largest message body, in bytes, as announced in EHLO SIZE.
    pub max_message_size: usize,
    /// Most recipients in one transaction.
    pub max_recipients: usize,
    /// Failed commands allowed before we hang up with 421.
    pub max_errors: u32,
    /// A submission listener (RFC 6409, port 587): AUTH only after
    /// STARTTLS, and MAIL only after AUTH, even from the trusted networks.
    pub submission: bool,
}

/// What the loop around the session must do next.
#[derive(Debug)]
pub enum Action {
    /// Write this reply (replies may be batched until input runs dry:
    /// RFC 2920 allows it).
    Reply(Reply),
    /// Ask the gateway about the reverse path, then call
    /// [`Session::mail_done`] with its answer.
    CheckMail { client: ClientInfo, from: String },
    /// Ask the gateway about one forward path, then call
    /// [`Session::rcpt_done`] with its answer.
    CheckRcpt {
        client: ClientInfo,
        from: String,
        rcpt: String,
    },
    /// Check a password (unless the client is throttled), then call
    /// [`Session::auth_done`].
    Verify { user: String, password: Password },
    /// Hand the transaction to the gateway, then call [`Session::submit_done`].
    Submit(Submission),
    /// The door refused the message itself (too large, a line too long):
    /// have the gateway record the refusal, then call
    /// [`Session::submit_done`] with `reply`. `data` holds what was kept of
    /// the message (nothing when it was too large to keep).
    Refused { sub: Submission, reply: Reply },
    /// The `220` is queued before this: write it, drop every byte read so
    /// far, do the TLS handshake, then call [`Session::tls_done`].
    StartTls,
    /// Write what is queued and close the connection.
    Close,
}

/// What became of an AUTH attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthOutcome {
    Success,
    /// Wrong name or password.
    Failed,
    /// Too many failures for this user from this client address, or from
    /// the address as a whole: refused without a password check.
    Throttled(Locked),
}

/// A password from AUTH; its `Debug` never shows it, so no log line can.
pub struct Password(pub String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

/// The envelope of the transaction in progress.
#[derive(Debug, Clone)]
struct Transaction {
    mail_from: String,
    smtputf8: bool,
    rcpts: Vec<String>,
}

enum DataRx {
    /// Collecting the body.
    Keep(DataReceiver),
    /// The body grew over the limit: read on to the end, keep nothing.
    Discard(DummyDataReceiver),
}

enum Mode {
    Command,
    /// The rest of a line we already answered (too long, or the parser
    /// stopped inside it): nothing in it may run as a command.
    DiscardLine,
    Data(DataRx),
    AuthPlain,
    AuthLoginUser,
    AuthLoginPass {
        user: String,
    },
    /// An action is out; nothing is read until its answer comes back.
    Waiting,
    Closed,
}

enum Greeted {
    No,
    Helo,
    Ehlo,
}

/// One SMTP session, from greeting to QUIT.
pub struct Session {
    cfg: SessionConfig,
    client: ClientInfo,
    greeted: Greeted,
    tx: Option<Transaction>,
    mode: Mode,
    input: Vec<u8>,
    pos: usize,
    requests: RequestReceiver,
    /// Bytes of the current command line handed to `requests` so far.
    line_len: usize,
    sasl_line: LineReceiver<()>,
    body: Vec<u8>,
    out: VecDeque<Action>,
    errors: u32,
    /// The forward path whose check is out.
    pending_rcpt: Option<String>,
    /// The transaction a MAIL opens once its check comes back.
    pending_tx: Option<Transaction>,
    pending_user: Option<String>,
    /// The last bytes of DATA as sent (before unstuffing), to tell the one
    /// true end, CRLF "." CRLF, from the look-alikes.
    data_tail: [u8; 5],
    /// The door's memory budget had no room for this body: it is read to
    /// its end without being kept, and answered `452 4.3.1`.
    no_room: bool,
}

/// The only sequence that ends DATA (RFC 5321 §4.1.1.4).
const END_OF_DATA: &[u8; 5] = b"\r\n.\r\n";

/// Longest line of a message, CRLF not counted (RFC 5322 §2.1.1: "MUST be
/// no more than 998 characters"). A longer one is refused at the end of
/// DATA rather than relayed and bounced later by a strict server, after
/// the mail program was told "OK"; folding it ourselves would change what
/// the reader sees or break a signature.
pub const MAX_MESSAGE_LINE: usize = 998;

/// The number (from 1) of the first line of `body` longer than
/// [`MAX_MESSAGE_LINE`], if any. A bare LF ends a line too.
pub fn first_long_line(body: &[u8]) -> Option<usize> {
    body.split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line).len())
        .position(|len| len > MAX_MESSAGE_LINE)
        .map(|i| i + 1)
}

/// `452 4.3.1`: the DATA memory budget is spent by other messages now.
pub fn no_room_reply() -> Reply {
    reply(
        452,
        (4, 3, 1),
        "too many large messages at once; please try again in a few minutes",
    )
}

fn reply(code: u16, status: (u8, u8, u8), text: impl Into<String>) -> Reply {
    Reply::new(code, status, text)
}

/// `530 5.7.0`: MAIL without a login where one is needed.
pub fn auth_required() -> Reply {
    reply(530, (5, 7, 0), "Authentication required")
}

/// `530 5.7.0` on a submission port: AUTH before STARTTLS (RFC 6409).
pub fn starttls_first() -> Reply {
    reply(530, (5, 7, 0), "Must issue a STARTTLS command first")
}

/// `538 5.7.11`: AUTH over a clear connection where TLS is needed (RFC 4954).
pub fn encryption_required() -> Reply {
    reply(
        538,
        (5, 7, 11),
        "encryption required for requested authentication mechanism",
    )
}

/// `535 5.7.8`: wrong user name or password.
pub fn auth_invalid() -> Reply {
    reply(535, (5, 7, 8), "authentication credentials invalid")
}

/// `454 4.7.0`: this login (or every login) from this address is locked
/// for a while after too many failures.
pub fn auth_throttled(locked: Locked, user: Option<&str>, ip: IpAddr) -> Reply {
    let text = match (locked, user) {
        (Locked::User { retry_secs }, Some(user)) => format!(
            "too many failed logins for {} from {ip}, try again in {retry_secs} s; other users may log in",
            user.escape_default()
        ),
        (Locked::User { retry_secs }, None) | (Locked::Address { retry_secs }, _) => {
            format!("too many failed logins from {ip}, try again in {retry_secs} s")
        }
    };
    reply(454, (4, 7, 0), text)
}

/// The reply to a command the grammar refuses.
pub fn protocol_error(e: smtp_proto::Error) -> Reply {
    use smtp_proto::Error as E;
    match e {
        E::UnknownCommand => reply(500, (5, 5, 1), "command not recognized"),
        E::InvalidSenderAddress => reply(501, (5, 1, 7), "bad sender address syntax"),
        E::InvalidRecipientAddress => reply(501, (5, 1, 3), "bad recipient address syntax"),
        E::SyntaxError { syntax } => reply(501, (5, 5, 2), format!("syntax: {syntax}")),
        E::InvalidParameter { param } => {
            reply(501, (5, 5, 4), format!("invalid parameter {param}"))
        }
        E::UnsupportedParameter { param } => reply(
            504,
            (5, 5, 4),
            format!("parameter {} not supported", param.escape_default()),
        ),
        E::NeedsMoreData { .. } | E::ResponseTooLong | E::InvalidResponse { .. } => line_too_long(),
    }
}

/// `500 5.5.2`: a command line over the limit.
fn line_too_long() -> Reply {
    reply(500, (5, 5, 2), "line too long")
}

/// `553 5.6.7`: a non-ASCII sender without `SMTPUTF8` (RFC 6531).
pub fn non_ascii_sender() -> Reply {
    reply(
        553,
        (5, 6, 7),
        "non-ASCII address needs the SMTPUTF8 parameter",
    )
}

/// `553 5.6.7`: a non-ASCII recipient in a transaction without `SMTPUTF8`.
pub fn non_ascii_recipient() -> Reply {
    reply(
        553,
        (5, 6, 7),
        "non-ASCII address needs SMTPUTF8 in MAIL FROM",
    )
}

/// `452 4.5.3`: more recipients than one transaction may have.
pub fn too_many_recipients() -> Reply {
    reply(452, (4, 5, 3), "too many recipients")
}

/// `554 5.5.1`: DATA after every recipient was refused.
pub fn no_valid_recipients() -> Reply {
    reply(554, (5, 5, 1), "no valid recipients")
}

/// `552 5.3.4`, for MAIL FROM SIZE= over the limit and for a body that grew past it.
pub fn too_large(max_message_size: usize) -> Reply {
    reply(
        552,
        (5, 3, 4),
        format!("message size exceeds fixed maximum message size ({max_message_size} bytes)"),
    )
}

/// `550 5.6.0`: line `n` of the message is over [`MAX_MESSAGE_LINE`].
pub fn long_line(n: usize) -> Reply {
    reply(
        550,
        (5, 6, 0),
        format!(
            "line {n} is longer than {MAX_MESSAGE_LINE} characters; break it or send that text as an attachment"
        ),
    )
}

/// `421 4.4.2`: the command or DATA timeout ran out.
pub fn timeout(hostname: &str) -> Reply {
    reply(
        421,
        (4, 4, 2),
        format!("{hostname} timeout, closing connection"),
    )
}

/// `421 4.7.0`: the door is short of slots and a session that has not
/// logged in gives its slot up.
pub fn busy(hostname: &str) -> Reply {
    reply(
        421,
        (4, 7, 0),
        format!("{hostname} busy: closing a connection that has not logged in, try again later"),
    )
}

/// `421 4.3.2`: the server is stopping.
pub fn shutting_down(hostname: &str) -> Reply {
    reply(
        421,
        (4, 3, 2),
        format!("{hostname} shutting down, try again later"),
    )
}

/// `421 4.7.0` to a connection that gets no slot: `Some(ip)` when that
/// address holds its share already, `None` when every slot is taken.
pub fn too_many_connections(hostname: &str, per_address: Option<IpAddr>) -> Reply {
    let text = match per_address {
        Some(ip) => format!("{hostname} too many connections from {ip}, try again later"),
        None => format!("{hostname} too many connections, try again later"),
    };
    reply(421, (4, 7, 0), text)
}

/// `451 4.7.1`: the logged-in user's sending rate is spent for now.
pub fn rate_exceeded(user: &str, limit: impl std::fmt::Display, retry_secs: u64) -> Reply {
    reply(
        451,
        (4, 7, 1),
        format!(
            "sending rate for {} exceeded ({limit}), try again in {retry_secs} s",
            user.escape_default()
        ),
    )
}

/// Every refusal and temporary failure the door itself words, built with
/// example values by the functions the session uses: the README's table of
/// replies is checked against this list and `gateway::replies::catalogue`
/// (`tests/readme.rs`).
pub fn catalogue() -> Vec<Reply> {
    let host = "gw.example";
    let ip = IpAddr::from([192, 0, 2, 7]);
    vec![
        auth_required(),
        starttls_first(),
        encryption_required(),
        auth_invalid(),
        auth_throttled(Locked::User { retry_secs: 120 }, Some("li"), ip),
        auth_throttled(Locked::Address { retry_secs: 120 }, None, ip),
        protocol_error(smtp_proto::Error::InvalidRecipientAddress),
        non_ascii_sender(),
        non_ascii_recipient(),
        long_line(12),
        too_large(25 * 1024 * 1024),
        no_room_reply(),
        too_many_recipients(),
        no_valid_recipients(),
        timeout(host),
        busy(host),
        shutting_down(host),
        too_many_connections(host, Some(ip)),
        too_many_connections(host, None),
        rate_exceeded("li@shop.example", "300/hour", 12),
    ]
}

impl Session {
    /// A new session; the greeting is already queued.
    pub fn new(cfg: SessionConfig, client: ClientInfo) -> Session {
        let greeting = reply(220, (0, 0, 0), format!("{} ESMTP sendwell", cfg.hostname));
        let mut s = Session {
            cfg,
            client,
            greeted: Greeted::No,
            tx: None,
            mode: Mode::Command,
            input: Vec::new(),
            pos: 0,
            requests: RequestReceiver::default(),
            line_len: 0,
            sasl_line: LineReceiver::new(()),
            body: Vec::new(),
            out: VecDeque::new(),
            errors: 0,
            pending_rcpt: None,
            pending_tx: None,
            pending_user: None,
            data_tail: [0; 5],
            no_room: false,
        };
        s.out.push_back(Action::Reply(greeting));
        s
    }

    pub fn client(&self) -> &ClientInfo {
        &self.client
    }

    /// A MAIL FROM was accepted and the transaction has not ended.
    pub fn in_transaction(&self) -> bool {
        self.tx.is_some()
    }

    /// The message body is being read (the DATA timeout applies).
    pub fn in_data(&self) -> bool {
        matches!(self.mode, Mode::Data(_))
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.mode, Mode::Closed)
    }

    /// Bytes read from the client.
    pub fn push(&mut self, bytes: &[u8]) {
        if matches!(self.mode, Mode::Closed) {
            return;
        }
        if self.pos >= self.input.len() {
            self.input.clear();
            self.pos = 0;
        }
        self.input.extend_from_slice(bytes);
    }

    /// The next thing to do, or `None` when the session needs more input
    /// (or waits for the answer to an action).
    pub fn poll(&mut self) -> Option<Action> {
        loop {
            if let Some(a) = self.out.pop_front() {
                return Some(a);
            }
            if matches!(self.mode, Mode::Waiting | Mode::Closed) || self.pos >= self.input.len() {
                return None;
            }
            let before = self.pos;
            self.step();
            if self.pos == before && self.out.is_empty() {
                // No progress means the receivers want more bytes.
                return None;
            }
        }
    }

    /// The command timeout (or DATA timeout) ran out.
    pub fn timed_out(&mut self) {
        self.close_with(timeout(&self.cfg.hostname));
    }

    /// The door is short of slots and this session, not logged in, gives
    /// its slot up.
    pub fn make_room(&mut self) {
        self.close_with(busy(&self.cfg.hostname));
    }

    /// The server is stopping.
    pub fn shutting_down(&mut self) {
        self.close_with(shutting_down(&self.cfg.hostname));
    }

    /// The gateway's answer to [`Action::CheckRcpt`], written back as is.
    pub fn rcpt_done(&mut self, answer: Result<Reply, Reply>) {
        let rcpt = self.pending_rcpt.take();
        self.mode = Mode::Command;
        match answer {
            Ok(r) => {
                if let (Some(tx), Some(rcpt)) = (self.tx.as_mut(), rcpt) {
                    tx.rcpts.push(rcpt);
                }
                self.send(r);
            }
            Err(r) => self.fail(r),
        }
    }

    /// The gateway's answer to [`Action::CheckMail`]: `Ok` opens the
    /// transaction.
    pub fn mail_done(&mut self, answer: Result<Reply, Reply>) {
        let tx = self.pending_tx.take();
        self.mode = Mode::Command;
        match answer {
            Ok(r) => {
                self.tx = tx;
                self.send(r);
            }
            Err(r) => self.fail(r),
        }
    }

    /// The answer to [`Action::Verify`].
    pub fn auth_done(&mut self, outcome: AuthOutcome) {
        let user = self.pending_user.take();
        self.mode = Mode::Command;
        match (outcome, user) {
            (AuthOutcome::Success, Some(user)) => {
                self.client.auth_user = Some(user);
                self.send(reply(235, (2, 7, 0), "authentication successful"));
            }
            (AuthOutcome::Throttled(locked), user) => {
                let ip = self.client.addr.ip();
                self.fail(auth_throttled(locked, user.as_deref(), ip))
            }
            _ => self.fail(auth_invalid()),
        }
    }

    /// The gateway's answer to [`Action::Submit`], written back as is. The
    /// transaction ends whatever the answer.
    pub fn submit_done(&mut self, answer: Reply) {
        self.tx = None;
        self.mode = Mode::Command;
        if answer.is_positive() {
            self.send(answer);
        } else {
            self.fail(answer);
        }
    }

    /// The TLS handshake succeeded: start over as RFC 3207 §4.2 says (forget
    /// EHLO, the transaction and every byte read before the handshake).
    pub fn tls_done(&mut self) {
        self.discard_input();
        self.client.tls = true;
        self.client.helo.clear();
        self.client.auth_user = None;
        self.greeted = Greeted::No;
        self.tx = None;
        self.mode = Mode::Command;
    }

    fn discard_input(&mut self) {
        self.input.clear();
        self.pos = 0;
        self.requests = RequestReceiver::default();
        self.line_len = 0;
    }

    fn send(&mut self, r: Reply) {
        self.out.push_back(Action::Reply(r));
    }

    /// A refused command: answer it and count it; too many and we hang up.
    fn fail(&mut self, r: Reply) {
        self.send(r);
        self.errors = self.errors.saturating_add(1);
        if self.errors >= self.cfg.max_errors {
            self.close_with(reply(421, (4, 7, 0), "too many errors, closing connection"));
        }
    }

    fn close_with(&mut self, r: Reply) {
        if matches!(self.mode, Mode::Closed) {
            return;
        }
        self.send(r);
        self.out.push_back(Action::Close);
        self.mode = Mode::Closed;
        self.discard_input();
    }

    fn step(&mut self) {
        match std::mem::replace(&mut self.mode, Mode::Waiting) {
            Mode::Command => {
                self.mode = Mode::Command;
                self.step_command();
            }
            Mode::DiscardLine => {
                let rest = self.input.get(self.pos..).unwrap_or_default();
                match rest.iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        self.pos += i + 1;
                        self.mode = Mode::Command;
                    }
                    None => {
                        self.pos = self.input.len();
                        self.mode = Mode::DiscardLine;
                    }
                }
            }
            Mode::Data(rx) => self.step_data(rx),
            mode @ (Mode::AuthPlain | Mode::AuthLoginUser | Mode::AuthLoginPass { .. }) => {
                self.step_sasl(mode)
            }
            mode @ (Mode::Waiting | Mode::Closed) => self.mode = mode,
        }
    }

    fn step_command(&mut self) {
        let rest = self.input.get(self.pos..).unwrap_or_default();
        let mut it = rest.iter();
        let result = self.requests.ingest(&mut it).map(Request::into_owned);
        let consumed = rest.len() - it.as_slice().len();
        let ends_line = consumed > 0 && rest.get(consumed - 1) == Some(&b'\n');
        match result {
            Err(smtp_proto::Error::NeedsMoreData { .. }) => {
                // The receiver keeps a partial line itself (it took all of it).
                self.line_len = self.line_len.saturating_add(rest.len());
                self.pos = self.input.len();
            }
            Err(smtp_proto::Error::ResponseTooLong) => {
                self.pos += consumed;
                self.line_len = 0;
                self.mode = Mode::DiscardLine;
                self.fail(line_too_long());
            }
            result => {
                self.pos += consumed;
                let line_len = self.line_len.saturating_add(consumed);
                self.line_len = 0;
                if !ends_line {
                    // smtp-proto stopped inside the line (some of its error
                    // paths do): the rest of it must never run as a command.
                    self.mode = Mode::DiscardLine;
                }
                if line_len > MAX_LINE_LEN {
                    self.fail(line_too_long());
                    return;
                }
                match result {
                    Ok(req) => self.command(req),
                    Err(e) => self.proto_error(e),
                }
            }
        }
    }

    fn proto_error(&mut self, e: smtp_proto::Error) {
        self.fail(protocol_error(e));
    }

    fn command(&mut self, req: Request<String>) {
        match req {
            Request::Ehlo { host } => {
                self.tx = None;
                self.greeted = Greeted::Ehlo;
                self.client.helo = host;
                let r = self.ehlo_reply();
                self.send(r);
            }
            Request::Helo { host } => {
                self.tx = None;
                self.greeted = Greeted::Helo;
                self.client.helo = host;
                self.send(reply(250, (0, 0, 0), self.cfg.hostname.clone()));
            }
            Request::StartTls => self.starttls(),
            Request::Auth {
                mechanism,
                initial_response,
            } => self.auth(mechanism, initial_response),
            Request::Mail { from } => self.mail(from),
            Request::Rcpt { to } => self.rcpt(to.address),
            Request::Data => self.data(),
            Request::Rset => {
                self.tx = None;
                self.send(reply(250, (2, 0, 0), "OK"));
            }
            Request::Noop { .. } => self.send(reply(250, (2, 0, 0), "OK")),
            Request::Quit => {
                self.send(reply(
                    221,
                    (2, 0, 0),
                    format!("{} closing connection", self.cfg.hostname),
                ));
                self.out.push_back(Action::Close);
                self.mode = Mode::Closed;
                self.discard_input();
            }
            Request::Help { .. } => self.send(reply(
                214,
                (2, 0, 0),
                "commands: EHLO HELO STARTTLS AUTH MAIL RCPT DATA RSET NOOP VRFY QUIT HELP",
            )),
            Request::Vrfy { .. } => self.send(reply(
                252,
                (2, 5, 0),
                "cannot VRFY user, but will accept message and attempt delivery",
            )),
            Request::Expn { .. } => self.fail(reply(502, (5, 5, 1), "EXPN not available")),
            Request::Bdat { .. }
            | Request::Lhlo { .. }
            | Request::Etrn { .. }
            | Request::Atrn { .. }
            | Request::Burl { .. } => self.fail(reply(
                502,
                (5, 5, 1),
                format!("{} not implemented", req.name()),
            )),
        }
    }

    fn ehlo_reply(&self) -> Reply {
        let mut lines = vec![
            format!("{} greets {}", self.cfg.hostname, self.client.helo),
            "PIPELINING".to_string(),
            format!("SIZE {}", self.cfg.max_message_size),
            "8BITMIME".to_string(),
            "SMTPUTF8".to_string(),
            "ENHANCEDSTATUSCODES".to_string(),
        ];
        if !self.client.tls {
            lines.push("STARTTLS".to_string());
        }
        if self.auth_allowed() {
            lines.push("AUTH PLAIN LOGIN".to_string());
        }
        lines.push("HELP".to_string());
        reply(250, (0, 0, 0), lines.join("\n"))
    }

    /// RFC 4954 §4 and RFC 8314: passwords only over TLS, except from the
    /// trusted networks (a local mail client on the same host) on a port-25
    /// style listener. A submission listener wants TLS from everyone.
    fn auth_allowed(&self) -> bool {
        self.client.tls || (self.client.trusted && !self.cfg.submission)
    }

    fn starttls(&mut self) {
        if self.client.tls {
            self.fail(reply(503, (5, 5, 1), "TLS already active"));
            return;
        }
        self.send(reply(220, (2, 0, 0), "ready to start TLS"));
        self.out.push_back(Action::StartTls);
        // Bytes pipelined after STARTTLS were sent in clear text and must not
        // be taken as if they came over TLS (CVE-2011-0411 and kin).
        self.discard_input();
        self.mode = Mode::Waiting;
    }

    fn auth(&mut self, mechanism: u64, initial: String) {
        if !matches!(self.greeted, Greeted::Ehlo) {
            return self.fail(reply(503, (5, 5, 1), "send EHLO first"));
        }
        if self.client.auth_user.is_some() {
            return self.fail(reply(503, (5, 5, 1), "already authenticated"));
        }
        if self.tx.is_some() {
            return self.fail(reply(
                503,
                (5, 5, 1),
                "AUTH not allowed during a mail transaction",
            ));
        }
        if !self.auth_allowed() && self.cfg.submission {
            return self.fail(starttls_first());
        }
        if !self.auth_allowed() {
            return self.fail(encryption_required());
        }
        self.sasl_line = LineReceiver::new(());
        match mechanism {
            AUTH_PLAIN if initial.is_empty() => {
                self.send(reply(334, (0, 0, 0), ""));
                self.mode = Mode::AuthPlain;
            }
            AUTH_PLAIN => self.sasl_plain(&initial),
            AUTH_LOGIN if initial.is_empty() => {
                self.send(reply(334, (0, 0, 0), "VXNlcm5hbWU6"));
                self.mode = Mode::AuthLoginUser;
            }
            AUTH_LOGIN => self.sasl_login_user(&initial),
            _ => self.fail(reply(
                504,
                (5, 5, 4),
                "unrecognized authentication type (use PLAIN or LOGIN)",
            )),
        }
    }

    fn step_sasl(&mut self, mode: Mode) {
        let rest = self.input.get(self.pos..).unwrap_or_default();
        let mut it = rest.iter();
        let complete = self.sasl_line.ingest(&mut it);
        self.pos += rest.len() - it.as_slice().len();
        if !complete {
            self.mode = mode;
            return;
        }
        let line = String::from_utf8_lossy(&self.sasl_line.buf).into_owned();
        self.sasl_line.buf.clear();
        self.mode = Mode::Command;
        if line.trim() == "*" {
            return self.fail(reply(501, (5, 0, 0), "authentication cancelled"));
        }
        match mode {
            Mode::AuthPlain => self.sasl_plain(&line),
            Mode::AuthLoginUser => self.sasl_login_user(&line),
            Mode::AuthLoginPass { user } => match decode_login_field(&line) {
                Ok(password) => self.verify(user, password),
                Err(_) => self.fail(reply(501, (5, 5, 2), "cannot decode the response")),
            },
            _ => {}
        }
    }

    fn sasl_plain(&mut self, text: &str) {
        match decode_plain(text) {
            Ok((user, password)) => self.verify(user, password),
            Err(_) => self.fail(reply(501, (5, 5, 2), "cannot decode the response")),
        }
    }

    fn sasl_login_user(&mut self, text: &str) {
        match decode_login_field(text) {
            Ok(user) if !user.is_empty() => {
                self.send(reply(334, (0, 0, 0), "UGFzc3dvcmQ6"));
                self.mode = Mode::AuthLoginPass { user };
            }
            _ => self.fail(reply(501, (5, 5, 2), "cannot decode the response")),
        }
    }

    fn verify(&mut self, user: String, password: String) {
        self.pending_user = Some(user.clone());
        self.out.push_back(Action::Verify {
            user,
            password: Password(password),
        });
        self.mode = Mode::Waiting;
    }

    fn mail(&mut self, from: smtp_proto::MailFrom<String>) {
        if matches!(self.greeted, Greeted::No) {
            return self.fail(reply(503, (5, 5, 1), "send EHLO or HELO first"));
        }
        if self.tx.is_some() {
            return self.fail(reply(503, (5, 5, 1), "nested MAIL command"));
        }
        // Never an open relay: outside the trusted networks, only
        // authenticated users may send.
        // On a submission listener (RFC 6409 §4.3), AUTH even from there.
        if (self.cfg.submission || !self.client.trusted) && self.client.auth_user.is_none() {
            return self.fail(auth_required());
        }
        if from.flags & MAIL_BODY_BINARYMIME != 0 {
            return self.fail(reply(504, (5, 5, 4), "BODY=BINARYMIME not supported"));
        }
        let smtputf8 = from.flags & MAIL_SMTPUTF8 != 0;
        if !smtputf8 && !from.address.is_ascii() {
            return self.fail(non_ascii_sender());
        }
        if from.size > self.cfg.max_message_size {
            return self.fail(self.too_large());
        }
        self.pending_tx = Some(Transaction {
            mail_from: from.address.clone(),
            smtputf8,
            rcpts: Vec::new(),
        });
        self.out.push_back(Action::CheckMail {
            client: self.client.clone(),
            from: from.address,
        });
        self.mode = Mode::Waiting;
    }

    fn rcpt(&mut self, address: String) {
        let Some(tx) = &self.tx else {
            return self.fail(reply(503, (5, 5, 1), "need MAIL before RCPT"));
        };
        if !tx.smtputf8 && !address.is_ascii() {
            return self.fail(non_ascii_recipient());
        }
        if tx.rcpts.iter().any(|r| r == &address) {
            return self.send(reply(250, (2, 1, 5), "recipient ok (duplicate)"));
        }
        if tx.rcpts.len() >= self.cfg.max_recipients {
            return self.send(too_many_recipients());
        }
        self.pending_rcpt = Some(address.clone());
        self.out.push_back(Action::CheckRcpt {
            client: self.client.clone(),
            from: tx.mail_from.clone(),
            rcpt: address,
        });
        self.mode = Mode::Waiting;
    }

    fn too_large(&self) -> Reply {
        too_large(self.cfg.max_message_size)
    }

    /// Memory the body being received holds now (its allocation).
    pub fn body_bytes(&self) -> usize {
        self.body.capacity()
    }

    /// The door has no memory left for this body: read the rest without
    /// keeping it, and answer `452 4.3.1` at the end (try again later).
    pub fn no_room(&mut self) {
        if let Mode::Data(DataRx::Keep(r)) = &self.mode {
            self.mode = Mode::Data(DataRx::Discard(DummyDataReceiver::new_data(r)));
            self.body = Vec::new();
            self.no_room = true;
        }
    }

    fn data(&mut self) {
        let Some(tx) = &self.tx else {
            return self.fail(reply(503, (5, 5, 1), "need MAIL and RCPT before DATA"));
        };
        if tx.rcpts.is_empty() {
            return self.fail(no_valid_recipients());
        }
        self.send(reply(
            354,
            (0, 0, 0),
            "start mail input; end with <CRLF>.<CRLF>",
        ));
        self.body.clear();
        self.data_tail = *END_OF_DATA;
        self.mode = Mode::Data(DataRx::Keep(self.fresh_data_receiver()));
    }

    /// A receiver positioned at the start of a line. The body starts right
    /// after the CRLF that ended DATA, so a leading "." is stuffing (and a
    /// leading ".\r\n" ends an empty message): prime it with that CRLF.
    fn fresh_data_receiver(&self) -> DataReceiver {
        let mut rx = DataReceiver::new();
        let mut scratch = Vec::new();
        rx.ingest(&mut b"\r\n".iter(), &mut scratch);
        rx
    }

    fn step_data(&mut self, mut rx: DataRx) {
        let rest = self.input.get(self.pos..).unwrap_or_default();
        let mut it = rest.iter();
        let done = match &mut rx {
            DataRx::Keep(r) => r.ingest(&mut it, &mut self.body),
            DataRx::Discard(r) => r.ingest(&mut it),
        };
        let consumed = rest.len() - it.as_slice().len();
        // Only the last few consumed bytes can be part of the end marker.
        let eaten = rest.get(..consumed).unwrap_or_default();
        let recent = eaten
            .get(eaten.len().saturating_sub(END_OF_DATA.len())..)
            .unwrap_or_default();
        self.data_tail.rotate_left(recent.len());
        let keep = self.data_tail.len() - recent.len();
        if let Some(dst) = self.data_tail.get_mut(keep..) {
            dst.copy_from_slice(recent);
        }
        self.pos += consumed;
        if let DataRx::Keep(r) = &rx
            && self.body.len() > self.cfg.max_message_size
        {
            // Read on to the end and answer then: dropping the socket would
            // make the client retry the same message forever.
            rx = DataRx::Discard(DummyDataReceiver::new_data(r));
            self.body = Vec::new();
        }
        if done && &self.data_tail != END_OF_DATA {
            // smtp-proto also ends on CRLF "." CR CR… LF; strictly that line is
            // "." CR (stuffed), so the body goes on. Put back the CR LF its
            // receiver swallowed and carry on with a fresh one, so no sender
            // that stuffs only "\r\n.\r\n" can be made to split a message.
            if let DataRx::Keep(_) = rx {
                self.body.extend_from_slice(b"\r\n");
            }
            let fresh = self.fresh_data_receiver();
            rx = match rx {
                DataRx::Keep(_) => DataRx::Keep(fresh),
                DataRx::Discard(_) => DataRx::Discard(DummyDataReceiver::new_data(&fresh)),
            };
            self.mode = Mode::Data(rx);
            return;
        }
        if !done {
            self.mode = Mode::Data(rx);
            return;
        }
        self.finish_data(matches!(rx, DataRx::Discard(_)));
    }

    fn finish_data(&mut self, too_big: bool) {
        let body = std::mem::take(&mut self.body);
        if std::mem::take(&mut self.no_room) {
            self.tx = None;
            self.mode = Mode::Command;
            return self.fail(no_room_reply());
        }
        let Some(tx) = self.tx.clone() else {
            self.mode = Mode::Command;
            return self.fail(reply(503, (5, 5, 1), "no transaction"));
        };
        let refusal = if too_big {
            Some(self.too_large())
        } else {
            first_long_line(&body).map(long_line)
        };
        let sub = Submission {
            client: self.client.clone(),
            mail_from: tx.mail_from,
            rcpt_to: tx.rcpts,
            smtputf8: tx.smtputf8,
            data: body,
        };
        self.out.push_back(match refusal {
            Some(reply) => Action::Refused { sub, reply },
            None => Action::Submit(sub),
        });
        self.mode = Mode::Waiting;
    }
}
