"""The status convention of :class:`~reluflow.Trajectory`, shared by every result of a
numerical procedure that can fail (private): ``status`` 0 is success, ``message`` says what
happened, ``success`` reads the status, and a failure also raises a ``RuntimeWarning``."""

from __future__ import annotations

import warnings


class Status:
    """Mixin for frozen result dataclasses with ``status`` and ``message`` fields."""

    @property
    def success(self) -> bool:
        """True when ``status == 0`` (the procedure reached its end, or certified its result)."""
        return self.status == 0


def report(result, what: str):
    """Warn (``RuntimeWarning``, at the caller's caller) when ``result.status != 0``; return it."""
    if result.status != 0:
        warnings.warn(f"{what}: {result.message}", RuntimeWarning, stacklevel=3)
    return result
