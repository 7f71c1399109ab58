//! Keyframes kept in memory between their copy into R2 and the submit that sends them inline.
//!
//! A model that takes its first frame inline (Veo on the Gemini API) needs the keyframe's bytes
//! in the submit's body. Read back from R2, that read sat on the path from "the keyframe is
//! stored" to "the motion stage's submit leaves", the longest part of it for those stages. When
//! the job copies a keyframe that a dependent will send inline, it keeps the bytes it already
//! had in hand here instead, and the submit takes them.
//!
//! Memory is the bound: a job object shares its isolate's 128 MB with other objects, so the
//! cache holds at most [`InlineImages::budget`] bytes, drops the oldest image to admit a new
//! one, refuses an image larger than the whole budget, and hands an image out once (a retried
//! submit reads R2 again). Losing an entry costs one R2 read, never a result: R2 stays the
//! record.

use std::collections::VecDeque;

/// A keyframe's bytes as stored in R2, with its content type
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptImage {
    /// The content type R2 has for it
    pub content_type: String,
    /// The bytes, as stored
    pub bytes: Vec<u8>,
}

/// Images by R2 key, oldest first, within a byte budget
#[derive(Debug, Clone)]
pub struct InlineImages {
    budget: usize,
    held: usize,
    images: VecDeque<(String, KeptImage)>,
}

impl InlineImages {
    /// An empty cache holding at most `budget` bytes of images
    pub fn new(budget: usize) -> Self {
        Self {
            budget,
            held: 0,
            images: VecDeque::new(),
        }
    }

    /// The most bytes it holds at once
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Bytes held now
    pub fn held(&self) -> usize {
        self.held
    }

    /// Keeps `image` under `key`, replacing an older copy of the same key and dropping the
    /// oldest images until it fits; returns false (and keeps nothing) when it alone is larger
    /// than the budget
    pub fn keep(&mut self, key: String, image: KeptImage) -> bool {
        let len = image.bytes.len();
        if len > self.budget {
            return false;
        }
        self.take(&key);
        while self.held + len > self.budget {
            let Some((_, old)) = self.images.pop_front() else {
                break;
            };
            self.held -= old.bytes.len();
        }
        self.held += len;
        self.images.push_back((key, image));
        true
    }

    /// Hands out the image under `key`, once
    pub fn take(&mut self, key: &str) -> Option<KeptImage> {
        let at = self.images.iter().position(|(k, _)| k == key)?;
        let (_, image) = self.images.remove(at)?;
        self.held -= image.bytes.len();
        Some(image)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(len: usize, fill: u8) -> KeptImage {
        KeptImage {
            content_type: "image/png".into(),
            bytes: vec![fill; len],
        }
    }

    #[test]
    fn an_image_is_handed_out_once_as_it_was_kept() {
        let mut cache = InlineImages::new(100);
        assert!(cache.keep("a".into(), image(40, 1)));
        assert_eq!(cache.held(), 40);
        assert_eq!(cache.take("a"), Some(image(40, 1)));
        assert_eq!(cache.take("a"), None);
        assert_eq!(cache.held(), 0);
    }

    #[test]
    fn the_oldest_images_make_room_and_the_budget_is_never_passed() {
        let mut cache = InlineImages::new(100);
        for (i, len) in [30, 30, 30, 50, 10, 90].into_iter().enumerate() {
            assert!(cache.keep(format!("k{i}"), image(len, i as u8)));
            assert!(
                cache.held() <= cache.budget(),
                "after k{i}: {}",
                cache.held()
            );
        }
        // k5 (90) pushed out everything before it but k4 (10).
        assert_eq!(cache.take("k0"), None);
        assert_eq!(cache.take("k3"), None);
        assert_eq!(cache.take("k4"), Some(image(10, 4)));
        assert_eq!(cache.take("k5"), Some(image(90, 5)));
        assert_eq!(cache.held(), 0);
    }

    #[test]
    fn an_image_larger_than_the_budget_is_refused_and_changes_nothing() {
        let mut cache = InlineImages::new(100);
        assert!(cache.keep("a".into(), image(60, 1)));
        assert!(!cache.keep("big".into(), image(101, 2)));
        assert_eq!(cache.held(), 60);
        assert_eq!(cache.take("a"), Some(image(60, 1)));
    }

    #[test]
    fn keeping_a_key_again_replaces_its_image() {
        let mut cache = InlineImages::new(100);
        assert!(cache.keep("a".into(), image(60, 1)));
        assert!(cache.keep("a".into(), image(50, 2)));
        assert_eq!(cache.held(), 50);
        assert_eq!(cache.take("a"), Some(image(50, 2)));
    }
}
