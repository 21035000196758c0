//! The catalogue as a regression suite: every claim's verdict record and derivation are insta
//! snapshots (top-level `snapshots/`), every mutant must be refuted, and the committed
//! `docs/derivations/` must be what `sslproof derive` writes today. All claims run once, in one
//! process, through the single symbolica worker.
#![cfg(feature = "symbolic")]

use std::sync::OnceLock;

use sslproof::claim::{Report, Verdict};
use sslproof::report;
use sslproof_theorems::{self as theorems, Config};

fn reports() -> &'static [Report] {
    static R: OnceLock<Vec<Report>> = OnceLock::new();
    R.get_or_init(|| {
        let cfg = Config::default();
        theorems::catalogue()
            .iter()
            .map(|e| theorems::run(e, &cfg))
            .collect()
    })
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s
}

#[test]
fn verdict_records() {
    settings().bind(|| {
        for r in reports() {
            insta::assert_snapshot!(format!("{}@verdict", r.claim.id), report::verdict_record(r));
        }
    });
}

#[test]
fn derivations() {
    settings().bind(|| {
        for r in reports() {
            insta::assert_snapshot!(
                format!("{}@derivation", r.claim.id),
                report::markdown::derivation(r)
            );
        }
    });
}

#[test]
fn every_claim_has_a_verdict_and_two_refuted_mutants() {
    for r in reports() {
        let (refuted, total) = r.mutants_refuted();
        assert!(total >= 2, "{}: only {total} mutants", r.claim.id);
        assert_eq!(refuted, total, "{}: a mutant survived", r.claim.id);
        assert!(
            !matches!(r.verdict, Verdict::NotEstablished { .. }),
            "{}: {}",
            r.claim.id,
            r.verdict
        );
    }
}

#[test]
fn catalogue_is_complete() {
    let labels: Vec<&str> = reports().iter().map(|r| r.claim.label).collect();
    let want = [
        "A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4", "B5", "B6", "B7", "C1", "C2", "C3", "C4",
        "C5", "D1", "D2", "D3", "D4", "D5", "E1", "E2",
    ];
    for l in want {
        assert!(labels.contains(&l), "{l} missing");
    }
    let mut ids: Vec<&str> = reports().iter().map(|r| r.claim.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), reports().len(), "claim ids must be unique");
}

#[test]
fn committed_derivations_are_current() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/derivations");
    let mut stale = Vec::new();
    for (name, content) in report::derivation_files(reports()) {
        if std::fs::read_to_string(dir.join(&name)).ok().as_deref() != Some(content.as_str()) {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "stale or missing in docs/derivations (run `make derive`): {stale:?}"
    );
}

/// The same seed gives the same findings: run a claim twice and compare the records.
#[test]
fn runs_are_reproducible() {
    let cfg = Config::default();
    let e = &theorems::catalogue()[0];
    let a = report::verdict_record(&theorems::run(e, &cfg));
    assert_eq!(a, report::verdict_record(&reports()[0]));
}
