r"""The frozen-residual propagation of the exponential integrator (private).

:mod:`reluflow.flow._exponential` explains the method. This module holds its propagation
Phi(rho, h, y): with the residual weights rho frozen, each neuron follows the closed form of
its linear flow, activation events are roots of quadratics in expm1(delta t) / delta, and
Filippov sliding is the same flow with D_j projected off the neuron's faces, so events and
sliding cost no gradient evaluation. :class:`_Engine` carries the per-run arrays; the face
problems are :func:`reluflow.flow._field.solve_faces` (and a two-face version in plain floats).
A pair inside the band ``reluflow.flow._field.BAND`` (relative to |w_j| |x_i|) is re-examined by
the face problem, and a switched pair must leave it to switch back. A pair that crosses its
band a second time within one propagation is decided by the signs of its rates, without the
face problem's tie tolerance; more than ``MAX_EVENTS_PER_PAIR`` events per pair within one
propagation are reported as chattering.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..data import Dataset
from ._field import BAND, FACE_TOL, solve_faces

#: Crossings of one neuron within this fraction of the step are handled together.
GROUP_WINDOW = 1e-9
#: Events of one neuron without progress in time (within one propagation) that count as a stall.
MAX_STALL = 200
#: Events per neuron and point within one propagation beyond which it counts as chattering.
MAX_EVENTS_PER_PAIR = 50
#: Releases from sliding predicted within this fraction of a step's ends are not cut for.
RELEASE_MIN = 0.01
_SINHC_CUT = 1e-3


class _Stall(Exception):
    pass


def _sinhc(x):
    small = np.abs(x) < _SINHC_CUT
    safe = np.where(small, 1.0, x)
    x2 = x * x
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(small, 1.0 + x2 / 6.0 * (1.0 + x2 / 20.0), np.sinh(safe) / safe)


def _advance(a0, W0, D, delta, p0, t):
    """Closed form of the frozen linear flow of each neuron over times ``t`` (arrays):
    adot = c <w, D>, wdot = a D with delta = sqrt(c) |D| and ``p0`` = c <w0, D>."""
    x = delta * t
    with np.errstate(over="ignore", invalid="ignore"):
        s1, s2 = _sinhc(x), _sinhc(0.5 * x)
        a = a0 * np.cosh(x) + p0 * t * s1
        A = a0 * t * s1 + 0.5 * p0 * t * t * s2 * s2
        return a, W0 + A[:, None] * D


def _first_root(c2, c1, c0):
    """Smallest root s > 0 of c2 s^2 + c1 s + c0 (elementwise; inf if none), without
    cancellation; the linear case c2 = 0 included."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        disc = c1 * c1 - 4.0 * c2 * c0
        sq = np.sqrt(np.where(disc >= 0, disc, np.nan))
        q = -0.5 * (c1 + np.copysign(sq, c1))
        r1 = np.where(c2 != 0, q / c2, np.nan)
        r2 = np.where(q != 0, c0 / q, np.nan)
    r1 = np.where(r1 > 0, r1, np.inf)
    r2 = np.where(r2 > 0, r2, np.inf)
    return np.minimum(r1, r2)


_TWO_FACE_CASES = ((0, 0), (0, 1), (1, 0), (1, 1), (0, 2), (1, 2), (2, 0), (2, 1), (2, 2))


def _solve_two_faces(q, M, s, tol):
    """:func:`reluflow.flow._field.solve_faces` for two faces in plain floats (same case order:
    fewest slides first, off before on); returns the codes or None."""
    q0, q1 = float(q[0]), float(q[1])
    m00, m01, m10, m11 = float(M[0, 0]), float(M[0, 1]), float(M[1, 0]), float(M[1, 1])
    t0, t1 = float(tol[0]), float(tol[1])
    for c0, c1 in _TWO_FACE_CASES:
        a0, a1 = float(c0 == 1), float(c1 == 1)
        if c0 == 2 and c1 == 2:
            det = m00 * m11 - m01 * m10
            if det == 0:
                continue
            a0, a1 = (-q0 * m11 + q1 * m01) / det, (-q1 * m00 + q0 * m10) / det
            if not (0 < a0 < 1 and 0 < a1 < 1):
                continue
        elif c0 == 2:
            if m00 == 0:
                continue
            a0 = -(q0 + m01 * a1) / m00
            if not 0 < a0 < 1:
                continue
        elif c1 == 2:
            if m11 == 0:
                continue
            a1 = -(q1 + m10 * a0) / m11
            if not 0 < a1 < 1:
                continue
        u0, u1 = s * (q0 + m00 * a0 + m01 * a1), s * (q1 + m10 * a0 + m11 * a1)
        if (c0 == 0 and u0 > t0) or (c0 == 1 and u0 < -t0):
            continue
        if (c1 == 0 and u1 > t1) or (c1 == 1 and u1 < -t1):
            continue
        return (c0, c1)
    return None


@dataclass
class _Result:
    """Outcome of one frozen-residual propagation."""

    a: np.ndarray
    W: np.ndarray
    S: np.ndarray
    slide: np.ndarray
    changes: list = field(default_factory=list)  # (local time, j, i, old code, new code)
    nevents: int = 0  # per-neuron event handlings (a neuron's simultaneous crossings count once)
    nresync: int = 0  # pairs found on the wrong side of their band at the start (not expected)


class _Engine:
    """Frozen-residual propagation Φ(ρ, h, y) with exact events and sliding."""

    def __init__(self, data: Dataset, loss, outer_rate: float = 1.0) -> None:
        self.data, self.loss = data, loss
        self.c = outer_rate
        self.sqrt_c = float(np.sqrt(outer_rate))
        self.X = np.array(data.X, dtype=float)
        self.XT = np.ascontiguousarray(self.X.T)
        self.gram = self.X @ self.X.T
        self.xn2 = np.einsum("ij,ij->i", self.X, self.X)
        self.xn = np.sqrt(self.xn2)
        self.xpos = self.xn > 0
        self.n, self.d = self.X.shape
        self.nfev = 0

    # ---------------------------------------------------------------- residuals
    def rho(self, a, W, S):
        """One evaluation: outputs of the frozen-pattern network and their residual weights."""
        self.nfev += 1
        with np.errstate(over="ignore", invalid="ignore"):
            f = a @ (S * (W @ self.XT))
            return self.loss.residuals(f, self.data)

    # ---------------------------------------------------------------- faces
    def _gram_solve(self, mask, B):
        """For each row e with faces K_e = mask[e] (|K_e| >= 1), solve G_KK c = B[e, K_e]
        (B is (k, n)); returns C (k, n), zero off K_e. One and two faces are vectorized;
        more faces, and nearly parallel pairs, go through least squares."""
        C = np.zeros(B.shape)
        cnt = mask.sum(axis=1)
        one = np.flatnonzero(cnt == 1)
        if one.size:
            k = np.argmax(mask[one], axis=1)
            C[one, k] = B[one, k] / self.xn2[k]
        rest = np.flatnonzero(cnt > 2)
        two = np.flatnonzero(cnt == 2)
        if two.size:
            kl = np.nonzero(mask[two])[1].reshape(-1, 2)
            k, k2 = kl[:, 0], kl[:, 1]
            gkk, gll, gkl = self.xn2[k], self.xn2[k2], self.gram[k, k2]
            det = gkk * gll - gkl * gkl
            good = det > 1e-12 * gkk * gll
            bk, bl = B[two, k], B[two, k2]
            with np.errstate(divide="ignore", invalid="ignore"):
                C[two, k] = np.where(good, (gll * bk - gkl * bl) / det, 0.0)
                C[two, k2] = np.where(good, (gkk * bl - gkl * bk) / det, 0.0)
            rest = np.concatenate([rest, two[~good]])
        for e in rest:
            K = np.flatnonzero(mask[e])
            C[e, K] = np.linalg.lstsq(self.gram[np.ix_(K, K)], B[e, K], rcond=None)[0]
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

    def release_time(self, S, slide, rho0, rho_half, h):
        """Earliest time in [RELEASE_MIN h, h) at which a sliding multiplier leaves [0, 1],
        with each multiplier interpolated linearly between its values under ``rho0`` (time 0)
        and ``rho_half`` (time h/2); inf if none. Earlier releases are left to the start
        of the step."""
        J = np.flatnonzero(slide.any(axis=1))
        if not J.size:
            return np.inf
        _, a0 = self._alphas(J, S, slide, rho0)
        _, am = self._alphas(J, S, slide, rho_half)
        slope = (am - a0) / (0.5 * h)
        inside = (a0 >= 0) & (a0 <= 1) & np.isfinite(slope)
        with np.errstate(divide="ignore", invalid="ignore"):
            tr = np.where(slope < 0, -a0 / slope, np.where(slope > 0, (1.0 - a0) / slope, np.inf))
        tr = tr[inside & (tr >= RELEASE_MIN * h) & (tr < (1.0 - RELEASE_MIN) * h)]
        return float(tr.min()) if tr.size else np.inf

    def _snap(self, J, W, slide):
        """Project neurons J back onto all their sliding faces (removes round-off drift)."""
        W[J] = self._project_out(W[J], slide[J])

    def _faces(self, J, cand, tloc, a, W, S, slide, rho, changes, exact=None):
        """Snap neurons J onto their candidate faces ``cand`` (|J|, n) and solve their face
        problems with residuals ``rho``; update S/slide in place and log the changes.
        ``exact`` (|J|, n) marks pairs that crossed their band again in this propagation:
        their neuron's face problem is solved by the signs alone (no tie tolerance; see
        :meth:`propagate`)."""
        X, gram = self.X, self.gram
        cnt = cand.sum(axis=1)
        one = np.flatnonzero(cnt == 1)
        codes_all = []
        if one.size:
            j, k = J[one], np.argmax(cand[one], axis=1)
            x = X[k]
            W[j] -= (np.einsum("ed,ed->e", W[j], x) / self.xn2[k])[:, None] * x
            if self.d == 1:
                W[j] = 0.0  # the face is {0}
            on = S[j].copy()
            on[np.arange(j.size), k] = False
            q = np.einsum("ed,ed->e", (on * rho) @ X, x)
            M = rho[k] * self.xn2[k]
            s = np.where(a[j] >= 0, 1.0, -1.0)
            tol = FACE_TOL * (np.abs(gram[k] * rho[None, :]).sum(axis=1) + 1e-300)
            if exact is not None:
                tol = np.where(exact[one, k], 0.0, tol)
            codes = np.where(s * q <= tol, 0, np.where(s * (q + M) >= -tol, 1, 2))
            codes_all.append((one, j, k[:, None], codes[:, None]))
        multi = np.flatnonzero(cnt > 1)
        if multi.size:
            jm = J[multi]
            W[jm] = self._project_out(W[jm], cand[multi])
            on = S[jm] & ~cand[multi]
            QD = ((on * rho) @ X) @ self.XT  # <D_j, x_k> without the candidate faces
            absr = np.abs(gram * rho[None, :]).sum(axis=1) + 1e-300
        for r, e in enumerate(multi):
            j, K = J[e], np.flatnonzero(cand[e])
            if K.size >= self.d and np.linalg.matrix_rank(X[K]) == self.d:
                W[j] = 0.0  # the faces meet only at w = 0: keep it exactly there (no round-off revival)
            q, M = QD[r, K], gram[np.ix_(K, K)] * rho[K][None, :]
            sgn = 1.0 if a[j] >= 0 else -1.0
            scale = absr[K] * 0.0 if exact is not None and exact[e, K].any() else absr[K]
            if K.size == 2:
                codes = _solve_two_faces(q, M, sgn, FACE_TOL * scale)
            else:
                sol = solve_faces(q, M, sgn, scale)
                codes = sol[1] if sol is not None else None
            codes = np.zeros(K.size, int) if codes is None else np.asarray(codes)
            codes_all.append((np.array([e]), np.array([j]), K[None, :], codes[None, :]))
        tloc = np.broadcast_to(np.asarray(tloc, float), (J.size,))
        for rows, j, K, codes in codes_all:
            old = np.where(slide[j[:, None], K], 2, S[j[:, None], K].astype(int))
            for r, c in zip(*np.nonzero(old != codes), strict=True):
                changes.append((float(tloc[rows[r]]), int(j[r]), int(K[r, c]), int(old[r, c]), int(codes[r, c])))
            S[j[:, None], K] = codes == 1
            slide[j[:, None], K] = codes == 2

    def _band(self, W):
        return BAND * np.linalg.norm(W, axis=1)[:, None] * self.xn[None, :]

    # ---------------------------------------------------------------- propagation
    def propagate(self, a, W, S, slide, rho, h) -> _Result:
        """Φ(ρ, h, y): exact flow over time h with the residual weights frozen at ``rho``."""
        a, W, S, slide = a.copy(), W.copy(), S.copy(), slide.copy()
        changes: list = []
        m = a.size
        # modes at the start: faces in use and pairs inside their band, with this rho
        P = W @ self.XT
        tau = self._band(W)
        band = ~slide & (np.abs(P) <= tau) & (tau > 0) & self.xpos[None, :]
        rb = np.flatnonzero(band.any(axis=1))
        if rb.size:
            # a pair inside its band needs the face problem only if, in the current modes,
            # it moves to the wrong side (as ``adaptive``, which re-examines it only then)
            u = np.where(a[rb] >= 0, 1.0, -1.0)[:, None] * (self._deff(rb, S, slide, rho) @ self.XT)
            tol = FACE_TOL * (np.abs(self.gram * rho[None, :]).sum(axis=1) + 1e-300)
            band[rb] &= np.where(S[rb], u < -tol[None, :], u > tol[None, :])
        cand = slide | band
        # a neuron that only slides keeps its faces while their multipliers stay in [0, 1]
        # (the release rule of ``adaptive``); faces and band pairs are re-solved otherwise
        keep = np.flatnonzero(slide.any(axis=1) & ~band.any(axis=1))
        if keep.size:
            cand[keep[self._alpha_ok(keep, S, slide, rho)]] = False
        rows = np.flatnonzero(cand.any(axis=1))
        nev = 0
        if rows.size:
            self._faces(rows, cand[rows], 0.0, a, W, S, slide, rho, changes)
        # pairs on the wrong side of their band (never expected): resynchronise the pattern
        P = W @ self.XT
        bad = ~slide & ((S & (P < -tau)) | (~S & (P > tau)))
        if bad.any():
            for j, i in zip(*np.nonzero(bad), strict=True):
                changes.append((0.0, int(j), int(i), int(S[j, i]), int(P[j, i] > 0)))
            S = np.where(bad, P > 0, S)
        D = self._deff(np.arange(m), S, slide, rho)
        elapsed = np.zeros(m)
        stall = np.zeros(m, int)
        # pairs that were event pairs earlier in this propagation: a second crossing shows
        # that the sign of their rates, however small, is real, so their face problems
        # are then solved without the tie tolerance (which otherwise lets a pair with
        # rates below it cross back and forth in tiny steps; the adaptive solver's
        # counterpart is the tie-break of reluflow.flow._landing)
        seen = np.zeros_like(S)
        nev_j = np.zeros(m, int)
        J = np.arange(m)
        window = GROUP_WINDOW * h
        while J.size:
            a0, W0, DJ = a[J], W[J], D[J]
            delta = np.sqrt(np.einsum("ed,ed->e", DJ, DJ))
            p0 = np.einsum("ed,ed->e", W0, DJ)
            if self.c != 1.0:  # outer rate c: adot = c <w, D>, so delta = sqrt(c)|D|, p0 -> c p0
                delta, p0 = self.sqrt_c * delta, self.c * p0
            P = W0 @ self.XT
            R = DJ @ self.XT
            tau = self._band(W0)
            on, sl = S[J], slide[J]
            thr = np.where(on, np.where(P > tau, 0.0, -tau), np.where(P < -tau, 0.0, tau))
            qq = P - thr
            c2 = R * (a0 * delta + p0)[:, None]
            c1 = 2.0 * (R * a0[:, None] + delta[:, None] * qq)
            s = _first_root(c2, c1, 2.0 * qq)
            s[sl | (R == 0)] = np.inf
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                dl = delta[:, None]
                tp = np.where(dl > 0, np.log1p(dl * s) / np.where(dl > 0, dl, 1.0), s)
            tp = np.where(np.isnan(tp), np.inf, tp)
            tj = tp.min(axis=1)
            rem = h - elapsed[J]
            ev = tj <= rem
            adv = np.where(ev, tj, rem)
            a[J], W[J] = _advance(a0, W0, DJ, delta, p0, adv)
            elapsed[J] = np.where(ev, elapsed[J] + adv, h)
            if not ev.any():
                break
            Jev = J[ev]
            nev += Jev.size
            nev_j[Jev] += 1
            if nev > MAX_EVENTS_PER_PAIR * S.size:
                j = int(np.argmax(nev_j))
                raise _Stall(
                    f"{nev} activation events within one step (h = {h:.3g}; neuron {j} had "
                    f"{int(nev_j[j])}): chattering at an activation boundary"
                )
            prog = adv[ev] > 1e-13 * h
            stall[Jev] = np.where(prog, 0, stall[Jev] + 1)
            if np.any(stall[Jev] > MAX_STALL):
                j = int(Jev[np.argmax(stall[Jev])])
                raise _Stall(
                    f"neuron {j}: {MAX_STALL} activation events without progress in time "
                    f"(Zeno-like chattering at an activation boundary)"
                )
            group = (tp[ev] <= (tj[ev] + window)[:, None]) & np.isfinite(tp[ev])
            Wn = W[Jev]
            Pn = Wn @ self.XT
            taun = self._band(Wn)
            cand = (group | slide[Jev] | ((np.abs(Pn) <= taun) & (taun > 0))) & self.xpos[None, :]
            self._faces(Jev, cand, elapsed[Jev], a, W, S, slide, rho, changes, exact=group & seen[Jev])
            seen[Jev] |= group
            D[Jev] = self._deff(Jev, S, slide, rho)
            J = Jev
        sliding = np.flatnonzero(slide.any(axis=1))
        if sliding.size:
            self._snap(sliding, W, slide)
        return _Result(a, W, S, slide, changes, nev, int(bad.sum()))
