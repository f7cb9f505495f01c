"""Which file of a release each platform of the target installs (pip's choice; PEP 425, 592, 503).

A file can serve a platform when its `data-requires-python` (PEP 503) admits the target's Python and it
is either a wheel whose tags the platform accepts (PEP 425) or an sdist. Of those, the best is: not
yanked first (PEP 592: a yanked file is used only when nothing else serves), then the most specific
wheel tag, sdists last, then the filename (so ties break the same way on every run).

`useful_files` keeps, of a release's files, only those that choice can ever return, for any subset of
the target's platforms, with yanked files allowed or not: an index can then keep a small per-target
digest of a project page (a page like botocore's lists thousands of files, nearly all of them wheels
for other platforms or Pythons) and the resolver's answers, explanations included, stay the same.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Protocol, TypeVar

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from .model import DistFile
from .target import PlatformTarget, Target

# Bump when the choice below changes: indexes key their per-target digests with it.
CHOICE_VERSION = 1

_SDIST_EXT = (".tar.gz", ".zip", ".tar.bz2", ".tgz")
_SDIST_RANK = 1 << 30  # after every wheel tag


@functools.lru_cache(maxsize=4096)
def requires_python_spec(text: str | None) -> SpecifierSet | None:
    """A Requires-Python value as a specifier set; None when absent or invalid (pip ignores those)."""
    if not text:
        return None
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return None


def is_sdist(filename: str) -> bool:
    return filename.endswith(_SDIST_EXT)


class FileFacts(Protocol):
    """What the choice reads of a file: a `DistFile`, or a lighter stand-in for one (an index that
    has not built the DistFile yet)."""

    @property
    def filename(self) -> str: ...
    @property
    def requires_python(self) -> str | None: ...
    @property
    def yanked(self) -> str | None: ...


F = TypeVar("F", bound=FileFacts)


class FileChoice:
    """The file choice for one target. Safe to share between threads (its caches only grow)."""

    def __init__(self, target: Target) -> None:
        self.python: Version = target.version
        self.platforms: dict[str, PlatformTarget] = {p.platform: p for p in target.per_platform}
        # data-requires-python values repeat across a page's files: each is checked once
        self._python_ok: dict[str | None, bool] = {None: True}

    def python_ok(self, requires_python: str | None) -> bool:
        ok = self._python_ok.get(requires_python)
        if ok is None:
            spec = requires_python_spec(requires_python)
            ok = self._python_ok[requires_python] = spec is None or spec.contains(
                self.python, prereleases=True
            )
        return ok

    def rank(self, f: FileFacts, pt: PlatformTarget) -> tuple[int, int, str] | None:
        """Lower is better; None when `f` cannot serve the platform."""
        if not self.python_ok(f.requires_python):
            return None
        if f.filename.endswith(".whl"):
            prio = pt.wheel_priority(f.filename)
            if prio is None:
                return None
        elif is_sdist(f.filename):
            prio = _SDIST_RANK
        else:
            return None
        return (0 if f.yanked is None else 1, prio, f.filename)

    def best(self, files: Iterable[F], platform: str, allow_yanked: bool) -> F | None:
        """The file `platform` installs, or None; the first of equally ranked files wins."""
        pt = self.platforms[platform]
        best: tuple[int, int, str] | None = None
        chosen = None
        for f in files:
            if f.yanked is not None and not allow_yanked:
                continue
            r = self.rank(f, pt)
            if r is not None and (best is None or r < best):
                best, chosen = r, f
        return chosen

    def may_install(self, filename: str) -> bool:
        """False when `rank` is None for this file on every platform, whatever its other fields: it is
        neither a wheel nor an sdist, or a wheel none of whose tags (Python, ABI and platform) any
        platform accepts. An index can then skip reading the rest of the file's entry (a page like
        pydantic-core's lists 15,000 files, a few dozen of use)."""
        if not filename.endswith(".whl"):
            return is_sdist(filename)
        fields = filename[:-4].split("-")
        if len(fields) not in (5, 6):
            return False  # not a wheel's name: wheel_priority rejects it
        tag_text = "-".join(fields[-3:])
        return any(pt.tags_priority(tag_text) is not None for pt in self.platforms.values())

    def chosen(self, files: Iterable[FileFacts]) -> tuple[set[int], bool]:
        """The ids of the files `best` returns for each platform (with yanked files allowed only for
        a platform no other file serves), and whether some platform has no non-yanked file (then the
        facts of every file matter to explanations: `useful_files`)."""
        files = files if isinstance(files, (tuple, list)) else list(files)
        keep: set[int] = set()
        explain = False
        for platform in self.platforms:
            pick = self.best(files, platform, allow_yanked=False)
            if pick is None:
                explain = True
                pick = self.best(files, platform, allow_yanked=True)
            if pick is not None:
                keep.add(id(pick))
        return keep, explain

    def useful_files(self, files: tuple[DistFile, ...]) -> tuple[DistFile, ...]:
        """The files `best` can return for some platform subset and either `allow_yanked`, in order.

        Per platform that is the best file with yanked files allowed and the best without; a non-yanked
        file ranks before any yanked one, so when there is one both are the same file. When some
        platform has no non-yanked file, the resolver may have to say why it cannot use the release
        (all yanked, Requires-Python, no file for the platform), which it reads from the files'
        yanked flags and data-requires-python values: the first file of each (requires-python,
        yanked or not) pair is kept too, so those facts stay the same.
        """
        keep, explain = self.chosen(files)
        if explain:
            seen: set[tuple[str | None, bool]] = set()
            for f in files:
                kind = (f.requires_python, f.yanked is None)
                if kind not in seen:
                    seen.add(kind)
                    keep.add(id(f))
        if len(keep) == len(files):
            return files
        return tuple(f for f in files if id(f) in keep)
