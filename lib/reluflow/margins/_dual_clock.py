r"""The norm-only flow in closed form and on the dual clock (private; documented in
:func:`reluflow.margins.norm_only_dual_flow`, book chapter 5, "Norm-only inner weights").

With :math:`F_{ij} = y_i\sigma(\langle\bar v_j, x_i\rangle)`, :math:`p_i = |\rho_i|` and
:math:`P(t) = \int_0^tp\,ds`, the flow :math:`\dot a_j = r_jg_j`, :math:`\dot r_j = a_jg_j`,
:math:`g = F^\top p`, has the exact solution

.. math:: (r_j \pm a_j)(t) = (r_j \pm a_j)(0)\,e^{\pm(F^\top P(t))_j}.

So the state is a function of the n-vector :math:`P`. On the dual clock
:math:`\tau = \lVert P\rVert_1` the ODE is :math:`dP/d\tau = q`, :math:`q = p/\lVert p\rVert_1`,
and :math:`u_j = a_jr_j` is exponential weights over the 2m "experts" :math:`(j, s)`, with
log-weights :math:`\ell_{js} = 2\ln\lvert r_j + sa_j\rvert(0) - \ln 4 + 2s(F^\top P)_j` and
total :math:`W = \sum e^{\ell} = \frac12\lVert\theta\rVert^2`. Everything is kept in logs.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp
from scipy.special import expit, log_expit, logsumexp


def log_expert_weights0(a0: np.ndarray, r0: np.ndarray) -> np.ndarray:
    """Initial log-weights :math:`\\ln((r_j + sa_j)^2/4)`, shape (2m,), ``s = +1`` first."""
    return np.r_[2 * np.log(r0 + a0), 2 * np.log(r0 - a0)] - np.log(4.0)


def state(P: np.ndarray, F: np.ndarray, l0: np.ndarray):
    """Log-weights ``l`` (2m,), ``lnW``, weights ``x`` (2m,), ``ubar = u/W`` (m,) and the
    normalised margins ``v = F ubar`` (n,) at cumulative dual mass ``P``."""
    g = F.T @ P
    lw = l0 + 2 * np.r_[g, -g]
    lnW = logsumexp(lw)
    x = np.exp(lw - lnW)
    m = F.shape[1]
    ubar = x[:m] - x[m:]
    return lw, lnW, x, ubar, F @ ubar


def log_residual(z: np.ndarray, loss: str):
    """``ln p_i + ln n`` and its derivative in ``z``: logistic :math:`\\ln\\sigma(-z)`, exponential ``-z``."""
    if loss == "logistic":
        return log_expit(-z), -expit(z)
    return -z, -np.ones_like(z)


def log_n_loss(z: np.ndarray, loss: str) -> float:
    """:math:`\\ln(nL)`, computed without underflow."""
    if loss == "exponential":
        return float(logsumexp(-z))
    zc = np.minimum(z, 700.0)
    lsp = np.where(z > 30.0, -z - 0.5 * np.exp(-zc), np.log(np.log1p(np.exp(-zc))))
    return float(logsumexp(lsp))


def smoothed_twice(lnnL: float, lnW: float, loss: str) -> float:
    r""":math:`2\tilde\gamma` (Lyu–Li): :math:`-\ln(e^{nL} - 1)/W` (logistic) or :math:`-\ln(nL)/W`
    (exponential); ``nan`` before :math:`nL < \ln 2` (logistic) or :math:`nL < 1`."""
    nL = np.exp(lnnL)
    if loss == "exponential":
        return -lnnL / np.exp(lnW) if nL < 1.0 else np.nan
    if nL >= np.log(2.0):
        return np.nan
    ln_em1 = lnnL + (np.log(np.expm1(nL) / nL) if nL > 1e-12 else nL / 2)
    return -ln_em1 / np.exp(lnW)


def slack(z: np.ndarray, lnnL: float, lnW: float, n: int, loss: str) -> float:
    r"""The softmin slack :math:`\varepsilon` with :math:`q^\top v \le 2\tilde\gamma + \varepsilon`
    once separated: :math:`\ln n/W` (exponential), :math:`((2 + e^{-z_{\min}})\ln n + nL)/W`
    (logistic). Zero before separation (not used there)."""
    zmin = z.min()
    if zmin <= 0:
        return 0.0
    if loss == "exponential":
        return np.log(n) * np.exp(-lnW)
    return ((2 + np.exp(-zmin)) * np.log(n) + np.exp(lnnL)) * np.exp(-lnW)


def integrate(F, l0, loss: str, tau_end: float, tau_eval: np.ndarray, rtol: float):
    """Radau on ``Y = (P, ln(1 + t), E)`` with ``E = ∫ slack dτ``; analytic Jacobian."""
    n, m = F.shape

    def parts(Y):
        lw, lnW, x, ubar, v = state(Y[:n], F, l0)
        z = np.exp(lnW) * v
        lam, dlam = log_residual(z, loss)
        lnp = logsumexp(lam) - np.log(n)
        return lw, lnW, z, lam, dlam, lnp

    def rhs(_, Y):
        lw, lnW, z, lam, _, lnp = parts(Y)
        q = np.exp(lam - logsumexp(lam))
        lnnL = log_n_loss(z, loss)
        return np.r_[q, np.exp(-Y[n] - lnp), slack(z, lnnL, lnW, n, loss)]

    def jac(_, Y):
        lw, lnW, z, lam, dlam, lnp = parts(Y)
        q = np.exp(lam - logsumexp(lam))
        h = np.exp(lw[:m]) + np.exp(lw[m:])  # (a_j^2 + r_j^2)/2
        dL = dlam[:, None] * (2 * (F * h) @ F.T)  # d lam_i / d P_k
        J = np.zeros((n + 2, n + 2))
        J[:n, :n] = (np.diag(q) - np.outer(q, q)) @ dL
        rate = np.exp(-Y[n] - lnp)
        J[n, :n] = -rate * (q @ dL)
        J[n, n] = -rate
        return J

    with np.errstate(over="ignore", invalid="ignore"):  # rejected trial steps may overflow
        return solve_ivp(rhs, (0.0, tau_end), np.zeros(n + 2), method="Radau", jac=jac,
                         t_eval=tau_eval, rtol=rtol, atol=rtol * 1e-2)  # fmt: skip
