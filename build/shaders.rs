//! Build-script module: GLSL in `shaders/` → SPIR-V in `OUT_DIR`, with naga, so that
//! building the demo needs no shader compiler installed.

use std::path::Path;

/// Compiles every shader the renderer embeds. A shader that does not parse or validate
/// fails the build with naga's message, file and stage.
pub fn compile_all() {
    for (file, stage) in [
        ("grid.vert", naga::ShaderStage::Vertex),
        ("grid.frag", naga::ShaderStage::Fragment),
        ("grid_image.frag", naga::ShaderStage::Fragment),
        ("sinewave.comp", naga::ShaderStage::Compute),
        ("normals.comp", naga::ShaderStage::Compute),
    ] {
        compile(file, stage);
    }
}

fn compile(file: &str, stage: naga::ShaderStage) {
    let path = Path::new("shaders").join(file);
    println!("cargo:rerun-if-changed={}", path.display());
    let source =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read shader {}: {e}", path.display()));

    let mut frontend = naga::front::glsl::Frontend::default();
    let module = frontend
        .parse(&naga::front::glsl::Options::from(stage), &source)
        .unwrap_or_else(|e| panic!("{}: GLSL parse failed:\n{}", path.display(), e.emit_to_string(&source)));

    let info = naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::all())
        .validate(&module)
        .unwrap_or_else(|e| panic!("{}: validation failed:\n{}", path.display(), e.emit_to_string(&source)));

    // No ADJUST_COORDINATE_SPACE (naga's default, wgpu's convention): gl_Position is
    // written as the shader says, in Vulkan's clip space (the camera flips y itself).
    let options = naga::back::spv::Options {
        lang_version: (1, 3),
        flags: naga::back::spv::WriterFlags::LABEL_VARYINGS,
        ..Default::default()
    };
    let pipeline_options = naga::back::spv::PipelineOptions { shader_stage: stage, entry_point: "main".to_string() };
    let words = naga::back::spv::write_vec(&module, &info, &options, Some(&pipeline_options))
        .unwrap_or_else(|e| panic!("{}: SPIR-V generation failed: {e}", path.display()));

    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR for build scripts");
    let out = Path::new(&out_dir).join(format!("{file}.spv"));
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    // Written only when it changed: the crate includes it, and a rewrite would rebuild it.
    if std::fs::read(&out).ok().as_deref() != Some(&bytes[..]) {
        std::fs::write(&out, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
    }
}
