//! Contrastive and predictor losses (reference-implementations.md §1.5, §1.6, §3.1) at high
//! precision, with the gradients that autograd computes.

use rug::Float;

use crate::covariance::{BatchError, require_same_shape};
use crate::vicreg::LossAndGrad;
use sslproof::hp::Mat;

fn check_views(a: &Mat, b: &Mat) -> Result<(), BatchError> {
    require_same_shape(a, b)?;
    if a.rows() == 0 || a.cols() == 0 {
        return Err(BatchError::Empty {
            b: a.rows(),
            d: a.cols(),
        });
    }
    a.require_finite()?;
    b.require_finite()?;
    Ok(())
}

fn row(m: &Mat, i: usize) -> Vec<Float> {
    (0..m.cols()).map(|j| m.at(i, j).clone()).collect()
}

fn dot(a: &[Float], b: &[Float]) -> Float {
    let prec = a[0].prec();
    a.iter().zip(b).fold(Float::new(prec), |s, (x, y)| {
        s + Float::with_val(prec, x * y)
    })
}

/// `(I − uuᵀ) g / ‖z‖`: a gradient with respect to `u = z/‖z‖` carried back to `z` (D1).
fn through_normalisation(z: &[Float], g: &[Float]) -> Vec<Float> {
    let prec = z[0].prec();
    let n = dot(z, z).sqrt();
    let u: Vec<Float> = z.iter().map(|x| Float::with_val(prec, x / &n)).collect();
    let ug = dot(&u, g);
    u.iter()
        .zip(g)
        .map(|(ui, gi)| Float::with_val(prec, gi - Float::with_val(prec, ui * &ug)) / &n)
        .collect()
}

/// NT-Xent as in lightly's `NTXentLoss` (no memory bank): both views L2-normalised, `2B` rows,
/// each row's positive is its partner in the other view, its negatives the other `2B − 2` rows
/// (self excluded), mean cross-entropy over the `2B` rows. Default `τ = 0.5`.
pub fn nt_xent(z1: &Mat, z2: &Mat, tau: &Float) -> Result<LossAndGrad, BatchError> {
    nt_xent_views(&[z1, z2], tau)
}

/// NT-Xent over `V ≥ 2` views (solo-learn's `simclr_loss_func`): the positives of a row are the
/// rows with the same index in the other views, **summed inside the log**:
/// `L = mean_k [log Σ_{j≠k} e^{s_kj} − log Σ_{p∈P(k)} e^{s_kp}]`, `s = cos/τ`. For two views this
/// is [`nt_xent`]. Gradients for every view.
pub fn nt_xent_views(views: &[&Mat], tau: &Float) -> Result<LossAndGrad, BatchError> {
    if views.len() < 2 {
        return Err(BatchError::Empty { b: 0, d: 0 });
    }
    for v in &views[1..] {
        check_views(views[0], v)?;
    }
    check_views(views[0], views[0])?;
    let (b, d, prec) = (views[0].rows(), views[0].cols(), views[0].prec());
    if b < 2 && views.len() == 2 {
        return Err(BatchError::TooFewSamples { b });
    }
    let raw: Vec<Vec<Float>> = views
        .iter()
        .flat_map(|v| (0..b).map(move |i| row(v, i)))
        .collect();
    let u: Vec<Vec<Float>> = raw
        .iter()
        .map(|z| {
            let n = dot(z, z).sqrt();
            z.iter().map(|x| Float::with_val(prec, x / &n)).collect()
        })
        .collect();
    let n = raw.len();
    let is_pos = |k: usize, j: usize| j != k && j % b == k % b;
    // ∂L/∂s_kj = (q_kj − w_kj)/N: q the softmax over j ≠ k, w the softmax over the positives.
    let mut g = vec![vec![Float::new(prec); n]; n];
    let mut value = Float::new(prec);
    for k in 0..n {
        let logits: Vec<Float> = (0..n).map(|j| dot(&u[k], &u[j]) / tau).collect();
        let m = (0..n).filter(|&j| j != k).map(|j| logits[j].clone()).fold(
            Float::with_val(prec, f64::NEG_INFINITY),
            |a, x| {
                if x > a { x } else { a }
            },
        );
        let e: Vec<Float> = (0..n)
            .map(|j| Float::with_val(prec, &logits[j] - &m).exp())
            .collect();
        let zd = (0..n)
            .filter(|&j| j != k)
            .fold(Float::new(prec), |s, j| s + &e[j]);
        let zp = (0..n)
            .filter(|&j| is_pos(k, j))
            .fold(Float::new(prec), |s, j| s + &e[j]);
        value += Float::with_val(prec, zd.ln_ref()) - Float::with_val(prec, zp.ln_ref());
        for j in (0..n).filter(|&j| j != k) {
            let q = Float::with_val(prec, &e[j] / &zd);
            let w = if is_pos(k, j) {
                Float::with_val(prec, &e[j] / &zp)
            } else {
                Float::new(prec)
            };
            g[k][j] = (q - w) / n as u64;
        }
    }
    value /= n as u64;
    // s = UUᵀ/τ ⇒ ∂L/∂u_k = (1/τ) Σ_j (G_kj + G_jk) u_j.
    let grads_u: Vec<Vec<Float>> = (0..n)
        .map(|k| {
            (0..d)
                .map(|c| {
                    let mut s = Float::new(prec);
                    for j in (0..n).filter(|&j| j != k) {
                        let w = Float::with_val(prec, &g[k][j] + &g[j][k]);
                        s += Float::with_val(prec, &w * &u[j][c]);
                    }
                    s / tau
                })
                .collect()
        })
        .collect();
    let gz: Vec<Vec<Float>> = (0..n)
        .map(|k| through_normalisation(&raw[k], &grads_u[k]))
        .collect();
    Ok(LossAndGrad {
        value,
        grads: (0..views.len())
            .map(|v| Mat::from_fn(b, d, prec, |i, j| gz[v * b + i][j].clone()))
            .collect(),
    })
}

/// SimSiam (official): `L = −½[mean cos(p₁, sg(z₂)) + mean cos(p₂, sg(z₁))]`. Gradients are
/// returned for `(p₁, p₂, z₁, z₂)` as autograd computes them: zero for `z₁, z₂` (stop-gradient).
pub fn simsiam(p1: &Mat, p2: &Mat, z1: &Mat, z2: &Mat) -> Result<LossAndGrad, BatchError> {
    check_views(p1, z2)?;
    check_views(p2, z1)?;
    let (b, d, prec) = (p1.rows(), p1.cols(), p1.prec());
    let half_mean_cos_grad = |p: &Mat, z: &Mat| -> (Float, Mat) {
        let mut total = Float::new(prec);
        let mut rows = Vec::with_capacity(b);
        for i in 0..b {
            let (pi, zi) = (row(p, i), row(z, i));
            let zn = dot(&zi, &zi).sqrt();
            let zhat: Vec<Float> = zi.iter().map(|x| Float::with_val(prec, x / &zn)).collect();
            let pn = dot(&pi, &pi).sqrt();
            total += dot(&pi, &zhat) / &pn;
            // ∂cos/∂p = (I − p̂p̂ᵀ) ẑ / ‖p‖, scaled by −½/B.
            let g = through_normalisation(&pi, &zhat);
            rows.push(
                g.into_iter()
                    .map(|x| -x / (2 * b) as u64)
                    .collect::<Vec<_>>(),
            );
        }
        (
            -(total / (2 * b) as u64),
            Mat::from_fn(b, d, prec, |i, j| rows[i][j].clone()),
        )
    };
    let (l1, g1) = half_mean_cos_grad(p1, z2);
    let (l2, g2) = half_mean_cos_grad(p2, z1);
    Ok(LossAndGrad {
        value: l1 + l2,
        grads: vec![g1, g2, Mat::zeros(b, d, prec), Mat::zeros(b, d, prec)],
    })
}

/// Wang & Isola's alignment `mean_i ‖x_i − y_i‖^α` (official default `α = 2`), gradients for
/// `(x, y)`.
pub fn align(x: &Mat, y: &Mat, alpha: u32) -> Result<LossAndGrad, BatchError> {
    check_views(x, y)?;
    let (b, d, prec) = (x.rows(), x.cols(), x.prec());
    let diff = x.sub(y)?;
    let mut value = Float::new(prec);
    let mut g = Mat::zeros(b, d, prec);
    for i in 0..b {
        let r = row(&diff, i);
        let n2 = dot(&r, &r);
        let n = Float::with_val(prec, n2.sqrt_ref());
        value += Float::with_val(prec, rug::ops::Pow::pow(n.clone(), alpha));
        // ∂‖r‖^α/∂r = α ‖r‖^(α−2) r.
        let coef = if alpha == 2 {
            Float::with_val(prec, 2)
        } else {
            Float::with_val(prec, rug::ops::Pow::pow(n, alpha as i32 - 2)) * alpha
        };
        for j in 0..d {
            *g.at_mut(i, j) = Float::with_val(prec, &coef * &r[j]) / b as u64;
        }
    }
    let gy = g.scale(&Float::with_val(prec, -1));
    Ok(LossAndGrad {
        value: value / b as u64,
        grads: vec![g, gy],
    })
}

/// Wang & Isola's uniformity `log mean_{i<j} exp(−t‖x_i − x_j‖²)` (official default `t = 2`;
/// `pdist` uses pairs `i < j` only), gradient for `x`.
pub fn uniformity(x: &Mat, t: &Float) -> Result<LossAndGrad, BatchError> {
    let (b, d, prec) = (x.rows(), x.cols(), x.prec());
    if b < 2 {
        return Err(BatchError::TooFewSamples { b });
    }
    x.require_finite()?;
    let mut weights = Vec::new();
    let mut total = Float::new(prec);
    for i in 0..b {
        for j in (i + 1)..b {
            let r: Vec<Float> = (0..d)
                .map(|c| Float::with_val(prec, x.at(i, c) - x.at(j, c)))
                .collect();
            let w = (-Float::with_val(prec, t * dot(&r, &r))).exp();
            total += &w;
            weights.push((i, j, w, r));
        }
    }
    let pairs = weights.len() as u64;
    let value = Float::with_val(prec, &total / pairs).ln();
    // ∂/∂x_i of log Σ w = Σ_pairs (w/Σw)(−2t)(x_i − x_j), opposite sign for x_j.
    let mut g = Mat::zeros(b, d, prec);
    for (i, j, w, r) in &weights {
        let coef = Float::with_val(prec, w / &total) * Float::with_val(prec, t * -2i32);
        for c in 0..d {
            let v = Float::with_val(prec, &coef * &r[c]);
            *g.at_mut(*i, c) += &v;
            *g.at_mut(*j, c) -= &v;
        }
    }
    Ok(LossAndGrad {
        value,
        grads: vec![g],
    })
}
