//! A request body read chunk by chunk under a running cap.
//!
//! `Content-Length` is only a claim and a chunked body has none, so the cap is checked as the
//! bytes arrive: the shell feeds each chunk of the runtime's stream to [`CappedBody::push`] and
//! stops at the first one that would pass the limit, having buffered at most `limit` bytes.
//! A declared length within the limit bounds what HTTP delivers (the body ends there, and a
//! client that sends less fails the read), so such a body may be read in one piece
//! ([`CappedBody::length_declared`]) and pushed whole; the running count still checks it. The
//! same holds for a response the Worker fetched ([`CappedBody::for_response`]), unless it is
//! content-encoded: the runtime decodes it as it is read, so its declared length is the encoded
//! size and bounds nothing that arrives.

use super::ApiError;

/// A body being read, never more than its limit
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CappedBody {
    limit: usize,
    /// The parsed `Content-Length`, when there was one (never over `limit`)
    declared: Option<u64>,
    bytes: Vec<u8>,
}

impl CappedBody {
    /// Starts reading; a declared `Content-Length` over the limit is refused before any byte
    /// (an unparsable one is ignored: the running cap still holds)
    pub fn new(limit: usize, content_length: Option<&str>) -> Result<Self, ApiError> {
        let declared = content_length.and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(ApiError::TooLarge { limit });
        }
        Ok(Self {
            limit,
            declared,
            bytes: Vec::new(),
        })
    }

    /// Starts reading a fetched response: as [`Self::new`], except that a content-encoded body's
    /// declared length is the encoded size, so it is neither refused on it nor read in one piece
    /// (the running count alone bounds what the decoder delivers)
    pub fn for_response(
        limit: usize,
        content_length: Option<&str>,
        content_encoding: Option<&str>,
    ) -> Result<Self, ApiError> {
        let encoded = content_encoding.is_some_and(|e| !e.trim().eq_ignore_ascii_case("identity"));
        Self::new(limit, content_length.filter(|_| !encoded))
    }

    /// Whether the request declared a length (within the limit, or `new` refused it): then the
    /// runtime delivers at most that many bytes and the body can be read in one call
    pub fn length_declared(&self) -> bool {
        self.declared.is_some()
    }

    /// Adds a chunk; 413 as soon as the total would pass the limit
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), ApiError> {
        if self.bytes.len().saturating_add(chunk.len()) > self.limit {
            return Err(ApiError::TooLarge { limit: self.limit });
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// The whole body
    pub fn finish(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_encoded_response_is_counted_as_it_is_decoded() {
        // Plain: as a request, refused on its declared length and readable in one piece.
        assert!(CappedBody::for_response(10, Some("11"), None).is_err());
        let plain = CappedBody::for_response(10, Some("10"), Some("identity"))
            .unwrap_or_else(|_| unreachable!());
        assert!(plain.length_declared());
        // gzip: the declared 4 bytes say nothing of the decoded size, so never one piece, and
        // the running count still stops it at the limit.
        let mut gzip = CappedBody::for_response(10, Some("4"), Some("gzip"))
            .unwrap_or_else(|_| unreachable!());
        assert!(!gzip.length_declared());
        assert!(gzip.push(b"1234567890").is_ok());
        assert_eq!(gzip.push(b"x"), Err(ApiError::TooLarge { limit: 10 }));
        assert!(CappedBody::for_response(10, Some("11"), Some("br")).is_ok());
    }

    #[test]
    fn the_cap_holds_whatever_the_header_says() {
        assert!(matches!(
            CappedBody::new(10, Some("11")),
            Err(ApiError::TooLarge { limit: 10 })
        ));
        // A lying or missing length is caught by the running count.
        for declared in [Some("3"), None, Some("junk")] {
            let mut body = CappedBody::new(10, declared).unwrap_or_else(|_| unreachable!());
            assert!(body.push(b"12345").is_ok());
            assert!(body.push(b"67890").is_ok());
            assert_eq!(body.push(b"x"), Err(ApiError::TooLarge { limit: 10 }));
        }
    }

    #[test]
    fn only_a_parsable_length_within_the_limit_counts_as_declared() {
        let declared = |h: Option<&str>| CappedBody::new(10, h).map(|b| b.length_declared());
        assert_eq!(declared(Some("10")), Ok(true));
        assert_eq!(declared(Some(" 0 ")), Ok(true));
        assert_eq!(declared(None), Ok(false));
        assert_eq!(declared(Some("junk")), Ok(false));
        assert_eq!(declared(Some("11")), Err(ApiError::TooLarge { limit: 10 }));
        let mut body = CappedBody::new(4, Some("4")).unwrap_or_else(|_| unreachable!());
        assert!(body.push(b"ab").is_ok() && body.push(b"").is_ok() && body.push(b"cd").is_ok());
        assert_eq!(body.finish(), b"abcd");
    }
}
