"""Loss value and gradient of the two-layer ReLU network (book chapter 1, "Setting"): the
library's one gradient, reused by every flow."""

from __future__ import annotations

import numpy as np

from ._validation import check_matching_dim
from .data import Dataset
from .losses import LossLike, get
from .network import Network, _forward

__all__ = ["loss_and_grad", "check_problem"]


def check_problem(net: Network, data: Dataset, loss: LossLike):
    """Validate a (network, data, loss) triple; return the :class:`Loss` object."""
    if not isinstance(net, Network):
        raise TypeError(f"`net` must be a rf.Network; got {type(net).__name__}")
    if not isinstance(data, Dataset):
        raise TypeError(f"`data` must be a rf.Dataset; got {type(data).__name__}")
    check_matching_dim(data.X, net.d)
    loss = get(loss)
    loss.check_labels(data)
    return loss


def _gradient(a: np.ndarray, W: np.ndarray, data: Dataset, loss) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The gradient (core-private, unchecked): outputs ``f`` (n,) and :math:`\\partial L/\\partial a`
    (m,), :math:`\\partial L/\\partial W` (m, d) for a :class:`~reluflow.losses.Loss` object.
    The library's one gradient: :func:`loss_and_grad` and the reparameterised flows of
    chapter 5 (by the chain rule) call it."""
    P, f = _forward(a, W, data.X)
    rho = loss.residuals(f, data)
    return f, -(np.maximum(P, 0.0) @ rho), -a[:, None] * (((P > 0) * rho) @ data.X)


def loss_and_grad(net: Network, data: Dataset, loss: LossLike) -> tuple[float, Network]:
    r"""Loss value and gradient with respect to :math:`(a, W)`.

    With residual weights :math:`\rho_i = -\partial L/\partial f(x_i)` and the convention
    :math:`\sigma'(0) = 0`,

    .. math::
        \frac{\partial L}{\partial a_j} = -\sum_i \rho_i\,\sigma(\langle w_j, x_i\rangle),
        \qquad
        \frac{\partial L}{\partial w_j} = -a_j \sum_i \rho_i\,
        \mathbb 1[\langle w_j, x_i\rangle > 0]\,x_i .

    Parameters
    ----------
    net : Network
    data : Dataset
    loss : Loss or str

    Returns
    -------
    value : float
    grad : Network
        The gradient, stored as a network of the same shape.

    Notes
    -----
    See the book, chapter 1, section "Setting".

    Examples
    --------
    >>> import reluflow as rf
    >>> net = rf.Network([1.0], [[1.0, 0.0]])
    >>> data = rf.Dataset([[1.0, 0.0]], [3.0])
    >>> value, grad = rf.loss_and_grad(net, data, "square")
    >>> value, grad.a
    (2.0, array([-2.]))
    """
    loss = check_problem(net, data, loss)
    f, ga, gW = _gradient(net.a, net.W, data, loss)
    return loss.value(f, data), Network(ga, gW)
