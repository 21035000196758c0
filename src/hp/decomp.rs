//! LU (partial pivoting), Cholesky and the symmetric Jacobi eigendecomposition, with the
//! determinant, log-determinant, solve and inverse built on them.

use rug::Float;

use super::LinalgError;
use super::mat::{AssignFrom, Mat};

/// `PA = LU` with partial pivoting, stored compactly (unit lower `L` below the diagonal).
#[derive(Clone, Debug)]
pub struct Lu {
    lu: Mat,
    perm: Vec<usize>,
    swaps: usize,
}

impl Mat {
    /// LU decomposition with partial pivoting. Fails on an exactly zero pivot (singular matrix).
    pub fn lu(&self) -> Result<Lu, LinalgError> {
        self.require_square("lu")?;
        self.require_finite()?;
        let n = self.rows();
        let prec = self.prec();
        let mut a = self.clone();
        let mut perm: Vec<usize> = (0..n).collect();
        let mut swaps = 0;
        let mut factor = Float::new(prec);
        for k in 0..n {
            let mut p = k;
            for i in (k + 1)..n {
                if a.at(i, k).cmp_abs(a.at(p, k)) == Some(std::cmp::Ordering::Greater) {
                    p = i;
                }
            }
            if a.at(p, k).is_zero() {
                return Err(LinalgError::Singular { col: k });
            }
            if p != k {
                for j in 0..n {
                    let (x, y) = (p * n + j, k * n + j);
                    a.swap_entries(x, y);
                }
                perm.swap(p, k);
                swaps += 1;
            }
            for i in (k + 1)..n {
                factor.assign_from(a.at(i, k));
                factor /= a.at(k, k);
                a.at_mut(i, k).assign_from(&factor);
                for j in (k + 1)..n {
                    let (left, right) = a.split_rows(i, k);
                    left[j] -= &factor * &right[j];
                }
            }
        }
        Ok(Lu { lu: a, perm, swaps })
    }

    /// Cholesky factor `L` with `A = L Lᵀ`. The matrix must be symmetric (to a relative tolerance
    /// of `2^(−prec/2)` of its largest entry) and positive definite; the error says which.
    pub fn cholesky(&self) -> Result<Cholesky, LinalgError> {
        self.require_square("cholesky")?;
        let prec = self.prec();
        self.require_symmetric(&(Float::with_val(prec, 1) >> (prec / 2)))?;
        let n = self.rows();
        let mut l = Mat::zeros(n, n, prec);
        let mut s = Float::new(prec);
        for j in 0..n {
            s.assign_from(self.at(j, j));
            for k in 0..j {
                s -= l.at(j, k) * l.at(j, k);
            }
            if s <= 0 {
                return Err(LinalgError::NotPositiveDefinite {
                    pivot: j,
                    value: s.to_f64(),
                });
            }
            let d = s.clone().sqrt();
            for i in (j + 1)..n {
                s.assign_from(self.at(i, j));
                for k in 0..j {
                    s -= l.at(i, k) * l.at(j, k);
                }
                s /= &d;
                l.at_mut(i, j).assign_from(&s);
            }
            l.at_mut(j, j).assign_from(&d);
        }
        Ok(Cholesky { l })
    }

    /// `det A` by LU.
    pub fn det(&self) -> Result<Float, LinalgError> {
        match self.lu() {
            Ok(lu) => Ok(lu.det()),
            Err(LinalgError::Singular { .. }) => Ok(Float::new(self.prec())),
            Err(e) => Err(e),
        }
    }

    /// `log det A` for a symmetric positive definite `A`, by Cholesky (`2 Σ log L_ii`).
    pub fn logdet_spd(&self) -> Result<Float, LinalgError> {
        Ok(self.cholesky()?.logdet())
    }

    /// Solve `A X = B`.
    pub fn solve(&self, b: &Mat) -> Result<Mat, LinalgError> {
        self.lu()?.solve(b)
    }

    /// `A⁻¹`.
    pub fn inverse(&self) -> Result<Mat, LinalgError> {
        self.lu()?.solve(&Mat::identity(self.rows(), self.prec()))
    }

    fn swap_entries(&mut self, x: usize, y: usize) {
        self.data_mut().swap(x, y);
    }

    /// Row `i` mutably and row `k` immutably (`i ≠ k`).
    fn split_rows(&mut self, i: usize, k: usize) -> (&mut [Float], &[Float]) {
        let n = self.cols();
        let data = self.data_mut();
        assert_ne!(i, k);
        if i > k {
            let (top, bottom) = data.split_at_mut(i * n);
            (&mut bottom[..n], &top[k * n..k * n + n])
        } else {
            let (top, bottom) = data.split_at_mut(k * n);
            (&mut top[i * n..i * n + n], &bottom[..n])
        }
    }
}

impl Lu {
    /// `det A = (−1)^swaps Π U_ii`.
    pub fn det(&self) -> Float {
        let n = self.lu.rows();
        let mut d = Float::with_val(self.lu.prec(), 1);
        for i in 0..n {
            d *= self.lu.at(i, i);
        }
        if self.swaps % 2 == 1 {
            d = -d;
        }
        d
    }

    /// `log |det A|` and the sign of `det A`.
    pub fn log_abs_det(&self) -> (Float, i32) {
        let n = self.lu.rows();
        let mut s = Float::new(self.lu.prec());
        let mut sign = if self.swaps % 2 == 1 { -1 } else { 1 };
        for i in 0..n {
            let u = self.lu.at(i, i);
            if u.is_sign_negative() {
                sign = -sign;
            }
            s += u.clone().abs().ln();
        }
        (s, sign)
    }

    /// Solve `A X = B`.
    pub fn solve(&self, b: &Mat) -> Result<Mat, LinalgError> {
        let n = self.lu.rows();
        if b.rows() != n {
            return Err(LinalgError::ShapeMismatch {
                op: "solve",
                left: (n, n),
                right: (b.rows(), b.cols()),
            });
        }
        let prec = self.lu.prec();
        let m = b.cols();
        let mut x = Mat::from_fn(n, m, prec, |i, j| b.at(self.perm[i], j).clone());
        for c in 0..m {
            for i in 0..n {
                let mut s = x.at(i, c).clone();
                for k in 0..i {
                    s -= self.lu.at(i, k) * x.at(k, c);
                }
                x.at_mut(i, c).assign_from(&s);
            }
            for i in (0..n).rev() {
                let mut s = x.at(i, c).clone();
                for k in (i + 1)..n {
                    s -= self.lu.at(i, k) * x.at(k, c);
                }
                s /= self.lu.at(i, i);
                x.at_mut(i, c).assign_from(&s);
            }
        }
        Ok(x)
    }
}

/// `A = L Lᵀ`.
#[derive(Clone, Debug)]
pub struct Cholesky {
    l: Mat,
}

impl Cholesky {
    /// The lower-triangular factor.
    pub fn l(&self) -> &Mat {
        &self.l
    }
    /// `log det A = 2 Σ log L_ii`.
    ///
    /// Computed as one logarithm of the product of the pivots: MPFR's exponent range (±2³⁰ bits)
    /// rules out overflow, the product adds at most `n` roundings, and `n` logarithms (about 3 µs
    /// each at 256 bits) become one.
    pub fn logdet(&self) -> Float {
        let mut p = Float::with_val(self.l.prec(), 1);
        for i in 0..self.l.rows() {
            p *= self.l.at(i, i);
        }
        p.ln() * 2u32
    }
}

/// `A = V diag(λ) Vᵀ` for symmetric `A`, eigenvalues ascending, eigenvectors in the columns of `V`.
#[derive(Clone, Debug)]
pub struct SymEigen {
    pub values: Vec<Float>,
    pub vectors: Mat,
    /// Jacobi sweeps used.
    pub sweeps: usize,
}

/// The most cyclic Jacobi sweeps before giving up. Convergence is quadratic once the
/// off-diagonal mass is small, so 256-bit accuracy takes about 10 sweeps for n ≤ 128.
pub const MAX_JACOBI_SWEEPS: usize = 60;

impl Mat {
    /// Symmetric eigendecomposition by cyclic Jacobi rotations, to the working precision:
    /// it stops when the off-diagonal Frobenius norm is below `2^(−prec)·‖A‖_F`.
    pub fn sym_eigen(&self) -> Result<SymEigen, LinalgError> {
        self.require_square("sym_eigen")?;
        let prec = self.prec();
        self.require_symmetric(&(Float::with_val(prec, 1) >> (prec / 2)))?;
        let n = self.rows();
        let mut a = self.symmetrize()?;
        let mut v = Mat::identity(n, prec);
        let target = Float::with_val(prec, self.frobenius_sq().sqrt() >> prec);
        let (mut theta, mut t, mut c, mut s, mut tmp) = (
            Float::new(prec),
            Float::new(prec),
            Float::new(prec),
            Float::new(prec),
            Float::new(prec),
        );
        let mut sweeps = 0;
        loop {
            let mut off = Float::new(prec);
            for p in 0..n {
                for q in (p + 1)..n {
                    off += a.at(p, q) * a.at(p, q);
                }
            }
            let off = Float::with_val(prec, off * 2u32).sqrt();
            if off <= target || n == 1 {
                break;
            }
            if sweeps == MAX_JACOBI_SWEEPS {
                return Err(LinalgError::NoConvergence {
                    what: "Jacobi eigendecomposition",
                    iterations: sweeps,
                });
            }
            sweeps += 1;
            for p in 0..n {
                for q in (p + 1)..n {
                    if a.at(p, q).is_zero() {
                        continue;
                    }
                    // θ = (a_qq − a_pp) / (2 a_pq); t = sign(θ) / (|θ| + √(θ²+1)); c = 1/√(t²+1); s = tc.
                    theta.assign_from(a.at(q, q));
                    theta -= a.at(p, p);
                    tmp.assign_from(a.at(p, q));
                    tmp *= 2u32;
                    theta /= &tmp;
                    tmp.assign_from(&theta);
                    tmp.square_mut();
                    tmp += 1u32;
                    tmp.sqrt_mut();
                    tmp += &*theta.as_abs();
                    t.assign_from(&tmp);
                    t.recip_mut();
                    if theta.is_sign_negative() {
                        t = -t;
                    }
                    c.assign_from(&t);
                    c.square_mut();
                    c += 1u32;
                    c.sqrt_mut();
                    c.recip_mut();
                    s.assign_from(&t);
                    s *= &c;
                    // a_pp −= t a_pq; a_qq += t a_pq; a_pq = 0.
                    tmp.assign_from(a.at(p, q));
                    tmp *= &t;
                    *a.at_mut(p, p) -= &tmp;
                    *a.at_mut(q, q) += &tmp;
                    a.at_mut(p, q).assign_from(&Float::new(prec));
                    a.at_mut(q, p).assign_from(&Float::new(prec));
                    for r in 0..n {
                        if r == p || r == q {
                            continue;
                        }
                        let arp = a.at(r, p).clone();
                        let arq = a.at(r, q).clone();
                        let new_rp =
                            Float::with_val(prec, &c * &arp) - Float::with_val(prec, &s * &arq);
                        let new_rq =
                            Float::with_val(prec, &s * &arp) + Float::with_val(prec, &c * &arq);
                        a.at_mut(r, p).assign_from(&new_rp);
                        a.at_mut(p, r).assign_from(&new_rp);
                        a.at_mut(r, q).assign_from(&new_rq);
                        a.at_mut(q, r).assign_from(&new_rq);
                    }
                    for r in 0..n {
                        let vrp = v.at(r, p).clone();
                        let vrq = v.at(r, q).clone();
                        let new_rp =
                            Float::with_val(prec, &c * &vrp) - Float::with_val(prec, &s * &vrq);
                        let new_rq =
                            Float::with_val(prec, &s * &vrp) + Float::with_val(prec, &c * &vrq);
                        v.at_mut(r, p).assign_from(&new_rp);
                        v.at_mut(r, q).assign_from(&new_rq);
                    }
                }
            }
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&i, &j| {
            a.at(i, i)
                .partial_cmp(a.at(j, j))
                .expect("finite eigenvalues")
        });
        let values = order.iter().map(|&i| a.at(i, i).clone()).collect();
        let vectors = Mat::from_fn(n, n, prec, |r, c| v.at(r, order[c]).clone());
        Ok(SymEigen {
            values,
            vectors,
            sweeps,
        })
    }
}
