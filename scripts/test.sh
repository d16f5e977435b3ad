#!/usr/bin/env bash
# The test command (README, CI). On Debian/Ubuntu it first installs what the tests need
# (as root, or through sudo; otherwise it prints the one apt-get line and stops), then runs
# the unit tests, the lavapipe and Xvfb integration tests and the kernel build checks, and
# the library's unit tests once more with the optional `hip-runtime-sys` feature; then the
# Windows build: cross-compiled with mingw-w64, its unit tests run under Wine, and the
# Windows demo drawn under Wine on lavapipe and checked against the Linux golden images
# (tests/wine.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  mesa-vulkan-drivers      # lavapipe: a CPU Vulkan 1.3 device
  libvulkan1               # the Vulkan loader
  vulkan-validationlayers  # VK_LAYER_KHRONOS_validation, which the tests require
  xvfb xauth xdotool       # a display for the windowed tests, resizes, keys and clicks
  x11-apps                 # xwd: the live-switching test captures the window with it
  libxkbcommon-x11-0       # winit on X11
  hipcc libamdhip64-dev    # hipcc builds the AMD kernel; the HIP headers and runtime (no GPU)
                           # for the ABI, runtime-loading and no-GPU tests
  gcc-mingw-w64-x86-64     # the linker of the Windows build (x86_64-pc-windows-gnu)
  wine64                   # runs the Windows build's tests and demo (scripts/wine-run.sh)
)
if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    install=(apt-get install -y -qq --no-install-recommends "${missing[@]}")
    if [ "$(id -u)" = 0 ]; then
      sudo=()
    elif command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      echo "The tests need these packages, and installing them needs root:" >&2
      echo "  apt-get install -y --no-install-recommends ${missing[*]}" >&2
      exit 1
    fi
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive "${install[@]}"
  fi
else
  echo "not a Debian/Ubuntu system: install by hand the equivalents of: ${packages[*]}" >&2
fi

# Rust's standard library for the Windows target (a no-op once installed).
windows=x86_64-pc-windows-gnu
if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx "$windows"; then
  rustup target add "$windows"
fi

cargo test --all-targets "$@"
# The optional feature swaps in hip-runtime-sys's handle types (it needs the HIP headers).
cargo test --lib --features hip-runtime-sys "$@"

# Windows: the unit tests under Wine (cargo's runner, .cargo/config.toml), then the demo
# under Wine against the Linux golden images (tests/wine.rs, ignored by a plain cargo test).
cargo test --target "$windows" --lib "$@"
cargo build --target "$windows" --bin hip-vulkan-sinewave
cargo test --test wine "$@" -- --include-ignored
