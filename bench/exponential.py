#!/usr/bin/env python
"""Benchmark of the exponential midpoint integrator (``reluflow.flow._exponential``) against
``adaptive`` and ``euler`` on the problems P1 and P2 of ``bench/solver.py``.

Usage (from the repository root)::

    PYTHONPATH=lib python bench/exponential.py           # print markdown to stdout
    PYTHONPATH=lib python bench/exponential.py --write   # ... and write bench/EXPONENTIAL.md
    PYTHONPATH=lib python bench/exponential.py --quick   # fewer runs, no euler sweeps

Protocol (same error measure and reference as ``bench/solver.py``, whose problem
definitions, reference runs and GD sweeps are imported): error = ||θ(t_end) − θ_ref|| /
||θ_ref||, θ_ref from ``adaptive`` at rtol 1e-11. The exponential method runs at several
rtol (default atol rule 1e-3 · rtol · max|θ0|); wall time is the best of 3 runs for
rtol ≥ 1e-5 and of 1 run below. ``adaptive`` at rtol 1e-4, 1e-6, 1e-8 (best of 3);
``euler`` constant-step and log-time-step sweeps with the refinement of ``bench/solver.py``
(error target 1e-3). The issue's target T2 (P2: error 1e-3 with ≥ 100× fewer gradient
evaluations than constant-step ``euler``) is checked for the exponential method.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

import reluflow as rf

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import solver as S  # noqa: E402  (bench/solver.py: problems, reference, GD sweeps, report helpers)

COMMAND = "PYTHONPATH=lib python bench/exponential.py --write"
EXP_RTOLS = (1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8)
QUICK_RTOLS = (1e-2, 1e-3, 1e-5)
ACCS = (1e-3, 1e-6)


METHOD = """\
**Method** (`lib/reluflow/flow/_exponential.py`, `ExponentialStepper`). With the residual weights ρ frozen,
each neuron follows a linear flow with a closed-form solution (cosh/sinh in |D_j| t), its
activation events are roots of a quadratic in e^{|D_j| t}, and Filippov sliding is the same
flow with D_j projected off the sliding faces; an event updates only that neuron's D_j and
costs no gradient evaluation. Time stepping is the exponential midpoint rule (order 2):
ρ(t) → predictor over h/2 with ρ(t) frozen → ρ(t + h/2) → the step with ρ(t + h/2) frozen →
ρ(t + h) (reused by the next step). Error estimate: the same step with (ρ(t) + ρ(t + h))/2
frozen (exponential trapezoid, no extra evaluation); controller h ← h · min(5, max(0.2,
0.9 err^(-1/3))). Releases from sliding are predicted by interpolating the multipliers
between ρ(t) and ρ(t + h/2), and the step is cut there (no extra evaluation). Cost: two
evaluations per attempted step."""
NOTES = """\
**Notes.** The method is of order 2: at tight tolerances the global error scales like
rtol^(2/3) and the evaluations like rtol^(-1/3), so `adaptive` (order 5) overtakes it when
events are few and high accuracy is wanted. The error estimate compares two frozen-ρ
propagations with the same event structure, so kinks of ρ(t) at activation events and the
timing of releases from sliding are not in the estimate: the global error is not bounded by
rtol (see the tables). Wall times on this shared 2-core machine are noisy (see the load
averages)."""


def run_exponential(p, rtol: float, repeats: int):
    best, tr, stats = math.inf, None, {}
    for _ in range(repeats):
        t0 = time.perf_counter()
        tr = rf.gradient_flow(p.net0, p.data, p.loss, p.t_end, method="exponential", rtol=rtol, t_eval=[p.t_end])
        stats = tr.info
        best = min(best, time.perf_counter() - t0)
    return tr, best, stats


def bench_problem(p, quick: bool, out) -> dict:
    S.log(f"{p.name}: reference")
    tr_ref, wall_ref = S.run_adaptive(p, S.REF_RTOL)
    ref = tr_ref.final.flat()
    out(f"## {p.name}: {p.desc}\n")
    out(f"Reference: `adaptive` at rtol {S.REF_RTOL:g} ({tr_ref.nfev:,} evaluations, "
        f"{tr_ref.event_groups:,} event groups, {wall_ref:.2f} s); final loss {tr_ref.loss[-1]:.4e}.\n")

    # ---- exponential
    S.log(f"{p.name}: exponential")
    ex, rows = [], []
    for rtol in QUICK_RTOLS if quick else EXP_RTOLS:
        tr, wall, st = run_exponential(p, rtol, 1 if quick or rtol < 1e-5 else 3)
        err = S.rel_err(tr.final.flat(), ref)
        ex.append(dict(rtol=rtol, nfev=tr.nfev, wall=wall, err=err, tr=tr, stats=st))
        S.log(f"  {p.name} exponential rtol {rtol:g}: {tr.nfev} evals, {wall:.2f} s, err {err:.2e}")
        rows.append([f"{rtol:g}", S.fmt_int(tr.nfev), S.fmt_int(tr.nsteps),
                     f"{tr.nrejected:,} ({100 * tr.nrejected / max(tr.nsteps + tr.nrejected, 1):.0f}%)",
                     S.fmt_int(st["nevents"]), S.fmt_int(st["nevents_total"]),
                     S.fmt_int(tr.switches.size), S.fmt_int(tr.sliding_entries),
                     S.fmt_wall(wall), f"{wall / tr.nfev * 1e6:.0f}", S.fmt_e(err), tr.status])
    out("### exponential midpoint (order 2, exact events under frozen residuals)\n")
    out(S.table(["rtol", "gradient evals", "steps", "rejected", "neuron events (accepted)",
                 "neuron events (all propagations)", "switches", "sliding entries", "wall [s]",
                 "µs / eval", "error", "status"], rows) + "\n")
    out("One evaluation = all outputs f(x_i) and residuals ρ_i (the cost of one loss gradient); "
        "two per step, rejected or not. Neuron events: per-neuron closed-form event updates "
        "(a neuron's simultaneous crossings count once), in the accepted steps and in all "
        "propagations (predictors, error estimates, rejected steps); they cost no evaluation.\n")

    # ---- adaptive
    S.log(f"{p.name}: adaptive")
    ad, rows = [], []
    for rtol in (1e-6,) if quick else S.ADAPTIVE_RTOLS:
        tr, wall = S.run_adaptive(p, rtol, 1 if quick else S.ADAPTIVE_REPEATS)
        err = S.rel_err(tr.final.flat(), ref)
        ad.append(dict(rtol=rtol, nfev=tr.nfev, wall=wall, err=err))
        S.log(f"  {p.name} adaptive rtol {rtol:g}: {tr.nfev} evals, {wall:.2f} s, err {err:.2e}")
        rows.append([f"{rtol:g}", S.fmt_int(tr.nfev), S.fmt_int(tr.nsteps), S.fmt_int(tr.event_groups),
                     S.fmt_wall(wall), S.fmt_e(err), tr.status])
    out("### `adaptive` (Dormand–Prince 5(4) with events and sliding)\n")
    out(S.table(["rtol", "gradient evals", "steps", "event groups", "wall [s]", "error", "status"],
                rows) + "\n")

    # ---- euler
    res = {"problem": p, "exp": ex, "adaptive": ad}
    if not quick:
        S.log(f"{p.name}: euler, constant steps")
        const = S.gd_sweep(p, ref, p.euler_steps, lambda h: h, lambda h: p.t_end / h, "step")
        S.log(f"{p.name}: euler, log-time steps")
        logt = S.gd_sweep(p, ref, p.log_cs, lambda c: (lambda t, c=c: c * max(t, 1.0)),
                          lambda c: S.log_steps(c, p.t_end), "log c")
        res.update(euler=const, euler_log=logt)
        out("### `euler` (gradient descent)\n")
        out(S.table(["steps", "parameter", "evals", "wall [s]", "error", "status"],
                    [[kind, f"{x.param:.4g}", S.fmt_int(x.nfev), S.fmt_wall(x.wall), S.fmt_e(x.err, 2),
                      x.status] for kind, r in (("constant step", const), ("log-time c", logt))
                     for x in r.rows]) + "\n")
        out("Sweeps and refinement as in `bench/solver.py` (error target 1e-3); log-time steps are "
            "`step = c · max(t, 1)`.\n")

    # ---- summary
    def cheapest(runs, acc):
        ok = [r for r in runs if r["err"] <= acc]
        return min(ok, key=lambda r: r["nfev"]) if ok else None

    def cell(runs, acc):
        r = cheapest(runs, acc)
        return (f"{S.fmt_int(r['nfev'])} (rtol {r['rtol']:g}, error {r['err']:.1e}, {S.fmt_wall(r['wall'])} s)"
                if r else "not reached at the rtols run")

    def cell_gd(g, acc):
        if acc == S.TARGET_GD_ACC and g.measured:
            x = min((x for x in g.rows if x.err <= acc), key=lambda x: x.nfev)
            return f"{S.fmt_int(x.nfev)} (measured, {S.fmt_wall(x.wall)} s)"
        n = g.evals_needed if acc == S.TARGET_GD_ACC else g.evals_1e6
        return f"≈ {n:.1e} (extrapolated, err ∝ step)"

    out(f"### {p.name} summary: gradient evaluations to reach a relative error\n")
    summary = [["exponential", *(cell(ex, acc) for acc in ACCS)],
               ["`adaptive`", *(cell(ad, acc) for acc in ACCS)]]
    if not quick:
        summary += [["`euler`, constant step", *(cell_gd(res["euler"], acc) for acc in ACCS)],
                    ["`euler`, log-time step", *(cell_gd(res["euler_log"], acc) for acc in ACCS)]]
    out(S.table(["method", "error ≤ 1e-3", "error ≤ 1e-6"], summary) + "\n")
    if not quick:
        e = cheapest(ex, S.TARGET_GD_ACC)
        lines = []
        for key, label in (("euler", "constant-step euler"), ("euler_log", "log-time-step euler")):
            g = res[key]
            if e is None:
                lines.append(f"{label}: exponential did not reach {S.TARGET_GD_ACC:g}")
                continue
            ratio = g.evals_needed / e["nfev"]
            res[f"ratio_{key}"] = ratio
            lines.append(f"at error {S.TARGET_GD_ACC:g}: {label} {g.evals_needed:,.0f} evaluations "
                         f"({'measured' if g.measured else 'extrapolated'}) / exponential {e['nfev']:,} "
                         f"(rtol {e['rtol']:g}, error {e['err']:.1e}) = {ratio:.0f}×")
        a = cheapest(ad, S.TARGET_GD_ACC)
        if e is not None and a is not None:
            lines.append(f"at error {S.TARGET_GD_ACC:g}: adaptive {a['nfev']:,} / exponential "
                         f"{e['nfev']:,} = {a['nfev'] / e['nfev']:.0f}×")
        out("```")
        for line in lines:
            out(line)
        out("```\n")
    return res


def main(argv=None) -> int:
    args = S.report_args(argv, __doc__, "EXPONENTIAL.md")
    out = S.Report()
    out("# Exponential midpoint integrator: benchmark\n")
    out("Generated by `bench/exponential.py` (see its docstring for the protocol; problems, "
        "reference and GD sweeps from `bench/solver.py`). Error = ‖θ(t_end) − θ_ref(t_end)‖ / "
        f"‖θ_ref(t_end)‖, θ_ref from `adaptive` at rtol {S.REF_RTOL:g}.\n")
    out(METHOD + "\n")
    for line in S.machine_info():
        out(line.replace(S.COMMAND, COMMAND))
    out()
    results = [bench_problem(p, args.quick, out) for p in (S.problem_p1(), S.problem_p2())]
    if not args.quick:
        r = results[1].get("ratio_euler")
        out("## Target T2 (P2)\n")
        out("```")
        if r is None:
            out("FAIL  T2 (P2): the exponential method did not reach error 1e-3")
        else:
            out(f"{'PASS' if r >= S.TARGET_RATIO else 'FAIL'}  T2 (P2): constant-step euler / exponential "
                f"evaluations at error {S.TARGET_GD_ACC:g} = {r:.0f}× (target ≥ {S.TARGET_RATIO:.0f}×)")
        out("```\n")
    out(NOTES + "\n")
    out.finish(BENCH / "EXPONENTIAL.md" if args.write else None)
    return 0


if __name__ == "__main__":
    np.seterr(all="warn")
    sys.exit(main())
