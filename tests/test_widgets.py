"""Tests for reluflow.widgets (chapters 1 and 2): the pure compute functions, the slider
explorers and the kernel-free scrubbers."""

import matplotlib

matplotlib.use("Agg")

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scrubbing import frames_of, spy_on_scrub

import reluflow as rf
import reluflow.widgets as rw

D = rw.FLOW_DEFAULTS

pytestmark = pytest.mark.filterwarnings("ignore:FigureCanvasAgg is non-interactive:UserWarning")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def rendered(monkeypatch):
    """Record every trajectory the explorer draws (the real plot_flow still runs)."""
    calls = []
    real = rw._flow.plot_flow

    def spy(traj, *args, **kwargs):
        calls.append((traj, kwargs.get("title")))
        return real(traj, *args, **kwargs)

    monkeypatch.setattr(rw._flow, "plot_flow", spy)
    return calls


# ---------------------------------------------------------------- compute


@pytest.mark.parametrize("m, seed", [(D["m"], D["seed"]), (5, 3)])
def test_compute_default_problem(m, seed):
    data = rf.datasets.orthogonal(D["y"])
    traj = rw.flow_explorer_compute(data, D["loss"], D["t_end"], D["scale"], m, seed)
    assert isinstance(traj, rf.Trajectory)
    assert traj.success, traj.message
    assert traj.a.shape[1] == m and traj.W.shape[1:] == (m, len(D["y"]))
    assert traj.t[0] == 0.0
    assert_allclose(traj.t[-1], D["t_end"])
    # starts from the balanced small init it claims
    net0 = rf.small_init(m, data.d, D["scale"], seed=seed)
    assert_array_equal(traj.net(0).a, net0.a)
    assert_array_equal(traj.net(0).W, net0.W)
    # gradient flow: loss non-increasing, balancedness conserved
    assert np.all(np.diff(traj.loss) <= 1e-9 * traj.loss[0])
    assert_allclose(traj.balancedness(), 0.0, atol=1e-6 * np.max(traj.norm_sq()))


# ---------------------------------------------------------------- explorer


def sliders(box):
    found = [c for c in box.children[0].children if isinstance(c, (w.IntSlider, w.FloatLogSlider))]
    return {s.description: s for s in found}


def slider(box, word):
    (s,) = [s for name, s in sliders(box).items() if word in name]
    return s


def test_explorer_layout_and_defaults(rendered):
    box = rw.flow_explorer()
    assert isinstance(box, w.VBox)
    assert isinstance(box.children[-1], w.Output)
    found = sliders(box)
    assert len(found) == 3
    assert all(s.continuous_update is False for s in found.values())
    assert_allclose(slider(box, "scale").value, D["scale"], rtol=1e-12)
    assert slider(box, "width").value == D["m"]
    assert slider(box, "seed").value == D["seed"]
    # rendered once on construction, with the default problem
    ((traj, _),) = rendered
    assert traj.success and traj.a.shape[1] == D["m"] and traj.W.shape[2] == len(D["y"])
    assert_allclose(traj.t[-1], D["t_end"])


@pytest.mark.parametrize("word, value", [("width", 4), ("seed", 2), ("scale", 1e-3)])
def test_changing_a_slider_rerenders(rendered, word, value):
    box = rw.flow_explorer()
    assert len(rendered) == 1
    slider(box, word).value = value  # raises here if the redraw fails (no IPython kernel)
    assert len(rendered) == 2
    traj, title = rendered[-1]
    assert traj.success
    m = value if word == "width" else D["m"]
    seed = value if word == "seed" else D["seed"]
    scale = value if word == "scale" else D["scale"]
    assert traj.a.shape[1] == m
    net0 = rf.small_init(m, len(D["y"]), scale, seed=seed)
    assert_array_equal(traj.net(0).W, net0.W)
    assert f"width {m}" in title and f"seed {seed}" in title
    assert plt.get_fignums()  # a figure was drawn


def test_explorer_with_custom_problem(rendered):
    data = rf.datasets.two_point(1.0, 0.75)
    box = rw.flow_explorer(data, "exponential", 5.0)
    assert isinstance(box, w.VBox)
    ((traj, _),) = rendered
    assert traj.success and traj.W.shape[2] == 2
    assert_allclose(traj.t[-1], 5.0)


def test_flow_explorer_figure_draws_the_default_run():
    fig, axes = rf.widgets.flow_explorer_figure()
    try:
        defaults = rf.widgets.FLOW_DEFAULTS
        assert len(axes[1].get_lines()) - 2 == defaults["m"]  # one line per neuron + 2 legend proxies
        assert f"width {defaults['m']}" in fig._suptitle.get_text()
        with pytest.raises(ValueError, match="unknown parameter"):
            rf.widgets.flow_explorer_figure(widht=3)
    finally:
        plt.close(fig)


def test_ncf_explorer_compute_reaches_the_maximiser():
    D = rf.widgets.NCF_DEFAULTS
    res = rf.widgets.ncf_explorer_compute(D["angles"], D["norms"], D["labels"], D["scale"])
    best = rf.ncf.max_ncf(res["G"])
    assert_allclose(res["G"].rho, res["G"].data.y / 5)  # the square loss's weights at the origin
    assert res["t_stop"] == pytest.approx(0.7 * rf.ncf.escape_time(D["scale"], best.g_star))
    net = res["net"]
    top = np.argmax(net.neuron_norms())
    assert rf.diagnostics.alignment(net, best.direction)[top] > 0.999  # the largest neuron points at v*
    assert res["critical"][0].value == pytest.approx(best.g_star)


def test_ncf_explorer_builds_and_redraws():
    box = rf.widgets.ncf_explorer()
    sliders = [c for row in box.children[0].children for c in getattr(row, "children", [row])]
    assert len(sliders) == 11 and all(not s.continuous_update for s in sliders)
    sliders[0].value = 0.5  # move x1: redraw must not fail
    fig, ax = rf.widgets.ncf_explorer_figure(scale=1e-4)
    assert "1e-04" in ax.get_title()
    plt.close("all")


# ---------------------------------------------------------------- kernel-free scrubbers


def test_flow_scrubber_player_has_one_distinct_frame_each():
    frames = frames_of(rw.flow_scrubber(n_frames=3))
    assert len(frames) == 3 and len(set(frames)) == 3
    assert not plt.get_fignums()


def test_flow_scrubber_frames_are_log_spaced_snapshots_from_t_1(monkeypatch):
    calls = spy_on_scrub(monkeypatch, "_flow")
    rw.flow_scrubber(n_frames=12)
    ((values, kwargs),) = calls
    t = rw.flow_explorer_compute(
        rf.datasets.orthogonal(D["y"]), D["loss"], D["t_end"], D["scale"], D["m"], 0
    ).t
    assert len(values) == 12 and set(values) <= set(t)
    assert values[0] >= 1.0 and values[-1] == pytest.approx(D["t_end"])
    ratios = np.diff(np.log(values))
    assert_allclose(ratios, ratios.mean(), rtol=0.1)  # equal steps in log time
    assert "time" in kwargs["label"]


@pytest.mark.parametrize("bad", [dict(n_frames=1), dict(n_frames=10**4), dict(n_frames=2.5), dict(widht=3)])
def test_flow_scrubber_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        rw.flow_scrubber(**bad)


def test_ncf_scrubber_player_has_one_distinct_frame_each():
    frames = frames_of(rw.ncf_scrubber(n_frames=3))
    assert len(frames) == 3 and len(set(frames)) == 3


def test_ncf_scrubber_runs_from_0_to_the_static_figure_time(monkeypatch):
    calls = spy_on_scrub(monkeypatch, "_ncf")
    N = rw.NCF_DEFAULTS
    rw.ncf_scrubber(n_frames=5)
    ((values, _),) = calls
    res = rw.ncf_explorer_compute(N["angles"], N["norms"], N["labels"], N["scale"], N["m"], N["seed"])
    assert_allclose(values, np.linspace(0.0, res["t_stop"], 5))
    # the run behind the frames ends where the static figure's run ends
    run = rw._ncf._ncf_run(N["angles"], N["norms"], N["labels"], N["scale"], N["m"], N["seed"], n_snapshots=5)
    assert_allclose(run["traj"].final.W, res["net"].W, rtol=1e-3, atol=1e-3 * np.abs(res["net"].W).max())


@pytest.mark.parametrize("bad", [dict(n_frames=1), dict(n_frames="3"), dict(scale=1e-3, seeds=2)])
def test_ncf_scrubber_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        rw.ncf_scrubber(**bad)
