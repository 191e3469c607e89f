"""Figures used in the book; every helper returns ``(fig, ax)`` or ``(fig, axes)``.

Colours follow the Okabe-Ito colour-blind-safe palette; time axes are gradient-flow time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np

from ._validation import as_finite_array
from .data import Correlation, Dataset, with_bias
from .trajectory import Trajectory

__all__ = [
    "PALETTE",
    "SCRUB_MAX_BYTES",
    "phases_polar",
    "plot_alignment_function",
    "plot_error_vs_cost",
    "plot_flow",
    "plot_kinks",
    "plot_loss",
    "plot_neuron_norms",
    "scrub",
    "plot_timeline",
    "plot_weightings",
    "plot_staircase",
    "plot_clock",
    "plot_phase_diagram",
    "plot_coverage",
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


def plot_alignment_function(G: Correlation, critical=(), net=None, ax=None, *, num: int = 2000):
    r"""The correlation :math:`G_\rho(\phi) = \sum_i \rho_i\sigma(\langle v_\phi, x_i\rangle)`
    on the circle, :math:`v_\phi = (\cos\phi, \sin\phi)` (2-D data only): with the residual
    weights at the origin, the alignment function of chapter 2.

    ``G`` is a :class:`~reluflow.Correlation` (``data.weighted(rho)``). Critical directions
    (``rf.ncf.kkt_directions(G)``) are marked by kind: up triangles for maxima, down
    triangles for minima, diamonds for saddles; filled when smooth, hollow at a kink. If
    ``net`` is given, each neuron is drawn at its direction's angle and height :math:`G`, with
    a size that grows with :math:`\log\|(a_j, w_j)\|` (six decades below the largest neuron
    stay visible) and colour by the sign of :math:`a_j`. Book: chapter 2, section "The
    alignment function".
    """
    if not isinstance(G, Correlation):
        raise TypeError(f"`G` must be a rf.Correlation (`data.weighted(rho)`); got {type(G).__name__}")
    if G.data.d != 2:
        raise ValueError(f"plot_alignment_function needs 2-D inputs; got d = {G.data.d}")
    fig, ax = _axes(ax, figsize=(7.0, 3.6))
    phi = np.linspace(0, 2 * np.pi, num)
    ax.plot(phi, G(np.c_[np.cos(phi), np.sin(phi)]), color="0.3", lw=1.2, label="$G(\\phi)$")
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
        g = G(net.W) / np.maximum(np.linalg.norm(net.W, axis=1), 1e-300)
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


def phases_polar(
    net,
    data,
    ax=None,
    *,
    r_floor: float | None = None,
    color=None,
    label=None,
    r_max: float | None = None,
    show_data: bool = True,
):
    r"""Neuron directions on a polar axis: angle of :math:`w_j`, radius
    :math:`\log_{10}\|(a_j, w_j)\| - r_{\rm floor}` (2-D inputs).

    Filled circles for :math:`a_j > 0`, crosses for :math:`a_j < 0`; with ``show_data`` the
    data directions of ``data`` (a :class:`~reluflow.Dataset`) as labelled grey rays. ``ax``
    must be polar (created if None); ``r_floor`` defaults to the smallest log-norm minus 0.5,
    ``r_max`` (the outer radius) to the largest radius drawn on ``ax`` plus 0.5. Radial grid
    lines are two decades apart. Returns ``(fig, ax)``. Book: chapter 4, "Directions on the
    circle".
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.0, 4.0), subplot_kw=dict(projection="polar"), layout="constrained")
    fig = ax.figure
    logn = np.log10(np.maximum(net.neuron_norms(), 1e-300))
    r_floor = float(logn.min() - 0.5) if r_floor is None else r_floor
    phi, r = np.arctan2(net.W[:, 1], net.W[:, 0]), np.maximum(logn - r_floor, 0.0)
    pos = net.a > 0
    ax.scatter(phi[pos], r[pos], s=14, marker="o", color=color or POSITIVE, label=label)
    ax.scatter(phi[~pos], r[~pos], s=18, marker="x", color=color or NEGATIVE)
    drawn = ax.get_ylim()[1] if ax.collections[:-2] else 0.0
    top = r_max if r_max is not None else max(float(r.max()) + 0.5, drawn, 1.0)
    ax.set_ylim(0.0, top)
    ax.set_yticks(np.arange(2.0, top, 2.0))
    ax.set_yticklabels([])
    ax.set_xticks(np.radians([0, 90, 180, 270]))
    ax.set_xticklabels([])
    if show_data:
        for x, name in zip(data.X, ("$x_+$", "$x_-$"), strict=False):
            ang = np.arctan2(x[1], x[0])
            ax.plot([ang, ang], [0, top], color="0.5", lw=1, ls="--")
            ax.text(ang, 1.12 * top, name, ha="center", va="center", color="0.3")
    return fig, ax


def plot_kinks(traj: Trajectory, data: Dataset | None = None, times=None, ax=None):
    r"""Snapshots of the kink picture, one panel per time (Fig. 2 of Boursier et al. 2022; chapter
    3, "One-dimensional data with a bias"): a star per neuron at (kink, :math:`s_j\|w_j\|`), blue
    for :math:`a_j > 0`, vermilion for :math:`a_j < 0`; with ``data`` (inputs :math:`(x, 1)`), the
    points and the network function in green.

    ``times``: default 0 and three log-spaced times (nearest snapshots are shown); ``ax``: one
    Axes per time, default a new row of panels. Returns ``(fig, axes)``. The kinks are
    ``rf.orthogonal.kink_picture`` of each snapshot.
    """
    from .orthogonal import kink_picture

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


#: Largest HTML :func:`scrub` returns (bytes): a book page must stay under 5 MB.
SCRUB_MAX_BYTES = 3_000_000

# matplotlib's player loads Font Awesome from a CDN for its button icons; the book works
# offline, so the icons become short text labels.
_FONT_AWESOME = re.compile(r'<link rel="stylesheet"\s+href="[^"]*font-awesome[^"]*">\s*')
_ICONS = {"minus": "&minus;", "fast-backward": "|&lt;", "step-backward": "&lt;|",
          "play fa-flip-horizontal": "&lt;", "pause": "||", "play": "&gt;", "step-forward": "|&gt;",
          "fast-forward": "&gt;|", "plus": "+"}  # fmt: skip
_ICON = re.compile(r'<i class="fa fa-([a-z -]+)"></i>')


def scrub(
    draw: Callable,
    values: Sequence,
    *,
    label: str = "t",
    fmt: str = "{:.3g}",
    figsize: tuple[float, float] = (8.0, 3.4),
    dpi: float = 60,
    interval: float = 250,
):
    r"""A kernel-free slider: one precomputed frame per value, in an HTML player.

    Each frame is drawn by ``draw(fig, value)`` on a cleared figure (minor ticks are then
    switched off: on log axes they dominate the rendering time), captioned
    ``f"{label} = {fmt.format(value)}"`` and embedded as a PNG in the page, with
    matplotlib's JavaScript player (``matplotlib.animation.HTMLWriter``, the writer of
    ``FuncAnimation.to_jshtml``): a slider, step and play buttons. No kernel and no network are needed, so the static HTML book can be scrubbed
    through gradient-flow time. Book: chapter 1, section "Explore".

    Parameters
    ----------
    draw : callable
        ``draw(fig, value)`` draws one frame on the (empty) figure ``fig``.
    values : sequence, length n_frames
        The parameter of each frame, in order (for example gradient-flow times).
    label : str
        Name of the parameter in the frame caption.
    fmt : str
        Format of the value in the caption, e.g. ``"{:.3g}"``.
    figsize : (float, float)
        Figure size in inches.
    dpi : float
        Resolution of the frames; the page weight grows as ``dpi**2``. About 20 frames
        of a two-panel figure at the default 60 dpi weigh 0.5 to 1 MB.
    interval : float
        Milliseconds between frames when playing.

    Returns
    -------
    IPython.display.HTML
        The player (a ``div.animation`` with an ``input.anim-slider``), at most
        :data:`SCRUB_MAX_BYTES` long. Its figure is closed, so no static copy is shown.

    Raises
    ------
    ValueError
        If ``values`` is empty, or the player would exceed :data:`SCRUB_MAX_BYTES`.

    Examples
    --------
    >>> player = scrub(lambda fig, v: fig.subplots().plot([0, v]), [1.0, 2.0], dpi=20)
    >>> player.data.count('class="anim-slider"'), "font-awesome" in player.data
    (1, False)
    """
    import tempfile
    from pathlib import Path

    from IPython.display import HTML
    from matplotlib.animation import HTMLWriter

    values = list(values)
    if not values:
        raise ValueError("values must hold at least one frame value; got an empty sequence")
    fig = plt.figure(figsize=figsize, dpi=dpi, layout="constrained")
    # HTMLWriter is what FuncAnimation.to_jshtml uses; driven directly, each frame is drawn
    # once (to_jshtml through FuncAnimation draws every frame three times).
    # Its embed limit (MB) is raised above ours, so that the size check below reports it.
    writer = HTMLWriter(fps=1000.0 / interval, embed_frames=True, default_mode="once",
                        embed_limit=4 * SCRUB_MAX_BYTES / 2**20)  # fmt: skip
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp, "player.html")
            with writer.saving(fig, str(path), dpi):
                for value in values:
                    fig.clear()
                    draw(fig, value)
                    for ax in fig.axes:
                        ax.minorticks_off()  # on log axes they take half of the rendering time
                    fig.suptitle(f"{label} = {fmt.format(value)}")
                    writer.grab_frame()
            text = path.read_text(encoding="utf-8")
    finally:
        plt.close(fig)
    text = _ICON.sub(lambda m: _ICONS.get(m.group(1), ""), _FONT_AWESOME.sub("", text))
    size = len(text.encode())
    if size > SCRUB_MAX_BYTES:
        raise ValueError(
            f"the player of {len(values)} frames is {size / 1e6:.2f} MB, {(size - SCRUB_MAX_BYTES) / 1e6:.2f} MB "
            f"over SCRUB_MAX_BYTES = {SCRUB_MAX_BYTES / 1e6:.1f} MB; use fewer frames or a lower dpi"
        )
    return HTML(text)


_EVENT_STYLE = {"off": ("switch-off", NEGATIVE), "on": ("switch-on", POSITIVE), "slide": ("slide", PALETTE[2])}


def plot_timeline(traj: Trajectory, levels, ax=None, *, band: float = 0.05, names=None, marks=None,
                  t_min: float | None = None):  # fmt: skip
    r"""The run at a glance: loss against gradient-flow time on a log axis, the plateaus shaded
    (legend: their names and levels), every activation event of ``traj.switches`` as a tick at
    the bottom (book chapter 3, "The run at a glance").

    Parameters
    ----------
    traj : Trajectory
    levels : array_like, shape (q,)
        Plateau levels; each is drawn as a dotted line, and the stretch where the loss lies
        within a relative ``band`` of it (:func:`reluflow.diagnostics.plateaus`) is shaded.
    ax : matplotlib Axes, optional
    band : float
        Relative half-width of the plateau band.
    names : sequence of str, optional
        Names of the plateaus (default: "plateau i").
    marks : dict, optional
        ``{label: t}``: times drawn as labelled vertical dashed lines (e.g. escape times).
    t_min : float, optional
        Left end of the time axis (default: the first positive snapshot or event time); a
        plateau that starts at the first snapshot is shaded from there.

    Returns
    -------
    (fig, ax)
        Ticks at the bottom: "off" (a pre-activation :math:`\langle w_j, x_i\rangle` becomes
        negative), "on" (it becomes positive), "slide" (the neuron is held on the face);
        the legend gives their counts.

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.datasets.orthogonal([1.0, -0.5])
    >>> traj = rf.gradient_flow(rf.small_init(8, 2, 1e-4, seed=0), data, "square", 80.0, t_eval="log")
    >>> fig, ax = rf.plotting.plot_timeline(traj, rf.orthogonal.plateau_levels(data)[:2])
    >>> ax.get_xscale(), ax.get_legend() is not None
    ('log', True)
    """
    from .diagnostics import plateaus

    fig, ax = _axes(ax, figsize=(8.0, 3.8))
    levels = np.atleast_1d(as_finite_array(levels, "levels"))
    names = [f"plateau {k}" for k in range(levels.size)] if names is None else list(names)
    if len(names) != levels.size:
        raise ValueError(f"`names` must hold one label per level ({levels.size}); got {len(names)}")
    keep, sw = traj.t > 0, traj.switches
    first = [traj.t[keep][0]] if np.any(keep) else []
    lo = float(min(first + list(sw["t"][sw["t"] > 0]))) if t_min is None else float(t_min)
    if not (np.isfinite(lo) and lo > 0):
        raise ValueError(f"`t_min` must be finite and > 0 (a log time axis); got {t_min!r}")
    ax.set_xscale("log")
    for k, ((t0, t1), level, name) in enumerate(zip(plateaus(traj, levels, band=band), levels, names, strict=True)):
        ax.axhline(level, color="0.5", ls=":", lw=0.8)
        if np.isfinite(t0):
            ax.axvspan(lo if t0 <= traj.t[0] else t0, t1, color=PALETTE[(k + 5) % len(PALETTE)], alpha=0.3, lw=0,
                       label=f"{name} ($L = {level:.3g}$)")  # fmt: skip
    ax.plot(traj.t[keep], traj.loss[keep], color="black", lw=2, label="loss")
    for kind, (label, colour) in _EVENT_STYLE.items():
        times = sw["t"][(sw["kind"] == kind) & (sw["t"] > 0)]
        if times.size:
            ax.vlines(times, 0.0, 0.06, transform=ax.get_xaxis_transform(), color=colour, lw=0.6, alpha=0.6,
                      label=f"{label} events ({times.size})")  # fmt: skip
    for label, t in (marks or {}).items():
        ax.axvline(t, color="0.3", ls="--", lw=1)
        ax.text(t * 1.03, 0.45, label, transform=ax.get_xaxis_transform(), rotation=90, ha="left", va="bottom",
                fontsize="small")  # fmt: skip
    ax.set_xlim(lo, traj.t[-1])
    ax.set_xlabel("gradient-flow time $t$ (log scale)")
    ax.set_ylabel(r"loss $L(\theta(t))$")
    ax.legend(frameon=False, fontsize="small", loc="center left")
    return fig, ax


def plot_weightings(panels, axes=None):
    r"""One panel per weighting of the correlation :math:`G_\rho` on the circle (2-D data): its
    curve, its critical directions and, if given, a network's neurons, as
    :func:`plot_alignment_function` draws them. Book: chapter 6, "One function, four weightings".

    Parameters
    ----------
    panels : sequence of (str, Correlation, sequence, Network or None)
        ``(title, G, critical, net)`` per panel: ``critical`` from ``rf.ncf.kkt_directions(G)``.
    axes : sequence of Axes, optional
        One per panel; default one row.

    Returns
    -------
    (fig, axes)
    """
    panels = list(panels)
    if axes is None:
        fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3.0), layout="constrained",
                                 sharex=True, squeeze=False)  # fmt: skip
        axes = axes[0]
    fig = axes[0].figure
    for ax, (title, G, critical, net) in zip(axes, panels, strict=True):
        plot_alignment_function(G, critical, net, ax, num=721)
        ax.set_title(title, fontsize="medium")
        ax.set_ylabel("$G_\\rho(\\phi)$")
        ax.set_xlabel("angle $\\phi$")
        if ax is not axes[0] and ax.get_legend() is not None:
            ax.get_legend().remove()
    return fig, axes


def plot_staircase(runs: dict, staircase, ax=None, *, t_max: float | None = None):
    r"""Loss against :math:`t/\ln(1/\varepsilon)` for runs at several init scales, with the
    predicted leading-order staircase (dashed): the curves approach it as the scale shrinks.
    Book: chapter 6, "Saddle to saddle as an algorithm".

    Parameters
    ----------
    runs : dict of float to Trajectory
        Init scale :math:`\varepsilon` -> its run.
    staircase : rf.ncf.Staircase
        Its ``taus`` and ``levels`` are drawn.
    ax : Axes, optional
    t_max : float, optional
        Right end of the staircase in units of :math:`\ln(1/\varepsilon)` (default 1.2 times the
        last predicted drop).

    Returns
    -------
    (fig, ax)
    """
    fig, ax = _axes(ax, figsize=(5.2, 3.4))
    taus, levels = np.asarray(staircase.taus), np.asarray(staircase.levels)
    for k, (scale, traj) in enumerate(sorted(runs.items(), reverse=True)):
        keep = traj.t > 0
        ax.plot(traj.t[keep] / np.log(1 / scale), traj.loss[keep], color=PALETTE[k % len(PALETTE)], lw=1.4,
                label=f"ε = {scale:.0e}")  # fmt: skip
    t_max = 1.2 * taus[-1] if t_max is None else t_max
    edges = np.r_[0.0, taus, t_max]
    ax.hlines(levels, edges[:-1], edges[1:], colors="black", linestyles="--", lw=1.5, label="predicted staircase")
    ax.vlines(taus, levels[1:], levels[:-1], colors="black", linestyles="--", lw=1.5)
    positive = levels[levels > 0]
    bottom = max(min(positive.min(), 1e-3), 1e-4) / 3 if positive.size else 1e-4
    ax.set(yscale="log", xlim=(0, t_max), ylim=(bottom, 1.6 * levels[0]),
           xlabel="gradient-flow time $t / \\ln(1/\\varepsilon)$", ylabel="loss $L(t)$")  # fmt: skip
    ax.legend(frameon=False, fontsize="small", loc="lower left")
    return fig, ax


def plot_clock(series: dict, ax=None):
    r"""The one-clock collapse: for each instance, points :math:`(\ln(1/\varepsilon)/g^\star,\
    T_M - c_M)` against the identity line. Book: chapter 6, "One clock".

    Parameters
    ----------
    series : dict of str to (array_like, array_like)
        Label -> (x, y).

    Returns
    -------
    (fig, ax)
    """
    fig, ax = _axes(ax, figsize=(5.0, 4.0))
    markers = "osD^vP*X"
    hi = 0.0
    for k, (label, (x, y)) in enumerate(series.items()):
        ax.plot(x, y, markers[k % len(markers)], color=PALETTE[k % len(PALETTE)], ms=7, mfc="none", mew=1.5,
                label=label)  # fmt: skip
        hi = max(hi, float(np.max(x)), float(np.max(y)))
    ax.plot([0, 1.05 * hi], [0, 1.05 * hi], color="0.4", lw=1, ls="--", label="identity")
    ax.set(xlim=(0, 1.05 * hi), ylim=(0, 1.05 * hi), aspect="equal",
           xlabel="$\\ln(1/\\varepsilon)/g^\\star$ (gradient-flow time)",
           ylabel="$T_M - c_M$ (gradient-flow time)")  # fmt: skip
    ax.legend(frameon=False, fontsize="small", loc="upper left")
    return fig, ax


def plot_phase_diagram(columns: dict, key: str, ax=None, *, d: int | None = None, label: str | None = None,
                       cmap: str = "viridis", vmin: float | None = None, vmax: float | None = None):  # fmt: skip
    r"""A lazy-to-rich phase diagram: the mean over seeds of ``columns[key]`` on the grid of
    init scales :math:`\alpha` (x, log) and widths m (y, log), at one dimension ``d``, with the
    curves :math:`\kappa = \alpha\sqrt m = 1` and 10. Book: chapter 6, "The lazy-to-rich phase
    diagram".

    Parameters
    ----------
    columns : dict of ndarray
        ``rf.sweep.to_columns`` of the sweep's rows (keys ``d``, ``m``, ``scale`` and ``key``).
    key : str
    d : int, optional
        Dimension to show (default: the first in the columns).
    label : str, optional
        Colour-bar label (default ``key``).

    Returns
    -------
    (fig, ax)
    """
    fig, ax = _axes(ax, figsize=(4.4, 3.4))
    d = int(np.unique(columns["d"])[0]) if d is None else d
    sel = columns["d"] == d
    scales, widths = np.unique(columns["scale"][sel]), np.unique(columns["m"][sel])
    Z = np.full((widths.size, scales.size), np.nan)
    for i, m in enumerate(widths):
        for j, a in enumerate(scales):
            pick = sel & (columns["m"] == m) & (columns["scale"] == a)
            if pick.any():
                Z[i, j] = np.mean(columns[key][pick])
    mesh = ax.pcolormesh(np.arange(scales.size + 1) - 0.5, np.arange(widths.size + 1) - 0.5, Z, cmap=cmap,
                         vmin=vmin, vmax=vmax, shading="flat")  # fmt: skip
    fig.colorbar(mesh, ax=ax, label=label or key)
    for kappa, style in ((1.0, ":"), (10.0, "--")):  # alpha = kappa / sqrt(m), in index coordinates
        x = np.interp(np.log(kappa / np.sqrt(widths)), np.log(scales), np.arange(scales.size), left=np.nan, right=np.nan)
        ax.plot(x, np.arange(widths.size), color="white", ls=style, lw=1.6, label=f"$\\kappa = {kappa:g}$")
    ax.set_xticks(np.arange(scales.size), [f"{a:g}" for a in scales], rotation=45)
    ax.set_yticks(np.arange(widths.size), [str(int(m)) for m in widths])
    ax.set(xlabel="init scale $\\alpha$", ylabel="width $m$", title=f"d = {d}")
    ax.legend(frameon=False, fontsize="x-small", loc="upper right", labelcolor="white")
    return fig, ax


def plot_coverage(traj: Trajectory, intervals, ax=None):
    r"""Loss against gradient-flow time with labelled intervals shaded: which result covers which
    part of a run from small initialisation. Book: chapter 6, "A timeline".

    Parameters
    ----------
    traj : Trajectory
    intervals : sequence of (float, float, str)
        ``(t_start, t_end, text)`` per interval, in gradient-flow time; the text is written
        inside its band, alternately high and low.

    Returns
    -------
    (fig, ax)
    """
    fig, ax = _axes(ax, figsize=(9.0, 3.6))
    ax.plot(traj.t, traj.loss, color="black", lw=2, zorder=3)
    ax.set(xlabel="gradient-flow time $t$", ylabel="loss $L(t)$", xlim=(0, traj.t[-1]), ylim=(0, 1.25 * traj.loss[0]))
    colours = ["#56B4E9", "#E69F00", "#009E73", "#CC79A7", "#F0E442", "#0072B2"]
    top = 1.25 * traj.loss[0]
    for k, (t0, t1, text) in enumerate(intervals):
        ax.axvspan(t0, t1, color=colours[k % len(colours)], alpha=0.25, lw=0)
        ax.text((t0 + t1) / 2, top * (0.97 if k % 2 == 0 else 0.55), text, ha="center", va="top", fontsize="x-small")
    return fig, ax
