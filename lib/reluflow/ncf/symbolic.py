r"""SymPy derivations of chapter 2, "The neural correlation function and its KKT points"
(``book/ch2_ncf.ipynb``), the exact twins of :mod:`reluflow.ncf`. With frozen residual weights :math:`\rho_i` the flow is
:math:`\dot\theta \in \partial\mathcal N(\theta)` for the neural correlation function

.. math:: \mathcal N(\theta) = \sum_i \rho_i f_\theta(x_i)
          = \sum_j a_j \sum_i \rho_i\,\sigma(\langle w_j, x_i\rangle).

Inside a cell of the activation arrangement, :math:`\sigma(\langle w, x_i\rangle) =
b_i\langle w, x_i\rangle` with constants :math:`b_i \in \{0, 1\}`, so identities checked for
symbolic :math:`b_i` hold in every cell (and, by convexity of the Clarke subdifferential,
for every Clarke subgradient).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import sympy as sp

from .._validation import positive_int
from ..symbolic import Identity

__all__ = [
    "EulerIdentity",
    "ExactCriticalPoint",
    "SingleNeuronMaximum",
    "euler_identity",
    "exact_kkt_points_2d",
    "kkt_multiplier",
    "neuron_reduction",
    "single_neuron_maximum",
]


def _neuron(n: int, d: int):
    """Symbols of one neuron in one cell: a, w, points x_i, weights rho_i, indicators b_i."""
    a = sp.Symbol("a", real=True)
    w = sp.Matrix(sp.symbols(f"w_1:{d + 1}", real=True))
    X = sp.Matrix(n, d, lambda i, k: sp.Symbol(f"x_{i + 1}{k + 1}", real=True))
    rho = sp.symbols(f"rho_1:{n + 1}", real=True)
    b = sp.symbols(f"b_1:{n + 1}", real=True)
    ncf = a * sum(rho[i] * b[i] * (X[i, :] * w)[0] for i in range(n))
    return a, w, X, rho, b, ncf


@dataclass(frozen=True, eq=False)
class EulerIdentity:
    """:func:`euler_identity`: Euler's identity ``euler`` and the norm growth ``growth``."""

    euler: Identity
    growth: Identity


def euler_identity(n: int = 3, d: int = 2) -> EulerIdentity:
    r"""Euler's identity for the NCF and the growth of the norm.

    Book: chapter 2, section "The NCF and its flow". For a subgradient :math:`s` of the
    two-homogeneous :math:`\mathcal N`,

    .. math:: \langle \theta, s\rangle = 2\mathcal N(\theta), \qquad
              \frac{d}{dt}\|\theta\|^2 = 2\langle\theta, \dot\theta\rangle = 4\mathcal N(\theta)
              \ \text{ along } \dot\theta = s .

    Checked for one neuron with ``n`` symbolic points in :math:`\mathbb R^d` (the NCF is a
    sum over neurons, so the identity adds up).

    Returns
    -------
    EulerIdentity
        Euler's identity and the norm-growth identity; both residuals are 0.

    Examples
    --------
    >>> import reluflow as rf
    >>> ei = rf.ncf.symbolic.euler_identity()
    >>> ei.euler.residual, ei.growth.residual
    (0, 0)
    """
    n, d = positive_int(n, "n"), positive_int(d, "d")
    a, w, _, _, _, ncf = _neuron(n, d)
    theta = [a, *w]
    s = [sp.diff(ncf, v) for v in theta]
    inner = sum(v * g for v, g in zip(theta, s, strict=True))
    euler = Identity(inner, 2 * ncf, sp.simplify(inner - 2 * ncf))
    growth_lhs = 2 * inner  # d/dt |theta|^2 = 2 <theta, theta_dot> with theta_dot = s
    return EulerIdentity(euler, Identity(growth_lhs, 4 * ncf, sp.simplify(growth_lhs - 4 * ncf)))


def neuron_reduction(n: int = 3, d: int = 2) -> Identity:
    r"""Per-neuron reduction :math:`a\sum_i\rho_i\sigma(\langle w, x_i\rangle) =
    a\|w\|\,G(\hat w)` with :math:`G(v) = \sum_i \rho_i\sigma(\langle v, x_i\rangle)`.

    Book: chapter 2, section "The alignment function". Written with :math:`w = r u`,
    :math:`r > 0`; it rests on :math:`\sigma(rz) = r\sigma(z)`.

    Examples
    --------
    >>> neuron_reduction().residual
    0
    """
    n, d = positive_int(n, "n"), positive_int(d, "d")
    a = sp.Symbol("a", real=True)
    r = sp.Symbol("r", positive=True)
    u = sp.Matrix(sp.symbols(f"u_1:{d + 1}", real=True))
    X = sp.Matrix(n, d, lambda i, k: sp.Symbol(f"x_{i + 1}{k + 1}", real=True))
    rho = sp.symbols(f"rho_1:{n + 1}", real=True)

    def relu(z):
        return (z + sp.Abs(z)) / 2

    lhs = a * sum(rho[i] * relu((X[i, :] * (r * u))[0]) for i in range(n))
    rhs = a * r * sum(rho[i] * relu((X[i, :] * u)[0]) for i in range(n))
    return Identity(lhs, rhs, sp.simplify(sp.expand(lhs - rhs)))


@dataclass(frozen=True, eq=False)
class SingleNeuronMaximum:
    """Stationary points of :math:`a r g` on :math:`a^2 + r^2 = 1` and the AM-GM gap."""

    points: list
    maximum: sp.Expr
    amgm_gap: Identity


def single_neuron_maximum() -> SingleNeuronMaximum:
    r"""Maximise :math:`a\,r\,g` subject to :math:`a^2 + r^2 = 1`, :math:`r \ge 0`, :math:`g > 0`.

    Book: chapter 2, section "KKT points". Lagrange's conditions give :math:`|a| = r =
    1/\sqrt 2` and the maximum :math:`g/2`; with several neurons,
    :math:`|a_j|\|w_j\| \le \tfrac12(a_j^2 + \|w_j\|^2)` (the gap is
    :math:`\tfrac12(|a_j| - \|w_j\|)^2`), hence
    :math:`\max_{\|\theta\| = 1}\mathcal N = \tfrac12\max_v |G(v)|`.

    Examples
    --------
    >>> single_neuron_maximum().maximum
    g/2
    """
    a, lam = sp.symbols("a lambda", real=True)
    r, g = sp.symbols("r g", positive=True)
    lagrangian = a * r * g - lam * (a**2 + r**2 - 1)
    eqs = [sp.diff(lagrangian, v) for v in (a, r, lam)]
    points = sp.solve(eqs, [a, r, lam], dict=True)
    maximum = max((a * r * g).subs(p) for p in points if p[a] > 0)
    absa = sp.Symbol("A", nonnegative=True)  # |a|
    gap = (absa**2 + r**2) / 2 - absa * r
    return SingleNeuronMaximum(
        points, sp.simplify(maximum), Identity(gap, (absa - r) ** 2 / 2, sp.expand(gap - (absa - r) ** 2 / 2))
    )


def kkt_multiplier() -> Identity:
    r"""At a KKT point of :math:`\max \mathcal N` on the unit sphere, :math:`\lambda = 2\mathcal N`.

    Book: chapter 2, section "KKT points". From :math:`\lambda\theta = s` and
    :math:`\|\theta\| = 1`: :math:`\lambda = \lambda\|\theta\|^2 = \langle\theta, s\rangle =
    2\mathcal N(\theta)` by :func:`euler_identity`. Checked for one neuron: substituting
    :math:`s = \lambda\theta` into Euler's identity and :math:`\|\theta\|^2 = 1`.

    Examples
    --------
    >>> kkt_multiplier().residual
    0
    """
    euler = euler_identity(n=2, d=2).euler
    lam = sp.Symbol("lambda", real=True)
    a, w1, w2 = sp.symbols("a w_1 w_2", real=True)
    # <theta, s> with s = lambda theta equals lambda |theta|^2 = lambda on the sphere.
    inner_at_kkt = lam * (a**2 + w1**2 + w2**2)
    on_sphere = inner_at_kkt.subs(a**2, 1 - w1**2 - w2**2)
    return Identity(lam, euler.rhs, sp.simplify(on_sphere - lam))


@dataclass(frozen=True, eq=False)
class ExactCriticalPoint:
    """An exact critical direction of G on the circle (see :func:`exact_kkt_points_2d`)."""

    v: sp.Matrix
    value: sp.Expr
    active: frozenset
    faces: frozenset
    beta: tuple  # face multipliers in [0, 1] (empty for smooth points)
    kind: str


def _critical_from(X, rho, v, on_face):
    """Certify v (unit) as critical: returns (value, active, faces, beta) or None.

    Faces are the points with <v, x_i> = 0, x_i != 0 and rho_i != 0 (a face with rho_i = 0
    carries no jump). In 2-D they are all parallel to one unit e, and the Clarke condition
    is <D_S, e> + sum_i beta_i rho_i <x_i, e> = 0 for some beta in [0, 1]^faces.
    """
    pre = [sp.nsimplify(sp.simplify((X[i, :] * v)[0])) for i in range(X.rows)]
    faces = sorted(i for i in range(X.rows) if pre[i] == 0 and any(X[i, :]) and rho[i] != 0)
    if not on_face <= set(faces):
        return None
    active = {i for i in range(X.rows) if pre[i].is_positive}
    D = sum((rho[i] * X[i, :].T for i in active), sp.zeros(2, 1))
    beta: tuple = ()
    if faces:
        e = sp.Matrix([-v[1], v[0]])
        c = [sp.simplify(rho[i] * (X[i, :] * e)[0]) for i in faces]
        target = -sp.simplify((D.T * e)[0])
        lower = sum(min(ci, 0) for ci in c)
        upper = sum(max(ci, 0) for ci in c)
        if not (lower <= target <= upper):
            return None
        lam = (target - lower) / (upper - lower) if upper != lower else sp.Integer(0)
        beta = tuple(lam if ci > 0 else (1 - lam if ci < 0 else sp.Integer(0)) for ci in c)
    value = sp.simplify((D.T * v)[0])
    return value, frozenset(active), frozenset(faces), beta


def exact_kkt_points_2d(X, rho) -> list[ExactCriticalPoint]:
    r"""All critical directions of :math:`G(v) = \sum_i\rho_i\sigma(\langle v, x_i\rangle)` on the
    unit circle, in exact arithmetic, for small 2-D data with rational entries.

    Book: chapter 2, section "KKT points, exactly". Smooth candidates are
    :math:`\pm D_S/\|D_S\|` for every activation set :math:`S`, kept when their strict
    activation set is :math:`S` and no point lies on their face. Kink candidates are the
    two unit normals of each :math:`x_k`; such a :math:`v` is critical when
    :math:`\langle D_S, x_k\rangle + \beta\rho_k\|x_k\|^2 = 0` for some
    :math:`\beta \in [0, 1]` (the Clarke condition across the face).

    Parameters
    ----------
    X : sequence of 2-sequences of rationals (n <= 8)
    rho : sequence of rationals

    Returns
    -------
    list of ExactCriticalPoint, sorted by decreasing :math:`|G|`. Directions where no point
    is active (:math:`G \equiv 0` nearby, trivially critical) are left out.

    Examples
    --------
    >>> from sympy import Rational as R
    >>> pts = exact_kkt_points_2d([[1, 0], [R(3, 5), R(4, 5)]], [R(3, 4), R(-1, 4)])
    >>> [(p.kind, p.value, p.beta) for p in pts]
    [('smooth', sqrt(10)/5, ()), ('kink', -1/5, (1/5,))]
    """
    X = sp.Matrix([[sp.nsimplify(v) for v in row] for row in X])
    rho = [sp.nsimplify(r) for r in rho]
    if X.cols != 2 or X.rows != len(rho) or X.rows > 8:
        raise ValueError("`X` must be n x 2 with n <= 8 and `rho` of length n")
    found: dict = {}
    for r in range(1, X.rows + 1):
        for S in itertools.combinations(range(X.rows), r):
            D = sum((rho[i] * X[i, :].T for i in S), sp.zeros(2, 1))
            if D.norm() != 0:
                for sgn in (1, -1):
                    _add(found, X, rho, sgn * D / D.norm(), set(), "smooth", set(S))
    for k in range(X.rows):
        if any(X[k, :]):
            normal = sp.Matrix([-X[k, 1], X[k, 0]]) / X[k, :].norm()
            for sgn in (1, -1):
                _add(found, X, rho, sgn * normal, {k}, "kink")
    return sorted(found.values(), key=lambda p: -abs(float(p.value)))


def _add(found, X, rho, v, on_face, kind, S=None):
    """Certify candidate v and store it; dead directions (nothing active, G = 0 nearby) and
    smooth candidates whose activation set is not S are rejected."""
    v = sp.simplify(v)
    key = tuple(round(float(c), 12) for c in v)
    if key in found:
        return
    res = _critical_from(X, rho, v, on_face)
    if res is None or not res[1] or (kind == "smooth" and (res[2] or res[1] != S)):
        return
    value, active, faces, beta = res
    found[key] = ExactCriticalPoint(v, value, active, faces, beta, kind)
