"""`bundler solve`: spec → indexes → solver → lock (DESIGN.md, "The pipeline").

This module only wires the stages: `repos/` loads, `solver/` decides, `bundler.lock` writes. It also
keeps the summary of what happened (counts, fixes and what they pulled in, vetoes that bit) that the
CLI prints as text or JSON.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bundler.cachedir import default_cache_dir as default_cache_dir  # re-exported for the commands
from bundler.lock import IndexDigest, Lock, LockedPackage, LockedSource, SourceFileEntry, pinned_versions
from bundler.spec import DebSource, DebSpec, Spec
from solver.errors import InputError

if TYPE_CHECKING:  # the Debian solver is imported by the Debian part: a Python-only solve needs none of it
    from solver.deb.problem import DebSolution


@dataclass
class SolveReport:
    """What `solve` did, for people (text) and machines (JSON)."""

    lock: Lock
    debian: DebSolution | None = None
    python: Any = None  # bundler.python_solve.PythonSolution
    timings: dict[str, float] = field(default_factory=dict)
    kept: list[Any] = field(default_factory=list)  # bundler.audit.Kept: pins kept though newer exist
    audit: Any = None  # bundler.audit.AuditPolicy, when the spec has [audit]
    warnings: list[str] = field(default_factory=list)  # cross-ecosystem (bundler.crosscheck)
    # str(veto) -> (name:arch, version without the veto, with it): what each Debian veto moved
    debian_veto_changes: dict[str, list[tuple[str, str | None, str | None]]] = field(default_factory=dict)
    up_to_date: bool = False  # the lock fast path (bundler/fastpath.py): the lock verified, nothing resolved
    fast_path_miss: str | None = None  # why the fast path did not apply (None: it did, or was not tried)

    def to_json(self) -> dict[str, Any]:
        """The `solve --json` document (bundler/schemas/solve.json): both ecosystems report their fixes,
        vetoes and notes in the same shape; an ecosystem the spec has not is null."""
        out: dict[str, Any] = {
            "bundle": self.lock.name,
            "packages": {
                "deb": sum(1 for p in self.lock.packages if p.ecosystem == "deb"),
                "python": sum(1 for p in self.lock.packages if p.ecosystem == "python"),
            },
            "roots": sorted(self.lock.roots),
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "debian": None,
            "python": None,
        }
        if self.debian is not None:
            d = self.debian
            out["debian"] = {
                "fixes": [
                    {
                        "fix": f.fix,
                        "chosen": f"{f.chosen.name} {f.chosen.version}" if f.chosen else None,
                        "changed": changes_json(f.changed),
                    }
                    for f in d.fixes
                ],
                "vetoes": [
                    {"veto": str(v), "reason": v.reason, "removed": [f"{c.name} {c.version}" for c in cs],
                     "changed": changes_json(self.debian_veto_changes.get(str(v), []))}
                    for v, cs in d.vetoes_hit
                ],
                "notes": [f"{c.name} {c.version} ({c.arch}): Recommends {group} skipped: cannot be installed"
                          for c, group in d.skipped_recommends],
                "mirror-extra": len(d.mirror_extra),
                "skipped-recommends": len(d.skipped_recommends),
                "stats": d.stats,
            }
        if self.python is not None:
            out["python"] = self.python.to_json()
        out["kept"] = [k.to_json() for k in self.kept]
        out["audit"] = None
        if self.audit is not None:
            out["audit"] = {"advisories": self.audit.db.count, "veto": self.audit.mode,
                            "vetoes": self.audit.vetoes_json()}
        out["warnings"] = list(self.warnings)
        out["up-to-date"] = self.up_to_date
        out["fast-path-miss"] = self.fast_path_miss
        return out


def changes_json(changes: Sequence[tuple[str, str | None, str | None]]) -> list[dict[str, str | None]]:
    """(package, version before, version after) as JSON; None: absent before (new) or after (dropped)."""
    return [{"package": n, "from": old, "to": new} for n, old, new in changes]


def _apt_sources(spec: DebSpec) -> list[Any]:
    """The spec's sources as repos' AptSource objects, or the host's apt sources when it lists none."""
    from repos.deb import sources as apt_sources

    if not spec.sources:
        return list(apt_sources.read_apt_sources())
    return [_to_apt(s) for s in spec.sources]


def _to_apt(s: DebSource) -> Any:
    from repos.deb.sources import AptSource

    return AptSource(
        uri=s.uri,
        suites=s.suites,
        components=s.components,
        architectures=s.architectures,
        signed_by=s.signed_by,
        check_valid_until=s.check_valid_until,
        trusted=s.trusted,
    )


def _previous_versions(lock_path: Path) -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """The versions of an existing lock, kept where possible when re-solving (minimal change)."""
    try:
        pinned = pinned_versions(lock_path.read_text("utf-8"), str(lock_path))
    except (OSError, UnicodeDecodeError, InputError):
        return {}, {}  # no usable previous lock: solve from scratch
    deb = {(name, arch): version for eco, name, version, arch in pinned if eco == "deb"}
    py = {name: version for eco, name, version, _ in pinned if eco == "python"}
    return deb, py


def _debian_architectures(spec: DebSpec, sources: list[Any]) -> list[str]:
    if spec.architectures:
        return list(spec.architectures)
    archs: list[str] = []
    for s in sources:
        for a in s.architectures:
            if a not in archs and a != "all":
                archs.append(a)
    if not archs:
        from repos.deb.sources import host_architecture

        archs = [host_architecture()]
    return archs


def load_debian_sources(
    spec: DebSpec, *, cache_dir: Path, offline: bool, progress: Any = None
) -> tuple[Any, list[str]]:
    """The spec's (or the host's) Debian sources, loaded; and the target architectures, native first."""
    from repos.deb.load import load_debian

    sources = _apt_sources(spec)
    archs = _debian_architectures(spec, sources)
    from bundler.progress import Display

    # repos/ draws into a rich Progress it is handed (it knows nothing of bundler's Display).
    bar = progress.rich_progress if isinstance(progress, Display) else progress
    loaded = load_debian(sources, architectures=archs, cache_dir=cache_dir, offline=offline, progress=bar)
    return loaded, archs


def solve_debian_part(
    spec: DebSpec,
    *,
    cache_dir: Path,
    offline: bool,
    preferred: dict[tuple[str, str], str],
    progress: Any = None,
    timings: dict[str, float],
    audit: Any = None,  # bundler.audit.AuditPolicy: vetoes from advisories
    kept: list[Any] | None = None,  # receives the bundler.audit.Kept pins of a re-solve
    veto_changes: dict[str, list[tuple[str, str | None, str | None]]] | None = None,  # receives what each veto moved
) -> tuple[DebSolution, list[LockedPackage], list[IndexDigest], list[str], list[LockedSource]]:
    from solver.deb.problem import problem_from_spec
    from solver.deb.solve import solve as solve_debian

    t0 = time.perf_counter()
    loaded, archs = load_debian_sources(spec, cache_dir=cache_dir, offline=offline, progress=progress)
    t1 = time.perf_counter()

    last: list[list[tuple[str, str | None, str]]] = [[]]  # the vetoes of the latest solve (an audit adds some)

    def solve(vetoes: list[tuple[str, str | None, str]], prefer: dict[tuple[str, str], str] = preferred) -> DebSolution:
        last[0] = list(vetoes)
        problem = problem_from_spec(
            spec.require,
            spec.fix,
            vetoes,
            native_arch=archs[0],
            recommends=spec.recommends,
            base=spec.base,
            closure=spec.closure,
            preferred=prefer,
            pins=[(p.package, p.release, p.version, p.priority) for p in spec.pins],
            releases=loaded.releases,
        )
        return solve_debian(loaded.universe, problem)

    spec_vetoes: list[tuple[str, str | None, str]] = [(v.package, v.version, v.reason) for v in spec.veto]
    if audit is None:
        solution = solve(spec_vetoes)
    else:
        solution = audit.solve_debian(solve, spec_vetoes, loaded.universe)
    if kept is not None and preferred:
        from bundler.audit import debian_kept

        # What a fix holds (the fixed packages, the other binaries of their sources) is the fix's
        # decision, not a version kept from the previous lock.
        held = {(f.chosen.source or f.chosen.name, f.chosen.source_version or f.chosen.version)
                for f in solution.fixes if f.chosen is not None}  # fmt: skip
        free = [c for c in solution.packages if (c.source or c.name, c.source_version or c.version) not in held]
        kept += debian_kept(free, loaded.universe, preferred, audit)
    t2 = time.perf_counter()
    timings["debian-load"] = t1 - t0
    timings["debian-solve"] = t2 - t1
    if veto_changes is not None and solution.vetoes_hit:
        veto_changes.update(debian_veto_changes(solution, last[0], solve, bool(preferred)))
        timings["debian-vetoes"] = time.perf_counter() - t2
    depends: dict[tuple[str, str], set[str]] = {}
    ids: dict[tuple[str, str, str], str] = {}  # each id made once: 45,000 edges at 2,000 roots, 9,900 ids
    for a, b, _kind in solution.edges:
        found = ids.get(b.key)
        if found is None:
            found = ids[b.key] = f"deb:{b.name}:{b.arch}"
        depends.setdefault((a.name, a.arch), set()).add(found)
    fixed = {f.chosen.key for f in solution.fixes if f.chosen is not None}
    packages = []
    for c in solution.packages:
        o = c.origin
        if o is None:
            raise InputError(f"package {c.name} {c.version} has no origin (file name, size, sha256)")
        packages.append(
            LockedPackage(
                ecosystem="deb",
                name=c.name,
                version=c.version,
                architecture=c.arch,
                source=c.source or c.name,
                source_version=c.source_version or c.version,
                repository=o.repository,
                filename=o.filename,
                size=o.size,
                sha256=o.sha256,
                depends=tuple(sorted(depends.get((c.name, c.arch), ()))),
                fixed=c.key in fixed,
            )
        )
    indexes = [IndexDigest("deb", url, sha) for url, sha in loaded.indexes]
    roots = [f"deb:{c.name}:{c.arch}" for c in solution.roots]
    sources: list[LockedSource] = []
    if spec.source_packages:
        t3 = time.perf_counter()
        sources = lock_debian_sources(loaded, packages, cache_dir=cache_dir, offline=offline)
        timings["debian-sources"] = time.perf_counter() - t3
    return solution, packages, indexes, roots, sources


def debian_veto_changes(
    solution: DebSolution,
    vetoes: list[tuple[str, str | None, str]],
    solve: Callable[..., DebSolution],
    preferred: bool,
) -> dict[str, list[tuple[str, str | None, str | None]]]:
    """What each veto that removed a candidate moved: the solve again without it, compared (the report
    only; the answer is `solution`). As for Python (bundler/python_solve.py), both sides are solved
    from scratch: a previous lock's versions already carry a veto's effect."""
    from solver.deb.problem import parse_veto
    from solver.errors import Unsatisfiable

    def versions(s: DebSolution) -> dict[str, str]:
        return {f"{c.name}:{c.arch}": c.version for c in s.packages}

    fresh = versions(solve(vetoes, {}) if preferred else solution)
    parsed = [parse_veto(*v) for v in vetoes]
    out: dict[str, list[tuple[str, str | None, str | None]]] = {}
    for veto, _removed in solution.vetoes_hit:
        try:
            without = versions(solve([v for v, p in zip(vetoes, parsed, strict=True) if p != veto], {}))
        except Unsatisfiable:  # cannot happen with one veto fewer, but say what is known
            out[str(veto)] = []
            continue
        out[str(veto)] = [(n, without.get(n), fresh.get(n)) for n in sorted(set(without) | set(fresh))
                          if without.get(n) != fresh.get(n)]
    return out


def lock_debian_sources(
    loaded: Any, packages: list[LockedPackage], *, cache_dir: Path, offline: bool
) -> list[LockedSource]:
    """The source package of every locked binary, from the Sources indexes of the suites `loaded` read."""
    from repos.deb.srcindex import Need, locate

    needs = [
        Need(p.source or p.name, p.source_version or p.version, f"{p.name} {p.version} ({p.architecture})",
             p.repository)
        for p in sorted(packages, key=lambda p: (p.name, p.architecture, p.version))
    ]  # fmt: skip
    return [
        LockedSource(sp.name, sp.version, sp.repository, sp.directory,
                     tuple(SourceFileEntry(f.name, f.size, f.sha256) for f in sp.files))
        for sp in locate(loaded.suites, needs, cache_dir=cache_dir, offline=offline)
    ]  # fmt: skip


def cross_warnings(lock: Lock, strict: bool) -> list[str]:
    """Where the lock's ecosystems disagree (bundler/crosscheck.py); with `strict`, an error instead."""
    from bundler.crosscheck import warnings

    found = warnings(lock)
    if strict and found:
        hint = "set [python] python-version to the Debian python3's (without --strict, a warning)"
        raise InputError(found[0], where="python.python-version", hint=hint)
    return found


def solve_spec(spec: Spec, **options: Any) -> SolveReport:
    """Solve every ecosystem of the spec; bad input found on the way is blamed on the spec's file
    unless the error already names a more precise place (an index URL, a requirements file)."""
    try:
        return _solve_spec(spec, **options)
    except InputError as e:
        if e.where is None:
            e.where = str(spec.path)
        elif e.where.startswith(("python.", "debian.")):  # a key of the spec: say which file too
            e.where = f"{spec.path}: {e.where}"
        raise


def _solve_spec(
    spec: Spec,
    *,
    lock_path: Path,
    cache_dir: Path,
    offline: bool = False,
    upgrade: bool = False,
    progress: Any = None,
    strict: bool = False,
    previous: Path | None = None,
) -> SolveReport:
    """Solve every ecosystem of the spec and return the lock (not yet written) with its report;
    `strict`: a cross-ecosystem warning is an error instead. The versions kept where they still fit
    are those of `previous` (a hotfix's base lock), else of the lock being rewritten; none with
    `upgrade`."""
    if spec.python is not None and not offline:
        from bundler import earlyhttp

        earlyhttp.start(spec.python)  # unless bundler/quicksolve.py started it already
    prev_deb, prev_py = ({}, {}) if upgrade else _previous_versions(previous or lock_path)
    timings: dict[str, float] = {}
    audit = None
    kept: list[Any] = []
    if spec.audit is not None:
        from bundler.audit import AuditPolicy, load_db

        t0 = time.perf_counter()
        audit = AuditPolicy(load_db(spec.audit.db), spec.audit.veto, spec.audit.release)
        timings["audit-load"] = time.perf_counter() - t0
    packages: list[LockedPackage] = []
    indexes: list[IndexDigest] = []
    roots: list[str] = []
    extra: dict[str, Any] = {}
    sources: list[LockedSource] = []
    deb_solution = None
    py_solution = None
    veto_changes: dict[str, list[tuple[str, str | None, str | None]]] = {}
    if spec.debian is not None:
        from bundler.gcpause import gc_paused

        with gc_paused():
            deb_solution, pkgs, idx, rts, sources = solve_debian_part(
                spec.debian,
                cache_dir=cache_dir,
                offline=offline,
                preferred=prev_deb,
                progress=progress,
                timings=timings,
                audit=audit,
                kept=kept,
                veto_changes=veto_changes,
            )
        packages += pkgs
        indexes += idx
        roots += rts
        if spec.debian.source_packages:
            extra["source-packages"] = True
    if spec.python is not None:
        from bundler.python_solve import solve_python

        t0 = time.perf_counter()
        py_solution = solve_python(
            spec.python,
            cache_dir=cache_dir,
            offline=offline,
            preferred=prev_py,
            progress=progress,
            legacy_sdists=spec.python.legacy_sdists,
            audit=audit,
        )
        kept += py_solution.kept
        timings["python"] = time.perf_counter() - t0
        packages += py_solution.packages
        indexes += py_solution.indexes
        roots += py_solution.roots
        extra["python-version"] = spec.python.python_version
        extra["platforms"] = list(spec.python.platforms)
    lock = Lock(
        name=spec.name,
        suite=spec.suite,
        spec_sha256=spec.sha256,
        epoch=spec.epoch,
        roots=tuple(sorted(set(roots))),
        indexes=tuple(indexes),
        packages=tuple(packages),
        extra=extra,
        sources=tuple(sources),
    )
    found = cross_warnings(lock, strict)
    return SolveReport(lock=lock, debian=deb_solution, python=py_solution, timings=timings, kept=kept,
                       audit=audit, warnings=found, debian_veto_changes=veto_changes)
