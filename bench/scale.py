#!/usr/bin/env python
"""Research-scale and degenerate-data benchmark of the exact solvers (issue 13).

Usage (from the repository root, in the project's environment)::

    python bench/scale.py            # print markdown to stdout
    python bench/scale.py --write    # ... and write bench/SCALE.md
    python bench/scale.py --quick    # small widths only (trying changes; no targets)
    python bench/scale.py --parity   # the parity section only (d = 4, 6, 8; with --quick d = 4, 6)

Problems (``bench/scaleprobs.py`` has their definitions):

* **stewart**: Boursier & Flammarion's early-alignment data and initialisation (m = 200,
  2000, 20000), square loss, t_end = 4000. Reference: numpy gradient descent with their
  update rule (an Euler step of 2 * lr = 2e-3 on our loss, 2e6 steps); its time is
  extrapolated from ``GD_TIMED`` timed steps, as ``bench/solver.py`` does, and at m = 200 it
  is also run to the end. The timed run is the exponential method at ``STEWART_RTOL``;
  accuracy is the largest difference of the network function on 401 points of [-1, 1] to a
  run at ``TIGHT_RTOL`` (and, at m = 200, to gradient descent). The run at the default rtol
  (1e-4) is reported too: after t ~ 2200 this problem amplifies errors (small neurons barely
  reach their faces; perturbations of 1e-4 of the state at t = 2200 change which of them
  cross), and at m = 2000 the default rtol's ~4e-4 error there grows to ~3e-3.
* **parity**: 2-sparse parity on the full hypercube, d = 4, 6, 8 (n = 2^d), m = 40, scale
  1e-4, logistic, t_end = 3000; the normalized margin against gamma_gl / 2 = 1/(2 sqrt(8 d)).
* **separable**: 200 random separable points in 10-D, m = 500, logistic, t_end = 1e3.
* **digits**: scikit-learn's digits 0 vs 1 (n = 360, d = 65 with bias), m = 200, logistic,
  t_end = 1e4.

Every run is one run (no repeats) on a shared 2-core machine; ratios are measured within
this run.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import reluflow as rf

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import scaleprobs as SP  # noqa: E402

GD_TIMED = 300
GD_STEPS = 2_000_000
STEWART_RTOL = 1e-5
TIGHT_RTOL = 1e-7
TARGET_RATIO, TARGET_FUN = 100.0, 1e-4
GRID = np.linspace(-1.0, 1.0, 401)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run(p, method, **kw):
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tr = rf.gradient_flow(p.net0, p.data, p.loss, p.t_end, method=method, t_eval=[p.t_end],
                              max_steps=200_000, **kw)
    wall = time.perf_counter() - t0
    log(f"  {p.name} {method} {kw}: status {tr.status}, {wall:.1f} s, {tr.nfev} evals")
    return tr, wall


def fun(a, W):
    """The network function on GRID (inputs (x, 1))."""
    return a @ np.maximum(W @ np.vstack([GRID, np.ones_like(GRID)]), 0.0)


def gd_time_per_step(p) -> float:
    SP.gd_steps(p, 20, 2 * SP.STEWART_LR)  # warm-up
    t0 = time.perf_counter()
    SP.gd_steps(p, GD_TIMED, 2 * SP.STEWART_LR)
    return (time.perf_counter() - t0) / GD_TIMED


def ev_cost(tr, wall):
    ev = tr.info.get("nevents_total", tr.event_groups)
    return f"{wall / tr.nfev * 1e6:.0f}", f"{wall / max(ev, 1) * 1e6:.1f}", f"{ev:,}"


def stewart_section(widths, out, checks):
    out("## Early-alignment data (stewart), square loss, t_end = 4000\n")
    rows = []
    run(SP.stewart(20), "exponential")  # (warm-up: numba loads or compiles its kernels)
    for m in widths:
        p = SP.stewart(m)
        step = gd_time_per_step(p)
        gd_total = step * GD_STEPS
        tr, wall = run(p, "exponential", rtol=STEWART_RTOL)
        dflt, wall_d = run(p, "exponential")
        tight, wall_t = run(p, "exponential", rtol=TIGHT_RTOL)
        f_tight = fun(tight.final.a, tight.final.W)
        err = float(np.abs(fun(tr.final.a, tr.final.W) - f_tight).max())
        err_d = float(np.abs(fun(dflt.final.a, dflt.final.W) - f_tight).max())
        gd_err = "—"
        if m == min(widths):
            log(f"  {p.name}: gradient descent to the end ({GD_STEPS:,} steps)")
            t0 = time.perf_counter()
            a, W = SP.gd_steps(p, GD_STEPS, 2 * SP.STEWART_LR)
            gd_wall = time.perf_counter() - t0
            e = float(np.abs(fun(tr.final.a, tr.final.W) - fun(a, W)).max())
            gd_err = f"{e:.1e} (GD run: {gd_wall:.0f} s)"
            checks.append((f"stewart m = {m}: within 1e-4 of GD at lr 1e-3", e <= TARGET_FUN, f"{e:.1e}"))
        ratio = gd_total / wall
        us_eval, us_ev, nev = ev_cost(tr, wall)
        rows.append([f"{m:,}", f"{step * 1e6:.0f}", f"{gd_total:.0f}", f"{wall:.1f}", f"{ratio:.0f}×",
                     f"{tr.nfev:,}", f"{tr.nsteps:,}", nev, us_eval, us_ev, f"{err:.1e}", gd_err,
                     f"{wall_d:.1f} ({gd_total / wall_d:.0f}×)", f"{err_d:.1e}", f"{wall_t:.1f}", tr.status])
        if m >= 2000:  # (the speed targets are at m = 2000 and 20000)
            checks.append((f"stewart m = {m}: >= 100x faster than GD", ratio >= TARGET_RATIO, f"{ratio:.0f}x"))
        checks.append((f"stewart m = {m}: function within 1e-4 of rtol {TIGHT_RTOL:g}", err <= TARGET_FUN,
                       f"{err:.1e}"))
    out(table(["m", "GD µs/step", "GD total [s] (extrapolated)", "exponential [s]", "ratio", "evals",
               "steps", "events (all propagations)", "µs/eval", "µs/event", f"fun. error vs rtol {TIGHT_RTOL:g}",
               "fun. error vs GD", "default rtol 1e-4 [s] (ratio)", f"its fun. error vs rtol {TIGHT_RTOL:g}",
               f"rtol {TIGHT_RTOL:g} run [s]", "status"], rows) + "\n")
    out(f"Exponential method at rtol {STEWART_RTOL:g} (the columns up to 'fun. error vs GD'), at its "
        f"default rtol 1e-4, and at rtol {TIGHT_RTOL:g} (the reference). GD time = µs/step (best "
        f"estimate from {GD_TIMED} timed numpy steps of their update rule) × {GD_STEPS:,} steps. "
        "µs/eval and µs/event are the run's wall time divided by its gradient evaluations and by "
        "its per-neuron events in all propagations (each an upper bound on the cost of one).\n")


def parity_section(ds, out, checks):
    out("## Hypercube parity, m = 40, scale 1e-4, logistic, t_end = 3000\n")
    rows = []
    for d in ds:
        p = SP.parity(d, 40)
        target = 1.0 / (2.0 * np.sqrt(8 * d))
        for method in ("exponential", "adaptive"):
            tr, wall = run(p, method)
            g = rf.diagnostics.normalized_margin(tr.final, p.data) if tr.success else float("nan")
            rows.append([d, 2**d, method, tr.status, f"{tr.t[-1]:.4g}", f"{wall:.1f}", f"{tr.nfev:,}",
                         f"{g:.5f}", f"{target:.5f}", f"{g / target:.4f}", tr.message[:70]])
            checks.append((f"parity d = {d} {method}: t_end, status 0, < 30 s", tr.success and wall < 30,
                           f"status {tr.status}, {wall:.1f} s"))
            if d in (4, 6):
                checks.append((f"parity d = {d} {method}: margin within 5% of gamma_gl/2",
                               abs(g / target - 1) <= 0.05, f"{g / target:.4f}"))
    out(table(["d", "n", "method", "status", "t reached", "wall [s]", "evals", "normalized margin",
               "γ_gl/2", "ratio", "message"], rows) + "\n")


def other_section(out, checks):
    out("## Random separable and digits\n")
    rows = []
    for p, budget in ((SP.separable(500), 20.0), (SP.digits(200), 60.0)):
        tr, wall = run(p, "exponential")
        us_eval, us_ev, nev = ev_cost(tr, wall)
        rows.append([p.name, p.data.n, p.data.d, tr.status, f"{wall:.1f}", f"{budget:.0f}", f"{tr.nfev:,}",
                     nev, us_eval, us_ev, f"{tr.loss[-1]:.2e}"])
        checks.append((f"{p.name}: no stall, < {budget:.0f} s", tr.success and wall < budget, f"{wall:.1f} s"))
    out(table(["problem", "n", "d", "status", "wall [s]", "budget [s]", "evals", "events", "µs/eval",
               "µs/event", "final loss"], rows) + "\n")


def table(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in r) + " |" for r in rows])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--parity", action="store_true", help="run the parity section only")
    args = ap.parse_args()
    if args.write and args.parity:
        ap.error("--parity runs one section: it does not write bench/SCALE.md")
    parts: list[str] = []
    out = parts.append
    start = time.perf_counter()
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=BENCH).stdout
    out("# Scale benchmark (issue 13)\n")
    out("Generated by `bench/scale.py` (its docstring has the problems and the protocol).\n")
    out(f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n- machine: {platform.platform()}, "
        f"load average at start {' / '.join(f'{x:.2f}' for x in __import__('os').getloadavg())}\n"
        f"- reluflow at git {git.strip()}, numpy {np.__version__}\n")
    checks: list = []
    if not args.parity:
        stewart_section((200,) if args.quick else (200, 2000, 20000), out, checks)
    parity_section((4, 6) if args.quick else (4, 6, 8), out, checks)
    if not (args.quick or args.parity):
        other_section(out, checks)
    out("## Targets\n\n```")
    for name, ok, value in checks:
        out(f"{'PASS' if ok else 'FAIL'}  {name}: {value}")
    out("```\n")
    out(f"Total benchmark time: {time.perf_counter() - start:.0f} s.")
    text = "\n".join(parts) + "\n"
    print(text)
    if args.write:
        (BENCH / "SCALE.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
