//! # E1: every method optimizes L_align + λΩ(Σ)
//!
//! ## Main statements
//! * `losses_of_the_form_alignment_plus_covariance_regulariser`: VICReg, the per-view coding rate
//!   (EMP-SSL, MCR²-style TCR), one-batch CorInfoMax and SimSiam (with `Ω ≡ 0`) are of the form
//!   `Σ_i ℓ(z_i, z'_i) + λΩ(Σ₁, Σ₂)`; Barlow Twins (cross-correlation), InfoNCE (log-sum-exp over
//!   negatives) and SimDINO (Ω of the view-averaged features' Σ) are not.
//!
//! ## Implementation notes
//! Two tests, each zero for every loss of the form, computed at the working precision with the
//! reference losses of `sslproof-losses`: a four-batch combination whose batches have the same
//! rows in each branch (so every per-branch covariance agrees and the pair sums cancel), and a
//! rotated-copy difference whose batches have the same per-branch mean and second moment but
//! different rows. The first alone cannot see a regulariser that depends on the rows through more
//! than `Σ` (InfoNCE passes it).
//!
//! ## References
//! `../shared/reference-implementations.md` §1 (the losses, one batch, defaults).
//!
//! ## Source
//! `../shared/notes.md`, *A unified framework*, item 1 (Core objective).

use rug::Float;
use sslproof::prelude::*;
use sslproof_losses::{barlow_twins, coding_rate, corinfomax, nt_xent, simsiam, vicreg};

/// The claim.
pub const CLAIM: Claim = Claim {
    id: "losses_of_the_form_alignment_plus_covariance_regulariser",
    label: "E1",
    family: "objective",
    title: "Every method optimizes L_align + λΩ(Σ)",
    quote: "Core objective. Every method optimizes $\\mathcal L = \\mathcal L_{\\rm align}(z_1,z_2) + \\lambda\\,\\Omega(\\Sigma)$, where $\\Sigma$ is the batch covariance of the $d$-dimensional embeddings.",
    place: "A unified framework for covariance-regularized SSL, item 1 (Core objective)",
    statement: r"\forall\text{ method}:\ \mathcal L(Z_1,Z_2)=\textstyle\sum_i\ell(z_{1i},z_{2i})+\lambda\,\Omega(\Sigma_1,\Sigma_2)",
    nature: Nature::Mathematical,
    expected: Class::WrongAsWrittenCorrected,
};

/// The losses compared, as in `reference-implementations.md` §1 (one batch, defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
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

impl Method {
    pub const ALL: [Method; 7] = [
        Method::VicReg,
        Method::CodingRatePerView,
        Method::CorInfoMax,
        Method::SimSiam,
        Method::SimDino,
        Method::BarlowTwins,
        Method::InfoNce,
    ];
    fn name(self) -> &'static str {
        match self {
            Method::VicReg => "VICReg (official)",
            Method::CodingRatePerView => "coding rate per view (EMP-SSL / MCR²-style TCR)",
            Method::CorInfoMax => "CorInfoMax (one batch)",
            Method::SimSiam => "SimSiam (Ω ≡ 0)",
            Method::SimDino => "SimDINO (Σ of view-averaged features)",
            Method::BarlowTwins => "Barlow Twins",
            Method::InfoNce => "InfoNCE / NT-Xent",
        }
    }
}

fn rows_to_mat(rows: &[Vec<Float>]) -> Mat {
    let prec = rows[0][0].prec();
    Mat::from_fn(rows.len(), rows[0].len(), prec, |i, j| rows[i][j].clone())
}

/// The loss of a batch of pairs, from the reference losses (defaults of
/// `reference-implementations.md` §1; one batch, one GPU).
fn batch_loss(m: Method, z1: &[Vec<Float>], z2: &[Vec<Float>]) -> Result<Float, String> {
    let prec = z1[0][0].prec();
    let (b, d) = (z1.len(), z1[0].len());
    let (m1, m2) = (rows_to_mat(z1), rows_to_mat(z2));
    let e = |r: Result<sslproof_losses::batch::LossAndGrad, sslproof_losses::batch::BatchError>| {
        r.map(|lg| lg.value).map_err(|e| e.to_string())
    };
    let neg_cos = || e(simsiam::loss(&m1, &m2, &m1, &m2));
    let rate = |z: &Mat, eps: Float| {
        e(coding_rate::loss(
            z,
            &eps,
            coding_rate::Convention::Mcr2Rate,
        ))
    };
    Ok(match m {
        Method::VicReg => e(vicreg::loss(
            &m1,
            &m2,
            vicreg::Convention::Official,
            &vicreg::Params::defaults(prec),
        ))?,
        // EMP-SSL: eps = 0.2 (= ε²), the rate of each view, averaged.
        Method::CodingRatePerView => {
            neg_cos()?
                - (rate(&m1, Float::with_val(prec, 1) / 5u32)?
                    + rate(&m2, Float::with_val(prec, 1) / 5u32)?)
                    / 2u32
        }
        Method::CorInfoMax => e(corinfomax::loss(
            &m1,
            &m2,
            &Float::with_val(prec, 250),
            &(Float::with_val(prec, 1) / 1000u32),
            None,
        ))?,
        // SimSiam with an identity predictor: −½[cos(z₁, z₂) + cos(z₂, z₁)].
        Method::SimSiam => neg_cos()?,
        // SimDINO (expa_type = 1): the rate of the view-averaged features, eps = 0.5.
        Method::SimDino => {
            let avg = Mat::from_fn(b, d, prec, |i, j| {
                Float::with_val(prec, &z1[i][j] + &z2[i][j]) / 2u32
            });
            neg_cos()? - rate(&avg, Float::with_val(prec, 1) / 2u32)?
        }
        Method::BarlowTwins => e(barlow_twins::loss(
            &m1,
            &m2,
            &(Float::with_val(prec, 51) / 10_000u32),
            &Float::new(prec),
        ))?,
        Method::InfoNce => e(nt_xent::loss(&m1, &m2, &(Float::with_val(prec, 1) / 2u32)))?,
    })
}

type Pairs = Vec<(Vec<Float>, Vec<Float>)>;

/// The four-batch combination `L(P∪Q₁) − L(P′∪Q₁) − L(P∪Q₂) + L(P′∪Q₂)`, zero for every loss of
/// the form (all four batches have the same per-branch rows).
fn four_batch(m: Method, prec: u32) -> Result<Float, String> {
    let e = |x: i32, y: i32| vec![Float::with_val(prec, x), Float::with_val(prec, y)];
    let s: Vec<Vec<Float>> = vec![e(1, 0), e(-1, 0), e(0, 1), e(0, -1)];
    let reflect = |v: &Vec<Float>| vec![v[0].clone(), -v[1].clone()];
    let rotate = |v: &Vec<Float>| vec![-v[1].clone(), v[0].clone()];
    let pairs = |f: &dyn Fn(&Vec<Float>) -> Vec<Float>| -> Pairs {
        s.iter().map(|z| (z.clone(), f(z))).collect()
    };
    let p = pairs(&reflect);
    let p_prime = pairs(&rotate);
    let q1 = pairs(&|v: &Vec<Float>| v.clone());
    let q2 = pairs(&reflect);
    let loss = |a: &Pairs, b: &Pairs| {
        let all: Pairs = a.iter().chain(b).cloned().collect();
        let (z1, z2): (Vec<_>, Vec<_>) = all.into_iter().unzip();
        batch_loss(m, &z1, &z2)
    };
    Ok(loss(&p, &q1)? - loss(&p_prime, &q1)? - loss(&p, &q2)? + loss(&p_prime, &q2)?)
}

/// `L(P ∪ Q_S) − L(P ∪ Q_T)` with `Q_S = {(z, z) : z ∈ S}`, `Q_T = {(w, w) : w ∈ T}` and `T` the set
/// `S` turned by 45°: the same mean and second moment in each branch, the same value under any
/// rotation-invariant alignment, different rows. Zero for every loss whose regulariser depends on
/// the rows only through Σ.
fn rotated_copy(m: Method, prec: u32) -> Result<Float, String> {
    let e = |x: i32, y: i32| vec![Float::with_val(prec, x), Float::with_val(prec, y)];
    let h = Float::with_val(prec, 2).sqrt().recip();
    let t = |x: i32, y: i32| vec![Float::with_val(prec, &h * x), Float::with_val(prec, &h * y)];
    let s: Vec<Vec<Float>> = vec![e(1, 0), e(-1, 0), e(0, 1), e(0, -1)];
    let tt: Vec<Vec<Float>> = vec![t(1, 1), t(-1, -1), t(1, -1), t(-1, 1)];
    let p: Pairs = s
        .iter()
        .map(|z| (z.clone(), vec![z[0].clone(), -z[1].clone()]))
        .collect();
    let loss = |q: &[Vec<Float>]| {
        let all: Pairs = p
            .iter()
            .cloned()
            .chain(q.iter().map(|w| (w.clone(), w.clone())))
            .collect();
        let (z1, z2): (Vec<_>, Vec<_>) = all.into_iter().unzip();
        batch_loss(m, &z1, &z2)
    };
    Ok(loss(&s)? - loss(&tt)?)
}

/// Which tests decide the classification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tests {
    /// Both: of the form iff both combinations vanish.
    Both,
    /// The four-batch test alone.
    FourBatchOnly,
}

/// A claimed classification: which methods are of the form, and by which tests that is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Classification {
    pub of_form: [bool; 7],
    pub tests: Tests,
}

impl Classification {
    fn of(self, m: Method) -> bool {
        self.of_form[Method::ALL.iter().position(|&x| x == m).expect("listed")]
    }
    fn with(mut self, m: Method, v: bool) -> Self {
        self.of_form[Method::ALL.iter().position(|&x| x == m).expect("listed")] = v;
        self
    }
}

/// The corrected classification: VICReg, the per-view rate, one-batch CorInfoMax, SimSiam.
const CORRECTED: Classification = Classification {
    of_form: [true, true, true, true, false, false, false],
    tests: Tests::Both,
};

/// The claim as written: every method.
const AS_WRITTEN: Classification = Classification {
    of_form: [true; 7],
    tests: Tests::Both,
};

/// Classifies every method by the claimed tests and compares with the claimed classification.
fn form_check(run: &mut Run, c: &Classification) -> Result<String, String> {
    let prec = run.prec();
    let tol = Tol::linalg(prec, 16, 10);
    let hundred = Float::with_val(prec, 100);
    let mut lines = Vec::new();
    let mut wrong = Vec::new();
    for m in Method::ALL {
        let four = four_batch(m, prec)?;
        let rot = rotated_copy(m, prec)?;
        run.count(6);
        let (z4, zr) = (tol.accepts(&four, &hundred), tol.accepts(&rot, &hundred));
        let classified = match c.tests {
            Tests::Both => z4 && zr,
            Tests::FourBatchOnly => z4,
        };
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
            show(z4, &four),
            show(zr, &rot)
        ));
        if classified != c.of(m) {
            wrong.push(m.name());
        }
    }
    let detail = format!(
        "four-batch / rotated-copy combinations (both zero for every loss of the form): {}",
        lines.join("; ")
    );
    if wrong.is_empty() {
        Ok(detail)
    } else {
        Err(format!("misclassified {}: {detail}", wrong.join(", ")))
    }
}

pub fn run(c: &mut ClaimRun) {
    let prec = c.prec();
    const TESTS: &str = "the four-batch and rotated-copy tests";
    c.prop(
        Role::AsWritten,
        "every method (VICReg, Barlow Twins, coding rate, CorInfoMax, SimSiam, InfoNCE) is of the form Σ_i ℓ(z_i, z'_i) + λΩ(Σ)",
        r"\forall m:\ \mathcal L_m\in\{\textstyle\sum_i\ell+\lambda\Omega(\Sigma_1,\Sigma_2)\}",
        AS_WRITTEN,
    )
    .check(TESTS, form_check);

    c.prop(
        Role::Corrected,
        "exactly of the form: VICReg, the per-view coding rate (EMP-SSL, MCR²-style TCR), one-batch CorInfoMax, and SimSiam with Ω ≡ 0; not of it: Barlow Twins (cross-correlation), InfoNCE (log-sum-exp over negatives), SimDINO (Ω of the view-averaged features' Σ)",
        r"\{\text{VICReg},\ \text{TCR},\ \text{CorInfoMax}_{1\text{ batch}},\ \text{SimSiam}_{\Omega=0}\}\ \text{yes};\ \{\text{BT},\ \text{InfoNCE},\ \text{SimDINO}\}\ \text{no}",
        CORRECTED,
    )
    .check(TESTS, form_check)
    .mutant(
        "four_batch_test_suffices",
        "the four-batch test alone decides the form (a regulariser that is not a function of Σ always changes the combination)",
        Classification {
            tests: Tests::FourBatchOnly,
            ..CORRECTED
        },
    )
    .mutant(
        "simdino_per_view",
        "SimDINO's expansion term is the coding rate of each view's Σ (as EMP-SSL), so SimDINO is of the form",
        CORRECTED.with(Method::SimDino, true),
    )
    .mutant(
        "vicreg_variance_not_of_sigma",
        "VICReg is not of the form: its variance term is a hinge on the standard deviation, not a function of Σ",
        CORRECTED.with(Method::VicReg, false),
    );

    c.step("If $\\mathcal L=\\sum_i\\ell(z_i,z_i')+\\Omega(\\Sigma_1,\\Sigma_2)$, then for four batches $P\\cup Q_1$, $P'\\cup Q_1$, $P\\cup Q_2$, $P'\\cup Q_2$ whose branches contain the same rows, $L(P\\cup Q_1)-L(P'\\cup Q_1)-L(P\\cup Q_2)+L(P'\\cup Q_2)=0$: the pair sums cancel term by term and every covariance (centred or not, any divisor) is the same.", None);
    c.step("With $S=\\{\\pm e_1,\\pm e_2\\}$, a reflection $M$ and a quarter turn $R$ map $S$ onto itself, so $P=\\{(z,zM)\\}$, $P'=\\{(z,zR)\\}$, $Q_1=\\{(z,z)\\}$, $Q_2=\\{(z,zM)\\}$ qualify. A nonzero combination proves a loss is not of the form.", None);
    c.step("That test cannot see a regulariser that depends on the rows through more than $\\Sigma$ (InfoNCE's log-sum-exp depends on the whole row distribution, which the four batches balance). A second test adds identical pairs $(z,z)$ from $S$ or from $T=S$ turned by $45^\\circ$: same mean and second moment, hence the same $\\Sigma$, same value under any rotation-invariant alignment (MSE, cosine), different rows. With the first test alone InfoNCE would pass as of the form (a mutant).", None);
    c.step(format!("Computed at {prec} bits with the reference definitions (`reference-implementations.md` §1; one batch, defaults): VICReg, the per-view coding rate and one-batch CorInfoMax give 0; SimSiam gives 0 only because it has no $\\Omega$ at all (its non-collapse comes from the predictor and stop-gradient, D4's regime is alignment only); Barlow Twins, InfoNCE and SimDINO's view-averaged expansion term do not. With running statistics, CorInfoMax's $\\Omega$ also depends on past batches."), None);
}
