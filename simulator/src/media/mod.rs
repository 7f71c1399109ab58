//! Real, small output media, rendered by the system's `ffmpeg` (and `espeak-ng` for speech):
//!
//! - keyframes: a PNG, JPEG or WebP at the requested size, the task's colours, the stage id and
//!   the prompt ([`image`])
//! - motion clips: an H.264 MP4 of the requested length, aspect and frame rate, a slow push-in
//!   over the same kind of picture ([`video`])
//! - speech and music: MP3, WAV or raw PCM of the line's spoken length or the requested length
//!   ([`audio`])
//!
//! What to render is a [`Spec`], built from the [`Task`] (its [`Shape`], prompt, stage and
//! length). A spec's hash names its file in the [`cache`], so the same task always yields the
//! same bytes, different tasks differ, and a file is rendered once however many downloads race.

pub mod audio;
pub mod cache;
pub mod image;
pub mod text;
pub mod tool;
pub mod video;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use percent_encoding::percent_decode_str;
use tokio::io::AsyncReadExt;

pub use cache::{Cache, Ready};
pub use tool::Tool;

use crate::providers::Provider;
use crate::state::Task;

/// Bump when the renderers change, so cached files of older renderers are not served
const RENDERER_VERSION: u32 = 4;

/// The format of an output file
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// An MP4 video (H.264)
    Video,
    /// A PNG image
    Png,
    /// A JPEG image
    Jpeg,
    /// A WebP image
    Webp,
    /// An MP3 audio file
    Mp3,
    /// A WAV audio file (16-bit PCM)
    Wav,
    /// Raw 16-bit little-endian mono PCM (ElevenLabs' `pcm_*`)
    Pcm,
}

impl MediaKind {
    /// Returns the Content-Type the file is served with
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Video => "video/mp4",
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
            Self::Mp3 => "audio/mpeg",
            Self::Wav => "audio/wav",
            Self::Pcm => "application/octet-stream",
        }
    }

    /// Returns the file extension, without the dot
    pub fn ext(self) -> &'static str {
        match self {
            Self::Video => "mp4",
            Self::Png => "png",
            Self::Jpeg => "jpeg",
            Self::Webp => "webp",
            Self::Mp3 => "mp3",
            Self::Wav => "wav",
            Self::Pcm => "pcm",
        }
    }

    /// Whether it is a still image
    pub fn is_image(self) -> bool {
        matches!(self, Self::Png | Self::Jpeg | Self::Webp)
    }

    /// Whether it is audio
    pub fn is_audio(self) -> bool {
        matches!(self, Self::Mp3 | Self::Wav | Self::Pcm)
    }
}

/// What an audio output holds
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sound {
    /// A spoken line (the task's text)
    Speech,
    /// Music
    Music,
}

/// The shape of a task's output beyond its format and length: frame size and rate, audio
/// encoding and voice. Provider modules fill it from the request's own fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    /// Frame width in pixels (images and videos)
    pub width: u32,
    /// Frame height in pixels
    pub height: u32,
    /// Frames per second (videos)
    pub fps: u32,
    /// What an audio output holds
    pub sound: Sound,
    /// Audio sample rate in Hz
    pub sample_rate: u32,
    /// Audio bitrate in kbit/s (MP3)
    pub bitrate_kbps: u32,
    /// Audio channels
    pub channels: u32,
    /// The voice of speech (any string; it picks the synthetic voice)
    pub voice: String,
}

impl Default for Shape {
    fn default() -> Self {
        Self::video(16, 9, 24)
    }
}

/// Process-wide media settings from the environment
#[derive(Debug, Clone, Copy)]
struct Settings {
    /// `SIM_MEDIA_FULL_SIZE=1`: videos at the provider's nominal resolution instead of small
    full_size: bool,
}

fn settings() -> Settings {
    static SETTINGS: OnceLock<Settings> = OnceLock::new();
    *SETTINGS.get_or_init(|| Settings {
        full_size: std::env::var("SIM_MEDIA_FULL_SIZE")
            .is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes")),
    })
}

/// The short side of small videos
pub const SMALL_SIDE: u32 = 360;

fn even(n: f64) -> u32 {
    let n = n.round().max(2.0) as u32;
    n + n % 2
}

impl Shape {
    /// A video of the frame `w`:`h` (an aspect or a nominal resolution) at `fps`: small by
    /// default (short side 360: 640x360, 360x640, 360x360), or the nominal size itself when
    /// `SIM_MEDIA_FULL_SIZE=1` and `w`x`h` is a resolution
    pub fn video(w: u32, h: u32, fps: u32) -> Self {
        let (w, h) = (w.max(1), h.max(1));
        let (width, height) = if settings().full_size && w.min(h) >= 240 {
            (even(f64::from(w)), even(f64::from(h)))
        } else if w >= h {
            (
                even(f64::from(SMALL_SIDE) * f64::from(w) / f64::from(h)),
                SMALL_SIDE,
            )
        } else {
            (
                SMALL_SIDE,
                even(f64::from(SMALL_SIDE) * f64::from(h) / f64::from(w)),
            )
        };
        Self {
            width,
            height,
            fps: fps.clamp(1, 120),
            sound: Sound::Music,
            sample_rate: 44_100,
            bitrate_kbps: 128,
            channels: 2,
            voice: String::new(),
        }
    }

    /// A video of `aspect` (`16:9`, `1280:720`, `720x1280`) at the short side `short` (the
    /// nominal resolution: 720 for `720p`), defaulting to 16:9
    pub fn video_aspect(aspect: Option<&str>, short: u32, fps: u32) -> Self {
        let (aw, ah) = aspect.and_then(parse_aspect).unwrap_or((16, 9));
        let (w, h) = nominal(aw, ah, short);
        Self::video(w, h, fps)
    }

    /// A still of exactly `width`x`height`
    pub fn image(width: u32, height: u32) -> Self {
        Self {
            width: width.clamp(16, 4096),
            height: height.clamp(16, 4096),
            ..Self::video(16, 9, 24)
        }
    }

    /// A still of `aspect` whose long side is `long`
    pub fn image_aspect(aspect: Option<&str>, long: u32) -> Self {
        let (aw, ah) = aspect.and_then(parse_aspect).unwrap_or((1, 1));
        let (w, h) = if aw >= ah {
            (
                long,
                (f64::from(long) * f64::from(ah) / f64::from(aw)).round() as u32,
            )
        } else {
            (
                (f64::from(long) * f64::from(aw) / f64::from(ah)).round() as u32,
                long,
            )
        };
        Self::image(w, h)
    }

    /// Speech in `voice`, mono, at `sample_rate` and (for MP3) `bitrate_kbps`
    pub fn speech(voice: &str, sample_rate: u32, bitrate_kbps: u32) -> Self {
        Self {
            sound: Sound::Speech,
            sample_rate,
            bitrate_kbps,
            channels: 1,
            voice: voice.to_string(),
            ..Self::video(16, 9, 24)
        }
    }

    /// Music in stereo (or mono) at `sample_rate` and (for MP3) `bitrate_kbps`
    pub fn music(sample_rate: u32, bitrate_kbps: u32, channels: u32) -> Self {
        Self {
            sound: Sound::Music,
            sample_rate,
            bitrate_kbps,
            channels: channels.clamp(1, 2),
            ..Self::video(16, 9, 24)
        }
    }
}

/// Parses an aspect or a size: `16:9`, `1280:720`, `720x1280`, `1280*720`
pub fn parse_aspect(s: &str) -> Option<(u32, u32)> {
    let (w, h) = s
        .split_once(':')
        .or_else(|| s.split_once('x'))
        .or_else(|| s.split_once('*'))?;
    let (w, h) = (w.trim().parse::<u32>().ok()?, h.trim().parse::<u32>().ok()?);
    (w > 0 && h > 0 && w <= 10_000 && h <= 10_000).then_some((w, h))
}

/// The short side of a resolution name: `720p` -> 720, `1080P` -> 1080, `4k` -> 2160
pub fn resolution(s: &str) -> Option<u32> {
    let s = s.trim().to_ascii_lowercase();
    if s == "4k" {
        return Some(2160);
    }
    s.strip_suffix('p')?.parse().ok()
}

/// The frame of aspect `aw`:`ah` whose short side is `short` (an aspect already in pixels,
/// such as `1280:720`, is kept)
pub fn nominal(aw: u32, ah: u32, short: u32) -> (u32, u32) {
    if aw.min(ah) >= 240 {
        return (aw, ah);
    }
    let short = f64::from(short.max(2));
    if aw >= ah {
        (even(short * f64::from(aw) / f64::from(ah)), even(short))
    } else {
        (even(short), even(short * f64::from(ah) / f64::from(aw)))
    }
}

/// Who asked, as our orchestrator names it: the job, the stage and the attempt, read from the
/// callback URL (`/v1/callbacks/{provider}/{job}/{stage}/{attempt}`) or an idempotency key
/// (`{job}:{stage}:{attempt}`)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageRef {
    /// The job
    pub job: String,
    /// The stage, e.g. `s04.motion`
    pub stage: String,
    /// The attempt
    pub attempt: String,
}

impl StageRef {
    /// Reads a callback URL of ours
    pub fn from_callback(url: &str) -> Option<Self> {
        let parsed = url::Url::parse(url).ok()?;
        let path = parsed.path();
        let rest = &path[path.find("/v1/callbacks/")? + "/v1/callbacks/".len()..];
        let segs: Vec<String> = rest
            .split('/')
            .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
            .collect();
        match segs.as_slice() {
            [_provider, job, stage, attempt]
                if !job.is_empty() && !stage.is_empty() && !attempt.is_empty() =>
            {
                Some(Self {
                    job: job.clone(),
                    stage: stage.clone(),
                    attempt: attempt.clone(),
                })
            }
            _ => None,
        }
    }

    /// Reads an idempotency key of ours
    pub fn from_key(key: &str) -> Option<Self> {
        let mut parts = key.rsplitn(3, ':');
        let (attempt, stage, job) = (parts.next()?, parts.next()?, parts.next()?);
        let numeric = !attempt.is_empty() && attempt.chars().all(|c| c.is_ascii_digit());
        (numeric && !stage.is_empty() && !job.is_empty()).then(|| Self {
            job: job.to_string(),
            stage: stage.to_string(),
            attempt: attempt.to_string(),
        })
    }
}

/// Everything one rendered file depends on; its hash is the file's cache key
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// The format
    pub kind: MediaKind,
    /// Speech or music (audio formats)
    pub sound: Sound,
    /// Frame width (images and videos)
    pub width: u32,
    /// Frame height
    pub height: u32,
    /// Frames per second (videos)
    pub fps: u32,
    /// Length in seconds (videos, music, and the tone that stands in for speech)
    pub seconds: f64,
    /// Audio sample rate
    pub sample_rate: u32,
    /// MP3 bitrate, kbit/s
    pub bitrate_kbps: u32,
    /// Audio channels
    pub channels: u32,
    /// The big caption: the stage id, else the task id
    pub title: String,
    /// The prompt (pictures) or the line (speech)
    pub text: String,
    /// The small caption: job and attempt (never the provider or model: the creator sees it)
    pub footer: String,
    /// The voice (speech)
    pub voice: String,
    /// Picks colours (pictures) or key and progression (music)
    pub look: u64,
}

impl Spec {
    /// What `task`'s output is, served as `kind` (a video task's thumbnail is a `Png`). With
    /// `SIM_MEDIA_VARIETY=per-shape` every picture and every score of one shape and length is
    /// the same file, so a load test renders each once (speech keeps its line: its length
    /// depends on it).
    pub fn for_task(task: &Task, kind: MediaKind) -> Self {
        let spec = Self::each_its_own(task, kind);
        if !task.media_per_shape {
            return spec;
        }
        match (kind.is_audio(), spec.sound) {
            (true, Sound::Speech) => spec,
            _ => Self {
                title: "load test".into(),
                text: String::new(),
                footer: String::new(),
                look: 0,
                ..spec
            },
        }
    }

    fn each_its_own(task: &Task, kind: MediaKind) -> Self {
        let shape = &task.shape;
        let (title, footer, look) = match &task.stage {
            Some(s) => {
                let shot = s.stage.split('.').next().unwrap_or(&s.stage);
                (
                    s.stage.clone(),
                    // Which job and attempt made it, not which provider or model: the creator
                    // sees these pictures in their master, and never names a model.
                    format!("job {} · attempt {}", s.job, s.attempt),
                    // A shot keeps its colours across its keyframe and motion stages
                    crate::util::hash64(&[s.job.as_bytes(), shot.as_bytes()]),
                )
            }
            // A request that names no stage of ours (polled providers): the task id alone
            None => (
                format!("task {}", short_id(&task.id)),
                String::new(),
                crate::util::hash64(&[task.identity.as_bytes(), task.id.as_bytes()]),
            ),
        };
        let look = match shape.sound {
            // Music differs by mood as well as by stage
            Sound::Music if kind.is_audio() => {
                crate::util::hash64(&[&look.to_le_bytes(), task.prompt.as_bytes()])
            }
            _ => look,
        };
        let text = match (kind.is_audio(), shape.sound) {
            (true, Sound::Speech) => text::clean(&task.prompt, 2_000),
            _ => text::clean(&task.prompt, 600),
        };
        Self {
            kind,
            sound: shape.sound,
            width: shape.width,
            height: shape.height,
            fps: shape.fps,
            seconds: task.seconds.clamp(0.2, 600.0),
            sample_rate: shape.sample_rate,
            bitrate_kbps: shape.bitrate_kbps,
            channels: shape.channels,
            title,
            text,
            footer,
            voice: shape.voice.clone(),
            look,
        }
    }

    /// The cache key: a hash of everything the file depends on
    pub fn key(&self) -> String {
        let speech_engine = match (self.kind.is_audio(), self.sound) {
            (true, Sound::Speech) if tool::has_espeak() => "espeak-ng",
            (true, Sound::Speech) => "tone",
            _ => "-",
        };
        let canonical = format!(
            "v{RENDERER_VERSION}\n{:?}\n{:?}\n{}x{}@{}\n{:.3}\n{}/{}/{}\n{speech_engine}\n{}\n{}\n{}\n{}\n{}",
            self.kind,
            self.sound,
            self.width,
            self.height,
            self.fps,
            self.seconds,
            self.sample_rate,
            self.bitrate_kbps,
            self.channels,
            self.voice,
            self.look,
            self.title,
            self.footer,
            self.text,
        );
        crate::util::sha256_hex(canonical.as_bytes())[..32].to_string()
    }

    /// How long rendering may take before it is killed
    fn timeout(&self) -> Duration {
        let pixels = f64::from(self.width) * f64::from(self.height) / (640.0 * 360.0);
        let per_second = if self.kind == MediaKind::Video {
            2.0 * pixels.max(1.0)
        } else {
            0.5
        };
        Duration::from_secs_f64((30.0 + per_second * self.seconds).min(600.0))
    }

    /// The job that renders it into `out`
    fn job(&self, out: &str) -> Job {
        match self.kind {
            MediaKind::Video => video::job(self, out),
            MediaKind::Png | MediaKind::Jpeg | MediaKind::Webp => image::job(self, out),
            MediaKind::Mp3 | MediaKind::Wav | MediaKind::Pcm => audio::job(self, out),
        }
    }

    /// The length of its file if it is already rendered
    pub fn cached_len(&self) -> Option<u64> {
        Cache::global().cached_len(&self.key(), self.kind.ext())
    }
}

fn short_id(id: &str) -> String {
    id.chars().take(8).collect()
}

/// Why a file could not be rendered
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MediaError {
    /// A tool is not installed
    #[error(
        "{} is not installed (not found on PATH); the simulator renders media with it: install the Debian package `{}` (apt-get install {})",
        .0.program,
        .0.package,
        .0.package
    )]
    Missing(Tool),
    /// A tool failed
    #[error("{tool} failed ({status}): {stderr}")]
    Failed {
        /// The program
        tool: &'static str,
        /// Its exit status
        status: String,
        /// The end of its stderr
        stderr: String,
    },
    /// A tool ran past its timeout and was killed
    #[error("{tool} did not finish within {secs} s and was killed")]
    Timeout {
        /// The program
        tool: &'static str,
        /// The timeout
        secs: u64,
    },
    /// The cache directory could not be used
    #[error("media cache: {0}")]
    Io(String),
}

/// The steps that render one file in a work directory: text files to write, then tools to run
#[derive(Debug, Clone, Default)]
pub struct Job {
    /// Files written into the work directory first: (name, contents)
    pub files: Vec<(&'static str, String)>,
    /// The tools to run, in order, with their arguments
    pub steps: Vec<(Tool, Vec<OsString>)>,
    /// The name of the output file in the work directory
    pub out: String,
}

/// Output options that keep ffmpeg's bytes free of version strings and timestamps
pub fn bitexact() -> Vec<String> {
    [
        "-fflags",
        "+bitexact",
        "-flags",
        "+bitexact",
        "-map_metadata",
        "-1",
    ]
    .map(String::from)
    .to_vec()
}

impl Job {
    /// An empty job writing `out`
    pub fn new(out: &str) -> Self {
        Self {
            out: out.to_string(),
            ..Self::default()
        }
    }

    /// Adds a step
    pub fn step(&mut self, tool: Tool, args: Vec<String>) {
        self.steps.push((tool, tool::args(args)));
    }

    /// Adds an ffmpeg run that writes the output file
    pub fn ffmpeg(&mut self, args: Vec<String>) {
        let mut all: Vec<String> = ["-hide_banner", "-nostdin", "-v", "error", "-y"]
            .map(String::from)
            .to_vec();
        all.extend(args);
        all.push(self.out.clone());
        self.step(tool::FFMPEG, all);
    }

    /// Runs the job in `work`; returns the output path
    pub async fn run(&self, work: &Path, timeout: Duration) -> Result<PathBuf, MediaError> {
        for (name, contents) in &self.files {
            tokio::fs::write(work.join(name), contents)
                .await
                .map_err(|e| MediaError::Io(format!("writing {name}: {e}")))?;
        }
        for (tool, args) in &self.steps {
            tool::run(*tool, args, work, timeout).await?;
        }
        Ok(work.join(&self.out))
    }
}

/// Renders `spec` (or finds it in the process-wide cache) and opens the file
pub async fn render(spec: &Spec) -> Result<Ready, MediaError> {
    render_in(Cache::global(), spec).await
}

/// Renders `spec` (or finds it) in `cache` and opens the file
pub async fn render_in(cache: &Cache, spec: &Spec) -> Result<Ready, MediaError> {
    let key = spec.key();
    let ext = spec.kind.ext();
    let job = spec.job(&format!("out.{ext}"));
    cache.get_or_render(&key, ext, &job, spec.timeout()).await
}

/// Streams a file in chunks, closing the stream at the end or at the first error
pub fn file_body(file: tokio::fs::File) -> Body {
    let stream = futures_util::stream::unfold(Some(file), |state| async move {
        let mut file = state?;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<Bytes, std::io::Error>(Bytes::from(buf)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    Body::from_stream(stream)
}

/// A 200 serving a rendered file, streamed from disk, with its Content-Type and Content-Length
pub fn respond(ready: Ready, content_type: &str) -> Response {
    let mut r = Response::new(file_body(ready.file));
    *r.status_mut() = StatusCode::OK;
    let headers = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(ready.len));
    r
}

/// As [`respond`], with `pad` zero bytes streamed after the file (never allocated whole)
pub fn respond_padded(ready: Ready, content_type: &str, pad: u64) -> Response {
    if pad == 0 {
        return respond(ready, content_type);
    }
    const CHUNK: u64 = 256 * 1024;
    let zeros = futures_util::stream::unfold(pad, |left| async move {
        if left == 0 {
            return None;
        }
        let n = left.min(CHUNK);
        let chunk = Bytes::from(vec![0u8; usize::try_from(n).unwrap_or(0)]);
        Some((Ok::<Bytes, axum::Error>(chunk), left - n))
    });
    let file = file_body(ready.file).into_data_stream();
    let body = Body::from_stream(futures_util::StreamExt::chain(file, zeros));
    let mut r = Response::new(body);
    let headers = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(ready.len + pad));
    r
}

/// The provider of a task, for log lines
pub fn describe(p: Provider, spec: &Spec) -> String {
    format!(
        "{} {} {}x{} {:.2}s ({})",
        p.as_str(),
        spec.kind.ext(),
        spec.width,
        spec.height,
        spec.seconds,
        spec.title
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stage_refs() {
        let cb = "http://127.0.0.1:8787/v1/callbacks/kling/job_1/s04.motion/2?exp=1&token=x";
        assert_eq!(
            StageRef::from_callback(cb),
            Some(StageRef {
                job: "job_1".into(),
                stage: "s04.motion".into(),
                attempt: "2".into()
            })
        );
        assert_eq!(StageRef::from_callback("http://x/v1/callbacks/sora"), None);
        assert_eq!(StageRef::from_callback("http://x/hook"), None);
        assert_eq!(
            StageRef::from_key("job_1:s01.keyframe:1").map(|s| s.stage),
            Some("s01.keyframe".to_string())
        );
        assert_eq!(StageRef::from_key("some-random-key"), None);
        assert_eq!(StageRef::from_key("a:b:c"), None);
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_aspect("16:9"), Some((16, 9)));
        assert_eq!(parse_aspect("720x1280"), Some((720, 1280)));
        assert_eq!(parse_aspect("adaptive"), None);
        assert_eq!(resolution("1080P"), Some(1080));
        assert_eq!(resolution("4k"), Some(2160));
        assert_eq!(nominal(16, 9, 720), (1280, 720));
        assert_eq!(nominal(9, 16, 720), (720, 1280));
        assert_eq!(nominal(1366, 768, 720), (1366, 768));
        if !settings().full_size {
            let s = Shape::video_aspect(Some("16:9"), 720, 24);
            assert_eq!((s.width, s.height), (640, 360));
            let s = Shape::video_aspect(Some("9:16"), 720, 24);
            assert_eq!((s.width, s.height), (360, 640));
            let s = Shape::video_aspect(Some("1:1"), 720, 24);
            assert_eq!((s.width, s.height), (360, 360));
            let s = Shape::video(1366, 768, 24);
            assert_eq!((s.width, s.height), (640, 360));
        }
        let i = Shape::image_aspect(Some("16:9"), 1024);
        assert_eq!((i.width, i.height), (1024, 576));
    }
}
