"""Tests for reluflow.margins.lowrotation: the norm-only flow against its LP certificate (an
exact upper bound) and against the ODE in its own coordinates, the closed form on the dual clock
against the time-clock integrator, the primal-dual bracket and its exponential-weights regret
bound, conservation laws, the NTK-scaling flow (gradient_flow with outer rate 1/m against a
direct NTK-scaled gradient descent, loss decrease, O(1/sqrt m) movement, the weak-duality bound
on the linearised margin), and bad inputs."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.integrate import solve_ivp

import reluflow as rf
from reluflow import margins as lr

PARITY4 = rf.datasets.sparse_parity(4)
V40 = np.random.default_rng(1).standard_normal((40, 4))


@pytest.fixture(scope="module")
def norm_only():
    t = np.r_[0.0, np.geomspace(1e-2, 1e20, 120)]
    return lr.norm_only_flow(PARITY4, V40, 1e20, scale=1e-2, t_eval=t)


def test_norm_only_bound_and_lyu_li(norm_only):
    res = norm_only
    assert res.success, res.message
    lp = rf.margins.norm_only_margin(PARITY4, V40)
    # 2|a r| <= a^2 + r^2 and weak duality: the normalised margin never exceeds upper/2
    assert np.all(res.margin <= lp.upper / 2 + 1e-12)
    # Lyu-Li: once n L < ln 2 the smoothed margin -ln(e^{nL} - 1)/|theta|^2 is nondecreasing,
    # and it lower-bounds the margin (each ln(1 + e^{-z_i}) <= nL); the margin itself need not be
    smoothed = -np.log(np.expm1(PARITY4.n * res.loss)) / np.sum(res.a**2 + res.r**2, axis=1)
    late = PARITY4.n * res.loss < np.log(2.0)
    assert late[-1] and np.all(np.diff(smoothed[late]) >= -1e-12)
    assert np.all(smoothed[late] <= res.margin[late] + 1e-12)
    assert np.all(np.diff(res.loss) <= 1e-12)


@pytest.fixture(scope="module")
def dual_runs():
    tau = np.linspace(0.0, 110.0, 221)
    return {rtol: lr.norm_only_dual_flow(PARITY4, V40, 110.0, tau_eval=tau, rtol=rtol)
            for rtol in (1e-8, 1e-10)}  # fmt: skip


def test_dual_flow_matches_time_flow(dual_runs):
    # the closed form on the dual clock and DOP853 on the time clock are independent integrators
    # of one flow; they must agree to better than the error of a 100x looser run (chapter 5)
    fine, coarse = dual_runs[1e-10], dual_runs[1e-8]
    assert fine.success and coarse.success
    with np.errstate(over="ignore"):
        t = np.expm1(fine.log1p_t)
    sel = (t > 0) & (t <= 1e20)
    runs = {rt: lr.norm_only_flow(PARITY4, V40, t[sel][-1], t_eval=t[sel], rtol=rt)
            for rt in (1e-8, 1e-10)}  # fmt: skip
    tol = max(np.abs(fine.margin - coarse.margin).max(), np.abs(runs[1e-10].margin - runs[1e-8].margin).max())
    assert np.abs(runs[1e-10].margin - fine.margin[sel]).max() <= tol
    assert_allclose(runs[1e-10].a, fine.a[sel], atol=1e3 * tol)
    assert sel.sum() > 100 and fine.log1p_t[-1] > 1e3  # t = 1e20 is reached early; then e^{1000}


def test_dual_flow_certificate_and_regret_bound(dual_runs):
    res = dual_runs[1e-10]
    lp = rf.margins.norm_only_margin(PARITY4, V40)
    win = np.isfinite(res.dual_upper)
    assert win.sum() > 50 and res.tau0 > 0
    two_s, two_m = 2 * res.smoothed[win], 2 * res.margin[win]
    # weak duality: 2 smoothed <= 2 margin <= gamma_V <= ||F^T Q||_inf for every window average Q
    assert np.all(two_s <= two_m + 1e-12) and np.all(two_m <= lp.upper + 1e-12)
    assert np.all(res.dual_upper[win] >= lp.lower - 1e-12)
    # Lyu-Li monotonicity, used by the bound
    assert np.all(np.diff(res.smoothed[res.tau >= res.tau0]) >= -1e-12)
    # exponential-weights regret: bracket width <= bound (slack: integration error at rtol 1e-10)
    assert np.all(res.dual_upper[win] - two_s <= res.regret_bound[win] + 1e-8)
    # its numerator is at most (1/2) max ln(1/x_e(tau0)) + int eps, so it decays like 1/(tau - tau0)
    rpa, rma = (res.r + res.a)[res.tau == res.tau0][0], (res.r - res.a)[res.tau == res.tau0][0]
    log_x0 = np.log(np.r_[rpa**2, rma**2] / np.sum(rpa**2 + rma**2))
    num = res.regret_bound[win] * (res.tau[win] - res.tau0)
    assert np.all(num >= -0.5 * log_x0.max() - 1e-9)
    assert res.regret_bound[-1] < 0.5 * res.regret_bound[win][len(num) // 4]


def test_dual_flow_closed_form_and_start(dual_runs):
    res = dual_runs[1e-10]
    assert_allclose(res.r[0], 1e-2)
    t0 = lr.norm_only_flow(PARITY4, V40, 1.0, t_eval=[0.0])
    assert_allclose(res.a[0], t0.a[0])
    # every expert keeps a positive weight (r > |a|): what makes the regret bound tend to 0
    assert np.all(res.r > np.abs(res.a))
    assert np.all(np.diff(res.tau) > 0) and np.all(np.diff(res.log1p_t) > 0)


@pytest.mark.parametrize(
    "kwargs",
    [dict(tau_end=0.0), dict(scale=-1.0), dict(loss="square"), dict(tau_eval=[3.0, 1.0]),
     dict(tau0=1e3), dict(tau_end=5.0)],
)  # fmt: skip
def test_dual_flow_bad_inputs(kwargs):
    p = dict(tau_end=10.0) | kwargs
    with pytest.raises(ValueError):
        lr.norm_only_dual_flow(PARITY4, V40, p.pop("tau_end"), **p)


def test_norm_only_conservation(norm_only):
    res = norm_only
    c = res.r**2 - res.a**2
    assert_allclose(c, np.broadcast_to(c[0], c.shape), atol=1e-9)
    assert np.all(c[0] > 0)
    assert_allclose(np.linalg.norm(res.V, axis=1), 1.0)


def test_norm_only_model_values():
    res = lr.norm_only_flow(PARITY4, V40, 5.0, scale=0.5, t_eval=[0.0, 5.0])
    f = (res.a[-1] * res.r[-1]) @ np.maximum(PARITY4.X @ res.V.T, 0.0).T
    assert_allclose(res.loss[-1], np.mean(np.logaddexp(0.0, -PARITY4.y * f)))
    assert_allclose(res.r[0], 0.5)
    assert np.all(np.abs(res.a[0]) <= 0.5)
    assert res.status == 0 and res.success and res.nfev > 0


def test_norm_only_chain_rule_equals_own_coordinates():
    # the library integrates the core gradient read along the directions; the model's own ODE
    # a' = r g, r' = a g with g = Phi^T rho (Phi = relu(X V^T) frozen) is the same flow
    res = lr.norm_only_flow(PARITY4, V40, 50.0, scale=0.3, t_eval=[0.0, 50.0], rtol=1e-11)
    Phi, m = np.maximum(PARITY4.X @ res.V.T, 0.0), V40.shape[0]

    def rhs(_, z):
        g = Phi.T @ rf.losses.logistic.residuals(Phi @ (z[:m] * z[m:]), PARITY4)
        return np.r_[z[m:] * g, z[:m] * g]

    ref = solve_ivp(rhs, (0.0, 50.0), np.r_[res.a[0], res.r[0]], method="DOP853", rtol=1e-11, atol=1e-13)
    assert_allclose(np.r_[res.a[-1], res.r[-1]], ref.y[:, -1], rtol=1e-8, atol=1e-10)


@pytest.fixture(scope="module")
def ntk_runs():
    data = rf.datasets.sparse_parity(6)
    return data, {m: lr.ntk_flow(data, m, 200.0, step=0.5) for m in (64, 1024)}


def test_ntk_flow_loss_movement_bound(ntk_runs):
    data, runs = ntk_runs
    for m, res in runs.items():
        assert res.success and res.status == 0 and res.trajectory.method == "euler"
        assert_allclose(res.loss[0], np.log(2.0))  # antisymmetric init: f(W0) = 0
        assert np.all(np.diff(res.loss) < 0)
        assert np.all(res.lin_margin[1:] <= res.lin_bound + 1e-12)
        assert res.W.shape[1:] == (m, 6)
        assert_allclose(res.movement[-1], np.linalg.norm(res.W[-1] - res.W[0]) / np.sqrt(m))
        assert_allclose(res.a, np.broadcast_to(res.a[0], res.a.shape))  # inner layer only
        assert set(np.abs(np.round(res.a[0], 12))) == {1.0}
    # ||W - W0||_F stays O(1): 16 times the width, about a quarter of the relative movement
    ratio = runs[1024].movement[-1] / runs[64].movement[-1]
    assert 0.15 < ratio < 0.4


def _ntk_gradient_descent(data, m, t_end, step, train, seed=0, scale=1.0):
    """NTK-scaled gradient descent written out directly: f = m^{-1/2} sum_j a_j relu(<w_j, x>),
    both layers at their plain gradients (the reference for the outer-rate reparameterisation)."""
    rng = np.random.default_rng(seed)
    half, sign = scale * rng.standard_normal((m // 2, data.d)), rng.choice([-1.0, 1.0], m // 2)
    W, a, X = np.r_[half, half], np.r_[sign, -sign], data.X
    for _ in range(int(round(t_end / step))):
        P = X @ W.T
        rho = rf.losses.logistic.residuals(np.maximum(P, 0.0) @ a / np.sqrt(m), data)
        gW = a[:, None] * ((P > 0) * rho[:, None]).T @ X / np.sqrt(m)
        if train == "both":
            a = a + step * (np.maximum(P, 0.0).T @ rho) / np.sqrt(m)
        W = W + step * gW
    return a, W


@pytest.mark.parametrize("train", ["inner", "both"])
def test_ntk_flow_is_ntk_scaled_gradient_descent(train):
    data = rf.datasets.sparse_parity(4)
    res = lr.ntk_flow(data, 8, 5.0, train=train, step=0.25, t_eval=[0.0, 5.0])
    a, W = _ntk_gradient_descent(data, 8, 5.0, 0.25, train)
    assert_allclose(res.W[-1], W, rtol=1e-12, atol=1e-13)
    assert_allclose(res.a[-1], a, rtol=1e-12, atol=1e-13)
    assert (train == "both") != np.allclose(res.a[0], res.a[-1])


def test_ntk_flow_step_halving():
    data = rf.datasets.sparse_parity(5)
    a, b = (lr.ntk_flow(data, 32, 50.0, step=s, t_eval=[0.0, 50.0]) for s in (0.5, 0.25))
    assert_allclose(a.loss, b.loss, rtol=1e-3)
    assert_allclose(a.margin[-1], b.margin[-1], rtol=1e-2)


@pytest.mark.parametrize(
    "kwargs",
    [dict(m=7), dict(m=8, train="outer"), dict(m=8, loss="square"), dict(m=8, step=0.0),
     dict(m=8, t_end=-1.0), dict(m=8, t_eval=[2.0, 1.0]), dict(m=8, y=np.zeros(16))],
)  # fmt: skip
def test_ntk_flow_bad_inputs(kwargs):
    p = dict(y=PARITY4.y, m=8, t_end=1.0) | kwargs
    with pytest.raises(ValueError):
        lr.ntk_flow(rf.Dataset(PARITY4.X, p.pop("y")), p.pop("m"), p.pop("t_end"), **p)


def test_flows_need_a_dataset():
    for call in (lambda: lr.ntk_flow(PARITY4.X, 8, 1.0), lambda: lr.norm_only_flow(PARITY4.X, V40, 1.0)):
        with pytest.raises(TypeError, match="rf.Dataset"):
            call()


@pytest.mark.parametrize(
    "V, kwargs",
    [(np.zeros((3, 4)), {}), (np.ones((3, 5)), {}), (V40, dict(scale=0.0)), (V40, dict(t_end=0.0)),
     (V40, dict(loss="square")), (V40[:, :, None], {})],
)  # fmt: skip
def test_norm_only_bad_inputs(V, kwargs):
    p = dict(t_end=1.0) | kwargs
    with pytest.raises(ValueError):
        lr.norm_only_flow(PARITY4, V, p.pop("t_end"), **p)
