"""What resolvelib itself costs on a solved Python set: the floor under any resolvelib-based resolver.

    .venv/bin/python -m benchmarks.resolvelib_floor LOCK [--repeats 5]

Takes the Python pins of a bundle.lock (what `bundler solve` chose, with each pin's dependencies) and
has resolvelib resolve them again with a provider that knows the answer: one candidate per project,
every requirement satisfied by it, dependencies read from the lock, preference by name. Nothing is
parsed, fetched, compared or backtracked, so the time is resolvelib's own bookkeeping (one round per
project, each round looking at every project seen so far), for plain resolvelib and for bundler's
memoising `Resolution` (solver/python/resolution.py). Printed with interpreter start-up and the
imports of `bundler solve`, measured in fresh processes, it bounds what a warm `--offline` solve of
that set can cost here whatever the rest does.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from resolvelib import AbstractProvider, BaseReporter, Resolver

from bundler.lock import read_lock
from solver.python.resolution import make_resolver


class KnownAnswer(AbstractProvider):  # type: ignore[type-arg]
    def __init__(self, depends: dict[str, list[str]]) -> None:
        self.depends = depends

    def identify(self, requirement_or_candidate: Any) -> str:
        return str(requirement_or_candidate)

    def get_preference(self, identifier: Any, *args: Any, **kwargs: Any) -> Any:
        return identifier

    def find_matches(self, identifier: Any, requirements: Any, incompatibilities: Any) -> list[str]:
        return [identifier]

    def is_satisfied_by(self, requirement: Any, candidate: Any) -> bool:
        return True

    def get_dependencies(self, candidate: Any) -> list[str]:
        return self.depends[candidate]


def _python_pins(lock_path: Path) -> tuple[dict[str, list[str]], list[str]]:
    lock = read_lock(lock_path)
    depends = {
        p.name: [d.split(":", 1)[1] for d in p.depends if d.startswith("python:")]
        for p in lock.packages
        if p.ecosystem == "python"
    }
    roots = [r.split(":", 1)[1] for r in lock.roots if r.startswith("python:")]
    return depends, [r for r in roots if r in depends] or sorted(depends)


def _time(make: Any, depends: dict[str, list[str]], roots: list[str], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        resolver = make(KnownAnswer(depends))
        t = time.perf_counter()
        result = resolver.resolve(roots, max_rounds=100_000)
        out.append(time.perf_counter() - t)
        assert len(result.mapping) == len(depends), (len(result.mapping), len(depends))
    return out


def _startup(repeats: int) -> list[float]:
    code = "import bundler.cli, bundler.python_solve, solver.python.resolve, packaging.requirements"
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        out.append(time.perf_counter() - t)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("lock", type=Path)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    depends, roots = _python_pins(args.lock)
    plain = _time(lambda p: Resolver(p, BaseReporter()), depends, roots, args.repeats)
    memo = _time(make_resolver, depends, roots, args.repeats)
    start = _startup(args.repeats)
    print(f"{len(depends)} projects, {len(roots)} roots, {sum(map(len, depends.values()))} dependencies")
    for label, times in (("resolvelib Resolver", plain), ("bundler's resolution (solver/python/resolution.py)", memo),
                         ("start-up + imports of bundler solve", start)):  # fmt: skip
        print(f"  {label}: median {statistics.median(times):.3f} s, min {min(times):.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
