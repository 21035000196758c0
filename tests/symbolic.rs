//! The symbolic layer and its single worker thread.
#![cfg(feature = "symbolic")]

use sslproof::sym;

/// Many threads at once: every job runs on the one worker, so symbolica never sees a second
/// thread (which would abort the process).
#[test]
fn concurrent_callers_share_one_worker() {
    let handles: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                sym::run(move || {
                    use sym::algebra::*;
                    let e = expr(&format!("(x+{i})^2 - x^2 - {}*x - {}", 2 * i, i * i));
                    (
                        equal(&e, &expr("0")),
                        std::thread::current().name().map(str::to_string),
                    )
                })
                .unwrap()
            })
        })
        .collect();
    for h in handles {
        let (zero, name) = h.join().unwrap();
        assert!(zero);
        assert_eq!(name.as_deref(), Some("symbolica"));
    }
}

#[test]
fn determinant_series_and_latex() {
    let (det_ok, series_ok, latex) = sym::run(|| {
        use sym::algebra::*;
        let s = SymMat::symmetric(2, "s");
        let det = s.det();
        let det_ok = equal(&det, &expr("s11*s22 - s12^2"));
        let ser = series(&log(&expr("1 + a*x")), "a", 3);
        let series_ok = equal(&ser, &expr("a*x - a^2*x^2/2 + a^3*x^3/3"));
        (det_ok, series_ok, latex(&expr("x^2/2")))
    })
    .unwrap();
    assert!(det_ok && series_ok);
    assert!(latex.contains("frac"), "{latex}");
}

/// The truncated determinant agrees with symbolica's full determinant, truncated.
#[test]
fn truncated_determinant_matches_full_determinant() {
    let ok = sym::run(|| {
        use sym::algebra::*;
        (1..=3).all(|d| {
            let s = SymMat::symmetric(d, "s");
            let full = s.affine(&expr("a"), &expr("1")).det();
            let full_trunc = series(&full, "a", 2);
            let trunc = s.det_identity_plus(2).to_atom("a");
            equal(&full_trunc, &trunc)
        })
    })
    .unwrap();
    assert!(ok);
}

/// A failing job is reported, and the worker survives it.
#[test]
fn a_panicking_job_does_not_kill_the_worker() {
    let r = sym::run(|| -> u32 { panic!("planted") });
    assert!(matches!(r, Err(sym::SymError::Panicked(ref m)) if m.contains("planted")));
    assert_eq!(sym::run(|| 41 + 1).unwrap(), 42);
}
