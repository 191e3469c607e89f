r"""Escape from a saddle of the loss: the leading-order escape time from the origin and the
correlation that drives the escape from any state (book chapter 2, "Escape from the origin")."""

from __future__ import annotations

import numpy as np

from .._validation import positive_scalar
from ..data import Correlation, Dataset
from ..gradient import check_problem
from ..losses import LossLike
from ..network import Network

__all__ = ["escape_time", "residual_correlation"]


def escape_time(scale: float, g_star: float) -> float:
    r"""Leading-order escape time from the origin, :math:`T_{\rm esc} = \ln(1/\varepsilon)/g^\star`
    (book chapter 2, "Escape from the origin").

    Neurons along :math:`\arg\max|G|` grow like :math:`\varepsilon\,e^{g^\star t}` from the init
    scale :math:`\varepsilon` and reach O(1) at :math:`T_{\rm esc} + O(1)`; the O(1) correction
    (alignment transient, constants) is not included. The library's one leading-order escape
    time: chapters 3 and 4 use it per class and per phase. Raises ``ValueError`` unless
    0 < ``scale`` < 1 and ``g_star`` > 0.

    Examples
    --------
    >>> import reluflow as rf
    >>> round(rf.ncf.escape_time(1e-6, 0.5), 4)
    27.631
    """
    scale = positive_scalar(scale, "scale")
    if not scale < 1:
        raise ValueError(f"`scale` must lie in (0, 1); got {scale}")
    return float(np.log(1.0 / scale) / positive_scalar(g_star, "g_star"))


def residual_correlation(net: Network, data: Dataset, loss: LossLike) -> Correlation:
    r"""The correlation :math:`G_\rho` weighted by the residuals :math:`\rho_i = -\partial
    L/\partial f(x_i)` at ``net``: the weights of the saddle-relative NCF :math:`\bar{\mathcal
    N}(u) = \sum_i \rho_i f_u(x_i)` that drives the escape from ``net`` (at the zero network,
    the frozen :math:`\rho^0_i` of the origin; book chapter 2, "Escape from the origin").

    Returns
    -------
    Correlation
        ``data.weighted(rho)``; ``.rho`` holds the residual weights, shape (n,).

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [1.0, -1.0])
    >>> rf.ncf.residual_correlation(rf.Network([1.0], [[1.0, 0.0]]), data, "square").rho
    array([ 0. , -0.5])
    """
    return data.weighted(check_problem(net, data, loss).residuals(net(data.X), data))
