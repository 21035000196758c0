"""`assert_loss` with PyTorch and JAX implementations: run where the framework is installed,
skipped with the reason where it is not (CI does not download gigabytes of wheels per run).

The PyTorch implementations are those of `examples/python/sslproof_losses.py` (written from the
official code), called with views as separate arguments; the planted mistakes are those of
`examples/python/test_checker.py` and `test_golden.py`."""

import sys
from pathlib import Path

import pytest

from sslproof.testing import assert_loss

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "python"


@pytest.fixture(scope="module")
def torch_impls():
    torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch to run these)")
    sys.path.insert(0, str(EXAMPLES))
    try:
        import sslproof_losses as impl
    finally:
        sys.path.remove(str(EXAMPLES))
    return torch, impl


# (loss, variant, how to call the example implementation with views as arguments)
TORCH_CASES = [
    ("vicreg", None, lambda m: (lambda z1, z2: m.vicreg(z1, z2))),
    ("barlow-twins", None, lambda m: (lambda z1, z2: m.barlow_twins(z1, z2))),
    ("coding-rate", "mcr2", lambda m: (lambda z: m.coding_rate(z, 0.5, "mcr2"))),
    ("corinfomax", None, lambda m: (lambda z1, z2: m.corinfomax(z1, z2))),
    ("nt-xent", "lightly", lambda m: (lambda z1, z2: m.nt_xent([z1, z2], 0.5))),
    ("nt-xent", "solo-learn", lambda m: (lambda *zs: m.nt_xent(list(zs), 0.1))),
    ("simsiam", None, lambda m: m.simsiam),
    ("align", None, lambda m: m.align),
    ("uniformity", None, lambda m: m.uniformity),
]


@pytest.mark.parametrize("precision", [None, "f32", "bf16"])
@pytest.mark.parametrize("loss,variant,make", TORCH_CASES, ids=[f"{l}-{v or 'default'}" for l, v, _ in TORCH_CASES])
def test_torch_implementations_pass(torch_impls, loss, variant, make, precision):
    torch, m = torch_impls
    res = assert_loss(make(m), loss, variant=variant, precision=precision, framework="torch")
    assert res.reports and res.framework == "torch"


def test_torch_is_detected(torch_impls):
    torch, m = torch_impls
    res = assert_loss(m.align, "align")
    assert res.framework == "torch" and res.precision == "f64"


@pytest.mark.parametrize("precision", [None, "f32"])
def test_torch_planted_mistakes_are_named(torch_impls, precision):
    torch, m = torch_impls
    F = torch.nn.functional

    def self_in_denominator(z1, z2):
        z = F.normalize(torch.cat([z1, z2]), dim=1)
        logits = z @ z.T / 0.5
        b = z1.shape[0]
        labels = torch.cat([torch.arange(b) + b, torch.arange(b)])
        return F.cross_entropy(logits, labels)

    def eps_squared(z):
        n, d = z.shape
        return torch.logdet(torch.eye(d, dtype=z.dtype) + d / (n * 0.5**2) * z.T @ z) / 2

    def biased(z1, z2):
        n, d = z1.shape
        out = 25 * F.mse_loss(z1, z2)
        for z in (z1, z2):
            x = z - z.mean(0)
            out = out + 25 * torch.mean(F.relu(1 - torch.sqrt(x.var(0, unbiased=False) + 1e-4))) / 2
            c = x.T @ x / n
            out = out + (c.pow(2).sum() - torch.diagonal(c).pow(2).sum()) / d
        return out

    for fn, loss, variant, name in [
        (self_in_denominator, "nt-xent", "lightly", "self-in-denominator"),
        (eps_squared, "coding-rate", "mcr2", "eps-squared"),
        (biased, "vicreg", None, "biased-divisor"),
    ]:
        with pytest.raises(AssertionError, match=f"diagnosis: matches (mistake|variant) '{name}'"):
            assert_loss(fn, loss, variant=variant, precision=precision)


def test_torch_output_that_does_not_depend_on_an_input(torch_impls):
    torch, m = torch_impls
    with pytest.raises(AssertionError, match="does not depend on z2"):
        assert_loss(lambda z1, z2: m.vicreg(z1, z1.detach() * 0 + z1.detach()), "vicreg")


# --- JAX ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def jax():
    jax = pytest.importorskip("jax", reason="jax is not installed (pip install jax to run these)")
    jax.config.update("jax_enable_x64", True)
    return jax


def test_jax_vicreg_and_nt_xent(jax):
    import jax.numpy as jnp

    def vicreg(z1, z2):
        n, d = z1.shape
        inv = jnp.mean((z1 - z2) ** 2)

        def terms(z):
            x = z - z.mean(0)
            std = jnp.sqrt(x.var(0, ddof=1) + 1e-4)
            c = x.T @ x / (n - 1)
            off = (c**2).sum() - (jnp.diag(c) ** 2).sum()
            return jnp.mean(jax.nn.relu(1 - std)), off / d

        v1, c1 = terms(z1)
        v2, c2 = terms(z2)
        return 25 * inv + 25 * (v1 + v2) / 2 + c1 + c2

    assert assert_loss(vicreg, "vicreg").framework == "jax"
    assert_loss(vicreg, "vicreg", precision="f32")

    def nt_xent(z1, z2, tau=0.5):
        z = jnp.concatenate([z1, z2])
        z = z / jnp.linalg.norm(z, axis=1, keepdims=True)
        s = z @ z.T / tau
        n = z.shape[0]
        s = jnp.where(jnp.eye(n, dtype=bool), -jnp.inf, s)
        b = n // 2
        pos = jnp.concatenate([jnp.arange(b) + b, jnp.arange(b)])
        return jnp.mean(jax.nn.logsumexp(s, axis=1) - s[jnp.arange(n), pos])

    assert_loss(nt_xent, "nt-xent")
    with pytest.raises(AssertionError, match="diagnosis: matches mistake 'sign'"):
        assert_loss(lambda a, b: -nt_xent(a, b), "nt-xent", framework="jax")


def test_the_readme_example(torch_impls):
    """python/README.md's opening example passes as written, and fails with the diagnosis it shows
    once the variance and covariance divide by n."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    code = readme.split("```python\n", 1)[1].split("```", 1)[0]
    ns = {}
    exec(compile(code, "python/README.md", "exec"), ns)
    ns["test_vicreg"]()
    wrong = code.replace("v.var(0)", "v.var(0, unbiased=False)").replace("v.T @ v / (n - 1)", "v.T @ v / n")
    assert wrong != code
    ns = {}
    exec(compile(wrong, "python/README.md (planted)", "exec"), ns)
    with pytest.raises(AssertionError, match="diagnosis: matches mistake 'biased-divisor'"):
        ns["test_vicreg"]()
