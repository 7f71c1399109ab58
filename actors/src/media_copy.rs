//! Copies a provider's output into R2 without ever holding it whole.
//!
//! A Worker or Durable Object has 128 MB for everything in its isolate, and a 1080p master is tens
//! of megabytes, so a large output is never held whole: it is cut into R2 multipart parts of
//! [`PART_BYTES`] as it arrives, so at most one part is in memory at a time. A small output of
//! known length (at most one part) is handed to R2 as the fetch's own stream, which workerd pipes
//! without it entering the isolate, unless the caller asked to keep it (a keyframe a submit will
//! send inline, bounded by the caller). Every copy has a byte cap and a deadline; past the deadline
//! the fetch is aborted, so nothing keeps downloading after we gave up.

use std::time::Duration;

use futures::StreamExt;
use futures::future::{Either, select};
use studio::api::upload_parts::{PartError, PartSplitter};
use studio::providers::HttpRequest;
use worker::{AbortController, Bucket, Data, Delay, Fetch, HttpMetadata, ResponseBody};

use crate::outbound;

/// R2 multipart parts must be at least 5 MiB (all but the last); 8 MiB keeps few parts in flight
const PART_BYTES: usize = 8 * 1024 * 1024;

/// The most one stage output may weigh. A 10-minute 1080p master at a high bitrate stays under it.
pub(crate) const MAX_OUTPUT_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// Why a copy failed, as the journal and the support view show it
#[derive(Debug, thiserror::Error)]
pub(crate) enum CopyError {
    /// The source answered an error status (an expired provider URL answers 403 or 404)
    #[error("download answered {0}")]
    Status(u16),
    /// The output is larger than the cap
    #[error("output is larger than the {cap} byte cap ({size} bytes)")]
    TooLarge {
        /// What the source declared or what was read before stopping
        size: u64,
        /// The cap
        cap: u64,
    },
    /// The copy did not finish in time; the fetch was aborted
    #[error("download timed out after {0}s")]
    Timeout(u64),
    /// Fetch or R2 failed
    #[error("{0}")]
    Io(String),
}

/// What was stored
#[derive(Debug)]
pub(crate) struct Copied {
    /// Bytes written
    pub(crate) bytes: u64,
    /// The content type the source declared, when it did
    pub(crate) content_type: Option<String>,
    /// The bytes themselves, when the caller asked to keep an output this small
    pub(crate) kept: Option<Vec<u8>>,
}

fn io(what: &str) -> impl Fn(worker::Error) -> CopyError + '_ {
    move |e| CopyError::Io(format!("{what}: {e}"))
}

/// Streams `source` into `bucket` at `key`; `content_type` is used when the source declares none.
/// With `keep`, an output of known length at most `keep` bytes is read into memory, stored from
/// there and handed back in [`Copied::kept`] (a keyframe a submit will send inline).
pub(crate) async fn copy(
    bucket: &Bucket,
    source: &HttpRequest,
    key: &str,
    content_type: Option<&str>,
    cap: u64,
    keep: Option<u64>,
    timeout: Duration,
) -> Result<Copied, CopyError> {
    let controller = AbortController::default();
    let signal = controller.signal();
    let work = Box::pin(async {
        let request = outbound::request(source).map_err(io("request"))?;
        let resp = Fetch::Request(request)
            .send_with_signal(&signal)
            .await
            .map_err(io("fetch"))?;
        copy_response(bucket, resp, key, content_type, cap, keep).await
    });
    match select(work, Box::pin(Delay::from(timeout))).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => {
            controller.abort();
            Err(CopyError::Timeout(timeout.as_secs()))
        }
    }
}

async fn copy_response(
    bucket: &Bucket,
    mut resp: worker::Response,
    key: &str,
    fallback_type: Option<&str>,
    cap: u64,
    keep: Option<u64>,
) -> Result<Copied, CopyError> {
    let status = resp.status_code();
    if !(200..300).contains(&status) {
        // The body of an error is never read: an expired URL can answer anything.
        return Err(CopyError::Status(status));
    }
    let headers = resp.headers();
    let content_type = headers
        .get("content-type")
        .ok()
        .flatten()
        .filter(|c| !c.is_empty() && c != "application/octet-stream")
        .or_else(|| fallback_type.map(str::to_owned));
    let length = headers
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|l| l.trim().parse::<u64>().ok());
    // A compressed transfer's Content-Length is not the stored length: take the multipart path.
    let encoded = headers
        .get("content-encoding")
        .ok()
        .flatten()
        .is_some_and(|e| !e.is_empty() && e != "identity");
    let metadata = HttpMetadata {
        content_type: content_type.clone(),
        ..Default::default()
    };
    match (length, encoded) {
        (Some(size), _) if size > cap => Err(CopyError::TooLarge { size, cap }),
        (Some(size), false) if keep.is_some_and(|keep| size <= keep) => {
            let bytes = resp.bytes().await.map_err(io("reading the download"))?;
            let read = bytes.len() as u64;
            if read > size {
                return Err(CopyError::TooLarge { size: read, cap });
            }
            bucket
                .put(key, Data::Bytes(bytes.clone()))
                .http_metadata(metadata)
                .execute()
                .await
                .map_err(io("writing to R2"))?;
            Ok(Copied {
                bytes: read,
                content_type,
                kept: Some(bytes),
            })
        }
        (Some(size), false) if size <= PART_BYTES as u64 => {
            let stream = match resp.body() {
                ResponseBody::Stream(stream) => Data::ReadableStream(stream.clone()),
                ResponseBody::Body(bytes) => Data::Bytes(bytes.clone()),
                ResponseBody::Empty => Data::Empty,
            };
            bucket
                .put(key, stream)
                .http_metadata(metadata)
                .execute()
                .await
                .map_err(io("writing to R2"))?;
            Ok(Copied {
                bytes: size,
                content_type,
                kept: None,
            })
        }
        (Some(_) | None, _) => {
            let stream = resp.stream().map_err(io("reading the download"))?;
            let bytes = multipart(bucket, stream, key, metadata, cap).await?;
            Ok(Copied {
                bytes,
                content_type,
                kept: None,
            })
        }
    }
}

/// Uploads a stream in parts as it arrives, holding at most one part in memory
/// ([`PartSplitter`] is the bookkeeping, tested natively for that bound)
async fn multipart(
    bucket: &Bucket,
    mut stream: worker::ByteStream,
    key: &str,
    metadata: HttpMetadata,
    cap: u64,
) -> Result<u64, CopyError> {
    let upload = bucket
        .create_multipart_upload(key)
        .http_metadata(metadata)
        .execute()
        .await
        .map_err(io("starting a multipart upload"))?;
    let mut splitter = PartSplitter::new(PART_BYTES, cap);
    let mut uploaded = Vec::new();
    let result: Result<(), CopyError> = async {
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(io("reading the download"))?;
            for part in splitter.push(&chunk).map_err(part_error)? {
                let done = upload
                    .upload_part(part.number, part.bytes)
                    .await
                    .map_err(io("uploading a part"))?;
                uploaded.push(done);
            }
        }
        if let Some(part) = splitter.finish().map_err(part_error)? {
            let done = upload
                .upload_part(part.number, part.bytes)
                .await
                .map_err(io("uploading a part"))?;
            uploaded.push(done);
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => {
            upload
                .complete(uploaded)
                .await
                .map_err(io("completing the upload"))?;
            Ok(splitter.total())
        }
        Err(e) => {
            if let Err(abort) = upload.abort().await {
                worker::console_error!("aborting the multipart upload of {key}: {abort}");
            }
            Err(e)
        }
    }
}

fn part_error(e: PartError) -> CopyError {
    match e {
        PartError::TooLarge { size, cap } => CopyError::TooLarge { size, cap },
        PartError::TooManyParts(_) => CopyError::Io(e.to_string()),
    }
}
