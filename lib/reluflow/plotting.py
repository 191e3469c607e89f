"""Figures used in the book; every helper returns ``(fig, ax)`` or ``(fig, axes)``.

Colours follow the Okabe-Ito colour-blind-safe palette; time axes are gradient-flow time.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .trajectory import Trajectory

__all__ = ["PALETTE", "plot_loss", "plot_neuron_norms", "plot_flow", "plot_error_vs_cost"]

#: Okabe-Ito palette (colour-blind safe).
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
POSITIVE, NEGATIVE = PALETTE[0], PALETTE[1]


def _axes(ax, figsize=(5.0, 3.4)):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def plot_loss(traj: Trajectory, ax=None, *, label: str | None = None, color=None, logy: bool = False):
    """Loss against gradient-flow time on a logarithmic time axis (t > 0 only)."""
    fig, ax = _axes(ax)
    keep = traj.t > 0
    ax.plot(traj.t[keep], traj.loss[keep], color=color or PALETTE[0], label=label)
    ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("gradient-flow time $t$")
    ax.set_ylabel("loss $L(\\theta(t))$")
    if label:
        ax.legend(frameon=False)
    return fig, ax


def plot_neuron_norms(traj: Trajectory, ax=None):
    r"""Per-neuron norms :math:`\|(a_j, w_j)\|` on log-log axes, coloured by the sign of
    :math:`a_j` at the end (blue: positive, vermilion: negative)."""
    fig, ax = _axes(ax)
    keep = traj.t > 0
    norms = traj.neuron_norms()[keep]
    signs = np.sign(traj.a[-1])
    for j in range(norms.shape[1]):
        ax.plot(traj.t[keep], norms[:, j], lw=0.8, alpha=0.7, color=POSITIVE if signs[j] >= 0 else NEGATIVE)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("gradient-flow time $t$")
    ax.set_ylabel("neuron norm $\\|(a_j, w_j)\\|$")
    ax.plot([], [], color=POSITIVE, label="$a_j > 0$")
    ax.plot([], [], color=NEGATIVE, label="$a_j < 0$")
    ax.legend(frameon=False, loc="upper left")
    return fig, ax


def plot_flow(traj: Trajectory, axes=None, *, title: str | None = None):
    """Two panels: loss and per-neuron norms against log time."""
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.4), layout="constrained")
    else:
        fig = axes[0].figure
    plot_loss(traj, axes[0])
    plot_neuron_norms(traj, axes[1])
    if title:
        fig.suptitle(title)
    return fig, axes


def plot_error_vs_cost(series: dict, ax=None, *, xlabel: str = "gradient evaluations"):
    """Error against cost on log-log axes; ``series`` maps a label to ``(cost, error)``."""
    fig, ax = _axes(ax)
    for k, (label, (cost, err)) in enumerate(series.items()):
        ax.loglog(cost, err, "o-", color=PALETTE[k % len(PALETTE)], label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("relative error at $t_{\\mathrm{end}}$")
    ax.legend(frameon=False)
    return fig, ax
