"""Tests for reluflow.symbolic: SymPy identities and their numpy twins vs scipy."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from reluflow import symbolic as sym

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


@pytest.fixture(scope="module")
def sol():
    return sym.fixed_pattern_solution()


@pytest.fixture(scope="module")
def exit_times():
    """The symbolic exit times as a complex numpy function of (a0, p0, delta, q0, r)."""
    ex = sym.pattern_exit_time()
    S = ex.symbols
    return sp.lambdify((S.a0, S.p0, S.delta, S.q0, S.r), ex.times, "numpy")


def _instance(seed, d=None, scale=1.0):
    rng = np.random.default_rng(seed)
    d = d or int(rng.integers(1, 5))
    return scale * rng.standard_normal(), scale * rng.standard_normal(d), rng.standard_normal(d)


# --- homogeneity and balancedness -------------------------------------------------------


@pytest.mark.parametrize(("d", "m"), [(1, 1), (2, 1), (3, 2)])
def test_homogeneity_residuals_vanish(d, m):
    h = sym.homogeneity(d, m)
    assert h.scaling.residual == 0
    assert h.euler.residual == 0
    assert h.scaling.lhs != h.scaling.rhs  # a real identity, not a syntactic one


def test_homogeneity_sides_agree_numerically_and_fail_for_negative_c():
    rng = np.random.default_rng(0)
    h = sym.homogeneity(2, 2)
    args = sorted(h.scaling.lhs.free_symbols, key=str)  # a_1, a_2, c, w_11, ..., x_2
    scaled, target = (sp.lambdify(args, e) for e in (h.scaling.lhs, h.scaling.rhs))
    grad, twice_f = (sp.lambdify(args, e) for e in (h.euler.lhs, h.euler.rhs))
    c_index = [s.name for s in args].index("c")
    for _ in range(10):
        values = rng.standard_normal(len(args))
        values[c_index] = 1.7
        assert_allclose(scaled(*values), target(*values), rtol=1e-12, atol=1e-12)
        assert_allclose(grad(*values), twice_f(*values), rtol=1e-12, atol=1e-12)
    # negative control: the ReLU is not homogeneous for c < 0, and the sides then differ
    values[c_index] = -1.0
    assert abs(scaled(*values) - target(*values)) > 1e-3


def test_balancedness_derivative_is_zero():
    ident = sym.balancedness_derivative(3)
    assert ident.lhs.has(sp.Derivative)
    assert ident.residual == 0


# --- fixed-pattern solution: symbolic -----------------------------------------------------


def test_fixed_pattern_matches_spec_and_initial_conditions(sol):
    S = sol.symbols
    t, a0, p0, dl = S.t, S.a0, S.p0, S.delta
    spec_a = a0 * sp.cosh(dl * t) + p0 / dl * sp.sinh(dl * t)
    spec_A = a0 / dl * sp.sinh(dl * t) + p0 / dl**2 * (sp.cosh(dl * t) - 1)
    assert sp.simplify(sol.a - spec_a) == 0
    assert sp.simplify(sol.A - spec_A) == 0
    assert sp.simplify(sp.diff(sol.a, t, 2) - dl**2 * sol.a) == 0
    assert sp.simplify(sp.diff(sol.A, t) - sol.a) == 0
    assert (sol.a.subs(t, 0), sp.diff(sol.a, t).subs(t, 0), sol.A.subs(t, 0)) == (a0, p0, 0)
    assert sp.simplify(sol.p - (p0 + dl**2 * sol.A)) == 0  # p = <w0 + A D, D>


def test_fixed_pattern_balancedness_symbolic(sol):
    S = sol.symbols
    # a^2 - |w|^2 - (a0^2 - |w0|^2) = a^2 - 2 A p0 - A^2 delta^2 - a0^2
    drift = sol.a**2 - 2 * sol.A * S.p0 - sol.A**2 * S.delta**2 - S.a0**2
    assert sp.simplify(drift.rewrite(sp.exp)) == 0


@pytest.mark.parametrize("d", [1, 3])
def test_fixed_pattern_residual_vanishes(d):
    ident = sym.fixed_pattern_residual(d)
    assert ident.residual.shape == (d + 1, 1)
    assert ident.residual == sp.zeros(d + 1, 1)


def test_stable_form_equals_closed_form(sol):
    S = sol.symbols
    for expr in (sol.a, sol.A):
        stable = sym._stable(expr, S)
        back = stable.replace(sym._Sinhc, lambda z: sp.sinh(z) / z)
        assert sp.simplify((back - expr).rewrite(sp.exp)) == 0


# --- fixed-pattern solution: numeric twin -------------------------------------------------


def _ivp(a0, w0, D, t_eval):
    def rhs(_, z):
        return np.concatenate([[z[1:] @ D], z[0] * D])

    out = solve_ivp(
        rhs,
        (0, t_eval[-1]),
        np.concatenate([[a0], w0]),
        method="DOP853",
        t_eval=t_eval,
        rtol=1e-13,
        atol=1e-14,
    )
    assert out.success
    return out.y[0], out.y[1:].T


@settings(max_examples=25, deadline=None, database=None)
@given(seed=SEEDS)
def test_numeric_twin_matches_solve_ivp(seed):
    a0, w0, D = _instance(seed)
    t = np.linspace(0.0, 2.0 / np.linalg.norm(D), 15)
    a, w = sym.fixed_pattern_numeric(a0, w0, D, t)
    assert a.shape == t.shape and w.shape == (t.size, w0.size)
    a_ref, w_ref = _ivp(a0, w0, D, t)
    scale = abs(a0) + np.linalg.norm(w0)
    assert_allclose(a, a_ref, rtol=1e-10, atol=1e-10 * scale)
    assert_allclose(w, w_ref, rtol=1e-10, atol=1e-10 * scale)
    # balancedness a^2 - |w|^2 is conserved along the closed form
    assert_allclose(a**2 - np.sum(w**2, axis=1), a0**2 - w0 @ w0, atol=1e-11 * scale**2 * 50)


def test_numeric_twin_small_and_zero_delta():
    a0, w0 = 0.7, np.array([0.3, -1.1])
    t = np.array([0.0, 0.5, 3.0])
    a, w = sym.fixed_pattern_numeric(a0, w0, np.zeros(2), t)
    assert_allclose(a, a0)
    assert_allclose(w, np.tile(w0, (3, 1)))
    D = 1e-9 * np.array([1.0, 2.0])  # limit delta -> 0: a = a0 + p0 t, A = a0 t + p0 t^2/2
    p0 = w0 @ D
    a, w = sym.fixed_pattern_numeric(a0, w0, D, t)
    assert_allclose(a, a0 + p0 * t, rtol=1e-15)
    assert_allclose(w, w0 + np.outer(a0 * t + p0 * t**2 / 2, D), rtol=1e-15)


def test_sinhc_series_branch():
    x = np.array([0.0, 1e-7, -3e-5, 9e-5, 2e-4, 1e-2, 1.0, -5.0])
    safe = np.where(x == 0, 1.0, x)
    assert_allclose(sym._np_sinhc(x), np.where(x == 0, 1.0, np.sinh(safe) / safe), rtol=1e-15)


def test_numeric_twin_scalar_time():
    a, w = sym.fixed_pattern_numeric(1.0, [1.0, 0.0], [0.0, 2.0], 0.25)
    a_vec, w_vec = sym.fixed_pattern_numeric(1.0, [1.0, 0.0], [0.0, 2.0], [0.25])
    assert a.shape == () and w.shape == (2,)
    assert_allclose(a, a_vec[0])
    assert_allclose(w, w_vec[0])


# --- exit times -----------------------------------------------------------------------------


def test_exit_quadratics_match_the_documented_coefficients():
    ex = sym.pattern_exit_time()
    a0, p0, dl, q0, r = (getattr(ex.symbols, n) for n in ("a0", "p0", "delta", "q0", "r"))
    s_doc = [r * (a0 * dl + p0), 2 * (dl**2 * q0 - r * p0), r * (p0 - a0 * dl)]
    u_doc = [r * (a0 * dl + p0), 2 * (r * a0 + dl * q0), 2 * q0]
    for poly, doc in ((ex.s_quadratic, s_doc), (ex.u_quadratic, u_doc)):
        assert poly.degree() == 2
        assert all(sp.expand(c - e) == 0 for c, e in zip(poly.all_coeffs(), doc, strict=False))
    assert len(ex.s_roots) == len(ex.times) == 2
    for root in ex.s_roots:  # each root solves the quadratic
        assert sp.simplify(ex.s_quadratic.as_expr().subs(ex.symbols.s, root)) == 0


def _brute_force_exit(a0, w0, D, x, t_max, n=40001):
    """First sign change of h(t) = <w(t), x> on a fine grid, refined by brentq."""

    def h(s):
        return sym.fixed_pattern_numeric(a0, w0, D, s)[1] @ x

    grid = np.linspace(0.0, t_max, n)[1:]
    values = h(grid)
    change = np.flatnonzero(np.sign(values[:-1]) != np.sign(values[1:]))
    if change.size == 0:
        return np.inf
    k = change[0]
    return brentq(h, grid[k], grid[k + 1], xtol=1e-15, rtol=1e-14)


@pytest.mark.parametrize("seed", range(40))
def test_exit_time_matches_brute_force(seed):
    a0, w0, D = _instance(seed, d=3)
    x = np.random.default_rng(seed + 1000).standard_normal(3)
    t_max = 6.0 / np.linalg.norm(D)
    expected = _brute_force_exit(a0, w0, D, x, t_max)
    got = sym.exit_time(a0, w0, D, x)
    if np.isfinite(expected):
        assert_allclose(got, expected, rtol=1e-9)
    else:
        assert got > t_max * (1 - 1e-9)


def test_exit_time_long_crossing():
    """A point almost orthogonal to D is crossed late, at delta t ~ ln(1/|<D, x>|)."""
    a0, w0, D = 1.0, np.array([0.5, -0.5]), np.array([1.0, 0.0])
    x = np.array([1e-10, 1.0])  # <w0, x> ~ -0.5 < 0, <D, x> = 1e-10 > 0: the point enters
    got = sym.exit_time(a0, w0, D, x)
    expected = _brute_force_exit(a0, w0, D, x, 40.0, n=200001)
    assert got > 20
    assert_allclose(got, expected, rtol=1e-10)


@settings(max_examples=40, deadline=None, database=None)
@given(seed=SEEDS)
def test_exit_time_is_a_zero_and_agrees_with_sympy_roots(seed, exit_times):
    a0, w0, D = _instance(seed)
    x = np.random.default_rng(seed).standard_normal(w0.size)
    got = sym.exit_time(a0, w0, D, x)
    args = [complex(v) for v in (a0, w0 @ D, np.linalg.norm(D), w0 @ x, D @ x)]
    with np.errstate(all="ignore"):
        times = np.array(exit_times(*args), dtype=complex)
    positive = times.real[(np.abs(times.imag) < 1e-12) & (times.real > 0)]
    if positive.size == 0:
        assert got == np.inf
        return
    assert_allclose(got, positive.min(), rtol=1e-9)
    _, w = sym.fixed_pattern_numeric(a0, w0, D, got)
    # h(t*) = <w0, x> + <A(t*) D, x> = 0 up to rounding relative to the two cancelling terms
    assert abs(w @ x) <= 1e-9 * (abs(w0 @ x) + abs((w - w0) @ x))


def test_exit_time_degenerate_cases():
    a0, w0, D = 1.0, np.array([1.0, 1.0]), np.array([-1.0, 0.0])
    assert sym.exit_time(a0, w0, D, [0.0, 1.0]) == np.inf  # <D, x> = 0: constant
    assert sym.exit_time(a0, w0, np.zeros(2), [1.0, 1.0]) == np.inf  # D = 0
    assert sym.exit_time(a0, np.array([1.0, 0.0]), D, [0.0, 1.0]) == np.inf  # h == 0
    # start on the boundary (<w0, x> = 0): t = 0 is not an exit
    t = sym.exit_time(-1.0, np.array([0.0, 1.0]), np.array([1.0, 0.0]), [1.0, 0.0])
    # a(t) = -cosh t, A(t) = -sinh t < 0: h = -sinh t never returns to 0
    assert t == np.inf
    # balanced decay: w0 = (1, 0), D = (-1, 0), a0 = 1 gives h = e^{-t} > 0
    assert sym.exit_time(1.0, [1.0, 0.0], [-1.0, 0.0], [1.0, 0.0]) == np.inf
    # a linear-in-u case (c2 = 0: a0 delta + p0 = 0) with a root: compare with brentq
    a0, w0, D, x = 1.0, np.array([-1.0, 0.0]), np.array([1.0, 0.0]), np.array([1.0, 1.0])
    w0 = w0 + np.array([0.0, 0.3])
    assert_allclose(sym.exit_time(a0, w0, D, x), _brute_force_exit(a0, w0, D, x, 10.0))


def test_exit_time_small_delta_matches_limit():
    """delta = 1e-12 and a crossing at t ~ 3: the s-form would lose all digits here."""
    a0, w0, x = 0.5, np.array([-1e-12, 5.0]), np.array([1.0, 0.0])
    D = 1e-12 * np.array([0.6, 0.8])
    q0, r, p0 = w0 @ x, D @ x, w0 @ D
    roots = np.roots(np.array([r * p0 / 2, r * a0, q0]) / 1e-12)  # q0 + r(a0 t + p0 t^2/2)
    expected = min(t.real for t in roots if t.imag == 0 and t.real > 0)
    assert 1 < expected < 10
    assert_allclose(sym.exit_time(a0, w0, D, x), expected, rtol=1e-10)


def test_exit_time_vectorised_over_points():
    a0, w0, _ = _instance(7, d=3)
    D = np.array([1.0, 2.0, 0.0])
    X = np.random.default_rng(8).standard_normal((6, 3))
    X[0] = [2.0, -1.0, 5.0]  # <D, x> = 0 exactly -> inf
    times = sym.exit_time(a0, w0, D, X)
    assert times.shape == (6,) and times[0] == np.inf
    assert_allclose(times, [sym.exit_time(a0, w0, D, x) for x in X])


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ((np.nan, [1.0, 0.0], [1.0, 0.0], 1.0), "a0"),
        (([1.0], [1.0, 0.0], [1.0, 0.0], 1.0), "a0"),
        ((1.0, [[1.0, 0.0]], [1.0, 0.0], 1.0), "w0"),
        ((1.0, [1.0, np.inf], [1.0, 0.0], 1.0), "w0"),
        ((1.0, [1.0, 0.0], [1.0, 0.0, 0.0], 1.0), "D"),
        ((1.0, [1.0, 0.0], [1.0, 0.0], [[1.0]]), "t"),
        ((1.0, [1.0, 0.0], [1.0, 0.0], [0.0, np.nan]), "t"),
    ],
)
def test_fixed_pattern_numeric_rejects_bad_input(args, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        sym.fixed_pattern_numeric(*args)


@pytest.mark.parametrize("x", [[1.0, 0.0, 0.0], np.ones((2, 3)), np.ones((2, 2, 2)), [np.nan, 1.0]])
def test_exit_time_rejects_bad_x(x):
    with pytest.raises(ValueError, match="`x`"):
        sym.exit_time(1.0, [1.0, 0.0], [1.0, 0.0], x)


@pytest.mark.parametrize("func", [sym.homogeneity, sym.balancedness_derivative, sym.fixed_pattern_residual])
def test_symbolic_sizes_are_validated(func):
    with pytest.raises(ValueError, match="`d`"):
        func(0)
