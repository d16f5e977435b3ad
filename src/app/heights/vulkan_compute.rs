//! The sinewave in a Vulkan compute shader (`shaders/sinewave.comp`): no HIP, no interop.
//! The baseline a user would pick instead, which the interop path is measured against.

use std::sync::Arc;

use anyhow::{Context, Result};
use ash::vk;

use crate::interop::source::{FrameHeights, HeightSource, SubmitSync};
use crate::interop::{acquire_from_external, make_visible_to_vertex_input, HeightSlots};
use crate::vulkan::Device;

const SINEWAVE_COMP: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/sinewave.comp.spv"));
/// `local_size_x` of the shader.
const GROUP_WIDTH: u32 = 256;
/// Rows per workgroup (`ROWS` in the shader).
const GROUP_ROWS: u32 = 32;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Push {
    width: u32,
    height: u32,
    time: f32,
}

pub struct ComputeHeights {
    device: Arc<Device>,
    set_layout: vk::DescriptorSetLayout,
    layout: vk::PipelineLayout,
    pipeline: vk::Pipeline,
    pool: vk::DescriptorPool,
    /// One descriptor set per slot, pointing at that slot's buffer.
    sets: Vec<vk::DescriptorSet>,
    /// Counts this object in the live-object registry (leak tests).
    _live: crate::vulkan::live::Tracked,
}

impl ComputeHeights {
    pub fn new(device: &Arc<Device>, slots: &HeightSlots) -> Result<Self> {
        let _live = crate::vulkan::live::Tracked::new("ComputeHeights")?;
        let d = &device.raw();
        let mut this = Self {
            _live,
            device: device.clone(),
            set_layout: vk::DescriptorSetLayout::null(),
            layout: vk::PipelineLayout::null(),
            pipeline: vk::Pipeline::null(),
            pool: vk::DescriptorPool::null(),
            sets: Vec::new(),
        };
        let bindings = [vk::DescriptorSetLayoutBinding::default()
            .binding(0)
            .descriptor_type(vk::DescriptorType::STORAGE_BUFFER)
            .descriptor_count(1)
            .stage_flags(vk::ShaderStageFlags::COMPUTE)];
        // SAFETY: valid create infos on a live device; each handle is stored in `this`
        // right away so Drop frees it if a later step fails.
        unsafe {
            this.set_layout = d
                .create_descriptor_set_layout(&vk::DescriptorSetLayoutCreateInfo::default().bindings(&bindings), None)
                .context("vkCreateDescriptorSetLayout (compute heights)")?;
            let push = [vk::PushConstantRange::default()
                .stage_flags(vk::ShaderStageFlags::COMPUTE)
                .size(std::mem::size_of::<Push>() as u32)];
            let set_layouts = [this.set_layout];
            this.layout = d
                .create_pipeline_layout(
                    &vk::PipelineLayoutCreateInfo::default().set_layouts(&set_layouts).push_constant_ranges(&push),
                    None,
                )
                .context("vkCreatePipelineLayout (compute heights)")?;
        }
        let words =
            ash::util::read_spv(&mut std::io::Cursor::new(SINEWAVE_COMP)).context("sinewave.comp is not SPIR-V")?;
        // SAFETY: SPIR-V produced and validated by naga at build time.
        let module = unsafe { d.create_shader_module(&vk::ShaderModuleCreateInfo::default().code(&words), None) }
            .context("vkCreateShaderModule (sinewave.comp)")?;
        let stage = vk::PipelineShaderStageCreateInfo::default()
            .stage(vk::ShaderStageFlags::COMPUTE)
            .module(module)
            .name(c"main");
        let info = vk::ComputePipelineCreateInfo::default().stage(stage).layout(this.layout);
        // SAFETY: the module and layout are alive; the module may be destroyed right after.
        let created = unsafe { d.create_compute_pipelines(vk::PipelineCache::null(), &[info], None) };
        // SAFETY: no longer needed once the pipeline exists (or failed).
        unsafe { d.destroy_shader_module(module, None) };
        this.pipeline = created.map_err(|(_, e)| e).context("vkCreateComputePipelines (sinewave.comp)")?[0];

        let count = slots.len() as u32;
        let sizes = [vk::DescriptorPoolSize { ty: vk::DescriptorType::STORAGE_BUFFER, descriptor_count: count }];
        // SAFETY: valid create info.
        this.pool = unsafe {
            d.create_descriptor_pool(&vk::DescriptorPoolCreateInfo::default().max_sets(count).pool_sizes(&sizes), None)
        }
        .context("vkCreateDescriptorPool (compute heights)")?;
        let layouts = vec![this.set_layout; slots.len()];
        // SAFETY: the pool has room for one set per slot.
        this.sets = unsafe {
            d.allocate_descriptor_sets(
                &vk::DescriptorSetAllocateInfo::default().descriptor_pool(this.pool).set_layouts(&layouts),
            )
        }
        .context("vkAllocateDescriptorSets (compute heights)")?;
        for (set, buffer) in this.sets.iter().zip(&slots.buffers) {
            let info = [vk::DescriptorBufferInfo { buffer: buffer.raw(), offset: 0, range: vk::WHOLE_SIZE }];
            let write = vk::WriteDescriptorSet::default()
                .dst_set(*set)
                .dst_binding(0)
                .descriptor_type(vk::DescriptorType::STORAGE_BUFFER)
                .buffer_info(&info);
            // SAFETY: the set is not in use; the buffer has STORAGE_BUFFER usage.
            unsafe { d.update_descriptor_sets(&[write], &[]) };
        }
        Ok(this)
    }
}

impl HeightSource for ComputeHeights {
    fn name(&self) -> &str {
        "vulkan-compute"
    }

    fn produce(&mut self, frame: &FrameHeights<'_>, _sync: &mut SubmitSync) -> Result<()> {
        let d = &self.device;
        let buffer = frame.slots.buffers[frame.slot].raw();
        let push = Push { width: frame.slots.width, height: frame.slots.height, time: frame.time };
        // SAFETY: the frame's command buffer is recording; the slot buffer lives until the renderer idles.
        unsafe {
            acquire_from_external(
                d,
                frame.cmd,
                buffer,
                vk::PipelineStageFlags2::COMPUTE_SHADER,
                vk::AccessFlags2::SHADER_STORAGE_WRITE,
            )
        };
        // SAFETY: cmd is recording; pipeline, layout and set are alive; the dispatch
        // covers width × height with a bounds check in the shader.
        unsafe {
            d.raw().cmd_bind_pipeline(frame.cmd, vk::PipelineBindPoint::COMPUTE, self.pipeline);
            d.raw().cmd_bind_descriptor_sets(
                frame.cmd,
                vk::PipelineBindPoint::COMPUTE,
                self.layout,
                0,
                &[self.sets[frame.slot]],
                &[],
            );
            d.raw().cmd_push_constants(
                frame.cmd,
                self.layout,
                vk::ShaderStageFlags::COMPUTE,
                0,
                bytemuck::bytes_of(&push),
            );
            d.raw().cmd_dispatch(frame.cmd, push.width.div_ceil(GROUP_WIDTH), push.height.div_ceil(GROUP_ROWS), 1);
        }
        // SAFETY: as above.
        unsafe {
            make_visible_to_vertex_input(
                d,
                frame.cmd,
                buffer,
                vk::PipelineStageFlags2::COMPUTE_SHADER,
                vk::AccessFlags2::SHADER_STORAGE_WRITE,
            )
        };
        Ok(())
    }
}

impl Drop for ComputeHeights {
    fn drop(&mut self) {
        // SAFETY: the renderer idled the device before dropping its source; null handles
        // (from a failed construction) are ignored. Sets are freed with their pool.
        unsafe {
            let d = &self.device.raw();
            d.destroy_pipeline(self.pipeline, None);
            d.destroy_descriptor_pool(self.pool, None);
            d.destroy_pipeline_layout(self.layout, None);
            d.destroy_descriptor_set_layout(self.set_layout, None);
        }
    }
}
