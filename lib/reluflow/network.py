"""The two-layer ReLU network, its forward pass and its small initialisation (book chapter 1,
"Setting")."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import as_finite_array, positive_int, positive_scalar, set_frozen_arrays

__all__ = ["Network", "small_init"]


def _forward(a: np.ndarray, W: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The forward pass (core-private, unchecked): pre-activations ``P = W X^T``, shape
    (..., m, n), and outputs ``f = sum_j a_j relu(P_j)``, shape (..., n), for parameters ``a``
    (..., m) and ``W`` (..., m, d) stacked over any leading axes (one network, or every
    snapshot of a run). The library's one forward pass: :meth:`Network.__call__`, the
    gradient and the diagnostics call it after validating their inputs."""
    P = W @ X.T
    H = np.maximum(P, 0.0)
    f = a @ H if a.ndim == 1 else np.matmul(a[..., None, :], H)[..., 0, :]
    return P, f


@dataclass(frozen=True)
class Network:
    r"""A two-layer ReLU network without biases,

    .. math:: f_\theta(x) = \sum_{j=1}^m a_j\,\sigma(\langle w_j, x\rangle),
              \qquad \sigma(z) = \max(z, 0),

    with parameters :math:`\theta = (a_j, w_j)_{j \le m}`. It is two-homogeneous:
    :math:`f_{c\theta} = c^2 f_\theta` for :math:`c \ge 0`.

    Parameters
    ----------
    a : array_like, shape (m,)
        Output weights.
    W : array_like, shape (m, d)
        Input weights, one neuron per row.

    Notes
    -----
    See the book, chapter 1, section "Setting". Arrays are stored read-only copies.

    Examples
    --------
    >>> import numpy as np, reluflow as rf
    >>> net = rf.Network([1.0, -1.0], [[1.0, 0.0], [0.0, 1.0]])
    >>> net(np.array([[2.0, 1.0]]))
    array([1.])
    """

    a: np.ndarray
    W: np.ndarray

    def __post_init__(self) -> None:
        a = as_finite_array(self.a, "a", ndim=1)
        W = as_finite_array(self.W, "W", ndim=2)
        if W.shape[0] != a.shape[0]:
            raise ValueError(f"`a` has m={a.shape[0]} entries but `W` has {W.shape[0]} rows; they must match")
        if a.shape[0] == 0:
            raise ValueError("the network must have at least one neuron (m >= 1)")
        set_frozen_arrays(self, a=a, W=W)

    @property
    def m(self) -> int:
        """Width (number of neurons)."""
        return self.a.shape[0]

    @property
    def d(self) -> int:
        """Input dimension."""
        return self.W.shape[1]

    def _inputs(self, X) -> np.ndarray:
        X = as_finite_array(X, "X", ndim=2)
        if X.shape[1] != self.d:
            raise ValueError(f"`X` must have d={self.d} columns; got {X.shape[1]}")
        return X

    def preactivations(self, X) -> np.ndarray:
        r"""Pre-activations :math:`\langle w_j, x_i\rangle`, shape (m, n)."""
        return self.W @ self._inputs(X).T

    def __call__(self, X) -> np.ndarray:
        """Outputs :math:`f_\\theta(x_i)` for each row of ``X``, shape (n,)."""
        return _forward(self.a, self.W, self._inputs(X))[1]

    def neuron_norms(self) -> np.ndarray:
        r"""Per-neuron norms :math:`\|(a_j, w_j)\| = \sqrt{a_j^2 + \|w_j\|^2}`, shape (m,)."""
        return np.sqrt(self.a**2 + np.sum(self.W**2, axis=1))

    def norm_sq(self) -> float:
        r"""Squared parameter norm :math:`\|\theta\|^2 = \sum_j a_j^2 + \|w_j\|^2`."""
        return float(np.sum(self.a**2) + np.sum(self.W**2))

    def flat(self) -> np.ndarray:
        """Parameters as one vector ``[a, W.ravel()]`` of length m (d + 1)."""
        return np.concatenate([self.a, self.W.ravel()])

    @classmethod
    def from_flat(cls, theta, m: int, d: int) -> Network:
        """Inverse of :meth:`flat`.

        Raises
        ------
        ValueError
            If ``theta`` does not have length m (d + 1).
        """
        m, d = positive_int(m, "m"), positive_int(d, "d")
        theta = as_finite_array(theta, "theta", ndim=1)
        if theta.shape[0] != m * (d + 1):
            raise ValueError(f"`theta` must have length m*(d+1) = {m * (d + 1)}; got {theta.shape[0]}")
        return cls(theta[:m], theta[m:].reshape(m, d))

    def scaled(self, c: float) -> Network:
        """The network with parameters ``c * theta`` (outputs scale by c**2 for c >= 0)."""
        return Network(c * self.a, c * self.W)


def small_init(m: int, d: int, scale: float, seed: int = 0, balanced: bool = True) -> Network:
    r"""Small random initialisation.

    Directions are Gaussian: :math:`w_j = \varepsilon z_j` with
    :math:`z_j \sim \mathcal N(0, I_d/d)`, so :math:`\|w_j\| \approx \varepsilon`.
    Balanced (default): :math:`a_j = s_j\|w_j\|` with random signs :math:`s_j = \pm 1`, so
    that :math:`a_j^2 - \|w_j\|^2 = 0`, an invariant of gradient flow. Unbalanced:
    :math:`a_j \sim \varepsilon\,\mathcal N(0, 1)` independently.

    Parameters
    ----------
    m, d : int
        Width and input dimension.
    scale : float
        Init scale :math:`\varepsilon > 0`; values down to 1e-12 are fine in float64.
    seed : int
        Seed of the ``numpy.random.default_rng`` generator.
    balanced : bool
        Whether :math:`|a_j| = \|w_j\|`.

    Returns
    -------
    Network

    Raises
    ------
    ValueError
        If ``scale <= 0`` or ``m``, ``d`` are not positive integers.

    Notes
    -----
    See the book, chapter 1, section "Setting".

    Examples
    --------
    >>> import reluflow as rf
    >>> net = rf.small_init(3, 2, 1e-6, seed=1)
    >>> bool(abs(abs(net.a[0]) - (net.W[0] ** 2).sum() ** 0.5) < 1e-18)
    True
    """
    m, d = positive_int(m, "m"), positive_int(d, "d")
    scale = positive_scalar(scale, "scale")
    rng = np.random.default_rng(seed)
    W = scale * rng.standard_normal((m, d)) / np.sqrt(d)
    if balanced:
        a = rng.choice([-1.0, 1.0], size=m) * np.linalg.norm(W, axis=1)
    else:
        a = scale * rng.standard_normal(m)
    return Network(a, W)
