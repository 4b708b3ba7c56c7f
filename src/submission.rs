//! What the door hands to the gateway: an envelope, the raw message and who
//! sent it. Plain data, shared by `smtp` (which fills it) and `gateway`
//! (which judges and stores it).

use std::net::SocketAddr;

/// Who is on the other end of an SMTP session.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    /// The client's address as the socket sees it.
    pub addr: SocketAddr,
    /// The name the client gave in EHLO/HELO.
    pub helo: String,
    /// The AUTH identity, when the client authenticated.
    pub auth_user: Option<String>,
    /// Whether the session runs over TLS (STARTTLS done).
    pub tls: bool,
    /// Whether the client's address is in `server.trusted_networks`.
    pub trusted: bool,
}

/// One SMTP transaction after the final dot.
#[derive(Debug, Clone)]
pub struct Submission {
    pub client: ClientInfo,
    /// The reverse path; empty for the null sender `<>`.
    pub mail_from: String,
    /// Accepted forward paths, in the order the client gave them.
    pub rcpt_to: Vec<String>,
    /// The client asked for SMTPUTF8.
    pub smtputf8: bool,
    /// The message as received, dot-unstuffed, not yet canonicalised.
    pub data: Vec<u8>,
}
