//! Writing run outputs: polars tables to Parquet or CSV, atomically (spec §8: "a run either
//! leaves complete files or none").
//!
//! What "atomic" means here:
//! - **A file** ([`write_parquet`], [`write_csv`], [`write_file`], [`write_bytes`]) is written to a
//!   temporary file in the same directory (`.NAME.tmp-PID-N`), flushed and fsynced, then
//!   renamed over its final name; a rename within one directory replaces the name in one
//!   step on POSIX filesystems. On any error the temporary file is removed and the final
//!   name is untouched (an older file of that name survives whole).
//! - **A directory** ([`OutputDir`]) is one unit. It is built complete as a hidden
//!   sibling (`.DIR.tmp-PID-N`, same filesystem) and swapped in by [`OutputDir::commit`]:
//!   on Linux one `renameat2(RENAME_EXCHANGE)` exchanges the new and the old directory
//!   atomically, elsewhere (or where the filesystem refuses) the old one is renamed
//!   aside (`.DIR.old-PID-N`) and the new one renamed in. The old directory is removed
//!   only once the new one is in place, so a reader sees the whole old run or the whole
//!   new one, never a mix, and files of the old run that the new one does not write
//!   (charts after `--no-charts`, Parquet after `--format csv`) do not survive.
//! - Because a run replaces the whole directory, an existing `DIR` is replaced only if
//!   everything in it is something otasim writes (tables `*.csv`/`*.parquet`, `*.json`,
//!   `*.html`, and `charts/`); anything else (a user's file, `--out .` in a project) is
//!   an error before the simulation starts, and nothing is deleted.
//! - [`OutputDir::create`] takes a lock on `DIR` ([`crate::dir_lock`]), so a concurrent
//!   run into the same `DIR` fails at once, then removes staging directories left by
//!   killed runs (and restores `DIR` from `.DIR.old-*` if a run died between the two
//!   renames of the fallback), and creates the staging directory: an unwritable parent
//!   is reported before anything is simulated.
//! - An [`OutputDir`] dropped without `commit` (an error, an interrupt, a panic) removes
//!   its staging directory and releases the lock, so a failed run leaves nothing under
//!   the final name.
//!
//! Nothing here parses command lines or prints; errors are [`OutputError`]s that name the
//! path.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use polars::prelude::{CsvWriter, DataFrame, ParquetCompression, ParquetWriter, SerWriter};

/// Why an output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// A file system operation failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The path at fault (the final name, not the temporary one).
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// polars could not encode the table.
    #[error("cannot write {}: {message}", path.display())]
    Encode {
        /// The final path of the table.
        path: PathBuf,
        /// polars' message.
        message: String,
    },
}

impl OutputError {
    fn io(path: &Path, source: io::Error) -> OutputError {
        OutputError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// A process-wide counter, so that two writers of one process never pick the same
/// temporary name.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A sibling of `path` named `.NAME.tmp-PID-N`: same directory, so same filesystem.
fn temp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".to_string());
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.tmp-{}-{n}", std::process::id()))
}

/// Fsyncs a directory so that renames in it are durable. Not every platform can open a
/// directory for that; where it cannot, the rename is still atomic, only not yet durable.
fn sync_dir(dir: &Path) {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes `path` atomically: `write` fills a temporary file in the same directory, which
/// is then flushed, fsynced and renamed to `path`. On an error (from `write` or from the
/// file system) the temporary file is removed and `path` is untouched.
pub fn write_file(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&File>) -> Result<(), OutputError>,
) -> Result<(), OutputError> {
    atomically(path, write, |e| OutputError::io(path, e))
}

/// Writes `bytes` to `path` atomically, as [`write_file`] does (charts, the HTML report).
pub fn write_bytes(path: &Path, bytes: &[u8]) -> io::Result<()> {
    atomically(path, |out| out.write_all(bytes), |e| e)
}

/// The one atomic write: `write` fills a temporary sibling of `path`, which is flushed,
/// fsynced and renamed over `path`; file system errors become `E` through `io_error`.
fn atomically<E>(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&File>) -> Result<(), E>,
    io_error: impl Fn(io::Error) -> E,
) -> Result<(), E> {
    let temp = temp_sibling(path);
    let result = (|| {
        let file = File::create(&temp).map_err(&io_error)?;
        let mut out = BufWriter::with_capacity(1 << 20, &file);
        write(&mut out)?;
        out.flush().map_err(&io_error)?;
        drop(out);
        file.sync_all().map_err(&io_error)?;
        fs::rename(&temp, path).map_err(&io_error)
    })();
    match result {
        Ok(()) => {
            sync_dir(path.parent().unwrap_or(Path::new(".")));
            Ok(())
        }
        Err(e) => {
            let _ = fs::remove_file(&temp);
            Err(e)
        }
    }
}

fn encode_error(path: &Path, e: polars::error::PolarsError) -> OutputError {
    // A failed `write` of the underlying file shows up as a polars I/O error: keep the
    // message, which carries the OS error.
    OutputError::Encode {
        path: path.to_path_buf(),
        message: e.to_string().lines().next().unwrap_or("").to_string(),
    }
}

/// Writes `df` to `path` as Parquet (zstd-compressed), atomically (see the module docs).
pub fn write_parquet(path: &Path, df: &mut DataFrame) -> Result<(), OutputError> {
    write_file(path, |out| {
        ParquetWriter::new(out)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(df)
            .map(|_| ())
            .map_err(|e| encode_error(path, e))
    })
}

/// Writes `df` to `path` as CSV with a header row, atomically (see the module docs).
pub fn write_csv(path: &Path, df: &mut DataFrame) -> Result<(), OutputError> {
    write_file(path, |out| {
        CsvWriter::new(out)
            .include_header(true)
            .finish(df)
            .map_err(|e| encode_error(path, e))
    })
}

/// An output directory under construction: files are written into a hidden staging
/// directory next to the final one, which [`OutputDir::commit`] swaps in whole (see the
/// module docs for what that guarantees). Dropped without `commit`, it removes the
/// staging directory. It holds the output directory's lock throughout.
#[derive(Debug)]
pub struct OutputDir {
    target: PathBuf,
    staging: PathBuf,
    committed: bool,
    _lock: crate::dir_lock::DirLock,
}

/// Whether `name`, an entry of an existing output directory, is something a run writes
/// (and may therefore replace).
fn ours(dir: &Path, name: &std::ffi::OsStr) -> bool {
    let path = dir.join(name);
    let name = name.to_string_lossy();
    if path.is_dir() {
        return name == "charts"
            && fs::read_dir(&path).is_ok_and(|entries| {
                entries.flatten().all(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    e.path().is_file() && (n.ends_with(".png") || n.ends_with(".svg"))
                })
            });
    }
    // A sweep's Pareto chart sits beside its table.
    if name == "sweep-pareto.svg" || name == "sweep-pareto.png" {
        return true;
    }
    [".csv", ".parquet", ".json", ".html"]
        .iter()
        .any(|ext| name.ends_with(ext) && !name.starts_with('.'))
}

fn refused(dir: &Path, message: String) -> OutputError {
    OutputError::io(dir, io::Error::new(io::ErrorKind::AlreadyExists, message))
}

/// Removes what runs into `target` that died left next to it: staging directories, and
/// old directories set aside by the two-rename swap (one is put back if `target` is
/// missing: the run died between its renames). Called with the lock held, so no live
/// run owns any of them.
fn clean_stale(target: &Path) {
    let (Some(parent), Some(name)) = (target.parent(), target.file_name()) else {
        return;
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let name = name.to_string_lossy();
    let (tmp, old) = (format!(".{name}.tmp-"), format!(".{name}.old-"));
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let mut olds = Vec::new();
    for e in entries.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if !e.path().is_dir() {
            continue;
        }
        if n.starts_with(&tmp) {
            let _ = fs::remove_dir_all(e.path());
        } else if n.starts_with(&old) {
            olds.push(e.path());
        }
    }
    olds.sort();
    if !target.exists() {
        if let Some(last) = olds.pop() {
            let _ = fs::rename(last, target);
        }
    }
    for o in olds {
        let _ = fs::remove_dir_all(o);
    }
}

/// Exchanges two paths atomically (Linux `renameat2(RENAME_EXCHANGE)`); `false` when
/// the platform or filesystem cannot, and nothing was changed.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes())?;
    let b = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both are valid NUL-terminated paths that outlive the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::ENOSYS) | Some(libc::EINVAL) | Some(libc::ENOTSUP) => Ok(false),
        _ => Err(e),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<bool> {
    Ok(false)
}

impl OutputDir {
    /// Starts an output directory that will be `dir` once committed: takes its lock,
    /// cleans what killed runs left, checks that an existing `dir` holds only outputs
    /// (it will be replaced whole) and creates the staging directory. Its parent must
    /// exist; `dir` itself may or may not.
    pub fn create(dir: &Path) -> Result<OutputDir, OutputError> {
        // `--out out/` names the directory `out`: drop trailing separators and `.`.
        let mut target: PathBuf = dir.components().collect();
        // A symbolic link to a directory: the run replaces the directory it points to
        // (swapping the link itself would leave the old outputs where it pointed).
        if fs::symlink_metadata(&target).is_ok_and(|m| m.file_type().is_symlink()) {
            target = fs::canonicalize(&target).map_err(|e| OutputError::io(dir, e))?;
        }
        if target.as_os_str().is_empty() || target.file_name().is_none() {
            return Err(refused(
                dir,
                "a run replaces its output directory whole: name a directory of its own (not . or ..)".into(),
            ));
        }
        let lock = crate::dir_lock::DirLock::acquire(&target).map_err(|e| match e {
            crate::dir_lock::LockError::Busy(p) => refused(
                dir,
                format!(
                    "another otasim run is writing it (it holds the lock {})",
                    p.display()
                ),
            ),
            crate::dir_lock::LockError::Io(_, e) => OutputError::io(dir, e),
        })?;
        clean_stale(&target);
        if target.exists() && !target.is_dir() {
            return Err(refused(dir, "it exists and is not a directory".into()));
        }
        if target.is_dir() {
            let entries = fs::read_dir(&target).map_err(|e| OutputError::io(dir, e))?;
            let mut foreign: Vec<String> = entries
                .flatten()
                .filter(|e| !ours(&target, &e.file_name()))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            if !foreign.is_empty() {
                foreign.sort();
                return Err(refused(
                    dir,
                    format!(
                        "it holds {}, which otasim did not write; a run replaces the whole directory, so choose another --out",
                        foreign.join(", ")
                    ),
                ));
            }
        }
        let staging = temp_sibling(&target);
        fs::create_dir(&staging).map_err(|e| OutputError::io(dir, e))?;
        Ok(OutputDir {
            target,
            staging,
            committed: false,
            _lock: lock,
        })
    }

    /// The directory once committed.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Where a file named `name` is staged: write there, or use the `write_*` methods.
    pub fn staged(&self, name: impl AsRef<Path>) -> PathBuf {
        self.staging.join(name)
    }

    /// Registers `name`: a plain file name, or `SUBDIR/NAME` one level down (e.g.
    /// `charts/egress.png`), whose subdirectory is created in the staging directory.
    fn add(&mut self, name: &Path) -> Result<PathBuf, OutputError> {
        let n = name.components().count();
        let ok = (1..=2).contains(&n)
            && name
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !ok {
            return Err(OutputError::io(
                &self.target.join(name),
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "an output file name must be a plain name or SUBDIR/NAME",
                ),
            ));
        }
        if let Some(parent) = name.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(self.staging.join(parent))
                .map_err(|e| OutputError::io(&self.target.join(parent), e))?;
        }
        Ok(self.staging.join(name))
    }

    /// Writes a table as Parquet under `name` (e.g. `devices.parquet`).
    pub fn write_parquet(
        &mut self,
        name: impl AsRef<Path>,
        df: &mut DataFrame,
    ) -> Result<(), OutputError> {
        let path = self.add(name.as_ref())?;
        write_parquet(&path, df).map_err(|e| self.rename_error(e, name.as_ref()))
    }

    /// Writes a table as CSV under `name` (e.g. `matrix.csv`).
    pub fn write_csv(
        &mut self,
        name: impl AsRef<Path>,
        df: &mut DataFrame,
    ) -> Result<(), OutputError> {
        let path = self.add(name.as_ref())?;
        write_csv(&path, df).map_err(|e| self.rename_error(e, name.as_ref()))
    }

    /// Writes any other file (JSON, SVG, PNG, …) under `name`.
    pub fn write_bytes(&mut self, name: impl AsRef<Path>, bytes: &[u8]) -> Result<(), OutputError> {
        let path = self.add(name.as_ref())?;
        write_file(&path, |out| {
            out.write_all(bytes)
                .map_err(|e| OutputError::io(&self.target.join(name.as_ref()), e))
        })
        .map_err(|e| self.rename_error(e, name.as_ref()))
    }

    /// Errors name the final path, not the staging one.
    fn rename_error(&self, e: OutputError, name: &Path) -> OutputError {
        let path = self.target.join(name);
        match e {
            OutputError::Io { source, .. } => OutputError::Io { path, source },
            OutputError::Encode { message, .. } => OutputError::Encode { path, message },
        }
    }

    /// Swaps the complete staging directory in as the output directory (see the
    /// module docs); the previous directory, if any, is removed afterwards.
    pub fn commit(mut self) -> Result<(), OutputError> {
        sync_dir(&self.staging);
        let parent = self
            .target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        if !self.target.exists() {
            fs::rename(&self.staging, &self.target)
                .map_err(|e| OutputError::io(&self.target, e))?;
            self.committed = true;
            sync_dir(&parent);
            return Ok(());
        }
        if exchange(&self.staging, &self.target).map_err(|e| OutputError::io(&self.target, e))? {
            // The staging name now holds the previous run.
            self.committed = true;
            sync_dir(&parent);
            let _ = fs::remove_dir_all(&self.staging);
            return Ok(());
        }
        let name = self
            .target
            .file_name()
            .unwrap_or_default()
            .to_string_lossy();
        let old = self.target.with_file_name(format!(
            ".{name}.old-{}-{}",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        fs::rename(&self.target, &old).map_err(|e| OutputError::io(&self.target, e))?;
        if let Err(e) = fs::rename(&self.staging, &self.target) {
            let _ = fs::rename(&old, &self.target);
            return Err(OutputError::io(&self.target, e));
        }
        self.committed = true;
        sync_dir(&parent);
        let _ = fs::remove_dir_all(&old);
        Ok(())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::{Column, DataFrame, ParquetReader, SerReader};

    use super::*;

    fn frame() -> DataFrame {
        DataFrame::new_infer_height(vec![
            Column::new("cohort".into(), &["beta", "stable"]),
            Column::new("devices".into(), &[3u64, 40]),
        ])
        .unwrap()
    }

    /// The names in `dir`, sorted (temporary files included: none may be left).
    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn parquet_and_csv_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.parquet");
        write_parquet(&p, &mut frame()).unwrap();
        let back = ParquetReader::new(File::open(&p).unwrap())
            .finish()
            .unwrap();
        assert!(back.equals(&frame()));
        let c = dir.path().join("t.csv");
        write_csv(&c, &mut frame()).unwrap();
        assert_eq!(
            fs::read_to_string(&c).unwrap(),
            "cohort,devices\nbeta,3\nstable,40\n"
        );
        assert_eq!(names(dir.path()), ["t.csv", "t.parquet"]);
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        fs::write(&p, "old").unwrap();
        let err = write_file(&p, |out| {
            out.write_all(b"half a tab").unwrap();
            Err(OutputError::Encode {
                path: p.clone(),
                message: "boom".into(),
            })
        })
        .unwrap_err();
        assert!(err.to_string().ends_with("t.csv: boom"), "{err}");
        assert_eq!(fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(names(dir.path()), ["t.csv"]);
        // A directory that does not exist: the error names the final path.
        let missing = dir.path().join("nope").join("t.csv");
        let err = write_csv(&missing, &mut frame()).unwrap_err();
        assert!(err.to_string().contains("nope/t.csv"), "{err}");
    }

    #[test]
    fn a_new_directory_appears_whole_on_commit() {
        let parent = tempfile::tempdir().unwrap();
        let target = parent.path().join("out");
        let mut out = OutputDir::create(&target).unwrap();
        out.write_csv("matrix.csv", &mut frame()).unwrap();
        out.write_parquet("devices.parquet", &mut frame()).unwrap();
        out.write_bytes("summary.json", b"{}").unwrap();
        out.write_bytes("charts/egress.svg", b"<svg/>").unwrap();
        // Nothing under the final name before the commit.
        assert!(!target.exists());
        out.commit().unwrap();
        assert_eq!(
            names(&target),
            ["charts", "devices.parquet", "matrix.csv", "summary.json"]
        );
        assert_eq!(names(&target.join("charts")), ["egress.svg"]);
        assert_eq!(names(parent.path()), ["out"]);
    }

    #[test]
    fn an_existing_output_directory_is_replaced_whole() {
        let parent = tempfile::tempdir().unwrap();
        let target = parent.path().join("out");
        fs::create_dir_all(target.join("charts")).unwrap();
        fs::write(target.join("matrix.csv"), "old").unwrap();
        fs::write(target.join("matrix.parquet"), "old").unwrap();
        fs::write(target.join("charts/egress.svg"), "old").unwrap();
        let mut out = OutputDir::create(&target).unwrap();
        out.write_csv("matrix.csv", &mut frame()).unwrap();
        assert_eq!(
            fs::read_to_string(target.join("matrix.csv")).unwrap(),
            "old"
        );
        out.commit().unwrap();
        assert_eq!(names(&target), ["matrix.csv"], "no file of the old run");
        assert_ne!(
            fs::read_to_string(target.join("matrix.csv")).unwrap(),
            "old"
        );
        assert_eq!(names(parent.path()), ["out"]);
    }

    #[test]
    fn a_directory_with_foreign_files_is_refused_and_kept() {
        let parent = tempfile::tempdir().unwrap();
        let target = parent.path().join("out");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("matrix.csv"), "old").unwrap();
        fs::write(target.join("notes.txt"), "mine").unwrap();
        let err = OutputDir::create(&target).unwrap_err();
        assert!(
            err.to_string().ends_with(
                "out: it holds notes.txt, which otasim did not write; a run replaces the whole directory, so choose another --out"
            ),
            "{err}"
        );
        assert_eq!(names(&target), ["matrix.csv", "notes.txt"]);
        assert_eq!(names(parent.path()), ["out"]);
        assert!(OutputDir::create(Path::new(".")).is_err());
    }

    #[test]
    fn a_second_writer_is_refused_while_the_first_holds_the_lock() {
        let parent = tempfile::tempdir().unwrap();
        let target = parent.path().join("out");
        let first = OutputDir::create(&target).unwrap();
        let err = OutputDir::create(&target).unwrap_err();
        assert!(
            err.to_string().contains("another otasim run is writing it"),
            "{err}"
        );
        first.commit().unwrap();
        OutputDir::create(&target).unwrap().commit().unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_link_to_a_directory_gets_the_directory_replaced() {
        let parent = tempfile::tempdir().unwrap();
        let real = parent.path().join("real");
        fs::create_dir(&real).unwrap();
        fs::write(real.join("old.csv"), "old").unwrap();
        let link = parent.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let mut out = OutputDir::create(&link).unwrap();
        out.write_bytes("summary.json", b"{}").unwrap();
        out.commit().unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(names(&real), ["summary.json"]);
        assert_eq!(names(parent.path()), ["link", "real"]);
    }

    #[test]
    fn stale_staging_is_removed_and_an_interrupted_swap_restored() {
        let parent = tempfile::tempdir().unwrap();
        let target = parent.path().join("out");
        fs::create_dir(parent.path().join(".out.tmp-1-0")).unwrap();
        fs::create_dir(parent.path().join(".out.old-1-0")).unwrap();
        fs::write(parent.path().join(".out.old-1-0/summary.json"), "{}").unwrap();
        let out = OutputDir::create(&target).unwrap();
        assert_eq!(names(&target), ["summary.json"], "restored");
        drop(out);
        assert_eq!(names(parent.path()), ["out"]);
    }

    #[test]
    fn dropping_without_commit_leaves_nothing() {
        let parent = tempfile::tempdir().unwrap();
        let target = parent.path().join("out");
        {
            let mut out = OutputDir::create(&target).unwrap();
            out.write_csv("matrix.csv", &mut frame()).unwrap();
            assert_eq!(
                names(parent.path()).len(),
                2,
                "the staging directory and the lock"
            );
        }
        assert!(names(parent.path()).is_empty());
    }

    #[test]
    fn bad_names_and_targets() {
        let parent = tempfile::tempdir().unwrap();
        let mut out = OutputDir::create(&parent.path().join("out")).unwrap();
        for bad in ["../escape.csv", "/abs.csv", "a/b/c.csv", ""] {
            assert!(out.write_bytes(bad, b"x").is_err(), "{bad}");
        }
        let file = parent.path().join("file");
        fs::write(&file, "x").unwrap();
        let err = OutputDir::create(&file).unwrap_err();
        assert!(err.to_string().contains("not a directory"), "{err}");
    }
}
