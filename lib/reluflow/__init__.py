"""reluflow: gradient flow in two-layer ReLU networks.

The companion library of the book "Gradient flow in two-layer ReLU networks". Data flow
one way: :class:`Dataset` -> loss -> :func:`gradient_flow` -> :class:`Trajectory` ->
diagnostics -> figure. Each docstring points to the book section that derives it.
"""

from . import (
    datasets,
    losses,
    lowrotation,
    margins,
    orthogonal,
    phases,
    plotting,
    symbolic,
    symbolic_ncf,
    symbolic_ortho,
    symbolic_phases,
    widgets,
)
from .data import Dataset, with_bias
from .diagnostics import activation_patterns, alignment, balancedness, normalized_margin, pattern_census
from .flow import gradient_flow, log_times
from .gradient import loss_and_grad
from .ncf import (
    CriticalDirection,
    NCFMax,
    alignment_function,
    escape_time,
    kkt_directions,
    max_ncf,
    ncf,
    ncf_direction_value,
    residual_weights,
)
from .network import Network, small_init
from .phases import Phase
from .sweep import sweep, to_columns
from .trajectory import Trajectory

__version__ = "0.1.0"

__all__ = [
    "CriticalDirection",
    "Dataset",
    "NCFMax",
    "Phase",
    "Network",
    "Trajectory",
    "activation_patterns",
    "alignment",
    "alignment_function",
    "balancedness",
    "datasets",
    "escape_time",
    "gradient_flow",
    "kkt_directions",
    "log_times",
    "loss_and_grad",
    "losses",
    "lowrotation",
    "margins",
    "max_ncf",
    "ncf",
    "ncf_direction_value",
    "normalized_margin",
    "orthogonal",
    "phases",
    "pattern_census",
    "plotting",
    "residual_weights",
    "small_init",
    "sweep",
    "symbolic",
    "symbolic_ncf",
    "symbolic_ortho",
    "symbolic_phases",
    "to_columns",
    "widgets",
    "with_bias",
]
