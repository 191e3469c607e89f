"""Small reference datasets used across the book (each returns a :class:`~reluflow.Dataset`)."""

from __future__ import annotations

import numpy as np

from ._validation import as_finite_array, pm_one_labels, positive_int, positive_scalar
from .data import Dataset

__all__ = ["clustered", "orthogonal", "separable", "sparse_parity", "two_point"]


def orthogonal(y, d: int | None = None, norms=None, seed: int | None = None) -> Dataset:
    r"""Pairwise-orthogonal inputs :math:`x_k = r_k u_k` with labels ``y`` (square loss).

    Parameters
    ----------
    y : array_like, shape (n,)
        Real labels.
    d : int, optional
        Input dimension (>= n); default n.
    norms : array_like, shape (n,), optional
        Input norms :math:`r_k` (default 1).
    seed : int, optional
        If given, the orthonormal :math:`u_k` are the rows of a random rotation; otherwise
        they are the first n standard basis vectors.

    Notes
    -----
    Chapter 1 uses it as the running example (the setting of chapter 3).

    Examples
    --------
    >>> import reluflow as rf
    >>> rf.datasets.orthogonal([1.0, -1.0]).X
    array([[1., 0.],
           [0., 1.]])
    """
    y = as_finite_array(y, "y", ndim=1)
    n = y.size
    d = n if d is None else positive_int(d, "d")
    if d < n:
        raise ValueError(f"`d` must be >= n = {n} for {n} orthogonal inputs; got {d}")
    r = np.ones(n) if norms is None else as_finite_array(norms, "norms", ndim=1)
    if r.shape != (n,) or np.any(r <= 0):
        raise ValueError(f"`norms` must hold {n} positive values")
    if seed is None:
        U = np.eye(d)[:n]
    else:
        Q, R = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
        U = (Q * np.sign(np.diag(R)))[:, :n].T
    return Dataset(r[:, None] * U, y)


def two_point(delta: float, p: float) -> Dataset:
    r"""The two-point instance: :math:`x_+ = (1, 0)`, :math:`x_- = (\cos\Delta, \sin\Delta)`,
    labels :math:`(+1, -1)` and weights :math:`(p, 1 - p)`.

    With the exponential loss, :math:`L = p\,e^{-f(x_+)} + (1 - p)\,e^{f(x_-)}`. The
    instance is ours (a reconstruction for chapter 4, not the paper's); for acute
    :math:`\Delta` the minimum of the alignment function lies on a kink, so gradient flow
    slides along the face :math:`\langle w, x_+\rangle = 0` (chapter 1, "Sliding along a face").

    Raises
    ------
    ValueError
        Unless :math:`0 < \Delta < \pi` and :math:`0 < p < 1`.
    """
    delta = positive_scalar(delta, "delta")
    p = positive_scalar(p, "p")
    if not delta < np.pi:
        raise ValueError(f"`delta` must lie in (0, pi); got {delta}")
    if not p < 1:
        raise ValueError(f"`p` must lie in (0, 1); got {p}")
    X = np.array([[1.0, 0.0], [np.cos(delta), np.sin(delta)]])
    return Dataset(X, [1.0, -1.0], weights=[p, 1.0 - p])


def separable(n: int, d: int, margin: float, seed: int = 0) -> Dataset:
    r"""Linearly separable data: uniform points in :math:`[-1, 1]^d` labelled by
    :math:`\operatorname{sign}\langle u, x\rangle` for a random unit :math:`u`, keeping only
    points with :math:`|\langle u, x\rangle| \ge` ``margin``.

    Use :func:`reluflow.with_bias` on ``X`` for an affine separator through a bias.
    """
    n, d = positive_int(n, "n"), positive_int(d, "d")
    margin = positive_scalar(margin, "margin", allow_zero=True)
    if margin >= 1 / np.sqrt(d):
        raise ValueError(f"`margin` must be < 1/sqrt(d) = {1 / np.sqrt(d):.3g} to leave room for points")
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(d)
    u /= np.linalg.norm(u)
    pts = np.zeros((0, d))
    while pts.shape[0] < n:
        Z = rng.uniform(-1, 1, (4 * n, d))
        pts = np.vstack([pts, Z[np.abs(Z @ u) >= margin]])
    X = pts[:n]
    return Dataset(X, np.sign(X @ u))


def sparse_parity(d: int, *, n: int | None = None, seed: int = 0) -> Dataset:
    r"""2-sparse parity: :math:`x` uniform on :math:`\{\pm1/\sqrt d\}^d`, :math:`y = d\,x_1x_2`.

    All :math:`2^d` points when ``n`` is None, else ``n`` i.i.d. draws (seeded by ``seed``);
    the size is keyword-only (the dimension is the one positional argument). Chapter 5.
    The paper's exact variant is unverified; this is the standard one.

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.datasets.sparse_parity(3)
    >>> data.n, data.y[:4]
    (8, array([ 1.,  1., -1., -1.]))
    """
    d = positive_int(d, "d")
    if d < 2:
        raise ValueError(f"`d` must be >= 2 for 2-sparse parity; got {d}")
    if n is None:
        S = 1.0 - 2.0 * ((np.arange(2**d)[:, None] >> np.arange(d - 1, -1, -1)) & 1)
    else:
        S = np.random.default_rng(seed).choice([-1.0, 1.0], size=(positive_int(n, "n"), d))
    return Dataset(S / np.sqrt(d), S[:, 0] * S[:, 1])


def clustered(k: int, d: int, n_per: int, noise: float, seed: int = 0, labels=None) -> Dataset:
    r"""Neural-Collapse-style clusters: :math:`k` orthonormal group means :math:`\mu_g` (rows
    of a seeded random rotation, :math:`k \le d`), ``n_per`` points :math:`\mu_g + \xi` each,
    :math:`\xi \sim \mathcal N(0, \text{noise}^2 I_d/d)` (so :math:`\mathbb E\|\xi\|^2 =
    \text{noise}^2`), labels :math:`+1, -1, +1, \dots` by group unless ``labels`` (shape (k,))
    are given. Points are grouped: rows ``g*n_per`` to ``(g+1)*n_per - 1`` belong to group g.
    """
    k, d, n_per = positive_int(k, "k"), positive_int(d, "d"), positive_int(n_per, "n_per")
    noise = positive_scalar(noise, "noise", allow_zero=True)
    if k > d:
        raise ValueError(f"`k` must be <= d = {d} for orthogonal group means; got {k}")
    lab = np.where(np.arange(k) % 2 == 0, 1.0, -1.0) if labels is None else pm_one_labels(labels, k)
    rng = np.random.default_rng(seed)
    Qm, R = np.linalg.qr(rng.standard_normal((d, d)))
    means = (Qm * np.sign(np.diag(R)))[:, :k].T
    X = np.repeat(means, n_per, axis=0) + noise / np.sqrt(d) * rng.standard_normal((k * n_per, d))
    return Dataset(X, np.repeat(lab, n_per))
