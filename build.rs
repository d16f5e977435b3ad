//! Build script: shaders to SPIR-V (naga) and the HIP kernel to a code object.

#[path = "build/shaders.rs"]
mod shaders;

#[path = "build/hip.rs"]
mod hip;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build");
    shaders::compile_all();
    hip::build_kernel();
}
