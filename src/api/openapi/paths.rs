//! The operations of the document: methods, parameters, status codes and security, each body
//! a `$ref` to a derived (or `shell`) component schema. One row per route of the Worker's table
//! (`actors/src/routes/table.rs`); the e2e test `openapi` holds the two to each other.

use serde_json::{Map, Value, json};

use super::schema_ref;
use crate::providers::ProviderKind;

/// Error answers by status: the shared response each one refers to
const ERRORS: [(u16, &str, &str); 8] = [
    (
        400,
        "BadRequest",
        "Bad input; `error.field` names the field or parameter",
    ),
    (401, "Unauthorized", "No key, or an unknown or revoked key"),
    (403, "Forbidden", "The key's role may not use this route"),
    (
        404,
        "NotFound",
        "Not there, or not yours (never 403 for another creator's render)",
    ),
    (
        409,
        "Conflict",
        "Idempotency conflict, or a state that refuses the action",
    ),
    (413, "TooLarge", "The body is over the route's limit"),
    (429, "RateLimited", "The key is over its rate"),
    (
        503,
        "Unavailable",
        "The service cannot take this request now (for a render: no assembly route)",
    ),
];

/// One operation: `ok` is its success responses, `errors` the error statuses it documents
fn op(id: &str, summary: &str, tag: &str, ok: Value, errors: &[u16]) -> Map<String, Value> {
    let mut responses = ok.as_object().cloned().unwrap_or_default();
    for status in errors {
        if let Some((_, name, _)) = ERRORS.iter().find(|(s, _, _)| s == status) {
            responses.insert(
                status.to_string(),
                json!({ "$ref": format!("#/components/responses/{name}") }),
            );
        }
    }
    let mut out = Map::new();
    out.insert("operationId".into(), id.into());
    out.insert("summary".into(), summary.into());
    out.insert("tags".into(), json!([tag]));
    out.insert("responses".into(), Value::Object(responses));
    out
}

/// Adds `key: value` to an operation
fn with(mut op: Map<String, Value>, key: &str, value: Value) -> Map<String, Value> {
    op.insert(key.into(), value);
    op
}

/// A JSON success response
fn json_ok(status: u16, description: &str, schema: &str) -> Value {
    json!({ status.to_string(): {
        "description": description,
        "content": { "application/json": { "schema": schema_ref(schema) } }
    }})
}

/// A required JSON request body
fn body(schema: &str) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": schema_ref(schema) } } })
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "schema": schema, "description": description })
}

fn required(location: &str, name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": location, "required": true, "schema": schema, "description": description })
}

fn render_id() -> Value {
    json!({ "$ref": "#/components/parameters/RenderId" })
}

/// `{creator}`: a creator id, as its API keys name it
fn creator_id() -> Value {
    json!({ "name": "creator", "in": "path", "required": true, "description": "the creator, as its API keys name it",
            "schema": { "type": "string", "minLength": 1, "maxLength": 64 } })
}

/// `limit`: a whole number the server reads as `u64` within `1..=max`
fn limit(max: u64, default: u64) -> Value {
    query(
        "limit",
        "page size",
        json!({ "type": "integer", "minimum": 1, "maximum": max, "default": default }),
    )
}

/// `cursor`: exactly what `Cursor::parse` takes, `{created_at}_{job_id}`
fn cursor(description: &str) -> Value {
    query(
        "cursor",
        description,
        json!({ "type": "string", "pattern": "^[+-]?[0-9]{1,18}_rnd_[0-9a-f]{32}(?![\\s\\S])" }),
    )
}

/// Milliseconds since the epoch as `time_param` reads them
fn millis(name: &str, description: &str) -> Value {
    query(
        name,
        description,
        json!({ "type": "integer", "minimum": 0, "maximum": 9_007_199_254_740_991_u64 }),
    )
}

fn providers() -> Value {
    json!({ "type": "string", "enum": ProviderKind::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>() })
}

/// Every documented route, by path template
pub(super) fn paths() -> Value {
    let app = [401, 403, 429];
    let no_auth = json!([]);
    json!({
        "/healthz": { "get": with(
            op("health", "Whether each binding answers", "ops",
               merge(json_ok(200, "Every binding answered", "Health"), json_ok(503, "A binding failed", "Health")), &[]),
            "security", no_auth.clone()) },
        "/openapi.json": { "get": with(
            op("openapi", "This document", "ops",
               json_ok(200, "OpenAPI 3.1 document; `x-routes` lists the Worker's route table", "Object"), &[]),
            "security", no_auth.clone()) },
        "/v1/whoami": { "get": op("whoami", "The key's role and creator", "app", json_ok(200, "The caller", "Whoami"), &[401, 429]) },
        "/v1/renders": {
            "post": with(with(with(
                op("createRender", "Create a render from a brief", "app",
                   json!({ "202": {
                       "description": "Accepted; the creator's view of the job",
                       "content": { "application/json": { "schema": schema_ref("CreatorJobView") } },
                       "headers": {
                           "Location": { "schema": { "type": "string" }, "description": "/v1/renders/{id}" },
                           "Idempotent-Replayed": { "schema": { "type": "string" }, "description": "`true` when an earlier request with this Idempotency-Key made the job" }
                       }
                   }}),
                   &[400, 401, 403, 409, 413, 429, 503]),
                "description", "Refused with 503 before anything is written or submitted when no assembly route (our assembler, or a hosted one) is configured and reachable, so a render never spends its budget without a way to finish. Idempotent with `Idempotency-Key` (1-255 chars): within 24 hours (`IDEMPOTENCY_TTL_S`) of its first use, every request with the key gets the same job (concurrent ones too); the same key with another body is 409. After 24 hours the key starts a new job.".into()),
                "parameters", json!([{ "name": "Idempotency-Key", "in": "header", "required": false,
                                       "schema": { "type": "string", "minLength": 1, "maxLength": 255 } }])),
                "requestBody", body("Brief")),
            "get": with(
                op("listRenders", "The creator's renders, newest first", "app", json_ok(200, "A page", "RenderList"), &[400, 401, 403, 429]),
                "parameters", json!([
                    query("project", "only this project", json!({ "type": "string" })),
                    query("status", "only this status", schema_ref("JobStatus")),
                    limit(100, 20),
                    cursor("`next_cursor` of the previous page (stable for equal timestamps)"),
                ])),
        },
        "/v1/renders/{id}": { "get": with(with(
            op("getRender", "A render; ETag, and long-poll with `wait`", "app",
               json!({
                   "200": { "description": "The view, with an ETag",
                            "content": { "application/json": { "schema": schema_ref("CreatorJobView") } },
                            "headers": { "ETag": { "schema": { "type": "string" } } } },
                   "304": { "description": "Unchanged since `If-None-Match` (after `wait` seconds when asked to wait)",
                            "headers": { "ETag": { "schema": { "type": "string" } } } }
               }),
               &[400, 401, 403, 404, 429]),
            "description", "With `wait=N` (N <= 60) the job object holds the request until the job changes or N seconds pass; an `If-None-Match` that no longer matches answers at once.".into()),
            "parameters", json!([
                render_id(),
                query("wait", "seconds to wait for a change", json!({ "type": "integer", "minimum": 0, "maximum": 60 })),
                { "name": "If-None-Match", "in": "header", "required": false, "schema": { "type": "string" } },
            ])) },
        "/v1/renders/{id}/cancel": { "post": with(
            op("cancelRender", "Cancel a render", "app", json_ok(200, "The creator's view of the job", "CreatorJobView"), &[401, 403, 404, 409, 429]),
            "parameters", json!([render_id()])) },
        "/v1/renders/{id}/events": { "get": with(
            op("renderEvents", "Server-Sent Events of a render", "app",
               json!({ "200": {
                   "description": "`text/event-stream`: `event: snapshot` first (SnapshotEvent), then `event: stage` (StageEvent) per stage change, `event: note` (RaNote) per new note from Ra and `event: status` (StatusChange) per status change; `id` is the journal sequence. Like the creator's view, no event names a model, provider, provider task id or flag. The stream ends when the job reaches a terminal status. `: keepalive` comments every 15 s.",
                   "content": { "text/event-stream": {
                       // One event as a reader parses it; `x-events` types each event's `data`.
                       "schema": { "type": "object", "required": ["event", "data"], "properties": {
                           "event": { "type": "string", "enum": ["snapshot", "stage", "note", "status"] },
                           "data": { "type": "string", "contentMediaType": "application/json" },
                           "id": { "type": "string" }
                       }},
                       "x-events": { "snapshot": schema_ref("SnapshotEvent"), "stage": schema_ref("StageEvent"), "note": schema_ref("RaNote"), "status": schema_ref("StatusChange") }
                   }}
               }}),
               &[401, 403, 404, 429]),
            "parameters", json!([render_id()])) },
        "/v1/renders/{id}/outcomes": { "post": with(with(
            op("reportOutcomes", "Report outcome figures of a succeeded render to the memory graph", "memory",
               json_ok(200, "The memory graph's answer", "Object"), &[400, 401, 403, 404, 409, 413, 429]),
            "parameters", json!([render_id()])),
            "requestBody", body("Outcomes")) },
        "/v1/memory": {
            "get": op("getMemory", "The creator's memory graph", "memory", json_ok(200, "The graph", "Object"), &app),
            "put": with(
                op("editMemory", "Edit the creator's memory graph", "memory", json_ok(200, "The graph after the edit", "Object"), &[400, 401, 403, 413, 429]),
                "requestBody", body("MemoryEdit")),
        },
        "/v1/memory/context": { "post": with(
            op("memoryContext", "The context the memory graph gives a brief", "memory",
               json_ok(200, "The context a render of this brief would be planned with", "Object"), &[400, 401, 403, 413, 429]),
            "requestBody", body("Brief")) },
        "/v1/memory/import": { "post": with(with(
            op("importChannel", "Import a channel's YouTube history into the memory graph", "memory",
               json_ok(200, "What the import wrote, what it kept because you set it by hand, and the channel's priors; `changed` is false when the graph already held all of it", "Object"), &[400, 401, 403, 413, 429]),
            "description", "Channel Analyzer: a YouTube Data API v3 videos.list response (and optionally YouTube Analytics v2 reports.query results) builds format DNA (`shorts` / `long_form`, or the body's `format`), the audience signal and per-format outcome priors. Values you set yourself are never overwritten; importing the same history again changes nothing.".into()),
            "requestBody", json!({ "required": true, "content": { "application/json": { "schema": crate::memory::import::schema::request_schema() } } })) },
        "/v1/memory/looks/{cast}/images": { "put": with(with(with(
            op("uploadLookImage", "Upload a reference image of a cast member's look", "memory",
               merge(json_ok(201, "Stored under your own prefix and added to the look", "LookImageStored"),
                     json_ok(200, "The look already had this image", "LookImageStored")),
               &[400, 401, 403, 413, 429]),
            "description", "The body is the image itself: PNG, JPEG or WebP, checked by its first bytes (a `Content-Type` naming another type is a 400 on `Content-Type`), at most 10 MiB (413 past it). It is stored under `creators/{your creator id}/looks/{cast}/` and added to the look's `reference_images` (the look is created if missing; at most 8 images). Every keyframe and motion of that cast member then sends it to the models whose API takes reference images. Only you can use the key: a look may name only keys under its owner's prefix, and the image is served only through the signed URL of this answer.".into()),
            "parameters", json!([required("path", "cast", "the cast id", json!({ "type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$" }))])),
            "requestBody", json!({ "required": true, "content": {
                "image/png": { "schema": { "type": "string", "contentMediaType": "image/png" } },
                "image/jpeg": { "schema": { "type": "string", "contentMediaType": "image/jpeg" } },
                "image/webp": { "schema": { "type": "string", "contentMediaType": "image/webp" } },
                "application/octet-stream": { "schema": { "type": "string", "contentMediaType": "application/octet-stream" } }
            } })) },
        "/v1/memory/voices/{name}/samples": { "post": with(with(with(
            op("cloneVoice", "Clone a voice from audio samples and keep it for a name", "memory",
               json_ok(201, "Cloned; `voices.{name}` now holds its voice id", "VoiceCloned"),
               &[400, 401, 403, 413, 429, 503]),
            "description", "The body is one audio file (`audio/*` or `application/octet-stream`) or `multipart/form-data` with up to 25 audio files; each must be WAV, MP3, OGG, FLAC, M4A or WebM by its first bytes (else a 400 naming `samples[i]`), 10 MiB in all. The voice is cloned by the speech provider and its id set as `voices.{name}`, so every later line of that name speaks with it. 503 when voice cloning is unavailable.".into()),
            "parameters", json!([required("path", "name", "the voice name (a cast id or a narration voice)", json!({ "type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$" }))])),
            "requestBody", json!({ "required": true, "content": {
                "audio/wav": { "schema": { "type": "string", "contentMediaType": "audio/wav" } },
                "audio/mpeg": { "schema": { "type": "string", "contentMediaType": "audio/mpeg" } },
                "application/octet-stream": { "schema": { "type": "string", "contentMediaType": "application/octet-stream" } },
                "multipart/form-data": { "schema": {
                    "type": "object",
                    "properties": { "files": { "type": "array", "maxItems": 25, "items": { "type": "string", "contentMediaType": "application/octet-stream" } } },
                    "required": ["files"]
                } }
            } })) },
        "/v1/webhooks/secret": { "get": op("webhookSecret", "The creator's webhook signing secret", "app",
               json_ok(200, "The `whsec_` secret (minted on first use)", "WebhookSecret"), &app) },
        "/v1/support/session": {
            "post": with(with(
                op("supportSignIn", "Sign in to the support page with a support key", "support",
                   json_ok(200, "A session: the `cs_support` cookie (HttpOnly, Secure, SameSite=Strict, one hour) is set", "SupportSession"), &[400, 401, 403, 413, 429]),
                "description", "For the support page (`/support/`): the key is exchanged once for a session cookie, so the page never keeps it. App keys get 403. Requests riding on the cookie that change something must send the session's `csrf_token` in `X-CSRF-Token`, and an `Origin` (when sent) equal to the Worker's own.".into()),
                "requestBody", body("SupportSignIn")),
            "get": with(
                op("supportSession", "The page's session", "support", json_ok(200, "The session of the cookie", "SupportSession"), &[401, 403, 429]),
                "description", "401 when the cookie is missing, expired or signed out.".into()),
            "delete": with(
                op("supportSignOut", "Sign out of the support page", "support",
                   json!({ "204": { "description": "Signed out; the cookie is cleared" } }), &[401, 403, 429]),
                "description", "Needs the session's `X-CSRF-Token`.".into()),
        },
        "/v1/support/renders": { "get": with(
            op("searchRenders", "Search every creator's renders", "support", json_ok(200, "A page, newest first", "SupportRenderList"), &[400, 401, 403, 429]),
            "parameters", json!([
                query("creator", "only this creator", json!({ "type": "string" })),
                query("status", "only this status", schema_ref("JobStatus")),
                query("provider", "renders with a task at, or a cost line for, this provider", providers()),
                millis("since", "created at or after (ms since epoch)"),
                millis("until", "created before (ms since epoch)"),
                limit(200, 50),
                cursor("`next_cursor` of the previous page"),
            ])) },
        "/v1/support/renders/{id}": { "get": with(
            op("supportRender", "Everything about any creator's render", "support", json_ok(200, "The support view", "SupportView"), &[401, 403, 404, 429]),
            "parameters", json!([render_id()])) },
        "/v1/support/renders/{id}/journal": { "get": with(
            op("supportJournal", "The render's journal, a page at a time", "support", json_ok(200, "Entries after `after`", "JournalPage"), &[400, 401, 403, 404, 429]),
            "parameters", json!([
                render_id(),
                query("after", "the last seq already read", json!({ "type": "integer", "minimum": 0, "maximum": 9_007_199_254_740_991_u64, "default": 0 })),
                limit(500, 100),
            ])) },
        "/v1/support/renders/{id}/timeline": { "get": with(
            op("supportTimeline", "The render's history on one time axis", "support", json_ok(200, "Every stage's phases and events, and the critical path", "Timeline"), &[401, 403, 404, 429]),
            "parameters", json!([render_id()])) },
        "/v1/support/renders/{id}/actions": { "post": with(with(with(
            op("supportAction", "Act on a render (admin support keys)", "support",
               json_ok(200, "Accepted; the support view after it", "SupportView"), &[400, 401, 403, 404, 409, 413, 429]),
            "description", "`retry_stage {stage}`, `reroute {stage, model}`, `pause`, `resume`, `cancel`, `restart_from {stage}`, each with a required `reason`; journaled with the key's prefix. A read-only support key gets 403; an action the job refuses is 409 with the reason; a stage the job does not have or a model its pinned registry does not have is 400 naming it.".into()),
            "parameters", json!([render_id()])),
            "requestBody", body("SupportActionRequest")) },
        "/v1/support/creators/{creator}/memory": { "get": with(with(
            op("supportMemory", "Any creator's memory graph, models included", "support", json_ok(200, "The graph as render jobs read it", "Object"), &[401, 403, 404, 429]),
            "description", "The creator's own `GET /v1/memory` names no model; this view keeps each past shot's model, the folded evidence per model and the embedders' names.".into()),
            "parameters", json!([creator_id()])) },
        "/v1/support/creators/{creator}/memory/context": { "post": with(with(with(
            op("supportMemoryContext", "The context a creator's graph gives a brief, models included", "support",
               json_ok(200, "The context a render of this brief would be planned with, with Ra's per-model statistics", "Object"), &[400, 401, 403, 404, 413, 429]),
            "description", "Nothing is cast or written. The creator's own `POST /v1/memory/context` leaves out the per-model outcome and click-through statistics and each similar shot's model.".into()),
            "parameters", json!([creator_id()])),
            "requestBody", body("Brief")) },
        "/v1/support/providers": { "get": with(
            op("supportProviders", "Every provider account: its gate and its models' health", "support", json_ok(200, "Limits, slots in use and by whom, waiting by creator, 429s, each model's health and breaker, retired models", "FleetView"), &[401, 403, 429]),
            "description", "A provider whose gate does not answer is listed with `error`; the others are still shown.".into()) },
        "/v1/support/registry": { "get":
            op("supportRegistry", "The model registry: the latest version's models and the stored versions with what changed", "support", json_ok(200, "The history, newest first", "RegistryHistory"), &[401, 403, 429]) },
        "/v1/admin/registry": { "post": with(with(
            op("publishRegistry", "Publish a new registry version (admin support keys)", "ops",
               json_ok(201, "Published; new jobs pin it, and retired models are refused to running jobs", "RegistryVersionRecord"), &[400, 401, 403, 413, 429]),
            "description", "Edits applied to the latest version in order (`add_model`, `set_price`, `set_quality`, `set_latency`, `set_flag`, `set_rollout`, `retire`, `unretire`, ...) or a whole `models` list, with a required `note`. The result is validated whole: a bad version is a 400 naming the field and nothing is published.".into()),
            "requestBody", body("Publication")) },
        "/v1/callbacks/{provider}": { "post": with(with(with(
            op("providerWebhook", "A provider's project-level webhook (Sora, Replicate: Standard Webhooks)", "providers",
               json_ok(200, "Accepted (duplicates and stale deliveries too)", "Accepted"), &[400, 401, 404]),
            "parameters", json!([required("path", "provider", "the provider", providers())])),
            "requestBody", json!({ "required": true, "description": "the provider's own callback body",
                                    "content": { "application/json": { "schema": schema_ref("Object") } } })),
            "security", no_auth.clone()) },
        "/v1/callbacks/{provider}/{job}/{stage}/{attempt}": { "post": with(with(with(with(
            op("providerCallback", "A provider's callback for one attempt", "providers",
               json_ok(200, "Accepted (duplicates and stale deliveries too)", "Accepted"), &[400, 401, 404]),
            "description", "The URL carries our HMAC token (`exp`, `token`) bound to job, stage and attempt; the provider's own signature is verified too.".into()),
            "parameters", json!([
                required("path", "provider", "the provider", providers()),
                required("path", "job", "the render's id", json!({ "type": "string" })),
                required("path", "stage", "the stage's id", json!({ "type": "string" })),
                required("path", "attempt", "the attempt", json!({ "type": "integer" })),
                required("query", "exp", "token expiry (ms since epoch)", json!({ "type": "integer" })),
                required("query", "token", "our HMAC token", json!({ "type": "string" })),
            ])),
            "requestBody", json!({ "required": true, "description": "the provider's own callback body",
                                    "content": { "application/json": { "schema": schema_ref("Object") } } })),
            "security", no_auth.clone()) },
        "/v1/media/{key}": { "get": with(with(with(
            op("media", "An artifact from R2 by signed URL", "media",
               json!({ "200": { "description": "The bytes", "content": { "*/*": { "schema": { "type": "string", "format": "binary" } } } } }),
               &[401, 403, 404]),
            "description", "`key` is the artifact's R2 key and may contain `/`.".into()),
            "parameters", json!([
                required("path", "key", "the artifact's R2 key", json!({ "type": "string" })),
                required("query", "exp", "expiry (ms since epoch)", json!({ "type": "integer" })),
                required("query", "sig", "signature", json!({ "type": "string" })),
            ])),
            "security", no_auth) },
    })
}

fn merge(a: Value, b: Value) -> Value {
    let mut out = a.as_object().cloned().unwrap_or_default();
    out.extend(b.as_object().cloned().unwrap_or_default());
    Value::Object(out)
}

/// The status webhook we send
pub(super) fn webhooks() -> Value {
    let header = |name: &str| json!({ "name": name, "in": "header", "required": true, "schema": { "type": "string" } });
    json!({ "renderStatusChanged": { "post": {
        "summary": "A render's status changed (sent to the brief's `webhook_url`)",
        "description": "Standard Webhooks: `webhook-id` (`{job}-{n}`, stable across retries), `webhook-timestamp` (Unix seconds), `webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>` keyed with the secret from GET /v1/webhooks/secret). Any 2xx acknowledges; anything else is retried (5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 6 h, 10 h; Retry-After honoured up to 1 h).",
        "parameters": [header("webhook-id"), header("webhook-timestamp"), header("webhook-signature")],
        "requestBody": body("StatusEvent"),
        "responses": { "200": { "description": "Any 2xx acknowledges the delivery" } }
    }}})
}

/// The shared error responses
pub(super) fn responses() -> Value {
    let mut out = Map::new();
    for (status, name, description) in ERRORS {
        let mut response = json!({
            "description": description,
            "content": { "application/json": { "schema": schema_ref("ErrorBody") } }
        });
        if status == 429 {
            response["headers"] = json!({ "Retry-After": {
                "description": "seconds until the key's window ends", "schema": { "type": "integer" } } });
        }
        out.insert(name.into(), response);
    }
    Value::Object(out)
}

/// Shared parameters
pub(super) fn parameters() -> Value {
    json!({ "RenderId": {
        "name": "id", "in": "path", "required": true,
        "schema": { "type": "string", "pattern": "^rnd_[0-9a-f]{32}(?![\\s\\S])" },
        "description": "the render's id"
    }})
}
