"""Tests for rf.Trajectory (snapshots, norms, sliding intervals, repr) and rf.log_times."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import reluflow as rf
from reluflow.trajectory import SWITCH_DTYPE

T_END = 12.0


@pytest.fixture(scope="module")
def sliding_run():
    """Two-point instance with the exponential loss: neurons slide on x_+ and x_- faces."""
    data = rf.datasets.two_point(1.0, 0.75)
    traj = rf.gradient_flow(rf.small_init(20, 2, 1e-2, seed=0), data, "exponential", T_END)
    assert traj.success, traj.message
    assert traj.sliding_entries > 0  # the run exercises sliding
    return data, traj


def make_traj(switches, t=(0.0, 1.0, 2.0, 5.0), m=2, d=2, **kw):
    k = len(t)
    rng = np.random.default_rng(0)
    report = {
        "method": "adaptive",
        "nfev": 7,
        "nsteps": 3,
        "nrejected": 1,
        "status": 0,
        "message": "reached t_end",
        **kw,
    }
    return rf.Trajectory(
        np.asarray(t, float),
        rng.standard_normal((k, m)),
        rng.standard_normal((k, m, d)),
        np.zeros(k),
        switches=np.array(switches, dtype=SWITCH_DTYPE),
        **report,
    )


# ---------------------------------------------------------------- sliding intervals


def test_sliding_intervals_consistent_with_switches(sliding_run):
    _, traj = sliding_run
    iv = traj.sliding_intervals()
    assert len(iv) == traj.sliding_entries
    slides = traj.switches[traj.switches["kind"] == "slide"]
    assert sorted((j, i, t0) for j, i, t0, _ in iv) == sorted(
        (int(s["neuron"]), int(s["point"]), float(s["t"])) for s in slides
    )
    for j, i, t0, t1 in iv:
        assert 0 <= j < traj.a.shape[1] and 0 <= i < 2
        assert t0 < t1 <= traj.t[-1]
    assert [r[2] for r in iv] == sorted(r[2] for r in iv)
    # exits: a logged switch of the same pair, or the end for pairs still sliding
    logged = {(int(s["neuron"]), int(s["point"]), float(s["t"])) for s in traj.switches}
    open_at_end = [r for r in iv if (r[0], r[1], r[3]) not in logged]
    assert len(open_at_end) == traj.sliding_at_end
    assert all(r[3] == traj.t[-1] for r in open_at_end)


def test_sliding_time_is_total_interval_length(sliding_run):
    _, traj = sliding_run
    total = sum(t1 - t0 for _, _, t0, t1 in traj.sliding_intervals())
    assert_allclose(total, traj.sliding_time, rtol=1e-10)


def test_sliding_pairs_stay_on_their_face(sliding_run):
    data, traj = sliding_run
    for j, i, t0, t1 in traj.sliding_intervals():
        k = (traj.t >= t0) & (traj.t <= t1)
        assert k.sum() >= 2
        pre = traj.W[k, j] @ data.X[i]
        assert_allclose(pre, 0.0, atol=1e-10 * np.max(np.linalg.norm(traj.W[k, j], axis=1)))


def test_sliding_intervals_from_handmade_log():
    switches = [
        (0.5, 0, 1, "slide"),
        (0.7, 1, 0, "off"),  # not sliding: ignored
        (0.9, 0, 1, "slide"),  # already sliding: keeps the first entry time
        (1.5, 0, 1, "on"),
        (2.0, 1, 1, "slide"),
        (3.0, 0, 1, "slide"),
        (4.0, 0, 1, "off"),
        (4.5, 1, 0, "slide"),  # still sliding at the end
    ]
    traj = make_traj(switches)
    assert traj.sliding_intervals() == [
        (0, 1, 0.5, 1.5),
        (1, 1, 2.0, 5.0),
        (0, 1, 3.0, 4.0),
        (1, 0, 4.5, 5.0),
    ]
    assert make_traj([]).sliding_intervals() == []


# ---------------------------------------------------------------- snapshots


def test_len_net_and_final(sliding_run):
    _, traj = sliding_run
    k = len(traj)
    assert k == traj.t.size == traj.a.shape[0] == traj.W.shape[0] == traj.loss.size
    for idx in (0, 1, k // 2, -2, -1):
        net = traj.net(idx)
        assert isinstance(net, rf.Network)
        assert_array_equal(net.a, traj.a[idx])
        assert_array_equal(net.W, traj.W[idx])
    assert_array_equal(traj.final.a, traj.a[-1])
    assert_array_equal(traj.final.W, traj.W[k - 1])
    net0 = rf.small_init(20, 2, 1e-2, seed=0)
    assert_array_equal(traj.net(0).a, net0.a)
    assert_array_equal(traj.net(0).W, net0.W)


def test_norms_and_balancedness_formulas(sliding_run):
    data, traj = sliding_run
    nets = [traj.net(k) for k in range(len(traj))]
    assert_allclose(traj.norm_sq(), [net.norm_sq() for net in nets], rtol=1e-14)
    assert_allclose(traj.neuron_norms(), [net.neuron_norms() for net in nets], rtol=1e-14)
    assert_allclose(traj.balancedness(), [rf.diagnostics.balancedness(net) for net in nets], rtol=1e-14)
    # identities between the three
    assert_allclose(np.sum(traj.neuron_norms() ** 2, axis=1), traj.norm_sq(), rtol=1e-12)
    bal = traj.a**2 - (traj.neuron_norms() ** 2 - traj.a**2)
    assert_allclose(traj.balancedness(), bal, atol=1e-12 * np.max(traj.norm_sq()))
    # gradient flow conserves a_j^2 - |w_j|^2 (also while sliding); balanced init: 0
    assert_allclose(traj.balancedness(), 0.0, atol=1e-6 * np.max(traj.norm_sq()))
    # loss recorded at the snapshots is the loss of the snapshot network
    f_end = traj.final(data.X)
    assert_allclose(traj.loss[-1], np.sum(data.weights * np.exp(-data.y * f_end)), rtol=1e-10)


def test_norm_helpers_on_handmade_snapshots():
    a = np.array([[1.0, -2.0], [3.0, 0.0]])
    W = np.array([[[2.0, 0.0], [0.0, 1.0]], [[1.0, 1.0], [0.0, 0.0]]])
    traj = rf.Trajectory(np.array([0.0, 1.0]), a, W, np.zeros(2), "euler", 1, 1, 0, 0, "ok")
    assert_allclose(traj.norm_sq(), [1 + 4 + 4 + 1, 9 + 2])
    assert_allclose(traj.neuron_norms(), [[np.sqrt(5), np.sqrt(5)], [np.sqrt(11), 0.0]])
    assert_allclose(traj.balancedness(), [[1 - 4, 4 - 1], [9 - 2, 0.0]])


# ---------------------------------------------------------------- success and repr


def test_repr_and_success(sliding_run):
    _, traj = sliding_run
    r = repr(traj)
    assert traj.success is True
    assert "status=0" in r and f"nfev={traj.nfev}" in r and "reached t_end" in r
    assert "m=20" in r and "d=2" in r


def test_repr_and_success_of_stopped_run():
    data = rf.datasets.two_point(1.0, 0.75)
    with pytest.warns(RuntimeWarning, match="max_steps"):
        traj = rf.gradient_flow(rf.small_init(4, 2, 1e-2, seed=0), data, "exponential", T_END, max_steps=2)
    assert traj.status == 1 and traj.success is False
    r = repr(traj)
    assert "status=1" in r and f"nfev={traj.nfev}" in r and "max_steps" in r


@pytest.mark.parametrize("status, ok", [(-1, False), (0, True), (1, False)])
def test_success_iff_status_zero(status, ok):
    traj = make_traj([], status=status, message="m")
    assert traj.success is ok
    assert f"status={status}" in repr(traj) and "nfev=7" in repr(traj)


# ---------------------------------------------------------------- log_times


@settings(max_examples=50, deadline=None)
@given(
    t_end=st.floats(1e-3, 1e6),
    num=st.integers(3, 400),
    first_frac=st.one_of(st.none(), st.floats(1e-6, 0.5)),
)
def test_log_times_geometric(t_end, num, first_frac):
    first = None if first_frac is None else first_frac * t_end
    t = rf.log_times(t_end, num, first)
    assert t.shape == (num,)
    assert t[0] == 0.0
    assert_allclose(t[-1], t_end, rtol=1e-14)
    assert_allclose(t[1], min(1e-2, t_end / 100) if first is None else first, rtol=1e-12)
    ratios = t[2:] / t[1:-1]
    assert np.all(ratios > 1)
    assert_allclose(ratios, ratios[0], rtol=1e-8)


def test_log_times_default_is_gradient_flow_log_grid():
    data = rf.datasets.orthogonal([1.0, -1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = rf.gradient_flow(rf.small_init(3, 2, 1e-3, seed=0), data, "square", 10.0, t_eval="log")
    assert_allclose(traj.t, rf.log_times(10.0), rtol=1e-14)


@pytest.mark.parametrize(
    "args, name",
    [
        ((0.0,), "`t_end`"),
        ((-1.0,), "`t_end`"),
        ((np.inf,), "`t_end`"),
        ((1.0, 0), "`num`"),
        ((1.0, 10.5), "`num`"),
        ((1.0, 10, 0.0), "`first`"),
        ((1.0, 10, -1e-3), "`first`"),
    ],
)
def test_log_times_validation(args, name):
    with pytest.raises(ValueError, match=name):
        rf.log_times(*args)


def test_log_times_rejects_first_after_t_end():
    with pytest.raises(ValueError, match="`first`"):
        rf.log_times(1.0, 4, first=5.0)


@pytest.mark.parametrize("num", [1, 2])
def test_log_times_short_grid_ends_at_t_end_or_raises(num):
    try:
        t = rf.log_times(5.0, num)
    except ValueError:
        return
    assert t[0] == 0.0 and t[-1] == 5.0
