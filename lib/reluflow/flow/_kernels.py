r"""Compiled kernels of the exponential method's frozen-residual propagation (private; numba).

Imported lazily by :mod:`reluflow.flow._frozen` (numba costs ~0.4 s to import; ``import
reluflow`` does not load it). Compiled once per machine (``cache=True``).

With the residuals rho frozen the neurons are independent, so :func:`propagate` treats
them one after the other, each from its current time to the end of the step h:

1. (``start``) rows from scratch: D_on = sum_{i on} rho_i x_i, the effective D (projected off
   a single sliding face ``face1[j]``; given by the caller as ``Dext`` for two or more
   faces; ``nslide[j]`` counts them, and both are kept up to date here),
   P_i = <w, x_i>, R_i = <D, x_i>; pairs on the wrong side of their band are re-synchronised;
   pairs inside the band that the current field moves to the wrong side, and a single
   sliding face whose multiplier left [0, 1], become candidate faces.
2. Event loop: the closed form
   a(t) = a0 cosh(delta t) + p0 t sinhc(delta t), A(t) = a0 t sinhc(delta t) +
   p0 t^2 sinhc(delta t / 2)^2 / 2, w(t) = w0 + A(t) D (delta = sqrt(c) |D|, p0 = c <w0, D>),
   so <w(t), x_i> = P_i + A(t) R_i; the first crossing of each pair's threshold is the
   smallest positive root of a quadratic in s = expm1(delta t) / delta. Pairs whose
   pre-activation cannot reach the threshold over the range of A on the remaining time are
   skipped without solving (a cheap bound). The neuron advances to its earliest crossing;
   the crossings within ``window`` of it, its sliding faces and its pairs inside the band are
   its candidate faces.
3. One candidate face and no sliding face: the one-face problem is solved here (off if the
   rate without the face's term is <= tol, else on if the rate with it is >= -tol, else
   slide; the rule of :mod:`reluflow.flow._faces` for K = 1); rows are recomputed and the
   loop goes on. Two or more (``cand`` row written: 1 a candidate, 2 a candidate that
   crossed a second time in this propagation): :func:`_faces_one` snaps the neuron onto
   them and solves its face problem with :func:`solve_faces` (a port of
   :mod:`reluflow.flow._faces`), and the loop goes on; with ``compiled`` False, or when the
   log is full, the neuron pauses (``state = 1``) and the caller solves it in Python, then
   resumes it.

Codes in the log: 0 off, 1 on, 2 slide. ``state``: 0 reached h, 1 paused for its face
problem (also when the log is full), 2 chattering (more than ``max_ev`` events), 3 stalled
(``max_stall`` events without progress in time).

Speed: the loops over the points of a neuron are written without data-dependent branches
(the activation pattern is unpredictable), with the input dimension as the outer loop, so
that the compiler vectorises them; the roots are solved only for the few pairs that pass
the bound. :func:`bulk` first tries a per-neuron bound on the distance to the nearest face
(``gap``) and skips the points altogether when the neuron cannot reach it. Calls taking
arrays cost ~0.1 µs each (reference counting), so the loops over all neurons in
:func:`bulk`, :func:`sensitivity` and :func:`outputs` make none on their common path.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._field import PARALLEL_TOL

_SINHC_CUT = 1e-3
#: Floating-point licences: reassociation (vectorised sums) and fused multiply-add only;
#: inf and NaN keep their meaning (they signal "no event" and overflow).
_FAST = {"reassoc", "contract"}


@njit(cache=True, fastmath=_FAST)
def _sinhc(x):
    if abs(x) < _SINHC_CUT:
        x2 = x * x
        return 1.0 + x2 / 6.0 * (1.0 + x2 / 20.0)
    return math.sinh(x) / x


@njit(cache=True, fastmath=_FAST)
def _multiplier(qv, rho_f, gff):
    """The sliding multiplier alpha = -qv / (rho_f G_ff) of a single face (qv: <D_on without
    the face's term, x_f>). NaN when the face has no weight (rho_f = 0, e.g. an underflowed
    logistic residual): then its on and off rates agree, it cannot hold the neuron, and a
    NaN multiplier releases it (as the NaN of ``_Engine._alphas`` does)."""
    den = rho_f * gff
    if den == 0.0:
        return np.nan
    return -qv / den


@njit(cache=True, fastmath=_FAST)
def _aA(a0, p0, delta, t):
    """(a(t), A(t)) of the frozen linear flow (x = delta t >= 0): one expm1, with
    cosh x = 1 + e^2 / (2 (1 + e)), sinh x = e (2 + e) / (2 (1 + e)) and
    t^2 sinhc(x / 2)^2 = e^2 / ((1 + e) delta^2) for e = expm1(x) (no cancellation); short
    series below _SINHC_CUT, and sinh and cosh where e^2 could overflow."""
    x = delta * t
    if x < _SINHC_CUT:  # (products with the reciprocals: divisions are slow)
        x2 = x * x
        s1 = 1.0 + x2 * (1.0 / 6.0) * (1.0 + x2 * (1.0 / 20.0))
        s2 = 1.0 + x2 * (1.0 / 24.0) * (1.0 + x2 * (1.0 / 80.0))
        ch = 1.0 + 0.5 * x2 * (1.0 + x2 * (1.0 / 12.0))
        return a0 * ch + p0 * t * s1, a0 * t * s1 + 0.5 * p0 * t * t * s2 * s2
    if x < 300.0:
        e = math.expm1(x)
        ep = 1.0 + e
        sh = e * (2.0 + e) / (2.0 * ep) / delta  # t sinhc(x)
        ch = 1.0 + e * e / (2.0 * ep)
        return a0 * ch + p0 * sh, a0 * sh + 0.5 * p0 * (e * e / ep) / (delta * delta)
    s1 = _sinhc(x)
    s2 = _sinhc(0.5 * x)
    return a0 * math.cosh(x) + p0 * t * s1, a0 * t * s1 + 0.5 * p0 * t * t * s2 * s2


@njit(cache=True, fastmath=_FAST)
def _first_root(c2, c1, c0):
    """Smallest root s > 0 of c2 s^2 + c1 s + c0 (inf if none), without cancellation."""
    disc = c1 * c1 - 4.0 * c2 * c0
    if not disc >= 0.0:
        return np.inf
    q = -0.5 * (c1 + math.copysign(math.sqrt(disc), c1))
    best = np.inf
    if c2 != 0.0:
        r1 = q / c2
        if r1 > 0.0:
            best = r1
    if q != 0.0:
        r2 = c0 / q
        if r2 > 0.0 and r2 < best:
            best = r2
    return best


@njit(cache=True, fastmath=_FAST)
def _A_range(a0, p0, delta, rem):
    """Smallest and largest A(t) over 0 <= t <= rem (a changes sign at most once)."""
    lo, hi, _, _ = _A_range_end(a0, p0, delta, rem)
    return lo, hi


@njit(cache=True, fastmath=_FAST)
def _A_range_end(a0, p0, delta, rem):
    """(smallest A, largest A) over 0 <= t <= rem, and (a(rem), A(rem))."""
    ae, Ae = _aA(a0, p0, delta, rem)
    lo, hi = min(0.0, Ae), max(0.0, Ae)
    ts = -1.0
    if (a0 > 0.0 and p0 < 0.0) or (a0 < 0.0 and p0 > 0.0):  # (else a keeps its sign)
        if delta > 0.0:
            z = -a0 * delta / p0
            if z < 1.0:
                ts = math.atanh(z) / delta
        else:
            ts = -a0 / p0
    if 0.0 < ts < rem:
        _, As = _aA(a0, p0, delta, ts)
        lo, hi = min(lo, As), max(hi, As)
    return lo, hi, ae, Ae


@njit(cache=True, fastmath=_FAST)
def _dots(j, W, XT, P):
    """P_i = <w_j, x_i> for all i (loops ordered for the compiler to vectorise)."""
    d, n = XT.shape
    for i in range(n):
        P[i] = 0.0
    for k in range(d):
        wk = W[j, k]
        for i in range(n):
            P[i] += wk * XT[k, i]


@njit(cache=True, fastmath=_FAST)
def outputs(a, W, S, XT):
    """f_i = sum_j a_j S_ji <w_j, x_i> (the frozen-pattern network outputs)."""
    m = W.shape[0]
    d, n = XT.shape
    f = np.zeros(n)
    P = np.empty(n)
    for j in range(m):
        for i in range(n):  # (_dots, inline: a call with array arguments costs ~0.1 µs)
            P[i] = 0.0
        for k in range(d):
            wk = W[j, k]
            for i in range(n):
                P[i] += wk * XT[k, i]
        aj = a[j]
        for i in range(n):
            f[i] += aj * S[j, i] * P[i]
    return f


@njit(cache=True, fastmath=_FAST)
def _weighted(XT, rho):
    """RX = rho_i x_i as columns (d, n), for :func:`_drive`."""
    d, n = XT.shape
    RX = np.empty((d, n))
    for k in range(d):
        for i in range(n):
            RX[k, i] = rho[i] * XT[k, i]
    return RX


@njit(cache=True, fastmath=_FAST)
def _don_all(S, RX):
    """D_on of all neurons (m, d), in one tight loop (the hot part of :func:`bulk` and
    :func:`sensitivity`; as a separate loop it compiles to vectorised reductions)."""
    m = S.shape[0]
    d, n = RX.shape
    out = np.empty((m, d))
    for j in range(m):
        for k in range(d):
            acc = 0.0
            for i in range(n):
                acc += RX[k, i] * S[j, i]
            out[j, k] = acc
    return out


@njit(cache=True, fastmath=_FAST)
def _drive(j, S, nslide, face1, Dext, XT, G, RX, Don, D):
    """D_on and the effective D of neuron j (``RX``: :func:`_weighted` of the residuals)."""
    d, n = XT.shape
    for k in range(d):
        acc = 0.0
        for i in range(n):
            acc += RX[k, i] * S[j, i]  # (branch-free, one vectorised reduction per coordinate)
        Don[k] = acc
    _effective(j, nslide, face1, Dext, XT, G, Don, D)


@njit(cache=True, fastmath=_FAST)
def _effective(j, nslide, face1, Dext, XT, G, Don, D):
    """The effective D of neuron j from its D_on: projected off its single sliding face, or
    ``Dext[j]`` for two or more."""
    d = XT.shape[0]
    if nslide[j] >= 2:
        for k in range(d):
            D[k] = Dext[j, k]
        return
    for k in range(d):
        D[k] = Don[k]
    if nslide[j] == 1:
        f = face1[j]
        g = 0.0
        for k in range(d):
            g += D[k] * XT[k, f]
        g /= G[f, f]
        for k in range(d):
            D[k] -= g * XT[k, f]


@njit(cache=True, fastmath=_FAST)
def _scan(j, a0, p0, delta, rem, W, S, slide, XT, xn, D, band_rel, P, R, sbuf, check, s, absr, face_tol, flag,
          mark):
    """One pass over the points of neuron j: P_i = <w, x_i>, R_i = <D, x_i> and the first
    crossing s_i of each pair's threshold (``sbuf``; the smallest is returned) when its
    pre-activation can reach it over the range of A on [0, rem]. With ``check``, also the
    start-of-propagation flags: 3 a pair on the wrong side of its band (re-synchronise),
    1 a band pair the field moves to the wrong side; returns (smallest s, flags set).
    (In the pair's own sign, g = +-<w, x_i> is positive on the side of its state.)"""
    d, n = XT.shape
    _dots(j, W, XT, P)
    for i in range(n):
        R[i] = 0.0
    for k in range(d):
        dk = D[k]
        for i in range(n):
            R[i] += dk * XT[k, i]
    Alo, Ahi = _A_range(a0, p0, delta, rem)
    Alo *= 1.0 + 1e-9
    Ahi *= 1.0 + 1e-9
    wn = 0.0
    for q in range(d):
        wn += W[j, q] * W[j, q]
    bw = band_rel * math.sqrt(wn)
    nflag = 0
    if check:
        for i in range(n):
            sg = 2.0 * S[j, i] - 1.0
            g = sg * P[i]
            tau = bw * xn[i]
            free = slide[j, i] == 0
            wrong = (g < -tau) & free
            band = (g <= tau) & (tau > 0.0) & (s * sg * R[i] < -face_tol * absr[i]) & free & ~wrong
            f = 3 * wrong + band
            flag[i] = f
            nflag += f > 0
    # cheap bound, without branches: can the distance qq to the threshold (0, or the band's
    # far edge) reach 0 as qq + A gr for A in [Alo, Ahi] (Alo <= 0 <= Ahi)?
    nmark = 0
    for i in range(n):
        sg = 2.0 * S[j, i] - 1.0
        g = sg * P[i]
        gr = sg * R[i]
        tau = bw * xn[i]
        qq = g if g > tau else g + tau
        lo = qq + min(Alo * gr, Ahi * gr)
        ok = (lo <= 0.0) & (slide[j, i] == 0) & (gr != 0.0) & (xn[i] > 0.0) & (g >= -tau)
        mark[i] = ok
        nmark += ok
        sbuf[i] = np.inf
    sbest = np.inf
    if nmark:
        c2f = a0 * delta + p0
        for i in range(n):
            if mark[i]:
                sg = 1.0 if S[j, i] else -1.0
                g = sg * P[i]
                gr = sg * R[i]
                tau = bw * xn[i]
                qq = g if g > tau else g + tau
                sr = _first_root(gr * c2f, 2.0 * (gr * a0 + delta * qq), 2.0 * qq)
                sbuf[i] = sr
                if sr < sbest:
                    sbest = sr
    return sbest, nflag


@njit(cache=True, fastmath=_FAST)
def _rates(j, a, W, D, c, sqrt_c):
    """(a0, p0 = c <w, D>, delta = sqrt(c) |D|) of neuron j."""
    dd = 0.0
    p0 = 0.0
    for q in range(D.size):
        dd += D[q] * D[q]
        p0 += W[j, q] * D[q]
    return a[j], c * p0, sqrt_c * math.sqrt(dd)


@njit(cache=True, fastmath=_FAST)
def _one_face(j, k, t, exact, a, W, S, slide, nslide, face1, XT, G, rho, absr, face_tol, Don, P, log, nlog):
    """Snap neuron j (no other sliding face) onto the face of point k and solve its
    one-face problem; returns the new number of log rows (-1 if the log is full)."""
    d = XT.shape[0]
    if nlog >= log.shape[0]:
        return -1
    gkk = G[k, k]
    coef = P[k] / gkk
    for q in range(d):
        W[j, q] -= coef * XT[q, k]
    if d == 1:
        W[j, 0] = 0.0
    qv = 0.0  # <D_on without the face's term, x_k>
    for q in range(d):
        qv += Don[q] * XT[q, k]
    if S[j, k]:
        qv -= rho[k] * gkk
    M = rho[k] * gkk
    s = 1.0 if a[j] >= 0 else -1.0
    tol = 0.0 if exact else face_tol * absr[k]
    if s * qv <= tol:
        code = 0
    elif s * (qv + M) >= -tol:
        code = 1
    else:
        code = 2
    old = 2 if slide[j, k] else (1 if S[j, k] else 0)
    if code != old:
        log[nlog, 0] = t
        log[nlog, 1] = j
        log[nlog, 2] = k
        log[nlog, 3] = old
        log[nlog, 4] = code
        nlog += 1
        S[j, k] = code == 1
        slide[j, k] = code == 2
    nslide[j] = 1 if code == 2 else 0
    face1[j] = k if code == 2 else -1
    return nlog


@njit(cache=True, fastmath=_FAST)
def _advance(j, a, W, D, a0, p0, delta, t):
    """Move neuron j along its closed form by time t; returns A(t)."""
    ae, Ae = _aA(a0, p0, delta, t)
    a[j] = ae
    for q in range(D.size):
        W[j, q] += Ae * D[q]
    return Ae


@njit(cache=True, fastmath=_FAST)
def _start(j, nflag, nsl, a, W, S, slide, nslide, face1, Dext, multi_ok, XT, G, rho, absr, face_tol, Don, P, flag,
           cand, state, log, nlog, counters, compiled):
    """The start-of-propagation checks of neuron j (module doc, step 1); returns (new log
    rows, whether the rows must be recomputed)."""
    d, n = XT.shape
    nband = 0
    if nflag:
        for i in range(n):
            if flag[i] == 3:  # on the wrong side of its band (not expected): re-synchronise
                flag[i] = 0
                if nlog >= log.shape[0]:
                    continue
                log[nlog, 0] = 0.0
                log[nlog, 1] = j
                log[nlog, 2] = i
                log[nlog, 3] = 1 if S[j, i] else 0
                log[nlog, 4] = 0 if S[j, i] else 1
                nlog += 1
                S[j, i] = not S[j, i]
                counters[1] += 1
            elif flag[i] == 1:
                nband += 1
    release = False
    if nsl == 1:
        f = face1[j]
        qv = 0.0
        for q in range(d):
            qv += Don[q] * XT[q, f]
        alpha = _multiplier(qv, rho[f], G[f, f])
        release = not (0.0 <= alpha <= 1.0)
    elif nsl >= 2:
        release = not multi_ok[j]
    ncand = nband + (nsl if (nband > 0 or release) else 0)
    if ncand >= 2:
        for i in range(n):
            cand[j, i] = 1 if (flag[i] == 1 or slide[j, i]) else 0
        if compiled:
            nlog2 = _faces_one(j, 0.0, a, W, S, slide, nslide, face1, Dext, XT, G, rho, absr, face_tol, cand, log,
                               nlog)
            if nlog2 >= 0:
                return nlog2, True
        state[j] = 1  # the caller solves this face problem
        return nlog, False
    if ncand == 1:
        k = face1[j] if nband == 0 else np.argmax(flag)
        nlog2 = _one_face(j, k, 0.0, False, a, W, S, slide, nslide, face1, XT, G, rho, absr, face_tol, Don, P,
                          log, nlog)
        if nlog2 < 0:  # the log is full: the caller solves this face problem
            cand[j, k] = 1
            state[j] = 1
            return nlog, False
        return nlog2, True
    return nlog, nflag > 0


@njit(cache=True, fastmath=_FAST)
def _buffers(n, d):
    """Work rows of one neuron: P, R, sbuf, D_on, D, flag, rbuf, mark."""
    return (np.empty(n), np.empty(n), np.empty(n), np.empty(d), np.empty(d), np.zeros(n, np.uint8), np.empty(n),
            np.zeros(n, np.uint8))


@njit(cache=True, fastmath=_FAST)
def _snap_one(j, W, XT, G, f):
    """Project neuron j back onto the face of point f."""
    g = 0.0
    for q in range(XT.shape[0]):
        g += W[j, q] * XT[q, f]
    g /= G[f, f]
    for q in range(XT.shape[0]):
        W[j, q] -= g * XT[q, f]


@njit(cache=True, fastmath=_FAST)
def bulk(a, W, S, slide, nslide, face1, Dext, multi_ok, XT, G, xn, rho, absr, h, c, sqrt_c, band_rel, face_tol,
         state, elapsed, Dst, alpha1, gap, gap_out):
    """The common case, kept small so that it compiles to tight loops: each neuron whose
    start-of-propagation checks are clean and that has no crossing before h moves to h by
    its closed form (``state`` 0); the others are left untouched with ``state`` 5 for
    :func:`propagate`. Also stores each neuron's effective D at the start (``Dst``) and the
    multiplier of a single sliding face (``alpha1``, NaN without one). Returns the number
    left to :func:`propagate`.

    ``gap[j]``: a lower bound on the distance of w_j to the nearest band edge
    min_i ((2 S_ji - 1) <w_j, x_i> - BAND |w_j| |x_i|) / |x_i| over its pairs not sliding (0 if
    unknown; the pre-activation signed by the pair's pattern, so a pair on the wrong side gives 0).
    That distance changes by at most (1 + BAND) |w_j(t) - w_j(0)| = (1 + BAND) |A(t)| |D_j|,
    so a neuron whose largest displacement over [0, h] is below its gap has no crossing and
    no pair in its band: it moves to h without looking at its points. ``gap_out``: the same
    bound at h for the neurons moved here (0 for the others)."""
    m = a.size
    d, n = XT.shape
    P, R, sbuf, Don, D, flag, rbuf, mark = _buffers(n, d)
    DON = _don_all(S, _weighted(XT, rho))
    # (the loop over all neurons makes no calls taking arrays: each costs ~0.1 µs, and in a
    # loop body even when not taken; the few neurons that need them are listed for later)
    DEF = DON.copy()  # effective D (as _effective)
    for j in range(m):
        if nslide[j] == 1:
            f = face1[j]
            g = 0.0
            for q in range(d):
                g += DEF[j, q] * XT[q, f]
            g /= G[f, f]
            for q in range(d):
                DEF[j, q] -= g * XT[q, f]
        elif nslide[j] >= 2:
            for q in range(d):
                DEF[j, q] = Dext[j, q]
    todo = np.empty(m, np.int64)  # neurons to scan
    pre = np.zeros(m, np.bool_)  # (their start checks already failed)
    nt = 0
    lip = 1.0 + band_rel
    for j in range(m):
        dd = 0.0
        pw = 0.0
        for q in range(d):
            Dq = DEF[j, q]
            Dst[j, q] = Dq
            dd += Dq * Dq
            pw += W[j, q] * Dq
        dn = math.sqrt(dd)
        a0, p0, delta = a[j], c * pw, sqrt_c * dn  # (as _rates)
        busy = False
        alpha1[j] = np.nan
        if nslide[j] == 1:
            f = face1[j]
            qv = 0.0
            for q in range(d):
                qv += DON[j, q] * XT[q, f]
            alpha = _multiplier(qv, rho[f], G[f, f])
            alpha1[j] = alpha
            busy |= not (0.0 <= alpha <= 1.0)
        elif nslide[j] >= 2:
            busy |= not multi_ok[j]
        if not busy and gap[j] > 0.0:
            g0 = gap[j]
            lo, hi, ae, Ae = _A_range_end(a0, p0, delta, h)
            # any direction: the distances shrink by at most lip |A| |D|
            ok = lip * max(-lo, hi) * dn * (1.0 + 1e-6) < g0
            gend = g0 - lip * abs(Ae) * dn * (1.0 + 1e-6)
            # D = kappa w + D_perp: the distances scale by 1 + kappa A and shrink by at most
            # lip |A| |D_perp| (a neuron growing or shrinking along itself keeps its signs)
            ww = 0.0
            for q in range(d):
                ww += W[j, q] * W[j, q]
            if ww > 0.0:
                kap = pw / ww
                dp2 = 0.0
                for q in range(d):
                    v = DEF[j, q] - kap * W[j, q]
                    dp2 += v * v
                dpn = math.sqrt(dp2) * (1.0 + 1e-6)
                f_lo = g0 * (1.0 + kap * lo) - lip * abs(lo) * dpn
                f_hi = g0 * (1.0 + kap * hi) - lip * hi * dpn
                if min(f_lo, f_hi) > 1e-9 * g0:
                    gr = (g0 * (1.0 + kap * Ae) - lip * abs(Ae) * dpn) * (1.0 - 1e-9)
                    gend = max(gend, gr) if ok else gr
                    ok = True
            if ok:  # no point can be reached: skip the scan
                state[j] = 0
                a[j] = ae
                for q in range(d):
                    W[j, q] += Ae * DEF[j, q]
                elapsed[j] = h
                if nslide[j] == 1:  # (as _snap_one: removes round-off drift)
                    f = face1[j]
                    g = 0.0
                    for q in range(d):
                        g += W[j, q] * XT[q, f]
                    g /= G[f, f]
                    for q in range(d):
                        W[j, q] -= g * XT[q, f]
                gap_out[j] = max(0.0, gend)
                continue
        todo[nt] = j
        pre[j] = busy
        nt += 1
    nbusy = 0
    for e in range(nt):
        j = todo[e]
        for q in range(d):
            D[q] = DEF[j, q]
        a0, p0, delta = _rates(j, a, W, D, c, sqrt_c)
        s = 1.0 if a0 >= 0 else -1.0
        sbest, nflag = _scan(j, a0, p0, delta, h, W, S, slide, XT, xn, D, band_rel, P, R, sbuf,
                             True, s, absr, face_tol, flag, mark)
        busy = pre[j] or nflag > 0
        tb = math.log1p(delta * sbest) / delta if delta > 0.0 else sbest
        busy |= tb <= h
        gap_out[j] = 0.0
        if busy:
            state[j] = 5
            nbusy += 1
            continue
        state[j] = 0
        Ae = _advance(j, a, W, D, a0, p0, delta, h)
        elapsed[j] = h
        if nslide[j] == 1:
            _snap_one(j, W, XT, G, face1[j])  # (removes round-off drift)
        # the gap at h, from the rows (P + A(h) R = <w(h), x_i>)
        wn = 0.0
        for q in range(d):
            wn += W[j, q] * W[j, q]
        bw = band_rel * math.sqrt(wn)
        gmin = np.inf
        for i in range(n):
            sg = 2.0 * S[j, i] - 1.0
            v = sg * (P[i] + Ae * R[i]) / xn[i] - bw if (xn[i] > 0.0 and slide[j, i] == 0) else np.inf
            gmin = min(gmin, v)
        gap_out[j] = max(0.0, gmin * (1.0 - 1e-9) - 1e-15 * math.sqrt(wn))
    return nbusy


@njit(cache=True, fastmath=_FAST)
def sensitivity(a, W, S, nslide, face1, dDext, Dst, XT, G, drho, h, c, sqrt_c, a_end, W_end, atol, rtol):
    """The error estimate of a step: per parameter, the change dy of each neuron's closed
    form over h, from its start state and pattern, when its effective D changes from
    ``Dst`` to ``Dst - dD`` with dD the effective D of the residual change ``drho``
    (projected off a single sliding face; ``dDext`` for two or more); returned as the RMS
    of dy / (atol + rtol max(|y0|, |y1|)) over all parameters (y1: ``a_end``, ``W_end``)."""
    m = a.size
    d, n = XT.shape
    dD = np.empty(d)
    D2 = np.empty(d)
    total = 0.0
    DON = _don_all(S, _weighted(XT, drho))
    for j in range(m):
        for q in range(d):
            dD[q] = DON[j, q]
        if nslide[j] == 1:  # (as _effective, inline: a call taking arrays costs ~0.1 µs)
            f = face1[j]
            g = 0.0
            for q in range(d):
                g += dD[q] * XT[q, f]
            g /= G[f, f]
            for q in range(d):
                dD[q] -= g * XT[q, f]
        elif nslide[j] >= 2:
            for q in range(d):
                dD[q] = dDext[j, q]
        dd1 = 0.0
        dd2 = 0.0
        p1 = 0.0
        p2 = 0.0
        for q in range(d):
            D2[q] = Dst[j, q] - dD[q]
            dd1 += Dst[j, q] * Dst[j, q]
            dd2 += D2[q] * D2[q]
            p1 += W[j, q] * Dst[j, q]
            p2 += W[j, q] * D2[q]
        a1, A1 = _aA(a[j], c * p1, sqrt_c * math.sqrt(dd1), h)
        a2, A2 = _aA(a[j], c * p2, sqrt_c * math.sqrt(dd2), h)
        e = (a1 - a2) / (atol + rtol * max(abs(a[j]), abs(a_end[j])))
        acc = e * e
        for q in range(d):
            e = (A1 * Dst[j, q] - A2 * D2[q]) / (atol + rtol * max(abs(W[j, q]), abs(W_end[j, q])))
            acc += e * e
        total += acc
    return math.sqrt(total / (m * (d + 1)))


@njit(cache=True, fastmath=_FAST)
def propagate(J, a, W, S, slide, nslide, face1, Dext, multi_ok, XT, G, xn, rho, absr, h, c, sqrt_c,
              band_rel, face_tol, window, max_ev, max_stall, elapsed, nev, stall, seen, cand, state, log, counters,
              compiled):
    """Propagate the neurons ``J`` from ``elapsed[j]`` to ``h`` (module doc); arrays are
    updated in place; returns the number of log rows (``log``: t, j, i, old, new). On entry
    ``state[j]`` is 5 (fresh: start-of-propagation checks first) or 6 (resumed after its face
    problem); when the log is nearly full the remaining neurons are left in that state."""
    d, n = XT.shape
    P, R, sbuf, Don, D, flag, rbuf, mark = _buffers(n, d)
    RX = _weighted(XT, rho)
    nlog = 0
    for jj in range(J.size):
        if nlog > log.shape[0] - 2 * n - 8:
            break
        j = J[jj]
        t = elapsed[j]
        start = state[j] == 5
        state[j] = 0
        _drive(j, S, nslide, face1, Dext, XT, G, RX, Don, D)
        a0, p0, delta = _rates(j, a, W, D, c, sqrt_c)
        s = 1.0 if a0 >= 0 else -1.0
        sbest, nflag = _scan(j, a0, p0, delta, h - t, W, S, slide, XT, xn, D, band_rel, P, R, sbuf,
                             start, s, absr, face_tol, flag, mark)
        if start:
            nlog, again = _start(j, nflag, nslide[j], a, W, S, slide, nslide, face1, Dext, multi_ok, XT, G, rho,
                                 absr, face_tol, Don, P, flag, cand, state, log, nlog, counters, compiled)
            if state[j] == 1:
                continue
            if again:  # the pattern or the state changed: recompute the rows
                _drive(j, S, nslide, face1, Dext, XT, G, RX, Don, D)
                a0, p0, delta = _rates(j, a, W, D, c, sqrt_c)
                sbest, _ = _scan(j, a0, p0, delta, h - t, W, S, slide, XT, xn, D, band_rel, P, R, sbuf,
                                 False, s, absr, face_tol, flag, mark)
        # ---------------------------------------------------------------- event loop
        while True:
            rem = h - t
            if rem <= 0.0:
                break
            tb = math.log1p(delta * sbest) / delta if delta > 0.0 else sbest
            if not tb <= rem:  # (or NaN): no event before h
                _advance(j, a, W, D, a0, p0, delta, rem)
                t = h
                break
            Ae = _advance(j, a, W, D, a0, p0, delta, tb)
            for i in range(n):
                P[i] += Ae * R[i]
            t += tb
            nev[j] += 1
            counters[0] += 1
            if nev[j] > max_ev:
                state[j] = 2
                break
            if tb > 1e-13 * h:
                stall[j] = 0
            else:
                stall[j] += 1
                if stall[j] > max_stall:
                    state[j] = 3
                    break
            # candidate faces: the group of crossings, the sliding faces, pairs in the band
            wn = 0.0
            for q in range(d):
                wn += W[j, q] * W[j, q]
            bw = band_rel * math.sqrt(wn)
            ncand = 0
            k = -1
            for i in range(n):
                flag[i] = 0
                g = False
                si = sbuf[i]
                if si < np.inf:
                    ti = math.log1p(delta * si) / delta if delta > 0.0 else si
                    g = ti <= tb + window
                tau = bw * xn[i]
                inband = xn[i] > 0.0 and tau > 0.0 and abs(P[i]) <= tau
                if g or slide[j, i] or inband:
                    flag[i] = 2 if (g and seen[j, i]) else 1
                    ncand += 1
                    k = i
                if g:
                    seen[j, i] = 1
            if ncand >= 2 or nslide[j] > 0:
                for i in range(n):
                    cand[j, i] = flag[i]
                nlog2 = -1
                if compiled:
                    nlog2 = _faces_one(j, t, a, W, S, slide, nslide, face1, Dext, XT, G, rho, absr, face_tol, cand,
                                       log, nlog)
                if nlog2 < 0:  # the caller solves this face problem
                    state[j] = 1
                    break
                nlog = nlog2
            elif ncand == 1:
                nlog2 = _one_face(j, k, t, flag[k] == 2, a, W, S, slide, nslide, face1, XT, G, rho, absr,
                                  face_tol, Don, P, log, nlog)
                if nlog2 < 0:  # the log is full: the caller solves this face problem
                    cand[j, k] = flag[k]
                    state[j] = 1
                    break
                nlog = nlog2
            _drive(j, S, nslide, face1, Dext, XT, G, RX, Don, D)
            a0, p0, delta = _rates(j, a, W, D, c, sqrt_c)
            s = 1.0 if a0 >= 0 else -1.0
            sbest, _ = _scan(j, a0, p0, delta, h - t, W, S, slide, XT, xn, D, band_rel, P, R, sbuf,
                             False, s, absr, face_tol, flag, mark)
        elapsed[j] = t
        if state[j] == 0 and nslide[j] == 1:
            _snap_one(j, W, XT, G, face1[j])  # (removes round-off drift)
    return nlog


# ==================================================================== the face problem
# A port of :mod:`reluflow.flow._faces` (the reference, kept in Python and selectable by
# ``_Engine.compiled_faces = False``), line by line, so that neurons meeting several faces
# at once do not pause for Python. Same rule, same iteration limits; the arithmetic differs
# from numpy's only in summation order (rounding).

_BOX_ITER = 4
_RANK_TOL = 1e-10


@njit(cache=True)
def _chol_solve(G, F, nf, rhs, out):
    """Solve G[F, F] z = rhs (the first ``nf`` entries of F) by Cholesky into ``out``;
    False when the block is singular (a non-positive pivot, or a relative pivot below
    RANK_TOL, as :func:`reluflow.flow._faces._solve_free`)."""
    if nf == 1:
        g = G[F[0], F[0]]
        if not g > 0.0:
            return False
        out[0] = rhs[0] / g
        return True
    L = np.zeros((nf, nf))
    for i in range(nf):
        for k in range(i + 1):
            acc = G[F[i], F[k]]
            for q in range(k):
                acc -= L[i, q] * L[k, q]
            if i == k:
                if not acc > 0.0:
                    return False
                L[i, i] = math.sqrt(acc)
            else:
                L[i, k] = acc / L[k, k]
    dmin = np.inf
    gmax = -np.inf
    for i in range(nf):
        dmin = min(dmin, L[i, i] * L[i, i])
        gmax = max(gmax, G[F[i], F[i]])
    if dmin <= _RANK_TOL * gmax:
        return False
    y = np.empty(nf)
    for i in range(nf):
        acc = rhs[i]
        for q in range(i):
            acc -= L[i, q] * y[q]
        y[i] = acc / L[i, i]
    for i in range(nf - 1, -1, -1):
        acc = y[i]
        for q in range(i + 1, nf):
            acc -= L[q, i] * out[q]
        out[i] = acc / L[i, i]
    return True


@njit(cache=True)
def box_lsq(G, b, ub, tol):
    """Compiled :func:`reluflow.flow._faces.box_lsq`: (beta, free)."""
    K = b.size
    beta = np.zeros(K)
    free = np.zeros(K, np.bool_)
    u = np.empty(K)
    F = np.empty(K, np.int64)
    rhs = np.empty(K)
    sol = np.empty(K)
    z = np.empty(K)
    lim = np.empty(K)
    dz = np.empty(K)
    inside = np.zeros(K, np.bool_)
    for _ in range(_BOX_ITER * K + 10):
        k = -1
        vbest = -np.inf
        for i in range(K):
            acc = 0.0
            for q in range(K):
                acc += G[i, q] * beta[q]
            u[i] = b[i] - acc
            v = -np.inf
            if not free[i]:
                if beta[i] <= 0.0:
                    v = u[i] - tol[i]
                elif beta[i] >= ub[i]:
                    v = -u[i] - tol[i]
            if k < 0 or v > vbest:
                k, vbest = i, v
        if not vbest > 0.0:
            return beta, free
        free[k] = True
        while True:
            nf = 0
            for i in range(K):
                if free[i]:
                    F[nf] = i
                    nf += 1
            for i in range(K):
                z[i] = beta[i]
            for f in range(nf):
                acc = 0.0
                for q in range(K):
                    if not free[q]:
                        acc += G[F[f], q] * beta[q]
                rhs[f] = b[F[f]] - acc
            if not _chol_solve(G, F, nf, rhs, sol):  # the new face depends on the others
                free[k] = False
                return beta, free
            allin = True
            for f in range(nf):
                z[F[f]] = sol[f]
                inside[f] = (sol[f] > 0.0) and (sol[f] < ub[F[f]])
                allin &= inside[f]
            if allin:
                for i in range(K):
                    beta[i] = z[i]
                break
            lmin = np.inf
            for f in range(nf):
                i = F[f]
                dz[f] = z[i] - beta[i]
                if inside[f]:
                    lim[f] = np.inf
                elif dz[f] < 0.0:
                    lim[f] = -beta[i] / dz[f]
                elif dz[f] > 0.0:
                    lim[f] = (ub[i] - beta[i]) / dz[f]
                else:
                    lim[f] = np.inf
                lmin = min(lmin, lim[f])
            step = min(1.0, max(0.0, lmin))
            for f in range(nf):
                i = F[f]
                beta[i] = min(max(beta[i] + step * dz[f], 0.0), ub[i])
            nhit = 0
            for f in range(nf):
                nhit += (not inside[f]) and (lim[f] <= step)
            for f in range(nf):
                hit = (not inside[f]) and (lim[f] <= step if nhit else lim[f] == lmin)
                if hit:
                    i = F[f]
                    beta[i] = ub[i] if dz[f] > 0.0 else 0.0
                    free[i] = False
            anyfree = False
            for i in range(K):
                anyfree |= free[i]
            if not anyfree:
                break
    return beta, free


@njit(cache=True)
def _attracting(b, G, sr, att, on_fixed, tol):
    """Compiled :func:`reluflow.flow._faces._attracting`: (alpha, codes, rates u)."""
    K = b.size
    alpha = np.zeros(K)
    codes = np.zeros(K, np.int64)
    for i in range(K):
        if on_fixed[i]:
            alpha[i] = 1.0
            codes[i] = 1
    base = np.empty(K)
    for i in range(K):
        acc = 0.0
        for q in range(K):
            acc += G[i, q] * (sr[q] * alpha[q])
        base[i] = b[i] + acc
    A = np.flatnonzero(att)
    nA = A.size
    if nA:
        ub = np.empty(nA)
        GA = np.empty((nA, nA))
        bA = np.empty(nA)
        tA = np.empty(nA)
        for e in range(nA):
            ub[e] = -sr[A[e]]
            bA[e] = base[A[e]]
            tA[e] = tol[A[e]]
            for f in range(nA):
                GA[e, f] = G[A[e], A[f]]
        beta, free = box_lsq(GA, bA, ub, tA)
        for e in range(nA):
            i = A[e]
            if free[e]:
                codes[i] = 2
                alpha[i] = min(max(beta[e] / ub[e], 0.0), 1.0)
            elif beta[e] >= ub[e]:
                codes[i] = 1
                alpha[i] = 1.0
            else:
                codes[i] = 0
                alpha[i] = 0.0
        for i in range(K):
            acc = 0.0
            for e in range(nA):
                acc += G[i, A[e]] * (ub[e] * alpha[A[e]])
            base[i] -= acc
    return alpha, codes, base


@njit(cache=True)
def _rule(b, G, sr, tol, fixed):
    """Compiled :func:`reluflow.flow._faces._rule`: (alpha, codes, rates u)."""
    K = b.size
    att = sr < 0
    rep = sr > 0
    rep_on = np.zeros(K, np.bool_)
    free_att = att & (fixed < 0)
    alpha, codes, u = _attracting(b, G, sr, free_att, (fixed == 1) | (rep & rep_on), tol)
    for it in range(2 * K + 1):
        if it:
            alpha, codes, u = _attracting(b, G, sr, free_att, (fixed == 1) | (rep & rep_on), tol)
        iu, vu, idn, vd = -1, -np.inf, -1, -np.inf
        for i in range(K):
            if rep[i] and fixed[i] < 0:
                if not rep_on[i]:
                    v = u[i] - tol[i]
                    if iu < 0 or v > vu:
                        iu, vu = i, v
                else:
                    v = -u[i] - tol[i]
                    if idn < 0 or v > vd:
                        idn, vd = i, v
        if max(vu, vd) <= 0.0:
            break
        if vu >= vd:
            rep_on[iu] = True
        else:
            rep_on[idn] = False
    for i in range(K):
        if fixed[i] >= 0:
            codes[i] = fixed[i]
            alpha[i] = min(fixed[i], 1)
        elif rep[i] and rep_on[i]:
            alpha[i] = 1.0
            codes[i] = 1
        elif not att[i] and not rep[i]:
            codes[i] = 1 if u[i] > tol[i] else 0
            alpha[i] = codes[i]
    return alpha, codes, u


@njit(cache=True)
def _fixed_alternatives(forbid, b, G, sr, tol):
    """Compiled :func:`reluflow.flow._faces._fixed_alternatives`."""
    K = b.size
    fixed = np.full(K, -1, np.int64)
    att = sr < 0
    for k in range(K):
        if forbid[k] < 0:
            continue
        for alt in range(3):
            if alt == forbid[k]:
                continue
            if alt == 2 and sr[k] >= 0:
                continue
            trial = fixed.copy()
            trial[k] = 0 if alt == 2 else alt
            _, _, u = _attracting(b, G, sr, att & (trial < 0), trial == 1, tol)
            if alt == 2:
                al = -u[k] / (G[k, k] * sr[k])
                if 0.0 < al < 1.0:
                    fixed[k] = 2
                    break
                continue
            if (alt == 1 and u[k] >= -tol[k]) or (alt == 0 and u[k] <= tol[k]):
                fixed = trial
                break
    return fixed


@njit(cache=True)
def _solve_distinct(q, G, rho, s, tol, forbid):
    """Compiled :func:`reluflow.flow._faces._solve_distinct` (``forbid`` all -1: none)."""
    K = q.size
    sr = s * rho
    b = s * q
    fixed = _fixed_alternatives(forbid, b, G, sr, tol)
    done = False
    alpha, codes, u = _rule(b, G, sr, tol, fixed)
    for it in range(3):
        if it:
            alpha, codes, u = _rule(b, G, sr, tol, fixed)
        bad = False
        for i in range(K):
            if fixed[i] == 2:
                forced = -u[i] / (G[i, i] * sr[i])
                alpha[i] = forced
                bi = not ((forced > 0.0) and (forced < 1.0))
            else:
                bi = (fixed[i] == 0 and u[i] > tol[i]) or (fixed[i] == 1 and u[i] < -tol[i])
            if bi:
                fixed[i] = -1
                bad = True
        if not bad:
            done = True
            break
    if not done:
        alpha, codes, u = _rule(b, G, sr, tol, np.full(K, -1, np.int64))
    return alpha, codes


@njit(cache=True)
def solve_faces(q, G, rho, s, tol, forbid):
    """Compiled :func:`reluflow.flow._faces.solve_faces` (``forbid``: -1 for none):
    (alpha, codes), with repeated or antipodal points merged first."""
    K = q.size
    if K == 1:
        return _solve_distinct(q, G, rho, s, tol, forbid)
    rep = np.empty(K, np.int64)
    distinct = True
    for i in range(K):
        rep[i] = i
        for k in range(K):
            if G[i, k] * G[i, k] >= (1.0 - PARALLEL_TOL) * (G[i, i] * G[k, k]):
                rep[i] = k
                break
        distinct &= rep[i] == i
    if distinct:
        return _solve_distinct(q, G, rho, s, tol, forbid)
    group = np.full(K, -1, np.int64)
    nr = 0
    for i in range(K):
        if rep[i] == i:
            group[i] = nr
            nr += 1
    reps = np.empty(nr, np.int64)
    for i in range(K):
        if rep[i] == i:
            reps[group[i]] = i
    rho_m = np.zeros(nr)
    shift = np.zeros(nr)
    sizes = np.zeros(nr, np.int64)
    hasneg = np.zeros(nr, np.bool_)
    coef = np.empty(K)
    for i in range(K):
        g = group[rep[i]]
        group[i] = g
        coef[i] = G[i, rep[i]] / G[rep[i], rep[i]]
        rho_m[g] += rho[i] * abs(coef[i])
        sizes[g] += 1
        if coef[i] < 0:
            shift[g] += rho[i] * coef[i]
            hasneg[g] = True
    Gm = np.empty((nr, nr))
    qm = np.empty(nr)
    tm = np.empty(nr)
    fm = np.full(nr, -1, np.int64)
    for e in range(nr):
        for f in range(nr):
            Gm[e, f] = G[reps[e], reps[f]]
    for e in range(nr):
        acc = 0.0
        for f in range(nr):
            acc += Gm[e, f] * shift[f]
        qm[e] = q[reps[e]] + acc
        tm[e] = tol[reps[e]]
        if sizes[e] == 1:
            fm[e] = forbid[reps[e]]
        if hasneg[e] and s * rho_m[e] > 0:
            fm[e] = 0 if s * q[reps[e]] > tol[reps[e]] else 1
    am, cm = _solve_distinct(qm, Gm, rho_m, s, tm, fm)
    alpha = np.empty(K)
    codes = np.empty(K, np.int64)
    for i in range(K):
        g = group[i]
        neg = coef[i] < 0
        alpha[i] = 1.0 - am[g] if neg else am[g]
        codes[i] = 1 - cm[g] if (neg and cm[g] != 2) else cm[g]
    return alpha, codes


@njit(cache=True)
def _faces_one(j, t, a, W, S, slide, nslide, face1, Dext, XT, G, rho, absr, face_tol, cand, log, nlog):
    """Compiled :meth:`reluflow.flow._frozen._Engine._faces` for neuron j (its candidate
    faces in ``cand[j]``; 2 marks a pair that crossed again, whose problem is then solved
    without the tie tolerance): snap onto the faces, solve the face problem, log the changes
    at time t, update the pattern and, for two or more sliding faces, ``Dext[j]``. Returns the
    new number of log rows, or -1 (nothing done) if the log has no room."""
    d, n = XT.shape
    nk = 0
    exact = False
    for i in range(n):
        if cand[j, i]:
            nk += 1
            exact |= cand[j, i] == 2
    if nlog + nk > log.shape[0]:
        return -1
    K = np.empty(nk, np.int64)
    e = 0
    for i in range(n):
        if cand[j, i]:
            K[e] = i
            e += 1
        cand[j, i] = 0
    XKT = np.empty((d, nk))  # (the faces' points as columns)
    for q in range(d):
        for e in range(nk):
            XKT[q, e] = XT[q, K[e]]
    w = np.empty(d)
    for q in range(d):
        w[q] = W[j, q]
    coef = np.linalg.lstsq(XKT, w, 2.220446049250313e-16 * max(d, nk))[0]  # snap onto the faces
    for q in range(d):
        acc = 0.0
        for e in range(nk):
            acc += coef[e] * XKT[q, e]
        W[j, q] = w[q] - acc
    if nk >= d and np.linalg.matrix_rank(XKT) == d:
        for q in range(d):
            W[j, q] = 0.0  # the faces meet only at w = 0: keep it exactly there
    isk = np.zeros(n, np.bool_)
    for e in range(nk):
        isk[K[e]] = True
    D0 = np.zeros(d)
    for i in range(n):
        if S[j, i] and not isk[i]:
            for q in range(d):
                D0[q] += rho[i] * XT[q, i]
    qv = np.empty(nk)
    tol = np.empty(nk)
    rK = np.empty(nk)
    GK = np.empty((nk, nk))
    for e in range(nk):
        acc = 0.0
        for q in range(d):
            acc += XKT[q, e] * D0[q]
        qv[e] = acc
        tol[e] = 0.0 if exact else face_tol * absr[K[e]]
        rK[e] = rho[K[e]]
        for f in range(nk):
            GK[e, f] = G[K[e], K[f]]
    _, codes = solve_faces(qv, GK, rK, 1.0 if a[j] >= 0 else -1.0, tol, np.full(nk, -1, np.int64))
    for e in range(nk):
        i = K[e]
        old = 2 if slide[j, i] else (1 if S[j, i] else 0)
        if codes[e] != old:
            log[nlog, 0] = t
            log[nlog, 1] = j
            log[nlog, 2] = i
            log[nlog, 3] = old
            log[nlog, 4] = codes[e]
            nlog += 1
        S[j, i] = codes[e] == 1
        slide[j, i] = codes[e] == 2
    ns = 0
    f1 = -1
    for i in range(n):
        if slide[j, i]:
            ns += 1
            f1 = i
    nslide[j] = ns
    face1[j] = f1 if ns == 1 else -1
    if ns >= 2:  # the effective D: D_on projected off the sliding faces (least norm)
        Don = np.zeros(d)
        for i in range(n):
            if S[j, i]:
                for q in range(d):
                    Don[q] += rho[i] * XT[q, i]
        L = np.empty(ns, np.int64)
        e = 0
        for i in range(n):
            if slide[j, i]:
                L[e] = i
                e += 1
        GL = np.empty((ns, ns))
        B = np.empty(ns)
        for e in range(ns):
            acc = 0.0
            for q in range(d):
                acc += Don[q] * XT[q, L[e]]
            B[e] = acc
            for f in range(ns):
                GL[e, f] = G[L[e], L[f]]
        C = np.linalg.pinv(GL) @ B
        for q in range(d):
            acc = 0.0
            for e in range(ns):
                acc += C[e] * XT[q, L[e]]
            Dext[j, q] = Don[q] - acc
    return nlog


@njit(cache=True)
def gram_solve(mask, B, G, xn2):
    """For each row e with faces K_e = mask[e], solve G_KK c = B[e, K_e]; returns C (k, n),
    zero off K_e (compiled :meth:`reluflow.flow._frozen._Engine._gram_solve`). Independent
    faces by Cholesky; dependent ones (repeated or antipodal points, more faces than
    dimensions: a pivot below RANK_TOL) through the pseudo-inverse, the least-squares
    solution of least norm."""
    k, n = mask.shape
    C = np.zeros((k, n))
    idx = np.empty(n, np.int64)
    rhs = np.empty(n)
    sol = np.empty(n)
    for e in range(k):
        nk = 0
        for i in range(n):
            if mask[e, i]:
                idx[nk] = i
                rhs[nk] = B[e, i]
                nk += 1
        if nk == 0:
            continue
        if nk == 1:
            C[e, idx[0]] = B[e, idx[0]] / xn2[idx[0]]
            continue
        if not _chol_solve(G, idx, nk, rhs, sol):
            GK = np.empty((nk, nk))
            for a in range(nk):
                for b in range(nk):
                    GK[a, b] = G[idx[a], idx[b]]
            sol[:nk] = np.linalg.pinv(GK) @ rhs[:nk]
        for a in range(nk):
            C[e, idx[a]] = sol[a]
    return C


@njit(cache=True)
def release_min(owner, a0, am, h, rmin, out):
    """The release search of :meth:`reluflow.flow._frozen._Engine.release_times`: for each
    multiplier (of neuron ``owner[e]``, ``a0`` at time 0, ``am`` at h/2, moving linearly),
    the time it leaves [0, 1] if in [rmin h, (1 - rmin) h); the earliest per neuron into
    ``out`` (in place)."""
    for e in range(owner.size):
        x0 = a0[e]
        slope = (am[e] - x0) / (0.5 * h)
        if not (x0 >= 0.0 and x0 <= 1.0 and math.isfinite(slope)):
            continue
        if slope < 0.0:
            tr = -x0 / slope
        elif slope > 0.0:
            tr = (1.0 - x0) / slope
        else:
            continue
        if tr >= rmin * h and tr < (1.0 - rmin) * h:
            j = owner[e]
            out[j] = min(out[j], tr)
    return out
