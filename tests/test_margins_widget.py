"""Tests for the chapter-5 explorer in reluflow.widgets: the compute function against the
library, its speed-independent invariants, the static figure and the slider widget."""

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

D = rw.MARGINS_DEFAULTS

pytestmark = pytest.mark.filterwarnings("ignore:FigureCanvasAgg is non-interactive:UserWarning")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_compute_defaults():
    res = rw.margins_explorer_compute(D["d"], D["m"], D["scale"], D["t_end"], D["seed"])
    assert_allclose(res["gamma_gl"], 1 / np.sqrt(8 * D["d"]), rtol=1e-12)
    assert_allclose(res["gamma_ntk"], rf.margins.ntk_margin(rf.datasets.sparse_parity(D["d"])).value, rtol=1e-5)
    assert 0 < res["gamma_V"] <= res["gamma_gl"] + 1e-12  # finitely many directions: a lower bound
    run = res["run"]
    assert run.loss[-1] < run.loss[0] and run.W.shape[1:] == (D["m"], D["d"])
    rot = res["rotation"]
    assert rot.shape == (len(run.t), D["m"]) and np.all((0 <= rot) & (rot <= 180)) and np.all(rot[0] < 1e-5)
    assert np.all(run.lin_margin[1:] <= run.lin_bound + 1e-12)


def test_smaller_init_rotates_more():
    big, small = (rw.margins_explorer_compute(5, 32, s, 100.0) for s in (3.0, 0.1))
    assert np.median(small["rotation"][-1]) > np.median(big["rotation"][-1])


def test_figure_and_widget():
    fig, axes = rw.margins_explorer_figure(d=4, m=16)
    assert len(axes) == 3 and all(ax.get_xlabel() for ax in axes[1:])
    with pytest.raises(ValueError, match="unknown parameter"):
        rw.margins_explorer_figure(width=3)
    box = rw.margins_explorer()
    assert isinstance(box, w.VBox)
    sliders = box.children[0].children
    assert [s.value for s in sliders] == [D["d"], D["m"], D["scale"]]
    assert all(not s.continuous_update for s in sliders)


# ---------------------------------------------------------------- kernel-free scrubber


def test_margins_scrubber_player_has_one_distinct_frame_each():
    frames = frames_of(rw.margins_scrubber(n_frames=3, d=4, m=16))
    assert len(frames) == 3 and len(set(frames)) == 3
    assert not plt.get_fignums()


def test_margins_scrubber_frames_are_snapshots_after_0(monkeypatch):
    calls = spy_on_scrub(monkeypatch, "_margins")
    rw.margins_scrubber(n_frames=6, d=4, m=16)
    ((values, _),) = calls
    run = rw.margins_explorer_compute(4, 16, D["scale"], D["t_end"], D["seed"])["run"]
    assert len(values) == 6 and set(values) <= set(run.t[1:]) and values[-1] == run.t[-1]


@pytest.mark.parametrize("bad", [dict(n_frames=1), dict(n_frames=10**4), dict(width=3)])
def test_margins_scrubber_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        rw.margins_scrubber(**bad)
