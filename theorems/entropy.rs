//! # Family C: entropy, information and the coding rate
//!
//! ## Main statements
//! * `gaussian_entropy_eq_half_logdet_two_pi_e` (C1): `h(N(μ,Σ)) = ½ log det Σ + (d/2) log(2πe)`.
//! * `coding_rate_eq_gaussian_channel_information` (C2): `R_ε(Σ) = I(Z; Z+N)` for Gaussian `Z`
//!   with centred covariance `Σ` and `N ~ N(0, (ε²/d) I)`; for non-Gaussian `Z` a strict upper bound.
//! * `infonce_split_and_mutual_information_bound` (C3): InfoNCE = alignment + log-sum-exp, and
//!   `I(X;Y) ≥ log K − E[L_NCE]`; the "duality" is interpretation.
//! * `coding_rate_conventions_and_batch_dimension` (C4): the notes' centred `1/B` rate equals the
//!   MCR² form only for zero-mean batches; `det(I_d + aZᵀZ) = det(I_B + aZZᵀ)`.
//! * `hutchinson_unbiased_with_variance` (C5): `E[vᵀAv] = tr A`, `Var = 2‖A‖²_F` (Gaussian),
//!   `2Σ_{i≠j}A_ij²` (Rademacher); the truncated log-det series and its bias.
//!
//! ## Implementation notes
//! Independent oracles: statrs's multivariate normal (f64, nalgebra LU) for entropies and
//! densities; Monte Carlo with confidence intervals from statrs's normal quantile; exact
//! enumeration of all `2^d` Rademacher probes at 256 bits. Every statistical check states its
//! test, level and seed, and is deterministic.
//!
//! ## Source
//! `../shared/notes.md`, *Information-theoretic interpretation*, *Why does the coding-rate
//! regularizer also decorrelate?*, *Decorrelation*, and the note on trace estimation.

use nalgebra::DVector;
use rug::Float;
use statrs::distribution::{Continuous, MultivariateNormal};

use sslproof::check::stats::z_two_sided;
use sslproof::check::{Recipe, Spectrum};
use sslproof::claim::{
    Check, Claim, Figure, Findings, Method, Mutant, Nature, Proposition, Role, Scope, Table,
};
use sslproof::hp::Mat;
use sslproof::hp::sample::Sampler;
use sslproof::report::plot;
use sslproof::tolerance::Tol;
use sslproof_losses::batch::{Centring, Divisor, covariance};

use super::{Config, Entry, checked, sym_check};

/// The family's entries, in catalogue order.
pub fn entries() -> Vec<Entry> {
    vec![
        Entry {
            claim: claim_c1(),
            run: run_c1,
        },
        Entry {
            claim: claim_c2(),
            run: run_c2,
        },
        Entry {
            claim: claim_c3(),
            run: run_c3,
        },
        Entry {
            claim: claim_c4(),
            run: run_c4,
        },
        Entry {
            claim: claim_c5(),
            run: run_c5,
        },
    ]
}

const INFO: &str = "A unified framework for covariance-regularized SSL, item 5 (Information-theoretic interpretation)";

/// Confidence level of every statistical check in this family.
pub const LEVEL: f64 = 0.999;

#[cfg(feature = "symbolic")]
pub mod symbolic {
    use sslproof::sym::algebra::{self as alg, AtomCore, SymMat};

    /// `det(Σ + sI) = s^d det(I + Σ/s)` for symbolic `Σ` and `s`, `d ≤ d_max` (full determinants).
    /// `scale_noise_by_d`: the mutant compares with `det(I + dΣ/s)`.
    pub fn channel_det_identity(d_max: usize, wrong: bool) -> Result<String, String> {
        for d in 1..=d_max {
            let sigma = SymMat::symmetric(d, "s");
            let lhs = sigma.affine(&alg::expr("1"), &alg::expr("n")).det();
            let k = if wrong {
                format!("{d}")
            } else {
                "1".to_string()
            };
            let inner = sigma
                .affine(&alg::expr(&format!("{k}*n^-1")), &alg::expr("1"))
                .det();
            let rhs = alg::normalise_rational(&(&alg::expr(&format!("n^{d}")) * &inner));
            let diff = alg::normalise_rational(&(&lhs - &rhs));
            if !diff.is_zero() {
                return Err(format!(
                    "d = {d}: det(Σ + nI) − n^d det(I + {k}Σ/n) = {}",
                    alg::plain(&diff)
                ));
            }
        }
        Ok(format!(
            "det(Σ + nI) = n^d det(I + Σ/n), symbolic Σ and n, d = 1…{d_max}"
        ))
    }

    /// Sylvester: `det(I_d + a ZᵀZ) = det(I_m + a ZZᵀ)` for a symbolic `m × d` matrix `Z`.
    /// `wrong_scale` compares with `det(I_m + (a/m) ZZᵀ)`.
    pub fn sylvester(shapes: &[(usize, usize)], wrong_scale: bool) -> Result<String, String> {
        for &(m, d) in shapes {
            let n = m.max(d);
            // Embed the m×d matrix in an n×n symbolic matrix with zero padding, then take blocks.
            let z = SymMat::general(n, "z");
            let at = |i: usize, j: usize| {
                if i < m && j < d {
                    z.at(i, j).clone()
                } else {
                    alg::expr("0")
                }
            };
            let gram =
                |rows: usize,
                 inner: usize,
                 f: &dyn Fn(usize, usize, usize) -> (usize, usize, usize, usize)| {
                    let mut data = Vec::new();
                    for i in 0..rows {
                        for j in 0..rows {
                            let mut s = alg::expr("0");
                            for k in 0..inner {
                                let (a, b, c, e) = f(i, j, k);
                                s = &s + &(&at(a, b) * &at(c, e));
                            }
                            data.push(s.expand());
                        }
                    }
                    SymMat { n: rows, data }
                };
            let ztz = gram(d, m, &|i, j, k| (k, i, k, j));
            let zzt = gram(m, d, &|i, j, k| (i, k, j, k));
            let scale = if wrong_scale {
                format!("a/{m}")
            } else {
                "a".to_string()
            };
            let lhs = ztz.affine(&alg::expr("a"), &alg::expr("1")).det();
            let rhs = zzt.affine(&alg::expr(&scale), &alg::expr("1")).det();
            let diff = alg::normalise_rational(&(&lhs - &rhs));
            if !diff.is_zero() {
                return Err(format!(
                    "m = {m}, d = {d}: difference {}",
                    alg::plain(&diff)
                ));
            }
        }
        Ok(format!(
            "det(I_d + aZᵀZ) = det(I_m + aZZᵀ) for symbolic Z of shapes {shapes:?}"
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------------------------

fn ln2pie(prec: u32) -> Float {
    let pi = Float::with_val(prec, rug::float::Constant::Pi);
    (pi * 2u32).ln() + 1u32
}

/// `½ log det Σ + (d/2)·c` with `c = log(2πe)` (the theorem) or the mutants' constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntropyForm {
    Theorem,
    /// Mutant: `(d/2) log(2π)` (the `e` dropped).
    NoE,
    /// Mutant: `log det Σ` without the ½.
    NoHalf,
}

impl EntropyForm {
    fn eval(self, logdet: &Float, d: usize) -> Float {
        let prec = logdet.prec();
        let c = match self {
            EntropyForm::NoE => Float::with_val(prec, rug::float::Constant::Pi).mul_ref_u(2),
            _ => ln2pie(prec),
        };
        let c = if self == EntropyForm::NoE { c.ln() } else { c };
        let half_d = Float::with_val(prec, d as u64) / 2u32;
        let ld = if self == EntropyForm::NoHalf {
            logdet.clone()
        } else {
            Float::with_val(prec, logdet / 2u32)
        };
        ld + half_d * c
    }
}

trait MulRefU {
    fn mul_ref_u(self, k: u32) -> Float;
}
impl MulRefU for Float {
    fn mul_ref_u(self, k: u32) -> Float {
        self * k
    }
}

fn test_sigmas(prec: u32) -> Vec<Mat> {
    [(1usize, 1u64), (2, 2), (3, 3), (5, 4), (8, 5)]
        .iter()
        .map(|&(d, seed)| {
            Recipe {
                d,
                seed,
                spectrum: Spectrum::Spread,
                top: 1,
            }
            .realize(prec)
            .0
        })
        .collect()
}

fn mvn(sigma: &Mat) -> MultivariateNormal<nalgebra::Dyn> {
    MultivariateNormal::new(vec![0.0; sigma.rows()], sigma.to_f64()).expect("SPD covariance")
}

// ---------------------------------------------------------------------------------------------
// C1
// ---------------------------------------------------------------------------------------------

fn claim_c1() -> Claim {
    Claim {
        id: "gaussian_entropy_eq_half_logdet_two_pi_e",
        label: "C1",
        family: "entropy",
        title: "log det Σ is the Gaussian differential entropy, up to constants",
        quote: "$\\log\\det\\Sigma$ (up to constants) is the differential entropy of a Gaussian with covariance $\\Sigma$.",
        place: INFO,
        statement: r"h\big(\mathcal N(\mu,\Sigma)\big) = a\log\det\Sigma + b\quad\text{for constants } a, b",
        nature: Nature::Mathematical,
    }
}

/// The closed form against statrs's `entropy()` (f64, nalgebra LU: an independent route). statrs
/// computes in f64 on matrices with condition number below 2¹⁰: 53 − 10 − 3·3 bits survive;
/// 2⁻³⁰ relative to `|h| + d` leaves a margin.
fn entropy_vs_statrs(prec: u32, form: EntropyForm) -> Check {
    let mut worst = 0f64;
    for sigma in test_sigmas(prec) {
        let d = sigma.rows();
        let exact = form.eval(&sigma.logdet_spd().expect("SPD"), d).to_f64();
        let theirs = mvn(&sigma).entropy().expect("entropy");
        let rel = (exact - theirs).abs() / (theirs.abs() + d as f64);
        worst = worst.max(rel);
        if rel > 2f64.powi(-30) {
            return checked(
                "against statrs MultivariateNormal::entropy",
                Method::Numeric {
                    prec,
                    cases: 5,
                    seed: None,
                },
                Err(format!("d = {d}: formula {exact:.10}, statrs {theirs:.10}")),
            );
        }
    }
    checked(
        "against statrs MultivariateNormal::entropy",
        Method::Numeric {
            prec,
            cases: 5,
            seed: None,
        },
        Ok(format!(
            "d = 1, 2, 3, 5, 8: relative difference below 2^-30 (worst {:.1e})",
            worst
        )),
    )
}

/// Monte Carlo `−E[log p(x)]` with statrs's `ln_pdf` (its own density code), `n` draws `x = Lg`,
/// and a two-sided CLT interval at [`LEVEL`]. Returns the running estimates for the figure.
fn entropy_monte_carlo(
    prec: u32,
    form: EntropyForm,
    n: usize,
) -> (Check, Vec<(f64, f64, f64)>, f64) {
    let seed = 0xc1;
    let sigma = test_sigmas(prec).swap_remove(2); // d = 3
    let d = sigma.rows();
    let exact = form.eval(&sigma.logdet_spd().expect("SPD"), d).to_f64();
    let l = sigma.cholesky().expect("SPD").l().to_f64();
    let dist = mvn(&sigma);
    let mut s = Sampler::new(seed, 64);
    let (mut sum, mut sumsq) = (0.0f64, 0.0f64);
    let mut trace = Vec::new();
    let z = z_two_sided(LEVEL);
    let mut next_mark = 100usize;
    for i in 1..=n {
        let g: Vec<f64> = (0..d).map(|_| s.normal_at(64).to_f64()).collect();
        let x: Vec<f64> = (0..d)
            .map(|r| (0..=r).map(|c| l[r * d + c] * g[c]).sum())
            .collect();
        let v = -dist.ln_pdf(&DVector::from_vec(x));
        sum += v;
        sumsq += v * v;
        if i == next_mark || i == n {
            let mean = sum / i as f64;
            let sd =
                ((sumsq / i as f64 - mean * mean).max(0.0) * i as f64 / (i as f64 - 1.0)).sqrt();
            trace.push((i as f64, mean, z * sd / (i as f64).sqrt()));
            next_mark = (next_mark as f64 * 1.25) as usize;
        }
    }
    let &(_, mean, half) = trace.last().expect("n > 0");
    let line = format!(
        "d = 3, n = {n}: Monte Carlo −E[log p] = {mean:.5} ± {half:.5} ({}% CLT interval), formula {exact:.5}",
        LEVEL * 100.0
    );
    let c = checked(
        "Monte Carlo −E[log p] with statrs's density",
        Method::Statistical { level: LEVEL, seed },
        if (exact - mean).abs() <= half {
            Ok(line)
        } else {
            Err(line)
        },
    );
    (c, trace, exact)
}

fn run_c1(cfg: &Config) -> Findings {
    let prec = cfg.prec;
    let n = 200_000;
    let mut f = Findings::default();
    let (mc, trace, exact) = entropy_monte_carlo(prec, EntropyForm::Theorem, n);
    f.propositions.push(
        Proposition::new(Role::AsWritten, "h(N(μ,Σ)) = ½ log det Σ + (d/2) log(2πe): affine in log det Σ, with multiplier ½", r"h\big(\mathcal N(\mu,\Sigma)\big)=\tfrac12\log\det(2\pi e\,\Sigma)=\tfrac12\log\det\Sigma+\tfrac d2\log(2\pi e)\ \text{nats}")
            .with(entropy_vs_statrs(prec, EntropyForm::Theorem))
            .with(mc),
    );
    for (name, form, what) in [
        (
            "drops_e",
            EntropyForm::NoE,
            "constant (d/2) log(2π): the e dropped",
        ),
        (
            "drops_half",
            EntropyForm::NoHalf,
            "log det Σ with multiplier 1",
        ),
    ] {
        f.mutants.push(Mutant {
            name: name.into(),
            description: what.into(),
            checks: vec![
                entropy_vs_statrs(prec, form),
                entropy_monte_carlo(prec, form, n / 4).0,
            ],
        });
    }
    f.step("With $x=\\mu+Lg$, $LL^\\top=\\Sigma$: $-\\log p(x)=\\tfrac12\\log\\det(2\\pi\\Sigma)+\\tfrac12x^\\top\\Sigma^{-1}x$ and $\\mathbb E[(x-\\mu)^\\top\\Sigma^{-1}(x-\\mu)]=\\mathrm{tr}(\\Sigma^{-1}\\Sigma)=d$, so", Some(r"h=\tfrac12\log\det(2\pi\Sigma)+\tfrac d2=\tfrac12\log\det\Sigma+\tfrac d2\log(2\pi e)".into()));
    f.step("\"Up to constants\" is right if the constants include the multiplier ½ and the additive $\\tfrac d2\\log(2\\pi e)$; the entropy does not depend on $\\mu$. Checked against statrs's `MultivariateNormal::entropy` (f64, its own LU) and against a Monte Carlo estimate of $-\\mathbb E[\\log p]$ using statrs's density, 200 000 draws, seed `0xc1`.", None);
    let pts = |k: usize| {
        trace
            .iter()
            .map(|t| (t.0.log10(), t.1 + [0.0, t.2, -t.2][k]))
            .collect::<Vec<_>>()
    };
    let chart = plot::Chart {
        title: "Monte Carlo −E[log p] converging to ½ log det(2πeΣ) (d = 3)".into(),
        x_label: "log10 n (draws)".into(),
        y_label: "nats".into(),
        x_range: (2.0, (n as f64).log10()),
        y_range: (exact - 0.3, exact + 0.3),
        series: vec![
            plot::Series {
                name: "estimate".into(),
                points: pts(0),
                colour: 0,
                dashed: false,
            },
            plot::Series {
                name: "99.9% interval".into(),
                points: pts(1),
                colour: 4,
                dashed: true,
            },
            plot::Series {
                name: String::new(),
                points: pts(2),
                colour: 4,
                dashed: true,
            },
            plot::Series {
                name: "½ log det(2πeΣ)".into(),
                points: vec![(2.0, exact), ((n as f64).log10(), exact)],
                colour: 1,
                dashed: false,
            },
        ],
    };
    f.figures.push(Figure {
        file: "gaussian_entropy_eq_half_logdet_two_pi_e.svg".into(),
        caption:
            "The Monte Carlo estimate of −E[log p] and its 99.9% interval against the closed form."
                .into(),
        svg: plot::render(&chart).expect("render"),
    });
    f
}

// ---------------------------------------------------------------------------------------------
// C2
// ---------------------------------------------------------------------------------------------

fn claim_c2() -> Claim {
    Claim {
        id: "coding_rate_eq_gaussian_channel_information",
        label: "C2",
        family: "entropy",
        title: "The coding rate as an InfoMax criterion under Gaussian assumptions",
        quote: "Maximizing $R_\\varepsilon$ under the alignment constraint is an instance of InfoMax (maximize representation entropy while matching positives). … a principled InfoMax criterion under Gaussian assumptions.",
        place: "Information-theoretic interpretation; Why does the coding-rate regularizer also decorrelate?, item 4",
        statement: r"R_\varepsilon(\Sigma)=\tfrac12\log\det\big(I+\tfrac{d}{\varepsilon^2}\Sigma\big) = I(Z;Z+N),\ Z\sim\mathcal N(\mu,\Sigma),\ N\sim\mathcal N(0,\tfrac{\varepsilon^2}{d}I)",
        nature: Nature::Mathematical,
    }
}

/// `h(Z+N) − h(N)` by statrs against `R_ε` by our log det. `noise_per_coord_div_d`: the theorem's
/// noise `ε²/d` per coordinate; otherwise the mutant's `ε²`.
fn channel_vs_statrs(prec: u32, noise_div_d: bool) -> Check {
    let eps2 = 0.5f64;
    for sigma in test_sigmas(prec) {
        let d = sigma.rows();
        let noise = if noise_div_d { eps2 / d as f64 } else { eps2 };
        let mut with_noise = sigma.clone();
        for i in 0..d {
            *with_noise.at_mut(i, i) += noise;
        }
        let h_y = mvn(&with_noise).entropy().expect("entropy");
        let h_n = mvn(&Mat::scalar(d, &Float::with_val(prec, noise)))
            .entropy()
            .expect("entropy");
        let alpha = Float::with_val(prec, d as u64) / Float::with_val(prec, eps2);
        let r = (sigma
            .identity_plus(&alpha)
            .and_then(|m| m.logdet_spd())
            .expect("SPD")
            / 2u32)
            .to_f64();
        let mi = h_y - h_n;
        if (mi - r).abs() > 2f64.powi(-30) * (r.abs() + d as f64) {
            return checked(
                "h(Z+N) − h(N) by statrs against R_ε",
                Method::Numeric {
                    prec,
                    cases: 5,
                    seed: None,
                },
                Err(format!(
                    "d = {d}, noise {noise} per coordinate: I = {mi:.8}, R_ε = {r:.8}"
                )),
            );
        }
    }
    checked(
        "h(Z+N) − h(N) by statrs against R_ε",
        Method::Numeric {
            prec,
            cases: 5,
            seed: None,
        },
        Ok("d = 1, 2, 3, 5, 8, ε² = 1/2: agree to 2^-30".into()),
    )
}

/// `I(Z; Z+N)` for `Z` uniform on `{−1, +1}` (variance 1) and `N ~ N(0, σ²)`: `h(Y) − h(N)` with
/// `h(Y)` by composite Simpson quadrature of `−p log p` (40 001 nodes on `[−1−14σ, 1+14σ]`,
/// error below 10⁻¹⁰ for these smooth densities).
fn binary_channel_information(sigma: f64) -> f64 {
    let phi = |x: f64| {
        (-x * x / (2.0 * sigma * sigma)).exp() / (sigma * (2.0 * std::f64::consts::PI).sqrt())
    };
    let p = |y: f64| 0.5 * (phi(y - 1.0) + phi(y + 1.0));
    let (a, b) = (-1.0 - 14.0 * sigma, 1.0 + 14.0 * sigma);
    let n = 40_000usize;
    let h = (b - a) / n as f64;
    let g = |y: f64| {
        let v = p(y);
        if v > 0.0 { -v * v.ln() } else { 0.0 }
    };
    let mut s = g(a) + g(b);
    for i in 1..n {
        s += g(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    let h_y = s * h / 3.0;
    let h_n = 0.5 * (2.0 * std::f64::consts::PI * std::f64::consts::E * sigma * sigma).ln();
    h_y - h_n
}

/// Non-Gaussian input with the same covariance: the information is strictly below `R_ε`.
/// `claim_equal`: the mutant "R_ε is the information for any input with this covariance".
fn non_gaussian_gap(claim_equal: bool) -> Check {
    let mut lines = Vec::new();
    let mut all_below = true;
    for sigma in [0.5f64, 1.0, 2.0] {
        let i = binary_channel_information(sigma);
        let r = 0.5 * (1.0 + 1.0 / (sigma * sigma)).ln();
        all_below &= i < r - 1e-6;
        lines.push(format!("σ = {sigma}: I = {i:.6} < R = {r:.6}"));
    }
    let detail = format!("Z = ±1 equiprobable (variance 1): {}", lines.join("; "));
    let ok = all_below != claim_equal;
    checked(
        "binary input through the same channel (quadrature)",
        Method::Numeric {
            prec: 53,
            cases: 3,
            seed: None,
        },
        if ok { Ok(detail) } else { Err(detail) },
    )
}

/// A Gaussian `Z` with mean `μ ≠ 0`: the information is `R_ε` of the centred covariance, not of
/// the uncentred second moment `Σ + μμᵀ` that MCR²/SimDINO/EMP-SSL code uses.
fn centring_check(prec: u32, claim_uncentred: bool) -> Check {
    let sigma = test_sigmas(prec).swap_remove(2);
    let d = sigma.rows();
    let mu: Vec<Float> = (0..d)
        .map(|i| Float::with_val(prec, i as u64 + 1) / 4u32)
        .collect();
    let second = Mat::from_fn(d, d, prec, |i, j| {
        Float::with_val(
            prec,
            sigma.at(i, j) + Float::with_val(prec, &mu[i] * &mu[j]),
        )
    });
    let alpha = Float::with_val(prec, 6);
    let r = |m: &Mat| {
        m.identity_plus(&alpha)
            .and_then(|x| x.logdet_spd())
            .expect("SPD")
            / 2u32
    };
    let (rc, ru) = (r(&sigma), r(&second));
    // I(Z; Z+N) is translation invariant: it is R_ε(Σ) (statrs check above); here the question is
    // whether the uncentred moment gives the same number.
    let same = Tol::linalg(prec, d, 10).accepts(&Float::with_val(prec, &rc - &ru), &rc);
    let detail = format!(
        "μ = (1/4, 1/2, 3/4): R_ε(Σ) = {:.6} (the information), R_ε(Σ + μμᵀ) = {:.6}",
        rc, ru
    );
    let ok = same == claim_uncentred;
    checked(
        "centred covariance against the uncentred second moment",
        Method::Numeric {
            prec,
            cases: 1,
            seed: None,
        },
        if ok { Ok(detail) } else { Err(detail) },
    )
}

fn run_c2(cfg: &Config) -> Findings {
    let prec = cfg.prec;
    let mut f = Findings::default();
    let det_id = sym_check(
        "det(Σ + nI) = n^d det(I + Σ/n), symbolic, d ≤ 4",
        Method::Symbolic {
            scope: Scope::UpToD { d_max: 4 },
        },
        sym_job!(symbolic::channel_det_identity(4, false)),
    );
    let all_d = Check::new(
        "for every d",
        Method::Symbolic {
            scope: Scope::AllD {
                via: "det(nI)·det(I + Σ/n) = det(Σ + nI) (det is multiplicative)".into(),
            },
        },
        det_id.outcome.clone(),
    );
    f.propositions.push(
        Proposition::new(Role::AsWritten, "for Gaussian Z with (centred) covariance Σ, R_ε(Σ) = I(Z; Z+N) with independent N ~ N(0, (ε²/d) I)", r"I(Z;Z+N)=h(Z+N)-h(N)=\tfrac12\log\frac{\det(\Sigma+\tfrac{\varepsilon^2}{d}I)}{\det(\tfrac{\varepsilon^2}{d}I)}=\tfrac12\log\det\big(I+\tfrac d{\varepsilon^2}\Sigma\big)")
            .with(det_id)
            .with(all_d)
            .with(channel_vs_statrs(prec, true)),
    );
    f.propositions.push(Proposition::new(Role::Precise, "for a non-Gaussian Z with the same covariance, I(Z; Z+N) < R_ε: the rate is an upper bound, not the information", r"I(Z;Z+N)\le\tfrac12\log\det\big(I+\tfrac d{\varepsilon^2}\Sigma_Z\big),\ \text{equality iff } Z \text{ Gaussian}").with(non_gaussian_gap(false)));
    f.propositions.push(Proposition::new(Role::Precise, "the information is translation invariant: it is R_ε of the centred covariance, not of the uncentred second moment used in MCR²/SimDINO/EMP-SSL code", r"I(Z;Z+N)=R_\varepsilon(\mathrm{Cov}\,Z)\ne R_\varepsilon(\mathbb E[ZZ^\top])\ \text{when }\mathbb EZ\ne0").with(centring_check(prec, false)));
    f.mutants.push(Mutant {
        name: "noise_variance_eps_squared".into(),
        description: "noise variance ε² per coordinate (not ε²/d)".into(),
        checks: vec![
            sym_check(
                "det(Σ + nI) against n^d det(I + dΣ/n), symbolic",
                Method::Symbolic {
                    scope: Scope::Exact,
                },
                sym_job!(symbolic::channel_det_identity(4, true)),
            ),
            channel_vs_statrs(prec, false),
        ],
    });
    f.mutants.push(Mutant {
        name: "any_input_attains_rate".into(),
        description: "R_ε is the information for any input with covariance Σ".into(),
        checks: vec![non_gaussian_gap(true)],
    });
    f.mutants.push(Mutant {
        name: "uncentred_moment_is_information".into(),
        description: "the uncentred second moment gives the information".into(),
        checks: vec![centring_check(prec, true)],
    });
    f.step("For independent $Z$ and Gaussian $N$, $I(Z;Z+N)=h(Z+N)-h(N\\mid Z)=h(Z+N)-h(N)$. With $Z\\sim\\mathcal N(\\mu,\\Sigma)$, $Z+N\\sim\\mathcal N(\\mu,\\Sigma+\\sigma^2I)$, and C1 gives", Some(r"I=\tfrac12\log\det(\Sigma+\sigma^2I)-\tfrac12\log\det(\sigma^2I)=\tfrac12\log\det\big(I+\Sigma/\sigma^2\big)".into()));
    f.step("With $\\sigma^2=\\varepsilon^2/d$ (noise of total power $\\mathbb E\\lVert N\\rVert^2=\\varepsilon^2$) this is exactly $R_\\varepsilon$. So under Gaussian assumptions the coding rate *is* a mutual information: of the additive white Gaussian noise channel at distortion $\\varepsilon^2$; maximising it is InfoMax for that channel.", None);
    f.step("For a non-Gaussian $Z$ with the same covariance, $h(Z+N)\\le h(\\mathcal N(\\mu,\\Sigma+\\sigma^2I))$ (the Gaussian maximises entropy at fixed covariance), so $R_\\varepsilon$ is an upper bound, strict for a binary $Z=\\pm1$ (quadrature in the evidence). Mutual information ignores the mean, so the channel's $\\Sigma$ is the centred covariance; the uncentred second moment in MCR²/SimDINO/EMP-SSL code is a different number when the features have a non-zero mean (C4).", None);
    f.step("\"Under the alignment constraint\" and \"InfoMax\" are the interpretation; the checkable content is the identity, its Gaussian hypothesis and its centring.", None);
    f
}

// ---------------------------------------------------------------------------------------------
// C3
// ---------------------------------------------------------------------------------------------

fn claim_c3() -> Claim {
    Claim {
        id: "infonce_split_and_mutual_information_bound",
        label: "C3",
        family: "entropy",
        title: "Contrastive and non-contrastive criteria as dual formulations",
        quote: "Contrasting contrastive losses (InfoNCE) and these non-contrastive criteria reveals they are dual formulations of the same underlying entropy-alignment trade-off.",
        place: INFO,
        statement: r"\text{InfoNCE} \;\overset{\text{dual}}{\longleftrightarrow}\; \mathcal L_{\rm align}-\lambda R_\varepsilon",
        nature: Nature::Interpretive,
    }
}

/// InfoNCE on unit vectors as cross-entropy (softmax) and as alignment + log-sum-exp, at 256 bits.
fn infonce_split(prec: u32) -> Check {
    let mut s = Sampler::new(0xc3, prec);
    let tau = Float::with_val(prec, 1) / 5u32;
    let tol = Tol::scalar(prec);
    for case in 0..50 {
        let d = 2 + case % 7;
        let k = 2 + case % 9;
        let anchor = s.unit_vector(d);
        let keys: Vec<Vec<Float>> = (0..k).map(|_| s.unit_vector(d)).collect();
        let sims: Vec<Float> = keys
            .iter()
            .map(|kv| {
                kv.iter().zip(&anchor).fold(Float::new(prec), |a, (x, y)| {
                    a + Float::with_val(prec, x * y)
                }) / &tau
            })
            .collect();
        // Cross-entropy: −log softmax(sims)[0].
        let denom = sims
            .iter()
            .fold(Float::new(prec), |a, x| a + x.clone().exp());
        let ce = -(sims[0].clone().exp() / &denom).ln();
        // Split: −s⁺/τ + log Σ_j exp(s_j/τ).
        let split = Float::with_val(prec, -&sims[0]) + denom.clone().ln();
        let res = Float::with_val(prec, &ce - &split);
        if !tol.accepts(&res, &Float::with_val(prec, ce.clone().abs() + 1u32)) {
            return checked(
                "cross-entropy form against the split form",
                Method::Numeric {
                    prec,
                    cases: case + 1,
                    seed: Some(0xc3),
                },
                Err(format!("residual {res:.3e}")),
            );
        }
    }
    checked(
        "cross-entropy form against the split form",
        Method::Numeric {
            prec,
            cases: 50,
            seed: Some(0xc3),
        },
        Ok(format!(
            "50 random anchors and keys, τ = 0.2: agree within {}",
            tol.describe()
        )),
    )
}

/// Monte Carlo InfoNCE with the optimal critic on correlated Gaussians `(X, Y)`, correlation ρ,
/// batches of `K` pairs: returns the mean loss and the half-width of its interval at [`LEVEL`].
fn infonce_estimate(rho: f64, k: usize, batches: usize, seed: u64) -> (f64, f64) {
    let mut s = Sampler::new(seed, 64);
    let c = (1.0 - rho * rho).sqrt();
    // Optimal critic: f(x, y) = log p(y|x) − log p(y) = −(y − ρx)²/(2(1−ρ²)) + y²/2 − ½ log(1−ρ²).
    let critic =
        |x: f64, y: f64| -(y - rho * x).powi(2) / (2.0 * c * c) + y * y / 2.0 - 0.5 * (c * c).ln();
    let (mut sum, mut sumsq) = (0.0, 0.0);
    let (mut xs, mut ys) = (vec![0.0; k], vec![0.0; k]);
    for _ in 0..batches {
        for i in 0..k {
            let x = s.normal_at(64).to_f64();
            let e = s.normal_at(64).to_f64();
            xs[i] = x;
            ys[i] = rho * x + c * e;
        }
        let mut batch_loss = 0.0;
        for i in 0..k {
            let scores: Vec<f64> = (0..k).map(|j| critic(xs[i], ys[j])).collect();
            let m = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let lse = m + scores.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
            batch_loss += lse - scores[i];
        }
        let l = batch_loss / k as f64;
        sum += l;
        sumsq += l * l;
    }
    let n = batches as f64;
    let mean = sum / n;
    let sd = ((sumsq / n - mean * mean).max(0.0) * n / (n - 1.0)).sqrt();
    (mean, z_two_sided(LEVEL) * sd / n.sqrt())
}

/// The bound `I ≥ log K' − E[L]` with `K' = K` (the theorem) or `2K` (a mutant), and the reversed
/// mutant `I ≤ log K − E[L]`, on ρ ∈ {0.5, 0.9, 0.999} with K = 16.
fn infonce_bound(log_k_factor: u32, reversed: bool) -> Check {
    let k = 16usize;
    let batches = 4000;
    let seed = 0x1cfe;
    let name = "InfoNCE bound on correlated Gaussians (optimal critic, K = 16)";
    let mut lines = Vec::new();
    // The most significant violation (in interval half-widths) over the three correlations.
    let mut worst: Option<(f64, String)> = None;
    for (idx, rho) in [0.5f64, 0.9, 0.999].iter().enumerate() {
        let mi = -0.5 * (1.0 - rho * rho).ln();
        let (l, half) = infonce_estimate(*rho, k, batches, seed + idx as u64);
        let lower = ((k * log_k_factor as usize) as f64).ln() - l;
        let line = format!(
            "ρ = {rho}: I = {mi:.4}, log K − E[L] = {:.4} ± {half:.4}",
            (k as f64).ln() - l
        );
        // One-sided: the claimed inequality is violated beyond the estimate's interval.
        let excess = if reversed {
            (mi - lower) / half
        } else {
            (lower - mi) / half
        };
        if excess > 1.0 && worst.as_ref().is_none_or(|w| excess > w.0) {
            worst = Some((excess, line.clone()));
        }
        lines.push(line);
    }
    match worst {
        Some((_, line)) => checked(name, Method::Statistical { level: LEVEL, seed }, Err(line)),
        None => checked(
            name,
            Method::Statistical { level: LEVEL, seed },
            Ok(format!("{} batches each: {}", batches, lines.join("; "))),
        ),
    }
}

fn run_c3(_cfg: &Config) -> Findings {
    let prec = 256;
    let mut f = Findings::default();
    f.propositions.push(Proposition::new(Role::Precise, "InfoNCE splits exactly into an alignment term and a log-sum-exp (uniformity) term", r"-\log\frac{e^{s^+/\tau}}{\sum_j e^{s_j/\tau}} = -\frac{s^+}{\tau}+\log\sum_j e^{s_j/\tau}").with(infonce_split(prec)));
    f.propositions.push(Proposition::new(Role::Precise, "the InfoNCE bound I(X;Y) ≥ log K − E[L_NCE] holds on correlated Gaussians with known I = −½ log(1−ρ²), and saturates at log K", r"I(X;Y)\ \ge\ \log K-\mathbb E[\mathcal L_{\rm NCE}]\ \le\ \log K").with(infonce_bound(1, false)));
    f.mutants.push(Mutant {
        name: "bound_with_log_2k".into(),
        description: "I ≥ log(2K) − E[L]".into(),
        checks: vec![infonce_bound(2, false)],
    });
    f.mutants.push(Mutant {
        name: "bound_reversed".into(),
        description: "I ≤ log K − E[L] (an upper bound)".into(),
        checks: vec![infonce_bound(1, true)],
    });
    f.step("\"Dual formulations of the same trade-off\" is an interpretation; no statement of duality (Lagrangian or convex) is made or checkable. Two precise statements stand behind it.", None);
    f.step("InfoNCE is exactly an alignment term plus a log-sum-exp term (checked at 256 bits). The log-sum-exp term is the contrastive counterpart of a spread/entropy term (Wang & Isola's uniformity is its large-batch limit); the non-contrastive losses replace it by a function of the covariance.", Some(r"\mathcal L_{\rm NCE}=\underbrace{-s^+/\tau}_{\text{alignment}}+\underbrace{\log\textstyle\sum_j e^{s_j/\tau}}_{\text{spread}}".into()));
    f.step("InfoNCE lower-bounds mutual information: $I(X;Y)\\ge\\log K-\\mathbb E[\\mathcal L_{\\rm NCE}]$. On correlated Gaussians with the optimal critic $f=\\log p(y\\mid x)/p(y)$, 4 000 batches of $K=16$, the estimate stays below $I=-\\tfrac12\\log(1-\\rho^2)$ at every $\\rho$ tried, and at $\\rho=0.999$, where $I>\\log 16$, it stays below $\\log K$: the bound cannot exceed $\\log K$ (figures in the evidence).", None);
    f.step("The coding rate is a Gaussian-channel mutual information of the *representation* (C2), InfoNCE a bound on the mutual information *between views*: related information quantities, not the same one.", None);
    f
}

// ---------------------------------------------------------------------------------------------
// C4
// ---------------------------------------------------------------------------------------------

fn claim_c4() -> Claim {
    Claim {
        id: "coding_rate_conventions_and_batch_dimension",
        label: "C4",
        family: "entropy",
        title: "The coding rate with the notes' covariance against the MCR² form",
        quote: "$R_\\varepsilon(\\Sigma) = \\tfrac12\\log\\det\\Big(I + \\tfrac{d}{\\varepsilon^2}\\,\\Sigma\\Big)$, and the SSL loss includes $-\\gamma R_\\varepsilon(\\Sigma)$ … $\\Sigma = \\frac1B (Z-\\bar Z)^\\top (Z-\\bar Z)$",
        place: "Why does the coding-rate regularizer also decorrelate? (definition); Decorrelation (covariance)",
        statement: r"\tfrac12\log\det\Big(I+\tfrac d{\varepsilon^2}\tfrac1B(Z-\bar Z)^\top(Z-\bar Z)\Big)\overset{?}{=}\tfrac12\log\det\Big(I+\tfrac{d}{B\varepsilon^2}Z^\top Z\Big)\ \ (\text{MCR}^2)",
        nature: Nature::Mathematical,
    }
}

fn rate_of(sigma: &Mat, alpha: &Float) -> Float {
    sigma
        .identity_plus(alpha)
        .and_then(|m| m.logdet_spd())
        .expect("SPD")
        / 2u32
}

/// The notes' (centred, 1/B) rate against the MCR² (uncentred, 1/B) rate on batches with mean `m`.
fn notes_vs_mcr2(prec: u32, mean_scale: u32) -> Result<String, String> {
    let mut s = Sampler::new(0xc4, prec);
    let (b, d) = (12usize, 4usize);
    let alpha = Float::with_val(prec, d as u64) / Float::with_val(prec, 1) * 4u32; // d/ε², ε² = 1/4
    let mut worst = Float::new(prec);
    for _ in 0..10 {
        let mut z = s.gaussian(b, d);
        // Remove the sample mean exactly, then add a chosen mean.
        let zc = covariance(&z, Centring::Centred, Divisor::B).expect("valid");
        let _ = zc;
        let means: Vec<Float> = (0..d)
            .map(|j| (0..b).fold(Float::new(prec), |a, i| a + z.at(i, j)) / b as u64)
            .collect();
        for i in 0..b {
            for j in 0..d {
                *z.at_mut(i, j) -= &means[j];
                *z.at_mut(i, j) +=
                    Float::with_val(prec, mean_scale) * Float::with_val(prec, j as u64 + 1) / 4u32;
            }
        }
        let notes = rate_of(
            &covariance(&z, Centring::Centred, Divisor::B).expect("valid"),
            &alpha,
        );
        let mcr2 = rate_of(
            &covariance(&z, Centring::Uncentred, Divisor::B).expect("valid"),
            &alpha,
        );
        let diff = Float::with_val(prec, &notes - &mcr2).abs();
        if !Tol::linalg(prec, b, 10).accepts(&diff, &mcr2) {
            return Err(format!(
                "B = {b}, d = {d}, batch mean ({mean_scale}/4)(1, 2, 3, 4): notes {notes:.6}, MCR² {mcr2:.6}"
            ));
        }
        if diff > worst {
            worst = diff;
        }
    }
    Ok(format!(
        "10 zero-mean Gaussian batches (B = 12, d = 4): equal within {} (largest difference below 2^-{})",
        Tol::linalg(prec, b, 10).describe(),
        sslproof::hp::bits_below(&worst).min(prec)
    ))
}

/// Sylvester numerically at 256 bits on a tall and a wide batch: feature dimension (d × d) against
/// batch dimension (B × B).
fn sylvester_numeric(prec: u32, wrong_scale: bool) -> Check {
    let mut s = Sampler::new(0x5, prec);
    let mut lines = Vec::new();
    for &(b, d) in &[(8usize, 64usize), (40, 6)] {
        let z = s.gaussian(b, d);
        let a = Float::with_val(prec, 3) / 10u32;
        let ztz = z.transpose().mul(&z).expect("shapes");
        let zzt = z.mul(&z.transpose()).expect("shapes");
        let feat = ztz
            .identity_plus(&a)
            .and_then(|m| m.logdet_spd())
            .expect("SPD");
        let a2 = if wrong_scale {
            Float::with_val(prec, &a / b as u64)
        } else {
            a.clone()
        };
        let batch = zzt
            .identity_plus(&a2)
            .and_then(|m| m.logdet_spd())
            .expect("SPD");
        let res = Float::with_val(prec, &feat - &batch);
        let line = format!(
            "B = {b}, d = {d}: log det(I_d + aZᵀZ) = {feat:.6}, log det(I_B + aZZᵀ) = {batch:.6}"
        );
        if !Tol::linalg(prec, b.max(d), 10).accepts(&res, &feat) {
            return checked(
                "feature dimension against batch dimension, 256-bit",
                Method::Numeric {
                    prec,
                    cases: 2,
                    seed: Some(0x5),
                },
                Err(line),
            );
        }
        lines.push(line);
    }
    checked(
        "feature dimension against batch dimension, 256-bit",
        Method::Numeric {
            prec,
            cases: 2,
            seed: Some(0x5),
        },
        Ok(lines.join("; ")),
    )
}

fn run_c4(_cfg: &Config) -> Findings {
    let prec = 256;
    let mut f = Findings::default();
    f.propositions.push(Proposition::new(Role::AsWritten, "the notes' coding rate (centred covariance, 1/B) is the MCR²/SimDINO coding rate (uncentred, 1/B)", r"R_\varepsilon\big(\tfrac1B(Z-\bar Z)^\top(Z-\bar Z)\big)=R_\varepsilon\big(\tfrac1BZ^\top Z\big)").with(checked("batches with a non-zero mean", Method::Numeric { prec, cases: 10, seed: Some(0xc4) }, notes_vs_mcr2(prec, 1))));
    f.propositions.push(
        Proposition::new(
            Role::UnderConditions,
            "they agree exactly when the batch mean is zero",
            r"\bar Z=0\ \Rightarrow\ \tfrac1B(Z-\bar Z)^\top(Z-\bar Z)=\tfrac1BZ^\top Z",
        )
        .with(checked(
            "zero-mean batches",
            Method::Numeric {
                prec,
                cases: 10,
                seed: Some(0xc4),
            },
            notes_vs_mcr2(prec, 0),
        )),
    );
    f.propositions.push(
        Proposition::new(Role::Precise, "the rate can be computed in the batch dimension: det(I_d + aZᵀZ) = det(I_B + aZZᵀ) (Sylvester)", r"\det(I_d+aZ^\top Z)=\det(I_B+aZZ^\top),\quad Z\in\mathbb R^{B\times d}")
            .with(sym_check("symbolic Z, shapes (B, d) = (1, 2), (2, 3), (3, 2)", Method::Symbolic { scope: Scope::UpToD { d_max: 3 } }, sym_job!(symbolic::sylvester(&[(1, 2), (2, 3), (3, 2)], false))))
            .with(sylvester_numeric(prec, false)),
    );
    // Complete collapse: every row equal to one unit vector c.
    let d = 256usize;
    let eps2 = Float::with_val(prec, 1) / 20u32; // SimDINO's eps = ε² = 0.05
    let alpha = Float::with_val(prec, d as u64) / &eps2;
    let b = 64usize;
    let c: Vec<Float> = (0..d)
        .map(|j| {
            if j == 0 {
                Float::with_val(prec, 1)
            } else {
                Float::new(prec)
            }
        })
        .collect();
    let z = Mat::from_fn(b, d, prec, |_, j| c[j].clone());
    // Batch-dimension form: B × B Gram matrices (the feature form would be 256 × 256).
    let gram = z.mul(&z.transpose()).expect("shapes");
    let unc = gram
        .identity_plus(&Float::with_val(prec, &alpha / b as u64))
        .and_then(|m| m.logdet_spd())
        .expect("SPD")
        / 2u32;
    let expected = Float::with_val(prec, &alpha + 1u32).ln() / 2u32;
    let centred = covariance(
        &Mat::from_fn(b, 3, prec, |_, j| c[j].clone()),
        Centring::Centred,
        Divisor::B,
    )
    .expect("valid");
    let r_centred = rate_of(&centred, &alpha);
    let collapse_ok = Tol::linalg(prec, b, 0)
        .accepts(&Float::with_val(prec, &unc - &expected), &expected)
        && r_centred.is_zero();
    f.propositions.push(
        Proposition::new(Role::Precise, "at complete collapse (every feature the same unit vector) the centred rate is 0 but the uncentred MCR² rate is ½ log(1 + d/ε²)", r"R^{\rm centred}=0,\qquad R^{\rm uncentred}=\tfrac12\log\big(1+\tfrac d{\varepsilon^2}\big)")
            .with(checked("B = 64, d = 256, ε² = 0.05 (SimDINO), batch-dimension form", Method::Numeric { prec, cases: 1, seed: None }, if collapse_ok { Ok(format!("centred 0; uncentred {unc:.6} = ½ log(1 + 5120)")) } else { Err(format!("centred {r_centred:.3e}, uncentred {unc:.6}, expected {expected:.6}")) })),
    );
    // 1/B against 1/(B−1).
    let mut s = Sampler::new(0xb1, prec);
    let zb = s.gaussian(6, 3);
    let a = Float::with_val(prec, 3);
    let rb = rate_of(
        &covariance(&zb, Centring::Centred, Divisor::B).expect("valid"),
        &a,
    );
    let rb1 = rate_of(
        &covariance(&zb, Centring::Centred, Divisor::BMinusOne).expect("valid"),
        &a,
    );
    f.tables.push(Table {
        caption: "Conventions (reference-implementations.md §1, §4.1) and what they change".into(),
        header: [
            "implementation",
            "covariance",
            "divisor",
            "scalar α",
            "value at complete collapse (tr Σ = 1)",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        rows: vec![
            vec![
                "notes".into(),
                "centred".into(),
                "1/B".into(),
                "d/ε²".into(),
                "0".into(),
            ],
            vec![
                "MCR² (official)".into(),
                "uncentred ZZᵀ".into(),
                "1/m".into(),
                "d/eps, eps = ε²".into(),
                "½ log(1 + d/eps)".into(),
            ],
            vec![
                "SimDINO".into(),
                "uncentred WᵀW (per GPU)".into(),
                "1/(m·N)".into(),
                "p/(m·N·eps), eps = ε²".into(),
                "½ log(1 + d/(N·eps)) with reduce_cov = 0".into(),
            ],
            vec![
                "EMP-SSL".into(),
                "uncentred".into(),
                "1/m".into(),
                "p/(m·eps)".into(),
                "½ log(1 + d/eps)".into(),
            ],
            vec![
                "CorInfoMax".into(),
                "EMA-centred".into(),
                "1/N".into(),
                "log det(R + εI), no I".into(),
                "−∞ without the ε (here: log ε per direction)".into(),
            ],
        ],
    });
    f.propositions.push(
        Proposition::new(Role::Precise, "1/B against 1/(B−1) changes the value (α effectively scaled by B/(B−1))", r"R_\varepsilon\big(\tfrac1{B-1}S\big)=R_{\varepsilon'}\big(\tfrac1BS\big),\ \varepsilon'^2=\varepsilon^2\tfrac{B-1}{B}")
            .with(checked("B = 6, d = 3, α = 3", Method::Numeric { prec, cases: 1, seed: Some(0xb1) }, if rb1 > rb { Ok(format!("1/B: {rb:.6}; 1/(B−1): {rb1:.6}")) } else { Err("no difference".into()) })),
    );
    f.mutants.push(Mutant {
        name: "sylvester_rescaled".into(),
        description: "det(I_d + aZᵀZ) = det(I_B + (a/B) ZZᵀ)".into(),
        checks: vec![
            sym_check(
                "symbolic Z",
                Method::Symbolic {
                    scope: Scope::Exact,
                },
                sym_job!(symbolic::sylvester(&[(2, 3)], true)),
            ),
            sylvester_numeric(prec, true),
        ],
    });
    f.mutants.push(Mutant {
        name: "collapse_rates_agree".into(),
        description: "centred and uncentred rates agree at complete collapse".into(),
        checks: vec![checked(
            "complete collapse",
            Method::Numeric {
                prec,
                cases: 1,
                seed: None,
            },
            if Tol::scalar(prec).accepts(&Float::with_val(prec, &unc - &r_centred), &unc) {
                Ok("agree".into())
            } else {
                Err(format!("centred {r_centred:.3e} ≠ uncentred {unc:.4}"))
            },
        )],
    });
    f.mutants.push(Mutant {
        name: "divisor_irrelevant".into(),
        description: "1/B and 1/(B−1) give the same rate".into(),
        checks: vec![checked(
            "B = 6, d = 3, α = 3",
            Method::Numeric {
                prec,
                cases: 1,
                seed: Some(0xb1),
            },
            if Tol::scalar(prec).accepts(&Float::with_val(prec, &rb - &rb1), &rb) {
                Ok("equal".into())
            } else {
                Err(format!("{rb:.6} ≠ {rb1:.6}"))
            },
        )],
    });
    f.step("The notes centre and divide by $B$; MCR², SimDINO and EMP-SSL use the uncentred Gram matrix of L2-normalised features, with the code's `eps` equal to $\\varepsilon^2$. The two rates agree exactly when the batch mean is zero, and differ otherwise.", None);
    f.step("At complete collapse the difference is decisive: the centred covariance is 0 (rate 0, the minimum), the uncentred one is $cc^\\top$ (rate $\\tfrac12\\log(1+d/\\varepsilon^2)$, e.g. $\\tfrac12\\log 5121$ at SimDINO's defaults), so the uncentred rate does not register collapse to a constant vector as zero rate.", None);
    f.step("Batch dimension: for $Z\\in\\mathbb R^{B\\times d}$ (Sylvester's determinant identity, symbolic for small shapes, 256-bit for $B=8,d=64$):", Some(r"\log\det\big(I_d+aZ^\top Z\big)=\log\det\big(I_B+aZZ^\top\big)".into()));
    f.step("so the rate costs $O(\\min(B,d)^3)$: with $d=8192$ and $B=512$ the batch form is $512\\times512$.", None);
    f
}

// ---------------------------------------------------------------------------------------------
// C5
// ---------------------------------------------------------------------------------------------

fn claim_c5() -> Claim {
    Claim {
        id: "hutchinson_unbiased_with_variance",
        label: "C5",
        family: "entropy",
        title: "Trace and log-det estimation by random probes",
        quote: "Cool blog: Sebastian Nowozin, \"Thoughts on trace estimation in deep learning\". Now I understand better. (claims.md C5: $\\mathbb E[v^\\top A v]=\\mathrm{tr}\\,A$, the variance for Gaussian and Rademacher probes, and $\\log\\det(I+A)=\\mathrm{tr}\\log(I+A)$ by its power series)",
        place: "Notes (the paper summary), and claims.md C5",
        statement: r"\mathbb E[v^\top Av]=\mathrm{tr}\,A;\ \mathrm{Var}_{\rm Gauss}=2\lVert A\rVert_F^2,\ \mathrm{Var}_{\rm Rad}=2\sum_{i\ne j}A_{ij}^2;\ \log\det(I+A)=\sum_{k\ge1}\tfrac{(-1)^{k+1}}k\mathrm{tr}\,A^k\ (\rho(A)<1)",
        nature: Nature::Mathematical,
    }
}

/// A fixed symmetric test matrix with a sizeable diagonal (so the two variances differ).
fn test_a(prec: u32, d: usize) -> Mat {
    let m = Recipe {
        d,
        seed: 0xa5,
        spectrum: Spectrum::Spread,
        top: -1,
    }
    .realize(prec)
    .0;
    m.add(&Mat::scalar(d, &(Float::with_val(prec, 1) / 8u32)))
        .expect("square")
}

/// Variance formula variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum VarForm {
    /// `2‖A‖²_F` (Gaussian) / `2Σ_{i≠j}A_ij²` (Rademacher).
    Theorem,
    /// Mutant: `‖A‖²_F` for Gaussian probes (the factor 2 dropped).
    GaussNoTwo,
    /// Mutant: `2‖A‖²_F` for Rademacher probes too.
    RadLikeGauss,
}

/// Rademacher probes exactly: all `2^d` sign vectors at 256 bits.
fn rademacher_exact(prec: u32, form: VarForm) -> Check {
    let d = 8;
    let a = test_a(prec, d);
    let n = 1u32 << d;
    let (mut sum, mut sumsq) = (Float::new(prec), Float::new(prec));
    for mask in 0..n {
        let v: Vec<i32> = (0..d)
            .map(|i| if mask >> i & 1 == 1 { 1 } else { -1 })
            .collect();
        let mut q = Float::new(prec);
        for i in 0..d {
            for j in 0..d {
                q += Float::with_val(prec, a.at(i, j) * (v[i] * v[j]));
            }
        }
        sumsq += Float::with_val(prec, q.square_ref());
        sum += q;
    }
    let mean = Float::with_val(prec, &sum / n);
    let var = Float::with_val(prec, &sumsq / n) - Float::with_val(prec, mean.square_ref());
    let tr = a.trace().expect("square");
    let off = sslproof_losses::vicreg::off_diagonal_sq(&a);
    let predicted = match form {
        VarForm::RadLikeGauss => a.frobenius_sq() * 2u32,
        _ => Float::with_val(prec, &off * 2u32),
    };
    let tol = Tol::linalg(prec, d, 4);
    let ok = tol.accepts(&Float::with_val(prec, &mean - &tr), &tr)
        && tol.accepts(&Float::with_val(prec, &var - &predicted), &predicted);
    let detail = format!(
        "all 256 sign vectors, d = 8: mean {mean:.10} (tr A = {tr:.10}), variance {var:.10} (formula {predicted:.10})"
    );
    checked(
        "Rademacher probes, exact enumeration",
        Method::Numeric {
            prec,
            cases: 256,
            seed: None,
        },
        if ok { Ok(detail) } else { Err(detail) },
    )
}

/// Gaussian probes: z-tests of the mean and of the variance at [`LEVEL`] (the variance test uses
/// the sample fourth central moment for its standard error). Returns the per-probe samples too.
fn gaussian_tests(prec: u32, form: VarForm, n: usize) -> (Check, Vec<f64>) {
    let seed = 0x6a55;
    let d = 8;
    let a = test_a(prec, d).to_f64();
    let tr: f64 = (0..d).map(|i| a[i * d + i]).sum();
    let fro: f64 = a.iter().map(|x| x * x).sum();
    let predicted = match form {
        VarForm::GaussNoTwo => fro,
        _ => 2.0 * fro,
    };
    let mut s = Sampler::new(seed, 64);
    let samples: Vec<f64> = (0..n)
        .map(|_| {
            let v: Vec<f64> = (0..d).map(|_| s.normal_at(64).to_f64()).collect();
            (0..d)
                .map(|i| (0..d).map(|j| a[i * d + j] * v[i] * v[j]).sum::<f64>())
                .sum()
        })
        .collect();
    let nf = n as f64;
    let mean = samples.iter().sum::<f64>() / nf;
    let m2 = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / nf;
    let m4 = samples.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / nf;
    let z = z_two_sided(LEVEL);
    let z_mean = (mean - tr) / (predicted / nf).sqrt();
    let z_var = (m2 - predicted) / ((m4 - m2 * m2) / nf).sqrt();
    let detail = format!(
        "n = {n}, d = 8: mean {mean:.5} (tr A = {tr:.5}, z = {z_mean:.2}); variance {m2:.5} (formula {predicted:.5}, z = {z_var:.2}); reject when |z| > {z:.3}"
    );
    let ok = z_mean.abs() <= z && z_var.abs() <= z;
    (
        checked(
            "Gaussian probes: z-tests of mean and variance",
            Method::Statistical { level: LEVEL, seed },
            if ok { Ok(detail) } else { Err(detail) },
        ),
        samples,
    )
}

/// Truncation bounds for the power series of `log det(I+A)`, `ρ(A) < 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BiasBound {
    /// `Σ_i |λ_i|^{K+1}/((K+1)(1−|λ_i|))`: any symmetric `A` with `ρ(A) < 1`.
    General,
    /// `Σ_i λ_i^{K+1}/(K+1)` (alternating tail, first omitted term): valid for PSD `A`, a mutant for
    /// indefinite `A` (a negative eigenvalue's tail does not alternate).
    Alternating,
}

/// The truncated series against `log det(I+A)` (Cholesky) for `K = 1…60` on a matrix with the
/// given spectrum, checked against `bound`.
fn truncated_series(prec: u32, spectrum: &[(i32, u32)], bound_kind: BiasBound) -> Check {
    let spectrum: Vec<Float> = spectrum
        .iter()
        .map(|&(n, dd)| Float::with_val(prec, n) / dd)
        .collect();
    let a = Sampler::new(0x5e, prec).with_spectrum(&spectrum);
    let exact = a
        .identity_plus(&Float::with_val(prec, 1))
        .and_then(|m| m.logdet_spd())
        .expect("SPD");
    let names = spectrum
        .iter()
        .map(|l| format!("{:.1}", l))
        .collect::<Vec<_>>()
        .join(", ");
    let name = format!("truncation bias against its bound, K = 1…60, λ = ({names})");
    let mut p = a.clone();
    let mut partial = Float::new(prec);
    let mut lines = Vec::new();
    for k in 1..=60u32 {
        if k > 1 {
            p = p.mul(&a).expect("square");
        }
        let t = p.trace().expect("square") / k;
        if k % 2 == 1 {
            partial += t
        } else {
            partial -= t
        }
        let bias = Float::with_val(prec, &exact - &partial);
        let bound = spectrum.iter().fold(Float::new(prec), |acc, l| {
            let lk = Float::with_val(prec, l.clone().abs().pow_u(k + 1));
            let denom = match bound_kind {
                BiasBound::Alternating => Float::with_val(prec, k + 1),
                BiasBound::General => {
                    Float::with_val(prec, (1 - Float::with_val(prec, l.clone().abs())) * (k + 1))
                }
            };
            acc + lk / denom
        });
        if bias.clone().abs() > bound {
            return checked(
                name,
                Method::Numeric {
                    prec,
                    cases: 60,
                    seed: Some(0x5e),
                },
                Err(format!(
                    "K = {k}: |bias| = {:.4e} > bound {:.4e}",
                    bias.abs(),
                    bound
                )),
            );
        }
        if [1, 2, 5, 20, 60].contains(&k) {
            lines.push(format!("K = {k}: bias {bias:.3e} (bound {bound:.3e})"));
        }
    }
    checked(
        name,
        Method::Numeric {
            prec,
            cases: 60,
            seed: Some(0x5e),
        },
        Ok(lines.join("; ")),
    )
}

const INDEFINITE: [(i32, u32); 5] = [(9, 10), (-9, 10), (1, 2), (-3, 10), (1, 10)];
const PSD: [(i32, u32); 5] = [(9, 10), (7, 10), (1, 2), (3, 10), (1, 10)];

trait PowU {
    fn pow_u(&self, k: u32) -> Float;
}
impl PowU for Float {
    fn pow_u(&self, k: u32) -> Float {
        use rug::ops::Pow;
        Float::with_val(self.prec(), self.clone().pow(k))
    }
}

fn run_c5(_cfg: &Config) -> Findings {
    let prec = 256;
    let n = 100_000;
    let mut f = Findings::default();
    let (gauss, samples) = gaussian_tests(prec, VarForm::Theorem, n);
    f.propositions.push(
        Proposition::new(Role::AsWritten, "Hutchinson: E[vᵀAv] = tr A for probes with E[vvᵀ] = I; single-probe variance 2‖A‖²_F (Gaussian) and 2Σ_{i≠j} A_ij² (Rademacher)", r"\mathbb E[v^\top Av]=\mathrm{tr}\,A,\quad \mathrm{Var}=2\lVert A\rVert_F^2\ (\text{Gaussian}),\ 2\textstyle\sum_{i\ne j}A_{ij}^2\ (\text{Rademacher})")
            .with(rademacher_exact(prec, VarForm::Theorem))
            .with(gauss),
    );
    f.propositions.push(
        Proposition::new(Role::AsWritten, "log det(I+A) = tr log(I+A) = Σ_k (−1)^{k+1} tr(A^k)/k for ρ(A) < 1; truncating after K terms leaves a bias bounded by Σ_i |λ_i|^{K+1}/((K+1)(1−|λ_i|))", r"\Big|\log\det(I+A)-\sum_{k=1}^K\tfrac{(-1)^{k+1}}k\mathrm{tr}\,A^k\Big|\le\sum_i\frac{|\lambda_i|^{K+1}}{(K+1)(1-|\lambda_i|)}")
            .with(truncated_series(prec, &INDEFINITE, BiasBound::General))
            .with(truncated_series(prec, &PSD, BiasBound::General)),
    );
    f.propositions.push(
        Proposition::new(Role::Precise, "for PSD A the tail alternates, so the bias alternates in sign and |bias| ≤ Σ_i λ_i^{K+1}/(K+1)", r"A\succeq0:\ \Big|\log\det(I+A)-\sum_{k\le K}	frac{(-1)^{k+1}}k\mathrm{tr}\,A^k\Big|\le\sum_irac{\lambda_i^{K+1}}{K+1}")
            .with(truncated_series(prec, &PSD, BiasBound::Alternating)),
    );
    f.mutants.push(Mutant { name: "gaussian_variance_without_two".into(), description: "Var = ‖A‖²_F for Gaussian probes (the error reference-implementations.md flags on one web page)".into(), checks: vec![gaussian_tests(prec, VarForm::GaussNoTwo, n).0] });
    f.mutants.push(Mutant {
        name: "rademacher_like_gaussian".into(),
        description: "Var = 2‖A‖²_F for Rademacher probes too".into(),
        checks: vec![rademacher_exact(prec, VarForm::RadLikeGauss)],
    });
    f.mutants.push(Mutant {
        name: "alternating_bound_for_indefinite_a".into(),
        description:
            "|bias| ≤ Σ_i |λ_i|^{K+1}/(K+1) for every A with ρ(A) < 1 (true only for PSD A)".into(),
        checks: vec![truncated_series(prec, &INDEFINITE, BiasBound::Alternating)],
    });
    f.step("$\\mathbb E[v^\\top Av]=\\sum_{ij}A_{ij}\\mathbb E[v_iv_j]=\\mathrm{tr}\\,A$ whenever $\\mathbb E[vv^\\top]=I$. For Gaussian $v$ (Isserlis), $\\mathrm{Var}=2\\,\\mathrm{tr}(A^2)=2\\lVert A\\rVert_F^2$; for Rademacher $v$ the diagonal contributes no variance ($v_i^2=1$), leaving $2\\sum_{i\\ne j}A_{ij}^2$: never worse than Gaussian.", None);
    f.step("Checks: all $2^8$ Rademacher vectors enumerated at 256 bits (exact mean and variance); 100 000 Gaussian probes with two-sided z-tests at level 0.999, seed `0x6a55` (the variance test's standard error from the sample fourth moment).", None);
    f.step("$\\log\\det(I+A)=\\sum_i\\log(1+\\lambda_i)=\\mathrm{tr}\\log(I+A)$, and the power series converges for $\\rho(A)<1$ (A1). Truncation after $K$ terms leaves a tail bounded per eigenvalue by the geometric bound $|\\lambda|^{K+1}/((K+1)(1-|\\lambda|))$. For $\\lambda\\ge0$ the tail alternates and the first omitted term bounds it; for $\\lambda<0$ every term of $-\\log(1+\\lambda)$'s tail has the same sign and the geometric factor is needed (the alternating bound fails on an indefinite $A$, a mutant). With stochastic traces each $\\mathrm{tr}\\,A^k$ is estimated without bias, but the truncation bias stays.", None);
    // Figure: variance of the m-probe mean against m.
    let a = test_a(prec, 8).to_f64();
    let fro: f64 = a.iter().map(|x| x * x).sum();
    let offd: f64 = (0..8)
        .flat_map(|i| (0..8).map(move |j| (i, j)))
        .filter(|(i, j)| i != j)
        .map(|(i, j)| a[i * 8 + j].powi(2))
        .sum();
    let ms = [1usize, 2, 4, 8, 16, 32, 64];
    let emp: Vec<(f64, f64)> = ms
        .iter()
        .map(|&m| {
            let groups: Vec<f64> = samples
                .chunks_exact(m)
                .map(|c| c.iter().sum::<f64>() / m as f64)
                .collect();
            let mu = groups.iter().sum::<f64>() / groups.len() as f64;
            let v =
                groups.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / (groups.len() as f64 - 1.0);
            ((m as f64).log2(), v.log10())
        })
        .collect();
    let theory = |c: f64| {
        ms.iter()
            .map(|&m| ((m as f64).log2(), (c / m as f64).log10()))
            .collect::<Vec<_>>()
    };
    let chart = plot::Chart {
        title: "Variance of the m-probe trace estimator (d = 8)".into(),
        x_label: "log2 m (probes)".into(),
        y_label: "log10 variance".into(),
        x_range: (0.0, 6.0),
        y_range: ((2.0 * offd / 64.0).log10() - 0.5, (2.0 * fro).log10() + 0.5),
        series: vec![
            plot::Series {
                name: "Gaussian, measured".into(),
                points: emp,
                colour: 0,
                dashed: false,
            },
            plot::Series {
                name: "2‖A‖²_F / m".into(),
                points: theory(2.0 * fro),
                colour: 1,
                dashed: true,
            },
            plot::Series {
                name: "Rademacher, 2Σ_(i≠j)A_ij² / m".into(),
                points: theory(2.0 * offd),
                colour: 2,
                dashed: true,
            },
        ],
    };
    f.figures.push(Figure { file: "hutchinson_unbiased_with_variance.svg".into(), caption: "Measured variance of the Gaussian m-probe estimator (100 000 probes, grouped) against 2‖A‖²_F/m, and the smaller Rademacher variance.".into(), svg: plot::render(&chart).expect("render") });
    f
}
