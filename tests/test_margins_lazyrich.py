"""Tests of rf.margins.lazyrich (chapter 6, the lazy-to-rich phase diagram): the symmetric init,
the tangent kernel against finite differences, the kernel margin against ntk_margin, the split, and
one run's diagnostics (weak duality, the step check)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import reluflow as rf


def test_symmetric_init_is_zero_and_balanced():
    net = rf.margins.symmetric_init(10, 5, 3.0, seed=4)
    X = rf.datasets.sparse_parity(5).X
    assert_allclose(net(X), 0.0, atol=1e-12)
    assert_allclose(rf.diagnostics.balancedness(net), 0.0, atol=1e-12)
    assert_allclose(np.mean(np.linalg.norm(net.W, axis=1) ** 2), 9.0, rtol=0.5)
    with pytest.raises(ValueError, match="even"):
        rf.margins.symmetric_init(5, 3, 1.0)
    with pytest.raises(ValueError, match="scale"):
        rf.margins.symmetric_init(4, 3, 0.0)


def test_tangent_kernel_is_the_gram_matrix_of_the_jacobian():
    data = rf.datasets.sparse_parity(3)
    net = rf.small_init(5, 3, 1.0, seed=0, balanced=False)
    theta, h = net.flat(), 1e-6
    J = np.array([(rf.Network.from_flat(theta + h * e, 5, 3)(data.X) - rf.Network.from_flat(theta - h * e, 5, 3)(data.X))
                  / (2 * h) for e in np.eye(theta.size)]).T  # fmt: skip
    assert_allclose(rf.margins.tangent_kernel(net, data), J @ J.T, atol=1e-6)
    with pytest.raises(ValueError, match="dimension"):
        rf.margins.tangent_kernel(net, rf.datasets.sparse_parity(4))


def test_kernel_margin_equals_ntk_margin_on_its_kernel():
    data = rf.datasets.sparse_parity(4)
    km = rf.margins.kernel_margin(data, rf.margins.ntk(data.X, layers="inner"))
    assert km.success
    assert_allclose(km.value, rf.margins.ntk_margin(data).value, atol=1e-6)
    # invariant to the scale of the kernel up to the square root
    assert_allclose(rf.margins.kernel_margin(data, 1e-8 * rf.margins.ntk(data.X, layers="inner")).value,
                    1e-4 * km.value, rtol=1e-5)  # fmt: skip
    with pytest.raises(ValueError, match="symmetric"):
        rf.margins.kernel_margin(data, np.ones((3, 3)))


def test_parity_split():
    train, test = rf.margins.parity_split(5, 12, seed=3)
    both = np.r_[train.X, test.X]
    assert train.n == 12 and test.n == 20
    assert len({tuple(x) for x in both}) == 32
    assert_allclose(np.r_[train.y, test.y], both[:, 0] * both[:, 1] * 5)
    with pytest.raises(ValueError, match="n_train"):
        rf.margins.parity_split(3, 8)


@pytest.mark.parametrize("scale", [1e-3, 3.0])
def test_lazy_rich_run_diagnostics(scale):
    train, test = rf.margins.parity_split(6, 24, seed=0)
    run = rf.margins.lazy_rich_run(train, 32, scale, 300.0, test=test)
    assert run.success and run.trajectory.method == "euler"
    assert_allclose(rf.diagnostics.outputs(run.net0, train), 0.0, atol=1e-12)
    # weak duality: the linearised margin per unit of movement is at most the kernel margin
    assert run.lin_movement_margin <= run.kernel_margin.upper * (1 + 1e-9)
    assert 0 <= run.rotation <= np.pi and 1 <= run.clusters <= 32
    assert 0 <= run.test_error <= 1 and run.t_fit < 300
    lazy = scale > 1
    assert (run.linearization_error < 0.5) == lazy


def test_lazy_rich_step_check():
    train, _ = rf.margins.parity_split(6, 24, seed=0)
    a, b = (rf.margins.lazy_rich_run(train, 16, 1e-2, 200.0, step_rate=c) for c in (2e-3, 1e-3))
    assert_allclose(a.margin, b.margin, rtol=1e-2)


def test_lazy_rich_parity_row():
    row = rf.margins.lazy_rich_parity(4, 8, 0.5, seed=1, t_end=100.0, n_train=10)
    assert set(row) == {"kappa", "r_par", "r_ker", "r_ker_lin", "e_lin", "rotation_deg", "clusters", "test_error",
                        "t_fit", "loss", "status", "seconds"}  # fmt: skip
    assert_allclose(row["kappa"], 0.5 * np.sqrt(8))
    assert row["status"] == 0 and isinstance(row["clusters"], int)
