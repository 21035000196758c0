//! Blocked dense factorisations for the official codes' `d × d` algorithms (the coding rate's
//! feature form, CorInfoMax's covariance): LU with partial pivoting, Cholesky, and triangular
//! solves with a matrix right-hand side, in the shape of LAPACK's `getrf`, `potrf` and `trsm`
//! (panels of [`NB`] columns factorised one column at a time, the trailing matrix updated by a
//! matrix product), so that the products run through `matrixmultiply` (nalgebra's `gemm` on
//! `f32` and `f64`) on both cores.
//!
//! nalgebra's `lu()`, `cholesky()` and `solve_*_triangular` update one column at a time, on one
//! core: at d = 4096 in float32 its LU and inverse took 49 s here (3.7 GFLOP/s), which kept the
//! official algorithm to d ≤ 2048 (`coding_rate::FEATURE_FORM_MAX_D`, now 8192). These run at a
//! large part of the product's rate: LU and inverse 0.6 s at d = 2048 (nalgebra 3.4 s), 3.9 s at
//! 4096, 24 s at 8192, about 3× torch's LAPACK (`benches/compare/factorisations.sh` times them
//! beside nalgebra and PyTorch; the tests below check them against nalgebra).
//!
//! The arithmetic is that of the LAPACK algorithms: every entry is a sum of the same products,
//! in an order set by the blocking. Each column of a right-hand side is solved with its own
//! rounding, as in `getrs`/`trsm` (the property `coding_rate::lu_one_sided` models).

use nalgebra::DMatrix;

use crate::float::Real;

/// Panel width (LAPACK's default block size for `getrf` and `potrf` is 64).
pub const NB: usize = 64;

/// `LU = PA` of a square matrix, in place (unit lower `L` below the diagonal, `U` on and above
/// it), as LAPACK's `getrf`: the pivot of each column is its entry of largest magnitude on or
/// below the diagonal, and row `j` was swapped with row `ipiv[j] ≥ j` at step `j`. `None` where a
/// pivot is zero or not finite.
pub fn lu_in_place<T: Real>(a: &mut DMatrix<T>) -> Option<Vec<usize>> {
    let n = a.nrows();
    assert_eq!(n, a.ncols(), "lu_in_place: a square matrix");
    let mut ipiv = vec![0; n];
    let mut j0 = 0;
    while j0 < n {
        let jb = NB.min(n - j0);
        let s = a.as_mut_slice();
        for j in j0..j0 + jb {
            let col = &s[j * n..(j + 1) * n];
            let (mut p, mut best) = (j, col[j].abs());
            for (i, x) in col.iter().enumerate().skip(j + 1) {
                if x.abs() > best {
                    (p, best) = (i, x.abs());
                }
            }
            if !best.is_finite() || best == T::zero() {
                return None;
            }
            ipiv[j] = p;
            if p != j {
                for k in 0..n {
                    s.swap(k * n + j, k * n + p);
                }
            }
            let inv = T::one() / s[j * n + j];
            for x in &mut s[j * n + j + 1..(j + 1) * n] {
                *x *= inv;
            }
            // The rank-one update of the panel's remaining columns.
            let (left, right) = s.split_at_mut((j + 1) * n);
            let lj = &left[j * n + j + 1..(j + 1) * n];
            for k in 0..j0 + jb - j - 1 {
                let col = &mut right[k * n..(k + 1) * n];
                let u = col[j];
                if u != T::zero() {
                    for (x, &l) in col[j + 1..].iter_mut().zip(lj) {
                        *x -= l * u;
                    }
                }
            }
        }
        let rest = n - j0 - jb;
        if rest > 0 {
            // U12 = L11⁻¹A12 (unit lower), then A22 -= L21·U12.
            let l11 = a.view((j0, j0), (jb, jb)).clone_owned();
            let mut u12 = a.view((j0, j0 + jb), (jb, rest)).clone_owned();
            triangular_solve_small(&l11, &mut u12, true, true);
            a.view_mut((j0, j0 + jb), (jb, rest)).copy_from(&u12);
            let l21 = a.view((j0 + jb, j0), (rest, jb)).clone_owned();
            a.view_mut((j0 + jb, j0 + jb), (rest, rest))
                .gemm(-T::one(), &l21, &u12, T::one());
        }
        j0 += jb;
    }
    Some(ipiv)
}

/// `X ← T⁻¹X` for a small triangular `T` (`lower`, with a unit diagonal or not), column by
/// column.
fn triangular_solve_small<T: Real>(t: &DMatrix<T>, x: &mut DMatrix<T>, lower: bool, unit: bool) {
    let m = t.nrows();
    for mut col in x.column_iter_mut() {
        let order: Box<dyn Iterator<Item = usize>> = if lower {
            Box::new(0..m)
        } else {
            Box::new((0..m).rev())
        };
        for r in order {
            if !unit {
                col[r] /= t[(r, r)];
            }
            let v = col[r];
            if v == T::zero() {
                continue;
            }
            if lower {
                for s in r + 1..m {
                    col[s] -= t[(s, r)] * v;
                }
            } else {
                for s in 0..r {
                    col[s] -= t[(s, r)] * v;
                }
            }
        }
    }
}

/// `X ← T⁻¹X` for a triangular `T` (`lower` or upper, with a `unit` diagonal or not) and a
/// matrix right-hand side, as `trsm` from the left: a diagonal block of [`NB`] rows solved by
/// substitution, then the rows still to solve updated by a matrix product. Each column of `X` is
/// solved on its own.
pub fn triangular_solve<T: Real>(t: &DMatrix<T>, x: &mut DMatrix<T>, lower: bool, unit: bool) {
    let n = t.nrows();
    assert_eq!(n, x.nrows(), "triangular_solve: T and X have as many rows");
    let m = x.ncols();
    let blocks: Vec<usize> = (0..n).step_by(NB).collect();
    let order: Vec<usize> = if lower {
        blocks
    } else {
        blocks.into_iter().rev().collect()
    };
    for i0 in order {
        let ib = NB.min(n - i0);
        let tii = t.view((i0, i0), (ib, ib)).clone_owned();
        let mut xi = x.view((i0, 0), (ib, m)).clone_owned();
        triangular_solve_small(&tii, &mut xi, lower, unit);
        x.view_mut((i0, 0), (ib, m)).copy_from(&xi);
        if lower && i0 + ib < n {
            let below = n - i0 - ib;
            let tb = t.view((i0 + ib, i0), (below, ib));
            x.view_mut((i0 + ib, 0), (below, m))
                .gemm(-T::one(), &tb, &xi, T::one());
        } else if !lower && i0 > 0 {
            let tb = t.view((0, i0), (i0, ib));
            x.view_mut((0, 0), (i0, m))
                .gemm(-T::one(), &tb, &xi, T::one());
        }
    }
}

/// `A⁻¹` from the factors of [`lu_in_place`], as `torch.linalg.inv` computes it (`getrs` on the
/// identity): the identity's rows interchanged, then `L` and `U` solved from the left.
pub fn lu_inverse<T: Real>(lu: &DMatrix<T>, ipiv: &[usize]) -> DMatrix<T> {
    let n = lu.nrows();
    let mut x = DMatrix::<T>::identity(n, n);
    for (j, &p) in ipiv.iter().enumerate() {
        if p != j {
            x.swap_rows(j, p);
        }
    }
    triangular_solve(lu, &mut x, true, true);
    triangular_solve(lu, &mut x, false, false);
    x
}

/// The lower Cholesky factor `L` of a symmetric `A` (`A = LLᵀ`; only the lower triangle of `A`
/// is read), as LAPACK's `potrf`, or `None` where a pivot is not positive and finite (`A` not
/// numerically positive definite).
pub fn cholesky<T: Real>(mut a: DMatrix<T>) -> Option<DMatrix<T>> {
    let n = a.nrows();
    assert_eq!(n, a.ncols(), "cholesky: a square matrix");
    let mut j0 = 0;
    while j0 < n {
        let jb = NB.min(n - j0);
        // The diagonal block, column by column (its trailing part already updated).
        for j in j0..j0 + jb {
            let mut d = a[(j, j)];
            for k in j0..j {
                d -= a[(j, k)] * a[(j, k)];
            }
            if d <= T::zero() || !d.is_finite() {
                return None;
            }
            let ljj = d.sqrt();
            a[(j, j)] = ljj;
            for i in j + 1..j0 + jb {
                let mut v = a[(i, j)];
                for k in j0..j {
                    v -= a[(i, k)] * a[(j, k)];
                }
                a[(i, j)] = v / ljj;
            }
        }
        let rest = n - j0 - jb;
        if rest > 0 {
            // L21 = A21·L11⁻ᵀ, i.e. L11·L21ᵀ = A21ᵀ; then A22 -= L21·L21ᵀ.
            let l11 = a.view((j0, j0), (jb, jb)).clone_owned();
            let mut l21t = a.view((j0 + jb, j0), (rest, jb)).transpose();
            triangular_solve_small(&l11, &mut l21t, true, false);
            let l21 = l21t.transpose();
            a.view_mut((j0 + jb, j0), (rest, jb)).copy_from(&l21);
            a.view_mut((j0 + jb, j0 + jb), (rest, rest))
                .gemm(-T::one(), &l21, &l21t, T::one());
        }
        j0 += jb;
    }
    a.fill_upper_triangle(T::zero(), 1);
    Some(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A seeded matrix of uniform entries in [−½, ½).
    fn random(n: usize, m: usize, seed: u64) -> DMatrix<f64> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        DMatrix::from_fn(n, m, |_, _| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        })
    }

    fn rel(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
        (a - b).amax() / b.amax()
    }

    // Sizes around the panel width: one panel, one and a part, several.
    const SIZES: [usize; 5] = [1, 7, 64, 65, 200];

    /// The LU inverse against nalgebra's (a different algorithm: column by column, unblocked),
    /// and the permutation against nalgebra's where no two candidate pivots tie.
    #[test]
    fn lu_and_its_inverse_match_nalgebra() {
        for (k, &n) in SIZES.iter().enumerate() {
            let a = random(n, n, k as u64) + DMatrix::identity(n, n) * 0.25;
            let mut f = a.clone();
            let ipiv = lu_in_place(&mut f).unwrap();
            let ours = lu_inverse(&f, &ipiv);
            let theirs = a.clone().lu().try_inverse().unwrap();
            // A random n × n matrix with entries of ½ has κ ≲ 10³n here; 10⁻¹⁰ is ~10⁵u·κ/n.
            assert!(
                rel(&ours, &theirs) < 1e-10,
                "n = {n}: {}",
                rel(&ours, &theirs)
            );
            assert!((&a * &ours - DMatrix::identity(n, n)).amax() < 1e-10);
            // PA = LU, with the factors read back.
            let l = DMatrix::from_fn(n, n, |i, j| match i.cmp(&j) {
                std::cmp::Ordering::Greater => f[(i, j)],
                std::cmp::Ordering::Equal => 1.0,
                _ => 0.0,
            });
            let u = f.upper_triangle();
            let mut pa = a.clone();
            for (j, &p) in ipiv.iter().enumerate() {
                pa.swap_rows(j, p);
            }
            assert!(rel(&(l * u), &pa) < 1e-13, "n = {n}");
            let theirs_p = a.clone().lu();
            let mut pn = DMatrix::<f64>::identity(n, n);
            theirs_p.p().permute_rows(&mut pn);
            let mut po = DMatrix::<f64>::identity(n, n);
            for (j, &p) in ipiv.iter().enumerate() {
                po.swap_rows(j, p);
            }
            assert_eq!(
                po, pn,
                "n = {n}: the row interchanges differ from nalgebra's"
            );
        }
    }

    #[test]
    fn cholesky_and_triangular_solves_match_nalgebra() {
        for (k, &n) in SIZES.iter().enumerate() {
            let g = random(n, n + 3, 10 + k as u64);
            let a = &g * g.transpose() + DMatrix::identity(n, n) * 0.1;
            let ours = cholesky(a.clone()).unwrap();
            let theirs = a.clone().cholesky().unwrap().l();
            assert!(
                rel(&ours, &theirs) < 1e-12,
                "n = {n}: {}",
                rel(&ours, &theirs)
            );
            let rhs = random(n, 70, 20 + k as u64);
            for (lower, unit) in [(true, false), (true, true), (false, false), (false, true)] {
                let t = if lower {
                    ours.clone()
                } else {
                    ours.transpose()
                };
                let t = if unit {
                    let mut t = t;
                    t.fill_diagonal(1.0);
                    t
                } else {
                    t
                };
                let mut x = rhs.clone();
                triangular_solve(&t, &mut x, lower, unit);
                let want = if lower {
                    t.solve_lower_triangular(&rhs).unwrap()
                } else {
                    t.solve_upper_triangular(&rhs).unwrap()
                };
                assert!(
                    rel(&x, &want) < 1e-10,
                    "n = {n}, lower {lower}, unit {unit}"
                );
            }
        }
    }

    /// Singular, indefinite and non-finite matrices are refused, not factorised.
    #[test]
    fn bad_matrices_are_refused() {
        let zero = DMatrix::<f64>::zeros(3, 3);
        assert!(lu_in_place(&mut zero.clone()).is_none());
        assert!(cholesky(zero).is_none());
        let indefinite = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 2.0, 1.0]);
        assert!(cholesky(indefinite.clone()).is_none());
        assert!(lu_in_place(&mut indefinite.clone()).is_some());
        let nan = DMatrix::from_row_slice(2, 2, &[f64::NAN, 0.0, 0.0, 1.0]);
        assert!(lu_in_place(&mut nan.clone()).is_none());
        assert!(cholesky(nan).is_none());
        let mut big = DMatrix::<f64>::identity(130, 130);
        big[(129, 129)] = f64::INFINITY;
        assert!(lu_in_place(&mut big.clone()).is_none());
        assert!(cholesky(big).is_none());
    }
}
