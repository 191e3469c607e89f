"""Tests for reluflow.diagnostics: outputs, margins, activation patterns, census, balancedness,
alignment, rotation and movement."""

import warnings
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import reluflow as rf


def random_net(seed, m=5, d=3):
    rng = np.random.default_rng(seed)
    return rf.Network(rng.standard_normal(m), rng.standard_normal((m, d)))


def pts(X):
    """Points as a Dataset (the labels do not enter the activation patterns)."""
    X = np.asarray(X, float)
    return rf.Dataset(X, np.zeros(X.shape[0]) if X.ndim == 2 else [0.0])


def random_data(seed, n=8, d=3):
    rng = np.random.default_rng(seed + 1000)
    return rf.Dataset(rng.standard_normal((n, d)), rng.choice([-1.0, 1.0], size=n))


# ---------------------------------------------------------------- normalized_margin


@pytest.mark.parametrize("seed", range(4))
def test_normalized_margin_formula(seed):
    net, data = random_net(seed), random_data(seed)
    expected = min(y * f for y, f in zip(data.y, net(data.X), strict=True)) / (
        np.sum(net.a**2) + np.sum(net.W**2)
    )
    margin = rf.diagnostics.normalized_margin(net, data)
    assert isinstance(margin, float)
    assert_allclose(margin, expected, rtol=1e-13)


@settings(max_examples=50, deadline=None)
@given(c=st.floats(min_value=1e-4, max_value=1e4), seed=st.integers(0, 2**32 - 1))
def test_normalized_margin_scale_invariant(c, seed):
    net, data = random_net(seed), random_data(seed)
    base = rf.diagnostics.normalized_margin(net, data)
    # |y f| / ||theta||^2 <= max ||x|| / 2 bounds the margin, which sets the error scale.
    atol = 1e-12 * np.max(np.linalg.norm(data.X, axis=1))
    assert abs(rf.diagnostics.normalized_margin(net.scaled(c), data) - base) <= atol


def test_normalized_margin_sign_tracks_misclassification():
    net = rf.Network([1.0, -1.0], [[1.0, 0.0], [-1.0, 0.0]])  # f(x) = x_1
    good = rf.Dataset([[1.0, 0.0], [-2.0, 0.0]], [1.0, -1.0])
    bad = rf.Dataset([[1.0, 0.0], [2.0, 0.0]], [1.0, -1.0])
    assert_allclose(rf.diagnostics.normalized_margin(net, good), 1.0 / 4.0)  # min(1, 2) / ||theta||^2 = 4
    assert rf.diagnostics.normalized_margin(net, bad) < 0


def test_normalized_margin_errors():
    data = random_data(0, d=2)
    with pytest.raises(ValueError, match="zero network"):
        rf.diagnostics.normalized_margin(rf.Network([0.0, 0.0], np.zeros((2, 2))), data)
    with pytest.raises(ValueError, match="with_bias"):
        rf.diagnostics.normalized_margin(random_net(0, d=3), data)


# ---------------------------------------------------------------- activation_patterns


@pytest.mark.parametrize("seed", range(3))
def test_activation_patterns_match_preactivations(seed):
    net, data = random_net(seed, m=6), random_data(seed, n=9)
    S = rf.diagnostics.activation_patterns(net, data)
    assert S.shape == (6, 9) and S.dtype == bool
    brute = [[float(np.dot(net.W[j], data.X[i])) > 0 for i in range(9)] for j in range(6)]
    assert_array_equal(S, brute)
    # active exactly where the ReLU passes a positive value
    assert_array_equal(S, np.maximum(net.preactivations(data.X), 0) > 0)


def test_activation_patterns_zero_preactivation_is_inactive():
    net = rf.Network([1.0], [[1.0, 0.0]])
    S = rf.diagnostics.activation_patterns(net, pts([[0.0, 1.0], [1.0, 0.0], [-1.0, 0.0]]))
    assert_array_equal(S, [[False, True, False]])


@pytest.mark.parametrize("seed", range(3))
def test_activation_patterns_band_matches_brute_force(seed):
    net, data = random_net(seed, m=6), random_data(seed, n=9)
    tol = 0.3
    S = rf.diagnostics.activation_patterns(net, data, tol=tol)
    brute = [
        [float(np.dot(net.W[j], data.X[i])) > tol * np.linalg.norm(net.W[j]) * np.linalg.norm(data.X[i])
         for i in range(9)]
        for j in range(6)
    ]
    assert_array_equal(S, brute)
    # the band only removes activity: a subset of the plain pattern
    assert not np.any(S & ~rf.diagnostics.activation_patterns(net, data))


def test_activation_patterns_band_ignores_rounding_on_a_face():
    # a neuron on the face <w, x> = 0 up to a rounding error of either sign
    X = [[0.0, 1.0], [1.0, 0.0]]
    for eps in (1e-17, -1e-17):
        net = rf.Network([1.0], [[1.0, eps]])
        assert rf.diagnostics.activation_patterns(net, pts(X))[0, 0] == (eps > 0)
        assert_array_equal(rf.diagnostics.activation_patterns(net, pts(X), tol=1e-9), [[False, True]])
        assert rf.diagnostics.pattern_census(net, pts(X), tol=1e-9) == {(1,): 1}


def test_activation_patterns_validation():
    net = random_net(0, d=3)
    with pytest.raises(ValueError, match="with_bias"):
        rf.diagnostics.activation_patterns(net, pts(np.ones((2, 2))))
    with pytest.raises(ValueError, match="`X`"):
        rf.diagnostics.activation_patterns(net, pts(np.ones(3)))
    with pytest.raises(TypeError, match="rf.Dataset"):
        rf.diagnostics.activation_patterns(net, np.ones((2, 3)))
    with pytest.raises(TypeError, match="rf.Network"):
        rf.diagnostics.balancedness(np.ones(3))
    for bad in (-1e-9, np.nan, np.inf):
        with pytest.raises(ValueError, match="`tol`"):
            rf.diagnostics.activation_patterns(net, pts(np.ones((2, 3))), tol=bad)
        with pytest.raises(ValueError, match="`tol`"):
            rf.diagnostics.pattern_census(net, pts(np.ones((2, 3))), tol=bad)


# ---------------------------------------------------------------- pattern_census


def brute_census(net, X, by_sign=False, keep=None):
    counts = Counter()
    for j in range(net.m):
        if keep is not None and not keep[j]:
            continue
        pattern = tuple(i for i in range(len(X)) if np.dot(net.W[j], X[i]) > 0)
        counts[((1 if net.a[j] >= 0 else -1), pattern) if by_sign else pattern] += 1
    return dict(counts)


@pytest.mark.parametrize("by_sign", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_pattern_census_matches_brute_force(seed, by_sign):
    net = random_net(seed, m=12, d=2)
    X = random_data(seed, n=4, d=2).X
    census = rf.diagnostics.pattern_census(net, pts(X), by_sign=by_sign)
    assert census == brute_census(net, X, by_sign)
    assert sum(census.values()) == net.m
    counts = list(census.values())
    assert counts == sorted(counts, reverse=True)  # most common first


def test_pattern_census_by_sign_keys():
    net = rf.Network([1.0, 2.0, -1.0, 0.5], [[1.0, 0.0], [1.0, 0.1], [1.0, 0.0], [-1.0, -1.0]])
    X = [[1.0, 0.0], [0.0, 1.0]]
    census = rf.diagnostics.pattern_census(net, pts(X), by_sign=True)
    assert census == {(1, (0,)): 1, (1, (0, 1)): 1, (-1, (0,)): 1, (1, ()): 1}
    for sign, pattern in census:
        assert sign in (1, -1)
        assert isinstance(pattern, tuple)
    # without signs the two (0,)-neurons merge
    assert rf.diagnostics.pattern_census(net, pts(X)) == {(0,): 2, (0, 1): 1, (): 1}


@pytest.mark.parametrize("min_norm", [0.0, 0.05, 0.5, 1.0])
def test_pattern_census_min_norm_filters_small_neurons(min_norm):
    rng = np.random.default_rng(3)
    base = random_net(3, m=10, d=2)
    sizes = np.geomspace(1e-3, 1.0, 10)
    net = rf.Network(base.a * sizes / base.neuron_norms(), base.W * (sizes / base.neuron_norms())[:, None])
    X = rng.standard_normal((5, 2))
    keep = net.neuron_norms() >= min_norm * net.neuron_norms().max()
    census = rf.diagnostics.pattern_census(net, pts(X), min_norm=min_norm)
    assert sum(census.values()) == int(keep.sum())
    assert census == brute_census(net, X, keep=keep)
    if min_norm == 1.0:
        assert sum(census.values()) == 1  # only the largest neuron


def test_pattern_census_zero_network_counts_all_neurons_dead():
    net = rf.Network(np.zeros(3), np.zeros((3, 2)))
    assert rf.diagnostics.pattern_census(net, pts([[1.0, 0.0]]), min_norm=0.5) == {(): 3}


# ---------------------------------------------------------------- balancedness


@pytest.mark.parametrize("seed", range(3))
def test_balancedness_formula(seed):
    net = random_net(seed)
    expected = [net.a[j] ** 2 - sum(w**2 for w in net.W[j]) for j in range(net.m)]
    b = rf.diagnostics.balancedness(net)
    assert b.shape == (net.m,)
    assert_allclose(b, expected, rtol=1e-13, atol=1e-15)


def test_balancedness_known_values():
    net = rf.Network([3.0, 1.0, 0.0], [[4.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert_array_equal(rf.diagnostics.balancedness(net), [-7.0, 0.0, -2.0])


# ---------------------------------------------------------------- alignment


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), d=st.integers(1, 5))
def test_alignment_is_a_cosine(seed, d):
    rng = np.random.default_rng(seed)
    net = rf.Network(rng.standard_normal(6), rng.standard_normal((6, d)))
    v = rng.standard_normal(d)
    cos = rf.diagnostics.alignment(net, v)
    assert cos.shape == (6,)
    assert np.all(np.abs(cos) <= 1.0 + 4 * np.finfo(float).eps)
    expected = [np.dot(w, v) / (np.linalg.norm(w) * np.linalg.norm(v)) for w in net.W]
    assert_allclose(cos, expected, rtol=1e-12, atol=1e-15)
    # invariant under positive rescaling of v and of the neurons
    assert_allclose(rf.diagnostics.alignment(net.scaled(7.0), 0.01 * v), cos, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("c", [0.3, 1.0, 2.5, 1e-8])
def test_alignment_parallel_and_antiparallel(c):
    v = np.array([1.0, 2.0, -3.0])
    net = rf.Network([1.0, -1.0, 2.0], [c * v, -c * v, [2.0, -1.0, 0.0]])  # last one is orthogonal
    assert_allclose(rf.diagnostics.alignment(net, v), [1.0, -1.0, 0.0], atol=1e-15)


def test_alignment_stays_in_unit_interval_for_parallel_neuron():
    v = np.array([1.0, 2.0, 3.0])
    net = rf.Network([1.0, 1.0], [0.7 * v, -0.7 * v])
    cos = rf.diagnostics.alignment(net, v)
    assert np.all(np.abs(cos) <= 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.all(np.isfinite(np.arccos(cos)))


def test_alignment_zero_neuron_is_nan_without_warning():
    net = rf.Network([1.0, 0.0], [[1.0, 1.0], [0.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cos = rf.diagnostics.alignment(net, [1.0, 0.0])
    assert_allclose(cos[0], 1.0 / np.sqrt(2.0))
    assert np.isnan(cos[1])


@pytest.mark.parametrize(
    ("v", "match"),
    [
        ([0.0, 0.0], "nonzero"),
        ([1.0, 0.0, 0.0], "length d=2"),
        ([1.0], "length d=2"),
        ([np.nan, 1.0], "`v`"),
        ([[1.0, 0.0]], "`v`"),
    ],
)
def test_alignment_rejects_bad_v(v, match):
    net = rf.Network([1.0], [[1.0, 1.0]])
    with pytest.raises(ValueError, match=match):
        rf.diagnostics.alignment(net, v)


@pytest.mark.parametrize("bad", [-0.1, float("nan")])
def test_pattern_census_rejects_bad_min_norm(bad):
    net = rf.Network([1.0], [[1.0, 0.0]])
    with pytest.raises(ValueError, match="min_norm"):
        rf.diagnostics.pattern_census(net, pts([[1.0, 0.0]]), min_norm=bad)


# ---------------------------------------------------------------- outputs, rotation, movement


def test_outputs_of_a_network_and_of_every_snapshot():
    data = random_data(3)
    net = random_net(3)
    assert_allclose(rf.diagnostics.outputs(net, data), net(data.X), rtol=1e-14)
    traj = rf.gradient_flow(net, data, "logistic", 2.0, t_eval=[0.0, 1.0, 2.0])
    F = rf.diagnostics.outputs(traj, data)
    assert F.shape == (3, data.n)
    assert_allclose(F, [traj.net(k)(data.X) for k in range(3)], rtol=1e-13, atol=1e-15)
    assert_allclose(traj.loss, [rf.losses.logistic.value(f, data) for f in F], rtol=1e-13)
    with pytest.raises(ValueError, match="dimension mismatch"):
        rf.diagnostics.outputs(traj, random_data(0, d=2))
    with pytest.raises(TypeError):
        rf.diagnostics.outputs(traj.W, data)


def _run_of(W_list):
    """A trajectory holding the given inner weights (the rotation sees W only)."""
    W = np.array(W_list, float)
    k, m = W.shape[:2]
    return rf.Trajectory(np.arange(k, dtype=float), np.ones((k, m)), W, np.zeros(k), "euler", 0, 0, 0, 0, "")


def test_rotation_and_relative_movement():
    W0 = [[1.0, 0.0], [0.0, 2.0], [1.0, 1.0], [0.0, 0.0]]
    W1 = [[3.0, 0.0], [2.0, 0.0], [-1.0, -1.0], [1.0, 0.0]]
    traj = _run_of([W0, W1])
    rot = rf.diagnostics.rotation(traj)
    assert rot.shape == (2, 4)
    assert_allclose(rot[:, :3], [[0.0, 0.0, 0.0], [0.0, np.pi / 2, np.pi]], atol=1e-7)
    assert np.all(np.isnan(rot[:, 3]))  # no initial direction
    assert_allclose(rf.diagnostics.relative_movement(traj), [0.0, np.linalg.norm(np.subtract(W1, W0)) / 2])
    with pytest.raises(TypeError, match="rf.Trajectory"):
        rf.diagnostics.rotation(np.array([W0, W1]))


def test_rotation_along_a_run_matches_alignment():
    data, net = random_data(5), random_net(5)
    traj = rf.gradient_flow(net, data, "square", 3.0, t_eval=[0.0, 1.5, 3.0])
    for k in range(3):
        cos = [rf.diagnostics.alignment(traj.net(k), w0)[j] for j, w0 in enumerate(net.W)]
        assert_allclose(np.cos(rf.diagnostics.rotation(traj)[k]), cos, rtol=1e-12, atol=1e-12)


def test_classification_error_counts_nonpositive_margins():
    data = rf.Dataset([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]], [1.0, -1.0, 1.0, -1.0])
    net = rf.Network([1.0], [[1.0, -1.0]])  # outputs 1, 0, 0, 0: the zeros are errors
    assert rf.diagnostics.classification_error(net, data) == 0.75
    traj = rf.gradient_flow(rf.Network([1.0, -1.0], [[1.0, 0.0], [0.0, 1.0]]), data, "logistic", 1.0,
                            t_eval=[0.0, 1.0])
    err = rf.diagnostics.classification_error(traj, data)
    assert err.shape == (2,)
    assert_allclose(err, [rf.diagnostics.classification_error(traj.net(k), data) for k in range(2)])
    with pytest.raises(ValueError, match="-1 or \\+1"):
        rf.diagnostics.classification_error(net, rf.Dataset([[1.0, 0.0]], [0.5]))
