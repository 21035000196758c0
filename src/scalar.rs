//! One arithmetic interface over `f64`, MPFR floats and (with the `symbolic` feature) symbolica
//! expressions, so that each side of an identity is written once and the symbolic and numeric
//! checks cannot drift apart.

use rug::Float;

/// A commutative ring with rational constants: enough to write the polynomial sides of the
/// identities checked here.
pub trait Scalar: Clone {
    /// The constant `num/den` in the same context (precision, symbolic or not) as `self`.
    fn rational(&self, num: i64, den: i64) -> Self;
    fn add(&self, other: &Self) -> Self;
    fn sub(&self, other: &Self) -> Self;
    fn mul(&self, other: &Self) -> Self;
    fn neg(&self) -> Self {
        self.rational(0, 1).sub(self)
    }
    /// `self^k`.
    fn powi(&self, k: u32) -> Self {
        let mut r = self.rational(1, 1);
        for _ in 0..k {
            r = r.mul(self);
        }
        r
    }
    /// `c · self` for a rational `c = num/den`.
    fn times(&self, num: i64, den: i64) -> Self {
        self.rational(num, den).mul(self)
    }
}

impl Scalar for f64 {
    fn rational(&self, num: i64, den: i64) -> Self {
        num as f64 / den as f64
    }
    fn add(&self, o: &Self) -> Self {
        self + o
    }
    fn sub(&self, o: &Self) -> Self {
        self - o
    }
    fn mul(&self, o: &Self) -> Self {
        self * o
    }
}

impl Scalar for Float {
    fn rational(&self, num: i64, den: i64) -> Self {
        Float::with_val(self.prec(), num) / Float::with_val(self.prec(), den)
    }
    fn add(&self, o: &Self) -> Self {
        Float::with_val(self.prec().max(o.prec()), self + o)
    }
    fn sub(&self, o: &Self) -> Self {
        Float::with_val(self.prec().max(o.prec()), self - o)
    }
    fn mul(&self, o: &Self) -> Self {
        Float::with_val(self.prec().max(o.prec()), self * o)
    }
}

#[cfg(feature = "symbolic")]
impl Scalar for symbolica::atom::Atom {
    fn rational(&self, num: i64, den: i64) -> Self {
        symbolica::parse!(format!("({num})/({den})"))
    }
    fn add(&self, o: &Self) -> Self {
        self + o
    }
    fn sub(&self, o: &Self) -> Self {
        self - o
    }
    fn mul(&self, o: &Self) -> Self {
        self * o
    }
}
