//! Writing run outputs: polars tables to Parquet or CSV, atomically (spec §8: "a run either
//! leaves complete files or none").
//!
//! What "atomic" means here:
//! - **A file** ([`write_parquet`], [`write_csv`], [`write_file`]) is written to a
//!   temporary file in the same directory (`.NAME.tmp-PID-N`), flushed and fsynced, then
//!   renamed over its final name; a rename within one directory replaces the name in one
//!   step on POSIX filesystems. On any error the temporary file is removed and the final
//!   name is untouched (an older file of that name survives whole).
//! - **A directory** ([`OutputDir`]) is built as a hidden sibling (`.DIR.tmp-PID-N`, same
//!   filesystem) and only moved into place by [`OutputDir::commit`], after every file in
//!   it was written and fsynced. If `DIR` does not exist yet, it appears in one rename,
//!   complete. If it exists (a rerun into the same `--out`), its files are replaced one
//!   by one, each by a rename: a reader may for a moment see some new and some old
//!   files, never a half-written one, and files of `DIR` that the run does not write are
//!   left alone (an existing directory is never deleted or moved: `--out .` is safe).
//!   An [`OutputDir`] dropped without `commit` (an error, a panic) removes its staging
//!   directory, so a failed run leaves nothing under the final name.
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
    let temp = temp_sibling(path);
    let result = (|| {
        let file = File::create(&temp).map_err(|e| OutputError::io(path, e))?;
        let mut out = BufWriter::with_capacity(1 << 20, &file);
        write(&mut out)?;
        out.flush().map_err(|e| OutputError::io(path, e))?;
        drop(out);
        file.sync_all().map_err(|e| OutputError::io(path, e))?;
        fs::rename(&temp, path).map_err(|e| OutputError::io(path, e))
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
/// directory next to the final one and moved into place by [`OutputDir::commit`] (see the
/// module docs for what that guarantees). Dropped without `commit`, it removes the
/// staging directory.
#[derive(Debug)]
pub struct OutputDir {
    target: PathBuf,
    staging: PathBuf,
    /// Final names of the files written, in order, relative to the directory.
    files: Vec<PathBuf>,
    committed: bool,
}

impl OutputDir {
    /// Starts an output directory that will be `dir` once committed. Its parent must
    /// exist; `dir` itself may or may not.
    pub fn create(dir: &Path) -> Result<OutputDir, OutputError> {
        // `--out out/` names the directory `out`: drop trailing separators and `.`.
        let target: PathBuf = dir.components().collect();
        if target.as_os_str().is_empty() || target.file_name().is_none() {
            // `.` or `..` have no name to put a sibling next to: stage inside instead.
            let staging = target.join(format!(
                ".otasim-out.tmp-{}-{}",
                std::process::id(),
                TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            fs::create_dir(&staging).map_err(|e| OutputError::io(dir, e))?;
            return Ok(OutputDir {
                target,
                staging,
                files: Vec::new(),
                committed: false,
            });
        }
        if target.exists() && !target.is_dir() {
            return Err(OutputError::io(
                dir,
                io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "it exists and is not a directory",
                ),
            ));
        }
        let staging = temp_sibling(&target);
        fs::create_dir(&staging).map_err(|e| OutputError::io(dir, e))?;
        Ok(OutputDir {
            target,
            staging,
            files: Vec::new(),
            committed: false,
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
        if !self.files.iter().any(|f| f == name) {
            self.files.push(name.to_path_buf());
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

    /// Moves every written file into the final directory (see the module docs).
    pub fn commit(mut self) -> Result<(), OutputError> {
        sync_dir(&self.staging);
        let fresh = !self.target.exists();
        if fresh && self.target.file_name().is_some() {
            match fs::rename(&self.staging, &self.target) {
                Ok(()) => {
                    self.committed = true;
                    sync_dir(self.target.parent().unwrap_or(Path::new(".")));
                    return Ok(());
                }
                // Someone created it meanwhile: fall through and merge.
                Err(_) if self.target.is_dir() => {}
                Err(e) => return Err(OutputError::io(&self.target, e)),
            }
        }
        if !self.target.is_dir() {
            fs::create_dir_all(&self.target).map_err(|e| OutputError::io(&self.target, e))?;
        }
        for name in &self.files {
            let to = self.target.join(name);
            if let Some(parent) = to.parent() {
                fs::create_dir_all(parent).map_err(|e| OutputError::io(parent, e))?;
            }
            if to.is_dir() {
                return Err(OutputError::io(
                    &to,
                    io::Error::new(io::ErrorKind::AlreadyExists, "a directory is in the way"),
                ));
            }
            fs::rename(self.staging.join(name), &to).map_err(|e| OutputError::io(&to, e))?;
        }
        sync_dir(&self.target);
        self.committed = true;
        let _ = fs::remove_dir_all(&self.staging);
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
    fn an_existing_directory_gets_its_files_replaced_and_keeps_the_others() {
        let parent = tempfile::tempdir().unwrap();
        let target = parent.path().join("out");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("matrix.csv"), "old").unwrap();
        fs::write(target.join("notes.txt"), "mine").unwrap();
        let mut out = OutputDir::create(&target).unwrap();
        out.write_csv("matrix.csv", &mut frame()).unwrap();
        assert_eq!(
            fs::read_to_string(target.join("matrix.csv")).unwrap(),
            "old"
        );
        out.commit().unwrap();
        assert_eq!(names(&target), ["matrix.csv", "notes.txt"]);
        assert_ne!(
            fs::read_to_string(target.join("matrix.csv")).unwrap(),
            "old"
        );
        assert_eq!(names(parent.path()), ["out"]);
    }

    #[test]
    fn dropping_without_commit_leaves_nothing() {
        let parent = tempfile::tempdir().unwrap();
        let target = parent.path().join("out");
        {
            let mut out = OutputDir::create(&target).unwrap();
            out.write_csv("matrix.csv", &mut frame()).unwrap();
            assert_eq!(names(parent.path()).len(), 1, "the staging directory");
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
