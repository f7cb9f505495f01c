"""Resolve Python requirements for a target: the entry point of `solver.python`.

Inputs are requirement strings (PEP 508), constraints, fixes (forced `==` versions, solved in with
their dependencies), vetoes and preferred versions (a previous lock's); the output pins one version per
project and, per target platform, one file. Failures raise `Unsatisfiable` with an explanation, bad
input raises `InputError`; resolvelib's own exceptions never escape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version
from resolvelib import ResolutionImpossible, ResolutionTooDeep

from solver.errors import InputError, Unsatisfiable
from solver.veto import Veto

from .model import DistFile, PackageIndex
from .provider import PYTHON, PythonProvider, Req, VetoRule, requirement_objects
from .requirements import parse_requirement
from .resolution import make_resolver
from .target import Target


@dataclass(frozen=True, slots=True)
class Wanted:
    """A requirement string and where it was written (for error messages)."""

    text: str
    where: str = ""


@dataclass(frozen=True, slots=True)
class Pin:
    name: str
    version: str
    files: tuple[tuple[str, DistFile], ...]  # (platform, file), one per platform the package serves
    platforms: frozenset[str]
    depends: tuple[str, ...]  # canonical names of pinned projects it depends on
    fixed: bool = False


@dataclass(frozen=True, slots=True)
class VetoMet:
    """A veto that removed releases the resolver looked at (whether that changed the answer or not)."""

    veto: Veto
    label: str  # e.g. "pyyaml>=6"
    removed: tuple[str, ...]  # the versions it removed, newest first


@dataclass
class PythonResolution:
    pins: dict[str, Pin]
    roots: list[str]
    notes: list[str] = field(default_factory=list)
    vetoes_hit: list[str] = field(default_factory=list)
    vetoes_met: list[VetoMet] = field(default_factory=list)


def _parse(w: Wanted) -> Requirement:
    try:
        req = parse_requirement(w.text)  # packaging's Requirement, the common shapes without its tokenizer
    except InvalidRequirement as e:
        raise InputError(f"bad requirement {w.text!r}: {e}", where=w.where or None) from None
    if req.url:
        raise InputError(f"direct URL requirements are not supported: {w.text!r}", where=w.where or None)
    return req


def _veto_rules(vetoes: Sequence[Veto]) -> list[VetoRule]:
    out: list[VetoRule] = []
    for v in vetoes:
        spec = None
        if v.version:
            try:
                spec = SpecifierSet(v.version)
            except InvalidSpecifier:
                raise InputError(f"veto of {v.package}: bad version range {v.version!r}") from None
        out.append(VetoRule(canonicalize_name(v.package), spec, v.reason))
    return out


def resolve(
    index: PackageIndex,
    target: Target,
    requires: Sequence[Wanted],
    *,
    constraints: Sequence[Wanted] = (),
    fixes: Sequence[Wanted] = (),
    vetoes: Sequence[Veto] = (),
    preferred: Mapping[str, str] | None = None,
    legacy_sdists: bool = False,
) -> PythonResolution:
    """Resolve; `legacy_sdists=True` also trusts the egg-info requirements of sdists without static
    (PEP 643) metadata, which are otherwise skipped with a note."""
    platforms = target.per_platform
    all_platforms = frozenset(target.platforms)

    def applies(req: Requirement) -> frozenset[str]:
        if req.marker is None:
            return all_platforms
        return frozenset(p.platform for p in platforms if req.marker.evaluate(dict(p.environment)))

    roots: list[Req] = []
    for w in requires:
        req = _parse(w)
        plats = applies(req)
        if plats:
            roots.extend(requirement_objects(req, plats, "root"))
    cons: dict[str, list[Req]] = {}
    fixed_names = set()
    for w in fixes:
        req = _parse(w)
        if not any(s.operator in ("==", "===") for s in req.specifier) or len(req.specifier) != 1:
            raise InputError(f"a fix must pin one version with ==, not {w.text!r}", where=w.where or None)
        objs = requirement_objects(req, all_platforms, "fix")
        roots.extend(objs)
        cons.setdefault(objs[0].name, []).append(objs[0])
        fixed_names.add(objs[0].name)
    for w in constraints:
        req = _parse(w)
        if req.marker is not None and not applies(req):
            continue
        obj = requirement_objects(req, all_platforms, "constraint")[0]
        cons.setdefault(obj.name, []).append(obj)
    rules = _veto_rules(vetoes)
    provider = PythonProvider(
        index,
        target,
        roots=roots,
        constraints=cons,
        vetoes=rules,
        preferred=preferred,
        legacy_sdists=legacy_sdists,
    )
    provider.start()
    resolver = make_resolver(provider)
    try:
        result = resolver.resolve(roots, max_rounds=20000)
    except ResolutionImpossible as e:
        from .explain import explain  # only on failure: it and solver.causes are 0.02 s of imports

        raise Unsatisfiable(explain(list(e.causes), provider)) from None
    except ResolutionTooDeep:
        raise Unsatisfiable("the resolver gave up after too many backtracking rounds") from None

    pins: dict[str, Pin] = {}
    base = {k: c for k, c in result.mapping.items() if k != PYTHON and c.extra is None}
    depends: dict[str, set[str]] = {name: set() for name in base}
    for key, cand in result.mapping.items():
        if key == PYTHON:
            continue
        for dep in provider.get_dependencies(cand):
            if dep.name != PYTHON and dep.name != cand.name and dep.name in base:
                depends[cand.name].add(dep.name)
    for name, cand in sorted(base.items()):
        pins[name] = Pin(
            name=name,
            version=str(cand.version),
            files=cand.files,
            platforms=cand.platforms,
            depends=tuple(sorted(depends[name])),
            fixed=name in fixed_names,
        )
    hit = []
    for (name, version), veto in sorted(provider.veto_removed.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        pin = pins.get(name)
        if pin is None or version <= Version(pin.version):
            continue
        crit = result.criteria.get(name)
        reqs = list(crit.iter_requirement()) if crit is not None else []
        if all(r.specifier.contains(version, prereleases=True) for r in reqs):
            label = f"{veto.label}: {veto.reason}"
            if label not in hit:
                hit.append(label)
    removed: dict[VetoRule, list[Version]] = {}
    for (_name, version), rule in provider.veto_removed.items():
        removed.setdefault(rule, []).append(version)
    met = [
        VetoMet(veto, rule.label, tuple(str(v) for v in sorted(removed[rule], reverse=True)))
        for veto, rule in zip(vetoes, rules, strict=True)
        if rule in removed
    ]
    return PythonResolution(
        pins=pins,
        roots=sorted({r.name for r in roots}),
        notes=sorted(set(provider.notes)),
        vetoes_hit=hit,
        vetoes_met=met,
    )
