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
        // Colour only for a person at a terminal: files and journald get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // One crypto provider for every TLS use (door, upstream, database); an
    // Err only means one was installed already.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    // `sendwell queue list | head`: when the reader goes away, stop quietly
    // like other Unix tools instead of printing a panic about a broken pipe
    // (println! panics on EPIPE, and Rust ignores SIGPIPE).
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        default_hook(info);
    }));
    let cli = sendwell::cli::Cli::parse();
    match sendwell::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", sendwell::display::error_chain(&e));
            ExitCode::from(2)
        }
    }
}
