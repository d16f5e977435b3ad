#!/usr/bin/env bash
# Runs HERE (the build machine): builds the release binary and gathers what the NVIDIA
# machine needs into .gpu/ (git-ignored via .git/info/exclude), to be named in the device
# tool's `carry`. Then, on the device: `bash scripts/gpu-run.sh [verify|bench|...]`.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bins --examples
rm -rf .gpu && mkdir -p .gpu
cp target/release/hip-vulkan-sinewave .gpu/
# The two interop examples (gpu-run.sh examples) and the hand-over measurement (gpu-run.sh
# handover); they find the shim and kernel beside them.
cp target/release/examples/headless_interop target/release/examples/raw_interop target/release/examples/hip_owned_memory target/release/examples/hip_image \
   target/release/examples/handover_cost .gpu/
# The lifetimes test binary, for `gpu-run.sh lifetimes` (the HIP leak test needs a GPU).
test_bin=$(cargo test --release --test lifetimes --no-run --message-format=json 2>/dev/null \
  | grep -o '"executable":"[^"]*lifetimes[^"]*"' | cut -d'"' -f4 | tail -1)
[ -n "$test_bin" ] && cp "$test_bin" .gpu/lifetimes
cp ../shared/vulkan-loader/*.deb .gpu/
# NVIDIA's Vulkan ICD (libGLX_nvidia) needs glvnd's dispatch libraries, which that
# machine's image lacks (seen while bringing the H100 run up, commit a0da438; no log kept).
(cd .gpu && apt-get download libglvnd0 libglx0 libegl1 libopengl0 libgl1 libgles2)
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qx '/.gpu/' "$exclude" 2>/dev/null || echo '/.gpu/' >> "$exclude"
du -sh .gpu
