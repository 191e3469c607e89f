r"""The neural correlation function and its KKT points (book chapter 2, ``book/ch2_ncf.ipynb``;
Kumar & Haupt, 2024).

Near a small initialisation the residual weights :math:`\rho_i = -\partial L/\partial f(x_i)`
are frozen, and gradient flow follows the NCF :math:`\mathcal N(\theta) = \sum_i \rho_i
f_\theta(x_i)`. Each neuron then only sees the correlation :math:`G_\rho(v) = \sum_i
\rho_i\sigma(\langle v, x_i\rangle)` of its direction (a :class:`~reluflow.Correlation`,
``data.weighted(rho)``); neurons converge in direction to its critical points, the KKT points
of the NCF on the sphere.

- :mod:`.kkt`: :func:`kkt_directions`, :func:`max_ncf` and their results;
- :mod:`.function`: the NCF of a network (:func:`value`, :func:`direction_value`);
- :mod:`.escape`: :func:`escape_time` from the origin and :func:`residual_correlation` at a
  saddle;
- :mod:`.mass`: :func:`mass_shares`, how :math:`\|\theta\|^2` is shared among directions;
- :mod:`.tracking`: :func:`track_direction`, how closely small neurons follow the moving
  critical direction of the residual correlation near a saddle;
- :mod:`.clock` (chapter 6, "One clock"): :func:`escape_clock`, the first escape timed by the
  NCF flow, with :func:`mass_time` and :func:`clock_tolerance`;
- :mod:`.saddles` (chapter 6, "Saddle to saddle as an algorithm"): :func:`staircase`, the
  leading-order loss staircase of a small initialisation, and :func:`drop_times`;
- :mod:`.weightings` (chapter 6, "One function, four weightings"): :func:`growth_identity`,
  :func:`residual_integral`, :func:`parity_correlation` and the other checks that the four
  weightings are one object;
- :mod:`.symbolic`: the SymPy derivations of the chapter (loaded on first use).
"""

from .. import _lazy
from . import kkt as _kkt
from .clock import EscapeClock, clock_tolerance, escape_clock, mass_time
from .escape import escape_time, residual_correlation
from .function import direction_value, value
from .kkt import CriticalDirection, NCFMax, kkt_directions, max_ncf
from .mass import mass_shares
from .saddles import Family, Staircase, StaircaseStep, drop_times, staircase
from .tracking import Tracking, track_direction
from .weightings import (
    ParityCorrelation,
    growth_identity,
    linearity,
    orthogonal_parallelism,
    parity_correlation,
    residual_integral,
)

__all__ = [
    "kkt_directions",
    "CriticalDirection",
    "max_ncf",
    "NCFMax",
    "value",
    "direction_value",
    "residual_correlation",
    "escape_time",
    "mass_shares",
    "track_direction",
    "Tracking",
    "escape_clock",
    "EscapeClock",
    "mass_time",
    "clock_tolerance",
    "staircase",
    "Staircase",
    "StaircaseStep",
    "Family",
    "drop_times",
    "growth_identity",
    "linearity",
    "orthogonal_parallelism",
    "parity_correlation",
    "ParityCorrelation",
    "residual_integral",
    "TOL",
    "MAX_CANDIDATES",
    "symbolic",
]

#: Relative tolerance of :func:`kkt_directions` and :func:`max_ncf`: a direction v is on the
#: face of :math:`x_i` when :math:`|\langle v, x_i\rangle| \le \mathrm{TOL}\,\|x_i\|`, and
#: values, residuals and slopes below :math:`\mathrm{TOL}\sum_i |\rho_i|\,\|x_i\|` count as zero.
TOL = _kkt.TOL
#: Largest number of (face set, activation set) candidates :func:`kkt_directions` examines
#: before it raises (about :math:`2^n n^{d-2}` for n points in d dimensions).
MAX_CANDIDATES = _kkt.MAX_CANDIDATES

__getattr__, __dir__ = _lazy.attach(__name__, ("symbolic",))
