//! Small, shrinkable *recipes* for random symmetric positive semidefinite matrices.
//!
//! quickcheck generates and shrinks the recipe (dimension, seed, spectrum class, scale), never the
//! matrix itself: shrinking then lowers the dimension and the conditioning, and a counterexample
//! prints as one line that rebuilds it exactly.

use std::fmt;

use quickcheck::{Arbitrary, Gen};
use rug::Float;
use rug::ops::Pow;

use crate::hp::Mat;
use crate::hp::sample::Sampler;

/// How the eigenvalues of a recipe's matrix are laid out below its largest eigenvalue `2^top`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Spectrum {
    /// All eigenvalues equal: `Σ = 2^top · I`.
    Isotropic,
    /// Independent uniform eigenvalues in `(0, 2^top]`, the largest exactly `2^top`.
    Spread,
    /// Geometric decay over `decades` powers of ten: condition number `10^decades`.
    Geometric { decades: u8 },
    /// `rank` nonzero eigenvalues (uniform, as in `Spread`), the rest exactly zero.
    LowRank { rank: u8 },
}

/// A recipe for one random PSD matrix: `Σ = Q diag(λ) Qᵀ`, `Q` Haar-orthogonal from `seed`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Recipe {
    pub d: usize,
    pub seed: u64,
    pub spectrum: Spectrum,
    /// `log2` of the largest eigenvalue.
    pub top: i8,
}

/// The largest `|top|` generated: eigenvalues from `2^−8` to `2^4`.
pub const TOP_RANGE: (i8, i8) = (-8, 4);

impl Recipe {
    /// The eigenvalues, descending, at precision `prec`.
    pub fn spectrum_values(&self, prec: u32) -> Vec<Float> {
        let mut s = Sampler::new(self.seed ^ 0x5eed_5eed_5eed_5eed, prec);
        let top = Float::with_val(prec, 1) << i32::from(self.top);
        let d = self.d;
        let mut v: Vec<Float> = match self.spectrum {
            Spectrum::Isotropic => vec![top.clone(); d],
            Spectrum::Spread => (0..d)
                .map(|i| {
                    if i == 0 {
                        top.clone()
                    } else {
                        s.uniform() * &top
                    }
                })
                .collect(),
            Spectrum::Geometric { decades } => (0..d)
                .map(|i| {
                    if d == 1 {
                        return top.clone();
                    }
                    let e = Float::with_val(prec, i as u32) * u32::from(decades) / ((d - 1) as u32);
                    let ten = Float::with_val(prec, 10);
                    Float::with_val(prec, &top / ten.pow(&e))
                })
                .collect(),
            Spectrum::LowRank { rank } => (0..d)
                .map(|i| {
                    if i == 0 {
                        top.clone()
                    } else if i < usize::from(rank) {
                        s.uniform() * &top
                    } else {
                        Float::new(prec)
                    }
                })
                .collect(),
        };
        v.sort_by(|a, b| b.partial_cmp(a).expect("finite"));
        v
    }

    /// The matrix and its exact spectrum (descending).
    pub fn realize(&self, prec: u32) -> (Mat, Vec<Float>) {
        let spectrum = self.spectrum_values(prec);
        let mut s = Sampler::new(self.seed, prec);
        (s.with_spectrum(&spectrum), spectrum)
    }

    /// Draws a recipe with `d` in `1..=max_d`.
    pub fn generate(g: &mut Gen, max_d: usize) -> Self {
        let d = 1 + usize::from(u8::arbitrary(g)) % max_d.max(1);
        let seed = u64::arbitrary(g);
        let spectrum = match u8::arbitrary(g) % 4 {
            0 => Spectrum::Isotropic,
            1 => Spectrum::Spread,
            2 => Spectrum::Geometric {
                decades: u8::arbitrary(g) % 13,
            },
            _ => Spectrum::LowRank {
                rank: (u8::arbitrary(g) % (d as u8)).max(1),
            },
        };
        let span = (TOP_RANGE.1 - TOP_RANGE.0 + 1) as u8;
        let top = TOP_RANGE.0 + (u8::arbitrary(g) % span) as i8;
        Recipe {
            d,
            seed,
            spectrum,
            top,
        }
    }
}

impl fmt::Display for Recipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self.spectrum {
            Spectrum::Isotropic => "isotropic".to_string(),
            Spectrum::Spread => "spread".to_string(),
            Spectrum::Geometric { decades } => format!("geometric(1e{decades})"),
            Spectrum::LowRank { rank } => format!("rank({rank})"),
        };
        write!(
            f,
            "d={} seed={:#x} spectrum={} λmax=2^{}",
            self.d, self.seed, s, self.top
        )
    }
}

impl Arbitrary for Recipe {
    fn arbitrary(g: &mut Gen) -> Self {
        let max_d = g.size().max(1);
        Recipe::generate(g, max_d)
    }

    /// Smaller dimension first, then a simpler spectrum, then a scale nearer 1, then seed 0.
    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        let mut out = Vec::new();
        let r = self.clone();
        for d in [1, r.d / 2, r.d.saturating_sub(1)] {
            if d >= 1 && d < r.d {
                let mut c = r.clone();
                c.d = d;
                if let Spectrum::LowRank { rank } = c.spectrum {
                    c.spectrum = Spectrum::LowRank {
                        rank: rank.min(d as u8).max(1),
                    };
                }
                out.push(c);
            }
        }
        let simpler: Vec<Spectrum> = match r.spectrum {
            Spectrum::Isotropic => vec![],
            Spectrum::Spread => vec![Spectrum::Isotropic],
            Spectrum::Geometric { decades } => {
                let mut v = vec![Spectrum::Isotropic];
                if decades > 0 {
                    v.push(Spectrum::Geometric {
                        decades: decades / 2,
                    });
                    v.push(Spectrum::Geometric {
                        decades: decades - 1,
                    });
                }
                v
            }
            Spectrum::LowRank { rank } => {
                let mut v = vec![Spectrum::Isotropic, Spectrum::Spread];
                if rank > 1 {
                    v.push(Spectrum::LowRank { rank: rank - 1 });
                }
                v
            }
        };
        for s in simpler {
            let mut c = r.clone();
            c.spectrum = s;
            out.push(c);
        }
        if r.top != 0 {
            let mut c = r.clone();
            c.top = r.top / 2;
            out.push(c);
            let mut c = r.clone();
            c.top = r.top - r.top.signum();
            out.push(c);
        }
        if r.seed != 0 {
            let mut c = r.clone();
            c.seed = 0;
            out.push(c);
        }
        out.dedup();
        Box::new(out.into_iter())
    }
}
