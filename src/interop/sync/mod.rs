//! How HIP and Vulkan hand each height slot to each other: the strategies ([`SyncKind`]),
//! the choice among them ([`select`]), the plan of each frame as plain data ([`plan`]),
//! and the semaphores the plans name ([`SharedSemaphores`]).
//!
//! | strategy | HIP → Vulkan ("heights ready") | Vulkan → HIP ("slot free") | frames in flight |
//! |---|---|---|---|
//! | timeline | timeline `sim`, value `f+1` | timeline `draw`, value `f+1` | K |
//! | binary | binary `ready[slot]` | binary `drawn[slot]` | K |
//! | host | the CPU waits for the kernel, then submits | the frame fence (CPU) | K |
//! | stream-wait | the CPU waits for a burst's last kernel, then submits the burst | a counter Vulkan writes after each draw; HIP's stream waits for it on the GPU ([`counter`]) | K, run-ahead R |
//! | serial | the CPU waits for the kernel | the CPU waits for the device | 1 |
//!
//! In every strategy the CPU waits for frame `f−K`'s fence before frame `f` reuses its
//! slot and command buffer. The semaphore strategies never block the CPU on HIP; `host`
//! blocks it only on the kernel of the frame it is about to submit, while Vulkan may still
//! be drawing the previous frame (unlike the ROCm example's `vkQueueWaitIdle` +
//! `hipStreamSynchronize` every frame); `serial` (the scheme of the ROCm docs) idles both.

pub mod binary;
pub mod counter;
pub mod plan;
pub mod timeline;

use std::fmt;
use std::sync::Arc;

use anyhow::{Context, Result};
use ash::vk;

use crate::hip;
use crate::vulkan::Device;
use plan::SemaphoreRole;

/// The strategies, as named on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SyncKind {
    /// Two timeline semaphores shared by both APIs (needs HIP timeline import: CUDA).
    Timeline,
    /// A pair of binary semaphores per slot (needs HIP external semaphores).
    Binary,
    /// No shared semaphores: the CPU waits on a HIP event per slot (AMD on Linux).
    Host,
    /// No shared semaphores: the CPU waits for HIP once per run-ahead burst; HIP's stream
    /// waits on the GPU for a counter Vulkan writes after each draw (`hipStreamWaitValue32`).
    StreamWait,
    /// One slot, each API idles while the other works (the ROCm docs' scheme; baseline).
    Serial,
}

impl fmt::Display for SyncKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SyncKind::Timeline => "timeline",
            SyncKind::Binary => "binary",
            SyncKind::Host => "host",
            SyncKind::StreamWait => "stream-wait",
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
    /// Only [`SyncKind::StreamWait`].
    StreamWait,
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
            SyncRequest::StreamWait => &[SyncKind::StreamWait],
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
/// the strategies that need them are then never tried. Evidence (upstream issues and ROCm
/// source, no AMD GPU run of ours): [`hip::Hip::imports_semaphores`].
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

/// What a strategy shares between the APIs: semaphores (`timeline`, `binary`), the draw
/// counter (`stream-wait`), or nothing (`host`, `serial`).
pub enum SharedSemaphores {
    /// `host`, `serial`: the CPU hands the slots over.
    None,
    /// `timeline`: `sim` and `draw`.
    Timeline(timeline::TimelineSemaphores),
    /// `binary`: `ready` and `drawn` per slot.
    Binary(binary::BinarySemaphores),
    /// `stream-wait`: no semaphore, the draw counter.
    Counter(counter::DrawCounter),
}

impl SharedSemaphores {
    /// Creates (exportable) and imports into HIP what `kind` needs for `frames_in_flight`
    /// slots.
    pub fn new(kind: SyncKind, hip: &hip::Hip, device: &Arc<Device>, frames_in_flight: usize) -> Result<Self> {
        Ok(match kind {
            SyncKind::Timeline => SharedSemaphores::Timeline(timeline::TimelineSemaphores::new(hip, device)?),
            SyncKind::Binary => SharedSemaphores::Binary(binary::BinarySemaphores::new(hip, device, frames_in_flight)?),
            SyncKind::StreamWait => SharedSemaphores::Counter(counter::DrawCounter::new(hip, device)?),
            SyncKind::Host | SyncKind::Serial => SharedSemaphores::None,
        })
    }

    /// The draw counter (`stream-wait`).
    pub fn counter(&self) -> Result<&counter::DrawCounter> {
        match self {
            SharedSemaphores::Counter(c) => Ok(c),
            _ => anyhow::bail!("the plan names the draw counter, which this strategy does not have"),
        }
    }

    /// The semaphore a plan names: HIP's import and Vulkan's handle.
    pub fn get(&self, role: SemaphoreRole) -> Result<(&hip::ExternalSemaphore, vk::Semaphore)> {
        let found = match (self, role) {
            (SharedSemaphores::Timeline(t), SemaphoreRole::Sim) => Some(t.get(true)),
            (SharedSemaphores::Timeline(t), SemaphoreRole::Draw) => Some(t.get(false)),
            (SharedSemaphores::Binary(b), SemaphoreRole::Ready(slot)) => b.get(slot, true),
            (SharedSemaphores::Binary(b), SemaphoreRole::Drawn(slot)) => b.get(slot, false),
            _ => None,
        };
        found.with_context(|| format!("the plan names {role:?}, which this strategy does not have"))
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
