//! The `sendwell` binary: logging, the TLS crypto provider, then the CLI.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("SENDWELL_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    // One crypto provider for every TLS use (door, upstream, database); an
    // Err only means one was installed already.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = sendwell::cli::Cli::parse();
    match sendwell::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
