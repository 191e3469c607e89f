"""Tests for rf.orthogonal.aligned_init and rf.orthogonal.class_masses: the setting of the
logistic growth law of chapter 3, checked against the closed form of the law."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import reluflow as rf

Y = np.array([2.0, 1.5, 1.0, -1.0, -0.5, -0.8])


def logistic(t, n, K, u0):
    """The solution of du/dt = (2/n) u (K - u)."""
    return K / (1 + (K / u0 - 1) * np.exp(-2 * K * t / n))


def test_aligned_init_is_balanced_along_beta():
    data = rf.datasets.orthogonal(Y, seed=0, norms=[1.0, 2.0, 0.5, 1.0, 3.0, 1.5])
    net = rf.orthogonal.aligned_init(data, plus=[1e-6, 4e-6], minus=[9e-6])
    assert_allclose(np.abs(net.a), np.linalg.norm(net.W, axis=1), rtol=1e-14)
    assert_allclose(np.sign(net.a), [1, 1, -1])
    assert_allclose(np.sum(net.W**2, axis=1), [1e-6, 4e-6, 9e-6], rtol=1e-12)
    r = np.linalg.norm(data.X, axis=1)
    for w, sign in zip(net.W, (1, 1, -1), strict=True):
        beta = np.clip(sign * Y, 0, None) / r**2 @ data.X
        assert_allclose(w / np.linalg.norm(w), beta / np.linalg.norm(beta), atol=1e-14)


@pytest.mark.parametrize("seed", [0, 3])
def test_class_masses_follow_the_logistic_law(seed):
    data = rf.datasets.orthogonal(Y, seed=seed)
    net = rf.orthogonal.aligned_init(data, plus=[1e-10, 3e-10], minus=[2e-10])
    t = np.linspace(0.0, 80.0, 161)
    traj = rf.gradient_flow(net, data, "square", 80.0, t_eval=t, rtol=1e-10)
    u = rf.orthogonal.class_masses(traj)
    assert u.shape == (161, 2)
    K = [np.linalg.norm(Y[Y > 0]), np.linalg.norm(Y[Y < 0])]
    assert_allclose(u, logistic(t[:, None], Y.size, np.array(K), u[0]), rtol=1e-6)
    assert_allclose(rf.orthogonal.class_masses(traj.net(40)), u[40])


def test_class_masses_by_sign():
    net = rf.Network([1.0, -2.0, 0.0], [[1.0, 0.0], [0.0, 2.0], [5.0, 5.0]])  # a_j = 0 counts nowhere
    assert_allclose(rf.orthogonal.class_masses(net), [1.0, 4.0])
    with pytest.raises(TypeError):
        rf.orthogonal.class_masses(np.zeros(3))


def test_aligned_init_errors():
    data = rf.datasets.orthogonal([1.0, 0.5])
    with pytest.raises(ValueError, match="no point"):
        rf.orthogonal.aligned_init(data, minus=[1.0])
    with pytest.raises(ValueError, match="at least one"):
        rf.orthogonal.aligned_init(data)
    with pytest.raises(ValueError, match="> 0"):
        rf.orthogonal.aligned_init(data, plus=[1.0, 0.0])
    with pytest.raises(ValueError, match="orthogonal"):
        rf.orthogonal.aligned_init(rf.Dataset([[1.0, 0.0], [1.0, 1.0]], [1.0, -1.0]), plus=[1.0])
