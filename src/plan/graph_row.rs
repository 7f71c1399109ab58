//! Which rows of the creator's Memory Graph shaped a stage.
//!
//! Every stage records the rows that changed what is sent for it (its prompt, negative prompt,
//! frame shape, voice or language), so support can answer "why does this shot look like that"
//! from the support view alone: the final prompt next to `fingerprint`, `format_dna:vlog`,
//! `audience`, `look:keeper`.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// One row of the creator's Memory Graph, written as support reads it: `fingerprint`,
/// `format_dna:{format}`, `audience`, `look:{cast id}`, `voice:{name}`
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum GraphRow {
    /// The visual fingerprint (palette, grade, lens, lighting)
    Fingerprint,
    /// The format DNA of one format (pacing, hook style)
    FormatDna(String),
    /// The audience signal (primary platform, regions)
    Audience,
    /// One cast member's locked look
    Look(String),
    /// One locked voice
    Voice(String),
}

/// Why a string is not a [`GraphRow`]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphRowError {
    /// Not one of the row names, or a keyed row without its key
    #[error(
        "`{0}` is not a graph row (fingerprint, audience, format_dna:NAME, look:ID, voice:NAME)"
    )]
    Unknown(String),
}

impl fmt::Display for GraphRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fingerprint => f.write_str("fingerprint"),
            Self::Audience => f.write_str("audience"),
            Self::FormatDna(name) => write!(f, "format_dna:{name}"),
            Self::Look(cast) => write!(f, "look:{cast}"),
            Self::Voice(name) => write!(f, "voice:{name}"),
        }
    }
}

impl From<GraphRow> for String {
    fn from(row: GraphRow) -> Self {
        row.to_string()
    }
}

impl TryFrom<String> for GraphRow {
    type Error = GraphRowError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        let keyed = |prefix: &str| {
            s.strip_prefix(prefix)
                .filter(|key| !key.is_empty())
                .map(str::to_owned)
        };
        match s.as_str() {
            "fingerprint" => Ok(Self::Fingerprint),
            "audience" => Ok(Self::Audience),
            _ => keyed("format_dna:")
                .map(Self::FormatDna)
                .or_else(|| keyed("look:").map(Self::Look))
                .or_else(|| keyed("voice:").map(Self::Voice))
                .ok_or(GraphRowError::Unknown(s)),
        }
    }
}

impl schemars::JsonSchema for GraphRow {
    fn schema_name() -> Cow<'static, str> {
        "GraphRow".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A row of the creator's Memory Graph: `fingerprint`, `audience`, `format_dna:{format}`, `look:{cast id}` or `voice:{name}`",
            "pattern": "^(?:fingerprint|audience|(?:format_dna|look|voice):[\\s\\S]+)(?![\\s\\S])",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_through_their_names() {
        for row in [
            GraphRow::Fingerprint,
            GraphRow::Audience,
            GraphRow::FormatDna("vlog".into()),
            GraphRow::Look("keeper".into()),
            GraphRow::Voice("narrator".into()),
        ] {
            let json = serde_json::to_value(&row).unwrap_or_default();
            assert_eq!(json, serde_json::Value::String(row.to_string()));
            assert_eq!(serde_json::from_value::<GraphRow>(json).ok(), Some(row));
        }
        assert!(GraphRow::try_from("look:".to_owned()).is_err());
        assert!(GraphRow::try_from("palette".to_owned()).is_err());
    }
}
