//! Schemas of the bodies that no serde type describes: those the Worker shell assembles itself
//! (`whoami`, health, list pages, the support view's extras, the journal page, the SSE events)
//! and those read by hand-written parsers (the memory edit and outcome report, the support
//! action). Each keeps to the rule it mirrors, named beside it; the limits are the parsers' own
//! constants where they are public.

use serde_json::{Value, json};

use super::schema_ref;
use crate::brief::schema::NON_BLANK;
use crate::memory::edit::{MAX_REFERENCE_IMAGES, SHOT_MIX_TOLERANCE};
use crate::memory::outcomes::{MAX_AVG_WATCH_S, MAX_SHOT_OUTCOMES};

/// `ident`: 1 to 64 of `A-Z a-z 0-9 _ -`
const IDENT: &str = r"^[A-Za-z0-9_-]{1,64}(?![\s\S])";
/// `token`: 1 to 128 characters, none whitespace (`char::is_whitespace`) or control
const TOKEN: &str =
    r"^[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]{1,128}(?![\s\S])";
/// `text`'s other half: no control characters but `\n`
const NO_CONTROL: &str = r"^[^\x00-\x09\x0B-\x1F\x7F-\x9F]*(?![\s\S])";
/// `owned_reference_images`: an upload of the caller's, `creators/{creator}/...`, segments of
/// letters, digits, `.`, `-` and `_`, none `.` or `..`, at most 128 characters in all
const OWN_UPLOAD: &str = r"^(?=[\s\S]{1,128}(?![\s\S]))creators/(?:(?!\.{1,2}/)[A-Za-z0-9._-]+/)+(?!\.{1,2}(?![\s\S]))[A-Za-z0-9._-]+(?![\s\S])";

/// The memory parsers' `text`: not blank, at most `max` characters, no control characters but `\n`
fn text(max: usize) -> Value {
    json!({ "type": "string", "maxLength": max, "allOf": [{ "pattern": NON_BLANK }, { "pattern": NO_CONTROL }] })
}

fn nullable(schema: Value) -> Value {
    json!({ "anyOf": [schema, { "type": "null" }] })
}

/// An object of exactly these optional properties (the parsers refuse unknown keys)
fn closed(properties: Value) -> Value {
    json!({ "type": "object", "properties": properties, "additionalProperties": false })
}

/// Rows keyed by `ident`, `null` deleting one
fn rows(row: Value) -> Value {
    json!({ "type": "object", "propertyNames": { "pattern": IDENT }, "additionalProperties": nullable(row) })
}

/// `Obj::number(min, max)`: absent, null, or a number in range
fn number(min: f64, max: f64) -> Value {
    json!({ "type": ["number", "null"], "minimum": min, "maximum": max })
}

/// `Obj::count`: absent, null, or a non-negative integer that fits `u64`
fn count() -> Value {
    json!({ "type": ["integer", "null"], "minimum": 0, "maximum": u64::MAX })
}

/// `Obj::strings`: absent, null, or at most `max` items, each `item`
fn strings(max: usize, item: Value) -> Value {
    json!({ "type": ["array", "null"], "maxItems": max, "items": item })
}

fn memory_edit() -> Value {
    // `shot_mix`: shot kinds only, each share a number from 0 to 1 (null is refused there)
    let mix: serde_json::Map<String, Value> = crate::brief::ShotKind::ALL
        .iter()
        .map(|k| {
            (
                k.as_str().to_owned(),
                json!({ "type": "number", "minimum": 0, "maximum": 1 }),
            )
        })
        .collect();
    let mut edit = closed(json!({
        "voices": rows(json!({ "type": "string", "pattern": TOKEN })),
        "looks": rows(json!({
            "type": "object", "required": ["description"], "additionalProperties": false,
            "properties": {
                "description": text(2000),
                "reference_images": strings(MAX_REFERENCE_IMAGES, json!({ "type": "string", "pattern": OWN_UPLOAD, "description": "one of your own uploads: a key under `creators/{your creator id}/`" })),
            }
        })),
        "fingerprint": nullable(closed(json!({
            "palette": strings(16, json!({ "type": "string", "pattern": "^#[0-9A-Fa-f]{6}(?![\\s\\S])" })),
            "grade": nullable(text(200)),
            "lens": nullable(text(200)),
            "lighting": nullable(text(200)),
        }))),
        "formats": rows(json!({
            "type": "object", "required": ["pacing"], "additionalProperties": false,
            "properties": {
                "pacing": {
                    "type": "object", "required": ["avg_shot_s", "energy"], "additionalProperties": false,
                    "properties": {
                        "avg_shot_s": { "type": "number", "minimum": 0.5, "maximum": 60 },
                        "energy": schema_ref("Energy"),
                    }
                },
                "shot_mix": {
                    "type": ["object", "null"], "properties": mix, "additionalProperties": false,
                    "description": format!("share of shots per kind; the shares must sum to 1 (within {SHOT_MIX_TOLERANCE})")
                },
                "hook_style": nullable(text(200)),
            }
        })),
        "audience": nullable(closed(json!({
            "primary_platform": nullable(schema_ref("Platform")),
            "regions": strings(32, text(64)),
            "interests": strings(32, text(64)),
        }))),
    }));
    edit["description"] = json!(
        "A partial edit, one level deep: a present key replaces that row, `null` deletes it, an absent key leaves it alone. Besides this schema: a format's `shot_mix` shares must sum to 1, and a table may hold at most 256 voices, 256 looks and 64 formats."
    );
    edit
}

fn outcomes() -> Value {
    let mut report = closed(json!({
        "views": count(),
        "avg_watch_s": number(0.0, MAX_AVG_WATCH_S),
        "retention_3s": number(0.0, 1.0),
        "clicks": count(),
        "conversions": count(),
        "shots": strings(MAX_SHOT_OUTCOMES, json!({
            "type": "object", "required": ["shot_id"], "additionalProperties": false,
            "properties": {
                "shot_id": text(64),
                "retention_3s": number(0.0, 1.0),
                "conversions": count(),
            }
        })),
    }));
    report["description"] = json!(
        "Outcome figures of a succeeded render. Besides this schema: each `shot_id` at most once, and a shot of the render."
    );
    report
}

/// `support::act`: an action, a reason that is not blank, and what the action needs
fn support_action() -> Value {
    let needs = |action: &str, fields: &[&str]| {
        json!({
            "if": { "properties": { "action": { "const": action } } },
            "then": { "required": fields, "properties": fields.iter().map(|f| (f.to_string(), json!({ "type": "string", "pattern": NON_BLANK }))).collect::<serde_json::Map<_, _>>() }
        })
    };
    json!({
        "type": "object",
        "required": ["action", "reason"],
        "properties": {
            "action": { "type": "string", "enum": ["retry_stage", "reroute", "pause", "resume", "cancel", "restart_from"] },
            "reason": { "type": "string", "pattern": NON_BLANK, "description": "why; journaled with the key's prefix" },
            "stage": { "description": "retry_stage, reroute, restart_from: a stage of the job" },
            "model": { "description": "reroute: a model of the job's pinned registry" }
        },
        "allOf": [
            needs("retry_stage", &["stage"]),
            needs("restart_from", &["stage"]),
            needs("reroute", &["stage", "model"]),
        ],
        "description": "Besides this schema: `stage` must be a stage of the job and `model` a model of its pinned registry (else 400 naming it)."
    })
}

fn ms() -> Value {
    json!({ "type": "integer", "description": "milliseconds since the Unix epoch" })
}

/// The shell's schemas by component name
pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    let render_row = json!({
        "type": "object",
        "required": ["job_id", "project_id", "status", "total_usd", "created_at", "updated_at"],
        "properties": {
            "job_id": { "type": "string" }, "project_id": { "type": "string" },
            "status": schema_ref("JobStatus"), "total_usd": { "type": "number" },
            "created_at": ms(), "updated_at": ms(),
        }
    });
    let page = |row: &str| {
        json!({
            "type": "object", "required": ["renders", "next_cursor"],
            "properties": {
                "renders": { "type": "array", "items": schema_ref(row) },
                "next_cursor": { "type": ["string", "null"], "description": "pass as `cursor` for the next page; null on the last" }
            }
        })
    };
    let stage_status = json!({ "type": "string", "enum": ["blocked", "ready", "submitting", "running", "storing", "backing_off", "done", "failed", "cancelled"] });
    vec![
        ("Object", json!({ "type": "object" })),
        (
            "Accepted",
            json!({ "type": "object", "required": ["accepted"], "properties": { "accepted": { "type": "boolean" } } }),
        ),
        (
            "Health",
            json!({
                "type": "object", "required": ["ok", "bindings"],
                "properties": {
                    "ok": { "type": "boolean" },
                    "bindings": { "type": "object", "additionalProperties": { "type": "object", "required": ["ok"], "properties": { "ok": { "type": "boolean" } } } }
                }
            }),
        ),
        (
            "Whoami",
            json!({
                "type": "object", "required": ["role", "creator", "key_prefix", "key_id", "key_label"],
                "properties": {
                    "role": { "type": "string", "enum": ["app", "support", "support_admin"] },
                    "creator": { "type": ["string", "null"] },
                    "key_prefix": { "type": "string" },
                    "key_id": { "type": "string", "description": "the key's stable identity, as journals name it" },
                    "key_label": { "type": "string" }
                }
            }),
        ),
        (
            "WebhookSecret",
            json!({
                "type": "object", "required": ["secret", "scheme", "headers"],
                "properties": {
                    "secret": { "type": "string", "description": "`whsec_` + base64 of 32 random bytes" },
                    "scheme": { "type": "string", "enum": ["standard-webhooks-v1"] },
                    "headers": { "type": "array", "items": { "type": "string" } }
                }
            }),
        ),
        ("RenderRow", render_row),
        ("RenderList", page("RenderRow")),
        (
            "SupportRenderRow",
            json!({ "allOf": [schema_ref("RenderRow"), {
            "type": "object", "required": ["creator_id"], "properties": { "creator_id": { "type": "string" } } }] }),
        ),
        ("SupportRenderList", page("SupportRenderRow")),
        (
            "SupportView",
            json!({
                "description": "Everything about a job for support: the job view plus the DAG's edges, every attempt with provider and task id, how the creator's Memory Graph shaped each stage (the final prompt sent and the Graph rows behind it), routing decisions with scores, costs and the ledger, warnings, support actions, notifications",
                "allOf": [schema_ref("JobView"), {
                    "type": "object",
                    "required": ["edges", "submitted_by", "created_at", "project_id", "paid_tier", "memory_context_used", "journal_length", "cost_ledger", "provider_tasks"],
                    "properties": {
                        "stages": { "type": "array", "items": { "type": "object", "required": ["shaping", "reroute_options"],
                                    "properties": { "shaping": schema_ref("StageShaping"),
                                                    "reroute_options": { "type": "array", "items": { "type": "string" },
                                                        "description": "the models a `reroute` of this stage would be accepted to now (capability, duration, aspect, in service, budget, state)" } } } },
                        "edges": { "type": "array", "items": { "type": "object", "required": ["from", "to"], "description": "`to` waits for `from`",
                                   "properties": { "from": { "type": "string" }, "to": { "type": "string" } } } },
                        "submitted_by": { "type": "string" },
                        "created_at": ms(),
                        "project_id": { "type": "string" },
                        "paid_tier": { "type": "boolean" },
                        "memory_context_used": { "type": "boolean" },
                        "journal_length": { "type": "integer" },
                        "cost_ledger": { "type": "object", "required": ["rows", "total_usd"], "properties": {
                            "rows": { "type": "array", "items": { "type": "object",
                                "required": ["stage_id", "attempt", "model", "provider", "usd", "recorded_at"],
                                "properties": { "stage_id": { "type": "string" }, "attempt": { "type": "integer" }, "model": { "type": "string" },
                                                "provider": { "type": "string" }, "usd": { "type": "number" }, "recorded_at": ms() } } },
                            "total_usd": { "type": "number" } } },
                        "provider_tasks": { "type": "array", "items": { "type": "object",
                            "required": ["provider", "provider_ref", "stage_id", "attempt"],
                            "properties": { "provider": { "type": "string" }, "provider_ref": { "type": "string" },
                                            "stage_id": { "type": "string" }, "attempt": { "type": "integer" } } } }
                    }
                }]
            }),
        ),
        (
            "JournalEntry",
            json!({
                "type": "object", "required": ["seq", "at", "actor", "input"],
                "properties": {
                    "seq": { "type": "integer" }, "at": ms(), "actor": schema_ref("Actor"),
                    "input": { "type": "object", "required": ["type"], "properties": { "type": { "type": "string" } },
                               "description": "the input the job handled, tagged by `type` (`created`, `provider_update`, `support`, ...)" }
                }
            }),
        ),
        (
            "JournalPage",
            json!({
                "type": "object", "required": ["entries", "next_after"],
                "properties": {
                    "entries": { "type": "array", "items": schema_ref("JournalEntry") },
                    "next_after": { "type": ["integer", "null"], "description": "pass as `after` for the next page; null when this page was the last" }
                }
            }),
        ),
        (
            "SupportSignIn",
            json!({
                "type": "object", "required": ["key"], "additionalProperties": false,
                "properties": { "key": { "type": "string", "description": "a support key (`support` or `support_admin`)" } }
            }),
        ),
        (
            "SupportSession",
            json!({
                "type": "object", "required": ["role", "key_label", "key_id", "csrf_token", "expires_at"],
                "properties": {
                    "role": { "type": "string", "enum": ["support", "support_admin"] },
                    "key_label": { "type": "string" }, "key_id": { "type": "string" },
                    "csrf_token": { "type": "string", "description": "send as `X-CSRF-Token` on requests that change something" },
                    "expires_at": ms()
                }
            }),
        ),
        ("SupportActionRequest", support_action()),
        ("MemoryEdit", memory_edit()),
        ("Outcomes", outcomes()),
        (
            "SnapshotEvent",
            json!({
                "type": "object", "required": ["job_id", "status", "progress", "cost_usd", "stages", "notes"], "description": "SSE `event: snapshot` data",
                "properties": { "job_id": { "type": "string" }, "status": schema_ref("JobStatus"),
                                "progress": schema_ref("ProgressView"), "cost_usd": { "type": "number" },
                                "stages": { "type": "array", "items": schema_ref("StageEvent") },
                                "notes": { "type": "array", "items": schema_ref("RaNote") } }
            }),
        ),
        (
            "StageEvent",
            json!({
                "type": "object", "required": ["stage", "status", "attempt"], "description": "SSE `event: stage` data (and each stage of a snapshot); `progress` and `cost_usd` on stage events",
                "properties": { "stage": { "type": "string" }, "status": stage_status,
                                "attempt": { "type": "integer" }, "progress": schema_ref("ProgressView"),
                                "cost_usd": { "type": "number" } }
            }),
        ),
        (
            "StatusChange",
            json!({
                "type": "object", "required": ["status", "from", "progress", "cost_usd", "failure"], "description": "SSE `event: status` data; `failure` is in Ra's words",
                "properties": { "status": schema_ref("JobStatus"), "from": schema_ref("JobStatus"),
                                "progress": schema_ref("ProgressView"), "cost_usd": { "type": "number" },
                                "failure": { "type": ["string", "null"] } }
            }),
        ),
    ]
}
