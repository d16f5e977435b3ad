//! `host`: no semaphores shared between the APIs, for runtimes that cannot import them
//! (HIP on AMD/Linux). The CPU is the go-between:
//!
//! - heights ready: a HIP event recorded after the kernel; the CPU waits for it just
//!   before submitting the frame, while Vulkan may still be drawing the previous frame;
//! - slot free: the renderer already waited for frame `f−K`'s fence before frame `f`.
//!
//! Unlike the ROCm example's `vkQueueWaitIdle` + `hipStreamSynchronize` every frame, only
//! the one slot about to be used is waited for, so the two APIs still overlap.

use anyhow::{Context, Result};

use super::{SyncKind, SyncStrategy};
use crate::hip;
use crate::interop::source::SubmitSync;

pub struct HostSync {
    /// Recorded by HIP after the kernel writing slot `s`; waited on by the CPU.
    written: Vec<hip::Event>,
}

impl HostSync {
    pub fn new(hip: &hip::Hip, frames_in_flight: usize) -> Result<Self> {
        let written = (0..frames_in_flight)
            .map(|_| hip::Event::new(hip, false).context("hipEventCreate for the host strategy"))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { written })
    }
}

impl SyncStrategy for HostSync {
    fn kind(&self) -> SyncKind {
        SyncKind::Host
    }

    fn before_write(&mut self, _stream: &hip::Stream, _frame: u64, _slot: usize) -> Result<()> {
        // The renderer waited for the fence of frame f−K, the slot's last reader.
        Ok(())
    }

    fn after_write(&mut self, stream: &hip::Stream, _frame: u64, slot: usize, _sync: &mut SubmitSync) -> Result<()> {
        let event = &self.written[slot];
        event.record(stream).context("recording the 'heights written' event")?;
        // Vulkan may read the slot only once the kernel is done.
        event.synchronize().context("waiting for the HIP kernel")?;
        Ok(())
    }
}
