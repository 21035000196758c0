"""Validates sslproof's rounding-error model against real reduced-precision computations: the
PyTorch implementations of examples/python/sslproof_losses.py on every golden case, in float32 on
the CPU, bfloat16 autocast on the CPU, and on a GPU when there is one: float32, TF32 and bfloat16
autocast; plus numpy float32 (values of VICReg and the coding rate). For each setting it reports
the largest ratio |error| / tolerance over the cases the model calls trustworthy (must be ≤ 1:
the model bounds every error) and the median (how tight it is), and, for the cases it calls
untrustworthy, the actual relative error of the gradient.

    python examples/python/validate_tolerance.py [--large] [--json OUT]
"""
import argparse
import json
import statistics
import sys
import time

import numpy as np
import torch

try:  # the checker itself, entry by entry (pip install ./python)
    import sslproof
except ImportError:
    sslproof = None

from golden import ROOT, cases, evaluate, load
from sslproof_losses import IMPLEMENTATIONS


def _tf32(x):
    """x (float32) rounded to TF32's 10 explicit mantissa bits, to nearest (ties away from zero)."""
    i = x.contiguous().view(torch.int32)
    return ((i + 0x1000) & ~0x1FFF).view(torch.float32)


class _Tf32MM(torch.autograd.Function):
    """A 2-D matrix product as a TF32 tensor core computes it: both operands rounded to TF32, the
    products accumulated in float32, the output float32; the backward products likewise."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _ORIG["matmul"](_tf32(a), _tf32(b))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        mm = _ORIG["matmul"]
        return mm(_tf32(g), _tf32(b).T), mm(_tf32(a).T, _tf32(g))


_ORIG = {"matmul": torch.matmul}


def _matmul(a, b):
    if a.dim() == 2 and b.dim() == 2 and a.dtype == torch.float32:
        return _Tf32MM.apply(a, b)
    return _ORIG["matmul"](a, b)


class emulated_tf32:
    """Every 2-D float32 matrix product (`@`, `matmul`, `mm`, `einsum("bi,bj->ij")`) in TF32, on
    the CPU: a stand-in for a GPU with `allow_tf32` where there is none (linear algebra such as
    `logdet` stays float32, as cuSOLVER keeps it)."""

    def __enter__(self):
        self.saved = (torch.Tensor.__matmul__, torch.Tensor.matmul, torch.matmul, torch.mm, torch.einsum)
        orig_einsum = torch.einsum

        def einsum(eq, *ops):
            if eq.replace(" ", "") == "bi,bj->ij" and len(ops) == 2:
                return _matmul(ops[0].T, ops[1])
            return orig_einsum(eq, *ops)

        torch.Tensor.__matmul__ = torch.Tensor.matmul = lambda a, b: _matmul(a, b)
        torch.matmul = torch.mm = _matmul
        torch.einsum = einsum
        return self

    def __exit__(self, *exc):
        (torch.Tensor.__matmul__, torch.Tensor.matmul, torch.matmul, torch.mm, torch.einsum) = self.saved


def settings(devices):
    s = []
    if "cpu" in devices:
        s += [("cpu", "f32", torch.float32, None, False), ("cpu", "bf16", torch.float32, torch.bfloat16, False),
              ("cpu", "tf32", torch.float32, None, "emulated")]
    if "cuda" in devices and torch.cuda.is_available():
        s += [
            ("cuda", "f32", torch.float32, None, False),
            ("cuda", "tf32", torch.float32, None, True),
            ("cuda", "bf16", torch.float32, torch.bfloat16, False),
        ]
    return s


def numpy_f32(loss, case, arrays):
    p = case["params"]
    if loss == "vicreg" and case["variant"] == "official":
        z1, z2 = (arrays[n].astype(np.float32) for n in ("z1", "z2"))
        n, d = z1.shape
        v = np.float32(p["sim"]) * np.mean((z1 - z2) ** 2)
        for z in (z1, z2):
            x = z - z.mean(0)
            var = (x * x).sum(0) / np.float32(n - 1)
            v += np.float32(p["std"]) * np.mean(np.maximum(0, 1 - np.sqrt(var + np.float32(p["eps"])))) / 2
            c = x.T @ x / np.float32(n - 1)
            v += np.float32(p["cov"]) * ((c * c).sum() - (np.diag(c) ** 2).sum()) / np.float32(d)
        return float(v)
    if loss == "coding-rate" and case["variant"] == "mcr2":
        z = arrays["z"].astype(np.float32)
        m, d = z.shape
        a = np.eye(d, dtype=np.float32) + np.float32(d / (m * p["eps"])) * (z.T @ z)
        return float(np.linalg.slogdet(a)[1]) / 2
    return None



def over_ours(grads, src):
    """Per estimated input (`tolerance_source` of kind "estimate"), this implementation's largest
    |error| relative to the bound over our runs' (what the factor must exceed): from its worst
    entry's |error| / tolerance, times the factor applied there. With one factor per input that
    is `max_ratio · scale / ratio`; where each entry has its own tolerance (TF32 and bfloat16,
    `line_scales`), `max_ratio · factor`: torch's error over what our runs erred in that entry's
    row and column (exact where the tolerance is not held at its bound or floor). None for an
    input where our runs did not err."""
    lines = src.get("line_scales") or [None] * len(src["scales"])
    for g, s, q, line in zip(grads, src["scales"], src["ratios"], lines):
        if q <= 0:
            yield None  # our runs did not err: nothing to compare with
        else:
            yield g.max_ratio * src["factor"] if line is not None else g.max_ratio * s / q

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--large", action="store_true", help="also the large golden cases (generate them with `sslproof golden --large`)")
    ap.add_argument("--json", help="write every measurement here")
    ap.add_argument("--devices", default="cpu,cuda", help="comma-separated: cpu, cuda (default both)")
    ap.add_argument("--only-large", action="store_true", help="skip the small committed cases")
    args = ap.parse_args()
    devices = args.devices.split(",")
    todo = ([] if args.only_large else list(cases())) + (list(cases(large=True)) if args.large or args.only_large else [])
    rows = []
    t0 = time.time()
    for loss, case in todo:
        impl = IMPLEMENTATIONS[(loss, case["variant"])]
        ref_g = load(case, "grads")
        for device, prec, dtype, autocast, tf32 in settings(devices):
            tol = case["tolerances"][prec]
            torch.backends.cuda.matmul.allow_tf32 = tf32 is True
            torch.backends.cudnn.allow_tf32 = tf32 is True
            row = {"loss": loss, "case": case["name"], "shape": case["shape"], "device": device, "precision": prec,
                   "trustworthy": tol["trustworthy"]}
            try:
                if tf32 == "emulated":
                    with emulated_tf32():
                        value, grads = evaluate(impl, case, dtype, device=device, autocast=autocast)
                else:
                    value, grads = evaluate(impl, case, dtype, device=device, autocast=autocast)
                row["value_ratio"] = abs(float(value) - case["value"]) / tol["value_atol"]
                gr, rel = 0.0, 0.0
                for n, g in grads.items():
                    e = float((g - torch.from_numpy(ref_g[n])).abs().max())
                    gr = max(gr, e / tol["grad_atol"][n])
                    rel = max(rel, e / max(float(np.abs(ref_g[n]).max()), 1e-300))
                row["grad_ratio"], row["grad_rel_error"] = gr, rel
                row["finite"] = bool(np.isfinite(float(value))) and all(bool(torch.isfinite(g).all()) for g in grads.values())
                if sslproof is not None and row["finite"]:
                    # What `check` concludes, each entry against its own tolerance.
                    rep = sslproof.check(loss, load(case, "inputs"), float(value),
                                         {n: g.double().cpu().numpy() for n, g in grads.items()},
                                         precision=prec, variant=case["variant"], **case["params"])
                    row["check_trustworthy"] = rep.trustworthy
                    row["entry_ratio"] = max((g.max_ratio for g in rep.grads), default=0.0)
                    row["check_value_ratio"] = rep.value_error / rep.tolerance
                    src = rep.tolerance_source
                    if src["kind"] == "estimate":
                        # The estimate's margin at this case: this implementation's largest error
                        # relative to the bound, over our runs' (≤ FACTOR: accepted; in TF32 and
                        # bfloat16 over our runs' in the worst entry's row and column, where the
                        # scale is not clamped at 1).
                        row["over_ours"] = max((o for o in over_ours(rep.grads, src) if o is not None),
                                               default=0.0)
            except Exception as e:  # e.g. a log-determinant not implemented for bfloat16
                row["error"] = f"{type(e).__name__}: {str(e).splitlines()[0][:120]}"
            rows.append(row)
        if "cpu" in devices and loss in ("vicreg", "coding-rate"):
            v = numpy_f32(loss, case, load(case, "inputs"))
            if v is not None:
                tol = case["tolerances"]["f32"]
                rows.append({"loss": loss, "case": case["name"], "shape": case["shape"], "device": "numpy", "precision": "f32",
                             "trustworthy": tol["trustworthy"], "value_ratio": abs(v - case["value"]) / tol["value_atol"]})
    torch.backends.cuda.matmul.allow_tf32 = False
    dev = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    print(f"torch {torch.__version__}, numpy {np.__version__}, {dev}; {len(todo)} golden cases, {time.time() - t0:.1f} s")
    print(f"{'setting':<12}{'trusted':>8}{'max value':>11}{'max grad':>10}{'median v':>10}{'median g':>10}"
          f"{'untrusted':>10}{'their median rel. grad error':>30}{'failed':>8}"
          + (f"{'check: trusted':>16}{'max entry':>11}{'median entry':>14}" if sslproof else ""))
    bad = 0
    for device in ("cpu", "numpy", "cuda"):
        for prec in ("f32", "tf32", "bf16"):
            sel = [r for r in rows if r["device"] == device and r["precision"] == prec]
            if not sel:
                continue
            ok = [r for r in sel if r["trustworthy"] and "error" not in r]
            un = [r for r in sel if not r["trustworthy"] and "error" not in r]
            err = [r for r in sel if "error" in r]
            mv = max((r["value_ratio"] for r in ok), default=float("nan"))
            mg = max((r.get("grad_ratio", 0) for r in ok), default=float("nan"))
            medv = statistics.median([r["value_ratio"] for r in ok]) if ok else float("nan")
            medg = statistics.median([r.get("grad_ratio", 0) for r in ok]) if ok else float("nan")
            rel = statistics.median([r["grad_rel_error"] for r in un if "grad_rel_error" in r]) if un and device != "numpy" else float("nan")
            line = f"{device + ' ' + prec:<12}{len(ok):>8}{mv:>11.3g}{mg:>10.3g}{medv:>10.2g}{medg:>10.2g}{len(un):>10}{rel:>30.3g}{len(err):>8}"
            ck = [r for r in sel if r.get("check_trustworthy")]
            if sslproof is not None and device != "numpy":
                me = max((r["entry_ratio"] for r in ck), default=float("nan"))
                mede = statistics.median([r["entry_ratio"] for r in ck]) if ck else float("nan")
                line += f"{len(ck):>16}{me:>11.3g}{mede:>14.2g}"
            print(line)
            oo = sorted(r["over_ours"] for r in ck if "over_ours" in r)
            if oo:
                worst = max((r for r in ck if "over_ours" in r), key=lambda r: r["over_ours"])
                print(f"  estimated tolerance ({len(oo)} cases): this implementation's error / our float32 runs' "
                      f"(relative to the bound): median {statistics.median(oo):.2g}, largest {oo[-1]:.3g} "
                      f"({worst['loss']} {worst['case']})")
            for r in ck:
                if r["entry_ratio"] > 1 or r["check_value_ratio"] > 1:
                    bad += 1
                    print(f"  CHECK REJECTS A CORRECT IMPLEMENTATION: {r}")
            for r in ok:
                if r["value_ratio"] > 1 or r.get("grad_ratio", 0) > 1:
                    bad += 1
                    print(f"  EXCEEDS: {r}")
            for r in err[:3]:
                print(f"  error: {r['loss']} {r['case']}: {r['error']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
