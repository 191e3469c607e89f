r"""Losses and their residual weights (book chapter 1, "Setting").

Every loss is a weighted empirical loss :math:`L = \sum_i c_i\,\ell(y_i, f_i)` over a
:class:`~reluflow.Dataset` with weights :math:`c_i`. Gradient flow only sees it through
the *residual weights*

.. math:: \rho_i = -\frac{\partial L}{\partial f(x_i)},

and their value :math:`\rho^0_i` at :math:`f = 0` drives the dynamics near a small
initialisation (chapter 2).

=============  ====================================  ==================================  =================
name           :math:`c_i\,\ell`                     :math:`\rho_i`                      :math:`\rho^0_i`
=============  ====================================  ==================================  =================
square         :math:`\tfrac12 c_i (f_i - y_i)^2`    :math:`c_i (y_i - f_i)`             :math:`c_i y_i`
logistic       :math:`c_i \ln(1 + e^{-y_i f_i})`     :math:`c_i y_i/(1 + e^{y_i f_i})`   :math:`c_i y_i/2`
exponential    :math:`c_i e^{-y_i f_i}`              :math:`c_i y_i e^{-y_i f_i}`        :math:`c_i y_i`
linear         :math:`-c_i y_i f_i`                  :math:`c_i y_i`                     :math:`c_i y_i`
=============  ====================================  ==================================  =================

The linear (correlation) loss has constant residual weights, so its gradient flow is
exactly the flow of the neural correlation function :math:`\mathcal N(\theta) =
\sum_i \rho^0_i f_\theta(x_i)`. Logistic and exponential losses need labels in
:math:`\{-1, +1\}`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .data import Dataset

__all__ = ["Loss", "square", "logistic", "exponential", "linear", "get", "LossLike"]


@dataclass(frozen=True)
class Loss:
    """A loss given by its per-sample value and residual maps of ``(y, f)``.

    Use the module instances ``square``, ``logistic``, ``exponential``, ``linear`` (or
    their names); the constructor is public so users can add their own.

    Attributes
    ----------
    name : str
    classification : bool
        Whether labels must be in {-1, +1}.
    _value, _residual : callable
        ``(y, f) -> array`` per-sample loss and per-sample :math:`-\\partial\\ell/\\partial f`.
    _weighted : callable, optional
        ``(y, c) -> (f -> c * _residual(y, f))`` with the label-dependent factors computed
        once (the solvers evaluate it at every gradient evaluation); derived from
        ``_residual`` when not given.
    """

    name: str
    classification: bool
    _value: Callable[[np.ndarray, np.ndarray], np.ndarray]
    _residual: Callable[[np.ndarray, np.ndarray], np.ndarray]
    _weighted: Callable[[np.ndarray, np.ndarray], Callable[[np.ndarray], np.ndarray]] | None = None

    def _weighted_residual(self, data: Dataset) -> Callable[[np.ndarray], np.ndarray]:
        """``f -> rho`` for fixed data: the residual weights of :meth:`residuals` without the
        per-call label arithmetic (no ``np.errstate``: the caller sets it)."""
        if self._weighted is not None:
            return self._weighted(data.y, data.weights)
        y, c, residual = data.y, data.weights, self._residual
        return lambda f: c * residual(y, f)

    def check_labels(self, data: Dataset) -> None:
        """Raise ``ValueError`` if the labels do not suit this loss."""
        if self.classification and not np.all(np.isin(data.y, (-1.0, 1.0))):
            bad = data.y[~np.isin(data.y, (-1.0, 1.0))][:3]
            raise ValueError(
                f"the {self.name} loss needs labels in {{-1, +1}}; got values such as {bad.tolist()}"
            )

    def value(self, f: np.ndarray, data: Dataset) -> float:
        """The weighted loss :math:`L = \\sum_i c_i \\ell(y_i, f_i)` for outputs ``f``."""
        with np.errstate(over="ignore"):
            return float(np.dot(data.weights, self._value(data.y, f)))

    def residuals(self, f: np.ndarray, data: Dataset) -> np.ndarray:
        """Residual weights :math:`\\rho_i = -\\partial L/\\partial f_i`, shape (n,)."""
        with np.errstate(over="ignore"):
            return data.weights * self._residual(data.y, f)

    def rho0(self, data: Dataset) -> np.ndarray:
        """Residual weights at :math:`f = 0` (the NCF weights), shape (n,)."""
        return self.residuals(np.zeros(data.n), data)

    def __repr__(self) -> str:
        return f"rf.losses.{self.name}"


#: The square loss :math:`\tfrac12 c_i (f_i - y_i)^2`, residual weights :math:`c_i(y_i - f_i)`.
square = Loss("square", False, lambda y, f: 0.5 * (f - y) ** 2, lambda y, f: y - f)


def _expit():
    """scipy's logistic sigmoid ``expit``, imported on first use (scipy.special takes ~0.2 s
    to load; ``import reluflow`` stays light)."""
    from scipy.special import expit

    return expit


def _margin_weighted(g):
    """``_weighted`` of a margin loss with residual y g(-y f): (c y) g((-y) f); ``g()`` returns
    the function g (resolved once per run, not per evaluation)."""

    def make(y, c):
        cy, ny, gf = c * y, -y, g()
        return lambda f: cy * gf(ny * f)

    return make


# ln(1 + e^{-z}) = logaddexp(0, -z) and its derivative expit(-z) are stable for |z| ~ 1e3.
#: The logistic loss :math:`c_i\ln(1 + e^{-y_i f_i})`, labels :math:`\pm 1`.
logistic = Loss(
    "logistic",
    True,
    lambda y, f: np.logaddexp(0.0, -y * f),
    lambda y, f: y * _expit()(-y * f),
    _margin_weighted(_expit),
)
# e^{-z} overflows to inf for z < -709: the value is then genuinely not representable.
#: The exponential loss :math:`c_i e^{-y_i f_i}`, labels :math:`\pm 1`.
exponential = Loss(
    "exponential", True, lambda y, f: np.exp(-y * f), lambda y, f: y * np.exp(-y * f), _margin_weighted(lambda: np.exp)
)
#: The linear (correlation) loss :math:`-c_i y_i f_i`: constant residual weights, the NCF flow.
linear = Loss("linear", False, lambda y, f: -y * f, lambda y, f: y + 0.0 * f)

_BY_NAME = {loss.name: loss for loss in (square, logistic, exponential, linear)}
#: A :class:`Loss` or one of the names "square", "logistic", "exponential", "linear".
LossLike = Loss | str


def get(loss: LossLike) -> Loss:
    """Return the :class:`Loss` for a loss object or one of the names
    ``"square"``, ``"logistic"``, ``"exponential"``, ``"linear"``.

    Raises
    ------
    ValueError
        For an unknown name; TypeError for anything else.
    """
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str):
        try:
            return _BY_NAME[loss]
        except KeyError:
            raise ValueError(f"unknown loss {loss!r}; choose one of {sorted(_BY_NAME)}") from None
    raise TypeError(f"`loss` must be a rf.losses.Loss or a name; got {type(loss).__name__}")
