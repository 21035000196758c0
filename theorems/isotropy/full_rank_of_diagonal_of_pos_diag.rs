//! # B5: zero off-diagonal covariance ensures full rank
//!
//! ## Main statements
//! * `full_rank_of_diagonal_of_pos_diag`: zero off-diagonals do not imply full rank (`diag(1, 0)`;
//!   the property runner finds such counterexamples and shrinks them); a diagonal `Σ` has full
//!   rank iff every
//!   variance `Σ_jj > 0`. Conversely, a correlated `Σ` can be positive definite: decorrelation is
//!   neither sufficient nor necessary for full rank.
//!
//! ## Implementation notes
//! The property runs over diagonal matrices built from the recipes' spectra (zeros allowed), and
//! the runner shrinks a failing recipe to the smallest counterexample.
//!
//! ## Source
//! `../shared/notes.md`, *Decorrelation*.

use sslproof::prelude::*;
use sslproof_losses::vicreg;

/// The claim.
pub const CLAIM: Claim = Claim {
    id: "full_rank_of_diagonal_of_pos_diag",
    label: "B5",
    family: "isotropy",
    title: "Zero off-diagonal covariance ensures full rank",
    quote: "Decorrelation drives $\\Sigma_{ij}\\to 0$ for $i\\neq j$, ensuring the learned features span the full $d$-dimensional subspace rather than collapse onto a lower-dimensional manifold.",
    place: "Decorrelation",
    statement: r"\Sigma_{ij}=0\ (i\ne j)\ \Longrightarrow\ \mathrm{rank}\,\Sigma=d",
    nature: Nature::Mathematical,
    expected: Class::WrongAsWrittenCorrected,
};

/// The hypothesis under which a diagonal `Σ` is claimed to have full rank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hypothesis {
    /// None beyond zero off-diagonals (the notes).
    Decorrelated,
    /// Every variance positive (the correction).
    AllVariancesPositive,
    /// Every variance at least 1 (VICReg's floor taken for a rank condition).
    AllVariancesAtLeastOne,
}

impl Hypothesis {
    fn name(self) -> &'static str {
        match self {
            Hypothesis::Decorrelated => "zero off-diagonals",
            Hypothesis::AllVariancesPositive => "every Σ_jj > 0",
            Hypothesis::AllVariancesAtLeastOne => "every Σ_jj ≥ 1",
        }
    }
}

/// Diagonal `Σ` from random recipes' spectra (zero variances included): full rank exactly when
/// the hypothesis holds (the notes' claim, with no hypothesis, is the "if" direction); a failure is
/// shrunk to the smallest counterexample.
fn diagonal_full_rank(run: &mut Run, h: &Hypothesis) -> Result<String, String> {
    let prec = run.prec();
    let cases = run.cases();
    let property = run.for_all::<Recipe, _>(8, cases, |r| {
        let spec = r.spectrum_values(prec);
        let sigma = Mat::diag(&spec, prec);
        let hyp = match h {
            Hypothesis::Decorrelated => true,
            Hypothesis::AllVariancesPositive => spec.iter().all(|x| *x > 0),
            Hypothesis::AllVariancesAtLeastOne => spec.iter().all(|x| *x >= 1),
        };
        let full_rank = !sigma.det().map_err(|e| e.to_string())?.is_zero();
        let shown = spec
            .iter()
            .map(|x| format!("{x:.3}"))
            .collect::<Vec<_>>()
            .join(", ");
        match (hyp, full_rank) {
            (true, false) => Err(format!(
                "Σ = diag({shown}) satisfies the hypothesis ({}) but has det 0",
                h.name()
            )),
            // The notes' claim states no converse.
            (false, true) if *h != Hypothesis::Decorrelated => Err(format!(
                "Σ = diag({shown}) has full rank without the hypothesis ({})",
                h.name()
            )),
            _ => Ok(()),
        }
    });
    property.result(|| {
        format!(
            "{} diagonal Σ from random recipes (d ≤ 8, zero variances included)",
            property.cases
        )
    })
}

/// What full rank is claimed to need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Necessity {
    /// Nothing about the off-diagonals (a correlated Σ can be positive definite).
    NotDecorrelation,
    /// Full rank needs zero off-diagonals.
    Decorrelation,
}

/// A random positive definite 3×3 `Σ` (spread spectrum): is it correlated?
fn correlated_positive_definite(run: &mut Run, n: &Necessity) -> Result<String, String> {
    let prec = run.prec();
    let pd = Recipe {
        d: 3,
        seed: run.seed(),
        spectrum: Spectrum::Spread,
        top: 0,
    }
    .realize(prec)
    .0;
    let off = vicreg::off_diagonal_sq(&pd);
    let det = pd.det().map_err(|e| e.to_string())?;
    run.count(1);
    let correlated_pd = off > 0 && det > 0;
    let detail = format!("det Σ = {det:.4} > 0 with Σ_(i≠j) Σ_ij² = {off:.4}");
    match (n, correlated_pd) {
        (Necessity::NotDecorrelation, true) => Ok(detail),
        (Necessity::NotDecorrelation, false) => Err("diagonal or singular".into()),
        (Necessity::Decorrelation, true) => {
            Err(format!("{detail}: full rank without decorrelation"))
        }
        (Necessity::Decorrelation, false) => Ok("no counterexample".into()),
    }
}

pub fn run(c: &mut ClaimRun) {
    const PROPERTY: &str = "diagonal Σ from random recipes, shrunk to the smallest counterexample";
    c.prop(
        Role::AsWritten,
        "zero off-diagonal covariance implies full rank",
        r"\Sigma_{ij}=0\ \forall i\ne j \Rightarrow \mathrm{rank}\,\Sigma = d",
        Hypothesis::Decorrelated,
    )
    .check(PROPERTY, diagonal_full_rank);

    c.prop(
        Role::Corrected,
        "a diagonal Σ has full rank iff every variance Σ_jj > 0: decorrelation plus non-zero variance in every dimension",
        r"\Sigma=\mathrm{diag}(\sigma_1^2,\dots,\sigma_d^2):\ \mathrm{rank}\,\Sigma=d\iff\sigma_j^2>0\ \forall j",
        Hypothesis::AllVariancesPositive,
    )
    .check(PROPERTY, diagonal_full_rank)
    .mutant(
        "variance_floor_one",
        "a diagonal Σ has full rank iff every variance is ≥ 1 (VICReg's floor taken for a rank condition)",
        Hypothesis::AllVariancesAtLeastOne,
    );

    c.prop(
        Role::Precise,
        "and decorrelation is not needed for full rank: a correlated Σ can be positive definite",
        r"\Sigma\succ0\not\Rightarrow\Sigma\text{ diagonal}",
        Necessity::NotDecorrelation,
    )
    .check(
        "a random positive definite 3×3 Σ",
        correlated_positive_definite,
    )
    .mutant(
        "full_rank_needs_decorrelation",
        "full rank implies zero off-diagonals",
        Necessity::Decorrelation,
    );

    c.step("Counterexample: $\\Sigma=\\mathrm{diag}(1,0)$ has no off-diagonal entries at all, yet rank 1 (the property runner finds such matrices among random recipes and shrinks them; the one it found is in the evidence). Decorrelation removes *linear dependence between* coordinates; it says nothing about a coordinate that carries no variance.", None);
    c.step("Corrected: a diagonal $\\Sigma$ has $\\det\\Sigma=\\prod_j\\Sigma_{jj}$, so it has full rank exactly when every variance is positive (positive total variance is not enough). That is why VICReg pairs its covariance term with a variance term, and why the notes' own item 3 lists de-centering (variance in every dimension) *and* de-correlation.", None);
}
