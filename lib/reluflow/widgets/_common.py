"""Helpers shared by the explorers and scrubbers of every chapter."""

from __future__ import annotations

import numpy as np

from .._validation import positive_int
from ..plotting import NEGATIVE, POSITIVE


def _with_overrides(defaults: dict, overrides: dict) -> dict:
    """``defaults`` updated by ``overrides``; ValueError naming unknown parameters."""
    unknown = set(overrides) - set(defaults)
    if unknown:
        raise ValueError(f"unknown parameter(s) {sorted(unknown)}; choose from {sorted(defaults)}")
    return {**defaults, **overrides}


def _scale_slider(value: float, lo: float, hi: float, step: float):
    """Log slider for the init scale, from 10**lo to 10**hi; updates on release only."""
    import ipywidgets as w

    return w.FloatLogSlider(value=value, base=10, min=lo, max=hi, step=step, description="init scale",
                            continuous_update=False)  # fmt: skip


def _frame_indices(t: np.ndarray, n_frames: int, t_min: float = 0.0) -> np.ndarray:
    """``n_frames`` distinct snapshot indices, equally spaced in index from the first
    snapshot with ``t >= t_min`` to the last (log-spaced snapshots give log-spaced frames)."""
    n_frames = positive_int(n_frames, "n_frames")
    first = int(np.searchsorted(t, t_min))
    available = len(t) - first
    if not 2 <= n_frames <= available:
        raise ValueError(f"n_frames must be between 2 and {available} (the snapshots from t = {t_min:g} on); "
                         f"got {n_frames}")  # fmt: skip
    return np.round(np.linspace(first, len(t) - 1, n_frames)).astype(int)


def _draw_progress(ax, t, y, t_now: float, *, color, label: str | None = None) -> None:
    """The whole curve ``y(t)`` in light grey, its part up to ``t_now`` in ``color`` and a
    dot at ``t_now``: where a frame sits in gradient-flow time."""
    t, y = np.asarray(t), np.asarray(y)
    past = t <= t_now
    ax.plot(t, y, color="0.85", lw=1.5)
    ax.plot(t[past], y[past], color=color, lw=2, label=label)
    ax.plot(t[past][-1:], y[past][-1:], "o", color=color, ms=6)


def _draw_outputs(ax, net, data) -> None:
    """Bars of the network's outputs :math:`f(x_i)` (coloured by the sign of the label) with
    the labels :math:`y_i` as black ticks; the y-range covers the labels and zero."""
    n = data.n
    out = net(data.X)
    ax.bar(np.arange(n), out, color=[POSITIVE if y > 0 else NEGATIVE for y in data.y], alpha=0.8,
           label="output $f(x_i)$")  # fmt: skip
    ax.plot(np.arange(n), data.y, "_", color="black", ms=28, mew=2, label="label $y_i$")
    ax.axhline(0.0, color="0.6", lw=0.8)
    span = max(np.abs(data.y).max(), 1e-12)
    ax.set_ylim(min(data.y.min(), 0.0) - 0.25 * span, max(data.y.max(), 0.0) + 0.25 * span)
    ax.set_xticks(np.arange(n), [f"$x_{i + 1}$" for i in range(n)])
    ax.set(xlabel="input", ylabel="output and label")
    ax.legend(frameon=False, fontsize="small", loc="lower left")


def _index(t: np.ndarray, t_now: float) -> int:
    """Index of the snapshot at time ``t_now`` (a value of the increasing array ``t``)."""
    return min(int(np.searchsorted(t, t_now)), len(t) - 1)
