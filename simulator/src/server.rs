//! The HTTP server: control endpoints, dispatch under `/{provider}`, request logging, shutdown.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use percent_encoding::percent_decode_str;
use serde_json::json;
use tokio::task::JoinHandle;

use crate::config::{ConfigPatch, Settings};
use crate::http::{self, SimRequest};
use crate::providers::{self, Provider};
use crate::state::Sim;

/// Why the server could not start
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The listen address could not be bound
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address
        addr: SocketAddr,
        /// The cause
        source: std::io::Error,
    },
    /// The HTTP client for callbacks could not be built
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// A running simulator
pub struct Running {
    /// The bound address
    pub addr: SocketAddr,
    /// The simulator (state and counters), for in-process use
    pub sim: Sim,
    handle: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// The base URL, e.g. `http://127.0.0.1:8788`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, ends held requests and callbacks, and waits (at most 5 s) for the server
    pub async fn shutdown(self) -> std::io::Result<()> {
        self.sim.shutdown();
        match tokio::time::timeout(Duration::from_secs(5), self.handle).await {
            Ok(Ok(r)) => r,
            Ok(Err(join)) => Err(std::io::Error::other(join)),
            Err(_) => Ok(()),
        }
    }
}

/// Binds and starts the simulator in the current runtime
pub async fn start(settings: Settings) -> Result<Running, StartError> {
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: settings.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: settings.listen,
        source,
    })?;
    let public_url = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let sim = Sim::new(settings, public_url)?;
    let app = router(sim.clone());
    let stop = sim.clone();
    let handle = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.shutdown_signalled().await })
            .await
    });
    Ok(Running { addr, sim, handle })
}

/// The routes
pub fn router(sim: Sim) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/__sim/stats", get(stats))
        .route("/__sim/config", get(get_config).post(post_config))
        .route("/__sim/reset", post(reset))
        .route("/__sim/tasks", get(tasks))
        .fallback(dispatch)
        .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
        .layer(middleware::from_fn(log))
        // Outermost, so the stamp is taken before anything else reads the request
        .layer(middleware::from_fn(stamp_arrival))
        .with_state(sim)
}

/// When a request's head arrived, wall clock in microseconds
#[derive(Debug, Clone, Copy)]
struct Arrival(u64);

/// Stamps the request with its arrival time before its body is read: a submit carrying a large
/// inline image is timed from when it started to arrive, which on loopback is when it left
async fn stamp_arrival(mut req: Request, next: Next) -> Response {
    req.extensions_mut()
        .insert(Arrival(crate::util::now_unix_us()));
    next.run(req).await
}

async fn log(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    // The path only: query strings can carry keys (`?key=`)
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    eprintln!(
        "sim: {method} {path} -> {} ({} ms)",
        resp.status().as_u16(),
        started.elapsed().as_millis()
    );
    resp
}

async fn healthz() -> Response {
    http::json(StatusCode::OK, &json!({"ok": true}))
}

async fn stats(State(sim): State<Sim>) -> Response {
    let body = sim.with(|s| serde_json::to_value(s.stats_report(Instant::now())));
    match body {
        Ok(v) => http::json(StatusCode::OK, &v),
        Err(e) => control_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

async fn get_config(State(sim): State<Sim>) -> Response {
    match serde_json::to_value(sim.config()) {
        Ok(v) => http::json(StatusCode::OK, &v),
        Err(e) => control_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

async fn post_config(State(sim): State<Sim>, body: Bytes) -> Response {
    let patch: ConfigPatch = if body.iter().all(u8::is_ascii_whitespace) {
        ConfigPatch::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(p) => p,
            Err(e) => return control_error(StatusCode::BAD_REQUEST, &e.to_string()),
        }
    };
    let applied = sim.with(|s| {
        let restart = s.config.apply(patch).map_err(|e| e.to_string())?;
        if restart {
            s.faults = crate::faults::FaultState::default();
        }
        serde_json::to_value(&s.config).map_err(|e| e.to_string())
    });
    match applied {
        Ok(v) => http::json(StatusCode::OK, &v),
        Err(e) => control_error(StatusCode::BAD_REQUEST, &e),
    }
}

async fn reset(State(sim): State<Sim>) -> Response {
    sim.reset();
    http::json(StatusCode::OK, &json!({"ok": true}))
}

fn control_error(status: StatusCode, message: &str) -> Response {
    http::json(
        status,
        &json!({"error": {"code": "invalid_config", "message": message}}),
    )
}

/// `GET /__sim/tasks[?job=ID]`: every task (of one job of ours) with its timings, for the
/// stage-overhead benchmark: when its submit arrived, when it completes, when each callback was
/// sent and answered, and when a poll first found it done
async fn tasks(State(sim): State<Sim>, uri: Uri) -> Response {
    let job: Option<String> = uri.query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "job")
            .map(|(_, v)| v.into_owned())
    });
    let list: Vec<serde_json::Value> = sim.with(|s| {
        s.tasks
            .values()
            .filter(|t| {
                job.as_deref()
                    .is_none_or(|job| t.stage.as_ref().is_some_and(|r| r.job == job))
            })
            .map(|t| {
                json!({
                    "provider": t.provider.as_str(),
                    "id": t.id,
                    "model": t.model,
                    "job": t.stage.as_ref().map(|r| r.job.as_str()),
                    "stage": t.stage.as_ref().map(|r| r.stage.as_str()),
                    "attempt": t.stage.as_ref().map(|r| r.attempt.as_str()),
                    "received_unix_us": t.received_unix_us,
                    "created_unix_ms": t.created_unix_ms,
                    "completed_unix_ms": t.completed_unix_ms(),
                    "deliveries": t.deliveries,
                    "downloads": t.downloads,
                    "done_polled_unix_us": t.done_polled_unix_us,
                    "inline_image_sha256": inline_image_sha256(&t.input),
                })
            })
            .collect()
    });
    http::json(StatusCode::OK, &json!({ "tasks": list }))
}

/// The SHA-256 (hex) of the image a submit carried inline (Veo's `instances[0].image`), so a
/// test can check it is the keyframe the job stored
fn inline_image_sha256(input: &serde_json::Value) -> Option<String> {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let encoded = input
        .pointer("/instances/0/image/bytesBase64Encoded")?
        .as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    Some(hex::encode(Sha256::digest(bytes)))
}

async fn dispatch(
    State(sim): State<Sim>,
    arrival: Option<Extension<Arrival>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut segments = uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned());
    let Some(provider) = segments.next().as_deref().and_then(Provider::parse) else {
        return http::json(
            StatusCode::NOT_FOUND,
            &json!({"error": {"code": "not_found", "message": format!("no route for {}", uri.path())}}),
        );
    };
    let query = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let req = SimRequest {
        method,
        segments: segments.collect(),
        query,
        headers,
        body,
        received_unix_us: arrival.map_or_else(crate::util::now_unix_us, |Extension(a)| a.0),
    };
    providers::handle(&sim, provider, req).await
}
