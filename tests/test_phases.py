"""Tests of rf.phases: the detector on designed loss curves with known boundaries, on real runs
of the two-point instance, and the NCF predictions against observed times."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

import reluflow as rf
from reluflow import phases

EXP = "exponential"


# ---------------------------------------------------------------------------------------------
# Synthetic trajectories. Orthogonal points x_i = e_i, one neuron per point with
# w_i = sqrt(u_i) e_i and a_i = y_i sqrt(u_i), so y_i f(x_i) = u_i exactly and the
# exponential loss is L = sum_i c_i exp(-u_i). With u_i = ln(1 + e^{k (t - tau_i)}) each
# term is a logistic drop c_i / (1 + e^{k (t - tau_i)}): the loss is a designed staircase
# (and the network, its norm and its margin are consistent with it).
# ---------------------------------------------------------------------------------------------
def _design(y, c, u_funcs, t):
    u = np.column_stack([u_i(t) for u_i in u_funcs])  # (k, n)
    n = len(y)
    W = np.zeros((t.size, n, n))
    W[:, np.arange(n), np.arange(n)] = np.sqrt(u)
    a = np.asarray(y) * np.sqrt(u)
    loss = np.exp(-u) @ np.asarray(c)
    traj = rf.Trajectory(t, a, W, loss, "synthetic", 0, 0, 0, 0, "synthetic")
    return traj, rf.Dataset(np.eye(n), y, weights=c)


def _logistic_u(k, tau):
    return lambda t: np.logaddexp(0.0, k * (t - tau))


def _analytic(c, k, taus):
    """L(t) and s(t) = d ln L / d ln t of the designed staircase."""

    def L(t):
        return sum(ci / (1 + np.exp(k * (t - ti))) for ci, ti in zip(c, taus, strict=True))

    def s(t):
        dL = sum(
            -ci * k * np.exp(k * (t - ti)) / (1 + np.exp(k * (t - ti))) ** 2
            for ci, ti in zip(c, taus, strict=True)
        )
        return t * dL / L(t)

    return L, s


def _grid(t_end, num=3000):
    return np.concatenate([[0.0], np.geomspace(1e-2, t_end, num)])


def _spacing(t, t0):
    """Local snapshot spacing at t0: the boundary is interpolated between two snapshots,
    so the detector is exact up to (a fraction of) this."""
    k = np.clip(np.searchsorted(t, t0), 1, t.size - 1)
    return t[k] - t[k - 1]


def _check_partition(found, t):
    assert found[0].t_start == t[0] and found[-1].t_end == t[-1]
    for p, q in zip(found, found[1:], strict=False):
        assert p.t_end == q.t_start and p.t_start < p.t_end


def test_two_plateau_staircase_boundaries():
    c, k, taus = (0.5, 0.3, 0.2), 2.0, (10.0, 30.0, 90.0)
    t = _grid(150.0)
    traj, data = _design([1.0, 1.0, -1.0], c, [_logistic_u(k, tau) for tau in taus], t)
    found = phases.detect(traj, data, EXP)
    names = [ph.name for ph in found]
    assert names == [
        "condensation",
        "saddle-to-plateau",
        "plateau",
        "escape",
        "plateau",
        "escape",
        "convergence",
    ]
    _check_partition(found, t)
    # exact boundaries of the continuous criteria
    L, s = _analytic(c, k, taus)
    thr = phases.PLATEAU_SLOPE
    want = [
        brentq(lambda x: L(x) - (1 - phases.CONDENSATION_RTOL), 1.0, taus[0]),
        brentq(lambda x: abs(s(x)) - thr, taus[0], 20.0),  # plateau 1
        brentq(lambda x: abs(s(x)) - thr, 20.0, taus[1]),
        brentq(lambda x: abs(s(x)) - thr, taus[1], 60.0),  # plateau 2
        brentq(lambda x: abs(s(x)) - thr, 60.0, taus[2]),
        brentq(lambda x: L(x) - phases.CONVERGENCE_FRACTION, taus[2], 150.0),
    ]
    got = [ph.t_end for ph in found[:-1]]
    for g, w in zip(got, want, strict=True):
        assert abs(g - w) <= 2 * _spacing(t, w), (g, w)
    # plateau levels: 1 - c_1 and c_3 (the drops are 10 time units away: e^{-20} corrections)
    assert found[2].evidence.loss_level == pytest.approx(0.5, rel=1e-6)
    assert found[4].evidence.loss_level == pytest.approx(0.2, rel=1e-6)
    assert abs(found[2].evidence.log_slope) < 0.01 * thr and found[3].evidence.log_slope < -thr
    assert all(ph.evidence.pattern_changes == 0 for ph in found)  # no neuron changes pattern
    assert found[-1].evidence.margin_end > 0


def test_single_drop_without_plateau():
    c, k, tau = (0.5, 0.5), 1.0, 20.0
    t = _grid(60.0)
    traj, data = _design([1.0, -1.0], c, [_logistic_u(k, tau)] * 2, t)
    found = phases.detect(traj, data, EXP)
    assert [ph.name for ph in found] == ["condensation", "escape", "convergence"]
    _check_partition(found, t)
    t_c = tau + np.log(phases.CONDENSATION_RTOL / (1 - phases.CONDENSATION_RTOL)) / k  # L = 0.99
    t_v = tau + np.log(1 / phases.CONVERGENCE_FRACTION - 1) / k  # L = 0.05
    assert abs(found[0].t_end - t_c) <= 2 * _spacing(t, t_c)
    assert abs(found[1].t_end - t_v) <= 2 * _spacing(t, t_v)
    # condensation: the norm grows exponentially at rate ~ k (||theta||^2 = 2 sum u ~ e^{k(t - tau)})
    assert found[0].evidence.norm_sq_end < 0.05
    assert found[0].evidence.growth_rate == pytest.approx(k, rel=0.05)


def test_monotone_decay():
    """L = 1/(1 + t): f moves at once, |s| = t/(1 + t) < 0.5 only before the loss was ever
    steep, so there is no plateau; convergence at L = 0.05, t = 19."""
    t = _grid(100.0)
    traj, data = _design([1.0], (1.0,), [np.log1p], t)
    found = phases.detect(traj, data, EXP)
    assert [ph.name for ph in found] == ["condensation", "escape", "convergence"]
    t_c, t_v = 1 / (1 - phases.CONDENSATION_RTOL) - 1, 1 / phases.CONVERGENCE_FRACTION - 1
    assert abs(found[0].t_end - t_c) <= 2 * _spacing(t, t_c)
    assert abs(found[1].t_end - t_v) <= 2 * _spacing(t, t_v)
    assert np.isnan(found[0].evidence.margin_end) or found[0].evidence.margin_end >= 0


def test_truncated_runs_and_overrides():
    c, k, taus = (0.5, 0.3, 0.2), 2.0, (10.0, 30.0, 90.0)
    us = [_logistic_u(k, tau) for tau in taus]
    # stops in the middle of the first plateau: no escape, no convergence
    traj, data = _design([1.0, 1.0, -1.0], c, us, _grid(20.0))
    assert [ph.name for ph in phases.detect(traj, data)] == ["condensation", "saddle-to-plateau", "plateau"]
    # stops before the loss moves: condensation only
    traj, data = _design([1.0, 1.0, -1.0], c, us, _grid(5.0))
    (only,) = phases.detect(traj, data)
    assert only.name == "condensation" and only.t_end == 5.0
    # a floor above both plateau levels removes them: one long escape
    traj, data = _design([1.0, 1.0, -1.0], c, us, _grid(150.0))
    names = [ph.name for ph in phases.detect(traj, data, plateau_floor=0.6)]
    assert names == ["condensation", "escape", "convergence"]
    # a minimum duration longer than both plateaus (ln(30/20) < 1) removes them too
    assert "plateau" not in [ph.name for ph in phases.detect(traj, data, plateau_min_duration=1.5)]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"plateau_slope": -1.0}, "plateau_slope"),
        ({"convergence_fraction": 1.5}, "convergence_fraction"),
        ({"condensation_rtol": 0.0}, "condensation_rtol"),
    ],
)
def test_bad_thresholds(kwargs, match):
    traj, data = _design([1.0], (1.0,), [np.log1p], _grid(10.0, 50))
    with pytest.raises(ValueError, match=match):
        phases.detect(traj, data, **kwargs)


def test_bad_inputs():
    traj, data = _design([1.0], (1.0,), [np.log1p], _grid(10.0, 50))
    with pytest.raises(TypeError, match="traj"):
        phases.detect(traj.loss, data)
    with pytest.raises(ValueError, match="dimension"):
        phases.detect(traj, rf.datasets.two_point(1.0, 0.75))


# ---------------------------------------------------------------------------------------------
# Real runs of the two-point instance (Delta = 1, exponential loss; book chapter 4).
# ---------------------------------------------------------------------------------------------
def _run(p, scale, m=100, seed=0, t_end=110.0, num=600):
    data = rf.datasets.two_point(1.0, p)
    traj = rf.gradient_flow(
        rf.small_init(m, 2, scale, seed=seed), data, EXP, t_end, t_eval=rf.log_times(t_end, num)
    )
    assert traj.success
    return traj, data


@pytest.mark.parametrize("m, seed", [(100, 0), (200, 1)])
def test_two_point_has_all_five_phases(m, seed):
    p, scale = 0.75, 1e-6
    traj, data = _run(p, scale, m=m, seed=seed)
    found = phases.detect(traj, data, EXP)
    assert [ph.name for ph in found] == list(phases.PHASE_NAMES)
    cond, s2p, plat, esc, conv = found
    # plateau level = loss of the class not yet fit, 1 - p, plus p e^{-f(x+)} not yet decayed:
    # the median sits within 10 % above it
    assert 1 - p <= plat.evidence.loss_level <= 1.1 * (1 - p)
    # condensation: f ~ 0, the top neurons condense on argmax |G| while the norm stays small
    assert cond.evidence.alignment > 0.99 and cond.evidence.norm_sq_end < 0.05
    assert cond.evidence.pattern_changes > 0  # neurons turn: activation changes
    assert cond.evidence.growth_rate > 0 and abs(plat.evidence.growth_rate) < 0.1 * cond.evidence.growth_rate
    assert conv.evidence.margin_end > 0
    # the predicted times fall in the detected phases
    pred = phases.predicted_times(data, EXP, scale)
    assert s2p.t_start < pred.t1 < s2p.t_end
    assert esc.t_start < pred.t_escape < esc.t_end


@pytest.mark.parametrize("seed", [0, 1])
def test_symmetric_case_has_no_plateau(seed):
    traj, data = _run(0.5, 1e-6, seed=seed)
    names = [ph.name for ph in phases.detect(traj, data, EXP)]
    assert "plateau" not in names and names == ["condensation", "escape", "convergence"]
    pred = phases.predicted_times(data, EXP, 1e-6)
    assert pred.plateau_level == 0.0 and np.isnan(pred.t_escape)


def test_gradient_descent_agrees_with_gradient_flow():
    """Euler steps (no switch log: pattern changes counted between snapshots) give the same
    phases; the boundaries move by O(step * t) (here < 2 %)."""
    data = rf.datasets.two_point(1.0, 0.75)
    net0, te = rf.small_init(100, 2, 1e-6, seed=0), rf.log_times(90.0, 300)
    gf = phases.detect(rf.gradient_flow(net0, data, EXP, 90.0, t_eval=te), data)
    gd = phases.detect(rf.gradient_flow(net0, data, EXP, 90.0, method="euler", step=1e-2, t_eval=te), data)
    assert [ph.name for ph in gd] == [ph.name for ph in gf] == list(phases.PHASE_NAMES)
    np.testing.assert_allclose([ph.t_end for ph in gd], [ph.t_end for ph in gf], rtol=0.02)
    assert gd[0].evidence.pattern_changes > 0


def _crossing(traj, level):
    k = np.flatnonzero(traj.loss < level)[0]
    return float(np.interp(level, traj.loss[k - 1 : k + 1][::-1], traj.t[k - 1 : k + 1][::-1]))


@pytest.mark.parametrize("scales, m, seed", [((1e-4, 1e-6), 100, 0), ((1e-6, 1e-8), 200, 1)])
def test_predicted_vs_observed_times_two_scales(scales, m, seed):
    """Observed T1 (loss halfway from 1 to the plateau) and T_esc (halfway from the plateau to 0)
    are the predictions plus O(1) terms independent of the init scale (same seed: the same
    directions, scaled). Differences between scales cancel them:
    dT1 = ln(s1/s2)/g*_1 up to O(scale^2) terms (1 %); dT_esc = ln(s1/s2)(1/g* + (1 - g_head/g*)/g_bar)
    up to the plateau's residual drift, rho_+ = p e^{-f(x+)} and e^{f(x-)} - 1 of a few % in
    the rate g_bar over ~20 time units (tolerance 3 %)."""
    p, obs, pred = 0.75, [], []
    for scale in scales:
        traj, data = _run(p, scale, m=m, seed=seed)
        pt = phases.predicted_times(data, EXP, scale)
        obs.append((_crossing(traj, (1 + pt.plateau_level) / 2), _crossing(traj, pt.plateau_level / 2)))
        pred.append((pt.t1, pt.t_escape))
        # absolute: the O(1) offsets are a small fraction of the ln(1/scale) times
        assert abs(obs[-1][0] - pt.t1) < 0.15 * pt.t1
        assert abs(obs[-1][1] - pt.t_escape) < 0.1 * pt.t_escape
    d_obs, d_pred = np.subtract(obs[1], obs[0]), np.subtract(pred[1], pred[0])
    assert d_pred[0] == pytest.approx(np.log(scales[0] / scales[1]) / pt.g_star)
    assert d_obs[0] == pytest.approx(d_pred[0], rel=0.01)
    assert d_obs[1] == pytest.approx(d_pred[1], rel=0.03)


def test_predicted_times_two_point_closed_form():
    """papers.md section 3.3: g*_1 = ||p x+ - (1-p) x-||, head start (1-p) sin(Delta) (kink), g_bar = 1-p."""
    delta, p, scale = 1.0, 0.75, 1e-6
    pt = phases.predicted_times(rf.datasets.two_point(delta, p), EXP, scale)
    xp, xm = np.array([1.0, 0.0]), np.array([np.cos(delta), np.sin(delta)])
    g1 = np.linalg.norm(p * xp - (1 - p) * xm)
    assert pt.g_star == pytest.approx(g1)
    assert pt.g_head == pytest.approx((1 - p) * np.sin(delta))
    assert pt.g_bar == pytest.approx(1 - p) and pt.plateau_level == pytest.approx(1 - p)
    t1 = np.log(1 / scale) / g1
    assert pt.t1 == pytest.approx(t1)
    assert pt.t_escape == pytest.approx(t1 + (np.log(1 / scale) - (1 - p) * np.sin(delta) * t1) / (1 - p))


def test_predicted_times_validation():
    data = rf.datasets.two_point(1.0, 0.75)
    with pytest.raises(ValueError, match="scale"):
        phases.predicted_times(data, EXP, 2.0)
