//! Reference losses (issue 5, first slice): every variant's analytic gradient against 256-bit
//! Richardson finite differences, relations between variants, and bad input.

use rug::Float;

use sslproof::check::fd::{DEFAULT_STEP_LOG2, fd_tolerance, gradient, worst_entry};
use sslproof::hp::Mat;
use sslproof::hp::sample::Sampler;
use sslproof_losses::batch::BatchError;
use sslproof_losses::{coding_rate, vicreg};

const PREC: u32 = 256;

/// A batch with a non-zero mean and unequal column scales (the last column's std is above 1, so
/// its variance hinge is inactive).
fn batch(seed: u64, b: usize, d: usize) -> Mat {
    let g = Sampler::new(seed, PREC).gaussian(b, d);
    Mat::from_fn(b, d, PREC, |i, j| {
        let scale = if j + 1 == d {
            Float::with_val(PREC, 3)
        } else {
            Float::with_val(PREC, j as u64 + 1) / 4u32
        };
        Float::with_val(PREC, g.at(i, j) * &scale) + Float::with_val(PREC, j as u64 + 1) / 2u32
    })
}

/// Finite-difference gradient of `f` over the entries of `z`.
fn fd_grad(f: &dyn Fn(&Mat) -> Float, z: &Mat) -> Mat {
    let (b, d) = (z.rows(), z.cols());
    let flat: Vec<Float> = (0..b * d).map(|k| z.at(k / d, k % d).clone()).collect();
    let g = gradient(
        &|x: &[Float]| f(&Mat::from_fn(b, d, PREC, |i, j| x[i * d + j].clone())),
        &flat,
        DEFAULT_STEP_LOG2,
    );
    Mat::from_fn(b, d, PREC, |i, j| g[i * d + j].clone())
}

/// Asserts `analytic ≈ fd`, naming the worst entry on failure.
fn assert_grad(name: &str, analytic: &Mat, fd: &Mat) {
    let (i, j, err) = worst_entry(fd, analytic);
    let scale = Float::with_val(PREC, fd.max_abs() + 1u32);
    assert!(
        fd_tolerance(PREC).accepts(&err, &scale),
        "{name}: entry ({i}, {j}) finite difference {:.10e}, analytic {:.10e}",
        fd.at(i, j),
        analytic.at(i, j)
    );
}

#[test]
fn vicreg_gradients_match_finite_differences_for_every_variant() {
    let (z1, z2) = (batch(1, 6, 3), batch(2, 6, 3));
    let p = vicreg::Params::defaults(PREC);
    for v in [
        vicreg::Convention::Official,
        vicreg::Convention::Paper,
        vicreg::Convention::SoloLearn,
    ] {
        let lg = vicreg::loss(&z1, &z2, v, &p).unwrap();
        let f1 = |m: &Mat| vicreg::loss(m, &z2, v, &p).unwrap().value;
        let f2 = |m: &Mat| vicreg::loss(&z1, m, v, &p).unwrap().value;
        assert_grad(&format!("{v:?} ∂/∂Z₁"), &lg.grads[0], &fd_grad(&f1, &z1));
        assert_grad(&format!("{v:?} ∂/∂Z₂"), &lg.grads[1], &fd_grad(&f2, &z2));
    }
}

#[test]
fn vicreg_variants_differ_as_documented() {
    let (z1, z2) = (batch(3, 8, 4), batch(4, 8, 4));
    let p = vicreg::Params::defaults(PREC);
    let off = vicreg::loss(&z1, &z2, vicreg::Convention::Official, &p)
        .unwrap()
        .value;
    let solo = vicreg::loss(&z1, &z2, vicreg::Convention::SoloLearn, &p)
        .unwrap()
        .value;
    let paper = vicreg::loss(&z1, &z2, vicreg::Convention::Paper, &p)
        .unwrap()
        .value;
    let one = Float::with_val(PREC, 1);
    let v = vicreg::variance_term(&z1, &one, &p.eps).unwrap()
        + vicreg::variance_term(&z2, &one, &p.eps).unwrap();
    // solo-learn = official + (μ/2)(v₁ + v₂): the variance term is not halved.
    let expect = Float::with_val(PREC, &off + Float::with_val(PREC, &v * 25u32) / 2u32);
    assert!(
        sslproof::tolerance::Tol::scalar(PREC)
            .accepts(&Float::with_val(PREC, &solo - &expect), &solo)
    );
    // The paper's invariance is d = 4 times F.mse_loss's.
    let mse = z1.sub(&z2).unwrap().frobenius_sq() / 32u32; // B·d = 32
    let expect = Float::with_val(PREC, &solo + Float::with_val(PREC, &mse * 25u32) * 3u32);
    assert!(
        sslproof::tolerance::Tol::scalar(PREC)
            .accepts(&Float::with_val(PREC, &paper - &expect), &paper)
    );
}

#[test]
fn coding_rate_gradients_match_finite_differences_in_both_dimensions() {
    let eps = Float::with_val(PREC, 1) / 5u32;
    for (b, d) in [(7usize, 3usize), (3, 7)] {
        let z = batch(5, b, d);
        for v in [
            coding_rate::Convention::Mcr2Rate,
            coding_rate::Convention::SimDinoExpansion,
            coding_rate::Convention::EmpSsl,
        ] {
            let lg = coding_rate::loss(&z, &eps, v).unwrap();
            let f = |m: &Mat| coding_rate::loss(m, &eps, v).unwrap().value;
            assert_grad(
                &format!("{v:?}, B = {b}, d = {d}"),
                &lg.grads[0],
                &fd_grad(&f, &z),
            );
        }
    }
}

/// The feature-dimension and batch-dimension computations agree (Sylvester).
#[test]
fn coding_rate_feature_and_batch_dimension_agree() {
    let eps = Float::with_val(PREC, 1) / 2u32;
    let z = batch(6, 5, 9);
    let (r, _) = coding_rate::rate_and_grad(&z, &eps).unwrap();
    let c = Float::with_val(PREC, 9) / Float::with_val(PREC, &eps * 5u32);
    let feature = z
        .transpose()
        .mul(&z)
        .unwrap()
        .identity_plus(&c)
        .unwrap()
        .logdet_spd()
        .unwrap()
        / 2u32;
    assert!(
        sslproof::tolerance::Tol::linalg(PREC, 9, 10)
            .accepts(&Float::with_val(PREC, &r - &feature), &r)
    );
}

/// The checker has power: a gradient with the centring dropped is caught.
#[test]
#[should_panic(expected = "entry")]
fn a_wrong_gradient_is_caught() {
    let z1 = batch(7, 6, 3);
    let one = Float::with_val(PREC, 1);
    let eps = vicreg::default_eps(PREC);
    let f = |m: &Mat| vicreg::variance_term(m, &one, &eps).unwrap();
    let good = vicreg::variance_term_grad(&z1, &one, &eps).unwrap();
    // Planted mistake: the uncentred Z_ij in place of Z_ij − Z̄_j (same hinge pattern):
    // wrong_ij = good_ij · Z_ij / (Z_ij − Z̄_j).
    let means: Vec<Float> = (0..3)
        .map(|j| (0..6).fold(Float::new(PREC), |a, i| a + z1.at(i, j)) / 6u32)
        .collect();
    let wrong = Mat::from_fn(6, 3, PREC, |i, j| {
        let zc = Float::with_val(PREC, z1.at(i, j) - &means[j]);
        Float::with_val(PREC, good.at(i, j) * z1.at(i, j)) / zc
    });
    assert_grad("wrong", &wrong, &fd_grad(&f, &z1));
}

#[test]
fn bad_input_is_named() {
    let p = vicreg::Params::defaults(PREC);
    let a = batch(8, 4, 3);
    let b = batch(9, 5, 3);
    assert!(matches!(
        vicreg::loss(&a, &b, vicreg::Convention::Official, &p),
        Err(BatchError::ViewShapes { .. })
    ));
    let one_row = batch(10, 1, 3);
    assert!(matches!(
        vicreg::loss(&one_row, &one_row, vicreg::Convention::Official, &p),
        Err(BatchError::TooFewSamples { b: 1, .. })
    ));
    let mut nan = batch(11, 4, 3);
    *nan.at_mut(2, 1) = Float::with_val(PREC, f64::NAN);
    let err = coding_rate::loss(
        &nan,
        &Float::with_val(PREC, 1),
        coding_rate::Convention::Mcr2Rate,
    )
    .unwrap_err();
    assert!(err.to_string().contains("(2, 1)"), "{err}");
    assert!(matches!(
        coding_rate::loss(
            &Mat::zeros(0, 3, PREC),
            &Float::with_val(PREC, 1),
            coding_rate::Convention::EmpSsl
        ),
        Err(BatchError::Empty { .. })
    ));
}

mod contrastive {
    use super::*;
    use sslproof_losses::{align, nt_xent, simsiam, uniformity};

    #[test]
    fn nt_xent_gradients_match_finite_differences() {
        let (z1, z2) = (batch(20, 5, 4), batch(21, 5, 4));
        let tau = Float::with_val(PREC, 1) / 2u32;
        let lg = nt_xent::loss(&z1, &z2, &tau).unwrap();
        assert_grad(
            "NT-Xent ∂/∂Z₁",
            &lg.grads[0],
            &fd_grad(&|m: &Mat| nt_xent::loss(m, &z2, &tau).unwrap().value, &z1),
        );
        assert_grad(
            "NT-Xent ∂/∂Z₂",
            &lg.grads[1],
            &fd_grad(&|m: &Mat| nt_xent::loss(&z1, m, &tau).unwrap().value, &z2),
        );
    }

    /// solo-learn's multi-view form (three views, positives summed inside the log): every view's
    /// gradient against 256-bit finite differences; and an independent value for B = 1, where each
    /// row's denominator is its two positives: L = mean_k log(1) = 0 exactly.
    #[test]
    fn nt_xent_three_views_gradients_match_finite_differences() {
        let zs = [batch(24, 4, 3), batch(25, 4, 3), batch(26, 4, 3)];
        let tau = Float::with_val(PREC, 1) / 5u32;
        let views: Vec<&Mat> = zs.iter().collect();
        let lg = nt_xent::loss_views(&views, &tau).unwrap();
        for v in 0..3 {
            let f = |m: &Mat| {
                let mut vs: Vec<&Mat> = zs.iter().collect();
                vs[v] = m;
                nt_xent::loss_views(&vs, &tau).unwrap().value
            };
            assert_grad(
                &format!("NT-Xent, 3 views, ∂/∂Z{}", v + 1),
                &lg.grads[v],
                &fd_grad(&f, &zs[v]),
            );
        }
        let ones = [batch(27, 1, 3), batch(28, 1, 3), batch(29, 1, 3)];
        let vs: Vec<&Mat> = ones.iter().collect();
        assert_eq!(nt_xent::loss_views(&vs, &tau).unwrap().value, 0);
        // Two views: the same as lightly's form.
        let two = nt_xent::loss_views(&[&zs[0], &zs[1]], &tau).unwrap();
        let lightly = nt_xent::loss(&zs[0], &zs[1], &tau).unwrap();
        assert_eq!(two.value, lightly.value);
    }

    /// Independent value: with B = 2 every anchor has one positive and two negatives; the loss is
    /// the mean of log(1 + e^{(n₁−s)/τ} + e^{(n₂−s)/τ}) written out by hand.
    #[test]
    fn nt_xent_value_for_two_pairs() {
        let (z1, z2) = (batch(22, 2, 3), batch(23, 2, 3));
        let tau = Float::with_val(PREC, 1) / 2u32;
        let rows: Vec<Vec<Float>> = (0..2)
            .map(|i| (0..3).map(|j| z1.at(i, j).clone()).collect())
            .chain((0..2).map(|i| (0..3).map(|j| z2.at(i, j).clone()).collect()))
            .collect();
        let cos = |a: &[Float], b: &[Float]| {
            let d = |x: &[Float], y: &[Float]| {
                x.iter().zip(y).fold(Float::new(PREC), |s, (p, q)| {
                    s + Float::with_val(PREC, p * q)
                })
            };
            d(a, b) / (d(a, a).sqrt() * d(b, b).sqrt())
        };
        let pos = [2usize, 3, 0, 1];
        let mut total = Float::new(PREC);
        for k in 0..4 {
            let s = cos(&rows[k], &rows[pos[k]]);
            let mut inner = Float::with_val(PREC, 1);
            for j in (0..4).filter(|&j| j != k && j != pos[k]) {
                inner += Float::with_val(PREC, (cos(&rows[k], &rows[j]) - &s) / &tau).exp();
            }
            total += inner.ln();
        }
        let expect = total / 4u32;
        let got = nt_xent::loss(&z1, &z2, &tau).unwrap().value;
        assert!(
            sslproof::tolerance::Tol::scalar(PREC)
                .accepts(&Float::with_val(PREC, &got - &expect), &expect),
            "{got} vs {expect}"
        );
    }

    /// SimSiam: the predictor gradients match finite differences; the embeddings' gradients are 0
    /// by stop-gradient although the loss does depend on them.
    #[test]
    fn simsiam_gradients_and_stop_gradient() {
        let (p1, p2, z1, z2) = (
            batch(24, 4, 3),
            batch(25, 4, 3),
            batch(26, 4, 3),
            batch(27, 4, 3),
        );
        let lg = simsiam::loss(&p1, &p2, &z1, &z2).unwrap();
        assert_grad(
            "SimSiam ∂/∂p₁",
            &lg.grads[0],
            &fd_grad(
                &|m: &Mat| simsiam::loss(m, &p2, &z1, &z2).unwrap().value,
                &p1,
            ),
        );
        assert_grad(
            "SimSiam ∂/∂p₂",
            &lg.grads[1],
            &fd_grad(
                &|m: &Mat| simsiam::loss(&p1, m, &z1, &z2).unwrap().value,
                &p2,
            ),
        );
        assert!(lg.grads[2].max_abs().is_zero() && lg.grads[3].max_abs().is_zero());
        let fd_z2 = fd_grad(
            &|m: &Mat| simsiam::loss(&p1, &p2, &z1, m).unwrap().value,
            &z2,
        );
        assert!(
            fd_z2.max_abs() > 1e-3,
            "the loss depends on z₂: stop-gradient, not independence"
        );
    }

    #[test]
    fn wang_isola_gradients_match_finite_differences() {
        let (x, y) = (batch(28, 5, 3), batch(29, 5, 3));
        let lg = align::loss(&x, &y, 2).unwrap();
        assert_grad(
            "align α = 2",
            &lg.grads[0],
            &fd_grad(&|m: &Mat| align::loss(m, &y, 2).unwrap().value, &x),
        );
        let lg3 = align::loss(&x, &y, 3).unwrap();
        assert_grad(
            "align α = 3 ∂/∂y",
            &lg3.grads[1],
            &fd_grad(&|m: &Mat| align::loss(&x, m, 3).unwrap().value, &y),
        );
        let t = Float::with_val(PREC, 2);
        let lu = uniformity::loss(&x, &t).unwrap();
        assert_grad(
            "uniformity t = 2",
            &lu.grads[0],
            &fd_grad(&|m: &Mat| uniformity::loss(m, &t).unwrap().value, &x),
        );
    }

    #[test]
    fn contrastive_bad_input() {
        let tau = Float::with_val(PREC, 1);
        assert!(matches!(
            nt_xent::loss(&batch(1, 1, 3), &batch(2, 1, 3), &tau),
            Err(BatchError::TooFewSamples { b: 1, .. })
        ));
        assert!(matches!(
            nt_xent::loss(&batch(1, 3, 3), &batch(2, 3, 2), &tau),
            Err(BatchError::ViewShapes { .. })
        ));
        assert!(matches!(
            uniformity::loss(&batch(1, 1, 3), &tau),
            Err(BatchError::TooFewSamples { b: 1, .. })
        ));
    }
}

mod cross_correlation {
    use super::*;
    use sslproof_losses::barlow_twins;
    use sslproof_losses::batch::{Centring, Divisor, covariance};
    use sslproof_losses::corinfomax::{self, RunningState};

    fn lambda() -> Float {
        Float::with_val(PREC, 51) / 10_000u32
    }

    #[test]
    fn barlow_twins_gradients_match_finite_differences() {
        let (z1, z2) = (batch(30, 6, 3), batch(31, 6, 3));
        let eps = Float::with_val(PREC, 1) / 100_000u32;
        let lg = barlow_twins::loss(&z1, &z2, &lambda(), &eps).unwrap();
        assert_grad(
            "BT ∂/∂Z₁",
            &lg.grads[0],
            &fd_grad(
                &|m: &Mat| barlow_twins::loss(m, &z2, &lambda(), &eps).unwrap().value,
                &z1,
            ),
        );
        assert_grad(
            "BT ∂/∂Z₂",
            &lg.grads[1],
            &fd_grad(
                &|m: &Mat| barlow_twins::loss(&z1, m, &lambda(), &eps).unwrap().value,
                &z2,
            ),
        );
    }

    /// Independent route for the value (BN eps = 0): the Pearson cross-correlation from the joint
    /// covariance of [Z₁ Z₂].
    #[test]
    fn barlow_twins_value_from_the_joint_covariance() {
        let (z1, z2) = (batch(32, 7, 3), batch(33, 7, 3));
        let joint = Mat::from_fn(7, 6, PREC, |i, j| {
            if j < 3 {
                z1.at(i, j).clone()
            } else {
                z2.at(i, j - 3).clone()
            }
        });
        let s = covariance(&joint, Centring::Centred, Divisor::B).unwrap();
        let mut expect = Float::new(PREC);
        for i in 0..3 {
            for j in 0..3 {
                let c = Float::with_val(PREC, s.at(i, 3 + j))
                    / (Float::with_val(PREC, s.at(i, i)).sqrt()
                        * Float::with_val(PREC, s.at(3 + j, 3 + j)).sqrt());
                expect += if i == j {
                    Float::with_val(PREC, Float::with_val(PREC, 1 - &c).square_ref())
                } else {
                    Float::with_val(PREC, c.square_ref()) * lambda()
                };
            }
        }
        let got = barlow_twins::loss(&z1, &z2, &lambda(), &Float::new(PREC))
            .unwrap()
            .value;
        assert!(
            sslproof::tolerance::Tol::linalg(PREC, 7, 0)
                .accepts(&Float::with_val(PREC, &got - &expect), &expect),
            "{got} vs {expect}"
        );
    }

    fn state(seed: u64) -> RunningState {
        let prec = PREC;
        let cov = sslproof::check::Recipe {
            d: 3,
            seed,
            spectrum: sslproof::check::Spectrum::Spread,
            top: 0,
        }
        .realize(prec)
        .0;
        RunningState {
            mean: (0..3)
                .map(|j| Float::with_val(prec, j as u64) / 3u32)
                .collect(),
            cov,
            la_mu: Float::with_val(prec, 1) / 10u32,
            la_r: Float::with_val(prec, 1) / 10u32,
        }
    }

    #[test]
    fn corinfomax_gradients_match_finite_differences_with_and_without_running_statistics() {
        let (z1, z2) = (batch(34, 6, 3), batch(35, 6, 3));
        let alpha = Float::with_val(PREC, 250);
        let eps = Float::with_val(PREC, 1) / 1_000_000u32;
        let (s1, s2) = (state(1), state(2));
        for st in [None, Some((&s1, &s2))] {
            let lg = corinfomax::loss(&z1, &z2, &alpha, &eps, st).unwrap();
            let f1 = |m: &Mat| corinfomax::loss(m, &z2, &alpha, &eps, st).unwrap().value;
            let f2 = |m: &Mat| corinfomax::loss(&z1, m, &alpha, &eps, st).unwrap().value;
            assert_grad(
                &format!("CorInfoMax ∂/∂Z₁, running = {}", st.is_some()),
                &lg.grads[0],
                &fd_grad(&f1, &z1),
            );
            assert_grad(
                &format!("CorInfoMax ∂/∂Z₂, running = {}", st.is_some()),
                &lg.grads[1],
                &fd_grad(&f2, &z2),
            );
        }
    }

    /// The one-batch form is the running form with zero weight on the old statistics.
    #[test]
    fn corinfomax_one_batch_is_the_running_form_without_memory() {
        let (z1, z2) = (batch(36, 6, 3), batch(37, 6, 3));
        let alpha = Float::with_val(PREC, 500);
        let eps = Float::with_val(PREC, 1) / 1_000_000u32;
        let (mut s1, mut s2) = (state(3), state(4));
        for s in [&mut s1, &mut s2] {
            s.la_mu = Float::new(PREC);
            s.la_r = Float::new(PREC);
        }
        let a = corinfomax::loss(&z1, &z2, &alpha, &eps, None)
            .unwrap()
            .value;
        let b = corinfomax::loss(&z1, &z2, &alpha, &eps, Some((&s1, &s2)))
            .unwrap()
            .value;
        assert!(
            sslproof::tolerance::Tol::linalg(PREC, 6, 10)
                .accepts(&Float::with_val(PREC, &a - &b), &a)
        );
    }
}

#[test]
fn covariance_rejects_bad_batches() {
    use sslproof::hp::LinalgError;
    use sslproof_losses::batch::*;
    let p = 64;
    assert!(matches!(
        covariance(&Mat::zeros(0, 3, p), Centring::Centred, Divisor::B),
        Err(BatchError::Empty { .. })
    ));
    assert!(matches!(
        covariance(&Mat::zeros(1, 3, p), Centring::Centred, Divisor::BMinusOne),
        Err(BatchError::TooFewSamples { b: 1, .. })
    ));
    let mut z = Mat::zeros(3, 2, p);
    *z.at_mut(1, 1) = Float::with_val(p, f64::INFINITY);
    assert!(matches!(
        covariance(&z, Centring::Centred, Divisor::B),
        Err(BatchError::Linalg(LinalgError::NonFinite {
            row: 1,
            col: 1
        }))
    ));
}
