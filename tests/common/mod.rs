//! Helpers shared by the integration tests. Use from a test file with
//! `mod common;` and then e.g. `common::upstream::TestUpstream`.
//!
//! Each test binary compiles this module on its own and uses only part of
//! it, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod courier;
pub mod db;
pub mod dns;
pub mod upstream;

/// Installs aws-lc-rs as the process-wide rustls provider, as `main` does.
/// Call before building any TLS config; repeated calls are harmless.
pub fn install_crypto() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
