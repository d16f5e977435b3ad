//! Lifetimes on a real Vulkan device (lavapipe in CI): creating and destroying the whole
//! interop set many times gives back every file descriptor, every Vulkan object and the
//! memory; a failure at any point of set-up frees what was made before it.
//!
//! These tests use process-wide counters (open fds, the live-object registry, the failure
//! injection hook), so they take a lock and must not share the process with other Vulkan
//! work: they live in their own test binary.

use std::sync::Mutex;

use ash::vk;
use hip_vulkan_sinewave::camera::OrbitCamera;
use hip_vulkan_sinewave::heights::cpu::CpuHeights;
use hip_vulkan_sinewave::interop::HEIGHT_BUFFER_USAGE;
use hip_vulkan_sinewave::renderer::{Presentation, Renderer, RendererOptions};
use hip_vulkan_sinewave::vulkan::export::ImportedBuffer;
use hip_vulkan_sinewave::vulkan::{live, Device, DeviceSelection};

static SERIAL: Mutex<()> = Mutex::new(());

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd").count()
}

fn resident_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).expect("statm resident");
    pages * 4
}

/// The interop set on the Vulkan side: renderer with its exportable height slots, the CPU
/// source, two frames, then every slot exported and imported into a second device.
fn interop_set() -> anyhow::Result<()> {
    let options = RendererOptions {
        grid_width: 64,
        grid_height: 48,
        frames_in_flight: 3,
        validation: false,
        device: DeviceSelection::Best,
        present_mode: vk::PresentModeKHR::FIFO,
        gpu_timing: true,
    };
    let mut renderer =
        Renderer::new(&options, Presentation::Offscreen { extent: vk::Extent2D { width: 64, height: 64 } })?;
    let source = CpuHeights::new(renderer.device(), 64, 48, renderer.slots().len())?;
    renderer.set_height_source(Box::new(source))?;
    for t in [0.0, 0.5] {
        renderer.render(t, &OrbitCamera::default())?;
    }
    let device = renderer.device();
    let second = Device::new(device.instance.clone(), device.physical.clone(), None)?;
    let imported = (0..renderer.slots().len())
        .map(|i| ImportedBuffer::import(&second, renderer.slots().export(i)?, HEIGHT_BUFFER_USAGE))
        .collect::<anyhow::Result<Vec<_>>>()?;
    renderer.device().wait_idle()?;
    drop(imported);
    drop(second);
    Ok(())
}

#[test]
fn two_hundred_create_destroy_cycles_give_everything_back() {
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Warm-up: the loader, the driver and the allocator settle their one-time state.
    for _ in 0..5 {
        interop_set().expect("interop set");
    }
    let (fds, objects, rss) = (open_fds(), live::live(), resident_kib());
    for i in 0..200 {
        interop_set().unwrap_or_else(|e| panic!("cycle {i}: {e:#}"));
    }
    let (fds_after, objects_after, rss_after) = (open_fds(), live::live(), resident_kib());
    eprintln!(
        "after 200 cycles: open fds {fds} → {fds_after}, live Vulkan objects {objects} → {objects_after}, \
         resident {rss} KiB → {rss_after} KiB"
    );
    assert_eq!(fds_after, fds, "file descriptors leaked");
    assert_eq!(objects_after, objects, "Vulkan objects leaked");
    assert_eq!(objects, 0, "no Vulkan object outlives its owner");
    // Allocator and driver caches may move a little; a leak of the smallest set (3 slots
    // of 12 KiB + staging + meshes) per cycle would add over 20 MiB in 200 cycles.
    assert!(rss_after < rss + 12 * 1024, "resident memory grew from {rss} KiB to {rss_after} KiB");
}

#[test]
fn a_failure_at_any_point_of_set_up_frees_what_was_made() {
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    interop_set().expect("interop set");
    let (fds, objects) = (open_fds(), live::live());
    let mut failure_points = 0;
    for n in 0..200 {
        live::fail_after(Some(n));
        let result = interop_set();
        live::fail_after(None);
        match result {
            Ok(()) => break,
            Err(e) => {
                assert!(format!("{e:#}").contains("injected failure"), "point {n}: unexpected error {e:#}");
                assert_eq!(live::live(), objects, "failure at point {n} leaked Vulkan objects");
                assert_eq!(open_fds(), fds, "failure at point {n} leaked file descriptors");
                failure_points += 1;
            }
        }
    }
    assert!(failure_points >= 20, "only {failure_points} creation points were exercised");
    eprintln!("{failure_points} injected failure points, each freed everything made before it");
}

#[test]
fn a_failed_hip_import_gives_the_exported_fd_back() {
    use hip_vulkan_sinewave::hip;
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let runtime = hip::Hip::load().expect("this test needs a HIP runtime library (apt install libamdhip64-dev)");
    let options = RendererOptions {
        grid_width: 32,
        grid_height: 32,
        frames_in_flight: 2,
        validation: false,
        device: DeviceSelection::Best,
        present_mode: vk::PresentModeKHR::FIFO,
        gpu_timing: false,
    };
    let renderer = Renderer::new(&options, Presentation::Offscreen { extent: vk::Extent2D { width: 16, height: 16 } })
        .expect("renderer");
    let fds = open_fds();

    let exported = renderer.slots().export(0).expect("export");
    assert_eq!(open_fds(), fds + 1);
    let size = exported.allocation_size;
    match hip::ExternalMemory::import_opaque_fd(&runtime, exported.fd, size, exported.dedicated) {
        // A machine with a HIP GPU that shares memory with this Vulkan device.
        Ok(memory) => drop(memory),
        Err(e) => eprintln!("import failed as expected without a HIP GPU: {e}"),
    }
    assert_eq!(open_fds(), fds, "the exported fd must be closed (or owned by HIP and released with it)");
}

/// The interop set with its HIP imports: height slots exported and imported into HIP, the
/// timeline semaphores, the kernel; two frames; then everything dropped. On one shared Vulkan
/// device (NVIDIA's driver limits vkCreateInstance calls per process).
#[test]
#[ignore = "needs a HIP GPU: run on the GPU machine with `bash scripts/gpu-run.sh lifetimes`"]
fn two_hundred_hip_interop_cycles_give_everything_back() {
    use hip_vulkan_sinewave::heights::hip::{kernel_image, HipHeights, HipSetup};
    use hip_vulkan_sinewave::interop::sync::SyncRequest;
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let setup = HipSetup::open().expect("HIP with a GPU");
    let kernel_path = std::env::var_os("HVS_TEST_KERNEL").map(std::path::PathBuf::from);
    let kernel = kernel_image(kernel_path.as_deref()).expect("kernel (HVS_TEST_KERNEL or embedded)");
    let options = RendererOptions {
        grid_width: 256,
        grid_height: 256,
        frames_in_flight: 2,
        validation: false,
        device: setup.vulkan_selection(None),
        present_mode: vk::PresentModeKHR::FIFO,
        gpu_timing: false,
    };
    let first = Renderer::new(&options, Presentation::Offscreen { extent: vk::Extent2D { width: 64, height: 64 } })
        .expect("renderer");
    let device = first.device().clone();
    drop(first);
    let cycle = || -> anyhow::Result<()> {
        let extent = vk::Extent2D { width: 64, height: 64 };
        let mut renderer = Renderer::offscreen_on(&device, &options, extent)?;
        let source = HipHeights::new(&setup, renderer.device(), renderer.slots(), SyncRequest::Timeline, &kernel)?;
        renderer.set_height_source(Box::new(source))?;
        for t in [0.0, 0.5, 1.0] {
            renderer.render(t, &OrbitCamera::default())?;
        }
        Ok(())
    };
    for _ in 0..5 {
        cycle().expect("warm-up cycle");
    }
    let (fds, objects, rss) = (open_fds(), live::live(), resident_kib());
    for i in 0..200 {
        cycle().unwrap_or_else(|e| panic!("cycle {i}: {e:#}"));
    }
    let (fds_after, objects_after, rss_after) = (open_fds(), live::live(), resident_kib());
    eprintln!(
        "HIP interop, 200 cycles: open fds {fds} → {fds_after}, live Vulkan objects {objects} → {objects_after}, \
         resident {rss} KiB → {rss_after} KiB"
    );
    assert_eq!(fds_after, fds, "file descriptors leaked");
    assert_eq!(objects_after, objects, "Vulkan objects leaked");
    assert!(rss_after < rss + 12 * 1024, "resident memory grew from {rss} KiB to {rss_after} KiB");
}
