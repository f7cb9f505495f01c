"""The lock file, `bundle.lock`: every pinned artifact, written by `solve`, read by `build` (DESIGN.md).

TOML, deterministic: the same inputs give the same bytes (sorted tables, sorted keys, no timestamps
but the spec's epoch). `bundler build` needs only this file and the artifacts, never the solver.

    version = 1
    [bundle]  name, suite, epoch?, spec-sha256, inputs-sha256?, roots = ["deb:nova-api:amd64", ...]
    [[index]] ecosystem, url, sha256          (a Release/InRelease or a project page digest)
    [[package]] ecosystem = "deb":    name, version, architecture, source, source-version,
                                       repository, filename, size, sha256, depends, fixed?
                ecosystem = "python": name, version, platform?, filename, url, size, sha256,
                                       requires-python, depends, fixed?
    [[source]]  name, version, repository, directory, files = ["<sha256> <size> <name>", ...]
                (Debian source packages, with `source-packages = true` in [bundle]; files as in
                the Sources index's Checksums-Sha256, relative to repository uri + directory)

`depends` lists the ids (see `LockedPackage.id`) of the members that satisfy its dependencies,
so `bundler why` and `bundler graph` work from the lock alone. `inputs-sha256` (kept among the
[bundle] keys of `Lock.extra`) seals the solve's inputs and the lock's other lines for the lock fast
path of `bundler solve` (bundler/fastpath.py); other readers ignore it.
"""

from __future__ import annotations

import json
import operator
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from repos.files import write_atomic
from solver.errors import InputError

LOCK_VERSION = 1
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _repository_uri(repository: str) -> str:
    return repository.split()[0] if repository else ""


def _component(repository: str) -> str:
    """The Debian component (last word of a `repository` "<uri> <suite> <component>"), "main" for a
    flat repository."""
    parts = repository.split()
    return parts[2] if len(parts) > 2 else "main"


@dataclass(frozen=True, slots=True)
class LockedPackage:
    """One pinned file of the lock: a Debian binary package or a Python distribution file."""

    ecosystem: str  # "deb" | "python"
    name: str
    version: str
    filename: str  # deb: relative to the repository uri; python: the file's name
    size: int
    sha256: str
    architecture: str = ""  # deb only
    source: str = ""  # deb only
    source_version: str = ""  # deb only
    repository: str = ""  # deb: "uri suite [component]"
    url: str = ""  # python: absolute URL of the file
    platform: str = ""  # python: the target platform tag this file is for ("" = any)
    requires_python: str = ""  # python only
    depends: tuple[str, ...] = ()
    fixed: bool = False  # pinned by a fix

    @property
    def id(self) -> str:
        if self.ecosystem == "deb":
            return f"deb:{self.name}:{self.architecture}"
        return f"python:{self.name}"

    @property
    def component(self) -> str:
        return _component(self.repository)

    @property
    def repository_uri(self) -> str:
        return _repository_uri(self.repository)

    def to_toml(self) -> dict[str, Any]:
        # Dict displays, not update(**...): a 10,000-package lock builds 10,000 of these on every solve.
        if self.ecosystem == "deb":
            d: dict[str, Any] = {
                "ecosystem": self.ecosystem, "name": self.name, "version": self.version,
                "architecture": self.architecture, "source": self.source,
                "source-version": self.source_version, "repository": self.repository,
            }  # fmt: skip
        else:
            d = {"ecosystem": self.ecosystem, "name": self.name, "version": self.version}
            if self.platform:
                d["platform"] = self.platform
            d["url"] = self.url
            d["requires-python"] = self.requires_python
        d["filename"] = self.filename
        d["size"] = self.size
        d["sha256"] = self.sha256
        d["depends"] = list(self.depends)
        if self.fixed:
            d["fixed"] = True
        return d

    @classmethod
    def from_toml(cls, d: dict[str, Any], where: str) -> LockedPackage:
        try:
            return cls(
                ecosystem=d["ecosystem"],
                name=d["name"],
                version=d["version"],
                filename=d["filename"],
                size=int(d["size"]),
                sha256=d["sha256"],
                architecture=d.get("architecture", ""),
                source=d.get("source", ""),
                source_version=d.get("source-version", ""),
                repository=d.get("repository", ""),
                url=d.get("url", ""),
                platform=d.get("platform", ""),
                requires_python=d.get("requires-python", ""),
                depends=tuple(d.get("depends", ())),
                fixed=bool(d.get("fixed", False)),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise InputError(f"package {d.get('name', '?')!r}: missing or bad field {e}", where=where) from None


@dataclass(frozen=True, slots=True)
class SourceFileEntry:
    """One file a Debian source package lists in its .dsc (`Checksums-Sha256`)."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class LockedSource:
    """A Debian source package: the .dsc and every file it lists, from a Sources index."""

    name: str
    version: str
    repository: str  # "uri suite [component]", as for binaries
    directory: str  # relative to the repository uri (the Sources stanza's Directory)
    files: tuple[SourceFileEntry, ...]  # sorted by name

    @property
    def id(self) -> str:
        return f"deb-source:{self.name}:{self.version}"

    @property
    def component(self) -> str:
        return _component(self.repository)

    @property
    def repository_uri(self) -> str:
        return _repository_uri(self.repository)

    def to_toml(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "repository": self.repository,
            "directory": self.directory,
            "files": [f"{f.sha256} {f.size} {f.name}" for f in sorted(self.files, key=lambda f: f.name)],
        }

    @classmethod
    def from_toml(cls, d: dict[str, Any], where: str) -> LockedSource:
        try:
            files = []
            for line in d["files"]:
                sha, size, name = line.split()
                files.append(SourceFileEntry(name, int(size), sha))
            return cls(d["name"], d["version"], d["repository"], d["directory"], tuple(files))
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise InputError(f"source {d.get('name', '?')!r}: missing or bad field {e}", where=where) from None


@dataclass(frozen=True, slots=True)
class IndexDigest:
    """The sha256 of one index the solve read (a Packages file, a Python project page)."""

    ecosystem: str
    url: str
    sha256: str


@dataclass(frozen=True, slots=True)
class Lock:
    """A lock file: the bundle, its roots, the indexes read and every pinned package."""

    name: str
    suite: str
    spec_sha256: str
    epoch: int | None
    roots: tuple[str, ...]
    indexes: tuple[IndexDigest, ...]
    packages: tuple[LockedPackage, ...]
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. python target: python-version, platforms
    sources: tuple[LockedSource, ...] = ()  # Debian source packages (source-packages = true)


def _sort_key(p: LockedPackage) -> tuple[Any, ...]:
    # Ids are unique in a real lock; the rest only makes the order total whatever the input.
    return (p.ecosystem, p.name, p.architecture, p.platform, p.version, _ByRepr(p))


class _ByRepr:
    """Orders by repr(), worked out only for the ties that need it (never, in a real lock: a repr of
    each of 10,000 packages cost a quarter of writing the lock)."""

    __slots__ = ("item",)

    def __init__(self, item: object) -> None:
        self.item = item

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ByRepr) and repr(self.item) == repr(other.item)

    def __lt__(self, other: _ByRepr) -> bool:
        return repr(self.item) < repr(other.item)

    __hash__ = None  # type: ignore[assignment]


# What a TOML basic string must escape: quote, backslash, control characters and DEL.
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\x7f]')


def _toml_value(value: Any) -> str:
    # JSON's string escapes (\", \\, \n, \uXXXX) are all valid in TOML basic strings.
    if type(value) is str:  # most values: names, versions, paths, hashes
        if not _NEEDS_ESCAPE.search(value):
            return f'"{value}"'
        # Literal UTF-8 (TOML has no surrogate pairs); DEL is the one character JSON leaves bare
        # that TOML forbids.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _toml_value(str(value))
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        if all(type(v) is str for v in value):  # `depends`: ids, one search over them all
            inner = '",\n    "'.join(value)
            if not _NEEDS_ESCAPE.search(inner):
                return f'[\n    "{inner}",\n]'
        return "[\n" + "".join(f"    {_toml_value(v)},\n" for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to the lock")


_KEYS: dict[str, str] = {}  # the same few keys, on every package


def _toml_key(key: str) -> str:
    found = _KEYS.get(key)
    if found is None:
        found = _KEYS[key] = key if _BARE_KEY.fullmatch(key) else json.dumps(key)
    return found


def dumps(lock: Lock) -> str:
    """The lock's text. Written by hand rather than with a generic TOML writer because a lock of a
    thousand packages is written on every solve; `loads` (tomllib) reads it back, and the tests
    check that the round trip is exact."""
    bundle: dict[str, Any] = {"name": lock.name, "suite": lock.suite, "spec-sha256": lock.spec_sha256}
    if lock.epoch is not None:
        bundle["epoch"] = lock.epoch
    bundle["roots"] = sorted(lock.roots)
    for k in sorted(lock.extra):
        bundle[k] = lock.extra[k]
    out = [
        "# bundle.lock: written by `bundler solve`; `bundler build` reads it. Do not edit.\n",
        f"version = {LOCK_VERSION}\n",
        "\n[bundle]\n",
    ]
    out.extend(f"{_toml_key(k)} = {_toml_value(v)}\n" for k, v in bundle.items())
    out.append(_tables(lock))
    return "".join(out)


# The last lock's tables ([[index]], [[package]], [[source]]) and the tuples they were made from: a
# solve writes its lock twice, once to seal it (bundler/fastpath.py `stamp`: the seal covers the
# lock's text) and once to the file, with only [bundle] differing; the tables, nearly all the text
# (0.2 s for a 10,000-package lock), are made once. Held by identity, so never confused.
_last_tables: tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...], str] | None = None


_DEPENDS_SEP = '",\n    "'


class _Shape:
    """How to write the `[[package]]` tables whose `to_toml` has these keys (in this order), with or
    without depends: one format string (filled by key, `format_map`) and a getter of the values that
    must be strings."""

    __slots__ = ("fmt", "strings")

    def __init__(self, keys: tuple[str, ...], depends: bool) -> None:
        lines = ["\n[[package]]\n"]
        strings = []
        for k in keys:
            if k == "depends":
                lines.append('depends = [\n    "{depends}",\n]\n' if depends else "depends = []\n")
            elif k == "fixed":
                lines.append("fixed = true\n")  # to_toml has the key only when it is true
            elif k == "size":
                lines.append("size = {size}\n")
            else:
                lines.append(f'{_toml_key(k)} = "{{{k}}}"\n')
                strings.append(k)
        self.fmt = "".join(lines)
        self.strings = operator.itemgetter(*strings)


_SHAPES: dict[tuple[tuple[str, ...], bool], _Shape] = {}


def _package_table(p: LockedPackage) -> str:
    """One `[[package]]` table, from `to_toml` (the one place its layout is written). Its keys are
    bare, and its strings need no escape in real indexes: one search over all of them, then the
    table is one format string of its shape (which keys, depends or none), the shape's made once; a
    package with anything to escape, or a value of an unexpected type, goes through `_toml_value`
    value by value. (The 9,890 tables of 2,000 random roots: 128 ms line by line, 77-110 ms by shape.)"""
    d = p.to_toml()
    depends = d["depends"]
    key = (tuple(d), bool(depends))
    shape = _SHAPES.get(key)
    if shape is None:
        shape = _SHAPES[key] = _Shape(*key)
    try:  # (join raises TypeError on anything but str)
        joined = _DEPENDS_SEP.join(depends)
        text = "".join(shape.strings(d)) + "".join(depends)
    except TypeError:
        text = None
    if text is not None and type(d["size"]) is int and not _NEEDS_ESCAPE.search(text):
        d["depends"] = joined
        return shape.fmt.format_map(d)
    return "\n[[package]]\n" + "".join(f"{_toml_key(k)} = {_toml_value(v)}\n" for k, v in d.items())


def _tables(lock: Lock) -> str:
    global _last_tables
    last = _last_tables
    if last is not None and last[0] is lock.indexes and last[1] is lock.packages and last[2] is lock.sources:
        return last[3]
    out: list[str] = []
    for i in sorted(set(lock.indexes), key=lambda i: (i.ecosystem, i.url)):
        out.append("\n[[index]]\n")
        out.append(f"ecosystem = {_toml_value(i.ecosystem)}\nurl = {_toml_value(i.url)}\n")
        out.append(f"sha256 = {_toml_value(i.sha256)}\n")
    for p in sorted(lock.packages, key=_sort_key):
        out.append(_package_table(p))
    for s in sorted(set(lock.sources), key=lambda s: (s.name, s.version, s.repository)):
        out.append("\n[[source]]\n")
        out.extend(f"{_toml_key(k)} = {_toml_value(v)}\n" for k, v in s.to_toml().items())
    text = "".join(out)
    if all(type(t) is tuple for t in (lock.indexes, lock.packages, lock.sources)):  # of frozen items
        _last_tables = (lock.indexes, lock.packages, lock.sources, text)
    return text


def parse_own_toml(text: str) -> dict[str, Any] | None:
    """The document `dumps` writes, read without a general TOML parser, or None if `text` is not
    exactly that shape (then tomllib reads it). `dumps` writes only `key = <JSON scalar>` lines, lists
    of JSON scalars one a line, `[bundle]`, `[[index]]`, `[[package]]` and `[[source]]`; tomllib takes 0.3 s on a
    thousand-package lock, this a tenth of that. tests/test_lock.py checks the two agree."""
    doc: dict[str, Any] = {}
    table = doc
    lines = text.split("\n")
    i, n = 0, len(lines)
    try:
        while i < n:
            line = lines[i]
            i += 1
            if not line or line[0] == "#":
                continue
            if line[0] == "[":
                if line.startswith("[[") and line.endswith("]]"):
                    table = {}
                    doc.setdefault(line[2:-2], []).append(table)
                elif line.endswith("]"):
                    table = doc.setdefault(line[1:-1], {})
                else:
                    return None
                continue
            key, sep, value = line.partition(" = ")
            if not sep:
                return None
            if key[0] == '"':
                key = json.loads(key)
            elif not _BARE_KEY.fullmatch(key):
                return None
            if value == "[":
                items = []
                while lines[i] != "]":
                    item = lines[i]
                    if not (item.startswith("    ") and item.endswith(",")):
                        return None
                    items.append(_scalar(item[4:-1]))
                    i += 1
                i += 1
                table[key] = items
            elif value == "[]":
                table[key] = []
            else:
                table[key] = _scalar(value)
    except (ValueError, IndexError):
        return None
    return doc


def _scalar(text: str) -> Any:
    # A string with nothing to escape (no quote, backslash or control character: what `_toml_value`
    # writes bare) is what lies between its quotes: most values of a lock, read without the JSON
    # decoder, which takes twice as long.
    if len(text) > 1 and text[0] == '"' == text[-1] and not _NEEDS_ESCAPE.search(text, 1, len(text) - 1):
        return text[1:-1]
    return json.loads(text)


def loads(text: str, where: str = "bundle.lock") -> Lock:
    doc = parse_own_toml(text)
    if doc is None:
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise InputError(f"not a valid lock file: {e}", where=where) from None
    if doc.get("version") != LOCK_VERSION:
        raise InputError(f"unsupported lock version {doc.get('version')!r}", where=where)
    b = dict(doc.get("bundle", {}))
    try:
        name, suite, spec_sha = b.pop("name"), b.pop("suite"), b.pop("spec-sha256")
    except KeyError as e:
        raise InputError(f"[bundle] lacks {e}", where=where) from None
    epoch = b.pop("epoch", None)
    roots = tuple(b.pop("roots", ()))
    return Lock(
        name=name,
        suite=suite,
        spec_sha256=spec_sha,
        epoch=epoch,
        roots=roots,
        indexes=tuple(IndexDigest(i["ecosystem"], i["url"], i["sha256"]) for i in doc.get("index", ())),
        packages=tuple(LockedPackage.from_toml(p, where) for p in doc.get("package", ())),
        extra=b,
        sources=tuple(LockedSource.from_toml(s, where) for s in doc.get("source", ())),
    )


def read_lock(path: Path) -> Lock:
    try:
        text = path.read_text("utf-8")
    except OSError as e:
        raise InputError(f"cannot read lock: {e.strerror}", where=str(path)) from None
    return loads(text, str(path))


def write_lock(path: Path, lock: Lock) -> None:
    write_atomic(path, dumps(lock))


_PINNED = re.compile(
    r'^\[\[package\]\]\necosystem = "(deb|python)"\nname = "([^"\\]+)"\nversion = "([^"\\]+)"\n'
    r'(?:architecture = "([^"\\]+)"\n)?',
    re.MULTILINE,
)


def pinned_versions(text: str, where: str = "bundle.lock") -> list[tuple[str, str, str, str]]:
    """(ecosystem, name, version, architecture) of every package of a lock, for re-solving.

    A re-solve only needs these four fields, and reading them with one regular expression over the
    text `dumps` writes is twenty times faster than a TOML parse of a thousand tables; any lock that
    does not look exactly like `dumps` output (edited by hand, say) is read with tomllib instead.
    """
    found = [(m[1], m[2], m[3], m[4] or "") for m in _PINNED.finditer(text)]
    if len(found) == text.count("\n[[package]]\n"):
        return found
    return [(p.ecosystem, p.name, p.version, p.architecture) for p in loads(text, where).packages]
