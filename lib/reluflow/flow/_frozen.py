r"""The frozen-residual propagation of the exponential method (private).

:mod:`reluflow.flow._exponential` explains the method; this module holds its propagation
Phi(rho, h, y): with the residual weights rho frozen, each neuron follows the closed form of
its linear flow, activation events are roots of quadratics in expm1(delta t) / delta, and
Filippov sliding is the same flow with D_j projected off the neuron's faces, so events and
sliding cost no gradient evaluation.

Event rounds. The neurons are independent while rho is frozen, so the compiled kernels
carry every neuron on its own through its events to the end of the step:
:func:`reluflow.flow._kernels.bulk` moves the neurons without events (skipping the points of
those whose distance to their nearest face, kept per neuron in ``gap``, outlasts the step),
and :func:`reluflow.flow._kernels.propagate` the others, solving their face problems (any
number of faces) with the compiled port of :func:`reluflow.flow._faces.solve_faces`. With
``_Engine.compiled_faces = False`` (the reference, for the tests) a neuron that meets two
or more faces pauses instead, its face problem is solved here in Python, and the paused
neurons resume in the next round; a full event log also pauses a neuron.

A pair inside the band ``BAND`` (relative to |w_j| |x_i|) is re-examined by the face
problem, and a switched pair must leave it to switch back. A pair that crosses its band a
second time within one propagation is decided by the signs of its rates, without the face
problem's tie tolerance; more than ``MAX_EVENTS_PER_PAIR`` events per point of one neuron
within one propagation are reported as chattering.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..data import Dataset
from ._faces import solve_faces
from ._field import BAND, FACE_TOL

#: Crossings of one neuron within this fraction of the step are handled together.
GROUP_WINDOW = 1e-9
#: Events of one neuron without progress in time (within one propagation) that count as a stall.
MAX_STALL = 200
#: Events of one neuron per data point within one propagation beyond which it counts as chattering.
MAX_EVENTS_PER_PAIR = 50
#: Releases from sliding predicted within this fraction of a step's ends are not cut for.
RELEASE_MIN = 0.01
#: Rows of the kernel's event log per neuron (at least 4096); a full log only pauses a neuron.
LOG_ROWS = 4


class _Stall(Exception):
    pass


@dataclass
class _Result:
    """Outcome of one frozen-residual propagation."""

    a: np.ndarray
    W: np.ndarray
    S: np.ndarray
    slide: np.ndarray
    nslide: np.ndarray  # sliding faces per neuron
    face1: np.ndarray  # the sliding face of neurons with exactly one (else -1)
    Dst: np.ndarray  # effective D_j of each neuron at the start (m, d)
    alpha1: np.ndarray  # start multiplier of a single sliding face (NaN without one)
    gap: np.ndarray  # per neuron, a lower bound on its distance to its nearest band edge (0: unknown)
    changes: list = field(default_factory=list)  # arrays (local time, j, i, old code, new code)
    nevents: int = 0  # per-neuron event handlings (a neuron's simultaneous crossings count once)
    nresync: int = 0  # pairs found on the wrong side of their band at the start (not expected)
    _rows: np.ndarray | None = None  # (change_rows, once computed)

    def change_rows(self) -> np.ndarray:
        """The changes as one (k, 5) array, in time order (computed once)."""
        if self._rows is None:
            if not self.changes:
                self._rows = np.zeros((0, 5))
            else:
                rows = np.concatenate(self.changes)
                self._rows = rows[np.argsort(rows[:, 0], kind="stable")]
        return self._rows


class _Engine:
    """Frozen-residual propagation Φ(ρ, h, y) with exact events and sliding."""

    #: Face problems of two or more faces solved in the compiled kernel (the port of
    #: :mod:`reluflow.flow._faces`); False pauses those neurons for the Python reference.
    compiled_faces = True

    def __init__(self, data: Dataset, loss, outer_rate: float = 1.0) -> None:
        from . import _kernels  # (lazy: numba is imported only when this method runs)

        self.kernels = _kernels
        self.data, self.loss = data, loss
        self.c = float(outer_rate)
        self.sqrt_c = float(np.sqrt(outer_rate))
        self.X = np.ascontiguousarray(data.X, dtype=float)
        self.XT = np.ascontiguousarray(self.X.T)
        self.gram = self.X @ self.X.T
        self.absgram = np.abs(self.gram)
        self.xn2 = np.einsum("ij,ij->i", self.X, self.X)
        self.xn = np.sqrt(self.xn2)
        self.n, self.d = self.X.shape
        self.nfev = 0
        self._rho_of = loss._weighted_residual(data)
        self._log = None

    # ---------------------------------------------------------------- residuals
    def rho(self, a, W, S):
        """One evaluation: outputs of the frozen-pattern network and their residual weights."""
        self.nfev += 1
        f = self.kernels.outputs(a, W, S, self.XT)
        with np.errstate(over="ignore", invalid="ignore"):
            return self._rho_of(f)

    # ---------------------------------------------------------------- faces
    def _gram_solve(self, mask, B):
        """For each row e with faces K_e = mask[e] (|K_e| >= 1), solve G_KK c = B[e, K_e]
        (B is (k, n)); returns C (k, n), zero off K_e. Vectorized over the rows with the same
        number of faces; several faces through the pseudo-inverse (dependent faces included:
        the least-squares solution of least norm). Compiled (Cholesky for independent faces)
        unless ``compiled_faces`` is False."""
        if self.compiled_faces:
            return self.kernels.gram_solve(np.ascontiguousarray(mask), np.ascontiguousarray(B, dtype=float),
                                           self.gram, self.xn2)  # fmt: skip
        C = np.zeros(B.shape)
        cnt = mask.sum(axis=1)
        one = np.flatnonzero(cnt == 1)
        if one.size:
            k = np.argmax(mask[one], axis=1)
            C[one, k] = B[one, k] / self.xn2[k]
        for k in np.unique(cnt[cnt > 1]):  # batched over the rows with k faces
            E = np.flatnonzero(cnt == k)
            K = np.nonzero(mask[E])[1].reshape(E.size, k)
            GK = self.gram[K[:, :, None], K[:, None, :]]
            # (pseudo-inverse: repeated or antipodal faces slide together and are dependent)
            C[E[:, None], K] = np.einsum("eij,ej->ei", np.linalg.pinv(GK), B[E[:, None], K])
        return C

    def _project_out(self, V, mask):
        """Rows of V minus their projections onto span{x_i : mask[e, i]} (rows with no
        face unchanged)."""
        rows = np.flatnonzero(mask.any(axis=1))
        if rows.size:
            V = V.copy()
            V[rows] -= self._gram_solve(mask[rows], V[rows] @ self.XT) @ self.X
        return V

    def _deff(self, J, S, slide, rho):
        """Effective D_j of neurons J: on-set sum, projected off the sliding faces."""
        return self._project_out((S[J] * rho) @ self.X, slide[J])

    def _alphas(self, J, S, slide, rho):
        """Sliding multipliers of neurons J (each with >= 1 sliding face) under the residuals
        ``rho``: (row in J, alpha) per sliding face, in row-major order; non-finite if singular.
        They solve sum_l rho_l <x_l, x_k> alpha_l = -<D_j, x_k> over the faces k."""
        sl = slide[J]
        C = self._gram_solve(sl, -(((S[J] * rho) @ self.X) @ self.XT))
        rows, cols = np.nonzero(sl)
        with np.errstate(divide="ignore", invalid="ignore"):
            return rows, C[rows, cols] / rho[cols]

    def _alpha_ok(self, J, S, slide, rho):
        """Whether all sliding multipliers of each neuron of J lie in [0, 1] under ``rho``."""
        rows, al = self._alphas(J, S, slide, rho)
        bad = np.zeros(J.size, bool)
        np.logical_or.at(bad, rows, ~((al >= 0) & (al <= 1)))
        return ~bad

    def release_times(self, S, slide, rho0, rho_half, h, alpha0=None, alpha_half=None, nslide=None) -> np.ndarray:
        """Per neuron, the earliest time in [RELEASE_MIN h, (1 - RELEASE_MIN) h) at which one
        of its sliding multipliers leaves [0, 1], with each multiplier interpolated linearly
        between its values under ``rho0`` (time 0) and ``rho_half`` (time h/2); inf if none.
        Earlier releases are left to the start of the step. ``alpha0``, ``alpha_half``: the
        multipliers of single sliding faces under the two residuals, per neuron (NaN
        without one), as :meth:`propagate` returns them, and ``nslide`` the sliding faces
        per neuron; computed here if None."""
        m = S.shape[0]
        out = np.full(m, np.inf)
        if alpha0 is None:
            J = np.flatnonzero(slide.any(axis=1))
            if not J.size:
                return out
            rows, a0 = self._alphas(J, S, slide, rho0)
            _, am = self._alphas(J, S, slide, rho_half)
            owner = J[rows]
        else:
            owner = np.flatnonzero(~np.isnan(alpha0))
            a0, am = alpha0[owner], alpha_half[owner]
            multi = np.flatnonzero(nslide >= 2)
            if multi.size:
                rows, b0 = self._alphas(multi, S, slide, rho0)
                _, bm = self._alphas(multi, S, slide, rho_half)
                owner = np.concatenate([owner, multi[rows]])
                a0, am = np.concatenate([a0, b0]), np.concatenate([am, bm])
            elif not owner.size:  # (no sliding neuron)
                return out
        return self.kernels.release_min(owner, np.asarray(a0, float), np.asarray(am, float), h, RELEASE_MIN, out)

    def _faces(self, rows, a, W, S, slide, rho, absr, elapsed, cand, changes, nslide, face1, Dext) -> None:
        """The face problems of the paused neurons ``rows`` (their candidate faces in
        ``cand``; 2 marks a pair that crossed again in this propagation, whose neuron's
        problem is then solved by the signs alone, without the tie tolerance); in place."""
        X, gram, d = self.X, self.gram, self.d
        log = []
        for j in rows.tolist():
            K = np.flatnonzero(cand[j])
            exact = bool((cand[j, K] == 2).any())
            cand[j] = 0
            XK = X[K]
            w = W[j]
            w -= np.linalg.lstsq(XK.T, w, rcond=None)[0] @ XK  # snap onto the faces
            if K.size >= d and np.linalg.matrix_rank(XK) == d:
                w[:] = 0.0  # the faces meet only at w = 0: keep it exactly there
            on = S[j].copy()
            on[K] = False
            q = XK @ ((on * rho) @ X)
            tol = np.zeros(K.size) if exact else FACE_TOL * absr[K]
            _, codes = solve_faces(q, gram[np.ix_(K, K)], rho[K], 1.0 if a[j] >= 0 else -1.0, tol)
            old = np.where(slide[j, K], 2, S[j, K].astype(int))
            ch = np.flatnonzero(old != codes)
            if ch.size:
                log.append(np.column_stack([np.full(ch.size, elapsed[j]), np.full(ch.size, j), K[ch], old[ch], codes[ch]]))
            S[j, K] = codes == 1
            slide[j, K] = codes == 2
            nslide[j] = int(slide[j].sum())
            face1[j] = int(np.argmax(slide[j])) if nslide[j] == 1 else -1
            if nslide[j] >= 2:
                Dext[j] = self._deff(np.array([j]), S, slide, rho)[0]
        if log:
            changes.append(np.concatenate(log).astype(float))

    def _snap(self, J, W, slide):
        """Project neurons J back onto all their sliding faces (removes round-off drift)."""
        W[J] = self._project_out(W[J], slide[J])

    # ---------------------------------------------------------------- propagation
    def modes(self, slide):
        """(nslide, face1) of a sliding set: faces per neuron, the single face or -1."""
        nslide = slide.sum(axis=1).astype(np.int64)
        face1 = np.where(nslide == 1, np.argmax(slide, axis=1), -1).astype(np.int64)
        return nslide, face1

    def propagate(self, a, W, S, slide, rho, h, modes=None, gap=None) -> _Result:
        """Φ(ρ, h, y): exact flow over time h with the residual weights frozen at ``rho``
        (``modes``: (nslide, face1) of ``slide``, computed if None; ``gap``: per neuron a lower
        bound on the distance of w_j to its nearest band edge, as returned in the result, or
        None: :func:`reluflow.flow._kernels.bulk` skips the points of neurons that cannot
        reach it)."""
        a, W, S, slide = a.copy(), W.copy(), S.copy(), slide.copy()
        m, n, d = a.size, self.n, self.d
        nslide, face1 = self.modes(slide) if modes is None else (modes[0].copy(), modes[1].copy())
        Dext = np.zeros((m, d))
        multi_ok = np.ones(m, bool)
        multi = np.flatnonzero(nslide >= 2)
        if multi.size:
            Dext[multi] = self._deff(multi, S, slide, rho)
            multi_ok[multi] = self._alpha_ok(multi, S, slide, rho)
        absr = self.absgram @ np.abs(rho) + 1e-300
        elapsed = np.zeros(m)
        state = np.zeros(m, np.int8)
        counters = np.zeros(2, np.int64)
        changes: list = []
        K = self.kernels
        Dst = np.empty((m, d))
        alpha1 = np.empty(m)
        gap_out = np.empty(m)
        busy = K.bulk(a, W, S, slide, nslide, face1, Dext, multi_ok, self.XT, self.gram, self.xn, rho, absr, h,
                      self.c, self.sqrt_c, BAND, FACE_TOL, state, elapsed, Dst, alpha1,
                      np.zeros(m) if gap is None else gap, gap_out)  # fmt: skip
        J = np.flatnonzero(state == 5) if busy else np.zeros(0, np.int64)
        if J.size:  # (the event rounds' work arrays)
            seen = np.zeros((m, n), np.uint8)
            cand = np.zeros((m, n), np.uint8)
            nev = np.zeros(m, np.int64)
            stall = np.zeros(m, np.int64)
            if self._log is None or self._log.shape[0] < LOG_ROWS * m:
                self._log = np.empty((max(4096, LOG_ROWS * m), 5))
            log = self._log
        while J.size:
            nlog = K.propagate(
                J, a, W, S, slide, nslide, face1, Dext, multi_ok, self.XT, self.gram, self.xn, rho,
                absr, h, self.c, self.sqrt_c, BAND, FACE_TOL, GROUP_WINDOW * h, MAX_EVENTS_PER_PAIR * n,
                MAX_STALL, elapsed, nev, stall, seen, cand, state, log, counters, self.compiled_faces,
            )  # fmt: skip
            if nlog:
                changes.append(log[:nlog].copy())
            st = state[J]
            if np.any((st == 2) | (st == 3)):
                self._fail(J, st, nev, h)
            paused = J[st == 1]
            if paused.size:
                self._faces(paused, a, W, S, slide, rho, absr, elapsed, cand, changes, nslide, face1, Dext)
                state[paused] = 6
            if nlog > log.shape[0] // 2:  # (the log filled up: give it more room)
                self._log = log = np.empty((2 * log.shape[0], 5))
            J = J[state[J] >= 5]
        multi = np.flatnonzero(nslide >= 2)
        if multi.size:
            self._snap(multi, W, slide)
        return _Result(a, W, S, slide, nslide, face1, Dst, alpha1, gap_out, changes, int(counters[0]),
                       int(counters[1]))

    def error(self, a, W, S, slide, modes, Dst, drho, h, a_end, W_end, atol, rtol) -> float:
        """The exponential method's error estimate: per parameter, how much the closed-form
        step of each neuron from (a, W) over h moves when its D changes from ``Dst`` by the
        effective D of ``-drho`` (pattern and sliding set of the start), as the RMS of its
        ratio to atol + rtol max(|y0|, |y1|) (y1 = (a_end, W_end))."""
        m, d = W.shape
        nslide, face1 = modes
        dDext = np.zeros((m, d))
        multi = np.flatnonzero(nslide >= 2)
        if multi.size:
            dDext[multi] = self._deff(multi, S, slide, drho)
        return float(self.kernels.sensitivity(a, W, S, nslide, face1, dDext, Dst, self.XT, self.gram, drho, h,
                                              self.c, self.sqrt_c, a_end, W_end, atol, rtol))  # fmt: skip

    @staticmethod
    def _fail(J, st, nev, h):
        bad = J[(st == 2) | (st == 3)]
        j = int(bad[np.argmax(nev[bad])])
        if np.any(st == 2):
            raise _Stall(
                f"{int(nev.sum())} activation events within one step (h = {h:.3g}; neuron {j} had "
                f"{int(nev[j])}): chattering at an activation boundary"
            )
        raise _Stall(
            f"neuron {j}: {MAX_STALL} activation events without progress in time "
            f"(Zeno-like chattering at an activation boundary)"
        )
