r"""What happens inside a phase: the solver's activation events grouped, and the growth rate of
:math:`\|\theta\|^2` with its NCF bracket (book chapter 4, "Four phases on separable data",
sections "Detecting the phases" and "Activation patterns over time")."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data import Dataset
from ..diagnostics import pattern_census
from ..losses import LossLike
from ..losses import get as get_loss
from ..ncf import TOL, kkt_directions
from ..network import Network
from ..trajectory import Trajectory

__all__ = ["GrowthRate", "SwitchGroup", "census_by_sign", "growth_rate", "switch_groups"]


@dataclass(frozen=True)
class SwitchGroup:
    """One group of :func:`switch_groups`: the activation events of kind ``kind`` ("on",
    "off" or "slide") of neurons with outer sign ``sign`` (that of :math:`a_j(0)`) on point
    ``point``; ``count`` events of ``neurons`` distinct neurons between ``t_first`` and
    ``t_last``."""

    sign: int
    point: int
    kind: str
    count: int
    neurons: int
    t_first: float
    t_last: float


def switch_groups(traj: Trajectory, *, t_min: float = 0.0, t_max: float = np.inf) -> list[SwitchGroup]:
    r"""Group the solver's activation events in :math:`[t_{\min}, t_{\max}]` by the sign of the
    neuron's outer weight, the point and the kind (book chapter 4, section "Activation patterns
    over time").

    A switch log (``traj.switches``) lists every event ``(t, neuron, point, kind)``: "on" (the
    pair enters :math:`\langle w_j, x_i\rangle > 0`), "off" (it leaves it) or "slide" (it is held on
    the face :math:`\langle w_j, x_i\rangle = 0`, Filippov sliding). A cluster of condensed neurons
    switches together, so the groups read as named events ("19 negative neurons turn
    :math:`x_+` on at t = 22.23"). The sign is that of :math:`a_j(0)`, frozen along the flow for a
    balanced initialisation (chapter 1, "Balancedness").

    Parameters
    ----------
    traj : Trajectory
        A run of an event-driven method (``"adaptive"`` or ``"exponential"``); gradient descent
        keeps no switch log.
    t_min, t_max : float
        The time window (inclusive).

    Returns
    -------
    list of SwitchGroup
        Ordered by ``t_first``; empty if there is no event in the window.

    Raises
    ------
    TypeError
        If ``traj`` is not a :class:`~reluflow.Trajectory`.
    ValueError
        If ``t_max < t_min``.

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.datasets.two_point(1.0, 0.75)
    >>> traj = rf.gradient_flow(rf.small_init(100, 2, 1e-6), data, "exponential", 30.0)
    >>> g = rf.phases.switch_groups(traj, t_min=10.0)[-1]
    >>> g.sign, g.point, g.kind, g.neurons, round(g.t_first, 2)
    (-1, 0, 'on', 19, 22.23)
    """
    if not isinstance(traj, Trajectory):
        raise TypeError(f"`traj` must be a rf.Trajectory; got {type(traj).__name__}")
    if not t_max >= t_min:
        raise ValueError(f"`t_max` must be >= `t_min`; got t_min = {t_min}, t_max = {t_max}")
    sw = traj.switches
    sw = sw[(sw["t"] >= t_min) & (sw["t"] <= t_max)]
    sign = np.where(traj.a[0] < 0, -1, 1)[sw["neuron"]]
    out = []
    for key in sorted({(int(s), int(i), str(k)) for s, i, k in zip(sign, sw["point"], sw["kind"], strict=True)}):
        sel = (sign == key[0]) & (sw["point"] == key[1]) & (sw["kind"] == key[2])
        ts = sw["t"][sel]
        out.append(SwitchGroup(*key, int(sel.sum()), len(set(sw["neuron"][sel].tolist())),
                               float(ts.min()), float(ts.max())))  # fmt: skip
    return sorted(out, key=lambda g: (g.t_first, -g.sign, g.point))


@dataclass(frozen=True)
class GrowthRate:
    r""":func:`growth_rate`: the rate :math:`r = d\ln\|\theta\|^2/dt`, its bracket ``lower``
    :math:`\le r \le` ``upper``, :math:`g^\star = \max|G_{\rho^0}|` and ``delta``
    :math:`= \sum_i|\rho_i - \rho^0_i|\,\|x_i\|`."""

    rate: float
    lower: float
    upper: float
    g_star: float
    delta: float


def growth_rate(net: Network, data: Dataset, loss: LossLike = "exponential", *, tol: float = TOL) -> GrowthRate:
    r"""The growth rate of :math:`\|\theta\|^2` under gradient flow at ``net``, and the bracket
    the NCF puts around it (book chapter 4, section "Detecting the phases").

    By Euler's identity for the two-homogeneous network, :math:`\langle\theta, \nabla_\theta
    f(x_i)\rangle = 2f(x_i)`, so along the flow (outer rate 1), with
    :math:`\rho_i = -\partial L/\partial f(x_i)`,

    .. math:: r = \frac{d}{dt}\ln\|\theta\|^2 = \frac{4\sum_i\rho_if(x_i)}{\|\theta\|^2}
              = 2\sum_j\pi_j s_j G_\rho(\hat w_j),\qquad
              \pi_j = \frac{2|a_j|\|w_j\|}{\|\theta\|^2},\ s_j = \mathrm{sign}\,a_j,

    exactly (any Filippov selection: a face term carries :math:`\langle w_j, x_i\rangle = 0`).
    :math:`\sum_j\pi_j \le 1`, with equality for a balanced network. Near the origin
    :math:`G_\rho \approx G_{\rho^0}`, whose largest modulus is :math:`g^\star`: with
    :math:`\delta = \sum_i|\rho_i - \rho^0_i|\|x_i\|` (so :math:`|G_\rho - G_{\rho^0}| \le
    \delta` on the sphere), the Lipschitz constant :math:`\Lambda = \sum_i|\rho^0_i|\|x_i\|` of
    :math:`G_{\rho^0}` and :math:`e_j = \min(2g^\star, \Lambda\,\mathrm{dist}(\hat w_j,
    V^\star_{s_j}))`, where :math:`V^\star_s` are the directions with :math:`sG_{\rho^0} =
    g^\star` (:math:`e_j = 2g^\star` if there is none),

    .. math:: 2\sum_j\pi_j(g^\star - e_j - \delta) \;\le\; r \;\le\; 2(g^\star + \delta)\sum_j\pi_j .

    So :math:`r \to 2g^\star` as the mass condenses on the maximisers while :math:`f` is still
    small (:math:`\delta \to 0`); the bracket's width is the tolerance of that statement.

    Parameters
    ----------
    net : Network
    data : Dataset
    loss : Loss or str
    tol : float
        Relative tolerance of :func:`reluflow.ncf.kkt_directions` (which directions attain
        :math:`g^\star`).

    Returns
    -------
    GrowthRate

    Raises
    ------
    TypeError
        For a non-network or non-dataset.
    ValueError
        For :math:`\theta = 0`, mismatched dimensions, or :math:`G_{\rho^0} \equiv 0`.

    Examples
    --------
    >>> import numpy as np
    >>> import reluflow as rf
    >>> data = rf.datasets.two_point(1.0, 0.75)
    >>> v = np.array([0.947, -0.322])  # close to argmax G = D/|D|
    >>> gr = rf.phases.growth_rate(rf.Network([1e-4], [1e-4 * v / np.linalg.norm(v)]), data)
    >>> round(gr.rate, 3), gr.lower <= gr.rate <= gr.upper, round(2 * gr.g_star, 3)
    (1.3, True, 1.3)
    """
    if not isinstance(net, Network):
        raise TypeError(f"`net` must be a rf.Network; got {type(net).__name__}")
    if not isinstance(data, Dataset):
        raise TypeError(f"`data` must be a rf.Dataset; got {type(data).__name__}")
    loss = get_loss(loss)
    f = net(data.X)
    norm_sq = float(np.sum(net.a**2) + np.sum(net.W**2))
    if norm_sq == 0:
        raise ValueError("`net` is zero: the growth rate of ||θ||² is undefined")
    rho, rho0 = loss.residuals(f, data), loss.rho0(data)
    xnorm = np.linalg.norm(data.X, axis=1)
    crit = kkt_directions(data.weighted(rho0), tol=tol)
    if not crit:
        raise ValueError("G vanishes identically for rho0: there is no growth rate to compare with")
    g_star = max(abs(c.value) for c in crit)
    delta, lip = float(np.abs(rho - rho0) @ xnorm), float(np.abs(rho0) @ xnorm)
    wn = np.linalg.norm(net.W, axis=1)
    pi = 2 * np.abs(net.a) * wn / norm_sq
    s = np.where(net.a < 0, -1, 1)
    e = np.full(net.m, 2 * g_star)
    for sign in (-1, 1):
        V = np.array([c.v for c in crit if sign * c.value >= (1 - tol) * g_star])
        rows = (s == sign) & (wn > 0)
        if V.size and rows.any():
            What = net.W[rows] / wn[rows, None]
            dist = np.min(np.linalg.norm(What[:, None, :] - V[None, :, :], axis=2), axis=1)
            e[rows] = np.minimum(2 * g_star, lip * dist)
    rate = 4 * float(rho @ f) / norm_sq
    lower = 2 * float(pi @ (g_star - e - delta))
    return GrowthRate(rate, lower, 2 * (g_star + delta) * float(pi.sum()), float(g_star), delta)


def census_by_sign(net: Network, data: Dataset, *, min_norm: float = 0.01, tol: float = 1e-9) -> dict:
    r"""Activation-pattern census of each output sign separately, each against its own largest
    neuron (book chapter 4, section "Activation patterns over time").

    :func:`reluflow.diagnostics.pattern_census` with ``by_sign=True`` drops every neuron below
    ``min_norm`` times the largest one; on a run where one sign grows first, the other sign's
    neurons vanish from that census long before they matter. Here the neurons with
    :math:`a_j > 0` are counted against the largest of them, and those with :math:`a_j < 0`
    against the largest of theirs, so a cluster of small neurons that switches together
    (e.g. leaves a face) shows up while it is still small.

    Parameters
    ----------
    net : Network
    data : Dataset
    min_norm : float
        Count neurons with :math:`\|(a_j, w_j)\| \ge` ``min_norm`` times the largest norm of
        their sign.
    tol : float
        Relative band of :func:`reluflow.diagnostics.activation_patterns` (a neuron within
        ``tol`` of a face counts as inactive there; use a small positive value when neurons
        slide along faces).

    Returns
    -------
    dict
        Keys ``(+1 or -1, tuple of active points)``, values neuron counts; positive neurons
        first, then negative ones, each most common first.

    Examples
    --------
    >>> import reluflow as rf
    >>> net = rf.Network([1.0, -1e-3, -1e-3], [[1.0, 0.0], [0.0, 1e-3], [1e-3, 1e-3]])
    >>> data = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [1.0, -1.0])
    >>> rf.phases.census_by_sign(net, data)
    {(1, (0,)): 1, (-1, (1,)): 1, (-1, (0, 1)): 1}
    """
    if not isinstance(net, Network):
        raise TypeError(f"`net` must be a rf.Network; got {type(net).__name__}")
    out: dict = {}
    for sign in (1, -1):
        keep = net.a > 0 if sign > 0 else net.a < 0
        if keep.any():
            sub = Network(net.a[keep], net.W[keep])
            out.update(pattern_census(sub, data, by_sign=True, min_norm=min_norm, tol=tol))
    return out
