// The sinewave kernel: one thread per grid vertex writes that vertex's height.
//
// Built by build/hip.rs (hipcc --genco on AMD, nvcc -fatbin on NVIDIA) and
// loaded at run time with hipModuleLoadData; the host launches it by the
// unmangled name "sinewave" (hence extern "C").
//
// nvcc compiles this file directly, without HIP's headers: __global__,
// blockIdx and friends are CUDA built-ins there, and CUDA's math functions
// are declared implicitly. hipcc needs HIP's runtime header for the same names.
#ifndef __CUDACC__
#include <hip/hip_runtime.h>
#endif

// heights: width * height floats, row-major (index y * width + x).
// time: animation phase in radians; the host keeps it in [0, 2*pi).
// Launch with a 2-D grid covering width x height; extra threads return early.
extern "C" __global__ void sinewave(float* heights, unsigned int width, unsigned int height,
                                    float time)
{
    const unsigned int x = blockIdx.x * blockDim.x + threadIdx.x;
    const unsigned int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= width || y >= height) {
        return;
    }

    // Map the vertex to [-1, 1] on both axes. A 1-wide (or 1-high) grid maps
    // to 0 instead of dividing by zero.
    const float u = width > 1 ? (float)x / (float)(width - 1) * 2.0f - 1.0f : 0.0f;
    const float v = height > 1 ? (float)y / (float)(height - 1) * 2.0f - 1.0f : 0.0f;

    const float freq = 10.0f;
    heights[y * width + x] = sinf(u * freq + time) * cosf(v * freq + time);
}
