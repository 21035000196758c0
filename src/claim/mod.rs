//! Claims, the evidence that running them records, and the verdicts computed from it.
//!
//! A [`Claim`] is one sentence of the notes (a label of `claims.md`), with its quote, its place
//! and the verdict class its author expects. Running it ([`run::ClaimRun`]) yields [`Findings`]:
//! propositions (the claim *as written*, and where it fails the *corrected* statement, or the
//! *conditions* under which it holds, or the *precise statements* behind an interpretation, or
//! the interpretation's *reading* for the loss it names), each backed by [`Check`]s and, where a
//! reduction to every dimension is made partly on paper, an [`Argument`]; plus [`Mutant`]s —
//! plausible wrong forms run through the same check functions as the form they mutate.
//!
//! The records here are built by the engine only: a [`Check`]'s [`Outcome`], its [`Method`]
//! (precision, seed, cases) and the mutants it refutes come from running a computation in
//! [`run`], never from theorem code. [`Verdict::compute`] is the only place a verdict comes
//! from: a pure function of the evidence.

pub mod run;

use std::fmt;

use serde::Serialize;

pub use run::{ClaimRun, Config, PropBuilder, Run, SymThunk, derive_seed};

/// What kind of sentence a claim is, read off its wording (not its truth).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Nature {
    /// Asserts something mathematical that can be checked.
    Mathematical,
    /// Has no mathematical content of its own; the precise statements behind it are checked, and
    /// its reading for the loss it names may be contradicted by them.
    Interpretive,
    /// About training outcomes: outside what the harness can check.
    Empirical,
    /// About training outcomes, checked by seeded, deterministic experiments in a miniature
    /// (small models, synthetic data): the verdict is scoped to the miniature that ran.
    Experimental,
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
    /// The verdict class the evidence is expected to give: a change of verdict shows in the diff
    /// of the claim's file, and the catalogue test fails until it is updated.
    pub expected: Class,
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
    /// An interpretive claim read as a statement about the loss it names; the precise statements
    /// may contradict it.
    Reading,
    /// A quantified approximation (its error is measured, not bounded to zero).
    Approximation,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::AsWritten => "as written",
            Role::UnderConditions => "under conditions",
            Role::Corrected => "corrected",
            Role::Precise => "precise statement",
            Role::Reading => "reading",
            Role::Approximation => "approximation",
        }
    }
}

/// How far a symbolic computation reaches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Scope {
    /// Fully symbolic objects for every dimension `1 ≤ d ≤ d_max` (or the shapes named).
    UpToD { d_max: usize },
    /// A computation with no dimension in it: scalars, or invariants with the dimension a symbol.
    DimensionFree,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::UpToD { d_max } => write!(f, "for d ≤ {d_max}"),
            Scope::DimensionFree => f.write_str("dimension-free"),
        }
    }
}

/// A seed as it ran: the configured base seed and the seed derived from it, the claim id and the
/// check name ([`derive_seed`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Seed {
    pub base: u64,
    pub derived: u64,
}

/// The kind of evidence a check gave, as it ran.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Method {
    /// A symbolic identity or derivation (symbolica), with its scope.
    Symbolic { scope: Scope },
    /// High-precision numerics (MPFR at `prec` bits): randomised cases (with their seed) or fixed
    /// ones.
    Numeric {
        prec: u32,
        cases: usize,
        seed: Option<Seed>,
    },
    /// A statistical test at a stated level, in IEEE double arithmetic.
    Statistical {
        level: f64,
        cases: usize,
        seed: Option<Seed>,
    },
    /// An experiment in IEEE double arithmetic (training dynamics, quadrature).
    Double { cases: usize, seed: Option<Seed> },
    /// A measured approximation error at `prec` bits.
    Measured { prec: u32 },
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seed = |s: &Option<Seed>| match s {
            Some(s) => format!(", seed {:#x} (from {:#x})", s.derived, s.base),
            None => String::new(),
        };
        match self {
            Method::Symbolic { scope } => write!(f, "symbolic, {scope}"),
            Method::Numeric {
                prec,
                cases,
                seed: s,
            } => {
                write!(f, "{prec}-bit, {cases} cases{}", seed(s))
            }
            Method::Statistical {
                level,
                cases,
                seed: s,
            } => write!(f, "test at level {level}, {cases} samples{}", seed(s)),
            Method::Double { cases, seed: s } => write!(f, "IEEE double, {cases} cases{}", seed(s)),
            Method::Measured { prec } => write!(f, "measured, {prec}-bit"),
        }
    }
}

/// Whether a check held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// It holds; the detail gives the figure (worst residual, cases).
    Holds,
    /// It fails; the detail is the (smallest) counterexample.
    Fails,
    /// It did not run (the `symbolic` feature is off, say); the detail says why.
    NotRun,
}

/// What a check found: a status and its detail. Built only by the engine, from a computation
/// that ran; theorem code reads it and cannot write one.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    status: Status,
    detail: String,
}

impl Outcome {
    pub(crate) fn new(status: Status, detail: String) -> Self {
        Outcome { status, detail }
    }
    pub fn status(&self) -> Status {
        self.status
    }
    pub fn holds(&self) -> bool {
        self.status == Status::Holds
    }
    pub fn fails(&self) -> bool {
        self.status == Status::Fails
    }
    pub fn ran(&self) -> bool {
        self.status != Status::NotRun
    }
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

/// One check as it ran on a proposition's own form.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Check {
    pub name: String,
    pub method: Method,
    pub outcome: Outcome,
    /// Whether the check depends on the form under test (and so ran on the mutants too).
    pub on_form: bool,
    /// The mutants this check refuted.
    pub refutes: Vec<String>,
}

/// A lemma an argument cites without checking it by machine, with its source.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Lemma {
    pub name: String,
    pub source: String,
}

/// One step of an argument.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ArgStep {
    /// Machine-checked by the named check of the same proposition, with that check's method.
    Checked {
        text: String,
        check: String,
        method: Option<Method>,
        holds: bool,
    },
    /// Cited.
    Cited { text: String, lemma: Lemma },
}

/// A reduction of the proposition to every dimension made partly on paper: its steps, the
/// machine-checked ones with their own scopes, and the lemmas it cites. It holds when every
/// checked step's check holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Argument {
    /// What the argument concludes (`for every d`).
    pub conclusion: String,
    pub steps: Vec<ArgStep>,
}

impl Argument {
    pub fn holds(&self) -> bool {
        self.steps.iter().all(|s| match s {
            ArgStep::Checked { holds, .. } => *holds,
            ArgStep::Cited { .. } => true,
        })
    }
    /// The cited lemmas, by name.
    pub fn cited(&self) -> Vec<String> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                ArgStep::Cited { lemma, .. } => Some(lemma.name.clone()),
                ArgStep::Checked { .. } => None,
            })
            .collect()
    }
}

/// A statement with its checks (and, for a reduction to every `d` partly on paper, its
/// argument).
#[derive(Clone, Debug, Serialize)]
pub struct Proposition {
    pub role: Role,
    pub name: String,
    /// LaTeX.
    pub statement: String,
    /// The form under test, as the mutants' forms are described (`Debug`).
    pub form: String,
    pub checks: Vec<Check>,
    pub argument: Option<Argument>,
}

impl Proposition {
    /// Some check fails (or the argument does not hold).
    pub fn fails(&self) -> bool {
        self.checks.iter().any(|c| c.outcome.fails())
            || self.argument.as_ref().is_some_and(|a| !a.holds())
    }
    /// Every check that ran holds, and at least one ran.
    pub fn holds(&self) -> bool {
        !self.fails() && self.checks.iter().any(|c| c.outcome.holds())
    }
    /// The widest symbolic scope among its checks that hold.
    pub fn symbolic_reach(&self) -> Option<Scope> {
        self.checks
            .iter()
            .filter(|c| c.outcome.holds())
            .filter_map(|c| match &c.method {
                Method::Symbolic { scope } => Some(scope.clone()),
                _ => None,
            })
            .max_by_key(scope_rank)
    }
}

fn scope_rank(s: &Scope) -> usize {
    match s {
        Scope::UpToD { d_max } => *d_max,
        Scope::DimensionFree => usize::MAX,
    }
}

/// Whether a mutant's refutation counts towards the power of the checks.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "reason")]
pub enum Counting {
    /// Refuted by a check that holds on its proposition's own form.
    Counts,
    /// Refuted, but it does not count (identical to the proposition's form; its proposition
    /// does not hold; or refuted only by the as-written claim's own failure).
    Void(String),
    /// No check refuted it.
    Survived,
    /// The checks that could refute it did not run.
    NotRun(String),
}

/// A plausible wrong form run through the same checks as its proposition's form.
#[derive(Clone, Debug, Serialize)]
pub struct Mutant {
    pub name: String,
    pub description: String,
    /// The proposition whose form it mutates.
    pub of: String,
    pub form: String,
    /// The checks as they ran on the mutant's form (same names, seeds and cases).
    pub checks: Vec<Check>,
    /// The first check that refuted it.
    pub refuted_by: Option<String>,
    pub counting: Counting,
}

impl Mutant {
    /// Refuted, and the refutation counts.
    pub fn refuted(&self) -> bool {
        self.counting == Counting::Counts
    }
    /// The check that refuted it, as it ran on the mutant.
    pub fn refuting_check(&self) -> Option<&Check> {
        let name = self.refuted_by.as_ref()?;
        self.checks.iter().find(|c| &c.name == name)
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
    fn with_role(&self, role: Role) -> impl Iterator<Item = &Proposition> {
        self.propositions.iter().filter(move |p| p.role == role)
    }
}

/// The verdict classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    Proved,
    VerifiedNumerically,
    HoldsUnderConditions,
    Approximate,
    WrongAsWrittenCorrected,
    Refuted,
    Interpretive,
    InterpretationContradicted,
    Empirical,
    ReproducedInMiniature,
    NotReproducedInMiniature,
    NotEstablished,
}

impl Class {
    /// A short stable name for tables and regression comparison.
    pub fn name(self) -> &'static str {
        match self {
            Class::Proved => "proved",
            Class::VerifiedNumerically => "verified numerically",
            Class::HoldsUnderConditions => "holds under conditions",
            Class::Approximate => "approximate",
            Class::WrongAsWrittenCorrected => "wrong as written, corrected",
            Class::Refuted => "refuted",
            Class::Interpretive => "interpretive",
            Class::InterpretationContradicted => "interpretation contradicted",
            Class::Empirical => "empirical",
            Class::ReproducedInMiniature => "reproduced in miniature",
            Class::NotReproducedInMiniature => "not reproduced in miniature",
            Class::NotEstablished => "not established",
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How far a proof reaches in the dimension.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Reach {
    /// Computed for every `d ≤ d_max` and no further.
    UpToD { d_max: usize },
    /// Every `d` by an argument: the part computed for all the statement's objects reaches
    /// `d ≤ computed` (if any), and the argument cites these lemmas.
    Argued {
        computed: Option<usize>,
        cited: Vec<String>,
    },
    /// Every `d` by a computation with no dimension in it.
    DimensionFree,
}

impl fmt::Display for Reach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reach::UpToD { d_max } => write!(f, "for d ≤ {d_max}"),
            Reach::DimensionFree => f.write_str("for every d (dimension-free computation)"),
            Reach::Argued { computed, cited } => {
                let cited = if cited.is_empty() {
                    String::new()
                } else {
                    format!(" ({}, cited)", cited.join("; "))
                };
                match computed {
                    Some(d) => write!(f, "for d ≤ {d}; for every d by argument{cited}"),
                    None => write!(f, "for every d by argument{cited}"),
                }
            }
        }
    }
}

/// The verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "class")]
pub enum Verdict {
    /// Proved symbolically, with its reach; numerics agree.
    Proved { reach: Reach },
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
    /// No mathematical content of its own; the precise statements behind it hold and none
    /// contradicts its reading.
    Interpretive,
    /// An interpretation whose reading for the loss it names the precise statements contradict.
    InterpretationContradicted,
    /// About training outcomes: outside what the harness checks.
    Empirical,
    /// A training finding whose as-written propositions hold in the miniature that ran.
    ReproducedInMiniature,
    /// A training finding whose as-written propositions fail in the miniature that ran, with no
    /// condition or correction that holds.
    NotReproducedInMiniature,
    /// The evidence does not settle it; the reason says why.
    NotEstablished { reason: String },
}

impl Verdict {
    pub fn class(&self) -> Class {
        match self {
            Verdict::Proved { .. } => Class::Proved,
            Verdict::VerifiedNumerically => Class::VerifiedNumerically,
            Verdict::HoldsUnderConditions => Class::HoldsUnderConditions,
            Verdict::Approximate => Class::Approximate,
            Verdict::WrongAsWrittenCorrected => Class::WrongAsWrittenCorrected,
            Verdict::Refuted => Class::Refuted,
            Verdict::Interpretive => Class::Interpretive,
            Verdict::InterpretationContradicted => Class::InterpretationContradicted,
            Verdict::Empirical => Class::Empirical,
            Verdict::ReproducedInMiniature => Class::ReproducedInMiniature,
            Verdict::NotReproducedInMiniature => Class::NotReproducedInMiniature,
            Verdict::NotEstablished { .. } => Class::NotEstablished,
        }
    }

    /// The verdict, computed from the evidence and nothing else.
    ///
    /// 1. A mutant that survived, did not run, or does not count means the checks' power is not
    ///    shown: not established. So does a claim without counting mutants.
    /// 2. A proposition none of whose checks ran establishes nothing: not established.
    /// 3. Empirical claims are reported as such.
    /// 4. Interpretive claims: every precise statement must hold; the verdict is "interpretation
    ///    contradicted" if a reading fails, else "interpretive".
    /// 5. If the claim as written holds: approximate if an approximation proposition carries it,
    ///    else proved (with the narrowest reach among the as-written propositions) or verified
    ///    numerically.
    /// 6. If it fails: holds under conditions, or wrong as written but corrected, or refuted.
    /// 7. Experimental claims (training findings checked in a miniature) follow 5 and 6 with
    ///    "reproduced in miniature" for a claim that holds and "not reproduced in miniature" in
    ///    place of "refuted": a seeded experiment shows what one miniature does, not a theorem.
    pub fn compute(nature: Nature, f: &Findings) -> Verdict {
        let ne = |reason: String| Verdict::NotEstablished { reason };
        for m in &f.mutants {
            match &m.counting {
                Counting::Counts => {}
                Counting::Survived => {
                    return ne(format!(
                        "mutant `{}` survived every check: the checks lack power",
                        m.name
                    ));
                }
                Counting::NotRun(why) => {
                    return ne(format!(
                        "the checks that refute mutant `{}` did not run ({why})",
                        m.name
                    ));
                }
                Counting::Void(why) => {
                    return ne(format!("mutant `{}` does not count: {why}", m.name));
                }
            }
        }
        if f.mutants.is_empty() && nature != Nature::Empirical {
            return ne("no mutants: the checks' power is untested".into());
        }
        if let Some(p) = f
            .propositions
            .iter()
            .find(|p| !p.checks.iter().any(|c| c.outcome.ran()))
        {
            return ne(format!("no check of `{}` ran", p.name));
        }
        match nature {
            Nature::Empirical => return Verdict::Empirical,
            Nature::Interpretive => {
                let precise: Vec<_> = f.with_role(Role::Precise).collect();
                if precise.is_empty() {
                    return ne("no precise statement behind the interpretation".into());
                }
                if let Some(p) = precise.iter().find(|p| !p.holds()) {
                    return ne(format!("precise statement not established: {}", p.name));
                }
                return if f.with_role(Role::Reading).any(|p| p.fails()) {
                    Verdict::InterpretationContradicted
                } else {
                    Verdict::Interpretive
                };
            }
            Nature::Mathematical | Nature::Experimental => {}
        }
        let experimental = nature == Nature::Experimental;
        let written: Vec<_> = f.with_role(Role::AsWritten).collect();
        if written.is_empty() {
            return ne("no as-written proposition".into());
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
            } else if experimental {
                Verdict::NotReproducedInMiniature
            } else {
                Verdict::Refuted
            };
        }
        if !written.iter().all(|p| p.holds()) {
            return ne("the as-written checks did not run".into());
        }
        if experimental {
            return Verdict::ReproducedInMiniature;
        }
        if f.with_role(Role::Approximation).next().is_some() {
            return Verdict::Approximate;
        }
        // Proved needs symbolic support for every as-written proposition; the verdict reports the
        // narrowest reach among them (a fixed d_max, then an argument, then dimension-free).
        let mut reaches = Vec::new();
        for p in &written {
            match p.reach() {
                Some(r) => reaches.push(r),
                None => return Verdict::VerifiedNumerically,
            }
        }
        Verdict::Proved {
            reach: narrowest(reaches),
        }
    }
}

impl Proposition {
    /// How far its symbolic evidence reaches. An argument that holds reaches every `d`; what it
    /// reports as computed is the largest `d ≤ k` reached by the symbolic checks of the statement
    /// itself, those the argument does not use as steps (a lemma checked up to `d ≤ k` does not
    /// make the statement checked up to `k`). Without an argument: the widest symbolic scope.
    /// `None` without symbolic evidence.
    pub fn reach(&self) -> Option<Reach> {
        let scope = self.symbolic_reach()?;
        let steps: Vec<&str> = self
            .argument
            .iter()
            .flat_map(|a| a.steps.iter())
            .filter_map(|s| match s {
                ArgStep::Checked { check, .. } => Some(check.as_str()),
                ArgStep::Cited { .. } => None,
            })
            .collect();
        let computed = self
            .checks
            .iter()
            .filter(|c| c.outcome.holds() && !steps.contains(&c.name.as_str()))
            .filter_map(|c| match &c.method {
                Method::Symbolic {
                    scope: Scope::UpToD { d_max },
                } => Some(*d_max),
                _ => None,
            })
            .max();
        Some(match (&self.argument, scope) {
            (Some(a), _) if a.holds() => Reach::Argued {
                computed,
                cited: a.cited(),
            },
            (_, Scope::DimensionFree) => Reach::DimensionFree,
            (_, Scope::UpToD { d_max }) => Reach::UpToD { d_max },
        })
    }
}

/// The narrowest of several reaches: any fixed `d_max` (the smallest), else an argument (the
/// smallest computed part, every cited lemma), else dimension-free.
fn narrowest(reaches: Vec<Reach>) -> Reach {
    let fixed = reaches
        .iter()
        .filter_map(|r| match r {
            Reach::UpToD { d_max } => Some(*d_max),
            _ => None,
        })
        .min();
    if let Some(d_max) = fixed {
        return Reach::UpToD { d_max };
    }
    let mut argued = false;
    let mut computed: Option<usize> = None;
    let mut cited: Vec<String> = Vec::new();
    for r in &reaches {
        if let Reach::Argued {
            computed: c,
            cited: l,
        } = r
        {
            argued = true;
            if let Some(k) = c {
                computed = Some(computed.map_or(*k, |m| m.min(*k)));
            }
            for x in l {
                if !cited.contains(x) {
                    cited.push(x.clone());
                }
            }
        }
    }
    if argued {
        Reach::Argued { computed, cited }
    } else {
        Reach::DimensionFree
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Proved { reach } => write!(f, "proved {reach}"),
            Verdict::NotEstablished { reason } => write!(f, "not established: {reason}"),
            other => f.write_str(other.class().name()),
        }
    }
}

/// A claim with its findings, the settings it ran with, and the computed verdict.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub claim: Claim,
    pub config: Config,
    pub findings: Findings,
    pub verdict: Verdict,
    /// One line: why this verdict (built from the evidence, never typed in).
    pub summary: String,
}

impl Report {
    /// Counting refuted mutants, and all mutants.
    pub fn mutants_refuted(&self) -> (usize, usize) {
        (
            self.findings.mutants.iter().filter(|m| m.refuted()).count(),
            self.findings.mutants.len(),
        )
    }
}
