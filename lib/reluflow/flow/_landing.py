"""Landing on an activation event: the face problems of the adaptive solver (private).

Chapter 1, "A solver that respects the kinks" and "Sliding along a face", explains what is
decided here. :class:`FaceEvents` holds the methods of
:class:`reluflow.flow._adaptive.AdaptiveSolver` that run at a landing: each affected neuron
is snapped onto its candidate faces (the event pairs, its sliding faces and the pairs
within the band) and its face problem decides, face by face, off / on / slide; the
pattern, the sliding set and the violation test are then updated. The usual landing (one
event pair, one face) takes a fast path with the same arithmetic, in place.
"""

from __future__ import annotations

import math

import numpy as np

from ._faces import solve_faces
from ._field import BAND, FACE_TOL

#: Sliding multipliers within this distance of 0 or 1 at a landing are re-examined.
ALPHA_GROUP = 1e-8
_ALL, _ANY = np.logical_and.reduce, np.logical_or.reduce  # (.all() / .any() without the wrappers)

# _TIE_BREAK: an event pair whose face problem says "keep your state" has just crossed in
# that state. With several faces (``_solve``) the tolerance of the sign tests hid the sign of
# a rate, and the neuron's faces are decided again by the signs of their rates alone (as the
# exponential method decides a pair that crosses twice). At a landing that made no progress
# in time (the previous landing was at the same instant) the first-order test was a tie (the
# one-sided field is tangent to the face, e.g. when the residual of the face's point vanishes
# and the on and off fields coincide), and the trajectory left on the other side at second
# order. Such a pair is given the first state other than its old one that solves its face
# problem (on or slide for an off pair, off or slide for an on pair, in the face problem's
# order); if none does, it keeps its state.


class FaceEvents:
    """Landing methods of the adaptive solver (a mixin: they use its state, see
    :class:`reluflow.flow._adaptive.AdaptiveSolver`)."""

    def _near_face(self, y, P, r):
        """Pairs (outside the sliding set) within the band of their face, for the neurons
        ``r`` (index array): shape (r.size, n)."""
        wn = self._wnorm(self._W(y)[r])
        near = np.abs(P[r]) * self._inv_xn <= (BAND * wn)[:, None]
        near &= ~self.field.slide[r]
        if not self._all_xpos:
            near &= self._inv_xn > 0
        if not _ALL(wn):
            near &= (wn > 0)[:, None]
        return near

    def _handle_one(self, y, j, i, P, rho) -> bool:
        """:meth:`_handle` for the single event pair (j, i) of a landing ``y`` (modified in
        place) when neuron j has no other candidate face; returns False (and changes
        nothing) otherwise. Pattern changes between on and off are applied in place."""
        F, m, d = self.field, self.m, self.d
        lo = m + j * d
        w = y[lo : lo + d]
        wn = math.sqrt(float(np.dot(w, w)))
        slide_j = F.slide[j]
        # candidates: the event pair, the sliding faces, pairs within the band
        cand = np.abs(P[j]) * self._inv_xn <= BAND * wn if wn > 0 else np.zeros(F.n, bool)
        cand[i] = True
        cand |= slide_j
        if not self._all_xpos:
            cand &= F.xn > 0
        k = cand.nonzero()[0]
        if k.size != 1:
            if k.size == 0:
                return False
            if rho is None:
                rho = F.residuals(y[:m], self._W(y), P)
            self._handle_faces(y, j, k, rho, event=i)
            return True
        k = int(k[0])
        if rho is None:
            rho = F.residuals(y[:m], self._W(y), P)
        x, xn2 = F.X[k], F.xn2[k]
        y[lo : lo + d] = w - (float(np.dot(w, x)) / xn2) * x
        S = F.S
        on = S[j].copy()
        on[k] = False
        gk = F.gram[k]
        q = float(np.dot(on * rho, gk))  # <D_j without the face's term, x_k>
        M = float(rho[k] * xn2)
        s = 1.0 if y[j] >= 0 else -1.0
        tol = FACE_TOL * (float(np.dot(F.absgram[k], np.abs(rho))) + 1e-300)
        code = 0 if s * q <= tol else 1 if s * (q + M) >= -tol else 2  # as _handle_single
        old = int(S[j, k]) + 2 * int(slide_j[k])  # (a sliding pair is never on)
        if code == old and self._stall and k == i:  # re-crossed at once: see _TIE_BREAK
            code = self._tie_break(q, M, s, tol, old)
        if code == old:
            return True
        self._sw.append((self.t, j, k, code))
        self._set_state(j, k, old, code)
        if old == 2 or code == 2:  # the sliding set changes: recompute the faces
            F.slide[j, k] = code == 2
            F.refresh_faces()
        return True

    def _set_state(self, j, k, old, code) -> None:
        """Pair (j, k) goes from state ``old`` to ``code`` (0 off, 1 on, 2 slide): sliding
        statistics, the pattern and the violation test, in place (as _set_pattern would);
        the caller updates the sliding set and the field's faces."""
        t = self.t
        if code == 2:
            self.slide_start[j, k] = t
            self.sliding_entries += 1
        elif old == 2:
            self.sliding_time += t - float(self.slide_start[j, k])
            self.slide_start[j, k] = np.nan
        self.field.set_pair(j, k, code == 1)
        sf = float(code == 1)
        self._sgn[j, k] = 1.0 - 2.0 * sf
        self._viol[j, k] = (self._vb1[k] - self._vb2[k] * sf) * (code != 2)

    @staticmethod
    def _tie_break(q, M, s, tol, old) -> int:
        """The one-face problem (q, M, sign s, tolerance tol) of a pair that re-crossed at
        once in its state ``old``: the first valid other state in the face problem's order,
        or ``old`` if no other state is valid (see _TIE_BREAK)."""
        _, codes = solve_faces(np.array([q]), np.array([[1.0]]), np.array([M]), s, np.array([tol]), np.array([old]))
        return int(codes[0])

    def _solve(self, q, G, rho, s, tol, old, ev):
        """The codes of one neuron's face problem (:func:`solve_faces`; ``old``: the faces'
        codes before the landing, ``ev``: which faces are event pairs, or None). An event
        pair that keeps its state has just crossed in that state: the tolerance hid the
        sign of its rate, and the neuron's faces are decided again by the signs of their
        rates alone (as the exponential method decides a second crossing); at a landing
        without progress in time, also with the tie-break of _TIE_BREAK."""
        if self._stall and ev is not None:
            return solve_faces(q, G, rho, s, np.zeros_like(tol), np.where(ev, old, -1))[1]
        codes = solve_faces(q, G, rho, s, tol)[1]
        if ev is not None and _ANY(ev & (codes == old)):
            codes = solve_faces(q, G, rho, s, np.zeros_like(tol))[1]
        return codes

    def _handle_faces(self, y, j, K, rho, event=None) -> None:
        """:meth:`_handle` for one neuron j with several candidate faces ``K`` (point
        indices), in place: the same arithmetic, with the pattern, the sliding set and the
        violation test updated only where the face problem changed a pair. ``event`` is
        the point of the landing's event pair (for the tie-break of a stalled landing)."""
        F, m, d = self.field, self.m, self.d
        lo = m + j * d
        y[lo : lo + d] = F.project_onto(K, y[lo : lo + d])
        S, slide_j = F.S, F.slide[j]
        on = S[j].copy()
        on[K] = False
        gK = F.gram[K]
        q = gK @ (on * rho)
        tol = FACE_TOL * (np.abs(gK) @ np.abs(rho) + 1e-300)
        old = np.where(slide_j[K], 2, S[j, K].astype(int))
        ev = None if event is None else K == event
        codes = self._solve(q, gK[:, K], rho[K], 1.0 if y[j] >= 0 else -1.0, tol, old, ev)
        ch = (old != codes).nonzero()[0]
        if not ch.size:
            return
        self._sw.append((self.t, np.full(ch.size, j), K[ch], codes[ch]))
        for c in ch.tolist():
            self._set_state(j, int(K[c]), int(old[c]), int(codes[c]))
        if np.count_nonzero((old == 2) != (codes == 2)):  # the sliding set changes
            slide_j[K] = codes == 2
            F.refresh_faces()

    def _near_boundary(self, alpha, alpha0=None):
        """Neurons whose sliding multiplier is at (or past) 0 or 1, or None. With ``alpha0``
        (the multipliers at the start of the step, same faces), a multiplier that was
        already at its bound then counts only if it is now past it: its face problem was
        solved with it there (e.g. a multiplier held at 0 by symmetry), and re-solving it at
        every landing would only cost time."""
        near = ~((alpha >= ALPHA_GROUP) & (alpha <= 1 - ALPHA_GROUP))
        if alpha0 is not None and alpha0.shape == alpha.shape:
            near &= ((alpha0 >= ALPHA_GROUP) & (alpha0 <= 1 - ALPHA_GROUP)) | ~((alpha >= 0) & (alpha <= 1))
            if not _ANY(near):
                return None
        out = np.zeros(self.m, bool)
        out[self.field.owners[near]] = True
        return out

    def _handle(self, y, r, pairs, rho, P=None, events=None):
        """Snap the neurons ``r`` onto their faces (their candidate pairs ``pairs``, shape
        (r.size, n), and sliding faces) and solve their face problems. ``events`` (same
        shape) marks the landing's event pairs, for the tie-break of a stalled landing."""
        F = self.field
        S, slide = F.S.copy(), F.slide.copy()
        W = self._W(y).copy()
        a = y[: self.m]
        if rho is None:
            rho = F.residuals(a, W, P)
        cand = pairs | slide[r]
        if not self._all_xpos:
            cand &= (F.xn > 0)[None, :]
        count = cand.sum(axis=1)
        one = count == 1
        if _ANY(one):
            k1 = np.argmax(cand[one], axis=1)
            ev = None if events is None or not self._stall else events[one][np.arange(k1.size), k1]
            self._handle_single(r[one], k1, W, a, rho, S, slide, ev)
        for e in (count > 1).nonzero()[0]:
            j, K = r[e], cand[e].nonzero()[0]
            W[j] = F.project_onto(K, W[j])
            on = S[j].copy()
            on[K] = False
            gK = F.gram[K]
            q = gK @ (on * rho)
            tol = FACE_TOL * (np.abs(gK) @ np.abs(rho) + 1e-300)
            old = np.where(slide[j, K], 2, S[j, K].astype(int))
            ev = None if events is None else events[e][K]
            codes = self._solve(q, gK[:, K], rho[K], 1.0 if a[j] >= 0 else -1.0, tol, old, ev)
            self._record(np.full(K.size, j), K, old, codes)
            S[j, K] = codes == 1
            slide[j, K] = codes == 2
        self._set_pattern(S, slide)
        y = y.copy()
        y[self.m :] = W.ravel()
        return y

    def _handle_single(self, j, k, W, a, rho, S, slide, events=None):
        """Vectorized face problem for neurons with one candidate face each: the same
        case order as :func:`solve_faces` (off, then on, then slide). ``events`` marks the
        pairs that may not keep their state (the tie-break of a stalled landing)."""
        F = self.field
        x, xn2 = F.X[k], F.xn2[k]
        Wj = W[j]
        W[j] = Wj - (np.einsum("ed,ed->e", Wj, x) / xn2)[:, None] * x
        on = S[j]
        on[np.arange(j.size), k] = False
        gk = F.gram[k]
        q = np.einsum("ei,ei->e", on * rho, gk)  # <D_j without the face's term, x_k>
        M = rho[k] * xn2
        s = np.where(a[j] >= 0, 1.0, -1.0)
        tol = FACE_TOL * (np.abs(gk) @ np.abs(rho) + 1e-300)
        # off if <w, x> would decrease without the face's term; on if it would increase with
        # it; otherwise both one-sided fields point into the face, and
        # alpha = -q / M lies in (0, 1): slide.
        codes = np.where(s * q <= tol, 0, np.where(s * (q + M) >= -tol, 1, 2))
        old = S[j, k] + 2 * slide[j, k]  # (a sliding pair is never on)
        if events is not None:  # see _TIE_BREAK
            for e in (events & (codes == old)).nonzero()[0].tolist():
                codes[e] = self._tie_break(float(q[e]), float(M[e]), float(s[e]), float(tol[e]), int(old[e]))
        self._record(j, k, old, codes)
        S[j, k] = codes == 1
        slide[j, k] = codes == 2

    def _record(self, j, k, old, codes):
        """Log the pairs whose state changed (arrays of neurons, points, old and new codes)."""
        ch = (old != codes).nonzero()[0]
        if not ch.size:
            return
        j, k, old, codes = j[ch], k[ch], old[ch], codes[ch]
        self._sw.append((self.t, j, k, codes))
        if not np.count_nonzero((old == 2) | (codes == 2)):
            return
        enter = codes == 2
        if _ANY(enter):
            self.slide_start[j[enter], k[enter]] = self.t
            self.sliding_entries += int(enter.sum())
        leave = (old == 2) & ~enter
        if _ANY(leave):
            self.sliding_time += float(np.sum(self.t - self.slide_start[j[leave], k[leave]]))
            self.slide_start[j[leave], k[leave]] = np.nan
