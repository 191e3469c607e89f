"""Dormand-Prince 5(4) with activation events and Filippov sliding (private).

Chapter 1, "A solver that respects the kinks", explains the algorithm:
each step integrates a smooth field (pattern and sliding set frozen across all stages);
after an accepted step, sign changes of pre-activations and sliding multipliers leaving
[0, 1] are located on the dense output; the solver lands on the earliest one, handles all
events within a tiny window together, solves each affected neuron's face problem and
restarts in the new pattern. The landing's face problems are in :mod:`reluflow.flow._landing`.

Cost notes (bench/solver.py, target T3): most steps of a kinked run end at an event, so the
per-step bookkeeping is kept to a few whole-array numpy operations: the state y is row 0
of the stage array, so stage states, the new state and the dense output are single
products; the violation test reuses ``W X^T`` from the last stage's field evaluation; the
event quartics come from one product of (y, stages) with the dense-output matrix (h folded
in), evaluated only for the flagged pairs; the earliest crossing is bracketed on a grid for
all flagged pairs at once and only one root is refined (in scalar arithmetic); group
membership is a sign test at the end of the group window; switches are logged as arrays
(ints for a single switch); and the field is evaluated at a landing (for the sliding
multipliers there) only when some pair is sliding. A landing on one neuron takes a fast
path (``_handle_one``, and ``_handle_faces`` when
the neuron has several candidate faces): the pattern and the violation test are updated
in place, and when a slide starts or ends only the field's faces are recomputed, from
per-point rows tabulated once and cached multi-face layouts. Floating-point warnings are
silenced once for the whole run by the caller (overflow is detected and reported, not
warned about).
"""

from __future__ import annotations

import math

import numpy as np

from ..trajectory import SWITCH_DTYPE, underflow_message
from ._field import BAND, PatternField
from ._landing import _ALL, _ANY, ALPHA_GROUP, FaceEvents

# Dormand-Prince 5(4) tableau, error weights and dense-output matrix (as in scipy's RK45).
_C = np.array([0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1])
_A = [
    np.array(row)
    for row in (
        [],
        [1 / 5],
        [3 / 40, 9 / 40],
        [44 / 45, -56 / 15, 32 / 9],
        [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
        [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
    )
]
_B = np.array([35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84])
_AM = np.zeros((7, 6))  # rows 1-5: the stages' coefficients; row 6: the weights _B
for _s in range(1, 6):
    _AM[_s, :_s] = _A[_s]
_AM[6] = _B
_E = np.array([-71 / 57600, 0, 71 / 16695, -71 / 1920, 17253 / 339200, -22 / 525, 1 / 40])
# the same with a leading column (row) for the state y, for products against (y, stages)
_AMY = np.hstack([np.zeros((7, 1)), _AM])
_EY = np.concatenate([[0.0], _E])
_P = np.array(
    [
        [1, -8048581381 / 2820520608, 8663915743 / 2820520608, -12715105075 / 11282082432],
        [0, 0, 0, 0],
        [0, 131558114200 / 32700410799, -68118460800 / 10900136933, 87487479700 / 32700410799],
        [0, -1754552775 / 470086768, 14199869525 / 1410260304, -10690763975 / 1880347072],
        [0, 127303824393 / 49829197408, -318862633887 / 49829197408, 701980252875 / 199316789632],
        [0, -282668133 / 205662961, 2019193451 / 616988883, -1453857185 / 822651844],
        [0, 40617522 / 29380423, -110615467 / 29380423, 69997945 / 29380423],
    ]
)
_PT = np.ascontiguousarray(_P.T)
# rows (y, stages): y(x) = _PY (1, h x, h x^2, h x^3, h x^4) . (y, K_1, ..., K_7)
_PY = np.zeros((8, 5))
_PY[0, 0] = 1.0
_PY[1:, 1:] = _P

#: Events whose located times lie within this fraction of the step are handled together.
GROUP_WINDOW = 1e-9
#: Number of consecutive event landings without progress in time that counts as a stall.
MAX_STALL = 200
_KINDS = np.array(["off", "on", "slide"])
_NONE = np.zeros(0, int)
_MIN, _MAX = np.minimum.reduce, np.maximum.reduce  # (.min() / .max() without the wrappers)


#: Coarse grid on [0, 1] used to bracket the roots of pre-activation quartics.
_GRID = np.linspace(0.0, 1.0, 17)
_GRID_POWERS = _GRID[None, :] ** np.arange(5)[:, None]


def _rtsafe(c, lo, hi, iters: int = 40):
    """Vectorized safeguarded Newton for the quartics g(x) = c[0] + c[1] x + ... + c[4] x^4
    with g(lo) <= 0 < g(hi) (each column of ``c`` is one polynomial): Newton steps that
    leave the bracket are replaced by bisection. Returns the roots to ~1e-13 in x."""
    x = 0.5 * (lo + hi)
    done = np.zeros(x.size, bool)
    for _ in range(iters):
        gx = c[0] + x * (c[1] + x * (c[2] + x * (c[3] + x * c[4])))
        dg = c[1] + x * (2 * c[2] + x * (3 * c[3] + x * 4 * c[4]))
        bad = gx > 0
        hi, lo = np.where(bad, x, hi), np.where(bad, lo, x)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = x - gx / dg
        inside = (newton >= lo) & (newton <= hi)
        x_new = np.where(done, x, np.where(inside, newton, 0.5 * (lo + hi)))
        done |= (np.abs(x_new - x) <= 1e-13) | (hi - lo <= 1e-12)
        x = x_new
        if done.all():
            break
    return x


def _rtsafe1(c0, c1, c2, c3, c4, lo, hi, iters: int = 40):
    """Scalar version of :func:`_rtsafe` (Python floats: far cheaper for one root)."""
    x = 0.5 * (lo + hi)
    for _ in range(iters):
        gx = c0 + x * (c1 + x * (c2 + x * (c3 + x * c4)))
        dg = c1 + x * (2 * c2 + x * (3 * c3 + x * 4 * c4))
        if gx > 0:
            hi = x
        else:
            lo = x
        newton = x - gx / dg if dg != 0 else math.nan
        x_new = newton if lo <= newton <= hi else 0.5 * (lo + hi)
        if abs(x_new - x) <= 1e-13 or hi - lo <= 1e-12:
            return x_new
        x = x_new
    return x


def _powers(x):
    """(1, x, x^2, x^3, x^4): ``_powers(x) @ coef`` evaluates the quartics in the columns of coef."""
    x2 = x * x
    return np.array([1.0, x, x2, x2 * x, x2 * x2])




class AdaptiveSolver(FaceEvents):
    """State and bookkeeping of one adaptive run; see :func:`reluflow.gradient_flow`.
    :meth:`step` makes one accepted step (cut at the first event)."""

    method = "adaptive"

    def __init__(self, a0, W0, data, loss, t_end, rtol, atol, recorder, outer_rate: float = 1.0) -> None:
        self.m, self.d = W0.shape
        self.field = PatternField(data.X, data, loss, outer_rate)
        self.rtol, self.atol = rtol, atol
        self.rec = recorder
        self.y = np.concatenate([a0, W0.ravel()])
        self.t = 0.0
        self.nsteps = self.nrejected = self.event_groups = 0
        self._stall = 0
        self._sw: list[tuple] = []  # switch log: chunks (t, neurons, points, codes)
        n = data.n
        xn = self.field.xn
        self._inv_xn = np.divide(1.0, xn, out=np.zeros_like(xn), where=xn > 0)
        # (the violation test's row factors, 1/BAND folded in)
        self._vb1, self._vb2 = self._inv_xn / BAND, 2.0 * self._inv_xn / BAND
        self._all_xpos = bool(np.all(xn > 0))
        self.slide_start = np.full((self.m, n), np.nan)
        self._jof = np.repeat(np.arange(self.m), n)  # neuron and point of a flat pair index
        self._iof = np.tile(np.arange(n), self.m)
        self._qbuf, self._fbuf = np.empty((self.m, n)), np.empty((self.m, n), bool)  # (per step)
        self._ones_d = np.ones(self.d)
        self._hPY = _PY.copy()  # (_PY with h folded into the stages' rows; see _locate_pairs)
        self.sliding_time = 0.0
        self.sliding_entries = 0
        P = W0 @ data.X.T
        S, slide = P > 0, np.zeros_like(P, dtype=bool)
        self._set_pattern(S, slide)
        near = self._near_face(self.y, P, np.arange(self.m))
        r = near.any(axis=1).nonzero()[0]
        if r.size:  # (the pattern is updated; the state keeps its unsnapped values)
            self._handle(self.y, r, near[r], None)
        self.k0, self.alpha0 = self.field(self.y, self.m)
        self.initial_step(t_end)

    @property
    def nfev(self) -> int:
        return self.field.nfev

    @property
    def events(self) -> int:
        return self.event_groups

    @property
    def switches(self) -> np.ndarray:
        """The switch log as an array of :data:`SWITCH_DTYPE`."""
        if not self._sw:
            return np.zeros(0, SWITCH_DTYPE)
        # (chunks hold arrays, or ints for a single switch)
        out = np.empty(sum(np.size(c[1]) for c in self._sw), SWITCH_DTYPE)
        out["t"] = np.concatenate([np.full(np.size(c[1]), c[0]) for c in self._sw])
        out["neuron"] = np.concatenate([np.ravel(c[1]) for c in self._sw])
        out["point"] = np.concatenate([np.ravel(c[2]) for c in self._sw])
        out["kind"] = _KINDS[np.concatenate([np.ravel(c[3]) for c in self._sw])]
        return out

    def initial_step(self, t_end) -> None:
        """Starting step size (the heuristic of Hairer, Norsett & Wanner, as in scipy)."""
        if not np.all(np.isfinite(self.k0)):
            self.h = 0.0
            return
        scale = self.atol + np.abs(self.y) * self.rtol
        with np.errstate(over="ignore", invalid="ignore"):
            d0 = np.sqrt(np.mean((self.y / scale) ** 2))
            d1 = np.sqrt(np.mean((self.k0 / scale) ** 2))
            h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
            k1, _ = self.field(self.y + h0 * self.k0, self.m, False)
            d2 = np.sqrt(np.mean(((k1 - self.k0) / scale) ** 2)) / h0
            h1 = max(1e-6, h0 * 1e-3) if max(d1, d2) <= 1e-15 else (0.01 / max(d1, d2)) ** 0.2
        h = min(100 * h0, h1, t_end)
        self.h = h if np.isfinite(h) and h > 0 else 1e-12 * t_end

    # ---------------------------------------------------------------- helpers
    def _W(self, y):
        return y[self.m :].reshape(self.m, self.d)

    def _set_pattern(self, S, slide) -> None:
        """Freeze a pattern in the field and precompute the signed, scaled violation test:
        pair (j, i) has left its band when P_ji * _viol[j, i] > ||w_j|| (BAND folded in)."""
        self.field.set_pattern(S, slide)
        Sf = self.field.Sf
        self._sgn = 1.0 - 2.0 * Sf
        viol = self._vb1 - self._vb2 * Sf
        if self.field.nfaces:
            viol *= ~slide
        self._viol = viol

    def _wnorm(self, W):
        n2 = np.dot(W * W, self._ones_d)
        return np.sqrt(n2, out=n2)

    # ---------------------------------------------------------------- one step
    def _try_step(self, h):
        y, m, field = self.y, self.m, self.field
        # rows of KY: y, then the 7 stages; row s of hA combines rows 0..s into stage s's
        # state (row 6: y_new), so y is added inside the same product
        hA = h * _AMY
        hA[:, 0] = 1.0
        KY = np.empty((8, y.size))
        KY[0] = y
        KY[1] = self.k0
        ys = np.empty(y.size)
        for s in range(1, 6):
            np.dot(hA[s, : s + 1], KY[: s + 1], out=ys)
            field(ys, m, False, KY[s + 1])
        y_new = np.dot(hA[6, :7], KY[:7])
        _, alpha_new = field(y_new, m, True, KY[7])
        scale = np.abs(y)
        np.maximum(scale, np.abs(y_new), out=scale)
        scale *= self.rtol
        scale += self.atol
        e = np.dot(_EY, KY)  # (np.dot: less call overhead than @)
        e /= scale
        err = h * math.sqrt(float(np.dot(e, e)) / e.size)
        return y_new, KY, alpha_new, err

    def step(self, t_end) -> str | None:
        """Advance by one accepted step (possibly cut at an event). Returns an error
        message on failure, else None."""
        if not _ALL(np.isfinite(self.k0)):
            return (
                f"the gradient is not finite at t = {self.t:.6g} (the loss or its residuals "
                "overflowed; for the exponential loss, margins below -709 overflow)"
            )
        h = min(self.h, t_end - self.t)
        if not h > 0:
            return f"step size is {h!r} at t = {self.t:.6g}; the field is not finite or degenerate"
        while True:  # (floating-point warnings are silenced for the whole run by the caller)
            y_new, KY, alpha_new, err = self._try_step(h)
            if not (_ALL(np.isfinite(y_new)) and math.isfinite(err)):
                err = math.inf
            if err <= 1.0:
                break
            self.nrejected += 1
            h *= max(0.2, 0.9 * err**-0.2) if math.isfinite(err) else 0.2
            if h < 1e-14 * max(1.0, abs(self.t)):
                return underflow_message(h, self.t, math.isfinite(err), float(_MAX(np.abs(self.y))))
        self.nsteps += 1
        self.h = h * (min(10.0, 0.9 * err**-0.2) if err > 0 else 10.0)
        # pairs whose sign left the band on the wrong side of their frozen state (P at y_new
        # is left in the field by the last stage)
        W_new = self._W(y_new)
        thr = self._wnorm(W_new)
        np.multiply(self.field.P, self._viol, out=self._qbuf)
        flat = np.greater(self._qbuf, thr[:, None], out=self._fbuf).ravel().nonzero()[0]
        any_pair = flat.size > 0
        alpha_flags = None
        if alpha_new.size and not (_MIN(alpha_new) >= 0 and _MAX(alpha_new) <= 1):  # (or NaN)
            alpha_flags = ~((alpha_new >= 0) & (alpha_new <= 1))
        if not any_pair and alpha_flags is None:
            self._advance(h, KY, y_new, alpha_new)
            return None
        x_star, loc = self._locate_pairs(h, KY, flat) if any_pair else (1.0, None)
        if alpha_flags is not None:
            x_star = self._locate_alpha(h, KY, x_star, alpha_flags)
        return self._land(h, KY, x_star, loc)

    @staticmethod
    def _dense(h, KY, x):
        """The dense output at the fraction x of the step, from the rows (y, stages) KY."""
        hx = h * x
        hx2 = hx * x
        return np.dot(np.dot(_PY, np.array([1.0, hx, hx2, hx2 * x, hx2 * x * x])), KY)

    def _advance(self, h, KY, y_new, alpha_new):
        dense = self._dense
        self.rec.add_interval(self.t, self.t + h, lambda x: dense(h, KY, x), h)
        self.t += h
        self.y = self._project(y_new)
        self.k0, self.alpha0 = KY[7], alpha_new  # first same as last
        self.rec.add_point(self.t, self.y)

    # ---------------------------------------------------------------- events
    def _locate_pairs(self, h, KY, flat):
        """Earliest crossing among the flagged pairs (flat indices ``flat`` into (m, n))
        on the dense output (a quartic in x):
        all are bracketed on a coarse grid, the earliest root is refined by safeguarded
        Newton. Returns (x*, (jj, ii, coef)) with the flagged pairs and their quartics
        g = coef[0] + ... + coef[4] x^4, g(0) <= 0, violation where g > 0."""
        m, d = self.m, self.d
        jj, ii = self._jof.take(flat), self._iof.take(flat)
        # w_j(x) = w_j + h * sum_k x^k (K^T _P)_jk: start and dense-output coefficients
        # of every weight in one (m d, 5) product over the rows (y, stages) of KY (h folded
        # into the weights), then <., x_i> for the flagged pairs
        hPY = self._hPY
        np.multiply(_P, h, out=hPY[1:, 1:])
        Z = np.dot(KY[:, m:].T, hPY)
        C = np.einsum("edk,ed->ek", Z.reshape(m, d, 5).take(jj, 0), self.field.X.take(ii, 0))
        # violation: g = sgn * (p - thr) > 0 with the threshold thr = 0, or the far edge of
        # the band (sgn * thr = tau) for a pair that starts inside it on the wrong side
        C *= self._sgn.take(flat)[:, None]  # on: -1, off: +1
        u = C[:, 0]
        inside = u > 0
        if np.count_nonzero(inside):
            tau = (BAND * self._wnorm(self._W(self.y))).take(jj) * self.field.xn.take(ii)
            C[:, 0] = np.minimum(u - tau * inside, 0.0)  # g(0) <= 0 < g(1)
        coef = C.T
        # Bracket every root on a coarse grid; only pairs whose first crossing lies in the
        # earliest cell can hold the earliest event. Refine the one that linear
        # interpolation puts first, then make sure no other crossed before it.
        G = C @ _GRID_POWERS
        pos = G > 0  # (column 0 never: g(0) <= 0)
        k = int(_ANY(pos, axis=0).argmax())  # first cell with a root
        if k == 0:  # no grid point above 0
            return 1.0, (jj, ii, coef)
        cand = pos[:, k].nonzero()[0]
        lo, hi = float(_GRID[k - 1]), float(_GRID[k])
        if cand.size == 1:
            return _rtsafe1(*coef[:, cand[0]].tolist(), lo, hi), (jj, ii, coef)
        c = coef.take(cand, 1)
        Gc = G.take(cand, 0)
        gl, gh = Gc[:, k - 1], Gc[:, k]
        best = int(np.argmin(gl / (gl - gh)))  # first by linear interpolation
        x = _rtsafe1(*c[:, best].tolist(), lo, hi)
        for _ in range(20):
            below = _powers(x - 1e-12) @ c
            if not _ANY(below > 0):
                break
            best = int(np.argmax(below))
            x = _rtsafe1(*c[:, best].tolist(), lo, x - 1e-12)
        else:
            x = float(_rtsafe(c, np.full(cand.size, lo), np.full(cand.size, hi)).min())
        return x, (jj, ii, coef)

    def _locate_alpha(self, h, KY, x_hi, flags):
        """Earliest time in (0, x_hi] at which a flagged multiplier leaves [0, 1]:
        Illinois (safeguarded secant) on phi = min(alpha, 1 - alpha) over flagged faces."""

        def phi(x):
            _, alpha = self.field(self._dense(h, KY, x), self.m)
            al = alpha[flags]
            al = np.where(np.isfinite(al), al, -1.0)
            return float(np.min(np.minimum(al, 1.0 - al)))

        f_hi = phi(x_hi) if x_hi < 1.0 else None
        if f_hi is not None and f_hi >= 0:
            return x_hi
        a0 = self.alpha0[flags]
        lo, f_lo = 0.0, float(np.min(np.minimum(a0, 1.0 - a0))) if a0.size else 0.0
        hi = x_hi
        f_hi = f_hi if f_hi is not None else phi(hi)
        f_lo = max(f_lo, 0.0)
        side = 0
        for _ in range(60):
            if hi - lo <= 1e-13 or f_hi > -1e-14:
                break
            x = hi - f_hi * (hi - lo) / (f_hi - f_lo) if f_hi != f_lo else 0.5 * (lo + hi)
            if not lo < x < hi:
                x = 0.5 * (lo + hi)
            fx = phi(x)
            if fx < 0:
                hi, f_hi = x, fx
                if side == -1:
                    f_lo *= 0.5
                side = -1
            else:
                lo, f_lo = x, fx
                if side == 1:
                    f_hi *= 0.5
                side = 1
        return hi

    def _land(self, h, KY, x_star, loc) -> str | None:
        """Move to the event time and handle every event of the group."""
        F, m = self.field, self.m
        t_star = self.t + x_star * h
        dense = self._dense
        self.rec.add_interval(self.t, t_star, lambda x: dense(h, KY, x), h)
        y = dense(h, KY, x_star)
        if loc is not None:
            jj, ii, coef = loc
            hit = (np.dot(_powers(x_star + GROUP_WINDOW), coef) > 0).nonzero()[0]
            gj, gi = jj.take(hit), ii.take(hit)
        else:
            gj = gi = _NONE
        extra = None  # neurons whose sliding multiplier is at (or past) 0 or 1
        if F.nfaces:
            # the old pattern's multipliers at the landing: which slides end here
            _, alpha = F(y, m)
            P, rho = F.P, F.rho
            if not (_MIN(alpha) >= ALPHA_GROUP and _MAX(alpha) <= 1 - ALPHA_GROUP):  # (or NaN)
                extra = self._near_boundary(alpha, self.alpha0)
        else:
            P, rho = np.dot(self._W(y), F.XT), None
        progress = t_star > self.t + 1e-12 * max(1.0, abs(self.t))
        self.t = t_star
        self.event_groups += 1
        self._stall = 0 if progress else self._stall + 1
        if self._stall > MAX_STALL:
            return (
                f"stalled at t = {self.t:.6g}: {MAX_STALL} activation events without progress "
                "in time (Zeno-like chattering at an activation boundary)"
            )
        # the common case (one pair, one face): fast path, the same arithmetic
        if not (extra is None and gj.size == 1 and self._handle_one(y, int(gj[0]), int(gi[0]), P, rho)):
            group = np.zeros((m, F.n), bool)
            group[gj, gi] = True
            rows = group.any(axis=1)
            if extra is not None:
                rows |= extra
            # other faces matter only for neurons with an event
            r = rows.nonzero()[0]
            y = self._handle(y, r, group[r] | self._near_face(y, P, r), rho, P, events=group[r])
        self.y = y
        self.k0, self.alpha0 = F(y, m)
        self.rec.add_point(self.t, y)
        return None

    def _project(self, y):
        """Project sliding neurons back onto their faces (removes drift)."""
        if not self.field.nfaces:
            return y
        y = y.copy()
        self.field.project(self._W(y))
        return y

    def finish(self, status: int) -> dict:
        """The run's counters, with the pairs still sliding at the end accounted for."""
        open_ = ~np.isnan(self.slide_start)
        self.sliding_time += float(np.sum(self.t - self.slide_start[open_]))
        return dict(
            nrejected=self.nrejected,
            switches=self.switches,
            event_groups=self.event_groups,
            sliding_time=self.sliding_time,
            sliding_entries=self.sliding_entries,
            sliding_at_end=int(open_.sum()),
        )
