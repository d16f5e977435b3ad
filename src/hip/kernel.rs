//! The sinewave kernel image embedded at build time by `build/hip.rs`.

/// Name of the kernel in the code object (`extern "C"` in kernels/sinewave.hip).
///
/// Its signature: `sinewave(float* heights, unsigned int width,
/// unsigned int height, float time)`, writing `heights[y * width + x]`;
/// launch a 2-D grid covering `width × height`.
pub const KERNEL_NAME: &str = "sinewave";

/// The shading kernel of the same code object: `sinewave_normals(unsigned short* texels,
/// unsigned int width, unsigned int height, float time)`, writing each texel's surface
/// normal as four halves (RGBA16F, `w = 0`) at `texels[4 * (y * width + x)]`.
pub const NORMALS_KERNEL_NAME: &str = "sinewave_normals";

/// The same through a surface object on the shading image itself:
/// `sinewave_normals_surface(surface, unsigned int width, unsigned int height, float time)`
/// (CUDA builds only: it runs where the runtime maps Vulkan images, which ROCm does not).
pub const NORMALS_SURFACE_KERNEL_NAME: &str = "sinewave_normals_surface";

/// The code object `build/hip.rs` compiled from `kernels/sinewave.hip`;
/// EMPTY when no HIP toolchain was found or the compile failed (then
/// [`EMBEDDED_KERNEL_DESCRIPTION`] says why and how to get one).
pub const EMBEDDED_KERNEL: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/sinewave_kernel.bin"));

/// What [`EMBEDDED_KERNEL`] holds, e.g. "amdgcn code object for
/// gfx90a,gfx940,gfx1030", or "none: ..." with the reason and the remedy.
pub const EMBEDDED_KERNEL_DESCRIPTION: &str = env!("HIP_SINEWAVE_KERNEL_DESCRIPTION");

pub use build_logic::{kernel_image_kind, KernelImageKind, KERNEL_IMAGE_MAGICS};

/// The build script's pure helpers, shared so the same magic checks run at
/// build time and at run time, and are unit-tested here.
#[allow(dead_code)]
#[path = "../../build/hip_logic.rs"]
mod build_logic;

#[cfg(test)]
mod tests {
    use super::build_logic::*;
    use super::*;

    #[test]
    fn classifies_images() {
        assert_eq!(kernel_image_kind(b""), KernelImageKind::Empty);
        assert_eq!(kernel_image_kind(b"__CLANG_OFFLOAD_BUNDLE__\x02"), KernelImageKind::OffloadBundle);
        assert_eq!(kernel_image_kind(b"\x7fELF\x02\x01"), KernelImageKind::Elf);
        // A compressed bundle (hipcc --offload-compress): the build script must accept it.
        assert_eq!(kernel_image_kind(b"CCOB\x03\x00\x01\x00"), KernelImageKind::CompressedOffloadBundle);
        for amd in [KernelImageKind::OffloadBundle, KernelImageKind::CompressedOffloadBundle, KernelImageKind::Elf] {
            assert!(amd.is_amd_code_object(), "{amd:?}");
        }
        assert_eq!(kernel_image_kind(&[0x50, 0xed, 0x55, 0xba, 0x01, 0x00]), KernelImageKind::NvidiaFatbin);
        assert_eq!(kernel_image_kind(b"//\n.version 8.8\n.target sm_90\n.address_size 64\n"), KernelImageKind::Ptx);
        assert_eq!(kernel_image_kind(b"garbage"), KernelImageKind::Unknown);
        // A multi-byte character cut at the end of the inspected head, or a bad byte after
        // the directives, does not hide PTX (the full check in app::code_object reports it).
        let mut long = b".version 8.8\n.target sm_90\n".to_vec();
        long.resize(4095, b' ');
        long.extend_from_slice("\u{e9}".as_bytes());
        assert_eq!(kernel_image_kind(&long), KernelImageKind::Ptx);
        assert_eq!(kernel_image_kind(b".version 8.8\n\xff"), KernelImageKind::Ptx);
        assert_eq!(kernel_image_kind(b"\xff.version 8.8\n"), KernelImageKind::Unknown);
    }

    #[test]
    fn embedded_kernel_matches_its_description() {
        if EMBEDDED_KERNEL.is_empty() {
            assert!(EMBEDDED_KERNEL_DESCRIPTION.starts_with("none: "));
        } else {
            assert_ne!(kernel_image_kind(EMBEDDED_KERNEL), KernelImageKind::Unknown);
            assert!(!EMBEDDED_KERNEL_DESCRIPTION.starts_with("none"));
        }
    }

    #[test]
    fn parses_platforms() {
        assert_eq!(parse_platform("amd\n"), Some(Platform::Amd));
        assert_eq!(parse_platform("HCC"), Some(Platform::Amd));
        assert_eq!(parse_platform(" nvidia "), Some(Platform::Nvidia));
        assert_eq!(parse_platform("nvcc"), Some(Platform::Nvidia));
        assert_eq!(parse_platform("spirv"), None);
    }

    #[test]
    fn parses_arch_lists() {
        assert_eq!(parse_arch_list("gfx90a, gfx1030;gfx90a"), vec!["gfx90a", "gfx1030"]);
        assert!(parse_arch_list(" , ").is_empty());
        assert_eq!(parse_agent_list("gfx000\ngfx90a\ngfx90a\n"), vec!["gfx90a"]);
        assert!(parse_agent_list("gfx000\n").is_empty());
        assert!(parse_agent_list("Traceback (most recent call last):").is_empty());
    }

    #[test]
    fn parses_the_processors_clang_supports() {
        // Debian 12's hipcc 5.2 (clang 15) prints this on stderr (excerpt).
        let clang15 = "Debian clang version 15.0.6\nTarget: amdgcn-amd-amdhsa\nAvailable CPUs for this target:\n\n\
                       \tgfx1030\n\tgfx1100\n\tgfx90a\n\tgfx940\n\tverde\n\n\
                       Use -mcpu or -mtune to specify the target's processor.\n";
        assert_eq!(parse_supported_cpus(clang15), vec!["gfx1030", "gfx1100", "gfx90a", "gfx940"]);
        assert!(parse_supported_cpus("clang: error: unknown argument").is_empty());
        assert_eq!(base_arch("gfx90a:xnack+"), "gfx90a");
        assert_eq!(base_arch("gfx1100"), "gfx1100");
    }

    #[test]
    fn parses_compute_caps() {
        assert_eq!(parse_compute_caps("9.0\n9.0\n8.6\n"), vec!["90", "86"]);
        assert!(parse_compute_caps("[N/A]\n").is_empty());
        assert!(parse_compute_caps("").is_empty());
    }

    #[test]
    fn describes_kernels() {
        let archs = vec!["gfx90a".to_string(), "gfx1030".to_string()];
        assert_eq!(describe_kernel(Platform::Amd, &archs), "amdgcn code object for gfx90a,gfx1030");
        let none = describe_no_kernel("no hipcc or nvcc found at build time");
        assert!(none.starts_with("none: no hipcc or nvcc found at build time; install"));
        assert!(none.contains("--kernel FILE"));
    }
}
