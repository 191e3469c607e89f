"""Tests for reluflow.phases.symbolic: the identities simplify to zero and the numpy twins
agree with the numerical library (rf.Correlation, rf.ncf.kkt_directions,
rf.phases.predicted_times) on a grid of (Delta, p)."""

import numpy as np
import pytest
import sympy as sp

import reluflow as rf
from reluflow.phases import symbolic as sph

GRID = [(d, p) for d in (0.3, 0.8, 1.0, 1.4, 1.8, 2.5) for p in (0.55, 0.7, 0.75, 0.9)]


def test_identities_hold():
    tg, ex, et = sph.alignment_two_point(), sph.extremes(), sph.escape_times()
    for ident in (tg.linear, ex.continuity, ex.interior_at_boundary, ex.positive_wins, et.closed_form):
        assert ident.residual == 0
    delta, p, _, _ = sph.symbols()
    assert sp.simplify(ex.p_boundary - 1 / (1 + sp.cos(delta))) == 0
    assert sp.simplify(ex.D_minus - (p * sp.cos(delta) - (1 - p))) == 0


@pytest.mark.parametrize("delta, p", GRID)
def test_G_twin_matches_library(delta, p):
    data = rf.datasets.two_point(delta, p)
    phi = np.linspace(-np.pi / 2, 3 * np.pi / 2, 401, endpoint=False)
    V = np.c_[np.cos(phi), np.sin(phi)]
    G = data.weighted(rf.losses.get("exponential").rho0(data))(V)
    np.testing.assert_allclose(sph.alignment_two_point().func(phi, delta, p), G, atol=1e-12)


@pytest.mark.parametrize("delta, p", GRID)
def test_extremes_match_kkt_directions(delta, p):
    data = rf.datasets.two_point(delta, p)
    crit = rf.ncf.kkt_directions(data.weighted(rf.losses.get("exponential").rho0(data)))
    ex = sph.extremes()
    assert max(c.value for c in crit) == pytest.approx(ex.g_max_func(delta, p), rel=1e-9)
    assert min(c.value for c in crit) == pytest.approx(ex.g_min_func(delta, p), rel=1e-9)
    top = max(crit, key=lambda c: c.value)
    phi = ex.phi_max_func(delta, p)
    np.testing.assert_allclose(top.v, [np.cos(phi), np.sin(phi)], atol=1e-8)
    # the maximiser is a smooth point exactly in the linear regime p cos(Delta) > 1 - p
    assert (top.kind == "smooth") == (p * np.cos(delta) > 1 - p or delta > np.pi / 2)


@pytest.mark.parametrize("delta, p", GRID)
@pytest.mark.parametrize("scale", [1e-4, 1e-8])
def test_escape_times_match_predicted_times(delta, p, scale):
    et = sph.escape_times()
    pt = rf.phases.predicted_times(rf.datasets.two_point(delta, p), "exponential", scale)
    ell = np.log(1 / scale)
    assert et.t1_func(ell, delta, p) == pytest.approx(pt.t1, rel=1e-9)
    assert et.t_escape_func(ell, delta, p) == pytest.approx(pt.t_escape, rel=1e-9)
