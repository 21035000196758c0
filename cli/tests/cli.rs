//! The command-line interface, end to end. The binary uses symbolica, which allows one process at
//! a time on the machine: every test here takes the same lock.

mod common;
use common::{case, files, manifest};
use std::process::Command;
use std::sync::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn sslproof(args: &[&str]) -> std::process::Output {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    Command::new(env!("CARGO_BIN_EXE_sslproof"))
        .args(args)
        .output()
        .expect("run sslproof")
}

#[test]
fn help_lists_the_commands() {
    let out = sslproof(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["verify", "derive", "list"] {
        assert!(text.contains(cmd), "{text}");
    }
    let out = sslproof(&["verify", "--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("--json") && text.contains("--claim") && text.contains("committed"),
        "{text}"
    );
}

#[test]
fn verify_one_claim_writes_json_records() {
    let dir = std::env::temp_dir().join(format!("sslproof-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("out.json");
    let out = sslproof(&[
        "verify",
        "--claim",
        "A3",
        "--claim",
        "A1",
        "--json",
        json.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("A3") && stdout.contains("vicreg_covariance_penalty_of_taylor_offdiagonal"),
        "{stdout}"
    );
    let records: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let records = records.as_array().unwrap();
    assert_eq!(records.len(), 2);
    for r in records {
        for key in ["id", "label", "verdict", "summary", "scope"] {
            assert!(r.get(key).is_some(), "missing {key}: {r}");
        }
        let total = r["mutants"]["total"].as_u64().unwrap();
        let refuted = r["mutants"]["refuted"].as_u64().unwrap();
        assert!(total >= 2 && refuted == total, "{r}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// `verify --prec 512 --seed 7 --json`: every numeric check records 512 bits and a seed derived
/// from 7, every mutant names the check that refuted it, and the verdict classes are the default
/// run's.
#[test]
fn verify_records_the_settings_it_ran_with() {
    let dir = std::env::temp_dir().join(format!("sslproof-cli-ladder-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let read = |args: &[&str], name: &str| -> Vec<serde_json::Value> {
        let json = dir.join(name);
        let mut all = vec!["verify", "--claim", "A1", "--claim", "C5", "--json"];
        all.push(json.to_str().unwrap());
        all.extend(args);
        let out = sslproof(&all);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        v.as_array().unwrap().clone()
    };
    let default = read(&[], "default.json");
    let high = read(&["--prec", "512", "--seed", "7"], "high.json");
    for (d, h) in default.iter().zip(&high) {
        assert_eq!(d["verdict_class"], h["verdict_class"], "{}", h["id"]);
        assert_eq!(h["config"]["prec"], 512);
        assert_eq!(h["config"]["seed"], 7);
        let mut numeric = 0;
        for p in h["findings"]["propositions"].as_array().unwrap() {
            for c in p["checks"].as_array().unwrap() {
                let m = &c["method"];
                if m["kind"] == "numeric" {
                    numeric += 1;
                    assert_eq!(m["prec"], 512, "{}", c["name"]);
                    if !m["seed"].is_null() {
                        assert_eq!(m["seed"]["base"], 7, "{}", c["name"]);
                    }
                }
            }
        }
        assert!(numeric > 0);
        for m in h["mutants"]["refuted_by"].as_array().unwrap() {
            assert!(m[1].is_string(), "mutant {} names no refuting check", m[0]);
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn unknown_claim_is_a_usage_error() {
    let out = sslproof(&["verify", "--claim", "Z9"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown claim `Z9`") && stderr.contains("A1"),
        "{stderr}"
    );
}

#[test]
fn bad_precision_is_rejected() {
    let out = sslproof(&["verify", "--prec", "8"]);
    assert_eq!(out.status.code(), Some(2));
}

/// A verdict that differs from the committed one is a regression: exit 1.
#[test]
fn verify_exits_nonzero_on_a_verdict_regression() {
    if !cfg!(feature = "symbolic") {
        return; // without symbolic evidence verdicts are not compared (see `verify --help`)
    }
    let dir = std::env::temp_dir().join(format!("sslproof-reg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("vicreg_covariance_penalty_of_taylor_offdiagonal@verdict.snap"),
        "---\n---\nverdict: refuted\n",
    )
    .unwrap();
    let out = sslproof(&[
        "verify",
        "--claim",
        "A3",
        "--snapshots",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("committed `refuted`"));
    std::fs::remove_dir_all(&dir).ok();
}

/// `check` on a golden case: the golden numbers agree (exit 0), a perturbed value disagrees
/// (exit 1, first disagreement named), a bad file is refused (exit 2, named).
#[test]
fn check_exit_codes_on_golden_files() {
    let m = manifest("vicreg");
    let c = case(&m, "official/small");
    let value = c["value"].as_f64().unwrap();
    let mut args = vec![
        "check",
        "--loss",
        "vicreg",
        "--precision",
        "f64",
        "--inputs",
    ];
    let ins = files(c, "inputs");
    let gs = files(c, "grads");
    args.extend(ins.iter().map(String::as_str));
    args.push("--grad");
    args.extend(gs.iter().map(String::as_str));
    let v = format!("{value:e}");
    let mut ok = args.clone();
    ok.extend(["--value", &v]);
    let out = sslproof(&ok);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("AGREES") && text.contains("MPFR at 256 bits"),
        "{text}"
    );
    let wrong = format!("{:e}", value * (1.0 + 1e-9));
    let mut bad = args.clone();
    bad.extend(["--value", &wrong]);
    let out = sslproof(&bad);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("first disagreement: value"), "{text}");

    let dir = std::env::temp_dir().join(format!("sslproof-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trunc = dir.join("truncated.npy");
    let bytes = std::fs::read(&ins[0]).unwrap();
    std::fs::write(&trunc, &bytes[..bytes.len() - 8]).unwrap();
    let out = sslproof(&[
        "check",
        "--loss",
        "vicreg",
        "--inputs",
        trunc.to_str().unwrap(),
        &ins[1],
        "--value",
        "1",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("truncated.npy") && err.contains("truncated"),
        "{err}"
    );
    let out = sslproof(&[
        "check",
        "--loss",
        "vicreg",
        "--variant",
        "nope",
        "--inputs",
        &ins[0],
        &ins[1],
        "--value",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("official, paper, solo-learn"));
    std::fs::remove_dir_all(&dir).ok();
}

/// `--tolerance`: in float32 the report says the gradients' tolerance was estimated at the
/// inputs (the default) or is the bound (`--tolerance bound`), and the JSON report records the
/// factor applied; an unknown mode is refused (exit 2).
#[test]
fn check_tolerance_estimate_and_bound() {
    let m = manifest("barlow-twins");
    let c = case(&m, "official/medium");
    let ins = files(c, "inputs");
    let gs = files(c, "grads");
    let v = format!("{:e}", c["value"].as_f64().unwrap());
    let json_path = std::env::temp_dir().join(format!("sslproof-tol-{}.json", std::process::id()));
    let json = json_path.to_str().unwrap();
    let run = |mode: &str| {
        let mut args = vec![
            "check",
            "--loss",
            "barlow-twins",
            "--precision",
            "f32",
            "--tolerance",
            mode,
            "--value",
            &v,
            "--json",
            json,
            "--inputs",
        ];
        args.extend(ins.iter().map(String::as_str));
        args.push("--grad");
        args.extend(gs.iter().map(String::as_str));
        let out = sslproof(&args);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert_eq!(out.status.code(), Some(0), "{text}");
        let rep: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
        (text, rep)
    };
    let (text, rep) = run("bound");
    assert_eq!(rep["tolerance_source"]["kind"], "bound", "{rep}");
    assert!(
        text.contains("gradient tolerance: the a-priori bound"),
        "{text}"
    );
    // The JSON report records what the estimate measured and applied (here well inside the
    // bound; what that rejects is held in losses/tests/estimate.rs).
    let (text, rep) = run("estimate");
    std::fs::remove_file(&json_path).ok();
    assert!(
        text.contains("gradient tolerance: estimated at these inputs"),
        "{text}"
    );
    let scale = rep["tolerance_source"]["scales"][0].as_f64().unwrap();
    assert!(
        scale < 0.5,
        "the estimate should be well inside the bound here: {rep}"
    );
    let out = sslproof(&[
        "check",
        "--loss",
        "barlow-twins",
        "--tolerance",
        "nope",
        "--value",
        "1",
        "--inputs",
        &ins[0],
        &ins[1],
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("estimate") && err.contains("bound"), "{err}");
}

/// Exit 3 where the precision cannot give a trustworthy answer (CorInfoMax, d > B, in float32).
#[test]
fn check_says_when_a_precision_cannot_be_trusted() {
    let m = manifest("corinfomax");
    let c = case(&m, "one-batch/wide");
    assert_eq!(c["tolerances"]["f32"]["trustworthy"], false);
    let ins = files(c, "inputs");
    let v = format!("{:e}", c["value"].as_f64().unwrap());
    let out = sslproof(&[
        "check",
        "--loss",
        "corinfomax",
        "--precision",
        "f32",
        "--inputs",
        &ins[0],
        &ins[1],
        "--value",
        &v,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains("NOT TRUSTWORTHY") && text.contains("condition number"),
        "{text}"
    );
}

#[test]
fn losses_lists_variants_inputs_and_mistakes() {
    let out = sslproof(&["losses"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for s in [
        "vicreg",
        "--variant official (default)",
        "solo-learn",
        "inputs: p1 p2 z1 z2",
        "eps-squared",
        "self-in-denominator",
    ] {
        assert!(text.contains(s), "{s}: {text}");
    }
    let out = sslproof(&["check", "--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for s in ["--loss", "--grad", "--precision", "bf16", "Exit 0"] {
        assert!(text.contains(s), "{s}: {text}");
    }
}
