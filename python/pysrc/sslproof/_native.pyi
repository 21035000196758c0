"""Type stub of the Rust extension (PyO3). Use the typed wrappers of ``sslproof`` instead."""

from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import numpy.typing as npt

__version__: str

def losses_json() -> str: ...
def reference(
    loss: str,
    inputs: List[npt.NDArray[Any]],
    variant: Optional[str],
    params: List[Tuple[str, float]],
    prec_bits: int,
    max_memory: int,
) -> Dict[str, Any]: ...
def check(
    loss: str,
    inputs: List[npt.NDArray[Any]],
    value: float,
    grads: Optional[List[npt.NDArray[Any]]],
    precision: Optional[str],
    variant: Optional[str],
    params: List[Tuple[str, float]],
    prec_bits: int,
    max_memory: int,
    tolerance: str,
) -> Tuple[str, str, int, float]: ...
def inputs(
    loss: str, variant: Optional[str], b: int, d: int, seed: int, views: Optional[int]
) -> List[npt.NDArray[np.float64]]: ...
def evaluate(
    loss: str,
    inputs: List[npt.NDArray[Any]],
    variant: Optional[str],
    params: List[Tuple[str, float]],
    mistake: Optional[str],
    dtype: str,
) -> Tuple[float, List[npt.NDArray[Any]]]: ...
