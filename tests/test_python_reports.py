"""What `bundler solve` tells a person about the Python side (issue 12, points 5, 6 and 10), end to end
through the real CLI on indexes built here:

- a Python veto that bites says which veto moved which project from which version to which, and warns
  when one goes back a major version (also the indirect move of a project the veto does not name);
- sdists in the answer are listed with what building them needs and which of that is not in the
  bundle, in the summary, `--json` and the bundle's README; `[python] wheels-only = true` refuses them
  with one line and writes nothing;
- a Python target whose python-version is not the minor version of the bundle's Debian python3 is a
  warning, and with `--strict` an error that writes nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bundler.crosscheck import debian_python, warnings
from bundler.lock import Lock, LockedPackage, read_lock
from tests.support.debrepo import DebRepo
from tests.support.pyindex import Dist, make_repo
from tests.support.schemas import assert_valid

UNIVERSE = [
    Dist("App", "2.0", ["lib>=2"]),
    Dist("App", "1.0", ["lib>=1"]),
    Dist("lib", "2.1"),
    Dist("lib", "1.5"),
    Dist("PyYAML", "6.0.1", file_name="PyYAML"),
    Dist("PyYAML", "5.4.1", file_name="PyYAML"),
    # built on the target with flit_core (locked, as a root) and wheel (not in the bundle)
    Dist(
        "Builder.Pkg", "1.0", sdist=True, file_name="Builder.Pkg", build_requires=["flit_core>=3.2", "wheel"]
    ),
    Dist("flit_core", "3.9.0"),
]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> str:
    return make_repo(tmp_path_factory.mktemp("pyrepo"), UNIVERSE).simple.as_uri()


@pytest.fixture(scope="module")
def debian(tmp_path_factory: pytest.TempPathFactory) -> str:
    repo = DebRepo(tmp_path_factory.mktemp("debrepo"))
    repo.add("bookworm", "main", name="python3", version="3.11.2-1+b1", multi_arch="allowed", depends="libc6")
    repo.add("bookworm", "main", name="libc6", version="2.36-9+deb12u4", multi_arch="same")
    repo.write(compressions=(".xz",))
    return repo.root.as_uri()


def bundler(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUNDLER_")}
    return subprocess.run(
        [sys.executable, "-m", "bundler", *map(str, args)], capture_output=True, text=True, env=env
    )


def write_spec(
    tmp: Path, index: str, require: list[str], python: str = "3.11", extra: str = "", deb: str = ""
) -> Path:
    text = f"""
[bundle]
name = "reports"
epoch = 1700000000
[python]
indexes = ["{index}"]
python-version = "{python}"
require = {json.dumps(require)}
{extra}
"""
    if deb:
        text += f"""
[[debian.sources]]
uri = "{deb}"
suites = ["bookworm"]
components = ["main"]
architectures = ["amd64"]
trusted = true
[debian]
require = ["python3"]
"""
    spec = tmp / "bundle.toml"
    spec.write_text(text)
    return spec


def solve(spec: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return bundler("solve", spec, "--cache-dir", spec.parent / "cache", *args)


# ---- point 5: vetoes -----------------------------------------------------------------------


def test_a_veto_that_bites_says_what_it_moved(index: str, tmp_path: Path) -> None:
    veto = 'veto = [{ package = "lib", version = ">=2", reason = "breaks our ABI" }, ' \
           '{ package = "PyYAML", version = "==3.0", reason = "never met" }]'  # fmt: skip
    spec = write_spec(tmp_path, index, ["App", "PyYAML"], extra=veto)
    r = solve(spec)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    # the veto names lib only; App moved because its newer release needs the vetoed lib
    assert "  veto lib>=2 (breaks our ABI) removed lib 2.1; moved: app 2.0 → 1.0; lib 2.1 → 1.5" in lines
    assert "  warning: veto lib>=2 sent app back a major version: 2.0 → 1.0" in lines
    assert "  warning: veto lib>=2 sent lib back a major version: 2.1 → 1.5" in lines
    assert not any("never met" in line or "pyyaml" in line for line in lines), lines  # it moved nothing
    versions = {p.name: p.version for p in read_lock(tmp_path / "bundle.lock").packages}
    assert versions == {"app": "1.0", "lib": "1.5", "pyyaml": "6.0.1"}

    r = solve(spec, "--json", "--no-fast-path")  # the same again: a solve's report, not the lock fast path
    assert r.returncode == 0, r.stderr
    vetoes = assert_valid("solve", json.loads(r.stdout))["python"]["vetoes"]
    assert vetoes == [
        {
            "veto": "lib>=2",
            "reason": "breaks our ABI",
            "removed": ["lib 2.1"],
            "changed": [
                {"package": "app", "from": "2.0", "to": "1.0"},
                {"package": "lib", "from": "2.1", "to": "1.5"},
            ],
        }
    ]


def test_a_veto_of_a_mixed_case_name_reports_it_normalised(index: str, tmp_path: Path) -> None:
    veto = 'veto = [{ package = "PyYAML", version = ">=6", reason = "CVE" }]'
    r = solve(write_spec(tmp_path, index, ["pyyaml"], extra=veto))
    assert r.returncode == 0, r.stderr
    assert "  veto pyyaml>=6 (CVE) removed pyyaml 6.0.1; moved: pyyaml 6.0.1 → 5.4.1" in r.stdout.splitlines()
    assert "sent pyyaml back a major version: 6.0.1 → 5.4.1" in r.stdout


# ---- point 10: sdists ----------------------------------------------------------------------

SDIST_LINE = (
    "builder-pkg 1.0 is an sdist (Builder.Pkg-1.0.tar.gz), built on install: needs flit_core>=3.2, wheel; "
    "not in the bundle: wheel"
)


def test_sdists_are_reported_with_their_build_requirements(index: str, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, index, ["Builder.Pkg", "flit_core"])
    r = solve(spec, "--bundle", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    assert f"  warning: {SDIST_LINE}" in r.stdout.splitlines()
    readme = (tmp_path / "out" / "README").read_text()
    assert f"  - {SDIST_LINE}\n" in readme
    r = solve(spec, "--json", "--no-fast-path")  # the same again: a solve's report, not the lock fast path
    assert assert_valid("solve", json.loads(r.stdout))["python"]["sdists"] == [
        {
            "package": "builder-pkg",
            "version": "1.0",
            "file": "Builder.Pkg-1.0.tar.gz",
            "build-system": "pyproject",
            "build-requires": ["flit_core>=3.2", "wheel"],
            "missing": ["wheel"],
        }
    ]
    r = solve(spec)  # unchanged: the lock fast path still names the sdist, from the lock alone
    assert r.stdout.startswith("lock up to date: ")
    assert ("  warning: builder-pkg 1.0 is an sdist (Builder.Pkg-1.0.tar.gz), built on install "
            "(--no-fast-path reports what its build needs)") in r.stdout.splitlines()


def test_a_bundle_of_wheels_says_nothing_of_sdists(index: str, tmp_path: Path) -> None:
    r = solve(write_spec(tmp_path, index, ["App"]), "--bundle", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    assert "sdist" not in r.stdout
    assert "Sdists" not in (tmp_path / "out" / "README").read_text()


def test_wheels_only_refuses_an_sdist_in_one_line(index: str, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, index, ["Builder.Pkg", "flit_core"], extra="wheels-only = true")
    r = solve(spec, "--bundle", tmp_path / "out")
    assert r.returncode == 2, r.stdout + r.stderr
    error = [line for line in r.stderr.splitlines() if line.startswith("error")]
    assert len(error) == 1, r.stderr
    assert "python.wheels-only" in error[0] and str(spec) in error[0]
    assert "builder-pkg 1.0 has no wheel for the target, only Builder.Pkg-1.0.tar.gz" in error[0]
    assert not (tmp_path / "bundle.lock").exists() and not (tmp_path / "out").exists()
    # the same spec without the sdist is fine
    ok = write_spec(tmp_path, index, ["App", "flit_core"], extra="wheels-only = true")
    assert solve(ok).returncode == 0


# ---- point 6: python-version against Debian's python3 --------------------------------------

MISMATCH = (
    "python-version is 3.12, but the bundle's Debian python3 3.11.2-1+b1 is Python 3.11: "
    "its Python packages were chosen for a Python the bundle does not ship"
)


def test_python_version_other_than_debians_python3_warns(index: str, debian: str, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, index, ["lib"], python="3.12", deb=debian)
    r = solve(spec)
    assert r.returncode == 0, r.stderr
    assert f"  warning: {MISMATCH}" in r.stdout.splitlines()
    r = solve(spec, "--json")
    assert json.loads(r.stdout)["warnings"] == [MISMATCH]


def test_strict_makes_the_mismatch_an_error_and_writes_nothing(
    index: str, debian: str, tmp_path: Path
) -> None:
    spec = write_spec(tmp_path, index, ["lib"], python="3.12", deb=debian)
    r = solve(spec, "--strict", "--bundle", tmp_path / "out")
    assert r.returncode == 2, r.stdout + r.stderr
    error = [line for line in r.stderr.splitlines() if line.startswith("error")]
    assert error == [f"error: {spec}: python.python-version: {MISMATCH}"], r.stderr
    assert not (tmp_path / "bundle.lock").exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("python", ["3.11", "3.11.4"])
def test_the_same_minor_version_is_quiet_even_strict(
    index: str, debian: str, tmp_path: Path, python: str
) -> None:
    spec = write_spec(tmp_path, index, ["lib"], python=python, deb=debian)
    r = solve(spec, "--strict")
    assert r.returncode == 0, r.stderr
    assert "warning" not in r.stdout
    assert {p.name for p in read_lock(tmp_path / "bundle.lock").packages} == {"python3", "libc6", "lib"}


def _deb(name: str, version: str) -> LockedPackage:
    return LockedPackage(
        ecosystem="deb", name=name, version=version, architecture="amd64", source=name,
        source_version=version, repository="file:///r", filename=f"{name}.deb", size=1, sha256="0" * 64,
    )  # fmt: skip


def _py(name: str) -> LockedPackage:
    return LockedPackage(
        ecosystem="python", name=name, version="1.0", filename=f"{name}-1.0-py3-none-any.whl", size=1,
        sha256="0" * 64,
    )  # fmt: skip


def _lock(packages: list[LockedPackage], roots: tuple[str, ...], python: str = "3.12") -> Lock:
    return Lock(
        name="x", suite="", spec_sha256="0" * 64, epoch=0, roots=roots, indexes=(),
        packages=tuple(packages), extra={"python-version": python},
    )  # fmt: skip


def test_debian_python_reads_the_default_interpreters_version() -> None:
    assert debian_python([_deb("python3", "3.11.2-1+b1")]) == ("python3", "3.11.2-1+b1", "3.11")
    assert debian_python([_deb("python3-minimal", "1:3.13.5-1")]) == ("python3-minimal", "1:3.13.5-1", "3.13")
    assert debian_python([_deb("python3.12", "3.12.1-1"), _py("python3")]) is None
    # only with Debian roots and Python packages is there anything to compare
    both = [_deb("python3", "3.11.2-1+b1"), _py("lib")]
    assert warnings(_lock(both, ("deb:python3:amd64", "python:lib")))
    assert not warnings(_lock(both, ("python:lib",)))
    assert not warnings(_lock(both[:1], ("deb:python3:amd64",)))
    assert not warnings(_lock(both, ("deb:python3:amd64", "python:lib"), python="3.11"))
