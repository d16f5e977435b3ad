//! The plan of one frame's hand-over, as plain data: which semaphore, which value, wait or
//! signal, on which side. [`plan`] is a pure function of the strategy, the number of frames
//! in flight `K`, the run-ahead burst and the frame; the HIP height source
//! ([`crate::interop::hip_heights`]) carries out the HIP side on its stream and hands the
//! Vulkan side to the frame's `vkQueueSubmit2` ([`FramePlan::vulkan_submit_infos`]).
//!
//! Frame `f` writes slot `f mod K`. Per strategy:
//!
//! | strategy | HIP, before the kernel | HIP, after | CPU | Vulkan submission waits | … signals |
//! |---|---|---|---|---|---|
//! | timeline | `draw ≥ f−K+1` (if `f ≥ K`) | `sim = last+1` (burst's last frame) | — | `sim ≥ last+1` (burst's first frame) | `draw = f+1` (burst's last frame) |
//! | binary | `drawn[s]` (if `f ≥ K`) | `ready[s]` | — | `ready[s]` | `drawn[s]` |
//! | host | — | — | waits for the kernel before the submission | — | — |
//! | stream-wait | counter `≥ f−K+1` on the GPU (if `f ≥ K`) | — | waits for the burst's last kernel before its first submission | — | — (writes counter `= f+1` after the draw) |
//! | serial | — | — | waits for the kernel; after the submission, for the device | — | — |
//!
//! A run-ahead burst (HIP writes frames `first ..= last` in one go, `last − first < K`)
//! hands over once with `timeline`: one signal after the last kernel, one wait in the first
//! frame's submission; the burst's later frames chain after that wait with an execution
//! dependency ([`FramePlan::vulkan_chains_to_burst_wait`]). Every cross-API semaphore
//! operation in a submission cost ~0.3 ms of GPU idle on the H100 (BENCHMARKS.md), which is
//! what the burst saves. `binary` hands each frame over on its own semaphores.

use ash::vk;

use super::SyncKind;

/// A semaphore of a strategy, by its role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SemaphoreRole {
    /// Timeline `sim`: HIP signals `f+1` once frame `f`'s heights are written; Vulkan waits.
    Sim,
    /// Timeline `draw`: Vulkan signals `f+1` once frame `f`'s draw is done; HIP waits.
    Draw,
    /// Binary `ready[slot]`: HIP signals after writing the slot; Vulkan waits.
    Ready(usize),
    /// Binary `drawn[slot]`: Vulkan signals after drawing the slot; HIP waits.
    Drawn(usize),
    /// Not a semaphore: the draw counter Vulkan sets to `f+1` after frame `f`'s draw, which
    /// HIP's stream waits on (`stream-wait`, [`super::counter`]).
    DrawCounter,
}

/// One semaphore operation: wait until a timeline semaphore reaches `value`, or set it to
/// `value`; binary semaphores ignore the value (it is 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SemaphoreOp {
    /// Which semaphore.
    pub semaphore: SemaphoreRole,
    /// The timeline value (0 for binary semaphores).
    pub value: u64,
}

/// HIP writes frames `first .. first + len` in one go (run-ahead); `len` is 1 without.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Burst {
    /// The burst's first frame.
    pub first: u64,
    /// Frames in the burst (1..=K).
    pub len: u64,
}

impl Burst {
    /// A burst of one frame.
    pub fn single(frame: u64) -> Self {
        Self { first: frame, len: 1 }
    }

    /// The burst's last frame.
    pub fn last(&self) -> u64 {
        self.first + self.len.max(1) - 1
    }

    /// Whether `frame` is in the burst.
    pub fn contains(&self, frame: u64) -> bool {
        (self.first..=self.last()).contains(&frame)
    }
}

/// The burst HIP writes while the renderer prepares `frame`: none when an earlier burst
/// wrote `frame` already (`frame < next_unwritten`); otherwise `frame` and up to
/// `run_ahead − 1` frames after it, as far as the caller has fixed their times (`ahead`
/// frames after `frame`; the wall clock fixes fewer when frames are slow).
pub fn next_burst(frame: u64, next_unwritten: u64, run_ahead: u64, ahead: u64) -> Option<Burst> {
    (frame >= next_unwritten).then(|| Burst { first: frame, len: run_ahead.max(1).min(ahead.saturating_add(1)) })
}

/// What both APIs do to hand frame `frame`'s slot over (see the module table).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FramePlan {
    /// The frame.
    pub frame: u64,
    /// Its height slot (`frame mod K`).
    pub slot: usize,
    /// On the HIP stream, before the kernel: the slot is free once these are reached.
    pub hip_waits: Vec<SemaphoreOp>,
    /// On the HIP stream, after the kernel: the heights are ready.
    pub hip_signals: Vec<SemaphoreOp>,
    /// The CPU waits for the kernel before the frame's Vulkan submission (no shared
    /// semaphores: `host`, `serial`).
    pub cpu_waits_for_kernel: bool,
    /// In the frame's submission, before vertex input reads the heights.
    pub vulkan_waits: Vec<SemaphoreOp>,
    /// In the frame's submission, once all its commands are done.
    pub vulkan_signals: Vec<SemaphoreOp>,
    /// The frame is inside a run-ahead burst whose hand-over an earlier frame's submission
    /// waited for: its vertex input must depend on all earlier commands of the queue.
    pub vulkan_chains_to_burst_wait: bool,
    /// After the submission the CPU waits for the device to idle (`serial`).
    pub cpu_waits_for_vulkan_after_submit: bool,
    /// After the draw, the frame's command buffer sets the draw counter to this value
    /// (`stream-wait`).
    pub vulkan_counter_after_draw: Option<u64>,
}

/// Semaphore infos for `vkQueueSubmit2` (waits or signals).
pub type SubmitInfos = Vec<vk::SemaphoreSubmitInfo<'static>>;

/// The plan of `frame`, in `burst`, for strategy `kind` with `frames_in_flight` slots.
pub fn plan(kind: SyncKind, frames_in_flight: u64, burst: Burst, frame: u64) -> FramePlan {
    let k = frames_in_flight.max(1);
    let slot = (frame % k) as usize;
    let mut plan = FramePlan { frame, slot, ..FramePlan::default() };
    // Frame f−K last used this slot; f < K: the slot has never been drawn.
    let previous_user = frame.checked_sub(k);
    match kind {
        SyncKind::Timeline => {
            let last = burst.last();
            if previous_user.is_some() {
                // Frame f−K's draw signalled draw = f−K+1 (or a later frame a larger value).
                plan.hip_waits.push(SemaphoreOp { semaphore: SemaphoreRole::Draw, value: frame - k + 1 });
            }
            if frame == last {
                plan.hip_signals.push(SemaphoreOp { semaphore: SemaphoreRole::Sim, value: last + 1 });
                plan.vulkan_signals.push(SemaphoreOp { semaphore: SemaphoreRole::Draw, value: frame + 1 });
            }
            if frame == burst.first {
                plan.vulkan_waits.push(SemaphoreOp { semaphore: SemaphoreRole::Sim, value: last + 1 });
            } else {
                plan.vulkan_chains_to_burst_wait = true;
            }
        }
        SyncKind::Binary => {
            if previous_user.is_some() {
                plan.hip_waits.push(SemaphoreOp { semaphore: SemaphoreRole::Drawn(slot), value: 0 });
            }
            plan.hip_signals.push(SemaphoreOp { semaphore: SemaphoreRole::Ready(slot), value: 0 });
            plan.vulkan_waits.push(SemaphoreOp { semaphore: SemaphoreRole::Ready(slot), value: 0 });
            plan.vulkan_signals.push(SemaphoreOp { semaphore: SemaphoreRole::Drawn(slot), value: 0 });
        }
        SyncKind::Host => plan.cpu_waits_for_kernel = true,
        SyncKind::StreamWait => {
            if previous_user.is_some() {
                plan.hip_waits.push(SemaphoreOp { semaphore: SemaphoreRole::DrawCounter, value: frame - k + 1 });
            }
            // The burst's kernels are all queued before its first frame is submitted: one
            // CPU wait, after the last, covers them all.
            plan.cpu_waits_for_kernel = frame == burst.last();
            plan.vulkan_counter_after_draw = Some(frame + 1);
        }
        SyncKind::Serial => {
            plan.cpu_waits_for_kernel = true;
            plan.cpu_waits_for_vulkan_after_submit = true;
        }
    }
    plan
}

/// The stage at which a frame's submission waits for HIP ([`VULKAN_WAIT_STAGE`]): vertex
/// input, the heights' first reader. Commands of the frame that read what HIP wrote at an
/// earlier or unrelated stage (the shading image's copy or layout transition) must start
/// their barrier's first scope at this stage, so that they chain after the wait.
pub const VULKAN_WAIT_STAGE: vk::PipelineStageFlags2 = vk::PipelineStageFlags2::VERTEX_ATTRIBUTE_INPUT;

impl FramePlan {
    /// The Vulkan side as `vkQueueSubmit2` semaphore infos: waits at
    /// [`VULKAN_WAIT_STAGE`], signals after all commands. `resolve` gives the Vulkan
    /// handle of a role.
    pub fn vulkan_submit_infos<E>(
        &self,
        resolve: impl Fn(SemaphoreRole) -> Result<vk::Semaphore, E>,
    ) -> Result<(SubmitInfos, SubmitInfos), E> {
        let info = |op: &SemaphoreOp, stage| -> Result<vk::SemaphoreSubmitInfo<'static>, E> {
            Ok(vk::SemaphoreSubmitInfo::default().semaphore(resolve(op.semaphore)?).value(op.value).stage_mask(stage))
        };
        let waits = self.vulkan_waits.iter().map(|op| info(op, VULKAN_WAIT_STAGE));
        let signals = self.vulkan_signals.iter().map(|op| info(op, vk::PipelineStageFlags2::ALL_COMMANDS));
        Ok((waits.collect::<Result<_, E>>()?, signals.collect::<Result<_, E>>()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ash::vk::Handle;

    const KINDS: [SyncKind; 5] =
        [SyncKind::Timeline, SyncKind::Binary, SyncKind::Host, SyncKind::StreamWait, SyncKind::Serial];

    /// The plans of frames `0..frames` with bursts of `run_ahead` frames, as the HIP height
    /// source makes them.
    fn plans(kind: SyncKind, k: u64, run_ahead: u64, frames: u64) -> Vec<FramePlan> {
        (0..frames).map(|f| plan(kind, k, Burst { first: f - f % run_ahead, len: run_ahead }, f)).collect()
    }

    #[test]
    fn timeline_k3_run_ahead_2_by_hand() {
        let p = plans(SyncKind::Timeline, 3, 2, 6);
        let op = |semaphore, value| SemaphoreOp { semaphore, value };
        use SemaphoreRole::{Draw, Sim};
        // Burst [0, 1]: one hand-over.
        assert_eq!(p[0].hip_waits, []);
        assert_eq!(p[0].vulkan_waits, [op(Sim, 2)]);
        assert_eq!((p[0].hip_signals.len(), p[0].vulkan_signals.len()), (0, 0));
        assert!(!p[0].vulkan_chains_to_burst_wait);
        assert_eq!(p[1].hip_signals, [op(Sim, 2)]);
        assert_eq!(p[1].vulkan_signals, [op(Draw, 2)]);
        assert!(p[1].vulkan_chains_to_burst_wait);
        // Burst [2, 3]: frame 3 reuses frame 0's slot.
        assert_eq!(p[2].hip_waits, []);
        assert_eq!(p[3].hip_waits, [op(Draw, 1)]);
        assert_eq!(p[2].vulkan_waits, [op(Sim, 4)]);
        assert_eq!(p[3].vulkan_signals, [op(Draw, 4)]);
        // Burst [4, 5].
        assert_eq!(p[4].hip_waits, [op(Draw, 2)]);
        assert_eq!(p[5].hip_waits, [op(Draw, 3)]);
        assert_eq!(p[5].slot, 2);
    }

    /// For every strategy, K and run-ahead: the slot is free before HIP writes it, the
    /// heights are ready before Vulkan reads them, and no wait is for a value nobody has
    /// signalled yet (no deadlock): HIP waits only on draws submitted before its burst, and
    /// each Vulkan wait is on a signal HIP queued in the same burst.
    #[test]
    fn every_plan_is_safe_and_cannot_deadlock() {
        for kind in KINDS {
            for k in 1..=4u64 {
                let ahead_values: Vec<u64> =
                    if matches!(kind, SyncKind::Timeline | SyncKind::Binary | SyncKind::StreamWait) {
                        (1..=k).collect()
                    } else {
                        vec![1]
                    };
                for run_ahead in ahead_values {
                    let frames = 8 * k + 3;
                    let p = plans(kind, k, run_ahead, frames);
                    check(kind, k, run_ahead, &p);
                }
            }
        }
    }

    fn check(kind: SyncKind, k: u64, run_ahead: u64, p: &[FramePlan]) {
        let ctx = |f: u64| format!("{kind} K={k} run-ahead {run_ahead} frame {f}");
        for (f, plan) in (0u64..).zip(p) {
            assert_eq!(plan.slot as u64, f % k, "{}", ctx(f));
            let burst_first = f - f % run_ahead;
            // The Vulkan frames submitted before HIP writes this burst: 0..burst_first.
            let draws_signalled_before = |role: SemaphoreRole| -> Vec<u64> {
                p[..burst_first as usize]
                    .iter()
                    .flat_map(|q| q.vulkan_signals.iter().filter(move |s| s.semaphore == role).map(|s| s.value))
                    .collect()
            };
            match kind {
                SyncKind::Timeline => {
                    // Slot free: f ≥ K waits for draw ≥ f−K+1, and such a value was signalled
                    // by a frame submitted before the burst (no deadlock).
                    match f.checked_sub(k) {
                        None => assert!(plan.hip_waits.is_empty(), "{}", ctx(f)),
                        Some(prev) => {
                            let [SemaphoreOp { semaphore: SemaphoreRole::Draw, value }] = plan.hip_waits[..] else {
                                panic!("{}: {:?}", ctx(f), plan.hip_waits);
                            };
                            assert!(value > prev, "{}: waits only for draw ≥ {value}", ctx(f));
                            let signalled = draws_signalled_before(SemaphoreRole::Draw);
                            assert!(
                                signalled.iter().any(|&v| v >= value),
                                "{}: draw ≥ {value} never signalled",
                                ctx(f)
                            );
                        }
                    }
                    // Heights ready: the burst's first submission waits for the sim value the
                    // burst's last kernel signals; later frames chain after it.
                    let last = (burst_first + run_ahead - 1).min(p.len() as u64 - 1);
                    let burst_complete = last == burst_first + run_ahead - 1;
                    let expected = burst_first + run_ahead;
                    if f == burst_first {
                        // The wait is for the value the burst's last kernel signals.
                        let signalled = p[last as usize].hip_signals.iter().any(|s| s.value == expected);
                        assert!(!burst_complete || signalled, "{}", ctx(f));
                        assert_eq!(
                            plan.vulkan_waits,
                            [SemaphoreOp { semaphore: SemaphoreRole::Sim, value: expected }],
                            "{}",
                            ctx(f)
                        );
                    } else {
                        assert!(plan.vulkan_waits.is_empty() && plan.vulkan_chains_to_burst_wait, "{}", ctx(f));
                    }
                    // One hand-over each way per burst.
                    let per_burst = |pick: fn(&FramePlan) -> usize| -> usize {
                        p[burst_first as usize..=last as usize].iter().map(pick).sum()
                    };
                    if burst_complete {
                        assert_eq!(per_burst(|q| q.hip_signals.len()), 1, "{}", ctx(f));
                        assert_eq!(per_burst(|q| q.vulkan_signals.len()), 1, "{}", ctx(f));
                        assert_eq!(per_burst(|q| q.vulkan_waits.len()), 1, "{}", ctx(f));
                    }
                }
                SyncKind::Binary => {
                    let s = plan.slot;
                    // Every signal of drawn[s] is consumed by exactly the next write of s.
                    let expect_wait = f >= k;
                    assert_eq!(
                        plan.hip_waits,
                        if expect_wait {
                            vec![SemaphoreOp { semaphore: SemaphoreRole::Drawn(s), value: 0 }]
                        } else {
                            vec![]
                        },
                        "{}",
                        ctx(f)
                    );
                    if expect_wait {
                        let prev = &p[(f - k) as usize];
                        assert!(prev
                            .vulkan_signals
                            .contains(&SemaphoreOp { semaphore: SemaphoreRole::Drawn(s), value: 0 }));
                        assert!(f - k < burst_first, "{}: waits on a frame of its own burst", ctx(f));
                    }
                    assert_eq!(plan.hip_signals, [SemaphoreOp { semaphore: SemaphoreRole::Ready(s), value: 0 }]);
                    assert_eq!(plan.vulkan_waits, plan.hip_signals, "{}", ctx(f));
                    assert!(!plan.cpu_waits_for_kernel);
                }
                SyncKind::StreamWait => {
                    // Slot free: f ≥ K waits on the GPU for counter ≥ f−K+1, which the draw of
                    // frame f−K writes; that frame was submitted before the burst (no deadlock).
                    match f.checked_sub(k) {
                        None => assert!(plan.hip_waits.is_empty(), "{}", ctx(f)),
                        Some(prev) => {
                            assert_eq!(
                                plan.hip_waits,
                                [SemaphoreOp { semaphore: SemaphoreRole::DrawCounter, value: prev + 1 }],
                                "{}",
                                ctx(f)
                            );
                            assert_eq!(p[prev as usize].vulkan_counter_after_draw, Some(prev + 1), "{}", ctx(f));
                            assert!(prev < burst_first, "{}: waits on a frame of its own burst", ctx(f));
                        }
                    }
                    // Heights ready: the CPU waits once per burst, after its last kernel,
                    // which is queued before the burst's first submission.
                    let last = burst_first + run_ahead - 1;
                    assert_eq!(plan.cpu_waits_for_kernel, f == last, "{}", ctx(f));
                    assert!(plan.vulkan_waits.is_empty() && plan.vulkan_signals.is_empty(), "{}", ctx(f));
                    assert_eq!(plan.vulkan_counter_after_draw, Some(f + 1), "{}", ctx(f));
                }
                SyncKind::Host | SyncKind::Serial => {
                    assert!(plan.cpu_waits_for_kernel, "{}", ctx(f));
                    assert!(plan.hip_waits.is_empty() && plan.vulkan_waits.is_empty(), "{}", ctx(f));
                    assert_eq!(plan.cpu_waits_for_vulkan_after_submit, kind == SyncKind::Serial, "{}", ctx(f));
                }
            }
        }
    }

    /// Bursts of varying length, as the wall clock makes them (it fixes fewer frames ahead
    /// when frames are slow): every frame is written exactly once, HIP's waits are on draws
    /// submitted before its burst, and each burst's Vulkan wait is on the value its last
    /// kernel signals.
    #[test]
    fn bursts_of_varying_length_are_safe() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut random = |below: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % below
        };
        for kind in [SyncKind::Timeline, SyncKind::Binary, SyncKind::StreamWait] {
            for slots in 1..=6u64 {
                for run_ahead in 1..=slots {
                    let frames = 40 * slots;
                    let mut written: Vec<Option<(Burst, FramePlan)>> = vec![None; frames as usize];
                    let mut next_unwritten = 0;
                    for f in 0..frames {
                        let ahead = random(run_ahead + 2);
                        let Some(burst) = next_burst(f, next_unwritten, run_ahead, ahead) else {
                            assert!(written[f as usize].is_some(), "frame {f} not written before it is drawn");
                            continue;
                        };
                        assert!(burst.len >= 1 && burst.len <= run_ahead && burst.first == f);
                        for j in burst.first..=burst.last().min(frames - 1) {
                            assert!(written[j as usize].is_none(), "frame {j} written twice");
                            written[j as usize] = Some((burst, plan(kind, slots, burst, j)));
                        }
                        next_unwritten = burst.first + burst.len;
                    }
                    let signalled_before = |first: u64, role: SemaphoreRole| -> Vec<u64> {
                        written[..first as usize]
                            .iter()
                            .flatten()
                            .flat_map(|(_, q)| {
                                let counter =
                                    q.vulkan_counter_after_draw.filter(|_| role == SemaphoreRole::DrawCounter);
                                q.vulkan_signals
                                    .iter()
                                    .filter(move |s| s.semaphore == role)
                                    .map(|s| s.value)
                                    .chain(counter)
                            })
                            .collect()
                    };
                    for (j, entry) in (0u64..).zip(&written) {
                        let ctx = format!("{kind} S={slots} run-ahead {run_ahead} frame {j}");
                        let (burst, plan) = entry.as_ref().unwrap_or_else(|| panic!("{ctx}: never written"));
                        for wait in &plan.hip_waits {
                            let signalled = signalled_before(burst.first, wait.semaphore);
                            let met = match kind {
                                SyncKind::Timeline | SyncKind::StreamWait => signalled.iter().any(|&v| v >= wait.value),
                                _ => !signalled.is_empty(),
                            };
                            assert!(met, "{ctx}: HIP waits on {wait:?}, not signalled before its burst");
                        }
                        if kind == SyncKind::StreamWait {
                            // One CPU wait per burst, after the burst's last kernel.
                            assert_eq!(plan.cpu_waits_for_kernel, j == burst.last(), "{ctx}");
                        }
                        if kind == SyncKind::Timeline && j == burst.first && burst.last() < frames {
                            let last = written[burst.last() as usize].as_ref().map(|(_, p)| p.hip_signals.clone());
                            assert_eq!(
                                plan.vulkan_waits,
                                last.unwrap_or_default(),
                                "{ctx}: the burst's first frame waits for its last kernel's signal"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn submit_infos_wait_at_vertex_input_and_signal_after_everything() {
        let p = plan(SyncKind::Timeline, 2, Burst::single(5), 5);
        let (waits, signals) = p
            .vulkan_submit_infos(|role| {
                Ok::<_, ()>(match role {
                    SemaphoreRole::Sim => vk::Semaphore::from_raw(1),
                    _ => vk::Semaphore::from_raw(2),
                })
            })
            .unwrap();
        assert_eq!(waits.len(), 1);
        assert_eq!((waits[0].semaphore, waits[0].value), (vk::Semaphore::from_raw(1), 6));
        assert_eq!(waits[0].stage_mask, vk::PipelineStageFlags2::VERTEX_ATTRIBUTE_INPUT);
        assert_eq!((signals[0].semaphore, signals[0].value), (vk::Semaphore::from_raw(2), 6));
        assert_eq!(signals[0].stage_mask, vk::PipelineStageFlags2::ALL_COMMANDS);
    }
}
