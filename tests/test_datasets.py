"""Tests for reluflow.datasets: orthogonality, two-point geometry, LP separability certificates."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import linprog

import reluflow as rf

positive = st.floats(0.05, 20.0, allow_nan=False, allow_infinity=False)


# ---------------------------------------------------------------- orthogonal


@st.composite
def orthogonal_args(draw):
    n = draw(st.integers(1, 6))
    d = draw(st.integers(n, n + 3))
    y = draw(st.lists(st.floats(-5, 5, allow_nan=False), min_size=n, max_size=n))
    norms = draw(st.lists(positive, min_size=n, max_size=n))
    seed = draw(st.one_of(st.none(), st.integers(0, 2**31)))
    return y, d, norms, seed


@settings(max_examples=40, deadline=None)
@given(orthogonal_args())
def test_orthogonal_gram_is_diagonal_with_requested_norms(args):
    y, d, norms, seed = args
    data = rf.datasets.orthogonal(y, d=d, norms=norms, seed=seed)
    assert data.X.shape == (len(y), d)
    # Gram matrix certificate: pairwise orthogonal rows with |x_k| = r_k
    assert_allclose(data.X @ data.X.T, np.diag(np.square(norms)), atol=1e-12 * max(norms) ** 2)
    assert_array_equal(data.y, y)
    assert_allclose(data.weights, np.full(len(y), 1 / len(y)))


@pytest.mark.parametrize("d", [3, 5])
def test_orthogonal_without_seed_uses_standard_basis(d):
    norms = [2.0, 0.5, 3.0]
    data = rf.datasets.orthogonal([1.0, -1.0, 0.5], d=d, norms=norms)
    expected = np.zeros((3, d))
    expected[np.arange(3), np.arange(3)] = norms
    assert_array_equal(data.X, expected)


def test_orthogonal_default_norms_are_one():
    data = rf.datasets.orthogonal([1.0, -1.0, 2.0], d=4, seed=3)
    assert_allclose(np.linalg.norm(data.X, axis=1), 1.0, rtol=1e-14)


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_orthogonal_with_seed_is_rotated_and_reproducible(seed):
    kw = {"d": 4, "norms": [1.0, 2.0, 3.0], "seed": seed}
    data = rf.datasets.orthogonal([1.0, -1.0, 0.5], **kw)
    again = rf.datasets.orthogonal([1.0, -1.0, 0.5], **kw)
    assert_array_equal(data.X, again.X)
    # a random rotation leaves (almost surely) no row on a coordinate axis
    assert np.all(np.count_nonzero(np.abs(data.X) > 1e-8, axis=1) > 1)
    other = rf.datasets.orthogonal([1.0, -1.0, 0.5], d=4, norms=[1.0, 2.0, 3.0], seed=seed + 100)
    assert not np.allclose(data.X, other.X)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"d": 2}, "`d`"),  # d < n = 3
        ({"d": 0}, "`d`"),
        ({"norms": [1.0, 0.0, 1.0]}, "`norms`"),
        ({"norms": [1.0, -2.0, 1.0]}, "`norms`"),
        ({"norms": [1.0, 1.0]}, "`norms`"),
        ({"norms": [1.0, np.nan, 1.0]}, "`norms`"),
    ],
)
def test_orthogonal_rejects_bad_arguments_by_name(kwargs, name):
    with pytest.raises(ValueError, match=name):
        rf.datasets.orthogonal([1.0, -1.0, 0.5], **kwargs)


# ---------------------------------------------------------------- two_point

angles = st.floats(1e-3, np.pi - 1e-3)
probs = st.floats(1e-3, 1 - 1e-3)


@settings(max_examples=40, deadline=None)
@given(angles, probs)
def test_two_point_geometry(delta, p):
    data = rf.datasets.two_point(delta, p)
    assert data.X.shape == (2, 2)
    assert_allclose(np.linalg.norm(data.X, axis=1), 1.0, rtol=1e-14)
    assert_allclose(data.X[0], [1.0, 0.0])  # x_+ on the first axis
    # angle between the inputs, via atan2 (well conditioned also near 0 and pi)
    cross = data.X[0, 0] * data.X[1, 1] - data.X[0, 1] * data.X[1, 0]
    assert_allclose(np.arctan2(cross, data.X[0] @ data.X[1]), delta, rtol=1e-12)
    assert_array_equal(data.y, [1.0, -1.0])
    assert_allclose(data.weights, [p, 1 - p], rtol=1e-15)
    assert_allclose(data.weights.sum(), 1.0)


@pytest.mark.parametrize(
    "delta, p, name",
    [
        (0.0, 0.5, "delta"),
        (-1.0, 0.5, "delta"),
        (np.pi, 0.5, "delta"),
        (4.0, 0.5, "delta"),
        (np.nan, 0.5, "delta"),
        (1.0, 0.0, "p"),
        (1.0, 1.0, "p"),
        (1.0, 1.5, "p"),
        (1.0, -0.2, "p"),
    ],
)
def test_two_point_rejects_bad_delta_and_p(delta, p, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        rf.datasets.two_point(delta, p)


# ---------------------------------------------------------------- separable


def max_margin_lp(X, y):
    """Largest t with y_i <w, x_i> >= t for some w in the box [-1, 1]^d (t <= 1).

    A positive optimum certifies a separating hyperplane through the origin. The hidden
    unit vector u of the generator is feasible (|u|_inf <= |u|_2 = 1), so the optimum is
    at least the requested margin.
    """
    n, d = X.shape
    c = np.zeros(d + 1)
    c[-1] = -1.0  # maximise t
    A_ub = np.hstack([-y[:, None] * X, np.ones((n, 1))])  # t - y_i <w, x_i> <= 0
    bounds = [(-1.0, 1.0)] * d + [(None, 1.0)]
    res = linprog(c, A_ub=A_ub, b_ub=np.zeros(n), bounds=bounds, method="highs")
    assert res.status == 0, res.message
    return res.x[:d], res.x[-1]


@st.composite
def separable_args(draw):
    d = draw(st.integers(1, 4))
    n = draw(st.integers(1, 40))
    frac = draw(st.floats(0.0, 0.9))
    seed = draw(st.integers(0, 2**31))
    return n, d, frac / np.sqrt(d), seed


@settings(max_examples=40, deadline=None)
@given(separable_args())
def test_separable_is_certified_by_lp(args):
    n, d, margin, seed = args
    data = rf.datasets.separable(n, d, margin, seed=seed)
    assert data.X.shape == (n, d)
    assert np.all(np.abs(data.X) <= 1.0)  # drawn from the cube [-1, 1]^d
    assert set(np.unique(data.y)) <= {-1.0, 1.0}
    w, t = max_margin_lp(data.X, data.y)
    assert t > 0
    assert t >= margin * (1 - 1e-9) - 1e-12
    # check the certificate independently of the LP solver's report
    assert np.all(data.y * (data.X @ w) >= t - 1e-9)


@pytest.mark.parametrize("seed", [0, 3])
def test_separable_positive_margin_realised(seed):
    n, d, margin = 50, 3, 0.2
    data = rf.datasets.separable(n, d, margin, seed=seed)
    w, _t = max_margin_lp(data.X, data.y)
    # geometric margin of the LP separator is at least t / |w|_2 >= margin / sqrt(d)
    assert np.min(data.y * (data.X @ w)) / np.linalg.norm(w) >= margin / np.sqrt(d) - 1e-9
    assert {-1.0, 1.0} == set(data.y)  # 50 points: both classes present


def test_separable_same_seed_same_data():
    a = rf.datasets.separable(30, 3, 0.1, seed=5)
    b = rf.datasets.separable(30, 3, 0.1, seed=5)
    c = rf.datasets.separable(30, 3, 0.1, seed=6)
    assert_array_equal(a.X, b.X)
    assert_array_equal(a.y, b.y)
    assert not np.allclose(a.X, c.X)


@pytest.mark.parametrize("d, margin", [(1, 1.0), (4, 0.5), (4, 0.7), (9, 1 / 3)])
def test_separable_rejects_too_large_margin(d, margin):
    with pytest.raises(ValueError, match="`margin`"):
        rf.datasets.separable(10, d, margin)


@pytest.mark.parametrize(
    "n, d, margin, name",
    [(0, 2, 0.1, "`n`"), (5, 0, 0.1, "`d`"), (5, 2, -0.1, "`margin`"), (2.5, 2, 0.1, "`n`")],
)
def test_separable_rejects_bad_arguments_by_name(n, d, margin, name):
    with pytest.raises(ValueError, match=name):
        rf.datasets.separable(n, d, margin)
