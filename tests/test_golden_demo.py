"""Golden files: the demo's bundle indexes, byte for byte (STYLE.md's habit for Release, Packages and
index.html). They depend only on the committed example and the spec's epoch, so any change in how
bundler selects, orders or writes shows up here as a diff to review; after an intended change,
regenerate with `BUNDLER_UPDATE_GOLDEN=1 scripts/dev test tests/test_golden_demo.py`."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bundler.cli import main

HERE = Path(__file__).resolve().parent
DEMO = HERE.parent / "examples" / "demo"
GOLDEN = HERE / "golden" / "demo"
FILES = [
    "debian/dists/demo/Release",
    "debian/dists/demo/main/binary-amd64/Packages",
    "debian/dists/demo/main/binary-all/Packages",
    "python/simple/index.html",
    "python/simple/demo-client/index.html",
    "python/simple/demo-http/index.json",
]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("demo")
    shutil.copytree(DEMO / "debian", work / "debian")
    shutil.copytree(DEMO / "wheels", work / "wheels")
    shutil.copy(DEMO / "bundle.toml", work / "bundle.toml")
    out = work / "out"
    code = main(["solve", str(work / "bundle.toml"), "--cache-dir", str(work / "cache"), "-q", "--bundle", str(out)])
    assert code == 0
    return out


@pytest.mark.parametrize("rel", FILES)
def test_demo_bundle_matches_golden(bundle: Path, rel: str) -> None:
    got = (bundle / rel).read_bytes()
    golden = GOLDEN / rel
    if os.environ.get("BUNDLER_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(got)
    assert golden.is_file(), f"no golden file {golden}: run with BUNDLER_UPDATE_GOLDEN=1"
    assert got == golden.read_bytes(), f"{rel} differs from {golden}"
