#version 450
// The shading image's normals in a Vulkan compute shader (the compute height source with
// --shading image): the same formula as kernels/sinewave.hip's normal_texel and
// src/sinewave.rs `normal`, written as RGBA16F with w = 0.

layout(local_size_x = 16, local_size_y = 16, local_size_z = 1) in;

layout(set = 0, binding = 0, rgba16f) uniform writeonly image2D normals;

layout(push_constant) uniform PushConstants {
    uint width;
    uint height;
    float time;
} pc;

// Keep in step with HEIGHT_SCALE in src/sinewave.rs.
const float HEIGHT_SCALE = 0.2;

float grid_coord(uint i, uint n) {
    return float(i) / float(n - 1u) * 2.0 - 1.0;
}

void main() {
    uvec2 p = gl_GlobalInvocationID.xy;
    if (p.x >= pc.width || p.y >= pc.height) {
        return;
    }
    const float freq = 10.0;
    float a = grid_coord(p.x, pc.width) * freq + pc.time;
    float b = grid_coord(p.y, pc.height) * freq + pc.time;
    vec3 n = normalize(vec3(-HEIGHT_SCALE * freq * cos(a) * cos(b), 1.0, HEIGHT_SCALE * freq * sin(a) * sin(b)));
    imageStore(normals, ivec2(p), vec4(n, 0.0));
}
