//! The command-line interface, end to end. The binary uses symbolica, which allows one process at
//! a time on the machine: every test here takes the same lock.

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
