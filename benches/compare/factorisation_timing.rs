//! Our side of `benches/compare/factorisations.sh`: the float32 factorisations that the checker's
//! official-algorithm runs take on a `d × d` matrix `A = I + ZᵀZ/B` (`Z` a deterministic
//! `64 × d` pattern, as the Python side builds it): LU with partial pivoting and the inverse
//! from its factors (`torch.linalg.inv`'s `getrf` + `getrs`), and Cholesky — by `dense` (blocked,
//! the products through matrixmultiply on every core) and by nalgebra (column by column), best of
//! N runs, printed as one JSON line. nalgebra is timed up to `NALGEBRA_MAX_D` only (49 s for the
//! LU and inverse at d = 4096).
//!
//!     cargo run --release --example factorisation_timing -- [REPS] [D...]

use std::collections::BTreeMap;
use std::time::Instant;

use nalgebra::DMatrix;
use sslproof_losses::dense;

const NALGEBRA_MAX_D: usize = 2048;

fn matrix(d: usize) -> DMatrix<f32> {
    let b = 64;
    let z = DMatrix::<f32>::from_fn(b, d, |i, j| {
        ((i * 7919 + j * 104729) % 1000) as f32 / 1000.0 - 0.5
    });
    let mut a = z.transpose() * &z / b as f32;
    for k in 0..d {
        a[(k, k)] += 1.0;
    }
    a
}

fn best_of(n: usize, mut f: impl FnMut() -> f64) -> (f64, f64) {
    let mut best = f64::INFINITY;
    let mut v = 0.0;
    for _ in 0..n {
        let t = Instant::now();
        v = f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    (best, v)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let reps: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(3);
    let ds: Vec<usize> = if args.len() > 1 {
        args[1..].iter().filter_map(|s| s.parse().ok()).collect()
    } else {
        vec![1024, 2048, 4096, 8192]
    };
    let mut out = BTreeMap::new();
    for d in ds {
        let a = matrix(d);
        let mut row = BTreeMap::new();
        // The checksum: the trace of the inverse, which every side must agree on.
        let (t, tr) = best_of(reps, || {
            let mut lu = a.clone();
            let ipiv = dense::lu_in_place(&mut lu).expect("A is positive definite");
            f64::from(dense::lu_inverse(&lu, &ipiv).trace())
        });
        row.insert("lu_inverse_dense", t);
        row.insert("inverse_trace", tr);
        let (t, _) = best_of(reps, || {
            f64::from(dense::cholesky(a.clone()).expect("SPD")[(d - 1, d - 1)])
        });
        row.insert("cholesky_dense", t);
        if d <= NALGEBRA_MAX_D {
            let (t, tr2) = best_of(reps, || {
                f64::from(a.clone().lu().try_inverse().expect("invertible").trace())
            });
            assert!(
                (tr - tr2).abs() < 1e-3 * tr.abs(),
                "d = {d}: traces {tr} and {tr2}"
            );
            row.insert("lu_inverse_nalgebra", t);
            let (t, _) = best_of(reps, || {
                f64::from(a.clone().cholesky().expect("SPD").l()[(d - 1, d - 1)])
            });
            row.insert("cholesky_nalgebra", t);
        }
        out.insert(d.to_string(), row);
        eprintln!("d = {d} done");
    }
    println!("{}", serde_json::to_string(&out).expect("serialisable"));
}
