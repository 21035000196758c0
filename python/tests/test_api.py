"""The package's calls against the golden files and the CLI, and its refusals of bad input."""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import sslproof
from sslproof import ConfigError, InputError, TooLargeError

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "golden"
BIN = Path(os.environ.get("SSLPROOF", REPO / "target" / "release" / "sslproof"))


def golden_cases():
    for path in sorted(GOLDEN.glob("*.json")):
        if path.name.endswith(".large.json"):
            continue
        m = json.loads(path.read_text())
        for c in m["cases"]:
            yield m["loss"], c


CASES = list(golden_cases())
IDS = [f"{l}/{c['name']}" for l, c in CASES]


def load(case, key):
    return [np.load(GOLDEN / case[key][n]) for n in case["input_order"] if n in case[key]]


# --- the registry -------------------------------------------------------------------------


def test_losses_lists_every_loss_with_its_variants_parameters_inputs_and_mistakes():
    ls = sslproof.losses()
    names = [l["name"] for l in ls]
    assert names == ["vicreg", "barlow-twins", "coding-rate", "corinfomax", "nt-xent", "simsiam", "align", "uniformity"]
    vic = ls[0]
    assert vic["variants"][0]["name"] == "official"
    assert {p["name"]: p["default"] for p in vic["variants"][0]["params"]} == {
        "sim": 25.0, "std": 25.0, "cov": 1.0, "gamma": 1.0, "eps": 1e-4}
    assert vic["variants"][0]["inputs"] == ["z1", "z2"]
    assert "cov-uncentred" in [m["id"] for m in vic["mistakes"]]
    cim = next(l for l in ls if l["name"] == "corinfomax")
    running = next(v for v in cim["variants"] if v["name"] == "running")
    assert running["inputs"] == ["z1", "z2", "mu1", "r1", "mu2", "r2"]
    assert running["grad_inputs"] == ["z1", "z2"]
    nt = next(l for l in ls if l["name"] == "nt-xent")
    assert [v["variable_views"] for v in nt["variants"]] == [False, True]
    ls[0]["name"] = "changed"  # a copy: the registry is not changed
    assert sslproof.losses()[0]["name"] == "vicreg"


def test_loss_info_names_the_known_losses_and_variants():
    with pytest.raises(ConfigError, match="unknown loss 'vicrge'; known: vicreg, barlow-twins"):
        sslproof.loss_info("vicrge")
    with pytest.raises(ConfigError, match="unknown variant 'offical' of vicreg; known: official, paper"):
        sslproof.loss_info("vicreg", "offical")


# --- bit for bit: golden files and the CLI ------------------------------------------------


@pytest.mark.parametrize("loss,case", CASES, ids=IDS)
def test_inputs_and_reference_reproduce_the_golden_files_bit_for_bit(loss, case):
    xs = sslproof.inputs(loss, *case["shape"], variant=case["variant"], seed=int(case["seed"], 16))
    for x, g in zip(xs, load(case, "inputs")):
        assert x.dtype == np.float64 and np.array_equal(x, g)
    r = sslproof.reference(loss, *xs, variant=case["variant"], **case["params"])
    assert r.value == case["value"]
    assert r.method == case["reference"].split("-")[0]
    if r.method == "mpfr":
        assert r.value_decimal == case["value_decimal"]
    for got, want in zip(r.grads, load(case, "grads")):
        assert got.dtype == np.float64 and np.array_equal(got, want)
    assert list(r.names) == [n for n in case["input_order"] if n in case["grads"]]


@pytest.mark.skipif(not BIN.exists(), reason=f"{BIN} not built (make test builds it; or set SSLPROOF)")
@pytest.mark.parametrize("loss,case", [c for c in CASES if c[1]["name"].endswith("/small")],
                         ids=[i for i, c in zip(IDS, CASES) if c[1]["name"].endswith("/small")])
@pytest.mark.parametrize("planted", ["correct", "one-entry"])
def test_check_is_bit_identical_to_the_cli(loss, case, planted, tmp_path):
    """The same inputs, value and gradients (float32, one entry wrong or none) through the CLI
    (`--json`) and through `sslproof.check`: the same report, every float equal, the same text and
    exit code."""
    xs = load(case, "inputs")
    gs = [g.astype(np.float32) for g in load(case, "grads")]
    if planted == "one-entry":
        gs[0][0, 0] *= 1.01
    value = float(np.float32(case["value"]))
    ins = [str(GOLDEN / case["inputs"][n]) for n in case["input_order"]]
    gps = []
    for k, g in enumerate(gs):
        p = tmp_path / f"g{k}.npy"
        np.save(p, g)
        gps.append(str(p))
    args = [str(BIN), "check", "--loss", loss, "--variant", case["variant"], "--inputs", *ins,
            "--value", repr(value), "--grad", *gps, "--json", str(tmp_path / "r.json")]
    for k, v in case["params"].items():
        args += ["--param", f"{k}={v!r}"]
    cli = subprocess.run(args, capture_output=True, text=True)
    assert cli.returncode in (0, 1, 3), cli.stderr
    r = sslproof.check(loss, xs, value, gs, variant=case["variant"], **case["params"])
    assert r.raw == json.loads((tmp_path / "r.json").read_text())
    assert str(r) == cli.stdout
    assert r.exit_code == cli.returncode
    assert r.precision == "f32"  # inferred from the float32 gradients, as the CLI infers it


# --- reference and check -----------------------------------------------------------------


def test_reference_says_mpfr_or_f64():
    small = sslproof.inputs("nt-xent", 8, 4)
    r = sslproof.reference("nt-xent", *small)
    assert (r.method, r.bits) == ("mpfr", 256) and r.value_error <= abs(r.value) * 2.3e-16
    big = sslproof.inputs("nt-xent", 300, 64)
    r = sslproof.reference("nt-xent", *big)
    assert (r.method, r.bits, r.value_decimal) == ("f64", 53, None)
    assert 0 < r.value_error < 1e-10 * abs(r.value)
    assert r.grad("z2") is r.grads[1]
    with pytest.raises(KeyError, match="gradients are of z1, z2"):
        r.grad("p1")


def test_a_correct_float64_result_agrees_and_the_report_says_what_was_checked():
    z1, z2 = sslproof.inputs("vicreg", 16, 8)
    ref = sslproof.reference("vicreg", z1, z2)
    r = sslproof.check("vicreg", [z1, z2], ref.value, list(ref.grads))
    assert r.agrees and r.trustworthy and r.exit_code == 0
    assert r.precision == "f64" and r.reference_method == "mpfr-256"
    assert r.value_error == 0 and r.tolerance > 0
    assert [g.input for g in r.grads] == ["z1", "z2"] and all(g.agrees for g in r.grads)
    assert r.first_disagreement is None and r.diagnosis == []
    assert "verdict: AGREES with the reference" in str(r)
    assert "gradients checked" in repr(r)


def test_without_gradients_the_report_says_they_were_not_checked():
    z1, z2 = sslproof.inputs("vicreg", 16, 8)
    r = sslproof.check("vicreg", {"z1": z1, "z2": z2}, sslproof.reference("vicreg", z1, z2).value)
    assert r.agrees and not r.grads_checked
    assert "gradients: not checked" in str(r)
    assert "no gradient was checked" in str(r)
    assert "NOT checked" in repr(r)


def test_a_disagreement_is_located_and_diagnosed():
    z1, z2 = sslproof.inputs("vicreg", 16, 8)
    value, grads = sslproof.evaluate("vicreg", z1, z2, mistake="biased-divisor", dtype="float32")
    r = sslproof.check("vicreg", [z1, z2], value, grads)
    assert not r.agrees and r.trustworthy and r.exit_code == 1 and r.precision == "f32"
    assert r.diagnosis[0] == "biased-divisor"
    fd = r.first_disagreement
    assert fd is not None and fd.what == "value" and fd.input is None
    g = r.grads[0]
    assert g.disagreeing > 0 and fd.error > fd.tolerance


def test_each_gradient_entry_has_its_own_tolerance():
    """The report's per-entry fields: the largest tolerance, the worst entry's own, and the
    largest |error| / tolerance (below 1 for correct float32 numbers, above for a planted entry)."""
    z1, z2 = sslproof.inputs("barlow-twins", 64, 32)
    value, grads = sslproof.evaluate("barlow-twins", z1, z2, dtype="float32")
    r = sslproof.check("barlow-twins", [z1, z2], value, grads)
    assert r.agrees and r.precision == "f32"
    for g in r.grads:
        assert g.per_entry and 0 < g.worst_tolerance <= g.tolerance and 0 < g.max_ratio < 1
    g0 = np.array(grads[0], dtype=np.float64)
    k = np.unravel_index(np.argsort(np.abs(g0), axis=None)[g0.size // 2], g0.shape)
    g0[k] *= 1 + 1e-2
    r = sslproof.check("barlow-twins", [z1, z2], value, [g0, grads[1]], precision="f32")
    g = r.grads[0]
    assert not r.agrees and g.worst == tuple(int(i) for i in k) and g.disagreeing == 1
    assert g.max_ratio > 1 and g.worst_tolerance < g.tolerance
    assert "tolerance there" in str(r)


def test_the_float32_tolerance_is_estimated_at_the_inputs():
    """In float32 the gradients' tolerance is the bound scaled to the error of our float32 runs
    (``tolerance_source``); ``tolerance="bound"`` keeps the bound, and a gradient error between the
    two (Barlow Twins at 256x128, the whole gradient x (1 + 3e-5): the bound rejects from 5.2e-5,
    the estimate from 1.7e-5, docs/validation/power.md) passes the bound and not the estimate."""
    z1, z2 = sslproof.inputs("barlow-twins", 256, 128, seed=20261202)
    value, grads = sslproof.evaluate("barlow-twins", z1, z2, dtype="float32")
    est = sslproof.check("barlow-twins", [z1, z2], value, grads)
    bound = sslproof.check("barlow-twins", [z1, z2], value, grads, tolerance="bound")
    assert est.agrees and bound.agrees
    src = est.tolerance_source
    assert src["kind"] == "estimate" and 4 <= src["runs"] <= 16 and src["factor"] == 8
    for s, q, g, h in zip(src["scales"], src["ratios"], est.grads, bound.grads):
        assert 1 / 256 <= s < 1 and s == min(1.0, max(8 * q, 1 / 256))
        assert g.tolerance < h.tolerance
    assert bound.tolerance_source["kind"] == "bound" and "asked for" in bound.tolerance_source["why"]
    assert "gradient tolerance: estimated at these inputs" in str(est)
    wrong = [np.asarray(grads[0], dtype=np.float64) * (1 + 3e-5), grads[1]]
    assert sslproof.check("barlow-twins", [z1, z2], value, wrong, precision="f32", tolerance="bound").agrees
    assert not sslproof.check("barlow-twins", [z1, z2], value, wrong, precision="f32").agrees
    f64 = sslproof.check("barlow-twins", [z1, z2], value, grads, precision="f64")
    assert f64.tolerance_source["kind"] == "bound" and "no estimate in f64" in f64.tolerance_source["why"]
    with pytest.raises(sslproof.ConfigError, match="estimate, bound"):
        sslproof.check("barlow-twins", [z1, z2], value, grads, tolerance="tight")


def test_a_nan_gradient_entry_is_the_worst_and_stays_nan():
    z1, z2 = sslproof.inputs("vicreg", 16, 8)
    ref = sslproof.reference("vicreg", z1, z2)
    g = [np.array(x) for x in ref.grads]
    g[0][3, 2] = np.nan
    r = sslproof.check("vicreg", [z1, z2], ref.value, g)
    g0 = r.grads[0]
    assert not r.agrees and g0.worst == (3, 2) and g0.disagreeing == 1
    assert np.isnan(g0.max_error) and np.isnan(g0.max_ratio)


def test_gradients_by_name_and_the_other_spellings():
    z1, z2 = sslproof.inputs("align", 8, 4)
    ref = sslproof.reference("align", z1, z2)
    r = sslproof.check("align", {"x": z1, "y": z2}, ref.value, {"grad_x": ref.grads[0], "y_grad": ref.grads[1]})
    assert r.agrees and r.grads_checked
    with pytest.raises(InputError, match=r"gradients \['grad_z'\] are not align's: nothing may be left unchecked"):
        sslproof.check("align", {"x": z1, "y": z2}, ref.value, {"x": ref.grads[0], "y": ref.grads[1], "grad_z": z1})


def test_official_parameter_spellings():
    z1, z2 = sslproof.inputs("barlow-twins", 16, 8)
    a = sslproof.reference("barlow-twins", z1, z2, lambd=0.01)
    b = sslproof.reference("barlow-twins", z1, z2, **{"lambda": 0.01})
    assert a.value == b.value
    c = sslproof.reference("barlow-twins", z1, z2)
    assert c.value != a.value


# --- bad input ----------------------------------------------------------------------------


@pytest.fixture
def vic():
    z1, z2 = sslproof.inputs("vicreg", 16, 8)
    ref = sslproof.reference("vicreg", z1, z2)
    return z1, z2, ref


def test_wrong_dtype(vic):
    z1, z2, ref = vic
    with pytest.raises(InputError, match="z1: dtype int64; sslproof checks float64 or float32"):
        sslproof.check("vicreg", [z1.astype(np.int64), z2], ref.value)
    with pytest.raises(InputError, match="gradient of z2: dtype float16"):
        sslproof.check("vicreg", [z1, z2], ref.value, [ref.grads[0], ref.grads[1].astype(np.float16)])
    with pytest.raises(InputError, match="the loss value must be a real number"):
        sslproof.check("vicreg", [z1, z2], "24.9")


def test_one_dimensional_arrays(vic):
    z1, z2, ref = vic
    with pytest.raises(InputError, match=r"z1: a 1-D array of shape \(128,\); expected a 2-D array.*reshape"):
        sslproof.check("vicreg", [z1.ravel(), z2], ref.value)
    with pytest.raises(InputError, match="must be a list"):
        sslproof.check("vicreg", z1, ref.value)


def test_mismatched_views(vic):
    z1, z2, ref = vic
    with pytest.raises(InputError, match=r"input z2: shape \(15, 8\), expected 16 × 8"):
        sslproof.check("vicreg", [z1, z2[:15]], ref.value)
    with pytest.raises(InputError, match=r"vicreg \(official\) takes 2 inputs \(z1 z2\), got 3"):
        sslproof.check("vicreg", [z1, z2, z2], ref.value)
    with pytest.raises(InputError, match=r"gradient of z2: shape \(16, 7\)"):
        sslproof.check("vicreg", [z1, z2], ref.value, [ref.grads[0], ref.grads[1][:, :7]])
    with pytest.raises(InputError, match="takes 2 gradients"):
        sslproof.check("vicreg", [z1, z2], ref.value, [ref.grads[0]])


def test_nan(vic):
    z1, z2, ref = vic
    bad = z1.copy()
    bad[3, 5] = np.nan
    with pytest.raises(InputError, match=r"z1: entry \(3, 5\) of the 16 × 8 array is NaN; the inputs must be finite"):
        sslproof.check("vicreg", [bad, z2], ref.value)
    with pytest.raises(InputError, match="the loss value is nan"):
        sslproof.check("vicreg", [z1, z2], float("nan"))
    # A NaN in *your gradient* is your result: it disagrees, it is not bad input.
    g = ref.grads[0].copy()
    g[0, 0] = np.nan
    r = sslproof.check("vicreg", [z1, z2], ref.value, [g, ref.grads[1]])
    assert not r.agrees and r.first_disagreement.entry == (0, 0)


def test_configuration_errors(vic):
    z1, z2, ref = vic
    with pytest.raises(ConfigError, match='has no parameter "lamda"'):
        sslproof.check("barlow-twins", [z1, z2], 1.0, lamda=0.1)
    with pytest.raises(ConfigError, match="eps = -1.* is out of range: must be > 0"):
        sslproof.check("vicreg", [z1, z2], 1.0, eps=-1)
    with pytest.raises(ConfigError, match="unknown precision 'fp32'"):
        sslproof.check("vicreg", [z1, z2], 1.0, precision="fp32")
    with pytest.raises(ConfigError, match="unknown mistake"):
        sslproof.evaluate("vicreg", z1, z2, mistake="typo")


def test_empty_batch_and_memory_budget(vic):
    z1, z2, ref = vic
    with pytest.raises(InputError, match="empty batch"):
        sslproof.check("vicreg", [z1[:0], z2[:0]], 1.0)
    with pytest.raises(TooLargeError, match="needs about .* the budget is .*max_memory="):
        sslproof.check("vicreg", [z1, z2], ref.value, max_memory=1000)


def test_a_covariance_state_must_be_symmetric_positive_semidefinite():
    xs = sslproof.inputs("corinfomax", 16, 4, variant="running")
    r1 = xs[3].copy()
    r1[0, 1] += 1.0
    with pytest.raises(InputError, match="r1 must be a symmetric positive semi-definite covariance"):
        sslproof.reference("corinfomax", *xs[:3], r1, *xs[4:], variant="running")


def test_torch_tensors_are_accepted_where_torch_is_installed():
    torch = pytest.importorskip("torch", reason="torch is not installed")
    z1, z2 = sslproof.inputs("vicreg", 16, 8)
    ref = sslproof.reference("vicreg", z1, z2)
    t1, t2 = torch.tensor(z1, requires_grad=True), torch.tensor(z2)
    r = sslproof.check("vicreg", [t1, t2], torch.tensor(ref.value, dtype=torch.float64), [torch.tensor(g) for g in ref.grads])
    assert r.agrees and r.precision == "f64"
    # A float32 value implies float32 arithmetic; bfloat16 tensors imply bf16 autocast.
    r = sslproof.check("vicreg", [t1, t2], torch.tensor(ref.value), [torch.tensor(g) for g in ref.grads])
    assert r.agrees and r.precision == "f32"
    r = sslproof.check("vicreg", [t1, t2], torch.tensor(ref.value, dtype=torch.bfloat16), list(ref.grads))
    assert r.precision == "bf16"


def test_the_interpreter_is_released_while_rust_computes():
    """The main thread runs Python while a check computes in another thread: some of its loop's
    time stamps fall inside the window of the call (its first and last 20 ms, the Python parts,
    left out). With the GIL held through the Rust computation none could: the main thread cannot
    execute a bytecode then. (A rate comparison was flaky: Rust's own two threads share the two
    cores with the main thread.)"""
    import threading
    import time

    xs = sslproof.inputs("uniformity", 160, 16)
    ref = sslproof.reference("uniformity", *xs)
    windows = []

    def work():
        for _ in range(3):
            t0 = time.perf_counter()
            r = sslproof.check("uniformity", xs, ref.value, list(ref.grads))
            t1 = time.perf_counter()
            windows.append((t0 + 0.02, t1 - 0.02, r.seconds))

    stamps = []
    t = threading.Thread(target=work)
    t.start()
    while t.is_alive():
        stamps.append(time.perf_counter())
    t.join()
    assert all(sec > 0.1 for _, _, sec in windows), f"the checks were too quick to tell: {windows}"
    inside = sum(1 for x in stamps for lo, hi, _ in windows if lo < x < hi)
    assert inside > 100, f"{inside} of {len(stamps)} main-thread time stamps fell inside the checks"


def test_a_job_over_the_budget_is_refused_before_anything_is_copied():
    """A 10⁵ × 10⁵ float32 view that takes no memory (broadcast): copied into the checker's float64
    matrices it would need 80 GB per input. The job is refused from the shapes, before the copy."""
    big = np.broadcast_to(np.float32(1.0), (100_000, 100_000))
    with pytest.raises(TooLargeError, match="B = 100000, d = 100000"):
        sslproof.check("vicreg", [big, big], 1.0)
    with pytest.raises(TooLargeError, match="B = 100000, d = 100000"):
        sslproof.reference("vicreg", big, big)
