r"""The KKT points of the NCF on the unit sphere: the critical directions of the correlation
:math:`G_\rho` (book chapter 2, sections "KKT points" and "Kinks")."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from math import comb
from typing import NamedTuple

import numpy as np
from scipy.optimize import nnls

from .._validation import positive_scalar
from ..data import Correlation

__all__ = ["MAX_CANDIDATES", "TOL", "CriticalDirection", "NCFMax", "kkt_directions", "max_ncf"]

#: Relative tolerance: faces are abs(<v, x_i>) <= TOL * norm(x_i); values, residuals and
#: slopes below TOL * sum_i abs(rho_i) * norm(x_i) count as zero.
TOL = 1e-9
#: Largest number of (face set, activation set) candidates :func:`kkt_directions` examines.
MAX_CANDIDATES = 2**22
_CHUNK = 2**15  # rows of the 0/1 subset matrix handled at once (bounds the memory)


@dataclass(frozen=True, eq=False)
class CriticalDirection:
    r"""A critical direction of :math:`G` on the sphere, :math:`G(v)\,v \in \partial G(v)`.

    Attributes
    ----------
    v, value : ndarray, shape (d,), and float
        Unit direction and :math:`G(v) \ne 0`; a balanced neuron along v with
        :math:`\mathrm{sign}(a) = \mathrm{sign}\,G(v)` grows at rate :math:`|G(v)|`.
    active, faces : frozenset of int
        Points with :math:`\langle v, x_i\rangle > 0`; nonzero points with
        :math:`\langle v, x_i\rangle = 0` (both up to ``tol``).
    kind, extremum : str
        "smooth" or "kink" (is :math:`G` differentiable at v?); "max", "min" or "saddle".
    beta : ndarray, shape (n,)
        KKT certificate: 1 on active points, 0 on inactive ones, in :math:`[0, 1]` on faces,
        with :math:`\sum_i \beta_i\rho_i x_i = G(v)\,v`.
    """

    v: np.ndarray
    value: float
    active: frozenset
    faces: frozenset
    kind: str
    extremum: str
    beta: np.ndarray

    @property
    def angle(self) -> float:
        """Polar angle of ``v`` in [0, 2 pi) (d = 2 only)."""
        if self.v.shape[0] != 2:
            raise ValueError(f"`angle` needs d = 2; this direction has d = {self.v.shape[0]}")
        return float(np.arctan2(self.v[1], self.v[0]) % (2 * np.pi))

    def __repr__(self) -> str:
        v = np.array2string(self.v, precision=4, separator=", ")
        return f"CriticalDirection(value={self.value:.6g}, {self.kind}, {self.extremum}, v={v}, active={sorted(self.active)}, faces={sorted(self.faces)})"


class _Problem(NamedTuple):
    X: np.ndarray  # the data and weights as given
    rho: np.ndarray
    U: np.ndarray  # unit directions of the points with x_i != 0 and rho_i != 0
    r: np.ndarray  # their weights rho_i ||x_i||
    scale: float  # sum_i |rho_i| ||x_i||, the Lipschitz constant of G
    tol: float


def _check_correlation(G) -> Correlation:
    if not isinstance(G, Correlation):
        raise TypeError(
            f"`G` must be a rf.Correlation (the data with signed weights: `data.weighted(rho)`); "
            f"got {type(G).__name__}"
        )
    return G


def _problem(G: Correlation, tol: float, include_kinks: bool, limit: int) -> _Problem:
    X, rho = _check_correlation(G).X, G.rho
    tol, norms = positive_scalar(tol, "tol"), np.linalg.norm(X, axis=1)
    if not np.any(norms > 0):
        raise ValueError("`X` is all zero: G vanishes identically and every direction is critical")
    keep = (norms > 0) & (rho != 0)
    if not np.any(keep):
        raise ValueError("`rho` is zero on every nonzero row of `X`: G vanishes identically")
    n, d = int(keep.sum()), X.shape[1]  # a vertex (k = d - 1 faces) fixes v up to sign
    ks = range(min(d - 1, n) + 1 if include_kinks else 1)
    count = sum(comb(n, k) * (2 if k == d - 1 else 2 ** (n - k)) for k in ks)
    if count > limit:
        raise ValueError(
            f"kkt_directions would examine {count:.3g} candidates for n = {n} points (nonzero x_i, rho_i) in "
            f"d = {d}; the limit is max_candidates = {limit}. Use fewer points (merge or sub-sample them), "
            "include_kinks=False, or evaluate G on a grid (call it: G(V))."
        )
    r = rho[keep] * norms[keep]
    return _Problem(X, rho, X[keep] / norms[keep, None], r, float(np.sum(np.abs(r))), tol)


def _face_sets(pb: _Problem, include_kinks: bool):
    """(Z, N): the points in the span of <= d - 1 independent ones, an orthonormal basis of its complement."""
    n, d = pb.U.shape
    seen: set[frozenset] = set()
    for k in range(min(d - 1, n) + 1 if include_kinks else 1):
        for B in itertools.combinations(range(n), k):
            _, s, Vt = np.linalg.svd(pb.U[list(B)] if k else np.zeros((1, d)))
            Z = np.flatnonzero(np.linalg.norm(pb.U @ Vt[k:].T, axis=1) <= pb.tol) if k else np.zeros(0, int)
            if (k and s[-1] <= pb.tol) or frozenset(Z) in seen:
                continue  # dependent points, or a face set seen before
            seen.add(frozenset(Z))
            yield Z, Vt[k:]


def _consistent(pb: _Problem, R: np.ndarray, V: np.ndarray, M: np.ndarray | None = None):
    """(S, v) for the rows v of V off the faces of the points R (and active on M if given)."""
    A = V @ pb.U[R].T
    good = np.all(np.abs(A) > pb.tol, axis=1) & (True if M is None else np.all((A > 0) == M, axis=1))
    for row in np.flatnonzero(good):
        S = np.zeros(pb.U.shape[0], bool)
        S[R[A[row] > 0]] = True
        yield S, V[row]


def _candidates(pb: _Problem, Z: np.ndarray, N: np.ndarray):
    r"""(S, v): :math:`v = \pm P D_S/\|P D_S\|` (at a vertex, the normal) with active set S, faces Z."""
    R = np.setdiff1d(np.arange(pb.U.shape[0]), Z)
    if N.shape[0] == 1:
        yield from _consistent(pb, R, np.vstack([N, -N]))
        return
    for start in range(0, 2**R.size, _CHUNK):
        rows = np.arange(start, min(start + _CHUNK, 2**R.size))
        M = ((rows[:, None] >> np.arange(R.size)) & 1).astype(bool)
        C = (M @ (pb.r[R, None] * pb.U[R])) @ N.T  # P D_S in the basis N
        norm = np.linalg.norm(C, axis=1)
        ok = norm > pb.tol * pb.scale
        V = (C[ok] / norm[ok, None]) @ N
        for sign in (1.0, -1.0):
            yield from _consistent(pb, R, sign * V, M[ok])


def _cells(Uz: np.ndarray, tol: float) -> np.ndarray:
    """0/1 patterns of the open cells cut near v by the hyperplanes u_i^perp (rows of Uz):
    all 2^q for independent u_i, else exact if they span <= 2 dimensions, sampled above."""
    _, s, Vt = np.linalg.svd(Uz)
    k = int(np.sum(s > tol))
    if k == Uz.shape[0]:
        return np.array(list(itertools.product((False, True), repeat=k)))
    C = Uz @ Vt[:k].T
    if k == 1:
        H = np.array([[1.0], [-1.0]])
    elif k == 2:  # one direction inside each sector between consecutive lines
        ang = np.arctan2(C[:, 1], C[:, 0])
        b = np.sort(np.mod(np.concatenate([ang + np.pi / 2, ang - np.pi / 2]), 2 * np.pi))
        mid = (b + np.append(b[1:], b[0] + 2 * np.pi)) / 2
        H = np.column_stack([np.cos(mid), np.sin(mid)])
    else:
        H = np.random.default_rng(0).standard_normal((4096, k))
    A = H @ C.T
    return np.unique(A[np.min(np.abs(A), axis=1) > tol * np.linalg.norm(H, axis=1)] > 0, axis=0)


def _face_weights(pb: _Problem, S, Z, N, pats: np.ndarray) -> np.ndarray | None:
    r""":math:`\beta \in [0,1]^Z` with :math:`(I - P)D_S + \sum_Z \beta_i\rho_i x_i = 0` in the
    Clarke subdifferential (the hull over the cell patterns ``pats``), or None."""
    A, DS = (pb.r[Z, None] * pb.U[Z]).T, pb.r[S] @ pb.U[S]
    b = (DS @ N.T) @ N - DS
    if Z.size == pb.U.shape[1] - N.shape[0]:  # independent faces: a box, beta is unique
        beta = np.clip(np.linalg.lstsq(A, b, rcond=None)[0], 0.0, 1.0)
    else:
        lam = nnls(np.vstack([A @ pats.T, np.full(len(pats), pb.scale)]), np.append(b, pb.scale))[0]
        beta = pats.T @ (lam / lam.sum()) if lam.sum() > 0 else np.zeros(Z.size)
    return beta if np.linalg.norm(A @ beta - b) <= pb.tol * pb.scale else None


def _extremum(pb: _Problem, S, Z, v: np.ndarray, value: float, grads: np.ndarray) -> str:
    r"""Type from :math:`G(\cos t\,v + \sin t\,h) = \cos t\,G(v) + \sin t\,\phi(h)` (small t,
    unit tangent h), :math:`\phi(h) = \langle h, D_S\rangle + \sum_Z \rho_i\sigma(\langle h,
    x_i\rangle)`, whose extremes (d <= 3) lie on the probed face and gradient directions."""
    d, DS = v.shape[0], pb.r[S] @ pb.U[S]
    if d == 1:
        return "max" if value > 0 else "min"
    T = np.linalg.svd(v[None, :])[2][1:]  # orthonormal basis of the tangent space
    H = [np.eye(d - 1), (DS + grads) @ T.T]
    if d == 3:
        ring, c = np.linspace(0, 2 * np.pi, 72, endpoint=False), pb.U[Z] @ T.T
        H += [np.column_stack([np.cos(ring), np.sin(ring)]), np.column_stack([-c[:, 1], c[:, 0]])]
    elif d > 3:
        H.append(np.random.default_rng(0).standard_normal((512, d - 1)))
    H = np.vstack(H + [-h for h in H])
    norm = np.linalg.norm(H, axis=1)
    H = (H[norm > 0] / norm[norm > 0, None]) @ T
    phi, tau = H @ DS + np.maximum(H @ pb.U[Z].T, 0.0) @ pb.r[Z], pb.tol * pb.scale
    flat = np.abs(phi) <= tau  # no first-order change: -G(v) t^2/2 decides
    up, down = (phi > tau) | (flat & (value < 0)), (phi < -tau) | (flat & (value > 0))
    return "max" if not up.any() else "min" if not down.any() else "saddle"


def _critical(pb: _Problem, S, Z, N, v) -> CriticalDirection | None:
    value = float(pb.r[S] @ (pb.U[S] @ v))
    if abs(value) <= pb.tol * pb.scale:
        return None  # G(v) = 0 at this tolerance: not listed
    pats = _cells(pb.U[Z], pb.tol).astype(float) if Z.size else np.zeros((1, 0))
    beta_z = _face_weights(pb, S, Z, N, pats) if Z.size else np.zeros(0)
    if beta_z is None:
        return None
    norms, proj = np.linalg.norm(pb.X, axis=1), pb.X @ v
    idx = np.flatnonzero((norms > 0) & (pb.rho != 0))  # rows of pb.U in the caller's numbering
    inert = ~np.isin(np.arange(len(pb.rho)), idx)
    active, faces = inert & (proj > pb.tol * norms), inert & (np.abs(proj) <= pb.tol * norms) & (norms > 0)
    active[idx[S]], faces[idx[Z]] = True, True
    beta = active.astype(float)
    beta[idx[Z]] = beta_z
    v = v + 0.0  # a copy, without negative zeros
    v.setflags(write=False)
    beta.setflags(write=False)
    grads = pats @ (pb.r[Z, None] * pb.U[Z])  # the gradients of the cells around v, minus D_S
    kind = "kink" if np.max(np.ptp(grads, axis=0)) > pb.tol * pb.scale else "smooth"
    sets = (frozenset(np.flatnonzero(active).tolist()), frozenset(np.flatnonzero(faces).tolist()))
    return CriticalDirection(v, value, *sets, kind, _extremum(pb, S, Z, v, value, grads), beta)


def kkt_directions(
    G: Correlation, *, include_kinks: bool = True, tol: float = TOL, max_candidates: int = MAX_CANDIDATES
) -> list[CriticalDirection]:
    r"""The critical directions of :math:`G` on the unit sphere with :math:`G(v) \ne 0`, sorted
    by :math:`|G(v)|` descending (positive first on ties).

    A unit v is critical (Clarke) when :math:`G(v)\,v \in \partial G(v)`. With S its strict
    active set, Z its face set (:math:`\langle v, x_i\rangle = 0`), :math:`D_S = \sum_{i\in
    S}\rho_i x_i` and P the projector onto :math:`\mathrm{span}\{x_i\}_{i\in Z}^\perp`,

    .. math:: v = \pm\frac{P D_S}{\|P D_S\|},\quad G(v) = \pm\|P D_S\|,\qquad
              (I - P)D_S + \sum_{i\in Z}\beta_i\rho_i x_i = 0,\ \beta\in[0,1]^Z ;

    Z = {}: smooth points (+: maximum, -: minimum), else kinks. All face sets spanned by
    <= d - 1 independent points and all activation sets outside them are tried.

    Parameters
    ----------
    G : Correlation
        The points with signed weights, ``data.weighted(rho)`` (e.g. :math:`\rho^0_i`, the
        residual weights at the origin); zero points and zero weights are inert.
    include_kinks : bool
        Also return kink critical points (default).
    tol, max_candidates : float, int
        Relative tolerance (:data:`TOL`); raise ``ValueError`` rather than examine more
        candidates (about :math:`2^n n^{d-2}`), as for non-finite or all-zero input.

    Notes
    -----
    See the book, chapter 2, sections "KKT points" and "Kinks". :math:`\partial G(v)` is
    :math:`D_S` plus the hull of the gradients of the cells around v (the box above for
    independent face points); the type comes from the exact expansion of :math:`G` at v.
    Exact for d <= 3; for d >= 4 the cells at >= 3 dependent face points and the type are
    sampled. Points with :math:`G(v) = 0` (up to ``tol``; often whole regions) are not listed.

    Examples
    --------
    >>> import numpy as np, reluflow as rf
    >>> data = rf.Dataset([[1.0, 0.0], [np.cos(1.0), np.sin(1.0)]], [1.0, -1.0])
    >>> for c in rf.ncf.kkt_directions(data.weighted([0.75, -0.25])):
    ...     print(f"{c.value:+.4f} {c.kind:6} {c.extremum:6} {c.angle:.4f}")
    +0.6499 smooth max    5.9536
    -0.2104 kink   min    1.5708
    """
    pb = _problem(G, tol, include_kinks, max_candidates)
    # each face set is visited once and v fixes (S, Z): no direction is found twice
    found = [
        _critical(pb, S, Z, N, v) for Z, N in _face_sets(pb, include_kinks) for S, v in _candidates(pb, Z, N)
    ]
    return sorted((c for c in found if c is not None), key=lambda c: (-abs(c.value), -c.value))


@dataclass(frozen=True, eq=False)
class NCFMax:
    r"""Result of :func:`max_ncf`.

    Attributes
    ----------
    value : float
        The maximum of the NCF on the unit sphere, :math:`g^\star/2`.
    direction : ndarray, shape (d,)
        A unit maximiser :math:`v` of :math:`|G_\rho|`.
    g_star : float
        :math:`g^\star = \max_{\|v\| = 1}|G_\rho(v)|`.
    """

    value: float
    direction: np.ndarray
    g_star: float


def max_ncf(G: Correlation, *, tol: float = TOL) -> NCFMax:
    r"""The maximum of the NCF on the unit sphere (book chapter 2, section "KKT points"),

    .. math:: \max_{\|\theta\| = 1}\mathcal N(\theta) = \tfrac12\max_{\|v\| = 1}|G_\rho(v)|
              = \tfrac12 g^\star,

    attained by one balanced neuron (:math:`|a| = \|w\| = 1/\sqrt2`) with :math:`w` along the
    returned direction v and :math:`\mathrm{sign}(a) = \mathrm{sign}\,G_\rho(v)`; on ties v
    with :math:`G_\rho(v) > 0` comes first. Raises ``ValueError`` as :func:`kkt_directions`
    does, or if :math:`G_\rho` vanishes identically.

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [1.0, 1.0])
    >>> res = rf.ncf.max_ncf(data.weighted([1.0, 1.0]))
    >>> round(res.value, 6), round(res.g_star, 6), res.direction.round(6)
    (0.707107, 1.414214, array([0.707107, 0.707107]))
    """
    crit = kkt_directions(G, tol=tol)
    if not crit:
        raise ValueError("G vanishes identically on the sphere: the NCF has no positive maximum")
    return NCFMax(abs(crit[0].value) / 2, crit[0].v, abs(crit[0].value))
