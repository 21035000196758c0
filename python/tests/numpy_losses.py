"""numpy implementations of the losses, written from the official code's conventions
(`../shared/reference-implementations.md`), each with a hand-written gradient, and knobs that plant
the common mistakes. Independent of the Rust code: what a numpy user would write.

Each ``make(loss, **knobs)`` returns ``(fn, grad_fn)`` with ``fn(*inputs) -> scalar`` and
``grad_fn(*inputs) -> [gradients]``; they compute in the dtype of their inputs.
"""

import numpy as np


def _offdiag(c):
    return c - np.diag(np.diag(c))


# --- VICReg (official: sim 25, std 25, cov 1, gamma 1, eps 1e-4) -----------------------------


def vicreg(biased=False, cov_uncentred=False, squared_hinge=False, missing_half=False, sign=1.0,
           sim=25.0, std=25.0, cov=1.0, gamma=1.0, eps=1e-4):
    def parts(x):
        n, d = x.shape
        div = n if biased else n - 1
        xc = x - x.mean(axis=0)
        s = np.sqrt((xc * xc).sum(axis=0) / div + eps)
        h = np.maximum(gamma - s, 0)
        v = (h * h).mean() if squared_hinge else h.mean()
        dv_ds = (-2 * h if squared_hinge else -(h > 0).astype(x.dtype)) / d
        gv = xc / (div * s) * dv_ds  # dv/dx: d std_j / dx_ij = xc_ij / ((n-1) std_j)
        xk = x if cov_uncentred else xc
        c = xk.T @ xk / div
        od = _offdiag(c)
        cv = (od * od).sum() / d
        gc = 4 * xk @ od / (d * div)
        return v, gv, cv, gc

    half = 1.0 if missing_half else 0.5

    def fn(z1, z2):
        n, d = z1.shape
        inv = ((z1 - z2) ** 2).mean()
        v1, _, c1, _ = parts(z1)
        v2, _, c2, _ = parts(z2)
        return sign * (sim * inv + std * half * (v1 + v2) + cov * (c1 + c2))

    def grad(z1, z2):
        n, d = z1.shape
        gi = sim * 2 * (z1 - z2) / (n * d)
        _, gv1, _, gc1 = parts(z1)
        _, gv2, _, gc2 = parts(z2)
        return [sign * (gi + std * half * gv1 + cov * gc1), sign * (-gi + std * half * gv2 + cov * gc2)]

    return fn, grad


# --- Barlow Twins (official: BatchNorm without affine, biased variance, eps 1e-5) ------------


def barlow_twins(unbiased_bn=False, sign=1.0, lambd=0.0051, bn_eps=1e-5):
    def bn(x):
        n = x.shape[0]
        xc = x - x.mean(axis=0)
        var = (xc * xc).sum(axis=0) / (n - 1 if unbiased_bn else n)
        s = np.sqrt(var + bn_eps)
        return xc / s, s

    def bn_back(a, s, da):
        n = a.shape[0]
        k = n - 1 if unbiased_bn else n
        return (da - da.mean(axis=0) - a * (da * a).sum(axis=0) / k) / s

    def fn(z1, z2):
        n = z1.shape[0]
        a, _ = bn(z1)
        b, _ = bn(z2)
        c = a.T @ b / n
        on = ((1 - np.diag(c)) ** 2).sum()
        off = (_offdiag(c) ** 2).sum()
        return sign * (on + lambd * off)

    def grad(z1, z2):
        n = z1.shape[0]
        a, s1 = bn(z1)
        b, s2 = bn(z2)
        c = a.T @ b / n
        g = 2 * lambd * _offdiag(c) - 2 * np.diag(1 - np.diag(c))
        da = b @ g.T / n
        db = a @ g / n
        return [sign * bn_back(a, s1, da), sign * bn_back(b, s2, db)]

    return fn, grad


# --- the coding rate (MCR²: R = ½ log det(I + d/(m·eps) ZᵀZ), uncentred) ---------------------


def coding_rate(eps=0.5, eps_squared=False, centred=False, missing_half=False, sign=1.0):
    e = eps * eps if eps_squared else eps
    half = 1.0 if missing_half else 0.5

    def fn(z):
        m, d = z.shape
        x = z - z.mean(axis=0) if centred else z
        _, ld = np.linalg.slogdet(np.eye(d, dtype=z.dtype) + d / (m * e) * x.T @ x)
        return sign * half * ld

    def grad(z):
        m, d = z.shape
        x = z - z.mean(axis=0) if centred else z
        c = d / (m * e)
        g = 2 * half * c * x @ np.linalg.inv(np.eye(d, dtype=z.dtype) + c * x.T @ x)
        if centred:
            g = g - g.mean(axis=0)
        return [sign * g]

    return fn, grad


# --- CorInfoMax (one batch: α·mse − (1/d)[log det(R1+εI) + log det(R2+εI)], R = ẑᵀẑ/N) -------


def corinfomax(alpha=500.0, eps=1e-6, unbiased=False, uncentred=False, missing_per_dim=False, sign=1.0):
    def ld(z):
        n, d = z.shape
        x = z if uncentred else z - z.mean(axis=0)
        a = x.T @ x / (n - 1 if unbiased else n) + eps * np.eye(d, dtype=z.dtype)
        return np.linalg.slogdet(a)[1], 2 * x @ np.linalg.inv(a) / (n - 1 if unbiased else n)

    def fn(z1, z2):
        n, d = z1.shape
        k = 1 if missing_per_dim else d
        return sign * (alpha * ((z1 - z2) ** 2).mean() - (ld(z1)[0] + ld(z2)[0]) / k)

    def grad(z1, z2):
        n, d = z1.shape
        k = 1 if missing_per_dim else d
        gm = alpha * 2 * (z1 - z2) / (n * d)
        return [sign * (gm - ld(z1)[1] / k), sign * (-gm - ld(z2)[1] / k)]

    return fn, grad


# --- NT-Xent (SimCLR as lightly: 2B rows, self masked, cos/τ, mean cross-entropy) ------------


def nt_xent(tau=0.5, self_in_denominator=False, unnormalised=False, sign=1.0):
    def forward(z1, z2):
        x = np.concatenate([z1, z2])
        norm = np.linalg.norm(x, axis=1, keepdims=True)
        z = x if unnormalised else x / norm
        s = z @ z.T / tau
        nn_ = x.shape[0]
        b = nn_ // 2
        if not self_in_denominator:
            s = s + np.diag(np.full(nn_, -np.inf, dtype=x.dtype))
        pos = np.concatenate([np.arange(b) + b, np.arange(b)])
        mx = s.max(axis=1, keepdims=True)
        e = np.exp(s - mx)
        lse = mx[:, 0] + np.log(e.sum(axis=1))
        loss = (lse - s[np.arange(nn_), pos]).mean()
        return loss, x, norm, z, e / e.sum(axis=1, keepdims=True), pos

    def fn(z1, z2):
        return sign * forward(z1, z2)[0]

    def grad(z1, z2):
        _, x, norm, z, p, pos = forward(z1, z2)
        nn_ = x.shape[0]
        gs = p.copy()
        gs[np.arange(nn_), pos] -= 1
        gs /= nn_
        gz = (gs + gs.T) @ z / tau
        if unnormalised:
            gx = gz
        else:
            gx = (gz - z * (z * gz).sum(axis=1, keepdims=True)) / norm
        b = z1.shape[0]
        return [sign * gx[:b], sign * gx[b:]]

    return fn, grad


# --- SimSiam (official: −½[mean cos(p1, sg(z2)) + mean cos(p2, sg(z1))]) ---------------------


def simsiam(missing_half=False, sign=1.0, stop_gradient=True):
    half = 1.0 if missing_half else 0.5

    def cos(p, z):
        return (p * z).sum(axis=1) / (np.linalg.norm(p, axis=1) * np.linalg.norm(z, axis=1))

    def dcos_dp(p, z):
        np_ = np.linalg.norm(p, axis=1, keepdims=True)
        nz = np.linalg.norm(z, axis=1, keepdims=True)
        c = cos(p, z)[:, None]
        return z / (np_ * nz) - c * p / np_**2

    def fn(p1, p2, z1, z2):
        return sign * -half * (cos(p1, z2).mean() + cos(p2, z1).mean())

    def grad(p1, p2, z1, z2):
        b = p1.shape[0]
        k = sign * -half / b
        gz1 = k * dcos_dp(z1, p2) if not stop_gradient else np.zeros_like(z1)
        gz2 = k * dcos_dp(z2, p1) if not stop_gradient else np.zeros_like(z2)
        return [k * dcos_dp(p1, z2), k * dcos_dp(p2, z1), gz1, gz2]

    return fn, grad


# --- Wang & Isola: alignment and uniformity ----------------------------------------------------


def align(alpha=2.0, summed=False):
    def fn(x, y):
        r = (np.linalg.norm(x - y, axis=1) ** alpha)
        return r.sum() if summed else r.mean()

    def grad(x, y):
        dv = x - y
        nrm = np.linalg.norm(dv, axis=1, keepdims=True)
        g = alpha * nrm ** (alpha - 2) * dv / (1 if summed else x.shape[0])
        return [g, -g]

    return fn, grad


def uniformity(t=2.0, include_self=False):
    def fn(z):
        d2 = ((z[:, None, :] - z[None, :, :]) ** 2).sum(axis=2)
        n = z.shape[0]
        if include_self:
            vals = d2.ravel()
        else:
            vals = d2[np.triu_indices(n, 1)]
        m = (-t * vals).max()
        return m + np.log(np.exp(-t * vals - m).mean())

    def grad(z):
        n = z.shape[0]
        diff = z[:, None, :] - z[None, :, :]
        d2 = (diff**2).sum(axis=2)
        w = np.exp(-t * d2)
        if not include_self:
            w = w - np.diag(np.diag(w))
            total = w[np.triu_indices(n, 1)].sum()
        else:
            total = w.sum()
        # dL/dz_i = Σ_j (w_ij/total) · (−t) · 2(z_i − z_j), counted once per unordered pair for
        # i < j; with all n² ordered pairs, each pair appears twice.
        k = 2.0 if include_self else 1.0
        g = (-2 * t * k / total) * (w[:, :, None] * diff).sum(axis=1)
        return [g]

    return fn, grad


IMPLEMENTATIONS = {
    "vicreg": vicreg,
    "barlow-twins": barlow_twins,
    "coding-rate": coding_rate,
    "corinfomax": corinfomax,
    "nt-xent": nt_xent,
    "simsiam": simsiam,
    "align": align,
    "uniformity": uniformity,
}
