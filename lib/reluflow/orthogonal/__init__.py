r"""Orthogonal inputs: early alignment, saddle to saddle, minimum norm (book chapter 3,
``book/ch3_orthogonal.ipynb``; Boursier, Pillaud-Vivien & Flammarion, NeurIPS 2022).

Setting: pairwise-orthogonal inputs :math:`x_1, \dots, x_n` of norms :math:`r_k`, real labels,
the square loss :math:`L = \frac1{2n}\sum_k (f(x_k) - y_k)^2` (a :class:`~reluflow.Dataset`
with its default weights 1/n) and a small balanced initialisation of scale
:math:`\varepsilon`. Notation: :math:`z_k = y_k/r_k`, classes :math:`P_\pm = \{k : \pm y_k >
0\}`, driving vectors :math:`D_S = \frac1n\sum_{k\in S} |y_k|\,x_k` with :math:`D_\pm =
D_{P_\pm}`. Every function checks that the points are orthogonal (relative tolerance
:data:`ORTHO_TOL`) and raises ``ValueError`` otherwise.

- :mod:`.escape`: the driving vectors, the early phase of each neuron, the escape times and
  the loss staircase;
- :mod:`.aligned`: neurons along the minimum-norm directions and the mass of each sign, the
  setting of the logistic growth law;
- :mod:`.minnorm`: the minimum-norm interpolator, its dual certificate and the excess of the
  gradient-flow limit over it;
- :mod:`.bias`: one-dimensional data with a bias and the kink picture;
- :mod:`.symbolic`: the SymPy derivations of the chapter (loaded on first use).
"""

from .. import _lazy
from . import _check
from .aligned import aligned_init, class_masses
from .bias import Kinks, bias_data, kink_picture
from .escape import (
    DrivingVectors,
    EscapeTimes,
    LinearPhase,
    class_driving_vectors,
    escape_time_band,
    escape_times,
    linear_phase,
    observed_escape_times,
    plateau_levels,
)
from .minnorm import (
    MinNorm,
    excess_exponent,
    min_norm_dual,
    min_norm_excess,
    min_norm_interpolant,
    predicted_excess,
)

__all__ = [
    "class_driving_vectors",
    "DrivingVectors",
    "linear_phase",
    "LinearPhase",
    "escape_times",
    "EscapeTimes",
    "escape_time_band",
    "observed_escape_times",
    "plateau_levels",
    "min_norm_interpolant",
    "MinNorm",
    "min_norm_dual",
    "min_norm_excess",
    "excess_exponent",
    "predicted_excess",
    "bias_data",
    "kink_picture",
    "Kinks",
    "aligned_init",
    "class_masses",
    "ORTHO_TOL",
    "symbolic",
]

#: Relative orthogonality tolerance: :math:`|\langle x_k, x_l\rangle| \le` ORTHO_TOL
#: :math:`\|x_k\|\|x_l\|` for :math:`k \ne l` (the keyword ``tol`` of every function overrides it).
ORTHO_TOL = _check.ORTHO_TOL

__getattr__, __dir__ = _lazy.attach(__name__, ("symbolic",))
