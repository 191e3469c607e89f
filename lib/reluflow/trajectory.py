"""The result of a gradient-flow run (book chapter 1, "A solver that respects the kinks")."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .network import Network

__all__ = ["Trajectory", "SWITCH_DTYPE"]

#: One row per activation event: time, neuron j, point i, and the new state of the pair
#: ("on": <w_j, x_i> > 0 side, "off": inactive side, "slide": held on the face <w_j, x_i> = 0).
SWITCH_DTYPE = np.dtype([("t", "f8"), ("neuron", "i8"), ("point", "i8"), ("kind", "U5")])


@dataclass(frozen=True)
class Trajectory:
    r"""Snapshots of :math:`\theta(t) = (a(t), W(t))` and the solver's report.

    Modelled on scipy's ``OdeResult``: check ``success`` / ``status`` / ``message``.

    Attributes
    ----------
    t : ndarray, shape (k,)
        Snapshot times (gradient-flow time, not iterations).
    a : ndarray, shape (k, m)
    W : ndarray, shape (k, m, d)
    loss : ndarray, shape (k,)
        Loss at each snapshot (computed with the true ReLU network).
    method : str
        ``"adaptive"``, ``"exponential"`` or ``"euler"``.
    nfev : int
        Number of loss-gradient evaluations (for ``"exponential"``: computations of all
        outputs and residuals, the same cost).
    nsteps, nrejected : int
        Accepted and rejected steps.
    status : int
        0: reached ``t_end``; 1: stopped at ``max_steps``; -1: failed (see ``message``).
    message : str
    switches : ndarray of SWITCH_DTYPE
        Activation events ``(t, neuron, point, kind)`` with kind "on", "off" or "slide".
    event_groups : int
        Number of times the solver stopped at an activation event (simultaneous events
        count once); these, not the tolerance, drive the cost on kinked problems. For
        ``"exponential"``: per-neuron event updates in the accepted steps (they cost no
        gradient evaluation).
    sliding_time : float
        Total time spent sliding, summed over (neuron, point) pairs.
    sliding_entries : int
        Number of times a pair entered a sliding mode.
    sliding_at_end : int
        Pairs still sliding at the final time.
    info : dict
        Further counters: ``outer_rate`` and ``wall_time`` (seconds) for every method; for
        ``"exponential"`` also ``nevents`` (per-neuron event updates in accepted steps),
        ``nevents_total`` (in all propagations: predictors, rejected steps, error estimates,
        dense output), ``npropagations``, ``nreleasecuts`` (steps shortened to end at a
        predicted release from sliding), ``ncrossingcuts`` (steps retried because they turned
        back from a boundary that their predictor crossed) and ``nresync`` (pairs found on
        the wrong side of their band at the start of a propagation; 0 is expected).
    """

    t: np.ndarray
    a: np.ndarray
    W: np.ndarray
    loss: np.ndarray
    method: str
    nfev: int
    nsteps: int
    nrejected: int
    status: int
    message: str
    switches: np.ndarray = field(default_factory=lambda: np.zeros(0, SWITCH_DTYPE))
    event_groups: int = 0
    sliding_time: float = 0.0
    sliding_entries: int = 0
    sliding_at_end: int = 0
    info: dict = field(default_factory=dict)

    @property
    def success(self) -> bool:
        """True when the run reached ``t_end``."""
        return self.status == 0

    def __len__(self) -> int:
        return self.t.shape[0]

    def net(self, k: int) -> Network:
        """The network at snapshot ``k`` (negative indices count from the end)."""
        return Network(self.a[k], self.W[k])

    @property
    def final(self) -> Network:
        """The network at the last snapshot."""
        return self.net(-1)

    def norm_sq(self) -> np.ndarray:
        r""":math:`\|\theta(t)\|^2` at each snapshot, shape (k,)."""
        return np.sum(self.a**2, axis=1) + np.sum(self.W**2, axis=(1, 2))

    def neuron_norms(self) -> np.ndarray:
        r"""Per-neuron norms :math:`\|(a_j, w_j)\|` at each snapshot, shape (k, m)."""
        return np.sqrt(self.a**2 + np.sum(self.W**2, axis=2))

    def balancedness(self) -> np.ndarray:
        r""":math:`a_j^2 - \|w_j\|^2` at each snapshot, shape (k, m)."""
        return self.a**2 - np.sum(self.W**2, axis=2)

    def sliding_intervals(self) -> list[tuple[int, int, float, float]]:
        """Sliding episodes ``(neuron, point, t_enter, t_exit)`` from the switch log;
        ``t_exit`` is the last snapshot time for pairs still sliding at the end."""
        open_: dict[tuple[int, int], float] = {}
        out = []
        for s in self.switches:
            key = (int(s["neuron"]), int(s["point"]))
            if s["kind"] == "slide":
                open_.setdefault(key, float(s["t"]))
            elif key in open_:
                out.append((*key, open_.pop(key), float(s["t"])))
        out.extend((*key, t0, float(self.t[-1])) for key, t0 in open_.items())
        return sorted(out, key=lambda r: r[2])

    def __repr__(self) -> str:
        m, d = self.W.shape[1:] if self.W.ndim == 3 else (0, 0)
        return (
            f"Trajectory(method={self.method!r}, status={self.status}, snapshots={len(self)}, "
            f"m={m}, d={d}, t_end={self.t[-1]:.4g}, nfev={self.nfev}, nsteps={self.nsteps}, "
            f"nrejected={self.nrejected}, event_groups={self.event_groups}, "
            f"message={self.message!r})"
        )


def underflow_message(h: float, t: float | None, finite: bool, theta_max: float) -> str:
    """The failure message of a solver whose step size underflowed (private helper; ``t``
    None leaves the time to the caller)."""
    head = f"step size underflow (h = {h:.3g})" + ("" if t is None else f" at t = {t:.6g}")
    if finite:
        return f"{head}; the field is too stiff"
    return (
        f"{head}: the field is not finite at the trial states (the parameters reached "
        f"max |theta| = {theta_max:.3g}; the network outputs or the loss overflow)"
    )
