#version 450
// The sinewave in a Vulkan compute shader: the no-interop baseline the HIP path is
// compared with. Same formula, indexing and separable structure as kernels/sinewave.hip:
// a workgroup covers 256 columns and ROWS rows; the first ROWS invocations compute the
// rows' cosines into shared memory, every invocation its column's sine.

#define ROWS 32u

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

layout(std430, set = 0, binding = 0) buffer Heights {
    float heights[];
};

layout(push_constant) uniform PushConstants {
    uint width;
    uint height;
    float time;
} pc;

shared float row_cos[32];

float grid_coord(uint i, uint n) {
    return float(i) / float(n - 1u) * 2.0 - 1.0;
}

void main() {
    const float freq = 10.0;
    uint lane = gl_LocalInvocationID.x;
    uint y0 = gl_WorkGroupID.y * ROWS;
    if (lane < ROWS && y0 + lane < pc.height) {
        row_cos[lane] = cos(grid_coord(y0 + lane, pc.height) * freq + pc.time);
    }
    barrier();

    uint x = gl_GlobalInvocationID.x;
    if (x >= pc.width) {
        return;
    }
    float column_sin = sin(grid_coord(x, pc.width) * freq + pc.time);
    uint rows = min(ROWS, pc.height - y0);
    for (uint r = 0u; r < rows; r++) {
        heights[(y0 + r) * pc.width + x] = column_sin * row_cos[r];
    }
}
