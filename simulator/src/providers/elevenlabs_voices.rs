//! ElevenLabs voices: a small library in the real shape, and instant voice clones.
//!
//! - `GET /elevenlabs/v2/voices` (`xi-api-key`; `page_size` 1..=100, default 10; `search` over
//!   name, description and labels; `sort` `name` or `created_at_unix`, `sort_direction`;
//!   `category`; `next_page_token`) -> `{voices: [{voice_id, name, category, labels: {accent,
//!   age, gender, descriptive, use_case, language}, description, preview_url, ...}], has_more,
//!   total_count, next_page_token}`
//!   (<https://elevenlabs.io/docs/api-reference/voices/search>; the SDK's `GetVoicesV2Response`)
//! - `GET /elevenlabs/v1/voices` -> `{voices: [...]}`, every voice
//! - `GET /elevenlabs/v1/voices/{voice_id}` -> one voice, or 404 `voice_not_found`
//! - `POST /elevenlabs/v1/voices/add`, `multipart/form-data`: `name` (required), one or more
//!   `files` (audio), `description`, `labels` (a JSON object as text), `remove_background_noise`
//!   -> `{voice_id, requires_verification: false}`; the clone joins the library as `cloned`
//!   (<https://elevenlabs.io/docs/api-reference/voices/ivc/create>). A file that is not audio
//!   (by its magic bytes) is a 422 naming `files`, as the real API refuses unreadable samples.
//!
//! The premade voices are real ones (ids and names as ElevenLabs' default voices), with labels
//! in the API's vocabulary, so casting on the simulator exercises what it will meet.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};

use super::{Failure, Provider, reject};
use crate::http::{self, SimRequest};
use crate::state::Sim;
use crate::util;

const P: Provider = Provider::Elevenlabs;
/// The API's page size when none is asked for, and its cap
const DEFAULT_PAGE: usize = 10;
const MAX_PAGE: usize = 100;
/// The most files one clone takes (as ElevenLabs' instant clones)
const MAX_FILES: usize = 25;

/// One premade voice: (voice id, name, gender, age, accent, descriptive, use case, description)
type Premade = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const PREMADE: [Premade; 12] = [
    (
        "21m00Tcm4TlvDq8ikWAM",
        "Rachel",
        "female",
        "young",
        "american",
        "calm",
        "narration",
        "Matter-of-fact, calm and clear.",
    ),
    (
        "AZnzlk1XvdvUeBnXmlld",
        "Domi",
        "female",
        "young",
        "american",
        "strong",
        "characters",
        "A strong, confident young woman.",
    ),
    (
        "EXAVITQu4vr4xnSDxMaL",
        "Sarah",
        "female",
        "young",
        "american",
        "soft",
        "conversational",
        "Soft, warm and friendly.",
    ),
    (
        "XB0fDUnXU5powFXDhCwa",
        "Charlotte",
        "female",
        "middle_aged",
        "swedish",
        "seductive",
        "characters",
        "A husky, playful voice for characters.",
    ),
    (
        "ThT5KcBeYPX3keUQqHPh",
        "Dorothy",
        "female",
        "old",
        "british",
        "warm",
        "narration",
        "A warm, gentle grandmother telling stories.",
    ),
    (
        "pFZP5JQG7iQjIQuC4Bku",
        "Lily",
        "female",
        "middle_aged",
        "british",
        "warm",
        "narration",
        "Velvety British narrator.",
    ),
    (
        "JBFqnCBsd6RMkjVDRZzb",
        "George",
        "male",
        "old",
        "british",
        "deep",
        "narration",
        "A deep, gravelly, weathered British voice.",
    ),
    (
        "N2lVS1w4EtoT3dr4eOWO",
        "Callum",
        "male",
        "middle_aged",
        "american",
        "gruff",
        "characters",
        "A gruff, raspy voice for rough characters.",
    ),
    (
        "TxGEqnHWrfWFTfGW9XjX",
        "Josh",
        "male",
        "young",
        "american",
        "deep",
        "conversational",
        "Young and deep, conversational.",
    ),
    (
        "nPczCjzI2devNBz1zQrb",
        "Brian",
        "male",
        "middle_aged",
        "american",
        "deep",
        "narration",
        "Deep, resonant, comforting narrator.",
    ),
    (
        "onwK4e9ZLuTAKqWW03F9",
        "Daniel",
        "male",
        "middle_aged",
        "british",
        "authoritative",
        "news",
        "An authoritative British newsreader.",
    ),
    (
        "yoZ06aMxZJJ28mfd3POQ",
        "Sam",
        "male",
        "young",
        "american",
        "raspy",
        "characters",
        "A raspy young man.",
    ),
];

fn premade() -> Vec<Value> {
    PREMADE
        .iter()
        .map(|(id, name, gender, age, accent, descriptive, use_case, description)| {
            json!({
                "voice_id": id,
                "name": name,
                "category": "premade",
                "labels": {
                    "accent": accent,
                    "age": age,
                    "gender": gender,
                    "descriptive": descriptive,
                    "use_case": use_case,
                    "language": "en",
                },
                "description": description,
                "preview_url": format!("https://storage.googleapis.com/eleven-public-prod/premade/voices/{id}/preview.mp3"),
                "available_for_tiers": [],
                "settings": Value::Null,
                "samples": Value::Null,
                "is_owner": false,
                "is_legacy": false,
                "created_at_unix": Value::Null,
            })
        })
        .collect()
}

/// Every voice: the premade ones, then the clones
fn library(sim: &Sim) -> Vec<Value> {
    let mut all = premade();
    all.extend(sim.with(|s| s.cloned_voices.clone()));
    all
}

/// Routes the voices part of `/elevenlabs/...` (credentials already checked); `None` for
/// another path
pub async fn handle(sim: &Sim, req: &SimRequest) -> Option<Response> {
    let segs = req.segs();
    Some(match (&req.method, segs.as_slice()) {
        (&Method::GET, ["v2", "voices"]) => search(sim, req),
        (&Method::GET, ["v1", "voices"]) => {
            http::json(StatusCode::OK, &json!({ "voices": library(sim) }))
        }
        (&Method::GET, ["v1", "voices", id]) => {
            match library(sim).into_iter().find(|v| v["voice_id"] == *id) {
                Some(v) => http::json(StatusCode::OK, &v),
                None => http::json(
                    StatusCode::NOT_FOUND,
                    &json!({"detail": {"status": "voice_not_found", "message": format!("A voice with the voice_id {id} was not found.")}}),
                ),
            }
        }
        (&Method::POST, ["v1", "voices", "add"]) => add(sim, req).await,
        _ => return None,
    })
}

fn search(sim: &Sim, req: &SimRequest) -> Response {
    let page_size = match req.query("page_size") {
        None | Some("") => DEFAULT_PAGE,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                return http::json(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &json!({"detail": [{"loc": ["query", "page_size"], "msg": "ensure this value is between 1 and 100", "type": "value_error"}]}),
                );
            }
        },
    };
    let start = req
        .query("next_page_token")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(0);
    let needle = req.query("search").map(str::to_ascii_lowercase);
    let category = req.query("category").filter(|c| !c.is_empty());
    let mut voices: Vec<Value> = library(sim)
        .into_iter()
        .filter(|v| category.is_none_or(|c| v["category"] == c))
        .filter(|v| {
            needle
                .as_deref()
                .is_none_or(|n| v.to_string().to_ascii_lowercase().contains(n))
        })
        .collect();
    if req.query("sort") == Some("name") {
        voices.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    }
    if req.query("sort_direction") == Some("desc") {
        voices.reverse();
    }
    let total = voices.len();
    let page: Vec<Value> = voices.into_iter().skip(start).take(page_size).collect();
    let next = start + page.len();
    let has_more = next < total;
    http::json(
        StatusCode::OK,
        &json!({
            "voices": page,
            "has_more": has_more,
            "total_count": total,
            "next_page_token": if has_more { Value::String(next.to_string()) } else { Value::Null },
        }),
    )
}

/// Whether the bytes are audio a clone can learn from, by their magic numbers
pub fn is_audio(b: &[u8]) -> bool {
    (b.len() >= 12 && b.starts_with(b"RIFF") && b.get(8..12) == Some(b"WAVE"))
        || b.starts_with(b"ID3")
        || matches!(b, [0xFF, second, ..] if second & 0xE0 == 0xE0)
        || b.starts_with(b"OggS")
        || b.starts_with(b"fLaC")
        || b.get(4..8) == Some(b"ftyp")
        || b.starts_with(&[0x1A, 0x45, 0xDF, 0xA3])
}

fn unprocessable(field: &str, msg: &str) -> Response {
    http::json(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!({"detail": [{"loc": ["body", field], "msg": msg, "type": "value_error"}]}),
    )
}

async fn add(sim: &Sim, req: &SimRequest) -> Response {
    let ct = req.header("content-type").unwrap_or("");
    let Ok(boundary) = multer::parse_boundary(ct) else {
        return reject(
            sim,
            P,
            &Failure::body("the body must be multipart/form-data with name and files"),
        );
    };
    let body = req.body.clone();
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut mp = multer::Multipart::new(stream, boundary);
    let (mut name, mut description, mut labels) = (None, None, Value::Null);
    let mut files = 0usize;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return reject(
                    sim,
                    P,
                    &Failure::body(format!("invalid multipart body: {e}")),
                );
            }
        };
        let field_name = field.name().unwrap_or("").to_string();
        let is_file = field.file_name().is_some();
        let data = match field.bytes().await {
            Ok(d) => d,
            Err(e) => {
                return reject(
                    sim,
                    P,
                    &Failure::body(format!("invalid multipart body: {e}")),
                );
            }
        };
        match (field_name.as_str(), is_file) {
            ("files", _) => {
                if !is_audio(&data) {
                    return unprocessable("files", "could not read the audio of a sample");
                }
                files += 1;
            }
            ("name", false) => name = Some(String::from_utf8_lossy(&data).trim().to_string()),
            ("description", false) => {
                description = Some(String::from_utf8_lossy(&data).trim().to_string());
            }
            ("labels", false) => {
                labels = serde_json::from_slice(&data).unwrap_or(Value::Null);
            }
            _ => {}
        }
    }
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return unprocessable("name", "field required");
    };
    if files == 0 {
        return unprocessable("files", "field required");
    }
    if files > MAX_FILES {
        return unprocessable("files", "too many files");
    }
    let voice_id = sim.with(|s| {
        let n = s.cloned_voices.len() as u64;
        let id = util::base36(util::hash64(&[name.as_bytes(), &n.to_le_bytes()]), 20);
        s.cloned_voices.push(json!({
            "voice_id": id,
            "name": name,
            "category": "cloned",
            "labels": if labels.is_object() { labels.clone() } else { json!({}) },
            "description": description,
            "preview_url": Value::Null,
            "samples": Value::Null,
            "is_owner": true,
            "is_legacy": false,
            "created_at_unix": util::now_unix_s(),
        }));
        s.stats.voice_clones += 1;
        id
    });
    http::json(
        StatusCode::OK,
        &json!({"voice_id": voice_id, "requires_verification": false}),
    )
}
