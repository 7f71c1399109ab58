//! The submission pipeline every provider shares: provider limits, submit faults, idempotency,
//! identity and counters, task creation, poll and download lookups, and JSON field helpers.

use std::cell::RefCell;
use std::future::Future;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::{Failure, Provider, refuse_over_limit, reject};
use crate::faults::{CallbackFaults, FaultKind, SubmitFault};
use crate::http::{self, SimRequest};
use crate::limits::{Release, SlotId};
use crate::media::{self, MediaError, MediaKind, Shape, Spec, StageRef};
use crate::state::{DownloadRecord, Outcome, Sim, Task, Unavailable, bump};
use crate::util;

/// What a provider module hands to [`admit`]
#[derive(Debug, Clone)]
pub struct Submission {
    /// The model named in the request
    pub model: String,
    /// The prompt or text
    pub prompt: String,
    /// The request body (the basis of the identity when nothing better is present)
    pub input: Value,
    /// The per-request callback URL
    pub callback_url: Option<String>,
    /// BFL's webhook secret
    pub webhook_secret: Option<String>,
    /// An idempotency key the provider itself defines (Kling `external_task_id`); always honored
    pub provider_key: Option<String>,
    /// What the output is
    pub media: MediaKind,
    /// Output duration in seconds (videos, audio)
    pub seconds: f64,
    /// Frame size and rate, audio encoding and voice of the output (from the request's fields)
    pub shape: Shape,
    /// Provider-specific detail stored on the task
    pub aux: String,
    /// Output URL lifetime after completion, in milliseconds before scaling
    pub ttl_ms: u64,
    /// Forces the outcome (late validation failure, failed challenge)
    pub outcome: Option<Outcome>,
}

impl Submission {
    /// A submission with the common defaults (a 5 s 16:9 24 fps video, no callback, 24 h URLs)
    pub fn new(model: &str, prompt: &str, input: Value) -> Self {
        Self {
            model: model.to_string(),
            prompt: prompt.to_string(),
            input,
            callback_url: None,
            webhook_secret: None,
            provider_key: None,
            media: MediaKind::Video,
            seconds: 5.0,
            shape: Shape::default(),
            aux: String::new(),
            ttl_ms: 24 * 3600 * 1000,
            outcome: None,
        }
    }
}

/// The result of a submission that was not refused
#[derive(Debug, Clone)]
pub enum Admission {
    /// A new task
    New(Task),
    /// The existing task of a repeated idempotency key
    Replay(Task),
}

impl Admission {
    /// The task, new or replayed
    pub fn task(&self) -> &Task {
        match self {
            Self::New(t) | Self::Replay(t) => t,
        }
    }
}

/// A submission that passed the limit, fault and idempotency checks
#[derive(Debug, Clone)]
pub struct Cleared {
    identity: String,
    honored_key: Option<String>,
    stage: Option<StageRef>,
    /// The concurrency slot reserved for its task (none for a replay)
    slot: Option<SlotId>,
    /// When the request arrived (see [`Task::received_unix_us`])
    received_unix_us: u64,
}

/// The limiter slots taken while handling one request, freed when the request ends
struct RequestSlots {
    sim: Sim,
    held: RefCell<Vec<(Provider, SlotId)>>,
}

impl Drop for RequestSlots {
    fn drop(&mut self) {
        let held = std::mem::take(self.held.get_mut());
        if !held.is_empty() {
            self.sim.with(|s| {
                for (p, slot) in held {
                    s.limits.release(p, slot);
                }
            });
        }
    }
}

tokio::task_local! {
    // A task-local rather than a parameter: the slot is taken deep in `admit`, and a synchronous
    // provider's task must stay concurrent until its module has answered, which only the
    // dispatcher sees; dropping the scope also covers clients that hang up mid-request.
    static REQUEST_SLOTS: RequestSlots;
}

/// Runs a request's handler in a scope that frees, when it ends, the slots its submit reserved
/// and never turned into a task, and the slot of a synchronous provider's task
pub async fn within_request<F: Future<Output = Response>>(sim: &Sim, handler: F) -> Response {
    let scope = RequestSlots {
        sim: sim.clone(),
        held: RefCell::new(Vec::new()),
    };
    REQUEST_SLOTS.scope(scope, handler).await
}

/// Records a slot to free when the current request ends (outside a request scope, only direct
/// callers, nothing is recorded: refusals free their slot and tasks end at completion)
fn hold_for_request(p: Provider, slot: SlotId) {
    // An error only means there is no request scope, which the comment above covers
    let _ = REQUEST_SLOTS.try_with(|r| r.held.borrow_mut().push((p, slot)));
}

/// Frees the slot of a submit refused after it was reserved
fn free_slot(sim: &Sim, p: Provider, slot: Option<SlotId>) {
    if let Some(slot) = slot {
        sim.with(|s| s.limits.release(p, slot));
    }
}

/// Applies provider limits, submit faults and idempotency; `Ok(Err(task))` is a replay of an
/// existing task
pub async fn preflight(
    sim: &Sim,
    p: Provider,
    req: &SimRequest,
    sub: &Submission,
) -> Result<Result<Cleared, Task>, Response> {
    let header_key = req
        .header("idempotency-key")
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string);
    let honor_header = sim.with(|s| s.config.honor_idempotency_key.contains(&p));
    let honored_key = sub
        .provider_key
        .clone()
        .or_else(|| header_key.clone().filter(|_| honor_header));
    let identity = identity(p, sub, header_key.as_deref());
    let stage = sub
        .callback_url
        .as_deref()
        .and_then(StageRef::from_callback)
        .or_else(|| sub.provider_key.as_deref().and_then(StageRef::from_key))
        .or_else(|| header_key.as_deref().and_then(StageRef::from_key));

    // Limits first, as at a provider's gateway: a submit refused there draws no fault. A replay
    // of an honored key creates no task, so it takes no slot (it still counts as a request).
    let admitted = sim.with(|s| {
        let replay = honored_key
            .as_ref()
            .and_then(|k| s.idempotency.get(&(p, k.clone())))
            .is_some_and(|id| s.tasks.contains_key(&(p, id.clone())));
        s.admit_submit(p, !replay, Instant::now())
    });
    let slot = match admitted {
        Ok(slot) => slot,
        Err(refused) => return Err(refuse_over_limit(p, &refused)),
    };
    if let Some(slot) = slot {
        hold_for_request(p, slot);
    }
    let cleared = Cleared {
        identity,
        honored_key,
        stage,
        slot,
        received_unix_us: req.received_unix_us,
    };

    match sim.with(|s| s.submit_fault(p, &cleared.identity)) {
        None => {}
        Some(SubmitFault::ServerError) => {
            free_slot(sim, p, cleared.slot);
            return Err(reject(sim, p, &Failure::ServerError));
        }
        Some(SubmitFault::RateLimited { .. }) => {
            free_slot(sim, p, cleared.slot);
            return Err(reject(sim, p, &Failure::RateLimited));
        }
        Some(SubmitFault::Malformed) => {
            free_slot(sim, p, cleared.slot);
            return Err(http::malformed());
        }
        Some(SubmitFault::Timeout { hold, accept }) => {
            if accept {
                create(sim, p, &cleared, sub);
            } else {
                free_slot(sim, p, cleared.slot);
            }
            sim.sleep(hold).await;
            return Err(reject(sim, p, &Failure::Timeout));
        }
    }

    if let Some(key) = &cleared.honored_key {
        let existing = sim.with(|s| {
            let id = s.idempotency.get(&(p, key.clone()))?.clone();
            let task = s.tasks.get(&(p, id))?.clone();
            bump(&mut s.stats.submissions, p.as_str());
            bump(&mut s.stats.submissions_by_task, &cleared.identity);
            s.stats.idempotent_replays += 1;
            Some(task)
        });
        if let Some(task) = existing {
            // Reserved when the key was not known yet (a concurrent first submit created it)
            free_slot(sim, p, cleared.slot);
            return Ok(Err(task));
        }
    }
    Ok(Ok(cleared))
}

/// Creates the task of a cleared submission, counts it, binds it to its concurrency slot and
/// schedules its callbacks
pub fn create(sim: &Sim, p: Provider, cleared: &Cleared, sub: &Submission) -> Task {
    let (a, b) = (sim.next_u64(), sim.next_u64());
    let id = p.mint_id(a, b);
    // Outside a request scope (direct calls) nothing would free a request-held slot, so the
    // task then ends at its completion time
    let in_request = REQUEST_SLOTS.try_with(|_| ()).is_ok();
    let release = if p.synchronous() && in_request {
        Release::WithRequest
    } else {
        Release::AtCompletion
    };
    let (task, slot) = sim.with(|s| {
        let identity = cleared.identity.as_str();
        let spec = s.config.faults(p);
        let moderated = s.fault(p, FaultKind::Moderation, identity);
        let expired = s.fault(p, FaultKind::ExpiredOutput, identity);
        let has_target = !p.callback_phases().is_empty()
            && match p {
                Provider::Sora => s.config.sora_webhook_url.is_some(),
                _ => sub.callback_url.is_some(),
            };
        let mut callbacks = CallbackFaults::default();
        if has_target {
            callbacks.duplicate = s.fault(p, FaultKind::CallbackDuplicate, identity);
            callbacks.out_of_order = s.fault(p, FaultKind::CallbackOutOfOrder, identity);
            if let Some(ms) = spec.callback_late_ms.filter(|ms| *ms > 0) {
                callbacks.late = s.config.scaled(ms);
                s.count_fault(p, FaultKind::CallbackLate);
            }
        }
        let outcome = match (&sub.outcome, moderated) {
            (Some(o), _) => o.clone(),
            (None, true) => Outcome::Moderated,
            (None, false) => Outcome::Succeeded,
        };
        let task = Task {
            provider: p,
            id: id.clone(),
            identity: identity.to_string(),
            created: Instant::now(),
            created_unix_ms: util::now_unix_ms(),
            received_unix_us: cleared.received_unix_us,
            deliveries: Vec::new(),
            downloads: Vec::new(),
            done_polled_unix_us: None,
            latency: s.config.latency(p),
            outcome,
            model: sub.model.clone(),
            prompt: sub.prompt.clone(),
            input: sub.input.clone(),
            callback_url: sub.callback_url.clone(),
            webhook_secret: sub.webhook_secret.clone(),
            media: sub.media,
            seconds: sub.seconds,
            shape: sub.shape.clone(),
            media_per_shape: s.config.media_per_shape,
            stage: cleared.stage.clone(),
            aux: sub.aux.clone(),
            ttl: if expired {
                Duration::ZERO
            } else {
                s.config.scaled(sub.ttl_ms)
            },
            callbacks,
            cancelled: false,
            epoch: s.epoch,
        };
        bump(&mut s.stats.submissions, p.as_str());
        let n = s
            .stats
            .submissions_by_task
            .entry(identity.to_string())
            .or_insert(0);
        *n += 1;
        if *n > 1 {
            // A repeat while the last task can still deliver is a duplicate; after it can no
            // longer (expired output, failure) it is the client asking for the work again.
            let live = s
                .last_task_of
                .get(identity)
                .and_then(|last| s.tasks.get(&(p, last.clone())))
                .is_some_and(|t| t.may_deliver(Instant::now()));
            if live {
                s.stats.duplicate_submissions += 1;
            } else {
                s.stats.regenerations += 1;
            }
        }
        s.last_task_of.insert(identity.to_string(), id.clone());
        if let Some(key) = &cleared.honored_key {
            s.idempotency.insert((p, key.clone()), id.clone());
        }
        s.tasks.insert((p, id.clone()), task.clone());
        let slot = s.bind_slot(&task, cleared.slot, release, task.created);
        (task, slot)
    });
    if release == Release::WithRequest && cleared.slot != Some(slot) {
        hold_for_request(p, slot);
    }
    crate::delivery::spawn_lifecycle(sim.clone(), task.clone());
    task
}

/// [`preflight`] then [`create`]
pub async fn admit(
    sim: &Sim,
    p: Provider,
    req: &SimRequest,
    sub: Submission,
) -> Result<Admission, Response> {
    match preflight(sim, p, req, &sub).await? {
        Err(task) => Ok(Admission::Replay(task)),
        Ok(cleared) => Ok(Admission::New(create(sim, p, &cleared, &sub))),
    }
}

/// Query keys that carry no identity (tokens, signatures, timestamps)
const VOLATILE_QUERY_KEYS: [&str; 10] = [
    "token",
    "sig",
    "signature",
    "hmac",
    "mac",
    "t",
    "ts",
    "timestamp",
    "exp",
    "expires",
];

/// The identity of a submission: `provider:cb:<callback path>`, `provider:key:<key>` or
/// `provider:body:<hash>`
fn identity(p: Provider, sub: &Submission, header_key: Option<&str>) -> String {
    if let Some(cb) = &sub.callback_url {
        return format!("{}:cb:{}", p.as_str(), callback_identity(cb));
    }
    if let Some(k) = sub.provider_key.as_deref().or(header_key) {
        return format!("{}:key:{k}", p.as_str());
    }
    let canonical = format!("{}\n{}", sub.model, sub.input);
    let hash = util::sha256_hex(canonical.as_bytes());
    format!("{}:body:{}", p.as_str(), &hash[..16])
}

/// The part of a callback URL that names job, stage and attempt: the path after
/// `/v1/callbacks/` (or the whole path) plus the query without volatile keys
pub fn callback_identity(url: &str) -> String {
    let Ok(u) = url::Url::parse(url) else {
        return url.to_string();
    };
    let path = u.path();
    let path = path
        .find("/v1/callbacks/")
        .map_or(path, |i| &path[i + "/v1/callbacks/".len()..]);
    let mut pairs: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| !VOLATILE_QUERY_KEYS.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    if pairs.is_empty() {
        return path.to_string();
    }
    let q: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{path}?{}", q.join("&"))
}

/// Looks a task up for a poll: counts the poll and decides the `malformed` fault
pub fn poll(sim: &Sim, p: Provider, id: &str) -> Result<Task, Option<Response>> {
    let (task, malformed) = sim.with(|s| {
        let malformed = s.poll(p, id);
        (s.tasks.get(&(p, id.to_string())).cloned(), malformed)
    });
    match (task, malformed) {
        (None, _) => Err(None),
        (Some(_), true) => Err(Some(http::malformed())),
        (Some(t), false) => Ok(t),
    }
}

/// Looks a task up for a download; counts expired attempts
pub fn output(sim: &Sim, p: Provider, id: &str) -> Result<Task, Option<Unavailable>> {
    let task = sim.task(p, id).ok_or(None)?;
    match task.output_available(Instant::now()) {
        Ok(()) => Ok(task),
        Err(Unavailable::Expired) => {
            sim.with(|s| bump(&mut s.stats.expired_downloads, p.as_str()));
            Err(Some(Unavailable::Expired))
        }
        Err(e) => Err(Some(e)),
    }
}

/// Serves a task's output as `kind`: rendered on first download (or found in the media cache)
/// and streamed from disk; counts the download. A file that cannot be rendered (ffmpeg missing
/// or failing) is a 500 in the provider's error shape, logged with the reason.
pub async fn serve_output(sim: &Sim, p: Provider, task: &Task, kind: MediaKind) -> Response {
    let spec = Spec::for_task(task, kind);
    let asked_unix_us = util::now_unix_us();
    let rendered = media::render(&spec).await;
    // The file is made on first download: the stage-overhead benchmark separates that making,
    // which a real provider has done before its callback, from our copy of the file
    let record = DownloadRecord {
        asked_unix_us,
        ready_unix_us: util::now_unix_us(),
    };
    sim.with_task(p, &task.id, |t| t.downloads.push(record));
    match rendered {
        Ok(ready) => {
            let pad = sim.with(|s| {
                bump(&mut s.stats.downloads, p.as_str());
                s.config.pad_outputs_bytes.get(&p).copied().unwrap_or(0)
            });
            media::respond_padded(ready, kind.content_type(), pad)
        }
        Err(e) => media_failure(sim, p, &spec, &e),
    }
}

/// Renders `spec` for a synchronous answer (ElevenLabs, MiniMax music), counting a failure
pub async fn render_output(sim: &Sim, p: Provider, spec: &Spec) -> Result<media::Ready, Response> {
    media::render(spec)
        .await
        .map_err(|e| media_failure(sim, p, spec, &e))
}

/// Logs a rendering failure, counts it, and answers 500 in the provider's error shape with the
/// reason as the message
pub fn media_failure(sim: &Sim, p: Provider, spec: &Spec, e: &MediaError) -> Response {
    eprintln!("sim: cannot render {}: {e}", media::describe(p, spec));
    sim.with(|s| bump(&mut s.stats.media_failures, p.as_str()));
    let (_, mut body) = error_shape(p, &Failure::ServerError);
    let message = format!("simulator could not render the output: {e}");
    for pointer in [
        "/error/message",
        "/detail/message",
        "/base_resp/status_msg",
        "/detail",
        "/message",
        "/error",
    ] {
        if let Some(slot) = body.pointer_mut(pointer)
            && slot.is_string()
        {
            *slot = Value::String(message.clone());
            break;
        }
    }
    http::json(StatusCode::INTERNAL_SERVER_ERROR, &body)
}

/// The provider's error shape of `f` (as [`reject`] renders it, without counting)
fn error_shape(p: Provider, f: &Failure) -> (StatusCode, Value) {
    match p {
        Provider::Veo => super::veo::error(f),
        Provider::Sora => super::sora::error(f),
        Provider::Kling => super::kling::error(f),
        Provider::Runway => super::runway::error(f),
        Provider::Fal => super::fal::error(f),
        Provider::Luma => super::luma::error(f),
        Provider::Seedance => super::seedance::error(f),
        Provider::Hailuo | Provider::MinimaxMusic => super::hailuo::error(f),
        Provider::Bfl => super::bfl::error(f),
        Provider::Elevenlabs => super::elevenlabs::error(f),
        Provider::Replicate => super::replicate::error(f),
        _ => (
            f.status(),
            serde_json::json!({"error": {"message": f.message()}}),
        ),
    }
}

/// Marks a task cancelled (its result is final: its concurrency slot is freed); returns its copy
pub fn cancel(sim: &Sim, p: Provider, id: &str) -> Option<Task> {
    sim.with(|s| {
        let t = s.tasks.get_mut(&(p, id.to_string()))?;
        t.cancelled = true;
        let t = t.clone();
        s.limits.finish(p, id);
        Some(t)
    })
}

/// A string field of a JSON object
pub fn str_field<'a>(m: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a str> {
    m.get(key).and_then(Value::as_str)
}

/// A field that must be absent or a string, else a failure naming it
pub fn opt_str<'a>(
    m: &'a serde_json::Map<String, Value>,
    key: &str,
) -> Result<Option<&'a str>, Failure> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(Failure::invalid(key, format!("{key} must be a string"))),
    }
}

/// A field that must be absent or one of `allowed`
pub fn opt_enum<'a>(
    m: &'a serde_json::Map<String, Value>,
    key: &str,
    allowed: &[&str],
) -> Result<Option<&'a str>, Failure> {
    match opt_str(m, key)? {
        None => Ok(None),
        Some(v) if allowed.contains(&v) => Ok(Some(v)),
        Some(v) => Err(Failure::invalid(
            key,
            format!("{key} must be one of {}, got {v:?}", allowed.join(", ")),
        )),
    }
}

/// An absolute http(s) URL, else a failure naming the field
pub fn url_field(value: Option<&str>, field: &str) -> Result<Option<String>, Failure> {
    match value {
        None | Some("") => Ok(None),
        Some(u) => match url::Url::parse(u) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(Some(u.to_string())),
            _ => Err(Failure::invalid(
                field,
                format!("{field} must be an http(s) URL"),
            )),
        },
    }
}

/// A number that may come as a JSON number or a numeric string
pub fn loose_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().trim_end_matches('s').parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    async fn body(r: Response) -> (StatusCode, Value) {
        let status = r.status();
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn a_rendering_failure_is_a_500_in_the_providers_shape_naming_the_package() {
        let sim = Sim::new(Settings::ephemeral(), "http://127.0.0.1:1".into()).unwrap();
        let task = Task {
            provider: Provider::Veo,
            id: "t".into(),
            identity: "veo:t".into(),
            created: Instant::now(),
            created_unix_ms: 0,
            received_unix_us: 0,
            deliveries: Vec::new(),
            downloads: Vec::new(),
            done_polled_unix_us: None,
            latency: Duration::ZERO,
            outcome: Outcome::Succeeded,
            model: "veo".into(),
            prompt: "a test".into(),
            input: Value::Null,
            callback_url: None,
            webhook_secret: None,
            media: MediaKind::Video,
            seconds: 1.0,
            shape: Default::default(),
            media_per_shape: false,
            stage: None,
            aux: String::new(),
            ttl: Duration::ZERO,
            callbacks: Default::default(),
            cancelled: false,
            epoch: 0,
        };
        let spec = Spec::for_task(&task, MediaKind::Video);
        let e = MediaError::Missing(media::tool::FFMPEG);
        for (p, pointer) in [
            (Provider::Veo, "/error/message"),
            (Provider::Sora, "/error/message"),
            (Provider::Elevenlabs, "/detail/message"),
            (Provider::MinimaxMusic, "/base_resp/status_msg"),
            (Provider::Fal, "/detail"),
            (Provider::Runway, "/error"),
        ] {
            let (status, v) = body(media_failure(&sim, p, &spec, &e)).await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
            let msg = v.pointer(pointer).and_then(Value::as_str).unwrap_or("");
            assert!(msg.contains("Debian package `ffmpeg`"), "{p:?}: {v}");
        }
        let failures = sim.with(|s| s.stats.media_failures.clone());
        assert_eq!(failures.get("veo"), Some(&1));
    }
}
