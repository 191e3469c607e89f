"""Tests for the chapter-3 explorer in reluflow.widgets: the pure compute function (its
predictions against the run it makes), edge cases, and the slider widget."""

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

D = rw.ORTHO_DEFAULTS

pytestmark = pytest.mark.filterwarnings("ignore:FigureCanvasAgg is non-interactive:UserWarning")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def compute(**overrides):
    p = {**D, **overrides}
    return rw.ortho_explorer_compute(p["labels"], p["norms"], p["scale"], p["m"], p["seed"])


# ---------------------------------------------------------------- compute


def test_compute_defaults_against_predictions():
    res = compute()
    traj, data = res["traj"], res["data"]
    assert traj.success, traj.message
    assert_array_equal(traj.net(0).W, rf.small_init(D["m"], 4, D["scale"], seed=D["seed"]).W)
    assert_allclose(data.X, np.diag(D["norms"]))
    # the staircase starts at L0, passes through the plateau level and ends at 0
    levels = res["levels"]
    assert_allclose(res["staircase"][0], levels[0])
    assert_allclose(traj.loss[0], levels[0], rtol=1e-9)
    mid = 0.5 * (res["refined"].plus + res["refined"].minus)
    assert_allclose(res["staircase"][np.searchsorted(traj.t, mid)], levels[1])
    assert res["staircase"][-1] == 0.0 and traj.loss[-1] < 1e-10
    # the run escapes near the refined times (the slower neurons only advance it, by < 1 here)
    obs = np.array(rf.orthogonal.observed_escape_times(traj, data))
    gap = np.array(res["refined"]) - obs
    assert np.all((-0.05 <= gap) & (gap <= 1.0)), gap
    assert 0 <= res["excess"] < 0.05
    assert_allclose(res["min_norm"].value, rf.orthogonal.min_norm_interpolant(data).value)


@pytest.mark.parametrize(
    "labels, norms",
    [((1.0, 0.5, 0.0, 0.8), (1.0, 1.0, 1.0, 1.0)),  # one sign and a zero label
     ((0.0, 0.0, 0.0, 0.0), (1.0, 1.0, 1.0, 1.0)),  # nothing to fit
     ((1.2, 0.8, -0.5, -0.3), (0.5, 1.7, 1.0, 0.3))],  # unequal norms
)  # fmt: skip
def test_compute_edge_cases(labels, norms):
    res = compute(labels=labels, norms=norms)
    traj, y = res["traj"], np.array(labels)
    assert traj.success
    assert res["staircase"].shape == traj.t.shape
    assert_allclose(res["staircase"][0], np.sum(y**2) / 8)
    if not np.any(y < 0):
        assert np.isnan(res["lead"].minus) and np.isnan(res["refined"].minus)
    if not np.any(y):
        assert_allclose(traj.t[-1], 10.0)
        assert np.all(res["staircase"] == 0.0)


def test_compute_width_one_never_fits_the_other_class():
    """One neuron has one sign: a class it cannot fit gets escape time inf, and keeps its loss."""
    res = compute(m=1)
    traj, data = res["traj"], res["data"]
    assert traj.success
    never = [cls for cls, t in zip((data.y > 0, data.y < 0), res["refined"], strict=True) if np.isinf(t)]
    assert len(never) >= 1
    f = traj.final(data.X)
    for cls in never:
        class_loss = np.sum(data.y[cls] ** 2) / 8
        assert np.sum((f[cls] - data.y[cls]) ** 2) / 8 >= class_loss * (1 - 1e-9)
        assert res["staircase"][-1] >= class_loss * (1 - 1e-12)


def test_staircase_helper():
    y = np.array([2.0, -1.0, 0.0])
    t = np.array([0.0, 1.0, 2.0, 3.0])
    assert_allclose(rw._ortho._staircase(y, (1.5, 2.5), t), [5 / 6, 5 / 6, 1 / 6, 0.0])
    assert_allclose(rw._ortho._staircase(y, (1.5, np.inf), t), [5 / 6, 5 / 6, 1 / 6, 1 / 6])
    assert_allclose(rw._ortho._staircase([1.0, 1.0], (0.5, np.nan), t), [0.5, 0.0, 0.0, 0.0])


# ---------------------------------------------------------------- widget


@pytest.fixture
def rendered(monkeypatch):
    calls = []
    real = rw._ortho._draw_ortho

    def spy(res, title):
        calls.append((res, title))
        return real(res, title)

    monkeypatch.setattr(rw._ortho, "_draw_ortho", spy)
    return calls


def sliders(box):
    return [s for col in box.children[0].children for s in col.children]


def test_explorer_layout_and_defaults(rendered):
    box = rw.ortho_explorer()
    assert isinstance(box, w.VBox) and isinstance(box.children[-1], w.Output)
    found = sliders(box)
    assert len(found) == 10
    assert all(s.continuous_update is False for s in found)
    values = {s.description: s.value for s in found}
    assert [values[f"label y{k + 1}"] for k in range(4)] == list(D["labels"])
    assert [values[f"norm |x{k + 1}|"] for k in range(4)] == list(D["norms"])
    assert values["width m"] == D["m"]
    ((res, title),) = rendered
    assert res["traj"].success and f"width {D['m']}" in title


@pytest.mark.parametrize(
    "description, value", [("label y3", 0.7), ("norm |x1|", 1.5), ("width m", 5), ("init scale", 1e-4)]
)
def test_changing_a_slider_rerenders(rendered, description, value):
    box = rw.ortho_explorer()
    (s,) = [s for s in sliders(box) if s.description == description]
    s.value = value  # raises here if the redraw fails
    assert len(rendered) == 2
    res, _ = rendered[-1]
    data = res["data"]
    if description == "label y3":
        assert_allclose(data.y[2], value)
    elif description == "norm |x1|":
        assert_allclose(np.linalg.norm(data.X[0]), value)
    elif description == "width m":
        assert res["traj"].a.shape[1] == value
    else:
        assert_allclose(np.abs(res["traj"].a[0]).max(), np.abs(rf.small_init(D["m"], 4, value).a).max())
    assert plt.get_fignums()


def test_static_figure():
    fig, axes = rw.ortho_explorer_figure()
    assert len(axes) == 2
    labels = [line.get_label() for line in axes[0].get_lines()]
    assert "gradient flow" in labels and "predicted staircase" in labels
    assert len(axes[1].get_lines()) - 2 == D["m"]  # one line per neuron + 2 legend proxies
    assert axes[0].get_xlabel() == axes[1].get_xlabel() == "gradient-flow time $t$"
    with pytest.raises(ValueError, match="unknown parameter"):
        rw.ortho_explorer_figure(widht=3)
    assert {"ORTHO_DEFAULTS", "ortho_explorer", "ortho_explorer_compute", "ortho_explorer_figure"} <= set(
        rw.__all__
    )


# ---------------------------------------------------------------- kernel-free scrubber


def test_ortho_scrubber_player_has_one_distinct_frame_each():
    frames = frames_of(rw.ortho_scrubber(n_frames=3))
    assert len(frames) == 3 and len(set(frames)) == 3
    assert not plt.get_fignums()


def test_ortho_scrubber_frames_span_the_run_equally(monkeypatch):
    calls = spy_on_scrub(monkeypatch, "_ortho")
    rw.ortho_scrubber(n_frames=7)
    ((values, _),) = calls
    res = rw.ortho_explorer_compute(D["labels"], D["norms"], D["scale"], D["m"], D["seed"])
    assert_allclose(values, np.linspace(0.0, res["traj"].t[-1], 7))


@pytest.mark.parametrize("bad", [dict(n_frames=1), dict(n_frames=10**4), dict(width=3)])
def test_ortho_scrubber_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        rw.ortho_scrubber(**bad)
