"""`bundler solve`: spec → indexes → solver → lock (DESIGN.md, "The pipeline").

This module only wires the stages: `repos/` loads, `solver/` decides, `bundler.lock` writes. It also
keeps the summary of what happened (counts, fixes and what they pulled in, vetoes that bit) that the
CLI prints as text or JSON.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bundler.lock import IndexDigest, Lock, LockedPackage, LockedSource, SourceFileEntry, pinned_versions
from bundler.spec import DebSource, DebSpec, Spec
from solver.errors import InputError

if TYPE_CHECKING:  # the Debian solver is imported by the Debian part: a Python-only solve needs none of it
    from solver.debian import DebSolution


def default_cache_dir(option: Path | None = None) -> Path:
    """--cache-dir, else $BUNDLER_CACHE_DIR, else $XDG_CACHE_HOME/bundler, else ~/.cache/bundler."""
    if option is not None:
        return option
    env = os.environ.get("BUNDLER_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "bundler"


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

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "bundle": self.lock.name,
            "packages": {
                "deb": sum(1 for p in self.lock.packages if p.ecosystem == "deb"),
                "python": sum(1 for p in self.lock.packages if p.ecosystem == "python"),
            },
            "roots": sorted(self.lock.roots),
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }
        if self.debian is not None:
            d = self.debian
            out["debian"] = {
                "fixes": [
                    {
                        "fix": f.fix,
                        "chosen": f"{f.chosen.name} {f.chosen.version}" if f.chosen else None,
                        "changed": [{"package": n, "from": old, "to": new} for n, old, new in f.changed],
                    }
                    for f in d.fixes
                ],
                "vetoes": [
                    {"veto": str(v), "reason": v.reason, "removed": [f"{c.name} {c.version}" for c in cs]}
                    for v, cs in d.vetoes_hit
                ],
                "mirror-extra": len(d.mirror_extra),
                "skipped-recommends": len(d.skipped_recommends),
                "stats": d.stats,
            }
        if self.python is not None:
            out["python"] = self.python.to_json()
        out["kept"] = [k.to_json() for k in self.kept]
        if self.audit is not None:
            out["audit"] = {"advisories": self.audit.db.count, "veto": self.audit.mode,
                            "vetoes": self.audit.vetoes_json()}
        out["warnings"] = list(self.warnings)
        return out


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
    loaded = load_debian(sources, architectures=archs, cache_dir=cache_dir, offline=offline, progress=progress)
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
) -> tuple[DebSolution, list[LockedPackage], list[IndexDigest], list[str], list[LockedSource]]:
    from solver.debian import problem_from_spec
    from solver.debian import solve as solve_debian

    t0 = time.perf_counter()
    loaded, archs = load_debian_sources(spec, cache_dir=cache_dir, offline=offline, progress=progress)
    t1 = time.perf_counter()

    def solve(vetoes: list[tuple[str, str | None, str]]) -> DebSolution:
        problem = problem_from_spec(
            spec.require,
            spec.fix,
            vetoes,
            native_arch=archs[0],
            recommends=spec.recommends,
            base=spec.base,
            closure=spec.closure,
            preferred=preferred,
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

        kept += debian_kept(solution.packages, loaded.universe, preferred, audit)
    t2 = time.perf_counter()
    timings["debian-load"] = t1 - t0
    timings["debian-solve"] = t2 - t1
    depends: dict[tuple[str, str], set[str]] = {}
    for a, b, _kind in solution.edges:
        depends.setdefault((a.name, a.arch), set()).add(f"deb:{b.name}:{b.arch}")
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
    if spec.debian is not None:
        deb_solution, pkgs, idx, rts, sources = solve_debian_part(
            spec.debian,
            cache_dir=cache_dir,
            offline=offline,
            preferred=prev_deb,
            progress=progress,
            timings=timings,
            audit=audit,
            kept=kept,
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
            progress=progress is not None,  # it draws its own status line
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
    from bundler.crosscheck import warnings

    found = warnings(lock)
    if strict and found:
        hint = "set [python] python-version to the Debian python3's (without --strict, a warning)"
        raise InputError(found[0], where="python.python-version", hint=hint)
    return SolveReport(lock=lock, debian=deb_solution, python=py_solution, timings=timings, kept=kept,
                       audit=audit, warnings=found)
