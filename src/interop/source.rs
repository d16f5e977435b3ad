//! Who writes the heights: the seam every height producer plugs into.
//!
//! The renderer (the app's, or an engine's) calls [`HeightSource::produce`] once per frame, after the frame's fence
//! says the slot's previous draw has finished on the Vulkan side, with the frame's command
//! buffer open. The source writes (or arranges for someone to write) the heights of
//! `slot` at `time`, records whatever Vulkan commands that takes, and ends with the slot
//! acquired from `VK_QUEUE_FAMILY_EXTERNAL` and visible to vertex input. It adds to
//! [`SubmitSync`] the semaphores the frame's submission must wait on and signal.
//! After the draw the renderer releases the slot back to the external family.

use ash::vk;

use crate::interop::HeightSlots;

/// Semaphores the frame's `vkQueueSubmit2` waits on and signals besides the renderer's own.
#[derive(Default)]
pub struct SubmitSync {
    /// Waited on before the frame's commands (at the stage each names).
    pub waits: Vec<vk::SemaphoreSubmitInfo<'static>>,
    /// Signalled once the frame's commands are done.
    pub signals: Vec<vk::SemaphoreSubmitInfo<'static>>,
}

impl SubmitSync {
    /// Empties both lists (reused every frame).
    pub fn clear(&mut self) {
        self.waits.clear();
        self.signals.clear();
    }
}

/// What a source needs to know to fill one slot for one frame.
pub struct FrameHeights<'a> {
    /// Frame number, counting from 0.
    pub frame: u64,
    /// Slot to fill (`frame mod K`).
    pub slot: usize,
    /// Animation time, already wrapped into `[0, 2π)` (see [`crate::sinewave::wrap_time`]).
    pub time: f32,
    /// Animation time in seconds, unwrapped.
    pub seconds: f64,
    /// Animation times (seconds, unwrapped) the caller has already fixed for the frames
    /// after this one: frame `frame + 1 + i` will be drawn at `ahead[i]`. Sources may write
    /// those frames now (run-ahead, see `HipHeights::with_run_ahead`). The renderer fixes
    /// as many as the source asks for with [`HeightSource::frames_ahead`], or fewer.
    pub ahead: &'a [f64],
    /// The frame's command buffer, recording, before the draw.
    pub cmd: vk::CommandBuffer,
    /// The height slots.
    pub slots: &'a HeightSlots,
}

/// A producer of heights. Implementations: the HIP kernel
/// ([`crate::interop::hip_heights::HipHeights`], zero-copy); in the app, the CPU
/// reference through a staging upload, a Vulkan compute shader, and HIP through host memory.
pub trait HeightSource {
    /// Short name for logs and window titles.
    fn name(&self) -> &str;

    /// Fills `frame.slot` for `frame.time` (see the module docs for the contract).
    fn produce(&mut self, frame: &FrameHeights<'_>, sync: &mut SubmitSync) -> anyhow::Result<()>;

    /// Whether the source also writes the slot's shading image when the slots have them
    /// ([`HeightSlots::normals`]): then `produce` must leave the image ready for the
    /// fragment shader ([`crate::interop::normal_images::NormalImages::record_upload`] or
    /// `record_acquire`). False by default: the renderer then shades without it.
    fn writes_normals(&self) -> bool {
        false
    }

    /// How many frames after the current one the source would like to write now, when the
    /// caller can fix their times ([`FrameHeights::ahead`]); 0 by default.
    fn frames_ahead(&self) -> usize {
        0
    }

    /// Called after the frame's draw with its command buffer still recording, for sources
    /// that tell the other API when the draw is done from inside the command buffer
    /// (`stream-wait`'s draw counter). Nothing by default.
    fn after_draw(&mut self, _frame: u64, _cmd: vk::CommandBuffer) -> anyhow::Result<()> {
        Ok(())
    }

    /// Called after the frame's submission with the same frame, for sources that track
    /// completion themselves.
    fn submitted(&mut self, _frame: u64, _slot: usize) -> anyhow::Result<()> {
        Ok(())
    }

    /// Stage times of the last frame that wrote `slot`, which has completed (the renderer
    /// waited for its fence). Sources that do not measure return the default (nothing).
    fn timings(&mut self, _slot: usize) -> anyhow::Result<SourceTimings> {
        Ok(SourceTimings::default())
    }
}

/// What a height source measured for one frame, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SourceTimings {
    /// The HIP kernel, by HIP events.
    pub kernel_ms: Option<f64>,
    /// Moving the heights through host memory (copy path: device→host and the CPU copy
    /// into the Vulkan staging buffer).
    pub transfer_ms: Option<f64>,
}
