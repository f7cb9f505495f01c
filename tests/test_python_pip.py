"""Differential: what `solve_python` locks installs with pip (offline) into a fresh venv, and `pip check`
is clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bundler.python_solve import solve_python
from bundler.spec import PythonSpec
from tests.support.pyindex import Dist, make_repo

UNIVERSE = [
    Dist("web", "2.0", ["core>=1.1,<3", "plugins[yaml]", "tzshim; python_version < '3.9'"]),
    Dist("web", "3.0", ["core>=3"]),
    Dist("core", "1.0"),
    Dist("core", "1.5", ["util"]),
    Dist("core", "3.0", requires_python=">=3.12"),
    Dist("util", "0.1"),
    Dist("plugins", "1.0", ["pyyaml-lite; extra == 'yaml'"], provides_extra=["yaml"]),
    Dist("pyyaml-lite", "6.0", tag="cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"),
    Dist("tzshim", "1.0"),
]


def _pip() -> list[str]:
    return [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]


@pytest.mark.skipif(
    sys.platform != "linux" or sys.version_info[:2] != (3, 11), reason="target is cp311 linux"
)
def test_locked_set_installs_with_pip(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", UNIVERSE)
    spec = PythonSpec(
        indexes=(repo.simple.as_uri(),),
        find_links=(),
        python_version="3.11",
        platforms=("manylinux_2_28_x86_64",),
        require=("web",),
        requirements_file=None,
        constraints=(),
        constraints_file=None,
        fix=(),
        veto=(),
        base_dir=tmp_path,
    )
    sol = solve_python(spec, cache_dir=tmp_path / "cache")
    assert {p.name: p.version for p in sol.packages} == {
        "core": "1.5",
        "plugins": "1.0",
        "pyyaml-lite": "6.0",
        "util": "0.1",
        "web": "2.0",
    }
    locked = tmp_path / "locked"
    locked.mkdir()
    for p in sol.packages:
        shutil.copy(repo.files / p.filename, locked / p.filename)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "v")], check=True)
    py = str(tmp_path / "v" / "bin" / "python")
    pins = [f"{p.name}=={p.version}" for p in sol.packages]
    env = {"PATH": "/usr/bin:/bin", "PIP_CONFIG_FILE": "/dev/null", "HOME": str(tmp_path)}
    subprocess.run(
        [*_pip(), "--python", py, "install", "-q", "--no-index", "--find-links", str(locked), *pins],
        check=True,
        env=env,
    )
    out = subprocess.run([*_pip(), "--python", py, "check"], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
