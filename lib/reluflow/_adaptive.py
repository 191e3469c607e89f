"""Dormand-Prince 5(4) with activation events and Filippov sliding (private).

Chapter 1, "A solver that respects the kinks", explains the algorithm:
each step integrates a smooth field (pattern and sliding set frozen across all stages);
after an accepted step, sign changes of pre-activations and sliding multipliers leaving
[0, 1] are located on the dense output; the solver lands on the earliest one, handles all
events within a tiny window together, solves each affected neuron's face problem and
restarts in the new pattern.
"""

from __future__ import annotations

import numpy as np

from ._field import FACE_TOL, PatternField, solve_faces

# Dormand-Prince 5(4) tableau, error weights and dense-output matrix (as in scipy's RK45).
_C = np.array([0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1])
_A = [
    [],
    [1 / 5],
    [3 / 40, 9 / 40],
    [44 / 45, -56 / 15, 32 / 9],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
]
_B = np.array([35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84])
_E = np.array([-71 / 57600, 0, 71 / 16695, -71 / 1920, 17253 / 339200, -22 / 525, 1 / 40])
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

#: Half-width of the band around a face, relative to ||w_j|| ||x_i||, inside which a
#: pre-activation is not yet counted as having changed sign.
BAND = 1e-10
#: Events whose located times lie within this fraction of the step are handled together.
GROUP_WINDOW = 1e-9
#: Sliding multipliers within this distance of 0 or 1 at a landing are re-examined.
ALPHA_GROUP = 1e-8
#: Number of consecutive event landings without progress in time that counts as a stall.
MAX_STALL = 200


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


class AdaptiveSolver:
    """State and bookkeeping of one adaptive run; see :func:`reluflow.gradient_flow`."""

    def __init__(self, a0, W0, data, loss, rtol, atol, max_steps, recorder) -> None:
        self.m, self.d = W0.shape
        self.field = PatternField(data.X, data, loss)
        self.rtol, self.atol, self.max_steps = rtol, atol, max_steps
        self.rec = recorder
        self.y = np.concatenate([a0, W0.ravel()])
        self.t = 0.0
        self.nsteps = self.nrejected = self.event_groups = 0
        self.switches: list[tuple] = []
        n = data.n
        self.slide_start = np.full((self.m, n), np.nan)
        self.sliding_time = 0.0
        self.sliding_entries = 0
        P = W0 @ data.X.T
        S, slide = P > 0, np.zeros_like(P, dtype=bool)
        self.field.set_pattern(S, slide)
        near = self._near_face(self.y)
        if near.any():
            self._handle(self.y, near, np.zeros(self.m, bool))
        self.k0, self.alpha0 = self.field(self.y, self.m)

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
            k1, _ = self.field(self.y + h0 * self.k0, self.m)
            d2 = np.sqrt(np.mean(((k1 - self.k0) / scale) ** 2)) / h0
            h1 = max(1e-6, h0 * 1e-3) if max(d1, d2) <= 1e-15 else (0.01 / max(d1, d2)) ** 0.2
        h = min(100 * h0, h1, t_end)
        self.h = h if np.isfinite(h) and h > 0 else 1e-12 * t_end

    # ---------------------------------------------------------------- helpers
    def _W(self, y):
        return y[self.m :].reshape(self.m, self.d)

    def _tau(self, W):
        return BAND * np.linalg.norm(W, axis=1)[:, None] * self.field.xn[None, :]

    def _near_face(self, y):
        """Pairs (outside the sliding set) within the band of their face."""
        W = self._W(y)
        tau = self._tau(W)
        return (np.abs(W @ self.field.XT) <= tau) & (tau > 0) & ~self.field.slide

    def _violations(self, y):
        """Pairs whose sign left the band on the wrong side of their frozen state."""
        W = self._W(y)
        P, tau = W @ self.field.XT, self._tau(W)
        S, sl = self.field.S, self.field.slide
        return ~sl & ((S & (P < -tau)) | (~S & (P > tau)))

    def _alpha_bad(self, alpha):
        return (alpha < 0) | (alpha > 1) | ~np.isfinite(alpha)

    # ---------------------------------------------------------------- one step
    def _try_step(self, h):
        K = np.empty((7, self.y.size))
        K[0] = self.k0
        for s in range(1, 6):
            dy = np.dot(_A[s], K[:s]) * h
            K[s], _ = self.field(self.y + dy, self.m)
        y_new = self.y + h * np.dot(_B, K[:6])
        K[6], alpha_new = self.field(y_new, self.m)
        scale = self.atol + np.maximum(np.abs(self.y), np.abs(y_new)) * self.rtol
        err = np.sqrt(np.mean((h * np.dot(_E, K) / scale) ** 2))
        return y_new, K, alpha_new, err

    def step(self, t_end) -> str | None:
        """Advance by one accepted step (possibly cut at an event). Returns an error
        message on failure, else None."""
        if not np.all(np.isfinite(self.k0)):
            return (
                f"the gradient is not finite at t = {self.t:.6g} (the loss or its residuals "
                "overflowed; for the exponential loss, margins below -709 overflow)"
            )
        h = min(self.h, t_end - self.t)
        if not h > 0:
            return f"step size is {h!r} at t = {self.t:.6g}; the field is not finite or degenerate"
        while True:
            with np.errstate(over="ignore", invalid="ignore"):
                y_new, K, alpha_new, err = self._try_step(h)
            if not (np.all(np.isfinite(y_new)) and np.isfinite(err)):
                err = np.inf
            if err <= 1.0:
                break
            self.nrejected += 1
            h *= max(0.2, 0.9 * err**-0.2) if np.isfinite(err) else 0.2
            if h < 1e-14 * max(1.0, abs(self.t)):
                return f"step size underflow (h = {h:.3g}) at t = {self.t:.6g}; the field is not finite or too stiff"
        self.nsteps += 1
        self.h = h * (min(10.0, 0.9 * err**-0.2) if err > 0 else 10.0)
        Q = K.T @ _P
        pair_flags = self._violations(y_new)
        alpha_flags = self._alpha_bad(alpha_new)
        if not pair_flags.any() and not alpha_flags.any():
            self._advance(h, Q, y_new, K[6], alpha_new)
            return None
        x_star, pairs = self._locate_pairs(h, Q, pair_flags)
        if alpha_flags.any():
            x_star = self._locate_alpha(h, Q, x_star, alpha_flags)
        return self._land(h, Q, x_star, pairs)

    def _dense(self, h, Q, x):
        return self.y + h * (Q @ (x ** np.arange(1, 5)))

    def _advance(self, h, Q, y_new, k_new, alpha_new):
        self.rec.add_interval(self.t, self.t + h, lambda x: self._dense(h, Q, x), h)
        self.t += h
        self.y = self._project(y_new)
        self.k0, self.alpha0 = k_new, alpha_new
        self.rec.add_point(self.t, self.y)

    # ---------------------------------------------------------------- events
    def _locate_pairs(self, h, Q, flags):
        """Earliest crossing among flagged pairs on the dense output (a quartic in x),
        by a vectorized Illinois iteration; returns (x*, list of (j, i, x_root))."""
        jj, ii = np.nonzero(flags)
        if jj.size == 0:
            return 1.0, []
        X = self.field.X
        W0 = self._W(self.y)
        QW = Q[self.m :].reshape(self.m, self.d, 4)
        p0 = np.einsum("ed,ed->e", W0[jj], X[ii])
        c = h * np.einsum("edk,ed->ke", QW[jj], X[ii])
        tau = BAND * np.linalg.norm(W0[jj], axis=1) * self.field.xn[ii]
        on = self.field.S[jj, ii]
        thr = np.where(on, np.where(p0 >= 0, 0.0, -tau), np.where(p0 <= 0, 0.0, tau))
        sgn = np.where(on, -1.0, 1.0)  # violation: g = sgn * (p - thr) > 0

        coef = sgn * np.vstack([p0 - thr, c])  # g(x) = sgn * (p(x) - thr), g(0) <= 0 < g(1)
        coef[0] = np.minimum(coef[0], 0.0)
        # Bracket every root on a coarse grid; only pairs whose first crossing lies in the
        # earliest cell can hold the earliest event, so only they are refined.
        first = np.argmax(coef.T @ _GRID_POWERS > 0, axis=1)
        cand = np.flatnonzero(first == first.min())
        k = first.min()
        x_root = _rtsafe(coef[:, cand], np.full(cand.size, _GRID[k - 1]), np.full(cand.size, _GRID[k]))
        return float(x_root.min()), list(
            zip(jj[cand].tolist(), ii[cand].tolist(), x_root.tolist(), strict=True)
        )

    def _alpha_at(self, h, Q, x):
        y = self._dense(h, Q, x)
        _, alpha = self.field(y, self.m)
        return alpha

    def _locate_alpha(self, h, Q, x_hi, flags):
        """Earliest time in (0, x_hi] at which a flagged multiplier leaves [0, 1]:
        Illinois (safeguarded secant) on phi = min(alpha, 1 - alpha) over flagged faces."""

        def phi(x):
            al = self._alpha_at(h, Q, x)[flags]
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

    def _land(self, h, Q, x_star, pairs) -> str | None:
        """Move to the event time and handle every event of the group."""
        t_star = self.t + x_star * h
        self.rec.add_interval(self.t, t_star, lambda x: self._dense(h, Q, x), h)
        y = self._dense(h, Q, x_star)
        group = np.zeros_like(self.field.S)
        for j, i, x in pairs:
            if x <= x_star + GROUP_WINDOW:
                group[j, i] = True
        _, alpha = self.field(y, self.m)
        nbad = self._near_boundary(alpha)
        progress = t_star > self.t + 1e-12 * max(1.0, abs(self.t))
        self.t = t_star
        self.event_groups += 1
        self._stall = 0 if progress else getattr(self, "_stall", 0) + 1
        if self._stall > MAX_STALL:
            return (
                f"stalled at t = {self.t:.6g}: {MAX_STALL} activation events without progress "
                "in time (Zeno-like chattering at an activation boundary)"
            )
        rows = group.any(axis=1) | nbad  # other faces matter only for neurons with an event
        self.y = self._handle(y, group | (self._near_face(y) & rows[:, None]), nbad)
        self.k0, self.alpha0 = self.field(self.y, self.m)
        self.rec.add_point(self.t, self.y)
        return None

    def _near_boundary(self, alpha):
        """Neurons whose sliding multiplier is at (or past) 0 or 1."""
        near = (alpha < ALPHA_GROUP) | (alpha > 1 - ALPHA_GROUP) | ~np.isfinite(alpha)
        owners = np.concatenate(
            [
                self.field.j1,
                np.concatenate(
                    [np.full(K.size, j) for j, K in self.field.multi.items()] or [np.zeros(0, int)]
                ),
            ]
        )
        out = np.zeros(self.m, bool)
        out[owners[near].astype(int)] = True
        return out

    def _handle(self, y, pairs, neurons):
        """Snap affected neurons onto their faces and solve their face problems."""
        F = self.field
        S, slide = F.S.copy(), F.slide.copy()
        W = self._W(y).copy()
        a = y[: self.m]
        rho = F.residuals(a, W)
        cand = (pairs | slide) & (F.xn > 0)[None, :]
        count = np.where(pairs.any(axis=1) | neurons, cand.sum(axis=1), 0)
        single = np.flatnonzero(count == 1)
        if single.size:
            self._handle_single(single, np.argmax(cand[single], axis=1), W, a, rho, S, slide)
        for j in np.flatnonzero(count > 1):
            K = np.flatnonzero(cand[j])
            XK = F.X[K]
            W[j] -= XK.T @ np.linalg.lstsq(XK @ XK.T, XK @ W[j], rcond=None)[0]
            on = S[j].copy()
            on[K] = False
            D = (on * rho) @ F.X
            q, M = XK @ D, F.gram[np.ix_(K, K)] * rho[K][None, :]
            scale = np.abs(F.gram[K] * rho[None, :]).sum(axis=1) + 1e-300
            sol = solve_faces(q, M, 1.0 if a[j] >= 0 else -1.0, scale)
            codes = sol[1] if sol is not None else np.zeros(K.size, int)
            self._record(j, K, S[j, K], slide[j, K], codes)
            S[j, K] = codes == 1
            slide[j, K] = codes == 2
        F.set_pattern(S, slide)
        y = y.copy()
        y[self.m :] = W.ravel()
        return y

    def _handle_single(self, j, k, W, a, rho, S, slide):
        """Vectorized face problem for neurons with one candidate face each: the same
        case order as :func:`solve_faces` (off, then on, then slide)."""
        F = self.field
        x = F.X[k]
        W[j] -= (np.einsum("ed,ed->e", W[j], x) / F.xn2[k])[:, None] * x
        on = S[j].copy()
        on[np.arange(j.size), k] = False
        q = np.einsum("ed,ed->e", (on * rho) @ F.X, x)
        M = rho[k] * F.xn2[k]
        s = np.where(a[j] >= 0, 1.0, -1.0)
        tol = FACE_TOL * (np.abs(F.gram[k] * rho[None, :]).sum(axis=1) + 1e-300)
        # off if <w, x> would decrease without the face's term; on if it would increase with
        # it; otherwise both one-sided fields point into the face, and
        # alpha = -q / M lies in (0, 1): slide.
        codes = np.where(s * q <= tol, 0, np.where(s * (q + M) >= -tol, 1, 2))
        old = np.where(slide[j, k], 2, S[j, k].astype(int))
        for e in np.flatnonzero(codes != old):
            self._record(
                j[e], k[e : e + 1], S[j[e], k[e : e + 1]], slide[j[e], k[e : e + 1]], codes[e : e + 1]
            )
        S[j, k] = codes == 1
        slide[j, k] = codes == 2

    def _record(self, j, K, was_on, was_slide, codes):
        for i, on, sl, c in zip(K, was_on, was_slide, codes, strict=False):
            old = 2 if sl else int(on)
            if old == c:
                continue
            self.switches.append((self.t, int(j), int(i), ("off", "on", "slide")[c]))
            if c == 2:
                self.slide_start[j, i] = self.t
                self.sliding_entries += 1
            elif old == 2:
                self.sliding_time += self.t - self.slide_start[j, i]
                self.slide_start[j, i] = np.nan

    def _project(self, y):
        """Project sliding neurons back onto their faces (removes drift)."""
        F = self.field
        if not F.j1.size and not F.multi:
            return y
        W = self._W(y).copy()
        if F.j1.size:
            x = F.X[F.k1]
            W[F.j1] -= (np.einsum("jd,jd->j", W[F.j1], x) / F.xn2[F.k1])[:, None] * x
        for j, K in F.multi.items():
            XK = F.X[K]
            W[j] -= XK.T @ np.linalg.lstsq(XK @ XK.T, XK @ W[j], rcond=None)[0]
        y = y.copy()
        y[self.m :] = W.ravel()
        return y

    def close(self):
        """Account for pairs still sliding at the end."""
        open_ = ~np.isnan(self.slide_start)
        self.sliding_time += float(np.sum(self.t - self.slide_start[open_]))
        return int(open_.sum())
