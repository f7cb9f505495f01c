"""`bundler verify`, the Python index of a bundle: the PEP 503 pages and PEP 691 JSON → the files and
their PEP 658 metadata, and every file's Requires-Dist and Requires-Python against the target
(PEP 508). See bundler/verify/__init__.py."""

from __future__ import annotations

import gzip
import json
import lzma
import os
import re
import tarfile
import zipfile
from dataclasses import dataclass
from email.parser import HeaderParser
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from bundler.build.pyindex import normalize, wheel_metadata
from bundler.lock import Lock
from solver.errors import BundlerError

from .sums import Digests


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str]] = []
        self._current: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._current = {k: v or "" for k, v in attrs}
            self._current["#text"] = ""

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current["#text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._current is not None:
            self.links.append(self._current)
            self._current = None


@dataclass
class _PyFile:
    project: str
    filename: str
    rel: str  # relative to the bundle root
    requires_python: str
    metadata_rel: str | None


def _target(lock: Lock | None) -> tuple[str, dict[str, str]]:
    extra: dict[str, Any] = dict(lock.extra) if lock is not None else {}
    nested: dict[str, Any] = extra["python"] if isinstance(extra.get("python"), dict) else {}
    pv = str(
        extra.get("python-version") or extra.get("python_version") or nested.get("python-version") or "3.11"
    )
    platforms = extra.get("platforms") or nested.get("platforms") or []
    machine = "x86_64"
    for tag in platforms if isinstance(platforms, list) else []:
        for m in ("aarch64", "arm64", "x86_64", "i686", "ppc64le", "s390x", "armv7l"):
            if str(tag).endswith(m):
                machine = "aarch64" if m == "arm64" else m
                break
    full = pv if pv.count(".") >= 2 else f"{pv}.0"
    env = {
        "python_version": ".".join(full.split(".")[:2]),
        "python_full_version": full,
        "implementation_name": "cpython",
        "implementation_version": full,
        "platform_python_implementation": "CPython",
        "os_name": "posix",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": machine,
        "platform_release": "",
        "platform_version": "",
        "extra": "",
    }
    return full, env


def check_python(root: Path, digests: Digests, lock: Lock | None, problems: list[str]) -> int:
    simple = root / "python" / "simple"
    if not simple.is_dir():
        return 0
    files: list[_PyFile] = []
    for page in sorted(simple.glob("*/index.html")):
        project = page.parent.name
        base = f"python/simple/{project}/"
        parser = _Links()
        parser.feed(page.read_text("utf-8", "replace"))
        json_files: dict[str, dict[str, Any]] = {}
        json_page = page.with_name("index.json")
        if json_page.is_file():
            try:
                json_files = {f["filename"]: f for f in json.loads(json_page.read_text("utf-8"))["files"]}
            except (ValueError, KeyError, TypeError) as e:
                problems.append(f"{base}index.json: unreadable ({e})")
        for link in parser.links:
            url = urlsplit(link.get("href", ""))
            rel = os.path.normpath(base + unquote(url.path)).replace(os.sep, "/")
            filename = rel.rsplit("/", 1)[-1]
            m = re.fullmatch(r"sha256=([0-9a-f]{64})", url.fragment)
            got = digests.get(rel)
            if got is None:
                problems.append(f"{base}index.html: links to {rel}, which is missing")
                continue
            if m is None:
                problems.append(f"{base}index.html: no sha256 for {filename}")
            elif got[1] != m.group(1):
                problems.append(f"{rel}: sha256 differs from {base}index.html")
            meta_rel = None
            core = link.get("data-core-metadata") or link.get("data-dist-info-metadata")
            if core and core != "true":
                meta_rel = rel + ".metadata"
                meta = digests.get(meta_rel)
                if meta is None:
                    problems.append(f"{meta_rel}: announced by {base}index.html but missing")
                    meta_rel = None
                elif core != f"sha256={meta[1]}":
                    problems.append(f"{meta_rel}: sha256 differs from {base}index.html")
            entry = json_files.get(filename)
            if json_files and entry is None:
                problems.append(f"{base}index.json: does not list {filename}")
            elif entry is not None and entry.get("hashes", {}).get("sha256") != got[1]:
                problems.append(f"{rel}: sha256 differs from {base}index.json")
            files.append(_PyFile(project, filename, rel, link.get("data-requires-python", ""), meta_rel))
    _check_py_closure(root, files, lock, problems)
    return len(files)


def _metadata(root: Path, f: _PyFile) -> str | None:
    path = root / f.rel
    try:
        if f.metadata_rel is not None:
            return (root / f.metadata_rel).read_text("utf-8", "replace")
        data = wheel_metadata(path)
        if data is not None:
            return data.decode("utf-8", "replace")
        if f.filename.endswith((".tar.gz", ".tgz")):
            with tarfile.open(path, "r:gz") as tar:
                for member in tar:
                    if member.name.count("/") == 1 and member.name.endswith("/PKG-INFO"):
                        fh = tar.extractfile(member)
                        return fh.read().decode("utf-8", "replace") if fh else None
        if f.filename.endswith(".zip"):
            with zipfile.ZipFile(path) as zf:
                for name in zf.namelist():
                    if name.count("/") == 1 and name.endswith("/PKG-INFO"):
                        return zf.read(name).decode("utf-8", "replace")
    except (
        OSError,
        BundlerError,
        tarfile.TarError,
        zipfile.BadZipFile,
        EOFError,
        lzma.LZMAError,
        gzip.BadGzipFile,
    ):
        return None
    return None


def _check_py_closure(root: Path, files: list[_PyFile], lock: Lock | None, problems: list[str]) -> None:
    full, env = _target(lock)
    target_version = Version(full)
    versions: dict[str, list[Version]] = {}
    metas: dict[str, Any] = {}  # rel -> email.message.Message
    for f in files:
        text = _metadata(root, f)
        if text is None:
            problems.append(f"{f.rel}: no readable metadata")
            continue
        parsed = HeaderParser().parsestr(text)
        metas[f.rel] = parsed
        try:
            versions.setdefault(normalize(parsed.get("Name", f.project)), []).append(
                Version(parsed.get("Version", ""))
            )
        except InvalidVersion:
            problems.append(f"{f.rel}: invalid version {parsed.get('Version')!r}")
    for f in files:
        meta = metas.get(f.rel)
        if meta is None:
            continue
        label = f"python {meta.get('Name')} {meta.get('Version')} ({f.filename})"
        rp = meta.get("Requires-Python") or f.requires_python
        if rp:
            try:
                if not SpecifierSet(rp).contains(target_version, prereleases=True):
                    problems.append(f"{label}: Requires-Python {rp} excludes the target Python {full}")
            except InvalidSpecifier:
                problems.append(f"{label}: invalid Requires-Python {rp!r}")
        for text in meta.get_all("Requires-Dist") or []:
            try:
                req = Requirement(text)
            except InvalidRequirement as e:
                problems.append(f"{label}: bad Requires-Dist {text!r} ({e})")
                continue
            if req.marker is not None and not Marker(str(req.marker)).evaluate(env):
                continue
            have = versions.get(normalize(req.name), [])
            if not any(req.specifier.contains(v, prereleases=True) for v in have):
                found = ", ".join(str(v) for v in sorted(have)) or "no file"
                problems.append(f"{label}: requires '{text}' but the bundle has {found}")


