//! Which [`Embedder`] the graph uses: the deterministic local one (the default), or Workers AI.
//!
//! The core's operations are synchronous, and a Workers AI call is not: for a remote embedder
//! the object embeds the texts an operation will need first (a brief's shot prompts, a render's
//! shot prompts) and hands the core a [`Precomputed`] table. Config:
//!
//! - `EMBEDDER` unset or `local`: [`NgramEmbedder`] (`local-ngram-256`), no IO;
//! - `EMBEDDER=workers-ai`: the `AI` binding with `EMBEDDING_MODEL` (default
//!   `@cf/baai/bge-small-en-v1.5`). Without an `AI` binding, or when a call fails, the object
//!   falls back to the local embedder and logs why. Vectors carry their embedder's id and the
//!   core never compares vectors of different embedders, so a fallback degrades similarity
//!   (fewer comparable past shots), never correctness.

use std::cell::Cell;

use serde::{Deserialize, Serialize};
use studio::memory::{Embedder, NgramEmbedder, Precomputed};
use worker::Env;

use crate::config;

/// The Workers AI embedding model when `EMBEDDING_MODEL` is unset
pub(crate) const DEFAULT_AI_MODEL: &str = "@cf/baai/bge-small-en-v1.5";
/// Texts per Workers AI call (the text embedding models take batches of up to 100)
const AI_BATCH: usize = 100;

/// The configured embedder
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Choice {
    /// The local n-gram embedder
    Local,
    /// Workers AI through the `AI` binding
    WorkersAi {
        /// The model id, also the vectors' embedder id
        model: String,
    },
}

impl Choice {
    /// The id the vectors of this choice carry (a fallback to the local embedder makes vectors
    /// of another id, which later refreshes replace)
    pub(crate) fn id(&self) -> String {
        match self {
            Self::Local => NgramEmbedder::default().id().to_owned(),
            Self::WorkersAi { model } => model.clone(),
        }
    }

    /// From `EMBEDDER` and `EMBEDDING_MODEL`
    pub(crate) fn from_env(env: &Env) -> Self {
        match config::lookup(env, "EMBEDDER").as_deref() {
            Some("workers-ai") => Self::WorkersAi {
                model: config::lookup(env, "EMBEDDING_MODEL")
                    .unwrap_or_else(|| DEFAULT_AI_MODEL.to_owned()),
            },
            Some("local") | None => Self::Local,
            Some(other) => {
                worker::console_warn!(
                    "EMBEDDER={other} is not `local` or `workers-ai`; using the local embedder"
                );
                Self::Local
            }
        }
    }
}

#[derive(Serialize)]
struct AiInput<'a> {
    text: &'a [&'a str],
}

#[derive(Deserialize)]
struct AiOutput {
    data: Vec<Vec<f32>>,
}

/// The embedder for an operation that will embed `texts`. `warned` keeps the fallback note to
/// one log line per object instance.
pub(crate) async fn for_texts(
    env: &Env,
    choice: &Choice,
    texts: &[&str],
    warned: &Cell<bool>,
) -> Box<dyn Embedder> {
    let Choice::WorkersAi { model } = choice else {
        return Box::new(NgramEmbedder::default());
    };
    let ai = match env.ai("AI") {
        Ok(ai) => ai,
        Err(e) => {
            if !warned.replace(true) {
                worker::console_log!(
                    "EMBEDDER=workers-ai but no usable AI binding ({e}); using the local embedder"
                );
            }
            return Box::new(NgramEmbedder::default());
        }
    };
    match embed_remote(&ai, model, texts).await {
        Ok(table) => Box::new(table),
        Err(e) => {
            worker::console_error!("Workers AI embedding failed ({e}); using the local embedder");
            Box::new(NgramEmbedder::default())
        }
    }
}

/// Embeds the distinct non-blank texts, in batches
async fn embed_remote(ai: &worker::Ai, model: &str, texts: &[&str]) -> worker::Result<Precomputed> {
    let mut distinct: Vec<&str> = texts
        .iter()
        .copied()
        .filter(|t| !t.trim().is_empty())
        .collect();
    distinct.sort_unstable();
    distinct.dedup();
    let mut table = Precomputed::new(model);
    for batch in distinct.chunks(AI_BATCH) {
        let out: AiOutput = ai.run(model, AiInput { text: batch }).await?;
        if out.data.len() != batch.len() {
            return Err(worker::Error::RustError(format!(
                "{model} returned {} vectors for {} texts",
                out.data.len(),
                batch.len()
            )));
        }
        for (text, vector) in batch.iter().zip(out.data) {
            table.insert(*text, vector);
        }
    }
    Ok(table)
}
