"""The gradient-flow field inside a frozen activation pattern, with Filippov sliding (private).

Chapter 1, "Sliding along a face", derives what is computed here.

A pair (j, i) is *on* (S[j, i]), *off*, or *sliding* (held on the face <w_j, x_i> = 0).
For a neuron j with sliding faces K the field is the convex combination of the one-sided
fields that keeps w_j on every face:

    adot_j = sum_{i on} rho_i <w_j, x_i>,   wdot_j = a_j (D_j + sum_{k in K} alpha_k rho_k x_k),

with D_j = sum_{i on} rho_i x_i and alpha solving  sum_l rho_l <x_l, x_k> alpha_l = -<D_j, x_k>.
"""

from __future__ import annotations

import itertools

import numpy as np

#: Relative tolerance of the sign tests in the face complementarity problem.
FACE_TOL = 1e-9
#: Largest number of simultaneous faces of one neuron solved by enumeration (3**K cases).
MAX_FACES = 6


class PatternField:
    """Right-hand side of the flow for a frozen (pattern, sliding set)."""

    def __init__(self, X: np.ndarray, data, loss) -> None:
        self.X, self.data, self.loss = X, data, loss
        self.XT = np.ascontiguousarray(X.T)
        self.gram = X @ X.T
        self.xn2 = np.einsum("ij,ij->i", X, X)
        self.xn = np.sqrt(self.xn2)
        self.n, self.d = X.shape
        self.nfev = 0

    def set_pattern(self, S: np.ndarray, slide: np.ndarray) -> None:
        """Freeze the on-set ``S`` and the sliding set ``slide`` (both (m, n) bool)."""
        self.S = S
        self.Sf = S.astype(float)
        self.slide = slide
        count = slide.sum(axis=1)
        self.j1 = np.flatnonzero(count == 1)
        self.k1 = np.argmax(slide[self.j1], axis=1) if self.j1.size else np.zeros(0, int)
        self.x1, self.xn2_1 = self.X[self.k1], self.xn2[self.k1]
        self.multi = {int(j): np.flatnonzero(slide[j]) for j in np.flatnonzero(count > 1)}

    def residuals(self, a: np.ndarray, W: np.ndarray) -> np.ndarray:
        """Residual weights for the frozen-pattern outputs."""
        f = a @ (self.Sf * (W @ self.XT))
        return self.loss.residuals(f, self.data)

    def __call__(self, y: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
        """Evaluate the field at the flat state ``y``; return (ydot, alpha) where alpha
        holds the single-face multipliers (in the order of ``j1``) then multi-face ones."""
        self.nfev += 1
        a, W = y[:m], y[m:].reshape(m, self.d)
        SP = self.Sf * (W @ self.XT)
        rho = self.data.weights * self.loss._residual(self.data.y, a @ SP)
        adot = SP @ rho
        D = (self.Sf * rho) @ self.X
        alpha = self._alpha(D, rho)
        wdot = a[:, None] * D
        return np.concatenate([adot, wdot.ravel()]), alpha

    def _alpha(self, D: np.ndarray, rho: np.ndarray) -> np.ndarray:
        """Multipliers of the sliding faces; adds their contribution to D in place."""
        parts = []
        if self.j1.size:
            # one face: alpha rho_k x_k = -(<D_j, x_k>/|x_k|^2) x_k projects D_j onto the face
            j, k, x = self.j1, self.k1, self.x1
            q = np.einsum("jd,jd->j", D[j], x)
            denom = rho[k] * self.xn2_1
            nz = denom != 0
            al = np.divide(-q, denom, out=np.full(q.size, np.inf), where=nz)
            D[j] -= ((q / self.xn2_1) * nz)[:, None] * x
            parts.append(al)
        for j, K in self.multi.items():
            M = self.gram[np.ix_(K, K)] * rho[K][None, :]
            try:
                al = np.linalg.solve(M, -(self.X[K] @ D[j]))
            except np.linalg.LinAlgError:
                al = np.full(K.size, np.inf)
            if np.all(np.isfinite(al)):
                D[j] += (al * rho[K]) @ self.X[K]
            parts.append(al)
        return np.concatenate(parts) if parts else np.zeros(0)


def _face_cases(K: int):
    """Assignments of (0 = off, 1 = on, 2 = slide) to K faces, fewest slides first, off before on."""
    cases = list(itertools.product((0, 1, 2), repeat=K))
    return sorted(cases, key=lambda c: (sum(v == 2 for v in c), c))


_CASES = {K: _face_cases(K) for K in range(1, MAX_FACES + 1)}


def solve_faces(q: np.ndarray, M: np.ndarray, s: float, scale: np.ndarray):
    """Box complementarity problem of one neuron on K faces.

    Find alpha in [0, 1]^K with u = s (q + M alpha) such that alpha_k = 0 => u_k <= 0,
    alpha_k = 1 => u_k >= 0 and 0 < alpha_k < 1 => u_k = 0 (u_k is the rate of change of
    <w_j, x_k>). Returns (alpha, codes) with codes 0 off / 1 on / 2 slide, or None.
    """
    K = q.size
    if K > MAX_FACES:
        return None
    tol = FACE_TOL * scale
    for case in _CASES[K]:
        c = np.array(case)
        alpha = (c == 1).astype(float)
        free = c == 2
        if free.any():
            rhs = -(q[free] + M[np.ix_(free, ~free)] @ alpha[~free])
            try:
                alpha[free] = np.linalg.solve(M[np.ix_(free, free)], rhs)
            except np.linalg.LinAlgError:
                continue
            if not np.all((alpha[free] > 0) & (alpha[free] < 1)):
                continue
        u = s * (q + M @ alpha)
        if np.all(u[c == 0] <= tol[c == 0]) and np.all(u[c == 1] >= -tol[c == 1]):
            return alpha, c
    return None
