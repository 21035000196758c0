//! Our side of `benches/compare/losses.sh`: the f64 reference loss and gradient of the coding rate
//! (batch-dimension form, chosen automatically since d > B) and of VICReg (official; covariance
//! term through the B × B Gram matrix) at (B, d) = (512, 2048) and (512, 8192), best of N runs,
//! printed as one JSON line. Inputs are the same deterministic pattern as the Python side.

use std::time::Instant;

use nalgebra::DMatrix;
use sslproof_losses::{coding_rate, vicreg};

fn pattern(b: usize, d: usize, a: usize, c: usize, m: usize) -> DMatrix<f64> {
    DMatrix::from_fn(b, d, |i, j| ((i * a + j * c) % m) as f64 / m as f64 - 0.5)
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
    let reps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let mut rows = Vec::new();
    for d in [2048usize, 8192] {
        let b = 512;
        let z1 = pattern(b, d, 31, 17, 97);
        let z2 = pattern(b, d, 29, 13, 89);
        let cr = coding_rate::Knobs::new(0.2, coding_rate::RateWeight::Mcr2);
        let (t_cr, v_cr) = best_of(reps, || {
            let o = coding_rate::float(&z1, &cr).unwrap();
            o.value + o.grads[0][(0, 0)]
        });
        let (t_v, v_v) = best_of(reps, || {
            let o = vicreg::float(&z1, &z2, &vicreg::Knobs::official()).unwrap();
            o.value + o.grads[0][(0, 0)]
        });
        rows.push(format!(
            "\"{d}\": {{\"coding_rate\": {t_cr}, \"coding_rate_check\": {v_cr}, \"vicreg\": {t_v}, \"vicreg_check\": {v_v}}}"
        ));
    }
    println!("{{{}}}", rows.join(", "));
}
