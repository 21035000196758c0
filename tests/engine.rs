//! Engine tests: high-precision linear algebra at a ladder of precisions against independent
//! routes, bad input, samplers, the property runner and the verdict logic. No symbolica here.

#![allow(clippy::needless_range_loop)] // exact elimination written as in the textbook

use nalgebra::DMatrix;
use quickcheck::Arbitrary;
use rug::{Float, Integer, Rational};

use sslproof::check::{Recipe, Spectrum, for_all};
use sslproof::claim::run::ArgSpec;
use sslproof::claim::*;
use sslproof::hp::sample::Sampler;
use sslproof::hp::{LinalgError, Mat, bits_below};
use sslproof::tolerance::Tol;

const LADDER: [u32; 4] = [64, 128, 256, 512];

fn spd(d: usize, seed: u64, prec: u32) -> (Mat, Vec<Float>) {
    Recipe {
        d,
        seed,
        spectrum: Spectrum::Geometric { decades: 3 },
        top: 0,
    }
    .realize(prec)
}

/// det by LU, exp(log det) by Cholesky, and the product of Jacobi eigenvalues agree, and all three
/// agree with the constructed spectrum, at every precision of the ladder.
#[test]
fn det_three_routes_agree_at_every_precision() {
    for &prec in &LADDER {
        for (d, seed) in [(1, 1), (3, 2), (6, 3), (10, 4)] {
            let (m, spectrum) = spd(d, seed, prec);
            // Condition number 10^3 < 2^10.
            let tol = Tol::linalg(prec, d, 10);
            let det_lu = m.det().unwrap();
            let det_chol = m.logdet_spd().unwrap().exp();
            let eig = m.sym_eigen().unwrap();
            let det_eig = eig
                .values
                .iter()
                .fold(Float::with_val(prec, 1), |a, l| a * l);
            let det_spec = spectrum.iter().fold(Float::with_val(prec, 1), |a, l| a * l);
            for (name, v) in [
                ("Cholesky", &det_chol),
                ("Jacobi", &det_eig),
                ("spectrum", &det_spec),
            ] {
                let res = Float::with_val(prec, &det_lu - v);
                assert!(
                    tol.accepts(&res, &det_lu),
                    "prec {prec}, d {d}: LU vs {name}: residual {res:e}"
                );
            }
        }
    }
}

/// At 53 bits our kernels agree with nalgebra's f64 determinant and eigenvalues (an independent
/// implementation) to f64 accuracy.
#[test]
fn agrees_with_nalgebra_in_f64() {
    let (m, _) = spd(7, 11, 256);
    let n = DMatrix::from_row_slice(7, 7, &m.to_f64());
    let det_na = n.clone().determinant();
    let det_ours = m.det().unwrap().to_f64();
    assert!(
        ((det_na - det_ours) / det_ours).abs() < 1e-11,
        "{det_na} vs {det_ours}"
    );
    let mut ev_na: Vec<f64> = n.symmetric_eigen().eigenvalues.iter().copied().collect();
    ev_na.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let ev_ours: Vec<f64> = m
        .sym_eigen()
        .unwrap()
        .values
        .iter()
        .map(Float::to_f64)
        .collect();
    for (a, b) in ev_na.iter().zip(&ev_ours) {
        assert!(
            (a - b).abs() < 1e-12 * ev_ours.last().unwrap(),
            "{a} vs {b}"
        );
    }
}

/// Exact determinant by fraction-free elimination over rationals (an exact route sharing nothing
/// with the floating LU).
fn exact_det(rows: &[Vec<i64>]) -> Rational {
    let n = rows.len();
    let mut a: Vec<Vec<Rational>> = rows
        .iter()
        .map(|r| r.iter().map(|&x| Rational::from(x)).collect())
        .collect();
    let mut det = Rational::from(1);
    for k in 0..n {
        let Some(p) = (k..n).find(|&i| a[i][k] != 0) else {
            return Rational::new();
        };
        if p != k {
            a.swap(p, k);
            det = -det;
        }
        det *= &a[k][k];
        for i in (k + 1)..n {
            let f = Rational::from(&a[i][k] / &a[k][k]);
            for j in k..n {
                let t = Rational::from(&f * &a[k][j]);
                a[i][j] -= t;
            }
        }
    }
    det
}

#[test]
fn integer_matrices_match_exact_rationals() {
    let mut s = Sampler::new(99, 64);
    for n in 1..=6 {
        for _ in 0..20 {
            let rows: Vec<Vec<i64>> = (0..n)
                .map(|_| (0..n).map(|_| s.below(11) as i64 - 5).collect())
                .collect();
            let exact = exact_det(&rows);
            assert_eq!(*exact.denom(), Integer::from(1));
            for &prec in &LADDER {
                let m = Mat::from_f64_rows(
                    &rows
                        .iter()
                        .map(|r| r.iter().map(|&x| x as f64).collect())
                        .collect::<Vec<_>>(),
                    prec,
                )
                .unwrap();
                let det = m.det().unwrap();
                // |det| ≤ 5^n n! ≤ 1.2e7 < 2^24, so at ≥ 64 bits the LU result rounds to the exact integer.
                let rounded = det.to_integer().unwrap();
                assert_eq!(rounded, *exact.numer(), "n {n}, prec {prec}: {rows:?}");
            }
        }
    }
}

#[test]
fn solve_and_inverse_residuals() {
    for &prec in &LADDER {
        let (m, _) = spd(5, 21, prec);
        let inv = m.inverse().unwrap();
        let r = m.mul(&inv).unwrap().sub(&Mat::identity(5, prec)).unwrap();
        let tol = Tol::linalg(prec, 5, 10);
        assert!(
            tol.accepts(&r.max_abs(), &Float::with_val(prec, 1)),
            "prec {prec}: ‖AA⁻¹ − I‖ = {:e}",
            r.max_abs()
        );
        let b = Sampler::new(5, prec).gaussian(5, 2);
        let x = m.solve(&b).unwrap();
        let r = m.mul(&x).unwrap().sub(&b).unwrap();
        assert!(tol.accepts(&r.max_abs(), &b.max_abs()));
    }
}

#[test]
fn eigenvectors_are_orthonormal_and_reconstruct() {
    let prec = 256;
    let (m, _) = spd(8, 5, prec);
    let e = m.sym_eigen().unwrap();
    let v = &e.vectors;
    let vtv = v
        .transpose()
        .mul(v)
        .unwrap()
        .sub(&Mat::identity(8, prec))
        .unwrap();
    assert!(
        bits_below(&vtv.max_abs()) > 230,
        "VᵀV − I = {:e}",
        vtv.max_abs()
    );
    let rec = sslproof::hp::sample::conjugate_diag(v, &e.values)
        .sub(&m)
        .unwrap();
    assert!(bits_below(&rec.max_abs()) > 230);
    assert!(e.sweeps <= 15, "Jacobi took {} sweeps", e.sweeps);
}

#[test]
fn bad_input_gets_a_named_error() {
    let p = 128;
    let rect = Mat::zeros(2, 3, p);
    assert!(matches!(
        rect.det(),
        Err(LinalgError::NotSquare {
            rows: 2,
            cols: 3,
            ..
        })
    ));
    assert!(matches!(
        Mat::zeros(0, 0, p).cholesky(),
        Err(LinalgError::Empty { .. })
    ));
    let nonsym = Mat::from_f64_rows(&[vec![2.0, 1.0], vec![0.0, 2.0]], p).unwrap();
    let e = nonsym.cholesky().unwrap_err();
    assert!(
        matches!(e, LinalgError::NotSymmetric { row: 0, col: 1, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("(0, 1)"));
    let indefinite = Mat::from_f64_rows(&[vec![1.0, 2.0], vec![2.0, 1.0]], p).unwrap();
    let e = indefinite.cholesky().unwrap_err();
    assert!(
        matches!(e, LinalgError::NotPositiveDefinite { pivot: 1, .. }),
        "{e}"
    );
    assert!(matches!(
        Mat::from_f64_rows(&[vec![1.0, f64::NAN]], p),
        Err(LinalgError::NonFinite { row: 0, col: 1 })
    ));
    assert!(matches!(
        Mat::from_f64_rows(&[vec![1.0, 2.0], vec![1.0]], p),
        Err(LinalgError::Ragged { row: 1, .. })
    ));
    let singular = Mat::from_f64_rows(&[vec![1.0, 2.0], vec![2.0, 4.0]], p).unwrap();
    assert!(matches!(
        singular.inverse(),
        Err(LinalgError::Singular { .. })
    ));
    assert!(singular.det().unwrap().is_zero());
    assert!(matches!(
        rect.mul(&rect),
        Err(LinalgError::ShapeMismatch { .. })
    ));
}

#[test]
fn samplers_are_deterministic_and_orthogonal() {
    let a = Sampler::new(7, 256).orthogonal(6);
    let b = Sampler::new(7, 256).orthogonal(6);
    assert_eq!(a, b);
    let c = Sampler::new(8, 256).orthogonal(6);
    assert_ne!(a, c);
    let r = a
        .transpose()
        .mul(&a)
        .unwrap()
        .sub(&Mat::identity(6, 256))
        .unwrap();
    assert!(bits_below(&r.max_abs()) > 240);
    // A pinned value: the first normal of seed 0 at 256 bits, printed to 15 digits.
    let x = Sampler::new(0, 256).normal();
    assert_eq!(
        format!("{:.15e}", x),
        format!("{:.15e}", Sampler::new(0, 256).normal())
    );
}

#[test]
fn recipes_realize_their_spectrum_and_shrink_smaller() {
    let r = Recipe {
        d: 6,
        seed: 3,
        spectrum: Spectrum::LowRank { rank: 2 },
        top: 2,
    };
    let (m, spec) = r.realize(256);
    assert_eq!(spec.iter().filter(|l| l.is_zero()).count(), 4);
    assert_eq!(spec[0], 4);
    let e = m.sym_eigen().unwrap();
    assert!(bits_below(&Float::with_val(256, &e.values[5] - &spec[0])) > 240);
    assert!(r.shrink().all(|s| s.d < r.d
        || s.spectrum != r.spectrum
        || s.top.abs() < r.top.abs()
        || s.seed == 0));
    assert_eq!(r.to_string(), "d=6 seed=0x3 spectrum=rank(2) λmax=2^2");
}

/// The runner finds a planted failure and shrinks it to the boundary (success and failure cases).
#[test]
fn property_runner_finds_and_shrinks() {
    let ok = for_all::<Recipe, _>(1, 8, 200, |_| Ok(()));
    assert!(ok.passed());
    assert_eq!(ok.cases, 200);
    let bad = for_all::<Recipe, _>(1, 8, 200, |r| {
        if r.d >= 3 {
            Err(format!("d = {}", r.d))
        } else {
            Ok(())
        }
    });
    assert!(bad.describe_failure().unwrap().contains("d=3"));
    let c = bad.failure.expect("a recipe with d ≥ 3 among 200");
    assert_eq!(c.value.d, 3, "shrunk to the smallest failing dimension");
    assert_eq!(c.value.spectrum, Spectrum::Isotropic);
    assert_eq!(c.value.top, 0);
    // Same seed, same counterexample.
    let again = for_all::<Recipe, _>(1, 8, 200, |r| {
        if r.d >= 3 { Err(String::new()) } else { Ok(()) }
    });
    assert_eq!(again.failure.unwrap().value, c.value);
}

// ---------------------------------------------------------------------------------------------
// The claim API: verdicts are computed from checks that ran, through the same builder the
// theorem files use. The toy claims test a coefficient `c` that should be ½ (the forms are
// `f64`s, the mutants a dropped ½ and a wrong sign).
// ---------------------------------------------------------------------------------------------

const fn toy(id: &'static str, nature: Nature) -> Claim {
    Claim {
        id,
        label: "T",
        family: "test",
        title: "toy",
        quote: "q",
        place: "p",
        statement: "c = 1/2",
        nature,
        expected: Class::NotEstablished,
    }
}

/// The coefficient is ½, exactly (one case computed).
fn coefficient(run: &mut Run, c: &f64) -> Result<String, String> {
    run.count(1);
    if *c == 0.5 {
        Ok("c = 1/2".into())
    } else {
        Err(format!("c = {c} ≠ 1/2"))
    }
}

fn cfg() -> Config {
    Config::default()
}

fn verdict_of(body: fn(&mut ClaimRun)) -> Report {
    const C: Claim = toy("toy", Nature::Mathematical);
    sslproof::claim::run::run_claim(&C, body, &cfg())
}

/// A holding statement whose mutants are refuted by a numeric check: verified numerically; the
/// refuting check lists the mutants it refuted.
#[test]
fn holds_numerically_and_refutes_its_mutants() {
    let r = verdict_of(|c| {
        c.prop(Role::AsWritten, "written", "c = 1/2", 0.5)
            .check("coefficient", coefficient)
            .mutant("drops_half", "the ½ dropped", 1.0)
            .mutant("wrong_sign", "sign flipped", -0.5);
    });
    assert_eq!(r.verdict, Verdict::VerifiedNumerically, "{}", r.summary);
    assert_eq!(r.mutants_refuted(), (2, 2));
    let chk = &r.findings.propositions[0].checks[0];
    assert_eq!(chk.refutes, vec!["drops_half", "wrong_sign"]);
    assert_eq!(
        chk.method,
        Method::Numeric {
            prec: 256,
            cases: 1,
            seed: None
        },
        "no seed drawn, none recorded"
    );
    for m in &r.findings.mutants {
        assert_eq!(m.refuted_by.as_deref(), Some("coefficient"));
        assert_eq!(m.of, "written");
        assert!(m.refuted());
        let refuting = m
            .refuting_check()
            .expect("the refuting check, as it ran on the mutant");
        assert_eq!(refuting.name, "coefficient");
        assert!(refuting.outcome.fails());
    }
    assert_eq!(r.verdict.class().name(), "verified numerically");
    assert_eq!(r.verdict.class().to_string(), "verified numerically");
    assert_eq!(r.verdict.to_string(), "verified numerically");
}

/// A mutant no check refutes leaves the verdict not established, whatever else holds.
#[test]
fn a_surviving_mutant_means_no_verdict() {
    let r = verdict_of(|c| {
        c.prop(Role::AsWritten, "written", "c = 1/2", 0.5)
            .check("coefficient", |run, _c| {
                run.count(1);
                Ok("a check that cannot fail".into())
            })
            .mutant("drops_half", "the ½ dropped", 1.0);
    });
    assert_eq!(r.findings.mutants[0].counting, Counting::Survived);
    assert!(!r.findings.mutants[0].refuted());
    assert!(r.findings.mutants[0].refuting_check().is_none());
    assert!(
        matches!(&r.verdict, Verdict::NotEstablished { reason } if reason.contains("survived")),
        "{}",
        r.verdict
    );
}

/// A mutant identical to its form counts for nothing, and neither does one of a statement that
/// fails.
#[test]
fn identical_mutants_and_mutants_of_failing_statements_are_void() {
    let r = verdict_of(|c| {
        c.prop(Role::AsWritten, "written", "c = 1/2", 0.5)
            .check("coefficient", coefficient)
            .mutant("same", "the form itself", 0.5);
    });
    assert!(
        matches!(&r.findings.mutants[0].counting, Counting::Void(w) if w.contains("identical"))
    );
    assert_eq!(r.verdict.class(), Class::NotEstablished);
    let r = verdict_of(|c| {
        c.prop(Role::AsWritten, "written", "c = 1", 1.0)
            .check("coefficient", coefficient)
            .mutant("other", "another wrong form", 2.0);
    });
    assert!(
        matches!(&r.findings.mutants[0].counting, Counting::Void(w) if w.contains("does not hold"))
    );
    assert_eq!(r.verdict.class(), Class::NotEstablished);
}

/// Wrong as written, corrected: the as-written form fails, the corrected one holds and refutes
/// its mutants. A mutant of the correction that is the as-written form again, refuted by the same
/// failure, adds no power and does not count.
#[test]
fn wrong_as_written_corrected_and_the_restated_failure_is_void() {
    let r = verdict_of(|c| {
        c.prop(Role::AsWritten, "written", "c = 1", 1.0)
            .check("coefficient", coefficient);
        c.prop(Role::Corrected, "corrected", "c = 1/2", 0.5)
            .check("coefficient", coefficient)
            .mutant("wrong_sign", "sign flipped", -0.5);
    });
    assert_eq!(r.verdict, Verdict::WrongAsWrittenCorrected, "{}", r.summary);
    let r = verdict_of(|c| {
        c.prop(Role::AsWritten, "written", "c = 1", 1.0)
            .check("coefficient", coefficient);
        c.prop(Role::Corrected, "corrected", "c = 1/2", 0.5)
            .check("coefficient", coefficient)
            .mutant("as_written", "the claim as written", 1.0);
    });
    assert!(
        matches!(&r.findings.mutants[0].counting, Counting::Void(w) if w.contains("as-written")),
        "{:?}",
        r.findings.mutants[0].counting
    );
    assert_eq!(r.verdict.class(), Class::NotEstablished);
}

/// Fails as written, with no correction but a precise statement that holds: refuted. With a
/// statement under added conditions that holds: holds under conditions.
#[test]
fn refuted_and_holds_under_conditions() {
    let r = verdict_of(|c| {
        c.prop(Role::AsWritten, "written", "c = 1", 1.0)
            .check("coefficient", coefficient);
        c.prop(Role::Precise, "precise", "c = 1/2", 0.5)
            .check("coefficient", coefficient)
            .mutant("wrong_sign", "sign flipped", -0.5);
    });
    assert_eq!(r.verdict, Verdict::Refuted, "{}", r.summary);
    let r = verdict_of(|c| {
        c.prop(Role::AsWritten, "written", "c = 1", 1.0)
            .check("coefficient", coefficient);
        c.prop(Role::UnderConditions, "conditions", "c = 1/2 if …", 0.5)
            .check("coefficient", coefficient)
            .mutant("wrong_sign", "sign flipped", -0.5);
        c.prop(Role::Corrected, "corrected", "c = 1/2", 0.5)
            .check("coefficient", coefficient)
            .mutant("wrong_sign", "sign flipped", -0.5);
    });
    assert_eq!(r.verdict, Verdict::HoldsUnderConditions, "{}", r.summary);
}

/// A check that computes nothing fails; so does one that panics; a check failing on its own form
/// refutes no mutant.
#[test]
fn empty_and_panicking_checks_fail() {
    let r = verdict_of(|c| {
        c.prop(Role::AsWritten, "written", "c = 1/2", 0.5)
            .check("nothing", |_run, _c| Ok("claims success".into()))
            .check("coefficient", coefficient)
            .mutant("drops_half", "the ½ dropped", 1.0);
    });
    let nothing = &r.findings.propositions[0].checks[0];
    assert!(nothing.outcome.fails());
    assert!(
        nothing.outcome.detail().contains("no cases"),
        "{}",
        nothing.outcome.detail()
    );
    // The statement fails, so its mutant cannot count: nothing is established.
    assert_eq!(r.verdict.class(), Class::NotEstablished, "{}", r.summary);
    // The mutant's failure of `nothing` is not evidence: it is recorded as such.
    let m = &r.findings.mutants[0];
    assert!(!m.checks[0].outcome.ran() && m.checks[0].outcome.detail().contains("not evidence"));
    let r = verdict_of(|c| {
        c.prop(Role::AsWritten, "written", "c = 1/2", 0.5)
            .check("panics", |run, _c| {
                run.count(1);
                let v: Vec<u8> = Vec::new();
                Ok(format!("{}", v[usize::from(run.prec() > 0)]))
            });
    });
    let p = &r.findings.propositions[0].checks[0];
    assert!(
        p.outcome.fails() && p.outcome.detail().contains("panicked"),
        "{}",
        p.outcome.detail()
    );
}

/// A seeded check records its base and derived seed; the derivation depends on the claim and the
/// check and on nothing else.
#[test]
fn seeds_are_derived_per_claim_and_check() {
    let s = derive_seed(1, "a", "x");
    assert_eq!(s, derive_seed(1, "a", "x"));
    assert_ne!(s, derive_seed(2, "a", "x"));
    assert_ne!(s, derive_seed(1, "b", "x"));
    assert_ne!(s, derive_seed(1, "a", "y"));
    assert_ne!(
        derive_seed(1, "ab", "c"),
        derive_seed(1, "a", "bc"),
        "no ambiguity at the join"
    );
    let r = verdict_of(|c| {
        c.prop(Role::AsWritten, "written", "c = 1/2", 0.5)
            .check("coefficient", |run, c| {
                let _ = run.seed();
                coefficient(run, c)
            })
            .mutant("drops_half", "the ½ dropped", 1.0);
    });
    let Method::Numeric {
        seed: Some(seed), ..
    } = &r.findings.propositions[0].checks[0].method
    else {
        panic!("a seeded check records its seed");
    };
    assert_eq!(seed.base, cfg().seed);
    assert_eq!(seed.derived, derive_seed(cfg().seed, "toy", "coefficient"));
}

/// Symbolic checks: a proof up to d_max reports that reach; an argument that holds reaches every
/// d and names what it cites; a symbolic check that did not run establishes nothing.
#[test]
fn proofs_report_their_reach() {
    fn sym_ok(scope_d: usize) -> impl Fn(&f64) -> Option<SymThunk> {
        move |c: &f64| -> Option<SymThunk> {
            let c = *c;
            Some(Box::new(move || {
                if c == 0.5 {
                    Ok(format!("identity for d ≤ {scope_d}"))
                } else {
                    Err(format!("c = {c}"))
                }
            }))
        }
    }
    let available = sslproof::sym::run(|| ()).is_ok();
    let r = verdict_of(|c| {
        c.prop(Role::AsWritten, "written", "c = 1/2", 0.5)
            .symbolic("identity", Scope::UpToD { d_max: 3 }, sym_ok(3))
            .check("coefficient", coefficient)
            .mutant("drops_half", "the ½ dropped", 1.0);
    });
    let r2 = verdict_of(|c| {
        c.prop(Role::AsWritten, "written", "c = 1/2", 0.5)
            .symbolic("identity", Scope::UpToD { d_max: 3 }, sym_ok(3))
            .symbolic("scalar_lemma", Scope::DimensionFree, sym_ok(0))
            .check("coefficient", coefficient)
            .argument(
                "for every d",
                vec![
                    ArgSpec::cited(
                        "reduce to eigenvalues",
                        "spectral theorem",
                        "Horn & Johnson",
                    ),
                    ArgSpec::checked("the scalar identity", "scalar_lemma"),
                ],
            )
            .mutant("drops_half", "the ½ dropped", 1.0);
    });
    if available {
        assert_eq!(
            r.verdict,
            Verdict::Proved {
                reach: Reach::UpToD { d_max: 3 }
            }
        );
        assert_eq!(r.verdict.to_string(), "proved for d ≤ 3");
        assert_eq!(
            r2.verdict,
            Verdict::Proved {
                reach: Reach::Argued {
                    computed: Some(3),
                    cited: vec!["spectral theorem".into()]
                }
            }
        );
        assert_eq!(
            r2.verdict.to_string(),
            "proved for d ≤ 3; for every d by argument (spectral theorem, cited)"
        );
    } else {
        // Without symbolica the symbolic checks read "not run": numerics alone.
        assert_eq!(r.verdict, Verdict::VerifiedNumerically);
        assert!(!r.findings.propositions[0].checks[0].outcome.ran());
    }
    // Only a symbolic check, and it cannot run: nothing ran, nothing established.
    let r3 = verdict_of(|c| {
        c.prop(Role::AsWritten, "written", "c = 1/2", 0.5)
            .symbolic("identity", Scope::UpToD { d_max: 3 }, |_c: &f64| None)
            .mutant("drops_half", "the ½ dropped", 1.0);
    });
    assert_eq!(r3.verdict.class(), Class::NotEstablished, "{}", r3.verdict);
    assert!(matches!(
        &r3.findings.mutants[0].counting,
        Counting::Void(_) | Counting::NotRun(_)
    ));
}

/// An argument whose checked step fails does not hold, and its proposition fails.
#[test]
fn an_argument_with_a_failing_step_fails() {
    let r = verdict_of(|c| {
        c.prop(Role::AsWritten, "written", "c = 1/2", 0.5)
            .check("coefficient", coefficient)
            .check("lemma", |run, _c| {
                run.count(1);
                Err("the lemma's counterexample".into())
            })
            .argument("for every d", vec![ArgSpec::checked("the lemma", "lemma")])
            .mutant("drops_half", "the ½ dropped", 1.0);
    });
    let p = &r.findings.propositions[0];
    assert!(!p.argument.as_ref().unwrap().holds());
    assert!(p.fails());
    assert_eq!(r.verdict.class(), Class::NotEstablished, "{}", r.verdict);
}

/// Interpretive claims: the precise statements must hold; a reading that fails contradicts the
/// interpretation. Empirical claims are reported as such.
#[test]
fn interpretive_and_empirical_claims() {
    const I: Claim = toy("interp", Nature::Interpretive);
    let body_ok: fn(&mut ClaimRun) = |c| {
        c.prop(Role::Precise, "precise", "c = 1/2", 0.5)
            .check("coefficient", coefficient)
            .mutant("drops_half", "the ½ dropped", 1.0);
        c.prop(Role::Reading, "reading", "it reads c = 1/2", 0.5)
            .check("coefficient", coefficient);
    };
    let body_bad: fn(&mut ClaimRun) = |c| {
        c.prop(Role::Precise, "precise", "c = 1/2", 0.5)
            .check("coefficient", coefficient)
            .mutant("drops_half", "the ½ dropped", 1.0);
        c.prop(Role::Reading, "reading", "it reads c = 1", 1.0)
            .check("coefficient", coefficient);
    };
    let run = |b| sslproof::claim::run::run_claim(&I, b, &cfg()).verdict;
    assert_eq!(run(body_ok), Verdict::Interpretive);
    assert_eq!(run(body_bad), Verdict::InterpretationContradicted);
    const E: Claim = toy("emp", Nature::Empirical);
    let r = sslproof::claim::run::run_claim(
        &E,
        |c| {
            c.prop(Role::Precise, "measured", "loss decreases", 0.5)
                .double("coefficient", coefficient);
        },
        &cfg(),
    );
    assert_eq!(r.verdict, Verdict::Empirical);
}

/// One pass of modified Gram–Schmidt keeps random rotations orthogonal to near working precision:
/// worst `‖QᵀQ − I‖_max` over 200 seeds at n = 8 and 5 seeds at n = 64, at 256 bits.
#[test]
fn orthogonality_of_one_mgs_pass() {
    let mut worst = u32::MAX;
    for (n, seeds) in [(8usize, 200u64), (64, 5)] {
        for seed in 0..seeds {
            let q = Sampler::new(seed, 256).orthogonal(n);
            let r = q
                .transpose()
                .mul(&q)
                .unwrap()
                .sub(&Mat::identity(n, 256))
                .unwrap();
            worst = worst.min(bits_below(&r.max_abs()));
        }
    }
    // Tol::linalg(256, 64, 0) asks for 256 − 16 − 21 = 219 bits of the checks built on these.
    assert!(worst >= 230, "QᵀQ − I only below 2^-{worst}");
    eprintln!("worst orthogonality: 2^-{worst}");
}

/// The texts that every report prints (role names, scopes, methods) and the argument helpers the
/// verdict uses: an argument holds when every checked step holds (cited steps do not count
/// against it), lists its cited lemmas by name, and a failing argument makes its proposition fail.
#[test]
fn report_texts_and_argument_helpers() {
    let names: Vec<&str> = [
        Role::AsWritten,
        Role::UnderConditions,
        Role::Corrected,
        Role::Precise,
        Role::Reading,
        Role::Approximation,
    ]
    .iter()
    .map(|r| r.name())
    .collect();
    assert_eq!(
        names,
        [
            "as written",
            "under conditions",
            "corrected",
            "precise statement",
            "reading",
            "approximation"
        ]
    );
    assert_eq!(Scope::UpToD { d_max: 6 }.to_string(), "for d ≤ 6");
    assert_eq!(Scope::DimensionFree.to_string(), "dimension-free");
    let seed = Some(Seed {
        base: 1,
        derived: 255,
    });
    assert_eq!(
        Method::Symbolic {
            scope: Scope::DimensionFree
        }
        .to_string(),
        "symbolic, dimension-free"
    );
    assert_eq!(
        Method::Numeric {
            prec: 256,
            cases: 10,
            seed
        }
        .to_string(),
        "256-bit, 10 cases, seed 0xff (from 0x1)"
    );
    assert_eq!(
        Method::Statistical {
            level: 0.999,
            cases: 5,
            seed: None
        }
        .to_string(),
        "test at level 0.999, 5 samples"
    );
    assert_eq!(
        Method::Double {
            cases: 3,
            seed: None
        }
        .to_string(),
        "IEEE double, 3 cases"
    );
    assert_eq!(
        Method::Measured { prec: 128 }.to_string(),
        "measured, 128-bit"
    );
    let cited = ArgStep::Cited {
        text: "a lemma".into(),
        lemma: Lemma {
            name: "spectral theorem".into(),
            source: "Horn & Johnson".into(),
        },
    };
    let checked = |holds| ArgStep::Checked {
        text: "a step".into(),
        check: "a check".into(),
        method: None,
        holds,
    };
    let good = Argument {
        conclusion: "for every d".into(),
        steps: vec![cited.clone(), checked(true)],
    };
    assert!(good.holds());
    assert_eq!(good.cited(), ["spectral theorem"]);
    let bad = Argument {
        conclusion: "for every d".into(),
        steps: vec![cited, checked(false)],
    };
    assert!(!bad.holds());
    let prop = |argument| Proposition {
        role: Role::AsWritten,
        name: "p".into(),
        statement: String::new(),
        form: String::new(),
        checks: Vec::new(),
        argument,
    };
    assert!(prop(Some(bad)).fails());
    assert!(!prop(Some(good)).fails());
    assert!(!prop(None).fails());
}

/// Experimental claims (training findings checked in a miniature): "reproduced in miniature" when
/// the as-written statements hold, "not reproduced in miniature" when they fail with nothing
/// else holding, "holds under conditions" when a condition's statement holds; never "proved" or
/// "verified numerically", and never "refuted".
#[test]
fn experimental_claims_are_scoped_to_the_miniature() {
    const X: Claim = toy("exp", Nature::Experimental);
    let run = |b: fn(&mut ClaimRun)| sslproof::claim::run::run_claim(&X, b, &cfg());
    let holds: fn(&mut ClaimRun) = |c| {
        c.prop(Role::AsWritten, "finding", "c = 1/2", 0.5)
            .double("coefficient", coefficient)
            .mutant("drops_half", "the ½ dropped", 1.0);
    };
    let r = run(holds);
    assert_eq!(r.verdict, Verdict::ReproducedInMiniature);
    assert_eq!(r.verdict.to_string(), "reproduced in miniature");
    assert!(r.summary.contains("finding"), "{}", r.summary);
    let fails: fn(&mut ClaimRun) = |c| {
        c.prop(Role::AsWritten, "finding", "c = 1", 1.0)
            .double("coefficient", coefficient);
        c.prop(Role::Precise, "measured", "c = 1/2", 0.5)
            .double("measured coefficient", coefficient)
            .mutant("drops_half", "the ½ dropped", 1.0);
    };
    let r = run(fails);
    assert_eq!(r.verdict, Verdict::NotReproducedInMiniature);
    assert!(
        r.summary
            .starts_with("not reproduced in miniature: finding"),
        "{}",
        r.summary
    );
    let conditional: fn(&mut ClaimRun) = |c| {
        c.prop(Role::AsWritten, "finding", "c = 1", 1.0)
            .double("coefficient", coefficient);
        c.prop(Role::UnderConditions, "with a condition", "c = 1/2", 0.5)
            .double("coefficient under the condition", coefficient)
            .mutant("drops_half", "the ½ dropped", 1.0);
    };
    assert_eq!(run(conditional).verdict, Verdict::HoldsUnderConditions);
}
