//! Helpers shared by the integration tests. Use from a test file with
//! `mod common;` and then e.g. `common::upstream::TestUpstream`.
//!
//! Each test binary compiles this module on its own and uses only part of
//! it, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod courier;
pub mod db;
pub mod dns;
pub mod http;
pub mod imap;
pub mod oauth;
pub mod review;
pub mod upstream;

/// sendwell relaying at once to `upstream`: every listener on a free
/// loopback port, no business hours, caps or DNS (no test asks the system
/// resolver), quick retries. Tests switch back on what they are about.
pub fn relay_config(
    dir: &std::path::Path,
    upstream: &upstream::TestUpstream,
) -> sendwell::config::Config {
    use std::time::Duration;
    let mut c = sendwell::config::Config {
        data_dir: dir.to_path_buf(),
        ..sendwell::config::Config::default()
    };
    c.server.listen = vec!["127.0.0.1:0".parse().unwrap()];
    c.admin.listen = "127.0.0.1:0".parse().unwrap();
    c.upstream.url = Some(upstream.url());
    c.relay.retry_schedule = vec![Duration::from_millis(200)];
    c.relay.poll_interval = Duration::from_millis(100);
    c.dns.checks = false;
    c.schedule.enabled = false;
    c.caps.enabled = false;
    c
}

/// Installs aws-lc-rs as the process-wide rustls provider, as `main` does.
/// Call before building any TLS config; repeated calls are harmless.
pub fn install_crypto() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Whether an outside program runs here. Missing: the caller skips with a
/// printed note, except under `CI=true`, where it must be installed.
pub fn external(program: &str) -> bool {
    let found = std::process::Command::new(program)
        .arg("--version")
        .output()
        .is_ok();
    if !found {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{program} is required when CI=true");
        }
        eprintln!("SKIPPED: {program} not installed");
    }
    found
}

/// A cheap argon2id hash, so debug-build tests do not spend seconds hashing.
pub fn cheap_hash(password: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let params = argon2::Params::new(256, 1, 1, None).expect("valid params");
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = SaltString::from_b64("dGVzdHNhbHR0ZXN0c2FsdA").expect("valid salt");
    a.hash_password(password.as_bytes(), &salt)
        .expect("hash")
        .to_string()
}
