"""Tests for rf.diagnostics.plateaus and rf.plotting.plot_timeline (the run at a glance)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from numpy.testing import assert_allclose

import reluflow as rf


def synthetic(loss, t=None, switches=None):
    """A Trajectory that only carries times, a loss and a switch log."""
    loss = np.asarray(loss, float)
    t = np.arange(loss.size, dtype=float) if t is None else np.asarray(t, float)
    k, log = loss.size, np.array(switches or [], dtype=rf.trajectory.SWITCH_DTYPE)
    return rf.Trajectory(t, np.ones((k, 1)), np.ones((k, 1, 2)), loss, "euler", 0, 0, 0, 0, "", switches=log)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_plateaus_pick_the_longest_run_in_the_band():
    #          0    1     2     3    4     5     6     7    8
    loss = [1.0, 1.01, 0.8, 0.99, 1.0, 1.02, 0.5, 0.51, 0.0]
    out = rf.diagnostics.plateaus(synthetic(loss), [1.0, 0.5, 0.2, 0.0], band=0.05)
    assert_allclose(out[0], [3.0, 5.0])  # [0, 1] and [3, 5]: the longer one
    assert_allclose(out[1], [6.0, 7.0])
    assert np.all(np.isnan(out[2:]))  # never in the band; a zero level has no relative band


def test_plateaus_band_is_relative():
    traj = synthetic([1.0, 1.08, 1.0])
    assert_allclose(rf.diagnostics.plateaus(traj, [1.0], band=0.1)[0], [0.0, 2.0])
    assert_allclose(rf.diagnostics.plateaus(traj, [1.0], band=0.05)[0], [0.0, 0.0])


def test_plateaus_on_the_orthogonal_staircase():
    """Square loss, orthogonal unit points: the loss rests on the predicted levels in order."""
    data = rf.datasets.orthogonal([1.0, -0.5])
    traj = rf.gradient_flow(rf.small_init(8, 2, 1e-4, seed=0), data, "square", 80.0, t_eval="log")
    levels = rf.orthogonal.plateau_levels(data)
    out = rf.diagnostics.plateaus(traj, levels)
    assert out[0, 0] == 0.0 and out[0, 1] < out[1, 0] < out[1, 1]
    assert np.all(np.isnan(out[2]))


def test_plateaus_errors():
    traj = synthetic([1.0, 1.0])
    with pytest.raises(ValueError, match="band"):
        rf.diagnostics.plateaus(traj, [1.0], band=0.0)
    with pytest.raises(ValueError, match="finite"):
        rf.diagnostics.plateaus(traj, [np.nan])
    with pytest.raises(ValueError, match="1-D"):
        rf.diagnostics.plateaus(traj, [[1.0]])
    with pytest.raises(TypeError):
        rf.diagnostics.plateaus(traj.final, [1.0])


def test_timeline_draws_plateaus_events_and_marks():
    loss = [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.0]
    switches = [(0.5, 0, 0, "off"), (0.7, 1, 0, "off"), (2.0, 0, 1, "on"), (3.0, 0, 1, "slide")]
    traj = synthetic(loss, t=[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0], switches=switches)
    fig, ax = rf.plotting.plot_timeline(traj, [1.0, 0.5], names=["first", "second"], marks={"escape": 2.5})
    assert ax.get_xscale() == "log" and "time" in ax.get_xlabel() and "loss" in ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "first ($L = 1$)" in labels and "second ($L = 0.5$)" in labels
    assert "switch-off events (2)" in labels and "switch-on events (1)" in labels and "slide events (1)" in labels
    # the first plateau starts at t = 0: it is shaded from the left end of the axis (the first event)
    assert ax.get_xlim()[0] == pytest.approx(0.5)
    assert any(t.get_text() == "escape" for t in ax.texts)


def test_timeline_errors():
    traj = synthetic([1.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="one label per level"):
        rf.plotting.plot_timeline(traj, [1.0], names=["a", "b"])
    with pytest.raises(ValueError, match="t_min"):
        rf.plotting.plot_timeline(traj, [1.0], t_min=0.0)
