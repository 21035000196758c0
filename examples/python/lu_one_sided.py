"""The official LU's one-sided error in the coding rate's feature form (docs/losses.md, "Beyond
the bound"; `coding_rate::lu_one_sided` in the Rust crate).

For each case: torch's float32 gradient of the coding rate as the official code writes it
(`sslproof_losses.py`: the d × d feature form, `torch.logdet`) against torch's float64 gradient
at the same (float32-rounded) inputs; the model's magnitude T_ij = (c/2)·h_i·√q_j·√d·u computed
here in numpy from its formula, independently of the Rust code (q_k = ‖D_a^{1/2} A⁻¹ e_k‖²,
h_i² = Σ_k z_ik² q_k, A = I + cZᵀZ, D_a = diag(A), u = 2⁻²⁴); the row interchanges LAPACK's
sgetrf makes on A in float32; and `sslproof.check`'s verdict on torch's numbers with the bound
alone (`tolerance="bound"`) and with the default estimate, with torch's largest |error| / bound.
Exit 1 if `check` rejects any case. Needs torch, scipy and the package (`pip install ./python`).

    python examples/python/lu_one_sided.py [--quick] [--seeds N]
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import scipy.linalg as sl
import torch

import sslproof

sys.path.insert(0, str(Path(__file__).parent))
from sslproof_losses import IMPLEMENTATIONS  # noqa: E402

U = 2.0 ** -24
CASES = {
    "emp-ssl": [(4, 1024), (8, 1024), (16, 512), (32, 512), (64, 512), (128, 512), (16, 1024), (64, 1024),
                (16, 2048), (16, 3072), (128, 4096)],
    "mcr2": [(4, 1024), (16, 1024), (4, 2048), (16, 2048), (16, 3072), (128, 4096)],
}
QUICK = {"emp-ssl": [(4, 1024), (16, 512), (64, 512), (16, 1024)], "mcr2": [(4, 1024), (16, 1024)]}


def grads(variant, z, dtype, params):
    t = torch.tensor(z, dtype=dtype, requires_grad=True)
    IMPLEMENTATIONS[("coding-rate", variant)]([t], params).backward()
    return t.grad.double().numpy()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="d ≤ 1024 only (seconds, not minutes)")
    ap.add_argument("--seeds", type=int, default=1, help="seeds per shape (default 1)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    print(f"torch {torch.__version__}; err = torch f32 vs torch f64 gradient; T = the model's magnitude (before λ = 6)")
    print(f"{'variant':<8} {'B x d':>10} seed {'swaps':>5} {'err/gmax':>9} {'max err/T':>9} {'bound':>9} {'estimate':>9}")
    worst, rejected = 0.0, []
    for variant, shapes in (QUICK if args.quick else CASES).items():
        info = next(x for x in sslproof.loss_info("coding-rate")["variants"] if x["name"] == variant)
        params = {p["name"]: p["default"] for p in info["params"]}
        for b, d in shapes:
            for seed in range(args.seeds):
                z = np.asarray(sslproof.inputs("coding-rate", b, d, seed=seed, variant=variant)[0], dtype=np.float32)
                z64 = z.astype(np.float64)
                g32, g64 = grads(variant, z64, torch.float32, params), grads(variant, z64, torch.float64, params)
                err = np.abs(g32 - g64)
                c = d / (b * params["eps"])
                a_mat = np.eye(d) + c * z64.T @ z64
                ai = np.linalg.inv(a_mat)
                q = np.einsum("mk,m,mk->k", ai, np.diag(a_mat), ai)
                h = np.sqrt((z64 ** 2) @ q)
                t = (c / 2) * np.sqrt(d) * U * np.outer(h, np.sqrt(q))
                swaps = int((sl.lu_factor(a_mat.astype(np.float32))[1] != np.arange(d)).sum())
                value = float(IMPLEMENTATIONS[("coding-rate", variant)]([torch.tensor(z)], params))
                out = []
                for tol in ("bound", "estimate"):
                    r = sslproof.check("coding-rate", [z], value, [g32], precision="f32", variant=variant,
                                       tolerance=tol, **params)
                    verdict = "AGREES" if r.agrees else ("exit 3" if not r.trustworthy else "REJECTED")
                    out.append(f"{verdict}" + (f" {max(g.max_ratio for g in r.grads):.2f}" if r.trustworthy else ""))
                    if r.trustworthy and not r.agrees:
                        rejected.append((variant, b, d, seed, tol))
                worst = max(worst, float((err / t).max()))
                print(f"{variant:<8} {f'{b}x{d}':>10} {seed:>4} {swaps:>5} {err.max() / np.abs(g64).max():>9.1e} "
                      f"{(err / t).max():>9.3f} {out[0]:>9} {out[1]:>9}", flush=True)
    print(f"largest err/T: {worst:.3f} (the bound takes λ·T, λ = 6)")
    for x in rejected:
        print(f"REJECTED: {x}")
    sys.exit(1 if rejected else 0)


if __name__ == "__main__":
    main()
