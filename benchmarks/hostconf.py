"""Where this host gets its packages: the Debian mirror from apt's sources, the Python index from pip's.

apt: deb822 `*.sources` (sources.list(5), "DEB822-STYLE FORMAT") and one-line `sources.list`/`*.list`.
pip: `PIP_INDEX_URL`, then `index-url` from `pip config list`, then pip's built-in default
(`pip._internal.models.index.PyPI.simple_url`). No registry host name is written in this repository:
every URL comes from the host's configuration.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class AptSource:
    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]
    signed_by: str | None = None


def _deb822(text: str) -> list[AptSource]:
    out = []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0] in " \t" and key:
                fields[key] += "\n" + line.strip()
                continue
            key, _, value = line.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes") == "no":
            continue
        for uri in fields.get("uris", "").split():
            out.append(
                AptSource(
                    uri.rstrip("/"),
                    tuple(fields.get("suites", "").split()),
                    tuple(fields.get("components", "").split()),
                    fields.get("signed-by") or None,
                )
            )
    return out


def _one_line(text: str) -> list[AptSource]:
    out = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line.startswith("deb "):
            continue
        opts = {}
        m = re.match(r"deb\s+\[([^\]]*)\]\s+(.*)", line)
        rest = line[4:]
        if m:
            for opt in m.group(1).split():
                k, _, v = opt.partition("=")
                opts[k] = v
            rest = m.group(2)
        words = rest.split()
        if len(words) >= 2:
            out.append(AptSource(words[0].rstrip("/"), (words[1],), tuple(words[2:]), opts.get("signed-by")))
    return out


def apt_sources(etc: Path = Path("/etc/apt")) -> list[AptSource]:
    """Every enabled `deb` source of the host, in apt's reading order."""
    out: list[AptSource] = []
    main = etc / "sources.list"
    if main.is_file():
        out += _one_line(main.read_text(errors="replace"))
    parts = etc / "sources.list.d"
    if parts.is_dir():
        for f in sorted(parts.iterdir()):
            if f.suffix == ".list":
                out += _one_line(f.read_text(errors="replace"))
            elif f.suffix == ".sources":
                out += _deb822(f.read_text(errors="replace"))
    return out


def mirror_for(suite: str, sources: list[AptSource] | None = None) -> AptSource | None:
    """The first host source that serves `suite`."""
    for s in apt_sources() if sources is None else sources:
        if suite in s.suites:
            return s
    return None


def python_index(python: str = sys.executable) -> str:
    """The index URL pip on this host uses (only the primary index; extra-index-url is not a mirror)."""
    if os.environ.get("PIP_INDEX_URL"):
        return os.environ["PIP_INDEX_URL"].split()[0]
    try:
        listing = subprocess.run(
            [python, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=60
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        listing = ""
    for line in listing.splitlines():
        key, _, value = line.partition("=")
        if key.split(".")[-1] == "index-url":
            return value.strip().strip("'\"").split()[0]
    probe = "from pip._internal.models.index import PyPI; print(PyPI.simple_url)"
    return subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
