"""The float32 estimate's factor against torch (docs/losses.md, "Estimated tolerances", "Why 8").

Every loss (the implementations of `sslproof_losses.py`, written like the official code) in
float32 on the CPU at seeded inputs (`sslproof.inputs`, seeds 0..SEEDS-1) of several shapes,
checked by `sslproof.check` with the estimated tolerance. For each case where the estimate
applies, torch's largest |error| / bound over our runs' (`tolerance_source["ratios"]`) — the
quantity the factor must exceed — and whether the check agreed. Exit 1 if any case is rejected.

    python examples/python/calibrate_estimate.py [--seeds 4] [--loss coding-rate]
"""

import argparse
import collections
import statistics
import sys
from pathlib import Path

import numpy as np
import torch

import sslproof

sys.path.insert(0, str(Path(__file__).parent))
from sslproof_losses import IMPLEMENTATIONS  # noqa: E402

# (loss, variant, shapes): d < B, d = B - 1, and d > B, small to medium.
CASES = [
    ("coding-rate", "mcr2", [(8, 24), (16, 48), (32, 96), (64, 256), (128, 64), (4, 16)]),
    ("coding-rate", "emp-ssl", [(8, 24), (16, 48), (32, 96), (64, 256), (128, 64), (4, 16)]),
    ("coding-rate", "lightly", [(8, 24), (16, 48), (32, 96)]),
    ("coding-rate", "simdino", [(8, 24), (16, 48), (32, 96), (64, 256), (128, 64)]),
    ("corinfomax", "running", [(8, 24), (16, 48), (32, 96), (4, 16), (64, 32), (128, 64), (24, 16), (64, 63)]),
    ("corinfomax", "one-batch", [(64, 32), (128, 64), (16, 8), (24, 16), (32, 31), (64, 63)]),
    ("align", "official", [(64, 32), (256, 128), (16, 8)]),
    ("vicreg", "official", [(64, 32), (8, 24), (128, 256)]),
    ("vicreg", "solo-learn", [(64, 32), (8, 24)]),
    ("barlow-twins", "official", [(64, 32), (8, 24), (128, 256)]),
    ("barlow-twins", "lightly", [(64, 32), (8, 24)]),
    ("nt-xent", "lightly", [(64, 32), (8, 24), (128, 16)]),
    ("nt-xent", "solo-learn", [(64, 32), (8, 24)]),
    ("simsiam", "official", [(64, 32), (8, 24), (128, 16)]),
    ("uniformity", "official", [(64, 32), (8, 24), (128, 16)]),
    ("uniformity", "lightly", [(64, 32), (8, 24)]),
]
STATE = ("mu1", "r1", "mu2", "r2")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=4, help="seeds per shape (default 4)")
    ap.add_argument("--loss", help="only this loss")
    args = ap.parse_args()
    rows, bound = [], collections.Counter()
    for loss, variant, shapes in CASES:
        if args.loss and loss != args.loss:
            continue
        v = next(x for x in sslproof.loss_info(loss)["variants"] if x["name"] == variant)
        params = {p["name"]: p["default"] for p in v["params"]}
        impl = IMPLEMENTATIONS[(loss, variant)]
        for b, d in shapes:
            for seed in range(args.seeds):
                xs = sslproof.inputs(loss, b, d, seed=seed, variant=variant)
                names = [f"z{i + 1}" for i in range(len(xs))] if v["variable_views"] else v["inputs"]
                with_grad = names if v["variable_views"] else v["grad_inputs"]
                ts = [torch.tensor(np.asarray(x), dtype=torch.float32, requires_grad=n not in STATE)
                      for n, x in zip(names, xs)]
                value = impl(ts, params)
                value.backward()
                # A stop-gradient input (SimSiam's z) has no grad: its gradient is zero.
                grads = [t.grad.double().numpy() if t.grad is not None else np.zeros(t.shape)
                         for n, t in zip(names, ts) if n in with_grad]
                r = sslproof.check(loss, [np.asarray(x, dtype=np.float32) for x in xs], float(value.detach()),
                                   grads, precision="f32", variant=variant, **params)
                src = r.tolerance_source
                if src["kind"] != "estimate":
                    bound[(loss, variant, src["why"][:60])] += 1
                    if not r.agrees and r.trustworthy:
                        rows.append((float("nan"), float("nan"), loss, variant, b, d, seed, False))
                    continue
                # Only the inputs whose tolerance was estimated (the others keep the bound).
                over = [g.max_ratio * s / q for g, s, q, n in
                        zip(r.grads, src["scales"], src["ratios"], src["erred"]) if n >= 32 and q > 0]
                rows.append((max(over, default=0.0), max(g.max_ratio for g in r.grads), loss, variant, b, d,
                             seed, r.agrees))
    est = [w for w in rows if w[0] == w[0]]
    print(f"torch {torch.__version__}; {len(rows)} cases checked with an estimate or rejected, "
          f"{sum(bound.values())} kept the bound")
    if est:
        print(f"torch's rho / ours: median {statistics.median(w[0] for w in est):.2f}")
    by = collections.defaultdict(list)
    for w in est:
        by[w[2]].append(w[0])
    for k, vals in by.items():
        print(f"  {k:<14} {len(vals):>4} cases  largest {max(vals):.2f}  median {statistics.median(vals):.2f}")
    print("largest:")
    for w in sorted(est, reverse=True)[:8]:
        print(f"  {w[0]:.2f}  worst entry {w[1]:.3f} of its tolerance  {w[2]} {w[3]} {w[4]}x{w[5]} seed {w[6]}")
    for k, n in sorted(bound.items()):
        print(f"  bound kept {n:>3}x: {k[0]} {k[1]}: {k[2]}...")
    bad = [w for w in rows if not w[7]]
    for w in bad:
        print(f"  REJECTED: {w[2]} {w[3]} {w[4]}x{w[5]} seed {w[6]}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
