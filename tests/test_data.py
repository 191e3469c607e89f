"""Tests for reluflow.data: Dataset validation, with_bias, and the weighted correlation (Correlation)."""

from dataclasses import FrozenInstanceError

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import reluflow as rf


@pytest.mark.parametrize("n", [1, 3, 7])
def test_default_weights_are_uniform_and_sum_to_one(n):
    X = np.random.default_rng(n).standard_normal((n, 2))
    data = rf.Dataset(X, np.ones(n))
    assert_allclose(data.weights, np.full(n, 1.0 / n))
    assert_allclose(data.weights.sum(), 1.0)
    assert (data.n, data.d) == (n, 2)


def test_explicit_weights_kept_as_float():
    data = rf.Dataset([[1, 0], [0, 1]], [1, -1], weights=[2, 3])
    assert data.X.dtype == data.y.dtype == data.weights.dtype == np.float64
    assert_array_equal(data.weights, [2.0, 3.0])


_GOOD_X = [[1.0, 0.0], [0.0, 1.0]]
_GOOD_Y = [1.0, -1.0]


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"X": [1.0, 2.0], "y": _GOOD_Y}, "X"),  # 1-D X
        ({"X": np.zeros((2, 2, 1)), "y": _GOOD_Y}, "X"),  # 3-D X
        ({"X": [[np.nan, 0.0], [0.0, 1.0]], "y": _GOOD_Y}, "X"),
        ({"X": [[np.inf, 0.0], [0.0, 1.0]], "y": _GOOD_Y}, "X"),
        ({"X": _GOOD_X, "y": [np.nan, 1.0]}, "y"),
        ({"X": _GOOD_X, "y": [-np.inf, 1.0]}, "y"),
        ({"X": _GOOD_X, "y": [1.0, -1.0, 1.0]}, "y"),  # length mismatch
        ({"X": _GOOD_X, "y": [[1.0, -1.0]]}, "y"),  # 2-D y
        ({"X": _GOOD_X, "y": _GOOD_Y, "weights": [-0.5, 1.0]}, "weights"),
        ({"X": _GOOD_X, "y": _GOOD_Y, "weights": [0.0, 0.0]}, "weights"),
        ({"X": _GOOD_X, "y": _GOOD_Y, "weights": [1.0]}, "weights"),
        ({"X": _GOOD_X, "y": _GOOD_Y, "weights": [1.0, 1.0, 1.0]}, "weights"),
        ({"X": _GOOD_X, "y": _GOOD_Y, "weights": [np.nan, 1.0]}, "weights"),
        ({"X": np.zeros((0, 2)), "y": np.zeros(0)}, "X"),  # empty
        ({"X": "abc", "y": _GOOD_Y}, "X"),  # not numeric
    ],
)
def test_invalid_input_raises_value_error_naming_argument(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        rf.Dataset(**kwargs)


def test_zero_weight_on_some_points_is_allowed():
    data = rf.Dataset(_GOOD_X, _GOOD_Y, weights=[0.0, 1.0])
    assert_array_equal(data.weights, [0.0, 1.0])


def test_arrays_are_read_only_and_frozen():
    data = rf.Dataset(_GOOD_X, _GOOD_Y, weights=[1.0, 2.0])
    for arr in (data.X, data.y, data.weights):
        assert not arr.flags.writeable
        with pytest.raises(ValueError):
            arr[0] = 0.0
    with pytest.raises(AttributeError):
        data.X = np.zeros((2, 2))  # type: ignore[misc]


def test_dataset_does_not_freeze_callers_arrays():
    X = np.array(_GOOD_X)
    y = np.array(_GOOD_Y)
    w = np.array([1.0, 2.0])
    rf.Dataset(X, y, weights=w)
    assert X.flags.writeable and y.flags.writeable and w.flags.writeable


def test_with_bias_shape_and_values():
    X = np.random.default_rng(0).standard_normal((5, 3))
    Xb = rf.with_bias(X)
    assert Xb.shape == (5, 4)
    assert_array_equal(Xb[:, :3], X)
    assert_array_equal(Xb[:, 3], np.ones(5))


def test_with_bias_reads_1d_input_as_scalar_points():
    Xb = rf.with_bias([0.5, -1.0, 2.0])
    assert Xb.shape == (3, 2)
    assert_array_equal(Xb, [[0.5, 1.0], [-1.0, 1.0], [2.0, 1.0]])


def test_with_bias_keeps_two_homogeneity_with_bias():
    """a relu(w x + b) equals the network on (x, 1) with weights (w, b)."""
    x = np.linspace(-2, 2, 9)
    a, w, b = 1.5, -0.7, 0.3
    net = rf.Network([a], [[w, b]])
    assert_allclose(net(rf.with_bias(x)), a * np.maximum(w * x + b, 0.0))


@pytest.mark.parametrize("X", [np.zeros((2, 2, 2)), [[np.nan, 1.0]]])
def test_with_bias_rejects_bad_input(X):
    with pytest.raises(ValueError, match="`X`"):
        rf.with_bias(X)


# ---------------------------------------------------------------- Correlation (data.weighted)


def test_weighted_is_the_correlation_of_the_points():
    rng = np.random.default_rng(0)
    data = rf.Dataset(rng.standard_normal((5, 3)), rng.standard_normal(5), weights=rng.uniform(0.1, 1.0, 5))
    rho, V = rng.standard_normal(5), rng.standard_normal((4, 3))
    G = data.weighted(rho)
    assert isinstance(G, rf.Correlation) and G.data is data
    assert_allclose(G(V), [sum(r * max(v @ x, 0.0) for x, r in zip(data.X, rho, strict=True)) for v in V])
    assert_allclose(G(2.5 * V), 2.5 * G(V))  # positively one-homogeneous
    assert isinstance(G(V[0]), float)
    # the labels and the loss weights of the data do not enter G
    assert_allclose(rf.Dataset(data.X, np.zeros(5)).weighted(rho)(V), G(V))


def test_correlation_is_frozen_and_copies_rho():
    rho = np.array([1.0, -1.0])
    G = rf.Dataset(np.eye(2), [1.0, -1.0]).weighted(rho)
    rho[0] = 5.0
    assert G.rho[0] == 1.0 and not G.rho.flags.writeable
    with pytest.raises(FrozenInstanceError):
        G.rho = np.zeros(2)


@pytest.mark.parametrize(
    "rho, V, exc, match",
    [([1.0], np.eye(2), ValueError, "one weight per point"), ([np.nan, 1.0], np.eye(2), ValueError, "`rho`"),
     ([1.0, 1.0], np.ones((2, 3)), ValueError, "`V` must have shape"), ([1.0, 1.0], np.ones((2, 2, 2)), ValueError, "`V`")],
)  # fmt: skip
def test_correlation_rejects_bad_input(rho, V, exc, match):
    with pytest.raises(exc, match=match):
        rf.Dataset(np.eye(2), [1.0, -1.0]).weighted(rho)(V)
