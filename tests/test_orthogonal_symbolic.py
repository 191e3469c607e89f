"""Tests for reluflow.orthogonal.symbolic: every identity simplifies to zero, and each symbolic
result agrees with the numerical library (rf.orthogonal, the gradient, the solver)."""

import numpy as np
import pytest
import sympy as sp
from numpy.testing import assert_allclose

import reluflow as rf
from reluflow.orthogonal import symbolic as so


def zero(residual):
    if isinstance(residual, sp.MatrixBase):
        return residual.is_zero_matrix
    if isinstance(residual, tuple):
        return all(zero(r) for r in residual)
    return residual == 0


# ---------------------------------------------------------------- frozen coordinates


@pytest.mark.parametrize("n", [1, 2, 4])
def test_frozen_coordinates_identities(n):
    fc = so.frozen_coordinates(n)
    assert zero(fc.closed_form.residual) and zero(fc.inactive.residual)
    assert fc.rates.shape == (n, 1)
    if n == 1:
        assert fc.general_inactive == 0
    else:
        assert fc.general_inactive != 0 and fc.general_inactive.has(sp.Symbol("g_12", real=True))


@pytest.mark.parametrize("seed", [0, 1])
def test_frozen_coordinates_match_the_gradient(seed):
    """d/dt <w_j, x_k> = -<dL/dw_j, x_k> equals a_j rho_k 1[active] r_k^2 for rotated orthogonal data."""
    rng = np.random.default_rng(seed)
    y, norms = rng.standard_normal(4), rng.uniform(0.5, 2.0, 4)
    data = rf.datasets.orthogonal(y, d=5, norms=norms, seed=seed)
    net = rf.Network(rng.standard_normal(7), rng.standard_normal((7, 5)))
    _, grad = rf.loss_and_grad(net, data, "square")
    rates = -grad.W @ data.X.T
    rho = (y - net(data.X)) / 4
    active = net.W @ data.X.T > 0
    fc = so.frozen_coordinates(4)
    a, rhos, bs, rs = (
        sp.Symbol("a", real=True),
        sp.symbols("rho_1:5", real=True),
        sp.symbols("b_1:5", real=True),
        sp.symbols("r_1:5", positive=True),
    )
    f = sp.lambdify((a, rhos, bs, rs), fc.closed_form.rhs)
    for j in range(7):
        expected = np.ravel(f(net.a[j], rho, active[j].astype(float), norms))
        assert_allclose(rates[j], expected, atol=1e-12)
        assert_allclose(rates[j][~active[j]], 0.0, atol=1e-14)  # inactive: frozen


def test_exit_time_scale_invariance_numerically():
    assert zero(so.exit_time_scale_invariance().residual)
    w0, D, x = np.array([0.4, 0.3]), np.array([0.5, -0.2]), np.array([0.2, 1.0])
    t1 = rf.symbolic.exit_time(0.5, w0, D, x)
    assert np.isfinite(t1)
    for lam in (1e-3, 1e-9):
        assert_allclose(rf.symbolic.exit_time(0.5 * lam, lam * w0, D, x), t1, rtol=1e-9)


# ---------------------------------------------------------------- logistic law


@pytest.fixture(scope="module")
def law():
    return so.logistic_law()


def test_logistic_law_identities(law):
    for name in (
        "residual",
        "direction",
        "ode",
        "solution_check",
        "half_check",
        "class_loss_at_half",
        "leading_order",
    ):
        assert zero(getattr(law, name).residual), name
    s = law.symbols
    assert sp.simplify(law.half_time - s["n"] / (2 * s["K"]) * sp.log(s["K"] / s["u0"] - 1)) == 0


@pytest.mark.parametrize("points, neurons", [(1, 1), (2, 3)])
def test_logistic_law_other_sizes(points, neurons):
    law = so.logistic_law(points, neurons)
    assert zero(law.ode.residual) and zero(law.direction.residual)


def test_logistic_law_against_gradient_flow(law):
    """Neurons initialised along beta_pm (unit norms) follow the logistic law exactly: the
    solver must reproduce u(t) = sum_j |w_j|^2 of each class to its tolerance."""
    y = np.array([2.0, 1.5, 1.0, -1.0, -0.5, -0.8])
    data = rf.datasets.orthogonal(y, seed=0)
    masses = {1: [1e-6, 3e-6], -1: [2e-6]}
    a, W = [], []
    for sign, us in masses.items():
        beta = np.clip(sign * y, 0, None) @ data.X
        for u in us:
            a.append(sign * np.sqrt(u))
            W.append(np.sqrt(u) * beta / np.linalg.norm(beta))
    t = np.linspace(0.0, 80.0, 161)
    traj = rf.gradient_flow(rf.Network(a, W), data, "square", 80.0, t_eval=t, rtol=1e-10)
    s = law.symbols
    u_of = sp.lambdify((s["t"], s["n"], s["K"], s["u0"]), law.solution)
    for sign, us in masses.items():
        mine = np.sign(traj.a[0]) == sign
        u = np.sum(traj.W[:, mine] ** 2, axis=(1, 2))
        K = np.linalg.norm(y[sign * y > 0])
        assert_allclose(u, u_of(t, 6, K, sum(us)), rtol=1e-6)


# ---------------------------------------------------------------- min-norm duality


@pytest.mark.parametrize("n_plus, n_minus", [(1, 1), (2, 1), (2, 2), (3, 1)])
def test_min_norm_duality_identities(n_plus, n_minus):
    md = so.min_norm_duality(n_plus, n_minus)
    for name in (
        "interpolation",
        "primal",
        "dual",
        "dual_norms",
        "reduction",
        "cauchy_schwarz",
        "certificate",
    ):
        assert zero(getattr(md, name).residual), name


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_min_norm_duality_matches_the_library(seed):
    rng = np.random.default_rng(seed)
    md = so.min_norm_duality(2, 2)
    mags, norms = rng.uniform(0.3, 2.0, 4), rng.uniform(0.5, 2.0, 4)
    symbols = [next(iter(v.free_symbols)) for v in md.labels]
    subs = dict(zip(symbols, mags, strict=True)) | dict(zip(md.norms, norms, strict=True))
    y = np.array([float(v.subs(subs)) for v in md.labels])
    assert np.all(y[:2] > 0) and np.all(y[2:] < 0)
    X = rf.datasets.orthogonal(y, norms=norms).X
    assert_allclose(float(md.value.subs(subs)), rf.orthogonal.min_norm_interpolant(rf.Dataset(X, y)).value, rtol=1e-12)
    nu = np.array([float(v.subs(subs)) for v in md.nu])
    assert_allclose(nu, rf.orthogonal.min_norm_dual(rf.Dataset(X, y)).rho, rtol=1e-12)


def test_bad_sizes_raise():
    with pytest.raises(ValueError, match="n_plus"):
        so.min_norm_duality(0, 1)
    with pytest.raises(ValueError, match="points"):
        so.logistic_law(0)
    with pytest.raises(ValueError, match="n"):
        so.frozen_coordinates(0)
