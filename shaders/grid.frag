#version 450
// Grid fragment shader: colour by height, lit with a face normal taken from the
// screen-space derivatives of the world position (no normal buffer needed).

layout(location = 0) in vec3 in_world;
layout(location = 1) in float in_height;

layout(location = 0) out vec4 out_color;

vec3 height_colour(float h) {
    // -1 deep blue, 0 teal, +1 warm yellow
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
    vec3 normal = normalize(cross(dFdx(in_world), dFdy(in_world)));
    vec3 light = normalize(vec3(0.4, 1.0, 0.3));
    // Two-sided: the derivative normal's sign depends on the screen orientation.
    float diffuse = abs(dot(normal, light));
    vec3 colour = height_colour(in_height) * (0.25 + 0.75 * diffuse);
    out_color = vec4(colour, 1.0);
}
