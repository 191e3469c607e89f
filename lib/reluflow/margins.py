r"""NTK margins, the global margin and low rotation (book chapter 5, ``book/ch5_margins.ipynb``;
Telgarsky, "Feature selection and low test error in shallow low-rotation ReLU networks", ICLR 2023).

The paper's definitions and normalisations could not be checked against its full text; what is
here is **our reconstruction**, with these choices. Inputs are used as given (the paper assumes
:math:`\|x\| \le 1`; our datasets have :math:`\|x\| = 1`). The NTK margin uses the *inner-layer*
features :math:`\phi(x)(v) = x\,\mathbb 1[v^\top x > 0]`, :math:`v \sim \mathcal N(0, I_d)`, with
:math:`\|\bar\theta\|_{L^2(\mathcal N)} \le 1`. The global margin is the variation-norm margin
:math:`\gamma_{\rm gl} = \max_{\|\mu\|_{TV} \le 1} \min_i y_i \int_{S^{d-1}} \sigma(\langle v,
x_i\rangle)\,d\mu(v)` (for a balanced two-homogeneous network, twice the best normalised margin).

Every margin comes as a :class:`MarginResult` with a certificate: an explicit classifier that
attains ``lower`` on the data and dual weights :math:`q` on the simplex whose dual objective is
``upper``; the true margin lies in ``[lower, upper]``, and ``gap = upper - lower``.
"""

from __future__ import annotations

import warnings
from math import comb
from typing import NamedTuple

import clarabel
import numpy as np
import sympy as sp
from scipy import sparse
from scipy.optimize import linprog

from ._validation import as_finite_array, pm_one_labels, positive_int, positive_scalar
from .datasets import sparse_parity

__all__ = [
    "GAP_TOL", "MarginResult", "SymbolicKernel", "arccos_kernel", "arccos_kernel_symbolic", "global_margin_lower_bound", "norm_only_margin", "ntk", "ntk_margin", "parity_global_margin",
    "parity_ntk_margin", "relative_movement", "rotation", ]  # fmt: skip

#: A margin is reported with ``success=True`` when its certified gap is at most this.
GAP_TOL = 1e-6
_LAYERS = ("inner", "both")


class MarginResult(NamedTuple):
    r"""A certified margin.

    ``value`` (= ``lower``) is attained on the data by the classifier that ``u`` (and ``V``)
    define; ``upper`` is the dual objective at the simplex weights ``q`` (``q_i > 0`` marks the
    support vectors). Weak duality gives ``lower <= margin <= upper``; ``gap = upper - lower``.
    For :func:`ntk_margin`, ``u`` holds :math:`c` with :math:`\bar\theta = \sum_i c_i\phi(x_i)`,
    so the classifier is :math:`x \mapsto \sum_i c_i K(x_i, x)`, and ``V`` is None. For the
    LP margins, ``u`` are the output weights of the neurons ``V`` (unit rows).
    """

    value: float
    lower: float
    upper: float
    gap: float
    q: np.ndarray
    u: np.ndarray
    V: np.ndarray | None
    success: bool
    message: str


class SymbolicKernel(NamedTuple):
    """:func:`arccos_kernel_symbolic`: the SymPy closed form in ``theta`` and its numpy twin."""

    expr: sp.Expr
    theta: sp.Symbol
    func: object


def _points(X, name: str) -> np.ndarray:
    X = as_finite_array(X, name, ndim=2)
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"`{name}` must have at least one row and one column; got shape {X.shape}")
    zero = np.flatnonzero(np.linalg.norm(X, axis=1) == 0)
    if zero.size:
        raise ValueError(f"`{name}` must have non-zero rows (the angle is undefined); row {zero[0]} is 0")
    return X


def _geometry(X, Z):
    X = _points(X, "X")
    Z = X if Z is None else _points(Z, "Z")
    if Z.shape[1] != X.shape[1]:
        raise ValueError(f"`Z` must have d={X.shape[1]} columns like X; got {Z.shape[1]}")
    nx, nz = np.linalg.norm(X, axis=1), np.linalg.norm(Z, axis=1)
    G = X @ Z.T
    theta = np.arccos(np.clip(G / np.outer(nx, nz), -1.0, 1.0))
    return G, np.outer(nx, nz), theta


def arccos_kernel(X, Z=None, degree: int = 1) -> np.ndarray:
    r"""Arc-cosine kernel of degree 0 or 1 (Cho & Saul 2009), :math:`w \sim \mathcal N(0, I_d)`.

    .. math::
        k_0(x, z) = \mathbb E\,\mathbb 1[w^\top x > 0]\,\mathbb 1[w^\top z > 0] = \frac{\pi - \theta}{2\pi},
        \qquad k_1(x, z) = \mathbb E\,\sigma(w^\top x)\,\sigma(w^\top z)
        = \|x\|\|z\|\,\frac{\sin\theta + (\pi - \theta)\cos\theta}{2\pi},

    with :math:`\theta = \angle(x, z)` (derivation: :func:`arccos_kernel_symbolic`).

    Parameters
    ----------
    X : array_like, shape (n_x, d)
    Z : array_like, shape (n_z, d), optional
        Default ``X``.
    degree : {0, 1}

    Returns
    -------
    ndarray, shape (n_x, n_z)

    Raises
    ------
    ValueError
        For non-finite inputs, zero rows, mismatched ``d`` or another ``degree``.

    Examples
    --------
    >>> from reluflow import margins
    >>> margins.arccos_kernel([[1.0, 0.0]], [[0.0, 2.0]], degree=0)
    array([[0.25]])
    """
    if degree not in (0, 1):
        raise ValueError(f"`degree` must be 0 or 1; got {degree!r}")
    _, norms, theta = _geometry(X, Z)
    if degree == 0:
        return (np.pi - theta) / (2 * np.pi)
    return norms * (np.sin(theta) + (np.pi - theta) * np.cos(theta)) / (2 * np.pi)


def arccos_kernel_symbolic(degree: int) -> SymbolicKernel:
    r"""Derive the arc-cosine kernel for unit :math:`x, z` with SymPy.

    Only the projection of :math:`w` on :math:`\mathrm{span}(x, z)` matters; it is a 2-D standard
    Gaussian :math:`r(\cos\varphi, \sin\varphi)`, :math:`\varphi` uniform and independent of
    :math:`r^2 \sim \chi^2_2` (:math:`\mathbb E r^2 = 2`). With :math:`x = (1, 0)`, :math:`z =
    (\cos\theta, \sin\theta)`, both are active for :math:`\varphi \in (\theta - \pi/2, \pi/2)`, so

    .. math:: k_p(\theta) = \frac{\mathbb E r^{2p}}{2\pi}\int_{\theta-\pi/2}^{\pi/2}
              \cos^p\varphi\,\cos^p(\varphi - \theta)\,d\varphi,\qquad 0 \le \theta \le \pi.

    Examples
    --------
    >>> from reluflow import margins
    >>> margins.arccos_kernel_symbolic(0).expr
    (pi - theta)/(2*pi)
    """
    if degree not in (0, 1):
        raise ValueError(f"`degree` must be 0 or 1; got {degree!r}")
    theta, phi = sp.symbols("theta phi", real=True)
    integrand = (sp.cos(phi) * sp.cos(phi - theta)) ** degree
    radial = 2 if degree == 1 else 1
    expr = sp.simplify(radial * sp.integrate(integrand, (phi, theta - sp.pi / 2, sp.pi / 2)) / (2 * sp.pi))
    return SymbolicKernel(expr, theta, sp.lambdify(theta, expr, "numpy"))


def ntk(X, Z=None, layers: str = "both") -> np.ndarray:
    r"""Neural tangent kernel of :math:`f(x) = \frac1{\sqrt m}\sum_j a_j\sigma(w_j^\top x)` at
    :math:`m \to \infty`, :math:`a_j \sim \mathcal N(0, 1)`, :math:`w_j \sim \mathcal N(0, I_d)`.

    .. math::
        \Theta(x, z) = k_1(x, z) + \langle x, z\rangle k_0(x, z)
        = \|x\|\|z\|\,\frac{\sin\theta + 2(\pi - \theta)\cos\theta}{2\pi}
        \quad(\text{both layers}),\qquad
        K(x, z) = \langle x, z\rangle\,\frac{\pi - \theta}{2\pi}\quad(\text{inner layer}).

    The outer layer contributes :math:`k_1` (gradient :math:`\sigma(w_j^\top x)/\sqrt m`), the
    inner layer :math:`\mathbb E a^2\,\langle x, z\rangle k_0` (gradient :math:`a_j\mathbb
    1[w_j^\top x > 0]x/\sqrt m`). Chapter 5, "The NTK margin".

    Parameters
    ----------
    X : array_like, shape (n_x, d)
    Z : array_like, shape (n_z, d), optional
    layers : {"both", "inner"}
        Which layers are trained.

    Returns
    -------
    ndarray, shape (n_x, n_z), positive semi-definite when ``Z`` is None.
    """
    if layers not in _LAYERS:
        raise ValueError(f"`layers` must be one of {_LAYERS}; got {layers!r}")
    G, norms, theta = _geometry(X, Z)
    inner = G * (np.pi - theta) / (2 * np.pi)
    if layers == "inner":
        return inner
    return inner + norms * (np.sin(theta) + (np.pi - theta) * np.cos(theta)) / (2 * np.pi)


def _report(result: MarginResult) -> MarginResult:
    """Warn (RuntimeWarning) when a margin is not certified, then return it."""
    if not result.success:
        warnings.warn(f"margin not certified: {result.message}", RuntimeWarning, stacklevel=3)
    return result


def _simplex_qp(Q: np.ndarray):
    """Minimise q^T Q q over the simplex with Clarabel; return (q, status, solver gap)."""
    n = Q.shape[0]
    P = sparse.triu(sparse.csc_matrix(2 * Q), format="csc")
    A = sparse.vstack([sparse.csc_matrix(np.ones((1, n))), -sparse.identity(n)], format="csc")
    b = np.r_[1.0, np.zeros(n)]
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    cones = [clarabel.ZeroConeT(1), clarabel.NonnegativeConeT(n)]
    sol = clarabel.DefaultSolver(P, np.zeros(n), A, b, cones, settings).solve()
    q = np.clip(np.asarray(sol.x, dtype=float), 0.0, None)
    q = q / q.sum() if q.sum() > 0 else np.full(n, 1.0 / n)
    return q, str(sol.status), abs(sol.obj_val - sol.obj_val_dual)


def ntk_margin(X, y, *, layers: str = "inner", gap_tol: float = GAP_TOL) -> MarginResult:
    r"""NTK margin :math:`\gamma_{\rm ntk}` (the hard-margin SVM in the NTK RKHS).

    .. math::
        \gamma_{\rm ntk} = \max_{\|\bar\theta\|_{L^2(\mathcal N)} \le 1}\min_i y_i
        \langle\bar\theta, \phi(x_i)\rangle = \min_{q \in \Delta_n}\sqrt{q^\top (yy^\top\circ K)q},

    with :math:`K` = :func:`ntk` (inner layer by default: our reconstruction of the paper's
    definition). The QP is solved by Clarabel (interior point). Certificate: for the returned
    :math:`q`, :math:`\bar\theta \propto \sum_i q_iy_i\phi(x_i)` attains ``lower`` :math:`=
    \min_i (Qq)_i/\sqrt{q^\top Qq}` and ``upper`` :math:`= \sqrt{q^\top Qq}`.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Non-zero, finite inputs.
    y : array_like, shape (n,)
        Labels :math:`\pm 1`.
    layers : {"inner", "both"}
    gap_tol : float
        ``success`` needs ``gap <= gap_tol``.

    Returns
    -------
    MarginResult

    Examples
    --------
    >>> from reluflow import margins
    >>> import reluflow as rf
    >>> data = rf.datasets.sparse_parity(4)
    >>> round(margins.ntk_margin(data.X, data.y).value, 4)
    0.1768
    """
    X = _points(X, "X")
    y = pm_one_labels(y, X.shape[0])
    gap_tol = positive_scalar(gap_tol, "gap_tol")
    Q = np.outer(y, y) * ntk(X, layers=layers)
    q, status, solver_gap = _simplex_qp(Q)
    Qq = Q @ q
    upper = float(np.sqrt(max(q @ Qq, 0.0)))
    lower = float(min(Qq.min() / upper, upper)) if upper > 0 else 0.0
    gap = upper - lower
    u = y * q / upper if upper > 0 else np.zeros_like(q)
    success = status == "Solved" and gap <= gap_tol
    msg = f"Clarabel: {status}; solver duality gap {solver_gap:.2e}; certified gap {gap:.2e}"
    return _report(MarginResult(lower, lower, upper, gap, q, u, None, success, msg))


def norm_only_margin(X, y, V, *, gap_tol: float = GAP_TOL) -> MarginResult:
    r"""Best margin with fixed unit directions :math:`\bar v_j` (rows of ``V``, normalised): the LP

    .. math::
        \gamma_V = \max_{\|u\|_1 \le 1}\min_i y_i\sum_j u_j\sigma(\bar v_j^\top x_i)
        = \min_{q \in \Delta_n}\max_j \Big|\sum_i q_iy_i\sigma(\bar v_j^\top x_i)\Big|,

    solved by HiGHS (``scipy.optimize.linprog``). ``u_j = a_j r_j``: the norm-only regime,
    where only the norms :math:`r_j` of the inner weights and the :math:`a_j` move. ``q`` is read
    from the LP's dual values; ``lower`` and ``upper`` are recomputed from ``u`` and ``q``.

    Raises
    ------
    ValueError
        For bad ``X``/``y`` (see :func:`ntk_margin`), or ``V`` with zero rows or another ``d``.
    """
    X = _points(X, "X")
    y = pm_one_labels(y, X.shape[0])
    V = _points(V, "V")
    if V.shape[1] != X.shape[1]:
        raise ValueError(f"`V` must have d={X.shape[1]} columns like X; got {V.shape[1]}")
    gap_tol = positive_scalar(gap_tol, "gap_tol")
    V = V / np.linalg.norm(V, axis=1, keepdims=True)
    F = y[:, None] * np.maximum(X @ V.T, 0.0)
    n, m = F.shape
    c = np.r_[np.zeros(2 * m), -1.0]
    A = np.r_[np.c_[-F, F, np.ones(n)], np.r_[np.ones(2 * m), 0.0][None, :]]
    res = linprog(c, A_ub=A, b_ub=np.r_[np.zeros(n), 1.0], bounds=[(0, None)] * (2 * m) + [(None, None)],
                  method="highs")  # fmt: skip
    if res.status != 0:
        nan = float("nan")
        return _report(
            MarginResult(nan, nan, nan, nan, np.full(n, nan), np.full(m, nan), V, False, res.message)
        )
    u = res.x[:m] - res.x[m : 2 * m]
    u = u / max(np.abs(u).sum(), 1.0)
    q = np.clip(-res.ineqlin.marginals[:n], 0.0, None)
    q = q / q.sum() if q.sum() > 0 else np.full(n, 1.0 / n)
    lower, upper = float((F @ u).min()), float(np.abs(q @ F).max())
    gap = upper - lower
    msg = f"HiGHS: {res.message}; certified gap {gap:.2e}"
    return _report(MarginResult(lower, lower, upper, gap, q, u, V, gap <= gap_tol, msg))


def global_margin_lower_bound(X, y, m: int, seed: int = 0) -> MarginResult:
    r""":func:`norm_only_margin` with ``m`` directions uniform on the sphere (seeded).

    Any :math:`V` gives :math:`\gamma_V \le \gamma_{\rm gl}`, and :math:`\gamma_V \to
    \gamma_{\rm gl}` as :math:`m \to \infty` (a dense set of directions).
    """
    X = _points(X, "X")
    m = positive_int(m, "m")
    V = np.random.default_rng(seed).standard_normal((m, X.shape[1]))
    return norm_only_margin(X, y, V)


def parity_global_margin(d: int) -> MarginResult:
    r"""Exact global margin of 2-sparse parity on all :math:`2^d` points: :math:`1/\sqrt{8d}`.

    *Lower bound* (attained): the neurons :math:`(\pm1, \pm1, 0, \dots)/\sqrt2` with weights
    :math:`u = \pm\frac14` (sign = the label of their quadrant) give every point margin
    :math:`\frac14\sqrt{2/d}`: one neuron is active, at :math:`\sqrt{2/d}`, the other three are 0.

    *Upper bound* (the uniform dual :math:`q`): write :math:`x = s/\sqrt d`, :math:`y = s_1s_2`,
    :math:`\sigma(t) = (t + |t|)/2` and :math:`v = (a, b, c)`. As :math:`\mathbb E[s_1s_2 s_k] = 0`,

    .. math::
        g(v) = \mathbb E\,y\,\sigma(v^\top x) = \frac{1}{4\sqrt d}\big(\mathbb E|a + b + Z|
        - \mathbb E|a - b + Z|\big),\qquad Z = c^\top s_{3:d}\ \text{symmetric},

    and :math:`\big||a+b+Z| - |a-b+Z|\big| \le 2|b|` (likewise :math:`2|a|`), so :math:`|g(v)|
    \le \min(|a|, |b|)/(2\sqrt d) \le 1/\sqrt{8d}` on the unit sphere. Both ends meet, so the
    result has ``gap`` 0 up to rounding (``upper`` is this analytic value).
    """
    d = positive_int(d, "d")
    if d < 2:
        raise ValueError(f"`d` must be >= 2 for 2-sparse parity; got {d}")
    data = sparse_parity(d)
    signs = np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]], dtype=float)
    V = np.zeros((4, d))
    V[:, :2] = signs / np.sqrt(2)
    u = signs[:, 0] * signs[:, 1] / 4
    lower = float((data.y * (np.maximum(data.X @ V.T, 0.0) @ u)).min())
    upper = 1 / np.sqrt(8 * d)
    q = np.full(data.n, 1.0 / data.n)
    gap = upper - lower
    msg = f"four-neuron construction attains {lower:.6g}; analytic dual bound {upper:.6g}"
    return MarginResult(lower, lower, upper, gap, q, u, V, abs(gap) <= GAP_TOL, msg)


def parity_ntk_margin(d: int, layers: str = "inner") -> float:
    r"""Closed-form :math:`\gamma_{\rm ntk}` of 2-sparse parity on all :math:`2^d` points.

    Coordinate sign flips act transitively on the points and leave :math:`Q = yy^\top\circ K`
    invariant, so (the QP being convex) the uniform :math:`q` is optimal and
    :math:`\gamma^2 = \mathbb E_{x,x'}\,yy'K(x,x')`. With :math:`t = s\circ s'` uniform,
    :math:`yy' = t_1t_2` and :math:`\langle x, x'\rangle = 1 - 2k/d` where :math:`k` counts the
    :math:`-1` entries of :math:`t`:

    .. math:: \gamma^2 = 2^{-d}\sum_{k=0}^d c_k\,\kappa(1 - 2k/d),\qquad
              c_k = \tbinom{d-2}{k} - 2\tbinom{d-2}{k-1} + \tbinom{d-2}{k-2},

    with :math:`\kappa(\rho)` the kernel of two unit vectors with :math:`\cos\theta = \rho`.
    """
    d = positive_int(d, "d")
    if d < 2:
        raise ValueError(f"`d` must be >= 2 for 2-sparse parity; got {d}")
    rho = 1 - 2 * np.arange(d + 1) / d
    Xk = np.c_[rho, np.sqrt(np.clip(1 - rho**2, 0, None))]
    kappa = ntk([[1.0, 0.0]], Xk, layers=layers)[0]
    c = [comb(d - 2, k) - 2 * (comb(d - 2, k - 1) if k >= 1 else 0) + (comb(d - 2, k - 2) if k >= 2 else 0)
         for k in range(d + 1)]  # fmt: skip
    return float(np.sqrt(max(np.dot(c, kappa) / 2**d, 0.0)))




def _weight_pair(W0, W):
    W0 = as_finite_array(W0, "W0", ndim=2)
    W = as_finite_array(W, "W", ndim=2)
    if W.shape != W0.shape:
        raise ValueError(f"`W` must have the shape of W0 {W0.shape}; got {W.shape}")
    return W0, W


def rotation(W0, W) -> np.ndarray:
    r"""Per-neuron rotation :math:`\angle(w_j(t), w_j(0)) \in [0, \pi]`, shape (m,).

    Low rotation (chapter 5) means these angles stay small while the norms may change.

    Raises
    ------
    ValueError
        For shape mismatch, non-finite entries, or a zero row of ``W0`` or ``W``.
    """
    W0, W = _weight_pair(W0, W)
    W0, W = _points(W0, "W0"), _points(W, "W")
    cos = np.sum(W0 * W, axis=1) / (np.linalg.norm(W0, axis=1) * np.linalg.norm(W, axis=1))
    return np.arccos(np.clip(cos, -1.0, 1.0))


def relative_movement(W0, W) -> float:
    r"""Relative movement :math:`\|W - W_0\|_F/\sqrt m` of the inner weights (m rows).

    NTK analyses keep :math:`\|W - W_0\|_F = O(1)`, i.e. this :math:`O(1/\sqrt m)`; the paper's
    near-initialisation regime allows :math:`O(\sqrt m)`, i.e. this :math:`O(1)` (chapter 5).
    """
    W0, W = _weight_pair(W0, W)
    return float(np.linalg.norm(W - W0) / np.sqrt(W0.shape[0]))
