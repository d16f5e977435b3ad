//! Lifetimes on a real Vulkan device (lavapipe in CI): creating and destroying the whole
//! interop set many times gives back every file descriptor, every Vulkan object, every
//! byte of Rust heap and (within the driver's own drift) the process's memory; a failure
//! at any point of set-up frees what was made before it; and a negative control that
//! leaks one height slot per cycle is caught by every one of those checks.
//!
//! ## How the leak check judges, and why it cannot flake
//!
//! - **Exact counts** (no tolerance): open fds, live wrapper objects (the registry in
//!   `vulkan::live`) and Rust heap bytes allocated *by the measuring thread* (the counting
//!   global allocator below). Per thread, so that the test harness starting other test
//!   threads cannot move the count. Each is read after every cycle and must equal its value
//!   after the warm-up.
//! - **Process memory** (resident set, read after `malloc_trim(0)` so that free memory
//!   cached by glibc's arenas does not count): judged by its trend, the Theil–Sen slope
//!   (median of all pairwise slopes, insensitive to outliers) over the measured cycles.
//!   Without the trim the resident set wanders by ~10 MB between cycles (allocator
//!   arenas); with it the series is smooth.
//!   lavapipe itself grows steadily by a few KiB per device lifetime in which it draws
//!   (llvmpipe's draw-time shader compilation; the validation layer reports no object
//!   left at `vkDestroyDevice`, and the Rust heap, fds and objects are exact). Measured
//!   here (Mesa 22.3.6, 2 cores, 2026-11-24) over 10 runs of the test below: 5.0–14.4 KiB
//!   per cycle; the negative control (one 192 KiB height slot leaked per cycle) gave
//!   171.6–203.6 KiB per cycle. [`RSS_SLOPE_LIMIT_KIB`] (64) is over 4× the largest
//!   drift and under 0.4× the smallest leak.

// Linux only: the checks read /proc (fds, resident memory) and call glibc's malloc_trim.
#![cfg(target_os = "linux")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::{Arc, Mutex};

use ash::vk;
use hip_vulkan_sinewave::app::camera::OrbitCamera;
use hip_vulkan_sinewave::app::heights::cpu::CpuHeights;
use hip_vulkan_sinewave::app::renderer::{Presentation, Renderer, RendererOptions};
use hip_vulkan_sinewave::interop::{HeightSlots, HEIGHT_BUFFER_USAGE};
use hip_vulkan_sinewave::vulkan::export::ImportedBuffer;
use hip_vulkan_sinewave::vulkan::{live, Device, DeviceSelection};

// ---------------------------------------------------------------------------------------
// Rust heap bytes, per thread.

/// The system allocator, counting the bytes each thread has allocated and not freed.
struct CountingAllocator;

thread_local! {
    static THREAD_HEAP_BYTES: Cell<i64> = const { Cell::new(0) };
}

fn count(delta: i64) {
    // `try_with`: a thread being torn down may still free memory after its TLS is gone.
    let _ = THREAD_HEAP_BYTES.try_with(|c| c.set(c.get() + delta));
}

// SAFETY: every call is forwarded unchanged to `System`; the counting touches only a
// thread-local `Cell<i64>` (const-initialised, no destructor, no allocation).
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            count(layout.size() as i64);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc` is passed on unchanged.
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as i64));
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc_zeroed` is passed on unchanged.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            count(layout.size() as i64);
        }
        ptr
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract for `realloc` is passed on unchanged.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            count(new_size as i64 - layout.size() as i64);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn thread_heap_bytes() -> i64 {
    THREAD_HEAP_BYTES.with(Cell::get)
}

// ---------------------------------------------------------------------------------------
// Samples and the judge.

/// The tests share process-wide state (fds, the registry, failure injection, RSS).
static SERIAL: Mutex<()> = Mutex::new(());

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd").count()
}

/// Resident set in KiB, after glibc has given its cached free pages back.
fn resident_kib() -> u64 {
    // SAFETY: malloc_trim only releases free memory of glibc's arenas; always safe to call.
    unsafe { libc::malloc_trim(0) };
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).expect("statm resident");
    // SAFETY: sysconf has no preconditions.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64;
    pages * page_size / 1024
}

#[derive(Clone, Copy, Debug)]
struct Sample {
    fds: usize,
    objects: i64,
    heap_bytes: i64,
    resident_kib: u64,
}

fn sample() -> Sample {
    Sample { fds: open_fds(), objects: live::live(), heap_bytes: thread_heap_bytes(), resident_kib: resident_kib() }
}

/// Most resident-set growth per cycle the judge accepts, in KiB: above lavapipe's own
/// drift (5.0–14.4 KiB per cycle measured, module docs), below the negative control's
/// leak (171.6–203.6).
const RSS_SLOPE_LIMIT_KIB: f64 = 64.0;
/// Cycles before the first sample: the loader, the driver and the allocator settle their
/// one-time state (the resident set climbs for the first ~50 cycles).
const WARM_UP_CYCLES: usize = 60;
/// Cycles measured after the warm-up.
const MEASURED_CYCLES: usize = 240;

/// Theil–Sen estimate of the slope of `ys` against their index: the median of the slopes
/// between every pair of points.
fn theil_sen_slope(ys: &[f64]) -> f64 {
    let mut slopes = Vec::with_capacity(ys.len() * ys.len() / 2);
    for i in 0..ys.len() {
        for j in i + 1..ys.len() {
            slopes.push((ys[j] - ys[i]) / (j - i) as f64);
        }
    }
    slopes.sort_by(f64::total_cmp);
    slopes.get(slopes.len() / 2).copied().unwrap_or(0.0)
}

/// What the measured cycles did to each resource.
struct Verdict {
    fds: Option<String>,
    objects: Option<String>,
    heap: Option<String>,
    resident: Option<String>,
    summary: String,
}

impl Verdict {
    fn failures(&self) -> Vec<&str> {
        [&self.fds, &self.objects, &self.heap, &self.resident].into_iter().flatten().map(String::as_str).collect()
    }
}

/// Judges the samples taken after each measured cycle against `baseline` (taken after the
/// warm-up): exact for fds, objects and heap; by slope for the resident set.
fn judge(baseline: Sample, samples: &[Sample]) -> Verdict {
    let exact = |name: &str, base: i64, values: Vec<i64>| -> Option<String> {
        let (at, value) = values.iter().enumerate().find(|(_, v)| **v != base)?;
        let last = values.last().copied().unwrap_or(base);
        Some(format!("{name}: {base} after the warm-up, {value} after measured cycle {at}, {last} at the end"))
    };
    let resident: Vec<f64> = samples.iter().map(|s| s.resident_kib as f64).collect();
    let slope = theil_sen_slope(&resident);
    let last = samples.last().copied().unwrap_or(baseline);
    Verdict {
        fds: exact("open fds", baseline.fds as i64, samples.iter().map(|s| s.fds as i64).collect()),
        objects: exact("live Vulkan objects", baseline.objects, samples.iter().map(|s| s.objects).collect()),
        heap: exact(
            "Rust heap bytes (this thread)",
            baseline.heap_bytes,
            samples.iter().map(|s| s.heap_bytes).collect(),
        ),
        resident: (slope > RSS_SLOPE_LIMIT_KIB)
            .then(|| format!("resident memory grows by {slope:.1} KiB per cycle (limit {RSS_SLOPE_LIMIT_KIB} KiB)")),
        summary: format!(
            "{} cycles: open fds {} → {}, live Vulkan objects {} → {}, Rust heap {} → {} bytes, \
             resident {} → {} KiB (Theil–Sen slope {slope:.1} KiB/cycle, limit {RSS_SLOPE_LIMIT_KIB})",
            samples.len(),
            baseline.fds,
            last.fds,
            baseline.objects,
            last.objects,
            baseline.heap_bytes,
            last.heap_bytes,
            baseline.resident_kib,
            last.resident_kib
        ),
    }
}

/// Runs `warm_up` cycles, samples, runs `measured` cycles sampling after each, judges.
fn measure(warm_up: usize, measured: usize, mut cycle: impl FnMut() -> anyhow::Result<()>) -> Verdict {
    for i in 0..warm_up {
        cycle().unwrap_or_else(|e| panic!("warm-up cycle {i}: {e:#}"));
    }
    // Allocated before the baseline, so that the samples themselves are not counted.
    let mut samples = Vec::with_capacity(measured);
    let baseline = sample();
    for i in 0..measured {
        cycle().unwrap_or_else(|e| panic!("cycle {i}: {e:#}"));
        samples.push(sample());
    }
    judge(baseline, &samples)
}

// ---------------------------------------------------------------------------------------
// The interop set.

/// Grid of the leak tests: one height slot is 256×192×4 = 192 KiB, so a leaked slot per
/// cycle is far above lavapipe's drift.
const GRID: (u32, u32) = (256, 192);

fn offscreen_options(device: DeviceSelection) -> RendererOptions {
    RendererOptions {
        grid_width: GRID.0,
        grid_height: GRID.1,
        frames_in_flight: 3,
        extra_height_slots: 0,
        validation: false,
        device,
        present_mode: vk::PresentModeKHR::FIFO,
        gpu_timing: true,
        shading_images: false,
    }
}

/// The interop set on the Vulkan side: renderer with its exportable height slots, the CPU
/// source, two frames, then every slot exported and imported into a second device.
fn interop_set() -> anyhow::Result<()> {
    let options = offscreen_options(DeviceSelection::Best);
    let mut renderer =
        Renderer::new(&options, Presentation::Offscreen { extent: vk::Extent2D { width: 64, height: 64 } })?;
    let source = CpuHeights::new(renderer.device(), GRID.0, GRID.1, renderer.slots().len())?;
    renderer.set_height_source(Box::new(source))?;
    for t in [0.0, 0.5] {
        renderer.render_at(t, &OrbitCamera::default())?;
    }
    let device = renderer.device();
    let second = Device::new(device.instance().clone(), device.physical.clone(), None)?;
    let imported = (0..renderer.slots().len())
        .map(|i| ImportedBuffer::import(&second, renderer.slots().export(i)?, HEIGHT_BUFFER_USAGE))
        .collect::<anyhow::Result<Vec<_>>>()?;
    renderer.device().wait_idle()?;
    drop(imported);
    drop(second);
    Ok(())
}

/// Makes a height slot on `device`, fills it (so its pages are resident) and forgets it:
/// the leak a missing `Drop` would cause.
fn leak_one_height_slot(device: &Arc<Device>) -> anyhow::Result<()> {
    let slots = HeightSlots::new(device, GRID.0, GRID.1, 1)?;
    let buffer = &slots.buffers[0];
    let props = &device.memory_properties;
    let types = &props.memory_types[..props.memory_type_count as usize];
    let device_local = vk::MemoryPropertyFlags::DEVICE_LOCAL;
    anyhow::ensure!(
        types
            .iter()
            .filter(|t| t.property_flags.contains(device_local))
            .all(|t| t.property_flags.contains(vk::MemoryPropertyFlags::HOST_VISIBLE)),
        "the negative control writes the slot through a mapping: it needs a device whose device-local memory is \
         host-visible (lavapipe)"
    );
    // SAFETY: the memory is host-visible (checked above), fresh, unused by the GPU, not
    // mapped elsewhere, and mapped once over its whole size for this write.
    unsafe {
        let ptr = device.raw().map_memory(buffer.memory(), 0, vk::WHOLE_SIZE, vk::MemoryMapFlags::empty())?;
        std::ptr::write_bytes(ptr.cast::<u8>(), 0x3f, slots.slot_bytes() as usize);
        device.raw().unmap_memory(buffer.memory());
    }
    std::mem::forget(slots);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The tests.

#[test]
fn create_destroy_cycles_give_everything_back() {
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // The registry is process-wide, and the negative control of this binary leaks on
    // purpose (`leaking_one_height_slot_per_cycle_is_caught_by_every_check`, which may run
    // first): count from what is live now. Nothing else runs while SERIAL is held.
    let live_before = live::live();
    let verdict = measure(WARM_UP_CYCLES, MEASURED_CYCLES, interop_set);
    eprintln!("interop set, {}", verdict.summary);
    assert!(verdict.failures().is_empty(), "leaks: {:#?}\n{}", verdict.failures(), verdict.summary);
    assert_eq!(live::live(), live_before, "no Vulkan object outlives its owner");
}

#[test]
fn leaking_one_height_slot_per_cycle_is_caught_by_every_check() {
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // The leaked slots live on a device that outlives the measurement, so that each cycle
    // leaks one slot and nothing more (a leaked slot also holds its device alive).
    let leak_target = {
        let options = offscreen_options(DeviceSelection::Best);
        let renderer =
            Renderer::new(&options, Presentation::Offscreen { extent: vk::Extent2D { width: 8, height: 8 } })
                .expect("renderer");
        renderer.device().clone()
    };
    let verdict = measure(WARM_UP_CYCLES / 2, MEASURED_CYCLES / 3, || {
        interop_set()?;
        leak_one_height_slot(&leak_target)
    });
    eprintln!("negative control (one slot leaked per cycle), {}", verdict.summary);
    assert!(verdict.fds.is_some(), "the leaked slots' memory fds were not noticed: {}", verdict.summary);
    assert!(verdict.objects.is_some(), "the leaked slots were not noticed by the registry: {}", verdict.summary);
    assert!(verdict.heap.is_some(), "the leaked slots' Rust allocations were not noticed: {}", verdict.summary);
    assert!(verdict.resident.is_some(), "the leaked slots' memory was not noticed: {}", verdict.summary);
}

#[test]
fn theil_sen_ignores_outliers_and_sees_a_trend() {
    let flat: Vec<f64> = (0..100).map(|i| 1000.0 + if i % 17 == 0 { 5000.0 } else { (i % 5) as f64 }).collect();
    assert!(theil_sen_slope(&flat).abs() < 0.1, "{}", theil_sen_slope(&flat));
    let rising: Vec<f64> = (0..100).map(|i| 1000.0 + 192.0 * i as f64 + (i % 7) as f64 * 50.0).collect();
    assert!((theil_sen_slope(&rising) - 192.0).abs() < 10.0, "{}", theil_sen_slope(&rising));
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

/// The interop set with its HIP imports: height slots exported and imported into HIP, the
/// timeline semaphores, the kernel, and shading images HIP writes directly (each mapped as
/// an array with a surface object, where the runtime can); three frames; then everything
/// dropped. On one shared Vulkan device (NVIDIA's driver limits vkCreateInstance calls per
/// process).
#[test]
#[ignore = "needs a HIP GPU: run on the GPU machine with `bash scripts/gpu-run.sh lifetimes`"]
fn hip_interop_cycles_give_everything_back() {
    hip_cycles(hip_vulkan_sinewave::interop::hip_slots::MemoryOwner::Vulkan, false);
}

/// The same with HIP's memory (`--memory-owner hip`): each cycle allocates the slots with
/// `hipMemCreate`, exports them as fds that Vulkan imports, and drops both sides; the
/// shading images go through HIP-written buffers that Vulkan copies (the copy path).
#[test]
#[ignore = "needs a HIP GPU: run on the GPU machine with `bash scripts/gpu-run.sh lifetimes`"]
fn hip_owned_memory_cycles_give_everything_back() {
    hip_cycles(hip_vulkan_sinewave::interop::hip_slots::MemoryOwner::Hip, true);
}

fn hip_cycles(owner: hip_vulkan_sinewave::interop::hip_slots::MemoryOwner, copy_normals: bool) {
    use hip_vulkan_sinewave::app::kernel_files::KernelImage;
    use hip_vulkan_sinewave::interop::hip_heights::{HipHeights, HipSetup};
    use hip_vulkan_sinewave::interop::sync::SyncRequest;
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let setup = HipSetup::open().expect("HIP with a GPU");
    let kernel_path = std::env::var_os("HVS_TEST_KERNEL").map(std::path::PathBuf::from);
    let explicit = kernel_path.as_deref().map(|p| KernelImage::from_cli(p).expect("HVS_TEST_KERNEL"));
    let kernel = hip_vulkan_sinewave::app::kernel_files::find_and_load(&setup, explicit)
        .expect("kernel (HVS_TEST_KERNEL, beside the binary or embedded)");
    let options = RendererOptions { shading_images: true, ..offscreen_options(setup.vulkan_selection(None)) };
    let first = Renderer::new(&options, Presentation::Offscreen { extent: vk::Extent2D { width: 64, height: 64 } })
        .expect("renderer");
    let device = first.device().clone();
    drop(first);
    let verdict = measure(WARM_UP_CYCLES, MEASURED_CYCLES, || {
        let extent = vk::Extent2D { width: 64, height: 64 };
        let mut renderer = Renderer::offscreen_on(&device, &options, extent)?;
        let hip_slots = hip_vulkan_sinewave::app::heights::hip_slots_for(&mut renderer, &setup, owner)?;
        let source = HipHeights::with_slots(
            &setup,
            renderer.device(),
            renderer.slots(),
            hip_slots,
            SyncRequest::Timeline,
            kernel.clone(),
        )?;
        let mut source = source;
        if let Some(images) = &renderer.slots().normals {
            source.add_normals(images, copy_normals)?;
        }
        renderer.set_height_source(Box::new(source))?;
        anyhow::ensure!(renderer.image_shading(), "the cycle draws with the shading images");
        for t in [0.0, 0.5, 1.0] {
            renderer.render_at(t, &OrbitCamera::default())?;
        }
        Ok(())
    });
    let normals = if copy_normals { "copied" } else { "direct where possible" };
    eprintln!("HIP interop ({owner} memory, normals {normals}), {}", verdict.summary);
    assert!(verdict.failures().is_empty(), "leaks: {:#?}\n{}", verdict.failures(), verdict.summary);
}

/// On a machine whose HIP runtime sees no GPU (CI), importing a lavapipe buffer into HIP
/// must fail, and the fd must be closed exactly once, by `hip::ExternalMemory::import` (the
/// one rule of `hip::external`): the runtime's own failed import leaves the fd open (so the
/// import's close is not a double close), and the import closes it.
#[test]
fn a_failed_hip_import_closes_the_exported_fd_exactly_once() {
    use hip_vulkan_sinewave::hip;
    use hip_vulkan_sinewave::shared_handle::RawHandle;
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let runtime = hip::Hip::load().expect("this test needs a HIP runtime library (scripts/test.sh installs it)");
    match runtime.device_count() {
        Err(e) if e.is_no_device() => {}
        other => {
            eprintln!("skipped: the HIP runtime here sees a GPU ({other:?}), so an import cannot be made to fail the way it fails without one");
            return;
        }
    }
    let api = hip::ffi::load_first(&hip::ffi::library_candidates()).expect("the same runtime, loaded raw");
    let options = offscreen_options(DeviceSelection::Best);
    let renderer = Renderer::new(&options, Presentation::Offscreen { extent: vk::Extent2D { width: 16, height: 16 } })
        .expect("renderer");
    let fds = open_fds();
    let exported = renderer.slots().export(0).expect("export");
    assert_eq!(open_fds(), fds + 1, "the export made one fd");
    let RawHandle::Fd(raw) = exported.handle.raw() else { panic!("a Linux export is an fd") };
    let identity = || {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(format!("/proc/self/fd/{raw}")).ok().map(|m| (m.dev(), m.ino()))
    };
    let before = identity().expect("the exported fd is open");
    let size = exported.allocation_size;

    // The runtime's call alone, the fd borrowed: it fails and leaves the fd open.
    let desc = hip::ffi::ExternalMemoryHandleDesc {
        type_: hip::ffi::HIP_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD,
        handle: exported.handle.raw().into(),
        size,
        flags: if exported.dedicated { hip::ffi::HIP_EXTERNAL_MEMORY_DEDICATED } else { 0 },
        reserved: [0; 16],
    };
    // SAFETY: desc names slot 0's open export of `size` bytes; the renderer outlives the call.
    let raw_result = unsafe { hip::result::import_external_memory(&api, &desc) };
    assert!(raw_result.is_err(), "HIP sees no GPU here, so the import must fail");
    assert_eq!(identity(), Some(before), "the runtime's failed import left the fd open (it is not the runtime's)");

    // The library's import: it fails too, and closes the fd itself, once.
    // SAFETY: as above.
    let result = unsafe { hip::ExternalMemory::import(&runtime, exported.handle, size, exported.dedicated) };
    let error = result.err().expect("HIP sees no GPU here, so the import must fail");
    eprintln!("import failed as it must without a GPU: {error}");
    assert_eq!(open_fds(), fds, "the failed import closed the fd it was given");
    assert_ne!(identity(), Some(before), "the exported fd is closed");
}
