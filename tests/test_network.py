"""Tests for reluflow.network: Network and small_init."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import reluflow as rf


def random_net(seed, m=4, d=3):
    rng = np.random.default_rng(seed)
    return rf.Network(rng.standard_normal(m), rng.standard_normal((m, d)))


# ---------------------------------------------------------------- Network


@pytest.mark.parametrize("seed", range(3))
def test_output_equals_explicit_sum(seed):
    rng = np.random.default_rng(seed)
    m, d, n = 5, 3, 7
    net = rf.Network(rng.standard_normal(m), rng.standard_normal((m, d)))
    X = rng.standard_normal((n, d))
    expected = [sum(net.a[j] * max(float(np.dot(net.W[j], X[i])), 0.0) for j in range(m)) for i in range(n)]
    out = net(X)
    assert out.shape == (n,)
    assert_allclose(out, expected, rtol=1e-12, atol=1e-14)
    assert_allclose(net.preactivations(X), net.W @ X.T)
    assert (net.m, net.d) == (m, d)


def test_docstring_example_value():
    net = rf.Network([1.0, -1.0], [[1.0, 0.0], [0.0, 1.0]])
    # relu(2) - relu(1) = 1 and relu(-1) - relu(3) = -3
    assert_array_equal(net(np.array([[2.0, 1.0], [-1.0, 3.0]])), [1.0, -3.0])


@pytest.mark.parametrize(
    ("a", "W", "name"),
    [
        ([1.0, 2.0], [[1.0, 0.0]], "`a`"),  # m mismatch
        ([[1.0]], [[1.0, 0.0]], "`a`"),  # 2-D a
        ([1.0], [1.0, 0.0], "`W`"),  # 1-D W
        ([np.nan], [[1.0, 0.0]], "`a`"),
        ([1.0], [[np.inf, 0.0]], "`W`"),
        (np.zeros(0), np.zeros((0, 2)), "m >= 1"),
    ],
)
def test_invalid_parameters_raise(a, W, name):
    with pytest.raises(ValueError, match=name):
        rf.Network(a, W)


def test_call_rejects_wrong_dimension_and_nan():
    net = random_net(0, d=3)
    with pytest.raises(ValueError, match="d=3"):
        net(np.ones((2, 4)))
    with pytest.raises(ValueError, match="`X`"):
        net(np.array([[np.nan, 0.0, 0.0]]))
    with pytest.raises(ValueError, match="`X`"):
        net(np.ones(3))


def test_parameters_are_read_only_copies():
    a, W = np.array([1.0, 2.0]), np.eye(2)
    net = rf.Network(a, W)
    a[0] = 99.0
    W[0, 0] = 99.0
    assert net.a[0] == 1.0 and net.W[0, 0] == 1.0
    assert a.flags.writeable and W.flags.writeable
    with pytest.raises(ValueError):
        net.a[0] = 0.0
    with pytest.raises(ValueError):
        net.W[0, 0] = 0.0


@settings(max_examples=50, deadline=None)
@given(
    c=st.floats(min_value=1e-3, max_value=1e3, allow_nan=False),
    seed=st.integers(0, 2**32 - 1),
    m=st.integers(1, 6),
    d=st.integers(1, 4),
)
def test_two_homogeneity(c, seed, m, d):
    rng = np.random.default_rng(seed)
    net = rf.Network(rng.standard_normal(m), rng.standard_normal((m, d)))
    X = rng.standard_normal((5, d))
    scaled = net.scaled(c)
    assert_allclose(scaled.flat(), c * net.flat())
    # |f| is bounded by sum_j |a_j| ||w_j|| ||x||, which sets the absolute error scale.
    bound = np.sum(np.abs(net.a) * np.linalg.norm(net.W, axis=1)) * np.linalg.norm(X, axis=1)
    assert np.all(np.abs(scaled(X) - c**2 * net(X)) <= 1e-12 * c**2 * (bound + 1e-300))
    assert_allclose(scaled.norm_sq(), c**2 * net.norm_sq(), rtol=1e-12)


def test_negative_scaling_is_not_homogeneous():
    """Homogeneity needs c >= 0: with c = -1 the ReLU sees -w and the output changes."""
    net = rf.Network([1.0], [[1.0]])
    X = np.array([[1.0]])
    assert net.scaled(-1.0)(X)[0] != net(X)[0]


@pytest.mark.parametrize(("m", "d"), [(1, 1), (3, 2), (5, 4)])
def test_flat_round_trip(m, d):
    net = random_net(m + d, m=m, d=d)
    theta = net.flat()
    assert theta.shape == (m * (d + 1),)
    assert_array_equal(theta[:m], net.a)
    back = rf.Network.from_flat(theta, m, d)
    assert_array_equal(back.a, net.a)
    assert_array_equal(back.W, net.W)
    assert_array_equal(rf.Network.from_flat(back.flat(), m, d).flat(), theta)


@pytest.mark.parametrize("length", [5, 7, 0])
def test_from_flat_wrong_length(length):
    with pytest.raises(ValueError, match="`theta`"):
        rf.Network.from_flat(np.ones(length), 2, 2)


@pytest.mark.parametrize(("m", "d"), [(0, 2), (2, 0), (2.0, 2)])
def test_from_flat_bad_sizes(m, d):
    with pytest.raises(ValueError, match="integer >= 1"):
        rf.Network.from_flat(np.ones(6), m, d)


def test_neuron_norms_and_norm_sq():
    net = rf.Network([3.0, 0.0, -1.0], [[4.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    assert_allclose(net.neuron_norms(), [5.0, 0.0, np.sqrt(3.0)])
    assert_allclose(net.norm_sq(), 25.0 + 0.0 + 3.0)
    assert isinstance(net.norm_sq(), float)


@pytest.mark.parametrize("seed", range(3))
def test_norm_sq_is_sum_of_squared_neuron_norms_and_flat_norm(seed):
    net = random_net(seed, m=6, d=3)
    assert_allclose(net.norm_sq(), np.sum(net.neuron_norms() ** 2))
    assert_allclose(net.norm_sq(), np.dot(net.flat(), net.flat()))


# ---------------------------------------------------------------- small_init


@pytest.mark.parametrize(("m", "d"), [(1, 1), (4, 3), (10, 2)])
def test_small_init_shapes(m, d):
    net = rf.small_init(m, d, 0.1, seed=1)
    assert net.a.shape == (m,)
    assert net.W.shape == (m, d)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("scale", [1e-12, 1e-6, 1.0])
def test_small_init_balanced(seed, scale):
    net = rf.small_init(8, 3, scale, seed=seed)
    assert_array_equal(np.abs(net.a), np.linalg.norm(net.W, axis=1))
    assert_allclose(rf.diagnostics.balancedness(net), 0.0, atol=1e-12 * scale**2)


@pytest.mark.parametrize("seed", range(3))
def test_small_init_unbalanced_differs(seed):
    net = rf.small_init(8, 3, 1e-3, seed=seed, balanced=False)
    assert np.all(np.abs(rf.diagnostics.balancedness(net)) > 1e-12 * 1e-6)
    assert not np.allclose(np.abs(net.a), np.linalg.norm(net.W, axis=1))


def test_small_init_tiny_scale_is_finite_and_nonzero():
    scale = 1e-12
    net = rf.small_init(50, 3, scale, seed=0)
    assert np.all(np.isfinite(net.flat()))
    assert np.all(net.a != 0) and np.all(np.linalg.norm(net.W, axis=1) > 0)
    norms = np.linalg.norm(net.W, axis=1)
    # ||w_j|| = scale * chi_3 / sqrt(3): all 50 draws lie well within two decades of scale.
    assert np.all(norms > 1e-2 * scale) and np.all(norms < 1e1 * scale)


@pytest.mark.parametrize("scale", [1e-12, 1e-3])
def test_small_init_norms_concentrate_at_scale(scale):
    """w_j = scale * z_j with z_j ~ N(0, I_d / d), so ||w_j|| / scale concentrates near 1."""
    net = rf.small_init(400, 16, scale, seed=2)
    ratio = np.linalg.norm(net.W, axis=1) / scale
    assert 0.9 < np.median(ratio) < 1.1  # chi_16 / 4 has median ~0.98 and sd ~0.18
    assert_allclose(np.mean(ratio**2), 1.0, atol=0.06)  # E||z||^2 = 1; sd of the mean ~0.018


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ((3, 2, 0.0), "`scale`"),
        ((3, 2, -1e-3), "`scale`"),
        ((3, 2, np.nan), "`scale`"),
        ((3, 2, np.inf), "`scale`"),
        ((3, 2, "big"), "`scale`"),
        ((2.5, 2, 1e-3), "`m`"),
        ((3.0, 2, 1e-3), "`m`"),
        ((0, 2, 1e-3), "`m`"),
        ((True, 2, 1e-3), "`m`"),
        ((3, 0, 1e-3), "`d`"),
    ],
)
def test_small_init_rejects_bad_arguments(args, name):
    with pytest.raises(ValueError, match=name):
        rf.small_init(*args)


def test_small_init_accepts_numpy_integers():
    net = rf.small_init(np.int64(3), np.int32(2), 1e-3)
    assert (net.m, net.d) == (3, 2)


@pytest.mark.parametrize("balanced", [True, False])
def test_small_init_seed_reproducible(balanced):
    net1 = rf.small_init(6, 3, 1e-4, seed=7, balanced=balanced)
    net2 = rf.small_init(6, 3, 1e-4, seed=7, balanced=balanced)
    net3 = rf.small_init(6, 3, 1e-4, seed=8, balanced=balanced)
    assert_array_equal(net1.flat(), net2.flat())
    assert not np.array_equal(net1.flat(), net3.flat())
