//! Robustness: `otasim validate` on truncated and garbled copies of every bundled scenario
//! must either accept the file or report an input error — never panic, never die by signal.

use super::*;

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Bytes that are likely to upset a TOML parser or the validation after it.
const NASTY: &[&[u8]] = &[
    b"\"",
    b"[",
    b"]",
    b"=",
    b"\n",
    b"\0",
    b"\xff",
    b"\xc3",
    b"-",
    b"->",
    b"+",
    b"}",
    b"{",
    b"9999999999999999999999",
    b"-1",
    b"1e400",
    b"nan",
    b"0",
    b".",
    b"#",
    b"'''",
    b"\\u0000",
    b"\\",
    b"true",
    b"\t",
    b"\r",
];

fn variants(original: &[u8], seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng(seed | 1);
    let mut out = Vec::new();
    let len = original.len();
    // Truncations, spread over the file, with extra weight on the short head.
    for i in 0..20 {
        let cut = if i < 5 {
            rng.below(len.min(400))
        } else {
            rng.below(len)
        };
        out.push(original[..cut].to_vec());
    }
    // Garbling: a few random splices of nasty bytes at random places.
    for _ in 0..20 {
        let mut v = original.to_vec();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(v.len());
            let what = NASTY[rng.below(NASTY.len())];
            let del = rng.below(4).min(v.len() - at);
            v.splice(at..at + del, what.iter().copied());
        }
        out.push(v);
    }
    out
}

fn check_never_panics(name: &str) {
    let original = std::fs::read(bundled(name)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (i, v) in variants(&original, 0x5eed ^ (name.len() as u64 * 7919))
        .into_iter()
        .enumerate()
    {
        let path = dir.path().join(format!("v{i:02}-{name}"));
        std::fs::write(&path, &v).unwrap();
        let out = otasim([OsStr::new("validate"), path.as_os_str()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code();
        assert!(
            matches!(code, Some(0..=2)) && !stderr.contains("panicked"),
            "variant {i} of {name} ({} bytes): status {:?}\nstderr: {stderr}\nkept at {}",
            v.len(),
            out.status,
            {
                // Keep the offending input around for a reproduction.
                let keep = std::env::temp_dir().join(format!("otasim-robustness-{i}-{name}"));
                let _ = std::fs::write(&keep, &v);
                keep.display().to_string()
            }
        );
        if code != Some(0) {
            assert!(
                stderr.starts_with("error:"),
                "variant {i} of {name}: stderr must start with `error:`\n{stderr}"
            );
        }
    }
}

#[test]
fn robustness_figure_3_never_panics() {
    check_never_panics("figure-3.toml");
}

#[test]
fn robustness_figure_4_never_panics() {
    check_never_panics("figure-4.toml");
}

#[test]
fn robustness_mpt_chain_never_panics() {
    check_never_panics("mpt-chain.toml");
}

#[test]
fn robustness_downgrade_never_panics() {
    check_never_panics("downgrade.toml");
}

#[test]
fn robustness_override_never_panics() {
    check_never_panics("override.toml");
}

#[test]
fn robustness_project_key_override_never_panics() {
    check_never_panics("project-key-override.toml");
}

#[test]
fn robustness_approvals_never_panics() {
    check_never_panics("approvals.toml");
}
