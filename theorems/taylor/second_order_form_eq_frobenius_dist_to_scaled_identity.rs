//! # A4: VICReg's terms and whitening
//!
//! ## Main statements
//! * `second_order_form_eq_frobenius_dist_to_scaled_identity`: the second-order form is a squared
//!   Frobenius distance to `α⁻¹I`, `Q(Σ) = (α²/2)‖Σ − α⁻¹I‖²_F − d/2`, uniquely minimised at
//!   `α⁻¹I`; VICReg's actual variance + covariance terms vanish exactly on the diagonal
//!   covariances with every variance `≥ 1 − 10⁻⁴` — a set, not a whitened point — so the notes'
//!   reading ("VICReg's terms correspond directly to whitening") is contradicted for the loss it
//!   names.
//!
//! ## Notation
//! `Q(Σ) = −α tr Σ + (α²/2) tr Σ²`; `v(Z) + c(Z)`: VICReg's variance and covariance terms of one
//! branch as in the official code (`C = Z_cᵀZ_c/(B−1)`).
//!
//! ## Implementation notes
//! The Frobenius identity is checked with fully symbolic `Σ` up to `d = sym_d_max` and in the
//! invariants `p₁, p₂, d` with the dimension a symbol; the step between the two (trace linear,
//! `tr I = d`) is cited. VICReg's zero set is checked as an "iff" on random diagonal and
//! non-diagonal covariances, the boundary included.
//!
//! ## References
//! Bardes, Ponce, LeCun (2022), VICReg; `../shared/reference-implementations.md` §1.1.
//!
//! ## Source
//! `../shared/notes.md`, *A unified framework*, item 6 (Practical consequences).

use rug::Float;
use sslproof::hp::batch_with_diagonal_covariance;
use sslproof::prelude::*;
use sslproof_losses::vicreg;

/// The claim.
pub const CLAIM: Claim = Claim {
    id: "second_order_form_eq_frobenius_dist_to_scaled_identity",
    label: "A4",
    family: "taylor",
    title: "VICReg's terms and whitening",
    quote: "Interpretability: VICReg's variance/covariance terms correspond directly to whitening",
    place: "A unified framework for covariance-regularized SSL, item 6 (Practical consequences)",
    statement: r"\text{VICReg's variance/covariance terms} \;\leftrightarrow\; \text{whitening } (\Sigma \to cI)",
    nature: Nature::Interpretive,
    expected: Class::InterpretationContradicted,
};

/// `Q = −α p₁ + (α²/2) p₂`.
fn q<S: Scalar>(a: &S, p1: &S, p2: &S) -> S {
    a.mul(p1).neg().add(&a.mul(a).mul(p2).times(1, 2))
}

/// Candidates for `Q(Σ) = factor·α²‖Σ − c I‖_F² + k`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Whitening {
    /// The centre is `α⁻¹I` (else `I`).
    pub centre_inv_alpha: bool,
    /// The constant `−d/2` is kept.
    pub keep_constant: bool,
    /// The factor on `α²`, `num/den`.
    pub factor: (i64, i64),
}

const WHITENING: Whitening = Whitening {
    centre_inv_alpha: true,
    keep_constant: true,
    factor: (1, 2),
};

impl Whitening {
    fn eval_hp(self, sigma: &Mat, a: &Float) -> Float {
        let prec = sigma.prec();
        let c = if self.centre_inv_alpha {
            Float::with_val(prec, 1) / a
        } else {
            Float::with_val(prec, 1)
        };
        let d = sigma.rows();
        let diff = sigma.sub(&Mat::scalar(d, &c)).expect("square");
        let mut r = Float::with_val(prec, a.square_ref()) * diff.frobenius_sq() * self.factor.0
            / self.factor.1;
        if self.keep_constant {
            r -= Float::with_val(prec, d as u64) / 2u32;
        }
        r
    }
}

/// The identity on random PSD `Σ` at `α = 5/2`.
fn whitening_numeric(run: &mut Run, v: &Whitening) -> Result<String, String> {
    let prec = run.prec();
    let cases = run.scaled(300);
    let property = run.for_all::<Recipe, _>(8, cases, |r| {
        let (sigma, _) = r.realize(prec);
        let a = Float::with_val(prec, 5) / 2u32;
        let p = sigma.power_traces(2).map_err(|e| e.to_string())?;
        let qv = q(&a, &p[0], &p[1]);
        let w = v.eval_hp(&sigma, &a);
        let res = Float::with_val(prec, &qv - &w);
        let scale = Float::with_val(prec, qv.clone().abs() + w.clone().abs()) + r.d as u64;
        if !Tol::linalg(prec, r.d, 0).accepts(&res, &scale) {
            return Err(format!("Q − candidate = {res:.3e}"));
        }
        Ok(())
    });
    property.result(|| format!("{} random PSD Σ, d ≤ 8, α = 5/2", property.cases))
}

/// `Q(c·I + H) − Q(c·I) = (α²/2)‖H‖²_F > 0` for random symmetric `H`, with `c = α^(−power)` the
/// claimed minimiser (α = 5/2, d = 4).
fn unique_minimiser(run: &mut Run, power: &i32) -> Result<String, String> {
    let prec = run.prec();
    let a = Float::with_val(prec, 5) / 2u32;
    let d = 4;
    let c = Float::with_val(prec, rug::ops::Pow::pow(&a, -*power));
    let centre = Mat::scalar(d, &c);
    let q_at = |m: &Mat| {
        let p = m.power_traces(2).expect("square");
        q(&a, &p[0], &p[1])
    };
    let q0 = q_at(&centre);
    let mut smp = run.sampler();
    let mut min_gap = Float::with_val(prec, f64::INFINITY);
    let cases = run.scaled(50);
    for _ in 0..cases {
        let g = smp.gaussian(d, d);
        let h = g
            .add(&g.transpose())
            .expect("square")
            .scale(&(Float::with_val(prec, 1) >> 10u32));
        let gap = Float::with_val(prec, q_at(&centre.add(&h).expect("square")) - &q0);
        let expect = Float::with_val(prec, a.square_ref()) / 2u32 * h.frobenius_sq();
        run.count(1);
        if gap <= 0
            || !Tol::linalg(prec, d, 0).accepts(&Float::with_val(prec, &gap - &expect), &expect)
        {
            return Err(format!(
                "at Σ = α^-{power}·I a perturbation changes Q by {gap:.3e}, not (α²/2)‖H‖² = {expect:.3e}"
            ));
        }
        if gap < min_gap {
            min_gap = gap;
        }
    }
    Ok(format!(
        "{cases} random symmetric H: gap = (α²/2)‖H‖² within tolerance; smallest gap {min_gap:.3e}"
    ))
}

/// VICReg's variance + covariance terms of one branch (γ = 1, ε = 10⁻⁴).
fn vicreg_vc(z: &Mat) -> Result<Float, String> {
    let prec = z.prec();
    let one = Float::with_val(prec, 1);
    let v =
        vicreg::variance_term(z, &one, &vicreg::default_eps(prec)).map_err(|e| e.to_string())?;
    let c = vicreg::covariance_term(z).map_err(|e| e.to_string())?;
    Ok(v + c)
}

/// A claimed zero set of VICReg's variance + covariance terms, on covariances `C`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZeroSet {
    /// `C` diagonal with every `C_jj ≥ 1 − 10⁻⁴` (the theorem).
    DiagonalWithFloor,
    /// `C` diagonal with every `C_jj ≥ 1` (the `ε` forgotten).
    DiagonalAtLeastOne,
    /// `C` diagonal, any variances.
    AnyDiagonal,
}

impl ZeroSet {
    fn claims_zero(self, vars: &[Float], diagonal: bool) -> bool {
        let prec = vars[0].prec();
        let floor = match self {
            ZeroSet::DiagonalWithFloor => Float::with_val(prec, 1) - vicreg::default_eps(prec),
            ZeroSet::DiagonalAtLeastOne => Float::with_val(prec, 1),
            ZeroSet::AnyDiagonal => Float::with_val(prec, f64::NEG_INFINITY),
        };
        diagonal && vars.iter().all(|v| *v >= floor)
    }
}

/// "Zero iff …" on random covariances: diagonal ones (batches `±t_j e_j` with exact variances
/// around the floor, some above and some below) and sheared ones (`z_j += s·z_i`, which makes
/// `C_ij = s·C_ii ≠ 0`), plus the boundary `Var = 1 − 10⁻⁴` and `2⁻³⁰` below it. "Zero" means
/// below `2^−(prec−16)` (`10⁻⁴` is not binary: at the boundary `sqrt(Var + ε)` lands within a few
/// ulps of 1).
fn zero_iff(run: &mut Run, set: &ZeroSet) -> Result<String, String> {
    let prec = run.prec();
    let zero = Float::with_val(prec, 1) >> Tol::scalar(prec).bits;
    let floor = Float::with_val(prec, 1) - vicreg::default_eps(prec);
    let mut smp = run.sampler();
    let cases = run.scaled(100);
    let (mut zeros, mut nonzeros) = (0, 0);
    let mut test = |vars: Vec<Float>, shear: Option<(usize, usize, Float)>| -> Result<(), String> {
        let mut z = batch_with_diagonal_covariance(&vars, true);
        let diagonal = shear.is_none();
        if let Some((i, j, s)) = &shear {
            for r in 0..z.rows() {
                let add = Float::with_val(prec, z.at(r, *i) * s);
                *z.at_mut(r, *j) += add;
            }
        }
        // A shear changes C_jj: the claim is about the covariance the batch has.
        let cov_diag: Vec<Float> = match &shear {
            None => vars.clone(),
            Some((i, j, s)) => {
                let mut v = vars.clone();
                v[*j] = Float::with_val(prec, &vars[*j] + Float::with_val(prec, s * s) * &vars[*i]);
                v
            }
        };
        let value = vicreg_vc(&z)?;
        let is_zero = value <= zero;
        if is_zero {
            zeros += 1;
        } else {
            nonzeros += 1;
        }
        if is_zero != set.claims_zero(&cov_diag, diagonal) {
            return Err(format!(
                "C {} with variances ({}): v + c = {value:.3e}, the claimed set says {}",
                if diagonal { "diagonal" } else { "sheared" },
                cov_diag
                    .iter()
                    .map(|x| format!("{x:.6}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if set.claims_zero(&cov_diag, diagonal) {
                    "zero"
                } else {
                    "positive"
                }
            ));
        }
        Ok(())
    };
    let below = Float::with_val(prec, &floor - (Float::with_val(prec, 1) >> 30u32));
    test(vec![floor.clone(), Float::with_val(prec, 2)], None)?;
    test(vec![below, Float::with_val(prec, 2)], None)?;
    for k in 0..cases {
        let d = 2 + k % 4;
        let vars: Vec<Float> = (0..d)
            .map(|_| Float::with_val(prec, &floor + (smp.uniform() - 0.2f64)))
            .collect();
        let shear = (k % 3 == 0).then(|| (0, 1, smp.uniform() + 0.1f64));
        test(vars, shear)?;
    }
    run.count(cases + 2);
    Ok(format!(
        "{} covariances (diagonal around the floor, sheared, and the boundary 1 − 10⁻⁴ and 2⁻³⁰ below): {zeros} zero, {nonzeros} positive, each as claimed",
        cases + 2
    ))
}

/// The reading "VICReg's terms are a whitening objective": zero at exactly one scaled identity.
/// `C = I`, `C = 4I` and `C = diag(1, 4, 9)` (B = 6, d = 3).
fn whitening_reading(run: &mut Run) -> Result<String, String> {
    let prec = run.prec();
    let v = |xs: &[u32]| {
        xs.iter()
            .map(|&x| Float::with_val(prec, x))
            .collect::<Vec<_>>()
    };
    let mut zero_at = Vec::new();
    for (name, vars) in [
        ("C = I", v(&[1, 1, 1])),
        ("C = 4I", v(&[4, 4, 4])),
        ("C = diag(1, 4, 9)", v(&[1, 4, 9])),
    ] {
        let value = vicreg_vc(&batch_with_diagonal_covariance(&vars, true))?;
        run.count(1);
        if value.is_zero() {
            zero_at.push(name);
        }
    }
    if zero_at.len() <= 1 {
        Ok(format!("zero only at {zero_at:?}"))
    } else {
        Err(format!(
            "v + c = 0 at {}: the minimisers are a set, not one whitened covariance",
            zero_at.join(", ")
        ))
    }
}

/// `−log det(I+αΣ)` along `Σ = tI` (α = 5/2, d = 4).
fn no_minimiser(run: &mut Run) -> Result<String, String> {
    let prec = run.prec();
    let a = Float::with_val(prec, 5) / 2u32;
    let vals: Vec<Float> = [1u32, 100, 10_000, 1_000_000]
        .iter()
        .map(|&t| {
            let m = Mat::scalar(4, &Float::with_val(prec, t));
            -m.identity_plus(&a)
                .and_then(|x| x.logdet_spd())
                .expect("SPD")
        })
        .collect();
    run.count(vals.len());
    if vals.windows(2).all(|w| w[1] < w[0]) {
        Ok(format!(
            "values {}",
            vals.iter()
                .map(|v| format!("{v:.4}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    } else {
        Err("not decreasing".into())
    }
}

#[cfg(feature = "symbolic")]
mod symbolic {
    use sslproof::scalar::Scalar;
    use sslproof::sym::algebra::{self as alg, Atom, AtomCore, SymMat};

    use super::{Whitening, q};

    fn centre(v: Whitening) -> Atom {
        if v.centre_inv_alpha {
            alg::expr("a^-1")
        } else {
            alg::expr("1")
        }
    }

    /// `Q(Σ) = factor·a²‖Σ − c·I‖_F² + k` for fully symbolic `Σ`, `d = 1..=d_max`.
    pub fn frobenius_identity(v: Whitening, d_max: usize) -> Result<String, String> {
        for d in 1..=d_max {
            let s = SymMat::symmetric(d, "s");
            let a = alg::expr("a");
            let p = s.power_traces(2);
            let c = centre(v);
            let mut fro = alg::expr("0");
            for i in 0..d {
                for j in 0..d {
                    let e = if i == j {
                        s.at(i, j).sub(&c)
                    } else {
                        s.at(i, j).clone()
                    };
                    fro = fro.add(&e.mul(&e));
                }
            }
            let mut rhs = alg::expr("a^2").mul(&fro).times(v.factor.0, v.factor.1);
            if v.keep_constant {
                rhs = rhs.sub(&alg::expr(&format!("{d}/2")));
            }
            let diff = (&q(&a, &p[0], &p[1]) - &rhs).expand();
            if !diff.is_zero() {
                return Err(format!("d = {d}: Q − candidate = {}", alg::plain(&diff)));
            }
        }
        Ok(format!("expands to zero for d = 1…{d_max}"))
    }

    /// With `‖Σ − cI‖²_F = p₂ − 2c p₁ + c² d` (symbols `p1, p2, d`), `Q` equals the candidate.
    pub fn frobenius_identity_invariants(v: Whitening) -> Result<String, String> {
        let (a, p1, p2, d) = (
            alg::expr("a"),
            alg::expr("p1"),
            alg::expr("p2"),
            alg::expr("d"),
        );
        let c = centre(v);
        let fro = p2.sub(&c.mul(&p1).times(2, 1)).add(&c.mul(&c).mul(&d));
        let mut rhs = a.mul(&a).mul(&fro).times(v.factor.0, v.factor.1);
        if v.keep_constant {
            rhs = rhs.sub(&d.times(1, 2));
        }
        let diff = (&q(&a, &p1, &p2) - &rhs).expand();
        if diff.is_zero() {
            Ok("expands to zero in α, p₁, p₂, d".into())
        } else {
            Err(format!("Q − candidate = {}", alg::plain(&diff)))
        }
    }
}

pub fn run(c: &mut ClaimRun) {
    let dm = c.sym_d_max();
    const INVARIANTS: &str = "in the invariants p₁, p₂, d (the dimension a symbol)";
    const FULL: &str = "fully symbolic Σ";
    c.prop(
        Role::Precise,
        "the second-order form is a Frobenius distance to α⁻¹I: Q(Σ) = (α²/2)‖Σ − α⁻¹I‖²_F − d/2",
        r"-\alpha\,\mathrm{tr}\,\Sigma+\tfrac{\alpha^2}{2}\mathrm{tr}\,\Sigma^2 = \tfrac{\alpha^2}{2}\big\lVert\Sigma-\alpha^{-1}I\big\rVert_F^2-\tfrac d2",
        WHITENING,
    )
    .symbolic(
        FULL,
        Scope::UpToD { d_max: dm },
        sym!(|&v| symbolic::frobenius_identity(v, dm)),
    )
    .symbolic(
        INVARIANTS,
        Scope::DimensionFree,
        sym!(|&v| symbolic::frobenius_identity_invariants(v)),
    )
    .check("identity on random PSD Σ", whitening_numeric)
    .argument(
        "for every d",
        vec![
            ArgSpec::cited(
                "for symmetric Σ, ‖Σ − cI‖²_F = tr(Σ − cI)² = tr Σ² − 2c tr Σ + c² tr I, and tr I = d",
                "linearity of the trace",
                "with ‖M‖²_F = tr(MᵀM); Horn & Johnson, Matrix Analysis, 2nd ed., §5.6",
            ),
            ArgSpec::checked("the identity in p₁ = tr Σ, p₂ = tr Σ², d", INVARIANTS),
        ],
    )
    .mutant(
        "centre_identity",
        "the Frobenius identity with the centre I instead of α⁻¹I",
        Whitening {
            centre_inv_alpha: false,
            ..WHITENING
        },
    )
    .mutant(
        "drops_constant",
        "the Frobenius identity without the constant −d/2",
        Whitening {
            keep_constant: false,
            ..WHITENING
        },
    )
    .mutant(
        "drops_half",
        "the Frobenius identity with factor α² for α²/2",
        Whitening {
            factor: (1, 1),
            ..WHITENING
        },
    );

    c.prop(
        Role::Precise,
        "its unique minimiser over symmetric Σ is Σ = α⁻¹I (whitening to scale 1/α)",
        r"Q(\alpha^{-1}I+H)-Q(\alpha^{-1}I)=\tfrac{\alpha^2}{2}\lVert H\rVert_F^2>0\quad(H\ne0)",
        1i32,
    )
    .check(
        "random symmetric perturbations H at α = 5/2, d = 4",
        unique_minimiser,
    )
    .mutant(
        "minimiser_at_identity",
        "the second-order form is minimised at the whitened Σ = I",
        0i32,
    );

    c.prop(
        Role::Precise,
        "VICReg's variance + covariance terms vanish exactly on the diagonal C with every Var ≥ 1 − 10⁻⁴: whitened C = I is a minimiser, not the only one",
        r"v+c=0\iff C\text{ diagonal},\ C_{jj}\ge 1-10^{-4}\ \forall j",
        ZeroSet::DiagonalWithFloor,
    )
    .check("zero iff, on random covariances and at the boundary", zero_iff)
    .mutant(
        "floor_at_one",
        "zero iff C is diagonal with every Var ≥ 1 (the ε forgotten)",
        ZeroSet::DiagonalAtLeastOne,
    )
    .mutant(
        "any_diagonal",
        "zero iff C is diagonal (whatever the variances)",
        ZeroSet::AnyDiagonal,
    );

    c.prop(
        Role::Precise,
        "−log det(I+αΣ) itself has no minimiser: it decreases without bound along Σ = tI",
        r"-\log\det(I+\alpha tI) = -d\log(1+\alpha t)\to-\infty",
        (),
    )
    .check(
        "Σ = tI, t = 1, 10², 10⁴, 10⁶ (α = 5/2, d = 4)",
        |run, _| no_minimiser(run),
    );

    c.prop(
        Role::Reading,
        "read for the loss it names: VICReg's variance + covariance terms are a whitening objective, zero at one whitened covariance cI",
        r"v+c=0 \iff C = cI\ \text{for one } c",
        (),
    )
    .check("batches with C = I, 4I and diag(1, 4, 9) exactly (d = 3, B = 6)", |run, _| {
        whitening_reading(run)
    });

    c.step(
        "\"Correspond directly to whitening\" is not a statement with a truth value; the precise statements behind it are below, and they split: the *quadratic surrogate* is exactly a whitening objective, VICReg's *actual* terms are not.",
        None,
    );
    c.step(
        "With $\\lVert\\Sigma-cI\\rVert_F^2=\\mathrm{tr}\\,\\Sigma^2-2c\\,\\mathrm{tr}\\,\\Sigma+c^2d$ and $c=1/\\alpha$, the second-order form is a squared distance to $\\alpha^{-1}I$, uniquely minimised there:",
        Some(r"-\alpha\,\mathrm{tr}\,\Sigma+\tfrac{\alpha^2}{2}\mathrm{tr}\,\Sigma^2 = \tfrac{\alpha^2}{2}\big\lVert\Sigma-\alpha^{-1}I\big\rVert_F^2-\tfrac d2".into()),
    );
    c.step(
        "VICReg's terms $v(Z)+c(Z)$ are zero exactly on the diagonal covariances with variances $\\ge 1-10^{-4}$ (checked as an \"iff\" on random diagonal and sheared covariances and at the boundary): a batch with $C=4I$, or the anisotropic $C=\\mathrm{diag}(1,4,9)$, costs exactly as little as the whitened $C=I$. They enforce decorrelation plus a variance floor, a set of minimisers rather than whitening: read as a statement about VICReg's actual terms, the interpretation is contradicted.",
        None,
    );
    c.step(
        "The exact $-\\log\\det(I+\\alpha\\Sigma)$ has no minimiser at all (it tends to $-\\infty$ along $\\Sigma=tI$); only a scale constraint (unit-norm features: $\\mathrm{tr}\\,\\Sigma\\le1$) gives it one, and then it is isotropic (family B).",
        None,
    );
}
