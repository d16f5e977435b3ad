//! Offscreen rendering on whatever Vulkan device is present (lavapipe in CI), with the
//! validation layer on: the image read back must match the committed picture, the
//! heights read back must match the CPU reference, and the layer must stay silent.

mod common;
use common::{compare_images, CHANNEL_TOLERANCE, OUTLIER_FRACTION};

use ash::vk;
use hip_vulkan_sinewave::app::camera::OrbitCamera;
use hip_vulkan_sinewave::app::heights::cpu::CpuHeights;
use hip_vulkan_sinewave::app::renderer::target::RgbaImage;
use hip_vulkan_sinewave::app::renderer::{Presentation, Renderer, RendererOptions};
use hip_vulkan_sinewave::sinewave;
use hip_vulkan_sinewave::vulkan::DeviceSelection;

const GRID: (u32, u32) = (96, 64);
const SIZE: vk::Extent2D = vk::Extent2D { width: 320, height: 200 };
const TIME: f64 = 1.0;
const EXPECTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/expected/offscreen_320x200.png");

fn renderer(frames_in_flight: u32) -> Renderer {
    renderer_with_slots(frames_in_flight, 0)
}

fn renderer_with_slots(frames_in_flight: u32, extra_height_slots: u32) -> Renderer {
    renderer_with(frames_in_flight, extra_height_slots, false)
}

fn renderer_with(frames_in_flight: u32, extra_height_slots: u32, shading_images: bool) -> Renderer {
    let options = RendererOptions {
        grid_width: GRID.0,
        grid_height: GRID.1,
        frames_in_flight,
        extra_height_slots,
        validation: true,
        device: DeviceSelection::Best,
        present_mode: vk::PresentModeKHR::FIFO,
        gpu_timing: true,
        shading_images,
    };
    let mut r = Renderer::new(&options, Presentation::Offscreen { extent: SIZE })
        .expect("offscreen renderer on this machine's Vulkan device");
    assert!(r.validation_enabled(), "the validation layer must be on for these tests");
    let source = CpuHeights::new(r.device(), GRID.0, GRID.1, r.slots().len()).expect("CPU height source");
    r.set_height_source(Box::new(source)).expect("set source");
    r
}

#[test]
fn offscreen_frame_matches_expected_image_with_zero_validation_messages() {
    let mut r = renderer(2);
    // Two frames at the same time: both slots are written and drawn once.
    let camera = OrbitCamera::default();
    for _ in 0..2 {
        r.render_at(TIME, &camera).expect("render");
    }
    let image = r.read_back_image().expect("read back");
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        image.save_png(std::path::Path::new(EXPECTED)).expect("write expected image");
    }
    let expected = RgbaImage::load_png(std::path::Path::new(EXPECTED)).expect("expected image is committed");
    let (outliers, worst) = compare_images(&image, &expected);
    let allowed = (OUTLIER_FRACTION * f64::from(SIZE.width * SIZE.height)) as usize;
    if outliers > allowed {
        let path = std::env::temp_dir().join("offscreen_actual.png");
        let _ = image.save_png(&path);
        panic!("{outliers} pixels differ by more than {CHANNEL_TOLERANCE} (allowed {allowed}, worst {worst}); actual image: {}", path.display());
    }
    // The picture is not blank: the background colour does not cover it.
    let background = image.pixels.chunks_exact(4).filter(|p| p[..3] == image.pixels[..3]).count();
    assert!(background < image.pixels.len() / 4 * 9 / 10, "the grid covers part of the image");
    assert_eq!(r.validation_counts(), (0, 0), "validation layer messages");
}

#[test]
fn heights_in_every_slot_match_the_cpu_reference() {
    let mut r = renderer(3);
    let camera = OrbitCamera::default();
    let times = [0.5, 2.0, 4.75];
    for t in times {
        r.render_at(t, &camera).expect("render");
    }
    for (slot, t) in times.iter().enumerate() {
        let heights = r.read_back_heights(slot).expect("read back heights");
        assert_eq!(heights.len(), (GRID.0 * GRID.1) as usize);
        let err = sinewave::max_abs_error(&heights, GRID.0, GRID.1, sinewave::wrap_time(*t));
        assert!(err < 1e-5, "slot {slot}: max abs error {err}");
    }
    // Slot 0 does not hold slot 1's heights: each frame wrote its own slot.
    let other =
        sinewave::max_abs_error(&r.read_back_heights(0).unwrap(), GRID.0, GRID.1, sinewave::wrap_time(times[1]));
    assert!(other > 0.1, "slot 0 unexpectedly matches frame 1's time");
    assert_eq!(r.validation_counts(), (0, 0), "validation layer messages");
}

#[test]
fn more_height_slots_than_frames_in_flight_each_hold_their_frame() {
    // K = 2 command buffers, S = 5 height slots (what a long run-ahead burst needs): frame f
    // writes and draws slot f mod 5 while reusing command buffer f mod 2.
    let mut r = renderer_with_slots(2, 3);
    assert_eq!(r.slots().len(), 5);
    let camera = OrbitCamera::default();
    let times = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5];
    for t in times {
        r.render_at(t, &camera).expect("render");
    }
    // Frames 5 and 6 rewrote slots 0 and 1; slots 2..4 hold frames 2..4.
    for (slot, frame) in [(0, 5), (1, 6), (2, 2), (3, 3), (4, 4)] {
        let heights = r.read_back_heights(slot).expect("read back heights");
        let t = sinewave::wrap_time(times[frame]);
        let err = sinewave::max_abs_error(&heights, GRID.0, GRID.1, t);
        assert!(err < 1e-5, "slot {slot} (frame {frame}): max abs error {err}");
        assert_eq!(r.slot_time(slot), Some(times[frame]));
    }
    assert_eq!(r.validation_counts(), (0, 0), "validation layer messages");
}

#[test]
fn wireframe_renders_differently_and_cleanly() {
    let mut r = renderer(1);
    if !r.device().wireframe_supported {
        panic!("this device lacks fillModeNonSolid; lavapipe has it, so the test expects it");
    }
    let camera = OrbitCamera::default();
    r.render_at(TIME, &camera).expect("render");
    let filled = r.read_back_image().expect("read back");
    r.wireframe = true;
    r.render_at(TIME, &camera).expect("render");
    let lines = r.read_back_image().expect("read back");
    let (outliers, _) = compare_images(&filled, &lines);
    assert!(outliers > 1000, "wireframe should look different ({outliers} pixels differ)");
    assert_eq!(r.validation_counts(), (0, 0), "validation layer messages");
}

#[test]
fn vulkan_compute_heights_match_the_cpu_reference() {
    use hip_vulkan_sinewave::app::heights::vulkan_compute::ComputeHeights;
    let mut r = renderer(2);
    let source = ComputeHeights::new(r.device(), r.slots()).expect("compute height source");
    r.set_height_source(Box::new(source)).expect("set source");
    let camera = OrbitCamera::default();
    for t in [0.25, 3.5] {
        r.render_at(t, &camera).expect("render");
    }
    for (slot, t) in [(0, 0.25), (1, 3.5)] {
        let heights = r.read_back_heights(slot).expect("read back heights");
        let err = sinewave::max_abs_error(&heights, GRID.0, GRID.1, sinewave::wrap_time(t));
        assert!(err < 1e-5, "slot {slot}: max abs error {err}");
    }
    assert_eq!(r.validation_counts(), (0, 0), "validation layer messages");
}

/// Plain height buffers, what a device that cannot export memory gets (Wine's Vulkan on
/// Windows has no `VK_KHR_external_memory_win32`): the CPU and the compute shader write
/// them, the picture is the committed one, the validation layer stays silent (the queue
/// family hand-overs are legal for memory that is not external), and exporting one is
/// refused with the reason.
#[test]
fn plain_height_buffers_draw_the_expected_image_and_refuse_export() {
    use hip_vulkan_sinewave::app::heights::vulkan_compute::ComputeHeights;
    use hip_vulkan_sinewave::interop::{HeightSlots, SlotBuffer};
    let mut r = renderer(2);
    let plain = HeightSlots::plain(r.device(), GRID.0, GRID.1, r.slots().len() as u32).expect("plain slots");
    r.replace_height_slots(plain).expect("replace the slots");
    assert!(r.slots().buffers.iter().all(|b| matches!(b, SlotBuffer::Plain(_))));
    let message = format!("{:#}", r.slots().export(0).expect_err("a plain slot cannot be exported"));
    assert!(message.contains("cannot export memory") && message.contains("--heights vulkan"), "{message}");

    let expected = RgbaImage::load_png(std::path::Path::new(EXPECTED)).expect("expected image is committed");
    let allowed = (OUTLIER_FRACTION * f64::from(SIZE.width * SIZE.height)) as usize;
    let camera = OrbitCamera::default();
    let source = CpuHeights::new(r.device(), GRID.0, GRID.1, r.slots().len()).expect("CPU height source");
    r.set_height_source(Box::new(source)).expect("set source");
    for _ in 0..2 {
        r.render_at(TIME, &camera).expect("render");
    }
    let (outliers, worst) = compare_images(&r.read_back_image().expect("read back"), &expected);
    assert!(outliers <= allowed, "CPU into plain slots: {outliers} pixels differ (worst {worst})");

    let source = ComputeHeights::new(r.device(), r.slots()).expect("compute height source");
    r.set_height_source(Box::new(source)).expect("set source");
    for _ in 0..2 {
        r.render_at(TIME, &camera).expect("render");
    }
    let (outliers, worst) = compare_images(&r.read_back_image().expect("read back"), &expected);
    assert!(outliers <= allowed, "compute into plain slots: {outliers} pixels differ (worst {worst})");
    assert_eq!(r.validation_counts(), (0, 0), "validation layer messages");
}

#[test]
fn dropping_the_renderer_releases_device_and_instance() {
    let r = renderer(2);
    let device = std::sync::Arc::downgrade(r.device());
    let instance = std::sync::Arc::downgrade(r.device().instance());
    drop(r);
    assert!(device.upgrade().is_none(), "something still holds the VkDevice");
    assert!(instance.upgrade().is_none(), "something still holds the VkInstance");
}

/// A CPU source that asks for frames ahead (as HIP's run-ahead does) and checks, every
/// frame, that the renderer and its clock keep their promise: a frame is drawn at the time
/// it was given when it was first handed out ahead.
struct PromiseChecker {
    inner: CpuHeights,
    wants: usize,
    promised: std::collections::HashMap<u64, f64>,
    log: std::rc::Rc<std::cell::RefCell<PromiseLog>>,
}

#[derive(Default)]
struct PromiseLog {
    broken: Vec<String>,
    longest_ahead: usize,
    frames: u64,
}

impl hip_vulkan_sinewave::interop::source::HeightSource for PromiseChecker {
    fn name(&self) -> &str {
        "cpu, checking promised times"
    }

    fn frames_ahead(&self) -> usize {
        self.wants
    }

    fn produce(
        &mut self,
        frame: &hip_vulkan_sinewave::interop::source::FrameHeights<'_>,
        sync: &mut hip_vulkan_sinewave::interop::source::SubmitSync,
    ) -> anyhow::Result<()> {
        let mut log = self.log.borrow_mut();
        log.frames += 1;
        log.longest_ahead = log.longest_ahead.max(frame.ahead.len());
        let given = std::iter::once(frame.seconds).chain(frame.ahead.iter().copied());
        for (n, time) in (frame.frame..).zip(given) {
            if let Some(&before) = self.promised.get(&n) {
                if before != time {
                    log.broken.push(format!("frame {n}: promised {before}, now {time} (at frame {})", frame.frame));
                }
            }
            self.promised.insert(n, time);
        }
        drop(log);
        self.inner.produce(frame, sync)
    }
}

#[test]
fn frames_fixed_ahead_by_the_wall_clock_are_drawn_at_their_times() {
    use hip_vulkan_sinewave::app::clock::{AnimationClock, TimeSource};
    let mut r = renderer(2);
    let log = std::rc::Rc::new(std::cell::RefCell::new(PromiseLog::default()));
    let inner = CpuHeights::new(r.device(), GRID.0, GRID.1, r.slots().len()).expect("CPU height source");
    let wants = 3;
    let source = PromiseChecker { inner, wants, promised: Default::default(), log: log.clone() };
    r.set_height_source(Box::new(source)).expect("set source");
    let mut clock = AnimationClock::new(TimeSource::Wall { start: 0.25 });
    let camera = OrbitCamera::default();
    for _ in 0..120 {
        r.render(&mut clock, &camera).expect("render");
    }
    let log = log.borrow();
    assert_eq!(log.frames, 120);
    assert!(
        log.broken.is_empty(),
        "{} times changed after they were handed out, first: {:?}",
        log.broken.len(),
        &log.broken[..log.broken.len().min(3)]
    );
    // The clock did fix frames ahead (the check above is not vacuous): frames here take
    // milliseconds, far inside its 60 ms horizon, once it has seen 9 steady intervals.
    assert_eq!(log.longest_ahead, wants, "the clock never fixed {wants} frames ahead");
    // The last frame's heights are those of the time it was given.
    let last = 119u64;
    let slot = (last % r.slots().len() as u64) as usize;
    let time = r.slot_time(slot).expect("slot time");
    let heights = r.read_back_heights(slot).expect("read back heights");
    let err = sinewave::max_abs_error(&heights, GRID.0, GRID.1, sinewave::wrap_time(time));
    assert!(err < 1e-5, "max abs error {err}");
    assert_eq!(r.validation_counts(), (0, 0), "validation layer messages");
}

/// `--memory-owner hip` without HIP: the height buffers are memory another allocator made
/// and exported as `OPAQUE_FD` (here a second `VkDevice` on the same GPU stands in for HIP,
/// with its allocation rounded up to a 64 KiB granularity as `hipMemCreate`'s is), imported
/// into the renderer's device with `ImportedBuffer::import_foreign` and swapped in with
/// `Renderer::replace_height_slots`. The frame must match the committed image, the other
/// allocator must read the same heights through its own buffers, and after the other
/// allocator frees its side, the import must still hold the memory and draw correctly.
#[test]
fn height_buffers_another_allocator_owns_draw_the_expected_image() {
    use hip_vulkan_sinewave::interop::{HeightSlots, HEIGHT_BUFFER_USAGE};
    use hip_vulkan_sinewave::vulkan::commands::CommandPool;
    use hip_vulkan_sinewave::vulkan::export::{ExportableBuffer, ForeignMemory, ImportedBuffer};
    use hip_vulkan_sinewave::vulkan::memory::Buffer;
    use hip_vulkan_sinewave::vulkan::Device;

    const GRANULARITY: u64 = 64 << 10;
    let mut r = renderer(2);
    let instance = r.device().instance().clone();
    let owner = Device::new(instance, r.device().physical.clone(), None).expect("the other allocator's device");
    let slot_bytes = r.slots().slot_bytes();
    let padded = slot_bytes.next_multiple_of(GRANULARITY);
    let owned: Vec<ExportableBuffer> = (0..r.slots().len())
        .map(|i| ExportableBuffer::new(&owner, padded, HEIGHT_BUFFER_USAGE, &format!("owned slot {i}")).expect("owned"))
        .collect();
    let imported: Vec<ImportedBuffer> = owned
        .iter()
        .map(|b| {
            let exported = b.export().expect("export");
            assert!(exported.allocation_size >= padded);
            // SAFETY: an OPAQUE_FD of `allocation_size` bytes made on this physical device.
            unsafe {
                ImportedBuffer::import_foreign(
                    r.device(),
                    exported.handle,
                    ForeignMemory::Opaque,
                    exported.allocation_size,
                    slot_bytes,
                    HEIGHT_BUFFER_USAGE,
                    "imported slot",
                )
            }
            .expect("import another allocator's memory")
        })
        .collect();
    r.replace_height_slots(HeightSlots::from_imported(imported, GRID.0, GRID.1)).expect("replace the slots");
    let source = CpuHeights::new(r.device(), GRID.0, GRID.1, r.slots().len()).expect("CPU height source");
    r.set_height_source(Box::new(source)).expect("set source");

    let camera = OrbitCamera::default();
    let expected = RgbaImage::load_png(std::path::Path::new(EXPECTED)).expect("expected image is committed");
    let allowed = (OUTLIER_FRACTION * f64::from(SIZE.width * SIZE.height)) as usize;
    let check_image = |r: &Renderer, when: &str| {
        let (outliers, worst) = compare_images(&r.read_back_image().expect("read back"), &expected);
        assert!(
            outliers <= allowed,
            "{when}: {outliers} pixels differ by more than {CHANNEL_TOLERANCE} (worst {worst})"
        );
    };
    for _ in 0..2 {
        r.render_at(TIME, &camera).expect("render");
    }
    check_image(&r, "through imported memory");

    // The owner's own buffer holds what the renderer's CPU source uploaded into slot 0.
    let pool = CommandPool::new(&owner, vk::CommandPoolCreateFlags::empty()).expect("pool");
    let mut readback = Buffer::host_visible(&owner, slot_bytes, vk::BufferUsageFlags::TRANSFER_DST, "readback")
        .expect("readback buffer");
    r.device().wait_idle().expect("idle");
    pool.run_once("owner readback", |cmd| {
        let barrier = [vk::MemoryBarrier2::default()
            .src_stage_mask(vk::PipelineStageFlags2::COPY)
            .src_access_mask(vk::AccessFlags2::TRANSFER_WRITE)
            .dst_stage_mask(vk::PipelineStageFlags2::HOST)
            .dst_access_mask(vk::AccessFlags2::HOST_READ)];
        let region = [vk::BufferCopy { src_offset: 0, dst_offset: 0, size: slot_bytes }];
        // SAFETY: recording; both buffers hold `slot_bytes` bytes and outlive the command.
        unsafe {
            owner.raw().cmd_copy_buffer(cmd, owned[0].raw(), readback.raw(), &region);
            owner.raw().cmd_pipeline_barrier2(cmd, &vk::DependencyInfo::default().memory_barriers(&barrier));
        }
    })
    .expect("copy on the owner's device");
    let seen: Vec<f32> = readback
        .mapped_bytes()
        .expect("mapped")
        .chunks_exact(4)
        .map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let err = sinewave::max_abs_error(&seen, GRID.0, GRID.1, sinewave::wrap_time(TIME));
    assert!(err < 1e-5, "the owner reads the heights the renderer wrote: max abs error {err}");

    // The owner frees its side first (as HIP does at teardown): the imports keep the memory.
    drop((readback, pool, owned));
    assert_eq!(owner.instance().validation_counts(), (0, 0), "validation messages on the owner's side");
    drop(owner);
    r.render_at(TIME + 0.5, &camera).expect("render after the owner freed its side");
    r.render_at(TIME, &camera).expect("render");
    check_image(&r, "after the owner freed its side");
    let heights = r.read_back_heights(1).expect("heights");
    let err = sinewave::max_abs_error(&heights, GRID.0, GRID.1, sinewave::wrap_time(TIME));
    assert!(err < 1e-5, "slot 1 after the owner freed its side: max abs error {err}");
    assert_eq!(r.validation_counts(), (0, 0), "validation layer messages");
}

const EXPECTED_IMAGE_SHADING: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/expected/offscreen_image_shading_320x200.png");

/// `--shading image` on lavapipe: the CPU source writes each slot's shading image (normals,
/// RGBA16F) through a staging copy (the Vulkan half of HIP's copy fallback), the fragment
/// shader samples it; the frame must match its committed picture and differ from the
/// vertex-shaded one, the images read back must hold the reference normals of their frame
/// (within RGBA16F rounding, 1e-3), and the validation layer, with synchronization
/// validation, must stay silent through layouts and ownership transfers of three frames
/// per slot.
#[test]
fn image_shading_samples_the_normals_the_source_wrote() {
    let mut r = renderer_with(2, 1, true);
    assert!(r.image_shading(), "the CPU source writes shading images");
    let camera = OrbitCamera::default();
    render_six_frames_and_check_the_normals(&mut r);
    let image = r.read_back_image().expect("read back");
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        image.save_png(std::path::Path::new(EXPECTED_IMAGE_SHADING)).expect("write expected image");
    }
    let expected =
        RgbaImage::load_png(std::path::Path::new(EXPECTED_IMAGE_SHADING)).expect("expected image is committed");
    let allowed = (OUTLIER_FRACTION * f64::from(SIZE.width * SIZE.height)) as usize;
    let (outliers, worst) = compare_images(&image, &expected);
    if outliers > allowed {
        let path = std::env::temp_dir().join("offscreen_image_shading_actual.png");
        let _ = image.save_png(&path);
        panic!(
            "{outliers} pixels differ by more than {CHANNEL_TOLERANCE} (allowed {allowed}, worst {worst}); actual: {}",
            path.display()
        );
    }
    assert_eq!(r.validation_counts(), (0, 0), "validation layer messages");

    // The lighting comes from the image: the same heights with every normal pointing
    // along +z light the grid evenly, far from the committed picture.
    let device = r.device().clone();
    let sideways =
        SidewaysNormals { heights: CpuHeights::new(&device, GRID.0, GRID.1, 3).expect("cpu"), staging: vec![] };
    r.set_height_source(Box::new(sideways)).expect("set source");
    for _ in 0..3 {
        r.render_at(TIME, &camera).expect("render");
    }
    let (differing, _) = compare_images(&r.read_back_image().expect("read back"), &expected);
    assert!(differing > allowed * 20, "normals along +z still look like the wave's ({differing} pixels differ)");
    assert_eq!(r.validation_counts(), (0, 0), "validation layer messages");
}

/// Heights from the CPU, and shading images whose normals all point along +z.
struct SidewaysNormals {
    heights: CpuHeights,
    staging: Vec<hip_vulkan_sinewave::vulkan::memory::Buffer>,
}

impl hip_vulkan_sinewave::interop::source::HeightSource for SidewaysNormals {
    fn name(&self) -> &str {
        "cpu heights, sideways normals"
    }

    fn produce(
        &mut self,
        frame: &hip_vulkan_sinewave::interop::source::FrameHeights<'_>,
        sync: &mut hip_vulkan_sinewave::interop::source::SubmitSync,
    ) -> anyhow::Result<()> {
        let images = frame.slots.normals.as_ref().expect("shading images");
        // The CPU source writes heights and (correct) normals; the upload below overwrites
        // the normals in the same command buffer, after it.
        self.heights.produce(frame, sync)?;
        while self.staging.len() <= frame.slot {
            let mut buffer = hip_vulkan_sinewave::vulkan::memory::Buffer::host_visible(
                self.heights.device(),
                images.bytes(),
                vk::BufferUsageFlags::TRANSFER_SRC,
                "sideways normals",
            )?;
            let one = half::f16::ONE;
            buffer
                .write(&vec![[half::f16::ZERO, half::f16::ZERO, one, half::f16::ZERO]; (GRID.0 * GRID.1) as usize])?;
            self.staging.push(buffer);
        }
        // SAFETY: recording; the staging buffer holds the texels and lives as long as this
        // source, which the renderer drops only after the GPU idles.
        unsafe {
            images.record_release(frame.cmd, frame.slot);
            images.record_upload(frame.cmd, frame.slot, self.staging[frame.slot].raw(), vk::PipelineStageFlags2::NONE);
        }
        Ok(())
    }

    fn writes_normals(&self) -> bool {
        true
    }
}

/// The compute height source with shading images: its normals pass (a storage image)
/// writes every slot's image, which reads back as the reference normals and draws the same
/// picture as the CPU's normals (the committed image-shading picture), with the validation
/// layer silent through two rounds of every slot.
#[test]
fn vulkan_compute_writes_the_shading_images_the_cpu_would() {
    use hip_vulkan_sinewave::app::heights::vulkan_compute::ComputeHeights;
    let mut r = renderer_with(2, 1, true);
    let source = ComputeHeights::new(r.device(), r.slots()).expect("compute height source");
    r.set_height_source(Box::new(source)).expect("set source");
    assert!(r.image_shading(), "the compute source writes the shading images");
    render_six_frames_and_check_the_normals(&mut r);
    let expected =
        RgbaImage::load_png(std::path::Path::new(EXPECTED_IMAGE_SHADING)).expect("expected image is committed");
    let (outliers, worst) = compare_images(&r.read_back_image().expect("read back"), &expected);
    let allowed = (OUTLIER_FRACTION * f64::from(SIZE.width * SIZE.height)) as usize;
    assert!(outliers <= allowed, "{outliers} pixels differ by more than {CHANNEL_TOLERANCE} (worst {worst})");
    assert_eq!(r.validation_counts(), (0, 0), "validation layer messages");
}

/// Renders six frames at different times with 3 slots and 2 frames in flight (every slot
/// written twice), then checks that each slot's shading image holds its last frame's
/// reference normals (within RGBA16F rounding, 1e-3) and not its first frame's.
fn render_six_frames_and_check_the_normals(r: &mut Renderer) {
    let camera = OrbitCamera::default();
    let times = [0.25, 0.5, 0.75, 2.0, 3.5, TIME];
    for t in times {
        r.render_at(t, &camera).expect("render");
    }
    for (slot, t) in times[3..].iter().enumerate() {
        let texels = r.read_back_normals(slot).expect("read back the shading image");
        assert_eq!(texels.len(), (GRID.0 * GRID.1) as usize);
        let err = sinewave::max_normal_error(&texels, GRID.0, GRID.1, sinewave::wrap_time(*t));
        assert!(err < 1e-3, "slot {slot}: max normal error {err}");
        let stale = sinewave::max_normal_error(&texels, GRID.0, GRID.1, sinewave::wrap_time(times[slot]));
        assert!(stale > 0.05, "slot {slot} still holds its first frame's normals");
    }
}

const EXPECTED_OVERLAY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/expected/offscreen_overlay_320x200.png");

/// The overlay (egui, drawn in the frame's own pass) with fixed lines and a fixed graph:
/// the frame must match its committed picture, differ from the frame without it, and,
/// hidden, give back exactly the picture without it; the validation layer stays silent
/// through the font upload and the draws.
#[test]
fn the_overlay_draws_its_panel_on_the_grid() {
    use hip_vulkan_sinewave::app::overlay::{GraphFrame, Overlay};
    let mut r = renderer(2);
    let mut overlay = Overlay::new(r.device(), r.color_format(), r.frames_in_flight()).expect("overlay");
    overlay.set_info(vec!["GPU: test device".into(), "heights: cpu; sync: none".into()]);
    overlay.live_graph = false;
    for i in 0..240 {
        let f = f64::from(i % 7);
        overlay.push_frame(GraphFrame { kernel_ms: 0.1 * f, draw_ms: 0.5, other_ms: 0.2 });
    }
    r.set_overlay(Box::new(overlay)).expect("set overlay");
    let camera = OrbitCamera::default();
    for _ in 0..3 {
        r.render_at(TIME, &camera).expect("render");
    }
    let image = r.read_back_image().expect("read back");
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        image.save_png(std::path::Path::new(EXPECTED_OVERLAY)).expect("write expected image");
    }
    let expected = RgbaImage::load_png(std::path::Path::new(EXPECTED_OVERLAY)).expect("expected image is committed");
    let allowed = (OUTLIER_FRACTION * f64::from(SIZE.width * SIZE.height)) as usize;
    let (outliers, worst) = compare_images(&image, &expected);
    assert!(outliers <= allowed, "{outliers} pixels differ by more than {CHANNEL_TOLERANCE} (worst {worst})");
    let without = RgbaImage::load_png(std::path::Path::new(EXPECTED)).expect("the picture without overlay");
    let (covered, _) = compare_images(&image, &without);
    assert!(covered > 2000, "the panel covers only {covered} pixels");

    hip_vulkan_sinewave::app::overlay::of(&mut r).expect("our overlay").visible = false;
    for _ in 0..2 {
        r.render_at(TIME, &camera).expect("render");
    }
    let (outliers, worst) = compare_images(&r.read_back_image().expect("read back"), &without);
    assert!(outliers <= allowed, "hidden overlay still changes {outliers} pixels (worst {worst})");
    assert_eq!(r.validation_counts(), (0, 0), "validation layer messages");
}
