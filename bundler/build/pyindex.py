"""The Python package index of a bundle: PEP 503 HTML, PEP 691 JSON and PEP 658 metadata files.

    python/files/<distribution file>            the wheels and sdists of the lock
    python/files/<wheel>.metadata               its METADATA (PEP 658), beside it
    python/simple/index.html, index.json        the project list
    python/simple/<normalized>/index.html, index.json
    python/requirements.txt                     every package at its locked version (pip's format)

pip and uv read only HTML from a `file://` index, so HTML is the primary form; the JSON files carry the
same data for `bundler serve` (content negotiation, PEP 691) and any static server; PEP 714 names the
metadata attribute `data-core-metadata` (JSON: `core-metadata`); the older `data-dist-info-metadata`
is left out on purpose (see `write_index`). Links are relative
(`../../files/<file>#sha256=…`), so the tree works wherever it is mounted.

`requirements.txt` is what the README tells pip and uv to install (`-r`): the whole locked set, so the
target gets exactly the versions that were solved, the packages that only an extra brought in
included (a root's extras are not in the lock); a package locked for some of the target platforms
only carries a marker for those platforms.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from packaging.version import InvalidVersion, Version

from bundler.lock import LockedPackage
from bundler.sdists import SdistBuild

API_VERSION = "1.1"


def normalize(name: str) -> str:
    """PEP 503 name normalisation."""
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel_metadata(path: Path) -> bytes | None:
    """The `*.dist-info/METADATA` of a wheel (None if `path` is not a wheel)."""
    if not path.name.endswith(".whl"):
        return None
    from repos.pypi.archive import wheel_metadata as read  # the one reader, with its duplicate rule

    return read(path, str(path))


@dataclass(frozen=True, slots=True)
class IndexFile:
    package: LockedPackage
    metadata_sha256: str | None  # of files/<filename>.metadata when shipped


def _version_key(v: str) -> tuple[int, Any]:
    try:
        return (0, Version(v))
    except InvalidVersion:
        return (1, v)


def _page(title: str, links: list[str]) -> bytes:
    body = "\n".join(f"    {link}<br>" for link in links)
    return (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        f'    <meta name="pypi:repository-version" content="{API_VERSION}">\n'
        f"    <title>{html.escape(title)}</title>\n  </head>\n  <body>\n"
        f"    <h1>{html.escape(title)}</h1>\n{body}\n  </body>\n</html>\n"
    ).encode()


def _json(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def sdist_builds(
    files_dir: Path, packages: Sequence[LockedPackage], python_version: str, platforms: Sequence[str]
) -> list[SdistBuild]:
    """The sdists among `packages` (in `files_dir`) and what building each needs, read from the files."""
    from bundler.sdists import from_sdist, with_missing
    from solver.python.target import Target

    builds = []
    for p in sorted(
        {p.filename: p for p in packages if not p.filename.endswith(".whl")}.values(),
        key=lambda p: p.filename,
    ):
        builds.append(from_sdist(p.name, p.version, p.filename, (files_dir / p.filename).read_bytes()))
    if not builds:
        return []
    env = Target(python_version, tuple(platforms) or ("manylinux_2_28_x86_64",)).per_platform[0].environment
    return with_missing(builds, {p.name: p.version for p in packages}, env)


def write_metadata(files_dir: Path, packages: list[LockedPackage]) -> dict[str, str]:
    """Extract each wheel's METADATA to `<file>.metadata`; returns {filename: sha256 of metadata}."""
    out: dict[str, str] = {}
    for p in packages:
        data = wheel_metadata(files_dir / p.filename)
        if data is not None:
            (files_dir / (p.filename + ".metadata")).write_bytes(data)
            out[p.filename] = hashlib.sha256(data).hexdigest()
    return out


def requirements(packages: Sequence[LockedPackage], python_version: str, platforms: Sequence[str]) -> bytes:
    """requirements.txt: `name==version` for every locked package, sorted, with a marker on those
    locked for only some of the target `platforms` (their PEP 508 environments, as the solver used)."""
    by_name: dict[str, set[str]] = {}
    versions: dict[str, str] = {}
    for p in packages:
        by_name.setdefault(p.name, set()).add(p.platform)
        versions[p.name] = p.version
    markers: dict[str, str] = {}
    if len(platforms) > 1:
        from solver.python.target import Target

        for t in Target(python_version, tuple(platforms)).per_platform:
            env = t.environment
            markers[t.platform] = (
                f'sys_platform == "{env["sys_platform"]}" and platform_machine == "{env["platform_machine"]}"'
            )
    lines = ["# Every Python package of this bundle at its locked version: pip install -r requirements.txt\n"]
    for name in sorted(by_name):
        plats = by_name[name]
        line = f"{name}=={versions[name]}"
        if "" not in plats and markers and not set(platforms) <= plats:
            conds = sorted({markers[p] for p in plats if p in markers})
            if conds:
                line += "; " + " or ".join(f"({c})" for c in conds)
        lines.append(line + "\n")
    return "".join(lines).encode()


def write_index(
    root: Path, files: list[IndexFile], *, python_version: str = "3.11", platforms: Sequence[str] = ()
) -> dict[str, str]:
    """Write simple/ and requirements.txt under `root` (the bundle's python/); returns {relpath:
    sha256} of what it wrote."""
    projects: dict[str, list[IndexFile]] = {}
    for f in files:
        projects.setdefault(normalize(f.package.name), []).append(f)
    written: dict[str, bytes] = {}
    for project, members in sorted(projects.items()):
        members.sort(key=lambda f: (_version_key(f.package.version), f.package.filename))
        links, entries = [], []
        for f in members:
            p = f.package
            url = f"../../files/{quote(p.filename)}"
            attrs = [f'href="{html.escape(url)}#sha256={p.sha256}"']
            entry: dict[str, Any] = {
                "filename": p.filename,
                "url": url,
                "hashes": {"sha256": p.sha256},
                "size": p.size,
                "yanked": False,
            }
            if p.requires_python:
                attrs.append(f'data-requires-python="{html.escape(p.requires_python, quote=True)}"')
                entry["requires-python"] = p.requires_python
            if f.metadata_sha256:
                # PEP 714's names only, in HTML as in JSON: pip 22.3-23.0 (23.0.1 is Debian
                # bookworm's) read the older `data-dist-info-metadata` and then refuse the file
                # unless the metadata's Name is spelled exactly as the requirement that led there
                # (`Flask` for `flask`: "inconsistent Name"), and crash on the old JSON key when its
                # value is a dict of hashes. Those pips read no PEP 714 name, so they take the
                # metadata from the wheel itself; every later pip and uv read `core-metadata`.
                attrs.append(f'data-core-metadata="sha256={f.metadata_sha256}"')
                entry["core-metadata"] = {"sha256": f.metadata_sha256}
            links.append(f"<a {' '.join(attrs)}>{html.escape(p.filename)}</a>")
            entries.append(entry)
        versions = sorted({f.package.version for f in members}, key=_version_key)
        written[f"simple/{project}/index.html"] = _page(f"Links for {project}", links)
        written[f"simple/{project}/index.json"] = _json(
            {"meta": {"api-version": API_VERSION}, "name": project, "versions": versions, "files": entries}
        )
    root_links = [f'<a href="{quote(p)}/">{html.escape(p)}</a>' for p in sorted(projects)]
    written["simple/index.html"] = _page("Simple index", root_links)
    written["simple/index.json"] = _json(
        {"meta": {"api-version": API_VERSION}, "projects": [{"name": p} for p in sorted(projects)]}
    )
    written["requirements.txt"] = requirements([f.package for f in files], python_version, platforms)
    hashes = {}
    for rel, data in sorted(written.items()):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        hashes[rel] = hashlib.sha256(data).hexdigest()
    return hashes
