//! Seeded samplers: SPD matrices with a prescribed spectrum, batches and unit vectors.
//!
//! Every random number comes from ChaCha20 seeded by a `u64`, turned into MPFR floats without any
//! `f64` library call (Box–Muller is evaluated by MPFR, which rounds correctly), so a seed gives
//! bit-identical matrices on every machine.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rug::Float;
use rug::float::Constant;

use super::Mat;

/// A seeded generator of high-precision random numbers.
pub struct Sampler {
    rng: ChaCha20Rng,
    prec: u32,
}

impl Sampler {
    /// A generator for `prec`-bit numbers from `seed`.
    pub fn new(seed: u64, prec: u32) -> Self {
        Sampler {
            rng: ChaCha20Rng::seed_from_u64(seed),
            prec,
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

    /// A `rows × cols` matrix of independent standard normals.
    pub fn gaussian(&mut self, rows: usize, cols: usize) -> Mat {
        let prec = self.prec;
        Mat::from_fn(rows, cols, prec, |_, _| self.normal())
    }

    /// A random orthogonal matrix: Gram–Schmidt (twice, for orthogonality to working precision)
    /// on a Gaussian matrix, with column signs fixed by the diagonal of `R`, which makes it
    /// Haar-distributed.
    pub fn orthogonal(&mut self, n: usize) -> Mat {
        let g = self.gaussian(n, n);
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
    let mut out = Mat::zeros(n, n, prec);
    for i in 0..n {
        for j in i..n {
            let mut s = Float::new(prec);
            for (k, l) in spectrum.iter().enumerate() {
                let t = Float::with_val(prec, q.at(i, k) * q.at(j, k));
                s += t * l;
            }
            *out.at_mut(i, j) = s.clone();
            *out.at_mut(j, i) = s;
        }
    }
    out
}

/// Orthonormalise the columns of a square matrix by twice-repeated modified Gram–Schmidt.
pub fn orthonormalize_columns(g: &Mat) -> Mat {
    let n = g.rows();
    let prec = g.prec();
    let mut q = g.clone();
    let mut signs = vec![1i32; n];
    for pass in 0..2 {
        for j in 0..n {
            for k in 0..j {
                let mut dot = Float::new(prec);
                for r in 0..n {
                    dot += q.at(r, k) * q.at(r, j);
                }
                for r in 0..n {
                    let t = Float::with_val(prec, &dot * q.at(r, k));
                    *q.at_mut(r, j) -= t;
                }
            }
            let mut norm = Float::new(prec);
            for r in 0..n {
                norm += q.at(r, j) * q.at(r, j);
            }
            let norm = norm.sqrt();
            for r in 0..n {
                *q.at_mut(r, j) /= &norm;
            }
            if pass == 0 {
                // sign of R_jj is positive by construction; keep Haar measure by a random-free rule:
                // nothing to flip (Gram–Schmidt already gives R_jj > 0).
                signs[j] = 1;
            }
        }
    }
    q
}
