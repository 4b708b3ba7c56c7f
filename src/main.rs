//! The `sendwell` binary: logging, the TLS crypto provider, then the CLI.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    return_large_buffers();
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

/// Makes glibc hand large buffers back to the system when they are freed,
/// by starting the program again with `glibc.malloc.mmap_threshold` fixed at
/// 1 MiB (glibc reads its tunables only at start), unless one is set.
///
/// Why: after a large message's buffer is freed, glibc raises that threshold
/// to the buffer's size (up to 32 MB), and from then on large buffers come
/// from its arenas, whose pages stay resident after they are freed. Measured
/// with 25 MB messages: one cost the base + 80 MiB, eight at once the base +
/// 422 MiB; with the fixed threshold, the base + 36 MiB and the base + 264
/// MiB (the `data_memory` budget plus a little), as `[limits] data_memory`
/// promises. Only for glibc: other C libraries have no such tunable.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_buffers() {
    const TUNABLE: &str = "glibc.malloc.mmap_threshold";
    let current = std::env::var("GLIBC_TUNABLES").unwrap_or_default();
    if current.contains(TUNABLE) {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let value = if current.is_empty() {
        format!("{TUNABLE}=1048576")
    } else {
        format!("{current}:{TUNABLE}=1048576")
    };
    use std::os::unix::process::CommandExt;
    let error = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env("GLIBC_TUNABLES", value)
        .exec();
    // Only reached when exec failed: go on as we are.
    eprintln!(
        "note: cannot restart with a fixed glibc mmap threshold ({error}); large messages may cost more memory"
    );
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_buffers() {}
