//! Pure helpers of the kernel build (no processes, no environment), shared by
//! `build/hip.rs` and the crate (`src/hip/kernel.rs` includes this file), so
//! build time and run time agree on the magic checks and the crate's unit
//! tests cover the parsing rules.

/// Which HIP platform the kernel is compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    /// ROCm: `hipcc --genco` produces an AMD code object (offload bundle).
    Amd,
    /// CUDA: `nvcc -fatbin` produces a fatbin the HIP-on-CUDA shim loads.
    Nvidia,
}

/// Parses a platform name as `HIP_PLATFORM` or `hipconfig --platform` spell it
/// (`amd`/`hcc`, `nvidia`/`nvcc`); `None` for anything else.
pub fn parse_platform(text: &str) -> Option<Platform> {
    match text.trim().to_ascii_lowercase().as_str() {
        "amd" | "hcc" => Some(Platform::Amd),
        "nvidia" | "nvcc" => Some(Platform::Nvidia),
        _ => None,
    }
}

/// Splits a comma- or whitespace-separated list of offload architectures
/// (`HIP_OFFLOAD_ARCH=gfx90a,gfx1030`), dropping empty entries and duplicates.
pub fn parse_arch_list(text: &str) -> Vec<String> {
    let mut archs: Vec<String> = Vec::new();
    for arch in text.split(|c: char| c == ',' || c == ';' || c.is_whitespace()) {
        let arch = arch.trim();
        if !arch.is_empty() && !archs.iter().any(|a| a == arch) {
            archs.push(arch.to_string());
        }
    }
    archs
}

/// Keeps the real GPUs from `rocm_agent_enumerator` / `offload-arch` output:
/// lines that start with `gfx`, without the CPU agent `gfx000`.
pub fn parse_agent_list(output: &str) -> Vec<String> {
    parse_arch_list(output).into_iter().filter(|a| a.starts_with("gfx") && a != "gfx000").collect()
}

/// The processors in clang's `--print-supported-cpus` output (one per line, indented,
/// after "Available CPUs for this target:"): the `gfx…` names.
pub fn parse_supported_cpus(output: &str) -> Vec<String> {
    output.lines().map(str::trim).filter(|l| l.starts_with("gfx") && !l.contains(' ')).map(String::from).collect()
}

/// A target id without its features: `gfx90a:xnack+` → `gfx90a`.
pub fn base_arch(target: &str) -> &str {
    target.split(':').next().unwrap_or(target)
}

/// Parses `nvidia-smi --query-gpu=compute_cap --format=csv,noheader` output
/// ("9.0", one line per GPU) into the SM numbers ("90"), without duplicates.
pub fn parse_compute_caps(output: &str) -> Vec<String> {
    let mut caps: Vec<String> = Vec::new();
    for line in output.lines() {
        let Some((major, minor)) = line.trim().split_once('.') else {
            continue;
        };
        let (major, minor) = (major.trim(), minor.trim());
        let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
        if digits(major) && digits(minor) {
            let sm = format!("{major}{minor}");
            if !caps.contains(&sm) {
                caps.push(sm);
            }
        }
    }
    caps
}

/// Magic at the start of a clang offload bundle (what `hipcc --genco` writes).
pub const CLANG_OFFLOAD_BUNDLE_MAGIC: &[u8] = b"__CLANG_OFFLOAD_BUNDLE__";
/// Magic at the start of an ELF file (a bare AMD code object).
pub const ELF_MAGIC: &[u8] = b"\x7fELF";
/// Magic of an nvcc fatbin: 0xBA55ED50, little-endian.
pub const NVIDIA_FATBIN_MAGIC: &[u8] = &0xBA55_ED50_u32.to_le_bytes();

/// Magic of a compressed clang offload bundle (`hipcc --offload-compress`, some ROCm 7
/// builds by default).
pub const COMPRESSED_OFFLOAD_BUNDLE_MAGIC: &[u8] = b"CCOB";

/// Whether `bytes` looks like what `hipcc --genco` should produce for AMD: an offload
/// bundle, compressed or not, or a bare ELF code object.
pub fn is_amd_code_object(bytes: &[u8]) -> bool {
    bytes.starts_with(CLANG_OFFLOAD_BUNDLE_MAGIC)
        || bytes.starts_with(COMPRESSED_OFFLOAD_BUNDLE_MAGIC)
        || bytes.starts_with(ELF_MAGIC)
}

/// Whether `bytes` looks like an nvcc fatbin.
pub fn is_nvidia_fatbin(bytes: &[u8]) -> bool {
    bytes.starts_with(NVIDIA_FATBIN_MAGIC)
}

/// Whether `bytes` looks like PTX text (what hipcc on NVIDIA emits for
/// `--genco`, or a `.ptx` file given with `--kernel`): printable text whose
/// first directive is `.version` or that carries a `.target` line.
pub fn looks_like_ptx(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let Ok(text) = std::str::from_utf8(head) else {
        return false;
    };
    text.lines().any(|line| {
        let line = line.trim_start();
        line.starts_with(".version") || line.starts_with(".target")
    })
}

/// Human-readable description of a compiled kernel, stored in the binary.
pub fn describe_kernel(platform: Platform, targets: &[String]) -> String {
    match platform {
        Platform::Amd => format!("amdgcn code object for {}", targets.join(",")),
        Platform::Nvidia => format!("nvcc fatbin for {}", targets.join(",")),
    }
}

/// Description stored when no kernel was built (`reason` says why); the
/// run-time error shows it.
pub fn describe_no_kernel(reason: &str) -> String {
    format!(
        "none: {reason}; install ROCm (hipcc) or the CUDA toolkit (nvcc) and rebuild, \
         or pass --kernel FILE with a code object built elsewhere \
         (scripts/build-nvidia.sh builds one for NVIDIA)"
    )
}
