# Builds the NVIDIA half of the HIP path on Windows with the CUDA toolkit, for a binary
# built elsewhere (the Windows counterpart of scripts/build-nvidia.sh):
#   OUTDIR\amdhip64.dll    the HIP-on-CUDA shim (src/hip/nvidia/shim.cpp, its _WIN32 branches)
#   OUTDIR\sinewave.fatbin the kernel for SM_ARCH + its PTX
# Give the binary's directory as OUTDIR: the binary looks beside itself for both.
#
# Usage (from a "x64 Native Tools Command Prompt", so nvcc finds cl.exe):
#   powershell -ExecutionPolicy Bypass -File scripts\build-nvidia.ps1 OUTDIR
# Env: CUDA_PATH (set by the CUDA installer), SM_ARCH (default: the local GPU's, else 90).
#
# Not run: no Windows machine with CUDA was available to the project (README, "Windows").
param([Parameter(Mandatory = $true)][string]$OutDir)
$ErrorActionPreference = "Stop"

$repo = Split-Path -Parent $PSScriptRoot
$nvcc = Join-Path $env:CUDA_PATH "bin\nvcc.exe"
if (-not (Test-Path $nvcc)) { throw "no nvcc at $nvcc (set CUDA_PATH to the CUDA toolkit)" }
$sm = $env:SM_ARCH
if (-not $sm) {
    $cap = (& nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>$null | Select-Object -First 1)
    $sm = if ($cap) { $cap.Trim().Replace(".", "") } else { "90" }
}
New-Item -ItemType Directory -Force -Path $OutDir | Out-Null

# The shim: __declspec(dllexport) marks the hip* entry points; it needs only nvcuda.dll.
& $nvcc -shared -O2 -o (Join-Path $OutDir "amdhip64.dll") (Join-Path $repo "src\hip\nvidia\shim.cpp") -lcuda
if ($LASTEXITCODE -ne 0) { throw "nvcc failed building the shim" }

# The kernel: SASS for sm_$sm plus PTX so newer GPUs can JIT it.
& $nvcc -fatbin -O3 -x cu -gencode "arch=compute_$sm,code=sm_$sm" -gencode "arch=compute_$sm,code=compute_$sm" `
    -o (Join-Path $OutDir "sinewave.fatbin") (Join-Path $repo "kernels\sinewave.hip")
if ($LASTEXITCODE -ne 0) { throw "nvcc failed building the kernel" }

# Check what the tools produced, not only their exit status.
$dll = [System.IO.File]::ReadAllBytes((Join-Path $OutDir "amdhip64.dll"))
if ($dll.Length -lt 2 -or $dll[0] -ne 0x4D -or $dll[1] -ne 0x5A) { throw "amdhip64.dll is not a DLL" }
$fatbin = [System.IO.File]::ReadAllBytes((Join-Path $OutDir "sinewave.fatbin"))
if ($fatbin.Length -lt 4 -or $fatbin[0] -ne 0x50 -or $fatbin[1] -ne 0xED -or $fatbin[2] -ne 0x55 -or $fatbin[3] -ne 0xBA) {
    throw "sinewave.fatbin is not a fatbin"
}
Write-Output "built $OutDir\amdhip64.dll and $OutDir\sinewave.fatbin (sm_$sm + PTX)"
