"""mmdebstrap builds a tree from the bundle alone, run exactly as the bundle's README says
(issue 12, point 1: apt and mmdebstrap on the Debian side)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bundler.cli import main
from bundler.lock import read_lock
from tests.support.debrepo import GpgKey
from tests.support.demo import copy_demo


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = copy_demo(tmp_path_factory.mktemp("demo")).parent
    out = work / "out"
    assert main(["solve", str(work / "bundle.toml"), "--cache-dir", str(work / "cache"), "-q", "--bundle", str(out)]) == 0
    return out


def _readme_command(bundle: Path, program: str) -> str:
    """The README's `program` command, its continuation lines joined."""
    text = (bundle / "README").read_text().replace("\\\n", " ")
    line = next(line for line in text.splitlines() if line.strip().startswith(program))
    return line.strip()


@pytest.fixture(scope="module")
def signed(bundle: Path, gpg_key: GpgKey) -> Path:
    """The same lock built again, signed (now: a key is never older than the demo's epoch)."""
    out = bundle.parent / "signed"
    env = dict(os.environ, GNUPGHOME=str(gpg_key.home))
    proc = subprocess.run(
        [sys.executable, "-m", "bundler", "build", str(bundle / "bundle.lock"), str(out),
         "--sign-key", gpg_key.fingerprint, "--epoch", str(int(time.time()))],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.parametrize("kind", ["trusted", "signed"])
def test_mmdebstrap_extracts_the_roots_and_their_dependencies(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    bundle = request.getfixturevalue("bundle" if kind == "trusted" else "signed")
    target = tmp_path / "tree"
    command = _readme_command(bundle, "mmdebstrap").replace("/MOUNT", str(bundle)).replace("TARGET", str(target))
    proc = subprocess.run(shlex.split(command), capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    lock = read_lock(bundle / "bundle.lock")
    debs = {p.name for p in lock.packages if p.ecosystem == "deb"}
    # Every package of the lock the root needs is unpacked (its /usr/share/doc), and nothing else.
    got = {p.name for p in (target / "usr/share/doc").iterdir()}
    assert "demo-api" in got and got <= debs, (got, debs)
    assert debs - got == set(), f"not extracted: {sorted(debs - got)}"
    assert not re.search(r"^W: .*(unauthenticated|not signed)", proc.stderr, re.M), proc.stderr
    if kind == "signed":
        assert "signed-by=" in command and "trusted=yes" not in command
