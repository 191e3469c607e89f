"""Tests of the exponential midpoint integrator (reluflow.flow._exponential): exactness for
constant residuals, invariants, agreement with ``adaptive``, sliding, failures."""

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from flowcases import BALANCE_CASES, BALANCE_IDS, closed_form, rel_err, separable, two_point
from numpy.testing import assert_allclose

import reluflow as rf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import solver as bench_solver  # noqa: E402  (the benchmark problems P1, P2)


def integrate(net0, data, loss, t_end, **kw):
    """The exponential method through the driver, as the tests of this file use it."""
    return rf.gradient_flow(net0, data, loss, t_end, method="exponential", **kw)


# ------------------------------------------------------------- exact for constant residuals
def test_closed_form_inside_a_fixed_pattern_is_exact():
    X = np.array([[1.0, 0.2], [0.3, 1.0]])
    data = rf.Dataset(X, [1.0, 0.5])
    a0, w0 = 0.1, np.array([0.05, 0.08])
    t = np.linspace(0, 3, 31)
    traj = integrate(rf.Network([a0], [w0]), data, "linear", 3.0, t_eval=t, rtol=1e-2)
    a, W = closed_form(a0, w0, (data.weights * data.y) @ X, t)
    assert traj.success and traj.switches.size == 0 and traj.method == "exponential"
    assert traj.nrejected == 0 and traj.nsteps <= 6  # constant residuals: the error estimate is 0
    assert_allclose(traj.a[:, 0], a, rtol=1e-13)
    assert_allclose(traj.W[:, 0], W, rtol=1e-13)


def test_exit_time_matches_the_analytic_crossing():
    # One neuron, linear loss: <w, x_2> decreases through 0 and the point switches off
    # at the root of the symbolic quadratic (rf.symbolic.exit_time); afterwards the neuron
    # follows the closed form with x_2 removed from D.
    X = np.array([[1.0, 0.0], [-0.3, 1.0]])  # <x_1, x_2> < 0: off, not sliding
    data = rf.Dataset(X, [1.0, -1.0], weights=[0.5, 0.5])
    a0, w0 = 0.5, np.array([0.3, 0.2])
    D = 0.5 * (X[0] - X[1])
    t_star = rf.symbolic.exit_time(a0, w0, D, X[1])
    assert 0 < t_star < 5
    t = np.linspace(0.0, t_star + 1.5, 23)
    traj = integrate(rf.Network([a0], [w0]), data, "linear", t[-1], t_eval=t, rtol=1e-2)
    sw = traj.switches
    assert traj.success and sw.size == 1
    assert (sw[0]["neuron"], sw[0]["point"], sw[0]["kind"]) == (0, 1, "off")
    assert abs(sw[0]["t"] - t_star) <= 1e-13 * t_star
    before = t < t_star
    a, W = closed_form(a0, w0, D, t[before])
    assert_allclose(traj.a[before, 0], a, rtol=1e-13)
    assert_allclose(traj.W[before, 0], W, rtol=1e-13, atol=1e-15)
    a_s, w_s = closed_form(a0, w0, D, t_star)
    a, W = closed_form(a_s, w_s, 0.5 * X[0], t[~before] - t_star)
    assert_allclose(traj.a[~before, 0], a, rtol=1e-12)
    assert_allclose(traj.W[~before, 0], W, rtol=1e-12, atol=1e-14)


def test_sliding_matches_the_analytic_solution():
    # <w, x_2> reaches 0 at t*, both one-sided fields then push into the face, and the
    # neuron slides with D projected onto x_2-perp; with constant residuals this is exact.
    X = np.array([[1.0, 0.0], [0.2, 1.0]])
    data = rf.Dataset(X, [1.0, -1.0])
    a0, w0 = 0.5, np.array([0.4, 0.3])
    D = 0.5 * (X[0] - X[1])
    t_star = rf.symbolic.exit_time(a0, w0, D, X[1])
    t = np.linspace(0, t_star + 2.0, 41)
    traj = integrate(rf.Network([a0], [w0]), data, "linear", t[-1], t_eval=t, rtol=1e-2)
    sw = traj.switches
    assert sw.size == 1 and (sw[0]["neuron"], sw[0]["point"], sw[0]["kind"]) == (0, 1, "slide")
    assert abs(sw[0]["t"] - t_star) <= 1e-13 * t_star
    a_s, w_s = closed_form(a0, w0, D, t_star)
    D_face = 0.5 * X[0] - (0.5 * X[0] @ X[1]) / (X[1] @ X[1]) * X[1]
    after = t > t_star
    a, W = closed_form(a_s, w_s, D_face, t[after] - t_star)
    assert_allclose(traj.a[after, 0], a, rtol=1e-12)
    assert_allclose(traj.W[after, 0], W, rtol=1e-12, atol=1e-14)
    assert np.abs(traj.W[after, 0] @ X[1]).max() < 1e-15
    assert traj.sliding_at_end == 1 and traj.sliding_time == pytest.approx(t[-1] - t_star, rel=1e-12)


def test_several_faces_of_one_neuron_match_adaptive():
    # Linear loss, several neurons sliding on two faces at once: exact up to round-off,
    # so it agrees with adaptive at rtol 1e-11 to its accuracy, switch by switch.
    rng = np.random.default_rng(5)
    data = rf.Dataset(rng.standard_normal((5, 3)), rng.choice([-1.0, 1.0], 5) * rng.uniform(0.5, 1.5, 5))
    net0 = rf.small_init(8, 3, 1e-2, seed=5)
    ref = rf.gradient_flow(net0, data, "linear", 6.0, rtol=1e-11)
    traj = integrate(net0, data, "linear", 6.0, rtol=1e-3)
    assert traj.success and traj.nfev < 20
    assert rel_err(traj.final.flat(), ref.final.flat()) < 1e-9
    iv = traj.sliding_intervals()
    assert any(j == j2 and i < i2 and min(b, b2) > max(a, a2) for j, i, a, b in iv for j2, i2, a2, b2 in iv)
    assert traj.switches.size == ref.switches.size
    for s, r in zip(traj.switches, ref.switches, strict=True):
        assert (s["neuron"], s["point"], s["kind"]) == (r["neuron"], r["point"], r["kind"])
        assert abs(s["t"] - r["t"]) < 1e-8


# ------------------------------------------------------------- invariants
@pytest.mark.parametrize("data, loss, m, scale, t_end", BALANCE_CASES, ids=BALANCE_IDS)
def test_balancedness_is_conserved(data, loss, m, scale, t_end):
    net0 = rf.small_init(m, data.d, scale, seed=1, balanced=False)
    traj = integrate(net0, data, loss, t_end, rtol=1e-4)
    assert traj.success
    drift = np.abs(traj.balancedness() - traj.balancedness()[0])
    norm = traj.a**2 + np.sum(traj.W**2, axis=2)
    assert np.all(drift <= 1e-9 * norm + 1e-300)


def test_snapshots_and_loss():
    data = separable(10)
    traj = integrate(rf.small_init(6, 3, 1e-2, seed=0), data, "logistic", 50.0, t_eval="log")
    assert_allclose(traj.t, rf.log_times(50.0))
    for k in (0, len(traj) // 2, -1):
        assert traj.loss[k] == pytest.approx(rf.loss_and_grad(traj.net(k), data, "logistic")[0])
    ref = rf.gradient_flow(rf.small_init(6, 3, 1e-2, seed=0), data, "logistic", 50.0, t_eval="log", rtol=1e-10)
    scale = np.abs(ref.a).max()
    assert np.abs(traj.a - ref.a).max() < 1e-2 * scale  # dense output between steps


# ------------------------------------------------------------- agreement with adaptive
def test_p1_agrees_with_adaptive_at_tight_tolerance():
    p = bench_solver.problem_p1()
    ref = rf.gradient_flow(p.net0, p.data, p.loss, p.t_end, rtol=1e-10, t_eval=[p.t_end])
    traj = integrate(p.net0, p.data, p.loss, p.t_end, rtol=1e-6, t_eval=[p.t_end])
    assert traj.success
    assert rel_err(traj.final.flat(), ref.final.flat()) < 1e-5
    assert traj.event_groups == ref.switches.size  # 51 single-pair switches, no sliding


def test_p2_reaches_1e_3_with_few_evaluations():
    p = bench_solver.problem_p2()
    ref = rf.gradient_flow(p.net0, p.data, p.loss, p.t_end, rtol=1e-10, t_eval=[p.t_end])
    errs = []
    for rtol in (1e-3, 1e-5):
        traj = integrate(p.net0, p.data, p.loss, p.t_end, rtol=rtol, t_eval=[p.t_end])
        assert traj.success and traj.sliding_entries > 0 and traj.info["nresync"] == 0
        errs.append(rel_err(traj.final.flat(), ref.final.flat()))
        if rtol == 1e-3:
            assert traj.nfev <= 1_000 and errs[-1] < 1e-3  # target T2: <= 1,904 evaluations
    assert errs[1] < errs[0] / 2


def test_sliding_solution_of_the_two_point_instance():
    data, net0 = two_point(), rf.small_init(20, 2, 1e-2, seed=0)
    ref = rf.gradient_flow(net0, data, "exponential", 12.0, rtol=1e-10)
    errs = []
    for rtol in (1e-4, 1e-6):
        traj = integrate(net0, data, "exponential", 12.0, rtol=rtol)
        assert traj.success and traj.sliding_entries == ref.sliding_entries > 0
        errs.append(rel_err(traj.final.flat(), ref.final.flat()))
    assert errs[1] < 1e-4 and errs[1] < errs[0] / 5  # second order: ~ rtol^(2/3)


def test_release_from_sliding_inside_a_step():
    # A neuron slides on face 0 towards w = 0, is released 1.4e-3 time units before it
    # reaches face 1 (t ~ 8.65), then slides on face 1 and grows much later. Releasing at
    # the next step boundary instead would snap it onto both faces, i.e. to w = 0, and
    # change the final state by ~10%: a release predicted inside a step is cut for when the
    # neuron has an event after it in the same step. (Other releases wait for the next step
    # boundary, so release times are only accurate to a step: O(h^2) in the state.)
    rng = np.random.default_rng(54)
    n, d = rng.integers(2, 8), rng.integers(2, 4)
    X, y = rng.standard_normal((n, d)), rng.choice([-1.0, 1.0], n)
    data = rf.Dataset(X, y)
    net0 = rf.small_init(20, d, 10 ** rng.uniform(-6, -1), seed=54, balanced=False)
    ref = rf.gradient_flow(net0, data, "logistic", 200.0, rtol=1e-10)
    traj = integrate(net0, data, "logistic", 200.0, rtol=1e-6)
    assert traj.success and traj.info["nreleasecuts"] > 0
    assert rel_err(traj.final.flat(), ref.final.flat()) < 1e-4
    kinds = [(int(s["neuron"]), int(s["point"]), str(s["kind"])) for s in traj.switches]
    assert kinds == [(int(s["neuron"]), int(s["point"]), str(s["kind"])) for s in ref.switches]
    assert_allclose(traj.switches["t"], ref.switches["t"], rtol=1e-2)


def test_steps_grow_on_a_long_logistic_horizon():
    traj = integrate(rf.small_init(20, 3, 1e-5, seed=3), separable(), "logistic", 1e6, rtol=1e-3)
    assert traj.success and traj.nsteps < 400 and traj.loss[-1] < 1e-5
    assert traj.nfev <= 2 * (traj.nsteps + traj.nrejected) + 1


def test_stats_counters():
    traj = integrate(rf.small_init(10, 3, 1e-3, seed=0), separable(), "logistic", 100.0)
    info = traj.info
    assert info["nevents"] == traj.event_groups > 0
    # two propagations per attempted step (predictor, step); the error estimate costs none
    assert info["nevents_total"] >= info["nevents"] and info["npropagations"] >= 2 * traj.nsteps


# ------------------------------------------------------------- failures and bad input
def test_overflow_is_reported_not_hidden():
    net0 = rf.small_init(5, 3, 30.0, seed=0)
    with pytest.warns(RuntimeWarning, match="t = 0"):
        traj = integrate(net0, separable(), "exponential", 10.0)
    assert traj.status == -1 and "t = 0" in traj.message and "not finite" in traj.message


def test_max_steps_stops_with_status_1():
    with pytest.warns(RuntimeWarning, match="max_steps"):
        traj = integrate(rf.small_init(5, 3, 1e-3), separable(), "logistic", 1e3, max_steps=3)
    assert traj.status == 1 and traj.nsteps == 3


def test_no_warnings_on_a_clean_run():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = integrate(rf.small_init(10, 3, 1e-6, seed=2), separable(), "logistic", 1e3)
    assert traj.success


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(t_end=-1.0), "t_end"),
        (dict(t_eval="linear"), "t_eval"),
        (dict(t_eval=[0.0, 20.0]), "t_eval"),
        (dict(rtol=0.0), "rtol"),
        (dict(atol=-1.0), "atol"),
        (dict(max_steps=0), "max_steps"),
        (dict(loss="hinge"), "unknown loss"),
        (dict(data=rf.Dataset(np.eye(2), [1.0, 0.5]), loss="logistic"), r"\{-1, \+1\}"),
        (dict(data=rf.Dataset(np.eye(3), [1.0, 1.0, -1.0])), "with_bias|dimension|match"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    args = dict(
        net0=rf.small_init(3, 2, 0.1), data=rf.Dataset(np.eye(2), [1.0, -1.0]), loss="square", t_end=10.0
    )
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        integrate(args.pop("net0"), args.pop("data"), args.pop("loss"), args.pop("t_end"), **args)


# ------------------------------------------------------------- through rf.gradient_flow
def test_gradient_flow_method_exponential_matches_adaptive():
    data = separable(12, seed=3)
    net0 = rf.small_init(10, 3, 1e-4, seed=2)
    ref = rf.gradient_flow(net0, data, "logistic", 50.0, rtol=1e-10)
    tr = rf.gradient_flow(net0, data, "logistic", 50.0, method="exponential", rtol=1e-6, t_eval="log")
    assert tr.success and tr.method == "exponential"
    err = np.linalg.norm(tr.final.flat() - ref.final.flat()) / np.linalg.norm(ref.final.flat())
    assert err < 30 * 1e-6 ** (2 / 3)  # global error ~ rtol^(2/3) for this order-2 method
    assert tr.t[0] == 0.0 and tr.t[-1] == 50.0


def test_gradient_flow_exponential_default_rtol_is_moderate():
    data = separable(12, seed=3)
    net0 = rf.small_init(10, 3, 1e-4, seed=2)
    loose = rf.gradient_flow(net0, data, "logistic", 50.0, method="exponential")
    tight = rf.gradient_flow(net0, data, "logistic", 50.0, method="exponential", rtol=1e-8)
    assert loose.nfev < tight.nfev


def test_gradient_flow_unknown_method_names_the_choices():
    data = separable(6)
    with pytest.raises(ValueError, match="'auto', 'adaptive', 'exponential' or 'euler'"):
        rf.gradient_flow(rf.small_init(3, 3, 1e-3), data, "logistic", 1.0, method="rk4")


def test_rates_below_the_tie_tolerance_do_not_chatter():
    # exponential loss, 13 points in 3-D, width 20: some residuals are large, so the face
    # problem's tie tolerance exceeded the rates of a few pairs, which then crossed their
    # band back and forth in ~1e-9 steps (minutes of work; now stopped by the chattering
    # guard if it came back). A second crossing in one propagation is decided by the signs.
    rng = np.random.default_rng(1083)
    n, d = int(rng.integers(5, 21)), int(rng.integers(2, 6))
    X = rng.standard_normal((n, d))
    data = rf.Dataset(X, rng.choice([-1.0, 1.0], n))
    net0 = rf.small_init(20, d, 10 ** rng.uniform(-6, -1), seed=83, balanced=True)
    ref = rf.gradient_flow(net0, data, "exponential", 100.0, rtol=1e-10)
    errs = []
    for rtol in (1e-3, 1e-5):
        traj = integrate(net0, data, "exponential", 100.0, rtol=rtol)
        assert traj.success, traj.message
        errs.append(rel_err(traj.final.flat(), ref.final.flat()))
    assert errs[0] < 3e-3 and errs[1] < errs[0] / 3



def test_sliding_face_whose_residual_underflows_is_released():
    # two points, logistic loss, init 1e-8: the predictor of a long plateau step overshoots
    # to margins whose logistic residuals underflow to exactly 0 while neurons slide on the
    # faces; the kernel divided by rho_f to get their multipliers (ZeroDivisionError). A face
    # with rho_f = 0 cannot hold a neuron (its on and off rates agree): it is released.
    data = rf.Dataset([[1.0, 0.0], [0.6, 0.8]], [1.0, -1.0])
    net0 = rf.small_init(4, 2, 1e-8, seed=1)
    traj = integrate(net0, data, "logistic", 200.0)
    ref = rf.gradient_flow(net0, data, "logistic", 200.0, rtol=1e-10)
    assert traj.success, traj.message
    assert rel_err(traj.final.flat(), ref.final.flat()) < 1e-3


def test_a_crossing_is_not_delayed_by_the_residuals_of_the_crossed_predictor():
    # 7 points (x, 1) on [-1, 1], square loss, width 7: neuron 5 crosses point 2 at t ~ 716.5
    # at the rate -1.6e-4, after which it moves 100x faster and the residuals change fast.
    # The predictor over h/2 crossed, under its midpoint residuals the step itself turned
    # back before the boundary, and such steps were accepted (the error estimate does not
    # see events) three times: the crossing came 2.1 time units late and the final state
    # was off by 4e-3. A step whose predictor crosses a boundary that the step turns back
    # from is now retried with a predictor that ends at the crossing.
    rng = np.random.default_rng(1272)
    n, m = int(rng.integers(3, 9)), int(rng.integers(2, 12))
    rng.integers(0, 2)
    x = rng.uniform(-1, 1, n)
    data = rf.Dataset(np.c_[x, np.ones(n)], rng.uniform(-1, 1, n))
    net0 = rf.small_init(m, 2, 10 ** rng.uniform(-4, -1), seed=1272)
    t_end = float(10 ** rng.uniform(1.5, 3))
    ref = rf.gradient_flow(net0, data, "square", t_end, rtol=1e-10)
    traj = integrate(net0, data, "square", t_end, rtol=1e-4)
    assert traj.success and traj.info["ncrossingcuts"] > 0
    assert rel_err(traj.final.flat(), ref.final.flat()) < 1e-3
    kinds = [(int(s["neuron"]), int(s["point"]), str(s["kind"])) for s in traj.switches]
    assert kinds == [(int(s["neuron"]), int(s["point"]), str(s["kind"])) for s in ref.switches]
    k = kinds.index((5, 2, "off"))
    assert abs(traj.switches["t"][k] - ref.switches["t"][k]) < 0.2


# ------------------------------------------------------------- speed paths change nothing
def test_skipping_neurons_far_from_their_faces_changes_nothing(monkeypatch):
    # the per-neuron distance bound only skips work: without it, the same run bit for bit
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import scaleprobs

    from reluflow.flow._frozen import _Engine

    p = scaleprobs.stewart(60)
    fast = integrate(p.net0, p.data, p.loss, 300.0)
    plain = _Engine.propagate
    monkeypatch.setattr(_Engine, "propagate", lambda self, *args: plain(self, *args[:7]))  # (no gap)
    ref = integrate(p.net0, p.data, p.loss, 300.0)
    assert fast.success and (fast.nfev, fast.nsteps) == (ref.nfev, ref.nsteps)
    assert np.array_equal(fast.final.flat(), ref.final.flat())


def test_closed_form_coefficients_are_accurate_in_every_regime():
    from reluflow.flow import _kernels

    rng = np.random.default_rng(5)
    for x in np.concatenate([[0.0, 1e-12, 9.99e-4, 1.001e-3, 0.5, 3.0, 299.0, 301.0], rng.uniform(0, 40, 20)]):
        delta, a0, p0 = 0.7, float(rng.standard_normal()), float(rng.standard_normal())
        t = x / delta
        a, A = _kernels._aA(a0, p0, delta, t)
        # reference: the textbook forms (accurate away from x = 0) or the series near it
        if x > 1e-2:
            a_ref = a0 * np.cosh(x) + p0 * np.sinh(x) / delta
            A_ref = a0 * np.sinh(x) / delta + p0 * (np.cosh(x) - 1.0) / delta**2
        else:
            a_ref = a0 * (1 + x**2 / 2 + x**4 / 24) + p0 * t * (1 + x**2 / 6 + x**4 / 120)
            A_ref = a0 * t * (1 + x**2 / 6 + x**4 / 120) + p0 * t**2 * (0.5 + x**2 / 24 + x**4 / 720)
        scale_a = abs(a0 * np.cosh(x)) + abs(p0 * np.sinh(x) / delta) + abs(p0 * t)
        scale_A = abs(a0 * np.sinh(x) / delta) + abs(a0 * t) + abs(p0) * t**2 * np.cosh(x)
        assert abs(a - a_ref) <= 1e-13 * scale_a and abs(A - A_ref) <= 1e-13 * scale_A, x
