"""The ISO is an apt medium: the real apt-cdrom adds the unpacked image (`--no-mount -d DIR`, in an
isolated `-o Dir=` root) by its `.disk/info` label, checks the Release signature with the shipped key,
and apt-get then updates and installs from the disc."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bundler.build import build_bundle
from bundler.build.iso import disk_info
from tests.support.locks import EPOCH, OldKey, Upstream

pytestmark = pytest.mark.skipif(
    shutil.which("xorriso") is None or shutil.which("apt-cdrom") is None, reason="needs xorriso and apt-cdrom"
)


@pytest.fixture(scope="module")
def disc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A signed bundle's ISO, unpacked by xorriso (what a mounted disc shows)."""
    base = tmp_path_factory.mktemp("medium")
    key = OldKey.generate()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("GNUPGHOME", str(key.home))
            build_bundle(
                Upstream.create(base / "up").lock(), base / "out", iso=base / "b.iso",
                sign_key=key.fingerprint, epoch=EPOCH,
            )  # fmt: skip
    finally:
        key.close()
    cd = base / "cd"
    subprocess.run(
        ["xorriso", "-osirrox", "on", "-indev", str(base / "b.iso"), "-extract", "/", str(cd)],
        check=True,
        capture_output=True,
    )
    yield cd


def _apt(root: Path, disc: Path, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    for d in ("etc/apt/apt.conf.d", "etc/parts", "etc/trusted.d", "etc/prefs.d", "lists/partial", "cache/archives/partial", "log"):  # fmt: skip
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "status").touch()
    (root / "sources.list").touch()
    opts = {
        "Dir": str(root), "Dir::State": str(root), "Dir::State::status": str(root / "status"),
        "Dir::State::Lists": str(root / "lists"), "Dir::Cache": str(root / "cache"), "Dir::Log": str(root / "log"),
        "Dir::Etc::SourceList": str(root / "sources.list"), "Dir::Etc::SourceParts": str(root / "etc/parts"),
        "Dir::Etc::Trusted": str(root / "etc/trusted.gpg"), "Dir::Etc::TrustedParts": str(root / "etc/trusted.d"),
        "Dir::Etc::Preferences": str(root / "etc/prefs"), "Dir::Etc::PreferencesParts": str(root / "etc/prefs.d"),
        "APT::Architecture": "amd64", "APT::Architectures": "amd64", "Debug::NoLocking": "1",
        "APT::Sandbox::User": "root", "Acquire::Languages": "none", "Dir::Bin::dpkg": "/bin/false",
        # The disc is the directory: never mount, never probe drives (apt-get's cdrom: method too).
        "Acquire::cdrom::mount": str(disc), "APT::CDROM::NoMount": "1", "Acquire::cdrom::AutoDetect": "0",
    }  # fmt: skip
    cmd = [tool, "-q"] + [a for k, v in opts.items() for a in ("-o", f"{k}={v}")] + list(args)
    return subprocess.run(
        cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, env={**os.environ, "LC_ALL": "C"}
    )


def test_apt_cdrom_adds_the_iso_and_apt_installs_from_it(disc: Path, tmp_path: Path) -> None:
    disc_label = (disc / ".disk/info").read_text()
    assert disc_label == disk_info("demo", "bookworm", EPOCH) and disc_label.count("\n") == 1
    root = tmp_path / "root"
    _apt(root, disc, "apt-get", "--version")  # makes the directories
    shutil.copy(disc / "debian/bundle.gpg", root / "etc/trusted.d/bundle.gpg")  # as the README says
    r = _apt(root, disc, "apt-cdrom", "--no-mount", "-d", str(disc), "add")
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"Found label '{disc_label.strip()}'" in r.stdout
    assert "Good signature" in r.stderr, r.stderr
    lines = [line for line in (root / "sources.list").read_text().splitlines() if line.startswith("deb")]
    assert lines == [f"deb cdrom:[{disc_label.strip()}]/debian/ bookworm contrib main"]
    r = _apt(root, disc, "apt-get", "update")
    assert r.returncode == 0 and "W:" not in r.stderr and "E:" not in r.stderr, r.stdout + r.stderr
    r = _apt(root, disc, "apt-get", "-y", "install", "--download-only", "hello", "extra-tool")
    assert r.returncode == 0, r.stdout + r.stderr
    got = sorted(re.findall(r"^Get:\d+ cdrom://.* (\S+) \S+ \S+ \[", r.stdout, re.M))
    assert got == ["extra-tool", "greet-data", "hello", "libgreet1"], r.stdout
    assert "WARNING" not in r.stdout + r.stderr  # authenticated: nothing unauthenticated was taken


def test_without_disk_info_apt_cdrom_refuses(disc: Path, tmp_path: Path) -> None:
    """What `.disk/info` is for: with --no-mount, apt-cdrom takes a directory without `.disk/` for an
    unmounted drive."""
    bare = tmp_path / "bare"
    shutil.copytree(disc, bare, ignore=shutil.ignore_patterns(".disk"))
    r = _apt(tmp_path / "root", bare, "apt-cdrom", "--no-mount", "-d", str(bare), "add")
    assert r.returncode != 0 and "Failed to mount the cdrom" in r.stderr, r.stdout + r.stderr
