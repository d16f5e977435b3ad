#!/usr/bin/env bash
# Builds the NVIDIA half of the HIP path on a machine with the CUDA toolkit,
# for a binary built elsewhere (e.g. on a CPU-only CI machine):
#   OUTDIR/libamdhip64.so   the HIP-on-CUDA shim (src/hip/nvidia/shim.cpp)
#   OUTDIR/sinewave.fatbin  the kernel for SM_ARCH + its PTX
# Give the binary's directory as OUTDIR: the binary looks beside itself for both, so
# `hip-vulkan-sinewave` then runs the HIP path with no flag and no environment variable.
#
# Usage: scripts/build-nvidia.sh OUTDIR
# Env:   CUDA_PATH (default /usr/local/cuda), SM_ARCH (default: the local GPU's, by
#        nvidia-smi, else 90).
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
outdir=$1
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cuda=${CUDA_PATH:-/usr/local/cuda}
nvcc=$cuda/bin/nvcc
sm=${SM_ARCH:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '.[:space:]')}
[[ $sm =~ ^[0-9]+$ ]] || sm=90

if [[ ! -x $nvcc ]]; then
    echo "error: no nvcc at $nvcc (set CUDA_PATH to the CUDA toolkit)" >&2
    exit 1
fi
mkdir -p "$outdir"

# The shim: nvcc links the CUDA runtime statically, so it needs only libcuda.
# The version script exports the hip* entry points and nothing else.
"$nvcc" -shared -O2 -Xcompiler -fPIC \
    -Xlinker "--version-script=$repo/src/hip/nvidia/exports.map" \
    -o "$outdir/libamdhip64.so" "$repo/src/hip/nvidia/shim.cpp" -lcuda

# The kernel: SASS for sm_$sm plus PTX so newer GPUs can JIT it.
"$nvcc" -fatbin -O3 -x cu \
    -gencode "arch=compute_$sm,code=sm_$sm" \
    -gencode "arch=compute_$sm,code=compute_$sm" \
    -o "$outdir/sinewave.fatbin" "$repo/kernels/sinewave.hip"

# Check what the tools produced, not only their exit status.
[[ -s $outdir/libamdhip64.so ]] || { echo "error: shim not built" >&2; exit 1; }
for sym in hipGetDeviceCount hipModuleLoadData hipImportExternalMemory \
           hipSignalExternalSemaphoresAsync hip_vulkan_sinewave_nvidia_shim; do
    if ! nm -D --defined-only "$outdir/libamdhip64.so" | grep -qw "$sym"; then
        echo "error: $outdir/libamdhip64.so does not export $sym" >&2
        exit 1
    fi
done
magic=$(od -An -tx1 -N4 "$outdir/sinewave.fatbin" | tr -d ' \n')
if [[ $magic != 50ed55ba ]]; then
    echo "error: $outdir/sinewave.fatbin is not a fatbin (starts with $magic)" >&2
    exit 1
fi
echo "built $outdir/libamdhip64.so and $outdir/sinewave.fatbin (sm_$sm + PTX)"
