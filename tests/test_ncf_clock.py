"""Tests of the one clock (rf.ncf.escape_clock, mass_time, clock_tolerance; chapter 6): the NCF
prediction against the flow within the derived tolerance, the aligned asymptote, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import reluflow as rf


@pytest.fixture(scope="module")
def two_point():
    data = rf.datasets.two_point(1.0, 0.75)
    unit = rf.small_init(40, 2, 1.0, seed=0)
    return data, unit, rf.ncf.escape_clock(unit, data, "exponential")


def test_g_star_and_head_start_of_chapter_1():
    data = rf.datasets.orthogonal([1.2, 0.8, -0.5, -0.3])
    clock = rf.ncf.escape_clock(rf.small_init(30, 4, 1.0, seed=0), data, "square")
    assert_allclose(clock.g_star, rf.ncf.max_ncf(data.weighted(data.y / 4)).g_star)
    assert_allclose(clock.offset, (0.5 * np.log(1e-2) - clock.head_start) / clock.g_star)
    # aligned: Λ(t) - g* t is constant at the end of the NCF flow
    tail = clock.log_norm[-500:] - clock.g_star * clock.t[-500:]
    assert np.ptp(tail) < 1e-6


@pytest.mark.parametrize("eps", [1e-4, 1e-7])
def test_prediction_within_the_tolerance(two_point, eps):
    data, unit, clock = two_point
    T_pred = clock.predict(eps)
    t_end = T_pred + 1 / clock.g_star
    run = rf.gradient_flow(unit.scaled(eps), data, "exponential", t_end, t_eval=np.linspace(0, t_end, 2001))
    T_obs = rf.ncf.mass_time(run)
    tol = rf.ncf.clock_tolerance(run, data, "exponential")
    assert abs(T_obs - T_pred) <= tol
    # the tolerance is the first-order formula, about kappa C_X M / (4 g*^2)
    approx = np.exp(1e-2 / 2) * (data.weights @ np.sum(data.X**2, axis=1)) * 1e-2 / (4 * clock.g_star**2)
    assert_allclose(tol, approx, rtol=0.2)
    # the check can fail: the clock of another initialisation (another head start) misses it
    other = rf.ncf.escape_clock(rf.small_init(40, 2, 1.0, seed=1), data, "exponential")
    assert abs(T_obs - other.predict(eps)) > 3 * tol


def test_asymptote_is_reached_at_small_scales(two_point):
    _, _, clock = two_point
    assert abs(clock.predict(1e-8) - clock.asymptote(1e-8)) < 1e-6
    assert_allclose(clock.asymptote(1e-4) - clock.asymptote(1e-8), -np.log(1e4) / clock.g_star)


def test_linear_loss_is_the_ncf_flow_itself():
    data = rf.datasets.orthogonal([1.0, -0.5])
    unit = rf.small_init(10, 2, 1.0, seed=2)
    clock = rf.ncf.escape_clock(unit, data, "linear")
    run = rf.gradient_flow(unit.scaled(1e-5), rf.Dataset(data.X, data.y), "linear", clock.predict(1e-5) + 1,
                           t_eval="log", rtol=1e-10)  # fmt: skip
    assert rf.ncf.clock_tolerance(run, data, "linear") == 0.0
    assert_allclose(rf.ncf.mass_time(run), clock.predict(1e-5), atol=1e-3)


def test_mass_time_interpolates_in_log_norm():
    t = np.array([0.0, 1.0, 2.0])
    W = np.array([[[1e-3]], [[1e-2]], [[1e-1]]])
    traj = rf.Trajectory(t, W[:, :, 0], W, np.zeros(3), "euler", 0, 0, 0, 0, "")
    assert_allclose(rf.ncf.mass_time(traj, 2 * 10**-3), 1.5)  # |θ|² = 2 w²: 2e-6, 2e-4, 2e-2
    assert np.isnan(rf.ncf.mass_time(traj, 1.0))


def test_bad_input(two_point):
    data, unit, _ = two_point
    with pytest.raises(ValueError, match="mass"):
        rf.ncf.escape_clock(unit, data, "exponential", mass=0.0)
    with pytest.raises(TypeError, match="Trajectory"):
        rf.ncf.mass_time(unit)
    short = rf.gradient_flow(unit.scaled(1e-6), data, "exponential", 1.0)
    with pytest.raises(ValueError, match="never reaches"):
        rf.ncf.clock_tolerance(short, data, "exponential")
    custom = rf.losses.Loss("mine", False, lambda y, f: (f - y) ** 4, lambda y, f: -4 * (f - y) ** 3)
    run = rf.gradient_flow(unit.scaled(1e-1), rf.datasets.orthogonal([1.0, -1.0]), "square", 40.0, t_eval="log")
    with pytest.raises(ValueError, match="knows"):
        rf.ncf.clock_tolerance(run, rf.datasets.orthogonal([1.0, -1.0]), custom, mass=1e-3)
