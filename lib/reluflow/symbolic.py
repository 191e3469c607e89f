r"""SymPy derivations of the core, chapter 1, "Two-layer ReLU networks under gradient flow"
(``book/ch1_gradient_flow.ipynb``), and the :class:`Identity` record that the ``symbolic``
module of every topic package returns.

Each function derives its result with SymPy and returns the expressions;
:func:`fixed_pattern_numeric` and :func:`exit_time` are their ``lambdify``'d numpy twins.
One neuron of :math:`f_\theta(x) = \sum_j a_j\sigma(\langle w_j, x\rangle)` follows

.. math:: \dot a = \langle w, D\rangle, \qquad \dot w = a D, \qquad
          D = \sum_i \rho_i\,\mathbb 1[\langle w, x_i\rangle > 0]\,x_i ,

and :math:`D` is constant while the activation pattern and the residual weights
:math:`\rho_i` are frozen: the ODE is then linear and solved in closed form here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import sympy as sp

from ._validation import as_finite_array, positive_int

__all__ = [
    "FixedPatternSolution",
    "Homogeneity",
    "Identity",
    "PatternExit",
    "PatternSymbols",
    "balancedness_derivative",
    "exit_time",
    "fixed_pattern_numeric",
    "fixed_pattern_residual",
    "fixed_pattern_solution",
    "homogeneity",
    "pattern_exit_time",
]

#: Below this :math:`|x|`, :math:`\sinh(x)/x` is evaluated by its Taylor series.
SINHC_SERIES_CUTOFF = 1e-4

_Sinhc = sp.Function("sinhc")  # sinh(x)/x, continuous at 0; numpy twin: _np_sinhc


@dataclass(frozen=True, eq=False)
class Identity:
    """An identity ``lhs == rhs`` and its SymPy-simplified ``residual`` (0 when it holds); the
    record of every derivation in ``rf.symbolic`` and the topics' ``symbolic`` modules."""

    lhs: sp.Expr | sp.Matrix
    rhs: sp.Expr | sp.Matrix
    residual: sp.Expr | sp.Matrix


@dataclass(frozen=True, eq=False)
class Homogeneity:
    """Two-homogeneity :math:`f_{c\\theta} = c^2 f_\\theta` and Euler's identity."""

    scaling: Identity
    euler: Identity


@dataclass(frozen=True, eq=False)
class PatternSymbols:
    r"""Symbols of :func:`fixed_pattern_solution` and :func:`pattern_exit_time` (named there)."""

    t: sp.Symbol
    a0: sp.Symbol
    p0: sp.Symbol
    delta: sp.Symbol
    q0: sp.Symbol
    r: sp.Symbol
    s: sp.Symbol
    u: sp.Symbol


@dataclass(frozen=True, eq=False)
class FixedPatternSolution:
    r"""Closed form :math:`a(t)`, :math:`A(t) = \int_0^t a`, :math:`p(t) = \langle w(t), D\rangle`;
    the weights are :math:`w(t) = w_0 + A(t)\,D`."""

    a: sp.Expr
    A: sp.Expr
    p: sp.Expr
    symbols: PatternSymbols


@dataclass(frozen=True, eq=False)
class PatternExit:
    r"""Zeros of :math:`\langle w(t), x\rangle`: quadratic in :math:`s = e^{\delta t}`, its roots,
    times :math:`\ln(s)/\delta`, and the quadratic in :math:`u = (s - 1)/\delta`."""

    s_quadratic: sp.Poly
    s_roots: tuple
    times: tuple
    u_quadratic: sp.Poly
    symbols: PatternSymbols


def _neuron_terms(a: sp.Matrix, W: sp.Matrix, x: sp.Matrix) -> list:
    r"""The terms :math:`a_j\sigma(\langle w_j, x\rangle)` with :math:`\sigma(z) = (z + |z|)/2`."""
    return [aj * (z + sp.Abs(z)) / 2 for aj, z in zip(a, W * x, strict=False)]


def _termwise(lhs: list, rhs: list) -> Identity:
    """Identity between two sums, simplified term by term (one term per neuron)."""
    residual = sp.Add(*[sp.simplify(left - right) for left, right in zip(lhs, rhs, strict=False)])
    return Identity(sp.Add(*lhs), sp.Add(*rhs), residual)


def homogeneity(d: int = 2, m: int = 1) -> Homogeneity:
    r"""Prove that the network is two-homogeneous, and Euler's identity, for symbolic weights.

    Book: chapter 1, section "Homogeneity".

    .. math:: f_{c\theta}(x) = c^2 f_\theta(x) \ (c > 0), \qquad
              \langle \theta, \nabla_\theta f_\theta(x)\rangle = 2 f_\theta(x).

    With :math:`\sigma(z) = (z + |z|)/2` SymPy uses :math:`|cz| = c|z|` (:math:`c > 0`); then
    :math:`\sigma'(0) = 1/2`, but Euler's identity holds for any value of :math:`\sigma'(0)`
    (it multiplies :math:`\langle w_j, x\rangle = 0`). Simplified neuron by neuron.

    Parameters
    ----------
    d, m : int
        Input dimension and number of neurons (symbols ``a_j``, ``w_jk``, ``x_k``, ``c``).

    Returns
    -------
    Homogeneity
        ``scaling`` and ``euler``, each an :class:`Identity` whose ``residual`` is 0.

    Examples
    --------
    >>> h = homogeneity(d=2, m=2)
    >>> h.scaling.residual, h.euler.residual
    (0, 0)
    """
    d, m = positive_int(d, "d"), positive_int(m, "m")
    c = sp.Symbol("c", positive=True)
    a = sp.Matrix(sp.symbols(f"a_1:{m + 1}", real=True))
    W = sp.Matrix(m, d, lambda j, k: sp.Symbol(f"w_{j + 1}{k + 1}", real=True))
    x = sp.Matrix(sp.symbols(f"x_1:{d + 1}", real=True))
    terms, scaled = _neuron_terms(a, W, x), _neuron_terms(c * a, c * W, x)
    grads = [sum(th * sp.diff(term, th) for th in [a[j], *W[j, :]]) for j, term in enumerate(terms)]
    return Homogeneity(_termwise(scaled, [c**2 * f for f in terms]), _termwise(grads, [2 * f for f in terms]))


def _neuron_ode(d: int) -> tuple:
    """Per-neuron ODE with a constant symbolic D: (t, a(t), w(t), D, {derivative: rhs})."""
    t = sp.Symbol("t", real=True)
    a = sp.Function("a")(t)
    w = sp.Matrix([sp.Function(f"w_{k}")(t) for k in range(1, d + 1)])
    D = sp.Matrix(sp.symbols(f"D_1:{d + 1}", real=True))
    ode = {a.diff(t): w.dot(D), **{wk.diff(t): a * Dk for wk, Dk in zip(w, D, strict=False)}}
    return t, a, w, D, ode


def balancedness_derivative(d: int = 3) -> Identity:
    r"""Show that :math:`a^2 - \|w\|^2` is conserved by the per-neuron ODE.

    Book: chapter 1, section "Balancedness".

    .. math:: \frac{d}{dt}\big(a^2 - \|w\|^2\big) = 2a\langle w, D\rangle
              - 2\langle w, aD\rangle = 0 .

    It is algebraic in :math:`D`, so it holds whatever the activation pattern.

    Returns
    -------
    Identity
        ``lhs`` written with ``Derivative`` objects, ``rhs = 0``, and ``residual`` (0), the
        simplified ``lhs`` after substituting the ODE.
    """
    t, a, w, _, ode = _neuron_ode(positive_int(d, "d"))
    lhs = sp.diff(a**2 - w.dot(w), t)
    return Identity(lhs, sp.S.Zero, sp.simplify(lhs.subs(ode)))


def _pattern_symbols() -> PatternSymbols:
    t, a0, p0, q0, r, u = sp.symbols("t a_0 p_0 q_0 r u", real=True)
    delta, s = sp.symbols("delta s", positive=True)
    return PatternSymbols(t, a0, p0, delta, q0, r, s, u)


def _reduced_matrix(S: PatternSymbols) -> sp.Matrix:
    r"""Derive :math:`\tfrac{d}{dt}(a, p) = M (a, p)` for :math:`p = \langle w, D\rangle`."""
    t, a, w, D, ode = _neuron_ode(3)
    p_dot = sp.factor(sp.diff(w.dot(D), t).subs(ode)).subs(D.dot(D), S.delta**2)
    a_sym, p_sym = sp.symbols("a p")
    rates = sp.Matrix([p_sym, p_dot.subs(a, a_sym)])  # a' = <w, D> = p by definition
    return rates.jacobian([a_sym, p_sym])


@cache  # no arguments, immutable result: derive once
def fixed_pattern_solution() -> FixedPatternSolution:
    r"""Solve the per-neuron ODE inside a fixed activation pattern (constant :math:`D`).

    Book: chapter 1, section "Exact solution in a fixed activation pattern". With
    :math:`p = \langle w, D\rangle`, :math:`\dot a = p` and :math:`\dot p = \|D\|^2 a`, so
    :math:`\ddot a = \delta^2 a` with :math:`\delta = \|D\|`. The matrix exponential gives

    .. math:: a(t) = a_0\cosh(\delta t) + \frac{p_0}{\delta}\sinh(\delta t), \qquad
              A(t) = \int_0^t a = \frac{a_0}{\delta}\sinh(\delta t)
                     + \frac{p_0}{\delta^2}\big(\cosh(\delta t) - 1\big),

    and :math:`\dot w = aD` integrates to :math:`w(t) = w_0 + A(t)\,D`: the part of
    :math:`w` orthogonal to :math:`D` is frozen.

    Returns
    -------
    FixedPatternSolution
        ``a``, ``A``, ``p`` in the symbols ``t, a_0, p_0, delta`` (field ``symbols``).

    Examples
    --------
    >>> fixed_pattern_solution().a
    a_0*cosh(delta*t) + p_0*sinh(delta*t)/delta
    """
    S = _pattern_symbols()
    M = _reduced_matrix(S)
    expm = (M * S.t).exp().applyfunc(lambda e: sp.simplify(e.rewrite(sp.cosh)))
    a, p = expm * sp.Matrix([S.a0, S.p0])
    A = sp.simplify(sp.integrate(a, (S.t, 0, S.t)))
    return FixedPatternSolution(a, A, p, S)


def fixed_pattern_residual(d: int = 3) -> Identity:
    r"""Check that :math:`a(t)` and :math:`w(t) = w_0 + A(t) D` solve the ODE in dimension ``d``.

    Book: chapter 1, section "Exact solution in a fixed activation pattern". Puts
    :math:`p_0 = \langle w_0, D\rangle`, :math:`\delta = \|D\|` for symbolic
    :math:`w_0, D \in \mathbb R^d` into :func:`fixed_pattern_solution`.

    Returns
    -------
    Identity
        ``lhs`` :math:`(\dot a, \dot w)` and ``rhs`` :math:`(\langle w, D\rangle, aD)` as
        ``(d + 1) x 1`` matrices; ``residual``, their simplified difference, is zero.
    """
    d = positive_int(d, "d")
    sol = fixed_pattern_solution()
    S = sol.symbols
    w0 = sp.Matrix(sp.symbols(f"w_01:{d + 1}", real=True))
    D = sp.Matrix(sp.symbols(f"D_1:{d + 1}", real=True))
    values = {S.p0: w0.dot(D), S.delta: sp.sqrt(D.dot(D))}
    a, w = sol.a.subs(values), w0 + sol.A.subs(values) * D
    lhs = sp.Matrix([sp.diff(a, S.t), *sp.diff(w, S.t)])
    rhs = sp.Matrix([w.dot(D), *(a * D)])
    return Identity(lhs, rhs, (lhs - rhs).applyfunc(sp.simplify))


@cache  # no arguments, immutable result: derive once
def pattern_exit_time() -> PatternExit:
    r"""Times at which a data point crosses the boundary of the fixed pattern.

    Book: chapter 1, section "Leaving the pattern". For a point :math:`x` let
    :math:`q_0 = \langle w_0, x\rangle`, :math:`r = \langle D, x\rangle`. The pre-activation
    :math:`h(t) = \langle w(t), x\rangle = q_0 + r A(t)` vanishes when (with
    :math:`s = e^{\delta t}`, after multiplying by :math:`2\delta^2 s`)

    .. math:: r(a_0\delta + p_0)\,s^2 + 2(\delta^2 q_0 - r p_0)\,s + r(p_0 - a_0\delta) = 0,
              \qquad t^\star = \ln(s)/\delta \ \text{ for a root } s > 1,

    .. math:: s_\pm = \frac{r p_0 - \delta^2 q_0 \pm \delta\sqrt{a_0^2 r^2 - 2 p_0 q_0 r
              + \delta^2 q_0^2}}{r(a_0\delta + p_0)} .

    These assume :math:`r(a_0\delta + p_0) \ne 0`. In :math:`u = (e^{\delta t} - 1)/\delta`
    (:math:`\to t` as :math:`\delta \to 0`) it reads :math:`r(a_0\delta + p_0)u^2
    + 2(r a_0 + \delta q_0)u + 2q_0 = 0`, the form :func:`exit_time` uses.

    Returns
    -------
    PatternExit
    """
    sol = fixed_pattern_solution()
    S = sol.symbols
    h = S.q0 + S.r * sol.A
    h_s = sp.expand(h.subs(S.t, sp.log(S.s) / S.delta).rewrite(sp.exp))
    s_quadratic = sp.Poly(sp.numer(sp.together(h_s)), S.s)
    s_roots = tuple(sp.solve(s_quadratic.as_expr(), S.s))
    times = tuple(sp.log(root) / S.delta for root in s_roots)
    u_expr = sp.cancel(s_quadratic.as_expr().subs(S.s, 1 + S.delta * S.u) / S.delta**2)
    return PatternExit(s_quadratic, s_roots, times, sp.Poly(u_expr, S.u), S)


def _stable(expr: sp.Expr, S: PatternSymbols) -> sp.Expr:
    r"""Rewrite with :math:`\operatorname{sinhc}(x) = \sinh(x)/x`, finite at :math:`\delta = 0`."""
    x = S.delta * S.t
    half = expr.subs(sp.cosh(x), 1 + 2 * sp.sinh(x / 2) ** 2)
    return sp.expand(half.replace(sp.sinh, lambda z: z * _Sinhc(z)))


def _np_sinhc(x):
    x = np.asarray(x, dtype=float)
    small = np.abs(x) < SINHC_SERIES_CUTOFF
    safe = np.where(small, 1.0, x)
    return np.where(small, 1.0 + x * x / 6.0, np.sinh(safe) / safe)


@cache
def _twins() -> tuple[Callable, Callable, Callable]:
    """numpy ``a(t, a0, p0, delta)``, ``A(...)`` (valid down to ``delta = 0``) and the
    u-quadratic's coefficients ``(a0, p0, delta, q0, r) -> (c2, c1, c0)``; memoised."""
    ex = pattern_exit_time()
    S, sol = ex.symbols, fixed_pattern_solution()
    args, modules = (S.t, S.a0, S.p0, S.delta), [{"sinhc": _np_sinhc}, "numpy"]
    a_fn, A_fn = (sp.lambdify(args, _stable(e, S), modules=modules) for e in (sol.a, sol.A))
    coeffs = sp.lambdify((S.a0, S.p0, S.delta, S.q0, S.r), ex.u_quadratic.all_coeffs())
    return a_fn, A_fn, coeffs


def _check_vectors(a0, w0, D) -> tuple[float, np.ndarray, np.ndarray]:
    a0 = float(as_finite_array(a0, "a0", ndim=0))
    w0, D = as_finite_array(w0, "w0", ndim=1), as_finite_array(D, "D", ndim=1)
    if D.shape != w0.shape:
        raise ValueError(f"`D` must have the shape of `w0` {w0.shape}; got {D.shape}")
    return a0, w0, D


def fixed_pattern_numeric(a0: float, w0, D, t) -> tuple[np.ndarray, np.ndarray]:
    r"""numpy twin of :func:`fixed_pattern_solution`: :math:`a(t)` and :math:`w(t) = w_0 + A(t)D`.

    Book: chapter 1, section "Exact solution in a fixed activation pattern". Evaluated as
    :math:`a = a_0\cosh(\delta t) + p_0 t\,\operatorname{sinhc}(\delta t)`,
    :math:`A = a_0 t\,\operatorname{sinhc}(\delta t)
    + \tfrac12 p_0 t^2 \operatorname{sinhc}(\delta t/2)^2`, which is accurate for small
    :math:`\delta` and exact at :math:`D = 0` (then :math:`a = a_0`, :math:`w = w_0`).
    Large :math:`\delta t` overflows to ``inf`` like ``np.cosh``.

    Parameters
    ----------
    a0 : float
    w0, D : array_like, shape (d,)
    t : float or array_like, shape (k,)

    Returns
    -------
    a, w : ndarray, shapes () and (d,), or (k,) and (k, d)

    Raises
    ------
    ValueError
        If an input is not finite or the shapes disagree.
    """
    a0, w0, D = _check_vectors(a0, w0, D)
    t = as_finite_array(t, "t")
    if t.ndim > 1:
        raise ValueError(f"`t` must be a scalar or 1-D; got an array of shape {t.shape}")
    a, A = (np.asarray(fn(t, a0, float(w0 @ D), float(np.linalg.norm(D)))) for fn in _twins()[:2])
    return a, w0 + A[..., None] * D


def _quadratic_roots(c2, c1, c0) -> tuple[np.ndarray, np.ndarray]:
    """Both real roots (NaN where missing) without cancellation; linear if ``c2 == 0``."""
    disc = c1 * c1 - 4.0 * c2 * c0
    sq = np.sqrt(np.where(disc >= 0, disc, np.nan))
    q = -0.5 * (c1 + np.copysign(sq, c1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(c2 != 0, q / c2, np.nan), np.where(q != 0, c0 / q, np.nan)


def exit_time(a0: float, w0, D, x) -> float | np.ndarray:
    r"""First time :math:`t^\star > 0` with :math:`\langle w(t), x\rangle = 0` in a fixed pattern.

    Book: chapter 1, section "Leaving the pattern". Twin of :func:`pattern_exit_time`:
    solves :math:`r(a_0\delta + p_0)u^2 + 2(r a_0 + \delta q_0)u + 2q_0 = 0` and returns
    :math:`t^\star = \ln(1 + \delta u)/\delta` (via ``log1p``) for the smallest root
    :math:`u > 0`. The point leaves the active set if :math:`\langle w_0, x\rangle > 0`, enters
    it if :math:`< 0`. A tangential zero counts (up to rounding of the discriminant).

    Parameters
    ----------
    a0 : float
    w0, D : array_like, shape (d,)
    x : array_like, shape (d,) or (n, d)

    Returns
    -------
    float or ndarray, shape (n,)
        ``np.inf`` where :math:`\langle w(t), x\rangle` has no zero for :math:`t > 0`, e.g. if
        :math:`\langle D, x\rangle = 0` (constant, possibly 0) or :math:`D = 0`.

    Raises
    ------
    ValueError
        If an input is not finite or the shapes disagree.

    Examples
    --------
    Here :math:`a(t) = e^{-t}` and :math:`h(t) = 0.3 - e^{-t}`, so :math:`t^\star = \ln(10/3)`:

    >>> round(exit_time(1.0, [-1.0, 0.3], [1.0, 0.0], [1.0, 1.0]), 6)
    1.203973
    """
    a0, w0, D = _check_vectors(a0, w0, D)
    X = as_finite_array(x, "x")
    if X.ndim not in (1, 2) or X.shape[-1] != w0.size:
        raise ValueError(f"`x` must have shape ({w0.size},) or (n, {w0.size}); got {X.shape}")
    delta = float(np.linalg.norm(D))
    q0, r = np.atleast_2d(X) @ w0, np.atleast_2d(X) @ D
    t_star = np.full(q0.shape, np.inf)
    moving = r != 0  # r = <D, x> = 0 (always so when D = 0): constant pre-activation
    if delta > 0 and np.any(moving):
        coeffs = _twins()[2](a0, float(w0 @ D), delta, q0[moving], r[moving])
        roots = np.stack(_quadratic_roots(*np.broadcast_arrays(*coeffs)))
        u = np.min(np.where(roots > 0, roots, np.inf), axis=0)
        t_star[moving] = np.log1p(delta * u) / delta  # accurate for small and large delta*u
    return float(t_star[0]) if X.ndim == 1 else t_star
