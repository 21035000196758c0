"""The same PyTorch implementations run through the checker: every loss's default variant in
float32 agrees on a golden case; planted mistakes are diagnosed by name. Through the Python package
(`pip install ./python`): `assert_loss` hands over the function itself, `sslproof.check` the
numbers of one golden case. The `.npz` round trip goes through the CLI (`cargo build --release`, or
set SSLPROOF to its path)."""
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from golden import cases, evaluate
from sslproof_losses import IMPLEMENTATIONS

sslproof = pytest.importorskip("sslproof", reason="the Python package is not installed (pip install ./python)")
from sslproof.testing import assert_loss  # noqa: E402

BIN = Path(os.environ.get("SSLPROOF", Path(__file__).resolve().parents[2] / "target/release/sslproof"))
DEFAULTS = [(l, c) for l, c in cases() if c["name"].endswith("/small")]


@pytest.mark.parametrize("loss,case", DEFAULTS, ids=[f"{l}/{c['name']}" for l, c in DEFAULTS])
def test_float32_implementation_agrees(loss, case):
    if not case["tolerances"]["f32"]["trustworthy"]:
        pytest.skip(case["tolerances"]["f32"]["why_not"])
    value, grads = evaluate(IMPLEMENTATIONS[(loss, case["variant"])], case, torch.float32)
    xs = [np.load(Path(case["_root"]) / case["inputs"][n]) for n in case["input_order"]]
    r = sslproof.check(loss, xs, value.item(), grads, precision="f32", variant=case["variant"], **case["params"])
    assert r.agrees, str(r)


def _self_in_denominator(z1, z2):
    """NT-Xent with the diagonal of the logits not masked."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    logits = z @ z.T / 0.5
    b = z1.shape[0]
    labels = torch.cat([torch.arange(b) + b, torch.arange(b)])
    return F.cross_entropy(logits, labels)


def _eps_squared(z):
    """MCR² written with the paper's ε² while passing the code's eps (= ε²)."""
    m, d = z.shape
    eye = torch.eye(d, dtype=z.dtype)
    return torch.logdet(eye + d / (m * 0.5**2) * z.T @ z) / 2


@pytest.mark.parametrize(
    "loss,variant,wrong,mistake",
    [("nt-xent", "lightly", _self_in_denominator, "self-in-denominator"), ("coding-rate", "mcr2", _eps_squared, "eps-squared")],
)
def test_planted_mistake_is_named(loss, variant, wrong, mistake):
    with pytest.raises(AssertionError, match=f"diagnosis: matches mistake '{mistake}'"):
        assert_loss(wrong, loss, variant=variant, precision="f32")


def test_one_npz(tmp_path):
    """Inputs, gradients and the value in one `.npz` (numpy savez_compressed), float32."""
    loss, case = next((l, c) for l, c in DEFAULTS if l == "vicreg" and c["variant"] == "official")
    value, grads = evaluate(IMPLEMENTATIONS[(loss, case["variant"])], case, torch.float32)
    arrays = {n: np.load(Path(case["_root"]) / case["inputs"][n]).astype(np.float32) for n in case["input_order"]}
    arrays.update({f"grad_{n}": g.numpy().astype(np.float32) for n, g in grads.items()})
    path = tmp_path / "mine.npz"
    np.savez_compressed(path, value=np.float32(value), **arrays)
    if not BIN.exists():
        pytest.skip(f"{BIN} not built")
    r = subprocess.run([str(BIN), "check", "--loss", loss, "--npz", str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "checked as f32" in r.stdout and "AGREES" in r.stdout
