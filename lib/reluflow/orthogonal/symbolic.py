r"""SymPy derivations for chapter 3, "Orthogonal inputs: alignment, saddle-to-saddle, minimum norm".

Book file ``book/ch3_orthogonal.ipynb`` (Boursier, Pillaud-Vivien & Flammarion, NeurIPS 2022).
Pairwise-orthogonal inputs are written, after a rotation (which preserves every inner product
and hence the whole flow), as :math:`x_k = r_k e_k` with norms :math:`r_k > 0`. The square loss
is :math:`L = \frac1{2n}\sum_k (f(x_k) - y_k)^2`, so the residual weights are
:math:`\rho_k = (y_k - f(x_k))/n`, and one neuron follows :math:`\dot a = \langle w, D\rangle`,
:math:`\dot w = aD`, :math:`D = \sum_k \rho_k\,\mathbb 1[\langle w, x_k\rangle > 0]\,x_k`.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .._validation import positive_int
from ..symbolic import Identity, pattern_exit_time

__all__ = [
    "FrozenCoordinates",
    "LogisticLaw",
    "MinNormDuality",
    "exit_time_scale_invariance",
    "frozen_coordinates",
    "logistic_law",
    "min_norm_duality",
]


def _relu(z):
    """ReLU as :math:`(z + |z|)/2`, which SymPy simplifies under sign assumptions."""
    return (z + sp.Abs(z)) / 2


@dataclass(frozen=True, eq=False)
class FrozenCoordinates:
    r""":func:`frozen_coordinates`: the rates :math:`\frac{d}{dt}\langle w, x_k\rangle` (an n x 1
    matrix) in a cell with activation indicators :math:`b_k`, their closed form, the inactive
    case, and the rate of an inactive point for a general (non-orthogonal) Gram matrix."""

    rates: sp.Matrix
    closed_form: Identity
    inactive: Identity
    general_inactive: sp.Expr


def frozen_coordinates(n: int = 3) -> FrozenCoordinates:
    r"""Orthogonal inputs freeze the pre-activations of inactive points.

    Book: chapter 3, section "What orthogonality buys". In a cell where point :math:`i` is
    active iff :math:`b_i = 1` (:math:`b_i \in \{0, 1\}` symbolic, so the identity holds in
    every cell, and for any residual weights :math:`\rho_i`),

    .. math:: \frac{d}{dt}\langle w, x_k\rangle = a\sum_i b_i\rho_i\langle x_i, x_k\rangle
              = a\,\rho_k\,b_k\,r_k^2 ,

    which vanishes for an inactive point (:math:`b_k = 0`): it can never switch on again, and
    activation sets only shrink. For a general Gram matrix :math:`g_{ik} = \langle x_i, x_k
    \rangle` the inactive rate is :math:`a\sum_{i \ne k} b_i\rho_i g_{ik}`, which is not zero
    (``general_inactive``, for :math:`k = 1`).

    Parameters
    ----------
    n : int
        Number of points (and the dimension).

    Examples
    --------
    >>> fc = frozen_coordinates(2)
    >>> fc.closed_form.residual.T, fc.inactive.residual.T
    (Matrix([[0, 0]]), Matrix([[0, 0]]))
    >>> fc.general_inactive
    a*b_2*g_12*rho_2
    """
    n = positive_int(n, "n")
    a = sp.Symbol("a", real=True)
    rho = sp.symbols(f"rho_1:{n + 1}", real=True)
    b = sp.symbols(f"b_1:{n + 1}", real=True)
    r = sp.symbols(f"r_1:{n + 1}", positive=True)
    X = sp.diag(*r)  # row k is x_k = r_k e_k
    w_dot = a * sum((b[i] * rho[i] * X[i, :].T for i in range(n)), sp.zeros(n, 1))
    rates = X * w_dot
    expected = sp.Matrix([a * rho[k] * b[k] * r[k] ** 2 for k in range(n)])
    closed = Identity(rates, expected, sp.simplify(rates - expected))
    off = sp.Matrix([rates[k].subs(b[k], 0) for k in range(n)])
    inactive = Identity(off, sp.zeros(n, 1), sp.simplify(off))
    g = sp.Matrix(n, n, lambda i, k: sp.Symbol(f"g_{min(i, k) + 1}{max(i, k) + 1}", real=True))
    general = (a * sum(b[i] * rho[i] * g[i, 0] for i in range(n))).subs(b[0], 0)
    return FrozenCoordinates(rates, closed, inactive, sp.expand(general))


def exit_time_scale_invariance() -> Identity:
    r"""With frozen residuals, the time at which a point leaves a neuron's pattern does not
    depend on the initialisation scale.

    Book: chapter 3, section "Early alignment". The exit times of
    :func:`reluflow.symbolic.pattern_exit_time` are functions of :math:`(a_0, p_0, q_0)` that
    are homogeneous of degree 0: scaling :math:`(a_0, w_0)` by :math:`\lambda > 0` scales
    :math:`p_0 = \langle w_0, D\rangle` and :math:`q_0 = \langle w_0, x\rangle` by
    :math:`\lambda` and leaves both roots unchanged. Returns the identity between the two
    root tuples (residual: a tuple of zeros).

    Examples
    --------
    >>> exit_time_scale_invariance().residual
    (0, 0)
    """
    ex = pattern_exit_time()
    S, lam = ex.symbols, sp.Symbol("lambda", positive=True)
    scaled = tuple(
        t.subs({S.a0: lam * S.a0, S.p0: lam * S.p0, S.q0: lam * S.q0}, simultaneous=True) for t in ex.times
    )
    return Identity(
        scaled, ex.times, tuple(sp.simplify(s - t) for s, t in zip(scaled, ex.times, strict=True))
    )


@dataclass(frozen=True, eq=False)
class LogisticLaw:
    r""":func:`logistic_law`: derivation of :math:`\dot u = \frac2n u(K - u)`, its solution and the
    escape time. ``symbols`` maps names (``t``, ``n``, ``K``, ``u0``, ``eps``, ``c``) to symbols."""

    residual: Identity
    direction: Identity  # the parts of dw_j/dt orthogonal to beta (zero)
    ode: Identity
    solution: sp.Expr
    solution_check: Identity
    half_time: sp.Expr
    half_check: Identity
    class_loss_at_half: Identity
    leading_order: Identity
    symbols: dict


def logistic_law(points: int = 3, neurons: int = 2) -> LogisticLaw:
    r"""The mass of aligned neurons on one class grows logistically (unit-norm inputs).

    Book: chapter 3, section "Saddle to saddle". Take one class of ``points`` unit inputs
    :math:`e_k` with labels :math:`y_k > 0`, :math:`K = \|y\|`, and ``neurons`` balanced neurons
    along :math:`\hat\beta = y/K`: :math:`w_j = \sqrt{u_j}\,\hat\beta`, :math:`a_j = \sqrt{u_j}`.
    With :math:`u = \sum_j u_j = \sum_j\|w_j\|^2`,

    .. math:: f(e_k) = \frac{u}{K}y_k, \qquad y_k - f(e_k) = y_k\Big(1 - \frac uK\Big), \qquad
              \dot w_j \parallel \hat\beta, \qquad \dot u = \frac2n\,u\,(K - u).

    The residual stays proportional to :math:`y`, so the neurons stay aligned and the law is
    exact. ``sympy.dsolve`` gives :math:`u(t) = K/(1 + (K/u_0 - 1)e^{-2Kt/n})`; the class is
    half fit (:math:`u = K/2`, class loss a quarter of its initial value) at

    .. math:: t_{1/2} = \frac{n}{2K}\ln\Big(\frac{K}{u_0} - 1\Big), \qquad
              t_{1/2} - \frac{n\ln(1/\varepsilon)}{K} \to \frac{n}{2K}\ln\frac Kc
              \quad (u_0 = c\,\varepsilon^2,\ \varepsilon \to 0).

    Examples
    --------
    >>> law = logistic_law()
    >>> law.ode.residual, law.solution_check.residual, law.half_check.residual
    (0, 0, 0)
    >>> law.half_time
    n*log(K/u_0 - 1)/(2*K)
    """
    points, neurons = positive_int(points, "points"), positive_int(neurons, "neurons")
    t, n = sp.Symbol("t", nonnegative=True), sp.Symbol("n", positive=True)
    y = sp.Matrix(sp.symbols(f"y_1:{points + 1}", positive=True))
    uj = sp.symbols(f"u_1:{neurons + 1}", positive=True)
    K, u = sp.sqrt(sum(v**2 for v in y)), sum(uj)
    beta = y / K
    W = [sp.sqrt(v) * beta for v in uj]
    f = sp.Matrix([sum(sp.sqrt(v) * _relu(w[k]) for v, w in zip(uj, W, strict=True)) for k in range(points)])
    res = y - f
    residual = Identity(res, y * (1 - u / K), sp.simplify(res - y * (1 - u / K)))
    D = res / n  # sum_k rho_k e_k: every point of the class is active
    w_dot = [sp.sqrt(v) * D for v in uj]  # a_j D
    cross = sp.Matrix.hstack(*(wd - (wd.T * beta)[0] * beta for wd in w_dot))  # parts orthogonal to beta
    direction = Identity(cross, sp.zeros(*cross.shape), sp.simplify(cross))
    u_dot = sum(2 * (w.T * wd)[0] for w, wd in zip(W, w_dot, strict=True))  # sum_j d/dt |w_j|^2
    Ks, u0 = sp.Symbol("K", positive=True), sp.Symbol("u_0", positive=True)
    law = 2 / n * u * (K - u)
    ode = Identity(u_dot, law, sp.simplify(u_dot - law))
    uf = sp.Function("u")
    sol = sp.dsolve(
        sp.Eq(uf(t).diff(t), 2 / n * uf(t) * (Ks - uf(t))), uf(t), hint="Bernoulli", ics={uf(0): u0}
    ).rhs
    logistic = Ks / (1 + (Ks / u0 - 1) * sp.exp(-2 * Ks * t / n))
    check = Identity(sol, logistic, sp.simplify(sol - logistic))
    half = n / (2 * Ks) * sp.log(Ks / u0 - 1)
    half_check = Identity(logistic.subs(t, half), Ks / 2, sp.simplify(logistic.subs(t, half) - Ks / 2))
    loss = Ks**2 * (1 - sp.Symbol("v") / Ks) ** 2 / (2 * n)  # class loss with u = v
    quarter = Identity(
        loss.subs("v", Ks / 2),
        loss.subs("v", 0) / 4,
        sp.simplify(loss.subs("v", Ks / 2) - loss.subs("v", 0) / 4),
    )
    eps, c = sp.symbols("epsilon c", positive=True)
    gap = sp.limit(half.subs(u0, c * eps**2) - n * sp.log(1 / eps) / Ks, eps, 0, "+")
    target = n / (2 * Ks) * sp.log(Ks / c)
    leading = Identity(gap, target, sp.simplify(sp.expand_log(gap - target, force=True)))
    names = dict(t=t, n=n, K=Ks, u0=u0, eps=eps, c=c)
    return LogisticLaw(residual, direction, ode, sol, check, half, half_check, quarter, leading, names)


@dataclass(frozen=True, eq=False)
class MinNormDuality:
    r""":func:`min_norm_duality`: the primal minimiser and the dual certificate, exactly.
    ``value`` is :math:`\|z^+\| + \|z^-\|`, ``nu`` the dual vector; ``labels``, ``norms`` are
    the symbols used."""

    value: sp.Expr
    nu: sp.Matrix
    interpolation: Identity
    primal: Identity
    dual: Identity
    dual_norms: Identity
    reduction: Identity
    cauchy_schwarz: Identity
    certificate: Identity
    labels: tuple
    norms: tuple


def min_norm_duality(n_plus: int = 2, n_minus: int = 1) -> MinNormDuality:
    r"""Minimum-norm interpolation of orthogonal data: primal value = dual value.

    Book: chapter 3, section "The minimum-norm interpolator". Points :math:`x_k = r_k e_k`,
    the first ``n_plus`` with labels :math:`y_k = p_k > 0`, the others :math:`y_k = -q_k < 0`;
    :math:`z_k = y_k/r_k`. Checked exactly:

    - the network with neurons :math:`(\pm\|\beta_\pm\|^{1/2}, \beta_\pm/\|\beta_\pm\|^{1/2})`,
      :math:`\beta_\pm = \sum_{\pm y_k > 0} |y_k| x_k/r_k^2`, interpolates (``interpolation``)
      with :math:`\frac12\|\theta\|^2 = \|z^+\| + \|z^-\|` (``primal``);
    - :math:`\nu_k = \mu_k/r_k` with :math:`\mu = z^+/\|z^+\| - z^-/\|z^-\|` has
      :math:`\langle\nu, y\rangle = \|z^+\| + \|z^-\|` (``dual``) and
      :math:`\|\mu^+\| = \|\mu^-\| = 1` (``dual_norms``);
    - :math:`G_\nu(v) = \sum_k\nu_k\sigma(\langle v, x_k\rangle) = \sum_k \mu_k\sigma(v_k)`
      (``reduction``), so by Cauchy--Schwarz (Lagrange's identity, ``cauchy_schwarz``)
      :math:`-\|\mu^-\| \le G_\nu(v) \le \|\mu^+\|` on the unit sphere: :math:`\nu` is dual
      feasible, :math:`|G_\nu| \le 1`;
    - :math:`G_\nu = \pm 1` at the two neurons (``certificate``): complementary slackness.

    Weak duality (:math:`\langle\nu, y\rangle = \sum_j a_j\|w_j\|G_\nu(\hat w_j) \le
    \sum_j|a_j|\|w_j\| \le \frac12\|\theta\|^2` for every interpolant) then proves the minimum.

    Examples
    --------
    >>> md = min_norm_duality(1, 1)
    >>> md.value
    p_1/r_1 + q_2/r_2
    >>> md.primal.residual, md.dual.residual, md.dual_norms.residual
    (0, 0, (0, 0))
    """
    n_plus, n_minus = positive_int(n_plus, "n_plus"), positive_int(n_minus, "n_minus")
    n = n_plus + n_minus
    p = sp.symbols(f"p_1:{n_plus + 1}", positive=True)
    q = sp.symbols(f"q_{n_plus + 1}:{n + 1}", positive=True)
    r = sp.symbols(f"r_1:{n + 1}", positive=True)
    y = sp.Matrix([*p, *(-v for v in q)])
    X = sp.diag(*r)
    z = sp.Matrix([y[k] / r[k] for k in range(n)])
    zp = sp.Matrix([*z[:n_plus], *([0] * n_minus)])
    zm = sp.Matrix([*([0] * n_plus), *(-z[k] for k in range(n_plus, n))])  # |z^-|, entrywise >= 0
    value = sp.sqrt(sum(v**2 for v in zp)) + sp.sqrt(sum(v**2 for v in zm))
    # primal: beta_pm = sum |y_k| x_k / r_k^2 has coordinates |z_k|
    neurons = []
    for sign, beta in ((1, zp), (-1, zm)):
        nb = sp.sqrt(sum(v**2 for v in beta))
        neurons.append((sign * sp.sqrt(nb), beta / sp.sqrt(nb)))
    f = sp.Matrix([sum(a * _relu((X[k, :] * w)[0]) for a, w in neurons) for k in range(n)])
    interpolation = Identity(f, y, sp.simplify(f - y))
    half_norm = sum(a**2 + (w.T * w)[0] for a, w in neurons) / 2
    primal = Identity(half_norm, value, sp.simplify(half_norm - value))
    mu = zp / sp.sqrt(sum(v**2 for v in zp)) - zm / sp.sqrt(sum(v**2 for v in zm))
    nu = sp.Matrix([mu[k] / r[k] for k in range(n)])
    dual_value = (nu.T * y)[0]
    dual = Identity(dual_value, value, sp.simplify(dual_value - value))
    norms = (sum(mu[k] ** 2 for k in range(n_plus)), sum(mu[k] ** 2 for k in range(n_plus, n)))
    dual_norms = Identity(norms, (1, 1), tuple(sp.simplify(v - 1) for v in norms))
    v = sp.Matrix(sp.symbols(f"v_1:{n + 1}", real=True))

    def G(vec):
        return sum(nu[k] * _relu((X[k, :] * vec)[0]) for k in range(n))

    reduced = sum(mu[k] * _relu(v[k]) for k in range(n))
    reduction = Identity(G(v), reduced, sp.simplify(G(v) - reduced))
    N = max(n_plus, n_minus)
    m_, s_ = sp.symbols(f"m_1:{N + 1}", real=True), sp.symbols(f"s_1:{N + 1}", real=True)
    lhs = sum(a**2 for a in m_) * sum(b**2 for b in s_) - sum(a * b for a, b in zip(m_, s_, strict=True)) ** 2
    rhs = sum((m_[i] * s_[j] - m_[j] * s_[i]) ** 2 for i in range(N) for j in range(i + 1, N))
    cauchy = Identity(lhs, rhs, sp.expand(lhs - rhs))
    at = tuple(sp.simplify(G(w / sp.sqrt((w.T * w)[0]))) for _, w in neurons)
    certificate = Identity(at, (1, -1), tuple(sp.simplify(g - e) for g, e in zip(at, (1, -1), strict=True)))
    return MinNormDuality(
        value, nu, interpolation, primal, dual, dual_norms, reduction, cauchy, certificate, tuple(y), tuple(r)
    )
