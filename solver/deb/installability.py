"""Archive-wide installability: which packages of a universe can be installed at all (what
dose-distcheck answers, https://www.mancoosi.org/software/).

A package is installable when some consistent set (the same rules as `solver.deb.solve`) contains it.
Rather than one solve per package, every package is offered to one solve as a *weak* root: the apt
policy tries to install each in turn, and a conflict undoes just that attempt (CDCL learns why). All
members of the resulting set are certified installable at once. Packages not certified are offered
again in the next round, first in line (an earlier choice may have been in their way); a learned unit
clause `¬p` proves p uninstallable. What is left when a round certifies nothing is solved one by one,
which also yields the explanation of each uninstallable package.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..errors import Unsatisfiable
from ..model import DebCandidate, Dep
from ..sat import Solver
from ..universe import DebUniverse
from .encoding import EncodingMemo, encode
from .policy import AptPolicy
from .problem import DebProblem
from .solve import solve


@dataclass
class InstallabilityReport:
    checked: int
    installable: int
    broken: list[tuple[DebCandidate, str]]  # with the explanation of why
    rounds: int
    stats: dict[str, float] = field(default_factory=dict)


class _WeakRootsPolicy(AptPolicy):
    """apt's policy, then: try the next weak root that is still open."""

    def __init__(self, enc, weak: Sequence[int]) -> None:  # type: ignore[no-untyped-def]
        super().__init__(enc)
        self.weak_roots = weak
        self._next = 0
        self._backjumps_seen = 0

    def decide(self, s: Solver) -> int | None:
        lit = super().decide(s)
        if lit is not None:
            return lit
        if s.backjumps != self._backjumps_seen:
            self._backjumps_seen = s.backjumps
            self._next = 0
        value = s.value
        while self._next < len(self.weak_roots):
            v = self.weak_roots[self._next]
            self._next += 1
            if value[v] == 0:
                return v
        return None


def check_installability(
    universe: DebUniverse,
    candidates: Sequence[DebCandidate],
    *,
    explain_limit: int = 200,
    progress: Callable[[int, int], None] | None = None,
) -> InstallabilityReport:
    """Installability of each of `candidates` within `universe`."""
    t0 = time.perf_counter()
    problem = DebProblem(roots=())
    # The solves of the broken packages below reuse what this encoding of the archive worked out.
    memo = EncodingMemo(universe, problem)
    enc, s = encode(universe, problem, with_fixes=False, seeds=candidates, memo=memo)
    t1 = time.perf_counter()
    wanted = [enc.var_of[c.key] for c in candidates]
    certified: set[int] = set()
    proven_broken: set[int] = set()
    pending = list(wanted)
    rounds = 0
    while pending:
        rounds += 1
        s.restart()
        policy = _WeakRootsPolicy(enc, pending)
        if not s.solve(policy):  # cannot happen without hard roots; kept as a guard
            break
        newly = {v for v in pending if s.value[v] == 1}
        certified |= {v for v in range(1, s.nvars + 1) if s.value[v] == 1}
        for v in pending:
            if s.value[v] == -1 and s.level[v] == 0:
                proven_broken.add(v)
        rest = [v for v in pending if v not in certified and v not in proven_broken]
        if progress is not None:
            progress(len(wanted) - len(rest), len(wanted))
        if not newly or len(rest) == len(pending):
            pending = rest
            break
        pending = rest
    t2 = time.perf_counter()
    # Whatever is left: one at a time, with an explanation for those that cannot be installed.
    broken: list[tuple[DebCandidate, str]] = []
    for v in sorted(set(pending) | proven_broken, key=lambda v: enc.cands[v].key):
        c = enc.cands[v]
        if len(broken) >= explain_limit:
            broken.append((c, "(not explained: over the explanation limit)"))
            continue
        root = (Dep(c.name, "=", c.version, c.arch if c.arch != "all" else None),)
        try:
            result = solve(universe, DebProblem(roots=(root,)), memo=memo)
        except Unsatisfiable as e:
            broken.append((c, e.explanation))
        else:
            certified |= {enc.var_of[p.key] for p in result.packages if p.key in enc.var_of}
    t3 = time.perf_counter()
    checked = len(wanted)
    return InstallabilityReport(
        checked=checked,
        installable=checked - len(broken),
        broken=broken,
        rounds=rounds,
        stats={
            "variables": s.nvars,
            "clauses": len(s.clauses),
            "encode_seconds": t1 - t0,
            "rounds_seconds": t2 - t1,
            "single_seconds": t3 - t2,
        },
    )
