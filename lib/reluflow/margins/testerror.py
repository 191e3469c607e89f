r"""Held-out error on 2-sparse parity against the sample size, near initialisation and from a
small initialisation (book chapter 5, section "Test error against the sample size").

The paper's headline is a sample complexity: test error :math:`\tilde O(1/(n\gamma^2))` with
:math:`\gamma` the margin of the regime, so about :math:`1/(\gamma^2\epsilon)` samples for error
:math:`\epsilon`. On 2-sparse parity :math:`\gamma_{\rm ntk} = \Theta(1/d)` gives :math:`d^2/\epsilon`
and :math:`\gamma_{\rm gl} = 1/\sqrt{8d}` gives :math:`d/\epsilon`. That Table 1 of the paper
rests on exactly this, and that small-initialisation training reaches the :math:`\gamma_{\rm gl}`
rate, are our reading (unverified).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._status import Status, report
from .._validation import positive_int, positive_scalar
from ..data import Dataset
from ..datasets import sparse_parity
from ..diagnostics import classification_error
from ..flow import gradient_flow
from ..network import Network, small_init
from .certified import parity_global_margin, parity_ntk_margin
from .lowrotation import LogTimeStep, _ntk_init

__all__ = ["ParityTestError", "parity_test_error"]

_REGIMES = ("ntk", "small")
#: Defaults per regime: width, init scale, gradient-descent step (ours).
_DEFAULTS = {"ntk": (256, 1.0, LogTimeStep(0.5, 25.0)), "small": (64, 1e-3, LogTimeStep(0.5, 100.0))}
_DATA_SEED = 10_000  # training draws use seed _DATA_SEED + seed, independent of the init's


@dataclass(frozen=True, eq=False)
class ParityTestError(Status):
    r""":func:`parity_test_error`: held-out ``error`` and ``train_error`` (shape (k, s): sample
    size x seed) at the end of each run, the ``sizes`` and ``seeds``, the regime's ``margin``
    (:math:`\gamma_{\rm ntk}` for ``"ntk"``, :math:`\gamma_{\rm gl}` for ``"small"``), the run
    parameters, and ``status`` (0: every run reached ``t_end``; -1 otherwise, see ``message``)."""

    d: int
    regime: str
    sizes: np.ndarray
    seeds: np.ndarray
    error: np.ndarray
    train_error: np.ndarray
    margin: float
    width: int
    scale: float
    t_end: float
    status: int
    message: str

    def median(self) -> np.ndarray:
        """Median held-out error over the seeds, shape (k,)."""
        return np.median(self.error, axis=1)

    def sample_size(self, level: float) -> float:
        r"""The sample size at which the median held-out error first falls to ``level``:
        linear interpolation in :math:`\ln n` between the two sizes that bracket it (``nan`` if
        it never does; the smallest size if it starts below)."""
        med = self.median()
        below = np.flatnonzero(med <= level)
        if below.size == 0:
            return float("nan")
        k = int(below[0])
        if k == 0:
            return float(self.sizes[0])
        s = (med[k - 1] - level) / (med[k - 1] - med[k])
        return float(np.exp(np.log(self.sizes[k - 1]) + s * np.log(self.sizes[k] / self.sizes[k - 1])))


def _codes(X: np.ndarray) -> np.ndarray:
    """Index of each hypercube point in the order of ``sparse_parity(d)`` (bit 1 = negative)."""
    d = X.shape[1]
    return (X < 0).astype(np.int64) @ (1 << np.arange(d - 1, -1, -1))


def _run(regime: str, train: Dataset, width: int, scale: float, seed: int, t_end: float, step):
    """One training run; the NTK network is :func:`ntk_flow`'s (same init), without its diagnostics."""
    if regime == "ntk":
        a0, W0 = _ntk_init(width, train.d, scale, seed)
        net0, rate = Network(a0 / np.sqrt(width), W0), 0.0
    else:
        net0, rate = small_init(width, train.d, scale, seed=seed), 1.0
    return gradient_flow(net0, train, "logistic", t_end, method="euler", step=step, t_eval=[0.0, t_end],
                         outer_rate=rate)  # fmt: skip


def parity_test_error(d: int, sizes, *, regime: str = "ntk", width: int | None = None,
                      scale: float | None = None, seeds=(0, 1, 2, 3), t_end: float = 2000.0,
                      step=None, progress: bool = False) -> ParityTestError:  # fmt: skip
    r"""Train on n random points of 2-sparse parity and measure the error on the rest of the
    hypercube, for each n in ``sizes`` and each seed (book chapter 5, section "Test error
    against the sample size").

    For each seed s, the training set is n i.i.d. draws ``rf.datasets.sparse_parity(d, n=n,
    seed=10_000 + s)`` (repeats possible) and the test set is every point of
    :math:`\{\pm1/\sqrt d\}^d` not drawn, so the held-out error is the error on unseen points of
    the whole population. The two regimes, both trained by gradient descent on the logistic loss
    up to ``t_end`` (our choices):

    * ``"ntk"`` (near initialisation): the network of :func:`ntk_flow` (same init for the same
      seed), :math:`f = \frac1{\sqrt m}\sum_j
      a_j\sigma(\langle w_j, x\rangle)`, :math:`a_j = \pm1` fixed, :math:`w_j(0) \sim
      \text{scale}\cdot\mathcal N(0, I_d)` (default width 256, scale 1);
    * ``"small"`` (small initialisation): chapter 1's network, both layers trained from
      ``rf.small_init(width, d, scale, seed)`` (default width 64, scale :math:`10^{-3}`).

    Sample-complexity bounds of the form :math:`n \approx 1/(\gamma^2\epsilon)` (up to logs and
    constants) predict that the sample size needed for a fixed error scales like
    :math:`1/\gamma_{\rm ntk}^2 \sim d^2` near initialisation and like
    :math:`1/\gamma_{\rm gl}^2 = 8d` for the variation-norm margin; :meth:`ParityTestError.sample_size`
    measures it.

    Parameters
    ----------
    d : int
        Dimension, 3 to 16 (the test set has up to :math:`2^d` points).
    sizes : sequence of int
        Increasing training-set sizes.
    regime : {"ntk", "small"}
    width : int, optional
        Width (even for ``"ntk"``); default 256 (ntk) or 64 (small).
    scale : float, optional
        Init scale; default 1 (ntk) or :math:`10^{-3}` (small).
    seeds : sequence of int
        One run per seed and size: the seed of the init and, offset, of the training draws.
    t_end : float
        Training time (gradient-flow time, the sum of the steps).
    step : float or callable, optional
        Gradient-descent step; default :class:`LogTimeStep` ``(0.5, 25)`` (ntk) or
        ``(0.5, 100)`` (small).
    progress : bool
        Show a tqdm bar over the runs.

    Returns
    -------
    ParityTestError
        A run that fails is reported in ``status``/``message`` (and by a ``RuntimeWarning``
        from the solver); its error is still recorded. The error is ``nan`` when the
        training draws cover the whole hypercube (no point is left to test on).

    Raises
    ------
    ValueError
        For ``d`` outside [3, 16], sizes that are not increasing positive integers, an unknown
        regime, an odd ``"ntk"`` width, or a non-positive ``t_end`` or ``scale``.

    Examples
    --------
    >>> import reluflow as rf
    >>> res = rf.margins.parity_test_error(4, [4, 12], regime="small", seeds=[0], t_end=500.0)
    >>> res.error.shape, bool(res.error[-1, 0] <= res.error[0, 0])
    ((2, 1), True)
    """
    d = positive_int(d, "d")
    if not 3 <= d <= 16:
        raise ValueError(f"`d` must lie in [3, 16] (the test set is the hypercube); got {d}")
    sizes = np.asarray([positive_int(n, "sizes") for n in sizes], dtype=np.int64)
    if sizes.size == 0 or np.any(np.diff(sizes) <= 0):
        raise ValueError(f"`sizes` must be increasing positive integers; got {sizes.tolist()}")
    if regime not in _REGIMES:
        raise ValueError(f"`regime` must be one of {_REGIMES}; got {regime!r}")
    w_def, s_def, step_def = _DEFAULTS[regime]
    width = w_def if width is None else positive_int(width, "width")
    if regime == "ntk" and width % 2:
        raise ValueError(f"`width` must be even for the antisymmetric NTK init; got {width}")
    scale = s_def if scale is None else positive_scalar(scale, "scale")
    step = step_def if step is None else step
    t_end = positive_scalar(t_end, "t_end")
    seeds = np.asarray([int(s) for s in seeds])
    cube = sparse_parity(d)
    codes = _codes(cube.X)
    err, train_err = np.empty((sizes.size, seeds.size)), np.empty((sizes.size, seeds.size))
    failed = []
    pairs = [(k, i) for k in range(sizes.size) for i in range(seeds.size)]
    if progress:
        from tqdm.auto import tqdm

        pairs = tqdm(pairs, desc=f"parity d = {d}, {regime}")
    for k, i in pairs:
        train = sparse_parity(d, n=int(sizes[k]), seed=_DATA_SEED + int(seeds[i]))
        rest = ~np.isin(codes, _codes(train.X))
        traj = _run(regime, train, width, scale, int(seeds[i]), t_end, step)
        if not traj.success:
            failed.append(f"n = {sizes[k]}, seed {seeds[i]}: {traj.message}")
        net = traj.net(len(traj) - 1)
        err[k, i] = classification_error(net, Dataset(cube.X[rest], cube.y[rest])) if rest.any() else np.nan
        train_err[k, i] = classification_error(net, train)
    margin = (parity_ntk_margin(d) if regime == "ntk" else parity_global_margin(d)).value
    message = "every run reached t_end" if not failed else "; ".join(failed)
    res = ParityTestError(d, regime, sizes, seeds, err, train_err, float(margin), width, scale, t_end,
                          0 if not failed else -1, message)  # fmt: skip
    return report(res, "parity_test_error: a run stopped early")
