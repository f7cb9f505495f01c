"""Locks over real artifacts for the build/verify/serve tests.

    up = Upstream.create(tmp_path / "upstream")          # real .debs (dpkg-deb) and real wheels
    lock = up.lock(deb_base="file://...", py_base="file://...")   # a Lock by hand, as `solve` writes it

`build_wheel` writes a tiny but complete wheel (a package, METADATA, WHEEL, RECORD); the Debian side
uses tests/support/debrepo.py's `DebRepo` to put packages in an upstream pool.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from bundler.lock import IndexDigest, Lock, LockedPackage
from tests.support.debrepo import DebRepo, PoolEntry

EPOCH = 1700000000


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel(
    directory: Path,
    name: str,
    version: str,
    *,
    requires: tuple[str, ...] = (),
    requires_python: str | None = None,
) -> Path:
    """A pure-Python wheel `<dist>-<version>-py3-none-any.whl` whose module is `<dist>`."""
    dist = name.replace("-", "_").replace(".", "_").lower()
    info = f"{dist}-{version}.dist-info"
    meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    if requires_python:
        meta.append(f"Requires-Python: {requires_python}")
    meta += [f"Requires-Dist: {r}" for r in requires]
    files = {
        f"{dist}/__init__.py": f'VERSION = "{version}"\n'.encode(),
        f"{info}/METADATA": ("\n".join(meta) + "\n\n").encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: bundler-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{p},{_record_hash(d)},{len(d)}\n" for p, d in files.items()) + f"{info}/RECORD,,\n"
    files[f"{info}/RECORD"] = record.encode()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for p, d in files.items():
            zi = zipfile.ZipInfo(p, date_time=(2020, 1, 1, 0, 0, 0))
            zi.external_attr = 0o644 << 16
            zf.writestr(zi, d)
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Upstream:
    """An upstream Debian repository (`root/debian`) and Python file area (`root/py`)."""

    root: Path
    debs: list[tuple[PoolEntry, str, str]] = field(default_factory=list)  # entry, source, depends-ids
    wheels: list[tuple[Path, str, str, str, tuple[str, ...]]] = field(default_factory=list)

    @classmethod
    def create(cls, root: Path) -> Upstream:
        up = cls(root)
        repo = DebRepo(root / "debian")
        add = [
            (
                "main",
                dict(
                    name="hello",
                    version="1.0-1",
                    depends="libgreet1 (>= 1.0), greeting-data | nothing-else",
                    pre_depends="libgreet1",
                ),
                "hello",
                "deb:libgreet1:amd64,deb:greet-data:all",
            ),
            (
                "main",
                dict(name="libgreet1", version="1.2-1", source="libgreet", provides="greeter (= 1.2)"),
                "libgreet",
                "",
            ),
            (
                "main",
                dict(
                    name="greet-data", version="1:1.0", arch="all", source="greet", provides="greeting-data"
                ),
                "greet",
                "",
            ),
            (
                "contrib",
                dict(name="extra-tool", version="0.1", depends="hello (>= 1.0), greeter"),
                "extra-tool",
                "deb:hello:amd64,deb:libgreet1:amd64",
            ),
        ]
        for component, kwargs, source, deps in add:
            entry = repo.add("bookworm", component, **kwargs)
            up.debs.append((entry, source, deps))
        py = root / "py"
        foo = build_wheel(
            py, "foo", "1.0", requires=("Bar.Lib>=1.0", 'baz; python_version < "3.0"', 'qux; extra == "fast"')
        )
        bar = build_wheel(py, "Bar.Lib", "1.2", requires_python=">=3.8")
        up.wheels.append((foo, "foo", "1.0", "", ("python:bar-lib",)))
        up.wheels.append((bar, "Bar.Lib", "1.2", ">=3.8", ()))
        return up

    def lock(
        self,
        deb_base: str | None = None,
        py_base: str | None = None,
        *,
        epoch: int | None = EPOCH,
        name: str = "demo",
    ) -> Lock:
        deb_base = deb_base or (self.root / "debian").as_uri()
        py_base = py_base or (self.root / "py").as_uri()
        packages = []
        for entry, source, deps in self.debs:
            f = entry.fields
            packages.append(
                LockedPackage(
                    ecosystem="deb",
                    name=f["Package"],
                    version=f["Version"],
                    filename=entry.filename,
                    size=entry.size,
                    sha256=entry.sha256,
                    architecture=f["Architecture"],
                    source=source,
                    source_version=f["Version"],
                    repository=f"{deb_base} bookworm {entry.component}",
                    depends=tuple(d for d in deps.split(",") if d),
                )
            )
        for path, name_, version, rp, deps in self.wheels:
            packages.append(
                LockedPackage(
                    ecosystem="python",
                    name=name_,
                    version=version,
                    filename=path.name,
                    size=path.stat().st_size,
                    sha256=_sha(path),
                    url=f"{py_base}/{path.name}",
                    requires_python=rp,
                    depends=deps,
                )
            )
        return Lock(
            name=name, suite="bookworm", spec_sha256="0" * 64, epoch=epoch,
            roots=("deb:hello:amd64", "deb:extra-tool:amd64", "python:foo"),
            indexes=(IndexDigest("deb", f"{deb_base} bookworm", "1" * 64),),
            packages=tuple(packages), extra={"python-version": "3.11"},
        )  # fmt: skip


def with_package(lock: Lock, name: str, **changes: object) -> Lock:
    """`lock` with the package called `name` changed (e.g. a wrong sha256)."""
    return replace(
        lock,
        packages=tuple(
            replace(p, **changes) if p.name == name else p  # type: ignore[arg-type]
            for p in lock.packages
        ),
    )


@dataclass
class OldKey:
    """An ed25519 signing key created in the past (so an epoch in 2023 may use it), in its own GNUPGHOME."""

    home: Path
    fingerprint: str
    keyring: Path

    @classmethod
    def generate(cls) -> OldKey:
        home = Path(tempfile.mkdtemp(prefix="bkey-"))  # short: the agent socket lives here
        home.chmod(0o700)
        env = dict(os.environ, GNUPGHOME=str(home))
        gpg = ["gpg", "--batch", "--quiet", "--no-tty"]
        subprocess.run(
            [
                *gpg,
                "--faked-system-time",
                "1000000000!",
                "--passphrase",
                "",
                "--pinentry-mode",
                "loopback",
                "--quick-gen-key",
                "Bundle Test <bundle@example.invalid>",
                "ed25519",
                "sign",
                "never",
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        out = subprocess.run(
            [*gpg, "--with-colons", "--list-secret-keys"], env=env, check=True, capture_output=True
        ).stdout.decode()
        fpr = next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:"))
        keyring = home / "bundle.gpg"
        keyring.write_bytes(
            subprocess.run([*gpg, "--export", fpr], env=env, check=True, capture_output=True).stdout
        )
        return cls(home, fpr, keyring)

    def close(self) -> None:
        env = dict(os.environ, GNUPGHOME=str(self.home))
        subprocess.run(["gpgconf", "--kill", "all"], env=env, capture_output=True, check=False)
        shutil.rmtree(self.home, ignore_errors=True)
