"""Timing: one subprocess run, contenders alternated A B A B …, medians, ratios, and a time budget.

Alternating (rather than all runs of A, then all of B) spreads slow drifts of the machine (page cache,
thermal, other jobs) evenly over the contenders; the median ignores the odd outlier.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import tempfile
import threading
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
    """(wall seconds, CompletedProcess) or (seconds, None) on timeout. Output is captured as bytes.

    The peak resident set size of the command goes to `peak_rss_kb` for the run that started it (see
    `alternate`). GNU time's %M reports it: the rusage of a child forked straight from this process
    would not do, as Linux carries the parent's high-water mark (this harness holds hundreds of MB)
    into a forked child's ru_maxrss across exec. Without /usr/bin/time, wait4's figure is kept as a
    ceiling."""
    global peak_rss_kb
    rss_file = None
    if os.path.exists(GNU_TIME):
        fd, rss_file = tempfile.mkstemp(prefix="bench-rss-")
        os.close(fd)
        cmd = [GNU_TIME, "-f", "%M", "-o", rss_file, *cmd]
    t0 = time.perf_counter()
    try:
        p = subprocess.Popen(cmd, env=env, cwd=cwd, stdin=subprocess.PIPE if input is not None else None,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
    except OSError as e:
        if rss_file:
            os.unlink(rss_file)
        return time.perf_counter() - t0, subprocess.CompletedProcess(cmd, 127, b"", str(e).encode())
    out: dict[str, bytes] = {}

    def drain(name: str, stream) -> None:  # both pipes at once, or a full one blocks the child
        out[name] = stream.read()
        stream.close()

    readers = [threading.Thread(target=drain, args=(n, f), daemon=True) for n, f in (("out", p.stdout), ("err", p.stderr))]
    for t in readers:
        t.start()
    if input is not None and p.stdin is not None:
        try:
            p.stdin.write(input)
            p.stdin.close()
        except BrokenPipeError:
            pass
    killed = threading.Event()

    def kill() -> None:  # the whole group: time's child too
        killed.set()
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(timeout, kill) if timeout is not None else None
    if timer is not None:
        timer.start()
    _, status, usage = os.wait4(p.pid, 0)
    seconds = time.perf_counter() - t0
    if timer is not None:
        timer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    for t in readers:
        t.join()
    rss = usage.ru_maxrss
    if rss_file:
        with open(rss_file) as f:
            # the last line: time writes "Command exited with non-zero status N" before it
            lines = f.read().split()
        os.unlink(rss_file)
        rss = int(lines[-1]) if lines and lines[-1].isdigit() else 0
    peak_rss_kb = max(peak_rss_kb, rss)
    if killed.is_set():
        return seconds, None
    return seconds, subprocess.CompletedProcess(cmd, p.returncode, out.get("out", b""), out.get("err", b""))


# Peak RSS (KiB) of the commands `timed` ran since `alternate` last reset it.
peak_rss_kb = 0
GNU_TIME = "/usr/bin/time"


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
    rss_kb: list[int] = field(default_factory=list)  # peak RSS of each run's processes

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
            "peak_rss_mb": round(max(self.rss_kb) / 1024, 1) if self.rss_kb else None,
        }


def alternate(case: str, contenders: list[Contender], repeats: int, budget: Budget, log=print) -> list[Result]:
    """Run every available contender `repeats` times, round-robin, within the budget."""
    global peak_rss_kb
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
            peak_rss_kb = 0
            run = c.run(budget.timeout(c.cap))
            log(f"    {case}: {c.name}: {run.seconds:.3f}s" + ("" if run.ok else f" FAILED {run.error}"))
            if not run.ok:
                r.status = "failed"
                r.note = run.error or "failed"
                r.answer = run.answer
                continue
            r.runs.append(run.seconds)
            if peak_rss_kb:
                r.rss_kb.append(peak_rss_kb)
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
