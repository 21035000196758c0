"""The other side of benches/compare/factorisations.sh: PyTorch CPU float32 on the same d × d
matrices A = I + ZᵀZ/64 (Z the same deterministic 64 × d pattern as the Rust side):
torch.linalg.inv (LAPACK getrf + getrs, what torch.logdet's backward takes) and
torch.linalg.cholesky, best of N runs. Prints one JSON line.

    python factorisations_torch.py REPS D... [THREADS]
"""
import json
import sys
import time

import numpy as np
import torch


def matrix(d):
    i = np.arange(64)[:, None]
    j = np.arange(d)[None, :]
    z = torch.tensor((((i * 7919 + j * 104729) % 1000) / 1000.0 - 0.5).astype(np.float32))
    return torch.eye(d) + z.T @ z / 64


def best_of(n, f):
    best, v = float("inf"), None
    for _ in range(n):
        t = time.perf_counter()
        v = f()
        best = min(best, time.perf_counter() - t)
    return best, v


def main():
    reps = int(sys.argv[1])
    ds = [int(x) for x in sys.argv[2].split(",")]
    if len(sys.argv) > 3:
        torch.set_num_threads(int(sys.argv[3]))
    out = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    for d in ds:
        a = matrix(d)
        t, tr = best_of(reps, lambda: float(torch.linalg.inv(a).trace()))
        tc, _ = best_of(reps, lambda: float(torch.linalg.cholesky(a)[-1, -1]))
        out[str(d)] = {"lu_inverse_torch": t, "cholesky_torch": tc, "inverse_trace": tr}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
