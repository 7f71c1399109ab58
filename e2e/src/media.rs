//! The finished files of a render, as a person gets them: downloaded through their signed URLs,
//! probed with ffprobe, measured for loudness, and laid out on a contact sheet.

use std::path::{Path, PathBuf};
use std::process::Command;

use futures_util::StreamExt;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

/// Errors reading or checking media
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// HTTP failed
    #[error("downloading {url}: {reason}")]
    Download {
        /// The URL
        url: String,
        /// Why
        reason: String,
    },
    /// A tool (ffprobe, ffmpeg) failed or is missing
    #[error("{tool}: {reason}")]
    Tool {
        /// Which
        tool: String,
        /// Why
        reason: String,
    },
    /// A file could not be written
    #[error("writing {path}: {source}")]
    Io {
        /// Where
        path: String,
        /// Why
        source: std::io::Error,
    },
}

/// One file of a render on disk
#[derive(Debug, Clone)]
pub struct Downloaded {
    /// What it is: `master`, `variant-9x16`, `poster`, `captions`
    pub name: String,
    /// Where it is
    pub path: PathBuf,
}

/// The outputs of a finished render's app view: (name, signed URL, file extension)
pub fn output_urls(view: &Value) -> Vec<(String, String, &'static str)> {
    let mut out = Vec::new();
    if let Some(url) = view["master_url"].as_str() {
        out.push(("master".to_owned(), url.to_owned(), "mp4"));
    }
    for v in view["variants"].as_array().into_iter().flatten() {
        if let (Some(aspect), Some(url)) = (v["aspect"].as_str(), v["url"].as_str()) {
            out.push((
                format!("variant-{}", aspect.replace(':', "x")),
                url.to_owned(),
                "mp4",
            ));
        }
    }
    if let Some(url) = view["poster_url"].as_str() {
        out.push(("poster".to_owned(), url.to_owned(), "jpg"));
    }
    if let Some(url) = view["captions_url"].as_str() {
        out.push(("captions".to_owned(), url.to_owned(), "vtt"));
    }
    out
}

/// Streams `url` into `path` (never holds the file whole)
pub async fn download(url: &str, path: &Path) -> Result<u64, MediaError> {
    let fail = |reason: String| MediaError::Download {
        url: url.to_owned(),
        reason,
    };
    let resp = reqwest::get(url).await.map_err(|e| fail(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(fail(format!("HTTP {}", resp.status())));
    }
    let io = |source| MediaError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut file = tokio::fs::File::create(path).await.map_err(io)?;
    let mut stream = resp.bytes_stream();
    let mut total = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| fail(e.to_string()))?;
        total += chunk.len() as u64;
        file.write_all(&chunk).await.map_err(io)?;
    }
    file.flush().await.map_err(io)?;
    Ok(total)
}

/// Downloads every output of a finished render into `dir`
pub async fn download_outputs(view: &Value, dir: &Path) -> Result<Vec<Downloaded>, MediaError> {
    std::fs::create_dir_all(dir).map_err(|source| MediaError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let mut files = Vec::new();
    for (name, url, ext) in output_urls(view) {
        let path = dir.join(format!("{name}.{ext}"));
        download(&url, &path).await?;
        files.push(Downloaded { name, path });
    }
    Ok(files)
}

fn tool(name: &str, args: &[&str]) -> Result<String, MediaError> {
    let output = Command::new(name)
        .args(args)
        .output()
        .map_err(|e| MediaError::Tool {
            tool: name.to_owned(),
            reason: format!("{e} (install the Debian package ffmpeg)"),
        })?;
    if !output.status.success() {
        return Err(MediaError::Tool {
            tool: name.to_owned(),
            reason: String::from_utf8_lossy(&output.stderr)
                .lines()
                .rev()
                .take(5)
                .collect::<Vec<_>>()
                .join(" | "),
        });
    }
    // ffmpeg reports measurements on stderr, ffprobe its JSON on stdout: callers get both.
    Ok(format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}

/// `ffprobe -show_streams -show_format` as JSON
pub fn probe(path: &Path) -> Result<Value, MediaError> {
    let path = path.to_string_lossy();
    let out = tool(
        "ffprobe",
        &[
            "-v",
            "error",
            "-show_streams",
            "-show_format",
            "-of",
            "json",
            &path,
        ],
    )?;
    serde_json::from_str(&out).map_err(|e| MediaError::Tool {
        tool: "ffprobe".into(),
        reason: format!("not JSON: {e}"),
    })
}

/// The first stream of a type (`video`, `audio`) in a probe
pub fn stream<'a>(probe: &'a Value, codec_type: &str) -> Option<&'a Value> {
    probe["streams"]
        .as_array()?
        .iter()
        .find(|s| s["codec_type"] == codec_type)
}

/// A probe's duration, seconds
pub fn duration_s(probe: &Value) -> Option<f64> {
    probe["format"]["duration"].as_str()?.parse().ok()
}

/// One line for a person: name, codecs, size, duration, bytes
pub fn describe(name: &str, probe: &Value) -> String {
    let video = stream(probe, "video");
    let audio = stream(probe, "audio");
    let size = video
        .map(|v| format!("{}x{}", v["width"], v["height"]))
        .unwrap_or_else(|| "-".into());
    format!(
        "{name:<14} {:<10} {:<6} {:<5} {:>9}  {:>7.2}s  {:>9} B",
        probe["format"]["format_name"]
            .as_str()
            .unwrap_or("-")
            .split(',')
            .next()
            .unwrap_or("-"),
        video.and_then(|v| v["codec_name"].as_str()).unwrap_or("-"),
        audio.and_then(|a| a["codec_name"].as_str()).unwrap_or("-"),
        size,
        duration_s(probe).unwrap_or(0.0),
        probe["format"]["size"].as_str().unwrap_or("-"),
    )
}

/// Integrated loudness in LUFS and true peak in dBTP, measured with ffmpeg's EBU R128 filter
pub fn loudness(path: &Path) -> Result<(f64, f64), MediaError> {
    let out = ebur128_summary(path)?;
    let value = |section: &str, key: &str| {
        out.rsplit(section)
            .next()
            .unwrap_or("")
            .lines()
            .find_map(|l| l.trim().strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    match (
        value("Integrated loudness:", "I:"),
        value("True peak:", "Peak:"),
    ) {
        (Some(i), Some(tp)) => Ok((i, tp)),
        _ => Err(MediaError::Tool {
            tool: "ffmpeg ebur128".into(),
            reason: "no loudness summary".into(),
        }),
    }
}

fn ebur128_summary(path: &Path) -> Result<String, MediaError> {
    let path = path.to_string_lossy();
    tool(
        "ffmpeg",
        &[
            "-nostats",
            "-hide_banner",
            "-i",
            &path,
            "-map",
            "0:a:0",
            "-af",
            "ebur128=peak=true",
            "-f",
            "null",
            "-",
        ],
    )
}

/// Integrated loudness in LUFS, measured with ffmpeg's EBU R128 filter
pub fn integrated_lufs(path: &Path) -> Result<f64, MediaError> {
    loudness(path).map(|(integrated, _)| integrated)
}

/// One frame at `at_s` as 8-bit grey pixels, `width`x`height`
pub fn grey_frame(path: &Path, at_s: f64) -> Result<(Vec<u8>, u32, u32), MediaError> {
    let p = probe(path)?;
    let v = stream(&p, "video").ok_or_else(|| MediaError::Tool {
        tool: "ffprobe".into(),
        reason: "no video stream".into(),
    })?;
    let (w, h) = (
        v["width"].as_u64().unwrap_or(0) as u32,
        v["height"].as_u64().unwrap_or(0) as u32,
    );
    let output = Command::new("ffmpeg")
        .args(["-v", "error", "-ss", &format!("{at_s:.3}"), "-i"])
        .arg(path)
        .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-"])
        .output()
        .map_err(|e| MediaError::Tool {
            tool: "ffmpeg".into(),
            reason: e.to_string(),
        })?;
    Ok((output.stdout, w, h))
}

/// Mean absolute difference of two grey frames over a rectangle given in fractions of the frame
pub fn region_difference(
    a: &(Vec<u8>, u32, u32),
    b: &(Vec<u8>, u32, u32),
    (x0, y0, x1, y1): (f64, f64, f64, f64),
) -> f64 {
    let (w, h) = (a.1 as usize, a.2 as usize);
    if a.1 != b.1 || a.2 != b.2 || a.0.len() < w * h || b.0.len() < w * h {
        return f64::INFINITY;
    }
    let (cx0, cx1) = ((x0 * w as f64) as usize, (x1 * w as f64) as usize);
    let (cy0, cy1) = ((y0 * h as f64) as usize, (y1 * h as f64) as usize);
    let mut sum = 0u64;
    let mut n = 0u64;
    for y in cy0..cy1.min(h) {
        for x in cx0..cx1.min(w) {
            sum += u64::from(a.0[y * w + x].abs_diff(b.0[y * w + x]));
            n += 1;
        }
    }
    if n == 0 { 0.0 } else { sum as f64 / n as f64 }
}

/// A PNG of one labelled frame per shot (the middle of each), tiled four across
pub fn contact_sheet(
    master: &Path,
    shots: &[(String, f64, f64)],
    out: &Path,
) -> Result<(), MediaError> {
    let dir = tempfile::tempdir().map_err(|source| MediaError::Io {
        path: "temp dir".into(),
        source,
    })?;
    let master_s = master.to_string_lossy();
    for (i, (shot, start, duration)) in shots.iter().enumerate() {
        let frame = dir.path().join(format!("{i:03}.png"));
        let label = dir.path().join(format!("{i:03}.txt"));
        std::fs::write(&label, format!("{shot}  {start:.1}s")).map_err(|source| {
            MediaError::Io {
                path: label.display().to_string(),
                source,
            }
        })?;
        let filter = format!(
            "scale=320:-2,drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:\
             textfile='{}':x=8:y=8:fontsize=18:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=4",
            label.display()
        );
        tool(
            "ffmpeg",
            &[
                "-v",
                "error",
                "-y",
                "-ss",
                &format!("{:.3}", start + duration / 2.0),
                "-i",
                &master_s,
                "-frames:v",
                "1",
                "-vf",
                &filter,
                &frame.to_string_lossy(),
            ],
        )?;
    }
    let columns = 4.min(shots.len().max(1));
    let rows = shots.len().div_ceil(columns).max(1);
    let pattern = dir.path().join("%03d.png");
    tool(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-y",
            "-start_number",
            "0",
            "-i",
            &pattern.to_string_lossy(),
            "-vf",
            &format!("tile={columns}x{rows}:padding=4:margin=4"),
            "-frames:v",
            "1",
            &out.to_string_lossy(),
        ],
    )?;
    Ok(())
}
