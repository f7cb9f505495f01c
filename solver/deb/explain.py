"""Why there is no solution, in words a person can act on (PubGrub-style, never clause numbers).

The SAT engine hands over the original clauses its refutation used (`Solver.core`); this module
shrinks them to a minimal unsatisfiable subset (deletion-based: drop a clause, re-check on the tiny
subproblem, keep it out if still unsatisfiable), orders them from the user's requests outwards and
turns each into a typed cause (solver/causes.py, which renders them: "you require A", "A 1.0 depends
on B (>= 2)", "B 2.0 is vetoed (CVE-…)").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .. import causes
from ..causes import Explanation
from ..model import format_group
from ..sat import Solver

if TYPE_CHECKING:
    from .encoding import Encoding

_MINIMIZE_LIMIT = 60  # clauses; beyond this the raw core is shown


class _AnyPolicy:
    """A complete, policy-free decision rule for small subproblems."""

    def decide(self, s: Solver) -> int | None:
        for clause in s.clauses:
            open_lit = None
            for lit in clause:
                x = s.lit_value(lit)
                if x == 1:
                    break
                if x == 0 and open_lit is None:
                    open_lit = lit
            else:
                if open_lit is not None:
                    return open_lit
        return None


def _unsat(clauses: Sequence[list[int]], nvars: int) -> bool:
    # Only the variables of these few clauses, numbered 1..k: a Solver sized for the whole encoding
    # allocates two watch lists per variable of it, for every trial (satisfiability does not depend on
    # the numbering, and the policy reads clauses, not numbers).
    ids: dict[int, int] = {}
    renamed = [[ids.setdefault(abs(lit), len(ids) + 1) * (1 if lit > 0 else -1) for lit in c] for c in clauses]
    s = Solver(len(ids))
    for c in renamed:
        s.add_clause(c, "x")
    return not s.solve(_AnyPolicy())


def minimal_core(s: Solver) -> list[int]:
    core = s.core()
    if len(core) > _MINIMIZE_LIMIT:
        return core
    keep = list(core)
    i = 0
    while i < len(keep):
        trial = keep[:i] + keep[i + 1 :]
        if _unsat([list(s.clauses[ci]) for ci in trial], s.nvars):
            keep = trial
        else:
            i += 1
    return keep


def explain(enc: Encoding, s: Solver) -> Explanation:
    """Why an encoding is unsatisfiable: the causes of a minimal core, from the requests outwards."""
    core = sorted(minimal_core(s))  # creation order: the spec's requests first, in its order
    tags: list[tuple[Any, ...]] = [s.tags[ci] for ci in core]  # type: ignore[misc]
    clauses = {id(t): s.clauses[ci] for t, ci in zip(tags, core, strict=True)}
    ordered = _order(tags, clauses)
    causes = tuple(_cause(t, enc, clauses[id(t)]) for t in ordered)
    missing = [t for t in ordered if not any(lit > 0 for lit in clauses[id(t)]) and t[0] in ("root", "dep", "base")]
    return Explanation("deb", (causes,) if causes else (), _hint(ordered, missing))


def _subject(tag: tuple[Any, ...]) -> int | None:
    kind = tag[0]
    if kind in ("dep", "conflict", "veto", "pin"):
        return int(tag[1])
    if kind == "source-move":
        return int(tag[2])
    return None


def _order(tags: list[tuple[Any, ...]], clauses: dict[int, list[int]]) -> list[tuple[Any, ...]]:
    """From the user's requests outwards, one request at a time (in the spec's order): after each
    request come the clauses about what it can install, before the next request."""
    starts = [t for t in tags if t[0] in ("root", "fix", "base")]
    rest = [t for t in tags if t[0] not in ("root", "fix", "base")]
    ordered: list[tuple[Any, ...]] = []
    reached: set[int] = set()

    def follow() -> None:
        progress = True
        while rest and progress:
            progress = False
            for t in list(rest):
                subj = _subject(t)
                about = {subj} if subj is not None else set()
                if t[0] == "one-version":
                    about = {t[2], t[3]}
                if about & reached:
                    ordered.append(t)
                    rest.remove(t)
                    reached.update(lit for lit in clauses[id(t)] if lit > 0)
                    progress = True

    for start in starts:
        ordered.append(start)
        reached.update(lit for lit in clauses[id(start)] if lit > 0)
        follow()
    return ordered + rest


def _name(enc: Encoding, v: int) -> str:
    c = enc.cands[v]
    arch = "" if c.arch in ("all", enc.native) else f":{c.arch}"
    return f"{c.name}{arch} {c.version}"


def _cause(tag: tuple[Any, ...], enc: Encoding, clause: list[int]) -> causes.Cause:
    kind = tag[0]
    empty = not any(lit > 0 for lit in clause)
    if kind == "root":
        why = _why_empty(enc, tag[1], enc.native) if empty else None
        return causes.Requirement("you", format_group(tag[1]), "root", why)
    if kind == "base":
        return causes.BaseNeed(tag[1], "which no source provides" if empty else None)
    if kind == "fix":
        return causes.Fix(tag[1], "but no source has that version" if empty else None)
    if kind == "veto":
        veto = tag[2]
        return causes.Veto(_name(enc, tag[1]), veto.reason, str(veto))
    if kind == "pin":
        return causes.Pin(_name(enc, tag[1]), tag[2], tag[3])
    if kind == "dep":
        why = _why_empty(enc, tag[3], enc.from_arch(enc.cands[tag[1]])) if empty else None
        return causes.Requirement(_name(enc, tag[1]), format_group(tag[3]), tag[2], why)
    if kind == "conflict":
        return causes.Conflict(_name(enc, tag[1]), tag[3], tag[4], _name(enc, tag[2]))
    if kind == "one-version":
        a, b = enc.cands[tag[2]], enc.cands[tag[3]]
        return causes.OneVersion(tag[1], (a.version, b.version))
    if kind == "source-move":
        f = enc.cands[tag[2]]
        return causes.SourceMove(tag[1], f.source or f.name, f.source_version or f.version, _name(enc, tag[3]))
    raise AssertionError(f"a clause tag without a cause: {tag!r}")


def _why_empty(enc: Encoding, group: Any, arch: str) -> str:
    """Why an OR group has no candidate at all: nothing by that name, or no version that fits."""
    versions = sorted({c.version for dep in group for c in enc.u.candidates(dep.name)})
    if not versions:
        return f"which no source provides for {arch}"
    shown = ", ".join(versions[:4]) + (", …" if len(versions) > 4 else "")
    return f"but no available version fits for {arch} (available: {shown})"


def _hint(ordered: list[tuple[Any, ...]], missing: list[tuple[Any, ...]]) -> str | None:
    for t in ordered:
        if t[0] == "veto":
            veto = t[2]
            return (
                f"the veto on {veto} ({veto.reason}) leaves no usable version; "
                "add a fix for a version it allows, or drop what needs it"
            )
    for t in ordered:
        if t[0] == "pin":
            return f"the pin {t[3]} (priority {t[2]}) leaves no usable version; raise it above 0 or drop it"
    for t in ordered:
        if t[0] == "fix":
            return f"check that the fix {t[1]} is compatible with what the other packages require"
    if missing:
        return "check that the sources list the suites, components and architectures that carry it"
    return None
