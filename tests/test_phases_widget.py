"""Tests for the chapter 4 explorer (rf.widgets.phases_explorer*): compute, static figure,
builder, and the kernel-free scrubber (rf.widgets.phases_scrubber). The polar helper is
tested in test_plotting.py."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scrubbing import frames_of, spy_on_scrub  # noqa: E402

import reluflow as rf  # noqa: E402
import reluflow.widgets as rw  # noqa: E402


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


def test_builder_returns_widget():
    pytest.importorskip("ipywidgets")
    box = rf.widgets.phases_explorer()
    assert len(box.children) == 2
    plt.close("all")


# ---------------------------------------------------------------- kernel-free scrubber


def test_phases_scrubber_player_has_one_distinct_frame_each():
    frames = frames_of(rw.phases_scrubber(n_frames=3))
    assert len(frames) == 3 and len(set(frames)) == 3
    assert not plt.get_fignums()


def test_phases_scrubber_frames_cover_the_phases_in_log_time(monkeypatch):
    calls = spy_on_scrub(monkeypatch, "_phases")
    D = rw.PHASES_DEFAULTS
    rw.phases_scrubber(n_frames=9)
    ((values, _),) = calls
    res = rw.phases_explorer_compute(D["delta"], D["p"], D["scale"], D["m"], D["seed"])
    assert set(values) <= set(res["traj"].t) and values[-1] == res["traj"].t[-1]
    assert values[0] >= res["predicted"].t1 / 20
    # every detected phase is seen in at least one frame
    for ph in res["phases"]:
        assert any(ph.t_start <= v <= ph.t_end for v in values), ph.name


@pytest.mark.parametrize("bad", [dict(n_frames=1), dict(n_frames=10**4), dict(width=3)])
def test_phases_scrubber_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        rw.phases_scrubber(**bad)
