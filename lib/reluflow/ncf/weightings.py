r"""One function under four weightings (book chapter 6, ``book/ch6_synthesis.ipynb``, section "One
function, four weightings").

The correlation :math:`G_\rho(v) = \sum_i\rho_i\sigma(\langle v, x_i\rangle)` is linear in the
weights :math:`\rho`, and for a balanced neuron :math:`a_j = s_j\|w_j\|` gradient flow gives,
exactly,

.. math:: \frac{d}{dt}\ln\|w_j\| = s_j\,G_{\rho(t)}(\hat w_j),\qquad
          \rho_i(t) = -\frac{\partial L}{\partial f(x_i)}(t).

So every weighting of the book is a reading of the flow's own residuals: :math:`\rho(0)`
(the NCF), :math:`\rho` on a plateau (the saddle-relative NCF), and their time integral
(:func:`residual_integral`), which on a dual clock gives the dual certificates of the
minimum-norm and maximum-margin problems. The SymPy derivations here (:func:`growth_identity`,
:func:`linearity`, :func:`orthogonal_parallelism`, :func:`parity_correlation`) load SymPy on
first call.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from .._validation import positive_int
from ..data import Dataset
from ..diagnostics import outputs
from ..gradient import check_problem
from ..losses import LossLike
from ..trajectory import Trajectory

__all__ = ["growth_identity", "linearity", "orthogonal_parallelism", "ParityCorrelation",
           "parity_correlation", "residual_integral"]  # fmt: skip


def _identity(lhs, rhs, residual):
    from ..symbolic import Identity

    return Identity(lhs, rhs, residual)


def _cell(n: int, d: int):
    """Symbols of one balanced neuron w (norm r) in one cell: points, weights, indicators."""
    import sympy as sp

    w = sp.Matrix(sp.symbols(f"w_1:{d + 1}", real=True))
    X = sp.Matrix(n, d, lambda i, k: sp.Symbol(f"x_{i + 1}{k + 1}", real=True))
    rho = sp.symbols(f"rho_1:{n + 1}", real=True)
    b = sp.symbols(f"b_1:{n + 1}", real=True)  # 1[<w, x_i> > 0], constant in the cell
    return w, X, rho, b


def growth_identity(n: int = 3, d: int = 2):
    r"""The growth identity :math:`\frac{d}{dt}\ln\|w\| = s\,G_\rho(w/\|w\|)` for a balanced
    neuron :math:`a = s\|w\|` (book chapter 6, "One function, four weightings").

    In a cell of the activation arrangement (indicators :math:`b_i` symbolic, so every cell),
    :math:`\dot w = aD` with :math:`D = \sum_i b_i\rho_ix_i`, and
    :math:`\frac{d}{dt}\ln\|w\| = \langle w, \dot w\rangle/\|w\|^2`. The residual weights
    :math:`\rho_i` are arbitrary symbols: the identity holds at every time, whatever the loss.

    Returns
    -------
    reluflow.symbolic.Identity
        Residual 0.

    Examples
    --------
    >>> import reluflow as rf
    >>> rf.ncf.growth_identity().residual
    0
    """
    import sympy as sp

    n, d = positive_int(n, "n"), positive_int(d, "d")
    w, X, rho, b = _cell(n, d)
    s = sp.Symbol("s", real=True)
    r = sp.sqrt((w.T * w)[0])
    D = sum((b[i] * rho[i] * X[i, :].T for i in range(n)), sp.zeros(d, 1))
    lhs = (w.T * (s * r * D))[0] / r**2
    rhs = s * sum(rho[i] * b[i] * (X[i, :] * w)[0] for i in range(n)) / r
    return _identity(lhs, rhs, sp.simplify(lhs - rhs))


def linearity(n: int = 3, d: int = 2):
    r""":math:`G_\rho` is linear in the weights: :math:`G_{\rho + \lambda\sigma} = G_\rho +
    \lambda G_\sigma` (book chapter 6, "One function, four weightings"). With the growth
    identity, a neuron whose direction stays at v gains :math:`\int_0^T G_{\rho(t)}(v)\,dt =
    G_{\int_0^T\rho\,dt}(v)` in log-norm: the time integral of the residuals is a weighting too.

    Examples
    --------
    >>> import reluflow as rf
    >>> rf.ncf.linearity().residual
    0
    """
    import sympy as sp

    n, d = positive_int(n, "n"), positive_int(d, "d")
    w, X, rho, _ = _cell(n, d)
    sigma = sp.symbols(f"sigma_1:{n + 1}", real=True)
    lam = sp.Symbol("lambda", real=True)

    def G(weights):
        return sum(weights[i] * sp.Max(0, (X[i, :] * w)[0]) for i in range(n))

    lhs = G([rho[i] + lam * sigma[i] for i in range(n)])
    rhs = G(rho) + lam * G(sigma)
    return _identity(lhs, rhs, sp.expand(lhs - rhs))


def orthogonal_parallelism():
    r"""On orthogonal inputs :math:`x_k = r_ke_k` (square loss, weights 1/n), the NCF
    maximiser of a class and its minimum-norm neuron (chapter 3) are parallel exactly when
    the input norms are equal (book chapter 6, "One function, four weightings").

    For two points of one class, labels :math:`y_1, y_2 > 0`: the maximiser has coordinates
    :math:`\rho^0_kr_k = y_kr_k/n`, the minimum-norm neuron :math:`\beta` has :math:`y_k/r_k`.
    Their cross product is :math:`y_1y_2(r_1^2 - r_2^2)/(n r_1r_2)`.

    Returns
    -------
    reluflow.symbolic.Identity
        ``lhs`` the cross product, ``rhs`` its factored form, residual 0; substituting
        :math:`r_2 = r_1` in ``rhs`` gives 0.

    Examples
    --------
    >>> import reluflow as rf
    >>> rf.ncf.orthogonal_parallelism().rhs
    y_1*y_2*(r_1 - r_2)*(r_1 + r_2)/(n*r_1*r_2)
    """
    import sympy as sp

    y1, y2, r1, r2, n = sp.symbols("y_1 y_2 r_1 r_2 n", positive=True)
    lhs = (y1 * r1 / n) * (y2 / r2) - (y2 * r2 / n) * (y1 / r1)
    rhs = y1 * y2 * (r1 - r2) * (r1 + r2) / (n * r1 * r2)
    return _identity(lhs, rhs, sp.simplify(lhs - rhs))


@dataclass(frozen=True, eq=False)
class ParityCorrelation:
    r""":func:`parity_correlation`: the correlation of 2-sparse parity, exactly.

    Attributes
    ----------
    identity : reluflow.symbolic.Identity
        :math:`g(v) = \mathbb E[y\,\sigma(\langle v, x\rangle)]` against
        :math:`(\mathbb E|a + b + Z| - \mathbb E|a - b + Z|)/(4\sqrt d)`; residual 0.
    at_parity : sympy.Expr
        :math:`g((1, 1, 0, \dots)/\sqrt 2)`.
    bound : reluflow.symbolic.Identity
        ``at_parity`` against :math:`1/\sqrt{8d}`; residual 0.
    d : int
    """

    identity: object
    at_parity: object
    bound: object
    d: int


def parity_correlation(d: int = 4) -> ParityCorrelation:
    r"""The correlation of 2-sparse parity on all :math:`2^d` points, exactly (book chapter 6,
    "From early alignment to the global margin").

    With :math:`x \in \{\pm1/\sqrt d\}^d`, :math:`y = d\,x_1x_2`, :math:`v = (a, b, c_3, \dots)`
    and :math:`Z = \sum_{k \ge 3}c_ks_k` (:math:`s_k = \pm1` uniform),

    .. math:: g(v) = \mathbb E[y\,\sigma(\langle v, x\rangle)]
              = \frac{\mathbb E|a + b + Z| - \mathbb E|a - b + Z|}{4\sqrt d}
              \qquad (\sigma(z) = (z + |z|)/2),

    checked symbolically over all points. Since :math:`Z` is symmetric, the reverse triangle
    inequality gives :math:`|g(v)| \le \min(|a|, |b|)/(2\sqrt d) \le 1/\sqrt{8d}` on the unit
    sphere, with equality only at :math:`(\pm1, \pm1, 0, \dots, 0)/\sqrt 2`, where ``bound``
    checks the value. Uniform dual weights :math:`q` are therefore optimal for the margin LP
    (the four parity neurons attain :math:`1/\sqrt{8d}`, ``rf.margins.parity_global_margin``),
    and the logistic :math:`\rho^0 = y/(2n) = q\circ y/2` makes the NCF's maximisers exactly
    the global-margin neurons.

    Parameters
    ----------
    d : int
        Dimension, 3 <= d <= 6 (:math:`2^d` symbolic terms).

    Examples
    --------
    >>> import reluflow as rf
    >>> pc = rf.ncf.parity_correlation(3)
    >>> pc.identity.residual, pc.bound.residual
    (0, 0)
    """
    import sympy as sp

    d = positive_int(d, "d")
    if not 3 <= d <= 6:
        raise ValueError(f"`d` must lie in [3, 6] (2^d symbolic terms); got {d}")
    v = sp.symbols(f"v_1:{d + 1}", real=True)
    a, b, c = v[0], v[1], v[2:]

    def relu(z):
        return (z + sp.Abs(z)) / 2

    pts = list(itertools.product((1, -1), repeat=d))
    g = sum(p[0] * p[1] * relu(sum(vi * pi for vi, pi in zip(v, p, strict=True)) / sp.sqrt(d)) for p in pts) / len(pts)
    Zs = [sum(ck * sk for ck, sk in zip(c, s, strict=True)) for s in itertools.product((1, -1), repeat=d - 2)]
    rhs = (sum(sp.Abs(a + b + Z) for Z in Zs) - sum(sp.Abs(a - b + Z) for Z in Zs)) / (len(Zs) * 4 * sp.sqrt(d))
    identity = _identity(g, rhs, sp.simplify(sp.expand(g - rhs)))
    at = sp.nsimplify(g.subs({a: 1 / sp.sqrt(2), b: 1 / sp.sqrt(2), **{ck: 0 for ck in c}}))
    target = 1 / sp.sqrt(8 * d)
    return ParityCorrelation(identity, at, _identity(at, target, sp.simplify(at - target)), d)


def residual_integral(traj: Trajectory, data: Dataset, loss: LossLike) -> np.ndarray:
    r"""The time integral of the residual weights along a run,
    :math:`P(T) = \int_0^T\rho(t)\,dt`, shape (n,), by the trapezoid rule on the snapshots
    (book chapter 6, "One function, four weightings").

    By :func:`linearity` and the growth identity, a neuron that stays at direction v gains
    :math:`s\,G_{P(T)}(v)` in log-norm. Divided by :math:`\ln(1/\varepsilon)`, :math:`P` is the
    weighting that every surviving neuron has climbed; for square loss on orthogonal inputs it
    tends to the minimum-norm dual certificate :math:`\nu` of chapter 3 (our derivation,
    checked in chapter 6). Accuracy is that of the trapezoid rule on ``traj.t``: use dense
    snapshots.

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.datasets.orthogonal([1.0, -1.0])
    >>> traj = rf.gradient_flow(rf.small_init(4, 2, 1e-3, seed=0), data, "square", 1.0, t_eval=[0.0, 0.5, 1.0])
    >>> rf.ncf.residual_integral(traj, data, "square").round(3)  # rho stays near y/n while the net is small
    array([ 0.5, -0.5])
    """
    if not isinstance(traj, Trajectory):
        raise TypeError(f"`traj` must be a rf.Trajectory; got {type(traj).__name__}")
    lo = check_problem(traj.net(0), data, loss)
    R = np.array([lo.residuals(f, data) for f in outputs(traj, data)])
    return np.trapezoid(R, traj.t, axis=0)
