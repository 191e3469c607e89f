"""Chapter 1: loss and neuron norms of the running example (explorer, figure, scrubber)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection

from ..data import Dataset
from ..datasets import orthogonal
from ..flow import gradient_flow
from ..losses import LossLike
from ..network import small_init
from ..plotting import NEGATIVE, PALETTE, POSITIVE, plot_flow, scrub
from ..trajectory import Trajectory
from ._common import _draw_outputs, _draw_progress, _frame_indices, _index, _scale_slider, _with_overrides

# The running example of chapter 1 (ours); documented in widgets/__init__.py.
FLOW_DEFAULTS = dict(y=(1.2, 0.8, -0.5, -0.3), loss="square", t_end=200.0, scale=1e-6, m=30, seed=0)


def flow_explorer_compute(
    data: Dataset, loss: LossLike, t_end: float, scale: float, m: int, seed: int
) -> Trajectory:
    """Run the gradient flow shown by :func:`flow_explorer` (balanced small init)."""
    net0 = small_init(m, data.d, scale, seed=seed)
    return gradient_flow(net0, data, loss, t_end, t_eval="log", rtol=1e-7)


def _title(scale: float, m: int, seed: int) -> str:
    return f"init scale {scale:.0e}, width {m}, seed {seed}"


def flow_explorer_figure(**overrides):
    """The static figure of :func:`flow_explorer` at its default values (for the HTML
    book, where no kernel runs the sliders); keyword arguments override
    :data:`FLOW_DEFAULTS`. Returns ``(fig, axes)``."""
    p = _with_overrides(FLOW_DEFAULTS, overrides)
    traj = flow_explorer_compute(orthogonal(p["y"]), p["loss"], p["t_end"], p["scale"], p["m"], p["seed"])
    return plot_flow(traj, title=_title(p["scale"], p["m"], p["seed"]))


def flow_explorer(data: Dataset | None = None, loss: LossLike | None = None, t_end: float | None = None):
    """Sliders for the init scale, width and seed; redraws loss and neuron-norm curves.

    Defaults: :data:`FLOW_DEFAULTS` (orthogonal inputs, square loss). See the book,
    chapter 1, section "Explore".
    """
    import ipywidgets as w

    D = FLOW_DEFAULTS
    data = orthogonal(D["y"]) if data is None else data
    loss = D["loss"] if loss is None else loss
    t_end = D["t_end"] if t_end is None else t_end
    scale = _scale_slider(D["scale"], -12, -1, 0.5)
    width = w.IntSlider(value=D["m"], min=1, max=200, description="width m", continuous_update=False)
    seed = w.IntSlider(value=D["seed"], min=0, max=20, description="seed", continuous_update=False)

    def draw(scale, m, seed):
        traj = flow_explorer_compute(data, loss, t_end, scale, m, seed)
        plot_flow(traj, title=_title(scale, m, seed))
        plt.show()

    out = w.interactive_output(draw, dict(scale=scale, m=width, seed=seed))
    return w.VBox([w.HBox([scale, width, seed]), out])


def _draw_flow_frame(fig, traj: Trajectory, data: Dataset, k: int) -> None:
    """One frame of :func:`flow_scrubber`: loss, neuron norms and outputs at snapshot ``k``."""
    ax_loss, ax_norm, ax_out = fig.subplots(1, 3, width_ratios=(1.1, 1.1, 0.8))
    keep = traj.t > 0
    t, t_now = traj.t[keep], traj.t[k]
    _draw_progress(ax_loss, t, traj.loss[keep], t_now, color=PALETTE[2])
    ax_loss.set(xscale="log", xlabel="gradient-flow time $t$", ylabel=r"loss $L(\theta(t))$")
    norms, past = traj.neuron_norms()[keep], t <= t_now
    colours = [POSITIVE if a >= 0 else NEGATIVE for a in traj.a[-1]]
    ax_norm.set(xscale="log", yscale="log", xlabel="gradient-flow time $t$",
                ylabel=r"neuron norm $\|(a_j, w_j)\|$")  # fmt: skip
    ax_norm.add_collection(LineCollection([np.c_[t, n] for n in norms.T], colors="0.9", lw=0.8))
    ax_norm.add_collection(LineCollection([np.c_[t[past], n[past]] for n in norms.T], colors=colours, lw=0.8))
    ax_norm.autoscale_view()
    _draw_outputs(ax_out, traj.net(k), data)


def flow_scrubber(n_frames: int = 20, **overrides):
    """Kernel-free slider over gradient-flow time for the example of :func:`flow_explorer`.

    One run at :data:`FLOW_DEFAULTS` (keyword arguments override them); ``n_frames``
    snapshots, log-spaced from t = 1 to ``t_end``, each showing the loss so far, the neuron
    norms so far and the outputs :math:`f(x_i)` against the labels: the classes are fitted
    one after the other. Returns the player of :func:`reluflow.plotting.scrub` (an
    ``IPython.display.HTML``). Book: chapter 1, section "Explore".

    Raises
    ------
    ValueError
        For an unknown parameter, or ``n_frames`` outside [2, snapshots from t = 1 on].
    """
    p = _with_overrides(FLOW_DEFAULTS, overrides)
    data = orthogonal(p["y"])
    traj = flow_explorer_compute(data, p["loss"], p["t_end"], p["scale"], p["m"], p["seed"])
    frames = _frame_indices(traj.t, n_frames, t_min=min(1.0, p["t_end"] / 10))
    return scrub(lambda fig, t: _draw_flow_frame(fig, traj, data, _index(traj.t, t)), traj.t[frames],
                 label="gradient-flow time t", figsize=(10.0, 3.2))  # fmt: skip
