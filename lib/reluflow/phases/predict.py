"""Leading-order NCF predictions of the phase times (book chapter 4, "Four phases on separable
data", section "Detecting the phases")."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import positive_scalar
from ..data import Dataset
from ..losses import LossLike
from ..losses import get as get_loss
from ..ncf import TOL, escape_time, kkt_directions

__all__ = ["ObservedTimes", "PredictedTimes", "observed_times", "predicted_times"]


@dataclass(frozen=True, eq=False)
class PredictedTimes:
    r"""Leading-order NCF predictions of :func:`predicted_times` (gradient-flow time).

    Attributes
    ----------
    t1 : float
        End of condensation / first escape, :math:`\ln(1/\varepsilon)/g^\star_1`.
    plateau_level : float
        Loss of the points not fit by the first escape (0: no plateau predicted).
    t_escape : float
        Escape from the plateau, :math:`T_1 + (\ln(1/\varepsilon) - g_{\rm head}T_1)/\bar g^\star`
        (nan when no plateau is predicted).
    g_star, g_head, g_bar : float
        :math:`g^\star_1 = \max|G|` for :math:`\rho^0`; the phase-I growth rate of the
        neurons that escape the plateau; :math:`\bar g^\star` of the saddle-relative NCF.
    """

    t1: float
    plateau_level: float
    t_escape: float
    g_star: float
    g_head: float
    g_bar: float


def _extreme(crit, sign: float) -> tuple[float, np.ndarray | None]:
    """Largest sign * G(v) over the critical directions (0 if none is positive) and its v."""
    vals = [(sign * c.value, c.v) for c in crit if sign * c.value > 0]
    return max(vals, key=lambda z: z[0]) if vals else (0.0, None)


def predicted_times(data: Dataset, loss: LossLike, scale: float, *, tol: float = TOL) -> PredictedTimes:
    r"""Leading-order predictions of the phase times from the NCF (book chapter 4, "Four phases
    on separable data", section "Detecting the phases").

    With :math:`\rho^0` the residual weights at :math:`f = 0`, :math:`G` the alignment function,
    :math:`g^\star_1 = \max|G|` attained at :math:`v^\star` with sign :math:`s = \mathrm{sign}\,G(v^\star)`:

    - :math:`T_1 = \ln(1/\varepsilon)/g^\star_1`: neurons of sign s along :math:`v^\star` grow as
      :math:`\varepsilon e^{g^\star_1 t}` and fit the points :math:`F = \{i: s\,y_i > 0,
      \langle v^\star, x_i\rangle > 0\}` (if the neurons of sign -s grow as fast, a tie, their
      points are fit too).
    - plateau level :math:`\sum_{i\notin F} c_i\,\ell(y_i, 0)`: the fitted points' loss -> 0,
      the others stay at :math:`f \approx 0` (for the two-point instance with the exponential
      loss, :math:`1 - p`).
    - saddle-relative NCF: :math:`\bar\rho_i = 0` on F, :math:`\rho^0_i` elsewhere;
      :math:`\bar g^\star = \max|\bar G|`, attained with sign :math:`\bar s`. The neurons of sign
      :math:`\bar s` grew during phase I at :math:`g_{\rm head} = \max_v \bar s\,G(v)` (their
      best direction under :math:`\rho^0`, often a kink), so they reach O(1) at

      .. math:: T_{\rm esc} = T_1 + \frac{\max(\ln(1/\varepsilon) - g_{\rm head}T_1,\ 0)}{\bar g^\star}.

    Parameters
    ----------
    data : Dataset
    loss : Loss or str
    scale : float
        Init scale :math:`\varepsilon \in (0, 1)`, as in :func:`small_init`.
    tol : float
        Relative tolerance of :func:`kkt_directions` and of the tie test.

    Returns
    -------
    PredictedTimes

    Notes
    -----
    These are leading-order predictions: each time has O(1) corrections (alignment transients,
    the spread of the init, the slow decay of the fitted residuals), independent of
    :math:`\varepsilon` to leading order, so differences between two scales are sharper,
    :math:`T_1(\varepsilon_2) - T_1(\varepsilon_1) = \ln(\varepsilon_1/\varepsilon_2)/g^\star_1`.
    The formulas are our reconstruction (book's derivation; [UNVERIFIED] as the paper's).
    Only the first plateau is predicted.

    Examples
    --------
    >>> import reluflow as rf
    >>> pt = rf.phases.predicted_times(rf.datasets.two_point(1.0, 0.75), "exponential", 1e-6)
    >>> round(pt.t1, 2), round(pt.plateau_level, 4), round(pt.t_escape, 1)
    (21.26, 0.25, 58.6)
    """
    if not isinstance(data, Dataset):
        raise TypeError(f"`data` must be a rf.Dataset; got {type(data).__name__}")
    loss_obj = get_loss(loss)
    scale = positive_scalar(scale, "scale")
    if not scale < 1:
        raise ValueError(f"`scale` must lie in (0, 1); got {scale}")
    rho0 = loss_obj.rho0(data)
    crit = kkt_directions(data.weighted(rho0), tol=tol)
    if not crit:
        raise ValueError("G vanishes identically for rho0: no neuron grows, nothing to predict")
    g1, v1, s = abs(crit[0].value), crit[0].v, np.sign(crit[0].value)
    log_eps, X = np.log(1.0 / scale), data.X
    fit = (s * data.y > 0) & (X @ v1 > tol * np.linalg.norm(X, axis=1))
    g_other, v_other = _extreme(crit, -s)
    if v_other is not None and g_other >= (1 - tol) * g1:  # both signs escape together
        fit |= (-s * data.y > 0) & (X @ v_other > tol * np.linalg.norm(X, axis=1))
    t1 = escape_time(scale, g1)
    rest = Dataset(X, data.y, weights=np.where(fit, 0.0, data.weights)) if not fit.all() else None
    level = loss_obj.value(np.zeros(data.n), rest) if rest is not None else 0.0
    rho_bar = np.where(fit, 0.0, rho0)
    crit_bar = kkt_directions(data.weighted(rho_bar), tol=tol) if np.any(rho_bar != 0) else []
    if level <= 0 or not crit_bar:
        return PredictedTimes(t1, max(level, 0.0), float("nan"), g1, float("nan"), float("nan"))
    g_bar, s_bar = abs(crit_bar[0].value), np.sign(crit_bar[0].value)
    g_head = _extreme(crit, s_bar)[0]
    t_esc = t1 + max(log_eps - g_head * t1, 0.0) / g_bar
    return PredictedTimes(t1, level, float(t_esc), g1, float(g_head), float(g_bar))


@dataclass(frozen=True)
class ObservedTimes:
    r""":func:`observed_times`: ``t1`` and ``t_escape`` read off a run's loss curve (``nan`` if
    the loss never gets there)."""

    t1: float
    t_escape: float


def _first_crossing(t: np.ndarray, L: np.ndarray, level: float) -> float:
    """First time L falls to ``level`` (linear interpolation between snapshots; nan if never)."""
    below = np.flatnonzero(L <= level)
    if not np.isfinite(level) or below.size == 0:
        return float("nan")
    k = int(below[0])
    if k == 0:
        return float(t[0])
    s = (L[k - 1] - level) / (L[k - 1] - L[k])
    return float(t[k - 1] + s * (t[k] - t[k - 1]))


def observed_times(traj, predicted: PredictedTimes) -> ObservedTimes:
    r"""The observed counterparts of :func:`predicted_times` on a run (book chapter 4, sections
    "Predicted against observed times" and "A map over the angle and the class weight").

    With the predicted plateau level :math:`L_p` (``predicted.plateau_level``):
    :math:`T_1^{\rm obs}` is the first time the loss is halfway between :math:`L(0)` and
    :math:`L_p`, and :math:`T_{\rm esc}^{\rm obs}` the first time it is :math:`L_p/2`
    (interpolated linearly between snapshots). These levels sit in the middle of the two drops
    on a log-loss axis, where the offsets between observed and predicted times do not depend
    on the init scale (chapter 4).

    Parameters
    ----------
    traj : Trajectory
        A run, with snapshots dense enough to resolve the drops (``t_eval="log"``).
    predicted : PredictedTimes
        The prediction for the same data, loss and init scale.

    Returns
    -------
    ObservedTimes
        ``t_escape`` is ``nan`` when no plateau is predicted.

    Raises
    ------
    TypeError
        For a non-trajectory or a ``predicted`` that is not a :class:`PredictedTimes`.

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.datasets.two_point(1.0, 0.75)
    >>> pt = rf.phases.predicted_times(data, "exponential", 1e-6)
    >>> traj = rf.gradient_flow(rf.small_init(100, 2, 1e-6), data, "exponential", 90.0, t_eval="log")
    >>> ot = rf.phases.observed_times(traj, pt)
    >>> round(ot.t1, 1), round(ot.t_escape, 1)
    (19.9, 56.3)
    """
    from ..trajectory import Trajectory

    if not isinstance(traj, Trajectory):
        raise TypeError(f"`traj` must be a rf.Trajectory; got {type(traj).__name__}")
    if not isinstance(predicted, PredictedTimes):
        raise TypeError(f"`predicted` must be a PredictedTimes; got {type(predicted).__name__}")
    t, L, level = traj.t, np.asarray(traj.loss, float), predicted.plateau_level
    esc = _first_crossing(t, L, level / 2) if level > 0 and np.isfinite(predicted.t_escape) else float("nan")
    return ObservedTimes(_first_crossing(t, L, (L[0] + level) / 2), esc)
