//! Dense matrices over MPFR floats ([`rug::Float`]) at a fixed working precision.
//!
//! nalgebra's decompositions need a `simba::ComplexField` scalar, which `rug::Float` is not, so
//! the kernels here are our own: small, allocation-aware (rug allocates per result, so inner loops
//! accumulate in place with fused `+= &a * &b`), and tested at a ladder of precisions against
//! independent routes (see `tests/engine.rs`).

use rug::Float;

use super::LinalgError;

/// Default working precision in bits.
pub const DEFAULT_PREC: u32 = 256;

/// A dense row-major matrix of [`Float`]s, all at one precision.
#[derive(Clone, Debug, PartialEq)]
pub struct Mat {
    rows: usize,
    cols: usize,
    prec: u32,
    data: Vec<Float>,
}

impl Mat {
    /// The zero matrix.
    pub fn zeros(rows: usize, cols: usize, prec: u32) -> Self {
        Mat {
            rows,
            cols,
            prec,
            data: vec![Float::new(prec); rows * cols],
        }
    }

    /// The identity matrix.
    pub fn identity(n: usize, prec: u32) -> Self {
        let mut m = Self::zeros(n, n, prec);
        for i in 0..n {
            m.data[i * n + i] = Float::with_val(prec, 1);
        }
        m
    }

    /// `c·I`.
    pub fn scalar(n: usize, c: &Float) -> Self {
        let mut m = Self::zeros(n, n, c.prec());
        for i in 0..n {
            m.data[i * n + i].assign_from(c);
        }
        m
    }

    /// A matrix from a function of the index.
    pub fn from_fn(
        rows: usize,
        cols: usize,
        prec: u32,
        mut f: impl FnMut(usize, usize) -> Float,
    ) -> Self {
        let mut data = Vec::with_capacity(rows * cols);
        for i in 0..rows {
            for j in 0..cols {
                data.push(Float::with_val(prec, f(i, j)));
            }
        }
        Mat {
            rows,
            cols,
            prec,
            data,
        }
    }

    /// A matrix from rows of `f64` (converted exactly), rejecting ragged rows and non-finite entries.
    pub fn from_f64_rows(rows: &[Vec<f64>], prec: u32) -> Result<Self, LinalgError> {
        let r = rows.len();
        let c = rows.first().map_or(0, Vec::len);
        let mut data = Vec::with_capacity(r * c);
        for (i, row) in rows.iter().enumerate() {
            if row.len() != c {
                return Err(LinalgError::Ragged {
                    row: i,
                    len: row.len(),
                    expected: c,
                });
            }
            for (j, &x) in row.iter().enumerate() {
                if !x.is_finite() {
                    return Err(LinalgError::NonFinite { row: i, col: j });
                }
                data.push(Float::with_val(prec, x));
            }
        }
        Ok(Mat {
            rows: r,
            cols: c,
            prec,
            data,
        })
    }

    /// A diagonal matrix.
    pub fn diag(values: &[Float], prec: u32) -> Self {
        let n = values.len();
        let mut m = Self::zeros(n, n, prec);
        for (i, v) in values.iter().enumerate() {
            m.data[i * n + i] = Float::with_val(prec, v);
        }
        m
    }

    pub fn rows(&self) -> usize {
        self.rows
    }
    pub fn cols(&self) -> usize {
        self.cols
    }
    pub fn prec(&self) -> u32 {
        self.prec
    }
    pub fn is_square(&self) -> bool {
        self.rows == self.cols
    }

    /// Entry `(i, j)`.
    #[inline]
    pub fn at(&self, i: usize, j: usize) -> &Float {
        &self.data[i * self.cols + j]
    }
    /// Mutable entry `(i, j)`.
    #[inline]
    pub fn at_mut(&mut self, i: usize, j: usize) -> &mut Float {
        &mut self.data[i * self.cols + j]
    }

    /// The same matrix at another precision (rounded to nearest).
    pub fn with_prec(&self, prec: u32) -> Self {
        Mat {
            rows: self.rows,
            cols: self.cols,
            prec,
            data: self.data.iter().map(|x| Float::with_val(prec, x)).collect(),
        }
    }

    /// Entries rounded to `f64`, row-major.
    pub fn to_f64(&self) -> Vec<f64> {
        self.data.iter().map(Float::to_f64).collect()
    }

    /// The transpose.
    pub fn transpose(&self) -> Self {
        let mut t = Self::zeros(self.cols, self.rows, self.prec);
        for i in 0..self.rows {
            for j in 0..self.cols {
                t.data[j * self.rows + i].assign_from(self.at(i, j));
            }
        }
        t
    }

    fn same_shape(&self, other: &Mat, op: &'static str) -> Result<(), LinalgError> {
        if self.rows != other.rows || self.cols != other.cols {
            return Err(LinalgError::ShapeMismatch {
                op,
                left: (self.rows, self.cols),
                right: (other.rows, other.cols),
            });
        }
        Ok(())
    }

    /// `self + other`.
    pub fn add(&self, other: &Mat) -> Result<Self, LinalgError> {
        self.same_shape(other, "add")?;
        let mut out = self.clone();
        for (o, b) in out.data.iter_mut().zip(&other.data) {
            *o += b;
        }
        Ok(out)
    }

    /// `self - other`.
    pub fn sub(&self, other: &Mat) -> Result<Self, LinalgError> {
        self.same_shape(other, "sub")?;
        let mut out = self.clone();
        for (o, b) in out.data.iter_mut().zip(&other.data) {
            *o -= b;
        }
        Ok(out)
    }

    /// `c · self`.
    pub fn scale(&self, c: &Float) -> Self {
        let mut out = self.clone();
        for o in &mut out.data {
            *o *= c;
        }
        out
    }

    /// The product `self · other`.
    pub fn mul(&self, other: &Mat) -> Result<Self, LinalgError> {
        if self.cols != other.rows {
            return Err(LinalgError::ShapeMismatch {
                op: "mul",
                left: (self.rows, self.cols),
                right: (other.rows, other.cols),
            });
        }
        let prec = self.prec.max(other.prec);
        let mut out = Self::zeros(self.rows, other.cols, prec);
        for i in 0..self.rows {
            for k in 0..self.cols {
                let a = self.at(i, k);
                if a.is_zero() {
                    continue;
                }
                for j in 0..other.cols {
                    out.data[i * other.cols + j] += a * other.at(k, j);
                }
            }
        }
        Ok(out)
    }

    /// `A²` for a symmetric `A`, computing the upper triangle only (`(A²)_ij = Σ_k A_ik A_jk`,
    /// rows dotted with rows) and mirroring it: about half the work of [`Mat::mul`].
    pub fn square_symmetric(&self) -> Result<Self, LinalgError> {
        self.require_square("square_symmetric")?;
        let n = self.rows;
        let mut out = Self::zeros(n, n, self.prec);
        for i in 0..n {
            for j in i..n {
                let mut s = Float::new(self.prec);
                for k in 0..n {
                    s += self.at(i, k) * self.at(j, k);
                }
                out.data[j * n + i] = s.clone();
                out.data[i * n + j] = s;
            }
        }
        Ok(out)
    }

    /// `self^k` for a square matrix, by repeated squaring (`self^0 = I`).
    pub fn pow(&self, k: u32) -> Result<Self, LinalgError> {
        self.require_square("pow")?;
        let mut result = Self::identity(self.rows, self.prec);
        let mut base = self.clone();
        let mut e = k;
        while e > 0 {
            if e & 1 == 1 {
                result = result.mul(&base)?;
            }
            e >>= 1;
            if e > 0 {
                base = base.mul(&base)?;
            }
        }
        Ok(result)
    }

    /// The trace of a square matrix.
    pub fn trace(&self) -> Result<Float, LinalgError> {
        self.require_square("trace")?;
        let mut t = Float::new(self.prec);
        for i in 0..self.rows {
            t += self.at(i, i);
        }
        Ok(t)
    }

    /// `tr(self · other)` without forming the product.
    pub fn trace_of_product(&self, other: &Mat) -> Result<Float, LinalgError> {
        if self.cols != other.rows || self.rows != other.cols {
            return Err(LinalgError::ShapeMismatch {
                op: "trace_of_product",
                left: (self.rows, self.cols),
                right: (other.rows, other.cols),
            });
        }
        let mut t = Float::new(self.prec.max(other.prec));
        for i in 0..self.rows {
            for k in 0..self.cols {
                t += self.at(i, k) * other.at(k, i);
            }
        }
        Ok(t)
    }

    /// `[tr A, tr A², …, tr A^kmax]` by repeated multiplication.
    pub fn power_traces(&self, kmax: usize) -> Result<Vec<Float>, LinalgError> {
        self.require_square("power_traces")?;
        let mut out = Vec::with_capacity(kmax);
        let mut p = self.clone();
        for k in 1..=kmax {
            if k > 1 {
                p = p.mul(self)?;
            }
            out.push(p.trace()?);
        }
        Ok(out)
    }

    /// `I + c·A`.
    pub fn identity_plus(&self, c: &Float) -> Result<Self, LinalgError> {
        self.require_square("identity_plus")?;
        let mut m = if *c == 1 { self.clone() } else { self.scale(c) };
        for i in 0..self.rows {
            *m.at_mut(i, i) += 1u32;
        }
        Ok(m)
    }

    /// The squared Frobenius norm `Σ_ij a_ij²`.
    pub fn frobenius_sq(&self) -> Float {
        let mut s = Float::new(self.prec);
        for x in &self.data {
            s += x * x;
        }
        s
    }

    /// The largest absolute entry.
    pub fn max_abs(&self) -> Float {
        let mut m = Float::new(self.prec);
        for x in &self.data {
            let a = x.as_abs();
            if *a > m {
                m.assign_from(&a);
            }
        }
        m
    }

    pub(crate) fn data_mut(&mut self) -> &mut [Float] {
        &mut self.data
    }

    pub(crate) fn require_square(&self, op: &'static str) -> Result<(), LinalgError> {
        if self.rows == 0 {
            return Err(LinalgError::Empty { op });
        }
        if !self.is_square() {
            return Err(LinalgError::NotSquare {
                op,
                rows: self.rows,
                cols: self.cols,
            });
        }
        Ok(())
    }

    /// Checks that every entry is finite.
    pub fn require_finite(&self) -> Result<(), LinalgError> {
        for i in 0..self.rows {
            for j in 0..self.cols {
                if !self.at(i, j).is_finite() {
                    return Err(LinalgError::NonFinite { row: i, col: j });
                }
            }
        }
        Ok(())
    }

    /// Checks symmetry to a relative tolerance `rel` of the largest entry; the error names the
    /// worst pair.
    pub fn require_symmetric(&self, rel: &Float) -> Result<(), LinalgError> {
        self.require_square("symmetric check")?;
        self.require_finite()?;
        let scale = self.max_abs();
        let allowed = Float::with_val(self.prec, &scale * rel);
        let mut worst: Option<(usize, usize, Float)> = None;
        for i in 0..self.rows {
            for j in (i + 1)..self.cols {
                let diff = Float::with_val(self.prec, self.at(i, j) - self.at(j, i)).abs();
                if diff > allowed && worst.as_ref().is_none_or(|w| diff > w.2) {
                    worst = Some((i, j, diff));
                }
            }
        }
        match worst {
            None => Ok(()),
            Some((i, j, diff)) => Err(LinalgError::NotSymmetric {
                row: i,
                col: j,
                diff: diff.to_f64(),
            }),
        }
    }

    /// `(self + selfᵀ)/2`.
    pub fn symmetrize(&self) -> Result<Self, LinalgError> {
        self.require_square("symmetrize")?;
        let mut out = self.clone();
        for i in 0..self.rows {
            for j in (i + 1)..self.cols {
                let m = Float::with_val(self.prec, self.at(i, j) + self.at(j, i)) / 2u32;
                out.at_mut(i, j).assign_from(&m);
                out.at_mut(j, i).assign_from(&m);
            }
        }
        Ok(out)
    }
}

/// Small extension: assign without reallocating when precisions agree.
pub(crate) trait AssignFrom {
    fn assign_from(&mut self, src: &Float);
}
impl AssignFrom for Float {
    #[inline]
    fn assign_from(&mut self, src: &Float) {
        use rug::Assign;
        self.assign(src);
    }
}
