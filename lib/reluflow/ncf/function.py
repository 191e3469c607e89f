r"""The NCF :math:`\mathcal N(\theta) = \sum_i \rho_i f_\theta(x_i)` of a network and of its
direction (book chapter 2, "The NCF and its flow" and "The alignment function")."""

from __future__ import annotations

import numpy as np

from .._validation import check_matching_dim
from ..data import Correlation
from ..diagnostics import outputs
from ..network import Network
from ..trajectory import Trajectory
from .kkt import _check_correlation

__all__ = ["direction_value", "value"]


def value(net: Network, G: Correlation) -> float:
    r"""The NCF :math:`\mathcal N(\theta) = \sum_i \rho_i f_\theta(x_i)
    = \sum_j a_j\|w_j\|\,G_\rho(\hat w_j)` (book chapter 2, section "The alignment function").

    Parameters
    ----------
    net : Network
    G : Correlation
        The points and their weights :math:`\rho_i`, ``data.weighted(rho)``.

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [1.0, 1.0])
    >>> rf.ncf.value(rf.Network([2.0], [[1.0, 0.0]]), data.weighted([0.5, 1.0]))
    1.0
    """
    if not isinstance(net, Network):
        raise TypeError(f"`net` must be a rf.Network; got {type(net).__name__}")
    check_matching_dim(_check_correlation(G).X, net.d)
    return float(G.rho @ net(G.X))


def direction_value(net: Network | Trajectory, G: Correlation) -> float | np.ndarray:
    r""":math:`\mathcal N(\theta/\|\theta\|) = \mathcal N(\theta)/\|\theta\|^2` (two-homogeneity),
    at most :func:`max_ncf` ``.value``; for a Trajectory, at every snapshot, shape (k,).
    Raises ``ValueError`` for the zero network.

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [1.0, 1.0])
    >>> rf.ncf.direction_value(rf.Network([2.0], [[2.0, 0.0]]), data.weighted([0.5, 1.0]))
    0.25
    """
    if isinstance(net, Trajectory):
        norm_sq = net.norm_sq()
        if np.any(norm_sq == 0):
            raise ValueError("the NCF of the direction theta/||theta|| is undefined for the zero network")
        return outputs(net, _check_correlation(G).data) @ G.rho / norm_sq
    ncf, norm_sq = value(net, G), net.norm_sq()
    if norm_sq == 0:
        raise ValueError("the NCF of the direction theta/||theta|| is undefined for the zero network")
    return ncf / norm_sq
