"""Tests for reluflow.plotting: returned (fig, ax), labels, log axes, what is drawn; the
kernel-free slider player (scrub)."""

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba
from numpy.testing import assert_allclose, assert_array_equal
from scrubbing import frames_of

import reluflow as rf
from reluflow.plotting import NEGATIVE, POSITIVE


@pytest.fixture(scope="module")
def traj():
    data = rf.datasets.orthogonal([1.0, 0.5, -0.8])
    traj = rf.gradient_flow(rf.small_init(6, 3, 1e-3, seed=1), data, "square", 30.0, t_eval="log")
    assert traj.success and traj.t[0] == 0.0  # t = 0 is present, so the filter matters
    assert np.any(traj.a[-1] > 0) and np.any(traj.a[-1] < 0)  # both colours are exercised
    return traj


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def data_lines(ax):
    """Lines that carry data (legend proxies are empty)."""
    return [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 0]


def check_time_axis(ax):
    assert "time" in ax.get_xlabel()
    assert ax.get_ylabel()
    assert ax.get_xscale() == "log"


# ---------------------------------------------------------------- plot_loss


@pytest.mark.parametrize("logy", [False, True])
def test_plot_loss(traj, logy):
    fig, ax = rf.plotting.plot_loss(traj, logy=logy)
    assert isinstance(fig, plt.Figure) and ax.figure is fig
    check_time_axis(ax)
    assert ax.get_yscale() == ("log" if logy else "linear")
    (line,) = data_lines(ax)
    keep = traj.t > 0
    assert np.all(line.get_xdata() > 0)
    assert_array_equal(line.get_xdata(), traj.t[keep])
    assert_array_equal(line.get_ydata(), traj.loss[keep])


def test_plot_loss_on_given_axes_with_label(traj):
    fig0, ax0 = plt.subplots()
    fig, ax = rf.plotting.plot_loss(traj, ax0, label="run A")
    assert fig is fig0 and ax is ax0
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["run A"]


def test_plot_loss_without_label_has_no_legend(traj):
    _, ax = rf.plotting.plot_loss(traj)
    assert ax.get_legend() is None


# ---------------------------------------------------------------- plot_neuron_norms


def test_plot_neuron_norms_one_line_per_neuron(traj):
    fig, ax = rf.plotting.plot_neuron_norms(traj)
    assert ax.figure is fig
    check_time_axis(ax)
    assert ax.get_yscale() == "log"
    lines = data_lines(ax)
    m = traj.a.shape[1]
    assert len(lines) == m
    keep = traj.t > 0
    norms = traj.neuron_norms()[keep]
    for j, line in enumerate(lines):
        assert np.all(line.get_xdata() > 0)
        assert_array_equal(line.get_xdata(), traj.t[keep])
        assert_allclose(line.get_ydata(), norms[:, j])
        # coloured by the sign of a_j at the end
        colour = POSITIVE if traj.a[-1, j] >= 0 else NEGATIVE
        assert to_rgba(line.get_color())[:3] == to_rgba(colour)[:3]
    assert len(ax.get_legend().get_texts()) == 2


# ---------------------------------------------------------------- plot_flow


@pytest.mark.parametrize("title", [None, "a title"])
def test_plot_flow_two_panels(traj, title):
    fig, axes = rf.plotting.plot_flow(traj, title=title)
    assert len(axes) == 2 and all(ax.figure is fig for ax in axes)
    for ax in axes:
        check_time_axis(ax)
        assert all(np.all(ln.get_xdata() > 0) for ln in data_lines(ax))
    assert len(data_lines(axes[0])) == 1
    assert len(data_lines(axes[1])) == traj.a.shape[1]
    assert fig.get_suptitle() == (title or "")


def test_plot_flow_on_given_axes(traj):
    fig0, axes0 = plt.subplots(1, 2)
    fig, axes = rf.plotting.plot_flow(traj, axes0)
    assert fig is fig0 and axes is axes0
    assert len(data_lines(axes0[0])) == 1


# ---------------------------------------------------------------- plot_error_vs_cost


def test_plot_error_vs_cost_legend_and_data():
    series = {
        "adaptive": ([10, 100, 1000], [1e-2, 1e-5, 1e-9]),
        "euler": ([100, 1000, 10000], [1e-1, 1e-2, 1e-3]),
        "third": ([5, 50], [0.5, 0.05]),
    }
    fig, ax = rf.plotting.plot_error_vs_cost(series, xlabel="nfev")
    assert ax.figure is fig
    assert ax.get_xlabel() == "nfev" and ax.get_ylabel()
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(series)
    lines = data_lines(ax)
    assert [ln.get_label() for ln in lines] == list(series)
    for ln, (cost, err) in zip(lines, series.values(), strict=False):
        assert_array_equal(ln.get_xdata(), cost)
        assert_array_equal(ln.get_ydata(), err)
    colours = {to_rgba(ln.get_color()) for ln in lines}
    assert len(colours) == len(series)  # distinguishable series


def test_plot_alignment_function_marks_critical_points_and_neurons():
    X = np.array([[1.0, 0.0], [0.6, 0.8]])
    rho = np.array([0.75, -0.25])
    G = rf.Dataset(X, [1.0, -1.0]).weighted(rho)
    crit = rf.ncf.kkt_directions(G)
    net = rf.Network([1.0, -1.0], [[0.9, -0.3], [0.0, 1.0]])
    fig, ax = rf.plotting.plot_alignment_function(G, crit, net)
    try:
        phi, G = ax.get_lines()[0].get_data()
        V = np.c_[np.cos(phi), np.sin(phi)]
        np.testing.assert_allclose(G, np.maximum(V @ X.T, 0) @ rho)
        markers = [ln for ln in ax.get_lines()[2:] if ln.get_marker() in ("^", "v", "D")]
        assert len(markers) >= len(crit)
        assert len(ax.collections[0].get_offsets()) == net.m
        assert "phi" in ax.get_xlabel()
        with pytest.raises(ValueError, match="2-D"):
            rf.plotting.plot_alignment_function(rf.Dataset(np.eye(3), np.ones(3)).weighted(np.ones(3)))
        with pytest.raises(TypeError, match="Correlation"):
            rf.plotting.plot_alignment_function(X, rho)
    finally:
        plt.close(fig)


# ---------------------------------------------------------------- scrub (kernel-free sliders)


def test_scrub_embeds_one_frame_per_value_in_order():
    seen = []

    def draw(fig, v):
        seen.append(v)
        ax = fig.subplots()
        ax.plot([0.0, 1.0], [0.0, v])
        ax.set_ylim(0, 3)

    before = plt.get_fignums()
    player = rf.plotting.scrub(draw, [1.0, 2.0, 3.0], label="time", fmt="{:.1f}", dpi=20)
    assert seen == [1.0, 2.0, 3.0]
    frames = frames_of(player)
    assert len(frames) == 3 and len(set(frames)) == 3  # one distinct picture per value
    assert '<div class="animation">' in player.data and 'class="anim-slider"' in player.data
    assert plt.get_fignums() == before  # closed: no static copy below the player


def test_scrub_needs_no_network():
    player = rf.plotting.scrub(lambda fig, v: fig.subplots().plot([0, v]), [1, 2], dpi=20)
    assert "font-awesome" not in player.data and "<link" not in player.data
    assert 'class="fa' not in player.data  # the icons are text labels
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", player.data)
    assert "first_frame()" in player.data and "|&lt;</button>" in player.data


def test_scrub_caption_uses_label_and_format(monkeypatch):
    titles = []
    real = plt.Figure.suptitle
    monkeypatch.setattr(plt.Figure, "suptitle", lambda fig, t, **kw: titles.append(t) or real(fig, t, **kw))
    rf.plotting.scrub(lambda fig, v: fig.subplots(), [0.5, 12.25], label="t", fmt="{:.1f}", dpi=20)
    assert titles == ["t = 0.5", "t = 12.2"]


def test_scrub_rejects_empty_values():
    with pytest.raises(ValueError, match="at least one frame"):
        rf.plotting.scrub(lambda fig, v: None, [])
    assert not plt.get_fignums()


def test_scrub_refuses_a_player_over_the_size_cap(monkeypatch):
    monkeypatch.setattr(rf.plotting, "SCRUB_MAX_BYTES", 10_000)
    with pytest.raises(ValueError, match=r"over SCRUB_MAX_BYTES .* fewer frames or a lower dpi"):
        rf.plotting.scrub(lambda fig, v: fig.subplots().plot(np.sin(v * np.arange(50))), [1, 2, 3], dpi=50)
    assert not plt.get_fignums()


# ---------------------------------------------------------------- phases_polar


def test_phases_polar_radius_is_log_norm():
    net = rf.Network([1.0, -10.0], [[1.0, 0.0], [0.0, 10.0]])
    fig, ax = rf.plotting.phases_polar(net, rf.datasets.two_point(1.0, 0.75), r_floor=0.0)
    offsets = np.vstack([c.get_offsets() for c in ax.collections])
    assert_allclose(offsets[:, 1], np.log10([np.sqrt(2), np.sqrt(200)]))
    assert_allclose(offsets[:, 0], [0.0, np.pi / 2])
    assert ax.name == "polar" and ax.get_ylim()[1] == pytest.approx(np.log10(np.sqrt(200)) + 0.5)


def test_phases_polar_fixed_outer_radius_and_data_rays():
    net = rf.Network([1.0, 2.0], [[1.0, 1.0], [-1.0, 0.5]])
    data = rf.datasets.two_point(1.0, 0.75)
    fig, ax = rf.plotting.phases_polar(net, data, r_floor=-3.0, r_max=7.0)
    assert ax.get_ylim() == (0.0, 7.0)
    assert len(ax.get_lines()) == len(data.X)  # one ray per data point
    _, ax2 = rf.plotting.phases_polar(net, data, show_data=False)
    assert not ax2.get_lines()
