"""Chapter 4: the four phases on the two-point instance (explorer, figure, scrubber)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..flow import gradient_flow
from ..network import small_init
from ..plotting import phases_polar, scrub
from ._common import _draw_progress, _frame_indices, _index, _scale_slider, _with_overrides

# The two-point instance of chapter 4 (ours); documented in widgets/__init__.py.
PHASES_DEFAULTS = dict(delta=1.0, p=0.75, scale=1e-6, m=60, seed=0)
_PHASE_COLOURS = dict(zip(("condensation", "saddle-to-plateau", "plateau", "escape", "convergence"),
                          ("#56B4E9", "#E69F00", "#009E73", "#CC79A7", "#F0E442"), strict=True))  # fmt: skip


def phases_explorer_compute(delta: float, p: float, scale: float, m: int = 60, seed: int = 0) -> dict:
    r"""One run on the two-point instance (``rf.datasets.two_point``, exponential loss, balanced
    ``small_init``) up to 1.5 times the predicted escape time (3 :math:`T_1` without plateau).

    Returns a dict with ``data``, ``traj`` (log-spaced snapshots), ``phases``
    (``rf.phases.detect``) and ``predicted`` (``rf.phases.predicted_times``). Book: chapter 4,
    "Explore".
    """
    from ..datasets import two_point
    from ..phases import detect, predicted_times

    data = two_point(delta, p)
    pred = predicted_times(data, "exponential", scale)
    t_end = 1.5 * pred.t_escape if np.isfinite(pred.t_escape) else 3.0 * pred.t1
    traj = gradient_flow(small_init(m, 2, scale, seed=seed), data, "exponential", t_end, t_eval="log")
    return dict(data=data, traj=traj, phases=detect(traj, data, "exponential"), predicted=pred)


def _draw_phase_loss(ax, res: dict, t_now: float | None = None) -> None:
    """The loss on log-log axes over the detected phase bands, with the predicted times;
    with ``t_now``, only the part up to ``t_now`` is in black (a scrubber frame)."""
    traj, pred = res["traj"], res["predicted"]
    for phase in res["phases"]:
        ax.axvspan(max(phase.t_start, traj.t[1]), phase.t_end, color=_PHASE_COLOURS[phase.name],
                   alpha=0.25, lw=0, label=phase.name)  # fmt: skip
    if t_now is None:
        ax.plot(traj.t[1:], traj.loss[1:], color="black", lw=2)
    else:
        _draw_progress(ax, traj.t[1:], traj.loss[1:], t_now, color="black")
    ax.axvline(pred.t1, color="black", ls=":", lw=1.2, label="predicted $T_1$")
    if np.isfinite(pred.t_escape):
        ax.axvline(pred.t_escape, color="black", ls="--", lw=1.2, label=r"predicted $T_{\rm esc}$")
    ax.set(xscale="log", yscale="log", xlabel="gradient-flow time $t$", ylabel="loss $L(t)$",
           xlim=(min(1.0, 0.1 * pred.t1), traj.t[-1]), ylim=(max(traj.loss[-1] / 2, 1e-4), 1.5))  # fmt: skip
    ax.legend(frameon=False, fontsize="small", loc="lower left")


def _draw_phases(res: dict, title: str):
    traj, ph = res["traj"], res["phases"]
    fig = plt.figure(figsize=(10.5, 3.9), layout="constrained")
    ax = fig.add_subplot(1, 2, 1)
    _draw_phase_loss(ax, res)
    pax = fig.add_subplot(1, 2, 2, projection="polar")
    floor = float(np.log10(traj.neuron_norms()[0].min()) - 0.5)
    for i, phase in enumerate(ph):
        k = min(int(np.searchsorted(traj.t, phase.t_end)), len(traj) - 1)
        phases_polar(traj.net(k), res["data"], pax, r_floor=floor, color=_PHASE_COLOURS[phase.name],
                     label=f"t = {traj.t[k]:.0f}", show_data=i == len(ph) - 1)  # fmt: skip
    pax.set_title(
        "directions at phase ends; radius log10 ||θ_j|| + const\n(rings: 2 decades; o: a > 0, x: a < 0)",
        fontsize="small",
    )
    pax.legend(frameon=False, fontsize="x-small", loc="lower left", bbox_to_anchor=(1.0, 0.0))
    fig.suptitle(title)
    return fig, (ax, pax)


def _phases_title(p: dict) -> str:
    return f"two points, Δ = {p['delta']:.2f}, p = {p['p']:.2f}, init scale {p['scale']:.0e}, width {p['m']}, seed {p['seed']}"


def phases_explorer_figure(**overrides):
    """The static figure of :func:`phases_explorer` at its default values (for the HTML book);
    keyword arguments override :data:`PHASES_DEFAULTS`. Returns ``(fig, (ax, polar_ax))``."""
    p = _with_overrides(PHASES_DEFAULTS, overrides)
    res = phases_explorer_compute(p["delta"], p["p"], p["scale"], p["m"], p["seed"])
    return _draw_phases(res, _phases_title(p))


def phases_explorer():
    r"""Sliders for the angle :math:`\Delta`, the class weight p, the init scale and the seed of
    the two-point instance; redraws the loss with the detected phase bands and predicted times,
    and the neuron directions at the end of each phase. Book: chapter 4, section "Explore"."""
    import ipywidgets as w

    D = PHASES_DEFAULTS
    delta = w.FloatSlider(
        value=D["delta"], min=0.2, max=3.0, step=0.05, description="angle Δ", continuous_update=False
    )
    p = w.FloatSlider(
        value=D["p"], min=0.5, max=0.95, step=0.01, description="weight p", continuous_update=False
    )
    scale = _scale_slider(D["scale"], -10, -2, 0.5)
    seed = w.IntSlider(value=D["seed"], min=0, max=9, description="seed", continuous_update=False)

    def draw(delta, p, scale, seed):
        q = {**D, "delta": delta, "p": p, "scale": scale, "seed": seed}
        _draw_phases(phases_explorer_compute(delta, p, scale, D["m"], seed), _phases_title(q))
        plt.show()

    out = w.interactive_output(draw, {"delta": delta, "p": p, "scale": scale, "seed": seed})
    return w.VBox([w.HBox([w.VBox([delta, p]), w.VBox([scale, seed])]), out])


def _draw_phases_frame(fig, res: dict, k: int, floor: float, r_max: float) -> None:
    """One frame of :func:`phases_scrubber`: the loss up to snapshot ``k`` over the phase
    bands, and the neuron directions at ``k`` on fixed polar axes."""
    traj = res["traj"]
    t_now = traj.t[k]
    ax = fig.add_subplot(1, 2, 1)
    _draw_phase_loss(ax, res, t_now)
    current = [ph.name for ph in res["phases"] if ph.t_start <= t_now <= ph.t_end]
    ax.set_title(f"phase: {current[0] if current else 'none detected'}", fontsize="medium")
    pax = fig.add_subplot(1, 2, 2, projection="polar")
    phases_polar(traj.net(k), res["data"], pax, r_floor=floor, r_max=r_max)
    pax.set_title("neuron directions; radius log10 ||θ_j|| + const\n(rings: 2 decades; o: a > 0, x: a < 0)",
                  fontsize="small")  # fmt: skip


def phases_scrubber(n_frames: int = 20, **overrides):
    """Kernel-free slider over gradient-flow time for the instance of :func:`phases_explorer`.

    One run at :data:`PHASES_DEFAULTS` (keyword arguments override them), ``n_frames`` of
    its log-spaced snapshots from :math:`t = T_1/20`: the loss moves through the detected
    phase bands while the neurons condense on the two data directions, stall, and grow.
    The polar axes are fixed over the run (radius: log-norm above the smallest initial
    one). Returns the player of :func:`reluflow.plotting.scrub`. Book: chapter 4, section
    "Explore".

    Raises
    ------
    ValueError
        For an unknown parameter, or ``n_frames`` outside [2, snapshots from T_1/20 on].
    """
    p = _with_overrides(PHASES_DEFAULTS, overrides)
    res = phases_explorer_compute(p["delta"], p["p"], p["scale"], p["m"], p["seed"])
    traj = res["traj"]
    logn = np.log10(np.maximum(traj.neuron_norms(), 1e-300))
    floor = float(logn[0].min() - 0.5)
    r_max = float(logn.max() - floor + 0.5)
    frames = _frame_indices(traj.t, n_frames, t_min=res["predicted"].t1 / 20)
    return scrub(lambda fig, s: _draw_phases_frame(fig, res, _index(traj.t, s), floor, r_max), traj.t[frames],
                 label="gradient-flow time t", figsize=(9.5, 3.9))  # fmt: skip
