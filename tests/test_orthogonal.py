"""Tests for reluflow.orthogonal: min-norm certificates (duality, brute-force minimisation),
the early-phase closed form, and gradient-flow runs against the predicted escape times,
plateau levels and approach to minimum norm (book chapter 3); the kink picture and its figure
(rf.plotting.plot_kinks)."""

import itertools

import matplotlib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import minimize

import reluflow as rf
from reluflow import orthogonal as orth

D = rf.Dataset

matplotlib.use("Agg")


def relu(z):
    return np.maximum(z, 0.0)


def instance(y, d=None, norms=None, seed=0):
    data = rf.datasets.orthogonal(y, d=d, norms=norms, seed=seed)
    return data, data.X, data.y


def class_exponent(y, r, sign):
    """2 (1 - max_{S strict} |D_S| / |D_P|) by enumerating the strict parts S of one class."""
    P = np.flatnonzero(sign * y > 0)
    h = (y * r)[P]
    best = max(
        (
            np.linalg.norm(h[list(S)])
            for k in range(1, P.size)
            for S in itertools.combinations(range(P.size), k)
        ),
        default=0.0,
    )
    return 2.0 if P.size < 2 else 2 * (1 - best / np.linalg.norm(h))


# ---------------------------------------------------------------- min-norm interpolant


@st.composite
def orthogonal_problems(draw):
    n = draw(st.integers(1, 5))
    d = draw(st.integers(n, n + 2))
    y = draw(
        st.lists(
            st.one_of(st.just(0.0), st.floats(-3, 3).filter(lambda v: abs(v) > 1e-3)), min_size=n, max_size=n
        )
    )
    norms = draw(st.lists(st.floats(0.2, 4.0), min_size=n, max_size=n))
    return np.array(y), np.array(norms), d, draw(st.integers(0, 2**16))


@settings(max_examples=60, deadline=None)
@given(orthogonal_problems())
def test_min_norm_certificate(problem):
    y, norms, d, seed = problem
    _, X, _ = instance(y, d, norms, seed)
    best = orth.min_norm_interpolant(D(X, y))
    value, net = best.value, best.net
    z = y / norms
    assert_allclose(value, np.linalg.norm(z[z > 0]) + np.linalg.norm(z[z < 0]), rtol=1e-12)
    # primal: the network interpolates, is balanced and attains the value
    assert_allclose(net(X), y, atol=1e-12 * (1 + np.abs(y).max()))
    assert_allclose(0.5 * net.norm_sq(), value, rtol=1e-12, atol=1e-15)
    assert_allclose(np.abs(net.a), np.linalg.norm(net.W, axis=1), rtol=1e-12)
    assert net.m == max(1, int(np.any(y > 0)) + int(np.any(y < 0)))
    # dual: <nu, y> = value and |G_nu(v)| <= 1 on random directions (equality at the neurons)
    G_nu = orth.min_norm_dual(D(X, y))
    nu = G_nu.rho
    assert_allclose(nu @ y, value, rtol=1e-12, atol=1e-15)
    V = np.random.default_rng(seed).standard_normal((2000, d))
    G = relu(V @ X.T) @ nu / np.linalg.norm(V, axis=1)
    assert_allclose(G_nu(V) / np.linalg.norm(V, axis=1), G, rtol=1e-12, atol=1e-15)
    assert np.all(np.abs(G) <= 1 + 1e-12)
    if value > 0:
        G_net = relu(net.W @ X.T) @ nu / np.linalg.norm(net.W, axis=1)
        assert_allclose(G_net, np.sign(net.a), rtol=1e-12)


@settings(max_examples=30, deadline=None)
@given(orthogonal_problems(), st.floats(0.1, 10.0))
def test_min_norm_homogeneity(problem, c):
    y, norms, d, seed = problem
    _, X, _ = instance(y, d, norms, seed)
    value = orth.min_norm_interpolant(D(X, y)).value
    assert_allclose(orth.min_norm_interpolant(D(X, c * y)).value, c * value, rtol=1e-12)
    assert_allclose(orth.min_norm_interpolant(D(c * X, y)).value, value / c, rtol=1e-12)
    assert_allclose(orth.min_norm_interpolant(D(X, -y)).value, value, rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_min_norm_against_numerical_minimisation(seed):
    """SLSQP on 1/2|theta|^2 s.t. f(x_k) = y_k, width 6, random starts. Weak duality bounds
    every iterate below by <f_theta(X), nu>; the best feasible one reaches the closed form."""
    rng = np.random.default_rng(seed)
    n, d, m = 4, 5, 6
    y = rng.choice([-1, 1], n) * rng.uniform(0.5, 2.0, n)
    y[:2] = np.abs(y[:2]) * [1, -1]  # both signs present
    _, X, _ = instance(y, d, rng.uniform(0.5, 2.0, n), seed)
    value = orth.min_norm_interpolant(D(X, y)).value
    nu = orth.min_norm_dual(D(X, y)).rho

    def f(theta):
        return theta[:m] @ relu(theta[m:].reshape(m, d) @ X.T)

    def jac(theta):  # (n, m (d + 1)): d f_k / d a_j and d f_k / d w_j
        a, P = theta[:m], theta[m:].reshape(m, d) @ X.T
        dW = (a[:, None] * (P > 0)).T[:, :, None] * X[:, None, :]
        return np.hstack([relu(P).T, dW.reshape(n, m * d)])

    best, feasible = np.inf, 0
    # (a local method from random starts: how many starts reach the optimum depends on
    # rounding, so it gets up to 40 and stops once one has)
    for _ in range(40):
        res = minimize(
            lambda t: 0.5 * t @ t,
            rng.standard_normal(m * (d + 1)),
            jac=lambda t: t,
            method="SLSQP",
            constraints=[{"type": "eq", "fun": lambda t: f(t) - y, "jac": jac}],
            options={"maxiter": 300, "ftol": 1e-10},
        )
        assert 0.5 * res.x @ res.x >= f(res.x) @ nu - 1e-9  # weak duality, feasible or not
        if np.max(np.abs(f(res.x) - y)) < 1e-7:
            feasible += 1
            best = min(best, 0.5 * res.x @ res.x)
            if best <= value * (1 + 1e-5):
                break
    assert feasible and value - 1e-6 <= best <= value * (1 + 1e-5)


def test_min_norm_special_labels():
    X = np.diag([1.0, 2.0, 0.5, 0.0])[:, :4]
    best = orth.min_norm_interpolant(D(X, [1.0, 2.0, 0.0, 0.0]))  # one sign, zero labels, zero input
    assert best.net.m == 1 and best.net.a[0] > 0
    assert_allclose(best.value, np.hypot(1.0, 1.0))
    assert_allclose(best.net(X), [1.0, 2.0, 0.0, 0.0], atol=1e-14)
    best = orth.min_norm_interpolant(D(X, np.zeros(4)))
    assert best.value == 0.0 and best.net.norm_sq() == 0.0
    assert_allclose(orth.min_norm_dual(D(X, np.zeros(4))).rho, 0.0)
    # the weights of the data do not enter the minimum norm
    weighted = orth.min_norm_interpolant(D(X, [1.0, 2.0, 0.0, 0.0], weights=[1.0, 2.0, 3.0, 4.0]))
    assert_allclose(weighted.value, np.hypot(1.0, 1.0))


def test_min_norm_excess():
    _, X, y = instance([1.0, -2.0, 0.5], d=4, norms=[1.0, 2.0, 3.0], seed=1)
    best = orth.min_norm_interpolant(D(X, y))
    value, net = best.value, best.net
    assert abs(orth.min_norm_excess(net, D(X, y))) < 1e-12
    doubled = rf.Network(np.repeat(net.a, 2) / np.sqrt(2), np.repeat(net.W, 2, axis=0) / np.sqrt(2))
    assert abs(orth.min_norm_excess(doubled, D(X, y))) < 1e-12  # split neurons stay optimal
    assert orth.min_norm_excess(net.scaled(2.0), D(X, y)) == pytest.approx(3 * value)


def test_class_driving_vectors_and_exponent():
    y, r = np.array([2.0, 1.0, 0.0, -1.5, -0.5, 3.0]), np.array([0.5, 1.0, 2.0, 1.5, 1.0, 0.7])
    _, X, _ = instance(y, 7, r, seed=4)
    dv = orth.class_driving_vectors(D(X, y))
    dp, dm = dv.plus, dv.minus
    assert_allclose(dp, (relu(y) @ X) / 6, atol=1e-15)
    assert_allclose(dp - dm, y @ X / 6, atol=1e-15)
    assert_allclose(
        [np.linalg.norm(dp), np.linalg.norm(dm)],
        [np.linalg.norm(relu(y) * r) / 6, np.linalg.norm(relu(-y) * r) / 6],
    )
    alpha = min(class_exponent(y, r, 1), class_exponent(y, r, -1), 2.0)
    assert_allclose(orth.excess_exponent(D(X, y)), alpha, rtol=1e-12)


# ---------------------------------------------------------------- validation


def test_bad_inputs_raise():
    X = np.eye(3)
    with pytest.raises(ValueError, match="orthogonal"):
        orth.min_norm_interpolant(D([[1.0, 0.0], [0.1, 1.0]], [1.0, -1.0]))
    orth.min_norm_interpolant(D([[1.0, 0.0], [0.1, 1.0]], [1.0, -1.0]), tol=0.2)  # tolerance overridable
    for c, ok in ((0.5, True), (2.0, False)):  # the relative tolerance is ORTHO_TOL, scale-free
        X2 = 1e3 * np.array([[1.0, 0.0], [c * orth.ORTHO_TOL, 1.0]])
        if ok:
            orth.plateau_levels(D(X2, [1.0, -1.0]))
        else:
            with pytest.raises(ValueError, match="points 0 and 1"):
                orth.plateau_levels(D(X2, [1.0, -1.0]))
    with pytest.raises(ValueError, match="n <= d"):
        orth.plateau_levels(D(np.ones((3, 2)), [1.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="zero"):
        orth.min_norm_interpolant(D(np.diag([1.0, 0.0]), [1.0, 1.0]))
    with pytest.raises(ValueError, match="finite"):
        orth.min_norm_interpolant(D(X, [1.0, np.nan, 0.0]))
    with pytest.raises(ValueError, match="one label per row"):
        orth.class_driving_vectors(D(X, [1.0, 2.0]))
    with pytest.raises(ValueError, match="weights 1/n"):  # the formulas are for the mean square loss
        orth.escape_times(D(X, [1.0, -1.0, 1.0], weights=[1.0, 1.0, 2.0]), 1e-3)
    with pytest.raises(TypeError, match="rf.Dataset"):
        orth.plateau_levels(X)
    for scale in (0.0, -1e-3, 1.0, 3.0, np.inf):
        with pytest.raises(ValueError, match="scale"):
            orth.escape_times(D(X, [1.0, -1.0, 1.0]), scale)
    net0 = rf.small_init(5, 3, 1e-3, seed=0)
    with pytest.raises(ValueError, match="exactly one"):
        orth.escape_times(D(X, [1.0, -1.0, 1.0]), 1e-3, net0=net0)
    with pytest.raises(ValueError, match="exactly one"):
        orth.escape_times(D(X, [1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match="balanced"):
        orth.linear_phase(rf.small_init(5, 3, 1e-3, seed=0, balanced=False), D(X, [1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match="dimension"):
        orth.linear_phase(rf.small_init(5, 4, 1e-3), D(X, [1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match="d = 2"):
        orth.kink_picture(net0)


# ---------------------------------------------------------------- early phase


@pytest.mark.parametrize("seed", [2, 3])
def test_linear_phase_is_exact_for_frozen_residuals(seed):
    """The linear loss has residual weights frozen at y_k / n: its flow is the early phase
    exactly, so a_j(t) e^{-g_j t} -> c_j (error e^{-2 g_j t}) and the pattern is S_j."""
    y = np.array([1.0, 1.5, -1.0, -0.6, 0.0])
    data, X, _ = instance(y, 6, [1.0, 0.6, 1.3, 0.9, 2.0], seed)
    net0 = rf.small_init(30, 6, 1.0, seed=seed)
    lp = orth.linear_phase(net0, D(X, y))
    assert_allclose(orth.linear_phase(net0.scaled(1e-5), D(X, y)).amplitude, 1e-5 * lp.amplitude, rtol=1e-9)
    T = 25 / lp.rate[lp.rate > 0].min()
    traj = rf.gradient_flow(net0, data, "linear", T, rtol=1e-11)
    a, W = traj.a[-1], traj.W[-1]
    grow = lp.rate > 0
    assert_allclose(a[grow] * np.exp(-lp.rate[grow] * T), lp.amplitude[grow], rtol=1e-8)
    assert_allclose(a[~grow], lp.amplitude[~grow], rtol=1e-12)  # frozen
    P = W @ X.T
    on = P > 1e-9 * np.linalg.norm(W, axis=1)[:, None] * np.linalg.norm(X, axis=1)
    assert_array_equal(on[:, y != 0], lp.active[:, y != 0])
    assert not np.any(lp.active[:, y == 0])


# ---------------------------------------------------------------- gradient-flow runs

# Unit-norm instance with a clear gap between the classes: |y+| = 1.41, |y-| = 1.17.
Y_RUN = np.array([1.0, 1.0, -1.0, -0.6])


def run(y, scale, seed, *, norms=None, t_end=None, m=40):
    data, X, _ = instance(y, 5, norms, seed=3)
    net0 = rf.small_init(m, 5, scale, seed=seed)
    lead = orth.escape_times(D(X, y), scale)
    t_end = t_end or 1.6 * np.nanmax(lead) + 10
    return data, net0, rf.gradient_flow(net0, data, "square", t_end, t_eval=np.linspace(0, t_end, 4001))


def slower_shift(X, y, net0):
    """Per class, how much earlier than escape_times(net0=...) the half fit can come because of
    the slower neurons (rates g_i < g), which escape_times neglects. When the leaders reach
    u = K/2 the slower ones carry mass sum_i c_i^2 (K / 2u_0)^{g_i/g} (linear phase), a share
    `share` of K/2; to first order this advances u = K/2 by share / (2g). A neuron on a part S
    of the class reduces the class loss less than the same mass on the whole class, so this
    bounds the shift to first order."""
    lp, z, out = orth.linear_phase(net0, D(X, y)), y / np.linalg.norm(X, axis=1), []
    for sign in (1, -1):
        mine = (np.sign(lp.amplitude) == sign) & (lp.rate > 0)
        g = lp.rate[mine].max()
        lead, K = mine & (lp.rate > g * (1 - 1e-9)), np.linalg.norm(z[sign * y > 0])
        u0, slow = np.sum(lp.amplitude[lead] ** 2), mine & (lp.rate < g * (1 - 1e-9))
        share = np.sum(lp.amplitude[slow] ** 2 * (K / (2 * u0)) ** (lp.rate[slow] / g)) / (K / 2)
        out.append(share / (2 * g))
    return np.array(out)


@pytest.mark.parametrize("seed", [1, 4, 11])
def test_escape_times_against_runs(seed):
    """Refined times within the first-order effect of the neglected slower neurons (plus 25%
    for second-order terms; their share is < 0.15 here); the leading-order law
    t = ln(1/scale)/|D| + const holds with the same band."""
    X = instance(Y_RUN, 5, seed=3)[1]
    dv = orth.class_driving_vectors(D(X, Y_RUN))
    g = np.array([np.linalg.norm(dv.plus), np.linalg.norm(dv.minus)])
    obs, lead, band = {}, {}, 0.0
    for scale in (1e-4, 1e-7):
        data, net0, traj = run(Y_RUN, scale, seed)
        obs[scale] = np.array(orth.observed_escape_times(traj, D(X, Y_RUN)))
        lead[scale] = np.array(orth.escape_times(D(X, Y_RUN), scale))
        refined = np.array(orth.escape_times(D(X, Y_RUN), net0=net0))
        shift = 1.25 * slower_shift(X, Y_RUN, net0)
        assert np.all(np.abs(obs[scale] - refined) <= shift)
        band = band + shift
    # leading order: shifting the scale shifts the escape by ln(scale1/scale2)/|D|
    assert np.all(np.abs(obs[1e-7] - obs[1e-4] - np.log(1e3) / g) <= band)
    assert np.all(np.abs((obs[1e-7] - lead[1e-7]) - (obs[1e-4] - lead[1e-4])) <= band)


def test_escape_time_shift_with_unequal_norms():
    """With unequal norms the neurons turn while growing, but that phase is scale-free: the
    shift between scales is still ln(scale1/scale2)/|D|, up to the slower neurons' effect."""
    y, norms = np.array([1.0, 1.5, -1.0, -0.6]), [1.0, 0.6, 1.3, 0.9]
    X = instance(y, 5, norms, seed=3)[1]
    dv = orth.class_driving_vectors(D(X, y))
    g = np.array([np.linalg.norm(dv.plus), np.linalg.norm(dv.minus)])
    obs, band = {}, 0.0
    for scale in (1e-5, 1e-8):
        _, net0, traj = run(y, scale, 1, norms=norms)
        obs[scale] = np.array(orth.observed_escape_times(traj, D(X, y)))
        band = band + 1.25 * slower_shift(X, y, net0)
    assert np.all(np.abs(obs[1e-8] - obs[1e-5] - np.log(1e3) / g) <= band)


@pytest.mark.parametrize("seed", [0, 3])
def test_plateau_levels_against_run(seed):
    """Midway between the escapes the fast class is fit up to e^{-4g(t - t_f)} (~e^{-70}) and the
    slow class is still in its linear phase: neuron j adds c_j|c_j| e^{2 g_j t} relu(<D_j^, x>)
    to f. That prediction leaves second-order terms (relative size 2u/K ~ 1e-5)."""
    y = np.array([2.0, 1.5, -0.7, -0.5])
    data, net0, traj = run(y, 1e-8, seed)
    X, slow = data.X, y < 0
    levels = orth.plateau_levels(data)
    assert_allclose(levels, [np.sum(y**2) / 8, (0.49 + 0.25) / 8, 0.0])
    assert abs(traj.loss[0] - levels[0]) <= 1e-10 and traj.loss[-1] <= 1e-10
    k = np.argmin(np.abs(traj.t - 0.5 * sum(orth.escape_times(data, net0=net0))))
    lp, f = orth.linear_phase(net0, data), np.zeros(4)
    for j in np.flatnonzero((lp.amplitude < 0) & (lp.rate > 0)):
        Dj = (np.abs(y) * lp.active[j]) @ X
        f += (
            lp.amplitude[j]
            * abs(lp.amplitude[j])
            * np.exp(2 * lp.rate[j] * traj.t[k])
            * relu(X @ Dj)
            / np.linalg.norm(Dj)
        )
    predicted = np.sum((y[slow] - f[slow]) ** 2) / 8
    assert 1e-8 < levels[1] - predicted < 1e-4  # on the plateau, visibly leaving it
    assert abs(traj.loss[k] - predicted) <= 1e-2 * (levels[1] - predicted)


@pytest.mark.parametrize("seed", [1, 5])
def test_gradient_flow_approaches_min_norm(seed):
    """The excess of the limit is sum_i c_i^2 (K/u0)^{g_i/g} (1 - G_nu) (predicted_excess), a sum
    of powers scale^{2(1 - g_i/g)} >= scale^alpha; the neglected terms are second order, of
    relative size scale^alpha. Hence the tolerance 2 scale^alpha and the log-log slope checks."""
    X = instance(Y_RUN, 5, seed=3)[1]
    alpha = orth.excess_exponent(D(X, Y_RUN))
    excess, predicted = {}, {}
    for scale in (1e-5, 1e-8):
        _, net0, traj = run(Y_RUN, scale, seed)
        assert traj.loss[-1] < 1e-10
        excess[scale] = orth.min_norm_excess(traj.final, D(X, Y_RUN))
        predicted[scale] = orth.predicted_excess(net0, D(X, Y_RUN))
        assert 0 < excess[scale] and abs(excess[scale] / predicted[scale] - 1) <= 2 * scale**alpha
    slope = np.log(excess[1e-5] / excess[1e-8]) / np.log(1e3)
    slope_pred = np.log(predicted[1e-5] / predicted[1e-8]) / np.log(1e3)
    assert alpha - 1e-9 <= slope_pred <= 2
    assert abs(slope - slope_pred) <= 2 * (1e-5**alpha + 1e-8**alpha) / np.log(1e3)


def test_predicted_excess_needs_a_neuron_on_each_whole_class():
    X = np.eye(3)
    net0 = rf.Network([1e-3, -1e-3], [[1e-3, 0, 0], [0, 0, 1e-3]])  # no + neuron on both + points
    assert np.isnan(orth.predicted_excess(net0, D(X, [1.0, 1.0, -1.0])))
    assert np.isinf(
        orth.escape_times(D(X, [1.0, 1.0, 1.0]), net0=rf.Network([-1e-3], [[0.6e-3, 0.8e-3, 0]])).plus
    )
    # a negative neuron exactly along D of positive points decays to 0 without leaving the face
    lp = orth.linear_phase(rf.Network([-1e-3], [[1e-3, 0, 0]]), D(X, [1.0, 1.0, 1.0]))
    assert lp.amplitude[0] == 0 and lp.rate[0] == 0 and not lp.active.any()


# ---------------------------------------------------------------- kink picture


def test_bias_data_and_kink_picture():
    data = orth.bias_data([-1.0, 0.0, 2.0], [0.5, 0.0, 1.0])
    assert_array_equal(data.X[:, 1], 1.0)
    rng = np.random.default_rng(0)
    W = rng.standard_normal((6, 2))
    W[0, 0] = 0.0
    net = rf.Network(rng.choice([-1.0, 1.0], 6) * np.linalg.norm(W, axis=1), W)
    k = orth.kink_picture(net)
    assert np.isnan(k.position[0]) and np.all(np.isfinite(k.position[1:]))
    assert_allclose(k.weight, net.a)  # balanced: s_j |w_j| = a_j
    for j in range(1, 6):  # neuron j switches on at its kink, on the side given by `direction`
        pre = W[j] @ np.array([[k.position[j] - 1e-3, k.position[j], k.position[j] + 1e-3], [1, 1, 1]])
        assert abs(pre[1]) < 1e-12 and np.sign(pre[2] - pre[0]) == k.direction[j]


def test_plot_kinks():
    data = orth.bias_data(np.linspace(-1, 1, 5), [0.5, -0.2, 0.3, 0.0, 0.8])
    traj = rf.gradient_flow(rf.small_init(12, 2, 1e-3, seed=0), data, "square", 30.0, t_eval="log")
    fig, axes = rf.plotting.plot_kinks(traj, data, times=[0.0, 10.0, 30.0])
    assert len(axes) == 3 and axes[0].get_ylabel() and axes[2].get_title() == "$t = 30$"
    stars = sum(len(c.get_offsets()) for c in axes[0].collections[:2])
    assert stars == np.isfinite(orth.kink_picture(traj.net(0)).position).sum()
    assert [line.get_label() for line in axes[1].lines].count(r"$f_\theta$") == 1  # the network function
    fig, axes = rf.plotting.plot_kinks(traj)
    assert len(axes) == 4
    with pytest.raises(ValueError, match="one Axes per time"):
        rf.plotting.plot_kinks(traj, times=[1.0, 2.0], ax=axes[0])
    matplotlib.pyplot.close("all")


def test_escape_time_band_brackets_the_observed_escape():
    data = rf.datasets.orthogonal([2.0, 1.5, 1.0, -1.0, -0.5, -0.8], seed=3)
    net0 = rf.small_init(200, 6, 1e-6, seed=0)
    traj = rf.gradient_flow(net0, data, "square", 90.0, t_eval=np.linspace(0, 90, 1801))
    refined = np.array(rf.orthogonal.escape_times(data, net0=net0))
    observed = np.array(rf.orthogonal.observed_escape_times(traj, data))
    band = rf.orthogonal.escape_time_band(net0, data)
    assert np.all(band > 0)
    lag = refined - observed
    assert np.all(lag >= -0.05) and np.all(lag <= band + 0.05)  # 0.05: snapshot spacing
