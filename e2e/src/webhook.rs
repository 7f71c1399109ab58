//! A tiny loopback HTTP receiver for outgoing webhooks: records every request and answers with
//! a scripted status (the first ones may fail), then 200.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request the receiver got
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Request headers, names in lower case
    pub headers: Vec<(String, String)>,
    /// The raw body
    pub body: Vec<u8>,
    /// The status it was answered with
    pub answered: u16,
    /// When it arrived
    pub at: Instant,
}

impl Delivery {
    /// A header's value
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

#[derive(Default)]
struct Shared {
    deliveries: Vec<Delivery>,
    script: VecDeque<u16>,
}

/// A running receiver; stops when dropped
pub struct Receiver {
    /// `http://127.0.0.1:{port}/hook`
    pub url: String,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    port: u16,
}

/// Request headers (lower-case names) and body
type Request = (Vec<(String, String)>, Vec<u8>);

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let header_end = loop {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
    };
    let head = String::from_utf8_lossy(&data[..header_end]).to_string();
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = data[header_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    Some((headers, body))
}

impl Receiver {
    /// Starts a receiver that answers `script` statuses in order, then 200
    pub fn start(script: &[u16]) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Mutex::new(Shared {
            deliveries: Vec::new(),
            script: script.iter().copied().collect(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, halt) = (shared.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if halt.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = conn else { continue };
                let Some((headers, body)) = read_request(&mut stream) else {
                    continue;
                };
                let status = s
                    .lock()
                    .map(|mut g| g.script.pop_front().unwrap_or(200))
                    .unwrap_or(200);
                let reason = if status < 300 { "OK" } else { "Error" };
                let reply = format!(
                    "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
                );
                let _ = stream.write_all(reply.as_bytes());
                let _ = stream.flush();
                if let Ok(mut g) = s.lock() {
                    g.deliveries.push(Delivery {
                        headers,
                        body,
                        answered: status,
                        at: Instant::now(),
                    });
                }
            }
        });
        Ok(Self {
            url: format!("http://127.0.0.1:{port}/hook"),
            shared,
            stop,
            port,
        })
    }

    /// Every request so far, in arrival order
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared
            .lock()
            .map(|g| g.deliveries.clone())
            .unwrap_or_default()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}
