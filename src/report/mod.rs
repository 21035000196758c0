//! Outputs: the compact verdict record, the markdown derivation, the JSON record and SVG plots.

pub mod markdown;
pub mod plot;

use serde::Serialize;

use crate::claim::{Method, Report, Role, Scope, Verdict};

/// The one-line reason for a verdict, built from the evidence (never typed in).
pub fn summarize(r: &Report) -> String {
    let f = &r.findings;
    let (refuted, total) = r.mutants_refuted();
    let first_fail = || {
        f.propositions
            .iter()
            .filter(|p| p.role == Role::AsWritten)
            .flat_map(|p| p.checks.iter().map(move |c| (p, c)))
            .find(|(_, c)| c.outcome.fails())
            .map(|(p, c)| format!("{}: {}", p.name, c.outcome.detail()))
            .unwrap_or_default()
    };
    let names = |role: Role| {
        f.propositions
            .iter()
            .filter(|p| p.role == role)
            .map(|p| p.name.clone())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let mutants = format!("{refuted}/{total} mutants refuted");
    match &r.verdict {
        Verdict::Proved { .. } | Verdict::VerifiedNumerically => {
            format!("{} ({mutants})", names(Role::AsWritten))
        }
        Verdict::Approximate => format!(
            "{}; {} ({mutants})",
            names(Role::AsWritten),
            names(Role::Approximation)
        ),
        Verdict::HoldsUnderConditions => {
            format!(
                "fails as written ({}); holds under: {} ({mutants})",
                first_fail(),
                names(Role::UnderConditions)
            )
        }
        Verdict::WrongAsWrittenCorrected => {
            format!(
                "fails as written ({}); corrected: {} ({mutants})",
                first_fail(),
                names(Role::Corrected)
            )
        }
        Verdict::Refuted => format!("{} ({mutants})", first_fail()),
        Verdict::Interpretive => format!(
            "precise statements hold: {} ({mutants})",
            names(Role::Precise)
        ),
        Verdict::Empirical => "outside what the harness checks".to_string(),
        Verdict::NotEstablished { reason } => reason.clone(),
    }
}

/// The JSON record of one claim (`sslproof verify --json`).
#[derive(Debug, Serialize)]
pub struct Record<'a> {
    pub id: &'a str,
    pub label: &'a str,
    pub family: &'a str,
    pub title: &'a str,
    pub verdict: &'a Verdict,
    pub verdict_class: &'a str,
    pub summary: &'a str,
    pub mutants: MutantCount,
    /// The reach of the evidence: symbolic scopes and numeric precisions and case counts.
    pub scope: Vec<String>,
    pub findings: &'a crate::claim::Findings,
}

#[derive(Debug, Serialize)]
pub struct MutantCount {
    pub total: usize,
    pub refuted: usize,
    pub names: Vec<String>,
}

/// The evidence scope lines: one per distinct method that ran.
pub fn evidence_scope(r: &Report) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in &r.findings.propositions {
        for c in &p.checks {
            let s = match (&c.method, &c.outcome) {
                (_, crate::claim::Outcome::NotRun(why)) => format!("not run: {why}"),
                (Method::Symbolic { scope }, _) => match scope {
                    Scope::Exact => "symbolic: exact identity".to_string(),
                    s => format!("symbolic: {s}"),
                },
                (Method::Numeric { prec, cases, seed }, _) => match seed {
                    Some(seed) => format!("numeric: {prec}-bit, {cases} cases, seed {seed:#x}"),
                    None => format!("numeric: {prec}-bit, {cases} fixed cases"),
                },
                (Method::Statistical { level, seed }, _) => {
                    format!("statistical: level {level}, seed {seed:#x}")
                }
                (Method::Measured { prec }, _) => format!("measured: {prec}-bit"),
            };
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}

pub fn record(r: &Report) -> Record<'_> {
    let (refuted, total) = r.mutants_refuted();
    Record {
        id: r.claim.id,
        label: r.claim.label,
        family: r.claim.family,
        title: r.claim.title,
        verdict: &r.verdict,
        verdict_class: r.verdict.class(),
        summary: &r.summary,
        mutants: MutantCount {
            total,
            refuted,
            names: r.findings.mutants.iter().map(|m| m.name.clone()).collect(),
        },
        scope: evidence_scope(r),
        findings: &r.findings,
    }
}

/// The compact verdict record snapshotted by the tests: text identical on every machine.
pub fn verdict_record(r: &Report) -> String {
    let mut s = String::new();
    let (refuted, total) = r.mutants_refuted();
    s.push_str(&format!(
        "id: {}\nlabel: {}\nverdict: {}\nclass: {}\n",
        r.claim.id,
        r.claim.label,
        r.verdict,
        r.verdict.class()
    ));
    s.push_str(&format!("summary: {}\n", r.summary));
    s.push_str(&format!("mutants: {refuted}/{total} refuted\n"));
    for m in &r.findings.mutants {
        let by = m
            .refuted_by()
            .map_or("SURVIVED".to_string(), |c| format!("refuted by {}", c.name));
        s.push_str(&format!("  - {}: {by}\n", m.name));
    }
    s.push_str("propositions:\n");
    for p in &r.findings.propositions {
        let status = if p.fails() {
            "fails"
        } else if p.holds() {
            "holds"
        } else {
            "not run"
        };
        s.push_str(&format!("  - [{:?}] {}: {status}\n", p.role, p.name));
        for c in &p.checks {
            let tag = match &c.outcome {
                crate::claim::Outcome::Holds(_) => "holds",
                crate::claim::Outcome::Fails(_) => "FAILS",
                crate::claim::Outcome::NotRun(_) => "not run",
            };
            s.push_str(&format!(
                "      {tag}: {} — {}\n",
                c.name,
                c.outcome.detail()
            ));
        }
    }
    s
}

/// The files `sslproof derive` writes into `docs/derivations/`: name → content (one document per
/// claim, its figures, and `README.md` as the index).
pub fn derivation_files(reports: &[Report]) -> std::collections::BTreeMap<String, String> {
    let mut files = std::collections::BTreeMap::new();
    for r in reports {
        files.insert(format!("{}.md", r.claim.id), markdown::derivation(r));
        for fig in &r.findings.figures {
            files.insert(fig.file.clone(), fig.svg.clone());
        }
    }
    files.insert("README.md".into(), markdown::index(reports));
    files
}
