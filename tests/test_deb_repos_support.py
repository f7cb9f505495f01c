"""The test repository builder (tests/support/debrepo.py) makes real .debs and real, signed repositories."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.debrepo import COMPRESSIONS, DebRepo, GpgKey, build_deb


def test_build_deb_is_read_by_dpkg_deb(tmp_path: Path) -> None:
    deb = build_deb(
        tmp_path, "hello", "1:2.10-3", depends=["libc6 (>= 2.36)", "a | b"], provides="greeter (= 1)",
        multi_arch="foreign", source="hello-src (2.10-3)", essential=True, priority="required",
        extra_fields={"Homepage": "https://example.invalid/"},
    )  # fmt: skip
    assert deb.name == "hello_2.10-3_amd64.deb"
    info = subprocess.run(["dpkg-deb", "-I", str(deb)], capture_output=True, text=True, check=True).stdout
    assert "Package: hello" in info
    field = subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Depends", "Provides", "Essential", "Source", "Version"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "Depends: libc6 (>= 2.36), a | b" in field
    assert "Provides: greeter (= 1)" in field
    assert "Essential: yes" in field
    assert "Source: hello-src (2.10-3)" in field
    assert "Version: 1:2.10-3" in field
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    assert "./usr/share/doc/hello/README" in listing
    assert "root/root" in listing


def test_repo_layout_checksums_and_signatures(tmp_path: Path, gpg_key: GpgKey) -> None:
    repo = DebRepo(tmp_path / "r")
    e = repo.add("stable", "main", name="libfoo1", version="1:1.0-1", source="libfoo (1.0-1)")
    repo.add("stable", "main", name="foo-data", version="1.0-1", arch="all")
    assert e.filename == "pool/main/libf/libfoo/libfoo1_1.0-1_amd64.deb"
    assert (repo.root / e.filename).is_file()
    (release,) = repo.write(compressions=COMPRESSIONS, sign_with=gpg_key, by_hash=True)
    dist = repo.root / "dists" / "stable"
    text = release.read_text()
    for ext in COMPRESSIONS:
        assert (dist / f"main/binary-amd64/Packages{ext}").is_file()
        assert f"main/binary-amd64/Packages{ext}\n" in text
    packages = (dist / "main/binary-amd64/Packages").read_text()
    assert "Package: foo-data" in packages and f"Filename: {e.filename}" in packages
    assert "SHA256: " + e.sha256 in packages
    assert "Acquire-By-Hash: yes" in text and (dist / "main/binary-amd64/by-hash/SHA256").is_dir()
    for args in (
        [str(dist / "InRelease")],
        [str(dist / "Release.gpg"), str(dist / "Release")],
    ):
        subprocess.run(["gpgv", "--keyring", str(gpg_key.keyring), *args], capture_output=True, check=True)


def test_flat_repository(tmp_path: Path) -> None:
    repo = DebRepo(tmp_path / "r")
    repo.add("any", "main", name="a", version="1")
    release = repo.write_flat("flat/")
    assert release == repo.root / "flat" / "Release"
    assert "Filename: pool/main/a/a/a_1_amd64.deb" in (repo.root / "flat" / "Packages").read_text()
