#!/usr/bin/env bash
# Runs ON the NVIDIA GPU machine, from the repository root, with .gpu/ carried over
# (see scripts/gpu-prepare.sh): unpacks the Vulkan loader and validation layers, builds the
# HIP-on-CUDA shim and the kernel with nvcc, then runs the requested checks.
# Output files go to $OUT (the device tool returns them).
#   bash scripts/gpu-run.sh verify   # every sync strategy, validation on, --verify
#   bash scripts/gpu-run.sh bench    # the benchmark table and benchmarks/h100.json
#   bash scripts/gpu-run.sh examples # the two interop examples
#   bash scripts/gpu-run.sh handover # what one HIP<->Vulkan hand-over costs (examples/handover_cost.rs)
#   bash scripts/gpu-run.sh lifetimes  # the HIP leak test
#   bash scripts/gpu-run.sh hip-memory # --memory-owner hip cases only (also part of verify)
#   bash scripts/gpu-run.sh shading    # --shading cases only (also part of verify)
#   bash scripts/gpu-run.sh stream-wait  # --sync stream-wait cases only (also part of verify)
#   bash scripts/gpu-run.sh live       # --switches: the window's live switches, headless (also part of verify)
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-verify}
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"

# The H100 image has no Vulkan loader (measured 2026-11): unpack Debian's libvulkan1 and
# vulkan-validationlayers 1.3.239, which load on its 1.4 NVIDIA driver (measured).
for f in .gpu/*.deb; do dpkg -x "$f" /; done
ldconfig
# The image's /usr/share ICD names libGLX_nvidia, which fails headless; prefer the
# container toolkit's ICD when it is there. (Seen while bringing the H100 run up, commit
# a0da438; no log of the failure was kept.)
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
           /etc/vulkan/icd.d/nvidia_icd.json; do
  if [ -f "$icd" ]; then export VK_DRIVER_FILES=$icd; echo "VK_DRIVER_FILES=$icd"; break; fi
done
export PATH=/usr/local/cuda/bin:$PATH
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
nvcc --version | tail -2

# The shim and the kernel go beside the binary, where it looks for them on its own: no
# HIP_RUNTIME_LIBRARY, no --kernel. Beside the binary also wins over the stray
# /lib/x86_64-linux-gnu/libamdhip64.so.5 this image carries (measured; src/hip/ffi.rs).
# Every run below is --headless: with a swapchain the NVIDIA driver crashed in
# vkCreateDevice under Xvfb (SIGSEGV, a null call from libnvidia-eglcore; cuda-gdb, 2026-11),
# so the windowed path is tested on lavapipe only (tests/windowed.rs, tests/window_stress.rs).
bash scripts/build-nvidia.sh .gpu
BIN=.gpu/hip-vulkan-sinewave
export RUST_LOG=${RUST_LOG:-info}

# Runs one case: the demo with ARGS, its output to LOG; on success prints the lines that
# match PATTERN and "=== ok", else the log's tail and "=== FAILED" (and returns 1).
run_case() {
  local log=$1 pattern=$2
  shift 2
  if $BIN "$@" > "$log" 2>&1; then
    grep -E "$pattern" "$log" | cut -c1-240; echo "=== ok"
  else
    tail -8 "$log"; echo "=== FAILED"; return 1
  fi
}

# What every fixed-step case shares: validation on, --verify, 241 frames at 60 Hz steps.
FIXED=(--headless --validation --verify --size 1280x720 --frames 241 --time 0.5 --time-step 0.0166)
# The same with the wall clock (run-ahead chosen automatically).
WALL=(--headless --validation --verify --size 1280x720 --frames 600 --wall-clock)

# --memory-owner hip: HIP's memory (hipMemCreate, exported as an fd) imported into Vulkan,
# with every strategy, run-ahead beyond K and the wall clock, validation on, --verify.
verify_hip_memory() {
  local failed=0 cfg
  for cfg in "timeline 2 1 1024x1024" "binary 2 1 1024x1024" "host 2 1 1024x1024" "serial 1 1 1024x1024" \
             "timeline 2 16 1024x1024" "timeline 3 3 4097x1031" "timeline 2 1 33x7"; do
    set -- $cfg
    echo "=== --memory-owner hip --sync $1 --frames-in-flight $2 --run-ahead $3 --grid $4"
    run_case "$OUT/verify-hip-memory-$1-k$2-ahead$3-$4.log" "allocated by HIP|heights:|verify:" "${FIXED[@]}" \
      --memory-owner hip --sync "$1" --frames-in-flight "$2" --run-ahead "$3" --grid "$4" || failed=1
  done
  echo "=== --memory-owner hip --wall-clock (auto run-ahead)"
  run_case "$OUT/verify-hip-memory-wall.log" "run-ahead:|verify:" "${WALL[@]}" --memory-owner hip \
    --grid 1024x1024 || failed=1
  return $failed
}

# --shading: the image HIP writes (directly, and through the copy path ROCm needs) and the
# vertex path, with every strategy, both memory owners, run-ahead and the wall clock;
# validation (with synchronization validation) on, --verify checks heights and image.
verify_shading() {
  local failed=0 cfg
  for cfg in "image timeline 2 1 vulkan 1024x1024" "image binary 2 1 vulkan 1024x1024" \
             "image host 2 1 vulkan 1024x1024" "image serial 1 1 vulkan 1024x1024" \
             "image-copy timeline 2 1 vulkan 1024x1024" "image-copy host 2 1 vulkan 1024x1024" \
             "image-copy serial 1 1 vulkan 256x256" "image timeline 2 16 vulkan 1024x1024" \
             "image-copy timeline 3 8 vulkan 1000x45" "image timeline 2 1 hip 1024x1024" \
             "image binary 2 1 hip 1024x1024" "image host 2 1 hip 1024x1024" "image serial 1 1 hip 1024x1024" \
             "image-copy timeline 2 4 hip 4097x1031" "vertex timeline 2 1 vulkan 1024x1024" \
             "vertex serial 1 1 hip 1024x1024"; do
    set -- $cfg
    echo "=== --shading $1 --sync $2 --frames-in-flight $3 --run-ahead $4 --memory-owner $5 --grid $6"
    run_case "$OUT/verify-shading-$1-$2-k$3-ahead$4-$5-$6.log" "shading:|heights written|verify:" "${FIXED[@]}" \
      --shading "$1" --sync "$2" --frames-in-flight "$3" --run-ahead "$4" --memory-owner "$5" --grid "$6" || failed=1
  done
  echo "=== --shading image --wall-clock (auto run-ahead)"
  run_case "$OUT/verify-shading-wall.log" "run-ahead:|verify:" "${WALL[@]}" --shading image --grid 1024x1024 \
    || failed=1
  $BIN --headless --shading image --frames 3 --time 1.0 --size 1280x720 \
    --screenshot "$OUT/screenshot-image-shading.png" 2>&1 | grep -E "heights written|error"
  return $failed
}

# --sync stream-wait: HIP waits for Vulkan's draws on the GPU (hipStreamWaitValue32 on a
# counter Vulkan writes), the CPU waits for HIP once per burst; with run-ahead, both memory
# owners, both shadings, the wall clock; validation on, --verify.
verify_stream_wait() {
  local failed=0 cfg
  for cfg in "2 1 vulkan image 1024x1024" "2 2 vulkan image 1024x1024" "2 16 vulkan image 1024x1024" \
             "3 8 hip image-copy 1000x45" "4 4 hip vertex 4097x1031" "1 1 vulkan image 256x256" \
             "2 16 hip image 256x256"; do
    set -- $cfg
    echo "=== --sync stream-wait --frames-in-flight $1 --run-ahead $2 --memory-owner $3 --shading $4 --grid $5"
    run_case "$OUT/verify-stream-wait-k$1-ahead$2-$3-$4-$5.log" "verify:" "${FIXED[@]}" --sync stream-wait \
      --frames-in-flight "$1" --run-ahead "$2" --memory-owner "$3" --shading "$4" --grid "$5" || failed=1
  done
  echo "=== --sync stream-wait --wall-clock (auto run-ahead)"
  run_case "$OUT/verify-stream-wait-wall.log" "run-ahead:|verify:" "${WALL[@]}" --sync stream-wait \
    --grid 1024x1024 || failed=1
  return $failed
}

# The window's live switches (issue 13), headless: from hip (timeline) through hip-copy,
# vulkan and cpu back to hip, every sync strategy (serial takes one frame in flight), frames
# in flight 3, 1, 4, grids 2048 and 128; the overlay drawn in every frame; each stage
# verified, validation on.
verify_live() {
  echo "=== --switches h,h,h,h,s,s,s,s,s,3,g,g,1,4 (overlay on, --verify per stage)"
  run_case "$OUT/verify-live.log" "stage [0-9]+:|verify:|rebuilt" --headless --heights hip --validation --verify \
    --grid 1024x1024 --size 1280x720 --frames 60 --time 0.5 --time-step 0.0166 \
    --switches h,h,h,h,s,s,s,s,s,3,g,g,1,4 --screenshot "$OUT/screenshot-live.png"
}

case "$what" in
  verify)
    status=0
    echo "=== no flags: --headless --verify (auto must choose hip and timeline)"
    if $BIN --headless --verify --validation --frames 240 --time 0.5 --time-step 0.0166 \
         2>&1 | tee "$OUT/verify-auto.log" | grep -E "heights:|verify:|error"; then
      grep -q "heights: hip (timeline sync" "$OUT/verify-auto.log" && echo "=== auto: ok" \
        || { echo "=== auto: did not choose hip/timeline"; status=1; }
    else
      echo "=== auto: FAILED"; status=1
    fi
    # The same binary without what build-nvidia.sh made, then with the shim but no
    # NVIDIA kernel: it must fall back to the Vulkan compute shader and say why.
    rm -rf /tmp/bare && mkdir -p /tmp/bare && cp $BIN /tmp/bare/
    echo "=== binary alone (no shim, no kernel beside it)"
    /tmp/bare/hip-vulkan-sinewave --headless --verify 2>&1 | tee "$OUT/fallback-no-shim.log" | grep -E "heights:|verify:|error"
    cp .gpu/libamdhip64.so /tmp/bare/
    echo "=== binary + shim, no NVIDIA kernel"
    /tmp/bare/hip-vulkan-sinewave --headless --verify 2>&1 | tee "$OUT/fallback-no-kernel.log" | grep -E "heights:|verify:|error"
    for sync in timeline binary host serial; do
      echo "=== --sync $sync"
      if $BIN --headless --heights hip --sync "$sync" --validation --verify \
           --grid 1024x1024 --size 1280x720 --frames 240 --time 0.5 --time-step 0.0166 \
           2>&1 | tee "$OUT/verify-$sync.log"; then
        echo "=== $sync: ok"
      else
        echo "=== $sync: FAILED"; status=1
      fi
    done
    for ahead in "timeline 2 2 1024x1024" "binary 2 2 1024x1024" "timeline 4 4 1024x1024" "binary 3 2 1024x1024" \
                 "timeline 2 1 1000x45" "host 2 1 33x7" "timeline 4 4 4097x1031" "timeline 2 16 1024x1024" \
                 "timeline 3 7 1000x45" "binary 2 6 256x256"; do
      set -- $ahead
      echo "=== --sync $1 --frames-in-flight $2 --run-ahead $3 --grid $4"
      run_case "$OUT/verify-$1-k$2-ahead$3-$4.log" "verify:" "${FIXED[@]}" --heights hip --sync "$1" \
        --frames-in-flight "$2" --run-ahead "$3" --grid "$4" || status=1
    done
    # Real time: the wall clock, run-ahead chosen automatically (K with timeline): frames
    # written ahead at predicted times must verify at the time they were drawn at.
    for cfg in "timeline 2 256x256" "timeline 3 1024x1024" "timeline 4 1000x45" "timeline 2 4096x4096" \
               "binary 3 1024x1024" "host 2 1024x1024" "serial 1 256x256"; do
      set -- $cfg
      echo "=== --wall-clock --sync $1 --frames-in-flight $2 --grid $3 (auto run-ahead)"
      run_case "$OUT/verify-wall-$1-k$2-$3.log" "run-ahead:|wall clock:|verify:" "${WALL[@]}" --heights hip \
        --sync "$1" --frames-in-flight "$2" --grid "$3" || status=1
    done
    verify_hip_memory || status=1
    verify_shading || status=1
    verify_stream_wait || status=1
    verify_live || status=1
    $BIN --headless --heights hip --frames 3 --time 1.0 --size 1280x720 \
      --screenshot "$OUT/screenshot.png" 2>&1 | tail -3
    exit $status
    ;;
  handover)
    # The minimal reproduction of the hand-over cost (BENCHMARKS.md, "Real time").
    .gpu/handover_cost 2>&1 | tee "$OUT/handover.log"
    ;;
  examples)
    # examples/headless_interop.rs (the library), examples/raw_interop.rs (ash + raw HIP) and
    # examples/hip_owned_memory.rs (HIP allocates, Vulkan imports), examples/hip_image.rs (HIP
    # writes a Vulkan image).
    status=0
    for example in headless_interop raw_interop hip_owned_memory hip_image; do
      echo "=== $example"
      .gpu/$example 2>&1 | tee "$OUT/example-$example.log" || { echo "=== $example: FAILED"; status=1; }
    done
    exit $status
    ;;
  hip-memory)
    verify_hip_memory
    ;;
  shading)
    verify_shading
    ;;
  live)
    verify_live
    ;;
  stream-wait)
    verify_stream_wait
    ;;
  lifetimes)
    # The HIP half of the 200-cycle leak test (tests/lifetimes.rs, #[ignore]d without a GPU);
    # the test binary is built by scripts/gpu-prepare.sh.
    .gpu/lifetimes --ignored --nocapture --test-threads 1 2>&1 | tail -15
    ;;
  soak)
    # 100,000 frames with --sync auto: resident memory, GPU memory and fds every 10,000
    # frames (the binary's log), GPU memory from nvidia-smi every 10 s, heights verified at the end.
    ( while true; do nvidia-smi --query-gpu=timestamp,memory.used --format=csv,noheader; sleep 10; done ) \
      > "$OUT/soak-nvidia-smi.csv" 2>&1 &
    smi=$!
    status=0
    $BIN --headless --heights hip --sync auto --grid 1024x1024 --size 1280x720 \
      --frames 100000 --time 0.5 --time-step 0.0166 --report-every 10000 --verify 2>&1 \
      | tee "$OUT/soak.log" | grep -E "sync strategy|resources after|verify|error|rendered" || status=1
    kill $smi
    cat "$OUT/soak-nvidia-smi.csv"
    exit $status
    ;;
  all)
    bash "$0" verify 2>&1 | grep -E "^===|verify:|error" || true
    shift; bash "$0" bench "$@"
    ;;
  bench)
    # The whole benchmark table (BENCHMARKS.md): every mode, grid and K in one process.
    shift
    nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu --format=csv | tee "$OUT/gpu.txt"
    RUST_LOG=warn $BIN --bench --bench-json "$OUT/h100.json" "$@" | tee "$OUT/bench.md"
    # The hand-over floor outside the demo, in the same call (BENCHMARKS.md, "The floor").
    .gpu/handover_cost 2>&1 | tee "$OUT/handover.log"
    ;;
  *)
    shift
    $BIN "$@"
    ;;
esac
