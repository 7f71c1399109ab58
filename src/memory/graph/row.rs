//! The rows of the graph that have a text form and a vector, and their stored vectors (what
//! embedding them is `row_embed`'s).

use serde::{Deserialize, Serialize};

use super::Embedding;
use crate::ids::JobId;

/// A Graph row that has a text form and a vector; on the wire its table (as the store names it,
/// [`GraphRow::table`]) and key: `{"table": "outcomes", "key": "rnd_..."}`
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "table", content = "key", rename_all = "snake_case")]
pub enum GraphRow {
    /// The single fingerprint row
    Fingerprint,
    /// A format's DNA, by format name
    #[serde(rename = "formats")]
    Format(String),
    /// The single audience row
    Audience,
    /// A render's outcomes (with its render row: format, target, length), by job id
    #[serde(rename = "outcomes")]
    Outcome(JobId),
}

impl GraphRow {
    /// The table the row lives in, as the store names it
    pub fn table(&self) -> &'static str {
        match self {
            Self::Fingerprint => "fingerprint",
            Self::Format(_) => "formats",
            Self::Audience => "audience",
            Self::Outcome(_) => "outcomes",
        }
    }

    /// The row's key in its table (empty for single-row tables)
    pub fn key(&self) -> &str {
        match self {
            Self::Fingerprint | Self::Audience => "",
            Self::Format(name) => name,
            Self::Outcome(job) => job.as_str(),
        }
    }

    /// The row named by a store's (table, key), if the table is one of these
    pub fn from_parts(table: &str, key: &str) -> Option<Self> {
        match table {
            "fingerprint" => Some(Self::Fingerprint),
            "formats" => Some(Self::Format(key.to_owned())),
            "audience" => Some(Self::Audience),
            "outcomes" => Some(Self::Outcome(JobId(key.to_owned()))),
            _ => None,
        }
    }
}

/// A row's vector and the text it was made from: primary key `row`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowEmbedding {
    /// The row
    pub row: GraphRow,
    /// Its text form when it was embedded
    pub text: String,
    /// The vector
    pub embedding: Embedding,
}
