"""Test helpers for the Python side: real wheels and sdists built in-process, served as a PEP 691
JSON index, a PEP 503 HTML index and a find-links directory; and an independent solution checker.

The checker shares no code with `solver/` or `repos/`: it reads the locked files themselves (zip/tar),
their METADATA, and checks requirements, markers, Requires-Python, wheel tags, vetoes and hashes with
`packaging` alone.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import tarfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from packaging import tags
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version


@dataclass
class Dist:
    """One distribution to build: a wheel (`tag`) or, with sdist=True, a Metadata-2.2 sdist."""

    name: str
    version: str
    requires: Sequence[str] = ()
    requires_python: str | None = None
    tag: str = "py3-none-any"
    sdist: bool = False
    dynamic: Sequence[str] = ()  # for sdists: e.g. ("Requires-Dist",)
    metadata_version: str = "2.2"
    yanked: str | None = None
    provides_extra: Sequence[str] = ()
    # The name as the file names spell it, as older tools wrote them (`PyYAML`, `zope.interface`);
    # default: the normalised form of today's tools (`pyyaml`, `zope_interface`).
    file_name: str | None = None
    # For sdists, the [build-system] of its pyproject.toml: a list of requirements (built by the
    # sdist's own in-tree backend, see BACKEND), or None for no pyproject.toml at all (a setup.py
    # sdist: PEP 517's default, setuptools' legacy backend).
    build_requires: Sequence[str] | None = ()

    @property
    def stem(self) -> str:
        return f"{self.file_name or canonicalize_name(self.name).replace('-', '_')}-{self.version}"

    @property
    def filename(self) -> str:
        return f"{self.stem}.tar.gz" if self.sdist else f"{self.stem}-{self.tag}.whl"


def metadata_text(d: Dist) -> str:
    lines = [
        f"Metadata-Version: {d.metadata_version if d.sdist else '2.1'}",
        f"Name: {d.name}",
        f"Version: {d.version}",
    ]
    if d.requires_python:
        lines.append(f"Requires-Python: {d.requires_python}")
    for e in d.provides_extra:
        lines.append(f"Provides-Extra: {e}")
    for r in d.requires:
        lines.append(f"Requires-Dist: {r}")
    for dyn in d.dynamic:
        lines.append(f"Dynamic: {dyn}")
    return "\n".join(lines) + "\n\nA test package.\n"


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel(d: Dist, out: Path) -> Path:
    pkg = canonicalize_name(d.name).replace("-", "_")
    info = f"{d.stem}.dist-info"
    members = {
        f"{pkg}/__init__.py": f"__version__ = {d.version!r}\n".encode(),
        f"{info}/METADATA": metadata_text(d).encode(),
        f"{info}/WHEEL": f"Wheel-Version: 1.0\nGenerator: pyindex\nRoot-Is-Purelib: true\nTag: {d.tag}\n".encode(),
    }
    record = "".join(f"{n},{_record_hash(b)},{len(b)}\n" for n, b in members.items()) + f"{info}/RECORD,,\n"
    members[f"{info}/RECORD"] = record.encode()
    path = out / d.filename
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, b in members.items():
            zi = zipfile.ZipInfo(n, date_time=(2024, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, b)
    return path


# A complete PEP 517 build backend, shipped inside the test sdists (`backend-path`), so pip and uv can
# build them with no network and no setuptools: it writes the wheel from the sdist's PKG-INFO.
BACKEND = """\
import base64, hashlib, os, zipfile
from email.parser import HeaderParser

def _meta():
    with open("PKG-INFO", encoding="utf-8") as f:
        text = f.read()
    msg = HeaderParser().parsestr(text)
    return msg["Name"], msg["Version"], text

def _norm(name):
    out = []
    for ch in name.lower():
        out.append("_" if ch in "-_." else ch)
    return "".join(out)

def _hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()

def _dist_info(name, version):
    return f"{_norm(name)}-{version}.dist-info"

def get_requires_for_build_wheel(config_settings=None):
    return []

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    name, version, text = _meta()
    info = _dist_info(name, version)
    os.makedirs(os.path.join(metadata_directory, info))
    with open(os.path.join(metadata_directory, info, "METADATA"), "w", encoding="utf-8") as f:
        f.write(text.replace("Metadata-Version: 2.2", "Metadata-Version: 2.1", 1))
    return info

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name, version, text = _meta()
    info = _dist_info(name, version)
    members = {f"{_norm(name)}/__init__.py": f"__version__ = {version!r}\\n".encode()}
    members[f"{info}/METADATA"] = text.replace("Metadata-Version: 2.2", "Metadata-Version: 2.1", 1).encode()
    members[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\\nGenerator: test-backend\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    record = "".join(f"{n},{_hash(b)},{len(b)}\\n" for n, b in members.items()) + f"{info}/RECORD,,\\n"
    members[f"{info}/RECORD"] = record.encode()
    filename = f"{_norm(name)}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as z:
        for n, b in members.items():
            z.writestr(zipfile.ZipInfo(n, date_time=(2024, 1, 1, 0, 0, 0)), b)
    return filename
"""


def sdist_members(d: Dist) -> dict[str, bytes]:
    """The files of `d`'s sdist: PKG-INFO, and pyproject.toml with the in-tree BACKEND (or, when
    `d.build_requires` is None, a setup.py and no pyproject.toml)."""
    members = {f"{d.stem}/PKG-INFO": metadata_text(d).encode()}
    if d.build_requires is None:
        members[f"{d.stem}/setup.py"] = (
            f"from setuptools import setup\nsetup(name={d.name!r}, version={d.version!r})\n".encode()
        )
    else:
        requires = ", ".join(json.dumps(r) for r in d.build_requires)
        members[f"{d.stem}/pyproject.toml"] = (
            f'[build-system]\nrequires = [{requires}]\nbuild-backend = "backend"\nbackend-path = ["_build"]\n'
        ).encode()
        members[f"{d.stem}/_build/backend.py"] = BACKEND.encode()
    return members


def build_sdist(d: Dist, out: Path) -> Path:
    path = out / d.filename
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for n, b in sdist_members(d).items():
            ti = tarfile.TarInfo(n)
            ti.size = len(b)
            ti.mtime = 1704067200
            ti.mode = 0o644
            t.addfile(ti, io.BytesIO(b))
    path.write_bytes(buf.getvalue())
    return path


def build(d: Dist, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    return build_sdist(d, out) if d.sdist else build_wheel(d, out)


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@dataclass
class Repo:
    """A built repository: root/files (the files), root/simple/<project>/ (index.json, index.html)."""

    root: Path
    dists: list[Dist] = field(default_factory=list)

    @property
    def files(self) -> Path:
        return self.root / "files"

    @property
    def simple(self) -> Path:
        return self.root / "simple"

    def file(self, filename: str) -> Path:
        return self.files / filename


def make_repo(
    root: Path,
    dists: Iterable[Dist],
    *,
    json_pages: bool = True,
    html_pages: bool = True,
    metadata_files: bool = True,
    tamper_metadata: Sequence[str] = (),
    tamper_hash: Sequence[str] = (),
    advertise_metadata: bool = True,
) -> Repo:
    """Build every dist and write the index pages. `metadata_files=False`: no PEP 658 files, so clients
    must read METADATA out of the wheels; `advertise_metadata=False`: the files exist but the pages do
    not say so (some mirrors). `tamper_*`: filenames whose advertised hash is wrong."""
    repo = Repo(Path(root), list(dists))
    by_project: dict[str, list[tuple[Dist, Path]]] = {}
    for d in repo.dists:
        p = build(d, repo.files)
        by_project.setdefault(canonicalize_name(d.name), []).append((d, p))
        if metadata_files and not d.sdist:
            Path(str(p) + ".metadata").write_text(metadata_text(d))
    repo.simple.mkdir(parents=True, exist_ok=True)
    names = sorted(by_project)
    (repo.simple / "index.html").write_text(
        "<!DOCTYPE html><html><body>\n"
        + "".join(f'<a href="{n}/">{n}</a>\n' for n in names)
        + "</body></html>\n"
    )
    for name, items in by_project.items():
        pdir = repo.simple / name
        pdir.mkdir(exist_ok=True)
        files_json: list[dict[str, Any]] = []
        links = []
        for d, p in sorted(items, key=lambda i: i[1].name):
            sha = _sha(p)
            if p.name in tamper_hash:
                sha = "0" * 64
            url = f"../../files/{p.name}"
            entry: dict[str, Any] = {
                "filename": p.name,
                "url": url,
                "hashes": {"sha256": sha},
                "size": p.stat().st_size,
            }
            attrs = f' href="{url}#sha256={sha}"'
            if d.requires_python:
                entry["requires-python"] = d.requires_python
                attrs += f' data-requires-python="{html.escape(d.requires_python)}"'
            if d.yanked is not None:
                entry["yanked"] = d.yanked or True
                attrs += f' data-yanked="{html.escape(d.yanked)}"'
            if metadata_files and advertise_metadata and not d.sdist:
                msha = hashlib.sha256(metadata_text(d).encode()).hexdigest()
                if p.name in tamper_metadata:
                    msha = "f" * 64
                entry["core-metadata"] = {"sha256": msha}
                attrs += f' data-core-metadata="sha256={msha}" data-dist-info-metadata="sha256={msha}"'
            files_json.append(entry)
            links.append(f"<a{attrs}>{p.name}</a>")
        if json_pages:
            doc = {"meta": {"api-version": "1.1"}, "name": name, "files": files_json}
            (pdir / "index.json").write_text(json.dumps(doc, indent=1))
        if html_pages:
            (pdir / "index.html").write_text(
                "<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n"
            )
    return repo


def make_find_links(root: Path, dists: Iterable[Dist]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for d in dists:
        build(d, root)
    return root


# ---- the independent checker -------------------------------------------------------------------
def target_environment(python_version: str, platform: str) -> dict[str, str]:
    """A PEP 508 environment written out by hand for the checker (Linux/macOS/Windows targets)."""
    full = python_version if python_version.count(".") == 2 else python_version + ".0"
    if platform.startswith("win"):
        system = ("win32", "Windows", "nt", "AMD64")
    elif platform.startswith("macosx"):
        system = ("darwin", "Darwin", "posix", platform.rsplit("_", 1)[-1])
    else:
        system = (
            "linux",
            "Linux",
            "posix",
            platform.split("_", 3)[-1] if platform.startswith("manylinux_") else "x86_64",
        )
    return {
        "python_version": ".".join(python_version.split(".")[:2]),
        "python_full_version": full,
        "implementation_name": "cpython",
        "implementation_version": full,
        "platform_python_implementation": "CPython",
        "sys_platform": system[0],
        "platform_system": system[1],
        "os_name": system[2],
        "platform_machine": system[3],
        "platform_release": "",
        "platform_version": "",
        "extra": "",
    }


def accepted_tags(python_version: str, platform_tags: Sequence[str]) -> set[tags.Tag]:
    major, minor = (int(x) for x in python_version.split(".")[:2])
    out = set(tags.cpython_tags((major, minor), abis=[f"cp{major}{minor}"], platforms=platform_tags))
    out |= set(tags.compatible_tags((major, minor), interpreter=f"cp{major}{minor}", platforms=platform_tags))
    return out


def _file_metadata(path: Path) -> Any:
    if path.name.endswith(".whl"):
        with zipfile.ZipFile(path) as z:
            name = next(n for n in z.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA"))
            return BytesHeaderParser().parsebytes(z.read(name))
    with tarfile.open(path) as t:
        m = next(m for m in t if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO"))
        f = t.extractfile(m)
        assert f is not None
        return BytesHeaderParser().parsebytes(f.read())


def check_solution(
    packages: Sequence[Any],
    requires: Sequence[str],
    *,
    python_version: str,
    platforms: dict[str, Sequence[str]],  # target platform -> the platform tags it accepts
    file_dirs: Sequence[Path],
    vetoes: Sequence[tuple[str, str | None]] = (),
    constraints: Sequence[str] = (),
) -> None:
    """Raise AssertionError unless `packages` (LockedPackage-like) is a valid solution."""
    by_name: dict[str, list[Any]] = {}
    for p in packages:
        by_name.setdefault(p.name, []).append(p)
    versions = {}
    for name, ps in by_name.items():
        assert len({p.version for p in ps}) == 1, f"{name}: several versions {[p.version for p in ps]}"
        versions[name] = Version(ps[0].version)
        for veto_name, veto_spec in vetoes:
            if canonicalize_name(veto_name) == name:
                assert veto_spec and not SpecifierSet(veto_spec).contains(versions[name], prereleases=True), (
                    f"{name} {versions[name]} is vetoed"
                )
    for text in constraints:
        c = Requirement(text)
        n = canonicalize_name(c.name)
        if n in versions:
            assert c.specifier.contains(versions[n], prereleases=True), f"{n} breaks constraint {text}"
    metas = {}
    for p in packages:
        found = [d / p.filename for d in file_dirs if (d / p.filename).is_file()]
        assert found, f"{p.filename} not found"
        data = found[0].read_bytes()
        assert hashlib.sha256(data).hexdigest() == p.sha256, f"{p.filename}: sha256 differs"
        assert len(data) == p.size, f"{p.filename}: size differs"
        metas[p.name] = _file_metadata(found[0])
        rp = metas[p.name].get("Requires-Python")
        if rp:
            assert SpecifierSet(str(rp)).contains(Version(python_version), prereleases=True), (
                f"{p.name} requires Python {rp}"
            )
    for platform, plat_tags in platforms.items():
        _check_platform(platform, plat_tags, packages, requires, versions, metas, python_version)
    for p in packages:
        for dep in p.depends:
            assert dep.startswith("python:") and dep[7:] in by_name, f"{p.name} depends on unknown {dep}"


def _check_platform(
    platform: str,
    plat_tags: Sequence[str],
    packages: Sequence[Any],
    requires: Sequence[str],
    versions: dict[str, Version],
    metas: dict[str, Any],
    python_version: str,
) -> None:
    env = target_environment(python_version, platform)
    ok_tags = accepted_tags(python_version, plat_tags)
    serving: dict[str, Any] = {}  # the file that serves each package on this platform
    for p in packages:
        if p.platform in ("", platform):
            serving.setdefault(p.name, p)
    extras_wanted: dict[str, set[str]] = {}

    def need(text: str, extra: str, who: str) -> None:
        r = Requirement(text)
        if r.marker is not None and not Marker(str(r.marker)).evaluate({**env, "extra": extra}):
            return
        n = canonicalize_name(r.name)
        assert n in serving, f"{who} needs {text} on {platform}, absent"
        assert r.specifier.contains(versions[n], prereleases=True), (
            f"{who} needs {text}, got {n} {versions[n]}"
        )
        for e in r.extras:
            extras_wanted.setdefault(n, set()).add(canonicalize_name(e))

    for text in requires:
        need(text, "", "you")
    done: set[tuple[str, str]] = set()
    changed = True
    while changed:
        changed = False
        for name in list(serving):
            for extra in ["", *sorted(extras_wanted.get(name, ()))]:
                if (name, extra) in done:
                    continue
                done.add((name, extra))
                changed = True
                for text in metas[name].get_all("Requires-Dist") or ():
                    need(str(text), extra, f"{name} {versions[name]}")
    for p in serving.values():
        if p.filename.endswith(".whl"):
            _, _, _, wtags = parse_wheel_filename(p.filename)
            assert wtags & ok_tags, f"{p.filename} does not install on {platform}"
