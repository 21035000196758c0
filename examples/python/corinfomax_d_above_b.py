"""Why CorInfoMax at 512×2048 (one batch, d > B) misses the power targets (docs/validation/power.md,
"Where the targets are not met"): what correct implementations compute there.

At the power table's input (`sslproof.inputs("corinfomax", 512, 2048, seed=20261202)`, and the
seeds given), for the default variant `one-batch` (ε = 1e-6: the covariance's 2048 − 511
null-space eigenvalues are exactly ε):

- float32: the eigenvalues (in float64) of the covariance R + εI that torch forms in float32, how
  many are negative, and whether torch's float32 loss (the official code's `torch.logdet`, LU) is
  finite: where it is not, no correct float32 number exists to check, and exit 3 is the answer;
- float64: torch's float64 loss (LU) against sslproof's own float64 implementation (Cholesky):
  the largest gradient difference relative to the gradient's largest entry, the floor below which
  a tolerance would reject one of two correct float64 implementations.

    python examples/python/corinfomax_d_above_b.py [--b 512] [--d 2048] [--seeds 20261202,0,1]
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

import sslproof

sys.path.insert(0, str(Path(__file__).parent))
from calibrate_estimate import default_params  # noqa: E402
from sslproof_losses import IMPLEMENTATIONS  # noqa: E402


def torch_loss(xs, params, dtype):
    ts = [torch.tensor(np.asarray(x), dtype=dtype, requires_grad=True) for x in xs]
    value = IMPLEMENTATIONS[("corinfomax", "one-batch")](ts, params)
    value.backward()
    return float(value.detach()), [t.grad.double().numpy() for t in ts]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--b", type=int, default=512)
    ap.add_argument("--d", type=int, default=2048)
    ap.add_argument("--seeds", default="20261202,0,1", help="comma-separated (default 20261202,0,1)")
    args = ap.parse_args()
    params = default_params("corinfomax", "one-batch")
    print(f"torch {torch.__version__}; CorInfoMax one-batch {args.b}x{args.d}, eps = {params['eps']}")
    for seed in (int(s) for s in args.seeds.split(",")):
        xs = sslproof.inputs("corinfomax", args.b, args.d, seed=seed, variant="one-batch")
        z = torch.tensor(np.asarray(xs[0]), dtype=torch.float32)
        zc = z - z.mean(dim=0)
        r = zc.T @ zc / args.b + params["eps"] * torch.eye(args.d)
        ev = torch.linalg.eigvalsh(r.double())
        v32, g32 = torch_loss(xs, params, torch.float32)
        finite = np.isfinite(v32) and all(np.isfinite(g).all() for g in g32)
        v64, g64 = torch_loss(xs, params, torch.float64)
        ov, og = sslproof.evaluate("corinfomax", *xs, variant="one-batch", **params)
        gmax = max(np.abs(g).max() for g in og)
        diff = max(np.abs(a - b).max() for a, b in zip(g64, og))
        print(f"seed {seed}: float32 covariance of z1: smallest eigenvalue {ev.min():.2e} "
              f"(exact >= {params['eps']:.0e}), {int((ev < 0).sum())} negative; torch float32 loss "
              f"{'finite' if finite else 'NOT finite'} (value {v32:.6g})")
        print(f"    float64: torch (LU) vs sslproof (Cholesky): value |diff|/|value| "
              f"{abs(v64 - ov) / abs(ov):.2e}, gradient max |diff| / max |g| {diff / gmax:.2e}")


if __name__ == "__main__":
    main()
