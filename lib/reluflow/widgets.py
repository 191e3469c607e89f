"""Interactive explorers for the book (ipywidgets). Each builder pairs a pure compute
function (testable, timed in bench/) with a drawing function, and returns the widget."""

from __future__ import annotations

import matplotlib.pyplot as plt

from .data import Dataset
from .datasets import orthogonal
from .flow import gradient_flow
from .losses import LossLike
from .network import small_init
from .plotting import plot_flow
from .trajectory import Trajectory

__all__ = ["flow_explorer", "flow_explorer_compute", "flow_explorer_figure", "FLOW_DEFAULTS"]

#: Defaults of :func:`flow_explorer`: the running example of chapter 1 (ours).
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
    unknown = set(overrides) - set(FLOW_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown parameter(s) {sorted(unknown)}; choose from {sorted(FLOW_DEFAULTS)}")
    p = {**FLOW_DEFAULTS, **overrides}
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
    scale = w.FloatLogSlider(
        value=D["scale"],
        base=10,
        min=-12,
        max=-1,
        step=0.5,
        description="init scale",
        continuous_update=False,
    )
    width = w.IntSlider(value=D["m"], min=1, max=200, description="width m", continuous_update=False)
    seed = w.IntSlider(value=D["seed"], min=0, max=20, description="seed", continuous_update=False)

    def draw(scale, m, seed):
        traj = flow_explorer_compute(data, loss, t_end, scale, m, seed)
        plot_flow(traj, title=_title(scale, m, seed))
        plt.show()

    out = w.interactive_output(draw, dict(scale=scale, m=width, seed=seed))
    return w.VBox([w.HBox([scale, width, seed]), out])
