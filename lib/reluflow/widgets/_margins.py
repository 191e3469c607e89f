"""Chapter 5: three margins of sparse parity and a near-init run (explorer, figure, scrubber)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..plotting import PALETTE, scrub
from ._common import _draw_progress, _frame_indices, _index, _scale_slider, _with_overrides

# 2-sparse parity, our choices (chapter 5, "Explore"); documented in widgets/__init__.py.
MARGINS_DEFAULTS = dict(d=6, m=128, scale=1.0, t_end=200.0, seed=0)


def margins_explorer_compute(d: int, m: int, scale: float, t_end: float = 200.0, seed: int = 0) -> dict:
    r"""Margins of 2-sparse parity on all :math:`2^d` points and a near-init run on it.

    Returns a dict with ``gamma_ntk`` (``rf.margins.parity_ntk_margin``), ``gamma_gl``
    (``rf.margins.parity_global_margin``), ``gamma_V`` (the norm-only LP with ``m`` random
    directions, ``rf.margins.global_margin_lower_bound``), ``run`` (``rf.margins.ntk_flow``
    with inner init scale ``scale``, step 0.5) and ``rotation`` (degrees, per neuron and
    snapshot, ``rf.diagnostics.rotation`` of the run; shape (k, m)). Book: chapter 5, "Explore".
    """
    from ..datasets import sparse_parity
    from ..diagnostics import rotation
    from ..margins import global_margin_lower_bound, ntk_flow, parity_global_margin, parity_ntk_margin

    data = sparse_parity(d)
    run = ntk_flow(data, m, t_end, scale=scale, seed=seed, step=0.5)
    return dict(
        gamma_ntk=parity_ntk_margin(d).value, gamma_gl=parity_global_margin(d).value,
        gamma_V=global_margin_lower_bound(data, m, seed=seed).value, run=run,
        rotation=np.degrees(rotation(run.trajectory)),
    )  # fmt: skip


def _draw_margins(res: dict, title: str):
    run = res["run"]
    fig, axes = plt.subplots(1, 3, figsize=(12.0, 3.5), layout="constrained")
    names = [r"$\gamma_{\rm ntk}$", r"$\gamma_V$ (LP, $m$ dirs)", r"$\gamma_{\rm gl}$"]
    axes[0].bar(names, [res["gamma_ntk"], res["gamma_V"], res["gamma_gl"]], color=PALETTE[:3])
    axes[0].set(ylabel="margin", title="three margins of the data")
    ax = axes[1]
    ax.plot(run.t[1:], run.margin[1:], color=PALETTE[0], lw=2, label=r"$\min_i y_if/\|W - W_0\|_F$")
    ax.plot(run.t[1:], run.lin_margin[1:], color=PALETTE[1], lw=2, label="linearised")
    ax.axhline(res["gamma_ntk"], color="black", ls="--", lw=1, label=r"$\gamma_{\rm ntk}$")
    ax.set(
        xscale="log",
        xlabel="gradient-flow time $t$",
        ylabel="normalised margin",
        title=f"near-init run: movement {run.movement[-1]:.2f}",
    )
    ax.set_ylim(bottom=min(0.0, np.nanmin(run.lin_margin[1:])))
    ax.legend(frameon=False, fontsize="small")
    axes[2].hist(res["rotation"][-1], bins=30, color=PALETTE[2])
    axes[2].set(
        xlabel=r"rotation $\angle(w_j(t), w_j(0))$ (degrees)",
        ylabel="neurons",
        title=f"median rotation {np.median(res['rotation'][-1]):.1f}°",
    )
    fig.suptitle(title)
    return fig, axes


def _margins_title(p: dict) -> str:
    return f"2-sparse parity, d = {p['d']}, width {p['m']}, init scale {p['scale']:.2g}, t = {p['t_end']:.0f}"


def margins_explorer_figure(**overrides):
    """The static figure of :func:`margins_explorer` at its default values (for the HTML book);
    keyword arguments override :data:`MARGINS_DEFAULTS`. Returns ``(fig, axes)``."""
    p = _with_overrides(MARGINS_DEFAULTS, overrides)
    res = margins_explorer_compute(p["d"], p["m"], p["scale"], p["t_end"], p["seed"])
    return _draw_margins(res, _margins_title(p))


def margins_explorer():
    r"""Sliders for the dimension d of 2-sparse parity, the width and the inner init scale;
    redraws the three margins, the near-init run's normalised margins against
    :math:`\gamma_{\rm ntk}` and the neurons' rotation. Book: chapter 5, section "Explore"."""
    import ipywidgets as w

    D = MARGINS_DEFAULTS
    dim = w.IntSlider(value=D["d"], min=3, max=8, description="dimension d", continuous_update=False)
    width = w.IntSlider(value=D["m"], min=8, max=512, step=8, description="width m", continuous_update=False)
    scale = _scale_slider(D["scale"], -2, 1, 0.25)

    def draw(d, m, scale):
        p = {**D, "d": d, "m": m, "scale": scale}
        _draw_margins(margins_explorer_compute(d, m, scale, D["t_end"], D["seed"]), _margins_title(p))
        plt.show()

    out = w.interactive_output(draw, {"d": dim, "m": width, "scale": scale})
    return w.VBox([w.HBox([dim, width, scale]), out])


def _draw_margins_frame(fig, res: dict, k: int, bins: np.ndarray) -> None:
    """One frame of :func:`margins_scrubber`: the normalised margins so far and the
    neurons' rotation at snapshot ``k``."""
    run = res["run"]
    ax, ax_rot = fig.subplots(1, 2)
    _draw_progress(ax, run.t[1:], run.margin[1:], run.t[k], color=PALETTE[0],
                   label=r"$\min_i y_if/\|W - W_0\|_F$")  # fmt: skip
    _draw_progress(ax, run.t[1:], run.lin_margin[1:], run.t[k], color=PALETTE[1], label="linearised")
    ax.axhline(res["gamma_ntk"], color="black", ls="--", lw=1, label=r"$\gamma_{\rm ntk}$")
    ax.set(xscale="log", xlabel="gradient-flow time $t$", ylabel="normalised margin")
    ax.set_ylim(bottom=min(0.0, np.nanmin(run.lin_margin[1:])))
    ax.legend(frameon=False, fontsize="small", loc="lower right")
    ax_rot.hist(res["rotation"][k], bins=bins, color=PALETTE[2])
    ax_rot.set(xlabel=r"rotation $\angle(w_j(t), w_j(0))$ (degrees)", ylabel="neurons",
               title=f"movement {run.movement[k]:.2f}")  # fmt: skip


def margins_scrubber(n_frames: int = 20, **overrides):
    r"""Kernel-free slider over gradient-flow time for the near-init run of
    :func:`margins_explorer`.

    One run at :data:`MARGINS_DEFAULTS` (keyword arguments override them), ``n_frames``
    of its log-spaced snapshots (t > 0): the normalised margin climbs towards
    :math:`\gamma_{\rm ntk}` while the histogram of the neurons' rotation stays near zero
    (low rotation). Returns the player of :func:`reluflow.plotting.scrub`. Book: chapter 5,
    section "Explore".

    Raises
    ------
    ValueError
        For an unknown parameter, or ``n_frames`` outside [2, 60].
    """
    p = _with_overrides(MARGINS_DEFAULTS, overrides)
    res = margins_explorer_compute(p["d"], p["m"], p["scale"], p["t_end"], p["seed"])
    t = res["run"].t
    frames = _frame_indices(t, n_frames, t_min=t[1])
    bins = np.linspace(0.0, max(float(res["rotation"][-1].max()), 1e-3) * 1.05, 31)
    return scrub(lambda fig, s: _draw_margins_frame(fig, res, _index(t, s), bins), t[frames],
                 label="gradient-flow time t", figsize=(9.0, 3.4))  # fmt: skip
