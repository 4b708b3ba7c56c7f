//! TLS material for STARTTLS: the operator's certificate and key when
//! `server.tls_cert`/`server.tls_key` are set, else a self-signed pair kept
//! in `<data_dir>/tls/` (the key file is created with mode 0600). The
//! generated certificate names `server.hostname` (subject CN and SAN), is
//! valid for [`GENERATED_VALID_FOR`], and is made again at start-up or on
//! reload when less than [`RENEW_BEFORE`] remains, when the host name
//! changed, or when it is one of the old ones valid for centuries. Builds the
//! rustls acceptor with the aws-lc-rs provider explicitly, so no second
//! crypto provider can sneak in.
//!
//! Expiry is judged by the wall clock, not the settable [`crate::clock`]:
//! the mail programs that check the certificate use theirs.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use super::Error;
use crate::config::Config;

/// File names inside `config.tls_dir()`.
const CERT_FILE: &str = "cert.pem";
const KEY_FILE: &str = "key.pem";

/// How long a generated certificate is valid: a year, like a bought one.
const GENERATED_VALID_FOR: SignedDuration = SignedDuration::from_hours(365 * 24);
/// A generated certificate with less than this left is made again.
const RENEW_BEFORE: SignedDuration = SignedDuration::from_hours(30 * 24);
/// A generated certificate valid longer than this in all is one of the old
/// ones (1975–4096) and is made again; 398 days is the longest browsers
/// accept for a public certificate.
const MAX_VALIDITY: SignedDuration = SignedDuration::from_hours(398 * 24);

/// The acceptor for STARTTLS, from the configured files or the generated pair.
pub fn acceptor(config: &Config) -> Result<TlsAcceptor, Error> {
    let now = Timestamp::now();
    let (cert_path, key_path) = match (&config.server.tls_cert, &config.server.tls_key) {
        (Some(c), Some(k)) => {
            // Someone else renews these; say so in time.
            if let Ok(pem) = fs::read(c)
                && let Some(facts) = CertFacts::read(&pem)
                && facts.not_after.duration_since(now) < RENEW_BEFORE
            {
                tracing::warn!(cert = %c.display(), not_after = %facts.not_after, "the TLS certificate expires soon (or has): renew it");
            }
            (c.clone(), k.clone())
        }
        _ => ensure_self_signed(&config.tls_dir(), &config.server.hostname, now)?,
    };
    let certs = CertificateDer::pem_file_iter(&cert_path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|source| Error::ReadTls {
            path: cert_path.clone(),
            source,
        })?;
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|source| Error::ReadTls {
        path: key_path,
        source,
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    Ok(TlsAcceptor::from(Arc::new(server)))
}

/// What decides whether a generated certificate is still good.
#[derive(Debug)]
struct CertFacts {
    common_name: Option<String>,
    dns_names: Vec<String>,
    not_before: Timestamp,
    not_after: Timestamp,
}

impl CertFacts {
    /// The first certificate of a PEM file; `None` when it does not parse.
    fn read(pem: &[u8]) -> Option<CertFacts> {
        use x509_parser::extensions::GeneralName;
        let (_, pem) = x509_parser::pem::parse_x509_pem(pem).ok()?;
        let cert = pem.parse_x509().ok()?;
        let validity = cert.validity();
        let dns_names = cert
            .subject_alternative_name()
            .ok()
            .flatten()
            .map(|san| {
                san.value
                    .general_names
                    .iter()
                    .filter_map(|n| match n {
                        GeneralName::DNSName(d) => Some(d.to_string()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let common_name = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_string);
        Some(CertFacts {
            common_name,
            dns_names,
            not_before: Timestamp::from_second(validity.not_before.timestamp()).ok()?,
            not_after: Timestamp::from_second(validity.not_after.timestamp()).ok()?,
        })
    }

    /// Why a generated certificate must be made again at `now`; `None`
    /// while it is good for `hostname`.
    fn stale(&self, hostname: &str, now: Timestamp) -> Option<String> {
        let named = |n: &str| n.eq_ignore_ascii_case(hostname);
        if !self.dns_names.iter().any(|n| named(n))
            || !self.common_name.as_deref().is_some_and(named)
        {
            return Some(format!(
                "it names {} and the host name is now {hostname}",
                self.common_name.as_deref().unwrap_or("no host")
            ));
        }
        if self.not_after.duration_since(self.not_before) > MAX_VALIDITY {
            return Some(format!(
                "its validity ({} to {}) is longer than any mail program should trust",
                self.not_before, self.not_after
            ));
        }
        if self.not_after.duration_since(now) < RENEW_BEFORE {
            return Some(format!("it expires on {}", self.not_after));
        }
        if self.not_before > now {
            return Some(format!("it is valid only from {}", self.not_before));
        }
        None
    }
}

/// Paths of the generated pair: made now when either file is missing, it
/// does not read, or it is stale at `now` (see [`CertFacts::stale`]).
fn ensure_self_signed(
    dir: &Path,
    hostname: &str,
    now: Timestamp,
) -> Result<(PathBuf, PathBuf), Error> {
    let cert_path = dir.join(CERT_FILE);
    let key_path = dir.join(KEY_FILE);
    if cert_path.is_file() && key_path.is_file() {
        let why = match fs::read(&cert_path).ok().and_then(|p| CertFacts::read(&p)) {
            None => Some("it does not read as a certificate".to_string()),
            Some(facts) => facts.stale(hostname, now),
        };
        match why {
            None => return Ok((cert_path, key_path)),
            Some(why) => {
                tracing::info!(cert = %cert_path.display(), "making the self-signed TLS certificate again: {why}")
            }
        }
    }
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::WriteTls { path, source }
    };
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(write_err(dir))?;
    let names = vec![
        hostname.to_string(),
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    let mut params = rcgen::CertificateParams::new(names)?;
    let mut subject = rcgen::DistinguishedName::new();
    subject.push(rcgen::DnType::CommonName, hostname);
    subject.push(rcgen::DnType::OrganizationName, "sendwell (self-signed)");
    params.distinguished_name = subject;
    // Whole days in UTC, from yesterday (a client's clock a little behind
    // still accepts it).
    let day = |t: Timestamp| {
        let d = t.to_zoned(jiff::tz::TimeZone::UTC).date();
        // A jiff date is always a valid calendar date, which is all
        // date_time_ymd asks for.
        rcgen::date_time_ymd(i32::from(d.year()), d.month() as u8, d.day() as u8)
    };
    params.not_before = day(now - SignedDuration::from_hours(24));
    params.not_after = day(now + GENERATED_VALID_FOR);
    let key = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    // Key first, written aside and renamed, so a crash never leaves a cert
    // without its key (or a half-written key) behind.
    write_private(&key_path, key.serialize_pem().as_bytes()).map_err(write_err(&key_path))?;
    write_private(&cert_path, cert.pem().as_bytes()).map_err(write_err(&cert_path))?;
    tracing::info!(cert = %cert_path.display(), hostname, "generated a self-signed TLS certificate for STARTTLS, valid for a year");
    Ok((cert_path, key_path))
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn generates_once_and_reuses() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            ..Config::default()
        };
        acceptor(&config).unwrap();
        let key = config.tls_dir().join(KEY_FILE);
        let mode = fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let first = fs::read(config.tls_dir().join(CERT_FILE)).unwrap();
        acceptor(&config).unwrap();
        assert_eq!(first, fs::read(config.tls_dir().join(CERT_FILE)).unwrap());
    }

    /// Issue 14 §7: the generated certificate names the host, is valid a
    /// year, and is made again 30 days before it ends or for a new name.
    #[test]
    fn generated_certificate_names_the_host_and_is_renewed_in_time() {
        let dir = tempfile::tempdir().unwrap();
        let start: Timestamp = "2026-03-01T12:00:00Z".parse().unwrap();
        let (cert, _) = ensure_self_signed(dir.path(), "mail-gw.shop.example", start).unwrap();
        let first = fs::read(&cert).unwrap();
        let facts = CertFacts::read(&first).unwrap();
        assert_eq!(facts.common_name.as_deref(), Some("mail-gw.shop.example"));
        assert!(
            facts
                .dns_names
                .contains(&"mail-gw.shop.example".to_string()),
            "{facts:?}"
        );
        assert_eq!(facts.not_before.to_string(), "2026-02-28T00:00:00Z");
        assert_eq!(facts.not_after.to_string(), "2027-03-01T00:00:00Z");

        // 300 days on: kept. 340 days on (25 left): made again, from then.
        let later = start + SignedDuration::from_hours(300 * 24);
        ensure_self_signed(dir.path(), "mail-gw.shop.example", later).unwrap();
        assert_eq!(fs::read(&cert).unwrap(), first, "kept while 65 days remain");
        let late = start + SignedDuration::from_hours(340 * 24);
        ensure_self_signed(dir.path(), "mail-gw.shop.example", late).unwrap();
        let renewed = CertFacts::read(&fs::read(&cert).unwrap()).unwrap();
        assert_eq!(renewed.not_after.to_string(), "2028-02-04T00:00:00Z");

        // A new host name: made again at once, naming it.
        ensure_self_signed(dir.path(), "relay.shop.example", late).unwrap();
        let moved = CertFacts::read(&fs::read(&cert).unwrap()).unwrap();
        assert_eq!(moved.common_name.as_deref(), Some("relay.shop.example"));
        assert!(
            !moved
                .dns_names
                .contains(&"mail-gw.shop.example".to_string())
        );
    }

    /// The certificates generated before issue 14 (`CN=rcgen self signed
    /// cert`, 1975–4096) are replaced at the next start.
    #[test]
    fn an_old_century_long_certificate_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let old = rcgen::generate_simple_self_signed(vec!["door.test".to_string()]).unwrap();
        fs::write(dir.path().join(CERT_FILE), old.cert.pem()).unwrap();
        fs::write(dir.path().join(KEY_FILE), old.signing_key.serialize_pem()).unwrap();
        let facts = CertFacts::read(old.cert.pem().as_bytes()).unwrap();
        assert!(facts.stale("door.test", Timestamp::now()).is_some());
        let (cert, _) = ensure_self_signed(dir.path(), "door.test", Timestamp::now()).unwrap();
        let now = CertFacts::read(&fs::read(cert).unwrap()).unwrap();
        assert_eq!(now.common_name.as_deref(), Some("door.test"));
        assert!(now.not_after.duration_since(now.not_before) <= MAX_VALIDITY);
    }

    #[test]
    fn configured_files_are_used_and_missing_ones_named() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = ensure_self_signed(dir.path(), "door.test", Timestamp::now()).unwrap();
        let mut config = Config {
            data_dir: dir.path().join("elsewhere"),
            ..Config::default()
        };
        config.server.tls_cert = Some(cert);
        config.server.tls_key = Some(key);
        acceptor(&config).unwrap();
        assert!(
            !config.tls_dir().exists(),
            "nothing generated when files are configured"
        );
        config.server.tls_key = Some(dir.path().join("missing.pem"));
        let err = acceptor(&config).err().unwrap().to_string();
        assert!(err.contains("missing.pem"), "{err}");
    }
}
