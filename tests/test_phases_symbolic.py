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


def test_sliding_conditions_identities_and_signs():
    sc = sph.sliding_conditions()
    assert sc.release_factor.residual == 0 and sc.hold_factor.residual == 0
    delta, p, _, _ = sph.symbols()
    a, rp, rm = sp.symbols("a rho_p rho_m", real=True)
    # inactive-side normals push into the face for a < 0 (negative neuron) and a > 0 (positive neuron)
    vals = {delta: 1.0, p: sp.Rational(3, 4), rp: sp.Rational(1, 2), rm: -sp.Rational(1, 4)}
    assert float(sc.negative_normals[0].subs({**vals, a: -1})) > 0
    assert float(sc.positive_normals[0].subs({**vals, a: 1})) > 0


@pytest.mark.parametrize("delta, p", [(0.3, 0.6), (1.0, 0.75), (1.3, 0.9)])
def test_release_threshold_zeroes_the_active_normal(delta, p):
    """At f(x+) + f(x-) = release, rho_+ + rho_- cos(Delta) = 0 (numerically, for any split)."""
    sc = sph.sliding_conditions()
    for fp in (0.3, 1.0, 2.5):
        fm = float(sc.release_func(delta, p)) - fp
        assert p * np.exp(-fp) - (1 - p) * np.exp(fm) * np.cos(delta) == pytest.approx(0.0, abs=1e-12)
        fm = float(sc.hold_func(delta, p)) - fp
        assert p * np.exp(-fp) * np.cos(delta) - (1 - p) * np.exp(fm) == pytest.approx(0.0, abs=1e-12)


def test_release_matches_the_solvers_switch_log():
    """The exact solver releases the kink cluster when f(x+) + f(x-) crosses the SymPy threshold."""
    data = rf.datasets.two_point(1.0, 0.75)
    net0 = rf.small_init(40, 2, 1e-6, seed=1)
    traj = rf.gradient_flow(net0, data, "exponential", 26.0, t_eval=np.linspace(15.0, 26.0, 1101))
    on = [g for g in rf.phases.switch_groups(traj, t_min=10.0) if g.kind == "on" and g.sign < 0]
    assert len(on) == 1 and on[0].t_last - on[0].t_first < 1e-6
    s = rf.diagnostics.outputs(traj, data).sum(axis=1)
    release = float(sph.sliding_conditions().release_func(1.0, 0.75))
    k = int(np.argmax(s > release))
    t_pred = np.interp(release, s[k - 1 : k + 1], traj.t[k - 1 : k + 1])
    assert abs(t_pred - on[0].t_first) < 1e-3
