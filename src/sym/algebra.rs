//! Symbolic matrices and the operations the theorem modules need. **Call only from inside
//! [`super::run`]** (the symbolica worker thread).

use symbolica::prelude::*;

pub use symbolica::prelude::{Atom, AtomCore};
use symbolica::tensors::matrix::Matrix;

/// A dense symbolic matrix, row-major.
#[derive(Clone, Debug)]
pub struct SymMat {
    pub n: usize,
    pub data: Vec<Atom>,
}

/// Parses an expression.
pub fn expr(s: &str) -> Atom {
    parse!(s)
}

impl SymMat {
    /// A fully symbolic symmetric `d × d` matrix with entries `{name}{i}{j}` (`i ≤ j`, 1-based;
    /// `d ≤ 9`).
    pub fn symmetric(d: usize, name: &str) -> Self {
        assert!(
            (1..=9).contains(&d),
            "symbolic matrices are named with one digit per index"
        );
        let data = (0..d * d)
            .map(|k| {
                let (i, j) = (k / d, k % d);
                let (a, b) = if i <= j { (i, j) } else { (j, i) };
                parse!(format!("{name}{}{}", a + 1, b + 1).as_str())
            })
            .collect();
        SymMat { n: d, data }
    }

    /// A fully symbolic general `d × d` matrix with entries `{name}{i}{j}` (1-based, `d ≤ 9`).
    pub fn general(d: usize, name: &str) -> Self {
        assert!((1..=9).contains(&d));
        let data = (0..d * d)
            .map(|k| parse!(format!("{name}{}{}", k / d + 1, k % d + 1).as_str()))
            .collect();
        SymMat { n: d, data }
    }

    /// The transpose.
    pub fn transpose(&self) -> Self {
        let n = self.n;
        SymMat {
            n,
            data: (0..n * n)
                .map(|k| self.data[(k % n) * n + k / n].clone())
                .collect(),
        }
    }

    /// `c · self` for a symbolic scalar.
    pub fn scale(&self, c: &Atom) -> Self {
        SymMat {
            n: self.n,
            data: self.data.iter().map(|x| (c * x).expand()).collect(),
        }
    }

    /// Whether every entry of `self − other` expands to zero.
    pub fn equals(&self, other: &SymMat) -> bool {
        self.data
            .iter()
            .zip(&other.data)
            .all(|(a, b)| (a - b).expand().is_zero())
    }

    /// A symbolic diagonal matrix with entries `{name}{i}`.
    pub fn diagonal(d: usize, name: &str) -> Self {
        let data = (0..d * d)
            .map(|k| {
                if k / d == k % d {
                    parse!(format!("{name}{}", k / d + 1).as_str())
                } else {
                    parse!("0")
                }
            })
            .collect();
        SymMat { n: d, data }
    }

    pub fn identity(n: usize) -> Self {
        let data = (0..n * n)
            .map(|k| {
                if k / n == k % n {
                    parse!("1")
                } else {
                    parse!("0")
                }
            })
            .collect();
        SymMat { n, data }
    }

    pub fn at(&self, i: usize, j: usize) -> &Atom {
        &self.data[i * self.n + j]
    }

    pub fn mul(&self, o: &SymMat) -> SymMat {
        let n = self.n;
        let mut data = Vec::with_capacity(n * n);
        for i in 0..n {
            for j in 0..n {
                let mut s = parse!("0");
                for k in 0..n {
                    s = &s + &(self.at(i, k) * o.at(k, j));
                }
                data.push(s.expand());
            }
        }
        SymMat { n, data }
    }

    /// `a·self + b·I` with symbolic scalars.
    pub fn affine(&self, a: &Atom, b: &Atom) -> SymMat {
        let n = self.n;
        let data = (0..n * n)
            .map(|k| {
                let x = a * &self.data[k];
                if k / n == k % n { &x + b } else { x }
            })
            .collect();
        SymMat { n, data }
    }

    pub fn trace(&self) -> Atom {
        let mut s = parse!("0");
        for i in 0..self.n {
            s = &s + self.at(i, i);
        }
        s.expand()
    }

    /// `[tr S, tr S², …, tr S^kmax]`, expanded.
    pub fn power_traces(&self, kmax: usize) -> Vec<Atom> {
        let mut out = Vec::with_capacity(kmax);
        let mut p = self.clone();
        for k in 1..=kmax {
            if k > 1 {
                p = p.mul(self);
            }
            out.push(p.trace());
        }
        out
    }

    /// `Σ_ij a_ij²`.
    pub fn frobenius_sq(&self) -> Atom {
        let mut s = parse!("0");
        for x in &self.data {
            s = &s + &(x * x);
        }
        s.expand()
    }

    /// The determinant (symbolica's matrix determinant over expressions), brought to one
    /// normalised fraction and expanded: elimination over expressions can leave quotients that
    /// `expand` alone does not cancel.
    pub fn det(&self) -> Atom {
        let m = Matrix::from_linear(
            self.data.clone(),
            self.n as u32,
            self.n as u32,
            AtomField::new(),
        )
        .expect("square by construction");
        normalise_rational(&m.det().expect("square matrix"))
    }
}

/// A power series `Σ_{n ≤ order} c_n var^n` truncated after `var^order`.
#[derive(Clone, Debug)]
pub struct Truncated {
    pub coeffs: Vec<Atom>,
}

impl Truncated {
    fn mul(&self, o: &Truncated) -> Truncated {
        let n = self.coeffs.len();
        let coeffs = (0..n)
            .map(|k| {
                let mut s = parse!("0");
                for i in 0..=k {
                    s = &s + &(&self.coeffs[i] * &o.coeffs[k - i]);
                }
                s.expand()
            })
            .collect();
        Truncated { coeffs }
    }

    fn sub(&self, o: &Truncated) -> Truncated {
        Truncated {
            coeffs: self
                .coeffs
                .iter()
                .zip(&o.coeffs)
                .map(|(a, b)| (a - b).expand())
                .collect(),
        }
    }

    /// `1/self` for a series whose constant term is exactly 1:
    /// `b_0 = 1`, `b_n = −Σ_{k=1}^{n} c_k b_{n−k}`.
    fn inverse_unit(&self) -> Truncated {
        assert!(
            (&self.coeffs[0] - &parse!("1")).expand().is_zero(),
            "pivot must be 1 + O(var)"
        );
        let n = self.coeffs.len();
        let mut b: Vec<Atom> = vec![parse!("1")];
        for m in 1..n {
            let mut s = parse!("0");
            for k in 1..=m {
                s = &s - &(&self.coeffs[k] * &b[m - k]);
            }
            b.push(s.expand());
        }
        Truncated { coeffs: b }
    }

    /// `Σ c_n var^n` as an expression.
    pub fn to_atom(&self, var: &str) -> Atom {
        let v = parse!(var);
        let mut s = parse!("0");
        let mut p = parse!("1");
        for c in &self.coeffs {
            s = &s + &(c * &p);
            p = &p * &v;
        }
        s.expand()
    }
}

impl SymMat {
    /// `det(I + var·self)` modulo `var^(order+1)`, by Gaussian elimination over the truncated power
    /// series in `var`. Every pivot is `1 + O(var)` (the off-diagonal entries are `O(var)`, so
    /// elimination only changes orders ≥ 2), hence invertible: no pivoting, no division by
    /// expressions. Equivalent to truncating the full determinant, at a cost polynomial in `d`.
    pub fn det_identity_plus(&self, order: usize) -> Truncated {
        let n = self.n;
        let zero = || parse!("0");
        let mut m: Vec<Vec<Truncated>> = (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| {
                        let mut c = vec![zero(); order + 1];
                        if i == j {
                            c[0] = parse!("1");
                        }
                        if order >= 1 {
                            c[1] = self.at(i, j).clone();
                        }
                        Truncated { coeffs: c }
                    })
                    .collect()
            })
            .collect();
        let mut det = Truncated {
            coeffs: {
                let mut c = vec![zero(); order + 1];
                c[0] = parse!("1");
                c
            },
        };
        for k in 0..n {
            let pivot = m[k][k].clone();
            det = det.mul(&pivot);
            let inv = pivot.inverse_unit();
            for i in (k + 1)..n {
                let f = m[i][k].mul(&inv);
                for j in (k + 1)..n {
                    let t = f.mul(&m[k][j]);
                    m[i][j] = m[i][j].sub(&t);
                }
            }
        }
        det
    }
}

/// The Taylor series of `e` in `var` around 0, through `var^order`, without the O() term.
pub fn series(e: &Atom, var: &str, order: u32) -> Atom {
    let v = symbol!(var);
    e.series(v, 0, order)
        .expect("series expansion")
        .to_atom()
        .expand()
}

/// Whether `a − b` expands to zero.
pub fn equal(a: &Atom, b: &Atom) -> bool {
    (a - b).expand().is_zero()
}

/// `e` as a single normalised fraction (numerator and denominator cancelled), so that rational
/// functions like `(1+x)·(1+x)^-1` that `expand` leaves alone simplify.
pub fn normalise_rational(e: &Atom) -> Atom {
    e.together().expand()
}

/// The LaTeX form.
pub fn latex(e: &Atom) -> String {
    format!("{}", e.printer(PrintOptions::latex()))
}

/// The derivative in `var`.
pub fn derivative(e: &Atom, var: &str) -> Atom {
    e.derivative(symbol!(var))
}

/// Plain text without namespaces.
pub fn plain(e: &Atom) -> String {
    format!("{}", e.printer(PrintOptions::file_no_namespace()))
}

/// `log(e)`.
pub fn log(e: &Atom) -> Atom {
    e.log()
}
