//! `--bench` end to end on whatever Vulkan device is here (the Vulkan compute mode needs no
//! HIP): the JSON holds one well-formed record per configuration. No timing is asserted.

mod common;
use common::*;

#[test]
fn bench_writes_one_record_per_configuration() {
    let dir = scratch_dir("bench");
    let json = dir.join("bench.json");
    let out = run_demo(&[
        "--bench",
        "--bench-modes",
        "vulkan",
        "--bench-grids",
        "16,40",
        "--bench-frames-in-flight",
        "1,3",
        "--bench-frames",
        "12",
        "--bench-warmup",
        "2",
        "--bench-size",
        "160x90",
        "--validation",
        "--bench-json",
        json.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "stderr:\n{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for time in ["fixed", "wall"] {
        assert!(stdout.contains(&format!("| vulkan | {time} | 40² | 3 | 1 |")), "table:\n{stdout}");
    }
    let records: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(records.len(), 8, "two time modes × two grids × two K");
    let mut seen = Vec::new();
    for r in &records {
        assert_eq!(r["mode"], "vulkan");
        for key in ["fps", "frame_ms_median", "frame_ms_p99", "kernel_ms", "draw_ms", "deliver_ms"] {
            let v = r[key].as_f64().unwrap_or_else(|| panic!("{key} missing in {r}"));
            assert!(v.is_finite() && v > 0.0, "{key} = {v} in {r}");
        }
        assert_eq!(r["frames"], 12);
        let time = r["time"].as_str().unwrap_or_else(|| panic!("time missing in {r}"));
        // The wall clock's prediction error is reported (0 here: the compute shader does
        // not write ahead, so every frame gets the wall clock itself).
        match time {
            "fixed" => assert!(r.get("clock_error_ms_p99").is_none(), "{r}"),
            "wall" => assert_eq!(r["clock_error_ms_p99"].as_f64(), Some(0.0), "{r}"),
            other => panic!("time {other} in {r}"),
        }
        seen.push((time.to_string(), r["grid"].as_u64().unwrap(), r["frames_in_flight"].as_u64().unwrap()));
    }
    seen.sort();
    let expected: Vec<(String, u64, u64)> = ["fixed", "wall"]
        .iter()
        .flat_map(|t| [(16, 1), (16, 3), (40, 1), (40, 3)].map(|(g, k)| (t.to_string(), g, k)))
        .collect();
    assert_eq!(seen, expected);
}

#[test]
fn bench_modes_that_need_hip_explain_themselves_without_it() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hip-vulkan-sinewave"))
        .args(["--bench", "--bench-modes", "timeline", "--bench-grids", "16"])
        .env("HIP_RUNTIME_LIBRARY", "/nonexistent/libamdhip64.so")
        .output()
        .expect("runs");
    assert_clean_failure(&out, "HIP runtime");
}

/// `--bench-overlay off,on`: every configuration twice, the overlay's records marked (in the
/// JSON and the table) and drawn validation-clean, the others as without the option.
#[test]
fn bench_measures_the_overlay_beside_its_absence() {
    let dir = scratch_dir("bench-overlay");
    let json = dir.join("bench.json");
    let out = run_demo(&[
        "--bench",
        "--bench-modes",
        "vulkan",
        "--bench-grids",
        "24",
        "--bench-frames-in-flight",
        "2",
        "--bench-time",
        "fixed",
        "--bench-overlay",
        "off,on",
        "--bench-frames",
        "12",
        "--bench-warmup",
        "2",
        "--bench-size",
        "200x120",
        "--validation",
        "--bench-json",
        json.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "stderr:\n{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("| vulkan | fixed | 24² | 2 | 1 |"), "table:\n{stdout}");
    assert!(stdout.contains("| vulkan + overlay | fixed | 24² | 2 | 1 |"), "table:\n{stdout}");
    let records: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let marks: Vec<bool> = records.iter().map(|r| r["overlay"].as_bool().unwrap_or(false)).collect();
    assert_eq!(marks, [false, true], "one record without the overlay, one with: {records:?}");
    assert!(records[0].get("overlay").is_none(), "no overlay field when it is off");
}
