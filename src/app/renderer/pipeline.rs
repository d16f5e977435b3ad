//! The grid pipeline: shaders compiled to SPIR-V at build time, one pipeline for filled
//! triangles and (where the device allows) one for wireframe.

use std::sync::Arc;

use anyhow::{Context, Result};
use ash::vk;
use glam::Mat4;

use super::image::DEPTH_FORMAT;
use crate::vulkan::device::Device;

const GRID_VERT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/grid.vert.spv"));
const GRID_FRAG: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/grid.frag.spv"));
const GRID_IMAGE_FRAG: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/grid_image.frag.spv"));

/// The push constants of `shaders/grid.vert`, byte for byte.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct GridPushConstants {
    pub view_proj: [f32; 16],
    /// x: height scale.
    pub params: [f32; 4],
}

impl GridPushConstants {
    pub fn new(view_proj: Mat4, height_scale: f32) -> Self {
        Self { view_proj: view_proj.to_cols_array(), params: [height_scale, 0.0, 0.0, 0.0] }
    }
}

/// Filled and wireframe grid pipelines for one colour format, each with the vertex
/// shading (`grid.frag`) and the image shading (`grid_image.frag`, set 0: the slot's
/// shading image and a sampler). One layout serves all four.
pub struct GridPipeline {
    device: Arc<Device>,
    pub layout: vk::PipelineLayout,
    /// Set 0 of the image-shaded pipelines: binding 0 the shading image (sampled), binding
    /// 1 its sampler (separate: naga's GLSL front end has no combined samplers).
    pub set_layout: vk::DescriptorSetLayout,
    pub fill: vk::Pipeline,
    /// `None` when the device lacks `fillModeNonSolid`.
    pub wireframe: Option<vk::Pipeline>,
    /// `fill` with image shading.
    pub fill_image: vk::Pipeline,
    /// `wireframe` with image shading.
    pub wireframe_image: Option<vk::Pipeline>,
    pub color_format: vk::Format,
    /// Counts this object in the live-object registry (leak tests).
    _live: crate::vulkan::live::Tracked,
}

impl GridPipeline {
    pub fn new(device: &Arc<Device>, color_format: vk::Format) -> Result<Self> {
        let _live = crate::vulkan::live::Tracked::new("GridPipeline")?;
        let bindings = [
            vk::DescriptorSetLayoutBinding::default()
                .binding(0)
                .descriptor_type(vk::DescriptorType::SAMPLED_IMAGE)
                .descriptor_count(1)
                .stage_flags(vk::ShaderStageFlags::FRAGMENT),
            vk::DescriptorSetLayoutBinding::default()
                .binding(1)
                .descriptor_type(vk::DescriptorType::SAMPLER)
                .descriptor_count(1)
                .stage_flags(vk::ShaderStageFlags::FRAGMENT),
        ];
        // SAFETY: valid create info.
        let set_layout = unsafe {
            device
                .raw()
                .create_descriptor_set_layout(&vk::DescriptorSetLayoutCreateInfo::default().bindings(&bindings), None)
        }
        .context("vkCreateDescriptorSetLayout failed (shading image)")?;
        let mut pipeline = Self {
            device: device.clone(),
            layout: vk::PipelineLayout::null(),
            set_layout,
            fill: vk::Pipeline::null(),
            wireframe: None,
            fill_image: vk::Pipeline::null(),
            wireframe_image: None,
            color_format,
            _live,
        };
        let push = [vk::PushConstantRange::default()
            .stage_flags(vk::ShaderStageFlags::VERTEX)
            .offset(0)
            .size(std::mem::size_of::<GridPushConstants>() as u32)];
        let set_layouts = [set_layout];
        let layout_info = vk::PipelineLayoutCreateInfo::default().set_layouts(&set_layouts).push_constant_ranges(&push);
        // SAFETY: valid create info.
        pipeline.layout = unsafe { device.raw().create_pipeline_layout(&layout_info, None) }
            .context("vkCreatePipelineLayout failed")?;

        let layout = pipeline.layout;
        let vert = ShaderModule::new(device, GRID_VERT, "grid.vert")?;
        let frag = ShaderModule::new(device, GRID_FRAG, "grid.frag")?;
        let frag_image = ShaderModule::new(device, GRID_IMAGE_FRAG, "grid_image.frag")?;
        pipeline.fill = create(device, layout, color_format, &vert, &frag, vk::PolygonMode::FILL)?;
        pipeline.fill_image = create(device, layout, color_format, &vert, &frag_image, vk::PolygonMode::FILL)?;
        if device.wireframe_supported {
            pipeline.wireframe = Some(create(device, layout, color_format, &vert, &frag, vk::PolygonMode::LINE)?);
            pipeline.wireframe_image =
                Some(create(device, layout, color_format, &vert, &frag_image, vk::PolygonMode::LINE)?);
        }
        Ok(pipeline)
    }
}

impl Drop for GridPipeline {
    fn drop(&mut self) {
        // SAFETY: the owner waited for the GPU; null handles are ignored.
        unsafe {
            for p in
                [Some(self.fill), self.wireframe, Some(self.fill_image), self.wireframe_image].into_iter().flatten()
            {
                self.device.raw().destroy_pipeline(p, None);
            }
            self.device.raw().destroy_pipeline_layout(self.layout, None);
            self.device.raw().destroy_descriptor_set_layout(self.set_layout, None);
        }
    }
}

/// A shader module, destroyed as soon as the pipelines that use it exist.
struct ShaderModule {
    device: Arc<Device>,
    raw: vk::ShaderModule,
    /// Counts this object in the live-object registry (leak tests).
    _live: crate::vulkan::live::Tracked,
}

impl ShaderModule {
    fn new(device: &Arc<Device>, spirv: &[u8], name: &str) -> Result<Self> {
        let _live = crate::vulkan::live::Tracked::new("ShaderModule")?;
        let words =
            ash::util::read_spv(&mut std::io::Cursor::new(spirv)).with_context(|| format!("{name}: not SPIR-V"))?;
        let info = vk::ShaderModuleCreateInfo::default().code(&words);
        // SAFETY: words is SPIR-V produced and validated by naga at build time.
        let raw = unsafe { device.raw().create_shader_module(&info, None) }
            .with_context(|| format!("vkCreateShaderModule failed for {name}"))?;
        Ok(Self { device: device.clone(), raw, _live })
    }
}

impl Drop for ShaderModule {
    fn drop(&mut self) {
        // SAFETY: modules may be destroyed once pipelines are created.
        unsafe { self.device.raw().destroy_shader_module(self.raw, None) };
    }
}

fn create(
    device: &Device,
    layout: vk::PipelineLayout,
    color_format: vk::Format,
    vert: &ShaderModule,
    frag: &ShaderModule,
    polygon_mode: vk::PolygonMode,
) -> Result<vk::Pipeline> {
    let stages = [
        vk::PipelineShaderStageCreateInfo::default().stage(vk::ShaderStageFlags::VERTEX).module(vert.raw).name(c"main"),
        vk::PipelineShaderStageCreateInfo::default()
            .stage(vk::ShaderStageFlags::FRAGMENT)
            .module(frag.raw)
            .name(c"main"),
    ];
    let bindings = [
        // binding 0: static (u, v) positions
        vk::VertexInputBindingDescription { binding: 0, stride: 8, input_rate: vk::VertexInputRate::VERTEX },
        // binding 1: this frame's heights, written by HIP / the CPU / compute
        vk::VertexInputBindingDescription { binding: 1, stride: 4, input_rate: vk::VertexInputRate::VERTEX },
    ];
    let attributes = [
        vk::VertexInputAttributeDescription { location: 0, binding: 0, format: vk::Format::R32G32_SFLOAT, offset: 0 },
        vk::VertexInputAttributeDescription { location: 1, binding: 1, format: vk::Format::R32_SFLOAT, offset: 0 },
    ];
    let vertex_input = vk::PipelineVertexInputStateCreateInfo::default()
        .vertex_binding_descriptions(&bindings)
        .vertex_attribute_descriptions(&attributes);
    let assembly = vk::PipelineInputAssemblyStateCreateInfo::default()
        .topology(vk::PrimitiveTopology::TRIANGLE_STRIP)
        .primitive_restart_enable(true);
    let viewport = vk::PipelineViewportStateCreateInfo::default().viewport_count(1).scissor_count(1);
    let raster = vk::PipelineRasterizationStateCreateInfo::default()
        .polygon_mode(polygon_mode)
        .cull_mode(vk::CullModeFlags::NONE)
        .front_face(vk::FrontFace::COUNTER_CLOCKWISE)
        .line_width(1.0);
    let multisample =
        vk::PipelineMultisampleStateCreateInfo::default().rasterization_samples(vk::SampleCountFlags::TYPE_1);
    let depth = vk::PipelineDepthStencilStateCreateInfo::default()
        .depth_test_enable(true)
        .depth_write_enable(true)
        .depth_compare_op(vk::CompareOp::LESS);
    let blend_attachments =
        [vk::PipelineColorBlendAttachmentState::default().color_write_mask(vk::ColorComponentFlags::RGBA)];
    let blend = vk::PipelineColorBlendStateCreateInfo::default().attachments(&blend_attachments);
    let dynamic_states = [vk::DynamicState::VIEWPORT, vk::DynamicState::SCISSOR];
    let dynamic = vk::PipelineDynamicStateCreateInfo::default().dynamic_states(&dynamic_states);
    let color_formats = [color_format];
    let mut rendering = vk::PipelineRenderingCreateInfo::default()
        .color_attachment_formats(&color_formats)
        .depth_attachment_format(DEPTH_FORMAT);
    let info = vk::GraphicsPipelineCreateInfo::default()
        .stages(&stages)
        .vertex_input_state(&vertex_input)
        .input_assembly_state(&assembly)
        .viewport_state(&viewport)
        .rasterization_state(&raster)
        .multisample_state(&multisample)
        .depth_stencil_state(&depth)
        .color_blend_state(&blend)
        .dynamic_state(&dynamic)
        .layout(layout)
        .push_next(&mut rendering);
    // SAFETY: every structure referenced lives until the call returns; dynamic rendering
    // is enabled on the device.
    let pipelines = unsafe { device.raw().create_graphics_pipelines(vk::PipelineCache::null(), &[info], None) }
        .map_err(|(_, e)| e)
        .with_context(|| format!("vkCreateGraphicsPipelines failed ({polygon_mode:?})"))?;
    Ok(pipelines[0])
}
