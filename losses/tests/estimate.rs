//! The float32 tolerance estimated at the input (`sslproof_losses::estimate`): the orders it runs
//! are the same loss (every loss is equivariant under them), the official codes' algorithm it
//! also runs is a correct float32 implementation, the estimate stays between its floor and the
//! bound and is used only where it applies, and it rejects what the bound lets pass.

use nalgebra::DMatrix;
use sslproof_losses::checker::{self, Conclusion, Options, UserNumbers};
use sslproof_losses::estimate::{self, FLOOR, Order, Source, TolMode};
use sslproof_losses::golden::{self, Case};
use sslproof_losses::loss::OfficialAlgorithm;
use sslproof_losses::registry::{self, LossSpec};
use sslproof_losses::rounding::{self, Precision};

fn all_specs() -> Vec<LossSpec> {
    registry::LOSSES
        .iter()
        .flat_map(|&l| {
            l.variants()
                .iter()
                .map(move |v| LossSpec::new(l, Some(v.name), &[]).unwrap())
        })
        .collect()
}

fn inputs(
    spec: &LossSpec,
    b: usize,
    d: usize,
    seed: u64,
    views: Option<usize>,
) -> Vec<DMatrix<f64>> {
    golden::inputs_of(spec, b, d, seed, views)
}

fn f32_user(spec: &LossSpec, xs: &[DMatrix<f64>]) -> UserNumbers {
    let xs32: Vec<DMatrix<f32>> = xs.iter().map(|m| m.map(|x| x as f32)).collect();
    let o = spec.evaluate(None, &xs32).unwrap();
    let ng = spec.grad_count(xs.len());
    UserNumbers {
        value: f64::from(o.value),
        grads: Some(o.grads.iter().take(ng).map(|g| g.map(f64::from)).collect()),
    }
}

fn opts(precision: Precision, tolerance: TolMode) -> Options {
    Options {
        precision,
        tolerance,
        ..Options::default()
    }
}

/// Every loss and variant, permuted by a random order (samples in every view alike, features in
/// every input, CorInfoMax's state on both sides) and permuted back, is the same loss in f64 to
/// rounding: each run of the estimate is a correct evaluation, not another loss.
#[test]
fn every_loss_is_equivariant_under_the_orders_the_estimate_runs() {
    for spec in all_specs() {
        let views = spec.loss.variable_views(spec.variant).then_some(3);
        for (b, d) in [(16usize, 5usize), (6, 14)] {
            let xs = inputs(&spec, b, d, 7, views);
            let order = Order::random(b, d, 11);
            assert_ne!(order.samples, Order::identity(b, d).samples);
            assert_ne!(order.features, Order::identity(b, d).features);
            let plain = spec.evaluate(None, &xs).unwrap();
            let moved =
                estimate::evaluate_in_order::<f64>(&spec, &xs, &order, |x| spec.evaluate(None, x))
                    .unwrap();
            let what = format!("{} {} {b}x{d}", spec.loss, spec.variant.name);
            // Two correct f64 evaluations differ by at most twice the f64 bound (which follows
            // the conditioning: CorInfoMax with d > B has κ ≈ 10⁷); a permutation that changed
            // the loss would move it by O(1) relative.
            let scale = rounding::scale(&spec, &xs, &plain);
            let tol = rounding::tolerance(&scale, &plain, Precision::F64);
            assert!(
                (plain.value - moved.value).abs() <= 2.0 * tol.value,
                "{what}: value {} vs {}",
                plain.value,
                moved.value
            );
            for (t, (g, h)) in plain.grads.iter().zip(&moved.grads).enumerate() {
                let e = (g - h).amax();
                assert!(
                    e <= 2.0 * tol.grad_max(t),
                    "{what}: gradient {t} off by {e:e}"
                );
                assert!(
                    tol.grad_max(t) <= 1e-3 * g.amax() || g.amax() == 0.0,
                    "{what}: vacuous"
                );
            }
        }
    }
}

/// The official codes' algorithm the estimate runs (the coding rate's d × d feature form when
/// d > B, LU as torch.logdet but for SimDINO) is a correct float32 implementation: within the
/// a-priori float32 bound of the MPFR reference, every variant, four shapes; and it is another
/// algorithm (its float32 numbers differ from ours).
#[test]
fn the_official_feature_form_is_a_correct_float32_coding_rate() {
    let loss = registry::find("coding-rate").unwrap();
    for v in loss.variants() {
        let spec = LossSpec::new(loss, Some(v.name), &[]).unwrap();
        for (b, d) in [(8usize, 24usize), (32, 96), (16, 40), (64, 32)] {
            if v.name == "simdino" && d <= b {
                continue; // the same algorithm as ours there (Cholesky, d × d)
            }
            assert!(matches!(
                loss.official_algorithm(&spec, b, d),
                OfficialAlgorithm::Other(_)
            ));
            let xs = inputs(&spec, b, d, 3, None);
            let r = checker::reference(&spec, &xs, &opts(Precision::F32, TolMode::Bound)).unwrap();
            let tol = rounding::tolerance(&r.scale, &r.out64, Precision::F32);
            let xs32: Vec<DMatrix<f32>> = xs.iter().map(|m| m.map(|x| x as f32)).collect();
            let theirs = loss.evaluate_f32_official(&spec, &xs32).unwrap();
            let ours = spec.evaluate(None, &xs32).unwrap();
            assert_ne!(theirs.grads[0], ours.grads[0], "{} {b}x{d}", v.name);
            let user = UserNumbers {
                value: f64::from(theirs.value),
                grads: Some(vec![theirs.grads[0].map(f64::from)]),
            };
            let (vr, gr) = checker::error_over_tolerance(&tol, &r, &user);
            assert!(
                vr <= 1.0 && gr <= 1.0,
                "{} {b}x{d}: ratios {vr} {gr}",
                v.name
            );
        }
    }
    let spec = LossSpec::new(loss, None, &[]).unwrap();
    assert!(
        matches!(loss.official_algorithm(&spec, 64, 32), OfficialAlgorithm::Other(a) if a.contains("LU"))
    );
    // Twice the default factor where d > B (torch measured at up to 6.4× our runs there).
    assert_eq!(loss.estimate_factor(&spec, 8, 24), 2.0 * estimate::FACTOR);
    assert_eq!(loss.estimate_factor(&spec, 64, 32), estimate::FACTOR);
    let simdino = LossSpec::new(loss, Some("simdino"), &[]).unwrap();
    assert_eq!(
        loss.official_algorithm(&simdino, 64, 32),
        OfficialAlgorithm::Same
    );
    assert!(matches!(
        loss.official_algorithm(&spec, 4, 4096),
        OfficialAlgorithm::NotRun(_)
    ));
}

/// CorInfoMax's official algorithm (its log-determinants by LU, as torch.logdet) is a correct
/// float32 implementation within the bound, and another algorithm than ours (Cholesky).
#[test]
fn corinfomax_by_lu_is_a_correct_float32_implementation() {
    let loss = registry::find("corinfomax").unwrap();
    for v in loss.variants() {
        let spec = LossSpec::new(loss, Some(v.name), &[]).unwrap();
        for (b, d) in [(16usize, 8usize), (64, 32), (128, 16)] {
            assert!(matches!(
                loss.official_algorithm(&spec, b, d),
                OfficialAlgorithm::Other(a) if a.contains("LU")
            ));
            let xs = inputs(&spec, b, d, 4, None);
            let r = checker::reference(&spec, &xs, &opts(Precision::F32, TolMode::Bound)).unwrap();
            let tol = rounding::tolerance(&r.scale, &r.out64, Precision::F32);
            assert!(tol.untrustworthy.is_none(), "{} {b}x{d}", v.name);
            let xs32: Vec<DMatrix<f32>> = xs.iter().map(|m| m.map(|x| x as f32)).collect();
            let theirs = loss.evaluate_f32_official(&spec, &xs32).unwrap();
            let ours = spec.evaluate(None, &xs32).unwrap();
            assert_ne!(theirs.grads, ours.grads, "{} {b}x{d}", v.name);
            let ng = spec.grad_count(xs.len());
            let user = UserNumbers {
                value: f64::from(theirs.value),
                grads: Some(
                    theirs
                        .grads
                        .iter()
                        .take(ng)
                        .map(|g| g.map(f64::from))
                        .collect(),
                ),
            };
            let (vr, gr) = checker::error_over_tolerance(&tol, &r, &user);
            assert!(
                vr <= 1.0 && gr <= 1.0,
                "{} {b}x{d}: ratios {vr} {gr}",
                v.name
            );
        }
    }
}

/// In float32 with gradients, every loss's gradient tolerance is the bound scaled by a factor in
/// [FLOOR, 1], entry by entry, and our own float32 numbers (run 0 of the estimate) agree; in
/// every other precision, without gradients, or when asked, the bound is used and says why.
#[test]
fn the_estimate_lies_between_its_floor_and_the_bound_and_only_in_float32() {
    for spec in all_specs() {
        let xs = inputs(&spec, 32, 12, 5, None);
        let user = f32_user(&spec, &xs);
        let est =
            checker::check(&spec, &xs, &user, &opts(Precision::F32, TolMode::Estimate)).unwrap();
        let bound =
            checker::check(&spec, &xs, &user, &opts(Precision::F32, TolMode::Bound)).unwrap();
        let what = format!("{} {}", spec.loss, spec.variant.name);
        assert_eq!(est.outcome, Conclusion::Agrees, "{what}:\n{}", est.render());
        let Source::Estimate(e) = &est.tolerance_source else {
            panic!("{what}: no estimate: {:?}", est.tolerance_source)
        };
        assert_eq!(e.runs, estimate::runs(xs.len(), 32, 12));
        assert!((estimate::RUNS..=estimate::MAX_RUNS).contains(&e.runs));
        for (t, (g, h)) in est.grads.iter().zip(&bound.grads).enumerate() {
            let s = e.scales[t];
            assert!((FLOOR..=1.0).contains(&s), "{what}: scale {s}");
            if e.erred[t] < estimate::MIN_ERRED {
                assert_eq!(s, 1.0, "{what}");
            } else {
                assert_eq!(s, (e.factor * e.ratios[t]).clamp(FLOOR, 1.0));
                assert_eq!(e.factor, spec.loss.estimate_factor(&spec, 32, 12));
            }
            // The model's part scales; the reference's own error does not (it is far smaller).
            assert!(g.tolerance <= h.tolerance * (1.0 + 1e-12), "{what}");
            assert!(g.tolerance >= s * h.tolerance * (1.0 - 1e-12), "{what}");
        }
        assert!(
            est.render()
                .contains("gradient tolerance: estimated at these inputs")
        );
        assert!(
            bound
                .render()
                .contains("gradient tolerance: the a-priori bound (the bound was asked for")
        );
        for p in [Precision::F64, Precision::Tf32, Precision::Bf16] {
            let r = checker::check(&spec, &xs, &user, &opts(p, TolMode::Estimate)).unwrap();
            assert!(
                matches!(&r.tolerance_source, Source::Bound { why } if why.contains("only float32")),
                "{what} {p:?}: {:?}",
                r.tolerance_source
            );
        }
        let value_only = UserNumbers {
            value: user.value,
            grads: None,
        };
        let r = checker::check(
            &spec,
            &xs,
            &value_only,
            &opts(Precision::F32, TolMode::Estimate),
        )
        .unwrap();
        assert!(
            matches!(&r.tolerance_source, Source::Bound { why } if why.contains("no gradient given")),
            "{what}"
        );
    }
}

/// Where the official algorithm is not run — the coding rate's feature form at d > 2048 with
/// d > B (too costly), CorInfoMax with d > B (torch's error measured at up to 22× our runs') —
/// the estimate does not pretend: the bound stands, and the report says why.
#[test]
fn an_official_algorithm_not_run_keeps_the_bound() {
    let cim = LossSpec::named("corinfomax", Some("running"), &[]).unwrap();
    let xs = inputs(&cim, 8, 24, 2, None);
    let r = checker::check(
        &cim,
        &xs,
        &f32_user(&cim, &xs),
        &opts(Precision::F32, TolMode::Estimate),
    )
    .unwrap();
    assert_eq!(r.outcome, Conclusion::Agrees, "{}", r.render());
    assert!(
        matches!(&r.tolerance_source, Source::Bound { why } if why.contains("measured")),
        "{:?}",
        r.tolerance_source
    );
    let spec = LossSpec::named("coding-rate", None, &[]).unwrap();
    let xs = inputs(&spec, 4, 2100, 1, None);
    let r = checker::check(
        &spec,
        &xs,
        &f32_user(&spec, &xs),
        &opts(Precision::F32, TolMode::Estimate),
    )
    .unwrap();
    assert_eq!(r.outcome, Conclusion::Agrees, "{}", r.render());
    assert!(
        matches!(&r.tolerance_source, Source::Bound { why } if why.contains("too costly")),
        "{:?}",
        r.tolerance_source
    );
}

/// What the estimate buys (docs/validation/power.md): at 256×128 in float32, Barlow Twins'
/// gradient scaled by 1 + 3·10⁻⁵ passes the bound (smallest rejected 5.2·10⁻⁵) and is rejected by
/// the estimate (1.7·10⁻⁵); the correct float32 numbers pass both.
#[test]
fn the_estimate_rejects_a_gradient_error_the_bound_lets_pass() {
    let spec = LossSpec::named("barlow-twins", None, &[]).unwrap();
    let case = Case {
        name: "power",
        b: 256,
        d: 128,
        large: false,
    };
    let xs = golden::inputs(&spec, &case, 20261202);
    let user = f32_user(&spec, &xs);
    let mut wrong = user.clone();
    wrong.grads.as_mut().unwrap()[0] *= 1.0 + 3e-5;
    let check =
        |u: &UserNumbers, m| checker::check(&spec, &xs, u, &opts(Precision::F32, m)).unwrap();
    assert_eq!(check(&user, TolMode::Estimate).outcome, Conclusion::Agrees);
    assert_eq!(check(&user, TolMode::Bound).outcome, Conclusion::Agrees);
    assert_eq!(check(&wrong, TolMode::Bound).outcome, Conclusion::Agrees);
    let r = check(&wrong, TolMode::Estimate);
    assert_eq!(r.outcome, Conclusion::Disagrees, "{}", r.render());
}
