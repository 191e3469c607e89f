r"""SymPy derivations for chapter 4, "Four phases on separable data" (Wang & Ma, NeurIPS 2023).

Book file ``book/ch4_phases.ipynb``. The two-point instance is **ours** (a reconstruction, not
the paper's setting): :math:`x_+ = (1, 0)`, :math:`x_- = (\cos\Delta, \sin\Delta)` with
:math:`0 < \Delta < \pi`, the exponential loss :math:`L = p\,e^{-f(x_+)} + (1 - p)\,e^{f(x_-)}`
with :math:`\tfrac12 < p < 1` (``rf.datasets.two_point``). At :math:`f = 0` the residual
weights are :math:`\rho^0 = (p, -(1 - p))` and, for :math:`v = (\cos\phi, \sin\phi)`,

.. math:: G(\phi) = p\,\sigma(\cos\phi) - (1 - p)\,\sigma(\cos(\phi - \Delta)).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from ..symbolic import Identity

__all__ = [
    "Extremes",
    "PhaseTimes",
    "SlidingConditions",
    "TwoPointG",
    "alignment_two_point",
    "escape_times",
    "extremes",
    "sliding_conditions",
    "symbols",
]

_DELTA = sp.Symbol("Delta", positive=True)
_P = sp.Symbol("p", positive=True)
_PHI = sp.Symbol("phi", real=True)
_ELL = sp.Symbol("ell", positive=True)  # ln(1/epsilon)


def symbols() -> tuple[sp.Symbol, sp.Symbol, sp.Symbol, sp.Symbol]:
    r"""The symbols ``(Delta, p, phi, ell)`` used throughout; ``ell`` is :math:`\ln(1/\varepsilon)`."""
    return _DELTA, _P, _PHI, _ELL


@dataclass(frozen=True, eq=False)
class TwoPointG:
    r""":func:`alignment_two_point`: ``G`` (Piecewise in :math:`\phi \in [-\pi/2, 3\pi/2)`),
    ``arcs`` (name -> (start, end, expression); names ``"+"``, ``"+-"``, ``"-"``, ``"none"``
    by active points), ``D`` (the driving vector :math:`p x_+ - (1 - p) x_-` of the arc where
    both points are active), ``linear`` (identity: on that arc :math:`G = \langle v, D\rangle`)
    and ``func`` (numpy twin ``func(phi, Delta, p)``)."""

    G: sp.Piecewise
    arcs: dict
    D: sp.Matrix
    linear: Identity
    func: Callable


def alignment_two_point() -> TwoPointG:
    r"""The piecewise alignment function of the two-point instance (book chapter 4, section
    "The alignment function of two points").

    :math:`x_+` is active for :math:`\cos\phi > 0` and :math:`x_-` for :math:`\cos(\phi - \Delta)
    > 0`; on :math:`[-\pi/2, 3\pi/2)` the circle splits into four arcs with boundaries
    :math:`\Delta - \pi/2 < \pi/2 < \Delta + \pi/2`:

    ``"+"`` :math:`[-\pi/2, \Delta - \pi/2)`: :math:`G = p\cos\phi`; ``"+-"``
    :math:`[\Delta - \pi/2, \pi/2)`: :math:`G = \langle v, D\rangle`; ``"-"``
    :math:`[\pi/2, \Delta + \pi/2)`: :math:`G = -(1 - p)\cos(\phi - \Delta)`; ``"none"``: 0.
    """
    d, p, phi = _DELTA, _P, _PHI
    xp, xm = sp.Matrix([1, 0]), sp.Matrix([sp.cos(d), sp.sin(d)])
    D = p * xp - (1 - p) * xm
    v = sp.Matrix([sp.cos(phi), sp.sin(phi)])
    both = p * sp.cos(phi) - (1 - p) * sp.cos(phi - d)
    arcs = {
        "+": (-sp.pi / 2, d - sp.pi / 2, p * sp.cos(phi)),
        "+-": (d - sp.pi / 2, sp.pi / 2, both),
        "-": (sp.pi / 2, d + sp.pi / 2, -(1 - p) * sp.cos(phi - d)),
        "none": (d + sp.pi / 2, 3 * sp.pi / 2, sp.Integer(0)),
    }
    G = sp.Piecewise(*[(expr, phi < hi) for _, hi, expr in arcs.values()])
    linear = Identity(both, v.dot(D), sp.simplify(sp.expand_trig(both - v.dot(D))))
    return TwoPointG(G, arcs, D, linear, sp.lambdify((phi, d, p), G, "numpy"))


@dataclass(frozen=True, eq=False)
class Extremes:
    r""":func:`extremes`: the maximum ``g_max`` of :math:`G` and the direction ``phi_max``, the
    minimum ``g_min`` and ``phi_min`` (Piecewise in :math:`(\Delta, p)` for :math:`p > 1/2`);
    the inner products ``D_plus`` :math:`= \langle D, x_+\rangle` and ``D_minus``
    :math:`= \langle D, x_-\rangle`; the regime boundary ``p_boundary``
    :math:`= 1/(1 + \cos\Delta)` (root of ``D_minus``); identities ``continuity``
    (:math:`\|D\|^2 = p^2\sin^2\Delta` on the boundary), ``interior_at_boundary``
    (:math:`\langle D, x_+\rangle = 1 - \cos\Delta` there) and ``positive_wins``
    (:math:`\|D\|^2 - (1 - p)^2\sin^2\Delta = (p - (1 - p)\cos\Delta)^2`); numpy twins
    ``g_max_func``, ``phi_max_func``, ``g_min_func`` of ``(Delta, p)``."""

    g_max: sp.Piecewise
    phi_max: sp.Piecewise
    g_min: sp.Piecewise
    phi_min: sp.Piecewise
    D_plus: sp.Expr
    D_minus: sp.Expr
    p_boundary: sp.Expr
    continuity: Identity
    interior_at_boundary: Identity
    positive_wins: Identity
    g_max_func: Callable
    phi_max_func: Callable
    g_min_func: Callable


def extremes() -> Extremes:
    r"""Maximiser and (kink) minimiser of the two-point :math:`G` (book chapter 4, section
    "The alignment function of two points").

    **Maximum.** On arc ``"+-"`` :math:`G = \langle v, D\rangle \le \|D\|`, with equality at
    :math:`v = D/\|D\|`, which lies inside the arc iff :math:`\langle D, x_\pm\rangle > 0`. For
    :math:`p > 1/2`, :math:`\langle D, x_+\rangle = p - (1 - p)\cos\Delta > 0` whenever
    :math:`\langle D, x_-\rangle = p\cos\Delta - (1 - p) > 0`, so the *linear* regime is
    :math:`p\cos\Delta > 1 - p`. Otherwise, for acute :math:`\Delta`, :math:`G = p\cos\phi`
    increases along arc ``"+"`` up to its end :math:`\phi = \Delta - \pi/2` (:math:`v \perp x_-`,
    a kink) with value :math:`p\sin\Delta`; for :math:`\Delta \ge \pi/2` the maximum is
    :math:`v = x_+` with value p.

    **Minimum.** The interior candidate :math:`-D/\|D\|` would need
    :math:`(1 - p)\cos\Delta > p`, impossible for :math:`p > 1/2`. On arc ``"-"``
    :math:`G = -(1 - p)\cos(\phi - \Delta)` is smallest at :math:`\phi = \Delta` when that lies
    in the arc (:math:`\Delta \ge \pi/2`, value :math:`-(1 - p)`) and otherwise at the kink
    :math:`\phi = \pi/2` (:math:`v \perp x_+`), value :math:`-(1 - p)\sin\Delta`.
    """
    d, p = _DELTA, _P
    tg = alignment_two_point()
    xp, xm = sp.Matrix([1, 0]), sp.Matrix([sp.cos(d), sp.sin(d)])
    D = tg.D
    D_plus, D_minus = sp.trigsimp(sp.expand(D.dot(xp))), sp.trigsimp(sp.expand(D.dot(xm)))
    normD = sp.sqrt(sp.expand(D.dot(D)))
    p_b = sp.solve(sp.Eq(D_minus, 0), p)[0]
    linear = D_minus > 0
    g_max = sp.Piecewise((normD, linear), (p * sp.sin(d), d < sp.pi / 2), (p, True))
    phi_max = sp.Piecewise((sp.atan2(D[1], D[0]), linear), (d - sp.pi / 2, d < sp.pi / 2), (0, True))
    g_min = sp.Piecewise((-(1 - p) * sp.sin(d), d < sp.pi / 2), (-(1 - p), True))
    phi_min = sp.Piecewise((sp.pi / 2, d < sp.pi / 2), (d, True))
    nD2 = sp.expand(D.dot(D))
    continuity = Identity(nD2.subs(p, p_b), (p_b * sp.sin(d)) ** 2,
                          sp.simplify(nD2.subs(p, p_b) - (p_b * sp.sin(d)) ** 2))  # fmt: skip
    at_b = sp.simplify(D_plus.subs(p, p_b))
    interior = Identity(at_b, 1 - sp.cos(d), sp.simplify(at_b - (1 - sp.cos(d))))
    wins_lhs = nD2 - ((1 - p) * sp.sin(d)) ** 2
    wins_rhs = (p - (1 - p) * sp.cos(d)) ** 2
    wins = Identity(wins_lhs, wins_rhs, sp.simplify(sp.expand(wins_lhs - wins_rhs)))
    f = lambda e: sp.lambdify((d, p), e, "numpy")  # noqa: E731
    return Extremes(g_max, phi_max, g_min, phi_min, D_plus, D_minus, p_b, continuity, interior,
                    wins, f(g_max), f(phi_max), f(g_min))  # fmt: skip


@dataclass(frozen=True, eq=False)
class PhaseTimes:
    r""":func:`escape_times`: ``t1``, ``t_escape``, ``plateau`` (:math:`T_{\rm esc} - T_1`) as
    Piecewise expressions in :math:`(\ell, \Delta, p)`, :math:`\ell = \ln(1/\varepsilon)`; the
    rates ``g_head`` and ``g_bar``; ``closed_form`` (identity: for acute :math:`\Delta`,
    :math:`T_{\rm esc} = \ell\,[1/(1 - p) + (1 - \sin\Delta)/g^\star_1]`); numpy twins
    ``t1_func`` and ``t_escape_func`` of ``(ell, Delta, p)``."""

    t1: sp.Expr
    t_escape: sp.Expr
    plateau: sp.Expr
    g_head: sp.Expr
    g_bar: sp.Expr
    closed_form: Identity
    t1_func: Callable
    t_escape_func: Callable


def escape_times() -> PhaseTimes:
    r"""Leading-order phase times of the two-point instance (book chapter 4, section
    "Predicted times"), as in ``rf.phases.predicted_times``.

    Positive neurons along :math:`\arg\max G` grow like :math:`\varepsilon e^{g^\star_1 t}` and
    fit :math:`x_+` at :math:`T_1 = \ell/g^\star_1`. Then :math:`\bar\rho = (0, -(1 - p))`: the
    saddle-relative :math:`\bar G` has :math:`\max|\bar G| = \bar g = 1 - p` at :math:`v = x_-`.
    The negative neurons grew during phase I at :math:`g_{\rm head} = -\min G`, so at
    :math:`T_1` they have size :math:`\varepsilon e^{g_{\rm head}T_1}` and need
    :math:`(\ell - g_{\rm head}T_1)/\bar g` more:

    .. math:: T_{\rm esc} = T_1 + \frac{\ell - g_{\rm head}T_1}{1 - p}.

    For obtuse :math:`\Delta`, :math:`g_{\rm head} = \bar g` and :math:`T_{\rm esc} = \ell/(1 - p)`.
    """
    d, p, ell = _DELTA, _P, _ELL
    ex = extremes()
    g1, g_head, g_bar = ex.g_max, -ex.g_min, 1 - p
    t1 = ell / g1
    t_esc = t1 + (ell - g_head * t1) / g_bar
    g1_sym = sp.Symbol("g_1", positive=True)
    lhs = ell / g1_sym + (ell - (1 - p) * sp.sin(d) * ell / g1_sym) / (1 - p)
    rhs = ell * (1 / (1 - p) + (1 - sp.sin(d)) / g1_sym)
    closed = Identity(lhs, rhs, sp.simplify(lhs - rhs))
    f = lambda e: sp.lambdify((ell, d, p), e, "numpy")  # noqa: E731
    return PhaseTimes(t1, t_esc, t_esc - t1, g_head, g_bar, closed, f(t1), f(t_esc))


@dataclass(frozen=True, eq=False)
class SlidingConditions:
    r""":func:`sliding_conditions`: the normal velocities ``negative_normals`` (inactive side,
    active side) of a neuron with :math:`a < 0` on the face :math:`\langle w, x_+\rangle = 0`
    and ``positive_normals`` of one with :math:`a > 0` on :math:`\langle w, x_-\rangle = 0`
    (symbols ``a``, ``rho_p``, ``rho_m``); the thresholds ``release`` :math:`= \ln\frac{p}{(1 -
    p)\cos\Delta}` and ``hold`` :math:`= \ln\frac{p\cos\Delta}{1 - p}` on :math:`f(x_+) +
    f(x_-)`; identities ``release_factor`` and ``hold_factor`` (the active-side normals'
    brackets factored through the thresholds); numpy twins ``release_func``, ``hold_func`` of
    ``(Delta, p)``."""

    negative_normals: tuple
    positive_normals: tuple
    release: sp.Expr
    hold: sp.Expr
    release_factor: Identity
    hold_factor: Identity
    release_func: Callable
    hold_func: Callable


def sliding_conditions() -> SlidingConditions:
    r"""When a neuron of the two-point instance slides on a face and when it leaves it (book
    chapter 4, section "Activation patterns over time"; acute :math:`\Delta`).

    Filippov's rule (chapter 1, "Sliding along a face"): a neuron on the face
    :math:`\langle w, x_i\rangle = 0` is held there while the fields on both sides push into it,
    i.e. the normal velocity :math:`\langle\dot w, x_i\rangle` is :math:`> 0` on the inactive
    side and :math:`< 0` on the active side. With residuals :math:`\rho_+ = p\,e^{-f(x_+)}`,
    :math:`\rho_- = -(1 - p)e^{f(x_-)}`:

    * a **negative** neuron (:math:`a < 0`) on :math:`\langle w, x_+\rangle = 0`, active on
      :math:`x_-`: inactive side :math:`a\rho_-\cos\Delta > 0` always; active side
      :math:`a(\rho_+ + \rho_-\cos\Delta)`, negative while :math:`\rho_+ > |\rho_-|\cos\Delta`.
      It is **released** onto the side where :math:`x_+` is active when
      :math:`f(x_+) + f(x_-)` exceeds :math:`\ln\frac{p}{(1 - p)\cos\Delta}`, at the same time
      for every neuron held there;
    * a **positive** neuron on :math:`\langle w, x_-\rangle = 0`, active on :math:`x_+`: inactive
      side :math:`a\rho_+\cos\Delta > 0`; active side :math:`a(\rho_+\cos\Delta + \rho_-)`,
      negative, so that the face **holds** it, once :math:`f(x_+) + f(x_-) >
      \ln\frac{p\cos\Delta}{1 - p}` (from then on positive neurons active on both points turn
      away from :math:`x_-`).

    Examples
    --------
    >>> import reluflow as rf
    >>> sc = rf.phases.symbolic.sliding_conditions()
    >>> round(float(sc.release_func(1.0, 0.75)), 4), sc.release_factor.residual
    (1.7142, 0)
    """
    d, p = _DELTA, _P
    a, rp, rm, fp, fm = sp.symbols("a rho_p rho_m f_p f_m", real=True)
    xp, xm = sp.Matrix([1, 0]), sp.Matrix([sp.cos(d), sp.sin(d)])
    neg = (sp.simplify((a * rm * xm).dot(xp)), sp.simplify((a * (rp * xp + rm * xm)).dot(xp)))
    pos = (sp.simplify((a * rp * xp).dot(xm)), sp.simplify((a * (rp * xp + rm * xm)).dot(xm)))
    release, hold = sp.log(p / ((1 - p) * sp.cos(d))), sp.log(p * sp.cos(d) / (1 - p))
    sub = {rp: p * sp.exp(-fp), rm: -(1 - p) * sp.exp(fm)}
    rel_lhs = (neg[1] / a).subs(sub)
    rel_rhs = p * sp.exp(-fp) * (1 - sp.exp(fp + fm - release))
    hold_lhs = (pos[1] / a).subs(sub)
    hold_rhs = p * sp.cos(d) * sp.exp(-fp) * (1 - sp.exp(fp + fm - hold))
    rel = Identity(rel_lhs, rel_rhs, sp.simplify(sp.expand(rel_lhs - rel_rhs)))
    hld = Identity(hold_lhs, hold_rhs, sp.simplify(sp.expand(hold_lhs - hold_rhs)))
    f = lambda e: sp.lambdify((d, p), e, "numpy")  # noqa: E731
    return SlidingConditions(neg, pos, release, hold, rel, hld, f(release), f(hold))
