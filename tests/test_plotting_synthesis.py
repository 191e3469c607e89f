"""Tests of the plotting helpers of chapter 6: each returns (fig, ax) and draws what it says."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

import reluflow as rf


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_plot_weightings_one_panel_each():
    data = rf.datasets.two_point(1.0, 0.75)
    G = data.weighted([0.75, -0.25])
    net = rf.small_init(5, 2, 1e-2, seed=0)
    fig, axes = rf.plotting.plot_weightings([("a", G, rf.ncf.kkt_directions(G), net), ("b", G, (), None)])
    assert len(axes) == 2 and [ax.get_title() for ax in axes] == ["a", "b"]
    assert axes[0].get_legend() is not None and axes[1].get_legend() is None
    assert len(axes[0].collections) == 1 and not axes[1].collections  # neurons only where given


def test_plot_staircase_draws_runs_and_steps():
    data = rf.datasets.orthogonal([1.2, 0.8, -0.5, -0.3])
    st = rf.ncf.staircase(data, "square")
    runs = {eps: rf.gradient_flow(rf.small_init(10, 4, eps, seed=0), data, "square", 1.2 * st.times(eps)[-1],
                                  t_eval="log") for eps in (1e-3, 1e-5)}  # fmt: skip
    fig, ax = rf.plotting.plot_staircase(runs, st)
    assert ax.get_yscale() == "log" and "ln(1/" in ax.get_xlabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["ε = 1e-03", "ε = 1e-05", "predicted staircase"]
    x = ax.get_lines()[0].get_xdata()
    assert np.isclose(x.max(), runs[1e-3].t[-1] / np.log(1e3))


def test_plot_clock_identity_and_points():
    fig, ax = rf.plotting.plot_clock({"a": ([1.0, 2.0], [1.1, 2.0]), "b": ([3.0], [2.9])})
    assert ax.get_aspect() == 1.0 and "g^\\star" in ax.get_xlabel()
    assert [ln.get_label() for ln in ax.get_lines()] == ["a", "b", "identity"]


def test_plot_phase_diagram_means_over_seeds():
    rows = [dict(d=4, m=m, scale=a, seed=s, value=float(m + a + s)) for m in (8, 16) for a in (0.1, 1.0) for s in (0, 1)]
    cols = rf.sweep.to_columns(rows)
    fig, ax = rf.plotting.plot_phase_diagram(cols, "value", label="v")
    Z = ax.collections[0].get_array().reshape(2, 2)
    assert np.allclose(Z, [[8.6, 9.5], [16.6, 17.5]])
    assert ax.get_xlabel() == "init scale $\\alpha$" and ax.get_ylabel() == "width $m$"


def test_plot_coverage_bands():
    data = rf.datasets.orthogonal([1.0, -0.5])
    run = rf.gradient_flow(rf.small_init(6, 2, 1e-4, seed=0), data, "square", 100.0, t_eval="log")
    fig, ax = rf.plotting.plot_coverage(run, [(0.0, 10.0, "one"), (10.0, 100.0, "two")])
    assert [t.get_text() for t in ax.texts] == ["one", "two"]
    assert len(ax.patches) == 2 and ax.get_xlabel() == "gradient-flow time $t$"
