//! Real binary patches between firmware images, for `--images DIR` (R30) and
//! `--write-patches OUT`.
//!
//! Two formats ([`DeltaFormat`]). The default is one zstd frame compressed with the From
//! image as a referenced prefix ("patch-from"): level 19, long-distance matching, and a
//! window that covers both images, so `zstd -d --patch-from=FROM PATCH` (or [`apply`])
//! gives the To image; the zstd crate is already built for polars. The other is
//! BSDIFF40 (bzip2 inside) by the `qbsdiff` crate, which `bspatch` applies; it is smaller
//! on small executables, zstd on large images (README has the measurements).
//!
//! Sizes are cached by content: `DIR/.otasim-patch-sizes` holds one line per
//! (BLAKE3 of From, BLAKE3 of To, method) with the patch size, so a second run only
//! hashes the images.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;
use zstd::zstd_safe::{self, CParameter, DParameter};

use super::PlanError;

/// A patch format (`--delta-format`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum DeltaFormat {
    /// A zstd frame for `zstd -d --patch-from=FROM`.
    #[default]
    Zstd,
    /// BSDIFF40, for `bspatch`.
    Bsdiff,
}

impl DeltaFormat {
    /// The method tag in the cache: change it whenever the patch parameters change.
    pub fn method(self) -> &'static str {
        match self {
            DeltaFormat::Zstd => "zstd19-ldm-prefix-v1",
            DeltaFormat::Bsdiff => "bsdiff40-bzip2-9-v1",
        }
    }

    /// The extension of written patches.
    pub fn extension(self) -> &'static str {
        match self {
            DeltaFormat::Zstd => "zst",
            DeltaFormat::Bsdiff => "bsdiff",
        }
    }

    /// The patch that turns `from` into `to`.
    pub fn make(self, from: &[u8], to: &[u8]) -> Result<Vec<u8>, String> {
        match self {
            DeltaFormat::Zstd => make(from, to),
            DeltaFormat::Bsdiff => {
                let mut out = Vec::new();
                qbsdiff::Bsdiff::new(from, to)
                    .compression_level(9)
                    .compare(std::io::Cursor::new(&mut out))
                    .map_err(|e| e.to_string())?;
                Ok(out)
            }
        }
    }

    /// Applies a patch of this format to `from`.
    pub fn apply(self, from: &[u8], patch: &[u8]) -> Result<Vec<u8>, String> {
        match self {
            DeltaFormat::Zstd => apply(from, patch),
            DeltaFormat::Bsdiff => {
                let mut out = Vec::new();
                qbsdiff::Bspatch::new(patch)
                    .and_then(|p| p.apply(from, std::io::Cursor::new(&mut out)))
                    .map_err(|e| e.to_string())?;
                Ok(out)
            }
        }
    }
}

/// The name of the size cache inside the images directory.
pub const CACHE_FILE: &str = ".otasim-patch-sizes";

const LEVEL: i32 = 19;

/// A window log that covers `from` and `to` together (the prefix counts towards the
/// window), at least zstd's minimum.
fn window_log(from: usize, to: usize) -> u32 {
    let total = (from + to).max(1) as u64;
    (64 - (total - 1).leading_zeros()).clamp(10, 30)
}

/// The patch that turns `from` into `to`.
pub fn make(from: &[u8], to: &[u8]) -> Result<Vec<u8>, String> {
    let mut cctx = zstd_safe::CCtx::create();
    let code = |r: zstd_safe::SafeResult| r.map_err(|c| zstd_safe::get_error_name(c).to_string());
    code(cctx.set_parameter(CParameter::CompressionLevel(LEVEL)))?;
    code(cctx.set_parameter(CParameter::WindowLog(window_log(from.len(), to.len()))))?;
    code(cctx.set_parameter(CParameter::EnableLongDistanceMatching(true)))?;
    code(cctx.set_parameter(CParameter::ChecksumFlag(true)))?;
    code(cctx.ref_prefix(from))?;
    let mut out: Vec<u8> = Vec::with_capacity(zstd_safe::compress_bound(to.len()));
    code(cctx.compress2(&mut out, to))?;
    Ok(out)
}

/// Applies a patch made by [`make`] to `from`.
pub fn apply(from: &[u8], patch: &[u8]) -> Result<Vec<u8>, String> {
    let mut dctx = zstd_safe::DCtx::create();
    let code = |r: zstd_safe::SafeResult| r.map_err(|c| zstd_safe::get_error_name(c).to_string());
    code(dctx.set_parameter(DParameter::WindowLogMax(31)))?;
    code(dctx.ref_prefix(from))?;
    let size = zstd_safe::get_frame_content_size(patch)
        .ok()
        .flatten()
        .ok_or("the patch does not record its content size")?;
    let mut out: Vec<u8> = Vec::with_capacity(size as usize);
    code(dctx.decompress(&mut out, patch))?;
    Ok(out)
}

/// Images under `DIR/<hardware_version>/<version>.bin` and the size cache.
pub struct Images {
    dir: PathBuf,
    format: DeltaFormat,
    cache: Mutex<HashMap<String, u64>>,
    dirty: Mutex<bool>,
}

type Key = String;

fn key(from: &[u8], to: &[u8], format: DeltaFormat) -> Key {
    format!(
        "{} {} {}",
        blake3::hash(from).to_hex(),
        blake3::hash(to).to_hex(),
        format.method()
    )
}

impl Images {
    /// The images under `dir`, patched in `format`; the cache is read if present (a bad
    /// line is ignored).
    pub fn open(dir: &Path, format: DeltaFormat) -> Result<Images, PlanError> {
        if !dir.is_dir() {
            return Err(PlanError(format!(
                "--images: {} is not a directory",
                dir.display()
            )));
        }
        let mut cache = HashMap::new();
        if let Ok(text) = fs::read_to_string(dir.join(CACHE_FILE)) {
            for line in text.lines() {
                if let Some((k, size)) = line.rsplit_once(' ') {
                    if let Ok(size) = size.parse::<u64>() {
                        cache.insert(k.to_string(), size);
                    }
                }
            }
        }
        Ok(Images {
            dir: dir.to_path_buf(),
            format,
            cache: Mutex::new(cache),
            dirty: Mutex::new(false),
        })
    }

    /// `DIR/<hardware>/<version>.bin`.
    pub fn path(&self, hardware: &str, version: &str) -> PathBuf {
        self.dir.join(hardware).join(format!("{version}.bin"))
    }

    /// Reads one image; a missing or unreadable file is an error naming its path.
    pub fn read(&self, hardware: &str, version: &str) -> Result<Vec<u8>, PlanError> {
        let path = self.path(hardware, version);
        fs::read(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                PlanError(format!(
                    "--images: missing image {} (hardware version \"{hardware}\", version {version})",
                    path.display()
                ))
            } else {
                PlanError(format!(
                    "--images: cannot read image {}: {e}",
                    path.display()
                ))
            }
        })
    }

    /// The patch sizes of `pairs` (hardware, from, to), computed in parallel, from the
    /// cache where the same images were seen before.
    pub fn sizes(&self, pairs: &[(String, String, String)]) -> Result<Vec<u64>, PlanError> {
        let sizes: Vec<Result<u64, PlanError>> = pairs
            .par_iter()
            .map(|(hw, from, to)| {
                let a = self.read(hw, from)?;
                let b = self.read(hw, to)?;
                let k = key(&a, &b, self.format);
                if let Some(&s) = self.cache.lock().expect("cache lock").get(&k) {
                    return Ok(s);
                }
                let patch = self.format.make(&a, &b).map_err(|e| {
                    PlanError(format!(
                        "--images: cannot make a patch from {} to {}: {e}",
                        self.path(hw, from).display(),
                        self.path(hw, to).display()
                    ))
                })?;
                let s = patch.len() as u64;
                self.cache.lock().expect("cache lock").insert(k, s);
                *self.dirty.lock().expect("dirty lock") = true;
                Ok(s)
            })
            .collect();
        sizes.into_iter().collect()
    }

    /// The patch from `from` to `to` for `hardware`, as bytes.
    pub fn patch(&self, hardware: &str, from: &str, to: &str) -> Result<Vec<u8>, PlanError> {
        let a = self.read(hardware, from)?;
        let b = self.read(hardware, to)?;
        self.format
            .make(&a, &b)
            .map_err(|e| PlanError(format!("--images: cannot make a patch: {e}")))
    }

    /// The format patches are made in.
    pub fn format(&self) -> DeltaFormat {
        self.format
    }

    /// Writes the cache back if it grew; a directory that cannot be written only loses
    /// the cache (a warning is returned for stderr).
    pub fn save(&self) -> Option<String> {
        if !*self.dirty.lock().expect("dirty lock") {
            return None;
        }
        let cache = self.cache.lock().expect("cache lock");
        let mut lines: Vec<String> = cache.iter().map(|(k, s)| format!("{k} {s}")).collect();
        lines.sort();
        let path = self.dir.join(CACHE_FILE);
        let tmp = self
            .dir
            .join(format!("{CACHE_FILE}.tmp{}", std::process::id()));
        let written = fs::File::create(&tmp)
            .and_then(|mut f| f.write_all((lines.join("\n") + "\n").as_bytes()))
            .and_then(|()| fs::rename(&tmp, &path));
        match written {
            Ok(()) => None,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Some(format!(
                    "cannot write the patch size cache {}: {e}",
                    path.display()
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(seed: u64, n: usize) -> Vec<u8> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn r30_patch_applies_and_is_small_for_similar_images() {
        let from = image(1, 300_000);
        let mut to = from.clone();
        to[1000..1100].copy_from_slice(&image(2, 100));
        to.extend_from_slice(&image(3, 5000));
        let patch = make(&from, &to).unwrap();
        assert!(patch.len() < 8000, "patch of {} bytes", patch.len());
        assert_eq!(apply(&from, &patch).unwrap(), to);
        let bsdiff = DeltaFormat::Bsdiff.make(&from, &to).unwrap();
        assert_eq!(&bsdiff[..8], b"BSDIFF40");
        assert!(bsdiff.len() < 8000, "patch of {} bytes", bsdiff.len());
        assert_eq!(DeltaFormat::Bsdiff.apply(&from, &bsdiff).unwrap(), to);
    }

    #[test]
    fn window_covers_both_images() {
        assert_eq!(window_log(0, 0), 10);
        assert_eq!(window_log(1 << 20, 1 << 20), 21);
        assert_eq!(window_log((1 << 20) + 1, 1 << 20), 22);
    }
}
