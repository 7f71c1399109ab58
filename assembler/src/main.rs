//! `assembler`: serves the assembly API until SIGTERM or SIGINT.
//!
//! On a signal it stops accepting and kills running ffmpeg children; their assemblies stay
//! `running` on disk and are run again from scratch at the next start.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use std::process::ExitCode;

use assembler::Settings;
use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let settings = Settings::parse();
    let running = match assembler::start(settings).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("assembler: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "assembler: listening on {} (public URL {})",
        running.addr,
        running.service.public_url()
    );
    wait_for_signal().await;
    eprintln!("assembler: shutting down");
    match running.shutdown().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("assembler: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(e) => {
                eprintln!("assembler: cannot listen for SIGTERM ({e}); Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
