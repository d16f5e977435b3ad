//! `--kernel FILE` checks: `code_object::validate` never panics on arbitrary or
//! damaged input, and the binary refuses a truncated code object before HIP loads.

mod common;
use common::*;

use hip_vulkan_sinewave::app::code_object::validate;
use hip_vulkan_sinewave::hip::{EMBEDDED_KERNEL, EMBEDDED_KERNEL_DESCRIPTION, KERNEL_NAME};
use proptest::prelude::*;

/// The AMD offload bundle build.rs embedded; the tests need hipcc at build time.
fn real_bundle() -> &'static [u8] {
    assert!(
        EMBEDDED_KERNEL.starts_with(b"__CLANG_OFFLOAD_BUNDLE__"),
        "these tests need the embedded AMD offload bundle, but the build made none ({EMBEDDED_KERNEL_DESCRIPTION}); \
         install ROCm (hipcc) and rebuild"
    );
    EMBEDDED_KERNEL
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = validate(&bytes, KERNEL_NAME);
    }

    #[test]
    fn arbitrary_bytes_after_a_magic_never_panic(
        magic in prop::sample::select(vec![
            &b"__CLANG_OFFLOAD_BUNDLE__"[..], b"CCOB", b"\x7fELF\x02\x01\x01", b"\x50\xed\x55\xba\x01\x00",
            b".version 7.0\n.target sm_80\n",
        ]),
        tail in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        let _ = validate(&[magic, &tail[..]].concat(), KERNEL_NAME);
    }

    #[test]
    fn truncated_real_bundles_are_rejected(len in 0..EMBEDDED_KERNEL.len()) {
        let err = validate(&real_bundle()[..len], KERNEL_NAME).expect_err("a truncated bundle is rejected");
        prop_assert!(len == 0 || err.is_truncated(), "{len}: {err}");
    }

    #[test]
    fn mutated_real_bundles_never_panic(at in 0..EMBEDDED_KERNEL.len(), byte in any::<u8>()) {
        let mut image = real_bundle().to_vec();
        image[at] = byte;
        let _ = validate(&image, KERNEL_NAME);
    }

    #[test]
    fn mutated_bundle_headers_never_panic(at in 0..0x100usize, byte in any::<u8>()) {
        // The entry table lies in the first 256 bytes: hit it more often.
        let mut image = real_bundle().to_vec();
        image[at] = byte;
        let _ = validate(&image, KERNEL_NAME);
    }
}

#[test]
fn the_binary_refuses_a_truncated_bundle_before_loading_hip() {
    let bundle = real_bundle();
    let dir = scratch_dir("kernel-files");
    let file = dir.join("truncated.co");
    std::fs::write(&file, &bundle[..bundle.len() - 1000]).unwrap();
    let out = run_demo(&["--headless", "--heights", "hip", "--kernel", file.to_str().unwrap()]);
    assert_clean_failure(&out, "truncated: offload bundle entry");
    assert_clean_failure(&out, "hipcc --genco");
}

#[test]
fn the_binary_refuses_a_bundle_without_the_kernel() {
    let dir = scratch_dir("kernel-files-renamed");
    let file = dir.join("renamed.co");
    // Same length, so every offset stays valid; only the symbol names change.
    let mut image = real_bundle().to_vec();
    let (mut at, mut renamed) = (0, 0);
    while let Some(pos) = image[at..].windows(8).position(|w| w == b"sinewave") {
        image[at + pos] = b'S';
        at += pos + 8;
        renamed += 1;
    }
    assert!(renamed > 0, "the embedded bundle has no 'sinewave' string");
    std::fs::write(&file, &image).unwrap();
    let out = run_demo(&["--headless", "--heights", "hip", "--kernel", file.to_str().unwrap()]);
    assert_clean_failure(&out, "no kernel named 'sinewave' in the symbol table");
}
