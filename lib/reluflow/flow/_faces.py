r"""The face problem of one neuron, for any number of faces (private).

Appendix "How the solver works", section "The face rule", derives what is solved here.

A neuron j sits on the faces K (<w_j, x_k> = 0 for k in K). With D0 = sum of rho_i x_i
over its active points outside K and s = sign(a_j), a Filippov velocity is
wdot = a_j (D0 + sum_k alpha_k rho_k x_k) with alpha in [0, 1]^K, and it is consistent
with the sides the pairs take when the rate u_k = s <D0 + sum_l alpha_l rho_l x_l, x_k>
of <w_j, x_k> (up to the factor |a_j|) satisfies

    alpha_k = 0 => u_k <= 0 (off),   alpha_k = 1 => u_k >= 0 (on),   0 < alpha_k < 1 => u_k = 0 (slide).

Faces split by the sign of s rho_k:

* attracting faces (s rho_k < 0): with beta_k = |rho_k| alpha_k in [0, |rho_k|] these are
  exactly the KKT conditions of the convex box-constrained least squares

      min_beta  1/2 || sum_k beta_k x_k - (s D0 + on-repelling terms) ||^2,

  so the velocity (the residual of that problem) is unique even when beta is not (more
  faces than dimensions, repeated or antipodal points). We return a *basic* solution: the
  sliding faces (0 < alpha < 1) have linearly independent points, the others sit at a
  bound (off or on). Faces whose points lie in the span of the sliding ones stay on their
  face as the neuron slides.
* repelling faces (s rho_k > 0) never slide (sliding there is an unstable equilibrium that
  the flow leaves to either side): each is off unless the field with it off moves
  <w_j, x_k> up, then on -- the convention relu'(0) = 0 (a pair at zero is inactive unless
  the flow carries it into the active side). With several repelling faces this is a
  fixed point, found by turning on the most violated one at a time (and off any that
  becomes inconsistent), at most 2 K rounds.
* faces with rho_k = 0 carry no term: on if u_k > 0, else off.

The tests use tolerances ``tol`` (absolute, one per face) on the signs of u_k.
"""

from __future__ import annotations

import numpy as np

from ._field import PARALLEL_TOL

#: Iterations of the active-set box solver per face (plus a constant), before giving up.
BOX_ITER = 4
#: Relative pivot below which a sliding face is taken as dependent on the others.
RANK_TOL = 1e-10


def box_lsq(G: np.ndarray, b: np.ndarray, ub: np.ndarray, tol: np.ndarray):
    r"""Minimise :math:`\tfrac12\beta^\top G\beta - b^\top\beta` over :math:`0 \le \beta \le ub`
    (``G`` positive semidefinite: a Gram matrix) by a bounded-variable active-set method
    (Stark & Parker's BVLS in Gram form). Returns ``(beta, free)``: the free variables have
    independent columns (a basic solution); KKT holds with the tolerances ``tol`` on the
    gradient :math:`u = b - G\beta` (``beta = 0 => u <= tol``, ``beta = ub => u >= -tol``,
    free ``=> u = 0``).
    """
    K = b.size
    beta = np.zeros(K)
    free = np.zeros(K, bool)
    for _ in range(BOX_ITER * K + 10):
        u = b - G @ beta
        viol = np.where(~free & (beta <= 0.0), u - tol, np.where(~free & (beta >= ub), -u - tol, -np.inf))
        k = int(np.argmax(viol))
        if not viol[k] > 0:
            return beta, free
        free[k] = True
        while True:
            F = np.flatnonzero(free)
            z = beta.copy()
            rhs = b[F] - G[np.ix_(F, ~free)] @ beta[~free]
            sol = _solve_free(G[np.ix_(F, F)], rhs)
            if sol is None:  # the new face depends on the others: it stays at its bound
                free[k] = False
                return beta, free
            z[F] = sol
            inside = (z[F] > 0.0) & (z[F] < ub[F])
            if inside.all():
                beta = z
                break
            # move towards z until the first free variable reaches a bound; it leaves the set
            dz = z[F] - beta[F]
            with np.errstate(divide="ignore", invalid="ignore"):
                lim = np.where(dz < 0, -beta[F] / dz, np.where(dz > 0, (ub[F] - beta[F]) / dz, np.inf))
            lim = np.where(inside, np.inf, lim)
            step = float(min(1.0, max(0.0, lim.min())))
            beta[F] = np.clip(beta[F] + step * dz, 0.0, ub[F])
            hit = ~inside & (lim <= step)
            if not hit.any():
                hit = ~inside & (lim == lim.min())
            beta[F[hit]] = np.where(dz[hit] > 0, ub[F[hit]], 0.0)
            free[F[hit]] = False
            if not free.any():
                break
    return beta, free


def _solve_free(G_FF: np.ndarray, rhs: np.ndarray):
    """Solve G_FF z = rhs for a Gram block; None when it is singular (dependent faces)."""
    if rhs.size == 1:
        g = float(G_FF[0, 0])
        return None if g <= 0 else rhs / g
    try:
        L = np.linalg.cholesky(G_FF)
    except np.linalg.LinAlgError:
        return None
    if np.min(np.diag(L)) ** 2 <= RANK_TOL * np.max(np.diag(G_FF)):
        return None
    return np.linalg.solve(L.T, np.linalg.solve(L, rhs))


def solve_faces(q, G, rho, s: float, tol, forbid=None):
    """The face problem of one neuron (module doc), with parallel faces merged first:
    ``q`` (K,) = <D0, x_k>, ``G`` (K, K) the Gram matrix of the faces' points, ``rho`` (K,)
    their residuals, ``s`` the sign of a_j, ``tol`` (K,) tolerances on the rates. Returns
    ``(alpha, codes)`` with codes 0 off / 1 on / 2 slide (see :func:`_solve_distinct` for
    ``forbid``).

    Repeated or antipodal points (x_k = c_k x_r) share one face, and only two sides of it
    exist: the Filippov combination has one multiplier for the group (alpha_k = alpha for
    c_k > 0, 1 - alpha for c_k < 0), not one per point. The group is one face of point x_r
    with residual sum_k rho_k |c_k|, and its points with c_k < 0 (active on the negative side)
    add sum rho_k c_k x_r to D0. A repelling group with antipodal points has no side where
    all its pairs are off; it takes the side the field with all its terms off points to.
    """
    q, G, rho, tol = (np.asarray(v, float) for v in (q, G, rho, tol))
    K = q.size
    if K == 1:
        return _solve_distinct(q, G, rho, s, tol, forbid)
    diag = np.diag(G)
    par = G * G >= (1.0 - PARALLEL_TOL) * np.outer(diag, diag)
    rep = np.argmax(par, axis=1)  # the first point parallel to each (itself if none before)
    if np.all(rep == np.arange(K)):
        return _solve_distinct(q, G, rho, s, tol, forbid)
    reps = np.flatnonzero(rep == np.arange(K))
    coef = G[np.arange(K), rep] / diag[rep]  # x_k = coef_k x_rep(k)
    group = np.searchsorted(reps, rep)
    rho_m = np.bincount(group, rho * np.abs(coef), minlength=reps.size)
    neg = coef < 0
    shift = np.bincount(group[neg], rho[neg] * coef[neg], minlength=reps.size)  # along x_rep
    Gm = G[np.ix_(reps, reps)]
    qm = q[reps] + Gm @ shift
    sizes = np.bincount(group, minlength=reps.size)
    fm = np.full(reps.size, -1)
    if forbid is not None:
        fm = np.where(sizes == 1, np.asarray(forbid)[reps], -1)
    # a repelling group with antipodal points has no "all off" side: it takes the side the
    # field with all its terms off (relu'(0) = 0) points to (the other is forbidden)
    anti = (np.bincount(group, neg, minlength=reps.size) > 0) & (s * rho_m > 0)
    side = np.where(s * q[reps] > tol[reps], 1, 0)
    fm = np.where(anti, 1 - side, fm)
    am, cm = _solve_distinct(qm, Gm, rho_m, s, tol[reps], fm)
    alpha = np.where(neg, 1.0 - am[group], am[group])
    codes = cm[group].copy()
    codes[neg & (cm[group] != 2)] = 1 - cm[group][neg & (cm[group] != 2)]
    return alpha, codes


def _solve_distinct(q, G, rho, s: float, tol, forbid=None):
    """The face problem for faces with pairwise non-parallel points (as
    :func:`solve_faces`). ``forbid`` (K,) gives per face a code it may not keep (-1: none), for a
    pair that re-crossed at once (a tie at first order): it gets the other bound if that
    is consistent within the tolerance (off, on, slide order), else keeps the rule's choice.
    """
    q, G, rho, tol = (np.asarray(v, float) for v in (q, G, rho, tol))
    sr = s * rho
    b = s * q
    fixed = np.full(q.size, -1)
    if forbid is not None:
        fixed = _fixed_alternatives(np.asarray(forbid), b, G, sr, tol)
    for _ in range(3):
        alpha, codes, u = _rule(b, G, sr, tol, fixed)
        # a fixed choice the rest made inconsistent is dropped
        with np.errstate(divide="ignore", invalid="ignore"):
            forced = np.where(fixed == 2, -u / (np.diag(G) * sr), 0.5)  # a forced slide: u_k = 0
        alpha = np.where(fixed == 2, forced, alpha)
        bad = ((fixed == 0) & (u > tol)) | ((fixed == 1) & (u < -tol)) | ((fixed == 2) & ~((forced > 0) & (forced < 1)))
        if not bad.any():
            break
        fixed = np.where(bad, -1, fixed)
    else:
        alpha, codes, u = _rule(b, G, sr, tol, np.full(q.size, -1))
    return alpha, codes


def _rule(b, G, sr, tol, fixed):
    """The selection rule (module doc) with the faces ``fixed`` >= 0 held at that code:
    (alpha, codes, rates u)."""
    K = b.size
    att, rep = sr < 0, sr > 0
    rep_on = np.zeros(K, bool)
    for _ in range(2 * K + 1):
        on_fixed = (fixed == 1) | (rep & rep_on)
        alpha, codes, u = _attracting(b, G, sr, att & (fixed < 0), on_fixed, tol)
        # repelling faces: off unless pushed up (relu'(0) = 0); fix the worst violation
        cand = rep & (fixed < 0)
        up = np.where(cand & ~rep_on, u - tol, -np.inf)
        down = np.where(cand & rep_on, -u - tol, -np.inf)
        if max(up.max(initial=-np.inf), down.max(initial=-np.inf)) <= 0:
            break
        if up.max() >= down.max():
            rep_on[int(np.argmax(up))] = True
        else:
            rep_on[int(np.argmax(down))] = False
    alpha[rep & rep_on] = 1.0
    codes[rep & rep_on] = 1
    zero = ~att & ~rep & (fixed < 0)
    codes[zero] = np.where(u[zero] > tol[zero], 1, 0)
    alpha[zero] = codes[zero]
    done = fixed >= 0
    codes[done], alpha[done] = fixed[done], np.minimum(fixed[done], 1)
    return alpha, codes, u


def _attracting(b, G, sr, att, on_fixed, tol):
    """The box problem of the attracting faces ``att`` with the faces ``on_fixed`` at
    alpha = 1: (alpha, codes, rates u) for all K faces (others off)."""
    alpha = np.where(on_fixed, 1.0, 0.0)
    codes = np.where(on_fixed, 1, 0)
    base = b + G @ (sr * alpha)
    A = np.flatnonzero(att)
    if A.size:
        ub = -sr[A]  # |rho_k| on attracting faces
        beta, free = box_lsq(G[np.ix_(A, A)], base[A], ub, tol[A])
        alpha[A] = np.clip(beta / ub, 0.0, 1.0)
        cA = np.where(free, 2, np.where(beta >= ub, 1, 0))
        codes[A] = cA
        alpha[A[cA == 1]] = 1.0
        alpha[A[cA == 0]] = 0.0
        base = base - G[:, A] @ (ub * alpha[A])
    return alpha, codes, base


def _fixed_alternatives(forbid, b, G, sr, tol):
    """Codes fixed for the forbidden faces: the first other code (off, on, slide order)
    that is consistent with the rest solved by the rule; -1 (no fixing) if none is."""
    K = b.size
    fixed = np.full(K, -1)
    for k in np.flatnonzero(forbid >= 0):
        for alt in (c for c in (0, 1, 2) if c != forbid[k]):
            trial = fixed.copy()
            trial[k] = alt
            if alt == 2 and sr[k] >= 0:  # (only attracting faces slide)
                continue
            if alt == 2:  # slide: alpha_k from u_k = 0, the others by the rule
                trial[k] = 0
                _, _, u = _attracting(b, G, sr, (sr < 0) & (trial < 0), trial == 1, tol)
                with np.errstate(divide="ignore", invalid="ignore"):
                    alpha = -u[k] / (G[k, k] * sr[k])
                if 0.0 < alpha < 1.0:
                    fixed[k] = 2
                    break
                continue
            _, _, u = _attracting(b, G, sr, (sr < 0) & (trial < 0), trial == 1, tol)
            if (alt == 1 and u[k] >= -tol[k]) or (alt == 0 and u[k] <= tol[k]):
                fixed = trial
                break
    return fixed
