//! # D1: gradient analysis of the l2-normalised representation
//!
//! ## Main statements
//! * `normalize_jacobian_eq_projection_div_norm`: `∂(z/‖z‖)/∂z = (I − ZZᵀ)/‖z‖`, with null space
//!   `span(z)` and spectrum `{0, 1/‖z‖ (d−1 times)}`; the chain rule removes the gradient's
//!   component along `Z`; a gradient step on `z` keeps `‖z‖` to first order and raises it by
//!   `η²‖g‖²/(2‖z‖)` at second order, so with steps on `z` itself (and no weight decay) the norm
//!   drifts up along training — which need not hold for steps on a shared encoder's weights.
//!
//! ## Implementation notes
//! The Jacobian symbolically: every entry for `d ≤ sym_d_max`, and with no dimension in it by
//! writing `‖z‖² = z₁² + z₂² + r` with `r` the other coordinates' squares as one symbol (every
//! entry is an `(1,1)` or `(1,2)` entry after relabelling the coordinates). Everything else at the
//! working precision against Richardson central differences and Jacobi eigenvalues.
//!
//! ## References
//! Zhang et al. (2022), the notes' paper (its gradient analysis, as transcribed in
//! `../shared/reference-implementations.md` §2).
//!
//! ## Source
//! `../shared/notes.md`: the paper's abstract.

use rug::Float;
use sslproof::check::fd::{DEFAULT_STEP_LOG2, fd_tolerance, gradient, jacobian, worst_entry};
use sslproof::hp::vec::{dot, mat_vec, norm, normalize};
use sslproof::prelude::*;

/// The claim.
pub const CLAIM: Claim = Claim {
    id: "normalize_jacobian_eq_projection_div_norm",
    label: "D1",
    family: "gradients",
    title: "Gradient analysis of the l2-normalised representation",
    quote: "we introduce vector decomposition for analyzing the collapse based on the gradient analysis of the l2-normalized representation vector.",
    place: "Paper abstract (Zhang et al., 2022)",
    statement: r"Z=\frac{z}{\lVert z\rVert}:\quad \frac{\partial Z}{\partial z}=\frac{I-ZZ^\top}{\lVert z\rVert}",
    nature: Nature::Interpretive,
    expected: Class::Interpretive,
};

/// Candidate Jacobians of `z ↦ z/‖z‖`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Jacobian {
    /// `(I − ZZᵀ)/‖z‖`.
    Theorem,
    /// `I/‖z‖` (the projection dropped).
    NoProjection,
    /// `I − ZZᵀ` (the `1/‖z‖` dropped).
    NoScale,
}

impl Jacobian {
    fn eval(self, z: &[Float]) -> Mat {
        let d = z.len();
        let prec = z[0].prec();
        let n = norm(z);
        let u = normalize(z);
        Mat::from_fn(d, d, prec, |i, j| {
            let delta = if i == j {
                Float::with_val(prec, 1)
            } else {
                Float::new(prec)
            };
            let p = match self {
                Jacobian::NoProjection => delta,
                _ => delta - Float::with_val(prec, &u[i] * &u[j]),
            };
            match self {
                Jacobian::NoScale => p,
                _ => p / &n,
            }
        })
    }
}

/// Three test vectors from the check's seed, d = 3, 6, 10, norms d/2.
fn test_vectors(run: &mut Run) -> Vec<Vec<Float>> {
    let prec = run.prec();
    let mut s = run.sampler();
    [3usize, 6, 10]
        .iter()
        .map(|&d| {
            let scale = Float::with_val(prec, d as u64) / 2u32;
            s.unit_vector(d).into_iter().map(|x| x * &scale).collect()
        })
        .collect()
}

fn jacobian_fd(run: &mut Run, v: &Jacobian) -> Result<String, String> {
    let prec = run.prec();
    let tol = fd_tolerance(prec);
    let f = |x: &[Float]| normalize(x);
    let mut worst_bits = u32::MAX;
    for z in test_vectors(run) {
        let d = z.len();
        let fd = jacobian(&f, &z, DEFAULT_STEP_LOG2);
        let an = v.eval(&z);
        let (i, j, err) = worst_entry(&fd, &an);
        let scale = Float::with_val(prec, fd.max_abs() + Float::with_val(prec, 1) / norm(&z));
        run.count(1);
        if !tol.accepts(&err, &scale) {
            return Err(format!(
                "d = {d}: worst entry ({i}, {j}): finite difference {:.6e}, formula {:.6e}",
                fd.at(i, j),
                an.at(i, j)
            ));
        }
        worst_bits = worst_bits.min(sslproof::hp::bits_below(&Float::with_val(
            prec,
            &err / &scale,
        )));
    }
    Ok(format!(
        "d = 3, 6, 10: worst entry agrees to 2^-{worst_bits} relative (tolerance {})",
        tol.describe()
    ))
}

/// A claimed spectrum of the Jacobian: `{0, 1/‖z‖}` (the theorem) or `{0, 1}` (the scale
/// forgotten).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpectrumClaim {
    pub inverse_norm: bool,
}

/// `Jz = 0`; eigenvalues `0` once and the claimed value `d − 1` times (Jacobi).
fn spectrum_check(run: &mut Run, s: &SpectrumClaim) -> Result<String, String> {
    let prec = run.prec();
    let tol = Tol::linalg(prec, 10, 0);
    for z in test_vectors(run) {
        let d = z.len();
        let j = Jacobian::Theorem.eval(&z);
        let jz = mat_vec(&j, &z);
        run.count(1);
        if !tol.accepts(&norm(&jz), &Float::with_val(prec, 1)) {
            return Err(format!("d = {d}: ‖Jz‖ = {:.3e}", norm(&jz)));
        }
        let e = j.sym_eigen().map_err(|e| e.to_string())?;
        let claimed = if s.inverse_norm {
            Float::with_val(prec, 1) / norm(&z)
        } else {
            Float::with_val(prec, 1)
        };
        let zero_ok = tol.accepts(&e.values[0], &claimed);
        let rest_ok = e.values[1..]
            .iter()
            .all(|l| tol.accepts(&Float::with_val(prec, l - &claimed), &claimed));
        if !(zero_ok && rest_ok) {
            return Err(format!(
                "d = {d}: eigenvalues {:?}, claimed 0 and {claimed:.4}",
                e.values
                    .iter()
                    .map(|x| format!("{x:.4}"))
                    .collect::<Vec<_>>()
            ));
        }
    }
    Ok(format!(
        "d = 3, 6, 10: Jz = 0; eigenvalues 0 (once) and {} (d − 1 times), by Jacobi",
        if s.inverse_norm { "1/‖z‖" } else { "1" }
    ))
}

/// `L(z) = φ(z/‖z‖)` with `φ(Z) = −Z·b + ½(Z·c)²`: finite differences of the composite against
/// `J ∇φ`.
fn chain_rule(run: &mut Run, v: &Jacobian) -> Result<String, String> {
    let prec = run.prec();
    let tol = fd_tolerance(prec);
    let vectors = test_vectors(run);
    let mut s = run.sampler_bits(1, prec);
    for z in vectors {
        let d = z.len();
        let b = s.unit_vector(d);
        let c = s.unit_vector(d);
        let phi = |x: &[Float]| {
            let u = normalize(x);
            let zc = dot(&u, &c);
            Float::with_val(prec, zc.square_ref()) / 2u32 - dot(&u, &b)
        };
        let fd = gradient(&phi, &z, DEFAULT_STEP_LOG2);
        let u = normalize(&z);
        let zc = dot(&u, &c);
        let grad_phi: Vec<Float> = (0..d)
            .map(|i| Float::with_val(prec, &zc * &c[i]) - &b[i])
            .collect();
        let chain = mat_vec(&v.eval(&z), &grad_phi);
        let err = fd
            .iter()
            .zip(&chain)
            .map(|(a, b)| Float::with_val(prec, a - b).abs())
            .fold(Float::new(prec), |m, x| if x > m { x } else { m });
        run.count(1);
        if !tol.accepts(&err, &Float::with_val(prec, norm(&fd) + 1u32)) {
            return Err(format!("d = {d}: largest difference {err:.3e}"));
        }
    }
    Ok("L(z) = −Z·b + ½(Z·c)², d = 3, 6, 10".into())
}

/// A claimed effect of a gradient step `z − ηg` (`g = ∇_z L ⟂ z`) on `‖z‖`: its order in η and
/// its sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NormStep {
    pub order: u32,
    pub increase: bool,
}

/// The observed order of `‖z − ηg‖ − ‖z‖` in η (η = 2⁻¹⁰ … 2⁻²⁰) and its coefficient against
/// `‖g‖²/(2‖z‖)`.
fn norm_step(run: &mut Run, claim: &NormStep) -> Result<String, String> {
    let prec = run.prec();
    let z = test_vectors(run).swap_remove(1);
    let d = z.len();
    let upstream = run.sampler_bits(1, prec).unit_vector(d);
    let g = mat_vec(&Jacobian::Theorem.eval(&z), &upstream);
    let n0 = norm(&z);
    let changes: Vec<Float> = (10..=20)
        .map(|k| {
            let eta = Float::with_val(prec, 1) >> k;
            let step: Vec<Float> = z
                .iter()
                .zip(&g)
                .map(|(a, b)| Float::with_val(prec, a - Float::with_val(prec, &eta * b)))
                .collect();
            Float::with_val(prec, norm(&step) - &n0)
        })
        .collect();
    run.count(changes.len());
    let order = *observed_orders(&changes).last().expect("orders");
    let eta = Float::with_val(prec, 1) >> 20u32;
    let coeff = Float::with_val(
        prec,
        changes.last().expect("changes") / Float::with_val(prec, eta.square_ref()),
    );
    let predicted = dot(&g, &g) / (n0.clone() * 2u32);
    let increases = changes.iter().all(|c| *c > 0);
    let detail = format!(
        "zᵀg = {:.1e}; ‖z − ηg‖ − ‖z‖ has observed order {order:.3} in η, coefficient {coeff:.6} (‖g‖²/(2‖z‖) = {predicted:.6}), {}",
        dot(&z, &g),
        if increases {
            "always an increase"
        } else {
            "not always an increase"
        }
    );
    if (order - f64::from(claim.order)).abs() <= 0.01 && increases == claim.increase {
        Ok(detail)
    } else {
        Err(detail)
    }
}

/// What the norm-drift claim is about: gradient steps on `z` itself, or on a shared linear
/// encoder's weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepsOn {
    Representation,
    SharedWeights,
}

/// 200 gradient steps (η = 0.1) of `L = Σ_i φ_i(z_i/‖z_i‖)`, `φ_i(Z) = −Z·t_i` with random targets
/// `t_i`, on 8 vectors `z_i ∈ R⁵`: either on the `z_i` themselves or through `z_i = W x_i` on a
/// shared `W`. Claimed: every `‖z_i‖` increases at every step.
fn norm_drift(run: &mut Run, on: &StepsOn) -> Result<String, String> {
    let prec = run.prec();
    let (n, d, m) = (8usize, 5usize, 6usize);
    let mut s = run.sampler();
    let targets: Vec<Vec<Float>> = (0..n).map(|_| s.unit_vector(d)).collect();
    let xs: Vec<Vec<Float>> = (0..n).map(|_| s.unit_vector(m)).collect();
    let mut w = s.gaussian(d, m);
    let mut zs: Vec<Vec<Float>> = (0..n).map(|_| s.unit_vector(d)).collect();
    let eta = Float::with_val(prec, 1) / 10u32;
    let steps = 200;
    let current = |w: &Mat, zs: &[Vec<Float>]| -> Vec<Vec<Float>> {
        match on {
            StepsOn::Representation => zs.to_vec(),
            StepsOn::SharedWeights => xs.iter().map(|x| mat_vec(w, x)).collect(),
        }
    };
    let mut norms: Vec<Float> = current(&w, &zs).iter().map(|z| norm(z)).collect();
    for step in 0..steps {
        let z_now = current(&w, &zs);
        // ∇_z φ(z/‖z‖) = (I − uuᵀ)(−t)/‖z‖.
        let grads: Vec<Vec<Float>> = z_now
            .iter()
            .zip(&targets)
            .map(|(z, t)| {
                let minus_t: Vec<Float> = t.iter().map(|x| Float::with_val(prec, -x)).collect();
                mat_vec(&Jacobian::Theorem.eval(z), &minus_t)
            })
            .collect();
        match on {
            StepsOn::Representation => {
                for (z, g) in zs.iter_mut().zip(&grads) {
                    for (zi, gi) in z.iter_mut().zip(g) {
                        *zi -= Float::with_val(prec, &eta * gi);
                    }
                }
            }
            StepsOn::SharedWeights => {
                // ∂L/∂W = Σ_i g_i x_iᵀ.
                let gw = Mat::from_fn(d, m, prec, |a, b| {
                    (0..n).fold(Float::new(prec), |acc, i| {
                        acc + Float::with_val(prec, &grads[i][a] * &xs[i][b])
                    })
                });
                w = w.sub(&gw.scale(&eta)).expect("shapes");
            }
        }
        let new: Vec<Float> = current(&w, &zs).iter().map(|z| norm(z)).collect();
        run.count(1);
        if let Some(i) = (0..n).find(|&i| new[i] <= norms[i]) {
            return Err(format!(
                "step {step}: ‖z_{i}‖ goes from {:.6} to {:.6}",
                norms[i], new[i]
            ));
        }
        norms = new;
    }
    Ok(format!(
        "{steps} steps, η = 0.1, 8 vectors in R⁵: every ‖z_i‖ increases at every step (final norms {:.4} … {:.4})",
        norms
            .iter()
            .min_by(|a, b| a.partial_cmp(b).expect("finite"))
            .expect("n > 0"),
        norms
            .iter()
            .max_by(|a, b| a.partial_cmp(b).expect("finite"))
            .expect("n > 0"),
    ))
}

#[cfg(feature = "symbolic")]
mod symbolic {
    use sslproof::sym::algebra::{self as alg, AtomCore};

    use super::Jacobian;

    /// Entries (1,1) and (1,2) of `∂(z/‖z‖)/∂z` with `‖z‖² = z1² + z2² + r` (`r` the other
    /// coordinates, one symbol) against the candidate.
    pub fn jacobian_entries(v: Jacobian) -> Result<String, String> {
        let s = "(z1^2+z2^2+r)";
        let f = alg::expr(&format!("z1*{s}^(-1/2)"));
        let d11 = alg::derivative(&f, "z1");
        let d12 = alg::derivative(&f, "z2");
        let (e11, e12) = match v {
            Jacobian::Theorem => (
                format!("({s} - z1^2)*{s}^(-3/2)"),
                format!("-z1*z2*{s}^(-3/2)"),
            ),
            Jacobian::NoProjection => (format!("{s}^(-1/2)"), "0".to_string()),
            Jacobian::NoScale => (format!("1 - z1^2*{s}^(-1)"), format!("-z1*z2*{s}^(-1)")),
        };
        // Fractional powers of one base are not merged by expand(): multiply through by s^(3/2).
        let through = alg::expr(&format!("{s}^(3/2)"));
        for (name, got, want) in [("(1,1)", &d11, e11), ("(1,2)", &d12, e12)] {
            let diff = alg::normalise_rational(&(&(got - &alg::expr(&want)) * &through).expand());
            if !diff.is_zero() {
                return Err(format!(
                    "entry {name}: ∂ = {}, claimed {want}",
                    alg::plain(got)
                ));
            }
        }
        Ok("entries (1,1) and (1,2) with ‖z‖² = z1² + z2² + r".into())
    }

    /// The full Jacobian for fully symbolic `z ∈ R^d`, `d ≤ d_max`, against the theorem.
    pub fn jacobian_full(d_max: usize) -> Result<String, String> {
        for d in 1..=d_max {
            let s_str = format!(
                "({})",
                (1..=d)
                    .map(|k| format!("z{k}^2"))
                    .collect::<Vec<_>>()
                    .join("+")
            );
            let through = alg::expr(&format!("{s_str}^(3/2)"));
            for i in 1..=d {
                let f = alg::expr(&format!("z{i}*{s_str}^(-1/2)"));
                for j in 1..=d {
                    let got = alg::derivative(&f, &format!("z{j}"));
                    let want = if i == j {
                        format!("({s_str} - z{i}^2)*{s_str}^(-3/2)")
                    } else {
                        format!("-z{i}*z{j}*{s_str}^(-3/2)")
                    };
                    let diff =
                        alg::normalise_rational(&(&(&got - &alg::expr(&want)) * &through).expand());
                    if !diff.is_zero() {
                        return Err(format!("d = {d}, entry ({i},{j}): {}", alg::plain(&diff)));
                    }
                }
            }
        }
        Ok(format!("all d² entries, fully symbolic z, d = 1…{d_max}"))
    }
}

pub fn run(c: &mut ClaimRun) {
    let dm = c.sym_d_max();
    let prec = c.prec();
    const ENTRIES: &str = "entries (1,1) and (1,2), ‖z‖² = z₁² + z₂² + r";
    c.prop(
        Role::Precise,
        "the Jacobian of z ↦ z/‖z‖ is (I − ZZᵀ)/‖z‖",
        r"\frac{\partial Z}{\partial z}=\frac{1}{\lVert z\rVert}\big(I-ZZ^\top\big)",
        Jacobian::Theorem,
    )
    .symbolic(
        ENTRIES,
        Scope::DimensionFree,
        sym!(|&v| symbolic::jacobian_entries(v)),
    )
    .symbolic(
        "full Jacobian, fully symbolic z",
        Scope::UpToD { d_max: dm },
        sym!(|_| symbolic::jacobian_full(dm)),
    )
    .independent()
    .check("against Richardson central differences", jacobian_fd)
    .argument(
        "for every d",
        vec![
            ArgSpec::cited(
                "relabelling the coordinates, every entry (i, j) of the Jacobian is the (1,1) entry (i = j) or the (1,2) entry (i ≠ j), with the other coordinates' squares entering only through their sum r",
                "permutation symmetry",
                "z ↦ z/‖z‖ commutes with permutations of the coordinates (elementary)",
            ),
            ArgSpec::checked("those two entries, with r a symbol", ENTRIES),
        ],
    )
    .mutant(
        "no_projection",
        "J = I/‖z‖ (the projection dropped)",
        Jacobian::NoProjection,
    )
    .mutant("no_scale", "J = I − ZZᵀ (the 1/‖z‖ dropped)", Jacobian::NoScale);

    c.prop(
        Role::Precise,
        "its null space is span(z); its spectrum is 0 (once) and 1/‖z‖ (d − 1 times)",
        r"J z = 0,\qquad \mathrm{spec}(J)=\{0\}\cup\{1/\lVert z\rVert\}^{d-1}",
        SpectrumClaim { inverse_norm: true },
    )
    .check("null space and spectrum", spectrum_check)
    .mutant(
        "spectrum_without_scale",
        "the non-zero eigenvalues are 1 (the projection's, without the 1/‖z‖)",
        SpectrumClaim {
            inverse_norm: false,
        },
    );

    c.prop(
        Role::Precise,
        "chain rule: ∇_z L = (I − ZZᵀ)∇_Z L/‖z‖ removes the component along Z and scales the rest by 1/‖z‖",
        r"\nabla_z\mathcal L=\frac{1}{\lVert z\rVert}\big(I-ZZ^\top\big)\nabla_Z\mathcal L",
        Jacobian::Theorem,
    )
    .check("chain rule ∇_z L = J ∇_Z L against finite differences", chain_rule)
    .mutant(
        "chain_rule_without_projection",
        "∇_z L = ∇_Z L/‖z‖ (the component along Z kept)",
        Jacobian::NoProjection,
    );

    c.prop(
        Role::Precise,
        "a gradient step leaves ‖z‖ unchanged to first order and increases it by η²‖g‖²/(2‖z‖) at second order",
        r"\lVert z-\eta g\rVert=\lVert z\rVert+\frac{\eta^2\lVert g\rVert^2}{2\lVert z\rVert}+O(\eta^4),\quad z^\top g=0",
        NormStep {
            order: 2,
            increase: true,
        },
    )
    .check("norm after a gradient step", norm_step)
    .mutant(
        "step_shrinks_norm",
        "a gradient step decreases ‖z‖ at second order",
        NormStep {
            order: 2,
            increase: false,
        },
    )
    .mutant(
        "first_order_norm_change",
        "a gradient step changes ‖z‖ at first order",
        NormStep {
            order: 1,
            increase: true,
        },
    );

    c.prop(
        Role::Precise,
        "so with gradient steps on z itself (no weight decay) every norm drifts up along training",
        r"\lVert z_{t+1}\rVert>\lVert z_t\rVert\ \text{at every step}",
        StepsOn::Representation,
    )
    .check("training by gradient steps", norm_drift)
    .mutant(
        "drift_through_shared_weights",
        "the norms also drift up when the steps are on a shared linear encoder's weights",
        StepsOn::SharedWeights,
    );

    c.step("\"Gradient analysis of the l2-normalised vector\" announces a method; the precise statements it rests on are below.", None);
    c.step(format!("Differentiating $Z_i=z_i(\\sum_kz_k^2)^{{-1/2}}$: $\\partial Z_i/\\partial z_j=\\delta_{{ij}}\\lVert z\\rVert^{{-1}}-z_iz_j\\lVert z\\rVert^{{-3}}$. symbolica checks every entry with fully symbolic $z$ for $d\\le{dm}$, and entries (1,1) and (1,2) with $\\lVert z\\rVert^2=z_1^2+z_2^2+r$, which by relabelling the coordinates is every entry for every $d\\ge2$ (an argument):"), Some(r"\frac{\partial Z}{\partial z}=\frac{1}{\lVert z\rVert}\big(I-ZZ^\top\big)".into()));
    c.step("$I-ZZ^\\top$ is the orthogonal projector onto $z^\\perp$: null space $\\mathrm{span}(z)$, eigenvalue 1 on the $(d-1)$-dimensional complement; scaled by $1/\\lVert z\\rVert$.", None);
    c.step(format!("So every gradient through a normalisation is orthogonal to $z$: $\\lVert z-\\eta g\\rVert^2=\\lVert z\\rVert^2+\\eta^2\\lVert g\\rVert^2$. The norm does not change to first order and grows at second order; with gradient steps on $z$ itself and no weight decay, the norms drift up along training (200 steps at {prec} bits, every norm up at every step), which shrinks later gradients by $1/\\lVert z\\rVert$. Steps on a shared encoder's weights are another matter: there the update of one $z_i$ carries the other samples' gradients, no longer orthogonal to $z_i$, and norms can fall (a mutant)."), None);
}
