"""Sdists in a bundle: what the target must build, and what building each one needs.

An sdist is built where it is installed (PEP 517): pip and uv first install its build requirements,
the `[build-system] requires` of its `pyproject.toml` (PEP 518), or setuptools when it declares no
build system (PEP 517's fallback to `setup.py`), from the same index. Those requirements are not part
of the solved set, so an offline bundle that holds sdists is only installable when they are in it too.
`bundler solve` reports each sdist (summary, `--json`), the bundle's README lists them, and the spec's
`[python] wheels-only = true` refuses them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class SdistBuild:
    """A locked sdist: the target must build it, which needs `requires` (PEP 517/518)."""

    name: str
    version: str
    filename: str
    system: str | None  # "pyproject", "default" (setuptools), "invalid: <why>", None (unknown)
    requires: tuple[str, ...]
    missing: tuple[str, ...] = ()  # the build requirements that no locked package satisfies

    def describe(self) -> str:
        """One line for a person, e.g. "foo 1.0 is an sdist (foo-1.0.tar.gz), built on install:
        needs setuptools>=61, wheel; not in the bundle: wheel"."""
        if self.system is None:
            needs = "its build requirements are unknown (the index served its metadata apart)"
        elif self.system.startswith("invalid"):
            needs = f"pip and uv refuse to build it: {self.system.removeprefix('invalid: ')}"
        elif not self.requires:
            needs = "it declares no build requirements"
        else:
            what = "needs" if self.system == "pyproject" else "declares no build system, so needs"
            needs = f"{what} {', '.join(self.requires)}"
            needs += f"; not in the bundle: {', '.join(self.missing)}" if self.missing else " (in the bundle)"
        return f"{self.name} {self.version} is an sdist ({self.filename}), built on install: {needs}"

    def to_json(self) -> dict[str, Any]:
        return {
            "package": self.name,
            "version": self.version,
            "file": self.filename,
            "build-system": self.system,
            "build-requires": list(self.requires),
            "missing": list(self.missing),
        }


def with_missing(
    builds: Iterable[SdistBuild], pins: Mapping[str, str], environment: Mapping[str, str]
) -> list[SdistBuild]:
    """`builds` with `missing` filled in: the build requirements that `pins` (canonical name ->
    version, the bundle's Python packages) do not satisfy in the target's marker `environment`."""
    from solver.python.requirements import unmet

    return [replace(b, missing=unmet(b.requires, pins, environment)) for b in builds]


def from_sdist(name: str, version: str, filename: str, data: bytes) -> SdistBuild:
    """What building the sdist `data` (the file's bytes) needs, read from its pyproject.toml."""
    from repos.pypi.archive import sdist_metadata
    from solver.python.model import parse_core_metadata

    meta = parse_core_metadata(sdist_metadata(data, filename, filename))
    return SdistBuild(name, version, filename, meta.build_system, meta.build_requires)
