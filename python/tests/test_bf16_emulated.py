"""The bfloat16 rounding model against bfloat16 arithmetic emulated in numpy, so that CI holds it
without torch: NT-Xent (two views) computed as torch's CPU autocast computes it is never rejected
at ``precision="bf16"`` (it agrees, or the model says it cannot conclude), and it concludes on
most shapes."""

import numpy as np
import pytest

import sslproof


def bf16(x):
    """float32 rounded to bfloat16 (to nearest, ties to even), kept as float32."""
    i = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    i = (i + 0x7FFF + ((i >> 16) & 1)) & 0xFFFF0000
    return i.astype(np.uint32).view(np.float32)


def _lse(s):
    """torch.logsumexp on a bfloat16 tensor: accumulated in float32, its output rounded, and its
    backward weights exp(s − lse) rounded too."""
    mx = s.max(axis=1, keepdims=True)
    lse = bf16(mx + np.log(np.exp(s - mx).sum(axis=1, keepdims=True)))
    return lse[:, 0], bf16(np.exp(bf16(s - lse)))


def nt_xent_bf16(z1, z2, tau):
    """examples/python/sslproof_losses.py's nt_xent (lightly; solo-learn with two views) under
    torch.autocast(bfloat16), emulated: the logits' matrix product with bfloat16 operands and
    output, the division by τ, logsumexp and the mean in bfloat16, normalisation in float32."""
    x = np.concatenate([z1, z2]).astype(np.float32)
    n, b = x.shape[0], z1.shape[0]
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    z = x / norm
    zb = bf16(z)
    s = bf16(bf16(zb @ zb.T) / np.float32(tau))
    idx = np.arange(n) % b
    self_mask = np.eye(n, dtype=bool)
    pos_mask = (idx[:, None] == idx[None, :]) & ~self_mask
    den, p_den = _lse(np.where(self_mask, -np.inf, s).astype(np.float32))
    pos, p_pos = _lse(np.where(pos_mask, s, -np.inf).astype(np.float32))
    value = float(bf16(np.array([bf16(den - pos).mean()], dtype=np.float32))[0])
    # Backward: the mean's 1/N, each logsumexp's weights, summed into the logits' gradient.
    g = bf16(bf16(p_den / np.float32(n)) - bf16(p_pos / np.float32(n)))
    g = bf16(g / np.float32(tau))
    gz = bf16(bf16(g @ zb) + bf16(g.T @ zb))  # the two backward products, summed in bfloat16
    gx = (gz - z * (z * gz).sum(axis=1, keepdims=True)) / norm
    return value, [gx[:b], gx[b:]]


@pytest.mark.parametrize("variant,tau", [("lightly", 0.5), ("solo-learn", 0.1)])
def test_emulated_bf16_nt_xent_is_never_rejected(variant, tau):
    """The estimated tolerance (the default) and the bound. Seeds 0–3 at 8 × 24: torch's CPU
    autocast was rejected there (solo-learn, seed 0) by an estimate that rounded only the matrix
    products; the estimate's NT-Xent now rounds the logits, log-sum-exps and softmax weights as
    autocast does."""
    for tolerance in ("estimate", "bound"):
        concluded = 0
        shapes = [(16, 8, 0), (64, 32, 0), (96, 4, 0), (256, 128, 0), (5, 64, 0)]
        shapes += [(8, 24, s) for s in range(4)]
        for b, d, seed in shapes:
            z1, z2 = sslproof.inputs("nt-xent", b, d, seed=seed, variant=variant,
                                     views=2 if variant == "solo-learn" else None)
            value, grads = nt_xent_bf16(z1, z2, tau)
            r = sslproof.check("nt-xent", [z1, z2], value, grads, precision="bf16", variant=variant,
                               tolerance=tolerance)
            assert r.agrees or not r.trustworthy, f"{variant} {b}×{d} seed {seed} ({tolerance}):\n{r}"
            concluded += r.agrees
        assert concluded >= 3, f"{variant} ({tolerance}): only {concluded} of {len(shapes)} shapes concluded"
