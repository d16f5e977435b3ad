//! The HIP kernel as a height source: `kernels/sinewave.hip` (compiled at build time, or
//! loaded from a file) writes each slot through its imported device pointer, and each
//! frame's [`FramePlan`] says how the slot is handed between the APIs. [`HipSetup`] opens
//! HIP on its first GPU, before Vulkan, so that Vulkan can pick the same one.

use std::ffi::c_void;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use ash::vk;

use crate::hip;
use crate::interop::hip_normals::HipNormals;
use crate::interop::hip_slots::{HipSlots, MemoryOwner};
use crate::interop::normal_images::NormalImages;
use crate::interop::source::{FrameHeights, HeightSource, SubmitSync};
use crate::interop::sync::plan::{FramePlan, SemaphoreRole};
use crate::interop::sync::{self, SharedSemaphores, SyncKind, SyncRequest};
use crate::interop::{acquire_from_external, HeightSlots};
use crate::vulkan::{Device, DeviceSelection};

/// HIP, opened before Vulkan so that Vulkan can pick the same GPU.
pub struct HipSetup {
    /// The loaded runtime, its current device set on this thread.
    pub hip: hip::Hip,
    /// What HIP reports about the device in use.
    pub device: hip::DeviceInfo,
}

impl HipSetup {
    /// Loads the HIP runtime and picks HIP device 0 (`HIP_VISIBLE_DEVICES` /
    /// `CUDA_VISIBLE_DEVICES` choose which GPU that is).
    pub fn open() -> Result<Self> {
        let hip = hip::Hip::load().map_err(|e| anyhow!("HIP needs its runtime library: {e}"))?;
        let devices = hip.devices().map_err(|e| {
            let hint = if e.is_no_device() && !hip.is_nvidia_shim() {
                format!(
                    " The runtime loaded was {}; on an NVIDIA GPU, build the HIP-on-CUDA shim beside the binary \
                     (scripts/build-nvidia.sh DIR-OF-THE-BINARY).",
                    hip.library_path().display()
                )
            } else {
                String::new()
            };
            anyhow!("HIP found no usable GPU ({e}). HIP needs an AMD GPU with ROCm or an NVIDIA GPU with CUDA.{hint}")
        })?;
        let device = devices.into_iter().next().context("HIP reports no devices")?;
        hip.set_device(device.ordinal).with_context(|| format!("hipSetDevice({})", device.ordinal))?;
        log::info!(
            "hip runtime {} (version {}, driver {})",
            hip.library_path().display(),
            hip.runtime_version().map_or("?".into(), |v| v.to_string()),
            hip.driver_version().map_or("?".into(), |v| v.to_string())
        );
        log::info!(
            "hip device {}: {} ({}, uuid {}, pci {}), semaphore import {}",
            device.ordinal,
            device.name,
            device.arch,
            crate::vulkan::device::uuid_string(&device.uuid),
            device.pci,
            if hip.imports_semaphores() { "supported" } else { "not supported (AMD/Linux)" }
        );
        Ok(Self { hip, device })
    }

    /// The GPU as messages name it: `NVIDIA H100 80GB HBM3 (sm_90)`.
    pub fn gpu_name(&self) -> String {
        format!("{} ({})", self.device.name, self.device.arch)
    }

    /// The Vulkan device to use: the HIP device, unless `--device` names one.
    pub fn vulkan_selection(&self, override_index: Option<usize>) -> DeviceSelection {
        match override_index {
            Some(i) => DeviceSelection::Index(i),
            None => DeviceSelection::Identity { uuid: self.device.uuid, pci: Some(self.device.pci) },
        }
    }
}

/// Rows each block of the kernel writes (`ROWS_PER_BLOCK` in `kernels/sinewave.hip`).
pub const ROWS_PER_BLOCK: u32 = 32;

/// Block shape for a grid `width` wide: one row of threads, as wide as the grid allows
/// (32..=256, so that the first 32 threads can compute the block's row factors and a
/// warp/wavefront writes contiguous memory).
pub fn block_shape(width: u32) -> [u32; 3] {
    [width.next_power_of_two().clamp(ROWS_PER_BLOCK, 256), 1, 1]
}

/// Blocks needed to cover `width × height`: one per `block[0]` columns and
/// [`ROWS_PER_BLOCK`] rows.
pub fn grid_shape(width: u32, height: u32, block: [u32; 3]) -> [u32; 3] {
    [width.div_ceil(block[0]), height.div_ceil(ROWS_PER_BLOCK), 1]
}

/// Queues `sinewave(heights, width, height, time)` on `stream`, covering the grid with
/// [`block_shape`] / [`grid_shape`].
///
/// # Safety
/// `heights` is a device pointer valid for `width × height` `f32` that nothing else reads
/// or writes until the kernel completes on `stream`.
pub unsafe fn launch_sinewave(
    function: &hip::Function,
    stream: &hip::Stream,
    heights: *mut c_void,
    width: u32,
    height: u32,
    time: f32,
) -> Result<()> {
    let (mut ptr, mut width_arg, mut height_arg, mut time_arg) = (heights, width, height, time);
    let mut args: [*mut c_void; 4] = [
        (&mut ptr as *mut *mut c_void).cast(),
        (&mut width_arg as *mut u32).cast(),
        (&mut height_arg as *mut u32).cast(),
        (&mut time_arg as *mut f32).cast(),
    ];
    let block = block_shape(width);
    // SAFETY: the arguments match `sinewave(float*, unsigned, unsigned, float)` and live
    // until the call returns (HIP copies them); the grid covers width×height with a bounds
    // check in the kernel; the memory contract is the caller's (see above).
    unsafe { function.launch(grid_shape(width, height, block), block, 0, stream, &mut args) }
        .context("launching the sinewave kernel")
}

/// Heights written by the HIP kernel straight into the Vulkan buffers, handed over as each
/// frame's [`FramePlan`] says.
///
/// Field order is drop order: the shared semaphores (their HIP imports, then the Vulkan
/// semaphores) and the slot imports go before the kernel (which holds its module), the
/// stream and the runtime. `Drop` first waits for the stream.
pub struct HipHeights {
    /// `hip (timeline sync)`: for logs and the window title.
    name: String,
    kind: SyncKind,
    semaphores: SharedSemaphores,
    /// With shading images: how HIP writes them (before `slots`: its imports go first too).
    normals: Option<HipNormals>,
    slots: HipSlots,
    function: hip::Function,
    stream: hip::Stream,
    hip: hip::Hip,
    device: Arc<Device>,
    width: u32,
    height: u32,
    /// With timing on: per slot, events around the last kernel that wrote it.
    kernel_events: Vec<KernelEvents>,
    /// Frames written per HIP wake-up (1: one frame at a time).
    run_ahead: usize,
    /// First frame not written yet.
    next_unwritten: u64,
    /// Plans of the frames written but not yet submitted by Vulkan, oldest first, with
    /// the (wrapped) time each was written for.
    pending: std::collections::VecDeque<(FramePlan, f32)>,
    /// The plan of the frame submitted last (for [`HeightSource::submitted`]).
    submitted_plan: Option<FramePlan>,
}

/// `hip (timeline sync, hip-owned memory, normals direct)`: the strategy, then what differs
/// from the defaults.
fn source_name(kind: SyncKind, owner: MemoryOwner, normals: Option<&str>) -> String {
    let mut parts = vec![format!("{kind} sync")];
    if owner == MemoryOwner::Hip {
        parts.push("hip-owned memory".into());
    }
    if let Some(mode) = normals {
        parts.push(format!("normals {mode}"));
    }
    format!("hip ({})", parts.join(", "))
}

/// Timing events recorded around one slot's kernel.
pub struct KernelEvents {
    /// Recorded before the kernel.
    pub start: hip::Event,
    /// Recorded after the kernel.
    pub end: hip::Event,
    /// Recorded at least once (elapsed time is undefined before).
    pub recorded: bool,
}

impl KernelEvents {
    /// Two timing events, not yet recorded.
    pub fn new(hip: &hip::Hip) -> Result<Self> {
        Ok(Self { start: hip::Event::new(hip, true)?, end: hip::Event::new(hip, true)?, recorded: false })
    }

    /// Milliseconds between the events, or `None` while the last recorded pair has not
    /// completed (with run-ahead, a slot's events may already time a later frame).
    pub fn elapsed_ms(&self) -> Result<Option<f64>> {
        if !self.recorded || !self.end.query()? || !self.start.query()? {
            return Ok(None);
        }
        Ok(Some(f64::from(hip::Event::elapsed_ms(&self.start, &self.end)?)))
    }
}

impl HipHeights {
    /// Imports the height slots (Vulkan's memory) and sets up the sync strategy `request`
    /// resolves to; `function` is the sinewave kernel, loaded on `setup`'s GPU.
    pub fn new(
        setup: &HipSetup,
        device: &Arc<Device>,
        slots: &HeightSlots,
        request: SyncRequest,
        function: hip::Function,
    ) -> Result<Self> {
        let imported = HipSlots::import(&setup.hip, slots)?;
        Self::with_slots(setup, device, slots, imported, request, function)
    }

    /// As [`HipHeights::new`], with HIP's side of the slots already made: `hip_slots[i]`
    /// must be the memory of `slots.buffers[i]` (from [`HipSlots::import`] or
    /// [`HipSlots::allocate_for_vulkan`]).
    pub fn with_slots(
        setup: &HipSetup,
        device: &Arc<Device>,
        slots: &HeightSlots,
        imported: HipSlots,
        request: SyncRequest,
        function: hip::Function,
    ) -> Result<Self> {
        anyhow::ensure!(
            imported.len() == slots.len(),
            "HIP has {} height slots, Vulkan {}: they must be the same buffers",
            imported.len(),
            slots.len()
        );
        let hip = setup.hip.clone();
        let stream = hip::Stream::new(&hip)?;
        let k = slots.len();
        let importable = hip.imports_semaphores();
        let (semaphores, kind, passed_over) = sync::select(request, importable, |kind| {
            if kind == SyncKind::Serial && k != 1 {
                bail!("serial uses one height buffer; run it with --frames-in-flight 1");
            }
            SharedSemaphores::new(kind, &hip, device, k)
        })?;
        for why in &passed_over {
            log::info!("sync: passed over {why}");
        }
        log::info!(
            "sync strategy: {kind} ({}), {k} frame(s) in flight",
            match (request, kind) {
                (SyncRequest::Auto, _) if passed_over.is_empty() => "auto: the best strategy, accepted by this runtime",
                (SyncRequest::Auto, _) => "auto: the best strategy this runtime accepts",
                _ => "requested with --sync",
            }
        );
        Ok(Self {
            name: source_name(kind, imported.owner(), None),
            kind,
            semaphores,
            normals: None,
            slots: imported,
            function,
            stream,
            hip,
            device: device.clone(),
            width: slots.width,
            height: slots.height,
            kernel_events: Vec::new(),
            run_ahead: 1,
            next_unwritten: 0,
            pending: Default::default(),
            submitted_plan: None,
        })
    }

    /// Also writes `images` (the slots' shading images) every frame, in the same hand-over
    /// as the heights: directly where the runtime maps images, else through buffers Vulkan
    /// copies (see [`HipNormals`]).
    /// On failure the source is unchanged (it writes heights only). `force_copy` takes
    /// the copy path even where HIP could write the images (to test it on NVIDIA).
    pub fn add_normals(&mut self, images: &NormalImages, force_copy: bool) -> Result<()> {
        anyhow::ensure!(
            images.images.len() == self.slots.len() && (images.width(), images.height()) == (self.width, self.height),
            "shading images ({} of {}x{}) do not match the height slots ({} of {}x{})",
            images.images.len(),
            images.width(),
            images.height(),
            self.slots.len(),
            self.width,
            self.height
        );
        let normals = HipNormals::new(&self.hip, &self.device, images, &self.function, force_copy)?;
        self.name = source_name(self.kind, self.slots.owner(), Some(normals.mode()));
        self.normals = Some(normals);
        Ok(())
    }

    /// Times every kernel with HIP events (for benchmarks; costs two event records a frame).
    pub fn with_timing(mut self) -> Result<Self> {
        self.kernel_events = (0..self.slots.len()).map(|_| KernelEvents::new(&self.hip)).collect::<Result<_>>()?;
        Ok(self)
    }

    /// Lets HIP write up to `frames` frames per wake-up, when the caller fixes the times of
    /// the frames ahead ([`FrameHeights::ahead`]). Every hand-over between HIP and Vulkan
    /// work costs the GPU about 0.3 ms on the H100, with or without semaphores (measured:
    /// BENCHMARKS.md, "Real time"; the driver's reason is not known); writing `frames`
    /// slots per hand-over divides that cost by `frames`. Needs a semaphore strategy (HIP
    /// waits on the GPU for each slot's previous draw) and at most as many frames as there
    /// are slots.
    pub fn with_run_ahead(mut self, frames: usize) -> Result<Self> {
        let k = self.slots.len();
        anyhow::ensure!((1..=k).contains(&frames), "run-ahead {frames} must be 1..={k} (the height slots)");
        anyhow::ensure!(
            frames == 1 || matches!(self.kind, SyncKind::Timeline | SyncKind::Binary | SyncKind::StreamWait),
            "run-ahead needs the timeline, binary or stream-wait strategy, not {}",
            self.kind
        );
        self.run_ahead = frames;
        Ok(self)
    }

    /// Enqueues on the HIP stream the kernel for `plan`'s frame at `time`, then its
    /// signals; waits on the CPU for the kernel where the plan says so. The plan's HIP
    /// waits were enqueued before (for the whole burst).
    fn write_frame(&mut self, plan: &FramePlan, time: f32) -> Result<()> {
        let slot = plan.slot;
        if let Some(events) = self.kernel_events.get(slot) {
            events.start.record(&self.stream)?;
        }
        // SAFETY: the slot's mapped pointer holds width×height f32, and the plan's HIP
        // waits (enqueued before, on this stream) or the renderer's fence wait made the slot
        // free: Vulkan's last draw of it is done before this point in the stream.
        unsafe {
            launch_sinewave(
                &self.function,
                &self.stream,
                self.slots.slots[slot].device_ptr(),
                self.width,
                self.height,
                time,
            )
        }?;
        if let Some(normals) = &self.normals {
            // SAFETY: the slot's image or normals buffer is free by the same hand-over as
            // its heights (the waits enqueued before, or the renderer's fence).
            unsafe { normals.launch(&self.stream, slot, self.width, self.height, time) }?;
        }
        if let Some(events) = self.kernel_events.get_mut(slot) {
            events.end.record(&self.stream)?;
            events.recorded = true;
        }
        for op in &plan.hip_signals {
            let (semaphore, _) = self.semaphores.get(op.semaphore)?;
            self.stream
                .signal_external_semaphores(&[(semaphore, op.value)])
                .with_context(|| format!("HIP signalling 'heights ready' ({:?} = {})", op.semaphore, op.value))?;
        }
        if plan.cpu_waits_for_kernel {
            // Vulkan may read the slot only once the kernel is done.
            self.stream.synchronize().context("waiting for the HIP kernel")?;
        }
        Ok(())
    }

    /// The strategy in use.
    pub fn sync_kind(&self) -> SyncKind {
        self.kind
    }

    /// The HIP runtime this source uses.
    pub fn hip(&self) -> &hip::Hip {
        &self.hip
    }
}

impl HeightSource for HipHeights {
    fn name(&self) -> &str {
        &self.name
    }

    fn produce(&mut self, frame: &FrameHeights<'_>, sync: &mut SubmitSync) -> Result<()> {
        // Write this frame, and up to `run_ahead − 1` more whose times the caller has fixed:
        // one wake-up of HIP for several frames (see `with_run_ahead`).
        let next =
            sync::plan::next_burst(frame.frame, self.next_unwritten, self.run_ahead as u64, frame.ahead.len() as u64);
        if let Some(next) = next {
            let count = next.len as usize;
            let k = self.slots.len() as u64;
            // The burst's frames `next.first ..` at this frame's time and the times fixed ahead.
            let times: Vec<f32> = std::iter::once(frame.seconds)
                .chain(frame.ahead.iter().copied())
                .take(count)
                .map(crate::sinewave::wrap_time)
                .collect();
            let plans: Vec<FramePlan> =
                (next.first..next.first + next.len).map(|j| sync::plan::plan(self.kind, k, next, j)).collect();
            // All waits first, then all kernels: the burst then runs on the GPU in one go
            // (one switch to HIP and back), instead of interleaving with Vulkan's draws.
            for op in plans.iter().flat_map(|p| &p.hip_waits) {
                if op.semaphore == SemaphoreRole::DrawCounter {
                    let value = u32::try_from(op.value).context("the draw counter is 32 bits: frame 2³² reached")?;
                    // SAFETY: the plan waits only for frames submitted before this burst,
                    // whose command buffers write the counter after their draws; the counter
                    // outlives the stream's work (Drop synchronises the stream first).
                    unsafe { self.semaphores.counter()?.queue_wait(&self.stream, value) }?;
                    continue;
                }
                let (semaphore, _) = self.semaphores.get(op.semaphore)?;
                self.stream
                    .wait_external_semaphores(&[(semaphore, op.value)])
                    .with_context(|| format!("HIP waiting for Vulkan's draw ({:?} ≥ {})", op.semaphore, op.value))?;
            }
            for (plan, &time) in plans.into_iter().zip(&times) {
                self.write_frame(&plan, time)?;
                self.pending.push_back((plan, time));
            }
            self.next_unwritten = next.first + next.len;
        }
        let (plan, written_time) = self.pending.pop_front().context("no heights were written for this frame")?;
        anyhow::ensure!(
            plan.frame == frame.frame,
            "heights written for frame {}, rendering frame {}",
            plan.frame,
            frame.frame
        );
        anyhow::ensure!(
            written_time == frame.time,
            "frame {} was written ahead for time {written_time} but is rendered at {}: the caller changed a \
             time it had fixed (FrameHeights::ahead)",
            frame.frame,
            frame.time
        );
        if plan.vulkan_chains_to_burst_wait {
            // A frame inside a run-ahead burst: its heights were handed over with the
            // burst's first frame. Chain after that frame's semaphore wait (submission
            // order + this dependency on all earlier commands).
            let barrier = [vk::MemoryBarrier2::default()
                .src_stage_mask(vk::PipelineStageFlags2::ALL_COMMANDS)
                .src_access_mask(vk::AccessFlags2::MEMORY_WRITE)
                .dst_stage_mask(vk::PipelineStageFlags2::VERTEX_ATTRIBUTE_INPUT)
                .dst_access_mask(vk::AccessFlags2::VERTEX_ATTRIBUTE_READ)];
            // SAFETY: the frame's command buffer is recording.
            unsafe {
                self.device
                    .raw()
                    .cmd_pipeline_barrier2(frame.cmd, &vk::DependencyInfo::default().memory_barriers(&barrier))
            };
        }
        let (waits, signals) = plan.vulkan_submit_infos(|role| self.semaphores.get(role).map(|(_, raw)| raw))?;
        sync.waits.extend(waits);
        sync.signals.extend(signals);
        self.submitted_plan = Some(plan);
        // SAFETY: the frame's command buffer is recording (the HeightSource contract); the slot buffer lives until the renderer idles.
        unsafe {
            acquire_from_external(
                &self.device,
                frame.cmd,
                frame.slots.buffers[frame.slot].raw(),
                vk::PipelineStageFlags2::VERTEX_ATTRIBUTE_INPUT,
                vk::AccessFlags2::VERTEX_ATTRIBUTE_READ,
            )
        };
        if let (Some(normals), Some(images)) = (&self.normals, &frame.slots.normals) {
            // SAFETY: recording, before the draw; the frame's waits (added above) or the
            // CPU wait cover HIP's write of the slot's normals (same stream, before the
            // signals); the images and buffers live until the renderer idles.
            unsafe { normals.record_vulkan(&self.device, frame.cmd, images, frame.slot) };
        }
        Ok(())
    }

    fn writes_normals(&self) -> bool {
        self.normals.is_some()
    }

    fn after_draw(&mut self, frame: u64, cmd: vk::CommandBuffer) -> Result<()> {
        let Some(value) =
            self.submitted_plan.as_ref().filter(|p| p.frame == frame).and_then(|p| p.vulkan_counter_after_draw)
        else {
            return Ok(());
        };
        let value = u32::try_from(value).context("the draw counter is 32 bits: frame 2³² reached")?;
        // SAFETY: the frame's command buffer is recording, after its draw (the HeightSource
        // contract); the counter lives until the renderer idles.
        unsafe { self.semaphores.counter()?.record_write(&self.device, cmd, value) };
        Ok(())
    }

    fn frames_ahead(&self) -> usize {
        self.run_ahead - 1
    }

    fn submitted(&mut self, frame: u64, _slot: usize) -> Result<()> {
        match self.submitted_plan.take() {
            Some(plan) if plan.frame == frame && plan.cpu_waits_for_vulkan_after_submit => {
                self.device.wait_idle().context("vkDeviceWaitIdle after the draw")
            }
            _ => Ok(()),
        }
    }

    fn timings(&mut self, slot: usize) -> Result<crate::interop::source::SourceTimings> {
        let kernel_ms = match self.kernel_events.get(slot) {
            Some(e) => e.elapsed_ms()?,
            None => None,
        };
        Ok(crate::interop::source::SourceTimings { kernel_ms, transfer_ms: None })
    }
}

impl Drop for HipHeights {
    fn drop(&mut self) {
        // HIP must be idle before its imports go (the renderer has idled Vulkan already).
        if let Err(e) = self.stream.synchronize() {
            log::warn!("hipStreamSynchronize at shutdown: {e:#}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_name_says_what_differs_from_the_defaults() {
        assert_eq!(source_name(SyncKind::Timeline, MemoryOwner::Vulkan, None), "hip (timeline sync)");
        assert_eq!(
            source_name(SyncKind::Binary, MemoryOwner::Hip, Some("direct")),
            "hip (binary sync, hip-owned memory, normals direct)"
        );
    }

    #[test]
    fn block_and_grid_cover_the_heights() {
        assert_eq!(block_shape(1024), [256, 1, 1]);
        assert_eq!(block_shape(100), [128, 1, 1]);
        assert_eq!(block_shape(2), [32, 1, 1]);
        for (w, h) in [(1024, 1024), (100, 7), (2, 2), (4097, 33)] {
            let b = block_shape(w);
            assert!(b[0] >= ROWS_PER_BLOCK, "the first {ROWS_PER_BLOCK} threads compute the row factors");
            let g = grid_shape(w, h, b);
            assert!(g[0] * b[0] >= w && g[1] * ROWS_PER_BLOCK >= h);
            assert!((g[0] - 1) * b[0] < w && (g[1] - 1) * ROWS_PER_BLOCK < h, "no block entirely outside");
        }
    }
}
