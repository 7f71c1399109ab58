//! The import body as a whole, read in one pass: the `videos.list` response's `items` one video
//! at a time, so no more than one video's JSON tree is held at once and the count is capped
//! before the rest is parsed.
//!
//! serde drives the pass; a refusal found inside it (a bad field of `items[3]`) is kept aside
//! and the pass stopped, because serde's own errors name a line and column, not the field.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::MAX_VIDEOS;
use super::analytics::{self, Analytics};
use super::youtube::{self, Video};
use crate::memory::error::MemoryError;
use crate::memory::json::ident;

/// A channel's history as the body gives it
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelHistory {
    /// The creator's format for every video of this import, when named (`format`)
    pub format: Option<String>,
    /// The videos, in body order
    pub videos: Vec<Video>,
    /// The Analytics reports
    pub analytics: Analytics,
}

/// Parses and validates an import body
///
/// # Errors
///
/// [`MemoryError::Malformed`] when it is not JSON, [`MemoryError::Invalid`] naming the first
/// offending field otherwise (`items[3].contentDetails.duration`).
pub fn parse_history(body: &str) -> Result<ChannelHistory, MemoryError> {
    let refusal = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_str(body);
    let parsed = BodySeed { refusal: &refusal }
        .deserialize(&mut de)
        .and_then(|top| de.end().map(|()| top));
    if let Some(err) = refusal.into_inner() {
        return Err(err);
    }
    let top = parsed.map_err(|e| MemoryError::Malformed {
        message: e.to_string(),
    })?;

    match top.kind.as_ref().filter(|v| !v.is_null()) {
        Some(Value::String(kind)) if kind == "youtube#videoListResponse" => {}
        None => return Err(MemoryError::invalid("kind", "missing required field")),
        Some(_) => {
            return Err(MemoryError::invalid(
                "kind",
                "must be youtube#videoListResponse: the body is a videos.list response",
            ));
        }
    }
    let videos = top
        .items
        .ok_or_else(|| MemoryError::invalid("items", "missing required field"))?;
    let format = match top.format.filter(|v| !v.is_null()) {
        None => None,
        Some(Value::String(name)) => Some(ident(&name, "format")?),
        Some(_) => return Err(MemoryError::invalid("format", "must be a string")),
    };
    let analytics = match top.analytics.filter(|v| !v.is_null()) {
        None => Analytics::default(),
        Some(v) => analytics::analytics(&v, "analytics")?,
    };
    Ok(ChannelHistory {
        format,
        videos,
        analytics,
    })
}

/// The top-level keys this import reads; every other key of the response is skipped unparsed
#[derive(Default)]
struct Top {
    kind: Option<Value>,
    items: Option<Vec<Video>>,
    format: Option<Value>,
    analytics: Option<Value>,
}

/// Keeps the first refusal and stops the pass
fn refuse<E: de::Error, T>(slot: &RefCell<Option<MemoryError>>, err: MemoryError) -> Result<T, E> {
    let mut slot = slot.borrow_mut();
    if slot.is_none() {
        *slot = Some(err);
    }
    Err(E::custom("refused"))
}

struct BodySeed<'r> {
    refusal: &'r RefCell<Option<MemoryError>>,
}

impl<'de> DeserializeSeed<'de> for BodySeed<'_> {
    type Value = Top;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Top, D::Error> {
        d.deserialize_any(self)
    }
}

/// Anything but an object at the top is refused as `body`
macro_rules! not_this {
    ($($method:ident($($arg:ty),*)),* $(,)?) => {
        $(fn $method<E: de::Error>(self, $(_: $arg),*) -> Result<Self::Value, E> {
            self.wrong()
        })*
    };
}

impl BodySeed<'_> {
    fn wrong<E: de::Error>(self) -> Result<Top, E> {
        refuse(
            self.refusal,
            MemoryError::invalid("body", "must be a JSON object (a videos.list response)"),
        )
    }
}

impl<'de> Visitor<'de> for BodySeed<'_> {
    type Value = Top;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a videos.list response")
    }

    not_this!(
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_f64(f64),
        visit_str(&str),
        visit_unit(),
    );

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Top, A::Error> {
        self.wrong()
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
        let mut top = Top::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "kind" => top.kind = Some(map.next_value()?),
                "format" => top.format = Some(map.next_value()?),
                "analytics" => top.analytics = Some(map.next_value()?),
                "items" => {
                    top.items = Some(map.next_value_seed(ItemsSeed {
                        refusal: self.refusal,
                    })?);
                }
                // etag, pageInfo, nextPageToken, ...: not read, so not built either
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(top)
    }
}

struct ItemsSeed<'r> {
    refusal: &'r RefCell<Option<MemoryError>>,
}

impl<'de> DeserializeSeed<'de> for ItemsSeed<'_> {
    type Value = Vec<Video>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Vec<Video>, D::Error> {
        d.deserialize_any(self)
    }
}

impl ItemsSeed<'_> {
    fn wrong<E: de::Error>(self) -> Result<Vec<Video>, E> {
        refuse(
            self.refusal,
            MemoryError::invalid("items", "must be an array of video resources"),
        )
    }
}

impl<'de> Visitor<'de> for ItemsSeed<'_> {
    type Value = Vec<Video>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of video resources")
    }

    not_this!(
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_f64(f64),
        visit_str(&str),
    );

    fn visit_unit<E: de::Error>(self) -> Result<Vec<Video>, E> {
        refuse(
            self.refusal,
            MemoryError::invalid("items", "missing required field"),
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Vec<Video>, A::Error> {
        self.wrong()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Video>, A::Error> {
        let mut videos = Vec::new();
        loop {
            if videos.len() == MAX_VIDEOS {
                // One more element is skipped, not built, to tell "exactly the cap" from "over".
                if seq.next_element::<IgnoredAny>()?.is_some() {
                    return refuse(
                        self.refusal,
                        MemoryError::invalid(
                            "items",
                            format!(
                                "at most {MAX_VIDEOS} videos per import; import the rest in another request"
                            ),
                        ),
                    );
                }
                break;
            }
            let Some(value) = seq.next_element::<Value>()? else {
                break;
            };
            match youtube::video(&value, &format!("items[{}]", videos.len())) {
                Ok(video) => videos.push(video),
                Err(e) => return refuse(self.refusal, e),
            }
        }
        if videos.is_empty() {
            return refuse(
                self.refusal,
                MemoryError::invalid("items", "must hold at least one video"),
            );
        }
        Ok(videos)
    }
}
