//! Test harness: an in-process simulator on an ephemeral port, a loopback callback receiver,
//! and independent signature verifiers (they do not use the simulator's signing code).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use simulator::{Running, Settings};

/// The simulator under test plus an HTTP client
pub struct Sim {
    pub running: Running,
    pub base: String,
    pub client: reqwest::Client,
}

impl Sim {
    /// Starts a simulator with the given default latency and time scale
    pub async fn start(latency_ms: u64, time_scale: f64) -> Self {
        let mut settings = Settings::ephemeral();
        settings.latency_ms = latency_ms;
        settings.time_scale = time_scale;
        Self::start_with(settings).await
    }

    pub async fn start_with(settings: Settings) -> Self {
        let running = simulator::start(settings).await.expect("simulator starts");
        let base = running.base_url();
        Self {
            running,
            base,
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn config(&self, body: Value) -> Value {
        let r = self
            .client
            .post(self.url("/__sim/config"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "config accepted");
        r.json().await.unwrap()
    }

    pub async fn stats(&self) -> Value {
        self.client
            .get(self.url("/__sim/stats"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn get_json(&self, url: &str, headers: &[(&str, &str)]) -> (u16, Value) {
        let mut rb = self.client.get(url);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_json(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: &Value,
    ) -> reqwest::Response {
        let mut rb = self.client.post(self.url(path)).json(body);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        rb.send().await.unwrap()
    }

    pub async fn stop(self) {
        self.running.shutdown().await.unwrap();
    }
}

/// One callback received
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

#[derive(Default)]
struct Inbox {
    received: Vec<Received>,
    /// Statuses to answer with before answering 200
    scripted: VecDeque<u16>,
    /// Answer challenges with a wrong value
    break_challenge: bool,
}

/// A loopback HTTP listener that records every POST and echoes MiniMax challenges
#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    inbox: Arc<Mutex<Inbox>>,
}

async fn receive(
    State(inbox): State<Arc<Mutex<Inbox>>>,
    method: axum::http::Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    // GETs are the simulator fetching test content (the assembler reads its clips): serve a few
    // bytes, record nothing.
    if method == axum::http::Method::GET {
        return (
            StatusCode::OK,
            [("content-type", "video/mp4")],
            "clip-bytes".to_string(),
        );
    }
    let mut inbox = inbox.lock().unwrap();
    let challenge = serde_json::from_slice::<Value>(&body).ok().and_then(|v| {
        v.get("challenge")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    if let Some(c) = challenge {
        let c = if inbox.break_challenge {
            "wrong".to_string()
        } else {
            c
        };
        return (
            StatusCode::OK,
            [("content-type", "application/json")],
            json!({ "challenge": c }).to_string(),
        );
    }
    inbox.received.push(Received {
        path: uri.to_string(),
        headers,
        body,
    });
    let status = inbox.scripted.pop_front().unwrap_or(200);
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        json!({"ok": status == 200}).to_string(),
    )
}

impl Receiver {
    pub async fn start() -> Self {
        let inbox = Arc::new(Mutex::new(Inbox::default()));
        let app = Router::new().fallback(receive).with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { addr, inbox }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().received.clone()
    }

    /// Answers the next callbacks with these statuses, then 200
    pub fn script(&self, statuses: &[u16]) {
        self.inbox
            .lock()
            .unwrap()
            .scripted
            .extend(statuses.iter().copied());
    }

    pub fn break_challenges(&self) {
        self.inbox.lock().unwrap().break_challenge = true;
    }

    /// Waits (bounded) until `pred` holds for the received callbacks
    pub async fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.received();
            if pred(&got) {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; got {got:#?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Polls `f` (bounded) until it returns Some
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

// ---- Independent verifiers ----

/// Standard Webhooks: verifies `webhook-signature` (space-separated list) for id/timestamp/body
pub fn verify_standard_webhooks(
    secret: &str,
    msg_id: &str,
    timestamp: &str,
    body: &[u8],
    signature_header: &str,
) -> bool {
    let Some(b64) = secret.strip_prefix("whsec_") else {
        return false;
    };
    let Ok(key) = STANDARD.decode(b64) else {
        return false;
    };
    if key.is_empty() {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{msg_id}.{timestamp}.").as_bytes());
    mac.update(body);
    let expected = mac.finalize().into_bytes();
    signature_header.split(' ').any(|entry| {
        entry
            .strip_prefix("v1,")
            .and_then(|sig| STANDARD.decode(sig).ok())
            .is_some_and(|sig| sig.as_slice() == expected.as_slice())
    })
}

/// BFL: `sha256=<hex HMAC-SHA256(secret, body)>`
pub fn verify_bfl(secret: &str, body: &[u8], header: &str) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    header
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h).ok())
        .is_some_and(|sig| mac.verify_slice(&sig).is_ok())
}

/// fal: ED25519 over `request_id\nuser_id\ntimestamp\nsha256hex(body)` with a JWKS key
pub fn verify_fal(jwks: &Value, r: &Received) -> bool {
    let message = format!(
        "{}\n{}\n{}\n{}",
        r.header("x-fal-webhook-request-id"),
        r.header("x-fal-webhook-user-id"),
        r.header("x-fal-webhook-timestamp"),
        hex::encode(Sha256::digest(&r.body))
    );
    let Ok(sig_bytes) = hex::decode(r.header("x-fal-webhook-signature")) else {
        return false;
    };
    let Ok(sig) = ed25519_dalek::Signature::from_slice(&sig_bytes) else {
        return false;
    };
    jwks["keys"].as_array().unwrap().iter().any(|k| {
        let x = k["x"].as_str().unwrap().trim_end_matches('=');
        let bytes: [u8; 32] = URL_SAFE_NO_PAD.decode(x).unwrap().try_into().unwrap();
        ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .is_ok_and(|vk| vk.verify_strict(message.as_bytes(), &sig).is_ok())
    })
}

/// Mints Kling's HS256 JWT by hand
pub fn kling_jwt(ak: &str, sk: &str, exp_offset: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let p = URL_SAFE_NO_PAD
        .encode(json!({"iss": ak, "exp": now + exp_offset, "nbf": now - 5}).to_string());
    let mut mac = Hmac::<Sha256>::new_from_slice(sk.as_bytes()).unwrap();
    mac.update(format!("{h}.{p}").as_bytes());
    format!(
        "{h}.{p}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

pub const SORA_SECRET: &str = "whsec_c2ltLXNvcmEtd2ViaG9vay1zZWNyZXQtMDAwMDAwMDA=";
pub const REPLICATE_SECRET: &str = "whsec_c2ltLXJlcGxpY2F0ZS13ZWJob29rLXNlY3JldC0wMDA=";
pub const WAIT: Duration = Duration::from_secs(10);

/// Submits a FLUX 1.1 pro request to the BFL simulator and waits until it is Ready; the result's
/// sample URL
pub async fn bfl_sample(sim: &Sim, body: Value) -> String {
    let key = [("x-key", "sim-bfl-key")];
    let created: Value = sim
        .post_json("/bfl/v1/flux-pro-1.1", &key, &body)
        .await
        .json()
        .await
        .unwrap();
    let url = created["polling_url"].as_str().unwrap().to_string();
    eventually("Ready", Duration::from_secs(15), || async {
        let (_, r) = sim.get_json(&url, &key).await;
        (r["status"] == "Ready")
            .then(|| r["result"]["sample"].as_str().map(str::to_string))
            .flatten()
    })
    .await
}
