//! The export path without HIP: a height buffer's `OPAQUE_FD` export, imported into a
//! second `VkDevice` on the same physical device, reads back what the first device wrote.

use std::sync::Arc;

use ash::vk;
use hip_vulkan_sinewave::interop::{HeightSlots, HEIGHT_BUFFER_USAGE};
use hip_vulkan_sinewave::sinewave;
use hip_vulkan_sinewave::vulkan::commands::CommandPool;
use hip_vulkan_sinewave::vulkan::device::{self, DeviceSelection};
use hip_vulkan_sinewave::vulkan::export::ImportedBuffer;
use hip_vulkan_sinewave::vulkan::memory::Buffer;
use hip_vulkan_sinewave::vulkan::{Device, Instance, InstanceOptions};

fn copy(device: &Arc<Device>, pool: &CommandPool, src: vk::Buffer, dst: vk::Buffer, size: u64) {
    pool.run_once("test copy", |cmd| {
        let barrier = [vk::MemoryBarrier2::default()
            .src_stage_mask(vk::PipelineStageFlags2::COPY)
            .src_access_mask(vk::AccessFlags2::TRANSFER_WRITE)
            .dst_stage_mask(vk::PipelineStageFlags2::HOST)
            .dst_access_mask(vk::AccessFlags2::HOST_READ)];
        // SAFETY: recording; both buffers hold `size` bytes.
        unsafe {
            device.raw().cmd_copy_buffer(cmd, src, dst, &[vk::BufferCopy { src_offset: 0, dst_offset: 0, size }]);
            device.raw().cmd_pipeline_barrier2(cmd, &vk::DependencyInfo::default().memory_barriers(&barrier));
        }
    })
    .expect("copy");
}

/// An instance (validation as asked) and `count` devices on its best physical device.
fn devices(validation: bool, count: usize) -> (Arc<Instance>, Vec<Arc<Device>>) {
    let instance = Arc::new(Instance::new(&InstanceOptions { validation, ..Default::default() }).expect("instance"));
    let physical =
        device::choose(&device::enumerate(&instance).expect("devices"), DeviceSelection::Best).expect("device");
    let devices = (0..count).map(|_| Device::new(instance.clone(), physical.clone(), None).expect("device")).collect();
    (instance, devices)
}

#[test]
fn exported_height_buffer_reads_back_in_a_second_device() {
    let (instance, mut pair) = devices(true, 2);
    let (reader, writer) = (pair.pop().expect("second device"), pair.pop().expect("first device"));

    let (w, h) = (77, 31);
    let slots = HeightSlots::new(&writer, w, h, 1).expect("height slot");
    let bytes = slots.slot_bytes();
    let mut expected = vec![0.0f32; (w * h) as usize];
    sinewave::fill(&mut expected, w, h, 2.5);

    // Device 1 writes the heights through a staging copy.
    let pool1 = CommandPool::new(&writer, vk::CommandPoolCreateFlags::empty()).expect("pool");
    let mut staging =
        Buffer::host_visible(&writer, bytes, vk::BufferUsageFlags::TRANSFER_SRC, "staging").expect("staging");
    staging.write(&expected).expect("write staging");
    copy(&writer, &pool1, staging.raw(), slots.buffers[0].raw(), bytes);

    // Device 2 imports the fd and copies the heights to its own host buffer.
    let exported = slots.export(0).expect("export fd");
    assert_eq!(exported.buffer_size, bytes);
    let imported =
        ImportedBuffer::import(&reader, exported, HEIGHT_BUFFER_USAGE).expect("import into the second device");
    let pool2 = CommandPool::new(&reader, vk::CommandPoolCreateFlags::empty()).expect("pool");
    let mut readback =
        Buffer::host_visible(&reader, bytes, vk::BufferUsageFlags::TRANSFER_DST, "readback").expect("readback");
    copy(&reader, &pool2, imported.raw(), readback.raw(), bytes);

    let got: Vec<f32> = readback
        .mapped_bytes()
        .unwrap()
        .chunks_exact(4)
        .map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    assert_eq!(got, expected, "the second device sees exactly what the first wrote");
    drop((imported, pool2, readback, pool1, staging, slots));
    assert_eq!(instance.validation_counts(), (0, 0), "validation layer messages");
}

#[test]
fn each_export_is_a_new_descriptor() {
    let (_instance, mut one) = devices(false, 1);
    let device = one.pop().expect("device");
    let slots = HeightSlots::new(&device, 16, 16, 2).expect("slots");
    let a = slots.export(0).expect("export");
    let b = slots.export(0).expect("export");
    assert_ne!(a.handle.raw(), b.handle.raw());
    assert!(a.allocation_size >= a.buffer_size && a.buffer_size == 16 * 16 * 4);
}

#[test]
fn synchronization_validation_catches_a_missing_barrier() {
    // The negative control for every "zero validation messages" assertion: a copy that
    // reads a buffer another copy just wrote, with no barrier between, must be reported.
    let (instance, mut one) = devices(true, 1);
    let device = one.pop().expect("device");
    let usage = vk::BufferUsageFlags::TRANSFER_SRC | vk::BufferUsageFlags::TRANSFER_DST;
    let a = Buffer::device_local(&device, 4096, usage, "a").expect("a");
    let b = Buffer::device_local(&device, 4096, usage, "b").expect("b");
    let c = Buffer::device_local(&device, 4096, usage, "c").expect("c");
    let pool = CommandPool::new(&device, vk::CommandPoolCreateFlags::empty()).expect("pool");
    let region = [vk::BufferCopy { src_offset: 0, dst_offset: 0, size: 4096 }];
    pool.run_once("hazard", |cmd| {
        // SAFETY: recording; all buffers hold 4096 bytes. The missing barrier is the point.
        unsafe {
            device.raw().cmd_copy_buffer(cmd, a.raw(), b.raw(), &region);
            device.raw().cmd_copy_buffer(cmd, b.raw(), c.raw(), &region);
        }
    })
    .expect("submit");
    let (errors, _) = instance.validation_counts();
    assert!(errors > 0, "synchronization validation did not report the read-after-write hazard");
}

/// A dma-buf import (`ForeignMemory::DmaBuf`, the kind ROCm's `hipMemExportToShareableHandle`
/// hands out) of an fd that is not a dma-buf (lavapipe's `OPAQUE_FD` exports are memfds)
/// fails with a message, and closes the fd: on a device without
/// `VK_EXT_external_memory_dma_buf` because of that, on one with it because
/// `vkGetMemoryFdPropertiesKHR` refuses the fd.
#[cfg(unix)]
#[test]
fn a_dma_buf_import_of_something_else_fails_cleanly_and_closes_the_fd() {
    use hip_vulkan_sinewave::shared_handle::RawHandle;
    use hip_vulkan_sinewave::vulkan::export::ForeignMemory;
    let (_instance, mut one) = devices(false, 1);
    let device = one.pop().expect("device");
    let slots = HeightSlots::new(&device, 16, 16, 1).expect("slots");
    let exported = slots.export(0).expect("export");
    let RawHandle::Fd(raw) = exported.handle.raw() else { panic!("a Linux export is an fd") };
    let path = format!("/proc/self/fd/{raw}");
    let identity = |path: &str| {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
    };
    let before = identity(&path).expect("the exported fd is open");
    // SAFETY: the fd is an OPAQUE_FD export of this device, of `allocation_size` bytes; it is
    // not a dma-buf, which is what the call must find out and refuse.
    let result = unsafe {
        ImportedBuffer::import_foreign(
            &device,
            exported.handle,
            ForeignMemory::DmaBuf,
            exported.allocation_size,
            exported.buffer_size,
            HEIGHT_BUFFER_USAGE,
            "not a dma-buf",
        )
    };
    let Err(e) = result else { panic!("a memfd was imported as a dma-buf") };
    let message = format!("{e:#}");
    let needle =
        if device.physical.has_dma_buf_import { "refused the dma-buf" } else { "VK_EXT_external_memory_dma_buf" };
    assert!(message.contains(needle), "{message}");
    eprintln!("refused as expected: {message}");
    // Closed: the number names nothing, or (reused by a parallel test) another file.
    assert_ne!(identity(&path), Some(before), "the fd is still open after the failed import");
}

/// The shading image's export path without HIP: the CPU's normals uploaded into a shading
/// image on one `VkDevice` (and released to the external family in `GENERAL`, as HIP finds
/// it), its dedicated `OPAQUE_FD` memory imported into an identical image on a second
/// device, which acquires it, copies it out and finds the same texels.
#[test]
fn exported_shading_image_reads_back_in_a_second_device() {
    use hip_vulkan_sinewave::interop::normal_images::{NormalImages, NORMAL_FORMAT, NORMAL_IMAGE_USAGE};
    use hip_vulkan_sinewave::vulkan::external::{memory_handle_type, MemoryImport};

    let (instance, mut pair) = devices(true, 2);
    let (reader, writer) = (pair.pop().expect("second device"), pair.pop().expect("first device"));
    let (w, h, t) = (61, 37, 1.75);
    let pool1 = CommandPool::new(&writer, vk::CommandPoolCreateFlags::empty()).expect("pool");
    let images = NormalImages::new(&writer, &pool1, w, h, 1, true).expect("shading image");
    assert!(images.exportable(), "lavapipe exports RGBA16F images as OPAQUE_FD (this test's premise)");
    let mut expected = vec![[half::f16::ZERO; 4]; (w * h) as usize];
    sinewave::fill_normals(&mut expected, w, h, t);
    let mut staging =
        Buffer::host_visible(&writer, images.bytes(), vk::BufferUsageFlags::TRANSFER_SRC, "staging").expect("staging");
    staging.write(&expected).expect("write staging");
    pool1
        .run_once("upload", |cmd| {
            // SAFETY: recording; the staging buffer holds the texels; run_once waits.
            unsafe {
                images.record_upload(cmd, 0, staging.raw(), vk::PipelineStageFlags2::NONE);
                images.record_release(cmd, 0);
            }
        })
        .expect("upload");

    // The second device: an identical image bound to the imported memory.
    let exported = images.images[0].export().expect("export");
    let d = reader.raw();
    let handle_type = memory_handle_type(exported.handle.kind());
    let mut external = vk::ExternalMemoryImageCreateInfo::default().handle_types(handle_type);
    let info = hip_vulkan_sinewave::vulkan::shared_image::image_2d_info(
        vk::Extent2D { width: w, height: h },
        NORMAL_FORMAT,
        NORMAL_IMAGE_USAGE,
    )
    .push_next(&mut external);
    // SAFETY: valid create info, the same as the exported image's.
    let image = unsafe { d.create_image(&info, None) }.expect("image");
    let mut import = MemoryImport::new(&exported.handle, handle_type).expect("import structure");
    let mut dedicated = vk::MemoryDedicatedAllocateInfo::default().image(image);
    let alloc = import
        .chain(vk::MemoryAllocateInfo::default())
        .allocation_size(exported.allocation_size)
        .memory_type_index(exported.memory_type_index)
        .push_next(&mut dedicated);
    // SAFETY: the export's size, type and dedication; the handle is open (held by `exported`).
    let memory = unsafe { d.allocate_memory(&alloc, None) }.expect("import the image's memory");
    exported.handle.imported_by_vulkan();
    // SAFETY: dedicated imported memory of the image's size.
    unsafe { d.bind_image_memory(image, memory, 0) }.expect("bind");
    let pool2 = CommandPool::new(&reader, vk::CommandPoolCreateFlags::empty()).expect("pool");
    let mut readback = Buffer::host_visible(&reader, images.bytes(), vk::BufferUsageFlags::TRANSFER_DST, "readback")
        .expect("readback");
    let range = hip_vulkan_sinewave::vulkan::shared_image::color_range();
    pool2
        .run_once("read the imported image", |cmd| {
            let acquire = [vk::ImageMemoryBarrier2::default()
                .dst_stage_mask(vk::PipelineStageFlags2::COPY)
                .dst_access_mask(vk::AccessFlags2::TRANSFER_READ)
                .old_layout(vk::ImageLayout::GENERAL)
                .new_layout(vk::ImageLayout::TRANSFER_SRC_OPTIMAL)
                .src_queue_family_index(vk::QUEUE_FAMILY_EXTERNAL)
                .dst_queue_family_index(reader.queue_family)
                .image(image)
                .subresource_range(range)];
            let region = [vk::BufferImageCopy::default()
                .image_subresource(vk::ImageSubresourceLayers {
                    aspect_mask: vk::ImageAspectFlags::COLOR,
                    mip_level: 0,
                    base_array_layer: 0,
                    layer_count: 1,
                })
                .image_extent(vk::Extent3D { width: w, height: h, depth: 1 })];
            let to_host = [vk::MemoryBarrier2::default()
                .src_stage_mask(vk::PipelineStageFlags2::COPY)
                .src_access_mask(vk::AccessFlags2::TRANSFER_WRITE)
                .dst_stage_mask(vk::PipelineStageFlags2::HOST)
                .dst_access_mask(vk::AccessFlags2::HOST_READ)];
            // SAFETY: recording; the image and buffer are the reader's and outlive the copy.
            unsafe {
                d.cmd_pipeline_barrier2(cmd, &vk::DependencyInfo::default().image_memory_barriers(&acquire));
                d.cmd_copy_image_to_buffer(cmd, image, vk::ImageLayout::TRANSFER_SRC_OPTIMAL, readback.raw(), &region);
                d.cmd_pipeline_barrier2(cmd, &vk::DependencyInfo::default().memory_barriers(&to_host));
            }
        })
        .expect("copy on the second device");
    let got: Vec<[half::f16; 4]> = readback
        .mapped_bytes()
        .unwrap()
        .chunks_exact(8)
        .map(|t| std::array::from_fn(|c| half::f16::from_ne_bytes([t[2 * c], t[2 * c + 1]])))
        .collect();
    assert!(got == expected, "the second device sees exactly the texels the first uploaded");
    // SAFETY: the reader idles first; nothing uses the image or its memory afterwards.
    unsafe {
        reader.wait_idle().expect("idle");
        d.destroy_image(image, None);
        d.free_memory(memory, None);
    }
    drop((readback, pool2, staging, images, pool1));
    assert_eq!(instance.validation_counts(), (0, 0), "validation layer messages");
}
