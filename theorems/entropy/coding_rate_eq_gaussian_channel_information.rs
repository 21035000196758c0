//! # C2: the coding rate as an InfoMax criterion under Gaussian assumptions
//!
//! ## Main statements
//! * `coding_rate_eq_gaussian_channel_information`: `R_ε(Σ) = I(Z; Z+N)` for Gaussian `Z` with
//!   centred covariance `Σ` and independent `N ~ N(0, (ε²/d) I)`; for a non-Gaussian `Z` with the
//!   same covariance the rate is a strict upper bound; the information ignores the mean, and the
//!   uncentred second moment used by MCR²/SimDINO/EMP-SSL overstates it by exactly
//!   `½ log(1 + α μᵀ(I+αΣ)⁻¹μ)` (matrix determinant lemma).
//!
//! ## Implementation notes
//! `I(Z; Z+N) = h(Z+N) − h(N)` by statrs's Gaussian entropies (an independent route) against our
//! MPFR log-determinant; the binary-input channel by composite Simpson quadrature in IEEE double.
//! The determinant identity behind the formula is checked with fully symbolic `Σ` for `d ≤ 4`,
//! every `d` by the multiplicativity of `det` (cited).
//!
//! ## References
//! Cover & Thomas, *Elements of Information Theory*, 2nd ed., Thm 8.4.1 and §9.4 (Gaussian
//! channel); Ma et al. (2007), lossy coding; Yu et al. (2020), MCR².
//!
//! ## Source
//! `../shared/notes.md`, *Information-theoretic interpretation*; *Why does the coding-rate
//! regularizer also decorrelate?*, item 4.

use rug::Float;
use sslproof::prelude::*;
use statrs::distribution::MultivariateNormal;

/// The claim.
pub const CLAIM: Claim = Claim {
    id: "coding_rate_eq_gaussian_channel_information",
    label: "C2",
    family: "entropy",
    title: "The coding rate as an InfoMax criterion under Gaussian assumptions",
    quote: "Maximizing $R_\\varepsilon$ under the alignment constraint is an instance of InfoMax (maximize representation entropy while matching positives). … a principled InfoMax criterion under Gaussian assumptions.",
    place: "Information-theoretic interpretation; Why does the coding-rate regularizer also decorrelate?, item 4",
    statement: r"R_\varepsilon(\Sigma)=\tfrac12\log\det\big(I+\tfrac{d}{\varepsilon^2}\Sigma\big) = I(Z;Z+N),\ Z\sim\mathcal N(\mu,\Sigma),\ N\sim\mathcal N(0,\tfrac{\varepsilon^2}{d}I)",
    nature: Nature::Mathematical,
    expected: Class::Proved,
};

/// A claimed channel behind the rate: `R = c·log det(I + (d/ε²)Σ)` equals `h(Z+N) − [h(N)]` with
/// noise variance `ε²/d` (or `ε²`) per coordinate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Channel {
    /// Noise variance `ε²/d` per coordinate (else `ε²`).
    pub noise_div_d: bool,
    /// The information subtracts `h(N)` (else the rate is claimed to be `h(Z+N)`).
    pub minus_noise_entropy: bool,
    /// The rate's factor on `log det`: ½ (else 1).
    pub half: bool,
}

const CHANNEL: Channel = Channel {
    noise_div_d: true,
    minus_noise_entropy: true,
    half: true,
};

/// Five PSD test matrices, d = 1, 2, 3, 5, 8.
fn test_sigmas(run: &mut Run) -> Vec<Mat> {
    let prec = run.prec();
    let seed = run.seed();
    [1usize, 2, 3, 5, 8]
        .iter()
        .enumerate()
        .map(|(k, &d)| {
            Recipe {
                d,
                seed: seed.wrapping_add(k as u64),
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

/// The claimed relation between the rate (our MPFR log det) and statrs's entropies, ε² = ½.
fn channel_vs_statrs(run: &mut Run, ch: &Channel) -> Result<String, String> {
    let prec = run.prec();
    let eps2 = 0.5f64;
    for sigma in test_sigmas(run) {
        let d = sigma.rows();
        let noise = if ch.noise_div_d {
            eps2 / d as f64
        } else {
            eps2
        };
        let mut with_noise = sigma.clone();
        for i in 0..d {
            *with_noise.at_mut(i, i) += noise;
        }
        let h_y = mvn(&with_noise).entropy().ok_or("statrs gave no entropy")?;
        let h_n = mvn(&Mat::scalar(d, &Float::with_val(prec, noise)))
            .entropy()
            .ok_or("statrs gave no entropy")?;
        let alpha = Float::with_val(prec, d as u64) / Float::with_val(prec, eps2);
        let logdet = sigma
            .identity_plus(&alpha)
            .and_then(|m| m.logdet_spd())
            .map_err(|e| e.to_string())?;
        let r = if ch.half { logdet / 2u32 } else { logdet }.to_f64();
        let info = if ch.minus_noise_entropy {
            h_y - h_n
        } else {
            h_y
        };
        run.count(1);
        if (info - r).abs() > 2f64.powi(-30) * (r.abs() + d as f64) {
            return Err(format!(
                "d = {d}, noise {noise} per coordinate: {} = {info:.8}, rate = {r:.8}",
                if ch.minus_noise_entropy {
                    "h(Z+N) − h(N)"
                } else {
                    "h(Z+N)"
                }
            ));
        }
    }
    Ok("d = 1, 2, 3, 5, 8, ε² = 1/2: agree to 2^-30".into())
}

/// `I(Z; Z+N)` for `Z` uniform on `{−1, +1}` (variance 1) and `N ~ N(0, σ²)`: `h(Y) − h(N)` with
/// `h(Y)` by composite Simpson quadrature of `−p log p` (40 001 nodes on `[−1−14σ, 1+14σ]`, error
/// below 10⁻¹⁰ for these smooth densities).
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

/// A binary input with the same covariance: its information is strictly below the rate; and as
/// the noise vanishes it approaches `log 2` (a discrete input carries at most its entropy), far
/// below the rate, which grows without bound.
fn non_gaussian(run: &mut Run) -> Result<String, String> {
    let mut lines = Vec::new();
    for sigma in [0.5f64, 1.0, 2.0, 0.05] {
        let i = binary_channel_information(sigma);
        let r = 0.5 * (1.0 + 1.0 / (sigma * sigma)).ln();
        run.count(1);
        if i >= r - 1e-6 {
            return Err(format!("σ = {sigma}: I = {i:.6} is not below R = {r:.6}"));
        }
        lines.push(format!("σ = {sigma}: I = {i:.6} < R = {r:.6}"));
    }
    let i_small = binary_channel_information(0.05);
    if (i_small - 2f64.ln()).abs() > 1e-6 {
        return Err(format!("at σ = 0.05, I = {i_small:.8}, not log 2"));
    }
    Ok(format!(
        "Z = ±1 equiprobable (variance 1): {}; I → log 2 as σ → 0",
        lines.join("; ")
    ))
}

/// A claimed closed form of the uncentred rate's excess over the information (the centred
/// rate): `½ log(1 + α μᵀ(I+αΣ)⁻¹μ)` (matrix determinant lemma), or without the resolvent,
/// `½ log(1 + α‖μ‖²)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Excess {
    Resolvent,
    NormOnly,
}

/// For a Gaussian `Z` with mean `μ ≠ 0`, `R_ε(Σ + μμᵀ) − R_ε(Σ)` (the uncentred second moment's
/// rate minus the information) against the claimed closed form (α = 6, d = 3).
fn uncentred_excess(run: &mut Run, e: &Excess) -> Result<String, String> {
    let prec = run.prec();
    let sigma = test_sigmas(run).swap_remove(2);
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
    let r = |m: &Mat| -> Result<Float, String> {
        Ok(m.identity_plus(&alpha)
            .and_then(|x| x.logdet_spd())
            .map_err(|e| e.to_string())?
            / 2u32)
    };
    let (rc, ru) = (r(&sigma)?, r(&second)?);
    let excess = Float::with_val(prec, &ru - &rc);
    let quad = match e {
        Excess::Resolvent => {
            let inv = sigma
                .identity_plus(&alpha)
                .and_then(|m| m.inverse())
                .map_err(|e| e.to_string())?;
            sslproof::hp::vec::dot(&mu, &sslproof::hp::vec::mat_vec(&inv, &mu))
        }
        Excess::NormOnly => sslproof::hp::vec::dot(&mu, &mu),
    };
    let closed = (Float::with_val(prec, &alpha * &quad) + 1u32).ln() / 2u32;
    run.count(1);
    let res = Float::with_val(prec, &excess - &closed);
    let detail = format!(
        "μ = (1/4, 1/2, 3/4): R_ε(Σ + μμᵀ) − R_ε(Σ) = {excess:.10}, closed form {closed:.10}"
    );
    if Tol::linalg(prec, d, 10).accepts(&res, &Float::with_val(prec, ru.clone().abs() + 1u32))
        && excess > 0
    {
        Ok(detail)
    } else {
        Err(detail)
    }
}

#[cfg(feature = "symbolic")]
mod symbolic {
    use sslproof::sym::algebra::{self as alg, SymMat};

    /// `det(Σ + nI) = n^d det(I + k·Σ/n)` for symbolic `Σ` and `n`, `d ≤ d_max`, `k = 1` (noise
    /// `ε²/d` per coordinate, the theorem) or `k = d` (noise `ε²`).
    pub fn channel_det_identity(d_max: usize, noise_div_d: bool) -> Result<String, String> {
        for d in 1..=d_max {
            let sigma = SymMat::symmetric(d, "s");
            let lhs = sigma.affine(&alg::expr("1"), &alg::expr("n")).det();
            let k = if noise_div_d {
                "1".to_string()
            } else {
                format!("{d}")
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
}

/// The confidence level of the Monte Carlo intervals.
const LEVEL: f64 = 0.999;

/// What the information of unit-norm features through the channel is claimed to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitNorm {
    /// Strictly below `R_ε(Σ)` (they are not Gaussian).
    BelowRate,
    /// `R_ε(Σ)` itself (the Gaussian formula applied to l2-normalised features).
    EqualsRate,
}

/// `log p(y)` for `Y = Z + N`, `Z` uniform on the unit sphere `S^{d−1}` (d = 2: the circle,
/// by the trapezoid rule over 128 angles in log-sum-exp form: for this periodic integrand the
/// relative error is about `(κ/2)^128/128!` with `κ = r/σ²`, below 10⁻⁹ for `κ ≤ 80` (`|y| ≤ 2`
/// at ε² = 0.05), negligible against the Monte Carlo interval; d = 3: the closed form `φ_σ(r−1)…` with `sinh`), `N ~ N(0, σ²I)`.
fn log_density_sphere(y: &[f64], sigma2: f64) -> f64 {
    let r2: f64 = y.iter().map(|x| x * x).sum();
    let d = y.len();
    let base = -(d as f64) / 2.0 * (2.0 * std::f64::consts::PI * sigma2).ln()
        - (r2 + 1.0) / (2.0 * sigma2);
    match d {
        2 => {
            let m = 128;
            let terms: Vec<f64> = (0..m)
                .map(|k| {
                    let t = 2.0 * std::f64::consts::PI * k as f64 / m as f64;
                    (y[0] * t.cos() + y[1] * t.sin()) / sigma2
                })
                .collect();
            let top = terms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            base + top + (terms.iter().map(|t| (t - top).exp()).sum::<f64>() / m as f64).ln()
        }
        _ => {
            // E_z[exp(y·z/σ²)] over S² = sinh(x)/x, x = r/σ²; log sinh x = x + ln(1 − e^{−2x}) − ln 2.
            let x = r2.sqrt() / sigma2;
            let log_sinh_over = if x < 1e-8 {
                0.0
            } else {
                x + (-(-2.0 * x).exp_m1()).ln() - std::f64::consts::LN_2 - x.ln()
            };
            base + log_sinh_over
        }
    }
}

/// `I(Z; Z+N) = h(Z+N) − h(N)` for `Z` uniform on the circle (d = 2) and on S² (d = 3), whose
/// covariance is `I/d`, with `N ~ N(0, (ε²/d)I)`, at ε² = 0.5 and 0.05: `h(Z+N) = −E log p(Y)` by
/// Monte Carlo (seeded, CLT interval at level 0.999), `p` by quadrature or in closed form;
/// against `R_ε(I/d) = (d/2) log(1 + 1/ε²)`.
fn unit_norm_gap(run: &mut Run, claim: &UnitNorm) -> Result<String, String> {
    let n = run.scaled(20_000);
    let mut s = run.sampler_bits(3, 64);
    let z = sslproof::check::stats::z_two_sided(LEVEL);
    let mut lines = Vec::new();
    let mut verdict = Ok(());
    for d in [2usize, 3] {
        for eps2 in [0.5f64, 0.05] {
            let sigma2 = eps2 / d as f64;
            let rate = d as f64 / 2.0 * (1.0 + 1.0 / eps2).ln();
            let h_noise =
                d as f64 / 2.0 * (2.0 * std::f64::consts::PI * std::f64::consts::E * sigma2).ln();
            let samples: Vec<f64> = (0..n)
                .map(|_| {
                    let g: Vec<f64> = (0..d).map(|_| s.normal_at(64).to_f64()).collect();
                    let norm = g.iter().map(|x| x * x).sum::<f64>().sqrt();
                    let y: Vec<f64> = g
                        .iter()
                        .map(|x| x / norm + sigma2.sqrt() * s.normal_at(64).to_f64())
                        .collect();
                    -log_density_sphere(&y, sigma2)
                })
                .collect();
            run.count(n);
            let mean = samples.iter().sum::<f64>() / n as f64;
            let var = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
            let half = z * (var / n as f64).sqrt();
            let info = mean - h_noise;
            let gap = rate - info;
            lines.push(format!(
                "d = {d}, ε² = {eps2}: I = {info:.4} ± {half:.4}, R_ε = {rate:.4}, gap {gap:.4}"
            ));
            let holds = match claim {
                UnitNorm::BelowRate => gap - half > 0.0,
                UnitNorm::EqualsRate => gap.abs() <= half,
            };
            if !holds && verdict.is_ok() {
                verdict = Err(());
            }
        }
    }
    let detail = format!("{n} draws each: {}", lines.join("; "));
    match verdict {
        Ok(()) => Ok(detail),
        Err(()) => Err(detail),
    }
}

pub fn run(c: &mut ClaimRun) {
    const DET: &str = "det(Σ + nI) = n^d det(I + Σ/n), fully symbolic Σ";
    c.prop(
        Role::AsWritten,
        "for Gaussian Z with (centred) covariance Σ, R_ε(Σ) = I(Z; Z+N) with independent N ~ N(0, (ε²/d) I)",
        r"I(Z;Z+N)=h(Z+N)-h(N)=\tfrac12\log\frac{\det(\Sigma+\tfrac{\varepsilon^2}{d}I)}{\det(\tfrac{\varepsilon^2}{d}I)}=\tfrac12\log\det\big(I+\tfrac d{\varepsilon^2}\Sigma\big)",
        CHANNEL,
    )
    .symbolic(
        DET,
        Scope::UpToD { d_max: 4 },
        sym!(|&ch| symbolic::channel_det_identity(4, ch.noise_div_d)),
    )
    .check("h(Z+N) − h(N) by statrs against R_ε", channel_vs_statrs)
    .argument(
        "for every d",
        vec![
            ArgSpec::cited(
                "for independent Z and N, I(Z; Z+N) = h(Z+N) − h(Z+N | Z) = h(Z+N) − h(N)",
                "chain rule for mutual information",
                "Cover & Thomas, Elements of Information Theory, 2nd ed., §8.6",
            ),
            ArgSpec::cited(
                "Z + N ~ N(μ, Σ + σ²I), and h(N(μ, S)) = ½ log det(2πe S) (C1)",
                "Gaussian entropy",
                "Cover & Thomas, 2nd ed., Thm 8.4.1",
            ),
            ArgSpec::cited(
                "det(Σ + σ²I) = det(σ²I)·det(I + Σ/σ²) = σ^{2d} det(I + Σ/σ²)",
                "multiplicativity of det",
                "Horn & Johnson, Matrix Analysis, 2nd ed., §0.3",
            ),
            ArgSpec::checked("that identity with every entry symbolic, d ≤ 4", DET),
        ],
    )
    .mutant(
        "noise_variance_eps_squared",
        "noise variance ε² per coordinate (not ε²/d)",
        Channel {
            noise_div_d: false,
            ..CHANNEL
        },
    )
    .mutant(
        "rate_is_output_entropy",
        "R_ε is the entropy of the noisy output, h(Z+N), not the information",
        Channel {
            minus_noise_entropy: false,
            ..CHANNEL
        },
    )
    .mutant(
        "information_is_full_log_det",
        "I(Z; Z+N) = log det(I + (d/ε²)Σ), without the ½",
        Channel {
            half: false,
            ..CHANNEL
        },
    );

    c.prop(
        Role::Precise,
        "for a non-Gaussian Z with the same covariance, I(Z; Z+N) < R_ε: the rate is an upper bound, not the information",
        r"I(Z;Z+N)\le\tfrac12\log\det\big(I+\tfrac d{\varepsilon^2}\Sigma_Z\big),\ \text{equality iff } Z \text{ Gaussian}",
        (),
    )
    .double("binary input through the same channel (quadrature)", |run, _| {
        non_gaussian(run)
    });

    c.prop(
        Role::Precise,
        "l2-normalised features are never Gaussian: uniform on the circle or on S² (covariance I/d), I(Z; Z+N) is strictly below R_ε, by a gap that grows as ε shrinks",
        r"Z\sim\mathrm{Unif}(S^{d-1}):\quad I(Z;Z+N)<R_\varepsilon(\tfrac1dI)=\tfrac d2\log\big(1+\tfrac1{\varepsilon^2}\big)",
        UnitNorm::BelowRate,
    )
    .statistical(
        "Monte Carlo h(Z+N) for Z uniform on the circle and on S², ε² = 0.5 and 0.05",
        LEVEL,
        unit_norm_gap,
    )
    .mutant(
        "rate_is_information_on_the_sphere",
        "for unit-norm features with Σ = I/d the rate is the information: I(Z; Z+N) = R_ε",
        UnitNorm::EqualsRate,
    );

    c.prop(
        Role::Precise,
        "the information is translation invariant: it is R_ε of the centred covariance; the uncentred second moment used in MCR²/SimDINO/EMP-SSL code overstates it by ½ log(1 + α μᵀ(I+αΣ)⁻¹μ)",
        r"R_\varepsilon(\Sigma+\mu\mu^\top)-R_\varepsilon(\Sigma)=\tfrac12\log\big(1+\alpha\,\mu^\top(I+\alpha\Sigma)^{-1}\mu\big)>0",
        Excess::Resolvent,
    )
    .check("uncentred minus centred rate against the closed form", uncentred_excess)
    .mutant(
        "excess_without_resolvent",
        "the excess is ½ log(1 + α‖μ‖²) (the resolvent (I+αΣ)⁻¹ forgotten)",
        Excess::NormOnly,
    );

    c.step("For independent $Z$ and Gaussian $N$, $I(Z;Z+N)=h(Z+N)-h(N\\mid Z)=h(Z+N)-h(N)$. With $Z\\sim\\mathcal N(\\mu,\\Sigma)$, $Z+N\\sim\\mathcal N(\\mu,\\Sigma+\\sigma^2I)$, and C1 gives", Some(r"I=\tfrac12\log\det(\Sigma+\sigma^2I)-\tfrac12\log\det(\sigma^2I)=\tfrac12\log\det\big(I+\Sigma/\sigma^2\big)".into()));
    c.step("With $\\sigma^2=\\varepsilon^2/d$ (noise of total power $\\mathbb E\\lVert N\\rVert^2=\\varepsilon^2$) this is exactly $R_\\varepsilon$. So under Gaussian assumptions the coding rate *is* a mutual information: of the additive white Gaussian noise channel at distortion $\\varepsilon^2$; maximising it is InfoMax for that channel.", None);
    c.step("For a non-Gaussian $Z$ with the same covariance, $h(Z+N)\\le h(\\mathcal N(\\mu,\\Sigma+\\sigma^2I))$ (the Gaussian maximises entropy at fixed covariance), so $R_\\varepsilon$ is an upper bound, strict for a binary $Z=\\pm1$ (quadrature in the evidence), whose information stays below $\\log 2$ however small the noise.", None);
    c.step("Mutual information ignores the mean, so the channel's $\\Sigma$ is the centred covariance; the uncentred second moment $\\Sigma+\\mu\\mu^\\top$ of MCR²/SimDINO/EMP-SSL code overstates it by exactly $\\tfrac12\\log(1+\\alpha\\mu^\\top(I+\\alpha\\Sigma)^{-1}\\mu)$ (matrix determinant lemma, checked numerically).", None);
    c.step("Real features are l2-normalised, so they are never Gaussian: they lie on a sphere. For $Z$ uniform on the circle or on $S^2$ (covariance $I/d$), $I(Z;Z+N)=h(Z+N)-h(N)$ with $h(Z+N)$ by Monte Carlo (the density of $Z+N$ by quadrature on the circle, in closed form on $S^2$) lies strictly below $R_\\varepsilon(I/d)=\\tfrac d2\\log(1+1/\\varepsilon^2)$, and the gap grows as $\\varepsilon$ shrinks (the sphere has dimension $d-1$: the information grows like $\\tfrac{d-1}2\\log(1/\\varepsilon^2)$, the rate like $\\tfrac d2\\log(1/\\varepsilon^2)$). For a deterministic encoder $Z=f(X)$, $I(X;Z+N)=I(Z;Z+N)$ (the channel sees $X$ only through $Z$; Cover & Thomas, §2.8), so this is the information about the input too.", None);
    c.step("The class: the notes' sentence carries its own condition (\"a principled InfoMax criterion under Gaussian assumptions\"), and under that condition the identity is proved; so *proved* is the honest class for the sentence as written. For the features the methods actually produce, unit-norm and uncentred, the condition never holds: the rate is then an upper bound on the information, overstated further by the mean (below), and maximising it maximises the bound, not the information.", None);
    c.step("\"Under the alignment constraint\" and \"InfoMax\" are the interpretation; the checkable content is the identity, its Gaussian hypothesis and its centring.", None);
}
