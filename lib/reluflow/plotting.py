"""Figures used in the book; every helper returns ``(fig, ax)`` or ``(fig, axes)``.

Colours follow the Okabe-Ito colour-blind-safe palette; time axes are gradient-flow time.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .trajectory import Trajectory

__all__ = [
    "PALETTE",
    "plot_alignment_function",
    "plot_error_vs_cost",
    "plot_flow",
    "plot_loss",
    "plot_neuron_norms",
]

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


_MARKERS = {"max": "^", "min": "v", "saddle": "D"}


def plot_alignment_function(X, rho, critical=(), net=None, ax=None, *, num: int = 2000):
    r"""The alignment function :math:`G(\phi) = \sum_i \rho_i\sigma(\langle v_\phi, x_i\rangle)`
    on the circle, :math:`v_\phi = (\cos\phi, \sin\phi)` (2-D data only).

    Critical directions (``rf.kkt_directions``) are marked by kind: up triangles for maxima,
    down triangles for minima, diamonds for saddles; filled when smooth, hollow at a kink.
    If ``net`` is given, each neuron is drawn at its direction's angle and height
    :math:`G`, with a size that grows with :math:`\log\|(a_j, w_j)\|` (six decades below
    the largest neuron stay visible) and colour by the sign of :math:`a_j`. Book: chapter 2, section "The alignment function".
    """
    X = np.asarray(X, float)
    rho = np.asarray(rho, float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_alignment_function needs 2-D inputs; got X of shape {X.shape}")
    fig, ax = _axes(ax, figsize=(7.0, 3.6))
    phi = np.linspace(0, 2 * np.pi, num)
    G = np.maximum(np.c_[np.cos(phi), np.sin(phi)] @ X.T, 0) @ rho
    ax.plot(phi, G, color="0.3", lw=1.2, label="$G(\\phi)$")
    ax.axhline(0, color="0.7", lw=0.6)
    for c in critical:
        ang = np.arctan2(c.v[1], c.v[0]) % (2 * np.pi)
        col = POSITIVE if c.value > 0 else NEGATIVE
        ax.plot(ang, c.value, _MARKERS.get(c.extremum, "o"), ms=9, mec=col,
                mfc=col if c.kind == "smooth" else "white", zorder=5)
    if net is not None:
        ang = np.arctan2(net.W[:, 1], net.W[:, 0]) % (2 * np.pi)
        norms = net.neuron_norms()
        decades = np.log10(np.maximum(norms / norms.max(), 1e-300))
        size = 6 + 110 * np.clip(1 + decades / 6, 0, 1)  # six decades of neuron norm visible
        g = np.maximum(net.W @ X.T, 0) @ rho / np.maximum(np.linalg.norm(net.W, axis=1), 1e-300)
        ax.scatter(ang, g, s=size, c=[POSITIVE if a >= 0 else NEGATIVE for a in net.a],
                   alpha=0.45, edgecolors="none", zorder=6)
    ax.set_xlim(0, 2 * np.pi)
    ax.set_xticks(np.arange(5) * np.pi / 2, ["0", "$\\pi/2$", "$\\pi$", "$3\\pi/2$", "$2\\pi$"])
    ax.set_xlabel("direction angle $\\phi$ of $v = (\\cos\\phi, \\sin\\phi)$")
    ax.set_ylabel("alignment function $G(\\phi)$")
    handles = [
        plt.Line2D([], [], marker="^", ls="", color="0.3", label="max (filled: smooth)"),
        plt.Line2D([], [], marker="v", ls="", mfc="white", color="0.3", label="min (hollow: kink)"),
    ]
    if net is not None:
        handles.append(plt.Line2D([], [], marker="o", ls="", alpha=0.45, color=POSITIVE, label="neurons"))
    ax.legend(handles=handles, frameon=False, fontsize="small", loc="best")
    return fig, ax
