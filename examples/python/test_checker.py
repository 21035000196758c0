"""The same PyTorch implementations run through `sslproof check`: every loss's default variant on
a golden case in float32 agrees (exit 0); a planted mistake is diagnosed by name (exit 1).
Needs the binary: `cargo build --release` (or set SSLPROOF to its path)."""
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from golden import ROOT, cases, evaluate
from sslproof_losses import IMPLEMENTATIONS

BIN = Path(os.environ.get("SSLPROOF", Path(__file__).resolve().parents[2] / "target/release/sslproof"))
pytestmark = pytest.mark.skipif(not BIN.exists(), reason=f"{BIN} not built")


def run_check(loss, case, value, grads, tmp_path, precision="f32", variant=None):
    ins = [str(Path(case["_root"]) / case["inputs"][n]) for n in case["input_order"]]
    gpaths = []
    for n, g in grads.items():
        p = tmp_path / f"grad_{n}.npy"
        np.save(p, g.numpy())
        gpaths.append(str(p))
    args = [str(BIN), "check", "--loss", loss, "--variant", variant or case["variant"], "--precision", precision,
            "--inputs", *ins, "--value", repr(float(value)), "--grad", *gpaths]
    for k, v in case["params"].items():
        args += ["--param", f"{k}={v}"]
    return subprocess.run(args, capture_output=True, text=True)


DEFAULTS = [(l, c) for l, c in cases() if c["name"].endswith("/small")]


@pytest.mark.parametrize("loss,case", DEFAULTS, ids=[f"{l}/{c['name']}" for l, c in DEFAULTS])
def test_float32_implementation_agrees(loss, case, tmp_path):
    if not case["tolerances"]["f32"]["trustworthy"]:
        pytest.skip(case["tolerances"]["f32"]["why_not"])
    value, grads = evaluate(IMPLEMENTATIONS[(loss, case["variant"])], case, torch.float32)
    r = run_check(loss, case, value, grads, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "AGREES" in r.stdout


def _self_in_denominator(xs, p):
    """NT-Xent with the diagonal of the logits not masked."""
    z = F.normalize(torch.cat(xs), dim=1)
    logits = z @ z.T / p["tau"]
    b = xs[0].shape[0]
    labels = torch.cat([torch.arange(b) + b, torch.arange(b)])
    return F.cross_entropy(logits, labels)


def _eps_squared(xs, p):
    """MCR² written with the paper's ε² while passing the code's eps (= ε²)."""
    z = xs[0]
    m, d = z.shape
    eye = torch.eye(d, dtype=z.dtype)
    return torch.logdet(eye + d / (m * p["eps"] ** 2) * z.T @ z) / 2


@pytest.mark.parametrize(
    "loss,variant,wrong,mistake",
    [("nt-xent", "lightly", _self_in_denominator, "self-in-denominator"), ("coding-rate", "mcr2", _eps_squared, "eps-squared")],
)
def test_planted_mistake_is_named(loss, variant, wrong, mistake, tmp_path):
    case = next(c for l, c in DEFAULTS if l == loss and c["variant"] == variant)
    value, grads = evaluate(wrong, case, torch.float32)
    r = run_check(loss, case, value, grads, tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert f'matches mistake "{mistake}"' in r.stdout, r.stdout


def test_one_npz(tmp_path):
    """Inputs, gradients and the value in one `.npz` (numpy savez_compressed), float32."""
    loss, case = next((l, c) for l, c in DEFAULTS if l == "vicreg" and c["variant"] == "official")
    value, grads = evaluate(IMPLEMENTATIONS[(loss, case["variant"])], case, torch.float32)
    arrays = {n: np.load(Path(case["_root"]) / case["inputs"][n]).astype(np.float32) for n in case["input_order"]}
    arrays.update({f"grad_{n}": g.numpy().astype(np.float32) for n, g in grads.items()})
    path = tmp_path / "mine.npz"
    np.savez_compressed(path, value=np.float32(value), **arrays)
    r = subprocess.run([str(BIN), "check", "--loss", loss, "--npz", str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "checked as f32" in r.stdout and "AGREES" in r.stdout
