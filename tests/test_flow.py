"""Tests of rf.gradient_flow: exact solutions, switches, sliding, invariants, failures."""

import warnings

import numpy as np
import pytest
from flowcases import BALANCE_CASES, BALANCE_IDS, closed_form, rel_err, separable, two_point
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy.optimize import brentq

import reluflow as rf


# ------------------------------------------------------------- exact solutions
def test_closed_form_inside_a_fixed_pattern():
    # Linear loss: residuals are constant, so inside a fixed pattern the flow is linear.
    X = np.array([[1.0, 0.2], [0.3, 1.0]])
    data = rf.Dataset(X, [1.0, 0.5])
    a0, w0 = 0.1, np.array([0.05, 0.08])  # active on both points, which stay active
    t = np.linspace(0, 3, 31)
    traj = rf.gradient_flow(rf.Network([a0], [w0]), data, "linear", 3.0, t_eval=t, rtol=1e-11)
    D = (data.weights * data.y) @ X
    a, W = closed_form(a0, w0, D, t)
    assert traj.success and traj.switches.size == 0
    assert_allclose(traj.a[:, 0], a, rtol=1e-8)
    assert_allclose(traj.W[:, 0], W, rtol=1e-8)


def test_switch_time_and_sliding_match_the_analytic_solution():
    # x_1 keeps the neuron growing while rho_2 < 0 drives <w, x_2> to 0 at a time t*.
    # After t* the off-side field pushes back (<x_1, x_2> > 0): the pair slides, and on
    # the face the neuron follows the closed form with D projected onto x_2-perp.
    X = np.array([[1.0, 0.0], [0.2, 1.0]])
    data = rf.Dataset(X, [1.0, -1.0])
    a0, w0 = 0.5, np.array([0.4, 0.3])
    D = 0.5 * (X[0] - X[1])
    t_star = brentq(lambda s: closed_form(a0, w0, D, s)[1] @ X[1], 1e-6, 20.0, xtol=1e-14)
    t = np.linspace(0, t_star + 2.0, 41)
    traj = rf.gradient_flow(rf.Network([a0], [w0]), data, "linear", t[-1], t_eval=t, rtol=1e-11)
    sw = traj.switches
    assert sw.size == 1 and sw[0]["neuron"] == 0 and sw[0]["point"] == 1 and sw[0]["kind"] == "slide"
    assert abs(sw[0]["t"] - t_star) < 1e-8 * t_star
    before = t < t_star
    a, W = closed_form(a0, w0, D, t[before])
    assert_allclose(traj.a[before, 0], a, rtol=1e-8)
    a_s, w_s = closed_form(a0, w0, D, t_star)
    D_face = 0.5 * X[0] - (0.5 * X[0] @ X[1]) / (X[1] @ X[1]) * X[1]
    a, W = closed_form(a_s, w_s, D_face, t[~before] - t_star)
    assert_allclose(traj.a[~before, 0], a, rtol=1e-7)
    assert_allclose(traj.W[~before, 0], W, rtol=1e-7, atol=1e-10)
    assert traj.sliding_at_end == 1 and traj.sliding_time == pytest.approx(t[-1] - t_star)


# ------------------------------------------------------------- invariants
@pytest.mark.parametrize("data, loss, m, scale, t_end", BALANCE_CASES, ids=BALANCE_IDS)
def test_balancedness_is_conserved(data, loss, m, scale, t_end):
    net0 = rf.small_init(m, data.d, scale, seed=1, balanced=False)
    traj = rf.gradient_flow(net0, data, loss, t_end, rtol=1e-9)
    assert traj.success
    drift = np.abs(traj.balancedness() - traj.balancedness()[0]).max()
    assert drift <= 1e-9 * traj.norm_sq().max()


def test_snapshot_loss_matches_loss_and_grad():
    data = separable(10)
    traj = rf.gradient_flow(rf.small_init(6, 3, 1e-2, seed=0), data, "logistic", 50.0, t_eval="log")
    for k in (0, len(traj) // 2, -1):
        assert traj.loss[k] == pytest.approx(rf.loss_and_grad(traj.net(k), data, "logistic")[0])


# ------------------------------------------------------------- sliding
def gd_gaps(net0, data, loss, t_end, steps, ref):
    return [
        rel_err(rf.gradient_flow(net0, data, loss, t_end, method="euler", step=h).final.flat(), ref)
        for h in steps
    ]


def test_gradient_descent_converges_to_the_sliding_solution():
    data, net0 = two_point(), rf.small_init(20, 2, 1e-2, seed=0)
    traj = rf.gradient_flow(net0, data, "exponential", 12.0, rtol=1e-10)
    assert traj.success and traj.sliding_entries > 0
    gaps = gd_gaps(net0, data, "exponential", 12.0, [1e-2, 1e-3], traj.final.flat())
    assert gaps[1] < gaps[0] / 5  # first order: the gap shrinks ~10x per 10x smaller step
    assert gaps[1] < 5e-4


def test_several_faces_of_one_neuron():
    rng = np.random.default_rng(5)
    data = rf.Dataset(rng.standard_normal((5, 3)), rng.choice([-1.0, 1.0], 5) * rng.uniform(0.5, 1.5, 5))
    net0 = rf.small_init(8, 3, 1e-2, seed=5)
    traj = rf.gradient_flow(net0, data, "linear", 6.0, rtol=1e-11)
    iv = traj.sliding_intervals()
    overlap = any(
        j == j2 and i < i2 and min(b, b2) - max(a, a2) > 0.05 for j, i, a, b in iv for j2, i2, a2, b2 in iv
    )
    assert traj.success and overlap
    gaps = gd_gaps(net0, data, "linear", 6.0, [1e-2, 1e-3], traj.final.flat())
    assert gaps[1] < gaps[0] / 5 and gaps[1] < 5e-3


def tangential_release_case():
    """Square loss, 7 points in 3-D, width 8: at t = 25.5727 two neurons leave the two
    faces they slide on while the residual of one face's point is nearly zero, so the
    off and on fields almost coincide there and the release is tangent to the face."""
    rng = np.random.default_rng(13)
    n, d = rng.integers(2, 8), rng.integers(2, 4)
    X = rng.standard_normal((n, d))
    data = rf.Dataset(X, rng.standard_normal(n))
    net0 = rf.small_init(8, d, 10 ** rng.uniform(-6, -1), seed=13, balanced=True)
    return net0, data, 30.0


def test_tangential_release_does_not_stall():
    # this case used to stall ("200 activation events without progress"): a pair kept
    # its state at every landing and re-crossed at once; the tie-break of a stalled landing
    # gives it the other side
    net0, data, t_end = tangential_release_case()
    ref = rf.gradient_flow(net0, data, "square", t_end, rtol=1e-12)
    assert ref.success
    kinds = {(int(s["neuron"]), int(s["point"])): s["kind"] for s in ref.switches if 25.57 < s["t"] < 25.58}
    assert len(kinds) >= 2  # the release itself
    errs = []
    for rtol in (1e-6, 1e-8, 1e-10):
        traj = rf.gradient_flow(net0, data, "square", t_end, rtol=rtol)
        assert traj.success, traj.message
        errs.append(rel_err(traj.final.flat(), ref.final.flat()))
    assert errs[0] < 1e-4 and errs[1] < errs[0] / 10 and errs[2] < errs[1] / 10
    expo = rf.gradient_flow(net0, data, "square", t_end, method="exponential", rtol=1e-5)
    assert expo.success and rel_err(expo.final.flat(), ref.final.flat()) < 1e-3


def test_tie_break_takes_only_states_that_solve_the_face_problem():
    from reluflow.flow._landing import FaceEvents

    tie = FaceEvents._tie_break  # (q, M, sign, tol, old state) -> new state
    tol = 1e-9
    # off pair at a tie (q ~ 0): on if the on-side field leaves the face, else slide
    assert tie(0.5 * tol, 1.0, 1.0, tol, 0) == 1
    assert tie(0.5 * tol, -1.0, 1.0, tol, 0) == 2  # alpha = -q/M = tol/2 in (0, 1)
    # on pair whose alternatives are both invalid (off needs s q <= tol; slide needs
    # alpha = -q/M in (0, 1), here -1): it keeps its state
    assert tie(1.0, 1.0, 1.0, tol, 1) == 1
    # the sign of a_j flips every rate
    assert tie(-0.5 * tol, -1.0, -1.0, tol, 0) == 1


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 5), d=st.integers(2, 3))
def test_random_problems_match_small_step_gradient_descent(seed, n, d):
    rng = np.random.default_rng(seed)
    data = rf.Dataset(rng.standard_normal((n, d)), rng.standard_normal(n))
    net0 = rf.small_init(6, d, 0.1, seed=seed)
    traj = rf.gradient_flow(net0, data, "linear", 3.0, rtol=1e-10)
    assert traj.success
    gd = rf.gradient_flow(net0, data, "linear", 3.0, method="euler", step=2e-4)
    assert rel_err(gd.final.flat(), traj.final.flat()) < 1e-2


# ------------------------------------------------------------- horizons and scales
def test_log_horizon_step_size_grows():
    traj = rf.gradient_flow(rf.small_init(20, 3, 1e-5, seed=3), separable(), "logistic", 1e6, rtol=1e-8)
    assert traj.success and traj.nsteps < 1000 and traj.loss[-1] < 1e-5


def test_tiny_init_plateau_then_escape():
    data = rf.Dataset(np.eye(3), [1.0, 1.0, -1.0])
    traj = rf.gradient_flow(rf.small_init(20, 3, 1e-12, seed=0), data, "square", 150.0, t_eval="log")
    L0 = 0.5 * np.mean(data.y**2)
    assert traj.success
    assert traj.loss[traj.t < 10].max() == pytest.approx(L0, rel=1e-6)
    assert traj.loss[-1] < 1e-8


def test_euler_snapshots_interpolate_and_count_steps():
    data = rf.Dataset(np.eye(2), [1.0, -1.0])
    net0 = rf.small_init(4, 2, 0.1, seed=0)
    traj = rf.gradient_flow(net0, data, "square", 1.0, method="euler", step=0.1, t_eval=[0.0, 0.25, 1.0])
    assert_allclose(traj.t, [0.0, 0.25, 1.0])
    assert traj.nfev == 10
    log = rf.gradient_flow(net0, data, "square", 10.0, method="euler", step=lambda t: 0.01 * max(t, 1))
    assert log.success and log.nfev < 400


# ------------------------------------------------------------- failures and bad input
def test_overflow_is_reported_not_hidden():
    net0 = rf.small_init(5, 3, 30.0, seed=0)
    with pytest.warns(RuntimeWarning, match="t = 0"):
        traj = rf.gradient_flow(net0, separable(), "exponential", 10.0)
    assert traj.status == -1 and not traj.success and "t = 0" in traj.message


@pytest.mark.parametrize("method", ["adaptive", "exponential"])
def test_exponential_growth_to_overflow_is_reported(method):
    # the linear loss grows the weights like e^{lambda t}: the outputs overflow float64
    data = rf.Dataset(np.eye(2), [1.0, 1.0])
    with pytest.warns(RuntimeWarning, match="overflow"):
        traj = rf.gradient_flow(rf.small_init(4, 2, 1.0, seed=0), data, "linear", 2000.0, method=method)
    assert traj.status == -1 and "max |theta|" in traj.message and "overflow" in traj.message
    assert traj.t[-1] < 2000.0 and np.all(np.isfinite(traj.final.flat()))


def test_max_steps_stops_with_status_1():
    with pytest.warns(RuntimeWarning, match="max_steps"):
        traj = rf.gradient_flow(rf.small_init(5, 3, 1e-3), separable(), "logistic", 1e3, max_steps=5)
    assert traj.status == 1 and traj.nsteps == 5


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(t_end=-1.0), "t_end"),
        (dict(method="rk4"), "method"),
        (dict(method="euler"), "step"),
        (dict(t_eval="linear"), "t_eval"),
        (dict(t_eval=[0.0, 20.0]), "t_eval"),
        (dict(rtol=0.0), "rtol"),
        (dict(loss="hinge"), "unknown loss"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    args = dict(
        net0=rf.small_init(3, 2, 0.1), data=rf.Dataset(np.eye(2), [1.0, -1.0]), loss="square", t_end=10.0
    )
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        rf.gradient_flow(args.pop("net0"), args.pop("data"), args.pop("loss"), args.pop("t_end"), **args)


def test_bad_data_raise():
    net0 = rf.small_init(3, 2, 0.1)
    with pytest.raises(ValueError, match=r"\{-1, \+1\}"):
        rf.gradient_flow(net0, rf.Dataset(np.eye(2), [1.0, 0.5]), "logistic", 1.0)
    with pytest.raises(ValueError, match="with_bias"):
        rf.gradient_flow(net0, rf.Dataset(np.eye(3), [1.0, 1.0, -1.0]), "square", 1.0)
    with pytest.raises(ValueError, match="scale"):
        rf.small_init(3, 2, 0.0)


def test_no_warnings_on_a_clean_run():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = rf.gradient_flow(rf.small_init(10, 3, 1e-6, seed=2), separable(), "logistic", 1e3)
    assert traj.success
