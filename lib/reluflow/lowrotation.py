r"""Gradient flow in two low-rotation regimes (book chapter 5, ``book/ch5_margins.ipynb``;
Telgarsky, ICLR 2023).

* :func:`norm_only_flow` — the **norm-only** model: inner directions frozen, only the outer
  weights and the inner norms move (chapter 5, "Norm-only inner weights").
* :func:`ntk_flow` — the **near-initialisation** model in NTK scaling, inner layer trained
  (chapter 5, "Near initialisation").

Both settings are our reconstruction of the paper's (its conventions are unverified).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.integrate import solve_ivp

from . import losses
from ._validation import as_finite_array, pm_one_labels, positive_int, positive_scalar
from .data import Dataset
from .margins import ntk_margin

__all__ = ["NTKFlow", "NormOnlyFlow", "norm_only_flow", "ntk_flow"]

_TRAIN = ("inner", "both")
_CLASSIFICATION = ("logistic", "exponential")


class NormOnlyFlow(NamedTuple):
    """:func:`norm_only_flow`: snapshots at ``t`` (shape (k,)) of ``a``, ``r`` (shape (k, m)),
    the loss and the normalised margin; ``V`` the unit directions; solver status."""

    t: np.ndarray
    a: np.ndarray
    r: np.ndarray
    loss: np.ndarray
    margin: np.ndarray
    V: np.ndarray
    success: bool
    message: str
    nfev: int


class NTKFlow(NamedTuple):
    """:func:`ntk_flow`: snapshots at ``t`` (shape (k,)) of ``W`` (shape (k, m, d)) and ``a``
    (shape (k, m)); the loss, ``margin``, ``lin_margin``, ``lin_bound`` and ``movement``
    (shape (k,)); the step used."""

    t: np.ndarray
    W: np.ndarray
    a: np.ndarray
    loss: np.ndarray
    margin: np.ndarray
    lin_margin: np.ndarray
    lin_bound: np.ndarray
    movement: np.ndarray
    step: float


def _data(X, y, loss):
    X = as_finite_array(X, "X", ndim=2)
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"`X` must have at least one row and one column; got shape {X.shape}")
    y = pm_one_labels(y, X.shape[0])
    loss = losses.get(loss)
    if loss.name not in _CLASSIFICATION:
        raise ValueError(f"`loss` must be one of {_CLASSIFICATION}; got {loss.name!r}")
    return Dataset(X, y), loss


def _times(t_eval, t_end: float, default) -> np.ndarray:
    t = default if t_eval is None else as_finite_array(t_eval, "t_eval", ndim=1)
    if t.size == 0 or np.any(np.diff(t) <= 0) or t[0] < 0 or t[-1] > t_end:
        raise ValueError(f"`t_eval` must be increasing, within [0, t_end = {t_end}]; got {t_eval!r}")
    return t


def norm_only_flow(V, X, y, t_end: float, *, scale: float = 1e-2, seed: int = 0, loss="logistic",
                   t_eval=None, rtol: float = 1e-8) -> NormOnlyFlow:  # fmt: skip
    r"""Gradient flow of the norm-only model :math:`f(x) = \sum_j a_jr_j\sigma(\langle\bar v_j,
    x\rangle)` with the unit directions :math:`\bar v_j` (rows of ``V``, normalised) frozen.

    With :math:`\Phi_{ij} = \sigma(\langle\bar v_j, x_i\rangle)` constant, the flow on
    :math:`L = \frac1n\sum_i\ell(y_if_i)` is the smooth ODE

    .. math:: \dot a_j = r_j g_j,\quad \dot r_j = a_j g_j,\qquad
              g = \Phi^\top\rho,\ \rho_i = -\partial L/\partial f_i,

    integrated by ``solve_ivp`` (DOP853). It conserves :math:`r_j^2 - a_j^2`. Start:
    :math:`r_j(0) = \text{scale}`, :math:`a_j(0) = \text{scale}\cdot\xi_j`,
    :math:`\xi_j \sim U(-1, 1)` (seeded), so :math:`r_j > |a_j|` for all time and the outer
    sign is free to change. ``margin`` is :math:`\bar\gamma = \min_iy_if(x_i)/\sum_j(a_j^2 +
    r_j^2)`; since :math:`2|a_jr_j| \le a_j^2 + r_j^2`, always
    :math:`\bar\gamma \le \gamma_V/2` with :math:`\gamma_V` = ``norm_only_margin(X, y,
    V).value`` (chapter 5, "Norm-only inner weights").

    Parameters
    ----------
    V : array_like, shape (m, d)
        Non-zero directions.
    X : array_like, shape (n, d)
    y : array_like, shape (n,)
        Labels :math:`\pm1`.
    t_end : float
        Horizon (> 0); margins converge like :math:`1/\ln t`, so use large ones.
    scale : float
        Initial size (> 0).
    seed : int
    loss : {"logistic", "exponential"}
    t_eval : array_like, optional
        Increasing snapshot times in :math:`[0, t_{end}]`; default 0 and 200 log-spaced times.
    rtol : float
        Relative tolerance (``atol = rtol * scale**2``).

    Returns
    -------
    NormOnlyFlow

    Raises
    ------
    ValueError
        For bad shapes, non-finite values, labels other than :math:`\pm1`, zero rows of ``V``,
        another loss, or non-positive ``t_end``/``scale``.
    """
    data, loss = _data(X, y, loss)
    V = as_finite_array(V, "V", ndim=2)
    if V.shape[0] == 0 or V.shape[1] != data.d:
        raise ValueError(f"`V` must have shape (m >= 1, d = {data.d}); got {V.shape}")
    norms = np.linalg.norm(V, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("`V` must have non-zero rows (directions)")
    t_end, scale = positive_scalar(t_end, "t_end"), positive_scalar(scale, "scale")
    V = V / norms
    Phi = np.maximum(data.X @ V.T, 0.0)
    m = V.shape[0]
    t = _times(t_eval, t_end, np.r_[0.0, np.geomspace(min(1e-2, t_end / 100), t_end, 199)])

    def rhs(_, z):
        a, r = z[:m], z[m:]
        g = Phi.T @ loss.residuals(Phi @ (a * r), data)
        return np.r_[r * g, a * g]

    z0 = np.r_[scale * np.random.default_rng(seed).uniform(-1.0, 1.0, m), np.full(m, scale)]
    sol = solve_ivp(rhs, (0.0, t_end), z0, method="DOP853", t_eval=t, rtol=rtol, atol=rtol * scale**2)
    a, r = sol.y[:m].T, sol.y[m:].T
    f = (a * r) @ Phi.T
    loss_t = np.array([loss.value(fk, data) for fk in f])
    margin = np.min(data.y * f, axis=1) / np.sum(a**2 + r**2, axis=1)
    return NormOnlyFlow(sol.t, a, r, loss_t, margin, V, sol.success, sol.message, sol.nfev)


def _forward(W, a, X, m):
    Z = X @ W.T
    return np.maximum(Z, 0.0) @ a / np.sqrt(m), Z > 0


def ntk_flow(X, y, m: int, t_end: float, *, scale: float = 1.0, seed: int = 0, loss="logistic",
             train: str = "inner", step: float = 0.25, t_eval=None) -> NTKFlow:  # fmt: skip
    r"""Gradient descent with a small fixed step (our gradient-flow proxy) on the network in
    NTK scaling, :math:`f(x) = \frac1{\sqrt m}\sum_j a_j\sigma(\langle w_j, x\rangle)`.

    Our reconstruction of the near-initialisation setting (unverified): :math:`w_j(0) \sim
    \text{scale}\cdot\mathcal N(0, I_d)`, :math:`a_j = \pm1` fixed (``train="inner"``) or
    trained (``"both"``), loss :math:`L = \frac1n\sum_i\ell(y_if_i)`. The init is
    *antisymmetric* (neuron :math:`j + m/2` copies :math:`w_j` with :math:`-a_j`), so
    :math:`f(\cdot; W_0) = 0`. Time is ``step`` times the number of steps; halving ``step``
    is the check that it approximates the flow (chapter 5, "Near initialisation").

    Reported margins, compared with :math:`\gamma_{\rm ntk}` (``rf.margins.ntk_margin``):

    .. math::
        \texttt{margin} = \min_i\frac{y_if(x_i; W)}{\|W - W_0\|_F},\qquad
        \texttt{lin\_margin} = \min_i\frac{y_i\langle\nabla_Wf(x_i; W_0), W - W_0\rangle}
        {\|W - W_0\|_F} \le \texttt{lin\_bound} = \sqrt{q^\top Q_mq},

    with :math:`Q_m = yy^\top\circ K_m`, :math:`K_m` the width-:math:`m` inner-layer kernel
    at :math:`W_0` and :math:`q` the dual certificate of ``ntk_margin`` (weak duality; the
    bound holds exactly). ``movement`` is ``rf.margins.relative_movement`` :math:`=
    \|W - W_0\|_F/\sqrt m`; margins are ``nan`` at :math:`t = 0`.

    Parameters
    ----------
    X : array_like, shape (n, d)
    y : array_like, shape (n,)
    m : int
        Even width.
    t_end : float
    scale : float
        Init scale of the inner weights (1 = standard).
    seed : int
    loss : {"logistic", "exponential"}
    train : {"inner", "both"}
    step : float
        Step size (> 0).
    t_eval : array_like, optional
        Increasing snapshot times in :math:`[0, t_{end}]` (rounded to steps); default 0 and
        60 log-spaced times.

    Returns
    -------
    NTKFlow

    Raises
    ------
    ValueError
        For bad data or labels, odd ``m``, another ``train``/loss, non-positive ``t_end``,
        ``scale`` or ``step``.
    """
    data, loss = _data(X, y, loss)
    m = positive_int(m, "m")
    if m % 2:
        raise ValueError(f"`m` must be even (antisymmetric init); got {m}")
    if train not in _TRAIN:
        raise ValueError(f"`train` must be one of {_TRAIN}; got {train!r}")
    t_end, scale, step = (
        positive_scalar(v, k) for v, k in ((t_end, "t_end"), (scale, "scale"), (step, "step"))
    )
    t = _times(t_eval, t_end, np.r_[0.0, np.geomspace(min(step, t_end), t_end, 60)])
    snap = np.unique(np.rint(t / step).astype(int))
    rng = np.random.default_rng(seed)
    half = scale * rng.standard_normal((m // 2, data.d))
    sign = rng.choice([-1.0, 1.0], m // 2)
    W0, a0 = np.r_[half, half], np.r_[sign, -sign]
    W, a, X = W0.copy(), a0.copy(), data.X
    Ws, As = [], []
    for k in range(snap[-1] + 1):
        if k in snap:
            Ws.append(W.copy())
            As.append(a.copy())
        if k == snap[-1]:
            break
        f, act = _forward(W, a, X, m)
        rho = loss.residuals(f, data)
        gW = (a[:, None] * ((act * rho[:, None]).T @ X)) / np.sqrt(m)
        if train == "both":
            a = a + step * (np.maximum(X @ W.T, 0.0).T @ rho) / np.sqrt(m)
        W = W + step * gW
    Ws, As = np.array(Ws), np.array(As)
    F = np.array([_forward(Wk, ak, X, m)[0] for Wk, ak in zip(Ws, As, strict=True)])
    dW = Ws - W0
    dnorm = np.linalg.norm(dW, axis=(1, 2))
    act0 = (X @ W0.T > 0).astype(float)
    lin = np.einsum("ij,kjd,id->ki", act0 * a0, dW, X) / np.sqrt(m)
    with np.errstate(invalid="ignore", divide="ignore"):
        margin = np.min(data.y * F, axis=1) / dnorm
        lin_margin = np.min(data.y * lin, axis=1) / dnorm
    q = ntk_margin(X, data.y).q
    Km = (act0 @ act0.T) * (X @ X.T) / m
    bound = float(np.sqrt(max(q @ (np.outer(data.y, data.y) * Km) @ q, 0.0)))
    loss_t = np.array([loss.value(fk, data) for fk in F])
    return NTKFlow(snap * step, Ws, As, loss_t, margin, lin_margin, np.full(snap.size, bound),
                   dnorm / np.sqrt(m), step)  # fmt: skip
