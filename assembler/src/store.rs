//! The data directory: one folder per assembly, holding its record, scratch space and outputs.
//!
//! ```text
//! {data}/assemblies/{id}/assembly.json   the record (request + state), replaced atomically
//! {data}/assemblies/{id}/work/           inputs and intermediate files of the current run
//! {data}/assemblies/{id}/out/            the outputs, moved here whole when a run succeeds
//! ```
//!
//! A record is written to a temporary file, synced, then renamed over the old one, so a kill at
//! any moment leaves either the old or the new record, never a torn one.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::record::Record;

const RECORD: &str = "assembly.json";
const RECORD_TMP: &str = "assembly.json.tmp";

/// Why the store failed
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file operation failed
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done
        what: &'static str,
        /// Where
        path: PathBuf,
        /// The cause
        source: std::io::Error,
    },
    /// A record could not be encoded
    #[error("cannot encode the record of {id}: {source}")]
    Encode {
        /// Which assembly
        id: String,
        /// The cause
        source: serde_json::Error,
    },
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// The data directory
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Opens (creating it when needed) the data directory
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        let assemblies = root.join("assemblies");
        std::fs::create_dir_all(&assemblies).map_err(io("cannot create", &assemblies))?;
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// The folder of an assembly
    pub fn dir(&self, id: &str) -> PathBuf {
        self.root.join("assemblies").join(id)
    }

    /// Its scratch folder
    pub fn work_dir(&self, id: &str) -> PathBuf {
        self.dir(id).join("work")
    }

    /// Its outputs folder
    pub fn out_dir(&self, id: &str) -> PathBuf {
        self.dir(id).join("out")
    }

    /// Writes a record atomically (temp file, sync, rename)
    pub fn save(&self, r: &Record) -> Result<(), StoreError> {
        let dir = self.dir(&r.id);
        std::fs::create_dir_all(&dir).map_err(io("cannot create", &dir))?;
        let bytes = serde_json::to_vec_pretty(r).map_err(|source| StoreError::Encode {
            id: r.id.clone(),
            source,
        })?;
        let tmp = dir.join(RECORD_TMP);
        let mut f = std::fs::File::create(&tmp).map_err(io("cannot create", &tmp))?;
        f.write_all(&bytes).map_err(io("cannot write", &tmp))?;
        f.sync_all().map_err(io("cannot sync", &tmp))?;
        drop(f);
        let path = dir.join(RECORD);
        std::fs::rename(&tmp, &path).map_err(io("cannot replace", &path))?;
        Ok(())
    }

    /// Every readable record, oldest first, and a warning for each folder that has none
    pub fn load(&self) -> Result<(Vec<Record>, Vec<String>), StoreError> {
        let assemblies = self.root.join("assemblies");
        let mut records = Vec::new();
        let mut warnings = Vec::new();
        let entries = std::fs::read_dir(&assemblies).map_err(io("cannot list", &assemblies))?;
        for entry in entries {
            let entry = entry.map_err(io("cannot list", &assemblies))?;
            let path = entry.path().join(RECORD);
            match std::fs::read(&path) {
                Ok(bytes) => match serde_json::from_slice::<Record>(&bytes) {
                    Ok(r) => records.push(r),
                    Err(e) => warnings.push(format!("skipping {}: {e}", path.display())),
                },
                // A folder without a record was never acknowledged to a client
                Err(e) => warnings.push(format!("skipping {}: {e}", path.display())),
            }
        }
        records.sort_by(|a, b| (a.created_unix_ms, &a.id).cmp(&(b.created_unix_ms, &b.id)));
        Ok((records, warnings))
    }

    /// Removes a folder and everything in it (absent is fine)
    pub fn remove_dir(path: &Path) -> Result<(), StoreError> {
        match std::fs::remove_dir_all(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("cannot remove", path)(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::record::Status;
    use crate::timeline::parse_submission;

    fn record(id: &str, created: u64) -> Record {
        Record {
            id: id.into(),
            idempotency_key: None,
            created_unix_ms: created,
            updated_unix_ms: created,
            submission: parse_submission(&json!({"timeline": {"master": "1:1", "duration_s": 1,
                "clips": [{"url": "http://h/a", "duration_s": 1}]}}))
            .unwrap(),
            status: Status::Queued,
            error: None,
            outputs: None,
            runs: 0,
            callback_pending: false,
            files_removed: false,
        }
    }

    #[test]
    fn saves_atomically_and_loads_in_order() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        store.save(&record("asm_b", 2)).unwrap();
        store.save(&record("asm_a", 1)).unwrap();
        let mut again = record("asm_b", 2);
        again.status = Status::Running;
        store.save(&again).unwrap();
        std::fs::create_dir_all(store.dir("asm_torn")).unwrap();
        let (records, warnings) = store.load().unwrap();
        let ids: Vec<_> = records.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["asm_a", "asm_b"]);
        assert_eq!(records[1].status, Status::Running);
        assert_eq!(warnings.len(), 1);
        assert!(!store.dir("asm_b").join(RECORD_TMP).exists());
        Store::remove_dir(&store.work_dir("asm_a")).unwrap();
    }
}
