//! `serial`: one slot, strictly alternating — the scheme of the ROCm interop docs, kept
//! as the baseline the pipelined strategies are measured against. HIP writes and the CPU
//! waits for the stream; Vulkan draws and the CPU waits for the device to idle.

use std::sync::Arc;

use anyhow::{Context, Result};

use super::{SyncKind, SyncStrategy};
use crate::hip;
use crate::interop::source::SubmitSync;
use crate::vulkan::Device;

pub struct SerialSync {
    device: Arc<Device>,
}

impl SerialSync {
    pub fn new(device: &Arc<Device>) -> Self {
        Self { device: device.clone() }
    }
}

impl SyncStrategy for SerialSync {
    fn kind(&self) -> SyncKind {
        SyncKind::Serial
    }

    fn before_write(&mut self, _stream: &hip::Stream, _frame: u64, _slot: usize) -> Result<()> {
        Ok(())
    }

    fn after_write(&mut self, stream: &hip::Stream, _frame: u64, _slot: usize, _sync: &mut SubmitSync) -> Result<()> {
        stream.synchronize().context("hipStreamSynchronize after the kernel")
    }

    fn after_submit(&mut self, _frame: u64, _slot: usize) -> Result<()> {
        self.device.wait_idle().context("vkDeviceWaitIdle after the draw")
    }
}
