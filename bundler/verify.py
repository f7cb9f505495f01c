"""`bundler verify OUT`: re-check a bundle (DESIGN.md, "The bundle").

Checksums, outside in: SHA256SUMS → every file (and no file missing from it); dists/*/Release →
the Packages indexes (and InRelease says the same as Release); Packages → the .debs (Size, SHA256,
MD5sum); Sources → the source packages' files (Checksums-Sha256, Files), each .dsc → the files it
lists, and, in a bundle with source packages, every binary's source (its Source field) is there; the
PEP 503 pages and PEP 691 JSON → the distribution files and their PEP 658 metadata;
bundle.lock → every package file, and the Release signatures against the signer the bundle names
(bundler/provenance.py).

Closure: every Depends/Pre-Depends OR group of every package has a provider in the same architecture's
indexes, by name or by Provides, with its version relation (Debian Policy §7.1, §7.5); every
Requires-Dist of every Python file whose marker holds for the target (PEP 508; the lock's
`python-version` and `platforms`, default Python 3.11 on linux x86_64) names a project the bundle has
a matching version of, and every file's Requires-Python admits the target.

The result is a list of problems, each naming the file or package at fault; empty means clean.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import lzma
import os
import re
import tarfile
import zipfile
from dataclasses import dataclass, field
from email.parser import HeaderParser
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from bundler.build.debfile import parse_stanzas
from bundler.build.pyindex import normalize, wheel_metadata
from bundler.lock import Lock, loads
from bundler.provenance import check_lock_files, check_signatures
from solver.debversion import satisfies
from solver.errors import BundlerError, InputError
from solver.model import format_group
from solver.relations import parse_dep_list, parse_relations

CHUNK = 1 << 20


@dataclass
class VerifyReport:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was not checked, and why
    files: int = 0
    debs: int = 0
    python_files: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


class _Digests:
    """sha256 (and md5) of bundle files, each file read once however many indexes list it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[str, tuple[int, str, str] | None] = {}

    def get(self, rel: str) -> tuple[int, str, str] | None:
        if rel not in self._cache:
            path = self.root / rel
            if not _inside(self.root, rel) or not path.is_file():
                self._cache[rel] = None
            else:
                sha, md5, n = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
                with open(path, "rb") as f:
                    while chunk := f.read(CHUNK):
                        sha.update(chunk)
                        md5.update(chunk)
                        n += len(chunk)
                self._cache[rel] = (n, sha.hexdigest(), md5.hexdigest())
        return self._cache[rel]


def _inside(root: Path, rel: str) -> bool:
    return not (rel.startswith("/") or ".." in rel.split("/") or rel == "")


def _walk(root: Path) -> list[str]:
    out: list[str] = []
    for dirpath, _dirs, files in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        out.extend(name if rel == "." else f"{rel}/{name}" for name in files)
    return sorted(out)


# -- SHA256SUMS -----------------------------------------------------------------------------------
def _check_sums(root: Path, digests: _Digests, problems: list[str]) -> int:
    sums = root / "SHA256SUMS"
    if not sums.is_file():
        problems.append("SHA256SUMS: missing")
        return 0
    listed: set[str] = set()
    for n, line in enumerate(sums.read_text("utf-8", "replace").splitlines(), 1):
        m = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line)
        if not m:
            problems.append(f"SHA256SUMS:{n}: malformed line")
            continue
        digest, rel = m.groups()
        listed.add(rel)
        got = digests.get(rel)
        if got is None:
            problems.append(f"{rel}: listed in SHA256SUMS but missing")
        elif got[1] != digest:
            problems.append(
                f"{rel}: sha256 mismatch (SHA256SUMS says {digest[:16]}…, the file is {got[1][:16]}…)"
            )
    for rel in _walk(root):
        if rel != "SHA256SUMS" and rel not in listed:
            problems.append(f"{rel}: not listed in SHA256SUMS")
    return len(listed)


# -- Debian ---------------------------------------------------------------------------------------
def _fields(stanza: list[tuple[str, str]]) -> dict[str, str]:
    return {k.lower(): v for k, v in stanza}


def _clearsigned_text(data: str) -> str | None:
    m = re.search(
        r"-----BEGIN PGP SIGNED MESSAGE-----\n(?:[^\n]+\n)*\n(.*?)\n-----BEGIN PGP SIGNATURE-----", data, re.S
    )
    if m is None:
        return None
    return "\n".join(line[2:] if line.startswith("- ") else line for line in m.group(1).split("\n")) + "\n"


@dataclass
class _Deb:
    name: str
    version: str
    arch: str
    fields: dict[str, str]
    where: str


def _check_debian(
    root: Path,
    digests: _Digests,
    problems: list[str],
    keyring: str | None = None,
    want_sources: bool = False,
    base: dict[str, list[_Deb]] | None = None,
    closure: bool = True,
) -> int:
    """`base`: the packages of the bundle a hotfix bundle completes (they count as providers);
    `closure`: whether to check dependencies at all (not for a hotfix bundle without its base)."""
    dists = root / "debian" / "dists"
    seen_files: set[str] = set()
    if not dists.is_dir():
        return 0
    for suite_dir in sorted(p for p in dists.iterdir() if p.is_dir()):
        release_path = suite_dir / "Release"
        rel_release = f"debian/dists/{suite_dir.name}/Release"
        if not release_path.is_file():
            problems.append(f"{rel_release}: missing")
            continue
        release_text = release_path.read_text("utf-8", "replace")
        check_signatures(root, suite_dir, keyring, problems)
        inrelease = suite_dir / "InRelease"
        if inrelease.is_file():
            signed = _clearsigned_text(inrelease.read_text("utf-8", "replace"))
            if signed is None or signed.rstrip("\n") != release_text.rstrip("\n"):
                problems.append(f"debian/dists/{suite_dir.name}/InRelease: does not match Release")
        stanzas = parse_stanzas(release_text, f"debian/dists/{suite_dir.name}/Release")
        release = _fields(stanzas[0]) if stanzas else {}
        listed: dict[str, tuple[int, str]] = {}
        for line in release.get("sha256", "").splitlines():
            parts = line.split()
            if len(parts) == 3:
                listed[parts[2]] = (int(parts[1]), parts[0])
        if not listed:
            problems.append(f"{rel_release}: no SHA256 list")
        for rel, (size, digest) in sorted(listed.items()):
            got = digests.get(f"debian/dists/{suite_dir.name}/{rel}")
            if got is None:
                problems.append(f"{rel_release}: lists {rel}, which is missing")
            elif (got[0], got[1]) != (size, digest):
                problems.append(f"debian/dists/{suite_dir.name}/{rel}: size/sha256 differ from Release")
        by_arch: dict[str, list[_Deb]] = {}
        needs: list[tuple[str, str, str]] = []  # (source, version, binary) of every binary
        for rel in sorted(listed):
            m = re.fullmatch(r"(.+)/binary-([^/]+)/Packages", rel)
            if not m:
                continue
            arch = m.group(2)
            where = f"debian/dists/{suite_dir.name}/{rel}"
            try:
                text = (root / where).read_text("utf-8")
                packages = parse_stanzas(text, where)
            except (OSError, UnicodeDecodeError, BundlerError) as e:
                problems.append(f"{where}: unreadable ({e})")
                continue
            for stanza in packages:
                f = _fields(stanza)
                name, version = f.get("package", "?"), f.get("version", "?")
                label = f"deb {name} {version} ({f.get('architecture', '?')})"
                filename = f.get("filename", "")
                got = digests.get(f"debian/{filename}") if filename else None
                if got is None:
                    problems.append(f"{label}: its file {filename or '(no Filename)'} is missing")
                else:
                    if str(got[0]) != f.get("size") or got[1] != f.get("sha256"):
                        problems.append(f"debian/{filename}: size/sha256 differ from {where}")
                    elif "md5sum" in f and got[2] != f["md5sum"]:
                        problems.append(f"debian/{filename}: MD5sum differs from {where}")
                seen_files.add(filename)
                src, _, src_version = f.get("source", name).partition(" ")
                needs.append((src, src_version.strip(" ()") or version, label))
                by_arch.setdefault(arch, []).append(_Deb(name, version, f.get("architecture", ""), f, where))
        for arch, debs in sorted(by_arch.items()):
            if arch != "all" and closure:
                extra = (base or {}).get(arch, []) + (base or {}).get("all", [])
                _check_deb_closure(arch, debs + by_arch.get("all", []) + extra, problems)
        _check_deb_sources(root, suite_dir.name, listed, digests, problems, needs, want_sources)
    return len(seen_files)


def _bundle_debs(root: Path) -> dict[str, list[_Deb]]:
    """Every Packages stanza of the bundle at `root`, by the architecture of its index (no checks:
    the base of a hotfix bundle is verified on its own)."""
    out: dict[str, list[_Deb]] = {}
    for index in sorted((root / "debian" / "dists").glob("*/*/binary-*/Packages")):
        arch = index.parent.name.removeprefix("binary-")
        try:
            stanzas = parse_stanzas(index.read_text("utf-8"), str(index))
        except (OSError, UnicodeDecodeError, BundlerError) as e:
            raise InputError(f"unreadable ({e})", where=str(index)) from None
        for stanza in stanzas:
            f = _fields(stanza)
            out.setdefault(arch, []).append(
                _Deb(f.get("package", "?"), f.get("version", "?"), f.get("architecture", ""), f, str(index))
            )
    return out


def _base_lock(out: Path, problems: list[str]) -> Lock | None:
    """The lock of the bundle a hotfix bundle completes (its base.lock), if this is one."""
    path = out / "base.lock"
    if not path.is_file():
        return None
    try:
        return loads(path.read_text("utf-8"), str(path))
    except BundlerError as e:
        problems.append(f"base.lock: {e.message}")
        return None


def _base_lock_of(base: Path, problems: list[str]) -> Lock | None:
    try:
        return loads((base / "bundle.lock").read_text("utf-8"), str(base / "bundle.lock"))
    except OSError as e:
        problems.append(f"{base}/bundle.lock: unreadable ({e.strerror})")
    except BundlerError as e:
        problems.append(f"{base}/bundle.lock: {e.message}")
    return None


def _no_epoch(version: str) -> str:
    return version.split(":", 1)[1] if ":" in version else version


def _check_deb_sources(
    root: Path,
    suite: str,
    listed: dict[str, tuple[int, str]],
    digests: _Digests,
    problems: list[str],
    needs: list[tuple[str, str, str]],
    want: bool,
) -> None:
    """Sources → files (size, SHA256, MD5), each .dsc → its files, and every binary → its source."""
    from bundler.build.debsrc import read_dsc

    have: set[tuple[str, str]] = set()
    indexes = [rel for rel in sorted(listed) if re.fullmatch(r"(.+/)?source/Sources", rel) or rel == "Sources"]
    for rel in indexes:
        where = f"debian/dists/{suite}/{rel}"
        try:
            stanzas = parse_stanzas((root / where).read_text("utf-8"), where)
        except (OSError, UnicodeDecodeError, BundlerError) as e:
            problems.append(f"{where}: unreadable ({e})")
            continue
        for stanza in stanzas:
            f = _fields(stanza)
            name, version, directory = f.get("package", "?"), f.get("version", "?"), f.get("directory", "")
            have.add((name, _no_epoch(version)))
            label = f"deb-src {name} {version}"
            sums = {}
            for title, kind, algo in (("checksums-sha256", 1, "sha256"), ("files", 2, "md5")):
                for line in f.get(title, "").splitlines():
                    parts = line.split()
                    if len(parts) != 3:
                        continue
                    path = f"debian/{directory}/{parts[2]}"
                    got = digests.get(path)
                    if got is None:
                        problems.append(f"{label}: its file {directory}/{parts[2]} is missing")
                    elif str(got[0]) != parts[1] or got[kind] != parts[0]:
                        problems.append(f"{path}: size/{algo} differ from {where}")
                    if kind == 1:
                        sums[parts[2]] = (parts[1], parts[0])
            dscs = [n for n in sums if n.endswith(".dsc")]
            if len(dscs) != 1:
                problems.append(f"{label}: {len(dscs)} .dsc files listed in {where}")
                continue
            dsc = f"debian/{directory}/{dscs[0]}"
            if digests.get(dsc) is None:
                continue
            try:
                fields = dict(read_dsc(root / dsc, dsc))
            except BundlerError as e:
                problems.append(f"{dsc}: {e.message}")
                continue
            in_dsc = {}
            for line in fields.get("Checksums-Sha256", "").splitlines():
                parts = line.split()
                if len(parts) == 3:
                    in_dsc[parts[2]] = (parts[1], parts[0])
            others = {k: v for k, v in sums.items() if k != dscs[0]}
            for n in sorted(set(in_dsc) | set(others)):
                if in_dsc.get(n) != others.get(n):
                    problems.append(f"{dsc}: {n} differs from {where} (or is missing from one of them)")
    if not (want or indexes):
        return
    missing = sorted({(s, v, b) for s, v, b in needs if (s, _no_epoch(v)) not in have})
    reported: set[tuple[str, str]] = set()
    for s, v, b in missing:
        if (s, v) not in reported:
            reported.add((s, v))
            problems.append(f"{b}: its source package {s} {v} is not in debian/dists/{suite}'s Sources")


def _check_deb_closure(arch: str, debs: list[_Deb], problems: list[str]) -> None:
    names: dict[str, list[str]] = {}
    provides: dict[str, list[str | None]] = {}
    for d in debs:
        names.setdefault(d.name, []).append(d.version)
        try:
            for p in parse_dep_list(d.fields.get("provides", ""), arch):
                provides.setdefault(p.name, []).append(p.version if p.op == "=" else None)
        except BundlerError as e:
            problems.append(f"deb {d.name} {d.version}: bad Provides ({e})")
    seen: set[tuple[str, str, str]] = set()
    for d in debs:
        if d.arch not in (arch, "all") or (d.name, d.version, d.arch) in seen:
            continue
        seen.add((d.name, d.version, d.arch))
        for field_name in ("pre-depends", "depends"):
            try:
                groups = parse_relations(d.fields.get(field_name, ""), arch)
            except BundlerError as e:
                problems.append(f"deb {d.name} {d.version}: bad {field_name} ({e})")
                continue
            for group in groups:
                if not any(_deb_satisfied(dep.name, dep.op, dep.version, names, provides) for dep in group):
                    title = "Pre-Depends" if field_name == "pre-depends" else "Depends"
                    problems.append(
                        f"deb {d.name} {d.version} ({d.arch}): {title} '{format_group(group)}' "
                        f"has no provider in the bundle for {arch}"
                    )


def _deb_satisfied(
    name: str,
    op: str | None,
    version: str | None,
    names: dict[str, list[str]],
    provides: dict[str, list[str | None]],
) -> bool:
    if any(satisfies(v, op, version) for v in names.get(name, ())):
        return True
    for provided in provides.get(name, ()):
        if op is None or (provided is not None and satisfies(provided, op, version)):
            return True
    return False


# -- Python ---------------------------------------------------------------------------------------
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


def _check_python(root: Path, digests: _Digests, lock: Lock | None, problems: list[str]) -> int:
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


def verify_bundle(out: Path, keyring: str | None = None, base: Path | None = None) -> VerifyReport:
    """Check the bundle at `out`; the report's `problems` name every file or package at fault.
    Signatures are checked with the shipped debian/bundle.gpg, or with `keyring` (which also requires
    every suite to be signed).

    A hotfix bundle (bundler/delta.py: it holds `base.lock`) ships only what changed: its lock's
    other packages are the base's, so only the shipped ones are looked for, and its Debian
    dependencies are checked together with the packages of the `base` bundle directory when given,
    else not at all (said in `notes`; `bundler upgrade-check` proves the pair with apt)."""
    out = Path(out)
    report = VerifyReport()
    if not out.is_dir():
        report.problems.append(f"{out}: not a directory")
        return report
    digests = _Digests(out)
    report.files = _check_sums(out, digests, report.problems)
    lock: Lock | None = None
    lock_path = out / "bundle.lock"
    if lock_path.is_file():
        try:
            lock = loads(lock_path.read_text("utf-8"), str(lock_path))
        except BundlerError as e:
            report.problems.append(f"bundle.lock: {e.message}")
    else:
        report.problems.append("bundle.lock: missing")
    want_sources = lock is not None and bool(lock.sources or lock.extra.get("source-packages"))
    base_lock = _base_lock(out, report.problems)
    if lock is not None:
        if base_lock is not None:
            unchanged = {(p.id, p.version, p.sha256) for p in base_lock.packages}
            lock = dataclasses.replace(
                lock, packages=tuple(p for p in lock.packages if (p.id, p.version, p.sha256) not in unchanged)
            )
        check_lock_files(lock, digests, report.problems)
    base_debs = None
    if base_lock is not None:
        if base is None:
            report.notes.append("a hotfix bundle: its dependencies were not checked (give --base BUNDLE)")
        else:
            base_debs = _bundle_debs(Path(base))
            theirs = _base_lock_of(Path(base), report.problems)
            if theirs is not None and {p.id + p.sha256 for p in theirs.packages} != {
                p.id + p.sha256 for p in base_lock.packages
            }:
                report.problems.append(f"{base}: its bundle.lock is not this hotfix bundle's base.lock")
    elif base is not None:
        raise InputError("--base is for a hotfix bundle (one with base.lock)", where=str(out))
    report.debs = _check_debian(
        out, digests, report.problems, keyring, want_sources, base_debs,
        closure=base_lock is None or base_debs is not None,
    )  # fmt: skip
    report.python_files = _check_python(out, digests, lock, report.problems)
    return report
