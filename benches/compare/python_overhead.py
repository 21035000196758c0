"""The Python package's overhead over the Rust computation it calls, side by side in one process.

For each loss (default variant) at (B, d) = (512, 8192) by default: float32 inputs (seeded numpy
normals; unit rows where the loss is used on normalised features) and a correct result rounded to
float32 (sslproof's own float64 implementation); then `sslproof.check(...)` is timed end to end (wall
clock, the Python layer included: conversion of the arrays, validation, the report object) against
the seconds the Rust `checker::check` took inside the same call (`Report.seconds`). The overhead
is (wall − Rust) / Rust; the median of `--repeat` runs is reported.

    pip install ./python
    python benches/compare/python_overhead.py [--shape 512x8192] [--repeat 3] [--loss NAME ...]

Memory: the largest case (VICReg at d = 8192: eight d × d float64 matrices, ~4.3 GB) is refused
by the checker's budget before allocating if `--max-memory` (default 8 GiB) is too small.
"""

import argparse
import json
import statistics
import sys
import time

import numpy as np

import sslproof


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shape", default="512x8192", help="BxD (default 512x8192)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--loss", action="append", help="only these losses (repeatable)")
    ap.add_argument("--max-memory", type=int, default=8 << 30)
    ap.add_argument("--json", help="also write the rows as JSON here")
    a = ap.parse_args()
    b, d = (int(x) for x in a.shape.lower().split("x"))
    rows = []
    for info in sslproof.losses():
        loss = info["name"]
        if a.loss and loss not in a.loss:
            continue
        v = info["variants"][0]
        rng = np.random.default_rng(7)
        xs = []
        for name in v["inputs"]:
            x = rng.standard_normal((b, d)).astype(np.float32)
            if info["unit_rows"]:
                x /= np.linalg.norm(x, axis=1, keepdims=True)
            xs.append(x)
        # Correct float32 numbers: sslproof's float64 implementation rounded to float32 (its
        # float32 implementations sum pairwise on one core and take minutes at d = 8192).
        t0 = time.perf_counter()
        value, grads = sslproof.evaluate(loss, *xs, dtype="float64")
        value, grads = float(np.float32(value)), [g.astype(np.float32) for g in grads]
        t_eval = time.perf_counter() - t0
        walls, rusts, outcome = [], [], None
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            r = sslproof.check(loss, xs, value, list(grads), max_memory=a.max_memory)
            walls.append(time.perf_counter() - t0)
            rusts.append(r.seconds)
            outcome = r.outcome
        wall, rust = statistics.median(walls), statistics.median(rusts)
        over = [(w - r) / r for w, r in zip(walls, rusts)]
        row = dict(loss=loss, shape=[b, d], outcome=outcome, wall_s=wall, rust_s=rust,
                   overhead=statistics.median(over), overhead_max=max(over), eval_f32_s=t_eval,
                   repeat=a.repeat)
        rows.append(row)
        print(f"{loss:<14} {outcome:<13} wall {wall:9.3f} s  rust {rust:9.3f} s  "
              f"overhead {100 * row['overhead']:6.2f} % (max {100 * row['overhead_max']:.2f} %)", flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
