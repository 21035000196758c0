//! # A2: the variance hinge as the diagonal part of the expansion
//!
//! ## Main statements
//! * `vicreg_variance_hinge_of_taylor_diagonal`: the diagonal part of the second-order form
//!   `−α tr Σ + (α²/2) tr Σ²` is `Σ_j [(α²/2)(Σ_jj − 1/α)² − ½]`, a two-sided quadratic with its
//!   minimum at variance `1/α`, not a hinge; VICReg's variance term (paper and code) is an
//!   *unsquared* hinge on `sqrt(Var + 10⁻⁴)`, zero exactly when `Var ≥ 1 − 10⁻⁴`: a one-sided
//!   floor, not the notes' squared hinge.
//!
//! ## Notation
//! `D(s) = −α s + (α²/2) s²` for one diagonal entry `s = Σ_jj = σ_j²`; `v(Z) = (1/d) Σ_j
//! max(0, γ − sqrt(Var(z^j) + ε))`, `γ = 1`, `ε = 10⁻⁴`, unbiased variance (official code).
//!
//! ## Implementation notes
//! Each diagonal term is a function of one scalar, so the identities are checked symbolically with
//! no dimension in them (`α`, `s` symbols). VICReg's term is the transcription in
//! `sslproof-losses` (`vicreg::variance_term`), compared with each candidate hinge on batches
//! whose variance is set exactly (two rows `±t`).
//!
//! ## References
//! Bardes, Ponce, LeCun (2022), VICReg; `facebookresearch/vicreg` `main_vicreg.py`;
//! `../shared/reference-implementations.md` §1.1–1.3.
//!
//! ## Source
//! `../shared/notes.md`, *A unified framework*, item 4 (VICReg vs. coding rate).

use rug::Float;
use rug::ops::Pow;
use sslproof::hp::batch_with_diagonal_covariance;
use sslproof::prelude::*;
use sslproof_losses::vicreg;

/// The claim.
pub const CLAIM: Claim = Claim {
    id: "vicreg_variance_hinge_of_taylor_diagonal",
    label: "A2",
    family: "taylor",
    title: "The variance hinge as the diagonal part of the expansion",
    quote: "yielding two simple surrogates: a variance hinge $\\sum_j \\max(0, 1-\\sigma_j)^2$ enforcing $\\sigma_j > 1$",
    place: "A unified framework for covariance-regularized SSL, item 4 (VICReg vs. coding rate)",
    statement: r"\text{diag. part of } -\alpha\,\mathrm{tr}\,\Sigma+\tfrac{\alpha^2}{2}\mathrm{tr}\,\Sigma^2 \;\rightsquigarrow\; \sum_j \max(0, 1-\sigma_j)^2,\ \text{enforcing } \sigma_j>1",
    nature: Nature::Mathematical,
    expected: Class::WrongAsWrittenCorrected,
};

/// The diagonal part `D(s) = Σ_j (−α s_j + (α²/2) s_j²)`, `s_j = σ_j²`.
fn diag_part(alpha: &Float, s: &[Float]) -> Float {
    let prec = alpha.prec();
    let p1 = s.iter().fold(Float::new(prec), |acc, x| acc + x);
    let p2 = s.iter().fold(Float::new(prec), |acc, x| {
        acc + Float::with_val(prec, x.square_ref())
    });
    let a2 = Float::with_val(prec, alpha.square_ref());
    Float::with_val(prec, -Float::with_val(prec, alpha * &p1)) + a2 * p2 / 2u32
}

/// What the standard deviation in a hinge is taken of, and where `ε` goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Eps {
    /// No `ε` (the notes).
    None,
    /// `sqrt(Var + ε)` (VICReg's code).
    Inside,
    /// `sqrt(Var) + ε`.
    Outside,
}

/// A variance hinge `max(0, 1 − t)^power` with `t` the standard deviation (or the variance).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hinge {
    pub power: u32,
    /// `t` is the variance itself instead of the standard deviation.
    pub on_variance: bool,
    pub eps: Eps,
    /// `1/(B−1)` (`torch.var`) or `1/B`.
    pub unbiased: bool,
}

/// The notes' hinge as written: `max(0, 1 − σ_j)²`.
const NOTES_HINGE: Hinge = Hinge {
    power: 2,
    on_variance: false,
    eps: Eps::None,
    unbiased: true,
};

/// VICReg's variance term: `max(0, 1 − sqrt(Var + ε))`, unbiased variance.
const VICREG_HINGE: Hinge = Hinge {
    power: 1,
    on_variance: false,
    eps: Eps::Inside,
    unbiased: true,
};

impl Hinge {
    /// The hinge of one column with unbiased variance `var` over `b` rows.
    fn eval(&self, var: &Float, b: u32, eps: &Float) -> Float {
        let prec = var.prec();
        let var = if self.unbiased {
            var.clone()
        } else {
            Float::with_val(prec, var * (b - 1)) / b
        };
        let t = if self.on_variance {
            var
        } else {
            match self.eps {
                Eps::None => var.sqrt(),
                Eps::Inside => Float::with_val(prec, &var + eps).sqrt(),
                Eps::Outside => var.sqrt() + eps,
            }
        };
        let h = Float::with_val(prec, 1 - t);
        if h > 0 {
            h.pow(self.power)
        } else {
            Float::new(prec)
        }
    }
}

/// Is the hinge a constant multiple of VICReg's transcribed variance term? Two batches whose
/// standard deviation as the official code sees it is `1/2` and `9/10`: a ratio that differs
/// refutes it.
fn hinge_against_official(run: &mut Run, h: &Hinge) -> Result<String, String> {
    let prec = run.prec();
    let eps = vicreg::default_eps(prec);
    let one = Float::with_val(prec, 1);
    let mut ratios = Vec::new();
    let mut lines = Vec::new();
    for (num, den) in [(1i32, 2i32), (9, 10)] {
        // Var chosen so that sqrt(Var + eps) is exactly num/den.
        let std: Float = Float::with_val(prec, num) / den;
        let var = Float::with_val(prec, std.square_ref()) - &eps;
        let z = batch_with_diagonal_covariance(std::slice::from_ref(&var), true);
        let official = vicreg::variance_term(&z, &one, &eps).map_err(|e| e.to_string())?;
        let claimed = h.eval(&var, 2, &eps);
        run.count(1);
        lines.push(format!(
            "std {std:.4}: official {official:.6}, claimed {claimed:.6}"
        ));
        ratios.push(Float::with_val(prec, &claimed / &official));
    }
    let diff = Float::with_val(prec, &ratios[0] - &ratios[1]).abs();
    if Tol::scalar(prec).accepts(&diff, &ratios[0]) {
        Ok(format!(
            "constant ratio {:.6}: {}",
            ratios[0],
            lines.join("; ")
        ))
    } else {
        Err(format!(
            "ratio claimed/official varies ({:.6} vs {:.6}): {}",
            ratios[0],
            ratios[1],
            lines.join("; ")
        ))
    }
}

/// Where the hinge is zero: at `Var = 1 − 10⁻⁴` the official term is zero (to working
/// precision: `10⁻⁴` is not binary, so `Var + 10⁻⁴` lands within a few ulps of 1), and `2⁻³⁰`
/// below it positive; the claimed hinge must agree at both points.
fn zero_set(run: &mut Run, h: &Hinge) -> Result<String, String> {
    let prec = run.prec();
    let eps = vicreg::default_eps(prec);
    let one = Float::with_val(prec, 1);
    let zero = Float::with_val(prec, 1) >> Tol::scalar(prec).bits;
    let at = Float::with_val(prec, &one - &eps);
    let below = Float::with_val(prec, &at - (Float::with_val(prec, 1) >> 30u32));
    let mut lines = Vec::new();
    for (name, var) in [("Var = 1 − 10⁻⁴", &at), ("Var = 1 − 10⁻⁴ − 2⁻³⁰", &below)]
    {
        let z = batch_with_diagonal_covariance(&[var.clone(), Float::with_val(prec, 3)], true);
        let official = vicreg::variance_term(&z, &one, &eps).map_err(|e| e.to_string())?;
        let claimed = h.eval(var, 4, &eps);
        run.count(1);
        let (oz, cz) = (official <= zero, claimed <= zero);
        if oz != cz {
            return Err(format!(
                "at {name}: VICReg's term is {official:.3e} but the claimed hinge is {claimed:.3e}"
            ));
        }
        lines.push(format!(
            "{name}: {}",
            if oz {
                format!("zero (below 2^-{})", Tol::scalar(prec).bits)
            } else {
                format!("{official:.3e}")
            }
        ));
    }
    Ok(lines.join("; "))
}

/// A claimed completed square of the diagonal term: factor `½` (or `1`: the ½ dropped), and the
/// claimed minimiser `α^(−min_power)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Diag {
    pub half: bool,
    pub min_power: u32,
}

const DIAG: Diag = Diag {
    half: true,
    min_power: 1,
};

/// The completed square at random `(α, s)`: `D(s) = c·α²(s − 1/α)² − ½` with `c` the claimed
/// factor.
fn completed_square(run: &mut Run, f: &Diag) -> Result<String, String> {
    let prec = run.prec();
    let mut smp = run.sampler();
    let tol = Tol::scalar(prec);
    let cases = run.scaled(50);
    for _ in 0..cases {
        let a = smp.uniform() * 8u32;
        let s = smp.uniform() * 4u32;
        let lhs = diag_part(&a, std::slice::from_ref(&s));
        let c = if f.half {
            Float::with_val(prec, 1) / 2u32
        } else {
            Float::with_val(prec, 1)
        };
        let dev = Float::with_val(prec, &s - Float::with_val(prec, 1) / &a);
        let rhs = Float::with_val(prec, a.square_ref()) * c * dev.square()
            - Float::with_val(prec, 1) / 2u32;
        let res = Float::with_val(prec, &lhs - &rhs);
        run.count(1);
        if !tol.accepts(
            &res,
            &Float::with_val(prec, lhs.clone().abs() + rhs.clone().abs()),
        ) {
            return Err(format!("α = {a:.4}, s = {s:.4}: residual {res:.3e}"));
        }
    }
    Ok(format!(
        "{cases} random (α, s): residuals within {}",
        tol.describe()
    ))
}

/// `D` at the claimed minimiser `s* = α^(−p)` (α = 4) is below its neighbours `s* ± 2^−20` iff
/// `s*` is the minimiser (the parabola has curvature α² = 16, so the neighbours exceed the
/// minimum by `8·2^−40`, far above the rounding at any working precision of 64 bits or more).
fn numeric_minimum(run: &mut Run, f: &Diag) -> Result<String, String> {
    let prec = run.prec();
    let alpha = Float::with_val(prec, 4);
    let s_star = Float::with_val(prec, 1) / Float::with_val(prec, alpha.clone().pow(f.min_power));
    let h = Float::with_val(prec, 1) >> 20u32;
    let at = |s: &Float| diag_part(&alpha, std::slice::from_ref(s));
    let d0 = at(&s_star);
    let dm = at(&Float::with_val(prec, &s_star - &h));
    let dp = at(&Float::with_val(prec, &s_star + &h));
    run.count(3);
    let detail = format!(
        "α = 4, s* = α^-{}: D(s*−h) − D(s*) = {:.3e}, D(s*+h) − D(s*) = {:.3e}",
        f.min_power,
        Float::with_val(prec, &dm - &d0),
        Float::with_val(prec, &dp - &d0)
    );
    if d0 < dm && d0 < dp {
        Ok(detail)
    } else {
        Err(detail)
    }
}

/// Is the diagonal part a function of the hinge at all? At `α = 1`, `σ = 1` and `σ = 2` have the
/// same hinge but (if they differ) different diagonal parts.
fn function_of_hinge(run: &mut Run) -> Result<String, String> {
    let prec = run.prec();
    let alpha = Float::with_val(prec, 1);
    let eps = Float::new(prec);
    let (da, db) = (
        diag_part(&alpha, &[Float::with_val(prec, 1)]),
        diag_part(&alpha, &[Float::with_val(prec, 4)]),
    );
    let (ha, hb) = (
        NOTES_HINGE.eval(&Float::with_val(prec, 1), 2, &eps),
        NOTES_HINGE.eval(&Float::with_val(prec, 4), 2, &eps),
    );
    run.count(2);
    if ha == hb && da != db {
        Err(format!(
            "d = 1, α = 1: σ = 1 and σ = 2 give hinge {ha} and {hb} but diagonal part {da:.4} and {db:.4}"
        ))
    } else {
        Ok("no pair separates them".into())
    }
}

#[cfg(feature = "symbolic")]
mod symbolic {
    use sslproof::sym::algebra::{self as alg, AtomCore};

    /// `−a s + (a²/2) s² = c·a²(s − 1/a)² − ½` with `c = ½` (or `1` when `half` is false).
    pub fn diagonal_identity(half: bool) -> Result<String, String> {
        let lhs = alg::expr("-a*s + a^2/2*s^2");
        let rhs = if half {
            alg::expr("a^2/2*(s - a^-1)^2 - 1/2")
        } else {
            alg::expr("a^2*(s - a^-1)^2 - 1/2")
        };
        let diff = (&lhs - &rhs).expand();
        if diff.is_zero() {
            Ok("expands to zero in α and s".into())
        } else {
            Err(format!("difference {}", alg::plain(&diff)))
        }
    }

    /// `D′(s*) = 0` at `s* = a^(−p)`.
    pub fn stationary_at(p: u32) -> Result<String, String> {
        let d = alg::expr("-a*s + a^2/2*s^2");
        let dd = alg::derivative(&d, "s");
        // D' is affine in s: D'(s) = −a + a² s.
        if !(&dd - &alg::expr("-a + a^2*s")).expand().is_zero() {
            return Err(format!("unexpected derivative {}", alg::plain(&dd)));
        }
        let candidate = format!("a^-{p}");
        let at = (&alg::expr("-a") + &(&alg::expr("a^2") * &alg::expr(&candidate))).expand();
        if at.is_zero() {
            Ok(format!("D′({candidate}) = 0"))
        } else {
            Err(format!("D′({candidate}) = {}", alg::plain(&at)))
        }
    }
}

pub fn run(c: &mut ClaimRun) {
    let prec = c.prec();
    const OFFICIAL: &str = "hinge against VICReg's transcribed variance term";

    c.prop(
        Role::AsWritten,
        "the diagonal part of the expansion is the hinge Σ_j max(0, 1 − σ_j)²",
        r"\sum_j\Big(-\alpha\Sigma_{jj}+\tfrac{\alpha^2}{2}\Sigma_{jj}^2\Big) \;\overset{?}{\propto}\; \sum_j\max(0,1-\sigma_j)^2 + \text{const}",
        (),
    )
    .check("is the diagonal part a function of the hinge?", |run, _| {
        function_of_hinge(run)
    });

    c.prop(
        Role::AsWritten,
        "the hinge as written is VICReg's variance term (paper and code)",
        r"\sum_j \max(0,1-\sigma_j)^2 \overset{?}{\propto} v(Z) = \tfrac1d\sum_j \max\big(0, 1-\sqrt{\mathrm{Var}(z^j)+10^{-4}}\big)",
        NOTES_HINGE,
    )
    .check(OFFICIAL, hinge_against_official);

    c.prop(
        Role::Corrected,
        "the diagonal part is Σ_j[(α²/2)(Σ_jj − 1/α)² − ½]: two-sided, minimised at Σ_jj = 1/α",
        r"\sum_j\Big(-\alpha\Sigma_{jj}+\tfrac{\alpha^2}{2}\Sigma_{jj}^2\Big) = \sum_j\Big[\tfrac{\alpha^2}{2}\big(\Sigma_{jj}-\tfrac1\alpha\big)^2-\tfrac12\Big],\qquad \arg\min = \tfrac1\alpha",
        DIAG,
    )
    .symbolic(
        "completed square, symbolic in α and s",
        Scope::DimensionFree,
        sym!(|&f| symbolic::diagonal_identity(f.half)),
    )
    .symbolic(
        "stationary point of D",
        Scope::DimensionFree,
        sym!(|&f| symbolic::stationary_at(f.min_power)),
    )
    .check("numeric minimum of D", numeric_minimum)
    .check("completed square at random (α, s)", completed_square)
    .mutant(
        "minimum_at_inverse_alpha_squared",
        "the diagonal part is minimised at Σ_jj = 1/α²",
        Diag {
            min_power: 2,
            ..DIAG
        },
    )
    .mutant(
        "drops_half",
        "the completed square with α² for α²/2",
        Diag {
            half: false,
            ..DIAG
        },
    );

    c.prop(
        Role::Corrected,
        "VICReg's variance term is an unsquared hinge on sqrt(Var + 10⁻⁴), zero iff Var ≥ 1 − 10⁻⁴: a one-sided floor on the std, not from the expansion",
        r"v(Z)=\tfrac1d\sum_j\max\big(0,1-\sqrt{\mathrm{Var}(z^j)+10^{-4}}\big) = 0 \iff \mathrm{Var}(z^j) \ge 1-10^{-4}\ \forall j",
        VICREG_HINGE,
    )
    .check(OFFICIAL, hinge_against_official)
    .check("zero set of the hinge", zero_set)
    .mutant(
        "hinge_on_variance",
        "the hinge acts on the variance: max(0, 1 − Var)",
        Hinge {
            on_variance: true,
            ..VICREG_HINGE
        },
    )
    .mutant(
        "eps_outside_root",
        "ε added outside the root: max(0, 1 − (√Var + 10⁻⁴))",
        Hinge {
            eps: Eps::Outside,
            ..VICREG_HINGE
        },
    )
    .mutant(
        "biased_variance",
        "the variance divided by B (torch.var(unbiased=False))",
        Hinge {
            unbiased: false,
            ..VICREG_HINGE
        },
    );

    c.step(
        "Split the second-order form into diagonal and off-diagonal parts using $\\mathrm{tr}\\,\\Sigma=\\sum_j\\Sigma_{jj}$ and $\\mathrm{tr}\\,\\Sigma^2=\\sum_j\\Sigma_{jj}^2+\\sum_{i\\ne j}\\Sigma_{ij}^2$:",
        Some(r"-\alpha\,\mathrm{tr}\,\Sigma+\tfrac{\alpha^2}{2}\mathrm{tr}\,\Sigma^2 = \underbrace{\sum_j\Big(-\alpha\Sigma_{jj}+\tfrac{\alpha^2}{2}\Sigma_{jj}^2\Big)}_{\text{diagonal}} + \underbrace{\tfrac{\alpha^2}{2}\sum_{i\ne j}\Sigma_{ij}^2}_{\text{off-diagonal}}".into()),
    );
    c.step(
        "Completing the square (symbolica), each diagonal term is a parabola in the variance $\\Sigma_{jj}=\\sigma_j^2$ with its minimum at $1/\\alpha$; it penalises variances above $1/\\alpha$ as much as below:",
        Some(r"-\alpha s+\tfrac{\alpha^2}{2}s^2 = \tfrac{\alpha^2}{2}\big(s-\tfrac1\alpha\big)^2-\tfrac12".into()),
    );
    c.step(
        "The hinge $\\max(0,1-\\sigma_j)^2$ is flat for $\\sigma_j\\ge1$: at $\\alpha=1$, $\\sigma=1$ and $\\sigma=2$ have the same hinge (0) but diagonal parts $-\\tfrac12$ and $4$. So the hinge is not the diagonal part, nor any function of it; it is a separate design.",
        None,
    );
    c.step(
        format!("VICReg as published and in the official code (`main_vicreg.py`; lightly and solo-learn agree): $v(Z)=\\frac1d\\sum_j\\max(0,\\gamma-\\sqrt{{\\mathrm{{Var}}(z^j)+\\epsilon}})$ with $\\gamma=1$, $\\epsilon=10^{{-4}}$, unbiased variance, **not squared**; the official code also halves the sum over the two branches, the paper and solo-learn do not. Evaluated at {prec} bits on batches whose variance is set exactly, the notes' squared hinge is not proportional to it; the unsquared one is identical, and the plausible misreadings (a hinge on the variance, $\\epsilon$ outside the root, the biased variance) are not."),
        None,
    );
    c.step(
        "What the hinge enforces: $v=0$ exactly when $\\sqrt{\\mathrm{Var}+10^{-4}}\\ge1$ for every coordinate, a one-sided floor $\\sigma_j\\gtrsim1$ (boundary included, so not the strict $\\sigma_j>1$ of the notes), with no pull back from larger variances.",
        None,
    );
}
