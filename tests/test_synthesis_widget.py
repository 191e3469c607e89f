"""Tests of the chapter-6 widget (rf.widgets.synthesis_*): the compute function, the explorer,
the static figure and the kernel-free scrubber."""

import matplotlib

matplotlib.use("Agg")

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
import pytest
from numpy.testing import assert_allclose
from scrubbing import frames_of, spy_on_scrub

import reluflow as rf
import reluflow.widgets as rw

D = rw.SYNTHESIS_DEFAULTS
pytestmark = pytest.mark.filterwarnings("ignore:FigureCanvasAgg is non-interactive:UserWarning")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def res():
    return rw.synthesis_explorer_compute(D["delta"], D["p"], D["scale"], D["m"], D["seed"])


def test_compute_residuals_and_margin_dual(res):
    traj, data = res["traj"], res["data"]
    assert traj.success and res["rho"].shape == (len(traj), 2)
    assert_allclose(res["rho"][0], rf.losses.exponential.rho0(data), atol=1e-9)
    assert_allclose(res["rho"][-1], rf.ncf.residual_correlation(traj.final, data, "exponential").rho)
    assert_allclose(res["q"], [0.5, 0.5], atol=1e-9)
    # q = (1/2, 1/2): G_{q*y} peaks at the kink x_-^perp with value sin(delta)/2
    assert_allclose(res["gamma"], np.sin(D["delta"]) / 2, rtol=1e-9)
    assert traj.t[-1] > res["predicted"].t_escape


def test_explorer_sliders_redraw():
    box = rw.synthesis_explorer()
    assert isinstance(box, w.VBox) and isinstance(box.children[-1], w.Output)
    found = [c for col in box.children[0].children for c in col.children]
    assert len(found) == 4 and all(s.continuous_update is False for s in found)
    time_slider = [s for s in found if "time" in s.description][0]
    time_slider.value = 0.1  # redraws from the cached run


def test_static_figure_is_on_the_plateau():
    fig, (ax, lax) = rw.synthesis_explorer_figure()
    assert "t = 40" in fig._suptitle.get_text()
    assert ax.get_xlabel().startswith("direction angle") and lax.get_xscale() == "log"


def test_scrubber_frames(monkeypatch):
    calls = spy_on_scrub(monkeypatch, "_synthesis")
    rw.synthesis_scrubber(n_frames=6)
    ((values, kwargs),) = calls
    assert len(values) == 6 and np.all(np.diff(values) > 0)
    assert kwargs["label"] == "gradient-flow time t"


def test_scrubber_player_has_distinct_frames():
    frames = frames_of(rw.synthesis_scrubber(n_frames=3))
    assert len(set(frames)) == 3


def test_bad_input():
    with pytest.raises(ValueError, match="unknown parameter"):
        rw.synthesis_explorer_figure(width=3)
    with pytest.raises(ValueError, match="n_frames"):
        rw.synthesis_scrubber(n_frames=1)
