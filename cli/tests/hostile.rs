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

/// Runs `sslproof` under a 6 GiB address-space cap (`ulimit -v`), as the review did.
fn run_capped(args: &[&str]) -> Output {
    let mut cmd = String::from("ulimit -v 6291456; exec \"$0\"");
    for i in 0..args.len() {
        cmd.push_str(&format!(" \"${}\"", i + 1));
    }
    Command::new("bash")
        .arg("-c")
        .arg(&cmd)
        .arg(env!("CARGO_BIN_EXE_sslproof"))
        .args(args)
        .output()
        .expect("run sslproof under ulimit")
}

/// Valid 1.6 MB inputs whose working set is 10²–10⁴ GB (similarity matrices of B = 100 000,
/// a 100 000 × 100 000 cross-correlation) used to be killed (SIGABRT or the OOM killer). Now
/// refused before allocating: exit 2 with the shape and the amount, under a 6 GiB cap.
#[test]
fn jobs_over_the_memory_budget_are_refused_before_allocating() {
    let tall = DMatrix::from_fn(100_000, 2, |i, j| ((i * 3 + j) % 7) as f64 - 3.0);
    let wide = DMatrix::from_fn(2, 100_000, |i, j| ((i + j * 5) % 9) as f64 - 4.0);
    let (t1, t2) = (npy("tall1.npy", &tall), npy("tall2.npy", &tall));
    let (w1, w2) = (npy("wide1.npy", &wide), npy("wide2.npy", &wide));
    let cases: Vec<Vec<&str>> = vec![
        vec!["--loss", "nt-xent", "--inputs", &t1, &t2],
        vec!["--loss", "uniformity", "--inputs", &t1],
        vec!["--loss", "barlow-twins", "--inputs", &w1, &w2],
        vec!["--loss", "corinfomax", "--inputs", &w1, &w2],
    ];
    for c in cases {
        let mut args = vec!["check"];
        args.extend(&c);
        args.extend(["--value", "1"]);
        let t = std::time::Instant::now();
        let o = run_capped(&args);
        assert_eq!(o.status.code(), Some(2), "{c:?}: {}", text(&o));
        assert!(
            text(&o).contains("needs about") && text(&o).contains("--max-memory"),
            "{c:?}: {}",
            text(&o)
        );
        assert!(t.elapsed().as_secs() < 30, "{c:?} took {:?}", t.elapsed());
    }
}

/// `--max-memory` is the budget: a small one refuses a case the default accepts, naming both
/// amounts; a file over what is left of the budget is refused before it is read.
#[test]
fn the_budget_is_the_one_given() {
    let (z1, z2) = views(1.0);
    let o = run(&[
        "check",
        "--loss",
        "vicreg",
        "--inputs",
        &z1,
        &z2,
        "--value",
        "1",
        "--max-memory",
        "2K",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("2.0 KiB"), "{}", text(&o));
    let o = run(&[
        "check",
        "--loss",
        "vicreg",
        "--inputs",
        &z1,
        &z2,
        "--value",
        "1",
        "--max-memory",
        "lots",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--max-memory"), "{}", text(&o));
}

/// A header declaring (16384, 8192) in a sparse file (4 KB on disk, 1 GiB long) is read within
/// the budget or refused; either way the run ends with exit 2 (one input where VICReg takes two)
/// under the 6 GiB cap.
#[test]
fn a_sparse_file_declaring_a_large_shape_is_bounded() {
    let p = dir().join("sparse.npy");
    let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (16384, 8192), }";
    let bytes = sslproof_losses::npy::raw_npy(dict, &[]);
    std::fs::write(&p, &bytes).unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
    f.set_len(bytes.len() as u64 + 16384 * 8192 * 8).unwrap();
    let o = run_capped(&[
        "check",
        "--loss",
        "vicreg",
        "--inputs",
        p.to_str().unwrap(),
        "--value",
        "1",
        "--max-memory",
        "1G",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("needs about"), "{}", text(&o));
    let _ = std::fs::remove_file(&p);
}

/// An OS error used to be printed twice (in the message and again as its source).
#[test]
fn os_errors_are_printed_once() {
    let (z1, _) = views(1.0);
    let missing = dir().join("missing.npy");
    let o = run(&[
        "check",
        "--loss",
        "vicreg",
        "--inputs",
        &z1,
        missing.to_str().unwrap(),
        "--value",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("os error").count(), 1, "{err}");
    assert!(err.contains("missing.npy"), "{err}");
}

/// Agreement on the value alone says so: "AGREES" must not read as if the gradients were checked.
#[test]
fn agreement_without_gradients_says_none_were_checked() {
    let (z1, z2) = views(1.0);
    let json = dir().join("agree.json");
    let o = run(&[
        "check",
        "--loss",
        "vicreg",
        "--inputs",
        &z1,
        &z2,
        "--value",
        "1",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let reference = format!("{:e}", v["value"]["reference"].as_f64().unwrap());
    let o = run(&[
        "check", "--loss", "vicreg", "--inputs", &z1, &z2, "--value", &reference,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("gradients: not checked") && out.contains("no gradient was checked"),
        "{out}"
    );
}
