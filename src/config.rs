//! The configuration schema: every key sendwell reads, with its default.
//!
//! `config/sendwell.toml` documents each key for people; this file is the
//! source of truth for the program. Unknown keys are errors (a typo must not
//! silently fall back to a default), and every error names the key and the
//! line it stands on.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// The whole configuration, as read from `sendwell.toml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where sendwell keeps its database (when SQLite), its TLS certificate and
    /// the outbox folder, unless those are set explicitly.
    pub data_dir: PathBuf,
    pub server: ServerConfig,
    pub store: StoreConfig,
    pub upstream: UpstreamConfig,
    pub relay: RelayConfig,
    /// Accounts that may AUTH; passwords are argon2 hashes (`sendwell user add NAME`).
    pub users: Vec<UserConfig>,
    /// The judge: thresholds and per-rule settings (`[policy.rules.RULE_ID]`).
    pub policy: crate::policy::PolicyConfig,
    /// Sender notices and reports: `language = "en" | "zh-CN"`.
    pub notices: crate::policy::NoticesConfig,
    /// The clock: business hours, weekends, holidays, time zones.
    pub schedule: crate::schedule::ScheduleConfig,
    /// Frequency caps per recipient and domain.
    pub caps: crate::schedule::caps::CapsConfig,
    /// Recipient-domain checks at RCPT time.
    pub dns: crate::recipient::DnsConfig,
    /// The audit log: retention, subject redaction, the journal.
    pub audit: crate::audit::AuditConfig,
    /// Sending rates per user and AUTH-failure throttling per client address.
    pub limits: LimitsConfig,
    /// The file this config was read from (none: built-in defaults); a live
    /// reload reads it again.
    #[serde(skip)]
    pub source: Option<PathBuf>,
    /// The review page, its JSON API, `/metrics` and `/healthz`.
    pub admin: AdminConfig,
    /// Several nodes on one queue: heartbeat and node timeout.
    pub cluster: crate::cluster::ClusterConfig,
    /// `[[inbox]]`: the sellers' mailboxes sendwell reads (read-only) to
    /// learn from replies, out-of-office answers and late bounces.
    pub inbox: Vec<crate::inbox::InboxConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./sendwell-data"),
            server: ServerConfig::default(),
            store: StoreConfig::default(),
            upstream: UpstreamConfig::default(),
            relay: RelayConfig::default(),
            users: Vec::new(),
            policy: crate::policy::PolicyConfig::default(),
            notices: crate::policy::NoticesConfig::default(),
            schedule: crate::schedule::ScheduleConfig::default(),
            caps: crate::schedule::caps::CapsConfig::default(),
            dns: crate::recipient::DnsConfig::default(),
            audit: crate::audit::AuditConfig::default(),
            limits: LimitsConfig::default(),
            source: None,
            admin: AdminConfig::default(),
            cluster: crate::cluster::ClusterConfig::default(),
            inbox: Vec::new(),
        }
    }
}

/// `[admin]`: the review page, the JSON API behind it, `/metrics`, `/healthz`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Serve the review page at all.
    pub enabled: bool,
    /// Where it listens. Anything but a loopback address needs `token`.
    pub listen: SocketAddr,
    /// The secret a person or a program shows to use the page and the API
    /// (`Authorization: Bearer TOKEN`, or the login form). Unset: no login,
    /// allowed only on a loopback address.
    pub token: Option<String>,
    /// The address people reach the page at, for links in notices
    /// (e.g. `https://mail-gw.example.com:8025`); unset: made from `listen`.
    pub public_url: Option<String>,
    /// The senders' time zone (IANA name): the queue page shows each copy's
    /// time in the recipient's zone and in this one. Unset: the machine's zone.
    pub sender_timezone: Option<String>,
    /// The page's language for everyone (`"en"` or `"zh-CN"`), without the
    /// switch. Unset: each person's choice (the switch), else their
    /// browser's language.
    pub language: Option<crate::policy::Language>,
    /// Named reviewers, each with a token of their own: what they release
    /// or refuse is recorded as `admin:NAME`. The single `token` stays the
    /// simple case (recorded as `admin`).
    pub reviewers: Vec<ReviewerConfig>,
}

/// One person who may use the review page under their own name.
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewerConfig {
    /// Their name in the audit log (`admin:NAME`): letters, digits, `.`, `_`, `-`.
    pub name: String,
    /// Their secret for the login form and `Authorization: Bearer` (at
    /// least [`MIN_ADMIN_TOKEN_LEN`] characters, unlike everyone else's).
    pub token: String,
}

impl std::fmt::Debug for ReviewerConfig {
    // The token stays out of logs and of the reload's change list.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReviewerConfig")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            enabled: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 8025)),
            token: None,
            public_url: None,
            sender_timezone: None,
            language: None,
            reviewers: Vec::new(),
        }
    }
}

/// Shortest token accepted: a guessable secret guards nothing.
pub const MIN_ADMIN_TOKEN_LEN: usize = 16;

impl AdminConfig {
    /// Whether the page asks who you are (a token or a reviewer is set).
    pub fn needs_login(&self) -> bool {
        self.token.is_some() || !self.reviewers.is_empty()
    }

    /// Who shows the secret `given`: `admin` for the single token,
    /// `admin:NAME` for a named reviewer; `None` for no one. Compared in
    /// time independent of where they differ.
    pub fn who(&self, given: &str) -> Option<String> {
        let same = |t: &str| {
            let (a, b) = (given.as_bytes(), t.as_bytes());
            a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
        };
        let mut found = None;
        // Every secret is looked at, so the time does not tell which matched.
        for r in &self.reviewers {
            if same(&r.token) && found.is_none() {
                found = Some(format!("admin:{}", r.name));
            }
        }
        if let Some(t) = &self.token
            && same(t)
            && found.is_none()
        {
            found = Some("admin".to_string());
        }
        found
    }

    /// The key that signs the read-only links of hold notices: the single
    /// token, else the first reviewer's. `None` when no login is needed.
    pub fn link_key(&self) -> Option<&str> {
        self.token
            .as_deref()
            .or_else(|| self.reviewers.first().map(|r| r.token.as_str()))
    }

    /// Checks the rules a started page depends on.
    fn validate(&self) -> Result<(), (String, String)> {
        let bad = |k: &str, m: String| Err((k.to_string(), m));
        if let Some(t) = &self.token
            && t.chars().count() < MIN_ADMIN_TOKEN_LEN
        {
            return bad(
                "admin.token",
                format!(
                    "use at least {MIN_ADMIN_TOKEN_LEN} characters (e.g. `openssl rand -hex 24`)"
                ),
            );
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, r) in self.reviewers.iter().enumerate() {
            let key = format!("admin.reviewers[{i}]");
            if r.name.is_empty()
                || !r
                    .name
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
            {
                return bad(
                    &key,
                    format!(
                        "name '{}' must be letters, digits, '.', '_', '-' or '@' (it is written into the audit log as admin:NAME)",
                        r.name
                    ),
                );
            }
            if !names.insert(r.name.to_lowercase()) {
                return bad(
                    &key,
                    format!("the reviewer '{}' is listed twice: keep one entry", r.name),
                );
            }
            if r.token.chars().count() < MIN_ADMIN_TOKEN_LEN {
                return bad(
                    &key,
                    format!(
                        "{}'s token is too short: use at least {MIN_ADMIN_TOKEN_LEN} characters (e.g. `openssl rand -hex 24`)",
                        r.name
                    ),
                );
            }
            let others = self.reviewers.iter().filter(|o| o.token == r.token).count();
            if others > 1 || self.token.as_deref() == Some(r.token.as_str()) {
                return bad(
                    &key,
                    format!(
                        "{}'s token is also someone else's: give each reviewer their own, or the audit log cannot tell them apart",
                        r.name
                    ),
                );
            }
        }
        if self.enabled && !self.needs_login() && !self.listen.ip().is_loopback() {
            return bad(
                "admin.token",
                format!(
                    "the review page listens on {}, beyond this machine: set admin.token \
                     (anyone who can reach it could release or refuse mail), or listen on 127.0.0.1",
                    self.listen
                ),
            );
        }
        if let Some(u) = &self.public_url
            && !(u.starts_with("http://") || u.starts_with("https://"))
        {
            return bad(
                "admin.public_url",
                format!("'{u}' must start with http:// or https://"),
            );
        }
        if let Some(z) = &self.sender_timezone
            && jiff::tz::TimeZone::get(z).is_err()
        {
            return bad(
                "admin.sender_timezone",
                format!("'{z}' is not a known time zone (an IANA name such as Asia/Shanghai)"),
            );
        }
        Ok(())
    }

    /// The base of links to the page: `public_url`, else made from `listen`
    /// (an unspecified address becomes `host`, the server's name).
    pub fn base_url(&self, host: &str) -> String {
        if let Some(u) = &self.public_url {
            return u.trim_end_matches('/').to_string();
        }
        let ip = self.listen.ip();
        let port = self.listen.port();
        if ip.is_unspecified() {
            format!("http://{host}:{port}")
        } else if ip.is_ipv6() {
            format!("http://[{ip}]:{port}")
        } else {
            format!("http://{ip}:{port}")
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Addresses the SMTP door listens on (port-25 style: trusted networks
    /// may relay without AUTH).
    pub listen: Vec<SocketAddr>,
    /// Submission listeners (RFC 6409, port 587): AUTH only after STARTTLS,
    /// and MAIL only after AUTH, even from the trusted networks.
    pub submission: Vec<SocketAddr>,
    /// Implicit-TLS submission listeners (RFC 8314, port 465): TLS from the
    /// first byte, then the same rules as `submission` (AUTH before MAIL).
    pub smtps: Vec<SocketAddr>,
    /// The name we give in the greeting, in EHLO and in `Received:` headers.
    pub hostname: String,
    /// Clients from these networks may relay without AUTH. Everyone else must
    /// AUTH over TLS first.
    pub trusted_networks: Vec<IpNet>,
    /// PEM certificate chain for STARTTLS; when unset, a self-signed one is
    /// generated on first start and kept in the data directory.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key matching `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Largest message accepted, in bytes (announced in EHLO SIZE).
    pub max_message_size: u64,
    /// Most recipients in one message (RFC 5321 §4.5.3.1.8 asks for at least 100).
    pub max_recipients: usize,
    /// Most simultaneous SMTP connections overall.
    pub max_connections: usize,
    /// Most simultaneous SMTP connections from one client address outside
    /// `trusted_networks`; over it, a new connection gets 421.
    pub max_connections_per_ip: usize,
    /// Of `max_connections`, slots kept for clients from `trusted_networks`
    /// and for logged-in sessions: others never take them. When slots run
    /// short, the oldest session that is neither is closed first.
    pub reserved_connections: usize,
    /// Time allowed for one command line, from the previous reply to its
    /// end (RFC 5321 §4.5.3.2.7: 5 minutes); a byte now and then does not
    /// extend it.
    #[serde(with = "humantime_serde")]
    pub command_timeout: Duration,
    /// Time allowed from the greeting to the first `MAIL FROM` (EHLO,
    /// STARTTLS, AUTH), however busy the client keeps the line.
    #[serde(with = "humantime_serde")]
    pub setup_timeout: Duration,
    /// Time allowed for the whole DATA transfer.
    #[serde(with = "humantime_serde")]
    pub data_timeout: Duration,
    /// Most commands that may fail in one session before we hang up (stops
    /// address harvesting and confused clients looping forever).
    pub max_errors: u32,
    /// On shutdown, how long open sessions may go on finishing their
    /// transaction before they are closed with `421 4.3.2`.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 2525))],
            submission: Vec::new(),
            smtps: Vec::new(),
            hostname: "sendwell.localhost".to_string(),
            trusted_networks: vec![
                "127.0.0.0/8".parse().expect("literal network"),
                "::1/128".parse().expect("literal network"),
            ],
            tls_cert: None,
            tls_key: None,
            max_message_size: 25 * 1024 * 1024,
            max_recipients: 100,
            max_connections: 500,
            max_connections_per_ip: 50,
            reserved_connections: 50,
            command_timeout: Duration::from_secs(300),
            setup_timeout: Duration::from_secs(120),
            data_timeout: Duration::from_secs(600),
            max_errors: 20,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

impl ServerConfig {
    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        // An IPv4 client reaching a dual-stack socket shows up as ::ffff:a.b.c.d.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        self.trusted_networks.iter().any(|net| net.contains(&ip))
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `sqlite://PATH` (the embedded default, in the data directory) or
    /// `postgres://user@host/db` for several gateway nodes sharing one queue.
    pub url: Option<String>,
    /// Most pooled database connections.
    pub max_connections: u32,
    /// Finished messages (every copy delivered, bounced, refused or dropped)
    /// are deleted this many days after their last copy finished; 0 keeps
    /// them. The audit log keeps their history either way.
    pub keep_days: u32,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            url: None,
            max_connections: 8,
            keep_days: 30,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamConfig {
    /// `smtp://host:port` (STARTTLS when offered), `smtps://host:port`
    /// (implicit TLS), or `outbox:DIR` (write `.eml` files; the default,
    /// `outbox:<data_dir>/outbox`, when unset).
    pub url: Option<String>,
    /// AUTH user at the upstream; no AUTH when unset.
    pub username: Option<String>,
    /// Name of the environment variable holding the upstream password.
    pub password_env: Option<String>,
    /// File holding the upstream password (first line); used when
    /// `password_env` is unset.
    pub password_file: Option<PathBuf>,
    /// Refuse to send over `smtp://` unless the upstream offers STARTTLS.
    pub require_tls: bool,
    /// Check the upstream's certificate. Only turn off for a test smarthost.
    pub tls_verify: bool,
    /// The name we give in EHLO to the upstream; `server.hostname` when unset.
    pub helo_name: Option<String>,
    /// Timeout for connecting and for each command/reply with the upstream.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Simultaneous connections to the upstream.
    pub connections: usize,
    /// Extra reply rules, tried before the built-in ones (see
    /// `relay::replies`): `[[upstream.reply_rules]] match = "regex",
    /// action = "retry" | "pause" | "bounce", pause = "1h"`.
    pub reply_rules: Vec<crate::relay::replies::ReplyRuleConfig>,
    /// While the route is paused, one message is sent this often to learn
    /// whether the provider takes mail again.
    #[serde(with = "humantime_serde")]
    pub probe_interval: Duration,
    /// A route's name (`[[upstream.routes]]` only; `[upstream]` is `default`).
    pub name: Option<String>,
    /// A route's match (`[[upstream.routes]]` only): the sendwell logins
    /// whose mail takes it.
    pub users: Vec<String>,
    /// A route's match (`[[upstream.routes]]` only): envelope senders
    /// (`li@shop.example`, `*@shop.example`) whose mail takes it.
    pub from: Vec<String>,
    /// More routes, each with everything `[upstream]` has: a message takes
    /// the first whose `users` or `from` matches it, else `[upstream]`.
    pub routes: Vec<UpstreamConfig>,
    /// A provider preset (`relay::providers`) filling the keys left out:
    /// url, require_tls, connections and the limits below.
    pub provider: Option<String>,
    /// Messages a minute this route may hand over (in any minute; counted
    /// for all nodes when they share a PostgreSQL store); unset: no limit.
    pub per_minute: Option<u32>,
    /// Recipients a UTC day this route may hand over, counted in the store
    /// (all nodes, across restarts); a copy past it waits for the next day.
    pub per_day: Option<u32>,
    /// Most recipients in one message; more go as several transactions.
    pub max_rcpts_per_message: Option<usize>,
    /// How sendwell logs in: `password` (the default when `username` is
    /// set) or `xoauth2` (Microsoft 365, Google: an access token fetched
    /// with the `oauth_*` keys).
    pub auth: UpstreamAuth,
    /// XOAUTH2: the provider's token endpoint (presets fill it).
    pub oauth_token_url: Option<String>,
    /// XOAUTH2: the application (client) id registered with the provider.
    pub oauth_client_id: Option<String>,
    /// XOAUTH2: the environment variable holding the client secret (public
    /// clients have none).
    pub oauth_client_secret_env: Option<String>,
    /// XOAUTH2: a file whose first line is the client secret.
    pub oauth_client_secret_file: Option<PathBuf>,
    /// XOAUTH2: the environment variable holding the refresh token.
    pub oauth_refresh_token_env: Option<String>,
    /// XOAUTH2: a file whose first line is the refresh token.
    pub oauth_refresh_token_file: Option<PathBuf>,
    /// XOAUTH2: the scopes asked for on refresh (presets fill it).
    pub oauth_scope: Option<String>,
    /// Reach the upstream through a proxy: `socks5://host:port` or
    /// `http://host:port` (HTTP CONNECT); the proxy resolves the host name.
    pub proxy: Option<String>,
    /// The proxy's user name, when it wants one.
    pub proxy_username: Option<String>,
    /// The environment variable holding the proxy's password.
    pub proxy_password_env: Option<String>,
    /// A file whose first line is the proxy's password.
    pub proxy_password_file: Option<PathBuf>,
}

impl UpstreamConfig {
    /// This route's `oauth_*` keys.
    pub fn oauth_keys(&self) -> crate::oauth::OAuthKeys<'_> {
        crate::oauth::OAuthKeys {
            token_url: self.oauth_token_url.as_deref(),
            client_id: self.oauth_client_id.as_deref(),
            client_secret_env: self.oauth_client_secret_env.as_deref(),
            client_secret_file: self.oauth_client_secret_file.as_deref(),
            refresh_token_env: self.oauth_refresh_token_env.as_deref(),
            refresh_token_file: self.oauth_refresh_token_file.as_deref(),
            scope: self.oauth_scope.as_deref(),
        }
    }
}

/// How a route logs in to its upstream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UpstreamAuth {
    /// AUTH PLAIN/LOGIN with `password_env`/`password_file`.
    #[default]
    Password,
    /// AUTH XOAUTH2 with an access token from `oauth_token_url`.
    Xoauth2,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        UpstreamConfig {
            url: None,
            username: None,
            password_env: None,
            password_file: None,
            require_tls: false,
            tls_verify: true,
            helo_name: None,
            timeout: Duration::from_secs(60),
            connections: 4,
            reply_rules: Vec::new(),
            probe_interval: Duration::from_secs(3600),
            name: None,
            users: Vec::new(),
            from: Vec::new(),
            routes: Vec::new(),
            provider: None,
            per_minute: None,
            per_day: None,
            max_rcpts_per_message: None,
            auth: UpstreamAuth::Password,
            oauth_token_url: None,
            oauth_client_id: None,
            oauth_client_secret_env: None,
            oauth_client_secret_file: None,
            oauth_refresh_token_env: None,
            oauth_refresh_token_file: None,
            oauth_scope: None,
            proxy: None,
            proxy_username: None,
            proxy_password_env: None,
            proxy_password_file: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RelayConfig {
    /// Waits between attempts after a temporary failure; the last one repeats.
    #[serde(with = "humantime_serde_vec")]
    pub retry_schedule: Vec<Duration>,
    /// After this long in the queue a copy that still fails is bounced.
    #[serde(with = "humantime_serde")]
    pub max_lifetime: Duration,
    /// Tell the sender once that a copy is delayed when it is still undelivered
    /// this long after it was first due.
    #[serde(with = "humantime_serde")]
    pub delay_notice_after: Duration,
    /// How long a worker's claim on a delivery lasts before another worker (or
    /// node) may take it over.
    #[serde(with = "humantime_serde")]
    pub lease: Duration,
    /// How often the courier looks for due deliveries when idle.
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
    /// Most deliveries one claim takes.
    pub batch_size: usize,
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            retry_schedule: [60, 300, 900, 1800, 3600, 7200, 14400]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
            max_lifetime: Duration::from_secs(5 * 24 * 3600),
            delay_notice_after: Duration::from_secs(4 * 3600),
            lease: Duration::from_secs(300),
            poll_interval: Duration::from_secs(1),
            batch_size: 100,
        }
    }
}

impl RelayConfig {
    /// The wait before attempt number `attempts + 1`, given `attempts` failures so far.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let i = (attempts.max(1) as usize - 1).min(self.retry_schedule.len().saturating_sub(1));
        self.retry_schedule
            .get(i)
            .copied()
            .unwrap_or(Duration::from_secs(300))
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    pub name: String,
    /// An argon2 PHC string, as printed by `sendwell user add NAME`.
    pub password_hash: String,
    /// The addresses this user may send as, in MAIL FROM and in the From:
    /// header: `li@shop.example`, `*@shop.example` (a whole domain) or `*`
    /// (anything). Unset: only the login itself when it is an address,
    /// anything when it is a bare name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_from: Option<Vec<String>>,
    /// This user's sending rate (`"300/hour"`, `"unlimited"`); unset:
    /// `limits.user_rate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Limit>,
    /// This seller's time zone (IANA name): the 250 reply gives each
    /// waiting copy's time in the recipient's zone and in this one
    /// ("your time"). Unset: `admin.sender_timezone`, else the machine's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

impl UserConfig {
    /// The From addresses this user may use; `None` when unrestricted.
    pub fn allowed_from(&self) -> Option<Vec<String>> {
        match &self.allowed_from {
            Some(list) if list.iter().any(|a| a.trim() == "*") => None,
            Some(list) => Some(list.iter().map(|a| a.trim().to_lowercase()).collect()),
            None if self.name.contains('@') => Some(vec![self.name.trim().to_lowercase()]),
            None => None,
        }
    }
}

/// `[limits]`: how fast users may send, how often a client may guess.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Recipients an authenticated user may send to, for users without their
    /// own `rate`: `"300/hour"`, or `"unlimited"`. Each accepted RCPT counts.
    pub user_rate: Limit,
    /// Failed AUTH attempts for one user name from one client address:
    /// `"5/10m"`; past that, AUTH as that user from that address is refused
    /// with 454 without checking the password until the rate recovers. Other
    /// users behind the same address (an office's NAT) are not affected.
    /// `"unlimited"` switches it off.
    pub auth_failures: Limit,
    /// Failed AUTH attempts from one client address, whatever the user name
    /// (a higher bar, against guessing through many names): past it, every
    /// AUTH from the address gets 454. `"unlimited"` switches it off.
    pub auth_failures_per_address: Limit,
    /// How often the throttles forget clients and users that are idle.
    #[serde(with = "humantime_serde")]
    pub housekeeping_interval: Duration,
    /// Memory all DATA transfers in progress may hold together, in bytes
    /// (`268435456`) or with a unit (`"256MiB"`, `"1GiB"`). A message that
    /// would pass it is read to its end and answered `452 4.3.1` (the mail
    /// program tries again later) instead of growing the gateway's memory.
    #[serde(deserialize_with = "byte_size")]
    pub data_memory: u64,
}

/// A size in bytes: a number, or a string with a unit (B, KiB, MiB, GiB,
/// KB, MB, GB).
fn byte_size<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(u64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Number(n) => Ok(n),
        Raw::Text(t) => parse_byte_size(&t).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "'{t}' is not a size like \"256MiB\", \"1GiB\" or a number of bytes"
            ))
        }),
    }
}

pub fn parse_byte_size(t: &str) -> Option<u64> {
    let t = t.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => return None,
    };
    n.checked_mul(mult)
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            user_rate: Limit::Rate(Rate::new(300, Duration::from_secs(3600))),
            auth_failures: Limit::Rate(Rate::new(5, Duration::from_secs(600))),
            auth_failures_per_address: Limit::Rate(Rate::new(20, Duration::from_secs(600))),
            housekeeping_interval: Duration::from_secs(60),
            data_memory: 256 << 20,
        }
    }
}

impl Config {
    /// The `[[users]]` entry of a login name.
    pub fn user(&self, name: &str) -> Option<&UserConfig> {
        self.users.iter().find(|u| u.name == name)
    }

    /// The seller's zone, "your time" in replies and listings: the user's
    /// `timezone`, else `admin.sender_timezone`, else the machine's zone.
    pub fn seller_zone(&self, user: Option<&str>) -> jiff::tz::TimeZone {
        user.and_then(|u| self.user(u))
            .and_then(|u| u.timezone.as_deref())
            .or(self.admin.sender_timezone.as_deref())
            .and_then(|z| jiff::tz::TimeZone::get(z).ok())
            .unwrap_or_else(jiff::tz::TimeZone::system)
    }

    /// The sending rate of a user: their own, or `limits.user_rate`.
    pub fn user_rate(&self, name: &str) -> Limit {
        self.user(name)
            .and_then(|u| u.rate)
            .unwrap_or(self.limits.user_rate)
    }
}

/// `count` events per `per`, written `"300/hour"`, `"5/10m"`, `"20/minute"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    pub count: u32,
    pub per: Duration,
}

impl Rate {
    pub const fn new(count: u32, per: Duration) -> Rate {
        Rate { count, per }
    }
}

/// A rate, or no limit at all (`"unlimited"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub enum Limit {
    Unlimited,
    Rate(Rate),
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Limit::Unlimited => f.write_str("unlimited"),
            Limit::Rate(r) => match r.per.as_secs() {
                1 => write!(f, "{}/second", r.count),
                60 => write!(f, "{}/minute", r.count),
                3600 => write!(f, "{}/hour", r.count),
                86400 => write!(f, "{}/day", r.count),
                _ => write!(f, "{}/{}", r.count, humantime::format_duration(r.per)),
            },
        }
    }
}

impl From<Limit> for String {
    fn from(l: Limit) -> String {
        l.to_string()
    }
}

impl TryFrom<String> for Limit {
    type Error = String;

    fn try_from(s: String) -> Result<Limit, String> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("unlimited") {
            return Ok(Limit::Unlimited);
        }
        let bad = || {
            format!(
                "'{s}': write a rate as COUNT/PERIOD (\"300/hour\", \"5/10m\") or \"unlimited\""
            )
        };
        let (n, per) = t.split_once('/').ok_or_else(bad)?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        let per = match per.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            "d" | "day" => Duration::from_secs(86400),
            other => humantime::parse_duration(other).map_err(|_| bad())?,
        };
        if count == 0 || per.is_zero() {
            return Err(format!(
                "'{s}': a rate needs a count and a period above zero (or \"unlimited\")"
            ));
        }
        Ok(Limit::Rate(Rate::new(count, per)))
    }
}

/// `Vec<Duration>` in humantime notation (`["1m", "5m", "1h"]`).
mod humantime_serde_vec {
    use serde::{Deserialize, Deserializer, Serializer, ser::SerializeSeq};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(v: &[Duration], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for d in v {
            seq.serialize_element(&humantime::format_duration(*d).to_string())?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Duration>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|s| humantime::parse_duration(s).map_err(serde::de::Error::custom))
            .collect()
    }
}

/// A configuration that could not be used, with where and why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: {key}: {message}")]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
}

impl Config {
    /// Where the config comes from when `--config` is not given.
    pub const DEFAULT_PATH: &'static str = "./sendwell.toml";

    /// Reads `path`, or the built-in defaults when `path` is `None` and
    /// `./sendwell.toml` does not exist.
    pub fn load(path: Option<&Path>) -> Result<(Config, Option<PathBuf>), ConfigError> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None => {
                let p = PathBuf::from(Self::DEFAULT_PATH);
                if !p.exists() {
                    return Ok((Config::default(), None));
                }
                p
            }
        };
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        let mut config = Self::parse(&text, &path)?;
        config.source = Some(path.clone());
        Ok((config, Some(path)))
    }

    /// Parses and validates a config text; `path` only names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| {
                text.as_bytes()[..s.start.min(text.len())]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count()
                    + 1
            });
            ConfigError::Syntax {
                path: path.to_path_buf(),
                line: line.unwrap_or(0),
                message: e.message().trim().to_string(),
            }
        })?;
        // Provider presets fill the keys left out; a second reading of the
        // same (already checked) text with them filled in.
        let uses_presets = config.upstream.provider.is_some()
            || config.upstream.routes.iter().any(|r| r.provider.is_some());
        let config = if uses_presets {
            with_presets(text).map_err(|message| ConfigError::Invalid {
                path: path.to_path_buf(),
                key: "upstream.provider".into(),
                message,
            })?
        } else {
            config
        };
        config.validate().map_err(|(key, message)| {
            let line = line_of_key(text, &key);
            match line {
                Some(line) => ConfigError::Syntax {
                    path: path.to_path_buf(),
                    line,
                    message: format!("{key}: {message}"),
                },
                None => ConfigError::Invalid {
                    path: path.to_path_buf(),
                    key,
                    message,
                },
            }
        })?;
        Ok(config)
    }

    /// Checks what serde cannot: values that parse but make no sense.
    fn validate(&self) -> Result<(), (String, String)> {
        let bad = |k: &str, m: String| Err((k.to_string(), m));
        if self.server.listen.is_empty()
            && self.server.submission.is_empty()
            && self.server.smtps.is_empty()
        {
            return bad(
                "server.listen",
                "at least one address is needed (in listen, submission or smtps)".into(),
            );
        }
        if self.server.max_recipients == 0 {
            return bad("server.max_recipients", "must be at least 1".into());
        }
        if self.server.max_connections == 0 || self.server.max_connections_per_ip == 0 {
            return bad("server.max_connections", "must be at least 1".into());
        }
        if self.server.reserved_connections >= self.server.max_connections {
            return bad(
                "server.reserved_connections",
                format!(
                    "must be below max_connections ({}), or no client could connect before logging in",
                    self.server.max_connections
                ),
            );
        }
        if self.server.setup_timeout.is_zero() || self.server.command_timeout.is_zero() {
            return bad(
                "server.setup_timeout",
                "setup_timeout and command_timeout must be longer than 0s".into(),
            );
        }
        if self.server.tls_cert.is_some() != self.server.tls_key.is_some() {
            return bad("server.tls_cert", "tls_cert and tls_key go together".into());
        }
        if let Some(url) = &self.store.url
            && !(url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://"))
        {
            return bad(
                "store.url",
                format!("'{url}' is neither sqlite:… nor postgres://…"),
            );
        }
        self.validate_routes()?;
        if self.relay.retry_schedule.is_empty() {
            return bad("relay.retry_schedule", "needs at least one wait".into());
        }
        if self.relay.batch_size == 0 {
            return bad("relay.batch_size", "must be at least 1".into());
        }
        self.cluster.validate()?;
        self.policy.validate()?;
        self.schedule.validate()?;
        self.caps.validate()?;
        self.dns.validate()?;
        for (i, ib) in self.inbox.iter().enumerate() {
            ib.validate(i)?;
        }
        if self.limits.housekeeping_interval.is_zero() {
            return bad("limits.housekeeping_interval", "must be above zero".into());
        }
        self.admin.validate()?;
        if let Some(a) = &self.audit.journal_to
            && !crate::recipient::import::valid_address(a)
        {
            return bad(
                "audit.journal_to",
                format!("'{a}' is not an address mail can go to"),
            );
        }
        for (i, u) in self.users.iter().enumerate() {
            if self.users[..i].iter().any(|o| o.name == u.name) {
                return bad(
                    &format!("users[{i}].name"),
                    format!("user '{}' is listed twice", u.name),
                );
            }
            for a in u.allowed_from.iter().flatten() {
                if let Err(m) = crate::policy::sender::check_from_pattern(a) {
                    return bad(
                        &format!("users[{i}].allowed_from"),
                        format!("user '{}': {m}", u.name),
                    );
                }
            }
            if let Some(z) = &u.timezone
                && jiff::tz::TimeZone::get(z).is_err()
            {
                return bad(
                    &format!("users[{i}].timezone"),
                    format!(
                        "user '{}': '{z}' is not a known time zone (an IANA name such as Asia/Shanghai)",
                        u.name
                    ),
                );
            }
            if argon2::password_hash::PasswordHash::new(&u.password_hash).is_err() {
                return bad(
                    &format!("users[{i}].password_hash"),
                    format!(
                        "user '{}': not an argon2 hash (make one with `sendwell user add {}`)",
                        u.name, u.name
                    ),
                );
            }
        }
        Ok(())
    }

    /// `[upstream]` and each `[[upstream.routes]]`: a target, connections,
    /// reply rules and a probe interval that work, and a match and a unique
    /// name for each added route.
    fn validate_routes(&self) -> Result<(), (String, String)> {
        let bad = |k: &str, m: String| Err((k.to_string(), m));
        for (key, u) in self.routes() {
            let at = |k: &str| format!("{key}.{k}");
            if let Err(m) = upstream_target(u, &self.data_dir) {
                return bad(&at("url"), m);
            }
            if u.connections == 0 {
                return bad(&at("connections"), "must be at least 1".into());
            }
            if let Err(e) = crate::relay::replies::ReplyRules::new(&u.reply_rules) {
                return bad(
                    &at(&format!("reply_rules[{}].match", e.index)),
                    format!(
                        "{:?} is not a valid regular expression: {}",
                        e.pattern, e.reason
                    ),
                );
            }
            if u.probe_interval.is_zero() {
                return bad(&at("probe_interval"), "must be above zero".into());
            }
            if let Some(p) = &u.provider
                && crate::relay::providers::preset(p).is_none()
            {
                return bad(
                    &at("provider"),
                    format!(
                        "unknown provider '{p}': use one of {}",
                        crate::relay::providers::names()
                    ),
                );
            }
            if u.auth == UpstreamAuth::Xoauth2 {
                if u.username.is_none() {
                    return bad(
                        &at("username"),
                        "auth = \"xoauth2\" needs the mailbox to log in as".into(),
                    );
                }
                if let Some((k, what)) = u.oauth_keys().missing() {
                    return bad(
                        &at(k),
                        format!(
                            "auth = \"xoauth2\" needs {k}: {what} (README: \"Signing in with OAuth\")"
                        ),
                    );
                }
            }
            if let Some(p) = &u.proxy
                && let Err(m) = crate::relay::proxy::Proxy::parse(p)
            {
                return bad(&at("proxy"), m);
            }
            for (k, zero) in [
                ("per_minute", u.per_minute == Some(0)),
                ("per_day", u.per_day == Some(0)),
                ("max_rcpts_per_message", u.max_rcpts_per_message == Some(0)),
            ] {
                if zero {
                    return bad(
                        &at(k),
                        "must be at least 1 (leave it out for no limit)".into(),
                    );
                }
            }
        }
        let u = &self.upstream;
        for (k, set) in [
            ("name", u.name.is_some()),
            ("users", !u.users.is_empty()),
            ("from", !u.from.is_empty()),
        ] {
            if set {
                return bad(
                    &format!("upstream.{k}"),
                    "belongs in an [[upstream.routes]] entry; [upstream] is the route `default` and takes all mail no route matches".into(),
                );
            }
        }
        for (i, r) in u.routes.iter().enumerate() {
            let key = format!("upstream.routes[{i}]");
            let Some(name) = r.name.as_deref().filter(|n| !n.trim().is_empty()) else {
                return bad(&format!("{key}.name"), "each route needs a name".into());
            };
            if name == crate::relay::DEFAULT_ROUTE
                || u.routes[..i]
                    .iter()
                    .any(|o| o.name.as_deref() == Some(name))
            {
                return bad(
                    &format!("{key}.name"),
                    format!("route name '{name}' is taken (`default` is [upstream])"),
                );
            }
            if r.url.is_none() {
                return bad(
                    &format!("{key}.url"),
                    format!(
                        "route '{name}' needs a url (smtp://host:port, smtps://… or outbox:DIR)"
                    ),
                );
            }
            if r.users.is_empty() && r.from.is_empty() {
                return bad(
                    &format!("{key}.users"),
                    format!(
                        "route '{name}' matches no mail: give `users = [...]` or `from = [...]`"
                    ),
                );
            }
            for f in &r.from {
                if let Err(m) = crate::policy::sender::check_from_pattern(f) {
                    return bad(&format!("{key}.from"), format!("route '{name}': {m}"));
                }
            }
            if !r.routes.is_empty() {
                return bad(
                    &format!("{key}.routes"),
                    "routes do not nest: list every route under [upstream]".into(),
                );
            }
        }
        if let Some(n) = &self.notices.route
            && self.route(n).is_none()
        {
            return bad(
                "notices.route",
                format!("no route named '{n}' (`default` or an [[upstream.routes]] name)"),
            );
        }
        Ok(())
    }

    /// Every route with the key its settings are under: `[upstream]` as
    /// `default`, then `[[upstream.routes]]` in order.
    pub fn routes(&self) -> Vec<(String, &UpstreamConfig)> {
        std::iter::once(("upstream".to_string(), &self.upstream))
            .chain(
                self.upstream
                    .routes
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (format!("upstream.routes[{i}]"), r)),
            )
            .collect()
    }

    /// The names of every route, `default` first.
    pub fn route_names(&self) -> Vec<&str> {
        std::iter::once(crate::relay::DEFAULT_ROUTE)
            .chain(
                self.upstream
                    .routes
                    .iter()
                    .filter_map(|r| r.name.as_deref()),
            )
            .collect()
    }

    /// The settings of route `name` (`default` is `[upstream]`).
    pub fn route(&self, name: &str) -> Option<&UpstreamConfig> {
        if name == crate::relay::DEFAULT_ROUTE {
            return Some(&self.upstream);
        }
        self.upstream
            .routes
            .iter()
            .find(|r| r.name.as_deref() == Some(name))
    }

    /// The route a message takes, chosen once when it is accepted: the
    /// first `[[upstream.routes]]` whose `users` names its sendwell login or
    /// whose `from` matches its envelope sender, else `default`.
    pub fn route_for(&self, auth_user: Option<&str>, mail_from: &str) -> &str {
        self.upstream
            .routes
            .iter()
            .find(|r| {
                auth_user.is_some_and(|u| r.users.iter().any(|x| x == u))
                    || (!mail_from.is_empty()
                        && crate::policy::sender::from_allowed(&r.from, mail_from))
            })
            .and_then(|r| r.name.as_deref())
            .unwrap_or(crate::relay::DEFAULT_ROUTE)
    }

    /// The route sendwell's notice about a pause of route `paused` takes
    /// (it must not wait behind that pause): `[notices] route`, else
    /// `default`; when that is the paused route too, the notice waits with
    /// the mail.
    pub fn notice_route(&self, paused: &str) -> &str {
        match self.notices.route.as_deref() {
            Some(r) if r != paused => r,
            _ => crate::relay::DEFAULT_ROUTE,
        }
    }

    /// The store URL, with the embedded default in the data directory.
    pub fn store_url(&self) -> String {
        match &self.store.url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("sendwell.db").display()),
        }
    }

    /// The address sendwell's own mail goes out as (envelope sender and
    /// `From:`) through the `default` route: `[notices] from`, else the
    /// upstream login when it is an address. Providers refuse or rewrite
    /// mail not sent as the login (Microsoft 365: `550 5.7.60`), so a notice
    /// from `postmaster@…` with an empty envelope sender would never reach
    /// the seller.
    pub fn own_sender(&self) -> Option<&str> {
        self.own_sender_on(crate::relay::DEFAULT_ROUTE)
    }

    /// [`Config::own_sender`] through route `route`: an added route sends
    /// as its own login when that is an address (a per-person mailbox sends
    /// as nothing else), else as the default route does.
    pub fn own_sender_on(&self, route: &str) -> Option<&str> {
        fn login(u: &UpstreamConfig) -> Option<&str> {
            u.username.as_deref().filter(|u| u.contains('@'))
        }
        if route != crate::relay::DEFAULT_ROUTE
            && let Some(own) = self.route(route).and_then(login)
        {
            return Some(own);
        }
        self.notices.from.as_deref().or(login(&self.upstream))
    }

    /// Where mail of the `default` route goes: parsed from `upstream.url`,
    /// or the outbox folder.
    pub fn upstream_target(&self) -> Result<UpstreamTarget, String> {
        upstream_target(&self.upstream, &self.data_dir)
    }

    /// The directory of TLS material generated on first start.
    pub fn tls_dir(&self) -> PathBuf {
        self.data_dir.join("tls")
    }
}

/// A secret named by a key pair of the config: the value of the environment
/// variable `env` (as it is), or the first line of `file` (without its line
/// end). Upstream and proxy passwords, mailbox passwords, OAuth client
/// secrets and refresh tokens. The error starts with the key to look at,
/// `{key}_env` or `{key}_file`.
pub fn read_secret(key: &str, env: Option<&str>, file: Option<&Path>) -> Result<String, String> {
    if let Some(name) = env {
        return match std::env::var(name) {
            Ok(v) if !v.is_empty() => Ok(v),
            _ => Err(format!(
                "{key}_env: the environment variable {name} is not set (or empty, or not UTF-8)"
            )),
        };
    }
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "{key}_file: cannot read {}: {}",
                path.display(),
                crate::display::io_cause(&e)
            )
        })?;
        let first = text.lines().next().unwrap_or("").trim_end_matches('\r');
        if first.is_empty() {
            return Err(format!("{key}_file: {} is empty", path.display()));
        }
        return Ok(first.to_string());
    }
    Err(format!(
        "{key}_env: not set; name the environment variable that holds it, or set {key}_file"
    ))
}

/// `text` read again with each `provider` preset filling the keys of its
/// table that are left out.
fn with_presets(text: &str) -> Result<Config, String> {
    let mut doc: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    if let Some(up) = doc.get_mut("upstream").and_then(|v| v.as_table_mut()) {
        crate::relay::providers::fill(up);
        if let Some(routes) = up.get_mut("routes").and_then(|v| v.as_array_mut()) {
            for r in routes.iter_mut().filter_map(|r| r.as_table_mut()) {
                crate::relay::providers::fill(r);
            }
        }
    }
    toml::Value::Table(doc)
        .try_into()
        .map_err(|e: toml::de::Error| e.to_string())
}

/// Where a route's mail goes: parsed from its `url`, or the outbox folder
/// in `data_dir`.
pub fn upstream_target(
    upstream: &UpstreamConfig,
    data_dir: &Path,
) -> Result<UpstreamTarget, String> {
    let Some(url) = &upstream.url else {
        return Ok(UpstreamTarget::Outbox(data_dir.join("outbox")));
    };
    if let Some(dir) = url.strip_prefix("outbox:") {
        if dir.is_empty() {
            return Err("outbox: needs a folder, e.g. outbox:./outbox".into());
        }
        return Ok(UpstreamTarget::Outbox(PathBuf::from(dir)));
    }
    let (implicit_tls, rest, default_port) = if let Some(r) = url.strip_prefix("smtps://") {
        (true, r, 465)
    } else if let Some(r) = url.strip_prefix("smtp://") {
        (false, r, 587)
    } else {
        return Err(format!(
            "'{url}': use smtp://host:port, smtps://host:port or outbox:DIR"
        ));
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || rest.starts_with('[') => match p.parse::<u16>() {
            Ok(port) => (h, port),
            Err(_) => return Err(format!("'{url}': port '{p}' is not a number")),
        },
        _ => (rest, default_port),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("'{url}': no host"));
    }
    Ok(UpstreamTarget::Smtp {
        host: host.to_string(),
        port,
        implicit_tls,
    })
}

/// Where the courier hands mail over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamTarget {
    Smtp {
        host: String,
        port: u16,
        implicit_tls: bool,
    },
    Outbox(PathBuf),
}

/// The line a dotted key such as `server.listen` or `users[0].password_hash`
/// is set on, found by looking for its table header and then its last part.
fn line_of_key(text: &str, key: &str) -> Option<usize> {
    let mut parts: Vec<&str> = key.split('.').collect();
    let leaf = parts.pop()?;
    let leaf = leaf.split('[').next().unwrap_or(leaf);
    let table = parts.join(".");
    let table = table.split('[').next().unwrap_or(&table).to_string();
    let mut in_table = table.is_empty();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            let name = t.trim_matches(|c| c == '[' || c == ']').trim();
            in_table = name == table;
            continue;
        }
        if in_table
            && let Some((k, _)) = t.split_once('=')
            && k.trim() == leaf
        {
            return Some(i + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("sendwell.toml"))
    }

    #[test]
    fn empty_file_gives_defaults() {
        let c = parse("").unwrap();
        assert_eq!(
            c.server.listen,
            vec![SocketAddr::from(([127, 0, 0, 1], 2525))]
        );
        assert!(matches!(
            c.upstream_target().unwrap(),
            UpstreamTarget::Outbox(_)
        ));
        assert!(c.store_url().starts_with("sqlite://"));
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let err = parse("[server]\nlisten = [\"127.0.0.1:2525\"]\nlisen = 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains(":3:"), "{err}");
        assert!(err.contains("lisen"), "{err}");
    }

    #[test]
    fn bad_value_names_line() {
        let err = parse("[server]\n\nmax_recipients = \"many\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains(":3:"), "{err}");
    }

    #[test]
    fn semantic_error_names_key_and_line() {
        let err = parse("[upstream]\nurl = \"ftp://x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains(":2:") && err.contains("upstream.url"), "{err}");
    }

    #[test]
    fn unknown_rule_id_is_an_error_naming_it() {
        let err = parse("[policy.rules.SUBJECT_SHOUTING]\nweight = 2\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("SUBJECT_SHOUTING"), "{err}");
        let ok = parse("[policy.rules.SUBJECT_EMOJI]\nweight = 3\n");
        assert!(ok.is_ok(), "{ok:?}");
    }

    /// Issue 10 §3: first match wins, by login or envelope sender, else
    /// `default`; a route's own mail goes as its login.
    #[test]
    fn routes_choose_by_login_or_sender() {
        let c = parse(
            "[upstream]\nurl = \"smtp://127.0.0.1:2526\"\n\
             [[upstream.routes]]\nname = \"li\"\nurl = \"smtp://127.0.0.1:2527\"\n\
             users = [\"li\"]\nusername = \"li@shop.example\"\npassword_env = \"X\"\n\
             [[upstream.routes]]\nname = \"shop\"\nurl = \"smtp://127.0.0.1:2528\"\n\
             from = [\"*@shop.example\"]\n",
        )
        .unwrap();
        assert_eq!(c.route_for(Some("li"), "other@else.example"), "li");
        assert_eq!(c.route_for(Some("li"), "li@shop.example"), "li");
        assert_eq!(c.route_for(Some("wang"), "Wang@Shop.Example"), "shop");
        assert_eq!(c.route_for(None, "x@else.example"), "default");
        assert_eq!(c.route_for(None, ""), "default");
        assert_eq!(c.own_sender_on("li"), Some("li@shop.example"));
        assert_eq!(c.own_sender_on("shop"), None);
        assert_eq!(c.route_names(), ["default", "li", "shop"]);
        assert_eq!(c.notice_route("li"), "default");
    }

    /// Issue 10 §4: a preset fills what is left out, and only that.
    #[test]
    fn provider_presets_fill_and_are_overridable() {
        let c = parse(
            "[upstream]\nprovider = \"microsoft365\"\nconnections = 2\n\
             [[upstream.routes]]\nname = \"g\"\nprovider = \"google\"\nusers = [\"li\"]\n\
             url = \"smtp://127.0.0.1:2526\"\n",
        )
        .unwrap();
        assert_eq!(
            c.upstream.url.as_deref(),
            Some("smtp://smtp.office365.com:587")
        );
        assert!(c.upstream.require_tls);
        assert_eq!(c.upstream.connections, 2);
        assert_eq!(c.upstream.per_minute, Some(30));
        assert_eq!(c.upstream.per_day, Some(10_000));
        let g = c.route("g").unwrap();
        assert_eq!(g.url.as_deref(), Some("smtp://127.0.0.1:2526"));
        assert_eq!(g.per_day, Some(2_000));
        assert_eq!(g.max_rcpts_per_message, Some(100));
        let err = parse("[upstream]\nprovider = \"gmail\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("upstream.provider") && err.contains("\"google\""),
            "{err}"
        );
    }

    #[test]
    fn bad_routes_name_their_key() {
        for (text, key) in [
            (
                "[[upstream.routes]]\nurl = \"smtp://h\"\nusers = [\"a\"]\n",
                "upstream.routes[0].name",
            ),
            (
                "[[upstream.routes]]\nname = \"default\"\nurl = \"smtp://h\"\nusers = [\"a\"]\n",
                "upstream.routes[0].name",
            ),
            (
                "[[upstream.routes]]\nname = \"a\"\nusers = [\"a\"]\n",
                "upstream.routes[0].url",
            ),
            (
                "[[upstream.routes]]\nname = \"a\"\nurl = \"smtp://h\"\n",
                "upstream.routes[0].users",
            ),
            (
                "[[upstream.routes]]\nname = \"a\"\nurl = \"ftp://h\"\nusers = [\"a\"]\n",
                "upstream.routes[0].url",
            ),
            (
                "[[upstream.routes]]\nname = \"a\"\nurl = \"smtp://h\"\nfrom = [\"shop\"]\n",
                "upstream.routes[0].from",
            ),
            ("[upstream]\nusers = [\"a\"]\n", "upstream.users"),
            ("[notices]\nroute = \"nope\"\n", "notices.route"),
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(key), "{text}: {err}");
        }
    }

    #[test]
    fn upstream_urls() {
        let mut c = Config::default();
        c.upstream.url = Some("smtp://127.0.0.1:2526".into());
        assert_eq!(
            c.upstream_target().unwrap(),
            UpstreamTarget::Smtp {
                host: "127.0.0.1".into(),
                port: 2526,
                implicit_tls: false
            }
        );
        c.upstream.url = Some("smtps://smtp.example.com".into());
        assert_eq!(
            c.upstream_target().unwrap(),
            UpstreamTarget::Smtp {
                host: "smtp.example.com".into(),
                port: 465,
                implicit_tls: true
            }
        );
        c.upstream.url = Some("smtp://[::1]:25".into());
        assert_eq!(
            c.upstream_target().unwrap(),
            UpstreamTarget::Smtp {
                host: "::1".into(),
                port: 25,
                implicit_tls: false
            }
        );
    }

    #[test]
    fn trusted_networks_match_mapped_v4() {
        let s = ServerConfig::default();
        assert!(s.is_trusted("127.0.0.1".parse().unwrap()));
        assert!(s.is_trusted("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!s.is_trusted("10.0.0.1".parse().unwrap()));
    }

    /// The commented example is the documentation: it must parse, and every
    /// key the program knows must appear in it (set, or commented out).
    #[test]
    fn example_config_documents_every_key() {
        let example = include_str!("../config/sendwell.toml");
        parse(example).unwrap();
        let defaults = toml::Value::try_from(Config::default()).unwrap();
        let mut missing = Vec::new();
        fn walk(v: &toml::Value, prefix: &str, example: &str, missing: &mut Vec<String>) {
            if let toml::Value::Table(t) = v {
                for (k, v) in t {
                    let documented = example.lines().any(|l| {
                        let l = l.trim_start_matches(['#', ' ']);
                        l.starts_with(&format!("{k} ="))
                            || l.starts_with(&format!("[{k}]"))
                            || l.starts_with(&format!("[[{k}]]"))
                            || l.starts_with(&format!("[[{prefix}{k}]]"))
                            || l.starts_with(&format!("[{prefix}{k}."))
                    });
                    if !documented {
                        missing.push(format!("{prefix}{k}"));
                    }
                    walk(v, &format!("{prefix}{k}."), example, missing);
                }
            }
        }
        walk(&defaults, "", example, &mut missing);
        for key in [
            "tls_cert",
            "tls_key",
            "url",
            "username",
            "password_env",
            "password_file",
            "helo_name",
            "journal",
            "journal_to",
        ] {
            if !example.contains(&format!("{key} =")) {
                missing.push(key.to_string());
            }
        }
        assert!(
            missing.is_empty(),
            "config/sendwell.toml does not document: {missing:?}"
        );
    }

    #[test]
    fn a_secret_file_gives_its_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pw");
        std::fs::write(&p, "s3cret\r\nignored\n").unwrap();
        assert_eq!(read_secret("password", None, Some(&p)).unwrap(), "s3cret");
        std::fs::write(&p, "\n").unwrap();
        let err = read_secret("password", None, Some(&p)).unwrap_err();
        assert!(
            err.starts_with("password_file: ") && err.ends_with("is empty"),
            "{err}"
        );
        let err = read_secret("password", Some("SENDWELL_TEST_UNSET_SECRET"), None).unwrap_err();
        assert!(err.starts_with("password_env: "), "{err}");
    }

    #[test]
    fn rates_and_allowed_from() {
        let c = parse(
            "[limits]\nuser_rate = \"50/10m\"\nauth_failures = \"unlimited\"\n\
             [[users]]\nname = \"li@shop.example\"\npassword_hash = \"$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHQ$7+Yy0pD5xtrp3/vv7S4FmFEn0B+0Pzsm9WSVxT5jOHg\"\nrate = \"2/hour\"\n\
             [[users]]\nname = \"anna\"\npassword_hash = \"$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHQ$7+Yy0pD5xtrp3/vv7S4FmFEn0B+0Pzsm9WSVxT5jOHg\"\n",
        )
        .unwrap();
        assert_eq!(c.limits.auth_failures, Limit::Unlimited);
        assert_eq!(c.user_rate("li@shop.example").to_string(), "2/hour");
        assert_eq!(c.user_rate("anna").to_string(), "50/10m");
        // A login that is an address sends as itself; a bare name as anyone.
        assert_eq!(
            c.user("li@shop.example").unwrap().allowed_from(),
            Some(vec!["li@shop.example".to_string()])
        );
        assert_eq!(c.user("anna").unwrap().allowed_from(), None);
        let star = UserConfig {
            name: "boss@shop.example".into(),
            allowed_from: Some(vec!["*".into()]),
            ..UserConfig::default()
        };
        assert_eq!(star.allowed_from(), None);

        for bad in ["300", "0/hour", "3/fortnight", "x/hour"] {
            let err = parse(&format!("[limits]\nuser_rate = \"{bad}\"\n"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(":2:") && err.contains(bad), "{err}");
        }
        let err =
            parse("[[users]]\nname = \"li\"\npassword_hash = \"x\"\nallowed_from = [\"li@*\"]\n")
                .unwrap_err()
                .to_string();
        assert!(err.contains("allowed_from") && err.contains(":4:"), "{err}");
    }

    #[test]
    fn admin_beyond_loopback_needs_a_token() {
        let err = parse("[admin]\nlisten = \"0.0.0.0:8025\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("admin.token") && err.contains("0.0.0.0:8025"),
            "{err}"
        );
        let ok = parse("[admin]\nlisten = \"0.0.0.0:8025\"\ntoken = \"0123456789abcdef0123\"\n");
        assert!(ok.is_ok(), "{ok:?}");
        // Loopback needs none; a short token is refused anywhere.
        assert!(parse("[admin]\nlisten = \"127.0.0.1:8025\"\n").is_ok());
        let err = parse("[admin]\ntoken = \"short\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("at least 16"), "{err}");
        // Switched off, it needs nothing.
        assert!(parse("[admin]\nenabled = false\nlisten = \"0.0.0.0:8025\"\n").is_ok());
    }

    #[test]
    fn admin_links_follow_listen_or_public_url() {
        let mut a = AdminConfig::default();
        assert_eq!(a.base_url("gw.example"), "http://127.0.0.1:8025");
        a.listen = "0.0.0.0:9000".parse().unwrap();
        assert_eq!(a.base_url("gw.example"), "http://gw.example:9000");
        a.public_url = Some("https://review.example/".into());
        assert_eq!(a.base_url("gw.example"), "https://review.example");
    }

    #[test]
    fn backoff_repeats_last() {
        let r = RelayConfig::default();
        assert_eq!(r.backoff(1), Duration::from_secs(60));
        assert_eq!(r.backoff(100), Duration::from_secs(14400));
    }
}
