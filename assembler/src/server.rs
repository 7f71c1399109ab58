//! The HTTP server: routes of docs/assembler.md, Bearer authentication, request logging,
//! start-up (including resumption) and shutdown.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path as UrlPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;

use crate::config::Settings;
use crate::exec;
use crate::files;
use crate::record;
use crate::service::{FileError, Service};
use crate::store::{Store, StoreError};
use crate::timeline::parse_submission;
use crate::video::{FALLBACK_FONT_FAMILY, Font};

/// The largest submit body: a timeline of hundreds of clips with signed URLs is far below it
const MAX_BODY: usize = 4 * 1024 * 1024;

/// The longest `Idempotency-Key` accepted
const MAX_KEY_LEN: usize = 255;

/// Why the server could not start
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The settings cannot work
    #[error("{0}")]
    Config(String),
    /// The listen address could not be bound
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address
        addr: SocketAddr,
        /// The cause
        source: std::io::Error,
    },
    /// The data directory could not be opened or read
    #[error("data directory: {0}")]
    Store(#[from] StoreError),
    /// ffmpeg or ffprobe cannot be run
    #[error("{0}")]
    Tool(String),
    /// The HTTP client could not be built
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// A running assembler
pub struct Running {
    /// The bound address
    pub addr: SocketAddr,
    /// The assemblies, for in-process use
    pub service: Service,
    handle: JoinHandle<std::io::Result<()>>,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Running {
    /// The base URL, e.g. `http://127.0.0.1:8789`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, stops every run (killing ffmpeg; the work resumes at the next start)
    /// and waits at most 5 s for open requests
    pub async fn shutdown(self) -> std::io::Result<()> {
        self.service.abort_all();
        self.stop.send_replace(true);
        match tokio::time::timeout(Duration::from_secs(5), self.handle).await {
            Ok(Ok(r)) => r,
            Ok(Err(join)) if join.is_cancelled() => Ok(()),
            Ok(Err(join)) => Err(std::io::Error::other(join)),
            Err(_) => Ok(()),
        }
    }

    /// Stops everything at once, as a crash would: open connections are cut, runs are killed
    /// mid-step and nothing is written
    pub fn abort(self) {
        self.service.abort_all();
        self.handle.abort();
    }
}

async fn check_tool(path: &Path, what: &str) -> Result<(), StartError> {
    let (_keep, mut never) = tokio::sync::watch::channel(false);
    let cwd = std::env::temp_dir();
    exec::run(
        path,
        &["-version".to_string()],
        &cwd,
        Duration::from_secs(20),
        &mut never,
    )
    .await
    .map(drop)
    .map_err(|e| {
        StartError::Tool(format!(
            "{what} ({}) does not run: {e}; install ffmpeg or set ASSEMBLER_{}",
            path.display(),
            what.to_ascii_uppercase()
        ))
    })
}

/// Binds, loads the data directory, resumes unfinished work and serves, in the current runtime
pub async fn start(settings: Settings) -> Result<Running, StartError> {
    if settings.api_key.trim().is_empty() {
        return Err(StartError::Config(
            "ASSEMBLER_API_KEY must not be empty".into(),
        ));
    }
    check_tool(&settings.ffmpeg, "ffmpeg").await?;
    check_tool(&settings.ffprobe, "ffprobe").await?;
    let font = if settings.font_file.is_file() {
        Font::File(settings.font_file.display().to_string())
    } else {
        eprintln!(
            "assembler: no font file at {}; using fontconfig's \"{FALLBACK_FONT_FAMILY}\"",
            settings.font_file.display()
        );
        Font::Family(FALLBACK_FONT_FAMILY.into())
    };
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
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| format!("http://{addr}"));
    let data_dir = settings.data_dir();
    let store = Store::open(&data_dir)?;
    let client = crate::fetch::client()?;
    let api_key = settings.api_key.clone();
    let (service, warnings) = Service::load(settings, public_url, store, font, client)?;
    for w in warnings {
        eprintln!("assembler: {w}");
    }
    service.resume().await;
    let app = router(service.clone(), &api_key);
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let handle = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|s| *s).await;
            })
            .await
    });
    eprintln!("assembler: data in {}", data_dir.display());
    if !crate::fetch::HTTPS {
        eprintln!(
            "assembler: built without the `tls` feature: inputs and callbacks must be http URLs"
        );
    }
    Ok(Running {
        addr,
        service,
        handle,
        stop,
    })
}

#[derive(Clone)]
struct AppState {
    service: Service,
    key_digest: [u8; 32],
}

/// The routes
pub fn router(service: Service, api_key: &str) -> Router {
    let state = AppState {
        service,
        key_digest: Sha256::digest(api_key.as_bytes()).into(),
    };
    let api = Router::new()
        .route("/v1/assemblies", post(submit))
        .route("/v1/assemblies/{id}", get(status).delete(cancel))
        .route("/v1/files/{id}/{name}", get(file))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate));
    Router::new()
        .route("/healthz", get(healthz))
        .merge(api)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn(log))
        .with_state(state)
}

async fn log(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    // The path only: never query strings
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    // Health checks and successful status polls would drown everything else
    let routine = path == "/healthz"
        || (method == axum::http::Method::GET
            && path.starts_with("/v1/assemblies/")
            && resp.status().is_success());
    if !routine {
        eprintln!(
            "assembler: {method} {path} -> {} ({} ms)",
            resp.status().as_u16(),
            started.elapsed().as_millis()
        );
    }
    resp
}

/// Compares digests in constant time: neither the key's length nor its matching prefix leaks
fn key_matches(expected: &[u8; 32], presented: &str) -> bool {
    let got: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
    expected
        .iter()
        .zip(got.iter())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

async fn authenticate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match bearer(req.headers()) {
        Some(token) if key_matches(&state.key_digest, token) => next.run(req).await,
        presented => {
            let message = if presented.is_some() {
                "the Bearer key is not valid"
            } else {
                "an Authorization: Bearer <ASSEMBLER_API_KEY> header is required"
            };
            let mut r = error(StatusCode::UNAUTHORIZED, "unauthorized", message, None);
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            r
        }
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn error(status: StatusCode, code: &str, message: &str, field: Option<&str>) -> Response {
    let mut e = json!({"code": code, "message": message});
    if let Some(f) = field {
        e["field"] = json!(f);
    }
    json_response(status, &json!({"error": e}))
}

fn internal(e: &dyn std::fmt::Display) -> Response {
    eprintln!("assembler: internal error: {e}");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        &format!("the assembler could not record this: {e}"),
        None,
    )
}

async fn healthz() -> Response {
    let mut r = Response::new(Body::from("ok"));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    r
}

async fn not_found(req: Request) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        &format!("no route for {} {}", req.method(), req.uri().path()),
        None,
    )
}

async fn submit(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let key = match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        Some(Ok(k)) if !k.trim().is_empty() && k.trim().len() <= MAX_KEY_LEN => {
            Some(k.trim().to_string())
        }
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &format!("must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
                Some("Idempotency-Key"),
            );
        }
    };
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &format!("the body is not valid JSON: {e}"),
                Some("body"),
            );
        }
    };
    let submission = match parse_submission(&value) {
        Ok(s) => s,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &e.to_string(),
                Some(&e.field),
            );
        }
    };
    match state.service.submit(key, submission).await {
        Ok((assembly, true)) => json_response(StatusCode::ACCEPTED, &assembly),
        Ok((assembly, false)) => json_response(StatusCode::OK, &assembly),
        Err(e) => internal(&e),
    }
}

fn no_assembly(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        &format!("no assembly {id}"),
        None,
    )
}

async fn status(State(state): State<AppState>, UrlPath(id): UrlPath<String>) -> Response {
    match state.service.get(&id) {
        Some(v) => json_response(StatusCode::OK, &v),
        None => no_assembly(&id),
    }
}

async fn cancel(State(state): State<AppState>, UrlPath(id): UrlPath<String>) -> Response {
    match state.service.cancel(&id).await {
        Ok(Some(v)) => json_response(StatusCode::OK, &v),
        Ok(None) => no_assembly(&id),
        Err(e) => internal(&e),
    }
}

async fn file(
    State(state): State<AppState>,
    UrlPath((id, name)): UrlPath<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let path = match state.service.file_path(&id, &name) {
        Ok(p) => p,
        Err(FileError::NotFound(m)) => return error(StatusCode::NOT_FOUND, "not_found", &m, None),
        Err(FileError::NotReady(m)) => return error(StatusCode::CONFLICT, "not_ready", &m, None),
    };
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    match files::serve(&path, record::content_type(&name), range).await {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => error(
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("{id}/{name} is missing from the data directory"),
            None,
        ),
        Err(e) => internal(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_keys_by_digest() {
        let d: [u8; 32] = Sha256::digest(b"secret").into();
        assert!(key_matches(&d, "secret"));
        assert!(!key_matches(&d, "secreT"));
        assert!(!key_matches(&d, ""));
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer  secret "),
        );
        assert_eq!(bearer(&h), Some("secret"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic secret"),
        );
        assert_eq!(bearer(&h), None);
    }
}
