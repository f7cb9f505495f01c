"""Cross-ecosystem checks of a lock: what neither the Debian nor the Python solve can see alone.

A bundle with Debian packages and a Python target is installed together: its Python packages go
into a virtual environment of the Debian `python3` that the bundle ships (`python3 -m venv`, the
README's instructions). The Python side was solved for the spec's `[python] python-version` (its
wheels' `cpXY` tags, `Requires-Python`, `python_version` markers); if the bundle's Debian python3 is
another minor version, pip and uv on the target refuse those wheels or would pick other releases
than the lock's. So when the lock has Debian roots and Python packages, the minor version of the
locked `python3` (Debian's python3-defaults: `3.11.2-1+b1` is Python 3.11; `python3-minimal` when
only that one is locked) must equal the target's; `bundler solve` warns, and fails with `--strict`
(issue 12, point 6). A lock without a Debian python3 has nothing to compare and is not checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bundler.lock import Lock, LockedPackage

# The packages of python3-defaults whose version is the default interpreter's (Debian Python Policy
# 2.3: python3 depends on python3.X; its version is that interpreter's upstream version).
_DEFAULT_INTERPRETER = ("python3", "python3-minimal")


def debian_python(packages: Iterable[LockedPackage]) -> tuple[str, str, str] | None:
    """(package, its Debian version, Python major.minor) of the locked default python3, or None."""
    debs = {p.name: p for p in packages if p.ecosystem == "deb"}
    for name in _DEFAULT_INTERPRETER:
        p = debs.get(name)
        if p is None:
            continue
        upstream = p.version.split(":", 1)[-1]  # drop the epoch; the upstream version starts with X.Y
        m = re.match(r"(\d+)\.(\d+)", upstream)
        if m:
            return name, p.version, f"{m.group(1)}.{m.group(2)}"
    return None


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def warnings(lock: Lock) -> list[str]:
    """One line per cross-ecosystem inconsistency of `lock` (none: an empty list)."""
    target = lock.extra.get("python-version")
    has_debian_roots = any(r.startswith("deb:") for r in lock.roots)
    has_python = any(p.ecosystem == "python" for p in lock.packages)
    if not (target and has_debian_roots and has_python):
        return []
    found = debian_python(lock.packages)
    if found is None:
        return []
    name, version, minor = found
    if _minor(str(target)) == minor:
        return []
    return [
        f"python-version is {target}, but the bundle's Debian {name} {version} is Python {minor}: "
        f"its Python packages were chosen for a Python the bundle does not ship"
    ]
