//! `--chart-from`: the bench chart drawn from a saved JSON file, with no GPU work.

mod common;
use common::*;

const H100_JSON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benchmarks/h100.json");
const H100_WALL_JSON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benchmarks/h100-wall.json");

#[test]
fn chart_from_saved_json_writes_a_png() {
    let dir = scratch_dir("chart");
    let path = dir.join("c.png");
    // The fixed-step and the wall-clock runs, put together as the committed chart is.
    let both = format!("{H100_JSON},{H100_WALL_JSON}");
    let out = run_demo(&["--chart-from", &both, "--bench-chart", path.to_str().unwrap(), "--chart-gpu", "Test GPU"]);
    assert!(out.status.success(), "stderr:\n{}", stderr(&out));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).expect("PNG written")));
    let mut reader = decoder.read_info().expect("valid PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("a PNG of a size that fits in memory")];
    let info = reader.next_frame(&mut buf).expect("valid PNG data");
    assert_eq!((info.width, info.height), hip_vulkan_sinewave::app::bench_chart::CHART_SIZE);
    // Not a blank image: the bars' colours are there.
    let distinct: std::collections::HashSet<&[u8]> = buf.chunks(info.color_type.samples()).collect();
    assert!(distinct.len() > 20, "only {} distinct colours", distinct.len());
}

#[test]
fn chart_from_bad_input_fails_cleanly() {
    let dir = scratch_dir("chart-bad");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{ this is not json").unwrap();
    let png = dir.join("c.png");
    let out = run_demo(&["--chart-from", bad.to_str().unwrap(), "--bench-chart", png.to_str().unwrap()]);
    assert_clean_failure(&out, "not a bench JSON file");
    assert!(!png.exists(), "no chart for bad input");

    let missing = dir.join("missing.json");
    let out = run_demo(&["--chart-from", missing.to_str().unwrap(), "--bench-chart", png.to_str().unwrap()]);
    assert_clean_failure(&out, "missing.json");

    // A JSON array of something else.
    std::fs::write(&bad, r#"[{"mode": "timeline", "grid": 256}]"#).unwrap();
    let out = run_demo(&["--chart-from", bad.to_str().unwrap(), "--bench-chart", png.to_str().unwrap()]);
    assert_clean_failure(&out, "missing field");
}

#[test]
fn chart_flags_need_their_partner() {
    assert_clean_failure(&run_demo(&["--chart-from", H100_JSON]), "--bench-chart");
    assert_clean_failure(&run_demo(&["--bench-chart", "x.png"]), "--bench or --chart-from");
}

#[test]
fn missing_font_is_a_clear_error() {
    let dir = scratch_dir("chart-font");
    let png = dir.join("c.png");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hip-vulkan-sinewave"))
        .args(["--chart-from", H100_JSON, "--bench-chart", png.to_str().unwrap()])
        .env("HVS_CHART_FONT", "/nonexistent/NoFont.ttf")
        .output()
        .expect("the demo binary runs");
    assert_clean_failure(&out, "/nonexistent/NoFont.ttf");
    assert!(stderr(&out).contains("HVS_CHART_FONT"), "{}", stderr(&out));
}
