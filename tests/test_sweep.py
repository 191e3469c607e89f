"""Tests of rf.sweep.run: agreement with a serial loop, order, echoed parameters, errors."""

from __future__ import annotations

import numpy as np
import pytest

import reluflow as rf
from reluflow.phases import predicted_times
from reluflow.sweep import grid_points, run, to_columns


def _experiment(p, delta, seed=0):
    """A small real experiment: the predicted times and a noisy draw (seeded)."""
    pt = predicted_times(rf.datasets.two_point(delta, p), "exponential", 1e-6)
    return {"t1": pt.t1, "level": pt.plateau_level, "draw": float(np.random.default_rng(seed).normal())}


GRID = {"p": [0.5, 0.75, 0.9], "delta": [1.0, 2.5], "seed": [3]}


def _serial(fn, grid):
    return [{**point, **fn(**point)} for point in grid_points(grid)]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_matches_serial_loop(n_jobs):
    rows = run(_experiment, GRID, n_jobs=n_jobs, progress=False)
    assert rows == _serial(_experiment, GRID)


def test_order_and_echoed_parameters():
    rows = run(_experiment, GRID, n_jobs=2, progress=False)
    assert [(r["p"], r["delta"]) for r in rows] == [(p, d) for p in GRID["p"] for d in GRID["delta"]]
    assert all(r["seed"] == 3 for r in rows)
    assert list(rows[0]) == ["p", "delta", "seed", "t1", "level", "draw"]


def test_list_of_points_and_plain_values():
    points = [{"x": 3}, {"x": 1}, {"x": 2}]
    rows = run(lambda x: x * x, points, n_jobs=2, progress=False)
    assert rows == [{"x": 3, "value": 9}, {"x": 1, "value": 1}, {"x": 2, "value": 4}]


def test_progress_bar_runs(capsys):
    rows = run(lambda x: {"y": -x}, {"x": range(4)}, n_jobs=1, progress=True)
    assert [r["y"] for r in rows] == [0, -1, -2, -3]
    assert "sweep" in capsys.readouterr().err


def _fails_at_two(x, y):
    if x == 2:
        raise ZeroDivisionError("bad point")
    return {"z": x + y}


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_exception_names_the_point(n_jobs):
    with pytest.raises(ZeroDivisionError, match="bad point") as info:
        run(_fails_at_two, {"x": [1, 2, 3], "y": [5]}, n_jobs=n_jobs, progress=False)
    assert any("{'x': 2, 'y': 5}" in note for note in info.value.__notes__)


def test_bad_arguments():
    with pytest.raises(TypeError, match=r"grid\['x'\]"):
        run(lambda x: x, {"x": 1.0}, progress=False)
    with pytest.raises(TypeError, match="grid"):
        run(lambda x: x, "x", progress=False)
    with pytest.raises(TypeError, match="fn"):
        run(None, {"x": [1]}, progress=False)
    with pytest.raises(ValueError, match="n_jobs"):
        run(lambda x: x, {"x": [1]}, n_jobs=0, progress=False)
    with pytest.raises(ValueError, match="rename"):
        run(lambda x: {"x": x}, {"x": [1]}, n_jobs=1, progress=False)


def test_to_columns():
    rows = run(
        lambda a: {"v": np.array([a, 2 * a]), "s": f"{a}"}, {"a": [1.0, 2.0]}, n_jobs=1, progress=False
    )
    cols = to_columns(rows)
    np.testing.assert_array_equal(cols["a"], [1.0, 2.0])
    assert cols["v"].shape == (2, 2) and cols["s"].tolist() == ["1.0", "2.0"]
    ragged = to_columns([{"v": [1]}, {"v": [1, 2]}])
    assert ragged["v"].dtype == object
    assert to_columns([]) == {}
    with pytest.raises(ValueError, match="keys"):
        to_columns([{"a": 1}, {"b": 2}])


def _lazy_rich_point(m, scale, seed):
    """A real chapter-6 point, short; the wall time is left out (it differs between runs)."""
    row = rf.margins.lazy_rich_parity(4, m, scale, seed, t_end=50.0, n_train=10)
    row.pop("seconds")
    return {k: None if isinstance(v, float) and np.isnan(v) else v for k, v in row.items()}  # nan != nan


def test_dask_backend_gives_the_same_rows():
    """rf.sweep.run on a Dask cluster through joblib.parallel_config(backend="dask") (chapter 6,
    bench/lazy_rich.py): the same rows, in the same order, as joblib's default backend."""
    import joblib
    from dask.distributed import Client, LocalCluster

    grid = {"m": [4, 8], "scale": [1e-2, 2.0], "seed": [0]}
    default = run(_lazy_rich_point, grid, n_jobs=2, progress=False)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster), joblib.parallel_config(backend="dask"):  # fmt: skip
        on_dask = run(_lazy_rich_point, grid, progress=False)
    assert on_dask == default == _serial(_lazy_rich_point, grid)
