"""Tests of chapter 6's weightings (rf.ncf.growth_identity, linearity, orthogonal_parallelism,
parity_correlation, residual_integral): the SymPy identities and their numerical twins against the
library's one G_rho and one gradient flow."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from numpy.testing import assert_allclose

import reluflow as rf


@pytest.mark.parametrize("n, d", [(2, 2), (3, 3)])
def test_symbolic_identities_hold(n, d):
    assert rf.ncf.growth_identity(n, d).residual == 0
    assert rf.ncf.linearity(n, d).residual == 0


def test_growth_identity_on_a_run():
    """d/dt ln|w_j| = s_j G_rho(t)(w_j/|w_j|) along the exact flow (finite differences)."""
    data = rf.datasets.two_point(1.0, 0.75)
    t = np.linspace(5.0, 6.0, 201)
    run = rf.gradient_flow(rf.small_init(8, 2, 1e-3, seed=1), data, "exponential", 6.0, t_eval=np.r_[0.0, t],
                           rtol=1e-11)  # fmt: skip
    logn = np.log(np.linalg.norm(run.W[1:], axis=2))
    rate = np.gradient(logn, t, axis=0)[1:-1]
    for k in range(1, len(t) - 1):
        net = run.net(k + 1)
        G = rf.ncf.residual_correlation(net, data, "exponential")
        expected = np.sign(net.a) * G(net.W) / np.linalg.norm(net.W, axis=1)
        assert_allclose(rate[k - 1], expected, atol=1e-4 * np.abs(expected).max() + 1e-9)


def test_orthogonal_parallelism():
    par = rf.ncf.orthogonal_parallelism()
    assert par.residual == 0
    r = {str(s): s for s in par.rhs.free_symbols}
    assert par.rhs.subs(r["r_2"], r["r_1"]) == 0
    assert par.rhs.subs({r["r_1"]: 1, r["r_2"]: 2, r["y_1"]: 1, r["y_2"]: 1, r["n"]: 2}) != 0


@pytest.mark.parametrize("d", [3, 4])
def test_parity_correlation_and_its_twin(d):
    pc = rf.ncf.parity_correlation(d)
    assert pc.identity.residual == 0 and pc.bound.residual == 0
    assert sp.simplify(pc.at_parity - 1 / sp.sqrt(8 * d)) == 0
    # numeric twin against the library's G: g = G_{y/n} on the cube
    data = rf.datasets.sparse_parity(d)
    G = data.weighted(data.y / data.n)
    v = sorted(pc.identity.lhs.free_symbols, key=lambda s: int(str(s).split("_")[1]))
    twin = sp.lambdify(v, pc.identity.rhs, "numpy")
    rng = np.random.default_rng(0)
    for u in rng.standard_normal((5, d)):
        assert_allclose(twin(*u), G(u), atol=1e-12)
    # the bound: |g| <= 1/sqrt(8d) on the sphere, attained at the parity direction only
    U = rng.standard_normal((2000, d))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    assert np.abs(G(U)).max() < 1 / np.sqrt(8 * d)
    assert_allclose(G(np.r_[1.0, 1.0, np.zeros(d - 2)] / np.sqrt(2)), 1 / np.sqrt(8 * d))


def test_parity_correlation_rejects_large_d():
    with pytest.raises(ValueError, match=r"\[3, 6\]"):
        rf.ncf.parity_correlation(8)


def test_residual_integral_exact_for_the_linear_loss():
    data = rf.datasets.orthogonal([1.0, -0.5])
    run = rf.gradient_flow(rf.small_init(6, 2, 1e-2, seed=0), data, "linear", 3.0, t_eval=np.linspace(0, 3, 7))
    assert_allclose(rf.ncf.residual_integral(run, data, "linear"), 3.0 * data.weights * data.y)


def test_residual_integral_matches_the_trapezoid_rule():
    data = rf.datasets.two_point(1.0, 0.75)
    run = rf.gradient_flow(rf.small_init(6, 2, 1e-2, seed=0), data, "exponential", 30.0, t_eval="log")
    R = np.array([rf.ncf.residual_correlation(run.net(k), data, "exponential").rho for k in range(len(run))])
    assert_allclose(rf.ncf.residual_integral(run, data, "exponential"), np.trapezoid(R, run.t, axis=0))
    with pytest.raises(TypeError, match="Trajectory"):
        rf.ncf.residual_integral(run.final, data, "exponential")


def test_dual_clock_approaches_the_min_norm_certificate():
    """Our derivation (chapter 6): int rho dt / ln(1/eps) -> nu, error ~ 1/ln(1/eps)."""
    y = np.array([1.0, 0.6, -0.8])
    data = rf.datasets.orthogonal(y)
    nu = rf.orthogonal.min_norm_dual(data).rho
    errs = []
    for eps in (1e-4, 1e-8):
        L = np.log(1 / eps)
        T = 8 * L + 200
        run = rf.gradient_flow(rf.small_init(40, 3, eps, seed=0), data, "square", T,
                               t_eval=np.union1d(np.linspace(0, T, 3001), rf.log_times(T, 200)))  # fmt: skip
        errs.append(np.abs(rf.ncf.residual_integral(run, data, "square") / L - nu).max())
    assert errs[1] < errs[0] < 0.2
    assert_allclose(errs[1] * np.log(1e8), errs[0] * np.log(1e4), rtol=0.25)  # ~ c / L

