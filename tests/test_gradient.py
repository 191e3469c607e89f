"""Tests for reluflow.gradient.loss_and_grad: certificates against finite differences,
homogeneity and the balancedness conservation law."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import reluflow as rf

LOSSES = ["square", "logistic", "exponential", "linear"]
KINK_GAP = 1e-3  # minimum |<w_j, x_i>| of the random draws, far above the FD step


def random_problem(loss, seed, m=4, d=3, n=6):
    """A random (net, data) pair whose pre-activations all stay KINK_GAP away from 0."""
    rng = np.random.default_rng(seed)
    while True:
        a = rng.standard_normal(m) / np.sqrt(m)  # keeps f = O(1), so e^{-y f} stays moderate
        W = rng.standard_normal((m, d)) / np.sqrt(d)
        X = rng.standard_normal((n, d))
        if np.min(np.abs(W @ X.T)) >= KINK_GAP:
            break
    if rf.losses.get(loss).classification:
        y = rng.choice([-1.0, 1.0], size=n)
    else:
        y = rng.standard_normal(n)
    return rf.Network(a, W), rf.Dataset(X, y, weights=rng.uniform(0.1, 1.0, size=n))


def loss_at(theta, net, data, loss):
    return rf.losses.get(loss).value(rf.Network.from_flat(theta, net.m, net.d)(data.X), data)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("loss", LOSSES)
def test_gradient_matches_central_differences(loss, seed):
    net, data = random_problem(loss, seed)
    value, grad = rf.loss_and_grad(net, data, loss)
    assert isinstance(grad, rf.Network)
    assert grad.a.shape == net.a.shape and grad.W.shape == net.W.shape
    assert_allclose(value, rf.losses.get(loss).value(net(data.X), data), rtol=1e-14)

    theta, h = net.flat(), 1e-6
    fd = np.empty_like(theta)
    for k in range(theta.size):
        e = np.zeros_like(theta)
        e[k] = h
        fd[k] = (loss_at(theta + e, net, data, loss) - loss_at(theta - e, net, data, loss)) / (2 * h)
    assert_allclose(grad.flat(), fd, rtol=1e-6, atol=1e-8 * max(1.0, np.max(np.abs(fd))))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("loss", LOSSES)
def test_euler_identity(loss, seed):
    """Two-homogeneity of f gives <theta, grad L> = -2 sum_i rho_i f_i."""
    net, data = random_problem(loss, seed)
    _, grad = rf.loss_and_grad(net, data, loss)
    rho = rf.losses.get(loss).residuals(net(data.X), data)
    assert_allclose(np.dot(net.flat(), grad.flat()), -2.0 * np.dot(rho, net(data.X)), rtol=1e-12, atol=1e-14)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), m=st.integers(1, 6), d=st.integers(1, 4), n=st.integers(1, 8))
def test_euler_identity_linear_loss_is_twice_loss(seed, m, d, n):
    """L is linear in f and f is two-homogeneous in theta, so <theta, grad L> = 2 L."""
    rng = np.random.default_rng(seed)
    net = rf.Network(rng.standard_normal(m), rng.standard_normal((m, d)))
    data = rf.Dataset(
        rng.standard_normal((n, d)), rng.standard_normal(n), weights=rng.uniform(0, 1, n) + 0.01
    )
    value, grad = rf.loss_and_grad(net, data, "linear")
    scale = np.sum(data.weights * np.abs(data.y) * (np.abs(net.a) @ np.maximum(net.W @ data.X.T, 0)))
    assert abs(np.dot(net.flat(), grad.flat()) - 2.0 * value) <= 1e-12 * (scale + 1e-300)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("loss", LOSSES)
def test_balancedness_is_conserved(loss, seed):
    """d/dt (a_j^2 - |w_j|^2) = -2 (a_j dL/da_j - <w_j, dL/dw_j>) = 0 for every neuron."""
    net, data = random_problem(loss, seed)
    _, grad = rf.loss_and_grad(net, data, loss)
    lhs = net.a * grad.a
    rhs = np.sum(net.W * grad.W, axis=1)
    assert_allclose(lhs, rhs, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("loss", LOSSES)
def test_gradient_at_scaled_parameters(loss):
    """grad L(c theta) is c times the gradient formula at theta with the residuals of c theta
    (patterns do not change for c > 0); with constant residuals (linear loss) grad L is
    one-homogeneous."""
    net, data = random_problem(loss, 5)
    c = 3.0
    _, g1 = rf.loss_and_grad(net, data, loss)
    _, gc = rf.loss_and_grad(net.scaled(c), data, loss)
    P = net.W @ data.X.T
    rho_c = rf.losses.get(loss).residuals(c**2 * net(data.X), data)
    assert_allclose(gc.a, -c * (np.maximum(P, 0) @ rho_c), rtol=1e-12, atol=1e-15)
    assert_allclose(gc.W, -c * net.a[:, None] * (((P > 0) * rho_c) @ data.X), rtol=1e-12, atol=1e-15)
    if loss == "linear":
        assert_allclose(gc.flat(), c * g1.flat(), rtol=1e-13)


def test_relu_derivative_at_zero_is_zero_single_point():
    """A neuron with <w, x> = 0 exactly gets no gradient from that point."""
    net = rf.Network([2.0, 1.0], [[1.0, 0.0], [1.0, 1.0]])
    data = rf.Dataset([[0.0, 1.0]], [-1.0])  # neuron 0: <w, x> = 0; neuron 1: = 1
    assert net.preactivations(data.X)[0, 0] == 0.0
    for loss in LOSSES:
        _, grad = rf.loss_and_grad(net, data, loss)
        assert grad.a[0] == 0.0
        assert_array_equal(grad.W[0], [0.0, 0.0])
        assert grad.a[1] != 0.0 and np.any(grad.W[1] != 0.0)


@pytest.mark.parametrize("loss", LOSSES)
def test_relu_derivative_at_zero_with_other_points(loss):
    """With a kink point and a regular point, neuron 0 only sees the regular one."""
    net = rf.Network([2.0, -0.5], [[1.0, 0.0], [0.3, 1.0]])
    data = rf.Dataset([[0.0, 1.0], [1.0, 1.0]], [1.0, -1.0], weights=[0.4, 0.6])
    _, grad = rf.loss_and_grad(net, data, loss)
    rho = rf.losses.get(loss).residuals(net(data.X), data)
    x2 = data.X[1]
    assert_allclose(grad.a[0], -rho[1] * max(net.W[0] @ x2, 0.0), rtol=1e-14)
    assert_allclose(grad.W[0], -net.a[0] * rho[1] * x2, rtol=1e-14)


def test_dimension_mismatch_mentions_with_bias():
    net = rf.Network([1.0], [[1.0, 0.0, 0.5]])
    data = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [1.0, -1.0])
    with pytest.raises(ValueError, match="with_bias"):
        rf.loss_and_grad(net, data, "square")
    # and appending the bias coordinate fixes it
    rf.loss_and_grad(net, rf.Dataset(rf.with_bias(data.X), data.y), "square")


def test_wrong_argument_types():
    net = rf.Network([1.0], [[1.0, 0.0]])
    data = rf.Dataset([[1.0, 0.0]], [1.0])
    with pytest.raises(TypeError, match="`net`"):
        rf.loss_and_grad((net.a, net.W), data, "square")
    with pytest.raises(TypeError, match="`data`"):
        rf.loss_and_grad(net, (data.X, data.y), "square")
    with pytest.raises(ValueError, match="unknown loss"):
        rf.loss_and_grad(net, data, "hinge")
