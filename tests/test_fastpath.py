"""The up-to-date lock fast path of `bundler solve` (bundler/fastpath.py), end to end through the CLI.

Real wheels served over HTTP (tests/support/pyindex.py, tests/support/http.py) and a real Debian
repository (tests/support/debrepo.py): an unchanged re-solve keeps the lock without resolving, and
each kind of change (spec, an included requirements file, a release uploaded, the Release of a suite,
a hand edit of the lock, --upgrade) makes it solve again. The lock the fast path keeps is the one a
full solve writes, byte for byte. Which path ran is read from `--json`, never from timings.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bundler.lock import read_lock
from tests.support.demo import copy_demo
from tests.support.http import Server, serve_directory
from tests.support.pyindex import Dist, build, make_repo
from tests.support.schemas import assert_valid
from tests.test_cli_debian import bundler
from tests.test_cli_debian import make_repo as make_deb_repo
from tests.test_cli_debian import write_spec as write_deb_spec

UNIVERSE = [
    Dist("app", "1.0", ["lib>=1.0"]),
    Dist("lib", "1.0"),
    Dist("lib", "1.1"),
    Dist("other", "1.0"),
]
SPEC = """\
[bundle]
name = "fast"
epoch = 1700000000

[python]
indexes = ["{index}"]
python-version = "3.11"
platforms = ["manylinux_2_28_x86_64"]
requirements-file = "requirements.txt"
"""


def solve(spec: Path, *args: str | Path) -> dict[str, Any]:
    proc = bundler("solve", spec, "--cache-dir", spec.parent / "cache", "--json", *args)
    assert proc.returncode == 0, proc.stderr
    return assert_valid("solve", json.loads(proc.stdout))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    repo = make_repo(tmp_path / "repo", UNIVERSE)
    with serve_directory(repo.root) as server:
        yield server, tmp_path / "repo"


@pytest.fixture
def py_spec(served: tuple[Server, Path], tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / "requirements.txt").write_text("-r base.txt\n")
    (work / "base.txt").write_text("app\n")
    spec = work / "bundle.toml"
    spec.write_text(SPEC.format(index=served[0].url + "/simple"))  # without the trailing slash (PEP 503 adds it)
    first = solve(spec)
    assert first["up-to-date"] is False and first["fast-path-miss"] == "no lock yet"
    return spec


def test_an_unchanged_re_solve_keeps_the_lock_that_a_full_solve_writes(py_spec: Path) -> None:
    lock = py_spec.parent / "bundle.lock"
    written = lock.read_bytes()
    mtime = lock.stat().st_mtime_ns
    assert "inputs-sha256 = " in lock.read_text()
    again = solve(py_spec, "--offline")
    assert again["up-to-date"] is True and again["fast-path-miss"] is None
    assert set(again["timings"]) == {"fast-path", "total"}
    assert again["packages"] == {"deb": 0, "python": 2} and again["roots"] == ["python:app"]
    assert lock.read_bytes() == written and lock.stat().st_mtime_ns == mtime  # not even rewritten
    full = solve(py_spec, "--offline", "--no-fast-path")
    assert full["up-to-date"] is False and full["fast-path-miss"] is None
    assert lock.read_bytes() == written  # the full solve writes the very same bytes
    text = bundler("solve", py_spec, "--cache-dir", py_spec.parent / "cache", "--offline")
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("lock up to date: fast: 2 Python files from 1 roots; spec, its files and "
                                  "indexes unchanged, nothing resolved → ")


def test_online_a_page_due_for_revalidation_is_not_trusted(py_spec: Path) -> None:
    # the test server sends no max-age: a solve would ask it again, so the fast path does not apply
    again = solve(py_spec)
    assert again["up-to-date"] is False
    assert again["fast-path-miss"] == "a Python project page changed or is due for revalidation"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize("change, reason", [
    ("spec", "the spec changed"),
    ("included requirements file", "a file the spec names, a setting, bundler itself or the lock changed"),
    ("lock edited by hand", "a file the spec names, a setting, bundler itself or the lock changed"),
    ("lock without its digest", "the lock has no inputs-sha256"),
])  # fmt: skip
def test_a_change_makes_it_solve_again(py_spec: Path, change: str, reason: str) -> None:
    work = py_spec.parent
    lock = work / "bundle.lock"
    written = lock.read_bytes()
    if change == "spec":
        py_spec.write_text(py_spec.read_text() + "# a comment changes the spec's bytes\n")
    elif change == "included requirements file":
        (work / "base.txt").write_text("app\nother\n")
    elif change == "lock edited by hand":
        # a dependency dropped: the lock still parses and its ids resolve, its digest no longer matches
        _edit(lock, 'depends = [\n    "python:lib",\n]', "depends = []")
    else:
        text = lock.read_text()
        lock.write_text("".join(line for line in text.splitlines(keepends=True)
                                if not line.startswith("inputs-sha256 = ")))  # fmt: skip
    doc = solve(py_spec)  # online: `other` is not in the cache yet (each reason is found before the pages)
    assert doc["up-to-date"] is False and doc["fast-path-miss"] == reason
    pins = {p.name: p.version for p in read_lock(lock).packages}
    if change == "included requirements file":
        assert pins == {"app": "1.0", "lib": "1.1", "other": "1.0"}
    else:
        assert pins == {"app": "1.0", "lib": "1.1"}
    if change.startswith("lock"):
        assert lock.read_bytes() == written  # the solve put back what it had written
    again = solve(py_spec, "--offline")
    assert again["up-to-date"] is True  # and the next one is fast again


def test_a_release_uploaded_makes_it_solve_again(py_spec: Path, served: tuple[Server, Path]) -> None:
    work = py_spec.parent
    make_repo(served[1], [*UNIVERSE, Dist("lib", "1.2")])  # lib 1.2 uploaded: lib's page changes
    # Offline, the cache still holds the page the lock was made from: the lock stays current for it.
    assert solve(py_spec, "--offline")["up-to-date"] is True
    # Another solve over the same cache (into another lock) reads the new page ...
    solve(py_spec, "-o", work / "other.lock")
    # ... and then the cached page is not the lock's: solve again (keeping lib 1.1, the lock's).
    doc = solve(py_spec, "--offline")
    assert doc["up-to-date"] is False and doc["fast-path-miss"] == "a Python project page changed"
    assert {p.name: p.version for p in read_lock(work / "bundle.lock").packages} == {"app": "1.0", "lib": "1.1"}
    assert solve(py_spec, "--offline")["up-to-date"] is True
    upgraded = solve(py_spec, "--offline", "--upgrade")  # --upgrade always solves
    assert upgraded["up-to-date"] is False and upgraded["fast-path-miss"] is None
    assert {p.name: p.version for p in read_lock(work / "bundle.lock").packages} == {"app": "1.0", "lib": "1.2"}


def test_check_says_whether_the_lock_is_current_and_writes_nothing(py_spec: Path) -> None:
    work = py_spec.parent
    lock = work / "bundle.lock"
    written = lock.read_bytes()
    ok = bundler("solve", py_spec, "--cache-dir", work / "cache", "--offline", "--check")
    assert ok.returncode == 0 and ok.stdout.strip() == f"{lock} is up to date", ok.stderr
    (work / "base.txt").write_text("app\nother\n")
    stale = bundler("solve", py_spec, "--cache-dir", work / "cache", "--check")
    assert stale.returncode == 1, stale.stderr
    assert stale.stdout.strip() == f"{lock} is out of date: 1 packages would change: python:other (new) → 1.0"
    assert lock.read_bytes() == written


def assert_no_resolver_loaded(spec: Path) -> None:
    """An up-to-date solve of `spec` loads neither resolver, nor networkx, packaging or rich."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "bundler", "solve", spec, "--cache-dir",
                           spec.parent / "cache", "--offline", "--json"], capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["up-to-date"] is True
    loaded = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "bundler.fastpath" in loaded
    heavy = {"resolvelib", "networkx", "packaging", "rich", "solver.python", "solver.deb.solve", "repos.pypi.index"}
    assert not heavy & loaded


def test_the_fast_path_loads_no_resolver(py_spec: Path) -> None:
    assert_no_resolver_loaded(py_spec)


@pytest.mark.parametrize("args", [(), ("--closure", "mirror")])
def test_the_demo_solves_again_when_its_find_links_directory_or_an_option_changes(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    spec = copy_demo(tmp_path / "demo")
    assert solve(spec)["fast-path-miss"] == "no lock yet"  # the demo's repositories are local files
    assert solve(spec, "--offline")["up-to-date"] is True
    # the spec named relative to the working directory: the same inputs (its find-links directory too)
    proc = bundler("solve", "bundle.toml", "--cache-dir", "cache", "--offline", "--json", cwd=spec.parent)
    assert proc.returncode == 0 and json.loads(proc.stdout)["up-to-date"] is True, proc.stdout + proc.stderr
    if not args:  # a newer release dropped into the find-links directory, which a solve would meet
        build(Dist("demo-client", "9.0"), spec.parent / "wheels")
    doc = solve(spec, "--offline", *args)
    assert doc["up-to-date"] is False
    assert doc["fast-path-miss"] == "a file the spec names, a setting, bundler itself or the lock changed"
    assert solve(spec, "--offline", *args)["up-to-date"] is True


# ---- Debian ---------------------------------------------------------------------------------------
def test_debian_unchanged_then_a_release_changed(tmp_path: Path) -> None:
    repo = make_deb_repo(tmp_path / "mirror")
    spec = write_deb_spec(tmp_path, repo.root.as_uri(), fix=["openssl (= 3.0.11-1~deb12u2)"])
    lock = tmp_path / "bundle.lock"
    assert solve(spec)["fast-path-miss"] == "no lock yet"
    written = lock.read_bytes()
    for args in ((), ("--offline",)):  # online the Release files are fetched (and verified) again
        doc = solve(spec, *args)
        assert doc["up-to-date"] is True, doc["fast-path-miss"]
        assert doc["packages"]["deb"] == sum(1 for p in read_lock(lock).packages)
    assert_no_resolver_loaded(spec)
    solve(spec, "--offline", "--no-fast-path")
    assert lock.read_bytes() == written
    out = tmp_path / "out"  # --bundle builds from the kept lock
    doc = solve(spec, "--offline", "--bundle", out)
    assert doc["up-to-date"] is True and (out / "bundle.lock").is_file()
    # a new upload to the mirror: the Release changes (a solve keeps the lock's versions where they fit)
    repo.add("bookworm", "main", name="adduser", version="3.135", arch="all", multi_arch="foreign")
    repo.write(compressions=(".xz", ".gz"))
    doc = solve(spec)
    assert doc["up-to-date"] is False and doc["fast-path-miss"] == "a Debian index changed"
    assert lock.read_bytes() != written  # the Release digests differ; the pins are the lock's
    assert {p.name: p.version for p in read_lock(lock).packages}["adduser"] == "3.134"
    assert solve(spec, "--offline")["up-to-date"] is True
