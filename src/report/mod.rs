//! Outputs: the one-line reason of a verdict, the compact verdict record (snapshotted), the JSON
//! record, the markdown derivation and index, the README's verdict table, and SVG plots.

pub mod markdown;
pub mod plot;

use serde::Serialize;

use crate::claim::{Class, Counting, Method, Report, Role, Status, Verdict};

/// The one-line reason for a verdict, built from the evidence (never typed in).
pub fn summarize(r: &Report) -> String {
    let f = &r.findings;
    let (refuted, total) = r.mutants_refuted();
    let first_fail = |role: Role| {
        f.propositions
            .iter()
            .filter(|p| p.role == role)
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
        Verdict::HoldsUnderConditions => format!(
            "fails as written ({}); holds under: {} ({mutants})",
            first_fail(Role::AsWritten),
            names(Role::UnderConditions)
        ),
        Verdict::WrongAsWrittenCorrected => format!(
            "fails as written ({}); corrected: {} ({mutants})",
            first_fail(Role::AsWritten),
            names(Role::Corrected)
        ),
        Verdict::Refuted => format!("{} ({mutants})", first_fail(Role::AsWritten)),
        Verdict::ReproducedInMiniature => format!("{} ({mutants})", names(Role::AsWritten)),
        Verdict::NotReproducedInMiniature => format!(
            "not reproduced in miniature: {} ({mutants})",
            first_fail(Role::AsWritten)
        ),
        Verdict::Interpretive => format!(
            "precise statements hold: {} ({mutants})",
            names(Role::Precise)
        ),
        Verdict::InterpretationContradicted => format!(
            "read as a statement about the loss it names, it fails ({}); precise statements: {} ({mutants})",
            first_fail(Role::Reading),
            names(Role::Precise)
        ),
        Verdict::Empirical => {
            let base = format!(
                "outside what the harness checks; its mathematical part: {}",
                names(Role::Precise)
            );
            if f.propositions
                .iter()
                .any(|p| p.role == Role::Reading && p.fails())
            {
                format!(
                    "{base}; contradicted by its own exemplar: {}",
                    first_fail(Role::Reading)
                )
            } else {
                base
            }
        }
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
    pub verdict_text: String,
    pub verdict_class: Class,
    pub expected_class: Class,
    pub summary: &'a str,
    /// The settings the claim ran with.
    pub config: &'a crate::claim::Config,
    pub mutants: MutantCount,
    /// The reach of the evidence: symbolic scopes, numeric precisions, case counts and seeds.
    pub scope: Vec<String>,
    pub findings: &'a crate::claim::Findings,
}

#[derive(Debug, Serialize)]
pub struct MutantCount {
    pub total: usize,
    pub refuted: usize,
    /// Each mutant and the check that refuted it.
    pub refuted_by: Vec<(String, Option<String>)>,
}

/// The evidence scope lines: one per distinct method that ran.
pub fn evidence_scope(r: &Report) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in &r.findings.propositions {
        for c in &p.checks {
            let s = match c.outcome.status() {
                Status::NotRun => format!("not run: {}", c.outcome.detail()),
                _ => match &c.method {
                    Method::Symbolic { scope } => format!("symbolic: {scope}"),
                    m => m.to_string(),
                },
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
        verdict_text: r.verdict.to_string(),
        verdict_class: r.verdict.class(),
        expected_class: r.claim.expected,
        summary: &r.summary,
        config: &r.config,
        mutants: MutantCount {
            total,
            refuted,
            refuted_by: r
                .findings
                .mutants
                .iter()
                .map(|m| (m.name.clone(), m.refuted_by.clone()))
                .collect(),
        },
        scope: evidence_scope(r),
        findings: &r.findings,
    }
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Holds => "holds",
        Status::Fails => "FAILS",
        Status::NotRun => "not run",
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
        let by = match (&m.counting, &m.refuted_by) {
            (Counting::Counts, Some(c)) => format!("refuted by {c}"),
            (Counting::Void(why), _) => format!("VOID: {why}"),
            (Counting::NotRun(why), _) => format!("NOT RUN: {why}"),
            _ => "SURVIVED".to_string(),
        };
        s.push_str(&format!("  - {} (of {}): {by}\n", m.name, m.of));
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
        s.push_str(&format!("  - [{}] {}: {status}\n", p.role.name(), p.name));
        for c in &p.checks {
            s.push_str(&format!(
                "      {}: {} [{}] — {}{}\n",
                status_name(c.outcome.status()),
                c.name,
                c.method,
                c.outcome.detail(),
                if c.refutes.is_empty() {
                    String::new()
                } else {
                    format!(" (refutes {})", c.refutes.join(", "))
                }
            ));
        }
        if let Some(a) = &p.argument {
            s.push_str(&format!(
                "      argument, {}: {}\n",
                a.conclusion,
                if a.holds() { "holds" } else { "FAILS" }
            ));
            for step in &a.steps {
                match step {
                    crate::claim::ArgStep::Checked {
                        text, check, holds, ..
                    } => s.push_str(&format!(
                        "        checked ({}) by {check}: {text}\n",
                        if *holds { "holds" } else { "FAILS" }
                    )),
                    crate::claim::ArgStep::Cited { text, lemma } => s.push_str(&format!(
                        "        cited {} ({}): {text}\n",
                        lemma.name, lemma.source
                    )),
                }
            }
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

/// The markers between which the repository README carries the verdict table.
pub const README_TABLE_BEGIN: &str =
    "<!-- verdicts:begin (generated by `sslproof derive`; do not edit by hand) -->";
pub const README_TABLE_END: &str = "<!-- verdicts:end -->";

/// `readme` with the text between the verdict-table markers replaced by the table of
/// `reports`; `None` if the markers are missing.
pub fn readme_with_table(readme: &str, reports: &[Report]) -> Option<String> {
    let a = readme.find(README_TABLE_BEGIN)? + README_TABLE_BEGIN.len();
    let b = readme[a..].find(README_TABLE_END)? + a;
    Some(format!(
        "{}\n{}{}",
        &readme[..a],
        markdown::verdict_table(reports),
        &readme[b..]
    ))
}

/// The committed verdict of claim `id`: the `verdict:` line of its snapshot text.
pub fn committed_verdict(snapshot: &str) -> Option<String> {
    snapshot
        .lines()
        .find_map(|l| l.strip_prefix("verdict: ").map(str::to_string))
}
