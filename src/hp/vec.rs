//! Vectors of MPFR floats as slices: dot products, norms, normalisation.

use rug::Float;

/// `a · b` at the precision of `a[0]` (`0` for empty vectors, at 64 bits).
pub fn dot(a: &[Float], b: &[Float]) -> Float {
    let prec = a.first().map_or(64, Float::prec);
    a.iter().zip(b).fold(Float::new(prec), |s, (x, y)| {
        s + Float::with_val(prec, x * y)
    })
}

/// `‖a‖`.
pub fn norm(a: &[Float]) -> Float {
    dot(a, a).sqrt()
}

/// `z/‖z‖`.
pub fn normalize(z: &[Float]) -> Vec<Float> {
    let n = norm(z);
    z.iter()
        .map(|x| Float::with_val(x.prec(), x / &n))
        .collect()
}

/// `a − b`.
pub fn sub(a: &[Float], b: &[Float]) -> Vec<Float> {
    a.iter()
        .zip(b)
        .map(|(x, y)| Float::with_val(x.prec(), x - y))
        .collect()
}

/// `c · a`.
pub fn scale(a: &[Float], c: &Float) -> Vec<Float> {
    a.iter().map(|x| Float::with_val(x.prec(), x * c)).collect()
}

/// `M a` for a matrix `M` with `a.len()` columns.
pub fn mat_vec(m: &super::Mat, a: &[Float]) -> Vec<Float> {
    (0..m.rows())
        .map(|i| {
            (0..m.cols()).fold(Float::new(m.prec()), |s, k| {
                s + Float::with_val(m.prec(), m.at(i, k) * &a[k])
            })
        })
        .collect()
}
