"""Chapter 6: the one correlation G_rho(t) as the weighting slides along a run (explorer, figure,
scrubber)."""

from __future__ import annotations

from functools import lru_cache

import matplotlib.pyplot as plt
import numpy as np

from ..flow import gradient_flow, log_times
from ..network import small_init
from ..plotting import NEGATIVE, PALETTE, POSITIVE, scrub
from ._common import _draw_progress, _frame_indices, _index, _scale_slider, _with_overrides

# The two-point instance of chapter 4 (ours); documented in widgets/__init__.py.
SYNTHESIS_DEFAULTS = dict(delta=1.0, p=0.75, scale=1e-6, m=60, seed=0)
_PHI = np.linspace(-np.pi, np.pi, 721)
_CIRCLE = np.c_[np.cos(_PHI), np.sin(_PHI)]


def synthesis_explorer_compute(delta: float, p: float, scale: float, m: int = 60, seed: int = 0) -> dict:
    r"""One run on the two-point instance (exponential loss, balanced ``small_init``) to 1.5 times
    the predicted plateau escape, with the residual weights :math:`\rho(t)` at every snapshot and
    the dual weights :math:`q` of the margin LP (directions: a fine grid of the circle and the
    kinks :math:`x_i^\perp`).

    Returns a dict with ``data``, ``traj``, ``rho`` (shape (k, 2)), ``q``, ``gamma`` (the global
    margin) and ``predicted`` (``rf.phases.predicted_times``). Book: chapter 6, "Explore".
    """
    from ..datasets import two_point
    from ..losses import exponential
    from ..margins import norm_only_margin
    from ..phases import predicted_times

    data = two_point(delta, p)
    pred = predicted_times(data, "exponential", scale)
    t_end = 1.5 * pred.t_escape if np.isfinite(pred.t_escape) else 3.0 * pred.t1
    traj = gradient_flow(small_init(m, 2, scale, seed=seed), data, "exponential", t_end,
                         t_eval=log_times(t_end, 121))  # fmt: skip
    f = np.einsum("km,kmn->kn", traj.a, np.maximum(traj.W @ data.X.T, 0.0))
    rho = np.array([exponential.residuals(fk, data) for fk in f])
    kinks = data.X[:, ::-1] * np.array([-1.0, 1.0])
    margin = norm_only_margin(data, np.r_[_CIRCLE, kinks, -kinks])
    return dict(data=data, traj=traj, rho=rho, q=margin.q, gamma=margin.value, predicted=pred)


def _normalised(G: np.ndarray) -> np.ndarray:
    top = np.abs(G).max()
    return G / top if top > 0 else G


def _draw_circle(ax, res: dict, k: int) -> None:
    """G of rho(t_k) on the circle, normalised by its largest |value|, with rho(0) and the margin
    dual for reference, and the neurons at t_k."""
    data, traj = res["data"], res["traj"]
    H = np.maximum(_CIRCLE @ data.X.T, 0.0)
    deg = np.degrees(_PHI)
    ax.plot(deg, _normalised(H @ res["rho"][0]), color="0.7", lw=1.5, label="$\\rho(0)$: the NCF")
    ax.plot(deg, _normalised(H @ (res["q"] * data.y)), color=PALETTE[2], lw=1.5, ls="--",
            label="$q \\circ y$: the margin dual")  # fmt: skip
    G_t = H @ res["rho"][k]
    top = max(np.abs(G_t).max(), 1e-300)
    ax.plot(deg, G_t / top, color="black", lw=2, label="$\\rho(t)$: the flow's weights")
    net = traj.net(k)
    norms = net.neuron_norms()
    size = 6 + 110 * np.clip(1 + np.log10(np.maximum(norms / norms.max(), 1e-300)) / 6, 0, 1)
    ang = np.degrees(np.arctan2(net.W[:, 1], net.W[:, 0]))
    g = np.maximum(net.W @ data.X.T, 0.0) @ res["rho"][k] / np.maximum(np.linalg.norm(net.W, axis=1), 1e-300)
    ax.scatter(ang, g / top, s=size, c=[POSITIVE if a >= 0 else NEGATIVE for a in net.a], alpha=0.45,
               edgecolors="none", zorder=5)  # fmt: skip
    for x, name in zip(data.X, ("$x_+$", "$x_-$"), strict=True):
        ax.axvline(np.degrees(np.arctan2(x[1], x[0])), color="0.5", lw=0.8, ls=":")
        ax.text(np.degrees(np.arctan2(x[1], x[0])), 1.08, name, ha="center", fontsize="small", color="0.3")
    ax.axhline(0, color="0.8", lw=0.6)
    ax.set(xlim=(-180, 180), ylim=(-1.15, 1.2), xticks=[-180, -90, 0, 90, 180],
           xlabel="direction angle $\\phi$ (degrees)", ylabel="$G_\\rho(\\phi)$ / max $|G_\\rho|$")  # fmt: skip
    ax.legend(frameon=False, fontsize="x-small", loc="lower left")


def _draw_synthesis(res: dict, k: int, title: str | None = None, fig=None):
    fig = fig or plt.figure(figsize=(10.5, 3.8), layout="constrained")
    ax = fig.add_subplot(1, 2, 1)
    _draw_circle(ax, res, k)
    lax = fig.add_subplot(1, 2, 2)
    traj = res["traj"]
    _draw_progress(lax, traj.t[1:], traj.loss[1:], traj.t[k], color="black")
    lax.set(xscale="log", yscale="log", xlabel="gradient-flow time $t$", ylabel="loss $L(t)$")
    if title:
        fig.suptitle(title)
    return fig, (ax, lax)


def _synthesis_title(p: dict) -> str:
    return f"two points, Δ = {p['delta']:.2f}, p = {p['p']:.2f}, init scale {p['scale']:.0e}, width {p['m']}"


def synthesis_explorer_figure(t: float = 40.0, **overrides):
    """The static figure of :func:`synthesis_explorer` at its default values and gradient-flow
    time ``t`` (default 40: on the plateau); keyword arguments override
    :data:`SYNTHESIS_DEFAULTS`. Returns ``(fig, (ax, loss_ax))``."""
    p = _with_overrides(SYNTHESIS_DEFAULTS, overrides)
    res = synthesis_explorer_compute(p["delta"], p["p"], p["scale"], p["m"], p["seed"])
    return _draw_synthesis(res, _index(res["traj"].t, t), _synthesis_title(p) + f", t = {t:g}")


@lru_cache(maxsize=8)
def _cached(delta: float, p: float, scale: float, m: int, seed: int) -> dict:
    return synthesis_explorer_compute(delta, p, scale, m, seed)


def synthesis_explorer():
    r"""Sliders for the angle :math:`\Delta`, the class weight p and the init scale of the
    two-point instance, and for the time along the run: redraws the correlation
    :math:`G_{\rho(t)}` of the flow's own residual weights on the circle, with :math:`\rho(0)`
    (the NCF) and the margin dual :math:`q\circ y` for reference and the neurons at t, next to
    the loss. Book: chapter 6, section "Explore"."""
    import ipywidgets as w

    D = SYNTHESIS_DEFAULTS
    delta = w.FloatSlider(value=D["delta"], min=0.2, max=3.0, step=0.05, description="angle Δ",
                          continuous_update=False)  # fmt: skip
    p = w.FloatSlider(value=D["p"], min=0.5, max=0.95, step=0.01, description="weight p", continuous_update=False)
    scale = _scale_slider(D["scale"], -10, -2, 0.5)
    frac = w.FloatSlider(value=0.75, min=0.0, max=1.0, step=0.01, description="time (log)", continuous_update=False)

    def draw(delta, p, scale, frac):
        res = _cached(delta, p, scale, D["m"], D["seed"])
        k = int(round(frac * (len(res["traj"].t) - 1)))
        q = {**D, "delta": delta, "p": p, "scale": scale}
        _draw_synthesis(res, k, _synthesis_title(q) + f", t = {res['traj'].t[k]:.3g}")
        plt.show()

    out = w.interactive_output(draw, {"delta": delta, "p": p, "scale": scale, "frac": frac})
    return w.VBox([w.HBox([w.VBox([delta, p]), w.VBox([scale, frac])]), out])


def synthesis_scrubber(n_frames: int = 20, **overrides):
    """Kernel-free slider over gradient-flow time for the instance of :func:`synthesis_explorer`:
    ``n_frames`` of the run's log-spaced snapshots from :math:`t = T_1/20`, each showing
    :math:`G_{\\rho(t)}` on the circle with the neurons and the loss so far. Returns the player of
    :func:`reluflow.plotting.scrub`. Book: chapter 6, section "Explore".

    Raises
    ------
    ValueError
        For an unknown parameter, or ``n_frames`` outside [2, snapshots from T_1/20 on].
    """
    p = _with_overrides(SYNTHESIS_DEFAULTS, overrides)
    res = synthesis_explorer_compute(p["delta"], p["p"], p["scale"], p["m"], p["seed"])
    traj = res["traj"]
    frames = _frame_indices(traj.t, n_frames, t_min=res["predicted"].t1 / 20)
    return scrub(lambda fig, s: _draw_synthesis(res, _index(traj.t, s), fig=fig), traj.t[frames],
                 label="gradient-flow time t", figsize=(9.5, 3.6))  # fmt: skip
