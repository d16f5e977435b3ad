//! Errors of the HIP layer: [`HipError`] for a failed call, [`LoadError`] for
//! a runtime library that could not be loaded at all.

use std::fmt;
use std::path::PathBuf;

use super::ffi;

/// A HIP call that returned an error status.
///
/// Displays as `hipImportExternalMemory failed: hipErrorInvalidValue (invalid argument)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HipError {
    /// The HIP function that failed (or a short description for checks this
    /// crate makes before calling HIP).
    pub call: &'static str,
    /// The `hipError_t` value.
    pub code: i32,
    /// HIP's name for the code (`hipGetErrorName`), e.g. `hipErrorNoDevice`.
    pub name: String,
    /// HIP's description of the code (`hipGetErrorString`).
    pub message: String,
}

impl HipError {
    /// The `hipError_t` value, to tell e.g. [`ffi::HIP_ERROR_NO_DEVICE`] or
    /// [`ffi::HIP_ERROR_NOT_SUPPORTED`] apart.
    pub fn code(&self) -> i32 {
        self.code
    }

    /// Whether the runtime reported that it sees no GPU (`hipErrorNoDevice`).
    pub fn is_no_device(&self) -> bool {
        self.code == ffi::HIP_ERROR_NO_DEVICE
    }

    /// Whether the runtime reported an unsupported operation or handle type
    /// (`hipErrorNotSupported`, or `hipErrorInvalidValue`, which ROCm returns
    /// for interop handle types it does not implement: ROCm/clr `hipamd/src/hip_memory.cpp`
    /// rejects semaphore types above D3D12Fence (4) with it, and
    /// <https://github.com/ROCm/hipamd/issues/48> shows it for an fd import on Linux).
    pub fn is_unsupported(&self) -> bool {
        self.code == ffi::HIP_ERROR_NOT_SUPPORTED || self.code == ffi::HIP_ERROR_INVALID_VALUE
    }
}

impl fmt::Display for HipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {} ({})", self.call, self.name, self.message)
    }
}

impl std::error::Error for HipError {}

/// Result of a HIP call.
pub type Result<T, E = HipError> = std::result::Result<T, E>;

/// The HIP runtime library could not be loaded.
#[derive(Debug, Clone)]
pub struct LoadError {
    /// Every candidate tried, in order, with the loader's message.
    pub attempts: Vec<ffi::LoadAttempt>,
}

impl LoadError {
    /// The candidates that were tried.
    pub fn tried(&self) -> Vec<PathBuf> {
        self.attempts.iter().map(|a| a.candidate.clone()).collect()
    }
}

/// What to install, per system.
#[cfg(not(windows))]
const INSTALL_HINT: &str = "On AMD GPUs, install ROCm's HIP runtime (libamdhip64, e.g. the `hip-runtime-amd` \
     or Debian's `libamdhip64-5` package). On NVIDIA GPUs, build with the CUDA toolkit's \
     nvcc on the PATH, or put the HIP-on-CUDA shim beside the binary with \
     `scripts/build-nvidia.sh DIR-OF-THE-BINARY`";
/// What to install, per system.
#[cfg(windows)]
const INSTALL_HINT: &str = "On AMD GPUs, install AMD's HIP SDK for Windows (it sets HIP_PATH; the runtime is \
     amdhip64_6.dll or amdhip64_7.dll in %HIP_PATH%\\bin). On NVIDIA GPUs, build with the CUDA toolkit's \
     nvcc on the PATH, or put the HIP-on-CUDA shim beside the binary with \
     `scripts/build-nvidia.ps1 DIR-OF-THE-BINARY`";

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "could not load a HIP runtime library; tried:")?;
        for attempt in &self.attempts {
            writeln!(f, "  {}: {}", attempt.candidate.display(), attempt.error)?;
        }
        write!(f, "{INSTALL_HINT} ({} names a runtime explicitly).", ffi::LIBRARY_ENV)
    }
}

impl std::error::Error for LoadError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_call_code_and_message() {
        let e = HipError {
            call: "hipImportExternalMemory",
            code: 1,
            name: "hipErrorInvalidValue".into(),
            message: "invalid argument".into(),
        };
        assert_eq!(e.to_string(), "hipImportExternalMemory failed: hipErrorInvalidValue (invalid argument)");
        assert_eq!(e.code(), 1);
        assert!(e.is_unsupported());
        assert!(!e.is_no_device());
    }

    #[test]
    fn load_error_says_what_was_tried_and_what_to_do() {
        let e = LoadError {
            attempts: vec![ffi::LoadAttempt {
                candidate: "/nope/libamdhip64.so".into(),
                error: "cannot open shared object file".into(),
            }],
        };
        let text = e.to_string();
        assert!(text.starts_with("could not load a HIP runtime library"), "{text}");
        assert!(text.contains("/nope/libamdhip64.so: cannot open shared object file"));
        // What to install, for this system.
        #[cfg(not(windows))]
        assert!(text.contains("ROCm's HIP runtime") && text.contains("scripts/build-nvidia.sh"), "{text}");
        #[cfg(windows)]
        assert!(text.contains("AMD's HIP SDK for Windows") && text.contains("scripts/build-nvidia.ps1"), "{text}");
        assert!(text.contains("HIP_RUNTIME_LIBRARY"));
    }
}
