//! Start-up settings: flags, each with an environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Start-up settings
#[derive(Clone, clap::Parser)]
#[command(
    name = "assembler",
    about = "Assembly service of the CreatorStudio render tier: timelines in, masters, variants, posters and captions out"
)]
pub struct Settings {
    /// Address to listen on
    #[arg(long, env = "ASSEMBLER_LISTEN", default_value = "127.0.0.1:8789")]
    pub listen: SocketAddr,
    /// Base of the output URLs it returns (default: http://<bound address>)
    #[arg(long, env = "ASSEMBLER_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The Bearer key every route but /healthz requires
    #[arg(long, env = "ASSEMBLER_API_KEY", hide_env_values = true)]
    pub api_key: String,
    /// Where requests, state and outputs live (default: creatorstudio-assembler under the
    /// system temp dir)
    #[arg(long, env = "ASSEMBLER_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Assemblies run at once (ffmpeg already uses every core)
    #[arg(long, env = "ASSEMBLER_CONCURRENCY", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: u32,
    /// The largest input fetched, in bytes
    #[arg(long, env = "ASSEMBLER_MAX_INPUT_BYTES", default_value_t = 512 * 1024 * 1024)]
    pub max_input_bytes: u64,
    /// How long fetching one input may take, in seconds
    #[arg(long, env = "ASSEMBLER_FETCH_TIMEOUT_S", default_value_t = 120,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub fetch_timeout_s: u64,
    /// The ffmpeg binary
    #[arg(long, env = "ASSEMBLER_FFMPEG", default_value = "ffmpeg")]
    pub ffmpeg: PathBuf,
    /// The ffprobe binary
    #[arg(long, env = "ASSEMBLER_FFPROBE", default_value = "ffprobe")]
    pub ffprobe: PathBuf,
    /// The font of the badge and burned captions (when absent, fontconfig's "DejaVu Sans")
    #[arg(long, env = "ASSEMBLER_FONT_FILE", default_value = crate::video::DEFAULT_FONT_FILE)]
    pub font_file: PathBuf,
    /// Tries of each terminal callback (backoff 1 s, 2 s, 4 s, ... between them)
    #[arg(long, env = "ASSEMBLER_CALLBACK_TRIES", default_value_t = 6,
          value_parser = clap::value_parser!(u32).range(1..=20))]
    pub callback_tries: u32,
    /// Hours a finished assembly's files are kept (its record and idempotency key stay); 0 keeps them forever
    #[arg(long, env = "ASSEMBLER_RETAIN_HOURS", default_value_t = 72)]
    pub retain_hours: u64,
    /// A timeline with more clips than this renders each output in segments of this many clips
    /// first: no ffmpeg run opens more clips at once
    #[arg(long, env = "ASSEMBLER_CHUNK_CLIPS", default_value_t = crate::video::CHUNK_CLIPS as u32,
          value_parser = clap::value_parser!(u32).range(1..=MAX_CHUNK as i64))]
    pub chunk_clips: u32,
    /// A timeline with more dialogue lines than this premixes them in groups of this many first:
    /// no ffmpeg run opens more lines at once
    #[arg(long, env = "ASSEMBLER_CHUNK_LINES", default_value_t = crate::audio::CHUNK_LINES as u32,
          value_parser = clap::value_parser!(u32).range(1..=MAX_CHUNK as i64))]
    pub chunk_lines: u32,
}

/// The largest chunk either setting takes: a run of this many inputs stays well under the usual
/// limit of 1,024 open files and its filter graph well under Linux's 128 KiB per argument
pub const MAX_CHUNK: u32 = 256;

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("api_key", &"<redacted>")
            .field("data_dir", &self.data_dir)
            .field("concurrency", &self.concurrency)
            .field("max_input_bytes", &self.max_input_bytes)
            .field("fetch_timeout_s", &self.fetch_timeout_s)
            .field("ffmpeg", &self.ffmpeg)
            .field("ffprobe", &self.ffprobe)
            .field("font_file", &self.font_file)
            .field("callback_tries", &self.callback_tries)
            .field("retain_hours", &self.retain_hours)
            .field("chunk_clips", &self.chunk_clips)
            .field("chunk_lines", &self.chunk_lines)
            .finish()
    }
}

impl Settings {
    /// Settings for an in-process server on an ephemeral loopback port (tests)
    pub fn ephemeral(api_key: &str, data_dir: PathBuf) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            api_key: api_key.to_string(),
            data_dir: Some(data_dir),
            concurrency: 1,
            max_input_bytes: 512 * 1024 * 1024,
            fetch_timeout_s: 120,
            ffmpeg: PathBuf::from("ffmpeg"),
            ffprobe: PathBuf::from("ffprobe"),
            font_file: PathBuf::from(crate::video::DEFAULT_FONT_FILE),
            callback_tries: 6,
            retain_hours: 72,
            chunk_clips: crate::video::CHUNK_CLIPS as u32,
            chunk_lines: crate::audio::CHUNK_LINES as u32,
        }
    }

    /// The data directory, defaulted
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("creatorstudio-assembler"))
    }

    /// The fetch timeout
    pub fn fetch_timeout(&self) -> Duration {
        Duration::from_secs(self.fetch_timeout_s)
    }
}
