"""Security advisories read from local files: OSV records and the Debian security tracker's JSON.

Two formats, each read as its publisher writes it:

- **OSV** (the Open Source Vulnerability schema, ossf.github.io/osv-schema): one JSON object per
  advisory, `id`, `aliases`, `withdrawn`, `affected[]` with `package{ecosystem, name}`,
  `ranges[]{type: ECOSYSTEM|SEMVER|GIT, events[{introduced|fixed|last_affected|limit}]}` and
  `versions[]`. Read from one .json file, a directory of them, or a .zip such as OSV's per-ecosystem
  `all.zip`. Only `PyPI` packages are kept (names normalised per PEP 503); GIT ranges name commits,
  not versions, so they are skipped (OSV lists the versions they cover in `versions[]`).
- **The Debian security tracker's JSON export** (security-tracker `bin/tracker_service.py`,
  `_get_json`): `{source package: {CVE/TEMP id: {description, scope, debianbug, releases: {codename:
  {status: resolved|open|undetermined, repositories, fixed_version, urgency, nodsa, ...}}}}}`.
  Keyed by SOURCE package and by release codename. `resolved` with `fixed_version` "0" means the
  release never had the flaw; `resolved` with a version: affected below it; `open` and
  `undetermined`: every version of the release is affected (no fix yet, or not yet known).

Both become `Advisory` records with OSV-style ranges, evaluated as the OSV schema's "Evaluation"
section says, with the ecosystem's version order (PEP 440 for PyPI, dpkg's for Debian). A file that is
neither format, or an entry with a field of the wrong shape, is one `InputError` naming the file and
the entry.
"""

from __future__ import annotations

import json
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from solver.errors import InputError

PYTHON = "python"
DEB = "deb"
_EVENTS = ("introduced", "fixed", "last_affected", "limit")
_TRACKER_STATUSES = ("resolved", "open", "undetermined")


@dataclass(frozen=True, slots=True)
class Range:
    """One OSV range: its events in the record's words, e.g. (("introduced", "0"), ("fixed", "1.2"))."""

    events: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Advisory:
    """What one advisory says about one package of one ecosystem."""

    id: str
    aliases: tuple[str, ...]
    ecosystem: str  # PYTHON | DEB
    package: str  # python: PEP 503 name; deb: SOURCE package name
    ranges: tuple[Range, ...]
    versions: tuple[str, ...]  # explicitly affected versions
    release: str | None = None  # deb: the release codename the entry is about
    status: str = ""  # deb: the tracker's status for that release
    where: str = ""  # file (and member) it was read from, for messages

    @property
    def label(self) -> str:
        """"CVE-2023-5363" or "PYSEC-2020-96 (CVE-2020-1747, GHSA-…)": how a veto reason names it."""
        return f"{self.id} ({', '.join(self.aliases)})" if self.aliases else self.id


# ---- version orders ---------------------------------------------------------------------------------
Compare = Callable[[str, str], int]


@lru_cache(maxsize=65536)
def _pep440(text: str) -> Any:
    from packaging.version import Version

    return Version(text)


def _compare_pep440(a: str, b: str) -> int:
    va, vb = _pep440(a), _pep440(b)
    return (va > vb) - (va < vb)


def _compare_deb(a: str, b: str) -> int:
    from solver.debversion import compare

    return compare(a, b)


def comparator(ecosystem: str) -> Compare:
    return _compare_pep440 if ecosystem == PYTHON else _compare_deb


def _valid(ecosystem: str, version: str) -> bool:
    if ecosystem == PYTHON:
        from packaging.version import InvalidVersion

        try:
            _pep440(version)
        except InvalidVersion:
            return False
        return True
    from solver.debversion import check

    try:
        check(version)
    except InputError:
        return False
    return True


# ---- evaluation (OSV schema, "Evaluation") -----------------------------------------------------------
def _in_range(version: str, r: Range, cmp: Compare) -> tuple[bool, str | None]:
    """Whether `version` is in the range, and then the first `fixed` above it (None when none is)."""
    limits = [v for kind, v in r.events if kind == "limit"]
    if limits and not any(v == "*" or cmp(version, v) < 0 for v in limits):
        return False, None
    events = sorted(
        ((kind, v) for kind, v in r.events if kind != "limit"),
        key=_event_order(cmp),
    )
    affected = False
    for kind, v in events:
        if kind == "introduced":
            if v == "0" or cmp(version, v) >= 0:
                affected = True
        elif kind == "fixed":
            if cmp(version, v) >= 0:
                affected = False
        elif cmp(version, v) > 0:  # last_affected
            affected = False
    if not affected:
        return False, None
    fixes = [v for kind, v in events if kind == "fixed" and cmp(version, v) < 0]
    return True, fixes[0] if fixes else None


def _event_order(cmp: Compare) -> Callable[[tuple[str, str]], Any]:
    from functools import cmp_to_key

    def order(a: tuple[str, str], b: tuple[str, str]) -> int:
        if a[1] == "0" and a[0] == "introduced":
            return -1 if not (b[1] == "0" and b[0] == "introduced") else 0
        if b[1] == "0" and b[0] == "introduced":
            return 1
        return cmp(a[1], b[1])

    return cmp_to_key(order)


def affects(adv: Advisory, version: str) -> tuple[bool, str | None]:
    """Whether `adv` affects `version` of its package, and the version that fixes it (if one is known)."""
    cmp = comparator(adv.ecosystem)
    fixed: str | None = None
    hit = False
    for r in adv.ranges:
        inside, fix = _in_range(version, r, cmp)
        if inside:
            hit = True
            if fix is not None and (fixed is None or cmp(fix, fixed) < 0):
                fixed = fix
    if not hit and adv.versions:
        if adv.ecosystem == PYTHON:
            want = _pep440(version)
            hit = any(_valid(PYTHON, v) and _pep440(v) == want for v in adv.versions)
        else:
            hit = any(cmp(version, v) == 0 for v in adv.versions if _valid(DEB, v))
    return hit, fixed


# ---- the database ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TrackerDoc:
    """One Debian security tracker export, its shape checked; its advisories are made per source
    package when asked for (a whole export is some 600,000 release entries, a lock needs a few)."""

    doc: dict[str, Any]
    where: str
    releases: frozenset[str]
    count: int  # release entries that say some version is affected


class AdvisoryDb:
    """Advisories indexed by (ecosystem, package); `releases` are the Debian codenames it speaks of."""

    def __init__(self, items: Iterable[Advisory | TrackerDoc], sources: Iterable[str] = ()) -> None:
        self.by_package: dict[tuple[str, str], list[Advisory]] = defaultdict(list)
        self.releases: set[str] = set()
        self.sources = tuple(sources)
        self.trackers: list[TrackerDoc] = []
        self._made: set[str] = set()  # source packages whose tracker advisories are made
        n = 0
        for a in items:
            if isinstance(a, TrackerDoc):
                self.trackers.append(a)
                self.releases |= a.releases
                n += a.count
                continue
            self.by_package[(a.ecosystem, a.package)].append(a)
            if a.release:
                self.releases.add(a.release)
            n += 1
        self.count = n
        for items_ in self.by_package.values():
            items_.sort(key=lambda a: a.id)

    def has(self, ecosystem: str) -> bool:
        if ecosystem == DEB and any(t.count for t in self.trackers):
            return True
        return any(e == ecosystem for e, _ in self.by_package)

    def advisories(self, ecosystem: str, package: str, release: str | None = None) -> list[Advisory]:
        if ecosystem == DEB and package not in self._made:
            self._made.add(package)
            made = [a for t in self.trackers if package in t.doc for a in _tracker_advisories(t, package)]
            if made:
                found_ = self.by_package[(DEB, package)]
                found_ += made
                found_.sort(key=lambda a: a.id)
        found = self.by_package.get((ecosystem, package), [])
        if ecosystem == DEB:
            return [a for a in found if a.release is None or a.release == release]
        return found

    def matches(
        self, ecosystem: str, package: str, version: str, release: str | None = None
    ) -> list[tuple[Advisory, str | None]]:
        """The advisories affecting `version` of `package`, each with its fixed version (or None)."""
        out = []
        for a in self.advisories(ecosystem, package, release):
            hit, fixed = affects(a, version)
            if hit:
                out.append((a, fixed))
        return out


def load_advisories(paths: Iterable[Path]) -> AdvisoryDb:
    """Read every advisory of these files, directories and zips; InputError names the bad file/entry."""
    records: list[Advisory | TrackerDoc] = []
    names = []
    for path in paths:
        names.append(str(path))
        if path.is_dir():
            files = sorted(p for p in path.rglob("*.json") if p.is_file())
            for f in files:
                records.extend(_read_document(_read_json(f.read_bytes(), str(f)), str(f)))
        elif zipfile.is_zipfile(path):
            records.extend(_read_zip(path))
        else:
            try:
                data = path.read_bytes()
            except OSError as e:
                raise InputError(f"cannot read advisories: {e.strerror}", where=str(path)) from None
            records.extend(_read_document(_read_json(data, str(path)), str(path)))
    return AdvisoryDb(records, names)


def _read_zip(path: Path) -> Iterator[Advisory | TrackerDoc]:
    try:
        with zipfile.ZipFile(path) as z:
            for info in sorted(z.infolist(), key=lambda i: i.filename):
                if info.is_dir() or not info.filename.endswith(".json"):
                    continue
                where = f"{path}:{info.filename}"
                yield from _read_document(_read_json(z.read(info), where), where)
    except (zipfile.BadZipFile, OSError) as e:
        raise InputError(f"cannot read the zip of advisories: {e}", where=str(path)) from None


def _read_json(data: bytes, where: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"not JSON: {e}", where=where) from None


def _is_osv(doc: Any) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("id"), str) and ("affected" in doc or "modified" in doc)


def _read_document(doc: Any, where: str) -> Iterator[Advisory | TrackerDoc]:
    if _is_osv(doc):
        yield from _read_osv(doc, where)
    elif isinstance(doc, list) and doc and all(_is_osv(d) for d in doc):
        for d in doc:
            yield from _read_osv(d, where)
    elif isinstance(doc, dict) and doc and all(isinstance(v, dict) for v in doc.values()) and "id" not in doc:
        yield _read_tracker(doc, where)
    else:
        raise InputError(
            "neither an OSV record (an object with 'id' and 'affected') nor the Debian security "
            "tracker's JSON (an object of source packages)",
            where=where,
        )


def _fail(where: str, entry: str, message: str) -> InputError:
    return InputError(f"{entry}: {message}", where=where)


def _strings(value: Any, where: str, entry: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(where, entry, "must be a list of strings")
    return tuple(value)


def _read_osv(doc: dict[str, Any], where: str) -> Iterator[Advisory]:
    from packaging.utils import canonicalize_name

    vid = doc["id"]
    aliases = _strings(doc.get("aliases"), where, f"{vid} aliases")
    if doc.get("withdrawn"):
        return  # retracted by its publisher: not an advisory any more
    affected = doc.get("affected") or []
    if not isinstance(affected, list):
        raise _fail(where, f"{vid} affected", "must be a list")
    for i, item in enumerate(affected):
        entry = f"{vid} affected[{i}]"
        if not isinstance(item, dict):
            raise _fail(where, entry, "must be an object")
        package = item.get("package")
        if package is None:
            continue  # allowed by the schema for GIT-only entries; nothing to match a lock against
        if not (isinstance(package, dict) and isinstance(package.get("ecosystem"), str)
                and isinstance(package.get("name"), str)):
            raise _fail(where, f"{entry}.package", "must be an object with 'ecosystem' and 'name' strings")
        if package["ecosystem"] != "PyPI":
            continue
        ranges = []
        raw_ranges = item.get("ranges") or []
        if not isinstance(raw_ranges, list):
            raise _fail(where, f"{entry}.ranges", "must be a list")
        for j, r in enumerate(raw_ranges):
            rentry = f"{entry}.ranges[{j}]"
            if not isinstance(r, dict) or r.get("type") not in ("ECOSYSTEM", "SEMVER", "GIT"):
                raise _fail(where, f"{rentry}.type", "must be ECOSYSTEM, SEMVER or GIT")
            events = _events(r.get("events"), where, rentry, PYTHON)
            if r["type"] != "GIT":
                ranges.append(Range(events))
        versions = _strings(item.get("versions"), where, f"{entry}.versions")
        adv = Advisory(
            id=vid,
            aliases=aliases,
            ecosystem=PYTHON,
            package=canonicalize_name(package["name"]),
            ranges=tuple(ranges),
            versions=versions,
            where=where,
        )
        _check_event_versions(adv)
        yield adv


def _events(raw: Any, where: str, entry: str, ecosystem: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, list) or not raw:
        raise _fail(where, f"{entry}.events", "must be a non-empty list")
    out = []
    for k, e in enumerate(raw):
        eentry = f"{entry}.events[{k}]"
        if not isinstance(e, dict) or len(e) != 1:
            raise _fail(where, eentry, f"must be an object with one of {', '.join(_EVENTS)}")
        ((kind, value),) = e.items()
        if kind not in _EVENTS or not isinstance(value, str):
            raise _fail(where, eentry, f"must be an object with one of {', '.join(_EVENTS)} (a string)")
        out.append((kind, value))
    return tuple(out)


def _check_event_versions(adv: Advisory, entry: str | None = None) -> None:
    """The range versions must be in the ecosystem's syntax, or no comparison could be trusted."""
    for r in adv.ranges:
        for kind, v in r.events:
            if (kind == "introduced" and v == "0") or (kind == "limit" and v == "*"):
                continue
            if not _valid(adv.ecosystem, v):
                raise _fail(adv.where, entry or adv.id, f"{kind} {v!r} is not a valid {adv.ecosystem} version")


def _read_tracker(doc: dict[str, Any], where: str) -> TrackerDoc:
    """Check the export's shape (every entry, so a bad one is found now, wherever it is)."""
    releases: set[str] = set()
    count = 0
    for source, issues in doc.items():
        for issue, info in issues.items():
            if not isinstance(info, dict):
                raise _fail(where, f"{source} {issue}", "must be an object")
            rels = info.get("releases", {})
            if not isinstance(rels, dict):
                raise _fail(where, f"{source} {issue} releases", "must be an object of release codenames")
            for codename, rel in rels.items():
                if not isinstance(rel, dict):
                    raise _fail(where, f"{source} {issue} releases.{codename}", "must be an object")
                status = rel.get("status")
                fixed = rel.get("fixed_version")
                if status not in _TRACKER_STATUSES:
                    raise _fail(where, f"{source} {issue} releases.{codename}.status",
                                f"must be one of {', '.join(_TRACKER_STATUSES)}, not {status!r}")
                if fixed is not None and not isinstance(fixed, str):
                    raise _fail(where, f"{source} {issue} releases.{codename}.fixed_version", "must be a string")
                if status == "resolved" and not fixed:
                    raise _fail(where, f"{source} {issue} releases.{codename}.fixed_version",
                                "is required when resolved")
                if fixed != "0" or status != "resolved":
                    releases.add(codename)
                    count += 1
    return TrackerDoc(doc, where, frozenset(releases), count)


def _tracker_advisories(t: TrackerDoc, source: str) -> Iterator[Advisory]:
    """The advisories of one source package of a (shape-checked) export; versions are checked here."""
    issues = t.doc[source]
    for issue in sorted(issues):
        releases = issues[issue].get("releases", {})
        for codename in sorted(releases):
            rel = releases[codename]
            status, fixed = rel["status"], rel.get("fixed_version")
            if status == "resolved":
                if fixed == "0":
                    continue  # this release never had the flaw
                events: tuple[tuple[str, str], ...] = (("introduced", "0"), ("fixed", fixed))
            else:
                events = (("introduced", "0"),)
            adv = Advisory(
                id=issue,
                aliases=(),
                ecosystem=DEB,
                package=source,
                ranges=(Range(events),),
                versions=(),
                release=codename,
                status=status,
                where=t.where,
            )
            _check_event_versions(adv, f"{source} {issue} releases.{codename}.fixed_version")
            yield adv


__all__ = ["DEB", "PYTHON", "Advisory", "AdvisoryDb", "Range", "TrackerDoc", "affects", "comparator",
           "load_advisories"]
