"""Timing: one subprocess run, contenders alternated A B A B …, medians, ratios, and a time budget.

Alternating (rather than all runs of A, then all of B) spreads slow drifts of the machine (page cache,
thermal, other jobs) evenly over the contenders; the median ignores the odd outlier.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Run:
    seconds: float
    ok: bool  # the tool ran and gave an answer (an "unsolvable" answer is ok)
    answer: dict = field(default_factory=dict)
    error: str | None = None
    internal: dict[str, float] = field(default_factory=dict)  # the tool's own phase timings


def timed(cmd: list[str], env: dict[str, str] | None = None, timeout: float | None = None, cwd=None, input=None):
    """(wall seconds, CompletedProcess) or (seconds, None) on timeout. Output is captured as bytes."""
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, env=env, cwd=cwd, input=input, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return time.perf_counter() - t0, None
    except OSError as e:
        proc = subprocess.CompletedProcess(cmd, 127, b"", str(e).encode())
    return time.perf_counter() - t0, proc


class Budget:
    """A wall-clock deadline for the whole harness."""

    def __init__(self, seconds: float) -> None:
        self.total = seconds
        self.start = time.monotonic()

    def remaining(self) -> float:
        return self.total - (time.monotonic() - self.start)

    def timeout(self, cap: float) -> float:
        return max(1.0, min(cap, self.remaining()))


@dataclass
class Contender:
    name: str  # e.g. "bundler (warm)", "apt-get -s", "libsolv"
    tool: str  # "bundler" or the peer's name: the ratio is bundler / peer
    run: Callable[[float], Run]  # takes the timeout in seconds
    setup: Callable[[], None] | None = None  # untimed, before every run (e.g. empty a cache)
    unavailable: str | None = None  # why it cannot run here (shown instead of figures)
    repeats: int | None = None  # fewer runs for slow contenders (e.g. a cold network resolve)
    cap: float = 600.0  # per-run timeout


@dataclass
class Result:
    case: str
    contender: str
    tool: str
    status: str  # "ok" | "failed" | "not available" | "skipped (budget)"
    runs: list[float] = field(default_factory=list)
    answer: dict = field(default_factory=dict)
    internal: dict[str, float] = field(default_factory=dict)  # medians of the phase timings
    note: str = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.runs) if self.runs else None

    def to_json(self) -> dict:
        answer = {k: v for k, v in self.answer.items() if k not in ("packages", "broken_packages")}
        return {
            "case": self.case,
            "contender": self.contender,
            "tool": self.tool,
            "status": self.status,
            "runs_s": [round(r, 4) for r in self.runs],
            "median_s": None if self.median is None else round(self.median, 4),
            "internal_s": {k: round(v, 4) for k, v in self.internal.items()},
            "answer": answer,
            "note": self.note,
        }


def alternate(case: str, contenders: list[Contender], repeats: int, budget: Budget, log=print) -> list[Result]:
    """Run every available contender `repeats` times, round-robin, within the budget."""
    results = {c.name: Result(case, c.name, c.tool, "ok") for c in contenders}
    internals: dict[str, dict[str, list[float]]] = {c.name: {} for c in contenders}
    live = []
    for c in contenders:
        if c.unavailable:
            results[c.name].status = "not available"
            results[c.name].note = c.unavailable
        else:
            live.append(c)
    round_time = 0.0
    for i in range(repeats):
        if i > 0 and budget.remaining() < round_time:
            for c in live:
                results[c.name].note = (results[c.name].note + f" budget: {i} of {repeats} rounds").strip()
            break
        t_round = time.monotonic()
        for c in live:
            r = results[c.name]
            if r.status == "failed" or i >= (c.repeats or repeats):
                continue
            if budget.remaining() <= 1:
                if not r.runs:
                    r.status = "skipped (budget)"
                continue
            if c.setup:
                c.setup()
            run = c.run(budget.timeout(c.cap))
            log(f"    {case}: {c.name}: {run.seconds:.3f}s" + ("" if run.ok else f" FAILED {run.error}"))
            if not run.ok:
                r.status = "failed"
                r.note = run.error or "failed"
                r.answer = run.answer
                continue
            r.runs.append(run.seconds)
            r.answer = run.answer
            for k, v in run.internal.items():
                internals[c.name].setdefault(k, []).append(v)
        round_time = time.monotonic() - t_round
    for name, phases in internals.items():
        results[name].internal = {k: statistics.median(v) for k, v in phases.items()}
    return list(results.values())


def skipped(case: str, contenders: list[Contender], why: str) -> list[Result]:
    return [Result(case, c.name, c.tool, "skipped (budget)" if "budget" in why else "not available", note=why)
            for c in contenders]


def ratio(bundler: Result, peer: Result) -> float | None:
    if bundler.median is None or peer.median is None or peer.median == 0:
        return None
    return bundler.median / peer.median
