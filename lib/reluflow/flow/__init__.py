"""The gradient-flow solvers (book chapter 1, "A solver that respects the kinks").

:func:`gradient_flow` is the entry point; the methods (``"adaptive"``, ``"exponential"``,
``"euler"``) and their event and sliding code live in the private modules of this package.
"""

from .driver import gradient_flow, log_times

__all__ = ["gradient_flow", "log_times"]
