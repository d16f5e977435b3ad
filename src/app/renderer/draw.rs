//! Recording of one frame's draw: the grid pipeline over the mesh and the slot's heights,
//! into the offscreen target or the swapchain image, with the layout transitions around it.

use ash::vk;

use super::image::full_range;
use super::pipeline::GridPushConstants;
use super::{Renderer, CLEAR_COLOR, HEIGHT_SCALE};
use crate::app::camera::OrbitCamera;

impl Renderer {
    /// Records the frame's rendering pass: the grid, then `overlay` (if any) on top.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn record_draw(
        &self,
        cmd: vk::CommandBuffer,
        camera: &OrbitCamera,
        slot: usize,
        color: (vk::Image, vk::ImageView),
        depth: (vk::Image, vk::ImageView),
        extent: vk::Extent2D,
        final_layout: vk::ImageLayout,
        overlay: Option<&mut (dyn super::FrameOverlay + 'static)>,
    ) -> anyhow::Result<()> {
        let d = &self.device.raw();
        let to_attachment = [
            vk::ImageMemoryBarrier2::default()
                .src_stage_mask(vk::PipelineStageFlags2::COLOR_ATTACHMENT_OUTPUT)
                .src_access_mask(vk::AccessFlags2::NONE)
                .dst_stage_mask(vk::PipelineStageFlags2::COLOR_ATTACHMENT_OUTPUT)
                .dst_access_mask(vk::AccessFlags2::COLOR_ATTACHMENT_WRITE)
                .old_layout(vk::ImageLayout::UNDEFINED)
                .new_layout(vk::ImageLayout::COLOR_ATTACHMENT_OPTIMAL)
                .image(color.0)
                .subresource_range(full_range(vk::ImageAspectFlags::COLOR)),
            vk::ImageMemoryBarrier2::default()
                .src_stage_mask(
                    vk::PipelineStageFlags2::EARLY_FRAGMENT_TESTS | vk::PipelineStageFlags2::LATE_FRAGMENT_TESTS,
                )
                .src_access_mask(vk::AccessFlags2::DEPTH_STENCIL_ATTACHMENT_WRITE)
                .dst_stage_mask(
                    vk::PipelineStageFlags2::EARLY_FRAGMENT_TESTS | vk::PipelineStageFlags2::LATE_FRAGMENT_TESTS,
                )
                .dst_access_mask(
                    vk::AccessFlags2::DEPTH_STENCIL_ATTACHMENT_WRITE | vk::AccessFlags2::DEPTH_STENCIL_ATTACHMENT_READ,
                )
                .old_layout(vk::ImageLayout::UNDEFINED)
                .new_layout(vk::ImageLayout::DEPTH_ATTACHMENT_OPTIMAL)
                .image(depth.0)
                .subresource_range(full_range(vk::ImageAspectFlags::DEPTH)),
        ];
        let color_attachment = [vk::RenderingAttachmentInfo::default()
            .image_view(color.1)
            .image_layout(vk::ImageLayout::COLOR_ATTACHMENT_OPTIMAL)
            .load_op(vk::AttachmentLoadOp::CLEAR)
            .store_op(vk::AttachmentStoreOp::STORE)
            .clear_value(vk::ClearValue { color: vk::ClearColorValue { float32: CLEAR_COLOR } })];
        let depth_attachment = vk::RenderingAttachmentInfo::default()
            .image_view(depth.1)
            .image_layout(vk::ImageLayout::DEPTH_ATTACHMENT_OPTIMAL)
            .load_op(vk::AttachmentLoadOp::CLEAR)
            .store_op(vk::AttachmentStoreOp::DONT_CARE)
            .clear_value(vk::ClearValue { depth_stencil: vk::ClearDepthStencilValue { depth: 1.0, stencil: 0 } });
        let area = vk::Rect2D { offset: vk::Offset2D::default(), extent };
        let rendering = vk::RenderingInfo::default()
            .render_area(area)
            .layer_count(1)
            .color_attachments(&color_attachment)
            .depth_attachment(&depth_attachment);
        let viewport = vk::Viewport {
            x: 0.0,
            y: 0.0,
            width: extent.width as f32,
            height: extent.height as f32,
            min_depth: 0.0,
            max_depth: 1.0,
        };
        let push =
            GridPushConstants::new(camera.view_proj(extent.width as f32 / extent.height.max(1) as f32), HEIGHT_SCALE);
        let shading_set = match (&self.shading, self.image_shading) {
            (Some(sets), true) => sets.sets.get(slot).copied(),
            _ => None,
        };
        let pipeline = match (self.wireframe, shading_set.is_some()) {
            (true, false) => self.pipeline.wireframe.unwrap_or(self.pipeline.fill),
            (true, true) => self.pipeline.wireframe_image.unwrap_or(self.pipeline.fill_image),
            (false, false) => self.pipeline.fill,
            (false, true) => self.pipeline.fill_image,
        };
        // SAFETY: cmd is recording; every handle belongs to this device and is alive;
        // the height slot was made visible to vertex input, and with image shading the
        // slot's image readable by the fragment shader, by the height source.
        unsafe {
            d.cmd_pipeline_barrier2(cmd, &vk::DependencyInfo::default().image_memory_barriers(&to_attachment));
            d.cmd_begin_rendering(cmd, &rendering);
            d.cmd_bind_pipeline(cmd, vk::PipelineBindPoint::GRAPHICS, pipeline);
            if let Some(set) = shading_set {
                d.cmd_bind_descriptor_sets(cmd, vk::PipelineBindPoint::GRAPHICS, self.pipeline.layout, 0, &[set], &[]);
            }
            d.cmd_set_viewport(cmd, 0, &[viewport]);
            d.cmd_set_scissor(cmd, 0, &[area]);
            d.cmd_push_constants(cmd, self.pipeline.layout, vk::ShaderStageFlags::VERTEX, 0, bytemuck::bytes_of(&push));
            d.cmd_bind_vertex_buffers(cmd, 0, &[self.mesh.positions.raw(), self.slots.buffers[slot].raw()], &[0, 0]);
            d.cmd_bind_index_buffer(cmd, self.mesh.indices.raw(), 0, vk::IndexType::UINT32);
            d.cmd_draw_indexed(cmd, self.mesh.index_count, 1, 0, 0, 0);
        }
        let drawn = overlay.map_or(Ok(()), |overlay| overlay.record(cmd, extent, self.completed));
        // SAFETY: recording, inside the rendering begun above (ended even if the overlay failed).
        unsafe { d.cmd_end_rendering(cmd) };
        drawn?;
        if final_layout != vk::ImageLayout::COLOR_ATTACHMENT_OPTIMAL {
            let to_present = [vk::ImageMemoryBarrier2::default()
                .src_stage_mask(vk::PipelineStageFlags2::COLOR_ATTACHMENT_OUTPUT)
                .src_access_mask(vk::AccessFlags2::COLOR_ATTACHMENT_WRITE)
                .dst_stage_mask(vk::PipelineStageFlags2::NONE)
                .dst_access_mask(vk::AccessFlags2::NONE)
                .old_layout(vk::ImageLayout::COLOR_ATTACHMENT_OPTIMAL)
                .new_layout(final_layout)
                .image(color.0)
                .subresource_range(full_range(vk::ImageAspectFlags::COLOR))];
            // SAFETY: recording.
            unsafe { d.cmd_pipeline_barrier2(cmd, &vk::DependencyInfo::default().image_memory_barriers(&to_present)) };
        }
        Ok(())
    }
}
