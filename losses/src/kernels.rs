//! The dense kernels of the float losses: products with a transposed operand without copying it
//! (`matrixmultiply` with strides, for `f32` and `f64`; nalgebra otherwise), a Gram matrix that
//! computes each symmetric block once, and the inverse of an SPD matrix through a blocked
//! triangular inverse of its Cholesky factor (nalgebra's `Cholesky::inverse` solves column by
//! column and is 3× slower at n = 512). Measured in `benches/compare/losses.sh`.

use std::any::{Any, TypeId};
use std::cell::Cell;

use nalgebra::DMatrix;

use crate::batch::BatchError;
use crate::dense;
use crate::float::Real;

/// Matrix products in reduced precision, emulated in float32 (see [`reduced`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Products {
    /// TF32 tensor cores: both operands rounded to 10 explicit mantissa bits, the products
    /// accumulated in float32, the output float32.
    Tf32,
    /// bfloat16 autocast: both operands rounded to bfloat16 (7 explicit mantissa bits), the
    /// products accumulated in float32, the output rounded to bfloat16.
    Bf16,
}

impl Products {
    fn bits(self) -> u32 {
        match self {
            Products::Tf32 => 10,
            Products::Bf16 => 7,
        }
    }
}

/// How the emulated roundings round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    /// To nearest, ties to even (what the hardware and torch's casts do).
    Nearest,
    /// Stochastically (up with probability the distance to the value below over the spacing,
    /// Monte Carlo arithmetic in the sense of Parker), from this seed: other implementations
    /// round other intermediate values, which lands their roundings elsewhere.
    Random(u64),
}

thread_local! {
    static REDUCED: Cell<Option<(Products, Rounding)>> = const { Cell::new(None) };
    static RNG: Cell<u64> = const { Cell::new(0) };
}

/// Runs `f` with every matrix product of the losses' float forms ([`mul`], [`mul_nt`],
/// [`mul_tn`], [`gram_nt`], [`gram_tn`]) in float32 emulating `products`: operands (and for
/// bfloat16 the output) rounded as `rounding` says. Float64 products, and the linear algebra
/// (factorisations and inverses stay float32, as torch's autocast and cuSOLVER keep them), are
/// unaffected. The setting is this thread's, restored when `f` returns or unwinds.
pub fn reduced<R>(products: Products, rounding: Rounding, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<(Products, Rounding)>, u64);
    impl Drop for Restore {
        fn drop(&mut self) {
            REDUCED.with(|c| c.set(self.0));
            RNG.with(|c| c.set(self.1));
        }
    }
    let _restore = Restore(
        REDUCED.with(|c| c.replace(Some((products, rounding)))),
        RNG.with(Cell::get),
    );
    if let Rounding::Random(seed) = rounding {
        RNG.with(|c| c.set(seed));
    }
    f()
}

/// splitmix64: the stochastic roundings' bits.
fn next_random() -> u64 {
    RNG.with(|c| {
        let s = c.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        c.set(s);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    })
}

/// `x` rounded to `bits` explicit mantissa bits (of float32's 23). The sign is apart from the
/// magnitude in IEEE 754, so rounding the bits of the magnitude rounds the value; a finite value
/// may round to infinity at the top of the range, as the hardware's would.
pub fn round_mantissa(x: f32, bits: u32, rounding: Rounding) -> f32 {
    if !x.is_finite() || bits >= 23 {
        return x;
    }
    let shift = 23 - bits;
    let mask = (1u32 << shift) - 1;
    let i = x.to_bits();
    let r = match rounding {
        Rounding::Nearest => {
            let lsb = (i >> shift) & 1;
            i.wrapping_add((mask >> 1) + lsb) & !mask
        }
        Rounding::Random(_) => {
            let frac = i & mask;
            if (next_random() as u32 & mask) < frac {
                (i & !mask).wrapping_add(1 << shift)
            } else {
                i & !mask
            }
        }
    };
    f32::from_bits(r)
}

/// Whether [`reduced`] emulates bfloat16 autocast now, for `T` (float32 only): a float form then
/// also rounds the results of the elementwise steps that autocast leaves in bfloat16 ([`ac`]).
pub fn autocast_bf16<T: Real>() -> bool {
    TypeId::of::<T>() == TypeId::of::<f32>()
        && matches!(REDUCED.with(Cell::get), Some((Products::Bf16, _)))
}

/// `x` rounded to bfloat16 where [`autocast_bf16`] holds (an elementwise result that autocast
/// keeps in bfloat16: a logit divided by τ, a log-sum-exp, a softmax weight); `x` otherwise.
pub fn ac<T: Real>(x: T) -> T {
    match REDUCED.with(Cell::get) {
        Some((Products::Bf16, r)) if TypeId::of::<T>() == TypeId::of::<f32>() => {
            round_value(x, Products::Bf16.bits(), r)
        }
        _ => x,
    }
}

/// [`round_mantissa`] of a `T` that holds a float32 (through f64, exactly).
fn round_value<T: Real>(x: T, bits: u32, rounding: Rounding) -> T {
    let v: f64 = nalgebra::try_convert(x).unwrap_or(f64::NAN);
    nalgebra::convert(round_mantissa(v as f32, bits, rounding) as f64)
}

fn round_matrix<T: Real>(m: &DMatrix<T>, bits: u32, rounding: Rounding) -> DMatrix<T> {
    m.map(|x| round_value(x, bits, rounding))
}

/// `f(ops)`, or under [`reduced`] and in float32, `f` of the rounded operands with its output
/// rounded as the emulated precision does.
fn emulated<T: Real>(
    ops: &[&DMatrix<T>],
    f: impl FnOnce(&[&DMatrix<T>]) -> DMatrix<T>,
) -> DMatrix<T> {
    let Some((p, r)) = REDUCED.with(Cell::get) else {
        return f(ops);
    };
    if TypeId::of::<T>() != TypeId::of::<f32>() {
        return f(ops);
    }
    let rounded: Vec<DMatrix<T>> = ops.iter().map(|m| round_matrix(m, p.bits(), r)).collect();
    let refs: Vec<&DMatrix<T>> = rounded.iter().collect();
    let out = f(&refs);
    match p {
        Products::Tf32 => out,
        Products::Bf16 => round_matrix(&out, p.bits(), r),
    }
}

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

/// `A Bᵀ` (a matrix product of the loss: emulated in reduced precision under [`reduced`]).
pub fn mul_nt<T: Real>(a: &DMatrix<T>, b: &DMatrix<T>) -> DMatrix<T> {
    emulated(&[a, b], |ab| plain_mul_nt(ab[0], ab[1]))
}

/// `A B` (a matrix product of the loss: emulated in reduced precision under [`reduced`]).
pub fn mul<T: Real>(a: &DMatrix<T>, b: &DMatrix<T>) -> DMatrix<T> {
    emulated(&[a, b], |ab| ab[0] * ab[1])
}

fn plain_mul_nt<T: Real>(a: &DMatrix<T>, b: &DMatrix<T>) -> DMatrix<T> {
    assert_eq!(a.ncols(), b.ncols(), "mul_nt: inner dimensions");
    strided(a, b, Trans::Nt).unwrap_or_else(|| a * b.transpose())
}

/// `Aᵀ B` (a matrix product of the loss: emulated in reduced precision under [`reduced`]).
pub fn mul_tn<T: Real>(a: &DMatrix<T>, b: &DMatrix<T>) -> DMatrix<T> {
    emulated(&[a, b], |ab| plain_mul_tn(ab[0], ab[1]))
}

fn plain_mul_tn<T: Real>(a: &DMatrix<T>, b: &DMatrix<T>) -> DMatrix<T> {
    assert_eq!(a.nrows(), b.nrows(), "mul_tn: inner dimensions");
    strided(a, b, Trans::Tn).unwrap_or_else(|| a.transpose() * b)
}

/// `Z Zᵀ`, each off-diagonal block computed once (rows split in halves, recursively); a matrix
/// product of the loss: emulated in reduced precision under [`reduced`].
pub fn gram_nt<T: Real>(z: &DMatrix<T>) -> DMatrix<T> {
    emulated(&[z], |z| plain_gram_nt(z[0]))
}

fn plain_gram_nt<T: Real>(z: &DMatrix<T>) -> DMatrix<T> {
    let n = z.nrows();
    if n <= 128 {
        return plain_mul_nt(z, z);
    }
    let h = n / 2;
    let top = z.rows(0, h).into_owned();
    let bottom = z.rows(h, n - h).into_owned();
    let mut c = DMatrix::zeros(n, n);
    c.view_mut((0, 0), (h, h)).copy_from(&plain_gram_nt(&top));
    c.view_mut((h, h), (n - h, n - h))
        .copy_from(&plain_gram_nt(&bottom));
    let off = plain_mul_nt(&bottom, &top);
    c.view_mut((h, 0), (n - h, h)).copy_from(&off);
    c.view_mut((0, h), (h, n - h)).copy_from(&off.transpose());
    c
}

/// `Zᵀ Z` (a matrix product of the loss: emulated in reduced precision under [`reduced`]).
pub fn gram_tn<T: Real>(z: &DMatrix<T>) -> DMatrix<T> {
    emulated(&[z], |z| {
        if z[0].ncols() <= 128 {
            return plain_mul_tn(z[0], z[0]);
        }
        plain_gram_nt(&z[0].transpose())
    })
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
    let l = dense::cholesky(a)?;
    let half = l.diagonal().iter().fold(T::zero(), |s, x| s + x.ln());
    let li = lower_inverse(&l);
    Some((half, plain_mul_tn(&li, &li)))
}

/// `(½ log det A, A⁻¹)` by LU with partial pivoting, as `torch.logdet` and its backward compute
/// them (LAPACK `getrf`, the inverse from the factors), or `None` where `det A ≤ 0` or a pivot
/// is not finite and non-zero.
pub fn lu_half_logdet_inverse<T: Real>(a: DMatrix<T>) -> Option<(T, DMatrix<T>)> {
    let mut lu = a;
    let ipiv = dense::lu_in_place(&mut lu)?;
    let mut log = T::zero();
    let mut negative = ipiv.iter().enumerate().filter(|&(j, &p)| p != j).count() % 2 == 1;
    for i in 0..lu.nrows() {
        let x = lu[(i, i)];
        if !x.is_finite() || x == T::zero() {
            return None;
        }
        negative ^= x < T::zero();
        log += x.abs().ln();
    }
    if negative {
        return None;
    }
    let inv = dense::lu_inverse(&lu, &ipiv);
    if !inv.iter().all(|x| x.is_finite()) {
        return None;
    }
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
    spd_or_error(a, matrix, hint, spd_half_logdet_inverse)
}

/// `(½ log det A, A⁻¹)`, or `None` where the factorisation fails.
type HalfLogdetInverse<T> = Option<(T, DMatrix<T>)>;

/// `by(a)`, a Cholesky-based `(½ log det A, A⁻¹)`, or the error naming the matrix and whether an
/// entry overflowed.
fn spd_or_error<T: Real>(
    a: DMatrix<T>,
    matrix: &'static str,
    hint: &'static str,
    by: fn(DMatrix<T>) -> HalfLogdetInverse<T>,
) -> Result<(T, DMatrix<T>), BatchError> {
    let n = a.nrows();
    let why = if a.iter().all(|x| x.is_finite()) {
        ""
    } else {
        ": an entry overflowed to a non-finite number"
    };
    by(a).ok_or(BatchError::NotPositiveDefinite {
        matrix,
        n,
        why,
        hint,
    })
}

/// `(½ log det A, G)` by Cholesky with `G` the inverse as torch's `cholesky_backward` reaches it
/// through the log-diagonal and the Gram product's backward symmetrises it
/// ([`InverseBy::CholeskyBackward`]): `LᵀX = ½I` solved from the left, `YL = X` from the right,
/// `G = Y + Yᵀ`; `None` where `A` is not numerically positive definite.
pub fn spd_half_logdet_backward_inverse<T: Real>(a: DMatrix<T>) -> Option<(T, DMatrix<T>)> {
    let n = a.nrows();
    let l = dense::cholesky(a)?;
    let half = l.diagonal().iter().fold(T::zero(), |s, x| s + x.ln());
    let lt = l.transpose();
    let mut x = DMatrix::<T>::identity(n, n) * nalgebra::convert::<f64, T>(0.5);
    dense::triangular_solve(&lt, &mut x, false, false);
    // Y L = X  ⇔  Lᵀ Yᵀ = Xᵀ (row by row of Y).
    let mut yt = x.transpose();
    dense::triangular_solve(&lt, &mut yt, false, false);
    if !yt.iter().all(|x| x.is_finite()) {
        return None;
    }
    Some((half, &yt + yt.transpose()))
}

/// How the official codes' autograd reaches the inverse of a log-determinant's matrix (the
/// coding rate's and CorInfoMax's `A` formed from a Gram product, whose backward symmetrises the
/// matrix gradient it receives).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InverseBy {
    /// Ours: Cholesky, `A⁻¹ = L⁻ᵀL⁻¹` (symmetric by construction).
    Cholesky,
    /// `torch.logdet` (MCR², EMP-SSL, lightly, CorInfoMax): LU with partial pivoting; its
    /// backward returns the LU inverse transposed and the Gram product's backward symmetrises
    /// it, so `(A⁻¹ + A⁻ᵀ)/2` with the computed `A⁻¹`. With d ≫ B that differs from `A⁻¹` by far:
    /// the LU inverse's error lies along its rows, which `ZA⁻¹` keeps small and `ZA⁻ᵀ` does not
    /// (EMP-SSL at 16 × 2048 in float32: torch 1.3 % of the gradient's largest entry, `Z·inv(A)`
    /// 0.05 %; docs/losses.md, "Beyond the bound").
    Lu,
    /// `cholesky_ex` differentiated through its log-diagonal (SimDINO): torch's
    /// `cholesky_backward` solves `LᵀX = ½I` from the left, then `YL = X` from the right (two
    /// triangular solves, each column or row with its own rounding), and the Gram product's
    /// backward symmetrises: `Y + Yᵀ` with the computed `Y ≈ ½A⁻¹`.
    CholeskyBackward,
}

/// `(½ log det A, A⁻¹)` as `by` computes them (see [`InverseBy`]), or the error naming the
/// matrix.
pub fn half_logdet_and_inverse_by<T: Real>(
    by: InverseBy,
    a: DMatrix<T>,
    matrix: &'static str,
    hint: &'static str,
) -> Result<(T, DMatrix<T>), BatchError> {
    match by {
        InverseBy::Cholesky => half_logdet_and_inverse(a, matrix, hint),
        InverseBy::Lu => {
            let (half, inv) = lu_half_logdet_and_inverse(a, matrix, hint)?;
            let sym = (&inv + inv.transpose()) * nalgebra::convert::<f64, T>(0.5);
            Ok((half, sym))
        }
        InverseBy::CholeskyBackward => {
            spd_or_error(a, matrix, hint, spd_half_logdet_backward_inverse)
        }
    }
}
