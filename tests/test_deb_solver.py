"""Scenario tests of the Debian solver: each file in tests/scenarios/deb/ holds a prose description,
the packages, the request and the expected result (libsolv's testcase habit). Every solution is also
checked by tests/support/debcheck.py, which shares no code with the solver."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from solver.deb.priorities import AptRelease
from solver.deb.problem import problem_from_spec
from solver.deb.solve import solve
from solver.errors import InputError, Unsatisfiable
from solver.model import DebCandidate, Origin
from solver.relations import parse_dep_list, parse_relations
from solver.universe import MemoryUniverse
from tests.support.debcheck import Pkg, check_install_set

SCENARIOS = sorted((Path(__file__).parent / "scenarios" / "deb").glob("*.toml"))


def _candidate(p: dict, native: str) -> DebCandidate:
    arch = p.get("arch", native)
    rel_arch = native if arch == "all" else arch
    return DebCandidate(
        name=p["name"],
        version=p["version"],
        arch=arch,
        depends=parse_relations(p.get("depends", ""), rel_arch),
        pre_depends=parse_relations(p.get("pre_depends", ""), rel_arch),
        recommends=parse_relations(p.get("recommends", ""), rel_arch),
        conflicts=parse_dep_list(p.get("conflicts", ""), rel_arch),
        breaks=parse_dep_list(p.get("breaks", ""), rel_arch),
        provides=parse_dep_list(p.get("provides", ""), rel_arch),
        multi_arch=p.get("multi_arch", "no"),
        essential=p.get("essential", False),
        priority=p.get("priority", "optional"),
        source=p.get("source", p["name"]),
        source_version=p["version"],
        origin=Origin(_repository(p.get("suite", "test")), f"pool/{p['name']}_{p['version']}.deb", 1, "0" * 64),
    )


def _repository(suite: str) -> str:
    return f"file:///scenario {suite} main"


def _releases(case: dict) -> dict[str, AptRelease]:
    """`[release.<suite>]` tables: the Release fields apt's priorities read (archive defaults to the suite)."""
    out = {}
    for suite, f in case.get("release", {}).items():
        out[_repository(suite)] = AptRelease(
            archive=f.get("archive", suite), codename=f.get("codename", suite), origin=f.get("origin", ""),
            label=f.get("label", ""), component="main", not_automatic=f.get("not_automatic", False),
            but_automatic_upgrades=f.get("but_automatic_upgrades", False),
        )
    return out


def _strip_arch(text: str, archs: list[str]) -> str:
    # The checker ignores Multi-Arch; drop [arch] lists that do not apply to the native arch.
    groups = []
    for g in parse_relations(text, archs[0]):
        groups.append(" | ".join(d.name + (f" ({d.op} {d.version})" if d.op else "") for d in g))
    return ", ".join(groups)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(path: Path) -> None:
    case = tomllib.loads(path.read_text())
    archs = case.get("architectures", ["amd64"])
    native = archs[0]
    packages = case["package"]
    universe = MemoryUniverse([_candidate(p, native) for p in packages], native, archs)
    req = case["request"]
    problem = problem_from_spec(
        req.get("require", []),
        req.get("fix", []),
        [(v["package"], v.get("version"), v.get("reason", "vetoed")) for v in req.get("veto", [])],
        native_arch=native,
        recommends=req.get("recommends", False),
        base=req.get("base", False),
        closure=req.get("closure", "install"),
        preferred={(n, native): v for n, v in req.get("preferred", {}).items()},
        pins=[(p["package"], p.get("release"), p.get("version"), p["priority"]) for p in req.get("pin", [])],
        releases=_releases(case),
    )
    expected = case["expected"]
    if "input_error" in expected:  # refused before solving, with one clear message
        with pytest.raises(InputError) as error:
            solve(universe, problem)
        assert expected["input_error"] in error.value.message
        return
    if not expected["satisfiable"]:
        with pytest.raises(Unsatisfiable) as info:
            solve(universe, problem)
        for fragment in expected.get("explanation", []):
            assert fragment in info.value.explanation, info.value.explanation
        if "explanation_text" in expected:  # a snapshot of the whole text a person reads
            assert info.value.explanation == expected["explanation_text"].rstrip("\n")
            assert info.value.hint == expected["hint"]
        assert "clause" not in info.value.explanation
        return
    solution = solve(universe, problem)
    got = sorted(
        f"{c.name} {c.version}" + ("" if c.arch == native else f" {c.arch}") for c in solution.packages
    )
    if "installed" in expected:
        assert got == sorted(expected["installed"])
    by_key = {(p["name"], p["version"], p.get("arch", native)): p for p in packages}
    members = []
    for c in solution.packages:
        p = by_key[(c.name, c.version, c.arch)]
        members.append(
            Pkg(c.name, c.version, c.arch,
                depends=_strip_arch(p.get("depends", ""), archs),
                pre_depends=_strip_arch(p.get("pre_depends", ""), archs),
                conflicts=p.get("conflicts", ""), breaks=p.get("breaks", ""),
                provides=p.get("provides", ""))
        )
    roots = [r.split("/")[0] for r in req.get("require", [])]
    roots = [r.split(":")[0] if ":" in r and "(" not in r else r for r in roots]
    vetoes = {}
    for v in req.get("veto", []):
        rng = v.get("version")
        op, ver = (rng.split()[0], rng.split()[1]) if rng else (None, None)
        vetoes[v["package"]] = (op, ver)
    problems = check_install_set(members, roots + req.get("fix", []), vetoes,
                                 check_conflicts=expected.get("check_conflicts", True))
    assert problems == []
    if "fix_changed" in expected:
        changed = sorted(n for f in solution.fixes for n, _, _ in f.changed)
        assert changed == sorted(expected["fix_changed"])
