"""Tests for reluflow.data: Dataset validation and with_bias."""

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
