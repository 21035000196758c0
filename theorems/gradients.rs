//! # Family D (part): normalised vectors, the seed paper's decomposition and the InfoNCE gradient
//!
//! ## Main statements
//! * `normalize_jacobian_eq_projection_div_norm` (D1): `∂(z/‖z‖)/∂z = (I − ZZᵀ)/‖z‖`, null space
//!   `span(z)`, spectrum `{0, 1/‖z‖ (d−1 times)}`; a gradient step leaves `‖z‖` unchanged to first
//!   order and increases it by `η²‖g‖²/(2‖z‖)` at second order.
//! * `centre_residual_decomposition_of_unit_vectors` (D2): for unit vectors,
//!   `‖o‖² + mean‖r‖² = 1` and `tr Σ = 1 − ‖o‖²`; de-centering forces variance in total, not in
//!   every dimension.
//! * `infonce_anchor_gradient_splits_into_centre_and_residual` (D3): the anchor gradient of
//!   InfoNCE, its split into `o` (de-centering) and `Σλ̃ᵢrᵢ` (de-correlation), and its temperature
//!   limits.
//!
//! ## Implementation notes
//! The seed paper's full text is not available (`reference-implementations.md` §2): only its
//! [derived] formulas are used, and each is checked here (256-bit finite differences, exact
//! identities) before anything relies on it. D1's Jacobian is proved symbolically for every `d` by
//! writing `‖z‖² = z₁² + z₂² + r`, with `r` the other coordinates' squares as one symbol.
//!
//! ## Source
//! `../shared/notes.md`: the paper's abstract; *A unified framework*, item 3.

use rug::Float;

use super::dynamics::{self, Regime};
use sslproof::check::fd::{
    DEFAULT_STEP_LOG2, fd_tolerance, gradient, jacobian, sym_gradient, worst_entry,
};
use sslproof::check::observed_orders;
use sslproof::claim::{
    Check, Claim, Figure, Findings, Method, Mutant, Nature, Proposition, Role, Scope,
};
use sslproof::hp::Mat;
use sslproof::hp::sample::Sampler;
use sslproof::report::plot;
use sslproof::tolerance::Tol;
use sslproof_losses::batch::{Centring, Divisor, covariance};

use super::{Config, Entry, checked, sym_check};

/// The family's entries (D1–D3), in catalogue order.
pub fn entries() -> Vec<Entry> {
    vec![
        Entry {
            claim: claim_d1(),
            run: run_d1,
        },
        Entry {
            claim: claim_d2(),
            run: run_d2,
        },
        Entry {
            claim: claim_d3(),
            run: run_d3,
        },
        Entry {
            claim: claim_d4(),
            run: run_d4,
        },
        Entry {
            claim: claim_d5(),
            run: run_d5,
        },
        Entry {
            claim: claim_e1(),
            run: run_e1,
        },
        Entry {
            claim: claim_e2(),
            run: run_e2,
        },
    ]
}

fn dot(a: &[Float], b: &[Float]) -> Float {
    let prec = a[0].prec();
    a.iter().zip(b).fold(Float::new(prec), |s, (x, y)| {
        s + Float::with_val(prec, x * y)
    })
}

fn norm(a: &[Float]) -> Float {
    dot(a, a).sqrt()
}

fn normalize(z: &[Float]) -> Vec<Float> {
    let n = norm(z);
    z.iter()
        .map(|x| Float::with_val(x.prec(), x / &n))
        .collect()
}

#[cfg(feature = "symbolic")]
pub mod symbolic {
    use sslproof::sym::algebra::{self as alg, AtomCore};

    /// Entries (1,1) and (1,2) of `∂(z/‖z‖)/∂z` with `‖z‖² = z1² + z2² + r` (`r` the other
    /// coordinates, one symbol): this covers every entry for every `d ≥ 2`. `variant`: 0 the
    /// theorem `(δ_ij − z_i z_j/s)/√s`, 1 the mutant `δ_ij/√s`, 2 the mutant `δ_ij − z_i z_j/s`.
    pub fn jacobian_entries(variant: u8) -> Result<String, String> {
        let s = "(z1^2+z2^2+r)";
        let f = alg::expr(&format!("z1*{s}^(-1/2)"));
        let d11 = alg::derivative(&f, "z1");
        let d12 = alg::derivative(&f, "z2");
        let (e11, e12) = match variant {
            0 => (
                format!("({s} - z1^2)*{s}^(-3/2)"),
                format!("-z1*z2*{s}^(-3/2)"),
            ),
            1 => (format!("{s}^(-1/2)"), "0".to_string()),
            _ => (format!("1 - z1^2*{s}^(-1)"), format!("-z1*z2*{s}^(-1)")),
        };
        // Fractional powers of one base are not merged by expand(): multiply through by s^(3/2).
        let through = alg::expr(&format!("{s}^(3/2)"));
        for (name, got, want) in [("(1,1)", &d11, e11), ("(1,2)", &d12, e12)] {
            let diff = (&(got - &alg::expr(&want)) * &through).expand();
            let diff = alg::normalise_rational(&diff);
            if !diff.is_zero() {
                return Err(format!(
                    "entry {name}: ∂ = {}, claimed {want}",
                    alg::plain(got)
                ));
            }
        }
        Ok("entries (1,1) and (1,2) with ‖z‖² = z1² + z2² + r: every entry, every d ≥ 2".into())
    }

    /// Lagrange's identity `‖a‖²‖b‖² − (a·b)² = Σ_{i<j} (a_i b_j − a_j b_i)²` for d ≤ d_max: the
    /// Cauchy–Schwarz certificate behind "−cos ≥ −1".
    pub fn lagrange_identity(d_max: usize) -> Result<String, String> {
        for d in 1..=d_max {
            let a = |i: usize| alg::expr(&format!("a{}", i + 1));
            let b = |i: usize| alg::expr(&format!("b{}", i + 1));
            let (mut aa, mut bb, mut ab, mut sos) = (
                alg::expr("0"),
                alg::expr("0"),
                alg::expr("0"),
                alg::expr("0"),
            );
            for i in 0..d {
                aa = &aa + &(&a(i) * &a(i));
                bb = &bb + &(&b(i) * &b(i));
                ab = &ab + &(&a(i) * &b(i));
                for j in (i + 1)..d {
                    let m = &(&a(i) * &b(j)) - &(&a(j) * &b(i));
                    sos = &sos + &(&m * &m);
                }
            }
            let diff = (&(&(&aa * &bb) - &(&ab * &ab)) - &sos).expand();
            if !diff.is_zero() {
                return Err(format!("d = {d}: {}", alg::plain(&diff)));
            }
        }
        Ok(format!(
            "‖a‖²‖b‖² − (a·b)² is a sum of squares for d = 1…{d_max}"
        ))
    }

    /// The full Jacobian of `z ↦ z/‖z‖` for fully symbolic `z ∈ R^d`, `d ≤ d_max`: every entry
    /// `∂(z_i s^(−1/2))/∂z_j` against `(δ_ij s − z_i z_j) s^(−3/2)`, `s = Σ z_k²`, multiplied through
    /// by `s^(3/2)` (expand does not merge fractional powers of one base).
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

    /// `mean_i ‖z_i − o‖² = mean_i ‖z_i‖² − ‖o‖²` for symbolic vectors, `B ≤ b_max`, `d ≤ d_max`.
    pub fn centre_residual_identity(
        b_max: usize,
        d_max: usize,
        squared_centre: bool,
    ) -> Result<String, String> {
        for b in 1..=b_max {
            for d in 1..=d_max {
                let z = |i: usize, j: usize| alg::expr(&format!("z{}{}", i + 1, j + 1));
                let o: Vec<_> = (0..d)
                    .map(|j| {
                        let mut s = alg::expr("0");
                        for i in 0..b {
                            s = &s + &z(i, j);
                        }
                        (&s * &alg::expr(&format!("1/{b}"))).expand()
                    })
                    .collect();
                let mut lhs = alg::expr("0");
                let mut sq = alg::expr("0");
                for i in 0..b {
                    for (j, oj) in o.iter().enumerate() {
                        let r = &z(i, j) - oj;
                        lhs = &lhs + &(&r * &r);
                        sq = &sq + &(&z(i, j) * &z(i, j));
                    }
                }
                let inv_b = alg::expr(&format!("1/{b}"));
                let o2 = o.iter().fold(alg::expr("0"), |acc, x| &acc + &(x * x));
                let centre = if squared_centre { o2 } else { alg::expr("0") };
                let diff = (&(&(&lhs * &inv_b) - &(&sq * &inv_b)) + &centre).expand();
                if !diff.is_zero() {
                    return Err(format!(
                        "B = {b}, d = {d}: difference {}",
                        alg::plain(&diff)
                    ));
                }
            }
        }
        Ok(format!("polynomial identity for B ≤ {b_max}, d ≤ {d_max}"))
    }
}

// ---------------------------------------------------------------------------------------------
// D1
// ---------------------------------------------------------------------------------------------

fn claim_d1() -> Claim {
    Claim {
        id: "normalize_jacobian_eq_projection_div_norm",
        label: "D1",
        family: "gradients",
        title: "Gradient analysis of the l2-normalised representation",
        quote: "we introduce vector decomposition for analyzing the collapse based on the gradient analysis of the l2-normalized representation vector.",
        place: "Paper abstract (Zhang et al., 2022)",
        statement: r"Z=\frac{z}{\lVert z\rVert}:\quad \frac{\partial Z}{\partial z}=\frac{I-ZZ^\top}{\lVert z\rVert}",
        nature: Nature::Interpretive,
    }
}

/// Jacobian variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Jacobian {
    /// `(I − ZZᵀ)/‖z‖`.
    Theorem,
    /// Mutant: `I/‖z‖` (the projection dropped).
    NoProjection,
    /// Mutant: `I − ZZᵀ` (the `1/‖z‖` dropped).
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

fn test_vectors(prec: u32) -> Vec<Vec<Float>> {
    let mut s = Sampler::new(0xd1, prec);
    [3usize, 6, 10]
        .iter()
        .map(|&d| {
            let scale = Float::with_val(prec, d as u64) / 2u32;
            s.unit_vector(d).into_iter().map(|x| x * &scale).collect()
        })
        .collect()
}

fn jacobian_fd_check(prec: u32, v: Jacobian) -> Check {
    let tol = fd_tolerance(prec);
    let f = |x: &[Float]| normalize(x);
    let mut worst_bits = u32::MAX;
    for z in test_vectors(prec) {
        let d = z.len();
        let fd = jacobian(&f, &z, DEFAULT_STEP_LOG2);
        let an = v.eval(&z);
        let (i, j, err) = worst_entry(&fd, &an);
        let scale = Float::with_val(prec, fd.max_abs() + Float::with_val(prec, 1) / norm(&z));
        if !tol.accepts(&err, &scale) {
            return checked(
                "against 256-bit Richardson central differences",
                Method::Numeric {
                    prec,
                    cases: 3,
                    seed: Some(0xd1),
                },
                Err(format!(
                    "d = {d}: worst entry ({i}, {j}): finite difference {:.6e}, formula {:.6e}",
                    fd.at(i, j),
                    an.at(i, j)
                )),
            );
        }
        worst_bits = worst_bits.min(sslproof::hp::bits_below(&Float::with_val(
            prec,
            &err / &scale,
        )));
    }
    checked(
        "against 256-bit Richardson central differences",
        Method::Numeric {
            prec,
            cases: 3,
            seed: Some(0xd1),
        },
        Ok(format!(
            "d = 3, 6, 10: worst entry agrees to 2^-{worst_bits} relative (tolerance {})",
            tol.describe()
        )),
    )
}

/// Null space and spectrum of `J`: `Jz = 0`, eigenvalues `0` once and `1/‖z‖` `d−1` times.
fn spectrum_check(prec: u32) -> Check {
    let tol = Tol::linalg(prec, 10, 0);
    for z in test_vectors(prec) {
        let d = z.len();
        let j = Jacobian::Theorem.eval(&z);
        let jz: Vec<Float> = (0..d)
            .map(|i| {
                (0..d).fold(Float::new(prec), |s, k| {
                    s + Float::with_val(prec, j.at(i, k) * &z[k])
                })
            })
            .collect();
        let n = norm(&z);
        if !tol.accepts(&norm(&jz), &Float::with_val(prec, 1)) {
            return checked(
                "null space and spectrum",
                Method::Numeric {
                    prec,
                    cases: 3,
                    seed: Some(0xd1),
                },
                Err(format!("d = {d}: ‖Jz‖ = {:.3e}", norm(&jz))),
            );
        }
        let e = j.sym_eigen().map_err(|e| e.to_string());
        let Ok(e) = e else {
            return checked(
                "null space and spectrum",
                Method::Numeric {
                    prec,
                    cases: 3,
                    seed: Some(0xd1),
                },
                Err("eigendecomposition failed".into()),
            );
        };
        let inv = Float::with_val(prec, 1) / &n;
        let zero_ok = tol.accepts(&e.values[0], &inv);
        let rest_ok = e.values[1..]
            .iter()
            .all(|l| tol.accepts(&Float::with_val(prec, l - &inv), &inv));
        if !(zero_ok && rest_ok) {
            return checked(
                "null space and spectrum",
                Method::Numeric {
                    prec,
                    cases: 3,
                    seed: Some(0xd1),
                },
                Err(format!(
                    "d = {d}: eigenvalues {:?}",
                    e.values
                        .iter()
                        .map(|x| format!("{x:.4}"))
                        .collect::<Vec<_>>()
                )),
            );
        }
    }
    checked("null space and spectrum", Method::Numeric { prec, cases: 3, seed: Some(0xd1) }, Ok("d = 3, 6, 10: Jz = 0; eigenvalues 0 (once) and 1/‖z‖ (d − 1 times), by Jacobi at 256 bits".into()))
}

/// `L(z) = φ(z/‖z‖)` with `φ(Z) = −Z·b + ½(Z·c)²`: finite differences of the composite against
/// `J ∇φ`.
fn chain_rule_check(prec: u32, v: Jacobian) -> Check {
    let tol = fd_tolerance(prec);
    let mut s = Sampler::new(0xc4a1, prec);
    for z in test_vectors(prec) {
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
        let j = v.eval(&z);
        let chain: Vec<Float> = (0..d)
            .map(|i| {
                (0..d).fold(Float::new(prec), |acc, k| {
                    acc + Float::with_val(prec, j.at(i, k) * &grad_phi[k])
                })
            })
            .collect();
        let err = fd
            .iter()
            .zip(&chain)
            .map(|(a, b)| Float::with_val(prec, a - b).abs())
            .fold(Float::new(prec), |m, x| if x > m { x } else { m });
        if !tol.accepts(&err, &Float::with_val(prec, norm(&fd) + 1u32)) {
            return checked(
                "chain rule ∇_z L = J ∇_Z L against finite differences",
                Method::Numeric {
                    prec,
                    cases: 3,
                    seed: Some(0xc4a1),
                },
                Err(format!("d = {d}: largest difference {err:.3e}")),
            );
        }
    }
    checked(
        "chain rule ∇_z L = J ∇_Z L against finite differences",
        Method::Numeric {
            prec,
            cases: 3,
            seed: Some(0xc4a1),
        },
        Ok("L(z) = −Z·b + ½(Z·c)², d = 3, 6, 10".into()),
    )
}

/// A gradient step `z − ηg` with `g = ∇_z L ⟂ z`: the observed order of `‖z − ηg‖ − ‖z‖` in η
/// and its second-order coefficient `‖g‖²/(2‖z‖)`. `claimed_order`/`claimed_sign` describe the
/// statement checked.
fn norm_step_check(prec: u32, claimed_order: f64, claimed_increase: bool) -> Check {
    let z = test_vectors(prec).swap_remove(1);
    let d = z.len();
    let mut s = Sampler::new(0x57e9, prec);
    let upstream = s.unit_vector(d);
    let g: Vec<Float> = {
        let j = Jacobian::Theorem.eval(&z);
        (0..d)
            .map(|i| {
                (0..d).fold(Float::new(prec), |acc, k| {
                    acc + Float::with_val(prec, j.at(i, k) * &upstream[k])
                })
            })
            .collect()
    };
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
    let ok = (order - claimed_order).abs() <= 0.01 && increases == claimed_increase;
    checked(
        format!(
            "norm after a gradient step: order {claimed_order}, {}",
            if claimed_increase {
                "increase"
            } else {
                "decrease"
            }
        ),
        Method::Numeric {
            prec,
            cases: 11,
            seed: Some(0x57e9),
        },
        if ok { Ok(detail) } else { Err(detail) },
    )
}

fn run_d1(cfg: &Config) -> Findings {
    let prec = cfg.prec;
    let mut f = Findings::default();
    f.propositions.push(
        Proposition::new(
            Role::Precise,
            "the Jacobian of z ↦ z/‖z‖ is (I − ZZᵀ)/‖z‖",
            r"\frac{\partial Z}{\partial z}=\frac{1}{\lVert z\rVert}\big(I-ZZ^\top\big)",
        )
        .with(sym_check(
            "symbolic, ‖z‖² = z₁² + z₂² + r",
            Method::Symbolic {
                scope: Scope::AllD {
                    via: "every entry depends on z_i, z_j and the rest of ‖z‖² as one symbol"
                        .into(),
                },
            },
            sym_job!(symbolic::jacobian_entries(0)),
        ))
        .with({
            let dm = cfg.sym_d_max;
            sym_check(
                &format!("full Jacobian, fully symbolic z, d ≤ {dm}"),
                Method::Symbolic {
                    scope: Scope::UpToD { d_max: dm },
                },
                sym_job!(symbolic::jacobian_full(dm)),
            )
        })
        .with(jacobian_fd_check(prec, Jacobian::Theorem)),
    );
    f.propositions.push(
        Proposition::new(
            Role::Precise,
            "its null space is span(z); its spectrum is 0 (once) and 1/‖z‖ (d − 1 times)",
            r"J z = 0,\qquad \mathrm{spec}(J)=\{0\}\cup\{1/\lVert z\rVert\}^{d-1}",
        )
        .with(spectrum_check(prec)),
    );
    f.propositions.push(Proposition::new(Role::Precise, "chain rule: ∇_z L = (I − ZZᵀ)∇_Z L/‖z‖ removes the component along Z and scales the rest by 1/‖z‖", r"\nabla_z\mathcal L=\frac{1}{\lVert z\rVert}\big(I-ZZ^\top\big)\nabla_Z\mathcal L").with(chain_rule_check(prec, Jacobian::Theorem)));
    f.propositions.push(Proposition::new(Role::Precise, "a gradient step leaves ‖z‖ unchanged to first order and increases it by η²‖g‖²/(2‖z‖) at second order", r"\lVert z-\eta g\rVert=\lVert z\rVert+\frac{\eta^2\lVert g\rVert^2}{2\lVert z\rVert}+O(\eta^4),\quad z^\top g=0").with(norm_step_check(prec, 2.0, true)));
    for (name, v, what) in [
        (
            "no_projection",
            Jacobian::NoProjection,
            "J = I/‖z‖ (the projection dropped)",
        ),
        (
            "no_scale",
            Jacobian::NoScale,
            "J = I − ZZᵀ (the 1/‖z‖ dropped)",
        ),
    ] {
        f.mutants.push(Mutant {
            name: name.into(),
            description: what.into(),
            checks: vec![
                sym_check(
                    "symbolic",
                    Method::Symbolic {
                        scope: Scope::Exact,
                    },
                    sym_job!(symbolic::jacobian_entries(if v == Jacobian::NoProjection {
                        1
                    } else {
                        2
                    })),
                ),
                jacobian_fd_check(prec, v),
                chain_rule_check(prec, v),
            ],
        });
    }
    f.mutants.push(Mutant {
        name: "step_shrinks_norm".into(),
        description: "a gradient step decreases ‖z‖ at second order".into(),
        checks: vec![norm_step_check(prec, 2.0, false)],
    });
    f.mutants.push(Mutant {
        name: "first_order_norm_change".into(),
        description: "a gradient step changes ‖z‖ at first order".into(),
        checks: vec![norm_step_check(prec, 1.0, true)],
    });
    f.step("\"Gradient analysis of the l2-normalised vector\" announces a method; the precise statements it rests on are below.", None);
    f.step("Differentiating $Z_i=z_i(\\sum_kz_k^2)^{-1/2}$: $\\partial Z_i/\\partial z_j=\\delta_{ij}\\lVert z\\rVert^{-1}-z_iz_j\\lVert z\\rVert^{-3}$. symbolica checks entries (1,1) and (1,2) with $\\lVert z\\rVert^2=z_1^2+z_2^2+r$, which is every entry for every $d\\ge2$:", Some(r"\frac{\partial Z}{\partial z}=\frac{1}{\lVert z\rVert}\big(I-ZZ^\top\big)".into()));
    f.step("$I-ZZ^\\top$ is the orthogonal projector onto $z^\\perp$: null space $\\mathrm{span}(z)$, eigenvalue 1 on the $(d-1)$-dimensional complement; scaled by $1/\\lVert z\\rVert$.", None);
    f.step("So every gradient through a normalisation is orthogonal to $z$: $\\lVert z-\\eta g\\rVert^2=\\lVert z\\rVert^2+\\eta^2\\lVert g\\rVert^2$. The norm does not change to first order and grows at second order; with weight decay absent, norms drift up during training, which shrinks later gradients by $1/\\lVert z\\rVert$.", None);
    f
}

// ---------------------------------------------------------------------------------------------
// D2
// ---------------------------------------------------------------------------------------------

fn claim_d2() -> Claim {
    Claim {
        id: "centre_residual_decomposition_of_unit_vectors",
        label: "D2",
        family: "gradients",
        title: "De-centering enforces non-zero variance in every dimension",
        quote: "De-centering: enforces non-zero variance in every dimension (so features can't collapse to a constant).",
        place: "A unified framework for covariance-regularized SSL, item 3 (Regularizer Ω(Σ))",
        statement: r"\lVert o\rVert<1\ \Longrightarrow\ \Sigma_{jj}>0\ \ \forall j",
        nature: Nature::Mathematical,
    }
}

/// Unit vectors evenly spaced on a circle in the (e₁, e₂) plane of `R^d`: centre 0, yet every
/// coordinate beyond the second has zero variance.
fn planar_batch(prec: u32, b: usize, d: usize) -> Mat {
    let two_pi = Float::with_val(prec, rug::float::Constant::Pi) * 2u32;
    Mat::from_fn(b, d, prec, |i, j| {
        let angle = Float::with_val(prec, &two_pi * i as u64) / b as u64;
        match j {
            0 => angle.cos(),
            1 => angle.sin(),
            _ => Float::new(prec),
        }
    })
}

/// `‖o‖² + mean‖r‖² = 1` and `tr Σ = 1 − ‖o‖²` on random unit batches. `variant`: 0 the theorem,
/// 1 the mutant `‖o‖ + mean‖r‖² = 1`, 2 the mutant `tr Σ = 1 + ‖o‖²`.
fn decomposition_numeric(prec: u32, variant: u8) -> Check {
    let mut s = Sampler::new(0xd2, prec);
    let tol = Tol::linalg(prec, 64, 0);
    for case in 0..40 {
        let d = 2 + case % 6;
        let b = 2 + 3 * (case % 7);
        // Unit vectors with a shared direction, so that ‖o‖ ranges over (0, 1).
        let shared = s.unit_vector(d);
        let w = Float::with_val(prec, case as u64) / 40u32;
        let rows: Vec<Vec<Float>> = (0..b)
            .map(|_| {
                let v = s.unit_vector(d);
                normalize(
                    &v.iter()
                        .zip(&shared)
                        .map(|(x, y)| {
                            Float::with_val(prec, x + Float::with_val(prec, y * &w) * 3u32)
                        })
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let z = Mat::from_fn(b, d, prec, |i, j| rows[i][j].clone());
        let o: Vec<Float> = (0..d)
            .map(|j| (0..b).fold(Float::new(prec), |a, i| a + z.at(i, j)) / b as u64)
            .collect();
        let o2 = dot(&o, &o);
        let mean_r2 = (0..b).fold(Float::new(prec), |a, i| {
            let r: Vec<Float> = (0..d)
                .map(|j| Float::with_val(prec, z.at(i, j) - &o[j]))
                .collect();
            a + dot(&r, &r)
        }) / b as u64;
        let tr = covariance(&z, Centring::Centred, Divisor::B)
            .expect("valid")
            .trace()
            .expect("square");
        let one = Float::with_val(prec, 1);
        let (lhs, rhs) = match variant {
            0 => (Float::with_val(prec, &o2 + &mean_r2), one.clone()),
            1 => (
                Float::with_val(prec, o2.clone().sqrt() + &mean_r2),
                one.clone(),
            ),
            _ => (tr.clone(), Float::with_val(prec, &o2 + 1u32)),
        };
        let tr_ok = variant == 2
            || tol.accepts(
                &Float::with_val(prec, &tr - Float::with_val(prec, 1 - &o2)),
                &one,
            );
        if !tol.accepts(&Float::with_val(prec, &lhs - &rhs), &one) || !tr_ok {
            return checked(
                "random unit batches at 256 bits",
                Method::Numeric {
                    prec,
                    cases: case + 1,
                    seed: Some(0xd2),
                },
                Err(format!(
                    "B = {b}, d = {d}, ‖o‖² = {o2:.6}: {lhs:.10} ≠ {rhs:.10}"
                )),
            );
        }
    }
    checked(
        "random unit batches at 256 bits",
        Method::Numeric {
            prec,
            cases: 40,
            seed: Some(0xd2),
        },
        Ok("40 batches, B ∈ 2…20, d ∈ 2…7, ‖o‖ across (0, 1)".into()),
    )
}

fn every_dimension_check(prec: u32, claim_every_dimension: bool) -> Check {
    let z = planar_batch(prec, 3, 3);
    let sigma = covariance(&z, Centring::Centred, Divisor::B).expect("valid");
    let o: Vec<Float> = (0..3)
        .map(|j| (0..3).fold(Float::new(prec), |a, i| a + z.at(i, j)) / 3u32)
        .collect();
    let o_norm = norm(&o);
    let decentred = o_norm < 1;
    let s33_zero = sigma.at(2, 2).is_zero();
    let detail = format!(
        "three unit vectors at 120° in the (e₁, e₂) plane of R³: ‖o‖ = {:.1e} (fully de-centred), tr Σ = {:.4}, Σ₃₃ = {}",
        o_norm,
        sigma.trace().expect("square"),
        sigma.at(2, 2)
    );
    let holds = !(decentred && s33_zero);
    checked(
        "a de-centred batch with a dead dimension",
        Method::Numeric {
            prec,
            cases: 1,
            seed: None,
        },
        if holds == claim_every_dimension {
            Ok(detail)
        } else {
            Err(detail)
        },
    )
}

fn run_d2(cfg: &Config) -> Findings {
    let prec = cfg.prec;
    let mut f = Findings::default();
    f.propositions.push(
        Proposition::new(
            Role::AsWritten,
            "de-centering (‖o‖ < 1 for unit vectors) forces non-zero variance in every dimension",
            r"\lVert o\rVert<1\Rightarrow\Sigma_{jj}>0\ \forall j",
        )
        .with(every_dimension_check(prec, true)),
    );
    f.propositions.push(
        Proposition::new(Role::Corrected, "for unit vectors z_i = o + r_i: ‖o‖² + mean‖r_i‖² = 1, so tr Σ = 1 − ‖o‖²: de-centering forces variance in total, not in every dimension", r"\lVert o\rVert^2+\tfrac1B\sum_i\lVert r_i\rVert^2=1,\qquad \mathrm{tr}\,\Sigma=\tfrac1B\sum_i\lVert r_i\rVert^2=1-\lVert o\rVert^2")
            .with(sym_check("mean‖z − o‖² = mean‖z‖² − ‖o‖², symbolic B ≤ 4, d ≤ 3", Method::Symbolic { scope: Scope::AllD { via: "expanding ‖z_i − o‖² and summing (Σ_i r_i = 0)".into() } }, sym_job!(symbolic::centre_residual_identity(4, 3, true))))
            .with(decomposition_numeric(prec, 0)),
    );
    f.mutants.push(Mutant {
        name: "norm_not_squared".into(),
        description: "‖o‖ + mean‖r‖² = 1".into(),
        checks: vec![decomposition_numeric(prec, 1)],
    });
    f.mutants.push(Mutant {
        name: "trace_plus_centre".into(),
        description: "tr Σ = 1 + ‖o‖²".into(),
        checks: vec![
            sym_check(
                "symbolic, without the ‖o‖² term",
                Method::Symbolic {
                    scope: Scope::Exact,
                },
                sym_job!(symbolic::centre_residual_identity(2, 2, false)),
            ),
            decomposition_numeric(prec, 2),
        ],
    });
    f.step("Write each unit vector as $z_i=o+r_i$ with $o=\\tfrac1B\\sum_iz_i$ (the centre) and $\\sum_ir_i=0$. Then $\\tfrac1B\\sum_i\\lVert z_i\\rVert^2=\\lVert o\\rVert^2+\\tfrac1B\\sum_i\\lVert r_i\\rVert^2$ (the cross term vanishes), and $\\lVert z_i\\rVert=1$:", Some(r"\lVert o\rVert^2+\tfrac1B\sum_i\lVert r_i\rVert^2=1,\qquad \mathrm{tr}\,\Sigma=1-\lVert o\rVert^2".into()));
    f.step("Complete collapse is $\\lVert o\\rVert=1$ (all $r_i=0$); de-centering ($\\lVert o\\rVert<1$) is exactly positive *total* variance.", None);
    f.step("It says nothing about how the variance is spread: three unit vectors at 120° in a plane of $\\mathbb R^3$ have $o=0$ (fully de-centred) and $\\Sigma_{33}=0$. Variance in every dimension needs the de-correlation / full-rank part (B5) as well.", None);
    f
}

// ---------------------------------------------------------------------------------------------
// D3
// ---------------------------------------------------------------------------------------------

fn claim_d3() -> Claim {
    Claim {
        id: "infonce_anchor_gradient_splits_into_centre_and_residual",
        label: "D3",
        family: "gradients",
        title: "A unified perspective: how negative samples alleviate collapse",
        quote: "This yields a unified perspective on how negative samples and SimSiam alleviate collapse.",
        place: "Paper abstract (Zhang et al., 2022)",
        statement: r"\frac{\partial\mathcal L_{\rm NCE}}{\partial Z_a}=\frac{1-\lambda_0}{\tau}\Big(-Z_b+o+\sum_{i\ge1}\tilde\lambda_ir_i\Big)",
        nature: Nature::Interpretive,
    }
}

/// A fixed InfoNCE instance: anchor, positive, `n` negatives (unit vectors in R^d).
struct Nce {
    a: Vec<Float>,
    keys: Vec<Vec<Float>>, // keys[0] is the positive
}

fn nce_instance(prec: u32) -> Nce {
    let mut s = Sampler::new(0xd3, prec);
    let d = 5;
    Nce {
        a: s.unit_vector(d),
        keys: (0..7).map(|_| s.unit_vector(d)).collect(),
    }
}

fn nce_loss(a: &[Float], keys: &[Vec<Float>], tau: &Float) -> Float {
    let prec = a[0].prec();
    let logits: Vec<Float> = keys.iter().map(|k| dot(a, k) / tau).collect();
    let m = logits
        .iter()
        .cloned()
        .fold(logits[0].clone(), |x, y| if y > x { y } else { x });
    let lse = logits
        .iter()
        .fold(Float::new(prec), |s, l| {
            s + Float::with_val(prec, l - &m).exp()
        })
        .ln()
        + &m;
    lse - &logits[0]
}

fn softmax_weights(a: &[Float], keys: &[Vec<Float>], tau: &Float) -> Vec<Float> {
    let prec = a[0].prec();
    let logits: Vec<Float> = keys.iter().map(|k| dot(a, k) / tau).collect();
    let m = logits
        .iter()
        .cloned()
        .fold(logits[0].clone(), |x, y| if y > x { y } else { x });
    let e: Vec<Float> = logits
        .iter()
        .map(|l| Float::with_val(prec, l - &m).exp())
        .collect();
    let z = e.iter().fold(Float::new(prec), |s, x| s + x);
    e.into_iter().map(|x| x / &z).collect()
}

/// Gradient variants for the anchor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NceGrad {
    /// `−(1/τ)(Z_b − Σ_i λ_i Z_i)`.
    Theorem,
    /// Mutant: the `1/τ` dropped.
    NoTemperature,
    /// Mutant: `+(1/τ)(Z_b − Σ λ_i Z_i)`.
    WrongSign,
}

fn nce_gradient(p: &Nce, tau: &Float, v: NceGrad) -> Vec<Float> {
    let prec = p.a[0].prec();
    let w = softmax_weights(&p.a, &p.keys, tau);
    let d = p.a.len();
    (0..d)
        .map(|j| {
            let mix = p.keys.iter().zip(&w).fold(Float::new(prec), |s, (k, l)| {
                s + Float::with_val(prec, &k[j] * l)
            });
            let g = Float::with_val(prec, &mix - &p.keys[0][j]);
            match v {
                NceGrad::Theorem => g / tau,
                NceGrad::NoTemperature => g,
                NceGrad::WrongSign => -g / tau,
            }
        })
        .collect()
}

fn nce_gradient_check(prec: u32, v: NceGrad) -> Check {
    let p = nce_instance(prec);
    let tol = fd_tolerance(prec);
    let mut lines = Vec::new();
    for (num, den) in [(1u32, 5u32), (1, 1), (5, 1)] {
        let tau = Float::with_val(prec, num) / den;
        let fd = gradient(
            &|x: &[Float]| nce_loss(x, &p.keys, &tau),
            &p.a,
            DEFAULT_STEP_LOG2,
        );
        let an = nce_gradient(&p, &tau, v);
        let (jmax, err) = fd
            .iter()
            .zip(&an)
            .enumerate()
            .map(|(j, (a, b))| (j, Float::with_val(prec, a - b).abs()))
            .fold((0, Float::new(prec)), |m, x| if x.1 > m.1 { x } else { m });
        if !tol.accepts(&err, &Float::with_val(prec, norm(&fd) + 1u32)) {
            return checked(
                "anchor gradient against 256-bit finite differences",
                Method::Numeric {
                    prec,
                    cases: 3,
                    seed: Some(0xd3),
                },
                Err(format!(
                    "τ = {num}/{den}: worst component {jmax}: finite difference {:.6e}, formula {:.6e}",
                    fd[jmax], an[jmax]
                )),
            );
        }
        lines.push(format!("τ = {num}/{den}"));
    }
    checked(
        "anchor gradient against 256-bit finite differences",
        Method::Numeric {
            prec,
            cases: 3,
            seed: Some(0xd3),
        },
        Ok(format!(
            "d = 5, 6 negatives, {}: agree within {}",
            lines.join(", "),
            tol.describe()
        )),
    )
}

/// The split: `−(1/τ)(Z_b − Σλ_iZ_i) = ((1−λ₀)/τ)(−Z_b + o + Σ_{i≥1} λ̃_i r_i)` with `r_i = Z_i − o`,
/// `λ̃_i = λ_i/(1−λ₀)`; `renormalised = false` is the mutant using `λ_i` in place of `λ̃_i`.
fn split_check(prec: u32, renormalised: bool) -> Check {
    let p = nce_instance(prec);
    let tau = Float::with_val(prec, 1) / 5u32;
    let d = p.a.len();
    let w = softmax_weights(&p.a, &p.keys, &tau);
    let negs = &p.keys[1..];
    let o: Vec<Float> = (0..d)
        .map(|j| negs.iter().fold(Float::new(prec), |s, k| s + &k[j]) / negs.len() as u64)
        .collect();
    let one_minus = Float::with_val(prec, 1 - &w[0]);
    let tilde: Vec<Float> = w[1..]
        .iter()
        .map(|l| {
            if renormalised {
                Float::with_val(prec, l / &one_minus)
            } else {
                l.clone()
            }
        })
        .collect();
    let grad = nce_gradient(&p, &tau, NceGrad::Theorem);
    let split: Vec<Float> = (0..d)
        .map(|j| {
            let res = negs.iter().zip(&tilde).fold(Float::new(prec), |s, (k, t)| {
                s + Float::with_val(prec, Float::with_val(prec, &k[j] - &o[j]) * t)
            });
            Float::with_val(prec, &one_minus / &tau)
                * (Float::with_val(prec, &o[j] - &p.keys[0][j]) + res)
        })
        .collect();
    let err = grad
        .iter()
        .zip(&split)
        .map(|(a, b)| Float::with_val(prec, a - b).abs())
        .fold(Float::new(prec), |m, x| if x > m { x } else { m });
    let ok = Tol::scalar(prec).accepts(&err, &Float::with_val(prec, norm(&grad) + 1u32));
    checked(
        "split into centre and residual parts, 256-bit",
        Method::Numeric {
            prec,
            cases: 1,
            seed: Some(0xd3),
        },
        if ok {
            Ok(format!(
                "τ = 0.2: the two forms agree within {}",
                Tol::scalar(prec).describe()
            ))
        } else {
            Err(format!("largest component difference {err:.3e}"))
        },
    )
}

/// High temperature: `‖Σλ̃_i r_i‖` against τ (o = the negatives' mean, so the limit is 0), with the
/// observed order in `1/τ`; low temperature: `1 − max λ̃` against τ. `claim_high_concentrates`: the
/// mutant "at high temperature the weights concentrate on the hardest negative".
fn temperature_limits(prec: u32, claim_high_concentrates: bool) -> Check {
    let p = nce_instance(prec);
    let d = p.a.len();
    let negs = &p.keys[1..];
    let o: Vec<Float> = (0..d)
        .map(|j| negs.iter().fold(Float::new(prec), |s, k| s + &k[j]) / negs.len() as u64)
        .collect();
    // λ̃ = λ_i/(1−λ₀) is the softmax over the negatives alone; computing it that way avoids the
    // cancellation in 1 − λ₀ when the positive takes almost all the weight (small τ).
    let tilde = |tau: &Float| softmax_weights(&p.a, negs, tau);
    let residual_part = |tau: &Float| {
        let t = tilde(tau);
        let v: Vec<Float> = (0..d)
            .map(|j| {
                negs.iter().zip(&t).fold(Float::new(prec), |s, (k, w)| {
                    s + Float::with_val(prec, Float::with_val(prec, &k[j] - &o[j]) * w)
                })
            })
            .collect();
        norm(&v)
    };
    let highs: Vec<Float> = [10u32, 100, 1000, 10_000]
        .iter()
        .map(|&t| residual_part(&Float::with_val(prec, t)))
        .collect();
    let high_order = *observed_orders(&highs).last().expect("orders") / 10f64.log2();
    let max_tilde = |tau: &Float| {
        tilde(tau)
            .into_iter()
            .fold(Float::new(prec), |m, x| if x > m { x } else { m })
    };
    // 1 − max λ̃ decays like exp(−Δ/τ), Δ the gap between the two hardest negatives' similarities.
    let lows: Vec<Float> = [1u32, 10, 100, 1000, 10_000]
        .iter()
        .map(|&dd| Float::with_val(prec, 1 - max_tilde(&(Float::with_val(prec, 1) / dd))))
        .collect();
    let high_max = max_tilde(&Float::with_val(prec, 10_000));
    let detail = format!(
        "‖Σλ̃ᵢrᵢ‖ at τ = 10, 10², 10³, 10⁴: {} (order {high_order:.3} in 1/τ → 0: pure de-centering); 1 − max λ̃ at τ = 1, 10⁻¹, 10⁻², 10⁻³, 10⁻⁴: {} (the hardest negative takes all the weight); max λ̃ at τ = 10⁴: {:.6} (uniform 1/6 = 0.166667)",
        highs
            .iter()
            .map(|x| format!("{x:.3e}"))
            .collect::<Vec<_>>()
            .join(", "),
        lows.iter()
            .map(|x| format!("{x:.3e}"))
            .collect::<Vec<_>>()
            .join(", "),
        high_max
    );
    let low_ok =
        lows.windows(2).all(|w| w[1] < w[0]) && lows[4] < Float::with_val(prec, 1) >> 20u32;
    let limits_ok = (high_order - 1.0).abs() <= 0.01 && low_ok;
    let high_concentrates = high_max > Float::with_val(prec, 1) / 2u32;
    let ok = limits_ok && (high_concentrates == claim_high_concentrates);
    checked(
        "temperature limits, shown numerically",
        Method::Numeric {
            prec,
            cases: 7,
            seed: Some(0xd3),
        },
        if ok { Ok(detail) } else { Err(detail) },
    )
}

fn run_d3(cfg: &Config) -> Findings {
    let prec = cfg.prec;
    let mut f = Findings::default();
    f.propositions.push(Proposition::new(Role::Precise, "the InfoNCE gradient with respect to the anchor is −(1/τ)(Z_b − Σ_i λ_i Z_i), λ the softmax weights (positive included)", r"\frac{\partial\mathcal L}{\partial Z_a}=-\frac1\tau\Big(Z_b-\sum_{i=0}^N\lambda_iZ_i\Big),\quad \lambda_i=\frac{e^{Z_a\cdot Z_i/\tau}}{\sum_je^{Z_a\cdot Z_j/\tau}}").with(nce_gradient_check(prec, NceGrad::Theorem)));
    f.propositions.push(Proposition::new(Role::Precise, "it splits into a de-centering part o and a de-correlation part Σ λ̃_i r_i (λ̃_i = λ_i/(1−λ₀), r_i = Z_i − o)", r"=\frac{1-\lambda_0}{\tau}\Big(-Z_b+\underbrace{o}_{\text{de-centering}}+\underbrace{\textstyle\sum_{i\ge1}\tilde\lambda_ir_i}_{\text{de-correlation}}\Big)").with(split_check(prec, true)));
    f.propositions.push(Proposition::new(Role::Precise, "as τ → ∞ the weights become uniform and the residual part vanishes (pure de-centering); as τ → 0 the weight concentrates on the hardest negative", r"\tau\to\infty:\ \tilde\lambda_i\to\tfrac1N,\ \textstyle\sum\tilde\lambda_ir_i\to\bar r=0;\qquad \tau\to0:\ \tilde\lambda\to e_{\arg\max_iZ_a\cdot Z_i}").with(temperature_limits(prec, false)));
    f.mutants.push(Mutant {
        name: "no_temperature".into(),
        description: "the gradient without the factor 1/τ".into(),
        checks: vec![nce_gradient_check(prec, NceGrad::NoTemperature)],
    });
    f.mutants.push(Mutant {
        name: "wrong_sign".into(),
        description: "+(1/τ)(Z_b − Σλ_iZ_i)".into(),
        checks: vec![nce_gradient_check(prec, NceGrad::WrongSign)],
    });
    f.mutants.push(Mutant {
        name: "weights_not_renormalised".into(),
        description: "the split with λ_i in place of λ̃_i".into(),
        checks: vec![split_check(prec, false)],
    });
    f.mutants.push(Mutant {
        name: "high_temperature_concentrates".into(),
        description: "at high temperature the weight concentrates on the hardest negative".into(),
        checks: vec![temperature_limits(prec, true)],
    });
    f.step("\"A unified perspective\" is the paper's reading; the precise statements are the gradient, its split and its limits, all [derived] in `reference-implementations.md` §2.2 and checked here before use.", None);
    f.step("With logits $Z_a\\cdot Z_i/\\tau$, the softmax cross-entropy gives the gradient (256-bit finite differences agree at $\\tau=0.2, 1, 5$); since $\\sum_{i\\ge1}\\tilde\\lambda_i=1$, any centre $o$ splits $\\sum_{i\\ge1}\\tilde\\lambda_iZ_i=o+\\sum_{i\\ge1}\\tilde\\lambda_ir_i$.", None);
    f.step("Descent moves $Z_a$ along $-o$ (away from the shared centre: de-centering) and away from the residuals of the negatives that resemble it most (de-correlation). At high temperature the weights are uniform, the residual part is the mean residual ($0$ when $o$ is the negatives' mean), leaving pure de-centering; at low temperature the hardest negative takes all the weight.", None);
    f
}

// ---------------------------------------------------------------------------------------------
// D5
// ---------------------------------------------------------------------------------------------

fn claim_d5() -> Claim {
    Claim {
        id: "coding_rate_and_vicreg_gradients_closed_forms",
        label: "D5",
        family: "gradients",
        title: "Gradients of the coding rate and of VICReg's terms through the covariance",
        quote: "$\\nabla_\\Sigma R_\\varepsilon$ and $\\nabla_Z R_\\varepsilon$ through the covariance; the same through VICReg's terms (claims.md D5, behind B3).",
        place: "claims.md D5 (the notes' B3 sentence: to maximize det, push all eigenvalues away from zero)",
        statement: r"\nabla_\Sigma R_\varepsilon=\tfrac\alpha2(I+\alpha\Sigma)^{-1},\quad \nabla_ZR_\varepsilon=\tfrac{\alpha}{B}Z_c(I+\alpha\Sigma)^{-1}",
        nature: Nature::Mathematical,
    }
}

/// The gradients checked, with mutants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CovGrad {
    /// `∇_Σ R_ε = (α/2)(I+αΣ)⁻¹`.
    RateSigma,
    /// Mutant: `α(I+αΣ)⁻¹` (the ½ dropped).
    RateSigmaNoHalf,
    /// `∇_Z R_ε = (α/B) Z_c (I+αΣ)⁻¹`, Σ centred with 1/B.
    RateZ,
    /// Mutant: `(α/B) Z (I+αΣ)⁻¹` (centring ignored).
    RateZUncentred,
    /// VICReg variance term: `∂v/∂Z_ij = −[1 − s_j > 0] (Z_ij − Z̄_j)/(d (B−1) s_j)`, `s_j = √(Var_j + ε)`.
    VicVar,
    /// Mutant: with `B` for `B − 1`.
    VicVarBiased,
    /// VICReg covariance term: `∇_Z c = 4/(d(B−1)) Z_c offdiag(C)`.
    VicCov,
    /// Mutant: factor 2 for 4.
    VicCovHalf,
}

fn centred(z: &Mat) -> Mat {
    let (b, d, prec) = (z.rows(), z.cols(), z.prec());
    let means: Vec<Float> = (0..d)
        .map(|j| (0..b).fold(Float::new(prec), |a, i| a + z.at(i, j)) / b as u64)
        .collect();
    Mat::from_fn(b, d, prec, |i, j| {
        Float::with_val(prec, z.at(i, j) - &means[j])
    })
}

fn rate_of_batch(z: &Mat, alpha: &Float) -> Float {
    let sigma = covariance(z, Centring::Centred, Divisor::B).expect("valid");
    sigma
        .identity_plus(alpha)
        .and_then(|m| m.logdet_spd())
        .expect("SPD")
        / 2u32
}

fn grad_check(prec: u32, g: CovGrad) -> Check {
    use sslproof_losses::vicreg;
    let tol = fd_tolerance(prec);
    let alpha = Float::with_val(prec, 3);
    let eps = vicreg::default_eps(prec);
    let one = Float::with_val(prec, 1);
    let mut s = Sampler::new(0xd5, prec);
    let (b, d) = (6usize, 3usize);
    // A batch with a non-zero mean and unequal scales, so that centring and the hinge both matter
    // (the third column's std is above 1: its hinge is inactive).
    let g0 = s.gaussian(b, d);
    let z = Mat::from_fn(b, d, prec, |i, j| {
        Float::with_val(
            prec,
            g0.at(i, j)
                * [
                    Float::with_val(prec, 1) / 2u32,
                    Float::with_val(prec, 3) / 4u32,
                    Float::with_val(prec, 3),
                ][j]
                    .clone(),
        ) + Float::with_val(prec, j as u64 + 1) / 2u32
    });
    let (name, fd, an): (&str, Mat, Mat) = match g {
        CovGrad::RateSigma | CovGrad::RateSigmaNoHalf => {
            let sigma = covariance(&z, Centring::Centred, Divisor::B).expect("valid");
            let f = |m: &Mat| {
                m.identity_plus(&alpha)
                    .and_then(|x| x.logdet_spd())
                    .expect("SPD")
                    / 2u32
            };
            let fd = sym_gradient(&f, &sigma, DEFAULT_STEP_LOG2);
            let inv = sigma
                .identity_plus(&alpha)
                .and_then(|m| m.inverse())
                .expect("SPD");
            let c = if g == CovGrad::RateSigma {
                Float::with_val(prec, &alpha / 2u32)
            } else {
                alpha.clone()
            };
            (
                "∇_Σ R_ε against 256-bit finite differences",
                fd,
                inv.scale(&c),
            )
        }
        _ => {
            let f: Box<dyn Fn(&Mat) -> Float> = match g {
                CovGrad::RateZ | CovGrad::RateZUncentred => {
                    Box::new(|m: &Mat| rate_of_batch(m, &alpha))
                }
                CovGrad::VicVar | CovGrad::VicVarBiased => {
                    Box::new(|m: &Mat| vicreg::variance_term(m, &one, &eps).expect("valid"))
                }
                _ => Box::new(|m: &Mat| vicreg::covariance_term(m).expect("valid")),
            };
            let flat: Vec<Float> = (0..b * d).map(|k| z.at(k / d, k % d).clone()).collect();
            let fg = gradient(
                &|x: &[Float]| f(&Mat::from_fn(b, d, prec, |i, j| x[i * d + j].clone())),
                &flat,
                DEFAULT_STEP_LOG2,
            );
            let fd = Mat::from_fn(b, d, prec, |i, j| fg[i * d + j].clone());
            let zc = centred(&z);
            let an = match g {
                CovGrad::RateZ | CovGrad::RateZUncentred => {
                    let sigma = covariance(&z, Centring::Centred, Divisor::B).expect("valid");
                    let inv = sigma
                        .identity_plus(&alpha)
                        .and_then(|m| m.inverse())
                        .expect("SPD");
                    let base = if g == CovGrad::RateZ { &zc } else { &z };
                    base.mul(&inv)
                        .expect("shapes")
                        .scale(&(Float::with_val(prec, &alpha / b as u64)))
                }
                CovGrad::VicVar | CovGrad::VicVarBiased => {
                    let div = if g == CovGrad::VicVar { b - 1 } else { b };
                    let var: Vec<Float> = (0..d)
                        .map(|j| {
                            (0..b).fold(Float::new(prec), |a, i| {
                                a + Float::with_val(prec, zc.at(i, j).square_ref())
                            }) / (b - 1) as u64
                        })
                        .collect();
                    Mat::from_fn(b, d, prec, |i, j| {
                        let sj = Float::with_val(prec, &var[j] + &eps).sqrt();
                        if sj >= 1 {
                            Float::new(prec)
                        } else {
                            -Float::with_val(
                                prec,
                                zc.at(i, j) / Float::with_val(prec, &sj * (d * div) as u64),
                            )
                        }
                    })
                }
                _ => {
                    let c = covariance(&z, Centring::Centred, Divisor::BMinusOne).expect("valid");
                    let off = Mat::from_fn(d, d, prec, |i, j| {
                        if i == j {
                            Float::new(prec)
                        } else {
                            c.at(i, j).clone()
                        }
                    });
                    let k = if g == CovGrad::VicCov { 4u32 } else { 2u32 };
                    zc.mul(&off)
                        .expect("shapes")
                        .scale(&(Float::with_val(prec, k) / ((d * (b - 1)) as u64)))
                }
            };
            let name = match g {
                CovGrad::RateZ | CovGrad::RateZUncentred => {
                    "∇_Z R_ε through the centred covariance, finite differences"
                }
                CovGrad::VicVar | CovGrad::VicVarBiased => {
                    "∇_Z of VICReg's variance term, finite differences"
                }
                _ => "∇_Z of VICReg's covariance term, finite differences",
            };
            (name, fd, an)
        }
    };
    let (i, j, err) = worst_entry(&fd, &an);
    let scale = Float::with_val(prec, fd.max_abs() + 1u32);
    let method = Method::Numeric {
        prec,
        cases: fd.rows() * fd.cols(),
        seed: Some(0xd5),
    };
    if tol.accepts(&err, &scale) {
        checked(
            name,
            method,
            Ok(format!(
                "B = {b}, d = {d} (batch mean ≠ 0, one hinge inactive): worst entry ({i}, {j}) agrees within {}",
                tol.describe()
            )),
        )
    } else {
        checked(
            name,
            method,
            Err(format!(
                "worst entry ({i}, {j}): finite difference {:.6e}, formula {:.6e}",
                fd.at(i, j),
                an.at(i, j)
            )),
        )
    }
}

fn run_d5(cfg: &Config) -> Findings {
    let prec = cfg.prec;
    let mut f = Findings::default();
    f.propositions.push(
        Proposition::new(
            Role::AsWritten,
            "∇_Σ R_ε = (α/2)(I + αΣ)⁻¹",
            r"\nabla_\Sigma\,\tfrac12\log\det(I+\alpha\Sigma)=\tfrac\alpha2(I+\alpha\Sigma)^{-1}",
        )
        .with(grad_check(prec, CovGrad::RateSigma)),
    );
    f.propositions.push(Proposition::new(Role::AsWritten, "∇_Z R_ε = (α/B) Z_c (I + αΣ)⁻¹ through the centred 1/B covariance (the centring's own Jacobian drops out because Z_c's columns sum to 0)", r"\nabla_ZR_\varepsilon=\tfrac2BZ_c\,\nabla_\Sigma R_\varepsilon=\tfrac\alpha BZ_c(I+\alpha\Sigma)^{-1}").with(grad_check(prec, CovGrad::RateZ)));
    f.propositions.push(Proposition::new(Role::AsWritten, "VICReg variance term: ∂v/∂Z_ij = −[s_j < 1](Z_ij − Z̄_j)/(d(B−1)s_j), s_j = √(Var_j + 10⁻⁴)", r"\frac{\partial v}{\partial Z_{ij}}=-\mathbb 1[s_j<1]\,\frac{Z_{ij}-\bar Z_j}{d(B-1)s_j}").with(grad_check(prec, CovGrad::VicVar)));
    f.propositions.push(
        Proposition::new(
            Role::AsWritten,
            "VICReg covariance term: ∇_Z c = 4/(d(B−1)) Z_c offdiag(C)",
            r"\nabla_Zc=\frac{4}{d(B-1)}Z_c\,\mathrm{offdiag}(C),\quad C=\tfrac{Z_c^\top Z_c}{B-1}",
        )
        .with(grad_check(prec, CovGrad::VicCov)),
    );
    for (name, g, what) in [
        (
            "sigma_gradient_no_half",
            CovGrad::RateSigmaNoHalf,
            "∇_Σ R_ε = α(I+αΣ)⁻¹",
        ),
        (
            "centring_ignored",
            CovGrad::RateZUncentred,
            "∇_Z R_ε = (α/B) Z (I+αΣ)⁻¹ with the uncentred Z",
        ),
        (
            "variance_biased",
            CovGrad::VicVarBiased,
            "the variance-term gradient with B for B − 1",
        ),
        (
            "covariance_factor_two",
            CovGrad::VicCovHalf,
            "∇_Z c = 2/(d(B−1)) Z_c offdiag(C)",
        ),
    ] {
        f.mutants.push(Mutant {
            name: name.into(),
            description: what.into(),
            checks: vec![grad_check(prec, g)],
        });
    }
    f.step("$R_\\varepsilon=\\tfrac12\\log\\det(I+\\alpha\\Sigma)$ has differential $\\tfrac\\alpha2\\mathrm{tr}((I+\\alpha\\Sigma)^{-1}d\\Sigma)$, so its gradient on symmetric matrices is $\\tfrac\\alpha2(I+\\alpha\\Sigma)^{-1}$: eigen-weights $\\tfrac\\alpha2/(1+\\alpha\\lambda_i)$, largest on the smallest eigenvalues (B3).", None);
    f.step("Through $\\Sigma=\\tfrac1BZ_c^\\top Z_c$: $d\\Sigma=\\tfrac1B(dZ_c^\\top Z_c+Z_c^\\top dZ_c)$ and $dZ_c=(I-\\tfrac1B\\mathbf 1\\mathbf 1^\\top)dZ$; because $\\mathbf 1^\\top Z_c=0$ the centring projector drops out, giving $\\nabla_Z=\\tfrac2BZ_c\\nabla_\\Sigma$.", None);
    f.step("VICReg's terms, per branch as in the official code (unbiased variance, $\\epsilon=10^{-4}$ inside the root): the hinge passes gradient only for coordinates with $s_j<1$, scaled by $1/s_j$; the covariance term's gradient is $Z_c$ times the off-diagonal part of $C$. All four closed forms agree with 256-bit finite differences on a batch with non-zero mean and one inactive hinge.", None);
    f
}

// ---------------------------------------------------------------------------------------------
// E2
// ---------------------------------------------------------------------------------------------

fn claim_e2() -> Claim {
    Claim {
        id: "logdet_of_covariance_singular_when_batch_le_dim",
        label: "E2",
        family: "objective",
        title: "Explicit Ω works with moderate batch sizes, without large negatives or momentum encoders",
        quote: "Stability and robustness: explicit $\\Omega$ avoids the need for large negatives, momentum encoders, or architectural tricks; works with moderate batch sizes.",
        place: "A unified framework for covariance-regularized SSL, item 6 (Practical consequences)",
        statement: r"\text{explicit }\Omega(\Sigma)\Rightarrow\text{no large negatives / momentum encoders needed; moderate }B\text{ suffices}",
        nature: Nature::Empirical,
    }
}

/// Eigenvalues of the centred covariance of a random `B × d` batch: `B − 1` positive, the rest 0.
fn rank_check(prec: u32, claimed_rank_b: bool) -> Check {
    let mut s = Sampler::new(0xe2, prec);
    let (b, d) = (4usize, 8usize);
    let z = s.gaussian(b, d);
    let sigma = covariance(&z, Centring::Centred, Divisor::B).expect("valid");
    let e = sigma.sym_eigen().expect("symmetric");
    let top = e.values.last().expect("d > 0").clone();
    let zero_tol = Float::with_val(prec, &top >> Tol::linalg(prec, d, 0).bits);
    let rank = e
        .values
        .iter()
        .filter(|l| Float::with_val(prec, l.abs_ref()) > zero_tol)
        .count();
    let claimed = if claimed_rank_b { b } else { b - 1 };
    let detail = format!(
        "B = {b}, d = {d}: centred covariance has {rank} nonzero eigenvalues (the rest below 2^-{} of the largest)",
        Tol::linalg(prec, d, 0).bits
    );
    checked(
        format!(
            "rank of the centred covariance = {}",
            if claimed_rank_b { "B" } else { "B − 1" }
        ),
        Method::Numeric {
            prec,
            cases: 1,
            seed: Some(0xe2),
        },
        if rank == claimed {
            Ok(detail)
        } else {
            Err(detail)
        },
    )
}

fn run_e2(cfg: &Config) -> Findings {
    let prec = cfg.prec;
    let mut f = Findings::default();
    let mut s = Sampler::new(0xe2, prec);
    let (b, d) = (4usize, 8usize);
    let z = s.gaussian(b, d);
    let sigma = covariance(&z, Centring::Centred, Divisor::B).expect("valid");
    let chol = sigma.cholesky();
    let logdet_eps = |k: u32| {
        let eps = Float::with_val(prec, 1) >> k;
        sigma
            .add(&Mat::scalar(d, &eps))
            .and_then(|m| m.logdet_spd())
            .expect("SPD")
    };
    let (l20, l40) = (logdet_eps(20), logdet_eps(40));
    let slope =
        (Float::with_val(prec, &l40 - &l20) / (Float::with_val(prec, 2).ln() * -20i32)).to_f64();
    let alpha = Float::with_val(prec, 16);
    let shifted = sigma
        .identity_plus(&alpha)
        .and_then(|m| m.logdet_spd())
        .expect("SPD");
    let batch_form = {
        let zc = centred(&z);
        zc.mul(&zc.transpose())
            .expect("shapes")
            .identity_plus(&(Float::with_val(prec, &alpha / b as u64)))
            .and_then(|m| m.logdet_spd())
            .expect("SPD")
    };
    let same =
        Tol::linalg(prec, d, 10).accepts(&Float::with_val(prec, &shifted - &batch_form), &shifted);
    f.propositions.push(
        Proposition::new(
            Role::Precise,
            "with B ≤ d the centred covariance has rank B − 1 < d",
            r"\mathrm{rank}\,\tfrac1BZ_c^\top Z_c\le B-1",
        )
        .with(rank_check(prec, false)),
    );
    f.propositions.push(
        Proposition::new(Role::Precise, "so log det Σ = −∞ (Cholesky refuses it), and CorInfoMax's log det(R + εI) is dominated by (d − B + 1) log ε", r"\log\det(\Sigma+\varepsilon I)=(d-B+1)\log\varepsilon+O(1)")
            .with(checked("B = 4, d = 8: Cholesky of Σ; slope of log det(Σ + εI) in log ε between ε = 2⁻²⁰ and 2⁻⁴⁰", Method::Numeric { prec, cases: 3, seed: Some(0xe2) }, if chol.is_err() && (slope - (d - b + 1) as f64).abs() < 0.01 { Ok(format!(
                    "Cholesky refuses Σ ({}); slope {slope:.4} = d − B + 1 = {}",
                    match chol.err() {
                        Some(sslproof::hp::LinalgError::NotPositiveDefinite { pivot, .. }) => format!("pivot {pivot} is zero to working precision"),
                        other => format!("{other:?}"),
                    },
                    d - b + 1
                )) } else { Err(format!("slope {slope:.4}")) })),
    );
    f.propositions.push(
        Proposition::new(
            Role::Precise,
            "log det(I + αΣ) stays finite and equals its batch-dimension form (B × B)",
            r"\log\det(I_d+\alpha\Sigma)=\log\det\big(I_B+\tfrac\alpha BZ_cZ_c^\top\big)",
        )
        .with(checked(
            "B = 4, d = 8, α = 16",
            Method::Numeric {
                prec,
                cases: 1,
                seed: Some(0xe2),
            },
            if same {
                Ok(format!("both {shifted:.6}"))
            } else {
                Err(format!("{shifted:.6} vs {batch_form:.6}"))
            },
        )),
    );
    f.mutants.push(Mutant {
        name: "rank_equals_batch".into(),
        description: "the centred covariance of B samples has rank B".into(),
        checks: vec![rank_check(prec, true)],
    });
    f.mutants.push(Mutant {
        name: "epsilon_irrelevant".into(),
        description: "log det(Σ + εI) does not depend on ε when B ≤ d".into(),
        checks: vec![checked(
            "ε = 2⁻²⁰ against 2⁻⁴⁰",
            Method::Numeric {
                prec,
                cases: 2,
                seed: Some(0xe2),
            },
            if Tol::scalar(prec).accepts(&Float::with_val(prec, &l40 - &l20), &l20) {
                Ok("equal".into())
            } else {
                Err(format!("{l20:.4} vs {l40:.4}"))
            },
        )],
    });
    f.step("The sentence is about training outcomes (stability, no need for large negatives, momentum encoders or architectural tricks, moderate batch sizes): **empirical**, outside what the harness can check.", None);
    f.step("Its mathematical part: $B$ centred samples span at most $B-1$ dimensions, so for $B\\le d$ the covariance is singular, $\\log\\det\\Sigma=-\\infty$, and a plain log-det objective is undefined; CorInfoMax's $\\log\\det(R+\\varepsilon I)$ is then dominated by $(d-B+1)\\log\\varepsilon$ (a constant in the parameters, so its gradient comes from the $B-1$ live directions, each weighted by $1/(\\lambda_i+\\varepsilon)$).", None);
    f.step("The coding rate's $\\log\\det(I+\\alpha\\Sigma)$ stays finite for any $B$ and can be computed as a $B\\times B$ determinant (C4): this is what makes the coding rate usable at moderate batch sizes; how large $B$ must be for good representations is again empirical.", None);
    f
}

// ---------------------------------------------------------------------------------------------
// D4
// ---------------------------------------------------------------------------------------------

fn claim_d4() -> Claim {
    Claim {
        id: "constant_map_minimises_alignment_and_collapses",
        label: "D4",
        family: "gradients",
        title: "Alignment alone admits the trivial solution z ≡ constant",
        quote: "Drives invariance but by itself admits the trivial solution $z \\equiv$ constant.",
        place: "A unified framework for covariance-regularized SSL, item 2 (Alignment term)",
        statement: r"\arg\min\mathcal L_{\rm align}\ni z\equiv c,\quad\text{and gradient descent on }\mathcal L_{\rm align}\text{ alone collapses}",
        nature: Nature::Mathematical,
    }
}

/// MSE and cosine alignment at random batches against a constant map. `cos_min_zero`: the mutant
/// "the cosine loss's minimum is 0".
fn constant_minimiser_check(prec: u32, cos_min_zero: bool) -> Check {
    let mut s = Sampler::new(0xd4, prec);
    let (b, d) = (16usize, 5usize);
    let mut min_mse = Float::with_val(prec, f64::INFINITY);
    let mut min_cos = Float::with_val(prec, f64::INFINITY);
    for _ in 0..50 {
        let z1: Vec<Vec<Float>> = (0..b).map(|_| s.unit_vector(d)).collect();
        let z2: Vec<Vec<Float>> = z1
            .iter()
            .map(|v| {
                normalize(
                    &v.iter()
                        .map(|x| Float::with_val(prec, x + s.normal_at(64) / 4u32))
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let mse = z1.iter().zip(&z2).fold(Float::new(prec), |a, (u, v)| {
            a + dot(
                &u.iter()
                    .zip(v)
                    .map(|(x, y)| Float::with_val(prec, x - y))
                    .collect::<Vec<_>>(),
                &u.iter()
                    .zip(v)
                    .map(|(x, y)| Float::with_val(prec, x - y))
                    .collect::<Vec<_>>(),
            )
        }) / b as u64;
        let cos = -(z1
            .iter()
            .zip(&z2)
            .fold(Float::new(prec), |a, (u, v)| a + dot(u, v))
            / b as u64);
        if mse < min_mse {
            min_mse = mse;
        }
        if cos < min_cos {
            min_cos = cos;
        }
    }
    // A constant map: every sample, both views, the same unit vector c.
    let c = s.unit_vector(d);
    let mse_c = Float::new(prec);
    let cos_c = -dot(&c, &c);
    let claimed_min = if cos_min_zero {
        Float::new(prec)
    } else {
        Float::with_val(prec, -1)
    };
    let tol = Tol::scalar(prec);
    let ok = min_mse > mse_c
        && min_cos > cos_c
        && tol.accepts(
            &Float::with_val(prec, &cos_c - &claimed_min),
            &Float::with_val(prec, 1),
        );
    let detail = format!(
        "constant map: MSE 0, −cos {:.6}; 50 random aligned-ish batches: smallest MSE {:.4e}, smallest −cos {:.6}",
        cos_c, min_mse, min_cos
    );
    checked(
        "constant map against random batches",
        Method::Numeric {
            prec,
            cases: 51,
            seed: Some(0xd4),
        },
        if ok { Ok(detail) } else { Err(detail) },
    )
}

/// Alignment alone: the total variance falls below 10⁻⁶ of its start and the normalised outputs'
/// centre reaches norm > 0.999 (complete collapse onto the bias). `claim_no_collapse`: the mutant.
fn collapse_check(claim_no_collapse: bool) -> Check {
    let traj = dynamics::run(Regime::AlignmentOnly, 0xd4d4);
    let (first, last) = (&traj[0], traj.last().expect("snapshots"));
    let collapsed = last.total_variance < first.total_variance * 1e-6 && last.centre_norm > 0.999;
    let detail = format!(
        "{} steps, lr {}: tr Σ_z {:.3e} → {:.3e}, effective rank {:.3} → {:.3}, centre norm {:.4} → {:.6}",
        dynamics::STEPS,
        dynamics::LR,
        first.total_variance,
        last.total_variance,
        first.effective_rank,
        last.effective_rank,
        first.centre_norm,
        last.centre_norm
    );
    checked(
        "gradient descent on alignment alone (linear encoder, seed 0xd4d4)",
        Method::Numeric {
            prec: 53,
            cases: dynamics::STEPS,
            seed: Some(0xd4d4),
        },
        if collapsed != claim_no_collapse {
            Ok(detail)
        } else {
            Err(detail)
        },
    )
}

/// With each regulariser: the effective rank stays above 3 (of 4) and the variance above 10⁻² of
/// its start. `claim_collapses`: the mutant "the regulariser does not prevent collapse".
fn regularised_check(regime: Regime, claim_collapses: bool) -> Check {
    let traj = dynamics::run(regime, 0xd4d4);
    let (first, last) = (&traj[0], traj.last().expect("snapshots"));
    let healthy = last.effective_rank > 3.0
        && last.total_variance > first.total_variance * 1e-2
        && last.centre_norm < 0.999;
    let detail = format!(
        "{}: tr Σ_z {:.3e} → {:.3e}, effective rank {:.3} → {:.3}, centre norm {:.4} → {:.4}",
        regime.name(),
        first.total_variance,
        last.total_variance,
        first.effective_rank,
        last.effective_rank,
        first.centre_norm,
        last.centre_norm
    );
    checked(
        format!("gradient descent {}", regime.name()),
        Method::Numeric {
            prec: 53,
            cases: dynamics::STEPS,
            seed: Some(0xd4d4),
        },
        if healthy != claim_collapses {
            Ok(detail)
        } else {
            Err(detail)
        },
    )
}

fn figure_d4(metric: usize) -> Figure {
    let series: Vec<plot::Series> = Regime::ALL
        .iter()
        .enumerate()
        .map(|(k, &r)| plot::Series {
            name: r.name().into(),
            points: dynamics::run(r, 0xd4d4)
                .iter()
                .map(|s| {
                    (
                        s.step as f64,
                        if metric == 0 {
                            s.effective_rank
                        } else {
                            s.centre_norm
                        },
                    )
                })
                .collect(),
            colour: k,
            dashed: false,
        })
        .collect();
    let (title, y, file, range) = if metric == 0 {
        (
            "Effective rank of the outputs' covariance (of 4)",
            "effective rank",
            "constant_map_minimises_alignment_and_collapses_rank.svg",
            (0.0, 4.2),
        )
    } else {
        (
            "Centre norm of the l2-normalised outputs (1 = complete collapse)",
            "‖o‖",
            "constant_map_minimises_alignment_and_collapses_centre.svg",
            (0.0, 1.05),
        )
    };
    let chart = plot::Chart {
        title: title.into(),
        x_label: "gradient step".into(),
        y_label: y.into(),
        x_range: (0.0, dynamics::STEPS as f64),
        y_range: range,
        series,
    };
    Figure {
        file: file.into(),
        caption: format!(
            "{title}, over {} full-batch gradient steps (seed 0xd4d4), one curve per regime.",
            dynamics::STEPS
        ),
        svg: plot::render(&chart).expect("render"),
    }
}

fn run_d4(cfg: &Config) -> Findings {
    let prec = cfg.prec;
    let mut f = Findings::default();
    f.propositions.push(
        Proposition::new(Role::AsWritten, "a constant map is a global minimiser of the MSE alignment (value 0) and of the cosine alignment (value −1)", r"\tfrac1B\textstyle\sum_i\lVert z_i-z_i'\rVert^2\ge0,\qquad -\tfrac1B\sum_i\cos(z_i,z_i')\ge-1,\ \text{both attained by }z\equiv c")
            .with(sym_check("Cauchy–Schwarz certificate (Lagrange's identity), d ≤ 4", Method::Symbolic { scope: Scope::UpToD { d_max: 4 } }, sym_job!(symbolic::lagrange_identity(4))))
            .with(constant_minimiser_check(prec, false)),
    );
    f.propositions.push(
        Proposition::new(
            Role::AsWritten,
            "plain gradient descent on alignment alone collapses a simple encoder to a constant",
            r"W_t\to0,\ z\to b\ \text{(constant)}",
        )
        .with(collapse_check(false)),
    );
    for r in [Regime::VicReg, Regime::CodingRate, Regime::CorInfoMax] {
        f.propositions.push(
            Proposition::new(
                Role::Precise,
                format!(
                    "adding {} prevents the collapse",
                    r.name().trim_start_matches("+ ")
                ),
                r"\text{effective rank} > 3,\ \mathrm{tr}\,\Sigma_z\ \text{stays away from }0",
            )
            .with(regularised_check(r, false)),
        );
    }
    f.mutants.push(Mutant {
        name: "cosine_minimum_zero".into(),
        description: "the cosine alignment's minimum is 0".into(),
        checks: vec![constant_minimiser_check(prec, true)],
    });
    f.mutants.push(Mutant {
        name: "alignment_keeps_variance".into(),
        description: "gradient descent on alignment alone keeps the outputs' variance".into(),
        checks: vec![collapse_check(true)],
    });
    f.mutants.push(Mutant {
        name: "vicreg_does_not_help".into(),
        description: "VICReg's variance/covariance terms do not prevent collapse".into(),
        checks: vec![regularised_check(Regime::VicReg, true)],
    });
    f.mutants.push(Mutant {
        name: "coding_rate_does_not_help".into(),
        description: "the coding rate does not prevent collapse".into(),
        checks: vec![regularised_check(Regime::CodingRate, true)],
    });
    f.step("MSE alignment is a mean of squared norms, $\\ge0$, and 0 when both views map to the same point; cosine alignment is $\\ge-1$ by Cauchy–Schwarz (Lagrange's identity, symbolica), with $-1$ when both views map to the same direction. A constant map attains both minima for every input: a global minimiser that carries no information.", None);
    f.step(&format!("Dynamics: $z=Wx+b$, $W\\in\\mathbb R^{{4\\times8}}$, $x\\sim\\mathcal N(0,I_8)$, views $x+0.5\\,n$, {} samples, {} full-batch steps at learning rate {}. The alignment gradient is $\\tfrac2BW\\sum_i\\delta_i\\delta_i^\\top$ with $\\delta_i$ the view difference: it shrinks $W$ in every direction the noise reaches (all of them), so $W\\to0$ and $z\\to b$, a constant; the bias is untouched because it cancels in the alignment. The normalised outputs' centre norm goes to 1.", dynamics::BATCH, dynamics::STEPS, dynamics::LR), None);
    f.step("Each regulariser of the notes, added with weight 1 on each view's centred covariance (VICReg's official variance and covariance terms; $-R_\\varepsilon$ with $\\alpha=8$; CorInfoMax's $-\\log\\det(\\Sigma+10^{-3}I)$), holds the effective rank near 4 and the variance away from 0. The dynamics are plain IEEE arithmetic with no library calls and a seeded sampler: the same seed gives the same trajectories, identical on every machine to the printed precision (matrix products may differ in the last bits where a CPU fuses multiply-adds).", None);
    f.figures.push(figure_d4(0));
    f.figures.push(figure_d4(1));
    f
}

// ---------------------------------------------------------------------------------------------
// E1
// ---------------------------------------------------------------------------------------------

fn claim_e1() -> Claim {
    Claim {
        id: "losses_of_the_form_alignment_plus_covariance_regulariser",
        label: "E1",
        family: "objective",
        title: "Every method optimizes L_align + λΩ(Σ)",
        quote: "Core objective. Every method optimizes $\\mathcal L = \\mathcal L_{\\rm align}(z_1,z_2) + \\lambda\\,\\Omega(\\Sigma)$, where $\\Sigma$ is the batch covariance of the $d$-dimensional embeddings.",
        place: "A unified framework for covariance-regularized SSL, item 1 (Core objective)",
        statement: r"\forall\text{ method}:\ \mathcal L(Z_1,Z_2)=\textstyle\sum_i\ell(z_{1i},z_{2i})+\lambda\,\Omega(\Sigma_1,\Sigma_2)",
        nature: Nature::Mathematical,
    }
}

/// The losses compared, as in `reference-implementations.md` §1 (one batch, defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method5 {
    /// Official: 25·mse + 25·(v₁+v₂)/2 + (c₁+c₂).
    VicReg,
    /// EMP-SSL-style: −cos + per-view −R_ε (uncentred, eps = 0.2).
    CodingRatePerView,
    /// One batch, no running estimate: 250·mse − (1/d)Σ_v log det(Σ_v + εI).
    CorInfoMax,
    /// SimSiam with an identity predictor: −cos (no Ω).
    SimSiam,
    /// SimDINO (expa_type = 1): −cos − R_ε of the view-averaged features.
    SimDino,
    /// Barlow Twins: Σ(1 − C_ii)² + 0.0051 Σ_{i≠j} C_ij², C the cross-correlation.
    BarlowTwins,
    /// NT-Xent (lightly), τ = 0.5.
    InfoNce,
}

impl Method5 {
    pub const ALL: [Method5; 7] = [
        Method5::VicReg,
        Method5::CodingRatePerView,
        Method5::CorInfoMax,
        Method5::SimSiam,
        Method5::SimDino,
        Method5::BarlowTwins,
        Method5::InfoNce,
    ];
    fn name(self) -> &'static str {
        match self {
            Method5::VicReg => "VICReg (official)",
            Method5::CodingRatePerView => "coding rate per view (EMP-SSL / MCR²-style TCR)",
            Method5::CorInfoMax => "CorInfoMax (one batch)",
            Method5::SimSiam => "SimSiam (Ω ≡ 0)",
            Method5::SimDino => "SimDINO (Σ of view-averaged features)",
            Method5::BarlowTwins => "Barlow Twins",
            Method5::InfoNce => "InfoNCE / NT-Xent",
        }
    }
    /// Whether the loss is of the per-branch form `Σ_i ℓ(z_i, z'_i) + Ω(Σ₁, Σ₂)`.
    fn of_the_form(self) -> bool {
        matches!(
            self,
            Method5::VicReg | Method5::CodingRatePerView | Method5::CorInfoMax | Method5::SimSiam
        )
    }
}

fn rows_to_mat(rows: &[Vec<Float>]) -> Mat {
    let prec = rows[0][0].prec();
    Mat::from_fn(rows.len(), rows[0].len(), prec, |i, j| rows[i][j].clone())
}

/// The loss of a batch of pairs, from the reference losses in `crate::losses` (defaults of
/// `reference-implementations.md` §1; one batch, one GPU).
fn batch_loss(m: Method5, z1: &[Vec<Float>], z2: &[Vec<Float>]) -> Float {
    use sslproof_losses::{barlow_twins, coding_rate, corinfomax, nt_xent, simsiam, vicreg};
    let prec = z1[0][0].prec();
    let (b, d) = (z1.len(), z1[0].len());
    let (m1, m2) = (rows_to_mat(z1), rows_to_mat(z2));
    let neg_cos = || simsiam::loss(&m1, &m2, &m1, &m2).expect("valid").value;
    let rate = |z: &Mat, eps: Float| {
        coding_rate::loss(z, &eps, coding_rate::Convention::Mcr2Rate)
            .expect("valid")
            .value
    };
    match m {
        Method5::VicReg => {
            vicreg::loss(
                &m1,
                &m2,
                vicreg::Convention::Official,
                &vicreg::Params::defaults(prec),
            )
            .expect("valid")
            .value
        }
        // EMP-SSL: eps = 0.2 (= ε²), the rate of each view, averaged.
        Method5::CodingRatePerView => {
            neg_cos()
                - (rate(&m1, Float::with_val(prec, 1) / 5u32)
                    + rate(&m2, Float::with_val(prec, 1) / 5u32))
                    / 2u32
        }
        Method5::CorInfoMax => {
            corinfomax::loss(
                &m1,
                &m2,
                &Float::with_val(prec, 250),
                &(Float::with_val(prec, 1) / 1000u32),
                None,
            )
            .expect("valid")
            .value
        }
        // SimSiam with an identity predictor: −½[cos(z₁, z₂) + cos(z₂, z₁)].
        Method5::SimSiam => neg_cos(),
        // SimDINO (expa_type = 1): the rate of the view-averaged features, eps = 0.5.
        Method5::SimDino => {
            let avg = Mat::from_fn(b, d, prec, |i, j| {
                Float::with_val(prec, &z1[i][j] + &z2[i][j]) / 2u32
            });
            neg_cos() - rate(&avg, Float::with_val(prec, 1) / 2u32)
        }
        Method5::BarlowTwins => {
            barlow_twins::loss(
                &m1,
                &m2,
                &(Float::with_val(prec, 51) / 10_000u32),
                &Float::new(prec),
            )
            .expect("valid")
            .value
        }
        Method5::InfoNce => {
            nt_xent::loss(&m1, &m2, &(Float::with_val(prec, 1) / 2u32))
                .expect("valid")
                .value
        }
    }
}

/// The four-batch combination `L(P∪Q₁) − L(P′∪Q₁) − L(P∪Q₂) + L(P′∪Q₂)`, zero for every loss of
/// the form `Σ_i ℓ(pair_i) + Ω(Σ₁, Σ₂)` (all four batches have the same per-branch rows).
fn four_batch_combination(m: Method5, prec: u32) -> Float {
    let e = |x: i32, y: i32| vec![Float::with_val(prec, x), Float::with_val(prec, y)];
    let s: Vec<Vec<Float>> = vec![e(1, 0), e(-1, 0), e(0, 1), e(0, -1)];
    let reflect = |v: &Vec<Float>| vec![v[0].clone(), -v[1].clone()];
    let rotate = |v: &Vec<Float>| vec![-v[1].clone(), v[0].clone()];
    let pairs = |f: &dyn Fn(&Vec<Float>) -> Vec<Float>| {
        s.iter().map(|z| (z.clone(), f(z))).collect::<Vec<_>>()
    };
    let p = pairs(&reflect);
    let p_prime = pairs(&rotate);
    let q1 = pairs(&|v: &Vec<Float>| v.clone());
    let q2 = pairs(&reflect);
    let loss = |a: &[(Vec<Float>, Vec<Float>)], b: &[(Vec<Float>, Vec<Float>)]| {
        let all: Vec<_> = a.iter().chain(b).cloned().collect();
        let (z1, z2): (Vec<_>, Vec<_>) = all.into_iter().unzip();
        batch_loss(m, &z1, &z2)
    };
    loss(&p, &q1) - loss(&p_prime, &q1) - loss(&p, &q2) + loss(&p_prime, &q2)
}

/// `L(P ∪ Q_S) − L(P ∪ Q_T)` with `Q_S = {(z, z) : z ∈ S}`, `Q_T = {(w, w) : w ∈ T}` and `T` the
/// set `S` turned by 45°: the two batches have the same mean and second moment in each branch (so
/// every covariance agrees) and the added pairs have the same value under any rotation-invariant
/// alignment (MSE, cosine), but different row distributions. Zero for every loss whose
/// regulariser depends on the rows only through Σ.
fn rotated_copy_combination(m: Method5, prec: u32) -> Float {
    let e = |x: i32, y: i32| vec![Float::with_val(prec, x), Float::with_val(prec, y)];
    let h = Float::with_val(prec, 2).sqrt().recip();
    let t = |x: i32, y: i32| vec![Float::with_val(prec, &h * x), Float::with_val(prec, &h * y)];
    let s: Vec<Vec<Float>> = vec![e(1, 0), e(-1, 0), e(0, 1), e(0, -1)];
    let tt: Vec<Vec<Float>> = vec![t(1, 1), t(-1, -1), t(1, -1), t(-1, 1)];
    let p: Vec<(Vec<Float>, Vec<Float>)> = s
        .iter()
        .map(|z| (z.clone(), vec![z[0].clone(), -z[1].clone()]))
        .collect();
    let loss = |q: &[Vec<Float>]| {
        let all: Vec<_> = p
            .iter()
            .cloned()
            .chain(q.iter().map(|w| (w.clone(), w.clone())))
            .collect();
        let (z1, z2): (Vec<_>, Vec<_>) = all.into_iter().unzip();
        batch_loss(m, &z1, &z2)
    };
    loss(&s) - loss(&tt)
}

/// Classifies every method by its four-batch combination and compares with `classification`.
fn form_check(prec: u32, classification: &dyn Fn(Method5) -> bool) -> Check {
    let tol = Tol::linalg(prec, 16, 10);
    let mut lines = Vec::new();
    let mut wrong = Vec::new();
    for m in Method5::ALL {
        let delta = four_batch_combination(m, prec);
        let rot = rotated_copy_combination(m, prec);
        let hundred = Float::with_val(prec, 100);
        let (z4, zr) = (tol.accepts(&delta, &hundred), tol.accepts(&rot, &hundred));
        let zero = z4 && zr;
        let show = |ok: bool, v: &Float| {
            if ok {
                "0".to_string()
            } else {
                format!("{v:.4e}")
            }
        };
        lines.push(format!(
            "{}: {} / {}",
            m.name(),
            show(z4, &delta),
            show(zr, &rot)
        ));
        if zero != classification(m) {
            wrong.push(m.name());
        }
    }
    let detail = format!(
        "four-batch / rotated-copy combinations (both zero for every loss of the form): {}",
        lines.join("; ")
    );
    checked(
        "the four-batch and rotated-copy tests at 256 bits",
        Method::Numeric {
            prec,
            cases: 42,
            seed: None,
        },
        if wrong.is_empty() {
            Ok(detail)
        } else {
            Err(format!("misclassified {}: {detail}", wrong.join(", ")))
        },
    )
}

fn run_e1(cfg: &Config) -> Findings {
    let prec = cfg.prec;
    let mut f = Findings::default();
    f.propositions.push(Proposition::new(Role::AsWritten, "every method (VICReg, Barlow Twins, coding rate, CorInfoMax, SimSiam, InfoNCE) is of the form Σ_i ℓ(z_i, z'_i) + λΩ(Σ)", r"\forall m:\ \mathcal L_m\in\{\textstyle\sum_i\ell+\lambda\Omega(\Sigma_1,\Sigma_2)\}").with(form_check(prec, &|_| true)));
    f.propositions.push(Proposition::new(Role::Corrected, "exactly of the form: VICReg, the per-view coding rate (EMP-SSL, MCR²-style TCR), one-batch CorInfoMax, and SimSiam with Ω ≡ 0; not of it: Barlow Twins (cross-correlation), InfoNCE (log-sum-exp over negatives), SimDINO (Ω of the view-averaged features' Σ)", r"\{\text{VICReg},\ \text{TCR},\ \text{CorInfoMax}_{1\text{ batch}},\ \text{SimSiam}_{\Omega=0}\}\ \text{yes};\ \{\text{BT},\ \text{InfoNCE},\ \text{SimDINO}\}\ \text{no}").with(form_check(prec, &Method5::of_the_form)));
    f.mutants.push(Mutant {
        name: "barlow_twins_of_the_form".into(),
        description: "Barlow Twins is of the form".into(),
        checks: vec![form_check(prec, &|m| {
            m.of_the_form() || m == Method5::BarlowTwins
        })],
    });
    f.mutants.push(Mutant {
        name: "infonce_of_the_form".into(),
        description: "InfoNCE is of the form".into(),
        checks: vec![form_check(prec, &|m| {
            m.of_the_form() || m == Method5::InfoNce
        })],
    });
    f.mutants.push(Mutant {
        name: "vicreg_not_of_the_form".into(),
        description: "VICReg is not of the form".into(),
        checks: vec![form_check(prec, &|m| {
            m.of_the_form() && m != Method5::VicReg
        })],
    });
    f.step("If $\\mathcal L=\\sum_i\\ell(z_i,z_i')+\\Omega(\\Sigma_1,\\Sigma_2)$, then for four batches $P\\cup Q_1$, $P'\\cup Q_1$, $P\\cup Q_2$, $P'\\cup Q_2$ whose branches contain the same rows, $L(P\\cup Q_1)-L(P'\\cup Q_1)-L(P\\cup Q_2)+L(P'\\cup Q_2)=0$: the pair sums cancel term by term and every covariance (centred or not, any divisor) is the same.", None);
    f.step("With $S=\\{\\pm e_1,\\pm e_2\\}$, a reflection $M$ and a quarter turn $R$ map $S$ onto itself, so $P=\\{(z,zM)\\}$, $P'=\\{(z,zR)\\}$, $Q_1=\\{(z,z)\\}$, $Q_2=\\{(z,zM)\\}$ qualify. A nonzero combination proves a loss is not of the form.", None);
    f.step("That test cannot see a regulariser that depends on the rows through more than $\\Sigma$ (InfoNCE's log-sum-exp depends on the whole row distribution, which the four batches balance). A second test adds identical pairs $(z,z)$ from $S$ or from $T=S$ turned by $45^\\circ$: same mean and second moment, hence the same $\\Sigma$, same value under any rotation-invariant alignment (MSE, cosine), different rows. The engine found the gap itself: with the first test alone, the mutant \"InfoNCE is of the form\" survived.", None);
    f.step("Computed at 256 bits with the reference definitions (`reference-implementations.md` §1; one batch, defaults): VICReg, the per-view coding rate and one-batch CorInfoMax give 0; SimSiam gives 0 only because it has no $\\Omega$ at all (its non-collapse comes from the predictor and stop-gradient, D4's regime is alignment only); Barlow Twins, InfoNCE and SimDINO's view-averaged expansion term do not. With running statistics, CorInfoMax's $\\Omega$ also depends on past batches.", None);
    f
}
