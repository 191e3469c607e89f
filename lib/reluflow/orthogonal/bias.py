"""One-dimensional data with a bias, and the kink picture of a network on it (book chapter 3,
"One-dimensional data with a bias"; the figure is ``rf.plotting.plot_kinks``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_finite_array
from ..data import Dataset, with_bias
from ..network import Network

__all__ = ["Kinks", "bias_data", "kink_picture"]


@dataclass(frozen=True, eq=False)
class Kinks:
    """:func:`kink_picture`: kink ``position``, output ``weight``, ``direction``, each (m,)."""

    position: np.ndarray
    weight: np.ndarray
    direction: np.ndarray


def bias_data(x, y) -> Dataset:
    r"""1-D data with a bias, inputs :math:`(x_i, 1)` (chapter 3, "One-dimensional data with a bias").

    Examples
    --------
    >>> import reluflow as rf
    >>> rf.orthogonal.bias_data([-1.0, 0.5], [0.2, 1.0]).X
    array([[-1. ,  1. ],
           [ 0.5,  1. ]])
    """
    return Dataset(with_bias(as_finite_array(x, "x", ndim=1)), y)


def kink_picture(net: Network) -> Kinks:
    r"""Kinks of :math:`f(x) = \sum_j a_j\sigma(w_{j,1}x + w_{j,2})`: ``position``
    :math:`-w_{j,2}/w_{j,1}` (nan if :math:`w_{j,1} = 0`), ``weight`` :math:`s_j\|w_j\|` (the output
    weight :math:`a_j` when balanced) and ``direction`` :math:`\operatorname{sign} w_{j,1}` (+1:
    active right of the kink). ValueError unless the input dimension is 2, :math:`(x, 1)`.

    Examples
    --------
    >>> import reluflow as rf
    >>> rf.orthogonal.kink_picture(rf.Network([-5.0], [[-3.0, 4.0]]))
    Kinks(position=array([1.33333333]), weight=array([-5.]), direction=array([-1.]))
    """
    if not isinstance(net, Network):
        raise TypeError(f"`net` must be a rf.Network; got {type(net).__name__}")
    if net.d != 2:
        raise ValueError(f"`net` must take inputs (x, 1), i.e. d = 2; got d = {net.d}")
    w1, w2 = net.W[:, 0], net.W[:, 1]
    position = np.divide(-w2, w1, out=np.full(net.m, np.nan), where=w1 != 0)
    return Kinks(position, np.sign(net.a) * np.linalg.norm(net.W, axis=1), np.sign(w1))
