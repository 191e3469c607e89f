"""The gradient-flow field inside a frozen activation pattern, with Filippov sliding (private).

Chapter 1, "Sliding along a face", derives what is computed here.

A pair (j, i) is *on* (S[j, i]), *off*, or *sliding* (held on the face <w_j, x_i> = 0).
For a neuron j with sliding faces K the field is the convex combination of the one-sided
fields that keeps w_j on every face:

    adot_j = sum_{i on} rho_i <w_j, x_i>,   wdot_j = a_j (D_j + sum_{k in K} alpha_k rho_k x_k),

with D_j = sum_{i on} rho_i x_i and alpha solving  sum_l rho_l <x_l, x_k> alpha_l = -<D_j, x_k>.
Equivalently, D_j is replaced by its orthogonal projection Pi_j D_j onto the faces' common
tangent space, and rho_k alpha_k = -(G_K^{-1} X_K D_j)_k with G_K the Gram matrix of the
faces. Pi_j and G_K^{-1} X_K depend on the pattern only, so :meth:`PatternField.set_pattern`
precomputes them (stacked over all sliding neurons) and an evaluation costs a few batched
products whatever the number of faces. The unprojected D is formed transposed,
D^T = (X^T diag(rho)) S^T with S^T kept next to S: the frozen pattern makes its transpose
free, and scaling the d x n inputs is cheaper than scaling the m x n pattern.
"""

from __future__ import annotations

import numpy as np

#: Half-width of the band around a face, relative to ||w_j|| ||x_i||, inside which a
#: pre-activation is not yet counted as having changed sign.
BAND = 1e-10
#: Relative tolerance of the sign tests in the face complementarity problem.
FACE_TOL = 1e-9
#: Relative tolerance of the test for parallel points, |<x_k, x_l>|^2 >= (1 - tol) |x_k|^2 |x_l|^2
#: (as in :func:`reluflow.flow._faces.solve_faces`).
PARALLEL_TOL = 1e-12
#: Largest input dimension for which the sliding projections are stored as d x d matrices.
SMALL_D = 16
#: Largest (sliding neurons x d) for which they are one dense matrix (see ``_dense_maps``).
MAX_DENSE_MAP = 400
#: Largest n d^2 for which the single-face projectors of all points are tabulated.
MAX_PI_TABLE = 1 << 20
#: Largest number of cached multi-face layouts (the cache is cleared when it is full).
MAX_MULTI_CACHE = 4096


class PatternField:
    """Right-hand side of the flow for a frozen (pattern, sliding set).

    After :meth:`set_pattern`, the sliding faces are listed in a fixed order: ``owners[f]``
    is the neuron and ``faces[f]`` the point of face ``f`` (single-face neurons first, in
    the order of ``j1``, then the neurons with several faces); multipliers returned by
    :meth:`__call__` follow that order. Each evaluation leaves ``P = W X^T`` and the
    residual weights ``rho`` of the evaluated state in ``self.P`` and ``self.rho``.
    """

    def __init__(self, X: np.ndarray, data, loss, outer_rate: float = 1.0) -> None:
        self.X, self.data, self.loss = X, data, loss
        self.c = outer_rate  # adot = c sum_i rho_i relu(<w, x_i>)
        self.XT = np.ascontiguousarray(X.T)
        self.gram = X @ X.T
        self.absgram = np.abs(self.gram)
        self.xn2 = np.einsum("ij,ij->i", X, X)
        self.xn = np.sqrt(self.xn2)
        self.n, self.d = X.shape
        self.nfev = 0
        self._rho_of = loss._weighted_residual(data)  # f -> rho
        self.P = self.rho = None
        self._cache: dict = {}
        self._mcache: dict = {}  # the stacked rows of the neurons with several faces, by faces
        # per point: the single-face rows x_k / |x_k|^2 and, for small d, projectors
        with np.errstate(divide="ignore", invalid="ignore"):
            self._B1all = X / self.xn2[:, None]
            small = self.d <= SMALL_D and self.n * self.d * self.d <= MAX_PI_TABLE
            self._Pi1all = np.eye(self.d) - X[:, :, None] * self._B1all[:, None, :] if small else None

    def set_pattern(self, S: np.ndarray, slide: np.ndarray) -> None:
        """Freeze the on-set ``S`` and the sliding set ``slide`` (both (m, n) bool).
        The per-face quantities are recomputed only when ``slide`` changed (always when the
        same array object is passed again, since it may have been modified in place)."""
        self.S = S
        self.Sf = S.astype(float)
        self.SfT = np.ascontiguousarray(self.Sf.T)
        old = getattr(self, "slide", None)
        self.slide = slide
        new = old is None or old is slide or old.shape != slide.shape
        if new or np.logical_or.reduce(old != slide, axis=None):  # (.any() without the wrapper)
            self._faces(slide)

    def set_pair(self, j: int, k: int, on: bool) -> None:
        """Set the pair (j, k) on or off in ``S`` and its float copies, in place."""
        self.S[j, k] = on
        self.Sf[j, k] = self.SfT[k, j] = float(on)

    def refresh_faces(self) -> None:
        """Recompute the per-face quantities after ``slide`` was modified in place (``S``
        is the caller's to keep consistent, with :meth:`set_pair`)."""
        self._faces(self.slide)

    @property
    def multi(self) -> dict:
        """Neurons with several sliding faces: {j: their points}."""
        return {int(j): np.flatnonzero(self.slide[j]) for j in np.flatnonzero(self.slide.sum(axis=1) > 1)}

    def _faces(self, slide: np.ndarray) -> None:
        """Per-face rows for the sliding set: ``B`` (alpha_f = -<B_f, D_owner> / rho_face;
        infinite for dependent faces), ``Bd`` (the projection D_j -= sum_f <Bd_f, D_j> x_f;
        zero for dependent faces, whose D is left alone) and ``Bp`` (the least-squares
        projection of a state onto its faces, w_j -= sum_f <x_f, w_j> Bp_f). For small d,
        also the stacked projectors ``Pi`` of the sliding neurons ``js`` and, for a moderate
        number of them, one block-diagonal matrix for all of them (see :meth:`_dense_maps`)."""
        X, d = self.X, self.d
        small = d <= SMALL_D
        rows, cols = np.nonzero(slide)
        count = np.bincount(rows, minlength=slide.shape[0])
        one = count[rows] == 1
        self.j1, self.k1 = rows[one], cols[one]
        B1 = self._B1all[self.k1]  # (= X[k1] / xn2[k1][:, None], tabulated)
        slot = np.arange(self.j1.size)
        if small:
            if self._Pi1all is not None:
                Pi1 = self._Pi1all[self.k1]
            else:
                x1 = X[self.k1]
                Pi1 = np.eye(d) - x1[:, :, None] * B1[:, None, :]
        self._group = None  # parallel faces: (representative's face index, c_f) per face
        if one.all():
            self.js, self.owners, self.faces = self.j1, self.j1, self.k1
            self.B = self.Bd = self.Bp = B1
            if small:
                self.Pi = self.Pi_proj = Pi1
        else:
            jm, rm, cm, Bm, Bdm, Bpm, slot_m, Pim, Ppm, groups = self._multi_part(rows[~one], cols[~one], count)
            self.js = np.concatenate([self.j1, jm])
            self.owners = np.concatenate([self.j1, rm])
            self.faces = np.concatenate([self.k1, cm])
            self.B = np.concatenate([B1, Bm])
            self.Bd = np.concatenate([B1, Bdm])
            self.Bp = np.concatenate([B1, Bpm])
            slot = np.concatenate([slot, self.j1.size + slot_m])
            if groups is not None:
                n1 = self.j1.size
                gi = np.concatenate([np.arange(n1), n1 + groups[0]])
                gc = np.concatenate([np.ones(n1), groups[1]])
                self._group = (gi, gc, np.abs(gc), np.minimum(gc, 0.0), gc < 0)
            if small:
                self.Pi = np.concatenate([Pi1, Pim])
                self.Pi_proj = np.concatenate([Pi1, Ppm])
        self.nfaces = self.faces.size
        self.Xf = X[self.faces]
        self._T = None
        if not (small and self.nfaces):
            self.Pi = self.Pi_proj = None
        elif self.js.size * d <= MAX_DENSE_MAP:
            self._dense_maps(slot)

    def _multi_part(self, rm: np.ndarray, cm: np.ndarray, count: np.ndarray):
        """The neurons with several faces (``rm``, ``cm``: their faces' neurons and points,
        in order): (jm, rm, cm, B, Bd, Bp rows, slot offsets, Pi, Pi_proj stacks); cached."""
        key = rm.tobytes() + cm.tobytes()
        part = self._mcache.get(key)
        if part is None:
            jm = np.flatnonzero(count > 1)
            entries = [self._multi_entry(K) for K in np.split(cm, np.cumsum(count[jm])[:-1])]
            small = self.d <= SMALL_D
            start = np.concatenate([[0], np.cumsum(count[jm])[:-1]])
            grouped = any(np.any(e[5] != np.arange(e[5].size)) for e in entries)
            part = (
                jm,
                rm,
                cm,
                np.concatenate([e[0] for e in entries]),
                np.concatenate([e[1] for e in entries]),
                np.concatenate([e[2] for e in entries]),
                np.repeat(np.arange(jm.size), count[jm]),
                np.stack([e[3] for e in entries]) if small else None,
                np.stack([e[4] for e in entries]) if small else None,
                # (parallel groups: representative's position among the multi faces, c_k)
                (np.concatenate([o + e[5] for o, e in zip(start.tolist(), entries, strict=True)]),
                 np.concatenate([e[6] for e in entries])) if grouped else None,
            )
            if len(self._mcache) >= MAX_MULTI_CACHE:
                self._mcache.clear()
            self._mcache[key] = part
        return part

    def _dense_maps(self, slot: np.ndarray) -> None:
        """One block-diagonal matrix maps the stacked D_j (j in ``js``) to the projected D_j
        followed by -rho_f alpha_f: a single matrix-vector product per evaluation instead of
        gathers and batched products."""
        ns, d, nf = self.js.size, self.d, self.nfaces
        T = np.zeros((ns * d + nf, ns * d))
        ar = np.arange(ns)
        T[: ns * d].reshape(ns, d, ns, d)[ar, :, ar, :] = self.Pi
        T[ns * d :].reshape(nf, ns, d)[np.arange(nf), slot] = self.B
        self._T, self._Tp = T, T[: ns * d]
        m = self.S.shape[0]
        self._flat = (self.js[:, None] + m * np.arange(d)).ravel()  # D[js] in D^T.ravel()

    def project(self, W: np.ndarray) -> None:
        """Project the rows of the sliding neurons of W (m, d) onto their faces, in place."""
        if not self.nfaces:
            return
        js = self.js
        if self.Pi_proj is not None:
            W[js] = np.matmul(self.Pi_proj, W[js][:, :, None])[:, :, 0]
        else:
            gamma = np.einsum("fd,fd->f", self.Xf, W[self.owners])
            np.subtract.at(W, self.owners, gamma[:, None] * self.Bp)

    def project_onto(self, K: np.ndarray, w: np.ndarray) -> np.ndarray:
        """w projected (least squares) onto the faces <w, x_k> = 0 of the points K."""
        XK = self.X[K]
        Bp = XK / self.xn2[K][:, None] if K.size == 1 else self._multi_entry(K)[2]
        return w - (XK @ w) @ Bp

    def _multi_entry(self, K: np.ndarray):
        """(B, Bd, Bp) rows of a neuron sliding on the faces of the points K, for small d
        its projectors (Pi for D, Pi_proj for the state), and its parallel groups (the
        position in K of each face's representative, and c_k with x_k = c_k x_rep); cached.

        Parallel points (repeated or antipodal, x_k = c_k x_r) share one face and one
        multiplier, as in :func:`reluflow.flow._faces.solve_faces`: the rows of the
        group's first point r (the representative) are used for all its faces in B, and
        only the representatives enter the projections (Bd, Bp rows of the others are zero)."""
        key = K.tobytes()
        entry = self._cache.get(key)
        if entry is None:
            XK = self.X[K]
            G = self.gram[np.ix_(K, K)]
            diag = np.diag(G)
            par = G * G >= (1.0 - PARALLEL_TOL) * np.outer(diag, diag)
            rep = np.argmax(par, axis=1)  # the first point parallel to each (itself if none before)
            coef = G[np.arange(K.size), rep] / diag[rep]
            reps = np.flatnonzero(rep == np.arange(K.size))
            Bp = np.zeros(XK.shape)
            try:
                BR = np.linalg.solve(G[np.ix_(reps, reps)], XK[reps])
                Bp[reps] = BR
                Ba = BR[np.searchsorted(reps, rep)]
                Bd = Bp
            except np.linalg.LinAlgError:  # dependent faces: no multipliers, D left alone
                Ba, Bd, Bp = np.full(XK.shape, np.inf), np.zeros(XK.shape), np.linalg.pinv(XK).T
                rep, coef = np.arange(K.size), np.ones(K.size)
            Pi = Pp = None
            if self.d <= SMALL_D:
                eye = np.eye(self.d)
                Pi, Pp = eye - XK.T @ Bd, eye - Bp.T @ XK
            entry = self._cache[key] = (Ba, Bd, Bp, Pi, Pp, rep, coef)
        return entry

    def residuals(self, a: np.ndarray, W: np.ndarray, P: np.ndarray | None = None) -> np.ndarray:
        """Residual weights for the frozen-pattern outputs (``P = W X^T`` if already known)."""
        f = np.dot(a, self.Sf * (np.dot(W, self.XT) if P is None else P))
        # (as in __call__: no np.errstate here, the solver silences warnings for the run)
        return self._rho_of(f)

    def __call__(
        self, y: np.ndarray, m: int, need_alpha: bool = True, out: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Evaluate the field at the flat state ``y``; return (ydot, alpha) where alpha
        holds the sliding multipliers in face order (None unless ``need_alpha``). ``out``
        (shape of ``y``) receives ydot if given."""
        self.nfev += 1
        a, W = y[:m], y[m:].reshape(m, self.d)
        # (np.dot rather than @: the same BLAS products with less call overhead)
        self.P = P = np.dot(W, self.XT)
        SP = self.Sf * P
        self.rho = rho = self._rho_of(np.dot(a, SP))
        if out is None:
            out = np.empty(y.size)
        np.dot(SP, rho, out=out[:m])
        if self.c != 1.0:
            out[:m] *= self.c
        # D^T = (X^T diag(rho)) S^T, shape (d, m): scaling the d x n inputs instead of the
        # m x n pattern, and a product BLAS does faster than (S diag(rho)) X
        DT = np.dot(self.XT * rho, self.SfT)
        if not self.nfaces:
            alpha = np.zeros(0) if need_alpha else None
        elif self._T is not None:
            flat = self._flat  # (flat gather / scatter in D^T: cheaper than D[js] on rows)
            if need_alpha:
                v = np.dot(self._T, DT.take(flat))
                alpha = self._multipliers(-v[flat.size :], rho)
                DT.put(flat, v[: flat.size])
            else:
                alpha = None
                DT.put(flat, np.dot(self._Tp, DT.take(flat)))
        elif need_alpha:
            alpha = self._alpha(DT.T, rho)
        else:
            alpha = None
            self._project_D(DT.T)
        np.multiply(DT, a, out=out[m:].reshape(m, self.d).T)
        return out, alpha

    def _alpha(self, D: np.ndarray, rho: np.ndarray) -> np.ndarray:
        """Multipliers of the sliding faces (face order); projects D in place."""
        if not self.nfaces:
            return np.zeros(0)
        # (a zero residual gives an infinite multiplier, flagged as an event by the solver)
        alpha = self._multipliers(-np.einsum("fd,fd->f", self.B, D[self.owners]), rho)
        self._project_D(D)
        return alpha

    def _multipliers(self, num: np.ndarray, rho: np.ndarray) -> np.ndarray:
        """Face multipliers from num_f = -<B_f, D_owner> (face order). A face alone:
        alpha_f = num_f / rho_f. A group of parallel faces (x_f = c_f x_r) has one
        multiplier alpha for the combination sum_f alpha_f rho_f x_f with alpha_f = alpha
        (c_f > 0) or 1 - alpha (c_f < 0): rho_r' alpha = num_r - sum_{c_f < 0} rho_f c_f
        with rho_r' = sum_f rho_f |c_f|."""
        r = rho[self.faces]
        if self._group is None:
            return num / r
        gi, gc, gabs, gneg, neg = self._group
        nf = self.nfaces
        rho_g = np.bincount(gi, r * gabs, minlength=nf)[gi]
        shift = np.bincount(gi, r * gneg, minlength=nf)[gi]
        alpha = (num[gi] - shift) / rho_g
        alpha[neg] = 1.0 - alpha[neg]
        return alpha

    def _project_D(self, D: np.ndarray) -> None:
        """D_j <- Pi_j D_j for the sliding neurons, in place."""
        if self.Pi is not None:
            js = self.js
            D[js] = np.matmul(self.Pi, D[js][:, :, None])[:, :, 0]
        else:
            beta = np.einsum("fd,fd->f", self.Bd, D[self.owners])
            np.subtract.at(D, self.owners, beta[:, None] * self.Xf)

