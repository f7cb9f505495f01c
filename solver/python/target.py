"""The target a Python solve is for: a Python version and one or more platform tags.

Gives, per platform, the PEP 508 marker environment and the accepted wheel tags (PEP 425, PEP 600
manylinux, PEP 656 musllinux, macOS), following pip's `--platform`/`--python-version` semantics:
`manylinux_2_28_x86_64` accepts manylinux_2_28 down to manylinux_2_17 (manylinux_2_5 on x86_64/i686)
and the legacy aliases manylinux2014/2010/1 of those, but not the bare `linux_x86_64`; ABIs are
`cp3X`, `abi3` (for every earlier CPython 3) and `none`. Pure computation, no I/O.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from functools import cached_property

from packaging import tags
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from solver.errors import InputError

_LEGACY_MANYLINUX = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
_MANYLINUX = re.compile(r"manylinux_(\d+)_(\d+)_(\w+)")
_LEGACY = re.compile(r"(manylinux2014|manylinux2010|manylinux1)_(\w+)")
_MUSL = re.compile(r"musllinux_(\d+)_(\d+)_(\w+)")
_MACOS = re.compile(r"macosx_(\d+)_(\d+)_(\w+)")
_WINDOWS_MACHINE = {"win_amd64": "AMD64", "win32": "x86", "win_arm64": "ARM64"}


def _linux_platforms(platform: str) -> tuple[list[str], str] | None:
    m = _MANYLINUX.fullmatch(platform)
    if m is None:
        legacy = _LEGACY.fullmatch(platform)
        if legacy is None:
            return None
        minor = {v: k for k, v in _LEGACY_MANYLINUX.items()}[legacy.group(1)]
        major, arch = 2, legacy.group(2)
    else:
        major, minor, arch = int(m.group(1)), int(m.group(2)), m.group(3)
    lowest = 5 if arch in ("x86_64", "i686") else 17
    out = []
    for glibc_minor in range(minor, lowest - 1, -1):
        out.append(f"manylinux_{major}_{glibc_minor}_{arch}")
        if major == 2 and glibc_minor in _LEGACY_MANYLINUX:
            out.append(f"{_LEGACY_MANYLINUX[glibc_minor]}_{arch}")
    return out, arch


def platform_tags(platform: str) -> list[str]:
    """The platform tags a target platform accepts, most specific first."""
    linux = _linux_platforms(platform)
    if linux is not None:
        return linux[0]
    m = _MUSL.fullmatch(platform)
    if m:
        major, minor, arch = int(m.group(1)), int(m.group(2)), m.group(3)
        return [f"musllinux_{major}_{v}_{arch}" for v in range(minor, -1, -1)]
    m = _MACOS.fullmatch(platform)
    if m:
        return list(tags.mac_platforms((int(m.group(1)), int(m.group(2))), m.group(3)))
    return [platform]


def _machine(platform: str) -> str:
    if platform in _WINDOWS_MACHINE:
        return _WINDOWS_MACHINE[platform]
    linux = _linux_platforms(platform)
    if linux is not None:
        return linux[1]
    for rx in (_MUSL, _MACOS):
        m = rx.fullmatch(platform)
        if m:
            arch = m.group(3)
            return "arm64" if arch == "universal2" else arch
    if platform.startswith("linux_"):
        return platform[len("linux_") :]
    return ""


def _system(platform: str) -> tuple[str, str, str]:
    """(sys_platform, platform_system, os_name)."""
    if platform.startswith("win"):
        return "win32", "Windows", "nt"
    if platform.startswith("macosx"):
        return "darwin", "Darwin", "posix"
    return "linux", "Linux", "posix"


# The name-version part nearly every wheel's filename has: a name of ASCII letters and digits with
# single dots or underscores between them, and a version of digits with PEP 440's lower-case pre-,
# post- and dev-release parts and no local label. packaging accepts every such part, so it is not
# parsed: each release a solve reads has its own part, and packaging's parse of it was most of
# choosing the release's file (~15 us). Any other part is packaging's decision
# (tests/test_python_caches.py checks the two agree).
_PLAIN_WHEEL_PREFIX = re.compile(
    r"[A-Za-z0-9]+(?:[._][A-Za-z0-9]+)*-(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*"
    r"(?:(?:a|b|rc)[0-9]+)?(?:\.post[0-9]+)?(?:\.dev[0-9]+)?"
)


def _valid_wheel_prefix(prefix: str) -> bool:
    """Whether a wheel filename's name-version(-build) part parses (packaging's own checks)."""
    return _PLAIN_WHEEL_PREFIX.fullmatch(prefix) is not None or _parsed_wheel_prefix(prefix)


@functools.lru_cache(maxsize=65536)
def _parsed_wheel_prefix(prefix: str) -> bool:
    try:
        parse_wheel_filename(f"{prefix}-py3-none-any.whl")
    except (InvalidWheelFilename, InvalidVersion):
        return False
    return True


@functools.lru_cache(maxsize=4096)
def _tag_set(tag_text: str) -> frozenset[tags.Tag]:
    """The tags of a wheel filename's python-abi-platform part ("cp311-cp311-manylinux_2_17_x86_64"),
    none when it does not parse; parsed once per distinct text (a project repeats a few dozen)."""
    try:
        return parse_wheel_filename(f"x-0-{tag_text}.whl")[3]
    except (InvalidWheelFilename, InvalidVersion):
        return frozenset()


@dataclass(frozen=True, slots=True)
class PlatformTarget:
    """One platform of the target: its marker environment and its wheel tag priorities."""

    platform: str
    environment: dict[str, str] = field(hash=False, compare=False)
    tag_priority: dict[tags.Tag, int] = field(hash=False, compare=False)
    # the platform parts of `tag_priority` ("manylinux_2_17_x86_64", "any", ...)
    platform_parts: frozenset[str] = field(hash=False, compare=False, default=frozenset())
    # a wheel's tag text -> `wheel_priority` (it depends on the tags only, once the name parses)
    by_tags: dict[str, int | None] = field(hash=False, compare=False, repr=False, default_factory=dict)

    def wheel_priority(self, filename: str) -> int | None:
        """Lower is better; None when the wheel cannot be installed on this platform."""
        # Most wheels of a big project are for other platforms: rule those out by the filename's
        # platform field (the last dash-separated part; PEP 425 compressed tag sets are dot-separated)
        # before parsing the whole name. Tags compare lower-cased, as packaging.tags.Tag does.
        if self.platform_parts:
            field_ = filename[:-4].rpartition("-")[2].lower()
            if not any(part in self.platform_parts for part in field_.split(".")):
                return None
        # `parse_wheel_filename(filename)[3]` in two cached halves (a filename is valid when both
        # are): the tag set per distinct tag text, the rest per distinct name-version(-build)
        fields = filename[:-4].split("-")
        if not filename.endswith(".whl") or len(fields) not in (5, 6):
            return None
        if not _valid_wheel_prefix("-".join(fields[:-3])):
            return None
        return self.tags_priority("-".join(fields[-3:]))

    def tags_priority(self, tag_text: str) -> int | None:
        """The best priority of a wheel filename's python-abi-platform part ("cp311-cp311-manylinux_2_17_x86_64")
        on this platform, None when it accepts none of its tags."""
        best = self.by_tags.get(tag_text, -1)
        if best == -1:
            best = None
            for tag in _tag_set(tag_text):
                p = self.tag_priority.get(tag)
                if p is not None and (best is None or p < best):
                    best = p
            self.by_tags[tag_text] = best
        return best


@dataclass(frozen=True)
class Target:
    """The Python version (`"3.11"` or `"3.11.4"`) and the platforms (`"manylinux_2_28_x86_64"`, ...)."""

    python_version: str
    platforms: tuple[str, ...]

    def __post_init__(self) -> None:
        if not re.fullmatch(r"3\.\d+(\.\d+)?", self.python_version):
            raise InputError(f"python-version must look like 3.11 or 3.11.4, not {self.python_version!r}")
        if not self.platforms:
            raise InputError("at least one target platform is needed")

    @cached_property
    def version(self) -> Version:
        return Version(self.python_version)

    @cached_property
    def full_version(self) -> str:
        parts = self.python_version.split(".")
        return self.python_version if len(parts) == 3 else f"{self.python_version}.0"

    @cached_property
    def per_platform(self) -> tuple[PlatformTarget, ...]:
        major, minor = (int(x) for x in self.python_version.split(".")[:2])
        out = []
        for platform in self.platforms:
            plats = platform_tags(platform)
            interp = f"cp{major}{minor}"
            ordered = list(tags.cpython_tags((major, minor), abis=[interp], platforms=plats))
            ordered += list(tags.compatible_tags((major, minor), interpreter=interp, platforms=plats))
            priority: dict[tags.Tag, int] = {}
            for i, tag in enumerate(ordered):
                priority.setdefault(tag, i)
            sys_platform, system, os_name = _system(platform)
            env = {
                "implementation_name": "cpython",
                "implementation_version": self.full_version,
                "os_name": os_name,
                "platform_machine": _machine(platform),
                "platform_python_implementation": "CPython",
                "platform_release": "",
                "platform_system": system,
                "platform_version": "",
                "python_full_version": self.full_version,
                "python_version": f"{major}.{minor}",
                "sys_platform": sys_platform,
                "extra": "",
            }
            parts = frozenset(tag.platform for tag in priority)
            out.append(PlatformTarget(platform, env, priority, parts))
        return tuple(out)
