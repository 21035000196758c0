"""Write the seeded cases of calibrate_estimate.py, as torch computes them, to .npz files for
`cargo run --release -p sslproof-losses --example level_rules -- DIR` (docs/losses.md, "Rows and
columns"): one file per precision, loss, variant, shape and seed, named
`PRECISION__LOSS__VARIANT__BxD__SEED.npz`, holding the float32 inputs, torch's value (`value`)
and gradients (`grad_NAME`), at the variant's default parameters. Cases where torch fails or
returns a non-finite number are skipped.

    python examples/python/dump_calibration_cases.py DIR [--precision f32,tf32,bf16] [--seeds 4]
"""
import argparse
import os
import sys
from pathlib import Path

import numpy as np

import sslproof

sys.path.insert(0, str(Path(__file__).parent))
from calibrate_estimate import CASES, CaseFailed, input_names, torch_case  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="directory to write the .npz files to")
    ap.add_argument("--precision", default="f32,tf32,bf16", help="comma-separated (default all three)")
    ap.add_argument("--seeds", type=int, default=4, help="seeds per shape (default 4)")
    args = ap.parse_args()
    precisions = args.precision.split(",")
    for prec in precisions:
        if prec not in ("f32", "tf32", "bf16"):
            sys.exit(f"--precision: expected f32, tf32 or bf16, got {prec!r}")
    os.makedirs(args.out, exist_ok=True)
    written = skipped = 0
    for prec in precisions:
        for loss, variant, shapes in CASES:
            for b, d in shapes:
                for seed in range(args.seeds):
                    xs = sslproof.inputs(loss, b, d, seed=seed, variant=variant)
                    try:
                        value, grads = torch_case(loss, variant, xs, prec)
                    except CaseFailed:
                        skipped += 1
                        continue
                    names, with_grad = input_names(loss, variant, len(xs))
                    arrs = {n: np.asarray(x, dtype=np.float32) for n, x in zip(names, xs)}
                    for n, g in zip([n for n in names if n in with_grad], grads):
                        arrs["grad_" + n] = g
                    arrs["value"] = np.array(value)
                    np.savez(os.path.join(args.out, f"{prec}__{loss}__{variant}__{b}x{d}__{seed}.npz"), **arrs)
                    written += 1
    print(f"{written} cases written to {args.out}, {skipped} skipped (torch failed or not finite)")


if __name__ == "__main__":
    main()
