"""The Debian solver: from a universe, roots, fixes and vetoes to one consistent pinned set, the
minimal change a fix makes, and the explanation when there is none (encoding.py, policy.py,
explain.py).

Only the sub-universe reachable from the roots is encoded, so a solve of a few roots touches a few
thousand of an archive's 63,000 stanzas.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import replace

from ..errors import Unsatisfiable
from ..model import DebCandidate, format_group
from ..sat import Solver
from ..universe import DebUniverse
from .encoding import Encoding, EncodingMemo, encode
from .policy import AptPolicy
from .problem import DebProblem, DebSolution, DebVeto, FixReport


def _solve_once(
    universe: DebUniverse, problem: DebProblem, with_fixes: bool, memo: EncodingMemo | None = None
) -> tuple[Encoding, Solver, AptPolicy, bool]:
    enc, s = encode(universe, problem, with_fixes, memo=memo)
    policy = AptPolicy(enc)
    ok = s.solve(policy)
    return enc, s, policy, ok


def solve(universe: DebUniverse, problem: DebProblem, *, memo: EncodingMemo | None = None) -> DebSolution:
    """The pinned set for `problem`; raises Unsatisfiable with a human explanation when none exists.

    `memo`: what earlier solves of the same universe and policy worked out (see EncodingMemo)."""
    t0 = time.perf_counter()
    baseline: dict[tuple[str, str], str] | None = None
    if problem.fixes:
        benc, bs, _, bok = _solve_once(universe, problem, with_fixes=False, memo=memo)
        if bok:
            baseline = {
                (benc.cands[v].name, benc.cands[v].arch): benc.cands[v].version
                for v in range(1, bs.nvars + 1)
                if bs.value[v] == 1
            }
            # Minimal change: the fixed solve keeps the baseline's versions where it can.
            problem = replace(problem, preferred={**baseline, **dict(problem.preferred)})
    t1 = time.perf_counter()
    enc, s, policy, ok = _solve_once(universe, problem, with_fixes=True, memo=memo)
    t2 = time.perf_counter()
    if not ok:
        from .explain import explain

        raise Unsatisfiable(explain(enc, s))

    chosen_vars = [v for v in range(1, s.nvars + 1) if s.value[v] == 1]
    chosen = {v: enc.cands[v] for v in chosen_vars}
    edges: list[tuple[DebCandidate, DebCandidate, str]] = []
    for v in chosen_vars:
        c = chosen[v]
        fields = ["Pre-Depends"] * len(c.pre_depends) + ["Depends"] * len(c.depends)
        for alts, kind in zip(enc.requirements.get(v, ()), fields, strict=True):
            for a in alts:
                if s.value[a] == 1:
                    edges.append((c, enc.cands[a], kind))
        for alts in enc.weak.get(v, ()):
            for a in alts:
                if s.value[a] == 1:
                    edges.append((c, enc.cands[a], "Recommends"))
    skipped = [
        (chosen[v], format_group(g))
        for v in chosen_vars
        for alts, g in zip(enc.weak.get(v, ()), chosen[v].recommends, strict=False)
        if not any(s.value[a] == 1 for a in alts)
    ]
    roots = sorted(
        {enc.cands[a] for alts in enc.root_reqs for a in alts if s.value[a] == 1}, key=_sort_key
    )
    packages = sorted(chosen.values(), key=_sort_key)
    fixes = _fix_reports(problem, enc, s, baseline, edges)
    vetoes_hit: dict[DebVeto, list[DebCandidate]] = defaultdict(list)
    for v, veto in enc.vetoed.items():
        vetoes_hit[veto].append(enc.cands[v])
    mirror: list[DebCandidate] = []
    if problem.closure == "mirror":
        mirror = _mirror_closure(enc, packages, edges)
    t3 = time.perf_counter()
    return DebSolution(
        packages=sorted(packages + mirror, key=_sort_key) if mirror else packages,  # sorted above
        roots=roots,
        edges=edges,
        fixes=fixes,
        vetoes_hit=[(k, sorted(vs, key=_sort_key)) for k, vs in vetoes_hit.items()],
        mirror_extra=mirror,
        skipped_recommends=skipped,
        stats={
            "variables": s.nvars,
            "clauses": len(s.clauses),
            "decisions": s.decisions,
            "backjumps": s.backjumps,
            "baseline_seconds": t1 - t0,
            "solve_seconds": t2 - t1,
            "report_seconds": t3 - t2,
        },
        evidence=(enc, s, policy),
    )


def _sort_key(c: DebCandidate) -> tuple[str, str, str]:
    return (c.name, c.arch, c.version)


def _fix_reports(
    problem: DebProblem,
    enc: Encoding,
    s: Solver,
    baseline: dict[tuple[str, str], str] | None,
    edges: Sequence[tuple[DebCandidate, DebCandidate, str]],
) -> list[FixReport]:
    if not problem.fixes:
        return []
    final = {(enc.cands[v].name, enc.cands[v].arch): enc.cands[v] for v in range(1, s.nvars + 1) if s.value[v] == 1}
    changed = {
        key: c for key, c in final.items() if baseline is None or baseline.get(key) != c.version
    }
    children: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for a, b, _ in edges:
        children[(a.name, a.arch)].append((b.name, b.arch))
    reports = []
    for fix in problem.fixes:
        chosen = next((c for (name, _), c in final.items() if name == fix.name), None)
        reach: set[tuple[str, str]] = set()
        if chosen is not None:
            stack = [(chosen.name, chosen.arch)]
            while stack:
                k = stack.pop()
                if k in reach or k not in changed:
                    continue
                reach.add(k)
                stack.extend(children.get(k, ()))
            reach |= {k for k, c in changed.items() if c.source == chosen.source}
        reports.append(
            FixReport(
                fix=str(fix),
                chosen=chosen,
                changed=sorted(
                    (f"{k[0]}:{k[1]}", baseline.get(k) if baseline else None, changed[k].version)
                    for k in reach
                    if k in changed
                ),
            )
        )
    return reports


def _mirror_closure(
    enc: Encoding, packages: list[DebCandidate], edges: list[tuple[DebCandidate, DebCandidate, str]]
) -> list[DebCandidate]:
    """Every alternative and provider a dependency admits, recursively: the best version of each
    (name, arch) that the install set does not already hold (what aptly's -filter-with-deps does)."""
    have = {(c.name, c.arch) for c in packages}
    extra: list[DebCandidate] = []
    queue = deque(packages)
    while queue:
        c = queue.popleft()
        arch = enc.from_arch(c)
        groups = list(c.pre_depends) + list(c.depends) + (list(c.recommends) if enc.problem.recommends else [])
        for group in groups:
            for dep in group:
                for m in enc.matches(dep, arch):
                    if (m.name, m.arch) in have or any(v.covers(m) for v in enc.problem.vetoes):
                        continue
                    have.add((m.name, m.arch))
                    extra.append(m)
                    queue.append(m)
                    edges.append((c, m, "mirror"))
    return sorted(extra, key=_sort_key)
