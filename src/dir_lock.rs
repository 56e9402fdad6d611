//! An exclusive lock on an output directory, so that two runs into one `--out` cannot
//! both write it (one result would be silently lost): the second fails at once with a
//! clear error.
//!
//! The lock is an advisory `flock` on a sibling file `.NAME.lock` (the directory itself
//! is replaced by a rename at the end of a run, so it cannot carry the lock). The file
//! is removed when the lock is released; a process killed while holding it leaves the
//! file, but the kernel releases the lock with the process, so the next run takes it.
//! Removal races are closed by checking, after locking, that the path still names the
//! locked file.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// A held lock; released (and its file removed) on drop.
#[derive(Debug)]
pub struct DirLock {
    path: PathBuf,
    file: Option<File>,
}

/// Why a lock could not be taken.
#[derive(Debug)]
pub enum LockError {
    /// Another process holds it.
    Busy(PathBuf),
    /// The file system refused.
    Io(PathBuf, io::Error),
}

/// The lock file of `target` (a path with a file name).
pub fn lock_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.lock"))
}

impl DirLock {
    /// Takes the lock of `target` without waiting.
    pub fn acquire(target: &Path) -> Result<DirLock, LockError> {
        let path = lock_path(target);
        for _ in 0..16 {
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|e| LockError::Io(path.clone(), e))?;
            match fs4::FileExt::try_lock(&file) {
                Ok(()) => {}
                Err(fs4::TryLockError::WouldBlock) => return Err(LockError::Busy(path)),
                Err(fs4::TryLockError::Error(e)) => return Err(LockError::Io(path, e)),
            }
            // The holder before us may have removed the file after we opened it: our
            // lock is then on a file nobody else will find. Try again.
            if same_file(&file, &path) {
                return Ok(DirLock {
                    path,
                    file: Some(file),
                });
            }
        }
        Err(LockError::Busy(path))
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, path: &Path) -> bool {
    path.exists()
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // Remove while still holding the lock, then release it by closing.
        let _ = fs::remove_file(&self.path);
        drop(self.file.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        let first = DirLock::acquire(&target).unwrap();
        assert!(lock_path(&target).exists());
        assert!(matches!(DirLock::acquire(&target), Err(LockError::Busy(_))));
        drop(first);
        assert!(!lock_path(&target).exists(), "the lock file is removed");
        let again = DirLock::acquire(&target).unwrap();
        drop(again);
    }

    #[test]
    fn a_stale_lock_file_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        fs::write(lock_path(&target), "").unwrap();
        let lock = DirLock::acquire(&target).unwrap();
        drop(lock);
        assert!(!lock_path(&target).exists());
    }
}
