//! The graph object's SQLite: one table per `Vec` of [`studio::memory::MemoryGraph`], one row
//! per struct, written row by row from the [`RowChange`]s the pure operations return.
//!
//! An operation's rows are written with no `await` in between, so the Durable Object commits
//! them together; an edit of one voice writes one row, a finished render its row and its shots,
//! never the whole graph.

use serde::Deserialize;
use serde::Serialize;
use serde::de::DeserializeOwned;
use studio::ids::{CreatorId, JobId, ModelId, ShotId};
use studio::memory::graph::{
    AudienceSignal, Embedding, FoldedFormat, FoldedOutcome, FormatDna, FormatPacing, Look,
    RenderOutcome, RenderRow, ShotOutcome, ShotRow, VisualFingerprint, Voice,
};
use studio::memory::graph::{ChannelPriors, FormatPrior};
use studio::memory::{
    GraphRow, MAX_FULL_RENDERS, MAX_FULL_SHOTS, MemoryGraph as Graph, RowChange, RowEmbedding,
    RowKey,
};
use studio::time::Timestamp;
use worker::{SqlStorage, SqlStorageValue};

/// Schema steps, applied once each in order (see `object_sql::migrate`). Steps 1 and 2 are the
/// first version's (a raw JSON copy of each summary); they stay so numbering never changes.
pub(crate) const SCHEMA: &[&str] = &[
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE render (job_id TEXT PRIMARY KEY, json TEXT NOT NULL, recorded_at INTEGER NOT NULL)",
    "CREATE TABLE voices (name TEXT PRIMARY KEY, voice_id TEXT NOT NULL)",
    // reference_images: JSON array of R2 keys
    "CREATE TABLE looks (cast_id TEXT PRIMARY KEY, description TEXT NOT NULL, \
     reference_images TEXT NOT NULL)",
    "CREATE TABLE fingerprint (id INTEGER PRIMARY KEY CHECK (id = 1), palette TEXT NOT NULL, \
     grade TEXT, lens TEXT, lighting TEXT)",
    // shot_mix: JSON object shot kind -> share
    "CREATE TABLE formats (format TEXT PRIMARY KEY, avg_shot_s REAL NOT NULL, energy TEXT NOT NULL, \
     shot_mix TEXT NOT NULL, hook_style TEXT)",
    "CREATE TABLE audience (id INTEGER PRIMARY KEY CHECK (id = 1), primary_platform TEXT, \
     regions TEXT NOT NULL, interests TEXT NOT NULL)",
    "CREATE TABLE renders (job_id TEXT PRIMARY KEY, format TEXT NOT NULL, \
     outcome_target TEXT NOT NULL, cost_usd REAL NOT NULL, finished_at INTEGER NOT NULL)",
    // embedding: little-endian f32s of the prompt's unit vector, made by embedding_model
    "CREATE TABLE shots (job_id TEXT NOT NULL, shot_id TEXT NOT NULL, kind TEXT NOT NULL, \
     model TEXT NOT NULL, prompt TEXT NOT NULL, duration_s REAL NOT NULL, hero INTEGER NOT NULL, \
     cast_ids TEXT NOT NULL, embedding_model TEXT, embedding BLOB, PRIMARY KEY (job_id, shot_id))",
    "CREATE TABLE outcomes (job_id TEXT PRIMARY KEY, views INTEGER, avg_watch_s REAL, \
     retention_3s REAL, clicks INTEGER, conversions INTEGER)",
    "CREATE TABLE shot_outcomes (job_id TEXT NOT NULL, shot_id TEXT NOT NULL, retention_3s REAL, \
     conversions INTEGER, PRIMARY KEY (job_id, shot_id))",
    // Folded renders (studio::memory::compact): outcome evidence and per-format counts.
    "CREATE TABLE folded (model TEXT NOT NULL, shot_kind TEXT NOT NULL, target TEXT NOT NULL, \
     renders INTEGER NOT NULL, sum_of_means REAL NOT NULL, PRIMARY KEY (model, shot_kind, target))",
    "CREATE TABLE folded_formats (format TEXT PRIMARY KEY, renders INTEGER NOT NULL, \
     cost_usd REAL NOT NULL)",
    // Channel imports (studio::memory::import): the channel row and its per-format priors;
    // regions: JSON array of country codes.
    "CREATE TABLE channel (id INTEGER PRIMARY KEY CHECK (id = 1), language TEXT, \
     primary_platform TEXT, regions TEXT NOT NULL)",
    "CREATE TABLE channel_formats (format TEXT PRIMARY KEY, videos INTEGER NOT NULL, \
     avg_duration_s REAL NOT NULL, avg_views REAL, engagement_rate REAL, \
     avg_view_percentage REAL, avg_view_duration_s REAL, avg_shot_s REAL NOT NULL, \
     energy TEXT NOT NULL)",
    // Row embeddings (studio::memory::row_embed): the fingerprint, format DNA, audience and
    // outcome rows' text forms and their vectors (little-endian f32s, as shots'), by
    // (table, key); key '' for the single-row tables.
    "CREATE TABLE row_embeddings (row_table TEXT NOT NULL, row_key TEXT NOT NULL, \
     text TEXT NOT NULL, embedding_model TEXT NOT NULL, embedding BLOB NOT NULL, \
     PRIMARY KEY (row_table, row_key))",
];

/// Largest count SQLite can take from JavaScript without rounding (2^53 - 1)
pub(crate) const MAX_STORED_COUNT: u64 = (1 << 53) - 1;

/// Storage failure or a row that does not decode
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// SQLite failed
    #[error("sqlite: {0}")]
    Sql(#[from] worker::Error),
    /// A row did not decode or encode
    #[error("{table} row: {message}")]
    Row {
        /// Which table
        table: &'static str,
        /// What was wrong
        message: String,
    },
}

fn row_error(table: &'static str, message: impl ToString) -> StoreError {
    StoreError::Row {
        table,
        message: message.to_string(),
    }
}

fn text(s: impl Into<String>) -> SqlStorageValue {
    SqlStorageValue::String(s.into())
}

fn opt_text(s: Option<&String>) -> SqlStorageValue {
    s.map_or(SqlStorageValue::Null, |s| text(s.as_str()))
}

fn real(x: f64) -> SqlStorageValue {
    SqlStorageValue::Float(x)
}

fn opt_real(x: Option<f64>) -> SqlStorageValue {
    x.map_or(SqlStorageValue::Null, real)
}

fn count(table: &'static str, n: Option<u64>) -> Result<SqlStorageValue, StoreError> {
    match n {
        None => Ok(SqlStorageValue::Null),
        Some(n) if n <= MAX_STORED_COUNT => Ok(SqlStorageValue::Integer(
            i64::try_from(n).map_err(|e| row_error(table, e))?,
        )),
        Some(n) => Err(row_error(table, format!("count {n} is over 2^53 - 1"))),
    }
}

fn json<T: Serialize>(table: &'static str, value: &T) -> Result<SqlStorageValue, StoreError> {
    serde_json::to_string(value)
        .map(text)
        .map_err(|e| row_error(table, e))
}

fn from_json<T: DeserializeOwned>(table: &'static str, s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| row_error(table, e))
}

/// A unit enum's wire name (`close_up`, `watch_time`)
fn name<T: Serialize>(table: &'static str, value: &T) -> Result<SqlStorageValue, StoreError> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => Ok(text(s)),
        Ok(other) => Err(row_error(table, format!("{other} is not a name"))),
        Err(e) => Err(row_error(table, e)),
    }
}

fn from_name<T: DeserializeOwned>(table: &'static str, s: &str) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|e| row_error(table, format!("{s:?}: {e}")))
}

fn blob(vector: &[f32]) -> SqlStorageValue {
    SqlStorageValue::Blob(vector.iter().flat_map(|x| x.to_le_bytes()).collect())
}

fn vector(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| c.try_into().map(f32::from_le_bytes).unwrap_or(0.0))
        .collect()
}

/// The creator recorded for this object, if any
pub(crate) fn creator(sql: &SqlStorage) -> Result<Option<CreatorId>, StoreError> {
    #[derive(Deserialize)]
    struct Value {
        value: String,
    }
    let rows: Vec<Value> = sql
        .exec("SELECT value FROM meta WHERE key = 'creator'", None)?
        .to_array()?;
    Ok(rows.into_iter().next().map(|r| CreatorId(r.value)))
}

/// Records whose graph this object holds (once, on its first write)
pub(crate) fn set_creator(sql: &SqlStorage, creator: &CreatorId) -> Result<(), StoreError> {
    sql.exec(
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('creator', ?)",
        vec![text(creator.as_str())],
    )?;
    Ok(())
}

/// Loads the graph (once per object start; the object keeps it between requests). Bounded: the
/// newest [`MAX_FULL_RENDERS`] renders with at most [`MAX_FULL_SHOTS`] shots, their outcomes,
/// and the folded aggregates; the compaction that runs with every recorded render keeps the
/// tables within those caps (rows beyond them, from before the rule, are never loaded).
pub(crate) fn load(sql: &SqlStorage, creator: CreatorId) -> Result<Graph, StoreError> {
    let mut graph = Graph::new(creator);
    load_voices(sql, &mut graph)?;
    load_looks(sql, &mut graph)?;
    load_fingerprint(sql, &mut graph)?;
    load_formats(sql, &mut graph)?;
    load_audience(sql, &mut graph)?;
    load_renders(sql, &mut graph)?;
    load_shots(sql, &mut graph)?;
    load_outcomes(sql, &mut graph)?;
    load_folded(sql, &mut graph)?;
    load_row_embeddings(sql, &mut graph)?;
    load_channel(sql, &mut graph)?;
    Ok(graph)
}

/// The renders a load reads: the newest ones, within the cap
const LOADED_RENDERS: &str = "SELECT job_id FROM renders ORDER BY rowid DESC LIMIT ?";

fn cap(n: usize) -> SqlStorageValue {
    SqlStorageValue::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

fn load_folded(sql: &SqlStorage, graph: &mut Graph) -> Result<(), StoreError> {
    #[derive(Deserialize)]
    struct Row {
        model: String,
        shot_kind: String,
        target: String,
        renders: f64,
        sum_of_means: f64,
    }
    #[derive(Deserialize)]
    struct FormatRow {
        format: String,
        renders: f64,
        cost_usd: f64,
    }
    let rows: Vec<Row> = sql
        .exec(
            "SELECT model, shot_kind, target, renders, sum_of_means FROM folded ORDER BY rowid",
            None,
        )?
        .to_array()?;
    graph.folded = rows
        .into_iter()
        .map(|r| {
            Ok(FoldedOutcome {
                model: ModelId(r.model),
                shot_kind: from_name("folded", &r.shot_kind)?,
                target: from_name("folded", &r.target)?,
                renders: r.renders.clamp(0.0, f64::from(u32::MAX)) as u32,
                sum_of_means: r.sum_of_means,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    let rows: Vec<FormatRow> = sql
        .exec(
            "SELECT format, renders, cost_usd FROM folded_formats ORDER BY rowid",
            None,
        )?
        .to_array()?;
    graph.folded_formats = rows
        .into_iter()
        .map(|r| FoldedFormat {
            format: r.format,
            renders: r.renders.clamp(0.0, f64::from(u32::MAX)) as u32,
            cost_usd: r.cost_usd,
        })
        .collect();
    Ok(())
}

/// Rewrites the folded tables from the graph (a few hundred rows at most, once per compaction)
fn write_folded(sql: &SqlStorage, graph: &Graph) -> Result<(), StoreError> {
    exec(sql, "DELETE FROM folded", Vec::new())?;
    for f in &graph.folded {
        exec(
            sql,
            "INSERT INTO folded (model, shot_kind, target, renders, sum_of_means) \
             VALUES (?, ?, ?, ?, ?)",
            vec![
                text(f.model.as_str()),
                name("folded", &f.shot_kind)?,
                name("folded", &f.target)?,
                SqlStorageValue::Integer(i64::from(f.renders)),
                real(f.sum_of_means),
            ],
        )?;
    }
    exec(sql, "DELETE FROM folded_formats", Vec::new())?;
    for f in &graph.folded_formats {
        exec(
            sql,
            "INSERT INTO folded_formats (format, renders, cost_usd) VALUES (?, ?, ?)",
            vec![
                text(f.format.as_str()),
                SqlStorageValue::Integer(i64::from(f.renders)),
                real(f.cost_usd),
            ],
        )?;
    }
    Ok(())
}

fn load_channel(sql: &SqlStorage, graph: &mut Graph) -> Result<(), StoreError> {
    #[derive(Deserialize)]
    struct Row {
        language: Option<String>,
        primary_platform: Option<String>,
        regions: String,
    }
    #[derive(Deserialize)]
    struct FormatRow {
        format: String,
        videos: f64,
        avg_duration_s: f64,
        avg_views: Option<f64>,
        engagement_rate: Option<f64>,
        avg_view_percentage: Option<f64>,
        avg_view_duration_s: Option<f64>,
        avg_shot_s: f64,
        energy: String,
    }
    let rows: Vec<Row> = sql
        .exec(
            "SELECT language, primary_platform, regions FROM channel WHERE id = 1",
            None,
        )?
        .to_array()?;
    let Some(row) = rows.into_iter().next() else {
        graph.channel = None;
        return Ok(());
    };
    let formats: Vec<FormatRow> = sql
        .exec(
            "SELECT format, videos, avg_duration_s, avg_views, engagement_rate, \
             avg_view_percentage, avg_view_duration_s, avg_shot_s, energy FROM channel_formats \
             ORDER BY format",
            None,
        )?
        .to_array()?;
    graph.channel = Some(ChannelPriors {
        language: row.language,
        primary_platform: row
            .primary_platform
            .map(|p| from_name("channel", &p))
            .transpose()?,
        regions: from_json("channel", &row.regions)?,
        formats: formats
            .into_iter()
            .map(|f| {
                Ok(FormatPrior {
                    format: f.format,
                    videos: f.videos.clamp(0.0, f64::from(u32::MAX)) as u32,
                    avg_duration_s: f.avg_duration_s,
                    avg_views: f.avg_views,
                    engagement_rate: f.engagement_rate,
                    avg_view_percentage: f.avg_view_percentage,
                    avg_view_duration_s: f.avg_view_duration_s,
                    pacing: FormatPacing {
                        avg_shot_s: f.avg_shot_s,
                        energy: from_name("channel_formats", &f.energy)?,
                    },
                })
            })
            .collect::<Result<_, StoreError>>()?,
    });
    Ok(())
}

/// Rewrites the channel row and its per-format priors (a few rows, once per changing import)
fn write_channel(sql: &SqlStorage, graph: &Graph) -> Result<(), StoreError> {
    exec(sql, "DELETE FROM channel_formats", Vec::new())?;
    let Some(c) = &graph.channel else {
        return exec(sql, "DELETE FROM channel", Vec::new());
    };
    exec(
        sql,
        "INSERT OR REPLACE INTO channel (id, language, primary_platform, regions) \
         VALUES (1, ?, ?, ?)",
        vec![
            opt_text(c.language.as_ref()),
            c.primary_platform
                .as_ref()
                .map(|p| name("channel", p))
                .transpose()?
                .unwrap_or(SqlStorageValue::Null),
            json("channel", &c.regions)?,
        ],
    )?;
    for f in &c.formats {
        exec(
            sql,
            "INSERT INTO channel_formats (format, videos, avg_duration_s, avg_views, \
             engagement_rate, avg_view_percentage, avg_view_duration_s, avg_shot_s, energy) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                text(f.format.as_str()),
                SqlStorageValue::Integer(i64::from(f.videos)),
                real(f.avg_duration_s),
                opt_real(f.avg_views),
                opt_real(f.engagement_rate),
                opt_real(f.avg_view_percentage),
                opt_real(f.avg_view_duration_s),
                real(f.pacing.avg_shot_s),
                name("channel_formats", &f.pacing.energy)?,
            ],
        )?;
    }
    Ok(())
}

fn load_voices(sql: &SqlStorage, graph: &mut Graph) -> Result<(), StoreError> {
    #[derive(Deserialize)]
    struct Row {
        name: String,
        voice_id: String,
    }
    let rows: Vec<Row> = sql
        .exec("SELECT name, voice_id FROM voices ORDER BY rowid", None)?
        .to_array()?;
    graph.voices = rows
        .into_iter()
        .map(|r| Voice {
            name: r.name,
            voice_id: r.voice_id,
        })
        .collect();
    Ok(())
}

fn load_looks(sql: &SqlStorage, graph: &mut Graph) -> Result<(), StoreError> {
    #[derive(Deserialize)]
    struct Row {
        cast_id: String,
        description: String,
        reference_images: String,
    }
    let rows: Vec<Row> = sql
        .exec(
            "SELECT cast_id, description, reference_images FROM looks ORDER BY rowid",
            None,
        )?
        .to_array()?;
    graph.looks = rows
        .into_iter()
        .map(|r| {
            Ok(Look {
                cast_id: r.cast_id,
                description: r.description,
                reference_images: from_json("looks", &r.reference_images)?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(())
}

fn load_fingerprint(sql: &SqlStorage, graph: &mut Graph) -> Result<(), StoreError> {
    #[derive(Deserialize)]
    struct Row {
        palette: String,
        grade: Option<String>,
        lens: Option<String>,
        lighting: Option<String>,
    }
    let rows: Vec<Row> = sql
        .exec(
            "SELECT palette, grade, lens, lighting FROM fingerprint WHERE id = 1",
            None,
        )?
        .to_array()?;
    graph.fingerprint = match rows.into_iter().next() {
        Some(r) => Some(VisualFingerprint {
            palette: from_json("fingerprint", &r.palette)?,
            grade: r.grade,
            lens: r.lens,
            lighting: r.lighting,
        }),
        None => None,
    };
    Ok(())
}

fn load_formats(sql: &SqlStorage, graph: &mut Graph) -> Result<(), StoreError> {
    #[derive(Deserialize)]
    struct Row {
        format: String,
        avg_shot_s: f64,
        energy: String,
        shot_mix: String,
        hook_style: Option<String>,
    }
    let rows: Vec<Row> = sql
        .exec(
            "SELECT format, avg_shot_s, energy, shot_mix, hook_style FROM formats ORDER BY rowid",
            None,
        )?
        .to_array()?;
    graph.formats = rows
        .into_iter()
        .map(|r| {
            Ok(FormatDna {
                format: r.format,
                pacing: FormatPacing {
                    avg_shot_s: r.avg_shot_s,
                    energy: from_name("formats", &r.energy)?,
                },
                shot_mix: from_json("formats", &r.shot_mix)?,
                hook_style: r.hook_style,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(())
}

fn load_audience(sql: &SqlStorage, graph: &mut Graph) -> Result<(), StoreError> {
    #[derive(Deserialize)]
    struct Row {
        primary_platform: Option<String>,
        regions: String,
        interests: String,
    }
    let rows: Vec<Row> = sql
        .exec(
            "SELECT primary_platform, regions, interests FROM audience WHERE id = 1",
            None,
        )?
        .to_array()?;
    graph.audience = match rows.into_iter().next() {
        Some(r) => Some(AudienceSignal {
            primary_platform: r
                .primary_platform
                .map(|p| from_name("audience", &p))
                .transpose()?,
            regions: from_json("audience", &r.regions)?,
            interests: from_json("audience", &r.interests)?,
        }),
        None => None,
    };
    Ok(())
}

fn load_renders(sql: &SqlStorage, graph: &mut Graph) -> Result<(), StoreError> {
    #[derive(Deserialize)]
    struct Row {
        job_id: String,
        format: String,
        outcome_target: String,
        cost_usd: f64,
        finished_at: f64,
    }
    let rows: Vec<Row> = sql
        .exec(
            "SELECT job_id, format, outcome_target, cost_usd, finished_at FROM \
             (SELECT rowid AS r, * FROM renders ORDER BY rowid DESC LIMIT ?) ORDER BY r",
            vec![cap(MAX_FULL_RENDERS)],
        )?
        .to_array()?;
    graph.renders = rows
        .into_iter()
        .map(|r| {
            Ok(RenderRow {
                job: JobId(r.job_id),
                format: r.format,
                outcome_target: from_name("renders", &r.outcome_target)?,
                cost_usd: r.cost_usd,
                finished_at: Timestamp(r.finished_at.max(0.0) as u64),
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(())
}

/// Shots are read as raw values: the embedding is a blob, which serde rows do not carry
fn load_shots(sql: &SqlStorage, graph: &mut Graph) -> Result<(), StoreError> {
    const T: &str = "shots";
    let query = format!(
        "SELECT job_id, shot_id, kind, model, prompt, duration_s, hero, cast_ids, \
         embedding_model, embedding FROM (SELECT rowid AS r, * FROM shots \
         WHERE job_id IN ({LOADED_RENDERS}) ORDER BY rowid DESC LIMIT ?) ORDER BY r"
    );
    let cursor = sql.exec(&query, vec![cap(MAX_FULL_RENDERS), cap(MAX_FULL_SHOTS)])?;
    let mut shots = Vec::new();
    for row in cursor.raw() {
        let row = row?;
        let [
            job,
            shot,
            kind,
            model,
            prompt,
            duration_s,
            hero,
            cast,
            embedding_model,
            embedding,
        ] = row.as_slice()
        else {
            return Err(row_error(T, format!("{} columns", row.len())));
        };
        let embedding = match (embedding_model, embedding) {
            (SqlStorageValue::String(model), SqlStorageValue::Blob(bytes)) => Some(Embedding {
                model: model.clone(),
                vector: vector(bytes),
            }),
            _ => None,
        };
        shots.push(ShotRow {
            job: JobId(as_text(T, job)?),
            shot: ShotId(as_text(T, shot)?),
            kind: from_name(T, &as_text(T, kind)?)?,
            model: ModelId(as_text(T, model)?),
            prompt: as_text(T, prompt)?,
            duration_s: as_real(T, duration_s)?,
            hero: as_real(T, hero)? != 0.0,
            cast: from_json(T, &as_text(T, cast)?)?,
            embedding,
        });
    }
    graph.shots = shots;
    Ok(())
}

fn as_text(table: &'static str, v: &SqlStorageValue) -> Result<String, StoreError> {
    match v {
        SqlStorageValue::String(s) => Ok(s.clone()),
        other => Err(row_error(table, format!("expected text, found {other:?}"))),
    }
}

/// A REAL column: the runtime hands back whole numbers as integers
fn as_real(table: &'static str, v: &SqlStorageValue) -> Result<f64, StoreError> {
    match v {
        SqlStorageValue::Float(x) => Ok(*x),
        SqlStorageValue::Integer(i) => Ok(*i as f64),
        SqlStorageValue::Boolean(b) => Ok(if *b { 1.0 } else { 0.0 }),
        other => Err(row_error(
            table,
            format!("expected a number, found {other:?}"),
        )),
    }
}

fn load_outcomes(sql: &SqlStorage, graph: &mut Graph) -> Result<(), StoreError> {
    #[derive(Deserialize)]
    struct Row {
        job_id: String,
        views: Option<f64>,
        avg_watch_s: Option<f64>,
        retention_3s: Option<f64>,
        clicks: Option<f64>,
        conversions: Option<f64>,
    }
    #[derive(Deserialize)]
    struct ShotRowOut {
        job_id: String,
        shot_id: String,
        retention_3s: Option<f64>,
        conversions: Option<f64>,
    }
    let query = format!(
        "SELECT job_id, views, avg_watch_s, retention_3s, clicks, conversions FROM outcomes \
         WHERE job_id IN ({LOADED_RENDERS}) ORDER BY rowid"
    );
    let rows: Vec<Row> = sql.exec(&query, vec![cap(MAX_FULL_RENDERS)])?.to_array()?;
    let counted = |x: Option<f64>| x.map(|v| v.max(0.0) as u64);
    graph.outcomes = rows
        .into_iter()
        .map(|r| RenderOutcome {
            job: JobId(r.job_id),
            views: counted(r.views),
            avg_watch_s: r.avg_watch_s,
            retention_3s: r.retention_3s,
            clicks: counted(r.clicks),
            conversions: counted(r.conversions),
        })
        .collect();
    let query = format!(
        "SELECT job_id, shot_id, retention_3s, conversions FROM shot_outcomes \
         WHERE job_id IN ({LOADED_RENDERS}) ORDER BY rowid LIMIT ?"
    );
    let rows: Vec<ShotRowOut> = sql
        .exec(&query, vec![cap(MAX_FULL_RENDERS), cap(MAX_FULL_SHOTS)])?
        .to_array()?;
    graph.shot_outcomes = rows
        .into_iter()
        .map(|r| ShotOutcome {
            job: JobId(r.job_id),
            shot: ShotId(r.shot_id),
            retention_3s: r.retention_3s,
            conversions: counted(r.conversions),
        })
        .collect();
    Ok(())
}

/// Writes the rows an operation changed, as they now are in `graph`: a key the graph holds is
/// upserted, one it no longer holds is deleted. Synchronous, so the writes commit together.
pub(crate) fn persist(
    sql: &SqlStorage,
    graph: &Graph,
    changes: &[RowChange],
) -> Result<(), StoreError> {
    for change in changes {
        let key = match change {
            RowChange::Upsert(key) | RowChange::Delete(key) => key,
        };
        write_key(sql, graph, key)?;
    }
    Ok(())
}

fn write_key(sql: &SqlStorage, graph: &Graph, key: &RowKey) -> Result<(), StoreError> {
    match key {
        RowKey::Voice(name) => match graph.voices.iter().find(|v| &v.name == name) {
            Some(v) => exec(
                sql,
                "INSERT OR REPLACE INTO voices (name, voice_id) VALUES (?, ?)",
                vec![text(v.name.as_str()), text(v.voice_id.as_str())],
            ),
            None => exec(sql, "DELETE FROM voices WHERE name = ?", vec![text(name)]),
        },
        RowKey::Look(cast_id) => match graph.looks.iter().find(|l| &l.cast_id == cast_id) {
            Some(l) => exec(
                sql,
                "INSERT OR REPLACE INTO looks (cast_id, description, reference_images) \
                 VALUES (?, ?, ?)",
                vec![
                    text(l.cast_id.as_str()),
                    text(l.description.as_str()),
                    json("looks", &l.reference_images)?,
                ],
            ),
            None => exec(
                sql,
                "DELETE FROM looks WHERE cast_id = ?",
                vec![text(cast_id)],
            ),
        },
        RowKey::Fingerprint => match &graph.fingerprint {
            Some(f) => exec(
                sql,
                "INSERT OR REPLACE INTO fingerprint (id, palette, grade, lens, lighting) \
                 VALUES (1, ?, ?, ?, ?)",
                vec![
                    json("fingerprint", &f.palette)?,
                    opt_text(f.grade.as_ref()),
                    opt_text(f.lens.as_ref()),
                    opt_text(f.lighting.as_ref()),
                ],
            ),
            None => exec(sql, "DELETE FROM fingerprint", Vec::new()),
        },
        RowKey::Format(format) => match graph.formats.iter().find(|f| &f.format == format) {
            Some(f) => exec(
                sql,
                "INSERT OR REPLACE INTO formats (format, avg_shot_s, energy, shot_mix, hook_style) \
                 VALUES (?, ?, ?, ?, ?)",
                vec![
                    text(f.format.as_str()),
                    real(f.pacing.avg_shot_s),
                    name("formats", &f.pacing.energy)?,
                    json("formats", &f.shot_mix)?,
                    opt_text(f.hook_style.as_ref()),
                ],
            ),
            None => exec(
                sql,
                "DELETE FROM formats WHERE format = ?",
                vec![text(format)],
            ),
        },
        RowKey::Audience => match &graph.audience {
            Some(a) => exec(
                sql,
                "INSERT OR REPLACE INTO audience (id, primary_platform, regions, interests) \
                 VALUES (1, ?, ?, ?)",
                vec![
                    a.primary_platform
                        .as_ref()
                        .map(|p| name("audience", p))
                        .transpose()?
                        .unwrap_or(SqlStorageValue::Null),
                    json("audience", &a.regions)?,
                    json("audience", &a.interests)?,
                ],
            ),
            None => exec(sql, "DELETE FROM audience", Vec::new()),
        },
        RowKey::Render(job) => write_render(sql, graph, job),
        RowKey::Outcome(job) => write_outcome(sql, graph, job),
        RowKey::Folded => write_folded(sql, graph),
        RowKey::Channel => write_channel(sql, graph),
    }
}

fn exec(sql: &SqlStorage, query: &str, bindings: Vec<SqlStorageValue>) -> Result<(), StoreError> {
    sql.exec(query, bindings)?;
    Ok(())
}

/// A render row and its shots (a render is recorded once, so its shots are written once)
fn write_render(sql: &SqlStorage, graph: &Graph, job: &str) -> Result<(), StoreError> {
    let Some(r) = graph.renders.iter().find(|r| r.job.as_str() == job) else {
        exec(sql, "DELETE FROM shots WHERE job_id = ?", vec![text(job)])?;
        return exec(sql, "DELETE FROM renders WHERE job_id = ?", vec![text(job)]);
    };
    let finished_at =
        i64::try_from(r.finished_at.0).map_err(|e| row_error("renders", e.to_string()))?;
    exec(
        sql,
        "INSERT OR REPLACE INTO renders (job_id, format, outcome_target, cost_usd, finished_at) \
         VALUES (?, ?, ?, ?, ?)",
        vec![
            text(job),
            text(r.format.as_str()),
            name("renders", &r.outcome_target)?,
            real(r.cost_usd),
            SqlStorageValue::Integer(finished_at),
        ],
    )?;
    exec(sql, "DELETE FROM shots WHERE job_id = ?", vec![text(job)])?;
    for s in graph.shots.iter().filter(|s| s.job.as_str() == job) {
        let (model, vector) = match &s.embedding {
            Some(e) => (text(e.model.as_str()), blob(&e.vector)),
            None => (SqlStorageValue::Null, SqlStorageValue::Null),
        };
        exec(
            sql,
            "INSERT INTO shots (job_id, shot_id, kind, model, prompt, duration_s, hero, cast_ids, \
             embedding_model, embedding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                text(job),
                text(s.shot.as_str()),
                name("shots", &s.kind)?,
                text(s.model.as_str()),
                text(s.prompt.as_str()),
                real(s.duration_s),
                SqlStorageValue::Integer(i64::from(s.hero)),
                json("shots", &s.cast)?,
                model,
                vector,
            ],
        )?;
    }
    Ok(())
}

/// A render's outcome row and its per-shot rows, as the merge left them
fn write_outcome(sql: &SqlStorage, graph: &Graph, job: &str) -> Result<(), StoreError> {
    match graph.outcomes.iter().find(|o| o.job.as_str() == job) {
        Some(o) => exec(
            sql,
            "INSERT OR REPLACE INTO outcomes (job_id, views, avg_watch_s, retention_3s, clicks, \
             conversions) VALUES (?, ?, ?, ?, ?, ?)",
            vec![
                text(job),
                count("outcomes", o.views)?,
                opt_real(o.avg_watch_s),
                opt_real(o.retention_3s),
                count("outcomes", o.clicks)?,
                count("outcomes", o.conversions)?,
            ],
        )?,
        None => exec(
            sql,
            "DELETE FROM outcomes WHERE job_id = ?",
            vec![text(job)],
        )?,
    }
    exec(
        sql,
        "DELETE FROM shot_outcomes WHERE job_id = ?",
        vec![text(job)],
    )?;
    for s in graph.shot_outcomes.iter().filter(|s| s.job.as_str() == job) {
        exec(
            sql,
            "INSERT INTO shot_outcomes (job_id, shot_id, retention_3s, conversions) \
             VALUES (?, ?, ?, ?)",
            vec![
                text(job),
                text(s.shot.as_str()),
                opt_real(s.retention_3s),
                count("shot_outcomes", s.conversions)?,
            ],
        )?;
    }
    Ok(())
}

/// Row vectors a load reads at most: one per outcome row kept, plus the fingerprint, audience
/// and formats (vectors of rows no longer kept are deleted by the next refresh)
const LOADED_ROW_EMBEDDINGS: usize = MAX_FULL_RENDERS + 1_000;

/// Read as raw values: the vector is a blob, which serde rows do not carry
fn load_row_embeddings(sql: &SqlStorage, graph: &mut Graph) -> Result<(), StoreError> {
    const T: &str = "row_embeddings";
    let cursor = sql.exec(
        "SELECT row_table, row_key, text, embedding_model, embedding FROM row_embeddings \
         ORDER BY rowid LIMIT ?",
        vec![cap(LOADED_ROW_EMBEDDINGS)],
    )?;
    let mut rows = Vec::new();
    for row in cursor.raw() {
        let row = row?;
        let [table, key, text, model, embedding] = row.as_slice() else {
            return Err(row_error(T, format!("{} columns", row.len())));
        };
        let SqlStorageValue::Blob(bytes) = embedding else {
            return Err(row_error(T, "the embedding is not a blob"));
        };
        let (table, key) = (as_text(T, table)?, as_text(T, key)?);
        // A table this build does not embed (written by a newer one) is left alone.
        let Some(row) = GraphRow::from_parts(&table, &key) else {
            continue;
        };
        rows.push(RowEmbedding {
            row,
            text: as_text(T, text)?,
            embedding: Embedding {
                model: as_text(T, model)?,
                vector: vector(bytes),
            },
        });
    }
    rows.sort_by(|a, b| a.row.cmp(&b.row));
    graph.row_embeddings = rows;
    Ok(())
}

/// Writes the vectors of `rows` as they now are in `graph`: upserted when it holds one,
/// deleted when not. Synchronous, so the writes commit together.
pub(crate) fn write_row_embeddings(
    sql: &SqlStorage,
    graph: &Graph,
    rows: &[GraphRow],
) -> Result<(), StoreError> {
    for row in rows {
        match graph.row_embeddings.iter().find(|e| &e.row == row) {
            Some(e) => exec(
                sql,
                "INSERT OR REPLACE INTO row_embeddings (row_table, row_key, text, \
                 embedding_model, embedding) VALUES (?, ?, ?, ?, ?)",
                vec![
                    text(row.table()),
                    text(row.key()),
                    text(e.text.as_str()),
                    text(e.embedding.model.as_str()),
                    blob(&e.embedding.vector),
                ],
            )?,
            None => exec(
                sql,
                "DELETE FROM row_embeddings WHERE row_table = ? AND row_key = ?",
                vec![text(row.table()), text(row.key())],
            )?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_through_blobs() {
        let v = vec![0.5f32, -0.25, 1.0e-7, 0.0];
        let SqlStorageValue::Blob(bytes) = blob(&v) else {
            unreachable!("blob() makes a blob")
        };
        assert_eq!(bytes.len(), 16);
        assert_eq!(vector(&bytes), v);
    }

    #[test]
    fn enum_names_are_their_wire_names() {
        use studio::brief::ShotKind;
        assert_eq!(name("t", &ShotKind::CloseUp).ok(), Some(text("close_up")));
        assert_eq!(
            from_name::<ShotKind>("t", "close_up").ok(),
            Some(ShotKind::CloseUp)
        );
        assert!(from_name::<ShotKind>("t", "wide").is_err());
    }
}
