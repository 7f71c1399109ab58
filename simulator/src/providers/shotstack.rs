//! Shotstack's Edit API: `x-api-key`, an Edit JSON in, one real MP4 (and a poster) out.
//!
//! - `POST /shotstack/render` (the adapter's base already ends in `/edit/{version}`) with an Edit
//!   `{timeline: {soundtrack, background, tracks: [{clips: [{asset, start, length, fit, position,
//!   offset}]}]}, output: {format, resolution | size, aspectRatio, fps, poster: {capture}},
//!   callback}` -> 201 `{"success": true, "message": "Created", "response": {"message": "Render
//!   Successfully Queued", "id"}}`
//! - `GET /shotstack/render/{id}` -> `{"success": true, "message": "OK", "response": {id, owner,
//!   status: queued|fetching|rendering|saving|done|failed, error, duration, renderTime, url,
//!   poster, created, updated}}` (`data`, the Edit, unless `?data=false`)
//! - when done or failed, POSTs `{type: "edit", action: "render", id, owner, status, url, error,
//!   completed}` to `callback` (unsigned, as Shotstack's: the URL carries our token)
//! - `GET /shotstack/output/{id}.mp4` and `/shotstack/output/{id}-poster.jpg` serve the files, no
//!   auth (Shotstack's are public bucket URLs), with Content-Length
//!
//! The render is real: every `src` is fetched (a source that cannot be fetched fails the render
//! as Shotstack does, "Error fetching asset ..."), then the system `ffmpeg` composes the tracks
//! onto a frame of the output's size (the documented presets: `preview` 512x288, `mobile`
//! 640x360, `sd` 1024x576, `hd` 1280x720, `1080` 1920x1080, `4k`; other `aspectRatio`s keep the
//! short side): each visual clip scaled per `fit` (`crop`, the default, covers and centre-crops;
//! `cover` stretches; `contain` letterboxes; `none` centres), trimmed from `trim` and held on its
//! last frame to its `length`, at its `start`; audio clips (and video clips with a volume above 0
//! and a sound track), placed with `adelay` and mixed with `amix`, the soundtrack from 0; HTML,
//! title and text assets as a box of their background colour with their text (DejaVu Sans when
//! installed). The output lasts exactly until the last clip ends. A JPEG poster is taken at
//! `output.poster.capture`. Not simulated: transitions, effects, filters, tweens, `scale`,
//! clip `opacity`, merge fields, `auto` lengths, and formats other than mp4.
//!
//! The task's clock decides `queued` (the first 20% of the latency) and when `done` may show; a
//! render still running then shows `rendering` until ffmpeg finishes, and its callback waits
//! for it. Shotstack has no idempotency key: a resubmit is a new render.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};
use tokio::process::Command;
use tokio::sync::Semaphore;

use super::shotstack_masters::{self, Rendered, Shape};
use super::{Admission, Failure, Provider, Submission, admit, reject};
use crate::delivery::{self, Outgoing, Signer};
use crate::http::{self, SimRequest};
use crate::state::{Outcome, Phase, Sim, Task, bump};
use crate::util;

const P: Provider = Provider::Shotstack;
const DEV_KEY: &str = "sim-shotstack-key";
/// The owner id in answers (Shotstack's account id)
const OWNER: &str = "sim0wner01";
/// Largest source fetched
const MAX_SOURCE_BYTES: usize = 512 * 1024 * 1024;
/// Per-source fetch timeout
const FETCH_TIMEOUT: Duration = Duration::from_secs(60);
/// Per-ffmpeg-run timeout
const FFMPEG_TIMEOUT: Duration = Duration::from_secs(300);
/// Longest edit the simulator renders, seconds
const MAX_DURATION_S: f64 = 3600.0;
/// Renders at once (ffmpeg uses every core)
const PARALLEL_RENDERS: usize = 2;
/// The font of text boxes, when installed (`fonts-dejavu-core`)
const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

const ASPECTS: [&str; 5] = ["16:9", "9:16", "1:1", "4:5", "4:3"];
const RESOLUTIONS: [&str; 6] = ["preview", "mobile", "sd", "hd", "1080", "4k"];
const FPS: [f64; 11] = [
    12.0, 15.0, 23.976, 24.0, 25.0, 29.97, 30.0, 48.0, 50.0, 59.94, 60.0,
];
const FITS: [&str; 4] = ["crop", "cover", "contain", "none"];
const POSITIONS: [&str; 9] = [
    "top",
    "topRight",
    "right",
    "bottomRight",
    "bottom",
    "bottomLeft",
    "left",
    "topLeft",
    "center",
];

/// Renders a failure in Shotstack's shapes: the API gateway's `{"message"}` for auth, throttling
/// and timeouts, the `{success: false, message, response}` envelope otherwise (a validation error
/// names its path, as Shotstack's Joi validation does)
pub fn error(f: &Failure) -> (StatusCode, Value) {
    match f {
        Failure::MissingAuth | Failure::BadAuth(_) => {
            (StatusCode::FORBIDDEN, json!({"message": "Forbidden"}))
        }
        Failure::Invalid { message, field } => {
            let path: Vec<Value> = field
                .as_deref()
                .unwrap_or("")
                .split('.')
                .filter(|s| !s.is_empty())
                .map(|s| match s.parse::<u64>() {
                    Ok(n) => json!(n),
                    Err(_) => json!(s),
                })
                .collect();
            (
                StatusCode::BAD_REQUEST,
                json!({
                    "success": false,
                    "message": "Bad Request",
                    "response": {"error": {"name": "ValidationError",
                                           "details": [{"message": message, "path": path}]}},
                }),
            )
        }
        Failure::NotFound(m) => (
            StatusCode::NOT_FOUND,
            json!({"success": false, "message": "Not Found", "response": m}),
        ),
        Failure::RateLimited => (
            StatusCode::TOO_MANY_REQUESTS,
            json!({"message": "Too Many Requests"}),
        ),
        Failure::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"success": false, "message": "Internal Server Error", "response": f.message()}),
        ),
        Failure::Timeout => (
            StatusCode::GATEWAY_TIMEOUT,
            json!({"message": "Endpoint request timed out"}),
        ),
    }
}

/// Routes `/shotstack/...`
pub async fn handle(sim: &Sim, req: SimRequest) -> Response {
    let segs = req.segs();
    if let (&Method::GET, ["output", file]) = (&req.method, segs.as_slice()) {
        return serve(sim, file);
    }
    match req.header("x-api-key").map(str::trim) {
        None | Some("") => return reject(sim, P, &Failure::MissingAuth),
        Some(DEV_KEY) => {}
        Some(_) => return reject(sim, P, &Failure::BadAuth("Forbidden".to_string())),
    }
    match (&req.method, segs.as_slice()) {
        (&Method::POST, ["render"]) => submit(sim, &req).await,
        (&Method::GET, ["render", id]) => match super::poll(sim, P, id) {
            Ok(t) => {
                ensure_started(sim, &t);
                let mut body = status(sim, &t, Instant::now());
                if req.query("data") != Some("false") {
                    body["response"]["data"] = t.input.clone();
                }
                http::json(StatusCode::OK, &body)
            }
            Err(Some(r)) => r,
            Err(None) => reject(sim, P, &Failure::NotFound(format!("Render {id} not found"))),
        },
        _ => reject(sim, P, &Failure::NotFound("Not Found".to_string())),
    }
}

// ---- The edit, checked and resolved ----

/// How a visual clip fills the frame
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fit {
    Crop,
    Cover,
    Contain,
    None,
}

/// What a clip shows or plays
#[derive(Debug, Clone, PartialEq)]
enum Asset {
    /// A video or image file
    Visual {
        src: String,
        image: bool,
        trim: f64,
        volume: f64,
        fit: Fit,
    },
    /// An audio file
    Audio { src: String, trim: f64, volume: f64 },
    /// HTML, title or text: a box with its words
    Text {
        text: String,
        width: Option<u32>,
        height: Option<u32>,
        background: Option<String>,
        position: String,
        offset: (f64, f64),
    },
}

#[derive(Debug, Clone, PartialEq)]
struct Clip {
    asset: Asset,
    start: f64,
    length: f64,
}

/// A resolved edit: frame, duration, clips bottom track first, soundtrack
#[derive(Debug, Clone, PartialEq)]
struct Edit {
    width: u32,
    height: u32,
    fps: f64,
    duration: f64,
    background: String,
    clips: Vec<Clip>,
    soundtrack: Option<(String, f64)>,
    poster: Option<f64>,
}

fn even(x: f64) -> u32 {
    // Rounded to the nearest even number, at least 2
    ((x / 2.0).round().max(1.0) as u32) * 2
}

/// The output frame: a preset's short side, shaped by `aspectRatio`; or `size`
fn frame(output: &Map<String, Value>) -> Result<(u32, u32, f64), Failure> {
    let resolution = super::opt_enum(output, "resolution", &RESOLUTIONS)?;
    let aspect = super::opt_enum(output, "aspectRatio", &ASPECTS)?.unwrap_or("16:9");
    let (short, default_fps) = match resolution.unwrap_or("sd") {
        "preview" => (288.0, 15.0),
        "mobile" => (360.0, 25.0),
        "hd" => (720.0, 25.0),
        "1080" => (1080.0, 25.0),
        "4k" => (2160.0, 25.0),
        _ => (576.0, 25.0),
    };
    let (aw, ah) = match aspect {
        "9:16" => (9.0, 16.0),
        "1:1" => (1.0, 1.0),
        "4:5" => (4.0, 5.0),
        "4:3" => (4.0, 3.0),
        _ => (16.0, 9.0),
    };
    let (mut w, mut h) = if aw >= ah {
        (even(short * aw / ah), even(short))
    } else {
        (even(short), even(short * ah / aw))
    };
    if let Some(size) = output.get("size") {
        let dim = |k: &str| {
            size.get(k)
                .and_then(Value::as_u64)
                .filter(|v| (2..=4096).contains(v) && v % 2 == 0)
                .and_then(|v| u32::try_from(v).ok())
                .ok_or_else(|| {
                    Failure::invalid(
                        &format!("output.size.{k}"),
                        format!("{k} must be an even number of pixels up to 4096"),
                    )
                })
        };
        w = dim("width")?;
        h = dim("height")?;
    }
    let fps = match output.get("fps") {
        None | Some(Value::Null) => default_fps,
        Some(v) => v
            .as_f64()
            .filter(|f| FPS.iter().any(|a| (a - f).abs() < 1e-6))
            .ok_or_else(|| {
                Failure::invalid(
                    "output.fps",
                    "fps must be one of 12, 15, 23.976, 24, 25, 29.97, 30, 48, 50, 59.94, 60",
                )
            })?,
    };
    Ok((w, h, fps))
}

fn number(v: Option<&Value>, field: &str, default: f64) -> Result<f64, Failure> {
    match v {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_f64()
            .filter(|n| n.is_finite() && *n >= 0.0)
            .ok_or_else(|| Failure::invalid(field, "must be a number of at least 0")),
    }
}

/// A volume: a number in 0..=1; tweens (arrays) play at full volume here
fn volume(v: Option<&Value>, field: &str) -> Result<f64, Failure> {
    match v {
        Some(Value::Array(_)) => Ok(1.0),
        other => {
            let n = number(other, field, 1.0)?;
            if n > 1.0 {
                return Err(Failure::invalid(field, "must be between 0 and 1"));
            }
            Ok(n)
        }
    }
}

fn src(a: &Map<String, Value>, field: &str) -> Result<String, Failure> {
    super::url_field(super::opt_str(a, "src")?, &format!("{field}.src"))?
        .ok_or_else(|| Failure::invalid(&format!("{field}.src"), "src is required"))
}

fn asset(a: &Map<String, Value>, clip: &Map<String, Value>, at: &str) -> Result<Asset, Failure> {
    let field = format!("{at}.asset");
    let kind = super::opt_str(a, "type")?
        .ok_or_else(|| Failure::invalid(&format!("{field}.type"), "type is required"))?;
    let trim = number(a.get("trim"), &format!("{field}.trim"), 0.0)?;
    Ok(match kind {
        "video" | "image" => Asset::Visual {
            src: src(a, &field)?,
            image: kind == "image",
            trim,
            volume: volume(a.get("volume"), &format!("{field}.volume"))?,
            fit: match super::opt_enum(clip, "fit", &FITS)?.unwrap_or("crop") {
                "cover" => Fit::Cover,
                "contain" => Fit::Contain,
                "none" => Fit::None,
                _ => Fit::Crop,
            },
        },
        "audio" => Asset::Audio {
            src: src(a, &field)?,
            trim,
            volume: volume(a.get("volume"), &format!("{field}.volume"))?,
        },
        "html" | "title" | "text" => {
            let raw = if kind == "html" {
                super::opt_str(a, "html")?
            } else {
                super::opt_str(a, "text")?
            }
            .ok_or_else(|| Failure::invalid(&format!("{field}.{kind}"), "text is required"))?;
            let px = |k: &str| {
                a.get(k)
                    .and_then(Value::as_u64)
                    .and_then(|v| u32::try_from(v).ok())
            };
            let offset = clip.get("offset");
            let off = |k: &str| {
                offset
                    .and_then(|o| o.get(k))
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0)
            };
            Asset::Text {
                text: plain_text(raw),
                width: px("width"),
                height: px("height"),
                background: super::opt_str(a, "background")?.map(str::to_string),
                position: super::opt_enum(clip, "position", &POSITIONS)?
                    .unwrap_or("center")
                    .to_string(),
                offset: (off("x"), off("y")),
            }
        }
        other => {
            return Err(Failure::invalid(
                &format!("{field}.type"),
                format!("asset type {other:?} is not supported by the simulator"),
            ));
        }
    })
}

/// The words of an HTML fragment: tags dropped, the common entities decoded
fn plain_text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Checks an Edit and resolves it for rendering
fn parse_edit(m: &Map<String, Value>) -> Result<Edit, Failure> {
    let timeline = m
        .get("timeline")
        .and_then(Value::as_object)
        .ok_or_else(|| Failure::invalid("timeline", "timeline is required"))?;
    let output = m
        .get("output")
        .and_then(Value::as_object)
        .ok_or_else(|| Failure::invalid("output", "output is required"))?;
    match super::opt_str(output, "format")? {
        Some("mp4") => {}
        Some(other) => {
            return Err(Failure::invalid(
                "output.format",
                format!("the simulator renders mp4 only, not {other:?}"),
            ));
        }
        None => return Err(Failure::invalid("output.format", "format is required")),
    }
    let (width, height, fps) = frame(output)?;
    let tracks = timeline
        .get("tracks")
        .and_then(Value::as_array)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Failure::invalid("timeline.tracks", "tracks must be a non-empty array"))?;

    // Clips with their length still open when it is "end"
    let mut clips: Vec<(Clip, bool)> = Vec::new();
    // Tracks are listed top first; render bottom first
    for (ti, track) in tracks.iter().enumerate().rev() {
        let at = format!("timeline.tracks.{ti}.clips");
        let list = track
            .get("clips")
            .and_then(Value::as_array)
            .ok_or_else(|| Failure::invalid(&at, "clips must be an array"))?;
        let mut previous_end = 0.0;
        for (ci, clip) in list.iter().enumerate() {
            let at = format!("{at}.{ci}");
            let clip = clip
                .as_object()
                .ok_or_else(|| Failure::invalid(&at, "a clip must be an object"))?;
            let a = clip
                .get("asset")
                .and_then(Value::as_object)
                .ok_or_else(|| Failure::invalid(&format!("{at}.asset"), "asset is required"))?;
            let start = match clip.get("start") {
                Some(Value::String(s)) if s == "auto" => previous_end,
                v => number(v, &format!("{at}.start"), f64::NAN)?,
            };
            if start.is_nan() {
                return Err(Failure::invalid(
                    &format!("{at}.start"),
                    "start is required",
                ));
            }
            let (length, to_end) = match clip.get("length") {
                Some(Value::String(s)) if s == "end" => (0.0, true),
                Some(Value::String(s)) if s == "auto" => {
                    return Err(Failure::invalid(
                        &format!("{at}.length"),
                        "the simulator needs a number or \"end\" as length",
                    ));
                }
                v => match number(v, &format!("{at}.length"), 0.0)? {
                    l if l > 0.0 => (l, false),
                    _ => {
                        return Err(Failure::invalid(
                            &format!("{at}.length"),
                            "length must be a number above 0",
                        ));
                    }
                },
            };
            previous_end = start + length;
            clips.push((
                Clip {
                    asset: asset(a, clip, &at)?,
                    start,
                    length,
                },
                to_end,
            ));
        }
    }
    let duration = clips
        .iter()
        .filter(|(_, to_end)| !to_end)
        .map(|(c, _)| c.start + c.length)
        .fold(0.0, f64::max);
    if duration <= 0.0 {
        return Err(Failure::invalid(
            "timeline.tracks",
            "the edit has no clip with a length",
        ));
    }
    if duration > MAX_DURATION_S {
        return Err(Failure::invalid(
            "timeline.tracks",
            "the simulator renders edits of at most one hour",
        ));
    }
    let clips: Vec<Clip> = clips
        .into_iter()
        .map(|(mut c, to_end)| {
            if to_end {
                c.length = (duration - c.start).max(0.0);
            }
            c
        })
        .filter(|c| c.length > 0.0)
        .collect();
    let soundtrack = match timeline.get("soundtrack").and_then(Value::as_object) {
        None => None,
        Some(s) => Some((
            src(s, "timeline.soundtrack")?,
            volume(s.get("volume"), "timeline.soundtrack.volume")?,
        )),
    };
    let background = super::opt_str(timeline, "background")?
        .unwrap_or("#000000")
        .to_string();
    let poster = match output.get("poster") {
        None | Some(Value::Null) => None,
        Some(p) => Some(number(p.get("capture"), "output.poster.capture", 0.0)?),
    };
    Ok(Edit {
        width,
        height,
        fps,
        duration,
        background,
        clips,
        soundtrack,
        poster,
    })
}

async fn submit(sim: &Sim, req: &SimRequest) -> Response {
    let m = match req.json_object() {
        Ok(m) => m,
        Err(e) => return reject(sim, P, &Failure::body(e)),
    };
    let edit = match parse_edit(&m) {
        Ok(e) => e,
        Err(f) => return reject(sim, P, &f),
    };
    let callback =
        match super::opt_str(&m, "callback").and_then(|u| super::url_field(u, "callback")) {
            Ok(u) => u,
            Err(f) => return reject(sim, P, &f),
        };
    let mut sub = Submission::new("edit-v1", "", Value::Object(m));
    sub.seconds = edit.duration;
    sub.callback_url = callback;
    match admit(sim, P, req, sub).await {
        Ok(Admission::New(t) | Admission::Replay(t)) => {
            ensure_started(sim, &t);
            http::json(
                StatusCode::CREATED,
                &json!({
                    "success": true,
                    "message": "Created",
                    "response": {"message": "Render Successfully Queued", "id": t.id},
                }),
            )
        }
        Err(r) => r,
    }
}

// ---- Renders in progress and done ----

/// The files of a finished render
#[derive(Debug)]
struct Files {
    video: Vec<u8>,
    poster: Option<Vec<u8>>,
    render_ms: u64,
}

#[derive(Debug, Clone)]
enum Progress {
    Fetching,
    Rendering,
    Saving,
    Done(Arc<Files>),
    Failed(String),
}

#[derive(Debug)]
struct Entry {
    progress: Progress,
    /// Callbacks that came due before the render finished, sent when it does
    owed_callbacks: u32,
    updated_unix_ms: u64,
}

/// Renders by simulator and task (several simulators may share a process in tests)
fn renders() -> &'static Mutex<HashMap<String, Entry>> {
    static RENDERS: OnceLock<Mutex<HashMap<String, Entry>>> = OnceLock::new();
    RENDERS.get_or_init(|| Mutex::new(HashMap::new()))
}

fn with_renders<R>(f: impl FnOnce(&mut HashMap<String, Entry>) -> R) -> R {
    let mut guard = renders().lock().unwrap_or_else(PoisonError::into_inner);
    f(&mut guard)
}

fn render_key(sim: &Sim, id: &str) -> String {
    format!("{}|{id}", sim.public_url())
}

fn set_progress(sim: &Sim, id: &str, progress: Progress) {
    let key = render_key(sim, id);
    with_renders(|r| {
        if let Some(e) = r.get_mut(&key) {
            e.progress = progress;
            e.updated_unix_ms = util::now_unix_ms();
        }
    });
}

fn semaphore() -> &'static Semaphore {
    static RENDERING: OnceLock<Semaphore> = OnceLock::new();
    RENDERING.get_or_init(|| Semaphore::new(PARALLEL_RENDERS))
}

/// Starts the task's render unless it has one (a task made by an accepted timeout fault, or
/// one a reset forgot, starts on its first poll)
fn ensure_started(sim: &Sim, t: &Task) {
    let key = render_key(sim, &t.id);
    let prefix = format!("{}|", sim.public_url());
    let fresh = with_renders(|r| {
        if r.contains_key(&key) {
            return false;
        }
        // Forget the renders of tasks this simulator no longer has (a reset)
        r.retain(|k, _| {
            k.strip_prefix(&prefix)
                .is_none_or(|id| sim.task(P, id).is_some())
        });
        r.insert(
            key.clone(),
            Entry {
                progress: Progress::Fetching,
                owed_callbacks: 0,
                updated_unix_ms: util::now_unix_ms(),
            },
        );
        true
    });
    if !fresh {
        return;
    }
    let sim = sim.clone();
    let task = t.clone();
    tokio::spawn(async move {
        let started = Instant::now();
        let result = match task.input.as_object().map(parse_edit) {
            Some(Ok(edit)) => {
                let per_shape = sim.config().masters_per_shape;
                match per_shape
                    .then(|| shotstack_masters::cell(shape(&edit)))
                    .flatten()
                {
                    Some(cell) => composed_once(&sim, &task.id, &edit, &cell).await,
                    None => {
                        let _permit = semaphore().acquire().await;
                        render(&sim, &task.id, &edit).await
                    }
                }
            }
            Some(Err(f)) => Err(f.message()),
            None => Err("the edit is not an object".to_string()),
        };
        let progress = match result {
            Ok((video, poster)) => Progress::Done(Arc::new(Files {
                video,
                poster,
                render_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            })),
            Err(e) => {
                eprintln!("sim: shotstack render {} failed: {e}", task.id);
                Progress::Failed(e)
            }
        };
        let owed = with_renders(|r| {
            r.get_mut(&key).map_or(0, |e| {
                e.progress = progress;
                e.updated_unix_ms = util::now_unix_ms();
                std::mem::take(&mut e.owed_callbacks)
            })
        });
        for _ in 0..owed {
            let Some(current) = sim.task(P, &task.id) else {
                return;
            };
            if current.epoch != task.epoch || sim.is_shutting_down() {
                return;
            }
            if let Some(out) = callback(&sim, &current, Phase::Done) {
                delivery::deliver_for(&sim, &current, Phase::Done, &out).await;
            }
        }
    });
}

/// What a task shows at `now`: Shotstack's status and, when failed, the error
fn state(sim: &Sim, t: &Task, now: Instant) -> (&'static str, String, Option<Arc<Files>>) {
    let phase = t.phase_at(now);
    if phase == Phase::Queued {
        return ("queued", String::new(), None);
    }
    if phase == Phase::Done {
        match &t.outcome {
            Outcome::Succeeded => {}
            Outcome::Moderated => {
                return (
                    "failed",
                    "Render failed: the edit was refused".to_string(),
                    None,
                );
            }
            Outcome::Failed(reason) => return ("failed", reason.clone(), None),
        }
    }
    let progress = with_renders(|r| r.get(&render_key(sim, &t.id)).map(|e| e.progress.clone()));
    match (progress, phase) {
        (None | Some(Progress::Fetching), _) => ("fetching", String::new(), None),
        (Some(Progress::Rendering), _) => ("rendering", String::new(), None),
        (Some(Progress::Saving), _) => ("saving", String::new(), None),
        (Some(Progress::Failed(e)), _) => ("failed", e, None),
        (Some(Progress::Done(_)), Phase::Running | Phase::Queued) => {
            ("rendering", String::new(), None)
        }
        (Some(Progress::Done(files)), Phase::Done) => ("done", String::new(), Some(files)),
    }
}

fn video_url(sim: &Sim, id: &str) -> String {
    sim.url(P, &format!("output/{id}.mp4"))
}

fn poster_url(sim: &Sim, id: &str) -> String {
    sim.url(P, &format!("output/{id}-poster.jpg"))
}

/// The status answer
fn status(sim: &Sim, t: &Task, now: Instant) -> Value {
    let (status, error, files) = state(sim, t, now);
    let updated = with_renders(|r| {
        r.get(&render_key(sim, &t.id))
            .map_or(t.created_unix_ms, |e| e.updated_unix_ms)
    });
    let mut response = json!({
        "id": t.id,
        "owner": OWNER,
        "plan": "sandbox",
        "status": status,
        "error": error,
        "duration": t.seconds,
        "renderTime": files.as_ref().map_or(0, |f| f.render_ms),
        "url": Value::Null,
        "poster": Value::Null,
        "thumbnail": Value::Null,
        "created": util::rfc3339(t.created_unix_ms),
        "updated": util::rfc3339(updated),
    });
    if let Some(files) = files {
        response["url"] = json!(video_url(sim, &t.id));
        if files.poster.is_some() {
            response["poster"] = json!(poster_url(sim, &t.id));
        }
    }
    json!({"success": true, "message": "OK", "response": response})
}

/// The callback at `phase` (only `done` is scheduled): Shotstack's edit payload once the render
/// has ended; while it still runs, nothing now and the payload when it finishes
pub fn callback(sim: &Sim, t: &Task, phase: Phase) -> Option<Outgoing> {
    let url = t.callback_url.as_deref()?;
    if phase != Phase::Done {
        return None;
    }
    if t.outcome == Outcome::Succeeded {
        ensure_started(sim, t);
        // Checked and owed under one lock, so a render finishing now cannot miss the debt
        let running = with_renders(|r| match r.get_mut(&render_key(sim, &t.id)) {
            Some(e) if !matches!(e.progress, Progress::Done(_) | Progress::Failed(_)) => {
                e.owed_callbacks += 1;
                true
            }
            _ => false,
        });
        if running {
            return None;
        }
    }
    let (status, error, _) = state(sim, t, t.ready_at().max(Instant::now()));
    let body = json!({
        "type": "edit",
        "action": "render",
        "id": t.id,
        "owner": OWNER,
        "status": status,
        "url": if status == "done" { json!(video_url(sim, &t.id)) } else { Value::Null },
        "error": if error.is_empty() { Value::Null } else { json!(error) },
        "completed": util::rfc3339(util::now_unix_ms()),
    });
    Some(Outgoing::json(url, &body, Signer::None))
}

/// Serves `{id}.mp4` or `{id}-poster.jpg`
fn serve(sim: &Sim, file: &str) -> Response {
    let (id, poster) = if let Some(id) = file.strip_suffix("-poster.jpg") {
        (id, true)
    } else if let Some(id) = file.strip_suffix(".mp4") {
        (id, false)
    } else {
        return not_found();
    };
    let task = match super::output(sim, P, id) {
        Ok(t) => t,
        // S3 answers a deleted object of a private bucket with 403 AccessDenied
        Err(Some(crate::state::Unavailable::Expired)) => {
            return http::raw(
                StatusCode::FORBIDDEN,
                "application/xml",
                b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>".to_vec(),
            );
        }
        Err(_) => return not_found(),
    };
    let (status, _, files) = state(sim, &task, Instant::now());
    let Some(files) = files.filter(|_| status == "done") else {
        return not_found();
    };
    let (bytes, content_type) = if poster {
        match &files.poster {
            Some(p) => (p.clone(), "image/jpeg"),
            None => return not_found(),
        }
    } else {
        (files.video.clone(), "video/mp4")
    };
    sim.with(|s| bump(&mut s.stats.downloads, P.as_str()));
    // A full body: axum sends its Content-Length
    http::raw(StatusCode::OK, content_type, bytes)
}

fn not_found() -> Response {
    http::raw(StatusCode::NOT_FOUND, "text/plain", b"Not Found".to_vec())
}

// ---- Rendering with ffmpeg ----

/// Fetches, renders and reads back one edit; the error is the render's `error`
async fn render(sim: &Sim, id: &str, edit: &Edit) -> Result<Rendered, String> {
    let dir = work_dir(id).await?;
    let result = render_in(sim, id, edit, &dir).await;
    let _ = tokio::fs::remove_dir_all(&dir).await;
    result
}

/// A scratch directory of its own for one render
async fn work_dir(id: &str) -> Result<PathBuf, String> {
    // Render ids come from the simulator's seeded generator, so two simulators in one
    // process (tests run side by side) hand out the same ids.
    let seq = util::next_in_process();
    let dir = std::env::temp_dir().join(format!(
        "creatorstudio-sim-shotstack-{}-{seq}-{id}",
        std::process::id()
    ));
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| format!("Render failed: work directory {}: {e}", dir.display()))?;
    Ok(dir)
}

/// The edit's shape, for `SIM_MASTERS=per-shape`
fn shape(edit: &Edit) -> Shape {
    Shape {
        width: edit.width,
        height: edit.height,
        fps: edit.fps.to_bits(),
        duration: edit.duration.to_bits(),
        poster: edit.poster.map(f64::to_bits),
    }
}

/// The master of `edit`'s shape (`SIM_MASTERS=per-shape`): the first edit of the shape composes
/// it, later ones still fetch every source (the orchestrator serves those downloads as it
/// would for a real render) and get that master. Edits that arrive while the first composes
/// wait for it.
async fn composed_once(
    sim: &Sim,
    id: &str,
    edit: &Edit,
    master: &tokio::sync::OnceCell<Rendered>,
) -> Result<Rendered, String> {
    if let Some(done) = master.get() {
        let dir = work_dir(id).await?;
        let fetched = fetch_sources(sim, edit, &dir).await;
        let _ = tokio::fs::remove_dir_all(&dir).await;
        fetched?;
        return Ok(done.clone());
    }
    master
        .get_or_try_init(|| async {
            let _permit = semaphore().acquire().await;
            render(sim, id, edit).await
        })
        .await
        .cloned()
}

/// Every source of `edit` fetched into `dir`, once per use (each is one ffmpeg input), in the
/// order of the clips then the soundtrack
async fn fetch_sources(sim: &Sim, edit: &Edit, dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut sources = Vec::new();
    for clip in &edit.clips {
        if let Asset::Visual { src, .. } | Asset::Audio { src, .. } = &clip.asset {
            sources.push(src.clone());
        }
    }
    if let Some((src, _)) = &edit.soundtrack {
        sources.push(src.clone());
    }
    let mut files = Vec::with_capacity(sources.len());
    let mut fetched: HashMap<String, PathBuf> = HashMap::new();
    for (i, url) in sources.iter().enumerate() {
        let path = match fetched.get(url) {
            Some(p) => p.clone(),
            None => {
                let p = dir.join(format!("source-{i}"));
                fetch(sim, url, &p).await?;
                fetched.insert(url.clone(), p.clone());
                p
            }
        };
        files.push(path);
    }
    Ok(files)
}

async fn render_in(sim: &Sim, id: &str, edit: &Edit, dir: &Path) -> Result<Rendered, String> {
    let files = fetch_sources(sim, edit, dir).await?;
    set_progress(sim, id, Progress::Rendering);
    let mut with_sound = Vec::new();
    let mut n = 0;
    for clip in &edit.clips {
        match &clip.asset {
            Asset::Visual {
                image: false,
                volume,
                ..
            } => {
                let has = *volume > 0.0
                    && match files.get(n) {
                        Some(f) => has_audio(f).await,
                        None => false,
                    };
                with_sound.push(has);
                n += 1;
            }
            Asset::Visual { .. } | Asset::Audio { .. } => {
                with_sound.push(false);
                n += 1;
            }
            Asset::Text { .. } => with_sound.push(false),
        }
    }
    let (args, texts) = ffmpeg_args(edit, &files, &with_sound, Path::new(FONT).exists());
    for (name, text) in texts {
        tokio::fs::write(dir.join(&name), text)
            .await
            .map_err(|e| format!("Render failed: {e}"))?;
    }
    run_ffmpeg(&args, dir).await?;
    let poster = match edit.poster {
        Some(capture) => {
            let at = capture.min(edit.duration - 1.0 / edit.fps).max(0.0);
            let args: Vec<String> = [
                "-y",
                "-hide_banner",
                "-v",
                "error",
                "-ss",
                &secs(at),
                "-i",
                "output.mp4",
                "-frames:v",
                "1",
                "-q:v",
                "3",
                "poster.jpg",
            ]
            .iter()
            .map(|s| (*s).to_string())
            .collect();
            run_ffmpeg(&args, dir).await?;
            Some(())
        }
        None => None,
    };
    set_progress(sim, id, Progress::Saving);
    let video = tokio::fs::read(dir.join("output.mp4"))
        .await
        .map_err(|e| format!("Render failed: {e}"))?;
    let poster = match poster {
        Some(()) => Some(
            tokio::fs::read(dir.join("poster.jpg"))
                .await
                .map_err(|e| format!("Render failed: {e}"))?,
        ),
        None => None,
    };
    Ok((video, poster))
}

/// Downloads `url` to `path` with a size cap; the error is Shotstack's "Error fetching asset"
async fn fetch(sim: &Sim, url: &str, path: &Path) -> Result<(), String> {
    let fail = |why: String| format!("Error fetching asset {url}: {why}");
    let mut resp = sim
        .client()
        .get(url)
        .timeout(FETCH_TIMEOUT)
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(fail(format!("HTTP {}", resp.status().as_u16())));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| fail(e.to_string()))? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > MAX_SOURCE_BYTES {
            return Err(fail(format!("larger than {MAX_SOURCE_BYTES} bytes")));
        }
    }
    tokio::fs::write(path, bytes)
        .await
        .map_err(|e| fail(e.to_string()))
}

/// Whether a file has an audio stream (ffprobe; false when it cannot tell)
async fn has_audio(path: &Path) -> bool {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "a",
            "-show_entries",
            "stream=index",
        ])
        .args(["-of", "csv=p=0"])
        .arg(path)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(Duration::from_secs(30), out).await {
        Ok(Ok(o)) => o.status.success() && !o.stdout.trim_ascii().is_empty(),
        _ => false,
    }
}

/// Runs ffmpeg in `dir`; a failure is the render's error with the end of ffmpeg's stderr
async fn run_ffmpeg(args: &[String], dir: &Path) -> Result<(), String> {
    let child = Command::new("ffmpeg")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                "Render failed: ffmpeg is not installed (apt-get install ffmpeg)".to_string()
            } else {
                format!("Render failed: cannot start ffmpeg: {e}")
            }
        })?;
    let out = match tokio::time::timeout(FFMPEG_TIMEOUT, child.wait_with_output()).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => return Err(format!("Render failed: ffmpeg: {e}")),
        Err(_) => {
            return Err(format!(
                "Render failed: ffmpeg did not finish within {} s",
                FFMPEG_TIMEOUT.as_secs()
            ));
        }
    };
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(4).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(format!("Render failed: ffmpeg: {}", tail.join(" | ")))
}

fn secs(s: f64) -> String {
    format!("{s:.3}")
}

/// `#RRGGBB` or Shotstack's `#AARRGGBB` as an ffmpeg colour; `None` when it is neither
fn colour(c: &str) -> Option<String> {
    let hex = c.strip_prefix('#')?;
    if !hex.chars().all(|ch| ch.is_ascii_hexdigit()) {
        return None;
    }
    match hex.len() {
        6 => Some(format!("0x{hex}")),
        8 => {
            let alpha = u8::from_str_radix(&hex[..2], 16).ok()?;
            Some(format!("0x{}@{:.3}", &hex[2..], f64::from(alpha) / 255.0))
        }
        _ => None,
    }
}

/// Where a box of `w`x`h` sits in a `W`x`H` frame at `position`, moved by `offset` (x to the
/// right, y up, as fractions of the frame)
fn place(
    position: &str,
    (fw, fh): (u32, u32),
    (w, h): (u32, u32),
    (ox, oy): (f64, f64),
) -> (i64, i64) {
    let (fw, fh, w, h) = (i64::from(fw), i64::from(fh), i64::from(w), i64::from(h));
    let x = match position {
        "topLeft" | "left" | "bottomLeft" => 0,
        "topRight" | "right" | "bottomRight" => fw - w,
        _ => (fw - w) / 2,
    };
    let y = match position {
        "topLeft" | "top" | "topRight" => 0,
        "bottomLeft" | "bottom" | "bottomRight" => fh - h,
        _ => (fh - h) / 2,
    };
    let x = x + (ox * fw as f64).round() as i64;
    let y = y - (oy * fh as f64).round() as i64;
    (x.clamp(0, (fw - w).max(0)), y.clamp(0, (fh - h).max(0)))
}

/// The ffmpeg arguments of an edit, and the text files its drawtext filters read
fn ffmpeg_args(
    edit: &Edit,
    files: &[PathBuf],
    with_sound: &[bool],
    font: bool,
) -> (Vec<String>, Vec<(String, String)>) {
    let (w, h, fps, t) = (edit.width, edit.height, edit.fps, edit.duration);
    let mut inputs: Vec<String> = Vec::new();
    let mut graph: Vec<String> = Vec::new();
    let mut texts = Vec::new();
    let bg = colour(&edit.background).unwrap_or_else(|| "black".into());
    graph.push(format!(
        "color=c={bg}:s={w}x{h}:r={fps}:d={},format=yuv420p[c0]",
        secs(t)
    ));
    let mut current = 0;
    let mut sounds: Vec<String> = Vec::new();
    let mut file = files.iter();
    let mut input = 0usize;
    let audio_chain = |k: usize, trim: f64, start: f64, length: f64, vol: f64, label: &str| {
        format!(
            "[{k}:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,atrim=start={}:duration={},asetpts=PTS-STARTPTS,volume={vol:.3},adelay=delays={}:all=1[{label}]",
            secs(trim),
            secs(length),
            (start * 1000.0).round() as u64
        )
    };
    for (i, clip) in edit.clips.iter().enumerate() {
        let (s, l) = (clip.start, clip.length);
        let enable = format!("enable='between(t,{},{})'", secs(s), secs(s + l));
        match &clip.asset {
            Asset::Visual {
                image,
                trim,
                volume,
                fit,
                ..
            } => {
                let Some(path) = file.next() else { continue };
                if *image {
                    inputs.extend([
                        "-loop".into(),
                        "1".into(),
                        "-framerate".into(),
                        format!("{fps}"),
                    ]);
                    inputs.extend(["-t".into(), secs(trim + l + 1.0)]);
                }
                inputs.extend(["-i".into(), path.display().to_string()]);
                let scale = match fit {
                    Fit::Crop => {
                        format!("scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h}")
                    }
                    Fit::Cover => format!("scale={w}:{h}"),
                    Fit::Contain => format!(
                        "scale={w}:{h}:force_original_aspect_ratio=decrease:force_divisible_by=2,pad={w}:{h}:(ow-iw)/2:(oh-ih)/2"
                    ),
                    Fit::None => {
                        format!("crop='min(iw,{w})':'min(ih,{h})',pad={w}:{h}:(ow-iw)/2:(oh-ih)/2")
                    }
                };
                graph.push(format!(
                    "[{input}:v]trim=start={},setpts=PTS-STARTPTS,fps={fps},{scale},setsar=1,format=yuv420p,tpad=stop_mode=clone:stop_duration={},trim=duration={},setpts=PTS-STARTPTS+{}/TB[v{i}]",
                    secs(*trim),
                    secs(l),
                    secs(l),
                    secs(s)
                ));
                graph.push(format!(
                    "[c{current}][v{i}]overlay=eof_action=pass[c{}]",
                    current + 1
                ));
                current += 1;
                if with_sound.get(i).copied().unwrap_or(false) {
                    let label = format!("a{}", sounds.len());
                    graph.push(audio_chain(input, *trim, s, l, *volume, &label));
                    sounds.push(label);
                }
                input += 1;
            }
            Asset::Audio { trim, volume, .. } => {
                let Some(path) = file.next() else { continue };
                inputs.extend(["-i".into(), path.display().to_string()]);
                let label = format!("a{}", sounds.len());
                graph.push(audio_chain(input, *trim, s, l, *volume, &label));
                sounds.push(label);
                input += 1;
            }
            Asset::Text {
                text,
                width,
                height,
                background,
                position,
                offset,
            } => {
                let bw = width.unwrap_or(w / 2).min(w);
                let bh = height.unwrap_or(h / 5).min(h);
                let (x, y) = place(position, (w, h), (bw, bh), *offset);
                let mut filters = Vec::new();
                if let Some(c) = background.as_deref().and_then(colour) {
                    filters.push(format!(
                        "drawbox=x={x}:y={y}:w={bw}:h={bh}:color={c}:t=fill:{enable}"
                    ));
                }
                if font && !text.is_empty() {
                    let name = format!("text-{i}.txt");
                    let size = (bh * 6 / 10).max(8);
                    filters.push(format!(
                        "drawtext=fontfile={FONT}:textfile={name}:fontcolor=white:fontsize={size}:x={x}+({bw}-text_w)/2:y={y}+({bh}-text_h)/2:{enable}"
                    ));
                    texts.push((name, text.clone()));
                }
                if !filters.is_empty() {
                    graph.push(format!(
                        "[c{current}]{}[c{}]",
                        filters.join(","),
                        current + 1
                    ));
                    current += 1;
                }
            }
        }
    }
    if let (Some((_, vol)), Some(path)) = (&edit.soundtrack, file.next()) {
        inputs.extend(["-i".into(), path.display().to_string()]);
        let label = format!("a{}", sounds.len());
        graph.push(audio_chain(input, 0.0, 0.0, t, *vol, &label));
        sounds.push(label);
    }
    graph.push(format!(
        "[c{current}]trim=duration={},setpts=PTS-STARTPTS,format=yuv420p[vout]",
        secs(t)
    ));
    if sounds.is_empty() {
        graph.push(format!(
            "anullsrc=r=48000:cl=stereo,atrim=duration={}[aout]",
            secs(t)
        ));
    } else {
        let labels: String = sounds.iter().map(|l| format!("[{l}]")).collect();
        graph.push(format!(
            "{labels}amix=inputs={}:duration=longest:normalize=0,apad,atrim=duration={}[aout]",
            sounds.len(),
            secs(t)
        ));
    }
    let mut args: Vec<String> = ["-y", "-hide_banner", "-v", "error"]
        .iter()
        .map(|s| (*s).to_string())
        .collect();
    args.extend(inputs);
    args.extend([
        "-filter_complex".into(),
        graph.join(";"),
        "-map".into(),
        "[vout]".into(),
        "-map".into(),
        "[aout]".into(),
    ]);
    for a in [
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "23",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-ar",
        "48000",
        "-b:a",
        "128k",
        "-movflags",
        "+faststart",
    ] {
        args.push(a.to_string());
    }
    args.extend([
        "-r".into(),
        format!("{fps}"),
        "-t".into(),
        secs(t),
        "output.mp4".into(),
    ]);
    (args, texts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(body: Value) -> Result<Edit, Failure> {
        parse_edit(body.as_object().unwrap())
    }

    #[test]
    fn presets_shape_the_frame_and_lengths_resolve() {
        let e = edit(json!({
            "timeline": {"tracks": [
                {"clips": [{"asset": {"type": "html", "html": "<p>Made with <b>CreatorStudio</b></p>"},
                            "start": 0, "length": "end", "position": "topRight"}]},
                {"clips": [
                    {"asset": {"type": "video", "src": "http://127.0.0.1:1/a.mp4"}, "start": 0, "length": 2.5},
                    {"asset": {"type": "video", "src": "http://127.0.0.1:1/b.mp4", "trim": 1}, "start": "auto", "length": 1.5}
                ]}
            ]},
            "output": {"format": "mp4", "resolution": "mobile", "aspectRatio": "9:16", "fps": 30, "poster": {"capture": 1}}
        }))
        .unwrap();
        assert_eq!((e.width, e.height, e.fps), (360, 640, 30.0));
        assert_eq!(e.duration, 4.0);
        // Bottom track first; "auto" starts after the previous clip; "end" runs to the end
        assert_eq!(e.clips[1].start, 2.5);
        assert_eq!(e.clips[2].length, 4.0);
        assert!(
            matches!(&e.clips[2].asset, Asset::Text { text, .. } if text == "Made with CreatorStudio")
        );
        assert_eq!(e.poster, Some(1.0));
        let frame = |res: &str, aspect: &str| {
            let o = json!({"format": "mp4", "resolution": res, "aspectRatio": aspect});
            let (w, h, _) = frame(o.as_object().unwrap()).unwrap();
            (w, h)
        };
        assert_eq!(frame("1080", "16:9"), (1920, 1080));
        assert_eq!(frame("sd", "16:9"), (1024, 576));
        assert_eq!(frame("preview", "16:9"), (512, 288));
        assert_eq!(frame("mobile", "1:1"), (360, 360));
        assert_eq!(frame("hd", "4:5"), (720, 900));
    }

    #[test]
    fn invalid_edits_name_the_path() {
        let no_src = edit(json!({
            "timeline": {"tracks": [{"clips": [{"asset": {"type": "video"}, "start": 0, "length": 1}]}]},
            "output": {"format": "mp4"}
        }));
        assert_eq!(
            no_src.unwrap_err(),
            Failure::invalid("timeline.tracks.0.clips.0.asset.src", "src is required")
        );
        let gif = edit(json!({"timeline": {"tracks": []}, "output": {"format": "gif"}}));
        assert!(
            matches!(gif, Err(Failure::Invalid { field: Some(f), .. }) if f == "output.format")
        );
        let (status, body) = error(&Failure::invalid("timeline.tracks.1.clips.0.length", "bad"));
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body["response"]["error"]["details"][0]["path"],
            json!(["timeline", "tracks", 1, "clips", 0, "length"])
        );
    }

    #[test]
    fn boxes_sit_inside_the_frame() {
        assert_eq!(
            place("topRight", (640, 360), (100, 20), (-0.02, -0.1)),
            (527, 36)
        );
        assert_eq!(
            place("center", (640, 360), (100, 20), (0.0, 0.0)),
            (270, 170)
        );
        assert_eq!(
            place("bottomLeft", (640, 360), (100, 20), (-1.0, -1.0)),
            (0, 340)
        );
        assert_eq!(colour("#66000000").as_deref(), Some("0x000000@0.400"));
        assert_eq!(colour("#ffffff").as_deref(), Some("0xffffff"));
        assert_eq!(colour("red"), None);
    }
}
