//! Running ffmpeg and ffprobe: always with a deadline, always killable.
//!
//! A child is spawned with `kill_on_drop`, so whichever way its future ends early (the deadline,
//! a cancel, the task being aborted at shutdown) the process is killed rather than left running.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::sync::watch;

/// How a run ended without success
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The binary could not be started (missing, not executable)
    #[error("cannot start {tool}: {source}")]
    Spawn {
        /// Which binary
        tool: String,
        /// The cause
        source: std::io::Error,
    },
    /// It ran past its deadline and was killed
    #[error("{tool} did not finish within {} s and was stopped", .limit.as_secs())]
    Timeout {
        /// Which binary
        tool: String,
        /// The deadline
        limit: Duration,
    },
    /// The assembly was cancelled; the child was killed
    #[error("cancelled")]
    Cancelled,
    /// It exited unsuccessfully
    #[error("{tool} failed ({status}): {tail}")]
    Failed {
        /// Which binary
        tool: String,
        /// The exit status
        status: String,
        /// The last lines of its stderr
        tail: String,
    },
}

/// What a successful run printed
#[derive(Debug, Clone, Default)]
pub struct Ran {
    /// Standard output
    pub stdout: String,
    /// Standard error (ffmpeg's log)
    pub stderr: String,
}

/// Resolves when `cancel` turns true; never when its sender is gone without cancelling
pub async fn cancelled(cancel: &mut watch::Receiver<bool>) {
    if cancel.wait_for(|c| *c).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Runs `program` with `args` in `cwd`, killing it past `limit` or on cancel
pub async fn run(
    program: &Path,
    args: &[String],
    cwd: &Path,
    limit: Duration,
    cancel: &mut watch::Receiver<bool>,
) -> Result<Ran, RunError> {
    let tool = program
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| program.display().to_string());
    if *cancel.borrow() {
        return Err(RunError::Cancelled);
    }
    let child = tokio::process::Command::new(program)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| RunError::Spawn {
            tool: tool.clone(),
            source,
        })?;
    let output = tokio::select! {
        out = child.wait_with_output() => out.map_err(|source| RunError::Spawn { tool: tool.clone(), source })?,
        () = tokio::time::sleep(limit) => return Err(RunError::Timeout { tool, limit }),
        () = cancelled(cancel) => return Err(RunError::Cancelled),
    };
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if output.status.success() {
        Ok(Ran { stdout, stderr })
    } else {
        Err(RunError::Failed {
            tool,
            status: output.status.to_string(),
            tail: tail(&stderr),
        })
    }
}

/// The last few lines of a log, short enough for a status message
pub fn tail(log: &str) -> String {
    let lines: Vec<&str> = log
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let start = lines.len().saturating_sub(3);
    let joined = lines[start..].join(" / ");
    if joined.is_empty() {
        return "no output".to_string();
    }
    let chars: Vec<char> = joined.chars().collect();
    if chars.len() > 400 {
        let cut: String = chars[chars.len() - 400..].iter().collect();
        format!("...{cut}")
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tails_logs() {
        assert_eq!(tail(""), "no output");
        assert_eq!(tail("a\n\nb\nc\nd\n"), "b / c / d");
        assert_eq!(tail(&"x".repeat(1000)).chars().count(), 403);
    }

    #[tokio::test]
    async fn kills_on_timeout_and_cancel() {
        let dir = std::env::temp_dir();
        let (tx, mut rx) = watch::channel(false);
        let sleep = Path::new("sleep");
        let started = std::time::Instant::now();
        let r = run(
            sleep,
            &["5".into()],
            &dir,
            Duration::from_millis(200),
            &mut rx,
        )
        .await;
        assert!(matches!(r, Err(RunError::Timeout { .. })), "{r:?}");
        let canceller = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            tx.send_replace(true);
            tx
        });
        let r = run(sleep, &["5".into()], &dir, Duration::from_secs(10), &mut rx).await;
        assert!(matches!(r, Err(RunError::Cancelled)), "{r:?}");
        assert!(started.elapsed() < Duration::from_secs(3));
        drop(canceller.await);
        let (_keep, mut rx) = watch::channel(false);
        let r = run(
            Path::new("false"),
            &[],
            &dir,
            Duration::from_secs(5),
            &mut rx,
        )
        .await;
        assert!(matches!(r, Err(RunError::Failed { .. })), "{r:?}");
        let r = run(
            Path::new("/nonexistent/ffmpeg"),
            &[],
            &dir,
            Duration::from_secs(5),
            &mut rx,
        )
        .await;
        assert!(matches!(r, Err(RunError::Spawn { .. })), "{r:?}");
    }
}
