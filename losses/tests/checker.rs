//! The loss registry, the f64 references and the checker (issue 5): every variant's f64 value and
//! gradient against the MPFR reference (itself checked against 256-bit finite differences in
//! `tests/losses.rs`), every planted mistake's gradient against f64 finite differences, every
//! common mistake caught with the right diagnosis, and bad input refused by name.

mod common;
use common::{all_specs, f32_user};

use nalgebra::DMatrix;
use sslproof_losses::checker::{self, Conclusion, Options, ReferenceKind, UserNumbers};
use sslproof_losses::estimate::{Source, TolMode};
use sslproof_losses::golden::{self, Case};
use sslproof_losses::registry::{self, LossSpec, SpecError};
use sslproof_losses::rounding::{self, Precision};

fn case(b: usize, d: usize) -> Case {
    Case {
        name: "test",
        b,
        d,
        large: false,
    }
}

fn inputs(spec: &LossSpec, b: usize, d: usize, salt: u64) -> Vec<DMatrix<f64>> {
    golden::inputs(
        spec,
        &case(b, d),
        golden::seed_of(spec.loss, spec.variant.name, "test") ^ salt,
    )
}

/// The f64 implementation agrees with MPFR within the model's own f64 tolerance, at shapes with
/// d < B, d > B and d = B, for every loss and variant (NT-Xent with three views included).
#[test]
fn f64_agrees_with_mpfr_within_the_f64_model() {
    for spec in all_specs() {
        for (b, d) in [(16usize, 5usize), (6, 14), (9, 9)] {
            let xs = inputs(&spec, b, d, 1);
            let r = checker::reference(&spec, &xs, &Options::default()).unwrap();
            assert_eq!(r.kind, ReferenceKind::Mpfr(256), "{spec:?}");
            let tol = rounding::tolerance(&r.scale, &r.out64, Precision::F64);
            let what = format!("{} {} B={b} d={d}", spec.loss, spec.variant.name);
            assert!(
                (r.out64.value - r.out.value).abs() <= tol.value,
                "{what}: f64 {} MPFR {}",
                r.out64.value,
                r.out.value
            );
            for (t, (g64, g)) in r.out64.grads.iter().zip(&r.out.grads).enumerate() {
                let e = (g64 - g).amax();
                assert!(e <= tol.grad_max(t), "{what}: gradient {t} off by {e:e}");
                // Not vacuous: the f64 tolerance is tiny next to the gradient (unless the
                // log-det matrix is nearly singular: CorInfoMax with d > B has rank B − 1 + εI).
                if r.scale.kappa.is_none_or(|k| k < 1e4) {
                    assert!(tol.grad_max(t) < 1e-9 * (g.amax() + 1.0), "{what}: {tol:?}");
                }
            }
        }
    }
}

/// Central differences in f64 (h = 10⁻⁵ relative to the entry, error O(h²) ≈ 10⁻¹⁰ plus
/// rounding ≈ 10⁻¹¹/h): accepted at 10⁻⁵ of the largest gradient entry.
fn fd_check(spec: &LossSpec, mistake: Option<&str>, xs: &[DMatrix<f64>]) {
    let out = spec.evaluate(mistake, xs).unwrap();
    let what = format!("{} {} {:?}", spec.loss, spec.variant.name, mistake);
    // SimSiam's z1, z2 are detached: their zero gradient is not a derivative.
    let detached = spec.loss.name() == "simsiam" && mistake != Some("no-stop-gradient");
    for (t, g) in out.grads.iter().enumerate() {
        if detached && t >= 2 {
            assert_eq!(g.amax(), 0.0);
            continue;
        }
        let scale = g.amax() + 1e-3;
        for i in 0..g.nrows() {
            for j in 0..g.ncols() {
                let h = 1e-5 * xs[t][(i, j)].abs().max(0.1);
                let at = |delta: f64| {
                    let mut ys = xs.to_vec();
                    ys[t][(i, j)] += delta;
                    spec.evaluate(mistake, &ys).unwrap().value
                };
                let fd = (at(h) - at(-h)) / (2.0 * h);
                assert!(
                    (fd - g[(i, j)]).abs() <= 1e-5 * scale,
                    "{what}: input {t} ({i}, {j}): finite difference {fd:e}, analytic {:e}",
                    g[(i, j)]
                );
            }
        }
    }
}

#[test]
fn every_variant_and_every_planted_mistake_has_the_right_gradient() {
    for spec in all_specs() {
        let xs = inputs(&spec, 7, 4, 2);
        fd_check(&spec, None, &xs);
        for m in spec.loss.mistakes() {
            if spec.loss.name() == "simsiam" && m.id == "no-stop-gradient" {
                continue; // checked below: the stop-gradient is not a derivative.
            }
            fd_check(&spec, Some(m.id), &xs);
        }
    }
    // Without the stop-gradient, the z gradients are the true derivatives.
    let spec = LossSpec::named("simsiam", None, &[]).unwrap();
    fd_check(&spec, Some("no-stop-gradient"), &inputs(&spec, 5, 4, 3));
}

#[test]
fn nt_xent_solo_learn_with_two_views_is_lightly() {
    let lightly = LossSpec::named("nt-xent", Some("lightly"), &[("tau".into(), 0.2)]).unwrap();
    let solo = LossSpec::named("nt-xent", Some("solo-learn"), &[("tau".into(), 0.2)]).unwrap();
    let xs = inputs(&lightly, 6, 5, 4);
    let (a, b) = (
        &lightly.evaluate(None, &xs).unwrap(),
        &solo.evaluate(None, &xs).unwrap(),
    );
    assert!((a.value - b.value).abs() < 1e-14);
    assert!((&a.grads[0] - &b.grads[0]).amax() < 1e-14);
}

fn opts32() -> Options {
    Options {
        precision: Precision::F32,
        ..Options::default()
    }
}

/// A correct float32 computation agrees; every planted mistake, computed in float32 too, is
/// caught and diagnosed by name.
#[test]
fn every_common_mistake_is_caught_and_named() {
    let mut named = 0;
    for spec in all_specs() {
        let xs = inputs(&spec, 32, 12, 5);
        let ok = checker::check(&spec, &xs, &f32_user(&spec, None, &xs), &opts32()).unwrap();
        assert_eq!(
            ok.outcome,
            Conclusion::Agrees,
            "{} {}:\n{}",
            spec.loss,
            spec.variant.name,
            ok.render()
        );
        for m in spec.mistakes() {
            let user = f32_user(&spec, Some(m.id), &xs);
            let r = checker::check(&spec, &xs, &user, &opts32()).unwrap();
            let text = r.render();
            assert_eq!(
                r.outcome,
                Conclusion::Disagrees,
                "{} {}:\n{text}",
                spec.loss,
                m.id
            );
            assert!(r.first_disagreement.is_some(), "{text}");
            let d = r
                .diagnosis
                .iter()
                .find(|d| d.id == m.id)
                .unwrap_or_else(|| {
                    panic!(
                        "{} {} {} not diagnosed:\n{text}",
                        spec.loss, spec.variant.name, m.id
                    )
                });
            assert!(d.value_matches && d.grads_match == Some(true), "{text}");
            assert!(text.contains(m.says), "{text}");
            named += 1;
        }
    }
    assert!(named >= 40, "{named}");
}

/// Numbers from another implementation's convention are named as that variant.
#[test]
fn another_variant_is_named() {
    let official = LossSpec::named("vicreg", None, &[]).unwrap();
    let xs = inputs(&official, 32, 12, 6);
    for other in ["paper", "solo-learn"] {
        let spec = LossSpec::named("vicreg", Some(other), &[]).unwrap();
        let r = checker::check(&official, &xs, &f32_user(&spec, None, &xs), &opts32()).unwrap();
        assert_eq!(r.outcome, Conclusion::Disagrees);
        assert_eq!(r.diagnosis[0].kind, "variant", "{}", r.render());
        assert!(r.diagnosis.iter().any(|d| d.id == other), "{}", r.render());
    }
    let mcr2 = LossSpec::named("coding-rate", None, &[("eps".into(), 0.2)]).unwrap();
    let emp = LossSpec::named("coding-rate", Some("emp-ssl"), &[]).unwrap();
    let xs = inputs(&mcr2, 32, 12, 7);
    let r = checker::check(&mcr2, &xs, &f32_user(&emp, None, &xs), &opts32()).unwrap();
    assert!(
        r.diagnosis
            .iter()
            .any(|d| d.id == "emp-ssl" && d.value_matches),
        "{}",
        r.render()
    );
}

/// One corrupted gradient entry is found and named (input and entry), and a NaN result is a
/// disagreement, not a crash.
#[test]
fn the_first_disagreeing_component_is_named() {
    let spec = LossSpec::named("vicreg", None, &[]).unwrap();
    let xs = inputs(&spec, 32, 12, 8);
    let mut user = f32_user(&spec, None, &xs);
    user.grads.as_mut().unwrap()[1][(3, 7)] *= 1.01;
    let r = checker::check(&spec, &xs, &user, &opts32()).unwrap();
    assert_eq!(r.outcome, Conclusion::Disagrees);
    let first = r.first_disagreement.as_ref().unwrap();
    assert_eq!(first.what, "gradient of z2 at (3, 7)", "{}", r.render());
    assert_eq!(r.grads[1].disagreeing, 1);
    assert!(r.diagnosis.is_empty(), "{}", r.render());
    assert!(r.render().contains("matches no known variant"));
    let mut nan = f32_user(&spec, None, &xs);
    nan.value = f64::NAN;
    let r = checker::check(&spec, &xs, &nan, &opts32()).unwrap();
    assert_eq!(r.outcome, Conclusion::Disagrees);
    assert_eq!(r.first_disagreement.unwrap().what, "value");
}

/// A log-determinant of a nearly singular matrix in reduced precision is reported as
/// untrustworthy (CorInfoMax with d > B and ε = 10⁻⁶: the covariance has rank B − 1): in
/// bfloat16, and in float32 by the a-priori bound alone (`--tolerance bound`; the float32
/// estimate, which evaluates the loss, may conclude there: losses/tests/estimate.rs).
#[test]
fn an_untrustworthy_precision_is_said_so() {
    let spec = LossSpec::named("corinfomax", None, &[]).unwrap();
    let xs = inputs(&spec, 8, 24, 9);
    let user = f32_user(&spec, None, &xs);
    let bound = Options {
        tolerance: TolMode::Bound,
        ..opts32()
    };
    let r = checker::check(&spec, &xs, &user, &bound).unwrap();
    assert_eq!(r.outcome, Conclusion::Untrustworthy, "{}", r.render());
    assert!(r.kappa.unwrap() > 1e6);
    assert!(r.render().contains("condition number"), "{}", r.render());
    let bf16 = Options {
        precision: Precision::Bf16,
        ..opts32()
    };
    let b = checker::check(&spec, &xs, &user, &bf16).unwrap();
    assert_eq!(b.outcome, Conclusion::Untrustworthy, "{}", b.render());
    // In f64 the same case can be checked.
    let r = checker::check(
        &spec,
        &xs,
        &UserNumbers {
            value: r.value.reference,
            grads: None,
        },
        &Options {
            precision: Precision::F64,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(r.outcome, Conclusion::Agrees, "{}", r.render());
}

#[test]
fn bad_input_is_refused_by_name() {
    let vic = LossSpec::named("vicreg", None, &[]).unwrap();
    let user = UserNumbers {
        value: 0.0,
        grads: None,
    };
    let o = Options::default();
    let err = |spec: &LossSpec, xs: Vec<DMatrix<f64>>| {
        checker::check(spec, &xs, &user, &o)
            .unwrap_err()
            .to_string()
    };
    let z = DMatrix::<f64>::from_element(1, 3, 0.5);
    assert!(err(&vic, vec![z.clone(), z]).contains("at least 2 samples"));
    let e = DMatrix::<f64>::zeros(4, 0);
    assert!(err(&vic, vec![e.clone(), e]).contains("empty batch"));
    let mut n = DMatrix::<f64>::from_element(4, 3, 0.5);
    n[(2, 1)] = f64::NAN;
    let ok = DMatrix::<f64>::from_fn(4, 3, |i, j| (i * 3 + j) as f64);
    assert!(err(&vic, vec![ok.clone(), n]).contains("(2, 1)"));
    assert!(err(&vic, vec![ok.clone(), DMatrix::zeros(5, 3)]).contains("input z2: shape (5, 3)"));
    assert!(err(&vic, vec![ok.clone()]).contains("takes 2 inputs"));
    let bad_grads = UserNumbers {
        value: 0.0,
        grads: Some(vec![DMatrix::zeros(4, 3)]),
    };
    let e = checker::check(&vic, &[ok.clone(), ok.clone()], &bad_grads, &o).unwrap_err();
    assert!(e.to_string().contains("2 gradients"), "{e}");
    let e = LossSpec::named("vicreg", Some("lightly"), &[]).unwrap_err();
    assert!(
        matches!(e, SpecError::Variant { .. })
            && e.to_string().contains("official, paper, solo-learn")
    );
    let e = LossSpec::named("coding-rate", None, &[("epsilon".into(), 0.5)]).unwrap_err();
    assert!(e.to_string().contains("its parameters: eps"), "{e}");
    let e = LossSpec::named("coding-rate", None, &[("eps".into(), -1.0)]).unwrap_err();
    assert!(e.to_string().contains("must be > 0"), "{e}");
    // An indefinite running covariance (CorInfoMax's state): named, not a panic.
    let cr = LossSpec::named("corinfomax", Some("running"), &[]).unwrap();
    let flat = DMatrix::<f64>::from_element(4, 3, 1.0);
    let mu = DMatrix::<f64>::zeros(1, 3);
    let e = err(
        &cr,
        vec![
            flat.clone(),
            flat,
            mu.clone(),
            DMatrix::identity(3, 3) * -5.0,
            mu,
            DMatrix::identity(3, 3),
        ],
    );
    assert!(e.contains("input r1") && e.contains("indefinite"), "{e}");
}

/// The tolerance the report states is composed exactly as documented: the user's rounding model,
/// plus the reference's own error bound, plus one last f64 rounding of the reference
/// (`2ε|x|`), for the value and for every gradient; and the worst gradient entry is the one that
/// was planted. Checked on the f64 reference (a nonzero error bound) and on MPFR.
#[test]
fn the_stated_tolerance_is_the_documented_sum() {
    let spec = LossSpec::named("vicreg", None, &[]).unwrap();
    let (b, d) = (16, 8);
    let ins = inputs(&spec, b, d, 3);
    for (hp_max_work, mode) in [
        (0.0, TolMode::Bound),
        (f64::INFINITY, TolMode::Bound),
        (0.0, TolMode::Estimate),
        (f64::INFINITY, TolMode::Estimate),
    ] {
        let opts = Options {
            precision: Precision::F32,
            hp_max_work,
            tolerance: mode,
            ..Options::default()
        };
        let r = checker::reference(&spec, &ins, &opts).unwrap();
        let tol = rounding::tolerance(&r.scale, &r.out64, opts.precision);
        let mut g = r.out.grads.clone();
        let planted = g[1][(5, 2)].abs() * 1e-3 + 1e-6;
        g[1][(5, 2)] += planted;
        let user = UserNumbers {
            value: r.out.value,
            grads: Some(g),
        };
        let rep = checker::check(&spec, &ins, &user, &opts).unwrap();
        let tv = tol.value + r.error.value + 2.0 * f64::EPSILON * r.out.value.abs();
        assert_eq!(
            rep.value.tolerance, tv,
            "value tolerance (hp_max_work {hp_max_work})"
        );
        // With the estimate, the model's part is the bound times the factor applied (VICReg's
        // hinge widening aside: none at these inputs).
        let scales = match &rep.tolerance_source {
            Source::Estimate(e) => e.scales.clone(),
            Source::Bound { .. } => vec![1.0; rep.grads.len()],
        };
        assert_eq!(
            matches!(rep.tolerance_source, Source::Estimate(_)),
            mode == TolMode::Estimate
        );
        assert!(tol.widened.is_empty());
        for (t, s) in rep.grads.iter().enumerate() {
            let tg = tol.grad_max(t) * scales[t]
                + r.error.grads[t]
                + 2.0 * f64::EPSILON * r.out.grads[t].amax();
            // The same sum, in another order where the entries have their own tolerances.
            assert!(
                (s.tolerance - tg).abs() <= 4.0 * f64::EPSILON * tg,
                "gradient {t} tolerance: {} vs {tg}",
                s.tolerance
            );
        }
        assert_eq!(rep.grads[1].worst, (5, 2));
        assert!(
            (rep.grads[1].max_error - planted).abs() <= 1e-9 * planted.max(1.0),
            "{} vs {planted}",
            rep.grads[1].max_error
        );
        assert_eq!(rep.grads[0].disagreeing, 0);
        match (hp_max_work, rep.reference) {
            (0.0, ReferenceKind::F64) => assert!(r.error.value > 0.0),
            (_, ReferenceKind::Mpfr(_)) if hp_max_work > 0.0 => {}
            other => panic!("unexpected reference {other:?}"),
        }
    }
}

/// The coding rate's MPFR reference works on the smaller of its batch and feature forms: its
/// working set charges the `d × d` scratch in float only. Charged in MPFR too, 64 × 4096 needed
/// 9.2 GiB and was refused under the default 8 GiB, while `check` peaked at 252 MiB there
/// (`/usr/bin/time -f %M`, docs/losses.md, "Memory"); at 512 × 8192 it peaked at 921 MiB.
#[test]
fn the_coding_rates_reference_is_charged_at_its_smaller_side() {
    let spec = LossSpec::named("coding-rate", Some("mcr2"), &[]).unwrap();
    let o = Options::default();
    for (b, d, peak_mib) in [(64usize, 4096usize, 252.0), (512, 8192, 921.0)] {
        let need = checker::working_set(&spec, b, d, 1, &o).unwrap() as f64;
        let mib = need / (1u64 << 20) as f64;
        assert!(mib > 1.5 * peak_mib, "{b}x{d}: {mib} MiB");
        assert!(need < o.max_memory as f64, "{b}x{d}: {mib} MiB");
    }
    assert!(spec.hp_work(64, 4096, 1) <= o.hp_max_work);
    // Where the reference is MPFR, its scratch is the 64 × 64 batch form's, not 4096².
    let f64_only = spec.working_set(64, 4096, 1, None).unwrap();
    let mpfr = spec.working_set(64, 4096, 1, Some(256)).unwrap();
    let hp_bytes = 32 + 8 * 4;
    assert_eq!(mpfr - f64_only, (64 * 4096 * 8 + 16 * 64 * 64) * hp_bytes);
}

/// The limits are inclusive: a job whose MPFR work is exactly `hp_max_work` gets MPFR, and one
/// whose working set is exactly `max_memory` runs; one byte less is refused.
#[test]
fn the_work_and_memory_limits_are_inclusive() {
    let spec = LossSpec::named("vicreg", None, &[]).unwrap();
    let (b, d) = (16, 8);
    let ins = inputs(&spec, b, d, 4);
    let work = spec.hp_work(b, d, ins.len());
    let r64 = checker::reference(&spec, &ins, &Options::default()).unwrap();
    let user = UserNumbers {
        value: r64.out.value,
        grads: None,
    };
    let at = Options {
        hp_max_work: work,
        ..Options::default()
    };
    let rep = checker::check(&spec, &ins, &user, &at).unwrap();
    assert!(
        matches!(rep.reference, ReferenceKind::Mpfr(_)),
        "{:?}",
        rep.reference
    );
    let below = Options {
        hp_max_work: work * (1.0 - 1e-12),
        ..Options::default()
    };
    let rep = checker::check(&spec, &ins, &user, &below).unwrap();
    assert_eq!(rep.reference, ReferenceKind::F64);
    let need = checker::working_set(&spec, b, d, ins.len(), &at).unwrap();
    // The estimate's float32 run is part of it (only when it is the tolerance asked for).
    let bound_only = Options {
        tolerance: TolMode::Bound,
        ..at.clone()
    };
    assert_eq!(
        checker::working_set(&spec, b, d, ins.len(), &bound_only),
        spec.working_set(b, d, ins.len(), Some(at.hp_bits))
    );
    assert!(need > spec.working_set(b, d, ins.len(), Some(at.hp_bits)).unwrap());
    let exact = Options {
        max_memory: need,
        ..at.clone()
    };
    assert!(checker::check(&spec, &ins, &user, &exact).is_ok());
    let short = Options {
        max_memory: need - 1,
        ..at
    };
    assert!(matches!(
        checker::check(&spec, &ins, &user, &short),
        Err(SpecError::TooLarge { .. })
    ));
}

/// A diagnosis needs the value *or* the gradients to match: a planted mistake given with its
/// value alone (no gradients) is still named, with "gradients: not given"; given with its
/// gradients and a value that is off as well, it is named from the gradients; and full matches
/// are listed before partial ones.
#[test]
fn a_partial_match_is_still_diagnosed_and_ranked_after_full_ones() {
    let spec = LossSpec::named("vicreg", None, &[]).unwrap();
    let xs = inputs(&spec, 32, 12, 8);
    let m = spec.mistakes()[0];
    let full = f32_user(&spec, Some(m.id), &xs);
    let value_only = UserNumbers {
        value: full.value,
        grads: None,
    };
    let r = checker::check(&spec, &xs, &value_only, &opts32()).unwrap();
    let d = r
        .diagnosis
        .iter()
        .find(|d| d.id == m.id)
        .expect("named from the value");
    assert!(d.value_matches && d.grads_match.is_none(), "{}", r.render());
    let grads_only = UserNumbers {
        value: full.value * 1.5 + 1.0,
        grads: full.grads.clone(),
    };
    let r = checker::check(&spec, &xs, &grads_only, &opts32()).unwrap();
    let d = r
        .diagnosis
        .iter()
        .find(|d| d.id == m.id)
        .expect("named from the gradients");
    assert!(
        !d.value_matches && d.grads_match == Some(true),
        "{}",
        r.render()
    );
    // Ranking: every full match before any partial one.
    let r = checker::check(&spec, &xs, &full, &opts32()).unwrap();
    let full_rank: Vec<bool> = r
        .diagnosis
        .iter()
        .map(|d| d.value_matches && d.grads_match != Some(false))
        .collect();
    let mut sorted = full_rank.clone();
    sorted.sort_by_key(|f| !f);
    assert_eq!(full_rank, sorted, "{}", r.render());
    assert!(full_rank[0], "{}", r.render());
}

/// The exit code of each conclusion (0 agrees, 1 disagrees, 3 untrustworthy), and the hinge note
/// printed exactly when some column sits on the hinge.
#[test]
fn exit_codes_and_the_hinge_note() {
    let spec = LossSpec::named("vicreg", None, &[]).unwrap();
    let xs = inputs(&spec, 16, 8, 9);
    let r = checker::reference(&spec, &xs, &Options::default()).unwrap();
    let user = UserNumbers {
        value: r.out.value,
        grads: None,
    };
    let mut rep = checker::check(&spec, &xs, &user, &Options::default()).unwrap();
    for (c, code) in [
        (Conclusion::Agrees, 0),
        (Conclusion::Disagrees, 1),
        (Conclusion::Untrustworthy, 3),
    ] {
        rep.outcome = c;
        assert_eq!(rep.exit_code(), code);
    }
    rep.hinge_columns.clear();
    assert!(!rep.render().contains("variance hinge"));
    rep.hinge_columns = vec![3];
    assert!(
        rep.render()
            .contains("columns [3] sit on the variance hinge")
    );
}

/// The official code's parameter spellings are accepted as aliases (Barlow Twins' `lambd`,
/// CorInfoMax's `la_R`, VICReg's `sim_coeff`, lightly's `temperature`), with the same effect as
/// ours; an unknown name is still refused.
#[test]
fn official_parameter_spellings_are_aliases() {
    for (loss, variant, alias, ours, value) in [
        ("barlow-twins", None, "lambd", "lambda", 0.01),
        ("corinfomax", Some("running"), "la_R", "la_r", 0.1),
        ("vicreg", None, "sim_coeff", "sim", 10.0),
        ("nt-xent", None, "temperature", "tau", 0.2),
    ] {
        let a = LossSpec::named(loss, variant, &[(alias.into(), value)]).unwrap();
        let b = LossSpec::named(loss, variant, &[(ours.into(), value)]).unwrap();
        assert_eq!(a.params, b.params, "{loss} {alias}");
    }
    assert!(matches!(
        LossSpec::named("barlow-twins", None, &[("lamda".into(), 0.01)]),
        Err(SpecError::Param { .. })
    ));
}

/// B = 1 is refused with the reason of the loss at hand: NT-Xent's anchors need a negative,
/// uniformity averages over pairs; only the covariance losses speak of a 1/(B−1) covariance.
#[test]
fn a_single_sample_is_refused_with_the_losses_own_reason() {
    let row = DMatrix::from_row_slice(1, 3, &[0.5, -1.0, 2.0]);
    let user = UserNumbers {
        value: 1.0,
        grads: None,
    };
    for (loss, n, says) in [
        ("nt-xent", 2, "each anchor needs a negative"),
        ("uniformity", 1, "pairs i < j"),
        ("vicreg", 2, "1/(B−1)) variance and covariance"),
        ("corinfomax", 2, "1/(B−1) covariance"),
    ] {
        let spec = LossSpec::named(loss, None, &[]).unwrap();
        let e = checker::check(&spec, &vec![row.clone(); n], &user, &Options::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains(says) && e.contains("B = 1"), "{loss}: {e}");
    }
}

/// Float32 numbers saved as float64 and checked as float64 (the default for f64 files) disagree,
/// with a hint to pass `--precision f32`; under f32 they agree. A real mistake gets no such hint,
/// and an untrustworthy comparison attempts no diagnosis.
#[test]
fn float32_saved_as_float64_gets_a_hint() {
    let spec = LossSpec::named("vicreg", None, &[]).unwrap();
    let xs = inputs(&spec, 32, 12, 10);
    let user = f32_user(&spec, None, &xs);
    let f64opts = Options {
        precision: Precision::F64,
        ..Options::default()
    };
    let r = checker::check(&spec, &xs, &user, &f64opts).unwrap();
    assert_eq!(r.outcome, Conclusion::Disagrees, "{}", r.render());
    assert!(
        r.render().contains("pass --precision f32"),
        "{}",
        r.render()
    );
    assert_eq!(
        checker::check(&spec, &xs, &user, &opts32())
            .unwrap()
            .outcome,
        Conclusion::Agrees
    );
    let wrong = f32_user(&spec, Some(spec.mistakes()[0].id), &xs);
    let r = checker::check(&spec, &xs, &wrong, &f64opts).unwrap();
    assert!(r.hint.is_none(), "{}", r.render());
    // Untrustworthy (CorInfoMax, d > B, float32 numbers with a mistake planted, checked in
    // bfloat16): no diagnosis.
    let cim = LossSpec::named("corinfomax", None, &[]).unwrap();
    let xs = inputs(&cim, 8, 24, 9);
    let planted = f32_user(&cim, Some(cim.mistakes()[0].id), &xs);
    let bf16 = Options {
        precision: Precision::Bf16,
        ..opts32()
    };
    let r = checker::check(&cim, &xs, &planted, &bf16).unwrap();
    assert_eq!(r.outcome, Conclusion::Untrustworthy, "{}", r.render());
    assert!(r.diagnosis.is_empty(), "{}", r.render());
    assert!(
        r.render().contains("diagnosis: not attempted"),
        "{}",
        r.render()
    );
    assert!(!r.render().contains("matches"), "{}", r.render());
    // Nor a disagreement: numbers outside an untrustworthy tolerance are reported as outside it,
    // inconclusive (a value 1000 times the reference, outside even this tolerance).
    let far = UserNumbers {
        value: 1000.0 * planted.value,
        grads: planted.grads.clone(),
    };
    let r = checker::check(&cim, &xs, &far, &bf16).unwrap();
    assert_eq!(r.outcome, Conclusion::Untrustworthy, "{}", r.render());
    assert!(r.first_disagreement.is_some(), "{}", r.render());
    let text = r.render();
    assert!(!text.contains("DISAGREE"), "{text}");
    assert!(!text.contains("first disagreement"), "{text}");
    assert!(text.contains("outside (inconclusive)"), "{text}");
    assert!(
        text.contains("first outside its tolerance (inconclusive at this precision): value"),
        "{text}"
    );
    // The estimate's run failed only in the emulated arithmetic: the report says so, without
    // the advice on the inputs that a matrix indefinite in the reference's arithmetic gets.
    assert!(
        text.contains("positive definite in the reference's arithmetic, fails in emulated bf16"),
        "{text}"
    );
    assert!(!text.contains("check eps"), "{text}");
}

/// Float32 numbers whose matrix products ran in TF32 (JAX's default on GPUs) look like float32
/// numbers: with errors of TF32's size (half its bound, alternating signs) they disagree as f32
/// and the report says to pass `--precision tf32`, under which they agree; a planted mistake gets
/// no such hint.
#[test]
fn tf32_numbers_checked_as_float32_get_a_hint() {
    let spec = LossSpec::named("vicreg", None, &[]).unwrap();
    let xs = inputs(&spec, 32, 12, 10);
    let r = checker::reference(&spec, &xs, &opts32()).unwrap();
    let t = rounding::tolerance(&r.scale, &r.out64, Precision::Tf32);
    assert!(t.untrustworthy.is_none());
    let grads = r
        .out
        .grads
        .iter()
        .enumerate()
        .map(|(k, g)| {
            DMatrix::from_fn(g.nrows(), g.ncols(), |i, j| {
                let sign = if (i + j) % 2 == 0 { 1.0 } else { -1.0 };
                g[(i, j)] + 0.5 * sign * t.grad_at(k, i, j)
            })
        })
        .collect();
    let user = UserNumbers {
        value: r.out.value + 0.5 * t.value,
        grads: Some(grads),
    };
    let rep = checker::check(&spec, &xs, &user, &opts32()).unwrap();
    assert_eq!(rep.outcome, Conclusion::Disagrees, "{}", rep.render());
    assert!(
        rep.render().contains("pass --precision tf32"),
        "{}",
        rep.render()
    );
    let tf32 = Options {
        precision: Precision::Tf32,
        ..Options::default()
    };
    let rep = checker::check(&spec, &xs, &user, &tf32).unwrap();
    assert_eq!(rep.outcome, Conclusion::Agrees, "{}", rep.render());
    let wrong = f32_user(&spec, Some(spec.mistakes()[0].id), &xs);
    let rep = checker::check(&spec, &xs, &wrong, &opts32()).unwrap();
    assert!(rep.hint.is_none(), "{}", rep.render());
}

/// Variants that differ only in a default parameter are named when the user passed none:
/// lightly's Barlow Twins (λ = 0.005 against the official 0.0051) and lightly's uniformity
/// (t = 1 against 2), each checked against the default variant.
#[test]
fn parameter_only_variants_are_named_with_their_own_defaults() {
    for (loss, other) in [("barlow-twins", "lightly"), ("uniformity", "lightly")] {
        let official = LossSpec::named(loss, None, &[]).unwrap();
        let spec = LossSpec::named(loss, Some(other), &[]).unwrap();
        let xs = inputs(&official, 32, 12, 11);
        let r = checker::check(&official, &xs, &f32_user(&spec, None, &xs), &opts32()).unwrap();
        assert_eq!(r.outcome, Conclusion::Disagrees, "{loss}: {}", r.render());
        assert!(
            r.diagnosis
                .iter()
                .any(|d| d.kind == "variant" && d.id == other),
            "{loss}: {}",
            r.render()
        );
    }
}

/// VICReg inputs whose column 0 of `z1` sits exactly on the variance hinge (`√(Var + ε) = γ`),
/// the other columns far from it.
fn hinge_inputs() -> Vec<DMatrix<f64>> {
    // Unbiased variance of (a, −a, a, −a) is 4a²/3; on the hinge when it is 1 − 10⁻⁴.
    let a = (0.75f64 * (1.0 - 1e-4)).sqrt();
    let z1 = DMatrix::from_row_slice(
        4,
        3,
        &[a, 2.0, 0.1, -a, -2.0, 0.3, a, 1.0, -0.2, -a, -1.0, -0.1],
    );
    let z2 = DMatrix::from_row_slice(
        4,
        3,
        &[
            3.0, 2.5, 0.2, -3.0, -2.0, -0.3, 2.0, 1.5, 0.1, -2.0, -1.0, 0.0,
        ],
    );
    vec![z1, z2]
}

/// A VICReg column whose standard deviation sits exactly on the hinge (`√(Var + ε) = γ`) is
/// flagged, and only it: columns far from the hinge are not.
#[test]
fn only_the_columns_on_the_hinge_are_flagged() {
    let spec = LossSpec::named("vicreg", None, &[]).unwrap();
    let xs = hinge_inputs();
    let r = checker::reference(&spec, &xs, &Options::default()).unwrap();
    let user = UserNumbers {
        value: r.out.value,
        grads: Some(r.out.grads.clone()),
    };
    let rep = checker::check(&spec, &xs, &user, &opts32()).unwrap();
    assert_eq!(rep.hinge_columns, vec![0], "{}", rep.render());
}

/// A regression (issue 13): a VICReg column on the hinge widened the tolerance of the whole
/// input, so that a 30 % error in another column passed in float32. Now only the hinge column is
/// widened: the same error is caught and located, while a deviation inside the hinge column's
/// widened tolerance (the other side of the kink) still agrees.
#[test]
fn a_hinge_column_widens_only_itself() {
    let spec = LossSpec::named("vicreg", None, &[]).unwrap();
    let xs = hinge_inputs();
    let r = checker::reference(&spec, &xs, &Options::default()).unwrap();
    // 30 % off in column 2 of z1's gradient (not on the hinge).
    let mut g = r.out.grads.clone();
    for i in 0..4 {
        g[0][(i, 2)] *= 1.3;
    }
    let user = UserNumbers {
        value: r.out.value,
        grads: Some(g),
    };
    let rep = checker::check(&spec, &xs, &user, &opts32()).unwrap();
    assert_eq!(rep.hinge_columns, vec![0], "{}", rep.render());
    assert_eq!(rep.outcome, Conclusion::Disagrees, "{}", rep.render());
    let first = rep.first_disagreement.as_ref().expect("located");
    assert!(
        first.what.contains("z1") && first.what.ends_with(", 2)"),
        "{}",
        rep.render()
    );
    let z1_sum = &rep.grads[0];
    assert_eq!(z1_sum.widened.len(), 1, "{}", rep.render());
    let (col, widened) = z1_sum.widened[0];
    assert_eq!(col, 0);
    assert!(widened > 10.0 * z1_sum.tolerance, "{}", rep.render());
    assert!(
        rep.render().contains("column 0: tolerance widened"),
        "{}",
        rep.render()
    );
    // Inside the hinge column's widened tolerance: agrees.
    let mut g = r.out.grads.clone();
    for i in 0..4 {
        g[0][(i, 0)] += 0.5 * widened * if i % 2 == 0 { 1.0 } else { -1.0 };
    }
    let user = UserNumbers {
        value: r.out.value,
        grads: Some(g),
    };
    let rep = checker::check(&spec, &xs, &user, &opts32()).unwrap();
    assert_eq!(rep.outcome, Conclusion::Agrees, "{}", rep.render());
}

/// A regression (issue 13): `align` summed instead of averaged, computed in float32 at 256×128 on
/// nearly aligned unit vectors, was named with a contradictory "value matches (gradient does
/// not)": the summed gradient carries B times the rounding error of the mean's, and the diagnosis
/// compared it within the mean's tolerance. A candidate's numbers are now compared within a tolerance scaled to its own
/// magnitude, and the mistake is named as a full match.
#[test]
fn a_summed_alignment_is_named_as_a_full_match() {
    let spec = LossSpec::named("align", None, &[]).unwrap();
    let mut s = 0x5eed_u64;
    let mut next = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    };
    let x = DMatrix::from_fn(256, 128, |_, _| next());
    let y = &x + DMatrix::from_fn(256, 128, |_, _| 0.1 * next());
    let unit = |m: DMatrix<f64>| {
        let mut m = m;
        for mut r in m.row_iter_mut() {
            let n = r.norm();
            r /= n;
        }
        m
    };
    let xs = vec![unit(x), unit(y)];
    let user = f32_user(&spec, Some("sum"), &xs);
    let rep = checker::check(&spec, &xs, &user, &opts32()).unwrap();
    assert_eq!(rep.outcome, Conclusion::Disagrees, "{}", rep.render());
    let d = rep
        .diagnosis
        .iter()
        .find(|d| d.id == "sum")
        .unwrap_or_else(|| panic!("{}", rep.render()));
    assert!(
        d.value_matches && d.grads_match == Some(true),
        "{}",
        rep.render()
    );
    assert!(
        !rep.render().contains("(value does not)"),
        "{}",
        rep.render()
    );
}

/// A regression (issue 13): the uniformity loss in float32 at 256×128 accepted a gradient 1 %
/// off (its tolerance put all the softmax weight on the worst pair, 30 000× the real error).
/// With the pair-weighted bound the correct float32 gradient is accepted and the 1 % error is
/// rejected.
#[test]
fn a_one_percent_uniformity_gradient_error_is_rejected_in_float32() {
    let spec = LossSpec::named("uniformity", None, &[]).unwrap();
    let xs = golden::inputs_of(&spec, 256, 128, 20261202, None);
    let correct = f32_user(&spec, None, &xs);
    let rep = checker::check(&spec, &xs, &correct, &opts32()).unwrap();
    assert_eq!(rep.outcome, Conclusion::Agrees, "{}", rep.render());
    let mut wrong = correct.clone();
    for g in wrong.grads.as_mut().unwrap() {
        *g *= 1.01;
    }
    let rep = checker::check(&spec, &xs, &wrong, &opts32()).unwrap();
    assert_eq!(rep.outcome, Conclusion::Disagrees, "{}", rep.render());
}

/// Regressions (issue 13): the coding rate (MCR²) in float32 accepted, at 512×2048, a gradient
/// 20 % too large with a correct value, and at 256×128 one gradient entry off by 10⁻³ (relative):
/// its accumulation bound summed the entries of A⁻¹δA A⁻¹ as absolute values (10⁴–10⁵× the real
/// error). Propagated as root-sum-squares of independent roundings, both are rejected, and the
/// correct float32 numbers are still accepted.
#[test]
fn coding_rate_gradient_errors_are_rejected_in_float32() {
    let spec = LossSpec::named("coding-rate", None, &[]).unwrap();
    for (b, d, what) in [(256, 128, "one entry"), (512, 2048, "whole gradient")] {
        let xs = golden::inputs_of(&spec, b, d, 20261202, None);
        let correct = f32_user(&spec, None, &xs);
        let rep = checker::check(&spec, &xs, &correct, &opts32()).unwrap();
        assert_eq!(rep.outcome, Conclusion::Agrees, "{}", rep.render());
        let mut wrong = correct.clone();
        let g = &mut wrong.grads.as_mut().unwrap()[0];
        if what == "one entry" {
            // The median-magnitude entry, changed by 10⁻³ of itself.
            let mut mags: Vec<(f64, usize)> =
                g.iter().enumerate().map(|(k, x)| (x.abs(), k)).collect();
            mags.sort_by(|a, b| a.0.total_cmp(&b.0));
            let k = mags[mags.len() / 2].1;
            g[k] *= 1.0 + 1e-3;
        } else {
            *g *= 1.2;
        }
        let rep = checker::check(&spec, &xs, &wrong, &opts32()).unwrap();
        assert_eq!(
            rep.outcome,
            Conclusion::Disagrees,
            "{b}×{d} {what}: {}",
            rep.render()
        );
    }
}

/// The issue-13 case "NT-Xent solo-learn, 3 views: gradient × 1.02 accepted", held: at 256×128
/// with three views in float32, the correct numbers agree and every gradient × 1.02 (or the
/// first view's alone) is rejected. (Rejected already before this test was written, with these
/// seeded inputs; the issue's own inputs are not in the repository.)
#[test]
fn nt_xent_with_three_views_rejects_a_two_percent_gradient_error_in_float32() {
    let spec = LossSpec::named("nt-xent", Some("solo-learn"), &[]).unwrap();
    let xs = golden::inputs_of(&spec, 256, 128, 20261202, Some(3));
    assert_eq!(xs.len(), 3);
    let correct = f32_user(&spec, None, &xs);
    let rep = checker::check(&spec, &xs, &correct, &opts32()).unwrap();
    assert_eq!(rep.outcome, Conclusion::Agrees, "{}", rep.render());
    for first_only in [false, true] {
        let mut wrong = correct.clone();
        for (k, g) in wrong.grads.as_mut().unwrap().iter_mut().enumerate() {
            if k == 0 || !first_only {
                *g *= 1.02;
            }
        }
        let rep = checker::check(&spec, &xs, &wrong, &opts32()).unwrap();
        assert_eq!(rep.outcome, Conclusion::Disagrees, "{}", rep.render());
    }
}

/// NT-Xent in bfloat16 autocast concludes where torch's bf16 error is small: lightly (τ = 0.5) at
/// 16×8, 64×32 and 256×128, solo-learn (τ = 0.1, two views) at 16×8, 64×32 and 96×4; solo-learn at
/// 5×64, where torch's bf16 gradient is 80 % off, does not (nor, today, solo-learn with three
/// views, where torch errs by 6–7 % of the largest entry: not held here). Until 2026-12-02 (third stop) the
/// absolute-value bound put every bf16 case at 80–110 % of the largest entry; the root-sum-square
/// bound of that stop left lightly at 16×8 and every solo-learn shape untrustworthy (the worst
/// row's bound for every entry, the value's bound 3/τ); now each entry's bound comes from its own
/// logits' errors and the value's as root-sum-squares (docs/validation/power.md). Soundness
/// against real bf16 arithmetic is checked by examples/python/validate_tolerance.py and
/// python/tests/test_frameworks.py, not here.
#[test]
fn nt_xent_concludes_in_bf16() {
    for (variant, views, b, d, concludes) in [
        ("lightly", 2, 16, 8, true),
        ("lightly", 2, 64, 32, true),
        ("lightly", 2, 256, 128, true),
        ("solo-learn", 2, 16, 8, true),
        ("solo-learn", 2, 64, 32, true),
        ("solo-learn", 2, 96, 4, true),
        ("solo-learn", 2, 5, 64, false),
    ] {
        let spec = LossSpec::named("nt-xent", Some(variant), &[]).unwrap();
        let xs = golden::inputs_of(&spec, b, d, 0, Some(views));
        let r = checker::reference(&spec, &xs, &opts32()).unwrap();
        let t = sslproof_losses::rounding::tolerance(&r.scale, &r.out64, Precision::Bf16);
        assert_eq!(
            t.untrustworthy.is_none(),
            concludes,
            "{variant} {b}×{d}: {:?}",
            t.untrustworthy
        );
    }
}

/// Issue 13, per-entry tolerances: each gradient entry is judged against its own bound, not the
/// bound of the input's worst entry. At 256×128 in float32, for every loss, the median-magnitude
/// entry of the first gradient changed by 1.5·10⁻³ of itself is rejected, the correct float32
/// numbers still agree, and the report gives that entry's own tolerance. (With one tolerance per
/// input, Barlow Twins, CorInfoMax and NT-Xent accepted it: their median entries were caught only
/// from 8·10⁻³, 3·10⁻³ and 2·10⁻³; docs/validation/power.md.)
#[test]
fn a_median_entry_is_judged_against_its_own_tolerance() {
    for &loss in registry::LOSSES {
        let spec = LossSpec::new(loss, None, &[]).unwrap();
        let xs = golden::inputs_of(&spec, 256, 128, 20261202, None);
        let correct = f32_user(&spec, None, &xs);
        let rep = checker::check(&spec, &xs, &correct, &opts32()).unwrap();
        assert_eq!(rep.outcome, Conclusion::Agrees, "{}", rep.render());
        let mut wrong = correct.clone();
        let g = &mut wrong.grads.as_mut().unwrap()[0];
        let mut mags: Vec<(f64, usize)> = g.iter().enumerate().map(|(k, x)| (x.abs(), k)).collect();
        mags.sort_by(|a, b| a.0.total_cmp(&b.0));
        let k = mags[mags.len() / 2].1;
        let (i, j) = (k % g.nrows(), k / g.nrows());
        g[k] *= 1.0 + 1.5e-3;
        let rep = checker::check(&spec, &xs, &wrong, &opts32()).unwrap();
        assert_eq!(
            rep.outcome,
            Conclusion::Disagrees,
            "{}: {}",
            loss.name(),
            rep.render()
        );
        let s = &rep.grads[0];
        assert_eq!((s.worst, s.disagreeing), ((i, j), 1), "{}", rep.render());
        assert!(s.per_entry, "{}", rep.render());
        assert!(s.worst_tolerance < s.tolerance, "{}", rep.render());
        assert!(rep.render().contains("tolerance there"), "{}", rep.render());
    }
}
