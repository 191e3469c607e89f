"""Tests of the diagnostics added for chapter 6: condensation (planted clusters, invariances, bad
input) and linearization_error (exact cases)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import reluflow as rf


def planted(seed=0, spread=0.01):
    """Three signed clusters of 5 neurons (masses 9 : 4 : 1 per neuron) plus noise neurons."""
    rng = np.random.default_rng(seed)
    centres = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    signs, scales = np.array([1.0, -1.0, 1.0]), np.array([3.0, 2.0, 1.0])
    W, a = [], []
    for c, s, r in zip(centres, signs, scales, strict=True):
        for _ in range(5):
            u = c + spread * rng.standard_normal(3)
            W.append(r * u / np.linalg.norm(u) / np.sqrt(2))
            a.append(s * r / np.sqrt(2))
    return rf.Network(a, W)


def test_condensation_recovers_planted_clusters():
    c = rf.diagnostics.condensation(planted(), angle_tol=0.05, mass=1.0)
    assert c.n_clusters == 3 and c.directions.shape == (3, 3)
    assert_allclose(c.masses, np.array([9.0, 4.0, 1.0]) / 14.0)
    assert_array_equal(c.signs, [1.0, -1.0, 1.0])
    assert_allclose(np.abs(c.directions), np.eye(3), atol=0.05)
    assert rf.diagnostics.condensation(planted(), mass=0.9).n_clusters == 2  # 9/14 < 0.9 <= 13/14


def test_condensation_is_invariant_to_order_and_scale():
    net = planted(seed=3)
    perm = np.random.default_rng(1).permutation(net.m)
    ref = rf.diagnostics.condensation(net, mass=1.0)
    for other in (rf.Network(net.a[perm], net.W[perm]), net.scaled(1e-6)):
        c = rf.diagnostics.condensation(other, mass=1.0)
        assert c.n_clusters == ref.n_clusters
        assert_allclose(c.masses, ref.masses)


def test_condensation_separates_opposite_signs_on_one_direction():
    net = rf.Network([1.0, -1.0], [[1.0, 0.0], [1.0, 0.0]])
    c = rf.diagnostics.condensation(net, mass=1.0)
    assert c.n_clusters == 2 and set(c.signs) == {1.0, -1.0}


def test_condensation_of_a_lazy_network_is_of_order_m():
    net = rf.margins.symmetric_init(40, 10, 1.0, seed=0)
    assert rf.diagnostics.condensation(net).n_clusters >= 30


@pytest.mark.parametrize("kw, match", [({"angle_tol": 0.0}, "angle_tol"), ({"mass": 1.5}, "mass")])
def test_condensation_bad_input(kw, match):
    with pytest.raises(ValueError, match=match):
        rf.diagnostics.condensation(planted(), **kw)
    with pytest.raises(ValueError, match="zero network"):
        rf.diagnostics.condensation(rf.Network([0.0], [[0.0, 0.0]]))


def test_linearization_error_exact_cases():
    data = rf.datasets.sparse_parity(4)
    net0 = rf.margins.symmetric_init(6, 4, 1.0, seed=2)
    # moving only the outer layer is linear in theta: error 0
    moved = rf.Network(net0.a + 0.3, net0.W)
    assert rf.diagnostics.linearization_error(net0, moved, data) < 1e-12
    # scaling a balanced network by c: f -> c^2 f, linear part 2(c - 1) f
    base = rf.small_init(6, 4, 1.0, seed=1)
    c = 1.5
    assert_allclose(rf.diagnostics.linearization_error(base, base.scaled(c), data),
                    abs(c**2 - 1 - 2 * (c - 1)) / (c**2 - 1))  # fmt: skip
    with pytest.raises(ValueError, match="did not move"):
        rf.diagnostics.linearization_error(base, base, data)
    with pytest.raises(ValueError, match="same shape"):
        rf.diagnostics.linearization_error(base, rf.small_init(5, 4, 1.0), data)
