"""Tests of the driver of rf.gradient_flow: the outer rate, method="auto", the progress bar
and the one-time notice of a long run."""

import warnings

import numpy as np
import pytest
from flowcases import rel_err, separable, two_point
from numpy.testing import assert_allclose

import reluflow as rf
from reluflow.flow import driver

METHODS = [("adaptive", dict(rtol=1e-9)), ("exponential", dict(rtol=1e-4)), ("euler", dict(step=0.01))]


def square_case(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((6, 3))
    return rf.Dataset(X, rng.standard_normal(6)), rf.small_init(8, 3, 0.1, seed=seed, balanced=False)


# ------------------------------------------------------------- outer_rate
@pytest.mark.parametrize("method, kw", METHODS, ids=[m for m, _ in METHODS])
def test_outer_rate_one_is_the_default_bit_for_bit(method, kw):
    data, net0 = square_case()
    plain = rf.gradient_flow(net0, data, "square", 5.0, method=method, t_eval="log", **kw)
    one = rf.gradient_flow(net0, data, "square", 5.0, method=method, t_eval="log", outer_rate=1.0, **kw)
    assert np.array_equal(plain.a, one.a) and np.array_equal(plain.W, one.W) and plain.nfev == one.nfev


@pytest.mark.parametrize("method, kw", METHODS, ids=[m for m, _ in METHODS])
@pytest.mark.parametrize("c", [0.04, 3.0])
def test_outer_rate_is_the_standard_flow_after_substitution(method, kw, c):
    # adot = c sum rho sigma, wdot = a D: with a~ = a / sqrt(c) and rho~ = sqrt(c) rho it is
    # the standard field. For the square loss rho~ = sqrt(c) w_i (y_i - sqrt(c) f~) is the
    # square loss of weights c w_i and labels y_i / sqrt(c), with f~ = sum a~ sigma.
    data, net0 = square_case(1)
    r = np.sqrt(c)
    t = np.linspace(0.0, 4.0, 9)
    run = rf.gradient_flow(net0, data, "square", 4.0, method=method, t_eval=t, outer_rate=c, **kw)
    sub_data = rf.Dataset(data.X, data.y / r, weights=c * data.weights)
    sub_net = rf.Network(net0.a / r, net0.W)
    sub = rf.gradient_flow(sub_net, sub_data, "square", 4.0, method=method, t_eval=t, **kw)
    assert run.success and sub.success
    # the same discretisation (euler) agrees to round-off; the error-controlled methods
    # take different steps on the two problems, so they agree to their accuracy
    tol = {"euler": 1e-12, "adaptive": 1e-6, "exponential": 1e-4}[method]
    assert_allclose(run.a, r * sub.a, rtol=tol, atol=tol * np.abs(run.a).max())
    assert_allclose(run.W, sub.W, rtol=tol, atol=tol * np.abs(run.W).max())
    # the conserved quantity is a^2 / c - |w|^2
    bal = run.a**2 / c - np.sum(run.W**2, axis=2)
    if method != "euler":
        assert np.abs(bal - bal[0]).max() < 1e-6 * np.abs(run.W).max() ** 2


@pytest.mark.parametrize("method, rtol", [("adaptive", 1e-9), ("exponential", 1e-7)])
def test_outer_rate_zero_freezes_the_outer_layer_and_matches_gradient_descent(method, rtol):
    data, net0 = two_point(), rf.small_init(10, 2, 0.3, seed=2)
    run = rf.gradient_flow(net0, data, "logistic", 6.0, method=method, outer_rate=0.0, rtol=rtol)
    assert run.success and np.array_equal(run.a[-1], net0.a)
    gaps = [
        rel_err(rf.gradient_flow(net0, data, "logistic", 6.0, method="euler", step=h, outer_rate=0.0).final.flat(),
                run.final.flat())
        for h in (1e-2, 1e-3)
    ]
    assert gaps[1] < gaps[0] / 5 and gaps[1] < 1e-3  # first order: ~10x per 10x smaller step


def test_outer_rate_zero_is_linear_in_time_for_constant_residuals():
    # linear loss, no pattern change: w(t) = w0 + a0 t D exactly
    data = rf.Dataset(np.array([[1.0, 0.2], [0.3, 1.0]]), [1.0, 0.5])
    net0 = rf.Network([0.4], [[0.5, 0.6]])
    t = np.linspace(0.0, 2.0, 5)
    run = rf.gradient_flow(net0, data, "linear", 2.0, method="exponential", outer_rate=0.0, t_eval=t)
    D = (data.weights * data.y) @ data.X
    assert_allclose(run.W[:, 0], net0.W[0] + 0.4 * t[:, None] * D, rtol=1e-14)


@pytest.mark.parametrize("bad", [-0.5, np.nan, np.inf, "fast"])
def test_outer_rate_is_validated(bad):
    data, net0 = square_case()
    with pytest.raises(ValueError, match="outer_rate"):
        rf.gradient_flow(net0, data, "square", 1.0, outer_rate=bad)


# ------------------------------------------------------------- method="auto"
def test_auto_picks_adaptive_for_small_and_exponential_for_large_problems():
    small = separable(20)
    assert rf.flow.choose_method(rf.small_init(50, 3, 1e-3), small) == "adaptive"
    big = separable(40)
    net0 = rf.small_init(300, 3, 1e-3, seed=0)  # 12,000 pairs
    assert rf.flow.choose_method(net0, big) == "exponential"
    tr = rf.gradient_flow(net0, big, "logistic", 20.0)
    assert tr.method == "exponential" and tr.success
    assert rf.gradient_flow(rf.small_init(5, 3, 1e-3), small, "logistic", 1.0).method == "adaptive"


# ------------------------------------------------------------- progress and the long-run notice
def test_progress_bar_runs(capsys):
    tr = rf.gradient_flow(rf.small_init(10, 3, 1e-3, seed=0), separable(), "logistic", 50.0, progress=True)
    assert tr.success
    assert "gradient flow" in capsys.readouterr().err


def test_a_long_run_says_so_once(monkeypatch):
    monkeypatch.setattr(driver, "NOTICE_AFTER", 0.0)
    monkeypatch.setattr(driver, "NOTICE_LONG", 0.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tr = rf.gradient_flow(rf.small_init(10, 3, 1e-3, seed=0), separable(), "logistic", 50.0)
    notes = [w for w in caught if "reaching t_end takes about" in str(w.message)]
    assert tr.success and len(notes) == 1 and issubclass(notes[0].category, UserWarning)


def test_a_quick_run_is_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tr = rf.gradient_flow(rf.small_init(10, 3, 1e-3, seed=0), separable(), "logistic", 50.0)
    assert tr.success and tr.info["wall_time"] > 0 and tr.info["outer_rate"] == 1.0


def test_outer_rate_zero_first_step_is_a_tenth_of_the_fastest_neurons_travel_time():
    # no e-folding with a frozen outer layer: w_j moves at |a_j| |D_j|, so the first step is
    # a tenth of min_j |w_j| / (|a_j| |D_j|) (not t_end, which would be rejected many times)
    from reluflow.flow._exponential import ExponentialStepper

    data, net0, loss = two_point(), rf.small_init(10, 2, 0.3, seed=2), rf.losses.get("logistic")
    rho = loss._weighted_residual(data)(net0(data.X))
    D = np.linalg.norm(((net0.W @ data.X.T > 0) * rho) @ data.X, axis=1)
    speed = np.abs(net0.a) * D
    h0 = 0.1 * np.min(np.linalg.norm(net0.W, axis=1)[speed > 0] / speed[speed > 0])  # (idle neurons: no bound)
    stepper = ExponentialStepper(net0.a, net0.W, data, loss, 6.0, 1e-7, 1e-12, None, outer_rate=0.0)
    assert 0.0 < h0 < 6.0 and stepper.h == pytest.approx(h0, rel=1e-12)
    # a neuron without drive (a_j = 0) does not make the first step infinite
    a = net0.a.copy()
    a[0] = 0.0
    still = rf.gradient_flow(rf.Network(a, net0.W), data, "logistic", 6.0, method="exponential", outer_rate=0.0)
    assert still.success and 0.0 < still.t[1] < 6.0
