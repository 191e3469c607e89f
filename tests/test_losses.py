"""Tests for reluflow.losses: values, residual weights, rho0, labels and stability."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import reluflow as rf

ALL = [rf.losses.square, rf.losses.logistic, rf.losses.exponential, rf.losses.linear]
IDS = [loss.name for loss in ALL]


def per_sample(name, y, f):
    """The per-sample loss written out from the table in the losses module docstring."""
    if name == "square":
        return 0.5 * (f - y) ** 2
    if name == "logistic":
        return np.log(1.0 + np.exp(-y * f))
    if name == "exponential":
        return np.exp(-y * f)
    if name == "linear":
        return -y * f
    raise AssertionError(name)


def make_data(loss, seed, n=6):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    if loss.classification:
        y = rng.choice([-1.0, 1.0], size=n)
    else:
        y = rng.standard_normal(n)
    weights = rng.uniform(0.1, 2.0, size=n)
    return rf.Dataset(X, y, weights=weights), rng.standard_normal(n)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("loss", ALL, ids=IDS)
def test_value_matches_formula(loss, seed):
    data, f = make_data(loss, seed)
    expected = sum(c * per_sample(loss.name, y, fi) for c, y, fi in zip(data.weights, data.y, f, strict=True))
    value = loss.value(f, data)
    assert isinstance(value, float)
    assert_allclose(value, expected, rtol=1e-12)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("loss", ALL, ids=IDS)
def test_residuals_are_minus_derivative(loss, seed):
    data, f = make_data(loss, seed)
    rho = loss.residuals(f, data)
    assert rho.shape == (data.n,)
    h = 1e-6
    fd = np.empty(data.n)
    for i in range(data.n):
        e = np.zeros(data.n)
        e[i] = h
        fd[i] = (loss.value(f + e, data) - loss.value(f - e, data)) / (2 * h)
    assert_allclose(rho, -fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("loss", ALL, ids=IDS)
def test_solver_residual_map_matches_residuals(loss, seed):
    # the solvers' f -> rho with the label factors precomputed (private) is the same map
    data, f = make_data(loss, seed)
    for scale in (1.0, 50.0):
        assert_allclose(loss._weighted_residual(data)(scale * f), loss.residuals(scale * f, data), rtol=1e-15, atol=0)


@pytest.mark.parametrize(
    ("loss", "factor"),
    [
        (rf.losses.square, 1.0),
        (rf.losses.logistic, 0.5),
        (rf.losses.exponential, 1.0),
        (rf.losses.linear, 1.0),
    ],
    ids=IDS,
)
def test_rho0_table(loss, factor):
    data, _ = make_data(loss, 11)
    rho0 = loss.rho0(data)
    assert_allclose(rho0, factor * data.weights * data.y, rtol=1e-15)
    assert_allclose(rho0, loss.residuals(np.zeros(data.n), data))


def test_linear_residuals_do_not_depend_on_f():
    data, f = make_data(rf.losses.linear, 3)
    assert_allclose(rf.losses.linear.residuals(f, data), rf.losses.linear.rho0(data))
    assert_allclose(rf.losses.linear.residuals(1e6 * f, data), rf.losses.linear.rho0(data))


@pytest.mark.parametrize("loss", [rf.losses.logistic, rf.losses.exponential], ids=["logistic", "exponential"])
@pytest.mark.parametrize("y", [[1.0, 0.0], [1.0, 2.0], [0.5, -1.0]])
def test_classification_losses_reject_bad_labels(loss, y):
    data = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], y)
    with pytest.raises(ValueError, match=loss.name):
        loss.check_labels(data)
    with pytest.raises(ValueError, match=r"\{-1, \+1\}"):
        rf.loss_and_grad(rf.Network([1.0], [[1.0, 1.0]]), data, loss.name)


@pytest.mark.parametrize("loss", ALL, ids=IDS)
def test_labels_plus_minus_one_accepted(loss):
    data = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], np.array([1, -1]))
    loss.check_labels(data)  # must not raise


@pytest.mark.parametrize("loss", [rf.losses.square, rf.losses.linear], ids=["square", "linear"])
def test_regression_losses_accept_real_labels(loss):
    loss.check_labels(rf.Dataset([[1.0], [2.0]], [0.3, -7.5]))


@pytest.mark.parametrize("loss", ALL, ids=IDS)
def test_get_by_name_and_by_object(loss):
    assert rf.losses.get(loss.name) is loss
    assert rf.losses.get(loss) is loss
    assert repr(loss) == f"rf.losses.{loss.name}"


def test_get_unknown_name_and_wrong_type():
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        rf.losses.get("hinge")
    with pytest.raises(TypeError, match="`loss`"):
        rf.losses.get(3)


def test_user_defined_loss_works_through_get_and_loss_and_grad():
    quartic = rf.losses.Loss("quartic", False, lambda y, f: 0.25 * (f - y) ** 4, lambda y, f: (y - f) ** 3)
    assert rf.losses.get(quartic) is quartic
    data = rf.Dataset([[1.0, 0.5]], [2.0])
    value, grad = rf.loss_and_grad(rf.Network([1.0], [[1.0, 0.0]]), data, quartic)
    assert_allclose(value, 0.25)  # f = 1, (1 - 2)^4 / 4
    assert_allclose(grad.a, [-1.0])  # -rho * relu(1) with rho = (2 - 1)^3


# ---------------------------------------------------------------- numerical stability

BIG = 1e3


def _data(y):
    return rf.Dataset(np.ones((len(y), 1)), y)


@pytest.mark.parametrize("y", [1.0, -1.0])
def test_logistic_large_positive_margin(y):
    data = _data([y])
    f = np.array([y * BIG])  # margin y f = +1e3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = rf.losses.logistic.value(f, data)
        rho = rf.losses.logistic.residuals(f, data)
    # ln(1 + e^{-1000}) = e^{-1000} to double precision, which underflows to 0 (or a subnormal).
    assert np.isfinite(value) and 0.0 <= value <= 1e-300
    assert np.all(np.isfinite(rho)) and abs(rho[0]) <= 1e-300
    assert rho[0] == 0.0 or np.sign(rho[0]) == np.sign(y)


@pytest.mark.parametrize("y", [1.0, -1.0])
def test_logistic_large_negative_margin(y):
    data = _data([y])
    f = np.array([-y * BIG])  # margin -1e3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = rf.losses.logistic.value(f, data)
        rho = rf.losses.logistic.residuals(f, data)
    # ln(1 + e^{1000}) = 1000 + log1p(e^{-1000}) = 1000; rho = y / (1 + e^{-1000}) = y.
    assert_allclose(value, BIG, rtol=1e-15)
    assert_allclose(rho, [y], rtol=1e-15)


@settings(max_examples=100, deadline=None)
@given(z=st.floats(min_value=-700.0, max_value=700.0))
def test_logistic_matches_log1p_exp_form(z):
    """Stable and naive formulas agree wherever the naive one is representable."""
    data = _data([1.0])
    f = np.array([z])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = rf.losses.logistic.value(f, data)
        rho = rf.losses.logistic.residuals(f, data)
    expected_value = max(-z, 0.0) + np.log1p(np.exp(-abs(z)))  # ln(1 + e^{-z}), rearranged
    assert_allclose(value, expected_value, rtol=1e-13, atol=1e-300)
    assert_allclose(rho[0], 1.0 / (1.0 + np.exp(z)), rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("y", [1.0, -1.0])
def test_exponential_large_positive_margin(y):
    data = _data([y])
    f = np.array([y * BIG])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = rf.losses.exponential.value(f, data)
        rho = rf.losses.exponential.residuals(f, data)
    assert np.isfinite(value) and value == pytest.approx(0.0, abs=1e-300)
    assert np.all(np.isfinite(rho)) and abs(rho[0]) <= 1e-300


def test_exponential_overflow_is_inf_without_warning():
    """e^{1000} is not representable: the value is inf, and Loss silences the overflow."""
    data = _data([1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = rf.losses.exponential.value(np.array([-BIG]), data)
    assert value == np.inf
