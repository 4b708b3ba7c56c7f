//! TLS material for STARTTLS: the operator's certificate and key when
//! `server.tls_cert`/`server.tls_key` are set, else a self-signed pair made
//! on first start in `<data_dir>/tls/` and reused afterwards (the key file
//! is created with mode 0600). Builds the rustls acceptor with the aws-lc-rs
//! provider explicitly, so no second crypto provider can sneak in.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use super::Error;
use crate::config::Config;

/// File names inside `config.tls_dir()`.
const CERT_FILE: &str = "cert.pem";
const KEY_FILE: &str = "key.pem";

/// The acceptor for STARTTLS, from the configured files or the generated pair.
pub fn acceptor(config: &Config) -> Result<TlsAcceptor, Error> {
    let (cert_path, key_path) = match (&config.server.tls_cert, &config.server.tls_key) {
        (Some(c), Some(k)) => (c.clone(), k.clone()),
        _ => ensure_self_signed(&config.tls_dir(), &config.server.hostname)?,
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

/// Paths of the generated pair, made now when either file is missing.
fn ensure_self_signed(dir: &Path, hostname: &str) -> Result<(PathBuf, PathBuf), Error> {
    let cert_path = dir.join(CERT_FILE);
    let key_path = dir.join(KEY_FILE);
    if cert_path.is_file() && key_path.is_file() {
        return Ok((cert_path, key_path));
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
    let pair = rcgen::generate_simple_self_signed(names)?;
    // Key first, written aside and renamed, so a crash never leaves a cert
    // without its key (or a half-written key) behind.
    write_private(&key_path, pair.signing_key.serialize_pem().as_bytes())
        .map_err(write_err(&key_path))?;
    write_private(&cert_path, pair.cert.pem().as_bytes()).map_err(write_err(&cert_path))?;
    tracing::info!(cert = %cert_path.display(), "generated a self-signed TLS certificate for STARTTLS");
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

    #[test]
    fn configured_files_are_used_and_missing_ones_named() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = ensure_self_signed(dir.path(), "door.test").unwrap();
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
