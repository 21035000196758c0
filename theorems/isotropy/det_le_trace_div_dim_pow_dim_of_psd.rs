//! # B1: at fixed total variance the determinant is largest exactly at `Σ = cI`
//!
//! ## Main statements
//! * `det_le_trace_div_dim_pow_dim_of_psd`: **AM–GM for eigenvalues**: `det Σ ≤ (tr Σ/d)^d` for
//!   PSD `Σ`, with equality exactly when all eigenvalues are equal, i.e. `Σ = cI`; the same for
//!   the coding rate: `log det(I+αΣ) ≤ d log(1 + α tr Σ/d)`.
//!
//! ## Implementation notes
//! Every `d` by an argument: the spectral theorem (cited) turns `det` and `tr` into the product
//! and the sum of the eigenvalues, and Jensen's inequality (cited, with its equality case) for the
//! strictly concave `log` (concavity checked symbolically, with no dimension in it) gives AM–GM.
//! Sums-of-squares certificates check it symbolically for `d = 2, 3`; the numerics run on seeded
//! recipes *and at the equality case and next to it* (`cI + εH`, `ε = 2^−40`), where a wrong
//! inequality, a wrong equality case or a missing hypothesis is caught.
//!
//! ## References
//! Hardy, Littlewood, Pólya, *Inequalities*, §2.5 and §3.5 (AM–GM and Jensen, equality cases);
//! Horn & Johnson, *Matrix Analysis*.
//!
//! ## Source
//! `../shared/notes.md`, *Why does the coding-rate regularizer also decorrelate?*, item 3.

use rug::Float;
use rug::ops::Pow;
use sslproof::prelude::*;

/// The claim.
pub const CLAIM: Claim = Claim {
    id: "det_le_trace_div_dim_pow_dim_of_psd",
    label: "B1",
    family: "isotropy",
    title: "At fixed total variance the determinant is largest exactly at Σ = cI",
    quote: "for a fixed total variance $\\sum_i\\lambda_i$, the product $\\prod_i\\lambda_i$ (hence $\\det$) is maximized precisely when all $\\lambda_i$ are equal; that is, $\\Sigma$ becomes proportional to the identity, which implies zero off-diagonal entries (perfect decorrelation).",
    place: "Why does the coding-rate regularizer also decorrelate?, item 3",
    statement: r"\Sigma\succeq0:\ \det\Sigma \le \Big(\tfrac{\mathrm{tr}\,\Sigma}{d}\Big)^d,\ \text{equality}\iff\lambda_1=\dots=\lambda_d\iff\Sigma=cI",
    nature: Nature::Mathematical,
    expected: Class::Proved,
};

/// The right-hand side of a claimed bound on `det Σ` at fixed trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rhs {
    /// `(tr Σ/d)^d` (the theorem).
    MeanPow,
    /// `(tr Σ)^d / d` (the power misplaced).
    PowOverD,
}

/// Where a claimed bound is attained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Equality {
    /// Exactly at equal eigenvalues (`Σ = cI`).
    EqualEigenvalues,
    /// At every diagonal `Σ` (Hadamard's equality case, B4, confused with AM–GM's).
    EveryDiagonal,
}

/// A claimed AM–GM for matrices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AmGm {
    /// For PSD `Σ` only (else for every symmetric `Σ`).
    pub psd: bool,
    pub rhs: Rhs,
    pub equality: Equality,
}

const AM_GM: AmGm = AmGm {
    psd: true,
    rhs: Rhs::MeanPow,
    equality: Equality::EqualEigenvalues,
};

fn det(m: &Mat) -> Float {
    m.det().expect("square")
}

fn rhs(f: &AmGm, trace: &Float, d: usize) -> Float {
    let prec = trace.prec();
    match f.rhs {
        Rhs::MeanPow => {
            Float::with_val(prec, Float::with_val(prec, trace / d as u64).pow(d as u32))
        }
        Rhs::PowOverD => Float::with_val(prec, trace.clone().pow(d as u32)) / d as u64,
    }
}

/// `det Σ ≤ rhs` on random matrices of the claimed domain: PSD recipes, or (the hypothesis
/// dropped) symmetric matrices with the recipe's spectrum and random signs.
fn inequality(run: &mut Run, f: &AmGm) -> Result<String, String> {
    let prec = run.prec();
    let cases = run.cases();
    let mut signs = run.sampler_bits(1, 64);
    let property = run.for_all::<Recipe, _>(8, cases, |r| {
        let (sigma, spectrum) = r.realize(prec);
        let sigma = if f.psd {
            sigma
        } else {
            let signed: Vec<Float> = spectrum
                .iter()
                .map(|l| {
                    if signs.next_u64().is_multiple_of(2) {
                        l.clone()
                    } else {
                        -l.clone()
                    }
                })
                .collect();
            let mut s = Sampler::new(r.seed, prec);
            s.with_spectrum(&signed)
        };
        let t = sigma.trace().map_err(|e| e.to_string())?;
        let (lhs, bound) = (det(&sigma), rhs(f, &t, r.d));
        let slack = Float::with_val(prec, bound.clone().abs() + lhs.clone().abs() + 1u32)
            >> Tol::linalg(prec, r.d, 20).bits;
        if Float::with_val(prec, &lhs - &slack) <= bound {
            Ok(())
        } else {
            Err(format!("det Σ = {lhs:.6e} exceeds the bound {bound:.6e}"))
        }
    });
    property.result(|| {
        format!(
            "{} random {} Σ, d ≤ 8",
            property.cases,
            if f.psd { "PSD" } else { "symmetric" }
        )
    })
}

/// The equality case: exact equality at `cI` (d = 2…6), a positive gap next to it at
/// `cI + εH` (`H` traceless, `ε = 2^−40`) matching the second-order prediction
/// `c^{d−2} ε² ‖H‖²_F / 2` to 1%, and (where the claim puts equality at every diagonal) the
/// non-isotropic `diag(1, 2)`.
fn equality_case(run: &mut Run, f: &AmGm) -> Result<String, String> {
    let prec = run.prec();
    let mut smp = run.sampler();
    let c = Float::with_val(prec, 3) / 2u32;
    let eps = Float::with_val(prec, 1) >> 40u32;
    let mut worst_rel = 0f64;
    for d in 2..=6usize {
        let iso = Mat::scalar(d, &c);
        let t = iso.trace().expect("square");
        let gap0 = Float::with_val(prec, rhs(f, &t, d) - det(&iso));
        // Exact at the working precision: c^d both ways.
        if !Tol::linalg(prec, d, 0).accepts(&gap0, &Float::with_val(prec, c.clone().pow(d as u32)))
        {
            return Err(format!(
                "no equality at Σ = (3/2)I, d = {d}: bound − det = {gap0:.3e}"
            ));
        }
        let h = smp.traceless_symmetric(d);
        let near = iso.add(&h.scale(&eps)).expect("square");
        let gap = Float::with_val(prec, rhs(f, &near.trace().expect("square"), d) - det(&near));
        let predicted = Float::with_val(prec, c.clone().pow((d - 2) as u32))
            * Float::with_val(prec, eps.square_ref())
            * h.frobenius_sq()
            / 2u32;
        let rel = (Float::with_val(prec, &gap - &predicted) / &predicted)
            .abs()
            .to_f64();
        worst_rel = worst_rel.max(rel);
        if gap <= 0 || rel > 0.01 {
            return Err(format!(
                "at (3/2)I + 2⁻⁴⁰H, d = {d}: gap {gap:.3e}, predicted c^(d−2)ε²‖H‖²/2 = {predicted:.3e}"
            ));
        }
        run.count(2);
    }
    let diag = Mat::diag(&[Float::with_val(prec, 1), Float::with_val(prec, 2)], prec);
    let gap = Float::with_val(prec, rhs(f, &diag.trace().expect("square"), 2) - det(&diag));
    run.count(1);
    let claims_equal = f.equality == Equality::EveryDiagonal;
    if claims_equal && !gap.is_zero() {
        return Err(format!(
            "Σ = diag(1, 2) is diagonal but bound − det = {gap:.4}: no equality there"
        ));
    }
    Ok(format!(
        "equality at (3/2)I for d = 2…6; at (3/2)I + 2⁻⁴⁰H the gap is positive and matches c^(d−2)ε²‖H‖²/2 to {worst_rel:.1e}; diag(1, 2) strict (gap {gap:.4})"
    ))
}

/// A claimed coding-rate version of the bound: `log det(I+αΣ) ≤ d log(shift + α tr Σ/d)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShiftBound {
    /// The `1 +` inside the log is kept.
    pub shift: bool,
}

/// `log det(I+Σ) ≤ d log(1 + tr Σ/d)` (α = 1) on random PSD `Σ`, with equality at `cI`.
fn shifted_inequality(run: &mut Run, f: &ShiftBound) -> Result<String, String> {
    let prec = run.prec();
    let one = Float::with_val(prec, 1);
    let cases = run.scaled(500);
    let property = run.for_all::<Recipe, _>(8, cases, |r| {
        let (sigma, _) = r.realize(prec);
        let d = r.d;
        let mean = Float::with_val(prec, sigma.trace().map_err(|e| e.to_string())? / d as u64);
        let l = sigma
            .identity_plus(&one)
            .and_then(|m| m.logdet_spd())
            .map_err(|e| e.to_string())?;
        let inner = if f.shift {
            Float::with_val(prec, &mean + 1u32)
        } else {
            mean
        };
        let bound = inner.ln() * d as u64;
        let slack = Float::with_val(prec, bound.clone().abs() + l.clone().abs() + 1u32)
            >> Tol::linalg(prec, d, 20).bits;
        if Float::with_val(prec, &l - &slack) <= bound {
            Ok(())
        } else {
            Err(format!("log det(I+Σ) = {l:.6e} exceeds {bound:.6e}"))
        }
    });
    property.result(|| format!("{} random PSD Σ, d ≤ 8, α = 1", property.cases))
}

/// A claimed consequence of equal eigenvalues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Premise {
    /// All eigenvalues equal (the theorem).
    EqualEigenvalues,
    /// All diagonal entries equal.
    EqualDiagonal,
}

/// `premise ⇒ Σ = cI` on random matrices satisfying the premise: `Q(cI)Qᵀ` for random orthogonal
/// `Q`, or a random symmetric matrix with its diagonal set to `c`.
fn forces_scalar(run: &mut Run, p: &Premise) -> Result<String, String> {
    let prec = run.prec();
    let mut s = run.sampler();
    let c = Float::with_val(prec, 7) / 3u32;
    let mut worst = u32::MAX;
    for d in 1..=8 {
        let m = match p {
            Premise::EqualEigenvalues => {
                let q = s.orthogonal(d);
                sslproof::hp::sample::conjugate_diag(&q, &vec![c.clone(); d])
            }
            Premise::EqualDiagonal => {
                let g = s.gaussian(d, d);
                let mut m = g.add(&g.transpose()).expect("square");
                for i in 0..d {
                    *m.at_mut(i, i) = c.clone();
                }
                m
            }
        };
        run.count(1);
        let resid = m.sub(&Mat::scalar(d, &c)).expect("square").max_abs();
        let bits = sslproof::hp::bits_below(&resid);
        if bits < Tol::linalg(prec, 8, 0).bits {
            return Err(format!(
                "d = {d}: the premise holds but the largest entry of Σ − cI is {resid:.3e}"
            ));
        }
        worst = worst.min(bits);
    }
    Ok(format!("d = 1…8: largest entry of Σ − cI below 2^-{worst}"))
}

/// The figure: at fixed trace 2 (d = 2, λ = 1 ± t), `det Σ` and `log det(I+4Σ)` against the
/// anisotropy `t`; its check: both plotted curves peak at `t = 0`.
fn figure(run: &mut Run) -> Result<String, String> {
    let prec = run.prec();
    let n = 200;
    let ts: Vec<Float> = (0..n)
        .map(|i| Float::with_val(prec, i) / n as u32)
        .collect();
    let alpha = Float::with_val(prec, 4);
    let rate = |m: &Mat| {
        m.identity_plus(&alpha)
            .and_then(|x| x.logdet_spd())
            .expect("SPD")
    };
    let base = rate(&Mat::identity(2, prec));
    let det_t: Vec<Float> = ts
        .iter()
        .map(|t| Float::with_val(prec, 1u32 - Float::with_val(prec, t.square_ref())))
        .collect();
    let rate_t: Vec<Float> = ts
        .iter()
        .map(|t| {
            let m = Mat::diag(
                &[
                    Float::with_val(prec, t + 1u32),
                    Float::with_val(prec, 1u32 - t),
                ],
                prec,
            );
            rate(&m) - &base
        })
        .collect();
    run.count(n);
    let peak = |v: &[Float]| v.iter().skip(1).all(|x| *x < v[0]);
    let pts = |v: &[Float]| {
        ts.iter()
            .zip(v)
            .map(|(t, y)| (t.to_f64(), y.to_f64()))
            .collect::<Vec<_>>()
    };
    let chart = plot::Chart {
        title: "At fixed trace, the determinant falls with anisotropy (d = 2, λ = 1 ± t)".into(),
        x_label: "anisotropy t".into(),
        y_label: "value".into(),
        x_range: (0.0, 1.0),
        y_range: (-1.5, 1.1),
        series: vec![
            plot::Series {
                name: "det Σ = 1 − t²".into(),
                points: pts(&det_t),
                colour: 0,
                dashed: false,
            },
            plot::Series {
                name: "log det(I+4Σ) − log det(I+4I)".into(),
                points: pts(&rate_t),
                colour: 1,
                dashed: false,
            },
        ],
    };
    run.figure(Figure {
        file: "det_le_trace_div_dim_pow_dim_of_psd.svg".into(),
        caption: "det Σ and the coding rate's log det(I+αΣ) (α = 4) along λ = 1 ± t at fixed trace 2: both are largest at the isotropic point t = 0.".into(),
        svg: plot::render(&chart).map_err(|e| format!("rendering the figure: {e}"))?,
    });
    if peak(&det_t) && peak(&rate_t) {
        Ok(format!("{n} plotted points, t ∈ [0, 1)"))
    } else {
        Err("a plotted curve exceeds its value at t = 0".into())
    }
}

#[cfg(feature = "symbolic")]
mod symbolic {
    use sslproof::sym::algebra::{self as alg, AtomCore, SymMat};

    /// AM–GM for d = 2 and 3 as sums of squares (with `λ_i = a_i^d`, `a_i ≥ 0`):
    /// `(a²+b²)/2 − ab = (a−b)²/2`; `a³+b³+c³ − 3abc = ½(a+b+c)[(a−b)²+(b−c)²+(c−a)²]`.
    pub fn am_gm_sos() -> Result<String, String> {
        let r2 = (&alg::expr("(a^2+b^2)/2 - a*b") - &alg::expr("(a-b)^2/2")).expand();
        let r3 = (&alg::expr("a^3+b^3+c^3 - 3*a*b*c")
            - &alg::expr("(a+b+c)*((a-b)^2+(b-c)^2+(c-a)^2)/2"))
            .expand();
        if !r2.is_zero() {
            return Err(format!("d = 2: {}", alg::plain(&r2)));
        }
        if !r3.is_zero() {
            return Err(format!("d = 3: {}", alg::plain(&r3)));
        }
        Ok("d = 2 and d = 3: mean − geometric mean is an explicit sum of squares (times a + b + c ≥ 0)".into())
    }

    /// Strict concavity: `(log x)″ = −1/x²` and `(log(1+αx))″ = −α²/(1+αx)²`.
    pub fn concavity() -> Result<String, String> {
        let d2 = alg::derivative(&alg::derivative(&alg::log(&alg::expr("x")), "x"), "x");
        let r = alg::normalise_rational(&(&d2 + &alg::expr("x^-2")));
        let e2 = alg::derivative(&alg::derivative(&alg::log(&alg::expr("1 + a*x")), "x"), "x");
        let r2 = alg::normalise_rational(&(&e2 + &alg::expr("a^2*(1+a*x)^-2")));
        if r.is_zero() && r2.is_zero() {
            Ok("(log x)″ = −1/x² and (log(1+αx))″ = −α²/(1+αx)² expand exactly".into())
        } else {
            Err(format!(
                "second derivatives: {} and {}",
                alg::plain(&d2),
                alg::plain(&e2)
            ))
        }
    }

    /// `Q (cI) Qᵀ = c·QQᵀ` for a fully symbolic `Q`, `d ≤ d_max`.
    pub fn equal_eigenvalues_force_scalar(d_max: usize) -> Result<String, String> {
        for d in 1..=d_max {
            let q = SymMat::general(d, "q");
            let c = alg::expr("c");
            let lhs = q.mul(&SymMat::identity(d).scale(&c)).mul(&q.transpose());
            let rhs = q.mul(&q.transpose()).scale(&c);
            if !lhs.equals(&rhs) {
                return Err(format!("d = {d}"));
            }
        }
        Ok(format!(
            "Q(cI)Qᵀ − c·QQᵀ expands to zero for symbolic Q, d = 1…{d_max}"
        ))
    }
}

const SOS: &str = "AM–GM as sums of squares, d = 2, 3";
const CONCAVITY: &str = "strict concavity of log and log(1+αx)";

fn spectral_theorem(text: &str) -> ArgSpec {
    ArgSpec::cited(
        text,
        "spectral theorem",
        "for real symmetric matrices; Horn & Johnson, Matrix Analysis, 2nd ed., Thm 4.1.5",
    )
}

fn jensen(text: &str) -> ArgSpec {
    ArgSpec::cited(
        text,
        "Jensen's inequality",
        "for a strictly concave function, with equality iff all points coincide; Hardy, Littlewood, Pólya, Inequalities, §3.5",
    )
}

pub fn run(c: &mut ClaimRun) {
    let dm = c.sym_d_max();
    let prec = c.prec();
    c.prop(
        Role::AsWritten,
        "det Σ ≤ (tr Σ/d)^d for PSD Σ, with equality exactly when all eigenvalues are equal",
        r"\prod_i\lambda_i \le \Big(\tfrac1d\sum_i\lambda_i\Big)^d,\quad\text{equality}\iff\lambda_1=\dots=\lambda_d",
        AM_GM,
    )
    .symbolic(SOS, Scope::UpToD { d_max: 3 }, sym!(|_| symbolic::am_gm_sos()))
    .independent()
    .symbolic(CONCAVITY, Scope::DimensionFree, sym!(|_| symbolic::concavity()))
    .independent()
    .check("random matrices of the claimed domain", inequality)
    .check("the equality case cI, and cI + εH next to it", equality_case)
    .check("figure data: both curves peak at t = 0", |run, _| figure(run))
    .independent()
    .argument(
        "for every d",
        vec![
            spectral_theorem("det Σ = Π_i λ_i and tr Σ = Σ_i λ_i, λ_i ≥ 0 for PSD Σ (with some λ_i = 0, det Σ = 0 and the bound holds strictly unless Σ = 0)"),
            ArgSpec::checked("log is strictly concave on (0, ∞)", CONCAVITY),
            jensen("for λ_i > 0, (1/d) Σ log λ_i ≤ log((1/d) Σ λ_i), with equality iff all λ_i are equal"),
            ArgSpec::checked("for d = 2, 3 the gap is an explicit sum of squares", SOS),
        ],
    )
    .mutant(
        "psd_hypothesis_dropped",
        "det Σ ≤ (tr Σ/d)^d for every symmetric Σ (the PSD hypothesis dropped)",
        AmGm {
            psd: false,
            ..AM_GM
        },
    )
    .mutant(
        "power_misplaced",
        "det Σ ≤ (tr Σ)^d/d, with equality at equal eigenvalues",
        AmGm {
            rhs: Rhs::PowOverD,
            ..AM_GM
        },
    )
    .mutant(
        "equality_at_every_diagonal",
        "equality at every diagonal Σ (Hadamard's equality case, B4, for AM–GM's)",
        AmGm {
            equality: Equality::EveryDiagonal,
            ..AM_GM
        },
    );

    const FORCES: &str = "Q(cI)Qᵀ = c·QQᵀ, fully symbolic Q";
    c.prop(
        Role::AsWritten,
        "equal eigenvalues of a symmetric Σ force Σ = cI, hence zero off-diagonals",
        r"\Sigma = Q(cI)Q^\top = c\,QQ^\top = cI",
        Premise::EqualEigenvalues,
    )
    .symbolic(
        FORCES,
        Scope::UpToD { d_max: dm },
        sym!(|_| symbolic::equal_eigenvalues_force_scalar(dm)),
    )
    .independent()
    .check("premise ⇒ Σ = cI on random matrices, d ≤ 8", forces_scalar)
    .argument(
        "for every d",
        vec![
            spectral_theorem("Σ = QΛQᵀ with Q orthogonal; equal eigenvalues make Λ = cI"),
            ArgSpec::checked("Q(cI)Qᵀ = c·QQᵀ, with every entry of Q symbolic", FORCES),
            ArgSpec::cited(
                "QQᵀ = I for orthogonal Q, so Σ = cI",
                "orthogonality",
                "the definition of an orthogonal matrix",
            ),
        ],
    )
    .mutant(
        "equal_diagonal_forces_scalar",
        "equal diagonal entries (variances) force Σ = cI",
        Premise::EqualDiagonal,
    );

    c.prop(
        Role::Precise,
        "the same for the coding rate: log det(I+αΣ) ≤ d log(1 + α tr Σ/d), equality iff Σ = cI",
        r"\log\det(I+\alpha\Sigma) = \sum_i\log(1+\alpha\lambda_i) \le d\log\Big(1+\tfrac{\alpha\,\mathrm{tr}\,\Sigma}{d}\Big)",
        ShiftBound { shift: true },
    )
    .symbolic(CONCAVITY, Scope::DimensionFree, sym!(|_| symbolic::concavity()))
    .independent()
    .check("random PSD Σ", shifted_inequality)
    .argument(
        "for every d",
        vec![
            spectral_theorem("log det(I+αΣ) = Σ_i log(1+αλ_i)"),
            ArgSpec::checked("log(1+αx) is strictly concave", CONCAVITY),
            jensen("so Σ_i log(1+αλ_i) ≤ d log(1 + α tr Σ/d), equality iff all λ_i are equal"),
        ],
    )
    .mutant(
        "log_bound_without_shift",
        "log det(I+αΣ) ≤ d log(α tr Σ/d) (the 1 + inside the log dropped)",
        ShiftBound { shift: false },
    );

    c.step("For symmetric PSD $\\Sigma$ with eigenvalues $\\lambda_i\\ge0$: $\\det\\Sigma=\\prod_i\\lambda_i$ and $\\mathrm{tr}\\,\\Sigma=\\sum_i\\lambda_i$ (spectral theorem, cited).", None);
    c.step("If some $\\lambda_i=0$ the inequality is trivial. Otherwise, $\\log$ is strictly concave ($(\\log x)''=-1/x^2$, symbolica), so by Jensen (cited)", Some(r"\frac1d\sum_i\log\lambda_i \le \log\Big(\frac1d\sum_i\lambda_i\Big),\ \text{equality iff all }\lambda_i\text{ equal}".into()));
    c.step("For $d=2,3$ the gap is an explicit sum of squares (with $\\lambda_i=a_i^d$), checked by symbolica:", Some(r"\tfrac{a^2+b^2}{2}-ab=\tfrac{(a-b)^2}{2},\qquad a^3+b^3+c^3-3abc=\tfrac12(a+b+c)\big[(a-b)^2+(b-c)^2+(c-a)^2\big]".into()));
    c.step("Equal eigenvalues $c$ give $\\Sigma=Q(cI)Q^\\top=c\\,QQ^\\top=cI$: zero off-diagonals (equal *variances* do not: a mutant). The same argument with the strictly concave $\\log(1+\\alpha x)$ gives the coding-rate version.", None);
    c.step(format!("Near the equality case the gap is second order: $\\det(cI+\\varepsilon H)=c^d-\\tfrac{{c^{{d-2}}\\varepsilon^2}}{{2}}\\lVert H\\rVert_F^2+O(\\varepsilon^3)$ for traceless $H$; at $\\varepsilon=2^{{-40}}$ and {prec} bits the measured gap matches this prediction, and the equality at $cI$ is exact to working precision. Without the PSD hypothesis the inequality fails (two negative eigenvalues make the determinant positive while the trace is small); the equality case is $cI$ only, not every diagonal $\\Sigma$."), None);
}
