r"""Saddle to saddle as an algorithm: the leading-order loss staircase of a small initialisation
(book chapter 6, ``book/ch6_synthesis.ipynb``, section "Saddle to saddle as an algorithm").

Times are in units of :math:`L = \ln(1/\varepsilon)`. A *family* is the cloud of small balanced
neurons of sign s at a local maximum v of :math:`s\,G_k`, the correlation of the residual weights
:math:`\rho^{(k)}` of the current plateau; its *head start* :math:`\eta` is its log-norm above
:math:`\ln\varepsilon` in units of L. By the growth identity :math:`\frac{d}{dt}\ln\|w_j\| =
s_jG_{\rho(t)}(\hat w_j)` (exact for balanced neurons), a family at v grows at the rate
:math:`r = s\,G_k(v)` during plateau k and escapes when :math:`\eta` reaches 1:

.. math:: \tau_{k+1} = \tau_k + \min_{r_f > 0}\frac{1 - \eta_f}{r_f},\qquad
          \eta_f \leftarrow \eta_f + r_f(\tau_{k+1} - \tau_k).

Phase 0 puts one family with :math:`\eta = 0` at every local maximum of :math:`sG_{\rho^0}`
(large width: every basin is populated). After an escape the next plateau is the end of a
restricted flow (the plateau network plus one neuron of norm ``delta`` per escaping family), and
each surviving family follows the direction flow of :math:`sG_{k+1}` to the maxima it reaches
(*basin transfer*); families meeting at one maximum merge, keeping the largest head start.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._status import Status, report
from .._validation import positive_int, positive_scalar
from ..data import Correlation, Dataset
from ..flow import gradient_flow
from ..losses import LossLike
from ..losses import get as get_loss
from ..network import Network
from ..trajectory import Trajectory
from .kkt import TOL, kkt_directions

__all__ = ["Family", "StaircaseStep", "Staircase", "staircase", "drop_times"]

#: Families whose escape times agree to this relative tolerance escape together (a tie).
REL_TIE = 1e-6
#: Size of the perturbations from which a family's direction flow is restarted (basin transfer).
PERTURB = 1e-4
#: Norm of the neuron that stands for an escaping family in the restricted flow (ours).
DELTA = 1e-3
#: The staircase ends when the loss falls below this fraction of the initial loss.
STOP_FRACTION = 1e-4
#: Length of the restricted flow for classification losses, whose plateaus are never stationary
#: (ours); for the square loss it is ``80 / r`` for the slowest escaping rate r.
CLASSIFICATION_HORIZON = 2000.0


@dataclass(frozen=True, eq=False)
class Family:
    r"""A family of small balanced neurons (:func:`staircase`).

    Attributes
    ----------
    sign : float
        :math:`s = \mathrm{sign}(a_j)`, +1 or -1.
    direction : ndarray, shape (d,)
        The local maximum v of :math:`s\,G_k` the family sits at.
    head_start : float
        :math:`\eta`, its log-norm above :math:`\ln\varepsilon` in units of
        :math:`\ln(1/\varepsilon)` at the start of the phase (negative if it has shrunk).
    rate : float
        :math:`r = s\,G_k(v)`, its growth rate on this plateau (negative: it shrinks).
    """

    sign: float
    direction: np.ndarray
    head_start: float
    rate: float


@dataclass(frozen=True, eq=False)
class StaircaseStep:
    r"""One plateau of the staircase (:func:`staircase`).

    Attributes
    ----------
    tau : float
        Start of the plateau in units of :math:`\ln(1/\varepsilon)` (0 for the origin).
    level : float
        The loss on the plateau.
    correlation : Correlation
        :math:`G_k`, the data weighted by the residuals :math:`\rho^{(k)}` of the plateau.
    g_bar : float
        :math:`\max_v |G_k(v)|` (0 when every point is fit).
    families : tuple of Family
        The small families during this plateau.
    escaping : tuple of int
        Indices into ``families`` of those that escape at its end (empty on the last plateau).
    duration : float
        Its length in units of :math:`\ln(1/\varepsilon)` (inf on the last plateau).
    net : Network or None
        The plateau network (None at the origin).
    """

    tau: float
    level: float
    correlation: Correlation
    g_bar: float
    families: tuple
    escaping: tuple
    duration: float
    net: Network | None


@dataclass(frozen=True, eq=False)
class Staircase(Status):
    r"""The predicted loss staircase of :func:`staircase`.

    Attributes
    ----------
    steps : tuple of StaircaseStep
        The plateaus in order, the origin first.
    stuck : bool
        The last plateau is not a fit, yet no family grows on it: the flow is predicted to
        stay there (at leading order).
    status : int
        0: the staircase ends (every point fit, or stuck); 1: ``max_steps`` plateaus were
        reached first; -1: a restricted flow failed (see ``message``).
    message : str
    """

    steps: tuple
    stuck: bool
    status: int
    message: str

    @property
    def taus(self) -> np.ndarray:
        r"""Predicted drop times :math:`\tau_k` (k >= 1) in units of :math:`\ln(1/\varepsilon)`."""
        return np.array([s.tau for s in self.steps[1:]])

    @property
    def levels(self) -> np.ndarray:
        """Loss on each plateau, the origin first, shape (len(steps),)."""
        return np.array([s.level for s in self.steps])

    @property
    def lags(self) -> np.ndarray:
        r"""For each drop, how far the nearest growing competitor of the escaping family is from
        escaping when it escapes: :math:`\min_f (1 - \eta_f - r_f\Delta\tau)` over the other
        families with :math:`r_f > 0`, in units of :math:`\ln(1/\varepsilon)` (inf if none).
        Its mass is then :math:`\varepsilon^{2\delta}` times the leader's: a small lag
        :math:`\delta` is a near-tie, whose effect on the drop time decays only like
        :math:`\varepsilon^{2\delta}`."""
        out = []
        for s in self.steps[:-1]:
            lag = [1.0 - f.head_start - f.rate * s.duration for i, f in enumerate(s.families)
                   if i not in s.escaping and f.rate > 0]  # fmt: skip
            out.append(min(lag, default=np.inf))
        return np.array(out[: len(self.steps) - 1])

    def times(self, scale: float) -> np.ndarray:
        r"""Drop times in gradient-flow time at init scale :math:`\varepsilon`,
        :math:`\tau_k\ln(1/\varepsilon)`."""
        scale = positive_scalar(scale, "scale")
        if not scale < 1:
            raise ValueError(f"`scale` must lie in (0, 1); got {scale}")
        return self.taus * np.log(1.0 / scale)

    def loss_curve(self, t, scale: float) -> np.ndarray:
        """The predicted loss at times ``t`` (a step function: the level of the plateau that
        ``t`` falls on at init scale ``scale``)."""
        t = np.asarray(t, dtype=float)
        return self.levels[np.searchsorted(self.times(scale), t, side="right")]

    def __repr__(self) -> str:
        return (f"Staircase(levels={np.array2string(self.levels, precision=4)}, "
                f"taus={np.array2string(self.taus, precision=4)}, stuck={self.stuck}, status={self.status})")  # fmt: skip


def _linear_data(G: Correlation) -> Dataset:
    """Data whose linear loss has the residual weights ``G.rho``: its flow is the NCF flow of G."""
    n = G.data.n
    return Dataset(G.X, G.rho * n, weights=np.full(n, 1.0 / n))


def _maxima(crit, sign: float) -> list:
    return [c for c in crit if c.extremum == ("max" if sign > 0 else "min")]


def _follow(v: np.ndarray, sign: float, G: Correlation, crit, horizon: float) -> set:
    """Indices into ``crit`` that the direction flow of sign * G reaches from v and from
    2 (d - 1) perturbations of it (None for a neuron left with no active point)."""
    T = np.linalg.svd(v[None, :])[2][1:]
    starts = [v] + [v + e * PERTURB * t for t in T for e in (1.0, -1.0)]
    lin, norms, dest = _linear_data(G), np.linalg.norm(G.X, axis=1), set()
    for u in starts:
        u = u / np.linalg.norm(u)
        # one balanced neuron: its direction follows sign * G whatever its norm does
        run = gradient_flow(Network([sign / np.sqrt(2)], [u / np.sqrt(2)]), lin, "linear", horizon,
                            method="adaptive", rtol=1e-9, atol=1e-300, t_eval=[0.0, horizon])  # fmt: skip
        w = run.W[-1, 0] / np.linalg.norm(run.W[-1, 0])
        if not np.any(G.X @ w > TOL * norms):
            dest.add(None)
            continue
        cos = np.array([c.v @ w for c in crit])
        if cos.size and cos.max() > 1 - 1e-4:
            dest.add(int(np.argmax(cos)))
    return dest


def _transfer(families, escaping, G: Correlation, crit, horizon: float) -> list:
    """Basin transfer of the families that did not escape (see the module docstring)."""
    merged: dict = {}
    for i, f in enumerate(families):
        if i in escaping:
            continue
        maxima = _maxima(crit, f.sign)
        for k in _follow(f.direction, f.sign, G, crit, horizon):
            if k is None or crit[k] not in maxima:
                continue  # dead, or a saddle of sign * G: not a resting place at leading order
            key = (f.sign, k)
            if key not in merged or merged[key][2] < f.head_start:
                merged[key] = (f.sign, crit[k].v, f.head_start)
    return [Family(s, v, eta, float(s * G(v))) for s, v, eta in merged.values()]


def _escape(families) -> tuple[tuple[int, ...], float]:
    """Indices of the families that escape first (ties within REL_TIE) and the phase length."""
    rate = np.array([f.rate for f in families])
    eta = np.array([f.head_start for f in families])
    dur = np.full(len(families), np.inf)
    grow = rate > 0
    dur[grow] = (1.0 - eta[grow]) / rate[grow]
    if not np.isfinite(dur).any():
        return (), np.inf
    first = dur.min()
    return tuple(np.flatnonzero(dur <= first + REL_TIE * abs(first) + 1e-12).tolist()), max(float(first), 0.0)


def staircase(
    data: Dataset,
    loss: LossLike,
    *,
    delta: float = DELTA,
    max_steps: int = 8,
    horizon: float | None = None,
    tol: float = TOL,
) -> Staircase:
    r"""Predict the loss staircase of gradient flow from a small balanced initialisation, at
    leading order in :math:`L = \ln(1/\varepsilon)` (book chapter 6, "Saddle to saddle as an
    algorithm").

    Iterates: residual weights at the current plateau, the critical directions of their
    correlation :math:`G_k` (:func:`kkt_directions`), the family that escapes first (growth
    rate and head start, see the module docstring), the next plateau from a restricted exact
    flow, and the transfer of the other families to the basins of :math:`G_{k+1}`.

    Parameters
    ----------
    data : Dataset
    loss : Loss or str
    delta : float
        Norm of the neuron that stands for an escaping family in the restricted flow (ours).
    max_steps : int
        Largest number of escapes.
    horizon : float, optional
        Length of each restricted flow; default ``80 / r`` for the square loss (r: the slowest
        escaping rate) and ``CLASSIFICATION_HORIZON`` (2000, ours) for classification losses.
    tol : float
        Tolerance of :func:`kkt_directions`.

    Returns
    -------
    Staircase
        Plateaus, drop times :math:`\tau_k` (``.taus``, ``.times(scale)``) and levels.

    Raises
    ------
    ValueError
        For bad input, or data too large for :func:`kkt_directions` (it enumerates activation
        sets: practical for d = 2, or small n in d = 3 or 4).

    Notes
    -----
    Assumptions: balanced neurons (their signs never change), every basin of
    :math:`s\,G_{\rho^0}` populated at initialisation (large width), and O(1) effects
    (alignment transients, near-ties, the logistic tail) neglected. A classification plateau is
    never stationary, so its level and residuals depend on ``horizon``: the prediction is then
    only logarithmically accurate.

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.datasets.orthogonal([1.2, 0.8, -0.5, -0.3])
    >>> st = rf.ncf.staircase(data, "square")
    >>> st.levels.round(4), st.taus.round(4)
    (array([0.3025, 0.0425, 0.    ]), array([2.7735, 6.8599]))
    """
    lo = get_loss(loss)
    if not isinstance(data, Dataset):
        raise TypeError(f"`data` must be a rf.Dataset; got {type(data).__name__}")
    lo.check_labels(data)
    delta, max_steps = positive_scalar(delta, "delta"), positive_int(max_steps, "max_steps")
    if horizon is not None:
        horizon = positive_scalar(horizon, "horizon")
    G = data.weighted(lo.rho0(data))
    level0 = lo.value(np.zeros(data.n), data)
    crit = kkt_directions(G, tol=tol)
    families = [Family(s, c.v, 0.0, float(s * c.value)) for s in (1.0, -1.0) for c in _maxima(crit, s)]
    steps, tau, level, net = [], 0.0, level0, None
    for _ in range(max_steps):
        g_bar = max((abs(c.value) for c in crit), default=0.0)
        escaping, dur = _escape(families)
        steps.append(StaircaseStep(tau, level, G, g_bar, tuple(families), escaping, dur, net))
        if not escaping:
            return Staircase(tuple(steps), True, 0, f"stuck at level {level:.6g}: no family grows on this plateau")
        tau += dur
        families = [Family(f.sign, f.direction, f.head_start + f.rate * dur, f.rate) for f in families]
        new = [families[i] for i in escaping]
        a_new = np.array([f.sign * delta / np.sqrt(2) for f in new])
        W_new = np.array([delta / np.sqrt(2) * f.direction for f in new])
        net0 = Network(a_new, W_new) if net is None else Network(np.r_[net.a, a_new], np.r_[net.W, W_new])
        t_end = horizon or (CLASSIFICATION_HORIZON if lo.classification else 80.0 / min(f.rate for f in new))
        run: Trajectory = gradient_flow(net0, data, lo, t_end, rtol=1e-9, t_eval=[0.0, t_end])
        if not run.success:
            return report(Staircase(tuple(steps), False, -1, f"restricted flow after escape {len(steps)}: "
                                    f"{run.message}"), "rf.ncf.staircase")  # fmt: skip
        net, level = run.final, float(run.loss[-1])
        f = net(data.X)
        G = data.weighted(lo.residuals(f, data))
        if level <= STOP_FRACTION * level0 or (lo.classification and np.all(data.y * f > 0)):
            steps.append(StaircaseStep(tau, level, G, 0.0, (), (), np.inf, net))
            return Staircase(tuple(steps), False, 0, f"every point fit after {len(steps) - 1} escapes")
        crit = kkt_directions(G, tol=tol)
        g_new = max((abs(c.value) for c in crit), default=0.0)
        families = _transfer(families, escaping, G, crit, 40.0 / max(g_new, 1e-3))
    g_bar = max((abs(c.value) for c in crit), default=0.0)
    steps.append(StaircaseStep(tau, level, G, g_bar, tuple(families), *_escape(families), net))
    return report(Staircase(tuple(steps), False, 1, f"stopped after max_steps = {max_steps} escapes"),
                  "rf.ncf.staircase")  # fmt: skip


def drop_times(traj: Trajectory, levels) -> np.ndarray:
    r"""Observed drop times: the first time the loss of ``traj`` falls below the midpoint of
    consecutive ``levels`` (linear interpolation between snapshots), shape (len(levels) - 1,);
    nan where it never does (book chapter 6, "Saddle to saddle as an algorithm").

    Examples
    --------
    >>> import numpy as np, reluflow as rf
    >>> traj = rf.Trajectory(np.array([0.0, 1.0, 2.0]), np.zeros((3, 1)), np.zeros((3, 1, 1)),
    ...                      np.array([1.0, 0.5, 0.0]), "euler", 0, 0, 0, 0, "")
    >>> rf.ncf.drop_times(traj, [1.0, 0.0])
    array([1.])
    """
    if not isinstance(traj, Trajectory):
        raise TypeError(f"`traj` must be a rf.Trajectory; got {type(traj).__name__}")
    levels = np.asarray(levels, dtype=float)
    if levels.ndim != 1 or levels.size < 2:
        raise ValueError(f"`levels` must be 1-D with at least two levels; got shape {levels.shape}")
    out = np.full(levels.size - 1, np.nan)
    for k, mid in enumerate(0.5 * (levels[:-1] + levels[1:])):
        below = np.flatnonzero(traj.loss <= mid)
        if below.size == 0 or below[0] == 0:
            continue
        j = below[0]
        l0, l1 = traj.loss[j - 1], traj.loss[j]
        out[k] = traj.t[j - 1] + (traj.t[j] - traj.t[j - 1]) * (l0 - mid) / (l0 - l1)
    return out
