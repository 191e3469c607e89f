"""Chapter 3: orthogonal inputs, the loss staircase and its predicted escape times
(explorer, figure, scrubber)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..datasets import orthogonal
from ..flow import gradient_flow
from ..network import small_init
from ..plotting import NEGATIVE, PALETTE, POSITIVE, plot_neuron_norms, scrub
from ._common import _draw_outputs, _draw_progress, _frame_indices, _index, _scale_slider, _with_overrides

# The running example of chapter 1 (ours), unit input norms; documented in widgets/__init__.py.
ORTHO_DEFAULTS = dict(labels=(1.2, 0.8, -0.5, -0.3), norms=(1.0, 1.0, 1.0, 1.0), scale=1e-6, m=30, seed=0)


def _staircase(y, times, t) -> np.ndarray:
    r"""Predicted loss :math:`\sum_\pm \frac1{2n}\|y^\pm\|^2\,\mathbb 1[t < t_\pm]` (a class with
    escape time inf is never fit; nan means the class is empty)."""
    y = np.asarray(y, float)
    out = np.zeros_like(np.asarray(t, float))
    for cls, t_c in zip((y > 0, y < 0), times, strict=True):
        if cls.any():
            out = out + (y[cls] @ y[cls]) / (2 * y.size) * (t < t_c)
    return out


def ortho_explorer_compute(labels, norms, scale: float, m: int = 30, seed: int = 0) -> dict:
    r"""Gradient flow on orthogonal inputs and the predictions of chapter 3 for it.

    Inputs :math:`x_k = r_k e_k` (``norms``), square loss, balanced init of the given scale
    (``rf.small_init``), run to 1.5 times the latest finite predicted escape time plus 10.
    Returns a dict with ``data``, ``traj``, ``levels`` (``rf.orthogonal.plateau_levels``),
    ``lead`` and ``refined`` (``rf.orthogonal.escape_times`` from the scale and from the
    init), ``staircase`` (the predicted loss at ``traj.t``: each class drops out at its
    refined escape time), ``min_norm`` (``rf.orthogonal.min_norm_interpolant``) and
    ``excess`` (:math:`\frac12\|\theta(t_{end})\|^2 - \min`). Book: chapter 3, "Explore".
    """
    from ..orthogonal import escape_times, min_norm_excess, min_norm_interpolant, plateau_levels

    data = orthogonal(labels, norms=norms)
    net0 = small_init(m, data.d, scale, seed=seed)
    lead, refined = escape_times(data, scale), escape_times(data, net0=net0)
    finite = [t for t in (*refined, *lead) if np.isfinite(t)]
    t_end = 1.5 * max(finite) + 10.0 if finite else 10.0
    traj = gradient_flow(net0, data, "square", t_end, t_eval=np.linspace(0.0, t_end, 601), rtol=1e-7)
    return dict(
        data=data, traj=traj, levels=plateau_levels(data), lead=lead, refined=refined,
        staircase=_staircase(data.y, refined, traj.t), min_norm=min_norm_interpolant(data),
        excess=min_norm_excess(traj.final, data),
    )  # fmt: skip


def _draw_ortho(res: dict, title: str):
    traj = res["traj"]
    fig, axes = plt.subplots(1, 2, figsize=(10.0, 3.6), layout="constrained")
    ax = axes[0]
    ax.plot(traj.t, traj.loss, color=PALETTE[2], lw=2, label="gradient flow")
    ax.plot(traj.t, res["staircase"], color="black", ls="--", lw=1, label="predicted staircase")
    for t_c, colour, sign in zip(res["lead"], (POSITIVE, NEGATIVE), "+-", strict=True):
        if np.isfinite(t_c) and t_c <= traj.t[-1]:
            ax.axvline(t_c, color=colour, ls=":", lw=1.2, label=f"leading order $t_{sign}$")
    ax.set(
        xlabel="gradient-flow time $t$", ylabel=r"loss $L(\theta(t))$", title="loss and predicted staircase"
    )
    ax.legend(frameon=False, fontsize="small")
    plot_neuron_norms(traj, axes[1])
    axes[1].set_xscale("linear")
    axes[1].set_title("neuron norms")
    fig.suptitle(title)
    return fig, axes


def _ortho_title(res: dict, scale: float, m: int) -> str:
    return (f"init scale {scale:.0e}, width {m}: final loss {res['traj'].loss[-1]:.1e}, "
            f"norm excess {res['excess']:.2g}")  # fmt: skip


def ortho_explorer_figure(**overrides):
    """The static figure of :func:`ortho_explorer` at its default values (for the HTML book);
    keyword arguments override :data:`ORTHO_DEFAULTS`. Returns ``(fig, axes)``."""
    p = _with_overrides(ORTHO_DEFAULTS, overrides)
    res = ortho_explorer_compute(p["labels"], p["norms"], p["scale"], p["m"], p["seed"])
    return _draw_ortho(res, _ortho_title(res, p["scale"], p["m"]))


def ortho_explorer():
    """Sliders for the labels and input norms of four orthogonal points, the init scale and
    the width; redraws the loss with its predicted staircase and the neuron norms. Book:
    chapter 3, section "Explore"."""
    import ipywidgets as w

    D = ORTHO_DEFAULTS
    label = [
        w.FloatSlider(
            value=v, min=-2.0, max=2.0, step=0.1, description=f"label y{k + 1}", continuous_update=False
        )
        for k, v in enumerate(D["labels"])
    ]
    norm = [
        w.FloatSlider(
            value=v, min=0.3, max=2.0, step=0.1, description=f"norm |x{k + 1}|", continuous_update=False
        )
        for k, v in enumerate(D["norms"])
    ]
    scale = _scale_slider(D["scale"], -12, -2, 0.5)
    width = w.IntSlider(value=D["m"], min=1, max=200, description="width m", continuous_update=False)

    def draw(scale, m, **kw):
        labels = [kw[f"y{k}"] for k in range(len(label))]
        norms = [kw[f"r{k}"] for k in range(len(norm))]
        res = ortho_explorer_compute(labels, norms, scale, m, D["seed"])
        _draw_ortho(res, _ortho_title(res, scale, m))
        plt.show()

    controls = {
        "scale": scale,
        "m": width,
        **{f"y{k}": s for k, s in enumerate(label)},
        **{f"r{k}": s for k, s in enumerate(norm)},
    }
    out = w.interactive_output(draw, controls)
    return w.VBox([w.HBox([w.VBox(label), w.VBox(norm), w.VBox([scale, width])]), out])


def _draw_ortho_frame(fig, res: dict, k: int) -> None:
    """One frame of :func:`ortho_scrubber`: the loss so far against the predicted staircase,
    and the outputs against the labels at snapshot ``k``."""
    traj = res["traj"]
    ax, ax_out = fig.subplots(1, 2, width_ratios=(1.4, 1.0))
    ax.plot(traj.t, res["staircase"], color="black", ls="--", lw=1, label="predicted staircase")
    _draw_progress(ax, traj.t, traj.loss, traj.t[k], color=PALETTE[2], label="gradient flow")
    for t_c, colour, sign in zip(res["lead"], (POSITIVE, NEGATIVE), "+-", strict=True):
        if np.isfinite(t_c) and t_c <= traj.t[-1]:
            ax.axvline(t_c, color=colour, ls=":", lw=1.2, label=f"leading order $t_{sign}$")
    ax.set(xlabel="gradient-flow time $t$", ylabel=r"loss $L(\theta(t))$")
    ax.legend(frameon=False, fontsize="small")
    _draw_outputs(ax_out, traj.net(k), res["data"])


def ortho_scrubber(n_frames: int = 20, **overrides):
    """Kernel-free slider over gradient-flow time for the example of :func:`ortho_explorer`.

    One run at :data:`ORTHO_DEFAULTS` (keyword arguments override them), ``n_frames``
    equally spaced snapshots: the loss follows the predicted staircase, and the outputs of
    one class reach their labels at its escape time, the other class's later. Returns the
    player of :func:`reluflow.plotting.scrub`. Book: chapter 3, section "Explore".

    Raises
    ------
    ValueError
        For an unknown parameter, or ``n_frames`` outside [2, 601].
    """
    p = _with_overrides(ORTHO_DEFAULTS, overrides)
    res = ortho_explorer_compute(p["labels"], p["norms"], p["scale"], p["m"], p["seed"])
    t = res["traj"].t
    return scrub(lambda fig, s: _draw_ortho_frame(fig, res, _index(t, s)), t[_frame_indices(t, n_frames)],
                 label="gradient-flow time t", figsize=(9.0, 3.4))  # fmt: skip
