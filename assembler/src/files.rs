//! Serving output files: streamed from disk in chunks, with `Content-Length` and single byte
//! ranges (`206`), so the Worker can copy large masters to R2 without either side holding them
//! in memory, and resume a copy that broke off.

use std::io::SeekFrom;
use std::path::Path;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::BytesMut;
use futures_util::stream;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt};

/// Bytes read from disk per chunk
const CHUNK: usize = 64 * 1024;

/// What a `Range` header asks of a file of a given length
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// The whole file (no header, or one we do not honour, such as several ranges)
    Full,
    /// Bytes `start..=end`
    Part {
        /// First byte
        start: u64,
        /// Last byte (inclusive)
        end: u64,
    },
    /// Nothing of the file is in the range: 416
    Unsatisfiable,
}

/// Reads a `Range` header against a file of `len` bytes (RFC 9110 §14.2)
pub fn parse_range(header: Option<&str>, len: u64) -> RangeRequest {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeRequest::Full;
    };
    if spec.contains(',') {
        // Several ranges: answering the whole file is allowed and simpler than multipart
        return RangeRequest::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    let parse = |s: &str| s.parse::<u64>().ok();
    match (first.is_empty(), last.is_empty()) {
        // bytes=-N: the last N bytes
        (true, false) => match parse(last) {
            Some(0) => RangeRequest::Unsatisfiable,
            Some(_) if len == 0 => RangeRequest::Unsatisfiable,
            Some(n) => RangeRequest::Part {
                start: len.saturating_sub(n),
                end: len - 1,
            },
            None => RangeRequest::Full,
        },
        // bytes=N-: from N to the end
        (false, true) => match parse(first) {
            Some(start) if start < len => RangeRequest::Part {
                start,
                end: len - 1,
            },
            Some(_) => RangeRequest::Unsatisfiable,
            None => RangeRequest::Full,
        },
        (false, false) => match (parse(first), parse(last)) {
            (Some(start), Some(end)) if start <= end && start < len => RangeRequest::Part {
                start,
                end: end.min(len - 1),
            },
            (Some(start), Some(end)) if start <= end => RangeRequest::Unsatisfiable,
            _ => RangeRequest::Full,
        },
        (true, true) => RangeRequest::Full,
    }
}

/// A body that streams `reader` in chunks
fn body_of<R: AsyncRead + Unpin + Send + 'static>(reader: R) -> Body {
    let chunks = stream::unfold(Some(reader), |state| async move {
        let mut reader = state?;
        let mut buf = BytesMut::with_capacity(CHUNK);
        match reader.read_buf(&mut buf).await {
            Ok(0) => None,
            Ok(_) => Some((Ok(buf.freeze()), Some(reader))),
            // End the stream after an error rather than reading on
            Err(e) => Some((Err(e), None)),
        }
    });
    Body::from_stream(chunks)
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"))
}

/// Serves a file (or the requested part of it)
pub async fn serve(
    path: &Path,
    content_type: &str,
    range: Option<&str>,
) -> std::io::Result<Response> {
    let mut file = tokio::fs::File::open(path).await?;
    let len = file.metadata().await?.len();
    let mut r = Response::new(Body::empty());
    let headers = r.headers_mut();
    headers.insert(header::CONTENT_TYPE, header_value(content_type));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    match parse_range(range, len) {
        RangeRequest::Full => {
            headers.insert(header::CONTENT_LENGTH, header_value(&len.to_string()));
            *r.body_mut() = body_of(file);
        }
        RangeRequest::Part { start, end } => {
            let part = end - start + 1;
            headers.insert(header::CONTENT_LENGTH, header_value(&part.to_string()));
            headers.insert(
                header::CONTENT_RANGE,
                header_value(&format!("bytes {start}-{end}/{len}")),
            );
            file.seek(SeekFrom::Start(start)).await?;
            *r.status_mut() = StatusCode::PARTIAL_CONTENT;
            *r.body_mut() = body_of(file.take(part));
        }
        RangeRequest::Unsatisfiable => {
            headers.insert(
                header::CONTENT_RANGE,
                header_value(&format!("bytes */{len}")),
            );
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
            *r.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
        }
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use RangeRequest::{Full, Part, Unsatisfiable};

    #[test]
    fn reads_single_ranges() {
        let r = |h: &str| parse_range(Some(h), 1000);
        assert_eq!(parse_range(None, 1000), Full);
        assert_eq!(r("bytes=0-99"), Part { start: 0, end: 99 });
        assert_eq!(
            r("bytes=900-"),
            Part {
                start: 900,
                end: 999
            }
        );
        assert_eq!(
            r("bytes=-100"),
            Part {
                start: 900,
                end: 999
            }
        );
        assert_eq!(r("bytes=-5000"), Part { start: 0, end: 999 });
        assert_eq!(
            r("bytes=990-2000"),
            Part {
                start: 990,
                end: 999
            }
        );
        assert_eq!(r("bytes=1000-"), Unsatisfiable);
        assert_eq!(r("bytes=1000-1001"), Unsatisfiable);
        assert_eq!(r("bytes=-0"), Unsatisfiable);
        assert_eq!(r("bytes=5-1"), Full);
        assert_eq!(r("bytes=0-1,5-6"), Full);
        assert_eq!(r("items=0-1"), Full);
        assert_eq!(r("bytes=x-1"), Full);
        assert_eq!(parse_range(Some("bytes=-10"), 0), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-"), 0), Unsatisfiable);
    }
}
