"""sslproof: check a self-supervised loss against high-precision references.

Three calls, the same checker as ``sslproof check`` (bit for bit):

>>> import numpy as np, sslproof
>>> z1, z2 = sslproof.inputs("vicreg", 16, 8)            # seeded inputs, as the golden files draw them
>>> ref = sslproof.reference("vicreg", z1, z2)            # MPFR value and gradients, as float64
>>> report = sslproof.check("vicreg", [z1, z2], ref.value, ref.grads)
>>> report.agrees
True

and, for a loss *function* (PyTorch, JAX, or numpy with a hand-written gradient), the pytest
assertion :func:`sslproof.testing.assert_loss`.

Tolerances are derived for the precision you computed in (``f64``, ``f32``, ``tf32``, ``bf16``)
from a rounding-error model of each loss (``docs/losses.md`` in the repository), never fixed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _native
from .errors import (
    CallError,
    ConfigError,
    InputError,
    OutOfRangeError,
    SslproofError,
    TooLargeError,
)

__all__ = [
    "losses",
    "loss_info",
    "inputs",
    "reference",
    "check",
    "evaluate",
    "Reference",
    "Report",
    "GradientResult",
    "Disagreement",
    "Diagnosis",
    "SslproofError",
    "ConfigError",
    "InputError",
    "TooLargeError",
    "OutOfRangeError",
    "CallError",
    "PRECISIONS",
    "DEFAULT_MAX_MEMORY",
]

__version__: str = _native.__version__

#: The precisions the rounding model knows: float64, float32, float32 with TF32 matrix products,
#: and bfloat16 autocast (products in bfloat16, accumulation and the rest in float32).
PRECISIONS: Tuple[str, ...] = ("f64", "f32", "tf32", "bf16")

#: The memory budget of a check (bytes), as ``sslproof check``'s ``--max-memory 8G``.
DEFAULT_MAX_MEMORY: int = 8 << 30

ArrayLike = Any
Inputs = Union[Sequence[ArrayLike], Mapping[str, ArrayLike]]


# --- the registry -------------------------------------------------------------------------

_REGISTRY: Optional[Dict[str, Any]] = None


def _registry() -> Dict[str, Any]:
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = json.loads(_native.losses_json())
    return _REGISTRY


def losses() -> List[Dict[str, Any]]:
    """Every loss the checker knows, as plain Python data.

    Each entry is a dict with ``name``, ``variants`` (each: ``name``, ``source``, ``formula``,
    ``params`` as ``{"name", "default", "range"}``, ``inputs``, ``grad_inputs``,
    ``variable_views``, ``mistakes``; the default variant, the official code's, first),
    ``mistakes`` (``{"id", "says"}``: the common mistakes the diagnosis recognises),
    ``unit_rows`` (whether the loss is used on l2-normalised rows) and ``covariance_inputs``.

    >>> [l["name"] for l in sslproof.losses()][:3]
    ['vicreg', 'barlow-twins', 'coding-rate']
    """
    return json.loads(json.dumps(_registry()["losses"]))  # a copy the caller may change


def loss_info(loss: str, variant: Optional[str] = None) -> Dict[str, Any]:
    """The registry entry of one loss, with ``variant`` (default: the first) resolved into
    ``entry["variant"]``. Raises :class:`ConfigError` naming the known losses or variants."""
    entry = next((l for l in losses() if l["name"] == loss), None)
    if entry is None:
        known = ", ".join(l["name"] for l in _registry()["losses"])
        raise ConfigError(f"unknown loss {loss!r}; known: {known}")
    vs = entry["variants"]
    v = vs[0] if variant is None else next((x for x in vs if x["name"] == variant), None)
    if v is None:
        raise ConfigError(
            f"unknown variant {variant!r} of {loss}; known: {', '.join(x['name'] for x in vs)}"
        )
    entry["variant"] = v
    return entry


# --- arrays in ----------------------------------------------------------------------------


def _dtype_name(x: Any) -> str:
    return str(getattr(x, "dtype", type(x).__name__))


def _as_array(x: Any, name: str) -> Tuple[np.ndarray, Optional[str]]:
    """``x`` as a 2-D float64 or float32 numpy array, without a copy where it already is one;
    and the precision its dtype implies when it is not float64/float32 (a torch bfloat16 tensor
    is widened to float32, exactly, and implies ``bf16``)."""
    implied = None
    if not isinstance(x, np.ndarray):
        if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch tensor
            t = x.detach().cpu()
            dt = str(t.dtype)
            if dt == "torch.bfloat16":
                t, implied = t.float(), "bf16"
            elif dt not in ("torch.float32", "torch.float64"):
                raise InputError(
                    f"{name}: dtype {dt}; pass float32 or float64 (bfloat16 is widened to float32 "
                    "and checked as bf16)"
                )
            x = t.numpy()
        else:
            try:
                x = np.asarray(x)
            except Exception as e:  # noqa: BLE001 - anything numpy cannot read is bad input
                raise InputError(f"{name}: not an array ({type(x).__name__}): {e}") from None
            if str(x.dtype) == "bfloat16":  # ml_dtypes (JAX)
                x, implied = x.astype(np.float32), "bf16"
    if x.dtype not in (np.float64, np.float32):
        raise InputError(
            f"{name}: dtype {x.dtype}; sslproof checks float64 or float32 numbers "
            "(cast with .astype(np.float32) or .astype(np.float64))"
        )
    if x.ndim != 2:
        hint = (
            " (one sample: x.reshape(1, -1); one feature per sample: x.reshape(-1, 1))"
            if x.ndim == 1
            else ""
        )
        raise InputError(
            f"{name}: a {x.ndim}-D array of shape {tuple(x.shape)}; expected a 2-D array, rows "
            f"are samples{hint}"
        )
    return x, implied


def _ordered(arrays: Any, names: List[str], what: str, loss: str) -> List[Any]:
    """A sequence as it is; a mapping by the loss's input names (``grad_z1`` and ``z1_grad`` are
    accepted for gradients), refusing names the loss does not take."""
    if isinstance(arrays, Mapping):
        out, left = [], dict(arrays)
        for n in names:
            for key in (n, f"grad_{n}", f"{n}_grad") if what == "gradient" else (n,):
                if key in left:
                    out.append(left.pop(key))
                    break
            else:
                raise InputError(f"no {what} named {n!r} (the {what}s {loss} takes: {', '.join(names)})")
        if left:
            raise InputError(
                f"{what}s {sorted(left)} are not {loss}'s: nothing may be left unchecked "
                f"(the names it takes: {', '.join(names)})"
            )
        return out
    if isinstance(arrays, np.ndarray) or hasattr(arrays, "shape"):
        raise InputError(
            f"the {what}s must be a list (or dict) of 2-D arrays, one per input ({', '.join(names)}), "
            f"not one array of shape {tuple(arrays.shape)}"
        )
    return list(arrays)


def _input_names(loss: str, variant: Optional[str], n: int) -> Tuple[List[str], List[str], bool]:
    v = loss_info(loss, variant)["variant"]
    names = list(v["inputs"])
    if v["variable_views"]:
        names = [f"z{k + 1}" for k in range(max(n, 2))]
        grads = names
    else:
        grads = list(v["grad_inputs"])
    return names, grads, v["variable_views"]


def _scalar(value: Any) -> Tuple[float, Optional[str]]:
    """The loss value as a float (exactly: widened, never rounded), and the precision its dtype
    implies (a float32 scalar: ``f32``; bfloat16: ``bf16``; a Python float: none)."""
    if hasattr(value, "detach") and hasattr(value, "item"):  # torch
        value = value.detach().cpu()
        if value.numel() != 1:
            raise InputError(f"the loss value must be a scalar, got a tensor of shape {tuple(value.shape)}")
        implied = {"torch.float32": "f32", "torch.bfloat16": "bf16"}.get(str(value.dtype))
        return float(value.double().item()), implied
    a = np.asarray(value)
    if a.size != 1:
        raise InputError(f"the loss value must be a scalar, got an array of shape {a.shape}")
    if str(a.dtype) == "bfloat16":
        return float(a.astype(np.float32).reshape(())), "bf16"
    if not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
        raise InputError(f"the loss value must be a real number, got dtype {a.dtype}")
    return float(a.reshape(())), ("f32" if a.dtype == np.float32 else None)


def _params(params: Mapping[str, Any]) -> List[Tuple[str, float]]:
    out = []
    for k, v in params.items():
        try:
            out.append((str(k), float(v)))
        except (TypeError, ValueError):
            raise ConfigError(f"parameter {k} = {v!r} is not a number") from None
    return out


# --- inputs, reference, evaluate ---------------------------------------------------------


def inputs(
    loss: str, b: int, d: int, *, variant: Optional[str] = None, seed: int = 0, views: Optional[int] = None
) -> List[np.ndarray]:
    """Seeded inputs of ``loss`` at ``B × d`` (float64 arrays whose entries are exact in
    float32), drawn as the golden files draw theirs: correlated, anisotropic views with small
    column means; unit rows where the loss is used on normalised features; CorInfoMax's running
    state (a mean and an SPD covariance) where the variant takes it. ``views`` sets the number of
    views where the variant takes any number (NT-Xent ``solo-learn``)."""
    if not (isinstance(b, (int, np.integer)) and isinstance(d, (int, np.integer)) and b > 0 and d > 0):
        raise InputError(f"B and d must be positive integers, got B = {b!r}, d = {d!r}")
    if not (0 <= int(seed) < 2**64):
        raise ConfigError(f"seed must be in [0, 2**64), got {seed}")
    return list(_native.inputs(loss, variant, int(b), int(d), int(seed), views))


@dataclass(frozen=True)
class Reference:
    """The reference value and gradients of a loss at some inputs."""

    value: float
    #: One float64 array per input with a gradient, in the loss's input order.
    grads: Tuple[np.ndarray, ...]
    #: The names of those inputs (``z1``, ``z2``, …).
    names: Tuple[str, ...]
    #: ``"mpfr"``: computed in MPFR at ``bits`` bits and rounded to float64 (error below one
    #: float64 rounding); ``"f64"``: the float64 implementation, where MPFR is not affordable at
    #: this size, with its own proven error bound in ``value_error`` and ``grad_errors``.
    method: str
    bits: int
    value_error: float
    grad_errors: Tuple[float, ...]
    #: The MPFR value with 30 significant digits (``None`` for the f64 reference).
    value_decimal: Optional[str]

    def grad(self, name: str) -> np.ndarray:
        """The gradient with respect to the input ``name``."""
        try:
            return self.grads[self.names.index(name)]
        except ValueError:
            raise KeyError(f"no gradient of {name!r}; the gradients are of {', '.join(self.names)}") from None


def reference(
    loss: str,
    *inputs: ArrayLike,
    variant: Optional[str] = None,
    prec_bits: int = 256,
    max_memory: int = DEFAULT_MAX_MEMORY,
    **params: float,
) -> Reference:
    """The reference value and gradients of ``loss`` at ``inputs`` (in the loss's input order; see
    :func:`losses`), in ``variant`` (default: the official code's) with ``params`` overriding its
    defaults (the official spellings work too: ``lambd``, ``la_R``, ``temperature``, …).

    MPFR at ``prec_bits`` bits where affordable, else float64 with its stated error bound, as
    ``sslproof check`` decides; :attr:`Reference.method` says which.

    >>> z = sslproof.inputs("coding-rate", 8, 4)
    >>> r = sslproof.reference("coding-rate", *z, eps=0.5)
    >>> r.method, r.names
    ('mpfr', ('z',))
    """
    names, _, _ = _input_names(loss, variant, len(inputs))
    xs = [_as_array(x, names[k] if k < len(names) else f"input {k}")[0] for k, x in enumerate(inputs)]
    r = _native.reference(loss, xs, variant, _params(params), int(prec_bits), int(max_memory))
    return Reference(
        value=r["value"],
        grads=tuple(r["grads"]),
        names=tuple(r["names"]),
        method=r["kind"],
        bits=r["bits"],
        value_error=r["value_error"],
        grad_errors=tuple(r["grad_errors"]),
        value_decimal=r["value_decimal"],
    )


def evaluate(
    loss: str,
    *inputs: ArrayLike,
    variant: Optional[str] = None,
    mistake: Optional[str] = None,
    dtype: str = "float64",
    **params: float,
) -> Tuple[float, Tuple[np.ndarray, ...]]:
    """sslproof's own float implementation of ``loss`` (``dtype`` ``"float64"`` or ``"float32"``)
    in ``variant``, or with one of the loss's common ``mistake``\\ s planted: what a correct, or a
    deliberately wrong, implementation computes in that precision. Not a reference (use
    :func:`reference`); for testing the checker and for seeing what a mistake does."""
    names, _, _ = _input_names(loss, variant, len(inputs))
    xs = [_as_array(x, names[k] if k < len(names) else f"input {k}")[0] for k, x in enumerate(inputs)]
    value, grads = _native.evaluate(loss, xs, variant, _params(params), mistake, dtype)
    return value, tuple(grads)


# --- check --------------------------------------------------------------------------------


def _nan(x: Optional[float]) -> float:
    """A float of the report's JSON, where NaN (a NaN entry of yours) travels as null."""
    return float("nan") if x is None else x


@dataclass(frozen=True)
class GradientResult:
    """The comparison of one input's gradient."""

    input: str
    max_error: float
    #: The tolerance of its entries (outside ``widened``); where ``per_entry``, the largest of
    #: the entries' own tolerances.
    tolerance: float
    #: The entry ``(row, column)`` of the largest error.
    worst: Tuple[int, int]
    #: How many entries are out of tolerance.
    disagreeing: int
    #: Columns whose tolerance is wider (VICReg's variance hinge), with that tolerance.
    widened: Tuple[Tuple[int, float], ...]
    #: Whether each entry has a tolerance of its own (the loss bounds its gradient entry by
    #: entry) rather than one for all.
    per_entry: bool = False
    #: The tolerance of the worst entry.
    worst_tolerance: float = 0.0
    #: The largest ``|error| / tolerance`` over the entries (at most 1 when all agree).
    max_ratio: float = 0.0

    @property
    def agrees(self) -> bool:
        return self.disagreeing == 0


@dataclass(frozen=True)
class Disagreement:
    """One compared component out of tolerance: ``what`` is ``"value"`` or
    ``"gradient of z1 at (3, 2)"``."""

    what: str
    yours: float
    reference: float
    tolerance: float
    #: ``None`` for the value, else the input's name and the entry.
    input: Optional[str]
    entry: Optional[Tuple[int, int]]

    @property
    def error(self) -> float:
        return abs(self.yours - self.reference)


@dataclass(frozen=True)
class Diagnosis:
    """A variant or common mistake whose numbers yours match."""

    kind: str  # "variant" or "mistake"
    id: str
    says: str
    value_matches: bool
    #: ``None`` where no gradient was given.
    grads_match: Optional[bool]

    @property
    def full(self) -> bool:
        """The value matches and the gradients match (or were not given)."""
        return self.value_matches and self.grads_match is not False


def _disagreement(c: Optional[Dict[str, Any]]) -> Optional[Disagreement]:
    if c is None:
        return None
    what = c["what"]
    inp, entry = None, None
    if what.startswith("gradient of "):
        head, _, tail = what[len("gradient of "):].partition(" at ")
        inp = head
        i, j = tail.strip("()").split(", ")
        entry = (int(i), int(j))
    return Disagreement(what, c["user"], c["reference"], c["tolerance"], inp, entry)


class Report:
    """What ``sslproof check`` concludes, as an object; ``str(report)`` is the CLI's text.

    ``agrees``: the value and every gradient given are within tolerance, and the comparison is
    trustworthy. ``trustworthy``: the precision can support a conclusion here at all (when it
    cannot, ``agrees`` is ``False`` and nothing is concluded).
    """

    def __init__(self, raw: Dict[str, Any], text: str, exit_code: int, seconds: float):
        self.raw: Dict[str, Any] = raw
        self._text = text
        #: The exit code ``sslproof check`` gives: 0 agrees, 1 disagrees, 3 not trustworthy.
        self.exit_code: int = exit_code
        #: Seconds the check took in Rust (the rest of the call is the Python layer's).
        self.seconds: float = seconds
        self.loss: str = raw["loss"]
        self.variant: str = raw["variant"]
        self.params: Dict[str, float] = dict(raw["params"])
        self.shape: Tuple[int, int] = tuple(raw["shape"])  # type: ignore[assignment]
        self.precision: str = raw["precision"]
        ref = raw["reference"]
        #: ``"mpfr-256"`` or ``"f64"``.
        self.reference_method: str = f"mpfr-{ref['Mpfr']}" if isinstance(ref, dict) else "f64"
        self.kappa: Optional[float] = raw["kappa"]
        v = raw["value"]
        self.value: float = v["user"]
        self.reference_value: float = v["reference"]
        self.value_error: float = abs(v["user"] - v["reference"])
        #: The tolerance of the value.
        self.tolerance: float = v["tolerance"]
        self.grads: Tuple[GradientResult, ...] = tuple(
            GradientResult(
                g["input"], _nan(g["max_error"]), g["tolerance"], tuple(g["worst"]), g["disagreeing"],
                tuple(tuple(w) for w in g["widened"]), g["per_entry"], g["worst_tolerance"],
                _nan(g["max_ratio"]),
            )
            for g in raw["grads"]
        )
        #: Whether gradients were compared (``False``: the value only; the gradients were *not
        #: checked*).
        self.grads_checked: bool = bool(self.grads)
        self.first_disagreement: Optional[Disagreement] = _disagreement(raw["first_disagreement"])
        #: Why the precision cannot support a conclusion here, if it cannot.
        self.untrustworthy_reason: Optional[str] = raw["untrustworthy"]
        self.hinge_columns: Tuple[int, ...] = tuple(raw["hinge_columns"])
        self.diagnoses: Tuple[Diagnosis, ...] = tuple(
            Diagnosis(d["kind"], d["id"], d["says"], d["value_matches"], d["grads_match"])
            for d in raw["diagnosis"]
        )
        self.hint: Optional[str] = raw["hint"]
        #: How the gradients' tolerance was obtained: ``{"kind": "bound", "why": ...}`` or
        #: ``{"kind": "estimate", "runs", "factor", "floor", "ratios", "scales", "line_scales", ...}``
        #: (per input with a gradient: the largest error / bound of our runs, the factor applied,
        #: and in TF32/bf16 the smallest and largest factor of the bound over its entries, each
        #: entry's tolerance following what our runs erred in its row and column; ``None`` where
        #: one factor applies to every entry).
        self.tolerance_source: Dict[str, Any] = raw["tolerance_source"]
        self.outcome: str = {"Agrees": "agrees", "Disagrees": "disagrees", "Untrustworthy": "untrustworthy"}[
            raw["outcome"]
        ]

    @property
    def agrees(self) -> bool:
        return self.outcome == "agrees"

    @property
    def trustworthy(self) -> bool:
        return self.outcome != "untrustworthy"

    @property
    def diagnosis(self) -> List[str]:
        """The names of the variants and mistakes your numbers match fully (value, and gradients
        where given), best first; partial matches are in :attr:`diagnoses`."""
        return [d.id for d in self.diagnoses if d.full]

    def grad(self, name: str) -> GradientResult:
        for g in self.grads:
            if g.input == name:
                return g
        raise KeyError(f"no gradient of {name!r} was checked")

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        grads = "gradients checked" if self.grads_checked else "gradients NOT checked"
        diag = f", diagnosis {self.diagnosis}" if self.diagnosis else ""
        return (
            f"<sslproof.Report {self.loss} ({self.variant}) B={self.shape[0]} d={self.shape[1]} "
            f"{self.precision}: {self.outcome}, {grads}{diag}>"
        )


def check(
    loss: str,
    inputs: Inputs,
    value: Any,
    grads: Optional[Inputs] = None,
    precision: Optional[str] = None,
    variant: Optional[str] = None,
    *,
    prec_bits: int = 256,
    max_memory: int = DEFAULT_MAX_MEMORY,
    tolerance: str = "estimate",
    **params: float,
) -> Report:
    """Check your loss ``value`` (and ``grads``, one per input with a gradient) at ``inputs``
    against the reference, within the tolerance derived for ``precision`` (default: ``"f32"`` if
    any array, or the value, is float32, else ``"f64"``; bfloat16 implies ``"bf16"``).

    ``inputs`` and ``grads`` are lists in the loss's input order or dicts by name (``z1``,
    ``grad_z1`` or ``z1_grad``). Arrays may be numpy, torch or JAX. Gradients not given are
    reported as not checked, never as agreeing.

    ``tolerance``: ``"estimate"`` (default) scales the a-priori bound of the gradients to the error
    our implementation makes at these inputs in your precision (float32; TF32 and bfloat16 with
    the matrix products emulated, for the losses that have them; float64 uses the bound) under 4
    to 16 summation orders, times a calibrated factor (``report.tolerance_source`` says what was
    measured and applied, and ``report.trustworthy`` is judged on it); ``"bound"`` keeps the
    a-priori bound alone.

    Bad input raises :class:`InputError` or :class:`ConfigError` naming what to fix.

    >>> r = sslproof.check("vicreg", [z1, z2], 24.93, [g1, g2], precision="f32")
    >>> r.agrees, r.first_disagreement, r.diagnosis
    """
    if precision is not None and precision not in PRECISIONS:
        raise ConfigError(f"unknown precision {precision!r}; known: {', '.join(PRECISIONS)}")
    if not isinstance(inputs, Mapping) and (isinstance(inputs, np.ndarray) or hasattr(inputs, "shape")):
        raise InputError(
            f"the inputs must be a list (or dict) of 2-D arrays, one per input of {loss}, not one "
            f"array of shape {tuple(inputs.shape)}"
        )
    names, gnames, _ = _input_names(loss, variant, len(inputs))
    xs_raw = _ordered(inputs, names, "input", loss)
    implied = set()
    xs = []
    for k, x in enumerate(xs_raw):
        a, imp = _as_array(x, names[k] if k < len(names) else f"input {k}")
        xs.append(a)
        implied.add(imp)
    gs = None
    if grads is not None:
        graw = _ordered(grads, gnames, "gradient", loss)
        gs = []
        for k, g in enumerate(graw):
            a, imp = _as_array(g, f"gradient of {gnames[k] if k < len(gnames) else f'input {k}'}")
            gs.append(a)
            implied.add(imp)
    v, imp = _scalar(value)
    implied.add(imp)
    if precision is None and "bf16" in implied:
        precision = "bf16"
    elif precision is None and "f32" in implied:
        precision = "f32"
    if not math.isfinite(v):
        raise InputError(f"the loss value is {v}; a finite value is needed to compare")
    raw, text, code, secs = _native.check(
        loss, xs, v, gs, precision, variant, _params(params), int(prec_bits), int(max_memory),
        tolerance,
    )
    return Report(json.loads(raw), text, code, secs)


def __getattr__(name: str) -> Any:
    # `sslproof.testing` is imported on first use (it imports nothing heavy, but keeps the
    # top-level namespace to the checker).
    if name == "testing":
        import importlib

        return importlib.import_module(".testing", __name__)
    raise AttributeError(f"module 'sslproof' has no attribute {name!r}")
