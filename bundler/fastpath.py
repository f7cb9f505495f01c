"""The up-to-date lock fast path of `bundler solve`: verify the existing lock in O(pins) and stop.

Like uv's lock check (`uv lock --check`), a re-solve whose inputs and indexes are unchanged keeps the
lock as it is instead of resolving again. A re-solve prefers the lock's own versions (minimal change),
so with the same inputs and the same pages of every locked project (the same Releases, for Debian)
each preferred version is still there and still consistent, and the resolver returns the lock itself.

What a lock records, in `[bundle] inputs-sha256` (bundler/lock.py): sha256 of

  * the inputs' fingerprint: the format; bundler's solver (the digest of the sources of solver/,
    repos/ and bundler/, and of resolvelib and packaging); the spec's bytes and the
    command-line settings that change it (--closure, --source-packages); every file the spec pulls in
    (requirements and constraints files with their -r/-c includes and the environment variables they
    name, the audit databases); the Python sources (the spec's or pip's configuration's indexes,
    find-links listings, CA bundle) and the Debian sources (the spec's or the host's, the target
    architectures);
  * then the lock's own text without that line: a lock edited by hand no longer matches.

An unchanged re-solve then needs (`check`):

  1. the spec parsed, the inputs fingerprinted again, the lock read and its digest recomputed;
  2. cheap consistency of the lock: every `depends` id and root is a locked package, no id twice;
  3. the indexes now: each Debian suite's InRelease/Release (fetched, or cached with --offline, and
     verified, as a load does: repos/deb/load.py `release_digests`) has the sha256 the lock records;
     the pages of every locked Python project (repos/pypi/fresh.py) are those the lock records.
     Online, a Python page past its HTTP max-age would be revalidated by a solve: no fast path then.

Nothing here imports the resolvers, networkx or packaging, nor parses a Packages index or METADATA.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bundler.lock import Lock, dumps, loads
from bundler.spec import Spec
from solver.errors import BundlerError, InputError

FORMAT = "bundler inputs 1"
FIELD = "inputs-sha256"
_FIELD_LINE = re.compile(rf'^{FIELD} = "([0-9a-f]{{64}})"\n', re.MULTILINE)
# pip requirements-file includes (-r/-c, long forms, "=" or a space), after continuation lines are joined
_INCLUDE = re.compile(r"^[ \t]*(?:-r|--requirement|-c|--constraint)(?:[ \t]*=[ \t]*|[ \t]+|(?=[^ \t-]))(\S+)",
                      re.MULTILINE)
_ENV = re.compile(r"\$\{([A-Z0-9_]+)\}")
_solver_digest: str | None = None


@dataclass(frozen=True, slots=True)
class Inputs:
    """The fingerprint of a solve's inputs (`digest` None: some input cannot be told without loading
    the indexes, `why` says which) and the sources they name, for the index check."""

    digest: str | None
    why: str = ""
    deb_sources: tuple[Any, ...] = ()  # repos.deb.sources.AptSource
    py_indexes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    """The fast path's answer: the lock, up to date, or why not (`reason`)."""

    lock: Lock | None
    reason: str = ""
    seconds: float = 0.0
    inputs: Inputs | None = None  # when fingerprinted: a full solve then stamps its lock with them


def solver_digest(cache_dir: Path | None = None) -> str:
    """sha256 of bundler's solving code and of the libraries it resolves with (their sources: asking
    importlib.metadata for versions costs more than reading them): a new bundler, even an edited
    checkout, must not trust a lock an older one wrote.

    Hashing ~150 files costs ~10 ms, most of an up-to-date solve's own work; with `cache_dir` the
    digest is kept under `<cache_dir>/solver-digests/`, named by a key of every file's path, size,
    mtime, ctime and inode (`_source_files`), so a run that finds all of them as they were reads it
    back (~1 ms). A write to a file changes its ctime, which no tool can set back; a digest worked out
    while a file was modified within the last `_RACY` seconds is not kept, lest a second write in the
    same clock tick go unseen (git's "racily clean" index entries)."""
    global _solver_digest
    if _solver_digest is None:
        import bundler

        head = f"bundler {bundler.__version__}\n"
        roots = _roots()
        files = _source_files(roots)
        key = None
        if cache_dir is not None:
            stats = [(top, rel, st and (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
                     for top, rel, _, st in files]  # fmt: skip
            key = hashlib.sha256(repr((_DIGEST_FORMAT, head, roots, stats)).encode()).hexdigest()[:40]
            kept = _kept_digest(cache_dir, key)
            if kept is not None:
                _solver_digest = kept
                return kept
        h = hashlib.sha256(head.encode())
        last = 0
        for top, rel, path, st in files:
            if path is None:
                h.update(f"{top} -\n".encode())
                continue
            h.update(f"{top}/{rel}\0".encode())
            with open(path, "rb") as f:
                h.update(hashlib.sha256(f.read()).digest())
            last = max(last, st.st_mtime_ns, st.st_ctime_ns)
        _solver_digest = h.hexdigest()
        if cache_dir is not None and key is not None and time.time_ns() - last > _RACY * 1_000_000_000:
            _keep_digest(cache_dir, key, _solver_digest)
    return _solver_digest


_DIGEST_FORMAT = "bundler solver digest 1"
_DIGESTS_KEPT = 16  # one per checkout or installed version that shares the cache
_RACY = 2  # seconds: a file modified this recently may be modified again within the same mtime tick
_TOPS = ("solver", "repos", "bundler", "resolvelib", "packaging")
_SUFFIXES = (".py", ".c", ".so", ".json")


def _roots() -> list[str | None]:
    """The directory of each of `_TOPS` (None: not installed), found, not imported."""
    import importlib.util

    out: list[str | None] = []
    for top in _TOPS:
        found = importlib.util.find_spec(top)
        if found is None or not found.submodule_search_locations:
            out.append(None)
        else:
            out.append(next(iter(found.submodule_search_locations)))
    return out


def _source_files(roots: list[str | None]) -> list[tuple[str, str, str | None, Any]]:
    """(top, path relative to its package, path, os.stat_result) of each source `solver_digest` hashes,
    in the order it hashes them: packages in `_TOPS` order, each walked as `keptfiles.source_files`
    does; a package not installed is one entry with path None."""
    from bundler.keptfiles import source_files

    out: list[tuple[str, str, str | None, Any]] = []
    for top, root in zip(_TOPS, roots, strict=True):
        if root is None:
            out.append((top, "", None, None))
        else:
            out += [(top, rel, path, st) for rel, path, st in source_files(root, _SUFFIXES)]
    return out


def _digest_directory(cache_dir: Path) -> Path:
    return cache_dir / "solver-digests"


def _kept_digest(cache_dir: Path, key: str) -> str | None:
    from bundler.keptfiles import read

    text = read(_digest_directory(cache_dir), key)
    return text if text is not None and re.fullmatch(r"[0-9a-f]{64}", text) else None


def _keep_digest(cache_dir: Path, key: str, digest: str) -> None:
    from bundler.keptfiles import keep

    keep(_digest_directory(cache_dir), key, digest, newest=_DIGESTS_KEPT)


def _file_line(label: str, path: Path) -> str:
    try:
        return f"{label} {hashlib.sha256(path.read_bytes()).hexdigest()}"
    except OSError as e:
        return f"{label} unreadable {e.errno}"


def _requirements(path: Path, label: str, lines: list[str], seen: set[Path]) -> None:
    """A requirements file and what it includes, as bundler.python_solve reads them."""
    real = path.resolve()
    if real in seen:
        return
    seen.add(real)
    lines.append(_file_line(f"requirements {label}", path))
    try:
        text = path.read_text("utf-8", errors="replace").replace("\\\n", "")
    except OSError:
        return
    for var in sorted(set(_ENV.findall(text))):
        lines.append(f"env {var} {os.environ.get(var)!r}")
    for m in _INCLUDE.finditer(text):
        name = m[1].strip("'\"")
        _requirements(path.parent / name, f"{label} -> {name}", lines, seen)


def _audit_lines(paths: tuple[Path, ...], lines: list[str]) -> None:
    """The advisory databases: a file's bytes; a directory's files by name, size and mtime (an OSV
    export holds tens of thousands: hashing them would cost what the fast path saves)."""
    for p in paths:
        if p.is_dir():
            for dirpath, dirs, files in os.walk(p):
                dirs.sort()
                for name in sorted(files):
                    st = os.stat(os.path.join(dirpath, name))
                    lines.append(f"audit {p.name} {os.path.relpath(os.path.join(dirpath, name), p)} "
                                 f"{st.st_size} {st.st_mtime_ns}")
        else:
            lines.append(_file_line(f"audit {p.name}", p))


def inputs(spec: Spec, *, cache_dir: Path, offline: bool) -> Inputs:
    """Fingerprint what a solve of `spec` reads besides the indexes (the module docstring lists it)."""
    lines = [FORMAT, f"solver {solver_digest(cache_dir)}", f"spec {spec.sha256}"]
    deb_sources: tuple[Any, ...] = ()
    py_indexes: tuple[str, ...] = ()
    if spec.debian is not None:
        from bundler.pipeline import _apt_sources, _debian_architectures

        d = spec.debian
        srcs = _apt_sources(d)
        deb_sources = tuple(srcs)
        lines.append(f"debian closure={d.closure} source-packages={d.source_packages}")
        lines.append(f"debian architectures {_debian_architectures(d, srcs)}")
        lines.extend(f"debian source {s!r}" for s in srcs)
    if spec.python is not None:
        from bundler.pysources import python_sources
        from repos.pypi.fresh import find_links_state, is_local, local_path

        p = spec.python
        indexes, find_links, cert, _notes = python_sources(p)
        py_indexes = tuple(indexes)
        # a local find-links path is relative to the spec as named on the command line: made absolute,
        # `solve bundle.toml` and `solve /abs/bundle.toml` agree (the lock has the files' absolute URLs)
        find_links = [str(local_path(f).resolve()) if is_local(f) else f for f in find_links]
        lines.append(f"python indexes {indexes} find-links {find_links} cert {cert!r}")
        seen: set[Path] = set()
        for label, name in (("requirements-file", p.requirements_file), ("constraints-file", p.constraints_file)):
            if name:
                _requirements(p.base_dir / name, f"{label} {name}", lines, seen)
        listed = find_links_state(find_links, cache_dir=cache_dir, offline=offline)
        if listed is None:
            return Inputs(None, "a find-links page would be fetched again")
        lines.extend(f"find-links {x}" for x in listed)
    if spec.audit is not None:
        _audit_lines(spec.audit.db, lines)
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    return Inputs(digest, deb_sources=deb_sources, py_indexes=py_indexes)


def _seal(fingerprint: str, body: str) -> str:
    # sha256 of "fingerprint\nbody", fed in two parts: a 10,000-package lock is 5.7 MB of text, and
    # joining first would copy it once more (and fault in the memory for it)
    h = hashlib.sha256(f"{fingerprint}\n".encode())
    h.update(body.encode())
    return h.hexdigest()


def stamp(lock: Lock, fingerprint: str | None) -> Lock:
    """`lock` with its `inputs-sha256` (none when the inputs could not be fingerprinted)."""
    extra = {k: v for k, v in lock.extra.items() if k != FIELD}
    bare = replace(lock, extra=extra)
    if fingerprint is None:
        return bare
    return replace(lock, extra={**extra, FIELD: _seal(fingerprint, dumps(bare))})


def check(spec: Spec, lock_path: Path, *, cache_dir: Path, offline: bool) -> Outcome:
    """The lock at `lock_path`, if a solve of `spec` would write it again byte for byte; else why not."""
    started = time.perf_counter()
    found: list[Inputs] = []
    try:
        lock, reason = _check(spec, lock_path, cache_dir=cache_dir, offline=offline, found=found)
    except (BundlerError, OSError) as e:  # an index that cannot be read, say: the solve reports it properly
        lock, reason = None, str(e)
    return Outcome(lock, reason, time.perf_counter() - started, found[0] if found else None)


def _check(
    spec: Spec, lock_path: Path, *, cache_dir: Path, offline: bool, found: list[Inputs]
) -> tuple[Lock | None, str]:
    try:
        text = lock_path.read_text("utf-8")
    except FileNotFoundError:
        return None, "no lock yet"
    except (OSError, UnicodeDecodeError) as e:
        return None, f"the lock cannot be read ({e})"
    m = _FIELD_LINE.search(text)
    if m is None:
        return None, f"the lock has no {FIELD}"
    try:
        lock = loads(text, str(lock_path))
    except InputError as e:
        return None, f"the lock does not parse ({e.message})"
    fingerprint = inputs(spec, cache_dir=cache_dir, offline=offline)
    found.append(fingerprint)
    if lock.spec_sha256 != spec.sha256:
        return None, "the spec changed"
    if fingerprint.digest is None:
        return None, fingerprint.why
    if _seal(fingerprint.digest, text[: m.start()] + text[m.end() :]) != m[1]:
        return None, "a file the spec names, a setting, bundler itself or the lock changed"
    problem = _inconsistency(lock)
    if problem:
        return None, problem
    deb = {(i.url, i.sha256) for i in lock.indexes if i.ecosystem == "deb"}
    if spec.debian is not None:
        from repos.deb.load import release_digests

        now = set(release_digests(fingerprint.deb_sources, cache_dir=cache_dir, offline=offline))
        if now != deb:
            return None, "a Debian index changed"
    elif deb:
        return None, "the lock has Debian indexes the spec does not"
    py = {(i.url, i.sha256) for i in lock.indexes if i.ecosystem == "python"}
    if spec.python is not None:
        from repos.pypi.fresh import page_digests

        names = sorted({p.name for p in lock.packages if p.ecosystem == "python"})
        pages = page_digests(fingerprint.py_indexes, names, cache_dir=cache_dir, offline=offline,
                             strategy=spec.python.index_strategy, supplying=py)
        if pages is None:
            why = "a Python project page changed" if offline else "a Python project page changed or is due for revalidation"
            return None, why
        if pages != py:
            return None, "the lock's Python index pages are not those of its projects"
    elif py:
        return None, "the lock has Python indexes the spec does not"
    return lock, ""


def _inconsistency(lock: Lock) -> str:
    """What makes `lock` one that no solve writes, in one pass over its packages ("" if nothing)."""
    ids: set[str] = set()
    for p in lock.packages:
        if p.ecosystem == "deb":
            if p.id in ids:
                return f"{p.id} is locked twice"
        elif p.ecosystem != "python":
            return f"{p.name} has an unknown ecosystem {p.ecosystem!r}"
        ids.add(p.id)
    for p in lock.packages:
        for d in p.depends:
            if d not in ids:
                return f"{p.id} depends on {d}, which is not locked"
    for r in lock.roots:
        if r not in ids:
            return f"root {r} is not locked"
    return ""


def up_to_date_report(spec: Spec, lock: Lock, *, strict: bool, seconds: float) -> Any:
    """The `bundler.pipeline.SolveReport` of a solve the fast path answered: the lock as it is, the
    cross-ecosystem warnings a solve gives (with --strict, its error), nothing resolved."""
    from bundler.pipeline import SolveReport, cross_warnings

    try:
        found = cross_warnings(lock, strict)
    except InputError as e:
        e.where = f"{spec.path}: {e.where}"
        raise
    return SolveReport(lock=lock, timings={"fast-path": seconds}, warnings=found, up_to_date=True)
