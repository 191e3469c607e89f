"""Chapter 2: neuron directions against the alignment function G (explorer, figure, scrubber)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .._validation import positive_int
from ..data import Dataset
from ..flow import gradient_flow
from ..losses import square
from ..ncf import escape_time, kkt_directions, max_ncf
from ..network import small_init
from ..plotting import plot_alignment_function, scrub
from ._common import _index, _scale_slider, _with_overrides

# Five points in the plane (ours), square loss; documented in widgets/__init__.py.
NCF_DEFAULTS = dict(
    angles=(0.2, 1.0, 2.2, 3.5, 4.6),
    norms=(1.0, 1.5, 1.0, 0.8, 1.2),
    labels=(1.0, 0.5, -1.0, 0.7, -0.6),
    scale=1e-6,
    m=40,
    seed=0,
)


def _ncf_run(angles, norms, labels, scale: float, m: int, seed: int, n_snapshots: int = 2) -> dict:
    """The data, the alignment function G (residual weights at the origin) and its KKT
    directions, and a run to 0.7 escape times sampled at ``n_snapshots`` equally spaced times
    (``traj``)."""
    ang = np.asarray(angles, float)
    data = Dataset(np.asarray(norms, float)[:, None] * np.c_[np.cos(ang), np.sin(ang)], labels)
    G = data.weighted(square.rho0(data))
    t_stop = 0.7 * escape_time(scale, max_ncf(G).g_star)
    net0 = small_init(m, 2, scale, seed=seed, balanced=False)
    traj = gradient_flow(
        net0, data, "square", t_stop, t_eval=np.linspace(0.0, t_stop, n_snapshots), rtol=1e-6
    )
    return dict(G=G, critical=kkt_directions(G), traj=traj, t_stop=t_stop)


def ncf_explorer_compute(angles, norms, labels, scale: float, m: int = 40, seed: int = 0) -> dict:
    r"""Data, NCF weights, KKT directions and the network reached by gradient flow.

    Square loss from an unbalanced init of the given scale, run to
    :math:`0.7\,\ln(1/\varepsilon)/g^\star` (about two thirds of the way to the escape
    time): the neurons have turned, but the output is still small. Returns a dict with
    ``G`` (the data weighted by the NCF weights :math:`\rho^0`, a ``rf.Correlation``),
    ``critical``, ``net``, ``t_stop``. Book: chapter 2, section "Explore".
    """
    res = _ncf_run(angles, norms, labels, scale, m, seed)
    return dict(G=res["G"], critical=res["critical"], net=res["traj"].final, t_stop=res["t_stop"])


def _draw_ncf(res: dict, title: str | None, net=None, ax=None):
    net = res["net"] if net is None else net
    fig, ax = plot_alignment_function(res["G"], res["critical"], net, ax)
    for k, x in enumerate(res["G"].X):
        ang = np.arctan2(x[1], x[0]) % (2 * np.pi)
        ax.annotate(
            f"$x_{k + 1}$",
            (ang, ax.get_ylim()[1]),
            ha="center",
            va="bottom",
            fontsize="small",
            annotation_clip=False,
        )
    if title:
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


def ncf_scrubber(n_frames: int = 20, **overrides):
    """Kernel-free slider over gradient-flow time for the example of :func:`ncf_explorer`.

    One run at :data:`NCF_DEFAULTS` (keyword arguments override them) from t = 0 to the
    time of :func:`ncf_explorer_figure` (0.7 escape times), ``n_frames`` equally spaced
    snapshots: the neurons start in random directions and gather at the maxima of G (and,
    for :math:`a_j < 0`, at its minima), growing as they go. Returns the player of
    :func:`reluflow.plotting.scrub`. Book: chapter 2, section "Explore".

    Raises
    ------
    ValueError
        For an unknown parameter, or ``n_frames`` < 2.
    """
    p = _with_overrides(NCF_DEFAULTS, overrides)
    if positive_int(n_frames, "n_frames") < 2:
        raise ValueError(f"`n_frames` must be an integer >= 2; got {n_frames!r}")
    res = _ncf_run(p["angles"], p["norms"], p["labels"], p["scale"], p["m"], p["seed"], n_snapshots=n_frames)
    traj = res["traj"]

    def draw(fig, t):
        _draw_ncf(res, None, net=traj.net(_index(traj.t, t)), ax=fig.subplots())

    return scrub(draw, traj.t, label="gradient-flow time t",
                 figsize=(7.0, 3.6))  # fmt: skip
