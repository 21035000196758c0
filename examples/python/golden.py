"""Loading sslproof's golden files (manifest + .npy) and evaluating an implementation on them."""
import json
import os
from pathlib import Path

import numpy as np
import torch

ROOT = Path(os.environ.get("SSLPROOF_GOLDEN", Path(__file__).resolve().parents[2] / "golden"))
# Where `sslproof golden --large --out DIR` wrote the large cases (not committed).
LARGE_ROOT = Path(os.environ.get("SSLPROOF_GOLDEN_LARGE", ROOT))
DTYPES = {"f64": torch.float64, "f32": torch.float32}


def manifests(root=ROOT, large=False):
    suffix = ".large.json" if large else ".json"
    for path in sorted(root.glob("*" + suffix)):
        if large or not path.name.endswith(".large.json"):
            yield json.loads(path.read_text())


def cases(root=None, large=False):
    root = root or (LARGE_ROOT if large else ROOT)
    for m in manifests(root, large):
        for c in m["cases"]:
            c["_root"] = str(root)
            yield m["loss"], c


def load(case, key):
    root = Path(case.get("_root", ROOT))
    return {n: np.load(root / case[key][n]) for n in case["input_order"] if n in case[key]}


def evaluate(impl, case, dtype, device="cpu", autocast=None):
    """Runs `impl(inputs, params)` with autograd; returns (value, {input: gradient}) in float64."""
    arrays = load(case, "inputs")
    xs = []
    for n in case["input_order"]:
        t = torch.tensor(arrays[n], dtype=dtype, device=device)
        if n in case["grads"] and n not in ("mu1", "r1", "mu2", "r2"):
            t.requires_grad_(True)
        xs.append(t)
    if autocast is not None:
        with torch.autocast(device_type=device, dtype=autocast):
            value = impl(xs, case["params"])
    else:
        value = impl(xs, case["params"])
    value.backward()
    grads = {}
    for n, t in zip(case["input_order"], xs):
        if n in case["grads"]:
            g = t.grad if t.grad is not None else torch.zeros_like(t)
            grads[n] = g.detach().to(torch.float64).cpu()
    return value.detach().to(torch.float64).cpu(), grads
