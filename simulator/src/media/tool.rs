//! Running the system's `ffmpeg` and `espeak-ng`: asynchronously, in a work directory, with a
//! timeout, and with a loud error naming the Debian package when a tool is missing.

use std::ffi::OsString;
use std::path::Path;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::process::Command;

use super::MediaError;

/// A program the simulator runs, and the Debian package that provides it
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tool {
    /// The program name looked up on `PATH`
    pub program: &'static str,
    /// The Debian package to install
    pub package: &'static str,
}

/// ffmpeg renders every file
pub const FFMPEG: Tool = Tool {
    program: "ffmpeg",
    package: "ffmpeg",
};

/// espeak-ng speaks dialogue lines (optional: without it, speech is a tone)
pub const ESPEAK: Tool = Tool {
    program: "espeak-ng",
    package: "espeak-ng",
};

/// Whether `program` is an executable file on `PATH`
fn on_path(program: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| {
        let candidate = dir.join(program);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(&candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        }
        #[cfg(not(unix))]
        {
            candidate.is_file()
        }
    })
}

/// Whether espeak-ng is installed (looked up once)
pub fn has_espeak() -> bool {
    static FOUND: OnceLock<bool> = OnceLock::new();
    *FOUND.get_or_init(|| on_path(ESPEAK.program))
}

/// Runs `tool` with `args` in `dir`, killing it after `timeout`
pub async fn run(
    tool: Tool,
    args: &[OsString],
    dir: &Path,
    timeout: Duration,
) -> Result<(), MediaError> {
    let mut cmd = Command::new(tool.program);
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd.spawn().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            MediaError::Missing(tool)
        } else {
            MediaError::Io(format!("cannot start {}: {e}", tool.program))
        }
    })?;
    let out = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => return Err(MediaError::Io(format!("{}: {e}", tool.program))),
        // Dropping the future drops the child, which kills it (kill_on_drop)
        Err(_) => {
            return Err(MediaError::Timeout {
                tool: tool.program,
                secs: timeout.as_secs(),
            });
        }
    };
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(6).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(MediaError::Failed {
        tool: tool.program,
        status: out.status.to_string(),
        stderr: tail.join(" | "),
    })
}

/// `-arg` style arguments from string slices
pub fn args<I, S>(items: I) -> Vec<OsString>
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    items.into_iter().map(Into::into).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_tool_names_its_package() {
        let tool = Tool {
            program: "creatorstudio-no-such-tool",
            package: "no-such-package",
        };
        let dir = std::env::temp_dir();
        let err = run(tool, &[], &dir, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(err, MediaError::Missing(tool));
        assert!(err.to_string().contains("apt-get install no-such-package"));
        assert!(
            MediaError::Missing(FFMPEG)
                .to_string()
                .contains("Debian package `ffmpeg`")
        );
    }

    #[tokio::test]
    async fn a_failing_tool_reports_its_stderr() {
        if !on_path("sh") {
            return;
        }
        let sh = Tool {
            program: "sh",
            package: "dash",
        };
        let dir = std::env::temp_dir();
        let err = run(
            sh,
            &args(["-c", "echo broken >&2; exit 3"]),
            &dir,
            Duration::from_secs(5),
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("broken"), "{err}");
        let slow = run(
            sh,
            &args(["-c", "sleep 5"]),
            &dir,
            Duration::from_millis(100),
        )
        .await;
        assert!(matches!(slow, Err(MediaError::Timeout { .. })));
    }
}
