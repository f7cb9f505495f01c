"""Real Debian source packages for tests, and Sources indexes for a `DebRepo` (Debian Policy §5.4;
wiki.debian.org/DebianRepository/Format, "Sources Indices").

    src = build_source(tmp / "src", "hello", "1.0-1", binaries=["hello", "libhello1"])   # 3.0 (quilt)
    nat = build_source(tmp / "src", "greet-data", "2.0")                                 # 3.0 (native)
    repo = DebRepo(tmp / "mirror"); repo.add(...binaries...); repo.write(sign_with=key)
    sources = DebSources(repo); sources.add("bookworm", "main", src); sources.write(sign_with=key)

`build_source` runs the real `dpkg-source -b` on a tiny package tree (an upstream tarball written with
fixed mtimes for quilt); `DebSources.write` writes `<component>/source/Sources{,.gz,.xz}` the way dak
does (the .dsc's fields, Source renamed Package, plus Directory, Files, Checksums-Sha256) and re-lists
(and re-signs) the suite's Release, so the Sources indexes are listed in a (signed) Release.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.debrepo import DebRepo, GpgKey, compress, pool_prefix, strip_epoch

EPOCH = 1700000000


@dataclass
class SourceBuild:
    name: str
    version: str
    dsc: Path
    files: list[Path]  # the .dsc and every file it lists

    def dsc_fields(self) -> dict[str, str]:
        return _fields(self.dsc.read_text())


def _fields(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    last = ""
    for line in text.strip("\n").split("\n"):
        if line[:1] in (" ", "\t"):
            out[last] += "\n" + line
        elif line:
            last, _, value = line.partition(":")
            out[last] = value.strip()
    return out


def _tar_gz(path: Path, top: str, files: dict[str, str]) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size, info.mtime, info.mode, info.uname, info.gname = len(data), EPOCH, 0o644, "root", "root"
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(compress(buf.getvalue(), ".gz"))


def build_source(
    workdir: Path, name: str, version: str, *, binaries: list[str] | None = None, arch: str = "any"
) -> SourceBuild:
    """A real source package: `3.0 (native)` when `version` has no Debian revision, else `3.0 (quilt)`."""
    workdir.mkdir(parents=True, exist_ok=True)
    plain = strip_epoch(version)
    native = "-" not in plain
    upstream = plain if native else plain.rsplit("-", 1)[0]
    tree = workdir / f"{name}-{upstream}"
    shutil.rmtree(tree, ignore_errors=True)
    if not native:
        _tar_gz(workdir / f"{name}_{upstream}.orig.tar.gz", f"{name}-{upstream}",
                {"README": f"{name} upstream {upstream}\n", "hello.c": "int main(void) { return 0; }\n"})
        with tarfile.open(workdir / f"{name}_{upstream}.orig.tar.gz") as tar:
            tar.extractall(workdir)  # noqa: S202 - our own tarball
    else:
        tree.mkdir()
        (tree / "README").write_text(f"{name} native {version}\n")
    deb = tree / "debian"
    (deb / "source").mkdir(parents=True)
    (deb / "source" / "format").write_text("3.0 (native)\n" if native else "3.0 (quilt)\n")
    stanzas = [
        f"Source: {name}\nSection: misc\nPriority: optional\nMaintainer: Bundler Tests <tests@example.invalid>\n"
        "Standards-Version: 4.6.2\n"
    ]
    for b in binaries or [name]:
        stanzas.append(f"Package: {b}\nArchitecture: {arch}\nDescription: {b}\n test binary {b}\n")
    (deb / "control").write_text("\n".join(stanzas))
    (deb / "changelog").write_text(
        f"{name} ({version}) unstable; urgency=medium\n\n  * Test package.\n\n"
        " -- Bundler Tests <tests@example.invalid>  Tue, 14 Nov 2023 22:13:20 +0000\n"
    )
    (deb / "rules").write_text("#!/usr/bin/make -f\n%:\n\tdh $@\n")
    (deb / "rules").chmod(0o755)
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(EPOCH))
    proc = subprocess.run(["dpkg-source", "-b", tree.name], cwd=workdir, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    dsc = workdir / f"{name}_{plain}.dsc"
    build = SourceBuild(name, version, dsc, [dsc])
    for line in build.dsc_fields()["Checksums-Sha256"].strip().split("\n"):
        build.files.append(workdir / line.split()[2])
    return build


@dataclass
class DebSources:
    """Source packages of a `DebRepo`: placed in its pool, listed in `Sources`, and the Release re-listed."""

    repo: DebRepo
    stanzas: list[tuple[str, str, str, str]] = field(default_factory=list)  # suite, component, name, text

    def add(self, suite: str, component: str, build: SourceBuild, *, edit: dict[str, str] | None = None) -> Path:
        """Copy `build`'s files into the pool; returns their directory. `edit` overrides stanza fields."""
        directory = f"pool/{component}/{pool_prefix(build.name)}/{build.name}"
        (self.repo.root / directory).mkdir(parents=True, exist_ok=True)
        for f in build.files:
            shutil.copyfile(f, self.repo.root / directory / f.name)
        self.stanzas.append((suite, component, build.name, self.stanza(build, directory, edit)))
        return self.repo.root / directory

    def stanza(self, build: SourceBuild, directory: str, edit: dict[str, str] | None = None) -> str:
        fields = build.dsc_fields()
        out = {"Package": fields.pop("Source")}
        for k, v in fields.items():
            if k not in ("Files", "Checksums-Sha1", "Checksums-Sha256"):
                out[k] = v
        files = [self.repo.root / directory / f.name for f in build.files]
        out["Directory"] = directory
        out["Files"] = "".join(
            f"\n {hashlib.md5(p.read_bytes()).hexdigest()} {p.stat().st_size} {p.name}" for p in sorted(files)
        )
        out["Checksums-Sha256"] = "".join(
            f"\n {hashlib.sha256(p.read_bytes()).hexdigest()} {p.stat().st_size} {p.name}" for p in sorted(files)
        )
        out.update(edit or {})
        return "".join(f"{k}:{'' if v.startswith(chr(10)) else ' '}{v}\n" for k, v in out.items())

    def write(self, sign_with: GpgKey | None = None, compressions: tuple[str, ...] = ("", ".gz", ".xz")) -> None:
        """After `repo.write()`: write the Sources indexes and re-list (and re-sign) each Release."""
        for suite in sorted({s[0] for s in self.stanzas}):
            dist = self.repo.root / "dists" / suite
            for comp in sorted({s[1] for s in self.stanzas if s[0] == suite}):
                text = "\n".join(
                    t for _s, _c, _n, t in sorted(x for x in self.stanzas if x[0] == suite and x[1] == comp)
                ).encode()
                (dist / comp / "source").mkdir(parents=True, exist_ok=True)
                for ext in compressions:
                    (dist / comp / "source" / f"Sources{ext}").write_bytes(compress(text, ext))
            self.repo.relist(dist / "Release", sign_with=sign_with)

    def write_flat(self, directory: str, sign_with: GpgKey | None = None) -> None:
        """After `repo.write_flat(directory)`: `Sources` (every stanza) beside its Release, re-listed."""
        top = self.repo.root / directory
        (top / "Sources").write_bytes("\n".join(t for *_k, t in sorted(self.stanzas)).encode())
        self.repo.relist(top / "Release", sign_with=sign_with)
