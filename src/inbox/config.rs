//! `[[inbox]]`: a mailbox sendwell may read. Schema and checks only; the
//! password is read when the watcher starts.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How sendwell logs in to a mailbox: a password, or XOAUTH2 with the
/// same `oauth_*` keys as an upstream route.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InboxAuth {
    #[default]
    Password,
    Xoauth2,
}

/// One mailbox to read.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InboxConfig {
    /// `imaps://imap.example.com:993` (TLS from the first byte) or
    /// `imap://imap.example.com:143` (STARTTLS).
    pub url: String,
    pub username: String,
    /// The environment variable holding the password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// A file whose first line is the password (when `password_env` is unset).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    #[serde(default)]
    pub auth: InboxAuth,
    /// XOAUTH2 (`auth = "xoauth2"`): as for an upstream route.
    #[serde(default)]
    pub oauth_token_url: Option<String>,
    #[serde(default)]
    pub oauth_client_id: Option<String>,
    #[serde(default)]
    pub oauth_client_secret_env: Option<String>,
    #[serde(default)]
    pub oauth_client_secret_file: Option<PathBuf>,
    #[serde(default)]
    pub oauth_refresh_token_env: Option<String>,
    #[serde(default)]
    pub oauth_refresh_token_file: Option<PathBuf>,
    #[serde(default)]
    pub oauth_scope: Option<String>,
    /// Folders to read: where buyers' replies and bounces land.
    #[serde(default = "default_folders")]
    pub folders: Vec<String>,
    /// The seller this mailbox belongs to (a `[[users]]` name or an
    /// address): mail from it is the seller's own, not a buyer's.
    #[serde(default)]
    pub user: Option<String>,
    /// How often to look for new mail when the server has no IDLE, and the
    /// longest one IDLE waits before it looks anyway.
    #[serde(default = "default_poll", with = "humantime_serde")]
    pub poll_interval: Duration,
    /// Refuse to log in over a connection without TLS (an `imap://` server
    /// that offers no STARTTLS). Loopback servers are exempt.
    #[serde(default = "yes")]
    pub require_tls: bool,
    /// Check the server's certificate against the system's trust store.
    #[serde(default = "yes")]
    pub tls_verify: bool,
}

fn default_folders() -> Vec<String> {
    vec!["INBOX".into()]
}

fn default_poll() -> Duration {
    Duration::from_secs(60)
}

fn yes() -> bool {
    true
}

/// Where a mailbox lives, from its `url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    /// `imaps://`: TLS from the first byte.
    pub implicit_tls: bool,
}

impl InboxConfig {
    /// The name the mailbox goes by in logs, health and the store.
    pub fn name(&self) -> String {
        format!("{}@{}", self.username, self.url)
    }

    pub fn endpoint(&self) -> Result<Endpoint, String> {
        let (implicit_tls, rest, default_port) = if let Some(r) = self.url.strip_prefix("imaps://")
        {
            (true, r, 993)
        } else if let Some(r) = self.url.strip_prefix("imap://") {
            (false, r, 143)
        } else {
            return Err(format!(
                "'{}' is not imaps://HOST[:PORT] or imap://HOST[:PORT]",
                self.url
            ));
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(':') && !rest.ends_with(']') => (
                h,
                p.parse::<u16>()
                    .map_err(|_| format!("'{p}' in '{}' is not a port number", self.url))?,
            ),
            _ => (rest, default_port),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(format!("'{}' has no host", self.url));
        }
        Ok(Endpoint {
            host: host.to_string(),
            port,
            implicit_tls,
        })
    }

    /// Checks what serde cannot; the error is `(key, message)` like
    /// `Config::validate`. `i` is the entry's index.
    pub fn validate(&self, i: usize) -> Result<(), (String, String)> {
        let key = |k: &str| format!("inbox[{i}].{k}");
        self.endpoint().map_err(|m| (key("url"), m))?;
        if self.username.trim().is_empty() {
            return Err((key("username"), "must name the mailbox's login".into()));
        }
        match self.auth {
            InboxAuth::Password => {
                if self.password_env.is_none() && self.password_file.is_none() {
                    return Err((
                        key("password_env"),
                        "set password_env (an environment variable) or password_file".into(),
                    ));
                }
            }
            InboxAuth::Xoauth2 => {
                if let Some((k, what)) = self.oauth_keys().missing() {
                    return Err((key(k), format!("auth = \"xoauth2\" needs {k}: {what}")));
                }
            }
        }
        if self.folders.is_empty() {
            return Err((
                key("folders"),
                "name at least one folder, e.g. [\"INBOX\"]".into(),
            ));
        }
        if self.poll_interval < Duration::from_secs(1) {
            return Err((key("poll_interval"), "must be at least 1s".into()));
        }
        Ok(())
    }

    /// The password, from the environment or the file.
    pub fn password(&self, i: usize) -> Result<String, String> {
        crate::config::read_secret(
            &format!("inbox[{i}].password"),
            self.password_env.as_deref(),
            self.password_file.as_deref(),
        )
    }

    /// This mailbox's `oauth_*` keys.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_names_bad_keys() {
        let c: InboxConfig = toml::from_str(
            "url = \"imap://127.0.0.1:1143\"\nusername = \"seller\"\npassword_env = \"P\"",
        )
        .unwrap();
        assert_eq!(c.folders, vec!["INBOX"]);
        assert_eq!(
            c.endpoint().unwrap(),
            Endpoint {
                host: "127.0.0.1".into(),
                port: 1143,
                implicit_tls: false
            }
        );
        assert!(c.validate(0).is_ok());
        let bad = InboxConfig {
            url: "pop3://x".into(),
            ..c.clone()
        };
        assert_eq!(bad.validate(2).unwrap_err().0, "inbox[2].url");
        let e = InboxConfig {
            url: "imaps://imap.example.com".into(),
            ..c
        }
        .endpoint()
        .unwrap();
        assert_eq!((e.port, e.implicit_tls), (993, true));
    }
}
