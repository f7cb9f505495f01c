"""What `bundler solve` does once its options are read: answer from the lock fast path, or solve and
seal the new lock with its inputs' digest (bundler/fastpath.py). One function, called by the typer
command (bundler/commands/solve.py) and by the path that runs before typer is imported
(bundler/quicksolve.py), which must answer the same. It writes nothing: the callers write the lock.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bundler.fastpath import Outcome
    from bundler.pipeline import SolveReport
    from bundler.spec import Spec


def solve_report(
    spec: Spec,
    lock_path: Path,
    *,
    cache_dir: Path,
    offline: bool,
    progress: Any,
    as_json: bool,
    upgrade: bool = False,
    strict: bool = False,
    since: Path | None = None,
    fast_path: bool = True,
    outcome: Outcome | None = None,
    started: float | None = None,
) -> SolveReport:
    """The report of a solve of `spec` whose lock is `lock_path`: the lock kept (the fast path) or the
    new one, stamped. `outcome` is the fast path's check when the caller made it already (then
    `started` is when it began); --upgrade, --since and `fast_path=False` skip the check. With
    `as_json`, an unsatisfiable spec's causes are printed as the failure document before the error
    is raised. The report is held until the process exits (`bundler.cli.keep_until_exit`)."""
    from bundler import fastpath
    from bundler.pipeline import solve_spec

    if started is None:
        started = time.perf_counter()
    if outcome is None and fast_path and not upgrade and since is None:
        outcome = fastpath.check(spec, lock_path, cache_dir=cache_dir, offline=offline)
    if outcome is not None and outcome.lock is not None:
        report = fastpath.up_to_date_report(spec, outcome.lock, strict=strict, seconds=outcome.seconds)
    else:
        inputs = outcome.inputs if outcome is not None else None
        if inputs is None:  # taken before the solve: an input changed meanwhile then fails the next check
            inputs = fastpath.inputs(spec, cache_dir=cache_dir, offline=offline)
        from solver.errors import Unsatisfiable

        try:
            with progress:
                report = solve_spec(spec, lock_path=lock_path, cache_dir=cache_dir, offline=offline,
                                    upgrade=upgrade, progress=progress, strict=strict, previous=since)  # fmt: skip
        except Unsatisfiable as e:
            if as_json and e.causes is not None:  # the failure as data too; the text still goes to stderr
                import json

                sys.stdout.write(
                    json.dumps({"solved": False, "failure": e.causes.to_json()}, indent=2) + "\n"
                )
            raise
        report.lock = fastpath.stamp(report.lock, inputs.digest)
        report.fast_path_miss = outcome.reason if outcome is not None else None
    report.timings["total"] = time.perf_counter() - started
    from bundler.cli import keep_until_exit

    keep_until_exit(report)  # both callers are the command's process: it is not freed before the exit
    return report
