"""Property tests of the Debian solver against a brute-force oracle on small random universes
(pubgrub's habit): same verdict as exhaustive search, every answer passes the independent checker,
and repeated runs give identical answers."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver.deb.problem import problem_from_spec
from solver.deb.solve import solve
from solver.errors import Unsatisfiable
from solver.model import DebCandidate, Dep
from solver.universe import MemoryUniverse
from tests.support.debcheck import Pkg, check_install_set

NAMES = ["a", "b", "c", "d", "e"]
OPS = [None, ">=", "<<", "="]


@st.composite
def universes(draw):
    cands = []
    for name in NAMES:
        for version in sorted(draw(st.sets(st.sampled_from(["1", "2", "3"]), min_size=0, max_size=2))):
            groups = []
            for _ in range(draw(st.integers(0, 2))):
                alts = []
                for _ in range(draw(st.integers(1, 2))):
                    target = draw(st.sampled_from(NAMES))
                    op = draw(st.sampled_from(OPS))
                    alts.append(Dep(target, op, draw(st.sampled_from(["1", "2", "3"])) if op else None))
                groups.append(tuple(alts))
            conflicts = tuple(
                Dep(draw(st.sampled_from(NAMES))) for _ in range(draw(st.integers(0, 1)))
            )
            cands.append(DebCandidate(name, version, "amd64", depends=tuple(groups), conflicts=conflicts))
    roots = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=2, unique=True))
    vetoes = draw(st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from([None, "= 1", ">= 2"])), max_size=1))
    return cands, roots, vetoes


def _text(group: tuple[Dep, ...]) -> str:
    return " | ".join(d.name + (f" ({d.op} {d.version})" if d.op else "") for d in group)


def _pkg(c: DebCandidate) -> Pkg:
    return Pkg(c.name, c.version, depends=", ".join(_text(g) for g in c.depends),
               conflicts=", ".join(d.name for d in c.conflicts))


def _oracle(cands, roots, vetoes) -> bool:
    allowed = [c for c in cands if not any(
        c.name == n and (r is None or (r == "= 1" and c.version == "1") or (r == ">= 2" and c.version >= "2"))
        for n, r in vetoes)]
    for k in range(len(allowed) + 1):
        for subset in itertools.combinations(allowed, k):
            if not check_install_set([_pkg(c) for c in subset], roots):
                return True
    return False


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(universes())
def test_solver_agrees_with_exhaustive_search(case) -> None:
    cands, roots, vetoes = case
    universe = MemoryUniverse(cands)
    problem = problem_from_spec(roots, [], [(n, r, "test veto") for n, r in vetoes], native_arch="amd64")
    expected = _oracle(cands, roots, vetoes)
    try:
        first = solve(universe, problem)
    except Unsatisfiable as e:
        assert not expected, "solver said unsatisfiable but a solution exists"
        assert e.explanation.startswith("Because")
        return
    assert expected, "solver found a solution the oracle could not"
    problems = check_install_set([_pkg(c) for c in first.packages], roots)
    assert problems == []
    for n, r in vetoes:
        for c in first.packages:
            assert not (c.name == n and (r is None or (r == "= 1" and c.version == "1") or (r == ">= 2" and c.version >= "2")))
    again = solve(MemoryUniverse(list(reversed(cands))), problem)
    assert [c.key for c in again.packages] == [c.key for c in first.packages]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(universes())
def test_installability_agrees_with_one_solve_per_package(case) -> None:
    from solver.deb.installability import check_installability
    from solver.deb.problem import DebProblem

    cands, _roots, _vetoes = case
    universe = MemoryUniverse(cands)
    report = check_installability(universe, cands)
    broken = {c.key for c, _ in report.broken}
    for c in cands:
        try:
            solve(universe, DebProblem(roots=((Dep(c.name, "=", c.version),),)))
        except Unsatisfiable:
            assert c.key in broken, f"{c} reported installable but is not"
        else:
            assert c.key not in broken, f"{c} reported broken but is installable"
    assert report.installable + len(report.broken) == report.checked == len(cands)
