//! Seeded samplers: SPD matrices with a prescribed spectrum, batches and unit vectors.
//!
//! Every random number comes from ChaCha20 seeded by a `u64`, turned into MPFR floats without any
//! `f64` library call (Box–Muller is evaluated by MPFR, which rounds correctly), so a seed gives
//! bit-identical matrices on every machine.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rug::float::Constant;
use rug::{Assign, Float};

use super::Mat;

/// A seeded generator of high-precision random numbers.
pub struct Sampler {
    rng: ChaCha20Rng,
    prec: u32,
    /// The second output of the last low-precision Box–Muller pair.
    spare: Option<Float>,
}

/// Precision of the Gaussian entries drawn for random rotations. Gram–Schmidt at the working
/// precision makes `Q` orthogonal to working precision whatever the entries' precision; the entries
/// only need to be random. Drawing them at 64 bits makes sampling about 5× cheaper at 256 bits.
pub const ROTATION_ENTRY_PREC: u32 = 64;

impl Sampler {
    /// A generator for `prec`-bit numbers from `seed`.
    pub fn new(seed: u64, prec: u32) -> Self {
        Sampler {
            rng: ChaCha20Rng::seed_from_u64(seed),
            prec,
            spare: None,
        }
    }

    pub fn prec(&self) -> u32 {
        self.prec
    }

    /// The next raw 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        rand_core::Rng::next_u64(&mut self.rng)
    }

    /// Uniform on the open interval (0, 1), with `prec` random bits (exactly representable).
    pub fn uniform(&mut self) -> Float {
        loop {
            let mut x = Float::new(self.prec);
            let mut bits = 0;
            while bits < self.prec {
                let w = self.next_u64();
                bits += 64;
                // x += w · 2^(−bits)
                x += Float::with_val(self.prec, w) >> bits;
            }
            if !x.is_zero() {
                return x;
            }
        }
    }

    /// Uniform integer in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0);
        // Rejection sampling keeps it exactly uniform.
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let w = self.next_u64();
            if w < zone {
                return w % n;
            }
        }
    }

    /// Standard normal by Box–Muller, evaluated in MPFR.
    pub fn normal(&mut self) -> Float {
        let u1 = self.uniform();
        let u2 = self.uniform();
        let r = (u1.ln() * -2i32).sqrt();
        let two_pi = Float::with_val(self.prec, Constant::Pi) * 2u32;
        let angle = two_pi * u2;
        r * angle.cos()
    }

    /// A standard normal at precision `p` by Marsaglia's polar method (no trigonometric calls):
    /// `(u, v)` uniform in the unit disc, `s = u² + v²`, then `u·f` and `v·f` with
    /// `f = sqrt(−2 ln s / s)` are two independent normals; the second is kept for the next call.
    pub fn normal_at(&mut self, p: u32) -> Float {
        if let Some(x) = self.spare.take() {
            return x;
        }
        loop {
            // Uniform in (−1, 1) on 53 bits: exact in MPFR at any p ≥ 53.
            let mut sym = || (Float::with_val(p, self.next_u64() >> 11) >> 52u32) - 1u32;
            let (u, v) = (sym(), sym());
            let s = Float::with_val(p, u.square_ref()) + Float::with_val(p, v.square_ref());
            if s.is_zero() || s >= 1 {
                continue;
            }
            let f = (Float::with_val(p, s.ln_ref()) * -2i32 / &s).sqrt();
            self.spare = Some(Float::with_val(p, &v * &f));
            return u * f;
        }
    }

    /// A `rows × cols` matrix of independent standard normals.
    pub fn gaussian(&mut self, rows: usize, cols: usize) -> Mat {
        let prec = self.prec;
        Mat::from_fn(rows, cols, prec, |_, _| self.normal())
    }

    /// A random orthogonal matrix: Gram–Schmidt (twice, for orthogonality to working precision)
    /// on a Gaussian matrix, with column signs fixed by the diagonal of `R`, which makes it
    /// Haar-distributed.
    pub fn orthogonal(&mut self, n: usize) -> Mat {
        let prec = self.prec;
        let g = Mat::from_fn(n, n, prec, |_, _| self.normal_at(ROTATION_ENTRY_PREC));
        self.spare = None;
        orthonormalize_columns(&g)
    }

    /// A unit vector, uniform on the sphere `S^{d−1}`.
    pub fn unit_vector(&mut self, d: usize) -> Vec<Float> {
        loop {
            let v: Vec<Float> = (0..d).map(|_| self.normal()).collect();
            let mut n2 = Float::new(self.prec);
            for x in &v {
                n2 += x * x;
            }
            if n2.is_zero() {
                continue;
            }
            let n = n2.sqrt();
            return v.into_iter().map(|x| x / &n).collect();
        }
    }

    /// A symmetric matrix `Q diag(λ) Qᵀ` with the given spectrum and a random orthogonal `Q`.
    pub fn with_spectrum(&mut self, spectrum: &[Float]) -> Mat {
        let q = self.orthogonal(spectrum.len());
        conjugate_diag(&q, spectrum)
    }

    /// A random symmetric traceless direction `H` (`tr H = 0`), scaled to `‖H‖_F = 1`: the
    /// directions that keep the trace fixed.
    pub fn traceless_symmetric(&mut self, d: usize) -> Mat {
        let prec = self.prec;
        let g = self.gaussian(d, d);
        let mut h = g.add(&g.transpose()).expect("square");
        let t = Float::with_val(prec, h.trace().expect("square") / d as u64);
        for i in 0..d {
            *h.at_mut(i, i) -= &t;
        }
        let n = Float::with_val(prec, h.frobenius_sq().sqrt());
        if n.is_zero() {
            h
        } else {
            h.scale(&(Float::with_val(prec, 1) / n))
        }
    }

    /// A batch `Z ∈ R^{B×d}` of rows `x = μ + A g`, `g` standard normal, so `Cov = A Aᵀ`.
    pub fn batch(&mut self, b: usize, mean: &[Float], a: &Mat) -> Mat {
        let d = mean.len();
        let g = self.gaussian(b, a.cols());
        let ga = g.mul(&a.transpose()).expect("shapes fit by construction");
        Mat::from_fn(b, d, self.prec, |i, j| {
            Float::with_val(self.prec, ga.at(i, j) + &mean[j])
        })
    }
}

/// `Q diag(λ) Qᵀ`, symmetrised exactly (entries (i,j) and (j,i) computed once).
pub fn conjugate_diag(q: &Mat, spectrum: &[Float]) -> Mat {
    let n = spectrum.len();
    let prec = q.prec();
    // W = Q diag(λ), then Σ_ij = Σ_k W_ik Q_jk with fused multiply-adds.
    let w = Mat::from_fn(n, n, prec, |i, k| {
        Float::with_val(prec, q.at(i, k) * &spectrum[k])
    });
    let mut out = Mat::zeros(n, n, prec);
    let mut s = Float::new(prec);
    for i in 0..n {
        for j in i..n {
            s.assign(0);
            for k in 0..n {
                s += w.at(i, k) * q.at(j, k);
            }
            *out.at_mut(i, j) = s.clone();
            *out.at_mut(j, i) = s.clone();
        }
    }
    out
}

/// Passes of modified Gram–Schmidt. MGS loses orthogonality like `κ(G)·u`; for Gaussian `G` the
/// condition number is modest, and one pass leaves `‖QᵀQ − I‖` near `2^−(prec−12)` (measured in
/// `tests/engine.rs::orthogonality_of_one_mgs_pass`, which fails if it ever is not).
pub const ORTHO_PASSES: usize = 1;

/// Orthonormalise the columns of a square matrix by modified Gram–Schmidt
/// ([`ORTHO_PASSES`] passes), signs fixed by `R_jj > 0`.
pub fn orthonormalize_columns(g: &Mat) -> Mat {
    let n = g.rows();
    let prec = g.prec();
    let mut cols: Vec<Vec<Float>> = (0..n)
        .map(|j| (0..n).map(|r| g.at(r, j).clone()).collect())
        .collect();
    let mut dot = Float::new(prec);
    for _pass in 0..ORTHO_PASSES {
        for j in 0..n {
            let (done, rest) = cols.split_at_mut(j);
            let cj = &mut rest[0];
            for ck in done.iter() {
                dot.assign(0);
                for r in 0..n {
                    dot += &ck[r] * &cj[r];
                }
                for r in 0..n {
                    cj[r] -= &dot * &ck[r];
                }
            }
            dot.assign(0);
            for x in cj.iter() {
                dot += x * x;
            }
            dot.sqrt_mut();
            for x in cj.iter_mut() {
                *x /= &dot;
            }
        }
    }
    Mat::from_fn(n, n, prec, |r, j| cols[j][r].clone())
}
