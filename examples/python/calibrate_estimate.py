"""The estimate's factor against torch (docs/losses.md, "Estimated tolerances", "Why 8").

Every loss (the implementations of `sslproof_losses.py`, written like the official code) on the
CPU at seeded inputs (`sslproof.inputs`, seeds 0..SEEDS-1) of several shapes, in float32, TF32
(emulated as validate_tolerance.py does: every 2-D matrix product's operands rounded) or
bfloat16 autocast, checked by `sslproof.check` with the estimated tolerance. For each case where
the estimate applies, torch's largest |error| / bound over our runs' (`tolerance_source["ratios"]`;
in TF32 and bfloat16, where each entry's factor comes from its row and column, over our runs' in
the worst entry's row and column: `max_ratio · factor` where the factor is not clamped) — the
quantity the factor must exceed — and whether the check agreed; for the cases `check` calls
untrustworthy (exit 3), torch's actual gradient error relative to the gradient's largest entry.
Exit 1 if any case is rejected.

    python examples/python/calibrate_estimate.py [--seeds 4] [--loss coding-rate] [--precision bf16]
        [--tolerance bound] [--wide]
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
from validate_tolerance import emulated_tf32, over_ours  # noqa: E402

# (loss, variant, shapes): d < B, d = B - 1, and d > B, small to medium.
CASES = [
    ("coding-rate", "mcr2", [(8, 24), (16, 48), (32, 96), (64, 256), (128, 64), (4, 16)]),
    ("coding-rate", "emp-ssl", [(8, 24), (16, 48), (32, 96), (64, 256), (128, 64), (4, 16)]),
    ("coding-rate", "lightly", [(8, 24), (16, 48), (32, 96)]),
    ("coding-rate", "simdino", [(8, 24), (16, 48), (32, 96), (64, 256), (128, 64)]),
    ("corinfomax", "running", [(8, 24), (16, 48), (32, 96), (4, 16), (64, 32), (128, 64), (24, 16), (64, 63)]),
    ("corinfomax", "one-batch", [(64, 32), (128, 64), (16, 8), (24, 16), (32, 31), (64, 63), (4, 16), (8, 24), (16, 48), (32, 96)]),
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
# The coding rate with d ≫ B (`--wide`; minutes: the feature form costs d³, in torch and in our
# runs): up to the feature form's limit (coding_rate::FEATURE_FORM_MAX_D = 8192 since the sixth
# stop of 2026-12-03, when the blocked LU of `dense` made it affordable; 2048 before), where the
# estimate's runs take the official d × d feature form. Estimating from our B × B runs alone
# beyond the limit was tried (2026-12-03, fourth stop) and refuted: torch's feature form erred
# up to 1886× our runs in TF32. In float32, torch's feature form with EMP-SSL's and lightly's ε
# at B = 16 errs 0.3–7.3 % of the gradient's largest entry (docs/losses.md, "Beyond the bound").
WIDE_CASES = [
    (loss, variant, [(16, 1024), (16, 2048), (16, 3072), (128, 4096), (512, 4096), (64, 8192), (512, 8192)])
    for loss, variant in [("coding-rate", "mcr2"), ("coding-rate", "emp-ssl"), ("coding-rate", "lightly"),
                          ("coding-rate", "simdino")]
]
STATE = ("mu1", "r1", "mu2", "r2")


def variant_info(loss, variant):
    return next(x for x in sslproof.loss_info(loss)["variants"] if x["name"] == variant)


def default_params(loss, variant):
    return {p["name"]: p["default"] for p in variant_info(loss, variant)["params"]}


def input_names(loss, variant, n):
    """The names of the variant's `n` inputs, and those with a gradient."""
    v = variant_info(loss, variant)
    names = [f"z{i + 1}" for i in range(n)] if v["variable_views"] else v["inputs"]
    return names, (names if v["variable_views"] else v["grad_inputs"])


class CaseFailed(Exception):
    """torch could not compute the case (an operation without a bfloat16 kernel, or a value or
    gradient that is not finite)."""


def torch_case(loss, variant, xs, precision):
    """The loss as `sslproof_losses.py` writes it (the official code's conventions), at `xs` in
    torch's float32, emulated TF32 or CPU bfloat16 autocast, at the variant's default
    parameters: `(value, [gradients as float64 arrays])`, one per input with a gradient (a
    stop-gradient input's, as SimSiam's z, is zero). Raises CaseFailed."""
    params = default_params(loss, variant)
    names, with_grad = input_names(loss, variant, len(xs))
    impl = IMPLEMENTATIONS[(loss, variant)]
    ts = [torch.tensor(np.asarray(x), dtype=torch.float32, requires_grad=n not in STATE)
          for n, x in zip(names, xs)]
    try:
        if precision == "bf16":
            with torch.autocast("cpu", dtype=torch.bfloat16):
                value = impl(ts, params)
        elif precision == "tf32":
            with emulated_tf32():
                value = impl(ts, params)
        else:
            value = impl(ts, params)
        value.backward()
    except RuntimeError as e:  # e.g. an operation torch has no bfloat16 kernel for
        raise CaseFailed(str(e).splitlines()[0]) from e
    grads = [t.grad.double().numpy() if t.grad is not None else np.zeros(t.shape)
             for n, t in zip(names, ts) if n in with_grad]
    if not (np.isfinite(float(value.detach())) and all(np.isfinite(g).all() for g in grads)):
        raise CaseFailed("a value or gradient that is not finite")
    return float(value.detach()), grads



def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=4, help="seeds per shape (default 4)")
    ap.add_argument("--loss", help="only this loss")
    ap.add_argument("--precision", default="f32", choices=["f32", "tf32", "bf16"],
                    help="torch's arithmetic (default f32)")
    ap.add_argument("--tolerance", default="estimate", choices=["estimate", "bound"],
                    help="check's tolerance (default estimate; bound: to count the exit 3s the bound alone gives)")
    ap.add_argument("--wide", action="store_true",
                    help="the coding rate with d ≫ B instead, d up to 8192 (the official d × d feature form; slow)")
    args = ap.parse_args()
    rows, bound, untrusted, failed = [], collections.Counter(), [], collections.Counter()
    for loss, variant, shapes in (WIDE_CASES if args.wide else CASES):
        if args.loss and loss != args.loss:
            continue
        params = default_params(loss, variant)
        for b, d in shapes:
            for seed in range(args.seeds):
                xs = sslproof.inputs(loss, b, d, seed=seed, variant=variant)
                try:
                    value, grads = torch_case(loss, variant, xs, args.precision)
                except CaseFailed as e:
                    failed[(loss, variant, str(e)[:60])] += 1
                    continue
                r = sslproof.check(loss, [np.asarray(x, dtype=np.float32) for x in xs], value, grads, precision=args.precision, variant=variant, tolerance=args.tolerance,
                                   **params)
                src = r.tolerance_source
                if not r.trustworthy:
                    ref = sslproof.reference(loss, *[np.asarray(x, dtype=np.float32) for x in xs],
                                             variant=variant, **params)
                    rel = max(float(np.abs(g - rg).max() / max(np.abs(rg).max(), 1e-300))
                              for g, rg in zip(grads, ref.grads))
                    # torch's largest error relative to the bound over our runs' (as for the others).
                    over = max((o for o in over_ours(r.grads, src) if o is not None), default=float("nan")) \
                        if src["kind"] == "estimate" else float("nan")
                    untrusted.append((rel, loss, variant, b, d, seed, src["kind"], over))
                    continue
                if src["kind"] != "estimate":
                    bound[(loss, variant, src["why"][:60])] += 1
                    if not r.agrees and r.trustworthy:
                        rows.append((float("nan"), float("nan"), loss, variant, b, d, seed, False))
                    continue
                # Only the inputs whose tolerance was estimated (the others keep the bound).
                estimated = [n >= min(32, max(1, (m + 1) // 2)) for n, m in zip(src["erred"], src["entries"])]
                over = [o for o, e in zip(over_ours(r.grads, src), estimated) if e and o is not None]
                rows.append((max(over, default=0.0), max(g.max_ratio for g in r.grads), loss, variant, b, d,
                             seed, r.agrees))
    est = [w for w in rows if w[0] == w[0]]
    print(f"torch {torch.__version__}, {args.precision}, tolerance {args.tolerance}; {len(rows)} cases checked with an estimate or "
          f"rejected, {sum(bound.values())} kept the bound, {len(untrusted)} untrustworthy (exit 3), "
          f"{sum(failed.values())} failed in torch")
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
    for k, n in sorted(failed.items()):
        print(f"  torch failed {n:>3}x: {k[0]} {k[1]}: {k[2]}...")
    if untrusted:
        print("untrustworthy (exit 3): torch's largest gradient error / the gradient's largest entry:")
        for w in sorted(untrusted, reverse=True):
            mine = f", torch's rho / ours {w[7]:.2f}" if w[7] == w[7] else ""
            print(f"  {w[0]:.2g}  {w[1]} {w[2]} {w[3]}x{w[4]} seed {w[5]} ({w[6]}{mine})")
    bad = [w for w in rows if not w[7]]
    for w in bad:
        print(f"  REJECTED: {w[2]} {w[3]} {w[4]}x{w[5]} seed {w[6]}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
