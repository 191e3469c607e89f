r"""How the mass :math:`\|\theta\|^2` is shared among directions (book chapter 2,
"Concentration of mass" and "The mass-share law")."""

from __future__ import annotations

import numpy as np

from .._validation import as_finite_array, positive_scalar
from ..network import Network
from ..trajectory import Trajectory

__all__ = ["mass_shares"]


def _shares(a: np.ndarray, W: np.ndarray, V: np.ndarray, radius: float) -> np.ndarray:
    """(..., q) shares of a (..., m), W (..., m, d) within `radius` of the unit rows of V (q, d)."""
    nw = np.linalg.norm(W, axis=-1)
    mass = a**2 + nw**2
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = (W @ V.T) / nw[..., None]
    near = np.nan_to_num(cos, nan=-2.0) >= np.cos(radius)  # zero neurons have no direction
    total = np.sum(mass, axis=-1)
    if np.any(total == 0):
        raise ValueError("the network is zero at some snapshot: its mass shares are undefined")
    return np.einsum("...m,...mq->...q", mass, near) / total[..., None]


def _at_level(traj: Trajectory, S: np.ndarray, level: float) -> np.ndarray:
    """S (k, q) at the first crossing of ||theta||^2 = level, interpolated in logs."""
    norm_sq = traj.norm_sq()
    if norm_sq[0] >= level:
        raise ValueError(f"`at_norm_sq` = {level:g} is not above ||theta(0)||^2 = {norm_sq[0]:.3g}")
    if not np.any(norm_sq >= level):
        raise ValueError(f"the run never reaches ||theta||^2 = {level:g} (largest value {norm_sq.max():.3g})")
    k = int(np.argmax(norm_sq >= level))
    x0, x1 = np.log(norm_sq[k - 1]), np.log(norm_sq[k])
    s = (np.log(level) - x0) / (x1 - x0)
    lo, hi = S[k - 1], S[k]
    both = (lo > 0) & (hi > 0)
    with np.errstate(divide="ignore"):
        logs = np.exp((1 - s) * np.log(lo) + s * np.log(hi))
    return np.where(both, logs, (1 - s) * lo + s * hi)


def mass_shares(
    model: Network | Trajectory, directions, *, radius: float = 0.05, at_norm_sq: float | None = None
) -> np.ndarray:
    r"""Share of :math:`\|\theta\|^2` carried by the neurons within ``radius`` of each direction
    (book chapter 2, "The mass-share law"),

    .. math:: s_v = \frac{\sum_{j:\ \angle(w_j, v)\le r}(a_j^2 + \|w_j\|^2)}{\|\theta\|^2} .

    Near a small initialisation of scale :math:`\delta`, balanced neurons along a critical
    direction v of G grow like :math:`\delta\,e^{|G(v)|t}`. When the flow leaves the origin
    (:math:`\|\theta\|^2` reaches a fixed level, at :math:`t \approx \ln(1/\delta)/g^\star`),
    their share is therefore :math:`s_v \propto \delta^{2(1 - |G(v)|/g^\star)}`.

    Parameters
    ----------
    model : Network or Trajectory
    directions : array_like, shape (q, d) or (d,)
        Nonzero directions v (normalised here).
    radius : float
        Angle r in radians (> 0).
    at_norm_sq : float, optional
        Trajectory only: return the shares at the first time :math:`\|\theta(t)\|^2` reaches
        this level, interpolated between the two snapshots around it, linearly in
        :math:`(\ln\|\theta\|^2, \ln s_v)` (in :math:`s_v` where it vanishes).

    Returns
    -------
    ndarray
        Shape (q,) for a Network or with ``at_norm_sq``, (k, q) for a Trajectory.

    Raises
    ------
    ValueError
        For a zero or non-finite direction, a direction of the wrong length, ``radius`` <= 0,
        a zero network, ``at_norm_sq`` with a Network, or a level the run does not cross.

    Examples
    --------
    >>> import reluflow as rf
    >>> net = rf.Network([1.0, -0.1], [[1.0, 0.0], [0.0, 0.1]])
    >>> rf.ncf.mass_shares(net, [[1.0, 0.0], [0.0, 1.0]]).round(4)
    array([0.9901, 0.0099])
    """
    if not isinstance(model, (Network, Trajectory)):
        raise TypeError(f"`model` must be a rf.Network or rf.Trajectory; got {type(model).__name__}")
    radius = positive_scalar(radius, "radius")
    V = np.atleast_2d(as_finite_array(directions, "directions"))
    d = model.W.shape[-1]
    if V.ndim != 2 or V.shape[1] != d:
        raise ValueError(f"`directions` must have shape (q, {d}) or ({d},); got {np.shape(directions)}")
    nv = np.linalg.norm(V, axis=1)
    if np.any(nv == 0):
        raise ValueError("`directions` must be nonzero")
    S = _shares(np.asarray(model.a), np.asarray(model.W), V / nv[:, None], radius)
    if at_norm_sq is None:
        return S
    if not isinstance(model, Trajectory):
        raise ValueError("`at_norm_sq` needs a rf.Trajectory")
    return _at_level(model, S, positive_scalar(at_norm_sq, "at_norm_sq"))
