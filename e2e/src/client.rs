//! A small HTTP client for tests and the demo.

use reqwest::{Method, StatusCode};
use serde_json::Value;

/// Talks to the Worker with an optional API key
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    key: Option<String>,
}

/// A response with its body read
#[derive(Debug)]
pub struct Reply {
    /// Status
    pub status: StatusCode,
    /// Headers
    pub headers: reqwest::header::HeaderMap,
    /// Body as JSON (`Null` when empty or not JSON)
    pub json: Value,
    /// Raw body
    pub text: String,
}

impl Reply {
    /// Reads a response whole
    async fn read(resp: reqwest::Response) -> Result<Self, reqwest::Error> {
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await?;
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Self {
            status,
            headers,
            json,
            text,
        })
    }

    /// A header's value
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Client {
    /// A client for `base` (e.g. `http://127.0.0.1:8787`) using `key` as Bearer
    pub fn new(base: &str, key: Option<&str>) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_owned(),
            key: key.map(str::to_owned),
        }
    }

    /// The same client with another key
    pub fn with_key(&self, key: Option<&str>) -> Self {
        Self {
            http: self.http.clone(),
            base: self.base.clone(),
            key: key.map(str::to_owned),
        }
    }

    /// The base URL
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends a request; `body` is sent as JSON when present
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Result<Reply, reqwest::Error> {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(key) = &self.key {
            req = req.bearer_auth(key);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        Reply::read(req.send().await?).await
    }

    /// GET
    pub async fn get(&self, path: &str) -> Result<Reply, reqwest::Error> {
        self.send(Method::GET, path, None, &[]).await
    }

    /// POST JSON
    pub async fn post(&self, path: &str, body: &Value) -> Result<Reply, reqwest::Error> {
        self.send(Method::POST, path, Some(body), &[]).await
    }

    /// POST raw bytes with a content type
    pub async fn post_raw(
        &self,
        path: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<Reply, reqwest::Error> {
        let mut req = self
            .http
            .post(format!("{}{}", self.base, path))
            .header("content-type", content_type)
            .body(body);
        if let Some(key) = &self.key {
            req = req.bearer_auth(key);
        }
        Reply::read(req.send().await?).await
    }
}
