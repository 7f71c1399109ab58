//! The on-disk cache of rendered files: one file per key (a hash of everything asked), rendered
//! once even when downloads race (a per-key async lock), written atomically (rendered in a work
//! directory, then renamed), and bounded in size (least recently used files go first).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, SystemTime};

use tokio::sync::Semaphore;

use super::{Job, MediaError};

/// A rendered file, opened for reading
#[derive(Debug)]
pub struct Ready {
    /// The open file (it stays readable even if the cache evicts it meanwhile)
    pub file: tokio::fs::File,
    /// Its length in bytes
    pub len: u64,
    /// Where it is
    pub path: PathBuf,
}

/// The cache: a directory, a size bound and the per-key locks
#[derive(Debug)]
pub struct Cache {
    dir: PathBuf,
    max_bytes: u64,
    locks: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
    renders: Semaphore,
}

impl Cache {
    /// A cache in `dir` holding at most `max_bytes`, running at most `parallel` renders at once
    pub fn new(dir: PathBuf, max_bytes: u64, parallel: usize) -> Self {
        Self {
            dir,
            max_bytes,
            locks: Mutex::new(HashMap::new()),
            renders: Semaphore::new(parallel.max(1)),
        }
    }

    /// The process-wide cache: `SIM_MEDIA_DIR` (default `<temp dir>/creatorstudio-sim-media`),
    /// bounded by `SIM_MEDIA_CACHE_MB` (default 512)
    pub fn global() -> &'static Self {
        static CACHE: OnceLock<Cache> = OnceLock::new();
        CACHE.get_or_init(|| {
            let dir = std::env::var_os("SIM_MEDIA_DIR")
                .filter(|d| !d.is_empty())
                .map_or_else(
                    || std::env::temp_dir().join("creatorstudio-sim-media"),
                    PathBuf::from,
                );
            let mb = std::env::var("SIM_MEDIA_CACHE_MB")
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(512);
            let parallel = std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(2)
                .clamp(1, 4);
            Cache::new(dir, mb.max(1) * 1024 * 1024, parallel)
        })
    }

    /// The cache directory
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str, ext: &str) -> PathBuf {
        self.dir.join(format!("{key}.{ext}"))
    }

    /// The length of the file of `key`, when it is already rendered (a metadata lookup)
    pub fn cached_len(&self, key: &str, ext: &str) -> Option<u64> {
        std::fs::metadata(self.path(key, ext))
            .ok()
            .filter(|m| m.is_file() && m.len() > 0)
            .map(|m| m.len())
    }

    fn key_lock(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(lock) = locks.get(key).and_then(Weak::upgrade) {
            return lock;
        }
        if locks.len() > 1024 {
            locks.retain(|_, w| w.strong_count() > 0);
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        locks.insert(key.to_string(), Arc::downgrade(&lock));
        lock
    }

    /// Opens the file of `key`, rendering it with `job` first if it is not cached
    pub async fn get_or_render(
        &self,
        key: &str,
        ext: &str,
        job: &Job,
        timeout: Duration,
    ) -> Result<Ready, MediaError> {
        let path = self.path(key, ext);
        if let Some(ready) = open(&path).await {
            return Ok(ready);
        }
        let lock = self.key_lock(key);
        let _held = lock.lock().await;
        if let Some(ready) = open(&path).await {
            return Ok(ready);
        }
        let _permit = self
            .renders
            .acquire()
            .await
            .map_err(|e| MediaError::Io(e.to_string()))?;
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|e| MediaError::Io(format!("creating {}: {e}", self.dir.display())))?;
        // Unique in the process, not per cache: simulators in one test process share the
        // cache folder, and the same content gives the same key.
        let n = crate::util::next_in_process();
        let work = self
            .dir
            .join(format!(".work-{}-{n}-{}", std::process::id(), &key[..8]));
        tokio::fs::create_dir_all(&work)
            .await
            .map_err(|e| MediaError::Io(format!("creating {}: {e}", work.display())))?;
        let rendered = job.run(&work, timeout).await;
        let moved = match rendered {
            Ok(out) => tokio::fs::rename(&out, &path)
                .await
                .map_err(|e| MediaError::Io(format!("storing {}: {e}", path.display()))),
            Err(e) => Err(e),
        };
        let _ = tokio::fs::remove_dir_all(&work).await;
        moved?;
        let (dir, max, keep) = (self.dir.clone(), self.max_bytes, path.clone());
        // Eviction walks the directory: off the runtime's threads
        let _ = tokio::task::spawn_blocking(move || evict(&dir, max, &keep)).await;
        open(&path)
            .await
            .ok_or_else(|| MediaError::Io(format!("{} vanished after rendering", path.display())))
    }
}

/// Opens a cached file (and marks it used), if it is there and not empty
async fn open(path: &Path) -> Option<Ready> {
    let file = tokio::fs::File::open(path).await.ok()?;
    let len = file.metadata().await.ok()?.len();
    if len == 0 {
        return None;
    }
    let std = file.into_std().await;
    // Best effort: the modification time orders eviction
    let _ = std.set_modified(SystemTime::now());
    Some(Ready {
        file: tokio::fs::File::from_std(std),
        len,
        path: path.to_path_buf(),
    })
}

/// Deletes the least recently used files until the directory holds at most 80% of `max`
/// (never `keep`), and work directories left behind for more than an hour
fn evict(dir: &Path, max: u64, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    let mut files = Vec::new();
    let mut total = 0u64;
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        let path = entry.path();
        let modified = meta.modified().unwrap_or(now);
        if meta.is_dir() {
            let stale = now
                .duration_since(modified)
                .is_ok_and(|age| age > Duration::from_secs(3600));
            if stale && entry.file_name().to_string_lossy().starts_with(".work-") {
                let _ = std::fs::remove_dir_all(&path);
            }
            continue;
        }
        total += meta.len();
        files.push((modified, meta.len(), path));
    }
    if total <= max {
        return;
    }
    files.sort();
    let target = max / 10 * 8;
    for (_, len, path) in files {
        if total <= target {
            break;
        }
        if path == keep {
            continue;
        }
        if std::fs::remove_file(&path).is_ok() {
            total = total.saturating_sub(len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_oldest_first_and_keeps_the_new_file() {
        let dir = std::env::temp_dir().join(format!("sim-media-evict-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let base = SystemTime::now() - Duration::from_secs(100);
        for i in 0..5u64 {
            let p = dir.join(format!("f{i}.bin"));
            std::fs::write(&p, vec![0u8; 1000]).unwrap();
            let f = std::fs::File::options().write(true).open(&p).unwrap();
            f.set_modified(base + Duration::from_secs(i * 10)).unwrap();
        }
        // f0 is the oldest but is the one just rendered
        evict(&dir, 3000, &dir.join("f0.bin"));
        let left: Vec<bool> = (0..5)
            .map(|i| dir.join(format!("f{i}.bin")).exists())
            .collect();
        assert_eq!(left, vec![true, false, false, false, true]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
