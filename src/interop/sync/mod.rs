//! How HIP and Vulkan hand each height slot to each other: the synchronisation
//! strategies, one type each behind [`SyncStrategy`].
//!
//! | strategy | HIP → Vulkan ("heights ready") | Vulkan → HIP ("slot free") | frames in flight |
//! |---|---|---|---|
//! | [`timeline`] | timeline `sim`, value `f+1` | timeline `draw`, value `f+1` | K |
//! | [`binary`] | binary `ready[slot]` | binary `drawn[slot]` | K |
//! | [`host`] | CPU waits a HIP event, then submits | frame fence (CPU) | K |
//! | [`serial`] | `hipStreamSynchronize` | `vkDeviceWaitIdle` | 1 |
//!
//! In every strategy the CPU waits for frame `f−K`'s fence before frame `f` reuses its
//! slot and command buffer. The semaphore strategies never block the CPU on HIP; `host`
//! blocks it only on the kernel of the frame it is about to submit, while Vulkan may still
//! be drawing the previous frame; `serial` (the scheme of the ROCm docs) idles both.

pub mod binary;
pub mod host;
pub mod serial;
pub mod timeline;

use std::fmt;

use anyhow::Result;

use crate::hip;
use crate::interop::source::SubmitSync;

/// The strategies, as named on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SyncKind {
    /// Two timeline semaphores shared by both APIs (needs HIP timeline import: CUDA).
    Timeline,
    /// A pair of binary semaphores per slot (needs HIP external semaphores).
    Binary,
    /// No shared semaphores: the CPU waits on a HIP event per slot (AMD on Linux).
    Host,
    /// One slot, each API idles while the other works (the ROCm docs' scheme; baseline).
    Serial,
}

impl fmt::Display for SyncKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SyncKind::Timeline => "timeline",
            SyncKind::Binary => "binary",
            SyncKind::Host => "host",
            SyncKind::Serial => "serial",
        })
    }
}

/// What the caller asks for: one strategy, or `Auto` (the best one the runtime accepts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncRequest {
    /// The best strategy the runtime accepts: timeline, else binary, else host.
    Auto,
    /// Only [`SyncKind::Timeline`].
    Timeline,
    /// Only [`SyncKind::Binary`].
    Binary,
    /// Only [`SyncKind::Host`].
    Host,
    /// Only [`SyncKind::Serial`].
    Serial,
}

impl SyncRequest {
    /// Strategies to try, best first. `auto` falls back down the list; an explicit
    /// choice is tried alone, so a user who asked for `timeline` gets an error, not `host`.
    pub fn candidates(self) -> &'static [SyncKind] {
        match self {
            SyncRequest::Auto => &[SyncKind::Timeline, SyncKind::Binary, SyncKind::Host],
            SyncRequest::Timeline => &[SyncKind::Timeline],
            SyncRequest::Binary => &[SyncKind::Binary],
            SyncRequest::Host => &[SyncKind::Host],
            SyncRequest::Serial => &[SyncKind::Serial],
        }
    }
}

impl SyncKind {
    /// Whether HIP must import Vulkan semaphores for this strategy.
    pub fn needs_semaphore_import(self) -> bool {
        matches!(self, SyncKind::Timeline | SyncKind::Binary)
    }
}

/// Why the HIP runtime in use cannot import Vulkan semaphores (AMD's runtime on Linux);
/// the strategies that need them are then never tried.
pub const NO_SEMAPHORE_IMPORT: &str = "HIP on AMD/Linux cannot import Vulkan semaphores (ROCm's binary import \
     reaches ShouldNotReachHere(), an abort in runtimes built with assertions, and its timeline import answers \
     hipErrorInvalidValue), so it is not attempted";

/// Tries `request`'s candidates in order with `make`, returning the first that works and
/// the reasons the better ones were passed over (for the log). When the runtime cannot
/// import semaphores (`semaphores_importable` false), the strategies that need them are
/// passed over (or, asked for explicitly, refused) without calling `make`.
pub fn select<T>(
    request: SyncRequest,
    semaphores_importable: bool,
    mut make: impl FnMut(SyncKind) -> Result<T>,
) -> Result<(T, SyncKind, Vec<String>)> {
    let mut passed_over = Vec::new();
    for &kind in request.candidates() {
        let made = if kind.needs_semaphore_import() && !semaphores_importable {
            Err(anyhow::anyhow!(NO_SEMAPHORE_IMPORT))
        } else {
            make(kind)
        };
        match made {
            Ok(made) => return Ok((made, kind, passed_over)),
            Err(e) if request == SyncRequest::Auto => passed_over.push(format!("{kind}: {e:#}")),
            Err(e) => return Err(e.context(format!("--sync {kind} is not available here"))),
        }
    }
    anyhow::bail!("no synchronisation strategy works here:\n  {}", passed_over.join("\n  "))
}

/// One frame's hand-over of one slot between HIP and Vulkan.
///
/// The HIP height source calls, for frame `f` writing slot `s`:
/// 1. [`before_write`](Self::before_write) — enqueue on the HIP stream whatever makes
///    the slot free (Vulkan's draw of frame `f−K` done);
/// 2. the kernel launch;
/// 3. [`after_write`](Self::after_write) — enqueue the "heights ready" signal and add to
///    `sync` what Vulkan's submission must wait on and signal;
/// 4. after Vulkan's submission, [`after_submit`](Self::after_submit).
pub trait SyncStrategy {
    fn kind(&self) -> SyncKind;
    /// HIP is about to write frames `first .. first + len` in one go (run-ahead). A strategy
    /// may then hand the whole burst over with one signal and one wait instead of one per
    /// frame. Called before the burst's `before_write`s.
    fn begin_burst(&mut self, _first: u64, _len: u64) {}
    fn before_write(&mut self, stream: &hip::Stream, frame: u64, slot: usize) -> Result<()>;
    fn after_write(&mut self, stream: &hip::Stream, frame: u64, slot: usize, sync: &mut SubmitSync) -> Result<()>;
    fn after_submit(&mut self, _frame: u64, _slot: usize) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::anyhow;

    #[test]
    fn auto_takes_the_first_that_works_and_says_why() {
        let (made, kind, why) = select(SyncRequest::Auto, true, |k| match k {
            SyncKind::Timeline => Err(anyhow!("hipImportExternalSemaphore failed: hipErrorInvalidValue")),
            SyncKind::Binary => Err(anyhow!("not supported")),
            other => Ok(other),
        })
        .unwrap();
        assert_eq!((made, kind), (SyncKind::Host, SyncKind::Host));
        assert_eq!(why.len(), 2);
        assert!(why[0].starts_with("timeline: hipImportExternalSemaphore failed"));
    }

    #[test]
    fn auto_prefers_timeline_and_never_picks_serial() {
        let (_, kind, why) = select(SyncRequest::Auto, true, Ok).unwrap();
        assert_eq!(kind, SyncKind::Timeline);
        assert!(why.is_empty());
        assert!(!SyncRequest::Auto.candidates().contains(&SyncKind::Serial));
    }

    #[test]
    fn explicit_choice_does_not_fall_back() {
        let e = select(SyncRequest::Binary, true, |_| Err::<(), _>(anyhow!("import failed"))).unwrap_err();
        let text = format!("{e:#}");
        assert!(text.contains("--sync binary is not available here") && text.contains("import failed"), "{text}");
        let (_, kind, _) = select(SyncRequest::Serial, true, Ok).unwrap();
        assert_eq!(kind, SyncKind::Serial);
    }

    #[test]
    fn auto_with_nothing_working_lists_every_reason() {
        let e = select(SyncRequest::Auto, true, |k| Err::<(), _>(anyhow!("{k} broken"))).unwrap_err().to_string();
        assert!(e.contains("timeline: timeline broken") && e.contains("host: host broken"), "{e}");
    }

    #[test]
    fn auto_on_amd_linux_goes_straight_to_host_and_says_why() {
        let mut tried = Vec::new();
        let (_, kind, why) = select(SyncRequest::Auto, false, |k| {
            tried.push(k);
            Ok(())
        })
        .unwrap();
        assert_eq!(kind, SyncKind::Host);
        assert_eq!(tried, [SyncKind::Host], "no semaphore import was attempted");
        assert_eq!(why.len(), 2);
        assert!(why[0].starts_with("timeline: HIP on AMD/Linux cannot import Vulkan semaphores"), "{}", why[0]);
        assert!(why[1].starts_with("binary: "), "{}", why[1]);
    }

    #[test]
    fn explicit_semaphore_strategies_on_amd_linux_fail_before_any_import() {
        for request in [SyncRequest::Timeline, SyncRequest::Binary] {
            let e = select(request, false, |k| -> Result<()> { panic!("{k}: the import must not be attempted") })
                .unwrap_err();
            let text = format!("{e:#}");
            assert!(text.contains("is not available here") && text.contains("ShouldNotReachHere"), "{text}");
        }
        let (_, kind, _) = select(SyncRequest::Serial, false, Ok).unwrap();
        assert_eq!(kind, SyncKind::Serial, "serial needs no semaphore import");
    }
}
