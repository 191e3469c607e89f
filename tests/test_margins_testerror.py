"""Tests of rf.margins.LogTimeStep, ntk_flow with a callable step, parity_test_error and the
SymPy rescaling of the NTK network (chapter 5)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import reluflow as rf
from reluflow.margins import testerror


def test_log_time_step_values_and_validation():
    step = rf.margins.LogTimeStep(0.25, 50.0)
    assert step(0.0) == 0.25 and step(50.0) == 0.25 and step(500.0) == pytest.approx(2.5)
    assert pickle.loads(pickle.dumps(step)) == step  # usable with rf.sweep.run(n_jobs > 1)
    for bad in (dict(eta0=0.0), dict(t0=-1.0), dict(eta0=float("nan"))):
        with pytest.raises(ValueError):
            rf.margins.LogTimeStep(**bad)


def test_ntk_flow_accepts_a_callable_step_and_halving_it_converges():
    data = rf.datasets.sparse_parity(4)
    t = [0.0, 100.0, 2000.0]
    runs = [rf.margins.ntk_flow(data, 32, 2000.0, step=rf.margins.LogTimeStep(eta, 50.0), t_eval=t) for eta in (0.5, 0.25, 0.125)]
    assert all(r.success for r in runs)
    np.testing.assert_allclose(runs[0].t, t)
    d1 = abs(runs[0].margin[-1] - runs[1].margin[-1])
    d2 = abs(runs[1].margin[-1] - runs[2].margin[-1])
    assert d2 < 0.75 * d1 + 1e-12  # first-order convergence in the step (ratio about 1/2)
    fixed = rf.margins.ntk_flow(data, 32, 2000.0, step=0.125, t_eval=t)
    assert fixed.margin[-1] == pytest.approx(runs[2].margin[-1], rel=2e-3)


def test_ntk_rescaling_identities():
    r = rf.margins.symbolic.ntk_rescaling()
    assert r.network.residual == 0 and r.outer.residual == 0 and all(e == 0 for e in r.inner.residual)


def test_ntk_network_is_gradient_flow_with_outer_rate_1_over_m():
    """ntk_flow(train='both') is one GD step of the NTK network written out by hand."""
    data = rf.datasets.sparse_parity(4)
    m, eta = 8, 0.3
    run = rf.margins.ntk_flow(data, m, eta, train="both", step=eta, t_eval=[0.0, eta])
    a0, W0 = run.a[0], run.W[0]
    H = np.maximum(W0 @ data.X.T, 0.0)
    g = -data.y / (1 + np.exp(data.y * (a0 @ H) / np.sqrt(m))) / data.n
    np.testing.assert_allclose(run.a[-1], a0 - eta * H @ g / np.sqrt(m), atol=1e-12)
    np.testing.assert_allclose(run.W[-1], W0 - eta * (a0[:, None] * ((H > 0) * g) @ data.X) / np.sqrt(m), atol=1e-12)


@pytest.mark.parametrize("regime", ["ntk", "small"])
def test_parity_test_error_shapes_and_test_set(regime):
    res = rf.margins.parity_test_error(5, [4, 40], regime=regime, seeds=[0, 1], t_end=300.0)
    assert res.success and res.error.shape == (2, 2) and res.train_error.shape == (2, 2)
    assert np.all((res.error >= 0) & (res.error <= 1))
    expected = rf.margins.parity_ntk_margin(5) if regime == "ntk" else rf.margins.parity_global_margin(5)
    assert res.margin == expected.value
    # the test set is the rest of the cube: with every point drawn, nothing is left to test on
    full = rf.margins.parity_test_error(3, [400], regime=regime, seeds=[0], t_end=50.0)
    assert np.isnan(full.error[0, 0])


def test_parity_test_error_ntk_run_is_ntk_flows_run():
    train = rf.datasets.sparse_parity(5, n=20, seed=testerror._DATA_SEED + 3)
    step = rf.margins.LogTimeStep(0.5, 25.0)
    mine = testerror._run("ntk", train, 16, 1.0, 3, 200.0, step)
    ref = rf.margins.ntk_flow(train, 16, 200.0, seed=3, step=step, t_eval=[0.0, 200.0]).trajectory
    np.testing.assert_allclose(mine.W[-1], ref.W[-1], atol=1e-12)
    np.testing.assert_allclose(mine.a[-1], ref.a[-1], atol=1e-15)


def test_sample_size_interpolates_in_log_n():
    res = testerror.ParityTestError(
        4, "ntk", np.array([10, 40, 160]), np.array([0]), np.array([[0.4], [0.1], [0.0]]),
        np.zeros((3, 1)), 0.1, 8, 1.0, 10.0, 0, "ok",
    )  # fmt: skip
    assert res.sample_size(0.05) == pytest.approx(np.exp(np.log(40) + 0.5 * np.log(4)))
    assert res.sample_size(0.5) == 10.0
    assert np.isnan(res.sample_size(-0.1))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(d=2, sizes=[4]), "d"),
        (dict(d=4, sizes=[8, 4]), "increasing"),
        (dict(d=4, sizes=[4.5]), "sizes"),
        (dict(d=4, sizes=[4], regime="kernel"), "regime"),
        (dict(d=4, sizes=[4], width=7), "even"),
        (dict(d=4, sizes=[4], t_end=0.0), "t_end"),
    ],
)
def test_parity_test_error_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        rf.margins.parity_test_error(**kwargs)
