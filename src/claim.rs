//! Claims, evidence and computed verdicts.
//!
//! A [`Claim`] is one sentence of the notes (a label of `claims.md`), with its quote and place.
//! Running it yields [`Findings`]: propositions (the claim *as written*, and where it fails the
//! *corrected* statement, or the *conditions* under which it holds, or the *precise statements*
//! behind an interpretation), each backed by [`Check`]s, plus [`Mutant`]s — deliberately wrong
//! variants that the same checks must refute. [`Verdict::compute`] is the only place a verdict
//! comes from: a pure function of the evidence.

use std::fmt;

use serde::Serialize;

/// What kind of sentence a claim is, read off its wording (not its truth).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Nature {
    /// Asserts something mathematical that can be checked.
    Mathematical,
    /// Has no mathematical content of its own; the precise statements behind it are checked.
    Interpretive,
    /// About training outcomes: outside what the harness can check.
    Empirical,
}

/// A static description of a claim.
#[derive(Clone, Debug, Serialize)]
pub struct Claim {
    /// Stable id, mathlib-style: the conclusion first.
    pub id: &'static str,
    /// The label in `claims.md` (`A1`).
    pub label: &'static str,
    /// The theorem family (`taylor`).
    pub family: &'static str,
    pub title: &'static str,
    /// The exact words of the notes.
    pub quote: &'static str,
    /// Where in the notes.
    pub place: &'static str,
    /// The claim as written, in LaTeX.
    pub statement: &'static str,
    pub nature: Nature,
}

/// How a proposition relates to the claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The claim as written, constants and quantifiers included.
    AsWritten,
    /// The claim as written restricted by hypotheses the notes do not state.
    UnderConditions,
    /// The closest correct statement where the claim as written fails.
    Corrected,
    /// A precise statement behind an interpretive claim.
    Precise,
    /// A quantified approximation (its error is measured, not bounded to zero).
    Approximation,
}

/// How far a symbolic proof reaches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Scope {
    /// For every dimension, by the named reduction (its lemma checked separately).
    AllD { via: String },
    /// For every dimension up to `d_max`, with fully symbolic entries.
    UpToD { d_max: usize },
    /// An identity with no dimension in it (scalar or in symbolic invariants).
    Exact,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::AllD { via } => write!(f, "for all d (via {via})"),
            Scope::UpToD { d_max } => write!(f, "for d ≤ {d_max}"),
            Scope::Exact => write!(f, "exactly"),
        }
    }
}

/// The kind of evidence a check gives.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Method {
    /// A symbolic identity or derivation (symbolica), with its scope.
    Symbolic { scope: Scope },
    /// Randomised or fixed-case high-precision numerics.
    Numeric {
        prec: u32,
        cases: usize,
        seed: Option<u64>,
    },
    /// A statistical test with a stated level.
    Statistical { level: f64, seed: u64 },
    /// A measured approximation error.
    Measured { prec: u32 },
}

/// What a check found.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "detail")]
pub enum Outcome {
    /// It holds; the detail gives the figure (worst residual, cases).
    Holds(String),
    /// It fails; the detail is the (smallest) counterexample.
    Fails(String),
    /// Not run (the `symbolic` feature is off, say); the detail says why.
    NotRun(String),
}

impl Outcome {
    pub fn holds(&self) -> bool {
        matches!(self, Outcome::Holds(_))
    }
    pub fn fails(&self) -> bool {
        matches!(self, Outcome::Fails(_))
    }
    pub fn detail(&self) -> &str {
        match self {
            Outcome::Holds(s) | Outcome::Fails(s) | Outcome::NotRun(s) => s,
        }
    }
}

/// One check and its outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Check {
    pub name: String,
    pub method: Method,
    pub outcome: Outcome,
}

impl Check {
    pub fn new(name: impl Into<String>, method: Method, outcome: Outcome) -> Self {
        Check {
            name: name.into(),
            method,
            outcome,
        }
    }
}

/// A statement with its checks.
#[derive(Clone, Debug, Serialize)]
pub struct Proposition {
    pub role: Role,
    pub name: String,
    /// LaTeX.
    pub statement: String,
    pub checks: Vec<Check>,
}

impl Proposition {
    pub fn new(role: Role, name: impl Into<String>, statement: impl Into<String>) -> Self {
        Proposition {
            role,
            name: name.into(),
            statement: statement.into(),
            checks: Vec::new(),
        }
    }
    pub fn with(mut self, check: Check) -> Self {
        self.checks.push(check);
        self
    }
    pub fn push(&mut self, check: Check) {
        self.checks.push(check);
    }
    /// Some check fails.
    pub fn fails(&self) -> bool {
        self.checks.iter().any(|c| c.outcome.fails())
    }
    /// Every check that ran holds, and at least one ran.
    pub fn holds(&self) -> bool {
        !self.fails() && self.checks.iter().any(|c| c.outcome.holds())
    }
}

/// A deliberately wrong variant and the checks run on it (it is refuted when one fails).
#[derive(Clone, Debug, Serialize)]
pub struct Mutant {
    pub name: String,
    pub description: String,
    pub checks: Vec<Check>,
}

impl Mutant {
    pub fn refuted(&self) -> bool {
        self.checks.iter().any(|c| c.outcome.fails())
    }
    /// The first check that refutes it.
    pub fn refuted_by(&self) -> Option<&Check> {
        self.checks.iter().find(|c| c.outcome.fails())
    }
}

/// A derivation step: prose (markdown) and an optional display formula (LaTeX).
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub text: String,
    pub tex: Option<String>,
}

/// A table for the derivation document.
#[derive(Clone, Debug, Serialize)]
pub struct Table {
    pub caption: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// An SVG figure for the derivation document.
#[derive(Clone, Debug, Serialize)]
pub struct Figure {
    /// File name (no directory), e.g. `taylor_remainder.svg`.
    pub file: String,
    pub caption: String,
    #[serde(skip)]
    pub svg: String,
}

/// Everything a claim's run produced.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Findings {
    pub propositions: Vec<Proposition>,
    pub mutants: Vec<Mutant>,
    pub derivation: Vec<Step>,
    pub tables: Vec<Table>,
    #[serde(skip)]
    pub figures: Vec<Figure>,
}

impl Findings {
    pub fn step(&mut self, text: impl Into<String>, tex: Option<String>) {
        self.derivation.push(Step {
            text: text.into(),
            tex,
        });
    }
    fn with_role(&self, role: Role) -> impl Iterator<Item = &Proposition> {
        self.propositions.iter().filter(move |p| p.role == role)
    }
}

/// The verdict classes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "class")]
pub enum Verdict {
    /// Proved symbolically, with its scope; numerics agree.
    Proved { scope: Scope },
    /// Holds in high-precision numerics; no symbolic proof ran.
    VerifiedNumerically,
    /// Holds once hypotheses the notes do not state are added.
    HoldsUnderConditions,
    /// An approximation whose error is measured.
    Approximate,
    /// Fails as written; the corrected statement holds (both reported).
    WrongAsWrittenCorrected,
    /// Fails as written, with a counterexample; no correction checked.
    Refuted,
    /// No mathematical content of its own; the precise statements behind it hold.
    Interpretive,
    /// About training outcomes: outside what the harness checks.
    Empirical,
    /// The evidence does not settle it; the reason says why (a mutant survived: the checks lack
    /// power; or the checks did not run).
    NotEstablished { reason: String },
}

impl Verdict {
    /// A short stable name for tables and regression comparison.
    pub fn class(&self) -> &'static str {
        match self {
            Verdict::Proved { .. } => "proved",
            Verdict::VerifiedNumerically => "verified numerically",
            Verdict::HoldsUnderConditions => "holds under conditions",
            Verdict::Approximate => "approximate",
            Verdict::WrongAsWrittenCorrected => "wrong as written, corrected",
            Verdict::Refuted => "refuted",
            Verdict::Interpretive => "interpretive",
            Verdict::Empirical => "empirical",
            Verdict::NotEstablished { .. } => "not established",
        }
    }

    /// The verdict, computed from the evidence and nothing else.
    ///
    /// 1. A surviving mutant means the checks lack power: not established.
    /// 2. Empirical claims are reported as such.
    /// 3. Interpretive claims: interpretive if every precise statement holds.
    /// 4. If the claim as written holds: approximate if an approximation proposition carries it,
    ///    else proved (with the widest symbolic scope that ran) or verified numerically.
    /// 5. If it fails: holds under conditions, or wrong as written but corrected, or refuted.
    pub fn compute(nature: Nature, f: &Findings) -> Verdict {
        if let Some(m) = f.mutants.iter().find(|m| !m.refuted()) {
            let ran = m
                .checks
                .iter()
                .any(|c| !matches!(c.outcome, Outcome::NotRun(_)));
            let reason = if ran {
                format!(
                    "mutant `{}` survived every check: the checks lack power",
                    m.name
                )
            } else {
                format!("the checks that refute mutant `{}` did not run", m.name)
            };
            return Verdict::NotEstablished { reason };
        }
        if f.mutants.is_empty() && nature == Nature::Mathematical {
            return Verdict::NotEstablished {
                reason: "no mutants: the checks' power is untested".into(),
            };
        }
        match nature {
            Nature::Empirical => return Verdict::Empirical,
            Nature::Interpretive => {
                let precise: Vec<_> = f.with_role(Role::Precise).collect();
                return if !precise.is_empty() && precise.iter().all(|p| p.holds()) {
                    Verdict::Interpretive
                } else {
                    let bad = precise
                        .iter()
                        .find(|p| !p.holds())
                        .map_or("none given".to_string(), |p| p.name.clone());
                    Verdict::NotEstablished {
                        reason: format!("precise statement not established: {bad}"),
                    }
                };
            }
            Nature::Mathematical => {}
        }
        let written: Vec<_> = f.with_role(Role::AsWritten).collect();
        if written.is_empty() {
            return Verdict::NotEstablished {
                reason: "no as-written proposition".into(),
            };
        }
        if written.iter().any(|p| p.fails()) {
            let all_hold = |role| {
                let v: Vec<_> = f.with_role(role).collect();
                !v.is_empty() && v.iter().all(|p| p.holds())
            };
            return if all_hold(Role::UnderConditions) {
                Verdict::HoldsUnderConditions
            } else if all_hold(Role::Corrected) {
                Verdict::WrongAsWrittenCorrected
            } else {
                Verdict::Refuted
            };
        }
        if !written.iter().all(|p| p.holds()) {
            return Verdict::NotEstablished {
                reason: "the as-written checks did not run".into(),
            };
        }
        if f.with_role(Role::Approximation).next().is_some() {
            return Verdict::Approximate;
        }
        // The widest symbolic scope among the as-written checks that ran; every as-written
        // proposition must have symbolic support for "proved".
        let mut scopes = Vec::new();
        for p in &written {
            let best = p
                .checks
                .iter()
                .filter(|c| c.outcome.holds())
                .filter_map(|c| match &c.method {
                    Method::Symbolic { scope } => Some(scope.clone()),
                    _ => None,
                })
                .max_by_key(scope_rank);
            match best {
                Some(s) => scopes.push(s),
                None => return Verdict::VerifiedNumerically,
            }
        }
        let weakest = scopes
            .into_iter()
            .min_by_key(scope_rank)
            .expect("non-empty");
        Verdict::Proved { scope: weakest }
    }
}

/// How far a scope reaches: a fixed dimension, then a dimension-free identity, then every `d`.
/// A proposition reports its widest scope; a verdict reports the narrowest among its
/// propositions, so "for all d" shows only when every as-written part reaches it.
fn scope_rank(s: &Scope) -> usize {
    match s {
        Scope::UpToD { d_max } => *d_max,
        Scope::Exact => usize::MAX - 1,
        Scope::AllD { .. } => usize::MAX,
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Proved { scope } => write!(f, "proved {scope}"),
            Verdict::NotEstablished { reason } => write!(f, "not established: {reason}"),
            other => f.write_str(other.class()),
        }
    }
}

/// A claim with its findings and computed verdict.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub claim: Claim,
    pub findings: Findings,
    pub verdict: Verdict,
    /// One line: why this verdict.
    pub summary: String,
}

impl Report {
    pub fn mutants_refuted(&self) -> (usize, usize) {
        (
            self.findings.mutants.iter().filter(|m| m.refuted()).count(),
            self.findings.mutants.len(),
        )
    }
}
