//! ElevenLabs history: every generation the account made, with its text, voice and model.
//!
//! - `GET /elevenlabs/v1/history` (`xi-api-key`; `page_size` up to 1000, default 100;
//!   `start_after_history_item_id`, `voice_id`, `model_id`, `date_after_unix` (inclusive),
//!   `date_before_unix` (exclusive), `sort_direction` `desc` (default) or `asc`) ->
//!   `{history: [{history_item_id, request_id, voice_id, model_id, voice_name, voice_category,
//!   text, date_unix, character_count_change_from, character_count_change_to, content_type,
//!   state, settings, feedback, source}], has_more, last_history_item_id, scanned_until}`
//!   (<https://elevenlabs.io/docs/api-reference/history/list>)
//! - `GET /elevenlabs/v1/history/{id}` -> one item; `GET /elevenlabs/v1/history/{id}/audio` ->
//!   its audio (<https://elevenlabs.io/docs/api-reference/history/get-audio>)
//!
//! A generation is in the history once it is made, whether or not the client that asked for it
//! was still connected to receive the body: that is what lets a restarted job find the line it
//! was generating when it died instead of paying for it twice.

use std::time::Instant;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::{Failure, Provider, reject, serve_output};
use crate::http::{self, SimRequest};
use crate::state::{Outcome, Sim, Task};

const P: Provider = Provider::Elevenlabs;
/// ElevenLabs' default page size, and its cap
const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 1000;

/// The made generations, newest first
fn generations(sim: &Sim) -> Vec<Task> {
    let now = Instant::now();
    let mut made: Vec<Task> = sim.with(|s| {
        s.tasks
            .values()
            .filter(|t| t.provider == P && t.outcome == Outcome::Succeeded)
            .filter(|t| t.ready_at() <= now)
            .cloned()
            .collect()
    });
    made.sort_by(|a, b| {
        b.created_unix_ms
            .cmp(&a.created_unix_ms)
            .then_with(|| b.id.cmp(&a.id))
    });
    made
}

fn item(task: &Task) -> Value {
    let field = |k: &str| task.input.get(k).cloned().unwrap_or(Value::Null);
    let chars = task.prompt.chars().count() as u64;
    json!({
        "history_item_id": task.id,
        "request_id": task.id,
        "voice_id": field("voice_id"),
        "model_id": task.model,
        "voice_name": field("voice_id"),
        "voice_category": "premade",
        "text": task.prompt,
        "date_unix": task.created_unix_ms / 1000,
        "character_count_change_from": 0,
        "character_count_change_to": chars,
        "content_type": task.media.content_type(),
        "state": Value::Null,
        "settings": field("voice_settings"),
        "feedback": Value::Null,
        "source": "TTS",
    })
}

fn number(req: &SimRequest, name: &str) -> Result<Option<u64>, Response> {
    match req.query(name) {
        None | Some("") => Ok(None),
        Some(v) => v.parse::<u64>().map(Some).map_err(|_| {
            http::json(
                StatusCode::UNPROCESSABLE_ENTITY,
                &json!({"detail": [{"loc": ["query", name], "msg": "value is not a valid integer", "type": "type_error.integer"}]}),
            )
        }),
    }
}

/// `GET /v1/history`
pub fn list(sim: &Sim, req: &SimRequest) -> Response {
    let (page, after, before) = match (
        number(req, "page_size"),
        number(req, "date_after_unix"),
        number(req, "date_before_unix"),
    ) {
        (Ok(p), Ok(a), Ok(b)) => (p, a, b),
        (Err(r), _, _) | (_, Err(r), _) | (_, _, Err(r)) => return r,
    };
    let page = page.map_or(DEFAULT_PAGE, |p| (p as usize).clamp(1, MAX_PAGE));
    let voice = req.query("voice_id").filter(|v| !v.is_empty());
    let model = req.query("model_id").filter(|v| !v.is_empty());
    let mut items: Vec<Task> = generations(sim)
        .into_iter()
        .filter(|t| {
            voice.is_none_or(|v| t.input.get("voice_id").and_then(Value::as_str) == Some(v))
        })
        .filter(|t| model.is_none_or(|m| t.model == m))
        .filter(|t| after.is_none_or(|a| t.created_unix_ms / 1000 >= a))
        .filter(|t| before.is_none_or(|b| t.created_unix_ms / 1000 < b))
        .collect();
    match req.query("sort_direction") {
        None | Some("desc") => {}
        Some("asc") => items.reverse(),
        Some(other) => {
            return reject(
                sim,
                P,
                &Failure::invalid(
                    "sort_direction",
                    format!("sort_direction must be asc or desc, got {other:?}"),
                ),
            );
        }
    }
    if let Some(start) = req
        .query("start_after_history_item_id")
        .filter(|v| !v.is_empty())
    {
        match items.iter().position(|t| t.id == start) {
            Some(i) => {
                items.drain(..=i);
            }
            None => items.clear(),
        }
    }
    let has_more = items.len() > page;
    items.truncate(page);
    let last = items.last();
    http::json(
        StatusCode::OK,
        &json!({
            "history": items.iter().map(item).collect::<Vec<_>>(),
            "has_more": has_more,
            "last_history_item_id": last.map(|t| t.id.clone()),
            "scanned_until": last.map(|t| t.created_unix_ms / 1000),
        }),
    )
}

fn find(sim: &Sim, id: &str) -> Option<Task> {
    generations(sim).into_iter().find(|t| t.id == id)
}

fn not_found(sim: &Sim, id: &str) -> Response {
    reject(
        sim,
        P,
        &Failure::NotFound(format!("History item {id} not found")),
    )
}

/// `GET /v1/history/{id}`
pub fn get(sim: &Sim, id: &str) -> Response {
    match find(sim, id) {
        Some(t) => http::json(StatusCode::OK, &item(&t)),
        None => not_found(sim, id),
    }
}

/// `GET /v1/history/{id}/audio`
pub async fn audio(sim: &Sim, id: &str) -> Response {
    match find(sim, id) {
        Some(t) => serve_output(sim, P, &t, t.media).await,
        None => not_found(sim, id),
    }
}
