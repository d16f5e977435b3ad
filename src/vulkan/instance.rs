//! The Vulkan loader, the instance, and the validation layer's debug messenger.
//!
//! The loader is opened at run time (`ash::Entry::load`), so a machine without Vulkan
//! gets an error that says so instead of a dynamic-linker failure before `main`.

use std::ffi::{c_void, CStr};
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{bail, Context, Result};
use ash::vk;

/// Oldest Vulkan the demo accepts: 1.3 brings timeline semaphores, synchronization2 and
/// dynamic rendering into the core, and every current driver (RADV, AMDVLK, NVIDIA,
/// lavapipe) has it.
pub const REQUIRED_API_VERSION: u32 = vk::API_VERSION_1_3;

const VALIDATION_LAYER: &CStr = c"VK_LAYER_KHRONOS_validation";

/// Messages the validation layer has reported, by severity. The debug callback
/// increments them; tests and the app read them at the end of a run.
#[derive(Debug, Default)]
pub struct ValidationCounters {
    /// Messages of severity error.
    pub errors: AtomicU32,
    /// Messages of severity warning.
    pub warnings: AtomicU32,
}

impl ValidationCounters {
    /// `(errors, warnings)` so far.
    pub fn get(&self) -> (u32, u32) {
        (self.errors.load(Ordering::Relaxed), self.warnings.load(Ordering::Relaxed))
    }
}

/// What the instance needs to be created with.
#[derive(Clone, Debug, Default)]
pub struct InstanceOptions {
    /// Enable `VK_LAYER_KHRONOS_validation` and count what it reports.
    pub validation: bool,
    /// Instance extensions the window system needs (empty when headless).
    pub surface_extensions: Vec<&'static CStr>,
}

/// The loader entry, the instance and (with validation) the debug messenger.
/// Everything else in [`crate::vulkan`] keeps an `Arc` to it, so it is destroyed last.
pub struct Instance {
    entry: ash::Entry,
    raw: ash::Instance,
    debug: Option<(ash::ext::debug_utils::Instance, vk::DebugUtilsMessengerEXT)>,
    // Boxed so the address handed to the debug callback stays put.
    counters: Box<ValidationCounters>,
    /// `VK_KHR_surface` functions, when window-system extensions were enabled.
    pub surface_ext: Option<ash::khr::surface::Instance>,
    /// The window-system extensions enabled at creation.
    surface_extensions: Vec<&'static CStr>,
    /// Counts this object in the live-object registry (leak tests).
    _live: crate::vulkan::live::Tracked,
}

impl Instance {
    /// Whether every one of `names` was enabled when the instance was created (the
    /// window-system extensions a surface needs).
    pub fn has_surface_extensions(&self, names: &[&CStr]) -> bool {
        names.iter().all(|n| self.surface_extensions.contains(n))
    }

    /// The instance-level function table (valid while `self` lives).
    pub fn raw(&self) -> &ash::Instance {
        &self.raw
    }

    /// The loaded Vulkan loader.
    pub fn entry(&self) -> &ash::Entry {
        &self.entry
    }

    /// Loads the Vulkan loader and creates an instance.
    pub fn new(options: &InstanceOptions) -> Result<Self> {
        let _live = crate::vulkan::live::Tracked::new("Instance")?;
        // SAFETY: loading the system's Vulkan loader runs its initialisers; that is the
        // documented way to use it and nothing else in this process has loaded it badly.
        let entry = unsafe { ash::Entry::load() }.context(
            "could not load the Vulkan loader (libvulkan.so.1): install it \
             (Debian/Ubuntu: apt install libvulkan1 mesa-vulkan-drivers) or set LD_LIBRARY_PATH",
        )?;

        // SAFETY: entry is a loaded Vulkan loader.
        let version = unsafe { entry.try_enumerate_instance_version() }
            .context("vkEnumerateInstanceVersion failed")?
            .unwrap_or(vk::API_VERSION_1_0);
        if version < REQUIRED_API_VERSION {
            bail!(
                "the Vulkan loader supports {}; this demo needs Vulkan 1.3 (update the loader and driver)",
                version_string(version)
            );
        }

        let mut layers = Vec::new();
        let mut extensions: Vec<*const std::ffi::c_char> =
            options.surface_extensions.iter().map(|e| e.as_ptr()).collect();
        if options.validation {
            // SAFETY: entry is a loaded Vulkan loader.
            let available = unsafe { entry.enumerate_instance_layer_properties() }
                .context("vkEnumerateInstanceLayerProperties failed")?;
            let found = available.iter().any(|l| l.layer_name_as_c_str().is_ok_and(|n| n == VALIDATION_LAYER));
            if !found {
                bail!(
                    "--validation: the layer {} is not installed \
                     (Debian/Ubuntu: apt install vulkan-validationlayers)",
                    VALIDATION_LAYER.to_string_lossy()
                );
            }
            layers.push(VALIDATION_LAYER.as_ptr());
            extensions.push(ash::ext::debug_utils::NAME.as_ptr());
            // Provided by the validation layer: turns on synchronization validation.
            extensions.push(ash::ext::validation_features::NAME.as_ptr());
        }

        let app_info = vk::ApplicationInfo::default()
            .application_name(c"hip-vulkan-sinewave")
            .application_version(1)
            .engine_name(c"none")
            .api_version(REQUIRED_API_VERSION);
        let counters = Box::<ValidationCounters>::default();
        let mut messenger_info = debug_messenger_info(&counters);
        let mut create_info = vk::InstanceCreateInfo::default()
            .application_info(&app_info)
            .enabled_layer_names(&layers)
            .enabled_extension_names(&extensions);
        // Synchronization validation: hazards between commands, submissions and queues
        // (read-after-write without a barrier, ...), on top of the core checks.
        let enabled_features = [vk::ValidationFeatureEnableEXT::SYNCHRONIZATION_VALIDATION];
        let mut validation_features =
            vk::ValidationFeaturesEXT::default().enabled_validation_features(&enabled_features);
        if options.validation {
            // Also catches messages from vkCreateInstance/vkDestroyInstance themselves.
            create_info = create_info.push_next(&mut messenger_info).push_next(&mut validation_features);
        }

        // SAFETY: create_info and everything it points to live until the call returns.
        let raw = unsafe { entry.create_instance(&create_info, None) }.map_err(|e| match e {
            vk::Result::ERROR_INCOMPATIBLE_DRIVER => anyhow::anyhow!(
                "vkCreateInstance: no Vulkan 1.3 driver found (ERROR_INCOMPATIBLE_DRIVER): install your GPU's \
                 Vulkan driver, or mesa-vulkan-drivers for a CPU device"
            ),
            e => anyhow::anyhow!("vkCreateInstance failed: {e} (extensions: {:?})", options.surface_extensions),
        })?;

        let surface_extensions = options.surface_extensions.clone();
        let mut instance = Instance { entry, raw, debug: None, counters, surface_ext: None, surface_extensions, _live };
        if options.validation {
            let loader = ash::ext::debug_utils::Instance::new(&instance.entry, &instance.raw);
            let info = debug_messenger_info(&instance.counters);
            // SAFETY: the instance was created with VK_EXT_debug_utils; `info`'s user data
            // points into the boxed counters, which live as long as the messenger.
            let messenger = unsafe { loader.create_debug_utils_messenger(&info, None) }
                .context("vkCreateDebugUtilsMessengerEXT failed")?;
            instance.debug = Some((loader, messenger));
            log::info!("validation: VK_LAYER_KHRONOS_validation enabled, with synchronization validation");
        } else {
            log::info!("validation: off (--validation turns it on)");
        }
        if !options.surface_extensions.is_empty() {
            instance.surface_ext = Some(ash::khr::surface::Instance::new(&instance.entry, &instance.raw));
        }
        Ok(instance)
    }

    /// Whether the validation layer is on.
    pub fn validation_enabled(&self) -> bool {
        self.debug.is_some()
    }

    /// `(errors, warnings)` the validation layer has reported so far.
    pub fn validation_counts(&self) -> (u32, u32) {
        self.counters.get()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // SAFETY: every child object holds an Arc<Instance>, so none is alive now.
        unsafe {
            if let Some((loader, messenger)) = self.debug.take() {
                loader.destroy_debug_utils_messenger(messenger, None);
            }
            self.raw.destroy_instance(None);
        }
    }
}

/// `major.minor.patch` of a packed Vulkan version.
pub fn version_string(v: u32) -> String {
    format!("{}.{}.{}", vk::api_version_major(v), vk::api_version_minor(v), vk::api_version_patch(v))
}

fn debug_messenger_info(counters: &ValidationCounters) -> vk::DebugUtilsMessengerCreateInfoEXT<'static> {
    vk::DebugUtilsMessengerCreateInfoEXT::default()
        .message_severity(
            vk::DebugUtilsMessageSeverityFlagsEXT::ERROR
                | vk::DebugUtilsMessageSeverityFlagsEXT::WARNING
                | vk::DebugUtilsMessageSeverityFlagsEXT::INFO,
        )
        .message_type(
            vk::DebugUtilsMessageTypeFlagsEXT::GENERAL
                | vk::DebugUtilsMessageTypeFlagsEXT::VALIDATION
                | vk::DebugUtilsMessageTypeFlagsEXT::PERFORMANCE,
        )
        .pfn_user_callback(Some(debug_callback))
        .user_data(counters as *const ValidationCounters as *mut c_void)
}

unsafe extern "system" fn debug_callback(
    severity: vk::DebugUtilsMessageSeverityFlagsEXT,
    kind: vk::DebugUtilsMessageTypeFlagsEXT,
    data: *const vk::DebugUtilsMessengerCallbackDataEXT<'_>,
    user_data: *mut c_void,
) -> vk::Bool32 {
    // SAFETY: the layer passes valid callback data for the duration of the call.
    let message = unsafe { data.as_ref() }
        .and_then(|d| (!d.p_message.is_null()).then(|| unsafe { CStr::from_ptr(d.p_message) }))
        .map(|m| m.to_string_lossy())
        .unwrap_or_default();
    // SAFETY: user_data is the boxed ValidationCounters of the Instance that owns this
    // messenger (see debug_messenger_info); it outlives the messenger.
    let counters = unsafe { (user_data as *const ValidationCounters).as_ref() };
    if severity.contains(vk::DebugUtilsMessageSeverityFlagsEXT::ERROR) {
        if let Some(c) = counters {
            c.errors.fetch_add(1, Ordering::Relaxed);
        }
        log::error!("[vulkan {kind:?}] {message}");
    } else if severity.contains(vk::DebugUtilsMessageSeverityFlagsEXT::WARNING) {
        if let Some(c) = counters {
            c.warnings.fetch_add(1, Ordering::Relaxed);
        }
        log::warn!("[vulkan {kind:?}] {message}");
    } else {
        log::debug!("[vulkan {kind:?}] {message}");
    }
    vk::FALSE
}
