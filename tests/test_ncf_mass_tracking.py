"""Tests for rf.ncf.mass_shares (the mass-share law), rf.ncf.track_direction (the lag bound near
a saddle) and rf.ncf.direction_value on a trajectory."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import reluflow as rf

# Orthogonal points with NCF weights rho = (1, -1/2): G has its maximum 1 along x_1 and its
# minimum -1/2 along x_2, so g* = 1 and the law's exponent for x_2 is 2(1 - 1/2) = 1.
ORTHO = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [1.0, -0.5], weights=[1.0, 1.0])


def aligned_net(scale):
    """One balanced neuron along each critical direction, of mass 2 scale^2 each."""
    return rf.Network([scale, -scale], [[scale, 0.0], [0.0, scale]])


# ---------------------------------------------------------------- mass_shares


def test_mass_shares_of_a_network():
    net = rf.Network([1.0, -0.1, 0.0], [[1.0, 0.0], [0.0, 0.1], [0.0, 0.0]])  # a zero neuron too
    shares = rf.ncf.mass_shares(net, [[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert_allclose(shares, [2 / 2.02, 0.02 / 2.02, 0.0])
    # the radius decides membership: at 45 degrees both neurons are within pi/4 + 1e-9
    assert_allclose(rf.ncf.mass_shares(net, [1.0, 1.0], radius=np.pi / 4 + 1e-9), [1.0])


def test_mass_shares_of_a_trajectory_match_the_snapshots():
    data = rf.datasets.orthogonal([1.0, -0.5, 0.7])
    traj = rf.gradient_flow(rf.small_init(12, 3, 1e-3, seed=2), data, "square", 20.0, t_eval=np.linspace(0, 20, 11))
    V = np.eye(3)
    S = rf.ncf.mass_shares(traj, V, radius=0.3)
    assert S.shape == (11, 3)
    for k in (0, 5, 10):
        assert_allclose(S[k], rf.ncf.mass_shares(traj.net(k), V, radius=0.3))


@pytest.mark.parametrize("level", [1e-3, 1e-2])
def test_mass_share_law_on_the_ncf_flow(level):
    """Exact exponential growth: neurons at x_1 grow like e^t, at x_2 like e^{t/2}; at the
    level, the share of x_2 scales like scale^{2(1 - 1/2)} = scale (up to its own share)."""
    t = np.linspace(0.0, 40.0, 401)
    shares = []
    for scale in (1e-5, 1e-7):
        traj = rf.gradient_flow(aligned_net(scale), ORTHO, "linear", 40.0, t_eval=t, rtol=1e-10)
        shares.append(rf.ncf.mass_shares(traj, np.eye(2), at_norm_sq=level))
    shares = np.array(shares)
    slope = np.log(shares[0] / shares[1]) / np.log(100.0)
    assert_allclose(slope, [0.0, 1.0], atol=1e-3)
    # and the interpolated value: share of x_2 = m2 / level with m1 + m2 = level,
    # m1 = 2 s^2 e^{2t}, m2 = 2 s^2 e^{t}  =>  m2 = sqrt(2 s^2 m1)
    m2 = np.sqrt(2e-14 * level)  # scale 1e-7; m1 = level - m2 changes it by a relative 1e-5
    assert_allclose(shares[1, 1], m2 / level, rtol=1e-4)


def test_mass_shares_errors():
    net = aligned_net(1.0)
    traj = rf.gradient_flow(aligned_net(1e-3), ORTHO, "linear", 5.0, t_eval=np.linspace(0, 5, 6))
    with pytest.raises(ValueError, match="nonzero"):
        rf.ncf.mass_shares(net, [0.0, 0.0])
    with pytest.raises(ValueError, match="shape"):
        rf.ncf.mass_shares(net, [1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="radius"):
        rf.ncf.mass_shares(net, [1.0, 0.0], radius=0.0)
    with pytest.raises(ValueError, match="finite"):
        rf.ncf.mass_shares(net, [np.nan, 1.0])
    with pytest.raises(ValueError, match="Trajectory"):
        rf.ncf.mass_shares(net, [1.0, 0.0], at_norm_sq=1.0)
    with pytest.raises(ValueError, match="never reaches"):
        rf.ncf.mass_shares(traj, [1.0, 0.0], at_norm_sq=10.0)
    with pytest.raises(ValueError, match="not above"):
        rf.ncf.mass_shares(traj, [1.0, 0.0], at_norm_sq=1e-9)
    with pytest.raises(ValueError, match="zero"):
        rf.ncf.mass_shares(rf.Network([0.0], [[0.0, 0.0]]), [1.0, 0.0])
    with pytest.raises(TypeError):
        rf.ncf.mass_shares("net", [1.0, 0.0])


# ---------------------------------------------------------------- direction_value on a trajectory


def test_direction_value_of_a_trajectory():
    data = rf.datasets.orthogonal([1.0, -0.5, 0.7])
    G = data.weighted(rf.losses.square.rho0(data))
    traj = rf.gradient_flow(rf.small_init(6, 3, 1e-3, seed=0), data, "square", 10.0, t_eval=np.linspace(0, 10, 5))
    values = rf.ncf.direction_value(traj, G)
    assert values.shape == (5,)
    assert_allclose(values, [rf.ncf.direction_value(traj.net(k), G) for k in range(5)], rtol=1e-12)
    zero = rf.Trajectory(np.zeros(1), np.zeros((1, 1)), np.zeros((1, 1, 3)), np.zeros(1), "euler", 0, 0, 0, 0, "")
    with pytest.raises(ValueError, match="zero network"):
        rf.ncf.direction_value(zero, G)


# ---------------------------------------------------------------- track_direction


def test_tracking_a_fixed_target():
    """Square loss on two orthogonal points; the neuron is active on the second only, so its
    target is x_2 at all times, and its angle to it decays at least as fast as the bound."""
    data = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [1.0, -1.0])
    net0 = rf.Network([-np.sqrt(2e-6)], [[-1e-3, 1e-3]])
    traj = rf.gradient_flow(net0, data, "square", 20.0, t_eval=np.linspace(0, 20, 201), rtol=1e-10)
    tr = rf.ncf.track_direction(traj, data, "square", [0])
    assert_allclose(tr.target[:, 0], np.tile([0.0, 1.0], (201, 1)), atol=1e-15)
    assert np.all(tr.angle <= tr.bound + 1e-12)
    assert tr.bound[0, 0] == tr.angle[0, 0] and tr.bound[-1, 0] < tr.bound[0, 0]
    # the angle: w_1 is frozen at -1e-3 while w_2 grows, so tan(angle) = 1e-3 / w_2
    assert_allclose(np.tan(tr.angle[:, 0]), 1e-3 / traj.W[:, 0, 1], rtol=1e-9)
    rho2 = 0.5 * (-1.0 - rf.diagnostics.outputs(traj, data)[:, 1])  # the residual weight of x_2
    assert_allclose(tr.rate[:, 0], np.abs(traj.a[:, 0] * rho2) / np.linalg.norm(traj.W[:, 0], axis=1), rtol=1e-12)


@pytest.fixture(scope="module")
def two_point():
    data = rf.datasets.two_point(1.0, 0.75)
    t = np.linspace(0.0, 45.0, 901)
    traj = rf.gradient_flow(rf.small_init(20, 2, 1e-4, seed=0), data, "exponential", 45.0, t_eval=t, rtol=1e-10)
    slides = [s for s in traj.sliding_intervals() if traj.a[0, s[0]] < 0]
    return data, traj, np.unique([s[0] for s in slides]), max(s[3] for s in slides)


def test_tracking_a_moving_target(two_point):
    """After the negative neurons leave the kink, their target -D/|D| turns with the residuals;
    it is the minimiser of the residual correlation, and the neurons stay within the bound."""
    data, traj, neg, released = two_point
    assert neg.size > 0
    tr = rf.ncf.track_direction(traj, data, "exponential", neg, t_start=released)
    assert np.all(tr.angle <= tr.bound + 1e-9)
    turned = np.degrees(np.arctan2(tr.target[:, 0, 1], tr.target[:, 0, 0]))
    assert turned[0] > 85 and turned[-1] < 70  # the target moves by more than 15 degrees
    for k in (0, len(tr.t) // 2, -1):
        net = traj.net(int(np.searchsorted(traj.t, tr.t[k])))
        crit = rf.ncf.kkt_directions(rf.ncf.residual_correlation(net, data, "exponential"))
        assert_allclose(min(crit, key=lambda c: c.value).v, tr.target[k, 0], atol=1e-9)
    # the bound is not vacuous: it is below the distance the target travels
    assert tr.bound[-1, 0] < np.radians(turned[0] - turned[-1]) / 2


def test_tracking_errors(two_point):
    data, traj, neg, released = two_point
    with pytest.raises(ValueError, match="activation pattern"):
        rf.ncf.track_direction(traj, data, "exponential", neg[:1])  # the whole run: it lands on a face
    with pytest.raises(ValueError, match="at least 2"):
        rf.ncf.track_direction(traj, data, "exponential", neg[:1], t_start=44.99)
    with pytest.raises(ValueError, match="indices"):
        rf.ncf.track_direction(traj, data, "exponential", [100])
    with pytest.raises(ValueError, match="indices"):
        rf.ncf.track_direction(traj, data, "exponential", [0.5])
    with pytest.raises(TypeError):
        rf.ncf.track_direction(traj.final, data, "exponential", [0])
    one = rf.Dataset([[1.0, 0.0]], [1.0])
    flip = rf.gradient_flow(rf.Network([-1e-3], [[2e-3, 0.0]]), one, "square", 5.0, t_eval=np.linspace(0, 5, 51))
    assert flip.a[0, 0] < 0 < flip.a[-1, 0]  # unbalanced: a_j crosses zero
    with pytest.raises(ValueError, match="sign of a_j"):
        rf.ncf.track_direction(flip, one, "square", 0)
