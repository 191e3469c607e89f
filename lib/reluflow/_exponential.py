r"""Exponential midpoint integrator with exact events under frozen residuals (private).

The field depends on the state through two things only: the residual weights
:math:`\rho_i = -\partial L/\partial f(x_i)` (through the outputs) and the activation
pattern. With :math:`\rho` frozen, every neuron evolves on its own by the *linear* flow
:math:`\dot a_j = \langle w_j, D_j\rangle`, :math:`\dot w_j = a_j D_j`, whose solution is
closed form (papers §0.4, book chapter 1 "Exact solution in a fixed activation pattern"):

    a(τ) = a0 cosh(δτ) + p0 τ sinhc(δτ),   w(τ) = w0 + A(τ) D,
    A(τ) = a0 τ sinhc(δτ) + ½ p0 τ² sinhc(δτ/2)²,     δ = |D|, p0 = <w0, D>.

A pre-activation <w(τ), x_i> = q_i + A(τ) r_i reaches a threshold at a root of a quadratic
in s = expm1(δτ)/δ, so activation events are located in closed form; after an event only
that neuron's D_j changes (no gradient evaluation). Filippov sliding is exact too: on the
faces K of a neuron the sliding field is the flow with D_j replaced by its projection onto
span{x_k : k in K}^⊥ (constant while ρ and the neuron's pattern are frozen). Whether a pair
is on, off or sliding is decided by the box complementarity problem of
:func:`reluflow._field.solve_faces`, with the frozen ρ, at every event of the neuron and, at
the start of every propagation, for the neurons with pairs inside the band |<w_j, x_i>| <=
1e-10 |w_j| |x_i|. A neuron that only slides keeps its faces while their multipliers stay in
[0, 1] (the release rule of ``adaptive``). Snapping onto faces that meet only at w = 0 sets
w_j = 0 exactly (the neuron is then frozen, as in ``adaptive``; no round-off revival). The
frozen-ρ propagation Φ(ρ, h, y) is therefore exact, events and sliding included, and costs
no gradient evaluation.

Time stepping (order 2, "exponential midpoint", a Magnus-type method for y' = A(ρ(y)) y):

1. ρ0 = ρ(y0) (kept from the previous step);
2. predictor y½ = Φ(ρ0, h/2, y0); one evaluation ρ½ = ρ(y½);
3. y1 = Φ(ρ½, h, y0) (the step's result); one evaluation ρ1 = ρ(y1), reused as the next
   step's ρ0;
4. error estimate: ŷ1 = Φ((ρ0 + ρ1)/2, h, y0) (exponential trapezoid, also order 2);
   err = RMS of (y1 − ŷ1) / (atol + rtol max(|y0|, |y1|)); the two frozen residuals differ
   by O(h²) so the estimate is O(h³) like the local error; accept if err ≤ 1 and set
   h ← h min(5, max(0.2, 0.9 err^{-1/3})).

Releases from sliding. Under frozen ρ the sliding multipliers are constant, so a release is
driven by the change of ρ across steps. After the predictor, each sliding multiplier is
interpolated linearly between its values under ρ0 (time 0) and ρ½ (time h/2); if one leaves
[0, 1] at a time τ in [0.01 h, 0.99 h), the step is shortened to end at τ, with ρ½ replaced by
its linear interpolant at τ/2 (no new evaluation), and the next step starts past the release,
where the start-of-propagation face problem releases the pair. Without this, releases would be
late by up to a step, which can change which faces a neuron meets next.

Each step costs two evaluations (one computation of all outputs f(x_i) and residuals; the
D_j are part of it), rejected or not. On the near-origin plateau ρ hardly changes and the
steps grow geometrically; on the late logistic phase ρ ~ 1/t and the steps grow like t.
Dense output (``t_eval``) re-propagates Φ(ρ½, θh, y0), which costs no evaluation.

Accuracy: the method is of order 2 (global error ~ rtol^(2/3) at tight tolerances); ρ has
kinks at activation events and the estimate does not see them, so the global error is not
bounded by rtol (on P2 of ``bench/solver.py``: ~1e-4 at rtol 1e-3, ~1e-5 at rtol 1e-6).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._field import FACE_TOL, solve_faces
from ._validation import positive_int, positive_scalar
from .data import Dataset
from .gradient import check_problem
from .losses import LossLike
from .network import Network
from .trajectory import SWITCH_DTYPE, Trajectory, underflow_message

#: Half-width of the band around a face, relative to ||w_j|| ||x_i||: a pair inside it is
#: re-examined by the face problem, and a switched pair must leave it to switch back.
BAND = 1e-10
#: Crossings of one neuron within this fraction of the step are handled together.
GROUP_WINDOW = 1e-9
#: Events of one neuron without progress in time (within one propagation) that count as a stall.
MAX_STALL = 200
#: Step-size controller: safety factor, smallest and largest change per step, error exponent.
SAFETY, FAC_MIN, FAC_MAX, EXPONENT = 0.9, 0.2, 5.0, 1.0 / 3.0
#: Releases from sliding predicted within this fraction of a step's ends are not cut for.
RELEASE_MIN = 0.01
#: After a step cut at a release, the next step is at least this fraction of the uncut one.
RESTORE = 0.5
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
    """Closed form of the frozen linear flow of each neuron over times ``t`` (arrays)."""
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
    """:func:`reluflow._field.solve_faces` for two faces in plain floats (same case order:
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

    def __init__(self, data: Dataset, loss) -> None:
        self.data, self.loss = data, loss
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

    def _faces(self, J, cand, tloc, a, W, S, slide, rho, changes):
        """Snap neurons J onto their candidate faces ``cand`` (|J|, n) and solve their face
        problems with residuals ``rho``; update S/slide in place and log the changes."""
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
            if K.size == 2:
                codes = _solve_two_faces(q, M, sgn, FACE_TOL * absr[K])
            else:
                sol = solve_faces(q, M, sgn, absr[K])
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
        J = np.arange(m)
        window = GROUP_WINDOW * h
        while J.size:
            a0, W0, DJ = a[J], W[J], D[J]
            delta = np.sqrt(np.einsum("ed,ed->e", DJ, DJ))
            p0 = np.einsum("ed,ed->e", W0, DJ)
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
            self._faces(Jev, cand, elapsed[Jev], a, W, S, slide, rho, changes)
            D[Jev] = self._deff(Jev, S, slide, rho)
            J = Jev
        sliding = np.flatnonzero(slide.any(axis=1))
        if sliding.size:
            self._snap(sliding, W, slide)
        return _Result(a, W, S, slide, changes, nev, int(bad.sum()))


def integrate(
    net0: Network,
    data: Dataset,
    loss: LossLike,
    t_end: float,
    *,
    rtol: float = 1e-3,
    atol: float | None = None,
    t_eval=None,
    max_steps: int = 1_000_000,
    progress: bool = False,
    stats: dict | None = None,
) -> Trajectory:
    r"""Gradient flow by the exponential midpoint method with exact events (see the module doc).

    Parameters
    ----------
    net0, data, loss, t_end
        As for :func:`reluflow.gradient_flow`.
    rtol, atol : float
        Tolerances of the local error estimate (order 2: the error per step scales like
        h^3); the default ``atol`` is ``1e-3 * rtol * max|theta0|`` as for ``adaptive``.
    t_eval : None, "log" or array_like
        Snapshot times; None: every accepted step.
    max_steps : int
        Accepted steps allowed before stopping with ``status = 1``.
    progress : bool
        tqdm progress bar in gradient-flow time.
    stats : dict, optional
        Filled with extra counters: ``nevents`` (per-neuron event updates in accepted steps),
        ``nevents_total`` (in all propagations: predictors, rejected steps, error estimates,
        dense output), ``npropagations``, ``nreleasecuts`` (steps shortened to end at a
        predicted release from sliding) and ``nresync`` (pairs found on the wrong side of
        their band at the start of a propagation and re-synchronised; 0 is expected).

    Returns
    -------
    Trajectory
        ``method="exponential"``; ``nfev`` counts evaluations of all outputs and residuals
        (the cost of one loss gradient); ``event_groups`` counts per-neuron event updates of
        the accepted steps (a neuron's simultaneous crossings count once).

    Raises
    ------
    ValueError
        For bad inputs (as :func:`reluflow.gradient_flow`).
    """
    from . import flow as _flow  # lazy: flow may import this module

    loss = check_problem(net0, data, loss)
    t_end = positive_scalar(t_end, "t_end")
    max_steps = positive_int(max_steps, "max_steps")
    rtol = positive_scalar(rtol, "rtol")
    if atol is None:
        atol = _flow.ATOL_FACTOR * rtol * max(float(np.max(np.abs(net0.flat()))), 1e-300)
    atol = positive_scalar(atol, "atol")
    te = _flow._check_t_eval(t_eval, t_end)

    m, d = net0.W.shape
    eng = _Engine(data, loss)
    a, W = np.array(net0.a, float), np.array(net0.W, float)
    S = (W @ eng.XT) > 0
    slide = np.zeros_like(S)
    rec = _flow._Recorder(te, np.concatenate([a, W.ravel()]))
    bar = _flow._progress(progress, t_end)

    t, nsteps, nrejected, nev_acc, nev_all, nprop, ncut, nresync = 0.0, 0, 0, 0, 0, 0, 0, 0
    switches: list[tuple] = []
    slide_start = np.full(S.shape, np.nan)
    sliding_time, sliding_entries = 0.0, 0
    status, message = 0, "reached t_end"

    def prop(a_, W_, S_, sl_, rho_, h_):
        nonlocal nev_all, nprop, nresync
        r = eng.propagate(a_, W_, S_, sl_, rho_, h_)
        nev_all += r.nevents
        nresync += r.nresync
        nprop += 1
        return r

    def flat(r):
        return np.concatenate([r.a, r.W.ravel()])

    rho0 = eng.rho(a, W, S)
    # initial step: a tenth of the fastest neuron's e-folding time under the initial residuals
    with np.errstate(over="ignore", invalid="ignore"):
        Dmax = float(np.max(np.linalg.norm((S * rho0) @ eng.X, axis=1), initial=0.0))
    h = min(t_end, 0.1 / Dmax) if np.isfinite(Dmax) and Dmax > 0 else t_end
    try:
        while t < t_end:
            if not np.all(np.isfinite(rho0)):
                status, message = -1, (
                    f"the residuals are not finite at t = {t:.6g} (the loss overflowed; for the "
                    "exponential loss, margins below -709 overflow)"
                )
                break
            if nsteps >= max_steps:
                status, message = 1, f"stopped after max_steps = {max_steps} steps at t = {t:.6g}"
                break
            h = min(h, t_end - t)
            if t_end - t - h < 1e-12 * t_end:
                h = t_end - t
            h_uncut = 0.0
            while True:
                y0 = np.concatenate([a, W.ravel()])
                with np.errstate(over="ignore", invalid="ignore"):
                    half = prop(a, W, S, slide, rho0, 0.5 * h)
                    err = np.inf
                    if np.all(np.isfinite(half.a)) and np.all(np.isfinite(half.W)):
                        rho_m = eng.rho(half.a, half.W, half.S)
                        finite = np.all(np.isfinite(rho_m))
                        t_rel = eng.release_time(S, slide, rho0, rho_m, h) if finite else np.inf
                        if t_rel < h:
                            # a sliding face is released inside the step: end the step there,
                            # with the midpoint residuals interpolated (no new evaluation)
                            ncut += 1
                            h_uncut = max(h_uncut, h)
                            rho_m = rho0 + (t_rel / h) * (rho_m - rho0)
                            h = t_rel
                        if finite:
                            new = prop(a, W, S, slide, rho_m, h)
                            y1 = flat(new)
                            if np.all(np.isfinite(y1)):
                                rho1 = eng.rho(new.a, new.W, new.S)
                                if np.all(np.isfinite(rho1)):
                                    cmp_ = prop(a, W, S, slide, 0.5 * (rho0 + rho1), h)
                                    scale = atol + rtol * np.maximum(np.abs(y0), np.abs(y1))
                                    err = float(np.sqrt(np.mean(((y1 - flat(cmp_)) / scale) ** 2)))
                if err <= 1.0:
                    break
                nrejected += 1
                h *= max(FAC_MIN, SAFETY * err**-EXPONENT) if np.isfinite(err) else FAC_MIN
                if h < 1e-14 * max(1.0, t):
                    raise _Stall(underflow_message(h, None, bool(np.isfinite(err)), float(np.abs(y0).max())))
            # accept
            nsteps += 1
            nev_acc += new.nevents
            if te is not None:
                a_s, W_s, S_s, sl_s, rm = a, W, S, slide, rho_m

                def dense(x, h=h, a_s=a_s, W_s=W_s, S_s=S_s, sl_s=sl_s, rm=rm, y1=y1):
                    if x >= 1.0:
                        return y1
                    return flat(prop(a_s, W_s, S_s, sl_s, rm, x * h))

                rec.add_interval(t, t + h, dense, h)
            for tl, j, i, old, code in sorted(new.changes, key=lambda c: c[0]):
                ts = t + tl
                switches.append((ts, j, i, ("off", "on", "slide")[code]))
                if code == 2:
                    slide_start[j, i] = ts
                    sliding_entries += 1
                elif old == 2:
                    sliding_time += ts - slide_start[j, i]
                    slide_start[j, i] = np.nan
            t_before = t
            t = t_end if t_end - (t + h) < 1e-12 * t_end else t + h
            a, W, S, slide, rho0 = new.a, new.W, new.S, new.slide, rho1
            rec.add_point(t, y1)
            if bar is not None:
                bar.update(t - t_before)
            h *= min(FAC_MAX, SAFETY * err**-EXPONENT) if err > 0 else FAC_MAX
            h = max(h, RESTORE * h_uncut)  # a step cut at a release need not shrink the next one
    except _Stall as exc:
        status, message = -1, f"at t = {t:.6g}: {exc}"
    if bar is not None:
        bar.close()
    open_ = ~np.isnan(slide_start)
    sliding_time += float(np.sum(t - slide_start[open_]))
    if stats is not None:
        stats.update(
            nevents=nev_acc, nevents_total=nev_all, npropagations=nprop, nreleasecuts=ncut, nresync=nresync
        )
    return _flow._trajectory(
        rec,
        m,
        d,
        data,
        loss,
        method="exponential",
        nfev=eng.nfev,
        nsteps=nsteps,
        nrejected=nrejected,
        status=status,
        message=message,
        switches=np.array(switches, dtype=SWITCH_DTYPE),
        event_groups=nev_acc,
        sliding_time=sliding_time,
        sliding_entries=sliding_entries,
        sliding_at_end=int(open_.sum()),
    )
