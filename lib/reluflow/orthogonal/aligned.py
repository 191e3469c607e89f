r"""Aligned classes on orthogonal inputs: the setting of the logistic growth law (book chapter
3, "Saddle to saddle")."""

from __future__ import annotations

import numpy as np

from .._validation import as_finite_array
from ..data import Dataset
from ..network import Network
from ..trajectory import Trajectory
from ._check import ORTHO_TOL, check, z_of

__all__ = ["aligned_init", "class_masses"]


def _masses(values, name: str) -> np.ndarray:
    u = np.atleast_1d(as_finite_array(values, name))
    if u.ndim != 1 or np.any(u <= 0):
        raise ValueError(f"`{name}` must be a 1-D sequence of masses > 0; got {values!r}")
    return u


def aligned_init(data: Dataset, plus=(), minus=(), *, tol: float = ORTHO_TOL) -> Network:
    r"""Balanced neurons exactly along the minimum-norm directions of the classes (book chapter
    3, "Saddle to saddle"): for each mass :math:`u_j` in ``plus`` a neuron
    :math:`(a_j, w_j) = (\sqrt{u_j},\ \sqrt{u_j}\,\hat\beta_+)`, and for each in ``minus`` a
    neuron :math:`(-\sqrt{u_j},\ \sqrt{u_j}\,\hat\beta_-)`, with
    :math:`\beta_\pm = \sum_{\pm y_k > 0}|y_k|\,x_k/r_k^2`.

    These neurons satisfy the hypotheses of the logistic law: for unit inputs the mass
    :math:`u = \sum_j\|w_j\|^2` of each sign then follows
    :math:`\dot u = \frac2n u(\|y^\pm\| - u)` exactly (:func:`class_masses` measures it).

    Parameters
    ----------
    data : Dataset
        Pairwise-orthogonal inputs, default weights 1/n.
    plus, minus : sequence of float
        Masses :math:`u_j = \|w_j\|^2 > 0` of the neurons of each sign (either may be empty).

    Returns
    -------
    Network
        The ``plus`` neurons first, then the ``minus`` neurons.

    Raises
    ------
    ValueError
        As every function of :mod:`reluflow.orthogonal` for the data; for masses that are not
        positive, for no neuron at all, or for neurons of a sign with no point of that class.

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.Dataset([[2.0, 0.0], [0.0, 1.0]], [1.0, -1.0])
    >>> net = rf.orthogonal.aligned_init(data, plus=[4.0], minus=[1.0])
    >>> net.a, net.W
    (array([ 2., -1.]), array([[2., 0.],
           [0., 1.]]))
    """
    X, y, r = check(data, tol)
    z = z_of(y, r)
    a, W = [], []
    for sign, values, name in ((1.0, plus, "plus"), (-1.0, minus, "minus")):
        if len(values) == 0:
            continue
        beta = np.divide(np.clip(sign * z, 0.0, None), r, out=np.zeros_like(r), where=r > 0) @ X
        if not np.any(beta):
            kind = "positive" if sign > 0 else "negative"
            raise ValueError(f"`{name}` holds neurons but `data` has no point with a {kind} label")
        root = np.sqrt(_masses(values, name))
        a.append(sign * root)
        W.append(root[:, None] * beta / np.linalg.norm(beta))
    if not a:
        raise ValueError("give at least one mass in `plus` or `minus`")
    return Network(np.concatenate(a), np.vstack(W))


def class_masses(model: Network | Trajectory) -> np.ndarray:
    r"""Total mass :math:`u_\pm = \sum_{\pm a_j > 0}\|w_j\|^2` of the neurons of each sign
    (book chapter 3, "Saddle to saddle"): the quantity of the logistic law.

    Returns
    -------
    ndarray
        Shape (2,) ``(u_plus, u_minus)`` for a Network, (k, 2) for a Trajectory (the sign of
        :math:`a_j` at each snapshot).

    Examples
    --------
    >>> import reluflow as rf
    >>> rf.orthogonal.class_masses(rf.Network([1.0, -2.0, 0.5], [[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]))
    array([3., 4.])
    """
    if not isinstance(model, (Network, Trajectory)):
        raise TypeError(f"`model` must be a rf.Network or rf.Trajectory; got {type(model).__name__}")
    a, mass = np.asarray(model.a), np.sum(np.asarray(model.W) ** 2, axis=-1)
    return np.stack([np.sum(mass * (a > 0), axis=-1), np.sum(mass * (a < 0), axis=-1)], axis=-1)
