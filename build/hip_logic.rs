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

/// What a kernel image is, judged by its leading bytes.
///
/// This is the one place that decides it: the build script checks what the compilers
/// wrote with it, the HIP loader wrapper (`hip::kernel_image_kind`) uses it to
/// NUL-terminate PTX, and the app's `--kernel` checks (`app::code_object`) dispatch on
/// it before walking the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelImageKind {
    /// No bytes (no kernel was built).
    Empty,
    /// A clang offload bundle (what `hipcc --genco` writes on ROCm).
    OffloadBundle,
    /// A compressed clang offload bundle (`hipcc --offload-compress`, some ROCm 7 builds by
    /// default).
    CompressedOffloadBundle,
    /// An ELF file: a bare AMD code object or an NVIDIA cubin (`e_machine` says which).
    Elf,
    /// An nvcc fatbin.
    NvidiaFatbin,
    /// PTX text (what hipcc on NVIDIA emits for `--genco`; the loader needs a trailing NUL).
    Ptx,
    /// Anything else (the loader will reject it).
    Unknown,
}

/// The magic numbers at the start of each binary kind, in the order they are tested.
pub const KERNEL_IMAGE_MAGICS: [(KernelImageKind, &[u8]); 4] = [
    (KernelImageKind::OffloadBundle, b"__CLANG_OFFLOAD_BUNDLE__"),
    (KernelImageKind::CompressedOffloadBundle, b"CCOB"),
    (KernelImageKind::Elf, ELF_MAGIC),
    // 0xBA55ED50, little-endian.
    (KernelImageKind::NvidiaFatbin, &[0x50, 0xed, 0x55, 0xba]),
];

/// Magic at the start of an ELF file.
pub const ELF_MAGIC: &[u8] = b"\x7fELF";

/// How far into a file [`kernel_image_kind`] looks for PTX directives.
const PTX_HEAD: usize = 4096;

/// Classifies a kernel image by its leading bytes.
pub fn kernel_image_kind(bytes: &[u8]) -> KernelImageKind {
    if bytes.is_empty() {
        return KernelImageKind::Empty;
    }
    if let Some(&(kind, _)) = KERNEL_IMAGE_MAGICS.iter().find(|(_, magic)| bytes.starts_with(magic)) {
        return kind;
    }
    // PTX: text with a `.version` or `.target` directive near the start. Only the valid
    // UTF-8 prefix of the head is read, so a multi-byte character cut at the head's end
    // (or a bad byte further on, which the full check reports) does not hide it.
    let head = &bytes[..bytes.len().min(PTX_HEAD)];
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default(),
    };
    let is_ptx = text.lines().any(|line| {
        let line = line.trim_start();
        line.starts_with(".version") || line.starts_with(".target")
    });
    if is_ptx {
        KernelImageKind::Ptx
    } else {
        KernelImageKind::Unknown
    }
}

impl KernelImageKind {
    /// Whether this is what `hipcc --genco` should produce for AMD: an offload bundle,
    /// compressed or not, or a bare ELF code object.
    pub fn is_amd_code_object(self) -> bool {
        matches!(self, Self::OffloadBundle | Self::CompressedOffloadBundle | Self::Elf)
    }
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
