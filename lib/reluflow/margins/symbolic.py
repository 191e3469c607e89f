r"""SymPy derivations of chapter 5, "NTK margins, the global margin and low rotation"
(``book/ch5_margins.ipynb``): the arc-cosine kernels in closed form, the exact twins of
:func:`reluflow.margins.arccos_kernel`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

__all__ = ["SymbolicKernel", "arccos_kernel_symbolic"]


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
