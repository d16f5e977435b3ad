// The sinewave kernel: heights[y][x] = sin(u·10 + t) · cos(v·10 + t), u, v in [-1, 1].
//
// Built by build/hip.rs (hipcc --genco on AMD, nvcc -fatbin on NVIDIA) and loaded at run
// time with hipModuleLoadData; the host launches it by the unmangled name "sinewave"
// (hence extern "C").
//
// The wave is separable: sin(u·f + t) depends on the column only, cos(v·f + t) on the row
// only. So each block takes blockDim.x columns and ROWS_PER_BLOCK rows: the first
// ROWS_PER_BLOCK threads compute the rows' cosines into shared memory, each thread its
// column's sine, and every height is then one multiply and one store. The arithmetic is
// the same per element as computing both functions there (same float operations), but the
// transcendental work drops ~30-fold and the kernel runs at the speed of its stores.
//
// nvcc compiles this file directly, without HIP's headers: __global__, __shared__,
// blockIdx and friends are CUDA built-ins there. hipcc needs HIP's runtime header.
// (HIP's NVIDIA headers do not build against CUDA 13: measured on the H100, and
// https://github.com/ROCm/rocm-systems/pull/775; see src/hip/nvidia/shim.cpp.)
#ifndef __CUDACC__
#include <hip/hip_runtime.h>
#endif

// Keep in step with ROWS_PER_BLOCK in src/heights/hip.rs.
#define ROWS_PER_BLOCK 32

// Maps index i of n to [-1, 1] exactly as the CPU reference does (n == 1 maps to 0).
__device__ static inline float grid_coord(unsigned int i, unsigned int n)
{
    return n > 1 ? (float)i / (float)(n - 1) * 2.0f - 1.0f : 0.0f;
}

// heights: width * height floats, row-major (index y * width + x).
// time: animation phase in radians; the host keeps it in [0, 2*pi).
// Launch: block (bx, 1, 1) with bx >= ROWS_PER_BLOCK; grid (ceil(width / bx),
// ceil(height / ROWS_PER_BLOCK), 1).
extern "C" __global__ void sinewave(float* heights, unsigned int width, unsigned int height,
                                    float time)
{
    const float freq = 10.0f;
    __shared__ float row_cos[ROWS_PER_BLOCK];

    const unsigned int y0 = blockIdx.y * ROWS_PER_BLOCK;
    if (threadIdx.x < ROWS_PER_BLOCK && y0 + threadIdx.x < height) {
        row_cos[threadIdx.x] = cosf(grid_coord(y0 + threadIdx.x, height) * freq + time);
    }
    __syncthreads();

    const unsigned int x = blockIdx.x * blockDim.x + threadIdx.x;
    if (x >= width) {
        return;
    }
    const float column_sin = sinf(grid_coord(x, width) * freq + time);
    const unsigned int rows = min(ROWS_PER_BLOCK, height - y0);
    float* out = heights + (size_t)y0 * width + x;
    for (unsigned int r = 0; r < rows; ++r) {
        out[(size_t)r * width] = column_sin * row_cos[r];
    }
}

// ---- shading normals (--shading image) ---------------------------------------------
// The unit normal of the drawn surface (x = u, y = h * HEIGHT_SCALE, z = v):
// (-S * dh/du, 1, -S * dh/dv) normalised, with dh/du = f cos(a) cos(b) and
// dh/dv = -f sin(a) sin(b), a = u f + t, b = v f + t; as src/sinewave.rs `normal`.
// Stored as RGBA16F: four IEEE halves, w = 0.
#ifdef __CUDACC__
#include <cuda_fp16.h>
#else
#include <hip/hip_fp16.h>
#endif

// Keep in step with HEIGHT_SCALE in src/sinewave.rs.
#define HEIGHT_SCALE 0.2f

__device__ static inline ushort4 normal_texel(unsigned int x, unsigned int y, unsigned int width,
                                              unsigned int height, float time)
{
    const float freq = 10.0f;
    const float a = grid_coord(x, width) * freq + time;
    const float b = grid_coord(y, height) * freq + time;
    const float nx = -HEIGHT_SCALE * freq * cosf(a) * cosf(b);
    const float nz = HEIGHT_SCALE * freq * sinf(a) * sinf(b);
    const float inv = 1.0f / sqrtf(nx * nx + 1.0f + nz * nz);
    return make_ushort4(__half_as_ushort(__float2half_rn(nx * inv)), __half_as_ushort(__float2half_rn(inv)),
                        __half_as_ushort(__float2half_rn(nz * inv)), 0);
}

// texels: width * height RGBA16F texels, row-major, tightly packed (the buffer Vulkan
// copies into the shading image where the runtime cannot map the image itself).
// Launch: 2-D blocks covering width x height.
extern "C" __global__ void sinewave_normals(ushort4* texels, unsigned int width, unsigned int height,
                                            float time)
{
    const unsigned int x = blockIdx.x * blockDim.x + threadIdx.x;
    const unsigned int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= width || y >= height) {
        return;
    }
    texels[(size_t)y * width + x] = normal_texel(x, y, width, height, time);
}

#ifdef __CUDACC__
// The same into the shading image through a surface object on its level 0 (CUDA maps a
// Vulkan image as a mipmapped array; ROCm does not, so AMD builds use the kernel above).
extern "C" __global__ void sinewave_normals_surface(cudaSurfaceObject_t surface, unsigned int width,
                                                    unsigned int height, float time)
{
    const unsigned int x = blockIdx.x * blockDim.x + threadIdx.x;
    const unsigned int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= width || y >= height) {
        return;
    }
    surf2Dwrite(normal_texel(x, y, width, height, time), surface, (int)(x * sizeof(ushort4)), (int)y);
}
#endif
