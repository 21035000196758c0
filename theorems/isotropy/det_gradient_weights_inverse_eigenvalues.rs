//! # B3: maximising det pushes every eigenvalue away from zero
//!
//! ## Main statements
//! * `det_gradient_weights_inverse_eigenvalues`: `det Σ = Π λ_i` is positive only when every
//!   `λ_i > 0`, and grows in each eigenvalue with weight `∂det/∂λ_i = det Σ/λ_i` (largest for the
//!   smallest eigenvalue); in matrix form `∇ det Σ = det Σ · Σ⁻¹` (Jacobi). For the coding rate
//!   the weight is bounded: `∇ log det(I+αΣ) = α(I+αΣ)⁻¹`, eigen-weights `α/(1+αλ_i) ≤ α`.
//! * The condition the notes omit: in general `∇ det Σ = adj(Σ)ᵀ`, nonzero at rank `d − 1` and
//!   zero at rank `≤ d − 2`, so `det` is flat at deep collapse and pushes no eigenvalue; the
//!   coding rate's gradient `α(I+αΣ)⁻¹` is bounded and never zero, at every rank.
//!
//! ## Implementation notes
//! The eigenvalue derivative is checked with every eigenvalue symbolic up to `d = sym_d_max`,
//! and with no dimension in it by writing `det = λ_i·P` with `P` (the other eigenvalues'
//! product) a symbol free of `λ_i`; the matrix gradients against Richardson central differences
//! at the working precision.
//!
//! ## References
//! Magnus & Neudecker, *Matrix Differential Calculus* (Jacobi's formula); Horn & Johnson.
//!
//! ## Source
//! `../shared/notes.md`, *Why does the coding-rate regularizer also decorrelate?*, item 2.

use rug::Float;
use sslproof::check::fd::{DEFAULT_STEP_LOG2, fd_tolerance, sym_gradient, worst_entry};
use sslproof::prelude::*;

/// A scalar function of a matrix (the function whose gradient is checked).
type ScalarFn = Box<dyn Fn(&Mat) -> Float>;

/// The claim.
pub const CLAIM: Claim = Claim {
    id: "det_gradient_weights_inverse_eigenvalues",
    label: "B3",
    family: "isotropy",
    title: "Maximising det pushes every eigenvalue away from zero",
    quote: "to maximize $\\det$, the model must push all eigenvalues $\\lambda_i(\\Sigma)$ away from zero, i.e. preserve variance in every direction.",
    place: "Why does the coding-rate regularizer also decorrelate?, item 2",
    statement: r"\det\Sigma>0\iff\lambda_i>0\ \forall i;\quad \partial\det\Sigma/\partial\lambda_i = \det\Sigma/\lambda_i > 0",
    nature: Nature::Mathematical,
    expected: Class::HoldsUnderConditions,
};

/// "det grows in every direction of the eigenvalues" claimed for every PSD `Σ` of rank at least
/// `d − max_deficiency`: its gradient `adj(Σ)ᵀ` is nonzero there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RankCondition {
    pub max_deficiency: usize,
}

/// The adjugate `adj(Σ)` (transposed cofactors), each cofactor the determinant of a minor (LU):
/// a route independent of `Σ⁻¹`, defined at every rank.
fn adjugate(m: &Mat) -> Result<Mat, String> {
    let (d, prec) = (m.rows(), m.prec());
    let mut out = Mat::zeros(d, d, prec);
    for i in 0..d {
        for j in 0..d {
            let minor = Mat::from_fn(d - 1, d - 1, prec, |r, c| {
                m.at(r + usize::from(r >= i), c + usize::from(c >= j))
                    .clone()
            });
            let det = minor.det().map_err(|e| e.to_string())?;
            *out.at_mut(j, i) = if (i + j) % 2 == 0 { det } else { -det };
        }
    }
    Ok(out)
}

/// `Σ = Q diag(λ) Qᵀ` with `k` zero eigenvalues, the others `1, 2, …`, `Q` a rotation from the seed.
fn psd_of_rank(run: &mut Run, d: usize, zeros: usize, k: u64) -> Mat {
    let prec = run.prec();
    let lam: Vec<Float> = (0..d)
        .map(|i| Float::with_val(prec, if i < zeros { 0 } else { i + 1 - zeros }))
        .collect();
    sslproof::hp::sample::Sampler::new(run.seed().wrapping_add(k), prec).with_spectrum(&lam)
}

/// At PSD `Σ` of rank `d`, `d − 1`, `d − 2` (d = 4, 5): the gradient `∇det = adj(Σ)ᵀ` (checked
/// against central differences of det at the same point) is nonzero up to the claimed deficiency,
/// and reported zero beyond it. Fails when the claimed deficiency reaches a rank where the
/// adjugate vanishes: det is flat there, pushing no eigenvalue.
fn rank_check(run: &mut Run, c: &RankCondition) -> Result<String, String> {
    let prec = run.prec();
    let tol = sslproof::check::fd::fd_tolerance(prec);
    let mut seen = Vec::new();
    for (k, d) in [4usize, 5].iter().enumerate() {
        for zeros in 0..=2usize {
            let sigma = psd_of_rank(run, *d, zeros, (k * 3 + zeros) as u64);
            let adj = adjugate(&sigma)?;
            let fd = sym_gradient(
                &|m: &Mat| m.det().expect("square"),
                &sigma,
                DEFAULT_STEP_LOG2,
            );
            let (i, j, err) = worst_entry(&fd, &adj.transpose());
            let scale = Float::with_val(prec, fd.max_abs() + 1u32);
            run.count(1);
            if !tol.accepts(&err, &scale) {
                return Err(format!(
                    "d = {d}, rank {}: ∇det differs from adj(Σ)ᵀ at ({i}, {j}) by {err:.3e}",
                    d - zeros
                ));
            }
            // Zero to the working precision: below 2^(−prec/2) of the scale of Σ's minors.
            let flat = adj.max_abs() < (Float::with_val(prec, 1) >> (prec / 2));
            seen.push(format!(
                "d = {d}, rank {}: max |adj| = {:.3e}",
                d - zeros,
                adj.max_abs()
            ));
            if zeros <= c.max_deficiency && flat {
                return Err(format!(
                    "d = {d}, rank {} (claimed {}): ∇det Σ = adj(Σ)ᵀ = 0 (max |entry| {:.3e}): det is flat there and pushes no eigenvalue",
                    d - zeros,
                    if c.max_deficiency == usize::MAX {
                        "at every rank".to_string()
                    } else {
                        format!("down to rank d − {}", c.max_deficiency)
                    },
                    adj.max_abs()
                ));
            }
            if zeros >= 2 && !flat {
                return Err(format!(
                    "d = {d}, rank {}: adj(Σ) should vanish at rank ≤ d − 2, max |entry| {:.3e}",
                    d - zeros,
                    adj.max_abs()
                ));
            }
        }
    }
    Ok(format!(
        "∇det = adj(Σ)ᵀ against central differences at every point; {}",
        seen.join("; ")
    ))
}

/// `∇ log det(I+αΣ) = α(I+αΣ)⁻¹` at PSD `Σ` of rank `d`, `d − 1`, `d − 2` and at `Σ = 0`
/// (α = 3, d = 4): checked against central differences, and its eigenvalues lie in
/// `[α/(1+αλ_max), α]`: bounded, and never zero.
fn shifted_at_low_rank(run: &mut Run, g: &Gradient) -> Result<String, String> {
    let prec = run.prec();
    let alpha = Float::with_val(prec, 3);
    let tol = sslproof::check::fd::fd_tolerance(prec);
    let mut mins = Vec::new();
    for zeros in 0..=4usize {
        let sigma = psd_of_rank(run, 4, zeros, 10 + zeros as u64);
        let inv = sigma
            .identity_plus(&alpha)
            .and_then(|m| m.inverse())
            .map_err(|e| e.to_string())?;
        let formula = if *g == Gradient::LogDetShift {
            inv.scale(&alpha)
        } else {
            inv
        };
        let al = alpha.clone();
        let fd = sym_gradient(
            &move |m: &Mat| {
                m.identity_plus(&al)
                    .and_then(|x| x.logdet_spd())
                    .expect("SPD")
            },
            &sigma,
            DEFAULT_STEP_LOG2,
        );
        let (i, j, err) = worst_entry(&fd, &formula);
        let scale = Float::with_val(prec, fd.max_abs() + 1u32);
        run.count(1);
        if !tol.accepts(&err, &scale) {
            return Err(format!(
                "rank {}: entry ({i}, {j}) differs by {err:.3e} (finite difference {:.6e}, formula {:.6e})",
                4 - zeros,
                fd.at(i, j),
                formula.at(i, j)
            ));
        }
        let eig = formula
            .symmetrize()
            .and_then(|m| m.sym_eigen())
            .map_err(|e| e.to_string())?;
        let (lo, hi) = eig.values.iter().fold(
            (eig.values[0].clone(), eig.values[0].clone()),
            |(lo, hi), v| (lo.min(v), hi.max(v)),
        );
        // α itself, with a relative slack of 2^(−prec/2) for the Jacobi eigenvalues' rounding.
        let slack = Float::with_val(prec, 1) >> (prec / 2);
        let top = Float::with_val(prec, &alpha * Float::with_val(prec, 1u32 + &slack));
        if !(lo > 0 && hi <= top) {
            return Err(format!(
                "rank {}: eigenvalues of the gradient in [{lo:.6e}, {hi:.6e}], not in (0, α]",
                4 - zeros
            ));
        }
        mins.push(format!("rank {}: [{lo:.4}, {hi:.4}]", 4 - zeros));
    }
    Ok(format!(
        "α = 3, d = 4: formula = central differences at every rank, eigenvalues of the gradient in (0, α]: {}",
        mins.join(", ")
    ))
}

/// Gradient formulas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gradient {
    /// `∇ det Σ = det Σ · Σ⁻¹`.
    Det,
    /// `∇ det Σ = Σ⁻¹` (the det factor dropped).
    DetNoFactor,
    /// `∇ det Σ = det Σ · Σ` (weights `λ_i` instead of `1/λ_i`).
    DetWeightsLambda,
    /// `∇ log det(I+αΣ) = α (I+αΣ)⁻¹`.
    LogDetShift,
    /// `(I+αΣ)⁻¹` (α dropped).
    LogDetShiftNoAlpha,
}

/// The formula against Richardson central differences on three PSD matrices (d = 2, 3, 5, condition
/// number 10², α = 3).
fn gradient_check(run: &mut Run, g: &Gradient) -> Result<String, String> {
    let prec = run.prec();
    let alpha = Float::with_val(prec, 3);
    let tol = fd_tolerance(prec);
    let mut worst_bits = u32::MAX;
    let seed = run.seed();
    for (k, d) in [2usize, 3, 5].iter().enumerate() {
        let sigma = Recipe {
            d: *d,
            seed: seed.wrapping_add(k as u64),
            spectrum: Spectrum::Geometric { decades: 2 },
            top: 0,
        }
        .realize(prec)
        .0;
        let det = |m: &Mat| m.det().expect("square");
        let (f, analytic): (ScalarFn, Mat) = match g {
            Gradient::Det | Gradient::DetNoFactor | Gradient::DetWeightsLambda => {
                let dt = det(&sigma);
                let inv = sigma.inverse().map_err(|e| e.to_string())?;
                let a = match g {
                    Gradient::Det => inv.scale(&dt),
                    Gradient::DetNoFactor => inv,
                    _ => sigma.scale(&dt),
                };
                (Box::new(det), a)
            }
            Gradient::LogDetShift | Gradient::LogDetShiftNoAlpha => {
                let al = alpha.clone();
                let inv = sigma
                    .identity_plus(&alpha)
                    .and_then(|m| m.inverse())
                    .map_err(|e| e.to_string())?;
                let a = if *g == Gradient::LogDetShift {
                    inv.scale(&alpha)
                } else {
                    inv
                };
                (
                    Box::new(move |m: &Mat| {
                        m.identity_plus(&al)
                            .and_then(|x| x.logdet_spd())
                            .expect("SPD")
                    }),
                    a,
                )
            }
        };
        let fd = sym_gradient(&*f, &sigma, DEFAULT_STEP_LOG2);
        let (i, j, err) = worst_entry(&fd, &analytic);
        let scale = Float::with_val(prec, fd.max_abs() + 1u32);
        run.count(1);
        worst_bits = worst_bits.min(sslproof::hp::bits_below(&Float::with_val(
            prec,
            &err / &scale,
        )));
        if !tol.accepts(&err, &scale) {
            return Err(format!(
                "d = {d}: worst entry ({i}, {j}) differs by {err:.3e} (finite difference {:.6e}, formula {:.6e})",
                fd.at(i, j),
                analytic.at(i, j)
            ));
        }
    }
    Ok(format!(
        "d = 2, 3, 5: worst entry agrees to 2^-{worst_bits} relative (tolerance {})",
        tol.describe()
    ))
}

/// One zero eigenvalue zeroes the determinant whatever the others.
fn zero_eigenvalue(run: &mut Run) -> Result<String, String> {
    let prec = run.prec();
    let mut m = Mat::scalar(3, &Float::with_val(prec, 2));
    *m.at_mut(2, 2) = Float::new(prec);
    let z = m.det().map_err(|e| e.to_string())?;
    run.count(1);
    if z.is_zero() {
        Ok("det diag(2, 2, 0) = 0".into())
    } else {
        Err(format!("det = {z}"))
    }
}

#[cfg(feature = "symbolic")]
mod symbolic {
    use sslproof::sym::algebra::{self as alg, AtomCore};

    /// `∂(Π λ)/∂λ_i` against the claimed weight (`Πλ/λ_i`, or the mutant's `Πλ·λ_i`), every
    /// `λ` symbolic, `d ≤ d_max`.
    pub fn product_derivative(d_max: usize, weight_lambda: bool) -> Result<String, String> {
        for d in 1..=d_max {
            let mut prod = alg::expr("1");
            for i in 1..=d {
                prod = (&prod * &alg::expr(&format!("l{i}"))).expand();
            }
            for i in 1..=d {
                let li = alg::expr(&format!("l{i}"));
                let dp = alg::derivative(&prod, &format!("l{i}"));
                let claim = if weight_lambda {
                    (&prod * &li).expand()
                } else {
                    alg::normalise_rational(&(&prod * &alg::expr(&format!("l{i}^-1"))))
                };
                if !(&dp - &claim).expand().is_zero() {
                    return Err(format!(
                        "d = {d}: ∂det/∂λ{i} = {} ≠ {}",
                        alg::plain(&dp),
                        alg::plain(&claim)
                    ));
                }
            }
        }
        Ok(format!("∂(Πλ)/∂λ_i = Πλ/λ_i for d = 1…{d_max}"))
    }

    /// With no dimension: `det = λ·P`, `P` free of `λ`: `∂(λP)/∂λ` against the claimed weight.
    pub fn factored_derivative(weight_lambda: bool) -> Result<String, String> {
        let det = alg::expr("l*P");
        let dp = alg::derivative(&det, "l");
        let claim = if weight_lambda {
            alg::expr("l*P*l")
        } else {
            alg::expr("l*P*l^-1")
        };
        let diff = alg::normalise_rational(&(&dp - &claim));
        if diff.is_zero() {
            Ok("∂(λP)/∂λ = P = (λP)/λ".into())
        } else {
            Err(format!("∂(λP)/∂λ − claimed = {}", alg::plain(&diff)))
        }
    }
}

pub fn run(c: &mut ClaimRun) {
    let dm = c.sym_d_max();
    let prec = c.prec();
    const FACTORED: &str = "det = λ_i·P with P free of λ_i";
    const RANKS: &str = "∇det Σ = adj(Σ)ᵀ at PSD Σ of rank d, d − 1, d − 2 (d = 4, 5)";
    c.prop(
        Role::AsWritten,
        "to maximise det the model pushes every eigenvalue away from zero: det grows under a push of the eigenvalues from every PSD Σ, collapsed or not",
        r"\nabla_\Sigma\det\Sigma=\operatorname{adj}(\Sigma)^\top\ne0\ \text{for every }\Sigma\succeq0",
        RankCondition { max_deficiency: usize::MAX },
    )
    .check(RANKS, rank_check);

    c.prop(
        Role::UnderConditions,
        "at most one zero eigenvalue (rank Σ ≥ d − 1): ∇det Σ = adj(Σ)ᵀ ≠ 0, det grows as the zero eigenvalue grows; at rank ≤ d − 2 every (d−1)-minor vanishes, adj(Σ) = 0 and det is flat (no eigenvalue is pushed)",
        r"\operatorname{rank}\Sigma\ge d-1\iff\operatorname{adj}\Sigma\ne0;\qquad \operatorname{rank}\Sigma\le d-2\Rightarrow\nabla\det\Sigma=0",
        RankCondition { max_deficiency: 1 },
    )
    .check(RANKS, rank_check)
    .mutant(
        "flat_only_at_rank_below_d_minus_2",
        "∇det Σ ≠ 0 down to rank d − 2 (det still pushes at two zero eigenvalues)",
        RankCondition { max_deficiency: 2 },
    );

    c.prop(
        Role::UnderConditions,
        "for Σ ≻ 0: det Σ > 0 needs every λ_i > 0, and det grows in each λ_i with weight ∂det/∂λ_i = det Σ/λ_i (largest for the smallest eigenvalue)",
        r"\det\Sigma=\prod_i\lambda_i,\qquad \frac{\partial\det\Sigma}{\partial\lambda_i}=\frac{\det\Sigma}{\lambda_i},\qquad \nabla_\Sigma\det\Sigma=\det\Sigma\;\Sigma^{-1}",
        Gradient::Det,
    )
    .symbolic(
        "∂(Πλ)/∂λ_i, every λ symbolic",
        Scope::UpToD { d_max: dm },
        sym!(|&g| symbolic::product_derivative(dm, g == Gradient::DetWeightsLambda)),
    )
    .symbolic(
        FACTORED,
        Scope::DimensionFree,
        sym!(|&g| symbolic::factored_derivative(g == Gradient::DetWeightsLambda)),
    )
    .check("matrix gradient against Richardson central differences", gradient_check)
    .check("one zero eigenvalue zeroes det whatever the others", |run, _| {
        zero_eigenvalue(run)
    })
    .independent()
    .argument(
        "for every d",
        vec![
            ArgSpec::cited(
                "det Σ = Π_k λ_k = λ_i·Π_{k≠i} λ_k, the second factor free of λ_i",
                "spectral theorem",
                "for real symmetric matrices, with the commutativity of the product; Horn & Johnson, Matrix Analysis, 2nd ed., Thm 4.1.5",
            ),
            ArgSpec::checked("∂(λ_i P)/∂λ_i = P = det Σ/λ_i", FACTORED),
            ArgSpec::cited(
                "in matrix form, ∇_Σ det Σ = det Σ · Σ⁻ᵀ for invertible Σ",
                "Jacobi's formula",
                "Magnus & Neudecker, Matrix Differential Calculus, 3rd ed., §8.3",
            ),
        ],
    )
    .mutant(
        "drops_det_factor",
        "∇ det Σ = Σ⁻¹ (the factor det Σ dropped)",
        Gradient::DetNoFactor,
    )
    .mutant(
        "weights_lambda",
        "∇ det Σ = det Σ · Σ (weights λ_i, favouring large eigenvalues)",
        Gradient::DetWeightsLambda,
    );

    c.prop(
        Role::Precise,
        "for the coding rate the weight is bounded: ∂ log det(I+αΣ)/∂λ_i = α/(1+αλ_i) ∈ (0, α]",
        r"\nabla_\Sigma\log\det(I+\alpha\Sigma)=\alpha(I+\alpha\Sigma)^{-1},\quad \text{eigen-weights } \tfrac{\alpha}{1+\alpha\lambda_i}\le\alpha",
        Gradient::LogDetShift,
    )
    .check("matrix gradient against Richardson central differences", gradient_check)
    .check(
        "at rank d, d − 1, d − 2, d − 4 (Σ = 0): the gradient against central differences, eigenvalues in (0, α]",
        shifted_at_low_rank,
    )
    .mutant(
        "drops_alpha",
        "∇ log det(I+αΣ) = (I+αΣ)⁻¹ (α dropped)",
        Gradient::LogDetShiftNoAlpha,
    );

    c.step("$\\det\\Sigma=\\prod_i\\lambda_i$ vanishes as soon as one eigenvalue does, so a positive determinant needs variance in every eigendirection.", None);
    c.step(format!("Writing $\\det\\Sigma=\\lambda_i\\cdot P$ with $P=\\prod_{{k\\ne i}}\\lambda_k$ free of $\\lambda_i$, $\\partial\\det/\\partial\\lambda_i=P=\\det\\Sigma/\\lambda_i$ (symbolica, with no dimension in it; and with every eigenvalue symbolic for $d\\le{dm}$): the pull on an eigenvalue grows as it shrinks. In matrix form (Jacobi's formula, cited) $\\nabla_\\Sigma\\det\\Sigma=\\det\\Sigma\\,\\Sigma^{{-1}}$, checked entrywise against Richardson finite differences at {prec} bits."), None);
    c.step("The weight $\\det\\Sigma/\\lambda_i$ needs $\\Sigma\\succ0$. In general $\\nabla_\\Sigma\\det\\Sigma=\\operatorname{adj}(\\Sigma)^\\top$ (checked against central differences at ranks $d$, $d-1$, $d-2$, the adjugate computed from minors, not from $\\Sigma^{-1}$). At rank $d-1$ it is nonzero and pushes the zero eigenvalue; at rank $\\le d-2$ every $(d-1)$-minor vanishes, so $\\nabla\\det=0$: at deep collapse $\\det$ is flat and pushes nothing. The sentence holds under the condition rank $\\Sigma\\ge d-1$ (the notes do not state it).", None);
    c.step("The coding rate weights eigenvalue $i$ by $\\alpha/(1+\\alpha\\lambda_i)$: still largest for the smallest eigenvalue, but bounded by $\\alpha$, never the unbounded $1/\\lambda_i$ of $\\det$ or $\\log\\det\\Sigma$, and never zero: at every rank, $\\Sigma=0$ included, the gradient $\\alpha(I+\\alpha\\Sigma)^{-1}$ has its eigenvalues in $(0,\\alpha]$ (checked). This is why the coding rate uses $\\log\\det(I+\\alpha\\Sigma)$.", None);
}
