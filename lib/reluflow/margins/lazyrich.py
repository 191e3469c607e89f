r"""The lazy-to-rich transition of the book's network (book chapter 6, ``book/ch6_synthesis.ipynb``,
section "The lazy-to-rich phase diagram").

One parameterisation for both regimes (ours): the book's :math:`f(x) = \sum_j a_j\sigma(\langle
w_j, x\rangle)`, both layers trained on the logistic loss, from a *symmetric* balanced
initialisation of scale :math:`\alpha` (:func:`symmetric_init`, so :math:`f_{\theta_0} = 0`).
Small :math:`\alpha` is the small-initialisation regime of chapters 2 to 4; large
:math:`\alpha\sqrt m` is the kernel (lazy) regime, read through the empirical tangent kernel
:math:`K_0` (:func:`tangent_kernel`) and its margin (:func:`kernel_margin`). The flow is
integrated by gradient descent with log-time steps :math:`\eta(t) = c\max(t, \tau_0)`, which
chapter 6 validates against the exact solver.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .._status import Status, report
from .._validation import positive_int, positive_scalar
from ..data import Dataset
from ..datasets import sparse_parity
from ..diagnostics import _linear_change, classification_error, condensation, linearization_error, rotation
from ..flow import gradient_flow, log_times
from ..network import Network
from ..trajectory import Trajectory
from .certified import GAP_TOL, MarginResult, _check_data, _simplex_qp, norm_only_margin, parity_global_margin

__all__ = [
    "symmetric_init",
    "tangent_kernel",
    "kernel_margin",
    "parity_split",
    "LazyRichRun",
    "lazy_rich_run",
    "lazy_rich_parity",
    "LAZY_RICH_GRID",
    "LAZY_RICH_REDUCED",
]

#: The full grid of ``bench/lazy_rich.py`` (ours): dimension, width, init scale, seed.
LAZY_RICH_GRID = {"d": [8, 10, 12], "m": [16, 32, 64, 128, 256, 512, 1024],
                  "scale": [1e-3, 1e-2, 0.1, 0.2, 0.5, 1.0, 2.0, 4.0], "seed": [0, 1, 2]}  # fmt: skip
#: The reduced grid that chapter 6 runs when the results of the full grid are absent (ours).
LAZY_RICH_REDUCED = {"d": [10], "m": [32, 128, 512], "scale": [1e-3, 0.1, 0.3, 1.0, 3.0], "seed": [0]}
#: Training horizon of :func:`lazy_rich_run` (gradient-flow time; ours).
T_END = 3000.0
#: The constant c of the log-time steps :math:`\eta(t) = c\max(t, \tau_0)` (ours).
STEP_RATE = 2e-3
#: Relative certified gap of the tangent-kernel margin in :func:`lazy_rich_run` (a fraction of
#: :math:`\max_i K_0(x_i, x_i)^{1/2}`; the margin enters ratios printed to two digits).
KERNEL_GAP = 1e-4
#: Training points per input dimension in :func:`lazy_rich_parity` (ours: n = 4d).
TRAIN_PER_DIM = 4


def symmetric_init(m: int, d: int, scale: float, seed: int = 0) -> Network:
    r"""Symmetric balanced initialisation: :math:`w_j = \alpha z_j` with :math:`z_j \sim
    \mathcal N(0, I_d/d)` and :math:`a_j = s_j\|w_j\|` for the first m/2 neurons, and neuron
    :math:`j + m/2` a copy of neuron j with :math:`-a_j`. So :math:`f_{\theta_0} = 0` exactly
    at every scale :math:`\alpha`, and every neuron is balanced (chapter 6, "The lazy-to-rich
    phase diagram"; ours).

    Raises
    ------
    ValueError
        For odd ``m``, or ``scale <= 0``.

    Examples
    --------
    >>> import numpy as np, reluflow as rf
    >>> net = rf.margins.symmetric_init(4, 3, 2.0, seed=1)
    >>> bool(np.all(net(np.eye(3)) == 0)), bool(np.allclose(rf.diagnostics.balancedness(net), 0))
    (True, True)
    """
    m, d = positive_int(m, "m"), positive_int(d, "d")
    if m % 2:
        raise ValueError(f"`m` must be even (pairs of opposite neurons); got {m}")
    scale = positive_scalar(scale, "scale")
    rng = np.random.default_rng(seed)
    half = scale * rng.standard_normal((m // 2, d)) / np.sqrt(d)
    sign = rng.choice([-1.0, 1.0], m // 2)
    W = np.r_[half, half]
    return Network(np.r_[sign, -sign] * np.linalg.norm(W, axis=1), W)


def tangent_kernel(net: Network, data: Dataset) -> np.ndarray:
    r"""The empirical tangent kernel :math:`K(x_i, x_k) = \langle\nabla_\theta f_\theta(x_i),
    \nabla_\theta f_\theta(x_k)\rangle` of the network on the points of ``data``, shape (n, n):

    .. math:: K = \sum_j \sigma(\langle w_j, x_i\rangle)\sigma(\langle w_j, x_k\rangle)
              + a_j^2\,\mathbb 1[\langle w_j, x_i\rangle > 0]\,\mathbb 1[\langle w_j, x_k\rangle > 0]
              \,\langle x_i, x_k\rangle .

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [1.0, -1.0])
    >>> rf.margins.tangent_kernel(rf.Network([2.0], [[1.0, 1.0]]), data)
    array([[5., 1.],
           [1., 5.]])
    """
    if not isinstance(net, Network):
        raise TypeError(f"`net` must be a rf.Network; got {type(net).__name__}")
    if not isinstance(data, Dataset):
        raise TypeError(f"`data` must be a rf.Dataset; got {type(data).__name__}")
    if data.d != net.d:
        raise ValueError(f"input dimension mismatch: data has d={data.d}, the network d={net.d}")
    P = data.X @ net.W.T  # (n, m)
    H, A = np.maximum(P, 0.0), (P > 0) * net.a
    return H @ H.T + (A @ A.T) * (data.X @ data.X.T)


def kernel_margin(data: Dataset, K, *, gap_tol: float = GAP_TOL) -> MarginResult:
    r"""Hard-margin SVM margin of a kernel on the points of ``data`` (labels :math:`\pm1`),

    .. math:: \gamma(K) = \max_{\|g\|_{\mathcal H} \le 1}\min_i y_ig(x_i)
              = \min_{q\in\Delta_n}\sqrt{q^\top(yy^\top\circ K)q},

    with the certificate of :func:`ntk_margin` (``lower`` attained by :math:`g \propto
    \sum_i q_iy_iK(x_i, \cdot)`, ``upper`` the dual objective). With the empirical tangent
    kernel at :math:`\theta_0` it bounds the margin of every linearised network:
    :math:`\min_i y_i\langle\nabla f_{\theta_0}(x_i), \Delta\theta\rangle \le \gamma(K_0)
    \|\Delta\theta\|` (chapter 6, "The lazy-to-rich phase diagram").

    Parameters
    ----------
    data : Dataset
    K : array_like, shape (n, n)
        Symmetric positive semi-definite kernel matrix on the points.
    gap_tol : float

    Examples
    --------
    >>> import numpy as np, reluflow as rf
    >>> data = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [1.0, -1.0])
    >>> round(rf.margins.kernel_margin(data, np.eye(2)).value, 6)  # 1/sqrt(2)
    0.707107
    """
    _, y = _check_data(data)
    K = np.asarray(K, dtype=float)
    if K.shape != (data.n, data.n) or not np.all(np.isfinite(K)) or not np.allclose(K, K.T):
        raise ValueError(f"`K` must be a finite symmetric ({data.n}, {data.n}) matrix; got shape {K.shape}")
    gap_tol = positive_scalar(gap_tol, "gap_tol")
    Q = np.outer(y, y) * K
    scale = np.abs(np.diag(Q)).max()
    q, status, solver_gap = _simplex_qp(Q / scale if scale > 0 else Q)  # q does not depend on the scale of K
    Qq = Q @ q
    upper = float(np.sqrt(max(q @ Qq, 0.0)))
    lower = float(min(Qq.min() / upper, upper)) if upper > 0 else 0.0
    msg = f"Clarabel: {status}; solver duality gap {solver_gap:.2e} (kernel scaled to unit diagonal); certified gap {upper - lower:.2e}"
    code = 0 if status == "Solved" and upper - lower <= gap_tol else 1
    u = y * q / upper if upper > 0 else np.zeros_like(q)
    return report(MarginResult(lower, lower, upper, upper - lower, q, u, None, code, msg), "margin not certified")


def parity_split(d: int, n_train: int, seed: int = 0) -> tuple[Dataset, Dataset]:
    r"""2-sparse parity on the hypercube (``rf.datasets.sparse_parity(d)``, all :math:`2^d`
    points) split at random into ``n_train`` training points and the held-out rest.

    Examples
    --------
    >>> import reluflow as rf
    >>> train, test = rf.margins.parity_split(4, 10, seed=0)
    >>> train.n, test.n
    (10, 6)
    """
    full = sparse_parity(d)
    n_train = positive_int(n_train, "n_train")
    if n_train >= full.n:
        raise ValueError(f"`n_train` must be < 2^d = {full.n} to leave held-out points; got {n_train}")
    idx = np.random.default_rng(seed).permutation(full.n)
    tr, te = idx[:n_train], idx[n_train:]
    return Dataset(full.X[tr], full.y[tr]), Dataset(full.X[te], full.y[te])


@dataclass(frozen=True, eq=False)
class LazyRichRun(Status):
    r"""Result of :func:`lazy_rich_run`: the run and its lazy/rich diagnostics at ``t_end``.

    Attributes
    ----------
    trajectory : Trajectory
        Gradient descent with log-time steps (snapshots log-spaced).
    net0 : Network
        The symmetric initialisation.
    margin : float
        :math:`2\bar\gamma = 2\min_iy_if(x_i)/\|\theta\|^2`, comparable with
        :math:`\gamma_{\rm gl}` (chapter 5).
    movement_margin : float
        :math:`\min_iy_if(x_i)/\|\theta - \theta_0\|`, comparable with ``kernel_margin``.
    lin_movement_margin : float
        The same for the linearised outputs :math:`\langle\nabla f_{\theta_0}(x_i),
        \theta - \theta_0\rangle`; at most ``kernel_margin`` (weak duality).
    kernel_margin : MarginResult
        :math:`\gamma(K_0)` of the empirical tangent kernel at :math:`\theta_0`.
    linearization_error : float
        :func:`reluflow.diagnostics.linearization_error` on the training points.
    rotation : float
        Mass-weighted mean angle :math:`\angle(w_j(T), w_j(0))` (radians), weights
        :math:`\|(a_j, w_j)(T)\|^2`.
    clusters : int
        ``rf.diagnostics.condensation(net).n_clusters``.
    test_error : float
        Held-out error (nan without ``test``).
    t_fit : float
        First snapshot time with training loss :math:`\le \tfrac12\ln 2` (inf if none).
    status, message : int, str
        Those of the trajectory.
    """

    trajectory: Trajectory
    net0: Network
    margin: float
    movement_margin: float
    lin_movement_margin: float
    kernel_margin: MarginResult
    linearization_error: float
    rotation: float
    clusters: int
    test_error: float
    t_fit: float
    status: int
    message: str


def lazy_rich_run(
    train: Dataset,
    m: int,
    scale: float,
    t_end: float = T_END,
    *,
    test: Dataset | None = None,
    seed: int = 0,
    step_rate: float = STEP_RATE,
    n_snapshots: int = 60,
) -> LazyRichRun:
    r"""Train the book's network from :func:`symmetric_init` ``(m, d, scale, seed)`` on the
    logistic loss and measure where it sits between the lazy and the rich regime (book
    chapter 6, "The lazy-to-rich phase diagram").

    The flow is integrated by gradient descent with log-time steps :math:`\eta(t) =
    c\max(t, \tau_0)`, :math:`c` = ``step_rate`` and :math:`\tau_0 = \min(1, 1/\lambda_0)`,
    :math:`\lambda_0` the top eigenvalue of :math:`K_0/(4n)` (a bound on the loss Hessian at
    :math:`\theta_0`), so that large initialisations are stable from the first step.

    Parameters
    ----------
    train : Dataset
        Labels :math:`\pm1`.
    m : int
        Even width.
    scale : float
        :math:`\alpha > 0`.
    t_end : float
        Gradient-flow time.
    test : Dataset, optional
        Held-out points for ``test_error``.
    seed : int
    step_rate : float
        c (ours: 2e-3; halving it is the check that the steps resolve the flow).
    n_snapshots : int

    Returns
    -------
    LazyRichRun
    """
    net0 = symmetric_init(m, train.d, scale, seed)
    t_end = positive_scalar(t_end, "t_end")
    c = positive_scalar(step_rate, "step_rate")
    K0 = tangent_kernel(net0, train)
    tau0 = min(1.0, 1.0 / np.linalg.eigvalsh(K0 / (4 * train.n)).max())
    traj = gradient_flow(net0, train, "logistic", t_end, method="euler", step=lambda t: c * max(t, tau0),
                         t_eval=log_times(t_end, n_snapshots, first=min(1e-2, tau0)), max_steps=10**7)  # fmt: skip
    net = traj.final
    yf = train.y * net(train.X)
    move = np.linalg.norm(net.flat() - net0.flat())
    f_lin = _linear_change(net0, net, train.X)  # f_theta0 = 0
    mass = net.neuron_norms() ** 2
    fit = np.flatnonzero(traj.loss <= 0.5 * np.log(2.0))
    return LazyRichRun(
        traj, net0, float(2 * yf.min() / net.norm_sq()), float(yf.min() / move), float((train.y * f_lin).min() / move),
        kernel_margin(train, K0, gap_tol=KERNEL_GAP * np.sqrt(np.max(np.diag(K0)))), linearization_error(net0, net, train),
        float(np.sum(mass * rotation(traj)[-1]) / mass.sum()), condensation(net).n_clusters,
        classification_error(net, test) if test is not None else float("nan"),
        float(traj.t[fit[0]]) if fit.size else float("inf"), traj.status, traj.message,
    )  # fmt: skip


def lazy_rich_parity(d: int, m: int, scale: float, seed: int = 0, *, t_end: float = T_END,
                     n_train: int | None = None) -> dict:  # fmt: skip
    r"""One point of the lazy-to-rich sweep on 2-sparse parity (book chapter 6; ``bench/lazy_rich.py``
    runs :data:`LAZY_RICH_GRID` through ``rf.sweep.run``).

    Trains on ``n_train`` (default 4d, ours) random points of the hypercube
    (:func:`parity_split` with seed ``1000 + seed``) and tests on the rest. Returns a dict of
    floats: ``kappa`` :math:`= \alpha\sqrt m`; ``r_par`` :math:`= 2\bar\gamma/\gamma_{\rm par}`,
    with :math:`\gamma_{\rm par}` the LP margin of the four parity neurons on the training set
    (a certified lower bound on its global margin; equal to it on the full cube, so ``r_par``
    may exceed 1 on a subsample); ``r_ker`` and ``r_ker_lin`` (``movement_margin`` and
    ``lin_movement_margin`` over :math:`\gamma(K_0)`; nan when :math:`K_0` does not separate the
    training points, as happens at small width); ``e_lin``; ``rotation_deg``; ``clusters``;
    ``test_error``; ``t_fit``; ``loss`` (final); ``status``; ``seconds`` (wall time of the point).
    """
    t0 = time.perf_counter()
    d = positive_int(d, "d")
    train, test = parity_split(d, n_train or TRAIN_PER_DIM * d, seed=1000 + seed)
    gamma_par = norm_only_margin(train, parity_global_margin(d).V).value
    run = lazy_rich_run(train, m, scale, t_end, test=test, seed=seed)
    gk = run.kernel_margin.value
    gk = gk if gk > 0 else float("nan")  # K_0 does not separate the training points (small m)
    return dict(
        kappa=float(scale * np.sqrt(m)), r_par=run.margin / gamma_par, r_ker=run.movement_margin / gk,
        r_ker_lin=run.lin_movement_margin / gk, e_lin=run.linearization_error,
        rotation_deg=float(np.degrees(run.rotation)), clusters=int(run.clusters), test_error=run.test_error,
        t_fit=run.t_fit, loss=float(run.trajectory.loss[-1]), status=int(run.status),
        seconds=time.perf_counter() - t0,
    )  # fmt: skip
