//! Ctrl+C (SIGINT) and SIGTERM end a run cleanly: the frame loops see [`pending`], finish
//! the frame they are on, let the GPU idle and free everything in order; the summary (and
//! a benchmark's partial table) is printed, and the process exits with 128 + the signal
//! (130 for SIGINT, 143 for SIGTERM). A second signal ends the process at once, in case
//! the clean way is stuck.
//!
//! Process-wide by nature (signals are), so a global flag: the handlers only store to it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result};
use signal_hook::consts::{SIGINT, SIGTERM};

/// The signal received (0: none yet).
static RECEIVED: OnceLock<Arc<AtomicUsize>> = OnceLock::new();

/// Installs the handlers for SIGINT and SIGTERM. Call once, early in `main`.
pub fn install() -> Result<()> {
    let received = RECEIVED.get_or_init(|| Arc::new(AtomicUsize::new(0)));
    let any = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        // Registered first, so it runs before `any` is set by this signal: only a
        // second signal finds it set and exits.
        signal_hook::flag::register_conditional_shutdown(signal, 128 + signal, any.clone())
            .with_context(|| format!("installing the {} handler", name(signal)))?;
        signal_hook::flag::register(signal, any.clone())
            .with_context(|| format!("installing the {} handler", name(signal)))?;
        signal_hook::flag::register_usize(signal, received.clone(), signal as usize)
            .with_context(|| format!("installing the {} handler", name(signal)))?;
    }
    Ok(())
}

/// The signal that asked the run to end, if one did.
pub fn pending() -> Option<i32> {
    let signal = RECEIVED.get()?.load(Ordering::SeqCst);
    (signal != 0).then_some(signal as i32)
}

/// `SIGINT`, `SIGTERM`, or the number.
pub fn name(signal: i32) -> String {
    match signal {
        SIGINT => "SIGINT".into(),
        SIGTERM => "SIGTERM".into(),
        other => format!("signal {other}"),
    }
}

/// The exit status of a run ended by `signal`: 128 + its number, as shells report it.
pub fn exit_status(signal: i32) -> u8 {
    u8::try_from(128 + signal).unwrap_or(u8::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_status_is_the_shell_convention() {
        assert_eq!(exit_status(SIGINT), 130);
        assert_eq!(exit_status(SIGTERM), 143);
        assert_eq!(name(SIGINT), "SIGINT");
        assert_eq!(name(SIGTERM), "SIGTERM");
    }
}
