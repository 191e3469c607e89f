"""Shared input validation for the public entry points (private)."""

from __future__ import annotations

import numpy as np


def as_finite_array(value, name: str, ndim: int | None = None) -> np.ndarray:
    """Return ``value`` as a float64 array, checking dimension and finiteness.

    Raises
    ------
    ValueError
        If the array has the wrong number of dimensions or holds NaN/inf.
    """
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"`{name}` must be numeric; got {type(value).__name__}") from exc
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"`{name}` must be {ndim}-D; got an array of shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"`{name}` must be finite; it holds {bad} NaN/inf value(s)")
    return arr


def positive_scalar(value, name: str, *, allow_zero: bool = False) -> float:
    """Check that ``value`` is a finite real number > 0 (or >= 0)."""
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"`{name}` must be a real number; got {value!r}") from exc
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        rule = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"`{name}` must be finite and {rule}; got {value!r}")
    return v


def positive_int(value, name: str) -> int:
    """Check that ``value`` is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"`{name}` must be an integer >= 1; got {value!r}")
    return int(value)


def check_matching_dim(X: np.ndarray, d: int, what: str = "network") -> None:
    """Check that the data dimension matches the network input dimension."""
    if X.shape[1] != d:
        raise ValueError(
            f"input dimension mismatch: data has d={X.shape[1]} columns but the {what} "
            f"expects d={d} (did you forget `rf.with_bias`?)"
        )


def set_frozen_arrays(obj, **arrays: np.ndarray) -> None:
    """Store read-only copies of ``arrays`` on the frozen dataclass ``obj`` (never freeze or
    share the caller's arrays)."""
    for name, arr in arrays.items():
        arr = np.array(arr, dtype=float, copy=True)
        arr.setflags(write=False)
        object.__setattr__(obj, name, arr)


def pm_one_labels(y, n: int) -> np.ndarray:
    """Check that ``y`` holds n labels, each +1 or -1."""
    y = as_finite_array(y, "y", ndim=1)
    if y.shape[0] != n:
        raise ValueError(f"`y` must have one label per row of X ({n}); got {y.shape[0]}")
    if not np.all(np.abs(y) == 1):
        raise ValueError(f"`y` must hold labels +1/-1 only; got values {np.unique(y)[:5]}")
    return y
