//! Build-script half of the HIP path: compiles `kernels/sinewave.hip` into a
//! code object that the binary embeds (`src/hip/kernel.rs`), and on NVIDIA
//! also builds the HIP-on-CUDA shim (`src/hip/nvidia/shim.cpp`).
//!
//! Outputs, all in `OUT_DIR`:
//! - `sinewave_kernel.bin`: the code object, or an empty file when none was built;
//! - env `HIP_SINEWAVE_KERNEL_DESCRIPTION` (via `cargo:rustc-env`) saying what it is;
//! - on NVIDIA with nvcc: `libamdhip64.so` (Windows: `amdhip64.dll`), the shim; its path
//!   goes to the crate as env `HVS_BUILT_NVIDIA_SHIM`, where the binary looks for the
//!   runtime on its own. Only when the build machine runs the target's system: a shim
//!   cross-built for another system is not attempted (build it there, with
//!   `scripts/build-nvidia.sh` or `scripts/build-nvidia.ps1`).
//!
//! A missing or failing toolchain never fails the build: the tool's output goes
//! to a `cargo:warning` and the binary carries no kernel (the CPU and Vulkan
//! height paths still work, and `--kernel FILE` loads one built elsewhere).

use std::env;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

#[allow(dead_code)] // shared with the crate, which uses more of it
#[path = "hip_logic.rs"]
mod logic;

use logic::Platform;

const KERNEL_SOURCE: &str = "kernels/sinewave.hip";
const SHIM_SOURCE: &str = "src/hip/nvidia/shim.cpp";
const SHIM_EXPORTS: &str = "src/hip/nvidia/exports.map";
const KERNEL_FILE: &str = "sinewave_kernel.bin";
const DESCRIPTION_ENV: &str = "HIP_SINEWAVE_KERNEL_DESCRIPTION";

/// AMD targets built when no GPU is visible and `HIP_OFFLOAD_ARCH` is not set: the GPUs
/// people own today (MI100, MI200, MI300, MI350; RDNA2, RDNA3, RDNA3.5, RDNA4). Each is
/// compiled only if this hipcc knows it (its clang's `--print-supported-cpus`) and accepts
/// it (a per-target compile), so one target an older or newer ROCm lacks (gfx940 is gone
/// from LLVM and ROCm 7; gfx942/950/115x/120x are too new for ROCm 5) never loses the rest.
/// Evidence: LLVM removed gfx940/gfx941 (commit 8615f9aa, cited by
/// <https://github.com/ROCm/xla/pull/116>); Debian 12's hipcc (ROCm 5.2) builds gfx908,
/// gfx90a and gfx1030 but none of gfx942+ or gfx11 (measured in CI, tests/hip_without_gpu.rs).
const DEFAULT_AMD_ARCHS: &[&str] = &[
    "gfx908", "gfx90a", "gfx942", "gfx950", "gfx1030", "gfx1031", "gfx1032", "gfx1100", "gfx1101", "gfx1102",
    "gfx1150", "gfx1151", "gfx1200", "gfx1201",
];
/// NVIDIA target when no local GPU reports its compute capability (H100).
const DEFAULT_NVIDIA_SM: &str = "90";

/// Compiles the kernel (and on NVIDIA the shim); see the module docs.
pub fn build_kernel() {
    println!("cargo:rerun-if-changed={KERNEL_SOURCE}");
    println!("cargo:rerun-if-changed={SHIM_SOURCE}");
    println!("cargo:rerun-if-changed={SHIM_EXPORTS}");
    println!("cargo:rerun-if-changed=build/hip.rs");
    println!("cargo:rerun-if-changed=build/hip_logic.rs");
    for var in ["HIP_PLATFORM", "HIP_OFFLOAD_ARCH", "HIP_PATH", "ROCM_PATH", "CUDA_PATH", "PATH"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    // Installing or removing hipcc or nvcc must rebuild the kernel (a build made before
    // `apt install hipcc` would otherwise keep embedding no kernel): watch the directories
    // the tools are looked for in. Cargo reruns this script when a file in one of them
    // changes; the outputs are rewritten only when they differ, so the crate is rebuilt
    // only when the kernel did change.
    for dir in watched_tool_dirs() {
        println!("cargo:rerun-if-changed={}", dir.display());
    }

    // Cargo always sets OUT_DIR for build scripts; its absence is a broken setup.
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let kernel_path = out_dir.join(KERNEL_FILE);

    let (bytes, description) = match compile(&out_dir) {
        Ok((bytes, description)) => (bytes, description),
        Err(reason) => (Vec::new(), logic::describe_no_kernel(&reason)),
    };
    if fs::read(&kernel_path).ok() != Some(bytes.clone()) {
        if let Err(e) = fs::write(&kernel_path, &bytes) {
            panic!("cannot write {}: {e}", kernel_path.display());
        }
    }
    println!("cargo:rustc-env={DESCRIPTION_ENV}={description}");
}

/// Picks the platform and compiles; `Err` carries the reason there is no kernel.
fn compile(out_dir: &Path) -> Result<(Vec<u8>, String), String> {
    let hipcc = find_tool("hipcc", &hip_bin_dirs());
    let nvcc = find_tool("nvcc", &cuda_bin_dirs());
    let platform = detect_platform(hipcc.as_deref(), nvcc.as_deref());
    match platform {
        Some(Platform::Amd) => match hipcc {
            Some(hipcc) => compile_amd(&hipcc, out_dir),
            None => Err(warn("HIP platform is amd but no hipcc was found".into())),
        },
        Some(Platform::Nvidia) => match nvcc {
            Some(nvcc) => {
                build_shim(&nvcc, out_dir);
                compile_nvidia(&nvcc, out_dir)
            }
            None => Err(warn("HIP platform is nvidia but no nvcc was found".into())),
        },
        None => Err("no hipcc or nvcc found at build time".into()),
    }
}

/// `HIP_PLATFORM`, else `hipconfig --platform`, else whichever compiler exists.
fn detect_platform(hipcc: Option<&Path>, nvcc: Option<&Path>) -> Option<Platform> {
    if let Ok(value) = env::var("HIP_PLATFORM") {
        match logic::parse_platform(&value) {
            Some(p) => return Some(p),
            None => {
                warn(format!("ignoring HIP_PLATFORM={value:?} (expected amd or nvidia)"));
            }
        }
    }
    if let Some(hipconfig) = find_tool("hipconfig", &hip_bin_dirs()) {
        if let Ok(out) = run(Command::new(hipconfig).arg("--platform")) {
            if let Some(p) = logic::parse_platform(&out) {
                return Some(p);
            }
        }
    }
    match (hipcc, nvcc) {
        (Some(_), _) => Some(Platform::Amd),
        (None, Some(_)) => Some(Platform::Nvidia),
        (None, None) => None,
    }
}

fn compile_amd(hipcc: &Path, out_dir: &Path) -> Result<(Vec<u8>, String), String> {
    let wanted = amd_archs();
    let known = supported_amd_archs(hipcc);
    let (candidates, unknown): (Vec<String>, Vec<String>) = match &known {
        Some(known) => wanted.into_iter().partition(|arch| known.iter().any(|k| k == logic::base_arch(arch))),
        None => (wanted, Vec::new()),
    };
    // One compile per target: a target this hipcc (or its device libraries) cannot build
    // is dropped alone.
    let accepted: Vec<String> = std::thread::scope(|scope| {
        let jobs: Vec<_> = candidates
            .iter()
            .map(|arch| scope.spawn(move || compile_amd_targets(hipcc, out_dir, std::slice::from_ref(arch)).is_ok()))
            .collect();
        let built: Vec<bool> = jobs.into_iter().map(|job| job.join().unwrap_or(false)).collect();
        candidates.iter().zip(built).filter(|(_, ok)| *ok).map(|(arch, _)| arch.clone()).collect()
    });
    let rejected: Vec<String> = candidates.iter().filter(|a| !accepted.contains(a)).cloned().collect();
    if accepted.is_empty() {
        return Err(warn(format!("hipcc built the kernel for none of {candidates:?} (unknown to it: {unknown:?})")));
    }
    let bytes = compile_amd_targets(hipcc, out_dir, &accepted).map_err(warn)?;
    let mut description = logic::describe_kernel(Platform::Amd, &accepted);
    let skipped: Vec<String> = unknown.iter().chain(&rejected).cloned().collect();
    if !skipped.is_empty() {
        description.push_str(&format!(" (this hipcc cannot build {})", skipped.join(",")));
    }
    Ok((bytes, description))
}

/// `hipcc --genco` of the kernel for `archs`; the code object's bytes.
fn compile_amd_targets(hipcc: &Path, out_dir: &Path, archs: &[String]) -> Result<Vec<u8>, String> {
    let output = out_dir.join(format!("sinewave-{}.hipfb", archs.join("-").replace(':', "_")));
    let mut cmd = Command::new(hipcc);
    cmd.arg("--genco").arg("-O3");
    for arch in archs {
        cmd.arg(format!("--offload-arch={arch}"));
    }
    cmd.arg(KERNEL_SOURCE).arg("-o").arg(&output);
    let result = run_and_check(&mut cmd, &output, |b| logic::kernel_image_kind(b).is_amd_code_object());
    let _ = fs::remove_file(&output);
    result
}

/// The AMD processors this hipcc's clang knows (`--print-supported-cpus`, which clang
/// prints on stderr: llvm/llvm-project `llvm/lib/MC/MCSubtargetInfo.cpp` writes the list with
/// `errs()`; both streams are read), or `None` when it cannot say.
fn supported_amd_archs(hipcc: &Path) -> Option<Vec<String>> {
    let out = Command::new(hipcc)
        .args(["--target=amdgcn-amd-amdhsa", "-nogpulib", "--print-supported-cpus"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stderr) + String::from_utf8_lossy(&out.stdout);
    let known = logic::parse_supported_cpus(&text);
    (!known.is_empty()).then_some(known)
}

/// `HIP_OFFLOAD_ARCH`, else the local GPUs, else [`DEFAULT_AMD_ARCHS`].
fn amd_archs() -> Vec<String> {
    if let Ok(value) = env::var("HIP_OFFLOAD_ARCH") {
        let archs = logic::parse_arch_list(&value);
        if !archs.is_empty() {
            return archs;
        }
    }
    for tool in ["amdgpu-arch", "offload-arch", "rocm_agent_enumerator"] {
        if let Some(path) = find_tool(tool, &hip_bin_dirs()) {
            if let Ok(out) = run(&mut Command::new(path)) {
                let archs = logic::parse_agent_list(&out);
                if !archs.is_empty() {
                    return archs;
                }
            }
        }
    }
    DEFAULT_AMD_ARCHS.iter().map(|a| a.to_string()).collect()
}

/// nvcc directly, not hipcc: HIP's NVIDIA headers do not build against CUDA 13 (measured on
/// the H100; see src/hip/nvidia/shim.cpp), and hipcc's `--genco` gives PTX text there.
fn compile_nvidia(nvcc: &Path, out_dir: &Path) -> Result<(Vec<u8>, String), String> {
    let sms = nvidia_sms();
    let output = out_dir.join("sinewave.fatbin");
    let mut cmd = Command::new(nvcc);
    cmd.arg("-fatbin").arg("-O3").arg("-x").arg("cu");
    for sm in &sms {
        cmd.arg("-gencode").arg(format!("arch=compute_{sm},code=sm_{sm}"));
    }
    // PTX for the newest target, so newer GPUs can JIT it.
    if let Some(newest) = sms.iter().max_by_key(|sm| sm.parse::<u32>().unwrap_or(0)) {
        cmd.arg("-gencode").arg(format!("arch=compute_{newest},code=compute_{newest}"));
    }
    cmd.arg(KERNEL_SOURCE).arg("-o").arg(&output);
    let bytes =
        run_and_check(&mut cmd, &output, |b| logic::kernel_image_kind(b) == logic::KernelImageKind::NvidiaFatbin)
            .map_err(warn)?;
    let targets: Vec<String> = sms.iter().map(|sm| format!("sm_{sm}")).collect();
    Ok((bytes, logic::describe_kernel(Platform::Nvidia, &targets) + " + PTX"))
}

/// The local GPUs' compute capabilities, else [`DEFAULT_NVIDIA_SM`].
fn nvidia_sms() -> Vec<String> {
    let query = Command::new("nvidia-smi").args(["--query-gpu=compute_cap", "--format=csv,noheader"]).output();
    if let Ok(out) = query {
        if out.status.success() {
            let sms = logic::parse_compute_caps(&String::from_utf8_lossy(&out.stdout));
            if !sms.is_empty() {
                return sms;
            }
        }
    }
    vec![DEFAULT_NVIDIA_SM.to_string()]
}

/// Builds the HIP-on-CUDA shim next to the kernel. Failure only warns: the
/// shim can also be built on the GPU machine with scripts/build-nvidia.sh.
fn build_shim(nvcc: &Path, out_dir: &Path) {
    let target_os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let host_os = env::consts::OS;
    if target_os != host_os {
        warn(format!("not building the HIP-on-CUDA shim for {target_os} on {host_os}: build it on {target_os}"));
        return;
    }
    let windows = target_os == "windows";
    let output = out_dir.join(if windows { "amdhip64.dll" } else { "libamdhip64.so" });
    let mut cmd = Command::new(nvcc);
    if windows {
        // __declspec(dllexport) in the source marks the exports (no version script).
        cmd.args(["-shared", "-O2", "-o"]).arg(&output).arg(SHIM_SOURCE).arg("-lcuda");
    } else {
        cmd.args(["-shared", "-O2", "-Xcompiler", "-fPIC", "-Xlinker"])
            .arg(format!("--version-script={SHIM_EXPORTS}"))
            .args(["-o"])
            .arg(&output)
            .arg(SHIM_SOURCE)
            .arg("-lcuda");
    }
    let magic: fn(&[u8]) -> bool = if windows { |b| b.starts_with(b"MZ") } else { |b| b.starts_with(logic::ELF_MAGIC) };
    match run_and_check(&mut cmd, &output, magic) {
        Ok(_) => {
            // The binary looks for the shim here on its own (src/hip/ffi.rs).
            println!("cargo:rustc-env=HVS_BUILT_NVIDIA_SHIM={}", output.display());
        }
        Err(e) => {
            warn(format!("could not build the HIP-on-CUDA shim: {e}"));
        }
    }
}

/// Runs `cmd`, then checks that `output` exists, is non-empty and passes
/// `magic_ok`. Both the exit status and the file are checked: hipcc on NVIDIA
/// exits 0 after writing the wrong thing (ROCm/HIP `bin/hipcc.pl`, rocm-5.2.0: with
/// HIP_PLATFORM=nvidia, `--genco` becomes `hipcc -ptx`, PTX text rather than a code object).
/// Prints nothing: the caller decides whether a failure deserves a warning.
fn run_and_check(cmd: &mut Command, output: &Path, magic_ok: fn(&[u8]) -> bool) -> Result<Vec<u8>, String> {
    let _ = fs::remove_file(output);
    run(cmd)?;
    let bytes = fs::read(output).map_err(|e| format!("{} did not produce {}: {e}", show(cmd), output.display()))?;
    if bytes.is_empty() {
        return Err(format!("{} produced an empty {}", show(cmd), output.display()));
    }
    if !magic_ok(&bytes) {
        return Err(format!(
            "{} produced {} which is not the expected kind of file (starts with {:02x?})",
            show(cmd),
            output.display(),
            &bytes[..bytes.len().min(8)]
        ));
    }
    Ok(bytes)
}

/// Runs a command; `Ok(stdout)` on success, else `Err` with its output.
fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("cannot run {}: {e}", show(cmd)))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{} failed ({}):\n{}{}",
            show(cmd),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn show(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        s.push(' ');
        s.push_str(&arg.to_string_lossy());
    }
    s
}

/// Prints `message` as a cargo warning (one per line) and returns it.
fn warn(message: String) -> String {
    for line in message.lines().filter(|l| !l.trim().is_empty()) {
        println!("cargo:warning=hip kernel: {line}");
    }
    message
}

fn hip_bin_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        ["HIP_PATH", "ROCM_PATH"].iter().filter_map(env::var_os).map(|p| PathBuf::from(p).join("bin")).collect();
    dirs.push(PathBuf::from("/opt/rocm/bin"));
    dirs
}

fn cuda_bin_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = env::var_os("CUDA_PATH").map(|p| PathBuf::from(p).join("bin")).into_iter().collect();
    dirs.push(PathBuf::from("/usr/local/cuda/bin"));
    dirs
}

/// The existing directories hipcc, hipconfig and nvcc are looked for in (the toolchain
/// directories, then `PATH`).
fn watched_tool_dirs() -> Vec<PathBuf> {
    let path_dirs = env::var_os("PATH").map(|p| env::split_paths(&p).collect::<Vec<_>>()).unwrap_or_default();
    let mut dirs: Vec<PathBuf> = Vec::new();
    for dir in hip_bin_dirs().into_iter().chain(cuda_bin_dirs()).chain(path_dirs) {
        if dir.is_dir() && !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    dirs
}

/// `name` in one of `dirs`, else on `PATH`.
fn find_tool(name: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    let path_dirs = env::var_os("PATH").map(|p| env::split_paths(&p).collect::<Vec<_>>()).unwrap_or_default();
    dirs.iter().chain(path_dirs.iter()).map(|dir| dir.join(OsStr::new(name))).find(|candidate| candidate.is_file())
}
