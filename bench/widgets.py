"""Time the compute step of every widget callback at its default values, and the build of
every kernel-free scrubber.

A widget must redraw within ~200 ms of a slider release; the compute step (everything but
drawing) is what the library controls. A scrubber (``rf.widgets.*_scrubber``) runs once per
notebook execution, solver run and all frames included; every notebook must execute in under
60 s, so a scrubber gets a few seconds (budget below) and its player at most
``rf.plotting.SCRUB_MAX_BYTES``. Run: ``python bench/widgets.py [--write]``; with
``--write`` the tables are saved to bench/WIDGETS.md. Timings are the best of several calls
in one run (machines are noisy).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from pathlib import Path

import numpy as np

import reluflow as rf

BUDGET_MS = 200.0
SCRUBBER_BUDGET_S = 5.0
SCRUBBERS = ["flow_scrubber", "ncf_scrubber", "ortho_scrubber", "phases_scrubber", "margins_scrubber"]


def _time(fn, repeats: int = 7) -> float:
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def cases() -> dict:
    """Compute functions of the widgets, at their defaults."""
    F, N, Q = rf.widgets.FLOW_DEFAULTS, rf.widgets.NCF_DEFAULTS, rf.widgets.ORTHO_DEFAULTS
    flow_data = rf.datasets.orthogonal(F["y"])
    return {
        "ch1 flow_explorer_compute": lambda: rf.widgets.flow_explorer_compute(
            flow_data, F["loss"], F["t_end"], F["scale"], F["m"], F["seed"]
        ),
        "ch2 ncf_explorer_compute": lambda: rf.widgets.ncf_explorer_compute(
            N["angles"], N["norms"], N["labels"], N["scale"], N["m"], N["seed"]
        ),
        "ch3 ortho_explorer_compute": lambda: rf.widgets.ortho_explorer_compute(
            Q["labels"], Q["norms"], Q["scale"], Q["m"], Q["seed"]
        ),
        "ch4 phases_explorer_compute": lambda: rf.widgets.phases_explorer_compute(
            **rf.widgets.PHASES_DEFAULTS
        ),
        "ch5 margins_explorer_compute": lambda: rf.widgets.margins_explorer_compute(
            **rf.widgets.MARGINS_DEFAULTS
        ),
        "ch2 kkt_directions (5 points, d = 2)": lambda: rf.ncf.kkt_directions(
            rf.Dataset(np.c_[np.cos(N["angles"]), np.sin(N["angles"])], N["labels"]).weighted(np.asarray(N["labels"]) / 5)
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="save the table to bench/WIDGETS.md")
    args = parser.parse_args()
    rows = []
    for name, fn in cases().items():
        fn()  # warm-up (imports, caches)
        ms = _time(fn)
        rows.append(f"| {name} | {ms:.1f} | {'PASS' if ms < BUDGET_MS else 'FAIL'} |")
    scrub_rows = []
    for name in SCRUBBERS:
        fn = getattr(rf.widgets, name)
        seconds = _time(fn, repeats=2) / 1e3
        mb = len(fn().data) / 1e6
        scrub_rows.append(
            f"| {name} | {seconds:.1f} | {mb:.2f} | {'PASS' if seconds < SCRUBBER_BUDGET_S else 'FAIL'} |"
        )
    lines = [
        "# Widget callback timings",
        "",
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        "- command: `python bench/widgets.py --write`",
        f"- machine: {platform.machine()}, nproc {os.cpu_count()}, python {platform.python_version()},"
        f" numpy {np.__version__}",
        f"- budget: compute step under {BUDGET_MS:.0f} ms (best of 7 calls)",
        "",
        "| callback | best time [ms] | within budget |",
        "|---|---|---|",
        *rows,
        "",
        f"Kernel-free scrubbers at their defaults (20 frames, 60 dpi): build time, best of 2 calls, "
        f"budget {SCRUBBER_BUDGET_S:.0f} s; player size (embedded in the chapter's page).",
        "",
        "| scrubber | best time [s] | player [MB] | within budget |",
        "|---|---|---|---|",
        *scrub_rows,
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        Path(__file__).with_name("WIDGETS.md").write_text(text)


if __name__ == "__main__":
    main()
