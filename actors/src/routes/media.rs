//! `GET /v1/media/{key}?exp=&sig=`: artifacts from R2 through signed, expiring URLs.
//!
//! The body is R2's stream handed to the runtime, never read into this isolate, and `Range`
//! requests answer 206 so a browser can seek in a master of tens of megabytes.

use studio::api::ApiError;
use studio::api::media::{MediaUrlError, verify};
use worker::{Env, Range, Request, Response};

use crate::error::OrInternal;
use crate::{clock, config};

/// The byte range a request asks for, resolved against the object's size
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ByteRange {
    offset: u64,
    length: u64,
}

/// Parses one `bytes=` range; `Ok(None)` is the whole object (absent or a multi-range, which we
/// answer whole as RFC 9110 allows), `Err` is unsatisfiable (416)
fn parse_range(header: Option<&str>, size: u64) -> Result<Option<ByteRange>, ()> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (start, end) = spec.split_once('-').ok_or(())?;
    let (start, end) = (start.trim(), end.trim());
    let range = if start.is_empty() {
        let suffix: u64 = end.parse().map_err(|_| ())?;
        if suffix == 0 || size == 0 {
            return Err(());
        }
        let length = suffix.min(size);
        ByteRange {
            offset: size - length,
            length,
        }
    } else {
        let offset: u64 = start.parse().map_err(|_| ())?;
        if offset >= size {
            return Err(());
        }
        let last = if end.is_empty() {
            size - 1
        } else {
            end.parse::<u64>().map_err(|_| ())?.min(size - 1)
        };
        if last < offset {
            return Err(());
        }
        ByteRange {
            offset,
            length: last - offset + 1,
        }
    };
    Ok(Some(range))
}

/// Only media is served as what it is; anything else downloads as opaque bytes, so a stored
/// file can never run as a page in our origin
fn served_type(stored: Option<String>) -> (String, bool) {
    let stored = stored.unwrap_or_default();
    let media = stored
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let is_media = media.starts_with("video/")
        || media.starts_with("audio/")
        || (media.starts_with("image/") && media != "image/svg+xml")
        || media == "text/vtt";
    if is_media {
        (media, true)
    } else {
        ("application/octet-stream".into(), false)
    }
}

/// The file name a download gets: the key's last segment, reduced to safe characters
fn download_name(key: &str) -> String {
    let last = key.rsplit('/').next().unwrap_or("media");
    let name: String = last
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .take(100)
        .collect();
    if name.is_empty() {
        "media".into()
    } else {
        name
    }
}

/// Streams an artifact when the URL's signature and expiry hold
pub(crate) async fn serve(req: &Request, env: &Env, key: &str) -> Result<Response, ApiError> {
    let url = req.url().or_internal("url")?;
    let mut exp = None;
    let mut sig = None;
    let mut download = false;
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "exp" => exp = v.parse::<u64>().ok(),
            "sig" => sig = Some(v.to_string()),
            "download" => download = v == "1",
            _ => {}
        }
    }
    let (Some(exp), Some(sig)) = (exp, sig) else {
        return Err(ApiError::Unauthenticated(
            "media urls need exp and sig".into(),
        ));
    };
    verify(&config::media_key(env)?, key, exp, &sig, clock::now()).map_err(|e| match e {
        MediaUrlError::ForbiddenKey => ApiError::NotFound(format!("no media {key}")),
        MediaUrlError::Expired | MediaUrlError::BadSignature => ApiError::Forbidden(e.to_string()),
    })?;
    let bucket = env.bucket("MEDIA").or_internal("R2")?;
    let head = bucket.head(key).await.or_internal("reading media")?;
    let head = head.ok_or_else(|| ApiError::NotFound(format!("no media {key}")))?;
    let size = head.size();
    let range_header = req.headers().get("range").ok().flatten();
    let Ok(range) = parse_range(range_header.as_deref(), size) else {
        let mut resp = Response::empty()
            .or_internal("media response")?
            .with_status(416);
        resp.headers_mut()
            .set("content-range", &format!("bytes */{size}"))
            .or_internal("content-range")?;
        return Ok(resp);
    };
    let mut get = bucket.get(key);
    if let Some(r) = range {
        get = get.range(Range::OffsetWithLength {
            offset: r.offset,
            length: r.length,
        });
    }
    let object = get.execute().await.or_internal("reading media")?;
    let object = object.ok_or_else(|| ApiError::NotFound(format!("no media {key}")))?;
    let (content_type, is_media) = served_type(object.http_metadata().content_type);
    let etag = object.http_etag();
    let body = object
        .body()
        .ok_or_else(|| ApiError::NotFound(format!("no media {key}")))?
        .response_body()
        .or_internal("media body")?;
    let mut resp = Response::from_body(body).or_internal("media response")?;
    let headers = resp.headers_mut();
    let set = |name: &str, value: &str| headers.set(name, value).or_internal("media header");
    set("content-type", &content_type)?;
    set("x-content-type-options", "nosniff")?;
    set("accept-ranges", "bytes")?;
    set("etag", &etag)?;
    set("cache-control", "private, max-age=3600")?;
    let disposition = if download || !is_media {
        "attachment"
    } else {
        "inline"
    };
    set(
        "content-disposition",
        &format!("{disposition}; filename=\"{}\"", download_name(key)),
    )?;
    match range {
        Some(r) => {
            set(
                "content-range",
                &format!("bytes {}-{}/{size}", r.offset, r.offset + r.length - 1),
            )?;
            set("content-length", &r.length.to_string())?;
            Ok(resp.with_status(206))
        }
        None => {
            set("content-length", &size.to_string())?;
            Ok(resp)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_resolve_against_the_size() {
        let r = |h: &str| parse_range(Some(h), 1000);
        assert_eq!(
            r("bytes=0-99"),
            Ok(Some(ByteRange {
                offset: 0,
                length: 100
            }))
        );
        assert_eq!(
            r("bytes=900-"),
            Ok(Some(ByteRange {
                offset: 900,
                length: 100
            }))
        );
        assert_eq!(
            r("bytes=-10"),
            Ok(Some(ByteRange {
                offset: 990,
                length: 10
            }))
        );
        assert_eq!(
            r("bytes=990-5000"),
            Ok(Some(ByteRange {
                offset: 990,
                length: 10
            }))
        );
        assert_eq!(r("bytes=1000-"), Err(()));
        assert_eq!(r("bytes=50-10"), Err(()));
        assert_eq!(r("bytes=0-1,5-6"), Ok(None));
        assert_eq!(r("items=0-1"), Ok(None));
        assert_eq!(parse_range(None, 1000), Ok(None));
    }

    #[test]
    fn only_media_is_served_as_itself() {
        assert_eq!(
            served_type(Some("video/mp4".into())),
            ("video/mp4".into(), true)
        );
        assert_eq!(
            served_type(Some("text/vtt; charset=utf-8".into())),
            ("text/vtt".into(), true)
        );
        assert!(!served_type(Some("text/html".into())).1);
        assert!(!served_type(Some("image/svg+xml".into())).1);
        assert!(!served_type(None).1);
        assert_eq!(download_name("jobs/j1/s01/master.mp4"), "master.mp4");
        assert_eq!(download_name("a/\"evil\r\n.mp4"), "evil.mp4");
    }
}
