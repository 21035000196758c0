//! The dense kernels of the float losses: products with a transposed operand without copying it
//! (`matrixmultiply` with strides, for `f32` and `f64`; nalgebra otherwise), a Gram matrix that
//! computes each symmetric block once, and the inverse of an SPD matrix through a blocked
//! triangular inverse of its Cholesky factor (nalgebra's `Cholesky::inverse` solves column by
//! column and is 3× slower at n = 512). Measured in `benches/compare/losses.sh`.

use std::any::Any;

use nalgebra::DMatrix;

use crate::batch::BatchError;
use crate::float::Real;

enum Trans {
    /// `A Bᵀ`
    Nt,
    /// `Aᵀ B`
    Tn,
}

/// `C = op(A)·op(B)` for `f64`/`f32` through matrixmultiply with the transposition in the strides.
fn strided<T: Real>(a: &DMatrix<T>, b: &DMatrix<T>, t: Trans) -> Option<DMatrix<T>> {
    let (ar, ac) = a.shape();
    let (br, bc) = b.shape();
    // (m, k, n) and strides (rsa, csa, rsb, csb) of the column-major operands.
    let (m, k, n, rsa, csa, rsb, csb) = match t {
        Trans::Nt => (ar, ac, br, 1, ar as isize, br as isize, 1),
        Trans::Tn => (ac, ar, bc, ar as isize, 1, 1, br as isize),
    };
    let mut c = DMatrix::<T>::zeros(m, n);
    if m == 0 || n == 0 || k == 0 {
        return Some(c);
    }
    let dims = (m, k, n, rsa, csa, rsb, csb);
    let done = run_gemm::<f64, T>(matrixmultiply::dgemm, 1.0, 0.0, a, b, &mut c, dims)
        || run_gemm::<f32, T>(matrixmultiply::sgemm, 1.0, 0.0, a, b, &mut c, dims);
    done.then_some(c)
}

/// matrixmultiply's `dgemm`/`sgemm` signature.
type Gemm<F> = unsafe fn(
    usize,
    usize,
    usize,
    F,
    *const F,
    isize,
    isize,
    *const F,
    isize,
    isize,
    F,
    *mut F,
    isize,
    isize,
);

/// Runs `gemm` if `T` is `F`; `false` otherwise.
fn run_gemm<F: 'static, T: Real>(
    gemm: Gemm<F>,
    one: F,
    zero: F,
    a: &DMatrix<T>,
    b: &DMatrix<T>,
    c: &mut DMatrix<T>,
    (m, k, n, rsa, csa, rsb, csb): (usize, usize, usize, isize, isize, isize, isize),
) -> bool {
    let (Some(a), Some(b), Some(c)) = (
        (a as &dyn Any).downcast_ref::<DMatrix<F>>(),
        (b as &dyn Any).downcast_ref::<DMatrix<F>>(),
        (c as &mut dyn Any).downcast_mut::<DMatrix<F>>(),
    ) else {
        return false;
    };
    // SAFETY: the three matrices are owned, contiguous and column-major with the shapes and
    // strides given (C is m × n with row stride 1 and column stride m); C does not alias A or B.
    unsafe {
        gemm(
            m,
            k,
            n,
            one,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            zero,
            c.as_mut_ptr(),
            1,
            m as isize,
        );
    }
    true
}

/// `A Bᵀ`.
pub fn mul_nt<T: Real>(a: &DMatrix<T>, b: &DMatrix<T>) -> DMatrix<T> {
    assert_eq!(a.ncols(), b.ncols(), "mul_nt: inner dimensions");
    strided(a, b, Trans::Nt).unwrap_or_else(|| a * b.transpose())
}

/// `Aᵀ B`.
pub fn mul_tn<T: Real>(a: &DMatrix<T>, b: &DMatrix<T>) -> DMatrix<T> {
    assert_eq!(a.nrows(), b.nrows(), "mul_tn: inner dimensions");
    strided(a, b, Trans::Tn).unwrap_or_else(|| a.transpose() * b)
}

/// `Z Zᵀ`, each off-diagonal block computed once (rows split in halves, recursively).
pub fn gram_nt<T: Real>(z: &DMatrix<T>) -> DMatrix<T> {
    let n = z.nrows();
    if n <= 128 {
        return mul_nt(z, z);
    }
    let h = n / 2;
    let top = z.rows(0, h).into_owned();
    let bottom = z.rows(h, n - h).into_owned();
    let mut c = DMatrix::zeros(n, n);
    c.view_mut((0, 0), (h, h)).copy_from(&gram_nt(&top));
    c.view_mut((h, h), (n - h, n - h))
        .copy_from(&gram_nt(&bottom));
    let off = mul_nt(&bottom, &top);
    c.view_mut((h, 0), (n - h, h)).copy_from(&off);
    c.view_mut((0, h), (h, n - h)).copy_from(&off.transpose());
    c
}

/// `Zᵀ Z`.
pub fn gram_tn<T: Real>(z: &DMatrix<T>) -> DMatrix<T> {
    if z.ncols() <= 128 {
        return mul_tn(z, z);
    }
    gram_nt(&z.transpose())
}

/// The inverse of a lower-triangular `L` by blocks: `[A 0; B C]⁻¹ = [A⁻¹ 0; −C⁻¹BA⁻¹ C⁻¹]`.
fn lower_inverse<T: Real>(l: &DMatrix<T>) -> DMatrix<T> {
    let n = l.nrows();
    if n <= 64 {
        let mut inv = DMatrix::identity(n, n);
        l.solve_lower_triangular_mut(&mut inv);
        return inv;
    }
    let h = n / 2;
    let ai = lower_inverse(&l.view((0, 0), (h, h)).into_owned());
    let ci = lower_inverse(&l.view((h, h), (n - h, n - h)).into_owned());
    let b = l.view((h, 0), (n - h, h)).into_owned();
    let off = -(&ci * (b * &ai));
    let mut out = DMatrix::zeros(n, n);
    out.view_mut((0, 0), (h, h)).copy_from(&ai);
    out.view_mut((h, h), (n - h, n - h)).copy_from(&ci);
    out.view_mut((h, 0), (n - h, h)).copy_from(&off);
    out
}

/// `(½ log det A, A⁻¹)` of a symmetric positive definite `A`, or `None` if Cholesky fails:
/// `A⁻¹ = L⁻ᵀL⁻¹`.
pub fn spd_half_logdet_inverse<T: Real>(a: DMatrix<T>) -> Option<(T, DMatrix<T>)> {
    let ch = a.cholesky()?;
    let l = ch.l();
    let half = l.diagonal().iter().fold(T::zero(), |s, x| s + x.ln());
    let li = lower_inverse(&l);
    Some((half, mul_tn(&li, &li)))
}

/// `(½ log det A, A⁻¹)` by LU with partial pivoting, as `torch.logdet` and its backward compute
/// them (LAPACK `getrf`, the inverse from the factors), or `None` where `det A ≤ 0` or a pivot
/// is not finite and non-zero.
pub fn lu_half_logdet_inverse<T: Real>(a: DMatrix<T>) -> Option<(T, DMatrix<T>)> {
    let n = a.nrows();
    let lu = a.lu();
    let u = lu.u();
    let mut log = T::zero();
    let mut negative = lu.p().determinant::<T>() < T::zero();
    for i in 0..n {
        let x = u[(i, i)];
        if !x.is_finite() || x == T::zero() {
            return None;
        }
        negative ^= x < T::zero();
        log += x.abs().ln();
    }
    if negative {
        return None;
    }
    let inv = lu.try_inverse()?;
    Some((log * nalgebra::convert::<f64, T>(0.5), inv))
}

/// [`lu_half_logdet_inverse`], or the error naming the matrix (as [`half_logdet_and_inverse`]).
pub fn lu_half_logdet_and_inverse<T: Real>(
    a: DMatrix<T>,
    matrix: &'static str,
    hint: &'static str,
) -> Result<(T, DMatrix<T>), BatchError> {
    let n = a.nrows();
    lu_half_logdet_inverse(a).ok_or(BatchError::NotPositiveDefinite {
        matrix,
        n,
        why: ": its LU factors give a determinant ≤ 0 or a zero pivot",
        hint,
    })
}

/// `(½ log det A, A⁻¹)` of a symmetric positive definite `A`, by Cholesky, or the error naming
/// the matrix (`matrix`, with `hint` saying which input or parameter makes it so) and whether an
/// entry overflowed.
pub fn half_logdet_and_inverse<T: Real>(
    a: DMatrix<T>,
    matrix: &'static str,
    hint: &'static str,
) -> Result<(T, DMatrix<T>), BatchError> {
    let n = a.nrows();
    let why = if a.iter().all(|x| x.is_finite()) {
        ""
    } else {
        ": an entry overflowed to a non-finite number"
    };
    spd_half_logdet_inverse(a).ok_or(BatchError::NotPositiveDefinite {
        matrix,
        n,
        why,
        hint,
    })
}
