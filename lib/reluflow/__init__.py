"""reluflow: gradient flow in two-layer ReLU networks.

The companion library of the book "Gradient flow in two-layer ReLU networks". Data flow
one way: :class:`Dataset` -> loss -> :func:`gradient_flow` -> :class:`Trajectory` ->
diagnostics -> figure. Each docstring points to the book section that derives it.

The top level holds the objects the data flows through and the functions that make them;
everything else lives in the module or package named for its concept, and is reached
through it: the core modules ``losses``, ``datasets``, ``diagnostics``, ``sweep``,
``plotting``, ``symbolic`` (chapter 1), the solvers in ``flow``, one package per topic
(``ncf``, ``orthogonal``, ``phases``, ``margins``), and the book's ``widgets``. Modules that
pull in matplotlib, SymPy or an optimisation solver load on first use (PEP 562), so
``import reluflow`` stays light.
"""

from . import _lazy, datasets, diagnostics, flow, losses
from .data import Correlation, Dataset, with_bias
from .flow import gradient_flow, log_times
from .gradient import loss_and_grad
from .network import Network, small_init
from .trajectory import Trajectory

__version__ = "0.2.0"

#: Submodules loaded on first access (each imports matplotlib, SymPy, SciPy's optimisers,
#: clarabel, tqdm or joblib).
_LAZY = ("margins", "ncf", "orthogonal", "phases", "plotting", "sweep", "symbolic", "widgets")

__all__ = [
    "Correlation",
    "Dataset",
    "Network",
    "Trajectory",
    "datasets",
    "diagnostics",
    "flow",
    "gradient_flow",
    "log_times",
    "loss_and_grad",
    "losses",
    "margins",
    "ncf",
    "orthogonal",
    "phases",
    "plotting",
    "small_init",
    "sweep",
    "symbolic",
    "widgets",
    "with_bias",
]

__getattr__, __dir__ = _lazy.attach(__name__, _LAZY)
