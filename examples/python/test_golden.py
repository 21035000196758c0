"""Checks the PyTorch implementations in sslproof_losses.py against sslproof's golden files with
torch.testing.assert_close, at the tolerance the manifest gives for the precision (derived by
sslproof's rounding-error model, not guessed). Cases the manifest marks untrustworthy for a
precision are skipped with the reason.

    pip install numpy torch pytest && pytest examples/python
"""
import numpy as np
import pytest
import torch

from golden import ROOT, cases, evaluate, load
from sslproof_losses import IMPLEMENTATIONS

CASES = list(cases())


@pytest.mark.parametrize("precision", ["f64", "f32"])
@pytest.mark.parametrize("loss,case", CASES, ids=[f"{l}/{c['name']}" for l, c in CASES])
def test_matches_golden(loss, case, precision):
    tol = case["tolerances"][precision]
    if not tol["trustworthy"]:
        pytest.skip(f"{precision} is not trustworthy here: {tol['why_not']}")
    impl = IMPLEMENTATIONS[(loss, case["variant"])]
    dtype = torch.float64 if precision == "f64" else torch.float32
    value, grads = evaluate(impl, case, dtype)
    torch.testing.assert_close(
        value, torch.tensor(case["value"], dtype=torch.float64), rtol=0, atol=tol["value_atol"]
    )
    expected = load(case, "grads")
    for name, g in grads.items():
        torch.testing.assert_close(
            g, torch.from_numpy(expected[name]), rtol=0, atol=tol["grad_atol"][name], msg=lambda m: f"gradient of {name}: {m}"
        )


def test_every_loss_and_variant_is_covered():
    assert {(l, c["variant"]) for l, c in CASES} == set(IMPLEMENTATIONS)


def test_a_wrong_implementation_fails():
    """The tolerances are tight enough to catch a real mistake: VICReg with the biased variance."""
    loss, case = next((l, c) for l, c in CASES if l == "vicreg" and c["name"] == "official/small")
    import torch.nn.functional as F

    def biased(xs, p):
        z1, z2 = xs
        n, d = z1.shape
        out = p["sim"] * F.mse_loss(z1, z2)
        for z in (z1, z2):
            x = z - z.mean(0)
            out = out + p["std"] * torch.mean(F.relu(1 - torch.sqrt(x.var(0, unbiased=False) + p["eps"]))) / 2
            c = x.T @ x / n
            out = out + p["cov"] * (c.pow(2).sum() - torch.diagonal(c).pow(2).sum()) / d
        return out

    value, _ = evaluate(biased, case, torch.float32)
    with pytest.raises(AssertionError):
        torch.testing.assert_close(
            value, torch.tensor(case["value"], dtype=torch.float64), rtol=0, atol=case["tolerances"]["f32"]["value_atol"]
        )
