"""The bundle spec, `bundle.toml`: what a release engineer writes (DESIGN.md, "The pipeline").

Unknown keys are errors (a typo must not silently drop a veto); every error names the file and the
key path at fault.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from solver.errors import InputError
from solver.veto import Veto  # the one veto type (re-exported: the spec's vetoes are these)


@dataclass(frozen=True, slots=True)
class DependencyMetadata:
    """Requirements stated for a Python release (all versions when `version` is None)."""

    name: str
    version: str | None
    requires_dist: tuple[str, ...]
    requires_python: str | None = None


@dataclass(frozen=True, slots=True)
class DebPin:
    """An apt preferences record (apt_preferences(5)): `package` ("*", a name, glob or /regex/),
    `release` (apt's selector, e.g. "a=bookworm-backports") or `version` ("1.2*"), and `priority`."""

    package: str
    release: str | None
    version: str | None
    priority: int


@dataclass(frozen=True, slots=True)
class DebSource:
    """A `[[debian.sources]]` entry: one repository, as a deb822 sources file names it."""

    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]  # empty for a flat repository (suite is then a path such as "./")
    architectures: tuple[str, ...]
    signed_by: str | None = None
    check_valid_until: bool = True
    trusted: bool = False


@dataclass(frozen=True, slots=True)
class DebSpec:
    """The `[debian]` section: where packages come from, what is required, fixed and vetoed."""

    sources: tuple[DebSource, ...]  # empty: the host's apt sources
    require: tuple[str, ...]
    fix: tuple[str, ...]
    veto: tuple[Veto, ...]
    recommends: bool = False
    base: bool = False
    closure: str = "install"  # "install" | "mirror"
    architectures: tuple[str, ...] = ()  # target archs, native first; default: the sources' or the host's
    pins: tuple[DebPin, ...] = ()
    source_packages: bool = False  # also lock and ship every binary's source package (.dsc and its files)


@dataclass(frozen=True, slots=True)
class PythonSpec:
    """The `[python]` section: the indexes, the target interpreter and platforms, the requirements."""

    indexes: tuple[str, ...] | None  # None: the host's pip configuration
    find_links: tuple[str, ...]
    python_version: str
    platforms: tuple[str, ...]
    require: tuple[str, ...]
    requirements_file: str | None
    constraints: tuple[str, ...]
    constraints_file: str | None
    fix: tuple[str, ...]
    veto: tuple[Veto, ...]
    index_strategy: str = "first-index"  # "first-index" | "best-match"
    # Trust the egg-info requirements of an sdist whose PKG-INFO is not static metadata (PEP 643)
    # instead of skipping such sdist-only releases; no code is run either way.
    legacy_sdists: bool = False
    # Refuse to lock sdists (the target would have to build them, and their build requirements are
    # not part of the solve): an sdist in the answer is an error naming the project.
    wheels_only: bool = False
    # Requirements stated for releases whose own metadata cannot be trusted or read without a build.
    dependency_metadata: tuple[DependencyMetadata, ...] = ()
    base_dir: Path = field(default_factory=Path)  # relative paths in this section are relative to the spec


@dataclass(frozen=True, slots=True)
class AuditSpec:
    """[audit]: advisory files (OSV, Debian security tracker JSON) and what the solve vetoes by them."""

    db: tuple[Path, ...]  # resolved against the spec's directory
    veto: str = "fixed-available"  # "fixed-available" | "all" | "none" (bundler.audit.VETO_MODES)
    release: str | None = None  # the Debian release codename; default: from each package's suite


@dataclass(frozen=True, slots=True)
class Spec:
    """A bundle spec as loaded: its file, digest and sections (`load_spec`)."""

    path: Path
    sha256: str
    name: str
    suite: str
    epoch: int | None
    debian: DebSpec | None
    python: PythonSpec | None
    audit: AuditSpec | None = None


def _fail(path: Path, key: str, message: str) -> InputError:
    return InputError(f"{key}: {message}", where=str(path))


class _Table:
    """A TOML table read key by key; `done()` rejects whatever was not read."""

    def __init__(self, path: Path, prefix: str, data: Any) -> None:
        if not isinstance(data, dict):
            raise _fail(path, prefix, "must be a table")
        self.path, self.prefix, self.data = path, prefix, data
        self.seen: set[str] = set()

    def _key(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        self.seen.add(key)
        if key not in self.data:
            return default
        value = self.data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise _fail(self.path, self._key(key), f"must be a {names}, not {type(value).__name__}")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.get(key, list, [])
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise _fail(self.path, f"{self._key(key)}[{i}]", "must be a string")
        return tuple(value)

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            raise _fail(self.path, self._key(unknown[0]), "unknown key")


def _vetoes(path: Path, prefix: str, items: list[Any]) -> tuple[Veto, ...]:
    out = []
    for i, item in enumerate(items):
        t = _Table(path, f"{prefix}.veto[{i}]", item)
        package = t.get("package", str)
        if not package:
            raise _fail(path, f"{prefix}.veto[{i}].package", "is required")
        veto = Veto(package, t.get("version", str), t.get("reason", str, "vetoed"))
        t.done()
        out.append(veto)
    return tuple(out)


def _pins(path: Path, items: list[Any]) -> tuple[DebPin, ...]:
    from solver.deb.priorities import parse_pin

    out = []
    for i, item in enumerate(items):
        key = f"debian.pin[{i}]"
        t = _Table(path, key, item)
        package = t.get("package", str)
        if package is None:
            raise _fail(path, f"{key}.package", "is required")
        priority = t.get("priority", int)
        if priority is None:
            raise _fail(path, f"{key}.priority", "is required")
        pin = DebPin(package, t.get("release", str), t.get("version", str), priority)
        t.done()
        try:
            parse_pin(pin.package, pin.release, pin.version, pin.priority)
        except InputError as e:
            raise _fail(path, key, e.message) from None
        out.append(pin)
    return tuple(out)


def _debian(path: Path, data: Any) -> DebSpec:
    t = _Table(path, "debian", data)
    sources = []
    for i, raw in enumerate(t.get("sources", list, [])):
        s = _Table(path, f"debian.sources[{i}]", raw)
        uri = s.get("uri", str)
        if not uri:
            raise _fail(path, f"debian.sources[{i}].uri", "is required")
        if "://" not in uri and not uri.startswith("file:"):
            # A plain path is relative to the spec, so an example can ship its own repository.
            uri = (path.parent / uri).resolve().as_uri()
        suites = s.strings("suites")
        if not suites:
            raise _fail(path, f"debian.sources[{i}].suites", "is required")
        source = DebSource(
            uri=uri,
            suites=suites,
            components=s.strings("components"),
            architectures=s.strings("architectures"),
            signed_by=s.get("signed-by", str),
            check_valid_until=s.get("check-valid-until", bool, True),
            trusted=s.get("trusted", bool, False),
        )
        s.done()
        sources.append(source)
    closure = t.get("closure", str, "install")
    if closure not in ("install", "mirror"):
        raise _fail(path, "debian.closure", f"must be 'install' or 'mirror', not {closure!r}")
    spec = DebSpec(
        sources=tuple(sources),
        require=t.strings("require"),
        fix=t.strings("fix"),
        veto=_vetoes(path, "debian", t.get("veto", list, [])),
        recommends=t.get("recommends", bool, False),
        base=t.get("base", bool, False),
        closure=closure,
        architectures=t.strings("architectures"),
        pins=_pins(path, t.get("pin", list, [])),
        source_packages=t.get("source-packages", bool, False),
    )
    t.done()
    return spec


def _dependency_metadata(path: Path, items: list[Any]) -> tuple[DependencyMetadata, ...]:
    if not items:
        return ()
    # packaging is imported here: a spec without dependency metadata should not pay for it.
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.version import InvalidVersion, Version

    out = []
    for i, item in enumerate(items):
        key = f"python.dependency-metadata[{i}]"
        t = _Table(path, key, item)
        name = t.get("name", str)
        if not name:
            raise _fail(path, f"{key}.name", "is required")
        requires = t.strings("requires-dist")
        for j, req in enumerate(requires):
            try:
                Requirement(req)
            except InvalidRequirement as e:
                raise _fail(path, f"{key}.requires-dist[{j}]", f"bad requirement {req!r}: {e}") from None
        version = t.get("version", str)
        if version is not None:
            try:
                Version(version)
            except InvalidVersion:
                raise _fail(path, f"{key}.version", f"invalid version {version!r}") from None
        out.append(DependencyMetadata(name, version, requires, t.get("requires-python", str)))
        t.done()
    return tuple(out)


def _python(path: Path, data: Any) -> PythonSpec:
    t = _Table(path, "python", data)
    indexes = t.strings("indexes") if "indexes" in t.data else None
    strategy = t.get("index-strategy", str, "first-index")
    if strategy not in ("first-index", "best-match"):
        raise _fail(path, "python.index-strategy", f"must be 'first-index' or 'best-match', not {strategy!r}")
    spec = PythonSpec(
        indexes=indexes,
        find_links=t.strings("find-links"),
        python_version=t.get("python-version", str, "3.11"),
        platforms=t.strings("platforms") or ("manylinux_2_28_x86_64",),
        require=t.strings("require"),
        requirements_file=t.get("requirements-file", str),
        constraints=t.strings("constraints"),
        constraints_file=t.get("constraints-file", str),
        fix=t.strings("fix"),
        veto=_vetoes(path, "python", t.get("veto", list, [])),
        index_strategy=strategy,
        legacy_sdists=t.get("legacy-sdists", bool, False),
        wheels_only=t.get("wheels-only", bool, False),
        dependency_metadata=_dependency_metadata(path, t.get("dependency-metadata", list, [])),
        base_dir=path.parent,
    )
    t.done()
    return spec


def _audit(path: Path, data: Any) -> AuditSpec:
    t = _Table(path, "audit", data)
    db = t.strings("db")
    if not db:
        raise _fail(path, "audit.db", "is required (advisory files, directories or zips)")
    veto = t.get("veto", str, "fixed-available")
    if veto not in ("fixed-available", "all", "none"):
        raise _fail(path, "audit.veto", f"must be 'fixed-available', 'all' or 'none', not {veto!r}")
    spec = AuditSpec(tuple(path.parent / d for d in db), veto, t.get("release", str))
    t.done()
    return spec


def load_spec(path: Path) -> Spec:
    """Read and validate a spec; raises InputError naming the file (and line, for TOML syntax)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read spec: {e.strerror}", where=str(path)) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"not valid TOML: {e}", where=str(path)) from None
    top = _Table(path, "", data)
    b = _Table(path, "bundle", top.get("bundle", dict, {}))
    name = b.get("name", str, path.parent.name or "bundle")
    suite = b.get("suite", str, name)
    epoch = b.get("epoch", (int, str))
    b.done()
    if isinstance(epoch, str):
        epoch = _parse_epoch(path, epoch)
    debian = _debian(path, top.data["debian"]) if "debian" in top.data else None
    python = _python(path, top.data["python"]) if "python" in top.data else None
    audit = _audit(path, top.data["audit"]) if "audit" in top.data else None
    top.seen.update({"debian", "python", "audit"})
    top.done()
    if debian is None and python is None:
        raise InputError("the spec has neither a [debian] nor a [python] section", where=str(path))
    return Spec(path, hashlib.sha256(raw).hexdigest(), name, suite, epoch, debian, python, audit)


def _parse_epoch(path: Path, text: str) -> int:
    from datetime import UTC, datetime

    try:
        if text.isdigit():
            return int(text)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(path, "bundle.epoch", f"must be seconds or an ISO 8601 date, not {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())
