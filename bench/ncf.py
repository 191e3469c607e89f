#!/usr/bin/env python
"""Benchmark of ``rf.ncf.kkt_directions`` (the chapter 2 widget's callback).

Usage (from the repository root)::

    PYTHONPATH=lib python bench/ncf.py

Prints a markdown table: wall time of ``kkt_directions(G)`` for ``G = data.weighted(rho)`` (kinks included; best of
repeated runs) for n = 4, 6, 8, 10 Gaussian points (seed 0) with weights uniform in
[-1, 1], in d = 2 and d = 3, with the number of critical directions found. The target is
under 200 ms for the widget's default size (n <= 6, d = 2). Prints only; it does not write
bench/RESULTS.md.
"""

from __future__ import annotations

import platform
import timeit

import numpy as np

import reluflow as rf
from reluflow.ncf import kkt_directions

TARGET_MS = 200.0


def best_time(G: rf.Correlation) -> float:
    """Best wall time in seconds over repeated runs (at least ~0.2 s of runs in all)."""
    timer = timeit.Timer(lambda: kkt_directions(G))
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=5, number=number)) / number


def main() -> None:
    print(f"kkt_directions timing ({platform.python_version()}, numpy {np.__version__})\n")
    print("| d | n | critical directions | time (ms) |")
    print("|---|---|---|---|")
    widget = []
    for d in (2, 3):
        for n in (4, 6, 8, 10):
            rng = np.random.default_rng(0)
            X, rho = rng.standard_normal((n, d)), rng.uniform(-1.0, 1.0, n)
            G = rf.Dataset(X, np.zeros(n)).weighted(rho)  # the labels do not enter G
            ms = 1e3 * best_time(G)
            if d == 2 and n <= 6:
                widget.append(ms)
            print(f"| {d} | {n} | {len(kkt_directions(G))} | {ms:.2f} |")
    verdict = "PASS" if max(widget) < TARGET_MS else "FAIL"
    print(
        f"\n{verdict}: widget size (d = 2, n <= 6) takes at most {max(widget):.2f} ms (target < {TARGET_MS:.0f} ms)"
    )


if __name__ == "__main__":
    main()
