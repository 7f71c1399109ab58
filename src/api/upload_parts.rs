//! Cutting a download of unknown or large size into upload parts, holding at most one part.
//!
//! The Worker copies provider outputs into R2 as multipart uploads: chunks arrive from the
//! network in whatever sizes the runtime reads, and R2 wants parts of at least 5 MiB (all but
//! the last). [`PartSplitter`] is the bookkeeping, free of IO so its memory bound is tested
//! natively: it never holds more than one part plus the chunk being added, and it refuses past
//! the byte cap before buffering what is over it.

/// Why a download cannot be stored
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartError {
    /// The download is larger than the cap
    #[error("output is larger than the {cap} byte cap ({size} bytes so far)")]
    TooLarge {
        /// Bytes seen so far
        size: u64,
        /// The cap
        cap: u64,
    },
    /// More parts than an upload may have (R2 and S3: 10,000)
    #[error("output needs more than {0} upload parts")]
    TooManyParts(u16),
}

/// The most parts one multipart upload may have
pub const MAX_PARTS: u16 = 10_000;

/// A part ready to upload
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// 1-based, as R2 numbers them
    pub number: u16,
    /// Its bytes
    pub bytes: Vec<u8>,
}

/// Cuts chunks into parts of `part_bytes`
#[derive(Debug)]
pub struct PartSplitter {
    part_bytes: usize,
    cap: u64,
    total: u64,
    next: u16,
    buffer: Vec<u8>,
}

impl PartSplitter {
    /// A splitter for parts of `part_bytes` (at least 1) and a download of at most `cap` bytes
    pub fn new(part_bytes: usize, cap: u64) -> Self {
        Self {
            part_bytes: part_bytes.max(1),
            cap,
            total: 0,
            next: 1,
            buffer: Vec::new(),
        }
    }

    /// Bytes taken so far
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Bytes held now (what is not yet handed out as a part)
    pub fn held(&self) -> usize {
        self.buffer.len()
    }

    fn take(&mut self, len: usize) -> Result<Part, PartError> {
        if self.next > MAX_PARTS {
            return Err(PartError::TooManyParts(MAX_PARTS));
        }
        let rest = self.buffer.split_off(len.min(self.buffer.len()));
        let bytes = std::mem::replace(&mut self.buffer, rest);
        let part = Part {
            number: self.next,
            bytes,
        };
        self.next = self.next.saturating_add(1);
        Ok(part)
    }

    /// Adds a chunk; returns the parts it completed (upload them before adding more, so at
    /// most one part is ever held)
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<Part>, PartError> {
        let size = self.total.saturating_add(chunk.len() as u64);
        if size > self.cap {
            return Err(PartError::TooLarge {
                size,
                cap: self.cap,
            });
        }
        self.total = size;
        self.buffer.extend_from_slice(chunk);
        let mut parts = Vec::new();
        while self.buffer.len() >= self.part_bytes {
            parts.push(self.take(self.part_bytes)?);
        }
        Ok(parts)
    }

    /// The last part: what is left, or an empty part when nothing was ever pushed (an upload
    /// needs one part); `None` when everything was already handed out
    pub fn finish(&mut self) -> Result<Option<Part>, PartError> {
        if self.buffer.is_empty() && self.next > 1 {
            return Ok(None);
        }
        let len = self.buffer.len();
        self.take(len).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_hundred_megabytes_pass_holding_at_most_one_part() {
        const PART: usize = 8 * 1024 * 1024;
        const CHUNK: usize = 64 * 1024 + 17;
        let total: u64 = 200_000_000;
        let mut splitter = PartSplitter::new(PART, 2 * 1024 * 1024 * 1024);
        let chunk = vec![7u8; CHUNK];
        let (mut sent, mut parts, mut most_held) = (0u64, 0u16, 0usize);
        let mut left = total;
        while left > 0 {
            let n = left.min(CHUNK as u64) as usize;
            for part in splitter.push(&chunk[..n]).unwrap() {
                assert_eq!(part.bytes.len(), PART);
                parts += 1;
                assert_eq!(part.number, parts);
                sent += part.bytes.len() as u64;
            }
            most_held = most_held.max(splitter.held());
            left -= n as u64;
        }
        let last = splitter.finish().unwrap().unwrap();
        sent += last.bytes.len() as u64;
        assert_eq!(last.number, parts + 1);
        assert_eq!(sent, total);
        assert_eq!(splitter.total(), total);
        assert!(most_held < PART, "held {most_held} bytes at once");
        assert_eq!(splitter.held(), 0);
    }

    #[test]
    fn the_cap_refuses_before_buffering() {
        let mut splitter = PartSplitter::new(10, 25);
        assert_eq!(splitter.push(&[0; 12]).unwrap().len(), 1);
        assert_eq!(splitter.push(&[0; 12]).unwrap().len(), 1);
        assert_eq!(
            splitter.push(&[0; 2]),
            Err(PartError::TooLarge { size: 26, cap: 25 })
        );
        assert_eq!(splitter.held(), 4);
    }

    #[test]
    fn an_empty_download_is_one_empty_part_and_an_exact_one_has_no_tail() {
        let mut empty = PartSplitter::new(10, 100);
        assert_eq!(
            empty.finish().unwrap(),
            Some(Part {
                number: 1,
                bytes: vec![]
            })
        );
        let mut exact = PartSplitter::new(10, 100);
        assert_eq!(exact.push(&[1; 20]).unwrap().len(), 2);
        assert_eq!(exact.finish().unwrap(), None);
    }
}
