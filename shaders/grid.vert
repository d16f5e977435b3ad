#version 450
// Grid vertex shader: the static (u, v) grid position comes from binding 0,
// the height written this frame (by HIP, the CPU or a compute shader) from binding 1.

layout(location = 0) in vec2 in_uv;
layout(location = 1) in float in_height;

layout(push_constant) uniform PushConstants {
    mat4 view_proj;
    // x: height scale, yzw: unused
    vec4 params;
} pc;

layout(location = 0) out vec3 out_world;
layout(location = 1) out float out_height;
// The grid coordinate in [-1, 1]², for looking up the shading image (grid_image.frag).
layout(location = 2) out vec2 out_uv;

void main() {
    vec3 world = vec3(in_uv.x, in_height * pc.params.x, in_uv.y);
    out_world = world;
    out_height = in_height;
    out_uv = in_uv;
    gl_Position = pc.view_proj * vec4(world, 1.0);
}
