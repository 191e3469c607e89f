"""Tests for the chapter 4 explorer (rf.widgets.phases_explorer*): compute, static figure,
builder, and the polar helper."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import reluflow as rf  # noqa: E402


def test_compute_defaults_finds_four_phases():
    D = rf.widgets.PHASES_DEFAULTS
    res = rf.widgets.phases_explorer_compute(D["delta"], D["p"], D["scale"], D["m"], D["seed"])
    assert res["traj"].success
    assert [ph.name for ph in res["phases"]] == list(rf.phases.PHASE_NAMES)
    assert res["traj"].t[-1] == pytest.approx(1.5 * res["predicted"].t_escape)


def test_compute_without_plateau_runs_to_three_t1():
    res = rf.widgets.phases_explorer_compute(1.0, 0.5, 1e-6, m=20)
    assert np.isnan(res["predicted"].t_escape)
    assert res["traj"].t[-1] == pytest.approx(3 * res["predicted"].t1)


def test_figure_and_overrides():
    fig, (ax, pax) = rf.widgets.phases_explorer_figure(m=20)
    assert ax.get_xscale() == "log" and pax.name == "polar"
    plt.close(fig)
    with pytest.raises(ValueError, match="unknown parameter"):
        rf.widgets.phases_explorer_figure(width=3)


def test_polar_radius_is_log_norm():
    net = rf.Network([1.0, -10.0], [[1.0, 0.0], [0.0, 10.0]])
    fig, ax = rf.widgets.phases_polar(net, rf.datasets.two_point(1.0, 0.75), r_floor=0.0)
    offsets = np.vstack([c.get_offsets() for c in ax.collections])
    np.testing.assert_allclose(offsets[:, 1], np.log10([np.sqrt(2), np.sqrt(200)]))
    np.testing.assert_allclose(offsets[:, 0], [0.0, np.pi / 2])
    plt.close(fig)


def test_builder_returns_widget():
    pytest.importorskip("ipywidgets")
    box = rf.widgets.phases_explorer()
    assert len(box.children) == 2
    plt.close("all")
