//! GPU timestamps: a query pool with a few timestamps per frame in flight, read back once
//! the frame's fence says the frame is done.

use std::sync::Arc;

use anyhow::{Context, Result};
use ash::vk;

use crate::vulkan::Device;

/// Timestamps recorded per frame.
pub const PER_FRAME: u32 = 3;
/// Index of the timestamp at the top of the frame's command buffer (after its waits).
pub const FRAME_START: u32 = 0;
/// Index of the timestamp after the heights were produced on the Vulkan side (upload or
/// compute), just before the draw.
pub const BEFORE_DRAW: u32 = 1;
/// Index of the timestamp after the draw.
pub const AFTER_DRAW: u32 = 2;

/// A timestamp query pool with [`PER_FRAME`] queries for each frame in flight.
pub struct TimestampPool {
    device: Arc<Device>,
    raw: vk::QueryPool,
    frames: u32,
    /// Nanoseconds per timestamp tick.
    period_ns: f64,
    /// Mask of the valid timestamp bits.
    valid_mask: u64,
    /// Counts this object in the live-object registry (leak tests).
    _live: crate::vulkan::live::Tracked,
}

impl TimestampPool {
    /// `None` when the queue cannot write timestamps.
    pub fn new(device: &Arc<Device>, frames: u32) -> Result<Option<Self>> {
        let _live = crate::vulkan::live::Tracked::new("TimestampPool")?;
        // SAFETY: the physical device belongs to this instance.
        let families =
            unsafe { device.instance().raw().get_physical_device_queue_family_properties(device.physical.raw) };
        let bits = families.get(device.queue_family as usize).map_or(0, |f| f.timestamp_valid_bits);
        if bits == 0 || device.limits.timestamp_period <= 0.0 {
            log::warn!("{}: the queue cannot write timestamps; GPU stage times unavailable", device.physical.name);
            return Ok(None);
        }
        let info =
            vk::QueryPoolCreateInfo::default().query_type(vk::QueryType::TIMESTAMP).query_count(frames * PER_FRAME);
        // SAFETY: valid create info on a live device.
        let raw = unsafe { device.raw().create_query_pool(&info, None) }.context("vkCreateQueryPool (timestamps)")?;
        let valid_mask = if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 };
        Ok(Some(Self {
            _live,
            device: device.clone(),
            raw,
            frames,
            period_ns: f64::from(device.limits.timestamp_period),
            valid_mask,
        }))
    }

    /// Records the reset of frame slot `frame`'s queries (at the start of its command buffer).
    pub fn reset(&self, cmd: vk::CommandBuffer, frame: usize) {
        // SAFETY: cmd is recording outside a render pass; the range is in the pool.
        unsafe { self.device.raw().cmd_reset_query_pool(cmd, self.raw, frame as u32 * PER_FRAME, PER_FRAME) };
    }

    /// Records timestamp `index` of frame slot `frame` after `stage` completes.
    pub fn write(&self, cmd: vk::CommandBuffer, frame: usize, index: u32, stage: vk::PipelineStageFlags2) {
        // SAFETY: cmd is recording; the query was reset earlier in the same buffer.
        unsafe { self.device.raw().cmd_write_timestamp2(cmd, stage, self.raw, frame as u32 * PER_FRAME + index) };
    }

    /// Milliseconds between timestamps `from` and `to` of frame slot `frame`, whose
    /// submission has completed (its fence was waited on).
    pub fn elapsed_ms(&self, frame: usize, from: u32, to: u32) -> Result<Option<f64>> {
        debug_assert!((frame as u32) < self.frames);
        let mut data = [[0u64; 2]; PER_FRAME as usize];
        // SAFETY: the queries of this frame slot were written by a completed submission.
        let got = unsafe {
            self.device.raw().get_query_pool_results(
                self.raw,
                frame as u32 * PER_FRAME,
                &mut data,
                vk::QueryResultFlags::TYPE_64 | vk::QueryResultFlags::WITH_AVAILABILITY,
            )
        };
        match got {
            Ok(()) | Err(vk::Result::NOT_READY) => {}
            Err(e) => return Err(e).context("vkGetQueryPoolResults (timestamps)"),
        }
        let [a, b] = [from, to].map(|i| data[i as usize]);
        if a[1] == 0 || b[1] == 0 {
            return Ok(None);
        }
        let ticks = (b[0] & self.valid_mask).wrapping_sub(a[0] & self.valid_mask) & self.valid_mask;
        Ok(Some(ticks as f64 * self.period_ns / 1e6))
    }
}

impl Drop for TimestampPool {
    fn drop(&mut self) {
        // SAFETY: the owner waited for the device before dropping.
        unsafe { self.device.raw().destroy_query_pool(self.raw, None) };
    }
}
