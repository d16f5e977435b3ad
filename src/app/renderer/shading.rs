//! The descriptors of `--shading image`: a linear, clamped sampler and one descriptor set
//! per height slot naming that slot's shading image (`GridPipeline::set_layout`).

use std::sync::Arc;

use anyhow::{Context, Result};
use ash::vk;

use crate::interop::normal_images::NormalImages;
use crate::vulkan::Device;

/// The sampler, the pool and slot `i`'s set at index `i`.
pub struct ShadingSets {
    device: Arc<Device>,
    sampler: vk::Sampler,
    pool: vk::DescriptorPool,
    /// Slot `i`'s set at index `i` (freed with the pool).
    pub sets: Vec<vk::DescriptorSet>,
    /// Counts this object in the live-object registry (leak tests).
    _live: crate::vulkan::live::Tracked,
}

impl ShadingSets {
    /// One set per image of `images`, laid out as `set_layout`.
    pub fn new(device: &Arc<Device>, set_layout: vk::DescriptorSetLayout, images: &NormalImages) -> Result<Self> {
        let _live = crate::vulkan::live::Tracked::new("ShadingSets")?;
        let count = images.images.len() as u32;
        let mut this = Self {
            device: device.clone(),
            sampler: vk::Sampler::null(),
            pool: vk::DescriptorPool::null(),
            sets: Vec::new(),
            _live,
        };
        let sampler_info = vk::SamplerCreateInfo::default()
            .mag_filter(vk::Filter::LINEAR)
            .min_filter(vk::Filter::LINEAR)
            .mipmap_mode(vk::SamplerMipmapMode::NEAREST)
            .address_mode_u(vk::SamplerAddressMode::CLAMP_TO_EDGE)
            .address_mode_v(vk::SamplerAddressMode::CLAMP_TO_EDGE)
            .address_mode_w(vk::SamplerAddressMode::CLAMP_TO_EDGE)
            .max_lod(0.0);
        // SAFETY: valid create info.
        this.sampler = unsafe { device.raw().create_sampler(&sampler_info, None) }
            .context("vkCreateSampler failed (shading image)")?;
        let sizes = [
            vk::DescriptorPoolSize { ty: vk::DescriptorType::SAMPLED_IMAGE, descriptor_count: count },
            vk::DescriptorPoolSize { ty: vk::DescriptorType::SAMPLER, descriptor_count: count },
        ];
        // SAFETY: valid create info.
        this.pool = unsafe {
            device.raw().create_descriptor_pool(
                &vk::DescriptorPoolCreateInfo::default().max_sets(count).pool_sizes(&sizes),
                None,
            )
        }
        .context("vkCreateDescriptorPool failed (shading image)")?;
        let layouts = vec![set_layout; count as usize];
        // SAFETY: the pool has room for one set per slot.
        this.sets = unsafe {
            device.raw().allocate_descriptor_sets(
                &vk::DescriptorSetAllocateInfo::default().descriptor_pool(this.pool).set_layouts(&layouts),
            )
        }
        .context("vkAllocateDescriptorSets failed (shading image)")?;
        for (set, image) in this.sets.iter().zip(&images.images) {
            let image_info = [vk::DescriptorImageInfo::default()
                .image_view(image.view())
                .image_layout(vk::ImageLayout::SHADER_READ_ONLY_OPTIMAL)];
            let sampler_info = [vk::DescriptorImageInfo::default().sampler(this.sampler)];
            let writes = [
                vk::WriteDescriptorSet::default()
                    .dst_set(*set)
                    .dst_binding(0)
                    .descriptor_type(vk::DescriptorType::SAMPLED_IMAGE)
                    .image_info(&image_info),
                vk::WriteDescriptorSet::default()
                    .dst_set(*set)
                    .dst_binding(1)
                    .descriptor_type(vk::DescriptorType::SAMPLER)
                    .image_info(&sampler_info),
            ];
            // SAFETY: the set is not in use; the view and sampler are live objects of
            // this device; the image is in SHADER_READ_ONLY_OPTIMAL whenever a draw samples it.
            unsafe { device.raw().update_descriptor_sets(&writes, &[]) };
        }
        Ok(this)
    }
}

impl Drop for ShadingSets {
    fn drop(&mut self) {
        // SAFETY: the renderer idles the device before dropping this; null handles (a
        // failed creation) are ignored; the sets go with their pool.
        unsafe {
            self.device.raw().destroy_descriptor_pool(self.pool, None);
            self.device.raw().destroy_sampler(self.sampler, None);
        }
    }
}
