"""One-dimensional data with a bias, the kink picture (chapter 3, "One-dimensional data with a
bias"). Private; use :mod:`reluflow.orthogonal`."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import as_finite_array
from .data import Dataset, with_bias
from .network import Network
from .trajectory import Trajectory


class Kinks(NamedTuple):
    """:func:`kink_picture`: kink ``position``, output ``weight``, ``direction``, each (m,)."""

    position: np.ndarray
    weight: np.ndarray
    direction: np.ndarray


def bias_data(x, y) -> Dataset:
    r"""1-D data with a bias, inputs :math:`(x_i, 1)` (chapter 3, "One-dimensional data with a bias").

    Examples
    --------
    >>> from reluflow.orthogonal import bias_data
    >>> bias_data([-1.0, 0.5], [0.2, 1.0]).X
    array([[-1. ,  1. ],
           [ 0.5,  1. ]])
    """
    return Dataset(with_bias(as_finite_array(x, "x", ndim=1)), y)


def kink_picture(net: Network) -> Kinks:
    r"""Kinks of :math:`f(x) = \sum_j a_j\sigma(w_{j,1}x + w_{j,2})`: ``position``
    :math:`-w_{j,2}/w_{j,1}` (nan if :math:`w_{j,1} = 0`), ``weight`` :math:`s_j\|w_j\|` (the output
    weight :math:`a_j` when balanced) and ``direction`` :math:`\operatorname{sign} w_{j,1}` (+1:
    active right of the kink). ValueError unless the input dimension is 2, :math:`(x, 1)`.

    Examples
    --------
    >>> import reluflow as rf
    >>> from reluflow.orthogonal import kink_picture
    >>> kink_picture(rf.Network([-5.0], [[-3.0, 4.0]]))
    Kinks(position=array([1.33333333]), weight=array([-5.]), direction=array([-1.]))
    """
    if net.d != 2:
        raise ValueError(f"`net` must take inputs (x, 1), i.e. d = 2; got d = {net.d}")
    w1, w2 = net.W[:, 0], net.W[:, 1]
    position = np.divide(-w2, w1, out=np.full(net.m, np.nan), where=w1 != 0)
    return Kinks(position, np.sign(net.a) * np.linalg.norm(net.W, axis=1), np.sign(w1))


def plot_kinks(traj: Trajectory, times=None, ax=None, *, data: Dataset | None = None):
    r"""Snapshots of the kink picture, one panel per time (Fig. 2 of Boursier et al. 2022; chapter
    3, "One-dimensional data with a bias"): a star per neuron at (kink, :math:`s_j\|w_j\|`), blue
    for :math:`a_j > 0`, vermilion for :math:`a_j < 0`; with ``data`` (inputs :math:`(x, 1)`), the
    points and the network function in green.

    ``times``: default 0 and three log-spaced times (nearest snapshots are shown); ``ax``: one
    Axes per time, default a new row of panels. Returns ``(fig, axes)``.
    """
    import matplotlib.pyplot as plt

    from .plotting import NEGATIVE, PALETTE, POSITIVE

    pos = traj.t[traj.t > 0]
    default = np.r_[0.0, np.geomspace(pos[0], pos[-1], 3)] if pos.size else traj.t[:1]
    times = as_finite_array(default if times is None else times, "times", ndim=1)
    if ax is None:
        _, ax = plt.subplots(1, times.size, figsize=(3 * times.size, 3), sharey=True, layout="constrained")
    axes = np.atleast_1d(ax)
    if axes.size != times.size:
        raise ValueError(f"`ax` must hold one Axes per time ({times.size}); got {axes.size}")
    for axk, tau in zip(axes, times, strict=True):
        k = int(np.argmin(np.abs(traj.t - tau)))
        kinks = kink_picture(traj.net(k))
        for sign, colour, label in ((1, POSITIVE, "$a_j > 0$"), (-1, NEGATIVE, "$a_j < 0$")):
            keep = (np.sign(kinks.weight) == sign) & np.isfinite(kinks.position)
            axk.scatter(kinks.position[keep], kinks.weight[keep], marker="*", s=40, color=colour, label=label)
        if data is not None:
            xs = np.linspace(data.X[:, 0].min(), data.X[:, 0].max(), 200)
            axk.plot(xs, traj.net(k)(with_bias(xs)), color=PALETTE[2], label=r"$f_\theta$")
            axk.scatter(data.X[:, 0], data.y, color=PALETTE[2], s=15, label="data")
            axk.set_xlim(xs[0] - 0.1 * (xs[-1] - xs[0]), xs[-1] + 0.1 * (xs[-1] - xs[0]))
        axk.axhline(0.0, color="0.7", lw=0.5)
        axk.set(title=f"$t = {traj.t[k]:.3g}$", xlabel="kink position $-w_{j,2}/w_{j,1}$")
    axes[0].set_ylabel(r"output weight $s_j\|w_j\|$")
    axes[0].legend(frameon=False, fontsize="small")
    return axes[0].figure, axes
