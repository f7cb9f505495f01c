"""`solve_python`: the Python half of `bundler solve` (DESIGN.md, "Solving").

Reads the spec's [python] section (requirements, requirements files in pip's format, constraints,
fixes, vetoes), picks the indexes (the spec's, else the host's pip configuration), resolves with
`solver.python` over `repos.pypi`, and turns the result into `LockedPackage`s and `IndexDigest`s for
the lock. Also reports what each fix changed and what each veto moved (by solving again without it:
a veto can send a project, or what depends on it, back several releases), and which locked files are
sdists that the target must build, with what their build needs (PEP 517/518).
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bundler.gcpause import gc_paused
from bundler.lock import IndexDigest, LockedPackage
from bundler.pysources import python_sources
from bundler.sdists import SdistBuild, with_missing
from bundler.spec import PythonSpec
from repos.pypi import PypiIndex
from solver.errors import InputError, Unsatisfiable
from solver.python import PythonResolution, Target, Veto, Wanted, resolve
from solver.python.overrides import MetadataOverride, OverridingIndex


@dataclass(frozen=True, slots=True)
class VetoEffect:
    """What one veto did: the versions it removed that the resolver met, and every project whose
    version differs from the solve without that veto (`old` None: only with the veto; `new` None:
    only without it)."""

    veto: str  # e.g. "pyyaml>=6"
    reason: str
    project: str  # the vetoed project (canonical name)
    removed: tuple[str, ...]  # its versions that the veto removed, newest first
    changed: tuple[tuple[str, str | None, str | None], ...]  # (project, without the veto, with it)

    def backwards(self) -> list[tuple[str, str, str]]:
        """The moves to an older major version (e.g. 6.0.1 -> 3.13), the ones a person must see."""
        out = []
        for name, old, new in self.changed:
            if old is not None and new is not None and _major(new) < _major(old):
                out.append((name, old, new))
        return out


@dataclass
class PythonSolution:
    packages: list[LockedPackage]
    indexes: list[IndexDigest]
    roots: list[str]
    # each fix -> (project, version without the fix or None, version with it or None: dropped)
    fix_changes: dict[str, list[tuple[str, str | None, str | None]]] = field(default_factory=dict)
    fix_chosen: dict[str, str | None] = field(default_factory=dict)  # each fix -> "project version" it pinned
    vetoes_hit: list[str] = field(default_factory=list)  # "label: reason" of each veto that moved something
    notes: list[str] = field(default_factory=list)
    kept: list[Any] = field(default_factory=list)  # bundler.audit.Kept: previous pins with newer releases
    veto_effects: list[VetoEffect] = field(default_factory=list)
    sdists: list[SdistBuild] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The "python" part of `solve --json`, in the shape of the "debian" part (bundler/schemas/solve.json)."""
        from bundler.pipeline import changes_json

        return {
            "fixes": [
                {"fix": fix, "chosen": self.fix_chosen.get(fix), "changed": changes_json(changed)}
                for fix, changed in self.fix_changes.items()
            ],
            "vetoes": [
                {
                    "veto": e.veto,
                    "reason": e.reason,
                    "removed": [f"{e.project} {v}" for v in e.removed],
                    "changed": changes_json(e.changed),
                }
                for e in self.veto_effects
            ],
            "sdists": [b.to_json() for b in self.sdists],
            "notes": list(self.notes),
        }


def _major(version: str) -> int:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version).major
    except InvalidVersion:
        return -1


# ---- requirements files (pip's format) -------------------------------------------------------
_COMMENT = re.compile(r"(^|\s+)#.*$")
_ENV = re.compile(r"\$\{([A-Z0-9_]+)\}")
_IGNORED_OPTIONS = (
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "--no-index",
    "--pre",
    "--prefer-binary",
    "--only-binary",
    "--no-binary",
    "--trusted-host",
    "--use-feature",
    "--require-hashes",
)


@dataclass
class RequirementSet:
    requires: list[Wanted] = field(default_factory=list)
    constraints: list[Wanted] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _logical_lines(path: Path) -> list[tuple[int, str]]:
    try:
        text = path.read_text("utf-8")
    except OSError as e:
        raise InputError(f"cannot read requirements file: {e.strerror}", where=str(path)) from None
    out: list[tuple[int, str]] = []
    buf, start = "", 0
    for no, raw in enumerate(text.splitlines(), 1):
        if not buf:
            start = no
        if raw.endswith("\\") and not _COMMENT.search(raw):
            buf += raw[:-1]
            continue
        line = _COMMENT.sub("", buf + raw).strip()
        buf = ""
        if line:
            out.append((start, _ENV.sub(lambda m: os.environ.get(m.group(1), m.group(0)), line)))
    if buf.strip():
        out.append((start, _COMMENT.sub("", buf).strip()))
    return out


def read_requirements_file(
    path: Path, into: RequirementSet, *, constraint: bool = False, seen: set[Path] | None = None
) -> RequirementSet:
    """Read a pip requirements file (with -r/-c includes, comments, continuations) into `into`."""
    seen = set() if seen is None else seen
    real = path.resolve()
    if real in seen:
        raise InputError("requirements files include each other", where=str(path))
    seen = seen | {real}
    for no, line in _logical_lines(path):
        where = f"{path}:{no}"
        if line.startswith("-"):
            try:
                words = shlex.split(line)
            except ValueError as e:
                raise InputError(f"cannot parse option line: {e}", where=where) from None
            opt, _, value = words[0].partition("=")
            if not value and len(words) > 1:
                value = words[1]
            if opt in ("-r", "--requirement", "-c", "--constraint"):
                if not value:
                    raise InputError(f"{opt} needs a file name", where=where)
                read_requirements_file(
                    path.parent / value,
                    into,
                    constraint=constraint or opt in ("-c", "--constraint"),
                    seen=seen,
                )
            elif opt in ("-e", "--editable"):
                raise InputError("editable requirements cannot be bundled", where=where)
            elif opt in _IGNORED_OPTIONS:
                into.notes.append(f"{where}: ignored pip option {opt} (indexes come from the spec)")
            else:
                raise InputError(f"unsupported option {opt}", where=where)
            continue
        # trailing per-requirement options, e.g. --hash=sha256:...
        text = re.split(r"\s+--?[a-z]", line, maxsplit=1)[0].strip()
        (into.constraints if constraint else into.requires).append(Wanted(text, where))
    return into


def _requirement_set(spec: PythonSpec) -> RequirementSet:
    rs = RequirementSet()
    rs.requires.extend(Wanted(t, "python.require") for t in spec.require)
    rs.constraints.extend(Wanted(t, "python.constraints") for t in spec.constraints)
    if spec.requirements_file:
        read_requirements_file(spec.base_dir / spec.requirements_file, rs)
    if spec.constraints_file:
        read_requirements_file(spec.base_dir / spec.constraints_file, rs, constraint=True)
    if not rs.requires and not spec.fix:
        raise InputError("python: nothing is required (require or requirements-file)")
    return rs


def _progress(progress: Any) -> tuple[Callable[[str, str], None] | None, Callable[[], None]]:
    """A tick callback for the resolution's page and metadata reads, and its stop: `progress` is
    the command's bundler.progress.Display (a line of its own), a callable, or None/False."""
    from bundler.progress import Display

    if progress is None or progress is False:
        return None, lambda: None
    if not isinstance(progress, Display):
        return progress, lambda: None
    task = progress.task("Python: resolving")
    counts = {"page": 0, "metadata": 0}

    def tick(kind: str, what: str) -> None:
        if kind in counts:
            counts[kind] += 1
            task.update(description=f"Python: {counts['page']} pages, {counts['metadata']} metadata read")

    return tick, task.finish


# ---- the solve ---------------------------------------------------------------------------------
def solve_python(
    spec: PythonSpec,
    *,
    cache_dir: Path,
    offline: bool = False,
    preferred: dict[str, str] | None = None,
    progress: Any = None,
    legacy_sdists: bool = False,
    audit: Any = None,
) -> PythonSolution:
    """Resolve the spec's [python] section; raises Unsatisfiable (with an explanation) or InputError.

    `legacy_sdists=True` trusts an sdist's egg-info requirements when its PKG-INFO is not static
    metadata (PEP 643); by default such sdist-only releases are skipped with a note. `audit` (a
    bundler.audit.AuditPolicy) vetoes the affected releases of what the solution would hold.
    """
    with gc_paused():
        return _solve_python(spec, cache_dir, offline, preferred, progress, legacy_sdists, audit)


def _solve_python(
    spec: PythonSpec,
    cache_dir: Path,
    offline: bool,
    preferred: dict[str, str] | None,
    progress: Any,
    legacy_sdists: bool,
    audit: Any = None,
) -> PythonSolution:
    rs = _requirement_set(spec)
    target = Target(spec.python_version, tuple(spec.platforms))
    indexes, find_links, cert, notes = python_sources(spec)
    fixes = [Wanted(t, "python.fix") for t in spec.fix]
    vetoes = list(spec.veto)  # the spec's vetoes are solver.veto.Veto, what the resolver takes
    tick, stop = _progress(progress)
    index = PypiIndex(
        indexes,
        find_links,
        cache_dir=cache_dir,
        offline=offline,
        strategy=spec.index_strategy,
        cert=cert,
        progress=tick,
        target=target,
        # the pages a solve reads follow from what it requires: the warm set of the cache is per request
        request="\n".join(sorted({w.text for w in rs.requires} | set(spec.fix))),
    )
    # Releases whose requirements the spec states (dependency-metadata) are answered from the spec.
    overrides = [
        MetadataOverride(d.name, d.version, d.requires_dist, d.requires_python) for d in spec.dependency_metadata
    ]
    resolver_index = OverridingIndex(index, overrides) if overrides else index
    try:

        def run(
            fix_list: list[Wanted], veto_list: list[Veto] = vetoes, prefer: dict[str, str] | None = preferred
        ) -> PythonResolution:
            return resolve(
                resolver_index,
                target,
                rs.requires,
                constraints=rs.constraints,
                fixes=fix_list,
                vetoes=veto_list,
                preferred=prefer,
                legacy_sdists=legacy_sdists,
            )

        result = run(fixes)
        if audit is not None:
            # Veto the affected releases of what the solution holds, then solve again, until nothing
            # new is vetoed (bundler/audit.py says why not all up front).
            seen: set[str] = set()
            while more := audit.python_vetoes(result.pins, resolver_index.list_releases, target, seen):
                vetoes.extend(Veto(*v) for v in more)
                result = run(fixes)
        fix_changes: dict[str, list[tuple[str, str | None, str | None]]] = {}
        for fix in fixes:
            fix_changes[fix.text] = _fix_changes(result, fix, fixes, run)
        # Vetoes are judged on solves from scratch (as --upgrade does): a previous lock's versions
        # already carry a veto's effect, and preferring them the resolver would not even meet the
        # versions the veto removes, so a re-solve would stop reporting it.
        fresh = run(fixes, vetoes, None) if preferred and vetoes else result
        effects = _veto_effects(fresh, vetoes, lambda veto_list: run(fixes, veto_list, None))
        sdists = _sdist_builds(result, index)
        if spec.wheels_only and sdists:
            raise InputError(
                "; ".join(f"{b.name} {b.version} has no wheel for the target, only {b.filename}" for b in sdists),
                where="python.wheels-only",
                hint="veto or constrain it to a release with wheels, or let the target build it (wheels-only = false)",
            )
        packages = _locked(result, index, target)
        digests = []
        for name in sorted(result.pins):
            for page in index.pages(name):
                digests.append(IndexDigest("python", page.url, page.sha256))
        return PythonSolution(
            packages=packages,
            indexes=sorted(set(digests), key=lambda d: d.url),
            roots=[f"python:{n}" for n in result.roots],
            fix_changes=fix_changes,
            fix_chosen={fix.text: _fix_chosen(result, fix) for fix in fixes},
            vetoes_hit=[f"{e.veto}: {e.reason}" for e in effects if e.changed],
            notes=rs.notes + notes + sorted(index.notes) + result.notes,
            kept=_kept(result, resolver_index, target, preferred, audit),
            veto_effects=effects,
            sdists=_missing_build_requires(sdists, packages, target),
        )
    finally:
        stop()
        index.close()


def _kept(result: PythonResolution, index: Any, target: Target, preferred: dict[str, str] | None,
          audit: Any) -> list[Any]:
    if not preferred:
        return []
    from bundler.audit import python_kept

    # A pin a fix holds is the fix's decision, not one kept from the previous lock.
    pins = {name: pin for name, pin in result.pins.items() if not pin.fixed}
    return python_kept(pins, index.list_releases, target, preferred, audit.db if audit else None)


def _fix_chosen(result: PythonResolution, fix: Wanted) -> str | None:
    """"project version" of what `fix` pinned."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pin = result.pins.get(canonicalize_name(Requirement(fix.text).name))
    return f"{pin.name} {pin.version}" if pin is not None else None


def _fix_changes(
    result: PythonResolution,
    fix: Wanted,
    fixes: list[Wanted],
    run: Callable[[list[Wanted]], PythonResolution],
) -> list[tuple[str, str | None, str | None]]:
    """Packages that changed or came in because of `fix`: the solution against one solved without it,
    as (project, version without the fix or None, version with it or None)."""
    try:
        without = run([f for f in fixes if f is not fix])
    except Unsatisfiable:
        without = None
    if without is None:  # nothing to compare with: the fix and everything it pulls in
        from packaging.requirements import Requirement
        from packaging.utils import canonicalize_name

        start = canonicalize_name(Requirement(fix.text).name)
        seen: set[str] = set()
        todo: list[str] = [start]
        while todo:
            n = todo.pop()
            if n in seen or n not in result.pins:
                continue
            seen.add(n)
            todo.extend(result.pins[n].depends)
        return [(n, None, result.pins[n].version) for n in sorted(seen)]
    return _diff(without, result)


def describe_change(name: str, old: str | None, new: str | None) -> str:
    """One change of a fix for people: "lib 1.1 -> 1.0", "lib 1.0 (new)", "lib 1.1 (dropped)"."""
    if old is None:
        return f"{name} {new} (new)"
    if new is None:
        return f"{name} {old} (dropped)"
    return f"{name} {old} -> {new}"


def _veto_effects(
    result: PythonResolution, vetoes: list[Veto], run: Callable[[list[Veto]], PythonResolution]
) -> list[VetoEffect]:
    """For each veto that removed a release the resolver met: the solve again without it, compared.

    Comparing with a solve without the veto (fixes and constraints as they are; `run` decides whether
    a previous lock's versions are preferred) catches a veto's indirect effects: vetoing `lib>=2` can
    also move `app`, whose newer releases need lib 2, to a release that accepts lib 1, although no
    requirement left in the answer admits a vetoed lib."""
    from packaging.utils import canonicalize_name

    out = []
    for met in result.vetoes_met:
        try:
            without = run([v for v in vetoes if v is not met.veto])
        except Unsatisfiable:  # cannot happen with one veto fewer, but say what is known
            without = None
        changed = _diff(without, result) if without is not None else []
        project = canonicalize_name(met.veto.package)
        out.append(VetoEffect(met.label, met.veto.reason, project, met.removed, tuple(changed)))
    return out


def _diff(old: PythonResolution, new: PythonResolution) -> list[tuple[str, str | None, str | None]]:
    out: list[tuple[str, str | None, str | None]] = []
    for name in sorted(set(old.pins) | set(new.pins)):
        a, b = old.pins.get(name), new.pins.get(name)
        if a is None or b is None or a.version != b.version:
            out.append((name, a.version if a else None, b.version if b else None))
    return out


def _sdist_builds(result: PythonResolution, index: PypiIndex) -> list[SdistBuild]:
    """The pins served by an sdist (on some target platform), with what building it needs."""
    from packaging.version import Version

    from solver.python import Release

    out = []
    for name, pin in sorted(result.pins.items()):
        for f in sorted({f for _, f in pin.files if not f.is_wheel}, key=lambda f: f.filename):
            # The index has this metadata already (the resolver read it): no I/O here.
            meta = index.get_metadata(Release(name, Version(pin.version), ()), f)
            out.append(SdistBuild(name, pin.version, f.filename, meta.build_system, meta.build_requires, ()))
    return out


def _missing_build_requires(
    builds: list[SdistBuild], packages: list[LockedPackage], target: Target
) -> list[SdistBuild]:
    """`builds` with the build requirements that no locked package satisfies (markers evaluated for
    the target's first platform)."""
    env = target.per_platform[0].environment
    return with_missing(builds, {p.name: p.version for p in packages}, env)


def _locked(result: PythonResolution, index: PypiIndex, target: Target) -> list[LockedPackage]:
    files = [f for pin in result.pins.values() for _, f in pin.files]
    digests = index.file_digests(files)
    single = len(target.platforms) == 1
    out = []
    for name, pin in sorted(result.pins.items()):
        depends = tuple(f"python:{d}" for d in pin.depends)
        distinct = {f.url for _, f in pin.files}
        per_platform = not single and (len(distinct) > 1 or pin.platforms != frozenset(target.platforms))
        for platform, f in pin.files if per_platform else pin.files[:1]:
            sha, size = digests[f.url]
            out.append(
                LockedPackage(
                    ecosystem="python",
                    name=name,
                    version=pin.version,
                    filename=f.filename,
                    size=size,
                    sha256=sha,
                    url=f.url,
                    platform=platform if per_platform else "",
                    requires_python=f.requires_python or "",
                    depends=depends,
                    fixed=pin.fixed,
                )
            )
    return out
