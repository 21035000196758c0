//! # B5: zero off-diagonal covariance ensures full rank
//!
//! ## Main statements
//! * `full_rank_of_diagonal_of_pos_diag`: zero off-diagonals do not imply full rank (`diag(1, 0)`;
//!   the property runner finds such counterexamples and shrinks them); a diagonal `Σ` has full
//!   rank iff every
//!   variance `Σ_jj > 0`. Conversely, a correlated `Σ` can be positive definite: decorrelation is
//!   neither sufficient nor necessary for full rank. And full rank, even isotropy, does not rule
//!   out a collapse onto a curve: points on the unit circle of R² have `Σ = I/2`.
//!
//! ## Implementation notes
//! The property runs over diagonal matrices built from the recipes' spectra (zeros allowed), and
//! the runner shrinks a failing recipe to the smallest counterexample.
//!
//! ## Source
//! `../shared/notes.md`, *Decorrelation*.

use rug::Float;
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

/// What the covariance of points on a curve is claimed to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnACurve {
    /// `Σ = I/2` for points spread evenly on the unit circle of R²: full rank and isotropic,
    /// although the points lie on a 1-dimensional curve.
    HalfIdentity,
    /// Points on a 1-dimensional curve have a singular covariance (full rank rules out collapse
    /// onto a lower-dimensional manifold).
    Singular,
    /// `Σ = I` on the unit circle (the constant wrong).
    Identity,
}

/// `N = 12` points `(cos 2πk/N, sin 2πk/N)` on the unit circle, at the working precision: each on
/// the curve `x² + y² = 1` (checked), their second-moment matrix `Σ = (1/N)Σ_k x_k x_kᵀ` (the mean
/// is zero) against the claimed one.
fn circle_covariance(run: &mut Run, claim: &OnACurve) -> Result<String, String> {
    let prec = run.prec();
    let n = 12u32;
    let pi2 = Float::with_val(prec, rug::float::Constant::Pi) * 2u32;
    let pts: Vec<(Float, Float)> = (0..n)
        .map(|k| {
            let t = Float::with_val(prec, &pi2 * k) / n;
            (t.clone().cos(), t.sin())
        })
        .collect();
    let tol = Tol::scalar(prec);
    let one = Float::with_val(prec, 1);
    for (x, y) in &pts {
        let r = Float::with_val(prec, x.square_ref()) + Float::with_val(prec, y.square_ref());
        if !tol.accepts(&Float::with_val(prec, &r - 1u32), &one) {
            return Err(format!("a point is off the circle: x² + y² = {r:.10}"));
        }
    }
    let mut sigma = Mat::zeros(2, 2, prec);
    for (x, y) in &pts {
        let v = [x, y];
        for i in 0..2 {
            for j in 0..2 {
                *sigma.at_mut(i, j) += Float::with_val(prec, v[i] * v[j]) / n;
            }
        }
    }
    run.count(pts.len());
    let det = sigma.det().map_err(|e| e.to_string())?;
    let half = Float::with_val(prec, 0.5);
    let expected = match claim {
        OnACurve::HalfIdentity => Some(Mat::scalar(2, &half)),
        OnACurve::Identity => Some(Mat::identity(2, prec)),
        OnACurve::Singular => None,
    };
    let detail = format!(
        "12 points on x² + y² = 1: Σ = [[{:.10}, {:.3e}], [{:.3e}, {:.10}]], det Σ = {det:.10}",
        sigma.at(0, 0),
        sigma.at(0, 1),
        sigma.at(1, 0),
        sigma.at(1, 1)
    );
    let holds = match expected {
        Some(e) => {
            let diff = sigma.sub(&e).map_err(|e| e.to_string())?.max_abs();
            tol.accepts(&diff, &one)
        }
        None => tol.accepts(&det, &one),
    };
    if holds { Ok(detail) } else { Err(detail) }
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

    c.prop(
        Role::Precise,
        "full rank, even isotropy, does not rule out collapse onto a lower-dimensional manifold: the covariance sees only linear structure, and points spread on the unit circle of R² (a 1-dimensional curve) have Σ = I/2",
        r"x_k=(\cos\tfrac{2\pi k}N,\sin\tfrac{2\pi k}N):\quad \tfrac1N\textstyle\sum_k x_kx_k^\top=\tfrac12 I_2",
        OnACurve::HalfIdentity,
    )
    .check("12 evenly spread points on the unit circle", circle_covariance)
    .mutant(
        "curve_gives_singular_covariance",
        "points on a 1-dimensional curve have a singular covariance (full rank rules out a collapse onto a curve)",
        OnACurve::Singular,
    )
    .mutant(
        "circle_covariance_identity",
        "Σ = I for points on the unit circle (the constant wrong)",
        OnACurve::Identity,
    );

    c.step("Counterexample: $\\Sigma=\\mathrm{diag}(1,0)$ has no off-diagonal entries at all, yet rank 1 (the property runner finds such matrices among random recipes and shrinks them; the one it found is in the evidence). Decorrelation removes *linear dependence between* coordinates; it says nothing about a coordinate that carries no variance.", None);
    c.step("Corrected: a diagonal $\\Sigma$ has $\\det\\Sigma=\\prod_j\\Sigma_{jj}$, so it has full rank exactly when every variance is positive (positive total variance is not enough). That is why VICReg pairs its covariance term with a variance term, and why the notes' own item 3 lists de-centering (variance in every dimension) *and* de-correlation.", None);
    c.step("Even a full-rank, isotropic $\\Sigma$ does not rule out the collapse the notes name, onto a lower-dimensional *manifold*: $\\Sigma$ sees only linear structure. Points spread on the unit circle in $\\mathbb R^2$ lie on a 1-dimensional curve, yet $\\Sigma=\\tfrac1N\\sum_k x_kx_k^\\top=\\tfrac12I$ (checked on 12 points: full rank, isotropic). Spanning the full $d$-dimensional *subspace* is what decorrelation with positive variances gives; not filling a $d$-dimensional region.", None);
}
