r"""Certified margins (book chapter 5, "The NTK margin", "The global margin" and "Norm-only inner
weights"): each margin comes as a :class:`MarginResult` with a primal classifier and a dual
certificate."""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import clarabel
import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from .._status import Status, report
from .._validation import pm_one_labels, positive_int, positive_scalar
from ..data import Dataset
from ..datasets import sparse_parity
from .kernels import ntk, points

__all__ = [
    "GAP_TOL",
    "MarginResult",
    "global_margin_lower_bound",
    "norm_only_margin",
    "ntk_margin",
    "parity_global_margin",
    "parity_ntk_margin",
]

#: A margin is certified (``status`` 0, ``success``) when its gap is at most this.
GAP_TOL = 1e-6


@dataclass(frozen=True, eq=False)
class MarginResult(Status):
    r"""A certified margin.

    ``value`` (= ``lower``) is attained on the data by the classifier that ``u`` (and ``V``)
    define; ``upper`` is the dual objective at the simplex weights ``q`` (``q_i > 0`` marks the
    support vectors). Weak duality gives ``lower <= margin <= upper``; ``gap = upper - lower``.
    For :func:`ntk_margin`, ``u`` holds :math:`c` with :math:`\bar\theta = \sum_i c_i\phi(x_i)`,
    so the classifier is :math:`x \mapsto \sum_i c_i K(x_i, x)`, and ``V`` is None. For the
    LP margins, ``u`` are the output weights of the neurons ``V`` (unit rows). The dual weights
    define the correlation :math:`G_{q\circ y}` that certifies the bound: ``data.weighted(q * y)``.

    Attributes
    ----------
    value, lower, upper, gap : float
    q : ndarray, shape (n,)
    u : ndarray, shape (n,) or (m,)
    V : ndarray, shape (m, d), or None
    status : int
        0: certified, ``gap <= gap_tol``; 1: the bounds hold but the gap exceeds ``gap_tol``
        (or the solver did not report success); -1: the solver failed, no bounds (nan).
    message : str
        The solver's report and the certified gap.
    success : bool
        ``status == 0``.
    """

    value: float
    lower: float
    upper: float
    gap: float
    q: np.ndarray
    u: np.ndarray
    V: np.ndarray | None
    status: int
    message: str


def _check_data(data) -> tuple[np.ndarray, np.ndarray]:
    """The points (non-zero rows) and the labels (+1/-1) of a classification Dataset."""
    if not isinstance(data, Dataset):
        raise TypeError(f"`data` must be a rf.Dataset; got {type(data).__name__}")
    return points(data.X, "X"), pm_one_labels(data.y, data.n)


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


def ntk_margin(data: Dataset, *, layers: str = "inner", gap_tol: float = GAP_TOL) -> MarginResult:
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
    data : Dataset
        Non-zero inputs with labels :math:`\pm 1` (the weights are not used).
    layers : {"inner", "both"}
    gap_tol : float
        ``success`` needs ``gap <= gap_tol``.

    Returns
    -------
    MarginResult

    Raises
    ------
    TypeError, ValueError
        For data that is not a Dataset, a zero input, labels other than :math:`\pm 1`, another
        ``layers``, or a non-positive ``gap_tol``. A failed solve is reported in the result
        (``status``, ``message``) and with a ``RuntimeWarning``.

    Examples
    --------
    >>> import reluflow as rf
    >>> round(rf.margins.ntk_margin(rf.datasets.sparse_parity(4)).value, 4)
    0.1768
    """
    X, y = _check_data(data)
    gap_tol = positive_scalar(gap_tol, "gap_tol")
    Q = np.outer(y, y) * ntk(X, layers=layers)
    q, status, solver_gap = _simplex_qp(Q)
    Qq = Q @ q
    upper = float(np.sqrt(max(q @ Qq, 0.0)))
    lower = float(min(Qq.min() / upper, upper)) if upper > 0 else 0.0
    gap = upper - lower
    u = y * q / upper if upper > 0 else np.zeros_like(q)
    code = 0 if status == "Solved" and gap <= gap_tol else 1
    msg = f"Clarabel: {status}; solver duality gap {solver_gap:.2e}; certified gap {gap:.2e}"
    return report(MarginResult(lower, lower, upper, gap, q, u, None, code, msg), "margin not certified")


def norm_only_margin(data: Dataset, V, *, gap_tol: float = GAP_TOL) -> MarginResult:
    r"""Best margin with fixed unit directions :math:`\bar v_j` (rows of ``V``, normalised): the LP

    .. math::
        \gamma_V = \max_{\|u\|_1 \le 1}\min_i y_i\sum_j u_j\sigma(\bar v_j^\top x_i)
        = \min_{q \in \Delta_n}\max_j \Big|\sum_i q_iy_i\sigma(\bar v_j^\top x_i)\Big|,

    solved by HiGHS (``scipy.optimize.linprog``). ``u_j = a_j r_j``: the norm-only regime,
    where only the norms :math:`r_j` of the inner weights and the :math:`a_j` move. ``q`` is read
    from the LP's dual values; ``lower`` and ``upper`` are recomputed from ``u`` and ``q``.

    Parameters
    ----------
    data : Dataset
        As in :func:`ntk_margin`.
    V : array_like, shape (m, d)
        Non-zero directions.
    gap_tol : float

    Raises
    ------
    ValueError
        For bad ``data`` (see :func:`ntk_margin`), or ``V`` with zero rows or another ``d``.
    """
    X, y = _check_data(data)
    V = points(V, "V")
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
        return report(MarginResult(nan, nan, nan, nan, np.full(n, nan), np.full(m, nan), V, -1, res.message),
                  "margin not certified")
    u = res.x[:m] - res.x[m : 2 * m]
    u = u / max(np.abs(u).sum(), 1.0)
    q = np.clip(-res.ineqlin.marginals[:n], 0.0, None)
    q = q / q.sum() if q.sum() > 0 else np.full(n, 1.0 / n)
    lower, upper = float((F @ u).min()), float(np.abs(q @ F).max())
    gap = upper - lower
    msg = f"HiGHS: {res.message}; certified gap {gap:.2e}"
    res = MarginResult(lower, lower, upper, gap, q, u, V, 0 if gap <= gap_tol else 1, msg)
    return report(res, "margin not certified")


def global_margin_lower_bound(data: Dataset, m: int, seed: int = 0) -> MarginResult:
    r""":func:`norm_only_margin` with ``m`` directions uniform on the sphere (seeded).

    Any :math:`V` gives :math:`\gamma_V \le \gamma_{\rm gl}`, and :math:`\gamma_V \to
    \gamma_{\rm gl}` as :math:`m \to \infty` (a dense set of directions).
    """
    X = _check_data(data)[0]
    m = positive_int(m, "m")
    V = np.random.default_rng(seed).standard_normal((m, X.shape[1]))
    return norm_only_margin(data, V)


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
    return MarginResult(lower, lower, upper, gap, q, u, V, 0 if abs(gap) <= GAP_TOL else 1, msg)


def parity_ntk_margin(d: int, layers: str = "inner") -> MarginResult:
    r"""Closed-form :math:`\gamma_{\rm ntk}` of 2-sparse parity on all :math:`2^d` points.

    Coordinate sign flips act transitively on the points and leave :math:`Q = yy^\top\circ K`
    invariant, so (the QP being convex) the uniform :math:`q` is optimal and
    :math:`\gamma^2 = \mathbb E_{x,x'}\,yy'K(x,x')`. With :math:`t = s\circ s'` uniform,
    :math:`yy' = t_1t_2` and :math:`\langle x, x'\rangle = 1 - 2k/d` where :math:`k` counts the
    :math:`-1` entries of :math:`t`:

    .. math:: \gamma^2 = 2^{-d}\sum_{k=0}^d c_k\,\kappa(1 - 2k/d),\qquad
              c_k = \tbinom{d-2}{k} - 2\tbinom{d-2}{k-1} + \tbinom{d-2}{k-2},

    with :math:`\kappa(\rho)` the kernel of two unit vectors with :math:`\cos\theta = \rho`.
    By the same symmetry :math:`(Qq)_i = \gamma^2` for every i, so the classifier
    :math:`u = y\circ q/\gamma` attains :math:`\gamma` on every point: ``lower = upper``.

    Returns
    -------
    MarginResult
        With the uniform ``q`` over the :math:`2^d` points of ``rf.datasets.sparse_parity(d)``,
        ``gap`` 0 and ``V`` None.

    Examples
    --------
    >>> import reluflow as rf
    >>> round(rf.margins.parity_ntk_margin(4).value, 4)
    0.1768
    """
    d = positive_int(d, "d")
    if d < 2:
        raise ValueError(f"`d` must be >= 2 for 2-sparse parity; got {d}")
    rho = 1 - 2 * np.arange(d + 1) / d
    Xk = np.c_[rho, np.sqrt(np.clip(1 - rho**2, 0, None))]
    kappa = ntk([[1.0, 0.0]], Xk, layers=layers)[0]
    c = [comb(d - 2, k) - 2 * (comb(d - 2, k - 1) if k >= 1 else 0) + (comb(d - 2, k - 2) if k >= 2 else 0)
         for k in range(d + 1)]  # fmt: skip
    gamma = float(np.sqrt(max(np.dot(c, kappa) / 2**d, 0.0)))
    y = sparse_parity(d).y
    q = np.full(y.size, 1.0 / y.size)
    msg = f"closed form over the 2^{d} points (uniform dual by symmetry): {gamma:.6g}"
    return MarginResult(gamma, gamma, gamma, 0.0, q, y * q / gamma, None, 0, msg)
