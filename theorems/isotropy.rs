//! # Family B: determinant, volume and isotropy
//!
//! ## Main statements
//! * `det_le_trace_div_dim_pow_dim_of_psd` (B1): **AM–GM for eigenvalues**:
//!   `det Σ ≤ (tr Σ/d)^d` for PSD `Σ`, equality iff `Σ = cI`; the same for `log det(I+αΣ)`.
//! * `coding_rate_max_at_fixed_trace_is_isotropic` (B2): `R_ε` has no maximiser on its own; at
//!   fixed trace its unique maximiser is `(T/d)I`.
//! * `det_gradient_weights_inverse_eigenvalues` (B3): `∇ det Σ = det Σ · Σ⁻¹` (weight `1/λ_i`),
//!   `∇ log det(I+αΣ) = α(I+αΣ)⁻¹` (weight `α/(1+αλ_i) ≤ α`).
//! * `det_le_prod_diag_of_psd` (B4): **Hadamard's inequality** `det Σ ≤ Π Σ_jj`, equality iff
//!   `Σ` is diagonal.
//! * `full_rank_of_diagonal_of_pos_diag` (B5): zero off-diagonals do not imply full rank
//!   (counterexample `diag(1, 0)`); they do with every `Σ_jj > 0`.
//! * `ellipsoid_volume_eq_ball_volume_mul_sqrt_det` (B6): `vol{xᵀΣ⁻¹x ≤ 1} = V_d √det Σ`.
//! * `isotropic_optimisers_of_the_losses` (B7): which losses are optimised by `cI`, at which `c`.
//!
//! ## Implementation notes
//! The all-`d` arguments: B1 by Jensen (strict concavity of `log` and of `log(1+αx)`, checked
//! symbolically) on the eigenvalues; B4 by applying B1 to the correlation matrix
//! `C = D^{−1/2} Σ D^{−1/2}` (unit diagonal, so `tr C = d`). Numerics run at 256 bits on seeded
//! recipes, *including near the equality case* (`cI + εH`, `ε = 2^−40`), where a wrong inequality
//! or a wrong equality case is caught.
//!
//! ## Source
//! `../shared/notes.md`, *Why does the coding-rate regularizer also decorrelate?* items 1–4,
//! *VICReg vs. coding rate*, *Decorrelation*, and the take-home.

use rug::Float;
use rug::ops::Pow;

use sslproof::check::fd::{DEFAULT_STEP_LOG2, fd_tolerance, sym_gradient, worst_entry};
use sslproof::check::stats::wilson_interval;
use sslproof::check::{Recipe, Spectrum, for_all};
use sslproof::claim::Figure;
use sslproof::claim::{
    Check, Claim, Findings, Method, Mutant, Nature, Outcome, Proposition, Role, Scope,
};
use sslproof::hp::Mat;
use sslproof::hp::sample::Sampler;
use sslproof::report::plot;
use sslproof::tolerance::Tol;
use sslproof_losses::vicreg;

use super::{Config, Entry, checked, sym_check};

/// The family's entries, in catalogue order.
pub fn entries() -> Vec<Entry> {
    vec![
        Entry {
            claim: claim_b1(),
            run: run_b1,
        },
        Entry {
            claim: claim_b2(),
            run: run_b2,
        },
        Entry {
            claim: claim_b3(),
            run: run_b3,
        },
        Entry {
            claim: claim_b4(),
            run: run_b4,
        },
        Entry {
            claim: claim_b5(),
            run: run_b5,
        },
        Entry {
            claim: claim_b6(),
            run: run_b6,
        },
        Entry {
            claim: claim_b7(),
            run: run_b7,
        },
    ]
}

/// `det` by LU (works for singular matrices too).
fn det(m: &Mat) -> Float {
    m.det().expect("square")
}

fn sum(v: &[Float], prec: u32) -> Float {
    v.iter().fold(Float::new(prec), |a, x| a + x)
}

/// A random symmetric traceless direction, scaled to Frobenius norm about 1.
fn traceless_direction(s: &mut Sampler, d: usize) -> Mat {
    let prec = s.prec();
    let g = s.gaussian(d, d);
    let mut h = g.add(&g.transpose()).expect("square");
    let t = Float::with_val(prec, h.trace().expect("square") / d as u64);
    for i in 0..d {
        *h.at_mut(i, i) -= &t;
    }
    let n = Float::with_val(prec, h.frobenius_sq().sqrt());
    if n.is_zero() {
        h
    } else {
        h.scale(&(Float::with_val(prec, 1) / n))
    }
}

// ---------------------------------------------------------------------------------------------
// Symbolic certificates.
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "symbolic")]
pub mod symbolic {
    use sslproof::sym::algebra::{self as alg, AtomCore, SymMat};

    /// AM–GM for d = 2 and 3 as sums of squares. With `λ_i = a_i^d` (a_i ≥ 0):
    /// d = 2: `(a²+b²)/2 − ab = (a−b)²/2`; d = 3: `a³+b³+c³ − 3abc = ½(a+b+c)[(a−b)²+(b−c)²+(c−a)²]`.
    /// `factor` scales the mean side (1 for the theorem; a mutant uses ½).
    pub fn am_gm_sos(half_bound: bool) -> Result<String, String> {
        let k = if half_bound { "1/2" } else { "1" };
        let lhs2 = alg::expr(&format!("{k}*(a^2+b^2)/2 - a*b"));
        let sos2 = alg::expr("(a-b)^2/2");
        let lhs3 = alg::expr(&format!("{k}*(a^3+b^3+c^3) - 3*a*b*c"));
        let sos3 = alg::expr("(a+b+c)*((a-b)^2+(b-c)^2+(c-a)^2)/2");
        let r2 = (&lhs2 - &sos2).expand();
        let r3 = (&lhs3 - &sos3).expand();
        if !r2.is_zero() {
            return Err(format!(
                "d = 2: mean − product − SOS = {} (negative at a = b = 1)",
                alg::plain(&r2)
            ));
        }
        if !r3.is_zero() {
            return Err(format!("d = 3: {}", alg::plain(&r3)));
        }
        Ok("d = 2 and d = 3: mean − geometric mean is an explicit sum of squares (times a + b + c ≥ 0)".into())
    }

    /// Strict concavity: `(log x)'' = −1/x²` and `(log(1+αx))'' = −α²/(1+αx)²`.
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

    /// `Q (cI) Qᵀ = c·QQᵀ` for a fully symbolic `Q`, d ≤ d_max: with `QQᵀ = I`, equal eigenvalues
    /// force `Σ = cI`.
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

    /// Hadamard via the correlation matrix: `det(D C D) = det(D)² det C` for symbolic diagonal `D`
    /// and symbolic `C` with unit diagonal, d ≤ d_max (full symbolic determinants).
    pub fn hadamard_scaling(d_max: usize) -> Result<String, String> {
        for d in 1..=d_max {
            let mut c = SymMat::symmetric(d, "c");
            for i in 0..d {
                c.data[i * d + i] = alg::expr("1");
            }
            let dm = SymMat::diagonal(d, "w");
            let lhs = dm.mul(&c).mul(&dm).det();
            let dd = dm.det();
            let rhs = (&(&dd * &dd) * &c.det()).expand();
            if !(&lhs - &rhs).expand().is_zero() {
                return Err(format!("d = {d}"));
            }
        }
        Ok(format!(
            "det(DCD) = det(D)² det C expands to zero for d = 1…{d_max}"
        ))
    }

    /// Hadamard d = 2: `Σ11 Σ22 − det Σ = Σ12²`.
    pub fn hadamard_d2(reversed: bool) -> Result<String, String> {
        let s = SymMat::symmetric(2, "s");
        let gap = (&alg::expr("s11*s22") - &s.det()).expand();
        let want = if reversed {
            alg::expr("-s12^2")
        } else {
            alg::expr("s12^2")
        };
        if (&gap - &want).expand().is_zero() {
            Ok("Σ11Σ22 − det Σ = Σ12² ≥ 0".into())
        } else {
            Err(format!(
                "Σ11Σ22 − det Σ = {}, not {}",
                alg::plain(&gap),
                alg::plain(&want)
            ))
        }
    }

    /// `∂(Π λ)/∂λ_i · λ_i = Π λ` (weights `det/λ_i`) for d ≤ d_max; `weight_lambda` is the mutant
    /// `∂/∂λ_i = det·λ_i`.
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
}

// ---------------------------------------------------------------------------------------------
// B1: AM–GM
// ---------------------------------------------------------------------------------------------

fn claim_b1() -> Claim {
    Claim {
        id: "det_le_trace_div_dim_pow_dim_of_psd",
        label: "B1",
        family: "isotropy",
        title: "At fixed total variance the determinant is largest exactly at Σ = cI",
        quote: "for a fixed total variance $\\sum_i\\lambda_i$, the product $\\prod_i\\lambda_i$ (hence $\\det$) is maximized precisely when all $\\lambda_i$ are equal; that is, $\\Sigma$ becomes proportional to the identity, which implies zero off-diagonal entries (perfect decorrelation).",
        place: "Why does the coding-rate regularizer also decorrelate?, item 3",
        statement: r"\Sigma\succeq0:\ \det\Sigma \le \Big(\tfrac{\mathrm{tr}\,\Sigma}{d}\Big)^d,\ \text{equality}\iff\lambda_1=\dots=\lambda_d\iff\Sigma=cI",
        nature: Nature::Mathematical,
    }
}

/// Which inequality the AM–GM property checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AmGm {
    /// `det Σ ≤ (tr Σ/d)^d`.
    Det,
    /// Mutant: `det Σ ≤ ½(tr Σ/d)^d` (a bound that is too strong).
    DetHalf,
    /// `log det(I+αΣ) ≤ d log(1 + α tr Σ/d)` (α = 1).
    LogDetShift,
    /// Mutant: the reverse, `log det(I+αΣ) ≥ d log(1 + α tr Σ/d)`.
    LogDetShiftReversed,
}

/// The AM–GM property on random PSD recipes and at the equality case `cI` and near it (`cI + εH`).
fn am_gm_property(cfg: &Config, v: AmGm, cases: usize) -> Check {
    let prec = cfg.prec;
    let seed = cfg.seed ^ 0xa39;
    let one = Float::with_val(prec, 1);
    let test = |sigma: &Mat, d: usize| -> Result<(), String> {
        let t = sigma.trace().map_err(|e| e.to_string())?;
        let mean = Float::with_val(prec, &t / d as u64);
        let tol = Tol::linalg(prec, d, 20);
        let (lhs, rhs, reversed) = match v {
            AmGm::Det | AmGm::DetHalf => {
                let mut r = Float::with_val(prec, mean.clone().pow(d as u32));
                if v == AmGm::DetHalf {
                    r /= 2u32;
                }
                (det(sigma), r, false)
            }
            AmGm::LogDetShift | AmGm::LogDetShiftReversed => {
                let l = sigma
                    .identity_plus(&one)
                    .and_then(|m| m.logdet_spd())
                    .map_err(|e| e.to_string())?;
                let r = Float::with_val(prec, &mean + 1u32).ln() * d as u64;
                (l, r, v == AmGm::LogDetShiftReversed)
            }
        };
        let slack = Float::with_val(prec, rhs.clone().abs() + lhs.clone().abs() + 1u32) >> tol.bits;
        let ok = if reversed {
            Float::with_val(prec, &lhs + &slack) >= rhs
        } else {
            Float::with_val(prec, &lhs - &slack) <= rhs
        };
        if ok {
            Ok(())
        } else {
            Err(format!("lhs {:.6e} vs bound {:.6e}", lhs, rhs))
        }
    };
    let run = for_all::<Recipe, _>(seed, 8, cases, |r| test(&r.realize(prec).0, r.d));
    if !run.passed() {
        return run.to_check(
            "random PSD Σ, the equality case cI and cI + εH",
            prec,
            String::new(),
        );
    }
    // The equality case and its neighbourhood: cI + εH with tr H = 0, ε = 2^−40.
    let mut smp = Sampler::new(seed, prec);
    let mut min_gap_bits = u32::MAX;
    for d in 2..=6 {
        let c = Float::with_val(prec, 3) / 2u32;
        let iso = Mat::scalar(d, &c);
        if let Err(e) = test(&iso, d) {
            return Check::new(
                "random PSD Σ, the equality case cI and cI + εH",
                Method::Numeric {
                    prec,
                    cases: run.cases,
                    seed: Some(seed),
                },
                Outcome::Fails(format!("at Σ = (3/2)I, d = {d}: {e}")),
            );
        }
        let h = traceless_direction(&mut smp, d).scale(&(Float::with_val(prec, 1) >> 40u32));
        let near = iso.add(&h).expect("square");
        if let Err(e) = test(&near, d) {
            return Check::new(
                "random PSD Σ, the equality case cI and cI + εH",
                Method::Numeric {
                    prec,
                    cases: run.cases,
                    seed: Some(seed),
                },
                Outcome::Fails(format!("at (3/2)I + 2⁻⁴⁰H, d = {d}: {e}")),
            );
        }
        if matches!(v, AmGm::Det) {
            let gap = Float::with_val(
                prec,
                Float::with_val(prec, c.clone().pow(d as u32)) - det(&near),
            );
            min_gap_bits = min_gap_bits.min(sslproof::hp::bits_below(&gap));
        }
    }
    let detail = if matches!(v, AmGm::Det) {
        format!(
            "{} random PSD Σ (d ≤ 8); equality at cI exact; at cI + 2⁻⁴⁰H the gap is positive, about 2^-{min_gap_bits} (second order in ε)",
            run.cases
        )
    } else {
        format!(
            "{} random PSD Σ (d ≤ 8), plus cI and cI + 2⁻⁴⁰H for d = 2…6",
            run.cases
        )
    };
    Check::new(
        "random PSD Σ, the equality case cI and cI + εH",
        Method::Numeric {
            prec,
            cases: run.cases + 10,
            seed: Some(seed),
        },
        Outcome::Holds(detail),
    )
}

/// At fixed trace, compare the isotropic matrix with the rank-one one: which has the larger det?
fn isotropic_vs_rank_one(prec: u32, claim_rank_one_max: bool) -> Check {
    let d = 4;
    let t = Float::with_val(prec, 4);
    let iso = det(&Mat::scalar(d, &Float::with_val(prec, &t / d as u64)));
    let mut r1 = Mat::zeros(d, d, prec);
    *r1.at_mut(0, 0) = t.clone();
    let rank_one = det(&r1);
    let iso_larger = iso > rank_one;
    let detail = format!("tr Σ = 4, d = 4: det(I) = {iso:.4}, det(diag(4,0,0,0)) = {rank_one:.4}");
    let holds = iso_larger != claim_rank_one_max;
    Check::new(
        "isotropic against rank one at equal trace",
        Method::Numeric {
            prec,
            cases: 2,
            seed: None,
        },
        if holds {
            Outcome::Holds(detail)
        } else {
            Outcome::Fails(detail)
        },
    )
}

/// Equal eigenvalues force `Σ = cI`: `Q(cI)Qᵀ − cI` for random orthogonal `Q` at 256 bits.
fn equal_eigenvalues_numeric(prec: u32) -> Check {
    let mut s = Sampler::new(0xe9, prec);
    let mut worst = 0u32.wrapping_sub(1);
    for d in 1..=8 {
        let q = s.orthogonal(d);
        let c = Float::with_val(prec, 7) / 3u32;
        let m = sslproof::hp::sample::conjugate_diag(&q, &vec![c.clone(); d])
            .sub(&Mat::scalar(d, &c))
            .expect("square");
        worst = worst.min(sslproof::hp::bits_below(&m.max_abs()));
    }
    let tol = Tol::linalg(prec, 8, 0);
    checked(
        "Q(cI)Qᵀ = cI for random orthogonal Q, d ≤ 8",
        Method::Numeric {
            prec,
            cases: 8,
            seed: Some(0xe9),
        },
        if worst >= tol.bits {
            Ok(format!("largest entry of Q(cI)Qᵀ − cI below 2^-{worst}"))
        } else {
            Err(format!("residual 2^-{worst}"))
        },
    )
}

/// The B1 figure: at fixed trace 2 (d = 2, λ = 1 ± t), det Σ and log det(I+αΣ) against the
/// anisotropy t, and a check that the plotted data peak at t = 0.
fn figure_b1(prec: u32) -> (Figure, Check) {
    let n = 200;
    let ts: Vec<Float> = (0..n)
        .map(|i| Float::with_val(prec, i) / n as u32)
        .collect();
    let alpha = Float::with_val(prec, 4);
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
            let base = rate(&Mat::identity(2, prec), &alpha);
            (rate(&m, &alpha) - base) * 2u32
        })
        .collect();
    let peak = |v: &[Float]| v.iter().skip(1).all(|x| *x < v[0]);
    let ok = peak(&det_t) && peak(&rate_t);
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
    let fig = Figure { file: "det_le_trace_div_dim_pow_dim_of_psd.svg".into(), caption: "det Σ and the coding rate's log det(I+αΣ) (α = 4) along λ = 1 ± t at fixed trace 2: both are largest at the isotropic point t = 0.".into(), svg: plot::render(&chart).expect("render") };
    let c = checked(
        "figure data: both curves peak at t = 0",
        Method::Numeric {
            prec,
            cases: n,
            seed: None,
        },
        if ok {
            Ok(format!("{n} plotted points, t ∈ [0, 1)"))
        } else {
            Err("a plotted curve exceeds its value at t = 0".into())
        },
    );
    (fig, c)
}

fn run_b1(cfg: &Config) -> Findings {
    let prec = cfg.prec;
    let dm = cfg.sym_d_max;
    let mut f = Findings::default();
    let (fig, fig_check) = figure_b1(prec);
    f.figures.push(fig);
    let concave = sym_check(
        "strict concavity of log and log(1+αx)",
        Method::Symbolic {
            scope: Scope::Exact,
        },
        sym_job!(symbolic::concavity()),
    );
    let jensen = Check::new(
        "for every d",
        Method::Symbolic {
            scope: Scope::AllD {
                via: "Jensen on the eigenvalues: log strictly concave".into(),
            },
        },
        concave.outcome.clone(),
    );
    f.propositions.push(
        Proposition::new(Role::AsWritten, "det Σ ≤ (tr Σ/d)^d for PSD Σ, with equality exactly when all eigenvalues are equal", r"\prod_i\lambda_i \le \Big(\tfrac1d\sum_i\lambda_i\Big)^d,\quad\text{equality}\iff\lambda_1=\dots=\lambda_d")
            .with(sym_check("AM–GM as sums of squares, d = 2, 3", Method::Symbolic { scope: Scope::UpToD { d_max: 3 } }, sym_job!(symbolic::am_gm_sos(false))))
            .with(jensen)
            .with(concave.clone())
            .with(am_gm_property(cfg, AmGm::Det, cfg.cases))
            .with(isotropic_vs_rank_one(prec, false))
            .with(fig_check),
    );
    f.propositions.push(
        Proposition::new(
            Role::AsWritten,
            "equal eigenvalues of a symmetric Σ force Σ = cI, hence zero off-diagonals",
            r"\Sigma = Q(cI)Q^\top = c\,QQ^\top = cI",
        )
        .with(sym_check(
            &format!("Q(cI)Qᵀ = c·QQᵀ, fully symbolic Q, d ≤ {dm}"),
            Method::Symbolic {
                scope: Scope::AllD {
                    via: "QQᵀ = I for orthogonal Q".into(),
                },
            },
            sym_job!(symbolic::equal_eigenvalues_force_scalar(dm)),
        ))
        .with(equal_eigenvalues_numeric(prec)),
    );
    f.propositions.push(
        Proposition::new(Role::Precise, "the same for the coding rate: log det(I+αΣ) ≤ d log(1 + α tr Σ/d), equality iff Σ = cI", r"\log\det(I+\alpha\Sigma) = \sum_i\log(1+\alpha\lambda_i) \le d\log\Big(1+\tfrac{\alpha\,\mathrm{tr}\,\Sigma}{d}\Big)")
            .with(concave)
            .with(am_gm_property(cfg, AmGm::LogDetShift, cfg.cases / 2)),
    );
    f.mutants.push(Mutant {
        name: "maximised_at_rank_one".into(),
        description: "at fixed trace, det is largest when one eigenvalue carries the whole trace"
            .into(),
        checks: vec![isotropic_vs_rank_one(prec, true)],
    });
    f.mutants.push(Mutant {
        name: "bound_halved".into(),
        description: "det Σ ≤ ½(tr Σ/d)^d (too strong: fails at the equality case)".into(),
        checks: vec![
            sym_check(
                "AM–GM as sums of squares, d = 2, 3",
                Method::Symbolic {
                    scope: Scope::UpToD { d_max: 3 },
                },
                sym_job!(symbolic::am_gm_sos(true)),
            ),
            am_gm_property(cfg, AmGm::DetHalf, cfg.cases),
        ],
    });
    f.mutants.push(Mutant {
        name: "log_bound_reversed".into(),
        description: "log det(I+αΣ) ≥ d log(1 + α tr Σ/d)".into(),
        checks: vec![am_gm_property(
            cfg,
            AmGm::LogDetShiftReversed,
            cfg.cases / 2,
        )],
    });
    f.step("For symmetric PSD $\\Sigma$ with eigenvalues $\\lambda_i\\ge0$: $\\det\\Sigma=\\prod_i\\lambda_i$ and $\\mathrm{tr}\\,\\Sigma=\\sum_i\\lambda_i$.", None);
    f.step("If some $\\lambda_i=0$ the inequality is trivial. Otherwise, $\\log$ is strictly concave ($(\\log x)''=-1/x^2$, symbolica), so by Jensen", Some(r"\frac1d\sum_i\log\lambda_i \le \log\Big(\frac1d\sum_i\lambda_i\Big),\ \text{equality iff all }\lambda_i\text{ equal}".into()));
    f.step("For $d=2,3$ the gap is an explicit sum of squares (with $\\lambda_i=a_i^d$):", Some(r"\tfrac{a^2+b^2}{2}-ab=\tfrac{(a-b)^2}{2},\qquad a^3+b^3+c^3-3abc=\tfrac12(a+b+c)\big[(a-b)^2+(b-c)^2+(c-a)^2\big]".into()));
    f.step("Equal eigenvalues $c$ give $\\Sigma=Q(cI)Q^\\top=c\\,QQ^\\top=cI$: zero off-diagonals. The same argument with the strictly concave $\\log(1+\\alpha x)$ gives the coding-rate version.", None);
    f.step("Near the equality case the gap is second order: $\\det(cI+\\varepsilon H)=c^d-\\tfrac{c^{d-2}\\varepsilon^2}{2}\\lVert H\\rVert_F^2+O(\\varepsilon^3)$ for traceless $H$, so the numeric check at $\\varepsilon=2^{-40}$ resolves a gap of about $2^{-80}$, far above the 256-bit rounding.", None);
    f
}

// ---------------------------------------------------------------------------------------------
// B2
// ---------------------------------------------------------------------------------------------

fn claim_b2() -> Claim {
    Claim {
        id: "coding_rate_max_at_fixed_trace_is_isotropic",
        label: "B2",
        family: "isotropy",
        title: "The coding rate maximises variance and enforces isotropy",
        quote: "Coding rate uses the exact log-det term $R_\\varepsilon(\\Sigma)=\\tfrac12\\log\\det(I+\\alpha\\Sigma)$, which simultaneously maximizes variance (all eigenvalues > 0) and enforces isotropy (decorrelation).",
        place: "A unified framework for covariance-regularized SSL, item 4",
        statement: r"\arg\max_\Sigma R_\varepsilon(\Sigma)\ \text{has all }\lambda_i>0\text{ and is isotropic}",
        nature: Nature::Mathematical,
    }
}

fn rate(sigma: &Mat, alpha: &Float) -> Float {
    sigma
        .identity_plus(alpha)
        .and_then(|m| m.logdet_spd())
        .expect("SPD")
        / 2u32
}

fn run_b2(cfg: &Config) -> Findings {
    let prec = cfg.prec;
    let mut f = Findings::default();
    let alpha = Float::with_val(prec, 16);
    // As written: maximising R_ε alone. It is unbounded, and anisotropic sequences reach any value.
    let iso = |t: u32| rate(&Mat::scalar(3, &Float::with_val(prec, t)), &alpha);
    let aniso = |t: u32| {
        let mut m = Mat::scalar(3, &(Float::with_val(prec, 1) / 100u32));
        *m.at_mut(0, 0) = Float::with_val(prec, t);
        rate(&m, &alpha)
    };
    let (i1, a_big) = (iso(1), aniso(1_000_000));
    let unbounded = a_big > i1 && iso(1_000_000) > iso(1000);
    f.propositions.push(
        Proposition::new(Role::AsWritten, "maximising R_ε alone makes Σ isotropic with all eigenvalues positive", r"\sup_\Sigma R_\varepsilon(\Sigma)\ \text{is attained at an isotropic }\Sigma")
            .with(checked("does R_ε have an (isotropic) maximiser without a constraint?", Method::Numeric { prec, cases: 4, seed: None },
                if unbounded { Err(format!("no: R_ε(tI) grows without bound (α = 16, d = 3), and the anisotropic diag(10⁶, 0.01, 0.01) gives {:.4} > R_ε(I) = {:.4}", a_big, i1)) } else { Ok("bounded".into()) })),
    );
    // Under a trace constraint: unique isotropic maximiser.
    let seed = cfg.seed ^ 0xb2;
    let mut s = Sampler::new(seed, prec);
    let mut all_lower = true;
    for d in 2..=6 {
        let c = Float::with_val(prec, 1) / d as u64; // tr Σ = 1: unit-norm features, uncentred
        let centre = Mat::scalar(d, &c);
        let r0 = rate(&centre, &alpha);
        for _ in 0..20 {
            let h = traceless_direction(&mut s, d).scale(&(Float::with_val(prec, 1) >> 12u32));
            if rate(&centre.add(&h).expect("square"), &alpha) >= r0 {
                all_lower = false;
            }
        }
    }
    f.propositions.push(
        Proposition::new(Role::UnderConditions, "at fixed trace T (unit-norm features: tr Σ = 1) the unique maximiser is (T/d)I, all eigenvalues T/d > 0", r"\mathrm{tr}\,\Sigma = T:\ \arg\max R_\varepsilon = \tfrac Td I")
            .with(am_gm_property(cfg, AmGm::LogDetShift, cfg.cases / 2))
            .with(checked("100 traceless perturbations of I/d, d = 2…6, α = 16", Method::Numeric { prec, cases: 100, seed: Some(seed) }, if all_lower { Ok("every perturbation lowers R_ε".into()) } else { Err("a perturbation raised R_ε".into()) })),
    );
    // Precise: no barrier at rank deficiency (finite at collapse), unlike log det Σ.
    let mut r1 = Mat::zeros(3, 3, prec);
    *r1.at_mut(0, 0) = Float::with_val(prec, 1);
    let collapsed = rate(&r1, &alpha);
    let expected = Float::with_val(prec, &alpha + 1u32).ln() / 2u32;
    let finite_ok =
        Tol::scalar(prec).accepts(&Float::with_val(prec, &collapsed - &expected), &expected);
    f.propositions.push(
        Proposition::new(Role::Precise, "R_ε is finite at a collapsed Σ: ½ log(1 + αT) for rank one (no barrier, unlike log det Σ = −∞)", r"R_\varepsilon(T\,e_1e_1^\top)=\tfrac12\log(1+\alpha T)")
            .with(checked("rank-one Σ, T = 1, α = 16", Method::Numeric { prec, cases: 1, seed: None }, if finite_ok { Ok(format!("R_ε = {:.6} = ½ log 17", collapsed)) } else { Err(format!("R_ε = {collapsed}")) })),
    );
    f.mutants.push(Mutant {
        name: "bounded_without_constraint".into(),
        description: "R_ε is bounded above, so maximising it alone is well posed".into(),
        checks: vec![checked(
            "R_ε(10⁶ I) against R_ε(10³ I) + 1",
            Method::Numeric {
                prec,
                cases: 2,
                seed: None,
            },
            if iso(1_000_000) > Float::with_val(prec, iso(1000) + 1u32) {
                Err(format!(
                    "R_ε(10⁶I) = {:.4} exceeds R_ε(10³I) + 1 = {:.4}: unbounded",
                    iso(1_000_000),
                    Float::with_val(prec, iso(1000) + 1u32)
                ))
            } else {
                Ok("bounded".into())
            },
        )],
    });
    f.mutants.push(Mutant {
        name: "rank_one_maximiser".into(),
        description: "at fixed trace the maximiser is rank one".into(),
        checks: vec![isotropic_vs_rank_one(prec, true)],
    });
    f.step("$R_\\varepsilon=\\tfrac12\\sum_i\\log(1+\\alpha\\lambda_i)$ is strictly increasing in every eigenvalue, so on its own it has no maximiser: it grows without bound along $tI$, and equally along anisotropic directions. \"Maximises variance\" is right as a direction of push; \"enforces isotropy\" needs a scale constraint.", None);
    f.step("With a trace constraint (L2-normalised features give $\\mathrm{tr}\\,\\Sigma=1$ for the uncentred second moment used by MCR², SimDINO and EMP-SSL), B1's argument with the strictly concave $\\log(1+\\alpha x)$ makes $\\tfrac Td I$ the unique maximiser, with all eigenvalues positive.", None);
    f.step("$R_\\varepsilon$ is finite on rank-deficient matrices ($\\tfrac12\\log(1+\\alpha T)$ at rank one), so it rewards spreading but does not forbid zero eigenvalues the way $\\log\\det\\Sigma=-\\infty$ would.", None);
    f
}

// ---------------------------------------------------------------------------------------------
// B3
// ---------------------------------------------------------------------------------------------

fn claim_b3() -> Claim {
    Claim {
        id: "det_gradient_weights_inverse_eigenvalues",
        label: "B3",
        family: "isotropy",
        title: "Maximising det pushes every eigenvalue away from zero",
        quote: "to maximize $\\det$, the model must push all eigenvalues $\\lambda_i(\\Sigma)$ away from zero, i.e. preserve variance in every direction.",
        place: "Why does the coding-rate regularizer also decorrelate?, item 2",
        statement: r"\det\Sigma>0\iff\lambda_i>0\ \forall i;\quad \partial\det\Sigma/\partial\lambda_i = \det\Sigma/\lambda_i > 0",
        nature: Nature::Mathematical,
    }
}

/// Gradient formulas, with mutants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gradient {
    /// `∇ det Σ = det Σ · Σ⁻¹`.
    Det,
    /// Mutant: `∇ det Σ = Σ⁻¹` (the det factor dropped).
    DetNoFactor,
    /// Mutant: `∇ det Σ = det Σ · Σ` (weights λ_i instead of 1/λ_i).
    DetWeightsLambda,
    /// `∇ log det(I+αΣ) = α (I+αΣ)⁻¹`.
    LogDetShift,
    /// Mutant: `(I+αΣ)⁻¹` (α dropped).
    LogDetShiftNoAlpha,
}

fn gradient_check(cfg: &Config, g: Gradient) -> Check {
    let prec = cfg.prec;
    let seed = cfg.seed ^ 0xb3;
    let alpha = Float::with_val(prec, 3);
    let tol = fd_tolerance(prec);
    let mut worst_bits = u32::MAX;
    for (k, d) in [2usize, 3, 5].iter().enumerate() {
        let sigma = Recipe {
            d: *d,
            seed: seed + k as u64,
            spectrum: Spectrum::Geometric { decades: 2 },
            top: 0,
        }
        .realize(prec)
        .0;
        let (f, analytic): (Box<dyn Fn(&Mat) -> Float>, Mat) = match g {
            Gradient::Det | Gradient::DetNoFactor | Gradient::DetWeightsLambda => {
                let dt = det(&sigma);
                let a = match g {
                    Gradient::Det => sigma.inverse().expect("PD").scale(&dt),
                    Gradient::DetNoFactor => sigma.inverse().expect("PD"),
                    _ => sigma.scale(&dt),
                };
                (Box::new(det), a)
            }
            Gradient::LogDetShift | Gradient::LogDetShiftNoAlpha => {
                let al = alpha.clone();
                let inv = sigma
                    .identity_plus(&alpha)
                    .and_then(|m| m.inverse())
                    .expect("PD");
                let a = if g == Gradient::LogDetShift {
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
        worst_bits = worst_bits.min(sslproof::hp::bits_below(&Float::with_val(
            prec,
            &err / &scale,
        )));
        if !tol.accepts(&err, &scale) {
            return Check::new(
                "against 256-bit Richardson central differences",
                Method::Numeric {
                    prec,
                    cases: 3,
                    seed: Some(seed),
                },
                Outcome::Fails(format!(
                    "d = {d}: worst entry ({i}, {j}) differs by {:.3e} (finite difference {:.6e}, formula {:.6e})",
                    err,
                    fd.at(i, j),
                    analytic.at(i, j)
                )),
            );
        }
    }
    Check::new(
        "against 256-bit Richardson central differences",
        Method::Numeric {
            prec,
            cases: 3,
            seed: Some(seed),
        },
        Outcome::Holds(format!(
            "d = 2, 3, 5: worst entry agrees to 2^-{worst_bits} relative (tolerance {})",
            tol.describe()
        )),
    )
}

fn run_b3(cfg: &Config) -> Findings {
    let prec = cfg.prec;
    let dm = cfg.sym_d_max;
    let mut f = Findings::default();
    // det > 0 iff all λ > 0; monotone in each λ_i with weight det/λ_i.
    let mut zero_eig = Mat::scalar(3, &Float::with_val(prec, 2));
    *zero_eig.at_mut(2, 2) = Float::new(prec);
    let z = det(&zero_eig);
    f.propositions.push(
        Proposition::new(Role::AsWritten, "det Σ > 0 needs every λ_i > 0, and det grows in each λ_i with weight ∂det/∂λ_i = det Σ/λ_i (largest for the smallest eigenvalue)", r"\det\Sigma=\prod_i\lambda_i,\qquad \frac{\partial\det\Sigma}{\partial\lambda_i}=\frac{\det\Sigma}{\lambda_i},\qquad \nabla_\Sigma\det\Sigma=\det\Sigma\;\Sigma^{-1}")
            .with(sym_check(&format!("∂(Πλ)/∂λ_i = Πλ/λ_i, d ≤ {dm}"), Method::Symbolic { scope: Scope::AllD { via: "product rule on Π_i λ_i".into() } }, sym_job!(symbolic::product_derivative(dm, false))))
            .with(gradient_check(cfg, Gradient::Det))
            .with(checked("one zero eigenvalue zeroes det whatever the others", Method::Numeric { prec, cases: 1, seed: None }, if z.is_zero() { Ok("det diag(2, 2, 0) = 0".into()) } else { Err(format!("det = {z}")) })),
    );
    f.propositions.push(
        Proposition::new(Role::Precise, "for the coding rate the weight is bounded: ∂ log det(I+αΣ)/∂λ_i = α/(1+αλ_i) ∈ (0, α]", r"\nabla_\Sigma\log\det(I+\alpha\Sigma)=\alpha(I+\alpha\Sigma)^{-1},\quad \text{eigen-weights } \tfrac{\alpha}{1+\alpha\lambda_i}\le\alpha")
            .with(gradient_check(cfg, Gradient::LogDetShift)),
    );
    for (name, g, what) in [
        (
            "drops_det_factor",
            Gradient::DetNoFactor,
            "∇ det Σ = Σ⁻¹ (the factor det Σ dropped)",
        ),
        (
            "weights_lambda",
            Gradient::DetWeightsLambda,
            "∇ det Σ = det Σ · Σ (weights λ_i, favouring large eigenvalues)",
        ),
        (
            "drops_alpha",
            Gradient::LogDetShiftNoAlpha,
            "∇ log det(I+αΣ) = (I+αΣ)⁻¹ (α dropped)",
        ),
    ] {
        let mut checks = vec![gradient_check(cfg, g)];
        if g == Gradient::DetWeightsLambda {
            checks.push(sym_check(
                &format!("∂(Πλ)/∂λ_i = Πλ·λ_i, d ≤ {dm}"),
                Method::Symbolic {
                    scope: Scope::Exact,
                },
                sym_job!(symbolic::product_derivative(dm, true)),
            ));
        }
        f.mutants.push(Mutant {
            name: name.into(),
            description: what.into(),
            checks,
        });
    }
    f.step("$\\det\\Sigma=\\prod_i\\lambda_i$ vanishes as soon as one eigenvalue does, so a positive determinant needs variance in every eigendirection.", None);
    f.step("By the product rule (symbolica, $d\\le6$) $\\partial\\det/\\partial\\lambda_i=\\det\\Sigma/\\lambda_i$: the pull on an eigenvalue grows as it shrinks. In matrix form (Jacobi's formula) $\\nabla_\\Sigma\\det\\Sigma=\\det\\Sigma\\,\\Sigma^{-1}$, checked entrywise against 256-bit finite differences.", None);
    f.step("The coding rate weights eigenvalue $i$ by $\\alpha/(1+\\alpha\\lambda_i)$: still largest for the smallest eigenvalue, but bounded by $\\alpha$, never the unbounded $1/\\lambda_i$ of $\\det$ or $\\log\\det\\Sigma$.", None);
    f
}

// ---------------------------------------------------------------------------------------------
// B4: Hadamard
// ---------------------------------------------------------------------------------------------

fn claim_b4() -> Claim {
    Claim {
        id: "det_le_prod_diag_of_psd",
        label: "B4",
        family: "isotropy",
        title: "log det decorrelates at fixed variances (Hadamard's inequality)",
        quote: "$\\log\\det$ is a single global measure of entropy (volume) that inherently couples variance preservation and decorrelation … automatically decorrelates the dimensions without needing an explicit off-diagonal penalty.",
        place: "Why does the coding-rate regularizer also decorrelate?, item 4, and the closing paragraph",
        statement: r"\Sigma\succeq0:\ \det\Sigma\le\prod_j\Sigma_{jj},\ \text{equality}\iff\Sigma\text{ diagonal (for }\Sigma_{jj}>0)",
        nature: Nature::Mathematical,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hadamard {
    Theorem,
    /// Mutant: `det Σ ≥ Π Σ_jj`.
    Reversed,
    /// Mutant: `det Σ ≤ (Π Σ_jj)²`.
    Squared,
}

fn hadamard_property(cfg: &Config, v: Hadamard, cases: usize) -> Check {
    let prec = cfg.prec;
    let seed = cfg.seed ^ 0xb4;
    let alpha = Float::with_val(prec, 5);
    let test = |sigma: &Mat, d: usize| -> Result<(), String> {
        let dt = det(sigma);
        let mut prod = Float::with_val(prec, 1);
        let mut shifted = Float::new(prec);
        for j in 0..d {
            prod *= sigma.at(j, j);
            shifted +=
                Float::with_val(prec, Float::with_val(prec, &alpha * sigma.at(j, j)) + 1u32).ln();
        }
        let tol = Tol::linalg(prec, d, 20);
        let slack = Float::with_val(prec, prod.clone().abs() + 1u32) >> tol.bits;
        let ok = match v {
            Hadamard::Theorem => {
                let l = sigma
                    .identity_plus(&alpha)
                    .and_then(|m| m.logdet_spd())
                    .map_err(|e| e.to_string())?;
                Float::with_val(prec, &dt - &slack) <= prod
                    && Float::with_val(prec, &l - &slack) <= shifted
            }
            Hadamard::Reversed => Float::with_val(prec, &dt + &slack) >= prod,
            Hadamard::Squared => {
                Float::with_val(prec, &dt - &slack) <= Float::with_val(prec, prod.square_ref())
            }
        };
        if ok {
            Ok(())
        } else {
            Err(format!("det Σ = {:.6e}, Π Σ_jj = {:.6e}", dt, prod))
        }
    };
    let run = for_all::<Recipe, _>(seed, 8, cases, |r| test(&r.realize(prec).0, r.d));
    if !run.passed() {
        return run.to_check("random PSD Σ, diagonal Σ and D + εH", prec, String::new());
    }
    let mut s = Sampler::new(seed, prec);
    for d in 2..=6 {
        let dg: Vec<Float> = (0..d)
            .map(|_| s.uniform() * 2u32 + Float::with_val(prec, 1) / 10u32)
            .collect();
        let diag = Mat::diag(&dg, prec);
        let mut h = traceless_direction(&mut s, d);
        for i in 0..d {
            *h.at_mut(i, i) = Float::new(prec);
        }
        let near = diag
            .add(&h.scale(&(Float::with_val(prec, 1) >> 40u32)))
            .expect("square");
        for (what, m) in [("diagonal", &diag), ("D + 2⁻⁴⁰H", &near)] {
            if let Err(e) = test(m, d) {
                return Check::new(
                    "random PSD Σ, diagonal Σ and D + εH",
                    Method::Numeric {
                        prec,
                        cases: run.cases,
                        seed: Some(seed),
                    },
                    Outcome::Fails(format!("{what}, d = {d}: {e}")),
                );
            }
        }
        if v == Hadamard::Theorem {
            let gap = Float::with_val(
                prec,
                dg.iter().fold(Float::with_val(prec, 1), |a, x| a * x) - det(&near),
            );
            if gap <= 0 {
                return Check::new(
                    "random PSD Σ, diagonal Σ and D + εH",
                    Method::Numeric {
                        prec,
                        cases: run.cases,
                        seed: Some(seed),
                    },
                    Outcome::Fails(format!("no positive gap at D + 2⁻⁴⁰H, d = {d}")),
                );
            }
        }
    }
    Check::new(
        "random PSD Σ, diagonal Σ and D + εH",
        Method::Numeric {
            prec,
            cases: run.cases + 10,
            seed: Some(seed),
        },
        Outcome::Holds(format!(
            "{} random PSD Σ (d ≤ 8), α = 5 for the shifted form; equality on diagonal Σ, a positive gap at D + 2⁻⁴⁰H (H off-diagonal)",
            run.cases
        )),
    )
}

/// Equality holds at every diagonal `Σ`, not only at `cI`.
fn equality_at_non_isotropic_diagonal(prec: u32, claim_only_isotropic: bool) -> Check {
    let m = Mat::diag(&[Float::with_val(prec, 1), Float::with_val(prec, 2)], prec);
    let eq = det(&m) == 2;
    let detail = "Σ = diag(1, 2): det Σ = 2 = Π Σ_jj".to_string();
    let holds = eq != claim_only_isotropic;
    Check::new(
        "equality at a non-isotropic diagonal Σ",
        Method::Numeric {
            prec,
            cases: 1,
            seed: None,
        },
        if holds {
            Outcome::Holds(detail)
        } else {
            Outcome::Fails(format!("{detail}: equality without Σ ∝ I"))
        },
    )
}

fn run_b4(cfg: &Config) -> Findings {
    let prec = cfg.prec;
    let mut f = Findings::default();
    let scaling = sym_check(
        "det(DCD) = det(D)² det C, symbolic, d ≤ 4",
        Method::Symbolic {
            scope: Scope::UpToD { d_max: 4 },
        },
        sym_job!(symbolic::hadamard_scaling(4)),
    );
    let amgm = sym_check(
        "AM–GM as sums of squares, d = 2, 3",
        Method::Symbolic {
            scope: Scope::UpToD { d_max: 3 },
        },
        sym_job!(symbolic::am_gm_sos(false)),
    );
    let all_d = Check::new(
        "for every d",
        Method::Symbolic {
            scope: Scope::AllD {
                via: "AM–GM (B1) on the correlation matrix C = D^{-1/2}ΣD^{-1/2}, tr C = d".into(),
            },
        },
        match (&scaling.outcome, &amgm.outcome) {
            (Outcome::Holds(_), Outcome::Holds(_)) => {
                Outcome::Holds("det Σ = det C · Π Σ_jj and det C ≤ (tr C/d)^d = 1".into())
            }
            (Outcome::Fails(w), _) | (_, Outcome::Fails(w)) => Outcome::Fails(w.clone()),
            (Outcome::NotRun(w), _) | (_, Outcome::NotRun(w)) => Outcome::NotRun(w.clone()),
        },
    );
    f.propositions.push(
        Proposition::new(Role::AsWritten, "at fixed variances (diagonal), log det Σ and log det(I+αΣ) are largest exactly when the off-diagonals vanish", r"\det\Sigma\le\prod_j\Sigma_{jj},\quad \log\det(I+\alpha\Sigma)\le\sum_j\log(1+\alpha\Sigma_{jj}),\quad\text{equality}\iff\Sigma\text{ diagonal}")
            .with(sym_check("d = 2: Σ11Σ22 − det Σ = Σ12²", Method::Symbolic { scope: Scope::UpToD { d_max: 2 } }, sym_job!(symbolic::hadamard_d2(false))))
            .with(all_d)
            .with(scaling)
            .with(amgm)
            .with(hadamard_property(cfg, Hadamard::Theorem, cfg.cases))
            .with(equality_at_non_isotropic_diagonal(prec, false)),
    );
    f.mutants.push(Mutant {
        name: "reversed".into(),
        description: "det Σ ≥ Π Σ_jj".into(),
        checks: vec![
            sym_check(
                "d = 2: Σ11Σ22 − det Σ = −Σ12²",
                Method::Symbolic {
                    scope: Scope::Exact,
                },
                sym_job!(symbolic::hadamard_d2(true)),
            ),
            hadamard_property(cfg, Hadamard::Reversed, cfg.cases),
        ],
    });
    f.mutants.push(Mutant {
        name: "squared_product".into(),
        description: "det Σ ≤ (Π Σ_jj)² (false when the variances are small)".into(),
        checks: vec![hadamard_property(cfg, Hadamard::Squared, cfg.cases)],
    });
    f.mutants.push(Mutant {
        name: "equality_only_isotropic".into(),
        description: "equality only at Σ ∝ I".into(),
        checks: vec![equality_at_non_isotropic_diagonal(prec, true)],
    });
    f.step("Let $D=\\mathrm{diag}(\\Sigma_{11},\\dots,\\Sigma_{dd})$ (all $>0$; otherwise $\\det\\Sigma=0$ and the inequality is trivial) and $C=D^{-1/2}\\Sigma D^{-1/2}$, the correlation matrix: PSD with unit diagonal, so $\\mathrm{tr}\\,C=d$.", None);
    f.step("$\\det\\Sigma=\\det C\\prod_j\\Sigma_{jj}$ (checked symbolically for $d\\le4$ as $\\det(DCD)=\\det(D)^2\\det C$), and by AM–GM (B1) $\\det C\\le(\\mathrm{tr}\\,C/d)^d=1$, with equality iff $C=I$, i.e. $\\Sigma$ diagonal:", Some(r"\det\Sigma = \det C\,\prod_j\Sigma_{jj} \le \prod_j\Sigma_{jj}".into()));
    f.step("Applied to $I+\\alpha\\Sigma$ (diagonal $1+\\alpha\\Sigma_{jj}$) this is the coding-rate version. So at fixed variances the log-det is maximised exactly by decorrelated features: the notes' claim holds, and the equality case is *any* diagonal $\\Sigma$, not only $cI$.", None);
    f
}

// ---------------------------------------------------------------------------------------------
// B5
// ---------------------------------------------------------------------------------------------

fn claim_b5() -> Claim {
    Claim {
        id: "full_rank_of_diagonal_of_pos_diag",
        label: "B5",
        family: "isotropy",
        title: "Zero off-diagonal covariance ensures full rank",
        quote: "Decorrelation drives $\\Sigma_{ij}\\to 0$ for $i\\neq j$, ensuring the learned features span the full $d$-dimensional subspace rather than collapse onto a lower-dimensional manifold.",
        place: "Decorrelation",
        statement: r"\Sigma_{ij}=0\ (i\ne j)\ \Longrightarrow\ \mathrm{rank}\,\Sigma=d",
        nature: Nature::Mathematical,
    }
}

/// The rank property over diagonal matrices built from recipes' spectra (zeros allowed).
/// `require_positive_diag`: the corrected hypothesis. `trace_only`: the mutant hypothesis `tr Σ > 0`.
fn diagonal_full_rank_property(
    cfg: &Config,
    require_positive_diag: bool,
    trace_only: bool,
) -> Check {
    let prec = cfg.prec;
    let seed = cfg.seed ^ 0xb5;
    let run = for_all::<Recipe, _>(seed, 8, cfg.cases, |r| {
        let spec = r.spectrum_values(prec);
        let sigma = Mat::diag(&spec, prec);
        let all_pos = spec.iter().all(|x| *x > 0);
        let trace_pos = sum(&spec, prec) > 0;
        let hyp = if require_positive_diag {
            all_pos
        } else if trace_only {
            trace_pos
        } else {
            true
        };
        if !hyp {
            return Ok(());
        }
        let full_rank = !det(&sigma).is_zero();
        if full_rank {
            Ok(())
        } else {
            Err(format!(
                "diagonal Σ = diag({}) has zero off-diagonals but det 0",
                spec.iter()
                    .map(|x| format!("{:.3}", x))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    });
    run.to_check(
        "diagonal Σ from random recipes, shrunk to the smallest counterexample",
        prec,
        format!(
            "{} diagonal Σ from random recipes (d ≤ 8, zero variances included)",
            run.cases
        ),
    )
}

fn run_b5(cfg: &Config) -> Findings {
    let prec = cfg.prec;
    let mut f = Findings::default();
    f.propositions.push(
        Proposition::new(
            Role::AsWritten,
            "zero off-diagonal covariance implies full rank",
            r"\Sigma_{ij}=0\ \forall i\ne j \Rightarrow \mathrm{rank}\,\Sigma = d",
        )
        .with(diagonal_full_rank_property(cfg, false, false)),
    );
    // Converse direction is false too (full rank does not need decorrelation): a report, not a mutant.
    let pd = Recipe {
        d: 3,
        seed: 5,
        spectrum: Spectrum::Spread,
        top: 0,
    }
    .realize(prec)
    .0;
    let off = vicreg::off_diagonal_sq(&pd);
    f.propositions.push(
        Proposition::new(Role::Corrected, "a diagonal Σ has full rank iff every variance Σ_jj > 0: decorrelation plus non-zero variance in every dimension", r"\Sigma=\mathrm{diag}(\sigma_1^2,\dots,\sigma_d^2):\ \mathrm{rank}\,\Sigma=d\iff\sigma_j^2>0\ \forall j")
            .with(diagonal_full_rank_property(cfg, true, false)),
    );
    f.propositions.push(
        Proposition::new(Role::Precise, "and decorrelation is not needed for full rank: a correlated Σ can be positive definite", r"\Sigma\succ0\not\Rightarrow\Sigma\text{ diagonal}")
            .with(checked("a random positive definite 3×3 Σ", Method::Numeric { prec, cases: 1, seed: Some(5) }, if off > 0 && det(&pd) > 0 { Ok(format!("det Σ = {:.4} > 0 with Σ_(i≠j) Σ_ij² = {:.4}", det(&pd), off)) } else { Err("diagonal or singular".into()) })),
    );
    f.mutants.push(Mutant {
        name: "trace_suffices".into(),
        description: "a diagonal Σ with tr Σ > 0 has full rank".into(),
        checks: vec![diagonal_full_rank_property(cfg, false, true)],
    });
    f.mutants.push(Mutant {
        name: "full_rank_needs_decorrelation".into(),
        description: "full rank implies zero off-diagonals".into(),
        checks: vec![checked(
            "a random positive definite 3×3 Σ",
            Method::Numeric {
                prec,
                cases: 1,
                seed: Some(5),
            },
            if off > 0 && det(&pd) > 0 {
                Err(format!(
                    "det Σ = {:.4} > 0 but Σ_(i≠j) Σ_ij² = {:.4}",
                    det(&pd),
                    off
                ))
            } else {
                Ok("no counterexample".into())
            },
        )],
    });
    f.step("Counterexample (the property runner shrinks a random failing recipe to it): $\\Sigma=\\mathrm{diag}(1,0)$ has no off-diagonal entries at all, yet rank 1. Decorrelation removes *linear dependence between* coordinates; it says nothing about a coordinate that carries no variance.", None);
    f.step("Corrected: a diagonal $\\Sigma$ has $\\det\\Sigma=\\prod_j\\Sigma_{jj}$, so it has full rank exactly when every variance is positive. That is why VICReg pairs its covariance term with a variance term, and why the notes' own item 3 lists de-centering (variance in every dimension) *and* de-correlation.", None);
    f
}

// ---------------------------------------------------------------------------------------------
// B6: volumes
// ---------------------------------------------------------------------------------------------

fn claim_b6() -> Claim {
    Claim {
        id: "ellipsoid_volume_eq_ball_volume_mul_sqrt_det",
        label: "B6",
        family: "isotropy",
        title: "det Σ is the squared volume of the ellipsoid of Σ",
        quote: "Determinant ∝ volume: $\\det(\\Sigma)$ equals the squared volume of the ellipsoid defined by $\\Sigma$; the term $\\log\\det(I+\\alpha\\Sigma)$ thus measures the log-volume of the representation cloud.",
        place: "Why does the coding-rate regularizer also decorrelate?, item 1",
        statement: r"\det\Sigma \overset{?}{=} \mathrm{vol}\{x: x^\top\Sigma^{-1}x\le1\}^2",
        nature: Nature::Mathematical,
    }
}

/// `V_d = π^{d/2} / Γ(d/2 + 1)`; `wrong_gamma` is the mutant `π^{d/2}/Γ(d/2)`.
fn ball_volume(d: u32, prec: u32, wrong_gamma: bool) -> Float {
    let pi = Float::with_val(prec, rug::float::Constant::Pi);
    let half_d = Float::with_val(prec, d) / 2u32;
    let g = if wrong_gamma {
        half_d.clone().gamma()
    } else {
        Float::with_val(prec, &half_d + 1u32).gamma()
    };
    pi.pow(half_d) / g
}

/// Monte Carlo estimate of the ellipsoid volume in a bounding box, `n` points, with a Wilson
/// interval at `level`. Deterministic: uniforms from ChaCha20 bits, no libm.
fn mc_volume(spectrum: &[f64], rot_seed: u64, n: u64, seed: u64, level: f64) -> (f64, f64, f64) {
    let d = spectrum.len();
    // Σ = Q Λ Qᵀ; x inside iff Σ_i (q_iᵀ x)²/λ_i ≤ 1. Bounding box [−√λmax, √λmax]^d.
    let q = Sampler::new(rot_seed, 128).orthogonal(d).to_f64();
    let r = spectrum.iter().cloned().fold(0.0, f64::max).sqrt();
    let mut s = Sampler::new(seed, 64);
    let mut inside = 0u64;
    let mut x = vec![0.0; d];
    for _ in 0..n {
        for xi in x.iter_mut() {
            let u = (s.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
            *xi = (2.0 * u - 1.0) * r;
        }
        let mut quad = 0.0;
        for (i, lam) in spectrum.iter().enumerate() {
            let mut c = 0.0;
            for k in 0..d {
                c += q[k * d + i] * x[k];
            }
            quad += c * c / lam;
        }
        if quad <= 1.0 {
            inside += 1;
        }
    }
    let box_vol = (2.0 * r).powi(d as i32);
    let (lo, hi) = wilson_interval(inside, n, level);
    (
        inside as f64 / n as f64 * box_vol,
        lo * box_vol,
        hi * box_vol,
    )
}

/// The formula `vol = c(d) · det^power` against Monte Carlo, for d = 2, 3, 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum VolumeFormula {
    /// `V_d √det Σ`.
    Theorem,
    /// As written: `vol² = det Σ`, i.e. `vol = √det Σ`.
    AsWritten,
    /// Mutant: `π^{d/2}/Γ(d/2) · √det Σ`.
    WrongGamma,
    /// Mutant: `V_d det Σ` (no square root).
    NoSqrt,
}

const MC_LEVEL: f64 = 0.999;
const MC_N: u64 = 400_000;
const MC_SEED: u64 = 0xb6;

fn volume_check(v: VolumeFormula) -> Check {
    let prec = 128;
    let cases: [&[f64]; 3] = [&[4.0, 0.25], &[2.0, 1.0, 0.5], &[3.0, 1.5, 1.0, 0.2]];
    let mut lines = Vec::new();
    for (k, spec) in cases.iter().enumerate() {
        let d = spec.len() as u32;
        let det: f64 = spec.iter().product();
        let vd = ball_volume(d, prec, v == VolumeFormula::WrongGamma).to_f64();
        let formula = match v {
            VolumeFormula::Theorem | VolumeFormula::WrongGamma => vd * det.sqrt(),
            VolumeFormula::AsWritten => det.sqrt(),
            VolumeFormula::NoSqrt => ball_volume(d, prec, false).to_f64() * det,
        };
        let (est, lo, hi) = mc_volume(spec, 0x0e11 + k as u64, MC_N, MC_SEED + k as u64, MC_LEVEL);
        let line = format!(
            "d = {d}, λ = {spec:?}: formula {formula:.5}, Monte Carlo {est:.5} ∈ [{lo:.5}, {hi:.5}]"
        );
        if formula < lo || formula > hi {
            return Check::new(
                "Monte Carlo volume, 99.9% Wilson interval",
                Method::Statistical {
                    level: MC_LEVEL,
                    seed: MC_SEED,
                },
                Outcome::Fails(line),
            );
        }
        lines.push(line);
    }
    Check::new(
        "Monte Carlo volume, 99.9% Wilson interval",
        Method::Statistical {
            level: MC_LEVEL,
            seed: MC_SEED,
        },
        Outcome::Holds(format!("{} points each: {}", MC_N, lines.join("; "))),
    )
}

fn run_b6(_cfg: &Config) -> Findings {
    let prec = 256;
    let mut f = Findings::default();
    // V_d against its closed forms: V_1 = 2, V_2 = π, V_3 = 4π/3 (an independent route).
    let pi = Float::with_val(prec, rug::float::Constant::Pi);
    let known = [
        (1u32, Float::with_val(prec, 2)),
        (2, pi.clone()),
        (3, Float::with_val(prec, &pi * 4u32) / 3u32),
    ];
    let vd_ok = known.iter().all(|(d, v)| {
        Tol::scalar(prec).accepts(&Float::with_val(prec, ball_volume(*d, prec, false) - v), v)
    });
    let vd_check = checked(
        "V_d = π^{d/2}/Γ(d/2+1) against V₁ = 2, V₂ = π, V₃ = 4π/3",
        Method::Numeric {
            prec,
            cases: 3,
            seed: None,
        },
        if vd_ok {
            Ok("agree to working precision".into())
        } else {
            Err("V_d disagrees with a closed form".into())
        },
    );
    f.propositions.push(
        Proposition::new(
            Role::AsWritten,
            "det Σ equals the squared volume of {x : xᵀΣ⁻¹x ≤ 1}",
            r"\mathrm{vol}(E_\Sigma)^2 = \det\Sigma",
        )
        .with(volume_check(VolumeFormula::AsWritten)),
    );
    f.propositions.push(
        Proposition::new(Role::Corrected, "vol{x : xᵀΣ⁻¹x ≤ 1} = V_d √det Σ, V_d = π^{d/2}/Γ(d/2+1): det Σ = (vol/V_d)², and log det(I+αΣ) = 2 log vol(E_{I+αΣ}) − 2 log V_d", r"\mathrm{vol}(E_\Sigma)=\frac{\pi^{d/2}}{\Gamma(d/2+1)}\sqrt{\det\Sigma},\qquad \log\det(I+\alpha\Sigma)=2\log\frac{\mathrm{vol}(E_{I+\alpha\Sigma})}{V_d}")
            .with(volume_check(VolumeFormula::Theorem))
            .with(vd_check),
    );
    f.mutants.push(Mutant {
        name: "wrong_gamma".into(),
        description: "V_d = π^{d/2}/Γ(d/2) (the +1 dropped)".into(),
        checks: vec![volume_check(VolumeFormula::WrongGamma)],
    });
    f.mutants.push(Mutant {
        name: "no_square_root".into(),
        description: "vol = V_d det Σ".into(),
        checks: vec![volume_check(VolumeFormula::NoSqrt)],
    });
    f.step("$E_\\Sigma=\\{x:x^\\top\\Sigma^{-1}x\\le1\\}=\\Sigma^{1/2}B_d$, the image of the unit ball under $\\Sigma^{1/2}$; volumes scale by $|\\det\\Sigma^{1/2}|=\\sqrt{\\det\\Sigma}$:", Some(r"\mathrm{vol}(E_\Sigma)=\sqrt{\det\Sigma}\;\mathrm{vol}(B_d)=\frac{\pi^{d/2}}{\Gamma(d/2+1)}\sqrt{\det\Sigma}".into()));
    f.step("So $\\det\\Sigma=(\\mathrm{vol}/V_d)^2$: proportional to the squared volume, never equal to it ($V_1=2$, $V_2=\\pi$, $V_3=4\\pi/3$, …, $V_d\\to0$). The Monte Carlo estimates (400 000 points per case, 99.9% Wilson intervals from statrs' normal quantile, fixed seeds) contain $V_d\\sqrt{\\det\\Sigma}$ and exclude $\\sqrt{\\det\\Sigma}$.", None);
    f.step("$\\log\\det(I+\\alpha\\Sigma)$ is (twice) the log-volume of the ellipsoid of $I+\\alpha\\Sigma$, not of $\\Sigma$, up to the constant $2\\log V_d$: the $I$ keeps it finite when the cloud is flat.", None);
    f
}

// ---------------------------------------------------------------------------------------------
// B7
// ---------------------------------------------------------------------------------------------

fn claim_b7() -> Claim {
    Claim {
        id: "isotropic_optimisers_of_the_losses",
        label: "B7",
        family: "isotropy",
        title: "Keep the covariance full-rank and (ideally) isotropic",
        quote: "all successful negative-free SSL methods boil down to \"align your positives\" and \"keep your covariance full-rank and (ideally) isotropic.\"",
        place: "Take-home",
        statement: r"\text{the regularisers of the notes are optimised by } \Sigma = cI",
        nature: Nature::Interpretive,
    }
}

/// VICReg's variance + covariance terms at a batch with covariance exactly `diag(vars)` under the
/// `1/(B−1)` convention (B = 2d rows `±√(v_j(B−1)/2) e_j`).
fn vicreg_at_diag(vars: &[Float]) -> Float {
    let prec = vars[0].prec();
    let d = vars.len();
    let b = 2 * d;
    let z = Mat::from_fn(b, d, prec, |i, j| {
        if i / 2 == j {
            let t = Float::with_val(prec, &vars[j] * (b as u64 - 1)) / 2u32;
            let t = t.sqrt();
            if i % 2 == 0 { t } else { -t }
        } else {
            Float::new(prec)
        }
    });
    let one = Float::with_val(prec, 1);
    vicreg::variance_term(&z, &one, &vicreg::default_eps(prec)).expect("valid")
        + vicreg::covariance_term(&z).expect("valid")
}

fn run_b7(cfg: &Config) -> Findings {
    let prec = cfg.prec;
    let mut f = Findings::default();
    let v = |xs: &[u32]| {
        xs.iter()
            .map(|&x| Float::with_val(prec, x))
            .collect::<Vec<_>>()
    };
    let (iso1, iso4, aniso) = (
        vicreg_at_diag(&v(&[1, 1, 1])),
        vicreg_at_diag(&v(&[4, 4, 4])),
        vicreg_at_diag(&v(&[1, 4, 9])),
    );
    let all_zero = iso1.is_zero() && iso4.is_zero() && aniso.is_zero();
    f.propositions.push(
        Proposition::new(Role::Precise, "VICReg (variance + covariance): minimised (value 0) by every diagonal C with variances ≥ 1 − 10⁻⁴: isotropic cI for any c ≥ 1 − 10⁻⁴, and anisotropic diag(1, 4, 9) alike", r"v+c=0\iff C\text{ diagonal},\ C_{jj}\ge1-10^{-4}")
            .with(checked("batches with C = I, 4I, diag(1,4,9)", Method::Numeric { prec, cases: 3, seed: None }, if all_zero { Ok("v + c = 0 at all three".into()) } else { Err(format!("{iso1:.3e}, {iso4:.3e}, {aniso:.3e}")) })),
    );
    f.propositions.push(
        Proposition::new(Role::Precise, "coding rate R_ε at fixed trace T: unique maximiser (T/d)I; unconstrained: no maximiser", r"\arg\max_{\mathrm{tr}\Sigma=T}R_\varepsilon=\tfrac TdI")
            .with(am_gm_property(cfg, AmGm::LogDetShift, cfg.cases / 4)),
    );
    // CorInfoMax: −(1/d) log det(R + εI): decreasing along tR, so no minimiser without a scale.
    let cim = |t: u32| {
        let m = Mat::scalar(3, &Float::with_val(prec, t));
        let eps = Float::with_val(prec, 1) >> 20u32;
        -m.add(&Mat::scalar(3, &eps))
            .and_then(|x| x.logdet_spd())
            .expect("SPD")
            / 3u32
    };
    let decreasing = cim(1) > cim(100) && cim(100) > cim(10_000);
    f.propositions.push(
        Proposition::new(Role::Precise, "CorInfoMax's −(1/d) log det(R + εI): no minimiser without a scale constraint (it decreases along tI); at fixed trace its minimiser is isotropic (B1)", r"-\tfrac1d\log\det(tI+\varepsilon I)\downarrow-\infty")
            .with(checked("R = tI, t = 1, 10², 10⁴", Method::Numeric { prec, cases: 3, seed: None }, if decreasing { Ok(format!("{:.4}, {:.4}, {:.4}", cim(1), cim(100), cim(10_000))) } else { Err("not decreasing".into()) }))
            .with(am_gm_property(cfg, AmGm::Det, cfg.cases / 4)),
    );
    f.mutants.push(Mutant {
        name: "vicreg_optimum_isotropic_only".into(),
        description:
            "VICReg's variance + covariance terms are minimised only by isotropic covariances"
                .into(),
        checks: vec![checked(
            "batch with C = diag(1, 4, 9)",
            Method::Numeric {
                prec,
                cases: 1,
                seed: None,
            },
            if aniso.is_zero() {
                Err("the anisotropic diag(1, 4, 9) also gives v + c = 0".into())
            } else {
                Ok("positive".into())
            },
        )],
    });
    f.mutants.push(Mutant {
        name: "rate_maximised_at_rank_one".into(),
        description: "at fixed trace the coding rate is maximised by a rank-one Σ".into(),
        checks: vec![isotropic_vs_rank_one(prec, true)],
    });
    f.step(
        "The take-home is a summary, not a statement with a truth value. Behind it, loss by loss:",
        None,
    );
    f.step("**Coding rate** (MCR², SimDINO, EMP-SSL): with unit-norm features the uncentred second moment has $\\mathrm{tr}\\,\\Sigma=1$, and the unique maximiser is $I/d$ (B1, B2): isotropic, at scale $1/d$. **CorInfoMax**: the same once the scale is fixed (its `--normalize_on` option); without it the log-det term has no optimum.", None);
    f.step("**VICReg**: its variance and covariance terms vanish on a whole set, every diagonal covariance with variances $\\ge1-10^{-4}$: decorrelated and full rank, but not necessarily isotropic. Its second-order surrogate (A4) is the one with a unique isotropic optimum, $I/\\alpha$.", None);
    f.step("**SimSiam** and **InfoNCE** have no covariance term; InfoNCE's uniformity optimum on the sphere (the uniform distribution) has covariance $I/d$, a statement about the population, outside what this claim's checks cover.", None);
    f
}
