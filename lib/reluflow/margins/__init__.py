r"""NTK margins, the global margin and low rotation (book chapter 5, ``book/ch5_margins.ipynb``;
Telgarsky, "Feature selection and low test error in shallow low-rotation ReLU networks", ICLR 2023).

The paper's definitions and normalisations could not be checked against its full text; what is
here is **our reconstruction**, with these choices. Inputs are used as given (the paper assumes
:math:`\|x\| \le 1`; our datasets have :math:`\|x\| = 1`). The NTK margin uses the *inner-layer*
features :math:`\phi(x)(v) = x\,\mathbb 1[v^\top x > 0]`, :math:`v \sim \mathcal N(0, I_d)`, with
:math:`\|\bar\theta\|_{L^2(\mathcal N)} \le 1`. The global margin is the variation-norm margin
:math:`\gamma_{\rm gl} = \max_{\|\mu\|_{TV} \le 1} \min_i y_i \int_{S^{d-1}} \sigma(\langle v,
x_i\rangle)\,d\mu(v)` (for a balanced two-homogeneous network, twice the best normalised margin).

Every margin comes as a :class:`MarginResult` with a certificate: an explicit classifier that
attains ``lower`` on the data and dual weights :math:`q` on the simplex whose dual objective is
``upper``; the true margin lies in ``[lower, upper]``, and ``gap = upper - lower``.

- :mod:`.kernels`: the arc-cosine kernels and the NTK (functions of points);
- :mod:`.certified`: the certified margins (QP, LP, closed forms for parity);
- :mod:`.lowrotation`: the norm-only and NTK-scaled flows and their diagnostics, and the
  growing gradient-descent step :class:`LogTimeStep` for long runs;
- :mod:`.testerror`: :func:`parity_test_error`, held-out error against the sample size;
- :mod:`.lazyrich` (chapter 6, "The lazy-to-rich phase diagram"): one parameterisation from
  rich to lazy (:func:`symmetric_init`, :func:`lazy_rich_run`, :func:`lazy_rich_parity`), the
  tangent kernel of a network and its margin (:func:`tangent_kernel`, :func:`kernel_margin`);
- :mod:`.symbolic`: the SymPy derivation of the arc-cosine kernels (loaded on first use).
"""

from .. import _lazy
from . import certified as _certified
from . import lazyrich as _lazyrich
from .certified import (
    MarginResult,
    global_margin_lower_bound,
    norm_only_margin,
    ntk_margin,
    parity_global_margin,
    parity_ntk_margin,
)
from .kernels import arccos_kernel, ntk
from .lazyrich import (
    LazyRichRun,
    kernel_margin,
    lazy_rich_parity,
    lazy_rich_run,
    parity_split,
    symmetric_init,
    tangent_kernel,
)
from .lowrotation import (
    LogTimeStep,
    NormOnlyDualFlow,
    NormOnlyFlow,
    NTKFlow,
    norm_only_dual_flow,
    norm_only_flow,
    ntk_flow,
)
from .testerror import ParityTestError, parity_test_error

__all__ = [
    "arccos_kernel",
    "ntk",
    "ntk_margin",
    "MarginResult",
    "norm_only_margin",
    "global_margin_lower_bound",
    "parity_ntk_margin",
    "parity_global_margin",
    "GAP_TOL",
    "norm_only_flow",
    "NormOnlyFlow",
    "norm_only_dual_flow",
    "NormOnlyDualFlow",
    "ntk_flow",
    "NTKFlow",
    "LogTimeStep",
    "parity_test_error",
    "ParityTestError",
    "symmetric_init",
    "tangent_kernel",
    "kernel_margin",
    "parity_split",
    "lazy_rich_run",
    "LazyRichRun",
    "lazy_rich_parity",
    "LAZY_RICH_GRID",
    "LAZY_RICH_REDUCED",
    "symbolic",
]

#: A margin is certified (``status`` 0, ``success``) when its gap is at most this; the keyword
#: ``gap_tol`` overrides it.
GAP_TOL = _certified.GAP_TOL
#: The full grid of the lazy-to-rich sweep (``bench/lazy_rich.py``; ours): d, m, init scale, seed.
LAZY_RICH_GRID = _lazyrich.LAZY_RICH_GRID
#: The reduced grid chapter 6 runs when the results of the full sweep are absent (ours).
LAZY_RICH_REDUCED = _lazyrich.LAZY_RICH_REDUCED

__getattr__, __dir__ = _lazy.attach(__name__, ("symbolic",))
