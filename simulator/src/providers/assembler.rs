//! Our assembler service: a timeline in, a master and per-platform variants out.
//!
//! - `POST /assembler/v1/assemblies` `{timeline: {master, variants: [aspect], badge, duration_s,
//!   clips: [{shot, key, url, start_s, duration_s}], dialogue, voiceover, score}, callback_url}`
//!   -> 202 `{id, status: "queued"}`; every clip `url` is fetched before the assembly is accepted
//! - `GET /assembler/v1/assemblies/{id}` -> `{id, status: queued|running|succeeded|failed, outputs}`
//! - when done, POSTs that same object to `callback_url` (unsigned: the URL carries our token)
//! - `GET /assembler/files/{id}/{master|variant-W-H}.mp4` serves the outputs
//!
//! `Idempotency-Key` is honored (configurable with `honor_idempotency_key`).

use std::time::Instant;

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{Admission, Failure, Provider, Submission, admit, reject};
use crate::delivery::{Outgoing, Signer};
use crate::http::{self, SimRequest};
use crate::state::{Outcome, Phase, Sim, Task};

const P: Provider = Provider::Assembler;
const DEV_KEY: &str = "sim-assembler-key";
const ASPECTS: [&str; 5] = ["16:9", "9:16", "1:1", "4:5", "4:3"];

/// Renders a failure as our own `{"error": {code, message, field}}`
pub fn error(f: &Failure) -> (StatusCode, Value) {
    let code = match f {
        Failure::MissingAuth | Failure::BadAuth(_) => "unauthorized",
        Failure::Invalid { .. } => "invalid_request",
        Failure::NotFound(_) => "not_found",
        Failure::RateLimited => "rate_limited",
        Failure::ServerError => "internal",
        Failure::Timeout => "timeout",
    };
    let mut err = json!({"code": code, "message": f.message()});
    if let Failure::Invalid {
        field: Some(field), ..
    } = f
    {
        err["field"] = json!(field);
    }
    (f.status(), json!({ "error": err }))
}

/// Routes `/assembler/...`
pub async fn handle(sim: &Sim, req: SimRequest) -> Response {
    let segs = req.segs();
    if let (&Method::GET, ["files", id, _name]) = (&req.method, segs.as_slice()) {
        return match super::output(sim, P, id) {
            Ok(t) => {
                let name = req.segments.get(2).cloned().unwrap_or_default();
                super::serve(sim, P, t.media, &format!("{}:{name}", t.id), t.seconds)
            }
            Err(_) => reject(sim, P, &Failure::NotFound("no such output".to_string())),
        };
    }
    match req.auth("Bearer") {
        None | Some("") => return reject(sim, P, &Failure::MissingAuth),
        Some(DEV_KEY) => {}
        Some(_) => return reject(sim, P, &Failure::BadAuth("invalid API key".to_string())),
    }
    match (&req.method, segs.as_slice()) {
        (&Method::POST, ["v1", "assemblies"]) => submit(sim, &req).await,
        (&Method::GET, ["v1", "assemblies", id]) => match super::poll(sim, P, id) {
            Ok(t) => http::json(
                StatusCode::OK,
                &assembly(sim, &t, t.phase_at(Instant::now())),
            ),
            Err(Some(r)) => r,
            Err(None) => reject(
                sim,
                P,
                &Failure::NotFound(format!("assembly {id} not found")),
            ),
        },
        _ => reject(sim, P, &Failure::NotFound("no such route".to_string())),
    }
}

/// Checks the timeline (the orchestrator's `plan::Timeline`): the master's aspect, the
/// variants' aspects, and clips in edit order, each with its R2 key, a signed `url` to fetch it
/// from, and a positive duration. Returns the cut's length and the clip URLs.
fn validate(m: &Map<String, Value>) -> Result<(f64, Vec<String>), Failure> {
    let Some(timeline) = m.get("timeline").and_then(Value::as_object) else {
        return Err(Failure::invalid("timeline", "timeline must be an object"));
    };
    let aspect_ok = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .is_some_and(|a| ASPECTS.contains(&a))
    };
    if !aspect_ok(timeline.get("master")) {
        return Err(Failure::invalid(
            "timeline.master",
            format!("master must be one of {}", ASPECTS.join(", ")),
        ));
    }
    let variants = timeline
        .get("variants")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, v) in variants.iter().enumerate() {
        if !aspect_ok(Some(v)) {
            return Err(Failure::invalid(
                &format!("timeline.variants[{i}]"),
                format!("aspect must be one of {}", ASPECTS.join(", ")),
            ));
        }
    }
    let Some(clips) = timeline
        .get("clips")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
    else {
        return Err(Failure::invalid(
            "timeline.clips",
            "clips must be a non-empty array",
        ));
    };
    let mut total = 0.0;
    let mut urls = Vec::new();
    for (i, clip) in clips.iter().enumerate() {
        for field in ["shot", "key", "url"] {
            if clip
                .get(field)
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Err(Failure::invalid(
                    &format!("timeline.clips[{i}].{field}"),
                    format!("{field} is required"),
                ));
            }
        }
        if let Some(url) = clip.get("url").and_then(Value::as_str) {
            urls.push(url.to_owned());
        }
        match clip.get("duration_s").and_then(Value::as_f64) {
            Some(d) if d > 0.0 => total += d,
            _ => {
                return Err(Failure::invalid(
                    &format!("timeline.clips[{i}].duration_s"),
                    "duration_s must be a positive number",
                ));
            }
        }
    }
    Ok((total, urls))
}

/// Fetches every clip as a real assembler would; the first that cannot be read fails the request
async fn fetch_clips(sim: &Sim, urls: &[String]) -> Result<(), Failure> {
    for (i, url) in urls.iter().enumerate() {
        let resp = sim
            .client()
            .get(url)
            .timeout(std::time::Duration::from_secs(10))
            .send()
            .await;
        match resp {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => {
                return Err(Failure::invalid(
                    &format!("timeline.clips[{i}].url"),
                    format!("clip could not be fetched: HTTP {}", r.status().as_u16()),
                ));
            }
            Err(e) => {
                return Err(Failure::invalid(
                    &format!("timeline.clips[{i}].url"),
                    format!("clip could not be fetched: {e}"),
                ));
            }
        }
    }
    Ok(())
}

async fn submit(sim: &Sim, req: &SimRequest) -> Response {
    let m = match req.json_object() {
        Ok(m) => m,
        Err(e) => return reject(sim, P, &Failure::body(e)),
    };
    let (seconds, clip_urls) = match validate(&m) {
        Ok(v) => v,
        Err(f) => return reject(sim, P, &f),
    };
    if let Err(f) = fetch_clips(sim, &clip_urls).await {
        return reject(sim, P, &f);
    }
    let callback = match super::opt_str(&m, "callback_url")
        .and_then(|u| super::url_field(u, "callback_url"))
    {
        Ok(u) => u,
        Err(f) => return reject(sim, P, &f),
    };
    let mut sub = Submission::new("assembler-v1", "", Value::Object(m));
    sub.seconds = seconds;
    sub.callback_url = callback;
    sub.ttl_ms = 7 * 24 * 3600 * 1000;
    match admit(sim, P, req, sub).await {
        Ok(Admission::New(t) | Admission::Replay(t)) => http::json(
            StatusCode::ACCEPTED,
            &json!({"id": t.id, "status": status(&t, t.phase_at(Instant::now()))}),
        ),
        Err(r) => r,
    }
}

fn status(t: &Task, phase: Phase) -> &'static str {
    match (phase, &t.outcome) {
        (Phase::Queued, _) => "queued",
        (Phase::Running, _) => "running",
        (Phase::Done, Outcome::Succeeded) => "succeeded",
        (Phase::Done, _) => "failed",
    }
}

/// The assembly object at `phase`
fn assembly(sim: &Sim, t: &Task, phase: Phase) -> Value {
    let status = status(t, phase);
    let mut obj = json!({"id": t.id, "status": status, "outputs": Value::Null});
    match status {
        "succeeded" => {
            let aspects = t
                .input
                .pointer("/timeline/variants")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let variants: Vec<Value> = aspects
                .iter()
                .map(|aspect| {
                    let aspect = aspect.as_str().unwrap_or("16:9");
                    let file = format!("variant-{}.mp4", aspect.replace(':', "-"));
                    json!({
                        "aspect": aspect,
                        "url": sim.url(P, &format!("files/{}/{file}", t.id)),
                        "content_type": t.media.content_type(),
                    })
                })
                .collect();
            obj["outputs"] = json!({
                "master": {
                    "url": sim.url(P, &format!("files/{}/master.mp4", t.id)),
                    "content_type": t.media.content_type(),
                    "duration_s": t.seconds,
                },
                "variants": variants,
            });
        }
        "failed" => {
            obj["error"] = match &t.outcome {
                Outcome::Moderated => {
                    json!({"code": "rejected", "message": "the timeline was rejected by content review"})
                }
                Outcome::Failed(reason) => json!({"code": "failed", "message": reason}),
                Outcome::Succeeded => Value::Null,
            };
        }
        _ => {}
    }
    obj
}

/// The callback: the assembly object, unsigned, to `callback_url`
pub fn callback(sim: &Sim, t: &Task, phase: Phase) -> Option<Outgoing> {
    let url = t.callback_url.as_deref()?;
    Some(Outgoing::json(url, &assembly(sim, t, phase), Signer::None))
}
