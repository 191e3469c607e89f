"""The gradient-flow solvers (book chapter 1, "A solver that respects the kinks"; appendix
"How the solver works").

:func:`gradient_flow` is the entry point and :mod:`.driver` its one driver loop; the
methods are steppers in private modules: ``_euler`` (gradient descent), ``_adaptive``
(Dormand--Prince 5(4) with events, its landings in ``_landing`` and its frozen-pattern
field in ``_field``) and ``_exponential`` (the exponential midpoint rule, its frozen-residual
propagation in ``_frozen``); ``_faces`` solves the per-neuron face problem both exact
methods use, and ``_common`` holds what they share (defaults, snapshots).
"""

from ._common import log_times
from .driver import choose_method, gradient_flow

__all__ = ["choose_method", "gradient_flow", "log_times"]
