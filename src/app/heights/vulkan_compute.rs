//! The sinewave in a Vulkan compute shader (`shaders/sinewave.comp`): no HIP, no interop.
//! The baseline a user would pick instead, which the interop path is measured against.
//! With shading images it writes the normals too (`shaders/normals.comp`, a storage image).

use std::sync::Arc;

use anyhow::{Context, Result};
use ash::vk;

use crate::interop::normal_images::NormalImages;
use crate::interop::source::{FrameHeights, HeightSource, SubmitSync};
use crate::interop::{acquire_from_external, make_visible_to_vertex_input, HeightSlots};
use crate::vulkan::Device;

const SINEWAVE_COMP: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/sinewave.comp.spv"));
const NORMALS_COMP: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/normals.comp.spv"));
/// `local_size_x` of sinewave.comp.
const GROUP_WIDTH: u32 = 256;
/// Rows per workgroup (`ROWS` in sinewave.comp).
const GROUP_ROWS: u32 = 32;
/// `local_size_x` and `local_size_y` of normals.comp.
const NORMALS_GROUP: u32 = 16;

/// The push constants of both shaders.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Push {
    width: u32,
    height: u32,
    time: f32,
}

/// One compute pipeline whose set 0 binding 0 is a per-slot resource, and a descriptor set
/// per slot. Every handle is freed on drop (null ones, from a failed construction, are
/// ignored).
struct ComputePass {
    device: Arc<Device>,
    set_layout: vk::DescriptorSetLayout,
    layout: vk::PipelineLayout,
    pipeline: vk::Pipeline,
    pool: vk::DescriptorPool,
    /// Slot `i`'s set at index `i`.
    sets: Vec<vk::DescriptorSet>,
}

impl ComputePass {
    /// Builds the pass for `spirv` (`name` in errors) with `slots` sets of one `ty`
    /// descriptor each; `write(set, slot)` fills slot `slot`'s.
    fn new(
        device: &Arc<Device>,
        spirv: &[u8],
        name: &str,
        ty: vk::DescriptorType,
        slots: usize,
        write: impl Fn(vk::DescriptorSet, usize),
    ) -> Result<Self> {
        let d = &device.raw();
        let mut this = Self {
            device: device.clone(),
            set_layout: vk::DescriptorSetLayout::null(),
            layout: vk::PipelineLayout::null(),
            pipeline: vk::Pipeline::null(),
            pool: vk::DescriptorPool::null(),
            sets: Vec::new(),
        };
        let bindings = [vk::DescriptorSetLayoutBinding::default()
            .binding(0)
            .descriptor_type(ty)
            .descriptor_count(1)
            .stage_flags(vk::ShaderStageFlags::COMPUTE)];
        // SAFETY: valid create infos on a live device; each handle is stored in `this`
        // right away so Drop frees it if a later step fails.
        unsafe {
            this.set_layout = d
                .create_descriptor_set_layout(&vk::DescriptorSetLayoutCreateInfo::default().bindings(&bindings), None)
                .with_context(|| format!("vkCreateDescriptorSetLayout ({name})"))?;
            let push = [vk::PushConstantRange::default()
                .stage_flags(vk::ShaderStageFlags::COMPUTE)
                .size(std::mem::size_of::<Push>() as u32)];
            let set_layouts = [this.set_layout];
            this.layout = d
                .create_pipeline_layout(
                    &vk::PipelineLayoutCreateInfo::default().set_layouts(&set_layouts).push_constant_ranges(&push),
                    None,
                )
                .with_context(|| format!("vkCreatePipelineLayout ({name})"))?;
        }
        let words =
            ash::util::read_spv(&mut std::io::Cursor::new(spirv)).with_context(|| format!("{name} is not SPIR-V"))?;
        // SAFETY: SPIR-V produced and validated by naga at build time.
        let module = unsafe { d.create_shader_module(&vk::ShaderModuleCreateInfo::default().code(&words), None) }
            .with_context(|| format!("vkCreateShaderModule ({name})"))?;
        let stage = vk::PipelineShaderStageCreateInfo::default()
            .stage(vk::ShaderStageFlags::COMPUTE)
            .module(module)
            .name(c"main");
        let info = vk::ComputePipelineCreateInfo::default().stage(stage).layout(this.layout);
        // SAFETY: the module and layout are alive; the module may be destroyed right after.
        let created = unsafe { d.create_compute_pipelines(vk::PipelineCache::null(), &[info], None) };
        // SAFETY: no longer needed once the pipeline exists (or failed).
        unsafe { d.destroy_shader_module(module, None) };
        this.pipeline = created.map_err(|(_, e)| e).with_context(|| format!("vkCreateComputePipelines ({name})"))?[0];

        let count = slots as u32;
        let sizes = [vk::DescriptorPoolSize { ty, descriptor_count: count }];
        // SAFETY: valid create info.
        this.pool = unsafe {
            d.create_descriptor_pool(&vk::DescriptorPoolCreateInfo::default().max_sets(count).pool_sizes(&sizes), None)
        }
        .with_context(|| format!("vkCreateDescriptorPool ({name})"))?;
        let layouts = vec![this.set_layout; slots];
        // SAFETY: the pool has room for one set per slot.
        this.sets = unsafe {
            d.allocate_descriptor_sets(
                &vk::DescriptorSetAllocateInfo::default().descriptor_pool(this.pool).set_layouts(&layouts),
            )
        }
        .with_context(|| format!("vkAllocateDescriptorSets ({name})"))?;
        for (slot, set) in this.sets.iter().enumerate() {
            write(*set, slot);
        }
        Ok(this)
    }

    /// Records the dispatch of `groups` workgroups on `slot`'s set.
    ///
    /// # Safety
    /// `cmd` is a command buffer of this device in the recording state; the slot's
    /// resource is alive and in the state the shader expects, until the command buffer has
    /// completed; `slot < sets.len()`.
    unsafe fn record(&self, cmd: vk::CommandBuffer, slot: usize, push: &Push, groups: [u32; 2]) {
        let d = self.device.raw();
        // SAFETY: the caller's contract; pipeline, layout and set are alive.
        unsafe {
            d.cmd_bind_pipeline(cmd, vk::PipelineBindPoint::COMPUTE, self.pipeline);
            d.cmd_bind_descriptor_sets(cmd, vk::PipelineBindPoint::COMPUTE, self.layout, 0, &[self.sets[slot]], &[]);
            d.cmd_push_constants(cmd, self.layout, vk::ShaderStageFlags::COMPUTE, 0, bytemuck::bytes_of(push));
            d.cmd_dispatch(cmd, groups[0], groups[1], 1);
        }
    }
}

impl Drop for ComputePass {
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

/// The compute-shader height source: heights, and normals where the slots have shading
/// images.
pub struct ComputeHeights {
    device: Arc<Device>,
    heights: ComputePass,
    normals: Option<ComputePass>,
    /// Counts this object in the live-object registry (leak tests).
    _live: crate::vulkan::live::Tracked,
}

impl ComputeHeights {
    pub fn new(device: &Arc<Device>, slots: &HeightSlots) -> Result<Self> {
        let _live = crate::vulkan::live::Tracked::new("ComputeHeights")?;
        let d = device.raw();
        let heights = ComputePass::new(
            device,
            SINEWAVE_COMP,
            "sinewave.comp",
            vk::DescriptorType::STORAGE_BUFFER,
            slots.len(),
            {
                |set, slot| {
                    let info = [vk::DescriptorBufferInfo {
                        buffer: slots.buffers[slot].raw(),
                        offset: 0,
                        range: vk::WHOLE_SIZE,
                    }];
                    let write = vk::WriteDescriptorSet::default()
                        .dst_set(set)
                        .dst_binding(0)
                        .descriptor_type(vk::DescriptorType::STORAGE_BUFFER)
                        .buffer_info(&info);
                    // SAFETY: the set is not in use; the buffer has STORAGE_BUFFER usage.
                    unsafe { d.update_descriptor_sets(&[write], &[]) };
                }
            },
        )?;
        let normals = slots.normals.as_ref().map(|images| compute_normals(device, images)).transpose()?;
        Ok(Self { device: device.clone(), heights, normals, _live })
    }
}

/// The normals pass: set `i` names shading image `i` as a storage image (in `GENERAL`).
fn compute_normals(device: &Arc<Device>, images: &NormalImages) -> Result<ComputePass> {
    let d = device.raw();
    ComputePass::new(device, NORMALS_COMP, "normals.comp", vk::DescriptorType::STORAGE_IMAGE, images.images.len(), {
        |set, slot| {
            let info = [vk::DescriptorImageInfo::default()
                .image_view(images.images[slot].view())
                .image_layout(vk::ImageLayout::GENERAL)];
            let write = vk::WriteDescriptorSet::default()
                .dst_set(set)
                .dst_binding(0)
                .descriptor_type(vk::DescriptorType::STORAGE_IMAGE)
                .image_info(&info);
            // SAFETY: the set is not in use; the image has STORAGE usage and is in GENERAL
            // whenever the pass writes it.
            unsafe { d.update_descriptor_sets(&[write], &[]) };
        }
    })
}

impl HeightSource for ComputeHeights {
    fn name(&self) -> &str {
        "vulkan-compute"
    }

    fn produce(&mut self, frame: &FrameHeights<'_>, _sync: &mut SubmitSync) -> Result<()> {
        let d = &self.device;
        let buffer = frame.slots.buffers[frame.slot].raw();
        let push = Push { width: frame.slots.width, height: frame.slots.height, time: frame.time };
        let (compute, write) = (vk::PipelineStageFlags2::COMPUTE_SHADER, vk::AccessFlags2::SHADER_STORAGE_WRITE);
        // SAFETY: the frame's command buffer is recording; the slot buffer lives until the
        // renderer idles; the dispatch covers width × height with a bounds check in the shader.
        unsafe {
            acquire_from_external(d, frame.cmd, buffer, compute, write);
            self.heights.record(
                frame.cmd,
                frame.slot,
                &push,
                [push.width.div_ceil(GROUP_WIDTH), push.height.div_ceil(GROUP_ROWS)],
            );
            make_visible_to_vertex_input(d, frame.cmd, buffer, compute, write);
        }
        if let (Some(pass), Some(images)) = (&self.normals, &frame.slots.normals) {
            let groups = [push.width.div_ceil(NORMALS_GROUP), push.height.div_ceil(NORMALS_GROUP)];
            // SAFETY: as above; the image is acquired into GENERAL for the storage writes and
            // then made readable by the fragment shader (the writes_normals contract).
            unsafe {
                images.record_acquire_for_compute(frame.cmd, frame.slot);
                pass.record(frame.cmd, frame.slot, &push, groups);
                images.record_compute_written(frame.cmd, frame.slot);
            }
        }
        Ok(())
    }

    fn writes_normals(&self) -> bool {
        self.normals.is_some()
    }
}
