#version 450
// The sinewave in a Vulkan compute shader: the no-interop baseline the HIP path is
// compared with. Same formula and indexing as kernels/sinewave.hip.

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

layout(std430, set = 0, binding = 0) buffer Heights {
    float heights[];
};

layout(push_constant) uniform PushConstants {
    uint width;
    uint height;
    float time;
} pc;

void main() {
    uint x = gl_GlobalInvocationID.x;
    uint y = gl_GlobalInvocationID.y;
    if (x >= pc.width || y >= pc.height) {
        return;
    }
    float u = float(x) / float(pc.width - 1u) * 2.0 - 1.0;
    float v = float(y) / float(pc.height - 1u) * 2.0 - 1.0;
    const float freq = 10.0;
    heights[y * pc.width + x] = sin(u * freq + pc.time) * cos(v * freq + pc.time);
}
