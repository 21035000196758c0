"""``assert_loss``: hand sslproof your loss *function*, as you wrote it for training, and it
checks it the way ChainRulesTestUtils' ``test_rrule`` checks a rule: on seeded inputs over a set of
shapes that includes the edge cases, with gradients from your framework's own autograd, within
tolerances derived for the precision you compute in. It fails with ``AssertionError`` naming the
shape, the input and entry, and the variant or common mistake your function matches.

.. code-block:: python

    import torch, sslproof.testing

    def vicreg(z1, z2):              # your training code, views as separate arguments
        ...

    def test_vicreg():
        sslproof.testing.assert_loss(vicreg, "vicreg")                  # float64
        sslproof.testing.assert_loss(vicreg, "vicreg", precision="f32") # float32
"""

from __future__ import annotations

import functools
import inspect
import math
import sys
import types
import unittest
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from . import Report, _input_names, check, inputs, loss_info
from .errors import CallError, ConfigError, InputError, SslproofError

__all__ = ["assert_loss", "default_shapes", "LossCheck", "detect_framework", "NothingConcluded"]

#: The shapes every loss is tried at, unless ``shapes=`` is given: the golden cases (tiny 4×3,
#: small 16×8, wide 8×24), B = 2, B ≤ d, d = 1, B = d, a tall and a wide batch.
DEFAULT_SHAPES: Tuple[Tuple[int, int], ...] = (
    (16, 8),   # golden "small"
    (4, 3),    # golden "tiny"
    (8, 24),   # golden "wide" (B < d)
    (2, 5),    # B = 2 (the smallest batch a 1/(B-1) covariance allows), B < d
    (12, 1),   # d = 1
    (6, 6),    # B = d
    (96, 4),   # tall
    (5, 64),   # wide
)


def default_shapes() -> List[Tuple[int, int]]:
    """The shapes :func:`assert_loss` uses by default."""
    return list(DEFAULT_SHAPES)


@dataclass
class LossCheck:
    """What :func:`assert_loss` did: one report per shape it concluded on, and the shapes it
    could not conclude on, with the reason (the loss is undefined there, or the precision cannot
    support a conclusion)."""

    loss: str
    variant: str
    precision: str
    framework: str
    reports: List[Tuple[Tuple[int, int], int, Report]] = field(default_factory=list)
    skipped: List[Tuple[Tuple[int, int], int, str]] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [
            f"sslproof.assert_loss: {self.loss} ({self.variant}), {self.framework}, checked as "
            f"{self.precision}: {len(self.reports)} shape(s) agree, {len(self.skipped)} not concluded"
        ]
        for (b, d), views, r in self.reports:
            worst = max((g.max_error / g.tolerance if g.tolerance > 0 else 0.0 for g in r.grads), default=0.0)
            lines.append(
                f"  B = {b:>3}, d = {d:>3}{_views(views)}: agrees (largest gradient error "
                f"{worst:.2g} of its tolerance; value error {r.value_error:.2e} ≤ {r.tolerance:.2e})"
            )
        for (b, d), views, why in self.skipped:
            lines.append(f"  B = {b:>3}, d = {d:>3}{_views(views)}: not concluded: {why}")
        return "\n".join(lines)


def _views(v: int) -> str:
    return f", {v} views" if v else ""


# --- the framework -----------------------------------------------------------------------


def _unwrap(fn: Any) -> Any:
    while True:
        if isinstance(fn, functools.partial):
            fn = fn.func
        elif isinstance(fn, types.MethodType):
            fn = fn.__func__
        elif hasattr(fn, "__wrapped__"):
            fn = fn.__wrapped__
        else:
            return fn


def _module_of(obj: Any) -> str:
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    return getattr(obj, "__module__", None) or type(obj).__module__ or ""


def detect_framework(fn: Callable[..., Any]) -> Optional[str]:
    """``"torch"`` or ``"jax"`` from what ``fn`` is or refers to (a ``torch.nn.Module``; a
    function whose globals, closure or defaults reach torch or JAX), else ``None``."""
    f = _unwrap(fn)
    seen: List[str] = []
    for c in type(f).__mro__:
        seen.append(c.__module__ or "")
    if not inspect.isfunction(f) and callable(f) and hasattr(type(f), "__call__"):
        # A callable object: its class's module and its __call__ / forward.
        for attr in ("forward", "__call__"):
            m = getattr(type(f), attr, None)
            if inspect.isfunction(m):
                f2 = m
                seen.append(f2.__module__ or "")
                seen += _referenced_modules(f2)
    if inspect.isfunction(f):
        seen.append(f.__module__ or "")
        seen += _referenced_modules(f)
    found = _frameworks_in(seen)
    if len(found) != 1:
        # Nothing (or both) named directly, e.g. `(x - y).norm(dim=1).mean()` reaches torch only
        # through its arguments: the modules the function comes from, and the module objects it
        # refers to, decide when exactly one framework is imported there.
        mods = [sys.modules.get(getattr(f, "__module__", None) or "")]
        mods += [o for o in _referenced_objects(f) if isinstance(o, types.ModuleType)]
        imported: List[str] = []
        for m in mods:
            if m is not None:
                imported += [_module_of(v) for v in vars(m).values() if isinstance(v, types.ModuleType)]
        found = found or _frameworks_in(imported)
    return found.pop() if len(found) == 1 else None


def _frameworks_in(modules: List[str]) -> set:
    out = set()
    for prefix, name in (("torch", "torch"), ("jax", "jax"), ("flax", "jax"), ("lightly", "torch"), ("solo", "torch")):
        if any(s == prefix or s.startswith(prefix + ".") for s in modules):
            out.add(name)
    return out


def _referenced_objects(f: Any) -> List[Any]:
    if not inspect.isfunction(f):
        f = getattr(type(f), "forward", None) or getattr(type(f), "__call__", None)
        if not inspect.isfunction(f):
            return []
    g = getattr(f, "__globals__", {})
    objs = [g[n] for n in f.__code__.co_names if n in g]
    for cell in f.__closure__ or ():
        try:
            objs.append(cell.cell_contents)
        except ValueError:
            pass
    return objs


def _referenced_modules(f: types.FunctionType, depth: int = 0) -> List[str]:
    """The modules of the globals ``f``'s code names, of its closure and defaults, and, one level
    down, of the functions of the same module it calls (helpers such as ``off_diagonal``)."""
    out: List[str] = []
    g = getattr(f, "__globals__", {})
    code = f.__code__
    names = set(code.co_names)
    for const in code.co_consts:  # nested functions and lambdas
        if isinstance(const, types.CodeType):
            names |= set(const.co_names)
    objs = [g[n] for n in names if n in g]
    if f.__closure__:
        for cell in f.__closure__:
            try:
                objs.append(cell.cell_contents)
            except ValueError:
                pass
    objs += list(f.__defaults__ or ())
    for o in objs:
        m = _module_of(o)
        out.append(m)
        if depth < 2 and inspect.isfunction(o) and o.__module__ == f.__module__:
            out += _referenced_modules(o, depth + 1)
    return out


_PRECISION_OF_DTYPE = {
    "float64": "f64",
    "float32": "f32",
    "bfloat16": "bf16",
    "torch.float64": "f64",
    "torch.float32": "f32",
    "torch.bfloat16": "bf16",
}


class _Call:
    """The user's function called on one set of inputs: value, gradients, and the dtype of the
    value, in one framework."""

    def __init__(self, fn, framework, grad_fn, n_grads, names, precision, device):
        self.fn, self.framework, self.grad_fn = fn, framework, grad_fn
        self.n_grads, self.names, self.precision, self.device = n_grads, names, precision, device

    def __call__(self, xs: List[np.ndarray], where: str) -> Tuple[float, List[np.ndarray], str, List[str]]:
        dtype = np.float64 if self.precision in (None, "f64") else np.float32
        try:
            if self.framework == "numpy":
                return self._numpy([x.astype(dtype) for x in xs], where)
            if self.framework == "torch":
                return self._torch(xs, dtype, where)
            return self._jax(xs, dtype, where)
        except (SslproofError, AssertionError):
            raise
        except Exception as e:  # the user's code raised: say where, keep the cause
            raise CallError(f"your loss raised {type(e).__name__}: {e} ({where})") from e

    def _value(self, out: Any, where: str) -> float:
        shape = tuple(getattr(out, "shape", ()))
        if int(np.prod(shape)) != 1:
            raise CallError(
                f"your loss returned an array of shape {shape}, not a scalar ({where}); reduce it "
                "as in training (.mean() or .sum())"
            )
        try:
            v = float(np.asarray(out.detach().cpu().double() if hasattr(out, "detach") else out).reshape(()))
        except (TypeError, ValueError) as e:
            raise CallError(f"your loss returned {type(out).__name__}, not a number ({where}): {e}") from None
        return v

    def _numpy(self, xs, where):
        out = self.fn(*xs)
        value = self._value(out, where)
        dt = str(np.asarray(out).dtype)
        gs = self.grad_fn(*xs)
        if isinstance(gs, Mapping):
            gs = [gs.get(n, gs.get(f"grad_{n}")) for n in self.names[: self.n_grads]]
        gs = list(gs) if isinstance(gs, (list, tuple)) else [gs]
        if len(gs) < self.n_grads:
            raise CallError(
                f"grad_fn returned {len(gs)} gradient(s); the loss has {self.n_grads} "
                f"({', '.join(self.names[: self.n_grads])}) ({where})"
            )
        notes = []
        arrays = []
        for n, g in zip(self.names, gs[: self.n_grads]):
            if g is None:
                notes.append(f"grad_fn gave no gradient for {n}: taken as zero")
                g = np.zeros_like(xs[self.names.index(n)])
            arrays.append(np.asarray(g))
        return value, arrays, dt, notes

    def _torch(self, xs, dtype, where):
        import torch

        tdt = torch.float64 if dtype == np.float64 else torch.float32
        dev = torch.device(self.device or "cpu")
        ts = [torch.tensor(x, dtype=tdt, device=dev, requires_grad=k < self.n_grads) for k, x in enumerate(xs)]
        if self.precision == "bf16":
            with torch.autocast(device_type=dev.type, dtype=torch.bfloat16):
                out = self.fn(*ts)
        else:
            out = self.fn(*ts)
        if not isinstance(out, torch.Tensor):
            raise CallError(f"your loss returned {type(out).__name__}, not a torch tensor ({where})")
        value = self._value(out, where)
        if not out.requires_grad:
            raise CallError(
                f"your loss's output does not require grad: it depends on none of the inputs "
                f"through autograd (a .detach(), .numpy() or torch.no_grad()?) ({where})"
            )
        gs = torch.autograd.grad(out.reshape(()), ts[: self.n_grads], allow_unused=True)
        notes, arrays = [], []
        for n, g, t in zip(self.names, gs, ts):
            if g is None:
                notes.append(f"your loss does not depend on {n} (autograd gave no gradient): taken as zero")
                g = torch.zeros_like(t)
            arrays.append(g.detach().to(torch.float64).cpu().numpy())
        return value, arrays, str(out.dtype), notes

    def _jax(self, xs, dtype, where):
        import jax
        import jax.numpy as jnp

        js = [jnp.asarray(x, dtype=dtype) for x in xs]
        out = jax.eval_shape(self.fn, *js)  # the output's shape and dtype, without computing
        if int(np.prod(out.shape)) != 1:
            raise CallError(
                f"your loss returned an array of shape {tuple(out.shape)}, not a scalar ({where}); "
                "reduce it as in training (.mean() or .sum())"
            )
        dt = str(out.dtype)
        argnums = tuple(range(self.n_grads))
        # One trace and one compilation per shape (op-by-op dispatch took minutes over the shapes).
        vg = jax.jit(jax.value_and_grad(lambda *a: jnp.reshape(self.fn(*a), ()), argnums=argnums))
        v, gs = vg(*js)
        value = self._value(np.asarray(v, dtype=np.float64), where)
        arrays = [np.asarray(g, dtype=np.float64) for g in gs]
        notes = []
        for n, g in zip(self.names, arrays):
            if not np.any(g):
                notes.append(f"the gradient of {n} is exactly zero")
        return value, arrays, dt, notes


def _seed(seed: int, b: int, d: int, views: int) -> int:
    # One stream per (seed, shape, views): a 64-bit mix (splitmix64's finaliser).
    x = (seed * 0x9E3779B97F4A7C15 + b * 0x100000001B3 + d * 0x2545F4914F6CDD1D + views) % 2**64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) % 2**64
    return x ^ (x >> 31)


def assert_loss(
    fn: Callable[..., Any],
    loss: str,
    *,
    variant: Optional[str] = None,
    params: Optional[Mapping[str, float]] = None,
    shapes: Optional[Sequence[Tuple[int, int]]] = None,
    precision: Optional[str] = None,
    seed: int = 0,
    grad_fn: Optional[Callable[..., Any]] = None,
    framework: Optional[str] = None,
    views: Optional[Sequence[int]] = None,
    device: Optional[str] = None,
    tolerance: str = "estimate",
) -> LossCheck:
    """Assert that ``fn`` computes ``loss`` (in ``variant``, with ``params``) and its gradients.

    ``fn`` is your loss exactly as written for training, views as separate arguments, in the
    loss's input order (``sslproof.losses()``; CorInfoMax's running state and SimSiam's ``p1 p2 z1
    z2`` included), returning a scalar.

    - **Inputs**: seeded (``seed``), drawn as the golden files draw theirs, at every shape of
      ``shapes`` (default :data:`DEFAULT_SHAPES`: the golden shapes, B = 2, B ≤ d, d = 1, B = d, a
      tall and a wide batch); for variants taking any number of views, at 2 views and, on the
      first shape, 3 (``views=`` to choose).
    - **Gradients**: from your framework's autograd, detected from ``fn`` (a ``torch.nn.Module``
      or a function reaching torch → PyTorch; reaching jax → JAX); for numpy, pass
      ``grad_fn(*inputs)`` returning one gradient per input with a gradient. ``framework=``
      overrides the detection.
    - **Precision**: ``None`` feeds float64 and checks in the precision of the dtype your function
      returns (float64 → ``f64``, float32 → ``f32``, bfloat16 → ``bf16``). ``"f32"``/``"tf32"``
      feed float32; ``"bf16"`` feeds float32 under ``torch.autocast(dtype=torch.bfloat16)``.
      The inputs are exact in float32, so every precision sees the same numbers.
    - **Tolerance**: ``"estimate"`` (default) or ``"bound"``, as :func:`sslproof.check`'s: in
      float32 the gradients' tolerance is measured at each shape's inputs.

    Raises ``AssertionError`` at the first shape that disagrees, with the shape, the input and
    entry, the diagnosis (variant or mistake matched) and the full report; ``CallError`` if ``fn``
    raises or returns a non-scalar; ``InputError``/``ConfigError`` for a bad request. A shape the
    loss is undefined on, or at which the precision cannot support a conclusion, is skipped and
    listed in the returned :class:`LossCheck`; if no shape concluded, :class:`NothingConcluded`
    (a ``unittest.SkipTest``) is raised: the test is reported as skipped with the reasons, never
    as passed (a test that checked nothing must not pass).
    """
    info = loss_info(loss, variant)
    v = info["variant"]
    if precision is not None and precision not in ("f64", "f32", "tf32", "bf16"):
        raise ConfigError(f"unknown precision {precision!r}; known: f64, f32, tf32, bf16")
    if not callable(fn):
        raise ConfigError(f"fn must be callable, got {type(fn).__name__}")
    if framework is None:
        framework = "numpy" if grad_fn is not None else detect_framework(fn)
        if framework is None:
            raise ConfigError(
                f"cannot tell which framework {getattr(fn, '__name__', fn)!r} uses: pass grad_fn= "
                "(numpy, with your hand-written gradient) or framework='torch' / 'jax'"
            )
    if framework not in ("numpy", "torch", "jax"):
        raise ConfigError(f"framework {framework!r}: one of 'torch', 'jax', 'numpy'")
    if framework == "numpy" and grad_fn is None:
        raise ConfigError("framework='numpy' needs grad_fn= (numpy has no autograd)")
    if precision == "bf16" and framework != "torch":
        raise ConfigError("precision='bf16' means torch.autocast(dtype=torch.bfloat16): PyTorch only")
    kw: Dict[str, Any] = dict(params or {})
    shape_list = list(shapes) if shapes is not None else default_shapes()
    for s in shape_list:
        if not (isinstance(s, (tuple, list)) and len(s) == 2 and all(isinstance(k, (int, np.integer)) and k > 0 for k in s)):
            raise InputError(f"shapes: each shape is a pair (B, d) of positive integers, got {s!r}")
    runs: List[Tuple[Tuple[int, int], int]] = []
    if v["variable_views"]:
        vs = list(views) if views is not None else [2, 3]
        for k, s in enumerate(shape_list):
            for n in vs:
                if views is not None or n == 2 or k == 0:
                    runs.append(((int(s[0]), int(s[1])), n))
    else:
        runs = [((int(s[0]), int(s[1])), 0) for s in shape_list]

    result = LossCheck(loss, v["name"], precision or "?", framework)
    inferred: Optional[str] = None
    for (b, d), nviews in runs:
        names, gnames, _ = _input_names(loss, variant, nviews or 2)
        call = _Call(fn, framework, grad_fn, len(gnames), names, precision, device)
        case_seed = _seed(seed, b, d, nviews)
        xs = inputs(loss, b, d, variant=variant, seed=case_seed, views=nviews or None)
        where = f"B = {b}, d = {d}{_views(nviews)}, seed {case_seed:#x}"
        value, grads, dt, notes = call(xs, where)
        prec = precision
        if prec is None:
            prec = _PRECISION_OF_DTYPE.get(dt)
            if prec is None:
                raise CallError(f"your loss returned dtype {dt}, which sslproof has no rounding model for ({where})")
        elif prec == "f64" and dt not in ("float64", "torch.float64"):
            raise CallError(
                f"precision='f64' was asked for, but your loss computed in {dt} ({where}); "
                "for JAX, enable float64 with jax.config.update('jax_enable_x64', True)"
            )
        inferred = prec
        try:
            if not math.isfinite(value) or not all(np.all(np.isfinite(g)) for g in grads):
                # Can this precision conclude anything here? (The same check on stand-in numbers:
                # its tolerance and trustworthiness do not depend on them.)
                probe = check(loss, xs, 0.0, None, precision=prec, variant=variant, tolerance=tolerance, **kw)
                what = "value" if not math.isfinite(value) else "gradient"
                if probe.trustworthy:
                    raise AssertionError(
                        f"sslproof: your {loss} ({v['name']}, {framework}, {prec}) returned a non-finite "
                        f"{what} at {where}; the reference value is {probe.reference_value!r}"
                    )
                result.skipped.append(((b, d), nviews, f"your loss returned a non-finite {what}, and "
                                       f"{prec} cannot support a conclusion here: {probe.untrustworthy_reason}"))
                continue
            r = check(loss, xs, value, grads, precision=prec, variant=variant, tolerance=tolerance, **kw)
        except InputError as e:
            # The loss is undefined on this batch (B = 2 for a loss needing more, a zero row…):
            # nothing to compare.
            result.skipped.append(((b, d), nviews, f"the loss is undefined here: {e}"))
            continue
        if not r.trustworthy:
            result.skipped.append(((b, d), nviews, f"{prec} cannot support a conclusion: {r.untrustworthy_reason}"))
            continue
        if not r.agrees:
            raise AssertionError(_failure(loss, v["name"], framework, prec, where, r, notes))
        result.reports.append(((b, d), nviews, r))
    result.precision = inferred or result.precision
    if not result.reports:
        raise NothingConcluded("sslproof: nothing was concluded, so nothing is asserted:\n" + str(result))
    return result


class NothingConcluded(SslproofError, unittest.SkipTest):
    """No shape could be concluded on (the loss undefined there, or the precision unable to
    support a conclusion at any of them). A ``unittest.SkipTest``: pytest and unittest report the
    test as *skipped* with this reason, neither passed (nothing was shown) nor failed (nothing
    was found wrong)."""


def _failure(loss: str, variant: str, framework: str, prec: str, where: str, r: Report, notes: List[str]) -> str:
    fd = r.first_disagreement
    lines = [f"sslproof: your {loss} ({variant}, {framework}, checked as {prec}) disagrees with the reference at {where}"]
    if fd is not None:
        if fd.input is None:
            lines.append(
                f"  first disagreement: the value: yours {fd.yours:+.10e}, reference {fd.reference:+.10e} "
                f"(|diff| {fd.error:.2e} > tolerance {fd.tolerance:.2e})"
            )
        else:
            bad = r.grad(fd.input)
            lines.append(
                f"  first disagreement: the gradient of {fd.input} at entry {fd.entry}: yours {fd.yours:+.10e}, "
                f"reference {fd.reference:+.10e} (|diff| {fd.error:.2e} > tolerance {fd.tolerance:.2e}); "
                f"{bad.disagreeing} of its entries disagree"
            )
            if r.value_error <= r.tolerance:
                lines.append("  the value agrees: the gradient alone is wrong")
    for n in notes:
        lines.append(f"  note: {n}")
    for d in r.diagnoses:
        if d.full:
            lines.append(f"  diagnosis: matches {d.kind} {d.id!r}: {d.says}")
        else:
            part = "the value" if d.value_matches else "the gradient"
            lines.append(f"  diagnosis (partial): {part} matches {d.kind} {d.id!r}: {d.says}")
    if not r.diagnoses:
        lines.append("  diagnosis: matches no known variant or common mistake")
    lines.append("")
    lines.append(str(r).rstrip())
    return "\n".join(lines)
