//! # E1: every method optimizes L_align + λΩ(Σ)
//!
//! ## Main statements
//! * `losses_of_the_form_alignment_plus_covariance_regulariser`: VICReg, the per-view coding rate
//!   (EMP-SSL, MCR²-style TCR) and one-batch CorInfoMax are of the form
//!   `Σ_i ℓ(z_i, z'_i) + λΩ(Σ₁, Σ₂)`; Barlow Twins (cross-correlation), InfoNCE (log-sum-exp over
//!   negatives) and SimDINO (Ω of the view-averaged features' Σ) are not; SimSiam's loss value is
//!   (`Ω ≡ 0`) but its stop-gradient update is not the gradient of any loss (its Jacobian is not
//!   symmetric), so it does not optimise one.
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
            Method::SimSiam => "SimSiam (−cos, Ω ≡ 0, predictor and stop-gradient)",
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

/// The training update on the embeddings `(z₁, z₂)` of a seeded `6 × 3` Gaussian batch pair, as
/// the reference code computes it: VICReg's is `−∇L`; SimSiam's (a fixed linear predictor
/// `p = Wz`) passes the gradient only through the predictor side, the target detached. Returns the largest
/// entry of `J − Jᵀ` relative to the largest of `J`, `J` the update's Jacobian by central
/// differences (step `2^(−prec/4)`, error `O(2^(−prec/2))`).
fn update_asymmetry(m: Method, run: &mut Run) -> Result<Float, String> {
    let prec = run.prec();
    let (b, d) = (6usize, 3usize);
    let mut s = run.sampler_bits(7, prec);
    let (z1, z2) = (s.gaussian(b, d), s.gaussian(b, d));
    // SimSiam's predictor: a fixed linear map W = I + 0.3·G (G seeded Gaussian). With W = I the
    // symmetrised stop-gradient update is exactly ½∇L (a gradient); the predictor breaks that.
    let w = Mat::identity(d, prec)
        .add(&s.gaussian(d, d).scale(&(Float::with_val(prec, 3) / 10u32)))
        .expect("square");
    let n = 2 * b * d;
    let unflat = |x: &[Float]| {
        (
            Mat::from_fn(b, d, prec, |i, j| x[i * d + j].clone()),
            Mat::from_fn(b, d, prec, |i, j| x[b * d + i * d + j].clone()),
        )
    };
    let field = |x: &[Float]| -> Result<Vec<Float>, String> {
        let (a, c) = unflat(x);
        let g = match m {
            Method::VicReg => {
                vicreg::loss(
                    &a,
                    &c,
                    vicreg::Convention::Official,
                    &vicreg::Params::defaults(prec),
                )
                .map_err(|e| e.to_string())?
                .grads
            }
            // simsiam::loss(p₁, p₂, z₁, z₂) with p = zWᵀ: the gradients reach z only through
            // the predictor (the target z detached), ∂/∂z = (∂/∂p)·W.
            Method::SimSiam => {
                let (p1, p2) = (
                    a.mul(&w.transpose()).map_err(|e| e.to_string())?,
                    c.mul(&w.transpose()).map_err(|e| e.to_string())?,
                );
                let g = simsiam::loss(&p1, &p2, &a, &c)
                    .map_err(|e| e.to_string())?
                    .grads;
                vec![
                    g[0].mul(&w).map_err(|e| e.to_string())?,
                    g[1].mul(&w).map_err(|e| e.to_string())?,
                ]
            }
            _ => return Err(format!("{}: no update field computed", m.name())),
        };
        Ok((0..n)
            .map(|k| {
                let (v, r) = (k / (b * d), k % (b * d));
                -g[v].at(r / d, r % d).clone()
            })
            .collect())
    };
    let x0: Vec<Float> = (0..n)
        .map(|k| {
            let (v, r) = (k / (b * d), k % (b * d));
            if v == 0 {
                z1.at(r / d, r % d).clone()
            } else {
                z2.at(r / d, r % d).clone()
            }
        })
        .collect();
    let h = Float::with_val(prec, 1) >> (prec / 4);
    let mut jac = vec![vec![Float::new(prec); n]; n];
    for k in 0..n {
        let (mut up, mut down) = (x0.clone(), x0.clone());
        up[k] += &h;
        down[k] -= &h;
        let (fu, fd) = (field(&up)?, field(&down)?);
        for i in 0..n {
            jac[i][k] = Float::with_val(prec, &fu[i] - &fd[i]) / Float::with_val(prec, &h * 2u32);
        }
    }
    run.count(2 * n);
    let (mut asym, mut big) = (Float::new(prec), Float::new(prec));
    for i in 0..n {
        for k in 0..n {
            let a = Float::with_val(prec, &jac[i][k] - &jac[k][i]).abs();
            if a > asym {
                asym = a;
            }
            let v = Float::with_val(prec, jac[i][k].abs_ref());
            if v > big {
                big = v;
            }
        }
    }
    Ok(asym / big)
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
    of_form: [true, true, true, false, false, false, false],
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
        let by_value = match c.tests {
            Tests::Both => z4 && zr,
            Tests::FourBatchOnly => z4,
        };
        // Of the methods here only SimSiam trains by something other than −∇ of its loss (the
        // stop-gradient); VICReg is computed too, as the control that the test can say
        // "symmetric".
        let asym = match m {
            Method::VicReg | Method::SimSiam => Some(update_asymmetry(m, run)?),
            _ => None,
        };
        let floor = Float::with_val(prec, 1) >> (prec / 4);
        let gradient_field = asym.as_ref().is_none_or(|a| *a <= floor);
        // "Optimises L" means the training update is −∇L: a value test cannot see a
        // stop-gradient, so the update's symmetry is part of every classification.
        let classified = by_value && gradient_field;
        let show = |ok: bool, v: &Float| {
            if ok {
                "0".to_string()
            } else {
                format!("{v:.4e}")
            }
        };
        lines.push(format!(
            "{}: {} / {}{}",
            m.name(),
            show(z4, &four),
            show(zr, &rot),
            match &asym {
                Some(a) if *a <= floor =>
                    " / update Jacobian symmetric (< 2^-(prec/4))".to_string(),
                Some(a) => format!(" / update Jacobian asymmetric: max|J − Jᵀ|/max|J| = {a:.4}"),
                None => String::new(),
            }
        ));
        if classified != c.of(m) {
            wrong.push(m.name());
        }
    }
    let detail = format!(
        "four-batch / rotated-copy combinations (both zero for every loss of the form){}: {}",
        "; the update a gradient field",
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
        "exactly of the form: VICReg, the per-view coding rate (EMP-SSL, MCR²-style TCR), one-batch CorInfoMax; not of it: Barlow Twins (cross-correlation), InfoNCE (log-sum-exp over negatives), SimDINO (Ω of the view-averaged features' Σ), and SimSiam, whose stop-gradient update is not the gradient of any loss (its Jacobian is not symmetric)",
        r"\{\text{VICReg},\ \text{TCR},\ \text{CorInfoMax}_{1\text{ batch}}\}\ \text{yes};\ \{\text{BT},\ \text{InfoNCE},\ \text{SimDINO},\ \text{SimSiam}\}\ \text{no}",
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
        "loss_value_decides",
        "the loss value decides: SimSiam, whose loss is −cos with Ω ≡ 0, optimises L_align + λΩ (a test on values cannot see the stop-gradient)",
        CORRECTED.with(Method::SimSiam, true),
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
    c.step(format!("Computed at {prec} bits with the reference definitions (`reference-implementations.md` §1; one batch, defaults): VICReg, the per-view coding rate and one-batch CorInfoMax give 0; SimSiam's loss value gives 0 only because it has no $\\Omega$ at all, and a test on values cannot see the stop-gradient: SimSiam's update is not $-\\nabla$ of any loss. The Jacobian of a gradient field is a Hessian, hence symmetric; SimSiam's update Jacobian (a fixed linear predictor $W=I+0.3G$, target detached; central differences at the working precision) is not, while VICReg's, the control, is. (With an identity predictor the symmetrised stop-gradient update is exactly $\\tfrac12\\nabla\\mathcal L$: the asymmetry comes with the predictor, the setting of SimSiam.) So SimSiam does not optimise any $\\mathcal L_{{\\rm align}}+\\lambda\\Omega$; and the form with $\\Omega\\equiv0$, plain alignment, collapses (D4). Barlow Twins, InfoNCE and SimDINO's view-averaged expansion term do not. With running statistics, CorInfoMax's $\\Omega$ also depends on past batches."), None);
}
