"""`sslproof.testing.assert_loss` on numpy implementations with hand-written gradients (always
run), and on planted mistakes: every one must fail with the right diagnosis."""

import re

import numpy as np
import pytest

import sslproof
from sslproof import CallError, ConfigError, InputError
from sslproof.testing import assert_loss, default_shapes, detect_framework

from numpy_losses import IMPLEMENTATIONS as NP

# The default variant of each loss, with the numpy implementation's parameters where the
# variant's defaults differ from the function's.
CORRECT = [
    ("vicreg", None, NP["vicreg"]()),
    ("barlow-twins", None, NP["barlow-twins"]()),
    ("coding-rate", None, NP["coding-rate"](eps=0.5)),
    ("corinfomax", None, NP["corinfomax"]()),
    ("nt-xent", None, NP["nt-xent"](tau=0.5)),
    ("simsiam", None, NP["simsiam"]()),
    ("align", None, NP["align"]()),
    ("uniformity", None, NP["uniformity"](t=2.0)),
]


@pytest.mark.parametrize("precision", [None, "f32"])
@pytest.mark.parametrize("loss,variant,impl", CORRECT, ids=[c[0] for c in CORRECT])
def test_a_correct_numpy_implementation_passes(loss, variant, impl, precision):
    fn, grad = impl
    res = assert_loss(fn, loss, variant=variant, grad_fn=grad, precision=precision)
    assert res.framework == "numpy"
    assert res.precision == (precision or "f64")
    assert len(res.reports) >= 4, str(res)
    assert all(r.agrees and r.grads_checked for _, _, r in res.reports)
    assert {s for s, _, _ in res.reports} | {s for s, _, _ in res.skipped} == set(default_shapes())


def test_the_tolerance_mode_reaches_every_check():
    """``tolerance=`` is passed to every check: the float32 reports say which tolerance they used,
    and an unknown mode is a ConfigError."""
    loss, variant, (fn, grad) = CORRECT[0]
    for mode, kind in [("estimate", {"estimate", "bound"}), ("bound", {"bound"})]:
        res = assert_loss(fn, loss, variant=variant, grad_fn=grad, precision="f32", tolerance=mode)
        kinds = {r.tolerance_source["kind"] for _, _, r in res.reports}
        assert kinds <= kind and kinds, kinds
        if mode == "estimate":
            assert "estimate" in kinds  # at least one shape is large enough to estimate
    with pytest.raises(sslproof.ConfigError):
        assert_loss(fn, loss, variant=variant, grad_fn=grad, precision="f32", tolerance="nope")


# Mistakes planted by hand in the numpy implementations: (loss, knobs, the expected name).
PLANTED = [
    ("vicreg", dict(biased=True), "biased-divisor"),
    ("vicreg", dict(cov_uncentred=True), "cov-uncentred"),
    ("vicreg", dict(squared_hinge=True), "squared-hinge"),
    ("vicreg", dict(missing_half=True), "missing-half"),
    ("vicreg", dict(sign=-1.0), "sign"),
    ("barlow-twins", dict(unbiased_bn=True), "unbiased-bn"),
    ("barlow-twins", dict(lambd=0.005), "lightly"),
    ("coding-rate", dict(eps=0.5, eps_squared=True), "eps-squared"),
    ("coding-rate", dict(eps=0.5, centred=True), "centred"),
    ("coding-rate", dict(eps=0.5, missing_half=True), "missing-half"),
    ("corinfomax", dict(unbiased=True), "unbiased-divisor"),
    ("corinfomax", dict(missing_per_dim=True), "missing-per-dim"),
    ("nt-xent", dict(tau=0.5, self_in_denominator=True), "self-in-denominator"),
    ("nt-xent", dict(tau=0.5, unnormalised=True), "unnormalised"),
    ("simsiam", dict(missing_half=True), "missing-half"),
    ("simsiam", dict(stop_gradient=False), "no-stop-gradient"),
    ("align", dict(summed=True), "sum"),
    ("align", dict(alpha=1.0), "unsquared"),
    ("uniformity", dict(t=2.0, include_self=True), "include-self"),
    ("uniformity", dict(t=1.0), "lightly"),
]


@pytest.mark.parametrize("precision", [None, "f32"])
@pytest.mark.parametrize("loss,knobs,name", PLANTED, ids=[f"{l}-{n}" for l, _, n in PLANTED])
def test_a_planted_mistake_fails_with_its_name(loss, knobs, name, precision):
    fn, grad = NP[loss](**knobs)
    with pytest.raises(AssertionError) as e:
        assert_loss(fn, loss, grad_fn=grad, precision=precision)
    msg = str(e.value)
    assert f"sslproof: your {loss}" in msg and "disagrees with the reference at B = " in msg
    assert re.search(rf"^  diagnosis: matches (mistake|variant) '{re.escape(name)}': ", msg, re.M), msg
    assert "verdict: DISAGREES" in msg  # the full report follows


MISTAKES = [
    (l["name"], v["name"], m)
    for l in sslproof.losses()
    for v in l["variants"]
    for m in v["mistakes"]
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("loss,variant,mistake", MISTAKES, ids=[f"{l}-{v}-{m}" for l, v, m in MISTAKES])
def test_every_recognised_mistake_of_every_variant_is_named(loss, variant, mistake, dtype):
    """Every mistake of the registry in every variant it applies to, planted in sslproof's own
    float implementation and handed over as a numpy loss, is caught and named (this exercises the
    plumbing for every name; the hand-planted tests above are independent implementations).
    One float32 case overflows instead (solo-learn's τ = 0.1 on unnormalised features: logits
    near 10²): a non-finite value is a failure too, said as such."""

    def fn(*xs):
        return sslproof.evaluate(loss, *xs, variant=variant, mistake=mistake, dtype=dtype)[0]

    def grad(*xs):
        return sslproof.evaluate(loss, *xs, variant=variant, mistake=mistake, dtype=dtype)[1]

    with pytest.raises(AssertionError) as e:
        assert_loss(fn, loss, variant=variant, grad_fn=grad, precision="f32" if dtype == "float32" else None)
    if (loss, variant, mistake, dtype) == ("nt-xent", "solo-learn", "unnormalised", "float32"):
        assert "returned a non-finite value" in str(e.value)
        return
    assert f"  diagnosis: matches mistake '{mistake}': " in str(e.value), str(e.value)


def test_a_gradient_error_of_a_tenth_of_a_percent_is_caught_in_float32():
    fn, grad = NP["vicreg"]()
    with pytest.raises(AssertionError, match="(?s)the gradient of z1 at entry .* the value agrees: the gradient alone is wrong"):
        assert_loss(fn, "vicreg", grad_fn=lambda a, b: [g * 1.001 if k == 0 else g for k, g in enumerate(grad(a, b))],
                    precision="f32")


def test_variable_views_run_at_two_and_three_views():
    def fn(*zs):
        return sslproof.evaluate("nt-xent", *zs, variant="solo-learn", dtype="float64")[0]

    def grad(*zs):
        return sslproof.evaluate("nt-xent", *zs, variant="solo-learn", dtype="float64")[1]

    res = assert_loss(fn, "nt-xent", variant="solo-learn", grad_fn=grad, shapes=[(8, 4), (6, 3)])
    assert sorted(v for _, v, _ in res.reports) == [2, 2, 3]
    assert "3 views" in str(res)


# --- bad input and bad callables ----------------------------------------------------------


def test_a_callable_that_raises():
    def fn(z1, z2):
        raise ValueError("shapes do not broadcast")

    with pytest.raises(CallError, match=r"your loss raised ValueError: shapes do not broadcast \(B = 16, d = 8, seed"):
        assert_loss(fn, "vicreg", grad_fn=lambda a, b: [a, b])


def test_a_callable_that_returns_a_non_scalar():
    fn, grad = NP["align"]()
    with pytest.raises(CallError, match=r"returned an array of shape \(16,\), not a scalar.*reduce it"):
        assert_loss(lambda x, y: ((x - y) ** 2).sum(axis=1), "align", grad_fn=grad)


def test_a_callable_whose_output_does_not_depend_on_an_input():
    """The gradient of z2 not supplied (None): taken as zero, which the reference refutes, and the
    message says so."""
    fn, grad = NP["vicreg"]()
    with pytest.raises(AssertionError, match="grad_fn gave no gradient for z2: taken as zero"):
        assert_loss(fn, "vicreg", grad_fn=lambda a, b: [grad(a, b)[0], None])


def test_a_nan_result_fails():
    with pytest.raises(AssertionError, match="returned a non-finite value at B = 16"):
        assert_loss(lambda a, b: np.float64("nan"), "vicreg", grad_fn=lambda a, b: [a, b])


def test_the_framework_must_be_known():
    with pytest.raises(ConfigError, match="cannot tell which framework 'plain' uses: pass grad_fn="):
        def plain(z1, z2):
            return 0.0
        assert_loss(plain, "vicreg")
    with pytest.raises(ConfigError, match="needs grad_fn"):
        assert_loss(lambda a, b: 0.0, "vicreg", framework="numpy")
    with pytest.raises(ConfigError, match="PyTorch only"):
        assert_loss(lambda a, b: 0.0, "vicreg", grad_fn=lambda a, b: [a, b], precision="bf16")
    with pytest.raises(InputError, match="each shape is a pair"):
        assert_loss(lambda a, b: 0.0, "vicreg", grad_fn=lambda a, b: [a, b], shapes=[(0, 3)])


def test_nothing_concluded_is_a_skip_never_a_pass():
    """CorInfoMax in float32 on batches far smaller than d (B = 2, d = 40): the covariance is
    singular up to eps = 1e-6 and the a-priori bound alone (``tolerance="bound"``) cannot support
    a conclusion in float32; a test that checked nothing must not pass. (The default estimate,
    which evaluates the loss there, concludes.)"""
    import unittest

    from sslproof.testing import NothingConcluded

    fn, grad = NP["corinfomax"]()
    with pytest.raises(NothingConcluded, match="(?s)nothing was concluded.*B =   2, d =  40: not concluded: f32 cannot support") as e:
        assert_loss(fn, "corinfomax", grad_fn=grad, precision="f32", shapes=[(2, 40)], tolerance="bound")
    assert_loss(fn, "corinfomax", grad_fn=grad, precision="f32", shapes=[(2, 40)])
    assert isinstance(e.value, unittest.SkipTest)  # pytest reports it as skipped, with the reason
    with pytest.raises(NothingConcluded, match="the loss is undefined here: .*needs at least 2 samples"):
        fn, grad = NP["vicreg"]()
        with np.errstate(all="ignore"):  # the numpy loss divides by B − 1 = 0 (and returns NaN)
            assert_loss(fn, "vicreg", grad_fn=grad, shapes=[(1, 4)])


def test_detection_reads_what_the_function_reaches():
    import types

    fake_torch = types.ModuleType("torch")
    fake_torch.nn = types.SimpleNamespace()
    g = {"torch": fake_torch, "F": types.ModuleType("torch.nn.functional")}
    exec("def loss(z1, z2):\n    return F.mse_loss(z1, z2)\n", g)
    assert detect_framework(g["loss"]) == "torch"
    g2 = {"jnp": types.ModuleType("jax.numpy")}
    exec("def helper(z):\n    return jnp.sum(z)\ndef loss(z1, z2):\n    return helper(z1)\n", g2)
    assert detect_framework(g2["loss"]) == "jax"
    assert detect_framework(lambda a: np.sum(a)) is None


def test_parameters_are_passed_to_the_reference():
    """The MCR² coding rate at eps = 0.2 (not the default 0.5) passes with params={"eps": 0.2} and
    fails without; Barlow Twins' λ passes under the official spelling `lambd`."""
    fn, grad = NP["coding-rate"](eps=0.2)
    assert_loss(fn, "coding-rate", grad_fn=grad, params={"eps": 0.2}, shapes=[(16, 8), (8, 24)])
    with pytest.raises(AssertionError, match="disagrees with the reference"):
        assert_loss(fn, "coding-rate", grad_fn=grad, shapes=[(16, 8)])
    fn, grad = NP["barlow-twins"](lambd=0.01)
    assert_loss(fn, "barlow-twins", grad_fn=grad, params={"lambd": 0.01}, shapes=[(16, 8)])
