"""`bundler verify OUT`: every checksum, outside in, and dependency closure inside the bundle."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bundler.build import build_bundle
from bundler.cli import main
from bundler.lock import Lock
from bundler.verify import verify_bundle
from tests.support.locks import Upstream


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Upstream:
    return Upstream.create(tmp_path_factory.mktemp("upstream"))


@pytest.fixture(scope="module")
def pristine(upstream: Upstream, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pristine") / "out"
    build_bundle(upstream.lock(), out)
    return out


@pytest.fixture
def bundle(pristine: Path, tmp_path: Path) -> Path:
    """A private copy of the bundle, free to be damaged."""
    shutil.copytree(pristine, tmp_path / "out")
    return tmp_path / "out"


def without(lock: Lock, *names: str) -> Lock:
    from dataclasses import replace

    return replace(lock, packages=tuple(p for p in lock.packages if p.name not in names))


def test_clean_bundle(pristine: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = verify_bundle(pristine)
    assert report.problems == []
    assert (report.debs, report.python_files) == (4, 2)
    assert main(["verify", str(pristine)]) == 0
    assert "ok:" in capsys.readouterr().out


def test_tampered_deb_is_named(bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deb = bundle / "debian/pool/main/h/hello/hello_1.0-1_amd64.deb"
    data = bytearray(deb.read_bytes())
    data[-1] ^= 0xFF
    deb.write_bytes(bytes(data))
    assert main(["verify", str(bundle)]) == 1
    err = capsys.readouterr().err
    assert "debian/pool/main/h/hello/hello_1.0-1_amd64.deb: sha256 mismatch (SHA256SUMS" in err
    assert (
        "debian/pool/main/h/hello/hello_1.0-1_amd64.deb: size/sha256 differ from debian/dists/bookworm/"
        in err
    )


def test_tampered_index_and_wheel(bundle: Path) -> None:
    packages = bundle / "debian/dists/bookworm/contrib/binary-amd64/Packages"
    packages.write_text(packages.read_text().replace("Version: 0.1", "Version: 0.2"))
    wheel = bundle / "python/files/foo-1.0-py3-none-any.whl"
    wheel.write_bytes(wheel.read_bytes() + b"x")
    (bundle / "stray").write_text("not listed")
    problems = "\n".join(verify_bundle(bundle).problems)
    assert "debian/dists/bookworm/contrib/binary-amd64/Packages: size/sha256 differ from Release" in problems
    assert (
        "python/files/foo-1.0-py3-none-any.whl: sha256 differs from python/simple/foo/index.html" in problems
    )
    assert (
        "python/files/foo-1.0-py3-none-any.whl: sha256 differs from python/simple/foo/index.json" in problems
    )
    assert "stray: not listed in SHA256SUMS" in problems


def test_missing_file(bundle: Path) -> None:
    (bundle / "debian/pool/main/g/greet/greet-data_1.0_all.deb").unlink()
    problems = "\n".join(verify_bundle(bundle).problems)
    assert "debian/pool/main/g/greet/greet-data_1.0_all.deb: listed in SHA256SUMS but missing" in problems
    assert (
        "deb greet-data 1:1.0 (all): its file pool/main/g/greet/greet-data_1.0_all.deb is missing" in problems
    )


def test_unsatisfiable_dependencies(upstream: Upstream, tmp_path: Path) -> None:
    lock = without(upstream.lock(), "libgreet1", "Bar.Lib")
    build_bundle(lock, tmp_path / "out")
    problems = verify_bundle(tmp_path / "out").problems
    assert problems == [
        "deb extra-tool 0.1 (amd64): Depends 'greeter' has no provider in the bundle for amd64",
        "deb hello 1.0-1 (amd64): Pre-Depends 'libgreet1' has no provider in the bundle for amd64",
        "deb hello 1.0-1 (amd64): Depends 'libgreet1 (>= 1.0)' has no provider in the bundle for amd64",
        "python foo 1.0 (foo-1.0-py3-none-any.whl): requires 'Bar.Lib>=1.0' but the bundle has no file",
    ]


def test_python_target(upstream: Upstream, tmp_path: Path) -> None:
    from dataclasses import replace

    lock = replace(upstream.lock(), extra={"python-version": "3.7"})  # bar-lib needs >=3.8
    build_bundle(lock, tmp_path / "out")
    problems = verify_bundle(tmp_path / "out").problems
    assert problems == [
        "python Bar.Lib 1.2 (bar_lib-1.2-py3-none-any.whl): Requires-Python >=3.8 excludes the target Python 3.7.0"
    ]


def test_not_a_bundle(tmp_path: Path) -> None:
    assert main(["verify", str(tmp_path / "nope")]) == 2
