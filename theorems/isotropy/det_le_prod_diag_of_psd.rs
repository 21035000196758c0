//! # B4: log det decorrelates at fixed variances (Hadamard's inequality)
//!
//! ## Main statements
//! * `det_le_prod_diag_of_psd`: **Hadamard's inequality**: `det Σ ≤ Π_j Σ_jj` for PSD `Σ`, and
//!   `log det(I+αΣ) ≤ Σ_j log(1+αΣ_jj)`, with equality iff `Σ` is diagonal: at fixed variances
//!   the log-det is largest exactly for decorrelated features.
//!
//! ## Implementation notes
//! Every `d` by an argument: with `D = diag(Σ)` and the correlation matrix
//! `C = D^{−1/2}ΣD^{−1/2}` (unit diagonal, `tr C = d`), `det Σ = det C · Π Σ_jj`
//! (multiplicativity of det, cited; checked symbolically for `d ≤ 4`), and AM–GM (B1) gives
//! `det C ≤ 1` with equality iff `C = I`. Numerics on seeded recipes, on diagonal `Σ` and next to
//! them (`D + 2⁻⁴⁰H`, `H` off-diagonal).
//!
//! ## References
//! Hadamard (1893); Horn & Johnson, *Matrix Analysis*, Thm 7.8.1.
//!
//! ## Source
//! `../shared/notes.md`, *Why does the coding-rate regularizer also decorrelate?*, item 4 and the
//! closing paragraph.

use rug::Float;
use sslproof::prelude::*;

/// The claim.
pub const CLAIM: Claim = Claim {
    id: "det_le_prod_diag_of_psd",
    label: "B4",
    family: "isotropy",
    title: "log det decorrelates at fixed variances (Hadamard's inequality)",
    quote: "$\\log\\det$ is a single global measure of entropy (volume) that inherently couples variance preservation and decorrelation … automatically decorrelates the dimensions without needing an explicit off-diagonal penalty.",
    place: "Why does the coding-rate regularizer also decorrelate?, item 4, and the closing paragraph",
    statement: r"\Sigma\succeq0:\ \det\Sigma\le\prod_j\Sigma_{jj},\ \text{equality}\iff\Sigma\text{ diagonal (for }\Sigma_{jj}>0)",
    nature: Nature::Mathematical,
    expected: Class::Proved,
};

/// Candidate inequalities between `det Σ` and the diagonal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hadamard {
    /// `det Σ ≤ Π Σ_jj` and `log det(I+αΣ) ≤ Σ log(1+αΣ_jj)`, equality at every diagonal `Σ`.
    Theorem,
    /// `det Σ ≥ Π Σ_jj`.
    Reversed,
    /// `det Σ ≤ (Π Σ_jj)²`.
    Squared,
    /// The theorem, but equality only at `Σ ∝ I`.
    EqualityOnlyIsotropic,
}

fn det(m: &Mat) -> Float {
    m.det().expect("square")
}

/// The inequality on random PSD `Σ`, on diagonal `Σ` and next to them (`D + 2⁻⁴⁰H`, `H`
/// symmetric off-diagonal), and the equality case at the non-isotropic `diag(1, 2)`.
fn hadamard_property(run: &mut Run, v: &Hadamard) -> Result<String, String> {
    let prec = run.prec();
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
        let slack =
            Float::with_val(prec, prod.clone().abs() + 1u32) >> Tol::linalg(prec, d, 20).bits;
        let ok = match v {
            Hadamard::Theorem | Hadamard::EqualityOnlyIsotropic => {
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
            Err(format!("det Σ = {dt:.6e}, Π Σ_jj = {prod:.6e}"))
        }
    };
    let cases = run.cases();
    let property = run.for_all::<Recipe, _>(8, cases, |r| test(&r.realize(prec).0, r.d));
    property.result(String::new)?;
    let mut s = run.sampler();
    for d in 2..=6 {
        let dg: Vec<Float> = (0..d)
            .map(|_| s.uniform() * 2u32 + Float::with_val(prec, 1) / 10u32)
            .collect();
        let diag = Mat::diag(&dg, prec);
        let mut h = s.traceless_symmetric(d);
        for i in 0..d {
            *h.at_mut(i, i) = Float::new(prec);
        }
        let near = diag
            .add(&h.scale(&(Float::with_val(prec, 1) >> 40u32)))
            .expect("square");
        for (what, m) in [("diagonal", &diag), ("D + 2⁻⁴⁰H", &near)] {
            test(m, d).map_err(|e| format!("{what}, d = {d}: {e}"))?;
        }
        let gap = Float::with_val(
            prec,
            dg.iter().fold(Float::with_val(prec, 1), |a, x| a * x) - det(&near),
        );
        if *v == Hadamard::Theorem && gap <= 0 {
            return Err(format!("no positive gap at D + 2⁻⁴⁰H, d = {d}"));
        }
        run.count(2);
    }
    // Equality at a non-isotropic diagonal Σ.
    let m = Mat::diag(&[Float::with_val(prec, 1), Float::with_val(prec, 2)], prec);
    run.count(1);
    let equal = det(&m) == 2;
    if *v == Hadamard::EqualityOnlyIsotropic && equal {
        return Err("Σ = diag(1, 2): det Σ = 2 = Π Σ_jj, equality without Σ ∝ I".into());
    }
    Ok(format!(
        "{} random PSD Σ (d ≤ 8), α = 5 for the shifted form; equality on diagonal Σ (diag(1, 2) included), a positive gap at D + 2⁻⁴⁰H (H off-diagonal), d = 2…6",
        property.cases
    ))
}

#[cfg(feature = "symbolic")]
mod symbolic {
    use sslproof::sym::algebra::{self as alg, AtomCore, SymMat};

    /// `det(D C D) = det(D)² det C` for symbolic diagonal `D` and symbolic `C` with unit diagonal,
    /// `d ≤ d_max` (full symbolic determinants).
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

    /// `d = 2`: `Σ₁₁Σ₂₂ − det Σ = Σ₁₂²` (or the reversed claim's `−Σ₁₂²`).
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
}

pub fn run(c: &mut ClaimRun) {
    const SCALING: &str = "det(DCD) = det(D)² det C, symbolic, d ≤ 4";
    c.prop(
        Role::AsWritten,
        "at fixed variances (diagonal), log det Σ and log det(I+αΣ) are largest exactly when the off-diagonals vanish",
        r"\det\Sigma\le\prod_j\Sigma_{jj},\quad \log\det(I+\alpha\Sigma)\le\sum_j\log(1+\alpha\Sigma_{jj}),\quad\text{equality}\iff\Sigma\text{ diagonal}",
        Hadamard::Theorem,
    )
    .symbolic(
        "d = 2: Σ11Σ22 − det Σ = Σ12²",
        Scope::UpToD { d_max: 2 },
        sym!(|&v| symbolic::hadamard_d2(v == Hadamard::Reversed)),
    )
    .symbolic(
        SCALING,
        Scope::UpToD { d_max: 4 },
        sym!(|_| symbolic::hadamard_scaling(4)),
    )
    .independent()
    .check("random PSD Σ, diagonal Σ and D + εH", hadamard_property)
    .argument(
        "for every d",
        vec![
            ArgSpec::cited(
                "with D = diag(Σ) (all Σ_jj > 0, else det Σ = 0 and the bound is trivial), C = D^{-1/2}ΣD^{-1/2} is PSD with unit diagonal, so tr C = d; det Σ = det C · Π_j Σ_jj",
                "multiplicativity of det",
                "Horn & Johnson, Matrix Analysis, 2nd ed., §0.3",
            ),
            ArgSpec::checked("det(DCD) = det(D)² det C with every entry symbolic, d ≤ 4", SCALING),
            ArgSpec::cited(
                "det C ≤ (tr C/d)^d = 1, equality iff C = I, i.e. Σ diagonal; applied to I + αΣ (diagonal 1 + αΣ_jj) the same gives the coding-rate version",
                "AM–GM with its equality case (B1)",
                "claim B1 of this catalogue; Hardy, Littlewood, Pólya, Inequalities, §2.5",
            ),
        ],
    )
    .mutant("reversed", "det Σ ≥ Π Σ_jj", Hadamard::Reversed)
    .mutant(
        "squared_product",
        "det Σ ≤ (Π Σ_jj)² (false when the variances are small)",
        Hadamard::Squared,
    )
    .mutant(
        "equality_only_isotropic",
        "equality only at Σ ∝ I (AM–GM's equality case, B1, for Hadamard's)",
        Hadamard::EqualityOnlyIsotropic,
    );

    c.step("Let $D=\\mathrm{diag}(\\Sigma_{11},\\dots,\\Sigma_{dd})$ (all $>0$; otherwise $\\det\\Sigma=0$ and the inequality is trivial) and $C=D^{-1/2}\\Sigma D^{-1/2}$, the correlation matrix: PSD with unit diagonal, so $\\mathrm{tr}\\,C=d$.", None);
    c.step("$\\det\\Sigma=\\det C\\prod_j\\Sigma_{jj}$ (checked symbolically for $d\\le4$ as $\\det(DCD)=\\det(D)^2\\det C$; for every $d$ by the multiplicativity of $\\det$, cited), and by AM–GM (B1) $\\det C\\le(\\mathrm{tr}\\,C/d)^d=1$, with equality iff $C=I$, i.e. $\\Sigma$ diagonal:", Some(r"\det\Sigma = \det C\,\prod_j\Sigma_{jj} \le \prod_j\Sigma_{jj}".into()));
    c.step("Applied to $I+\\alpha\\Sigma$ (diagonal $1+\\alpha\\Sigma_{jj}$) this is the coding-rate version. So at fixed variances the log-det is maximised exactly by decorrelated features: the notes' claim holds, and the equality case is *any* diagonal $\\Sigma$, not only $cI$.", None);
}
