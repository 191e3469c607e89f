"""Tests for reluflow.margins (kernels, certified margins) and reluflow.margins.symbolic: kernels
against Monte Carlo and SymPy, margins against independent formulations and their own
certificates, the parity closed forms, and input validation."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy.optimize import minimize

import reluflow as rf
from reluflow import margins as M
from reluflow.margins import symbolic as MS

D = rf.Dataset

PAPER_NTK = {4: 0.1768, 6: 0.1099, 8: 0.0781}  # papers.md section 4.3 table (4 decimals)


def _mc(samples):
    """Sample mean and standard error along axis 0."""
    return samples.mean(0), samples.std(0, ddof=1) / np.sqrt(samples.shape[0])


@pytest.fixture(scope="module")
def mc_setup():
    rng = np.random.default_rng(0)
    X, Z = rng.standard_normal((3, 5)), rng.standard_normal((4, 5))
    Z[0] = -0.7 * X[0]  # theta = pi
    Z[1] = 2.0 * X[1]  # theta = 0
    N = 200_000
    w, a = rng.standard_normal((N, 5)), rng.standard_normal(N)
    return X, Z, (X @ w.T).T[:, :, None], (Z @ w.T).T[:, None, :], a[:, None, None]


def test_arccos_kernels_monte_carlo(mc_setup):
    X, Z, px, pz, a = mc_setup
    relu = np.maximum
    cases = {
        "k0": (M.arccos_kernel(X, Z, degree=0), (px > 0) * (pz > 0) * 1.0),
        "k1": (M.arccos_kernel(X, Z, degree=1), relu(px, 0) * relu(pz, 0)),
        "ntk": (M.ntk(X, Z), relu(px, 0) * relu(pz, 0) + a**2 * (X @ Z.T) * (px > 0) * (pz > 0)),
        "inner": (M.ntk(X, Z, layers="inner"), a**2 * (X @ Z.T) * (px > 0) * (pz > 0)),
    }
    for name, (exact, samples) in cases.items():
        mean, se = _mc(samples)
        assert np.all(np.abs(exact - mean) <= 5 * se + 1e-12), name


@pytest.mark.parametrize("degree", [0, 1])
def test_symbolic_kernel_matches_numeric(degree):
    sym = MS.arccos_kernel_symbolic(degree)
    theta = sym.theta
    stated = (
        (sp.sin(theta) + (sp.pi - theta) * sp.cos(theta)) / (2 * sp.pi)
        if degree
        else (sp.pi - theta) / (2 * sp.pi)
    )
    assert sp.simplify(sym.expr - stated) == 0
    angles = np.array([0.0, 0.3, 1.0, 2.0, 2.8, np.pi])
    Z = np.c_[np.cos(angles), np.sin(angles)]
    assert_allclose(M.arccos_kernel([[1.0, 0.0]], Z, degree=degree)[0], sym.func(angles), atol=1e-14)


def test_ntk_identities_and_psd():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 6)) * rng.uniform(0.2, 2, (40, 1))
    G = X @ X.T
    assert_allclose(M.ntk(X), M.arccos_kernel(X, degree=1) + G * M.arccos_kernel(X, degree=0), atol=1e-14)
    assert_allclose(M.ntk(X, layers="inner"), G * M.arccos_kernel(X, degree=0), atol=1e-14)
    for layers in ("both", "inner"):
        K = M.ntk(X, layers=layers)
        assert_allclose(K, K.T, atol=1e-14)
        assert np.linalg.eigvalsh(K).min() >= -1e-10 * np.abs(K).max()


def _slsqp_value(Q):
    n = Q.shape[0]
    r = minimize(lambda q: q @ Q @ q, np.full(n, 1 / n), jac=lambda q: 2 * Q @ q, method="SLSQP",
                 bounds=[(0, 1)] * n, constraints=[{"type": "eq", "fun": lambda q: q.sum() - 1}],
                 options={"ftol": 1e-14, "maxiter": 500})  # fmt: skip
    q = np.clip(r.x, 0, None)
    q /= q.sum()
    return q @ Q @ q


@settings(max_examples=30, deadline=None)
@given(st.integers(3, 9), st.integers(2, 4), st.integers(0, 2**31 - 1), st.sampled_from(["inner", "both"]))
def test_ntk_margin_against_slsqp(n, d, seed, layers):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.choice([-1.0, 1.0], n)
    assume(np.linalg.norm(X, axis=1).min() > 1e-3)
    r = M.ntk_margin(D(X, y), layers=layers)
    slsqp = _slsqp_value(np.outer(y, y) * M.ntk(X, layers=layers))
    assert r.lower <= np.sqrt(slsqp) + 1e-9  # weak duality across the two solvers
    assert abs(r.value**2 - slsqp) <= 1e-6
    assert r.upper * r.gap <= 1e-7  # Frank-Wolfe gap of the QP at q
    assert r.q.min() >= 0 and abs(r.q.sum() - 1) < 1e-12


def test_ntk_margin_certificate_is_a_classifier():
    data = rf.datasets.clustered(4, 6, 10, 0.5, seed=2)
    r = M.ntk_margin(data)
    assert r.success and r.status == 0, r.message
    K = M.ntk(data.X, layers="inner")
    assert_allclose(r.u @ K @ r.u, 1.0, rtol=1e-9)  # unit RKHS norm
    assert_allclose((data.y * (K @ r.u)).min(), r.value, rtol=1e-9)
    assert r.lower <= r.upper and r.gap <= M.GAP_TOL


@pytest.mark.parametrize("d", [4, 5, 6, 7, 8])
def test_parity_ntk_margin_closed_form(d):
    data = rf.datasets.sparse_parity(d)
    for layers in ("inner", "both"):
        r = M.ntk_margin(data, layers=layers)
        assert r.success, r.message
        closed = M.parity_ntk_margin(d, layers=layers)
        assert_allclose(r.value, closed.value, rtol=1e-7)
        # the closed form's certificate: the uniform dual and y q / gamma attain it on every point
        assert closed.success and closed.gap == 0 and closed.lower == closed.upper == closed.value
        K = M.ntk(data.X, layers=layers)
        assert_allclose(data.y * (K @ closed.u), closed.value, rtol=1e-9)
        assert_allclose(np.sqrt(closed.q @ (np.outer(data.y, data.y) * K) @ closed.q), closed.value, rtol=1e-9)
    if d in PAPER_NTK:
        assert round(M.parity_ntk_margin(d).value, 4) == PAPER_NTK[d]


@pytest.mark.parametrize("d", [4, 6, 8])
def test_parity_global_margin_exact(d):
    g = M.parity_global_margin(d)
    bound = 1 / np.sqrt(8 * d)
    assert_allclose([g.value, g.upper], bound, rtol=1e-12)
    data = rf.datasets.sparse_parity(d)
    margins = data.y * (np.maximum(data.X @ g.V.T, 0) @ g.u)
    assert_allclose(margins, bound, rtol=1e-12)  # every point sits on the margin
    assert np.abs(g.u).sum() == pytest.approx(1.0)
    # the dual bound: |g(v)| <= 1/sqrt(8d) for random and locally optimised unit v
    rng = np.random.default_rng(d)

    def dual(v):
        v = v / np.linalg.norm(v)
        return -abs(np.mean(data.y * np.maximum(data.X @ v, 0)))

    vals = [dual(v) for v in rng.standard_normal((2000, d))]
    vals += [minimize(dual, v0, method="Nelder-Mead").fun for v0 in rng.standard_normal((5, d))]
    assert -min(vals) <= bound + 1e-12
    # the LP with random directions stays below; adding the four neurons reaches it
    lp = M.global_margin_lower_bound(data, 200, seed=1)
    assert lp.success and abs(lp.gap) <= 1e-8, lp.message
    assert lp.value <= bound + 1e-12
    full = M.norm_only_margin(data, np.r_[g.V, rng.standard_normal((50, d))])
    assert_allclose(full.value, bound, rtol=1e-8)
    assert full.gap <= 1e-8


def test_norm_only_single_direction_closed_form():
    rng = np.random.default_rng(5)
    for _ in range(20):
        X = rng.standard_normal((6, 3))
        y = rng.choice([-1.0, 1.0], 6)
        v = rng.standard_normal((1, 3))
        F = y * np.maximum(X @ v[0], 0) / np.linalg.norm(v)
        r = M.norm_only_margin(D(X, y), v)
        assert_allclose(r.value, max(0.0, F.min(), -F.max()), atol=1e-10)
        assert r.gap <= 1e-9


def test_norm_only_lp_scales():
    data = rf.datasets.sparse_parity(5, n=40, seed=3)
    V = np.random.default_rng(0).standard_normal((30, 5))
    r1, r2 = M.norm_only_margin(data, V), M.norm_only_margin(data, 7 * V)
    assert_allclose(r1.value, r2.value, atol=1e-10)  # directions only
    r3 = M.norm_only_margin(D(2 * data.X, data.y), V)
    assert_allclose(r3.value, 2 * r1.value, atol=1e-10)  # 1-homogeneous in x


def test_datasets():
    data = rf.datasets.sparse_parity(5)
    assert data.X.shape == (32, 5) and len({tuple(x) for x in data.X}) == 32
    assert_allclose(np.linalg.norm(data.X, axis=1), 1.0)
    assert_allclose(data.y, 5 * data.X[:, 0] * data.X[:, 1])
    s1, s2 = rf.datasets.sparse_parity(6, n=50, seed=4), rf.datasets.sparse_parity(6, n=50, seed=4)
    assert s1.X.shape == (50, 6) and np.array_equal(s1.X, s2.X)
    c = rf.datasets.clustered(3, 5, 4, 0.0, seed=1)
    assert c.X.shape == (12, 5)
    assert_allclose(c.X[::4] @ c.X[::4].T, np.eye(3), atol=1e-12)
    assert_allclose(c.y, np.repeat([1.0, -1.0, 1.0], 4))
    assert_allclose(rf.datasets.clustered(2, 3, 2, 0.1, labels=[-1, -1]).y, -1.0)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: M.ntk_margin(D([[1.0, 0.0], [0.0, 1.0]], [1.0, 0.5])), "`y`"),
        (lambda: M.ntk_margin(D([[1.0, 0.0], [0.0, 1.0]], [1.0, 0.0])), "`y`"),
        (lambda: M.ntk_margin(D([[0.0, 0.0], [0.0, 1.0]], [1.0, -1.0])), "`X`"),
        (lambda: M.ntk_margin(D([[1.0, 0.0], [0.0, 1.0]], [1.0, -1.0]), gap_tol=0.0), "`gap_tol`"),
        (lambda: M.arccos_kernel([[0.0, 0.0]]), "`X`"),
        (lambda: M.arccos_kernel([[1.0, 0.0]], [[1.0, 0.0, 0.0]]), "`Z`"),
        (lambda: M.arccos_kernel([[1.0, 0.0]], degree=2), "`degree`"),
        (lambda: M.ntk([[1.0, 0.0]], layers="outer"), "`layers`"),
        (lambda: M.norm_only_margin(D([[1.0, 0.0]], [1.0]), [[0.0, 0.0]]), "`V`"),
        (lambda: M.norm_only_margin(D([[1.0, 0.0]], [1.0]), [[1.0, 0.0, 1.0]]), "`V`"),
        (lambda: M.global_margin_lower_bound(D([[1.0, 0.0]], [1.0]), 0), "`m`"),
        (lambda: rf.datasets.sparse_parity(1), "`d`"),
        (lambda: rf.datasets.clustered(4, 3, 2, 0.1), "`k`"),
        (lambda: rf.datasets.clustered(2, 3, 2, -0.1), "`noise`"),
    ],
)
def test_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_margins_need_a_dataset():
    for call in (lambda: M.ntk_margin([[1.0, 0.0]]), lambda: M.norm_only_margin([[1.0, 0.0]], [[1.0, 0.0]])):
        with pytest.raises(TypeError, match="rf.Dataset"):
            call()


def test_uncertified_margin_warns():
    data = rf.datasets.clustered(3, 4, 5, 0.3, seed=0)
    with pytest.warns(RuntimeWarning, match="not certified"):
        r = M.ntk_margin(data, gap_tol=1e-300)
    assert not r.success and r.status == 1 and r.gap >= 0
