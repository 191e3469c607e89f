r"""SymPy derivations of chapter 5, "NTK margins, the global margin and low rotation"
(``book/ch5_margins.ipynb``): the arc-cosine kernels in closed form, the exact twins of
:func:`reluflow.margins.arccos_kernel`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from ..symbolic import Identity

__all__ = ["NTKRescaling", "SymbolicKernel", "arccos_kernel_symbolic", "ntk_rescaling"]


@dataclass(frozen=True, eq=False)
class SymbolicKernel:
    """:func:`arccos_kernel_symbolic`: the SymPy closed form ``expr`` in ``theta`` and its numpy
    twin ``func``."""

    expr: sp.Expr
    theta: sp.Symbol
    func: Callable


def arccos_kernel_symbolic(degree: int) -> SymbolicKernel:
    r"""Derive the arc-cosine kernel for unit :math:`x, z` with SymPy.

    Only the projection of :math:`w` on :math:`\mathrm{span}(x, z)` matters; it is a 2-D standard
    Gaussian :math:`r(\cos\varphi, \sin\varphi)`, :math:`\varphi` uniform and independent of
    :math:`r^2 \sim \chi^2_2` (:math:`\mathbb E r^2 = 2`). With :math:`x = (1, 0)`, :math:`z =
    (\cos\theta, \sin\theta)`, both are active for :math:`\varphi \in (\theta - \pi/2, \pi/2)`, so

    .. math:: k_p(\theta) = \frac{\mathbb E r^{2p}}{2\pi}\int_{\theta-\pi/2}^{\pi/2}
              \cos^p\varphi\,\cos^p(\varphi - \theta)\,d\varphi,\qquad 0 \le \theta \le \pi.

    Examples
    --------
    >>> import reluflow as rf
    >>> rf.margins.symbolic.arccos_kernel_symbolic(0).expr
    (pi - theta)/(2*pi)
    """
    if degree not in (0, 1):
        raise ValueError(f"`degree` must be 0 or 1; got {degree!r}")
    theta, phi = sp.symbols("theta phi", real=True)
    integrand = (sp.cos(phi) * sp.cos(phi - theta)) ** degree
    radial = 2 if degree == 1 else 1
    expr = sp.simplify(radial * sp.integrate(integrand, (phi, theta - sp.pi / 2, sp.pi / 2)) / (2 * sp.pi))
    return SymbolicKernel(expr, theta, sp.lambdify(theta, expr, "numpy"))


@dataclass(frozen=True, eq=False)
class NTKRescaling:
    r""":func:`ntk_rescaling`: identities ``outer`` (the outer weight of the NTK network, read
    as :math:`\tilde a = a/\sqrt m`, moves at :math:`1/m` times the standard gradient) and
    ``inner`` (the inner weights move as in the standard network), and ``network`` (the two
    networks are the same function)."""

    network: Identity
    outer: Identity
    inner: Identity


def ntk_rescaling() -> NTKRescaling:
    r"""The NTK-scaled network is chapter 1's network with a slower outer layer (book chapter 5,
    section "Setting and the three margins").

    For one neuron of :math:`f_{\rm NTK}(x) = \frac1{\sqrt m}\sum_j a_j\sigma(\langle w_j,
    x\rangle)` and any loss :math:`\ell(f)` and activation :math:`\sigma` (both left as
    undefined functions), gradient flow in :math:`(a, w)` reads, with
    :math:`\tilde a = a/\sqrt m` and the standard network :math:`f = \tilde a\,\sigma(\langle w,
    x\rangle)` of chapter 1:

    .. math:: \frac{d\tilde a}{dt} = \frac1{\sqrt m}\dot a = -\frac1m\,
              \frac{\partial\ell(f)}{\partial\tilde a},\qquad
              \dot w = -\frac{\partial\ell(f)}{\partial w},

    i.e. ``rf.gradient_flow`` with ``outer_rate`` :math:`1/m` (``0`` when the outer layer is
    frozen). Gradient descent with step :math:`\eta` is the same statement per step.

    Examples
    --------
    >>> import reluflow as rf
    >>> r = rf.margins.symbolic.ntk_rescaling()
    >>> r.network.residual, r.outer.residual, list(r.inner.residual)
    (0, 0, [0, 0])
    """
    a, at, m = sp.symbols("a a_tilde m", positive=True)
    w, x = sp.Matrix(sp.symbols("w1 w2", real=True)), sp.Matrix(sp.symbols("x1 x2", real=True))
    ell, sigma = sp.Function("ell"), sp.Function("sigma")
    z = w.dot(x)
    f_ntk, f_std = a * sigma(z) / sp.sqrt(m), at * sigma(z)
    back = {a: sp.sqrt(m) * at}
    network = Identity(f_ntk.subs(back), f_std, sp.simplify(f_ntk.subs(back) - f_std))
    lhs_a = (-sp.diff(ell(f_ntk), a) / sp.sqrt(m)).subs(back)
    rhs_a = -sp.diff(ell(f_std), at) / m
    lhs_w = (-ell(f_ntk).diff(w)).subs(back)
    rhs_w = -ell(f_std).diff(w)
    return NTKRescaling(network, Identity(lhs_a, rhs_a, sp.simplify(lhs_a - rhs_a)),
                        Identity(lhs_w, rhs_w, sp.simplify(lhs_w - rhs_w)))  # fmt: skip
