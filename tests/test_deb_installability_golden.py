"""The archive-wide installability check (`solver.deb.installability`) on a generated universe, answers
fixed: which packages are broken and the explanation of each, as they were before the encoder was
made faster (issue 11: answers identical before and after each optimisation). The universe is drawn
from a seeded generator: 600 candidates over 300 names with versioned and alternative dependencies,
virtual packages, Conflicts, Breaks, Multi-Arch and missing targets; a change of the solver's answers
on it changes the digest below."""

from __future__ import annotations

import hashlib
import random

import pytest

from solver.deb.installability import check_installability
from solver.model import DebCandidate, Dep
from solver.universe import MemoryUniverse

OPS = [None, None, ">=", "<<", "="]


def _universe(seed: int = 11) -> list[DebCandidate]:
    rnd = random.Random(seed)
    names = [f"p{i:03d}" for i in range(300)]
    virtuals = [f"v{i:02d}" for i in range(20)]
    out = []

    def atom() -> Dep:
        roll = rnd.random()
        if roll < 0.1:
            return Dep(rnd.choice(virtuals))
        if roll < 0.13:
            return Dep(f"missing{rnd.randrange(5)}")
        op = rnd.choice(OPS)
        return Dep(rnd.choice(names), op, str(rnd.randint(1, 3)) if op else None)

    for name in names:
        for version in sorted(rnd.sample(["1", "2", "3"], rnd.randint(1, 3))):
            depends = tuple(
                tuple(atom() for _ in range(rnd.choice([1, 1, 1, 2, 3]))) for _ in range(rnd.randint(0, 3))
            )
            conflicts = tuple(Dep(rnd.choice(names + virtuals)) for _ in range(rnd.random() < 0.15))
            breaks = tuple(Dep(rnd.choice(names), "<<", str(rnd.randint(2, 3))) for _ in range(rnd.random() < 0.1))
            provides = tuple(Dep(rnd.choice(virtuals)) for _ in range(rnd.random() < 0.1))
            arch = "all" if rnd.random() < 0.2 else "amd64"
            out.append(DebCandidate(name, version, arch, depends=depends, conflicts=conflicts, breaks=breaks,
                                    provides=provides, multi_arch=rnd.choice(["no", "no", "foreign", "same"])))  # fmt: skip
    return out


# The broken candidates of `_universe()`, and the sha256 of their explanations in that order.
EXPECTED_BROKEN = [
    "p001 3 amd64", "p003 1 all", "p003 3 amd64", "p005 2 amd64", "p009 3 amd64", "p010 2 amd64",
    "p012 1 all", "p013 3 amd64", "p018 2 amd64", "p018 3 amd64", "p025 2 all", "p025 3 amd64",
    "p027 1 amd64", "p028 1 amd64", "p030 1 amd64", "p033 1 amd64", "p033 2 amd64", "p036 1 amd64",
    "p036 3 amd64", "p037 1 amd64", "p043 1 amd64", "p044 2 amd64", "p052 2 all", "p054 3 amd64",
    "p056 3 amd64", "p060 2 amd64", "p061 1 amd64", "p061 3 all", "p064 1 amd64", "p072 1 amd64",
    "p077 2 amd64", "p078 1 amd64", "p079 3 amd64", "p081 2 amd64", "p084 1 amd64", "p086 2 amd64",
    "p087 1 amd64", "p088 1 amd64", "p088 3 amd64", "p093 1 amd64", "p096 3 all", "p097 2 all",
    "p098 3 amd64", "p100 2 all", "p102 1 all", "p103 2 amd64", "p105 1 all", "p105 2 amd64", "p108 2 amd64",
    "p110 2 amd64", "p112 3 amd64", "p115 2 amd64", "p119 3 amd64", "p121 2 amd64", "p122 2 amd64",
    "p123 2 all", "p124 2 amd64", "p126 1 all", "p126 2 amd64", "p130 1 amd64", "p132 3 amd64",
    "p135 3 amd64", "p138 1 amd64", "p139 1 amd64", "p139 2 amd64", "p140 1 amd64", "p143 1 amd64",
    "p143 2 all", "p145 1 all", "p145 3 all", "p146 3 amd64", "p147 2 amd64", "p147 3 all", "p151 3 amd64",
    "p153 1 amd64", "p157 2 amd64", "p158 2 amd64", "p161 1 amd64", "p161 2 amd64", "p162 2 amd64",
    "p164 1 amd64", "p164 2 amd64", "p167 3 amd64", "p168 1 amd64", "p170 2 amd64", "p170 3 amd64",
    "p172 2 amd64", "p173 1 amd64", "p174 2 amd64", "p175 2 all", "p177 1 amd64", "p179 3 all", "p180 1 all",
    "p180 3 amd64", "p182 1 amd64", "p183 1 amd64", "p183 3 amd64", "p184 1 amd64", "p184 2 amd64",
    "p187 1 all", "p188 1 amd64", "p189 3 all", "p192 3 amd64", "p193 1 amd64", "p196 2 amd64",
    "p197 3 amd64", "p201 2 amd64", "p204 2 amd64", "p207 3 all", "p226 1 amd64", "p227 1 amd64",
    "p229 3 amd64", "p233 1 amd64", "p234 1 amd64", "p235 3 amd64", "p237 3 amd64", "p238 2 amd64",
    "p239 3 all", "p240 3 amd64", "p250 2 amd64", "p254 2 amd64", "p255 3 amd64", "p258 1 amd64",
    "p260 1 amd64", "p267 1 amd64", "p271 1 amd64", "p273 1 amd64", "p274 2 amd64", "p274 3 amd64",
    "p281 3 amd64", "p282 2 amd64", "p283 1 amd64", "p283 3 amd64", "p285 1 amd64", "p286 1 amd64",
    "p289 3 amd64", "p292 1 amd64", "p295 2 amd64", "p298 1 amd64",
]
EXPECTED_DIGEST = "b02bf6bb12427f557bb050e0e30dfda5c9131ba8c918573c006ae8c032c6722c"


def test_installability_answers_are_fixed() -> None:
    cands = _universe()
    assert len(cands) > 550
    report = check_installability(MemoryUniverse(cands), cands)
    broken = [f"{c.name} {c.version} {c.arch}" for c, _ in report.broken]
    assert broken == EXPECTED_BROKEN
    text = "\n\n".join(why for _, why in report.broken)
    assert hashlib.sha256(text.encode()).hexdigest() == EXPECTED_DIGEST
    assert report.installable + len(report.broken) == report.checked == len(cands)


def test_the_compiled_expansion_encodes_what_the_python_loop_encodes(monkeypatch: pytest.MonkeyPatch) -> None:
    # solver/deb/_encode.c is the inner loop of Encoding.expand: the same variables, requirements,
    # clauses and tags, in the same order, with and without it (self-dependencies included).
    import solver.deb.encoding as encoding
    from solver.deb.problem import DebProblem

    # CI installs a C compiler and Python's headers (scripts/dev): a silent fallback would lose the speed.
    assert encoding._compiled_requirements is not None, "solver.deb._encode is not built (pip install -e .)"
    cands = _universe()
    cands.append(DebCandidate("selfdep", "1", "amd64", depends=((Dep("selfdep"),), (Dep("p001"), Dep("selfdep")))))
    universe = MemoryUniverse(cands)

    def encoded() -> str:
        enc, s = encoding.encode(universe, DebProblem(roots=()), with_fixes=False, seeds=cands)
        return repr(([c.key for c in enc.cands[1:]], dict(enc.requirements), s.clauses, s.tags))

    compiled = encoded()
    monkeypatch.setattr(encoding, "_compiled_requirements", None)
    monkeypatch.setattr(encoding, "_compiled_matches", None)
    assert encoded() == compiled


def _mixed_universe(seed: int) -> list[DebCandidate]:
    """A universe with what the compiled expansion must also get right: two architectures (amd64 native,
    i386), architecture qualifiers (:any, :native, :i386), Multi-Arch foreign/allowed/same, versioned
    Provides ("=") next to unversioned ones, several versions of a package and OR groups over virtuals."""
    rnd = random.Random(seed)
    names = [f"m{i:03d}" for i in range(150)]
    virtuals = [f"w{i:02d}" for i in range(12)]

    def atom() -> Dep:
        roll = rnd.random()
        op = rnd.choice(OPS)
        version = str(rnd.randint(1, 3)) if op else None
        if roll < 0.2:
            return Dep(rnd.choice(virtuals), op, version)
        if roll < 0.23:
            return Dep(f"missing{rnd.randrange(5)}")
        qualifier = rnd.choice([None] * 12 + ["any", "native", "i386"])
        return Dep(rnd.choice(names), op, version, qualifier)

    out = []
    for name in names:
        arches = rnd.choice([("amd64",), ("amd64",), ("all",), ("amd64", "i386"), ("i386",)])
        for version in sorted(rnd.sample(["1", "2", "3"], rnd.randint(1, 3))):
            for arch in arches:
                depends = tuple(
                    tuple(atom() for _ in range(rnd.choice([1, 1, 1, 2, 3]))) for _ in range(rnd.randint(0, 4))
                )
                provides = tuple(
                    Dep(rnd.choice(virtuals), *rnd.choice([(None, None), ("=", str(rnd.randint(1, 3)))]))
                    for _ in range(rnd.choice([0, 0, 0, 1, 2]))
                )
                conflicts = tuple(atom() for _ in range(rnd.random() < 0.2))
                breaks = tuple(Dep(rnd.choice(names), "<<", str(rnd.randint(2, 3))) for _ in range(rnd.random() < 0.1))
                out.append(DebCandidate(name, version, arch, depends=depends, provides=provides,
                                        conflicts=conflicts, breaks=breaks,
                                        multi_arch=rnd.choice(["no", "no", "foreign", "same", "allowed"]),
                                        priority=rnd.choice(["optional", "required", "standard"])))  # fmt: skip
    return out


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_compiled_expansion_works_out_new_groups_as_the_python_methods_do(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    # solver/deb/_encode.c works out a group it has not met (group_vars, _group_candidates, matches) in
    # C, and every other match (Conflicts, Breaks) too: the same variables in the same order, the same
    # requirements, clauses and tags, and the same memos for the next encoding (`bundler check` encodes
    # again with them), on universes with several architectures and versions, preferred versions (the
    # policy order of several matches) and vetoes.
    import solver.deb.encoding as encoding
    from solver.deb.problem import DebProblem, DebVeto

    assert encoding._compiled_requirements is not None, "solver.deb._encode is not built (pip install -e .)"
    cands = _mixed_universe(seed)
    universe = MemoryUniverse(cands, native_arch="amd64", architectures=["amd64", "i386"])
    rnd = random.Random(seed)
    preferred = {(c.name, c.arch): c.version for c in rnd.sample(cands, 40)}
    vetoes = (DebVeto(rnd.choice(cands).name, None, None, "known bad"), DebVeto(rnd.choice(cands).name, "<<", "3", "CVE"))
    problem = DebProblem(roots=(), preferred=preferred, vetoes=vetoes)
    seeds = rnd.sample(cands, 60)

    def encoded() -> str:
        memo = encoding.EncodingMemo(universe, problem)
        shown = []
        for _ in range(2):  # the second encoding starts from the first one's memo
            enc, s = encoding.encode(universe, problem, with_fixes=False, seeds=seeds, memo=memo)
            shown.append(([c.key for c in enc.cands[1:]], dict(enc.requirements), s.clauses, s.tags))
        matches = sorted((str(dep), arch, [c.key for c in found]) for (dep, found), (_, arch) in
                         ((v, k) for k, v in memo.matches.items()))  # fmt: skip
        groups = sorted((repr(g), [c.key for c in met], order) for g, met, order in memo.groups.values())
        return repr((shown, matches, groups))

    compiled = encoded()
    monkeypatch.setattr(encoding, "_compiled_requirements", None)
    monkeypatch.setattr(encoding, "_compiled_matches", None)
    assert encoded() == compiled


def test_an_encoding_is_freed_by_reference_counting() -> None:
    # A solve pauses the cyclic collector (bundler/gcpause.py) and relies on reference counting to free
    # an encoding with its solution: nothing the encoder keeps (the compiled path's context included)
    # may refer back to the encoding.
    import gc
    import weakref

    import solver.deb.encoding as encoding
    from solver.deb.problem import DebProblem

    cands = _universe()
    enabled = gc.isenabled()
    gc.disable()
    try:
        enc, s = encoding.encode(MemoryUniverse(cands), DebProblem(roots=()), with_fixes=False, seeds=cands[:50])
        enc.matches(Dep("p001"), "amd64")
        alive = weakref.ref(enc)
        del enc, s
        assert alive() is None
    finally:
        if enabled:
            gc.enable()
