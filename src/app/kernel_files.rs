//! Which sinewave kernel HIP runs, and loading it on the GPU.
//!
//! With no `--kernel FILE`, the kernel is looked for in this order, keeping only images
//! for the runtime's platform (an NVIDIA fatbin or PTX under the NVIDIA shim, an AMD code
//! object under ROCm):
//! 1. beside the executable: [`NVIDIA_KERNEL_FILE`] or [`AMD_KERNEL_FILE`], where
//!    `scripts/build-nvidia.sh` puts the NVIDIA one for a binary built elsewhere;
//! 2. the kernel build.rs embedded (hipcc on AMD, nvcc on NVIDIA).
//!
//! A kernel that loads but has no code for this GPU is reported with the targets it has
//! and the GPU's architecture.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};

use crate::app::code_object::{self, ImageInfo};
use crate::hip;
use crate::hip::KERNEL_NAME;
use crate::interop::hip_heights::HipSetup;

/// Kernel file name the binary looks for beside itself under the NVIDIA shim.
pub const NVIDIA_KERNEL_FILE: &str = "sinewave.fatbin";
/// Kernel file name the binary looks for beside itself under ROCm.
pub const AMD_KERNEL_FILE: &str = "sinewave.co";

/// A kernel image, where it came from and what it holds.
pub struct KernelImage {
    pub bytes: Vec<u8>,
    /// `--kernel FILE`, `FILE (beside the executable)` or `embedded`.
    pub origin: String,
    /// What [`code_object::validate`] found (its targets, for messages).
    pub info: ImageInfo,
}

impl KernelImage {
    /// `--kernel FILE`, read and checked (call it before opening HIP: a bad file is then
    /// refused on any machine).
    pub fn from_cli(path: &Path) -> Result<Self> {
        Self::from_file(path, format!("--kernel {}", path.display()))
    }

    /// Reads and checks a kernel file before HIP sees it (runtimes may crash on garbage).
    pub fn from_file(path: &Path, origin: String) -> Result<Self> {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read the kernel {}", path.display()))?;
        let info = code_object::validate(&bytes, KERNEL_NAME).map_err(|e| {
            anyhow!("{origin}: {e}; build one with hipcc --genco or scripts/build-nvidia.sh", origin = origin)
        })?;
        Ok(Self { bytes, origin, info })
    }

    /// The kernel build.rs embedded, if it built one.
    pub fn embedded() -> Result<Option<Self>> {
        if hip::EMBEDDED_KERNEL.is_empty() {
            return Ok(None);
        }
        // A broken build is caught here rather than by the runtime.
        let info = code_object::validate(hip::EMBEDDED_KERNEL, KERNEL_NAME).map_err(|e| {
            anyhow!("the embedded kernel ({}) is broken: {e}; rebuild", hip::EMBEDDED_KERNEL_DESCRIPTION)
        })?;
        Ok(Some(Self { bytes: hip::EMBEDDED_KERNEL.to_vec(), origin: "embedded".into(), info }))
    }

    /// Whether the image is for the NVIDIA platform (fatbin, cubin, PTX).
    pub fn is_nvidia(&self) -> bool {
        matches!(self.info, ImageInfo::NvidiaFatbin { .. } | ImageInfo::NvidiaCubin { .. } | ImageInfo::Ptx)
    }

    /// What it holds, for messages: e.g. `embedded: AMD offload bundle for gfx90a, gfx1030`.
    pub fn describe(&self) -> String {
        format!("{}: {}", self.origin, self.info)
    }
}

/// The directory of the running executable.
fn exe_dir() -> Option<PathBuf> {
    std::env::current_exe().ok()?.parent().map(Path::to_path_buf)
}

/// Finds the kernel for a runtime of this platform (`nvidia`: the NVIDIA shim), as the
/// module docs say. The error says what was found and what to do.
pub fn find_kernel(explicit: Option<KernelImage>, nvidia: bool, gpu: &str) -> Result<KernelImage> {
    if let Some(image) = explicit {
        log::info!("kernel: {} ({} bytes)", image.describe(), image.bytes.len());
        return Ok(image);
    }
    let mut passed_over = Vec::new();
    let beside = exe_dir().map(|dir| dir.join(if nvidia { NVIDIA_KERNEL_FILE } else { AMD_KERNEL_FILE }));
    let candidates = beside
        .filter(|path| path.is_file())
        .map(|path| {
            let origin = format!("{} (beside the executable)", path.display());
            KernelImage::from_file(&path, origin)
        })
        .into_iter()
        .chain(KernelImage::embedded().transpose());
    for candidate in candidates {
        let image = candidate?;
        if image.is_nvidia() == nvidia {
            log::info!("kernel: {} ({} bytes)", image.describe(), image.bytes.len());
            return Ok(image);
        }
        passed_over.push(image.describe());
    }
    let found = if passed_over.is_empty() {
        format!("this binary carries no HIP kernel ({})", hip::EMBEDDED_KERNEL_DESCRIPTION)
    } else {
        format!("the only kernel found is for the other platform ({})", passed_over.join("; "))
    };
    let remedy = if nvidia {
        match exe_dir() {
            Some(dir) => format!(
                "build it for this GPU with `scripts/build-nvidia.sh {}` (puts {NVIDIA_KERNEL_FILE} and the shim beside \
                 the binary), or pass --kernel FILE",
                dir.display()
            ),
            None => "build one with scripts/build-nvidia.sh and pass --kernel FILE".into(),
        }
    } else {
        "rebuild on a machine with ROCm's hipcc (HIP_OFFLOAD_ARCH=<your gfx> to choose the target), or pass \
         --kernel FILE"
            .into()
    };
    bail!("no sinewave kernel for {gpu}: {found}; {remedy}")
}

/// Finds the kernel for `setup`'s platform (`explicit` from `--kernel`, else beside the
/// binary, else embedded; see the module docs) and loads it on its GPU.
pub fn find_and_load(setup: &HipSetup, explicit: Option<KernelImage>) -> Result<hip::Function> {
    let gpu = setup.gpu_name();
    let image = find_kernel(explicit, setup.hip.is_nvidia_shim(), &gpu)?;
    load_kernel(&setup.hip, &image, &gpu)
}

/// Loads `image` on the current HIP device and finds the kernel in it. A failure names the
/// targets the image has and the GPU's architecture.
pub fn load_kernel(hip: &hip::Hip, image: &KernelImage, gpu: &str) -> Result<hip::Function> {
    let module = hip::Module::load_data(hip, &image.bytes).map_err(|e| {
        let why = match e.code {
            hip::ffi::HIP_ERROR_NO_BINARY_FOR_GPU | hip::ffi::HIP_ERROR_INVALID_IMAGE => "it has no code for this GPU",
            _ => "the runtime refused it",
        };
        anyhow!("{e}").context(format!(
            "loading the sinewave kernel ({}) on {gpu}: {why}. AMD: rebuild with HIP_OFFLOAD_ARCH set to this GPU's \
             gfx name; NVIDIA: scripts/build-nvidia.sh",
            image.describe()
        ))
    })?;
    module
        .function(KERNEL_NAME)
        .with_context(|| format!("the kernel image ({}) has no '{KERNEL_NAME}'", image.describe()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_kernel_file_is_refused_before_hip_sees_it() {
        let path = std::env::temp_dir().join(format!("hvs-empty-kernel-{}", std::process::id()));
        std::fs::write(&path, b"").unwrap();
        let e = KernelImage::from_cli(&path).err().expect("refused").to_string();
        assert!(e.contains("empty") && e.contains("--kernel"), "{e}");
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn the_embedded_kernel_serves_its_own_platform_only() {
        let Some(embedded) = KernelImage::embedded().expect("the embedded kernel validates") else {
            eprintln!("skipped: this build embedded no kernel ({})", hip::EMBEDDED_KERNEL_DESCRIPTION);
            return;
        };
        let own = find_kernel(None, embedded.is_nvidia(), "test GPU").expect("its own platform finds it");
        assert_eq!(own.origin, "embedded");
        let other = find_kernel(None, !embedded.is_nvidia(), "Other GPU (sm_90)").err().expect("the other does not");
        let text = other.to_string();
        assert!(
            text.contains("no sinewave kernel for Other GPU (sm_90)")
                && text.contains("the only kernel found is for the other platform")
                && text.contains(&embedded.info.to_string()),
            "{text}"
        );
    }
}
