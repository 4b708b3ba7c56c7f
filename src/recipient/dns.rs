//! Does a recipient's domain exist, and does it take mail? Asked of DNS at
//! RCPT time with `hickory-resolver`, answered as the SMTP reply to give.
//!
//! The rules (RFC 5321 §5.1, RFC 7505): MX records → fine; no MX but an A
//! or AAAA record → fine (the implicit MX); NXDOMAIN → 550 5.1.2; neither MX
//! nor address, or a null MX (a single MX whose exchange is `.`) → 550
//! 5.1.10. Anything that is not a clear answer (timeout, SERVFAIL, refused,
//! a network error) is `451 4.4.3`: a resolver's bad minute must never
//! refuse a good address for good. Answers, negative ones included, are
//! cached by the resolver for their TTL (bounded below).
//!
//! Knows nothing of the store, the policy or the session: it takes a domain
//! and returns a [`DomainVerdict`].

use std::net::IpAddr;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig,
    ResolverOpts,
};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{Name, RData};

use super::config::DnsConfig;

/// Longest a positive answer is trusted, whatever its TTL says: a domain
/// that moves its mail is seen within the day.
const POSITIVE_MAX_TTL: Duration = Duration::from_secs(24 * 3600);

/// Longest a "no such domain" / "no such record" answer is trusted: a
/// domain registered this morning takes mail within the hour.
const NEGATIVE_MAX_TTL: Duration = Duration::from_secs(3600);

/// The longest domain name (RFC 1035 §2.3.4), in its ASCII form.
const MAX_DOMAIN_LEN: usize = 253;

/// How a domain takes mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailRoute {
    /// Its MX hosts, `(preference, exchange)`, most preferred first.
    Mx(Vec<(u16, String)>),
    /// No MX, but the domain has an address: mail goes there (RFC 5321 §5.1).
    Implicit,
}

/// What DNS says about a recipient's domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainVerdict {
    /// The domain takes mail.
    Accepts(MailRoute),
    /// Not looked up: checks are off (`[dns] checks = false`), or the
    /// address names a host by IP literal (`user@[192.0.2.1]`).
    Unchecked,
    /// Refuse this recipient for good. `rule` is the policy rule ID
    /// (`RCPT_NO_DOMAIN`, `RCPT_NO_MAIL`, `RCPT_SYNTAX`).
    Refuse {
        rule: &'static str,
        problem: DomainProblem,
    },
    /// DNS gave no clear answer now: `451 4.4.3`, the client tries again.
    /// `cause` is for the log.
    TryLater { domain: String, cause: String },
}

/// Why a domain cannot take the mail (each with the domain as shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainProblem {
    /// The address has no `@domain` at all.
    NoDomainPart(String),
    /// Not a valid domain name.
    BadDomain(String),
    /// NXDOMAIN: the domain does not exist.
    NoDomain(String),
    /// A null MX (RFC 7505): the domain says it takes no mail.
    NullMx(String),
    /// No MX, A or AAAA record.
    NoMailHost(String),
}

impl DomainVerdict {
    /// Whether the recipient must not be accepted now.
    pub fn refuses(&self) -> bool {
        matches!(
            self,
            DomainVerdict::Refuse { .. } | DomainVerdict::TryLater { .. }
        )
    }
}

/// Why the resolver could not be built (at start-up; names the config key).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("dns.servers is empty and the system resolver configuration cannot be read: {0}")]
    SystemConfig(NetError),
    #[error("cannot build the DNS resolver: {0}")]
    Build(NetError),
}

/// Checks recipient domains in DNS. Cheap to clone (the resolver and its
/// cache are shared).
#[derive(Clone)]
pub struct RecipientChecker {
    /// `None` when checks are off: nothing is looked up, ever.
    resolver: Option<TokioResolver>,
    /// The whole budget of one check, all lookups included.
    budget: Duration,
}

impl std::fmt::Debug for RecipientChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecipientChecker")
            .field("checks", &self.resolver.is_some())
            .field("budget", &self.budget)
            .finish()
    }
}

impl RecipientChecker {
    /// Builds the resolver from `[dns]`. With `checks = false` no resolver
    /// is built (not even the system configuration is read).
    pub fn new(config: &DnsConfig) -> Result<RecipientChecker, SetupError> {
        if !config.checks {
            return Ok(RecipientChecker::disabled());
        }
        let provider = TokioRuntimeProvider::default();
        let mut builder = if config.servers.is_empty() {
            TokioResolver::builder(provider).map_err(SetupError::SystemConfig)?
        } else {
            let servers = config
                .servers
                .iter()
                .map(|addr| {
                    let mut udp = ConnectionConfig::udp();
                    udp.port = addr.port();
                    let mut tcp = ConnectionConfig::tcp();
                    tcp.port = addr.port();
                    let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
                    ns.connections = vec![udp, tcp];
                    ns
                })
                .collect();
            let mut b = TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(servers),
                provider,
            );
            // Named servers are the whole truth: no /etc/hosts answers.
            b.options_mut().use_hosts_file = ResolveHosts::Never;
            b
        };
        let opts: &mut ResolverOpts = builder.options_mut();
        opts.timeout = config.timeout;
        // One try per server: the budget is for the whole check, and a
        // second attempt would only spend it on the same silence.
        opts.attempts = 1;
        opts.cache_size = config.cache_size;
        opts.positive_max_ttl = Some(POSITIVE_MAX_TTL);
        opts.negative_max_ttl = Some(NEGATIVE_MAX_TTL);
        opts.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
        let resolver = builder.build().map_err(SetupError::Build)?;
        Ok(RecipientChecker {
            resolver: Some(resolver),
            budget: config.timeout,
        })
    }

    /// A checker that never looks anything up (every domain is `Unchecked`).
    pub fn disabled() -> RecipientChecker {
        RecipientChecker {
            resolver: None,
            budget: Duration::ZERO,
        }
    }

    /// Whether lookups happen at all.
    pub fn enabled(&self) -> bool {
        self.resolver.is_some()
    }

    /// Checks the domain of an address (the part after the last `@`).
    pub async fn check_address(&self, address: &str) -> DomainVerdict {
        match address.rsplit_once('@') {
            Some((_, domain)) => self.check_domain(domain).await,
            None => DomainVerdict::Refuse {
                rule: "RCPT_SYNTAX",
                problem: DomainProblem::NoDomainPart(address.to_string()),
            },
        }
    }

    /// Does `domain` (Unicode or ASCII) exist and take mail? Never takes
    /// longer than `dns.timeout`.
    pub async fn check_domain(&self, domain: &str) -> DomainVerdict {
        let Some(resolver) = &self.resolver else {
            return DomainVerdict::Unchecked;
        };
        let shown = domain.trim().trim_end_matches('.');
        if shown.starts_with('[') && shown.ends_with(']') {
            return DomainVerdict::Unchecked;
        }
        // Fully qualified: no search-list suffixes, one query per name.
        let name = idna::domain_to_ascii(shown)
            .ok()
            .filter(|a| a.len() <= MAX_DOMAIN_LEN && a.contains('.'))
            .and_then(|a| Name::from_ascii(format!("{a}.")).ok());
        let name = match name {
            Some(n) => n,
            None => {
                return DomainVerdict::Refuse {
                    rule: "RCPT_SYNTAX",
                    problem: DomainProblem::BadDomain(shown.to_string()),
                };
            }
        };
        match tokio::time::timeout(self.budget, lookup(resolver, &name)).await {
            Ok(Ok(Found::Mx(hosts))) => DomainVerdict::Accepts(MailRoute::Mx(hosts)),
            Ok(Ok(Found::Implicit)) => DomainVerdict::Accepts(MailRoute::Implicit),
            Ok(Ok(Found::NoDomain)) => DomainVerdict::Refuse {
                rule: "RCPT_NO_DOMAIN",
                problem: DomainProblem::NoDomain(shown.to_string()),
            },
            Ok(Ok(Found::NullMx)) => DomainVerdict::Refuse {
                rule: "RCPT_NO_MAIL",
                problem: DomainProblem::NullMx(shown.to_string()),
            },
            Ok(Ok(Found::NoMailHost)) => DomainVerdict::Refuse {
                rule: "RCPT_NO_MAIL",
                problem: DomainProblem::NoMailHost(shown.to_string()),
            },
            Ok(Err(e)) => try_later(shown, e.to_string()),
            Err(_) => try_later(
                shown,
                format!(
                    "no answer within {}",
                    humantime::format_duration(self.budget)
                ),
            ),
        }
    }

    /// Forgets every cached answer.
    pub fn clear_cache(&self) {
        if let Some(r) = &self.resolver {
            r.clear_cache();
        }
    }
}

fn try_later(domain: &str, cause: String) -> DomainVerdict {
    DomainVerdict::TryLater {
        domain: domain.to_string(),
        cause,
    }
}

/// A clear answer from DNS.
enum Found {
    Mx(Vec<(u16, String)>),
    Implicit,
    NoDomain,
    NullMx,
    NoMailHost,
}

async fn lookup(resolver: &TokioResolver, name: &Name) -> Result<Found, NetError> {
    match resolver.mx_lookup(name.clone()).await {
        Ok(answer) => {
            let mut hosts = Vec::new();
            let mut null_mx = false;
            // The answer may carry the CNAME chain too; only MX data counts.
            for r in answer.answers() {
                if let RData::MX(mx) = &r.data {
                    if mx.exchange.is_root() {
                        null_mx = true;
                    } else {
                        hosts.push((mx.preference, mx.exchange.to_ascii()));
                    }
                }
            }
            if !hosts.is_empty() {
                // A "." beside real hosts is a broken null MX (RFC 7505
                // §3): the real hosts still take mail.
                hosts.sort();
                return Ok(Found::Mx(hosts));
            }
            if null_mx {
                return Ok(Found::NullMx);
            }
            implicit_mx(resolver, name).await
        }
        // NXDOMAIN is also "no records": ask it first.
        Err(e) if e.is_nx_domain() => Ok(Found::NoDomain),
        Err(e) if e.is_no_records_found() => implicit_mx(resolver, name).await,
        Err(e) => Err(e),
    }
}

/// No MX: the domain's own address is its mail host, if it has one.
async fn implicit_mx(resolver: &TokioResolver, name: &Name) -> Result<Found, NetError> {
    match resolver.lookup_ip(name.clone()).await {
        Ok(ips) => {
            let usable = ips.iter().any(|ip: IpAddr| !ip.is_unspecified());
            Ok(if usable {
                Found::Implicit
            } else {
                Found::NoMailHost
            })
        }
        Err(e) if e.is_nx_domain() => Ok(Found::NoDomain),
        Err(e) if e.is_no_records_found() => Ok(Found::NoMailHost),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn disabled_checks_answer_unchecked() {
        let c = RecipientChecker::new(&DnsConfig {
            checks: false,
            ..DnsConfig::default()
        })
        .expect("no resolver needed");
        assert!(!c.enabled());
        assert_eq!(
            c.check_domain("example.invalid").await,
            DomainVerdict::Unchecked
        );
        assert!(!c.check_domain("example.invalid").await.refuses());
    }

    #[test]
    fn try_later_refuses_for_now() {
        assert!(try_later("x.example", "timeout".into()).refuses());
        assert!(!DomainVerdict::Accepts(MailRoute::Implicit).refuses());
    }
}
