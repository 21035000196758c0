//! Running a claim: the settings ([`Config`]), the context a check runs in ([`Run`]: its
//! precision, its seed derived from the settings, the claim and the check's name, its case
//! budget), and the builder that turns a claim's propositions, checks, arguments and mutants into
//! [`Findings`] ([`ClaimRun`], [`PropBuilder`]).
//!
//! A check is a function of the form under test. The builder runs every check on the
//! proposition's own form, then every form-dependent check on each mutant's form — the same
//! function, the same seed, the same cases — the way ChainRulesTestUtils runs an incorrect rule
//! through the tester that passes the correct one. Everything a record says (the precision, the
//! seed, the number of cases, which mutants a check refutes, whether a mutant counts) is filled in
//! here from what ran.

use std::cell::RefCell;
use std::fmt::{Debug, Display};
use std::panic::{AssertUnwindSafe, catch_unwind};

use quickcheck::Arbitrary;
use serde::Serialize;

use super::{
    ArgStep, Argument, Check, Claim, Counting, Figure, Findings, Lemma, Method, Mutant, Outcome,
    Proposition, Report, Role, Scope, Seed, Status, Step, Table, Verdict,
};
use crate::check::property::{PropertyRun, for_all};
use crate::hp::sample::Sampler;

/// Settings for a run of the catalogue. The defaults are what `cargo test`, `sslproof verify` and
/// the committed snapshots use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Config {
    /// Working precision in bits of every numeric (MPFR) check.
    pub prec: u32,
    /// Randomised cases of a claim's main property; every other randomised check's count is
    /// scaled from its default by `cases / 1000` ([`Run::scaled`]).
    pub cases: usize,
    /// The base seed; every check derives its own from it ([`derive_seed`]).
    pub seed: u64,
    /// Largest dimension with a fully symbolic matrix.
    pub sym_d_max: usize,
}

/// The default base seed.
pub const DEFAULT_SEED: u64 = 0x551f_2022;

impl Default for Config {
    fn default() -> Self {
        Config {
            prec: 256,
            cases: 1000,
            seed: DEFAULT_SEED,
            sym_d_max: 6,
        }
    }
}

/// The seed of check `check` of claim `claim` under base seed `base`: FNV-1a over
/// `claim/check`, mixed with `base` and finished with SplitMix64, so that every check has its own
/// stream, a mutant run through a check gets the check's stream, and adding a check changes no
/// other.
pub fn derive_seed(base: u64, claim: &str, check: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in claim.bytes().chain([b'/']).chain(check.bytes()) {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = h ^ base.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// What a check's computation sees: the configured precision, its own seed (recorded when
/// drawn), its case budget, and where it counts the cases it ran. Figures and tables it produces
/// on the proposition's own form go into the derivation.
pub struct Run<'a> {
    cfg: &'a Config,
    seed: u64,
    seed_used: bool,
    counted: usize,
    figures: Vec<Figure>,
    tables: Vec<Table>,
}

impl<'a> Run<'a> {
    fn new(cfg: &'a Config, seed: u64) -> Self {
        Run {
            cfg,
            seed,
            seed_used: false,
            counted: 0,
            figures: Vec::new(),
            tables: Vec::new(),
        }
    }

    /// The working precision in bits.
    pub fn prec(&self) -> u32 {
        self.cfg.prec
    }

    /// The configured largest fully symbolic dimension.
    pub fn sym_d_max(&self) -> usize {
        self.cfg.sym_d_max
    }

    /// The check's seed (recorded in its method).
    pub fn seed(&mut self) -> u64 {
        self.seed_used = true;
        self.seed
    }

    /// The `k`-th sub-stream of the check's seed (recorded as the check's seed).
    pub fn seed_k(&mut self, k: u64) -> u64 {
        let s = self.seed();
        s ^ k.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }

    /// A sampler at the working precision on the check's seed.
    pub fn sampler(&mut self) -> Sampler {
        let prec = self.prec();
        Sampler::new(self.seed(), prec)
    }

    /// A sampler at `bits` (64 for IEEE-double experiments) on sub-stream `k` of the check's seed.
    pub fn sampler_bits(&mut self, k: u64, bits: u32) -> Sampler {
        Sampler::new(self.seed_k(k), bits)
    }

    /// The configured main-property case count.
    pub fn cases(&self) -> usize {
        self.cfg.cases
    }

    /// `n` at the default setting, scaled by `--cases` (`n · cases / 1000`, at least 1).
    pub fn scaled(&self, n: usize) -> usize {
        (n.saturating_mul(self.cfg.cases) / 1000).max(1)
    }

    /// Records `n` cases computed.
    pub fn count(&mut self, n: usize) {
        self.counted += n;
    }

    /// A seeded property run over `cases` values of `T` drawn at `size` (quickcheck's generator
    /// on the check's seed, greedy shrinking); counts the cases it ran.
    pub fn for_all<T, P>(&mut self, size: usize, cases: usize, prop: P) -> PropertyRun<T>
    where
        T: Arbitrary + Clone,
        P: FnMut(&T) -> Result<(), String>,
    {
        let run = for_all(self.seed(), size, cases, prop);
        self.count(run.cases);
        run
    }

    /// A figure for the derivation (kept from the proposition's own form only).
    pub fn figure(&mut self, figure: Figure) {
        self.figures.push(figure);
    }

    /// A table for the derivation (kept from the proposition's own form only).
    pub fn table(&mut self, table: Table) {
        self.tables.push(table);
    }
}

impl<T: Display> PropertyRun<T> {
    /// `Ok(detail)` if the property held, else the shrunk counterexample with its seed.
    pub fn result(&self, holds_detail: impl FnOnce() -> String) -> Result<String, String> {
        match self.describe_failure() {
            None => Ok(holds_detail()),
            Some(f) => Err(f),
        }
    }
}

/// A symbolic computation ready to send to the symbolica worker: `Ok(detail)` if the identity
/// holds, `Err(counterexample)` if not.
pub type SymThunk = Box<dyn FnOnce() -> Result<String, String> + Send + 'static>;

/// A symbolic check of the form: given the form, the computation to run, or `None` when the
/// build has no `symbolic` feature. Theorem code writes it with a macro that compiles the
/// computation only with the feature.
type SymFn<F> = Box<dyn Fn(&F) -> Option<SymThunk>>;

enum Kind {
    Numeric,
    Statistical(f64),
    Double,
    Measured,
    Symbolic(Scope),
}

type NumFn<'c, F> = Box<dyn Fn(&mut Run, &F) -> Result<String, String> + 'c>;

enum Body<'c, F> {
    Num(NumFn<'c, F>),
    Sym(SymFn<F>),
}

struct CheckDef<'c, F> {
    name: String,
    kind: Kind,
    on_form: bool,
    body: Body<'c, F>,
}

/// One step of an argument as theorem code writes it.
pub enum ArgSpec {
    /// Machine-checked by the named check of the same proposition.
    Checked { text: String, check: String },
    /// Cited from a source.
    Cited {
        text: String,
        lemma: String,
        source: String,
    },
}

impl ArgSpec {
    /// A step the check named `check` (of the same proposition) computes.
    pub fn checked(text: impl Into<String>, check: impl Into<String>) -> Self {
        ArgSpec::Checked {
            text: text.into(),
            check: check.into(),
        }
    }
    /// A step resting on a cited lemma.
    pub fn cited(
        text: impl Into<String>,
        lemma: impl Into<String>,
        source: impl Into<String>,
    ) -> Self {
        ArgSpec::Cited {
            text: text.into(),
            lemma: lemma.into(),
            source: source.into(),
        }
    }
}

/// A mutant's results before the claim decides whether it counts.
struct PendingMutant {
    mutant: Mutant,
    /// Its proposition holds.
    parent_holds: bool,
    identical: bool,
}

/// A claim being run: the context its checks share and the findings they produce.
pub struct ClaimRun<'a> {
    cfg: &'a Config,
    claim: &'static str,
    findings: Findings,
    pending: Vec<PendingMutant>,
}

impl<'a> ClaimRun<'a> {
    pub fn new(claim: &Claim, cfg: &'a Config) -> Self {
        ClaimRun {
            cfg,
            claim: claim.id,
            findings: Findings::default(),
            pending: Vec::new(),
        }
    }

    /// The working precision in bits (for prose that names it).
    pub fn prec(&self) -> u32 {
        self.cfg.prec
    }

    /// The configured largest fully symbolic dimension.
    pub fn sym_d_max(&self) -> usize {
        self.cfg.sym_d_max
    }

    /// The configured main-property case count (for prose that names it).
    pub fn cases(&self) -> usize {
        self.cfg.cases
    }

    /// `n` at the default setting, scaled by `--cases` (for prose that names a count).
    pub fn scaled(&self, n: usize) -> usize {
        (n.saturating_mul(self.cfg.cases) / 1000).max(1)
    }

    /// A proposition about `form`; its checks and mutants are added to the builder, which runs
    /// them when it is dropped (at the end of the statement that builds it).
    pub fn prop<F: Debug + PartialEq + 'static>(
        &mut self,
        role: Role,
        name: impl Into<String>,
        statement: impl Into<String>,
        form: F,
    ) -> PropBuilder<'_, 'a, F> {
        PropBuilder {
            claim: Some(self),
            role,
            name: name.into(),
            statement: statement.into(),
            form,
            checks: Vec::new(),
            argument: None,
            mutants: Vec::new(),
        }
    }

    /// A derivation step.
    pub fn step(&mut self, text: impl Into<String>, tex: Option<String>) {
        self.findings.derivation.push(Step {
            text: text.into(),
            tex,
        });
    }

    /// A table of reference facts for the derivation (transcribed, not computed: a computed table
    /// comes from a check, [`Run::table`]).
    pub fn table_rows(&mut self, caption: &str, header: &[&str], rows: Vec<Vec<String>>) {
        self.findings.tables.push(Table {
            caption: caption.to_string(),
            header: header.iter().map(|h| h.to_string()).collect(),
            rows,
        });
    }

    /// A derivation step whose display formula symbolica computes (the job returns LaTeX); left
    /// out when the job does not run or fails.
    pub fn step_symbolic(
        &mut self,
        text: impl Into<String>,
        job: impl Fn(&()) -> Option<SymThunk>,
    ) {
        if let Some(thunk) = job(&())
            && let Ok(Ok(tex)) = crate::sym::run(thunk)
        {
            self.step(text, Some(tex));
        }
    }

    /// The findings, with every mutant's counting decided.
    pub fn finish(mut self) -> Findings {
        // The as-written failures: a mutant refuted only by one of these (same check, same
        // detail) restates the failing claim and adds no power.
        let written_failures: Vec<(String, String)> = self
            .findings
            .propositions
            .iter()
            .filter(|p| p.role == Role::AsWritten)
            .flat_map(|p| p.checks.iter())
            .filter(|c| c.outcome.fails())
            .map(|c| (c.name.clone(), c.outcome.detail().to_string()))
            .collect();
        for pm in std::mem::take(&mut self.pending) {
            let mut m = pm.mutant;
            let refuting: Vec<&Check> = m.checks.iter().filter(|c| c.outcome.fails()).collect();
            m.counting = if pm.identical {
                Counting::Void("identical to its proposition's form".into())
            } else if !pm.parent_holds {
                Counting::Void(format!(
                    "its proposition `{}` does not hold: a mutant counts only against a statement that holds",
                    m.of
                ))
            } else if refuting.is_empty() {
                if m.checks.iter().any(|c| !c.outcome.ran()) {
                    Counting::NotRun(
                        m.checks
                            .iter()
                            .find(|c| !c.outcome.ran())
                            .map(|c| c.outcome.detail().to_string())
                            .unwrap_or_default(),
                    )
                } else {
                    Counting::Survived
                }
            } else if refuting.iter().all(|c| {
                written_failures
                    .iter()
                    .any(|(n, d)| *n == c.name && d == c.outcome.detail())
            }) {
                Counting::Void("refuted only by the as-written claim's own failure".into())
            } else {
                Counting::Counts
            };
            if m.counting == Counting::Counts
                && let Some(by) = &m.refuted_by
            {
                for p in self
                    .findings
                    .propositions
                    .iter_mut()
                    .filter(|p| p.name == m.of)
                {
                    for c in p.checks.iter_mut().filter(|c| &c.name == by) {
                        c.refutes.push(m.name.clone());
                    }
                }
            }
            self.findings.mutants.push(m);
        }
        self.findings
    }
}

/// A proposition being built: its form, its checks (functions of the form), an optional
/// argument, and its mutants. Runs everything when dropped.
pub struct PropBuilder<'r, 'a, F: Debug + PartialEq + 'static> {
    claim: Option<&'r mut ClaimRun<'a>>,
    role: Role,
    name: String,
    statement: String,
    form: F,
    checks: Vec<CheckDef<'r, F>>,
    argument: Option<(String, Vec<ArgSpec>)>,
    mutants: Vec<(String, String, F)>,
}

impl<'r, 'a, F: Debug + PartialEq + 'static> PropBuilder<'r, 'a, F> {
    fn push(mut self, name: impl Into<String>, kind: Kind, body: Body<'r, F>) -> Self {
        self.checks.push(CheckDef {
            name: name.into(),
            kind,
            on_form: true,
            body,
        });
        self
    }

    /// A high-precision numeric check of the form (MPFR at the configured precision).
    pub fn check(
        self,
        name: impl Into<String>,
        f: impl Fn(&mut Run, &F) -> Result<String, String> + 'r,
    ) -> Self {
        self.push(name, Kind::Numeric, Body::Num(Box::new(f)))
    }

    /// A statistical test of the form at `level` (IEEE double arithmetic).
    pub fn statistical(
        self,
        name: impl Into<String>,
        level: f64,
        f: impl Fn(&mut Run, &F) -> Result<String, String> + 'r,
    ) -> Self {
        self.push(name, Kind::Statistical(level), Body::Num(Box::new(f)))
    }

    /// An experiment in IEEE double arithmetic (dynamics, quadrature).
    pub fn double(
        self,
        name: impl Into<String>,
        f: impl Fn(&mut Run, &F) -> Result<String, String> + 'r,
    ) -> Self {
        self.push(name, Kind::Double, Body::Num(Box::new(f)))
    }

    /// A measured approximation error at the configured precision.
    pub fn measured(
        self,
        name: impl Into<String>,
        f: impl Fn(&mut Run, &F) -> Result<String, String> + 'r,
    ) -> Self {
        self.push(name, Kind::Measured, Body::Num(Box::new(f)))
    }

    /// A symbolic check of the form with its scope; `job` gives the computation for a form, or
    /// `None` without the `symbolic` feature (the check then reads "not run").
    pub fn symbolic(
        self,
        name: impl Into<String>,
        scope: Scope,
        job: impl Fn(&F) -> Option<SymThunk> + 'static,
    ) -> Self {
        self.push(name, Kind::Symbolic(scope), Body::Sym(Box::new(job)))
    }

    /// The last check added does not depend on the form: it runs once, not on the mutants.
    pub fn independent(mut self) -> Self {
        if let Some(c) = self.checks.last_mut() {
            c.on_form = false;
        }
        self
    }

    /// The reduction to every dimension, made partly on paper: its conclusion and steps.
    pub fn argument(mut self, conclusion: impl Into<String>, steps: Vec<ArgSpec>) -> Self {
        self.argument = Some((conclusion.into(), steps));
        self
    }

    /// A plausible wrong form, run through the same form-dependent checks.
    pub fn mutant(
        mut self,
        name: impl Into<String>,
        description: impl Into<String>,
        form: F,
    ) -> Self {
        self.mutants.push((name.into(), description.into(), form));
        self
    }

    fn run_check(
        cfg: &Config,
        claim: &str,
        def: &CheckDef<'r, F>,
        form: &F,
        sink: Option<&RefCell<(Vec<Figure>, Vec<Table>)>>,
    ) -> Check {
        let derived = derive_seed(cfg.seed, claim, &def.name);
        let (method, outcome) = match &def.body {
            Body::Sym(job) => {
                let Kind::Symbolic(scope) = &def.kind else {
                    unreachable!("symbolic bodies are added with a symbolic kind")
                };
                let outcome = match job(form) {
                    None => Outcome::new(
                        Status::NotRun,
                        crate::sym::SymError::Unavailable.to_string(),
                    ),
                    Some(thunk) => match crate::sym::run(thunk) {
                        Ok(Ok(s)) => Outcome::new(Status::Holds, s),
                        Ok(Err(s)) => Outcome::new(Status::Fails, s),
                        Err(e) => Outcome::new(Status::NotRun, e.to_string()),
                    },
                };
                (
                    Method::Symbolic {
                        scope: scope.clone(),
                    },
                    outcome,
                )
            }
            Body::Num(f) => {
                let mut run = Run::new(cfg, derived);
                let r = catch_unwind(AssertUnwindSafe(|| f(&mut run, form)));
                let outcome = match r {
                    Ok(_) if run.counted == 0 => Outcome::new(
                        Status::Fails,
                        "the check counted no cases: nothing was computed".into(),
                    ),
                    Ok(Ok(s)) => Outcome::new(Status::Holds, s),
                    Ok(Err(s)) => Outcome::new(Status::Fails, s),
                    Err(p) => Outcome::new(
                        Status::Fails,
                        format!(
                            "the check panicked: {}",
                            p.downcast_ref::<String>()
                                .cloned()
                                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                                .unwrap_or_else(|| "panic".into())
                        ),
                    ),
                };
                let seed = run.seed_used.then_some(Seed {
                    base: cfg.seed,
                    derived,
                });
                let method = match def.kind {
                    Kind::Numeric => Method::Numeric {
                        prec: cfg.prec,
                        cases: run.counted,
                        seed,
                    },
                    Kind::Statistical(level) => Method::Statistical {
                        level,
                        cases: run.counted,
                        seed,
                    },
                    Kind::Double => Method::Double {
                        cases: run.counted,
                        seed,
                    },
                    Kind::Measured => Method::Measured { prec: cfg.prec },
                    Kind::Symbolic(_) => unreachable!("numeric bodies have a numeric kind"),
                };
                if let Some(sink) = sink {
                    let mut s = sink.borrow_mut();
                    s.0.append(&mut run.figures);
                    s.1.append(&mut run.tables);
                }
                (method, outcome)
            }
        };
        Check {
            name: def.name.clone(),
            method,
            outcome,
            on_form: def.on_form,
            refutes: Vec::new(),
        }
    }
}

impl<F: Debug + PartialEq + 'static> Drop for PropBuilder<'_, '_, F> {
    fn drop(&mut self) {
        let Some(claim) = self.claim.take() else {
            return;
        };
        let cfg = claim.cfg;
        let id = claim.claim;
        let sink = RefCell::new((Vec::new(), Vec::new()));
        let checks: Vec<Check> = self
            .checks
            .iter()
            .map(|def| Self::run_check(cfg, id, def, &self.form, Some(&sink)))
            .collect();
        let argument = self.argument.take().map(|(conclusion, steps)| Argument {
            conclusion,
            steps: steps
                .into_iter()
                .map(|s| match s {
                    ArgSpec::Cited {
                        text,
                        lemma,
                        source,
                    } => ArgStep::Cited {
                        text,
                        lemma: Lemma {
                            name: lemma,
                            source,
                        },
                    },
                    ArgSpec::Checked { text, check } => {
                        let c = checks.iter().find(|c| c.name == check);
                        ArgStep::Checked {
                            text,
                            method: c.map(|c| c.method.clone()),
                            holds: c.is_some_and(|c| c.outcome.holds()),
                            check,
                        }
                    }
                })
                .collect(),
        });
        let prop = Proposition {
            role: self.role,
            name: self.name.clone(),
            statement: std::mem::take(&mut self.statement),
            form: format!("{:?}", self.form),
            checks,
            argument,
        };
        let parent_holds = prop.holds();
        for (name, description, form) in std::mem::take(&mut self.mutants) {
            let identical = form == self.form;
            let mchecks: Vec<Check> = if identical {
                Vec::new()
            } else {
                self.checks
                    .iter()
                    .filter(|d| d.on_form)
                    .map(|def| Self::run_check(cfg, id, def, &form, None))
                    .collect()
            };
            // Refuted by a check that fails on the mutant and holds on the proposition's form.
            let refuted_by = mchecks
                .iter()
                .find(|mc| {
                    mc.outcome.fails()
                        && prop
                            .checks
                            .iter()
                            .any(|pc| pc.name == mc.name && pc.outcome.holds())
                })
                .map(|c| c.name.clone());
            // Failures on checks that also fail on the proposition's own form refute nothing.
            let mchecks = mchecks
                .into_iter()
                .map(|mut c| {
                    let own_fails = prop
                        .checks
                        .iter()
                        .any(|pc| pc.name == c.name && !pc.outcome.holds());
                    if own_fails && c.outcome.fails() {
                        c.outcome = Outcome::new(
                            Status::NotRun,
                            format!(
                                "not evidence: the check fails on the proposition's own form too ({})",
                                c.outcome.detail()
                            ),
                        );
                    }
                    c
                })
                .collect();
            claim.pending.push(PendingMutant {
                mutant: Mutant {
                    name,
                    description,
                    of: prop.name.clone(),
                    form: format!("{form:?}"),
                    checks: mchecks,
                    refuted_by,
                    counting: Counting::Survived,
                },
                parent_holds,
                identical,
            });
        }
        let (figures, tables) = sink.into_inner();
        claim.findings.figures.extend(figures);
        claim.findings.tables.extend(tables);
        claim.findings.propositions.push(prop);
    }
}

/// A claim run end to end: `body` builds the findings under `cfg`; the verdict and its one-line
/// reason are computed from them.
pub fn run_claim(claim: &Claim, body: fn(&mut ClaimRun), cfg: &Config) -> Report {
    let mut run = ClaimRun::new(claim, cfg);
    body(&mut run);
    let findings = run.finish();
    let verdict = Verdict::compute(claim.nature, &findings);
    let mut report = Report {
        claim: claim.clone(),
        config: cfg.clone(),
        findings,
        verdict,
        summary: String::new(),
    };
    report.summary = crate::report::summarize(&report);
    report
}
