//! The CPU reference as a height source: computes the sinewave on the CPU into a
//! host-visible staging buffer per slot and records a copy into the slot.
//! Works on any Vulkan device; it is the baseline that the renderer tests use. With
//! shading images it computes the normals too and copies them into the slot's image (the
//! same Vulkan path as HIP's copy fallback).

use std::sync::Arc;

use anyhow::Result;
use ash::vk;

use crate::interop::normal_images::NORMAL_TEXEL_BYTES;
use crate::interop::record_staging_upload;
use crate::interop::source::{FrameHeights, HeightSource, SubmitSync};
use crate::vulkan::memory::Buffer;
use crate::vulkan::Device;

pub struct CpuHeights {
    device: Arc<Device>,
    /// One staging buffer per slot: staging `i` is only rewritten once the frame that
    /// last copied from it has finished (the renderer waits for that frame's fence).
    staging: Vec<Buffer>,
    scratch: Vec<f32>,
    /// With shading images: one staging buffer of normals per slot (made on first use),
    /// under the same reuse rule as `staging`.
    normal_staging: Vec<Buffer>,
    normal_scratch: Vec<[half::f16; 4]>,
}

impl CpuHeights {
    pub fn new(device: &Arc<Device>, width: u32, height: u32, slots: usize) -> Result<Self> {
        let bytes = u64::from(width) * u64::from(height) * 4;
        let staging = (0..slots)
            .map(|i| {
                Buffer::host_visible(device, bytes, vk::BufferUsageFlags::TRANSFER_SRC, &format!("height staging {i}"))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            device: device.clone(),
            staging,
            scratch: vec![0.0; (u64::from(width) * u64::from(height)) as usize],
            normal_staging: Vec::new(),
            normal_scratch: Vec::new(),
        })
    }
}

impl CpuHeights {
    /// The device it uploads on.
    pub fn device(&self) -> &Arc<Device> {
        &self.device
    }
}

impl HeightSource for CpuHeights {
    fn name(&self) -> &str {
        "cpu"
    }

    fn produce(&mut self, frame: &FrameHeights<'_>, _sync: &mut SubmitSync) -> Result<()> {
        let slots = frame.slots;
        crate::sinewave::fill(&mut self.scratch, slots.width, slots.height, frame.time);
        let staging = &mut self.staging[frame.slot];
        staging.write(&self.scratch)?;

        // The renderer waited for the fence of the frame that last read this staging buffer.
        // SAFETY: the frame's command buffer is recording; the staging buffer of this slot holds the heights and is rewritten only after the frame that read it completed; the buffers live until the renderer idles.
        unsafe { record_staging_upload(&self.device, frame.cmd, staging.raw(), slots, frame.slot) };

        if let Some(images) = &slots.normals {
            if self.normal_staging.is_empty() {
                self.normal_staging = (0..images.images.len())
                    .map(|i| {
                        Buffer::host_visible(
                            &self.device,
                            images.bytes(),
                            vk::BufferUsageFlags::TRANSFER_SRC,
                            &format!("normal staging {i}"),
                        )
                    })
                    .collect::<Result<Vec<_>>>()?;
                self.normal_scratch = vec![[half::f16::ZERO; 4]; (images.bytes() / NORMAL_TEXEL_BYTES) as usize];
            }
            crate::sinewave::fill_normals(&mut self.normal_scratch, slots.width, slots.height, frame.time);
            let staging = &mut self.normal_staging[frame.slot];
            staging.write(&self.normal_scratch)?;
            // SAFETY: as for the heights: recording; this slot's staging holds the normals
            // and is rewritten only after the frame that read it completed (host writes are
            // visible to the submission that follows them); both live until the renderer idles.
            unsafe { images.record_upload(frame.cmd, frame.slot, staging.raw(), vk::PipelineStageFlags2::NONE) };
        }
        Ok(())
    }

    fn writes_normals(&self) -> bool {
        true
    }
}
