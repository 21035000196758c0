//! # C5: trace and log-det estimation by random probes
//!
//! ## Main statements
//! * `hutchinson_unbiased_with_variance`: `E[vᵀAv] = tr A` for probes with `E[vvᵀ] = I`; for
//!   symmetric `A` the single-probe variance is `2‖A‖²_F` (Gaussian) and `2Σ_{i≠j} A_ij²`
//!   (Rademacher); `log det(I+A) = Σ_k (−1)^{k+1} tr(A^k)/k` for `ρ(A) < 1`, and truncating after
//!   `K` terms leaves a bias bounded by `Σ_i |λ_i|^{K+1}/((K+1)(1−|λ_i|))` (by the first omitted
//!   term alone for PSD `A`, whose tail alternates). For a general `A` the variances are those of
//!   its symmetric part: `‖A‖²_F + tr(A²)` (Gaussian), `½Σ_{i≠j}(A_ij + A_ji)²` (Rademacher).
//!
//! ## Implementation notes
//! Rademacher probes by exact enumeration of all `2^8` sign vectors at the working precision;
//! Gaussian probes by two-sided z-tests of the mean and the variance at level 0.999 (the
//! variance test's standard error from the sample fourth moment); the truncated series against a
//! Cholesky log-determinant.
//!
//! ## References
//! Hutchinson (1990); Avron & Toledo (2011); S. Nowozin, "Thoughts on trace estimation in deep
//! learning" (the notes' link).
//!
//! ## Source
//! `../shared/notes.md`, the note on trace estimation; `claims.md` C5.

use rug::Float;
use rug::ops::Pow;
use sslproof::check::stats::z_two_sided;
use sslproof::prelude::*;
use sslproof_losses::vicreg::off_diagonal_sq;

/// The claim.
pub const CLAIM: Claim = Claim {
    id: "hutchinson_unbiased_with_variance",
    label: "C5",
    family: "entropy",
    title: "Trace and log-det estimation by random probes",
    quote: "Cool blog: Sebastian Nowozin, \"Thoughts on trace estimation in deep learning\". Now I understand better. (claims.md C5: $\\mathbb E[v^\\top A v]=\\mathrm{tr}\\,A$, the variance for Gaussian and Rademacher probes, and $\\log\\det(I+A)=\\mathrm{tr}\\log(I+A)$ by its power series)",
    place: "Notes (the paper summary), and claims.md C5",
    statement: r"\mathbb E[v^\top Av]=\mathrm{tr}\,A;\ \mathrm{Var}_{\rm Gauss}=2\lVert A\rVert_F^2,\ \mathrm{Var}_{\rm Rad}=2\sum_{i\ne j}A_{ij}^2;\ \log\det(I+A)=\sum_{k\ge1}\tfrac{(-1)^{k+1}}k\mathrm{tr}\,A^k\ (\rho(A)<1)",
    nature: Nature::Mathematical,
    expected: Class::VerifiedNumerically,
};

/// The confidence level of the statistical tests.
const LEVEL: f64 = 0.999;

/// A fixed symmetric 8×8 test matrix from the check's seed, with a sizeable diagonal (so the two
/// variances differ).
fn test_a(run: &mut Run) -> Mat {
    let prec = run.prec();
    let m = Recipe {
        d: 8,
        seed: run.seed(),
        spectrum: Spectrum::Spread,
        top: -1,
    }
    .realize(prec)
    .0;
    m.add(&Mat::scalar(8, &(Float::with_val(prec, 1) / 8u32)))
        .expect("square")
}

/// Claimed single-probe variances.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarForm {
    /// `2‖A‖²_F` (Gaussian), `2Σ_{i≠j}A_ij²` (Rademacher).
    Theorem,
    /// `‖A‖²_F` for Gaussian probes (the factor 2 dropped).
    GaussNoTwo,
    /// `2‖A‖²_F` for Rademacher probes too.
    RadLikeGauss,
}

/// Single-probe variances claimed for a general (not necessarily symmetric) `A`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GeneralForm {
    /// `‖A‖²_F + tr(A²)` (Gaussian) and `½Σ_{i≠j}(A_ij + A_ji)²` (Rademacher): both `2‖S‖²`-type
    /// formulas of the symmetric part `S = (A + Aᵀ)/2`, since `vᵀAv = vᵀSv`.
    SymmetricPart,
    /// The symmetric-A formulas applied as they stand: `2‖A‖²_F`, `2Σ_{i≠j}A_ij²`.
    AsIfSymmetric,
}

/// A fixed non-symmetric 8×8 matrix: the symmetric test matrix plus a strictly upper-triangular
/// part drawn from the check's seed (entries uniform in [−1, 1)).
fn test_a_general(run: &mut Run) -> Mat {
    let prec = run.prec();
    let mut a = test_a(run);
    let mut s = run.sampler_bits(2, prec);
    for i in 0..8 {
        for j in i + 1..8 {
            let u = Float::with_val(prec, s.uniform() * 2u32) - 1u32;
            *a.at_mut(i, j) += u;
        }
    }
    a
}

/// The claimed variances `(Gaussian, Rademacher)` of `vᵀAv` for a general `A`.
fn general_formulas(a: &Mat, form: GeneralForm) -> (Float, Float) {
    let prec = a.prec();
    let d = a.rows();
    match form {
        GeneralForm::AsIfSymmetric => (a.frobenius_sq() * 2u32, off_diagonal_sq(a) * 2u32),
        GeneralForm::SymmetricPart => {
            let tr_a2 = a.trace_of_product(a).expect("square");
            let gauss = a.frobenius_sq() + tr_a2;
            let mut rad = Float::new(prec);
            for i in 0..d {
                for j in 0..d {
                    if i != j {
                        rad += Float::with_val(prec, a.at(i, j) + a.at(j, i)).square();
                    }
                }
            }
            (gauss, rad / 2u32)
        }
    }
}

/// Non-symmetric `A`, Rademacher probes: the exact variance by enumerating all `2⁸` sign vectors,
/// against the claimed formula.
fn general_rademacher(run: &mut Run, form: &GeneralForm) -> Result<String, String> {
    let prec = run.prec();
    let d = 8;
    let a = test_a_general(run);
    let n = 1u32 << d;
    let (mut sum, mut sumsq) = (Float::new(prec), Float::new(prec));
    for mask in 0..n {
        let mut q = Float::new(prec);
        for i in 0..d {
            for j in 0..d {
                let sign = if (mask >> i ^ mask >> j) & 1 == 0 {
                    1
                } else {
                    -1
                };
                q += Float::with_val(prec, a.at(i, j) * sign);
            }
        }
        sumsq += Float::with_val(prec, q.square_ref());
        sum += q;
    }
    run.count(n as usize);
    let mean = Float::with_val(prec, &sum / n);
    let var = Float::with_val(prec, &sumsq / n) - Float::with_val(prec, mean.square_ref());
    let (_, predicted) = general_formulas(&a, *form);
    let detail = format!(
        "non-symmetric A (‖A − Aᵀ‖²_F = {:.6}), all 256 sign vectors: variance {var:.10}, formula {predicted:.10}",
        a.sub(&a.transpose()).expect("square").frobenius_sq()
    );
    if Tol::linalg(prec, d, 4).accepts(&Float::with_val(prec, &var - &predicted), &var) {
        Ok(detail)
    } else {
        Err(detail)
    }
}

/// Non-symmetric `A`, Gaussian probes, by a route that shares nothing with the formula:
/// `vᵀAv = vᵀSv = Σ_i μ_i w_i²` with `μ` the eigenvalues of `S = (A + Aᵀ)/2` (Jacobi) and
/// `w = Qᵀv` standard normal, so `Var = 2Σ μ_i²` (χ²₁ has variance 2).
fn general_gaussian(run: &mut Run, form: &GeneralForm) -> Result<String, String> {
    let prec = run.prec();
    let a = test_a_general(run);
    let sym = a.symmetrize().map_err(|e| e.to_string())?;
    let eig = sym.sym_eigen().map_err(|e| e.to_string())?;
    let spectral = eig.values.iter().fold(Float::new(prec), |acc, m| {
        acc + Float::with_val(prec, m.square_ref())
    }) * 2u32;
    run.count(1);
    let (predicted, _) = general_formulas(&a, *form);
    let detail = format!(
        "non-symmetric A: 2Σμ_i² over the eigenvalues of (A + Aᵀ)/2 = {spectral:.10}, formula {predicted:.10}"
    );
    if Tol::linalg(prec, 8, 8).accepts(&Float::with_val(prec, &spectral - &predicted), &spectral) {
        Ok(detail)
    } else {
        Err(detail)
    }
}

/// Rademacher probes exactly: all `2⁸` sign vectors.
fn rademacher_exact(run: &mut Run, form: &VarForm) -> Result<String, String> {
    let prec = run.prec();
    let d = 8;
    let a = test_a(run);
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
    run.count(n as usize);
    let mean = Float::with_val(prec, &sum / n);
    let var = Float::with_val(prec, &sumsq / n) - Float::with_val(prec, mean.square_ref());
    let tr = a.trace().expect("square");
    let predicted = match form {
        VarForm::RadLikeGauss => a.frobenius_sq() * 2u32,
        _ => off_diagonal_sq(&a) * 2u32,
    };
    let tol = Tol::linalg(prec, d, 4);
    let detail = format!(
        "all 256 sign vectors, d = 8: mean {mean:.10} (tr A = {tr:.10}), variance {var:.10} (formula {predicted:.10})"
    );
    if tol.accepts(&Float::with_val(prec, &mean - &tr), &tr)
        && tol.accepts(&Float::with_val(prec, &var - &predicted), &predicted)
    {
        Ok(detail)
    } else {
        Err(detail)
    }
}

/// Gaussian probes: z-tests of the mean and of the variance at [`LEVEL`]; on the theorem's form
/// it also draws the figure of the m-probe estimator's variance.
fn gaussian_tests(run: &mut Run, form: &VarForm) -> Result<String, String> {
    let d = 8;
    let a = test_a(run).to_f64();
    let n = run.scaled(100_000);
    let tr: f64 = (0..d).map(|i| a[i * d + i]).sum();
    let fro: f64 = a.iter().map(|x| x * x).sum();
    let predicted = match form {
        VarForm::GaussNoTwo => fro,
        _ => 2.0 * fro,
    };
    let mut s = run.sampler_bits(1, 64);
    let samples: Vec<f64> = (0..n)
        .map(|_| {
            let v: Vec<f64> = (0..d).map(|_| s.normal_at(64).to_f64()).collect();
            (0..d)
                .map(|i| (0..d).map(|j| a[i * d + j] * v[i] * v[j]).sum::<f64>())
                .sum()
        })
        .collect();
    run.count(n);
    let nf = n as f64;
    let mean = samples.iter().sum::<f64>() / nf;
    let m2 = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / nf;
    let m4 = samples.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / nf;
    let z = z_two_sided(LEVEL);
    let z_mean = (mean - tr) / (predicted / nf).sqrt();
    let z_var = (m2 - predicted) / ((m4 - m2 * m2) / nf).sqrt();
    if *form == VarForm::Theorem {
        run.figure(figure(&a, d, &samples)?);
    }
    let detail = format!(
        "n = {n}, d = 8: mean {mean:.5} (tr A = {tr:.5}, z = {z_mean:.2}); variance {m2:.5} (formula {predicted:.5}, z = {z_var:.2}); reject when |z| > {z:.3}"
    );
    if z_mean.abs() <= z && z_var.abs() <= z {
        Ok(detail)
    } else {
        Err(detail)
    }
}

/// The variance of the m-probe mean against m, measured from the Gaussian samples.
fn figure(a: &[f64], d: usize, samples: &[f64]) -> Result<Figure, String> {
    let fro: f64 = a.iter().map(|x| x * x).sum();
    let offd: f64 = (0..d)
        .flat_map(|i| (0..d).map(move |j| (i, j)))
        .filter(|(i, j)| i != j)
        .map(|(i, j)| a[i * d + j].powi(2))
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
    Ok(Figure {
        file: "hutchinson_unbiased_with_variance.svg".into(),
        caption: "Measured variance of the Gaussian m-probe estimator (grouped probes) against 2‖A‖²_F/m, and the smaller Rademacher variance.".into(),
        svg: plot::render(&chart).map_err(|e| format!("rendering the figure: {e}"))?,
    })
}

/// A claimed bound on the truncation bias of the power series of `log det(I+A)`, `ρ(A) < 1`,
/// over the domain it is claimed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BiasBound {
    /// `Σ_i |λ_i|^{K+1}/((K+1)(1−|λ_i|))` (geometric tail); else `Σ_i |λ_i|^{K+1}/(K+1)` (the first
    /// omitted term).
    pub geometric: bool,
    /// Claimed for every symmetric `A` with `ρ(A) < 1` (else for PSD `A` only).
    pub indefinite_too: bool,
}

const INDEFINITE: [(i32, u32); 5] = [(9, 10), (-9, 10), (1, 2), (-3, 10), (1, 10)];
const PSD: [(i32, u32); 5] = [(9, 10), (7, 10), (1, 2), (3, 10), (1, 10)];

/// The truncated series against `log det(I+A)` (Cholesky) for `K = 1…60` on matrices of the
/// claimed domain (a PSD spectrum, and an indefinite one when claimed for it), against the bound.
fn truncated_series(run: &mut Run, b: &BiasBound) -> Result<String, String> {
    let prec = run.prec();
    let mut smp = run.sampler();
    let mut spectra: Vec<&[(i32, u32)]> = vec![&PSD];
    if b.indefinite_too {
        spectra.push(&INDEFINITE);
    }
    let mut lines = Vec::new();
    for spec in spectra {
        let spectrum: Vec<Float> = spec
            .iter()
            .map(|&(n, dd)| Float::with_val(prec, n) / dd)
            .collect();
        let a = smp.with_spectrum(&spectrum);
        let exact = a
            .identity_plus(&Float::with_val(prec, 1))
            .and_then(|m| m.logdet_spd())
            .map_err(|e| e.to_string())?;
        let names = spectrum
            .iter()
            .map(|l| format!("{l:.1}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut p = a.clone();
        let mut partial = Float::new(prec);
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
                let lk = Float::with_val(prec, l.clone().abs().pow(k + 1));
                let denom = if b.geometric {
                    Float::with_val(prec, (1 - Float::with_val(prec, l.clone().abs())) * (k + 1))
                } else {
                    Float::with_val(prec, k + 1)
                };
                acc + lk / denom
            });
            run.count(1);
            if bias.clone().abs() > bound {
                return Err(format!(
                    "λ = ({names}), K = {k}: |bias| = {:.4e} > bound {bound:.4e}",
                    bias.abs()
                ));
            }
            if [1, 5, 60].contains(&k) {
                lines.push(format!(
                    "λ = ({names}), K = {k}: bias {bias:.3e} (bound {bound:.3e})"
                ));
            }
        }
    }
    Ok(lines.join("; "))
}

pub fn run(c: &mut ClaimRun) {
    let prec = c.prec();
    let n = c.scaled(100_000);
    c.prop(
        Role::AsWritten,
        "Hutchinson: E[vᵀAv] = tr A for probes with E[vvᵀ] = I; single-probe variance 2‖A‖²_F (Gaussian) and 2Σ_{i≠j} A_ij² (Rademacher), for symmetric A",
        r"\mathbb E[v^\top Av]=\mathrm{tr}\,A,\quad \mathrm{Var}=2\lVert A\rVert_F^2\ (\text{Gaussian}),\ 2\textstyle\sum_{i\ne j}A_{ij}^2\ (\text{Rademacher})",
        VarForm::Theorem,
    )
    .check("Rademacher probes, exact enumeration", rademacher_exact)
    .statistical(
        "Gaussian probes: z-tests of mean and variance",
        LEVEL,
        gaussian_tests,
    )
    .mutant(
        "gaussian_variance_without_two",
        "Var = ‖A‖²_F for Gaussian probes (the error reference-implementations.md flags on one web page)",
        VarForm::GaussNoTwo,
    )
    .mutant(
        "rademacher_like_gaussian",
        "Var = 2‖A‖²_F for Rademacher probes too",
        VarForm::RadLikeGauss,
    );

    c.prop(
        Role::Precise,
        "for a general (non-symmetric) A only the symmetric part S = (A+Aᵀ)/2 is seen (vᵀAv = vᵀSv): Var = ‖A‖²_F + tr(A²) for Gaussian probes and ½Σ_{i≠j}(A_ij + A_ji)² for Rademacher; the symmetric formulas need A = Aᵀ",
        r"\mathrm{Var}_{\rm Gauss}=\lVert A\rVert_F^2+\mathrm{tr}(A^2)=2\lVert S\rVert_F^2,\quad \mathrm{Var}_{\rm Rad}=\tfrac12\textstyle\sum_{i\ne j}(A_{ij}+A_{ji})^2,\quad S=\tfrac{A+A^\top}2",
        GeneralForm::SymmetricPart,
    )
    .check("non-symmetric A, Rademacher probes, exact enumeration", general_rademacher)
    .check("non-symmetric A, Gaussian probes, by the eigenvalues of the symmetric part", general_gaussian)
    .mutant(
        "symmetric_formulas_for_general_a",
        "Var = 2‖A‖²_F (Gaussian) and 2Σ_{i≠j}A_ij² (Rademacher) for every A, symmetric or not",
        GeneralForm::AsIfSymmetric,
    );

    const SERIES: &str = "truncation bias against its bound, K = 1…60";
    c.prop(
        Role::AsWritten,
        "log det(I+A) = tr log(I+A) = Σ_k (−1)^{k+1} tr(A^k)/k for ρ(A) < 1; truncating after K terms leaves a bias bounded by Σ_i |λ_i|^{K+1}/((K+1)(1−|λ_i|))",
        r"\Big|\log\det(I+A)-\sum_{k=1}^K\tfrac{(-1)^{k+1}}k\mathrm{tr}\,A^k\Big|\le\sum_i\frac{|\lambda_i|^{K+1}}{(K+1)(1-|\lambda_i|)}",
        BiasBound {
            geometric: true,
            indefinite_too: true,
        },
    )
    .check(SERIES, truncated_series);

    c.prop(
        Role::Precise,
        "for PSD A the tail alternates, so the bias alternates in sign and |bias| ≤ Σ_i λ_i^{K+1}/(K+1)",
        r"A\succeq0:\ \Big|\log\det(I+A)-\sum_{k\le K}\tfrac{(-1)^{k+1}}k\mathrm{tr}\,A^k\Big|\le\sum_i\frac{\lambda_i^{K+1}}{K+1}",
        BiasBound {
            geometric: false,
            indefinite_too: false,
        },
    )
    .check(SERIES, truncated_series)
    .mutant(
        "alternating_bound_for_indefinite_a",
        "|bias| ≤ Σ_i |λ_i|^{K+1}/(K+1) for every A with ρ(A) < 1 (true only for PSD A)",
        BiasBound {
            geometric: false,
            indefinite_too: true,
        },
    );

    c.step("$\\mathbb E[v^\\top Av]=\\sum_{ij}A_{ij}\\mathbb E[v_iv_j]=\\mathrm{tr}\\,A$ whenever $\\mathbb E[vv^\\top]=I$. For Gaussian $v$ (Isserlis) and symmetric $A$, $\\mathrm{Var}=2\\,\\mathrm{tr}(A^2)=2\\lVert A\\rVert_F^2$; for Rademacher $v$ the diagonal contributes no variance ($v_i^2=1$), leaving $2\\sum_{i\\ne j}A_{ij}^2$: never worse than Gaussian. Both formulas need $A$ symmetric: for a general $A$ the quadratic form sees only $S=(A+A^\\top)/2$, so $\\mathrm{Var}_{\\rm Gauss}=2\\lVert S\\rVert_F^2=\\lVert A\\rVert_F^2+\\mathrm{tr}(A^2)$ and $\\mathrm{Var}_{\\rm Rad}=\\tfrac12\\sum_{i\\ne j}(A_{ij}+A_{ji})^2$ (checked on a non-symmetric $A$: exactly by enumeration for Rademacher, and for Gaussian against $2\\sum_i\\mu_i^2$ over the eigenvalues of $S$; the symmetric formulas applied to it are a refuted mutant).", None);
    c.step(format!("Checks: all $2^8$ Rademacher vectors enumerated at {prec} bits (exact mean and variance); {n} Gaussian probes with two-sided z-tests at level 0.999, seed in the evidence (the variance test's standard error from the sample fourth moment)."), None);
    c.step("$\\log\\det(I+A)=\\sum_i\\log(1+\\lambda_i)=\\mathrm{tr}\\log(I+A)$, and the power series converges for $\\rho(A)<1$ (A1). Truncation after $K$ terms leaves a tail bounded per eigenvalue by the geometric bound $|\\lambda|^{K+1}/((K+1)(1-|\\lambda|))$. For $\\lambda\\ge0$ the tail alternates and the first omitted term bounds it; for $\\lambda<0$ every term of $-\\log(1+\\lambda)$'s tail has the same sign and the geometric factor is needed (the alternating bound fails on an indefinite $A$, a mutant). With stochastic traces each $\\mathrm{tr}\\,A^k$ is estimated without bias, but the truncation bias stays.", None);
}
