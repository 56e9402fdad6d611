//! Ctrl-C during `run`: the first SIGINT asks the run to stop at the next tick or file,
//! so that it cleans up (the staging directory is removed and the output directory's
//! lock released as the error unwinds, the previous outputs stay as they were) and exits
//! with 130; a second SIGINT exits at once, with 130 too.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use anyhow::Result;

/// The error a stopped run returns; `main` exits with 130 on it.
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

/// Exit status of a run stopped by SIGINT (128 + 2, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// Starts watching for SIGINT (once per process).
pub fn install() -> Result<()> {
    if FLAG.get().is_some() {
        return Ok(());
    }
    let flag = Arc::new(AtomicBool::new(false));
    #[cfg(unix)]
    {
        use signal_hook::consts::SIGINT;
        // Registered first, so it sees the flag before the second signal sets it.
        signal_hook::flag::register_conditional_shutdown(
            SIGINT,
            i32::from(EXIT_INTERRUPTED),
            Arc::clone(&flag),
        )?;
        signal_hook::flag::register(SIGINT, Arc::clone(&flag))?;
    }
    let _ = FLAG.set(flag);
    Ok(())
}

/// `Err(Interrupted)` once SIGINT was received.
pub fn check() -> Result<()> {
    if FLAG.get().is_some_and(|f| f.load(Ordering::Relaxed)) {
        return Err(Interrupted.into());
    }
    Ok(())
}
