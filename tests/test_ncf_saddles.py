"""Tests of the leading-order staircase (rf.ncf.staircase, chapter 6): closed forms of chapters 3 and
4, the stuck affine fit, the result object, drop_times, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import reluflow as rf

X1 = np.linspace(-1.0, 1.0, 8)


def five_points() -> rf.Dataset:
    angles, norms = np.array([0.2, 1.0, 2.2, 3.5, 4.6]), np.array([1.0, 1.5, 1.0, 0.8, 1.2])
    return rf.Dataset(norms[:, None] * np.c_[np.cos(angles), np.sin(angles)], [1.0, 0.5, -1.0, 0.7, -0.6])


@pytest.mark.parametrize("y", [[1.2, 0.8, -0.5, -0.3], [2.0, 1.5, 1.0, -1.0, -0.5, -0.8]])
def test_orthogonal_inputs_give_one_over_driving_norms(y):
    """Chapter 3: each class escapes at tau = 1/|D±| (the slow class grows from the start)."""
    data = rf.datasets.orthogonal(y)
    st = rf.ncf.staircase(data, "square")
    D = rf.orthogonal.class_driving_vectors(data)
    assert st.success and not st.stuck
    assert_allclose(np.sort(st.taus), np.sort(1 / np.array([np.linalg.norm(D.plus), np.linalg.norm(D.minus)])),
                    rtol=1e-9)  # fmt: skip
    assert_allclose(st.levels, rf.orthogonal.plateau_levels(data), atol=1e-9)


def test_two_point_instance_matches_chapter_4_times():
    data = rf.datasets.two_point(1.0, 0.75)
    st = rf.ncf.staircase(data, "exponential")
    pt = rf.phases.predicted_times(data, "exponential", 1e-6)
    L = np.log(1e6)
    assert_allclose(st.taus[0], pt.t1 / L, rtol=1e-9)
    # the plateau residual is (1 - p) up to the tail of the fit point (< 1e-3 relative)
    assert_allclose(st.taus[1], pt.t_escape / L, rtol=1e-3)
    assert_allclose(st.levels[1], 0.25, rtol=1e-3)
    assert [s.families[s.escaping[0]].sign for s in st.steps[:-1]] == [1.0, -1.0]


def test_zigzag_is_stuck_at_the_affine_least_squares_level():
    data = rf.orthogonal.bias_data(X1, [0.5, 0.1, -0.3, 0.2, 0.6, 0.3, -0.1, 0.4])
    st = rf.ncf.staircase(data, "square")
    coef, *_ = np.linalg.lstsq(data.X, data.y, rcond=None)
    assert st.stuck and st.status == 0
    assert_allclose(st.levels[-1], np.mean((data.X @ coef - data.y) ** 2) / 2, atol=1e-9)
    assert st.steps[-1].escaping == () and np.isinf(st.steps[-1].duration)
    assert "stuck" in st.message


def test_five_points_four_escapes_with_signs_and_head_starts():
    st = rf.ncf.staircase(five_points(), "square")
    assert len(st.taus) == 4 and np.all(np.diff(st.taus) > 0) and np.all(np.diff(st.levels) < 0)
    leaders = [s.families[s.escaping[0]] for s in st.steps[:-1]]
    assert [f.sign for f in leaders] == [1.0, -1.0, -1.0, 1.0]
    assert_allclose([f.head_start for f in leaders], [0.0, 0.3716, 0.7335, 0.2712], atol=2e-4)
    # each escape happens when its family's head start reaches 1
    for s, f in zip(st.steps[:-1], leaders, strict=True):
        assert_allclose(f.head_start + f.rate * s.duration, 1.0, rtol=1e-9)


def test_tent_negative_head_start_and_lags():
    tent = rf.orthogonal.bias_data(X1, 0.8 - 1.6 * np.abs(X1))
    st = rf.ncf.staircase(tent, "square")
    first, second = st.steps[0], st.steps[1]
    assert len(first.escaping) == 2  # the two symmetric kinks tie
    assert second.families[second.escaping[0]].head_start < 0  # the positive family shrank first
    assert_allclose(st.lags[0], 1 - 0.1143 / 0.1212, atol=2e-3)
    assert np.isinf(st.lags[-1])


def test_times_and_loss_curve():
    st = rf.ncf.staircase(rf.datasets.orthogonal([1.2, 0.8, -0.5, -0.3]), "square")
    T = st.times(1e-6)
    assert_allclose(T, st.taus * np.log(1e6))
    curve = st.loss_curve([0.0, T[0] - 1e-9, T[0] + 1e-9, T[1] + 1.0], 1e-6)
    assert_allclose(curve, st.levels[[0, 0, 1, 2]])
    with pytest.raises(ValueError, match="scale"):
        st.times(2.0)


def test_classification_ends_when_every_point_is_fit():
    st = rf.ncf.staircase(rf.datasets.two_point(2.5, 0.75), "logistic")
    assert st.success and not st.stuck
    assert np.all(st.steps[-1].net(rf.datasets.two_point(2.5, 0.75).X) * np.array([1, -1]) > 0)


def test_bad_input():
    data = rf.datasets.orthogonal([1.0, -1.0])
    with pytest.raises(TypeError, match="Dataset"):
        rf.ncf.staircase(data.X, "square")
    with pytest.raises(ValueError, match="labels"):
        rf.ncf.staircase(rf.Dataset(data.X, [2.0, -1.0]), "logistic")
    with pytest.raises(ValueError, match="delta"):
        rf.ncf.staircase(data, "square", delta=0.0)
    with pytest.raises(ValueError, match="max_steps"):
        rf.ncf.staircase(data, "square", max_steps=0)


def test_max_steps_is_reported():
    with pytest.warns(RuntimeWarning, match="max_steps"):
        st = rf.ncf.staircase(five_points(), "square", max_steps=2)
    assert st.status == 1 and not st.success and len(st.taus) == 2


def _traj(t, loss):
    k = len(t)
    return rf.Trajectory(np.asarray(t, float), np.zeros((k, 1)), np.zeros((k, 1, 1)), np.asarray(loss, float),
                         "euler", 0, 0, 0, 0, "")  # fmt: skip


def test_drop_times_interpolate_the_midpoints():
    traj = _traj([0.0, 1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 0.5, 0.5, 0.0])
    assert_allclose(rf.ncf.drop_times(traj, [1.0, 0.5, 0.0]), [1.5, 3.5])
    assert np.isnan(rf.ncf.drop_times(traj, [1.0, 0.5, -1.0])[1])  # never below -0.5
    with pytest.raises(ValueError, match="two levels"):
        rf.ncf.drop_times(traj, [1.0])
    with pytest.raises(TypeError, match="Trajectory"):
        rf.ncf.drop_times(np.zeros(3), [1.0, 0.0])


def test_drop_times_of_a_real_run_follow_the_staircase():
    data = rf.datasets.orthogonal([1.2, 0.8, -0.5, -0.3])
    st = rf.ncf.staircase(data, "square")
    T = [rf.ncf.drop_times(rf.gradient_flow(rf.small_init(30, 4, eps, seed=0), data, "square",
                                            1.3 * st.times(eps)[-1], t_eval="log"), st.levels) for eps in (1e-4, 1e-8)]  # fmt: skip
    slope = (T[1] - T[0]) / np.log(1e4)
    assert_allclose(slope, st.taus, rtol=0.03)
