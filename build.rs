//! Build script: shaders to SPIR-V (naga) and the HIP kernel to a code object.

#[path = "build/shaders.rs"]
mod shaders;

fn main() {
    shaders::compile_all();
}
