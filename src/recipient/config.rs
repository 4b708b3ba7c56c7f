//! The `[dns]` section: how recipient domains are checked at RCPT time.
//! Schema only; the resolver is built from it in `dns.rs`.

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Longest `dns.timeout` accepted: a mail client waits for the RCPT reply
/// while we ask, and one slow domain must not stall a submission.
pub const MAX_DNS_TIMEOUT: Duration = Duration::from_secs(30);

/// `[dns]`: checks of each recipient's domain (does it exist, does it take mail).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DnsConfig {
    /// Look each recipient's domain up at RCPT time (NXDOMAIN → 550 5.1.2,
    /// no mail host or a null MX → 550 5.1.10, no answer → 451 4.4.3).
    /// `false` turns every lookup off.
    pub checks: bool,
    /// Name servers to ask, as `"IP:PORT"`. Empty: the system's resolver
    /// configuration (`/etc/resolv.conf`).
    pub servers: Vec<SocketAddr>,
    /// The most one recipient's check may take, all lookups included; past
    /// it the recipient gets `451 4.4.3` (try again later), never a refusal.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// DNS answers kept in memory (each for its TTL, negative answers too).
    pub cache_size: u64,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            checks: true,
            servers: Vec::new(),
            timeout: Duration::from_secs(3),
            cache_size: 8192,
        }
    }
}

impl DnsConfig {
    /// Checks what serde cannot; the error is `(key, message)` like
    /// `Config::validate`.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |k: &str, m: String| Err((format!("dns.{k}"), m));
        if self.timeout.is_zero() || self.timeout > MAX_DNS_TIMEOUT {
            return bad(
                "timeout",
                format!(
                    "must be more than 0 and at most {}, not {}",
                    humantime::format_duration(MAX_DNS_TIMEOUT),
                    humantime::format_duration(self.timeout)
                ),
            );
        }
        if self.cache_size == 0 {
            return bad(
                "cache_size",
                "must be at least 1 (answers are cached for their TTL)".into(),
            );
        }
        for (i, s) in self.servers.iter().enumerate() {
            if s.ip().is_unspecified() || s.port() == 0 {
                return bad(
                    &format!("servers[{i}]"),
                    format!("'{s}' is not an address a name server can listen on"),
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_parsing() {
        let c: DnsConfig = toml::from_str("").expect("empty section");
        assert_eq!(c, DnsConfig::default());
        assert!(c.validate().is_ok());
        let c: DnsConfig = toml::from_str(
            "checks = false\nservers = [\"127.0.0.1:5353\"]\ntimeout = \"500ms\"\ncache_size = 10",
        )
        .expect("a full section");
        assert!(!c.checks);
        assert_eq!(c.servers, vec!["127.0.0.1:5353".parse().expect("addr")]);
        assert_eq!(c.timeout, Duration::from_millis(500));
        assert!(toml::from_str::<DnsConfig>("check = true").is_err());
    }

    #[test]
    fn validate_names_the_key() {
        let c = DnsConfig {
            timeout: Duration::from_secs(120),
            ..DnsConfig::default()
        };
        assert_eq!(c.validate().unwrap_err().0, "dns.timeout");
        let c = DnsConfig {
            servers: vec!["0.0.0.0:53".parse().expect("addr")],
            ..DnsConfig::default()
        };
        assert_eq!(c.validate().unwrap_err().0, "dns.servers[0]");
        let c = DnsConfig {
            cache_size: 0,
            ..DnsConfig::default()
        };
        assert_eq!(c.validate().unwrap_err().0, "dns.cache_size");
    }
}
