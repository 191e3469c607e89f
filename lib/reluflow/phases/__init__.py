r"""Four phases of gradient flow on separable data (book chapter 4, ``book/ch4_phases.ipynb``;
Wang & Ma, NeurIPS 2023).

:func:`detect` cuts a run :math:`[t_0, t_{\rm end}]` into consecutive intervals named

``"condensation"`` -> ``"saddle-to-plateau"`` -> ``"plateau"`` -> ``"escape"`` -> ... -> ``"convergence"``

from the loss curve alone (the other measured quantities are reported as evidence), and
:func:`predicted_times` gives the leading-order NCF time scales to compare with.

- :mod:`.detection`: :func:`detect`, its thresholds and results;
- :mod:`.predict`: :func:`predicted_times` and the observed counterparts :func:`observed_times`;
- :mod:`.events`: :func:`growth_rate` (the rate of :math:`\|\theta\|^2` and its NCF bracket) and
  :func:`switch_groups` (the solver's activation events, grouped) and :func:`census_by_sign`;
- :func:`four_phases` maps the five labels of :func:`detect` onto the paper's four phases (our reading);
- :mod:`.symbolic`: the SymPy derivations for the two-point instance (loaded on first use).
"""

from .. import _lazy
from . import detection as _detection
from .detection import PaperPhase, Phase, PhaseEvidence, detect, four_phases
from .events import GrowthRate, SwitchGroup, census_by_sign, growth_rate, switch_groups
from .predict import ObservedTimes, PredictedTimes, observed_times, predicted_times

__all__ = [
    "detect",
    "Phase",
    "PhaseEvidence",
    "PHASE_NAMES",
    "CONDENSATION_RTOL",
    "PLATEAU_SLOPE",
    "PLATEAU_FLOOR",
    "PLATEAU_MIN_DURATION",
    "CONVERGENCE_FRACTION",
    "predicted_times",
    "PredictedTimes",
    "four_phases",
    "PaperPhase",
    "PAPER_PHASES",
    "growth_rate",
    "GrowthRate",
    "switch_groups",
    "SwitchGroup",
    "census_by_sign",
    "observed_times",
    "ObservedTimes",
    "symbolic",
]

#: The phase names :func:`detect` uses, in the order they can occur.
PHASE_NAMES = _detection.PHASE_NAMES
#: Condensation lasts while :math:`L(t) \ge (1 - \text{rtol})\,L(0)`, i.e. while f is still ~ 0.
CONDENSATION_RTOL = _detection.CONDENSATION_RTOL
#: A plateau is flat in log-time: :math:`|d\ln L/d\ln t| <` this (a drop gives >~ 1, a plateau
#: ~ 0.1-0.3) ...
PLATEAU_SLOPE = _detection.PLATEAU_SLOPE
#: ... at a level :math:`L > \text{floor}\cdot L(0)` (a slow loss tail is not a plateau) ...
PLATEAU_FLOOR = _detection.PLATEAU_FLOOR
#: ... for at least this log-time: :math:`\ln(t_{\rm end}/t_{\rm start}) \ge` 0.1 (10 % of t).
PLATEAU_MIN_DURATION = _detection.PLATEAU_MIN_DURATION
#: Convergence: from then on :math:`L \le \text{fraction}\cdot L(0)` and every point is fit.
CONVERGENCE_FRACTION = _detection.CONVERGENCE_FRACTION
#: Our reading of Wang & Ma's four phases, number -> name; :func:`four_phases` maps the labels of
#: :data:`PHASE_NAMES` onto them ("plateau" and "escape" are both phase 3, "plateau escape").
PAPER_PHASES = _detection.PAPER_PHASES

__getattr__, __dir__ = _lazy.attach(__name__, ("symbolic",))
