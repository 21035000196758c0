//! Helpers shared by the CLI's test files: the committed golden cases.
#![allow(dead_code)]

pub fn golden_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../golden")
}

pub fn manifest(loss: &str) -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(golden_dir().join(format!("{loss}.json"))).unwrap(),
    )
    .unwrap()
}

pub fn case<'a>(m: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    m["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()
}

pub fn files(c: &serde_json::Value, key: &str) -> Vec<String> {
    c["input_order"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| c[key].get(n.as_str().unwrap()))
        .map(|p| golden_dir().join(p.as_str().unwrap()).display().to_string())
        .collect()
}

/// The golden case `loss`/`name`: its input files, gradient files and value.
pub fn golden(loss: &str, name: &str) -> (Vec<String>, Vec<String>, f64) {
    let m = manifest(loss);
    let c = case(&m, name);
    (
        files(c, "inputs"),
        files(c, "grads"),
        c["value"].as_f64().unwrap(),
    )
}
