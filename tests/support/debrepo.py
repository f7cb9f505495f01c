"""Build small, real Debian repositories for tests (wiki.debian.org/DebianRepository/Format).

    deb = build_deb(tmp_path, "hello", "1.0-1", depends="libc6 (>= 2.36)")   # a real .deb
    repo = DebRepo(tmp_path / "mirror")
    repo.add("bookworm", "main", name="hello", version="1.0-1", depends="libfoo")
    repo.add("bookworm", "main", name="libfoo", version="2.0", arch="all")
    key = GpgKey.generate()                     # throwaway ed25519 key in a temp GNUPGHOME
    repo.write(compressions=("", ".xz"), sign_with=key)
    # apt line: deb [signed-by=<key.keyring>] file://<repo.root> bookworm main

Every .deb is built by `dpkg-deb --build --root-owner-group -Zxz`; identical requests are served from a
process-wide cache so a suite that builds the same package many times pays for dpkg-deb once.
`Architecture: all` packages are listed in every architecture's Packages file of their suite, as the
Debian archive does; `write(binary_all=True)` also writes `binary-all/Packages`.
"""

from __future__ import annotations

import bz2
import email.utils
import gzip
import hashlib
import lzma
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import zstandard

Relation = str | Sequence[str] | None

_DEB_CACHE: dict[tuple[object, ...], bytes] = {}
_DEB_LOCK = threading.Lock()


def _rel(value: Relation) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return ", ".join(value)


def strip_epoch(version: str) -> str:
    return version.split(":", 1)[1] if ":" in version else version


def control_fields(
    name: str,
    version: str,
    arch: str = "amd64",
    depends: Relation = None,
    pre_depends: Relation = None,
    conflicts: Relation = None,
    breaks: Relation = None,
    provides: Relation = None,
    recommends: Relation = None,
    multi_arch: str | None = None,
    source: str | None = None,
    essential: bool = False,
    priority: str = "optional",
    extra_fields: dict[str, str] | None = None,
) -> dict[str, str]:
    """The control stanza (in Debian's field order) that `build_deb` puts into the package."""
    fields: dict[str, str] = {"Package": name}
    if source:
        fields["Source"] = source
    fields["Version"] = version
    fields["Architecture"] = arch
    fields["Maintainer"] = "Bundler Tests <tests@example.invalid>"
    fields["Installed-Size"] = "1"
    if essential:
        fields["Essential"] = "yes"
    for key, value in (
        ("Pre-Depends", pre_depends),
        ("Depends", depends),
        ("Recommends", recommends),
        ("Conflicts", conflicts),
        ("Breaks", breaks),
        ("Provides", provides),
    ):
        text = _rel(value)
        if text:
            fields[key] = text
    if multi_arch:
        fields["Multi-Arch"] = multi_arch
    fields["Section"] = "misc"
    fields["Priority"] = priority
    for key, value in (extra_fields or {}).items():
        fields[key] = value
    fields.setdefault(
        "Description", f"test package {name}\n test package {name} {version}, built by the tests"
    )
    return fields


def format_stanza(fields: dict[str, str]) -> str:
    return "".join(f"{k}: {v}\n" for k, v in fields.items())


def _deb_bytes(fields: dict[str, str]) -> bytes:
    key = tuple(fields.items())
    with _DEB_LOCK:
        cached = _DEB_CACHE.get(key)
    if cached is not None:
        return cached
    name = fields["Package"]
    with tempfile.TemporaryDirectory(prefix="debrepo-") as tmp:
        root = Path(tmp) / "root"
        (root / "DEBIAN").mkdir(parents=True)
        (root / "DEBIAN" / "control").write_text(format_stanza(fields))
        doc = root / "usr" / "share" / "doc" / name
        doc.mkdir(parents=True)
        (doc / "README").write_text(f"{name} {fields['Version']}\n")
        out = Path(tmp) / "out.deb"
        env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
        subprocess.run(
            ["dpkg-deb", "--build", "--root-owner-group", "-Zxz", str(root), str(out)],
            check=True,
            capture_output=True,
            env=env,
        )
        data = out.read_bytes()
    with _DEB_LOCK:
        _DEB_CACHE[key] = data
    return data


def deb_filename(name: str, version: str, arch: str) -> str:
    return f"{name}_{strip_epoch(version)}_{arch}.deb"


def build_deb(workdir: Path | str, name: str, version: str, arch: str = "amd64", **fields: Any) -> Path:
    """Build `<workdir>/<name>_<version without epoch>_<arch>.deb` and return its path.

    `fields` are `control_fields`' keywords (depends, provides, multi_arch, ...); relation arguments
    take a field's text ("a (>= 1) | b, c") or a list of its comma-separated parts.
    """
    control = control_fields(name, version, arch, **fields)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / deb_filename(name, version, arch)
    path.write_bytes(_deb_bytes(control))
    return path


def pool_prefix(source: str) -> str:
    return source[:4] if source.startswith("lib") and len(source) > 3 else source[:1]


def compress(data: bytes, ext: str) -> bytes:
    """Compress `data` the way archive tools do, deterministically (no names, no timestamps)."""
    if ext == "":
        return data
    if ext == ".gz":
        return gzip.compress(data, compresslevel=9, mtime=0)
    if ext == ".xz":
        return lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64)
    if ext == ".bz2":
        return bz2.compress(data)
    if ext == ".zst":
        return zstandard.ZstdCompressor(level=19).compress(data)
    if ext == ".lz4":
        # The lz4 command line tool writes the LZ4 frame format, which is what apt reads.
        return subprocess.run(["lz4", "-q", "-c", "-"], input=data, capture_output=True, check=True).stdout
    raise ValueError(f"unknown compression {ext!r}")


COMPRESSIONS = ("", ".gz", ".xz", ".bz2", ".zst", ".lz4")


@dataclass
class GpgKey:
    """A throwaway signing key in its own GNUPGHOME. `keyring` is the binary public keyring (signed-by)."""

    home: Path
    fingerprint: str
    keyring: Path

    @classmethod
    def generate(cls, uid: str = "Bundler Test Archive <archive@example.invalid>") -> GpgKey:
        # A short path: gpg-agent's socket path must fit in sockaddr_un (108 bytes).
        home = Path(tempfile.mkdtemp(prefix="bgpg-"))
        home.chmod(0o700)
        key = cls(home, "", home / "archive-keyring.gpg")
        key._gpg("--passphrase", "", "--pinentry-mode", "loopback",
                 "--quick-gen-key", uid, "ed25519", "sign", "never")  # fmt: skip
        listing = key._gpg("--with-colons", "--list-secret-keys").stdout.decode()
        key.fingerprint = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
        key.keyring.write_bytes(key._gpg("--export", key.fingerprint).stdout)
        return key

    def _gpg(self, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        env = dict(os.environ, GNUPGHOME=str(self.home))
        return subprocess.run(
            ["gpg", "--batch", "--quiet", "--no-tty", *args],
            input=input,
            capture_output=True,
            check=True,
            env=env,
        )

    def clearsign(self, data: bytes) -> bytes:
        return self._gpg(
            "--local-user", self.fingerprint, "--digest-algo", "SHA512", "--clearsign", input=data
        ).stdout

    def detach_sign(self, data: bytes) -> bytes:
        return self._gpg(
            "--local-user",
            self.fingerprint,
            "--digest-algo",
            "SHA512",
            "--armor",
            "--detach-sign",
            input=data,
        ).stdout

    def sign_release(self, release: Path) -> None:
        """Write `InRelease` (clearsigned) and `Release.gpg` (detached) next to `release`."""
        data = release.read_bytes()
        (release.parent / "InRelease").write_bytes(self.clearsign(data))
        (release.parent / "Release.gpg").write_bytes(self.detach_sign(data))

    def close(self) -> None:
        env = dict(os.environ, GNUPGHOME=str(self.home))
        subprocess.run(["gpgconf", "--kill", "all"], env=env, capture_output=True, check=False)
        shutil.rmtree(self.home, ignore_errors=True)


@dataclass
class PoolEntry:
    """One package placed in the pool: its control fields and file facts, as a Packages stanza lists it."""

    suite: str
    component: str
    fields: dict[str, str]
    filename: str  # relative to the repository root
    size: int
    md5: str
    sha256: str

    @property
    def arch(self) -> str:
        return self.fields["Architecture"]

    def stanza(self) -> str:
        extra = {"Filename": self.filename, "Size": str(self.size), "MD5sum": self.md5, "SHA256": self.sha256}
        return format_stanza({**self.fields, **extra})


@dataclass
class DebRepo:
    """A Debian repository under `root`: add packages, then `write()` the indexes (and `write_flat()`)."""

    root: Path
    entries: list[PoolEntry] = field(default_factory=list)
    raw: list[tuple[str, str, str, str]] = field(default_factory=list)  # (suite, component, arch, text)
    origin: str = "Bundler Tests"
    label: str = "Bundler Tests"

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.root.mkdir(parents=True, exist_ok=True)

    def add(self, suite: str, component: str, **kwargs: object) -> PoolEntry:
        """Build a .deb (`build_deb` keyword arguments) and place it in the pool of `component`."""
        fields = control_fields(**kwargs)  # type: ignore[arg-type]
        name, version, arch = fields["Package"], fields["Version"], fields["Architecture"]
        source = fields.get("Source", name).split(" (")[0]
        rel = f"pool/{component}/{pool_prefix(source)}/{source}/{deb_filename(name, version, arch)}"
        data = _deb_bytes(fields)
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        entry = PoolEntry(
            suite,
            component,
            fields,
            rel,
            len(data),
            hashlib.md5(data).hexdigest(),
            hashlib.sha256(data).hexdigest(),
        )
        self.entries.append(entry)
        return entry

    def add_raw_stanza(self, suite: str, component: str, arch: str, text: str) -> None:
        """Append `text` verbatim to a Packages file, e.g. a malformed stanza or one with no .deb behind it."""
        self.raw.append((suite, component, arch, text))

    def suites(self) -> list[str]:
        return sorted({e.suite for e in self.entries} | {r[0] for r in self.raw})

    def _packages_text(self, entries: Iterable[PoolEntry], raws: Iterable[str]) -> bytes:
        stanzas = [
            e.stanza() for e in sorted(entries, key=lambda e: (e.fields["Package"], e.fields["Version"]))
        ]
        stanzas.extend(t if t.endswith("\n") else t + "\n" for t in raws)
        return "\n".join(stanzas).encode()

    def write(
        self,
        compressions: Sequence[str] = ("", ".gz", ".xz"),
        sign_with: GpgKey | None = None,
        valid_until: datetime | str | None = None,
        by_hash: bool = False,
        binary_all: bool = False,
        architectures: Sequence[str] | None = None,
        date: datetime | None = None,
        release_fields: dict[str, str] | None = None,
        suite_fields: dict[str, dict[str, str]] | None = None,
    ) -> list[Path]:
        """Write `dists/<suite>/...` for every suite; return the Release files written.

        The Release lists the uncompressed Packages' checksums even when "" is not among `compressions`,
        as the Debian archive does. `architectures` defaults to those of the added packages (amd64 if all).
        `release_fields` adds fields to the Release (e.g. "No-Support-for-Architecture-all": "Packages");
        `suite_fields` to one suite's (e.g. {"bookworm-backports": {"NotAutomatic": "yes"}}).
        """
        releases = []
        for suite in self.suites():
            entries = [e for e in self.entries if e.suite == suite]
            raws = [r for r in self.raw if r[0] == suite]
            components = sorted({e.component for e in entries} | {r[1] for r in raws})
            archs = list(architectures or sorted({e.arch for e in entries if e.arch != "all"} | {
                r[2] for r in raws if r[2] != "all"}) or ["amd64"])  # fmt: skip
            dist = self.root / "dists" / suite
            files: dict[str, bytes] = {}
            for comp in components:
                index_archs = [*archs, "all"] if binary_all else archs
                for arch in index_archs:
                    chosen = [
                        e for e in entries
                        if e.component == comp and (e.arch == arch or (e.arch == "all" and arch != "all"))
                    ]  # fmt: skip
                    text = self._packages_text(chosen, [r[3] for r in raws if r[1] == comp and r[2] == arch])
                    base = f"{comp}/binary-{arch}/Packages"
                    for ext in compressions:
                        files[base + ext] = compress(text, ext)
                    files.setdefault(base, text)
            for rel, data in files.items():
                if rel.endswith("/Packages") and "" not in compressions:
                    continue
                path = dist / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                if by_hash:
                    hashed = path.parent / "by-hash" / "SHA256" / hashlib.sha256(data).hexdigest()
                    hashed.parent.mkdir(parents=True, exist_ok=True)
                    hashed.write_bytes(data)
            header = {
                "Origin": self.origin,
                "Label": self.label,
                "Suite": suite,
                "Codename": suite,
                "Date": _rfc2822(date or datetime.now(UTC)),
            }
            if valid_until is not None:
                header["Valid-Until"] = valid_until if isinstance(valid_until, str) else _rfc2822(valid_until)
            # The Debian archive lists "all" when it publishes binary-all; apt reads binary-all only then.
            header["Architectures"] = " ".join(["all", *archs] if binary_all else archs)
            header["Components"] = " ".join(components)
            if by_hash:
                header["Acquire-By-Hash"] = "yes"
            header.update(release_fields or {})
            header.update((suite_fields or {}).get(suite, {}))
            release = dist / "Release"
            release.parent.mkdir(parents=True, exist_ok=True)
            release.write_text(format_stanza(header) + _checksums(files))
            for stale in ("InRelease", "Release.gpg"):
                (dist / stale).unlink(missing_ok=True)
            if sign_with is not None:
                sign_with.sign_release(release)
            releases.append(release)
        return releases

    def write_flat(
        self,
        directory: str = "./",
        *,
        suite: str | None = None,
        compressions: Sequence[str] = ("", ".gz"),
        sign_with: GpgKey | None = None,
        valid_until: datetime | str | None = None,
    ) -> Path:
        """Write a flat repository: `Packages` and `Release` at the top of `root/directory`.

        Its Filename fields stay relative to `root` (apt's flat format: "deb <uri> <directory>/").
        Holds the packages of `suite`, or of every suite.
        """
        entries = [e for e in self.entries if suite is None or e.suite == suite]
        raws = [r[3] for r in self.raw if suite is None or r[0] == suite]
        top = self.root / directory
        top.mkdir(parents=True, exist_ok=True)
        text = self._packages_text(entries, raws)
        files = {"Packages" + ext: compress(text, ext) for ext in compressions}
        files.setdefault("Packages", text)
        for rel, data in files.items():
            if rel == "Packages" and "" not in compressions:
                continue
            (top / rel).write_bytes(data)
        header = {"Origin": self.origin, "Label": self.label, "Date": _rfc2822(datetime.now(UTC))}
        if valid_until is not None:
            header["Valid-Until"] = valid_until if isinstance(valid_until, str) else _rfc2822(valid_until)
        release = top / "Release"
        release.write_text(format_stanza(header) + _checksums(files))
        for stale in ("InRelease", "Release.gpg"):
            (top / stale).unlink(missing_ok=True)
        if sign_with is not None:
            sign_with.sign_release(release)
        return release

    def relist(self, release: Path, sign_with: GpgKey | None = None) -> None:
        """Recompute `release`'s checksums from the index files now on disk (after a test tampered with
        them), keeping its other fields; re-sign it with `sign_with`, else drop stale signatures."""
        top = release.parent
        header = release.read_text().split("\nMD5Sum:\n", 1)[0] + "\n"
        files = {}
        for path in sorted(top.rglob("*")):
            rel = path.relative_to(top).as_posix()
            if path.is_file() and "by-hash" not in rel and rel not in ("Release", "InRelease", "Release.gpg"):
                files[rel] = path.read_bytes()
        release.write_text(header + _checksums(files))
        for stale in ("InRelease", "Release.gpg"):
            (top / stale).unlink(missing_ok=True)
        if sign_with is not None:
            sign_with.sign_release(release)


def _rfc2822(when: datetime) -> str:
    return (
        email.utils.format_datetime(when.astimezone(UTC), usegmt=False)
        .replace("-0000", "UTC")
        .replace("+0000", "UTC")
    )


def _checksums(files: dict[str, bytes]) -> str:
    out = []
    for title, algo in (("MD5Sum", hashlib.md5), ("SHA256", hashlib.sha256)):
        out.append(f"{title}:\n")
        for rel in sorted(files):
            data = files[rel]
            out.append(f" {algo(data).hexdigest()} {len(data):>16} {rel}\n")
    return "".join(out)
