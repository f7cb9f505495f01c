"""apt's version priorities ("pins"): what `apt-cache policy` prints and `apt-get` installs from.

Implements apt's pkgPolicy (apt-pkg/policy.cc, apt-pkg/versionmatch.cc; apt_preferences(5)):

- every index file starts at priority 500; a Release with `NotAutomatic: yes` gives its files 1, and
  with `ButAutomaticUpgrades: yes` 100 (InitDefaults). Backports (both) and experimental (the first)
  are such suites.
- generic pins (`Package: *`, `Pin: release ...`) set a file's priority: the first pin that matches a
  file wins.
- pins of a package (a name, a glob such as `python3-*`, or a `/regex/`) set a version's priority,
  the first matching pin wins, and they override every file priority (GetPriority).
- a version's priority is that of its pin, else the highest of its files'.
- the candidate (GetCandidateVer) is the version of highest priority, the newest among equals; a
  version of priority 0 or below is never the candidate, and below 0 apt never installs it.

Release selectors (`Pin: release a=...,n=...`) match the Release's Archive (`a=`, its `Suite`),
Codename (`n=`), Origin (`o=`), Label (`l=`), Version (`v=`) and the index's component (`c=`); a bare
word matches the archive or the codename. Values are fnmatch globs or `/regex/`, without case, as apt's
ExpressionMatches. There is no installed system here, so apt's rules about the installed version (no
downgrade below priority 1000) never apply.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..errors import InputError
from ..model import DebCandidate

DEFAULT_PRIORITY = 500
_SELECTORS = ("a", "n", "o", "l", "v", "c")


@dataclass(frozen=True, slots=True)
class AptRelease:
    """What apt knows of the Release an index file belongs to (and the file's component)."""

    archive: str = ""  # the Release's Suite, e.g. "bookworm-backports"
    codename: str = ""
    origin: str = ""
    label: str = ""
    version: str = ""
    component: str = ""
    not_automatic: bool = False
    but_automatic_upgrades: bool = False

    @property
    def default_priority(self) -> int:
        # policy.cc InitDefaults tests the index file's flags one by one: ButAutomaticUpgrades gives
        # 100 even without NotAutomatic (apt-cache policy shows it), NotAutomatic alone 1.
        if self.but_automatic_upgrades:
            return 100
        return 1 if self.not_automatic else DEFAULT_PRIORITY


@dataclass(frozen=True, slots=True)
class AptPin:
    """One preferences record: `package` ("*", a name, a glob or /regex/), what it matches
    ("release" with apt's selector text, or "version" with a version glob) and the priority."""

    package: str
    kind: str  # "release" | "version"
    data: str
    priority: int

    def __str__(self) -> str:
        return f"{self.package} {self.kind} {self.data}"

    @property
    def generic(self) -> bool:
        return self.package == "*"

    def matches_name(self, name: str) -> bool:
        p = self.package
        if p == "*":
            return True
        if (p.startswith("/") and p.endswith("/") and len(p) > 1) or any(ch in p for ch in "*[?"):
            return expression_matches(p, name)
        return p == name

    def matches_release(self, rel: AptRelease) -> bool:
        return release_matches(self.data, rel)

    def matches_version(self, version: str) -> bool:
        data = self.data
        if data.endswith("*") and version.lower().startswith(data[:-1].lower()):
            return True
        return version.lower() == data.lower() or expression_matches(data, version)


def expression_matches(pattern: str, text: str) -> bool:
    """apt's ExpressionMatches: `/regex/` (extended, no case) or an fnmatch glob (no case)."""
    if len(pattern) > 1 and pattern.startswith("/") and pattern.endswith("/"):
        try:
            return re.search(pattern[1:-1], text, re.IGNORECASE) is not None
        except re.error:
            return False  # apt warns "Invalid regular expression" and matches nothing
    return fnmatch.fnmatchcase(text.lower(), pattern.lower())


def release_matches(data: str, rel: AptRelease) -> bool:
    # versionmatch.cc, pkgVersionMatch(Data, Release) and FileMatch.
    if data == "*":
        return True
    if "=" not in data:
        if data[:1].isdigit():
            return _version_like(data, rel.version)
        return expression_matches(data, rel.archive) or expression_matches(data, rel.codename)
    found = False
    for frag in data.split(","):
        frag = frag.strip()
        if len(frag) < 3 or frag[1] != "=":
            continue
        key, value = frag[0].lower(), frag[2:]
        field = {
            "a": rel.archive, "n": rel.codename, "o": rel.origin, "l": rel.label, "c": rel.component,
        }.get(key)  # fmt: skip
        if key == "v":
            found = True
            if not _version_like(value, rel.version):
                return False
        elif field is not None:
            found = True
            if not expression_matches(value, field):
                return False
    return found


def _version_like(pattern: str, version: str) -> bool:
    if pattern.endswith("*") and version.lower().startswith(pattern[:-1].lower()):
        return True
    return version.lower() == pattern.lower() or expression_matches(pattern, version)


def parse_pin(package: str, release: str | None, version: str | None, priority: int) -> AptPin:
    """A pin from the spec's words; InputError says what is wrong (apt's ReadPinFile rules)."""
    package = package.strip()
    if not package or " " in package:
        raise InputError(f"bad pin package {package!r}: one name, glob or /regex/, or '*'")
    if package.startswith("src:") or (":" in package and not package.startswith("/")):
        raise InputError(f"bad pin package {package!r}: source and architecture pins are not supported")
    if (release is None) == (version is None):
        raise InputError(f"pin of {package}: give exactly one of release or version")
    if version is not None and package == "*":
        raise InputError("pin of '*': a version pin needs a package name (apt ignores it otherwise)")
    if isinstance(priority, bool) or not isinstance(priority, int) or priority == 0:
        raise InputError(f"pin of {package}: priority must be a non-zero integer")
    if not -32768 <= priority <= 32767:
        raise InputError(f"pin of {package}: priority {priority} is outside -32768..32767")
    if release is not None:
        data = release.strip()
        if not data:
            raise InputError(f"pin of {package}: empty release")
        if "=" in data:
            for frag in data.split(","):
                key = frag.strip()[:2].lower()
                if key not in {f"{k}=" for k in _SELECTORS}:
                    raise InputError(
                        f"pin of {package}: release selector {frag.strip()!r} is not one of "
                        "a= n= o= l= v= c="
                    )
        return AptPin(package, "release", data, priority)
    assert version is not None
    if not version.strip():
        raise InputError(f"pin of {package}: empty version")
    return AptPin(package, "version", version.strip(), priority)


class Priorities:
    """apt's priority of each candidate, from the Release of its index and the pins (cached)."""

    def __init__(self, releases: Mapping[str, AptRelease], pins: Sequence[AptPin]) -> None:
        self.releases = releases
        self.generic = [p for p in pins if p.generic]
        self.specific = [p for p in pins if not p.generic]
        self._file: dict[str, int] = {}
        self._cache: dict[tuple[str, str, str], tuple[int, AptPin | None]] = {}

    def release_of(self, c: DebCandidate) -> AptRelease:
        repo = c.origin.repository if c.origin is not None else ""
        return self.releases.get(repo) or AptRelease()

    def file_priority(self, repository: str) -> int:
        hit = self._file.get(repository)
        if hit is None:
            rel = self.releases.get(repository) or AptRelease()
            hit = rel.default_priority
            for pin in self.generic:  # the first generic pin matching the file wins
                if pin.matches_release(rel):
                    hit = pin.priority
                    break
            self._file[repository] = hit
        return hit

    def explain(self, c: DebCandidate) -> tuple[int, AptPin | None]:
        """The priority of `c` and the pin that set it (None: its file's default or a generic pin)."""
        hit = self._cache.get(c.key)
        if hit is not None:
            return hit
        repo = c.origin.repository if c.origin is not None else ""
        result: tuple[int, AptPin | None] = (self.file_priority(repo), None)
        if not self.specific and not self.generic:  # no pins (the usual case): the file's priority
            self._cache[c.key] = result
            return result
        rel = self.release_of(c)
        for pin in self.specific:
            if not pin.matches_name(c.name):
                continue
            ok = pin.matches_version(c.version) if pin.kind == "version" else pin.matches_release(rel)
            if ok:
                result = (pin.priority, pin)
                break
        for pin in self.generic:
            if pin.matches_release(rel):
                result = result if result[1] is not None else (pin.priority, pin)
                break
        self._cache[c.key] = result
        return result

    def priority(self, c: DebCandidate) -> int:
        return self.explain(c)[0]


__all__ = ["AptPin", "AptRelease", "Priorities", "expression_matches", "parse_pin", "release_matches"]
