//! The catalogue as a regression suite, one test per claim (a failing claim does not hide the
//! others): its verdict record and derivation are insta snapshots (top-level `snapshots/`), its
//! verdict class is the one its file expects, every mutant counts and is refuted, every
//! proposition has a check that ran. Then: the committed `docs/derivations/` and the README's
//! verdict table are what `sslproof derive` writes today, and the precision ladder (128, 256,
//! 512 bits; two base seeds) gives the same verdict classes with every recorded precision and
//! seed the configured one. All claims run in one process, through the single symbolica worker.
#![cfg(feature = "symbolic")]

use std::sync::OnceLock;

use sslproof::claim::{Class, Config, Method, Report, Seed, derive_seed};
use sslproof::report;
use sslproof_theorems::{self as theorems, CATALOGUE};

/// Every claim at the default settings, computed once.
fn reports() -> &'static [Report] {
    static R: OnceLock<Vec<Report>> = OnceLock::new();
    R.get_or_init(|| {
        let cfg = Config::default();
        CATALOGUE.iter().map(|e| theorems::run(e, &cfg)).collect()
    })
}

fn report_of(label: &str) -> &'static Report {
    reports()
        .iter()
        .find(|r| r.claim.label == label)
        .unwrap_or_else(|| panic!("no claim labelled {label}"))
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s
}

/// Everything one claim must satisfy.
fn check_claim(label: &str) {
    let r = report_of(label);
    settings().bind(|| {
        insta::assert_snapshot!(format!("{}@verdict", r.claim.id), report::verdict_record(r));
        insta::assert_snapshot!(
            format!("{}@derivation", r.claim.id),
            report::markdown::derivation(r)
        );
    });
    assert_eq!(
        r.verdict.class(),
        r.claim.expected,
        "{}: computed `{}`, the claim's file expects `{}`",
        r.claim.id,
        r.verdict,
        r.claim.expected
    );
    assert_ne!(r.verdict.class(), Class::NotEstablished, "{}", r.verdict);
    let (refuted, total) = r.mutants_refuted();
    assert!(total >= 2, "{}: only {total} mutants", r.claim.id);
    assert_eq!(refuted, total, "{}: a mutant does not count", r.claim.id);
    for m in &r.findings.mutants {
        let by = m.refuted_by.as_ref().expect("refuted");
        let p = r
            .findings
            .propositions
            .iter()
            .find(|p| p.name == m.of)
            .expect("a mutant's proposition");
        let c = p.checks.iter().find(|c| &c.name == by).expect("its check");
        assert!(
            c.refutes.contains(&m.name),
            "{}: check {by} does not list mutant {}",
            r.claim.id,
            m.name
        );
    }
    for p in &r.findings.propositions {
        assert!(
            p.checks.iter().any(|c| c.outcome.ran()),
            "{}: proposition `{}` has no check that ran",
            r.claim.id,
            p.name
        );
    }
}

macro_rules! claim_tests {
    ($($test:ident => $label:literal),* $(,)?) => {
        $(#[test] fn $test() { check_claim($label) })*
        /// Every claim of the catalogue has its test above, and no test names a missing claim.
        #[test]
        fn every_claim_has_a_test() {
            let tested = [$($label),*];
            let labels: Vec<&str> = CATALOGUE.iter().map(|e| e.claim.label).collect();
            for l in &labels {
                assert!(tested.contains(l), "claim {l} has no test in tests/catalogue.rs");
            }
            for t in tested {
                assert!(labels.contains(&t), "test for {t}, which is not in the catalogue");
            }
        }
    };
}

claim_tests![
    a1 => "A1", a2 => "A2", a3 => "A3", a4 => "A4", a5 => "A5",
    b1 => "B1", b2 => "B2", b3 => "B3", b4 => "B4", b5 => "B5", b6 => "B6", b7 => "B7",
    c1 => "C1", c2 => "C2", c3 => "C3", c4 => "C4", c5 => "C5",
    d1 => "D1", d2 => "D2", d3 => "D3", d4 => "D4", d5 => "D5",
    e1 => "E1", e2 => "E2",
    f1 => "F1", f2 => "F2", f3 => "F3", f4 => "F4", f5 => "F5",
];

#[test]
fn ids_and_labels_are_unique() {
    let mut ids: Vec<&str> = CATALOGUE.iter().map(|e| e.claim.id).collect();
    let mut labels: Vec<&str> = CATALOGUE.iter().map(|e| e.claim.label).collect();
    ids.sort_unstable();
    ids.dedup();
    labels.sort_unstable();
    labels.dedup();
    assert_eq!(ids.len(), CATALOGUE.len(), "claim ids must be unique");
    assert_eq!(labels.len(), CATALOGUE.len(), "labels must be unique");
}

#[test]
fn committed_derivations_and_readme_table_are_current() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("docs/derivations");
    let mut stale = Vec::new();
    for (name, content) in report::derivation_files(reports()) {
        if std::fs::read_to_string(dir.join(&name)).ok().as_deref() != Some(content.as_str()) {
            stale.push(name);
        }
    }
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let fresh = report::readme_with_table(&readme, reports()).expect("README table markers");
    if fresh != readme {
        stale.push("README.md (verdict table)".into());
    }
    assert!(
        stale.is_empty(),
        "stale or missing (run `make derive`): {stale:?}"
    );
}

/// Every numeric and statistical check records the configured precision and a seed derived from
/// the configured base seed, the claim and the check's name.
fn assert_recorded(r: &Report, cfg: &Config) {
    let seed_ok = |s: &Option<Seed>, name: &str| match s {
        None => true,
        Some(s) => s.base == cfg.seed && s.derived == derive_seed(cfg.seed, r.claim.id, name),
    };
    let mutant_checks = r.findings.mutants.iter().flat_map(|m| m.checks.iter());
    for c in r
        .findings
        .propositions
        .iter()
        .flat_map(|p| p.checks.iter())
        .chain(mutant_checks)
    {
        match &c.method {
            Method::Numeric { prec, seed, .. } => {
                assert_eq!(*prec, cfg.prec, "{} {}: precision", r.claim.id, c.name);
                assert!(seed_ok(seed, &c.name), "{} {}: seed", r.claim.id, c.name);
            }
            Method::Measured { prec } => {
                assert_eq!(*prec, cfg.prec, "{} {}: precision", r.claim.id, c.name)
            }
            Method::Statistical { seed, .. } | Method::Double { seed, .. } => {
                assert!(seed_ok(seed, &c.name), "{} {}: seed", r.claim.id, c.name)
            }
            Method::Symbolic { .. } => {}
        }
    }
}

/// One rung of the precision ladder: the verdict classes of the default run, and every recorded
/// precision and seed the configured one.
fn rung(cfg: Config) {
    for r in reports() {
        assert_recorded(r, &Config::default());
    }
    for (e, default) in CATALOGUE.iter().zip(reports()) {
        let r = theorems::run(e, &cfg);
        assert_eq!(
            r.verdict.class(),
            default.verdict.class(),
            "{} at {} bits, seed {}: `{}` (default: `{}`)",
            e.claim.id,
            cfg.prec,
            cfg.seed,
            r.verdict,
            default.verdict
        );
        assert_recorded(&r, &cfg);
    }
}

#[test]
fn ladder_128_bits() {
    rung(Config {
        prec: 128,
        ..Config::default()
    });
}

#[test]
fn ladder_512_bits() {
    rung(Config {
        prec: 512,
        ..Config::default()
    });
}

#[test]
fn ladder_another_seed() {
    rung(Config {
        seed: 7,
        ..Config::default()
    });
}

/// The same settings give the same findings.
#[test]
fn runs_are_reproducible() {
    let e = &CATALOGUE[0];
    let a = report::verdict_record(&theorems::run(e, &Config::default()));
    assert_eq!(a, report::verdict_record(&reports()[0]));
}
