#!/usr/bin/env bash
# Runs a Windows program of this project under Wine on Linux: cargo's runner for the
# x86_64-pc-windows-gnu target (.cargo/config.toml), so `cargo test --target
# x86_64-pc-windows-gnu` runs the Windows unit tests here, and the Wine test
# (tests/wine.rs) runs the Windows demo.
#
# Usage: scripts/wine-run.sh PROGRAM.exe [ARGS...]
# Needs: wine64 (Debian's 8.0 is enough), gcc-mingw-w64-x86-64, and for Vulkan a display:
# with no DISPLAY set the program runs under xvfb-run (Wine's Vulkan goes through its X11
# driver even offscreen).
set -euo pipefail

if [[ $# -lt 1 ]]; then
    echo "usage: $0 PROGRAM.exe [ARGS...]" >&2
    exit 2
fi
exe=$1
shift
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
support=${CARGO_TARGET_DIR:-$repo/target}/wine-support
mkdir -p "$support"

wine=$(command -v wine64 || true)
[[ -n $wine ]] || wine=/usr/lib/wine/wine64
if [[ ! -x $wine ]]; then
    echo "error: no wine64 (apt-get install wine64; scripts/test.sh does)" >&2
    exit 1
fi

# Rust's std imports ProcessPrng from bcryptprimitives.dll, which Wine 8 lacks: build the
# stand-in (scripts/wine/bcryptprimitives.c) once and put it beside the program, where
# Windows looks first.
dll=$support/bcryptprimitives.dll
src=$repo/scripts/wine/bcryptprimitives.c
if [[ ! -s $dll || $src -nt $dll ]]; then
    x86_64-w64-mingw32-gcc -O2 -shared -o "$dll" "$src" -ladvapi32
fi
cp -f "$dll" "$(dirname "$exe")/"

# A prefix of our own, made quietly: no Mono or Gecko installer, no debug chatter.
export WINEPREFIX=${HVS_WINEPREFIX:-$support/prefix}
export WINEDEBUG=${WINEDEBUG:--all}
export WINEDLLOVERRIDES="mscoree,mshtml=;bcryptprimitives=n"

if [[ -z ${DISPLAY:-} ]]; then
    exec xvfb-run -a -s "-screen 0 1280x1024x24" "$wine" "$exe" "$@"
fi
exec "$wine" "$exe" "$@"
