"""Tests of rf.phases.growth_rate, switch_groups, census_by_sign, four_phases and
observed_times: the growth-rate identity against finite differences of real runs, the
bracket on random networks, the grouping of a hand-made switch log, and the phase map."""

from __future__ import annotations

import numpy as np
import pytest

import reluflow as rf
from reluflow.phases import Phase, PhaseEvidence


def _ev():
    return PhaseEvidence(1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0, 1.0, 0.0, 3)


def _phases(*names):
    return [Phase(name, float(k), float(k + 1), _ev()) for k, name in enumerate(names)]


# ------------------------------------------------------------------------------- growth_rate
@pytest.mark.parametrize("loss", ["exponential", "logistic", "square"])
@pytest.mark.parametrize("seed", [0, 1])
def test_growth_rate_is_the_derivative_of_log_norm(loss, seed):
    """r = 4 sum rho_i f_i / |theta|^2 equals d ln|theta|^2/dt of the exact flow (central differences)."""
    data = rf.datasets.two_point(1.0, 0.75)
    t = np.array([5.0, 5.001, 5.002, 18.0, 18.001, 18.002])
    traj = rf.gradient_flow(rf.small_init(30, 2, 1e-3, seed=seed), data, loss, 18.002, t_eval=t, rtol=1e-11)
    lnN = np.log(traj.norm_sq())
    for k in (1, 4):
        fd = (lnN[k + 1] - lnN[k - 1]) / (t[k + 1] - t[k - 1])
        assert rf.phases.growth_rate(traj.net(k), data, loss).rate == pytest.approx(fd, rel=1e-5)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("balanced", [True, False])
def test_growth_rate_bracket_holds(seed, balanced):
    rng = np.random.default_rng(seed)
    data = rf.Dataset(rng.standard_normal((5, 3)), rng.choice([-1.0, 1.0], 5))
    W = rng.standard_normal((7, 3)) * rng.uniform(0.01, 1.0)
    a = np.linalg.norm(W, axis=1) * rng.choice([-1.0, 1.0], 7)
    if not balanced:
        a = a * rng.uniform(0.2, 3.0, 7)
    gr = rf.phases.growth_rate(rf.Network(a, W), data, "logistic")
    assert gr.lower <= gr.rate <= gr.upper
    assert gr.delta >= 0 and gr.g_star > 0


def test_growth_rate_bracket_is_tight_at_the_maximiser():
    data = rf.datasets.two_point(1.0, 0.75)
    crit = rf.ncf.kkt_directions(data.weighted(rf.losses.get("exponential").rho0(data)))
    v = max(crit, key=lambda c: c.value).v
    gr = rf.phases.growth_rate(rf.Network([1e-6, 1e-6], [1e-6 * v, 1e-6 * v]), data)
    assert gr.rate == pytest.approx(2 * gr.g_star, rel=1e-9)
    assert gr.upper - gr.lower < 1e-8


def test_growth_rate_bracket_fails_with_a_wrong_g_star():
    """The bracket is not vacuous: a neuron far from argmax G lowers r below 2 g*."""
    data = rf.datasets.two_point(1.0, 0.75)
    gr = rf.phases.growth_rate(rf.Network([1e-6], [[0.0, 1e-6]]), data)
    assert gr.rate < 0.5 * 2 * gr.g_star and gr.lower <= gr.rate


def test_growth_rate_errors():
    data = rf.datasets.two_point(1.0, 0.75)
    with pytest.raises(ValueError, match="zero"):
        rf.phases.growth_rate(rf.Network([0.0], [[0.0, 0.0]]), data)
    with pytest.raises(TypeError, match="net"):
        rf.phases.growth_rate("net", data)
    with pytest.raises(TypeError, match="data"):
        rf.phases.growth_rate(rf.Network([1.0], [[1.0, 0.0]]), np.eye(2))


# ------------------------------------------------------------------------------- switch_groups
def _traj_with_switches(rows, a0):
    sw = np.array(rows, dtype=rf.trajectory.SWITCH_DTYPE)
    m = len(a0)
    t = np.array([0.0, 1.0, 2.0])
    a = np.tile(np.asarray(a0, float), (3, 1))
    W = np.ones((3, m, 2))
    return rf.Trajectory(t, a, W, np.ones(3), "adaptive", 0, 0, 0, 0, "ok", switches=sw)


def test_switch_groups_groups_and_orders():
    rows = [(0.5, 0, 1, "off"), (0.5, 1, 1, "off"), (1.5, 2, 0, "on"), (1.6, 2, 0, "on"), (1.5, 0, 1, "slide")]
    traj = _traj_with_switches(rows, [1.0, 1.0, -1.0])
    groups = rf.phases.switch_groups(traj)
    assert [(g.sign, g.point, g.kind, g.count, g.neurons) for g in groups] == [
        (1, 1, "off", 2, 2),
        (1, 1, "slide", 1, 1),
        (-1, 0, "on", 2, 1),
    ]
    assert groups[2].t_first == 1.5 and groups[2].t_last == 1.6
    assert rf.phases.switch_groups(traj, t_min=1.0, t_max=1.55)[-1].count == 1
    assert rf.phases.switch_groups(traj, t_min=3.0) == []


def test_switch_groups_errors():
    traj = _traj_with_switches([], [1.0])
    with pytest.raises(ValueError, match="t_max"):
        rf.phases.switch_groups(traj, t_min=2.0, t_max=1.0)
    with pytest.raises(TypeError, match="Trajectory"):
        rf.phases.switch_groups([1, 2])


# ------------------------------------------------------------------------------- census_by_sign
def test_census_by_sign_cuts_each_sign_against_its_own_largest():
    data = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [1.0, -1.0])
    net = rf.Network([1.0, -1e-3, -1e-7], [[1.0, 0.0], [0.0, 1e-3], [1e-7, 0.0]])
    assert rf.phases.census_by_sign(net, data) == {(1, (0,)): 1, (-1, (1,)): 1}
    assert rf.diagnostics.pattern_census(net, data, by_sign=True, min_norm=0.01) == {(1, (0,)): 1}
    full = rf.phases.census_by_sign(net, data, min_norm=0.0)
    assert sorted(full.items()) == sorted(rf.diagnostics.pattern_census(net, data, by_sign=True).items())


# ------------------------------------------------------------------------------- four_phases
def test_four_phases_reference_labels():
    out = rf.phases.four_phases(_phases("condensation", "saddle-to-plateau", "plateau", "escape", "convergence"))
    assert [(p.number, p.labels) for p in out] == [
        (1, ("condensation",)),
        (2, ("saddle-to-plateau",)),
        (3, ("plateau", "escape")),
        (4, ("convergence",)),
    ]
    assert out[2].t_start == 2.0 and out[2].t_end == 4.0
    assert [p.name for p in out] == [rf.phases.PAPER_PHASES[k] for k in (1, 2, 3, 4)]


def test_four_phases_without_plateau_and_with_two():
    no_plateau = rf.phases.four_phases(_phases("condensation", "escape", "convergence"))
    assert [p.number for p in no_plateau] == [1, 2, 4]
    two = rf.phases.four_phases(_phases("condensation", "saddle-to-plateau", "plateau", "escape", "plateau", "escape"))
    assert [p.number for p in two] == [1, 2, 3] and len(two[2].labels) == 4


def test_four_phases_rejects_unknown_names():
    with pytest.raises(ValueError, match="phase name"):
        rf.phases.four_phases(_phases("condensation", "wobble"))


# ------------------------------------------------------------------------------- observed_times
def test_observed_times_on_a_designed_loss_curve():
    t = np.linspace(0.0, 10.0, 1001)
    L = np.interp(t, [0, 2, 4, 6, 8, 10], [1.0, 1.0, 0.25, 0.25, 0.05, 0.01])
    traj = rf.Trajectory(t, np.zeros((t.size, 1)), np.zeros((t.size, 1, 2)), L, "synthetic", 0, 0, 0, 0, "ok")
    pt = rf.phases.PredictedTimes(t1=3.0, plateau_level=0.25, t_escape=7.0, g_star=1.0, g_head=0.5, g_bar=0.25)
    ot = rf.phases.observed_times(traj, pt)
    assert ot.t1 == pytest.approx(3.0, abs=1e-9)  # L = (1 + 0.25)/2 = 0.625 halfway down the first ramp
    assert ot.t_escape == pytest.approx(6.0 + 2 * (0.25 - 0.125) / 0.2, abs=1e-9)
    no_plateau = rf.phases.PredictedTimes(3.0, 0.0, float("nan"), 1.0, float("nan"), float("nan"))
    assert np.isnan(rf.phases.observed_times(traj, no_plateau).t_escape)
    with pytest.raises(TypeError, match="PredictedTimes"):
        rf.phases.observed_times(traj, (3.0, 7.0))
