//! HIP–Vulkan interop with nothing but `ash` and the HIP runtime's C functions, for engines
//! that will not take this crate. Read it top to bottom; each step is one small function.
//!
//! 1. Load the HIP runtime with `libloading` and look up the few entry points used.
//! 2. Take HIP device 0 and its UUID; create a Vulkan 1.3 instance and device on the
//!    physical device whose `deviceUUID` is the same GPU.
//! 3. Create a buffer with exportable memory and export it as an `OPAQUE_FD`.
//! 4. Import that fd into HIP and map it to a device pointer.
//! 5. Create two exportable timeline semaphores and import them into HIP.
//! 6. One frame: Vulkan says "the buffer is free", HIP waits, runs the kernel, signals;
//!    Vulkan waits, acquires the buffer and copies it to the host; the CPU checks it.
//! 7. (The kernel: a code object for the runtime's platform.)
//! 8. Teardown, in order: both APIs idle, then HIP's side, then Vulkan's.
//! 9. HIP on AMD/Linux cannot import Vulkan semaphores: there the example stops (status 2).
//!
//! Run: `cargo run --release --example raw_interop [KERNEL_FILE]`; on NVIDIA first run
//! `scripts/build-nvidia.sh target/release/examples` (the HIP-on-CUDA shim and the
//! kernel, beside the example). `HIP_RUNTIME_LIBRARY=/path/libamdhip64.so` picks the runtime.
//!
//! This file is the Linux path (POSIX fds). The library (`examples/headless_interop.rs`)
//! runs the same steps on Linux and Windows; the difference is in `src/shared_handle.rs` and
//! `src/vulkan/external.rs`.

#[cfg(unix)]
mod linux {
    use std::ffi::{c_char, c_int, c_uint, c_void, CStr};
    use std::mem::{offset_of, size_of};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::path::{Path, PathBuf};
    use std::process::ExitCode;
    use std::ptr::null_mut;

    use anyhow::{bail, ensure, Context, Result};
    use ash::vk;
    use libloading::Library;

    const WIDTH: u32 = 1024;
    const HEIGHT: u32 = 768;
    const TIME_SECONDS: f64 = 1.25;
    const TOLERANCE: f64 = 1e-5;
    /// `ROWS_PER_BLOCK` in kernels/sinewave.hip.
    const ROWS_PER_BLOCK: u32 = 32;
    /// The kernel the package's build script compiled; empty when it found no hipcc/nvcc.
    const EMBEDDED_KERNEL: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/sinewave_kernel.bin"));

    // ---- Step 1: the HIP C API, declared by hand --------------------------------------------

    type HipStatus = c_int;
    /// Every HIP handle used here (stream, module, function, external memory/semaphore) is a pointer.
    type Handle = *mut c_void;

    const HIP_ERROR_NO_DEVICE: HipStatus = 100;
    const HIP_STREAM_NON_BLOCKING: c_uint = 1;
    const HIP_EXTERNAL_MEMORY_OPAQUE_FD: c_uint = 1;
    const HIP_EXTERNAL_MEMORY_DEDICATED: c_uint = 1;
    const HIP_EXTERNAL_SEMAPHORE_TIMELINE_FD: c_uint = 9;

    // The descriptors at their HIP >= 6 / CUDA size. HIP 5 reads only a prefix of each, so a
    // full-size, zero-filled descriptor is right for every version (the reserved tails and the
    // semaphore params' nvSciSync arrived in ROCm 6.0, ROCm/HIP commit 400af522e; evidence for
    // this and the other workarounds below: docs/ARCHITECTURE.md, "Driver workarounds and their
    // evidence"). Padding is spelled out as fields, so that every byte HIP may read is written (zero).

    /// The handle union: an fd, or (Windows) a handle and a name, which give it its size.
    #[repr(C)]
    #[derive(Clone, Copy)]
    union FdHandle {
        fd: c_int,
        win32: [*mut c_void; 2],
    }

    fn fd_handle(fd: c_int) -> FdHandle {
        let mut handle = FdHandle { win32: [null_mut(); 2] };
        handle.fd = fd;
        handle
    }

    /// `hipExternalMemoryHandleDesc`.
    #[repr(C)]
    struct MemoryHandleDesc {
        kind: c_uint,
        _pad0: c_uint,
        handle: FdHandle,
        size: u64,
        flags: c_uint,
        reserved: [c_uint; 16],
        _pad1: c_uint,
    }

    /// `hipExternalMemoryBufferDesc`.
    #[repr(C)]
    struct MemoryBufferDesc {
        offset: u64,
        size: u64,
        flags: c_uint,
        reserved: [c_uint; 16],
        _pad: c_uint,
    }

    /// `hipExternalSemaphoreHandleDesc`.
    #[repr(C)]
    struct SemaphoreHandleDesc {
        kind: c_uint,
        _pad0: c_uint,
        handle: FdHandle,
        flags: c_uint,
        reserved: [c_uint; 16],
        _pad1: c_uint,
    }

    /// `hipExternalSemaphoreSignalParams` / `...WaitParams`: only `fence.value` (offset 0 in
    /// every HIP and CUDA version) is set; the rest (nvSciSync, keyedMutex, flags, reserved)
    /// must be zero, and zero reads the same in the older, shorter layout.
    #[repr(C)]
    struct SemaphoreParams {
        fence_value: u64,
        rest: [u64; 17],
    }

    const _: () = assert!(size_of::<MemoryHandleDesc>() == 104 && offset_of!(MemoryHandleDesc, size) == 24);
    const _: () = assert!(size_of::<MemoryBufferDesc>() == 88);
    const _: () = assert!(size_of::<SemaphoreHandleDesc>() == 96 && offset_of!(SemaphoreHandleDesc, flags) == 24);
    const _: () = assert!(size_of::<SemaphoreParams>() == 144 && offset_of!(SemaphoreParams, fence_value) == 0);

    type SemaphoreOp = unsafe extern "C" fn(*const Handle, *const SemaphoreParams, c_uint, Handle) -> HipStatus;

    /// Declares [`Hip`], one function pointer per entry point, and [`bind_hip`], which looks
    /// them up by name.
    macro_rules! hip_api {
    ($($name:ident($($arg:ty),*) -> $ret:ty;)*) => {
        #[allow(non_snake_case)]
        struct Hip {
            $($name: unsafe extern "C" fn($($arg),*) -> $ret,)*
            path: PathBuf,
            /// The project's HIP-on-CUDA shim (src/hip/nvidia/shim.cpp) rather than ROCm.
            is_nvidia_shim: bool,
            /// Keeps the pointers above valid.
            _library: Library,
        }

        #[allow(non_snake_case)]
        fn bind_hip(library: Library, path: PathBuf) -> Result<Hip, String> {
            $(
                // SAFETY: a HIP runtime exports this symbol with the C signature declared
                // here; the pointer stays valid because the Library is stored beside it.
                let $name = unsafe { library.get::<unsafe extern "C" fn($($arg),*) -> $ret>(
                    concat!(stringify!($name), "\0").as_bytes()) }
                    .map(|symbol| *symbol)
                    .map_err(|e| format!("it lacks {}: {e}", stringify!($name)))?;
            )*
            // SAFETY: only the marker's presence is checked; it is never called.
            let is_nvidia_shim =
                unsafe { library.get::<unsafe extern "C" fn() -> c_int>(b"hip_vulkan_sinewave_nvidia_shim\0") }.is_ok();
            Ok(Hip { $($name,)* path, is_nvidia_shim, _library: library })
        }
    };
}

    hip_api! {
        hipGetErrorName(HipStatus) -> *const c_char;
        hipRuntimeGetVersion(*mut c_int) -> HipStatus;
        hipGetDeviceCount(*mut c_int) -> HipStatus;
        hipSetDevice(c_int) -> HipStatus;
        hipDeviceGet(*mut c_int, c_int) -> HipStatus;
        hipDeviceGetUuid(*mut [u8; 16], c_int) -> HipStatus;
        hipDeviceGetName(*mut c_char, c_int, c_int) -> HipStatus;
        hipStreamCreateWithFlags(*mut Handle, c_uint) -> HipStatus;
        hipStreamSynchronize(Handle) -> HipStatus;
        hipStreamDestroy(Handle) -> HipStatus;
        hipModuleLoadData(*mut Handle, *const c_void) -> HipStatus;
        hipModuleGetFunction(*mut Handle, Handle, *const c_char) -> HipStatus;
        hipModuleLaunchKernel(Handle, c_uint, c_uint, c_uint, c_uint, c_uint, c_uint, c_uint, Handle,
            *mut *mut c_void, *mut *mut c_void) -> HipStatus;
        hipModuleUnload(Handle) -> HipStatus;
        hipImportExternalMemory(*mut Handle, *const MemoryHandleDesc) -> HipStatus;
        hipExternalMemoryGetMappedBuffer(*mut *mut c_void, Handle, *const MemoryBufferDesc) -> HipStatus;
        hipFree(*mut c_void) -> HipStatus;
        hipDestroyExternalMemory(Handle) -> HipStatus;
        hipImportExternalSemaphore(*mut Handle, *const SemaphoreHandleDesc) -> HipStatus;
        hipWaitExternalSemaphoresAsync(*const Handle, *const SemaphoreParams, c_uint, Handle) -> HipStatus;
        hipSignalExternalSemaphoresAsync(*const Handle, *const SemaphoreParams, c_uint, Handle) -> HipStatus;
        hipDestroyExternalSemaphore(Handle) -> HipStatus;
    }

    impl Hip {
        /// Turns a status into an error naming the call and the code.
        fn check(&self, call: &str, status: HipStatus) -> Result<()> {
            if status == 0 {
                return Ok(());
            }
            // SAFETY: hipGetErrorName takes any code and returns a static string or null.
            let name = unsafe { (self.hipGetErrorName)(status) };
            let name = if name.is_null() {
                "unknown error".to_string()
            } else {
                // SAFETY: non-null: a NUL-terminated string the runtime never frees.
                unsafe { CStr::from_ptr(name) }.to_string_lossy().into_owned()
            };
            bail!("{call} failed: {name} ({status})")
        }

        /// For teardown: report a failure and go on.
        fn warn(&self, call: &str, status: HipStatus) {
            if let Err(e) = self.check(call, status) {
                eprintln!("warning: {e}");
            }
        }
    }

    fn exe_dir() -> Option<PathBuf> {
        std::env::current_exe().ok()?.parent().map(Path::to_path_buf)
    }

    /// `$HIP_RUNTIME_LIBRARY` alone if set; else beside the executable (where
    /// scripts/build-nvidia.sh puts the shim), the loader's path, `$ROCM_PATH/lib`, /opt/rocm/lib.
    fn hip_candidates() -> Vec<PathBuf> {
        if let Some(path) = std::env::var_os("HIP_RUNTIME_LIBRARY").filter(|p| !p.is_empty()) {
            return vec![PathBuf::from(path)];
        }
        const NAMES: [&str; 4] = ["libamdhip64.so.7", "libamdhip64.so.6", "libamdhip64.so.5", "libamdhip64.so"];
        let rocm = std::env::var_os("ROCM_PATH").filter(|p| !p.is_empty()).map(PathBuf::from);
        let mut dirs: Vec<PathBuf> =
            rocm.into_iter().chain([PathBuf::from("/opt/rocm")]).map(|d| d.join("lib")).collect();
        dirs.dedup();
        let mut out: Vec<PathBuf> = exe_dir().map(|d| d.join("libamdhip64.so")).into_iter().collect();
        out.extend(NAMES.iter().map(PathBuf::from));
        out.extend(dirs.iter().flat_map(|d| NAMES.iter().map(move |n| d.join(n))));
        out
    }

    fn load_hip() -> Result<Hip> {
        let mut tried = Vec::new();
        for path in hip_candidates() {
            // SAFETY: loading runs the library's initialisers; these are HIP runtimes (or the
            // user's explicit choice), whose initialisers have no preconditions.
            match unsafe { Library::new(&path) } {
                Ok(library) => match bind_hip(library, path.clone()) {
                    Ok(hip) => return Ok(hip),
                    Err(e) => tried.push(format!("  {}: loaded, but {e}", path.display())),
                },
                Err(e) => tried.push(format!("  {}: {e}", path.display())),
            }
        }
        bail!(
            "no HIP runtime could be loaded; tried:\n{}\ninstall ROCm (libamdhip64), or on NVIDIA run \
         scripts/build-nvidia.sh DIR-OF-THIS-EXAMPLE, or set HIP_RUNTIME_LIBRARY",
            tried.join("\n")
        )
    }

    // ---- Step 2: the HIP device, and the Vulkan device that is the same GPU ------------------

    fn uuid_text(u: &[u8; 16]) -> String {
        let hex: String = u.iter().map(|b| format!("{b:02x}")).collect();
        format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
    }

    fn pick_hip_device(hip: &Hip, h: &mut HipObjects) -> Result<[u8; 16]> {
        let mut count = 0;
        // SAFETY: out-pointer to a live local.
        let status = unsafe { (hip.hipGetDeviceCount)(&mut count) };
        if status == HIP_ERROR_NO_DEVICE || (status == 0 && count == 0) {
            bail!("HIP sees no GPU (hipGetDeviceCount: hipErrorNoDevice; runtime {})", hip.path.display());
        }
        hip.check("hipGetDeviceCount", status)?;
        // SAFETY: out-pointer to a live field.
        hip.check("hipRuntimeGetVersion", unsafe { (hip.hipRuntimeGetVersion)(&mut h.runtime_version) })?;
        let (mut device, mut uuid, mut name) = (0, [0u8; 16], [0 as c_char; 256]);
        // SAFETY: ordinal 0 exists (count >= 1); every out-pointer is a live local of the declared size.
        unsafe {
            hip.check("hipSetDevice", (hip.hipSetDevice)(0))?;
            hip.check("hipDeviceGet", (hip.hipDeviceGet)(&mut device, 0))?;
            hip.check("hipDeviceGetUuid", (hip.hipDeviceGetUuid)(&mut uuid, device))?;
            hip.check("hipDeviceGetName", (hip.hipDeviceGetName)(name.as_mut_ptr(), 255, device))?;
        }
        // SAFETY: the buffer is zeroed and HIP wrote at most 255 bytes: it is NUL-terminated.
        let name = unsafe { CStr::from_ptr(name.as_ptr()) }.to_string_lossy();
        let runtime = if hip.is_nvidia_shim { "NVIDIA shim" } else { "ROCm" };
        println!(
            "HIP device 0: {name}, uuid {} ({runtime} {}, version {})",
            uuid_text(&uuid),
            hip.path.display(),
            h.runtime_version
        );
        Ok(uuid)
    }

    fn create_vulkan(v: &mut VkObjects, hip_uuid: &[u8; 16]) -> Result<()> {
        // SAFETY: loading libvulkan runs its initialisers, which have no preconditions.
        let entry = unsafe { ash::Entry::load() }.context("could not load the Vulkan loader (libvulkan.so.1)")?;
        let app = vk::ApplicationInfo::default().application_name(c"raw_interop").api_version(vk::API_VERSION_1_3);
        // SAFETY: the create info and what it points to outlive the call.
        let instance =
            unsafe { entry.create_instance(&vk::InstanceCreateInfo::default().application_info(&app), None) }
                .context("vkCreateInstance (Vulkan 1.3): is a Vulkan driver installed?")?;
        v.entry = Some(entry);
        v.instance = Some(instance.clone());
        // SAFETY: a live instance.
        let physicals = unsafe { instance.enumerate_physical_devices() }.context("vkEnumeratePhysicalDevices")?;
        let mut chosen = None;
        for (i, &physical) in physicals.iter().enumerate() {
            let mut id = vk::PhysicalDeviceIDProperties::default();
            let mut props = vk::PhysicalDeviceProperties2::default().push_next(&mut id);
            // SAFETY: physical belongs to this instance; props' chain is live.
            unsafe { instance.get_physical_device_properties2(physical, &mut props) };
            let name = props.properties.device_name_as_c_str().map(|n| n.to_string_lossy().into_owned());
            let api = props.properties.api_version;
            let same = id.device_uuid == *hip_uuid;
            let mark = if same { "  <- the HIP device" } else { "" };
            println!(
                "Vulkan device #{i}: {}, deviceUUID {}{mark}",
                name.unwrap_or_default(),
                uuid_text(&id.device_uuid)
            );
            if same && chosen.is_none() {
                ensure!(api >= vk::API_VERSION_1_3, "Vulkan device #{i} is the HIP device but has no Vulkan 1.3");
                chosen = Some(physical);
            }
        }
        let physical = chosen.with_context(|| {
            format!(
                "no Vulkan device is the HIP device (uuid {}): HIP and Vulkan see different GPUs",
                uuid_text(hip_uuid)
            )
        })?;
        v.physical = physical;
        create_device(v, &instance)
    }

    fn create_device(v: &mut VkObjects, instance: &ash::Instance) -> Result<()> {
        let needed = [ash::khr::external_memory_fd::NAME, ash::khr::external_semaphore_fd::NAME];
        // SAFETY: v.physical belongs to this instance.
        let available = unsafe { instance.enumerate_device_extension_properties(v.physical) }
            .context("vkEnumerateDeviceExtensionProperties")?;
        for ext in needed {
            let found = available.iter().any(|p| p.extension_name_as_c_str() == Ok(ext));
            ensure!(found, "the Vulkan device lacks {}", ext.to_string_lossy());
        }
        // SAFETY: v.physical belongs to this instance.
        let families = unsafe { instance.get_physical_device_queue_family_properties(v.physical) };
        let any_queue = vk::QueueFlags::GRAPHICS | vk::QueueFlags::COMPUTE; // both imply transfer
        let family = families.iter().position(|f| f.queue_flags.intersects(any_queue)).context("no queue can copy")?;
        v.queue_family = family as u32;
        let priorities = [1.0];
        let queues =
            [vk::DeviceQueueCreateInfo::default().queue_family_index(v.queue_family).queue_priorities(&priorities)];
        let extensions = needed.map(CStr::as_ptr);
        let mut v12 = vk::PhysicalDeviceVulkan12Features::default().timeline_semaphore(true);
        let mut v13 = vk::PhysicalDeviceVulkan13Features::default().synchronization2(true);
        let info = vk::DeviceCreateInfo::default()
            .queue_create_infos(&queues)
            .enabled_extension_names(&extensions)
            .push_next(&mut v12)
            .push_next(&mut v13);
        // SAFETY: the create info and its chain outlive the call; the extensions are supported.
        let device = unsafe { instance.create_device(v.physical, &info, None) }.context("vkCreateDevice")?;
        // SAFETY: one queue of this family was requested.
        v.queue = unsafe { device.get_device_queue(v.queue_family, 0) };
        v.device = Some(device);
        Ok(())
    }

    fn memory_type(v: &VkObjects, instance: &ash::Instance, bits: u32, flags: vk::MemoryPropertyFlags) -> Result<u32> {
        // SAFETY: v.physical belongs to this instance.
        let props = unsafe { instance.get_physical_device_memory_properties(v.physical) };
        (0..props.memory_type_count)
            .find(|&i| bits & (1 << i) != 0 && props.memory_types[i as usize].property_flags.contains(flags))
            .with_context(|| format!("no Vulkan memory type is {flags:?}"))
    }

    // ---- Step 3: a buffer whose memory Vulkan exports ------------------------------------------

    struct ExportedMemory {
        fd: OwnedFd,
        allocation_size: u64,
        dedicated: bool,
    }

    fn create_exported_buffer(
        v: &mut VkObjects,
        instance: &ash::Instance,
        device: &ash::Device,
    ) -> Result<ExportedMemory> {
        let opaque_fd = vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD;
        let mut external = vk::ExternalMemoryBufferCreateInfo::default().handle_types(opaque_fd);
        let info = vk::BufferCreateInfo::default()
            .size(bytes())
            .usage(vk::BufferUsageFlags::TRANSFER_SRC | vk::BufferUsageFlags::STORAGE_BUFFER)
            .push_next(&mut external);
        // SAFETY: a live device; the create info chain outlives the call.
        v.buffer = unsafe { device.create_buffer(&info, None) }.context("vkCreateBuffer (exportable)")?;

        // A driver may require or prefer exported memory dedicated to its buffer (the spec's
        // VkMemoryDedicatedRequirements); HIP must then be told.
        let mut dedicated_req = vk::MemoryDedicatedRequirements::default();
        let mut req = vk::MemoryRequirements2::default().push_next(&mut dedicated_req);
        let query = vk::BufferMemoryRequirementsInfo2::default().buffer(v.buffer);
        // SAFETY: v.buffer is live; req's chain is live.
        unsafe { device.get_buffer_memory_requirements2(&query, &mut req) };
        let req = req.memory_requirements;
        let dedicated = dedicated_req.requires_dedicated_allocation == vk::TRUE
            || dedicated_req.prefers_dedicated_allocation == vk::TRUE;

        let ty = memory_type(v, instance, req.memory_type_bits, vk::MemoryPropertyFlags::DEVICE_LOCAL)?;
        let mut export = vk::ExportMemoryAllocateInfo::default().handle_types(opaque_fd);
        let mut dedicated_info = vk::MemoryDedicatedAllocateInfo::default().buffer(v.buffer);
        let mut alloc =
            vk::MemoryAllocateInfo::default().allocation_size(req.size).memory_type_index(ty).push_next(&mut export);
        if dedicated {
            alloc = alloc.push_next(&mut dedicated_info);
        }
        // SAFETY: the allocate info chain outlives the calls; the memory is fresh and fits the buffer.
        unsafe {
            v.memory = device.allocate_memory(&alloc, None).context("vkAllocateMemory (exportable)")?;
            device.bind_buffer_memory(v.buffer, v.memory, 0).context("vkBindBufferMemory")?;
        }
        let fd_ext = ash::khr::external_memory_fd::Device::new(instance, device);
        let get_fd = vk::MemoryGetFdInfoKHR::default().memory(v.memory).handle_type(opaque_fd);
        // SAFETY: v.memory was allocated exportable as OPAQUE_FD.
        let fd = unsafe { fd_ext.get_memory_fd(&get_fd) }.context("vkGetMemoryFdKHR")?;
        // SAFETY: vkGetMemoryFdKHR returns a new fd that the caller owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        println!(
            "exported {} bytes ({} allocation) as fd {}",
            req.size,
            if dedicated { "dedicated" } else { "shared" },
            fd.as_raw_fd()
        );
        Ok(ExportedMemory { fd, allocation_size: req.size, dedicated })
    }

    fn bytes() -> u64 {
        u64::from(WIDTH) * u64::from(HEIGHT) * 4
    }

    // ---- Step 4: HIP imports the memory and maps it ----------------------------------------------

    fn import_memory(hip: &Hip, h: &mut HipObjects, exported: ExportedMemory) -> Result<()> {
        let desc = MemoryHandleDesc {
            kind: HIP_EXTERNAL_MEMORY_OPAQUE_FD,
            _pad0: 0,
            handle: fd_handle(exported.fd.as_raw_fd()),
            size: exported.allocation_size, // the whole allocation, not the buffer
            flags: if exported.dedicated { HIP_EXTERNAL_MEMORY_DEDICATED } else { 0 },
            reserved: [0; 16],
            _pad1: 0,
        };
        let mut memory = null_mut();
        // SAFETY: desc is full-size and zero-filled and names a live fd; memory is an out-pointer.
        let status = unsafe { (hip.hipImportExternalMemory)(&mut memory, &desc) };
        // Who closes the fd: ROCm's import only BORROWS it (ROCm never closes it: ROCm/clr
        // rocclr/device/rocm/rocmemory.cpp); CUDA takes ownership on success (its docs of
        // cuImportExternalMemory). This project's shim hands CUDA a dup, so with the shim and with
        // ROCm the caller closes its fd after the import, success or not. (Calling CUDA or another
        // HIP-on-CUDA layer directly? Then give up the fd on success: `fd.into_raw_fd()`.)
        drop(exported.fd);
        hip.check("hipImportExternalMemory", status)?;
        h.memory = Some(memory);

        let desc = MemoryBufferDesc { offset: 0, size: bytes(), flags: 0, reserved: [0; 16], _pad: 0 };
        let mut mapped = null_mut();
        // SAFETY: memory is a live import at least bytes() long; mapped is an out-pointer.
        hip.check("hipExternalMemoryGetMappedBuffer", unsafe {
            (hip.hipExternalMemoryGetMappedBuffer)(&mut mapped, memory, &desc)
        })?;
        h.mapped = Some(mapped);
        Ok(())
    }

    // ---- Step 5: timeline semaphores shared by both APIs ---------------------------------------

    /// Creates an exportable timeline semaphore (kept in `slot` for teardown) and imports it into HIP.
    fn shared_timeline(
        hip: &Hip,
        instance: &ash::Instance,
        device: &ash::Device,
        slot: &mut vk::Semaphore,
    ) -> Result<Handle> {
        let opaque_fd = vk::ExternalSemaphoreHandleTypeFlags::OPAQUE_FD;
        let mut timeline = vk::SemaphoreTypeCreateInfo::default().semaphore_type(vk::SemaphoreType::TIMELINE);
        let mut export = vk::ExportSemaphoreCreateInfo::default().handle_types(opaque_fd);
        let info = vk::SemaphoreCreateInfo::default().push_next(&mut timeline).push_next(&mut export);
        // SAFETY: a live device; the chain outlives the call.
        *slot = unsafe { device.create_semaphore(&info, None) }.context("vkCreateSemaphore (timeline)")?;
        let fd_ext = ash::khr::external_semaphore_fd::Device::new(instance, device);
        let get_fd = vk::SemaphoreGetFdInfoKHR::default().semaphore(*slot).handle_type(opaque_fd);
        // SAFETY: the semaphore was created exportable as OPAQUE_FD.
        let fd = unsafe { fd_ext.get_semaphore_fd(&get_fd) }.context("vkGetSemaphoreFdKHR")?;
        // SAFETY: vkGetSemaphoreFdKHR returns a new fd that the caller owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let desc = SemaphoreHandleDesc {
            kind: HIP_EXTERNAL_SEMAPHORE_TIMELINE_FD,
            _pad0: 0,
            handle: fd_handle(fd.as_raw_fd()),
            flags: 0,
            reserved: [0; 16],
            _pad1: 0,
        };
        let mut imported = null_mut();
        // SAFETY: desc is full-size and zero-filled and names a live fd; imported is an out-pointer.
        let status = unsafe { (hip.hipImportExternalSemaphore)(&mut imported, &desc) };
        drop(fd); // the same fd rule as the memory import (step 4)
        hip.check("hipImportExternalSemaphore", status)?;
        Ok(imported)
    }

    // ---- Step 7: the kernel --------------------------------------------------------------------

    fn fits_runtime(image: &[u8], nvidia: bool) -> bool {
        let magics: &[&[u8]] = if nvidia {
            &[&0xBA55_ED50_u32.to_le_bytes()] // NVIDIA fatbin
        } else {
            &[b"__CLANG_OFFLOAD_BUNDLE__", b"CCOB", b"\x7fELF"] // AMD offload bundle, compressed, ELF
        };
        magics.iter().any(|m| image.starts_with(m))
    }

    /// The kernel file named on the command line, else `sinewave.fatbin`/`.co` beside the
    /// executable, else the embedded one, whichever is for this runtime's platform.
    fn find_kernel(nvidia: bool, arg: Option<&Path>) -> Result<(String, Vec<u8>)> {
        let platform = if nvidia { "an NVIDIA fatbin" } else { "an AMD code object (offload bundle or ELF)" };
        if let Some(path) = arg {
            let image = std::fs::read(path).with_context(|| format!("reading the kernel {}", path.display()))?;
            ensure!(fits_runtime(&image, nvidia), "{} is not {platform}, which this runtime needs", path.display());
            return Ok((path.display().to_string(), image));
        }
        let mut passed = Vec::new();
        if let Some(path) = exe_dir().map(|d| d.join(if nvidia { "sinewave.fatbin" } else { "sinewave.co" })) {
            match std::fs::read(&path) {
                Ok(image) if fits_runtime(&image, nvidia) => return Ok((path.display().to_string(), image)),
                Ok(_) => passed.push(format!("{} is not {platform}", path.display())),
                Err(e) => passed.push(format!("{}: {e}", path.display())),
            }
        }
        if fits_runtime(EMBEDDED_KERNEL, nvidia) {
            return Ok(("the embedded kernel".to_string(), EMBEDDED_KERNEL.to_vec()));
        }
        passed.push(if EMBEDDED_KERNEL.is_empty() {
            "the embedded kernel is empty (no hipcc/nvcc when the package was built)".to_string()
        } else {
            "the embedded kernel is for the other platform".to_string()
        });
        let fix =
            if nvidia { "run scripts/build-nvidia.sh DIR-OF-THIS-EXAMPLE" } else { "rebuild with hipcc on the PATH" };
        bail!(
            "no sinewave kernel for this runtime ({platform} needed): {}; {fix}, or pass a kernel file",
            passed.join("; ")
        )
    }

    fn load_kernel(hip: &Hip, h: &mut HipObjects, arg: Option<&Path>) -> Result<Handle> {
        let (source, image) = find_kernel(hip.is_nvidia_shim, arg)?;
        // The loaders read the image's headers as 8-byte words: give them an aligned copy.
        let mut aligned = vec![0u64; image.len().div_ceil(8)];
        for (word, chunk) in aligned.iter_mut().zip(image.chunks(8)) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            *word = u64::from_ne_bytes(b);
        }
        let (mut module, mut function) = (null_mut(), null_mut());
        // SAFETY: the image is a complete code object (magic checked) that outlives the call.
        let status = unsafe { (hip.hipModuleLoadData)(&mut module, aligned.as_ptr().cast()) };
        hip.check("hipModuleLoadData", status).with_context(|| format!("loading the kernel from {source}"))?;
        h.module = Some(module);
        // SAFETY: module is loaded; the name is a NUL-terminated literal.
        hip.check("hipModuleGetFunction(sinewave)", unsafe {
            (hip.hipModuleGetFunction)(&mut function, module, c"sinewave".as_ptr())
        })?;
        println!("kernel: {source}");
        Ok(function)
    }

    // ---- Step 6: one frame -----------------------------------------------------------------------

    fn semaphore_op(
        hip: &Hip,
        call: &str,
        op: SemaphoreOp,
        semaphore: Handle,
        value: u64,
        stream: Handle,
    ) -> Result<()> {
        let params = SemaphoreParams { fence_value: value, rest: [0; 17] };
        // SAFETY: one live imported semaphore and one full-size params, alive across a call that only enqueues.
        hip.check(call, unsafe { op(&semaphore, &params, 1, stream) })
    }

    /// HIP's half: wait until Vulkan frees the buffer, write it, say it is written.
    fn hip_frame(hip: &Hip, h: &HipObjects, function: Handle, time: f32) -> Result<()> {
        let (Some(stream), Some(vk_done), Some(hip_done), Some(heights)) = (h.stream, h.vk_done, h.hip_done, h.mapped)
        else {
            bail!("HIP objects missing");
        };
        semaphore_op(hip, "hipWaitExternalSemaphoresAsync", hip.hipWaitExternalSemaphoresAsync, vk_done, 1, stream)?;
        // One row of 32..=256 threads per block, each block ROWS_PER_BLOCK rows (see the kernel).
        let block = WIDTH.next_power_of_two().clamp(ROWS_PER_BLOCK, 256);
        let (grid_x, grid_y) = (WIDTH.div_ceil(block), HEIGHT.div_ceil(ROWS_PER_BLOCK));
        let (mut ptr, mut width, mut height, mut t) = (heights, WIDTH, HEIGHT, time);
        let mut args: [*mut c_void; 4] =
            [(&raw mut ptr).cast(), (&raw mut width).cast(), (&raw mut height).cast(), (&raw mut t).cast()];
        // SAFETY: the arguments match sinewave(float*, unsigned, unsigned, float) and outlive the
        // call (HIP copies them); heights holds WIDTH*HEIGHT floats and the grid covers exactly that.
        let status = unsafe {
            (hip.hipModuleLaunchKernel)(
                function,
                grid_x,
                grid_y,
                1,
                block,
                1,
                1,
                0,
                stream,
                args.as_mut_ptr(),
                null_mut(),
            )
        };
        hip.check("hipModuleLaunchKernel(sinewave)", status)?;
        semaphore_op(hip, "hipSignalExternalSemaphoresAsync", hip.hipSignalExternalSemaphoresAsync, hip_done, 1, stream)
    }

    fn create_readback(v: &mut VkObjects, instance: &ash::Instance, device: &ash::Device) -> Result<()> {
        let info = vk::BufferCreateInfo::default().size(bytes()).usage(vk::BufferUsageFlags::TRANSFER_DST);
        // SAFETY: a live device; the buffer gets fresh memory that fits it.
        unsafe {
            v.readback = device.create_buffer(&info, None).context("vkCreateBuffer (readback)")?;
            let req = device.get_buffer_memory_requirements(v.readback);
            let host = vk::MemoryPropertyFlags::HOST_VISIBLE | vk::MemoryPropertyFlags::HOST_COHERENT;
            let ty = memory_type(v, instance, req.memory_type_bits, host)?;
            let alloc = vk::MemoryAllocateInfo::default().allocation_size(req.size).memory_type_index(ty);
            v.readback_memory = device.allocate_memory(&alloc, None).context("vkAllocateMemory (readback)")?;
            device.bind_buffer_memory(v.readback, v.readback_memory, 0).context("vkBindBufferMemory (readback)")?;
        }
        Ok(())
    }

    /// A buffer barrier (synchronization2) over the whole buffer.
    fn barrier(
        buffer: vk::Buffer,
        src: (vk::PipelineStageFlags2, vk::AccessFlags2),
        dst: (vk::PipelineStageFlags2, vk::AccessFlags2),
        families: (u32, u32),
    ) -> vk::BufferMemoryBarrier2<'static> {
        vk::BufferMemoryBarrier2::default()
            .src_stage_mask(src.0)
            .src_access_mask(src.1)
            .dst_stage_mask(dst.0)
            .dst_access_mask(dst.1)
            .src_queue_family_index(families.0)
            .dst_queue_family_index(families.1)
            .buffer(buffer)
            .size(vk::WHOLE_SIZE)
    }

    /// Vulkan's half: wait for `hip_done >= 1`, acquire the buffer from the external queue
    /// family (what HIP wrote becomes visible), copy it to host memory, wait on a fence.
    fn vulkan_readback(v: &mut VkObjects, device: &ash::Device) -> Result<Vec<f32>> {
        use vk::{AccessFlags2 as A, PipelineStageFlags2 as S};
        let (external, ours, ignored) = (vk::QUEUE_FAMILY_EXTERNAL, v.queue_family, vk::QUEUE_FAMILY_IGNORED);
        let pool_info = vk::CommandPoolCreateInfo::default().queue_family_index(v.queue_family);
        // SAFETY: a live device; every handle recorded is live until the fence below is waited on.
        let cmd = unsafe {
            v.pool = device.create_command_pool(&pool_info, None).context("vkCreateCommandPool")?;
            v.fence = device.create_fence(&vk::FenceCreateInfo::default(), None).context("vkCreateFence")?;
            let alloc = vk::CommandBufferAllocateInfo::default().command_pool(v.pool).command_buffer_count(1);
            let cmd = device.allocate_command_buffers(&alloc).context("vkAllocateCommandBuffers")?[0];
            let begin = vk::CommandBufferBeginInfo::default().flags(vk::CommandBufferUsageFlags::ONE_TIME_SUBMIT);
            device.begin_command_buffer(cmd, &begin).context("vkBeginCommandBuffer")?;
            // Acquire: HIP wrote the buffer "outside" Vulkan; the ownership transfer makes it visible.
            let acquire = [barrier(v.buffer, (S::TRANSFER, A::NONE), (S::COPY, A::TRANSFER_READ), (external, ours))];
            device.cmd_pipeline_barrier2(cmd, &vk::DependencyInfo::default().buffer_memory_barriers(&acquire));
            let region = [vk::BufferCopy { src_offset: 0, dst_offset: 0, size: bytes() }];
            device.cmd_copy_buffer(cmd, v.buffer, v.readback, &region);
            // Release the buffer back to HIP (as every frame of a loop would) and make the copy host-visible.
            let after = [
                barrier(v.buffer, (S::COPY, A::TRANSFER_READ), (S::NONE, A::NONE), (ours, external)),
                barrier(v.readback, (S::COPY, A::TRANSFER_WRITE), (S::HOST, A::HOST_READ), (ignored, ignored)),
            ];
            device.cmd_pipeline_barrier2(cmd, &vk::DependencyInfo::default().buffer_memory_barriers(&after));
            device.end_command_buffer(cmd).context("vkEndCommandBuffer")?;
            cmd
        };
        let waits = [vk::SemaphoreSubmitInfo::default().semaphore(v.hip_done).value(1).stage_mask(S::TRANSFER)];
        let cmds = [vk::CommandBufferSubmitInfo::default().command_buffer(cmd)];
        let submit = [vk::SubmitInfo2::default().wait_semaphore_infos(&waits).command_buffer_infos(&cmds)];
        // SAFETY: cmd is recorded; the semaphore and fence are live and unsignalled.
        unsafe {
            device.queue_submit2(v.queue, &submit, v.fence).context("vkQueueSubmit2")?;
            device.wait_for_fences(&[v.fence], true, 10_000_000_000).context("waiting 10 s for the readback")?;
            let mapped = device.map_memory(v.readback_memory, 0, vk::WHOLE_SIZE, vk::MemoryMapFlags::empty());
            let mapped = mapped.context("vkMapMemory")?;
            // The mapping is at least minMemoryMapAlignment (>= 64) aligned and holds WIDTH*HEIGHT floats.
            let heights = std::slice::from_raw_parts(mapped.cast::<f32>(), (WIDTH * HEIGHT) as usize).to_vec();
            device.unmap_memory(v.readback_memory);
            Ok(heights)
        }
    }

    /// The CPU reference (src/sinewave.rs): sin(u·10 + t)·cos(v·10 + t), u and v in [-1, 1]
    /// computed in f32 as the kernel does, the rest in f64. NaN counts as infinitely wrong.
    fn max_abs_error(heights: &[f32], time: f32) -> f64 {
        let coord = |i: u32, n: u32| f64::from(i as f32 / (n - 1) as f32 * 2.0 - 1.0);
        let t = f64::from(time);
        let errors = heights.iter().enumerate().map(|(k, &h)| {
            let (x, y) = (k as u32 % WIDTH, k as u32 / WIDTH);
            let reference = (coord(x, WIDTH) * 10.0 + t).sin() * (coord(y, HEIGHT) * 10.0 + t).cos();
            let error = (f64::from(h) - reference).abs();
            if error.is_nan() {
                f64::INFINITY
            } else {
                error
            }
        });
        errors.fold(0.0, f64::max)
    }

    // ---- The whole flow, and step 8: teardown -----------------------------------------------------

    #[derive(Default)]
    struct HipObjects {
        runtime_version: c_int,
        stream: Option<Handle>,
        module: Option<Handle>,
        memory: Option<Handle>,
        mapped: Option<Handle>,
        vk_done: Option<Handle>,
        hip_done: Option<Handle>,
    }

    #[derive(Default)]
    struct VkObjects {
        entry: Option<ash::Entry>,
        instance: Option<ash::Instance>,
        physical: vk::PhysicalDevice,
        device: Option<ash::Device>,
        queue_family: u32,
        queue: vk::Queue,
        buffer: vk::Buffer,
        memory: vk::DeviceMemory,
        readback: vk::Buffer,
        readback_memory: vk::DeviceMemory,
        vk_done: vk::Semaphore,
        hip_done: vk::Semaphore,
        pool: vk::CommandPool,
        fence: vk::Fence,
    }

    enum Outcome {
        Verified,
        NeedsCuda,
    }

    fn run(hip: &Hip, h: &mut HipObjects, v: &mut VkObjects, kernel_arg: Option<&Path>) -> Result<Outcome> {
        let hip_uuid = pick_hip_device(hip, h)?;
        // Step 9, checked this early because on AMD the HIP UUID is not Vulkan's deviceUUID either
        // (https://github.com/ROCm/hipamd/issues/50; semaphores: https://github.com/ROCm/clr/issues/72).
        if !hip.is_nvidia_shim && cfg!(target_os = "linux") {
            eprintln!(
                "HIP on AMD/Linux cannot import Vulkan semaphores (ROCm's binary import reaches \
             ShouldNotReachHere(), a timeline import gives hipErrorInvalidValue). This example's \
             semaphore flow needs CUDA through the project's NVIDIA shim (scripts/build-nvidia.sh); \
             on AMD, use the crate's `host` strategy: cargo run --release -- --sync host"
            );
            return Ok(Outcome::NeedsCuda);
        }
        // Step 7 comes first so that a missing kernel fails before anything is created.
        let function = load_kernel(hip, h, kernel_arg)?;
        create_vulkan(v, &hip_uuid)?;
        let (Some(instance), Some(device)) = (v.instance.clone(), v.device.clone()) else { bail!("no Vulkan device") };
        let exported = create_exported_buffer(v, &instance, &device)?;
        import_memory(hip, h, exported)?;
        // vk_done: Vulkan signals, HIP waits ("the buffer is free"). hip_done: HIP signals, Vulkan waits.
        h.vk_done = Some(shared_timeline(hip, &instance, &device, &mut v.vk_done).context("semaphore vk_done")?);
        h.hip_done = Some(shared_timeline(hip, &instance, &device, &mut v.hip_done).context("semaphore hip_done")?);
        let mut stream = null_mut();
        // SAFETY: out-pointer to a live local.
        hip.check("hipStreamCreateWithFlags", unsafe {
            (hip.hipStreamCreateWithFlags)(&mut stream, HIP_STREAM_NON_BLOCKING)
        })?;
        h.stream = Some(stream);
        create_readback(v, &instance, &device)?;

        // The wave's period in t is 2π: wrap in f64, then hand the kernel an f32.
        let time = TIME_SECONDS.rem_euclid(std::f64::consts::TAU) as f32;
        // Vulkan → HIP: "the buffer is free" (a frame loop would signal this from a queue submission).
        let signal = vk::SemaphoreSignalInfo::default().semaphore(v.vk_done).value(1);
        // SAFETY: a live timeline semaphore whose value is below 1.
        unsafe { device.signal_semaphore(&signal) }.context("vkSignalSemaphore(vk_done = 1)")?;
        hip_frame(hip, h, function, time)?;
        let heights = vulkan_readback(v, &device)?;
        let error = max_abs_error(&heights, time);
        println!("{WIDTH}x{HEIGHT} heights at t = {time}: max abs error {error:.3e} against the f64 reference");
        ensure!(error <= TOLERANCE, "max abs error {error:.3e} is above the tolerance {TOLERANCE:e}");
        Ok(Outcome::Verified)
    }

    fn teardown(hip: &Hip, h: &mut HipObjects, v: &mut VkObjects) {
        // 1. Both APIs idle: nothing may still use what is destroyed below.
        if let Some(stream) = h.stream {
            // SAFETY: a live stream.
            hip.warn("hipStreamSynchronize", unsafe { (hip.hipStreamSynchronize)(stream) });
        }
        if let Some(device) = &v.device {
            // SAFETY: a live device.
            if let Err(e) = unsafe { device.device_wait_idle() } {
                eprintln!("warning: vkDeviceWaitIdle: {e}");
            }
        }
        // 2. HIP: the imports before the Vulkan objects they came from.
        // SAFETY: every handle is live and idle, and is destroyed once (it is taken out of h).
        unsafe {
            for semaphore in [h.vk_done.take(), h.hip_done.take()].into_iter().flatten() {
                hip.warn("hipDestroyExternalSemaphore", (hip.hipDestroyExternalSemaphore)(semaphore));
            }
            if let Some(mapped) = h.mapped.take() {
                // ROCm 5.0–5.4: the mapped pointer does not hold its import, and hipFree of it
                // releases the import itself; there only hipDestroyExternalMemory may be called
                // (ROCm/hipamd 84da7a9e and ROCm/ROCclr 0f3bbd68 added the retain in 5.5).
                if hip.is_nvidia_shim || !(50_000_000..50_500_000).contains(&h.runtime_version) {
                    hip.warn("hipFree(mapped buffer)", (hip.hipFree)(mapped));
                }
            }
            if let Some(memory) = h.memory.take() {
                hip.warn("hipDestroyExternalMemory", (hip.hipDestroyExternalMemory)(memory));
            }
            if let Some(module) = h.module.take() {
                hip.warn("hipModuleUnload", (hip.hipModuleUnload)(module));
            }
            if let Some(stream) = h.stream.take() {
                hip.warn("hipStreamDestroy", (hip.hipStreamDestroy)(stream));
            }
        }
        // 3. Vulkan: children before the device, the device before the instance. Null handles are
        // allowed in vkDestroy*/vkFree*, so objects never created need no test.
        // SAFETY: the device is idle and HIP holds no import of these objects any more.
        unsafe {
            if let Some(device) = v.device.take() {
                device.destroy_fence(v.fence, None);
                device.destroy_command_pool(v.pool, None);
                device.destroy_semaphore(v.vk_done, None);
                device.destroy_semaphore(v.hip_done, None);
                device.destroy_buffer(v.readback, None);
                device.destroy_buffer(v.buffer, None);
                device.free_memory(v.readback_memory, None);
                device.free_memory(v.memory, None);
                device.destroy_device(None);
            }
            if let Some(instance) = v.instance.take() {
                instance.destroy_instance(None);
            }
        }
    }

    pub fn main() -> ExitCode {
        let kernel_arg = std::env::args_os().nth(1).map(PathBuf::from);
        let hip = match load_hip() {
            Ok(hip) => hip,
            Err(e) => {
                eprintln!("error: {e:#}");
                return ExitCode::FAILURE;
            }
        };
        let (mut h, mut v) = (HipObjects::default(), VkObjects::default());
        let outcome = run(&hip, &mut h, &mut v, kernel_arg.as_deref());
        teardown(&hip, &mut h, &mut v);
        match outcome {
            Ok(Outcome::Verified) => {
                println!("ok: HIP wrote the heights into Vulkan's memory, in step with Vulkan's semaphores");
                ExitCode::SUCCESS
            }
            Ok(Outcome::NeedsCuda) => ExitCode::from(2),
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        }
    }
}

#[cfg(unix)]
fn main() -> std::process::ExitCode {
    linux::main()
}

#[cfg(not(unix))]
fn main() -> std::process::ExitCode {
    eprintln!("raw_interop shows the Linux path (POSIX fds); on Windows run examples/headless_interop.rs");
    std::process::ExitCode::from(2)
}
