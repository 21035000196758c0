//! `sslproof check` under hostile input and output: no panic (exit 101) and no exit code that
//! claims what was not shown. Each test is a finding of the hostile-input review, reproduced at
//! test time (no large files committed).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use nalgebra::DMatrix;
use sslproof_losses::npy::write_matrix;

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("sslproof-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn npy(name: &str, m: &DMatrix<f64>) -> String {
    let p = dir().join(name);
    write_matrix(&p, m).unwrap();
    p.display().to_string()
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sslproof"))
        .args(args)
        .output()
        .expect("run sslproof")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Two deterministic 8 × 4 views.
fn views(scale: f64) -> (String, String) {
    let z1 = DMatrix::from_fn(8, 4, |i, j| {
        scale * (((i * 7 + j * 3) % 11) as f64 / 11.0 - 0.4)
    });
    let z2 = DMatrix::from_fn(8, 4, |i, j| {
        scale * (((i * 5 + j * 2) % 13) as f64 / 13.0 - 0.5)
    });
    (
        npy(&format!("z1-{scale:e}.npy"), &z1),
        npy(&format!("z2-{scale:e}.npy"), &z2),
    )
}

/// Finite inputs whose reference overflows (entries 1e200: the covariance is 1e400) used to give
/// "DISAGREES" (exit 1), a claim about the user's loss that nothing supports. Now exit 2, naming
/// the quantity.
#[test]
fn an_overflowing_reference_is_exit_2_not_a_disagreement() {
    let (z1, z2) = views(1e200);
    let o = run(&[
        "check", "--loss", "vicreg", "--inputs", &z1, &z2, "--value", "1.0",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("not finite"), "{}", text(&o));
}

/// CorInfoMax `running` with an indefinite or non-symmetric running covariance: exit 2 naming the
/// input (was exit 1, or a message about an internal matrix).
#[test]
fn an_indefinite_running_covariance_is_exit_2_naming_the_input() {
    let (z1, z2) = views(1.0);
    let mu = npy("mu.npy", &DMatrix::zeros(1, 4));
    let pos = npy("rpos.npy", &DMatrix::identity(4, 4));
    let neg = npy("rneg.npy", &(DMatrix::identity(4, 4) * -5.0));
    let mut asym = DMatrix::identity(4, 4);
    asym[(0, 1)] = 2.0;
    let asym = npy("rasym.npy", &asym);
    for (r1, says) in [(&neg, "indefinite"), (&asym, "differ")] {
        let o = run(&[
            "check",
            "--loss",
            "corinfomax",
            "--variant",
            "running",
            "--inputs",
            &z1,
            &z2,
            &mu,
            r1,
            &mu,
            &pos,
            "--value",
            "1.0",
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(
            text(&o).contains("input r1") && text(&o).contains(says),
            "{}",
            text(&o)
        );
    }
}

/// `--value -inf` parses (it needed `--value=-inf`), and a non-finite value is exit 2 naming its
/// source.
#[test]
fn non_finite_values_are_exit_2_and_negative_values_parse() {
    let (z1, z2) = views(1.0);
    for v in ["-inf", "nan"] {
        let o = run(&[
            "check", "--loss", "vicreg", "--inputs", &z1, &z2, "--value", v,
        ]);
        assert_eq!(o.status.code(), Some(2), "{v}: {}", text(&o));
        assert!(
            text(&o).contains("--value") && text(&o).contains("finite"),
            "{}",
            text(&o)
        );
    }
    let o = run(&[
        "check", "--loss", "vicreg", "--inputs", &z1, &z2, "--value", "-3.5",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a negative value parses: {}",
        text(&o)
    );
}

/// A closed stdout (`| head -c1`) used to panic (exit 101). Now the verdict's exit code stands.
#[test]
fn a_closed_stdout_keeps_the_verdict_exit_code() {
    let (z1, z2) = views(1.0);
    let mut child = Command::new(env!("CARGO_BIN_EXE_sslproof"))
        .args([
            "check", "--loss", "vicreg", "--inputs", &z1, &z2, "--value", "-3.5",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away before anything is written
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(!text(&o).contains("panicked"), "{}", text(&o));
}

/// A full disk on stdout (`> /dev/full`) used to panic; it is a write error: exit 2.
#[test]
fn a_write_error_on_stdout_is_exit_2() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let (z1, z2) = views(1.0);
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_sslproof"))
        .args([
            "check", "--loss", "vicreg", "--inputs", &z1, &z2, "--value", "-3.5",
        ])
        .stdout(full)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("standard output") && !err.contains("panicked"),
        "{err}"
    );
}

/// `--json` is written atomically: complete JSON, no temporary file left beside it.
#[test]
fn json_reports_are_written_whole() {
    let (z1, z2) = views(1.0);
    let d = dir().join("json");
    std::fs::create_dir_all(&d).unwrap();
    let out = d.join("report.json");
    let o = run(&[
        "check",
        "--loss",
        "vicreg",
        "--inputs",
        &z1,
        &z2,
        "--value",
        "-3.5",
        "--json",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(v["loss"], "vicreg");
    let left: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
}
