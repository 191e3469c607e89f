"""Interactive explorers for the book (ipywidgets). Each builder pairs a pure compute
function (testable, timed in bench/) with a drawing function, and returns the widget."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .data import Dataset
from .datasets import orthogonal
from .flow import gradient_flow
from .losses import LossLike
from .ncf import escape_time, kkt_directions, max_ncf
from .network import small_init
from .plotting import plot_alignment_function, plot_flow
from .trajectory import Trajectory

__all__ = [
    "FLOW_DEFAULTS",
    "MARGINS_DEFAULTS",
    "NCF_DEFAULTS",
    "ORTHO_DEFAULTS",
    "flow_explorer",
    "flow_explorer_compute",
    "flow_explorer_figure",
    "margins_explorer",
    "margins_explorer_compute",
    "margins_explorer_figure",
    "ncf_explorer",
    "ncf_explorer_compute",
    "ncf_explorer_figure",
    "ortho_explorer",
    "ortho_explorer_compute",
    "ortho_explorer_figure",
    "PHASES_DEFAULTS",
    "phases_explorer",
    "phases_explorer_compute",
    "phases_explorer_figure",
    "phases_polar",
]


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


#: Defaults of :func:`ncf_explorer`: five points in the plane (ours), square loss.
NCF_DEFAULTS = dict(
    angles=(0.2, 1.0, 2.2, 3.5, 4.6),
    norms=(1.0, 1.5, 1.0, 0.8, 1.2),
    labels=(1.0, 0.5, -1.0, 0.7, -0.6),
    scale=1e-6,
    m=40,
    seed=0,
)


def ncf_explorer_compute(angles, norms, labels, scale: float, m: int = 40, seed: int = 0) -> dict:
    r"""Data, NCF weights, KKT directions and the network reached by gradient flow.

    Square loss from an unbalanced init of the given scale, run to
    :math:`0.7\,\ln(1/\varepsilon)/g^\star` (about two thirds of the way to the escape
    time): the neurons have turned, but the output is still small. Returns a dict with
    ``X``, ``rho`` (the NCF weights :math:`\rho^0`), ``critical``, ``net``, ``t_stop``.
    Book: chapter 2, section "Explore".
    """
    ang = np.asarray(angles, float)
    X = np.asarray(norms, float)[:, None] * np.c_[np.cos(ang), np.sin(ang)]
    data = Dataset(X, labels)
    rho = data.weights * data.y
    best = max_ncf(X, rho)
    t_stop = 0.7 * escape_time(scale, best.g_star)
    net0 = small_init(m, 2, scale, seed=seed, balanced=False)
    traj = gradient_flow(net0, data, "square", t_stop, t_eval=[0.0, t_stop], rtol=1e-6)
    return dict(X=X, rho=rho, critical=kkt_directions(X, rho), net=traj.final, t_stop=t_stop)


def _draw_ncf(res: dict, title: str):
    fig, ax = plot_alignment_function(res["X"], res["rho"], res["critical"], res["net"])
    for k, x in enumerate(res["X"]):
        ang = np.arctan2(x[1], x[0]) % (2 * np.pi)
        ax.annotate(
            f"$x_{k + 1}$",
            (ang, ax.get_ylim()[1]),
            ha="center",
            va="bottom",
            fontsize="small",
            annotation_clip=False,
        )
    ax.set_title(title, pad=14)
    return fig, ax


def ncf_explorer_figure(**overrides):
    """The static figure of :func:`ncf_explorer` at its default values; returns (fig, ax)."""
    p = _with_overrides(NCF_DEFAULTS, overrides)
    res = ncf_explorer_compute(p["angles"], p["norms"], p["labels"], p["scale"], p["m"], p["seed"])
    return _draw_ncf(res, f"neurons at t = {res['t_stop']:.1f} (init scale {p['scale']:.0e})")


def ncf_explorer():
    """Sliders for the angle and label of each point and the init scale; redraws G, its
    KKT directions and the neuron directions reached by gradient flow. Book: chapter 2,
    section "Explore"."""
    import ipywidgets as w

    D = NCF_DEFAULTS
    angle = [
        w.FloatSlider(
            value=v, min=0.0, max=6.28, step=0.05, description=f"angle x{k + 1}", continuous_update=False
        )
        for k, v in enumerate(D["angles"])
    ]
    label = [
        w.FloatSlider(
            value=v, min=-1.0, max=1.0, step=0.1, description=f"label y{k + 1}", continuous_update=False
        )
        for k, v in enumerate(D["labels"])
    ]
    scale = _scale_slider(D["scale"], -12, -2, 0.5)

    def draw(scale, **kw):
        angles = [kw[f"a{k}"] for k in range(len(angle))]
        labels = [kw[f"y{k}"] for k in range(len(label))]
        res = ncf_explorer_compute(angles, D["norms"], labels, scale, D["m"], D["seed"])
        _draw_ncf(res, f"neurons at t = {res['t_stop']:.1f} (init scale {scale:.0e})")
        plt.show()

    controls = {
        "scale": scale,
        **{f"a{k}": s for k, s in enumerate(angle)},
        **{f"y{k}": s for k, s in enumerate(label)},
    }
    out = w.interactive_output(draw, controls)
    return w.VBox([w.HBox([w.VBox(angle), w.VBox(label), scale]), out])


# ---------------------------------------------------------------- chapter 3: orthogonal inputs

#: Defaults of :func:`ortho_explorer`: the running example of chapter 1 (ours), unit input norms.
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
    from .orthogonal import escape_times, min_norm_excess, min_norm_interpolant, plateau_levels

    data = orthogonal(labels, norms=norms)
    net0 = small_init(m, data.d, scale, seed=seed)
    lead, refined = escape_times(data.X, data.y, scale), escape_times(data.X, data.y, net0=net0)
    finite = [t for t in (*refined, *lead) if np.isfinite(t)]
    t_end = 1.5 * max(finite) + 10.0 if finite else 10.0
    traj = gradient_flow(net0, data, "square", t_end, t_eval=np.linspace(0.0, t_end, 601), rtol=1e-7)
    return dict(
        data=data, traj=traj, levels=plateau_levels(data.X, data.y), lead=lead, refined=refined,
        staircase=_staircase(data.y, refined, traj.t), min_norm=min_norm_interpolant(data.X, data.y),
        excess=min_norm_excess(traj.final, data.X, data.y),
    )  # fmt: skip


def _draw_ortho(res: dict, title: str):
    from .plotting import NEGATIVE, PALETTE, POSITIVE, plot_neuron_norms

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


# ---------------------------------------------------------------- chapter 5: margins

#: Defaults of :func:`margins_explorer`: 2-sparse parity, our choices (chapter 5, "Explore").
MARGINS_DEFAULTS = dict(d=6, m=128, scale=1.0, t_end=200.0, seed=0)


def margins_explorer_compute(d: int, m: int, scale: float, t_end: float = 200.0, seed: int = 0) -> dict:
    r"""Margins of 2-sparse parity on all :math:`2^d` points and a near-init run on it.

    Returns a dict with ``gamma_ntk`` (``rf.margins.parity_ntk_margin``), ``gamma_gl``
    (``rf.margins.parity_global_margin``), ``gamma_V`` (the norm-only LP with ``m`` random
    directions, ``rf.margins.global_margin_lower_bound``), ``run`` (``rf.lowrotation.ntk_flow``
    with inner init scale ``scale``, step 0.5) and ``rotation`` (degrees, per neuron, at
    ``t_end``). Book: chapter 5, "Explore".
    """
    from .datasets import sparse_parity
    from .lowrotation import ntk_flow
    from .margins import global_margin_lower_bound, parity_global_margin, parity_ntk_margin, rotation

    data = sparse_parity(d)
    run = ntk_flow(data.X, data.y, m, t_end, scale=scale, seed=seed, step=0.5)
    return dict(
        gamma_ntk=parity_ntk_margin(d), gamma_gl=parity_global_margin(d).value,
        gamma_V=global_margin_lower_bound(data.X, data.y, m, seed=seed).value, run=run,
        rotation=np.degrees(rotation(run.W[0], run.W[-1])),
    )  # fmt: skip


def _draw_margins(res: dict, title: str):
    from .plotting import PALETTE

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
    axes[2].hist(res["rotation"], bins=30, color=PALETTE[2])
    axes[2].set(
        xlabel=r"rotation $\angle(w_j(t), w_j(0))$ (degrees)",
        ylabel="neurons",
        title=f"median rotation {np.median(res['rotation']):.1f}°",
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


# ---------------------------------------------------------------- chapter 4: four phases

#: Defaults of :func:`phases_explorer`: the two-point instance of chapter 4 (ours).
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
    from .datasets import two_point
    from .phases import detect, predicted_times

    data = two_point(delta, p)
    pred = predicted_times(data, "exponential", scale)
    t_end = 1.5 * pred.t_escape if np.isfinite(pred.t_escape) else 3.0 * pred.t1
    traj = gradient_flow(small_init(m, 2, scale, seed=seed), data, "exponential", t_end, t_eval="log")
    return dict(data=data, traj=traj, phases=detect(traj, data, "exponential"), predicted=pred)


def phases_polar(
    net,
    data: Dataset,
    ax=None,
    *,
    r_floor: float | None = None,
    color=None,
    label=None,
    r_max: float | None = None,
    show_data: bool = True,
):
    r"""Neuron directions on a polar axis: angle of :math:`w_j`, radius
    :math:`\log_{10}\|(a_j, w_j)\| - r_{\rm floor}`; filled circles for :math:`a_j > 0`, crosses
    for :math:`a_j < 0`; with ``show_data`` the data directions as labelled grey rays. ``ax``
    must be polar (created if None); ``r_floor`` defaults to the smallest log-norm minus 0.5,
    ``r_max`` (the outer radius) to the largest radius drawn on ``ax`` plus 0.5. Radial grid lines are two decades apart. Returns ``(fig, ax)``. Book: chapter 4,
    "Directions on the circle"."""
    from .plotting import NEGATIVE, POSITIVE

    if ax is None:
        fig, ax = plt.subplots(figsize=(4.0, 4.0), subplot_kw=dict(projection="polar"), layout="constrained")
    fig = ax.figure
    logn = np.log10(np.maximum(net.neuron_norms(), 1e-300))
    r_floor = float(logn.min() - 0.5) if r_floor is None else r_floor
    phi, r = np.arctan2(net.W[:, 1], net.W[:, 0]), np.maximum(logn - r_floor, 0.0)
    pos = net.a > 0
    ax.scatter(phi[pos], r[pos], s=14, marker="o", color=color or POSITIVE, label=label)
    ax.scatter(phi[~pos], r[~pos], s=18, marker="x", color=color or NEGATIVE)
    top = (
        r_max
        if r_max is not None
        else max(float(r.max()) + 0.5, ax.get_ylim()[1] if ax.collections[:-2] else 0.0, 1.0)
    )
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


def _draw_phases(res: dict, title: str):
    traj, ph, pred = res["traj"], res["phases"], res["predicted"]
    fig = plt.figure(figsize=(10.5, 3.9), layout="constrained")
    ax = fig.add_subplot(1, 2, 1)
    for phase in ph:
        ax.axvspan(max(phase.t_start, traj.t[1]), phase.t_end, color=_PHASE_COLOURS[phase.name],
                   alpha=0.25, lw=0, label=phase.name)  # fmt: skip
    ax.plot(traj.t[1:], traj.loss[1:], color="black", lw=2)
    ax.axvline(pred.t1, color="black", ls=":", lw=1.2, label="predicted $T_1$")
    if np.isfinite(pred.t_escape):
        ax.axvline(pred.t_escape, color="black", ls="--", lw=1.2, label=r"predicted $T_{\rm esc}$")
    ax.set(xscale="log", yscale="log", xlabel="gradient-flow time $t$", ylabel="loss $L(t)$",
           xlim=(min(1.0, 0.1 * pred.t1), traj.t[-1]), ylim=(max(traj.loss[-1] / 2, 1e-4), 1.5))  # fmt: skip
    ax.legend(frameon=False, fontsize="small", loc="lower left")
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
