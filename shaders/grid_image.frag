#version 450
// Grid fragment shader, --shading image: colour by height (as grid.frag), lit with the
// surface normal from the slot's shading image, which HIP (or the CPU) wrote this frame:
// per-texel analytic normals of the wave, filtered between texels, instead of the face
// normal grid.frag derives from screen-space derivatives.

layout(location = 0) in vec3 in_world;
layout(location = 1) in float in_height;
layout(location = 2) in vec2 in_uv;

layout(set = 0, binding = 0) uniform texture2D normals;
layout(set = 0, binding = 1) uniform sampler normals_sampler;

layout(location = 0) out vec4 out_color;

vec3 height_colour(float h) {
    // -1 deep blue, 0 teal, +1 warm yellow (as grid.frag)
    float t = clamp(h * 0.5 + 0.5, 0.0, 1.0);
    vec3 low = vec3(0.05, 0.15, 0.55);
    vec3 mid = vec3(0.10, 0.65, 0.60);
    vec3 high = vec3(0.98, 0.85, 0.30);
    if (t < 0.5) {
        return mix(low, mid, t * 2.0);
    }
    return mix(mid, high, t * 2.0 - 1.0);
}

void main() {
    // Texel i of n holds grid coordinate i / (n - 1) * 2 - 1: map uv to texel centres.
    vec2 size = vec2(textureSize(sampler2D(normals, normals_sampler), 0));
    vec2 texel = (in_uv * 0.5 + 0.5) * (size - 1.0) + 0.5;
    vec3 normal = normalize(texture(sampler2D(normals, normals_sampler), texel / size).xyz);
    vec3 light = normalize(vec3(0.4, 1.0, 0.3));
    float diffuse = abs(dot(normal, light));
    vec3 colour = height_colour(in_height) * (0.25 + 0.75 * diffuse);
    out_color = vec4(colour, 1.0);
}
