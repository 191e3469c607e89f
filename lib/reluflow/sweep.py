"""Parameter sweeps: run one experiment over a grid, in parallel, into a tidy table (book
chapter 4, "Four phases on separable data", the maps over the angle and the class weight)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from tqdm.auto import tqdm

__all__ = ["grid_points", "run", "to_columns"]


def grid_points(grid: Mapping[str, Sequence] | Sequence[Mapping[str, Any]]) -> list[dict]:
    """The points of ``grid`` as a list of keyword dicts, in a fixed order.

    A dict of sequences gives its Cartesian product, the last key varying fastest (as in
    ``itertools.product``); a sequence of dicts is used as given.

    Raises
    ------
    TypeError
        If ``grid`` is neither, or a dict value is not a list, tuple, range or 1-D array.

    Examples
    --------
    >>> import reluflow as rf
    >>> rf.sweep.grid_points({"p": [0.5, 0.75], "delta": [1.0]})
    [{'p': 0.5, 'delta': 1.0}, {'p': 0.75, 'delta': 1.0}]
    """
    if isinstance(grid, Mapping):
        for key, values in grid.items():
            if not isinstance(key, str):
                raise TypeError(f"`grid` keys must be parameter names (str); got {key!r}")
            if not isinstance(values, (list, tuple, range, np.ndarray)) or np.ndim(values) != 1:
                raise TypeError(
                    f"`grid[{key!r}]` must be a list, tuple, range or 1-D array of values; got "
                    f"{type(values).__name__} (wrap a single value in a list: [{values!r}])"
                )
        keys = list(grid)
        return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*grid.values())]
    if isinstance(grid, Sequence) and not isinstance(grid, str):
        points = list(grid)
        for k, point in enumerate(points):
            if not isinstance(point, Mapping):
                raise TypeError(
                    f"`grid[{k}]` must be a dict of keyword arguments; got {type(point).__name__}"
                )
        return [dict(point) for point in points]
    raise TypeError(f"`grid` must be a dict of lists or a list of dicts; got {type(grid).__name__}")


def _call(fn: Callable, point: dict, index: int, total: int) -> Any:
    """fn(**point), with the failing point named on any exception (PEP 678 note)."""
    try:
        return fn(**point)
    except Exception as exc:
        exc.add_note(f"rf.sweep.run: raised by fn(**{point!r}) at grid point {index} of {total}")
        raise


def _row(point: dict, result: Any) -> dict:
    if not isinstance(result, Mapping):
        return {**point, "value": result}
    clash = sorted(set(point) & set(result))
    if clash:
        raise ValueError(
            f"fn returned keys {clash} that are also grid parameters (at {point!r}); rename them "
            "in fn's result (the parameters are echoed in every row already)"
        )
    return {**point, **result}


def run(
    fn: Callable[..., Any],
    grid: Mapping[str, Sequence] | Sequence[Mapping[str, Any]],
    n_jobs: int = -1,
    progress: bool = True,
) -> list[dict]:
    """Run ``fn(**point)`` for every point of ``grid`` and collect a tidy table.

    Parameters
    ----------
    fn : callable
        Takes the grid parameters as keyword arguments and returns a dict of results (or
        any value, stored under ``"value"``). It must be picklable by cloudpickle (lambdas
        and closures are) and take its randomness from an explicit ``seed`` parameter.
    grid : dict of sequences, or sequence of dicts
        See :func:`grid_points`: a dict gives the Cartesian product (last key fastest).
    n_jobs : int
        Number of joblib workers; -1 uses all cores. ``n_jobs=1`` runs serially in this
        process (joblib is then not needed).
    progress : bool
        Show a ``tqdm.auto`` progress bar (one tick per finished point).

    Returns
    -------
    list of dict
        One row per grid point, in grid order whatever ``n_jobs``: the parameters followed
        by fn's result keys. :func:`to_columns` turns it into a dict of numpy arrays;
        ``pandas.DataFrame(rows)`` works too if pandas is installed (it is not required).

    Raises
    ------
    Exception
        The first exception raised by ``fn``, re-raised with a note (``__notes__``) naming
        the failing parameters; ``TypeError`` for a malformed grid; ``ValueError`` if fn's
        result keys clash with the parameter names.

    Notes
    -----
    The points run through ``joblib.Parallel`` (default backend: loky processes). Any joblib
    backend works through ``joblib.parallel_config``, e.g. a Dask cluster for scale-out::

        from dask.distributed import Client
        client = Client(...)                      # registers the "dask" backend
        with joblib.parallel_config(backend="dask"):
            rows = rf.sweep.run(experiment, grid)

    Used in the book, chapter 4, for the maps over :math:`(\\Delta, p)`.

    Examples
    --------
    >>> import reluflow as rf
    >>> rf.sweep.run(lambda a, b: {"sum": a + b}, {"a": [1, 2], "b": [10]}, n_jobs=1, progress=False)
    [{'a': 1, 'b': 10, 'sum': 11}, {'a': 2, 'b': 10, 'sum': 12}]
    """
    if not callable(fn):
        raise TypeError(f"`fn` must be callable; got {type(fn).__name__}")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0:
        raise ValueError(f"`n_jobs` must be a nonzero integer (-1: all cores); got {n_jobs!r}")
    points = grid_points(grid)
    total = len(points)
    if n_jobs == 1:
        results = (_call(fn, point, k, total) for k, point in enumerate(points))
    else:
        from joblib import Parallel, delayed  # imported here: only parallel sweeps need joblib

        results = Parallel(n_jobs=int(n_jobs), return_as="generator")(
            delayed(_call)(fn, point, k, total) for k, point in enumerate(points)
        )
    bar = tqdm(results, total=total, disable=not progress, desc="sweep", unit="point")
    return [_row(point, result) for point, result in zip(points, bar, strict=True)]


def to_columns(rows: Sequence[Mapping[str, Any]]) -> dict[str, np.ndarray]:
    """A tidy table (list of dicts with the same keys) as a dict of numpy arrays.

    Scalars give 1-D arrays; equal-shape arrays stack (shape ``(len(rows), ...)``); anything
    ragged becomes an object array.

    Raises
    ------
    ValueError
        If the rows do not all have the same keys.

    Examples
    --------
    >>> import reluflow as rf
    >>> rf.sweep.to_columns([{"p": 0.5, "ok": True}, {"p": 0.75, "ok": False}])
    {'p': array([0.5 , 0.75]), 'ok': array([ True, False])}
    """
    rows = list(rows)
    if not rows:
        return {}
    keys = list(rows[0])
    for k, row in enumerate(rows):
        if set(row) != set(keys):
            raise ValueError(f"row {k} has keys {sorted(row)}; row 0 has {sorted(keys)}")
    out = {}
    for key in keys:
        values = [row[key] for row in rows]
        try:
            out[key] = np.asarray(values)
        except ValueError:  # ragged
            out[key] = np.empty(len(values), dtype=object)
            out[key][:] = values
    return out
