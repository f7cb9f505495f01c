"""PubGrub-style explanations of a failed Python resolution ("Because … and …, … cannot be used.").

resolvelib reports a failure as the requirements (with the candidate that required each) of the
project it could not pin; this turns them, plus what the provider knows about dropped versions
(vetoes, yanks, Requires-Python, missing wheels, sdists with dynamic metadata), into typed causes
(solver/causes.py renders them), one chain per project.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from packaging.specifiers import SpecifierSet

from .. import causes
from ..causes import Cause, Explanation
from .provider import PYTHON, Cand, PythonProvider, Req


def _describe(req: Req, parent: Cand | None, provider: PythonProvider) -> Cause:
    if req.kind == "python":
        who = parent.label if parent is not None else "the project"
        return causes.Requirement(who, req.text, "requires")
    if parent is None:
        if req.kind == "fix":
            pinned = next(iter(req.specifier)).version
            return causes.Fix(req.text, pins=f"{req.name} to {pinned}")
        return causes.Requirement("you", req.text, "root")
    if req.kind == "base":
        return causes.Requirement(f"{parent.name}[{parent.extra}] {parent.version}", f"{parent.name} {parent.version}",
                                  "extra-of")  # fmt: skip
    return causes.Requirement(parent.label, req.text)


def _why_empty(key: str, reqs: Sequence[Req], provider: PythonProvider) -> Cause | None:
    """Why no candidate satisfies all `reqs` at once, beyond the requirements themselves."""
    if key == PYTHON:
        return causes.PythonVersion(str(provider.target.python_version))
    name = reqs[0].name
    releases = provider.releases(name)
    if not releases:
        return causes.NoMatch(name, f"no index offers {name}")
    combined = SpecifierSet()
    for r in reqs:
        combined &= r.specifier
    matching = [rel.version for rel in releases if combined.contains(rel.version, prereleases=True)]
    if not matching:
        if len(reqs) == 1 or not all(
            any(r.specifier.contains(rel.version, prereleases=True) for rel in releases) for r in reqs
        ):
            shown = ", ".join(str(rel.version) for rel in releases[:5])
            more = ", …" if len(releases) > 5 else ""
            return causes.NoMatch(name, f"no version of {name} matches {combined or 'any'} (available: {shown}{more})")
        return None  # the requirements contradict each other
    excluded = provider.exclusions(name)
    reasons: dict[str, list[str]] = {}
    for v in matching:
        why = excluded.get(v)
        if why is not None:
            reasons.setdefault(why, []).append(str(v))
    if not reasons:
        tried = sorted(provider.tried.get(name, ()), reverse=True)
        if tried:
            shown = ", ".join(map(str, tried[:5]))
            return causes.NoMatch(name, f"every matching version of {name} was tried and cannot be used ({shown})")
        return None
    # one veto covering everything: say it the PubGrub way ("b>=2 is vetoed (CVE-1)")
    vetoes = {provider.veto_removed.get((name, v)) for v in matching}
    if len(vetoes) == 1 and None not in vetoes:
        veto = next(iter(vetoes))
        assert veto is not None
        return causes.Veto(veto.label, veto.reason, veto.label)
    parts = []
    for why, versions in reasons.items():
        shown = ", ".join(versions[:4]) + (", …" if len(versions) > 4 else "")
        parts.append(f"{name} {shown} {_plural(why) if len(versions) > 1 else why}")
    unexplained = [str(v) for v in matching if v not in excluded]
    if unexplained:
        parts.append(f"{name} {', '.join(unexplained[:4])} cannot be used either")
    return causes.NoMatch(name, " and ".join(parts))


def _plural(predicate: str) -> str:
    for one, many in (("is ", "are "), ("has ", "have "), ("requires ", "require ")):
        if predicate.startswith(one):
            return many + predicate[len(one) :]
    return predicate


def _how_required(cand: Cand, provider: PythonProvider, depth: int = 0) -> str:
    roots = [r for r in provider.root_reqs if r.name == cand.name]
    if roots:
        return _describe(roots[0], None, provider).sentence()
    return f"{cand.name} is needed"


def explain(failure: Sequence[Any], provider: PythonProvider) -> Explanation:
    """resolvelib's `ResolutionImpossible.causes` as typed causes, one chain per project."""
    groups: dict[str, list[Any]] = {}
    for info in failure:
        groups.setdefault(info.requirement.key, []).append(info)
    chains: list[tuple[Cause, ...]] = []
    for key, infos in sorted(groups.items()):
        # "a 1.0 and a 0.9 depend on b>=2": merge parents that state the same requirement
        by_req: dict[str, list[Cand]] = {}
        direct: list[Cause] = []
        for info in infos:
            if info.parent is None or info.requirement.kind in ("python", "base"):
                cause = _describe(info.requirement, info.parent, provider)
                if cause not in direct:
                    direct.append(cause)
            else:
                parents = by_req.setdefault(info.requirement.text, [])
                if info.parent.label not in [p.label for p in parents]:
                    parents.append(info.parent)
        chain: list[Cause] = list(direct)
        for text, parents in by_req.items():
            chain.append(causes.Requirement(" and ".join(p.label for p in parents), text, many=len(parents) > 1))
        why = _why_empty(key, [i.requirement for i in infos], provider)
        if why is not None:
            chain.append(why)
        parent_names: dict[str, list[Cand]] = {}
        for info in infos:
            if info.parent is not None:
                same = parent_names.setdefault(info.parent.name, [])
                if info.parent.label not in [p.label for p in same]:
                    same.append(info.parent)
        if parent_names:
            hows = []
            for name, ps in parent_names.items():
                how = _how_required(ps[0], provider)
                others = sorted(provider.tried.get(name, set()) - {p.version for p in ps}, reverse=True)
                if others:
                    how += f" and the other versions tried ({', '.join(str(v) for v in others[:4])}) fail too"
                hows.append(how)
            labels = tuple(p.label for ps in parent_names.values() for p in ps)
            chain.append(causes.Excluded(labels, tuple(hows), together=len(parent_names) > 1))
        chains.append(tuple(chain))
    return Explanation("python", tuple(chains))
