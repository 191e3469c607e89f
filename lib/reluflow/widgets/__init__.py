"""Interactive explorers for the book (ipywidgets) and their kernel-free twins.

Each chapter's builder pairs a pure compute function (testable, timed in bench/) with a
drawing function and returns the widget; ``*_figure`` draws the same picture at the default
values, and ``*_scrubber`` precomputes frames over gradient-flow time from one run and returns
a slider player (:func:`reluflow.plotting.scrub`) that works in the static HTML book.
One private module per chapter: ``_flow`` (1), ``_ncf`` (2), ``_ortho`` (3), ``_phases`` (4),
``_margins`` (5).
"""

from . import _flow, _margins, _ncf, _ortho, _phases
from ._flow import flow_explorer, flow_explorer_compute, flow_explorer_figure, flow_scrubber
from ._margins import margins_explorer, margins_explorer_compute, margins_explorer_figure, margins_scrubber
from ._ncf import ncf_explorer, ncf_explorer_compute, ncf_explorer_figure, ncf_scrubber
from ._ortho import ortho_explorer, ortho_explorer_compute, ortho_explorer_figure, ortho_scrubber
from ._phases import phases_explorer, phases_explorer_compute, phases_explorer_figure, phases_scrubber

__all__ = [
    "FLOW_DEFAULTS",
    "MARGINS_DEFAULTS",
    "NCF_DEFAULTS",
    "ORTHO_DEFAULTS",
    "PHASES_DEFAULTS",
    "flow_explorer",
    "flow_explorer_compute",
    "flow_explorer_figure",
    "flow_scrubber",
    "margins_explorer",
    "margins_explorer_compute",
    "margins_explorer_figure",
    "margins_scrubber",
    "ncf_explorer",
    "ncf_explorer_compute",
    "ncf_explorer_figure",
    "ncf_scrubber",
    "ortho_explorer",
    "ortho_explorer_compute",
    "ortho_explorer_figure",
    "ortho_scrubber",
    "phases_explorer",
    "phases_explorer_compute",
    "phases_explorer_figure",
    "phases_scrubber",
]

# The defaults live in the chapter modules; the comments here document them (autodoc reads
# `#:` comments of this module only).

#: Defaults of :func:`flow_explorer`: the running example of chapter 1 (ours).
FLOW_DEFAULTS = _flow.FLOW_DEFAULTS
#: Defaults of :func:`ncf_explorer`: five points in the plane (ours), square loss.
NCF_DEFAULTS = _ncf.NCF_DEFAULTS
#: Defaults of :func:`ortho_explorer`: the running example of chapter 1 (ours), unit input norms.
ORTHO_DEFAULTS = _ortho.ORTHO_DEFAULTS
#: Defaults of :func:`phases_explorer`: the two-point instance of chapter 4 (ours).
PHASES_DEFAULTS = _phases.PHASES_DEFAULTS
#: Defaults of :func:`margins_explorer`: 2-sparse parity, our choices (chapter 5, "Explore").
MARGINS_DEFAULTS = _margins.MARGINS_DEFAULTS

# Chapter 6: the one correlation G_rho(t) along a run (module _synthesis).
from . import _synthesis  # noqa: E402
from ._synthesis import (  # noqa: E402
    synthesis_explorer,
    synthesis_explorer_compute,
    synthesis_explorer_figure,
    synthesis_scrubber,
)

__all__ += [
    "SYNTHESIS_DEFAULTS",
    "synthesis_explorer",
    "synthesis_explorer_compute",
    "synthesis_explorer_figure",
    "synthesis_scrubber",
]

#: Defaults of :func:`synthesis_explorer`: the two-point instance of chapter 4 (ours).
SYNTHESIS_DEFAULTS = _synthesis.SYNTHESIS_DEFAULTS
