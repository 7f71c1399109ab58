//! What the assembler's benches share (each bench includes it as `mod support`): running
//! ffmpeg, the font its drawtext uses, talking to the in-process assembler, and reading the
//! machine's state for the report.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::common;

/// Sends `req` with the bench key; the status and the JSON answer
pub async fn request(req: reqwest::RequestBuilder) -> Result<(u16, Value), String> {
    let resp = req
        .bearer_auth(common::KEY)
        .send()
        .await
        .map_err(|e| format!("request to the assembler: {e}"))?;
    let status = resp.status().as_u16();
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| format!("answer of the assembler: {e}"))?;
    let v = serde_json::from_slice(&bytes).map_err(|e| format!("answer of the assembler: {e}"))?;
    Ok((status, v))
}

/// Runs ffmpeg quietly in `dir`, panicking on failure (inputs are made before timing)
pub fn ffmpeg(dir: &Path, args: &[&str]) {
    common::run(
        Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
            .args(args)
            .current_dir(dir),
    );
}

/// The drawtext option choosing the font
pub fn font() -> String {
    let file = assembler::video::DEFAULT_FONT_FILE;
    if Path::new(file).is_file() {
        format!("fontfile={file}")
    } else {
        format!("font='{}'", assembler::video::FALLBACK_FONT_FAMILY)
    }
}

/// The median of some durations
pub fn median(sorted_or_not: &[Duration]) -> Duration {
    let mut v = sorted_or_not.to_vec();
    v.sort();
    let n = v.len();
    if n == 0 {
        Duration::ZERO
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    }
}

/// The 1, 5 and 15 minute load averages
pub fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

/// `ffmpeg N.N`, as the report names it
pub fn ffmpeg_version() -> String {
    Command::new("ffmpeg")
        .arg("-version")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(2))
                .map(|v| format!("ffmpeg {v}"))
        })
        .unwrap_or_else(|| "ffmpeg (version unknown)".into())
}
