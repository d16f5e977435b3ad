//! Build script: the HIP kernel to a code object (the library embeds it), and with the
//! `app` feature the renderer's shaders to SPIR-V (naga).

#[cfg(feature = "app")]
#[path = "build/shaders.rs"]
mod shaders;

#[path = "build/hip.rs"]
mod hip;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build");
    #[cfg(feature = "app")]
    shaders::compile_all();
    hip::build_kernel();
}
