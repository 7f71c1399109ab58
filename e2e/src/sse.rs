//! A small Server-Sent Events client for tests.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::Value;

/// One event of a stream
#[derive(Debug, Clone)]
pub struct SseEvent {
    /// `event:` (`message` when absent)
    pub event: String,
    /// `id:`, if any
    pub id: Option<String>,
    /// `data:` parsed as JSON (`Null` when it is not JSON)
    pub data: Value,
    /// When it arrived
    pub at: Instant,
}

/// What a stream delivered
#[derive(Debug)]
pub struct SseOutcome {
    /// The events, in order
    pub events: Vec<SseEvent>,
    /// Whether the server closed the stream (rather than the timeout ending it)
    pub ended: bool,
    /// Comment lines seen (keep-alives)
    pub comments: usize,
}

fn parse_block(block: &str, at: Instant) -> Option<SseEvent> {
    let mut event = None;
    let mut id = None;
    let mut data: Vec<&str> = Vec::new();
    for line in block.lines() {
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => event = Some(value.to_owned()),
            "id" => id = Some(value.to_owned()),
            "data" => data.push(value),
            _ => {}
        }
    }
    if event.is_none() && data.is_empty() {
        return None;
    }
    let joined = data.join("\n");
    Some(SseEvent {
        event: event.unwrap_or_else(|| "message".into()),
        id,
        data: serde_json::from_str(&joined).unwrap_or(Value::Null),
        at,
    })
}

/// Opens `url` with a Bearer `key` and reads events until the server ends the stream or
/// `timeout` passes; `Err` carries the status and body of a refused request
pub async fn collect(
    url: &str,
    key: Option<&str>,
    timeout: Duration,
) -> Result<SseOutcome, String> {
    let mut req = reqwest::Client::new()
        .get(url)
        .header("accept", "text/event-stream");
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    let resp = req.send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    if !status.is_success() {
        let body = resp.text().await.unwrap_or_default();
        return Err(format!("{status}: {body}"));
    }
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if !content_type.starts_with("text/event-stream") {
        return Err(format!("content-type {content_type}"));
    }
    let deadline = Instant::now() + timeout;
    let mut stream = resp.bytes_stream();
    let mut buffer = String::new();
    let mut outcome = SseOutcome {
        events: Vec::new(),
        ended: false,
        comments: 0,
    };
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(next) = tokio::time::timeout(left, stream.next()).await else {
            return Ok(outcome);
        };
        match next {
            Some(Ok(chunk)) => {
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buffer.find("\n\n") {
                    let block: String = buffer.drain(..end + 2).collect();
                    if block.trim_start().starts_with(':') {
                        outcome.comments += 1;
                    }
                    if let Some(event) = parse_block(&block, Instant::now()) {
                        outcome.events.push(event);
                    }
                }
            }
            Some(Err(e)) => return Err(format!("stream broke: {e}")),
            None => {
                outcome.ended = true;
                return Ok(outcome);
            }
        }
    }
}
