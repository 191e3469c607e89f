r"""The phases of a gradient-flow run on separable data, detected from a
:class:`~reluflow.Trajectory` (book chapter 4, "Four phases on separable data", section
"Detecting the phases")."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_matching_dim, positive_scalar
from ..data import Dataset
from ..diagnostics import outputs
from ..losses import LossLike
from ..losses import get as get_loss
from ..ncf import kkt_directions
from ..trajectory import Trajectory

__all__ = ["PHASE_NAMES", "Phase", "PhaseEvidence", "detect", "PAPER_PHASES", "PaperPhase", "four_phases"]
__all__ += ["CONDENSATION_RTOL", "PLATEAU_SLOPE", "PLATEAU_FLOOR", "PLATEAU_MIN_DURATION", "CONVERGENCE_FRACTION"]

#: The phase names :func:`detect` uses, in the order they can occur.
PHASE_NAMES = ("condensation", "saddle-to-plateau", "plateau", "escape", "convergence")

#: Condensation lasts while :math:`L(t) \ge (1 - \text{rtol})\,L(0)`, i.e. while f is still ~ 0.
CONDENSATION_RTOL = 1e-2
#: A plateau is flat in log-time: :math:`|d\ln L/d\ln t| <` this (a drop gives >~ 1, a plateau ~ 0.1-0.3).
PLATEAU_SLOPE = 0.5
#: ... at a level :math:`L > \text{floor}\cdot L(0)` (a slow loss tail is not a plateau) ...
PLATEAU_FLOOR = 0.05
#: ... for at least this log-time: :math:`\ln(t_{\rm end}/t_{\rm start}) \ge` 0.1 (10 % of t).
PLATEAU_MIN_DURATION = 0.1
#: Convergence: from then on :math:`L \le \text{fraction}\cdot L(0)` and every point is fit.
CONVERGENCE_FRACTION = 0.05


@dataclass(frozen=True)
class PhaseEvidence:
    r"""The quantities measured over one phase interval (snapshots inside it).

    Attributes
    ----------
    loss_start, loss_end, loss_level : float
        Loss at the interval's ends (interpolated) and its median over the interval.
    log_slope : float
        Median of :math:`d\ln L/d\ln t` over the interval (0 flat, about -1 for a 1/t tail).
    growth_rate : float
        Mean :math:`d\ln\|\theta\|^2/dt` over the interval (:math:`\approx 2g^\star` while the
        top neurons grow from a small init; ~0 on a plateau).
    norm_sq_start, norm_sq_end : float
        :math:`\|\theta\|^2` at the first and last snapshot of the interval.
    pattern_changes : int
        Activation changes (neuron, point) in the interval: events of the solver's switch log
        when it has one, else flips between consecutive snapshots.
    alignment : float
        :math:`\sum_j \|\theta_j\|^2\cos\angle(w_j, v^\star)/\|\theta\|^2` at the interval's last
        snapshot, :math:`v^\star` the maximiser of :math:`|G|` for :math:`\rho^0` (1: condensed
        onto it; nan if it cannot be computed).
    margin_end : float
        Normalised margin :math:`\min_i y_i f(x_i)/\|\theta\|^2` at the last snapshot.
    snapshots : int
        Number of snapshots inside the interval.
    """

    loss_start: float
    loss_end: float
    loss_level: float
    log_slope: float
    growth_rate: float
    norm_sq_start: float
    norm_sq_end: float
    pattern_changes: int
    alignment: float
    margin_end: float
    snapshots: int


@dataclass(frozen=True)
class Phase:
    """One phase of a run: ``name`` (one of :data:`PHASE_NAMES`), the interval
    ``[t_start, t_end]`` in gradient-flow time and the :class:`PhaseEvidence`."""

    name: str
    t_start: float
    t_end: float
    evidence: PhaseEvidence

    @property
    def duration(self) -> float:
        """``t_end - t_start``."""
        return self.t_end - self.t_start

    def __repr__(self) -> str:
        return (
            f"Phase({self.name!r}, t={self.t_start:.4g}..{self.t_end:.4g}, L={self.evidence.loss_level:.4g})"
        )


def _check_traj(traj, data: Dataset) -> None:
    if not isinstance(traj, Trajectory):
        raise TypeError(f"`traj` must be a rf.Trajectory; got {type(traj).__name__}")
    if not isinstance(data, Dataset):
        raise TypeError(f"`data` must be a rf.Dataset; got {type(data).__name__}")
    check_matching_dim(data.X, traj.W.shape[2], "trajectory")
    if len(traj) < 3 or np.any(np.diff(traj.t) <= 0) or traj.t[0] < 0:
        raise ValueError("`traj` needs >= 3 snapshots at strictly increasing times t >= 0")
    if not np.all(np.isfinite(traj.loss)) or traj.loss[0] <= 0:
        raise ValueError(f"`traj.loss` must be finite with L(0) > 0; got L(0) = {traj.loss[0]!r}")


def _log_slope(t: np.ndarray, L: np.ndarray) -> np.ndarray:
    r""":math:`d\ln L/d\ln t` at each snapshot (0 at t = 0, where f has not moved)."""
    out = np.zeros_like(L)
    pos = t > 0
    if pos.sum() >= 2:
        out[pos] = np.gradient(np.log(np.maximum(L[pos], 1e-300)), np.log(t[pos]))
    return out


def _cross(t: np.ndarray, y: np.ndarray, k: int, level: float) -> float:
    """Time where y crosses ``level`` between snapshots k - 1 and k (linear interpolation)."""
    if k <= 0 or y[k] == y[k - 1]:
        return float(t[max(k, 0)])
    s = np.clip((level - y[k - 1]) / (y[k] - y[k - 1]), 0.0, 1.0)
    return float(t[k - 1] + s * (t[k] - t[k - 1]))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs [i, j] (inclusive) of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1, strict=True))


def _plateaus(t, L, slope, start: int, thr: float, floor: float, min_dur: float):
    """Plateau intervals (t0, t1) among snapshots >= start."""
    flat = (np.abs(slope) < thr) & (L > floor) & (np.arange(L.size) >= start) & (t > 0)
    out = []
    for i, j in _runs(flat):
        t0 = _cross(t, np.abs(slope), i, thr) if i > start else float(t[i])
        t1 = _cross(t, -np.abs(slope), j + 1, -thr) if j + 1 < t.size else float(t[j])
        if t0 > 0 and np.log(t1 / t0) >= min_dur:
            out.append((t0, t1))
    return out


def _boundaries(t, L, fit, rtol, thr, floor, min_dur, frac) -> list[tuple[str, float, float]]:
    """The named intervals (name, t_start, t_end) from the loss curve and the fit flags."""
    L0, n = L[0], t.size
    below = np.flatnonzero(L < (1 - rtol) * L0)
    if below.size == 0:
        return [("condensation", float(t[0]), float(t[-1]))]
    kc = int(below[0])
    tc = _cross(t, L, kc, (1 - rtol) * L0)
    slope = _log_slope(t, L)
    steep = np.flatnonzero((np.abs(slope) >= thr) & (np.arange(n) >= kc))
    plats = _plateaus(t, L, slope, int(steep[0]), thr, floor * L0, min_dur) if steep.size else []
    # convergence: the first snapshot after the last plateau from which on L <= frac L(0) and all fit
    after = np.searchsorted(t, plats[-1][1]) if plats else kc
    ok = (L <= frac * L0) & fit
    bad = np.flatnonzero(~ok[after:])
    kv = after + (bad[-1] + 1 if bad.size else 0)
    tv = None
    if kv < n:
        tv = _cross(t, L, kv, frac * L0) if kv > 0 and L[kv - 1] > frac * L0 and fit[kv - 1] else float(t[kv])
        tv = max(tv, plats[-1][1]) if plats else max(tv, tc)
    out = [("condensation", float(t[0]), tc)]
    prev = tc
    for i, (p0, p1) in enumerate(plats):
        out += [("saddle-to-plateau" if i == 0 else "escape", prev, p0), ("plateau", p0, p1)]
        prev = p1
    out.append(("escape", prev, float(t[-1]) if tv is None else tv))
    if tv is not None:
        out.append(("convergence", tv, float(t[-1])))
    return [seg for seg in out if seg[2] > seg[1]]


def _pattern_changes(traj: Trajectory, P: np.ndarray, t0: float, t1: float, first: bool) -> int:
    if len(traj.switches):
        ts = traj.switches["t"]
        return int(np.sum((ts >= t0) & (ts <= t1) if first else (ts > t0) & (ts <= t1)))
    idx = np.flatnonzero((traj.t > t0) & (traj.t <= t1))
    idx = idx[idx > 0]
    return int(sum(np.sum(P[k] != P[k - 1]) for k in idx))


def _evidence(traj, t0, t1, first, L, slope, N, P, margin, cos) -> PhaseEvidence:
    t = traj.t
    idx = np.flatnonzero((t >= t0) & (t <= t1))
    if idx.size == 0:  # an interval between two snapshots: use the nearest one
        idx = np.array([min(np.searchsorted(t, t0), t.size - 1)])
    i, j = idx[0], idx[-1]
    growth = (np.log(N[j]) - np.log(N[i])) / (t[j] - t[i]) if j > i and N[i] > 0 and N[j] > 0 else np.nan
    neuron = traj.neuron_norms()[j] ** 2
    align = float(neuron @ cos[j] / neuron.sum()) if neuron.sum() > 0 else np.nan
    return PhaseEvidence(
        loss_start=float(np.interp(t0, t, L)),
        loss_end=float(np.interp(t1, t, L)),
        loss_level=float(np.median(L[idx])),
        log_slope=float(np.median(slope[idx])),
        growth_rate=float(growth),
        norm_sq_start=float(N[i]),
        norm_sq_end=float(N[j]),
        pattern_changes=_pattern_changes(traj, P, t0, t1, first),
        alignment=align,
        margin_end=float(margin[j]),
        snapshots=int(idx.size),
    )


def _ncf_direction(data: Dataset, loss) -> np.ndarray | None:
    try:
        crit = kkt_directions(data.weighted(get_loss(loss).rho0(data)))
    except ValueError:  # too many candidates, or G vanishes identically
        return None
    return crit[0].v if crit else None


def detect(
    traj: Trajectory,
    data: Dataset,
    loss: LossLike = "exponential",
    *,
    condensation_rtol: float = CONDENSATION_RTOL,
    plateau_slope: float = PLATEAU_SLOPE,
    plateau_floor: float = PLATEAU_FLOOR,
    plateau_min_duration: float = PLATEAU_MIN_DURATION,
    convergence_fraction: float = CONVERGENCE_FRACTION,
) -> list[Phase]:
    r"""Cut a gradient-flow run into the phases of Wang & Ma (book chapter 4, "Four phases on
    separable data", section "Detecting the phases").

    The phases partition :math:`[t_0, t_{\rm end}]`, in time order. With :math:`L_0 = L(t_0)`
    and the log-time slope :math:`s(t) = d\ln L/d\ln t` (finite differences on the snapshots;
    boundaries are interpolated linearly between snapshots):

    1. **condensation** :math:`[t_0, t_c]`: :math:`L \ge (1 - \text{condensation\_rtol})L_0`,
       so :math:`f \approx 0`; neurons turn (``alignment`` -> 1) while :math:`\|\theta\|` stays small.
    2. **plateau**: after the loss has first become steep (:math:`|s| \ge` ``plateau_slope``
       after :math:`t_c`), a maximal interval with :math:`|s| <` ``plateau_slope`` and
       :math:`L > \text{plateau\_floor}\cdot L_0` lasting at least ``plateau_min_duration`` in
       :math:`\ln t`.
    3. **saddle-to-plateau**: the first drop, from :math:`t_c` to the first plateau.
    4. **escape**: a drop that ends a plateau (up to the next plateau or to convergence); with
       no plateau at all, the single drop from :math:`t_c` is an escape (from the origin).
    5. **convergence** :math:`[t_v, t_{\rm end}]`: the first time after the last plateau from
       which on :math:`L \le \text{convergence\_fraction}\cdot L_0` and
       :math:`y_i f(x_i) > 0` for every i (positive margin). Along gradient flow L only decreases.

    Phases may be absent (no plateau for :math:`p = 1/2`; no convergence if the run stops
    early; only condensation if the loss never leaves :math:`L_0`).

    Parameters
    ----------
    traj : Trajectory
        A run (>= 3 snapshots); log-spaced snapshots (``t_eval="log"``) resolve all phases.
    data : Dataset
        The data it was trained on (for the margin and the activation patterns).
    loss : Loss or str
        The loss (for :math:`\rho^0` and the maximiser :math:`v^\star` of :math:`|G|` used in
        ``alignment``; the loss values themselves are read from ``traj.loss``).
    condensation_rtol, plateau_slope, plateau_floor, plateau_min_duration, convergence_fraction : float
        The thresholds; defaults :data:`CONDENSATION_RTOL` (0.01), :data:`PLATEAU_SLOPE` (0.5),
        :data:`PLATEAU_FLOOR` (0.05), :data:`PLATEAU_MIN_DURATION` (0.1),
        :data:`CONVERGENCE_FRACTION` (0.05).

    Returns
    -------
    list of Phase
        Each with its :class:`PhaseEvidence`.

    Raises
    ------
    TypeError, ValueError
        For a non-trajectory, mismatched dimensions, fewer than 3 snapshots, non-increasing
        times, a non-finite loss or :math:`L_0 \le 0`, or thresholds out of range.

    Notes
    -----
    The slope separates the regimes without reference to one run: on a drop
    :math:`|s| \gtrsim 1` (exponential growth of the output), in the exponential-loss tail
    :math:`L \sim 1/(t\ln t)` gives :math:`|s| \approx 1`, on a plateau
    :math:`|s| \ll 1`. Floor and convergence fraction coincide by default, so a plateau always
    lies above the convergence level and an escape is never empty.

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.datasets.two_point(1.0, 0.75)
    >>> traj = rf.gradient_flow(rf.small_init(100, 2, 1e-6), data, "exponential", 90.0, t_eval="log")
    >>> [ph.name for ph in rf.phases.detect(traj, data)]
    ['condensation', 'saddle-to-plateau', 'plateau', 'escape', 'convergence']
    """
    _check_traj(traj, data)
    rtol = positive_scalar(condensation_rtol, "condensation_rtol")
    thr = positive_scalar(plateau_slope, "plateau_slope")
    floor = positive_scalar(plateau_floor, "plateau_floor")
    min_dur = positive_scalar(plateau_min_duration, "plateau_min_duration", allow_zero=True)
    frac = positive_scalar(convergence_fraction, "convergence_fraction")
    for name, v in (("condensation_rtol", rtol), ("plateau_floor", floor), ("convergence_fraction", frac)):
        if not v < 1:
            raise ValueError(f"`{name}` must lie in (0, 1); got {v}")
    get_loss(loss).check_labels(data)
    t, L, N = traj.t, np.asarray(traj.loss, float), traj.norm_sq()
    pre, f = traj.W @ data.X.T, outputs(traj, data)
    yf = np.min(data.y * f, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        margin = np.where(N > 0, yf / np.where(N > 0, N, 1.0), np.nan)
        v = _ncf_direction(data, loss)
        nw = np.linalg.norm(traj.W, axis=2)
        cos = np.nan_to_num((traj.W @ v) / nw) if v is not None else np.full(nw.shape, np.nan)
    segs = _boundaries(t, L, yf > 0, rtol, thr, floor, min_dur, frac)
    slope = _log_slope(t, L)
    return [
        Phase(name, t0, t1, _evidence(traj, t0, t1, k == 0, L, slope, N, pre > 0, margin, cos))
        for k, (name, t0, t1) in enumerate(segs)
    ]


#: Our reading of Wang & Ma's four phases (the abstract gives their number and names the
#: behaviours, not which label of :data:`PHASE_NAMES` belongs to which phase): phase number ->
#: name. "plateau" and "escape" are both parts of phase 3; a drop before any plateau is phase 2.
PAPER_PHASES = {1: "initial condensation", 2: "saddle to plateau", 3: "plateau escape", 4: "convergence"}


@dataclass(frozen=True)
class PaperPhase:
    """One of the paper's four phases in a run (:func:`four_phases`): ``number`` (1-4), its
    ``name`` in :data:`PAPER_PHASES`, the interval and the detector ``labels`` it merges."""

    number: int
    name: str
    t_start: float
    t_end: float
    labels: tuple


def four_phases(phases: list[Phase]) -> list[PaperPhase]:
    r"""Map the detector's phases onto Wang & Ma's four (our reading; book chapter 4, section
    "Detecting the phases").

    :func:`detect` uses five labels (:data:`PHASE_NAMES`) because a loss curve shows the plateau
    and the drop that ends it as two stretches; the paper's third phase, plateau escape, is both.
    The map is ``condensation`` -> 1, ``saddle-to-plateau`` -> 2, ``plateau`` and ``escape`` -> 3
    (an ``escape`` before any plateau, i.e. a run without plateau, -> 2), ``convergence`` -> 4;
    consecutive phases with the same number are merged.

    Parameters
    ----------
    phases : list of Phase
        The output of :func:`detect`.

    Returns
    -------
    list of PaperPhase

    Raises
    ------
    ValueError
        For a name that is not in :data:`PHASE_NAMES`.

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.datasets.two_point(1.0, 0.75)
    >>> traj = rf.gradient_flow(rf.small_init(100, 2, 1e-6), data, "exponential", 90.0, t_eval="log")
    >>> [(ph.number, ph.labels) for ph in rf.phases.four_phases(rf.phases.detect(traj, data))]
    [(1, ('condensation',)), (2, ('saddle-to-plateau',)), (3, ('plateau', 'escape')), (4, ('convergence',))]
    """
    number = {"condensation": 1, "saddle-to-plateau": 2, "plateau": 3, "convergence": 4}
    out: list[PaperPhase] = []
    seen_plateau = False
    for ph in phases:
        if ph.name not in PHASE_NAMES:
            raise ValueError(f"phase name must be one of {PHASE_NAMES}; got {ph.name!r}")
        seen_plateau |= ph.name == "plateau"
        k = number.get(ph.name, 3 if seen_plateau else 2)
        if out and out[-1].number == k:
            last = out[-1]
            out[-1] = PaperPhase(k, last.name, last.t_start, ph.t_end, last.labels + (ph.name,))
        else:
            out.append(PaperPhase(k, PAPER_PHASES[k], ph.t_start, ph.t_end, (ph.name,)))
    return out
